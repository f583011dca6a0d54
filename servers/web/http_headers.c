/*
 * http_headers - the request headers that matter, decoded from their slices
 * once the head is complete: Host, Content-Length, Transfer-Encoding,
 * Connection, Expect, If-Modified-Since, Range, If-Range, Authorization (Basic),
 * Cookie, User-Agent, Referer, Content-Type and its multipart boundary.
 * Invalid values that RFC 9110 says to ignore (a date, a Range) are
 * ignored; those that make the body's length or the request's meaning
 * uncertain are errors.
 */
#include "http_internal.h"

#include <stdio.h>

static void trim(const char **p, const char **e)
{
    while (*p < *e && (**p == ' ' || **p == '\t'))
        (*p)++;
    while (*e > *p && ((*e)[-1] == ' ' || (*e)[-1] == '\t'))
        (*e)--;
}

/* Digits only, at most 2^62 (no overflow): 0 on success. */
static int parse_u64(const char *p, size_t n, uint64_t *out)
{
    uint64_t v = 0;
    if (n == 0)
        return -1;
    for (size_t k = 0; k < n; k++) {
        if (p[k] < '0' || p[k] > '9' || v > (UINT64_C(1) << 62) / 10)
            return -1;
        v = v * 10 + (uint64_t)(p[k] - '0');
    }
    *out = v;
    return 0;
}

/* Content-Length: a list ("5, 5") or repeated fields must all agree. */
static int content_length(struct http_request *req, struct http_slice v)
{
    const char *p = v.p, *end = v.p + v.n;
    for (;;) {
        const char *e = memchr(p, ',', (size_t)(end - p));
        const char *ie = e ? e : end;
        const char *ip = p;
        uint64_t n;
        trim(&ip, &ie);
        if (parse_u64(ip, (size_t)(ie - ip), &n) < 0)
            return FAIL(req, 400, "invalid Content-Length");
        if (req->has_content_length && n != req->content_length)
            return FAIL(req, 400, "conflicting Content-Length");
        req->has_content_length = 1;
        req->content_length = n;
        if (!e)
            return 0;
        p = e + 1;
    }
}

/* Calls fn on each element of a comma-separated list, trimmed, empty
 * elements skipped (RFC 9110 5.6.1). */
static void each_token(struct http_slice v, void (*fn)(void *, const char *, size_t), void *arg)
{
    const char *p = v.p, *end = v.p + v.n;
    while (p < end) {
        const char *e = memchr(p, ',', (size_t)(end - p));
        const char *ie = e ? e : end, *ip = p;
        trim(&ip, &ie);
        if (ie > ip)
            fn(arg, ip, (size_t)(ie - ip));
        p = e ? e + 1 : end;
    }
}

struct te_count { int chunked, other; };
static void te_token(void *arg, const char *p, size_t n)
{
    struct te_count *t = arg;
    if (slice_ieq(p, n, "chunked"))
        t->chunked++;
    else
        t->other++;
}

struct conn_flags { int close, keep_alive; };
static void conn_token(void *arg, const char *p, size_t n)
{
    struct conn_flags *f = arg;
    if (slice_ieq(p, n, "close"))
        f->close = 1;
    else if (slice_ieq(p, n, "keep-alive"))
        f->keep_alive = 1;
}

static int month_index(const char *m)
{
    static const char months[] = "JanFebMarAprMayJunJulAugSepOctNovDec";
    for (int k = 0; k < 12; k++)
        if (!memcmp(months + 3 * k, m, 3) && m[3] == 0)
            return k;
    return -1;
}

/* Days since 1970-01-01 of a proleptic Gregorian date (month 0..11). */
static int64_t days_from_civil(int64_t y, int m, int d)
{
    y -= m < 2;
    int64_t era = (y >= 0 ? y : y - 399) / 400;
    int64_t yoe = y - era * 400;
    int mp = (m + 10) % 12;
    int64_t doy = (153 * mp + 2) / 5 + d - 1;
    int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}

/* An HTTP-date in any of its three forms (RFC 9110 5.6.7); 0 on success. */
static int parse_http_date(struct http_slice v, time_t *out)
{
    char s[64], wd[16], mon[4];
    int d, y, hh, mm, ss, used = -1;
    if (v.n >= sizeof s)
        return -1;
    memcpy(s, v.p, v.n);
    s[v.n] = 0;
    if (sscanf(s, "%3s, %2d %3s %4d %2d:%2d:%2d GMT%n", wd, &d, mon, &y, &hh, &mm, &ss, &used) == 7 &&
        used == (int)v.n) {
        /* IMF-fixdate */
    } else if (used = -1,
               sscanf(s, "%15[A-Za-z], %2d-%3s-%2d %2d:%2d:%2d GMT%n", wd, &d, mon, &y, &hh, &mm,
                      &ss, &used) == 7 && used == (int)v.n) {
        y += y < 70 ? 2000 : 1900; /* RFC 850's two-digit year */
    } else if (used = -1,
               sscanf(s, "%3s %3s %2d %2d:%2d:%2d %4d%n", wd, mon, &d, &hh, &mm, &ss, &y, &used) ==
                   7 && used == (int)v.n) {
        /* asctime */
    } else {
        return -1;
    }
    int m = month_index(mon);
    if (m < 0 || d < 1 || d > 31 || hh > 23 || mm > 59 || ss > 60 || y < 1970 || hh < 0 ||
        mm < 0 || ss < 0)
        return -1;
    *out = (time_t)(days_from_civil(y, m, d) * 86400 + hh * 3600 + mm * 60 + ss);
    return 0;
}

