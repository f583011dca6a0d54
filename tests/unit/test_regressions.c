/*
 * test_regressions.c - regression tests for defects a code review found in
 * the library (all fixed). Each test fails against the defect it names and
 * passes with the fix; the numbers refer to the review's list:
 *
 *   1  resumption never crosses a change of option 3, of the trust (root CA
 *      deleted) or of the proposal list; a resumed connection reports the
 *      peerCertFlags of the original handshake
 *   2  a CRL of the root that revokes an intermediate CA is checked
 *      (revocation along the whole chain, X509_V_FLAG_CRL_CHECK_ALL)
 *   3  an SSL socket without TCP_SSLSESSION never sends or reads plaintext
 *   4  a successful recv sets *error to 0
 *   5  closesocket without SSL_ConnClose keeps a clean session resumable
 *   6  an own certificate the TLS engine refuses (SHA-1) fails SSL_SessionNew
 *   7  the handshake time limit is enforced on non-blocking calls
 *   8  SSL_HandshakeComplete on a listener never starts TLS on it
 *   9  EC own keys only on P-256/P-384/P-521
 *  10  SSL_GetWaitEvents includes POLLOUT while output is pending
 *
 * Cases come from tables where that fits. Server ends run in threads of
 * this process; the tests of (1) run the server in a forked child process,
 * so that a PKI change in the client's process (root CA deleted) leaves the
 * server's resumption cache alone, as with a real remote server. cmocka
 * assertions are made in the main thread only, after threads were joined.
 */
#define _GNU_SOURCE /* prctl */

#include <errno.h>
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

#define ROOT (PKI_CERT_NONLOCAL | PKI_CERT_ROOTCA)
#define V12 SSL_VERSION_TLS12
#define V13 SSL_VERSION_TLS13
#define V_BOTH (SSL_VERSION_TLS12 | SSL_VERSION_TLS13)
#define WAIT_MS 10000 /* generous: a wait that normally ends at once     */
#define LIMIT_S 8.0   /* generous bound for "after a 1 s time limit"     */
#define GARBAGE 4242  /* what *error holds before a call that must clear it */

/* ------------------------------------------------------------- sessions */

#define PROPS(...)                                                                                 \
    .props = (const int[]){__VA_ARGS__},                                                           \
    .nprops = (int)(sizeof((const int[]){__VA_ARGS__}) / sizeof(int))

/* A session of c; fails the test on error. */
static int new_session(const struct tu_scfg *c)
{
    char msg[256];
    int err, sid = tu_session_new(c, &err);

    if (sid < 1)
        fail_msg("%s", tu_session_msg(msg, sizeof msg, sid, c, err));
    return sid;
}

/* --------------------------------------------------------- server side */

/* What one server connection did: handshake, "ping" -> "pong", wait for the
 * client's close (close_notify or FIN), then close: SSL_ConnClose and
 * closesocket, or closesocket only. */
struct srv_conn {
    int close_only;
    int hs, got_ping, st_ok;
    SSL_CONN_STATE st;
    SslProblemS prob;
};

static void serve(int sd, struct srv_conn *c)
{
    char buf[64];
    int err, n;

    c->hs = SSL_HandshakeComplete(sd, SSL_WAIT_FOREVER);
    if (c->hs == 1) {
        n = recv(sd, buf, sizeof buf, MSG_TIMEOUT, WAIT_MS, &err);
        c->got_ping = n == 4 && memcmp(buf, "ping", 4) == 0;
        if (c->got_ping)
            send(sd, "pong", 4, 0, &err);
        recv(sd, buf, sizeof buf, MSG_TIMEOUT, WAIT_MS, &err);
    }
    tu_snapshot(sd, &c->st, &c->st_ok, &c->prob);
    if (c->hs == 1 && !c->close_only)
        SSL_ConnClose(sd, &err);
    closesocket(sd, &err);
}

/* One accepted connection served in a thread of this process. */
struct srv_job {
    pthread_t tid;
    int lsn, accepted, accept_err;
    struct srv_conn c;
};

static void *srv_main(void *arg)
{
    struct srv_job *j = arg;
    int sd;

    if (!tu_readable(j->lsn, WAIT_MS)) /* the client never came */
        return NULL;
    sd = accept(j->lsn, NULL, &j->accept_err);
    if (sd < 0)
        return NULL;
    j->accepted = 1;
    serve(sd, &j->c);
    return NULL;
}

static void srv_start(struct srv_job *j, int lsn, int close_only)
{
    memset(j, 0, sizeof *j);
    j->lsn = lsn;
    j->c.close_only = close_only;
    assert_int_equal(pthread_create(&j->tid, NULL, srv_main, j), 0);
}

static void srv_join(struct srv_job *j)
{
    pthread_join(j->tid, NULL);
}

/* A server in a forked child: every connection served by a thread of the
 * child, until the parent ends it (child_stop). The child dies with the
 * test program, and after 120 s at the latest. */
static pid_t g_child = -1;

