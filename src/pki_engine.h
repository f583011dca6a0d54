/*
 * pki_engine.h - what the OpenSSL engine needs from the PKI store. Only
 * pki.c and tls_openssl.c include it.
 */
#ifndef CHIPSSL_PKI_ENGINE_H
#define CHIPSSL_PKI_ENGINE_H

#include "pki.h"

#include <openssl/x509.h>
#include <stdatomic.h>

struct pki_cred {
    atomic_int refs;
    X509 *cert;
    EVP_PKEY *key;
    STACK_OF(X509) *chain; /* issuers below the root, leaf's issuer first */
};

/* A new store with every root CA as trust anchor, the non-local CA
 * certificates that lead to them, and every CRL (X509_V_FLAG_CRL_CHECK is
 * set when there is one). *has_crl tells. NULL on allocation failure. */
X509_STORE *pki_trust_store(int *has_crl);

/* A new store whose anchors are the certificates with the given IDs (missing
 * ones skipped; partial chains allowed, so an intermediate may anchor), plus
 * every CRL; *names receives their subject names for the CertificateRequest.
 * NULL on allocation failure. */
X509_STORE *pki_ca_store(const char *const *ids, int n, int *has_crl,
                         STACK_OF(X509_NAME) **names);

#endif
