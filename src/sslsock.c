/*
 * sslsock.c - the SSL socket layer: socket options that make a TCP socket an
 * SSL socket, driving the handshake from the caller's calls, plaintext send
 * and recv, the hold-back buffer, close_notify, and the state record.
 *
 * No engine types here: the TLS work goes through tls.h. The engine always
 * works non-blocking; this file decides whether and how long to wait, in one
 * place (drive()), so one code path serves blocking sockets, non-blocking
 * sockets and timeouts. The engine owns the connection's handshake state and
 * failure record; this file reads them and adds only what the socket knows
 * (SSL_HS_CLOSED, the handshake time limit, reported through tls_conn_fail).
 * Errors follow internal.h: negated codes inside, *error written once by the
 * SSL_* call that returns.
 */
#include "socket.h"

#include "session.h"
#include "tls.h"

#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- settings -------------------------------------------------------- */

void sslsock_release(struct chip_sock *s)
{
    tls_conn_free(s->tls);
    s->tls = NULL;
    session_put(s->sess);
    s->sess = NULL;
    free(s->out);
    s->out = NULL;
    free(s->st);
    s->st = NULL;
}

void sslsock_inherit(struct chip_sock *child, const struct chip_sock *l)
{
    child->ssl_mode = l->ssl_mode;
    child->connect_timeout = l->connect_timeout;
    child->send_min = l->send_min;
    child->send_max = l->send_max;
    if (l->sess && l->ssl_mode != SSL_MODE_NONE) {
        session_ref(l->sess);
        child->sess = l->sess;
    }
    /* The handshake time limit of an accepted socket runs from accept(), so
     * that a peer that connects and stays silent is dropped (slowloris). */
    if (child->ssl_mode == SSL_MODE_SERVER && child->connect_timeout > 0)
        child->deadline = chip_now_ms() + (int64_t)child->connect_timeout * 1000;
}

int sslsock_set_option(struct chip_sock *s, int name, int v)
{
    int started = s->tls != NULL;
    switch (name) {
    case TCP_SSL_CLIENT:
    case TCP_SSL_SERVER: {
        int mode = name == TCP_SSL_CLIENT ? SSL_MODE_CLIENT : SSL_MODE_SERVER;
        if ((v != 0 && v != 1) || started)
            return -API_EINVAL;
        if (v == 1 && s->ssl_mode != SSL_MODE_NONE && s->ssl_mode != mode)
            return -API_EINVAL; /* both on */
        if (v == 1)
            s->ssl_mode = mode;
        else if (s->ssl_mode == mode)
            s->ssl_mode = SSL_MODE_NONE;
        break;
    }
    case TCP_SSLSESSION: {
        struct chip_session *sess = started ? NULL : session_get(v);
        if (!sess)
            return -API_EINVAL;
        session_put(s->sess);
        s->sess = sess;
        break;
    }
    case TCP_SSL_CONNECT_TIMEOUT:
        if (v < 0)
            return -API_EINVAL;
        s->connect_timeout = v;
        break;
    case TCP_SSL_SEND_MIN_SIZE:
        if (v < 0 || v > CHIP_RECORD_MAX)
            return -API_EINVAL;
        s->send_min = v;
        break;
    case TCP_SSL_SEND_MAX_SIZE:
        if (v < 100 || v > CHIP_RECORD_MAX)
            return -API_EINVAL;
        s->send_max = v;
        break;
    default:
        return -API_ENOPROTOOPT;
    }
    return 0;
}

int sslsock_get_option(const struct chip_sock *s, int name, int *v)
{
    switch (name) {
    case TCP_SSL_CLIENT: *v = s->ssl_mode == SSL_MODE_CLIENT; return 0;
    case TCP_SSL_SERVER: *v = s->ssl_mode == SSL_MODE_SERVER; return 0;
    case TCP_SSLSESSION: *v = s->sess ? session_id(s->sess) : 0; return 0;
    case TCP_SSL_CONNECT_TIMEOUT: *v = s->connect_timeout; return 0;
    case TCP_SSL_SEND_MIN_SIZE: *v = s->send_min; return 0;
    case TCP_SSL_SEND_MAX_SIZE: *v = s->send_max; return 0;
    default: return -API_ENOPROTOOPT;
    }
}

/* ---- the drive loop ---------------------------------------------------- */

static int is_ssl(const struct chip_sock *s)
{
    return s->ssl_mode != SSL_MODE_NONE && s->sess != NULL && s->type == SOCK_STREAM;
}

/* The handshake state: the engine's, SSL_HS_NONE before the connection. */
static int hs_state(const struct chip_sock *s)
{
    return s->tls ? tls_conn_hs_state(s->tls) : SSL_HS_NONE;
}

