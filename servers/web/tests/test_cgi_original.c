/*
 * test_cgi_original.c - installs the unmodified original-style application
 * of test_cgi_original_app.c, finds its entries through the table as the
 * server will, and runs its callbacks on rpCgi blocks filled by hand as
 * the server will fill them (the HTTP drive comes with the server).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "cgi.h"
#include "cgi_server.h"

int InstallCgiApp(void);

static char host[] = "chip.local", ip[] = "127.0.0.1";

/* The response sink of SSI_Send_Buffer, in memory. */
struct memctx {
    char *buf;
    size_t used;
};

static int mem_write(void *ctx, const char *b, size_t n)
{
    struct memctx *c = ctx;

    memcpy(c->buf + c->used, b, n);
    c->used += n;
    return 0;
}

static int setup(void **state)
{
    (void)state;
    cgi_reset_all();
    assert_int_equal(InstallCgiApp(), 0);
    return 0;
}

/* Looks path/method up and runs the function on req (zeroed, then the
 * "in" fields a server fills). */
static void call(const char *path, int method, char *args, char *cookie, rpCgi *req)
{
    CGI_Entry e;

    memset(req, 0, sizeof *req);
    req->fHttpRequest = method;
    req->fPathPtr = (char *)path;
    req->fHostPtr = host;
    req->fRemoteIPPtr = ip;
    req->fArgumentBufferPtr = args;
    req->fArgumentBufferLength = (long)strlen(args);
    req->fCookieHeader = cookie;
    req->fHttpResponse = CgiHttpNotFound; /* the server's default */
    assert_int_equal(cgi_table_lookup(path, method, &e, NULL), CGI_LOOKUP_FOUND);
    e.CgiFuncPtr(req);
}

static void test_get_and_post(void **state)
{
    char none[] = "", form[] = "note=hello+world&led=1", off[] = "led=0";
    rpCgi req;

    (void)state;
    call("/status", CgiHttpGet, none, NULL, &req);
    assert_int_equal(req.fHttpResponse, CgiHttpOk);
    assert_int_equal(req.fDataType, CGIDataTypeText);
    assert_int_equal(req.fResponseBufferLength, (long)strlen(req.fResponseBufferPtr));
    assert_string_equal(req.fResponseBufferPtr, "led=0 host=chip.local ip=127.0.0.1");

    call("/SetLed", CgiHttpPost, form, NULL, &req); /* case-insensitive */
    assert_int_equal(req.fHttpResponse, CgiHttpRedirect);
    assert_string_equal(req.fResponseBufferPtr, "/main.htm");
    assert_int_equal(req.fArgumentBufferLength, 0); /* consumed */
    call("/status", CgiHttpHead, none, NULL, &req); /* HEAD uses the GET entry */
    assert_string_equal(req.fResponseBufferPtr, "led=1 host=chip.local ip=127.0.0.1");

    /* /setled is POST only, /status GET only: 405 */
    assert_int_equal(cgi_table_lookup("/setled", CgiHttpGet, NULL, NULL), CGI_LOOKUP_METHOD);
    assert_int_equal(cgi_table_lookup("/status", CgiHttpPost, NULL, NULL), CGI_LOOKUP_METHOD);

    call("/setled", CgiHttpPost, off, NULL, &req);
    call("/clear", CgiHttpGet, none, NULL, &req);
    assert_int_equal(req.fHttpResponse, CgiHttpOKNoDoc);
}

static void test_cookies(void **state)
{
    char none[] = "", cookie[] = "lang=de; visits=41; theme=\"dark\"";
    rpCgi req;

    (void)state;
    call("/session", CgiHttpPost, none, cookie, &req); /* CgiHttpAll */
    assert_int_equal(req.fHttpResponse, CgiHttpOk);
    assert_int_equal(req.fDataType, CGIDataTypeHtml);
    assert_string_equal(req.fResponseBufferPtr, "<html><body>visit 42</body></html>");
    assert_int_equal(req.fNumOfSetCookieHeaders, 1);
    assert_non_null(strstr(req.fSetCookieHeaders, "visits=42; Expires="));
    assert_non_null(strstr(req.fSetCookieHeaders, "; Max-Age=3600; Path=/"));
    call("/session", CgiHttpGet, none, NULL, &req);
    assert_string_equal(req.fResponseBufferPtr, "<html><body>visit 1</body></html>");
}

static void test_error_page_ssi_filter(void **state)
{
    RpCgiFuncPtr f = cgi_error_func(404);
    struct ssi_sink sink;
    char out[16];
    size_t tagLen;
    struct memctx ctx;
    SSI_Handler h;
    unsigned long con;
    struct sockaddr_in a;
    rpCgi req;

    (void)state;
    assert_non_null(f);
    assert_null(cgi_error_func(401));
    memset(&req, 0, sizeof req);
    f(&req);
    assert_int_equal(req.fHttpResponse, CgiHttpOk);
    assert_non_null(strstr(req.fResponseBufferPtr, "No such page"));

    /* SSI: the server finds the tag in a filtered page and runs it */
    assert_true(ssi_file_matches(0, "/main.htm"));
    assert_false(ssi_file_matches(1, "/main.htm")); /* filter set for HTTP only */
    h = ssi_find_tag(1, "<!--#led--> tail", 16, &tagLen);
    assert_non_null(h);
    assert_int_equal(tagLen, 11);
    memset(&sink, 0, sizeof sink);
    ctx.buf = out;
    ctx.used = 0;
    sink.write = mem_write;
    sink.ctx = &ctx;
    con = ssi_sink_attach(&sink);
    assert_true(con != 0);
    assert_int_equal(h(con, "<!--#led-->"), SSI_OUTPUT_ENABLE);
    ssi_sink_detach(con);
    assert_int_equal(ctx.used, 3);
    assert_memory_equal(out, "off", 3);

    /* the accept filter */
    memset(&a, 0, sizeof a);
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(0x7f000001);
    assert_true(chipd_accept_allowed(SS_WEB_SERVER, (struct sockaddr *)&a, sizeof a));
    a.sin_addr.s_addr = htonl(0xC0000207);
    assert_false(chipd_accept_allowed(SS_WEB_SERVER, (struct sockaddr *)&a, sizeof a));
    assert_true(chipd_accept_allowed(SS_SSL_WEB_SERVER, (struct sockaddr *)&a, sizeof a));
    assert_int_equal(cgi_upload_enabled(), 1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup(test_get_and_post, setup),
        cmocka_unit_test_setup(test_cookies, setup),
        cmocka_unit_test_setup(test_error_page_ssi_filter, setup),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
