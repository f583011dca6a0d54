/*
 * testutil.h - helpers shared by the chipssl unit tests: where the test PKI
 * lives (CHIPSSL_PKI_DIR, written by tests/pki/mkpki.sh), loading it into the
 * process's PKI store, and loopback sockets made with the RTOS calls.
 *
 * Nothing here asserts: helpers return what the library returned, so they
 * may be called from any thread (cmocka's assertions may not). The shared
 * helpers that fail the test, and the group fixtures and test-table macros,
 * are in tu_cmocka.h (main test thread only).
 */
#ifndef CHIPSSL_TESTUTIL_H
#define CHIPSSL_TESTUTIL_H

#include <stddef.h>

#include "tcpip.h"

#define TU_PATH_MAX 4096
#define TU_WAIT_MS 10000 /* generous: a wait that normally ends at once */

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

/* ---------------------------------------------------------- PKI fixture */

/* The number of elements of the array a. */
#define TU_N(a) (sizeof(a) / sizeof((a)[0]))

/* PKI_CERT_NONLOCAL | PKI_CERT_ROOTCA: the type of a trusted root. */
#define TU_ROOT (PKI_CERT_NONLOCAL | PKI_CERT_ROOTCA)

/* A NONLOCAL entry of the PKI directory (PEM): a root (type TU_ROOT), an
 * intermediate CA (PKI_CERT_NONLOCAL) or a CRL (PKI_CERT_CRL), issued by
 * caid (NULL for a root). */
struct tu_cert {
    const char *file;
    int type;
    const char *id, *caid;
};

/* An own certificate: the key (PEM) of keytype, then the certificate (PEM)
 * added LOCAL under id, issued by caid (NULL: none). */
struct tu_own {
    const char *key;
    int keytype;
    const char *cert, *id, *caid;
};

/* What a test program loads for its cases: always the root "ca" (ca.pem),
 * then the NONLOCAL entries certs[0..ncerts), then the own certificates
 * own[0..nown), in that order. Each array may be NULL with count 0. */
struct tu_pki {
    const struct tu_cert *certs;
    size_t ncerts;
    const struct tu_own *own;
    size_t nown;
    /* 1: an own certificate that cannot be added is reported on stderr and
     * skipped (only the cases that use it fail); 0: it fails tu_pki_add. */
    int lenient;
};

/* The common case: the root "ca" and the RSA server certificate "srv"
 * (server.key, server.pem; CN and SAN localhost). */
extern const struct tu_pki tu_pki_srv;

/* Adds what p lists. 0, or -1 with "setup: <file>: *error <n>" on stderr;
 * what was added before the failure stays (the group does not run). */
int tu_pki_add(const struct tu_pki *p);

/* Deletes what p lists, in the reverse order; entries that are not there
 * (any more) are passed over. */
void tu_pki_del(const struct tu_pki *p);

/* setsockopt/getsockopt at IP_PROTOTCP_LEVEL with an int value. */
int tu_setopt(int sd, int name, int value, int *error);
/* setsockopt at any level (SOL_SOCKET, ...) with an int value. */
int tu_setopt_level(int sd, int level, int name, int value, int *error);
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

/* A client socket of session sid connected to a plain TCP listener on the
 * IPv4 loopback (written to *lsn) that never answers, with the handshake
 * limit TCP_SSL_CONNECT_TIMEOUT of limit_s seconds (0: none set). Returns
 * the sd, or -1 with *error set and nothing left open. */
int tu_silent_server(int sid, int limit_s, int *lsn, int *error);

/* One socket option with an int value; a list of them ends with name 0. */
struct tu_opt {
    int level; /* IP_PROTOTCP_LEVEL, SOL_SOCKET, ... */
    int name;
    int value;
};

/* tu_client, with the options of the list opts (may be NULL) set on the
 * socket before connect. */
int tu_client_opts(int family, int sid, unsigned short port, const struct tu_opt *opts, int *error);

