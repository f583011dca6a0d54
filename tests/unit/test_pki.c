/*
 * test_pki.c - the PKI store (API.md 4): formats, key encodings, the
 * pending-key rule, issuer checks at add time, warnings (EXPIRED, REVOKED,
 * UNKNOWNCA), deletion, the root-CA bundle extension, and the own
 * certificates and keys SSL_SessionNew and PKI_OwnKeyPairAdd refuse (SHA-1
 * signed certificates, EC keys on curves TLS does not sign with).
 *
 * The store is one per process: every test deletes what it adds, and the
 * group setup provides the roots "ca" and "ca2".
 */
#define _POSIX_C_SOURCE 200809L

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "tcpip.h"
#include "testutil.h"
#include "tu_cmocka.h"

#define PEM PKI_FMT_PEM
#define DER PKI_FMT_DER
#define MEM PKI_FMT_MEMORY
#define V_BOTH (SSL_VERSION_TLS12 | SSL_VERSION_TLS13)

/* Take whatever own keys are still pending (after a case that failed), by
 * offering LOCAL certificates for every key the tests use; newest first. */
static void drain_pending_keys(void)
{
    static const char *certs[] = {"server.pem",  "server-ec.pem",  "ed25519.pem",
                                  "expired.pem", "selfsigned.pem", "client.pem"};
    int round, i, err, taken;

    for (round = 0; round < 2 * CHIPSSL_MAX_PENDING_KEYS; round++) {
        taken = 0;
        for (i = 0; i < (int)(sizeof certs / sizeof certs[0]) && !taken; i++) {
            if (tu_add_cert(certs[i], PEM, PKI_CERT_LOCAL, "drain", NULL, &err) == 0) {
                PKI_CertificateDel("drain", PKI_CERT_LOCAL, &err);
                taken = 1;
            }
        }
        if (!taken)
            return;
    }
}

/* ------------------------------------------------------------ single adds */

struct add_case {
    const char *desc;
    const char *key; /* own key added first (NULL: none) */
    int keyfmt;
    int keytype;
    const char *file;
    int fmt;
    int type;
    const char *caid;
    int want_ret;
    int want_set;   /* flags that must be set in *error          */
    int want_clear; /* flags that must not be set                */
    int exact;      /* *error must equal want_set exactly         */
};

