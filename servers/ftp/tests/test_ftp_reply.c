/*
 * test_ftp_reply - replies byte for byte, bounded buffers at every size.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <string.h>

#include <cmocka.h>

#include "ftp_cmd.h"

static void test_single(void **state)
{
    (void)state;
    char b[128];
    assert_int_equal(ftp_reply(b, sizeof b, 200, "OK."), 9);
    assert_string_equal(b, "200 OK.\r\n");
    /* CR/LF in a file name cannot end the reply or forge another */
    assert_true(ftp_replyf(b, sizeof b, 550, "%s: No such file.", "a\r\n226 b") > 0);
    assert_string_equal(b, "550 a  226 b: No such file.\r\n");
    assert_int_equal(ftp_reply(b, sizeof b, 99, "x"), -1);
    assert_int_equal(ftp_reply(b, sizeof b, 600, "x"), -1);
    assert_true(ftp_reply_257(b, sizeof b, "/a \"q\"", "created.") > 0);
    assert_string_equal(b, "257 \"/a \"\"q\"\"\" created.\r\n");
    struct ftp_hostport hp = {.family = 4, .addr = {192, 168, 1, 2}, .port = 50001};
    assert_true(ftp_reply_227(b, sizeof b, &hp) > 0);
    assert_string_equal(b, "227 Entering Passive Mode (192,168,1,2,195,81).\r\n");
    hp.family = 6;
    assert_int_equal(ftp_reply_227(b, sizeof b, &hp), -1);
    assert_true(ftp_reply_229(b, sizeof b, 50001) > 0);
    assert_string_equal(b, "229 Entering Extended Passive Mode (|||50001|)\r\n");
    assert_int_equal(ftp_reply_229(b, sizeof b, 0), -1);
}

static void test_multi(void **state)
{
    (void)state;
    char b[256];
    static const char *const lines[] = {"Connected to 127.0.0.1", "211 looks like an end"};
    assert_true(ftp_reply_multi(b, sizeof b, 211, "FTP server status:", lines, 2, "End of status") >
                0);
    assert_string_equal(b, "211-FTP server status:\r\n"
                           " Connected to 127.0.0.1\r\n"
                           " 211 looks like an end\r\n"
                           "211 End of status\r\n");
    assert_true(ftp_reply_feat(b, sizeof b, 1) > 0);
    assert_string_equal(b, "211-Features:\r\n AUTH TLS\r\n PBSZ\r\n PROT\r\n EPRT\r\n EPSV\r\n"
                           " MDTM\r\n MLST type*;size*;modify*;perm*;unique*;\r\n REST STREAM\r\n"
                           " SIZE\r\n TVFS\r\n UTF8\r\n211 End\r\n");
    assert_true(ftp_reply_feat(b, sizeof b, 0) > 0);
    assert_null(strstr(b, "AUTH"));
    char h[512];
    assert_true(ftp_reply_help(h, sizeof h) > 0);
    assert_string_equal(h, "214-The following commands are recognized.\r\n"
                           " USER PASS AUTH PBSZ PROT CCC FEAT SYST\r\n"
                           " TYPE MODE STRU PWD CWD CDUP MKD RMD\r\n"
                           " DELE RNFR RNTO SIZE MDTM REST RETR STOR\r\n"
                           " APPE LIST NLST MLSD MLST PASV EPSV PORT\r\n"
                           " EPRT ABOR STAT NOOP QUIT OPTS HELP ALLO\r\n"
                           "214 Help OK.\r\n");
}

/* Every cap from 0 up: -1 until it fits, never a byte past cap. */
static void test_bounds(void **state)
{
    (void)state;
    char full[256];
    int n = ftp_reply_feat(full, sizeof full, 1);
    assert_true(n > 0);
    for (size_t cap = 0; cap <= (size_t)n + 1; cap++) {
        char b[260];
        memset(b, 'Z', sizeof b);
        int r = ftp_reply_feat(b, cap, 1);
        if (cap <= (size_t)n) {
            assert_int_equal(r, -1);
            if (cap)
                assert_int_equal(b[0], '\0');
        } else {
            assert_int_equal(r, n);
            assert_string_equal(b, full);
        }
        for (size_t i = cap; i < sizeof b; i++)
            assert_int_equal(b[i], 'Z');
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_single),
        cmocka_unit_test(test_multi),
        cmocka_unit_test(test_bounds),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
