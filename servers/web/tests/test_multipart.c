/*
 * test_multipart.c - the multipart/form-data parser: tables of bodies with
 * the parts, data and result each must give, every body fed at once, byte
 * by byte and in two pieces at every split point (all must agree), the
 * error table, boundaries, and the file name rule.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "multipart.h"

/* The events of a run as text: "[name|F:file|type]" for a part ("F:"
 * only with a filename parameter), the data bytes, "$" at a part's end,
 * then "=rc" (0 when complete, else the error). */
struct run {
    char log[8192];
    size_t n;
};

static void put(struct run *r, const char *s, size_t n)
{
    assert_true(r->n + n < sizeof r->log);
    memcpy(r->log + r->n, s, n);
    r->n += n;
    r->log[r->n] = '\0';
}

/* Feeds body: first a piece of cut bytes, then pieces of step bytes. */
static int feed(const char *b, const char *body, size_t len, size_t cut, size_t step,
                const struct multipart_limits *lim, struct run *r)
{
    static struct multipart m;
    size_t pos = 0;
    int rc = MULTIPART_MORE;
    char tmp[16];

    r->n = 0;
    r->log[0] = '\0';
    if (multipart_init(&m, b, strlen(b), lim) != 0)
        return -1;
    while (pos < len && rc >= 0 && rc != MULTIPART_DONE) {
        size_t avail = pos < cut ? cut - pos : step, off = 0;
        if (avail > len - pos)
            avail = len - pos;
        while (off < avail) {
            size_t used, dlen;
            const char *d;
            rc = multipart_feed(&m, body + pos + off, avail - off, &used, &d, &dlen);
            assert_true(used <= avail - off);
            if (rc == MULTIPART_DATA) {
                assert_true(dlen > 0);
                int in_piece = d >= body + pos + off && d + dlen <= body + pos + avail;
                int in_delim = d >= m.delim && d + dlen <= m.delim + m.dlen;
                assert_true(in_piece || (in_delim && used == 0));
                put(r, d, dlen);
            } else if (rc == MULTIPART_PART) {
                put(r, "[", 1);
                put(r, m.part.name, strlen(m.part.name));
                put(r, "|", 1);
                if (m.part.has_filename) {
                    put(r, "F:", 2);
                    put(r, m.part.filename, strlen(m.part.filename));
                }
                put(r, "|", 1);
                put(r, m.part.content_type, strlen(m.part.content_type));
                put(r, "]", 1);
            } else if (rc == MULTIPART_PART_END) {
                put(r, "$", 1);
            } else if (rc == MULTIPART_MORE) {
                assert_int_equal(off + used, avail);
            }
            off += used;
            if (rc < 0 || rc == MULTIPART_DONE)
                break;
        }
        pos += avail;
    }
    if (rc >= 0)
        rc = multipart_finish(&m);
    snprintf(tmp, sizeof tmp, "=%d", rc);
    put(r, tmp, strlen(tmp));
    return rc;
}

struct row {
    const char *boundary, *body, *log;
};