/* clang-format off */
static const struct add_case add_cases[] = {
    /* certificate formats */
    { .desc = "root CA, PEM file", .file = "ca.pem", .fmt = PEM, .type = TU_ROOT,
      .want_ret = 0, .exact = 1 },
    { .desc = "root CA, DER file", .file = "ca.der", .fmt = DER, .type = TU_ROOT,
      .want_ret = 0, .exact = 1 },
    { .desc = "root CA, PEM in memory", .file = "ca.pem", .fmt = PEM | MEM, .type = TU_ROOT,
      .want_ret = 0, .exact = 1 },
    { .desc = "root CA, DER in memory", .file = "ca.der", .fmt = DER | MEM, .type = TU_ROOT,
      .want_ret = 0, .exact = 1 },
    { .desc = "EC root CA", .file = "ca2.pem", .fmt = PEM, .type = TU_ROOT,
      .want_ret = 0, .exact = 1 },
    /* issuer check at add time */
    { .desc = "server.pem issued by ca", .file = "server.pem", .fmt = PEM,
      .type = PKI_CERT_NONLOCAL, .caid = "ca", .want_ret = 0, .exact = 1 },
    { .desc = "server.pem claimed by ca2", .file = "server.pem", .fmt = PEM,
      .type = PKI_CERT_NONLOCAL, .caid = "ca2", .want_ret = -1,
      .want_set = PKI_CERT_BADCERT },
    { .desc = "client2.pem issued by ca2", .file = "client2.pem", .fmt = PEM,
      .type = PKI_CERT_NONLOCAL, .caid = "ca2", .want_ret = 0, .exact = 1 },
    { .desc = "client2.pem claimed by ca", .file = "client2.pem", .fmt = PEM,
      .type = PKI_CERT_NONLOCAL, .caid = "ca", .want_ret = -1,
      .want_set = PKI_CERT_BADCERT },
    { .desc = "non-CA leaf as plain non-local", .file = "notca.pem", .fmt = PEM,
      .type = PKI_CERT_NONLOCAL, .caid = "ca", .want_ret = 0, .exact = 1 },
    { .desc = "intermediate CA under ca", .file = "inter-ca.pem", .fmt = PEM,
      .type = PKI_CERT_NONLOCAL, .caid = "ca", .want_ret = 0, .exact = 1 },
    /* warnings */
    { .desc = "expired.pem issued by ca", .file = "expired.pem", .fmt = PEM,
      .type = PKI_CERT_NONLOCAL, .caid = "ca", .want_ret = 0,
      .want_set = PKI_CERT_EXPIRED, .want_clear = PKI_CERT_BADCERT },
    { .desc = "expired.pem without caIdPtr", .file = "expired.pem", .fmt = PEM,
      .type = PKI_CERT_NONLOCAL, .want_ret = 0, .want_set = PKI_CERT_EXPIRED,
      .want_clear = PKI_CERT_BADCERT },
    { .desc = "issuer not in the store", .file = "client-untrusted.pem", .fmt = PEM,
      .type = PKI_CERT_NONLOCAL, .want_ret = 0, .want_set = PKI_CERT_UNKNOWNCA,
      .want_clear = PKI_CERT_BADCERT },
    { .desc = "self-signed leaf as non-local", .file = "selfsigned.pem", .fmt = PEM,
      .type = PKI_CERT_NONLOCAL, .want_ret = 0, .want_clear = PKI_CERT_BADCERT },
    /* CRLs */
    { .desc = "CRL PEM, caIdPtr ca", .file = "crl.pem", .fmt = PEM, .type = PKI_CERT_CRL,
      .caid = "ca", .want_ret = 0, .exact = 1 },
    { .desc = "CRL DER as 0x06, caIdPtr NULL", .file = "crl.der", .fmt = DER,
      .type = PKI_CERT_CRL | PKI_CERT_NONLOCAL, .want_ret = 0, .exact = 1 },
    { .desc = "CRL PEM in memory", .file = "crl.pem", .fmt = PEM | MEM,
      .type = PKI_CERT_CRL, .caid = "ca", .want_ret = 0, .exact = 1 },
    { .desc = "CRL of ca claimed by ca2", .file = "crl.pem", .fmt = PEM,
      .type = PKI_CERT_CRL, .caid = "ca2", .want_ret = -1, .want_set = PKI_CERT_BADCERT },
    /* own keys in every encoding, then their LOCAL certificate */
    { .desc = "RSA key PKCS#8 PEM + LOCAL", .key = "server.key", .keyfmt = PEM,
      .keytype = PKI_KEY_RSA, .file = "server.pem", .fmt = PEM, .type = PKI_CERT_LOCAL,
      .caid = "ca", .want_ret = 0, .exact = 1 },
    { .desc = "RSA key PKCS#1 PEM + LOCAL", .key = "server.key.pkcs1.pem", .keyfmt = PEM,
      .keytype = PKI_KEY_RSA, .file = "server.pem", .fmt = PEM, .type = PKI_CERT_LOCAL,
      .caid = "ca", .want_ret = 0, .exact = 1 },
    { .desc = "RSA key PKCS#8 DER + LOCAL", .key = "server.key.pk8.der", .keyfmt = DER,
      .keytype = PKI_KEY_RSA, .file = "server.pem", .fmt = PEM, .type = PKI_CERT_LOCAL,
      .caid = "ca", .want_ret = 0, .exact = 1 },
    { .desc = "RSA key PEM in memory + LOCAL", .key = "server.key", .keyfmt = PEM | MEM,
      .keytype = PKI_KEY_RSA, .file = "server.pem", .fmt = PEM, .type = PKI_CERT_LOCAL,
      .caid = "ca", .want_ret = 0, .exact = 1 },
    { .desc = "RSA key DER in memory + LOCAL", .key = "server.key.pk8.der",
      .keyfmt = DER | MEM, .keytype = PKI_KEY_RSA, .file = "server.pem", .fmt = PEM,
      .type = PKI_CERT_LOCAL, .caid = "ca", .want_ret = 0, .exact = 1 },
    { .desc = "RSA key + LOCAL without caIdPtr", .key = "server.key", .keyfmt = PEM,
      .keytype = PKI_KEY_RSA, .file = "server.pem", .fmt = PEM, .type = PKI_CERT_LOCAL,
      .want_ret = 0, .want_clear = PKI_CERT_BADCERT },
    { .desc = "EC key SEC1 + LOCAL", .key = "server-ec.key.sec1.pem", .keyfmt = PEM,
      .keytype = PKI_KEY_EC, .file = "server-ec.pem", .fmt = PEM, .type = PKI_CERT_LOCAL,
      .caid = "ca", .want_ret = 0, .exact = 1 },
    { .desc = "EC key PKCS#8 + LOCAL", .key = "server-ec.key", .keyfmt = PEM,
      .keytype = PKI_KEY_EC, .file = "server-ec.pem", .fmt = PEM, .type = PKI_CERT_LOCAL,
      .caid = "ca", .want_ret = 0, .exact = 1 },
    { .desc = "Ed25519 key + LOCAL", .key = "ed25519.key", .keyfmt = PEM,
      .keytype = PKI_KEY_ED25519, .file = "ed25519.pem", .fmt = PEM,
      .type = PKI_CERT_LOCAL, .caid = "ca", .want_ret = 0, .exact = 1 },
    { .desc = "client key + LOCAL", .key = "client.key", .keyfmt = PEM,
      .keytype = PKI_KEY_RSA, .file = "client.pem", .fmt = PEM, .type = PKI_CERT_LOCAL,
      .caid = "ca", .want_ret = 0, .exact = 1 },
    { .desc = "self-signed key + LOCAL", .key = "selfsigned.key", .keyfmt = PEM,
      .keytype = PKI_KEY_EC, .file = "selfsigned.pem", .fmt = PEM,
      .type = PKI_CERT_LOCAL, .want_ret = 0, .want_clear = PKI_CERT_BADCERT },
    { .desc = "expired LOCAL is stored with a warning", .key = "expired.key",
      .keyfmt = PEM, .keytype = PKI_KEY_EC, .file = "expired.pem", .fmt = PEM,
      .type = PKI_CERT_LOCAL, .caid = "ca", .want_ret = 0, .want_set = PKI_CERT_EXPIRED,
      .want_clear = PKI_CERT_BADCERT },
    { .desc = "not-yet-valid LOCAL is stored with a warning", .key = "notyet.key",
      .keyfmt = PEM, .keytype = PKI_KEY_EC, .file = "notyet.pem", .fmt = PEM,
      .type = PKI_CERT_LOCAL, .caid = "ca", .want_ret = 0, .want_set = PKI_CERT_EXPIRED,
      .want_clear = PKI_CERT_BADCERT },
    { .desc = "mismatched key: EC key, RSA certificate", .key = "server-ec.key",
      .keyfmt = PEM, .keytype = PKI_KEY_EC, .file = "server.pem", .fmt = PEM,
      .type = PKI_CERT_LOCAL, .caid = "ca", .want_ret = -1,
      .want_set = PKI_CERT_BADCERT | PKI_CERT_KEYMISMATCH },
    { .desc = "mismatched key: client key, server certificate", .key = "client.key",
      .keyfmt = PEM, .keytype = PKI_KEY_RSA, .file = "server.pem", .fmt = PEM,
      .type = PKI_CERT_LOCAL, .caid = "ca", .want_ret = -1,
      .want_set = PKI_CERT_BADCERT | PKI_CERT_KEYMISMATCH },
};
/* clang-format on */

