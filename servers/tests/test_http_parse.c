/*
 * test_http_parse - the HTTP request parser, the chunked decoder and the
 * path normalisation, by tables of cases. Every case is also fed byte by
 * byte and in random pieces: the answer must not depend on the split.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "http_parse.h"

#define DONE 0 /* expected: complete, at the end of the head (the "|" mark or the end) */

struct rcase {
    const char *text; /* a '|' marks where the head ends when a body follows */
    int expect;       /* DONE, HTTP_INCOMPLETE or -status */
};

static const struct rcase cases[] = {
    {"GET / HTTP/1.1\r\nHost: a\r\n\r\n", DONE},
    {"GET / HTTP/1.0\r\n\r\n", DONE},
    {"GET / HTTP/1.1\nHost: a\n\n", DONE},                       /* bare LF */
    {"\r\n\r\nGET / HTTP/1.1\r\nHost: a\r\n\r\n", DONE},         /* leading empty lines */
    {"HEAD /x?y HTTP/1.1\r\nHost: a\r\n\r\n", DONE},
    {"POST /c HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\n\r\n|abc", DONE},
    {"POST /c HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n|0\r\n\r\n", DONE},
    {"GET / HTTP/1.1\r\nHost: a\r\n\r\n|GET /b HTTP/1.1\r\n", DONE}, /* pipelined */
    {"GET / HTTP/1.2\r\nHost: a\r\n\r\n", DONE},                 /* 1.x answers as 1.1 */
    {"GET http://h/p HTTP/1.1\r\nHost: x\r\n\r\n", DONE},
    {"GET / HTTP/1.1\r\nHost: a\r\nX-Empty:\r\nX-Obs: \xe9t\xe9\r\n\r\n", DONE},
    {"GET / HTTP/1.1\r\nHost: a\r\nContent-Length: 5, 5\r\n\r\n|abcde", DONE},
    {"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 2\r\ncontent-length: 2\r\n\r\n|ab", DONE},
    {"GET / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: ,chunked,\r\n\r\n|0\r\n\r\n", DONE},
    {"GET / HTTP/1.1\r\nHost: a\r\n", HTTP_INCOMPLETE},
    {"GET / HTTP/1.1\r\nHost: a\r\n\r", HTTP_INCOMPLETE},
    {"", HTTP_INCOMPLETE},
    /* 400: malformed request line or header */
    {"GET  / HTTP/1.1\r\n\r\n", -400},
    {" GET / HTTP/1.1\r\n\r\n", -400},
    {"GET / HTTP/1.1 \r\n\r\n", -400},
    {"GET /\r\n\r\n", -400},                                    /* HTTP/0.9 */
    {"GET / http/1.1\r\n\r\n", -400},
    {"GET / HTTP/1.1\r\r\n\r\n", -400},
    {"GET / HTTP/11\r\n\r\n", -400},
    {"GET a HTTP/1.1\r\nHost: a\r\n\r\n", -400},                /* not a path */
    {"GET * HTTP/1.1\r\nHost: a\r\n\r\n", -400},
    {"GET /a#f HTTP/1.1\r\nHost: a\r\n\r\n", -400},
    {"GET /\x01 HTTP/1.1\r\n\r\n", -400},
    {"GET /\xc3\xa9 HTTP/1.1\r\n\r\n", -400},                   /* raw non-ASCII target */
    {"GET http:/// HTTP/1.1\r\nHost: a\r\n\r\n", -400},
    {"GET / HTTP/1.1\r\nHost : a\r\n\r\n", -400},               /* space before ':' */
    {"GET / HTTP/1.1\r\nHost: a\r\n b\r\n\r\n", -400},          /* obsolete folding */
    {"GET / HTTP/1.1\r\n Host: a\r\n\r\n", -400},
    {"GET / HTTP/1.1\r\n: a\r\nHost: a\r\n\r\n", -400},
    {"GET / HTTP/1.1\r\nHost a\r\n\r\n", -400},
    {"GET / HTTP/1.1\r\nHost: a\x01\r\n\r\n", -400},
    {"GET / HTTP/1.1\r\nHost: a\x7f\r\n\r\n", -400},
    {"GET / HTTP/1.1\r\nHost: a\rb\r\n\r\n", -400},
    {"GET / HTTP/1.1\r\n\r\n", -400},                           /* no Host */
    {"GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n", -400},
    {"GET / HTTP/1.1\r\nHost: evil.example/x\r\n\r\n", -400},
    {"GET / HTTP/1.1\r\nHost: a b\r\n\r\n", -400},
    {"GET / HTTP/1.1\r\nHost: u@h\r\n\r\n", -400},
    {"GET / HTTP/1.1\r\nHost: [::1]:8443\r\n\r\n", DONE},
    {"GET / HTTP/1.1\r\nHost:\r\n\r\n", DONE}, /* empty: allowed (RFC 9112 3.2) */
    {"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 1x\r\n\r\n", -400},
    {"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: -1\r\n\r\n", -400},
    {"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: \r\n\r\n", -400},
    {"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 99999999999999999999999\r\n\r\n", -400},
    {"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\nContent-Length: 4\r\n\r\n", -400},
    {"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 3, 4\r\n\r\n", -400},
    {"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\nContent-Length: 3\r\n\r\n", -400},
    {"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked, chunked\r\n\r\n", -400},
    {"POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n", -400},
    /* an empty Transfer-Encoding names no coding: not ignored for the Content-Length */
    {"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding:\r\nContent-Length: 3\r\n\r\n", -400},
    {"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: , \r\nContent-Length: 3\r\n\r\n", -400},
    {"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\nTransfer-Encoding:\r\n\r\n", -400},
    /* the authority of an absolute-form target is held to the rules of Host */
    {"GET http://u@h/ HTTP/1.1\r\nHost: h\r\n\r\n", -400},
    {"GET http://h\"x/ HTTP/1.1\r\nHost: h\r\n\r\n", -400},
    {"GET / HTTP/1.1\r\nHost: a\r\nAuthorization: Basic !!!!\r\n\r\n", -400},
    {"GET / HTTP/1.1\r\nHost: a\r\nAuthorization: Basic dXNlcg==\r\n\r\n", -400}, /* no ':' */
    /* 405, 501: methods */
    {"PUT / HTTP/1.1\r\nHost: a\r\n\r\n", -405},
    {"DELETE / HTTP/1.1\r\nHost: a\r\n\r\n", -405},
    {"OPTIONS * HTTP/1.1\r\nHost: a\r\n\r\n", -405},
    {"BREW / HTTP/1.1\r\nHost: a\r\n\r\n", -501},
    {"get / HTTP/1.1\r\nHost: a\r\n\r\n", -501},                /* methods are case-sensitive */
    /* 411, 413, 417 */
    {"POST / HTTP/1.1\r\nHost: a\r\n\r\n", -411},
    {"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 1048577\r\n\r\n", -413},
    {"GET / HTTP/1.1\r\nHost: a\r\nExpect: tea\r\n\r\n", -417},
    /* 501: transfer codings */
    {"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: gzip\r\n\r\n", -501},
    {"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: gzip, chunked\r\n\r\n", -501},
    /* 505 */
    {"GET / HTTP/2.0\r\n\r\n", -505},
    {"GET / HTTP/0.9\r\n\r\n", -505},
};

