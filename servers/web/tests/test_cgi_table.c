/*
 * test_cgi_table.c - CGI_Install/CGI_Delete and the server's lookup, the
 * main pages, the root directory and drive. Cases: good and bad names
 * (NULL, empty, too long, '?', control characters), bad methods and
 * functions, duplicates (replace), case-insensitive names, the method
 * preference (own, All, GET for HEAD), 405 with the allowed methods, a full
 * table, root directories that are missing, files, "/" in disguise.
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "cgi.h"
#include "cgi_server.h"

static void f1(rpCgiPtr r)
{
    r->fHttpResponse = 1;
}
static void f2(rpCgiPtr r)
{
    r->fHttpResponse = 2;
}
static void f3(rpCgiPtr r)
{
    r->fHttpResponse = 3;
}

static int setup(void **state)
{
    (void)state;
    cgi_reset_all();
    return 0;
}

static char longName[CGI_MAX_PATH_LEN + 2];

static void test_install_table(void **state)
{
    static char exact[CGI_MAX_PATH_LEN + 1];
    const struct {
        const char *path;
        int method;
        RpCgiFuncPtr fn;
        int want;
    } cases[] = {
        {"emcy", CgiHttpGet, f1, 0},
        {"/emcy2", CgiHttpPost, f1, 0},
        {"a/b/c.htm", CgiHttpHead, f1, 0},
        {"x", CgiHttpAll, f1, 0},
        {exact, CgiHttpGet, f1, 0},
        {NULL, CgiHttpGet, f1, CGI_INVALID_NAME},
        {"", CgiHttpGet, f1, CGI_INVALID_NAME},
        {"/", CgiHttpGet, f1, CGI_INVALID_NAME},
        {longName, CgiHttpGet, f1, CGI_INVALID_NAME},
        {"a?b", CgiHttpGet, f1, CGI_INVALID_NAME},
        {"a#b", CgiHttpGet, f1, CGI_INVALID_NAME},
        {"a b", CgiHttpGet, f1, CGI_INVALID_NAME},
        {"a\nb", CgiHttpGet, f1, CGI_INVALID_NAME},
        {"ok", 0, f1, CGI_INVALID_METHOD},
        {"ok", 4, f1, CGI_INVALID_METHOD},
        {"ok", 254, f1, CGI_INVALID_METHOD},
        {"ok", -1, f1, CGI_INVALID_METHOD},
        {"ok", CgiHttpGet, NULL, CGI_INVALID_METHOD},
    };
    size_t i;

    (void)state;
    memset(exact, 'e', CGI_MAX_PATH_LEN);
    memset(longName, 'l', CGI_MAX_PATH_LEN + 1);
    for (i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        CGI_Entry e = {cases[i].path, cases[i].method, cases[i].fn};
        int got = CGI_Install(&e);
        if (got != cases[i].want)
            fail_msg("case %zu (%s, %d): got %d, want %d", i,
                     cases[i].path ? cases[i].path : "NULL", cases[i].method, got, cases[i].want);
    }
    assert_int_equal(CGI_Install(NULL), CGI_INVALID_NAME);
    assert_int_equal(cgi_table_lookup("ok", CgiHttpGet, NULL, NULL), CGI_LOOKUP_NONE);
}

static void test_lookup(void **state)
{
    CGI_Entry e = {"Form", CgiHttpGet, f1}, got;
    unsigned allow;

    (void)state;
    assert_int_equal(CGI_Install(&e), 0);
    e.method = CgiHttpAll;
    e.CgiFuncPtr = f2;
    assert_int_equal(CGI_Install(&e), 0);
    e.PathPtr = "/getonly";
    e.method = CgiHttpGet;
    e.CgiFuncPtr = f3;
    assert_int_equal(CGI_Install(&e), 0);

    /* own method first, case-insensitive, with or without '/' */
    assert_int_equal(cgi_table_lookup("/fORM", CgiHttpGet, &got, NULL), CGI_LOOKUP_FOUND);
    assert_ptr_equal(got.CgiFuncPtr, f1);
    assert_int_equal(cgi_table_lookup("form", CgiHttpPost, &got, NULL), CGI_LOOKUP_FOUND);
    assert_ptr_equal(got.CgiFuncPtr, f2);
    assert_int_equal(got.method, CgiHttpAll);
    /* HEAD: GET entry when there is no HEAD or All entry */
    assert_int_equal(cgi_table_lookup("/GetOnly", CgiHttpHead, &got, NULL), CGI_LOOKUP_FOUND);
    assert_ptr_equal(got.CgiFuncPtr, f3);
    /* 405 with the allowed methods (GET implies HEAD) */
    assert_int_equal(cgi_table_lookup("/getonly", CgiHttpPost, &got, &allow), CGI_LOOKUP_METHOD);
    assert_int_equal(allow, (1u << CgiHttpGet) | (1u << CgiHttpHead));
    /* unknown method numbers never match, not even All */
    assert_int_equal(cgi_table_lookup("/form", 7, NULL, &allow), CGI_LOOKUP_METHOD);
    assert_int_equal(cgi_table_lookup("/form", CgiHttpAll, NULL, NULL), CGI_LOOKUP_METHOD);
    assert_int_equal(cgi_table_lookup("/other", CgiHttpGet, NULL, &allow), CGI_LOOKUP_NONE);
    assert_int_equal(allow, 0);
    assert_int_equal(cgi_table_lookup(NULL, CgiHttpGet, NULL, NULL), CGI_LOOKUP_NONE);
    assert_int_equal(cgi_table_lookup("/", CgiHttpGet, NULL, NULL), CGI_LOOKUP_NONE);
}

