/*
 * tls_echo_server - a TLS echo server on chipssl's public API, event-driven:
 * one non-blocking listener, non-blocking SSL sockets, poll() and
 * SSL_GetWaitEvents. Usage: see usage() below.
 *
 * stdout (one line each): "READY port=N"; per connection "CONN ok ..." or
 * "CONN failed ..." after the handshake; "CLOSED in=N out=N" at the end.
 */
#include "example_util.h"

#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define MAX_CONNS 1024

struct conn {
    int sd;
    int hs_done;
    short wait;          /* poll events this connection waits for */
    int len, off;        /* echo buffer: bytes to send back */
    unsigned char buf[16384];
};

static volatile sig_atomic_t stop;
static void on_signal(int sig) { (void)sig; stop = 1; }

static void usage(void)
{
    fprintf(stderr,
            "usage: tls_echo_server -c CERT -k KEY [-p PORT] [-b ADDR] [-a CA]... [-A CLIENTCA]... [-R CRL]...\n"
            "                       [-o OPTS] [-s SUITES] [-v MASK] [-m CACHES] [-n CONNS] [-t SECONDS]\n");
    exit(1);
}

static void conn_end(struct conn *c, int clean)
{
    int err;
    SSL_CONN_STATE *st = NULL;
    if (clean && c->hs_done) {
        /* close_notify: the socket is non-blocking, finish it blocking. */
        Set_Blocking_Mode(c->sd, 0, &err);
        SSL_ConnClose(c->sd, &err);
    }
    if (SSL_GetConnState(c->sd, (void **)&st, &err) == 0 && c->hs_done)
        printf("CLOSED in=%llu out=%llu\n", st->bytesIn, st->bytesOut);
    fflush(stdout);
    closesocket(c->sd, &err);
    c->sd = -1;
}

/* Do all the work possible now; returns 0 while the connection lives. */
static int conn_progress(struct conn *c)
{
    int err = 0;
    if (!c->hs_done) {
        int r = SSL_HandshakeComplete(c->sd, 0);
        if (r == 0) {
            c->wait = (short)SSL_GetWaitEvents(c->sd, &err);
            return 0;
        }
        if (r != 1) {
            ex_report(stdout, "CONN", c->sd, 0);
            conn_end(c, 0);
            return -1;
        }
        c->hs_done = 1;
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
                c->wait = (short)SSL_GetWaitEvents(c->sd, &err);
                if (!c->wait)
                    c->wait = POLLOUT;
                return 0;
            }
            conn_end(c, 0);
            return -1;
        }
        c->off = c->len = 0;
        int n = recv(c->sd, c->buf, (int)sizeof c->buf, MSG_DONTWAIT, 0, &err);
        if (n > 0) {
            c->len = n;
            continue;
        }
        if (n < 0 && err == API_EWOULDBLOCK) {
            c->wait = (short)SSL_GetWaitEvents(c->sd, &err);
            if (!c->wait)
                c->wait = POLLIN;
            return 0;
        }
        conn_end(c, n == 0);
        return -1;
    }
}

