/*
 * pki.h - the PKI store as the rest of the library sees it (no engine types).
 */
#ifndef CHIPSSL_PKI_H
#define CHIPSSL_PKI_H

/* An own certificate with its key and issuer chain, taken by a session. */
struct pki_cred;

/* A counted reference to the LOCAL entry `id`, or NULL when there is none. */
struct pki_cred *pki_cred_get(const char *id);
void pki_cred_free(struct pki_cred *cred);

/* Changes with every add or delete; a TLS context built for an older value
 * is rebuilt before the next handshake. */
unsigned pki_generation(void);

/* 1 when `id` names a CA certificate (basicConstraints CA:TRUE) of the
 * non-local list: what SSL_AddClientCA accepts. */
int pki_is_ca(const char *id);

#endif
