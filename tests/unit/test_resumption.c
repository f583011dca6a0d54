/*
 * test_resumption.c - when a TLS session is resumed and when it must not be:
 *
 *   freshness  resumption never crosses a change of option 3, of the trust
 *              (root CA deleted) or of the proposal list; a resumed
 *              connection reports the peerCertFlags of the original
 *              handshake (regression: a code review found resumption
 *              skipping the certificate checks after such changes, and
 *              resumed connections reporting flags 0)
 *   rude close closesocket without SSL_ConnClose keeps a clean session
 *              resumable, on either end (regression: OpenSSL forgot the
 *              session, so original sources that never send close_notify
 *              never resumed)
 *   cache size client maxCaches (entries per server) and server maxCaches
 *              (sessions kept) bound the caches, the oldest entry replaced
 *              (an audit found the bounds untested)
 *
 * The handshake table of test_loopback.c has the plain cases (resumption in
 * TLS 1.2 and 1.3, under another name, with maxCaches 0).
 *
 * Server ends run in threads of this process, except for the freshness
 * cases: there the server runs in a forked child process, so that a PKI
 * change in the client's process (root CA deleted) leaves the server's
 * resumption cache alone, as with a real remote server. cmocka assertions
 * are made in the main thread only, after threads were joined.
 */
#define _GNU_SOURCE /* prctl */

#include <poll.h>
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "tcpip.h"
#include "testutil.h"
#include "tu_cmocka.h"

#define V12 SSL_VERSION_TLS12
#define V13 SSL_VERSION_TLS13

/* A client connection to a server this process does not see. */
static void cli_conn(int sid, unsigned short port, struct tu_end *r)
{
    tu_cli_finish(tu_cli_open(AF_INET, sid, port, "localhost", r), 0, r);
}

/* A server in a forked child: every connection served by a thread of the
 * child (tu_serve), until the parent ends it (child_stop). The child dies
 * with the test program, and after 120 s at the latest. */
static pid_t g_child = -1;

static void *child_conn(void *arg)
{
    struct tu_end e;

    tu_serve((int)(intptr_t)arg, 0, &e);
    return NULL;
}

static void child_start(int lsn)
{
    pid_t pid;
    int err;

    pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        prctl(PR_SET_PDEATHSIG, SIGKILL);
        alarm(120);
        for (;;) {
            pthread_t t;
            int sd = accept(lsn, NULL, &err);

            if (sd < 0) {
                tu_readable(lsn, 100);
                continue;
            }
            if (pthread_create(&t, NULL, child_conn, (void *)(intptr_t)sd) != 0)
                closesocket(sd, &err);
            else
                pthread_detach(t);
        }
    }
    g_child = pid;
    closesocket(lsn, &err); /* the child has its own descriptor */
}

static void child_stop(void)
{
    int status;

    if (g_child > 0) {
        kill(g_child, SIGTERM);
        waitpid(g_child, &status, 0);
        g_child = -1;
    }
}

/* ============================================================ freshness */

enum trigger {
    T_NONE,     /* no change: the resumed connection keeps peerCertFlags      */
    T_OPT3_OFF, /* client option 3 turned off; server cert from untrusted CA  */
    T_ROOT_DEL, /* root CA "ca" deleted from the PKI                          */
    T_PROPS,    /* client proposal list changed                              */
};

struct fresh_case {
    const char *desc;
    int version;
    enum trigger trig;
    int late; /* TLS 1.3: the ticket of a connection opened before the change
                 arrives after it (the connection reads only then) */
};

/* clang-format off */
static const struct fresh_case fresh_cases[] = {
    { "fresh: TLS1.2 resumed connection reports the original peerCertFlags", V12, T_NONE, 0 },
    { "fresh: TLS1.3 resumed connection reports the original peerCertFlags", V13, T_NONE, 0 },
    { "fresh: TLS1.2 option 3 turned off: no resumption, UNKNOWNCA", V12, T_OPT3_OFF, 0 },
    { "fresh: TLS1.3 option 3 turned off: no resumption, UNKNOWNCA", V13, T_OPT3_OFF, 0 },
    { "fresh: TLS1.3 option 3 turned off, ticket arrives after the change", V13, T_OPT3_OFF, 1 },
    { "fresh: TLS1.2 root CA deleted: no resumption", V12, T_ROOT_DEL, 0 },
    { "fresh: TLS1.3 root CA deleted: no resumption", V13, T_ROOT_DEL, 0 },
    { "fresh: TLS1.3 root CA deleted, ticket arrives after the change", V13, T_ROOT_DEL, 1 },
    { "fresh: TLS1.2 proposals changed: full handshake, new suite", V12, T_PROPS, 0 },
    { "fresh: TLS1.3 proposals changed: full handshake, new suite", V13, T_PROPS, 0 },
    { "fresh: TLS1.3 proposals changed, ticket arrives after the change", V13, T_PROPS, 1 },
};
/* clang-format on */

