/*
 * test_ftp_path - ftp_path_resolve on every escape form in text, then the
 * confined helpers on a real tree with symlinks out of the root, into it,
 * absolute, dangling and looping; every case once with openat2 and once with
 * the O_NOFOLLOW walk of old kernels.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "ftp_path.h"

static char top[256];   /* the temporary directory */
static char rootd[300]; /* top/root */
static struct ftp_root root;

static void put_file(const char *rel, const char *text)
{
    char p[512];
    snprintf(p, sizeof p, "%s/%s", top, rel);
    FILE *f = fopen(p, "w");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
}

static void link_at(const char *target, const char *rel)
{
    char p[512];
    snprintf(p, sizeof p, "%s/%s", top, rel);
    assert_int_equal(symlink(target, p), 0);
}

static char *slurp(const char *rel, char *buf, size_t cap)
{
    char p[512];
    snprintf(p, sizeof p, "%s/%s", top, rel);
    FILE *f = fopen(p, "r");
    if (!f)
        return NULL;
    size_t n = fread(buf, 1, cap - 1, f);
    buf[n] = '\0';
    fclose(f);
    return buf;
}

static int exists(const char *rel)
{
    char p[512];
    struct stat st;
    snprintf(p, sizeof p, "%s/%s", top, rel);
    return lstat(p, &st) == 0;
}

static int setup(void **state)
{
    (void)state;
    snprintf(top, sizeof top, "%s/ftp_path_XXXXXX", getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
    if (!mkdtemp(top))
        return -1;
    snprintf(rootd, sizeof rootd, "%s/root", top);
    char p[512];
    const char *dirs[] = {"outside", "root", "root/a", "root/a/b", "root/empty"};
    for (size_t i = 0; i < sizeof dirs / sizeof dirs[0]; i++) {
        snprintf(p, sizeof p, "%s/%s", top, dirs[i]);
        if (mkdir(p, 0755) < 0)
            return -1;
    }
    put_file("outside/secret.txt", "secret\n");
    put_file("root/file0", "zero\n");
    put_file("root/a/b/file.txt", "deep\n");
    link_at("../file0", "root/a/up"); /* relative, stays inside */
    link_at("b", "root/a/bdir");      /* to a directory inside */
    link_at("../outside/secret.txt", "root/out_rel");
    snprintf(p, sizeof p, "%s/outside/secret.txt", top);
    link_at(p, "root/out_abs");
    link_at("../outside", "root/out_dir");
    snprintf(p, sizeof p, "%s/file0", rootd);
    link_at(p, "root/in_abs"); /* absolute into the root: refused */
    link_at("nothing-here", "root/dangling");
    link_at("loop", "root/a/loop");
    link_at("a/b/../../../outside/secret.txt", "root/sneaky");
    snprintf(p, sizeof p, "%s/root/fifo", top);
    if (mkfifo(p, 0644) < 0)
        return -1;
    return ftp_root_open(&root, rootd);
}

static int teardown(void **state)
{
    (void)state;
    ftp_root_close(&root);
    char cmd[600];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", top);
    return system(cmd) == 0 ? 0 : -1;
}

static void test_resolve(void **state)
{
    (void)state;
    static const struct {
        const char *cwd, *arg, *want;
        int err;
    } rows[] = {
        {"/", "", "/", 0},
        {"/", ".", "/", 0},
        {"/", "..", "/", 0},
        {"/", "../../..", "/", 0},
        {"/a", "b", "/a/b", 0},
        {"/a", "./b/", "/a/b", 0},
        {"/a", "b//c///", "/a/b/c", 0},
        {"/a/b", "..", "/a", 0},
        {"/a/b", "../..", "/", 0},
        {"/a/b", "../../../../etc/passwd", "/etc/passwd", 0},
        {"/a/b", "/x", "/x", 0},
        {"/a/b", "//x//y", "/x/y", 0},
        {"/a", "/../../outside", "/outside", 0},
        {"/", "..//..//outside/secret.txt", "/outside/secret.txt", 0},
        {"/", "a/b/../../../../outside", "/outside", 0},
        {"/", "...", "/...", 0},
        {"/", "..a", "/..a", 0},
        {"/", "%2e%2e/x", "/%2e%2e/x", 0}, /* FTP does not percent-decode */
        {"/", "\\..\\x", "/\\..\\x", 0},   /* a backslash is a name byte */
        {"/", " spaced ", "/ spaced ", 0},
        {"/", "a\rb", NULL, EINVAL},
        {"/", ".up.txt.part.ab12cd", NULL, EACCES}, /* another upload's data */
        {"/a", "../.x.part.000000/y", NULL, EACCES},
        {"/", ".x.part.ab12c", "/.x.part.ab12c", 0},
        {"/", "x.part.ab12cd", "/x.part.ab12cd", 0},
        {"/", "a/\n/b", NULL, EINVAL},
        {"a", "b", NULL, EINVAL},
    };
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
        char out[FTP_PATH_MAX];
        errno = 0;
        int rc = ftp_path_resolve(rows[i].cwd, rows[i].arg, out, sizeof out);
        if (rows[i].want) {
            if (rc != 0 || strcmp(out, rows[i].want) != 0)
                fail_msg("row %zu: %s + %s -> %d %s", i, rows[i].cwd, rows[i].arg, rc, out);
        } else if (rc != -1 || errno != rows[i].err) {
            fail_msg("row %zu: %s + %s -> %d errno %d", i, rows[i].cwd, rows[i].arg, rc, errno);
        }
    }
    /* length: exactly fitting, one too long */
    char arg[40], out[16];
    memset(arg, 'x', sizeof arg);
    arg[14] = '\0'; /* "/" + 14 + NUL = 16 */
    assert_int_equal(ftp_path_resolve("/", arg, out, sizeof out), 0);
    arg[14] = 'x';
    arg[15] = '\0';
    assert_int_equal(ftp_path_resolve("/", arg, out, sizeof out), -1);
    assert_int_equal(errno, ENAMETOOLONG);
    assert_string_equal(ftp_path_base("/a/b"), "b");
    assert_string_equal(ftp_path_base("/"), "");
}

