/*
 * sslsock.c - the SSL socket layer: socket options that make a TCP socket an
 * SSL socket, driving the handshake from the caller's calls, plaintext send
 * and recv, the hold-back buffer, close_notify, and the state record.
 *
 * No engine types here: the TLS work goes through tls.h. The engine always
 * works non-blocking; this file decides whether and how long to wait, so one
 * code path serves blocking sockets, non-blocking sockets and timeouts.
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

int sslsock_set_option(struct chip_sock *s, int name, int v, int *error)
{
    int started = s->tls != NULL;
    switch (name) {
    case TCP_SSL_CLIENT:
    case TCP_SSL_SERVER: {
        int mode = name == TCP_SSL_CLIENT ? SSL_MODE_CLIENT : SSL_MODE_SERVER;
        if ((v != 0 && v != 1) || started)
            return chip_fail(error, API_EINVAL);
        if (v == 1 && s->ssl_mode != SSL_MODE_NONE && s->ssl_mode != mode)
            return chip_fail(error, API_EINVAL); /* both on */
        if (v == 1)
            s->ssl_mode = mode;
        else if (s->ssl_mode == mode)
            s->ssl_mode = SSL_MODE_NONE;
        break;
    }
    case TCP_SSLSESSION: {
        struct chip_session *sess = started ? NULL : session_get(v);
        if (!sess)
            return chip_fail(error, API_EINVAL);
        session_put(s->sess);
        s->sess = sess;
        break;
    }
    case TCP_SSL_CONNECT_TIMEOUT:
        if (v < 0)
            return chip_fail(error, API_EINVAL);
        s->connect_timeout = v;
        break;
    case TCP_SSL_SEND_MIN_SIZE:
        if (v < 0 || v > CHIP_RECORD_MAX)
            return chip_fail(error, API_EINVAL);
        s->send_min = v;
        break;
    case TCP_SSL_SEND_MAX_SIZE:
        if (v < 100 || v > CHIP_RECORD_MAX)
            return chip_fail(error, API_EINVAL);
        s->send_max = v;
        break;
    default:
        return chip_fail(error, API_ENOPROTOOPT);
    }
    return chip_ok(error);
}

int sslsock_get_option(struct chip_sock *s, int name, int *v)
{
    switch (name) {
    case TCP_SSL_CLIENT: *v = s->ssl_mode == SSL_MODE_CLIENT; return 0;
    case TCP_SSL_SERVER: *v = s->ssl_mode == SSL_MODE_SERVER; return 0;
    case TCP_SSLSESSION: *v = s->sess ? session_id(s->sess) : 0; return 0;
    case TCP_SSL_CONNECT_TIMEOUT: *v = s->connect_timeout; return 0;
    case TCP_SSL_SEND_MIN_SIZE: *v = s->send_min; return 0;
    case TCP_SSL_SEND_MAX_SIZE: *v = s->send_max; return 0;
    default: return API_ENOPROTOOPT;
    }
}

/* ---- handshake ------------------------------------------------------- */

static int is_ssl(const struct chip_sock *s)
{
    return s->ssl_mode != SSL_MODE_NONE && s->sess != NULL && s->type == SOCK_STREAM;
}

/* Mark the connection dead; later calls report API_ECONNABORTED. */
static int conn_failed(struct chip_sock *s, int *error)
{
    s->hs = HS_FAILED;
    SslProblemS *p = tls_conn_problem(s->tls);
    if (p->errorCode == 0)
        p->errorCode = API_ECONNABORTED;
    return chip_fail(error, p->errorCode);
}

static int start_tls(struct chip_sock *s, const char *name, const char *key,
                     int *error)
{
    struct tls_ctx *ctx = session_tls_ctx(s->sess, s->ssl_mode == SSL_MODE_SERVER, error);
    if (!ctx)
        return API_ERROR;
    s->tls = tls_conn_new(ctx, session_cache(s->sess), s->fd, name, key, error);
    tls_ctx_free(ctx);
    if (!s->tls)
        return API_ERROR;
    s->hs = HS_RUNNING;
    if (s->deadline == CHIP_FOREVER && s->connect_timeout > 0)
        s->deadline = chip_now_ms() + (int64_t)s->connect_timeout * 1000;
    return 0;
}

/* Advance the handshake, waiting until `limit` at most (and never past the
 * handshake time limit). 1 done, 0 not yet (*error API_EWOULDBLOCK), -1
 * failed (*error the reason). */
