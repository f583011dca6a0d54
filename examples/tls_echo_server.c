/*
 * tls_echo_server - a TLS echo server on chipssl's public API, and the model
 * of an event loop on chipssl: one thread, non-blocking sockets, poll() and
 * one timer per connection, no polling tick. `tls_echo_server -h` explains
 * every option.
 *
 * A connection goes through three phases:
 *   handshake  accept() on the non-blocking listener gives a non-blocking
 *              SSL socket. SSL_GetTimeout, asked right after accept(), arms
 *              its timer for the handshake time limit (-t).
 *              SSL_HandshakeComplete(sd, 0) runs only when poll() reports
 *              what SSL_GetWaitEvents asked for, or when the timer fires:
 *              then the library fails the handshake with API_ETIMEDOUT.
 *   open       recv and send with MSG_DONTWAIT; after API_EWOULDBLOCK the
 *              connection waits for what SSL_GetWaitEvents says. A client
 *              that stops reading stalls only its own connection.
 *   closing    at the client's end of stream (and for every connection at
 *              exit): SSL_ConnClose, called again whenever the socket is
 *              ready until it returns 0, with a timer (CLOSE_LIMIT_MS) for a
 *              client that never reads; then closesocket().
 * A failed connection is just closesocket()'d: the library itself lets the
 * peer read a fatal alert it sent. poll() (ppoll, so that a signal is never
 * missed) waits until the nearest timer, or without a limit when no timer
 * runs.
 *
 * stdout (one line each, in words): "SERVER ..." (the settings), "READY
 * port=N"; per connection "CONN ok ..." or "CONN failed ..." after the
 * handshake, "ENDED ..." for a failure after it (or a close that timed
 * out), "CLOSED in=N out=N" at the end of an established connection.
 */
#define _GNU_SOURCE /* ppoll */
#include "example_util.h"

#include <fcntl.h>
#include <malloc.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define MAX_CONNS 16384 /* static table: only the used entries take memory */
#define CLOSE_LIMIT_MS 5000 /* how long a clean close waits for a peer that does not read */
#define NO_TIMER (-1LL)

enum phase { HANDSHAKE, OPEN, CLOSING };

struct conn {
    int sd;              /* -1 once closed */
    enum phase phase;
    short wait;          /* poll events this connection waits for */
    long long deadline;  /* when its timer fires (now_ms() clock), or NO_TIMER */
    int len, off;        /* echo buffer: bytes to send back */
    unsigned char buf[16384];
};

static volatile sig_atomic_t stop;
static int quiet; /* -q */
static void on_signal(int sig) { (void)sig; stop = 1; }

