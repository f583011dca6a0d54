/*
 * test_ftp_session - whole FTP sessions through ftp_session_input with a
 * memory ftp_io that records every call. Each session is a table of steps:
 * the client's bytes, the reply codes expected (the end line of every reply,
 * in order), and the io calls expected, exactly.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "ftp_session.h"

static char top[256];
static char rootd[300];

/* --- the memory io --------------------------------------------------------- */

struct mem {
    char out[16384]; /* replies since the step began */
    size_t out_len;
    char calls[4096]; /* "name args;" per call */
    size_t calls_len;
    int xfer_code; /* what transfer returns */
};

static void note(struct mem *m, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void note(struct mem *m, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(m->calls + m->calls_len, sizeof m->calls - m->calls_len, fmt, ap);
    va_end(ap);
    assert_true(n > 0 && (size_t)n < sizeof m->calls - m->calls_len);
    m->calls_len += (size_t)n;
}

static int m_reply(void *ctx, const char *text, size_t len)
{
    struct mem *m = ctx;
    assert_true(len < sizeof m->out - m->out_len);
    assert_true(len >= 2 && text[len - 2] == '\r' && text[len - 1] == '\n');
    memcpy(m->out + m->out_len, text, len);
    m->out_len += len;
    m->out[m->out_len] = '\0';
    return 0;
}

static int m_tls(void *ctx)
{
    note(ctx, "tls;");
    return 0;
}

static int m_login(void *ctx, const char *user, const char *pass, struct ftp_account *a)
{
    note(ctx, "login %s %s;", user, pass);
    if (strcmp(user, "anonymous") == 0) {
        snprintf(a->root, sizeof a->root, "%s", rootd);
        a->anonymous = 1;
        return 0;
    }
    if (strcmp(user, "alice") == 0 && strcmp(pass, "pw") == 0) {
        snprintf(a->root, sizeof a->root, "%s", rootd);
        return 0;
    }
    return -1;
}

static int m_passive(void *ctx, struct ftp_hostport *hp)
{
    note(ctx, "pasv;");
    hp->family = 4;
    memcpy(hp->addr, "\x7f\x00\x00\x01", 4);
    hp->port = 50000;
    return 0;
}

static int m_active(void *ctx, const struct ftp_hostport *hp)
{
    note(ctx, "active %u.%u.%u.%u:%u;", hp->addr[0], hp->addr[1], hp->addr[2], hp->addr[3],
         hp->port);
    return 0;
}

/* Does the whole transfer at once (the server would stream it). */
static int m_transfer(void *ctx, struct ftp_xfer *x)
{
    struct mem *m = ctx;
    note(m, "xfer %s %s @%llu %c", ftp_verb_name(x->verb), x->vpath, x->offset, x->type);
    if (m->xfer_code) {
        note(m, ";");
        return m->xfer_code;
    }
    char buf[4096];
    if (x->verb == FTP_RETR) {
        ssize_t n = pread(x->fd, buf, 64, (off_t)x->offset);
        assert_true(n >= 0);
        note(m, " =%.*s;", (int)n, buf);
        close(x->fd);
    } else if (x->verb == FTP_STOR || x->verb == FTP_APPE) {
        assert_int_equal(write(x->store.fd, "DATA", 4), 4);
        assert_int_equal(ftp_store_commit(&x->store), 0);
        note(m, ";");
    } else {
        long n, total = 0;
        while ((n = ftp_list_read(&x->lister, buf, sizeof buf)) > 0)
            total += n;
        assert_int_equal(n, 0);
        ftp_list_close(&x->lister);
        note(m, " %s;", total > 0 ? "lines" : "empty");
    }
    return 0;
}

static void m_abort(void *ctx)
{
    note(ctx, "abort;");
}

static struct mem mem;
static const struct ftp_io mio = {&mem,      m_reply,  m_tls,      m_login,
                                  m_passive, m_active, m_transfer, m_abort};

/* The end-line codes of the replies in out, space-separated. */
static void codes(const char *out, char *buf, size_t cap)
{
    size_t n = 0;
    buf[0] = '\0';
    for (const char *l = out; *l;) {
        const char *e = strstr(l, "\r\n");
        assert_non_null(e);
        if (e - l >= 4 && l[0] >= '1' && l[0] <= '5' && l[3] == ' ') {
            assert_true(n + 5 < cap);
            n += (size_t)snprintf(buf + n, cap - n, "%s%.3s", n ? " " : "", l);
        }
        l = e + 2;
    }
}

/* --- sessions as tables ------------------------------------------------------ */

#define END_OK ((const char *)1) /* step: the running transfer ends well */

struct step {
    const char *in;    /* client bytes, or END_OK */
    const char *codes; /* expected end-line codes */
    const char *calls; /* expected io calls, exactly */
    const char *has;   /* a text the replies must contain, or NULL */
    int ret;           /* expected ftp_session_input result */
};

static struct ftp_session sess;

static void start(int require_tls, int keep_partial)
{
    struct ftp_session_config cfg;
    memset(&cfg, 0, sizeof cfg);
    cfg.require_tls = require_tls;
    cfg.keep_partial = keep_partial;
    struct sockaddr_in *sin = (struct sockaddr_in *)&cfg.peer;
    sin->sin_family = AF_INET;
    sin->sin_addr.s_addr = htonl(0x7f000001);
    sin->sin_port = htons(40000);
    memset(&mem, 0, sizeof mem);
    assert_int_equal(ftp_session_init(&sess, &cfg, &mio), 0);
    assert_memory_equal(mem.out, "220 ", 4);
}

static void run_steps(const struct step *st, size_t n)
{
    char got[512];
    for (size_t i = 0; i < n; i++) {
        mem.out_len = 0;
        mem.out[0] = '\0';
        mem.calls_len = 0;
        mem.calls[0] = '\0';
        int r;
        if (st[i].in == END_OK)
            r = ftp_session_transfer_end(&sess, 1, 0);
        else
            r = ftp_session_input(&sess, st[i].in, strlen(st[i].in));
        codes(mem.out, got, sizeof got);
        if (strcmp(got, st[i].codes) != 0 || strcmp(mem.calls, st[i].calls) != 0 ||
            r != st[i].ret || (st[i].has && !strstr(mem.out, st[i].has))) {
            print_error("step %zu (%s): codes '%s' want '%s'; calls '%s' want '%s'; ret %d "
                        "want %d; replies:\n%s\n",
                        i, st[i].in == END_OK ? "END" : st[i].in, got, st[i].codes, mem.calls,
                        st[i].calls, r, st[i].ret, mem.out);
            fail();
        }
    }
}

#define RUN(steps) run_steps(steps, sizeof steps / sizeof steps[0])

static void put(const char *rel, const char *text)
{
    char p[512];
    snprintf(p, sizeof p, "%s/%s", top, rel);
    FILE *f = fopen(p, "w");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
}

static const char *slurp(const char *rel)
{
    static char buf[256];
    char p[512];
    snprintf(p, sizeof p, "%s/%s", top, rel);
    FILE *f = fopen(p, "r");
    if (!f)
        return NULL;
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    buf[n] = '\0';
    fclose(f);
    return buf;
}

static int setup(void **state)
{
    (void)state;
    char p[512];
    snprintf(top, sizeof top, "/tmp/test_ftp_session.XXXXXX");
    assert_non_null(mkdtemp(top));
    snprintf(rootd, sizeof rootd, "%s/root", top);
    assert_int_equal(mkdir(rootd, 0755), 0);
    snprintf(p, sizeof p, "%s/root/sub", top);
    assert_int_equal(mkdir(p, 0755), 0);
    put("root/a.txt", "0123456789");
    put("secret", "SECRET");
    snprintf(p, sizeof p, "%s/root/out", top);
    assert_int_equal(symlink("../secret", p), 0);
    snprintf(p, sizeof p, "%s/root/outdir", top);
    assert_int_equal(symlink("..", p), 0);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    char cmd[600];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", top);
    return system(cmd) == 0 ? 0 : -1;
}

static int per_test_end(void **state)
{
    (void)state;
    ftp_session_free(&sess);
    return 0;
}

/* --- the sessions ------------------------------------------------------------ */

static void t_login_and_dirs(void **state)
{
    (void)state;
    start(0, 0);
    static const struct step st[] = {
        {"PWD\r\n", "530", "", NULL, 0},
        {"PASS pw\r\n", "503", "", NULL, 0},
        {"USER alice\r\nPASS pw\r\n", "331 230", "login alice pw;", NULL, 0},
        {"USER bob\r\n", "503", "", NULL, 0},
        {"PWD\r\n", "257", "", "257 \"/\"", 0},
        {"CWD sub\r\nPWD\r\n", "250 257", "", "257 \"/sub\"", 0},
        {"CDUP\r\nPWD\r\n", "250 257", "", "257 \"/\"", 0},
        {"CWD nothere\r\n", "550", "", NULL, 0},
        {"MKD new\r\nCWD new\r\nPWD\r\nCWD /\r\n", "257 250 257 250", "", "257 \"/new\"", 0},
        {"RMD new\r\nRMD new\r\n", "250 550", "", NULL, 0},
        {"SIZE a.txt\r\n", "550", "", NULL, 0}, /* TYPE A */
        {"TYPE I\r\nSIZE a.txt\r\nSIZE sub\r\n", "200 213 550", "", "213 10\r\n", 0},
        {"MDTM a.txt\r\n", "213", "", NULL, 0},
        {"SYST\r\nNOOP\r\nALLO 10\r\nMODE S\r\nSTRU F\r\nOPTS UTF8 ON\r\n",
         "215 200 202 200 200 200", "", NULL, 0},
        {"MODE B\r\nTYPE E\r\nOPTS FOO\r\n", "504 504 501", "", NULL, 0},
        {"FEAT\r\nHELP\r\nSTAT\r\n", "211 214 211", "", "Logged in as alice", 0},
        {"MLST a.txt\r\n", "250", "", "size=10;", 0},
        {"XYZZY\r\nSITE CHMOD\r\n", "500 502", "", NULL, 0},
        {"ABOR\r\n", "225", "", NULL, 0},
        {"QUIT\r\n", "221", "", NULL, 1},
        {"NOOP\r\n", "", "", NULL, 1}, /* after QUIT nothing runs */
    };
    RUN(st);
    assert_int_equal(sess.closed, 1);
}

static void t_split_bytes(void **state)
{
    (void)state;
    start(0, 0);
    const char *in = "USER alice\r\nPASS pw\nPWD\r\n";
    for (const char *p = in; *p; p++)
        assert_int_equal(ftp_session_input(&sess, p, 1), 0);
    char got[64];
    codes(mem.out, got, sizeof got);
    assert_string_equal(got, "220 331 230 257");
}

static void t_wrong_passwords(void **state)
{
    (void)state;
    start(0, 0);
    static const struct step st[] = {
        {"USER alice\r\nPASS x\r\n", "331 530", "login alice x;", NULL, 0},
        {"PASS pw\r\n", "503", "", NULL, 0}, /* USER again first */
        {"USER alice\r\nPASS y\r\n", "331 530", "login alice y;", NULL, 0},
        {"PWD\r\n", "530", "", NULL, 0},
        /* the third failure closes; what follows in the buffer never runs */
        {"USER alice\r\nPASS z\r\nUSER alice\r\nPASS pw\r\n", "331 421", "login alice z;", NULL, 1},
    };
    RUN(st);
    assert_int_equal(sess.failed_logins, 3);
    assert_int_equal(sess.st.logged_in, 0);
}

static void t_require_tls(void **state)
{
    (void)state;
    start(1, 0);
    static const struct step st[] = {
        {"USER alice\r\n", "530", "", "TLS required", 0},
        {"PBSZ 0\r\nPROT P\r\n", "503 503", "", NULL, 0},
        {"FEAT\r\n", "211", "", "AUTH TLS", 0},
        {"AUTH SSL2\r\n", "504", "", NULL, 0},
        /* plaintext after AUTH in the same read is dropped (CVE-2011-0411) */
        {"AUTH TLS\r\nUSER injected\r\n", "234", "tls;", NULL, 0},
        {"AUTH TLS\r\n", "503", "", NULL, 0},
        {"USER alice\r\nPASS pw\r\n", "331 230", "login alice pw;", NULL, 0},
        {"PASV\r\nLIST\r\n", "227 521", "pasv;", "(127,0,0,1,195,80)", 0},
        {"PROT C\r\n", "503", "", "PBSZ first", 0},
        {"PBSZ 0\r\nPROT C\r\n", "200 534", "", "PBSZ=0", 0},
        {"CCC\r\n", "534", "", NULL, 0},
        {"PROT P\r\nLIST\r\n", "200 150", "xfer LIST / @0 A lines;", NULL, 0},
        {"CWD sub\r\n", "503", "", "Transfer in progress", 0},
        {"STAT\r\n", "213", "", NULL, 0},
        {END_OK, "226", "", NULL, 0},
        {"EPSV\r\nMLSD sub\r\n", "229 150", "pasv;xfer MLSD /sub @0 A lines;", "(|||50000|)", 0},
        {"ABOR\r\n", "426 226", "abort;", NULL, 0},
        {"EPSV 3\r\n", "522", "", NULL, 0},
        {"EPSV ALL\r\nPASV\r\nPORT 127,0,0,1,200,10\r\n", "200 503 503", "", NULL, 0},
    };
    RUN(st);
    assert_int_equal(sess.st.tls, 1);
}

static void t_anonymous(void **state)
{
    (void)state;
    start(0, 0);
    static const struct step st[] = {
        {"USER anonymous\r\nPASS me@\r\n", "331 230", "login anonymous me@;", "read-only", 0},
        {"STOR x\r\nAPPE a.txt\r\nDELE a.txt\r\nMKD d\r\nRMD sub\r\nRNFR a.txt\r\n",
         "550 550 550 550 550 550", "", NULL, 0},
        {"RNTO b\r\n", "503", "", NULL, 0},
        {"RETR a.txt\r\n", "425", "", NULL, 0},
        {"PASV\r\nRETR a.txt\r\n", "227 150", "pasv;xfer RETR /a.txt @0 A =0123456789;", NULL, 0},
        {END_OK, "226", "", NULL, 0},
        {"PASV\r\nNLST\r\n", "227 150", "pasv;xfer NLST / @0 A lines;", NULL, 0},
        {END_OK, "226", "", NULL, 0},
        {"MLST a.txt\r\n", "250", "", "perm=r;", 0},
    };
    RUN(st);
    assert_string_equal(slurp("root/a.txt"), "0123456789");
}

static void t_rename(void **state)
{
    (void)state;
    start(0, 0);
    put("root/r1", "one");
    static const struct step st[] = {
        {"USER alice\r\nPASS pw\r\n", "331 230", "login alice pw;", NULL, 0},
        {"RNTO r2\r\n", "503", "", NULL, 0},
        {"RNFR nothere\r\nRNTO r2\r\n", "550 503", "", NULL, 0},
        {"RNFR r1\r\nRNTO sub/r2\r\n", "350 250", "", NULL, 0},
        {"RNTO r3\r\n", "503", "", NULL, 0}, /* RNFR used up */
        {"RNFR sub/r2\r\nNOOP\r\nRNTO r3\r\n", "350 200 503", "", NULL, 0},
        {"RNFR sub/r2\r\nRNFR a.txt\r\nRNTO ../../r4\r\n", "350 350 250", "", NULL, 0},
    };
    RUN(st);
    assert_null(slurp("root/r1"));
    assert_string_equal(slurp("root/sub/r2"), "one");
    assert_string_equal(slurp("root/r4"), "0123456789"); /* clamped at the root */
    char a[512], b[512];
    snprintf(a, sizeof a, "%s/root/r4", top);
    snprintf(b, sizeof b, "%s/root/a.txt", top);
    assert_int_equal(rename(a, b), 0);
}

static void t_escapes(void **state)
{
    (void)state;
    start(0, 0);
    static const struct step st[] = {
        {"USER alice\r\nPASS pw\r\n", "331 230", "login alice pw;", NULL, 0},
        {"CWD ../../..\r\nPWD\r\n", "250 257", "", "257 \"/\"", 0},
        {"TYPE I\r\nSIZE ../secret\r\nSIZE out\r\nMDTM out\r\n", "200 550 550 550", "", NULL, 0},
        {"CWD outdir\r\nPWD\r\n", "550 257", "", "257 \"/\"", 0},
        {"PASV\r\nRETR out\r\n", "227 550", "pasv;", NULL, 0},
        {"RETR ../../secret\r\n", "550", "", NULL, 0}, /* data connection still ready */
        {"STOR outdir/x\r\n", "550", "", NULL, 0},
        {"MKD outdir/x\r\nDELE outdir/secret\r\nRNFR outdir/secret\r\n", "550 550 550", "", NULL,
         0},
        {"RETR .a.txt.part.abc123\r\n", "550", "", NULL, 0}, /* hidden upload names */
        {"LIST outdir\r\n", "550", "", NULL, 0},
        {"PORT 10,0,0,1,200,10\r\n", "504", "", "own address", 0},
        {"PORT 127,0,0,1,0,21\r\n", "504", "", "privileged", 0},
        {"EPRT |2|::1|5000|\r\n", "504", "", NULL, 0},
        {"PORT 127,0,0\r\n", "501", "", NULL, 0},
    };
    RUN(st);
    assert_string_equal(slurp("secret"), "SECRET");
}

static void t_rest(void **state)
{
    (void)state;
    start(0, 0);
    static const struct step st[] = {
        {"USER alice\r\nPASS pw\r\n", "331 230", "login alice pw;", NULL, 0},
        {"REST 3\r\nTYPE I\r\nPASV\r\nRETR a.txt\r\n", "350 200 227 150",
         "pasv;xfer RETR /a.txt @3 I =3456789;", NULL, 0},
        {END_OK, "226", "", NULL, 0},
        {"PASV\r\nRETR a.txt\r\n", "227 150", "pasv;xfer RETR /a.txt @0 I =0123456789;", NULL, 0},
        {END_OK, "226", "", NULL, 0},
        {"REST 3\r\nNOOP\r\nPASV\r\nRETR a.txt\r\n", "350 200 227 150",
         "pasv;xfer RETR /a.txt @0 I =0123456789;", NULL, 0},
        {END_OK, "226", "", NULL, 0},
        {"REST x\r\n", "501", "", NULL, 0},
        {"PASV\r\nREST 11\r\nRETR a.txt\r\n", "227 350 554", "pasv;", NULL, 0}, /* beyond */
        {"REST 10\r\nRETR a.txt\r\n", "350 150", "xfer RETR /a.txt @10 I =;", NULL, 0},
        {END_OK, "226", "", NULL, 0},
        /* REST + STOR in hidden mode: the prefix is kept, atomically */
        {"PUT\r\n", "500", "", NULL, 0},
        {"REST 2\r\nPORT 127,0,0,1,200,10\r\nSTOR a.txt\r\n", "350 200 150",
         "active 127.0.0.1:51210;xfer STOR /a.txt @2 I;", NULL, 0},
        {END_OK, "226", "", NULL, 0},
        {"EPRT |1|127.0.0.1|5000|\r\nAPPE a.txt\r\n", "200 150",
         "active 127.0.0.1:5000;xfer APPE /a.txt @0 I;", NULL, 0},
        {END_OK, "226", "", NULL, 0},
        {"PASV\r\nSTOR new.txt\r\n", "227 150", "pasv;xfer STOR /new.txt @0 I;", NULL, 0},
        {END_OK, "226", "", NULL, 0},
    };
    RUN(st);
    assert_string_equal(slurp("root/a.txt"), "01DATADATA");
    assert_string_equal(slurp("root/new.txt"), "DATA");
    put("root/a.txt", "0123456789");
}

static void t_transfer_refused(void **state)
{
    (void)state;
    start(0, 1);
    static const struct step st[] = {
        {"USER alice\r\nPASS pw\r\nTYPE I\r\n", "331 230 200", "login alice pw;", NULL, 0},
        {"PASV\r\nMLSD a.txt\r\n", "227 501", "pasv;", NULL, 0},
        {"RETR sub\r\n", "550", "", NULL, 0},
    };
    RUN(st);
    /* io cannot connect: 425, and the file the session opened is released */
    mem.xfer_code = 425;
    static const struct step st2[] = {
        {"RETR a.txt\r\n", "425", "xfer RETR /a.txt @0 I;", NULL, 0},
        {"RETR a.txt\r\n", "425", "", "PASV", 0}, /* the data connection was used up */
        {"NOOP\r\n", "200", "", NULL, 0},
    };
    RUN(st2);
    mem.xfer_code = 0;
    /* KEEP_PARTIAL: STOR writes the file itself */
    static const struct step st3[] = {
        {"PASV\r\nSTOR k.txt\r\n", "227 150", "pasv;xfer STOR /k.txt @0 I;", NULL, 0},
        /* QUIT during a transfer: the transfer ends first (RFC 959), then
         * 221; lines after QUIT are not read */
        {"QUIT\r\nNOOP\r\n", "", "", NULL, 0},
        {END_OK, "226 221", "", NULL, 0},
    };
    RUN(st3);
    assert_int_equal(sess.closed, 1);
    assert_string_equal(slurp("root/k.txt"), "DATA");
    assert_int_equal(sess.st.transfer, 0);
    /* and a failed transfer's reply comes before the 221 too */
    ftp_session_free(&sess);
    start(0, 0);
    static const struct step st4[] = {
        {"USER alice\r\nPASS pw\r\nTYPE I\r\n", "331 230 200", "login alice pw;", NULL, 0},
        {"PASV\r\nRETR a.txt\r\nQUIT\r\n", "227 150", "pasv;xfer RETR /a.txt @0 I =0123456789;",
         NULL, 0},
    };
    RUN(st4);
    mem.out_len = 0;
    mem.out[0] = '\0';
    assert_int_equal(ftp_session_transfer_fail(&sess, 426, "Cut."), 0);
    char got[64];
    codes(mem.out, got, sizeof got);
    assert_string_equal(got, "426 221");
    assert_int_equal(sess.closed, 1);
}

static int fail_reply(void *ctx, const char *text, size_t len)
{
    (void)ctx, (void)text, (void)len;
    return -1;
}
static int fail_tls(void *ctx)
{
    note(ctx, "tls-failed;");
    return -1;
}

/* Lines too long, names too long, and the io failing. */
static void t_limits(void **state)
{
    (void)state;
    start(0, 0);
    static char big[FTP_LINE_MAX + 64], user[FTP_USER_MAX + 16];
    memset(big, 'A', sizeof big);
    memcpy(big, "NOOP ", 5);
    memcpy(big + sizeof big - 3, "\r\n", 3);
    memset(user, 'u', sizeof user);
    memcpy(user, "USER ", 5);
    memcpy(user + sizeof user - 3, "\r\n", 3);
    const struct step st[] = {
        {big, "500", "", "too long", 0},    {user, "501", "", NULL, 0},
        {"NOOP x\r\n", "501", "", NULL, 0}, {"\r\n", "500", "", NULL, 0},
        {"noop\r\n", "200", "", NULL, 0},
    };
    RUN(st);
    ftp_session_free(&sess);

    /* io->reply failing: -1 from the greeting and from input */
    struct ftp_io io = mio;
    io.reply = fail_reply;
    struct ftp_session_config cfg;
    memset(&cfg, 0, sizeof cfg);
    assert_int_equal(ftp_session_init(&sess, &cfg, &io), -1);
    assert_int_equal(ftp_session_input(&sess, "NOOP\r\n", 6), -1);
    ftp_session_free(&sess);

    /* the handshake cannot start: -1, and the connection is to be dropped */
    start(0, 0);
    io = mio;
    io.start_tls = fail_tls;
    sess.io = &io;
    mem.calls_len = 0;
    assert_int_equal(ftp_session_input(&sess, "AUTH TLS\r\nNOOP\r\n", 16), -1);
    assert_string_equal(mem.calls, "tls-failed;");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_teardown(t_login_and_dirs, per_test_end),
        cmocka_unit_test_teardown(t_split_bytes, per_test_end),
        cmocka_unit_test_teardown(t_wrong_passwords, per_test_end),
        cmocka_unit_test_teardown(t_require_tls, per_test_end),
        cmocka_unit_test_teardown(t_anonymous, per_test_end),
        cmocka_unit_test_teardown(t_rename, per_test_end),
        cmocka_unit_test_teardown(t_escapes, per_test_end),
        cmocka_unit_test_teardown(t_rest, per_test_end),
        cmocka_unit_test_teardown(t_transfer_refused, per_test_end),
        cmocka_unit_test_teardown(t_limits, per_test_end),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