static void *child_conn(void *arg)
{
    struct srv_conn c;

    memset(&c, 0, sizeof c);
    serve((int)(intptr_t)arg, &c);
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

/* --------------------------------------------------------- client side */

struct cli_res {
    int hs; /* SSL_HandshakeComplete; -99/-98 set-up failed */
    int setup_err;
    int ping_rc, pong_rc, pong_err;
    int st_ok;
    SSL_CONN_STATE st;
    SslProblemS prob;
};

/* Connect, SSL_ClientStart(name), handshake. Returns the sd (or -1). */
static int cli_open(int sid, unsigned short port, const char *name, struct cli_res *r)
{
    int sd;

    memset(r, 0, sizeof *r);
    sd = tu_client(AF_INET, sid, port, &r->setup_err);
    if (sd < 0) {
        r->hs = -99;
        return -1;
    }
    if (SSL_ClientStart(sd, (char *)name, &r->setup_err) != 0)
        r->hs = -98;
    else
        r->hs = SSL_HandshakeComplete(sd, SSL_WAIT_FOREVER);
    return sd;
}

/* "ping" -> "pong" when the handshake succeeded, state snapshot, close
 * (SSL_ConnClose + wait for the server's close, or closesocket only). */
static void cli_finish(int sd, int close_only, struct cli_res *r)
{
    char buf[64];
    int err;

    if (sd < 0)
        return;
    if (r->hs == 1) {
        r->ping_rc = send(sd, "ping", 4, 0, &err);
        r->pong_rc = recv(sd, buf, sizeof buf, MSG_TIMEOUT, WAIT_MS, &r->pong_err);
        if (r->pong_rc == 4 && memcmp(buf, "pong", 4) != 0)
            r->pong_rc = -97;
    }
    tu_snapshot(sd, &r->st, &r->st_ok, &r->prob);
    if (r->hs == 1 && r->pong_rc == 4 && !close_only) {
        SSL_ConnClose(sd, &err);
        recv(sd, buf, sizeof buf, MSG_TIMEOUT, WAIT_MS, &err);
    }
    closesocket(sd, &err);
}

static void cli_conn(int sid, unsigned short port, const char *name, int close_only,
                     struct cli_res *r)
{
    int sd = cli_open(sid, port, name, r);

    cli_finish(sd, close_only, r);
}

/* A complete good connection: handshake, data both ways. */
static void want_good(const char *what, const struct cli_res *r)
{
    if (r->hs != 1 || r->ping_rc != 4 || r->pong_rc != 4 || !r->st_ok)
        fail_msg("%s: handshake %d (set-up error %d), ping %d, pong %d/%d; problem: error %d "
                 "flags 0x%x alert %d \"%s\"",
                 what, r->hs, r->setup_err, r->ping_rc, r->pong_rc, r->pong_err, r->prob.errorCode,
                 (unsigned)r->prob.certFlags, r->prob.alert, r->prob.reason);
}

/* One connection with an in-process server thread. */
static void one_conn(int lsn, unsigned short port, int cli_sid, const char *name,
                     int cli_close_only, int srv_close_only, struct cli_res *r, struct srv_conn *s)
{
    struct srv_job j;

    srv_start(&j, lsn, srv_close_only);
    cli_conn(cli_sid, port, name, cli_close_only, r);
    srv_join(&j);
    *s = j.c;
    if (!j.accepted)
        s->hs = -99;
}

/* Two ends of an established connection, both blocking, owned by the
 * calling thread. cli_sndbuf/lsn_rcvbuf: SO_SNDBUF of the client, SO_RCVBUF
 * of the listener (so of the accepted socket); 0 leaves the OS default. */
static void open_pair(struct tu_pair *p, int version, int cli_sndbuf, int lsn_rcvbuf)
{
    struct tu_opt snd[] = {{SOL_SOCKET, SO_SNDBUF, cli_sndbuf}, {0, 0, 0}};
    struct tu_opt rcv[] = {{SOL_SOCKET, SO_RCVBUF, lsn_rcvbuf}, {0, 0, 0}};

    if (tu_pair_open(p, AF_INET, version, "localhost", lsn_rcvbuf ? rcv : NULL,
                     cli_sndbuf ? snd : NULL) != 0)
        fail_msg("pair: client handshake %d (error %d), server %d", p->cli_hs, p->error, p->srv_hs);
}

/* ============================================================ 1: freshness */

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
    { "1: TLS1.2 resumed connection reports the original peerCertFlags", V12, T_NONE, 0 },
    { "1: TLS1.3 resumed connection reports the original peerCertFlags", V13, T_NONE, 0 },
    { "1: TLS1.2 option 3 turned off: no resumption, UNKNOWNCA", V12, T_OPT3_OFF, 0 },
    { "1: TLS1.3 option 3 turned off: no resumption, UNKNOWNCA", V13, T_OPT3_OFF, 0 },
    { "1: TLS1.3 option 3 turned off, ticket arrives after the change", V13, T_OPT3_OFF, 1 },
    { "1: TLS1.2 root CA deleted: no resumption", V12, T_ROOT_DEL, 0 },
    { "1: TLS1.3 root CA deleted: no resumption", V13, T_ROOT_DEL, 0 },
    { "1: TLS1.3 root CA deleted, ticket arrives after the change", V13, T_ROOT_DEL, 1 },
    { "1: TLS1.2 proposals changed: full handshake, new suite", V12, T_PROPS, 0 },
    { "1: TLS1.3 proposals changed: full handshake, new suite", V13, T_PROPS, 0 },
    { "1: TLS1.3 proposals changed, ticket arrives after the change", V13, T_PROPS, 1 },
};
/* clang-format on */

static const int props12_a[] = {0xC02F}, props12_b[] = {0xC030};
static const int props13_a[] = {0x1301}, props13_b[] = {0x1303};

