/*
 * ftp_conn.c - the control connection: TLS (implicit, or after AUTH TLS),
 * the input a line at a time into ftp_session, the replies out, the delay
 * after a failed login, the idle timeout and the clean close (421,
 * close_notify, FIN, then reading until the peer closes). One function,
 * conn_progress, does what is possible now; the loop calls it on readiness
 * (edge-triggered: it reads until API_EWOULDBLOCK) and on the timer.
 *
 * The status page: the connection's entry (service "ftp") shows its state
 * as a constant text (handshake, login, login delay, idle, transfer: VERB,
 * closing), never the user name nor a file name (the page can be public:
 * [WEB] STATUS_SECURE=0). A request is a command line, counted when its
 * final reply (2xx-5xx, not a 1xx mark) goes out, by that reply's class;
 * unsolicited replies (the greeting, 421 on idle or stop) are not requests.
 */
#include "ftp_srv.h"

#define CHIPSSL_NO_RTOS_NAMES
#include <tcpip.h>

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/tcp.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <unistd.h>

#define FTP_OUT_START 4096
#define FTP_HANDSHAKE_MS 30000
#define FTP_DELAY_MAX_MS 8000

static void conn_progress(struct ftp_conn *c);

static void release(void *p)
{
    struct ftp_conn *c = p;
    free(c->out);
    free(c->xbuf);
    free(c->xraw);
    free(c);
}

void ftp_conn_defer_free(struct loop_worker *w, void *p)
{
    /* Other events of this epoll batch may still name the record: it goes
     * once the batch is done. After the worker ended nothing can. */
    struct ftp_conn *c = p;
    if (loop_post(w, release, c) != 0)
        release(c);
}

static void conn_destroy(struct ftp_conn *c)
{
    int e = 0;
    struct loop_worker *w = c->lc.worker;
    if (c->data)
        ftp_data_abort(c);
    ftp_session_free(&c->sess);
    loop_conn_close(&c->lc);
    web_stats_conn_close(&c->st);
    closesocket(c->lc.fd, &e);
    if (c->counted)
        ftp_server_ip_release(c->srv, c->addr);
    atomic_fetch_sub(&c->srv->nconns, 1);
    c->dead = 1;
    ftp_conn_defer_free(w, c);
}

static int out_append(struct ftp_conn *c, const char *text, size_t len)
{
    if (c->out_len + len > c->out_cap) {
        size_t cap = c->out_cap;
        while (cap < c->out_len + len)
            cap *= 2;
        if (cap > (1u << 20))
            return -1; /* a client that never reads its replies */
        char *o = realloc(c->out, cap);
        if (!o)
            return -1;
        c->out = o;
        c->out_cap = cap;
    }
    memcpy(c->out + c->out_len, text, len);
    c->out_len += len;
    return 0;
}

/* A final reply (not a 1xx mark) answers the oldest command line still
 * unanswered: one request, counted by the reply's class. */
static void count_reply(struct ftp_conn *c, const char *text, size_t len)
{
    if (c->pending == 0 || len < 3 || text[0] < '2' || text[0] > '5')
        return;
    c->pending--;
    web_stats_conn_request(&c->st, (text[0] - '0') * 100, 0);
}

void ftp_conn_reply(struct ftp_conn *c, int code, const char *text)
{
    char b[512];
    int n = ftp_reply(b, sizeof b, code, text);
    if (n > 0 && out_append(c, b, (size_t)n) == 0)
        count_reply(c, b, (size_t)n);
}

const char *ftp_conn_transfer_text(enum ftp_verb v)
{
    switch (v) {
    case FTP_RETR: return "transfer: RETR";
    case FTP_STOR: return "transfer: STOR";
    case FTP_APPE: return "transfer: APPE";
    case FTP_LIST: return "transfer: LIST";
    case FTP_NLST: return "transfer: NLST";
    case FTP_MLSD: return "transfer: MLSD";
    default: return "transfer";
    }
}

/* What the status page says the connection does (a constant text). */
static const char *state_text(const struct ftp_conn *c)
{
    switch (c->state) {
    case FC_HANDSHAKE:
    case FC_TLS_PENDING: return "handshake";
    case FC_READY:
        if (c->sess.closed)
            return "closing";
        if (c->hold)
            return "login delay";
        if (!c->sess.st.logged_in)
            return "login";
        if (c->sess.st.transfer)
            return ftp_conn_transfer_text(c->sess.xfer.verb);
        return "idle";
    default: return "closing";
    }
}