static void test_duplicate_replaces(void **state)
{
    CGI_Entry e = {"dup", CgiHttpGet, f1}, got, list[4];
    char names[4][CGI_MAX_PATH_LEN + 1];

    (void)state;
    assert_int_equal(CGI_Install(&e), 0);
    e.PathPtr = "/DUP";
    e.CgiFuncPtr = f2;
    assert_int_equal(CGI_Install(&e), 0);
    assert_int_equal(cgi_table_lookup("dup", CgiHttpGet, &got, NULL), CGI_LOOKUP_FOUND);
    assert_ptr_equal(got.CgiFuncPtr, f2);
    assert_int_equal(cgi_table_list(list, &names[0][0], 4), 1);
    assert_string_equal(list[0].PathPtr, "DUP");
}

static void test_delete(void **state)
{
    CGI_Entry e = {"del", CgiHttpGet, f1};

    (void)state;
    assert_int_equal(CGI_Install(&e), 0);
    e.method = CgiHttpPost;
    assert_int_equal(CGI_Install(&e), 0);
    assert_int_equal(CGI_Delete("/DEL"), 0); /* every method at once */
    assert_int_equal(cgi_table_lookup("del", CgiHttpPost, NULL, NULL), CGI_LOOKUP_NONE);
    assert_int_equal(CGI_Delete("del"), CGI_NOT_FOUND);
    assert_int_equal(CGI_Delete(NULL), CGI_NOT_FOUND);
    assert_int_equal(CGI_Delete(""), CGI_NOT_FOUND);
    /* nothing is pre-installed (no ChipCfg, CVE-2001-1341) */
    assert_int_equal(CGI_Delete("ChipCfg"), CGI_NOT_FOUND);
    assert_int_equal(CGI_Delete("main.htm"), CGI_NOT_FOUND);
}

static void test_table_full(void **state)
{
    char name[32];
    CGI_Entry e = {name, CgiHttpGet, f1};
    int i;

    (void)state;
    for (i = 0; i < CGI_MAX_ENTRIES; i++) {
        snprintf(name, sizeof name, "p%d", i);
        assert_int_equal(CGI_Install(&e), 0);
    }
    e.PathPtr = "one-more";
    assert_int_equal(CGI_Install(&e), CGI_NO_FREE_ENTRY);
    e.PathPtr = "P7"; /* replacing still works when full */
    e.CgiFuncPtr = f2;
    assert_int_equal(CGI_Install(&e), 0);
    assert_int_equal(CGI_Delete("p0"), 0);
    e.PathPtr = "one-more";
    assert_int_equal(CGI_Install(&e), 0);
}

static void test_main_pages(void **state)
{
    char *p, buf[9];
    const struct {
        const char *name;
        int want;
    } cases[] = {
        {"index.html", 0},
        {"sub/page.htm", 0},
        {"..x.htm", 0},
        {"0123456789012345678901234567890123456789012345678901234567890123", 0}, /* 64 */
        {"01234567890123456789012345678901234567890123456789012345678901234", CGI_INVALID_NAME},
        {NULL, CGI_INVALID_NAME},
        {"", CGI_INVALID_NAME},
        {"/abs.htm", CGI_INVALID_NAME},
        {"../etc/passwd", CGI_INVALID_NAME},
        {"a/../../x", CGI_INVALID_NAME},
        {"a/..", CGI_INVALID_NAME},
        {"a b.htm", CGI_INVALID_NAME},
        {"a\\..\\b", CGI_INVALID_NAME},
        {"a?b", CGI_INVALID_NAME},
    };
    size_t i;

    (void)state;
    assert_int_equal(CGI_GetMainPage(&p), 0);
    assert_string_equal(p, "main.htm");
    assert_int_equal(CGI_GetMainPagePost(&p), 0);
    assert_string_equal(p, "main.htm"); /* follows the GET page until set */
    for (i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        if (CGI_SetMainPage(cases[i].name) != cases[i].want)
            fail_msg("SetMainPage case %zu", i);
        if (CGI_SetMainPagePost(cases[i].name) != cases[i].want)
            fail_msg("SetMainPagePost case %zu", i);
    }
    assert_int_equal(CGI_SetMainPage("start.htm"), 0);
    assert_int_equal(CGI_SetMainPagePost("post.htm"), 0);
    assert_int_equal(CGI_GetMainPage(&p), 0);
    assert_string_equal(p, "start.htm");
    assert_int_equal(CGI_GetMainPagePost(&p), 0);
    assert_string_equal(p, "post.htm");
    assert_int_equal(CGI_GetMainPage(NULL), -1);
    assert_int_equal(CGI_GetMainPagePost(NULL), -1);
    assert_int_equal(cgi_main_page_copy(buf, sizeof buf), -1); /* "start.htm" is 9 */
    assert_int_equal(cgi_main_page_post_copy(buf, sizeof buf), 0);
    assert_string_equal(buf, "post.htm");
}