int main(int argc, char **argv)
{
    const char *cert = NULL, *key = NULL, *bindaddr = "127.0.0.1", *opts = NULL,
               *suites = NULL;
    const char *cas[16], *client_cas[16];
    const char *crls[4];
    int ncrls = 0;
    int ncas = 0, nclient = 0, port = 0, version = SSL_VERSION_TLS12 | SSL_VERSION_TLS13,
        caches = 16, max_conns = -1, timeout = -1, opt;
    while ((opt = getopt(argc, argv, "c:k:p:b:a:A:R:o:s:v:m:n:t:")) != -1) {
        switch (opt) {
        case 'c': cert = optarg; break;
        case 'k': key = optarg; break;
        case 'p': port = atoi(optarg); break;
        case 'b': bindaddr = optarg; break;
        case 'a': if (ncas < 16) cas[ncas++] = optarg; break;
        case 'A': if (nclient < 16) client_cas[nclient++] = optarg; break;
        case 'R': if (ncrls < 4) crls[ncrls++] = optarg; break;
        case 'o': opts = optarg; break;
        case 's': suites = optarg; break;
        case 'v': version = (int)strtol(optarg, NULL, 0); break;
        case 'm': caches = atoi(optarg); break;
        case 'n': max_conns = atoi(optarg); break;
        case 't': timeout = atoi(optarg); break;
        default: usage();
        }
    }
    if (!cert || !key)
        usage();
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
        fprintf(stderr, "SSL_SessionNew: error %d\n", err);
        return 1;
    }
    if (nclient > 0 && SSL_SessionOpt(session, SSL_OPT_CLIENT_AUTH, 1, &err) != 0)
        return 1;
    for (int i = 0; i < nclient; i++) {
        char id[32];
        snprintf(id, sizeof id, "clientca%d", i);
        if (ex_add_root_ca(client_cas[i], id) != 0 ||
            SSL_AddClientCA(session, id, &err) != 0) {
            fprintf(stderr, "SSL_AddClientCA %s: error %d\n", client_cas[i], err);
            return 1;
        }
    }
    if ((opts && ex_set_options(session, opts) != 0) ||
        (suites && ex_set_suites(session, suites) != 0))
        return 1;

    int v6 = strchr(bindaddr, ':') != NULL;
    int ls = opensocket_ext(v6 ? AF_INET6 : AF_INET, SOCK_STREAM, &err);
    struct sockaddr_in a4 = { .sin_family = AF_INET, .sin_port = htons((unsigned short)port) };
    struct sockaddr_in6 a6 = { .sin6_family = AF_INET6, .sin6_port = htons((unsigned short)port) };
    if (ls < 0 || (v6 ? inet_pton(AF_INET6, bindaddr, &a6.sin6_addr) != 1
                      : inet_addr(bindaddr, &a4.sin_addr.s_addr) != 0) ||
        bind(ls, v6 ? (void *)&a6 : (void *)&a4, &err) != 0 ||
        listen(ls, 128, &err) != 0) {
        fprintf(stderr, "cannot listen on %s:%d (error %d)\n", bindaddr, port, err);
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
        fprintf(stderr, "SSL socket options: error %d\n", err);
        return 1;
    }
    struct sockaddr_in6 bound;
    socklen_t bl = sizeof bound;
    getsockname(ls, (struct sockaddr *)&bound, &bl);
    printf("READY port=%d\n", ntohs(bound.sin6_port)); /* same offset in both */
    fflush(stdout);

    static struct conn conns[MAX_CONNS];
    struct pollfd pfd[MAX_CONNS + 1];
    int nconn = 0, ended = 0;
    while (!stop && (max_conns < 0 || ended < max_conns)) {
        pfd[0] = (struct pollfd){ .fd = ls, .events = POLLIN };
        for (int i = 0; i < nconn; i++)
            pfd[i + 1] = (struct pollfd){ .fd = conns[i].sd,
                                          .events = conns[i].wait ? conns[i].wait : POLLIN };
        if (poll(pfd, (nfds_t)nconn + 1, 250) < 0)
            continue;
        for (int i = 0; i < nconn; i++) {
            /* A connection still in its handshake is looked at on every
             * wake-up, so that TCP_SSL_CONNECT_TIMEOUT drops silent peers. */
            if (!pfd[i + 1].revents && conns[i].hs_done)
                continue;
            if (conn_progress(&conns[i]) != 0) {
                ended++;
                conns[i].sd = -2; /* compacted below */
            }
        }
        int k = 0;
        for (int i = 0; i < nconn; i++)
            if (conns[i].sd != -2)
                conns[k++] = conns[i];
        nconn = k;
        if (pfd[0].revents & POLLIN) {
            int sd;
            while (nconn < MAX_CONNS && (sd = accept(ls, NULL, &err)) >= 0) {
                Set_Blocking_Mode(sd, 1, &err);
                conns[nconn] = (struct conn){ .sd = sd };
                if (conn_progress(&conns[nconn]) != 0)
                    ended++;
                else
                    nconn++;
            }
        }
    }
    for (int i = 0; i < nconn; i++)
        conn_end(&conns[i], 1);
    closesocket(ls, &err);
    SSL_SessionClose(session, &err);
    return 0;
}