static void usage(FILE *f, int code)
{
    fprintf(f,
        "usage: tls_echo_server -c CERT -k KEY [options]\n"
        "A TLS echo server on chipssl: every byte a client sends comes back to it.\n"
        "\n"
        "Identity and trust:\n"
        "  -c CERT      the server's certificate (PEM file)\n"
        "  -k KEY       its key (PEM; RSA, EC or Ed25519, unencrypted)\n"
        "  -a CA        add a root CA certificate (PEM), e.g. to verify client\n"
        "               certificates; repeat for more (up to 16)\n"
        "  -A CLIENTCA  require client certificates (option 1) issued by this CA (PEM);\n"
        "               it is named in the CertificateRequest; repeat for more (up to 16)\n"
        "  -R CRL       add a certificate revocation list (PEM); repeat (up to 4)\n"
        "  -I CERT:KEY  one more identity (certificate and key, PEM), presented to clients\n"
        "               whose SNI matches its names (subjectAltName DNS entries, else the\n"
        "               CN; *.example.com covers one label), the first that matches;\n"
        "               clients that send no SNI, or a name no identity matches, get\n"
        "               -c/-k; repeat for more (up to %d)\n"
        "Session:\n"
        "  -o OPTS      session options, comma-separated: N turns option N on, N=0 off:\n"
        "               1 client authentication (with -a roots when no -A is given),\n"
        "               2 server proposals: the server picks the first suite of its own\n"
        "                 list (-s) that the client offers; off (the default), it takes\n"
        "                 the client's first choice among the suites it has,\n"
        "               3 skip validation of client certificates\n"
        "  -s SUITES    the server's proposal list, in order: IANA numbers (0x1302) or\n"
        "               names (TLS_AES_256_GCM_SHA384), separated by commas; default:\n"
        "               chipssl's list\n"
        "  -v MASK      protocol versions, an SSL_VERSION_* mask: 0x08 TLS 1.2,\n"
        "               0x10 TLS 1.3 (default 0x18, both)\n"
        "  -m CACHES    resumption cache size (default 16; 0: no resumption)\n"
        "  -L PROTOS    ALPN: the application protocols the server speaks, comma-separated,\n"
        "               in order of preference (e.g. h2,http/1.1); a client offering some\n"
        "               but none of these is refused (no_application_protocol alert), one\n"
        "               offering none is served without ALPN (default: no ALPN)\n"
        "Listening:\n"
        "  -p PORT      TCP port (default 0: one the system chooses, printed on READY)\n"
        "  -b ADDR      address to listen on (default 127.0.0.1; IPv6 literals work)\n"
        "  -n CONNS     exit after this many connections have ended (default: run until\n"
        "               SIGINT or SIGTERM)\n"
        "  -t SECONDS   handshake time limit per connection (TCP_SSL_CONNECT_TIMEOUT;\n"
        "               default 10, 0: none), counted from accept(): a client that has\n"
        "               not finished its handshake by then is dropped (\"CONN failed\n"
        "               error=timed out ... reason=handshake time limit passed\")\n"
        "  -q           quiet: no CONN line for a connection whose handshake succeeded\n"
        "               (failures are still reported; the line's SSL_GetConnState\n"
        "               record costs about 1 KiB per connection until it closes)\n"
        "  -w BYTES     the kernel's send buffer of each connection (SO_SNDBUF; default:\n"
        "               the system's, which grows as needed); a small one makes a client\n"
        "               that does not read stall its connection sooner\n"
        "  -h           this help\n"
        "\n"
        "One thread serves every connection with poll() and a timer per connection,\n"
        "without a polling tick: a handshake is advanced when its socket is ready or\n"
        "its time limit passes; a client that stops reading stalls only its own\n"
        "connection. At a client's end of stream, and for every connection at exit,\n"
        "the server closes cleanly (close_notify) without blocking, waiting at most\n"
        "%d s for a client that reads nothing (\"ENDED close: ...\" when it gave up).\n"
        "\n"
        "Output on stdout, one line each: \"SERVER ...\" (the settings, in words),\n"
        "\"READY port=N\" once listening; per connection \"CONN ok version=... suite=NAME\n"
        "(0xNNNN) resumed=yes|no peer=SUBJECT flags=WORDS sni=NAME alpn=PROTOCOL origin=N\"\n"
        "(sni and alpn \"-\" when none; origin: the number of the full handshake whose TLS\n"
        "session the connection uses, the same for a resumption of it) or \"CONN failed\n"
        "error=WORDS (N) flags=WORDS (0xNN) alert=WORDS (N) sent=yes|no state=WORDS (N)\n"
        "reason=WHY\"; \"ENDED ...\" when it fails after the handshake (or its close gives\n"
        "up); \"CLOSED in=BYTES out=BYTES\" at the end of an established connection.\n"
        "Exit status 0, or 1 for a usage or set-up error (printed on stderr in words).\n",
        CHIPSSL_MAX_IDENTITIES - 1, CLOSE_LIMIT_MS / 1000);
    exit(code);
}

static long long now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* The readiness to wait for: what the library asks, else `fallback`. */
static short wait_events(int sd, short fallback)
{
    int err;
    int ev = SSL_GetWaitEvents(sd, &err);
    return ev > 0 ? (short)ev : fallback;
}

/* The timer of a handshake: SSL_GetTimeout's milliseconds from now. */
static long long handshake_timer(int sd)
{
    int err;
    int left = SSL_GetTimeout(sd, &err);
    return left < 0 || left == SSL_NO_TIMEOUT ? NO_TIMER : now_ms() + left;
}

