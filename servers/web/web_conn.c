/*
 * web_conn.c - the connection stage: TLS handshake, request head, body,
 * handler, response, next request (keep-alive, pipelining), clean close.
 * One function, conn_progress, does all the work possible now; the loop
 * calls it on readiness (edge-triggered: it reads until API_EWOULDBLOCK),
 * timers end stalled connections.
 */
#include "web.h"
#include "web_cgi.h"

#include <tcpip.h>

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/tcp.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <unistd.h>

#define WEB_IN_EXTRA 4096    /* input room beyond the largest head: pipelined requests, body */
#define WEB_IN_FIRST 4096    /* the input's first size: most heads fit; a larger one grows it */
#define WEB_REJECT_SLACK 256 /* connections over MAX_CONNECTIONS still answered 503 */
#define WEB_LINGER_MS 2000   /* reading what a closing peer still sends */

static _Atomic(const struct web_handler *) hook;

void web_handler_hook_set(const struct web_handler *h)
{
    atomic_store(&hook, h);
}

void web_handler_hook_default(const struct web_handler *h)
{
    const struct web_handler *none = NULL;
    atomic_compare_exchange_strong(&hook, &none, h);
}

static void conn_progress(struct web_conn *c);

/* The most input a connection holds: the largest head, then room for
 * pipelined requests and body. */
static size_t in_max(const struct web_conn *c)
{
    return (size_t)c->srv->cfg.web.max_header_size + WEB_IN_EXTRA;
}

/* For a request that starts arriving: the input buffer (small) and the
 * request's block. 0, or -1 out of memory (conn_idle frees what was got). */
static int conn_buffers(struct web_conn *c)
{
    if (!c->ex) {
        if (!(c->ex = malloc(sizeof *c->ex)))
            return -1;
        /* No response yet: web_response_end has nothing to release. */
        memset(&c->ex->resp, 0, sizeof c->ex->resp);
        c->ex->resp.file_fd = -1;
    }
    if (!c->in) {
        size_t cap = in_max(c) < WEB_IN_FIRST ? in_max(c) : WEB_IN_FIRST;
        if (!(c->in = malloc(cap)))
            return -1;
        c->in_cap = cap;
    }
    return 0;
}

/* Grow the input buffer to want bytes (at most in_max). The parsed head's
 * slices point into it: when a head is held (head_len), it is parsed again
 * at its new place (the same bytes give the same answer). 0, or -1 out of
 * memory (the old buffer is then kept). */
static int in_grow(struct web_conn *c, size_t want)
{
    size_t cap = want < in_max(c) ? want : in_max(c);
    char *in = realloc(c->in, cap);
    if (!in)
        return -1;
    c->in = in;
    c->in_cap = cap;
    if (c->head_len && http_parse_request(c->in + c->req_pos, c->head_len, &c->srv->limits,
                                          &c->ex->req) != (int)c->head_len) {
        c->had_request = 0; /* cannot happen (the parser is a function of the bytes): no head */
        return -1;
    }
    return 0;
}

/* The connection waits with nothing buffered and no response (between
 * keep-alive requests, or closing): give back all that only a request in
 * progress needs; the next read allocates again. */
static void conn_idle(struct web_conn *c)
{
    web_response_end(c);
    free(c->in);
    free(c->ex);
    free(c->body);
    free(c->fbuf);
    c->in = c->body = c->fbuf = NULL;
    c->ex = NULL;
    c->in_cap = c->in_len = c->req_pos = c->head_len = c->body_pos = 0;
    c->body_len = c->body_cap = c->fbuf_len = c->fbuf_off = 0;
    c->out_len = c->out_off = 0;
    c->had_request = 0;
}

static void conn_free(struct web_conn *c)
{
    int err = 0;
    conn_idle(c);
    web_stats_conn_close(&c->st);
    loop_conn_close(&c->lc);
    closesocket(c->lc.fd, &err);
    atomic_fetch_sub(&c->srv->nconns, 1);
    free(c);
}

