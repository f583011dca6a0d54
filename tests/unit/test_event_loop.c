/*
 * test_event_loop.c - what an event-driven server needs from the socket
 * layer, and the socket-layer behaviours no other test guarded:
 *   - accept() keeps the listener's blocking mode;
 *   - SSL_GetTimeout tells when the handshake time limit passes, and that
 *     limit runs from accept() (a silent client is dropped at the first call
 *     after it, not one limit later);
 *   - SSL_HandshakeComplete's 0 tells "in progress" from "not an SSL socket"
 *     through get_socketerror();
 *   - SSL_ConnClose on a non-blocking socket never waits and finishes over
 *     repeated calls, with SSL_GetWaitEvents saying what to wait for;
 *   - SSL_SendFlush after TCP_SSL_SEND_MAX_SIZE was lowered while a record
 *     is in flight (the retry must offer the record's bytes, not the new
 *     maximum);
 *   - send/recv on a client SSL socket before SSL_ClientStart fail with
 *     API_EPERM and put nothing on the wire.
 */
#define _POSIX_C_SOURCE 200809L

#include <fcntl.h>
#include <poll.h>
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

#define V12 SSL_VERSION_TLS12
#define V13 SSL_VERSION_TLS13
#define WAIT_MS 10000 /* generous: a wait that normally ends at once */

static int is_nonblocking(int fd)
{
    int fl = fcntl(fd, F_GETFL);
    return fl >= 0 && (fl & O_NONBLOCK) != 0;
}

static void sleep_ms(int ms)
{
    struct timespec ts = {.tv_sec = ms / 1000, .tv_nsec = (long)(ms % 1000) * 1000000L};
    while (nanosleep(&ts, &ts) != 0)
        ;
}

/* accept() on the listener lsn after a plain client connected to port;
 * returns the accepted sd (the client in *cli). */
static int accept_plain_client(int lsn, unsigned short port, int *cli)
{
    int err, sd = -1;
    double t0 = tu_now();

    *cli = tu_client(AF_INET, 0, port, &err);
    assert_true(*cli >= 0);
    /* a non-blocking listener may not have the connection queued yet */
    while ((sd = accept(lsn, NULL, &err)) < 0 && err == API_EWOULDBLOCK &&
           tu_now() - t0 < WAIT_MS / 1000.0)
        tu_readable(lsn, 100);
    if (sd < 0)
        fail_msg("accept: error %d", err);
    return sd;
}

/* The server end of a connection from a plain client that stays silent,
 * accepted on a listener of a "srv" session with a 1 s handshake limit. */
struct silent_peer {
    int sid, lsn, cli, sd;
};

static void silent_peer_open(struct silent_peer *s)
{
    struct tu_scfg ss = {.cert = "srv"};
    unsigned short port;
    int err;

    s->sid = tu_new_session(&ss);
    s->lsn = tu_listener(AF_INET, s->sid, &port, &err);
    assert_true(s->lsn >= 0);
    assert_int_equal(tu_setopt(s->lsn, TCP_SSL_CONNECT_TIMEOUT, 1, &err), 0);
    s->sd = accept_plain_client(s->lsn, port, &s->cli);
}

static void silent_peer_close(struct silent_peer *s)
{
    int err;

    closesocket(s->sd, &err);
    closesocket(s->cli, &err);
    closesocket(s->lsn, &err);
    tu_session_close(s->sid);
}

/* ================================================ accept's blocking mode */

static void test_accept_keeps_listener_mode(void **state)
{
    int err, sid, lsn, cli, sd, nb;
    unsigned short port;
    struct tu_scfg ss = {.cert = "srv"};

    (void)state;
    sid = tu_new_session(&ss);
    lsn = tu_listener(AF_INET, sid, &port, &err);
    assert_true(lsn >= 0);
    for (nb = 0; nb <= 1; nb++) {
        assert_int_equal(Set_Blocking_Mode(lsn, (unsigned)nb, &err), 0);
        sd = accept_plain_client(lsn, port, &cli);
        if (is_nonblocking(sd) != nb)
            fail_msg("listener %s: accepted socket is %s", nb ? "non-blocking" : "blocking",
                     is_nonblocking(sd) ? "non-blocking" : "blocking");
        if (nb) {
            /* and the library treats it so: nothing to read yet */
            unsigned char b;
            assert_int_equal(recv(sd, &b, 1, 0, 0, &err), -1);
            assert_int_equal(err, API_EWOULDBLOCK);
        }
        closesocket(sd, &err);
        closesocket(cli, &err);
    }
    closesocket(lsn, &err);
    tu_session_close(sid);
}

/* ============================================ SSL_GetTimeout, from accept */