/* The code of the connection's recorded failure, negated. */
static int failure(struct chip_sock *s, const char *why)
{
    tls_conn_fail(s->tls, API_ECONNABORTED, why); /* no-op when one is recorded */
    return -tls_conn_problem(s->tls)->errorCode;
}

enum op { OP_HANDSHAKE, OP_READ, OP_PEEK, OP_WRITE, OP_CLOSE };

/* The one drive loop: run an engine operation, waiting for the readiness it
 * asks for until `deadline` (0: no wait) and, while handshaking, never past
 * the handshake time limit. The engine never blocks; waiting is decided
 * here, so blocking sockets, non-blocking ones and timeouts share one path.
 * Returns >= 0 done (bytes for a read or write; a read's 0 is the end of the
 * stream), -API_EWOULDBLOCK when the deadline came first (a write's record
 * is then built and held by the engine: the retry must offer the same
 * bytes), or another negated code when the connection failed (the engine's
 * failure record says why). */
static int drive(struct chip_sock *s, enum op op, void *buf, int len, int64_t deadline)
{
    for (;;) {
        int n = 0, r;
        switch (op) {
        case OP_HANDSHAKE: r = tls_conn_handshake(s->tls); break;
        case OP_READ:
        case OP_PEEK: r = tls_conn_read(s->tls, buf, len, op == OP_PEEK, &n); break;
        case OP_WRITE: r = tls_conn_write(s->tls, buf, len, &n); break;
        default: r = tls_conn_close_notify(s->tls); break;
        }
        if (r == TLS_DONE) {
            if (op == OP_HANDSHAKE) {
                s->want = 0;
                s->deadline = CHIP_FOREVER;
            }
            return n;
        }
        if (r == TLS_EOF && (op == OP_READ || op == OP_PEEK))
            return 0;
        if (r == TLS_EOF || r == TLS_FAIL)
            return failure(s, "the peer closed the connection");
        s->want = r == TLS_WANT_READ ? POLLIN : POLLOUT;
        deadline = sock_deadline(s->fd, deadline);
        int64_t until = op == OP_HANDSHAKE && s->deadline < deadline ? s->deadline : deadline;
        int w = chip_wait_fd(s->fd, s->want, until);
        if (w < 0) {
            tls_conn_fail(s->tls, -w, "waiting for the socket failed");
            return w;
        }
        if (w == 0) {
            if (op == OP_HANDSHAKE && chip_now_ms() >= s->deadline) {
                tls_conn_fail(s->tls, API_ETIMEDOUT, "handshake time limit passed");
                return -API_ETIMEDOUT;
            }
            return -API_EWOULDBLOCK;
        }
    }
}

/* ---- handshake ------------------------------------------------------- */

static int start_tls(struct chip_sock *s, const char *name, const char *key)
{
    int rc = -API_ENOMEM;
    struct tls_ctx *ctx = session_tls_ctx(s->sess, s->ssl_mode == SSL_MODE_SERVER, &rc);
    if (!ctx)
        return rc;
    s->tls = tls_conn_new(ctx, session_cache(s->sess), s->fd, name, key, &rc);
    tls_ctx_free(ctx);
    if (!s->tls)
        return rc;
    if (s->deadline == CHIP_FOREVER && s->connect_timeout > 0)
        s->deadline = chip_now_ms() + (int64_t)s->connect_timeout * 1000;
    return 0;
}

/* Advance the handshake until it is done or `deadline`. 0 done,
 * -API_EWOULDBLOCK not yet, else why it failed. */
static int handshake(struct chip_sock *s, int64_t deadline)
{
    if (!s->tls) {
        /* Fail closed: an SSL socket never carries plaintext, so without a
         * session, or on a client before SSL_ClientStart, nothing moves. */
        if (s->listening)
            return -API_ENOTCONN;
        if (s->ssl_mode == SSL_MODE_CLIENT || !s->sess)
            return -API_EPERM;
        int rc = start_tls(s, NULL, NULL);
        if (rc < 0)
            return rc;
    }
    switch (hs_state(s)) {
    case SSL_HS_DONE: return 0;
    case SSL_HS_FAILED: return failure(s, NULL); /* the code recorded then */
    }
    int rc = drive(s, OP_HANDSHAKE, NULL, 0, deadline);
    return rc < 0 ? rc : 0;
}

/* ---- sending --------------------------------------------------------- */

/* Write the hold-back buffer. force: also what is below TCP_SSL_SEND_MIN_SIZE.
 * 0 written (or held back), else a negated code (-API_EWOULDBLOCK). */
