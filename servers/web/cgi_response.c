/*
 * cgi_response.c - a CGI function's "out" fields into an HTTP response
 * head (cgi_request.h).
 */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "cgi_request.h"
#include "cgi_server.h"

static const char *reason(int status)
{
    switch (status) {
    case 200: return "OK";
    case 204: return "No Content";
    case 302: return "Found";
    case 304: return "Not Modified";
    case 400: return "Bad Request";
    case 401: return "Unauthorized";
    case 403: return "Forbidden";
    case 404: return "Not Found";
    case 405: return "Method Not Allowed";
    case 413: return "Content Too Large";
    case 500: return "Internal Server Error";
    case 503: return "Service Unavailable";
    default: return NULL;
    }
}

/* The short bodies of the error answers (the error page replaces them). */
static const char body401[] = "401 Unauthorized\n", body404[] = "404 Not Found\n",
                  body500[] = "500 Internal Server Error\n";
#define TEXT "text/plain; charset=utf-8"

/* 1 when s is a string of bytes in lo..0x7e. */
static int printable(const char *s, unsigned char lo)
{
    for (; *s != '\0'; s++)
        if ((unsigned char)*s < lo || (unsigned char)*s > 0x7e)
            return 0;
    return 1;
}

/* The Set-Cookie strings: where and how CGI_SetCookie writes them. */
static int cookies_ok(const rpCgi *rp)
{
    const char *p = rp->fSetCookieBuffer, *end = p + sizeof rp->fSetCookieBuffer;

    if (rp->fNumOfSetCookieHeaders == 0)
        return 1;
    if (rp->fNumOfSetCookieHeaders < 0 || rp->fSetCookieHeaders != rp->fSetCookieBuffer)
        return 0;
    for (int i = 0; i < rp->fNumOfSetCookieHeaders; i++) {
        const char *nul = memchr(p, '\0', (size_t)(end - p));
        if (nul == NULL || nul == p || !printable(p, 0x20))
            return 0;
        p = nul + 1;
    }
    return 1;
}

int cgi_response_map(const rpCgi *rp, const char *common, struct cgi_head *h, const char **body,
                     size_t *body_len)
{
    const char *buf = rp->fResponseBufferPtr;
    long len = rp->fResponseBufferLength;
    struct cgi_mime_info mi;

    memset(h, 0, sizeof *h);
    *body = NULL;
    *body_len = 0;
    h->common = common;
    h->content_length = 0;
    if (!cookies_ok(rp))
        return -500;
    h->cookies = rp->fNumOfSetCookieHeaders > 0 ? rp->fSetCookieBuffer : NULL;
    h->ncookies = rp->fNumOfSetCookieHeaders;
    switch (rp->fHttpResponse) {
    case CgiHttpOk:
    case CgiHttpOkStatic:
        if (len < 0 || (buf == NULL && len > 0))
            return -500;
        h->status = 200;
        h->content_type = cgi_datatype_mime(rp->fDataType);
        if (rp->fHttpResponse == CgiHttpOkStatic)
            h->last_modified = rp->fObjectDate;
        cgi_mime_lookup(rp->fPathPtr, &mi);
        h->extra = mi.headers;
        *body = buf;
        *body_len = (size_t)len;
        h->content_length = len;
        return 0;
    case CgiHttpOKNoDoc:
    case CgiHttpNotModified:
        h->status = rp->fHttpResponse == CgiHttpOKNoDoc ? 204 : 304;
        h->content_length = -1;
        return 0;
    case CgiHttpRedirect:
        if (buf == NULL || buf[0] == '\0' || !printable(buf, 0x21))
            return -500;
        h->status = 302;
        h->location = buf;
        return 0;
    case CgiHttpUnauthorized:
        h->realm = buf != NULL ? buf : "chipd";
        if (!printable(h->realm, 0x20))
            return -500;
        h->status = 401;
        *body = body401;
        break;
    case CgiHttpNotFound:
        h->status = 404;
        *body = body404;
        break;
    case CgiHttpIntServerErr:
        h->status = 500;
        *body = body500;
        break;
    default: return -500;
    }
    h->content_type = TEXT;
    *body_len = strlen(*body);
    h->content_length = (long long)*body_len;
    return 0;
}

struct out {
    char *p;
    size_t size, n;
    int full;
};

static void add(struct out *o, const char *s, size_t n)
{
    if (o->full || n >= o->size - o->n) { /* room for the NUL too */
        o->full = 1;
        return;
    }
    memcpy(o->p + o->n, s, n);
    o->n += n;
    o->p[o->n] = '\0';
}

static void adds(struct out *o, const char *s)
{
    add(o, s, strlen(s));
}

static void line(struct out *o, const char *name, const char *value)
{
    adds(o, name);
    adds(o, value);
    add(o, "\r\n", 2);
}

/* An IMF-fixdate (RFC 9110 5.6.7), locale-free. */
static void http_date(unsigned long t, char *buf, size_t size)
{
    static const char days[][4] = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
    static const char months[][4] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                     "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
    time_t tt = (time_t)t;
    struct tm tm;

    gmtime_r(&tt, &tm);
    snprintf(buf, size, "%s, %02d %s %04d %02d:%02d:%02d GMT", days[tm.tm_wday], tm.tm_mday,
             months[tm.tm_mon], tm.tm_year + 1900, tm.tm_hour, tm.tm_min, tm.tm_sec);
}

long cgi_head_write(const struct cgi_head *h, char *out, size_t size)
{
    struct out o = {out, size, 0, 0};
    const char *why = reason(h->status), *c;
    char num[64];

    if (out == NULL || size == 0)
        return -1;
    out[0] = '\0';
    if (why == NULL)
        return -1;
    snprintf(num, sizeof num, "HTTP/1.1 %d ", h->status);
    line(&o, num, why);
    if (h->location != NULL)
        line(&o, "Location: ", h->location);
    if (h->realm != NULL) {
        adds(&o, "WWW-Authenticate: Basic realm=\"");
        for (c = h->realm; *c != '\0'; c++) {
            if (*c == '"' || *c == '\\')
                add(&o, "\\", 1);
            add(&o, c, 1);
        }
        add(&o, "\"\r\n", 3);
    }
    if (h->content_type != NULL)
        line(&o, "Content-Type: ", h->content_type);
    if (h->last_modified != 0) {
        http_date(h->last_modified, num, sizeof num);
        line(&o, "Last-Modified: ", num);
    }
    c = h->cookies;
    for (int i = 0; c != NULL && i < h->ncookies; i++, c += strlen(c) + 1)
        line(&o, "Set-Cookie: ", c);
    if (h->extra != NULL && h->extra[0] != '\0') {
        size_t n = strlen(h->extra);
        add(&o, h->extra, n);
        if (n < 2 || strcmp(h->extra + n - 2, "\r\n") != 0)
            add(&o, "\r\n", 2); /* the trailing CRLF of a row is optional */
    }
    if (h->content_length >= 0) {
        snprintf(num, sizeof num, "%lld", h->content_length);
        line(&o, "Content-Length: ", num);
    }
    if (h->common != NULL)
        adds(&o, h->common);
    add(&o, "\r\n", 2);
    if (o.full) {
        out[0] = '\0';
        return -1;
    }
    return (long)o.n;
}

long cgi_response_head(const rpCgi *rp, const char *common, char *out, size_t size,
                       const char **body, size_t *body_len)
{
    struct cgi_head h;
    int rc = cgi_response_map(rp, common, &h, body, body_len);

    if (rc < 0)
        return rc;
    return cgi_head_write(&h, out, size);
}