static const int props12_a[] = {0xC02F}, props12_b[] = {0xC030};
static const int props13_a[] = {0x1301}, props13_b[] = {0x1303};

/* What a connection after the change must show. */
static void check_after(const struct fresh_case *c, const char *which, const struct tu_end *r)
{
    int want_suite = c->version == V12 ? props12_b[0] : props13_b[0];

    switch (c->trig) {
    case T_OPT3_OFF:
    case T_ROOT_DEL:
        if (r->hs != -3)
            fail_msg("%s: %s connection: handshake %d (resumed %d), want -3", c->desc, which, r->hs,
                     r->st.resumed);
        if (c->trig == T_OPT3_OFF && !(r->prob.certFlags & PKI_CERT_UNKNOWNCA))
            fail_msg("%s: %s connection: certFlags 0x%x lack UNKNOWNCA", c->desc, which,
                     (unsigned)r->prob.certFlags);
        if (c->trig == T_ROOT_DEL &&
            !(r->prob.certFlags & (PKI_CERT_UNKNOWNCA | PKI_CERT_NOTVERIFIED)))
            fail_msg("%s: %s connection: certFlags 0x%x lack UNKNOWNCA/NOTVERIFIED", c->desc, which,
                     (unsigned)r->prob.certFlags);
        break;
    case T_PROPS:
        tu_want_good(c->desc, r, NULL, 0);
        if (r->st.resumed != 0 || r->st.cipherSuite != want_suite)
            fail_msg("%s: %s connection: resumed %d suite 0x%04x, want a full handshake with "
                     "0x%04x",
                     c->desc, which, r->st.resumed, (unsigned)r->st.cipherSuite,
                     (unsigned)want_suite);
        break;
    case T_NONE: break;
    }
}

static void run_fresh_case(void **state)
{
    const struct fresh_case *c = *state;
    struct tu_scfg s = {.version = c->version, .caches = 10};
    struct tu_scfg k = {.version = c->version, .caches = 10};
    struct tu_end r1, r2, ra, rb, rc;
    unsigned short port;
    int srv_sid, cli_sid, lsn, sda = -1, err;

    switch (c->trig) {
    case T_NONE:
    case T_OPT3_OFF:
        s.cert = "srv-unk";
        k.opt3 = 1;
        break;
    case T_ROOT_DEL: s.cert = "srv"; break;
    case T_PROPS:
        s.cert = "srv";
        k.props = c->version == V12 ? props12_a : props13_a;
        k.nprops = 1;
        break;
    }
    srv_sid = tu_new_session(&s);
    cli_sid = tu_new_session(&k);
    lsn = tu_listener(AF_INET, srv_sid, &port, &err);
    assert_true(lsn >= 0);
    child_start(lsn);

    /* a full handshake, then a resumption: resumption works here */
    cli_conn(cli_sid, port, &r1);
    tu_want_good(c->desc, &r1, NULL, 0);
    cli_conn(cli_sid, port, &r2);
    tu_want_good(c->desc, &r2, NULL, 0);
    if (r1.st.resumed != 0 || r2.st.resumed != 1)
        fail_msg("%s: before the change resumed %d then %d, want 0 then 1", c->desc, r1.st.resumed,
                 r2.st.resumed);
    if (r2.st.peerCertFlags != r1.st.peerCertFlags)
        fail_msg("%s: peerCertFlags 0x%x on the full handshake, 0x%x when resumed", c->desc,
                 (unsigned)r1.st.peerCertFlags, (unsigned)r2.st.peerCertFlags);
    if (k.opt3 && r1.st.peerCertFlags != PKI_CERT_UNKNOWNCA)
        fail_msg("%s: untrusted-CA server with option 3: peerCertFlags 0x%x, want 0x%x", c->desc,
                 (unsigned)r1.st.peerCertFlags, PKI_CERT_UNKNOWNCA);

    if (c->late) {
        /* opened before the change; its ticket is read after it */
        sda = tu_cli_open(AF_INET, cli_sid, port, "localhost", &ra);
        if (ra.hs != 1)
            fail_msg("%s: connection A: handshake %d", c->desc, ra.hs);
    }
    switch (c->trig) {
    case T_OPT3_OFF:
        assert_int_equal(SSL_SessionOpt(cli_sid, SSL_OPT_SKIP_CERT_VALIDATION, 0, &err), 0);
        break;
    case T_ROOT_DEL: assert_int_equal(PKI_CertificateDel("ca", PKI_CERT_NONLOCAL, &err), 0); break;
    case T_PROPS:
        assert_int_equal(
            SSL_SessionProp(cli_sid, (int *)(c->version == V12 ? props12_b : props13_b), 1, &err),
            0);
        break;
    case T_NONE: break;
    }
    cli_conn(cli_sid, port, &rb);
    check_after(c, "next", &rb);
    if (c->late) {
        tu_cli_finish(sda, 0, &ra);
        tu_want_good("connection A", &ra, NULL, 0);
        cli_conn(cli_sid, port, &rc);
        check_after(c, "third", &rc);
    }
    child_stop();
    if (c->trig == T_ROOT_DEL)
        assert_int_equal(tu_add_cert("ca.pem", PKI_FMT_PEM, TU_ROOT, "ca", NULL, &err), 0);
    assert_int_equal(SSL_SessionClose(cli_sid, &err), 0);
    assert_int_equal(SSL_SessionClose(srv_sid, &err), 0);
}