/* The limits of the tests below: small, so 414 and 431 are cheap to reach. */
static const struct http_limits lim = {64, 256, 4, 1048576};

static const struct rcase limit_cases[] = {
    {"GET /aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa HTTP/1.1\r\nHost: a\r\n\r\n", DONE}, /* request line of 64 bytes */
    {"GET /aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa HTTP/1.1\r\nHost: a\r\n\r\n", -414}, /* 65 */
    {"GET /aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", -414},
    {"GET / HTTP/1.1\r\nHost: a\r\nA: 1\r\nB: 2\r\nC: 3\r\n\r\n", DONE},
    {"GET / HTTP/1.1\r\nHost: a\r\nA: 1\r\nB: 2\r\nC: 3\r\nD: 4\r\n\r\n", -431},
    {"GET / HTTP/1.1\r\nHost: a\r\nX: "
     "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb"
     "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb"
     "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb",
     -431},
};

/* Strips the '|' mark: returns the text's length, *head where the head ends. */
static size_t prepare(const char *text, char *buf, size_t *head)
{
    size_t n = 0;
    *head = 0;
    for (const char *p = text; *p; p++) {
        if (*p == '|')
            *head = n;
        else
            buf[n++] = *p;
    }
    if (!*head)
        *head = n;
    return n;
}

