/*
 * tls_openssl.c - the OpenSSL 3 engine behind tls.h: contexts built from a
 * session's settings, connections on a socket, certificate checks, the client
 * resumption cache. The only file that talks to libssl.
 */
#include "tls.h"

#include "hostname.h"
#include "pki_engine.h"
#include "suites.h"

#include <errno.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#define CACHE_KEY_LEN 320

struct tls_ctx {
    atomic_int refs;
    unsigned gen;           /* distinct per context ever built */
    SSL_CTX *ssl_ctx;
    int server;
    int skip_verify;
};

struct cache_entry {
    char key[CACHE_KEY_LEN];
    unsigned gen;           /* the context it was negotiated with */
    SSL_SESSION *sess;
    unsigned long long stamp;
};

struct tls_cache {
    pthread_mutex_t lock;
    int max, n;
    unsigned long long clock;
    struct cache_entry e[];
};

struct tls_conn {
    SSL *ssl;
    struct tls_ctx *ctx;
    struct tls_cache *cache;
    char cache_key[CACHE_KEY_LEN];
    char name[256];
    int fd;
    int sys_errno;          /* errno of the last failed socket call */
    int cert_flags;         /* PKI_CERT_* seen while verifying the peer */
    int first_verify_err;   /* X509_V_ERR_* that decided the verdict */
    int hs_state;           /* SSL_HS_* */
    int got_close_notify;
    int peeking;            /* looking for an alert after a reset */
    int info_done;          /* peer subject filled in */
    char peer_subject[256];
    SslProblemS problem;
};

static int conn_idx = -1;
static int sess_idx = -1;   /* SSL_SESSION ex_data: peer cert flags | 0x100 */
static atomic_uint ctx_gen;
static BIO_METHOD *sock_method;
static pthread_once_t engine_once = PTHREAD_ONCE_INIT;

/* ---- the socket BIO ------------------------------------------------------
 * OpenSSL always sees a non-blocking socket: the socket layer decides when
 * and how long to wait (handshake limit, recv timeouts), whatever the
 * descriptor's own blocking mode is. MSG_NOSIGNAL: never raise SIGPIPE. */

static int bio_sock_read(BIO *b, char *buf, int len)
{
    struct tls_conn *c = BIO_get_data(b);
    BIO_clear_retry_flags(b);
    ssize_t n;
    do
        n = recv(c->fd, buf, (size_t)len, MSG_DONTWAIT);
    while (n < 0 && errno == EINTR);
    if (n < 0) {
        if (errno == EAGAIN || errno == EWOULDBLOCK)
            BIO_set_retry_read(b);
        else
            c->sys_errno = errno;
        return -1;
    }
    return (int)n;
}

static int bio_sock_write(BIO *b, const char *buf, int len)
{
    struct tls_conn *c = BIO_get_data(b);
    BIO_clear_retry_flags(b);
    ssize_t n;
    do
        n = send(c->fd, buf, (size_t)len, MSG_DONTWAIT | MSG_NOSIGNAL);
    while (n < 0 && errno == EINTR);
    if (n < 0) {
        if (errno == EAGAIN || errno == EWOULDBLOCK)
            BIO_set_retry_write(b);
        else
            c->sys_errno = errno;
        return -1;
    }
    return (int)n;
}

static long bio_sock_ctrl(BIO *b, int cmd, long num, void *ptr)
{
    (void)b; (void)num; (void)ptr;
    return cmd == BIO_CTRL_FLUSH ? 1 : 0;
}

static void engine_init(void)
{
    conn_idx = SSL_get_ex_new_index(0, "chipssl conn", NULL, NULL, NULL);
    sess_idx = SSL_SESSION_get_ex_new_index(0, "chipssl flags", NULL, NULL, NULL);
    sock_method = BIO_meth_new(BIO_get_new_index() | BIO_TYPE_SOURCE_SINK,
                               "chipssl socket");
    if (sock_method) {
        BIO_meth_set_read(sock_method, bio_sock_read);
        BIO_meth_set_write(sock_method, bio_sock_write);
        BIO_meth_set_ctrl(sock_method, bio_sock_ctrl);
    }
}

