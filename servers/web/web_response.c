/*
 * web_response.c - the response writer: status line, Date, Server,
 * Content-Type, Content-Length, Connection, the handler's headers, then the
 * body from memory or from a file (sendfile on plain HTTP; over TLS through
 * send() in large blocks read with pread into the connection's buffer).
 * HEAD and 304 carry no body.
 */
#include "web.h"

#include <tcpip.h>

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/sendfile.h>
#include <unistd.h>

#define WEB_FILE_BLOCK (64 * 1024)
#define WEB_SENDFILE_MAX (1024 * 1024)

const char *web_status_text(int status)
{
    switch (status) {
    case 200: return "OK";
    case 204: return "No Content";
    case 206: return "Partial Content";
    case 301: return "Moved Permanently";
    case 302: return "Found";
    case 304: return "Not Modified";
    case 400: return "Bad Request";
    case 401: return "Unauthorized";
    case 403: return "Forbidden";
    case 404: return "Not Found";
    case 405: return "Method Not Allowed";
    case 408: return "Request Timeout";
    case 411: return "Length Required";
    case 413: return "Content Too Large";
    case 414: return "URI Too Long";
    case 416: return "Range Not Satisfiable";
    case 417: return "Expectation Failed";
    case 431: return "Request Header Fields Too Large";
    case 500: return "Internal Server Error";
    case 501: return "Not Implemented";
    case 503: return "Service Unavailable";
    case 505: return "HTTP Version Not Supported";
    default: return "Unknown";
    }
}

void web_http_date(time_t t, char *out, size_t outlen)
{
    struct tm tm;
    strftime(out, outlen, "%a, %d %b %Y %H:%M:%S GMT", gmtime_r(&t, &tm));
}

/* A date's text, kept for the last time asked. */
struct date_cache {
    time_t t;
    char text[40];
};

static const char *date_cached(struct date_cache *dc, time_t t)
{
    if (t != dc->t || !dc->text[0]) {
        web_http_date(t, dc->text, sizeof dc->text);
        dc->t = t;
    }
    return dc->text;
}

const char *web_http_date_cached(time_t t)
{
    static _Thread_local struct date_cache mtime; /* Last-Modified */
    return date_cached(&mtime, t);
}

/* The Date header's text, made once a second per thread. */
static const char *date_now(void)
{
    static _Thread_local struct date_cache now;
    return date_cached(&now, time(NULL));
}

int web_response_header_text(struct web_response *resp, const char *name, const char *value)
{
    size_t nl = strlen(name), vl = strlen(value);
    size_t room = sizeof resp->headers - resp->headers_len;
    /* As below: a CR or LF in a value is never sent. */
    if (nl + vl + 4 >= room || strpbrk(value, "\r\n"))
        return -1;
    char *p = resp->headers + resp->headers_len;
    memcpy(p, name, nl);
    memcpy(p + nl, ": ", 2);
    memcpy(p + nl + 2, value, vl);
    memcpy(p + nl + 2 + vl, "\r\n", 3); /* with the NUL */
    resp->headers_len += nl + vl + 4;
    return 0;
}

int web_response_header(struct web_response *resp, const char *name, const char *fmt, ...)
{
    char value[WEB_RESPONSE_HEADERS];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(value, sizeof value, fmt, ap);
    va_end(ap);
    size_t room = sizeof resp->headers - resp->headers_len;
    /* A CR or LF would end the field and start one the peer chose (a
     * request path, a name in a Location): never sent, the caller sees -1. */
    if (n < 0 || (size_t)n >= sizeof value || strpbrk(value, "\r\n"))
        return -1;
    int k = snprintf(resp->headers + resp->headers_len, room, "%s: %s\r\n", name, value);
    if (k < 0 || (size_t)k >= room) {
        resp->headers[resp->headers_len] = '\0';
        return -1;
    }
    resp->headers_len += (size_t)k;
    return 0;
}