#define CD "Content-Disposition: form-data; "
static const struct row good[] = {
    {"B", "--B\r\n" CD "name=\"a\"\r\n\r\nhello\r\n--B--\r\n", "[a||]hello$=0"},
    {"B", "--B\r\n" CD "name=a\r\n\r\n\r\n--B--", "[a||]$=0"}, /* empty data, token name */
    /* preamble, padding, epilogue, a file with a Windows path */
    {"xyz",
     "preamble\r\n--xy\r\n--xyz \t\r\n" CD "name=\"f\"; filename=\"C:\\d\\a.txt\"\r\n"
     "Content-Type: text/plain\r\n\r\nline1\r\nline2\r\n--xyz\r\n" CD "name=\"n\"\r\n\r\n42"
     "\r\n--xyz--\r\nepilogue\r\n--xyz\r\njunk",
     "[f|F:a.txt|text/plain]line1\r\nline2$[n||]42$=0"},
    /* data that looks like the start of a delimiter */
    {"AbC", "--AbC\r\n" CD "name=\"d\"\r\n\r\n\r\n--Ab\r\r\n--AbX\r\n-\r\n--abc--AbC\r\r\n--AbC--",
     "[d||]\r\n--Ab\r\r\n--AbX\r\n-\r\n--abc--AbC\r$=0"},
    {"B", "--B--", "=0"}, /* no part at all */
    {"B", "--B\r\n" CD "name=\"\"; filename=\"\"\r\n\r\n\r\n--B--", "[|F:|]$=0"},
    {"a'()+_,-./:=? b",
     "--a'()+_,-./:=? b\r\n" CD "NAME=\"x;y\"\r\nX-Other: 1\r\n\r\nv\r\n"
     "--a'()+_,-./:=? b--",
     "[x;y||]v$=0"},
    {"B",
     "--B\r\ncontent-disposition:FORM-DATA;name=\"a\";filename=\"../../etc/pas\tswd\"  \r\n"
     "\r\nz\r\n--B--",
     "[a|F:pas_swd|]z$=0"},
    /* filename* is ignored, the first delimiter may follow a preamble line */
    {"B", "x\r\n--B\r\n" CD "name=\"a\"; filename*=UTF-8''x.txt\r\n\r\n1\r\n--B--", "[a||]1$=0"},
};

static const struct row bad[] = {
    {"B", "--B\r\nContent-Type: text/plain\r\n\r\nx\r\n--B--", "=-400"}, /* no disposition */
    {"B", "--B\r\nContent-Disposition: attachment; name=a\r\n\r\nx\r\n--B--", "=-400"},
    {"B", "--B\r\n" CD "filename=\"a\"\r\n\r\nx\r\n--B--", "=-400"}, /* no name */
    {"B", "--B\r\n" CD "name=a; name=b\r\n\r\nx\r\n--B--", "=-400"},
    {"B", "--B\r\n" CD "name=\"a\r\n\r\nx\r\n--B--", "=-400"}, /* open quote */
    {"B", "--B\r\n" CD "name=a;\r\n\r\nx\r\n--B--", "=-400"},
    {"B", "--B\r\n" CD "name=a\r\nNoColon\r\n\r\nx\r\n--B--", "=-400"},
    {"B", "--B\r\n" CD "name=a\r\n folded\r\n\r\nx\r\n--B--", "=-400"},
    {"B", "--B\r\n" CD "name=a\n\r\nx\r\n--B--", "=-400"},      /* bare LF */
    {"B", "--B\r\n" CD "name=a\rb\r\n\r\nx\r\n--B--", "=-400"}, /* bare CR */
    {"B", "--B\r\n" CD "name=a\r\n" CD "name=b\r\n\r\nx\r\n--B--", "=-400"},
    {"B", "--B\r\n" CD "name=a\x01\r\n\r\nx\r\n--B--", "=-400"},
    {"B", "--Bx\r\n" CD "name=a\r\n\r\nx\r\n--B--", "=-400"}, /* not padding */
    {"B", "--B\n" CD "name=a\r\n\r\nx\r\n--B--", "=-400"},
    {"B", "--B\r\n" CD "name=a\r\n\r\nx\r\n--B-x", "[a||]x$=-400"},
    {"B", "--B\r\n" CD "name=a\r\n\r\nx\r\n--B", "[a||]x$=-400"}, /* no close */
    {"B", "--B\r\n" CD "name=a\r\n\r\nx\r\n", "[a||]x=-400"},
    {"B", "no delimiter at all", "=-400"},
    {"B", "", "=-400"},
};

