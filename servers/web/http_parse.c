/*
 * http_parse - see http_parse.h. The request head is scanned left to right
 * and every byte is fetched through at(), which applies the limits before
 * looking at the byte: whatever is decided at byte i depends on bytes 0..i
 * only, which is what makes every split of the input give the same answer.
 * The headers that matter are decoded (http_headers.c) once the head is
 * complete.
 */
#include "http_internal.h"

#include <string.h>

const struct http_limits http_default_limits = {
    .max_request_line = 8192,
    .max_header_bytes = 16384,
    .max_headers = 100,
    .max_body = 1024 * 1024,
};

struct scan {
    const char *buf;
    size_t len;
    const struct http_limits *lim;
    size_t line_start; /* of the request line */
    int in_request_line;
    struct http_request *req;
};

/* The byte at i, or HTTP_INCOMPLETE, or -414/-431 when i lies beyond a limit. */
static int at(struct scan *s, size_t i)
{
    if (s->in_request_line && i - s->line_start >= s->lim->max_request_line)
        return FAIL(s->req, 414, "request line too long");
    if (i >= s->lim->max_header_bytes)
        return FAIL(s->req, 431, "request headers too large");
    if (i >= s->len)
        return HTTP_INCOMPLETE;
    return (unsigned char)s->buf[i];
}

static int is_tchar(int c)
{
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
           (c && strchr("!#$%&'*+-.^_`|~", c));
}

/* Reads a line end at *i (CRLF or LF). 0 on success, else the at() result
 * or -400. */
static int line_end(struct scan *s, size_t *i)
{
    int c = at(s, *i);
    if (c < 0)
        return c;
    if (c == '\n') {
        (*i)++;
        return 0;
    }
    if (c != '\r')
        return FAIL(s->req, 400, "malformed line end");
    c = at(s, *i + 1);
    if (c < 0)
        return c;
    if (c != '\n')
        return FAIL(s->req, 400, "CR without LF");
    *i += 2;
    return 0;
}

static int classify_method(struct http_request *req)
{
    static const char *const others[] = {"PUT", "DELETE", "OPTIONS", "TRACE", "CONNECT", "PATCH"};
    const char *p = req->method_name.p;
    size_t n = req->method_name.n;
    if (n == 3 && !memcmp(p, "GET", 3))
        req->method = HTTP_GET;
    else if (n == 4 && !memcmp(p, "HEAD", 4))
        req->method = HTTP_HEAD;
    else if (n == 4 && !memcmp(p, "POST", 4))
        req->method = HTTP_POST;
    else {
        for (size_t k = 0; k < sizeof others / sizeof *others; k++)
            if (n == strlen(others[k]) && !memcmp(p, others[k], n))
                return FAIL(req, 405, "method not allowed");
        return FAIL(req, 501, "unknown method");
    }
    return 0;
}

/* Splits the target into path and query; an absolute-form target
 * ("http://host/path") gives its authority as the host. */
static int split_target(struct http_request *req)
{
    const char *p = req->target.p, *end = p + req->target.n;
    if (prefix_ieq(p, req->target.n, "http://") || prefix_ieq(p, req->target.n, "https://")) {
        const char *a = memchr(p, '/', req->target.n) + 2;
        const char *e = a;
        while (e < end && *e != '/' && *e != '?')
            e++;
        if (e == a)
            return FAIL(req, 400, "absolute target without a host");
        req->host.p = a;
        req->host.n = (size_t)(e - a);
        p = e;
    } else if (*p != '/') {
        return FAIL(req, 400, "request target is not a path");
    }
    const char *q = memchr(p, '?', (size_t)(end - p));
    const char *pe = q ? q : end;
    if (pe == p) { /* "http://host" or "http://host?x": the path is "/" */
        req->path.p = "/";
        req->path.n = 1;
    } else {
        req->path.p = p;
        req->path.n = (size_t)(pe - p);
    }
    if (q) {
        req->query.p = q + 1;
        req->query.n = (size_t)(end - q - 1);
    }
    return 0;
}