static void run_add_case(void **state)
{
    const struct add_case *c = *state;
    char id[32];
    int err = 0x7A7A, ret, delerr;

    snprintf(id, sizeof id, "row-%d", (int)(c - add_cases));
    if (c->key != NULL) {
        ret = tu_add_key(c->key, c->keyfmt, c->keytype, &err);
        if (ret != 0)
            fail_msg("%s: PKI_OwnKeyPairAdd(%s) returned %d, *error %d", c->desc, c->key, ret, err);
    }
    err = 0x7A7A;
    ret = tu_add_cert(c->file, c->fmt, c->type, id, c->caid, &err);
    if (ret == 0) {
        int list = (c->type & PKI_CERT_CRL) ? PKI_CERT_NONLOCAL : (c->type & 0x03);

        if (PKI_CertificateDel(id, list, &delerr) != 0)
            fail_msg("%s: PKI_CertificateDel(%s) failed: %d", c->desc, id, delerr);
    }
    if (c->key != NULL && ret != 0)
        drain_pending_keys();
    if (ret != c->want_ret)
        fail_msg("%s: returned %d, want %d (*error 0x%x)", c->desc, ret, c->want_ret,
                 (unsigned)err);
    if (err >= 0x80 && err != 0x7A7A)
        fail_msg("%s: *error %d is an error code, want PKI_CERT flags", c->desc, err);
    if (c->exact && err != c->want_set)
        fail_msg("%s: *error 0x%x, want 0x%x", c->desc, (unsigned)err, (unsigned)c->want_set);
    if ((err & c->want_set) != c->want_set)
        fail_msg("%s: *error 0x%x lacks flags 0x%x", c->desc, (unsigned)err, (unsigned)c->want_set);
    if (err & c->want_clear)
        fail_msg("%s: *error 0x%x has flags 0x%x", c->desc, (unsigned)err,
                 (unsigned)(err & c->want_clear));
}

/* ---------------------------------------------------------- sequences */

