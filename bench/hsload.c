/*
 * hsload - TLS load client of the benchmarks: N concurrent non-blocking
 * connections through OpenSSL directly, each one connecting again as soon as
 * it is done, for a time or a count.
 *
 *   hsload -p PORT -a CA [-c CONC] [-t SECS | -n COUNT] [-v 12|13]
 *          [-r none|id|ticket|psk] [-q PATH] [-I]
 *
 * A connection: TCP connect, handshake (the server's certificate verified
 * against -a, name "localhost"), then
 *   handshake mode (default)  close_notify, write side shut, read until the
 *                             server's end of stream: the server has finished
 *                             its side of the handshake (and TLS 1.3 tickets
 *                             arrive); one handshake counted;
 *   -q PATH                   "GET PATH HTTP/1.1" with Connection: close, the
 *                             answer read to its end (Content-Length); one
 *                             request counted when it is a 200 with the whole
 *                             body: a new connection per request;
 *   -I                        hold the connection idle: "HELD n" on stdout
 *                             once all CONC are established (or -t seconds,
 *                             default 60, have passed: n then says how many
 *                             are), then wait until stdin ends (for the
 *                             memory figure).
 * Then the socket is closed with SO_LINGER 0 (a reset, so that no TIME_WAIT
 * piles up on the client's ports at thousands of connections a second).
 *
 * Resumption (-r): each connection slot keeps the last session it got and
 * offers it on its next connection: id = TLS 1.2 session IDs (tickets off),
 * ticket = TLS 1.2 session tickets (RFC 5077), psk = TLS 1.3 tickets (PSK).
 * A server that declines makes a full handshake; `resumed=` tells how many
 * were really resumed.
 *
 * Output, one line: "done=N failed=N resumed=N secs=S" (stdout).
 * Exit 0 when at least one connection succeeded, 1 otherwise.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

enum state { CONNECTING, HANDSHAKE, SHUTDOWN, REQUEST, RESPONSE, HELD };

struct conn {
    int fd;
    enum state st;
    SSL *ssl;
    SSL_SESSION *sess; /* the slot's last session, offered next time */
    char resp[8192];
    size_t got, need; /* response bytes read; bytes expected (0: headers not yet) */
    int sent;         /* request bytes written */
};

static struct sockaddr_in peer;
static SSL_CTX *ctx;
static int epfd, idle_mode, resume;
static const char *path;
static char request[1024];
static long long done, failed, resumed;
static int sess_idx;

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

/* A new session (TLS 1.2 at the handshake's end, TLS 1.3 when a ticket
 * arrives): it becomes the slot's session. */
static int new_session(SSL *ssl, SSL_SESSION *s)
{
    struct conn *c = SSL_get_ex_data(ssl, sess_idx);
    if (!c || !resume)
        return 0;
    if (c->sess)
        SSL_SESSION_free(c->sess);
    c->sess = s;
    return 1; /* we keep the reference */
}

static void watch(struct conn *c, int events)
{
    struct epoll_event ev = {.events = (uint32_t)events, .data.ptr = c};
    epoll_ctl(epfd, EPOLL_CTL_MOD, c->fd, &ev);
}

static void conn_close(struct conn *c, int ok)
{
    if (ok) {
        done++;
        if (SSL_session_reused(c->ssl))
            resumed++;
    } else {
        failed++;
    }
    struct linger lg = {1, 0};
    setsockopt(c->fd, SOL_SOCKET, SO_LINGER, &lg, sizeof lg);
    SSL_free(c->ssl);
    c->ssl = NULL;
    close(c->fd); /* removes it from epoll */
    c->fd = -1;
}

static int conn_open(struct conn *c)
{
    c->fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
    if (c->fd < 0)
        return -1;
    int one = 1;
    setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    if (connect(c->fd, (struct sockaddr *)&peer, sizeof peer) != 0 && errno != EINPROGRESS) {
        close(c->fd);
        c->fd = -1;
        return -1;
    }
    c->ssl = SSL_new(ctx);
    SSL_set_fd(c->ssl, c->fd);
    SSL_set_ex_data(c->ssl, sess_idx, c);
    SSL_set_tlsext_host_name(c->ssl, "localhost");
    SSL_set1_host(c->ssl, "localhost");
    if (resume && c->sess)
        SSL_set_session(c->ssl, c->sess);
    c->st = CONNECTING;
    c->got = c->need = 0;
    c->sent = 0;
    struct epoll_event ev = {.events = EPOLLOUT, .data.ptr = c};
    epoll_ctl(epfd, EPOLL_CTL_ADD, c->fd, &ev);
    return 0;
}

