/*
 * test_handshake_state.c - the handshake state a socket reports:
 *
 *   refusal     SslProblemS.hsState names the state in which a refused
 *               handshake failed (client refusing the server's certificate,
 *               server refusing a missing or untrusted client certificate),
 *               with the certificate flags of the refusal (an audit found
 *               hsState untested)
 *   time limit  a handshake that times out waiting for the peer's hello
 *               reports SSL_HS_HELLO and API_ETIMEDOUT, on both sides
 *   listener    SSL_HandshakeComplete on a listener answers 0 and never
 *               starts TLS on it: its SSL options still change, accepted
 *               sockets handshake with the new session (regression: it
 *               started a server handshake on the listener itself)
 *
 * test_handshake_limits.c has the time limit on non-blocking calls. Server
 * ends run in threads of this process (tu_conn); cmocka assertions are made
 * in the main thread only, after the threads were joined.
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

#define V12 SSL_VERSION_TLS12
#define V13 SSL_VERSION_TLS13
#define LIMIT_S 8.0 /* generous bound for "after a 1 s time limit" */

/* ====================================== SslProblemS.hsState of a refusal */

enum { SIDE_CLIENT, SIDE_SERVER };

struct hsstate_case {
    const char *desc;
    struct tu_scfg srv, cli;
    const char *name;
    int side;       /* whose problem record is checked */
    int lo, hi;     /* hsState must be within [lo, hi] */
    int want_flags; /* PKI_CERT_* flags that must be set in its certFlags */
};

/* clang-format off */
static const struct hsstate_case hsstate_cases[] = {
    /* the client refuses the server's certificate while verifying it */
    { "refusal: TLS1.2 client refuses an untrusted server certificate",
      { .version = V12, .cert = "self" }, { .version = V12 }, "localhost", SIDE_CLIENT,
      SSL_HS_CERTIFICATE, SSL_HS_CERTIFICATE, PKI_CERT_UNKNOWNCA },
    { "refusal: TLS1.3 client refuses an untrusted server certificate",
      { .version = V13, .cert = "self" }, { .version = V13 }, "localhost", SIDE_CLIENT,
      SSL_HS_CERTIFICATE, SSL_HS_CERTIFICATE, PKI_CERT_UNKNOWNCA },
    { "refusal: TLS1.2 client refuses a server certificate for another name",
      { .version = V12, .cert = "srv" }, { .version = V12 }, "wrong.example", SIDE_CLIENT,
      SSL_HS_CERTIFICATE, SSL_HS_CERTIFICATE, PKI_CERT_UNMATCHED },
    { "refusal: TLS1.3 client refuses a server certificate for another name",
      { .version = V13, .cert = "srv" }, { .version = V13 }, "wrong.example", SIDE_CLIENT,
      SSL_HS_CERTIFICATE, SSL_HS_CERTIFICATE, PKI_CERT_UNMATCHED },
    /* the server refuses: its certificate (and request) went out already,
     * so the failure is not in the hello phase; refusing the client's
     * certificate happens while verifying it (SSL_HS_CERTIFICATE: "certificate
     * exchange and verification"), although the server's ServerHelloDone
     * (TLS 1.2) or Finished (TLS 1.3) was sent before */
    { "refusal: TLS1.2 server refuses a missing client certificate",
      { .version = V12, .cert = "srv", .opt1 = 1 }, { .version = V12 }, "localhost",
      SIDE_SERVER, SSL_HS_CERTIFICATE, SSL_HS_FINISHED, 0 },
    { "refusal: TLS1.3 server refuses a missing client certificate",
      { .version = V13, .cert = "srv", .opt1 = 1 }, { .version = V13 }, "localhost",
      SIDE_SERVER, SSL_HS_CERTIFICATE, SSL_HS_FINISHED, 0 },
    { "refusal: TLS1.2 server refuses an untrusted client certificate",
      { .version = V12, .cert = "srv", .opt1 = 1 }, { .version = V12, .cert = "cli-unt" },
      "localhost", SIDE_SERVER, SSL_HS_CERTIFICATE, SSL_HS_CERTIFICATE, PKI_CERT_UNKNOWNCA },
    { "refusal: TLS1.3 server refuses an untrusted client certificate",
      { .version = V13, .cert = "srv", .opt1 = 1 }, { .version = V13, .cert = "cli-unt" },
      "localhost", SIDE_SERVER, SSL_HS_CERTIFICATE, SSL_HS_CERTIFICATE, PKI_CERT_UNKNOWNCA },
};
/* clang-format on */

