/*
 * test_ftp_cmd - the line assembler, the verb table, the argument parsers
 * and the state table, one row per case.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

#include <cmocka.h>

#include "ftp_cmd.h"

/* Feeds s byte by byte and at once; both must give the same first line. */
static int line_of(const char *s, size_t n, char *out, size_t *outlen)
{
    struct ftp_line a, b;
    ftp_line_init(&a);
    ftp_line_init(&b);
    size_t used;
    int rca = ftp_line_feed(&a, s, n, &used);
    int rcb = FTP_LINE_MORE;
    for (size_t i = 0; i < n && rcb == FTP_LINE_MORE; i++) {
        size_t u;
        rcb = ftp_line_feed(&b, s + i, 1, &u);
        assert_int_equal(u, 1);
    }
    assert_int_equal(rca, rcb);
    if (rca == FTP_LINE_DONE) {
        assert_int_equal(a.len, b.len);
        assert_memory_equal(a.buf, b.buf, a.len);
        memcpy(out, a.buf, a.len + 1);
        *outlen = a.len;
    }
    return rca;
}

static void test_lines(void **state)
{
    (void)state;
    static const struct {
        const char *in;
        size_t n;
        int rc;
        const char *line;
        size_t len;
    } rows[] = {
        {.in = "NOOP\r\n", .n = 6, .rc = FTP_LINE_DONE, .line = "NOOP", .len = 4},
        {.in = "NOOP\n", .n = 5, .rc = FTP_LINE_DONE, .line = "NOOP", .len = 4},
        {.in = "NOOP", .n = 4, .rc = FTP_LINE_MORE},
        {.in = "NOOP\r", .n = 5, .rc = FTP_LINE_MORE},
        /* Telnet: IAC IP IAC DM before ABOR (RFC 959 s.4.1.3) */
        {.in = "\xff\xf4\xff\xf2"
               "ABOR\r\n",
         .n = 10,
         .rc = FTP_LINE_DONE,
         .line = "ABOR",
         .len = 4},
        /* IAC WILL x, IAC DO x are negotiation, dropped with their option */
        {.in = "NO\xff\xfb\x01OP\r\n", .n = 9, .rc = FTP_LINE_DONE, .line = "NOOP", .len = 4},
        {.in = "\xff\xfd\x03NOOP\n", .n = 8, .rc = FTP_LINE_DONE, .line = "NOOP", .len = 4},
        /* IAC IAC is one 0xFF data byte */
        {.in = "STOR a\xff\xff"
               "b\r\n",
         .n = 11,
         .rc = FTP_LINE_DONE,
         .line = "STOR a\xff"
                 "b",
         .len = 8},
        /* CR NUL is a CR in data; a lone CR stays */
        {.in = "STOR a\r\0b\r\n", .n = 11, .rc = FTP_LINE_DONE, .line = "STOR a\rb", .len = 8},
        {.in = "STOR a\rb\r\n", .n = 10, .rc = FTP_LINE_DONE, .line = "STOR a\rb", .len = 8},
        {.in = "\r\n", .n = 2, .rc = FTP_LINE_DONE, .line = "", .len = 0},
    };
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
        char out[FTP_LINE_MAX + 1];
        size_t len = 0;
        int rc = line_of(rows[i].in, rows[i].n, out, &len);
        if (rc != rows[i].rc)
            fail_msg("row %zu: rc %d", i, rc);
        if (rc == FTP_LINE_DONE) {
            assert_int_equal(len, rows[i].len);
            assert_memory_equal(out, rows[i].line, len);
        }
    }
}