static int flush_out(struct chip_sock *s, int64_t deadline, int force)
{
    while (s->out_len > 0) {
        if (!force && !s->out_committed && s->out_len < s->send_min)
            return 0;
        int n = s->out_len < s->send_max ? s->out_len : s->send_max;
        if (s->out_committed && n < s->committed_len)
            n = s->committed_len; /* a retry must offer what was offered */
        int w = drive(s, OP_WRITE, s->out + s->out_off, n, deadline);
        if (w == -API_EWOULDBLOCK) {
            s->out_committed = 1; /* the bytes must stay until written */
            s->committed_len = n;
        }
        if (w < 0)
            return w;
        s->out_off += w;
        s->out_len -= w;
        s->out_committed = 0;
        if (s->out_len == 0)
            s->out_off = 0;
    }
    return 0;
}

static int ensure_out(struct chip_sock *s)
{
    if (!s->out && !(s->out = malloc(CHIP_RECORD_MAX)))
        return -API_ENOMEM;
    return 0;
}

/* Append to the hold-back buffer what fits. Returns bytes taken. */
static int buffer_out(struct chip_sock *s, const unsigned char *buf, int len)
{
    if (s->out_off > 0 && !s->out_committed) {
        memmove(s->out, s->out + s->out_off, (size_t)s->out_len);
        s->out_off = 0;
    }
    int space = CHIP_RECORD_MAX - s->out_off - s->out_len;
    int k = len < space ? len : space;
    memcpy(s->out + s->out_off + s->out_len, buf, (size_t)k);
    s->out_len += k;
    return k;
}

int sslsock_send(struct chip_sock *s, const unsigned char *buf, int len, int64_t deadline)
{
    if (s->shut_wr || s->close_pending)
        return -API_ESHUTDOWN;
    int rc = handshake(s, deadline);
    if (rc < 0 && rc != -API_EWOULDBLOCK)
        return rc;
    int running = rc < 0; /* non-blocking and the handshake goes on */
    int done = 0;
    while (done < len) {
        if (running || s->out_len > 0 || s->send_min > 0) {
            /* Before the handshake ends, behind held-back data, or with a
             * minimum size: through the buffer, so order is kept. */
            if ((rc = ensure_out(s)) < 0)
                break;
            int k = buffer_out(s, buf + done, len - done);
            done += k;
            if (running)
                break; /* sent once the handshake finishes */
            rc = flush_out(s, deadline, 0);
            if (rc < 0 && (rc != -API_EWOULDBLOCK || k == 0))
                break; /* failed, or full and the peer is not reading */
            continue;
        }
        /* Fast path: straight from the caller's buffer, one record a time.
         * A call that may not wait needs the hold-back buffer first: when
         * the record cannot go at once, its plaintext is kept there. */
        int n = len - done < s->send_max ? len - done : s->send_max;
        if (deadline != CHIP_FOREVER && (rc = ensure_out(s)) < 0)
            break;
        rc = drive(s, OP_WRITE, (void *)(buf + done), n, deadline);
        if (rc == -API_EWOULDBLOCK) {
            /* Built and in flight: keep it for the retry; it is accepted. */
            memcpy(s->out, buf + done, (size_t)n);
            s->out_off = 0;
            s->out_len = n;
            s->out_committed = 1;
            s->committed_len = n;
            done += n;
            break;
        }
        if (rc < 0)
            break;
        done += rc;
    }
    /* Bytes accepted count even when a later part failed: they are the
     * caller's no more (and the failure is reported by the next call). */
    s->bytes_out += (unsigned long long)done;
    if (done > 0 || len == 0)
        return done;
    return rc < 0 ? rc : -API_EWOULDBLOCK;
}

/* ---- receiving ------------------------------------------------------- */

int sslsock_recv(struct chip_sock *s, unsigned char *buf, int len, int peek, int64_t deadline)
{
    int rc = handshake(s, deadline);
    if (rc < 0)
        return rc;
    /* Data held back by a non-blocking send goes out when it can. */
    if (s->out_len > 0 && (rc = flush_out(s, 0, 0)) < 0 && rc != -API_EWOULDBLOCK)
        return rc;
    rc = drive(s, peek ? OP_PEEK : OP_READ, buf, len, deadline);
    if (rc > 0 && !peek)
        s->bytes_in += (unsigned long long)rc;
    return rc;
}

int sslsock_alert_sent(const struct chip_sock *s)
{
    if (!s->tls)
        return 0;
    const SslProblemS *p = tls_conn_problem(s->tls);
    return p->errorCode != 0 && p->alert >= 0 && p->alertSent;
}