/* Range: one "bytes=" range; anything else is ignored (RFC 9110 14.2). */
static void parse_range(struct http_slice v, struct http_range *r)
{
    const char *p = v.p, *end = v.p + v.n;
    r->kind = HTTP_RANGE_NONE;
    if (!prefix_ieq(p, v.n, "bytes=") || memchr(p, ',', v.n))
        return;
    p += 6;
    const char *dash = memchr(p, '-', (size_t)(end - p));
    if (!dash)
        return;
    uint64_t a, b;
    if (dash == p) {
        if (parse_u64(dash + 1, (size_t)(end - dash - 1), &a) == 0) {
            r->kind = HTTP_RANGE_SUFFIX;
            r->first = a;
        }
        return;
    }
    if (parse_u64(p, (size_t)(dash - p), &a) < 0)
        return;
    if (dash + 1 == end) {
        r->kind = HTTP_RANGE_FROM;
        r->first = a;
    } else if (parse_u64(dash + 1, (size_t)(end - dash - 1), &b) == 0 && a <= b) {
        r->kind = HTTP_RANGE_FROM_TO;
        r->first = a;
        r->last = b;
    }
}

/* The boundary parameter of a multipart Content-Type (RFC 2046 5.1.1:
 * 1..70 characters); left absent when missing or malformed. */
static void parse_boundary(struct http_request *req)
{
    const char *p = req->content_type.p, *end = p + req->content_type.n;
    if (!prefix_ieq(p, req->content_type.n, "multipart/"))
        return;
    while ((p = memchr(p, ';', (size_t)(end - p))) != NULL) {
        p++;
        while (p < end && (*p == ' ' || *p == '\t'))
            p++;
        if (!prefix_ieq(p, (size_t)(end - p), "boundary="))
            continue;
        p += 9;
        const char *e;
        if (p < end && *p == '"') {
            p++;
            e = memchr(p, '"', (size_t)(end - p));
            if (!e || memchr(p, '\\', (size_t)(e - p)))
                return;
        } else {
            e = p;
            while (e < end && *e != ';' && *e != ' ' && *e != '\t')
                e++;
        }
        if (e > p && e - p <= 70) {
            req->boundary.p = p;
            req->boundary.n = (size_t)(e - p);
        }
        return;
    }
}

static int b64_value(int c)
{
    if (c >= 'A' && c <= 'Z')
        return c - 'A';
    if (c >= 'a' && c <= 'z')
        return c - 'a' + 26;
    if (c >= '0' && c <= '9')
        return c - '0' + 52;
    return c == '+' ? 62 : c == '/' ? 63 : -1;
}

/* Authorization: Basic base64(user:password) into req->auth_*. */
static int basic_auth(struct http_request *req, struct http_slice v)
{
    const char *p = v.p, *end = v.p + v.n;
    if (!prefix_ieq(p, v.n, "basic ") )
        return 0; /* another scheme: not ours to judge */
    p += 6;
    while (p < end && *p == ' ')
        p++;
    while (end > p && end[-1] == '=')
        end--;
    char out[2 * HTTP_MAX_CREDENTIAL + 2];
    size_t o = 0;
    uint32_t acc = 0;
    int bits = 0;
    if (end - p > (ptrdiff_t)(sizeof out * 4 / 3))
        return FAIL(req, 400, "Basic credentials too long");
    for (; p < end; p++) {
        int x = b64_value((unsigned char)*p);
        if (x < 0)
            return FAIL(req, 400, "malformed Basic credentials");
        acc = acc << 6 | (uint32_t)x;
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            out[o++] = (char)(acc >> bits);
        }
    }
    char *colon = memchr(out, ':', o);
    if (!colon || memchr(out, 0, o))
        return FAIL(req, 400, "malformed Basic credentials");
    size_t ul = (size_t)(colon - out), pl = o - ul - 1;
    if (ul > HTTP_MAX_CREDENTIAL || pl > HTTP_MAX_CREDENTIAL)
        return FAIL(req, 400, "Basic credentials too long");
    memcpy(req->auth_user, out, ul);
    req->auth_user[ul] = 0;
    memcpy(req->auth_password, colon + 1, pl);
    req->auth_password[pl] = 0;
    req->has_basic_auth = 1;
    return 0;
}

