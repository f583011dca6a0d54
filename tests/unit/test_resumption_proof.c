/*
 * test_resumption_proof - SSL_IsResumptionOf and SSL_CONN_STATE.sessionOrigin:
 * a server can prove that one connection resumed the TLS session of another
 * given connection (an FTPS data channel and its control channel), not
 * merely "some" session. Two clients with their own resumption caches each
 * make a full handshake and a resumption, all four connections held open:
 *   c0 (client A, full)  c1 (A, resumes c0)  c2 (B, full)  c3 (B, resumes c2)
 * TLS 1.2 (session IDs) and TLS 1.3 (tickets).
 */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "testutil.h"
#include "tu_cmocka.h"

#define NCONN 4

struct server_job {
    int lsn;
    int sd[NCONN];
    int hs[NCONN];
};

/* Accept NCONN connections one after the other; each handshakes and sends
 * one byte (behind a TLS 1.3 server's tickets, so that the client has them
 * once it read the byte). All stay open. */
static void *server_main(void *arg)
{
    struct server_job *j = arg;
    int err;
    for (int i = 0; i < NCONN; i++) {
        j->sd[i] = accept(j->lsn, NULL, &err);
        if (j->sd[i] < 0)
            return NULL;
        j->hs[i] = SSL_HandshakeComplete(j->sd[i], TU_WAIT_MS);
        if (j->hs[i] == 1)
            send(j->sd[i], "x", 1, 0, &err);
    }
    return NULL;
}

static int proof(int sd, int origin)
{
    int err = 0x7A7A;
    int r = SSL_IsResumptionOf(sd, origin, &err);
    if (r >= 0 && err != 0)
        fail_msg("SSL_IsResumptionOf(%d, %d) = %d with *error %d", sd, origin, r, err);
    return r;
}

static unsigned long long origin_of(int sd)
{
    SSL_CONN_STATE *st = NULL;
    int err;
    assert_int_equal(SSL_GetConnState(sd, (void **)&st, &err), 0);
    return st->sessionOrigin;
}

static void run(int version)
{
    int err;
    SSL_SESSION_NEW_Entry se = { "srv", 16, version };
    SSL_SESSION_NEW_Entry ce = { NULL, 4, version };
    int srv_sid = SSL_SessionNew(&se, &err), a = SSL_SessionNew(&ce, &err),
        b = SSL_SessionNew(&ce, &err);
    assert_true(srv_sid > 0 && a > 0 && b > 0);

    unsigned short port;
    struct server_job j;
    memset(&j, 0xff, sizeof j);
    j.lsn = tu_listener(AF_INET, srv_sid, &port, &err);
    assert_true(j.lsn >= 0);
    pthread_t tid;
    assert_int_equal(pthread_create(&tid, NULL, server_main, &j), 0);

    int cli[NCONN], sids[NCONN] = { a, a, b, b };
    for (int i = 0; i < NCONN; i++) {
        char byte;
        cli[i] = tu_client(AF_INET, sids[i], port, &err);
        assert_true(cli[i] >= 0);
        assert_int_equal(SSL_ClientStart(cli[i], "localhost", &err), 0);
        assert_int_equal(SSL_HandshakeComplete(cli[i], TU_WAIT_MS), 1);
        assert_int_equal(recv(cli[i], &byte, 1, MSG_TIMEOUT, TU_WAIT_MS, &err), 1);
    }
    pthread_join(tid, NULL);
    for (int i = 0; i < NCONN; i++)
        assert_int_equal(j.hs[i], 1);

    /* Resumed as planned. */
    for (int i = 0; i < NCONN; i++) {
        SSL_CONN_STATE *st;
        assert_int_equal(SSL_GetConnState(j.sd[i], (void **)&st, &err), 0);
        assert_int_equal(st->resumed, i % 2);
    }
    /* Origins: one per full handshake, carried by the resumption. */
    unsigned long long o[NCONN];
    for (int i = 0; i < NCONN; i++) {
        o[i] = origin_of(j.sd[i]);
        assert_true(o[i] != 0);
    }
    assert_true(o[1] == o[0] && o[3] == o[2] && o[0] != o[2]);

    /* The server's proofs. */
    assert_int_equal(proof(j.sd[1], j.sd[0]), 1);  /* the data channel resumed its control's */
    assert_int_equal(proof(j.sd[3], j.sd[2]), 1);
    assert_int_equal(proof(j.sd[3], j.sd[0]), 0);  /* resumed, but another session */
    assert_int_equal(proof(j.sd[1], j.sd[2]), 0);
    assert_int_equal(proof(j.sd[2], j.sd[0]), 0);  /* a full handshake resumed nothing */
    assert_int_equal(proof(j.sd[0], j.sd[1]), 0);  /* the origin did not resume its child */
    assert_int_equal(proof(j.sd[1], j.sd[1]), 0);  /* nor itself */
    /* The clients' side proves the same with its own numbers. */
    assert_int_equal(proof(cli[1], cli[0]), 1);
    assert_int_equal(proof(cli[3], cli[0]), 0);

    /* Still provable after a clean TLS close of the control connection. */
    assert_int_equal(SSL_ConnClose(j.sd[0], &err), 0);
    assert_int_equal(proof(j.sd[1], j.sd[0]), 1);

    /* Errors. */
    err = 0;
    assert_int_equal(SSL_IsResumptionOf(j.sd[1], j.lsn, &err), -1); /* a listener */
    assert_int_equal(err, API_EINVAL);
    assert_int_equal(SSL_IsResumptionOf(-1, j.sd[0], &err), -1);
    assert_int_equal(err, API_EBADF);
    int plain = opensocket(SOCK_STREAM, &err);
    assert_true(plain >= 0);
    assert_int_equal(SSL_IsResumptionOf(j.sd[1], plain, &err), -1); /* not SSL */
    assert_int_equal(err, API_EINVAL);
    int fresh = tu_client(AF_INET, a, port, &err); /* connected, handshake not run */
    assert_true(fresh >= 0);
    assert_int_equal(SSL_IsResumptionOf(fresh, cli[0], &err), -1);
    assert_int_equal(err, API_EINVAL);
    assert_int_equal(SSL_IsResumptionOf(j.sd[1], j.sd[0], NULL), -1);

    closesocket(fresh, &err);
    closesocket(plain, &err);
    for (int i = 0; i < NCONN; i++) {
        closesocket(cli[i], &err);
        closesocket(j.sd[i], &err);
    }
    closesocket(j.lsn, &err);
    SSL_SessionClose(srv_sid, &err);
    SSL_SessionClose(a, &err);
    SSL_SessionClose(b, &err);
}

TU_TEST_CALL(proof_tls12, run, SSL_VERSION_TLS12)
TU_TEST_CALL(proof_tls13, run, SSL_VERSION_TLS13)

int main(void)
{
    tu_require_pki();
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(proof_tls12),
        cmocka_unit_test(proof_tls13),
    };
    return cmocka_run_group_tests(tests, tu_setup_srv, tu_teardown_srv);
}
