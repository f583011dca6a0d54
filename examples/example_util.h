/*
 * example_util.h - small helpers shared by the example programs. They use
 * nothing but the public API (tcpip.h) and the C library.
 */
#ifndef EXAMPLE_UTIL_H
#define EXAMPLE_UTIL_H

#include "tcpip.h"

/* Add an own key (of whatever supported type it is) and its certificate as
 * LOCAL entry `id`. Returns 0, or -1 after printing why. */
int ex_add_own_cert(const char *cert_file, const char *key_file, const char *id);
/* Add a CA certificate as root CA under `id`. */
int ex_add_root_ca(const char *file, const char *id);
/* Add a CRL (PEM) under `id`. */
int ex_add_crl(const char *file, const char *id);
/* add(files[i], "<prefix><i>") for each file; 0, or -1 at the first failure. */
int ex_add_each(const char *const *files, int n, const char *prefix,
                int (*add)(const char *file, const char *id));
/* Parse "1,2" into SSL_SessionOpt calls on the session. */
int ex_set_options(int session, const char *list);
/* Parse "0xC02F,0x1301" into SSL_SessionProp. */
int ex_set_suites(int session, const char *list);
/* "TLS1.2" / "TLS1.3" for a version bit. */
const char *ex_version_name(int version);
/* Print the handshake outcome of sd to f with a prefix ("HANDSHAKE", "CONN").
 * Returns 1 when the handshake succeeded. */
int ex_report(void *f, const char *prefix, int sd, int ok);

#endif
