/*
 * cgi_request - the glue between a parsed HTTP request and a CGI function
 * (cgi.h), as pure functions: no sockets, no allocation.
 *
 *   cgi_request_fill()     parsed request + body + peer + TLS -> rpCgi "in"
 *   cgi_call()             runs the function (serialised, see below)
 *   cgi_response_map()     rpCgi "out" fields -> struct cgi_head + body
 *   cgi_head_write()       struct cgi_head -> the response head's bytes
 *   cgi_response_head()    the last two together
 *
 * Internal to chipd (not installed).
 */
#ifndef CHIPD_CGI_REQUEST_H
#define CHIPD_CGI_REQUEST_H

#include <stddef.h>
#include <sys/socket.h>

#include "cgi.h"
#include "http_parse.h"

/* How the request arrived, as the server knows it. Strings may be NULL
 * (then ""); they must live until the CGI function returns. */
struct cgi_tls_info {
    int is_tls;                 /* 0: plain HTTP (the rest is ignored) */
    int version;                /* SSL_VERSION_TLS12 or SSL_VERSION_TLS13 */
    int suite;                  /* IANA cipher suite number, e.g. 0x1302 */
    const char *suite_name;     /* IANA name, "TLS_AES_256_GCM_SHA384" */
    const char *client_subject; /* client certificate subject, RFC 2253 */
};

/* ------------------------------------------------------------- request */

/* cgi_request_scratch_size - the bytes cgi_request_fill needs in scratch
 * for this request and a body of body_len bytes (POST). */
size_t cgi_request_scratch_size(const struct http_request *req, size_t body_len);

/* cgi_request_fill - zeroes *rp, then fills its "in" fields (cgi.h) from
 * req (complete, from http_parse_request over a buffer that is still
 * there), the body (POST; may be NULL when body_len is 0), the peer's
 * address and tls (NULL: plain HTTP). Every string is copied,
 * NUL-terminated, into scratch, so the function may write into them:
 *   fPathPtr      the path percent-decoded and normalised
 *                 (http_path_normalize), without the query;
 *   fArgumentBufferPtr/-Length  GET/HEAD: the query (still encoded, ""
 *                 without one); POST: the body as it is (it may hold NULs).
 *                 One more byte, a NUL, follows its length: the byte
 *                 CGI_GetArgument writes past a last pair without '=';
 *   fHostPtr      Host (or the authority of an absolute-form target);
 *   fRefererPtr, fAgentPtr, fLanguagePtr, fCookieHeader: those headers,
 *                 NULL when absent (the first of repeated Accept-Language);
 *   fUserNamePtr, fPasswordPtr: the Basic credentials, NULL when none;
 *   fBrowserDate  If-Modified-Since (0 when absent or invalid);
 *   fRemoteIPPtr  the peer as text (IPv4-mapped IPv6 as IPv4), "" when
 *                 peer is NULL or of another family;
 *   fTls*         from tls ("" and 0 for plain HTTP);
 *   fConnectionId conn_id; fHttpResponse CgiHttpNotFound (the default
 *                 when the function sets nothing).
 * Returns 0; -400 when the path does not normalise (or the method is not
 * GET, HEAD or POST); -414 for a path that cannot be decoded into the
 * room reserved for it (cannot happen with cgi_request_scratch_size);
 * -413 when scratch is smaller than cgi_request_scratch_size(). */
int cgi_request_fill(rpCgi *rp, const struct http_request *req, const char *body, size_t body_len,
                     const struct sockaddr *peer, socklen_t peer_len, unsigned long conn_id,
                     const struct cgi_tls_info *tls, char *scratch, size_t scratch_size);

/* ---------------------------------------------------------------- calls */

/* The serialisation rule: by default at most one application callback runs
 * at a time, in any thread (the original's single web task: callbacks
 * written for it keep their static buffers safe). cgi_set_concurrent(1)
 * lets them run at once (then each must protect its own data);
 * cgi_set_concurrent(0) restores the rule. A change affects calls that
 * start after it; a call that took the lock releases it. The lock is not
 * the tables' lock, so callbacks may call every function of cgi.h. */
void cgi_set_concurrent(int on);
int cgi_get_concurrent(void);

