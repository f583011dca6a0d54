/*
 * test_proposals.c - which cipher suite a handshake negotiates: the
 * proposal lists of SSL_SessionProp and option 2 (SSL_OPT_SERVER_PROPOSALS).
 *
 *   option 2         on, the server takes the first suite of its own list
 *                    that the client offered; off, the client's first that
 *                    the server has; TLS 1.2 and TLS 1.3 alike
 *   option 2 toggled option 2 changed on a server session in use applies to
 *                    each new handshake; an open connection keeps its suite
 *   refused lists    a list SSL_SessionProp refuses (an insecure suite, or no
 *                    suite for any version the session's mask allows, e.g.
 *                    only TLS 1.2 suites for a TLS 1.3-only session) fails
 *                    with API_EINVAL and leaves the previous list in effect,
 *                    as a handshake shows, on client and server sessions
 *
 * test_loopback.c's table runs every known suite alone; test_badinput.c has
 * the argument checks of both calls. Server ends run in threads of this
 * process (tu_conn); cmocka assertions are made in the main thread only.
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
#define WAIT_MS TU_WAIT_MS

#define P(...)                                                                                     \
    .props = (const int[]){__VA_ARGS__},                                                           \
    .nprops = (int)(sizeof((const int[]){__VA_ARGS__}) / sizeof(int))
#define LIST(name, ...)                                                                            \
    .name = (const int[]){__VA_ARGS__},                                                            \
    .n##name = (int)(sizeof((const int[]){__VA_ARGS__}) / sizeof(int))

/* One connection from cli_sid to lsn; both ends must report want_suite. */
static void want_suite(const char *what, int lsn, unsigned short port, int cli_sid, int suite)
{
    struct tu_end r, s;

    tu_conn(lsn, port, cli_sid, "localhost", 0, &r, &s);
    tu_want_good(what, &r, &s, 0);
    if (r.st.cipherSuite != suite || s.st.cipherSuite != suite)
        fail_msg("%s: suite client 0x%04x server 0x%04x, want 0x%04x", what,
                 (unsigned)r.st.cipherSuite, (unsigned)s.st.cipherSuite, (unsigned)suite);
}

/* ============================================================ option 2 */

struct opt2_case {
    const char *desc;
    struct tu_scfg srv, cli;
    int want_suite;
};

/* server 1,2,3,4; client 4,3,2 */
/* clang-format off */
static const struct opt2_case opt2_cases[] = {
    { "option 2: TLS1.2 on: server preference",
      { .version = V12, .cert = "srv", .opt2 = 1, P(0xC02F, 0xC030, 0xCCA8, 0xC027) },
      { .version = V12, P(0xC027, 0xCCA8, 0xC030) }, 0xC030 },
    { "option 2: TLS1.2 off: client preference",
      { .version = V12, .cert = "srv", P(0xC02F, 0xC030, 0xCCA8, 0xC027) },
      { .version = V12, P(0xC027, 0xCCA8, 0xC030) }, 0xC027 },
    { "option 2: TLS1.3 on: server preference",
      { .version = V13, .cert = "srv", .opt2 = 1, P(0x1301, 0x1302, 0x1303) },
      { .version = V13, P(0x1303, 0x1302) }, 0x1302 },
    { "option 2: TLS1.3 off: client preference",
      { .version = V13, .cert = "srv", P(0x1301, 0x1302, 0x1303) },
      { .version = V13, P(0x1303, 0x1302) }, 0x1303 },
};
/* clang-format on */

static void run_opt2_case(void **state)
{
    const struct opt2_case *c = *state;
    unsigned short port;
    int srv_sid, cli_sid, lsn, err;

    srv_sid = tu_new_session(&c->srv);
    cli_sid = tu_new_session(&c->cli);
    lsn = tu_listener(AF_INET, srv_sid, &port, &err);
    assert_true(lsn >= 0);
    want_suite(c->desc, lsn, port, cli_sid, c->want_suite);
    closesocket(lsn, &err);
    tu_session_close(srv_sid);
    tu_session_close(cli_sid);
}

/* The two ends of a connection from cli_sid to the listener lsn (port),
 * owned by the calling thread. */
static void pair_connect(int lsn, unsigned short port, int cli_sid, struct tu_pair *p)
{
    p->lsn = lsn;
    p->cli_sid = cli_sid;
    p->srv_sid = 0;
    tu_want_pair(tu_pair_connect(p, AF_INET, port, "localhost", NULL), p);
    p->lsn = -1; /* not the pair's */
    p->cli_sid = 0;
}

/* ============================ option 2 toggled on a session in use */

/* (an audit found it untested) A connection of the session stays open
 * through the changes; each new handshake follows the value of the moment. */

struct toggle_case {
    const char *desc;
    int version;
    int a, b; /* client offers a, b; the server's list is b, a */
};

/* clang-format off */
static const struct toggle_case toggle_cases[] = {
    { "option 2 toggled: TLS1.2 option 2 off/on/off on a session in use", V12, 0xC02F, 0xC030 },
    { "option 2 toggled: TLS1.3 option 2 off/on/off on a session in use", V13, 0x1301, 0x1302 },
};
/* clang-format on */

