/*
 * test_cgi_args.c - CGI_GetArgument (in place, the length respected, empty
 * pairs, no '=', bad percent sequences, NULLs), CGI_UrlEncode/_Ext (every
 * byte class, the size limit), CGI_UrlDecode (in place), and the
 * deprecated CGI_GetFormItem / CGI_GetNextItem.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "cgi.h"

/* Runs CGI_GetArgument over in (length len, -1: strlen) and returns the
 * pairs as "name=value|name=value|". */
static const char *walk(const char *in, long len)
{
    static char buf[512], out[1024];
    char *n, *v;
    rpCgi req;
    int r;

    memset(&req, 0, sizeof req);
    snprintf(buf, sizeof buf, "%s", in);
    req.fArgumentBufferPtr = buf;
    req.fArgumentBufferLength = len < 0 ? (long)strlen(buf) : len;
    out[0] = '\0';
    while ((r = CGI_GetArgument(&n, &v, &req)) == CGI_ARGUMENT_ERR_OK) {
        size_t o = strlen(out);
        snprintf(out + o, sizeof out - o, "%s=%s|", n, v);
    }
    assert_int_equal(r, CGI_ARGUMENT_ERR_NONE);
    assert_true(req.fArgumentBufferLength >= 0);
    return out;
}

static void test_get_argument(void **state)
{
    const struct {
        const char *in;
        long len;
        const char *want;
    } cases[] = {
        {"", -1, ""},
        {"a=1", -1, "a=1|"},
        {"a=1&b=2", -1, "a=1|b=2|"},
        {"name=John+Doe&city=K%C3%B6ln", -1, "name=John Doe|city=K\xC3\xB6ln|"},
        {"a%3Db=c%26d", -1, "a=b=c&d|"},                 /* encoded '=' and '&' stay data */
        {"a=1&&b=2&", -1, "a=1|b=2|"},                   /* empty pairs skipped */
        {"flag&x=", -1, "flag=|x=|"},                    /* no '=': value "" */
        {"=v", -1, "=v|"},                               /* empty name kept */
        {"p=100%&q=%zz&r=%4", -1, "p=100%|q=%zz|r=%4|"}, /* bad % kept */
        {"a=b=c", -1, "a=b=c|"},                         /* value holds the second '=' */
        {"a=1&b=2", 3, "a=1|"},                          /* length ends it, not the NUL */
        {"a=1&b=2", 5, "a=1|b=|"},
        {"a=1&b=2", 0, ""},
    };
    size_t i;

    (void)state;
    for (i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        const char *got = walk(cases[i].in, cases[i].len);
        if (strcmp(got, cases[i].want) != 0)
            fail_msg("case %zu \"%s\": got \"%s\", want \"%s\"", i, cases[i].in, got,
                     cases[i].want);
    }
}

static void test_get_argument_params(void **state)
{
    char buf[] = "a=1", *n, *v;
    rpCgi req;

    (void)state;
    memset(&req, 0, sizeof req);
    req.fArgumentBufferPtr = buf;
    req.fArgumentBufferLength = -1; /* a negative length is "nothing" */
    assert_int_equal(CGI_GetArgument(&n, &v, &req), CGI_ARGUMENT_ERR_NONE);
    req.fArgumentBufferLength = 3;
    assert_int_equal(CGI_GetArgument(NULL, &v, &req), CGI_ARGUMENT_ERR_PARAM);
    assert_int_equal(CGI_GetArgument(&n, NULL, &req), CGI_ARGUMENT_ERR_PARAM);
    assert_int_equal(CGI_GetArgument(&n, &v, NULL), CGI_ARGUMENT_ERR_PARAM);
    req.fArgumentBufferPtr = NULL;
    assert_int_equal(CGI_GetArgument(&n, &v, &req), CGI_ARGUMENT_ERR_NONE);
    /* in place: the pointers are inside the buffer, which moved on */
    req.fArgumentBufferPtr = buf;
    assert_int_equal(CGI_GetArgument(&n, &v, &req), CGI_ARGUMENT_ERR_OK);
    assert_ptr_equal(n, buf);
    assert_ptr_equal(v, buf + 2);
    assert_ptr_equal(req.fArgumentBufferPtr, buf + 3);
    assert_int_equal(req.fArgumentBufferLength, 0);
}

