/*
 * test_send_recv.c - what send() and recv() carry on an established (or
 * establishing) SSL socket, each found untested by a review or an audit:
 *
 *   record size      TCP_SSL_SEND_MAX_SIZE bounds the plaintext of every
 *                    record (a proxy thread between client and server parses
 *                    the TLS record headers)
 *   early data       data given to a non-blocking send before the handshake
 *                    finished is delivered, exactly, once it finishes
 *   no plaintext     an SSL socket without TCP_SSLSESSION never sends or
 *                    reads plaintext (regression: it fell back to plain TCP)
 *   recv *error      a successful recv sets *error to 0 (regression: it left
 *                    the caller's value)
 *   wait events      SSL_GetWaitEvents includes POLLOUT while output is
 *                    pending (regression: a recv that found nothing hid it)
 *
 * Where a table fits, the rows include a contrast (the same steps with one
 * setting changed) that must give another result, so that a measurement
 * which could not tell the two apart fails too. Server ends run in threads
 * of this process (or, for the record size, behind a proxy thread); cmocka
 * assertions are made in the main thread only, after the threads were
 * joined. Everything on 127.0.0.1, ports chosen by the OS.
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
#include "tu_cmocka.h"

#define V12 SSL_VERSION_TLS12
#define V13 SSL_VERSION_TLS13
#define WAIT_MS TU_WAIT_MS
#define LIMIT_S 8.0  /* generous bound for a handshake that normally ends at once */
#define GARBAGE 4242 /* what *error holds before a call that must clear it */

/* ----------------------------------------------------------- server end */

/* The server end of the record-size and early-data cases: accept, [wait
 * for the gate], handshake, read everything until the end of the stream;
 * "ack" (and a byte on signal_fd) once `expect` bytes came. */
struct srv_job {
    pthread_t tid;
    int lsn;
    int gate;      /* read end of a pipe; the handshake starts only after one
                      byte arrives there (-1: at once)                    */
    int signal_fd; /* write end of a pipe, or -1                          */
    int expect;    /* bytes after which "ack" is sent                     */
    /* results */
    int sd, accept_err, hs;
    unsigned char buf[65536];
    int got, end_rc, end_err;
    int st_ok;
    SSL_CONN_STATE st;
    SslProblemS prob;
};

