/*
 * web_server - the Web server (HTTP and HTTPS instances) as one object:
 * what chipd_start and chipd_stop drive.
 */
#ifndef CHIPD_WEB_SERVER_H
#define CHIPD_WEB_SERVER_H

#include "config.h"

#include <stddef.h>

struct web_server;

/* web_server_start - open the logs and the root, bind every enabled
 * listener, set up TLS, start the worker threads. Returns 0 once every
 * listener is bound, or -1 with the reason in err and an API_E... code in
 * *api_error (nothing left running). */
int web_server_start(const struct chip_config *cfg, struct web_server **out, char *err,
                     size_t errlen, int *api_error);

/* web_server_reload - re-read [SSL] CERT, KEY and CA for new connections
 * (the old identity stays when they fail; the reason goes to the error
 * log). Returns 0 or -1. */
int web_server_reload(struct web_server *s);

/* web_server_stop - stop accepting, let connections finish their response
 * and close cleanly (close_notify), at most a few seconds; free s. */
void web_server_stop(struct web_server *s);

/* web_server_port - the bound port of an instance (tls 0 HTTP, 1 HTTPS),
 * 0 when off. */
unsigned web_server_port(const struct web_server *s, int tls);

#endif