static const char *hs_name(int st)
{
    static const char *names[] = {"NONE",     "HELLO", "CERTIFICATE", "KEY_EXCHANGE",
                                  "FINISHED", "DONE",  "FAILED",      "CLOSED"};

    return st >= 0 && st <= 7 ? names[st] : "?";
}

static void run_hsstate_case(void **state)
{
    const struct hsstate_case *c = *state;
    struct tu_end r, s;
    unsigned short port;
    int srv_sid, cli_sid, lsn, err;
    const SslProblemS *pr;

    srv_sid = tu_new_session(&c->srv);
    cli_sid = tu_new_session(&c->cli);
    lsn = tu_listener(AF_INET, srv_sid, &port, &err);
    assert_true(lsn >= 0);
    tu_conn(lsn, port, cli_sid, c->name, 0, &r, &s);
    /* the failing side: a TLS 1.3 client refused after its Finished may
     * finish, then its recv fails (tcpip.h, option 1) */
    if (c->side == SIDE_CLIENT && r.hs != -3)
        fail_msg("%s: client handshake %d, want -3", c->desc, r.hs);
    if (s.hs != -3)
        fail_msg("%s: server handshake %d, want -3", c->desc, s.hs);
    pr = c->side == SIDE_CLIENT ? &r.prob : &s.prob;
    if (pr->alert == -100)
        fail_msg("%s: SSL_GetProblem failed", c->desc);
    if (pr->errorCode == 0)
        fail_msg("%s: no problem recorded", c->desc);
    if (pr->hsState < c->lo || pr->hsState > c->hi)
        fail_msg("%s: %s hsState %d (%s), want %s..%s (error %d alert %d \"%s\")", c->desc,
                 c->side == SIDE_CLIENT ? "client" : "server", pr->hsState, hs_name(pr->hsState),
                 hs_name(c->lo), hs_name(c->hi), pr->errorCode, pr->alert, pr->reason);
    if ((pr->certFlags & c->want_flags) != c->want_flags)
        fail_msg("%s: certFlags 0x%x lack 0x%x", c->desc, (unsigned)pr->certFlags,
                 (unsigned)c->want_flags);
    closesocket(lsn, &err);
    tu_session_close(srv_sid);
    tu_session_close(cli_sid);
}

/* ========================================= hsState at the time limit */

/* A silent peer: the handshake time limit passes in the hello phase. */
static void test_hsstate_timeout_client(void **state)
{
    struct tu_scfg cs = {0};
    SslProblemS prob;
    int lsn, sd, err, sid, rc;
    double t0, dt;

    (void)state;
    sid = tu_new_session(&cs);
    sd = tu_silent_server(sid, 1, &lsn, &err);
    assert_true(sd >= 0);
    t0 = tu_now();
    assert_int_equal(SSL_ClientStart(sd, "localhost", &err), 0);
    rc = SSL_HandshakeComplete(sd, SSL_WAIT_FOREVER);
    dt = tu_now() - t0;
    assert_int_equal(rc, -3);
    if (dt > LIMIT_S)
        fail_msg("1 s handshake limit ended after %.1f s", dt);
    assert_int_equal(SSL_GetProblem(sd, &prob, &err), 0);
    assert_int_equal(prob.errorCode, API_ETIMEDOUT);
    if (prob.hsState != SSL_HS_HELLO)
        fail_msg("client timed out waiting for the ServerHello: hsState %d (%s), want HELLO",
                 prob.hsState, hs_name(prob.hsState));
    closesocket(sd, &err);
    closesocket(lsn, &err);
    tu_session_close(sid);
}