/* ---- certificate checks -------------------------------------------- */

static int flag_for(int err)
{
    switch (err) {
    case X509_V_ERR_UNABLE_TO_GET_CRL:
    case X509_V_ERR_UNABLE_TO_GET_CRL_ISSUER:
    case X509_V_ERR_DIFFERENT_CRL_SCOPE:
        return 0; /* no CRL for that issuer: revocation is not checked */
    case X509_V_ERR_CERT_NOT_YET_VALID:
    case X509_V_ERR_CERT_HAS_EXPIRED:
    case X509_V_ERR_CRL_NOT_YET_VALID:
    case X509_V_ERR_CRL_HAS_EXPIRED:
        return PKI_CERT_EXPIRED;
    case X509_V_ERR_CERT_REVOKED:
        return PKI_CERT_REVOKED;
    case X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT:
    case X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY:
    case X509_V_ERR_DEPTH_ZERO_SELF_SIGNED_CERT:
    case X509_V_ERR_SELF_SIGNED_CERT_IN_CHAIN:
    case X509_V_ERR_UNABLE_TO_VERIFY_LEAF_SIGNATURE:
    case X509_V_ERR_CERT_UNTRUSTED:
    case X509_V_ERR_CERT_REJECTED:
        return PKI_CERT_UNKNOWNCA;
    case X509_V_ERR_CERT_SIGNATURE_FAILURE:
    case X509_V_ERR_UNABLE_TO_DECODE_ISSUER_PUBLIC_KEY:
    case X509_V_ERR_UNABLE_TO_DECRYPT_CERT_SIGNATURE:
    case X509_V_ERR_ERROR_IN_CERT_NOT_BEFORE_FIELD:
    case X509_V_ERR_ERROR_IN_CERT_NOT_AFTER_FIELD:
    case X509_V_ERR_INVALID_CA:
    case X509_V_ERR_INVALID_PURPOSE:
        return PKI_CERT_BADCERT;
    case X509_V_ERR_HOSTNAME_MISMATCH:
    case X509_V_ERR_IP_ADDRESS_MISMATCH:
        return PKI_CERT_UNMATCHED;
    default:
        return PKI_CERT_NOTVERIFIED;
    }
}

static struct tls_conn *conn_of_store(X509_STORE_CTX *xs)
{
    SSL *ssl = X509_STORE_CTX_get_ex_data(xs, SSL_get_ex_data_X509_STORE_CTX_idx());
    return ssl ? SSL_get_ex_data(ssl, conn_idx) : NULL;
}

/* Collect every problem of the chain; the verdict is taken at the end. */
static int collect_cb(int ok, X509_STORE_CTX *xs)
{
    struct tls_conn *c = conn_of_store(xs);
    if (!ok && c) {
        int err = X509_STORE_CTX_get_error(xs), f = flag_for(err);
        c->cert_flags |= f;
        if (f && !c->first_verify_err)
            c->first_verify_err = err;
    }
    return 1;
}

/* srvCommonName against the SAN DNS/IP entries, or the CN without them. */
static int name_matches(X509 *x, const char *name)
{
    unsigned char ip[16];
    int iplen = inet_pton(AF_INET, name, ip) == 1    ? 4
              : inet_pton(AF_INET6, name, ip) == 1 ? 16
                                                   : 0;
    GENERAL_NAMES *gens = X509_get_ext_d2i(x, NID_subject_alt_name, NULL, NULL);
    int have_san = 0, match = 0;
    for (int i = 0; gens && i < sk_GENERAL_NAME_num(gens) && !match; i++) {
        const GENERAL_NAME *g = sk_GENERAL_NAME_value(gens, i);
        if (g->type == GEN_DNS) {
            have_san = 1;
            match = !iplen && chipssl_name_match(
                                  (const char *)ASN1_STRING_get0_data(g->d.dNSName),
                                  (size_t)ASN1_STRING_length(g->d.dNSName), name);
        } else if (g->type == GEN_IPADD) {
            have_san = 1;
            match = iplen && ASN1_STRING_length(g->d.iPAddress) == iplen &&
                    memcmp(ASN1_STRING_get0_data(g->d.iPAddress), ip,
                           (size_t)iplen) == 0;
        }
    }
    GENERAL_NAMES_free(gens);
    if (have_san)
        return match;
    /* No DNS/IP SAN: the last CN of the subject (RFC 6125 6.4.4). */
    X509_NAME *subj = X509_get_subject_name(x);
    int idx = -1, last = -1;
    while ((idx = X509_NAME_get_index_by_NID(subj, NID_commonName, idx)) >= 0)
        last = idx;
    if (last < 0)
        return 0;
    unsigned char *cn = NULL;
    int len = ASN1_STRING_to_UTF8(&cn, X509_NAME_ENTRY_get_data(
                                           X509_NAME_get_entry(subj, last)));
    if (len < 0)
        return 0;
    match = iplen ? ((size_t)len == strlen(name) && memcmp(cn, name, (size_t)len) == 0)
                  : chipssl_name_match((const char *)cn, (size_t)len, name);
    OPENSSL_free(cn);
    return match;
}

