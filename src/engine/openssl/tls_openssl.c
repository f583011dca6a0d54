/*
 * tls_openssl.c - the OpenSSL 3 engine behind tls.h: contexts built from a
 * session's settings, connections on a socket, certificate checks. With
 * pki_openssl.c, the only code that talks to OpenSSL.
 */
#include "tls.h"

#include "cache.h"
#include "hostname.h"
#include "ossl.h"
#include "pki.h"
#include "suites.h"

#include <errno.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

/* An own certificate a server may present, ready for SSL_use_cert_and_key. */
struct identity {
    struct pki_cred *cred;  /* counted reference */
    STACK_OF(X509) *chain;
};

struct tls_ctx {
    atomic_int refs;
    unsigned gen;           /* distinct per context ever built */
    SSL_CTX *ssl_ctx;
    int server;
    int skip_verify;
    struct identity ids[CHIPSSL_MAX_IDENTITIES]; /* [0] the default */
    int nids;
    unsigned char alpn[256]; /* server: its protocols, RFC 7301 wire form */
    int alpn_len;
};

/* What only a client connection needs (allocated behind its tls_conn). */
struct tls_client {
    char cache_key[CACHE_KEY_LEN];
    char name[256];         /* the name its server must have */
    char sni[256];          /* the SNI sent, "" for none */
};

struct tls_conn {
    SSL *ssl;
    struct tls_ctx *ctx;
    struct tls_cache *cache;
    struct tls_client *cl;  /* NULL on a server connection */
    int fd;
    int sys_errno;          /* errno of the last failed socket call */
    int cert_flags;         /* PKI_CERT_* seen while verifying the peer */
    int first_verify_err;   /* X509_V_ERR_* that decided the verdict */
    char *verify_reason;    /* it, in words (made by the first finding) */
    int verify_failed;      /* the verdict on the peer's certificate was no */
    int hs_state;           /* SSL_HS_* */
    int got_close_notify;
    int ticket_owed;        /* 1: a resumed TLS 1.3 server's ticket waits for the first write */
    int peeking;            /* looking for an alert after a reset */
    int info_done;          /* peer_subject looked up */
    char *peer_subject;     /* the peer certificate's subject, NULL: none */
    unsigned long long origin; /* see SSL_CONN_STATE.sessionOrigin */
    SslProblemS problem;
};

static int conn_idx = -1;
static int sess_idx = -1;   /* SSL_SESSION ex_data: peer cert flags | 0x100 */
static int origin_idx = -1; /* SSL_SESSION ex_data: its full handshake's number */
static atomic_ullong origins;
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
    origin_idx = SSL_SESSION_get_ex_new_index(0, "chipssl origin", NULL, NULL, NULL);
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

/* ---- failures in words ----------------------------------------------
 * SSL_GetProblem's reason names the check that failed and what it failed
 * on: the certificate (its CN, or its whole subject without one), the date,
 * the issuer, the names. Texts are cut to the reason's size. */

/* "CN=name", or the RFC 2253 subject when there is no CN. */
static void name_text(const X509_NAME *n, char *out, size_t len)
{
    out[0] = '\0';
    int idx = X509_NAME_get_index_by_NID(n, NID_commonName, -1);
    unsigned char *cn = NULL;
    if (idx >= 0 && ASN1_STRING_to_UTF8(&cn, X509_NAME_ENTRY_get_data(
                                                 X509_NAME_get_entry(n, idx))) >= 0) {
        snprintf(out, len, "CN=%s", (const char *)cn);
        OPENSSL_free(cn);
    } else {
        BIO *b = BIO_new(BIO_s_mem());
        if (b && X509_NAME_print_ex(b, n, 0, XN_FLAG_RFC2253) >= 0) {
            int k = BIO_read(b, out, (int)len - 1);
            out[k > 0 ? k : 0] = '\0';
        }
        BIO_free(b);
    }
    if (!out[0])
        snprintf(out, len, "(no name)");
}

/* "2026-12-01 10:00:00 UTC" */
static void time_text(const ASN1_TIME *t, char *out, size_t len)
{
    struct tm tm;
    if (t && ASN1_TIME_to_tm(t, &tm) == 1)
        strftime(out, len, "%Y-%m-%d %H:%M:%S UTC", &tm);
    else
        snprintf(out, len, "(no date)");
}

