/*
 * ftp_data.c - data connections: PASV/EPSV listeners (only the control
 * connection's peer may connect), PORT/EPRT connects (non-blocking), TLS
 * on them with PROT P (server side, the control connection's chipssl
 * session; with REQUIRE_TLS the handshake must resume the control
 * connection's TLS session, proven with SSL_IsResumptionOf, or 522), and
 * the transfers: RETR by pread in large blocks, STOR into an ftp_store,
 * listings from an ftp_lister, TYPE A through ftp_ascii. All on the
 * control connection's worker, no thread per transfer. A transfer that
 * moved FTP_SLICE bytes in one go lets the worker's other connections run
 * before it goes on (loop_post).
 *
 * End of a transfer: our close_notify (TLS), FIN, then the reply (226, or
 * 451 when the upload could not be committed); the record then lingers
 * detached from the control connection, reading until the client closes,
 * so that closing never resets a connection the client is still reading.
 *
 * The status page: a data socket that is a connection (accepted, or an
 * active connect) has an entry, service "ftp-data", with its TLS details
 * ("resumed": the handshake resumed a session; with REQUIRE_TLS it was
 * proven to be the control connection's). A data connection that did not
 * resume the control session (522) counts as a failed handshake of its own
 * reason. The bytes sent (downloads, listings) count into the page's
 * "bytes sent"; a data connection carries no requests of its own (the
 * transfer command is the control connection's request).
 */
#include "ftp_srv.h"

#define CHIPSSL_NO_RTOS_NAMES
#include <tcpip.h>

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#define FTP_SLICE (8u << 20)

static void data_progress(struct ftp_data *d);

static void data_release(void *p)
{
    free(p);
}

static void close_socket(struct ftp_data *d)
{
    int e = 0;
    if (d->added)
        loop_conn_close(&d->lc);
    d->added = 0;
    if (d->st_open)
        web_stats_conn_close(&d->st);
    d->st_open = 0;
    if (d->lc.fd >= 0)
        closesocket(d->lc.fd, &e);
    d->lc.fd = -1;
}

static void data_kill(struct ftp_data *d)
{
    close_socket(d);
    d->dead = 1;
    if (loop_post(d->w, data_release, d) != 0)
        data_release(d);
}

/* The transfer's resource: closed (an upload aborted: hidden temporary file
 * removed, with KEEP_PARTIAL the partial file kept). */
static void xfer_drop(struct ftp_data *d, int log)
{
    if (!d->have_xfer)
        return;
    struct ftp_xfer *x = &d->x;
    if (log && d->conn)
        ftp_server_xfer_log(d->conn->srv, d->conn, x, d->bytes, 0);
    if (x->fd >= 0)
        close(x->fd);
    x->fd = -1;
    if (x->verb == FTP_STOR || x->verb == FTP_APPE)
        ftp_store_abort(&x->store);
    else if (x->verb != FTP_RETR)
        ftp_list_close(&x->lister);
    d->have_xfer = 0;
}

void ftp_data_abort(struct ftp_conn *c)
{
    struct ftp_data *d = c->data;
    if (!d)
        return;
    xfer_drop(d, 1);
    c->data = NULL;
    d->conn = NULL;
    data_kill(d);
}

/* The transfer failed: its resource released, code and text on the control
 * connection (instead of 226). */
static void data_fail(struct ftp_data *d, int code, const char *text)
{
    struct ftp_conn *c = d->conn;
    xfer_drop(d, 1);
    c->data = NULL;
    d->conn = NULL;
    data_kill(d);
    ftp_session_transfer_fail(&c->sess, code, text);
    ftp_conn_transfer_ended(c);
    ftp_conn_progress(c);
}

/* A record for c's next transfer (the previous unused one goes). */
static struct ftp_data *data_new(struct ftp_conn *c)
{
    if (c->data)
        ftp_data_abort(c);
    if (!c->xbuf && !(c->xbuf = malloc(FTP_DATA_BUF)))
        return NULL;
    struct ftp_data *d = calloc(1, sizeof *d);
    if (!d)
        return NULL;
    d->conn = c;
    d->w = c->lc.worker;
    d->lc.fd = -1;
    d->x.fd = -1;
    return d;
}