/* Replaces OpenSSL's chain verification: run it with every error collected,
 * add the name check, then decide per option 3. Returning 0 makes OpenSSL
 * send the alert that the recorded X509 error calls for (RFC 8446 6.2). */
static int cert_verify_cb(X509_STORE_CTX *xs, void *arg)
{
    (void)arg;
    struct tls_conn *c = conn_of_store(xs);
    if (!c)
        return 0;
    X509_STORE_CTX_set_verify_cb(xs, collect_cb);
    if (X509_verify_cert(xs) < 0 && !c->cert_flags) {
        c->cert_flags |= PKI_CERT_NOTVERIFIED;
        c->first_verify_err = X509_V_ERR_UNSPECIFIED;
    }
    X509 *leaf = X509_STORE_CTX_get0_cert(xs);
    int unmatched = !c->ctx->server && c->name[0] && !name_matches(leaf, c->name);
    if (unmatched)
        c->cert_flags |= PKI_CERT_UNMATCHED;
    /* A resumption of this session reports the flags seen now. */
    SSL *ssl = X509_STORE_CTX_get_ex_data(xs, SSL_get_ex_data_X509_STORE_CTX_idx());
    SSL_SESSION_set_ex_data(SSL_get_session(ssl), sess_idx,
                            (void *)(intptr_t)(c->cert_flags | 0x100));
    int fatal = c->ctx->skip_verify ? unmatched : c->cert_flags != 0;
    if (fatal) {
        int err = (c->ctx->skip_verify || !c->first_verify_err)
                      ? X509_V_ERR_HOSTNAME_MISMATCH
                      : c->first_verify_err;
        X509_STORE_CTX_set_error(xs, err);
        return 0;
    }
    X509_STORE_CTX_set_error(xs, X509_V_OK);
    return 1;
}

/* ---- handshake state and alerts ------------------------------------ */

static int map_state(OSSL_HANDSHAKE_STATE st)
{
    switch (st) {
    case TLS_ST_OK: return SSL_HS_DONE;
    case TLS_ST_CR_CERT: case TLS_ST_CW_CERT: case TLS_ST_SR_CERT:
    case TLS_ST_SW_CERT: case TLS_ST_CR_CERT_REQ: case TLS_ST_SW_CERT_REQ:
    case TLS_ST_CR_CERT_STATUS: case TLS_ST_SW_CERT_STATUS:
        return SSL_HS_CERTIFICATE;
    case TLS_ST_CR_KEY_EXCH: case TLS_ST_CW_KEY_EXCH: case TLS_ST_SR_KEY_EXCH:
    case TLS_ST_SW_KEY_EXCH: case TLS_ST_CR_CERT_VRFY: case TLS_ST_CW_CERT_VRFY:
    case TLS_ST_SR_CERT_VRFY: case TLS_ST_SW_CERT_VRFY:
        return SSL_HS_KEY_EXCHANGE;
    case TLS_ST_CR_FINISHED: case TLS_ST_CW_FINISHED: case TLS_ST_SR_FINISHED:
    case TLS_ST_SW_FINISHED: case TLS_ST_CR_CHANGE: case TLS_ST_CW_CHANGE:
    case TLS_ST_SR_CHANGE: case TLS_ST_SW_CHANGE: case TLS_ST_CR_SESSION_TICKET:
    case TLS_ST_SW_SESSION_TICKET: case TLS_ST_CR_SRVR_DONE: case TLS_ST_SW_SRVR_DONE:
    /* A TLS 1.3 server waits here for the client's second flight
     * (Certificate, CertificateVerify, Finished) after its own Finished. */
    case TLS_ST_EARLY_DATA: case TLS_ST_PENDING_EARLY_DATA_END:
    case TLS_ST_SR_END_OF_EARLY_DATA:
        return SSL_HS_FINISHED;
    default:
        return SSL_HS_HELLO;
    }
}

