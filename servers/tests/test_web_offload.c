/*
 * test_web_offload - the handler seam: a hook handler that blocks runs on
 * the handler threads, so that with a single worker another connection's
 * static file is still served meanwhile; once it returns its connection
 * gets the answer. A declined request falls through to the static files,
 * and the server stops cleanly with an offloaded call in progress.
 */
#include "free_port.h"
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

#include "web_handler.h"

#include <chipd.h>
#include <tcpip.h>

#include <arpa/inet.h>
#include <pthread.h>
#include <time.h>
#include <unistd.h>

static char dir[64], ini[128];
static unsigned port;

static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t cv = PTHREAD_COND_INITIALIZER;
static int entered, released, timed_out;

/* "/block" waits until the test releases it (30 s at most); the rest is
 * declined (static files). */
static int blocking(void *ctx, const struct web_request *req, struct web_response *resp)
{
    (void)ctx;
    if (strcmp(req->path, "/block") != 0)
        return WEB_DECLINED;
    struct timespec until;
    clock_gettime(CLOCK_REALTIME, &until);
    until.tv_sec += 30;
    pthread_mutex_lock(&mu);
    entered = 1;
    pthread_cond_broadcast(&cv);
    while (!released && !timed_out)
        timed_out = pthread_cond_timedwait(&cv, &mu, &until) != 0;
    pthread_mutex_unlock(&mu);
    static const char text[] = "released";
    resp->status = 200;
    resp->content_type = "text/plain";
    resp->body = text;
    resp->body_len = sizeof text - 1;
    return WEB_HANDLED;
}

static int is_block(void *ctx, const struct web_request *req)
{
    (void)ctx;
    return strncmp(req->path, "/block", 6) == 0;
}

static const struct web_handler blocker = {"blocker", blocking, NULL, 1, is_block};

static int setup(void **state)
{
    (void)state;
    snprintf(dir, sizeof dir, "/tmp/chipd-offload-XXXXXX");
    if (!mkdtemp(dir))
        return -1;
    char page[128];
    snprintf(page, sizeof page, "%s/main.htm", dir);
    FILE *f = fopen(page, "w");
    if (!f)
        return -1;
    fputs("static", f);
    fclose(f);
    snprintf(ini, sizeof ini, "%s/chip.ini", dir);
    port = free_port();
    f = fopen(ini, "w");
    if (!f)
        return -1;
    /* One worker: a handler blocking on it would stall every connection. */
    fprintf(f,
            "[WEB]\nBIND = 127.0.0.1\nHTTP_PORT = %u\nSSL_ENABLE = 0\nROOTDIR = %s\nWORKERS = 1\n"
            "[FTP]\nENABLE = 0\n",
            port, dir);
    fclose(f);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    return system(cmd) == 0 ? 0 : -1;
}

static int request(const char *path)
{
    int err = 0, sd = opensocket(SOCK_STREAM, &err);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((unsigned short)port)};
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    assert_int_equal(connect(sd, &a, &err), 0);
    char req[256];
    int n =
        snprintf(req, sizeof req, "GET %s HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n", path);
    assert_int_equal(send(sd, req, n, 0, &err), n);
    return sd;
}

/* The whole answer (30 s at most). */
static void answer(int sd, char *buf, size_t len)
{
    int err = 0, n, got = 0;
    while ((n = recv(sd, buf + got, (int)(len - 1 - (size_t)got), MSG_TIMEOUT, 30000, &err)) > 0)
        got += n;
    buf[got] = '\0';
    closesocket(sd, &err);
}

static void test_blocking_handler_stalls_nothing(void **state)
{
    (void)state;
    int err = 0;
    char buf[1024];
    web_handler_hook_set(&blocker);
    assert_int_equal(chipd_start(ini, &err), 0);
    int slow = request("/block");
    pthread_mutex_lock(&mu);
    while (!entered)
        pthread_cond_wait(&cv, &mu); /* the handler runs now */
    pthread_mutex_unlock(&mu);
    answer(request("/"), buf, sizeof buf); /* served while /block is held */
    assert_non_null(strstr(buf, "HTTP/1.1 200 OK\r\n"));
    assert_non_null(strstr(buf, "\r\n\r\nstatic"));
    pthread_mutex_lock(&mu);
    released = 1;
    pthread_cond_broadcast(&cv);
    pthread_mutex_unlock(&mu);
    answer(slow, buf, sizeof buf);
    assert_non_null(strstr(buf, "HTTP/1.1 200 OK\r\n"));
    assert_non_null(strstr(buf, "\r\n\r\nreleased"));

    /* Matched, offloaded, declined: the static files answer (404 here). */
    answer(request("/blockless"), buf, sizeof buf);
    assert_non_null(strstr(buf, "HTTP/1.1 404 Not Found\r\n"));

    /* A stop while a call is held: it waits for the answer, then ends. */
    entered = released = 0;
    slow = request("/block");
    pthread_mutex_lock(&mu);
    while (!entered)
        pthread_cond_wait(&cv, &mu);
    released = 1; /* let go right away; chipd_stop then finds a finished call or waits for it */
    pthread_cond_broadcast(&cv);
    pthread_mutex_unlock(&mu);
    assert_int_equal(chipd_stop(&err), 0);
    answer(slow, buf, sizeof buf);
    assert_non_null(strstr(buf, "\r\n\r\nreleased"));
    assert_non_null(strstr(buf, "Connection: close\r\n"));
    web_handler_hook_set(NULL);
    assert_int_equal(timed_out,
                     0); /* the handler was released by the test, never by its time limit */
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_blocking_handler_stalls_nothing),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
