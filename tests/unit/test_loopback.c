/*
 * test_loopback.c - a chipssl client and a chipssl server in one process,
 * over the loopback interface, using only the calls of tcpip.h (after libtls
 * regress tlstest.c, which runs both ends in one program).
 *
 * The handshake cases are a table: each row gives the server's and the
 * client's session (versions, certificate, options, proposals), the name
 * given to SSL_ClientStart, and what both ends must report. The server end
 * runs in a thread; cmocka assertions are made only in the main thread,
 * after the server thread has been joined. The other tests (hold-back,
 * non-blocking, recv time-outs, big transfer, options, changes between
 * handshakes, ...) follow the table. Elsewhere: option 2 and refused lists
 * (test_proposals.c), how a connection ends (test_close.c), time limits
 * (test_handshake_limits.c), resumption beyond the plain cases
 * (test_resumption.c), CRLs along chains (test_trust.c).
 */
#define _POSIX_C_SOURCE 200809L

#include <poll.h>
#include <pthread.h>
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
#define V_BOTH (SSL_VERSION_TLS12 | SSL_VERSION_TLS13)
#define WAIT_MS 5000

/* ------------------------------------------------------------- sessions */

struct side {
    int version;           /* SSL_VERSION_* mask; 0: TLS 1.2 + 1.3        */
    const char *cert;      /* certIdentity                                */
    int caches;            /* maxCaches                                   */
    int opt1, opt3;        /* SSL_SessionOpt options 1 and 3 (2: test_proposals.c) */
    const char *client_ca; /* SSL_AddClientCA (server)                    */
    const int *props;      /* SSL_SessionProp list, nprops entries        */
    int nprops;
};

/* Create the session of s; fails the test on error. */
static int make_session(const struct side *s)
{
    struct tu_scfg c = {.version = s->version,
                        .cert = s->cert,
                        .caches = s->caches,
                        .opt1 = s->opt1,
                        .opt3 = s->opt3,
                        .client_ca = s->client_ca,
                        .props = s->props,
                        .nprops = s->nprops};
    char msg[256];
    int sid, err;

    sid = tu_session_new(&c, &err);
    if (sid == TU_SN_NEW)
        fail_msg("SSL_SessionNew(%s, version 0x%x) failed: %d", s->cert ? s->cert : "NULL",
                 (unsigned)(s->version != 0 ? s->version : V_BOTH), err);
    if (sid < 1)
        fail_msg("%s", tu_session_msg(msg, sizeof msg, sid, &c, err));
    return sid;
}

/* ---------------------------------------------------------- server thread */

enum { SRV_ECHO, SRV_LAZY };

struct srv_job {
    int lsn;
    int mode; /* SRV_ECHO: accept, handshake, "ping" -> "pong", close;
                 SRV_LAZY: as ECHO without calling
                 SSL_HandshakeComplete first              */
    pthread_t tid;
    /* results */
    int sd, accept_err;
    int hs, hs_again;
    int server_opt; /* TCP_SSL_SERVER read back on the accepted sd */
    int got_ping;
    int eof_rc, eof_err;
    int st_ok;
    SSL_CONN_STATE st;
    SslProblemS prob;
};

static void *srv_main(void *arg)
{
    struct srv_job *j = arg;
    char buf[64];
    int err, n;

    j->sd = accept(j->lsn, NULL, &j->accept_err);
    if (j->sd < 0)
        return NULL;
    tu_getopt(j->sd, TCP_SSL_SERVER, &j->server_opt, &err);
    if (j->mode != SRV_LAZY) {
        j->hs = SSL_HandshakeComplete(j->sd, SSL_WAIT_FOREVER);
        j->hs_again = SSL_HandshakeComplete(j->sd, 0);
    }
    if (j->hs == 1 || j->mode == SRV_LAZY) {
        n = recv(j->sd, buf, sizeof buf, MSG_TIMEOUT, WAIT_MS, &err);
        j->got_ping = n == 4 && memcmp(buf, "ping", 4) == 0;
        if (j->got_ping)
            send(j->sd, "pong", 4, 0, &err);
        if (j->mode == SRV_LAZY)
            j->hs = SSL_HandshakeComplete(j->sd, 0);
        /* wait for the client's close (close_notify, then its FIN) */
        j->eof_rc = recv(j->sd, buf, sizeof buf, MSG_TIMEOUT, WAIT_MS, &j->eof_err);
    }
    tu_snapshot(j->sd, &j->st, &j->st_ok, &j->prob);
    if (j->hs == 1)
        SSL_ConnClose(j->sd, &err);
    closesocket(j->sd, &err);
    j->sd = -1;
    return NULL;
}

static void srv_start(struct srv_job *j, int lsn, int mode)
{
    memset(j, 0, sizeof *j);
    j->lsn = lsn;
    j->mode = mode;
    j->sd = -1;
    assert_int_equal(pthread_create(&j->tid, NULL, srv_main, j), 0);
}

static void srv_join(struct srv_job *j)
{
    pthread_join(j->tid, NULL);
}

/* IPv6 loopback usable? (probed once) */
static int ipv6_ok(void)
{
    static int known = -1;
    unsigned short port;
    int err, sd;

    if (known < 0) {
        sd = tu_listener(AF_INET6, 0, &port, &err);
        known = sd >= 0;
        if (sd >= 0)
            closesocket(sd, &err);
    }
    return known;
}

/* ------------------------------------------------------- handshake table */

struct hs_case {
    const char *desc;
    struct side srv, cli;
    const char *name;             /* SSL_ClientStart name (NULL: no name check)  */
    int ipv6;                     /* over ::1                                    */
    int lazy;                     /* no SSL_HandshakeComplete: send/recv drive it */
    int want_cli, want_srv;       /* SSL_HandshakeComplete results (1 or -3)     */
    int cli_may_finish;           /* TLS 1.3 client auth refused: the client's
                                     handshake is over when the server rejects
                                     its certificate (RFC 8446 4.4.4), so it may
                                     see 1; its first recv must then fail      */
    int want_version;             /* negotiated SSL_VERSION_*, 0: don't check    */
    int want_suite;               /* IANA number, 0: don't check                */
    int want_cli_flags;           /* PKI_CERT_* flags that must all be set in the
                                     client's problem.certFlags                 */
    int want_cli_flags_any;       /* at least one of these must be set          */
    int want_cli_alert;           /* alert the client received, 0: don't check   */
    int cli_recv_first;           /* a client whose handshake is over reads before
                                     it writes (see cli_may_finish)             */
    int want_srv_alert;           /* alert the server sent, 0: don't check       */
    int want_sni;                 /* 1: server saw `name` as SNI, 2: saw none    */
    const char *want_srv_subject; /* in the client's peerSubject            */
    const char *want_cli_subject; /* in the server's peerSubject            */
    int reconnect;                /* connect a second time with the same sessions */
    const char *name2;            /* ... giving this name (NULL: `name` again)   */
    int want_resumed;             /* ... and expect this `resumed` value         */
};

#define P(...)                                                                                     \
    .props = (const int[]){__VA_ARGS__},                                                           \
    .nprops = (int)(sizeof((const int[]){__VA_ARGS__}) / sizeof(int))

