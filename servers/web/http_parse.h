/*
 * http_parse - the HTTP/1.1 request parser of the Web server: pure functions
 * over a buffer, no allocation, no I/O (picohttpparser's shape).
 *
 * http_parse_request() is called on everything received so far. It either
 * says "need more", or "complete at N bytes" (the request line and headers;
 * a body follows), or gives an error as the status code to answer. The
 * decision at each byte depends only on the bytes before it, so any split of
 * the input gives the same answer once enough has arrived: feeding it byte by
 * byte and feeding it at once agree.
 */
#ifndef CHIPD_HTTP_PARSE_H
#define CHIPD_HTTP_PARSE_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

/* Slots for headers in struct http_request: the hard ceiling of
 * http_limits.max_headers. */
#define HTTP_MAX_HEADERS 100
/* Longest Basic user name and password kept (bytes, NUL excluded). */
#define HTTP_MAX_CREDENTIAL 255

/* http_parse_request() results besides "complete at N" (N > 0): need more
 * input, or minus the status code to answer (-400, -405, -411, -413, -414,
 * -417, -431, -501, -505). */
#define HTTP_INCOMPLETE (-1)

enum http_method { HTTP_GET = 1, HTTP_HEAD = 2, HTTP_POST = 3 };

struct http_slice {
    const char *p; /* into the parsed buffer (or a constant); NULL if absent */
    size_t n;
};

struct http_header {
    struct http_slice name, value; /* value without surrounding spaces */
};

struct http_limits {
    size_t max_request_line; /* bytes, CRLF included; more: 414 */
    size_t max_header_bytes; /* request line + headers + blank line; more: 431 */
    unsigned max_headers;    /* header fields; more: 431 (capped at HTTP_MAX_HEADERS) */
    uint64_t max_body;       /* Content-Length above it: 413; 0 = no limit */
};

/* Defaults as nginx-like servers use them (8 KiB line, 16 KiB of headers,
 * 100 fields, 1 MiB of body). */
extern const struct http_limits http_default_limits;

enum http_range_kind {
    HTTP_RANGE_NONE = 0, /* no Range, or one we ignore (other unit, several ranges, bad syntax) */
    HTTP_RANGE_FROM_TO,  /* bytes=a-b */
    HTTP_RANGE_FROM,     /* bytes=a- */
    HTTP_RANGE_SUFFIX    /* bytes=-n: the last n bytes */
};

struct http_range {
    enum http_range_kind kind;
    uint64_t first, last; /* FROM_TO: a, b; FROM: a; SUFFIX: first = n */
};

struct http_request {
    enum http_method method;
    struct http_slice method_name;
    struct http_slice target; /* as sent */
    struct http_slice path;   /* raw (still percent-encoded): see http_path_normalize */
    struct http_slice query;  /* after '?', without it; p NULL if no '?' */
    int version_minor;        /* HTTP/1.<minor>: 0 or 1 */

    struct http_header headers[HTTP_MAX_HEADERS];
    unsigned nheaders;

    /* Decoded headers (slices are NULL when absent). */
    struct http_slice host;  /* Host, or the authority of an absolute-form target */
    int has_content_length;
    uint64_t content_length;
    int chunked;             /* Transfer-Encoding: chunked */
    int keep_alive;          /* after this request; from the version and Connection */
    int expect_continue;     /* Expect: 100-continue */
    int has_if_modified_since;
    time_t if_modified_since; /* ignored (flag 0) when not a valid HTTP-date */
    struct http_range range;
    int if_range;             /* If-Range: 0 absent, 1 an HTTP-date (below), -1 else (an ETag) */
    time_t if_range_date;
    struct http_slice cookie, user_agent, referer;
    struct http_slice content_type;
    struct http_slice boundary; /* multipart/...; boundary=..., quotes removed */
    int has_basic_auth;       /* Authorization: Basic, decoded below */
    char auth_user[HTTP_MAX_CREDENTIAL + 1];
    char auth_password[HTTP_MAX_CREDENTIAL + 1];

    const char *error;        /* words for the last error, for the error log */
};

/* http_parse_request - parse buf[0..len). lim NULL = http_default_limits.
 * Returns the length of the request head (request line, headers, blank
 * line) when complete, HTTP_INCOMPLETE, or -status. req is filled on
 * completion; on an error req->error says why. Rules worth knowing:
 * - methods: GET, HEAD, POST; other methods of RFC 9110 (PUT, DELETE,
 *   OPTIONS, TRACE, CONNECT, PATCH) -405, any other token -501;
 * - version HTTP/1.0 or HTTP/1.1, other HTTP/x.y -505, anything else -400;
 * - bare LF ends lines as CRLF does; empty lines before the request line
 *   are skipped; obsolete line folding, a space before ':', control
 *   characters: -400;
 * - HTTP/1.1 needs exactly one Host, a host[:port] (-400); Content-Length must be digits,
 *   repeated copies must agree (-400), above max_body -413;
 *   Transfer-Encoding other than a single "chunked" -501, with
 *   Content-Length too -400 (request smuggling); POST with neither -411;
 *   Expect other than 100-continue -417; a malformed Basic credential -400. */
int http_parse_request(const char *buf, size_t len, const struct http_limits *lim,
                       struct http_request *req);

/* http_header_find - the first header named name (case-insensitive), or NULL. */
const struct http_header *http_header_find(const struct http_request *req, const char *name);

/* http_path_normalize - percent-decode a raw path into out (NUL-terminated)
 * and normalise it: "//" and "/./" collapse, "x/.." removes x. Returns the
 * length, -400 for a path not starting with '/', a bad escape ("%zz",
 * "%4"), an encoded NUL, or ".." above the root (encoded or not), and -414
 * when out is too small. */
long http_path_normalize(const char *raw, size_t n, char *out, size_t outsize);

/* http_range_resolve - the byte range of a file of size bytes that r asks
 * for: returns 0 with *offset and *count set (a 206), 1 for the whole file
 * (no range: a 200), -416 when the range cannot be satisfied. */
int http_range_resolve(const struct http_range *r, uint64_t size, uint64_t *offset,
                       uint64_t *count);

/* The chunked request body (RFC 9112 7.1) as a resumable state machine:
 * http_chunked_init, then http_chunked_decode on each piece of input.
 * Chunk extensions and trailer fields are skipped. */
struct http_chunked {
    int state;
    uint64_t remaining; /* of the current chunk's data */
    uint64_t total;     /* body bytes so far */
    uint64_t max_body;
    size_t line;        /* bytes of the current size or trailer line */
    size_t trailer;     /* bytes of trailers so far */
    int digits;         /* significant hex digits of the size */
};

/* http_chunked_init - a decoder at the start of a body of at most max_body
 * bytes (0 = no limit). */
void http_chunked_init(struct http_chunked *d, uint64_t max_body);

#define HTTP_CHUNKED_MORE 0 /* all input used, more is needed */
#define HTTP_CHUNKED_DATA 1 /* body bytes in *data, *datalen; call again after *used */
#define HTTP_CHUNKED_DONE 2 /* body complete at *used; what follows is the next request */

/* http_chunked_decode - decode from buf[0..len). *used is how much of buf
 * was consumed; on HTTP_CHUNKED_DATA the body bytes lie inside buf (no
 * copy). Errors: -400 (malformed framing, oversized size line or trailers),
 * -413 (body above max_body). After DONE or an error it keeps returning the
 * same. */
int http_chunked_decode(struct http_chunked *d, const char *buf, size_t len, size_t *used,
                        const char **data, size_t *datalen);

#endif