/* The LOCAL certificate takes the newest pending key; it must match. */
static void test_pending_key_rules(void **state)
{
    int err, i;
    char id[32];

    (void)state;
    /* no pending key */
    assert_int_equal(tu_add_cert("server.pem", PEM, PKI_CERT_LOCAL, "pk-none", "ca", &err), -1);
    assert_true(err < 0x80 && (err & PKI_CERT_BADCERT));

    /* two keys, then two certificates: newest first */
    assert_int_equal(tu_add_key("server.key", PEM, PKI_KEY_RSA, &err), 0);
    assert_int_equal(tu_add_key("server-ec.key", PEM, PKI_KEY_EC, &err), 0);
    assert_int_equal(tu_add_cert("server-ec.pem", PEM, PKI_CERT_LOCAL, "pk-ec", "ca", &err), 0);
    assert_int_equal(err, 0);
    assert_int_equal(tu_add_cert("server.pem", PEM, PKI_CERT_LOCAL, "pk-rsa", "ca", &err), 0);
    assert_int_equal(err, 0);
    /* both keys are taken now */
    assert_int_equal(tu_add_cert("server.pem", PEM, PKI_CERT_LOCAL, "pk-none", "ca", &err), -1);
    assert_true(err < 0x80 && (err & PKI_CERT_BADCERT));
    assert_int_equal(PKI_CertificateDel("pk-ec", PKI_CERT_LOCAL, &err), 0);
    assert_int_equal(PKI_CertificateDel("pk-rsa", PKI_CERT_LOCAL, &err), 0);

    /* the same two keys, certificates in the wrong order: the newest key
     * (RSA) does not match the EC certificate */
    assert_int_equal(tu_add_key("server-ec.key", PEM, PKI_KEY_EC, &err), 0);
    assert_int_equal(tu_add_key("server.key", PEM, PKI_KEY_RSA, &err), 0);
    assert_int_equal(tu_add_cert("server-ec.pem", PEM, PKI_CERT_LOCAL, "pk-wrong", "ca", &err), -1);
    assert_true(err < 0x80 && (err & PKI_CERT_BADCERT));
    drain_pending_keys();

    /* at most CHIPSSL_MAX_PENDING_KEYS pending; one more: ENOBUFS */
    for (i = 0; i < CHIPSSL_MAX_PENDING_KEYS; i++) {
        assert_int_equal(tu_add_key("server.key", PEM, PKI_KEY_RSA, &err), 0);
        assert_int_equal(err, 0);
    }
    assert_int_equal(tu_add_key("server.key", PEM, PKI_KEY_RSA, &err), -1);
    assert_int_equal(err, API_ENOBUFS);
    for (i = 0; i < CHIPSSL_MAX_PENDING_KEYS; i++) {
        snprintf(id, sizeof id, "pk-many-%d", i);
        assert_int_equal(tu_add_cert("server.pem", PEM, PKI_CERT_LOCAL, id, "ca", &err), 0);
    }
    assert_int_equal(tu_add_cert("server.pem", PEM, PKI_CERT_LOCAL, "pk-none", "ca", &err), -1);
    assert_true(err < 0x80 && (err & PKI_CERT_BADCERT));
    for (i = 0; i < CHIPSSL_MAX_PENDING_KEYS; i++) {
        snprintf(id, sizeof id, "pk-many-%d", i);
        assert_int_equal(PKI_CertificateDel(id, PKI_CERT_LOCAL, &err), 0);
    }
}

