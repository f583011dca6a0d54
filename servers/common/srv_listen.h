/*
 * srv_listen - a listening chipssl socket as chip.ini configures one: bound
 * to BIND (an IPv4 or IPv6 literal; empty: every address, over IPv6 when
 * the host has it, dual-stack), and for a TLS port made a TLS server
 * listener whose accepted sockets inherit the session and the handshake
 * limit.
 */
#ifndef CHIPD_SRV_LISTEN_H
#define CHIPD_SRV_LISTEN_H

#include <stddef.h>

struct srv_listen {
    const char *address; /* [..] BIND: a literal address, "" = all */
    unsigned port;       /* 0: any free port */
    int backlog;
    int tls_session; /* 0: plain; else the chipssl session of a TLS port */
    int hs_limit;    /* TLS: handshake limit, seconds */
    const char *key; /* for messages: "[WEB] HTTPS_PORT" */
};

/* srv_listen_open - returns the listening socket with *bound_port set, or
 * -1 with the reason in err ("[WEB] HTTPS_PORT 8443 on all addresses:
 * bind: address in use (API_EADDRINUSE)") and an API_E... code. */
int srv_listen_open(const struct srv_listen *l, unsigned *bound_port, char *err, size_t errlen,
                    int *api_error);

#endif