/* Waits for what OpenSSL asked for after a -1 return; 0, or -1 on an error. */
static int want(struct conn *c, int r)
{
    switch (SSL_get_error(c->ssl, r)) {
    case SSL_ERROR_WANT_READ: watch(c, EPOLLIN); return 0;
    case SSL_ERROR_WANT_WRITE: watch(c, EPOLLOUT); return 0;
    default: return -1;
    }
}

/* The response so far: once the headers are in, how long it is in all. */
static void response_length(struct conn *c)
{
    c->resp[c->got < sizeof c->resp ? c->got : sizeof c->resp - 1] = '\0';
    char *end = strstr(c->resp, "\r\n\r\n");
    if (!end)
        return;
    char *cl = strcasestr(c->resp, "\r\nContent-Length:");
    if (strncmp(c->resp, "HTTP/1.1 200", 12) != 0 || !cl || cl > end) {
        c->need = (size_t)-1; /* not what we asked for */
        return;
    }
    c->need = (size_t)(end + 4 - c->resp) + strtoull(cl + 17, NULL, 10);
}

/* Advances a connection; returns 1 when it is finished (closed). */
static int step(struct conn *c)
{
    int r;
    char buf[16384];
    switch (c->st) {
    case CONNECTING: {
        int err = 0;
        socklen_t len = sizeof err;
        getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &err, &len);
        if (err) {
            conn_close(c, 0);
            return 1;
        }
        c->st = HANDSHAKE;
    } /* fall through */
    case HANDSHAKE:
        r = SSL_connect(c->ssl);
        if (r != 1) {
            if (want(c, r) == 0)
                return 0;
            conn_close(c, 0);
            return 1;
        }
        if (idle_mode) {
            c->st = HELD;
            done++;
            watch(c, EPOLLIN);
            return 0;
        }
        if (path) {
            c->st = REQUEST;
            return step(c);
        }
        SSL_shutdown(c->ssl); /* our close_notify */
        shutdown(c->fd, SHUT_WR);
        c->st = SHUTDOWN;
        watch(c, EPOLLIN);
        return 0;
    case SHUTDOWN: /* read (tickets, the server's close_notify) to the end */
        for (;;) {
            r = SSL_read(c->ssl, buf, sizeof buf);
            if (r > 0)
                continue;
            int e = SSL_get_error(c->ssl, r);
            if (e == SSL_ERROR_WANT_READ)
                return 0;
            /* close_notify or end of stream: the server is through */
            conn_close(c, e == SSL_ERROR_ZERO_RETURN || e == SSL_ERROR_SYSCALL);
            return 1;
        }
    case REQUEST:
        while (c->sent < (int)strlen(request)) {
            r = SSL_write(c->ssl, request + c->sent, (int)strlen(request) - c->sent);
            if (r <= 0) {
                if (want(c, r) == 0)
                    return 0;
                conn_close(c, 0);
                return 1;
            }
            c->sent += r;
        }
        c->st = RESPONSE;
        watch(c, EPOLLIN);
        /* fall through */
    case RESPONSE:
        for (;;) {
            r = SSL_read(c->ssl, buf, sizeof buf);
            if (r <= 0) {
                if (SSL_get_error(c->ssl, r) == SSL_ERROR_WANT_READ)
                    return 0;
                conn_close(c, 0); /* ended before the whole answer */
                return 1;
            }
            if (c->got < sizeof c->resp) {
                size_t n =
                    (size_t)r < sizeof c->resp - c->got ? (size_t)r : sizeof c->resp - c->got;
                memcpy(c->resp + c->got, buf, n);
            }
            c->got += (size_t)r;
            if (!c->need)
                response_length(c);
            if (c->need == (size_t)-1 || (c->need && c->got > c->need)) {
                conn_close(c, 0);
                return 1;
            }
            if (c->need && c->got == c->need) {
                SSL_shutdown(c->ssl);
                conn_close(c, 1);
                return 1;
            }
        }
    case HELD: /* TLS 1.3 tickets are fine; data, an end or an error end it */
        r = SSL_read(c->ssl, buf, sizeof buf);
        if (r <= 0 && SSL_get_error(c->ssl, r) == SSL_ERROR_WANT_READ)
            return 0;
        conn_close(c, 0);
        done--;
        return 1;
    }
    return 1;
}

static void usage(void)
{
    fprintf(stderr, "usage: hsload -p PORT -a CA [-c CONC] [-t SECS | -n COUNT] [-v 12|13] "
                    "[-r none|id|ticket|psk] [-q PATH] [-I]\n");
    exit(2);
}

