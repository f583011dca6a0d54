/*
 * web.h - the Web server's insides shared by its files: the server record,
 * the connection record, and the calls between the stages.
 *
 *   web_server.c   set-up: listeners, the loop, start/stop
 *   web_tls.c      the HTTPS instance's chipssl session (and its reload)
 *   web_conn.c     the connection stage: handshake, read, parse, body, dispatch
 *   web_response.c the response writer: head, body from memory or file
 *   web_static.c   the static-file handler (with web_filters.c, web_mime.c)
 *   web_log.c      access log (common log format) and error log
 *   web_stats.c    the status page's registry and counters (web_stats.h)
 *   web_status.c   the status page itself ([WEB] STATUS_PAGE)
 */
#ifndef CHIPD_WEB_H
#define CHIPD_WEB_H

#include "config.h"
#include "http_parse.h"
#include "loop.h"
#include "srv_tls.h"
#include "web_handler.h"
#include "web_log.h"
#include "web_stats.h"

#include <netinet/in.h>
#include <pthread.h>
#include <stdatomic.h>

struct web_server {
    struct chip_config cfg;
    struct http_limits limits;
    int rootfd;
    struct loop *loop;
    int listen_sd[2];   /* [0] HTTP, [1] HTTPS; -1 when off */
    unsigned port[2];   /* bound ports */
    struct srv_tls tls; /* the HTTPS instance's session (tls.on: set up) */
    atomic_uint nconns; /* open connections (both instances) */
    struct web_log log;
    void *listen_ctx;      /* the listeners' callback arguments */
    struct web_pool *pool; /* handler threads (web_pool.c) */
    time_t started;        /* for the status page's uptime */
};

enum web_conn_state {
    WC_HANDSHAKE, /* TLS handshake running */
    WC_HEAD,      /* reading the request head */
    WC_BODY,      /* reading the body */
    WC_HANDLER,   /* an offloaded handler runs on a handler thread */
    WC_WRITE,     /* writing the response */
    WC_CLOSING,   /* SSL_ConnClose pending */
    WC_LINGER,    /* closed our side; reading until the peer closes */
};

/* What only a request in progress needs: allocated with the input buffer
 * when the connection reads (the first byte of a request), freed with it
 * when the connection goes idle (a keep-alive connection waiting for its
 * next request with nothing buffered). An idle connection then costs its
 * struct web_conn alone, as nginx frees its header buffer between requests;
 * a busy one keeps the block from request to request. */
#define WEB_OUT_CAP (WEB_RESPONSE_HEADERS + 2048)
struct web_exchange {
    struct http_request req; /* its slices point into web_conn.in */
    char path[4096];
    struct web_request view; /* the request as handlers see it */
    struct web_response resp;
    struct http_chunked chunked;
    char out[WEB_OUT_CAP]; /* the head (+ a small body) of the response */
};

struct web_conn {
    struct loop_conn lc;
    struct web_server *srv;
    int tls; /* 1: HTTPS instance */
    enum web_conn_state state;
    int reject;   /* over MAX_CONNECTIONS: answer 503 and close */
    int stopping; /* the server stops: close after the current response */
    char peer[INET6_ADDRSTRLEN];
    struct web_stats_conn st; /* what the status page shows of it */

    /* Input: [req_pos, req_pos+head_len) the current head, then unread
     * bytes up to in_len. NULL while idle; allocated small on the first
     * read and grown (up to MAX_HEADER_SIZE + 4 KiB) when a head or body
     * needs room. */
    char *in;
    size_t in_cap, in_len, req_pos, head_len, body_pos;
    struct web_exchange *ex; /* NULL while idle (with in) */
    int had_request;         /* a request was read on this connection */

    /* Body (whole, for the handler): kept for the next request, freed idle. */
    char *body;
    size_t body_len, body_cap;
    uint64_t body_need; /* Content-Length still to read */

    /* An offloaded call's handler and result. */
    const struct web_handler *handler;
    int handler_result;
    struct web_conn *pool_next; /* the handler threads' queue */

    /* Output: head (+ small body) in ex->out; then the file or memory body. */
    size_t out_len, out_off;
    const char *mem_body;
    size_t mem_left;
    char *fbuf; /* file blocks for TLS (pread); freed idle */
    size_t fbuf_len, fbuf_off;
    int keep_alive;
    int status;
    uint64_t sent_body; /* for the access log */
};

/* web_conn.c */
void web_conn_accept(struct web_server *srv, struct loop_worker *w, int sd, int tls,
                     const struct sockaddr_storage *peer);

/* web_conn_resume - on the connection's worker (via loop_post): an
 * offloaded handler has returned. */
void web_conn_resume(void *conn);

/* web_pool.c: the handler threads for offloaded handlers. */
struct web_pool *web_pool_start(unsigned nthreads);
/* web_pool_submit - run c->handler on a handler thread, then loop_post
 * web_conn_resume(c) to c's worker. */
void web_pool_submit(struct web_pool *p, struct web_conn *c);
/* web_pool_stop - after the loop has stopped (no connection waits). */
void web_pool_stop(struct web_pool *p);

/* web_response.c */
/* web_response_begin - build the head of c->ex->resp into c->ex->out (with
 * an error page body when the handler left none); returns 0 or -1. */
int web_response_begin(struct web_conn *c);
/* web_response_write - send what is pending; 1 done, 0 would block, -1 failed. */
int web_response_write(struct web_conn *c);
/* web_response_end - release the body (file, memory); no-op without c->ex. */
void web_response_end(struct web_conn *c);
/* web_https_location - the Location of a redirect to the HTTPS instance on
 * port: the host the client named (its port dropped; "localhost" when it
 * named none), then the path and query as sent, in origin-form also for an
 * absolute-form target. 0, or -1 when it does not fit. */
int web_https_location(struct web_response *resp, const struct http_request *req, unsigned port);

/* web_error - prepare c->ex->resp as a status-only answer (error page). */
void web_error(struct web_conn *c, int status);
const char *web_status_text(int status);

/* web_tls.c */
int web_tls_setup(struct web_server *srv, char *err, size_t errlen, int *api_error);
int web_tls_reload(struct web_server *srv);
void web_tls_cleanup(struct web_server *srv);
void web_tls_log_failure(struct web_conn *c);

/* web_status.c: the status page, a built-in page checked before the hook.
 * web_status_wanted - 1 when req is for it ([WEB] STATUS_PAGE, or that
 * path + ".json"); web_status_handle - answer it (on the worker). */
int web_status_wanted(const struct web_server *s, const struct web_request *req);
void web_status_handle(struct web_server *s, const struct web_request *req,
                       struct web_response *resp);

#endif