/* ---- the SSL_* socket calls ------------------------------------------ */

/* The record of an SSL socket for an SSL_* call. */
static int ssl_sock(int sd, struct chip_sock **s)
{
    int rc = sock_lookup(sd, s);
    if (rc == 0 && !is_ssl(*s))
        rc = -API_EINVAL;
    return rc;
}

static int client_start(struct chip_sock *s, const char *name)
{
    if (s->ssl_mode != SSL_MODE_CLIENT || !s->sess || s->type != SOCK_STREAM)
        return -API_EPERM;
    if (session_is_closed(s->sess))
        return -API_ENOENT;
    if (s->tls)
        return -API_EALREADY;
    if (name && strlen(name) > 255)
        return -API_EINVAL;
    struct sockaddr_storage peer;
    socklen_t pl = sizeof peer;
    if (getpeername(s->fd, (struct sockaddr *)&peer, &pl) != 0)
        return -API_ENOTCONN;

    /* The resumption cache key: peer address, port and expected name. */
    char host[INET6_ADDRSTRLEN] = "", key[INET6_ADDRSTRLEN + 300];
    int port = 0;
    if (peer.ss_family == AF_INET6) {
        const struct sockaddr_in6 *a = (const struct sockaddr_in6 *)&peer;
        inet_ntop(AF_INET6, &a->sin6_addr, host, sizeof host);
        port = ntohs(a->sin6_port);
    } else if (peer.ss_family == AF_INET) {
        const struct sockaddr_in *a = (const struct sockaddr_in *)&peer;
        inet_ntop(AF_INET, &a->sin_addr, host, sizeof host);
        port = ntohs(a->sin_port);
    }
    snprintf(key, sizeof key, "%s|%d|%s", host, port, name ? name : "");
    int rc = start_tls(s, name, key);
    if (rc < 0)
        return rc;
    /* Send the ClientHello now; completion is SSL_HandshakeComplete's, and
     * so is reporting a failure of this first step. */
    handshake(s, 0);
    return 0;
}

int SSL_ClientStart(int sd, const char *srvCommonName, int *error)
{
    if (!error)
        return API_ERROR;
    struct chip_sock *s;
    int rc = sock_lookup(sd, &s); /* s is NULL when it fails */
    if (rc == 0)
        rc = client_start(s, srvCommonName);
    return sock_return(s, error, rc);
}

int SSL_HandshakeComplete(int sd, unsigned int timeout)
{
    struct chip_sock *s;
    int rc = sock_lookup(sd, &s);
    if (rc < 0)
        return rc == -API_ENOTSOCK ? -1 : -2;
    if (s->type != SOCK_STREAM)
        return -1;
    /* 0 as the original answers, get_socketerror() tells why. */
    if (!is_ssl(s) || s->listening) {
        s->last_error = API_EINVAL;
        return 0;
    }
    if (s->ssl_mode == SSL_MODE_CLIENT && !s->tls) {
        s->last_error = API_EPERM;
        return 0;
    }
    int64_t limit = timeout == SSL_WAIT_FOREVER ? CHIP_FOREVER
                                                : chip_now_ms() + (int64_t)timeout;
    rc = handshake(s, limit);
    if (rc == 0 && s->out_len > 0)
        flush_out(s, 0, 0); /* data sent before the handshake ended */
    s->last_error = -rc;
    return rc == 0 ? 1 : rc == -API_EWOULDBLOCK ? 0 : -3;
}

int SSL_GetTimeout(int sd, int *error)
{
    if (!error)
        return API_ERROR;
    struct chip_sock *s;
    int rc = ssl_sock(sd, &s);
    if (rc < 0)
        return chip_return(error, rc);
    int st = hs_state(s);
    if (st == SSL_HS_DONE || st == SSL_HS_FAILED || s->deadline == CHIP_FOREVER)
        return chip_return(error, SSL_NO_TIMEOUT);
    int64_t left = s->deadline - chip_now_ms();
    return chip_return(error, left <= 0 ? 0 : left >= SSL_NO_TIMEOUT ? SSL_NO_TIMEOUT - 1
                                                                      : (int)left);
}

int SSL_SendFlush(int sd, int *error)
{
    if (!error)
        return API_ERROR;
    struct chip_sock *s;
    int rc = ssl_sock(sd, &s);
    if (rc < 0)
        return chip_return(error, rc);
    int st = hs_state(s);
    if (st != SSL_HS_DONE)
        rc = st == SSL_HS_FAILED ? -API_ECONNABORTED : -API_EINVAL;
    else
        rc = flush_out(s, fd_nonblocking(sd) ? 0 : CHIP_FOREVER, 1);
    return sock_return(s, error, rc);
}