int web_https_location(struct web_response *resp, const struct http_request *req, unsigned port)
{
    struct http_slice h = req->host;
    size_t hl = h.p ? h.n : 0;
    const char *colon = hl ? memrchr(h.p, ':', hl) : NULL;
    if (colon && memchr(h.p, ']', hl) > (const void *)colon)
        colon = NULL; /* the colon of an IPv6 literal */
    if (colon)
        hl = (size_t)(colon - h.p);
    return web_response_header(resp, "Location", "https://%.*s:%u%.*s%s%.*s", (int)hl,
                               hl ? h.p : "localhost", port, (int)req->path.n, req->path.p,
                               req->query.p ? "?" : "", req->query.p ? (int)req->query.n : 0,
                               req->query.p ? req->query.p : "");
}

void web_error(struct web_conn *c, int status)
{
    web_response_end(c);
    memset(&c->ex->resp, 0, sizeof c->ex->resp);
    c->ex->resp.file_fd = -1;
    c->ex->resp.status = status;
}

int web_response_begin(struct web_conn *c)
{
    struct web_response *r = &c->ex->resp;
    char page[512];
    uint64_t length;
    int page_len = 0;
    int is_head = c->ex->req.method == HTTP_HEAD && c->had_request;
    if (r->file_fd >= 0)
        length = r->file_len;
    else if (r->body)
        length = r->body_len;
    else if (r->status >= 300 && !r->no_body && r->status != 304) {
        /* A status without a body of the handler's: a small page saying it. */
        page_len =
            snprintf(page, sizeof page,
                     "<!DOCTYPE html>\n<html><head><title>%d %s</title></head>"
                     "<body><h1>%d %s</h1></body></html>\n",
                     r->status, web_status_text(r->status), r->status, web_status_text(r->status));
        length = (uint64_t)page_len;
        r->content_type = "text/html; charset=utf-8";
    } else
        length = 0;
    if (r->status == 304 || r->status == 204)
        r->no_body = 1;
    if (r->close || c->stopping || loop_stopping(c->lc.worker))
        c->keep_alive = 0;
    c->status = r->status;
    c->sent_body = 0;
    c->out_len = c->out_off = 0;
    /* The head, without printf (per request: known texts and one number). */
    char len_text[24], *lp = len_text + sizeof len_text - 1;
    *lp = '\0';
    uint64_t v = length;
    do
        *--lp = (char)('0' + v % 10);
    while ((v /= 10) != 0);
    const char *keep = c->keep_alive ? "keep-alive" : "close";
    char status_text[4] = {(char)('0' + r->status / 100 % 10), (char)('0' + r->status / 10 % 10),
                           (char)('0' + r->status % 10), '\0'};
    const char *parts[] = {
        "HTTP/1.1 ",
        status_text,
        " ",
        web_status_text(r->status),
        "\r\nDate: ",
        date_now(),
        "\r\nServer: chipd\r\n",
        r->content_type ? "Content-Type: " : "",
        r->content_type ? r->content_type : "",
        r->content_type ? "\r\n" : "",
        r->no_body ? "" : "Content-Length: ",
        r->no_body ? "" : lp,
        r->no_body ? "" : "\r\n",
        "Connection: ",
        keep,
        "\r\n",
    };
    size_t lens[sizeof parts / sizeof parts[0]], total = r->headers_len + 2;
    for (size_t i = 0; i < sizeof parts / sizeof parts[0]; i++)
        total += lens[i] = strlen(parts[i]);
    if (r->status < 100 || r->status > 999 || total > sizeof c->ex->out - c->out_len)
        return -1;
    char *o = c->ex->out + c->out_len;
    for (size_t i = 0; i < sizeof parts / sizeof parts[0]; i++) {
        memcpy(o, parts[i], lens[i]);
        o += lens[i];
    }
    memcpy(o, r->headers, r->headers_len);
    o += r->headers_len;
    memcpy(o, "\r\n", 2);
    c->out_len += total;
    c->mem_left = 0;
    c->fbuf_len = c->fbuf_off = 0;
    if (is_head || r->no_body) {
        web_response_end(c); /* nothing of the body goes out */
        return 0;
    }
    if (page_len) {
        if ((size_t)page_len > sizeof c->ex->out - c->out_len)
            return -1;
        memcpy(c->ex->out + c->out_len, page, (size_t)page_len);
        c->out_len += (size_t)page_len;
        c->sent_body = (uint64_t)page_len;
        return 0;
    }
    /* A small body goes out with the head in one send: one TLS record and
     * one segment instead of two (a CGI answer, a small file). */
    size_t room = sizeof c->ex->out - c->out_len;
    if (r->file_fd < 0 && r->body && r->body_len <= room) {
        memcpy(c->ex->out + c->out_len, r->body, r->body_len);
        c->out_len += r->body_len;
        c->sent_body = r->body_len;
        web_response_end(c);
    } else if (r->file_fd < 0 && r->body) {
        c->mem_body = r->body;
        c->mem_left = r->body_len;
    } else if (r->file_fd >= 0 && r->file_len <= room) {
        ssize_t k =
            pread(r->file_fd, c->ex->out + c->out_len, (size_t)r->file_len, (off_t)r->file_off);
        if (k >= 0 && (uint64_t)k == r->file_len) {
            c->out_len += (size_t)k;
            c->sent_body = (uint64_t)k;
            web_response_end(c);
        } /* else the file changed: the block path below finds out and closes */
    }
    return 0;
}