static const struct loop_conn_ops data_ops;

static int data_add(struct ftp_data *d, unsigned events)
{
    d->lc.ops = &data_ops;
    if (loop_conn_add(d->w, &d->lc, events) != 0)
        return -1;
    d->added = 1;
    loop_conn_timer(&d->lc, 1000u * d->conn->srv->cfg.ftp.timeout);
    return 0;
}

/* An address as 16 bytes, IPv4 as ::ffff:a.b.c.d. */
static void addr16(const struct sockaddr_storage *ss, unsigned char out[16])
{
    memset(out, 0, 16);
    if (ss->ss_family == AF_INET6) {
        memcpy(out, &((const struct sockaddr_in6 *)ss)->sin6_addr, 16);
    } else {
        out[10] = out[11] = 0xff;
        memcpy(out + 12, &((const struct sockaddr_in *)ss)->sin_addr, 4);
    }
}

int ftp_data_passive(struct ftp_conn *c, struct ftp_hostport *hp)
{
    struct ftp_data *d = data_new(c);
    if (!d)
        return 425;
    int e = 0, family = c->local.ss_family;
    int sd = opensocket_ext((unsigned char)family, SOCK_STREAM, &e);
    if (sd < 0) {
        free(d);
        return 425;
    }
    struct sockaddr_storage a = c->local;
    unsigned lo = c->srv->cfg.ftp.pasv_min, hi = c->srv->cfg.ftp.pasv_max;
    unsigned span = lo ? hi - lo + 1 : 1, start = lo ? (unsigned)rand() % span : 0;
    int bound = 0;
    for (unsigned i = 0; i < span && !bound; i++) {
        unsigned short port = (unsigned short)(lo ? lo + (start + i) % span : 0);
        if (family == AF_INET6)
            ((struct sockaddr_in6 *)&a)->sin6_port = htons(port);
        else
            ((struct sockaddr_in *)&a)->sin_port = htons(port);
        bound = chipssl_bind(sd, &a, &e) == 0;
        if (!bound && e != API_EADDRINUSE)
            break;
    }
    struct sockaddr_storage got;
    socklen_t gl = sizeof got;
    d->lc.fd = sd;
    if (!bound || chipssl_listen(sd, 4, &e) != 0 || Set_Blocking_Mode(sd, 1, &e) != 0 ||
        getsockname(sd, (struct sockaddr *)&got, &gl) != 0 ||
        ftp_hostport_from((struct sockaddr *)&got, hp) != 0 || data_add(d, EPOLLIN) != 0) {
        close_socket(d);
        free(d);
        return 425;
    }
    d->state = FD_LISTEN;
    c->data = d;
    return 0;
}

int ftp_data_active(struct ftp_conn *c, const struct ftp_hostport *hp)
{
    struct ftp_data *d = data_new(c);
    if (!d)
        return 425;
    if (hp->family == 4) {
        struct sockaddr_in *a = (struct sockaddr_in *)&d->target;
        a->sin_family = AF_INET;
        memcpy(&a->sin_addr, hp->addr, 4);
        a->sin_port = htons((unsigned short)hp->port);
    } else {
        struct sockaddr_in6 *a = (struct sockaddr_in6 *)&d->target;
        a->sin6_family = AF_INET6;
        memcpy(&a->sin6_addr, hp->addr, 16);
        a->sin6_port = htons((unsigned short)hp->port);
    }
    d->state = FD_IDLE;
    c->data = d;
    return 0;
}

/* The control connection's local address, port 0, in the family of an
 * active connection (an IPv4 client of a dual-stack listener is
 * ::ffff:a.b.c.d there): the data connection comes from the address the
 * client talks to. -1 when the families do not match (then no bind). */