static void test_timeout_runs_from_accept(void **state)
{
    struct silent_peer sp;
    int err, sd, ms;

    (void)state;
    silent_peer_open(&sp);
    sd = sp.sd;

    /* right after accept(): the limit runs, at most 1 s away */
    err = 4242;
    ms = SSL_GetTimeout(sd, &err);
    assert_int_equal(err, 0);
    if (ms < 0 || ms > 1000)
        fail_msg("SSL_GetTimeout after accept: %d", ms);

    /* Let the limit pass without calling anything on the socket: the first
     * call afterwards must fail at once (a limit that started at the first
     * call would give the client one more second). */
    sleep_ms(ms + 100);
    assert_int_equal(SSL_GetTimeout(sd, &err), 0);
    assert_int_equal(err, 0);
    assert_int_equal(SSL_HandshakeComplete(sd, 0), -3);
    assert_int_equal(get_socketerror(sd), API_ETIMEDOUT);
    SslProblemS pr;
    assert_int_equal(SSL_GetProblem(sd, &pr, &err), 0);
    assert_int_equal(pr.errorCode, API_ETIMEDOUT);
    /* failed: no limit runs any more */
    assert_int_equal(SSL_GetTimeout(sd, &err), SSL_NO_TIMEOUT);
    silent_peer_close(&sp);
}

/* The same limit through recv(): the server's first recv after the limit
 * fails with API_ETIMEDOUT, and the timer an event loop would use says 0. */
static void test_timeout_recv_from_accept(void **state)
{
    struct silent_peer sp;
    unsigned char b;
    int err;

    (void)state;
    silent_peer_open(&sp);
    sleep_ms(1100);
    assert_int_equal(recv(sp.sd, &b, 1, MSG_DONTWAIT, 0, &err), -1);
    assert_int_equal(err, API_ETIMEDOUT);
    silent_peer_close(&sp);
}

static void test_timeout_states(void **state)
{
    struct tu_pair p;
    int err, sid, sd, plain, lsn, ms;
    unsigned short port;
    struct tu_scfg cs = {0};

    (void)state;
    /* an established connection: no limit */
    assert_int_equal(tu_pair_open(&p, AF_INET, V13, NULL, NULL, NULL), 0);
    assert_int_equal(SSL_GetTimeout(p.cli, &err), SSL_NO_TIMEOUT);
    assert_int_equal(err, 0);
    assert_int_equal(SSL_GetTimeout(p.srv, &err), SSL_NO_TIMEOUT);
    tu_pair_close(&p);

    /* a client before SSL_ClientStart: none; after it: the limit */
    sid = tu_new_session(&cs);
    lsn = tu_listener(AF_INET, 0, &port, &err); /* plain: never answers */
    assert_true(lsn >= 0);
    sd = tu_client(AF_INET, sid, port, &err);
    assert_true(sd >= 0);
    assert_int_equal(tu_setopt(sd, TCP_SSL_CONNECT_TIMEOUT, 5, &err), 0);
    assert_int_equal(SSL_GetTimeout(sd, &err), SSL_NO_TIMEOUT);
    assert_int_equal(SSL_ClientStart(sd, "localhost", &err), 0);
    ms = SSL_GetTimeout(sd, &err);
    if (ms < 0 || ms > 5000)
        fail_msg("SSL_GetTimeout after SSL_ClientStart: %d", ms);
    closesocket(sd, &err);

    /* no limit set: none */
    sd = tu_client(AF_INET, sid, port, &err);
    assert_true(sd >= 0);
    assert_int_equal(tu_setopt(sd, TCP_SSL_CONNECT_TIMEOUT, 0, &err), 0);
    assert_int_equal(SSL_ClientStart(sd, "localhost", &err), 0);
    assert_int_equal(SSL_GetTimeout(sd, &err), SSL_NO_TIMEOUT);
    closesocket(sd, &err);

    /* not an SSL socket, not a descriptor */
    plain = tu_client(AF_INET, 0, port, &err);
    assert_true(plain >= 0);
    assert_int_equal(SSL_GetTimeout(plain, &err), -1);
    assert_int_equal(err, API_EINVAL);
    assert_int_equal(SSL_GetTimeout(-5, &err), -1);
    assert_int_equal(err, API_EBADF);
    assert_int_equal(SSL_GetTimeout(plain, NULL), -1);
    closesocket(plain, &err);
    closesocket(lsn, &err);
    tu_session_close(sid);
}

/* ============================ SSL_HandshakeComplete's 0, told apart */

