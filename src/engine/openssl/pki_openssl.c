/*
 * pki_openssl.c - the PKI objects of tls.h on OpenSSL: parsing certificates,
 * CRLs and private keys, the checks the store makes when they are added, and
 * trust stores built from them. The handles are OpenSSL's own objects.
 */
#include "tls.h"

#include "ossl.h"

#include <openssl/core_names.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>
#include <stdlib.h>
#include <string.h>

int ossl_failure(int code)
{
    unsigned long e;
    while ((e = ERR_get_error()) != 0)
        if (ERR_GET_REASON(e) == ERR_R_MALLOC_FAILURE)
            code = -API_ENOMEM;
    return code;
}

/* Never prompt for a pass phrase: encrypted keys are refused. */
static int no_password(char *buf, int size, int rw, void *u)
{
    (void)buf; (void)size; (void)rw; (void)u;
    return -1;
}

/* A read-only memory BIO over the input; NULL on allocation failure. */
static BIO *mem_in(const unsigned char *data, size_t len)
{
    return len <= INT32_MAX ? BIO_new_mem_buf(data, (int)len) : NULL;
}

/* ---- parsing ------------------------------------------------------- */

int tls_cert_parse(const unsigned char *data, size_t len, int pem, struct tls_cert **out)
{
    BIO *in = mem_in(data, len);
    if (!in)
        return -API_ENOMEM;
    X509 *x = pem ? PEM_read_bio_X509(in, NULL, no_password, NULL) : d2i_X509_bio(in, NULL);
    BIO_free(in);
    *out = (struct tls_cert *)x;
    return ossl_failure(x ? 0 : -API_EINVAL);
}

int tls_crl_parse(const unsigned char *data, size_t len, int pem, struct tls_crl **out)
{
    BIO *in = mem_in(data, len);
    if (!in)
        return -API_ENOMEM;
    X509_CRL *c = pem ? PEM_read_bio_X509_CRL(in, NULL, no_password, NULL)
                      : d2i_X509_CRL_bio(in, NULL);
    BIO_free(in);
    *out = (struct tls_crl *)c;
    return ossl_failure(c ? 0 : -API_EINVAL);
}

int tls_cert_bundle(const unsigned char *data, size_t len,
                    int (*each)(void *arg, struct tls_cert *x), void *arg)
{
    BIO *in = mem_in(data, len);
    if (!in)
        return -API_ENOMEM;
    int seen = 0, rc = 0;
    X509 *x;
    while (rc == 0 && (x = PEM_read_bio_X509(in, NULL, no_password, NULL))) {
        seen++;
        rc = each(arg, (struct tls_cert *)x);
    }
    BIO_free(in);
    rc = ossl_failure(rc);
    return rc < 0 ? rc : seen;
}

/* EC keys on the curves TLS peers support (RFC 8446 4.2.7): P-256/384/521. */
static int named_curve_ok(EVP_PKEY *k)
{
    char group[64];
    if (!EVP_PKEY_get_utf8_string_param(k, OSSL_PKEY_PARAM_GROUP_NAME, group, sizeof group,
                                        NULL))
        return 0;
    return strcmp(group, "prime256v1") == 0 || strcmp(group, "secp384r1") == 0 ||
           strcmp(group, "secp521r1") == 0;
}

int tls_key_parse(const unsigned char *data, size_t len, int pem, int key_type,
                  struct tls_key **out)
{
    int want = key_type == PKI_KEY_RSA     ? EVP_PKEY_RSA
             : key_type == PKI_KEY_EC      ? EVP_PKEY_EC
             : key_type == PKI_KEY_ED25519 ? EVP_PKEY_ED25519
                                           : 0;
    *out = NULL;
    if (!want)
        return -API_EINVAL;
    BIO *in = mem_in(data, len);
    if (!in)
        return -API_ENOMEM;
    EVP_PKEY *k = pem ? PEM_read_bio_PrivateKey(in, NULL, no_password, NULL)
                      : d2i_PrivateKey_bio(in, NULL);
    BIO_free(in);
    int rc = ossl_failure(k ? 0 : -API_EINVAL);
    if (rc == 0 && (EVP_PKEY_get_base_id(k) != want ||
                    (want == EVP_PKEY_RSA && EVP_PKEY_get_bits(k) < 2048) ||
                    (want == EVP_PKEY_EC && !named_curve_ok(k))))
        rc = ossl_failure(-API_EINVAL);
    if (rc < 0) {
        EVP_PKEY_free(k);
        return rc;
    }
    *out = (struct tls_key *)k;
    return 0;
}

/* ---- references ----------------------------------------------------- */

int tls_cert_ref(struct tls_cert *x)
{
    return X509_up_ref(X509_of(x)) == 1;
}

int tls_crl_ref(struct tls_crl *c)
{
    return X509_CRL_up_ref((X509_CRL *)c) == 1;
}

void tls_cert_free(struct tls_cert *x)
{
    X509_free(X509_of(x));
}

void tls_crl_free(struct tls_crl *c)
{
    X509_CRL_free((X509_CRL *)c);
}