/* What a connection after the change must show. */
static void check_after(const struct fresh_case *c, const char *which, const struct cli_res *r)
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
        want_good(c->desc, r);
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
    struct cli_res r1, r2, ra, rb, rc;
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
    srv_sid = new_session(&s);
    cli_sid = new_session(&k);
    lsn = tu_listener(AF_INET, srv_sid, &port, &err);
    assert_true(lsn >= 0);
    child_start(lsn);

    /* a full handshake, then a resumption: resumption works here */
    cli_conn(cli_sid, port, "localhost", 0, &r1);
    want_good(c->desc, &r1);
    cli_conn(cli_sid, port, "localhost", 0, &r2);
    want_good(c->desc, &r2);
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
        sda = cli_open(cli_sid, port, "localhost", &ra);
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
    cli_conn(cli_sid, port, "localhost", 0, &rb);
    check_after(c, "next", &rb);
    if (c->late) {
        cli_finish(sda, 0, &ra);
        want_good("connection A", &ra);
        cli_conn(cli_sid, port, "localhost", 0, &rc);
        check_after(c, "third", &rc);
    }
    child_stop();
    if (c->trig == T_ROOT_DEL)
        assert_int_equal(tu_add_cert("ca.pem", PKI_FMT_PEM, ROOT, "ca", NULL, &err), 0);
    assert_int_equal(SSL_SessionClose(cli_sid, &err), 0);
    assert_int_equal(SSL_SessionClose(srv_sid, &err), 0);
}

/* After a failed case: no child left, the root CA back. */
static int fresh_teardown(void **state)
{
    int err;

    (void)state;
    child_stop();
    tu_add_cert("ca.pem", PKI_FMT_PEM, ROOT, "ca", NULL, &err); /* EINVAL if present */
    return 0;
}

/* ============================================= 2: revoked intermediate CA */

struct crl_case {
    const char *desc;
    struct tu_scfg srv, cli;
    int server_checks; /* 1: the server refuses the client's chain, else the
                          client refuses the server's */
};

/* clang-format off */
static const struct crl_case crl_cases[] = {
    { "2: TLS1.2 server chain leaf-inter -> inter-ca (revoked) -> ca",
      { .version = V12, .cert = "leaf-inter" }, { .version = V12 }, 0 },
    { "2: TLS1.3 server chain leaf-inter -> inter-ca (revoked) -> ca",
      { .version = V13, .cert = "leaf-inter" }, { .version = V13 }, 0 },
    { "2: TLS1.2 client chain client-inter -> inter-ca (revoked) -> ca",
      { .version = V12, .cert = "srv", .opt1 = 1 }, { .version = V12, .cert = "cli-inter" }, 1 },
    { "2: TLS1.3 client chain client-inter -> inter-ca (revoked) -> ca",
      { .version = V13, .cert = "srv", .opt1 = 1 }, { .version = V13, .cert = "cli-inter" }, 1 },
};
/* clang-format on */

/* Without the CRL the chain is good; with it, refused with REVOKED; and the
 * CRL spares a certificate the root issued directly, in the same role. */
static void run_crl_case(void **state)
{
    const struct crl_case *c = *state;
    struct tu_scfg s2 = c->srv, k2 = c->cli;
    struct cli_res r, rd;
    struct srv_conn s, sd;
    unsigned short port, port2;
    int srv_sid, cli_sid, srv2_sid, cli2_sid, lsn, lsn2, err, with_crl;

    if (c->server_checks)
        k2.cert = "cli";
    else
        s2.cert = "srv";
    srv_sid = new_session(&c->srv);
    cli_sid = new_session(&c->cli);
    srv2_sid = new_session(&s2);
    cli2_sid = new_session(&k2);
    lsn = tu_listener(AF_INET, srv_sid, &port, &err);
    assert_true(lsn >= 0);
    lsn2 = tu_listener(AF_INET, srv2_sid, &port2, &err);
    assert_true(lsn2 >= 0);
    for (with_crl = 0; with_crl <= 1; with_crl++) {
        if (with_crl)
            assert_int_equal(
                tu_add_cert("crl-inter.pem", PKI_FMT_PEM, PKI_CERT_CRL, "crl-inter", "ca", &err),
                0);
        one_conn(lsn, port, cli_sid, "localhost", 0, 0, &r, &s);
        if (!with_crl) {
            /* the chain itself is good */
            want_good(c->desc, &r);
            if (s.hs != 1 || !s.got_ping)
                fail_msg("%s: without the CRL the server's handshake gave %d", c->desc, s.hs);
            continue;
        }
        if (s.hs != -3)
            fail_msg("%s: server handshake %d, want -3 (problem flags 0x%x)", c->desc, s.hs,
                     (unsigned)s.prob.certFlags);
        if (r.pong_rc == 4)
            fail_msg("%s: data went through a refused connection", c->desc);
        if (c->server_checks) {
            if (!(s.prob.certFlags & PKI_CERT_REVOKED))
                fail_msg("%s: server problem certFlags 0x%x lack REVOKED (\"%s\")", c->desc,
                         (unsigned)s.prob.certFlags, s.prob.reason);
        } else {
            if (r.hs != -3)
                fail_msg("%s: client handshake %d, want -3", c->desc, r.hs);
            if (!(r.prob.certFlags & PKI_CERT_REVOKED))
                fail_msg("%s: client problem certFlags 0x%x lack REVOKED (\"%s\")", c->desc,
                         (unsigned)r.prob.certFlags, r.prob.reason);
        }
        /* the root's CRL spares what the root issued directly */
        one_conn(lsn2, port2, cli2_sid, "localhost", 0, 0, &rd, &sd);
        want_good("certificate issued by the root directly, crl-inter in the PKI", &rd);
        if (sd.hs != 1 || rd.st.peerCertFlags != 0 || sd.st.peerCertFlags != 0)
            fail_msg("%s: direct certificate: server handshake %d, peerCertFlags client 0x%x "
                     "server 0x%x",
                     c->desc, sd.hs, (unsigned)rd.st.peerCertFlags, (unsigned)sd.st.peerCertFlags);
    }
    assert_int_equal(PKI_CertificateDel("crl-inter", PKI_CERT_NONLOCAL, &err), 0);
    closesocket(lsn, &err);
    closesocket(lsn2, &err);
    SSL_SessionClose(cli_sid, &err);
    SSL_SessionClose(srv_sid, &err);
    SSL_SessionClose(cli2_sid, &err);
    SSL_SessionClose(srv2_sid, &err);
}