/* clang-format off */
static const struct hs_case hs_cases[] = {
    /* versions */
    { .desc = "TLS1.2 RSA", .srv = { .version = V12, .cert = "srv" },
      .cli = { .version = V12 }, .name = "localhost", .want_cli = 1, .want_srv = 1,
      .want_version = V12, .want_suite = 0xC02F, .want_sni = 1,
      .want_srv_subject = "CN=localhost" },
    { .desc = "TLS1.3 RSA", .srv = { .version = V13, .cert = "srv" },
      .cli = { .version = V13 }, .name = "localhost", .want_cli = 1, .want_srv = 1,
      .want_version = V13, .want_suite = 0x1301, .want_sni = 1,
      .want_srv_subject = "CN=localhost" },
    { .desc = "TLS1.2+1.3 negotiates 1.3", .srv = { .cert = "srv" }, .cli = { 0 },
      .name = "localhost", .want_cli = 1, .want_srv = 1, .want_version = V13 },
    { .desc = "original version = 3 on both ends", .srv = { .version = 3, .cert = "srv" },
      .cli = { .version = 3 }, .name = "localhost", .want_cli = 1, .want_srv = 1,
      .want_version = V13 },
    { .desc = "client version 3, server TLS1.2 only", .srv = { .version = V12, .cert = "srv" },
      .cli = { .version = 3 }, .name = "localhost", .want_cli = 1, .want_srv = 1,
      .want_version = V12 },
    { .desc = "obsolete bits beside TLS1.2 ignored", .srv = { .version = V13, .cert = "srv" },
      .cli = { .version = 0x0F }, .name = "localhost", .want_cli = -3, .want_srv = -3,
      .want_cli_alert = 70 },
    { .desc = "client TLS1.2 only, server TLS1.3 only", .srv = { .version = V13, .cert = "srv" },
      .cli = { .version = V12 }, .name = "localhost", .want_cli = -3, .want_srv = -3,
      .want_cli_alert = 70, .want_srv_alert = 70 },
    /* key types */
    { .desc = "TLS1.2 ECDSA server", .srv = { .version = V12, .cert = "srv-ec" },
      .cli = { .version = V12 }, .name = "localhost", .want_cli = 1, .want_srv = 1,
      .want_suite = 0xC02B },
    { .desc = "TLS1.3 ECDSA server", .srv = { .version = V13, .cert = "srv-ec" },
      .cli = { .version = V13 }, .name = "localhost", .want_cli = 1, .want_srv = 1 },
    { .desc = "TLS1.3 Ed25519 server", .srv = { .version = V13, .cert = "ed" },
      .cli = { .version = V13 }, .name = "localhost", .want_cli = 1, .want_srv = 1 },
    { .desc = "TLS1.2 Ed25519 server", .srv = { .version = V12, .cert = "ed" },
      .cli = { .version = V12 }, .name = "localhost", .want_cli = 1, .want_srv = 1 },
    /* names */
    { .desc = "IP literal 127.0.0.1 matches IP SAN, no SNI", .srv = { .cert = "srv" },
      .cli = { 0 }, .name = "127.0.0.1", .want_cli = 1, .want_srv = 1, .want_sni = 2 },
    { .desc = "no name: no check, no SNI", .srv = { .cert = "wrongname" }, .cli = { 0 },
      .name = NULL, .want_cli = 1, .want_srv = 1, .want_sni = 2 },
    { .desc = "name case-insensitive", .srv = { .cert = "srv" }, .cli = { 0 },
      .name = "LOCALHOST", .want_cli = 1, .want_srv = 1 },
    { .desc = "TLS1.3 wrong name", .srv = { .version = V13, .cert = "srv" },
      .cli = { .version = V13 }, .name = "wrong.example", .want_cli = -3, .want_srv = -3,
      .want_cli_flags = PKI_CERT_UNMATCHED },
    { .desc = "TLS1.2 wrong name", .srv = { .version = V12, .cert = "srv" },
      .cli = { .version = V12 }, .name = "wrong.example", .want_cli = -3, .want_srv = -3,
      .want_cli_flags = PKI_CERT_UNMATCHED },
    { .desc = "wrong name refused even with option 3", .srv = { .cert = "srv" },
      .cli = { .opt3 = 1 }, .name = "wrong.example", .want_cli = -3, .want_srv = -3,
      .want_cli_flags = PKI_CERT_UNMATCHED },
    { .desc = "wrongname.pem for its own name", .srv = { .cert = "wrongname" },
      .cli = { 0 }, .name = "wrong.example", .want_cli = 1, .want_srv = 1, .want_sni = 1 },
    { .desc = "IP literal not in SAN", .srv = { .cert = "srv" }, .cli = { 0 },
      .name = "127.0.0.2", .want_cli = -3, .want_srv = -3,
      .want_cli_flags = PKI_CERT_UNMATCHED },
    { .desc = "CN used when no SAN", .srv = { .cert = "cnonly" }, .cli = { 0 },
      .name = "cnonly.test", .want_cli = 1, .want_srv = 1 },
    { .desc = "CN-only, other name", .srv = { .cert = "cnonly" }, .cli = { 0 },
      .name = "other.test", .want_cli = -3, .want_srv = -3,
      .want_cli_flags = PKI_CERT_UNMATCHED },
    { .desc = "SAN present: CN not used", .srv = { .cert = "srv" }, .cli = { 0 },
      .name = "cnonly.test", .want_cli = -3, .want_srv = -3,
      .want_cli_flags = PKI_CERT_UNMATCHED },
    { .desc = "wildcard *.wild.test: foo.wild.test", .srv = { .cert = "wild" },
      .cli = { 0 }, .name = "foo.wild.test", .want_cli = 1, .want_srv = 1 },
    { .desc = "wildcard *.wild.test: FOO.WILD.TEST", .srv = { .cert = "wild" },
      .cli = { 0 }, .name = "FOO.WILD.TEST", .want_cli = 1, .want_srv = 1 },
    { .desc = "wildcard *.wild.test: a.b.wild.test", .srv = { .cert = "wild" },
      .cli = { 0 }, .name = "a.b.wild.test", .want_cli = -3, .want_srv = -3,
      .want_cli_flags = PKI_CERT_UNMATCHED },
    { .desc = "wildcard *.wild.test: wild.test", .srv = { .cert = "wild" },
      .cli = { 0 }, .name = "wild.test", .want_cli = -3, .want_srv = -3,
      .want_cli_flags = PKI_CERT_UNMATCHED },
    { .desc = "partial f*.test: foo.test", .srv = { .cert = "partial" }, .cli = { 0 },
      .name = "foo.test", .want_cli = 1, .want_srv = 1 },
    { .desc = "partial f*.test: bar.test", .srv = { .cert = "partial" }, .cli = { 0 },
      .name = "bar.test", .want_cli = -3, .want_srv = -3,
      .want_cli_flags = PKI_CERT_UNMATCHED },
    /* trust */
    { .desc = "self-signed server refused", .srv = { .cert = "self" }, .cli = { 0 },
      .name = "localhost", .want_cli = -3, .want_srv = -3,
      .want_cli_flags_any = PKI_CERT_UNKNOWNCA | PKI_CERT_NOTVERIFIED },
    { .desc = "self-signed server, option 3", .srv = { .cert = "self" },
      .cli = { .opt3 = 1 }, .name = "localhost", .want_cli = 1, .want_srv = 1 },
    { .desc = "server from unknown CA refused", .srv = { .cert = "srv-unk" }, .cli = { 0 },
      .name = "localhost", .want_cli = -3, .want_srv = -3,
      .want_cli_flags_any = PKI_CERT_UNKNOWNCA | PKI_CERT_NOTVERIFIED },
    { .desc = "server from unknown CA, option 3", .srv = { .cert = "srv-unk" },
      .cli = { .opt3 = 1 }, .name = "localhost", .want_cli = 1, .want_srv = 1 },
    { .desc = "expired server refused", .srv = { .cert = "exp" }, .cli = { 0 },
      .name = "localhost", .want_cli = -3, .want_srv = -3,
      .want_cli_flags = PKI_CERT_EXPIRED },
    { .desc = "expired server, option 3", .srv = { .cert = "exp" }, .cli = { .opt3 = 1 },
      .name = "localhost", .want_cli = 1, .want_srv = 1 },
    { .desc = "server under an intermediate CA", .srv = { .cert = "leaf-inter" },
      .cli = { 0 }, .name = "localhost", .want_cli = 1, .want_srv = 1 },
    /* client authentication (option 1) */
    { .desc = "TLS1.2 client auth accepted", .srv = { .version = V12, .cert = "srv", .opt1 = 1 },
      .cli = { .version = V12, .cert = "cli" }, .name = "localhost", .want_cli = 1,
      .want_srv = 1, .want_cli_subject = "CN=chipssl client" },
    { .desc = "TLS1.3 client auth accepted", .srv = { .version = V13, .cert = "srv", .opt1 = 1 },
      .cli = { .version = V13, .cert = "cli" }, .name = "localhost", .want_cli = 1,
      .want_srv = 1, .want_cli_subject = "CN=chipssl client" },
    { .desc = "TLS1.2 client auth without client cert",
      .srv = { .version = V12, .cert = "srv", .opt1 = 1 }, .cli = { .version = V12 },
      .name = "localhost", .want_cli = -3, .want_srv = -3, .want_cli_alert = 40,
      .want_srv_alert = 40 },
    { .desc = "TLS1.3 client auth without client cert",
      .srv = { .version = V13, .cert = "srv", .opt1 = 1 }, .cli = { .version = V13 },
      .name = "localhost", .want_cli = -3, .want_srv = -3, .cli_may_finish = 1,
      .want_cli_alert = 116, .want_srv_alert = 116 },
    { .desc = "TLS1.3 client auth without client cert, client reads first",
      .srv = { .version = V13, .cert = "srv", .opt1 = 1 }, .cli = { .version = V13 },
      .name = "localhost", .want_cli = -3, .want_srv = -3, .cli_may_finish = 1,
      .cli_recv_first = 1, .want_cli_alert = 116, .want_srv_alert = 116 },
    { .desc = "client cert ignored without option 1", .srv = { .cert = "srv" },
      .cli = { .cert = "cli" }, .name = "localhost", .want_cli = 1, .want_srv = 1 },
    { .desc = "client CA ca2 accepts client2",
      .srv = { .cert = "srv", .opt1 = 1, .client_ca = "ca2" }, .cli = { .cert = "cli2" },
      .name = "localhost", .want_cli = 1, .want_srv = 1,
      .want_cli_subject = "CN=chipssl client 2" },
    { .desc = "TLS1.2 client CA ca refuses client2",
      .srv = { .version = V12, .cert = "srv", .opt1 = 1, .client_ca = "ca" },
      .cli = { .version = V12, .cert = "cli2" }, .name = "localhost", .want_cli = -3,
      .want_srv = -3 },
    { .desc = "TLS1.3 client CA ca2 refuses client (ca)",
      .srv = { .version = V13, .cert = "srv", .opt1 = 1, .client_ca = "ca2" },
      .cli = { .version = V13, .cert = "cli" }, .name = "localhost", .want_cli = -3,
      .want_srv = -3, .cli_may_finish = 1 },
    { .desc = "client CA may be an intermediate",
      .srv = { .cert = "srv", .opt1 = 1, .client_ca = "inter" },
      .cli = { .cert = "cli-inter" }, .name = "localhost", .want_cli = 1, .want_srv = 1 },
    { .desc = "TLS1.2 untrusted client cert refused",
      .srv = { .version = V12, .cert = "srv", .opt1 = 1 },
      .cli = { .version = V12, .cert = "cli-unt" }, .name = "localhost", .want_cli = -3,
      .want_srv = -3 },
    { .desc = "untrusted client cert, server option 3",
      .srv = { .cert = "srv", .opt1 = 1, .opt3 = 1 }, .cli = { .cert = "cli-unt" },
      .name = "localhost", .want_cli = 1, .want_srv = 1 },
    /* proposals (option 2 and refused lists: test_proposals.c) */
    { .desc = "original RSA suite 0x002F", .srv = { .version = V12, .cert = "srv", P(0x002F) },
      .cli = { .version = 3, P(0x002F) }, .name = "localhost", .want_cli = 1,
      .want_srv = 1, .want_version = V12, .want_suite = 0x002F },
    { .desc = "original RSA suite 0x0035", .srv = { .cert = "srv", P(0x0035, 0x002F) },
      .cli = { .version = 3, P(0x0035) }, .name = "localhost", .want_cli = 1,
      .want_srv = 1, .want_version = V12, .want_suite = 0x0035 },
    { .desc = "no TLS1.3 suite in list: TLS1.2", .srv = { .cert = "srv" },
      .cli = { P(0xC02F) }, .name = "localhost", .want_cli = 1, .want_srv = 1,
      .want_version = V12, .want_suite = 0xC02F },
    { .desc = "no common suite", .srv = { .version = V12, .cert = "srv", P(0xC030) },
      .cli = { .version = V12, P(0xC02F) }, .name = "localhost", .want_cli = -3,
      .want_srv = -3, .want_cli_alert = 40 },
    /* every suite tcpip.h lists as known, on both ends alone */
#define SUITE(num, ver, id) \
    { .desc = "suite " #num, .srv = { .version = ver, .cert = id, P(num) }, \
      .cli = { .version = ver, P(num) }, .name = "localhost", .want_cli = 1, \
      .want_srv = 1, .want_version = ver, .want_suite = num }
    SUITE(0x1301, V13, "srv"), SUITE(0x1302, V13, "srv"), SUITE(0x1303, V13, "srv"),
    SUITE(0x1304, V13, "srv"),
    SUITE(0xC02B, V12, "srv-ec"), SUITE(0xC02C, V12, "srv-ec"),
    SUITE(0xC02F, V12, "srv"), SUITE(0xC030, V12, "srv"),
    SUITE(0xCCA9, V12, "srv-ec"), SUITE(0xCCA8, V12, "srv"),
    SUITE(0xC023, V12, "srv-ec"), SUITE(0xC024, V12, "srv-ec"),
    SUITE(0xC027, V12, "srv"), SUITE(0xC028, V12, "srv"),
    SUITE(0xC009, V12, "srv-ec"), SUITE(0xC00A, V12, "srv-ec"),
    SUITE(0xC013, V12, "srv"), SUITE(0xC014, V12, "srv"),
    SUITE(0x009E, V12, "srv"), SUITE(0x009F, V12, "srv"), SUITE(0xCCAA, V12, "srv"),
    SUITE(0x009C, V12, "srv"), SUITE(0x009D, V12, "srv"),
    SUITE(0x002F, V12, "srv"), SUITE(0x0035, V12, "srv"),
    SUITE(0x003C, V12, "srv"), SUITE(0x003D, V12, "srv"),
#undef SUITE
    /* resumption */
    { .desc = "TLS1.2 resumption", .srv = { .version = V12, .cert = "srv", .caches = 10 },
      .cli = { .version = V12, .caches = 10 }, .name = "localhost", .want_cli = 1,
      .want_srv = 1, .reconnect = 1, .want_resumed = 1 },
    { .desc = "TLS1.3 resumption", .srv = { .version = V13, .cert = "srv", .caches = 10 },
      .cli = { .version = V13, .caches = 10 }, .name = "localhost", .want_cli = 1,
      .want_srv = 1, .reconnect = 1, .want_resumed = 1 },
    { .desc = "TLS1.3 no resumption under another name",
      .srv = { .version = V13, .cert = "srv", .caches = 10 },
      .cli = { .version = V13, .caches = 10 }, .name = "localhost", .want_cli = 1,
      .want_srv = 1, .reconnect = 1, .name2 = "127.0.0.1", .want_resumed = 0 },
    { .desc = "TLS1.2 no resumption under another name",
      .srv = { .version = V12, .cert = "srv", .caches = 10 },
      .cli = { .version = V12, .caches = 10 }, .name = "localhost", .want_cli = 1,
      .want_srv = 1, .reconnect = 1, .name2 = "127.0.0.1", .want_resumed = 0 },
    { .desc = "TLS1.3 resumption by IP literal",
      .srv = { .version = V13, .cert = "srv", .caches = 10 },
      .cli = { .version = V13, .caches = 10 }, .name = "127.0.0.1", .want_cli = 1,
      .want_srv = 1, .reconnect = 1, .want_resumed = 1 },
    { .desc = "TLS1.3 resumption, client maxCaches 0",
      .srv = { .version = V13, .cert = "srv", .caches = 10 },
      .cli = { .version = V13, .caches = 0 }, .name = "localhost", .want_cli = 1,
      .want_srv = 1, .reconnect = 1, .want_resumed = 0 },
    { .desc = "TLS1.2 resumption, server maxCaches 0",
      .srv = { .version = V12, .cert = "srv", .caches = 0 },
      .cli = { .version = V12, .caches = 10 }, .name = "localhost", .want_cli = 1,
      .want_srv = 1, .reconnect = 1, .want_resumed = 0 },
    { .desc = "TLS1.3 resumption, server maxCaches 0",
      .srv = { .version = V13, .cert = "srv", .caches = 0 },
      .cli = { .version = V13, .caches = 10 }, .name = "localhost", .want_cli = 1,
      .want_srv = 1, .reconnect = 1, .want_resumed = 0 },
    /* transport */
    { .desc = "IPv6 ::1 (IP SAN)", .srv = { .cert = "srv" }, .cli = { 0 }, .name = "::1",
      .ipv6 = 1, .want_cli = 1, .want_srv = 1, .want_sni = 2 },
    { .desc = "IPv6 ::1 with name localhost", .srv = { .cert = "srv" }, .cli = { 0 },
      .name = "localhost", .ipv6 = 1, .want_cli = 1, .want_srv = 1, .want_sni = 1 },
    { .desc = "send/recv drive the handshake", .srv = { .cert = "srv" }, .cli = { 0 },
      .name = "localhost", .lazy = 1, .want_cli = 1, .want_srv = 1 },
};
/* clang-format on */