static void info_cb(const SSL *ssl, int where, int ret)
{
    struct tls_conn *c = SSL_get_ex_data(ssl, conn_idx);
    if (!c)
        return;
    if (where & SSL_CB_ALERT) {
        int desc = ret & 0xff;
        if ((where & SSL_CB_READ) && desc == SSL_AD_CLOSE_NOTIFY)
            c->got_close_notify = 1;
        if ((ret >> 8) == SSL3_AL_FATAL && c->problem.alert < 0) {
            c->problem.alert = desc;
            c->problem.alertSent = (where & SSL_CB_WRITE) != 0;
        }
    } else if (where & SSL_CB_LOOP) {
        /* Post-handshake messages (tickets, KeyUpdate) leave DONE alone. */
        int st = map_state(SSL_get_state(ssl));
        if (st != SSL_HS_DONE && c->hs_state != SSL_HS_DONE)
            c->hs_state = st;
    }
}

/* ---- resumption cache ----------------------------------------------- */

struct tls_cache *tls_cache_new(int max)
{
    struct tls_cache *c = calloc(1, sizeof *c + (size_t)max * sizeof c->e[0]);
    if (!c)
        return NULL;
    pthread_mutex_init(&c->lock, NULL);
    c->max = max;
    return c;
}

void tls_cache_clear(struct tls_cache *c)
{
    if (!c)
        return;
    pthread_mutex_lock(&c->lock);
    for (int i = 0; i < c->n; i++) {
        SSL_SESSION_free(c->e[i].sess);
        c->e[i].sess = NULL;
    }
    c->n = 0;
    pthread_mutex_unlock(&c->lock);
}

void tls_cache_free(struct tls_cache *c)
{
    if (!c)
        return;
    tls_cache_clear(c);
    pthread_mutex_destroy(&c->lock);
    free(c);
}

/* Takes the reference to sess. The oldest entry goes when full. */
static void cache_put(struct tls_cache *c, const char *key, unsigned gen, SSL_SESSION *sess)
{
    pthread_mutex_lock(&c->lock);
    int slot = -1;
    for (int i = 0; i < c->n && slot < 0; i++)
        if (strcmp(c->e[i].key, key) == 0)
            slot = i;
    if (slot < 0 && c->n < c->max)
        slot = c->n++;
    if (slot < 0) {
        slot = 0;
        for (int i = 1; i < c->n; i++)
            if (c->e[i].stamp < c->e[slot].stamp)
                slot = i;
    }
    SSL_SESSION_free(c->e[slot].sess);
    chip_strlcpy(c->e[slot].key, key, sizeof c->e[slot].key);
    c->e[slot].sess = sess;
    c->e[slot].gen = gen;
    c->e[slot].stamp = ++c->clock;
    pthread_mutex_unlock(&c->lock);
}

/* Only a session negotiated with this very context is offered: one from
 * before a change of options, proposals or trust would resume without the
 * checks the change asked for. */
static SSL_SESSION *cache_get(struct tls_cache *c, const char *key, unsigned gen)
{
    SSL_SESSION *s = NULL;
    pthread_mutex_lock(&c->lock);
    for (int i = 0; i < c->n; i++)
        if (strcmp(c->e[i].key, key) == 0) {
            if (c->e[i].gen == gen && SSL_SESSION_is_resumable(c->e[i].sess) &&
                SSL_SESSION_up_ref(c->e[i].sess))
                s = c->e[i].sess;
            break;
        }
    pthread_mutex_unlock(&c->lock);
    return s;
}

