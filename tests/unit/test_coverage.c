/*
 * test_coverage.c - behaviours that worked but that no test checked (an
 * audit's list). Each test asserts the behaviour for real and fails when it
 * is broken; where a table fits, the rows include a contrast (the same steps
 * with one setting changed) that must give another result, so that a
 * measurement which could not tell the two apart fails too:
 *
 *   1  TCP_SSL_SEND_MAX_SIZE bounds the plaintext of every record (a proxy
 *      thread between client and server parses the TLS record headers)
 *   2  data given to a non-blocking send before the handshake finished is
 *      delivered, exactly, once it finishes
 *   3  resumption cache bounds: client maxCaches (per server) and server
 *      maxCaches (per client session), oldest entry replaced
 *   4  SSL_ConnClose sends data held back by TCP_SSL_SEND_MIN_SIZE before
 *      its close_notify
 *   5  option 2 toggled on a server session in use applies to each new
 *      handshake
 *   6  SslProblemS.hsState names the state in which a handshake failed
 *   7  a root imported with PKI_RootCABundleAdd anchors a handshake
 *   8  shutdown(sd, 1 or 2) on an established SSL socket: send ESHUTDOWN,
 *      SSL_ConnClose EINVAL, the peer sees the end of the stream
 *
 * Server ends run in threads of this process (or, for 1, behind a proxy
 * thread); cmocka assertions are made in the main thread only, after the
 * threads were joined. Everything on 127.0.0.1, ports chosen by the OS.
 */
#define _POSIX_C_SOURCE 200809L

#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "tcpip.h"
#include "testutil.h"

#define ROOT (PKI_CERT_NONLOCAL | PKI_CERT_ROOTCA)
#define V12 SSL_VERSION_TLS12
#define V13 SSL_VERSION_TLS13
#define V_BOTH (SSL_VERSION_TLS12 | SSL_VERSION_TLS13)
#define WAIT_MS 10000 /* generous: a wait that normally ends at once */
#define LIMIT_S 8.0   /* generous bound for "after a 1 s time limit" */

/* ------------------------------------------------------------- sessions */

/* A session of c; fails the test on error. */
static int new_session(const struct tu_scfg *c)
{
    char msg[256];
    int err, sid = tu_session_new(c, &err);

    if (sid < 1)
        fail_msg("%s", tu_session_msg(msg, sizeof msg, sid, c, err));
    return sid;
}

/* ----------------------------------------------------------- server end */

enum {
    SJ_HANDSHAKE, /* accept, handshake, snapshot; the sd is left open       */
    SJ_PINGPONG,  /* ... "ping" -> "pong", wait for the client's close, close */
    SJ_COLLECT,   /* [gate], handshake, read everything until end of stream;
                     "ack" (and a byte on signal_fd) once `expect` bytes came */
};

struct srv_job {
    pthread_t tid;
    int lsn, mode;
    int gate;      /* SJ_COLLECT: read end of a pipe; the handshake starts
                      only after one byte arrives there (-1: at once)     */
    int signal_fd; /* SJ_COLLECT: write end of a pipe, or -1              */
    int expect;    /* SJ_COLLECT: bytes after which "ack" is sent         */
    /* results */
    int sd, accept_err, hs, got_ping;
    unsigned char buf[65536];
    int got, end_rc, end_err;
    int st_ok;
    SSL_CONN_STATE st;
    SslProblemS prob;
};

static void *srv_main(void *arg)
{
    struct srv_job *j = arg;
    char c, small[64];
    int err, n, acked = 0;

    if (!tu_readable(j->lsn, WAIT_MS)) /* the client never came */
        return NULL;
    j->sd = accept(j->lsn, NULL, &j->accept_err);
    if (j->sd < 0)
        return NULL;
    if (j->mode == SJ_COLLECT && j->gate >= 0 &&
        (!tu_readable(j->gate, WAIT_MS) || read(j->gate, &c, 1) != 1)) {
        closesocket(j->sd, &err); /* the gate never opened */
        j->sd = -1;
        return NULL;
    }
    j->hs = SSL_HandshakeComplete(j->sd, SSL_WAIT_FOREVER);
    if (j->hs == 1 && j->mode == SJ_PINGPONG) {
        n = recv(j->sd, small, sizeof small, MSG_TIMEOUT, WAIT_MS, &err);
        j->got_ping = n == 4 && memcmp(small, "ping", 4) == 0;
        if (j->got_ping)
            send(j->sd, "pong", 4, 0, &err);
        j->end_rc = recv(j->sd, small, sizeof small, MSG_TIMEOUT, WAIT_MS, &j->end_err);
    } else if (j->hs == 1 && j->mode == SJ_COLLECT) {
        for (;;) {
            n = recv(j->sd, j->buf + j->got, (int)sizeof j->buf - j->got, MSG_TIMEOUT, WAIT_MS,
                     &j->end_err);
            if (n <= 0) {
                j->end_rc = n;
                break;
            }
            j->got += n;
            if (!acked && j->got >= j->expect) {
                acked = 1;
                if (j->signal_fd >= 0 && write(j->signal_fd, "s", 1) != 1)
                    break;
                send(j->sd, "ack", 3, 0, &err);
            }
            if (j->got == (int)sizeof j->buf)
                break;
        }
    }
    tu_snapshot(j->sd, &j->st, &j->st_ok, &j->prob);
    if (j->mode != SJ_HANDSHAKE) {
        if (j->hs == 1 && j->end_rc == 0)
            SSL_ConnClose(j->sd, &err);
        closesocket(j->sd, &err);
        j->sd = -1;
    }
    return NULL;
}

/* Start the server end; for SJ_COLLECT with gate, signal_fd, expect. */
static void srv_start_ex(struct srv_job *j, int lsn, int mode, int gate, int signal_fd, int expect)
{
    memset(j, 0, sizeof *j);
    j->lsn = lsn;
    j->mode = mode;
    j->sd = -1;
    j->gate = gate;
    j->signal_fd = signal_fd;
    j->expect = expect;
    assert_int_equal(pthread_create(&j->tid, NULL, srv_main, j), 0);
}