int SSL_ConnClose(int sd, int *error)
{
    if (!error)
        return API_ERROR;
    struct chip_sock *s;
    int rc = ssl_sock(sd, &s);
    if (rc < 0)
        return chip_return(error, rc);
    if (hs_state(s) != SSL_HS_DONE || s->shut_wr)
        return sock_return(s, error, -API_EINVAL);
    /* Non-blocking: what cannot go now waits for POLLOUT, SSL_GetWaitEvents
     * says so, and a later call goes on from where this one stopped. */
    int64_t deadline = fd_nonblocking(sd) ? 0 : CHIP_FOREVER;
    s->close_pending = 1;
    rc = flush_out(s, deadline, 1);
    if (rc == 0)
        rc = drive(s, OP_CLOSE, NULL, 0, deadline);
    if (rc >= 0) {
        s->close_pending = 0;
        s->close_sent = 1;
        s->shut_wr = 1;
        rc = 0;
    }
    return sock_return(s, error, rc);
}

/* The state of s, filled afresh into *st. */
static void fill_state(struct chip_sock *s, SSL_CONN_STATE *st)
{
    st->isServer = s->ssl_mode == SSL_MODE_SERVER;
    st->sessionID = s->sess ? session_id(s->sess) : 0;
    st->bytesIn = s->bytes_in;
    st->bytesOut = s->bytes_out;
    if (s->tls)
        tls_conn_state(s->tls, st);
    else
        st->problem = (SslProblemS){ .alert = -1 };
    int hs = hs_state(s);
    if (hs == SSL_HS_DONE && (s->close_sent || s->eof || st->closeNotify))
        hs = SSL_HS_CLOSED;
    st->handshakeState = hs;
}

int SSL_GetConnState(int sd, void **connStatePtr, int *error)
{
    if (!error)
        return API_ERROR;
    struct chip_sock *s;
    int rc = connStatePtr ? ssl_sock(sd, &s) : -API_EINVAL;
    if (rc == 0 && !s->st && !(s->st = calloc(1, sizeof *s->st)))
        rc = -API_ENOMEM;
    if (rc == 0) {
        fill_state(s, s->st);
        *connStatePtr = s->st;
    }
    return chip_return(error, rc);
}

int SSL_Get_ConnState(int sd, void **connStatePtr, int *error)
{
    return SSL_GetConnState(sd, connStatePtr, error);
}

int SSL_GetProblem(int sd, SslProblemS *problem, int *error)
{
    struct chip_sock *s;
    int rc = problem ? ssl_sock(sd, &s) : -API_EINVAL;
    if (rc == 0) {
        SSL_CONN_STATE st = { 0 };
        fill_state(s, &st);
        *problem = st.problem;
    }
    return chip_return(error, rc);
}

/* The state of an established connection, or -API_EINVAL. */
static int established(int sd, SSL_CONN_STATE *st)
{
    struct chip_sock *s;
    int rc = ssl_sock(sd, &s);
    if (rc == 0) {
        fill_state(s, st);
        if (st->handshakeState != SSL_HS_DONE && st->handshakeState != SSL_HS_CLOSED)
            rc = -API_EINVAL;
    }
    return rc;
}

int SSL_IsResumptionOf(int sd, int originSd, int *error)
{
    if (!error)
        return API_ERROR;
    SSL_CONN_STATE s = { 0 }, o = { 0 };
    int rc = established(sd, &s);
    if (rc == 0)
        rc = established(originSd, &o);
    if (rc == 0)
        rc = sd != originSd && s.resumed && s.sessionOrigin != 0 &&
             s.sessionOrigin == o.sessionOrigin;
    return chip_return(error, rc);
}

int SSL_GetWaitEvents(int sd, int *error)
{
    if (!error)
        return API_ERROR;
    struct chip_sock *s;
    int rc = sock_lookup(sd, &s);
    if (rc < 0)
        return chip_return(error, rc);
    int st = hs_state(s);
    if (!is_ssl(s) || !s->tls || st == SSL_HS_FAILED)
        return chip_return(error, 0);
    if (tls_conn_pending(s->tls) > 0)
        return chip_return(error, 0); /* decrypted data waits: call recv again */
    int ev = s->want;
    /* A record in flight, or held-back data ripe for sending, needs the
     * socket writable whatever the last read waited for. */
    if (st == SSL_HS_DONE && (s->close_pending || s->out_committed ||
                              (s->out_len > 0 && s->out_len >= s->send_min)))
        ev |= POLLOUT;
    return chip_return(error, ev);
}