static void test_long_line(void **state)
{
    (void)state;
    static char big[FTP_LINE_MAX + 100];
    memset(big, 'A', sizeof big);
    big[sizeof big - 1] = '\n';
    struct ftp_line l;
    ftp_line_init(&l);
    size_t used;
    /* Exactly FTP_LINE_MAX is fine, one more is LONG. */
    char ok[FTP_LINE_MAX + 1];
    memset(ok, 'B', FTP_LINE_MAX);
    ok[FTP_LINE_MAX] = '\n';
    assert_int_equal(ftp_line_feed(&l, ok, sizeof ok, &used), FTP_LINE_DONE);
    assert_int_equal(l.len, FTP_LINE_MAX);
    assert_int_equal(ftp_line_feed(&l, big, sizeof big, &used), FTP_LINE_LONG);
    assert_int_equal(used, sizeof big);
    /* and the stream goes on with the next line */
    assert_int_equal(ftp_line_feed(&l, "QUIT\r\nNOOP", 10, &used), FTP_LINE_DONE);
    assert_int_equal(used, 6);
    assert_string_equal(l.buf, "QUIT");
    assert_int_equal(ftp_line_feed(&l, "NOOP", 4, &used), FTP_LINE_MORE);
    assert_int_equal(ftp_line_feed(&l, "\r\nPWD\nCWD x\r", 13, &used), FTP_LINE_DONE);
    assert_int_equal(used, 2);
    assert_string_equal(l.buf, "NOOP");
    assert_int_equal(ftp_line_feed(&l, "PWD\nCWD x\r", 11, &used), FTP_LINE_DONE);
    assert_int_equal(used, 4);
    assert_string_equal(l.buf, "PWD");
    assert_int_equal(ftp_line_feed(&l, "CWD x\r", 6, &used), FTP_LINE_MORE);
    assert_int_equal(ftp_line_feed(&l, "\n", 1, &used), FTP_LINE_DONE);
    assert_string_equal(l.buf, "CWD x");
    assert_int_equal(l.len, 5);
}

static void test_parse(void **state)
{
    (void)state;
    static const struct {
        const char *line;
        int rc;
        enum ftp_verb verb;
        const char *arg;
    } rows[] = {
        {"noop", 0, FTP_NOOP, ""},
        {"Retr  two spaces", 0, FTP_RETR, " two spaces"},
        {"STOR name with space ", 0, FTP_STOR, "name with space "},
        {"XPWD", 0, FTP_PWD, ""},
        {"xmkd d", 0, FTP_MKD, "d"},
        {"LIST", 0, FTP_LIST, ""},
        {"LIST -la /x", 0, FTP_LIST, "-la /x"},
        {"PASS", 0, FTP_PASS, ""},
        {"CCC", 0, FTP_CCC, ""},
        {"ALLO 100", 0, FTP_ALLO, "100"},
        {"", 500, FTP_V_NONE, ""},
        {" NOOP", 500, FTP_V_NONE, ""},
        {"NOOPS", 500, FTP_V_NONE, ""},
        {"SITE CHMOD 777 x", 502, FTP_V_NONE, ""},
        {"stou", 502, FTP_V_NONE, ""},
        {"XYZ", 500, FTP_V_NONE, ""},
        {"N0OP", 500, FTP_V_NONE, ""},
        {"RETR a\rb", 500, FTP_V_NONE, ""},
        {"RETR", 501, FTP_RETR, ""},
        {"CWD ", 501, FTP_CWD, ""},
        {"PWD x", 501, FTP_PWD, ""},
        {"QUIT now", 501, FTP_QUIT, ""},
    };
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
        char buf[64];
        snprintf(buf, sizeof buf, "%s", rows[i].line);
        struct ftp_cmd c;
        int rc = ftp_cmd_parse(buf, strlen(buf), &c);
        if (rc != rows[i].rc || c.verb != rows[i].verb)
            fail_msg("row %zu (%s): rc %d verb %d", i, rows[i].line, rc, c.verb);
        if (rc == 0)
            assert_string_equal(c.arg, rows[i].arg);
    }
}