/* Feeds buf in growing prefixes (the next length from the step function)
 * until the answer is not "need more"; returns that answer. */
static int feed(const char *buf, size_t n, const struct http_limits *l, unsigned seed,
                struct http_request *req)
{
    size_t k = 0;
    for (;;) {
        size_t step = seed ? 1 + (size_t)rand_r(&seed) % 7 : 1;
        k = k + step > n ? n : k + step;
        int rc = http_parse_request(buf, k, l, req);
        if (rc != HTTP_INCOMPLETE || k == n)
            return rc;
    }
}

static void run_cases(const struct rcase *c, size_t count, const struct http_limits *l)
{
    static struct http_request whole, part;
    char buf[2048];
    for (size_t i = 0; i < count; i++) {
        size_t head, n = prepare(c[i].text, buf, &head);
        int expect = c[i].expect == DONE ? (int)head : c[i].expect;
        int rc = http_parse_request(buf, n, l, &whole);
        if (rc != expect)
            fail_msg("case %zu \"%s\": %d, expected %d (%s)", i, c[i].text, rc, expect,
                     whole.error ? whole.error : "");
        for (unsigned seed = 0; seed < 20; seed++) {
            int r = feed(buf, n, l, seed, &part);
            if (r != rc)
                fail_msg("case %zu split %u: %d, whole gives %d", i, seed, r, rc);
            if (r > 0)
                assert_int_equal(part.nheaders, whole.nheaders);
        }
    }
}

static void test_table(void **state)
{
    (void)state;
    run_cases(cases, sizeof cases / sizeof *cases, NULL);
}

static void test_limits(void **state)
{
    (void)state;
    run_cases(limit_cases, sizeof limit_cases / sizeof *limit_cases, &lim);
}

static int slice_is(struct http_slice s, const char *text)
{
    return s.p && s.n == strlen(text) && !memcmp(s.p, text, s.n);
}

static void test_fields(void **state)
{
    (void)state;
    static struct http_request r;
    const char *t = "GET /dir/a%20b.htm?x=1&y=2 HTTP/1.1\r\n"
                    "Host: example.com:8080\r\nUser-Agent: t/1\r\nReferer: http://x/\r\n"
                    "Cookie: a=b; c=d\r\nConnection: close\r\n"
                    "If-Modified-Since: Sun, 06 Nov 1994 08:49:37 GMT\r\n"
                    "Range: bytes=10-20\r\nAuthorization: Basic dXNlcjpwOmFzcw==\r\n"
                    "X-Trailing:   spaced value \t \r\n\r\n";
    assert_int_equal(http_parse_request(t, strlen(t), NULL, &r), (int)strlen(t));
    assert_int_equal(r.method, HTTP_GET);
    assert_true(slice_is(r.path, "/dir/a%20b.htm"));
    assert_true(slice_is(r.query, "x=1&y=2"));
    assert_true(slice_is(r.host, "example.com:8080"));
    assert_true(slice_is(r.user_agent, "t/1"));
    assert_true(slice_is(r.referer, "http://x/"));
    assert_true(slice_is(r.cookie, "a=b; c=d"));
    assert_int_equal(r.keep_alive, 0);
    assert_true(r.has_if_modified_since);
    assert_int_equal((long long)r.if_modified_since, 784111777LL);
    assert_int_equal(r.range.kind, HTTP_RANGE_FROM_TO);
    assert_int_equal(r.range.first, 10);
    assert_int_equal(r.range.last, 20);
    assert_true(r.has_basic_auth);
    assert_string_equal(r.auth_user, "user");
    assert_string_equal(r.auth_password, "p:ass");
    assert_true(slice_is(http_header_find(&r, "x-trailing")->value, "spaced value"));
    assert_null(http_header_find(&r, "x-missing"));
}