/* What each path gives to ftp_open_read: 0 = opened with want's text. */
static void check_reads(int walk)
{
    static const struct {
        const char *cwd, *arg;
        const char *text;      /* NULL: must fail */
        int err_new, err_walk; /* errno with openat2, with the walk; 0: opens */
    } rows[] = {
        {"/", "file0", "zero\n", 0, 0},
        {"/", "a/../file0", "zero\n", 0, 0},
        {"/a/b", "file.txt", "deep\n", 0, 0},
        {"/a/b", "../../file0", "zero\n", 0, 0},
        {"/", "a/up", "zero\n", 0, ELOOP}, /* inside: followed by openat2 */
        {"/", "a/bdir/file.txt", "deep\n", 0, ENOTDIR},
        {"/", "out_rel", NULL, EXDEV, ELOOP},
        {"/", "out_abs", NULL, EXDEV, ELOOP},
        {"/", "out_dir/secret.txt", NULL, EXDEV, ENOTDIR},
        {"/", "in_abs", NULL, EXDEV, ELOOP},
        {"/", "sneaky", NULL, EXDEV, ELOOP},
        {"/", "dangling", NULL, ENOENT, ELOOP},
        {"/", "a/loop", NULL, ELOOP, ELOOP},
        {"/", "../outside/secret.txt", NULL, ENOENT, ENOENT},
        {"/a", "/../../outside/secret.txt", NULL, ENOENT, ENOENT},
        {"/", "a", NULL, EISDIR, EISDIR},
        {"/", "fifo", NULL, EACCES, EACCES}, /* and it did not hang */
        {"/", "nope", NULL, ENOENT, ENOENT},
    };
    ftp_path_force_walk = walk;
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
        char vp[FTP_PATH_MAX];
        assert_int_equal(ftp_path_resolve(rows[i].cwd, rows[i].arg, vp, sizeof vp), 0);
        errno = 0;
        int fd = ftp_open_read(&root, vp);
        /* A symlink inside the root opens with openat2, not with the walk. */
        int want = walk ? rows[i].err_walk : rows[i].err_new;
        int want_ok = rows[i].text && want == 0;
        if (want_ok) {
            if (fd < 0)
                fail_msg("walk %d row %zu (%s): errno %d", walk, i, vp, errno);
            char buf[64];
            ssize_t n = read(fd, buf, sizeof buf - 1);
            assert_true(n >= 0);
            buf[n] = '\0';
            assert_string_equal(buf, rows[i].text);
            close(fd);
            continue;
        }
        if (fd >= 0 || errno != want)
            fail_msg("walk %d row %zu (%s): fd %d errno %d, want %d", walk, i, vp, fd, errno, want);
    }
    ftp_path_force_walk = 0;
}