/* One connection of case c with the sessions given; fills the client's
 * results; the server job's results after the join. */
struct cli_result {
    int start_rc, start_err;
    int hs;
    int ping_rc, ping_err, pong_rc, pong_err;
    int st_ok;
    SSL_CONN_STATE st;
    SslProblemS prob;
    int after_send_rc, after_send_err;
    int hs_again;
    int close_rc, close_err; /* SSL_ConnClose of a good connection */
    int eos_rc, eos_err;     /* ... then the server's end of stream */
    int peer_close_notify;   /* ... which came with its close_notify */
};

static void one_connection(const struct hs_case *c, const char *name, int lsn, unsigned short port,
                           int cli_sid, struct srv_job *srv, struct cli_result *r)
{
    char buf[64];
    void *vp;
    int sd, err;

    memset(r, 0, sizeof *r);
    srv_start(srv, lsn, c->lazy ? SRV_LAZY : SRV_ECHO);
    sd = tu_client(c->ipv6 ? AF_INET6 : AF_INET, cli_sid, port, &err);
    if (sd < 0) {
        r->start_rc = -99;
        r->start_err = err;
        srv_join(srv);
        return;
    }
    r->start_rc = SSL_ClientStart(sd, (char *)name, &r->start_err);
    if (!c->lazy) {
        r->hs = SSL_HandshakeComplete(sd, SSL_WAIT_FOREVER);
        r->hs_again = SSL_HandshakeComplete(sd, 0); /* the same answer again */
    }
    if (r->hs == 1 && c->cli_recv_first) {
        r->pong_rc = recv(sd, buf, sizeof buf, MSG_TIMEOUT, WAIT_MS, &r->pong_err);
    } else if (r->hs == 1 || c->lazy) {
        r->ping_rc = send(sd, "ping", 4, 0, &r->ping_err);
        r->pong_rc = recv(sd, buf, sizeof buf, MSG_TIMEOUT, WAIT_MS, &r->pong_err);
        if (r->pong_rc != 4 || memcmp(buf, "pong", 4) != 0)
            r->pong_rc = r->pong_rc == 4 ? -98 : r->pong_rc;
        if (c->lazy)
            r->hs = SSL_HandshakeComplete(sd, 0);
    }
    tu_snapshot(sd, &r->st, &r->st_ok, &r->prob);
    if (r->hs != 1 || r->pong_rc < 0) {
        /* a fatal error: later calls fail with ECONNABORTED */
        r->after_send_rc = send(sd, "x", 1, 0, &r->after_send_err);
    } else {
        /* close_notify, then the FIN behind it: the server's wait for the
         * end of the stream ends at once even if the close_notify went
         * missing (check_connection then says so) */
        r->close_rc = SSL_ConnClose(sd, &r->close_err);
        shutdown(sd, 1, &err);
        r->eos_rc = recv(sd, buf, sizeof buf, MSG_TIMEOUT, WAIT_MS, &r->eos_err);
        r->peer_close_notify =
            SSL_GetConnState(sd, &vp, &err) == 0 && ((SSL_CONN_STATE *)vp)->closeNotify;
    }
    closesocket(sd, &err);
    srv_join(srv);
}