/* The DNS and IP subjectAltName entries, or the CN when there are none. */
static void names_of(X509 *x, char *out, size_t len)
{
    GENERAL_NAMES *gens = X509_get_ext_d2i(x, NID_subject_alt_name, NULL, NULL);
    size_t used = 0;
    out[0] = '\0';
    for (int i = 0; gens && i < sk_GENERAL_NAME_num(gens) && used < len; i++) {
        const GENERAL_NAME *g = sk_GENERAL_NAME_value(gens, i);
        char one[80] = "";
        if (g->type == GEN_DNS) {
            snprintf(one, sizeof one, "DNS:%.*s", ASN1_STRING_length(g->d.dNSName),
                     (const char *)ASN1_STRING_get0_data(g->d.dNSName));
        } else if (g->type == GEN_IPADD) {
            char ip[INET6_ADDRSTRLEN] = "?";
            int n = ASN1_STRING_length(g->d.iPAddress);
            if (n == 4 || n == 16)
                inet_ntop(n == 4 ? AF_INET : AF_INET6, ASN1_STRING_get0_data(g->d.iPAddress), ip,
                          sizeof ip);
            snprintf(one, sizeof one, "IP:%s", ip);
        }
        if (one[0])
            used += (size_t)snprintf(out + used, len - used, "%s%s", used ? ", " : "", one);
    }
    GENERAL_NAMES_free(gens);
    if (!out[0])
        name_text(X509_get_subject_name(x), out, len);
}

/* A reason, cut to fit (truncation is expected and harmless here). */
__attribute__((format(printf, 3, 4))) static void say(char *out, size_t len,
                                                     const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(out, len, fmt, ap);
    va_end(ap);
}

/* The reason for verify error err on certificate x (depth: 0 the peer's own). */
static void explain(struct tls_conn *c, int err, X509 *x, X509_STORE_CTX *xs)
{
    char who[96] = "(no certificate)", when[40], other[96];
    if (x)
        name_text(X509_get_subject_name(x), who, sizeof who);
    size_t n = sizeof c->problem.reason;
    if (!c->verify_reason && !(c->verify_reason = malloc(n)))
        return; /* failed() then says what OpenSSL says */
    char *r = c->verify_reason;
    switch (err) {
    case X509_V_ERR_CERT_HAS_EXPIRED:
        time_text(X509_get0_notAfter(x), when, sizeof when);
        say(r, n, "certificate expired on %s: %s", when, who);
        break;
    case X509_V_ERR_CERT_NOT_YET_VALID:
        time_text(X509_get0_notBefore(x), when, sizeof when);
        say(r, n, "certificate not valid before %s: %s", when, who);
        break;
    case X509_V_ERR_CRL_HAS_EXPIRED:
    case X509_V_ERR_CRL_NOT_YET_VALID: {
        X509_CRL *crl = X509_STORE_CTX_get0_current_crl(xs);
        const ASN1_TIME *t = crl ? (err == X509_V_ERR_CRL_HAS_EXPIRED
                                        ? X509_CRL_get0_nextUpdate(crl)
                                        : X509_CRL_get0_lastUpdate(crl))
                                 : NULL;
        time_text(t, when, sizeof when);
        say(r, n, "the CRL for %s is %s %s", who,
                 err == X509_V_ERR_CRL_HAS_EXPIRED ? "out of date since" : "not valid before",
                 when);
        break;
    }
    case X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT:
    case X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY:
    case X509_V_ERR_UNABLE_TO_VERIFY_LEAF_SIGNATURE:
        name_text(X509_get_issuer_name(x), other, sizeof other);
        say(r, n, "unknown issuer: %s (issuer of %s) is not in the PKI store", other, who);
        break;
    case X509_V_ERR_DEPTH_ZERO_SELF_SIGNED_CERT:
        say(r, n, "self-signed certificate: %s is not a root CA of the PKI store", who);
        break;
    case X509_V_ERR_SELF_SIGNED_CERT_IN_CHAIN:
        say(r, n, "self-signed certificate in the chain: %s is not a root CA of the "
                       "PKI store", who);
        break;
    case X509_V_ERR_CERT_REVOKED:
        name_text(X509_get_issuer_name(x), other, sizeof other);
        say(r, n, "certificate revoked: %s is listed in the CRL of %s", who, other);
        break;
    case X509_V_ERR_INVALID_PURPOSE:
        say(r, n, "key usage: %s may not be used for TLS %s authentication", who,
                 c->ctx->server ? "client" : "server");
        break;
    case X509_V_ERR_INVALID_CA:
        say(r, n, "not a CA: %s issued a certificate without being a CA", who);
        break;
    case X509_V_ERR_CERT_SIGNATURE_FAILURE:
        say(r, n, "bad signature: %s does not verify with its issuer's key", who);
        break;
    case X509_V_ERR_HOSTNAME_MISMATCH:
    case X509_V_ERR_IP_ADDRESS_MISMATCH: {
        char names[160];
        names_of(x, names, sizeof names);
        say(r, n, "name mismatch: wanted %s, the certificate has %s", c->cl ? c->cl->name : "", names);
        break;
    }
    default:
        say(r, n, "certificate check failed: %s: %s", X509_verify_cert_error_string(err),
                 who);
        break;
    }
}

