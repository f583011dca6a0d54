/*
 * socket.h - the per-descriptor record of the socket layer.
 *
 * Every socket the library opened or accepted, or on which an SSL option was
 * set, has a record in a table indexed by descriptor. The table grows in
 * blocks of 1024 slots and lookups take no lock: a socket is used by one
 * thread at a time, so only creation and removal of a record need care.
 */
#ifndef CHIPSSL_SOCKET_H
#define CHIPSSL_SOCKET_H

#include "internal.h"

#define SSL_MODE_NONE   0
#define SSL_MODE_CLIENT 1
#define SSL_MODE_SERVER 2

/* Handshake progress as the socket layer tracks it. */
#define HS_IDLE    0 /* not started */
#define HS_RUNNING 1
#define HS_DONE    2
#define HS_FAILED  3 /* handshake or later fatal error: ECONNABORTED */

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
    int shut_wr;          /* SSL_ConnClose or shutdown(send) done */
    int listening;        /* listen() was called: never a TLS connection */
    int close_pending;    /* SSL_ConnClose could not finish (non-blocking) */
    int close_sent;       /* SSL_ConnClose sent close_notify */
    /* SSL configuration (socket options) */
    int ssl_mode;
    struct chip_session *sess;
    int connect_timeout;  /* seconds, 0 = none */
    int send_min, send_max;
    /* SSL runtime */
    struct tls_conn *tls;
    int hs;               /* HS_* */
    int64_t deadline;     /* handshake time limit (CHIP_FOREVER: none) */
    short want;           /* POLLIN/POLLOUT the engine waits for */
    unsigned char *out;   /* plaintext not yet written (hold-back) */
    int out_off, out_len;
    int out_committed;    /* the engine holds a record of out[] in flight */
    int committed_len;
    SSL_CONN_STATE st;
};

/* The record of fd, or NULL. */
struct chip_sock *sock_get(int fd);
/* A fresh record for fd (any old one is freed), or NULL with *error. */
struct chip_sock *sock_new(int fd, int family, int type, int *error);
/* The record of fd, created when fd is a socket without one; NULL with
 * *error API_EBADF / API_ENOTSOCK / API_ENOMEM. */
struct chip_sock *sock_lookup(int fd, int *error);
/* Free the record of fd (if any). */
void sock_remove(int fd);

/* SSL socket layer (sslsock.c). deadline: how long a call may wait. */
int sslsock_send(struct chip_sock *s, const unsigned char *buf, int len,
                 int blocking, int *error);
int sslsock_recv(struct chip_sock *s, unsigned char *buf, int len, int peek,
                 int64_t deadline, int *error);
void sslsock_release(struct chip_sock *s);
/* Copy the SSL settings of a listener to an accepted socket. */
void sslsock_inherit(struct chip_sock *child, const struct chip_sock *listener);
int sslsock_set_option(struct chip_sock *s, int name, int value, int *error);
int sslsock_get_option(struct chip_sock *s, int name, int *value);

/* 1 when fd is in non-blocking mode. */
int fd_nonblocking(int fd);

#endif
