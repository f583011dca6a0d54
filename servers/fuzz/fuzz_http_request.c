/*
 * fuzz_http_request - properties of http_parse_request on any input, with
 * the default limits and with small ones (so 414 and 431 are reached):
 * - the result is "complete at N" with 0 < N <= len, "need more", or one of
 *   the documented statuses;
 * - every slice of a complete request lies inside the head it reported;
 * - splitting never changes the answer: each prefix either needs more or
 *   gives exactly what the whole buffer gives;
 * - a complete request's path normalises to a clean absolute path or is
 *   refused.
 */
#include "http_parse.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

static const struct http_limits small = {64, 256, 8, 1000};

/* A slice lies inside the head, or is the parser's constant path "/". */
static void inside(const struct http_slice *s, const char *buf, size_t n)
{
    if (!s->p || (s->p >= buf && s->p + s->n <= buf + n))
        return;
    if (!(s->n == 1 && s->p[0] == '/'))
        abort();
}

static int allowed(int rc)
{
    static const int ok[] = {400, 405, 411, 413, 414, 417, 431, 501, 505};
    for (size_t k = 0; k < sizeof ok / sizeof *ok; k++)
        if (rc == -ok[k])
            return 1;
    return rc == HTTP_INCOMPLETE;
}

static int same(const struct http_request *a, const struct http_request *b)
{
    return a->method == b->method && a->nheaders == b->nheaders &&
           a->version_minor == b->version_minor && a->content_length == b->content_length &&
           a->has_content_length == b->has_content_length && a->chunked == b->chunked &&
           a->keep_alive == b->keep_alive && a->range.kind == b->range.kind &&
           a->range.first == b->range.first && a->range.last == b->range.last &&
           a->path.n == b->path.n && a->query.p == b->query.p && a->host.p == b->host.p &&
           a->has_basic_auth == b->has_basic_auth &&
           !strcmp(a->auth_user, b->auth_user) && !strcmp(a->auth_password, b->auth_password);
}

static void check(const char *buf, size_t n, const struct http_limits *lim)
{
    static struct http_request whole, part;
    int rc = http_parse_request(buf, n, lim, &whole);
    if (rc > 0) {
        if ((size_t)rc > n)
            abort();
        for (unsigned k = 0; k < whole.nheaders; k++) {
            inside(&whole.headers[k].name, buf, (size_t)rc);
            inside(&whole.headers[k].value, buf, (size_t)rc);
        }
        const struct http_slice *s[] = {&whole.method_name, &whole.target, &whole.path,
                                        &whole.query, &whole.host, &whole.cookie,
                                        &whole.content_type, &whole.boundary};
        for (size_t k = 0; k < sizeof s / sizeof *s; k++)
            inside(s[k], buf, (size_t)rc);
        char out[20000];
        long m = http_path_normalize(whole.path.p, whole.path.n, out, sizeof out);
        if (m >= 0 && (out[0] != '/' || strstr(out, "//") || strstr(out, "/../") ||
                       strlen(out) != (size_t)m || (m >= 3 && !strcmp(out + m - 3, "/.."))))
            abort();
        if (m < 0 && m != -400 && m != -414)
            abort();
    } else if (!allowed(rc)) {
        abort();
    }
    /* Every split point for short inputs, a sample of them for long ones. */
    size_t step = n <= 600 ? 1 : n / 97;
    for (size_t k = 0; k < n; k += step) {
        int r = http_parse_request(buf, k, lim, &part);
        if (r == HTTP_INCOMPLETE)
            continue;
        if (r != rc || (r > 0 && !same(&whole, &part)))
            abort();
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    check((const char *)data, size, NULL);
    check((const char *)data, size, &small);
    return 0;
}