static void check_connection(const struct hs_case *c, const char *name, const struct srv_job *s,
                             const struct cli_result *r, int conn)
{
    const char *d = c->desc;
    int cli_hs = r->hs;

    if (r->start_rc != 0)
        fail_msg("%s: client socket/SSL_ClientStart returned %d, error %d", d, r->start_rc,
                 r->start_err);
    if (s->sd < 0 && s->accept_err != 0)
        fail_msg("%s: accept failed: %d", d, s->accept_err);
    if (s->server_opt != 1)
        fail_msg("%s: accepted socket has TCP_SSL_SERVER %d, want 1 (inherited)", d, s->server_opt);

    /* a client whose TLS 1.3 handshake was over when the server refused it
     * must see the refusal at its first recv */
    if (c->cli_may_finish && cli_hs == 1) {
        if (r->pong_rc != -1 || r->pong_err != API_ECONNABORTED)
            fail_msg("%s: client finished, then recv gave %d/%d, want -1/ECONNABORTED", d,
                     r->pong_rc, r->pong_err);
        cli_hs = -3;
    }
    if (cli_hs != c->want_cli)
        fail_msg("%s (connection %d): client SSL_HandshakeComplete %d, want %d "
                 "(problem: error %d flags 0x%x alert %d \"%s\")",
                 d, conn, r->hs, c->want_cli, r->prob.errorCode, (unsigned)r->prob.certFlags,
                 r->prob.alert, r->prob.reason);
    if (s->hs != c->want_srv)
        fail_msg("%s (connection %d): server SSL_HandshakeComplete %d, want %d "
                 "(problem: error %d flags 0x%x alert %d \"%s\")",
                 d, conn, s->hs, c->want_srv, s->prob.errorCode, (unsigned)s->prob.certFlags,
                 s->prob.alert, s->prob.reason);
    if (!c->lazy && !(c->cli_may_finish && r->hs == 1) && r->hs_again != r->hs)
        fail_msg("%s: client SSL_HandshakeComplete said %d, then %d", d, r->hs, r->hs_again);
    if (!c->lazy && s->hs_again != s->hs)
        fail_msg("%s: server SSL_HandshakeComplete said %d, then %d", d, s->hs, s->hs_again);
    if (!r->st_ok || !s->st_ok)
        fail_msg("%s: SSL_GetConnState failed (client %d, server %d)", d, r->st_ok, s->st_ok);
    if (r->prob.alert == -100 || s->prob.alert == -100)
        fail_msg("%s: SSL_GetProblem failed", d);

    if (c->want_cli == 1) {
        if (r->ping_rc != 4 || r->pong_rc != 4 || !s->got_ping)
            fail_msg("%s: data exchange: send %d/%d, recv %d/%d, server got ping %d", d, r->ping_rc,
                     r->ping_err, r->pong_rc, r->pong_err, s->got_ping);
        if (r->close_rc != 0)
            fail_msg("%s: client SSL_ConnClose gave %d/%d", d, r->close_rc, r->close_err);
        if (s->eof_rc != 0 || s->eof_err != 0)
            fail_msg("%s: server saw the client's close as %d/%d, want 0/0", d, s->eof_rc,
                     s->eof_err);
        if (!s->st.closeNotify)
            fail_msg("%s: the client's close_notify never reached the server (its FIN did)", d);
        if (r->eos_rc != 0 || r->eos_err != 0 || !r->peer_close_notify)
            fail_msg("%s: client saw the server's close as %d/%d, close_notify %d; want 0/0, 1", d,
                     r->eos_rc, r->eos_err, r->peer_close_notify);
        if (r->st.handshakeState != SSL_HS_DONE && r->st.handshakeState != SSL_HS_CLOSED)
            fail_msg("%s: client handshakeState %d", d, r->st.handshakeState);
        if (r->st.isServer != 0 || s->st.isServer != 1)
            fail_msg("%s: isServer client %d server %d", d, r->st.isServer, s->st.isServer);
        if (r->st.version != s->st.version || (r->st.version != V12 && r->st.version != V13))
            fail_msg("%s: version client 0x%x server 0x%x", d, (unsigned)r->st.version,
                     (unsigned)s->st.version);
        if (c->want_version != 0 && r->st.version != c->want_version)
            fail_msg("%s: version 0x%x, want 0x%x", d, (unsigned)r->st.version,
                     (unsigned)c->want_version);
        if (r->st.cipherSuite == 0 || r->st.cipherSuite != s->st.cipherSuite)
            fail_msg("%s: suite client 0x%04x server 0x%04x", d, (unsigned)r->st.cipherSuite,
                     (unsigned)s->st.cipherSuite);
        if (c->want_suite != 0 && r->st.cipherSuite != c->want_suite)
            fail_msg("%s: suite 0x%04x, want 0x%04x", d, (unsigned)r->st.cipherSuite,
                     (unsigned)c->want_suite);
        if (r->st.bytesOut != 4 || r->st.bytesIn != 4 || s->st.bytesIn != 4 || s->st.bytesOut != 4)
            fail_msg("%s: byte counts client in %llu out %llu, server in %llu out %llu", d,
                     r->st.bytesIn, r->st.bytesOut, s->st.bytesIn, s->st.bytesOut);
        /* The client reports the SNI it sent: none for IP literals. */
        unsigned char ip[16];
        int literal = name && (inet_pton(AF_INET, name, ip) == 1 || inet_pton(AF_INET6, name, ip) == 1);
        if (strcmp(r->st.serverName, (!name || literal) ? "" : name) != 0)
            fail_msg("%s: client serverName \"%s\"", d, r->st.serverName);
        if (c->want_sni == 1 && strcmp(s->st.serverName, name) != 0)
            fail_msg("%s: server saw SNI \"%s\", want \"%s\"", d, s->st.serverName, name);
        if (c->want_sni == 2 && s->st.serverName[0] != '\0')
            fail_msg("%s: server saw SNI \"%s\", want none", d, s->st.serverName);
        if (c->want_srv_subject && !strstr(r->st.peerSubject, c->want_srv_subject))
            fail_msg("%s: client's peerSubject \"%s\" lacks \"%s\"", d, r->st.peerSubject,
                     c->want_srv_subject);
        if (c->want_cli_subject && !strstr(s->st.peerSubject, c->want_cli_subject))
            fail_msg("%s: server's peerSubject \"%s\" lacks \"%s\"", d, s->st.peerSubject,
                     c->want_cli_subject);
        if (r->prob.errorCode != 0 || s->prob.errorCode != 0)
            fail_msg("%s: problem errorCode %d/%d on a good connection", d, r->prob.errorCode,
                     s->prob.errorCode);
    } else {
        if (r->prob.errorCode == 0 || s->prob.errorCode == 0)
            fail_msg("%s: failed handshake without problem errorCode (client %d, server %d)", d,
                     r->prob.errorCode, s->prob.errorCode);
        if (r->st.handshakeState != SSL_HS_FAILED)
            fail_msg("%s: client handshakeState %d, want SSL_HS_FAILED", d, r->st.handshakeState);
        if (r->after_send_rc != -1 || r->after_send_err != API_ECONNABORTED)
            fail_msg("%s: send after the failure gave %d/%d, want -1/ECONNABORTED", d,
                     r->after_send_rc, r->after_send_err);
        if ((r->prob.certFlags & c->want_cli_flags) != c->want_cli_flags)
            fail_msg("%s: client problem certFlags 0x%x lack 0x%x", d, (unsigned)r->prob.certFlags,
                     (unsigned)c->want_cli_flags);
        if (c->want_cli_flags_any && !(r->prob.certFlags & c->want_cli_flags_any))
            fail_msg("%s: client problem certFlags 0x%x have none of 0x%x", d,
                     (unsigned)r->prob.certFlags, (unsigned)c->want_cli_flags_any);
        /* A TLS 1.3 client refused after its Finished that writes at once
         * meets the server's reset; the library still reads the alert that
         * waits in the receive queue, so the alert is required here too. */
        if (c->want_cli_alert && (r->prob.alert != c->want_cli_alert || r->prob.alertSent != 0))
            fail_msg("%s: client problem alert %d (sent %d), want %d received", d, r->prob.alert,
                     r->prob.alertSent, c->want_cli_alert);
        if (c->want_srv_alert && (s->prob.alert != c->want_srv_alert || s->prob.alertSent != 1))
            fail_msg("%s: server problem alert %d (sent %d), want %d sent", d, s->prob.alert,
                     s->prob.alertSent, c->want_srv_alert);
    }
}

