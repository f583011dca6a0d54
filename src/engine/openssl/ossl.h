/*
 * ossl.h - what the two files of the OpenSSL engine share. The handles of
 * tls.h's PKI objects are OpenSSL's own objects (struct tls_cert is an X509,
 * struct tls_crl an X509_CRL, struct tls_key an EVP_PKEY); a trust store
 * wraps an X509_STORE.
 */
#ifndef CHIPSSL_OSSL_H
#define CHIPSSL_OSSL_H

#include "tls.h"

#include <openssl/x509.h>
#include <stdatomic.h>

struct tls_trust {
    atomic_int refs;
    X509_STORE *store;
    STACK_OF(X509_NAME) *names; /* the anchors' names, for a CertificateRequest */
};

/* code, or -API_ENOMEM when OpenSSL's error queue says an allocation
 * failed; the queue is emptied either way. */
int ossl_failure(int code);

static inline X509 *X509_of(const struct tls_cert *c)
{
    return (X509 *)(uintptr_t)c;
}

static inline EVP_PKEY *PKEY_of(const struct tls_key *k)
{
    return (EVP_PKEY *)(uintptr_t)k;
}

#endif