static int crl_teardown(void **state)
{
    int err;

    (void)state;
    PKI_CertificateDel("crl-inter", PKI_CERT_NONLOCAL, &err); /* ENOENT when gone */
    return 0;
}

/* ================================================ 3: fail closed, no session */

struct noplain_case {
    const char *desc;
    int server; /* 1: accepted from a TCP_SSL_SERVER listener, 0: TCP_SSL_CLIENT */
    int nonblocking;
};

static const struct noplain_case noplain_cases[] = {
    {"3: TCP_SSL_CLIENT without TCP_SSLSESSION sends/reads no plaintext", 0, 0},
    {"3: TCP_SSL_CLIENT without TCP_SSLSESSION, non-blocking", 0, 1},
    {"3: TCP_SSL_SERVER (inherited) without TCP_SSLSESSION sends/reads no plaintext", 1, 0},
    {"3: TCP_SSL_SERVER (inherited) without TCP_SSLSESSION, non-blocking", 1, 1},
};

static void run_noplain_case(void **state)
{
    const struct noplain_case *c = *state;
    unsigned short port;
    int lsn, ssl, peer, err, v = 0, rc;
    char buf[64];

    lsn = tu_listener(AF_INET, 0, &port, &err);
    assert_true(lsn >= 0);
    if (c->server) {
        assert_int_equal(tu_setopt(lsn, TCP_SSL_SERVER, 1, &err), 0);
        peer = tu_client(AF_INET, 0, port, &err);
        assert_true(peer >= 0);
        ssl = accept(lsn, NULL, &err);
        assert_true(ssl >= 0);
        assert_int_equal(tu_getopt(ssl, TCP_SSL_SERVER, &v, &err), 0);
        assert_int_equal(v, 1);
    } else {
        struct sockaddr_in a;

        ssl = opensocket(SOCK_STREAM, &err);
        assert_true(ssl >= 0);
        assert_int_equal(tu_setopt(ssl, TCP_SSL_CLIENT, 1, &err), 0);
        memset(&a, 0, sizeof a);
        a.sin_family = AF_INET;
        a.sin_port = htons(port);
        a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        assert_int_equal(connect(ssl, &a, &err), 0);
        peer = accept(lsn, NULL, &err);
        assert_true(peer >= 0);
    }
    assert_int_equal(tu_getopt(ssl, TCP_SSLSESSION, &v, &err), 0);
    assert_int_equal(v, 0);
    if (c->nonblocking)
        assert_int_equal(Set_Blocking_Mode(ssl, 1, &err), 0);

    /* the peer talks plaintext first: the SSL socket must not deliver it */
    assert_int_equal(send(peer, "hello", 5, 0, &err), 5);
    assert_true(tu_readable(ssl, WAIT_MS));

    err = GARBAGE;
    assert_int_equal(send(ssl, "secret", 6, 0, &err), -1);
    assert_int_equal(err, API_EPERM);
    err = GARBAGE;
    assert_int_equal(send(ssl, "secret", 6, MSG_DONTWAIT, &err), -1);
    assert_int_equal(err, API_EPERM);
    err = GARBAGE;
    rc = recv(ssl, buf, sizeof buf, MSG_TIMEOUT, WAIT_MS, &err);
    if (rc != -1 || err != API_EPERM)
        fail_msg("%s: recv MSG_TIMEOUT gave %d/%d, want -1/API_EPERM", c->desc, rc, err);
    err = GARBAGE;
    rc = recv(ssl, buf, sizeof buf, MSG_DONTWAIT, 0, &err);
    if (rc != -1 || err != API_EPERM)
        fail_msg("%s: recv MSG_DONTWAIT gave %d/%d, want -1/API_EPERM", c->desc, rc, err);
    if (c->nonblocking) {
        err = GARBAGE;
        rc = recv(ssl, buf, sizeof buf, 0, 0, &err);
        if (rc != -1 || err != API_EPERM)
            fail_msg("%s: non-blocking recv gave %d/%d, want -1/API_EPERM", c->desc, rc, err);
    }

    /* "hello" still waits in the socket (read with the C library's read()
     * on the descriptor): nothing consumed it */
    rc = (int)read(ssl, buf, sizeof buf);
    if (rc != 5 || memcmp(buf, "hello", 5) != 0)
        fail_msg("%s: the plaintext the peer sent was consumed (read() gave %d)", c->desc, rc);
    /* the peer received nothing before the end of the stream */
    closesocket(ssl, &err);
    rc = recv(peer, buf, sizeof buf, MSG_TIMEOUT, WAIT_MS, &err);
    if (rc != 0)
        fail_msg("%s: the peer received %d bytes (error %d), want the end of stream only", c->desc,
                 rc, err);
    closesocket(peer, &err);
    closesocket(lsn, &err);
}

/* ===================================================== 4: recv clears *error */

enum { READ_CLIENT, READ_SERVER };

struct recv_case {
    const char *desc;
    int version;
    int reader;
    int flags;
};