static void test_port_eprt(void **state)
{
    (void)state;
    static const struct {
        int eprt;
        const char *arg;
        int rc;
        int family;
        const char *addr; /* as text, via ftp_format_eprt */
        unsigned port;
    } rows[] = {
        {0, "127,0,0,1,4,1", 0, 4, "|1|127.0.0.1|1025|", 1025},
        {0, "10,1,2,3,255,255", 0, 4, "|1|10.1.2.3|65535|", 65535},
        {0, "127,0,0,1,0,0", 501, 0, NULL, 0},
        {0, "127,0,0,1,4", 501, 0, NULL, 0},
        {0, "127,0,0,1,4,1,", 501, 0, NULL, 0},
        {0, "256,0,0,1,4,1", 501, 0, NULL, 0},
        {0, "127,0,0,-1,4,1", 501, 0, NULL, 0},
        {0, "127, 0,0,1,4,1", 501, 0, NULL, 0},
        {0, "99999999999999999999,0,0,1,4,1", 501, 0, NULL, 0},
        {1, "|1|132.235.1.2|6275|", 0, 4, "|1|132.235.1.2|6275|", 6275},
        {1, "|2|::1|5282|", 0, 6, "|2|::1|5282|", 5282},
        {1, "!2!1080::8:800:200C:417A!5282!", 0, 6, "|2|1080::8:800:200c:417a|5282|", 5282},
        {1, "|3|1.2.3.4|21|", 522, 0, NULL, 0},
        {1, "|1|::1|21|", 501, 0, NULL, 0},
        {1, "|2|1.2.3.4|21|", 501, 0, NULL, 0},
        {1, "|1|1.2.3.4|0|", 501, 0, NULL, 0},
        {1, "|1|1.2.3.4|65536|", 501, 0, NULL, 0},
        {1, "|1|1.2.3.4|21", 501, 0, NULL, 0},
        {1, "|1|1.2.3.4|21||", 501, 0, NULL, 0},
        {1, "1|1|1.2.3.4|21|", 501, 0, NULL, 0},
        {1, "|1||21|", 501, 0, NULL, 0},
        {1, "", 501, 0, NULL, 0},
    };
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
        struct ftp_hostport hp;
        int rc = rows[i].eprt ? ftp_parse_eprt(rows[i].arg, &hp) : ftp_parse_port(rows[i].arg, &hp);
        if (rc != rows[i].rc)
            fail_msg("row %zu (%s): rc %d", i, rows[i].arg, rc);
        if (rc)
            continue;
        assert_int_equal(hp.family, rows[i].family);
        assert_int_equal(hp.port, rows[i].port);
        char b[80];
        assert_true(ftp_format_eprt(b, sizeof b, &hp) > 0);
        assert_string_equal(b, rows[i].addr);
        if (!rows[i].eprt) { /* PORT round trip */
            assert_true(ftp_format_port(b, sizeof b, &hp) > 0);
            assert_string_equal(b, rows[i].arg);
        }
    }
}

static void test_small_args(void **state)
{
    (void)state;
    int proto;
    assert_int_equal(ftp_parse_epsv("", &proto), 0);
    assert_int_equal(proto, 0);
    assert_int_equal(ftp_parse_epsv("all", &proto), 0);
    assert_int_equal(proto, -1);
    assert_int_equal(ftp_parse_epsv("2", &proto), 0);
    assert_int_equal(proto, 2);
    assert_int_equal(ftp_parse_epsv("3", &proto), 522);
    assert_int_equal(ftp_parse_epsv("x", &proto), 501);

    unsigned long long off;
    assert_int_equal(ftp_parse_rest("0", &off), 0);
    assert_int_equal(ftp_parse_rest("9223372036854775807", &off), 0);
    assert_int_equal(off, 9223372036854775807ull);
    assert_int_equal(ftp_parse_rest("9223372036854775808", &off), 501);
    assert_int_equal(ftp_parse_rest("-1", &off), 501);
    assert_int_equal(ftp_parse_rest("12a", &off), 501);

    static const struct {
        const char *arg;
        int rc;
        char type;
    } types[] = {
        {"A", 0, 'A'},   {"a", 0, 'A'},   {"A N", 0, 'A'}, {"I", 0, 'I'},   {"i", 0, 'I'},
        {"L 8", 0, 'I'}, {"L 7", 504, 0}, {"E", 504, 0},   {"A T", 504, 0}, {"X", 501, 0},
        {"I x", 501, 0}, {"L", 501, 0},   {"L8", 501, 0},
    };
    for (size_t i = 0; i < sizeof types / sizeof types[0]; i++) {
        char t = 0;
        int rc = ftp_parse_type(types[i].arg, &t);
        if (rc != types[i].rc || (rc == 0 && t != types[i].type))
            fail_msg("TYPE %s: %d %c", types[i].arg, rc, t);
    }
    assert_int_equal(ftp_parse_mode("S"), 0);
    assert_int_equal(ftp_parse_mode("s"), 0);
    assert_int_equal(ftp_parse_mode("B"), 504);
    assert_int_equal(ftp_parse_mode("Q"), 501);
    assert_int_equal(ftp_parse_stru("F"), 0);
    assert_int_equal(ftp_parse_stru("R"), 504);
    assert_int_equal(ftp_parse_stru("FF"), 501);
    char lv;
    assert_int_equal(ftp_parse_prot("P", &lv), 0);
    assert_int_equal(lv, 'P');
    assert_int_equal(ftp_parse_prot("c", &lv), 0);
    assert_int_equal(lv, 'C');
    assert_int_equal(ftp_parse_prot("S", &lv), 536);
    assert_int_equal(ftp_parse_prot("X", &lv), 501);
    unsigned long sz = 7;
    assert_int_equal(ftp_parse_pbsz("0", &sz), 0);
    assert_int_equal(sz, 0);
    assert_int_equal(ftp_parse_pbsz("1024", &sz), 0);
    assert_int_equal(ftp_parse_pbsz("x", &sz), 501);
    assert_int_equal(ftp_parse_auth("TLS"), 0);
    assert_int_equal(ftp_parse_auth("tls-c"), 0);
    assert_int_equal(ftp_parse_auth("SSL"), 0);
    assert_int_equal(ftp_parse_auth("KERBEROS_V4"), 504);
    assert_int_equal(ftp_parse_opts("UTF8 ON"), 0);
    assert_int_equal(ftp_parse_opts("utf8"), 0);
    assert_int_equal(ftp_parse_opts("UTF8 OFF"), 501);
    assert_int_equal(ftp_parse_opts("MLST type;"), 501);
}

