/*
 * multipart.c - the delimiter state machine of the multipart/form-data
 * parser (multipart.h). The part headers are parsed in multipart_hdr.c.
 *
 * Finding the delimiter "\r\n--boundary" byte by byte needs no KMP table:
 * '\r' occurs in it only at the start (bchars hold no CR or LF), so after a
 * mismatch the only place a new match can start is the current byte. A
 * partial match at the end of a piece is consumed and remembered in
 * m->match; if the next piece shows it was data, those bytes are handed
 * out from m->delim (they equal its first m->match bytes).
 */
#include <string.h>

#include "multipart.h"
#include "multipart_internal.h"

enum {
    S_PREAMBLE, /* before the first delimiter: ignored */
    S_AFTER,    /* right after a delimiter: "--" or padding + CRLF */
    S_DASH,     /* after the first '-' of "--" */
    S_PAD,      /* transport padding, until CR */
    S_PAD_CR,   /* the CR of the delimiter line: LF next */
    S_HEADERS,  /* part header lines */
    S_DATA,     /* part data */
    S_DONE
};

const struct multipart_limits multipart_default_limits = {1024, 64};

static int bchar(unsigned char c)
{
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
           strchr("'()+_,-./:=? ", c) != NULL;
}

int multipart_init(struct multipart *m, const char *b, size_t n, const struct multipart_limits *lim)
{
    size_t i;

    memset(m, 0, sizeof *m);
    m->state = S_DONE;
    m->error = -400;
    m->why = "bad boundary";
    if (b == NULL || n == 0 || n > MULTIPART_MAX_BOUNDARY || b[n - 1] == ' ')
        return -400;
    for (i = 0; i < n; i++)
        if (b[i] == '\0' || !bchar((unsigned char)b[i]))
            return -400;
    m->lim = lim != NULL ? *lim : multipart_default_limits;
    if (m->lim.max_header > MULTIPART_MAX_HEADER)
        m->lim.max_header = MULTIPART_MAX_HEADER;
    memcpy(m->delim, "\r\n--", 4);
    memcpy(m->delim + 4, b, n);
    m->dlen = 4 + n;
    /* The first delimiter may open the body: as if a CRLF came before. */
    m->match = 2;
    m->state = S_PREAMBLE;
    m->error = 0;
    m->why = NULL;
    return 0;
}

int multipart_finish(const struct multipart *m)
{
    if (m->error != 0)
        return m->error;
    return m->state == S_DONE ? 0 : -400;
}

static int fail(struct multipart *m, int err, const char *why)
{
    m->error = err;
    m->why = why;
    return err;
}

/* The preamble: bytes are dropped until a delimiter is complete. */
static int preamble(struct multipart *m, const char *buf, size_t len, size_t *used)
{
    size_t i;

    for (i = 0; i < len; i++) {
        if (buf[i] != m->delim[m->match])
            m->match = buf[i] == '\r';
        else if (++m->match == m->dlen) {
            m->match = 0;
            m->state = S_AFTER;
            *used = i + 1;
            return -1; /* go on */
        }
    }
    *used = len;
    return MULTIPART_MORE;
}

/* After a delimiter: "--" closes the body, else padding and CRLF lead to
 * the next part's headers. Returns -1 to go on, or a result. */
static int after_delim(struct multipart *m, char c)
{
    switch (m->state) {
    case S_AFTER:
        if (c == '-') {
            m->state = S_DASH;
            return -1;
        }
        m->state = S_PAD;
        return after_delim(m, c);
    case S_DASH:
        if (c != '-')
            return fail(m, -400, "'-' after a delimiter's first '-'");
        m->state = S_DONE;
        return MULTIPART_DONE;
    case S_PAD:
        if (c == ' ' || c == '\t')
            return -1;
        if (c != '\r')
            return fail(m, -400, "delimiter line: text after the boundary");
        m->state = S_PAD_CR;
        return -1;
    default: /* S_PAD_CR */
        if (c != '\n')
            return fail(m, -400, "delimiter line: CR without LF");
        if (m->parts >= m->lim.max_parts)
            return fail(m, -413, "too many parts");
        m->parts++;
        m->hlen = 0;
        m->line = 0;
        m->state = S_HEADERS;
        return -1;
    }
}

/* One header byte; MULTIPART_PART at the blank line ending the block. */
static int header_byte(struct multipart *m, char c)
{
    if (m->hlen >= m->lim.max_header)
        return fail(m, -413, "part headers too long");
    m->hbuf[m->hlen++] = c;
    if (c != '\n')
        return -1;
    if (m->hlen < 2 || m->hbuf[m->hlen - 2] != '\r')
        return fail(m, -400, "part: bare LF in a header");
    if (m->hlen - m->line > 2) {
        m->line = m->hlen; /* a header line: the next one starts here */
        return -1;
    }
    const char *why = NULL;
    int rc = multipart_parse_headers(m, m->hbuf, m->line, &why);
    if (rc < 0)
        return fail(m, rc, why);
    m->state = S_DATA;
    m->match = 0;
    return MULTIPART_PART;
}

/* Part data: runs of bytes that are not the delimiter. */
static int part_data(struct multipart *m, const char *buf, size_t len, size_t *used,
                     const char **data, size_t *datalen)
{
    size_t held = m->match, i;

    for (i = 0; i < len; i++) {
        if (buf[i] == m->delim[m->match]) {
            if (++m->match < m->dlen)
                continue;
            /* The delimiter is complete; it began at i + 1 - (dlen - held). */
            size_t start = i + 1 - (m->dlen - held);
            m->match = 0;
            if (start > 0) { /* the data before it first; it is found again */
                *data = buf;
                *datalen = start;
                *used = start;
                return MULTIPART_DATA;
            }
            m->state = S_AFTER;
            *used = i + 1;
            return MULTIPART_PART_END;
        }
        if (held > 0) {
            /* What the last piece held back was data: hand it out, then
             * look at this piece again from its start. */
            m->match = 0;
            *data = m->delim;
            *datalen = held;
            *used = 0;
            return MULTIPART_DATA;
        }
        m->match = buf[i] == '\r';
    }
    /* The end of the piece: data up to a partial delimiter, which is
     * consumed and held. */
    size_t tail = m->match - held;
    if (len - tail > 0) {
        m->match = held;
        *data = buf;
        *datalen = len - tail;
        *used = len - tail;
        return MULTIPART_DATA;
    }
    *used = len;
    return MULTIPART_MORE;
}

int multipart_feed(struct multipart *m, const char *buf, size_t len, size_t *used,
                   const char **data, size_t *datalen)
{
    size_t i = 0;
    int rc;

    *used = 0;
    *data = NULL;
    *datalen = 0;
    if (m->error != 0)
        return m->error;
    for (;;) {
        switch (m->state) {
        case S_DONE:
            *used = len; /* the epilogue */
            return MULTIPART_DONE;
        case S_PREAMBLE:
            rc = preamble(m, buf + i, len - i, used);
            *used += i;
            if (rc != -1)
                return rc;
            i = *used;
            continue;
        case S_DATA:
            rc = part_data(m, buf + i, len - i, used, data, datalen);
            *used += i;
            return rc;
        default: break;
        }
        if (i == len) {
            *used = len;
            return MULTIPART_MORE;
        }
        char c = buf[i++];
        rc = m->state == S_HEADERS ? header_byte(m, c) : after_delim(m, c);
        if (rc != -1) {
            *used = i;
            return rc;
        }
    }
}