/* After a failed case: no child left, the root CA back. */
static int fresh_teardown(void **state)
{
    int err;

    (void)state;
    child_stop();
    tu_add_cert("ca.pem", PKI_FMT_PEM, TU_ROOT, "ca", NULL, &err); /* EINVAL if present */
    return 0;
}

/* ===================== rude close: closesocket keeps sessions resumable */

struct rude_case {
    const char *desc;
    int version;
    int flags; /* TU_CLI_RUDE, TU_SRV_RUDE */
};

/* clang-format off */
static const struct rude_case rude_cases[] = {
    { "rude close: TLS1.2 client closes with closesocket only", V12, TU_CLI_RUDE },
    { "rude close: TLS1.3 client closes with closesocket only", V13, TU_CLI_RUDE },
    { "rude close: TLS1.2 server closes with closesocket only", V12, TU_SRV_RUDE },
    { "rude close: TLS1.3 server closes with closesocket only", V13, TU_SRV_RUDE },
    { "rude close: TLS1.2 both close with closesocket only", V12, TU_CLI_RUDE | TU_SRV_RUDE },
    { "rude close: TLS1.3 both close with closesocket only", V13, TU_CLI_RUDE | TU_SRV_RUDE },
};
/* clang-format on */

static void run_rude_case(void **state)
{
    const struct rude_case *c = *state;
    struct tu_scfg s = {.version = c->version, .cert = "srv", .caches = 10};
    struct tu_scfg k = {.version = c->version, .caches = 10};
    struct tu_end r[3], sc[3];
    unsigned short port;
    int srv_sid, cli_sid, lsn, err, i;
    char what[160];

    srv_sid = tu_new_session(&s);
    cli_sid = tu_new_session(&k);
    lsn = tu_listener(AF_INET, srv_sid, &port, &err);
    assert_true(lsn >= 0);
    for (i = 0; i < 3; i++)
        tu_conn(lsn, port, cli_sid, "localhost", c->flags, &r[i], &sc[i]);
    closesocket(lsn, &err);
    SSL_SessionClose(cli_sid, &err);
    SSL_SessionClose(srv_sid, &err);
    for (i = 0; i < 3; i++) {
        snprintf(what, sizeof what, "%s, connection %d", c->desc, i + 1);
        tu_want_good(what, &r[i], &sc[i], c->flags);
    }
    if (r[0].st.resumed != 0 || r[1].st.resumed != 1 || r[2].st.resumed != 1 ||
        sc[0].st.resumed != 0 || sc[1].st.resumed != 1 || sc[2].st.resumed != 1)
        fail_msg("%s: resumed client %d/%d/%d server %d/%d/%d, want 0/1/1 on both", c->desc,
                 r[0].st.resumed, r[1].st.resumed, r[2].st.resumed, sc[0].st.resumed,
                 sc[1].st.resumed, sc[2].st.resumed);
}