static void srv_start(struct srv_job *j, int lsn, int mode)
{
    srv_start_ex(j, lsn, mode, -1, -1, 0);
}

static void srv_join(struct srv_job *j)
{
    pthread_join(j->tid, NULL);
}

/* The server job of the running test (one at a time; static, so that a
 * failed assertion leaks nothing). */
static struct srv_job g_sj;

/* ----------------------------------------------------------- client end */

struct cli_res {
    int hs; /* SSL_HandshakeComplete; -99 socket/start failed */
    int setup_err;
    int ping_rc, pong_rc, pong_err;
    int st_ok;
    SSL_CONN_STATE st;
    SslProblemS prob;
};

/* One whole connection: handshake, "ping" -> "pong", state snapshot, clean
 * close on both ends. The server end runs in a thread (mode SJ_PINGPONG);
 * its results are in *s after the join. */
static void one_conn(int lsn, unsigned short port, int cli_sid, const char *name, struct cli_res *r,
                     struct srv_job *s)
{
    char buf[64];
    int sd, err;

    memset(r, 0, sizeof *r);
    srv_start(s, lsn, SJ_PINGPONG);
    sd = tu_client(AF_INET, cli_sid, port, &r->setup_err);
    if (sd < 0 || SSL_ClientStart(sd, (char *)name, &r->setup_err) != 0) {
        r->hs = -99;
    } else {
        r->hs = SSL_HandshakeComplete(sd, SSL_WAIT_FOREVER);
        if (r->hs == 1) {
            r->ping_rc = send(sd, "ping", 4, 0, &err);
            r->pong_rc = recv(sd, buf, sizeof buf, MSG_TIMEOUT, WAIT_MS, &r->pong_err);
            if (r->pong_rc == 4 && memcmp(buf, "pong", 4) != 0)
                r->pong_rc = -97;
        } else if (r->hs == 0) {
            r->hs = -96; /* SSL_WAIT_FOREVER never answers 0 */
        }
    }
    if (sd >= 0) {
        tu_snapshot(sd, &r->st, &r->st_ok, &r->prob);
        if (r->hs == 1 && r->pong_rc == 4) {
            SSL_ConnClose(sd, &err);
            recv(sd, buf, sizeof buf, MSG_TIMEOUT, WAIT_MS, &err);
        }
        closesocket(sd, &err);
    }
    srv_join(s);
}

static void want_good(const char *what, const struct cli_res *r, const struct srv_job *s)
{
    if (r->hs != 1 || r->ping_rc != 4 || r->pong_rc != 4 || !r->st_ok)
        fail_msg("%s: client handshake %d (set-up error %d), ping %d, pong %d/%d; problem: "
                 "error %d flags 0x%x alert %d \"%s\"",
                 what, r->hs, r->setup_err, r->ping_rc, r->pong_rc, r->pong_err, r->prob.errorCode,
                 (unsigned)r->prob.certFlags, r->prob.alert, r->prob.reason);
    if (s->hs != 1 || !s->got_ping || !s->st_ok)
        fail_msg("%s: server handshake %d, got ping %d (problem: error %d alert %d \"%s\")", what,
                 s->hs, s->got_ping, s->prob.errorCode, s->prob.alert, s->prob.reason);
}

/* Both ends of an established connection, owned by the calling thread
 * (blocking sockets); the listener and the session stay the test's.
 * cli_min: TCP_SSL_SEND_MIN_SIZE set on the client before its handshake
 * (0: none). */
static void pair_open(int lsn, unsigned short port, int cli_sid, int cli_min, struct tu_pair *p)
{
    struct tu_opt min[] = {{IP_PROTOTCP_LEVEL, TCP_SSL_SEND_MIN_SIZE, cli_min}, {0, 0, 0}};

    p->lsn = lsn;
    p->cli_sid = cli_sid;
    p->srv_sid = 0;
    if (tu_pair_connect(p, AF_INET, port, "localhost", cli_min ? min : NULL) != 0)
        fail_msg("pair: client handshake %d (error %d), server %d", p->cli_hs, p->error, p->srv_hs);
    p->lsn = -1; /* not the pair's */
    p->cli_sid = 0;
}

/* Read exactly len bytes (MSG_TIMEOUT each) into buf; returns bytes read. */
static int recv_all(int sd, unsigned char *buf, int len, int *err)
{
    int got = 0, n;

    while (got < len) {
        n = recv(sd, buf + got, len - got, MSG_TIMEOUT, WAIT_MS, err);
        if (n <= 0)
            break;
        got += n;
    }
    return got;
}

/* ========================================== 1: TCP_SSL_SEND_MAX_SIZE bound */

/* A thread between the chipssl client and the chipssl server that forwards
 * bytes both ways and notes the header (type, length) of every TLS record
 * the client sends. */
enum { MAX_RECORDS = 4096 };

struct proxy {
    pthread_t tid;
    int lsn;                /* plain listener the client connects to */
    unsigned short up_port; /* the SSL server                         */
    /* results */
    int ok, nrec, overflow;
    unsigned char type[MAX_RECORDS];
    unsigned short len[MAX_RECORDS];
    /* record header parser */
    unsigned char hdr[5];
    int hdr_have, body_left;
};

static void proxy_parse(struct proxy *p, const unsigned char *d, size_t n)
{
    while (n > 0) {
        if (p->hdr_have < 5) {
            size_t k = (size_t)(5 - p->hdr_have) < n ? (size_t)(5 - p->hdr_have) : n;

            memcpy(p->hdr + p->hdr_have, d, k);
            p->hdr_have += (int)k;
            d += k;
            n -= k;
            if (p->hdr_have == 5) {
                if (p->nrec < MAX_RECORDS) {
                    p->type[p->nrec] = p->hdr[0];
                    p->len[p->nrec] = (unsigned short)((p->hdr[3] << 8) | p->hdr[4]);
                    p->nrec++;
                } else {
                    p->overflow = 1;
                }
                p->body_left = (p->hdr[3] << 8) | p->hdr[4];
                if (p->body_left == 0)
                    p->hdr_have = 0;
            }
        } else {
            size_t k = (size_t)p->body_left < n ? (size_t)p->body_left : n;

            p->body_left -= (int)k;
            d += k;
            n -= k;
            if (p->body_left == 0)
                p->hdr_have = 0;
        }
    }
}

