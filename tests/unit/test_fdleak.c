/*
 * test_fdleak.c - no descriptor is left behind: the number of open
 * descriptors of the process is the same before and after rounds of every
 * kind of connection life (clean close, close without close_notify, failed
 * handshakes on either side, peers that vanish, sockets that never
 * connected, listeners), repeated so that a leak of one per round shows.
 * Memory is the sanitizers' part (the suite runs under LeakSanitizer too).
 */
#include <dirent.h>
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

static int count_fds(void)
{
    DIR *d = opendir("/proc/self/fd");
    int n = 0;
    struct dirent *de;
    while (d && (de = readdir(d)))
        if (de->d_name[0] != '.')
            n++;
    if (d)
        closedir(d);
    return n - 1; /* the directory's own descriptor */
}

struct server {
    pthread_t tid;
    int lsn;
    int close_notify; /* 1: SSL_ConnClose before closesocket */
};

/* Accept one connection, try the handshake and one echo, close. */
static void *server_main(void *arg)
{
    struct server *sv = arg;
    int err;
    int sd = accept(sv->lsn, NULL, &err);
    if (sd < 0)
        return NULL;
    if (SSL_HandshakeComplete(sd, 5000) == 1) {
        char buf[64];
        int n = recv(sd, buf, sizeof buf, MSG_TIMEOUT, 5000, &err);
        if (n > 0)
            send(sd, buf, n, 0, &err);
        if (sv->close_notify)
            SSL_ConnClose(sd, &err);
    }
    closesocket(sd, &err);
    return NULL;
}

enum life { CLEAN, NO_CLOSE_NOTIFY, NAME_MISMATCH, CLIENT_VANISHES, NEVER_STARTED };

static const struct {
    const char *desc;
    enum life life;
} cases[] = {
    { .desc = "clean close both ways", .life = CLEAN },
    { .desc = "closesocket without close_notify", .life = NO_CLOSE_NOTIFY },
    { .desc = "handshake refused (wrong name)", .life = NAME_MISMATCH },
    { .desc = "client closes right after ClientHello", .life = CLIENT_VANISHES },
    { .desc = "client connects, never starts TLS", .life = NEVER_STARTED },
};

static void one_round(int srv_sid, int cli_sid, enum life life)
{
    int err;
    unsigned short port;
    struct server sv = { .close_notify = life == CLEAN };
    sv.lsn = tu_listener(AF_INET, srv_sid, &port, &err);
    assert_true(sv.lsn >= 0);
    assert_int_equal(pthread_create(&sv.tid, NULL, server_main, &sv), 0);
    int sd = tu_client(AF_INET, cli_sid, port, &err);
    assert_true(sd >= 0);
    if (life != NEVER_STARTED) {
        assert_int_equal(SSL_ClientStart(sd, life == NAME_MISMATCH ? "wrong.example" : "localhost",
                                         &err),
                         0);
        if (life != CLIENT_VANISHES && SSL_HandshakeComplete(sd, 5000) == 1) {
            char buf[64];
            send(sd, "ping", 4, 0, &err);
            recv(sd, buf, sizeof buf, MSG_TIMEOUT, 5000, &err);
            if (life == CLEAN)
                SSL_ConnClose(sd, &err);
        }
    }
    assert_int_equal(closesocket(sd, &err), 0);
    pthread_join(sv.tid, NULL);
    assert_int_equal(closesocket(sv.lsn, &err), 0);
}

static void test_no_descriptor_leaks(void **state)
{
    (void)state;
    int err;
    SSL_SESSION_NEW_Entry se = { "fd-srv", 4, SSL_VERSION_TLS12 | SSL_VERSION_TLS13 };
    SSL_SESSION_NEW_Entry ce = { NULL, 4, SSL_VERSION_TLS12 | SSL_VERSION_TLS13 };
    int srv_sid = SSL_SessionNew(&se, &err);
    int cli_sid = SSL_SessionNew(&ce, &err);
    assert_true(srv_sid >= 1 && cli_sid >= 1);

    /* One round of each first: lazily created engine state is not a leak. */
    for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++)
        one_round(srv_sid, cli_sid, cases[c].life);
    int before = count_fds();
    for (int round = 0; round < 5; round++)
        for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
            one_round(srv_sid, cli_sid, cases[c].life);
            int now = count_fds();
            if (now != before)
                fail_msg("%s (round %d): %d descriptors open, %d before", cases[c].desc, round,
                         now, before);
        }

    /* Sockets that fail early: bad address, refused connection. */
    for (int i = 0; i < 20; i++) {
        int sd = opensocket(SOCK_STREAM, &err);
        struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons(1) };
        inet_addr("127.0.0.1", &a.sin_addr.s_addr);
        assert_int_equal(connect(sd, &a, &err), -1);
        assert_int_equal(closesocket(sd, &err), 0);
    }
    assert_int_equal(count_fds(), before);
    assert_int_equal(SSL_SessionClose(srv_sid, &err), 0);
    assert_int_equal(SSL_SessionClose(cli_sid, &err), 0);
}

int main(void)
{
    int err;
    tu_require_pki();
    if (tu_add_cert("ca.pem", PKI_FMT_PEM, PKI_CERT_NONLOCAL | PKI_CERT_ROOTCA, "fd-ca", NULL,
                    &err) != 0 ||
        tu_add_local("server.key", PKI_KEY_RSA, "server.pem", "fd-srv", "fd-ca", &err) != 0) {
        fprintf(stderr, "PKI set-up failed: %d\n", err);
        return 1;
    }
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_no_descriptor_leaks),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