static void run_hs_case(void **state)
{
    const struct hs_case *c = *state;
    struct srv_job srv;
    struct cli_result r;
    unsigned short port;
    int srv_sid, cli_sid, lsn, err, conn;

    if (c->ipv6 && !ipv6_ok()) {
        print_message("no IPv6 loopback: skipped\n");
        skip();
    }
    srv_sid = make_session(&c->srv);
    cli_sid = make_session(&c->cli);
    lsn = tu_listener(c->ipv6 ? AF_INET6 : AF_INET, srv_sid, &port, &err);
    if (lsn < 0)
        fail_msg("listener: %d", err);
    for (conn = 1; conn <= (c->reconnect ? 2 : 1); conn++) {
        const char *name = (conn == 2 && c->name2) ? c->name2 : c->name;

        one_connection(c, name, lsn, port, cli_sid, &srv, &r);
        check_connection(c, name, &srv, &r, conn);
        if (conn == 1 && c->want_cli == 1 && (r.st.resumed != 0 || srv.st.resumed != 0))
            fail_msg("%s: first connection reported resumed", c->desc);
        if (conn == 2 && (r.st.resumed != c->want_resumed || srv.st.resumed != c->want_resumed))
            fail_msg("%s: second connection resumed client %d server %d, want %d", c->desc,
                     r.st.resumed, srv.st.resumed, c->want_resumed);
    }
    closesocket(lsn, &err);
    assert_int_equal(SSL_SessionClose(cli_sid, &err), 0);
    assert_int_equal(SSL_SessionClose(srv_sid, &err), 0);
}

/* ------------------------------------------------------ connected pairs */

struct pair_opts {
    int family;           /* 0: AF_INET */
    int version;          /* both sessions; 0: TLS 1.2 + 1.3 */
    int cli_min, cli_max; /* TCP_SSL_SEND_MIN/MAX_SIZE on the client */
    int lsn_max;          /* TCP_SSL_SEND_MAX_SIZE on the listener   */
    const char *name;     /* 0: "localhost" */
};

/* Two ends of an established SSL connection (both handshakes returned 1);
 * both sockets blocking, owned by the calling thread from now on. */
static void open_pair(struct tu_pair *p, const struct pair_opts *o)
{
    struct tu_opt cli[3] = {{0, 0, 0}}, lsn[2] = {{0, 0, 0}};
    int n = 0;

    if (o->cli_min)
        cli[n++] = (struct tu_opt){IP_PROTOTCP_LEVEL, TCP_SSL_SEND_MIN_SIZE, o->cli_min};
    if (o->cli_max)
        cli[n++] = (struct tu_opt){IP_PROTOTCP_LEVEL, TCP_SSL_SEND_MAX_SIZE, o->cli_max};
    if (o->lsn_max)
        lsn[0] = (struct tu_opt){IP_PROTOTCP_LEVEL, TCP_SSL_SEND_MAX_SIZE, o->lsn_max};
    tu_want_pair(tu_pair_open(p, o->family, o->version, o->name, lsn, cli), p);
}

static void expect_recv(int sd, const char *want, int len)
{
    char buf[256];
    int got = 0, n, err;

    while (got < len) {
        n = recv(sd, buf + got, (int)sizeof buf - got, MSG_TIMEOUT, WAIT_MS, &err);
        if (n <= 0)
            fail_msg("recv returned %d (error %d) after %d of %d bytes", n, err, got, len);
        got += n;
    }
    assert_int_equal(got, len);
    assert_memory_equal(buf, want, (size_t)len);
}

/* ------------------------------------------------------- further tests */

/* TCP_SSL_SEND_MIN_SIZE holds small writes back until SSL_SendFlush. */
static void test_send_min_size(void **state)
{
    struct pair_opts o = {.cli_min = 1000};
    struct tu_pair p;
    static char big[2000];
    char buf[64];
    int err, v = 0, got, n, i;

    (void)state;
    open_pair(&p, &o);
    assert_int_equal(tu_getopt(p.cli, TCP_SSL_SEND_MIN_SIZE, &v, &err), 0);
    assert_int_equal(v, 1000);

    assert_int_equal(send(p.cli, "0123456789", 10, 0, &err), 10);
    assert_int_equal(recv(p.srv, buf, sizeof buf, MSG_TIMEOUT, 300, &err), -1);
    assert_int_equal(err, API_EWOULDBLOCK);
    assert_int_equal(SSL_SendFlush(p.cli, &err), 0);
    assert_int_equal(err, 0);
    expect_recv(p.srv, "0123456789", 10);

    /* a write of at least the minimum goes out without a flush */
    memset(big, 'b', sizeof big);
    assert_int_equal(send(p.cli, big, (int)sizeof big, 0, &err), (int)sizeof big);
    for (got = 0; got < (int)sizeof big; got += n) {
        n = recv(p.srv, buf, sizeof buf, MSG_TIMEOUT, WAIT_MS, &err);
        if (n <= 0)
            fail_msg("recv %d (error %d) after %d bytes", n, err, got);
        for (i = 0; i < n; i++)
            assert_int_equal(buf[i], 'b');
    }
    /* nothing pending: a flush is harmless */
    assert_int_equal(SSL_SendFlush(p.cli, &err), 0);
    tu_pair_close(&p);
}

/* Wait with poll() for what SSL_GetWaitEvents asks (or briefly, if 0). */
static void wait_for(const int *sds, int n, int timeout_ms, int *saw_events)
{
    struct pollfd pf[2];
    int i, k = 0, err, ev;

    for (i = 0; i < n; i++) {
        ev = SSL_GetWaitEvents(sds[i], &err);
        assert_true(ev >= 0);
        assert_int_equal(ev & ~(POLLIN | POLLOUT), 0);
        if (ev != 0) {
            *saw_events = 1;
            pf[k].fd = sds[i];
            pf[k].events = (short)ev;
            pf[k].revents = 0;
            k++;
        }
    }
    if (k == n)
        poll(pf, (nfds_t)k, timeout_ms);
}

/* Non-blocking sockets on both ends, driven from one thread with poll()
 * and SSL_GetWaitEvents. */
