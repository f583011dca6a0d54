/*
 * test_close.c - how an SSL connection ends:
 *
 *   close_notify rule  the end of the stream is 0 with *error 0 once, then
 *                      -1 API_ENOTCONN; send after SSL_ConnClose gives
 *                      API_ESHUTDOWN, a second SSL_ConnClose API_EINVAL; the
 *                      peer may still send until it closes too
 *   FIN rule           a FIN without close_notify ends the stream the same way
 *   held data          SSL_ConnClose sends what TCP_SSL_SEND_MIN_SIZE held back
 *                      before its close_notify (an audit found it untested)
 *   shutdown           shutdown(sd, 1 or 2) on an established SSL socket: send
 *                      API_ESHUTDOWN, SSL_ConnClose API_EINVAL, the peer sees
 *                      the end of the stream; shutdown(sd, 0) leaves sending
 *
 * test_resumption.c has what a close does to resumption. Both ends of each
 * connection are owned by the main thread (tu_pair_open).
 */
#define _POSIX_C_SOURCE 200809L

#include <poll.h>
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

#define V12 SSL_VERSION_TLS12
#define V13 SSL_VERSION_TLS13
#define WAIT_MS TU_WAIT_MS
#define LIMIT_S 8.0 /* generous bound for a close that normally ends at once */

/* Both ends of an established connection of version (0: TLS 1.2 + 1.3),
 * blocking, owned by the calling thread. cli_min: TCP_SSL_SEND_MIN_SIZE set
 * on the client before its handshake (0: none). */
static void pair_open(int version, int cli_min, struct tu_pair *p)
{
    struct tu_opt min[] = {{IP_PROTOTCP_LEVEL, TCP_SSL_SEND_MIN_SIZE, cli_min}, {0, 0, 0}};

    tu_want_pair(tu_pair_open(p, AF_INET, version, "localhost", NULL, cli_min ? min : NULL), p);
}

static void expect_recv(int sd, const char *want, int len)
{
    unsigned char buf[256];
    int err, got = tu_recv_all(sd, buf, len, WAIT_MS, &err);

    if (got != len)
        fail_msg("recv: %d of %d bytes (error %d)", got, len, err);
    assert_memory_equal(buf, want, (size_t)len);
}

/* ============================================ close_notify and FIN rules */

/* End of stream: 0 with error 0 once, then -1 ENOTCONN; send after
 * SSL_ConnClose: ESHUTDOWN; SSL_ConnClose twice: EINVAL. */
static void test_close_notify_rule(void **state)
{
    struct tu_pair p;
    char buf[16];
    void *vp;
    SSL_CONN_STATE *st;
    int err, rc;

    (void)state;
    pair_open(0, 0, &p);
    assert_int_equal(send(p.srv, "bye", 3, 0, &err), 3);
    assert_int_equal(SSL_ConnClose(p.srv, &err), 0);
    assert_int_equal(err, 0);
    assert_int_equal(send(p.srv, "more", 4, 0, &err), -1);
    assert_int_equal(err, API_ESHUTDOWN);
    assert_int_equal(SSL_ConnClose(p.srv, &err), -1);
    assert_int_equal(err, API_EINVAL);

    expect_recv(p.cli, "bye", 3);
    /* the close_notify alone (no FIN follows): a bounded wait */
    err = 0x7A7A;
    rc = recv(p.cli, buf, sizeof buf, MSG_TIMEOUT, WAIT_MS, &err);
    if (rc != 0 || err != 0)
        fail_msg("no end of stream within %d ms of the server's SSL_ConnClose (recv %d/%d): its "
                 "close_notify did not arrive",
                 WAIT_MS, rc, err);
    assert_int_equal(recv(p.cli, buf, sizeof buf, MSG_TIMEOUT, WAIT_MS, &err), -1);
    assert_int_equal(err, API_ENOTCONN);
    assert_int_equal(recv(p.cli, buf, sizeof buf, MSG_DONTWAIT, 0, &err), -1);
    assert_int_equal(err, API_ENOTCONN);
    assert_int_equal(SSL_GetConnState(p.cli, &vp, &err), 0);
    st = vp;
    assert_int_equal(st->closeNotify, 1);
    assert_int_equal(SSL_Get_ConnState(p.cli, &vp, &err), 0);
    assert_ptr_equal(vp, st); /* one record per socket, valid until closesocket */
    assert_int_equal(st->bytesIn, 3);

    /* the client may still send until it closes too (then its FIN, so that
     * the server's wait ends at once even without the close_notify) */
    assert_int_equal(send(p.cli, "late", 4, 0, &err), 4);
    assert_int_equal(SSL_ConnClose(p.cli, &err), 0);
    assert_int_equal(shutdown(p.cli, 1, &err), 0);
    expect_recv(p.srv, "late", 4);
    assert_int_equal(recv(p.srv, buf, sizeof buf, MSG_TIMEOUT, WAIT_MS, &err), 0);
    assert_int_equal(err, 0);
    assert_int_equal(SSL_GetConnState(p.srv, &vp, &err), 0);
    if (!((SSL_CONN_STATE *)vp)->closeNotify)
        fail_msg("the client's close_notify never reached the server (its FIN did)");
    assert_int_equal(recv(p.srv, buf, sizeof buf, MSG_TIMEOUT, WAIT_MS, &err), -1);
    assert_int_equal(err, API_ENOTCONN);
    tu_pair_close(&p);
}

