/*
 * test_loop - the event loop alone, on plain chipssl sockets: accepted
 * connections reach on_accept on a worker, readiness reaches on_event,
 * deadlines fire in deadline order (one worker's heap), loop_stop asks
 * every connection to finish and then forces the stragglers, and the
 * workers block the asynchronous signals.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
/* cmocka.h needs the headers above first. */
// clang-format off
#include <cmocka.h>
// clang-format on

#include "loop.h"

#include <tcpip.h>

#include <arpa/inet.h>
#include <pthread.h>
#include <signal.h>
#include <sys/epoll.h>
#include <unistd.h>

struct tconn {
    struct loop_conn lc;
    int id;
    int ignore_soft_stop;
};

static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static int order[16], norder, accepted, events, soft_stops, hard_stops, signals_blocked;
static unsigned timer_ms[16]; /* deadline per accept index; 0: none */
static int ignore_soft;
static struct loop_worker *last_worker;
static pthread_t accept_thread, posted_thread;
static int posted_runs;

static void tclose(struct tconn *c)
{
    int err = 0;
    loop_conn_close(&c->lc);
    closesocket(c->lc.fd, &err);
    free(c);
}

static void on_event(struct loop_conn *lc, unsigned ev)
{
    struct tconn *c = (struct tconn *)lc;
    char buf[64];
    int err = 0, n;
    pthread_mutex_lock(&mu);
    events++;
    pthread_mutex_unlock(&mu);
    if (!(ev & EPOLLIN))
        return;
    while ((n = recv(c->lc.fd, buf, sizeof buf, MSG_DONTWAIT, 0, &err)) > 0)
        send(c->lc.fd, buf, n, 0, &err); /* echo */
    if (n == 0)
        tclose(c);
}

static void on_timer(struct loop_conn *lc)
{
    struct tconn *c = (struct tconn *)lc;
    pthread_mutex_lock(&mu);
    order[norder++] = c->id;
    pthread_mutex_unlock(&mu);
    tclose(c);
}

static void on_stop(struct loop_conn *lc, int force)
{
    struct tconn *c = (struct tconn *)lc;
    pthread_mutex_lock(&mu);
    if (force)
        hard_stops++;
    else
        soft_stops++;
    pthread_mutex_unlock(&mu);
    if (force || !c->ignore_soft_stop)
        tclose(c);
}

static const struct loop_conn_ops ops = {on_event, on_timer, on_stop};

static void on_accept(void *arg, struct loop_worker *w, int sd, const struct sockaddr_storage *peer)
{
    (void)arg;
    (void)peer;
    sigset_t cur;
    pthread_sigmask(SIG_BLOCK, NULL, &cur);
    struct tconn *c = calloc(1, sizeof *c);
    assert_non_null(c);
    pthread_mutex_lock(&mu);
    c->id = accepted++;
    if (sigismember(&cur, SIGINT) && sigismember(&cur, SIGTERM) && sigismember(&cur, SIGHUP) &&
        sigismember(&cur, SIGPIPE))
        signals_blocked++;
    unsigned ms = c->id < 16 ? timer_ms[c->id] : 0;
    c->ignore_soft_stop = ignore_soft;
    last_worker = w;
    accept_thread = pthread_self();
    pthread_mutex_unlock(&mu);
    c->lc.fd = sd;
    c->lc.ops = &ops;
    assert_int_equal(loop_conn_add(w, &c->lc, EPOLLIN | EPOLLOUT), 0);
    loop_conn_timer(&c->lc, ms);
}

static void reset(void)
{
    norder = accepted = events = soft_stops = hard_stops = signals_blocked = 0;
    ignore_soft = 0;
    memset(timer_ms, 0, sizeof timer_ms);
}

static int listener(unsigned short *port)
{
    int err = 0;
    int sd = opensocket(SOCK_STREAM, &err);
    struct sockaddr_in a = {.sin_family = AF_INET};
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    assert_true(sd >= 0);
    assert_int_equal(bind(sd, &a, &err), 0);
    assert_int_equal(listen(sd, 64, &err), 0);
    socklen_t l = sizeof a;
    getsockname(sd, (struct sockaddr *)&a, &l);
    *port = ntohs(a.sin_port);
    return sd;
}

static int client(unsigned short port)
{
    int err = 0;
    int sd = opensocket(SOCK_STREAM, &err);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(port)};
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    assert_true(sd >= 0);
    assert_int_equal(connect(sd, &a, &err), 0);
    return sd;
}

/* Five connections waiting before the loop starts are accepted in one burst
 * with deadlines 500, 400, ... 100 ms: they end in the reverse order. */
static void test_timer_order(void **state)
{
    (void)state;
    reset();
    unsigned short port;
    int err = 0, ls = listener(&port), cl[5];
    for (int i = 0; i < 5; i++) {
        timer_ms[i] = 500u - 100u * (unsigned)i;
        cl[i] = client(port);
    }
    struct loop *l = loop_new(1, 1000);
    assert_non_null(l);
    assert_int_equal(loop_add_listener(l, ls, on_accept, NULL), 0);
    assert_int_equal(loop_start(l), 0);
    for (int i = 0; i < 5; i++) {
        char b;
        assert_int_equal(recv(cl[i], &b, 1, MSG_BLOCKING, 0, &err), 0); /* closed by its timer */
        closesocket(cl[i], &err);
    }
    loop_stop(l);
    loop_free(l);
    closesocket(ls, &err);
    assert_int_equal(norder, 5);
    for (int i = 0; i < 5; i++)
        assert_int_equal(order[i], 4 - i);
    assert_int_equal(signals_blocked, 5);
}