/* Begin the clean close: close_notify over TLS, FIN on plain TCP. Nothing
 * of a request is needed any more. */
static void conn_close(struct web_conn *c)
{
    conn_idle(c);
    c->state = WC_CLOSING;
    loop_conn_timer(&c->lc, 5000);
    conn_progress(c);
}

static void timer_head(struct web_conn *c)
{
    /* Waiting for a request: the idle limit until its first byte, then the
     * header limit for the whole head. */
    int partial = c->in_len > c->req_pos;
    loop_conn_timer(
        &c->lc, 1000u * (partial ? c->srv->cfg.web.header_timeout : c->srv->cfg.web.idle_timeout));
}

static void start_response(struct web_conn *c)
{
    if (web_response_begin(c) != 0) {
        web_error(c, 500);
        c->keep_alive = 0;
        web_response_begin(c);
    }
    c->state = WC_WRITE;
    loop_conn_timer(&c->lc, 1000u * c->srv->cfg.web.idle_timeout);
}

/* Answer with a status and no handler (errors of the request itself). */
static void respond_error(struct web_conn *c, int status, int keep)
{
    web_error(c, status);
    if (!keep)
        c->keep_alive = 0;
    start_response(c);
}

/* A static answer the application has an error page for (401, 404, the
 * 503 over MAX_CONNECTIONS), or one that the handler threads complete
 * (resp.finish: SSI): to the handler threads, which call it
 * (web_cgi_error_handler, resp.finish). 1 when handed over. */
static int static_error_page(struct web_conn *c)
{
    if (c->ex->resp.finish) { /* an answer the handler threads complete (SSI) */
        c->handler = c->ex->resp.finish;
        c->ex->resp.finish = NULL;
        c->state = WC_HANDLER;
        loop_conn_timer(&c->lc, 0);
        web_pool_submit(c->srv->pool, c);
        return 1;
    }
    if (!c->srv->pool || c->ex->resp.file_fd >= 0 || !web_cgi_error_wanted(c->ex->resp.status))
        return 0;
    c->handler = &web_cgi_error_handler;
    c->state = WC_HANDLER;
    loop_conn_timer(&c->lc, 0);
    web_pool_submit(c->srv->pool, c);
    return 1;
}

static void dispatch(struct web_conn *c)
{
    struct web_server *s = c->srv;
    long n =
        http_path_normalize(c->ex->req.path.p, c->ex->req.path.n, c->ex->path, sizeof c->ex->path);
    if (n < 0) {
        respond_error(c, (int)-n, 0);
        return;
    }
    web_error(c, 404); /* a fresh response; the handlers set the status */
    c->ex->view = (struct web_request){
        .http = &c->ex->req,
        .path = c->ex->path,
        .body = c->body_len ? c->body : NULL,
        .body_len = c->body_len,
        .server = c->tls,
        .sd = c->lc.fd,
        .remote_ip = c->peer,
        .rootdir = s->cfg.web.rootdir,
        .rootfd = s->rootfd,
        .mainpage = s->cfg.web.mainpage,
    };
    if (c->reject) {
        /* Over MAX_CONNECTIONS: 503 (the application's page when it has
         * one: CGI_Install_Func_OnErr), then close. Answered once the
         * request is read, so that the client reads it rather than a reset. */
        web_error(c, 503);
        c->keep_alive = 0;
        if (!static_error_page(c))
            start_response(c);
        return;
    }
    if (!c->tls && s->cfg.web.redirect_https && s->listen_sd[1] >= 0) {
        c->ex->resp.status = 301;
        if (web_https_location(&c->ex->resp, &c->ex->req, s->port[1]) != 0)
            c->ex->resp.status = 414;
        start_response(c);
        return;
    }
    const struct web_handler *h = atomic_load(&hook);
    if (web_status_wanted(s, &c->ex->view)) {
        /* A built-in page, before the hook: no CGI entry can shadow it. */
        web_stats_conn_state(&c->st, "serving this page");
        web_status_handle(s, &c->ex->view, &c->ex->resp);
        start_response(c);
        return;
    }
    if (h && h->match && !h->match(h->ctx, &c->ex->view))
        h = NULL;
    if (h && h->offload && s->pool) {
        /* To a handler thread; the worker goes on with other connections
         * and takes this one back in web_conn_resume. */
        c->handler = h;
        c->state = WC_HANDLER;
        loop_conn_timer(&c->lc, 0);
        web_pool_submit(s->pool, c);
        return;
    }
    if (!h || h->handle(h->ctx, &c->ex->view, &c->ex->resp) != WEB_HANDLED) {
        web_static_handler.handle(web_static_handler.ctx, &c->ex->view, &c->ex->resp);
        if (static_error_page(c))
            return;
    }
    start_response(c);
}

