/*
 * example_util.h - small helpers shared by the example programs. They use
 * nothing but the public API (tcpip.h) and the C library. Every message is
 * words: numbers from the library go through chipssl_strerror,
 * chipssl_certflags_text, chipssl_alert_text, chipssl_suite_name and
 * chipssl_version_name (tcpip.h section 10).
 */
#ifndef EXAMPLE_UTIL_H
#define EXAMPLE_UTIL_H

#include "tcpip.h"

#include <stdio.h>

/* "connection refused (API_ECONNREFUSED)" for an API_E... code, into buf;
 * returns buf. */
const char *ex_errtext(int err, char *buf, size_t len);
/* Print "<what>: <words> (<API name>)" on stderr. */
void ex_fail(const char *what, int err);

/* Add an own key (of whatever supported type it is) and its certificate as
 * LOCAL entry `id`. Returns 0 (after printing any warning flags, e.g. an
 * expired own certificate), or -1 after printing why. */
int ex_add_own_cert(const char *cert_file, const char *key_file, const char *id);
/* Add a CA certificate as root CA under `id` (same reporting). */
int ex_add_root_ca(const char *file, const char *id);
/* Add a CRL (PEM) under `id` (same reporting). */
int ex_add_crl(const char *file, const char *id);
/* add(files[i], "<prefix><i>") for each file; 0, or -1 at the first failure. */
int ex_add_each(const char *const *files, int n, const char *prefix,
                int (*add)(const char *file, const char *id));
/* Session options from "1,2" (turn on) or "2=0,3=1" (explicit value):
 * SSL_SessionOpt calls. *on (may be NULL) gets bit 1 << option set for each
 * option turned on, cleared for each turned off. 0, or -1 after printing
 * why. */
int ex_set_options(int session, const char *list, int *on);
/* Proposal list from "0x1302,TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384": IANA
 * numbers or names, in order: SSL_SessionProp. 0, or -1 after printing why. */
int ex_set_suites(int session, const char *list);
/* The list as ex_set_suites reads it, written back as names separated by
 * ", " into buf (for a start-up line); returns buf. */
const char *ex_suites_text(const char *list, char *buf, size_t len);

/* The status line of a connection, one line on f:
 *   <prefix> ok version=TLS 1.3 suite=TLS_AES_128_GCM_SHA256 (0x1301)
 *      resumed=no peer=<subject> flags=none sni=<name sent or received>
 *   <prefix> failed error=connection aborted (253) flags=issuer unknown
 *      (0x10) alert=unknown CA (48) sent=yes state=certificate exchange (2)
 *      reason=<the library's reason>
 * Words first; the number in parentheses is for scripts (the interop tests
 * parse these lines). "-" stands for an empty peer or SNI. Returns ok. */
int ex_report(FILE *f, const char *prefix, int sd, int ok);
/* After a failed send/recv on an established connection, one line on f:
 *   <prefix> <call>: <words> (<API name>); alert <words> (sent by us|the
 *      peer), reason: <the library's reason>
 * the second half when the connection has a problem record. */
void ex_report_io(FILE *f, const char *prefix, int sd, const char *call, int err);

#endif
