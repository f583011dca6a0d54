/*
 * pki.h - the PKI store as the rest of the library sees it. Engine-neutral:
 * certificates and keys are the engine's opaque objects (tls.h).
 */
#ifndef CHIPSSL_PKI_H
#define CHIPSSL_PKI_H

#include <stdatomic.h>

struct tls_cert;
struct tls_key;
struct tls_trust;

/* Longest issuer chain a local certificate carries (caId links followed). */
#define PKI_CHAIN_MAX 10

/* An own certificate with its key and issuer chain, taken by a session. */
struct pki_cred {
    atomic_int refs;
    struct tls_cert *cert;
    struct tls_key *key;
    struct tls_cert *chain[PKI_CHAIN_MAX]; /* issuers below the root, leaf's first */
    int nchain;
};

/* A counted reference to the LOCAL entry `id`, or NULL when there is none. */
struct pki_cred *pki_cred_get(const char *id);
void pki_cred_ref(struct pki_cred *cred);
void pki_cred_free(struct pki_cred *cred);

/* Changes with every add or delete; a TLS context built for an older value
 * is rebuilt before the next handshake. */
unsigned pki_generation(void);

/* 1 when `id` names a CA certificate (basicConstraints CA:TRUE) of the
 * non-local list: what SSL_AddClientCA accepts. */
int pki_is_ca(const char *id);

/* The store peers are verified with: every root CA as anchor, the other
 * non-local CA certificates to build chains through, every CRL. Built once
 * per PKI generation and shared; a counted reference (tls_trust_free), or
 * NULL on allocation failure. *gen receives the generation it reflects. */
struct tls_trust *pki_trust(unsigned *gen);

/* A store whose anchors are the certificates with the given IDs (missing
 * ones skipped), plus every CRL: a server's SSL_AddClientCA CAs. NULL on
 * allocation failure. */
struct tls_trust *pki_client_ca_trust(const char *const *ids, int n);

/* Tests only: called in every trust-store build, outside every lock. */
extern void (*chip_test_trust_hook)(void);

#endif