static int send_some(struct web_conn *c, const char *p, size_t n)
{
    int err = 0;
    int k = send(c->lc.fd, p, n > (1u << 30) ? 1 << 30 : (int)n, MSG_DONTWAIT, &err);
    if (k > 0)
        return k;
    return err == API_EWOULDBLOCK ? 0 : -1;
}

int web_response_write(struct web_conn *c)
{
    struct web_response *r = &c->ex->resp;
    while (c->out_off < c->out_len) {
        int k = send_some(c, c->ex->out + c->out_off, c->out_len - c->out_off);
        if (k <= 0)
            return k;
        c->out_off += (size_t)k;
    }
    while (c->mem_left) {
        int k = send_some(c, c->mem_body, c->mem_left);
        if (k <= 0)
            return k;
        c->mem_body += k;
        c->mem_left -= (size_t)k;
        c->sent_body += (uint64_t)k;
    }
    while (r->file_fd >= 0 && (r->file_len || c->fbuf_off < c->fbuf_len)) {
        if (!c->tls) {
            off_t off = (off_t)r->file_off;
            size_t want = r->file_len > WEB_SENDFILE_MAX ? WEB_SENDFILE_MAX : (size_t)r->file_len;
            ssize_t k = sendfile(c->lc.fd, r->file_fd, &off, want);
            if (k < 0)
                return errno == EAGAIN ? 0 : -1;
            if (k == 0)
                return -1; /* the file shrank under us: the length promised cannot be kept */
            r->file_off += (uint64_t)k;
            r->file_len -= (uint64_t)k;
            c->sent_body += (uint64_t)k;
            continue;
        }
        if (c->fbuf_off == c->fbuf_len) {
            size_t want = r->file_len > WEB_FILE_BLOCK ? WEB_FILE_BLOCK : (size_t)r->file_len;
            if (!c->fbuf && !(c->fbuf = malloc(WEB_FILE_BLOCK)))
                return -1;
            ssize_t k = pread(r->file_fd, c->fbuf, want, (off_t)r->file_off);
            if (k <= 0)
                return -1;
            c->fbuf_off = 0;
            c->fbuf_len = (size_t)k;
            r->file_off += (uint64_t)k;
            r->file_len -= (uint64_t)k;
        }
        int k = send_some(c, c->fbuf + c->fbuf_off, c->fbuf_len - c->fbuf_off);
        if (k <= 0)
            return k;
        c->fbuf_off += (size_t)k;
        c->sent_body += (uint64_t)k;
    }
    return 1;
}

void web_response_end(struct web_conn *c)
{
    c->mem_left = 0;
    if (!c->ex) /* idle: no response */
        return;
    struct web_response *r = &c->ex->resp;
    if (r->file_fd >= 0)
        close(r->file_fd);
    r->file_fd = -1;
    if (r->release)
        r->release(r->release_arg);
    r->release = NULL;
    r->body = NULL;
}