/* caIdPtr names the issuer, whose signature is checked at add time. */
static void test_intermediate_chain(void **state)
{
    int err;

    (void)state;
    assert_int_equal(tu_add_cert("inter-ca.pem", PEM, PKI_CERT_NONLOCAL, "ch-inter", "ca", &err),
                     0);
    assert_int_equal(err, 0);
    assert_int_equal(
        tu_add_cert("leaf-inter.pem", PEM, PKI_CERT_NONLOCAL, "ch-leaf", "ch-inter", &err), 0);
    assert_int_equal(err, 0);
    assert_int_equal(
        tu_add_cert("client-inter.pem", PEM, PKI_CERT_NONLOCAL, "ch-client", "ch-inter", &err), 0);
    assert_int_equal(err, 0);
    /* the root did not sign the leaf */
    assert_int_equal(tu_add_cert("leaf-inter.pem", PEM, PKI_CERT_NONLOCAL, "ch-leaf2", "ca", &err),
                     -1);
    assert_true(err < 0x80 && (err & PKI_CERT_BADCERT));
    /* an own certificate under an intermediate */
    assert_int_equal(tu_add_key("leaf-inter.key", PEM, PKI_KEY_EC, &err), 0);
    assert_int_equal(tu_add_cert("leaf-inter.pem", PEM, PKI_CERT_LOCAL, "ch-own", "ch-inter", &err),
                     0);
    assert_int_equal(err, 0);

    assert_int_equal(PKI_CertificateDel("ch-own", PKI_CERT_LOCAL, &err), 0);
    assert_int_equal(PKI_CertificateDel("ch-client", PKI_CERT_NONLOCAL, &err), 0);
    assert_int_equal(PKI_CertificateDel("ch-leaf", PKI_CERT_NONLOCAL, &err), 0);
    assert_int_equal(PKI_CertificateDel("ch-inter", PKI_CERT_NONLOCAL, &err), 0);
    /* the issuer is gone */
    assert_int_equal(
        tu_add_cert("leaf-inter.pem", PEM, PKI_CERT_NONLOCAL, "ch-leaf3", "ch-inter", &err), -1);
    assert_int_equal(err & (PKI_CERT_BADCERT | PKI_CERT_UNKNOWNCA),
                     PKI_CERT_BADCERT | PKI_CERT_UNKNOWNCA);
}

/* A CRL in the store makes a listed certificate's add report REVOKED;
 * deleting the CRL stops that. PEM and DER CRLs. */
static void test_crl_revoked(void **state)
{
    int err;

    (void)state;
    assert_int_equal(tu_add_cert("revoked.pem", PEM, PKI_CERT_NONLOCAL, "rv0", "ca", &err), 0);
    assert_int_equal(err, 0);
    assert_int_equal(PKI_CertificateDel("rv0", PKI_CERT_NONLOCAL, &err), 0);

    /* PEM CRL, issuer named */
    assert_int_equal(tu_add_cert("crl.pem", PEM, PKI_CERT_CRL, "crl-pem", "ca", &err), 0);
    assert_int_equal(err, 0);
    assert_int_equal(tu_add_cert("revoked.pem", PEM, PKI_CERT_NONLOCAL, "rv1", "ca", &err), 0);
    assert_int_equal(err & (PKI_CERT_REVOKED | PKI_CERT_BADCERT), PKI_CERT_REVOKED);
    assert_int_equal(tu_add_cert("server.pem", PEM, PKI_CERT_NONLOCAL, "sv1", "ca", &err), 0);
    assert_int_equal(err, 0);
    assert_int_equal(PKI_CertificateDel("rv1", PKI_CERT_NONLOCAL, &err), 0);
    assert_int_equal(PKI_CertificateDel("sv1", PKI_CERT_NONLOCAL, &err), 0);
    assert_int_equal(PKI_CertificateDel("crl-pem", PKI_CERT_NONLOCAL, &err), 0);

    /* CRL gone: no warning */
    assert_int_equal(tu_add_cert("revoked.pem", PEM, PKI_CERT_NONLOCAL, "rv2", "ca", &err), 0);
    assert_int_equal(err, 0);
    assert_int_equal(PKI_CertificateDel("rv2", PKI_CERT_NONLOCAL, &err), 0);

    /* DER CRL, issuer found by subject */
    assert_int_equal(
        tu_add_cert("crl.der", DER, PKI_CERT_CRL | PKI_CERT_NONLOCAL, "crl-der", NULL, &err), 0);
    assert_int_equal(err, 0);
    assert_int_equal(tu_add_cert("revoked.pem", PEM, PKI_CERT_NONLOCAL, "rv3", "ca", &err), 0);
    assert_int_equal(err & (PKI_CERT_REVOKED | PKI_CERT_BADCERT), PKI_CERT_REVOKED);
    assert_int_equal(PKI_CertificateDel("rv3", PKI_CERT_NONLOCAL, &err), 0);
    assert_int_equal(PKI_CertificateDel("crl-der", PKI_CERT_NONLOCAL, &err), 0);
}