/* closesocket(), after "CLOSED" for an established connection. A failed one
 * is closed the same way: the library lets the peer read the fatal alert it
 * sent. Returns -1: the connection is gone. */
static int conn_end(struct conn *c)
{
    int err;
    SSL_CONN_STATE *st = NULL;
    if (c->phase != HANDSHAKE && SSL_GetConnState(c->sd, (void **)&st, &err) == 0)
        printf("CLOSED in=%llu out=%llu\n", st->bytesIn, st->bytesOut);
    fflush(stdout);
    closesocket(c->sd, &err);
    c->sd = -1;
    return -1;
}

/* One more step of a clean close (close_notify): SSL_ConnClose never waits on
 * a non-blocking socket, so it is called again when the socket is ready,
 * until it is done or the close timer fired. */
static int conn_close_step(struct conn *c, int expired)
{
    int err;
    if (SSL_ConnClose(c->sd, &err) == 0 || err != API_EWOULDBLOCK)
        return conn_end(c); /* sent, or the connection is gone anyway */
    if (expired) {
        printf("ENDED close: close_notify not sent within %d s, the client is not reading; "
               "closing the socket without it\n", CLOSE_LIMIT_MS / 1000);
        return conn_end(c);
    }
    c->wait = wait_events(c->sd, POLLOUT);
    return 0;
}

static int conn_close(struct conn *c)
{
    c->phase = CLOSING;
    c->deadline = now_ms() + CLOSE_LIMIT_MS;
    return conn_close_step(c, 0);
}

/* Do all the work possible now (the socket is ready, or `expired`: its timer
 * fired); returns 0 while the connection lives, -1 once it is closed. */
static int conn_step(struct conn *c, int expired)
{
    int err = 0;
    if (c->phase == CLOSING)
        return conn_close_step(c, expired);
    if (c->phase == HANDSHAKE) {
        int r = SSL_HandshakeComplete(c->sd, 0); /* fails at the time limit */
        if (r == 0) {
            if (expired) /* woken a little early for the library: ask again */
                c->deadline = handshake_timer(c->sd);
            c->wait = wait_events(c->sd, POLLIN);
            return 0;
        }
        if (r != 1) {
            ex_report(stdout, "CONN", c->sd, 0); /* the time limit: error=timed out */
            return conn_end(c);
        }
        c->phase = OPEN;
        c->deadline = NO_TIMER;
        if (!quiet)
            ex_report(stdout, "CONN", c->sd, 1);
    }
    for (;;) {
        while (c->off < c->len) {
            int n = send(c->sd, c->buf + c->off, c->len - c->off, MSG_DONTWAIT, &err);
            if (n > 0) {
                c->off += n;
                continue;
            }
            if (err == API_EWOULDBLOCK) {
                c->wait = wait_events(c->sd, POLLOUT);
                return 0;
            }
            ex_report_io(stdout, "ENDED", c->sd, "send", err);
            return conn_end(c);
        }
        c->off = c->len = 0;
        int n = recv(c->sd, c->buf, (int)sizeof c->buf, MSG_DONTWAIT, 0, &err);
        if (n > 0) {
            c->len = n;
            continue;
        }
        if (n == 0)
            return conn_close(c); /* the client's end of stream */
        if (err == API_EWOULDBLOCK) {
            c->wait = wait_events(c->sd, POLLIN);
            return 0;
        }
        ex_report_io(stdout, "ENDED", c->sd, "recv", err);
        return conn_end(c);
    }
}