static void test_nonblocking(void **state)
{
    struct side s = {.cert = "srv"}, c = {0};
    struct sockaddr_in a;
    struct pollfd pf;
    unsigned short port;
    int srv_sid, cli_sid, lsn, cli, srv, err, rc, cdone = 0, sdone = 0, saw = 0;
    enum { BIG = 256 * 1024 };
    static unsigned char out[BIG], in[BIG];
    int sent = 0, rcvd = 0, i, sds[2], flushed = 0;
    double t0;
    char buf[16];

    (void)state;
    srv_sid = make_session(&s);
    cli_sid = make_session(&c);
    lsn = tu_listener(AF_INET, srv_sid, &port, &err);
    assert_true(lsn >= 0);
    cli = opensocket(SOCK_STREAM, &err);
    assert_true(cli >= 0);
    assert_int_equal(tu_setopt(cli, TCP_SSL_CLIENT, 1, &err), 0);
    assert_int_equal(tu_setopt(cli, TCP_SSLSESSION, cli_sid, &err), 0);
    assert_int_equal(Set_Blocking_Mode(cli, 1, &err), 0);
    memset(&a, 0, sizeof a);
    a.sin_family = AF_INET;
    a.sin_port = htons(port);
    assert_int_equal(inet_addr("127.0.0.1", &a.sin_addr.s_addr), 0);
    rc = connect(cli, &a, &err);
    assert_true(rc == 0 || (rc == -1 && err == API_EINPROGRESS));
    pf.fd = cli;
    pf.events = POLLOUT;
    assert_int_equal(poll(&pf, 1, WAIT_MS), 1);
    srv = accept(lsn, NULL, &err);
    assert_true(srv >= 0);
    assert_int_equal(Set_Blocking_Mode(srv, 1, &err), 0);
    assert_int_equal(SSL_ClientStart(cli, "localhost", &err), 0);

    t0 = tu_now();
    while (!(cdone && sdone)) {
        if (tu_now() - t0 > 10)
            fail_msg("non-blocking handshake did not finish (client %d server %d)", cdone, sdone);
        if (!cdone) {
            rc = SSL_HandshakeComplete(cli, 0);
            assert_true(rc == 0 || rc == 1);
            cdone = rc == 1;
        }
        if (!sdone) {
            rc = SSL_HandshakeComplete(srv, 0);
            assert_true(rc == 0 || rc == 1);
            sdone = rc == 1;
        }
        {
            int w[2], k = 0;

            if (!cdone)
                w[k++] = cli;
            if (!sdone)
                w[k++] = srv;
            if (k > 0)
                wait_for(w, k, 100, &saw);
        }
    }
    assert_true(saw); /* something was waited for */

    /* nothing to read: EWOULDBLOCK at once */
    assert_int_equal(recv(cli, buf, sizeof buf, 0, 0, &err), -1);
    assert_int_equal(err, API_EWOULDBLOCK);

    /* 256 KiB client -> server through partial writes */
    for (i = 0; i < BIG; i++)
        out[i] = (unsigned char)(i * 7 + 3);
    t0 = tu_now();
    while (rcvd < BIG) {
        if (tu_now() - t0 > 20)
            fail_msg("non-blocking transfer stuck at %d sent, %d received", sent, rcvd);
        if (sent < BIG) {
            rc = send(cli, out + sent, BIG - sent, 0, &err);
            if (rc > 0)
                sent += rc;
            else if (rc < 0 && err != API_EWOULDBLOCK)
                fail_msg("non-blocking send: error %d", err);
            else if (rc == 0)
                fail_msg("non-blocking send returned 0");
        } else if (!flushed) {
            /* bytes accepted may still wait inside the library */
            rc = SSL_SendFlush(cli, &err);
            if (rc == 0)
                flushed = 1;
            else if (err != API_EWOULDBLOCK)
                fail_msg("non-blocking SSL_SendFlush: error %d", err);
        }
        rc = recv(srv, in + rcvd, BIG - rcvd, 0, 0, &err);
        if (rc > 0)
            rcvd += rc;
        else if (rc < 0 && err != API_EWOULDBLOCK)
            fail_msg("non-blocking recv: error %d", err);
        else if (rc == 0)
            fail_msg("non-blocking recv: unexpected end of stream");
        sds[0] = srv;
        sds[1] = cli;
        if (rc < 0)
            wait_for(sds, flushed ? 1 : 2, 100, &saw);
    }
    assert_int_equal(sent, BIG);
    assert_memory_equal(in, out, BIG);

    closesocket(cli, &err);
    closesocket(srv, &err);
    closesocket(lsn, &err);
    SSL_SessionClose(cli_sid, &err);
    SSL_SessionClose(srv_sid, &err);
}

/* recv with MSG_TIMEOUT waits at most the timeout, then EWOULDBLOCK;
 * MSG_DONTWAIT does not wait. */
static void test_recv_timeout(void **state)
{
    struct pair_opts o = {0};
    struct tu_pair p;
    char buf[16];
    double t0, dt;
    int err;

    (void)state;
    open_pair(&p, &o);
    t0 = tu_now();
    assert_int_equal(recv(p.cli, buf, sizeof buf, MSG_TIMEOUT, 300, &err), -1);
    dt = tu_now() - t0;
    assert_int_equal(err, API_EWOULDBLOCK);
    assert_int_equal(get_socketerror(p.cli), API_EWOULDBLOCK);
    if (dt < 0.25 || dt > 3.0)
        fail_msg("MSG_TIMEOUT 300 ms waited %.3f s", dt);
    t0 = tu_now();
    assert_int_equal(recv(p.cli, buf, sizeof buf, MSG_DONTWAIT, 0, &err), -1);
    assert_int_equal(err, API_EWOULDBLOCK);
    assert_true(tu_now() - t0 < 0.2);
    /* the connection is still good */
    assert_int_equal(send(p.srv, "x", 1, 0, &err), 1);
    expect_recv(p.cli, "x", 1);
    /* MSG_PEEK leaves the data */
    assert_int_equal(send(p.srv, "pk", 2, 0, &err), 2);
    assert_int_equal(recv(p.cli, buf, 2, MSG_TIMEOUT | MSG_PEEK, WAIT_MS, &err) > 0, 1);
    expect_recv(p.cli, "pk", 2);
    tu_pair_close(&p);
}

/* 1 MiB in records of at most 100 bytes (TCP_SSL_SEND_MAX_SIZE). */
enum { MIB = 1024 * 1024 };

struct sender {
    int sd;
    const unsigned char *data;
    int total, err, sent;
};

static void *sender_main(void *arg)
{
    struct sender *s = arg;
    int chunk = 65536, n;

    while (s->sent < s->total) {
        if (chunk > s->total - s->sent)
            chunk = s->total - s->sent;
        n = send(s->sd, s->data + s->sent, chunk, 0, &s->err);
        if (n <= 0)
            return NULL;
        s->sent += n;
    }
    return NULL;
}

static void test_big_transfer(void **state)
{
    struct pair_opts o = {.cli_max = 100};
    struct tu_pair p;
    struct sender s;
    pthread_t tid;
    unsigned char *out = malloc(MIB), *in = malloc(MIB);
    int got = 0, n, err = 0, v = 0, i;
    void *vp;

    (void)state;
    assert_non_null(out);
    assert_non_null(in);
    for (i = 0; i < MIB; i++)
        out[i] = (unsigned char)(i * 31 + (i >> 12));
    open_pair(&p, &o);
    assert_int_equal(tu_getopt(p.cli, TCP_SSL_SEND_MAX_SIZE, &v, &err), 0);
    assert_int_equal(v, 100);
    s.sd = p.cli;
    s.data = out;
    s.total = MIB;
    s.err = 0;
    s.sent = 0;
    assert_int_equal(pthread_create(&tid, NULL, sender_main, &s), 0);
    while (got < MIB) {
        n = recv(p.srv, in + got, MIB - got, MSG_TIMEOUT, 20000, &err);
        if (n <= 0)
            break;
        got += n;
    }
    pthread_join(tid, NULL);
    if (got != MIB || s.sent != MIB)
        fail_msg("1 MiB transfer: sent %d (error %d), received %d (error %d)", s.sent, s.err, got,
                 err);
    assert_memory_equal(in, out, MIB);
    assert_int_equal(SSL_GetConnState(p.cli, &vp, &err), 0);
    assert_int_equal(((SSL_CONN_STATE *)vp)->bytesOut, MIB);
    assert_int_equal(SSL_GetConnState(p.srv, &vp, &err), 0);
    assert_int_equal(((SSL_CONN_STATE *)vp)->bytesIn, MIB);
    tu_pair_close(&p);
    free(out);
    free(in);
}