/* 1 all sent, 0 some pending (EPOLLOUT comes), -1 failed. */
static int flush(struct ftp_conn *c)
{
    while (c->out_off < c->out_len) {
        int e = 0;
        int n = chipssl_send(c->lc.fd, c->out + c->out_off, (int)(c->out_len - c->out_off),
                             MSG_DONTWAIT, &e);
        if (n > 0) {
            c->out_off += (size_t)n;
            continue;
        }
        return n < 0 && e == API_EWOULDBLOCK ? 0 : -1;
    }
    c->out_off = c->out_len = 0;
    return 1;
}

static void idle_timer(struct ftp_conn *c)
{
    loop_conn_timer(&c->lc, 1000u * c->srv->cfg.ftp.timeout);
}

static void begin_close(struct ftp_conn *c)
{
    c->state = FC_CLOSING;
    c->hold = 0;
    loop_conn_timer(&c->lc, FTP_CLOSE_MS);
}

/* ---- struct ftp_io ------------------------------------------------------ */

static int io_reply(void *ctx, const char *text, size_t len)
{
    if (out_append(ctx, text, len) != 0)
        return -1;
    count_reply(ctx, text, len);
    return 0;
}

static int io_start_tls(void *ctx)
{
    struct ftp_conn *c = ctx;
    if (!c->srv->tls.on)
        return -1;
    c->state = FC_TLS_PENDING;
    return 0;
}

static int io_login(void *ctx, const char *user, const char *pass, struct ftp_account *acct)
{
    struct ftp_conn *c = ctx;
    if (ftp_server_login(c->srv, user, pass, acct) == 0)
        return 0;
    /* A growing delay before the answer (0.5 s, 1 s, 2 s, ...): the
     * connection's timer, not a sleeping worker. */
    unsigned fails = (unsigned)c->sess.failed_logins; /* failures before this one */
    unsigned ms = fails >= 4 ? FTP_DELAY_MAX_MS : 500u << fails;
    c->hold = 1;
    loop_conn_timer(&c->lc, ms);
    return -1;
}

static int io_passive(void *ctx, struct ftp_hostport *hp)
{
    return ftp_data_passive(ctx, hp);
}

static int io_active(void *ctx, const struct ftp_hostport *hp)
{
    return ftp_data_active(ctx, hp);
}

static int io_transfer(void *ctx, struct ftp_xfer *x)
{
    return ftp_data_transfer(ctx, x);
}

static void io_abort(void *ctx)
{
    ftp_data_abort(ctx);
}

/* ---- the connection ------------------------------------------------------ */

/* Lines to the session, one at a time (a login delay stops between two). */
static int take_input(struct ftp_conn *c)
{
    while (c->in_len > 0 && c->state == FC_READY && !c->hold && !c->sess.closed) {
        char *lf = memchr(c->in, '\n', c->in_len);
        size_t n = lf ? (size_t)(lf - c->in) + 1 : c->in_len;
        if (lf)
            c->pending++; /* a command line: its reply is a request */
        int r = ftp_session_input(&c->sess, c->in, n);
        memmove(c->in, c->in + n, c->in_len - n);
        c->in_len -= n;
        if (r < 0)
            return -1;
        if (c->state == FC_TLS_PENDING)
            c->in_len = 0; /* nothing sent in the clear after AUTH TLS is taken */
    }
    return 0;
}