static void *srv_main(void *arg)
{
    struct srv_job *j = arg;
    char c;
    int err, n, acked = 0;

    if (!tu_readable(j->lsn, WAIT_MS)) /* the client never came */
        return NULL;
    j->sd = accept(j->lsn, NULL, &j->accept_err);
    if (j->sd < 0)
        return NULL;
    if (j->gate >= 0 && (!tu_readable(j->gate, WAIT_MS) || read(j->gate, &c, 1) != 1)) {
        closesocket(j->sd, &err); /* the gate never opened */
        j->sd = -1;
        return NULL;
    }
    j->hs = SSL_HandshakeComplete(j->sd, SSL_WAIT_FOREVER);
    while (j->hs == 1) {
        /* the client ends with a FIN (after its close_notify or not), so
         * this wait ends at once */
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
    tu_snapshot(j->sd, &j->st, &j->st_ok, &j->prob);
    if (j->hs == 1 && j->end_rc == 0)
        SSL_ConnClose(j->sd, &err);
    closesocket(j->sd, &err);
    j->sd = -1;
    return NULL;
}

static void srv_start(struct srv_job *j, int lsn, int gate, int signal_fd, int expect)
{
    memset(j, 0, sizeof *j);
    j->lsn = lsn;
    j->sd = -1;
    j->gate = gate;
    j->signal_fd = signal_fd;
    j->expect = expect;
    assert_int_equal(pthread_create(&j->tid, NULL, srv_main, j), 0);
}

static void srv_join(struct srv_job *j)
{
    pthread_join(j->tid, NULL);
}

/* The server job of the running test (one at a time; static, so that a
 * failed assertion leaks nothing). */
static struct srv_job g_sj;

/* ============================== record size: TCP_SSL_SEND_MAX_SIZE bound */

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
    { "record size: TLS1.2 SEND_MAX_SIZE 100, 1000 bytes", V12, 0xC02F, 100, 1000, 24 },
    { "record size: TLS1.3 SEND_MAX_SIZE 100, 1000 bytes", V13, 0x1301, 100, 1000, 17 },
    { "record size: TLS1.2 SEND_MAX_SIZE 1000, 5000 bytes", V12, 0xC02F, 1000, 5000, 24 },
    { "record size: TLS1.3 SEND_MAX_SIZE 16384, 40000 bytes", V13, 0x1301, 16384, 40000, 17 },
    /* contrast: without the option the limit is the default (16384); the
     * same measurement sees records larger than 100 */
    { "record size: TLS1.2 default, 40000 bytes", V12, 0xC02F, 0, 40000, 24 },
    { "record size: TLS1.3 default, 40000 bytes", V13, 0x1301, 0, 40000, 17 },
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
    srv_sid = tu_new_session(&ss);
    cli_sid = tu_new_session(&cs);
    slsn = tu_listener(AF_INET, srv_sid, &sport, &err);
    assert_true(slsn >= 0);
    px->lsn = tu_listener(AF_INET, 0, &pport, &err);
    assert_true(px->lsn >= 0);
    px->up_port = sport;
    assert_int_equal(pthread_create(&px->tid, NULL, proxy_main, px), 0);
    srv_start(sj, slsn, -1, -1, c->total);

    sd = tu_client(AF_INET, cli_sid, pport, &err);
    if (sd >= 0 &&
        (c->send_max == 0 || tu_setopt(sd, TCP_SSL_SEND_MAX_SIZE, c->send_max, &err) == 0) &&
        SSL_ClientStart(sd, "localhost", &err) == 0) {
        hs = SSL_HandshakeComplete(sd, SSL_WAIT_FOREVER);
        if (hs == 1) {
            sent = send(sd, data, c->total, 0, &send_err);
            ackn = tu_recv_all(sd, ack, 3, WAIT_MS, &err); /* all of it arrived */
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

/* =================================== early data: send before the handshake */

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
    { "early data: TLS1.2 non-blocking socket, SSL_HandshakeComplete finishes", V12, 0, 1, DRIVE_HSCOMPLETE },
    { "early data: TLS1.3 non-blocking socket, SSL_HandshakeComplete finishes", V13, 0, 1, DRIVE_HSCOMPLETE },
    { "early data: TLS1.2 three sends, SSL_HandshakeComplete finishes", V12, 0, 3, DRIVE_HSCOMPLETE },
    { "early data: TLS1.3 three sends, recv finishes", V13, 0, 3, DRIVE_RECV },
    { "early data: TLS1.2 MSG_DONTWAIT on a blocking socket, recv finishes", V12, 1, 1, DRIVE_RECV },
    { "early data: TLS1.3 MSG_DONTWAIT on a blocking socket", V13, 1, 2, DRIVE_HSCOMPLETE },
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
    srv_sid = tu_new_session(&ss);
    cli_sid = tu_new_session(&cs);
    lsn = tu_listener(AF_INET, srv_sid, &port, &err);
    assert_true(lsn >= 0);
    srv_start(sj, lsn, gate[0], sig[1], total);

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
        ackn = tu_recv_all(sd, ack, 3, WAIT_MS, &err);
    } else {
        /* recv drives the handshake, sends the held data, then waits for
         * the server's "ack" */
        ackn = tu_recv_all(sd, ack, 3, WAIT_MS, &err);
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

/* ======================== no plaintext: fail closed without TCP_SSLSESSION */

struct noplain_case {
    const char *desc;
    int server; /* 1: accepted from a TCP_SSL_SERVER listener, 0: TCP_SSL_CLIENT */
    int nonblocking;
};

static const struct noplain_case noplain_cases[] = {
    {"no plaintext: TCP_SSL_CLIENT without TCP_SSLSESSION sends/reads no plaintext", 0, 0},
    {"no plaintext: TCP_SSL_CLIENT without TCP_SSLSESSION, non-blocking", 0, 1},
    {"no plaintext: TCP_SSL_SERVER (inherited) without TCP_SSLSESSION sends/reads no plaintext", 1,
     0},
    {"no plaintext: TCP_SSL_SERVER (inherited) without TCP_SSLSESSION, non-blocking", 1, 1},
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

/* Two ends of an established connection, both blocking, owned by the
 * calling thread. cli_sndbuf/lsn_rcvbuf: SO_SNDBUF of the client, SO_RCVBUF
 * of the listener (so of the accepted socket); 0 leaves the OS default. */
static void open_pair(struct tu_pair *p, int version, int cli_sndbuf, int lsn_rcvbuf)
{
    struct tu_opt snd[] = {{SOL_SOCKET, SO_SNDBUF, cli_sndbuf}, {0, 0, 0}};
    struct tu_opt rcv[] = {{SOL_SOCKET, SO_RCVBUF, lsn_rcvbuf}, {0, 0, 0}};

    tu_want_pair(tu_pair_open(p, AF_INET, version, "localhost", lsn_rcvbuf ? rcv : NULL,
                              cli_sndbuf ? snd : NULL),
                 p);
}

/* ============================================================ recv *error */

enum { READ_CLIENT, READ_SERVER };

struct recv_case {
    const char *desc;
    int version;
    int reader;
    int flags;
};

/* clang-format off */
static const struct recv_case recv_cases[] = {
    { "recv *error: TLS1.2 client recv MSG_TIMEOUT", V12, READ_CLIENT, MSG_TIMEOUT },
    { "recv *error: TLS1.3 client recv MSG_TIMEOUT", V13, READ_CLIENT, MSG_TIMEOUT },
    { "recv *error: TLS1.3 client recv MSG_BLOCKING", V13, READ_CLIENT, MSG_BLOCKING },
    { "recv *error: TLS1.3 client recv flags 0 (blocking socket)", V13, READ_CLIENT, 0 },
    { "recv *error: TLS1.2 client recv MSG_DONTWAIT", V12, READ_CLIENT, MSG_DONTWAIT },
    { "recv *error: TLS1.3 client recv MSG_DONTWAIT", V13, READ_CLIENT, MSG_DONTWAIT },
    { "recv *error: TLS1.3 client recv MSG_TIMEOUT|MSG_PEEK", V13, READ_CLIENT, MSG_TIMEOUT | MSG_PEEK },
    { "recv *error: TLS1.2 server recv MSG_TIMEOUT", V12, READ_SERVER, MSG_TIMEOUT },
    { "recv *error: TLS1.3 server recv MSG_TIMEOUT", V13, READ_SERVER, MSG_TIMEOUT },
    { "recv *error: TLS1.3 server recv MSG_DONTWAIT|MSG_PEEK", V13, READ_SERVER, MSG_DONTWAIT | MSG_PEEK },
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
    struct tu_end r;
    unsigned short port;
    int srv_sid, cli_sid, err, sd;

    (void)state;
    srv_sid = tu_new_session(&s);
    cli_sid = tu_new_session(&k);
    memset(&j, 0, sizeof j);
    j.lsn = tu_listener(AF_INET, srv_sid, &port, &err);
    assert_true(j.lsn >= 0);
    assert_int_equal(pthread_create(&j.tid, NULL, lazy_main, &j), 0);
    sd = tu_cli_open(AF_INET, cli_sid, port, "localhost", &r);
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
        fail_msg("recv *error: server's first recv returned %d with *error %d, want 3 with 0", j.rc,
                 j.err);
}

/* ================== wait events: SSL_GetWaitEvents and pending output */

struct wait_case {
    const char *desc;
    int version;
};

static const struct wait_case wait_cases[] = {
    {"wait events: TLS1.2 SSL_GetWaitEvents with output pending", V12},
    {"wait events: TLS1.3 SSL_GetWaitEvents with output pending", V13},
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

int main(void)
{
    static struct CMUnitTest tests[64];
    size_t n = 0;

    tu_require_pki();
    TU_ADD_TABLE(tests, n, maxsize_cases, run_maxsize_case);
    TU_ADD_TABLE(tests, n, early_cases, run_early_case);
    TU_ADD_TABLE(tests, n, noplain_cases, run_noplain_case);
    TU_ADD_TABLE(tests, n, recv_cases, run_recv_case);
    TU_ADD_TEST(tests, n, "recv *error: a recv that drives the handshake clears *error",
                test_recv_driving_handshake_clears_error);
    TU_ADD_TABLE(tests, n, wait_cases, run_wait_case);
    return _cmocka_run_group_tests("send_recv", tests, n, tu_setup_srv, tu_teardown_srv);
}