static int request_line(struct scan *s, size_t *pos)
{
    struct http_request *req = s->req;
    size_t i = *pos;
    int c;
    /* Empty lines before the request line are tolerated (RFC 9112 2.2). */
    for (;;) {
        c = at(s, i);
        if (c < 0)
            return c;
        if (c != '\r' && c != '\n')
            break;
        if ((c = line_end(s, &i)) < 0)
            return c;
    }
    s->line_start = i;
    s->in_request_line = 1;
    size_t start = i;
    while ((c = at(s, i)) >= 0 && is_tchar(c))
        i++;
    if (c < 0)
        return c;
    if (c != ' ' || i == start)
        return FAIL(req, 400, "malformed method");
    req->method_name.p = s->buf + start;
    req->method_name.n = i - start;
    if ((c = classify_method(req)) < 0)
        return c;
    start = ++i;
    while ((c = at(s, i)) >= 0 && c > ' ' && c < 0x7f && c != '#')
        i++;
    if (c < 0)
        return c;
    if (c != ' ' || i == start)
        return FAIL(req, 400, "malformed request target");
    req->target.p = s->buf + start;
    req->target.n = i - start;
    if ((c = split_target(req)) < 0)
        return c;
    i++;
    static const char proto[] = "HTTP/";
    for (size_t k = 0; k < 5; k++, i++) {
        if ((c = at(s, i)) < 0)
            return c;
        if (c != proto[k])
            return FAIL(req, 400, "malformed HTTP version");
    }
    int major, minor;
    if ((c = at(s, i)) < 0)
        return c;
    if (c < '0' || c > '9')
        return FAIL(req, 400, "malformed HTTP version");
    major = c - '0';
    if ((c = at(s, ++i)) < 0)
        return c;
    if (c != '.')
        return FAIL(req, 400, "malformed HTTP version");
    if ((c = at(s, ++i)) < 0)
        return c;
    if (c < '0' || c > '9')
        return FAIL(req, 400, "malformed HTTP version");
    minor = c - '0';
    i++;
    if ((c = line_end(s, &i)) < 0)
        return c == -400 ? FAIL(req, 400, "malformed HTTP version") : c;
    if (major != 1)
        return FAIL(req, 505, "HTTP version not supported");
    req->version_minor = minor == 0 ? 0 : 1; /* 1.x answers as 1.1 (RFC 9110 6.2) */
    s->in_request_line = 0;
    *pos = i;
    return 0;
}

static int header_line(struct scan *s, size_t *pos, unsigned max_headers)
{
    struct http_request *req = s->req;
    size_t i = *pos, start = i;
    int c;
    if (req->nheaders == max_headers)
        return FAIL(req, 431, "too many header fields");
    while ((c = at(s, i)) >= 0 && is_tchar(c))
        i++;
    if (c < 0)
        return c;
    if (c != ':' || i == start)
        return FAIL(req, 400, "malformed header name");
    struct http_header *h = &req->headers[req->nheaders];
    h->name.p = s->buf + start;
    h->name.n = i - start;
    i++;
    while ((c = at(s, i)) == ' ' || c == '\t')
        i++;
    start = i;
    size_t end = i; /* after the last non-space byte */
    for (;;) {
        if ((c = at(s, i)) < 0)
            return c;
        if (c == '\r' || c == '\n')
            break;
        if ((c < ' ' && c != '\t') || c == 0x7f)
            return FAIL(req, 400, "control character in a header value");
        i++;
        if (c != ' ' && c != '\t')
            end = i;
    }
    if ((c = line_end(s, &i)) < 0)
        return c;
    h->value.p = s->buf + start;
    h->value.n = end - start;
    req->nheaders++;
    *pos = i;
    return 0;
}

int http_parse_request(const char *buf, size_t len, const struct http_limits *lim,
                       struct http_request *req)
{
    memset(req, 0, offsetof(struct http_request, headers));
    req->nheaders = 0;
    memset(&req->host, 0, sizeof *req - offsetof(struct http_request, host));
    if (!lim)
        lim = &http_default_limits;
    unsigned max_headers = lim->max_headers < HTTP_MAX_HEADERS ? lim->max_headers : HTTP_MAX_HEADERS;
    struct scan s = {buf, len, lim, 0, 0, req};
    size_t i = 0;
    int rc = request_line(&s, &i);
    if (rc < 0)
        return rc;
    for (;;) {
        int c = at(&s, i);
        if (c < 0)
            return c;
        if (c == '\r' || c == '\n') {
            if ((rc = line_end(&s, &i)) < 0)
                return rc;
            break;
        }
        if (c == ' ' || c == '\t')
            return FAIL(req, 400, "folded or indented header line");
        if ((rc = header_line(&s, &i, max_headers)) < 0)
            return rc;
    }
    if ((rc = http_decode_headers(req, lim)) < 0)
        return rc;
    return (int)i;
}

