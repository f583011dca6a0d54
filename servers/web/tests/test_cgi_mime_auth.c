/*
 * test_cgi_mime_auth.c - the MIME tables (built-in lookup, application
 * table first, bad tables refused, encoding and headers tables tied to the
 * MIME table's size, header-injection rows refused), the data types, the
 * accounts and secure prefixes (cgi_auth_check: no account = 403, wrong or
 * missing credentials = 401, prefix boundaries, case), the error-page and
 * upload hooks.
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

static int setup(void **state)
{
    (void)state;
    cgi_reset_all();
    return 0;
}

static const char *type_of(const char *path)
{
    struct cgi_mime_info mi;

    cgi_mime_lookup(path, &mi);
    return mi.type;
}

static void test_builtin_mime(void **state)
{
    const struct {
        const char *path, *want;
    } cases[] = {
        {"/index.htm", "text/html; charset=utf-8"},
        {"/a/b/PAGE.HTML", "text/html; charset=utf-8"},
        {"/s.css", "text/css; charset=utf-8"},
        {"/app.js", "text/javascript; charset=utf-8"},
        {"/p.PNG", "image/png"},
        {"/x.svg", "image/svg+xml"},
        {"/f.woff2", "font/woff2"},
        {"/noext", "application/octet-stream"},
        {"/dir.d/noext", "application/octet-stream"},
        {"/trailing.", "application/octet-stream"},
        {"/x.unknown", "application/octet-stream"},
        {"", "application/octet-stream"},
        {NULL, "application/octet-stream"},
    };
    size_t i;

    (void)state;
    for (i = 0; i < sizeof cases / sizeof cases[0]; i++)
        if (strcmp(type_of(cases[i].path), cases[i].want) != 0)
            fail_msg("case %zu: %s", i, type_of(cases[i].path));
    cgi_mime_lookup("/x.htm", NULL); /* no crash */
}

static CUSTOM_MIMETYPES_TABLE mimes[] = {
    {"htm", "text/html; charset=iso-8859-1"},
    {"dat", "application/x-chip-data"},
};
static CUSTOM_CONTENTENCODING_TABLE encs[] = {{NULL}, {"gzip"}};
static CUSTOM_HEADERS_TABLE hdrs[] = {{"Cache-Control: no-store\r\nX-A: 1"}, {""}};

static void test_custom_mime(void **state)
{
    static CUSTOM_MIMETYPES_TABLE badRows[][1] = {
        {{NULL, "a/b"}}, {{"x", NULL}},          {{"", "a/b"}},
        {{"x", ""}},     {{"x", "a/b\r\nX: y"}}, {{"x y", "a/b"}},
    };
    struct cgi_mime_info mi;
    size_t i;

    (void)state;
    assert_int_equal(CGI_Remove_MIME_Table(), -1); /* none installed */
    assert_int_equal(CGI_Install_MIME_Table(2, NULL), -1);
    assert_int_equal(CGI_Install_MIME_Table(0, mimes), -1);
    assert_int_equal(CGI_Install_MIME_Table(4097, mimes), -1);
    for (i = 0; i < sizeof badRows / sizeof badRows[0]; i++)
        if (CGI_Install_MIME_Table(1, badRows[i]) != -1)
            fail_msg("bad row %zu accepted", i);
    /* encoding/headers need a MIME table of the same size */
    assert_int_equal(CGI_Install_ContentEncoding_Table(2, encs), -1);
    assert_int_equal(CGI_Install_Headers_Table(2, hdrs), -1);

    assert_int_equal(CGI_Install_MIME_Table(2, mimes), 0);
    assert_string_equal(type_of("/a.HTM"), "text/html; charset=iso-8859-1"); /* before built-in */
    assert_string_equal(type_of("/a.html"), "text/html; charset=utf-8");     /* built-in still */
    assert_int_equal(CGI_Install_ContentEncoding_Table(1, encs), -1);
    assert_int_equal(CGI_Install_ContentEncoding_Table(2, NULL), -1);
    assert_int_equal(CGI_Install_ContentEncoding_Table(2, encs), 0);
    assert_int_equal(CGI_Install_Headers_Table(3, hdrs), -1);
    assert_int_equal(CGI_Install_Headers_Table(2, hdrs), 0);
    cgi_mime_lookup("/x.dat", &mi);
    assert_string_equal(mi.type, "application/x-chip-data");
    assert_string_equal(mi.encoding, "gzip");
    assert_null(mi.headers); /* "" = none */
    cgi_mime_lookup("/x.htm", &mi);
    assert_null(mi.encoding);
    assert_string_equal(mi.headers, "Cache-Control: no-store\r\nX-A: 1");

    /* same size again: the parallel tables stay; another size: they go */
    assert_int_equal(CGI_Install_MIME_Table(2, mimes), 0);
    cgi_mime_lookup("/x.dat", &mi);
    assert_string_equal(mi.encoding, "gzip");
    assert_int_equal(CGI_Install_MIME_Table(1, mimes), 0);
    cgi_mime_lookup("/x.htm", &mi);
    assert_null(mi.headers);
    assert_string_equal(type_of("/x.dat"), "application/octet-stream");
    assert_int_equal(CGI_Remove_ContentEncoding_Table(), -1);
    assert_int_equal(CGI_Remove_Headers_Table(), -1);

    assert_int_equal(CGI_Install_MIME_Table(2, mimes), 0);
    assert_int_equal(CGI_Install_Headers_Table(2, hdrs), 0);
    assert_int_equal(CGI_Remove_Headers_Table(), 0);
    assert_int_equal(CGI_Install_ContentEncoding_Table(2, encs), 0);
    assert_int_equal(CGI_Remove_MIME_Table(), 0);
    cgi_mime_lookup("/x.dat", &mi);
    assert_string_equal(mi.type, "application/octet-stream");
    assert_null(mi.encoding);
    assert_int_equal(CGI_Remove_ContentEncoding_Table(), -1); /* went with it */
}