static int new_session_cb(SSL *ssl, SSL_SESSION *sess)
{
    struct tls_conn *c = SSL_get_ex_data(ssl, conn_idx);
    if (!c || !c->cache || !c->cache_key[0])
        return 0;
    cache_put(c->cache, c->cache_key, c->ctx->gen, sess);
    return 1; /* the cache keeps the reference */
}

/* ---- contexts ------------------------------------------------------- */

/* "A:B:C" of the suites of one version, in proposal order. */
static void suite_string(const struct tls_config *cfg, int tls13, char *out,
                         size_t outlen)
{
    out[0] = '\0';
    for (int i = 0; i < cfg->nsuites; i++) {
        const struct chip_suite *s = chip_suite_find(cfg->suites[i]);
        if (!s || s->tls13 != tls13)
            continue;
        /* TLS 1.3 suites are set by their IANA names, TLS 1.2 ones by
         * OpenSSL's own names. */
        const char *name = tls13 ? s->name : OPENSSL_cipher_name(s->name);
        size_t used = strlen(out);
        snprintf(out + used, outlen - used, "%s%s", used ? ":" : "", name);
    }
}

struct tls_ctx *tls_ctx_new(const struct tls_config *cfg, int server, int *error)
{
    pthread_once(&engine_once, engine_init);
    if (conn_idx < 0 || sess_idx < 0 || !sock_method) {
        chip_fail(error, API_ENOMEM);
        return NULL;
    }
    char s12[CHIPSSL_MAX_PROPOSALS * 40], s13[CHIPSSL_MAX_PROPOSALS * 40];
    suite_string(cfg, 0, s12, sizeof s12);
    suite_string(cfg, 1, s13, sizeof s13);
    int tls12 = cfg->tls12 && s12[0], tls13 = cfg->tls13 && s13[0];