static void test_decoded(void **state)
{
    (void)state;
    static struct http_request r;
    const char *t = "POST http://h:1/up HTTP/1.1\r\nHost: other\r\nTransfer-Encoding: Chunked\r\n"
                    "Content-Type: multipart/form-data; charset=x; boundary=\"--b q\"\r\n"
                    "Expect: 100-continue\r\n"
                    "If-Modified-Since: Sunday, 06-Nov-94 08:49:37 GMT\r\n\r\n";
    assert_true(http_parse_request(t, strlen(t), NULL, &r) > 0);
    assert_int_equal(r.method, HTTP_POST);
    assert_true(slice_is(r.host, "h:1"));
    assert_true(slice_is(r.path, "/up"));
    assert_null(r.query.p);
    assert_true(r.chunked);
    assert_true(r.keep_alive);
    assert_true(r.expect_continue);
    assert_true(slice_is(r.boundary, "--b q"));
    assert_int_equal((long long)r.if_modified_since, 784111777LL);

    const char *u = "HEAD http://h?q HTTP/1.0\r\nConnection: Keep-Alive\r\nExpect: 100-continue\r\n"
                    "If-Modified-Since: Sun Nov  6 08:49:37 1994\r\n"
                    "Content-Type: multipart/form-data; boundary=abc; x=y\r\n"
                    "Range: bytes=-5\r\n\r\n";
    assert_true(http_parse_request(u, strlen(u), NULL, &r) > 0);
    assert_int_equal(r.method, HTTP_HEAD);
    assert_int_equal(r.version_minor, 0);
    assert_true(slice_is(r.path, "/"));
    assert_true(slice_is(r.query, "q"));
    assert_true(r.keep_alive);
    assert_false(r.expect_continue); /* an HTTP/1.0 client does not wait for 100 */
    assert_int_equal((long long)r.if_modified_since, 784111777LL);
    assert_true(slice_is(r.boundary, "abc"));
    assert_int_equal(r.range.kind, HTTP_RANGE_SUFFIX);
    assert_int_equal(r.range.first, 5);

    /* HTTP/1.0 closes by default; a bad date or an odd Range are ignored. */
    const char *v = "GET / HTTP/1.0\r\nIf-Modified-Since: yesterday\r\nRange: bytes=1-2,5-6\r\n"
                    "Content-Type: text/plain; boundary=x\r\n\r\n";
    assert_true(http_parse_request(v, strlen(v), NULL, &r) > 0);
    assert_false(r.keep_alive);
    assert_false(r.has_if_modified_since);
    assert_int_equal(r.range.kind, HTTP_RANGE_NONE);
    assert_null(r.boundary.p);
    assert_int_equal(r.if_range, 0);

    /* If-Range: a date, or anything else (an entity tag: never matches). */
    const char *w = "GET / HTTP/1.1\r\nHost: a\r\nIf-Range: Sun, 06 Nov 1994 08:49:37 GMT\r\n"
                    "Range: bytes=0-1\r\n\r\n";
    assert_true(http_parse_request(w, strlen(w), NULL, &r) > 0);
    assert_int_equal(r.if_range, 1);
    assert_int_equal((long long)r.if_range_date, 784111777LL);
    const char *x = "GET / HTTP/1.1\r\nHost: a\r\nIf-Range: \"abc\"\r\nRange: bytes=0-1\r\n\r\n";
    assert_true(http_parse_request(x, strlen(x), NULL, &r) > 0);
    assert_int_equal(r.if_range, -1);
}

