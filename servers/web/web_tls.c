/*
 * web_tls.c - the HTTPS instance's chipssl session: identity from [SSL]
 * CERT/KEY, option 2 (server proposals) always on, option 1 and its CA from
 * CLIENT_AUTH/CA, the proposal list from PROPOSALS, ALPN http/1.1, a
 * resumption cache, more identities chosen by SNI from CERTn/KEYn
 * (SSL_SessionAddIdentity). A reload (SIGHUP) builds a new session from the files
 * and switches new connections to it; when it fails the old one stays.
 * Also: the error log's line for a failed handshake.
 */
#include "web.h"

#include <tcpip.h>

#include <stdio.h>
#include <string.h>

#define WEB_TLS_CACHES 256

static const char *api_text(int code, char *buf, size_t len)
{
    const char *name = chipssl_error_name(code);
    snprintf(buf, len, "%s%s%s%s", chipssl_strerror(code), name ? " (" : "", name ? name : "",
             name ? ")" : "");
    return buf;
}

/* One generation's PKI IDs. */
static void ids(unsigned gen, char *own, char *ca, size_t len)
{
    snprintf(own, len, "chipd-web-%u", gen);
    snprintf(ca, len, "chipd-web-ca-%u", gen);
}

/* The PKI ID of the SNI identity n (0..) of a generation. */
static void sni_id(unsigned gen, int n, char *id, size_t len)
{
    snprintf(id, len, "chipd-web-%u-sni%d", gen, n + 1);
}

static void drop_ids(unsigned gen)
{
    char own[40], ca[40];
    int err = 0;
    ids(gen, own, ca, sizeof own);
    PKI_CertificateDel(own, PKI_CERT_LOCAL, &err);
    PKI_CertificateDel(ca, PKI_CERT_NONLOCAL, &err);
    for (int n = 0; n < CFG_SNI_IDENTITIES; n++) {
        sni_id(gen, n, own, sizeof own);
        PKI_CertificateDel(own, PKI_CERT_LOCAL, &err); /* none there: harmless */
    }
}

/* A key pair and its LOCAL certificate under id; 0, or -1 with the reason
 * in err (what: the keys' names, e.g. "CERT"/"KEY"). */
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
        snprintf(err, errlen, "[SSL] %s %s: %s%s", keyKey, keyFile, api_text(first, t, sizeof t),
                 first == API_EINVAL
                     ? ": not an unencrypted RSA (2048 bits or more), EC or Ed25519 key"
                     : "");
        *api_error = first;
        return -1;
    }
    PKI_CERT_ADD_Entry c = {certFile, PKI_FMT_PEM, PKI_CERT_LOCAL, id, (int)strlen(id), NULL};
    if (PKI_CertificateAdd(&c, &e) != 0) {
        if (e >= 0x80)
            api_text(e, t, sizeof t);
        else
            chipssl_certflags_text(e, t, (int)sizeof t);
        snprintf(err, errlen, "[SSL] %s %s: %s", certKey, certFile, t);
        *api_error = e >= 0x80 ? e : API_EINVAL;
        return -1;
    }
    return 0;
}

/* A session from the files of cfg, PKI IDs of generation gen. Returns the
 * session ID, or -1 with the reason in err. */