/* Reads exactly len bytes into buf, each recv with MSG_TIMEOUT ms; returns
 * the bytes read: fewer when a recv failed (*error set) or the stream
 * ended. */
int tu_recv_all(int sd, void *buf, int len, int ms, int *error);

/* Wait up to ms for fd to become readable (1), or not (0). */
int tu_readable(int fd, int ms);

/* ------------------------------------------------------------- sessions */

/* What tu_session_new makes: SSL_SessionNew, then the options, the client CA
 * and the proposal list, in that order, each only where it is set. */
struct tu_scfg {
    int version;           /* SSL_VERSION_* mask; 0: TLS 1.2 + 1.3 */
    const char *cert;      /* certIdentity */
    int caches;            /* maxCaches */
    int opt1, opt2, opt3;  /* SSL_SessionOpt options 1..3 */
    const char *client_ca; /* SSL_AddClientCA (server) */
    const int *props;      /* SSL_SessionProp list (nprops entries) or NULL */
    int nprops;
};

/* Which step of tu_session_new failed (its negative results). */
enum {
    TU_SN_NEW = -1,       /* SSL_SessionNew */
    TU_SN_OPT1 = -2,      /* option 1 */
    TU_SN_OPT2 = -3,      /* option 2 */
    TU_SN_OPT3 = -4,      /* option 3 */
    TU_SN_CLIENT_CA = -5, /* SSL_AddClientCA */
    TU_SN_PROPS = -6,     /* SSL_SessionProp */
};

/* The session of c: its sid (> 0), or a TU_SN_* code with *error set (a
 * session made before the failing step is closed again). */
int tu_session_new(const struct tu_scfg *c, int *error);

/* What failed, for a message: "SSL_SessionNew(<cert>): <error>",
 * "option 1: <error>", "SSL_AddClientCA(<ca>): <error>", ... for the
 * TU_SN_* code of tu_session_new(c). Written to buf; returns buf. */
char *tu_session_msg(char *buf, size_t size, int code, const struct tu_scfg *c, int error);

/* SSL_SessionClose of sid when sid > 0. */
void tu_session_close(int sid);

/* SSL_GetConnState (copied to *st, zeroed when it fails; *st_ok says which)
 * and SSL_GetProblem (zeroed with alert -100 when it fails) of sd. */
void tu_snapshot(int sd, SSL_CONN_STATE *st, int *st_ok, SslProblemS *prob);

/* --------------------------------------------------------------- pairs */

/* Two ends of an established SSL connection on the loopback interface. */
struct tu_pair {
    int lsn, cli, srv;    /* -1: none */
    int cli_sid, srv_sid; /* 0: none */
    int cli_hs, srv_hs;   /* handshake results; cli_hs < -89: set-up failed */
    int error;            /* of the client's failed step */
};

/* The client of p->cli_sid connected to the listener p->lsn (family, port),
 * with the options cli_opts (may be NULL) set before connect, then
 * SSL_ClientStart(name) and both handshakes; the server end accepts and
 * runs SSL_HandshakeComplete in a thread, joined before the return.
 * 0 when both handshakes returned 1: p->cli and p->srv are blocking and
 * owned by the caller. Otherwise -1, with cli_hs (-90: socket or option,
 * -92: SSL_ClientStart, else the handshake), srv_hs (-1: no accept) and
 * error; p->cli and p->srv are closed and -1. */
int tu_pair_connect(struct tu_pair *p, int family, unsigned short port, const char *name,
                    const struct tu_opt *cli_opts);

/* Sessions (version for both; the server's certificate "srv"), a listener
 * of family (0: AF_INET) with the options lsn_opts, then tu_pair_connect
 * with name (NULL: "localhost"). 0 or -1 as tu_pair_connect (cli_hs -93: a
 * session, -94: the listener or one of its options); on -1 nothing is left
 * open. */