static void test_header_rows(void **state)
{
    static CUSTOM_MIMETYPES_TABLE one[] = {{"x", "a/b"}};
    const struct {
        const char *row;
        int want;
    } cases[] = {
        {"X-A: 1", 0},
        {"X-A: 1\r\n", 0},
        {"X-A: 1\r\nX-B:2", 0},
        {"X-A:\tv", 0},
        {"X-A: 1\nX-B: 2", -1},     /* bare LF */
        {"X-A: 1\rX-B: 2", -1},     /* bare CR */
        {"X-A: 1\r\n\r\nbody", -1}, /* empty line: would end the headers */
        {"no colon", -1},
        {": novalue", -1},
        {"Bad Name: v", -1},
        {"X-A: a\x01", -1},
    };
    size_t i;

    (void)state;
    assert_int_equal(CGI_Install_MIME_Table(1, one), 0);
    for (i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        CUSTOM_HEADERS_TABLE h[1] = {{cases[i].row}};
        if (CGI_Install_Headers_Table(1, h) != cases[i].want)
            fail_msg("header row case %zu", i);
    }
    {
        CUSTOM_CONTENTENCODING_TABLE e[1] = {{"gzip\r\nX: 1"}};
        assert_int_equal(CGI_Install_ContentEncoding_Table(1, e), -1);
    }
}

static void test_datatypes(void **state)
{
    (void)state;
    assert_string_equal(cgi_datatype_mime(CGIDataTypeHtml), "text/html; charset=utf-8");
    assert_string_equal(cgi_datatype_mime(CGIDataTypeText), "text/plain; charset=utf-8");
    assert_string_equal(cgi_datatype_mime(CGIDataTypeOctet), "application/octet-stream");
    assert_string_equal(cgi_datatype_mime(CGIDataTypeJson), "application/json");
    assert_string_equal(cgi_datatype_mime(-1), "application/octet-stream");
    assert_string_equal(cgi_datatype_mime(CGIDataTypeCount), "application/octet-stream");
    for (int t = 0; t < CGIDataTypeCount; t++)
        assert_non_null(cgi_datatype_mime(t));
}