static int local_source(const struct ftp_conn *c, int family, struct sockaddr_storage *src)
{
    const struct sockaddr_in6 *l6 = (const struct sockaddr_in6 *)&c->local;
    memset(src, 0, sizeof *src);
    if (c->local.ss_family == family) {
        memcpy(src, &c->local, sizeof *src);
        if (family == AF_INET6)
            ((struct sockaddr_in6 *)src)->sin6_port = 0;
        else
            ((struct sockaddr_in *)src)->sin_port = 0;
        return 0;
    }
    if (family == AF_INET && c->local.ss_family == AF_INET6 &&
        IN6_IS_ADDR_V4MAPPED(&l6->sin6_addr)) {
        struct sockaddr_in *a = (struct sockaddr_in *)src;
        a->sin_family = AF_INET;
        memcpy(&a->sin_addr, &l6->sin6_addr.s6_addr[12], 4);
        return 0;
    }
    return -1;
}

int ftp_data_transfer(struct ftp_conn *c, struct ftp_xfer *x)
{
    struct ftp_data *d = c->data;
    if (!d)
        return 425;
    if (x->type == 'A' && !c->xraw && !(c->xraw = malloc(FTP_ASCII_RAW)))
        return 451;
    if (d->state == FD_IDLE) {
        int e = 0;
        int sd = opensocket_ext(d->target.ss_family, SOCK_STREAM, &e);
        if (sd < 0)
            return 425;
        d->lc.fd = sd;
        web_stats_conn_open(&d->st, "ftp-data", &d->target);
        web_stats_conn_state(&d->st, "connecting");
        d->st_open = 1;
        struct sockaddr_storage src;
        if (Set_Blocking_Mode(sd, 1, &e) != 0 ||
            (local_source(c, d->target.ss_family, &src) == 0 && chipssl_bind(sd, &src, &e) != 0) ||
            (chipssl_connect(sd, &d->target, &e) != 0 && e != API_EINPROGRESS) ||
            data_add(d, EPOLLIN | EPOLLOUT | EPOLLRDHUP) != 0) {
            close_socket(d);
            return 425;
        }
        d->state = FD_CONNECTING;
    }
    d->x = *x;
    d->have_xfer = 1;
    d->tls = c->sess.st.prot_private;
    d->recv_side = x->verb == FTP_STOR || x->verb == FTP_APPE;
    d->pos = x->offset;
    d->bytes = 0;
    d->eof = 0;
    d->asc = (struct ftp_ascii){0};
    d->buf = c->xbuf;
    d->raw = c->xraw;
    d->len = d->off = d->raw_len = d->raw_off = 0;
    c->data_kick = 1; /* after the 150 */
    return 0;
}

void ftp_data_kick(struct ftp_conn *c)
{
    if (c->data)
        data_progress(c->data);
}

/* ---- moving bytes -------------------------------------------------------- */

static void resume(void *p)
{
    struct ftp_data *d = p;
    if (!d->dead)
        data_progress(d);
}

static int write_all(int fd, const char *p, size_t n)
{
    while (n > 0) {
        ssize_t w = write(fd, p, n);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return -1;
        p += w;
        n -= (size_t)w;
    }
    return 0;
}

/* Fill buf from the file or the listing: 0, or -1 (failed, replied). */
static int refill(struct ftp_data *d)
{
    struct ftp_xfer *x = &d->x;
    d->off = d->len = 0;
    if (x->verb != FTP_RETR) {
        long n = ftp_list_read(&x->lister, d->buf, FTP_DATA_BUF);
        if (n < 0) {
            data_fail(d, 451, "Listing failed: local error.");
            return -1;
        }
        d->len = (size_t)n;
        d->eof = n == 0;
        return 0;
    }
    if (x->type != 'A') {
        ssize_t n = pread(x->fd, d->buf, FTP_DATA_BUF, (off_t)d->pos);
        if (n < 0) {
            data_fail(d, 451, "Read error: transfer aborted.");
            return -1;
        }
        d->pos += (unsigned long long)n;
        d->len = (size_t)n;
        d->eof = n == 0;
        return 0;
    }
    while (d->len < FTP_DATA_BUF - 1) {
        if (d->raw_off == d->raw_len) {
            ssize_t n = pread(x->fd, d->raw, FTP_ASCII_RAW, (off_t)d->pos);
            if (n < 0) {
                data_fail(d, 451, "Read error: transfer aborted.");
                return -1;
            }
            if (n == 0) {
                d->eof = d->len == 0;
                return 0;
            }
            d->pos += (unsigned long long)n;
            d->raw_len = (size_t)n;
            d->raw_off = 0;
        }
        size_t used = 0;
        d->len += ftp_ascii_to_net(&d->asc, d->raw + d->raw_off, d->raw_len - d->raw_off,
                                   d->buf + d->len, FTP_DATA_BUF - d->len, &used);
        d->raw_off += used;
    }
    return 0;
}

