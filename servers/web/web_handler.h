/*
 * web_handler - the seam between the Web server's connection stage and what
 * answers a request.
 *
 * The connection stage reads and parses a request (head and whole body),
 * then calls the handlers in order: the built-in status page when the path
 * is [WEB] STATUS_PAGE (web_status.c; no hook can shadow it), the hook
 * (web_handler_hook_set; the CGI layer installs itself there), then the
 * static-file handler. A
 * handler either answers (fills the response, returns WEB_HANDLED) or
 * passes (WEB_DECLINED) to the next one. The response is then written by
 * the response writer (status line, Date, Server, Content-Length,
 * Connection, the handler's headers, the body; HEAD without body).
 *
 * Threads: a handler with offload 0 runs on the worker thread that owns the
 * connection (a slow one stalls that worker's other connections); with
 * offload 1 it runs on the handler threads (see struct web_handler) and
 * may block as long as it likes. An offload-0 hook is called concurrently
 * from every worker.
 *
 * Lifetime: the request (and every pointer in it) is valid during the call
 * only. The response's body memory must stay valid until its release
 * function is called (after the last byte is sent, or when the connection
 * ends); a file body's descriptor is owned by the connection from the
 * handler's return and closed by it.
 */
#ifndef CHIPD_WEB_HANDLER_H
#define CHIPD_WEB_HANDLER_H

#include "http_parse.h"

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#define WEB_HANDLED 0
#define WEB_DECLINED 1

/* What the connection knows of a request. */
struct web_request {
    const struct http_request *http; /* parsed head: method, headers, ranges, ... */
    const char *path; /* percent-decoded, normalised (http_path_normalize), NUL-terminated */
    const char *body; /* the whole body (Content-Length or de-chunked); NULL when none */
    size_t body_len;
    int server;            /* 0 HTTP instance, 1 HTTPS instance */
    int sd;                /* the connection's socket: SSL_GetConnState for TLS details */
    const char *remote_ip; /* peer address, text */
    const char *rootdir;   /* the web root (as configured) */
    int rootfd;            /* the root, opened O_PATH|O_DIRECTORY: openat() beneath it */
    const char *mainpage;  /* [WEB] MAINPAGE */
};

#define WEB_RESPONSE_HEADERS 1024

/* What a handler answers. The connection zeroes it and sets file_fd = -1
 * before the first handler. */
struct web_response {
    int status;                         /* 200, 206, 301, 304, 404, ... */
    const char *content_type;           /* NULL: no Content-Type */
    char headers[WEB_RESPONSE_HEADERS]; /* more header lines, each ending in CRLF */
    size_t headers_len;
    /* Body from memory ... */
    const void *body;
    size_t body_len;
    void (*release)(void *arg); /* called once the body is no longer needed (may be NULL) */
    void *release_arg;
    /* ... or from a file (file_fd >= 0): file_len bytes from file_off. */
    int file_fd;
    uint64_t file_off, file_len;
    int close;   /* 1: Connection: close after this response */
    int no_body; /* 1: the status has no body at all (304, 204): no Content-Length */
    /* Set by a handler on the worker that needs the handler threads to
     * complete its answer (the SSI pages of web_static.c): the connection
     * then passes the request and this response to it (offloaded, as an
     * offload-1 handler), and sends what it leaves. */
    const struct web_handler *finish;
};

typedef int (*web_handler_fn)(void *ctx, const struct web_request *req, struct web_response *resp);

struct web_handler {
    const char *name;
    web_handler_fn handle;
    void *ctx;
    /* 0: called on the connection's worker (it must not block for long);
     * 1: called on the Web server's handler threads, so that a handler that
     * blocks stalls no other connection. There are as many handler threads
     * as workers with [WEB] CGI_CONCURRENT=1, else one: calls are then
     * serialized, as in the original's single web task. The worker takes
     * the connection back when the call returns (loop_post). */
    int offload;
    /* Whether the handler wants this request (it then gets it, and may
     * still decline it); NULL: every request. Called on the worker, so it
     * must be quick: for an offloaded handler it keeps requests the
     * handler will not take (static files) off the handler threads, where
     * they would wait behind a blocked call. */
    int (*match)(void *ctx, const struct web_request *req);
};

/* web_handler_hook_set - install the handler called before the static
 * files (NULL removes it). Takes effect for requests that start afterwards;
 * h must stay valid until it is replaced. Thread-safe. */
void web_handler_hook_set(const struct web_handler *h);

/* web_handler_hook_default - install h when no hook is installed (the
 * server's start installs the CGI layer so; a hook set before stays). */
void web_handler_hook_default(const struct web_handler *h);

/* web_response_header - append "name: value\r\n" to resp->headers.
 * Returns 0, or -1 when it does not fit (nothing appended). */
int web_response_header(struct web_response *resp, const char *name, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* web_response_header_text - the same for a value that is already text
 * (no formatting: the per-request fields of a static answer). */
int web_response_header_text(struct web_response *resp, const char *name, const char *value);

/* The static-file handler (web_static.c): GET and HEAD of files beneath
 * the root, with 304, 206/416, MIME types; other methods 405. It always
 * answers. */
int web_static_handle(void *ctx, const struct web_request *req, struct web_response *resp);
extern const struct web_handler web_static_handler;

/* web_http_date - an IMF-fixdate ("Sun, 06 Nov 1994 08:49:37 GMT") into
 * out (at least 30 bytes). */
void web_http_date(time_t t, char *out, size_t outlen);
/* web_http_date_cached - the same, remembered per thread for the last time
 * asked (a file's Last-Modified, asked per request). */
const char *web_http_date_cached(time_t t);

#endif
