/*
 * ftp_server - the FTP server (control port with explicit FTPS, and the
 * implicit-FTPS port) as one object: what chipd_start and chipd_stop drive.
 */
#ifndef CHIPD_FTP_SERVER_H
#define CHIPD_FTP_SERVER_H

#include "config.h"

#include <stddef.h>

struct ftp_server;

/* ftp_server_start - bind the control and implicit-FTPS listeners, set up
 * TLS, open the transfer log, start the worker threads. Returns 0 once
 * every listener is bound, or -1 with the reason in err and an API_E...
 * code in *api_error (nothing left running). */
int ftp_server_start(const struct chip_config *cfg, struct ftp_server **out, char *err,
                     size_t errlen, int *api_error);

/* ftp_server_reload - re-read [SSL] CERT, KEY and CA for new connections
 * (the old identity stays when they fail). Returns 0 or -1. */
int ftp_server_reload(struct ftp_server *s);

/* ftp_server_stop - stop accepting; running transfers are aborted (uploads
 * discarded as ftp_store_abort does), every control connection gets 421
 * and a clean close (close_notify); free s. */
void ftp_server_stop(struct ftp_server *s);

/* ftp_server_port - the bound port: implicit 0 the control port, 1 the
 * implicit-FTPS port; 0 when off. */
unsigned ftp_server_port(const struct ftp_server *s, int implicit);

#endif