/* 1 all sent, 0 waiting, -1 failed (replied, d gone). */
static int do_send(struct ftp_data *d)
{
    size_t moved = 0;
    for (;;) {
        if (d->off < d->len) {
            int e = 0;
            int n =
                chipssl_send(d->lc.fd, d->buf + d->off, (int)(d->len - d->off), MSG_DONTWAIT, &e);
            if (n > 0) {
                d->off += (size_t)n;
                d->bytes += (unsigned long long)n;
                moved += (size_t)n;
                web_stats_conn_request(&d->st, 0, (uint64_t)n); /* bytes sent only */
                if (moved >= FTP_SLICE && loop_post(d->w, resume, d) == 0)
                    return 0;
                continue;
            }
            if (n < 0 && e == API_EWOULDBLOCK)
                return 0;
            data_fail(d, 426, "Data connection closed: transfer aborted.");
            return -1;
        }
        if (d->eof)
            return 1;
        if (refill(d) != 0)
            return -1;
    }
}

/* 1 end of the upload, 0 waiting, -1 failed (replied, d gone). */
static int do_recv(struct ftp_data *d)
{
    struct ftp_xfer *x = &d->x;
    size_t moved = 0;
    for (;;) {
        int e = 0;
        int n = chipssl_recv(d->lc.fd, d->buf, FTP_DATA_BUF, MSG_DONTWAIT, 0, &e);
        if (n > 0) {
            d->bytes += (unsigned long long)n;
            moved += (size_t)n;
            int bad = 0;
            if (x->type != 'A') {
                bad = write_all(x->store.fd, d->buf, (size_t)n) != 0;
            } else {
                size_t off = 0;
                while (!bad && off < (size_t)n) {
                    size_t used = 0;
                    size_t k = ftp_ascii_from_net(&d->asc, d->buf + off, (size_t)n - off, d->raw,
                                                  FTP_ASCII_RAW, &used);
                    off += used;
                    bad = write_all(x->store.fd, d->raw, k) != 0;
                }
            }
            if (bad) {
                data_fail(d, errno == ENOSPC || errno == EDQUOT ? 552 : 451,
                          "Write error: transfer aborted.");
                return -1;
            }
            if (moved >= FTP_SLICE && loop_post(d->w, resume, d) == 0)
                return 0;
            continue;
        }
        if (n < 0 && e == API_EWOULDBLOCK)
            return 0;
        if (n == 0 && d->tls) {
            /* A TLS upload ends with the client's close_notify; a bare FIN
             * is a cut-off connection (a client that died), not the end. */
            SSL_CONN_STATE *st = NULL;
            if (SSL_GetConnState(d->lc.fd, (void **)&st, &e) != 0 || !st->closeNotify) {
                data_fail(d, 426,
                          "Data connection closed without TLS close_notify: upload "
                          "incomplete.");
                return -1;
            }
        }
        if (n == 0)
            return 1;
        data_fail(d, 426, "Data connection closed: transfer aborted.");
        return -1;
    }
}

/* The data connection is closed on our side: the transfer's result, the
 * reply, and the record lingers on its own. */
