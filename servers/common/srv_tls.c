/*
 * srv_tls.c - a server's chipssl session from [SSL] (srv_tls.h).
 */
#include "srv_tls.h"
#include "web_stats.h"

#include <tcpip.h>

#include <stdio.h>
#include <string.h>

const char *srv_tls_api_text(int code, char *buf, size_t len)
{
    const char *name = chipssl_error_name(code);
    snprintf(buf, len, "%s%s%s%s", chipssl_strerror(code), name ? " (" : "", name ? name : "",
             name ? ")" : "");
    return buf;
}

/* PKI IDs of a generation: the identity (n 0), an SNI identity (n 1..),
 * the client CA (n -1). */
static void pki_id(const struct srv_tls *t, unsigned gen, int n, char *id, size_t len)
{
    if (n < 0)
        snprintf(id, len, "%s-ca-%u", t->prefix, gen);
    else if (n == 0)
        snprintf(id, len, "%s-%u", t->prefix, gen);
    else
        snprintf(id, len, "%s-%u-sni%d", t->prefix, gen, n);
}

static void drop_ids(const struct srv_tls *t, unsigned gen)
{
    char id[64];
    int err = 0;
    pki_id(t, gen, -1, id, sizeof id);
    PKI_CertificateDel(id, PKI_CERT_NONLOCAL, &err);
    for (int n = 0; n <= CFG_SNI_IDENTITIES; n++) {
        pki_id(t, gen, n, id, sizeof id);
        PKI_CertificateDel(id, PKI_CERT_LOCAL, &err); /* none there: harmless */
    }
}

/* A certificate under id: 0, or -1 with "[SSL] KEY file: why" in err. */
static int add_cert(const char *file, int type, const char *id, const char *key, char *err,
                    size_t errlen, int *api_error)
{
    PKI_CERT_ADD_Entry c = {file, PKI_FMT_PEM, type, id, (int)strlen(id), NULL};
    int e = 0;
    if (PKI_CertificateAdd(&c, &e) == 0)
        return 0;
    char t[200];
    if (e >= 0x80)
        srv_tls_api_text(e, t, sizeof t);
    else
        chipssl_certflags_text(e, t, (int)sizeof t);
    snprintf(err, errlen, "[SSL] %s %s: %s", key, file, t);
    *api_error = e >= 0x80 ? e : API_EINVAL;
    return -1;
}

/* A key pair and its LOCAL certificate under id; 0, or -1 with the reason
 * in err (certKey/keyKey: the keys' names, e.g. "CERT"/"KEY"). */
static int add_identity(const char *certFile, const char *keyFile, const char *id,
                        const char *certKey, const char *keyKey, char *err, size_t errlen,
                        int *api_error)
{
    static const int types[] = {PKI_KEY_RSA, PKI_KEY_EC, PKI_KEY_ED25519};
    char t[200];
    int e = 0, first = 0, added = 0;
    for (size_t i = 0; i < sizeof types / sizeof types[0] && !added; i++) {
        PKI_OWNKEYPAIR_ADD_Entry k = {keyFile, PKI_FMT_PEM, types[i]};
        added = PKI_OwnKeyPairAdd(&k, &e) == 0;
        if (!added && (i == 0 || first == API_EINVAL))
            first = e;
    }
    if (!added) {
        snprintf(
            err, errlen, "[SSL] %s %s: %s%s", keyKey, keyFile, srv_tls_api_text(first, t, sizeof t),
            first == API_EINVAL ? ": not an unencrypted RSA (2048 bits or more), EC or Ed25519 key"
                                : "");
        *api_error = first;
        return -1;
    }
    return add_cert(certFile, PKI_CERT_LOCAL, id, certKey, err, errlen, api_error);
}

/* The PKI entries of generation gen: 0, or -1 (nothing left behind). */
static int add_pki(const struct srv_tls *t, const struct chip_config *cfg, unsigned gen, char *err,
                   size_t errlen, int *api_error)
{
    char id[64];
    pki_id(t, gen, 0, id, sizeof id);
    if (add_identity(cfg->ssl.cert, cfg->ssl.key, id, "CERT", "KEY", err, errlen, api_error) != 0)
        return -1;
    for (int n = 1; n <= CFG_SNI_IDENTITIES; n++) { /* [SSL] CERTn/KEYn */
        char ck[16], kk[16];
        if (!cfg->ssl.sni_cert[n - 1][0])
            continue;
        pki_id(t, gen, n, id, sizeof id);
        snprintf(ck, sizeof ck, "CERT%d", n);
        snprintf(kk, sizeof kk, "KEY%d", n);
        if (add_identity(cfg->ssl.sni_cert[n - 1], cfg->ssl.sni_key[n - 1], id, ck, kk, err, errlen,
                         api_error) != 0)
            goto fail;
    }
    pki_id(t, gen, -1, id, sizeof id);
    if (cfg->ssl.ca[0] && add_cert(cfg->ssl.ca, PKI_CERT_NONLOCAL | PKI_CERT_ROOTCA, id, "CA", err,
                                   errlen, api_error) != 0)
        goto fail;
    return 0;
fail:
    drop_ids(t, gen);
    return -1;
}

