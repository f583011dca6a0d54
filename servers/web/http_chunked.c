/*
 * http_chunked_decode - the chunked transfer coding (RFC 9112 7.1) as a
 * state machine that keeps its place between calls, so a body may arrive in
 * pieces of any size. Data is never copied: each call hands back one slice
 * of the input.
 */
#include "http_parse.h"

#include <string.h>

enum {
    CH_SIZE,       /* hex digits of a chunk size */
    CH_EXT,        /* chunk extension: skipped up to the line end */
    CH_SIZE_LF,    /* CR seen after the size line */
    CH_DATA,       /* chunk data */
    CH_DATA_CR,    /* the line end after the data */
    CH_DATA_LF,
    CH_TRAILER_START, /* start of a trailer line, or the final empty line */
    CH_TRAILER,
    CH_TRAILER_LF,
    CH_END_LF,
    CH_DONE
};

/* A size line (digits and extensions) or a trailer section beyond these is
 * an attack, not a body. */
#define MAX_SIZE_LINE 4096
#define MAX_TRAILERS 8192

static int hexdigit(int c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

static int fail(struct http_chunked *d, int status)
{
    d->state = -status;
    return -status;
}

/* The size line is complete: a data chunk follows, or the last chunk. */
static int size_done(struct http_chunked *d)
{
    if (d->remaining == 0) {
        d->state = CH_TRAILER_START;
        return 0;
    }
    if (d->max_body && d->remaining > d->max_body - d->total)
        return fail(d, 413);
    d->state = CH_DATA;
    return 0;
}

void http_chunked_init(struct http_chunked *d, uint64_t max_body)
{
    memset(d, 0, sizeof *d);
    d->state = CH_SIZE;
    d->max_body = max_body;
}

int http_chunked_decode(struct http_chunked *d, const char *buf, size_t len, size_t *used,
                        const char **data, size_t *datalen)
{
    size_t i = 0;
    *used = 0;
    *data = NULL;
    *datalen = 0;
    if (d->state < 0)
        return d->state;
    if (d->state == CH_DONE)
        return HTTP_CHUNKED_DONE;
    while (i < len) {
        int c = (unsigned char)buf[i];
        switch (d->state) {
        case CH_SIZE: {
            int x = hexdigit(c);
            if (x >= 0) {
                if (d->digits || x) /* leading zeros do not count */
                    d->digits++;
                if (d->digits > 15)
                    return fail(d, 413);
                d->remaining = d->remaining * 16 + (uint64_t)x;
            } else if (d->line == 0) {
                return fail(d, 400); /* no digit */
            } else if (c == ';' || c == ' ' || c == '\t') {
                d->state = CH_EXT;
            } else if (c == '\r') {
                d->state = CH_SIZE_LF;
            } else if (c == '\n') {
                if (size_done(d) < 0)
                    return d->state;
            } else {
                return fail(d, 400);
            }
            if (++d->line > MAX_SIZE_LINE)
                return fail(d, 400);
            break;
        }
        case CH_EXT:
            if (c == '\r')
                d->state = CH_SIZE_LF;
            else if (c == '\n') {
                if (size_done(d) < 0)
                    return d->state;
            } else if ((c < ' ' && c != '\t') || c == 0x7f)
                return fail(d, 400);
            if (++d->line > MAX_SIZE_LINE)
                return fail(d, 400);
            break;
        case CH_SIZE_LF:
            if (c != '\n')
                return fail(d, 400);
            if (size_done(d) < 0)
                return d->state;
            break;
        case CH_DATA: {
            size_t k = len - i;
            if (k > d->remaining)
                k = (size_t)d->remaining;
            d->remaining -= k;
            d->total += k;
            if (d->remaining == 0)
                d->state = CH_DATA_CR;
            *data = buf + i;
            *datalen = k;
            *used = i + k;
            return HTTP_CHUNKED_DATA;
        }
        case CH_DATA_CR:
        case CH_DATA_LF:
            if (c == '\r' && d->state == CH_DATA_CR) {
                d->state = CH_DATA_LF;
                break;
            }
            if (c != '\n')
                return fail(d, 400);
            d->state = CH_SIZE;
            d->line = 0;
            d->digits = 0;
            break;
        case CH_TRAILER_START:
            if (c == '\r')
                d->state = CH_END_LF;
            else if (c == '\n') {
                d->state = CH_DONE;
                *used = i + 1;
                return HTTP_CHUNKED_DONE;
            } else if (c == ' ' || c == '\t' || c == ':' || c < ' ' || c == 0x7f)
                return fail(d, 400); /* folding, or no field name */
            else
                d->state = CH_TRAILER;
            break;
        case CH_TRAILER:
            if (c == '\r')
                d->state = CH_TRAILER_LF;
            else if (c == '\n')
                d->state = CH_TRAILER_START;
            else if ((c < ' ' && c != '\t') || c == 0x7f)
                return fail(d, 400);
            break;
        case CH_TRAILER_LF:
            if (c != '\n')
                return fail(d, 400);
            d->state = CH_TRAILER_START;
            break;
        case CH_END_LF:
            if (c != '\n')
                return fail(d, 400);
            d->state = CH_DONE;
            *used = i + 1;
            return HTTP_CHUNKED_DONE;
        }
        if ((d->state == CH_TRAILER || d->state == CH_TRAILER_LF || d->state == CH_TRAILER_START) &&
            d->remaining == 0 && ++d->trailer > MAX_TRAILERS)
            return fail(d, 400);
        i++;
    }
    *used = len;
    return HTTP_CHUNKED_MORE;
}
