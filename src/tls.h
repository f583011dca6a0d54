/*
 * tls.h - the engine interface. The PKI store, the session table and the
 * socket layer use the TLS engine only through these calls and opaque types.
 * The one implementation is the folder src/engine/openssl/ (the only code
 * that includes an OpenSSL header; a CTest check keeps it so): a second
 * engine would be a second folder.
 */
#ifndef CHIPSSL_TLS_H
#define CHIPSSL_TLS_H

#include "internal.h"

struct pki_cred;
struct tls_cert;  /* a parsed X.509 certificate, counted */
struct tls_crl;   /* a parsed CRL */
struct tls_key;   /* a parsed private key */
struct tls_trust; /* certificates and CRLs to verify peers with, counted */
struct tls_ctx;   /* per session and role; rebuilt when its inputs change */
struct tls_conn;  /* one TLS connection on a socket */
struct tls_cache; /* client-side resumption cache of a session */

/* ---- PKI objects (pki.c keeps the lists; the engine parses and checks) */

/* Errors follow internal.h: negated API codes. Checks that compute (a
 * signature, a key pair) return 1 yes, 0 no, or -API_ENOMEM when the engine
 * ran out of memory, which is never taken for a "no".
 *
 * Parse one certificate / CRL / private key from memory (PEM: the first
 * object of its kind; DER: exactly one). 0, -API_EINVAL (unreadable, or a
 * key of another type than key_type, RSA below 2048 bits, EC off
 * P-256/384/521, encrypted), or -API_ENOMEM. */
int tls_cert_parse(const unsigned char *data, size_t len, int pem, struct tls_cert **out);
int tls_crl_parse(const unsigned char *data, size_t len, int pem, struct tls_crl **out);
int tls_key_parse(const unsigned char *data, size_t len, int pem, int key_type,
                  struct tls_key **out);
/* Call each() for every certificate of a PEM bundle (each takes the
 * reference); stops when each() returns a negated code. Returns the number
 * seen, or the negated code each() or the engine returned. */
int tls_cert_bundle(const unsigned char *data, size_t len,
                    int (*each)(void *arg, struct tls_cert *x), void *arg);
int tls_cert_ref(struct tls_cert *x); /* 1, or 0 when it cannot */
int tls_crl_ref(struct tls_crl *c);
void tls_cert_free(struct tls_cert *x);
void tls_crl_free(struct tls_crl *c);
void tls_key_free(struct tls_key *k);

#define TLS_CERT_IS_CA       0x1 /* basicConstraints CA:TRUE */
#define TLS_CERT_SELF_ISSUED 0x2 /* issuer name is its subject name */
#define TLS_CERT_NO_KEY      0x4 /* public key missing or unreadable */
/* The TLS_CERT_* flags of x, or -API_ENOMEM. */
int tls_cert_info(const struct tls_cert *x);
/* 1 when issuer's subject is x's issuer and its key verifies x's signature. */
int tls_cert_signed_by(const struct tls_cert *x, const struct tls_cert *issuer);
/* 1 when now is outside notBefore..notAfter (lastUpdate..nextUpdate). */
int tls_cert_expired(const struct tls_cert *x);
int tls_crl_expired(const struct tls_crl *c);
int tls_key_matches(const struct tls_cert *x, const struct tls_key *k);
int tls_crl_issued_by(const struct tls_crl *c, const struct tls_cert *issuer);
int tls_crl_signed_by(const struct tls_crl *c, const struct tls_cert *issuer);
/* 1 when c is x's issuer's CRL and lists x. */
int tls_crl_lists(const struct tls_crl *c, const struct tls_cert *x);

/* A trust store over certs and crls (the engine takes its own references).
 * anchors_only 0: chains must end at a self-signed certificate of certs;
 * 1: any of certs anchors (client CAs, which may be intermediates), and
 * their names go into a CertificateRequest. CRLs are checked along the
 * whole chain when there are any. NULL on allocation failure. */