static int write_all(int fd, const unsigned char *d, size_t n)
{
    while (n > 0) {
        ssize_t w = write(fd, d, n);

        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return -1;
        d += w;
        n -= (size_t)w;
    }
    return 0;
}

static void *proxy_main(void *arg)
{
    struct proxy *p = arg;
    unsigned char buf[8192];
    struct pollfd pf[2];
    int a, b, err, i;

    if (!tu_readable(p->lsn, WAIT_MS))
        return NULL;
    a = accept(p->lsn, NULL, &err); /* plain sockets of the library */
    if (a < 0)
        return NULL;
    b = tu_client(AF_INET, 0, p->up_port, &err);
    if (b < 0) {
        closesocket(a, &err);
        return NULL;
    }
    p->ok = 1;
    for (;;) {
        pf[0].fd = a;
        pf[1].fd = b;
        pf[0].events = pf[1].events = POLLIN;
        pf[0].revents = pf[1].revents = 0;
        if (poll(pf, 2, WAIT_MS) <= 0) {
            p->ok = 0; /* stalled */
            break;
        }
        for (i = 0; i < 2; i++) {
            ssize_t n;

            if (!(pf[i].revents & (POLLIN | POLLHUP | POLLERR)))
                continue;
            n = read(pf[i].fd, buf, sizeof buf);
            if (n <= 0)
                goto done; /* one end closed: close both */
            if (i == 0)
                proxy_parse(p, buf, (size_t)n);
            if (write_all(i == 0 ? b : a, buf, (size_t)n) != 0)
                goto done;
        }
    }
done:
    closesocket(a, &err);
    closesocket(b, &err);
    return NULL;
}

struct maxsize_case {
    const char *desc;
    int version, suite;
    int send_max; /* 0: not set (default 16384) */
    int total;    /* bytes sent with one send() */
    int overhead; /* record length - plaintext length for this suite */
};

/* TLS 1.2 AES-GCM: 8-byte explicit nonce + 16-byte tag. TLS 1.3: inner
 * content type byte + 16-byte tag (OpenSSL adds no padding by default). */
/* clang-format off */
static const struct maxsize_case maxsize_cases[] = {
    { "1: TLS1.2 SEND_MAX_SIZE 100, 1000 bytes", V12, 0xC02F, 100, 1000, 24 },
    { "1: TLS1.3 SEND_MAX_SIZE 100, 1000 bytes", V13, 0x1301, 100, 1000, 17 },
    { "1: TLS1.2 SEND_MAX_SIZE 1000, 5000 bytes", V12, 0xC02F, 1000, 5000, 24 },
    { "1: TLS1.3 SEND_MAX_SIZE 16384, 40000 bytes", V13, 0x1301, 16384, 40000, 17 },
    /* contrast: without the option the limit is the default (16384); the
     * same measurement sees records larger than 100 */
    { "1: TLS1.2 default, 40000 bytes", V12, 0xC02F, 0, 40000, 24 },
    { "1: TLS1.3 default, 40000 bytes", V13, 0x1301, 0, 40000, 17 },
};
/* clang-format on */

static void run_maxsize_case(void **state)
{
    const struct maxsize_case *c = *state;
    struct tu_scfg ss = {.version = c->version, .cert = "srv", .props = &c->suite, .nprops = 1};
    struct tu_scfg cs = {.version = c->version, .props = &c->suite, .nprops = 1};
    static struct proxy g_px;
    static unsigned char data[65536];
    struct proxy *px = &g_px;
    struct srv_job *sj = &g_sj;
    unsigned char ack[8];
    unsigned short sport, pport;
    int srv_sid, cli_sid, slsn, sd, err, hs = -99, sent = -99, send_err = 0, ackn = -99, i;
    int first23 = -1, napp = 0, maxplain = 0, sumplain = 0, limit;
    SSL_CONN_STATE st;
    SslProblemS prob;
    int st_ok = 0;

    memset(&st, 0, sizeof st);
    memset(px, 0, sizeof *px);
    assert_true(c->total <= (int)sizeof data);
    for (i = 0; i < c->total; i++)
        data[i] = (unsigned char)(i * 13 + 7);
    srv_sid = new_session(&ss);
    cli_sid = new_session(&cs);
    slsn = tu_listener(AF_INET, srv_sid, &sport, &err);
    assert_true(slsn >= 0);
    px->lsn = tu_listener(AF_INET, 0, &pport, &err);
    assert_true(px->lsn >= 0);
    px->up_port = sport;
    assert_int_equal(pthread_create(&px->tid, NULL, proxy_main, px), 0);
    srv_start_ex(sj, slsn, SJ_COLLECT, -1, -1, c->total);

    sd = tu_client(AF_INET, cli_sid, pport, &err);
    if (sd >= 0 &&
        (c->send_max == 0 || tu_setopt(sd, TCP_SSL_SEND_MAX_SIZE, c->send_max, &err) == 0) &&
        SSL_ClientStart(sd, "localhost", &err) == 0) {
        hs = SSL_HandshakeComplete(sd, SSL_WAIT_FOREVER);
        if (hs == 1) {
            sent = send(sd, data, c->total, 0, &send_err);
            ackn = recv_all(sd, ack, 3, &err); /* all of it arrived */
        }
        tu_snapshot(sd, &st, &st_ok, &prob);
    }
    /* closesocket without close_notify: every client record after the
     * handshake is then application data (nothing unread here, so FIN) */
    if (sd >= 0)
        closesocket(sd, &err);
    srv_join(sj);
    pthread_join(px->tid, NULL);

    if (hs != 1 || sj->hs != 1)
        fail_msg("%s: handshake client %d (error %d), server %d", c->desc, hs, err, sj->hs);
    assert_int_equal(sent, c->total);
    assert_int_equal(ackn, 3);
    assert_true(st_ok);
    assert_int_equal(st.cipherSuite, c->suite);
    assert_int_equal(sj->got, c->total);
    assert_memory_equal(sj->buf, data, (size_t)c->total);
    if (!px->ok || px->overflow)
        fail_msg("%s: proxy ok %d, record table overflow %d", c->desc, px->ok, px->overflow);

    /* Application data records: type 23. In TLS 1.3 the client's Finished
     * is its first type-23 record (RFC 8446 5.1, 4.4.4): skip it. */
    for (i = 0; i < px->nrec; i++) {
        int plain;

        if (px->type[i] < 20 || px->type[i] > 23)
            fail_msg("%s: record %d has content type %d", c->desc, i, px->type[i]);
        if (px->type[i] != 23)
            continue;
        if (c->version == V13 && first23 < 0) {
            first23 = i;
            continue;
        }
        plain = px->len[i] - c->overhead;
        if (plain <= 0)
            fail_msg("%s: record %d of length %d", c->desc, i, px->len[i]);
        napp++;
        sumplain += plain;
        if (plain > maxplain)
            maxplain = plain;
    }
    limit = c->send_max ? c->send_max : 16384;
    if (sumplain != c->total)
        fail_msg("%s: application records carry %d bytes in %d records, want %d", c->desc, sumplain,
                 napp, c->total);
    if (maxplain > limit)
        fail_msg("%s: a record carries %d bytes of plaintext, limit %d", c->desc, maxplain, limit);
    if (napp < (c->total + limit - 1) / limit)
        fail_msg("%s: %d records for %d bytes with limit %d", c->desc, napp, c->total, limit);
    if (c->send_max == 0 && maxplain <= 100)
        fail_msg("%s: without the option no record is above 100 bytes (%d)", c->desc, maxplain);

    closesocket(slsn, &err);
    closesocket(px->lsn, &err);
    tu_session_close(srv_sid);
    tu_session_close(cli_sid);
}