int main(int argc, char **argv)
{
    const char *cert = NULL, *key = NULL, *bindaddr = "127.0.0.1", *opts = NULL,
               *suites = NULL;
    const char *cas[16], *client_cas[16];
    const char *crls[4], *alpn = NULL;
    const char *identities[CHIPSSL_MAX_IDENTITIES - 1];
    int ncrls = 0, nidentities = 0;
    int ncas = 0, nclient = 0, port = 0, version = SSL_VERSION_TLS12 | SSL_VERSION_TLS13,
        caches = 16, max_conns = -1, timeout = -1, sndbuf = 0, opt;
    while ((opt = getopt(argc, argv, "c:k:p:b:a:A:R:I:L:o:s:v:m:n:t:w:qh")) != -1) {
        switch (opt) {
        case 'c': cert = optarg; break;
        case 'k': key = optarg; break;
        case 'p': port = atoi(optarg); break;
        case 'b': bindaddr = optarg; break;
        case 'a': if (ncas < 16) cas[ncas++] = optarg; break;
        case 'A': if (nclient < 16) client_cas[nclient++] = optarg; break;
        case 'R': if (ncrls < 4) crls[ncrls++] = optarg; break;
        case 'I':
            if (nidentities == CHIPSSL_MAX_IDENTITIES - 1 || !strchr(optarg, ':')) {
                fprintf(stderr, "tls_echo_server: -I %s: %s\n", optarg,
                        strchr(optarg, ':') ? "too many identities" : "not CERT:KEY");
                usage(stderr, 1);
            }
            identities[nidentities++] = optarg;
            break;
        case 'L': alpn = optarg; break;
        case 'o': opts = optarg; break;
        case 's': suites = optarg; break;
        case 'v': version = (int)strtol(optarg, NULL, 0); break;
        case 'm': caches = atoi(optarg); break;
        case 'n': max_conns = atoi(optarg); break;
        case 't': timeout = atoi(optarg); break;
        case 'w': sndbuf = atoi(optarg); break;
        case 'q': quiet = 1; break;
        case 'h': usage(stdout, 0); break;
        default: usage(stderr, 1);
        }
    }
    if (optind != argc) {
        fprintf(stderr, "tls_echo_server: unexpected argument \"%s\"\n", argv[optind]);
        usage(stderr, 1);
    }
    if (!cert || !key) {
        fprintf(stderr, "tls_echo_server: -c CERT and -k KEY are required\n");
        usage(stderr, 1);
    }
    signal(SIGPIPE, SIG_IGN);
    struct sigaction sa = { .sa_handler = on_signal };
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);

    int err = 0;
    if (ex_add_own_cert(cert, key, "server") != 0)
        return 1;
    if (ex_add_each(cas, ncas, "ca", ex_add_root_ca) != 0 ||
        ex_add_each(crls, ncrls, "crl", ex_add_crl) != 0)
        return 1;
    SSL_SESSION_NEW_Entry se = { "server", caches, version };
    int session = SSL_SessionNew(&se, &err);
    if (session < 0) {
        ex_fail("SSL_SessionNew", err);
        return 1;
    }
    if (nclient > 0 && SSL_SessionOpt(session, SSL_OPT_CLIENT_AUTH, 1, &err) != 0) {
        ex_fail("option 1 (client authentication)", err);
        return 1;
    }
    for (int i = 0; i < nclient; i++) {
        char id[32];
        snprintf(id, sizeof id, "clientca%d", i);
        if (ex_add_root_ca(client_cas[i], id) != 0)
            return 1;
        if (SSL_AddClientCA(session, id, &err) != 0) {
            char what[300];
            snprintf(what, sizeof what, "SSL_AddClientCA %s", client_cas[i]);
            ex_fail(what, err);
            return 1;
        }
    }
    for (int i = 0; i < nidentities; i++) {
        /* CERT:KEY, split at the last colon (a path may hold colons). */
        char id[32], certfile[4096];
        const char *colon = strrchr(identities[i], ':');
        snprintf(certfile, sizeof certfile, "%.*s", (int)(colon - identities[i]), identities[i]);
        snprintf(id, sizeof id, "identity%d", i);
        if (ex_add_own_cert(certfile, colon + 1, id) != 0)
            return 1;
        if (SSL_SessionAddIdentity(session, id, &err) != 0) {
            char what[sizeof certfile + 160];
            snprintf(what, sizeof what, "SSL_SessionAddIdentity %s%s", certfile,
                     err == API_EINVAL ? " (a certificate the TLS engine refuses, e.g. "
                                         "signed with SHA-1 or a short RSA key)" : "");
            ex_fail(what, err);
            return 1;
        }
    }
    if (alpn && SSL_SessionALPN(session, alpn, &err) != 0) {
        char what[300];
        snprintf(what, sizeof what, "ALPN list \"%s\"%s", alpn,
                 err == API_EINVAL ? " (an empty name, a name over 255 bytes or a list "
                                     "over 255 bytes)" : "");
        ex_fail(what, err);
        return 1;
    }
    int options = nclient > 0 ? 1 << SSL_OPT_CLIENT_AUTH : 0;
    if ((opts && ex_set_options(session, opts, &options) != 0) ||
        (suites && ex_set_suites(session, suites) != 0))
        return 1;

    int v6 = strchr(bindaddr, ':') != NULL;
    int ls = opensocket_ext(v6 ? AF_INET6 : AF_INET, SOCK_STREAM, &err);
    struct sockaddr_in a4 = { .sin_family = AF_INET, .sin_port = htons((unsigned short)port) };
    struct sockaddr_in6 a6 = { .sin6_family = AF_INET6, .sin6_port = htons((unsigned short)port) };
    /* -w: set on the listener, the accepted sockets inherit it */
    SetSocketOption sb = { SOL_SOCKET, SO_SNDBUF, (const char *)&sndbuf, sizeof sndbuf };
    if (ls < 0 || (v6 ? inet_pton(AF_INET6, bindaddr, &a6.sin6_addr) != 1
                      : inet_addr(bindaddr, &a4.sin_addr.s_addr) != 0) ||
        bind(ls, v6 ? (void *)&a6 : (void *)&a4, &err) != 0 ||
        (sndbuf > 0 && setsockopt(ls, &sb, &err) != 0) || listen(ls, 128, &err) != 0) {
        char what[300];
        snprintf(what, sizeof what, "cannot listen on %s port %d", bindaddr, port);
        if (ls >= 0 && err == 0)
            fprintf(stderr, "%s: not an IP address\n", what);
        else
            ex_fail(what, err);
        return 1;
    }
    int one = 1;
    SetSocketOption so = { IP_PROTOTCP_LEVEL, TCP_SSL_SERVER, (const char *)&one, sizeof one };
    SetSocketOption ss = { IP_PROTOTCP_LEVEL, TCP_SSLSESSION, (const char *)&session, sizeof session };
    SetSocketOption st = { IP_PROTOTCP_LEVEL, TCP_SSL_CONNECT_TIMEOUT, (const char *)&timeout,
                           sizeof timeout };
    if (setsockopt(ls, &so, &err) != 0 || setsockopt(ls, &ss, &err) != 0 ||
        (timeout >= 0 && setsockopt(ls, &st, &err) != 0) ||
        Set_Blocking_Mode(ls, 1, &err) != 0) {
        ex_fail("SSL socket options", err);
        return 1;
    }
    struct sockaddr_in6 bound;
    socklen_t bl = sizeof bound;
    getsockname(ls, (struct sockaddr *)&bound, &bl);
    char names[1024];
    printf("SERVER server proposals (option 2) %s, client authentication (option 1) %s, "
           "skip certificate validation (option 3) %s; suites: %s; identities by SNI: %d; "
           "ALPN: %s\n",
           options & (1 << SSL_OPT_SERVER_PROPOSALS) ? "on" : "off",
           options & (1 << SSL_OPT_CLIENT_AUTH) ? "on" : "off",
           options & (1 << SSL_OPT_SKIP_CERT_VALIDATION) ? "on" : "off",
           suites ? ex_suites_text(suites, names, sizeof names) : "chipssl's default list",
           nidentities, alpn ? alpn : "none");
    printf("READY port=%d\n", ntohs(bound.sin6_port)); /* same offset in both */
    fflush(stdout);

    /* SIGINT and SIGTERM arrive only inside ppoll(), so none is missed
     * between the check of `stop` and a wait without a time limit. */
    sigset_t block, unblocked;
    sigemptyset(&block);
    sigaddset(&block, SIGINT);
    sigaddset(&block, SIGTERM);
    sigprocmask(SIG_BLOCK, &block, &unblocked);

    static struct conn conns[MAX_CONNS];
    static struct pollfd pfd[MAX_CONNS + 1];
    int nconn = 0, ended = 0, quitting = 0;
    /* After a second without events, the free memory of the work before
     * (OpenSSL's handshake and record buffers) goes back to the system;
     * without it, a burst of handshakes stays in the RSS for good. */
    long long trim_at = NO_TIMER;
    for (;;) {
        /* Forget the closed connections; find the nearest timer. */
        long long next = trim_at;
        int k = 0;
        for (int i = 0; i < nconn; i++) {
            if (conns[i].sd < 0) {
                ended++;
                continue;
            }
            if (k != i)
                conns[k] = conns[i];
            if (conns[k].deadline != NO_TIMER && (next == NO_TIMER || conns[k].deadline < next))
                next = conns[k].deadline;
            k++;
        }
        nconn = k;
        if (!quitting && (stop || (max_conns >= 0 && ended >= max_conns))) {
            /* Exit: no more accept(); handshakes are dropped, established
             * connections closed cleanly (still without blocking). */
            quitting = 1;
            for (int i = 0; i < nconn; i++) {
                if (conns[i].phase == HANDSHAKE)
                    conn_end(&conns[i]);
                else if (conns[i].phase == OPEN)
                    conn_close(&conns[i]);
            }
            continue;
        }
        if (quitting && nconn == 0)
            break;

        pfd[0] = (struct pollfd){ .fd = quitting ? -1 : ls,
                                  .events = nconn < MAX_CONNS ? POLLIN : 0 };
        for (int i = 0; i < nconn; i++)
            pfd[i + 1] = (struct pollfd){ .fd = conns[i].sd, .events = conns[i].wait };
        struct timespec wait, *limit = NULL; /* no timer: wait without a limit */
        if (next != NO_TIMER) {
            long long ms = next - now_ms();
            if (ms < 0)
                ms = 0;
            wait = (struct timespec){ .tv_sec = ms / 1000, .tv_nsec = ms % 1000 * 1000000 };
            limit = &wait;
        }
        int ready = ppoll(pfd, (nfds_t)nconn + 1, limit, &unblocked);
        if (ready < 0)
            continue; /* a signal: `stop` is looked at above */

        long long now = now_ms();
        if (ready > 0) {
            trim_at = now + 1000;
        } else if (trim_at != NO_TIMER && now >= trim_at) {
            trim_at = NO_TIMER;
            malloc_trim(0);
        }
        for (int i = 0; i < nconn; i++) {
            int expired = conns[i].deadline != NO_TIMER && now >= conns[i].deadline;
            if (pfd[i + 1].revents || expired)
                conn_step(&conns[i], expired);
        }
        if (pfd[0].revents & POLLIN) {
            int sd;
            while (nconn < MAX_CONNS && (sd = accept(ls, NULL, &err)) >= 0) {
                /* The listener is non-blocking, so are the sockets it gives. */
                int flags = fcntl(sd, F_GETFL);
                if (flags < 0 || !(flags & O_NONBLOCK)) {
                    fprintf(stderr, "tls_echo_server: accept() gave a blocking socket "
                                    "(this chipssl predates non-blocking accept); "
                                    "connection dropped\n");
                    closesocket(sd, &err);
                    continue;
                }
                /* The handshake time limit runs from accept(): arm its timer
                 * now. A server's handshake starts by reading the ClientHello. */
                /* Field by field: the echo buffer is not zeroed (an idle
                 * connection then costs none of its 16 KiB). */
                struct conn *n = &conns[nconn++];
                n->sd = sd;
                n->phase = HANDSHAKE;
                n->wait = wait_events(sd, POLLIN);
                n->deadline = handshake_timer(sd);
                n->len = n->off = 0;
            }
        }
    }
    closesocket(ls, &err);
    SSL_SessionClose(session, &err);
    return 0;
}