struct tls_trust *tls_trust_new(struct tls_cert *const *certs, int ncerts,
                                struct tls_crl *const *crls, int ncrls, int anchors_only);
void tls_trust_ref(struct tls_trust *t);
void tls_trust_free(struct tls_trust *t);

/* ---- contexts and connections -------------------------------------- */

/* A session's settings, as the engine needs them to build a context. */
struct tls_config {
    unsigned uid;                       /* unique per session ever made */
    int tls12, tls13;                   /* versions the mask allows */
    int suites[CHIPSSL_MAX_PROPOSALS];  /* IANA numbers, in order */
    int nsuites;
    int client_auth, server_pref, skip_verify;
    char client_cas[CHIPSSL_MAX_CLIENT_CAS][CHIPSSL_MAX_ID_LEN + 1];
    int nclient_cas;
    int max_caches;
    struct pki_cred *creds[CHIPSSL_MAX_IDENTITIES]; /* own certificates: the
                                           default first, then by SNI */
    int ncreds;
    char alpn[256];                     /* "h2,http/1.1", "" for none */
};

/* Results of the connection calls. */
enum tls_result {
    TLS_DONE = 0,   /* the call did its work */
    TLS_WANT_READ,  /* call again when the socket is readable */
    TLS_WANT_WRITE, /* call again when the socket is writable */
    TLS_EOF,        /* the peer closed (close_notify or FIN) */
    TLS_FAIL        /* fatal: see tls_conn_problem() */
};

/* A context for one role. trust: the store peers are verified with (for a
 * server with option 1 and SSL_AddClientCA CAs, an anchors_only store of
 * those CAs); the context takes its own reference. NULL with *rc
 * -API_EINVAL (settings or an own certificate the engine refuses) or
 * -API_ENOMEM. */
struct tls_ctx *tls_ctx_new(const struct tls_config *cfg, struct tls_trust *trust,
                            int server, int *rc);
void tls_ctx_ref(struct tls_ctx *ctx);
void tls_ctx_free(struct tls_ctx *ctx); /* drops one reference */

/* A saved client session, as the resumption cache (cache.h) holds it. */
void *tls_saved_ref(void *saved);
void tls_saved_free(void *saved);

/* A connection on fd. Client side: name (or NULL) is checked and sent as SNI
 * when it is a DNS name; cache_key selects the resumption entry (cache may
 * be NULL). Returns NULL with a negated API code in *rc. */
struct tls_conn *tls_conn_new(struct tls_ctx *ctx, struct tls_cache *cache,
                              int fd, const char *name, const char *cache_key,
                              int *rc);
int tls_conn_handshake(struct tls_conn *c);
int tls_conn_read(struct tls_conn *c, void *buf, int len, int peek, int *n);
int tls_conn_write(struct tls_conn *c, const void *buf, int len, int *n);
int tls_conn_close_notify(struct tls_conn *c);
/* Bytes of decrypted data waiting inside the engine. */
int tls_conn_pending(struct tls_conn *c);
/* Fill the negotiated fields, peer data and problem of *st. */
void tls_conn_state(struct tls_conn *c, SSL_CONN_STATE *st);
/* The connection's failure record. The engine owns it and keeps the first
 * failure (BearSSL's rule); callers only read it. */
const SslProblemS *tls_conn_problem(const struct tls_conn *c);
/* Record a failure the socket layer found (the handshake time limit, a wait
 * that failed, ...): the problem gets the code, the reason and the state the
 * handshake was in, unless a failure is already recorded. */
void tls_conn_fail(struct tls_conn *c, int code, const char *reason);
/* The handshake state, the one source of it: SSL_HS_HELLO .. SSL_HS_DONE
 * (DONE stays DONE once reached), SSL_HS_FAILED once a failure is recorded. */
int tls_conn_hs_state(const struct tls_conn *c);
void tls_conn_free(struct tls_conn *c);

#endif
