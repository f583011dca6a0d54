/*
 * http_internal - what the parser's files share (not part of the API).
 */
#ifndef CHIPD_HTTP_INTERNAL_H
#define CHIPD_HTTP_INTERNAL_H

#include <string.h>

#include "http_parse.h"

/* Records why, returns the status to answer, negated. */
#define FAIL(req, status, why) ((req)->error = (why), -(status))

static inline int lower(int c)
{
    return c >= 'A' && c <= 'Z' ? c + 32 : c;
}

/* Slice equals the string, ignoring ASCII case. */
static inline int slice_ieq(const char *p, size_t n, const char *s)
{
    size_t k = strlen(s);
    if (n != k)
        return 0;
    for (size_t i = 0; i < n; i++)
        if (lower((unsigned char)p[i]) != lower((unsigned char)s[i]))
            return 0;
    return 1;
}

static inline int prefix_ieq(const char *p, size_t n, const char *s)
{
    size_t k = strlen(s);
    return n >= k && slice_ieq(p, k, s);
}

/* http_decode_headers - the headers that matter into req's decoded
 * fields, once the head is complete: 0 or -status. */
int http_decode_headers(struct http_request *req, const struct http_limits *lim);

#endif