static void conn_progress(struct ftp_conn *c)
{
    int e = 0;
    for (;;) {
        web_stats_conn_state(&c->st, state_text(c));
        switch (c->state) {
        case FC_HANDSHAKE: {
            int r = SSL_HandshakeComplete(c->lc.fd, 0);
            if (r == 0)
                return;
            if (r != 1) {
                web_stats_handshake_failed(c->lc.fd);
                conn_destroy(c);
                return;
            }
            web_stats_conn_tls(&c->st, c->lc.fd);
            c->tls = 1;
            c->state = FC_READY;
            idle_timer(c);
            break;
        }
        case FC_READY: {
            if (c->hold)
                return;
            if (take_input(c) != 0) {
                conn_destroy(c);
                return;
            }
            if (c->data_kick) {
                c->data_kick = 0;
                c->busy = 1; /* the data side's ftp_conn_progress waits for us */
                ftp_data_kick(c);
                c->busy = 0;
            }
            web_stats_conn_state(&c->st, state_text(c)); /* the commands' effect */
            if (c->hold)
                return;
            int f = flush(c);
            if (f < 0) {
                conn_destroy(c);
                return;
            }
            if (c->sess.closed) {
                begin_close(c);
                break;
            }
            if (c->state != FC_READY)
                break;
            if (c->in_len == sizeof c->in) {
                conn_destroy(c); /* cannot happen: partial lines go to the session */
                return;
            }
            int n = chipssl_recv(c->lc.fd, c->in + c->in_len, (int)(sizeof c->in - c->in_len),
                                 MSG_DONTWAIT, 0, &e);
            if (n > 0) {
                c->in_len += (size_t)n;
                idle_timer(c);
                break;
            }
            if (n < 0 && e == API_EWOULDBLOCK)
                return;
            conn_destroy(c); /* the client has gone: a running transfer is aborted */
            return;
        }
        case FC_TLS_PENDING: {
            /* The 234 in the clear first, then the socket becomes TLS. */
            int f = flush(c);
            if (f == 0)
                return;
            int one = 1, session = srv_tls_session(&c->srv->tls);
            SetSocketOption so = {IP_PROTOTCP_LEVEL, TCP_SSL_SERVER, (const char *)&one,
                                  sizeof one};
            SetSocketOption ss = {IP_PROTOTCP_LEVEL, TCP_SSLSESSION, (const char *)&session,
                                  sizeof session};
            if (f < 0 || chipssl_setsockopt(c->lc.fd, &so, &e) != 0 ||
                chipssl_setsockopt(c->lc.fd, &ss, &e) != 0) {
                conn_destroy(c);
                return;
            }
            c->session_id = session;
            c->state = FC_HANDSHAKE;
            loop_conn_timer(&c->lc, FTP_HANDSHAKE_MS);
            break;
        }
        case FC_CLOSING: {
            int f = flush(c);
            if (f == 0)
                return;
            if (f > 0 && c->tls && SSL_ConnClose(c->lc.fd, &e) != 0 && e == API_EWOULDBLOCK)
                return;
            chipssl_shutdown(c->lc.fd, 1, &e);
            c->state = FC_LINGER;
            loop_conn_timer(&c->lc, FTP_LINGER_MS);
            break;
        }
        case FC_LINGER: {
            char sink[4096];
            ssize_t n;
            while ((n = read(c->lc.fd, sink, sizeof sink)) > 0)
                ;
            if (n < 0 && (errno == EAGAIN || errno == EINTR))
                return;
            conn_destroy(c);
            return;
        }
        }
    }
}

void ftp_conn_progress(struct ftp_conn *c)
{
    if (!c->busy && !c->dead)
        conn_progress(c);
}

static void on_event(struct loop_conn *lc, unsigned events)
{
    struct ftp_conn *c = (struct ftp_conn *)lc;
    (void)events;
    if (!c->dead)
        conn_progress(c);
}

static int transfer_running(const struct ftp_conn *c)
{
    return c->data && c->data->have_xfer;
}

static void on_timer(struct loop_conn *lc)
{
    struct ftp_conn *c = (struct ftp_conn *)lc;
    if (c->dead)
        return;
    if (c->hold) { /* the login delay is over */
        c->hold = 0;
        idle_timer(c);
        conn_progress(c);
        return;
    }
    switch (c->state) {
    case FC_READY:
        if (transfer_running(c)) { /* the data connection has its own limit */
            idle_timer(c);
            return;
        }
        ftp_conn_reply(c, 421, "Idle timeout: closing the control connection.");
        begin_close(c);
        conn_progress(c);
        return;
    default:
        if (c->state == FC_HANDSHAKE)
            web_stats_handshake_timeout();
        conn_destroy(c);
        return;
    }
}

static void on_stop(struct loop_conn *lc, int force)
{
    struct ftp_conn *c = (struct ftp_conn *)lc;
    if (c->dead)
        return;
    if (force || c->state == FC_HANDSHAKE || c->state == FC_LINGER) {
        conn_destroy(c);
        return;
    }
    if (c->state == FC_CLOSING)
        return;
    c->stopping = 1;
    if (c->data) {
        int running = c->sess.st.transfer;
        ftp_data_abort(c);
        if (running) {
            c->sess.st.transfer = 0;
            ftp_conn_reply(c, 426, "Transfer aborted: the server is shutting down.");
        }
    }
    ftp_conn_reply(c, 421, "Server shutting down: closing the control connection.");
    begin_close(c);
    conn_progress(c);
}

