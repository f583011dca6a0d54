/*
 * fuzz_http_chunked - properties of http_chunked_decode on any input:
 * decoding the input at once, byte by byte, and in two parts at every split
 * point gives the same body, the same end (where DONE came) and the same
 * error; used never exceeds what was given and data lies inside the input.
 */
#include "http_parse.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

struct result {
    int rc;
    size_t end;        /* input offset after the last byte consumed */
    size_t body;       /* body bytes */
    unsigned char *out;
};

/* Feeds buf in pieces: the first of length cut, then pieces of at most step. */
static void run(const uint8_t *buf, size_t n, size_t cut, size_t step, struct result *r)
{
    struct http_chunked d;
    http_chunked_init(&d, 1 << 20);
    r->body = 0;
    size_t pos = 0;
    int rc = HTTP_CHUNKED_MORE;
    while (pos < n) {
        size_t avail = pos < cut ? cut - pos : step;
        if (avail > n - pos)
            avail = n - pos;
        size_t off = 0;
        while (off < avail) {
            size_t used;
            const char *data;
            size_t dlen;
            rc = http_chunked_decode(&d, (const char *)buf + pos + off, avail - off, &used, &data,
                                     &dlen);
            if (used > avail - off)
                abort();
            if (rc == HTTP_CHUNKED_DATA) {
                if (data < (const char *)buf + pos + off || data + dlen > (const char *)buf + pos + avail)
                    abort();
                memcpy(r->out + r->body, data, dlen);
                r->body += dlen;
            }
            off += used;
            if (rc < 0 || rc == HTTP_CHUNKED_DONE)
                break;
            if (rc == HTTP_CHUNKED_MORE && off != avail)
                abort();
        }
        pos += off;
        if (rc < 0 || rc == HTTP_CHUNKED_DONE)
            break;
    }
    if (rc != HTTP_CHUNKED_MORE && rc != HTTP_CHUNKED_DONE && rc != -400 && rc != -413 &&
        rc != HTTP_CHUNKED_DATA)
        abort();
    r->rc = rc == HTTP_CHUNKED_DATA ? HTTP_CHUNKED_MORE : rc;
    r->end = pos;
}

static int equal(const struct result *a, const struct result *b)
{
    /* An error is reported where it is seen: the end offsets may differ by
     * the unconsumed rest, but status and body must agree. */
    return a->rc == b->rc && a->body == b->body && !memcmp(a->out, b->out, a->body) &&
           (a->rc != HTTP_CHUNKED_DONE || a->end == b->end);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct result whole, other;
    whole.out = malloc(size + 1);
    other.out = malloc(size + 1);
    if (!whole.out || !other.out)
        abort();
    run(data, size, size, size, &whole);
    if (whole.body > size)
        abort();
    run(data, size, 0, 1, &other);
    if (!equal(&whole, &other))
        abort();
    size_t step = size <= 600 ? 1 : size / 97;
    for (size_t k = 0; k < size; k += step) {
        run(data, size, k, size, &other);
        if (!equal(&whole, &other))
            abort();
    }
    free(whole.out);
    free(other.out);
    return 0;
}
