/*
 * test_ftp_list - listings of a real directory: LIST lines against GNU
 * `ls -ln` on the same tree (TZ=UTC, C locale), MLSD facts parsed back,
 * the entries left out, and the chunking (any buffer size gives the same
 * text; a buffer smaller than a line is refused, not overrun).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "ftp_list.h"

static char top[256];
static struct ftp_root root;
static time_t now;

static void make(const char *rel, const char *text, time_t mtime)
{
    char p[512];
    snprintf(p, sizeof p, "%s/%s", top, rel);
    FILE *f = fopen(p, "w");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
    struct timespec ts[2] = {{mtime, 0}, {mtime, 0}};
    assert_int_equal(utimensat(AT_FDCWD, p, ts, 0), 0);
}

static int setup(void)
{
    snprintf(top, sizeof top, "/tmp/ftp_list_XXXXXX");
    if (!mkdtemp(top))
        return -1;
    now = time(NULL);
    char p[512];
    snprintf(p, sizeof p, "%s/sub", top);
    mkdir(p, 0750);
    snprintf(p, sizeof p, "%s/../", top); /* the root's parent holds the outside target */
    make("recent.txt", "hello\n", now - 3600);
    make("old.txt", "old", now - 400 * 86400);
    make("future.txt", "f", now + 30 * 86400);
    make("edge_in.txt", "e", now - 15778476 + 600);  /* just under six months */
    make("edge_out.txt", "e", now - 15778476 - 600); /* just over */
    make(".hidden", "h", now - 60);
    make(".up.txt.part.ab12cd", "partial", now - 60);
    make("sub/inner", "12345678", now - 60);
    snprintf(p, sizeof p, "%s/exec.sh", top);
    make("exec.sh", "#!/bin/sh\n", now - 120);
    chmod(p, 04755);
    snprintf(p, sizeof p, "%s/sticky", top);
    mkdir(p, 01777);
    chmod(p, 01777);
    snprintf(p, sizeof p, "%s/cr\rname", top);
    close(open(p, O_CREAT | O_WRONLY, 0644));
    snprintf(p, sizeof p, "%s/lf\nname", top);
    close(open(p, O_CREAT | O_WRONLY, 0644));
    snprintf(p, sizeof p, "%s/link_in", top);
    symlink("sub/inner", p);
    snprintf(p, sizeof p, "%s/link_out", top);
    symlink("/etc/passwd", p);
    snprintf(p, sizeof p, "%s/link_dangling", top);
    symlink("nothing", p);
    /* The directories' times are set too: made "now", they could be a
     * second newer than `now` (a future time, listed with its year by us
     * but not by ls, which compares with its own later clock). */
    static const char *const dirs[] = {"sub", "sticky"};
    for (size_t i = 0; i < sizeof dirs / sizeof dirs[0]; i++) {
        struct timespec ts[2] = {{now - 60, 0}, {now - 60, 0}};
        snprintf(p, sizeof p, "%s/%s", top, dirs[i]);
        if (utimensat(AT_FDCWD, p, ts, 0) != 0)
            return -1;
    }
    return ftp_root_open(&root, top);
}

static void teardown(void)
{
    ftp_root_close(&root);
    char cmd[600];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", top);
    if (system(cmd) != 0)
        fprintf(stderr, "could not remove %s\n", top);
}

/* The whole listing of vpath, read with buffers of cap bytes. */
static char *listing(const char *vpath, enum ftp_list_format fmt, int all, size_t cap)
{
    static char out[1 << 16];
    size_t len = 0;
    struct ftp_lister l;
    if (ftp_list_open(&l, &root, vpath, fmt, all, 1, now) != 0)
        fail_msg("open %s: errno %d", vpath, errno);
    char *buf = malloc(cap);
    assert_non_null(buf);
    long n;
    while ((n = ftp_list_read(&l, buf, cap)) > 0) {
        assert_true((size_t)n <= cap);
        assert_true(buf[n - 1] == '\n' && buf[n - 2] == '\r'); /* whole lines only */
        assert_true(len + (size_t)n < sizeof out);
        memcpy(out + len, buf, (size_t)n);
        len += (size_t)n;
    }
    assert_int_equal(n, 0);
    out[len] = '\0';
    ftp_list_close(&l);
    free(buf);
    return out;
}

/* The line of name in text (NULL if absent). */
static const char *line_of(const char *text, const char *name, char *line, size_t cap)
{
    size_t nl = strlen(name);
    for (const char *p = text; *p;) {
        const char *e = strstr(p, "\r\n");
        assert_non_null(e);
        size_t n = (size_t)(e - p);
        if (n > nl && p[n - nl - 1] == ' ' && memcmp(p + n - nl, name, nl) == 0 && n < cap) {
            memcpy(line, p, n);
            line[n] = '\0';
            return line;
        }
        p = e + 2;
    }
    return NULL;
}

static int tokens(char *s, char *tok[], int max)
{
    int n = 0;
    for (char *t = strtok(s, " \t\r\n"); t && n < max; t = strtok(NULL, " \t\r\n"))
        tok[n++] = t;
    return n;
}