/* ========================================================== cache size */

/* A sequence of connections; the resumed flags must be want[]. Both ends
 * must agree on each. */
static void run_sequence(const char *desc, const int *lsn, const unsigned short *port,
                         const int *lsn_of, const int *cli_sid, const int *cli_of, const int *want)
{
    struct tu_end r, s;
    char what[200];
    int i, got[5];

    for (i = 0; i < 5; i++) {
        tu_conn(lsn[lsn_of[i]], port[lsn_of[i]], cli_sid[cli_of[i]], "localhost", 0, &r, &s);
        snprintf(what, sizeof what, "%s, connection %d", desc, i + 1);
        tu_want_good(what, &r, &s, 0);
        if (r.st.resumed != s.st.resumed)
            fail_msg("%s: client says resumed %d, server %d", what, r.st.resumed, s.st.resumed);
        got[i] = r.st.resumed;
    }
    for (i = 0; i < 5; i++)
        if (got[i] != want[i])
            fail_msg("%s: resumed %d %d %d %d %d, want %d %d %d %d %d", desc, got[0], got[1],
                     got[2], got[3], got[4], want[0], want[1], want[2], want[3], want[4]);
}

/* Client side: maxCaches entries keyed by (address, port, name). Two
 * servers A and B, connections A, A, B, B, A. With one entry, B replaces A,
 * so the last A is a full handshake; with two it resumes. The servers keep
 * every session (maxCaches 10), so only the client's bound decides. */
struct ccache_case {
    const char *desc;
    int version, cli_caches;
    int want[5];
};

/* clang-format off */
static const struct ccache_case ccache_cases[] = {
    { "cache size: TLS1.2 client maxCaches 1: A A B B A", V12, 1, { 0, 1, 0, 1, 0 } },
    { "cache size: TLS1.3 client maxCaches 1: A A B B A", V13, 1, { 0, 1, 0, 1, 0 } },
    { "cache size: TLS1.2 client maxCaches 2: A A B B A (contrast)", V12, 2, { 0, 1, 0, 1, 1 } },
    { "cache size: TLS1.3 client maxCaches 2: A A B B A (contrast)", V13, 2, { 0, 1, 0, 1, 1 } },
};
/* clang-format on */

static void run_ccache_case(void **state)
{
    const struct ccache_case *c = *state;
    struct tu_scfg ss = {.version = c->version, .cert = "srv", .caches = 10};
    struct tu_scfg cs = {.version = c->version, .caches = c->cli_caches};
    static const int seq[5] = {0, 0, 1, 1, 0}, one[5] = {0, 0, 0, 0, 0}; /* A A B B A */
    unsigned short port[2];
    int srv_sid[2], lsn[2], cli_sid, err, i;

    for (i = 0; i < 2; i++) {
        srv_sid[i] = tu_new_session(&ss);
        lsn[i] = tu_listener(AF_INET, srv_sid[i], &port[i], &err);
        assert_true(lsn[i] >= 0);
    }
    cli_sid = tu_new_session(&cs);
    run_sequence(c->desc, lsn, port, seq, &cli_sid, one, c->want);
    for (i = 0; i < 2; i++) {
        closesocket(lsn[i], &err);
        tu_session_close(srv_sid[i]);
    }
    tu_session_close(cli_sid);
}