static void test_range(void **state)
{
    (void)state;
    static const struct {
        const char *value;
        uint64_t size;
        int rc;
        uint64_t off, count;
    } t[] = {
        {"bytes=0-0", 10, 0, 0, 1},     {"bytes=2-", 10, 0, 2, 8},
        {"bytes=5-100", 10, 0, 5, 5},   {"bytes=-3", 10, 0, 7, 3},
        {"bytes=-30", 10, 0, 0, 10},    {"bytes=10-", 10, -416, 0, 0},
        {"bytes=10-12", 10, -416, 0, 0}, {"bytes=-0", 10, -416, 0, 0},
        {"bytes=-1", 0, -416, 0, 0},    {"bytes=3-2", 10, 1, 0, 0},
        {"items=1-2", 10, 1, 0, 0},     {"bytes=1-2,4-5", 10, 1, 0, 0},
        {"bytes=a-b", 10, 1, 0, 0},     {"BYTES=1-1", 10, 0, 1, 1},
    };
    char buf[256];
    static struct http_request r;
    for (size_t i = 0; i < sizeof t / sizeof *t; i++) {
        int n = snprintf(buf, sizeof buf, "GET / HTTP/1.1\r\nHost: a\r\nRange: %s\r\n\r\n", t[i].value);
        assert_int_equal(http_parse_request(buf, (size_t)n, NULL, &r), n);
        uint64_t off = 0, count = 0;
        int rc = http_range_resolve(&r.range, t[i].size, &off, &count);
        if (rc != t[i].rc || (rc == 0 && (off != t[i].off || count != t[i].count)))
            fail_msg("%s of %llu: %d %llu+%llu", t[i].value, (unsigned long long)t[i].size, rc,
                     (unsigned long long)off, (unsigned long long)count);
    }
}

static void test_paths(void **state)
{
    (void)state;
    static const struct {
        const char *raw, *out;
        long rc; /* 0: success with out */
    } t[] = {
        {"/", "/", 0},
        {"/a/b.htm", "/a/b.htm", 0},
        {"/a%20b", "/a b", 0},
        {"/a%2Fb", "/a/b", 0},
        {"//a///b//", "/a/b/", 0},
        {"/a/./b/.", "/a/b/", 0},
        {"/a/../b", "/b", 0},
        {"/a/b/..", "/a/", 0},
        {"/a/%2e%2E/b", "/b", 0},
        {"/%41%62", "/Ab", 0},
        {"/..", NULL, -400},
        {"/../etc/passwd", NULL, -400},
        {"/a/../../etc", NULL, -400},
        {"/%2e%2e/etc", NULL, -400},
        {"/%2E%2e%2fetc", NULL, -400},
        {"/a/%2e%2e%2f%2e%2e/x", NULL, -400},
        {"/%zz", NULL, -400},
        {"/%4", NULL, -400},
        {"/%", NULL, -400},
        {"/%00", NULL, -400},
        {"a/b", NULL, -400},
        {"", NULL, -400},
    };
    char out[64];
    for (size_t i = 0; i < sizeof t / sizeof *t; i++) {
        long rc = http_path_normalize(t[i].raw, strlen(t[i].raw), out, sizeof out);
        if (t[i].rc)
            assert_int_equal(rc, t[i].rc);
        else if (rc < 0 || strcmp(out, t[i].out) || (size_t)rc != strlen(t[i].out))
            fail_msg("%s: %ld \"%s\", expected \"%s\"", t[i].raw, rc, rc >= 0 ? out : "", t[i].out);
    }
    char tiny[4];
    assert_int_equal(http_path_normalize("/abcd", 5, tiny, sizeof tiny), -414);
    assert_int_equal(http_path_normalize("/abc", 4, tiny, sizeof tiny), -414); /* no room for NUL */
    assert_int_equal(http_path_normalize("/ab", 3, tiny, sizeof tiny), 3);
}

/* Decodes text in pieces of at most step bytes; returns the final code,
 * the body in body, and in *end where the body's encoding ended. */