static void test_delete_and_readd(void **state)
{
    int err;

    (void)state;
    assert_int_equal(tu_add_cert("ca.pem", PEM, TU_ROOT, "dr", NULL, &err), 0);
    assert_int_equal(tu_add_cert("ca.pem", PEM, TU_ROOT, "dr", NULL, &err), -1);
    assert_int_equal(err, API_EINVAL);
    assert_int_equal(PKI_CertificateDel("dr", PKI_CERT_NONLOCAL, &err), 0);
    assert_int_equal(err, 0);
    assert_int_equal(PKI_CertificateDel("dr", PKI_CERT_NONLOCAL, &err), -1);
    assert_int_equal(err, API_ENOENT);
    assert_int_equal(tu_add_cert("ca.pem", PEM, TU_ROOT, "dr", NULL, &err), 0);
    assert_int_equal(err, 0);
    assert_int_equal(PKI_CertificateDel("dr", PKI_CERT_NONLOCAL | PKI_CERT_LOCAL, &err), 0);

    /* an own certificate too */
    assert_int_equal(tu_add_local("server.key", PKI_KEY_RSA, "server.pem", "dr-own", "ca", &err),
                     0);
    assert_int_equal(PKI_CertificateDel("dr-own", PKI_CERT_LOCAL, &err), 0);
    assert_int_equal(tu_add_local("server.key", PKI_KEY_RSA, "server.pem", "dr-own", "ca", &err),
                     0);
    assert_int_equal(PKI_CertificateDel("dr-own", PKI_CERT_LOCAL, &err), 0);
}

/* "duplicate ID in that list": the two lists have separate name spaces,
 * and PKI_CertificateDel's bits select them. */
static void test_same_id_both_lists(void **state)
{
    int err;

    (void)state;
    assert_int_equal(tu_add_cert("ca.pem", PEM, TU_ROOT, "both", NULL, &err), 0);
    assert_int_equal(tu_add_local("server.key", PKI_KEY_RSA, "server.pem", "both", "ca", &err), 0);
    assert_int_equal(PKI_CertificateDel("both", PKI_CERT_LOCAL, &err), 0);
    assert_int_equal(PKI_CertificateDel("both", PKI_CERT_LOCAL, &err), -1);
    assert_int_equal(err, API_ENOENT);
    assert_int_equal(PKI_CertificateDel("both", PKI_CERT_NONLOCAL, &err), 0);

    assert_int_equal(tu_add_cert("ca.pem", PEM, TU_ROOT, "both", NULL, &err), 0);
    assert_int_equal(tu_add_local("server.key", PKI_KEY_RSA, "server.pem", "both", "ca", &err), 0);
    assert_int_equal(PKI_CertificateDel("both", PKI_CERT_LOCAL | PKI_CERT_NONLOCAL, &err), 0);
    assert_int_equal(PKI_CertificateDel("both", PKI_CERT_LOCAL | PKI_CERT_NONLOCAL, &err), -1);
    assert_int_equal(err, API_ENOENT);
}

/* The ID is idPtr[0..idLength): it need not be NUL-terminated. */
static void test_id_length(void **state)
{
    char path[TU_PATH_MAX];
    char longid[CHIPSSL_MAX_ID_LEN + 1];
    PKI_CERT_ADD_Entry e;
    int err;

    (void)state;
    memset(&e, 0, sizeof e);
    e.fileNamePtr = tu_path(path, sizeof path, "ca.pem");
    e.fileFormat = PEM;
    e.certType = TU_ROOT;
    e.idPtr = "abcdef";
    e.idLength = 3;
    assert_int_equal(PKI_CertificateAdd(&e, &err), 0);
    assert_int_equal(PKI_CertificateDel("abcdef", PKI_CERT_NONLOCAL, &err), -1);
    assert_int_equal(err, API_ENOENT);
    assert_int_equal(PKI_CertificateDel("abc", PKI_CERT_NONLOCAL, &err), 0);

    /* exactly CHIPSSL_MAX_ID_LEN bytes */
    memset(longid, 'i', sizeof longid - 1);
    longid[sizeof longid - 1] = '\0';
    e.idPtr = longid;
    e.idLength = CHIPSSL_MAX_ID_LEN;
    assert_int_equal(PKI_CertificateAdd(&e, &err), 0);
    assert_int_equal(err, 0);
    assert_int_equal(PKI_CertificateDel(longid, PKI_CERT_NONLOCAL, &err), 0);
}

/* A certificate in use by a session: deletion does not break the session;
 * new sessions no longer find it. */
static void test_delete_in_use(void **state)
{
    SSL_SESSION_NEW_Entry se = {
        .certIdentity = "inuse", .maxCaches = 0, .version = SSL_VERSION_TLS12 | SSL_VERSION_TLS13};
    int err, sid;

    (void)state;
    assert_int_equal(tu_add_local("server.key", PKI_KEY_RSA, "server.pem", "inuse", "ca", &err), 0);
    sid = SSL_SessionNew(&se, &err);
    assert_true(sid >= 1);
    assert_int_equal(PKI_CertificateDel("inuse", PKI_CERT_LOCAL, &err), 0);
    assert_int_equal(SSL_SessionOpt(sid, SSL_OPT_SERVER_PROPOSALS, 1, &err), 0);
    assert_int_equal(SSL_SessionNew(&se, &err), -1);
    assert_int_equal(err, API_EINVAL);
    assert_int_equal(SSL_SessionClose(sid, &err), 0);
}

