/*
 * ftp_tls.c - the FTP server's chipssl session: identity from [SSL]
 * CERT/KEY, option 2 (server proposals) always on as on the original,
 * option 1 and its CA from CLIENT_AUTH/CA, the proposal list from
 * PROPOSALS, and a resumption cache: with REQUIRE_TLS every data connection
 * must resume the control connection's session (TLS 1.2 session ID or
 * ticket, TLS 1.3 PSK). No ALPN: FTPS clients offer none (and one that
 * offered "ftp" must not be refused). A reload (SIGHUP) builds a new
 * session for new connections. The PKI change starts every resumption
 * cache afresh (a core rule), so connections from before it can no longer
 * resume on data connections (522 with REQUIRE_TLS).
 *
 * The status page shows the session as "FTPS" (registered at set-up, again
 * at each reload for the new session, unregistered at tear-down).
 */
#include "ftp_srv.h"

#include <tcpip.h>

#include <stdio.h>
#include <string.h>

#define FTP_TLS_CACHES 1024

static const char *api_text(int code, char *buf, size_t len)
{
    const char *name = chipssl_error_name(code);
    snprintf(buf, len, "%s%s%s%s", chipssl_strerror(code), name ? " (" : "", name ? name : "",
             name ? ")" : "");
    return buf;
}

static void ids(unsigned gen, char *own, char *ca, size_t len)
{
    snprintf(own, len, "chipd-ftp-%u", gen);
    snprintf(ca, len, "chipd-ftp-ca-%u", gen);
}

static void drop_ids(unsigned gen)
{
    char own[40], ca[40];
    int err = 0;
    ids(gen, own, ca, sizeof own);
    PKI_CertificateDel(own, PKI_CERT_LOCAL, &err);
    PKI_CertificateDel(ca, PKI_CERT_NONLOCAL, &err);
}

static int cert_error(const char *key, const char *file, int e, char *err, size_t errlen)
{
    char t[200];
    if (e >= 0x80)
        api_text(e, t, sizeof t);
    else
        chipssl_certflags_text(e, t, (int)sizeof t);
    snprintf(err, errlen, "[SSL] %s %s: %s", key, file, t);
    return e >= 0x80 ? e : API_EINVAL;
}

static int make_session(const struct chip_config *cfg, unsigned gen, char *err, size_t errlen,
                        int *api_error)
{
    static const int types[] = {PKI_KEY_RSA, PKI_KEY_EC, PKI_KEY_ED25519};
    char own[40], caid[40], t[200];
    int e = 0, first = 0, added = 0;
    ids(gen, own, caid, sizeof own);
    for (size_t i = 0; i < sizeof types / sizeof types[0] && !added; i++) {
        PKI_OWNKEYPAIR_ADD_Entry k = {cfg->ssl.key, PKI_FMT_PEM, types[i]};
        added = PKI_OwnKeyPairAdd(&k, &e) == 0;
        if (!added && (i == 0 || first == API_EINVAL))
            first = e;
    }
    if (!added) {
        snprintf(err, errlen, "[SSL] KEY %s: %s", cfg->ssl.key, api_text(first, t, sizeof t));
        *api_error = first;
        return -1;
    }
    PKI_CERT_ADD_Entry c = {cfg->ssl.cert, PKI_FMT_PEM,      PKI_CERT_LOCAL,
                            own,           (int)strlen(own), NULL};
    if (PKI_CertificateAdd(&c, &e) != 0) {
        *api_error = cert_error("CERT", cfg->ssl.cert, e, err, errlen);
        return -1;
    }
    if (cfg->ssl.ca[0]) {
        PKI_CERT_ADD_Entry a = {cfg->ssl.ca, PKI_FMT_PEM,       PKI_CERT_NONLOCAL | PKI_CERT_ROOTCA,
                                caid,        (int)strlen(caid), NULL};
        if (PKI_CertificateAdd(&a, &e) != 0) {
            *api_error = cert_error("CA", cfg->ssl.ca, e, err, errlen);
            drop_ids(gen);
            return -1;
        }
    }
    SSL_SESSION_NEW_Entry se = {own, FTP_TLS_CACHES, SSL_VERSION_TLS12 | SSL_VERSION_TLS13};
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
    web_stats_session_register("FTPS", sid, &info);
}

int ftp_tls_setup(struct ftp_server *srv, char *err, size_t errlen, int *api_error)
{
    pthread_mutex_init(&srv->tls_mu, NULL);
    srv->old_session = -1;
    srv->tls_generation = 0;
    int sid = make_session(&srv->cfg, 0, err, errlen, api_error);
    if (sid < 0) {
        pthread_mutex_destroy(&srv->tls_mu);
        return -1;
    }
    atomic_store(&srv->session, sid);
    srv->tls_on = 1;
    show_session(&srv->cfg, sid);
    return 0;
}

int ftp_tls_reload(struct ftp_server *srv)
{
    char err[600];
    int api = 0;
    pthread_mutex_lock(&srv->tls_mu);
    unsigned gen = srv->tls_generation + 1;
    int sid = make_session(&srv->cfg, gen, err, sizeof err, &api);
    if (sid < 0) {
        fprintf(stderr, "chipd: FTP reload: %s; the previous certificate and key stay in use\n",
                err);
        pthread_mutex_unlock(&srv->tls_mu);
        return -1;
    }
    int e = 0, prev = atomic_exchange(&srv->session, sid);
    if (srv->old_session >= 0) {
        /* Two reloads ago. A control connection still bound to it keeps
         * its own reference (chipssl sessions are counted per socket); new
         * data connections of such a connection then fail to bind and get
         * 425. */
        SSL_SessionClose(srv->old_session, &e);
        drop_ids(srv->tls_generation - 1);
    }
    srv->old_session = prev;
    srv->tls_generation = gen;
    show_session(&srv->cfg, sid);
    pthread_mutex_unlock(&srv->tls_mu);
    return 0;
}

void ftp_tls_cleanup(struct ftp_server *srv)
{
    int e = 0;
    if (!srv->tls_on)
        return;
    if (srv->old_session >= 0) {
        SSL_SessionClose(srv->old_session, &e);
        drop_ids(srv->tls_generation - 1);
    }
    web_stats_session_unregister(atomic_load(&srv->session));
    SSL_SessionClose(atomic_load(&srv->session), &e);
    drop_ids(srv->tls_generation);
    pthread_mutex_destroy(&srv->tls_mu);
    srv->tls_on = 0;
}