void web_conn_resume(void *conn)
{
    struct web_conn *c = conn;
    if (c->handler_result != WEB_HANDLED) {
        web_static_handler.handle(web_static_handler.ctx, &c->ex->view, &c->ex->resp);
        if (static_error_page(c))
            return;
    }
    start_response(c);
    conn_progress(c);
}

/* After a response: drop the request and its body from the input, keep
 * what follows (a pipelined request). */
static void next_request(struct web_conn *c)
{
    size_t rest = c->in_len - c->body_pos;
    memmove(c->in, c->in + c->body_pos, rest);
    c->in_len = rest;
    c->req_pos = c->body_pos = c->head_len = 0;
    c->body_len = 0;
    c->state = WC_HEAD;
    timer_head(c);
}

static int body_append(struct web_conn *c, const char *p, size_t n)
{
    if (!n)
        return 0;
    if (c->body_len + n > c->body_cap) {
        size_t cap = c->body_cap ? c->body_cap : 4096;
        while (cap < c->body_len + n)
            cap *= 2;
        char *b = realloc(c->body, cap);
        if (!b)
            return -1;
        c->body = b;
        c->body_cap = cap;
    }
    memcpy(c->body + c->body_len, p, n);
    c->body_len += n;
    return 0;
}

/* Use the body bytes in the input; 1 when the body is complete, 0 when
 * more is needed, or -status. */
static int body_take(struct web_conn *c)
{
    while (c->body_pos < c->in_len) {
        const char *p = c->in + c->body_pos;
        size_t avail = c->in_len - c->body_pos;
        if (!c->ex->req.chunked) {
            size_t k = avail < c->body_need ? avail : (size_t)c->body_need;
            if (body_append(c, p, k) != 0)
                return -500;
            c->body_pos += k;
            c->body_need -= k;
            break;
        }
        size_t used = 0, dlen = 0;
        const char *data = NULL;
        int r = http_chunked_decode(&c->ex->chunked, p, avail, &used, &data, &dlen);
        c->body_pos += used;
        if (r < 0)
            return r;
        if (r == HTTP_CHUNKED_DATA && body_append(c, data, dlen) != 0)
            return -500;
        if (r == HTTP_CHUNKED_DONE)
            return 1;
    }
    if (!c->ex->req.chunked && c->body_need == 0)
        return 1;
    /* All input used: make room for more body after the head. */
    c->in_len = c->body_pos = c->req_pos + c->head_len;
    return 0;
}

static void head_done(struct web_conn *c, int n)
{
    c->head_len = (size_t)n;
    c->body_pos = c->req_pos + c->head_len;
    c->had_request = 1;
    c->keep_alive = c->ex->req.keep_alive;
    c->body_len = 0;
    c->body_need = c->ex->req.has_content_length ? c->ex->req.content_length : 0;
    if (c->ex->req.chunked)
        http_chunked_init(&c->ex->chunked, c->srv->limits.max_body);
    if (c->reject) {
        /* Over MAX_CONNECTIONS: the 503 at once, no 100 Continue and no
         * body read (the close discards it): an overloaded server should
         * not take uploads it will refuse. */
        dispatch(c);
        return;
    }
    if (c->ex->req.expect_continue && (c->ex->req.chunked || c->body_need) &&
        c->body_pos == c->in_len) {
        static const char cont[] = "HTTP/1.1 100 Continue\r\n\r\n";
        int err = 0;
        send(c->lc.fd, cont, (int)sizeof cont - 1, MSG_DONTWAIT, &err);
    }
    c->state = WC_BODY;
}