/* Collect every problem of the chain; the verdict is taken at the end. */
static int collect_cb(int ok, X509_STORE_CTX *xs)
{
    struct tls_conn *c = conn_of_store(xs);
    if (!ok && c) {
        int err = X509_STORE_CTX_get_error(xs), f = flag_for(err);
        c->cert_flags |= f;
        if (f && !c->first_verify_err) {
            c->first_verify_err = err;
            explain(c, err, X509_STORE_CTX_get_current_cert(xs), xs);
        }
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
    X509 *leaf = X509_STORE_CTX_get0_cert(xs);
    if (X509_verify_cert(xs) < 0 && !c->cert_flags) {
        c->cert_flags |= PKI_CERT_NOTVERIFIED;
        c->first_verify_err = X509_V_ERR_UNSPECIFIED;
        explain(c, X509_V_ERR_UNSPECIFIED, leaf, xs);
    }
    int unmatched = c->cl && c->cl->name[0] && !name_matches(leaf, c->cl->name);
    if (unmatched)
        c->cert_flags |= PKI_CERT_UNMATCHED;
    /* With option 3 only the name decides; otherwise the first chain
     * problem is the reason, and a wrong name when there is none. */
    if (unmatched && (c->ctx->skip_verify || !c->first_verify_err))
        explain(c, X509_V_ERR_HOSTNAME_MISMATCH, leaf, xs);
    /* A resumption of this session reports the flags seen now. */
    SSL *ssl = X509_STORE_CTX_get_ex_data(xs, SSL_get_ex_data_X509_STORE_CTX_idx());
    SSL_SESSION_set_ex_data(SSL_get_session(ssl), sess_idx,
                            (void *)(intptr_t)(c->cert_flags | 0x100));
    int fatal = c->ctx->skip_verify ? unmatched : c->cert_flags != 0;
    if (fatal) {
        c->verify_failed = 1;
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
        /* A resumed TLS 1.3 server connection sends its new ticket with
         * its first application data (tls_conn_write), not at once: a
         * client that only sends and closes without reading (lftp's FTPS
         * upload data connections) would otherwise close with the ticket
         * unread, and its kernel's reset would drop the data not yet sent. */
        if (SSL_is_server(ssl) && SSL_session_reused((SSL *)ssl) &&
            SSL_version(ssl) == TLS1_3_VERSION && !c->ticket_owed) {
            SSL_set_num_tickets((SSL *)ssl, 0);
            c->ticket_owed = 1;
        }
    }
}

/* ---- resumption ---------------------------------------------------- */

void *tls_saved_ref(void *saved)
{
    return SSL_SESSION_up_ref(saved) == 1 ? saved : NULL;
}

void tls_saved_free(void *saved)
{
    SSL_SESSION_free(saved);
}

/* Which full handshake a connection's TLS session comes from: a number
 * drawn once per full handshake, carried by every session object made from
 * it (OpenSSL copies ex_data when it duplicates a session for a TLS 1.3
 * ticket), so that a resumed connection can prove whose session it
 * resumed (an FTPS data channel resuming its control channel's). */
static unsigned long long session_origin(SSL_SESSION *s)
{
    return s ? (unsigned long long)(uintptr_t)SSL_SESSION_get_ex_data(s, origin_idx) : 0;
}

static unsigned long long conn_origin(struct tls_conn *c)
{
    if (!c->origin) {
        SSL_SESSION *s = SSL_get_session(c->ssl);
        c->origin = SSL_session_reused(c->ssl) ? session_origin(s) : 0;
        if (!c->origin)
            c->origin = atomic_fetch_add(&origins, 1) + 1;
        if (s && !session_origin(s))
            SSL_SESSION_set_ex_data(s, origin_idx, (void *)(uintptr_t)c->origin);
    }
    return c->origin;
}

/* A new session to remember: the client's cache keeps it; a server's own
 * cache (OpenSSL's) keeps it anyway, so only its origin is noted here,
 * before a TLS 1.3 ticket leaves with it. */
static int new_session_cb(SSL *ssl, SSL_SESSION *sess)
{
    struct tls_conn *c = SSL_get_ex_data(ssl, conn_idx);
    if (!c)
        return 0;
    if (!session_origin(sess))
        SSL_SESSION_set_ex_data(sess, origin_idx, (void *)(uintptr_t)conn_origin(c));
    if (!c->cl || !c->cache || !c->cl->cache_key[0])
        return 0;
    tls_cache_put(c->cache, c->cl->cache_key, c->ctx->gen, sess);
    return 1; /* the cache keeps the reference */
}

/* ---- identities by SNI, ALPN ---------------------------------------- */

/* Server: present the first identity whose names match the SNI received;
 * the default (set on the context) otherwise. */
static int cert_cb(SSL *ssl, void *arg)
{
    (void)arg;
    struct tls_conn *c = SSL_get_ex_data(ssl, conn_idx);
    const char *sni = SSL_get_servername(ssl, TLSEXT_NAMETYPE_host_name);
    if (!c || !sni)
        return 1;
    const struct tls_ctx *t = c->ctx;
    for (int i = 0; i < t->nids; i++) {
        X509 *x = X509_of(t->ids[i].cred->cert);
        if (!name_matches(x, sni))
            continue;
        if (i == 0)
            return 1;
        /* Only this identity: left beside the default (another key type),
         * OpenSSL would choose between them by the client's signature
         * preferences, not by the name. */
        SSL_certs_clear(ssl);
        return SSL_use_cert_and_key(ssl, x, PKEY_of(t->ids[i].cred->key), t->ids[i].chain,
                                    1) == 1;
    }
    return 1;
}

/* Server: the first of our protocols that the client offers (RFC 7301
 * 3.2: none in common is a fatal no_application_protocol alert). */
static int alpn_cb(SSL *ssl, const unsigned char **out, unsigned char *outlen,
                   const unsigned char *in, unsigned int inlen, void *arg)
{
    (void)ssl;
    const struct tls_ctx *t = arg;
    for (int i = 0; i < t->alpn_len; i += 1 + t->alpn[i])
        for (unsigned j = 0; j < inlen; j += 1u + in[j])
            if (in[j] == t->alpn[i] && j + 1u + in[j] <= inlen &&
                memcmp(in + j + 1, t->alpn + i + 1, in[j]) == 0) {
                *out = in + j + 1;
                *outlen = in[j];
                return SSL_TLSEXT_ERR_OK;
            }
    return SSL_TLSEXT_ERR_ALERT_FATAL;
}

/* "h2,http/1.1" to the wire form (length-prefixed names). Returns length. */
static int alpn_wire(const char *list, unsigned char *out, size_t outlen)
{
    size_t used = 0;
    while (*list) {
        size_t n = strcspn(list, ",");
        if (n == 0 || n > 255 || used + 1 + n > outlen)
            return -1;
        out[used] = (unsigned char)n;
        memcpy(out + used + 1, list, n);
        used += 1 + n;
        list += n + (list[n] == ',');
    }
    return (int)used;
}

/* The identities of cfg into t (references), the default on the context.
 * Each is checked by the engine (its security level: SHA-1 signatures,
 * short keys): one it refuses is -API_EINVAL. The others are tried on a
 * scratch context, so that the real one holds the default only (OpenSSL
 * would otherwise pick among them by key type, not by name). */
static int take_identities(struct tls_ctx *t, SSL_CTX *ctx, const struct tls_config *cfg)
{
    SSL_CTX *scratch = NULL;
    int code = 0;
    for (int i = 0; code == 0 && i < cfg->ncreds; i++) {
        struct pki_cred *cr = cfg->creds[i];
        struct identity *id = &t->ids[t->nids];
        if (!(id->chain = sk_X509_new_null())) {
            code = -API_ENOMEM;
            break;
        }
        pki_cred_ref(cr);
        id->cred = cr;
        t->nids++;
        for (int k = 0; code == 0 && k < cr->nchain; k++) {
            X509 *x = X509_of(cr->chain[k]);
            if (!X509_up_ref(x)) {
                code = -API_ENOMEM;
            } else if (!sk_X509_push(id->chain, x)) {
                X509_free(x);
                code = -API_ENOMEM;
            }
        }
        if (code == 0 && i > 0 && !scratch && !(scratch = SSL_CTX_new(TLS_method())))
            code = -API_ENOMEM;
        if (code == 0 && SSL_CTX_use_cert_and_key(i ? scratch : ctx, X509_of(cr->cert),
                                                  PKEY_of(cr->key), id->chain, 1) != 1)
            code = -API_EINVAL;
    }
    SSL_CTX_free(scratch);
    return code;
}

static void drop_identities(struct tls_ctx *t)
{
    for (int i = 0; i < t->nids; i++) {
        pki_cred_free(t->ids[i].cred);
        sk_X509_pop_free(t->ids[i].chain, X509_free);
    }
    t->nids = 0;
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

struct tls_ctx *tls_ctx_new(const struct tls_config *cfg, struct tls_trust *trust,
                            int server, int *rc)
{
    pthread_once(&engine_once, engine_init);
    ERR_clear_error(); /* what was queued before is not this call's failure */
    if (conn_idx < 0 || sess_idx < 0 || origin_idx < 0 || !sock_method) {
        *rc = -API_ENOMEM;
        return NULL;
    }
    char s12[CHIPSSL_MAX_PROPOSALS * 40], s13[CHIPSSL_MAX_PROPOSALS * 40];
    suite_string(cfg, 0, s12, sizeof s12);
    suite_string(cfg, 1, s13, sizeof s13);
    int tls12 = cfg->tls12 && s12[0], tls13 = cfg->tls13 && s13[0];

    struct tls_ctx *t = calloc(1, sizeof *t);
    SSL_CTX *ctx = SSL_CTX_new(TLS_method());
    /* 0 while fine; -API_EINVAL for inputs the engine refuses. */
    int code = !(t && ctx) ? -API_ENOMEM : (tls12 || tls13) ? 0 : -API_EINVAL;
    if (code == 0) {
        atomic_init(&t->refs, 1);
        t->server = server;
        t->skip_verify = cfg->skip_verify;
        if (!(SSL_CTX_set_min_proto_version(ctx, tls12 ? TLS1_2_VERSION : TLS1_3_VERSION) &&
              SSL_CTX_set_max_proto_version(ctx, tls13 ? TLS1_3_VERSION : TLS1_2_VERSION) &&
              SSL_CTX_set_ciphersuites(ctx, tls13 ? s13 : "") &&
              (!tls12 || SSL_CTX_set_cipher_list(ctx, s12))))
            code = -API_EINVAL;
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
    if (code == 0)
        code = take_identities(t, ctx, cfg);
    if (code == 0 && t->nids > 1)
        SSL_CTX_set_cert_cb(ctx, cert_cb, NULL);
    if (code == 0 && cfg->alpn[0]) {
        t->alpn_len = alpn_wire(cfg->alpn, t->alpn, sizeof t->alpn);
        if (t->alpn_len <= 0)
            code = -API_EINVAL;
        else if (server)
            SSL_CTX_set_alpn_select_cb(ctx, alpn_cb, t);
        else if (SSL_CTX_set_alpn_protos(ctx, t->alpn, (unsigned)t->alpn_len) != 0)
            code = -API_ENOMEM;
    }
    if (code == 0) {
        STACK_OF(X509_NAME) *names = trust->names ? SSL_dup_CA_list(trust->names) : NULL;
        SSL_CTX_set1_cert_store(ctx, trust->store); /* shared, counted */
        if (trust->names && !names)
            code = -API_ENOMEM;
        else if (names)
            SSL_CTX_set_client_CA_list(ctx, names); /* takes them */
    }
    if (code == 0) {
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
                code = -API_ENOMEM;
            if (cfg->max_caches > 0) {
                SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_SERVER);
                /* OpenSSL 3.0 evicts while the count, the newcomer
                 * included, is at the size: a size of N keeps N - 1. */
                SSL_CTX_sess_set_cache_size(ctx, cfg->max_caches + 1);
                SSL_CTX_set_num_tickets(ctx, 1);
                SSL_CTX_sess_set_new_cb(ctx, new_session_cb);
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
    /* A refusal for want of memory says so (the queue tells). */
    code = code ? ossl_failure(code) : (ERR_clear_error(), 0);
    if (code) {
        SSL_CTX_free(ctx);
        if (t)
            drop_identities(t);
        free(t);
        *rc = code;
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
    drop_identities(t);
    free(t);
}

/* ---- connections ----------------------------------------------------- */

struct tls_conn *tls_conn_new(struct tls_ctx *ctx, struct tls_cache *cache,
                              int fd, const char *name, const char *cache_key,
                              int *rc)
{
    /* A server connection (thousands may idle) carries no client part. */
    struct tls_conn *c = calloc(1, sizeof *c + (ctx->server ? 0 : sizeof(struct tls_client)));
    SSL *ssl = SSL_new(ctx->ssl_ctx);
    BIO *bio = BIO_new(sock_method);
    if (!c || !ssl || !bio) {
        free(c);
        SSL_free(ssl);
        BIO_free(bio);
        ERR_clear_error();
        *rc = -API_ENOMEM;
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
        struct tls_client *cl = c->cl = (struct tls_client *)(c + 1);
        if (name) {
            chip_strlcpy(cl->name, name, sizeof cl->name);
            /* RFC 6066 3: SNI carries DNS names only, never literals. */
            if (!chipssl_name_is_ip(name) && !strchr(name, '*') &&
                SSL_set_tlsext_host_name(ssl, name) == 1)
                chip_strlcpy(cl->sni, name, sizeof cl->sni);
        }
        c->cache = cache;
        if (cache && cache_key) {
            chip_strlcpy(cl->cache_key, cache_key, sizeof cl->cache_key);
            SSL_SESSION *sess = tls_cache_get(cache, cache_key, ctx->gen);
            if (sess && SSL_SESSION_is_resumable(sess))
                SSL_set_session(ssl, sess);
            SSL_SESSION_free(sess);
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
        /* Which check failed, in words: ours on the peer's certificate,
         * the peer's refusal (its alert), or the engine's own finding. */
        unsigned long e = ERR_peek_last_error();
        const char *r = e ? ERR_reason_error_string(e) : NULL;
        if (ossl_failure(0) < 0) {
            c->problem.errorCode = API_ENOMEM;
            r = "out of memory in the TLS engine";
        }
        char *out = c->problem.reason;
        size_t n = sizeof c->problem.reason;
        if (c->verify_failed && c->verify_reason)
            chip_strlcpy(out, c->verify_reason, n);
        else if (c->problem.alert >= 0 && !c->problem.alertSent)
            say(out, n, "the peer refused the connection: %s",
                     chipssl_alert_text(c->problem.alert));
        else if (r && c->problem.alert >= 0)
            say(out, n, "%s (alert sent: %s)", r, chipssl_alert_text(c->problem.alert));
        else
            chip_strlcpy(out, r ? r : why, n);
    }
    ERR_clear_error();
    return TLS_FAIL;
}

/* Empty the thread's error queue; looking costs less than clearing (which
 * walks every slot), and on the data path it is almost always empty. */
static void queue_clear(void)
{
    if (ERR_peek_error() != 0)
        ERR_clear_error();
}

/* Every outcome but TLS_FAIL (failed() reads and clears the queue) leaves
 * the queue empty too: OpenSSL may queue an error it recovered from. */
static int result(struct tls_conn *c, int r)
{
    switch (SSL_get_error(c->ssl, r)) {
    case SSL_ERROR_WANT_READ: queue_clear(); return TLS_WANT_READ;
    case SSL_ERROR_WANT_WRITE: queue_clear(); return TLS_WANT_WRITE;
    case SSL_ERROR_ZERO_RETURN:
        if (SSL_is_init_finished(c->ssl))
            return ERR_clear_error(), TLS_EOF;
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
                return ERR_clear_error(), TLS_EOF;
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
        conn_origin(c);
        if (SSL_session_reused(c->ssl)) {
            intptr_t v = (intptr_t)SSL_SESSION_get_ex_data(SSL_get_session(c->ssl), sess_idx);
            c->cert_flags = (int)(v & 0xff);
        }
        ERR_clear_error(); /* see result() */
        return TLS_DONE;
    }
    return result(c, r);
}

int tls_conn_read(struct tls_conn *c, void *buf, int len, int peek, int *n)
{
    size_t got = 0;
    queue_clear();
    int r = peek ? SSL_peek_ex(c->ssl, buf, (size_t)len, &got)
                 : SSL_read_ex(c->ssl, buf, (size_t)len, &got);
    if (r == 1) {
        *n = (int)got;
        queue_clear();
        return TLS_DONE;
    }
    return result(c, r);
}

int tls_conn_write(struct tls_conn *c, const void *buf, int len, int *n)
{
    size_t put = 0;
    queue_clear();
    if (c->ticket_owed == 1) { /* see info_cb */
        c->ticket_owed = 2;
        SSL_new_session_ticket(c->ssl);
        queue_clear(); /* no ticket is no failure of this write */
    }
    int r = SSL_write_ex(c->ssl, buf, (size_t)len, &put);
    if (r == 1) {
        *n = (int)put;
        queue_clear();
        return TLS_DONE;
    }
    return result(c, r);
}

int tls_conn_close_notify(struct tls_conn *c)
{
    queue_clear();
    int r = SSL_shutdown(c->ssl);
    if (r < 0)
        return result(c, r);
    queue_clear();
    return TLS_DONE;
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
    if (c->cl) {
        chip_strlcpy(st->serverName, c->cl->sni, sizeof st->serverName);
    } else {
        const char *sni = SSL_get_servername(c->ssl, TLSEXT_NAMETYPE_host_name);
        chip_strlcpy(st->serverName, sni ? sni : "", sizeof st->serverName);
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
    st->sessionOrigin = conn_origin(c);
    const unsigned char *proto = NULL;
    unsigned plen = 0;
    SSL_get0_alpn_selected(c->ssl, &proto, &plen);
    snprintf(st->alpn, sizeof st->alpn, "%.*s", (int)plen, proto ? (const char *)proto : "");
    if (!c->info_done) {
        c->info_done = 1;
        X509 *peer = SSL_get0_peer_certificate(c->ssl);
        BIO *b = peer ? BIO_new(BIO_s_mem()) : NULL;
        char name[sizeof st->peerSubject];
        if (b && X509_NAME_print_ex(b, X509_get_subject_name(peer), 0,
                                    XN_FLAG_RFC2253) >= 0) {
            int n = BIO_read(b, name, sizeof name - 1);
            name[n > 0 ? n : 0] = '\0';
            c->peer_subject = strdup(name);
        }
        BIO_free(b);
        ERR_clear_error();
        if (peer && !c->peer_subject)
            c->info_done = 0; /* out of memory: try again next time */
    }
    chip_strlcpy(st->peerSubject, c->peer_subject ? c->peer_subject : "", sizeof st->peerSubject);
}

void tls_conn_free(struct tls_conn *c)
{
    if (!c)
        return;
    /* OpenSSL forgets a session whose connection ended without our
     * close_notify. Only a fatal alert forbids resuming it (RFC 5246
     * 7.2.2; OpenSSL drops the session itself when it sends or receives
     * one): a completed handshake whose connection the application merely
     * closed, or the peer ended with a reset or a FIN without close_notify,
     * keeps its session resumable (RFC 5246 7.2.1, RFC 8446 6.1). */
    if (SSL_is_init_finished(c->ssl) && c->problem.alert < 0)
        SSL_set_shutdown(c->ssl, SSL_get_shutdown(c->ssl) | SSL_SENT_SHUTDOWN);
    SSL_free(c->ssl);
    tls_ctx_free(c->ctx);
    free(c->peer_subject);
    free(c->verify_reason);
    free(c);
}