/* Host is uri-host [":" port] (RFC 9112 3.2): a name, an IPv4 or a
 * bracketed IPv6 literal. Anything else (a '/', '@', blanks) is refused, so
 * a Location built from it (the redirect to HTTPS) points where it should. */
static int valid_host(struct http_slice v)
{
    for (size_t k = 0; k < v.n; k++) {
        int c = (unsigned char)v.p[k];
        if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
              (c && strchr("-._~!$&'()*+,;=%:[]", c))))
            return 0;
    }
    return 1;
}

static void first(struct http_slice *dst, struct http_slice v)
{
    if (!dst->p)
        *dst = v;
}

int http_decode_headers(struct http_request *req, const struct http_limits *lim)
{
    struct te_count te = {0, 0};
    struct conn_flags conn = {0, 0};
    int hosts = 0, rc, have_range = 0, have_ims = 0, have_auth = 0;
    int absolute = req->host.p != NULL;
    for (unsigned k = 0; k < req->nheaders; k++) {
        const struct http_slice n = req->headers[k].name, v = req->headers[k].value;
        if (slice_ieq(n.p, n.n, "host")) {
            if (++hosts > 1)
                return FAIL(req, 400, "more than one Host");
            if (!valid_host(v))
                return FAIL(req, 400, "invalid Host");
            if (!absolute)
                req->host = v;
        } else if (slice_ieq(n.p, n.n, "content-length")) {
            if ((rc = content_length(req, v)) < 0)
                return rc;
        } else if (slice_ieq(n.p, n.n, "transfer-encoding")) {
            int before = te.chunked + te.other;
            each_token(v, te_token, &te);
            /* An empty field ("Transfer-Encoding:" or ", ,") names no
             * coding; ignoring it next to a Content-Length would read a
             * body another hop may frame differently (request smuggling). */
            if (te.chunked + te.other == before)
                return FAIL(req, 400, "empty Transfer-Encoding");
        } else if (slice_ieq(n.p, n.n, "connection")) {
            each_token(v, conn_token, &conn);
        } else if (slice_ieq(n.p, n.n, "expect")) {
            if (!slice_ieq(v.p, v.n, "100-continue"))
                return FAIL(req, 417, "unsupported expectation");
            req->expect_continue = req->version_minor == 1; /* 1.0 clients never wait */
        } else if (slice_ieq(n.p, n.n, "if-modified-since") && !have_ims++) {
            req->has_if_modified_since = parse_http_date(v, &req->if_modified_since) == 0;
        } else if (slice_ieq(n.p, n.n, "if-range") && !req->if_range) {
            req->if_range = parse_http_date(v, &req->if_range_date) == 0 ? 1 : -1;
        } else if (slice_ieq(n.p, n.n, "range") && !have_range++) {
            parse_range(v, &req->range);
        } else if (slice_ieq(n.p, n.n, "authorization") && !have_auth++) {
            if ((rc = basic_auth(req, v)) < 0)
                return rc;
        } else if (slice_ieq(n.p, n.n, "cookie")) {
            first(&req->cookie, v);
        } else if (slice_ieq(n.p, n.n, "user-agent")) {
            first(&req->user_agent, v);
        } else if (slice_ieq(n.p, n.n, "referer")) {
            first(&req->referer, v);
        } else if (slice_ieq(n.p, n.n, "content-type")) {
            first(&req->content_type, v);
        }
    }
    /* The authority of an absolute-form target is the host (RFC 9112
     * 3.2.2): held to the same rules as a Host field ("user@host" too). */
    if (absolute && !valid_host(req->host))
        return FAIL(req, 400, "invalid host in the request target");
    if (req->version_minor == 1 && hosts == 0)
        return FAIL(req, 400, "HTTP/1.1 request without Host");
    if (te.chunked || te.other) {
        if (req->version_minor == 0)
            return FAIL(req, 400, "Transfer-Encoding in an HTTP/1.0 request");
        if (te.other)
            return FAIL(req, 501, "unsupported Transfer-Encoding");
        if (te.chunked > 1)
            return FAIL(req, 400, "chunked applied twice");
        if (req->has_content_length)
            return FAIL(req, 400, "both Transfer-Encoding and Content-Length");
        req->chunked = 1;
    }
    if (req->method == HTTP_POST && !req->has_content_length && !req->chunked)
        return FAIL(req, 411, "POST without a body length");
    if (lim->max_body && req->has_content_length && req->content_length > lim->max_body)
        return FAIL(req, 413, "request body too large");
    if (req->content_type.p)
        parse_boundary(req);
    req->keep_alive = !conn.close && (req->version_minor == 1 || conn.keep_alive);
    return 0;
}

const struct http_header *http_header_find(const struct http_request *req, const char *name)
{
    for (unsigned k = 0; k < req->nheaders; k++)
        if (slice_ieq(req->headers[k].name.p, req->headers[k].name.n, name))
            return &req->headers[k];
    return NULL;
}