static void test_handshake_complete_zero(void **state)
{
    int err, sid, lsn, sd, plain;
    unsigned short port;
    struct tu_scfg cs = {0};

    (void)state;
    sid = tu_new_session(&cs);
    lsn = tu_listener(AF_INET, 0, &port, &err); /* accepts, never answers */
    assert_true(lsn >= 0);

    plain = tu_client(AF_INET, 0, port, &err);
    assert_true(plain >= 0);
    assert_int_equal(SSL_HandshakeComplete(plain, 0), 0); /* the original's answer */
    assert_int_equal(get_socketerror(plain), API_EINVAL); /* ... and why */

    sd = tu_client(AF_INET, sid, port, &err);
    assert_true(sd >= 0);
    assert_int_equal(SSL_HandshakeComplete(sd, 0), 0);
    assert_int_equal(get_socketerror(sd), API_EPERM); /* before SSL_ClientStart */
    assert_int_equal(SSL_ClientStart(sd, "localhost", &err), 0);
    assert_int_equal(SSL_HandshakeComplete(sd, 0), 0);
    assert_int_equal(get_socketerror(sd), API_EWOULDBLOCK); /* in progress */

    assert_int_equal(SSL_HandshakeComplete(lsn, 0), 0); /* plain listener */
    assert_int_equal(get_socketerror(lsn), API_EINVAL);

    closesocket(sd, &err);
    closesocket(plain, &err);
    closesocket(lsn, &err);
    tu_session_close(sid);
}

/* ===================================== non-blocking SSL_ConnClose */

/* Read what srv has now (non-blocking); adds to *got, checks the bytes
 * follow the pattern i & 0xff; returns 0 at end of stream, 1 otherwise. */
static int drain_pattern(int srv, long *got)
{
    unsigned char buf[16384];
    int err, n;

    while ((n = recv(srv, buf, sizeof buf, MSG_DONTWAIT, 0, &err)) > 0) {
        for (int i = 0; i < n; i++)
            if (buf[i] != (unsigned char)((*got + i) & 0xff))
                fail_msg("byte %ld: %u, not %u", *got + i, buf[i], (unsigned)((*got + i) & 0xff));
        *got += n;
    }
    if (n == 0)
        return 0;
    if (err != API_EWOULDBLOCK)
        fail_msg("server recv: error %d after %ld bytes", err, *got);
    return 1;
}

/* drain_pattern until the end of the stream or, with want >= 0, until *got
 * reaches want, waiting up to 100 ms for more each time, WAIT_MS in all.
 * Returns the last drain_pattern (0: the stream ended). */
static int drain_until(int srv, long *got, long want)
{
    int live = 1;
    double t0 = tu_now();

    while (live && (want < 0 || *got < want) && tu_now() - t0 < WAIT_MS / 1000.0) {
        live = drain_pattern(srv, got);
        if (live && (want < 0 || *got < want))
            tu_readable(srv, 100);
    }
    return live;
}

/* Send the pattern from *sent on until the socket takes no more. */
static void fill(int cli, long *sent)
{
    unsigned char buf[16384];
    int err, n;
    double t0 = tu_now();

    do {
        for (size_t i = 0; i < sizeof buf; i++)
            buf[i] = (unsigned char)((*sent + (long)i) & 0xff);
        n = send(cli, buf, sizeof buf, 0, &err);
        if (n > 0)
            *sent += n;
    } while (n > 0 && tu_now() - t0 < WAIT_MS / 1000.0);
    if (n >= 0 || err != API_EWOULDBLOCK)
        fail_msg("filling: send %d, error %d", n, err);
}

static void run_nonblocking_close(int version)
{
    struct tu_pair p;
    long sent = 0, got = 0;
    int err, rc, calls = 0, live = 1;
    double t0;
    void *vp;

    assert_int_equal(tu_pair_open(&p, AF_INET, version, NULL, NULL, NULL), 0);
    assert_int_equal(Set_Blocking_Mode(p.cli, 1, &err), 0);
    fill(p.cli, &sent); /* the server reads nothing yet */

    /* The close cannot finish: it says so at once, and what to wait for. */
    rc = SSL_ConnClose(p.cli, &err);
    assert_int_equal(rc, -1);
    assert_int_equal(err, API_EWOULDBLOCK);
    assert_true(SSL_GetWaitEvents(p.cli, &err) & POLLOUT);
    assert_int_equal(send(p.cli, "x", 1, 0, &err), -1);
    assert_int_equal(err, API_ESHUTDOWN);

    /* An event loop: the server reads, the client repeats the call when
     * its socket is writable. */
    t0 = tu_now();
    while (rc != 0 && tu_now() - t0 < WAIT_MS / 1000.0) {
        live = drain_pattern(p.srv, &got);
        struct pollfd pf = {.fd = p.cli, .events = (short)SSL_GetWaitEvents(p.cli, &err)};
        poll(&pf, 1, 10);
        rc = SSL_ConnClose(p.cli, &err);
        calls++;
        if (rc != 0 && err != API_EWOULDBLOCK)
            fail_msg("SSL_ConnClose: error %d", err);
    }
    if (rc != 0)
        fail_msg("SSL_ConnClose did not finish (%d calls)", calls);
    /* then everything, then close_notify */
    if (live)
        live = drain_until(p.srv, &got, -1);
    assert_int_equal(live, 0);
    assert_int_equal(got, sent);
    assert_int_equal(SSL_GetConnState(p.srv, &vp, &err), 0);
    assert_int_equal(((SSL_CONN_STATE *)vp)->closeNotify, 1);
    /* closed: a second SSL_ConnClose is refused */
    assert_int_equal(SSL_ConnClose(p.cli, &err), -1);
    assert_int_equal(err, API_EINVAL);
    tu_pair_close(&p);
}