/* =============================== 2: send before the handshake finished */

enum { DRIVE_HSCOMPLETE, DRIVE_RECV };

struct early_case {
    const char *desc;
    int version;
    int dontwait; /* blocking socket, send with MSG_DONTWAIT (else the socket
                     is non-blocking and flags are 0)                      */
    int pieces;   /* sends before the handshake ends                        */
    int drive;    /* what finishes the handshake                            */
};

/* clang-format off */
static const struct early_case early_cases[] = {
    { "2: TLS1.2 non-blocking socket, SSL_HandshakeComplete finishes", V12, 0, 1, DRIVE_HSCOMPLETE },
    { "2: TLS1.3 non-blocking socket, SSL_HandshakeComplete finishes", V13, 0, 1, DRIVE_HSCOMPLETE },
    { "2: TLS1.2 three sends, SSL_HandshakeComplete finishes", V12, 0, 3, DRIVE_HSCOMPLETE },
    { "2: TLS1.3 three sends, recv finishes", V13, 0, 3, DRIVE_RECV },
    { "2: TLS1.2 MSG_DONTWAIT on a blocking socket, recv finishes", V12, 1, 1, DRIVE_RECV },
    { "2: TLS1.3 MSG_DONTWAIT on a blocking socket", V13, 1, 2, DRIVE_HSCOMPLETE },
};
/* clang-format on */

static void run_early_case(void **state)
{
    const struct early_case *c = *state;
    struct tu_scfg ss = {.version = c->version, .cert = "srv"}, cs = {.version = c->version};
    struct srv_job *sj = &g_sj;
    enum { PIECE = 1500 };
    static unsigned char data[3 * PIECE];
    unsigned char ack[8];
    unsigned short port;
    int srv_sid, cli_sid, lsn, sd, err, i, hs = 0, total = c->pieces * PIECE;
    int gate[2], sig[2], accepted = 0, state_before = -1, delivered, ackn = -99;
    double t0;
    void *vp;

    for (i = 0; i < total; i++)
        data[i] = (unsigned char)(i * 7 + c->pieces);
    assert_int_equal(pipe(gate), 0);
    assert_int_equal(pipe(sig), 0);
    srv_sid = new_session(&ss);
    cli_sid = new_session(&cs);
    lsn = tu_listener(AF_INET, srv_sid, &port, &err);
    assert_true(lsn >= 0);
    srv_start_ex(sj, lsn, SJ_COLLECT, gate[0], sig[1], total);

    sd = tu_client(AF_INET, cli_sid, port, &err);
    assert_true(sd >= 0);
    if (!c->dontwait)
        assert_int_equal(Set_Blocking_Mode(sd, 1, &err), 0);
    assert_int_equal(SSL_ClientStart(sd, "localhost", &err), 0);
    /* The server does not look at the ClientHello before the gate opens:
     * the handshake cannot be finished while these sends run. */
    for (i = 0; i < c->pieces; i++) {
        int n = send(sd, data + i * PIECE, PIECE, c->dontwait ? MSG_DONTWAIT : 0, &err);

        if (n != PIECE)
            fail_msg("%s: send %d before the handshake returned %d (error %d), want %d", c->desc, i,
                     n, err, PIECE);
        accepted += n;
    }
    assert_int_equal(SSL_GetConnState(sd, &vp, &err), 0);
    state_before = ((SSL_CONN_STATE *)vp)->handshakeState;
    if (state_before == SSL_HS_DONE || state_before == SSL_HS_FAILED)
        fail_msg("%s: handshakeState %d after the early sends", c->desc, state_before);
    assert_int_equal(write(gate[1], "g", 1), 1);

    t0 = tu_now();
    if (c->drive == DRIVE_HSCOMPLETE) {
        while ((hs = SSL_HandshakeComplete(sd, 200)) == 0 && tu_now() - t0 < LIMIT_S)
            ;
        if (hs != 1)
            fail_msg("%s: SSL_HandshakeComplete %d", c->desc, hs);
        /* No further call on the client socket: the held data must already
         * be on its way. */
        delivered = tu_readable(sig[0], WAIT_MS);
        ackn = recv_all(sd, ack, 3, &err);
    } else {
        /* recv drives the handshake, sends the held data, then waits for
         * the server's "ack" */
        ackn = recv_all(sd, ack, 3, &err);
        delivered = tu_readable(sig[0], 0);
        hs = SSL_HandshakeComplete(sd, 0);
    }
    if (!c->dontwait)
        assert_int_equal(Set_Blocking_Mode(sd, 0, &err), 0);
    if (ackn == 3)
        SSL_ConnClose(sd, &err);
    closesocket(sd, &err);
    srv_join(sj);

    assert_int_equal(accepted, total);
    if (!delivered || ackn != 3 || hs != 1)
        fail_msg("%s: server got %d of %d bytes (delivered %d, client ack %d, handshake %d, "
                 "server handshake %d)",
                 c->desc, sj->got, total, delivered, ackn, hs, sj->hs);
    /* exactly those bytes, in order, then the end of the stream */
    assert_int_equal(sj->got, total);
    assert_memory_equal(sj->buf, data, (size_t)total);
    assert_int_equal(sj->end_rc, 0);
    assert_int_equal(sj->st.bytesIn, (unsigned long long)total);

    close(gate[0]);
    close(gate[1]);
    close(sig[0]);
    close(sig[1]);
    closesocket(lsn, &err);
    tu_session_close(srv_sid);
    tu_session_close(cli_sid);
}