static void test_hsstate_timeout_server(void **state)
{
    struct tu_scfg ss = {.cert = "srv"};
    SslProblemS prob;
    unsigned short port;
    int lsn, cli, srv, err, sid, rc;
    double t0, dt;

    (void)state;
    sid = tu_new_session(&ss);
    lsn = tu_listener(AF_INET, sid, &port, &err);
    assert_true(lsn >= 0);
    assert_int_equal(tu_setopt(lsn, TCP_SSL_CONNECT_TIMEOUT, 1, &err), 0);
    cli = tu_client(AF_INET, 0, port, &err); /* plain TCP: never says hello */
    assert_true(cli >= 0);
    t0 = tu_now();
    srv = accept(lsn, NULL, &err);
    assert_true(srv >= 0);
    rc = SSL_HandshakeComplete(srv, SSL_WAIT_FOREVER);
    dt = tu_now() - t0;
    assert_int_equal(rc, -3);
    if (dt > LIMIT_S)
        fail_msg("1 s handshake limit ended after %.1f s", dt);
    assert_int_equal(SSL_GetProblem(srv, &prob, &err), 0);
    assert_int_equal(prob.errorCode, API_ETIMEDOUT);
    if (prob.hsState != SSL_HS_HELLO)
        fail_msg("server timed out waiting for the ClientHello: hsState %d (%s), want HELLO",
                 prob.hsState, hs_name(prob.hsState));
    closesocket(srv, &err);
    closesocket(cli, &err);
    closesocket(lsn, &err);
    tu_session_close(sid);
}

/* ========================================== listeners never start TLS */

static void test_listener_handshake_complete(void **state)
{
    struct tu_scfg s1 = {.cert = "srv"}, s2 = {.cert = "srv-ec"}, k = {0};
    struct tu_end r, s;
    unsigned short port;
    int sid1, sid2, cli_sid, lsn, err, v = 0, rc0, rc1;

    (void)state;
    sid1 = tu_new_session(&s1);
    sid2 = tu_new_session(&s2);
    cli_sid = tu_new_session(&k);
    lsn = tu_listener(AF_INET, sid1, &port, &err);
    assert_true(lsn >= 0);

    rc0 = SSL_HandshakeComplete(lsn, 0);
    rc1 = SSL_HandshakeComplete(lsn, 50);
    if (rc0 != 0 || rc1 != 0)
        fail_msg("listener: SSL_HandshakeComplete returned %d and %d, want 0", rc0, rc1);
    /* the listener's SSL options can still change */
    assert_int_equal(tu_setopt(lsn, TCP_SSL_SERVER, 1, &err), 0);
    assert_int_equal(tu_setopt(lsn, TCP_SSLSESSION, sid2, &err), 0);
    assert_int_equal(tu_getopt(lsn, TCP_SSLSESSION, &v, &err), 0);
    assert_int_equal(v, sid2);
    assert_int_equal(tu_setopt(lsn, TCP_SSL_SEND_MAX_SIZE, 4096, &err), 0);

    /* accepted sockets still handshake, with the new session */
    tu_conn(lsn, port, cli_sid, "localhost", 0, &r, &s);
    closesocket(lsn, &err);
    SSL_SessionClose(cli_sid, &err);
    SSL_SessionClose(sid1, &err);
    SSL_SessionClose(sid2, &err);
    tu_want_good("listener: connection through the listener", &r, &s, 0);
    if (s.st.sessionID != sid2)
        fail_msg("listener: accepted socket: session %d, want %d", s.st.sessionID, sid2);
}

/* ================================================================= main */

static const struct tu_own own[] = {
    {"server.key", PKI_KEY_RSA, "server.pem", "srv", "ca"},
    {"server-ec.key", PKI_KEY_EC, "server-ec.pem", "srv-ec", "ca"},
    {"selfsigned.key", PKI_KEY_EC, "selfsigned.pem", "self", NULL},
    {"client-untrusted.key", PKI_KEY_EC, "client-untrusted.pem", "cli-unt", NULL},
};
static const struct tu_pki pki = {.own = own, .nown = TU_N(own)};

TU_PKI_FIXTURES(group_setup, group_teardown, pki)

int main(void)
{
    static struct CMUnitTest tests[32];
    size_t n = 0;

    tu_require_pki();
    TU_ADD_TABLE(tests, n, hsstate_cases, run_hsstate_case);
    TU_ADD_TEST(tests, n, "time limit: client waiting for the ServerHello",
                test_hsstate_timeout_client);
    TU_ADD_TEST(tests, n, "time limit: server waiting for the ClientHello",
                test_hsstate_timeout_server);
    TU_ADD_TEST(tests, n, "listener: SSL_HandshakeComplete on a listener",
                test_listener_handshake_complete);
    return _cmocka_run_group_tests("handshake_state", tests, n, group_setup, group_teardown);
}