/* Options read back; the SSL options cannot change once the handshake ran. */
static void test_options_readback(void **state)
{
    struct pair_opts o = {.lsn_max = 512};
    struct tu_pair p;
    int err, v;

    (void)state;
    open_pair(&p, &o);
    assert_int_equal(tu_getopt(p.cli, TCP_SSL_CLIENT, &v, &err), 0);
    assert_int_equal(v, 1);
    assert_int_equal(tu_getopt(p.cli, TCP_SSL_SERVER, &v, &err), 0);
    assert_int_equal(v, 0);
    assert_int_equal(tu_getopt(p.cli, TCP_SSLSESSION, &v, &err), 0);
    assert_int_equal(v, p.cli_sid);
    assert_int_equal(tu_getopt(p.cli, TCP_SSL_SEND_MAX_SIZE, &v, &err), 0);
    assert_int_equal(v, 16384);
    assert_int_equal(tu_getopt(p.cli, TCP_SSL_SEND_MIN_SIZE, &v, &err), 0);
    assert_int_equal(v, 0);
    assert_int_equal(tu_getopt(p.cli, TCP_SSL_CONNECT_TIMEOUT, &v, &err), 0);
    assert_int_equal(v, CHIPSSL_DEFAULT_CONNECT_TIMEOUT);
    assert_int_equal(tu_getopt(p.srv, TCP_SSL_SERVER, &v, &err), 0);
    assert_int_equal(v, 1);
    assert_int_equal(tu_getopt(p.srv, TCP_SSLSESSION, &v, &err), 0);
    assert_int_equal(v, p.srv_sid);
    /* accepted sockets inherit the listener's SSL options (API.md 2.3) */
    assert_int_equal(tu_getopt(p.srv, TCP_SSL_SEND_MAX_SIZE, &v, &err), 0);
    assert_int_equal(v, 512);
    assert_int_equal(tu_setopt(p.cli, TCP_SSLSESSION, p.srv_sid, &err), -1);
    assert_int_equal(err, API_EINVAL);
    assert_int_equal(tu_setopt(p.cli, TCP_SSL_CLIENT, 0, &err), -1);
    assert_int_equal(err, API_EINVAL);
    tu_pair_close(&p);
}

/* Closing the sessions does not break connections that use them. */
static void test_session_closed_in_use(void **state)
{
    struct pair_opts o = {0};
    struct tu_pair p;
    void *vp;
    int err, sd, old;

    (void)state;
    open_pair(&p, &o);
    old = p.cli_sid;
    assert_int_equal(SSL_SessionClose(p.cli_sid, &err), 0);
    assert_int_equal(SSL_SessionClose(p.srv_sid, &err), 0);
    assert_int_equal(send(p.cli, "ping", 4, 0, &err), 4);
    expect_recv(p.srv, "ping", 4);
    assert_int_equal(send(p.srv, "pong", 4, 0, &err), 4);
    expect_recv(p.cli, "pong", 4);
    assert_int_equal(SSL_GetConnState(p.cli, &vp, &err), 0);
    assert_int_equal(((SSL_CONN_STATE *)vp)->sessionID, old);
    sd = opensocket(SOCK_STREAM, &err);
    assert_true(sd >= 0);
    assert_int_equal(tu_setopt(sd, TCP_SSL_CLIENT, 1, &err), 0);
    assert_int_equal(tu_setopt(sd, TCP_SSLSESSION, old, &err), -1);
    assert_int_equal(err, API_EINVAL);
    closesocket(sd, &err);
    assert_int_equal(SSL_ConnClose(p.cli, &err), 0);
    p.cli_sid = p.srv_sid = -1; /* already closed */
    tu_pair_close(&p);
}

/* The peer closes during the handshake: -3, reason recorded. */
static void test_peer_vanishes(void **state)
{
    struct side c = {0};
    SslProblemS prob;
    unsigned short port;
    int lsn, sd, srv, err, sid, rc;

    (void)state;
    sid = make_session(&c);
    lsn = tu_listener(AF_INET, 0, &port, &err);
    assert_true(lsn >= 0);
    sd = tu_client(AF_INET, sid, port, &err);
    assert_true(sd >= 0);
    srv = accept(lsn, NULL, &err);
    assert_true(srv >= 0);
    assert_int_equal(SSL_ClientStart(sd, "localhost", &err), 0);
    closesocket(srv, &err);
    rc = SSL_HandshakeComplete(sd, SSL_WAIT_FOREVER);
    assert_int_equal(rc, -3);
    assert_int_equal(SSL_GetProblem(sd, &prob, &err), 0);
    if (prob.errorCode != API_ECONNRESET && prob.errorCode != API_ECONNABORTED)
        fail_msg("peer gone: problem errorCode %d, want ECONNRESET or ECONNABORTED",
                 prob.errorCode);
    closesocket(sd, &err);
    closesocket(lsn, &err);
    SSL_SessionClose(sid, &err);
}

/* A revoked server certificate (CRL in the store) is refused with REVOKED. */
static void test_revoked_server(void **state)
{
    static const struct hs_case refused = {.desc = "revoked server refused",
                                           .srv = {.cert = "revoked"},
                                           .cli = {0},
                                           .name = "localhost",
                                           .want_cli = -3,
                                           .want_srv = -3,
                                           .want_cli_flags = PKI_CERT_REVOKED};
    static const struct hs_case opt3 = {.desc = "revoked server, option 3",
                                        .srv = {.cert = "revoked"},
                                        .cli = {.opt3 = 1},
                                        .name = "localhost",
                                        .want_cli = 1,
                                        .want_srv = 1};
    static const struct hs_case others = {.desc = "CRL present, good server",
                                          .srv = {.cert = "srv"},
                                          .cli = {0},
                                          .name = "localhost",
                                          .want_cli = 1,
                                          .want_srv = 1};
    int err;
    void *st;

    assert_int_equal(tu_add_cert("crl.pem", PKI_FMT_PEM, PKI_CERT_CRL, "crl", "ca", &err), 0);
    st = (void *)&refused;
    run_hs_case(&st);
    st = (void *)&opt3;
    run_hs_case(&st);
    st = (void *)&others;
    run_hs_case(&st);
    assert_int_equal(PKI_CertificateDel("crl", PKI_CERT_NONLOCAL, &err), 0);
    (void)state;
}

/* ------------------------------------------ changes between handshakes */

/* One connection between existing sessions; returns the client's
 * SSL_HandshakeComplete result (after the server thread was joined) and the
 * server's in *srv_hs, the client's problem in *prob, the suite in *suite. */
static int connect_once(int lsn, unsigned short port, int cli_sid, const char *name, int *srv_hs,
                        SslProblemS *prob, int *suite)
{
    static const struct hs_case plain = {.desc = "connect_once"};
    struct srv_job srv;
    struct cli_result r;

    one_connection(&plain, name, lsn, port, cli_sid, &srv, &r);
    if (r.start_rc != 0)
        fail_msg("connect_once: client start %d/%d", r.start_rc, r.start_err);
    *srv_hs = srv.hs;
    if (prob)
        *prob = r.prob;
    if (suite)
        *suite = r.st.cipherSuite;
    return r.hs;
}

/* Options and proposals changed on sessions in use apply to the next
 * handshake (API.md 5: "Options may change while sockets use the session;
 * new handshakes see the new value"). */
static void test_changes_apply_to_new_handshakes(void **state)
{
    struct side s = {.cert = "srv"}, c = {.version = V12};
    struct side ss = {.cert = "self"};
    static int p1[] = {0xC030}, p2[] = {0xC02F};
    unsigned short port, sport;
    int srv_sid, cli_sid, self_sid, lsn, slsn, err, shs, suite;

    (void)state;
    srv_sid = make_session(&s);
    self_sid = make_session(&ss);
    cli_sid = make_session(&c);
    lsn = tu_listener(AF_INET, srv_sid, &port, &err);
    slsn = tu_listener(AF_INET, self_sid, &sport, &err);
    assert_true(lsn >= 0 && slsn >= 0);

    /* option 1 on the server: a client without certificate is refused */
    assert_int_equal(connect_once(lsn, port, cli_sid, "localhost", &shs, NULL, NULL), 1);
    assert_int_equal(SSL_SessionOpt(srv_sid, SSL_OPT_CLIENT_AUTH, 1, &err), 0);
    assert_int_equal(connect_once(lsn, port, cli_sid, "localhost", &shs, NULL, NULL), -3);
    assert_int_equal(shs, -3);
    assert_int_equal(SSL_SessionOpt(srv_sid, SSL_OPT_CLIENT_AUTH, 0, &err), 0);
    assert_int_equal(connect_once(lsn, port, cli_sid, "localhost", &shs, NULL, NULL), 1);

    /* option 3 on the client: a self-signed server is accepted */
    assert_int_equal(connect_once(slsn, sport, cli_sid, "localhost", &shs, NULL, NULL), -3);
    assert_int_equal(SSL_SessionOpt(cli_sid, SSL_OPT_SKIP_CERT_VALIDATION, 1, &err), 0);
    assert_int_equal(connect_once(slsn, sport, cli_sid, "localhost", &shs, NULL, NULL), 1);
    assert_int_equal(SSL_SessionOpt(cli_sid, SSL_OPT_SKIP_CERT_VALIDATION, 0, &err), 0);
    assert_int_equal(connect_once(slsn, sport, cli_sid, "localhost", &shs, NULL, NULL), -3);

    /* proposals */
    assert_int_equal(SSL_SessionProp(srv_sid, p1, 1, &err), 0);
    assert_int_equal(connect_once(lsn, port, cli_sid, "localhost", &shs, NULL, &suite), 1);
    assert_int_equal(suite, 0xC030);
    assert_int_equal(SSL_SessionProp(srv_sid, p2, 1, &err), 0);
    assert_int_equal(connect_once(lsn, port, cli_sid, "localhost", &shs, NULL, &suite), 1);
    assert_int_equal(suite, 0xC02F);

    closesocket(lsn, &err);
    closesocket(slsn, &err);
    SSL_SessionClose(srv_sid, &err);
    SSL_SessionClose(self_sid, &err);
    SSL_SessionClose(cli_sid, &err);
}