/* ==================================================== 3: cache bounds */

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
    { "3: TLS1.2 client maxCaches 1: A A B B A", V12, 1, { 0, 1, 0, 1, 0 } },
    { "3: TLS1.3 client maxCaches 1: A A B B A", V13, 1, { 0, 1, 0, 1, 0 } },
    { "3: TLS1.2 client maxCaches 2: A A B B A (contrast)", V12, 2, { 0, 1, 0, 1, 1 } },
    { "3: TLS1.3 client maxCaches 2: A A B B A (contrast)", V13, 2, { 0, 1, 0, 1, 1 } },
};
/* clang-format on */

static void run_ccache_case(void **state)
{
    const struct ccache_case *c = *state;
    struct tu_scfg ss = {.version = c->version, .cert = "srv", .caches = 10};
    struct tu_scfg cs = {.version = c->version, .caches = c->cli_caches};
    static const int seq[5] = {0, 0, 1, 1, 0}; /* A A B B A */
    struct srv_job *sj = &g_sj;
    struct cli_res r;
    unsigned short port[2];
    int srv_sid[2], lsn[2], cli_sid, err, i, got[5];
    char what[160];

    for (i = 0; i < 2; i++) {
        srv_sid[i] = new_session(&ss);
        lsn[i] = tu_listener(AF_INET, srv_sid[i], &port[i], &err);
        assert_true(lsn[i] >= 0);
    }
    cli_sid = new_session(&cs);
    for (i = 0; i < 5; i++) {
        one_conn(lsn[seq[i]], port[seq[i]], cli_sid, "localhost", &r, sj);
        snprintf(what, sizeof what, "%s, connection %d (%c)", c->desc, i + 1, "AB"[seq[i]]);
        want_good(what, &r, sj);
        if (r.st.resumed != sj->st.resumed)
            fail_msg("%s: client says resumed %d, server %d", what, r.st.resumed, sj->st.resumed);
        got[i] = r.st.resumed;
    }
    for (i = 0; i < 5; i++)
        if (got[i] != c->want[i])
            fail_msg("%s: resumed %d %d %d %d %d, want %d %d %d %d %d", c->desc, got[0], got[1],
                     got[2], got[3], got[4], c->want[0], c->want[1], c->want[2], c->want[3],
                     c->want[4]);
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
    { "3: TLS1.2 server maxCaches 1: c1 c2 c1 c2 c2", V12, 1,
      { 0, 1, 0, 1, 1 }, { 0, 0, 0, 0, 1 } },
    { "3: TLS1.3 server maxCaches 1: c1 c2 c1 c2 c2", V13, 1,
      { 0, 1, 0, 1, 1 }, { 0, 0, 0, 0, 1 } },
    { "3: TLS1.2 server maxCaches 2: c1 c2 c1 c2 c2", V12, 2,
      { 0, 1, 0, 1, 1 }, { 0, 0, 1, 1, 1 } },
    { "3: TLS1.3 server maxCaches 2: c1 c2 c1 c2 c2", V13, 2,
      { 0, 1, 0, 1, 1 }, { 0, 0, 1, 1, 1 } },
    { "3: TLS1.2 server maxCaches 2: c1 c2 c3 c2 c1", V12, 2,
      { 0, 1, 2, 1, 0 }, { 0, 0, 0, 1, 0 } },
    { "3: TLS1.3 server maxCaches 2: c1 c2 c3 c2 c1", V13, 2,
      { 0, 1, 2, 1, 0 }, { 0, 0, 0, 1, 0 } },
};
/* clang-format on */

static void run_scache_case(void **state)
{
    const struct scache_case *c = *state;
    struct tu_scfg ss = {.version = c->version, .cert = "srv", .caches = c->srv_caches};
    struct tu_scfg cs = {.version = c->version, .caches = 10};
    struct srv_job *sj = &g_sj;
    struct cli_res r;
    unsigned short port;
    int srv_sid, lsn, cli_sid[3], err, i, got[5];
    char what[160];

    srv_sid = new_session(&ss);
    lsn = tu_listener(AF_INET, srv_sid, &port, &err);
    assert_true(lsn >= 0);
    for (i = 0; i < 3; i++)
        cli_sid[i] = new_session(&cs);
    for (i = 0; i < 5; i++) {
        one_conn(lsn, port, cli_sid[c->seq[i]], "localhost", &r, sj);
        snprintf(what, sizeof what, "%s, connection %d (c%d)", c->desc, i + 1, c->seq[i] + 1);
        want_good(what, &r, sj);
        if (r.st.resumed != sj->st.resumed)
            fail_msg("%s: client says resumed %d, server %d", what, r.st.resumed, sj->st.resumed);
        got[i] = r.st.resumed;
    }
    for (i = 0; i < 5; i++)
        if (got[i] != c->want[i])
            fail_msg("%s: resumed %d %d %d %d %d, want %d %d %d %d %d", c->desc, got[0], got[1],
                     got[2], got[3], got[4], c->want[0], c->want[1], c->want[2], c->want[3],
                     c->want[4]);
    closesocket(lsn, &err);
    tu_session_close(srv_sid);
    for (i = 0; i < 3; i++)
        tu_session_close(cli_sid[i]);
}

