/*
 * test_cgi_cookie.c - CGI_SetCookie (attributes, deletion, expiry date
 * format, header-injection characters refused, the 1024-byte limit over
 * several cookies) and CGI_GetCookie (RFC 6265 headers, RFC 2965 $
 * attributes, quotes, blanks, NULL outputs, oversized header).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "cgi.h"

static rpCgi req;

static int setup(void **state)
{
    (void)state;
    memset(&req, 0, sizeof req);
    return 0;
}

static void test_set_cookie(void **state)
{
    static const unsigned long hour = 3600;
    const struct {
        const char *name, *value, *domain, *path;
        const unsigned long *expires;
        int secure, want;
        const char *prefix; /* the string must start with it */
        const char *suffix; /* ... and end with it */
    } cases[] = {
        {"sid", "abc", NULL, NULL, NULL, 0, CGI_COOKIE_ERR_OK, "sid=abc", "sid=abc"},
        {"sid", "abc", "example.org", "/app", NULL, 1, CGI_COOKIE_ERR_OK,
         "sid=abc; Domain=example.org; Path=/app; Secure", "Secure"},
        {"t", "1", NULL, NULL, &hour, 0, CGI_COOKIE_ERR_OK, "t=1; Expires=", " GMT; Max-Age=3600"},
        {"gone", "", NULL, "/", NULL, 0, CGI_COOKIE_ERR_OK,
         "gone=; Expires=Thu, 01 Jan 1970 00:00:00 GMT; Max-Age=0; Path=/", "Path=/"},
        {"gone2", NULL, NULL, NULL, &hour, 0, CGI_COOKIE_ERR_OK, "gone2=; Expires=Thu", "=0"},
        {NULL, "v", NULL, NULL, NULL, 0, CGI_COOKIE_ERR_PARAM, NULL, NULL},
        {"", "v", NULL, NULL, NULL, 0, CGI_COOKIE_ERR_PARAM, NULL, NULL},
        {"a b", "v", NULL, NULL, NULL, 0, CGI_COOKIE_ERR_PARAM, NULL, NULL},
        {"a=b", "v", NULL, NULL, NULL, 0, CGI_COOKIE_ERR_PARAM, NULL, NULL},
        {"a", "v;Path=/", NULL, NULL, NULL, 0, CGI_COOKIE_ERR_PARAM, NULL, NULL},
        {"a", "v\r\nX-Evil: 1", NULL, NULL, NULL, 0, CGI_COOKIE_ERR_PARAM, NULL, NULL},
        {"a", "v", "d;x", NULL, NULL, 0, CGI_COOKIE_ERR_PARAM, NULL, NULL},
        {"a", "v", NULL, "/p\n", NULL, 0, CGI_COOKIE_ERR_PARAM, NULL, NULL},
        {"a", "a,b", NULL, NULL, NULL, 0, CGI_COOKIE_ERR_PARAM, NULL, NULL},
        {"a", "\"q\"", NULL, NULL, NULL, 0, CGI_COOKIE_ERR_PARAM, NULL, NULL},
    };
    size_t i;

    (void)state;
    for (i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        int before = req.fNumOfSetCookieHeaders, got;
        const char *s;
        got = CGI_SetCookie(cases[i].name, cases[i].value, cases[i].domain, cases[i].expires,
                            cases[i].path, cases[i].secure, &req);
        if (got != cases[i].want)
            fail_msg("case %zu: got %d, want %d", i, got, cases[i].want);
        if (got != CGI_COOKIE_ERR_OK) {
            assert_int_equal(req.fNumOfSetCookieHeaders, before);
            continue;
        }
        assert_int_equal(req.fNumOfSetCookieHeaders, before + 1);
        assert_ptr_equal(req.fSetCookieHeaders, req.fSetCookieBuffer);
        /* the new string is the last one */
        for (s = req.fSetCookieBuffer; before > 0; before--)
            s += strlen(s) + 1;
        if (strncmp(s, cases[i].prefix, strlen(cases[i].prefix)) != 0 ||
            strlen(s) < strlen(cases[i].suffix) ||
            strcmp(s + strlen(s) - strlen(cases[i].suffix), cases[i].suffix) != 0)
            fail_msg("case %zu: \"%s\"", i, s);
    }
    assert_int_equal(CGI_SetCookie("a", "b", NULL, NULL, NULL, 0, NULL), CGI_COOKIE_ERR_PARAM);
}

