/*
 * test_alert_on_close.c - closesocket() of an SSL socket that failed with a
 * fatal alert of ours lets the alert reach a peer that has pipelined data.
 *
 * A TLS 1.3 client without a certificate meets an option-1 server: its own
 * handshake ends before the server's verdict, so it sends at once (and goes
 * on sending, as a client that has not read yet does); the server refuses
 * with certificate_required (116) and closes. The client must be able to
 * finish its writes and then read the alert (recv fails with
 * API_ECONNABORTED, SSL_GetProblem says alert 116, received), never a reset.
 *
 * Blocking server socket: closesocket() shuts the sending side and drains
 * the peer's data (bounded). Non-blocking server socket: closesocket()
 * returns at once, the descriptor stays open in the library, and a later
 * opensocket/accept/closesocket closes it once the peer has closed.
 * Repeated ROUNDS times each: the loss it guards against was intermittent.
 */
#define _POSIX_C_SOURCE 200809L

#include <fcntl.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include "tcpip.h"
#include "testutil.h"
#include "tu_cmocka.h"

#define ROUNDS 10
#define CHUNK 4096
#define CHUNKS 8

struct client {
    pthread_t tid;
    int sid;
    unsigned short port;
    int sd;
    /* results */
    int hs;         /* SSL_HandshakeComplete */
    int send_error; /* first failed send's error, 0 none */
    int recv_rc, recv_error;
    SslProblemS problem;
};

static void sleep_ms(int ms)
{
    struct timespec ts = {.tv_sec = 0, .tv_nsec = (long)ms * 1000000L};
    while (nanosleep(&ts, &ts) != 0)
        ;
}

static void *client_main(void *arg)
{
    struct client *c = arg;
    int err;
    char buf[CHUNK];
    char one;

    memset(buf, 'p', sizeof buf);
    c->sd = tu_client(AF_INET, c->sid, c->port, &err);
    if (c->sd < 0 || SSL_ClientStart(c->sd, "localhost", &err) != 0) {
        c->hs = -90;
        return NULL;
    }
    c->hs = SSL_HandshakeComplete(c->sd, TU_WAIT_MS);
    if (c->hs != 1)
        return NULL;
    for (int i = 0; i < CHUNKS && !c->send_error; i++) {
        if (send(c->sd, buf, sizeof buf, 0, &err) != (int)sizeof buf)
            c->send_error = err;
        sleep_ms(5);
    }
    c->recv_rc = recv(c->sd, &one, 1, MSG_TIMEOUT, TU_WAIT_MS, &c->recv_error);
    SSL_GetProblem(c->sd, &c->problem, &err);
    return NULL;
}

static int fd_open(int fd)
{
    return fcntl(fd, F_GETFD) != -1;
}

static void run(int nonblocking)
{
    int err, srv_sid, cli_sid, lsn;
    unsigned short port;
    struct tu_scfg ss = {.version = SSL_VERSION_TLS13, .cert = "srv", .opt1 = 1};
    struct tu_scfg cs = {.version = SSL_VERSION_TLS13};

    srv_sid = tu_new_session(&ss);
    cli_sid = tu_new_session(&cs);
    lsn = tu_listener(AF_INET, srv_sid, &port, &err);
    assert_true(lsn >= 0);

    for (int round = 0; round < ROUNDS; round++) {
        struct client c = {.sid = cli_sid, .port = port, .sd = -1};
        assert_int_equal(pthread_create(&c.tid, NULL, client_main, &c), 0);
        int srv = accept(lsn, NULL, &err);
        assert_true(srv >= 0);
        if (nonblocking)
            assert_int_equal(Set_Blocking_Mode(srv, 1, &err), 0);
        int hs, steps = 0;
        while ((hs = SSL_HandshakeComplete(srv, nonblocking ? 0 : TU_WAIT_MS)) == 0 &&
               steps++ < TU_WAIT_MS / 10)
            tu_readable(srv, 10);
        assert_int_equal(hs, -3);
        SslProblemS sp;
        assert_int_equal(SSL_GetProblem(srv, &sp, &err), 0);
        assert_int_equal(sp.alert, 116);
        assert_int_equal(sp.alertSent, 1);

        assert_int_equal(closesocket(srv, &err), 0);
        assert_int_equal(err, 0);
        /* non-blocking: returned at once, the descriptor lingers (the
         * client is still sending, and has not closed) */
        if (nonblocking)
            assert_true(fd_open(srv));

        pthread_join(c.tid, NULL);
        assert_int_equal(c.hs, 1);
        if (c.send_error)
            fail_msg("round %d: the client's send failed with %d", round, c.send_error);
        if (c.recv_rc != -1 || c.recv_error != API_ECONNABORTED || c.problem.alert != 116 ||
            c.problem.alertSent != 0)
            fail_msg("round %d: client recv %d error %d, alert %d (sent %d): not the "
                     "server's certificate_required",
                     round, c.recv_rc, c.recv_error, c.problem.alert, c.problem.alertSent);
        closesocket(c.sd, &err);

        if (nonblocking) {
            /* the peer closed: the next call of the library closes it */
            double t0 = tu_now();
            while (fd_open(srv) && tu_now() - t0 < TU_WAIT_MS / 1000.0) {
                closesocket(-1, &err); /* any such call drains the list */
                sleep_ms(10);
            }
            assert_false(fd_open(srv));
        }
    }
    closesocket(lsn, &err);
    tu_session_close(srv_sid);
    tu_session_close(cli_sid);
}

TU_TEST_CALL(test_blocking_close_delivers_alert, run, 0)
TU_TEST_CALL(test_nonblocking_close_delivers_alert, run, 1)

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_blocking_close_delivers_alert),
        cmocka_unit_test(test_nonblocking_close_delivers_alert),
    };

    tu_require_pki();
    return cmocka_run_group_tests_name("alert_on_close", tests, tu_setup_srv, tu_teardown_srv);
}