/* The peer's FIN without close_notify ends the stream the same way. */
static void test_fin_rule(void **state)
{
    struct tu_pair p;
    char buf[16];
    int err;

    (void)state;
    pair_open(V12, 0, &p);
    assert_int_equal(send(p.srv, "abc", 3, 0, &err), 3);
    assert_int_equal(closesocket(p.srv, &err), 0);
    p.srv = -1;
    expect_recv(p.cli, "abc", 3);
    err = 0x7A7A;
    assert_int_equal(recv(p.cli, buf, sizeof buf, MSG_TIMEOUT, WAIT_MS, &err), 0);
    assert_int_equal(err, 0);
    assert_int_equal(recv(p.cli, buf, sizeof buf, MSG_TIMEOUT, WAIT_MS, &err), -1);
    assert_int_equal(err, API_ENOTCONN);
    tu_pair_close(&p);
}

/* ================================ SSL_ConnClose sends held-back data first */

struct hold_case {
    const char *desc;
    int version;
    int nonblocking; /* client socket non-blocking for the sends and the close */
    int pieces;      /* sends of 10 bytes, all below TCP_SSL_SEND_MIN_SIZE */
};

/* clang-format off */
static const struct hold_case hold_cases[] = {
    { "held data: TLS1.2 SSL_ConnClose flushes held data", V12, 0, 1 },
    { "held data: TLS1.3 SSL_ConnClose flushes held data", V13, 0, 1 },
    { "held data: TLS1.3 non-blocking SSL_ConnClose flushes three pieces", V13, 1, 3 },
    { "held data: TLS1.2 non-blocking SSL_ConnClose flushes three pieces", V12, 1, 3 },
};
/* clang-format on */