/* Server side: maxCaches bounds the sessions the server keeps, the oldest
 * replaced when full. One server, client sessions c1, c2, c3 (each keeping
 * its own entry for the server, so only the server's bound decides).
 *
 * maxCaches 1, c1 c2 c1 c2 c2: only the most recent session is kept. c2's
 * full handshake (2) replaces c1's session, so c1 (3) is a full handshake
 * whose new session replaces c2's, so c2 (4) is a full handshake too;
 * nothing replaced c2's new session before (5), which resumes: 0 0 0 0 1.
 * maxCaches 2, same sequence: both sessions stay: 0 0 1 1 1.
 * maxCaches 2, c1 c2 c3 c2 c1: c3 (3) replaces the oldest, c1's; c2 (4)
 * resumes; c1 (5) does not: 0 0 0 1 0.
 * (In TLS 1.3 a resumption uses up its ticket and issues a new one, which
 * is then the newest entry: the patterns above are the same.)
 * Note for the engine: OpenSSL 3.0's internal cache evicts while its count,
 * the session being added included, is >= SSL_CTX_sess_set_cache_size(), so
 * a size of N keeps only N - 1 sessions when N >= 2 (ssl_sess.c,
 * SSL_CTX_add_session). */
struct scache_case {
    const char *desc;
    int version, srv_caches;
    int seq[5]; /* client session 0..2 of each connection */
    int want[5];
};

/* clang-format off */
static const struct scache_case scache_cases[] = {
    { "cache size: TLS1.2 server maxCaches 1: c1 c2 c1 c2 c2", V12, 1,
      { 0, 1, 0, 1, 1 }, { 0, 0, 0, 0, 1 } },
    { "cache size: TLS1.3 server maxCaches 1: c1 c2 c1 c2 c2", V13, 1,
      { 0, 1, 0, 1, 1 }, { 0, 0, 0, 0, 1 } },
    { "cache size: TLS1.2 server maxCaches 2: c1 c2 c1 c2 c2", V12, 2,
      { 0, 1, 0, 1, 1 }, { 0, 0, 1, 1, 1 } },
    { "cache size: TLS1.3 server maxCaches 2: c1 c2 c1 c2 c2", V13, 2,
      { 0, 1, 0, 1, 1 }, { 0, 0, 1, 1, 1 } },
    { "cache size: TLS1.2 server maxCaches 2: c1 c2 c3 c2 c1", V12, 2,
      { 0, 1, 2, 1, 0 }, { 0, 0, 0, 1, 0 } },
    { "cache size: TLS1.3 server maxCaches 2: c1 c2 c3 c2 c1", V13, 2,
      { 0, 1, 2, 1, 0 }, { 0, 0, 0, 1, 0 } },
};
/* clang-format on */

static void run_scache_case(void **state)
{
    const struct scache_case *c = *state;
    struct tu_scfg ss = {.version = c->version, .cert = "srv", .caches = c->srv_caches};
    struct tu_scfg cs = {.version = c->version, .caches = 10};
    static const int zero[5] = {0, 0, 0, 0, 0};
    unsigned short port;
    int srv_sid, lsn, cli_sid[3], err, i;

    srv_sid = tu_new_session(&ss);
    lsn = tu_listener(AF_INET, srv_sid, &port, &err);
    assert_true(lsn >= 0);
    for (i = 0; i < 3; i++)
        cli_sid[i] = tu_new_session(&cs);
    run_sequence(c->desc, &lsn, &port, zero, cli_sid, c->seq, c->want);
    closesocket(lsn, &err);
    tu_session_close(srv_sid);
    for (i = 0; i < 3; i++)
        tu_session_close(cli_sid[i]);
}

/* ================================================================= main */

/* clang-format off */
static const struct tu_own own[] = {
    { "server.key", PKI_KEY_RSA, "server.pem", "srv", "ca" },
    { "server-unknownca.key", PKI_KEY_EC, "server-unknownca.pem", "srv-unk", NULL },
};
/* clang-format on */
static const struct tu_pki pki = {.own = own, .nown = TU_N(own)};

static int group_setup(void **state)
{
    (void)state;
    signal(SIGPIPE, SIG_IGN);
    return tu_pki_add(&pki);
}

static int group_teardown(void **state)
{
    (void)state;
    tu_pki_del(&pki);
    return 0;
}

int main(void)
{
    static struct CMUnitTest tests[64];
    size_t n = 0;

    tu_require_pki();
    TU_ADD_TABLE_TD(tests, n, fresh_cases, run_fresh_case, fresh_teardown);
    TU_ADD_TABLE(tests, n, rude_cases, run_rude_case);
    TU_ADD_TABLE(tests, n, ccache_cases, run_ccache_case);
    TU_ADD_TABLE(tests, n, scache_cases, run_scache_case);
    return _cmocka_run_group_tests("resumption", tests, n, group_setup, group_teardown);
}
