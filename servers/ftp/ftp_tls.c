/*
 * ftp_tls.c - the FTP server's chipssl session (srv_tls.h: identity and SNI
 * identities from [SSL], option 2 always on as on the original, option 1
 * and its CA, PROPOSALS) with a resumption cache: with REQUIRE_TLS every data connection
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

#include <stdio.h>

#define FTP_TLS_CACHES 1024

int ftp_tls_setup(struct ftp_server *srv, char *err, size_t errlen, int *api_error)
{
    srv->tls.name = "FTPS";
    srv->tls.prefix = "chipd-ftp";
    srv->tls.alpn = NULL;
    srv->tls.caches = FTP_TLS_CACHES;
    return srv_tls_setup(&srv->tls, &srv->cfg, err, errlen, api_error);
}

int ftp_tls_reload(struct ftp_server *srv)
{
    char err[600];
    if (srv_tls_reload(&srv->tls, &srv->cfg, err, sizeof err) == 0)
        return 0;
    fprintf(stderr, "chipd: FTP reload: %s; the previous certificate and key stay in use\n", err);
    return -1;
}

void ftp_tls_cleanup(struct ftp_server *srv)
{
    srv_tls_cleanup(&srv->tls);
}
