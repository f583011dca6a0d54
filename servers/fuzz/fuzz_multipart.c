/*
 * fuzz_multipart - properties of the multipart/form-data parser on any
 * input (the first line is the boundary, the rest the body): feeding the
 * body at once, byte by byte and in two pieces at every split point gives
 * the same events (part headers, data bytes, part ends) and the same
 * result; *used never exceeds what was given; data slices are non-empty
 * and lie inside the piece given (or inside the parser's delimiter copy,
 * with nothing consumed); MORE consumes everything; at most max_parts parts
 * begin; file names never hold '/', '\' or control characters and are never
 * "." or "..".
 */
#include "multipart.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

static const struct multipart_limits lim = {256, 4};

/* Two streams, so that differently split data compares equal: the data
 * bytes, and the events with the data offset each came at. */
struct log {
    unsigned char *p, *d;
    size_t n, dn, cap;
};

static void put(struct log *l, const void *s, size_t n)
{
    if (l->n + n > l->cap)
        abort();
    memcpy(l->p + l->n, s, n);
    l->n += n;
}

static void event(struct log *l, char c)
{
    put(l, &c, 1);
    put(l, &l->dn, sizeof l->dn);
}

static void check_name(const char *f)
{
    if (strcmp(f, ".") == 0 || strcmp(f, "..") == 0)
        abort();
    for (; *f; f++)
        if (*f == '/' || *f == '\\' || (unsigned char)*f < 0x20 || *f == 0x7f)
            abort();
}

static int run(const char *b, size_t bn, const uint8_t *body, size_t n, size_t cut, size_t step,
               struct log *l)
{
    static struct multipart m;
    size_t pos = 0;
    unsigned parts = 0;
    int rc = MULTIPART_MORE;

    l->n = 0;
    l->dn = 0;
    if (multipart_init(&m, b, bn, &lim) != 0)
        return -1;
    while (pos < n && rc >= 0 && rc != MULTIPART_DONE) {
        size_t avail = pos < cut ? cut - pos : step, off = 0;
        if (avail > n - pos)
            avail = n - pos;
        const char *piece = (const char *)body + pos;
        while (off < avail) {
            size_t used, dlen;
            const char *d;
            rc = multipart_feed(&m, piece + off, avail - off, &used, &d, &dlen);
            if (used > avail - off)
                abort();
            if (rc == MULTIPART_DATA) {
                int in_piece = d >= piece + off && d + dlen <= piece + avail;
                int in_delim = d >= m.delim && d + dlen <= m.delim + m.dlen && used == 0;
                if (dlen == 0 || !(in_piece || in_delim))
                    abort();
                if (l->dn + dlen > l->cap)
                    abort();
                memcpy(l->d + l->dn, d, dlen);
                l->dn += dlen;
            } else if (rc == MULTIPART_PART) {
                if (++parts > lim.max_parts)
                    abort();
                check_name(m.part.filename);
                event(l, 'P');
                put(l, m.part.name, strlen(m.part.name) + 1);
                put(l, m.part.filename, strlen(m.part.filename) + 1);
                put(l, m.part.content_type, strlen(m.part.content_type) + 1);
                put(l, &m.part.has_filename, sizeof m.part.has_filename);
            } else if (rc == MULTIPART_PART_END) {
                event(l, 'E');
            } else if (rc == MULTIPART_MORE && off + used != avail) {
                abort();
            } else if (rc < 0 && rc != -400 && rc != -413) {
                abort();
            }
            off += used;
            if (rc < 0 || rc == MULTIPART_DONE)
                break;
        }
        pos += avail;
    }
    return rc >= 0 ? multipart_finish(&m) : rc;
}

static int same(const struct log *a, const struct log *b)
{
    return a->n == b->n && a->dn == b->dn && !memcmp(a->p, b->p, a->n) &&
           !memcmp(a->d, b->d, a->dn);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const uint8_t *nl = memchr(data, '\n', size < 80 ? size : 80);
    if (nl == NULL)
        return 0;
    const char *b = (const char *)data;
    size_t bn = (size_t)(nl - data);
    const uint8_t *body = nl + 1;
    size_t n = size - bn - 1;
    size_t cap = n + 16 * (sizeof(struct multipart_part) + 16) + 16;
    struct log whole = {malloc(cap), malloc(cap), 0, 0, cap};
    struct log other = {malloc(cap), malloc(cap), 0, 0, cap};
    if (!whole.p || !other.p || !whole.d || !other.d)
        abort();
    int rw = run(b, bn, body, n, n, n, &whole);
    if (whole.dn > n)
        abort();
    int ro = run(b, bn, body, n, 0, 1, &other);
    if (ro != rw || !same(&whole, &other))
        abort();
    size_t step = n <= 600 ? 1 : n / 97;
    for (size_t k = 0; k < n; k += step) {
        ro = run(b, bn, body, n, k, n, &other);
        if (ro != rw || !same(&whole, &other))
            abort();
    }
    free(whole.p);
    free(whole.d);
    free(other.p);
    free(other.d);
    return 0;
}