TU_TEST_CALL(test_nonblocking_close_tls12, run_nonblocking_close, V12)
TU_TEST_CALL(test_nonblocking_close_tls13, run_nonblocking_close, V13)

/* =========== SSL_SendFlush after SEND_MAX_SIZE is lowered mid-record */

static void run_flush_after_lower(int version)
{
    struct tu_pair p;
    long sent = 0, got = 0;
    int err, rc = -1;
    double t0;

    assert_int_equal(tu_pair_open(&p, AF_INET, version, NULL, NULL, NULL), 0);
    assert_int_equal(Set_Blocking_Mode(p.cli, 1, &err), 0);
    fill(p.cli, &sent); /* a 16 KiB record is in flight, more held back */
    assert_int_equal(tu_setopt(p.cli, TCP_SSL_SEND_MAX_SIZE, 100, &err), 0);

    t0 = tu_now();
    while (tu_now() - t0 < WAIT_MS / 1000.0) {
        rc = SSL_SendFlush(p.cli, &err);
        if (rc == 0)
            break;
        if (err != API_EWOULDBLOCK)
            fail_msg("SSL_SendFlush after lowering SEND_MAX_SIZE: error %d", err);
        drain_pattern(p.srv, &got);
        tu_readable(p.srv, 10);
    }
    assert_int_equal(rc, 0);
    /* all of it arrives, intact and in order */
    drain_until(p.srv, &got, sent);
    assert_int_equal(got, sent);
    tu_pair_close(&p);
}

TU_TEST_CALL(test_flush_after_lower_tls12, run_flush_after_lower, V12)
TU_TEST_CALL(test_flush_after_lower_tls13, run_flush_after_lower, V13)

/* ============================ a client before SSL_ClientStart is silent */

static void test_send_before_client_start(void **state)
{
    int err, sid, lsn, cli, srv;
    unsigned short port;
    unsigned char b[64];
    struct tu_scfg cs = {0};

    (void)state;
    sid = tu_new_session(&cs);
    lsn = tu_listener(AF_INET, 0, &port, &err); /* plain TCP: sees raw bytes */
    assert_true(lsn >= 0);
    cli = tu_client(AF_INET, sid, port, &err);
    assert_true(cli >= 0);
    srv = accept(lsn, NULL, &err);
    assert_true(srv >= 0);

    assert_int_equal(send(cli, "plaintext", 9, 0, &err), -1);
    assert_int_equal(err, API_EPERM);
    assert_int_equal(send(cli, "plaintext", 9, MSG_DONTWAIT, &err), -1);
    assert_int_equal(err, API_EPERM);
    assert_int_equal(recv(cli, b, sizeof b, MSG_DONTWAIT, 0, &err), -1);
    assert_int_equal(err, API_EPERM);
    assert_int_equal(SSL_SendFlush(cli, &err), -1);
    assert_int_equal(err, API_EINVAL);

    /* The wire: the end of the stream and nothing before it (neither the
     * plaintext nor a ClientHello). */
    closesocket(cli, &err);
    err = 4242;
    assert_int_equal(recv(srv, b, sizeof b, MSG_TIMEOUT, WAIT_MS, &err), 0);
    assert_int_equal(err, 0);
    closesocket(srv, &err);
    closesocket(lsn, &err);
    tu_session_close(sid);
}

/* ================================================================ main */

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_accept_keeps_listener_mode),
        cmocka_unit_test(test_timeout_runs_from_accept),
        cmocka_unit_test(test_timeout_recv_from_accept),
        cmocka_unit_test(test_timeout_states),
        cmocka_unit_test(test_handshake_complete_zero),
        cmocka_unit_test(test_nonblocking_close_tls12),
        cmocka_unit_test(test_nonblocking_close_tls13),
        cmocka_unit_test(test_flush_after_lower_tls12),
        cmocka_unit_test(test_flush_after_lower_tls13),
        cmocka_unit_test(test_send_before_client_start),
    };

    tu_require_pki();
    return cmocka_run_group_tests_name("event_loop", tests, tu_setup_srv, tu_teardown_srv);
}
