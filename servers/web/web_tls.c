/*
 * web_tls.c - the HTTPS instance's chipssl session (srv_tls.h: identity
 * from [SSL], option 2 always on, option 1 and its CA, PROPOSALS, SNI
 * identities, a resumption cache) with ALPN http/1.1, and its reload.
 * Also: the error log's line for a failed handshake.
 */
#include "web.h"

#include <tcpip.h>

#include <stdio.h>
#include <string.h>

#define WEB_TLS_CACHES 256

int web_tls_setup(struct web_server *srv, char *err, size_t errlen, int *api_error)
{
    srv->tls.name = "HTTPS";
    srv->tls.prefix = "chipd-web";
    srv->tls.alpn = "http/1.1";
    srv->tls.caches = WEB_TLS_CACHES;
    return srv_tls_setup(&srv->tls, &srv->cfg, err, errlen, api_error);
}

int web_tls_reload(struct web_server *srv)
{
    char err[600];
    if (srv_tls_reload(&srv->tls, &srv->cfg, err, sizeof err) != 0) {
        web_log_error(&srv->log, "reload: %s; the previous certificate and key stay in use", err);
        return -1;
    }
    web_log_error(&srv->log, "reload: certificate %s and key %s loaded for new HTTPS connections",
                  srv->cfg.ssl.cert, srv->cfg.ssl.key);
    return 0;
}

void web_tls_cleanup(struct web_server *srv)
{
    srv_tls_cleanup(&srv->tls);
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
                  c->peer, srv_tls_api_text(p.errorCode, t, sizeof t), hs_state_text(p.hsState),
                  chipssl_alert_text(p.alert),
                  p.alert < 0   ? ""
                  : p.alertSent ? " (sent)"
                                : " (received)",
                  p.certFlags ? "client certificate: " : "", flags, p.certFlags ? "; " : "",
                  p.reason[0] ? p.reason : "-");
}