int tu_pair_open(struct tu_pair *p, int family, int version, const char *name,
                 const struct tu_opt *lsn_opts, const struct tu_opt *cli_opts);

/* Close what p holds (sockets, then sessions); all become -1 / 0. */
void tu_pair_close(struct tu_pair *p);

/* ------------------------------------------------ one whole connection */

/* What one end of a connection made with tu_conn did. */
struct tu_end {
    int hs;                  /* SSL_HandshakeComplete(SSL_WAIT_FOREVER); -99: no socket
                                (connect or accept failed), -98: SSL_ClientStart failed */
    int error;               /* of the failed set-up step */
    int data;                /* 1: "ping" went to the server and "pong" came back */
    int data_rc, data_err;   /* client: the recv of "pong"; server: of "ping" */
    int eos_rc, eos_err;     /* the recv that waited for the peer's end of stream
                                (0/0 when it came); 1 when none was awaited */
    int close_notify;        /* SSL_CONN_STATE.closeNotify after that recv */
    int close_rc, close_err; /* SSL_ConnClose of a clean close (0/0 if none) */
    int st_ok;               /* st holds SSL_GetConnState after the data exchange */
    SSL_CONN_STATE st;
    SslProblemS prob; /* SSL_GetProblem (alert -100: the call failed) */
};

/* tu_conn flags: how an end closes. Without them, an end closes cleanly
 * with SSL_ConnClose. */
#define TU_CLI_RUDE 0x1 /* the client ends with closesocket() only */
#define TU_SRV_RUDE 0x2 /* the server ends with closesocket() only */

/* The close order of tu_conn, which makes every wait end at once even when a
 * close_notify goes missing: the client closes first, SSL_ConnClose and then
 * the TCP FIN behind it (shutdown 1); the server reads up to the end of the
 * stream, closes (SSL_ConnClose, closesocket), and the client reads its end
 * of the stream. A FIN always follows, so a lost close_notify shows as
 * close_notify 0 in tu_end (and tu_conn_check says so) instead of a recv
 * that waits for its time-out. */

/* Client side of tu_conn, in two steps: tu_cli_open connects to the loopback
 * address of family (0: AF_INET) and port with session sid, calls
 * SSL_ClientStart(name) and SSL_HandshakeComplete; returns the sd (-1 when
 * no socket). tu_cli_finish sends "ping", reads "pong" (when the handshake
 * gave 1), takes the snapshot, closes (flags TU_CLI_RUDE) and closes the sd
 * (nothing happens for sd < 0). */
int tu_cli_open(int family, int sid, unsigned short port, const char *name, struct tu_end *cli);
void tu_cli_finish(int sd, int flags, struct tu_end *cli);

/* Server side of tu_conn on an accepted sd: handshake, "ping" -> "pong",
 * snapshot, the client's end of stream, close (flags TU_SRV_RUDE), and
 * closesocket of sd. */
void tu_serve(int sd, int flags, struct tu_end *srv);

/* One whole connection: a thread accepts on lsn and runs tu_serve while
 * this thread runs tu_cli_open + tu_cli_finish (IPv4 loopback, port); the
 * thread is joined before the return. srv->hs -99: nothing was accepted
 * within TU_WAIT_MS. */
void tu_conn(int lsn, unsigned short port, int cli_sid, const char *name, int flags,
             struct tu_end *cli, struct tu_end *srv);

/* 1 when both ends of tu_conn (flags as given to it) handshook, exchanged
 * ping/pong and closed as they should: each end read the end of the stream,
 * and a cleanly closing end's close_notify reached its peer. Otherwise 0,
 * with "<what>: ..." telling the first thing that went wrong in buf. srv may
 * be NULL (a server this process does not see: only the client is checked). */
int tu_conn_check(const char *what, const struct tu_end *cli, const struct tu_end *srv, int flags,
                  char *buf, size_t size);

/* Monotonic clock in seconds. */
double tu_now(void);

#endif /* CHIPSSL_TESTUTIL_H */