static void test_bounce(void **state)
{
    (void)state;
    struct sockaddr_in v4 = {.sin_family = AF_INET, .sin_port = htons(40000)};
    inet_pton(AF_INET, "192.0.2.7", &v4.sin_addr);
    struct sockaddr_in6 v6 = {.sin6_family = AF_INET6, .sin6_port = htons(40000)};
    inet_pton(AF_INET6, "2001:db8::7", &v6.sin6_addr);
    struct sockaddr_in6 mapped = {.sin6_family = AF_INET6};
    inet_pton(AF_INET6, "::ffff:192.0.2.7", &mapped.sin6_addr);
    static const struct {
        const char *cmd;
        int peer; /* 4, 6, 46 (mapped) */
        int code;
    } rows[] = {
        {"PORT 192,0,2,7,4,1", 4, 0},
        {"PORT 192,0,2,7,4,1", 46, 0},
        {"PORT 192,0,2,8,4,1", 4, 504},  /* another host: bounce */
        {"PORT 127,0,0,1,4,1", 4, 504},  /* the server's own loopback */
        {"PORT 192,0,2,7,0,25", 4, 504}, /* privileged port (SMTP) */
        {"PORT 192,0,2,7,4,0", 4, 0},    /* 1024 */
        {"PORT 192,0,2,7,3,255", 4, 504},
        {"EPRT |1|192.0.2.7|5000|", 46, 0},
        {"EPRT |2|2001:db8::7|5000|", 6, 0},
        {"EPRT |2|2001:db8::8|5000|", 6, 504},
        {"EPRT |2|::ffff:192.0.2.7|5000|", 4, 504}, /* family must match */
        {"EPRT |1|192.0.2.7|5000|", 6, 504},
    };
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
        char buf[64];
        snprintf(buf, sizeof buf, "%s", rows[i].cmd);
        struct ftp_cmd c;
        struct ftp_hostport hp;
        assert_int_equal(ftp_cmd_parse(buf, strlen(buf), &c), 0);
        int rc = c.verb == FTP_PORT ? ftp_parse_port(c.arg, &hp) : ftp_parse_eprt(c.arg, &hp);
        assert_int_equal(rc, 0);
        const struct sockaddr *peer = rows[i].peer == 4   ? (const struct sockaddr *)&v4
                                      : rows[i].peer == 6 ? (const struct sockaddr *)&v6
                                                          : (const struct sockaddr *)&mapped;
        const char *why;
        int code = ftp_port_allowed(&hp, peer, &why);
        if (code != rows[i].code)
            fail_msg("row %zu (%s): %d %s", i, rows[i].cmd, code, why);
    }
    struct ftp_hostport hp;
    assert_int_equal(ftp_hostport_from((const struct sockaddr *)&mapped, &hp), 0);
    assert_int_equal(hp.family, 4);
    char b[80];
    assert_true(ftp_reply_227(b, sizeof b, &hp) > 0);
    assert_string_equal(b, "227 Entering Passive Mode (192,0,2,7,0,0).\r\n");
    struct sockaddr un = {.sa_family = AF_UNIX};
    assert_int_equal(ftp_hostport_from(&un, &hp), -1);
}

