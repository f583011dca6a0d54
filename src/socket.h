/*
 * socket.h - the per-descriptor record of the socket layer.
 *
 * Every socket the library opened or accepted, or on which an SSL option was
 * set, has a record in a table indexed by descriptor. The table grows in
 * blocks of 1024 slots and lookups take no lock: a socket is used by one
 * thread at a time, so only creation and removal of a record need care.
 *
 * Layers, each using only the ones below it (no circle):
 *   sockets.c   the RTOS socket calls; frees records (sslsock_release + free)
 *   sslsock.c   SSL sockets: options, the drive loop, SSL_* calls
 *   socktable.c the descriptor -> record table (knows nothing of TLS)
 */
#ifndef CHIPSSL_SOCKET_H
#define CHIPSSL_SOCKET_H

#include "internal.h"

#define SSL_MODE_NONE   0
#define SSL_MODE_CLIENT 1
#define SSL_MODE_SERVER 2

/* Largest TLS plaintext record (RFC 8446 5.1): the hold-back buffer size. */
#define CHIP_RECORD_MAX 16384

struct chip_session;
struct tls_conn;

struct chip_sock {
    int fd;
    int family;           /* AF_INET / AF_INET6 / 0 unknown */
    int type;             /* SOCK_STREAM / SOCK_DGRAM */
    int last_error;       /* for get_socketerror() */
    int eof;              /* end of stream already reported once */
    int shut_wr;          /* SSL_ConnClose done or shutdown(send) */
    int listening;        /* listen() was called: never a TLS connection */
    int close_pending;    /* SSL_ConnClose started, not finished (non-blocking) */
    int close_sent;       /* SSL_ConnClose sent close_notify */
    /* SSL configuration (socket options) */
    int ssl_mode;
    struct chip_session *sess;
    int connect_timeout;  /* seconds, 0 = none */
    int send_min, send_max;
    /* SSL runtime. The handshake state and the failure record are the
     * engine's (tls_conn_hs_state, tls_conn_problem): none kept here. */
    struct tls_conn *tls;
    int64_t deadline;     /* handshake time limit (CHIP_FOREVER: none) */
    short want;           /* POLLIN/POLLOUT the engine waits for */
    unsigned char *out;   /* plaintext not yet written (hold-back) */
    int out_off, out_len;
    int out_committed;    /* the engine holds a record of out[] in flight */
    int committed_len;
    unsigned long long bytes_in, bytes_out; /* plaintext through recv/send */
    SSL_CONN_STATE *st;   /* what SSL_GetConnState hands out, made by its
                             first call (most sockets never need one) */
};

/* ---- the table (socktable.c) ---- */

/* The record of fd, or NULL. */
struct chip_sock *sock_get(int fd);
/* A fresh record for a descriptor the OS just handed out: any record left
 * under that number (closed with libc's close()) is taken out first and
 * returned in *stale for the caller to free. 0, or -API_ENOMEM/-API_EMFILE. */
int sock_new(int fd, int family, int type, struct chip_sock **out,
             struct chip_sock **stale);
/* The record of fd, created when fd is a socket without one. 0, or
 * -API_EBADF / -API_ENOTSOCK / -API_ENOMEM / -API_EMFILE. */
int sock_lookup(int fd, struct chip_sock **out);
/* Take the record of fd out of the table; the caller frees it. */
struct chip_sock *sock_take(int fd);

/* The API boundary of a call on a socket: chip_return(), and a failure is
 * remembered for get_socketerror(). */
static inline int sock_return(struct chip_sock *s, int *error, int rc)
{
    if (s && rc < 0)
        s->last_error = -rc;
    return chip_return(error, rc);
}

/* 1 when fd is in non-blocking mode. */
int fd_nonblocking(int fd);

/* A deadline for "as the descriptor's mode says": no limit in blocking
 * mode, no wait in non-blocking mode. The mode costs a system call, so a
 * call passes CHIP_IF_BLOCKING and resolves it with sock_deadline only when
 * it is about to wait, which most calls never do. */
#define CHIP_IF_BLOCKING INT64_C(-1)
static inline int64_t sock_deadline(int fd, int64_t deadline)
{
    return deadline != CHIP_IF_BLOCKING ? deadline : fd_nonblocking(fd) ? 0 : CHIP_FOREVER;
}

/* ---- the SSL socket layer (sslsock.c), used by sockets.c ----
 * deadline: how long a call may wait (0: not at all, CHIP_FOREVER,
 * CHIP_IF_BLOCKING). */
int sslsock_send(struct chip_sock *s, const unsigned char *buf, int len,
                 int64_t deadline);
int sslsock_recv(struct chip_sock *s, unsigned char *buf, int len, int peek,
                 int64_t deadline);
/* Free the SSL part of a record (the record itself stays). */
void sslsock_release(struct chip_sock *s);
/* 1 when the connection failed after this side sent a fatal alert: closing
 * it must let the alert reach the peer (sockets.c closesocket). */
int sslsock_alert_sent(const struct chip_sock *s);
/* Copy the SSL settings of a listener to an accepted socket. */
void sslsock_inherit(struct chip_sock *child, const struct chip_sock *listener);
int sslsock_set_option(struct chip_sock *s, int name, int value);
int sslsock_get_option(const struct chip_sock *s, int name, int *value);

#endif
