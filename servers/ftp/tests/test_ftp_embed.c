/*
 * test_ftp_embed - the FTP server inside an application through libchipd:
 * chipd_start with only [FTP] on, chipd_port(2)/(3), the original's
 * Get_FTP_Login_Counters, Set_FTPServer_Idle_Timeout (written into the
 * file, effective at the next start) and Get_FTPServer_Idle_Timeout
 * (0xFFFF when no FTP server runs), BIOS_Server_On_Off(SS_FTP_SERVER)
 * and the accept filter of BIOS_Connection_Handler. Plain FTP
 * (REQUIRE_TLS=0) over raw sockets; the TLS side is test_ftp_server.py's.
 */
#include "../../tests/free_port.h"
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
/* cmocka.h needs the headers above first. */
// clang-format off
#include <cmocka.h>
// clang-format on

#include <cgi.h>
#include <chipd.h>
#include <tcpip.h>

#include <arpa/inet.h>
#include <unistd.h>

static char dir[64], ini[128];
static unsigned port;

static int setup(void **state)
{
    (void)state;
    snprintf(dir, sizeof dir, "/tmp/chipd-ftp-embed-XXXXXX");
    if (!mkdtemp(dir))
        return -1;
    snprintf(ini, sizeof ini, "%s/chip.ini", dir);
    port = free_port();
    FILE *f = fopen(ini, "w");
    if (!f)
        return -1;
    fprintf(f,
            "[WEB]\nENABLE = 0\nSSL_ENABLE = 0\nROOTDIR = %s\n[FTP]\nBIND = 127.0.0.1\n"
            "PORT = %u\nFTPS_PORT = 0\nREQUIRE_TLS = 0\nTIMEOUT = 7\nUSER1 = alice\n"
            "PASSWORD1 = wonder-land\nROOT1 = %s\n",
            dir, port, dir);
    fclose(f);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    return system(cmd) == 0 ? 0 : -1;
}

static int ftp_connect(void)
{
    int err = 0, sd = opensocket(SOCK_STREAM, &err);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((unsigned short)port)};
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    assert_int_equal(connect(sd, &a, &err), 0);
    return sd;
}

/* One reply line into buf ("" when the server closed). */
static void reply(int sd, char *buf, size_t len)
{
    int err = 0;
    size_t got = 0;
    while (got + 1 < len) {
        int n = recv(sd, buf + got, 1, MSG_TIMEOUT, 30000, &err);
        if (n <= 0)
            break;
        got++;
        if (buf[got - 1] == '\n')
            break;
    }
    buf[got] = '\0';
}

static void cmd(int sd, const char *line, char *buf, size_t len)
{
    int err = 0;
    char out[256];
    int n = snprintf(out, sizeof out, "%s\r\n", line);
    assert_int_equal(send(sd, out, n, 0, &err), n);
    reply(sd, buf, len);
}

static int filter_calls;

/* The accept filter: refuses every peer (non-zero), after checking that it
 * gets the client's IPv4 address. */
static int refuse_all(struct sockaddr *peer)
{
    const struct sockaddr_in *a = (const struct sockaddr_in *)peer;
    if (a->sin_family == AF_INET && a->sin_addr.s_addr == htonl(INADDR_LOOPBACK))
        filter_calls++;
    return 1;
}

static void test_counters_timeout_and_on_off(void **state)
{
    (void)state;
    int err = 0;
    char buf[512];
    assert_int_equal(Get_FTPServer_Idle_Timeout(), 0xFFFF);
    assert_int_equal(chipd_start(ini, &err), 0);
    assert_int_equal(chipd_port(2), port);
    assert_int_equal(chipd_port(3), 0);
    assert_int_equal(chipd_port(0), 0); /* the Web server is off */
    assert_int_equal(Get_FTPServer_Idle_Timeout(), 7);

    unsigned long *ok = NULL, *bad = NULL;
    assert_int_equal(Get_FTP_Login_Counters(&ok, &bad), 0);
    assert_non_null(ok);
    assert_non_null(bad);
    unsigned long ok0 = *ok, bad0 = *bad;

    int sd = ftp_connect();
    reply(sd, buf, sizeof buf);
    assert_string_equal(buf, "220 chipd FTP server ready.\r\n");
    cmd(sd, "USER alice", buf, sizeof buf);
    assert_string_equal(buf, "331 Password required.\r\n");
    cmd(sd, "PASS wrong", buf, sizeof buf);
    assert_string_equal(buf, "530 Login incorrect.\r\n");
    assert_int_equal(*bad, bad0 + 1);
    assert_int_equal(*ok, ok0);
    cmd(sd, "USER alice", buf, sizeof buf);
    cmd(sd, "PASS wonder-land", buf, sizeof buf);
    assert_string_equal(buf, "230 Login successful.\r\n");
    assert_int_equal(*ok, ok0 + 1);
    assert_int_equal(*bad, bad0 + 1);
    cmd(sd, "QUIT", buf, sizeof buf);
    assert_string_equal(buf, "221 Goodbye.\r\n");
    closesocket(sd, &err);

    /* Suspended: new connections are dropped before the greeting. */
    assert_int_equal(BIOS_Server_On_Off(SS_FTP_SERVER, 1), 0);
    sd = ftp_connect();
    reply(sd, buf, sizeof buf);
    assert_string_equal(buf, "");
    closesocket(sd, &err);
    assert_int_equal(BIOS_Server_On_Off(SS_FTP_SERVER, 0), 0);
    sd = ftp_connect();
    reply(sd, buf, sizeof buf);
    assert_string_equal(buf, "220 chipd FTP server ready.\r\n");
    closesocket(sd, &err);

    /* The accept filter: a refused peer is closed unanswered. */
    assert_int_equal(BIOS_Connection_Handler(refuse_all, SS_FTP_SERVER), 0);
    sd = ftp_connect();
    reply(sd, buf, sizeof buf);
    assert_string_equal(buf, "");
    closesocket(sd, &err);
    assert_int_equal(filter_calls, 1);
    assert_int_equal(BIOS_Connection_Handler(NULL, SS_FTP_SERVER), 0);
    sd = ftp_connect();
    reply(sd, buf, sizeof buf);
    assert_string_equal(buf, "220 chipd FTP server ready.\r\n");
    closesocket(sd, &err);

    /* Written into the file, effective at the next start. */
    assert_int_equal(Set_FTPServer_Idle_Timeout(0), -1);
    assert_int_equal(Set_FTPServer_Idle_Timeout(42), 0);
    assert_int_equal(Get_FTPServer_Idle_Timeout(), 7);
    FILE *f = fopen(ini, "r");
    assert_non_null(f);
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    buf[n] = '\0';
    fclose(f);
    assert_non_null(strstr(buf, "TIMEOUT = 42") ? strstr(buf, "TIMEOUT = 42")
                                                : strstr(buf, "TIMEOUT=42"));
    assert_null(strstr(buf, "TIMEOUT = 7"));
    assert_int_equal(chipd_stop(&err), 0);
    assert_int_equal(Get_FTPServer_Idle_Timeout(), 0xFFFF);
    assert_int_equal(chipd_start(ini, &err), 0);
    assert_int_equal(Get_FTPServer_Idle_Timeout(), 42);
    /* The counters live on across a restart. */
    assert_int_equal(*ok, ok0 + 1);
    assert_int_equal(chipd_stop(&err), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_counters_timeout_and_on_off),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