/* cgi_call - runs entry->CgiFuncPtr(rp) under that rule. Returns 0, or -1
 * for a NULL entry, function or rp. cgi_call_func does the same for a bare
 * function (error pages, the upload callback). */
int cgi_call(const CGI_Entry *entry, rpCgi *rp);
int cgi_call_func(RpCgiFuncPtr fn, rpCgi *rp);

/* The same rule for the other callbacks (SSI handlers, accept filters):
 * enter returns a token to hand to leave. */
int cgi_serial_enter(void);
void cgi_serial_leave(int token);

/* ------------------------------------------------------------- response */

/* What a response head says. Strings are NUL-terminated and the caller's. */
struct cgi_head {
    /* 200 204 302 304 400 401 403 404 405 413 500 503 */
    int status;
    /* NULL: no Content-Type */
    const char *content_type;
    /* Location (302), NULL: none */
    const char *location;
    /* 401: WWW-Authenticate: Basic realm="..." ('"' and '\' escaped) */
    const char *realm;
    /* Last-Modified, seconds since 1970; 0: none */
    unsigned long last_modified;
    /* ncookies NUL-terminated strings one after the other: a Set-Cookie each */
    const char *cookies;
    int ncookies;
    /* "Name: value" lines joined by CRLF (a headers table row), NULL: none */
    const char *extra;
    /* lines the server adds to every response (Date, Server, Connection),
     * each ending in CRLF, NULL: none */
    const char *common;
    /* -1: no Content-Length (204, 304) */
    long long content_length;
};

/* cgi_response_map - the head and body of a CGI function's answer:
 *   CgiHttpOk, CgiHttpOkStatic  200, Content-Type cgi_datatype_mime
 *                  (fDataType), the body fResponseBufferPtr/-Length;
 *                  OkStatic: Last-Modified from fObjectDate when non-zero;
 *                  the headers table row of the MIME table entry that the
 *                  request path's extension selects (cgi_mime_lookup:
 *                  a function named "/data.csv" gets the csv row, as the
 *                  file would; a name without one gets none);
 *   CgiHttpOKNoDoc      204, no body, no Content-Type or -Length;
 *   CgiHttpRedirect     302, Location: fResponseBufferPtr (a string of
 *                  printable ASCII without spaces, not empty: percent-
 *                  encode the rest), empty body;
 *   CgiHttpNotModified  304, no body;
 *   CgiHttpUnauthorized 401, WWW-Authenticate: Basic realm="<realm>" with
 *                  fResponseBufferPtr as the realm (NULL: "chipd";
 *                  printable ASCII), a short text body;
 *   CgiHttpNotFound, CgiHttpIntServerErr  404, 500, a short text body
 *                  (the handler replaces it by the application's error
 *                  page: map that page's rpCgi, then set h->status).
 * *body is NULL when there is none (*body_len 0; also 204, 302, 304).
 * Every status carries the Set-Cookie strings of CGI_SetCookie. common is
 * copied into h->common. Returns 0, or -500 when the out fields are not
 * usable (an unknown fHttpResponse, a negative length, a NULL buffer with
 * a length, a bad Location or realm, cookie fields that CGI_SetCookie
 * cannot have written): the handler then answers 500. */
int cgi_response_map(const rpCgi *rp, const char *common, struct cgi_head *h, const char **body,
                     size_t *body_len);

/* cgi_head_write - the head h describes, "HTTP/1.1 <status> <reason>"
 * through the blank line, into out[0..size) (NUL-terminated when it fits).
 * Order: status line, Location, WWW-Authenticate, Content-Type,
 * Last-Modified, Set-Cookie..., extra, Content-Length, common, CRLF.
 * Returns its length (without the NUL), or -1 when it does not fit or
 * the status is not one of the list. */
long cgi_head_write(const struct cgi_head *h, char *out, size_t size);

/* cgi_response_head - cgi_response_map then cgi_head_write. Returns the
 * head's length, -500 (bad out fields) or -1 (out too small). For HEAD
 * the head is the same and the handler sends no body. */
long cgi_response_head(const rpCgi *rp, const char *common, char *out, size_t size,
                       const char **body, size_t *body_len);

#endif