/* Read what is there; 1 got bytes, 0 would block, -1 end or error. */
static int conn_read(struct web_conn *c)
{
    int err = 0;
    if (c->in_len == c->in_cap)
        return 1; /* full: the caller decides */
    int n = recv(c->lc.fd, c->in + c->in_len, (int)(c->in_cap - c->in_len), MSG_DONTWAIT, 0, &err);
    if (n > 0) {
        c->in_len += (size_t)n;
        return 1;
    }
    if (n < 0 && err == API_EWOULDBLOCK)
        return 0;
    return -1;
}

/* What the status page says a connection does. */
static const char *state_text(const struct web_conn *c)
{
    switch (c->state) {
    case WC_HANDSHAKE: return "handshake";
    case WC_HEAD: return c->in_len == c->req_pos ? "idle" : "reading";
    case WC_BODY: return "reading";
    case WC_HANDLER: return "handler";
    case WC_WRITE: return "writing";
    default: return "closing";
    }
}

static void conn_progress(struct web_conn *c)
{
    int err = 0;
    for (;;) {
        web_stats_conn_state(&c->st, state_text(c));
        switch (c->state) {
        case WC_HANDSHAKE: {
            int r = SSL_HandshakeComplete(c->lc.fd, 0);
            if (r == 0)
                return;
            if (r != 1) {
                web_stats_handshake_failed(c->lc.fd);
                web_tls_log_failure(c);
                conn_free(c);
                return;
            }
            web_stats_conn_tls(&c->st, c->lc.fd);
            c->state = WC_HEAD;
            timer_head(c);
            break;
        }
        case WC_HEAD: {
            if (c->stopping && c->in_len == c->req_pos) {
                conn_close(c);
                return;
            }
            if (c->in_len > c->req_pos) {
                int n = http_parse_request(c->in + c->req_pos, c->in_len - c->req_pos,
                                           &c->srv->limits, &c->ex->req);
                if (n > 0) {
                    head_done(c, n);
                    break;
                }
                if (n < HTTP_INCOMPLETE) {
                    c->had_request = 0;
                    respond_error(c, -n, 0);
                    break;
                }
            }
            /* A request may be arriving: the buffers for it, the input
             * grown when a head fills it (the 431 below at in_max only). */
            if (conn_buffers(c) != 0) {
                conn_close(c); /* out of memory: no request taken */
                return;
            }
            if (c->in_len == c->in_cap && c->in_cap < in_max(c) && in_grow(c, 2 * c->in_cap) != 0) {
                c->had_request = 0;
                respond_error(c, 503, 0);
                break;
            }
            int was_empty = c->in_len == c->req_pos;
            int r = conn_read(c);
            if (r == 0) {
                if (was_empty)
                    conn_idle(c); /* nothing buffered: wait without the buffers */
                return;
            }
            if (r < 0) {
                if (was_empty && c->tls)
                    conn_close(c); /* the peer ended between requests: close_notify back */
                else
                    conn_free(c);
                return;
            }
            if (c->in_len == c->in_cap && c->in_cap == in_max(c)) {
                /* The read filled the largest input: the head may have
                 * completed with it (body bytes behind it). Else the head
                 * does not fit: the parser says 414 or 431 on what it has;
                 * anything else is a head too large. */
                int n = http_parse_request(c->in + c->req_pos, c->in_len - c->req_pos,
                                           &c->srv->limits, &c->ex->req);
                if (n > 0) {
                    head_done(c, n);
                    break;
                }
                c->had_request = 0;
                respond_error(c, n < HTTP_INCOMPLETE ? -n : 431, 0);
                break;
            }
            if (was_empty)
                timer_head(c);
            break;
        }
        case WC_BODY: {
            int r = body_take(c);
            if (r < 0) {
                respond_error(c, -r, 0);
                break;
            }
            if (r == 1) {
                dispatch(c);
                break;
            }
            /* The body still to come: the largest input when it does not
             * fit in what the head leaves (fewer, larger reads); it must
             * grow when the head has filled the input. */
            size_t room = c->in_cap - c->in_len;
            if (c->in_cap < in_max(c) && (room == 0 || c->ex->req.chunked || c->body_need > room) &&
                in_grow(c, in_max(c)) != 0 && (room == 0 || !c->had_request)) {
                respond_error(c, 503, 0);
                break;
            }
            r = conn_read(c);
            if (r == 0)
                return;
            if (r < 0) {
                conn_free(c); /* the body ended early */
                return;
            }
            loop_conn_timer(&c->lc, 1000u * c->srv->cfg.web.idle_timeout); /* the body moves */
            break;
        }
        case WC_HANDLER: return; /* web_conn_resume goes on */
        case WC_WRITE: {
            int r = web_response_write(c);
            if (r == 0) {
                loop_conn_timer(&c->lc, 1000u * c->srv->cfg.web.idle_timeout);
                return;
            }
            if (r < 0) {
                conn_free(c);
                return;
            }
            /* The request line as sent (after any empty lines before it). */
            const char *line = c->had_request ? c->ex->req.method_name.p : "";
            const char *end = c->in + c->req_pos + c->head_len;
            size_t ll = 0;
            while (c->had_request && line + ll < end && line[ll] != '\r' && line[ll] != '\n')
                ll++;
            web_log_access(&c->srv->log, c->peer,
                           c->had_request && c->ex->req.has_basic_auth ? c->ex->req.auth_user
                                                                       : NULL,
                           line, ll, c->status, c->sent_body);
            web_stats_conn_request(&c->st, c->status, c->sent_body);
            web_response_end(c);
            if (!c->keep_alive || c->stopping) {
                conn_close(c);
                return;
            }
            next_request(c);
            break;
        }
        case WC_CLOSING:
            if (c->tls && SSL_ConnClose(c->lc.fd, &err) != 0 && err == API_EWOULDBLOCK)
                return;
            /* FIN after the response (and close_notify), then read until
             * the peer closes: closing with unread input would send a RST
             * that can destroy the response before the client reads it. */
            shutdown(c->lc.fd, 1, &err);
            c->state = WC_LINGER;
            loop_conn_timer(&c->lc, WEB_LINGER_MS);
            break;
        case WC_LINGER: {
            char sink[4096];
            ssize_t n;
            while ((n = read(c->lc.fd, sink, sizeof sink)) > 0)
                ;
            if (n < 0 && (errno == EAGAIN || errno == EINTR))
                return;
            conn_free(c);
            return;
        }
        }
    }
}

