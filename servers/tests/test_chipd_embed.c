/*
 * test_chipd_embed - libchipd inside an application: chipd_start returns
 * once the listener is bound and serves, errors come back as API codes,
 * start/stop/start works in one process, the caller's signal mask is left
 * alone, and chipd_stop without a running server says so.
 */
#include "free_port.h"
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

#include <chipd.h>
#include <tcpip.h>

#include <arpa/inet.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

static char dir[64], ini[128];

static void write_ini(unsigned port, const char *extra)
{
    FILE *f = fopen(ini, "w");
    assert_non_null(f);
    fprintf(f,
            "[WEB]\nBIND = 127.0.0.1\nHTTP_PORT = %u\nSSL_ENABLE = 0\nROOTDIR = %s\nWORKERS = "
            "2\n%s[FTP]\nENABLE = 0\n",
            port, dir, extra);
    fclose(f);
}

static int setup(void **state)
{
    (void)state;
    snprintf(dir, sizeof dir, "/tmp/chipd-embed-XXXXXX");
    if (!mkdtemp(dir))
        return -1;
    snprintf(ini, sizeof ini, "%s/chip.ini", dir);
    char page[128];
    snprintf(page, sizeof page, "%s/main.htm", dir);
    FILE *f = fopen(page, "w");
    if (!f)
        return -1;
    fputs("embedded", f);
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

/* GET / on the port; the response's text in buf. */
static void get(unsigned port, char *buf, size_t len)
{
    int err = 0, sd = opensocket(SOCK_STREAM, &err), n, got = 0;
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((unsigned short)port)};
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    assert_int_equal(connect(sd, &a, &err), 0);
    static const char req[] = "GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n";
    assert_int_equal(send(sd, req, (int)sizeof req - 1, 0, &err), (int)sizeof req - 1);
    while ((n = recv(sd, buf + got, (int)(len - 1 - (size_t)got), MSG_BLOCKING, 0, &err)) > 0)
        got += n;
    buf[got] = '\0';
    closesocket(sd, &err);
}

static void test_start_serve_stop_restart(void **state)
{
    (void)state;
    int err = -1;
    char buf[2048];
    sigset_t before, after;
    pthread_sigmask(SIG_BLOCK, NULL, &before);
    unsigned port = free_port();
    write_ini(port, "");
    for (int round = 0; round < 2; round++) {
        assert_int_equal(chipd_start(ini, &err), 0);
        assert_int_equal(err, 0);
        assert_int_equal(chipd_port(0), port);
        assert_int_equal(chipd_port(1), 0); /* HTTPS off */
        assert_int_equal(chipd_start(ini, &err), -1);
        assert_int_equal(err, API_EALREADY);
        get(port, buf, sizeof buf);
        assert_non_null(strstr(buf, "HTTP/1.1 200 OK\r\n"));
        assert_non_null(strstr(buf, "\r\n\r\nembedded"));
        assert_int_equal(chipd_stop(&err), 0);
        assert_int_equal(chipd_port(0), 0);
    }
    assert_int_equal(chipd_stop(&err), -1);
    assert_int_equal(err, API_EINVAL);
    pthread_sigmask(SIG_BLOCK, NULL, &after);
    for (int s = 1; s < 32; s++)
        assert_int_equal(sigismember(&before, s), sigismember(&after, s));
}

static void test_errors(void **state)
{
    (void)state;
    int err = 0;
    char path[160];
    snprintf(path, sizeof path, "%s/none.ini", dir);
    assert_int_equal(chipd_start(path, &err), -1);
    assert_int_equal(err, API_ENOENT);
    write_ini(free_port(), "NO_SUCH_KEY = 1\n");
    assert_int_equal(chipd_start(ini, &err), -1);
    assert_int_equal(err, API_EINVAL);
    assert_int_equal(chipd_check(ini, &err), -1);
    assert_int_equal(err, API_EINVAL);
    /* A busy port: held by a listener of ours. */
    int ls = opensocket(SOCK_STREAM, &err);
    struct sockaddr_in a = {.sin_family = AF_INET};
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    assert_int_equal(bind(ls, &a, &err), 0);
    assert_int_equal(listen(ls, 4, &err), 0);
    socklen_t l = sizeof a;
    getsockname(ls, (struct sockaddr *)&a, &l);
    write_ini(ntohs(a.sin_port), "");
    assert_int_equal(chipd_check(ini, &err), 0);
    assert_int_equal(chipd_start(ini, &err), -1);
    assert_int_equal(err, API_EADDRINUSE);
    closesocket(ls, &err);
    assert_int_equal(chipd_port(0), 0); /* nothing left running */
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_start_serve_stop_restart),
        cmocka_unit_test(test_errors),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