static const struct loop_conn_ops ftp_conn_ops = {on_event, on_timer, on_stop};

void ftp_conn_accept(struct ftp_server *srv, struct loop_worker *w, int sd, int implicit,
                     const struct sockaddr_storage *peer)
{
    int e = 0;
    unsigned n = atomic_fetch_add(&srv->nconns, 1) + 1;
    struct ftp_conn *c = calloc(1, sizeof *c);
    if (c)
        c->out = malloc(FTP_OUT_START);
    if (!c || !c->out) {
        if (c)
            free(c);
        closesocket(sd, &e);
        atomic_fetch_sub(&srv->nconns, 1);
        return;
    }
    c->srv = srv;
    c->implicit = implicit;
    c->out_cap = FTP_OUT_START;
    c->lc.fd = sd;
    c->lc.ops = &ftp_conn_ops;
    c->peer = *peer;
    const struct sockaddr_in6 *a6 = (const struct sockaddr_in6 *)peer;
    if (peer->ss_family == AF_INET6) {
        memcpy(c->addr, &a6->sin6_addr, 16);
        if (IN6_IS_ADDR_V4MAPPED(&a6->sin6_addr))
            inet_ntop(AF_INET, &a6->sin6_addr.s6_addr[12], c->peer_text, sizeof c->peer_text);
        else
            inet_ntop(AF_INET6, &a6->sin6_addr, c->peer_text, sizeof c->peer_text);
    } else {
        const struct sockaddr_in *a4 = (const struct sockaddr_in *)peer;
        c->addr[10] = c->addr[11] = 0xff;
        memcpy(c->addr + 12, &a4->sin_addr, 4);
        inet_ntop(AF_INET, &a4->sin_addr, c->peer_text, sizeof c->peer_text);
    }
    socklen_t ll = sizeof c->local;
    getsockname(sd, (struct sockaddr *)&c->local, &ll);
    int one = 1; /* replies are small and answered at once (vsftpd stalls without) */
    setsockopt(sd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    c->io = (struct ftp_io){c,          io_reply,  io_start_tls, io_login,
                            io_passive, io_active, io_transfer,  io_abort};
    struct ftp_session_config sc = {.require_tls = srv->cfg.ftp.require_tls,
                                    .keep_partial = srv->cfg.ftp.keep_partial,
                                    .implicit_tls = implicit};
    memcpy(&sc.peer, peer, sizeof *peer);
    ftp_session_init(&c->sess, &sc, &c->io); /* the 220 greeting, into out */
    int reject = 0;
    if (n > srv->cfg.ftp.max_clients)
        reject = 1;
    else if (ftp_server_ip_take(srv, c->addr) != 0)
        reject = 2;
    else
        c->counted = 1;
    if (reject) {
        c->out_len = 0;
        ftp_conn_reply(c, 421,
                       reject == 1 ? "Too many users: try again later."
                                   : "Too many connections from your address: try again later.");
        c->sess.closed = 1; /* after the reply (and the handshake, on the implicit port) */
    }
    if (implicit) {
        int session = srv_tls_session(&srv->tls);
        SetSocketOption so = {IP_PROTOTCP_LEVEL, TCP_SSLSESSION, (const char *)&session,
                              sizeof session};
        if (chipssl_setsockopt(sd, &so, &e) != 0) { /* the session of the last reload */
            ftp_session_free(&c->sess);
            if (c->counted)
                ftp_server_ip_release(srv, c->addr);
            release(c);
            closesocket(sd, &e);
            atomic_fetch_sub(&srv->nconns, 1);
            return;
        }
        c->session_id = session;
    }
    web_stats_conn_open(&c->st, "ftp", peer);
    web_stats_conn_state(&c->st, implicit ? "handshake" : "login");
    if (loop_conn_add(w, &c->lc, EPOLLIN | EPOLLOUT | EPOLLRDHUP) != 0) {
        web_stats_conn_close(&c->st);
        ftp_session_free(&c->sess);
        if (c->counted)
            ftp_server_ip_release(srv, c->addr);
        release(c);
        closesocket(sd, &e);
        atomic_fetch_sub(&srv->nconns, 1);
        return;
    }
    if (implicit) {
        c->state = FC_HANDSHAKE;
        loop_conn_timer(&c->lc, FTP_HANDSHAKE_MS);
    } else {
        c->state = FC_READY;
        idle_timer(c);
    }
    /* The first event (writable) comes at once: the worker's loop sends
     * the greeting (the listener's lock is held here). */
}