static void on_event(struct loop_conn *lc, unsigned events)
{
    struct web_conn *c = (struct web_conn *)lc;
    (void)events; /* errors show up in the next recv/send */
    conn_progress(c);
}

static void on_timer(struct loop_conn *lc)
{
    struct web_conn *c = (struct web_conn *)lc;
    if (c->state == WC_HANDSHAKE) {
        int err = 0, ms = SSL_GetTimeout(c->lc.fd, &err);
        if (ms > 0 && ms != SSL_NO_TIMEOUT) {
            loop_conn_timer(&c->lc, (unsigned)ms); /* woke a little early */
            return;
        }
        if (ms == SSL_NO_TIMEOUT) { /* no handshake limit: the header limit instead */
            web_stats_handshake_timeout();
            conn_free(c);
            return;
        }
        loop_conn_timer(&c->lc, 1000);
        conn_progress(c); /* SSL_HandshakeComplete fails with API_ETIMEDOUT */
        return;
    }
    if (c->state == WC_HEAD && c->in_len == c->req_pos)
        conn_close(c); /* idle keep-alive connection */
    else
        conn_free(c); /* stalled head, body, write or close */
}

static void on_stop(struct loop_conn *lc, int force)
{
    struct web_conn *c = (struct web_conn *)lc;
    if (c->state == WC_HANDLER) {
        c->stopping = 1; /* a handler thread has it: closed after its answer */
        return;
    }
    if (force || c->state == WC_HANDSHAKE || c->state == WC_LINGER) {
        conn_free(c);
        return;
    }
    c->stopping = 1;
    if (c->state == WC_HEAD && c->in_len == c->req_pos)
        conn_close(c);
}

