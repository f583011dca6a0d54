/*
 * test_problem_reasons - SSL_GetProblem's reason says which check failed and
 * on what: the certificate's name, the date, the issuer, the names wanted
 * and found. One row per check; the server presents the row's certificate,
 * the client verifies it against the test root (with its CRL) and must fail
 * with the row's flag, alert and words. The server's side of the same
 * failure says that the peer refused, naming the alert in words.
 */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "testutil.h"
#include "tu_cmocka.h"

struct reason_case {
    const char *desc;
    const char *key, *cert, *caid; /* the server's identity (EC keys but one) */
    int keytype;
    const char *name;              /* the client's srvCommonName */
    int want_flag, want_alert;
    const char *want[3];           /* substrings of the client's reason */
};

/* clang-format off */
static const struct reason_case cases[] = {
    { .desc = "expired, with its date", .key = "expired.key", .cert = "expired.pem",
      .caid = "ca", .keytype = PKI_KEY_EC, .name = "localhost",
      .want_flag = PKI_CERT_EXPIRED, .want_alert = 45,
      .want = { "certificate expired on 2021-01-01 00:00:00 UTC", "CN=localhost" } },
    { .desc = "not yet valid, with its date", .key = "notyet.key", .cert = "notyet.pem",
      .caid = "ca", .keytype = PKI_KEY_EC, .name = "localhost",
      .want_flag = PKI_CERT_EXPIRED, .want_alert = 42, /* OpenSSL: bad_certificate */
      .want = { "not valid before 2090-01-01 00:00:00 UTC", "CN=localhost" } },
    { .desc = "name mismatch: the name wanted and the names present",
      .key = "wrongname.key", .cert = "wrongname.pem", .caid = "ca",
      .keytype = PKI_KEY_EC, .name = "localhost",
      .want_flag = PKI_CERT_UNMATCHED, .want_alert = 42,
      .want = { "name mismatch", "wanted localhost", "DNS:wrong.example" } },
    { .desc = "name mismatch on an IP literal", .key = "server.key", .cert = "server.pem",
      .caid = "ca", .keytype = PKI_KEY_RSA, .name = "10.1.2.3",
      .want_flag = PKI_CERT_UNMATCHED, .want_alert = 42,
      .want = { "wanted 10.1.2.3", "DNS:localhost", "IP:127.0.0.1" } },
    { .desc = "unknown issuer, named", .key = "server-unknownca.key",
      .cert = "server-unknownca.pem", .caid = NULL, .keytype = PKI_KEY_EC,
      .name = "localhost", .want_flag = PKI_CERT_UNKNOWNCA, .want_alert = 48,
      .want = { "unknown issuer", "CN=chipssl Untrusted CA", "not in the PKI store" } },
    { .desc = "self-signed", .key = "selfsigned.key", .cert = "selfsigned.pem",
      .caid = NULL, .keytype = PKI_KEY_EC, .name = "localhost",
      .want_flag = PKI_CERT_UNKNOWNCA, .want_alert = 48,
      .want = { "self-signed certificate", "CN=localhost" } },
    { .desc = "revoked, with the CRL's issuer", .key = "revoked.key", .cert = "revoked.pem",
      .caid = "ca", .keytype = PKI_KEY_EC, .name = "localhost",
      .want_flag = PKI_CERT_REVOKED, .want_alert = 44,
      .want = { "certificate revoked", "CN=localhost", "CRL of CN=chipssl Test Root CA" } },
    { .desc = "key usage: a client certificate presented by a server",
      .key = "client.key", .cert = "client.pem", .caid = "ca", .keytype = PKI_KEY_RSA,
      .name = NULL, .want_flag = PKI_CERT_BADCERT, .want_alert = 43, /* unsupported */
      .want = { "key usage", "CN=chipssl client", "TLS server authentication" } },
};
/* clang-format on */

struct server_job {
    int lsn, srv, hs;
    SslProblemS prob;
};

static void *server_main(void *arg)
{
    struct server_job *j = arg;
    int err = 0;
    j->srv = accept(j->lsn, NULL, &err);
    if (j->srv >= 0) {
        j->hs = SSL_HandshakeComplete(j->srv, TU_WAIT_MS);
        SSL_GetProblem(j->srv, &j->prob, &err);
    }
    return NULL;
}

static const struct tu_cert crl[] = {
    {"crl.pem", PKI_CERT_CRL, "crl", "ca"},
};
static const struct tu_pki pki = {.certs = crl, .ncerts = TU_N(crl)};

TU_PKI_FIXTURES(setup_pki, teardown_pki, pki)

static int contains(const char *hay, const char *needle)
{
    return needle == NULL || strstr(hay, needle) != NULL;
}