/* Write the concatenation of PKI files to a temporary file; returns its
 * path in dst (to unlink). */
static void write_bundle(char *dst, size_t size, const char *const *files, int n)
{
    char tmpl[] = "/tmp/chipssl-bundle-XXXXXX";
    int fd = mkstemp(tmpl), i;

    assert_true(fd >= 0);
    for (i = 0; i < n; i++) {
        size_t len;
        char *data = tu_read(files[i], &len);

        assert_non_null(data);
        assert_int_equal(write(fd, data, len), (ssize_t)len);
        free(data);
    }
    close(fd);
    snprintf(dst, size, "%s", tmpl);
}

static void test_bundle_file(void **state)
{
    static const char *const two[] = {"ca.pem", "ca2.pem"};
    static const char *const mixed[] = {"server.pem", "ca2.pem", "expired.pem"};
    char path[64];
    int err, ret;

    (void)state;
    write_bundle(path, sizeof path, two, 2);
    ret = PKI_RootCABundleAdd(path, "bun:", &err);
    unlink(path);
    assert_int_equal(ret, 2);
    assert_int_equal(err, 0);
    assert_int_equal(PKI_CertificateDel("bun:0", PKI_CERT_NONLOCAL, &err), 0);
    assert_int_equal(PKI_CertificateDel("bun:1", PKI_CERT_NONLOCAL, &err), 0);
    assert_int_equal(PKI_CertificateDel("bun:2", PKI_CERT_NONLOCAL, &err), -1);
    assert_int_equal(err, API_ENOENT);

    /* non-CA and expired certificates are skipped */
    write_bundle(path, sizeof path, mixed, 3);
    ret = PKI_RootCABundleAdd(path, "mix:", &err);
    unlink(path);
    assert_int_equal(ret, 1);
    assert_int_equal(err, 0);
    /* whatever ID it got, exactly one mix: entry exists */
    ret = (PKI_CertificateDel("mix:0", PKI_CERT_NONLOCAL, &err) == 0) +
          (PKI_CertificateDel("mix:1", PKI_CERT_NONLOCAL, &err) == 0) +
          (PKI_CertificateDel("mix:2", PKI_CERT_NONLOCAL, &err) == 0);
    assert_int_equal(ret, 1);
}

static void test_bundle_system(void **state)
{
    int err, ret;

    (void)state;
    if (access("/etc/ssl/certs/ca-certificates.crt", R_OK) != 0) {
        print_message("no /etc/ssl/certs/ca-certificates.crt: skipped\n");
        skip();
    }
    ret = PKI_RootCABundleAdd(NULL, NULL, &err);
    assert_true(ret > 0);
    assert_int_equal(err, 0);
    /* the second time every ID is taken: nothing added, no error */
    ret = PKI_RootCABundleAdd(NULL, NULL, &err);
    assert_int_equal(ret, 0);
    assert_int_equal(err, 0);
}

/* An own certificate the TLS engine refuses (SHA-1 signed) is stored, but
 * SSL_SessionNew refuses to use it (regression: the session was made and
 * every handshake of it failed). */

static void test_sha1_own_certificate(void **state)
{
    SSL_SESSION_NEW_Entry e = {.certIdentity = "sha1", .maxCaches = 0, .version = V_BOTH};
    SSL_SESSION_NEW_Entry plain = {.certIdentity = NULL, .maxCaches = 0, .version = V_BOTH};
    int err, rc, a, b;

    (void)state;
    rc = tu_add_local("sha1.key", PKI_KEY_EC, "sha1.pem", "sha1", "ca", &err);
    if (rc != 0)
        fail_msg("PKI_CertificateAdd(sha1.pem) returned %d (0x%x), want 0", rc, (unsigned)err);
    a = SSL_SessionNew(&plain, &err);
    assert_true(a >= 1);
    err = 4242;
    rc = SSL_SessionNew(&e, &err);
    if (rc != -1 || err != API_EINVAL) {
        if (rc >= 1)
            SSL_SessionClose(rc, &err);
        PKI_CertificateDel("sha1", PKI_CERT_LOCAL, &err);
        SSL_SessionClose(a, &err);
        fail_msg("SSL_SessionNew naming a SHA-1 signed certificate returned %d, want -1 "
                 "API_EINVAL",
                 rc);
    }
    /* the refused session took no slot */
    b = SSL_SessionNew(&plain, &err);
    assert_int_equal(b, a + 1);
    SSL_SessionClose(b, &err);
    SSL_SessionClose(a, &err);
    assert_int_equal(PKI_CertificateDel("sha1", PKI_CERT_LOCAL, &err), 0);
}