static const struct loop_conn_ops web_conn_ops = {on_event, on_timer, on_stop};

void web_conn_accept(struct web_server *srv, struct loop_worker *w, int sd, int tls,
                     const struct sockaddr_storage *peer)
{
    int err = 0;
    unsigned n = atomic_fetch_add(&srv->nconns, 1) + 1;
    struct web_conn *c = NULL;
    /* Only the record: the buffers come with a request (conn_buffers). */
    if (n > srv->cfg.web.max_connections + WEB_REJECT_SLACK || !(c = calloc(1, sizeof *c))) {
        closesocket(sd, &err);
        atomic_fetch_sub(&srv->nconns, 1);
        return;
    }
    c->srv = srv;
    c->tls = tls;
    c->reject = n > srv->cfg.web.max_connections;
    c->lc.fd = sd;
    c->lc.ops = &web_conn_ops;
    /* A response is several records (head, body): without TCP_NODELAY the
     * last one waits for the client's delayed ACK (40 ms) on keep-alive. */
    int one = 1;
    SetSocketOption nd = {IPPROTO_TCP, TCP_NODELAY, (const char *)&one, sizeof one};
    setsockopt(sd, &nd, &err);
    const struct in6_addr *a6 = &((const struct sockaddr_in6 *)peer)->sin6_addr;
    if (peer->ss_family == AF_INET6 && IN6_IS_ADDR_V4MAPPED(a6))
        inet_ntop(AF_INET, &a6->s6_addr[12], c->peer, sizeof c->peer); /* dual-stack listener */
    else if (peer->ss_family == AF_INET6)
        inet_ntop(AF_INET6, a6, c->peer, sizeof c->peer);
    else
        inet_ntop(AF_INET, &((const struct sockaddr_in *)peer)->sin_addr, c->peer, sizeof c->peer);
    if (tls) {
        int session = srv_tls_session(&srv->tls);
        SetSocketOption so = {IP_PROTOTCP_LEVEL, TCP_SSLSESSION, (const char *)&session,
                              sizeof session};
        if (setsockopt(sd, &so, &err) != 0) { /* the session of the last reload */
            web_log_error(&srv->log, "HTTPS connection from %s dropped: session %d: %s", c->peer,
                          session, chipssl_strerror(err));
            free(c);
            closesocket(sd, &err);
            atomic_fetch_sub(&srv->nconns, 1);
            return;
        }
    }
    /* Registered before the loop may see it (conn_free leaves the list). */
    web_stats_conn_open(&c->st, tls ? "https" : "http", peer);
    if (loop_conn_add(w, &c->lc, EPOLLIN | EPOLLOUT | EPOLLRDHUP) != 0) {
        web_stats_conn_close(&c->st);
        free(c);
        closesocket(sd, &err);
        atomic_fetch_sub(&srv->nconns, 1);
        return;
    }
    if (tls) {
        c->state = WC_HANDSHAKE;
        int ms = SSL_GetTimeout(sd, &err);
        loop_conn_timer(&c->lc, ms == SSL_NO_TIMEOUT ? 1000u * srv->cfg.web.header_timeout
                                : ms > 0             ? (unsigned)ms
                                                     : 1);
    } else {
        c->state = WC_HEAD;
        timer_head(c); /* over MAX_CONNECTIONS too: its request gets the 503 (dispatch) */
    }
    /* No work here (the listener's lock is held): the socket was added
     * writable, so its first event comes at once and the worker's loop
     * does the rest. */
}