static void data_done(struct ftp_data *d)
{
    struct ftp_conn *c = d->conn;
    struct ftp_xfer *x = &d->x;
    int ok = 1;
    if (d->recv_side) {
        char cr[2];
        size_t k = x->type == 'A' ? ftp_ascii_from_net_end(&d->asc, cr, sizeof cr) : 0;
        if (k && write_all(x->store.fd, cr, k) != 0) {
            ftp_store_abort(&x->store);
            ok = 0;
        } else if (ftp_store_commit(&x->store) != 0)
            ok = 0;
    } else if (x->fd >= 0) {
        close(x->fd);
        x->fd = -1;
    } else
        ftp_list_close(&x->lister);
    d->have_xfer = 0;
    ftp_server_xfer_log(c->srv, c, x, d->bytes, ok);
    c->data = NULL;
    d->conn = NULL;
    d->buf = d->raw = NULL;
    d->state = FD_LINGER;
    loop_conn_timer(&d->lc, FTP_LINGER_MS);
    ftp_session_transfer_end(&c->sess, ok, 451);
    ftp_conn_transfer_ended(c);
    ftp_conn_progress(c);
}

/* What the status page says the data connection does (a constant text). */
static const char *state_text(const struct ftp_data *d)
{
    switch (d->state) {
    case FD_IDLE:
    case FD_LISTEN:
    case FD_CONNECTED:
    case FD_TLS_READY: return d->have_xfer ? "starting" : "waiting for the transfer command";
    case FD_CONNECTING: return "connecting";
    case FD_HANDSHAKE: return "handshake";
    case FD_XFER: return ftp_conn_transfer_text(d->x.verb);
    default: return "closing";
    }
}