static void test_credentials(void **state)
{
    const struct {
        const char *user, *pass;
        int type, idx, want;
    } cases[] = {
        {"up", "secret", CGI_ACCOUNT_UPLOAD, 0, 0},
        {"admin", "s3cret", CGI_ACCOUNT_SECURE, CGI_MAX_ACCOUNTS - 1, 0},
        {"u", "p", 2, 0, -1},
        {"u", "p", -1, 0, -1},
        {"u", "p", CGI_ACCOUNT_UPLOAD, -1, -1},
        {"u", "p", CGI_ACCOUNT_UPLOAD, CGI_MAX_ACCOUNTS, -1},
        {"1234567890123456789", "1234567890123456789", CGI_ACCOUNT_UPLOAD, 1, 0}, /* 19 */
        {"12345678901234567890", "p", CGI_ACCOUNT_UPLOAD, 1, -1},                 /* 20 */
        {"u", "12345678901234567890", CGI_ACCOUNT_UPLOAD, 1, -1},
        {"u:x", "p", CGI_ACCOUNT_UPLOAD, 1, -1},
        {"u", NULL, CGI_ACCOUNT_UPLOAD, 1, -1},
        {"u", "", CGI_ACCOUNT_UPLOAD, 1, -1},
        {"u", "with space", CGI_ACCOUNT_UPLOAD, 1, -1},
        {"u\n", "p", CGI_ACCOUNT_UPLOAD, 1, -1},
        {NULL, NULL, CGI_ACCOUNT_UPLOAD, 3, 0}, /* removing: always fine */
    };
    size_t i;

    (void)state;
    for (i = 0; i < sizeof cases / sizeof cases[0]; i++)
        if (CGI_SetCredentials(cases[i].user, cases[i].pass, cases[i].type, cases[i].idx) !=
            cases[i].want)
            fail_msg("credentials case %zu", i);
}

static void test_auth_check(void **state)
{
    (void)state;
    /* no prefix, no account: everything open except uploads */
    assert_int_equal(cgi_auth_check("/x", 0, NULL, NULL), CGI_AUTH_OK);
    assert_int_equal(cgi_auth_check("/x", 1, "u", "p"), CGI_AUTH_FORBIDDEN);
    assert_int_equal(cgi_auth_check(NULL, 0, NULL, NULL), CGI_AUTH_FORBIDDEN);

    assert_int_equal(CGI_SetSecurePath("/secure/"), 0);
    assert_int_equal(CGI_SetSecurePath("/secure"), 0); /* the same */
    assert_int_equal(CGI_SetSecurePath("/ChipCfg"), 0);
    assert_int_equal(CGI_SetSecurePath(NULL), -1);
    assert_int_equal(CGI_SetSecurePath("rel"), -1);
    assert_int_equal(CGI_SetSecurePath("/"), -1); /* would be "everything": say so */
    assert_int_equal(CGI_SetSecurePath("//"), -1);
    assert_int_equal(CGI_SetSecurePath("/a b"), -1);
    assert_true(cgi_path_is_secure("/secure"));
    assert_true(cgi_path_is_secure("/secure/x/y"));
    assert_true(cgi_path_is_secure("/SECURE/x"));
    assert_true(cgi_path_is_secure("/chipcfg"));
    assert_false(cgi_path_is_secure("/securex"));
    assert_false(cgi_path_is_secure("/secur"));
    assert_false(cgi_path_is_secure("/open/secure"));
    assert_false(cgi_path_is_secure(NULL));

    /* a secure prefix without a secure account: nobody gets in */
    assert_int_equal(cgi_auth_check("/secure/a", 0, "admin", "pw"), CGI_AUTH_FORBIDDEN);
    assert_int_equal(CGI_SetCredentials("admin", "pw", CGI_ACCOUNT_SECURE, 2), 0);
    assert_int_equal(CGI_SetCredentials("up", "load", CGI_ACCOUNT_UPLOAD, 0), 0);
    assert_int_equal(cgi_auth_check("/secure/a", 0, "admin", "pw"), CGI_AUTH_OK);
    assert_int_equal(cgi_auth_check("/Secure/a", 0, NULL, NULL), CGI_AUTH_UNAUTHORIZED);
    assert_int_equal(cgi_auth_check("/secure/a", 0, "admin", "PW"), CGI_AUTH_UNAUTHORIZED);
    assert_int_equal(cgi_auth_check("/secure/a", 0, "admin", "pw2"), CGI_AUTH_UNAUTHORIZED);
    assert_int_equal(cgi_auth_check("/secure/a", 0, "admin", "p"), CGI_AUTH_UNAUTHORIZED);
    assert_int_equal(cgi_auth_check("/secure/a", 0, "Admin", "pw"), CGI_AUTH_UNAUTHORIZED);
    assert_int_equal(cgi_auth_check("/secure/a", 0, "up", "load"), CGI_AUTH_UNAUTHORIZED);
    assert_int_equal(cgi_auth_check("/secure/a", 0, "admin", NULL), CGI_AUTH_UNAUTHORIZED);
    assert_int_equal(cgi_auth_check("/open", 0, NULL, NULL), CGI_AUTH_OK);
    /* uploads need an upload account wherever they go */
    assert_int_equal(cgi_auth_check("/open", 1, "up", "load"), CGI_AUTH_OK);
    assert_int_equal(cgi_auth_check("/open", 1, "admin", "pw"), CGI_AUTH_UNAUTHORIZED);
    assert_int_equal(cgi_auth_check("/open", 1, NULL, NULL), CGI_AUTH_UNAUTHORIZED);
    /* removing the account closes the door again */
    assert_int_equal(CGI_SetCredentials("", NULL, CGI_ACCOUNT_SECURE, 2), 0);
    assert_int_equal(cgi_auth_check("/secure/a", 0, "admin", "pw"), CGI_AUTH_FORBIDDEN);
    assert_int_equal(CGI_ClearSecurePaths(), 0);
    assert_int_equal(cgi_auth_check("/secure/a", 0, NULL, NULL), CGI_AUTH_OK);
}