/* Readiness reaches on_event (an echo), on several workers. */
static void test_events_and_stop(void **state)
{
    (void)state;
    reset();
    ignore_soft = 1; /* connections ignore the first request to stop */
    unsigned short port;
    int err = 0, ls = listener(&port), cl[8];
    struct loop *l = loop_new(2, 200);
    assert_non_null(l);
    assert_int_equal(loop_workers(l), 2);
    assert_int_equal(loop_add_listener(l, ls, on_accept, NULL), 0);
    assert_int_equal(loop_start(l), 0);
    for (int i = 0; i < 8; i++) {
        char b = 0;
        cl[i] = client(port);
        assert_int_equal(send(cl[i], "x", 1, 0, &err), 1);
        assert_int_equal(recv(cl[i], &b, 1, MSG_BLOCKING, 0, &err), 1);
        assert_int_equal(b, 'x');
    }
    loop_stop(l); /* soft stop ignored, forced after 200 ms */
    loop_free(l);
    for (int i = 0; i < 8; i++) {
        char b;
        assert_int_equal(recv(cl[i], &b, 1, MSG_BLOCKING, 0, &err), 0);
        closesocket(cl[i], &err);
    }
    closesocket(ls, &err);
    assert_int_equal(accepted, 8);
    assert_true(events >= 8);
    assert_int_equal(soft_stops, 8);
    assert_int_equal(hard_stops, 8);
}

static void posted(void *arg)
{
    pthread_mutex_lock(&mu);
    posted_runs += *(int *)arg;
    posted_thread = pthread_self();
    pthread_mutex_unlock(&mu);
}

/* loop_post runs a call on the worker's own thread; after the stop it is
 * refused. */
static void test_post(void **state)
{
    (void)state;
    reset();
    posted_runs = 0;
    timer_ms[0] = 60000;
    unsigned short port;
    int err = 0, ls = listener(&port), one = 1;
    struct loop *l = loop_new(1, 100);
    assert_non_null(l);
    assert_int_equal(loop_add_listener(l, ls, on_accept, NULL), 0);
    assert_int_equal(loop_start(l), 0);
    int cl = client(port);
    assert_int_equal(send(cl, "y", 1, 0, &err), 1);
    char b;
    assert_int_equal(recv(cl, &b, 1, MSG_BLOCKING, 0, &err), 1); /* accepted and echoing */
    pthread_mutex_lock(&mu);
    struct loop_worker *w = last_worker;
    pthread_mutex_unlock(&mu);
    for (int i = 0; i < 3; i++)
        assert_int_equal(loop_post(w, posted, &one), 0);
    loop_stop(l); /* runs what is posted before the thread ends */
    assert_int_equal(posted_runs, 3);
    assert_true(pthread_equal(posted_thread, accept_thread));
    assert_int_equal(loop_post(w, posted, &one), -1);
    assert_int_equal(posted_runs, 3);
    loop_free(l);
    closesocket(cl, &err);
    closesocket(ls, &err);
}

/* loop_listener_set while running: a reserved listener gets a socket, a
 * socket is taken away (the connection accepted before goes on), another
 * one is given; after loop_stop it is refused. */
static void test_listener_set(void **state)
{
    (void)state;
    reset();
    unsigned short port, port2;
    int err = 0, ls = listener(&port), ls2 = listener(&port2);
    char b = 0;
    struct loop *l = loop_new(2, 100);
    assert_non_null(l);
    assert_int_equal(loop_add_listener(l, -1, on_accept, NULL), 0); /* reserved: listener 0 */
    assert_int_equal(loop_start(l), 0);
    assert_int_equal(loop_listener_set(l, 1, ls), -1); /* no listener 1 */
    assert_int_equal(loop_listener_set(l, 0, ls), 0);
    int c1 = client(port);
    assert_int_equal(send(c1, "a", 1, 0, &err), 1);
    assert_int_equal(recv(c1, &b, 1, MSG_BLOCKING, 0, &err), 1);
    assert_int_equal(loop_listener_set(l, 0, -1), 0);
    closesocket(ls, &err);
    int refused = opensocket(SOCK_STREAM, &err);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(port)};
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    assert_int_equal(connect(refused, &a, &err), -1); /* nothing listens there any more */
    closesocket(refused, &err);
    assert_int_equal(send(c1, "b", 1, 0, &err), 1); /* the accepted one goes on */
    assert_int_equal(recv(c1, &b, 1, MSG_BLOCKING, 0, &err), 1);
    assert_int_equal(b, 'b');
    assert_int_equal(loop_listener_set(l, 0, ls2), 0);
    int c2 = client(port2);
    assert_int_equal(send(c2, "c", 1, 0, &err), 1);
    assert_int_equal(recv(c2, &b, 1, MSG_BLOCKING, 0, &err), 1);
    assert_int_equal(b, 'c');
    loop_stop(l);
    assert_int_equal(loop_listener_set(l, 0, -1), -1);
    loop_free(l);
    closesocket(c1, &err);
    closesocket(c2, &err);
    closesocket(ls2, &err);
    assert_int_equal(accepted, 2);
}

int main(void)
{
    signal(SIGPIPE, SIG_IGN);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_timer_order),
        cmocka_unit_test(test_events_and_stop),
        cmocka_unit_test(test_post),
        cmocka_unit_test(test_listener_set),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