static void test_read_openat2(void **state)
{
    (void)state;
    check_reads(0);
}
static void test_read_walk(void **state)
{
    (void)state;
    check_reads(1);
}

static void check_changes(int walk)
{
    ftp_path_force_walk = walk;
    struct stat st;
    /* stat follows a link inside the root (openat2), never one out */
    assert_int_equal(ftp_stat(&root, "/a/up", &st), walk ? -1 : 0);
    if (walk)
        assert_int_equal(errno, ELOOP);
    else
        assert_true(S_ISREG(st.st_mode));
    assert_int_equal(ftp_stat(&root, "/out_rel", &st), -1);
    assert_int_equal(errno, walk ? ELOOP : EXDEV);
    assert_int_equal(ftp_stat(&root, "/out_dir", &st), -1);
    /* directories: through an escaping link, nothing is created outside */
    assert_int_equal(ftp_mkdir(&root, "/out_dir/x", 0755), -1);
    assert_int_equal(errno, walk ? ENOTDIR : EXDEV);
    assert_false(exists("outside/x"));
    assert_int_equal(ftp_mkdir(&root, "/newdir", 0755), 0);
    assert_int_equal(ftp_stat(&root, "/newdir", &st), 0);
    assert_true(S_ISDIR(st.st_mode));
    assert_int_equal(ftp_mkdir(&root, "/newdir", 0755), -1);
    assert_int_equal(errno, EEXIST);
    assert_int_equal(ftp_rmdir(&root, "/newdir"), 0);
    assert_int_equal(ftp_rmdir(&root, "/a"), -1);
    assert_int_equal(errno, ENOTEMPTY);
    assert_int_equal(ftp_rmdir(&root, "/"), -1);
    assert_int_equal(errno, EBUSY);
    assert_int_equal(ftp_unlink(&root, "/"), -1);
    assert_int_equal(ftp_rmdir(&root, "/out_dir"), -1); /* a link, not a directory */
    assert_int_equal(errno, ENOTDIR);
    assert_true(exists("outside"));
    /* renames: not out, not in from outside */
    assert_int_equal(ftp_rename(&root, "/file0", "/out_dir/stolen"), -1);
    assert_false(exists("outside/stolen"));
    assert_int_equal(ftp_rename(&root, "/out_dir/secret.txt", "/got"), -1);
    assert_false(exists("root/got"));
    assert_true(exists("outside/secret.txt"));
    assert_int_equal(ftp_rename(&root, "/file0", "/a/file0"), 0);
    assert_int_equal(ftp_rename(&root, "/a/file0", "/file0"), 0);
    /* unlink of a link removes the link, not what it points to */
    link_at("../outside/secret.txt", "root/victim");
    assert_int_equal(ftp_unlink(&root, "/victim"), 0);
    assert_false(exists("root/victim"));
    assert_true(exists("outside/secret.txt"));
    assert_int_equal(ftp_unlink(&root, "/out_dir/secret.txt"), -1);
    assert_true(exists("outside/secret.txt"));
    ftp_path_force_walk = 0;
}