static void test_root_dir(void **state)
{
    char tmpl[] = "/tmp/cgi_rootXXXXXX", sub[64], file[64], link[64], up[64], real[4096];
    char *dir, buf[4200], longDir[CGI_MAX_ROOTDIR_LEN + 2];
    int fd;

    (void)state;
    assert_non_null(mkdtemp(tmpl));
    assert_non_null(realpath(tmpl, real));
    snprintf(sub, sizeof sub, "%s/web", tmpl);
    snprintf(file, sizeof file, "%s/file", tmpl);
    snprintf(link, sizeof link, "%s/toroot", tmpl);
    snprintf(up, sizeof up, "%s/..", tmpl);
    assert_int_equal(mkdir(sub, 0700), 0);
    fd = creat(file, 0600);
    assert_true(fd >= 0);
    close(fd);
    assert_int_equal(symlink("/", link), 0);
    memset(longDir, 'd', sizeof longDir - 1);
    longDir[0] = '/';
    longDir[sizeof longDir - 1] = '\0';

    assert_int_equal(CGI_GetRootDir(&dir), 0);
    assert_string_equal(dir, ""); /* none until set */
    assert_int_equal(CGI_SetRootDir(sub), 0);
    assert_int_equal(CGI_GetRootDir(&dir), 0);
    snprintf(buf, sizeof buf, "%s/web", real);
    assert_string_equal(dir, buf);
    assert_int_equal(cgi_root_dir_copy(buf, sizeof buf), 0);
    assert_string_equal(buf, dir);
    assert_int_equal(CGI_SetRootDir(NULL), CGI_INVALID_DIR);
    assert_int_equal(CGI_SetRootDir(""), CGI_INVALID_DIR);
    assert_int_equal(CGI_SetRootDir("/"), CGI_INVALID_DIR);
    assert_int_equal(CGI_SetRootDir("//"), CGI_INVALID_DIR);
    assert_int_equal(CGI_SetRootDir("/tmp/.."), CGI_INVALID_DIR);
    assert_int_equal(CGI_SetRootDir(link), CGI_INVALID_DIR); /* a link to "/" */
    assert_int_equal(CGI_SetRootDir(file), CGI_INVALID_DIR);
    assert_int_equal(CGI_SetRootDir("/no/such/dir"), CGI_INVALID_DIR);
    assert_int_equal(CGI_SetRootDir(longDir), CGI_INVALID_DIR);
    assert_int_equal(CGI_SetRootDir(up), 0); /* /tmp: fine */
    assert_int_equal(CGI_GetRootDir(NULL), -1);

    unlink(link);
    unlink(file);
    rmdir(sub);
    rmdir(tmpl);
}

static void test_root_drive(void **state)
{
    (void)state;
    assert_int_equal(CGI_GetRootDrive(), 'A');
    assert_int_equal(CGI_SetRootDrive('c'), 0);
    assert_int_equal(CGI_GetRootDrive(), 'C');
    assert_int_equal(CGI_SetRootDrive('Z'), 0);
    assert_int_equal(CGI_SetRootDrive('1'), CGI_INVALID_DIR);
    assert_int_equal(CGI_SetRootDrive('@'), CGI_INVALID_DIR);
    assert_int_equal(CGI_SetRootDrive('['), CGI_INVALID_DIR);
    assert_int_equal(CGI_SetRootDrive('\0'), CGI_INVALID_DIR);
    assert_int_equal(CGI_GetRootDrive(), 'Z');
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup(test_install_table, setup),
        cmocka_unit_test_setup(test_lookup, setup),
        cmocka_unit_test_setup(test_duplicate_replaces, setup),
        cmocka_unit_test_setup(test_delete, setup),
        cmocka_unit_test_setup(test_table_full, setup),
        cmocka_unit_test_setup(test_main_pages, setup),
        cmocka_unit_test_setup(test_root_dir, setup),
        cmocka_unit_test_setup(test_root_drive, setup),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