int main(int argc, char **argv)
{
    int port = 0, conc = 10, version = 13, opt;
    double secs = 0;
    long long count = 0;
    const char *ca = NULL, *rmode = "none";
    while ((opt = getopt(argc, argv, "p:a:c:t:n:v:r:q:I")) != -1) {
        switch (opt) {
        case 'p': port = atoi(optarg); break;
        case 'a': ca = optarg; break;
        case 'c': conc = atoi(optarg); break;
        case 't': secs = atof(optarg); break;
        case 'n': count = atoll(optarg); break;
        case 'v': version = atoi(optarg); break;
        case 'r': rmode = optarg; break;
        case 'q': path = optarg; break;
        case 'I': idle_mode = 1; break;
        default: usage();
        }
    }
    if (port <= 0 || !ca || conc <= 0 || (version != 12 && version != 13))
        usage();
    if (!idle_mode && secs <= 0 && count <= 0)
        usage();
    signal(SIGPIPE, SIG_IGN);
    resume = strcmp(rmode, "none") != 0;
    ctx = SSL_CTX_new(TLS_client_method());
    int v = version == 12 ? TLS1_2_VERSION : TLS1_3_VERSION;
    SSL_CTX_set_min_proto_version(ctx, v);
    SSL_CTX_set_max_proto_version(ctx, v);
    if (!SSL_CTX_set_cipher_list(ctx,
                                 "ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256") ||
        !SSL_CTX_set_ciphersuites(ctx, "TLS_AES_128_GCM_SHA256") ||
        !SSL_CTX_set1_groups_list(ctx, "X25519:P-256") ||
        !SSL_CTX_load_verify_locations(ctx, ca, NULL)) {
        ERR_print_errors_fp(stderr);
        return 1;
    }
    SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, NULL);
    SSL_CTX_set_options(ctx, SSL_OP_IGNORE_UNEXPECTED_EOF); /* a plain end of stream is a close */
    if (strcmp(rmode, "id") == 0 || strcmp(rmode, "none") == 0)
        SSL_CTX_set_options(ctx, SSL_OP_NO_TICKET);
    else if (strcmp(rmode, "ticket") != 0 && strcmp(rmode, "psk") != 0)
        usage();
    if (resume) {
        SSL_CTX_set_session_cache_mode(ctx,
                                       SSL_SESS_CACHE_CLIENT | SSL_SESS_CACHE_NO_INTERNAL_STORE);
        SSL_CTX_sess_set_new_cb(ctx, new_session);
    } else {
        SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_OFF);
    }
    sess_idx = SSL_get_ex_new_index(0, NULL, NULL, NULL, NULL);
    if (path)
        snprintf(request, sizeof request,
                 "GET %s HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n", path);
    peer.sin_family = AF_INET;
    peer.sin_port = htons((unsigned short)port);
    peer.sin_addr.s_addr = htonl(INADDR_LOOPBACK);

    epfd = epoll_create1(0);
    struct conn *conns = calloc((size_t)conc, sizeof *conns);
    long long started = 0;
    int open_now = 0;
    for (int i = 0; i < conc && (!count || started < count); i++) {
        if (conn_open(&conns[i]) == 0) {
            started++;
            open_now++;
        } else {
            failed++;
            conns[i].fd = -1;
        }
    }
    double t0 = now(), end = t0 + secs, hold_limit = secs > 0 ? secs : 60;
    struct epoll_event evs[256];
    int announced = 0;
    while (open_now > 0) {
        /* -I: all established, or the time limit (-t, default 60 s) passed
         * (a server that stopped accepting): say how many are held. */
        if (idle_mode && !announced && (done + failed >= conc || now() > t0 + hold_limit)) {
            printf("HELD %lld\n", done);
            fflush(stdout);
            announced = 1;
        }
        if (announced) {
            /* Hold until stdin ends (the harness has measured), watching the
             * connections meanwhile. */
            struct pollfd p[2] = {{0, POLLIN, 0}, {epfd, POLLIN, 0}};
            poll(p, 2, -1);
            if (p[0].revents) {
                char b[64];
                if (read(0, b, sizeof b) <= 0)
                    break;
            }
            if (!p[1].revents)
                continue;
        }
        int n = epoll_wait(epfd, evs, 256, 1000);
        for (int i = 0; i < n; i++) {
            struct conn *c = evs[i].data.ptr;
            if (!step(c))
                continue;
            open_now--;
            int more = idle_mode ? 0 : count ? started < count : now() < end;
            if (more && conn_open(c) == 0) {
                started++;
                open_now++;
            }
        }
        if (!idle_mode && secs > 0 && now() > end + 10)
            break; /* a server that stopped answering: give up */
    }
    double t = now() - t0;
    printf("done=%lld failed=%lld resumed=%lld secs=%.3f\n", done, failed, resumed, t);
    for (int i = 0; i < conc; i++) {
        if (conns[i].fd >= 0)
            conn_close(&conns[i], 1), done--;
        if (conns[i].sess)
            SSL_SESSION_free(conns[i].sess);
    }
    free(conns);
    SSL_CTX_free(ctx);
    close(epfd);
    return done > 0 ? 0 : 1;
}