/* clang-format off */
static const struct recv_case recv_cases[] = {
    { "4: TLS1.2 client recv MSG_TIMEOUT", V12, READ_CLIENT, MSG_TIMEOUT },
    { "4: TLS1.3 client recv MSG_TIMEOUT", V13, READ_CLIENT, MSG_TIMEOUT },
    { "4: TLS1.3 client recv MSG_BLOCKING", V13, READ_CLIENT, MSG_BLOCKING },
    { "4: TLS1.3 client recv flags 0 (blocking socket)", V13, READ_CLIENT, 0 },
    { "4: TLS1.2 client recv MSG_DONTWAIT", V12, READ_CLIENT, MSG_DONTWAIT },
    { "4: TLS1.3 client recv MSG_DONTWAIT", V13, READ_CLIENT, MSG_DONTWAIT },
    { "4: TLS1.3 client recv MSG_TIMEOUT|MSG_PEEK", V13, READ_CLIENT, MSG_TIMEOUT | MSG_PEEK },
    { "4: TLS1.2 server recv MSG_TIMEOUT", V12, READ_SERVER, MSG_TIMEOUT },
    { "4: TLS1.3 server recv MSG_TIMEOUT", V13, READ_SERVER, MSG_TIMEOUT },
    { "4: TLS1.3 server recv MSG_DONTWAIT|MSG_PEEK", V13, READ_SERVER, MSG_DONTWAIT | MSG_PEEK },
};
/* clang-format on */

/* recv with *error = GARBAGE; on EWOULDBLOCK (MSG_DONTWAIT: the record may
 * not be complete yet) wait and try again. */
static int recv_garbage(int sd, char *buf, int len, int flags, int *err)
{
    double t0 = tu_now();
    int rc;

    for (;;) {
        *err = GARBAGE;
        rc = recv(sd, buf, len, flags, WAIT_MS, err);
        if (!(rc == -1 && *err == API_EWOULDBLOCK && (flags & MSG_DONTWAIT)) ||
            tu_now() - t0 > WAIT_MS / 1000.0)
            return rc;
        tu_readable(sd, 100);
    }
}

static void run_recv_case(void **state)
{
    const struct recv_case *c = *state;
    struct tu_pair p;
    char buf[64];
    int reader, writer, err, rc;

    open_pair(&p, c->version, 0, 0);
    reader = c->reader == READ_CLIENT ? p.cli : p.srv;
    writer = c->reader == READ_CLIENT ? p.srv : p.cli;
    assert_int_equal(send(writer, "abc", 3, 0, &err), 3);
    rc = recv_garbage(reader, buf, sizeof buf, c->flags, &err);
    if (rc <= 0 || err != 0)
        fail_msg("%s: recv returned %d with *error %d, want > 0 with *error 0", c->desc, rc, err);
    if (c->flags & MSG_PEEK) {
        rc = recv_garbage(reader, buf, sizeof buf, c->flags & ~MSG_PEEK, &err);
        if (rc <= 0 || err != 0)
            fail_msg("%s: recv after the peek returned %d with *error %d", c->desc, rc, err);
    }
    assert_memory_equal(buf, "abc", (size_t)rc);
    tu_pair_close(&p);
}

/* The server's first call is recv: it drives the handshake and then
 * delivers data; *error is 0 afterwards. */
struct lazy_job {
    pthread_t tid;
    int lsn, rc, err;
    char buf[16];
};

static void *lazy_main(void *arg)
{
    struct lazy_job *j = arg;
    int sd, e;

    j->rc = -99;
    if (!tu_readable(j->lsn, WAIT_MS))
        return NULL;
    sd = accept(j->lsn, NULL, &e);
    if (sd < 0)
        return NULL;
    j->err = GARBAGE;
    j->rc = recv(sd, j->buf, sizeof j->buf, MSG_TIMEOUT, WAIT_MS, &j->err);
    closesocket(sd, &e);
    return NULL;
}

static void test_recv_driving_handshake_clears_error(void **state)
{
    struct tu_scfg s = {.cert = "srv"}, k = {0};
    struct lazy_job j;
    struct cli_res r;
    unsigned short port;
    int srv_sid, cli_sid, err, sd;

    (void)state;
    srv_sid = new_session(&s);
    cli_sid = new_session(&k);
    memset(&j, 0, sizeof j);
    j.lsn = tu_listener(AF_INET, srv_sid, &port, &err);
    assert_true(j.lsn >= 0);
    assert_int_equal(pthread_create(&j.tid, NULL, lazy_main, &j), 0);
    sd = cli_open(cli_sid, port, "localhost", &r);
    if (r.hs == 1)
        send(sd, "abc", 3, 0, &err);
    pthread_join(j.tid, NULL);
    if (sd >= 0)
        closesocket(sd, &err);
    closesocket(j.lsn, &err);
    SSL_SessionClose(cli_sid, &err);
    SSL_SessionClose(srv_sid, &err);
    assert_int_equal(r.hs, 1);
    if (j.rc != 3 || j.err != 0)
        fail_msg("4: server's first recv returned %d with *error %d, want 3 with 0", j.rc, j.err);
}

/* ====================================== 5: closesocket keeps sessions resumable */

struct close_case {
    const char *desc;
    int version;
    int cli_close_only, srv_close_only;
};

/* clang-format off */
static const struct close_case close_cases[] = {
    { "5: TLS1.2 client closes with closesocket only", V12, 1, 0 },
    { "5: TLS1.3 client closes with closesocket only", V13, 1, 0 },
    { "5: TLS1.2 server closes with closesocket only", V12, 0, 1 },
    { "5: TLS1.3 server closes with closesocket only", V13, 0, 1 },
    { "5: TLS1.2 both close with closesocket only", V12, 1, 1 },
    { "5: TLS1.3 both close with closesocket only", V13, 1, 1 },
};
/* clang-format on */