    struct tls_ctx *t = calloc(1, sizeof *t);
    SSL_CTX *ctx = SSL_CTX_new(TLS_method());
    X509_STORE *store = NULL;
    STACK_OF(X509_NAME) *names = NULL;
    /* 0 while fine; API_EINVAL for inputs the engine refuses. */
    int code = !(t && ctx) ? API_ENOMEM : (tls12 || tls13) ? 0 : API_EINVAL;
    if (code == 0) {
        atomic_init(&t->refs, 1);
        t->server = server;
        t->skip_verify = cfg->skip_verify;
        if (!(SSL_CTX_set_min_proto_version(ctx, tls12 ? TLS1_2_VERSION : TLS1_3_VERSION) &&
              SSL_CTX_set_max_proto_version(ctx, tls13 ? TLS1_3_VERSION : TLS1_2_VERSION) &&
              SSL_CTX_set_ciphersuites(ctx, tls13 ? s13 : "") &&
              (!tls12 || SSL_CTX_set_cipher_list(ctx, s12))))
            code = API_EINVAL;
    }
    if (code == 0) {
        SSL_CTX_set_options(ctx, SSL_OP_NO_RENEGOTIATION | SSL_OP_NO_COMPRESSION |
                                     SSL_OP_IGNORE_UNEXPECTED_EOF |
                                     (cfg->server_pref ? SSL_OP_CIPHER_SERVER_PREFERENCE : 0));
        /* Partial writes and moving buffers: the socket layer retries a
         * blocked record from its own copy. Released buffers: thousands of
         * idle connections should not hold 34 KiB each (nginx does the same). */
        SSL_CTX_set_mode(ctx, SSL_MODE_ENABLE_PARTIAL_WRITE |
                                  SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER |
                                  SSL_MODE_RELEASE_BUFFERS);
        SSL_CTX_set_dh_auto(ctx, 1);
        SSL_CTX_set_info_callback(ctx, info_cb);
        SSL_CTX_set_cert_verify_callback(ctx, cert_verify_cb, NULL);
    }
    if (code == 0 && cfg->cred) {
        /* Refused at the engine's security level (e.g. SHA-1 signatures). */
        int ok = SSL_CTX_use_certificate(ctx, cfg->cred->cert) == 1 &&
                 SSL_CTX_use_PrivateKey(ctx, cfg->cred->key) == 1;
        for (int i = 0; ok && i < sk_X509_num(cfg->cred->chain); i++)
            ok = SSL_CTX_add1_chain_cert(ctx, sk_X509_value(cfg->cred->chain, i)) == 1;
        if (!ok)
            code = API_EINVAL;
    }
    int has_crl = 0;
    if (code == 0) {
        if (server && cfg->client_auth && cfg->nclient_cas > 0) {
            const char *ids[CHIPSSL_MAX_CLIENT_CAS];
            for (int i = 0; i < cfg->nclient_cas; i++)
                ids[i] = cfg->client_cas[i];
            store = pki_ca_store(ids, cfg->nclient_cas, &has_crl, &names);
        } else {
            store = pki_trust_store(&has_crl);
        }
        if (!store)
            code = API_ENOMEM;
    }
    if (code == 0) {
        SSL_CTX_set_cert_store(ctx, store); /* the context owns it now */
        store = NULL;
        if (names) {
            SSL_CTX_set_client_CA_list(ctx, names);
            names = NULL;
        }
        if (server) {
            SSL_CTX_set_verify(ctx, cfg->client_auth ?
                               SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT :
                               SSL_VERIFY_NONE, NULL);
            /* Stateful resumption only, so that maxCaches bounds what a
             * server remembers: session IDs in TLS 1.2 and, with
             * SSL_OP_NO_TICKET, tickets that are cache keys in TLS 1.3. */
            SSL_CTX_set_options(ctx, SSL_OP_NO_TICKET);
            unsigned char sid[32];
            int n = snprintf((char *)sid, sizeof sid, "chipssl-%u", cfg->uid);
            if (!SSL_CTX_set_session_id_context(ctx, sid, (unsigned)n))
                code = API_ENOMEM;
            if (cfg->max_caches > 0) {
                SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_SERVER);
                /* OpenSSL 3.0 evicts while the count, the newcomer
                 * included, is at the size: a size of N keeps N - 1. */
                SSL_CTX_sess_set_cache_size(ctx, cfg->max_caches + 1);
                SSL_CTX_set_num_tickets(ctx, 1);
            } else {
                SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_OFF);
                SSL_CTX_set_num_tickets(ctx, 0);
            }
        } else {
            SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, NULL);
            if (cfg->max_caches > 0) {
                SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_CLIENT |
                                                        SSL_SESS_CACHE_NO_INTERNAL_STORE);
                SSL_CTX_sess_set_new_cb(ctx, new_session_cb);
            } else {
                SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_OFF);
                SSL_CTX_set_options(ctx, SSL_OP_NO_TICKET);
            }
        }
    }
    X509_STORE_free(store);
    sk_X509_NAME_pop_free(names, X509_NAME_free);
    ERR_clear_error();
    if (code) {
        SSL_CTX_free(ctx);
        free(t);
        chip_fail(error, code);
        return NULL;
    }
    t->ssl_ctx = ctx;
    t->gen = atomic_fetch_add(&ctx_gen, 1) + 1;
    return t;
}

void tls_ctx_ref(struct tls_ctx *t)
{
    atomic_fetch_add(&t->refs, 1);
}

void tls_ctx_free(struct tls_ctx *t)
{
    if (!t || atomic_fetch_sub(&t->refs, 1) != 1)
        return;
    SSL_CTX_free(t->ssl_ctx);
    free(t);
}

/* ---- connections ----------------------------------------------------- */