static int make_session(const struct chip_config *cfg, unsigned gen, char *err, size_t errlen,
                        int *api_error)
{
    char own[40], caid[40], t[200];
    int e = 0;
    ids(gen, own, caid, sizeof own);
    if (add_identity(cfg->ssl.cert, cfg->ssl.key, own, "CERT", "KEY", err, errlen, api_error) != 0)
        return -1;
    /* The identities chosen by SNI ([SSL] CERTn/KEYn). */
    for (int n = 0; n < CFG_SNI_IDENTITIES; n++) {
        char id[40], ck[8], kk[8];
        if (!cfg->ssl.sni_cert[n][0])
            continue;
        sni_id(gen, n, id, sizeof id);
        snprintf(ck, sizeof ck, "CERT%d", n + 1);
        snprintf(kk, sizeof kk, "KEY%d", n + 1);
        if (add_identity(cfg->ssl.sni_cert[n], cfg->ssl.sni_key[n], id, ck, kk, err, errlen,
                         api_error) != 0) {
            drop_ids(gen);
            return -1;
        }
    }
    if (cfg->ssl.ca[0]) {
        PKI_CERT_ADD_Entry a = {cfg->ssl.ca, PKI_FMT_PEM,       PKI_CERT_NONLOCAL | PKI_CERT_ROOTCA,
                                caid,        (int)strlen(caid), NULL};
        if (PKI_CertificateAdd(&a, &e) != 0) {
            if (e >= 0x80)
                api_text(e, t, sizeof t);
            else
                chipssl_certflags_text(e, t, (int)sizeof t);
            snprintf(err, errlen, "[SSL] CA %s: %s", cfg->ssl.ca, t);
            *api_error = e >= 0x80 ? e : API_EINVAL;
            drop_ids(gen);
            return -1;
        }
    }
    SSL_SESSION_NEW_Entry se = {own, WEB_TLS_CACHES, SSL_VERSION_TLS12 | SSL_VERSION_TLS13};
    int sid = SSL_SessionNew(&se, &e);
    if (sid < 0) {
        snprintf(err, errlen, "[SSL] CERT %s: no session: %s", cfg->ssl.cert,
                 api_text(e, t, sizeof t));
        *api_error = e;
        drop_ids(gen);
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
    else if (SSL_SessionALPN(sid, "http/1.1", &e) != 0)
        what = "ALPN http/1.1";
    char sni_what[48];
    for (int n = 0; !what && n < CFG_SNI_IDENTITIES; n++) {
        char id[40];
        sni_id(gen, n, id, sizeof id);
        if (cfg->ssl.sni_cert[n][0] && SSL_SessionAddIdentity(sid, id, &e) != 0) {
            snprintf(sni_what, sizeof sni_what, "[SSL] CERT%d (an identity for SNI)", n + 1);
            what = sni_what;
        }
    }
    if (what) {
        snprintf(err, errlen, "%s: %s", what, api_text(e, t, sizeof t));
        *api_error = e;
        SSL_SessionClose(sid, &e);
        drop_ids(gen);
        return -1;
    }
    return sid;
}

/* The session as the status page shows it (the values make_session set). */
static void show_session(const struct chip_config *cfg, int sid)
{
    struct web_stats_session_info info = {
        .client_auth = cfg->ssl.client_auth,
        .server_proposals = 1,
        .skip_validation = 0,
        .versions = SSL_VERSION_TLS12 | SSL_VERSION_TLS13,
        .proposals = cfg->ssl.nproposals ? cfg->ssl.proposals : NULL,
        .nproposals = cfg->ssl.nproposals,
    };
    web_stats_session_register("HTTPS", sid, &info);
}

int web_tls_setup(struct web_server *srv, char *err, size_t errlen, int *api_error)
{
    pthread_mutex_init(&srv->tls_mu, NULL);
    srv->old_session = -1;
    srv->tls_generation = 0;
    int sid = make_session(&srv->cfg, 0, err, errlen, api_error);
    if (sid < 0)
        return -1;
    atomic_store(&srv->session, sid);
    show_session(&srv->cfg, sid);
    return 0;
}

int web_tls_reload(struct web_server *srv)
{
    char err[600];
    int api = 0;
    pthread_mutex_lock(&srv->tls_mu);
    unsigned gen = srv->tls_generation + 1;
    int sid = make_session(&srv->cfg, gen, err, sizeof err, &api);
    if (sid < 0) {
        web_log_error(&srv->log, "reload: %s; the previous certificate and key stay in use", err);
        pthread_mutex_unlock(&srv->tls_mu);
        return -1;
    }
    int e = 0, prev = atomic_exchange(&srv->session, sid);
    if (srv->old_session >= 0) {
        /* Two reloads ago: no accept can still be binding a socket to it. */
        SSL_SessionClose(srv->old_session, &e);
        drop_ids(srv->tls_generation - 1);
    }
    srv->old_session = prev;
    srv->tls_generation = gen;
    show_session(&srv->cfg, sid);
    web_log_error(&srv->log, "reload: certificate %s and key %s loaded for new HTTPS connections",
                  srv->cfg.ssl.cert, srv->cfg.ssl.key);
    pthread_mutex_unlock(&srv->tls_mu);
    return 0;
}

void web_tls_cleanup(struct web_server *srv)
{
    int e = 0;
    if (srv->old_session >= 0) {
        SSL_SessionClose(srv->old_session, &e);
        drop_ids(srv->tls_generation - 1);
    }
    web_stats_session_unregister(atomic_load(&srv->session));
    SSL_SessionClose(atomic_load(&srv->session), &e);
    drop_ids(srv->tls_generation);
    pthread_mutex_destroy(&srv->tls_mu);
}

static const char *hs_state_text(int s)
{
    switch (s) {
    case SSL_HS_NONE: return "before the handshake";
    case SSL_HS_HELLO: return "hello";
    case SSL_HS_CERTIFICATE: return "certificate check";
    case SSL_HS_KEY_EXCHANGE: return "key exchange";
    case SSL_HS_FINISHED: return "finished";
    case SSL_HS_DONE: return "established";
    default: return "failed";
    }
}

void web_tls_log_failure(struct web_conn *c)
{
    SslProblemS p;
    int e = 0;
    char t[96], flags[200] = "";
    memset(&p, 0, sizeof p);
    p.alert = -1;
    SSL_GetProblem(c->lc.fd, &p, &e);
    if (p.certFlags)
        chipssl_certflags_text(p.certFlags, flags, (int)sizeof flags);
    web_log_error(&c->srv->log,
                  "TLS handshake with %s failed: %s; at: %s; alert: %s%s; %s%s%sreason: %s",
                  c->peer, api_text(p.errorCode, t, sizeof t), hs_state_text(p.hsState),
                  chipssl_alert_text(p.alert),
                  p.alert < 0   ? ""
                  : p.alertSent ? " (sent)"
                                : " (received)",
                  p.certFlags ? "client certificate: " : "", flags, p.certFlags ? "; " : "",
                  p.reason[0] ? p.reason : "-");
}