static void data_progress(struct ftp_data *d)
{
    int e = 0;
    for (;;) {
        struct ftp_conn *c = d->conn;
        if (d->st_open)
            web_stats_conn_state(&d->st, state_text(d));
        switch (d->state) {
        case FD_IDLE: return;
        case FD_LISTEN: {
            struct sockaddr_storage peer;
            int sd = chipssl_accept(d->lc.fd, &peer, &e);
            if (sd < 0)
                return; /* API_EWOULDBLOCK, or EMFILE: the next wake-up */
            unsigned char a[16];
            addr16(&peer, a);
            if (memcmp(a, c->addr, 16) != 0) {
                closesocket(sd, &e); /* only the client may connect (no data theft) */
                break;
            }
            close_socket(d);
            d->lc.fd = sd;
            web_stats_conn_open(&d->st, "ftp-data", &peer);
            d->st_open = 1;
            if (Set_Blocking_Mode(sd, 1, &e) != 0 ||
                data_add(d, EPOLLIN | EPOLLOUT | EPOLLRDHUP) != 0) {
                if (d->have_xfer)
                    data_fail(d, 425, "Cannot open data connection.");
                else {
                    c->data = NULL;
                    data_kill(d);
                }
                return;
            }
            d->state = FD_CONNECTED;
            break;
        }
        case FD_CONNECTING: {
            int soerr = 0;
            socklen_t sl = sizeof soerr;
            struct sockaddr_storage p;
            socklen_t pl = sizeof p;
            getsockopt(d->lc.fd, SOL_SOCKET, SO_ERROR, &soerr, &sl);
            if (soerr) {
                data_fail(d, 425, "Cannot open data connection.");
                return;
            }
            if (getpeername(d->lc.fd, (struct sockaddr *)&p, &pl) != 0)
                return; /* still connecting */
            d->state = FD_CONNECTED;
            break;
        }
        case FD_CONNECTED:
            /* With PROT P the handshake starts as soon as the client
             * connects, before the transfer command: a client (curl) that
             * sends its ClientHello and then the next command waits for
             * the ServerHello first (200 ms per transfer otherwise). */
            if (!d->have_xfer && !c->sess.st.prot_private)
                return;
            loop_conn_timer(&d->lc, 1000u * c->srv->cfg.ftp.timeout);
            if (d->have_xfer ? d->tls : 1) {
                int one = 1, session = c->session_id;
                SetSocketOption so = {IP_PROTOTCP_LEVEL, TCP_SSL_SERVER, (const char *)&one,
                                      sizeof one};
                SetSocketOption ss = {IP_PROTOTCP_LEVEL, TCP_SSLSESSION, (const char *)&session,
                                      sizeof session};
                if (chipssl_setsockopt(d->lc.fd, &so, &e) != 0 ||
                    chipssl_setsockopt(d->lc.fd, &ss, &e) != 0) {
                    data_fail(d, 425, "Cannot start TLS on the data connection.");
                    return;
                }
                d->started_tls = 1;
                d->state = FD_HANDSHAKE;
            } else
                d->state = FD_XFER;
            break;
        case FD_HANDSHAKE: {
            int r = SSL_HandshakeComplete(d->lc.fd, 0);
            if (r == 0)
                return;
            if (r != 1) {
                web_stats_handshake_failed(d->lc.fd);
                if (!d->have_xfer) { /* the transfer command will find none: 425 */
                    c->data = NULL;
                    data_kill(d);
                    return;
                }
                data_fail(d, 425, "TLS handshake on the data connection failed.");
                return;
            }
            d->state = FD_TLS_READY;
            break;
        }
        case FD_TLS_READY: {
            if (!d->have_xfer)
                return;
            if (!d->tls) {
                data_fail(d, 425,
                          "The data connection was opened under PROT P and the transfer "
                          "is not protected (PROT C came in between).");
                return;
            }
            if (c->srv->cfg.ftp.require_tls && SSL_IsResumptionOf(d->lc.fd, c->lc.fd, &e) != 1) {
                web_stats_handshake_refused(
                    "FTP data connection did not resume the control session");
                data_fail(d, 522,
                          "Data connection must resume the control connection's TLS "
                          "session");
                return;
            }
            web_stats_conn_tls(&d->st, d->lc.fd);
            d->state = FD_XFER;
            break;
        }
        case FD_XFER: {
            unsigned long long before = d->bytes;
            int r = d->recv_side ? do_recv(d) : do_send(d);
            if (r < 0)
                return; /* failed and gone */
            /* TIMEOUT is an idle limit: bytes moved, the limit starts again. */
            if (d->bytes != before)
                loop_conn_timer(&d->lc, 1000u * c->srv->cfg.ftp.timeout);
            if (r == 0)
                return; /* waiting */
            loop_conn_timer(&d->lc, FTP_CLOSE_MS);
            d->state = FD_CLOSING;
            break;
        }
        case FD_CLOSING:
            if (d->tls && SSL_ConnClose(d->lc.fd, &e) != 0 && e == API_EWOULDBLOCK)
                return;
            chipssl_shutdown(d->lc.fd, 1, &e);
            data_done(d);
            return;
        case FD_LINGER: {
            char sink[4096];
            ssize_t n;
            while ((n = read(d->lc.fd, sink, sizeof sink)) > 0)
                ;
            if (n < 0 && (errno == EAGAIN || errno == EINTR))
                return;
            data_kill(d);
            return;
        }
        }
    }
}

static void data_on_event(struct loop_conn *lc, unsigned events)
{
    struct ftp_data *d = (struct ftp_data *)lc;
    (void)events;
    if (!d->dead)
        data_progress(d);
}

static void data_on_timer(struct loop_conn *lc)
{
    struct ftp_data *d = (struct ftp_data *)lc;
    if (d->dead)
        return;
    if (!d->conn) {
        data_kill(d); /* lingered long enough */
        return;
    }
    if (!d->have_xfer) { /* prepared and never used */
        d->conn->data = NULL;
        data_kill(d);
        return;
    }
    if (d->state == FD_HANDSHAKE)
        web_stats_handshake_timeout();
    data_fail(d, d->state == FD_XFER ? 426 : 425,
              d->state == FD_XFER ? "Data connection stalled: transfer aborted."
                                  : "Data connection timed out.");
}

static void data_on_stop(struct loop_conn *lc, int force)
{
    struct ftp_data *d = (struct ftp_data *)lc;
    (void)force;
    /* An attached record is stopped by its control connection (later in
     * the worker's list); a lingering one ends itself. */
    if (!d->dead && !d->conn)
        data_kill(d);
}

static const struct loop_conn_ops data_ops = {data_on_event, data_on_timer, data_on_stop};