static void test_ls_matches_gnu_ls(void **state)
{
    (void)state;
    const char *text = listing("/", FTP_LIST_LS, 0, FTP_LIST_LINE_MAX);
    char cmd[600];
    snprintf(cmd, sizeof cmd,
             "cd '%s' && TZ=UTC LC_ALL=C ls -lnLd recent.txt old.txt future.txt "
             "edge_in.txt edge_out.txt exec.sh sticky sub link_in",
             top);
    FILE *p = popen(cmd, "r");
    assert_non_null(p);
    char ls[512];
    int compared = 0;
    while (fgets(ls, sizeof ls, p)) {
        char *lt[12], *ft[12], mine[512];
        int n = tokens(ls, lt, 12);
        assert_int_equal(n, 9);
        if (!line_of(text, lt[8], mine, sizeof mine))
            fail_msg("%s not listed", lt[8]);
        assert_int_equal(tokens(mine, ft, 12), 9);
        /* ls may mark ACLs or SELinux contexts after the mode ('+', '.') */
        lt[0][10] = '\0';
        for (int i = 0; i < 9; i++)
            if (strcmp(lt[i], ft[i]) != 0)
                fail_msg("%s: field %d: ls '%s', ours '%s'", lt[8], i, lt[i], ft[i]);
        compared++;
    }
    pclose(p);
    assert_int_equal(compared, 9);
    /* the year forms, spelled out */
    char line[512];
    struct stat st = {.st_mode = S_IFREG | 0644, .st_nlink = 1, .st_size = 42, .st_mtime = 0};
    assert_true(ftp_list_line_ls(line, sizeof line, "a b", &st, 86400) > 0);
    assert_string_equal(line, "-rw-r--r--    1 0        0              42 Jan  1 00:00 a b\r\n");
    st.st_mtime = 86400 * 365;
    assert_true(ftp_list_line_ls(line, sizeof line, "a b", &st, 0) > 0);
    assert_string_equal(line, "-rw-r--r--    1 0        0              42 Jan  1  1971 a b\r\n");
}

static void test_left_out(void **state)
{
    (void)state;
    char line[512];
    const char *text = listing("/", FTP_LIST_LS, 0, FTP_LIST_LINE_MAX);
    assert_null(strstr(text, "hidden"));
    assert_null(strstr(text, "part"));
    assert_null(strstr(text, "name")); /* cr\rname, lf\nname */
    assert_null(strstr(text, "link_out"));
    assert_null(strstr(text, "link_dangling"));
    assert_non_null(line_of(text, "link_in", line, sizeof line));
    assert_int_equal(line[0], '-'); /* shown as its target, a file of 8 bytes */
    assert_non_null(strstr(line, " 8 "));
    text = listing("/", FTP_LIST_LS, 1, FTP_LIST_LINE_MAX);
    assert_non_null(line_of(text, ".hidden", line, sizeof line));
    assert_null(strstr(text, "part"));
    assert_null(strstr(text, " ..\r\n"));
    /* names */
    text = listing("/sub", FTP_LIST_NAMES, 0, FTP_LIST_LINE_MAX);
    assert_string_equal(text, "inner\r\n");
    text = listing("/sub/inner", FTP_LIST_NAMES, 0, FTP_LIST_LINE_MAX);
    assert_string_equal(text, "inner\r\n");
    text = listing("/sub/inner", FTP_LIST_LS, 0, FTP_LIST_LINE_MAX);
    assert_int_equal(strncmp(text, "-rw-r--r--", 10), 0);
    /* no listing through a link out, nor MLSD of a file */
    struct ftp_lister l;
    assert_int_equal(ftp_list_open(&l, &root, "/link_out", FTP_LIST_LS, 0, 0, now), -1);
    assert_int_equal(ftp_list_open(&l, &root, "/sub/inner", FTP_LIST_MLSD, 0, 0, now), -1);
    assert_int_equal(errno, ENOTDIR);
    /* the formatters refuse CR/LF names themselves */
    struct stat st = {.st_mode = S_IFREG | 0644};
    assert_int_equal(ftp_list_line_ls(line, sizeof line, "a\r\n-rw fake", &st, now), -1);
    assert_int_equal(ftp_list_line_mlsx(line, sizeof line, "a\nb", &st, NULL, 0), -1);
    assert_true(ftp_list_is_partial(".x.part.ab12cd"));
    assert_false(ftp_list_is_partial(".x.part.AB12CD"));
    assert_false(ftp_list_is_partial("x.part.ab12cd"));
    assert_false(ftp_list_is_partial(".part.ab12cd"));
}

/* MLSD lines parsed back as a client does (Python's ftplib.mlsd: split at
 * the first space, facts at ';', each key=value). */