/* ================================= 4: SSL_ConnClose sends held-back data */

struct hold_case {
    const char *desc;
    int version;
    int nonblocking; /* client socket non-blocking for the sends and the close */
    int pieces;      /* sends of 10 bytes, all below TCP_SSL_SEND_MIN_SIZE */
};

/* clang-format off */
static const struct hold_case hold_cases[] = {
    { "4: TLS1.2 SSL_ConnClose flushes held data", V12, 0, 1 },
    { "4: TLS1.3 SSL_ConnClose flushes held data", V13, 0, 1 },
    { "4: TLS1.3 non-blocking SSL_ConnClose flushes three pieces", V13, 1, 3 },
    { "4: TLS1.2 non-blocking SSL_ConnClose flushes three pieces", V12, 1, 3 },
};
/* clang-format on */

static void run_hold_case(void **state)
{
    const struct hold_case *c = *state;
    struct tu_scfg ss = {.version = c->version, .cert = "srv"}, cs = {.version = c->version};
    static const char text[] = "held-back-0held-back-1held-back-2";
    struct tu_pair p;
    unsigned char buf[64];
    unsigned short port;
    int srv_sid, cli_sid, lsn, err, i, rc, total = c->pieces * 11;
    double t0;
    void *vp;

    srv_sid = new_session(&ss);
    cli_sid = new_session(&cs);
    lsn = tu_listener(AF_INET, srv_sid, &port, &err);
    assert_true(lsn >= 0);
    pair_open(lsn, port, cli_sid, 1000, &p);
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

    /* the held bytes first, then the end of the stream by close_notify */
    assert_int_equal(recv_all(p.srv, buf, total, &err), total);
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
    closesocket(lsn, &err);
    tu_session_close(srv_sid);
    tu_session_close(cli_sid);
}

/* ======================== 5: option 2 toggled on a session in use */

struct toggle_case {
    const char *desc;
    int version;
    int a, b; /* client offers a, b; the server's list is b, a */
};

/* clang-format off */
static const struct toggle_case toggle_cases[] = {
    { "5: TLS1.2 option 2 off/on/off on a session in use", V12, 0xC02F, 0xC030 },
    { "5: TLS1.3 option 2 off/on/off on a session in use", V13, 0x1301, 0x1302 },
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
    struct srv_job *sj = &g_sj;
    struct cli_res r;
    struct tu_pair p;
    unsigned char buf[8];
    unsigned short port;
    int srv_sid, cli_sid, lsn, err, i, want;
    char what[160];
    void *vp;

    srv_sid = new_session(&ss);
    cli_sid = new_session(&cs);
    lsn = tu_listener(AF_INET, srv_sid, &port, &err);
    assert_true(lsn >= 0);
    /* a connection of the session stays open through the changes */
    pair_open(lsn, port, cli_sid, 0, &p);
    assert_int_equal(SSL_GetConnState(p.srv, &vp, &err), 0);
    assert_int_equal(((SSL_CONN_STATE *)vp)->cipherSuite, c->a);

    for (i = 0; i < 4; i++) {
        assert_int_equal(SSL_SessionOpt(srv_sid, SSL_OPT_SERVER_PROPOSALS, opt2[i], &err), 0);
        one_conn(lsn, port, cli_sid, "localhost", &r, sj);
        want = opt2[i] ? c->b : c->a;
        snprintf(what, sizeof what, "%s, step %d (option 2 %s)", c->desc, i + 1,
                 opt2[i] ? "on" : "off");
        want_good(what, &r, sj);
        if (r.st.cipherSuite != want || sj->st.cipherSuite != want)
            fail_msg("%s: suite client 0x%04x server 0x%04x, want 0x%04x", what,
                     (unsigned)r.st.cipherSuite, (unsigned)sj->st.cipherSuite, (unsigned)want);
    }

    /* the connection made before the changes still works, with its suite */
    assert_int_equal(send(p.cli, "live", 4, 0, &err), 4);
    assert_int_equal(recv_all(p.srv, buf, 4, &err), 4);
    assert_memory_equal(buf, "live", 4);
    assert_int_equal(SSL_GetConnState(p.cli, &vp, &err), 0);
    assert_int_equal(((SSL_CONN_STATE *)vp)->cipherSuite, c->a);

    tu_pair_close(&p);
    closesocket(lsn, &err);
    tu_session_close(srv_sid);
    tu_session_close(cli_sid);
}

