/*
 * web_ssi.c - SSI pages (ssi.c holds the registrations): a static file that
 * matches its server's SSI_Set_File_Filter is parsed for the registered
 * tags on the handler threads (the tag handlers are application callbacks:
 * they may block, and they are serialized like the CGI callbacks).
 *
 * The page is built before its head is sent, so it has an exact
 * Content-Length and an error of a handler can still become a 500: the
 * first WEB_SSI_MEM bytes of output are kept in memory; a larger page goes
 * on into an unlinked temporary file (O_TMPFILE in $TMPDIR or /tmp, else a
 * memfd) that the response writer then sends like any file. The input is
 * read in blocks, keeping the last (longest tag - 1) bytes of a block for
 * the next, so a tag split across two reads is found. Memory per page is
 * thus bounded (input block + WEB_SSI_MEM).
 *
 * An SSI page is always a whole 200 (no Last-Modified, no 304, no Range:
 * its bytes change with every request) with Cache-Control: no-cache.
 */
#include "web_ssi.h"

#include "cgi_request.h"
#include "cgi_server.h"
#include "web_cgi.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#define WEB_SSI_BLOCK (64 * 1024)
#define WEB_SSI_MEM (64 * 1024)

struct ssi_out {
    char *buf; /* WEB_SSI_MEM bytes */
    size_t len;
    int fd; /* the temporary file once the page outgrew buf; -1 before */
    uint64_t total;
    int failed;
};

static int spill_file(void)
{
    const char *dir = getenv("TMPDIR");
    int fd = open(dir && *dir ? dir : "/tmp", O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
    if (fd < 0)
        fd = memfd_create("chipd-ssi", MFD_CLOEXEC);
    return fd;
}

static int out_write(void *ctx, const char *p, size_t n)
{
    struct ssi_out *o = ctx;
    if (o->failed)
        return -1;
    o->total += n;
    while (n > 0) {
        if (o->len == WEB_SSI_MEM) {
            if (o->fd < 0 && (o->fd = spill_file()) < 0) {
                o->failed = 1;
                return -1;
            }
            if (web_write_all(o->fd, o->buf, o->len) != 0) {
                o->failed = 1;
                return -1;
            }
            o->len = 0;
        }
        size_t k = WEB_SSI_MEM - o->len < n ? WEB_SSI_MEM - o->len : n;
        memcpy(o->buf + o->len, p, k);
        o->len += k;
        p += k;
        n -= k;
    }
    return 0;
}

/* Parse in (the file) into o, calling the handlers; 0, or -1 when a
 * handler answered something else than the three results, or on I/O
 * failure. */
static int ssi_run(int in, int server, unsigned long h, struct ssi_out *o)
{
    struct ssi_tag_copy *tags = calloc(SSI_MAX_TAGS, sizeof *tags);
    int ntags = tags ? ssi_tags_snapshot(server, tags, SSI_MAX_TAGS) : 0;
    unsigned char first[256] = {0};
    size_t keep = 1; /* longest tag - 1, kept from block to block */
    for (int i = 0; i < ntags; i++) {
        first[(unsigned char)tags[i].text[0]] = 1;
        if (tags[i].len > keep + 1)
            keep = tags[i].len - 1;
    }
    char *buf = malloc(WEB_SSI_BLOCK + keep);
    int rc = tags && buf ? 0 : -1, output = 1, eof = 0;
    size_t have = 0;
    while (rc == 0 && !eof) {
        ssize_t k = read(in, buf + have, WEB_SSI_BLOCK);
        if (k < 0 && errno == EINTR)
            continue;
        if (k < 0) {
            rc = -1;
            break;
        }
        eof = k == 0;
        have += (size_t)k;
        /* Positions before limit are looked at now: every tag starting
         * there lies wholly in buf (or the file ends). */
        size_t limit = eof ? have : have > keep ? have - keep : 0;
        size_t i = 0, from = 0;
        while (i < limit) {
            if (!first[(unsigned char)buf[i]]) {
                i++;
                continue;
            }
            const struct ssi_tag_copy *t = NULL;
            for (int j = 0; j < ntags; j++) /* the longest tag found there */
                if (tags[j].len <= have - i && (!t || tags[j].len > t->len) &&
                    memcmp(buf + i, tags[j].text, tags[j].len) == 0)
                    t = &tags[j];
            if (!t) {
                i++;
                continue;
            }
            if (output && i > from && out_write(o, buf + from, i - from) != 0) {
                rc = -1;
                break;
            }
            int token = cgi_serial_enter();
            int r = t->h(h, t->text);
            cgi_serial_leave(token);
            i += t->len;
            from = i;
            if (o->failed ||
                (r != SSI_OUTPUT_ENABLE && r != SSI_OUTPUT_DISABLE && r != SSI_ABORT_PAGE)) {
                rc = -1;
                break;
            }
            if (r == SSI_ABORT_PAGE) {
                eof = 1;
                from = limit = i;
                have = i;
                break;
            }
            output = r == SSI_OUTPUT_ENABLE;
        }
        if (rc != 0)
            break;
        if (i > limit) /* a tag reached into the kept bytes */
            limit = i;
        if (output && limit > from && out_write(o, buf + from, limit - from) != 0)
            rc = -1;
        memmove(buf, buf + limit, have - limit);
        have -= limit;
    }
    free(buf);
    free(tags);
    return rc;
}

static int ssi_handle(void *ctx, const struct web_request *req, struct web_response *resp)
{
    (void)ctx;
    int in = resp->file_fd;
    resp->file_fd = -1;
    struct ssi_out o = {.buf = malloc(WEB_SSI_MEM), .fd = -1};
    char query[4096] = "";
    const struct http_slice *q = &req->http->query;
    if (q->p)
        snprintf(query, sizeof query, "%.*s", (int)q->n, q->p);
    struct ssi_sink sink = {.write = out_write, .ctx = &o};
    sink.params = (SSI_Params){
        .structVersion = 0,
        .server = req->server,
        .method = req->http->method == HTTP_HEAD ? CgiHttpHead : CgiHttpGet,
        .pathPtr = req->path,
        .queryPtr = query,
        .remoteIPPtr = req->remote_ip,
    };
    unsigned long h = o.buf ? ssi_sink_attach(&sink) : 0;
    int rc = h ? ssi_run(in, req->server, h, &o) : -1;
    if (h)
        ssi_sink_detach(h);
    close(in);
    if (rc == 0 && o.fd >= 0 && o.len && web_write_all(o.fd, o.buf, o.len) != 0)
        rc = -1;
    if (rc != 0) {
        /* A handler's error or a failed write: the server's 500 page. */
        if (o.fd >= 0)
            close(o.fd);
        free(o.buf);
        resp->status = 500;
        resp->content_type = NULL;
        resp->headers_len = 0;
        resp->headers[0] = '\0';
        return WEB_HANDLED;
    }
    resp->status = 200;
    web_response_header(resp, "Cache-Control", "no-cache");
    if (o.fd >= 0) {
        free(o.buf);
        resp->file_fd = o.fd;
        resp->file_off = 0;
        resp->file_len = o.total;
    } else {
        resp->body = o.buf;
        resp->body_len = o.len;
        resp->release = free;
        resp->release_arg = o.buf;
    }
    return WEB_HANDLED;
}

const struct web_handler web_ssi_handler = {"ssi", ssi_handle, NULL, 1, NULL};

int web_ssi_page(const struct web_request *req, const char *urlPath)
{
    return ssi_file_matches(req->server, urlPath);
}