static void test_expires_format(void **state)
{
    static const unsigned long day = 86400;
    const char *s, *d;

    (void)state;
    assert_int_equal(CGI_SetCookie("e", "1", NULL, &day, NULL, 0, &req), CGI_COOKIE_ERR_OK);
    s = req.fSetCookieBuffer;
    d = strstr(s, "Expires=");
    assert_non_null(d);
    d += 8; /* "Www, DD Mon YYYY HH:MM:SS GMT" */
    assert_int_equal(strcspn(d, ";"), 29);
    assert_int_equal(d[3], ',');
    assert_memory_equal(d + 25, " GMT", 4);
}

static void test_set_cookie_limit(void **state)
{
    char value[600];
    int used = 0;

    (void)state;
    memset(value, 'v', sizeof value - 1);
    value[sizeof value - 1] = '\0';
    /* "a=" + 599 + NUL = 602; a second one would make 1204 > 1024 */
    assert_int_equal(CGI_SetCookie("a", value, NULL, NULL, NULL, 0, &req), CGI_COOKIE_ERR_OK);
    assert_int_equal(CGI_SetCookie("b", value, NULL, NULL, NULL, 0, &req), CGI_COOKIE_ERR_SIZE);
    assert_int_equal(req.fNumOfSetCookieHeaders, 1);
    /* one byte over: 602 + "b=" + 420 + NUL = 1025 */
    value[420] = '\0';
    assert_int_equal(CGI_SetCookie("b", value, NULL, NULL, NULL, 0, &req), CGI_COOKIE_ERR_SIZE);
    /* exactly to the limit: 602 + "b=" + 419 + NUL = 1024 */
    value[419] = '\0';
    assert_int_equal(CGI_SetCookie("b", value, NULL, NULL, NULL, 0, &req), CGI_COOKIE_ERR_OK);
    assert_int_equal(CGI_SetCookie("c", "", NULL, NULL, NULL, 0, &req), CGI_COOKIE_ERR_SIZE);
    used = (int)strlen(req.fSetCookieBuffer) + 1;
    used += (int)strlen(req.fSetCookieBuffer + used) + 1;
    assert_int_equal(used, CGI_MAX_COOKIE_SIZE);
    /* one string alone over the limit */
    setup(NULL);
    {
        char big[CGI_MAX_COOKIE_SIZE + 8];
        memset(big, 'x', sizeof big - 1);
        big[sizeof big - 1] = '\0';
        assert_int_equal(CGI_SetCookie("a", big, NULL, NULL, NULL, 0, &req), CGI_COOKIE_ERR_SIZE);
        assert_int_equal(req.fNumOfSetCookieHeaders, 0);
    }
}

/* Every cookie of header as "name=value[domain,path,port,version]|". */
static const char *all_cookies(const char *header)
{
    static char buf[2048], out[2048];
    char *n, *v, *d, *p, *po, *ve;
    int r;

    snprintf(buf, sizeof buf, "%s", header);
    req.fCookieHeader = buf;
    out[0] = '\0';
    while ((r = CGI_GetCookie(&n, &v, &d, &p, &po, &ve, &req)) == CGI_COOKIE_ERR_OK) {
        size_t o = strlen(out);
        snprintf(out + o, sizeof out - o, "%s=%s[%s,%s,%s,%s]|", n, v, d ? d : "-", p ? p : "-",
                 po ? po : "-", ve ? ve : "-");
    }
    assert_int_equal(r, CGI_COOKIE_ERR_NONE);
    return out;
}