static void test_changes_openat2(void **state)
{
    (void)state;
    check_changes(0);
}
static void test_changes_walk(void **state)
{
    (void)state;
    check_changes(1);
}

static void store(const char *vp, enum ftp_store_mode mode, long long off, const char *data,
                  int commit)
{
    struct ftp_store s;
    if (ftp_store_open(&root, vp, mode, off, &s) != 0)
        fail_msg("store %s: errno %d", vp, errno);
    assert_int_equal(write(s.fd, data, strlen(data)), (ssize_t)strlen(data));
    if (mode == FTP_STORE_HIDDEN) { /* meanwhile only the hidden name exists */
        char rel[FTP_PATH_MAX + 8];
        snprintf(rel, sizeof rel, "root/%s", s.tmp);
        assert_true(exists(rel));
        assert_int_equal(strncmp(s.tmp, ".", 1), 0);
        assert_non_null(strstr(s.tmp, ".part."));
    }
    if (commit)
        assert_int_equal(ftp_store_commit(&s), 0);
    else
        ftp_store_abort(&s);
    assert_int_equal(s.fd, -1);
    assert_int_equal(s.dirfd, -1);
}

/* Hidden temporary files left in the root. */
static int count_parts(void)
{
    DIR *d = opendir(rootd);
    assert_non_null(d);
    int n = 0;
    for (struct dirent *e; (e = readdir(d));)
        n += strstr(e->d_name, ".part.") != NULL;
    closedir(d);
    return n;
}

static void test_store(void **state)
{
    (void)state;
    char buf[128];
    /* hidden: nothing under the name until commit; abort leaves nothing */
    store("/up.txt", FTP_STORE_HIDDEN, 0, "half", 0);
    assert_false(exists("root/up.txt"));
    store("/up.txt", FTP_STORE_HIDDEN, 0, "hello world", 1);
    assert_string_equal(slurp("root/up.txt", buf, sizeof buf), "hello world");
    /* a resumed hidden upload copies the first bytes, then the new data */
    store("/up.txt", FTP_STORE_HIDDEN, 5, ", there", 1);
    assert_string_equal(slurp("root/up.txt", buf, sizeof buf), "hello, there");
    /* APPE in hidden mode: all of it, then the new data; aborted: unchanged */
    store("/up.txt", FTP_STORE_HIDDEN, -1, "!", 1);
    assert_string_equal(slurp("root/up.txt", buf, sizeof buf), "hello, there!");
    store("/up.txt", FTP_STORE_HIDDEN, -1, "lost", 0);
    assert_string_equal(slurp("root/up.txt", buf, sizeof buf), "hello, there!");
    /* partial: the name is written directly; an abort keeps what came */
    store("/part.txt", FTP_STORE_PARTIAL, 0, "abc", 0);
    assert_string_equal(slurp("root/part.txt", buf, sizeof buf), "abc");
    store("/part.txt", FTP_STORE_APPEND, -1, "def", 1);
    assert_string_equal(slurp("root/part.txt", buf, sizeof buf), "abcdef");
    store("/part.txt", FTP_STORE_APPEND, 2, "XY", 1);
    assert_string_equal(slurp("root/part.txt", buf, sizeof buf), "abXY");
    struct ftp_store s;
    assert_int_equal(ftp_store_open(&root, "/part.txt", FTP_STORE_APPEND, 99, &s), -1);
    assert_int_equal(errno, EINVAL);
    assert_int_equal(ftp_store_open(&root, "/part.txt", FTP_STORE_HIDDEN, 99, &s), -1);
    assert_int_equal(errno, EINVAL);
    /* no leftovers of failed opens */
    assert_int_equal(count_parts(), 0);
    /* through links: never writes outside */
    assert_int_equal(ftp_store_open(&root, "/out_dir/new", FTP_STORE_HIDDEN, 0, &s), -1);
    assert_int_equal(errno, EXDEV);
    assert_false(exists("outside/new"));
    assert_int_equal(ftp_store_open(&root, "/out_rel", FTP_STORE_PARTIAL, 0, &s), -1);
    assert_int_equal(errno, ELOOP);
    assert_int_equal(ftp_store_open(&root, "/out_rel", FTP_STORE_APPEND, -1, &s), -1);
    assert_int_equal(errno, ELOOP);
    /* hidden mode replaces the link itself; the outside file is untouched */
    link_at("../outside/secret.txt", "root/over");
    store("/over", FTP_STORE_HIDDEN, 0, "mine", 1);
    assert_string_equal(slurp("root/over", buf, sizeof buf), "mine");
    assert_string_equal(slurp("outside/secret.txt", buf, sizeof buf), "secret\n");
    /* not over a directory, not into the root's parent */
    assert_int_equal(ftp_store_open(&root, "/a", FTP_STORE_PARTIAL, 0, &s), -1);
    assert_int_equal(ftp_store_open(&root, "/", FTP_STORE_HIDDEN, 0, &s), -1);
    assert_int_equal(errno, EBUSY);
    assert_int_equal(ftp_store_open(&root, "/fifo", FTP_STORE_PARTIAL, 0, &s), -1);
    assert_int_equal(errno, EACCES);
}

