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
#include <time.h>

/* The thread's OpenSSL error queue: an entry point that reads it empties
 * it first (ERR_clear_error: an error the application or an earlier call
 * left there would otherwise be read as this call's), and every entry
 * point returns with it empty (ossl_failure or ERR_clear_error on every
 * path), so the application never finds errors of ours. */
int ossl_failure(int code)
{
    unsigned long e;
    while ((e = ERR_get_error()) != 0)
        if (ERR_GET_REASON(e) == ERR_R_MALLOC_FAILURE)
            code = -API_ENOMEM;
    return code;
}

/* OpenSSL 3.0 does not always say that an allocation failed: the public key
 * of a certificate is decoded under ERR_set_mark/ERR_pop_to_mark (a failure
 * leaves a certificate without a key and no error), the extension cache
 * marks the certificate invalid for good, a digest context that could not
 * be made fails a signature check with an empty queue or another reason.
 * A positive answer (parsed, verified, matching) is certain; a negative one
 * is taken only when the queue names no allocation failure and a second
 * attempt agrees, so that a shortage of memory is never reported as bad
 * input or a bad certificate. Two silent failures in a row would still be
 * taken for a "no": OpenSSL gives no way to tell. */
#define ATTEMPTS 2

/* Never prompt for a pass phrase: encrypted keys are refused. */
static int no_password(char *buf, int size, int rw, void *u)
{
    (void)buf; (void)size; (void)rw; (void)u;
    return -1;
}

/* A read-only memory BIO over the input, or NULL: too long (a PEM string
 * in memory has no other bound), or out of memory, which is then on the
 * queue as such (BIO_new_mem_buf may say only "init fail") so that
 * ossl_failure tells it from unreadable data. */
static BIO *mem_in(const unsigned char *data, size_t len)
{
    if (len > INT32_MAX)
        return NULL;
    BIO *in = BIO_new_mem_buf(data, (int)len);
    if (!in)
        ERR_raise(ERR_LIB_BIO, ERR_R_MALLOC_FAILURE);
    return in;
}

/* ---- parsing ------------------------------------------------------- */

/* A key whose size OpenSSL knows: it caches size and security bits when
 * it makes the key, and a failure there leaves zeros that make TLS refuse
 * the key later ("ee key too small"). Every key of a known type has both. */
static int key_sized(const EVP_PKEY *k)
{
    return EVP_PKEY_get_bits(k) > 0 && EVP_PKEY_get_security_bits(k) > 0;
}

/* A certificate whose key was decoded and sized and whose extensions were
 * cached without trouble. Each happens once per certificate object (the
 * key when it is parsed, the extensions on first use), and a failure
 * sticks to the object: settled now, a second parse can still mend it. */
static int cert_settled(X509 *x)
{
    EVP_PKEY *k = X509_get0_pubkey(x);
    return k && key_sized(k) && !(X509_get_extension_flags(x) & EXFLAG_INVALID);
}

static X509 *cert_read(const unsigned char *data, size_t len, int pem)
{
    BIO *in = mem_in(data, len);
    X509 *x = NULL;
    if (in)
        x = pem ? PEM_read_bio_X509(in, NULL, no_password, NULL) : d2i_X509_bio(in, NULL);
    BIO_free(in);
    return x;
}

int tls_cert_parse(const unsigned char *data, size_t len, int pem, struct tls_cert **out)
{
    X509 *x = NULL;
    int rc = 0;
    ERR_clear_error();
    for (int i = 0; i < ATTEMPTS && rc == 0; i++) {
        X509_free(x);
        x = cert_read(data, len, pem);
        if (x && cert_settled(x))
            break;
        /* No certificate, or one without a key or with extensions OpenSSL
         * refuses: out of memory, or (when it happens twice) the data. */
        rc = ossl_failure(0);
    }
    if (rc < 0) {
        X509_free(x);
        x = NULL;
    }
    *out = (struct tls_cert *)x;
    return ossl_failure(rc < 0 ? rc : x ? 0 : -API_EINVAL);
}

static X509_CRL *crl_read(const unsigned char *data, size_t len, int pem)
{
    BIO *in = mem_in(data, len);
    X509_CRL *c = NULL;
    if (in)
        c = pem ? PEM_read_bio_X509_CRL(in, NULL, no_password, NULL) : d2i_X509_CRL_bio(in, NULL);
    BIO_free(in);
    return c;
}

int tls_crl_parse(const unsigned char *data, size_t len, int pem, struct tls_crl **out)
{
    X509_CRL *c = NULL;
    int rc = 0;
    ERR_clear_error();
    for (int i = 0; i < ATTEMPTS && !c && rc == 0; i++) {
        c = crl_read(data, len, pem);
        if (!c)
            rc = ossl_failure(0);
    }
    *out = (struct tls_crl *)c;
    return ossl_failure(c ? 0 : rc < 0 ? rc : -API_EINVAL);
}

