/*
 * test_handshake_limits.c - TCP_SSL_CONNECT_TIMEOUT ends a handshake the
 * peer never finishes:
 *
 *   blocking      SSL_HandshakeComplete(SSL_WAIT_FOREVER) returns -3 with
 *                 API_ETIMEDOUT after a 1 s limit, not before it
 *   non-blocking  recv and send on a non-blocking socket (or with
 *                 MSG_DONTWAIT) fail with API_ETIMEDOUT once the limit has
 *                 passed, client and accepted server sockets (regression:
 *                 the limit was checked only by blocking calls)
 *
 * test_handshake_state.c has the state a timed-out handshake reports.
 * Silent peers are plain TCP sockets of this thread.
 */
#define _POSIX_C_SOURCE 200809L

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "tcpip.h"
#include "testutil.h"
#include "tu_cmocka.h"

#define LIMIT_S 8.0 /* generous bound for "after a 1 s time limit" */

/* ======================================= the time limit of a handshake */

/* TCP_SSL_CONNECT_TIMEOUT ends a handshake the peer never answers. */
static void test_connect_timeout(void **state)
{
    struct tu_scfg c = {0};
    SslProblemS prob;
    int lsn, sd, err, sid, rc;
    double t0, dt;

    (void)state;
    sid = tu_new_session(&c);
    sd = tu_silent_server(sid, 1, &lsn, &err);
    assert_true(sd >= 0);
    t0 = tu_now();
    assert_int_equal(SSL_ClientStart(sd, "localhost", &err), 0);
    assert_int_equal(SSL_HandshakeComplete(sd, 100), 0);
    rc = SSL_HandshakeComplete(sd, SSL_WAIT_FOREVER);
    dt = tu_now() - t0;
    assert_int_equal(rc, -3);
    if (dt < 0.8 || dt > 5.0)
        fail_msg("TCP_SSL_CONNECT_TIMEOUT 1 s ended after %.3f s", dt);
    assert_int_equal(SSL_GetProblem(sd, &prob, &err), 0);
    assert_int_equal(prob.errorCode, API_ETIMEDOUT);
    closesocket(sd, &err);
    closesocket(lsn, &err);
    SSL_SessionClose(sid, &err);
}

/* ============================== the time limit on non-blocking calls */

enum { OP_RECV, OP_SEND };

struct limit_case {
    const char *desc;
    int server; /* 1: accepted socket, silent client; 0: client, silent server */
    int nonblocking;
    int op, flags;
};

/* clang-format off */
static const struct limit_case limit_cases[] = {
    { "non-blocking: non-blocking server socket, recv", 1, 1, OP_RECV, 0 },
    { "non-blocking: blocking server socket, recv MSG_DONTWAIT", 1, 0, OP_RECV, MSG_DONTWAIT },
    { "non-blocking: non-blocking server socket, send", 1, 1, OP_SEND, 0 },
    { "non-blocking: blocking server socket, send MSG_DONTWAIT", 1, 0, OP_SEND, MSG_DONTWAIT },
    { "non-blocking: non-blocking client socket, recv", 0, 1, OP_RECV, 0 },
    { "non-blocking: blocking client socket, recv MSG_DONTWAIT", 0, 0, OP_RECV, MSG_DONTWAIT },
};
/* clang-format on */

static void run_limit_case(void **state)
{
    const struct limit_case *c = *state;
    struct tu_scfg s = {.cert = "srv"}, k = {0};
    SslProblemS prob;
    unsigned short port;
    int sid, lsn, sd, other, err = 0, rc, errp;
    char buf[16];
    double t0, dt;

    sid = tu_new_session(c->server ? &s : &k);
    lsn = tu_listener(AF_INET, c->server ? sid : 0, &port, &err);
    assert_true(lsn >= 0);
    if (c->server) {
        assert_int_equal(tu_setopt(lsn, TCP_SSL_CONNECT_TIMEOUT, 1, &err), 0);
        other = tu_client(AF_INET, 0, port, &err); /* connects and stays silent */
        assert_true(other >= 0);
        sd = accept(lsn, NULL, &err);
        assert_true(sd >= 0);
        if (c->nonblocking)
            assert_int_equal(Set_Blocking_Mode(sd, 1, &err), 0);
    } else {
        sd = tu_client(AF_INET, sid, port, &err);
        assert_true(sd >= 0);
        other = accept(lsn, NULL, &err); /* accepts and stays silent */
        assert_true(other >= 0);
        assert_int_equal(tu_setopt(sd, TCP_SSL_CONNECT_TIMEOUT, 1, &err), 0);
        if (c->nonblocking)
            assert_int_equal(Set_Blocking_Mode(sd, 1, &err), 0);
        assert_int_equal(SSL_ClientStart(sd, "localhost", &err), 0);
    }
    t0 = tu_now();
    for (;;) {
        if (c->op == OP_RECV)
            rc = recv(sd, buf, sizeof buf, c->flags, 0, &err);
        else
            rc = send(sd, "x", 1, c->flags, &err);
        /* still waiting: -1 EWOULDBLOCK (a send before the handshake is
         * over may also be taken into the hold-back buffer: > 0) */
        if (!((rc == -1 && err == API_EWOULDBLOCK) || (c->op == OP_SEND && rc > 0)))
            break;
        if (tu_now() - t0 > LIMIT_S)
            break;
        tu_readable(sd, 100);
    }
    dt = tu_now() - t0;
    memset(&prob, 0, sizeof prob);
    SSL_GetProblem(sd, &prob, &errp);
    closesocket(sd, &errp);
    closesocket(other, &errp);
    closesocket(lsn, &errp);
    SSL_SessionClose(sid, &errp);
    if (rc != -1 || err != API_ETIMEDOUT)
        fail_msg("%s: TCP_SSL_CONNECT_TIMEOUT 1 s, after %.1f s the call returned %d with error "
                 "%d, want -1 with API_ETIMEDOUT (%d)",
                 c->desc, dt, rc, err, API_ETIMEDOUT);
    if (prob.errorCode != API_ETIMEDOUT)
        fail_msg("%s: SSL_GetProblem errorCode %d, want API_ETIMEDOUT", c->desc, prob.errorCode);
}

/* ================================================================= main */

int main(void)
{
    static struct CMUnitTest tests[16];
    size_t n = 0;

    tu_require_pki();
    TU_ADD_TEST(tests, n, "blocking: TCP_SSL_CONNECT_TIMEOUT ends a silent server's handshake",
                test_connect_timeout);
    TU_ADD_TABLE(tests, n, limit_cases, run_limit_case);
    return _cmocka_run_group_tests("handshake_limits", tests, n, tu_setup_srv, tu_teardown_srv);
}
