/*
 * test_compile_original_main.c - runs the unmodified original application
 * of test_compile_original.c (an HTTPS client) against a chipssl server
 * thread in the same process.
 */
#define _POSIX_C_SOURCE 200809L

#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "tcpip.h"
#include "testutil.h"

int OriginalApp(char *caFileName, unsigned short port);

struct server {
    int lsn, result, err;
    pthread_t tid;
};

static const char page[] = "HTTP/1.0 200 OK\r\nContent-Length: 5\r\n\r\nhello";

static void *server_main(void *arg)
{
    struct server *s = arg;
    char req[1024];
    int sd, n, got = 0, err;

    s->result = -1;
    sd = accept(s->lsn, NULL, &s->err);
    if (sd < 0)
        return NULL;
    if (SSL_HandshakeComplete(sd, SSL_WAIT_FOREVER) != 1) {
        s->result = -2;
        closesocket(sd, &err);
        return NULL;
    }
    while (got < (int)sizeof req - 1) {
        n = recv(sd, req + got, (int)sizeof req - 1 - got, MSG_TIMEOUT, 5000, &s->err);
        if (n <= 0)
            break;
        got += n;
        req[got] = '\0';
        if (strstr(req, "\r\n\r\n") != NULL)
            break;
    }
    if (got > 0 && strncmp(req, "GET / HTTP/1.0\r\n", 16) == 0 &&
        send(sd, page, (int)strlen(page), 0, &s->err) == (int)strlen(page) &&
        SSL_ConnClose(sd, &s->err) == 0)
        s->result = 0;
    /* the client's close_notify */
    recv(sd, req, sizeof req, MSG_TIMEOUT, 5000, &err);
    closesocket(sd, &err);
    return NULL;
}

static void test_original_https_client(void **state)
{
    SSL_SESSION_NEW_Entry se = {
        .certIdentity = "srv", .maxCaches = 0, .version = SSL_VERSION_TLS12 | SSL_VERSION_TLS13};
    char ca[TU_PATH_MAX];
    struct server s;
    unsigned short port;
    int sid, err, rc;

    (void)state;
    assert_int_equal(tu_add_local("server.key", PKI_KEY_RSA, "server.pem", "srv", NULL, &err), 0);
    sid = SSL_SessionNew(&se, &err);
    assert_true(sid >= 1);
    memset(&s, 0, sizeof s);
    s.lsn = tu_listener(AF_INET, sid, &port, &err);
    assert_true(s.lsn >= 0);
    assert_int_equal(pthread_create(&s.tid, NULL, server_main, &s), 0);
    rc = OriginalApp(tu_path(ca, sizeof ca, "ca.pem"), port);
    pthread_join(s.tid, NULL);
    closesocket(s.lsn, &err);
    SSL_SessionClose(sid, &err);
    PKI_CertificateDel("srv", PKI_CERT_LOCAL, &err);
    if (s.result != 0)
        fail_msg("server side: %d (error %d)", s.result, s.err);
    assert_int_equal(rc, 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_original_https_client),
    };

    tu_require_pki();
    return cmocka_run_group_tests_name("compile_original", tests, NULL, NULL);
}