static void test_mlsd(void **state)
{
    (void)state;
    char *text = strdup(listing("/", FTP_LIST_MLSD, 0, FTP_LIST_LINE_MAX));
    int cdir = 0, pdir = 0, hidden = 0, files = 0;
    for (char *save, *ln = strtok_r(text, "\r\n", &save); ln; ln = strtok_r(NULL, "\r\n", &save)) {
        char *sp = strchr(ln, ' ');
        assert_non_null(sp);
        *sp = '\0';
        const char *name = sp + 1;
        char type[32] = "", modify[32] = "", perm[16] = "";
        long long size = -1;
        for (char *s2, *f = strtok_r(ln, ";", &s2); f; f = strtok_r(NULL, ";", &s2)) {
            char *eq = strchr(f, '=');
            assert_non_null(eq);
            *eq = '\0';
            if (!strcmp(f, "type"))
                snprintf(type, sizeof type, "%s", eq + 1);
            else if (!strcmp(f, "size"))
                size = atoll(eq + 1);
            else if (!strcmp(f, "modify"))
                snprintf(modify, sizeof modify, "%s", eq + 1);
            else if (!strcmp(f, "perm"))
                snprintf(perm, sizeof perm, "%s", eq + 1);
            else
                assert_string_equal(f, "unique");
        }
        cdir += !strcmp(type, "cdir");
        pdir += !strcmp(type, "pdir");
        hidden += !strcmp(name, ".hidden");
        if (!strcmp(name, "recent.txt")) {
            files++;
            assert_string_equal(type, "file");
            assert_int_equal(size, 6);
            assert_string_equal(perm, "adfrw");
            time_t t = now - 3600;
            struct tm tm;
            gmtime_r(&t, &tm);
            char want[32];
            strftime(want, sizeof want, "%Y%m%d%H%M%S", &tm);
            assert_string_equal(modify, want);
        }
        if (!strcmp(name, "sub")) {
            files++;
            assert_string_equal(type, "dir");
            assert_int_equal(size, -1);
        }
        assert_null(strstr(name, "part"));
    }
    free(text);
    assert_int_equal(cdir, 1);
    assert_int_equal(pdir, 1);
    assert_int_equal(hidden, 1);
    assert_int_equal(files, 2);
    char line[512];
    struct stat st = {
        .st_mode = S_IFDIR | 0755, .st_mtime = 86400 + 3661, .st_dev = 1, .st_ino = 255};
    assert_true(ftp_list_line_mlsx(line, sizeof line, "d", &st, NULL, 0) > 0);
    assert_string_equal(line, "type=dir;modify=19700102010101;perm=el;unique=1gff; d\r\n");
    char reply[1024];
    assert_true(ftp_reply_mlst(reply, sizeof reply, "/x/d", &st, 0) > 0);
    assert_string_equal(reply, "250-Listing /x/d\r\n"
                               " type=dir;modify=19700102010101;perm=el;unique=1gff; /x/d\r\n"
                               "250 End\r\n");
    assert_int_equal(ftp_reply_mlst(reply, 40, "/x/d", &st, 0), -1);
}

static void test_chunks(void **state)
{
    (void)state;
    enum ftp_list_format fmts[] = {FTP_LIST_LS, FTP_LIST_NAMES, FTP_LIST_MLSD};
    for (size_t f = 0; f < 3; f++) {
        char *whole = strdup(listing("/", fmts[f], 1, 1 << 15));
        /* the longest line is the smallest buffer that works */
        size_t longest = 0;
        for (const char *p = whole; *p;) {
            const char *e = strstr(p, "\r\n") + 2;
            if ((size_t)(e - p) > longest)
                longest = (size_t)(e - p);
            p = e;
        }
        for (size_t cap = longest; cap < longest + 80; cap++)
            assert_string_equal(listing("/", fmts[f], 1, cap), whole);
        struct ftp_lister l;
        char small[8];
        assert_int_equal(ftp_list_open(&l, &root, "/", fmts[f], 1, 1, now), 0);
        assert_int_equal(ftp_list_read(&l, small, sizeof small), -1);
        assert_int_equal(errno, EINVAL);
        ftp_list_close(&l);
        free(whole);
    }
}

static void test_args(void **state)
{
    (void)state;
    static const struct {
        const char *arg, *path;
        int all;
    } rows[] = {
        {"", "", 0},
        {"-l", "", 0},
        {"-la", "", 1},
        {"-a -l dir", "dir", 1},
        {"-A  dir x", "dir x", 1},
        {"dir", "dir", 0},
        {"-", "-", 0},
        {"--", "--", 0},
        {"-- -a", "-- -a", 0},
    };
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
        int all;
        const char *path;
        ftp_list_args(rows[i].arg, &all, &path);
        if (all != rows[i].all || strcmp(path, rows[i].path) != 0)
            fail_msg("row %zu (%s): %d '%s'", i, rows[i].arg, all, path);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_ls_matches_gnu_ls),
        cmocka_unit_test(test_left_out),
        cmocka_unit_test(test_mlsd),
        cmocka_unit_test(test_chunks),
        cmocka_unit_test(test_args),
    };
    if (setup() != 0) {
        perror("setup");
        return 1;
    }
    int rc = cmocka_run_group_tests(tests, NULL, NULL);
    teardown();
    return rc;
}