/* PKI changes reach sessions in use: a deleted root is no longer trusted,
 * a re-added one is; a session keeps its own certificate when the PKI
 * entry is deleted (API.md 4: "Sessions and connections already using it
 * are not broken by the deletion"). */
static void test_pki_changes_reach_sessions(void **state)
{
    struct side s = {.cert = "tmp-srv"}, c = {0};
    SslProblemS prob;
    unsigned short port;
    int srv_sid, cli_sid, lsn, err, shs;

    (void)state;
    assert_int_equal(tu_add_local("server.key", PKI_KEY_RSA, "server.pem", "tmp-srv", "ca", &err),
                     0);
    srv_sid = make_session(&s);
    cli_sid = make_session(&c);
    lsn = tu_listener(AF_INET, srv_sid, &port, &err);
    assert_true(lsn >= 0);
    assert_int_equal(connect_once(lsn, port, cli_sid, "localhost", &shs, NULL, NULL), 1);

    assert_int_equal(PKI_CertificateDel("ca", PKI_CERT_NONLOCAL, &err), 0);
    assert_int_equal(connect_once(lsn, port, cli_sid, "localhost", &shs, &prob, NULL), -3);
    if (!(prob.certFlags & (PKI_CERT_UNKNOWNCA | PKI_CERT_NOTVERIFIED)))
        fail_msg("root deleted: client certFlags 0x%x", (unsigned)prob.certFlags);
    assert_int_equal(tu_add_cert("ca.pem", PKI_FMT_PEM, TU_ROOT, "ca", NULL, &err), 0);
    assert_int_equal(connect_once(lsn, port, cli_sid, "localhost", &shs, NULL, NULL), 1);

    /* the server session's own certificate leaves the PKI: the session
     * keeps working */
    assert_int_equal(PKI_CertificateDel("tmp-srv", PKI_CERT_LOCAL, &err), 0);
    assert_int_equal(connect_once(lsn, port, cli_sid, "localhost", &shs, NULL, NULL), 1);
    assert_int_equal(shs, 1);
    /* ... but no new session can name it */
    {
        SSL_SESSION_NEW_Entry e = {.certIdentity = "tmp-srv", .maxCaches = 0, .version = V_BOTH};

        assert_int_equal(SSL_SessionNew(&e, &err), -1);
        assert_int_equal(err, API_EINVAL);
    }
    closesocket(lsn, &err);
    SSL_SessionClose(srv_sid, &err);
    SSL_SessionClose(cli_sid, &err);
}

/* accept() reports the peer; every TCP socket is address-reusable, so a
 * listener's port is free again at once although a connection of it is in
 * TIME_WAIT (API.md 7). */
static void test_accept_address_and_reuse(void **state)
{
    struct sockaddr_in a, peer;
    unsigned short port;
    int lsn, cli, srv, err;
    char buf[4];

    (void)state;
    lsn = tu_listener(AF_INET, 0, &port, &err);
    assert_true(lsn >= 0);
    cli = tu_client(AF_INET, 0, port, &err);
    assert_true(cli >= 0);
    memset(&peer, 0, sizeof peer);
    srv = accept(lsn, &peer, &err);
    assert_true(srv >= 0);
    assert_int_equal(peer.sin_family, AF_INET);
    assert_int_equal(peer.sin_addr.s_addr, htonl(INADDR_LOOPBACK));
    assert_int_not_equal(peer.sin_port, 0);
    assert_int_equal(get_socketerror(srv), 0);
    /* the server closes first: its end goes to TIME_WAIT */
    assert_int_equal(closesocket(srv, &err), 0);
    assert_int_equal(recv(cli, buf, sizeof buf, MSG_TIMEOUT, WAIT_MS, &err), 0);
    closesocket(cli, &err);
    closesocket(lsn, &err);

    lsn = opensocket(SOCK_STREAM, &err);
    assert_true(lsn >= 0);
    memset(&a, 0, sizeof a);
    a.sin_family = AF_INET;
    a.sin_port = htons(port);
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    assert_int_equal(bind(lsn, &a, &err), 0);
    assert_int_equal(listen(lsn, 4, &err), 0);
    closesocket(lsn, &err);
}

/* ----------------------------------------------------------------- main */

/* clang-format off */
static const struct tu_cert cas[] = {
    { "ca2.pem", TU_ROOT, "ca2", NULL },
    { "inter-ca.pem", PKI_CERT_NONLOCAL, "inter", "ca" },
};
static const struct tu_own own[] = {
    { "server.key", PKI_KEY_RSA, "server.pem", "srv", "ca" },
    { "server-ec.key", PKI_KEY_EC, "server-ec.pem", "srv-ec", "ca" },
    { "ed25519.key", PKI_KEY_ED25519, "ed25519.pem", "ed", "ca" },
    { "selfsigned.key", PKI_KEY_EC, "selfsigned.pem", "self", NULL },
    { "server-unknownca.key", PKI_KEY_EC, "server-unknownca.pem", "srv-unk", NULL },
    { "expired.key", PKI_KEY_EC, "expired.pem", "exp", "ca" },
    { "wrongname.key", PKI_KEY_EC, "wrongname.pem", "wrongname", "ca" },
    { "cnonly.key", PKI_KEY_EC, "cnonly.pem", "cnonly", "ca" },
    { "wildcard.key", PKI_KEY_EC, "wildcard.pem", "wild", "ca" },
    { "partial.key", PKI_KEY_EC, "partial.pem", "partial", "ca" },
    { "leaf-inter.key", PKI_KEY_EC, "leaf-inter.pem", "leaf-inter", "inter" },
    { "revoked.key", PKI_KEY_EC, "revoked.pem", "revoked", "ca" },
    { "client.key", PKI_KEY_RSA, "client.pem", "cli", "ca" },
    { "client2.key", PKI_KEY_EC, "client2.pem", "cli2", "ca2" },
    { "client-untrusted.key", PKI_KEY_EC, "client-untrusted.pem", "cli-unt", NULL },
    { "client-inter.key", PKI_KEY_EC, "client-inter.pem", "cli-inter", "inter" },
};
/* clang-format on */
/* lenient: an own certificate that cannot be added is reported, and only the
 * cases using it fail (their SSL_SessionNew does) */
static const struct tu_pki pki = {cas, TU_N(cas), own, TU_N(own), 1};

TU_PKI_FIXTURES(group_setup, group_teardown, pki)

int main(void)
{
    enum { NHS = sizeof hs_cases / sizeof hs_cases[0] };
    static const struct CMUnitTest more[] = {
        cmocka_unit_test(test_send_min_size),
        cmocka_unit_test(test_nonblocking),
        cmocka_unit_test(test_recv_timeout),
        cmocka_unit_test(test_big_transfer),
        cmocka_unit_test(test_options_readback),
        cmocka_unit_test(test_session_closed_in_use),
        cmocka_unit_test(test_peer_vanishes),
        cmocka_unit_test(test_revoked_server),
        cmocka_unit_test(test_changes_apply_to_new_handshakes),
        cmocka_unit_test(test_pki_changes_reach_sessions),
        cmocka_unit_test(test_accept_address_and_reuse),
    };
    enum { NMORE = sizeof more / sizeof more[0] };
    static struct CMUnitTest tests[NHS + NMORE];
    size_t n = 0;

    tu_require_pki();
    TU_ADD_TABLE(tests, n, hs_cases, run_hs_case);
    TU_ADD_TESTS(tests, n, more);
    return _cmocka_run_group_tests("loopback", tests, n, group_setup, group_teardown);
}