/* ======================================= 6: SslProblemS.hsState values */

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
    { "6: TLS1.2 client refuses an untrusted server certificate",
      { .version = V12, .cert = "self" }, { .version = V12 }, "localhost", SIDE_CLIENT,
      SSL_HS_CERTIFICATE, SSL_HS_CERTIFICATE, PKI_CERT_UNKNOWNCA },
    { "6: TLS1.3 client refuses an untrusted server certificate",
      { .version = V13, .cert = "self" }, { .version = V13 }, "localhost", SIDE_CLIENT,
      SSL_HS_CERTIFICATE, SSL_HS_CERTIFICATE, PKI_CERT_UNKNOWNCA },
    { "6: TLS1.2 client refuses a server certificate for another name",
      { .version = V12, .cert = "srv" }, { .version = V12 }, "wrong.example", SIDE_CLIENT,
      SSL_HS_CERTIFICATE, SSL_HS_CERTIFICATE, PKI_CERT_UNMATCHED },
    { "6: TLS1.3 client refuses a server certificate for another name",
      { .version = V13, .cert = "srv" }, { .version = V13 }, "wrong.example", SIDE_CLIENT,
      SSL_HS_CERTIFICATE, SSL_HS_CERTIFICATE, PKI_CERT_UNMATCHED },
    /* the server refuses: its certificate (and request) went out already,
     * so the failure is not in the hello phase; refusing the client's
     * certificate happens while verifying it (SSL_HS_CERTIFICATE: "certificate
     * exchange and verification"), although the server's ServerHelloDone
     * (TLS 1.2) or Finished (TLS 1.3) was sent before */
    { "6: TLS1.2 server refuses a missing client certificate",
      { .version = V12, .cert = "srv", .opt1 = 1 }, { .version = V12 }, "localhost",
      SIDE_SERVER, SSL_HS_CERTIFICATE, SSL_HS_FINISHED, 0 },
    { "6: TLS1.3 server refuses a missing client certificate",
      { .version = V13, .cert = "srv", .opt1 = 1 }, { .version = V13 }, "localhost",
      SIDE_SERVER, SSL_HS_CERTIFICATE, SSL_HS_FINISHED, 0 },
    { "6: TLS1.2 server refuses an untrusted client certificate",
      { .version = V12, .cert = "srv", .opt1 = 1 }, { .version = V12, .cert = "cli-unt" },
      "localhost", SIDE_SERVER, SSL_HS_CERTIFICATE, SSL_HS_CERTIFICATE, PKI_CERT_UNKNOWNCA },
    { "6: TLS1.3 server refuses an untrusted client certificate",
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
    struct srv_job *sj = &g_sj;
    struct cli_res r;
    unsigned short port;
    int srv_sid, cli_sid, lsn, err;
    const SslProblemS *pr;

    srv_sid = new_session(&c->srv);
    cli_sid = new_session(&c->cli);
    lsn = tu_listener(AF_INET, srv_sid, &port, &err);
    assert_true(lsn >= 0);
    one_conn(lsn, port, cli_sid, c->name, &r, sj);
    /* the failing side: a TLS 1.3 client refused after its Finished may
     * finish, then its recv fails (tcpip.h, option 1) */
    if (c->side == SIDE_CLIENT && r.hs != -3)
        fail_msg("%s: client handshake %d, want -3", c->desc, r.hs);
    if (sj->hs != -3)
        fail_msg("%s: server handshake %d, want -3", c->desc, sj->hs);
    pr = c->side == SIDE_CLIENT ? &r.prob : &sj->prob;
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

/* A silent peer: the handshake time limit passes in the hello phase. */
static void test_hsstate_timeout_client(void **state)
{
    struct tu_scfg cs = {0};
    SslProblemS prob;
    unsigned short port;
    int lsn, sd, err, sid, rc;
    double t0, dt;

    (void)state;
    sid = new_session(&cs);
    lsn = tu_listener(AF_INET, 0, &port, &err); /* plain TCP: never answers */
    assert_true(lsn >= 0);
    sd = tu_client(AF_INET, sid, port, &err);
    assert_true(sd >= 0);
    assert_int_equal(tu_setopt(sd, TCP_SSL_CONNECT_TIMEOUT, 1, &err), 0);
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
    sid = new_session(&ss);
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

/* =========================== 7: a root from PKI_RootCABundleAdd anchors */

static char g_bundle[64];
#define BUNDLE_PREFIX "cov-bundle:"

static int bundle_teardown(void **state)
{
    int err;

    (void)state;
    PKI_CertificateDel(BUNDLE_PREFIX "0", PKI_CERT_NONLOCAL, &err);
    PKI_CertificateDel(BUNDLE_PREFIX "1", PKI_CERT_NONLOCAL, &err);
    /* the group's root, whatever happened (a duplicate add is refused) */
    tu_add_cert("ca.pem", PKI_FMT_PEM, ROOT, "ca", NULL, &err);
    if (g_bundle[0])
        unlink(g_bundle);
    g_bundle[0] = '\0';
    return 0;
}

static void test_bundle_root_anchors(void **state)
{
    struct tu_scfg ss = {.cert = "srv"}, cs = {0};
    struct srv_job *sj = &g_sj;
    struct cli_res r;
    char *ca = tu_read("ca.pem", NULL), *ca2 = tu_read("ca2.pem", NULL);
    unsigned short port;
    int srv_sid, cli_sid, lsn, err, fd, n, ok;

    (void)state;
    snprintf(g_bundle, sizeof g_bundle, "/tmp/chipssl-bundle-XXXXXX");
    fd = mkstemp(g_bundle);
    ok = ca != NULL && ca2 != NULL && fd >= 0 && write(fd, ca, strlen(ca)) == (ssize_t)strlen(ca) &&
         write(fd, ca2, strlen(ca2)) == (ssize_t)strlen(ca2);
    if (fd >= 0)
        close(fd);
    else
        g_bundle[0] = '\0';
    free(ca);
    free(ca2);
    assert_true(ok); /* ca.pem + ca2.pem written to the bundle file */

    srv_sid = new_session(&ss);
    cli_sid = new_session(&cs);
    lsn = tu_listener(AF_INET, srv_sid, &port, &err);
    assert_true(lsn >= 0);

    /* without the root: UNKNOWNCA */
    assert_int_equal(PKI_CertificateDel("ca", PKI_CERT_NONLOCAL, &err), 0);
    one_conn(lsn, port, cli_sid, "localhost", &r, sj);
    if (r.hs != -3 || !(r.prob.certFlags & PKI_CERT_UNKNOWNCA))
        fail_msg("no root: handshake %d, certFlags 0x%x, want -3 with UNKNOWNCA", r.hs,
                 (unsigned)r.prob.certFlags);

    /* the bundle's two roots, under "<prefix>0" and "<prefix>1" */
    err = 4242;
    n = PKI_RootCABundleAdd(g_bundle, BUNDLE_PREFIX, &err);
    assert_int_equal(n, 2);
    assert_int_equal(err, 0);
    one_conn(lsn, port, cli_sid, "localhost", &r, sj);
    want_good("root from the bundle", &r, sj);
    assert_int_equal(r.st.peerCertFlags, 0);

    /* it was the bundle's first entry (ca.pem) that anchored it */
    assert_int_equal(PKI_CertificateDel(BUNDLE_PREFIX "0", PKI_CERT_NONLOCAL, &err), 0);
    one_conn(lsn, port, cli_sid, "localhost", &r, sj);
    if (r.hs != -3 || !(r.prob.certFlags & PKI_CERT_UNKNOWNCA))
        fail_msg("bundle entry 0 deleted: handshake %d, certFlags 0x%x, want -3 with UNKNOWNCA",
                 r.hs, (unsigned)r.prob.certFlags);
    assert_int_equal(PKI_CertificateDel(BUNDLE_PREFIX "1", PKI_CERT_NONLOCAL, &err), 0);

    closesocket(lsn, &err);
    tu_session_close(srv_sid);
    tu_session_close(cli_sid);
}

/* ==================================== 8: shutdown on an SSL socket */

struct shut_case {
    const char *desc;
    int version, how;
};

/* clang-format off */
static const struct shut_case shut_cases[] = {
    { "8: TLS1.2 shutdown(1)", V12, 1 },
    { "8: TLS1.3 shutdown(1)", V13, 1 },
    { "8: TLS1.3 shutdown(2)", V13, 2 },
    { "8: TLS1.3 shutdown(0): sending still works", V13, 0 },
};
/* clang-format on */

static void run_shut_case(void **state)
{
    const struct shut_case *c = *state;
    struct tu_scfg ss = {.version = c->version, .cert = "srv"}, cs = {.version = c->version};
    struct tu_pair p;
    unsigned char buf[16];
    unsigned short port;
    int srv_sid, cli_sid, lsn, err;

    srv_sid = new_session(&ss);
    cli_sid = new_session(&cs);
    lsn = tu_listener(AF_INET, srv_sid, &port, &err);
    assert_true(lsn >= 0);
    pair_open(lsn, port, cli_sid, 0, &p);
    assert_int_equal(send(p.cli, "before", 6, 0, &err), 6);
    assert_int_equal(shutdown(p.cli, c->how, &err), 0);
    assert_int_equal(err, 0);

    if (c->how == 0) {
        assert_int_equal(send(p.cli, "after", 5, 0, &err), 5);
        assert_int_equal(recv_all(p.srv, buf, 11, &err), 11);
        assert_memory_equal(buf, "beforeafter", 11);
    } else {
        err = 0;
        assert_int_equal(send(p.cli, "after", 5, 0, &err), -1);
        assert_int_equal(err, API_ESHUTDOWN);
        err = 0;
        assert_int_equal(SSL_ConnClose(p.cli, &err), -1);
        assert_int_equal(err, API_EINVAL);
        /* the peer reads what came before, then the end of the stream (FIN) */
        assert_int_equal(recv_all(p.srv, buf, 6, &err), 6);
        assert_memory_equal(buf, "before", 6);
        err = 4242;
        assert_int_equal(recv(p.srv, buf, sizeof buf, MSG_TIMEOUT, WAIT_MS, &err), 0);
        assert_int_equal(err, 0);
    }
    if (c->how == 1) {
        /* half-closed: the client still reads */
        assert_int_equal(send(p.srv, "reply", 5, 0, &err), 5);
        assert_int_equal(recv_all(p.cli, buf, 5, &err), 5);
        assert_memory_equal(buf, "reply", 5);
    }
    tu_pair_close(&p);
    closesocket(lsn, &err);
    tu_session_close(srv_sid);
    tu_session_close(cli_sid);
}

/* ----------------------------------------------------------------- main */

struct local_cert {
    const char *id, *key, *cert, *caid;
    int keytype;
};

static const struct local_cert locals[] = {
    {"srv", "server.key", "server.pem", "ca", PKI_KEY_RSA},
    {"self", "selfsigned.key", "selfsigned.pem", NULL, PKI_KEY_EC},
    {"cli-unt", "client-untrusted.key", "client-untrusted.pem", NULL, PKI_KEY_EC},
};

static int group_setup(void **state)
{
    int err;
    size_t i;

    (void)state;
    if (tu_add_cert("ca.pem", PKI_FMT_PEM, ROOT, "ca", NULL, &err) != 0) {
        print_error("setup: ca.pem: %d\n", err);
        return -1;
    }
    for (i = 0; i < sizeof locals / sizeof locals[0]; i++)
        if (tu_add_local(locals[i].key, locals[i].keytype, locals[i].cert, locals[i].id,
                         locals[i].caid, &err) != 0) {
            print_error("setup: own certificate %s: %d\n", locals[i].id, err);
            return -1;
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
    PKI_CertificateDel("ca", PKI_CERT_NONLOCAL, &err);
    return 0;
}

#define ADD_TABLE(tbl, fn)                                                                         \
    for (i = 0; i < sizeof tbl / sizeof tbl[0]; i++) {                                             \
        tests[n].name = tbl[i].desc;                                                               \
        tests[n].test_func = fn;                                                                   \
        tests[n].initial_state = (void *)&tbl[i];                                                  \
        n++;                                                                                       \
    }

int main(void)
{
    static struct CMUnitTest tests[64];
    size_t i, n = 0;

    tu_require_pki();
    ADD_TABLE(maxsize_cases, run_maxsize_case);
    ADD_TABLE(early_cases, run_early_case);
    ADD_TABLE(ccache_cases, run_ccache_case);
    ADD_TABLE(scache_cases, run_scache_case);
    ADD_TABLE(hold_cases, run_hold_case);
    ADD_TABLE(toggle_cases, run_toggle_case);
    ADD_TABLE(hsstate_cases, run_hsstate_case);
    tests[n++] = (struct CMUnitTest)cmocka_unit_test(test_hsstate_timeout_client);
    tests[n++] = (struct CMUnitTest)cmocka_unit_test(test_hsstate_timeout_server);
    tests[n++] =
        (struct CMUnitTest)cmocka_unit_test_teardown(test_bundle_root_anchors, bundle_teardown);
    ADD_TABLE(shut_cases, run_shut_case);
    if (n > sizeof tests / sizeof tests[0])
        abort();
    return _cmocka_run_group_tests("coverage", tests, n, group_setup, group_teardown);
}