static void run_case(void **state)
{
    const struct reason_case *c = *state;
    char id[32];
    int err = 0;
    snprintf(id, sizeof id, "reason-%d", (int)(c - cases));
    /* An own certificate that is expired or not yet valid is stored with a
     * warning; one from an unknown issuer likewise. */
    int add = tu_add_local(c->key, c->keytype, c->cert, id, c->caid, &err);
    if (add != 0)
        fail_msg("%s: adding %s failed (*error 0x%x)", c->desc, c->cert, (unsigned)err);

    SSL_SESSION_NEW_Entry se = { id, 0, SSL_VERSION_TLS12 | SSL_VERSION_TLS13 };
    int srv_sid = SSL_SessionNew(&se, &err);
    assert_true(srv_sid > 0);
    SSL_SESSION_NEW_Entry ce = { NULL, 0, SSL_VERSION_TLS12 | SSL_VERSION_TLS13 };
    int cli_sid = SSL_SessionNew(&ce, &err);
    assert_true(cli_sid > 0);

    unsigned short port = 0;
    struct server_job j = { .srv = -1, .hs = 99 };
    j.lsn = tu_listener(AF_INET, srv_sid, &port, &err);
    assert_true(j.lsn >= 0);
    pthread_t tid;
    assert_int_equal(pthread_create(&tid, NULL, server_main, &j), 0);

    int cli = tu_client(AF_INET, cli_sid, port, &err);
    assert_true(cli >= 0);
    assert_int_equal(SSL_ClientStart(cli, c->name, &err), 0);
    int hs = SSL_HandshakeComplete(cli, TU_WAIT_MS);
    SslProblemS p;
    assert_int_equal(SSL_GetProblem(cli, &p, &err), 0);
    closesocket(cli, &err); /* the server's handshake ends now at the latest */
    pthread_join(tid, NULL);

    if (hs != -3)
        fail_msg("%s: handshake returned %d, want -3 (failed)", c->desc, hs);
    if (!(p.certFlags & c->want_flag))
        fail_msg("%s: flags 0x%x lack 0x%x", c->desc, (unsigned)p.certFlags,
                 (unsigned)c->want_flag);
    if (p.alert != c->want_alert || !p.alertSent)
        fail_msg("%s: alert %d (sent %d), want %d sent", c->desc, p.alert, p.alertSent,
                 c->want_alert);
    for (int i = 0; i < 3; i++)
        if (!contains(p.reason, c->want[i]))
            fail_msg("%s: reason \"%s\" lacks \"%s\"", c->desc, p.reason, c->want[i]);

    /* The server was refused: it says so, with the alert in words. */
    if (j.hs != -3)
        fail_msg("%s: server handshake returned %d, want -3", c->desc, j.hs);
    if (j.prob.alert != c->want_alert || j.prob.alertSent)
        fail_msg("%s: server saw alert %d (sent %d), want %d received", c->desc,
                 j.prob.alert, j.prob.alertSent, c->want_alert);
    if (!contains(j.prob.reason, "the peer refused the connection: ") ||
        !contains(j.prob.reason, chipssl_alert_text(c->want_alert)) ||
        contains(j.prob.reason, "sslv3") || contains(j.prob.reason, "tlsv1"))
        fail_msg("%s: server reason \"%s\"", c->desc, j.prob.reason);

    closesocket(j.srv, &err);
    closesocket(j.lsn, &err);
    SSL_SessionClose(srv_sid, &err);
    SSL_SessionClose(cli_sid, &err);
    assert_int_equal(PKI_CertificateDel(id, PKI_CERT_LOCAL, &err), 0);
}

/* A key that is not the certificate's own says so (not just BADCERT). */
static void key_mismatch_is_named(void **state)
{
    (void)state;
    int err = 0;
    assert_int_equal(tu_add_key("server-ec.key", PKI_FMT_PEM, PKI_KEY_EC, &err), 0);
    assert_int_equal(tu_add_cert("server.pem", PKI_FMT_PEM, PKI_CERT_LOCAL, "mismatch", "ca",
                                 &err),
                     -1);
    assert_int_equal(err & (PKI_CERT_BADCERT | PKI_CERT_KEYMISMATCH),
                     PKI_CERT_BADCERT | PKI_CERT_KEYMISMATCH);
    char text[256];
    assert_true(chipssl_certflags_text(err, text, (int)sizeof text) > 0);
    if (!strstr(text, "key"))
        fail_msg("flags text \"%s\" does not mention the key", text);
    /* The key stays pending: its own certificate still takes it. */
    assert_int_equal(tu_add_cert("server-ec.pem", PKI_FMT_PEM, PKI_CERT_LOCAL, "match", "ca",
                                 &err),
                     0);
    assert_int_equal(PKI_CertificateDel("match", PKI_CERT_LOCAL, &err), 0);
}

int main(void)
{
    tu_require_pki();
    struct CMUnitTest tests[sizeof cases / sizeof cases[0] + 1];
    size_t n = 0;
    TU_ADD_TABLE(tests, n, cases, run_case);
    TU_ADD_TEST(tests, n, "key_mismatch_is_named", key_mismatch_is_named);
    return _cmocka_run_group_tests("problem_reasons", tests, n, setup_pki, teardown_pki);
}