int tls_cert_bundle(const unsigned char *data, size_t len,
                    int (*each)(void *arg, struct tls_cert *x), void *arg)
{
    ERR_clear_error();
    BIO *in = mem_in(data, len);
    if (!in)
        return ossl_failure(-API_ENOMEM);
    int seen = 0, rc = 0;
    X509 *x;
    while (rc == 0 && (x = PEM_read_bio_X509(in, NULL, no_password, NULL))) {
        seen++;
        if (!cert_settled(x) && (rc = ossl_failure(0)) < 0) {
            X509_free(x);
            break;
        }
        rc = each(arg, (struct tls_cert *)x); /* the checks clear the queue */
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

/* A key of type want that TLS can use, or NULL. */
static EVP_PKEY *key_read(const unsigned char *data, size_t len, int pem, int want)
{
    BIO *in = mem_in(data, len);
    EVP_PKEY *k = NULL;
    if (in)
        k = pem ? PEM_read_bio_PrivateKey(in, NULL, no_password, NULL)
                : d2i_PrivateKey_bio(in, NULL);
    BIO_free(in);
    if (k && (!key_sized(k) || EVP_PKEY_get_base_id(k) != want ||
              (want == EVP_PKEY_RSA && EVP_PKEY_get_bits(k) < 2048) ||
              (want == EVP_PKEY_EC && !named_curve_ok(k)))) {
        EVP_PKEY_free(k);
        k = NULL;
    }
    return k;
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
    EVP_PKEY *k = NULL;
    int rc = 0;
    ERR_clear_error();
    for (int i = 0; i < ATTEMPTS && !k && rc == 0; i++) {
        k = key_read(data, len, pem, want);
        if (!k)
            rc = ossl_failure(0);
    }
    *out = (struct tls_key *)k;
    return ossl_failure(k ? 0 : rc < 0 ? rc : -API_EINVAL);
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

/* A check that computes, by the rule above ATTEMPTS: 1, 0 or -API_ENOMEM,
 * with an empty queue either way. */
static int check_twice(int (*check)(const void *a, const void *b), const void *a, const void *b)
{
    int ok = 0, rc = 0;
    ERR_clear_error();
    for (int i = 0; i < ATTEMPTS && !ok && rc == 0; i++)
        if (!(ok = check(a, b)))
            rc = ossl_failure(0);
    return ossl_failure(ok ? 1 : rc);
}

/* Issuer name and key identifiers match its own, and the signature
 * algorithm fits its key type: that last test looks the type up by name,
 * which allocates and fails silently. */
static int self_issued(const void *x, const void *unused)
{
    (void)unused;
    return X509_check_issued(X509_of(x), X509_of(x)) == X509_V_OK;
}

int tls_cert_info(const struct tls_cert *cx)
{
    X509 *x = X509_of(cx);
    int info = 0;
    ERR_clear_error();
    if (!X509_get0_pubkey(x)) /* settled by tls_cert_parse */
        info |= TLS_CERT_NO_KEY;
    if (X509_get_extension_flags(x) & EXFLAG_CA)
        info |= TLS_CERT_IS_CA;
    int r = check_twice(self_issued, cx, NULL); /* empties the queue */
    return r < 0 ? r : r ? info | TLS_CERT_SELF_ISSUED : info;
}

static int cert_signed_by(const void *cx, const void *cissuer)
{
    X509 *x = X509_of(cx), *issuer = X509_of(cissuer);
    EVP_PKEY *pub = X509_get0_pubkey(issuer);
    return pub && X509_check_issued(issuer, x) == X509_V_OK && X509_verify(x, pub) == 1;
}

int tls_cert_signed_by(const struct tls_cert *cx, const struct tls_cert *cissuer)
{
    return check_twice(cert_signed_by, cx, cissuer);
}

/* Outside notBefore..notAfter, or a date that cannot be read. Compared
 * with ASN1_TIME_cmp_time_t, which allocates nothing (X509_cmp_time makes
 * an ASN1_TIME and answers 0 when it cannot, which reads as "not yet"). */
static int out_of_dates(const ASN1_TIME *nb, const ASN1_TIME *na)
{
    time_t now = time(NULL);
    int b = nb ? ASN1_TIME_cmp_time_t(nb, now) : -1; /* must be <= now */
    int a = na ? ASN1_TIME_cmp_time_t(na, now) : 1;  /* must be > now */
    ERR_clear_error();
    return b == -2 || b > 0 || a <= 0;
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

static int key_matches(const void *x, const void *k)
{
    return X509_check_private_key(X509_of(x), PKEY_of(k)) == 1;
}

int tls_key_matches(const struct tls_cert *x, const struct tls_key *k)
{
    return check_twice(key_matches, x, k);
}

int tls_crl_issued_by(const struct tls_crl *cc, const struct tls_cert *issuer)
{
    return X509_NAME_cmp(X509_get_subject_name(X509_of(issuer)),
                         X509_CRL_get_issuer((X509_CRL *)cc)) == 0;
}

static int crl_signed_by(const void *cc, const void *issuer)
{
    EVP_PKEY *pub = X509_get0_pubkey(X509_of(issuer));
    return pub && tls_crl_issued_by(cc, issuer) && X509_CRL_verify((X509_CRL *)cc, pub) == 1;
}

int tls_crl_signed_by(const struct tls_crl *cc, const struct tls_cert *issuer)
{
    return check_twice(crl_signed_by, cc, issuer);
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