static void test_state(void **state)
{
    (void)state;
    enum {
        TLSREQ = 1,
        TLS = 2,
        PBSZ = 4,
        PROTP = 8,
        USER = 16,
        IN = 32,
        ANON = 64,
        RNFR = 128,
        XFER = 256
    };
    static const struct {
        const char *line;
        int st;
        int code;
    } rows[] = {
        /* before AUTH TLS with REQUIRE_TLS */
        {"USER bob", TLSREQ, 530},
        {"PASS x", TLSREQ | USER, 530},
        {"AUTH TLS", TLSREQ, 0},
        {"FEAT", TLSREQ, 0},
        {"PBSZ 0", TLSREQ, 503},
        {"PROT P", TLSREQ, 503},
        {"LIST", TLSREQ, 530},
        {"QUIT", TLSREQ, 0},
        /* without REQUIRE_TLS a plain login is allowed */
        {"USER bob", 0, 0},
        {"PASS x", 0, 503},
        {"PASS x", USER, 0},
        /* after AUTH TLS */
        {"AUTH TLS", TLSREQ | TLS, 503},
        {"USER bob", TLSREQ | TLS, 0},
        {"PROT P", TLSREQ | TLS, 503},
        {"PBSZ 0", TLSREQ | TLS, 0},
        {"PROT P", TLSREQ | TLS | PBSZ, 0},
        {"PROT C", TLSREQ | TLS | PBSZ, 534},
        {"PROT C", TLS | PBSZ, 0},
        {"CCC", TLSREQ | TLS | IN, 534},
        /* before login */
        {"PWD", TLSREQ | TLS, 530},
        {"RETR f", TLS, 530},
        {"SYST", TLS, 0},
        /* logged in */
        {"USER bob", TLSREQ | TLS | IN, 503},
        {"RETR f", TLSREQ | TLS | IN, 521},
        {"LIST", TLSREQ | TLS | IN | PBSZ | PROTP, 0},
        {"PASV", TLSREQ | TLS | IN, 0},
        {"RETR f", IN, 0},
        {"RNTO b", IN, 503},
        {"RNTO b", IN | RNFR, 0},
        {"STOR f", IN | ANON, 550},
        {"DELE f", IN | ANON, 550},
        {"RETR f", IN | ANON, 0},
        /* during a transfer */
        {"NOOP", IN | XFER, 503},
        {"RETR g", IN | XFER, 503},
        {"ABOR", IN | XFER, 0},
        {"STAT", IN | XFER, 0},
        {"QUIT", IN | XFER, 0},
    };
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
        char buf[64];
        snprintf(buf, sizeof buf, "%s", rows[i].line);
        struct ftp_cmd c;
        assert_int_equal(ftp_cmd_parse(buf, strlen(buf), &c), 0);
        int st = rows[i].st;
        struct ftp_state s = {
            .require_tls = !!(st & TLSREQ),
            .tls = !!(st & TLS),
            .pbsz = !!(st & PBSZ),
            .prot_private = !!(st & PROTP),
            .user_given = !!(st & USER),
            .logged_in = !!(st & IN),
            .anonymous = !!(st & ANON),
            .rnfr = !!(st & RNFR),
            .transfer = !!(st & XFER),
        };
        const char *why;
        int code = ftp_cmd_allowed(&c, &s, &why);
        if (code != rows[i].code)
            fail_msg("row %zu (%s, state %#x): %d %s", i, rows[i].line, st, code, why);
        assert_true(code == 0 || why[0] != '\0');
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_lines),      cmocka_unit_test(test_long_line),
        cmocka_unit_test(test_parse),      cmocka_unit_test(test_port_eprt),
        cmocka_unit_test(test_small_args), cmocka_unit_test(test_state),
        cmocka_unit_test(test_bounce),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
