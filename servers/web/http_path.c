/*
 * http_path - percent-decoding and normalisation of request paths, and the
 * byte range of a Range request over a file's size.
 */
#include "http_internal.h"

static int hex_value(int c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    c = lower(c);
    return c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

long http_path_normalize(const char *raw, size_t n, char *out, size_t outsize)
{
    size_t len = 0;
    if (n == 0 || raw[0] != '/')
        return -400;
    /* Decode first, so that "%2e%2e" and "%2f" get the same treatment as
     * the characters they stand for. */
    for (size_t k = 0; k < n; k++) {
        int c = (unsigned char)raw[k];
        if (c == '%') {
            int hi = k + 2 < n ? hex_value((unsigned char)raw[k + 1]) : -1;
            int lo = k + 2 < n ? hex_value((unsigned char)raw[k + 2]) : -1;
            if (hi < 0 || lo < 0 || (hi | lo) == 0)
                return -400;
            c = hi * 16 + lo;
            k += 2;
        } else if (c == 0) {
            return -400;
        }
        if (len + 1 >= outsize)
            return -414;
        out[len++] = (char)c;
    }
    /* Then normalise in place: the write position w never passes the read
     * position r. */
    size_t r = 0, w = 0;
    int dir = 0; /* the last segment asks for a directory: keep a trailing '/' */
    while (r < len) {
        while (r < len && out[r] == '/')
            r++;
        size_t s = r;
        while (r < len && out[r] != '/')
            r++;
        size_t seg = r - s;
        dir = seg == 0 || (seg == 1 && out[s] == '.') || (seg == 2 && out[s] == '.' && out[s + 1] == '.');
        if (seg == 2 && out[s] == '.' && out[s + 1] == '.') {
            if (w == 0)
                return -400; /* above the root */
            while (w > 0 && out[--w] != '/')
                ;
        } else if (seg && !(seg == 1 && out[s] == '.')) {
            out[w++] = '/';
            memmove(out + w, out + s, seg);
            w += seg;
        }
    }
    if (w == 0 || dir)
        out[w++] = '/';
    out[w] = 0;
    return (long)w;
}

int http_range_resolve(const struct http_range *r, uint64_t size, uint64_t *offset,
                       uint64_t *count)
{
    switch (r->kind) {
    case HTTP_RANGE_FROM_TO:
    case HTTP_RANGE_FROM:
        if (r->first >= size)
            return -416;
        *offset = r->first;
        *count = (r->kind == HTTP_RANGE_FROM || r->last >= size ? size - 1 : r->last) - r->first + 1;
        return 0;
    case HTTP_RANGE_SUFFIX:
        if (r->first == 0 || size == 0)
            return -416;
        *count = r->first < size ? r->first : size;
        *offset = size - *count;
        return 0;
    default:
        return 1;
    }
}