/* EC own keys only on P-256/P-384/P-521, the curves TLS signs with
 * (regression: secp256k1 and brainpool keys were accepted, then every
 * handshake with them failed). */

struct key_case {
    const char *desc;
    const char *key;
    int fmt;
    const char *cert; /* matching certificate (takes the key) or NULL */
    int want_rc, want_err;
};

/* clang-format off */
static const struct key_case key_cases[] = {
    { "secp256k1", "ec-secp256k1.key", PKI_FMT_PEM, NULL, -1, API_EINVAL },
    { "secp256k1 (memory)", "ec-secp256k1.key", PKI_FMT_PEM | PKI_FMT_MEMORY, NULL, -1,
      API_EINVAL },
    { "brainpoolP256r1", "ec-brainpoolP256r1.key", PKI_FMT_PEM, NULL, -1, API_EINVAL },
    { "brainpoolP256r1 (memory)", "ec-brainpoolP256r1.key", PKI_FMT_PEM | PKI_FMT_MEMORY, NULL,
      -1, API_EINVAL },
    { "P-256", "server-ec.key", PKI_FMT_PEM, "server-ec.pem", 0, 0 },
    { "P-384", "ec-p384.key", PKI_FMT_PEM, "ec-p384.pem", 0, 0 },
    { "P-521", "ec-p521.key", PKI_FMT_PEM, "ec-p521.pem", 0, 0 },
};
/* clang-format on */

/* Every row is tried; the mismatches are reported together. An accepted
 * key is taken again by its certificate (no key is left pending) and used
 * for a session. */
static void test_ec_key_curves(void **state)
{
    char bad[1024] = "";
    size_t i, used = 0;

    (void)state;
    for (i = 0; i < sizeof key_cases / sizeof key_cases[0]; i++) {
        const struct key_case *c = &key_cases[i];
        int err = 4242, rc;

        rc = tu_add_key(c->key, c->fmt, PKI_KEY_EC, &err);
        if (rc != c->want_rc || err != c->want_err)
            used += (size_t)snprintf(bad + used, sizeof bad - used, " %s: %d/%d, want %d/%d;",
                                     c->desc, rc, err, c->want_rc, c->want_err);
        if (used >= sizeof bad)
            used = sizeof bad - 1;
        if (rc == 0 && c->cert) {
            SSL_SESSION_NEW_Entry e = {
                .certIdentity = "key-case", .maxCaches = 0, .version = V_BOTH};
            int sid;

            assert_int_equal(
                tu_add_cert(c->cert, PKI_FMT_PEM, PKI_CERT_LOCAL, "key-case", "ca", &err), 0);
            sid = SSL_SessionNew(&e, &err);
            assert_true(sid >= 1);
            SSL_SessionClose(sid, &err);
            assert_int_equal(PKI_CertificateDel("key-case", PKI_CERT_LOCAL, &err), 0);
        }
    }
    if (bad[0])
        fail_msg("PKI_OwnKeyPairAdd(PKI_KEY_EC) gave (result/error):%s", bad);
}

static const struct tu_cert ca2[] = {
    {"ca2.pem", TU_ROOT, "ca2", NULL},
};
static const struct tu_pki pki = {.certs = ca2, .ncerts = TU_N(ca2)};

TU_PKI_FIXTURES(group_setup, group_teardown, pki)

int main(void)
{
    enum { NADD = sizeof add_cases / sizeof add_cases[0] };
    static const struct CMUnitTest seq[] = {
        cmocka_unit_test(test_pending_key_rules),    cmocka_unit_test(test_intermediate_chain),
        cmocka_unit_test(test_crl_revoked),          cmocka_unit_test(test_delete_and_readd),
        cmocka_unit_test(test_same_id_both_lists),   cmocka_unit_test(test_id_length),
        cmocka_unit_test(test_delete_in_use),        cmocka_unit_test(test_bundle_file),
        cmocka_unit_test(test_sha1_own_certificate), cmocka_unit_test(test_ec_key_curves),
        cmocka_unit_test(test_bundle_system), /* last: leaves the system roots */
    };
    enum { NSEQ = sizeof seq / sizeof seq[0] };
    static struct CMUnitTest tests[NADD + NSEQ];
    size_t n = 0;

    tu_require_pki();
    TU_ADD_TABLE(tests, n, add_cases, run_add_case);
    TU_ADD_TESTS(tests, n, seq);
    return _cmocka_run_group_tests("pki", tests, n, group_setup, group_teardown);
}