static int dechunk(const char *text, size_t n, size_t step, char *body, size_t *blen, size_t *end,
                   uint64_t max)
{
    struct http_chunked d;
    http_chunked_init(&d, max);
    size_t pos = 0;
    int rc = HTTP_CHUNKED_MORE;
    *blen = 0;
    while (pos < n) {
        size_t piece = n - pos < step ? n - pos : step, used;
        const char *data;
        size_t dl;
        rc = http_chunked_decode(&d, text + pos, piece, &used, &data, &dl);
        if (rc == HTTP_CHUNKED_DATA) {
            memcpy(body + *blen, data, dl);
            *blen += dl;
        }
        pos += used;
        if (rc < 0 || rc == HTTP_CHUNKED_DONE)
            break;
    }
    *end = pos;
    return rc == HTTP_CHUNKED_DATA ? HTTP_CHUNKED_MORE : rc;
}

static void test_chunked(void **state)
{
    (void)state;
    static const struct {
        const char *text, *body;
        int rc;
        size_t end; /* for DONE */
    } t[] = {
        {"5\r\nhello\r\n0\r\n\r\nNEXT", "hello", HTTP_CHUNKED_DONE, 15},
        {"3;ext=1;b\r\nabc\r\nA\r\n0123456789\r\n0\r\nT: 1\r\nU: 2\r\n\r\n", "abc0123456789",
         HTTP_CHUNKED_DONE, 48},
        {"2\nhi\n0\n\n", "hi", HTTP_CHUNKED_DONE, 8},
        {"0004 \r\nwxyz\r\n000\r\n\r\n", "wxyz", HTTP_CHUNKED_DONE, 20},
        {"5\r\nhel", "hel", HTTP_CHUNKED_MORE, 0},
        {"5\r\nhello\r\n", "hello", HTTP_CHUNKED_MORE, 0},
        {"zz\r\n", "", -400, 0},
        {"\r\n", "", -400, 0},
        {"3\r\nabcX\r\n", "abc", -400, 0},
        {"3\r\nabc\r\r", "abc", -400, 0},
        {"1\x01\r\n", "", -400, 0},
        {"1;a\x01\r\n", "", -400, 0},
        {"0\r\n T: folded\r\n\r\n", "", -400, 0},
        {"0\r\nT: 1\rX\r\n", "", -400, 0},
        {"0\r\n\rX", "", -400, 0},
        {"1000000000000000\r\n", "", -413, 0},   /* 16 significant digits */
        {"100001\r\n", "", -413, 0},             /* over the 1 MiB limit */
    };
    char body[128];
    for (size_t i = 0; i < sizeof t / sizeof *t; i++) {
        size_t n = strlen(t[i].text);
        for (size_t step = 1; step <= n; step++) {
            size_t blen, end;
            int rc = dechunk(t[i].text, n, step, body, &blen, &end, 1 << 20);
            if (rc != t[i].rc || blen != strlen(t[i].body) || memcmp(body, t[i].body, blen) ||
                (rc == HTTP_CHUNKED_DONE && end != t[i].end))
                fail_msg("case %zu step %zu: rc %d body %zu end %zu", i, step, rc, blen, end);
        }
    }
    /* After the end, and after an error, the answer stays. */
    struct http_chunked d;
    http_chunked_init(&d, 0);
    size_t used, dl;
    const char *data;
    assert_int_equal(http_chunked_decode(&d, "0\r\n\r\n", 5, &used, &data, &dl), HTTP_CHUNKED_DONE);
    assert_int_equal(http_chunked_decode(&d, "1\r\n", 3, &used, &data, &dl), HTTP_CHUNKED_DONE);
    assert_int_equal(used, 0);
    http_chunked_init(&d, 0);
    assert_int_equal(http_chunked_decode(&d, "x", 1, &used, &data, &dl), -400);
    assert_int_equal(http_chunked_decode(&d, "0\r\n\r\n", 5, &used, &data, &dl), -400);
    /* No limit when max_body is 0. */
    size_t blen, end;
    assert_int_equal(dechunk("100001\r\n", 8, 8, body, &blen, &end, 0), HTTP_CHUNKED_MORE);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_table),   cmocka_unit_test(test_limits),
        cmocka_unit_test(test_fields),  cmocka_unit_test(test_decoded),
        cmocka_unit_test(test_range),   cmocka_unit_test(test_paths),
        cmocka_unit_test(test_chunked),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