static void run_hold_case(void **state)
{
    const struct hold_case *c = *state;
    static const char text[] = "held-back-0held-back-1held-back-2";
    struct tu_pair p;
    unsigned char buf[64];
    int err, i, rc, total = c->pieces * 11;
    double t0;
    void *vp;

    pair_open(c->version, 1000, &p);
    if (c->nonblocking)
        assert_int_equal(Set_Blocking_Mode(p.cli, 1, &err), 0);
    for (i = 0; i < c->pieces; i++)
        assert_int_equal(send(p.cli, text + i * 11, 11, 0, &err), 11);
    /* held back: nothing reaches the server (a generous wait for nothing) */
    assert_int_equal(recv(p.srv, buf, sizeof buf, MSG_TIMEOUT, 300, &err), -1);
    assert_int_equal(err, API_EWOULDBLOCK);

    t0 = tu_now();
    while ((rc = SSL_ConnClose(p.cli, &err)) != 0 && err == API_EWOULDBLOCK &&
           tu_now() - t0 < LIMIT_S) {
        struct pollfd pf = {.fd = p.cli, .events = (short)SSL_GetWaitEvents(p.cli, &err)};

        poll(&pf, 1, 100);
    }
    if (rc != 0)
        fail_msg("%s: SSL_ConnClose %d, error %d", c->desc, rc, err);
    /* the FIN behind the close_notify: the server's wait for the end of the
     * stream ends at once; closeNotify below tells whether it came */
    assert_int_equal(shutdown(p.cli, 1, &err), 0);

    /* the held bytes first, then the end of the stream by close_notify */
    assert_int_equal(tu_recv_all(p.srv, buf, total, WAIT_MS, &err), total);
    assert_memory_equal(buf, text, (size_t)total);
    err = 4242;
    assert_int_equal(recv(p.srv, buf, sizeof buf, MSG_TIMEOUT, WAIT_MS, &err), 0);
    assert_int_equal(err, 0);
    assert_int_equal(SSL_GetConnState(p.srv, &vp, &err), 0);
    assert_int_equal(((SSL_CONN_STATE *)vp)->closeNotify, 1);
    assert_int_equal(((SSL_CONN_STATE *)vp)->bytesIn, (unsigned long long)total);
    assert_int_equal(SSL_GetConnState(p.cli, &vp, &err), 0);
    assert_int_equal(((SSL_CONN_STATE *)vp)->bytesOut, (unsigned long long)total);

    tu_pair_close(&p);
}

/* ========================================= shutdown() on an SSL socket */

struct shut_case {
    const char *desc;
    int version, how;
};

/* clang-format off */
static const struct shut_case shut_cases[] = {
    { "shutdown: TLS1.2 shutdown(1)", V12, 1 },
    { "shutdown: TLS1.3 shutdown(1)", V13, 1 },
    { "shutdown: TLS1.3 shutdown(2)", V13, 2 },
    { "shutdown: TLS1.3 shutdown(0): sending still works", V13, 0 },
};
/* clang-format on */

static void run_shut_case(void **state)
{
    const struct shut_case *c = *state;
    struct tu_pair p;
    unsigned char buf[16];
    int err;

    pair_open(c->version, 0, &p);
    assert_int_equal(send(p.cli, "before", 6, 0, &err), 6);
    assert_int_equal(shutdown(p.cli, c->how, &err), 0);
    assert_int_equal(err, 0);

    if (c->how == 0) {
        assert_int_equal(send(p.cli, "after", 5, 0, &err), 5);
        assert_int_equal(tu_recv_all(p.srv, buf, 11, WAIT_MS, &err), 11);
        assert_memory_equal(buf, "beforeafter", 11);
    } else {
        err = 0;
        assert_int_equal(send(p.cli, "after", 5, 0, &err), -1);
        assert_int_equal(err, API_ESHUTDOWN);
        err = 0;
        assert_int_equal(SSL_ConnClose(p.cli, &err), -1);
        assert_int_equal(err, API_EINVAL);
        /* the peer reads what came before, then the end of the stream (FIN) */
        assert_int_equal(tu_recv_all(p.srv, buf, 6, WAIT_MS, &err), 6);
        assert_memory_equal(buf, "before", 6);
        err = 4242;
        assert_int_equal(recv(p.srv, buf, sizeof buf, MSG_TIMEOUT, WAIT_MS, &err), 0);
        assert_int_equal(err, 0);
    }
    if (c->how == 1) {
        /* half-closed: the client still reads */
        assert_int_equal(send(p.srv, "reply", 5, 0, &err), 5);
        assert_int_equal(tu_recv_all(p.cli, buf, 5, WAIT_MS, &err), 5);
        assert_memory_equal(buf, "reply", 5);
    }
    tu_pair_close(&p);
}

/* ================================================================= main */

int main(void)
{
    static const struct CMUnitTest rules[] = {
        cmocka_unit_test(test_close_notify_rule),
        cmocka_unit_test(test_fin_rule),
    };
    static struct CMUnitTest tests[32];
    size_t n = 0;

    tu_require_pki();
    TU_ADD_TESTS(tests, n, rules);
    TU_ADD_TABLE(tests, n, hold_cases, run_hold_case);
    TU_ADD_TABLE(tests, n, shut_cases, run_shut_case);
    return _cmocka_run_group_tests("close", tests, n, tu_setup_srv, tu_teardown_srv);
}