static void run_close_case(void **state)
{
    const struct close_case *c = *state;
    struct tu_scfg s = {.version = c->version, .cert = "srv", .caches = 10};
    struct tu_scfg k = {.version = c->version, .caches = 10};
    struct cli_res r[3];
    struct srv_conn sc[3];
    unsigned short port;
    int srv_sid, cli_sid, lsn, err, i;

    srv_sid = new_session(&s);
    cli_sid = new_session(&k);
    lsn = tu_listener(AF_INET, srv_sid, &port, &err);
    assert_true(lsn >= 0);
    for (i = 0; i < 3; i++)
        one_conn(lsn, port, cli_sid, "localhost", c->cli_close_only, c->srv_close_only, &r[i],
                 &sc[i]);
    closesocket(lsn, &err);
    SSL_SessionClose(cli_sid, &err);
    SSL_SessionClose(srv_sid, &err);
    for (i = 0; i < 3; i++) {
        want_good(c->desc, &r[i]);
        if (sc[i].hs != 1 || !sc[i].got_ping)
            fail_msg("%s: connection %d: server handshake %d", c->desc, i + 1, sc[i].hs);
    }
    if (r[0].st.resumed != 0 || r[1].st.resumed != 1 || r[2].st.resumed != 1 ||
        sc[0].st.resumed != 0 || sc[1].st.resumed != 1 || sc[2].st.resumed != 1)
        fail_msg("%s: resumed client %d/%d/%d server %d/%d/%d, want 0/1/1 on both", c->desc,
                 r[0].st.resumed, r[1].st.resumed, r[2].st.resumed, sc[0].st.resumed,
                 sc[1].st.resumed, sc[2].st.resumed);
}

/* ============================================ 6: refused own certificate */

static void test_sha1_own_certificate(void **state)
{
    SSL_SESSION_NEW_Entry e = {.certIdentity = "sha1", .maxCaches = 0, .version = V_BOTH};
    SSL_SESSION_NEW_Entry plain = {.certIdentity = NULL, .maxCaches = 0, .version = V_BOTH};
    int err, rc, a, b;

    (void)state;
    rc = tu_add_local("sha1.key", PKI_KEY_EC, "sha1.pem", "sha1", "ca", &err);
    if (rc != 0)
        fail_msg("6: PKI_CertificateAdd(sha1.pem) returned %d (0x%x), want 0", rc, (unsigned)err);
    a = SSL_SessionNew(&plain, &err);
    assert_true(a >= 1);
    err = GARBAGE;
    rc = SSL_SessionNew(&e, &err);
    if (rc != -1 || err != API_EINVAL) {
        if (rc >= 1)
            SSL_SessionClose(rc, &err);
        PKI_CertificateDel("sha1", PKI_CERT_LOCAL, &err);
        SSL_SessionClose(a, &err);
        fail_msg("6: SSL_SessionNew naming a SHA-1 signed certificate returned %d, want -1 "
                 "API_EINVAL",
                 rc);
    }
    /* the refused session took no slot */
    b = SSL_SessionNew(&plain, &err);
    assert_int_equal(b, a + 1);
    SSL_SessionClose(b, &err);
    SSL_SessionClose(a, &err);
    assert_int_equal(PKI_CertificateDel("sha1", PKI_CERT_LOCAL, &err), 0);
}

/* ================================ 7: handshake limit on non-blocking calls */

enum { OP_RECV, OP_SEND };

struct limit_case {
    const char *desc;
    int server; /* 1: accepted socket, silent client; 0: client, silent server */
    int nonblocking;
    int op, flags;
};