struct tls_conn *tls_conn_new(struct tls_ctx *ctx, struct tls_cache *cache,
                              int fd, const char *name, const char *cache_key,
                              int *error)
{
    struct tls_conn *c = calloc(1, sizeof *c);
    SSL *ssl = SSL_new(ctx->ssl_ctx);
    BIO *bio = BIO_new(sock_method);
    if (!c || !ssl || !bio) {
        free(c);
        SSL_free(ssl);
        BIO_free(bio);
        ERR_clear_error();
        chip_fail(error, API_ENOMEM);
        return NULL;
    }
    c->ssl = ssl;
    c->fd = fd;
    c->ctx = ctx;
    tls_ctx_ref(ctx);
    c->problem.alert = -1;
    c->hs_state = SSL_HS_HELLO;
    BIO_set_data(bio, c);
    BIO_set_init(bio, 1);
    SSL_set_bio(ssl, bio, bio);
    SSL_set_ex_data(ssl, conn_idx, c);
    if (ctx->server) {
        SSL_set_accept_state(ssl);
    } else {
        SSL_set_connect_state(ssl);
        if (name) {
            chip_strlcpy(c->name, name, sizeof c->name);
            /* RFC 6066 3: SNI carries DNS names only, never literals. */
            if (!chipssl_name_is_ip(name) && !strchr(name, '*'))
                SSL_set_tlsext_host_name(ssl, name);
        }
        c->cache = cache;
        if (cache && cache_key) {
            chip_strlcpy(c->cache_key, cache_key, sizeof c->cache_key);
            SSL_SESSION *sess = cache_get(cache, cache_key, ctx->gen);
            if (sess) {
                SSL_set_session(ssl, sess);
                SSL_SESSION_free(sess);
            }
        }
    }
    ERR_clear_error();
    return c;
}

static int failed(struct tls_conn *c, int code, const char *why)
{
    if (c->problem.errorCode == 0) {
        c->problem.errorCode = code;
        c->problem.certFlags = c->cert_flags;
        /* The state machine knows the message being processed even where
         * no SSL_CB_LOOP was reported for it; when it says nothing useful,
         * the last state reported stands. */
        int st = map_state(SSL_get_state(c->ssl));
        c->problem.hsState = st != SSL_HS_HELLO && st != SSL_HS_DONE ? st : c->hs_state;
        unsigned long e = ERR_peek_last_error();
        const char *r = e ? ERR_reason_error_string(e) : NULL;
        chip_strlcpy(c->problem.reason, r ? r : why, sizeof c->problem.reason);
    }
    ERR_clear_error();
    return TLS_FAIL;
}

static int result(struct tls_conn *c, int r)
{
    switch (SSL_get_error(c->ssl, r)) {
    case SSL_ERROR_WANT_READ: return TLS_WANT_READ;
    case SSL_ERROR_WANT_WRITE: return TLS_WANT_WRITE;
    case SSL_ERROR_ZERO_RETURN:
        if (SSL_is_init_finished(c->ssl))
            return TLS_EOF;
        return failed(c, API_ECONNRESET, "peer closed during the handshake");
    case SSL_ERROR_SYSCALL:
        if ((c->sys_errno == ECONNRESET || c->sys_errno == EPIPE) && c->problem.alert < 0 &&
            !c->peeking) {
            /* The peer may have said why before it reset the connection (a
             * TLS 1.3 server refusing our certificate after our Finished,
             * RFC 8446 4.4.2.4): the alert can still wait in the receive
             * queue. Peek, so that it is recorded and no data is consumed. */
            unsigned char b;
            size_t got;
            c->peeking = 1;
            ERR_clear_error();
            SSL_peek_ex(c->ssl, &b, 1, &got);
            c->peeking = 0;
            if (c->problem.alert >= 0)
                return failed(c, API_ECONNABORTED, "the peer sent a fatal alert");
        }
        if (c->sys_errno == ECONNRESET || c->sys_errno == EPIPE || c->sys_errno == 0) {
            if (SSL_is_init_finished(c->ssl) && c->sys_errno == 0)
                return TLS_EOF;
            return failed(c, API_ECONNRESET, "connection reset by peer");
        }
        return failed(c, chipssl_errno_to_api(c->sys_errno), strerror(c->sys_errno));
    default:
        return failed(c, API_ECONNABORTED, "TLS protocol error");
    }
}

int tls_conn_handshake(struct tls_conn *c)
{
    ERR_clear_error();
    int r = SSL_do_handshake(c->ssl);
    if (r == 1) {
        c->hs_state = SSL_HS_DONE;
        if (SSL_session_reused(c->ssl)) {
            intptr_t v = (intptr_t)SSL_SESSION_get_ex_data(SSL_get_session(c->ssl), sess_idx);
            c->cert_flags = (int)(v & 0xff);
        }
        return TLS_DONE;
    }
    return result(c, r);
}

