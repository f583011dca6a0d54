/*
 * testutil.h - helpers shared by the chipssl unit tests: where the test PKI
 * lives (CHIPSSL_PKI_DIR, written by tests/pki/mkpki.sh), loading it into the
 * process's PKI store, and loopback sockets made with the RTOS calls.
 *
 * Nothing here asserts: helpers return what the library returned, so they
 * may be called from any thread (cmocka's assertions may not).
 */
#ifndef CHIPSSL_TESTUTIL_H
#define CHIPSSL_TESTUTIL_H

#include <stddef.h>

#define TU_PATH_MAX 4096

/* Exit(1) with a clear message unless CHIPSSL_PKI_DIR names a directory
 * holding the generated PKI. Call first in main() of tests that need it. */
void tu_require_pki(void);

/* "<CHIPSSL_PKI_DIR>/<name>" into dst (TU_PATH_MAX bytes is enough); returns
 * dst. name starting with '/' is used as is. */
char *tu_path(char *dst, size_t size, const char *name);

/* The whole file `name` of the PKI directory, malloc'ed and NUL-terminated;
 * *len (may be NULL) excludes the NUL. NULL when it cannot be read. */
char *tu_read(const char *name, size_t *len);

/* PKI_CertificateAdd of the PKI file `file` (a file name; with
 * PKI_FMT_MEMORY in fmt, its content is passed instead) under the
 * NUL-terminated id. */
int tu_add_cert(const char *file, int fmt, int type, const char *id, const char *caid, int *error);

/* PKI_OwnKeyPairAdd of the PKI file `file` (as tu_add_cert for MEMORY). */
int tu_add_key(const char *file, int fmt, int keytype, int *error);

/* Key (PEM file) then its LOCAL certificate (PEM file) under id. Returns
 * the PKI_CertificateAdd result; a failed key add returns -1 with its error. */
int tu_add_local(const char *keyfile, int keytype, const char *certfile, const char *id,
                 const char *caid, int *error);

/* setsockopt/getsockopt at IP_PROTOTCP_LEVEL with an int value. */
int tu_setopt(int sd, int name, int value, int *error);
int tu_getopt(int sd, int name, int *value, int *error);

/* A listening TCP socket on the loopback address of family (AF_INET or
 * AF_INET6), port chosen by the OS (written to *port, host order). With
 * sid > 0 it is an SSL server socket of that session. Returns sd or -1
 * (*error set). */
int tu_listener(int family, int sid, unsigned short *port, int *error);

/* A TCP socket connected to the loopback address of family, port; with
 * sid > 0 marked TCP_SSL_CLIENT and bound to the session (before connect).
 * Returns sd or -1 (*error set). */
int tu_client(int family, int sid, unsigned short port, int *error);

/* Monotonic clock in seconds. */
double tu_now(void);

#endif /* CHIPSSL_TESTUTIL_H */
