/*
 * tls.h - the engine interface. The socket layer and the session table use
 * the TLS engine only through these calls and opaque types; tls_openssl.c is
 * the one implementation (a second engine would be a second file).
 */
#ifndef CHIPSSL_TLS_H
#define CHIPSSL_TLS_H

#include "internal.h"

struct pki_cred;
struct tls_ctx;   /* per session and role; rebuilt when its inputs change */
struct tls_conn;  /* one TLS connection on a socket */
struct tls_cache; /* client-side resumption cache of a session */

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
    struct pki_cred *cred;              /* own certificate, or NULL */
};

/* Results of the connection calls. */
enum tls_result {
    TLS_DONE = 0,   /* the call did its work */
    TLS_WANT_READ,  /* call again when the socket is readable */
    TLS_WANT_WRITE, /* call again when the socket is writable */
    TLS_EOF,        /* the peer closed (close_notify or FIN) */
    TLS_FAIL        /* fatal: see tls_conn_problem() */
};

struct tls_ctx *tls_ctx_new(const struct tls_config *cfg, int server, int *error);
void tls_ctx_ref(struct tls_ctx *ctx);
void tls_ctx_free(struct tls_ctx *ctx); /* drops one reference */

struct tls_cache *tls_cache_new(int max_entries);
void tls_cache_free(struct tls_cache *cache);
/* Forget every entry. */
void tls_cache_clear(struct tls_cache *cache);

/* A connection on fd. Client side: name (or NULL) is checked and sent as SNI
 * when it is a DNS name; cache_key selects the resumption entry (cache may
 * be NULL). Returns NULL with an API code in *error. */
struct tls_conn *tls_conn_new(struct tls_ctx *ctx, struct tls_cache *cache,
                              int fd, const char *name, const char *cache_key,
                              int *error);
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