int tls_conn_read(struct tls_conn *c, void *buf, int len, int peek, int *n)
{
    size_t got = 0;
    ERR_clear_error();
    int r = peek ? SSL_peek_ex(c->ssl, buf, (size_t)len, &got)
                 : SSL_read_ex(c->ssl, buf, (size_t)len, &got);
    if (r == 1) {
        *n = (int)got;
        return TLS_DONE;
    }
    return result(c, r);
}

int tls_conn_write(struct tls_conn *c, const void *buf, int len, int *n)
{
    size_t put = 0;
    ERR_clear_error();
    int r = SSL_write_ex(c->ssl, buf, (size_t)len, &put);
    if (r == 1) {
        *n = (int)put;
        return TLS_DONE;
    }
    return result(c, r);
}

int tls_conn_close_notify(struct tls_conn *c)
{
    ERR_clear_error();
    int r = SSL_shutdown(c->ssl);
    return r >= 0 ? TLS_DONE : result(c, r);
}

int tls_conn_pending(struct tls_conn *c)
{
    return SSL_pending(c->ssl);
}

void tls_conn_fail(struct tls_conn *c, int code, const char *reason)
{
    ERR_clear_error();
    failed(c, code, reason);
}

const SslProblemS *tls_conn_problem(const struct tls_conn *c)
{
    return &c->problem;
}

int tls_conn_hs_state(const struct tls_conn *c)
{
    return c->problem.errorCode ? SSL_HS_FAILED : c->hs_state;
}

void tls_conn_state(struct tls_conn *c, SSL_CONN_STATE *st)
{
    st->handshakeState = c->hs_state;
    st->peerCertFlags = c->cert_flags;
    st->closeNotify = c->got_close_notify;
    st->problem = c->problem;
    if (c->ctx->server) {
        const char *sni = SSL_get_servername(c->ssl, TLSEXT_NAMETYPE_host_name);
        chip_strlcpy(st->serverName, sni ? sni : "", sizeof st->serverName);
    } else {
        chip_strlcpy(st->serverName, c->name, sizeof st->serverName);
    }
    if (!SSL_is_init_finished(c->ssl))
        return;
    int v = SSL_version(c->ssl);
    st->version = v == TLS1_3_VERSION ? SSL_VERSION_TLS13
                : v == TLS1_2_VERSION ? SSL_VERSION_TLS12
                                      : 0;
    const SSL_CIPHER *ci = SSL_get_current_cipher(c->ssl);
    st->cipherSuite = ci ? (int)(SSL_CIPHER_get_protocol_id(ci) & 0xFFFF) : 0;
    st->resumed = SSL_session_reused(c->ssl);
    if (!c->info_done) {
        c->info_done = 1;
        X509 *peer = SSL_get0_peer_certificate(c->ssl);
        BIO *b = peer ? BIO_new(BIO_s_mem()) : NULL;
        if (b && X509_NAME_print_ex(b, X509_get_subject_name(peer), 0,
                                    XN_FLAG_RFC2253) >= 0) {
            int n = BIO_read(b, c->peer_subject, sizeof c->peer_subject - 1);
            c->peer_subject[n > 0 ? n : 0] = '\0';
        }
        BIO_free(b);
        ERR_clear_error();
    }
    chip_strlcpy(st->peerSubject, c->peer_subject, sizeof st->peerSubject);
}

void tls_conn_free(struct tls_conn *c)
{
    if (!c)
        return;
    /* OpenSSL forgets a session whose connection ended without our
     * close_notify. A connection that did not fail keeps its session
     * resumable even when the application only called closesocket(). */
    if (SSL_is_init_finished(c->ssl) && c->problem.errorCode == 0)
        SSL_set_shutdown(c->ssl, SSL_get_shutdown(c->ssl) | SSL_SENT_SHUTDOWN);
    SSL_free(c->ssl);
    tls_ctx_free(c->ctx);
    free(c);
}
