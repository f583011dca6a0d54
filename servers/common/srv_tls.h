/*
 * srv_tls - a server's chipssl session built from chip.ini's [SSL] section,
 * shared by the HTTPS instance and the FTP server (each has its own):
 * identity from CERT/KEY (and the identities chosen by SNI, CERTn/KEYn),
 * option 2 (server proposals) always on, as on the original; option 1 and
 * its CA from CLIENT_AUTH/CA, the proposal list from PROPOSALS, an optional
 * ALPN protocol, a resumption cache. The status page lists the session
 * under its name.
 *
 * Reload (SIGHUP): a new session from the files for new connections; when
 * the files fail, the old session stays. The session before the previous
 * one is closed at a reload (a connection still bound to it keeps its own
 * reference: chipssl counts sessions per socket).
 */
#ifndef CHIPD_SRV_TLS_H
#define CHIPD_SRV_TLS_H

#include "config.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stddef.h>

struct srv_tls {
    /* Set by the owner before srv_tls_setup: */
    const char *name;   /* on the status page: "HTTPS", "FTPS" */
    const char *prefix; /* of the PKI IDs: "chipd-web" */
    const char *alpn;   /* ALPN protocol to select, or NULL */
    int caches;         /* resumption cache entries */
    /* The state: */
    int on;             /* 1 between setup and cleanup */
    atomic_int session; /* the session new connections use */
    int old_session;    /* the one before the last reload, -1 when none */
    unsigned generation;
    pthread_mutex_t mu; /* reloads */
};

/* srv_tls_setup - the first session from cfg. Returns 0, or -1 with the
 * reason in err (naming the [SSL] key and file) and an API_E... code. */
int srv_tls_setup(struct srv_tls *t, const struct chip_config *cfg, char *err, size_t errlen,
                  int *api_error);

/* srv_tls_reload - a new session from cfg for new connections. Returns 0,
 * or -1 with the reason in err (the old session stays in use). */
int srv_tls_reload(struct srv_tls *t, const struct chip_config *cfg, char *err, size_t errlen);

/* srv_tls_cleanup - close the sessions and drop their PKI entries (after
 * every connection is closed). Nothing when not set up. */
void srv_tls_cleanup(struct srv_tls *t);

/* srv_tls_session - the session ID for a new connection. */
static inline int srv_tls_session(struct srv_tls *t)
{
    return atomic_load(&t->session);
}

/* srv_tls_api_text - "text (NAME)" of an API_E... code, into buf. */
const char *srv_tls_api_text(int code, char *buf, size_t len);

#endif