/* Every split agrees with the whole, and the whole gives the table's log. */
static void check_row(const struct row *t, const struct multipart_limits *lim)
{
    struct run whole, part;
    size_t len = strlen(t->body), k;

    feed(t->boundary, t->body, len, len, len, lim, &whole);
    assert_string_equal(whole.log, t->log);
    feed(t->boundary, t->body, len, 0, 1, lim, &part);
    assert_string_equal(part.log, t->log);
    for (k = 0; k <= len; k++) {
        feed(t->boundary, t->body, len, k, len, lim, &part);
        assert_string_equal(part.log, t->log);
        feed(t->boundary, t->body, len, k, 2, lim, &part);
        assert_string_equal(part.log, t->log);
    }
}

static void test_good(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof good / sizeof good[0]; i++)
        check_row(&good[i], NULL);
}

static void test_bad(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        check_row(&bad[i], NULL);
}

static void test_limits(void **state)
{
    static const struct multipart_limits two = {64, 2};
    static const struct row three = {"B",
                                     "--B\r\n" CD "name=a\r\n\r\n1\r\n--B\r\n" CD
                                     "name=b\r\n\r\n2\r\n--B\r\n" CD "name=c\r\n\r\n3\r\n--B--",
                                     "[a||]1$[b||]2$=-413"};
    static const struct row fits = {
        "B", "--B\r\n" CD "name=a\r\n\r\n1\r\n--B\r\n" CD "name=b\r\n\r\n2\r\n--B--",
        "[a||]1$[b||]2$=0"};
    /* header bytes: CD "name=a\r\n" is 40, the blank line 2: 64 leaves 22 */
    static const struct row hdr_ok = {
        "B", "--B\r\n" CD "name=a\r\nX-Pad: 1234567890123\r\n\r\n\r\n--B--", "[a||]$=0"};
    static const struct row hdr_big = {
        "B", "--B\r\n" CD "name=a\r\nX-Pad: 12345678901234\r\n\r\n\r\n--B--", "=-413"};
    char big[400], name[MULTIPART_MAX_NAME + 2];
    struct row r = {"B", big, "=-413"};
    struct run run;

    (void)state;
    check_row(&three, &two);
    check_row(&fits, &two);
    check_row(&hdr_ok, &two);
    check_row(&hdr_big, &two);
    /* a name of 128 bytes is too long, 127 fits */
    memset(name, 'n', sizeof name - 1);
    name[sizeof name - 1] = '\0';
    snprintf(big, sizeof big, "--B\r\n" CD "name=%s\r\n\r\nx\r\n--B--", name);
    check_row(&r, NULL);
    name[MULTIPART_MAX_NAME] = '\0';
    snprintf(big, sizeof big, "--B\r\n" CD "name=%s\r\n\r\nx\r\n--B--", name);
    assert_int_equal(feed("B", big, strlen(big), strlen(big), 1, NULL, &run), 0);
    /* the default: 64 parts */
    static char many[65 * 64];
    size_t n = 0;
    for (int i = 0; i < 65; i++)
        n += (size_t)snprintf(many + n, sizeof many - n, "--B\r\n" CD "name=p%d\r\n\r\n\r\n", i);
    n += (size_t)snprintf(many + n, sizeof many - n, "--B--");
    assert_int_equal(feed("B", many, n, n, n, NULL, &run), -413);
    assert_non_null(strstr(run.log, "[p63||]$=-413"));
}

static void test_boundary(void **state)
{
    struct multipart m;
    char b71[72];

    (void)state;
    memset(b71, 'b', 71);
    assert_int_equal(multipart_init(&m, "", 0, NULL), -400);
    assert_int_equal(multipart_init(&m, NULL, 1, NULL), -400);
    assert_int_equal(multipart_init(&m, b71, 71, NULL), -400);
    assert_int_equal(multipart_init(&m, b71, 70, NULL), 0);
    assert_int_equal(multipart_init(&m, "a ", 2, NULL), -400);
    assert_int_equal(multipart_init(&m, "a b", 3, NULL), 0);
    assert_int_equal(multipart_init(&m, "a\r", 2, NULL), -400);
    assert_int_equal(multipart_init(&m, "a\0b", 3, NULL), -400);
    assert_int_equal(multipart_init(&m, "a\"b", 3, NULL), -400);
    assert_int_equal(multipart_init(&m, "a;b", 3, NULL), -400);
    /* a parser whose init failed answers -400 */
    size_t used, dl;
    const char *d;
    assert_int_equal(multipart_feed(&m, "--a", 3, &used, &d, &dl), -400);
    assert_int_equal(multipart_finish(&m), -400);
}