/* A container whose seccomp filter answers EPERM to openat2: the root
 * notices once and takes the O_NOFOLLOW walk (in a child, since a filter
 * cannot be removed). */
static void test_seccomp_fallback(void **state)
{
    (void)state;
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        struct sock_filter f[] = {
            BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr)),
            BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_openat2, 0, 1),
            BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | EPERM),
            BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
        };
        struct sock_fprog prog = {.len = sizeof f / sizeof f[0], .filter = f};
        if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) ||
            prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &prog))
            _exit(2);
        struct ftp_root r;
        if (ftp_root_open(&r, rootd) != 0 || !r.walk)
            _exit(3);
        int fd = ftp_open_read(&r, "/a/b/file.txt");
        if (fd < 0)
            _exit(4);
        close(fd);
        if (ftp_open_read(&r, "/a/up") >= 0 || errno != ELOOP)
            _exit(5);
        if (ftp_open_read(&r, "/out_rel") >= 0)
            _exit(6);
        ftp_root_close(&r);
        _exit(0);
    }
    int status;
    assert_int_equal(waitpid(pid, &status, 0), pid);
    assert_true(WIFEXITED(status));
    assert_int_equal(WEXITSTATUS(status), 0);
    struct ftp_root bad;
    assert_int_equal(ftp_root_open(&bad, "/nonexistent/ftp/root"), -1);
}

static void test_replies(void **state)
{
    (void)state;
    assert_int_equal(ftp_path_reply(ENOENT), 550);
    assert_int_equal(ftp_path_reply(EXDEV), 550);
    assert_int_equal(ftp_path_reply(ENAMETOOLONG), 553);
    assert_int_equal(ftp_path_reply(ENOSPC), 552);
    assert_int_equal(ftp_path_reply(EAGAIN), 450);
    assert_int_equal(ftp_path_reply(EIO), 451);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_resolve),      cmocka_unit_test(test_read_openat2),
        cmocka_unit_test(test_read_walk),    cmocka_unit_test(test_changes_openat2),
        cmocka_unit_test(test_changes_walk), cmocka_unit_test(test_store),
        cmocka_unit_test(test_replies),      cmocka_unit_test(test_seccomp_fallback),
    };
    if (setup(NULL) != 0) {
        perror("setup");
        return 1;
    }
    int rc = cmocka_run_group_tests(tests, NULL, NULL);
    return teardown(NULL) != 0 || rc;
}