static int hs_drive(struct chip_sock *s, int64_t limit, int *error)
{
    if (s->hs == HS_DONE)
        return 1;
    if (s->hs == HS_FAILED)
        return chip_fail(error, API_ECONNABORTED);
    if (!s->tls) {
        /* Fail closed: an SSL socket never carries plaintext, so without a
         * session, or on a client before SSL_ClientStart, nothing moves. */
        if (s->listening)
            return chip_fail(error, API_ENOTCONN);
        if (s->ssl_mode == SSL_MODE_CLIENT || !s->sess)
            return chip_fail(error, API_EPERM);
        if (start_tls(s, NULL, NULL, error) < 0)
            return API_ERROR;
    }
    for (;;) {
        int r = tls_conn_handshake(s->tls);
        if (r == TLS_DONE) {
            s->hs = HS_DONE;
            s->want = 0;
            s->deadline = CHIP_FOREVER;
            return 1;
        }
        if (r == TLS_FAIL || r == TLS_EOF)
            return conn_failed(s, error);
        s->want = r == TLS_WANT_READ ? POLLIN : POLLOUT;
        int64_t until = limit < s->deadline ? limit : s->deadline;
        int w = chip_wait_fd(s->fd, s->want, until, error);
        if (w < 0)
            return API_ERROR;
        if (w == 0) {
            if (chip_now_ms() >= s->deadline) {
                tls_conn_fail(s->tls, API_ETIMEDOUT, "handshake time limit passed");
                return conn_failed(s, error);
            }
            return chip_fail(error, API_EWOULDBLOCK);
        }
    }
}

/* ---- sending --------------------------------------------------------- */

/* Write the hold-back buffer. force: also what is below TCP_SSL_SEND_MIN_SIZE.
 * 1 written (or held back), 0 would block, -1 error. */
static int flush_out(struct chip_sock *s, int blocking, int force, int *error)
{
    while (s->out_len > 0) {
        if (!force && !s->out_committed && s->out_len < s->send_min)
            return 1;
        int n = s->out_len < s->send_max ? s->out_len : s->send_max;
        if (s->out_committed && n < s->committed_len)
            n = s->committed_len; /* a retry must offer what was offered */
        int w = 0, r = tls_conn_write(s->tls, s->out + s->out_off, n, &w);
        if (r == TLS_DONE) {
            s->out_off += w;
            s->out_len -= w;
            s->out_committed = 0;
            if (s->out_len == 0)
                s->out_off = 0;
            continue;
        }
        if (r == TLS_FAIL || r == TLS_EOF)
            return conn_failed(s, error);
        /* The engine built the record and keeps it: the bytes must stay. */
        s->out_committed = 1;
        s->committed_len = n;
        s->want = r == TLS_WANT_READ ? POLLIN : POLLOUT;
        if (!blocking) {
            chip_fail(error, API_EWOULDBLOCK);
            return 0;
        }
        if (chip_wait_fd(s->fd, s->want, CHIP_FOREVER, error) < 0)
            return API_ERROR;
    }
    return 1;
}