static void test_secure_paths_full(void **state)
{
    char p[32];
    int i;

    (void)state;
    for (i = 0; i < CGI_MAX_SECURE_PATHS; i++) {
        snprintf(p, sizeof p, "/s%d", i);
        assert_int_equal(CGI_SetSecurePath(p), 0);
    }
    assert_int_equal(CGI_SetSecurePath("/one-more"), -1);
    assert_int_equal(CGI_SetSecurePath("/S3"), 0); /* already there */
}

static void errfn(rpCgiPtr r)
{
    (void)r;
}
static void upfn(rpCgiPtr r)
{
    (void)r;
}

static void test_hooks(void **state)
{
    const unsigned states[] = {7, 8, 10, 22};
    const int statuses[] = {401, 404, 500, 503};
    void *vp;
    size_t i;
    RpCgiFuncPtr f = errfn;

    (void)state;
    memcpy(&vp, &f, sizeof vp);
    for (i = 0; i < 4; i++) {
        assert_null(cgi_error_func(statuses[i]));
        assert_int_equal(CGI_Install_Func_OnErr(states[i], vp), 0);
        assert_ptr_equal(cgi_error_func(statuses[i]), errfn);
    }
    assert_int_equal(CGI_Install_Func_OnErr(9, vp), -1);
    assert_int_equal(CGI_Install_Func_OnErr(0, vp), -1);
    assert_int_equal(CGI_Install_Func_OnErr(404, vp), -1); /* states, not statuses */
    assert_null(cgi_error_func(200));
    assert_int_equal(CGI_Install_Func_OnErr(8, NULL), 0);
    assert_null(cgi_error_func(404));
    assert_ptr_equal(cgi_error_func(401), errfn);

    assert_int_equal(cgi_upload_enabled(), 0); /* off by default */
    assert_int_equal(CGI_Enable_Upload(5), 0);
    assert_int_equal(cgi_upload_enabled(), 1);
    assert_int_equal(CGI_Enable_Upload(0), 0);
    assert_int_equal(cgi_upload_enabled(), 0);
    f = upfn;
    memcpy(&vp, &f, sizeof vp);
    assert_null(cgi_upload_func());
    assert_int_equal(CGI_Install_Func_OnUpload(vp), 0);
    assert_ptr_equal(cgi_upload_func(), upfn);
    assert_int_equal(CGI_Install_Func_OnUpload(NULL), 0);
    assert_null(cgi_upload_func());
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup(test_builtin_mime, setup),
        cmocka_unit_test_setup(test_custom_mime, setup),
        cmocka_unit_test_setup(test_header_rows, setup),
        cmocka_unit_test_setup(test_datatypes, setup),
        cmocka_unit_test_setup(test_credentials, setup),
        cmocka_unit_test_setup(test_auth_check, setup),
        cmocka_unit_test_setup(test_secure_paths_full, setup),
        cmocka_unit_test_setup(test_hooks, setup),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