static void test_get_cookie(void **state)
{
    const struct {
        const char *header, *want;
    } cases[] = {
        {"", ""},
        {"a=1", "a=1[-,-,-,-]|"},
        {"a=1; b=2", "a=1[-,-,-,-]|b=2[-,-,-,-]|"},
        {"  a = 1 ;b=\"two\";  ", "a=1[-,-,-,-]|b=two[-,-,-,-]|"},
        {"a=", "a=[-,-,-,-]|"},
        {"flag; x=1", "flag=[-,-,-,-]|x=1[-,-,-,-]|"},
        {"=nameless; y=2", "y=2[-,-,-,-]|"},
        {"a=\"", "a=\"[-,-,-,-]|"},
        {"$Version=\"1\"; c=3; $Path=\"/p\"; $Domain=.ex.org; $Port=\"80\"; d=4",
         "c=3[.ex.org,/p,80,1]|d=4[-,-,-,-]|"},
        {"$Path=/orphan; e=5", "e=5[-,-,-,-]|"},
        {"$Version=1; f=6; $Version=1; g=7", "f=6[-,-,-,1]|g=7[-,-,-,1]|"},
        {"h=8; $Unknown=z; i=9", "h=8[-,-,-,-]|i=9[-,-,-,-]|"},
    };
    size_t i;

    (void)state;
    for (i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        const char *got = all_cookies(cases[i].header);
        if (strcmp(got, cases[i].want) != 0)
            fail_msg("case %zu \"%s\": got \"%s\", want \"%s\"", i, cases[i].header, got,
                     cases[i].want);
    }
}

static void test_get_cookie_params(void **state)
{
    char buf[CGI_MAX_COOKIE_SIZE + 2], *n, *v;

    (void)state;
    assert_int_equal(CGI_GetCookie(&n, &v, NULL, NULL, NULL, NULL, &req), CGI_COOKIE_ERR_NONE);
    strcpy(buf, "a=1");
    req.fCookieHeader = buf;
    assert_int_equal(CGI_GetCookie(NULL, &v, NULL, NULL, NULL, NULL, &req), CGI_COOKIE_ERR_PARAM);
    assert_int_equal(CGI_GetCookie(&n, NULL, NULL, NULL, NULL, NULL, &req), CGI_COOKIE_ERR_PARAM);
    assert_int_equal(CGI_GetCookie(&n, &v, NULL, NULL, NULL, NULL, NULL), CGI_COOKIE_ERR_PARAM);
    assert_int_equal(CGI_GetCookie(&n, &v, NULL, NULL, NULL, NULL, &req), CGI_COOKIE_ERR_OK);
    assert_string_equal(n, "a");
    assert_int_equal(CGI_GetCookie(&n, &v, NULL, NULL, NULL, NULL, &req), CGI_COOKIE_ERR_NONE);
    /* 1024 bytes parse, 1025 do not */
    memset(buf, 'x', CGI_MAX_COOKIE_SIZE);
    buf[0] = 'k';
    buf[1] = '=';
    buf[CGI_MAX_COOKIE_SIZE] = '\0';
    req.fCookieHeader = buf;
    assert_int_equal(CGI_GetCookie(&n, &v, NULL, NULL, NULL, NULL, &req), CGI_COOKIE_ERR_OK);
    memset(buf, 'x', CGI_MAX_COOKIE_SIZE + 1);
    buf[1] = '=';
    buf[CGI_MAX_COOKIE_SIZE + 1] = '\0';
    req.fCookieHeader = buf;
    assert_int_equal(CGI_GetCookie(&n, &v, NULL, NULL, NULL, NULL, &req), CGI_COOKIE_ERR_SIZE);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup(test_set_cookie, setup),
        cmocka_unit_test_setup(test_expires_format, setup),
        cmocka_unit_test_setup(test_set_cookie_limit, setup),
        cmocka_unit_test_setup(test_get_cookie, setup),
        cmocka_unit_test_setup(test_get_cookie_params, setup),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