void tls_key_free(struct tls_key *k)
{
    EVP_PKEY_free(PKEY_of(k));
}

/* ---- checks --------------------------------------------------------- */

int tls_cert_info(const struct tls_cert *cx)
{
    X509 *x = X509_of(cx);
    int info = 0;
    if (!X509_get0_pubkey(x))
        info |= TLS_CERT_NO_KEY;
    if (X509_get_extension_flags(x) & EXFLAG_CA)
        info |= TLS_CERT_IS_CA;
    if (X509_check_issued(x, x) == X509_V_OK)
        info |= TLS_CERT_SELF_ISSUED;
    ERR_clear_error();
    return info;
}

int tls_cert_signed_by(const struct tls_cert *cx, const struct tls_cert *cissuer)
{
    X509 *x = X509_of(cx), *issuer = X509_of(cissuer);
    EVP_PKEY *pub = X509_get0_pubkey(issuer);
    int ok = pub && X509_check_issued(issuer, x) == X509_V_OK && X509_verify(x, pub) == 1;
    return ossl_failure(ok);
}

static int out_of_dates(const ASN1_TIME *nb, const ASN1_TIME *na)
{
    return (nb && X509_cmp_current_time(nb) >= 0) || (na && X509_cmp_current_time(na) <= 0);
}

int tls_cert_expired(const struct tls_cert *cx)
{
    X509 *x = X509_of(cx);
    return out_of_dates(X509_get0_notBefore(x), X509_get0_notAfter(x));
}

int tls_crl_expired(const struct tls_crl *cc)
{
    X509_CRL *c = (X509_CRL *)cc;
    return out_of_dates(X509_CRL_get0_lastUpdate(c), X509_CRL_get0_nextUpdate(c));
}

int tls_key_matches(const struct tls_cert *x, const struct tls_key *k)
{
    int ok = X509_check_private_key(X509_of(x), PKEY_of(k)) == 1;
    return ossl_failure(ok);
}

int tls_crl_issued_by(const struct tls_crl *cc, const struct tls_cert *issuer)
{
    return X509_NAME_cmp(X509_get_subject_name(X509_of(issuer)),
                         X509_CRL_get_issuer((X509_CRL *)cc)) == 0;
}

int tls_crl_signed_by(const struct tls_crl *cc, const struct tls_cert *issuer)
{
    EVP_PKEY *pub = X509_get0_pubkey(X509_of(issuer));
    int ok = pub && tls_crl_issued_by(cc, issuer) && X509_CRL_verify((X509_CRL *)cc, pub) == 1;
    return ossl_failure(ok);
}

int tls_crl_lists(const struct tls_crl *cc, const struct tls_cert *cx)
{
    X509_CRL *c = (X509_CRL *)cc;
    X509 *x = X509_of(cx);
    X509_REVOKED *r;
    return X509_NAME_cmp(X509_CRL_get_issuer(c), X509_get_issuer_name(x)) == 0 &&
           X509_CRL_get0_by_cert(c, &r, x) == 1;
}

/* ---- trust stores --------------------------------------------------- */

struct tls_trust *tls_trust_new(struct tls_cert *const *certs, int ncerts,
                                struct tls_crl *const *crls, int ncrls, int anchors_only)
{
    struct tls_trust *t = calloc(1, sizeof *t);
    X509_STORE *st = X509_STORE_new();
    STACK_OF(X509_NAME) *names = anchors_only ? sk_X509_NAME_new_null() : NULL;
    int ok = t && st && (!anchors_only || names);
    for (int i = 0; ok && i < ncerts; i++) {
        ok = X509_STORE_add_cert(st, X509_of(certs[i])) == 1;
        if (ok && names) {
            X509_NAME *n = X509_NAME_dup(X509_get_subject_name(X509_of(certs[i])));
            ok = n && sk_X509_NAME_push(names, n);
            if (!ok)
                X509_NAME_free(n);
        }
    }
    for (int i = 0; ok && i < ncrls; i++)
        ok = X509_STORE_add_crl(st, (X509_CRL *)crls[i]) == 1;
    ERR_clear_error();
    if (!ok) {
        X509_STORE_free(st);
        sk_X509_NAME_pop_free(names, X509_NAME_free);
        free(t);
        return NULL;
    }
    /* CRLs are checked along the whole chain. A client-CA store lets an
     * intermediate anchor (SSL_AddClientCA may name one). */
    unsigned long flags = ncrls ? X509_V_FLAG_CRL_CHECK | X509_V_FLAG_CRL_CHECK_ALL : 0;
    if (anchors_only)
        flags |= X509_V_FLAG_PARTIAL_CHAIN;
    X509_STORE_set_flags(st, flags);
    atomic_init(&t->refs, 1);
    t->store = st;
    t->names = names;
    return t;
}

void tls_trust_ref(struct tls_trust *t)
{
    atomic_fetch_add(&t->refs, 1);
}

void tls_trust_free(struct tls_trust *t)
{
    if (!t || atomic_fetch_sub(&t->refs, 1) != 1)
        return;
    X509_STORE_free(t->store);
    sk_X509_NAME_pop_free(t->names, X509_NAME_free);
    free(t);
}