/* clang-format off */
static const struct limit_case limit_cases[] = {
    { "7: non-blocking server socket, recv", 1, 1, OP_RECV, 0 },
    { "7: blocking server socket, recv MSG_DONTWAIT", 1, 0, OP_RECV, MSG_DONTWAIT },
    { "7: non-blocking server socket, send", 1, 1, OP_SEND, 0 },
    { "7: blocking server socket, send MSG_DONTWAIT", 1, 0, OP_SEND, MSG_DONTWAIT },
    { "7: non-blocking client socket, recv", 0, 1, OP_RECV, 0 },
    { "7: blocking client socket, recv MSG_DONTWAIT", 0, 0, OP_RECV, MSG_DONTWAIT },
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

    sid = new_session(c->server ? &s : &k);
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

/* ===================================== 8: listeners never start TLS */

static void test_listener_handshake_complete(void **state)
{
    struct tu_scfg s1 = {.cert = "srv"}, s2 = {.cert = "srv-ec"}, k = {0};
    struct srv_job j;
    struct cli_res r;
    unsigned short port;
    int sid1, sid2, cli_sid, lsn, err, v = 0, rc0, rc1;

    (void)state;
    sid1 = new_session(&s1);
    sid2 = new_session(&s2);
    cli_sid = new_session(&k);
    lsn = tu_listener(AF_INET, sid1, &port, &err);
    assert_true(lsn >= 0);

    rc0 = SSL_HandshakeComplete(lsn, 0);
    rc1 = SSL_HandshakeComplete(lsn, 50);
    if (rc0 != 0 || rc1 != 0)
        fail_msg("8: SSL_HandshakeComplete on a listener returned %d and %d, want 0", rc0, rc1);
    /* the listener's SSL options can still change */
    assert_int_equal(tu_setopt(lsn, TCP_SSL_SERVER, 1, &err), 0);
    assert_int_equal(tu_setopt(lsn, TCP_SSLSESSION, sid2, &err), 0);
    assert_int_equal(tu_getopt(lsn, TCP_SSLSESSION, &v, &err), 0);
    assert_int_equal(v, sid2);
    assert_int_equal(tu_setopt(lsn, TCP_SSL_SEND_MAX_SIZE, 4096, &err), 0);

    /* accepted sockets still handshake, with the new session */
    srv_start(&j, lsn, 0);
    cli_conn(cli_sid, port, "localhost", 0, &r);
    srv_join(&j);
    closesocket(lsn, &err);
    SSL_SessionClose(cli_sid, &err);
    SSL_SessionClose(sid1, &err);
    SSL_SessionClose(sid2, &err);
    want_good("8: connection through the listener", &r);
    if (j.c.hs != 1 || j.c.st.sessionID != sid2)
        fail_msg("8: accepted socket: handshake %d, session %d (want 1, %d)", j.c.hs,
                 j.c.st.sessionID, sid2);
}

/* =========================================== 9: EC own keys: TLS curves only */

struct key_case {
    const char *desc;
    const char *key;
    int fmt;
    const char *cert; /* matching certificate (takes the key) or NULL */
    int want_rc, want_err;
};

/* clang-format off */
static const struct key_case key_cases[] = {
    { "secp256k1", "ec-secp256k1.key", PKI_FMT_PEM, NULL, -1, API_EINVAL },
    { "secp256k1 (memory)", "ec-secp256k1.key", PKI_FMT_PEM | PKI_FMT_MEMORY, NULL, -1,
      API_EINVAL },
    { "brainpoolP256r1", "ec-brainpoolP256r1.key", PKI_FMT_PEM, NULL, -1, API_EINVAL },
    { "brainpoolP256r1 (memory)", "ec-brainpoolP256r1.key", PKI_FMT_PEM | PKI_FMT_MEMORY, NULL,
      -1, API_EINVAL },
    { "P-256", "server-ec.key", PKI_FMT_PEM, "server-ec.pem", 0, 0 },
    { "P-384", "ec-p384.key", PKI_FMT_PEM, "ec-p384.pem", 0, 0 },
    { "P-521", "ec-p521.key", PKI_FMT_PEM, "ec-p521.pem", 0, 0 },
};
/* clang-format on */

/* Every row is tried; the mismatches are reported together. An accepted
 * key is taken again by its certificate (no key is left pending) and used
 * for a session. */
static void test_ec_key_curves(void **state)
{
    char bad[1024] = "";
    size_t i, used = 0;

    (void)state;
    for (i = 0; i < sizeof key_cases / sizeof key_cases[0]; i++) {
        const struct key_case *c = &key_cases[i];
        int err = GARBAGE, rc;

        rc = tu_add_key(c->key, c->fmt, PKI_KEY_EC, &err);
        if (rc != c->want_rc || err != c->want_err)
            used += (size_t)snprintf(bad + used, sizeof bad - used, " %s: %d/%d, want %d/%d;",
                                     c->desc, rc, err, c->want_rc, c->want_err);
        if (used >= sizeof bad)
            used = sizeof bad - 1;
        if (rc == 0 && c->cert) {
            SSL_SESSION_NEW_Entry e = {
                .certIdentity = "key-case", .maxCaches = 0, .version = V_BOTH};
            int sid;

            assert_int_equal(
                tu_add_cert(c->cert, PKI_FMT_PEM, PKI_CERT_LOCAL, "key-case", "ca", &err), 0);
            sid = SSL_SessionNew(&e, &err);
            assert_true(sid >= 1);
            SSL_SessionClose(sid, &err);
            assert_int_equal(PKI_CertificateDel("key-case", PKI_CERT_LOCAL, &err), 0);
        }
    }
    if (bad[0])
        fail_msg("9: PKI_OwnKeyPairAdd(PKI_KEY_EC) gave (result/error):%s", bad);
}

/* ============================= 10: SSL_GetWaitEvents and pending output */

struct wait_case {
    const char *desc;
    int version;
};

static const struct wait_case wait_cases[] = {
    {"10: TLS1.2 SSL_GetWaitEvents with output pending", V12},
    {"10: TLS1.3 SSL_GetWaitEvents with output pending", V13},
};

static void run_wait_case(void **state)
{
    const struct wait_case *c = *state;
    static char chunk[16384];
    struct tu_pair p;
    long long total = 0;
    int err, rc, ev_send, ev_recv, ev_flush, rc_recv, err_recv, rc_flush, err_flush;
    char buf[64];

    memset(chunk, 'z', sizeof chunk);
    open_pair(&p, c->version, 4096, 4096);
    assert_int_equal(Set_Blocking_Mode(p.cli, 1, &err), 0);
    /* the server does not read: fill until send would block */
    for (;;) {
        rc = send(p.cli, chunk, (int)sizeof chunk, 0, &err);
        if (rc > 0) {
            total += rc;
            if (total > 256LL * 1024 * 1024)
                fail_msg("%s: 256 MiB accepted and still no API_EWOULDBLOCK", c->desc);
            continue;
        }
        if (rc == -1 && err == API_EWOULDBLOCK)
            break;
        fail_msg("%s: non-blocking send returned %d with error %d", c->desc, rc, err);
    }
    ev_send = SSL_GetWaitEvents(p.cli, &err);
    /* a read that finds nothing must not hide the pending output */
    rc_recv = recv(p.cli, buf, sizeof buf, MSG_DONTWAIT, 0, &err_recv);
    ev_recv = SSL_GetWaitEvents(p.cli, &err);
    rc_flush = SSL_SendFlush(p.cli, &err_flush);
    ev_flush = SSL_GetWaitEvents(p.cli, &err);
    tu_pair_close(&p);
    if (rc_recv != -1 || err_recv != API_EWOULDBLOCK)
        fail_msg("%s: recv gave %d/%d, want -1/EWOULDBLOCK", c->desc, rc_recv, err_recv);
    if (rc_flush != -1 || err_flush != API_EWOULDBLOCK)
        fail_msg("%s: SSL_SendFlush gave %d/%d, want -1/EWOULDBLOCK", c->desc, rc_flush, err_flush);
    if (ev_send < 0 || !(ev_send & POLLOUT) || ev_recv < 0 || !(ev_recv & POLLOUT) ||
        ev_flush < 0 || !(ev_flush & POLLOUT))
        fail_msg("%s: SSL_GetWaitEvents 0x%x after send, 0x%x after recv, 0x%x after "
                 "SSL_SendFlush; each must include POLLOUT (0x%x)",
                 c->desc, (unsigned)ev_send, (unsigned)ev_recv, (unsigned)ev_flush,
                 (unsigned)POLLOUT);
}

/* ================================================================= main */

struct local_cert {
    const char *id, *key, *cert, *caid;
    int keytype;
};

/* clang-format off */
static const struct local_cert locals[] = {
    { "srv", "server.key", "server.pem", "ca", PKI_KEY_RSA },
    { "srv-ec", "server-ec.key", "server-ec.pem", "ca", PKI_KEY_EC },
    { "srv-unk", "server-unknownca.key", "server-unknownca.pem", NULL, PKI_KEY_EC },
    { "leaf-inter", "leaf-inter.key", "leaf-inter.pem", "inter", PKI_KEY_EC },
    { "cli-inter", "client-inter.key", "client-inter.pem", "inter", PKI_KEY_EC },
    { "cli", "client.key", "client.pem", "ca", PKI_KEY_RSA },
};
/* clang-format on */

static int group_setup(void **state)
{
    int err;
    size_t i;

    (void)state;
    signal(SIGPIPE, SIG_IGN);
    if (tu_add_cert("ca.pem", PKI_FMT_PEM, ROOT, "ca", NULL, &err) != 0 ||
        tu_add_cert("inter-ca.pem", PKI_FMT_PEM, PKI_CERT_NONLOCAL, "inter", "ca", &err) != 0) {
        print_error("setup: CAs: %d\n", err);
        return -1;
    }
    for (i = 0; i < sizeof locals / sizeof locals[0]; i++) {
        const struct local_cert *l = &locals[i];

        if (tu_add_local(l->key, l->keytype, l->cert, l->id, l->caid, &err) != 0) {
            print_error("setup: own certificate %s (%s): %d\n", l->id, l->cert, err);
            return -1;
        }
    }
    return 0;
}

static int group_teardown(void **state)
{
    int err;
    size_t i;

    (void)state;
    for (i = 0; i < sizeof locals / sizeof locals[0]; i++)
        PKI_CertificateDel((void *)locals[i].id, PKI_CERT_LOCAL, &err);
    PKI_CertificateDel("inter", PKI_CERT_NONLOCAL, &err);
    PKI_CertificateDel("ca", PKI_CERT_NONLOCAL, &err);
    return 0;
}

#define N(a) (sizeof(a) / sizeof((a)[0]))

static struct CMUnitTest tests[128];
static size_t ntests;

static void add(const char *name, CMUnitTestFunction f, void *st, CMFixtureFunction teardown)
{
    if (ntests == N(tests)) {
        fprintf(stderr, "test_regressions: too many tests\n");
        exit(1);
    }
    tests[ntests].name = name;
    tests[ntests].test_func = f;
    tests[ntests].setup_func = NULL;
    tests[ntests].teardown_func = teardown;
    tests[ntests].initial_state = st;
    ntests++;
}

int main(void)
{
    size_t i;

    tu_require_pki();
    for (i = 0; i < N(fresh_cases); i++)
        add(fresh_cases[i].desc, run_fresh_case, (void *)&fresh_cases[i], fresh_teardown);
    for (i = 0; i < N(crl_cases); i++)
        add(crl_cases[i].desc, run_crl_case, (void *)&crl_cases[i], crl_teardown);
    for (i = 0; i < N(noplain_cases); i++)
        add(noplain_cases[i].desc, run_noplain_case, (void *)&noplain_cases[i], NULL);
    for (i = 0; i < N(recv_cases); i++)
        add(recv_cases[i].desc, run_recv_case, (void *)&recv_cases[i], NULL);
    add("4: recv that drives the handshake clears *error", test_recv_driving_handshake_clears_error,
        NULL, NULL);
    for (i = 0; i < N(close_cases); i++)
        add(close_cases[i].desc, run_close_case, (void *)&close_cases[i], NULL);
    add("6: SHA-1 signed own certificate: added, refused by SSL_SessionNew",
        test_sha1_own_certificate, NULL, NULL);
    for (i = 0; i < N(limit_cases); i++)
        add(limit_cases[i].desc, run_limit_case, (void *)&limit_cases[i], NULL);
    add("8: SSL_HandshakeComplete on a listener", test_listener_handshake_complete, NULL, NULL);
    add("9: EC own keys on P-256/P-384/P-521 only", test_ec_key_curves, NULL, NULL);
    for (i = 0; i < N(wait_cases); i++)
        add(wait_cases[i].desc, run_wait_case, (void *)&wait_cases[i], NULL);
    return _cmocka_run_group_tests("regressions", tests, ntests, group_setup, group_teardown);
}