/* A session from cfg with the PKI IDs of generation gen. Returns the
 * session ID, or -1 with the reason in err. */
static int make_session(const struct srv_tls *t, const struct chip_config *cfg, unsigned gen,
                        char *err, size_t errlen, int *api_error)
{
    char own[64], caid[64], text[200], sni_what[48];
    int e = 0;
    if (add_pki(t, cfg, gen, err, errlen, api_error) != 0)
        return -1;
    pki_id(t, gen, 0, own, sizeof own);
    pki_id(t, gen, -1, caid, sizeof caid);
    SSL_SESSION_NEW_Entry se = {own, t->caches, SSL_VERSION_TLS12 | SSL_VERSION_TLS13};
    int sid = SSL_SessionNew(&se, &e);
    if (sid < 0) {
        snprintf(err, errlen, "[SSL] CERT %s: no session: %s", cfg->ssl.cert,
                 srv_tls_api_text(e, text, sizeof text));
        *api_error = e;
        drop_ids(t, gen);
        return -1;
    }
    const char *what = NULL;
    if (SSL_SessionOpt(sid, SSL_OPT_SERVER_PROPOSALS, 1, &e) != 0)
        what = "option 2 (server proposals)";
    else if (cfg->ssl.client_auth && SSL_SessionOpt(sid, SSL_OPT_CLIENT_AUTH, 1, &e) != 0)
        what = "[SSL] CLIENT_AUTH";
    else if (cfg->ssl.client_auth && cfg->ssl.ca[0] && SSL_AddClientCA(sid, caid, &e) != 0)
        what = "[SSL] CA (not a CA certificate)";
    else if (cfg->ssl.nproposals &&
             SSL_SessionProp(sid, cfg->ssl.proposals, cfg->ssl.nproposals, &e) != 0)
        what = "[SSL] PROPOSALS (no suite for TLS 1.2 or 1.3, or one chipssl refuses)";
    else if (t->alpn && SSL_SessionALPN(sid, t->alpn, &e) != 0)
        what = "ALPN";
    for (int n = 1; !what && n <= CFG_SNI_IDENTITIES; n++) {
        char id[64];
        pki_id(t, gen, n, id, sizeof id);
        if (cfg->ssl.sni_cert[n - 1][0] && SSL_SessionAddIdentity(sid, id, &e) != 0) {
            snprintf(sni_what, sizeof sni_what, "[SSL] CERT%d (an identity for SNI)", n);
            what = sni_what;
        }
    }
    if (what) {
        snprintf(err, errlen, "%s: %s", what, srv_tls_api_text(e, text, sizeof text));
        *api_error = e;
        SSL_SessionClose(sid, &e);
        drop_ids(t, gen);
        return -1;
    }
    /* The status page's entry: the values set above (chipssl has no getters). */
    struct web_stats_session_info info = {
        .client_auth = cfg->ssl.client_auth,
        .server_proposals = 1,
        .skip_validation = 0,
        .versions = SSL_VERSION_TLS12 | SSL_VERSION_TLS13,
        .proposals = cfg->ssl.nproposals ? cfg->ssl.proposals : NULL,
        .nproposals = cfg->ssl.nproposals,
    };
    web_stats_session_register(t->name, sid, &info);
    return sid;
}

int srv_tls_setup(struct srv_tls *t, const struct chip_config *cfg, char *err, size_t errlen,
                  int *api_error)
{
    t->old_session = -1;
    t->generation = 0;
    int sid = make_session(t, cfg, 0, err, errlen, api_error);
    if (sid < 0)
        return -1;
    pthread_mutex_init(&t->mu, NULL);
    atomic_store(&t->session, sid);
    t->on = 1;
    return 0;
}

int srv_tls_reload(struct srv_tls *t, const struct chip_config *cfg, char *err, size_t errlen)
{
    int api = 0;
    pthread_mutex_lock(&t->mu);
    unsigned gen = t->generation + 1;
    int sid = make_session(t, cfg, gen, err, errlen, &api);
    if (sid < 0) {
        pthread_mutex_unlock(&t->mu);
        return -1;
    }
    int e = 0, prev = atomic_exchange(&t->session, sid);
    if (t->old_session >= 0) {
        /* Two reloads ago: no accept can still be binding a socket to it. */
        SSL_SessionClose(t->old_session, &e);
        drop_ids(t, t->generation - 1);
    }
    t->old_session = prev;
    t->generation = gen;
    pthread_mutex_unlock(&t->mu);
    return 0;
}

void srv_tls_cleanup(struct srv_tls *t)
{
    int e = 0;
    if (!t->on)
        return;
    if (t->old_session >= 0) {
        SSL_SessionClose(t->old_session, &e);
        drop_ids(t, t->generation - 1);
    }
    web_stats_session_unregister(atomic_load(&t->session));
    SSL_SessionClose(atomic_load(&t->session), &e);
    drop_ids(t, t->generation);
    pthread_mutex_destroy(&t->mu);
    t->on = 0;
}