static void test_sanitize(void **state)
{
    static const struct {
        const char *in, *out;
    } t[] = {
        {"a.txt", "a.txt"},
        {"/etc/passwd", "passwd"},
        {"C:\\Users\\x\\report.pdf", "report.pdf"},
        {"..", ""},
        {".", ""},
        {"../..", ""},
        {"dir/..", ""},
        {".htaccess", "htaccess"},
        {" . .x. . ", "x"},
        {"a..b", "a..b"},
        {"a\nb\rc\x7f"
         "d",
         "a_b_c_d"},
        {"w\"h*a:t<?>|", "w_h_a_t____"},
        {"gr\xc3\xbc\xc3\x9f.txt", "gr\xc3\xbc\xc3\x9f.txt"},
        {"trailing/", ""},
        {"", ""},
    };
    char out[32];

    (void)state;
    for (size_t i = 0; i < sizeof t / sizeof t[0]; i++) {
        long n = multipart_sanitize_filename(t[i].in, strlen(t[i].in), out, sizeof out);
        assert_string_equal(out, t[i].out);
        assert_int_equal(n, (long)strlen(t[i].out));
    }
    /* an embedded NUL becomes '_' too */
    assert_int_equal(multipart_sanitize_filename("a\0b", 3, out, sizeof out), 3);
    assert_string_equal(out, "a_b");
    assert_int_equal(multipart_sanitize_filename("abcd", 4, out, 4), -1);
    assert_string_equal(out, "");
    assert_int_equal(multipart_sanitize_filename("abc", 3, out, 4), 3);
    assert_int_equal(multipart_sanitize_filename("abc", 3, NULL, 4), -1);
}

/* The words for the error log. */
static void test_why(void **state)
{
    static const struct {
        const char *body, *why;
    } t[] = {
        {"--B\r\nContent-Type: x\r\n\r\n", "part: no Content-Disposition"},
        {"--B\r\n" CD "name=\"a\r\n\r\n", "part: Content-Disposition: unterminated quote"},
        {"--B\r\n" CD "filename=a\r\n\r\n", "part: Content-Disposition without name="},
        {"--B\r\n" CD "name=a\n", "part: bare LF in a header"},
        {"--Bx", "delimiter line: text after the boundary"},
        {"--B\r\n" CD "name=a\r\n\r\n\r\n--B-x", "'-' after a delimiter's first '-'"},
    };
    struct multipart m;
    size_t used, dl;
    const char *d;

    (void)state;
    for (size_t i = 0; i < sizeof t / sizeof t[0]; i++) {
        const char *p = t[i].body;
        size_t n = strlen(p);
        int rc;
        assert_int_equal(multipart_init(&m, "B", 1, NULL), 0);
        assert_null(m.why);
        do {
            rc = multipart_feed(&m, p, n, &used, &d, &dl);
            p += used;
            n -= used;
        } while (rc >= 0 && n > 0);
        assert_int_equal(rc, -400);
        assert_string_equal(m.why, t[i].why);
    }
    assert_int_equal(multipart_init(&m, "B ", 2, NULL), -400);
    assert_string_equal(m.why, "bad boundary");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_good),     cmocka_unit_test(test_bad),
        cmocka_unit_test(test_limits),   cmocka_unit_test(test_boundary),
        cmocka_unit_test(test_sanitize), cmocka_unit_test(test_why),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