static void test_url_encode(void **state)
{
    const struct {
        const char *in, *want;
    } cases[] = {
        {"", ""},
        {"azAZ09_.-", "azAZ09_.-"},
        {"a b", "a+b"},
        {"a+b&c=d/e?f", "a%2Bb%26c%3Dd%2Fe%3Ff"},
        {"~*'()", "%7E%2A%27%28%29"},
        {"\x01\x7f\xff", "%01%7F%FF"},
        {"K\xC3\xB6ln", "K%C3%B6ln"},
    };
    char out[64], back[64];
    size_t i;

    (void)state;
    for (i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        memset(out, 'X', sizeof out);
        CGI_UrlEncode(out, cases[i].in);
        if (strcmp(out, cases[i].want) != 0)
            fail_msg("encode case %zu: got \"%s\"", i, out);
        CGI_UrlDecode(back, out);
        if (strcmp(back, cases[i].in) != 0)
            fail_msg("round trip case %zu", i);
    }
    /* the worst case fills exactly 3n + 1 */
    assert_int_equal(CGI_UrlEncode_Ext(out, 10, "///"), 9);
    assert_string_equal(out, "%2F%2F%2F");
    assert_int_equal(CGI_UrlEncode_Ext(out, 9, "///"), -1);
    assert_string_equal(out, "");
    assert_int_equal(CGI_UrlEncode_Ext(out, 1, ""), 0);
    assert_int_equal(CGI_UrlEncode_Ext(out, 0, ""), -1);
    assert_int_equal(CGI_UrlEncode_Ext(NULL, 10, "a"), -1);
    assert_int_equal(CGI_UrlEncode_Ext(out, 10, NULL), -1);
    CGI_UrlEncode(NULL, "a"); /* no crash */
    CGI_UrlEncode(out, NULL);
}

static void test_url_decode(void **state)
{
    const struct {
        const char *in, *want;
    } cases[] = {
        {"", ""},
        {"a+b", "a b"},
        {"%41%42", "AB"},
        {"%4a%4A", "JJ"},
        {"%", "%"},
        {"%4", "%4"},
        {"%g1", "%g1"},
        {"100%", "100%"},
        {"%%41", "%A"},
        {"a%2Bb", "a+b"},
        {"%e2%82%ac", "\xe2\x82\xac"},
    };
    char buf[64];
    size_t i;

    (void)state;
    for (i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        snprintf(buf, sizeof buf, "%s", cases[i].in);
        CGI_UrlDecode(buf, buf); /* in place */
        if (strcmp(buf, cases[i].want) != 0)
            fail_msg("decode case %zu \"%s\": got \"%s\"", i, cases[i].in, buf);
    }
    CGI_UrlDecode(NULL, "a");
    CGI_UrlDecode(buf, NULL);
}

static void test_form_items(void **state)
{
    char args[] = "first=a+b&second=%41&third", name[32], value[32], *next;
    FormItem fi = {name, value};

    (void)state;
    CGI_GetFormItem(args, &fi);
    assert_string_equal(name, "first");
    assert_string_equal(value, "a b");
    assert_int_equal(CGI_GetNextItem(args, &next), 0);
    assert_string_equal(next, "second=%41&third");
    CGI_GetFormItem(next, &fi);
    assert_string_equal(name, "second");
    assert_string_equal(value, "A");
    assert_int_equal(CGI_GetNextItem(next, &next), 0);
    CGI_GetFormItem(next, &fi);
    assert_string_equal(name, "third");
    assert_string_equal(value, "");
    assert_int_equal(CGI_GetNextItem(next, &next), -1);
    assert_null(next);
    assert_string_equal(args, "first=a+b&second=%41&third"); /* unchanged */
    assert_int_equal(CGI_GetNextItem(NULL, &next), -1);
    assert_int_equal(CGI_GetNextItem(args, NULL), -1);
    CGI_GetFormItem(NULL, &fi);
    CGI_GetFormItem(args, NULL);
    fi.NamePtr = NULL;
    CGI_GetFormItem(args, &fi);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_get_argument), cmocka_unit_test(test_get_argument_params),
        cmocka_unit_test(test_url_encode),   cmocka_unit_test(test_url_decode),
        cmocka_unit_test(test_form_items),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