static int ensure_out(struct chip_sock *s, int *error)
{
    if (!s->out && !(s->out = malloc(CHIP_RECORD_MAX)))
        return chip_fail(error, API_ENOMEM);
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

int sslsock_send(struct chip_sock *s, const unsigned char *buf, int len,
                 int blocking, int *error)
{
    if (s->shut_wr)
        return chip_fail(error, API_ESHUTDOWN);
    int r = hs_drive(s, blocking ? CHIP_FOREVER : 0, error);
    if (r < 0 && *error != API_EWOULDBLOCK)
        return API_ERROR;
    int done = 0;
    while (done < len) {
        if (s->hs != HS_DONE || s->out_len > 0 || s->send_min > 0) {
            /* Before the handshake ends, behind held-back data, or with a
             * minimum size: through the buffer, so order is kept. */
            if (ensure_out(s, error) < 0)
                break;
            int k = buffer_out(s, buf + done, len - done);
            done += k;
            if (s->hs != HS_DONE)
                break; /* sent once the handshake finishes */
            int f = flush_out(s, blocking, 0, error);
            if (f < 0)
                goto out;
            if (k == 0 && f == 0)
                break; /* full and the peer is not reading */
            continue;
        }
        /* Fast path: straight from the caller's buffer, one record a time. */
        int n = len - done < s->send_max ? len - done : s->send_max, w = 0;
        r = tls_conn_write(s->tls, buf + done, n, &w);
        if (r == TLS_DONE) {
            done += w;
            continue;
        }
        if (r == TLS_FAIL || r == TLS_EOF) {
            conn_failed(s, error);
            goto out;
        }
        /* The record is built and in flight: keep its plaintext for the
         * retry, and count it as accepted. Without memory for that copy the
         * connection cannot go on (the retry must offer the same bytes). */
        if (ensure_out(s, error) < 0) {
            tls_conn_fail(s->tls, API_ENOMEM, "no memory for a pending record");
            conn_failed(s, error);
            goto out;
        }
        memcpy(s->out, buf + done, (size_t)n);
        s->out_off = 0;
        s->out_len = n;
        s->out_committed = 1;
        s->committed_len = n;
        s->want = r == TLS_WANT_READ ? POLLIN : POLLOUT;
        done += n;
        if (!blocking)
            break;
        if (flush_out(s, 1, 0, error) < 0)
            goto out;
    }
    *error = 0;
out:
    /* Bytes accepted count even when a later part failed: they are the
     * caller's no more (and an error is reported by the next call). */
    s->st.bytesOut += (unsigned long long)done;
    if (done > 0)
        *error = 0;
    if (done == 0 && len > 0) {
        if (*error == 0)
            *error = API_EWOULDBLOCK;
        return API_ERROR;
    }
    return done;
}

/* ---- receiving ------------------------------------------------------- */

int sslsock_recv(struct chip_sock *s, unsigned char *buf, int len, int peek,
                 int64_t deadline, int *error)
{
    if (hs_drive(s, deadline, error) <= 0)
        return API_ERROR;
    /* Data held back by a non-blocking send goes out when it can. */
    if (s->out_len > 0 && flush_out(s, 0, 0, error) < 0)
        return API_ERROR;
    for (;;) {
        int n = 0, r = tls_conn_read(s->tls, buf, len, peek, &n);
        if (r == TLS_DONE) {
            if (!peek)
                s->st.bytesIn += (unsigned long long)n;
            *error = 0;
            return n;
        }
        if (r == TLS_EOF)
            return chip_ok(error);
        if (r == TLS_FAIL)
            return conn_failed(s, error);
        s->want = r == TLS_WANT_READ ? POLLIN : POLLOUT;
        int w = chip_wait_fd(s->fd, s->want, deadline, error);
        if (w < 0)
            return API_ERROR;
        if (w == 0)
            return chip_fail(error, API_EWOULDBLOCK);
    }
}

/* ---- the SSL_* socket calls ------------------------------------------ */

/* The record of an SSL socket for an SSL_* call, or NULL with *error. */
static struct chip_sock *ssl_sock(int sd, int *error)
{
    struct chip_sock *s = sock_lookup(sd, error);
    if (s && !is_ssl(s)) {
        chip_fail(error, API_EINVAL);
        return NULL;
    }
    return s;
}

int SSL_ClientStart(int sd, const char *srvCommonName, int *error)
{
    if (!error)
        return API_ERROR;
    struct chip_sock *s = sock_lookup(sd, error);
    if (!s)
        return API_ERROR;
    if (s->ssl_mode != SSL_MODE_CLIENT || !s->sess || s->type != SOCK_STREAM)
        return chip_fail(error, API_EPERM);
    if (session_is_closed(s->sess))
        return chip_fail(error, API_ENOENT);
    if (s->tls)
        return chip_fail(error, API_EALREADY);
    if (srvCommonName && strlen(srvCommonName) > 255)
        return chip_fail(error, API_EINVAL);
    struct sockaddr_storage peer;
    socklen_t pl = sizeof peer;
    if (getpeername(sd, (struct sockaddr *)&peer, &pl) != 0)
        return chip_fail(error, API_ENOTCONN);

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
    snprintf(key, sizeof key, "%s|%d|%s", host, port,
             srvCommonName ? srvCommonName : "");
    if (start_tls(s, srvCommonName, key, error) < 0)
        return API_ERROR;
    /* Send the ClientHello now; completion is SSL_HandshakeComplete's. */
    int e = 0;
    hs_drive(s, 0, &e);
    return chip_ok(error);
}

int SSL_HandshakeComplete(int sd, unsigned int timeout)
{
    int e = 0;
    struct chip_sock *s = sock_lookup(sd, &e);
    if (!s)
        return e == API_ENOTSOCK ? -1 : -2;
    if (s->type != SOCK_STREAM)
        return -1;
    if (!is_ssl(s) || s->listening || (s->ssl_mode == SSL_MODE_CLIENT && !s->tls))
        return 0;
    int64_t limit = timeout == SSL_WAIT_FOREVER ? CHIP_FOREVER
                                                : chip_now_ms() + (int64_t)timeout;
    int r = hs_drive(s, limit, &e);
    if (r < 0 && e != API_EWOULDBLOCK)
        return -3;
    if (r > 0 && s->out_len > 0)
        flush_out(s, 0, 0, &e); /* data sent before the handshake ended */
    return r > 0 ? 1 : 0;
}

int SSL_SendFlush(int sd, int *error)
{
    if (!error)
        return API_ERROR;
    struct chip_sock *s = ssl_sock(sd, error);
    if (!s)
        return API_ERROR;
    if (s->hs != HS_DONE)
        return chip_fail(error, s->hs == HS_FAILED ? API_ECONNABORTED : API_EINVAL);
    int f = flush_out(s, !fd_nonblocking(sd), 1, error);
    return f == 1 ? chip_ok(error) : API_ERROR;
}

int SSL_ConnClose(int sd, int *error)
{
    if (!error)
        return API_ERROR;
    struct chip_sock *s = ssl_sock(sd, error);
    if (!s)
        return API_ERROR;
    if (s->hs != HS_DONE || s->shut_wr)
        return chip_fail(error, API_EINVAL);
    int blocking = !fd_nonblocking(sd);
    /* Non-blocking: whatever cannot go now waits for POLLOUT (and
     * SSL_GetWaitEvents says so until a later call finishes the close). */
    s->close_pending = 1;
    int f = flush_out(s, blocking, 1, error);
    if (f != 1)
        return API_ERROR;
    for (;;) {
        int r = tls_conn_close_notify(s->tls);
        if (r == TLS_DONE)
            break;
        if (r == TLS_FAIL || r == TLS_EOF)
            return conn_failed(s, error);
        s->want = r == TLS_WANT_READ ? POLLIN : POLLOUT;
        if (!blocking)
            return chip_fail(error, API_EWOULDBLOCK);
        if (chip_wait_fd(sd, s->want, CHIP_FOREVER, error) < 0)
            return API_ERROR;
    }
    s->close_pending = 0;
    s->close_sent = 1;
    s->shut_wr = 1;
    return chip_ok(error);
}

static void refresh_state(struct chip_sock *s)
{
    SSL_CONN_STATE *st = &s->st;
    st->isServer = s->ssl_mode == SSL_MODE_SERVER;
    st->sessionID = s->sess ? session_id(s->sess) : 0;
    if (s->tls)
        tls_conn_state(s->tls, st);
    if (s->hs == HS_IDLE)
        st->handshakeState = SSL_HS_NONE;
    else if (s->hs == HS_FAILED)
        st->handshakeState = SSL_HS_FAILED;
    else if (s->hs == HS_DONE)
        st->handshakeState = (s->close_sent || s->eof || st->closeNotify) ? SSL_HS_CLOSED
                                                                           : SSL_HS_DONE;
}

int SSL_GetConnState(int sd, void **connStatePtr, int *error)
{
    if (!error)
        return API_ERROR;
    if (!connStatePtr)
        return chip_fail(error, API_EINVAL);
    struct chip_sock *s = ssl_sock(sd, error);
    if (!s)
        return API_ERROR;
    refresh_state(s);
    *connStatePtr = &s->st;
    return chip_ok(error);
}

int SSL_Get_ConnState(int sd, void **connStatePtr, int *error)
{
    return SSL_GetConnState(sd, connStatePtr, error);
}

int SSL_GetProblem(int sd, SslProblemS *problem, int *error)
{
    SSL_CONN_STATE *st;
    if (!problem)
        return chip_fail(error, API_EINVAL);
    if (SSL_GetConnState(sd, (void **)&st, error) != 0)
        return API_ERROR;
    *problem = st->problem;
    return 0;
}

int SSL_GetWaitEvents(int sd, int *error)
{
    if (!error)
        return API_ERROR;
    struct chip_sock *s = sock_lookup(sd, error);
    if (!s)
        return API_ERROR;
    *error = 0;
    if (!is_ssl(s) || !s->tls || s->hs == HS_FAILED)
        return 0;
    if (tls_conn_pending(s->tls) > 0)
        return 0; /* decrypted data waits: call recv again */
    int ev = s->want;
    /* A record in flight, or held-back data ripe for sending, needs the
     * socket writable whatever the last read waited for. */
    if (s->hs == HS_DONE && (s->close_pending || s->out_committed ||
                             (s->out_len > 0 && s->out_len >= s->send_min)))
        ev |= POLLOUT;
    return ev;
}