static void run_toggle_case(void **state)
{
    const struct toggle_case *c = *state;
    int cprops[2] = {c->a, c->b}, sprops[2] = {c->b, c->a};
    struct tu_scfg ss = {.version = c->version, .cert = "srv", .props = sprops, .nprops = 2};
    struct tu_scfg cs = {.version = c->version, .props = cprops, .nprops = 2};
    /* option 2 value before each new connection, and the suite it gives */
    static const int opt2[4] = {0, 1, 0, 1};
    struct tu_end r, s;
    struct tu_pair p;
    unsigned char buf[8];
    unsigned short port;
    int srv_sid, cli_sid, lsn, err, i, want;
    char what[160];
    void *vp;

    srv_sid = tu_new_session(&ss);
    cli_sid = tu_new_session(&cs);
    lsn = tu_listener(AF_INET, srv_sid, &port, &err);
    assert_true(lsn >= 0);
    /* a connection of the session stays open through the changes */
    pair_connect(lsn, port, cli_sid, &p);
    assert_int_equal(SSL_GetConnState(p.srv, &vp, &err), 0);
    assert_int_equal(((SSL_CONN_STATE *)vp)->cipherSuite, c->a);

    for (i = 0; i < 4; i++) {
        assert_int_equal(SSL_SessionOpt(srv_sid, SSL_OPT_SERVER_PROPOSALS, opt2[i], &err), 0);
        tu_conn(lsn, port, cli_sid, "localhost", 0, &r, &s);
        want = opt2[i] ? c->b : c->a;
        snprintf(what, sizeof what, "%s, step %d (option 2 %s)", c->desc, i + 1,
                 opt2[i] ? "on" : "off");
        tu_want_good(what, &r, &s, 0);
        if (r.st.cipherSuite != want || s.st.cipherSuite != want)
            fail_msg("%s: suite client 0x%04x server 0x%04x, want 0x%04x", what,
                     (unsigned)r.st.cipherSuite, (unsigned)s.st.cipherSuite, (unsigned)want);
    }

    /* the connection made before the changes still works, with its suite */
    assert_int_equal(send(p.cli, "live", 4, 0, &err), 4);
    assert_int_equal(tu_recv_all(p.srv, buf, 4, WAIT_MS, &err), 4);
    assert_memory_equal(buf, "live", 4);
    assert_int_equal(SSL_GetConnState(p.cli, &vp, &err), 0);
    assert_int_equal(((SSL_CONN_STATE *)vp)->cipherSuite, c->a);

    tu_pair_close(&p);
    closesocket(lsn, &err);
    tu_session_close(srv_sid);
    tu_session_close(cli_sid);
}

/* ====================================================== refused lists */

enum { ON_CLIENT, ON_SERVER };

struct keep_case {
    const char *desc;
    int side;              /* whose session gets the lists; the other end has both
                              versions and the default list */
    int version;           /* that session's mask */
    const int *good, *bad; /* set first (accepted), then refused */
    int ngood, nbad;
    int want_suite; /* negotiated afterwards: from `good` */
};

/* clang-format off */
static const struct keep_case keep_cases[] = {
    { "refused list: RC4 on a TLS1.2 client session", ON_CLIENT, V12,
      LIST(good, 0xC030), LIST(bad, 0x0004), 0xC030 },
    { "refused list: only TLS1.2 suites for a TLS1.3-only client session", ON_CLIENT, V13,
      LIST(good, 0x1302), LIST(bad, 0xC02F, 0xC030), 0x1302 },
    { "refused list: only TLS1.3 suites for a TLS1.2-only client session", ON_CLIENT, V12,
      LIST(good, 0xC030), LIST(bad, 0x1301, 0x1302), 0xC030 },
    { "refused list: only TLS1.2 suites for a TLS1.3-only server session", ON_SERVER, V13,
      LIST(good, 0x1303), LIST(bad, 0xC02F), 0x1303 },
    { "refused list: only TLS1.3 suites for a TLS1.2-only server session", ON_SERVER, V12,
      LIST(good, 0xC030), LIST(bad, 0x1301, 0x1303), 0xC030 },
};
/* clang-format on */

static void run_keep_case(void **state)
{
    const struct keep_case *c = *state;
    struct tu_scfg ss = {.cert = "srv"}, cs = {0};
    unsigned short port;
    int srv_sid, cli_sid, sid, lsn, err, rc;

    if (c->side == ON_CLIENT)
        cs.version = c->version;
    else
        ss.version = c->version;
    srv_sid = tu_new_session(&ss);
    cli_sid = tu_new_session(&cs);
    sid = c->side == ON_CLIENT ? cli_sid : srv_sid;
    lsn = tu_listener(AF_INET, srv_sid, &port, &err);
    assert_true(lsn >= 0);

    err = 4242;
    rc = SSL_SessionProp(sid, (int *)c->good, c->ngood, &err);
    if (rc != 0 || err != 0)
        fail_msg("%s: the first list gave %d/%d, want 0/0", c->desc, rc, err);
    err = 4242;
    rc = SSL_SessionProp(sid, (int *)c->bad, c->nbad, &err);
    if (rc != -1 || err != API_EINVAL)
        fail_msg("%s: the refused list gave %d/%d, want -1/API_EINVAL (%d)", c->desc, rc, err,
                 API_EINVAL);
    /* the first list still rules */
    want_suite(c->desc, lsn, port, cli_sid, c->want_suite);

    closesocket(lsn, &err);
    tu_session_close(srv_sid);
    tu_session_close(cli_sid);
}

/* ================================================================= main */

int main(void)
{
    static struct CMUnitTest tests[32];
    size_t n = 0;

    tu_require_pki();
    TU_ADD_TABLE(tests, n, opt2_cases, run_opt2_case);
    TU_ADD_TABLE(tests, n, toggle_cases, run_toggle_case);
    TU_ADD_TABLE(tests, n, keep_cases, run_keep_case);
    return _cmocka_run_group_tests("proposals", tests, n, tu_setup_srv, tu_teardown_srv);
}
