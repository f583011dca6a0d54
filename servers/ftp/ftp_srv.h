/*
 * ftp_srv.h - the FTP server's insides shared by its files: the server
 * record, the control connection, the data connection.
 *
 *   ftp_server.c  set-up: listeners, the loop, accounts and logins, the
 *                 original's counter and timeout calls, the transfer log
 *   ftp_tls.c     the chipssl session (option 2 on, a resumption cache)
 *   ftp_conn.c    the control connection: TLS, lines into ftp_session,
 *                 replies out, login delay, idle timeout, clean close
 *   ftp_data.c    data connections: passive listeners, active connects,
 *                 TLS that must resume the control session, the transfers
 *
 * Every connection lives on one loop worker. A control connection and its
 * data connection (a separate loop_conn, added after it on the same
 * worker) are only touched from that worker. Records are freed through
 * loop_post, so an event already taken from epoll in the same batch never
 * finds freed memory (it finds dead = 1).
 *
 * The status page (../web/web_stats.h): every control connection and every
 * connected data socket has an entry (st), opened with the socket and
 * closed before it. Its state is a constant text (never a user or file
 * name: the page may be public); requests are answered commands.
 */
#ifndef CHIPD_FTP_SRV_H
#define CHIPD_FTP_SRV_H

#include "config.h"
#include "ftp_ascii.h"
#include "ftp_session.h"
#include "loop.h"
#include "srv_tls.h"
#include "web_stats.h"

#include <netinet/in.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>

#define FTP_IN_MAX 4096     /* control input held (one line at a time goes to the session) */
#define FTP_DATA_BUF 262144 /* transfer block */
#define FTP_ASCII_RAW 65536 /* TYPE A: file bytes read per block before conversion */
#define FTP_LINGER_MS 2000  /* reading what a closing peer still sends */
#define FTP_CLOSE_MS 5000   /* flushing the last replies */

struct ftp_ip_count {
    unsigned char addr[16];
    unsigned n;
};

struct ftp_server {
    struct chip_config cfg; /* account list: ftp_server owns a copy */
    struct loop *loop;
    int listen_sd[2]; /* [0] control, [1] implicit FTPS; -1 when off */
    unsigned port[2];
    struct srv_tls tls; /* the FTPS session (tls.on: one exists) */
    atomic_uint nconns;
    pthread_mutex_t ip_mu; /* per-address counts */
    struct ftp_ip_count *ips;
    size_t nips, ips_cap;
    pthread_mutex_t log_mu;
    FILE *xfer_log;
    void *listen_ctx;
};

enum ftp_conn_state {
    FC_HANDSHAKE,   /* TLS handshake (implicit port, or after AUTH TLS) */
    FC_READY,       /* commands */
    FC_TLS_PENDING, /* AUTH TLS answered: the 234 goes out in the clear first */
    FC_CLOSING,     /* the last replies, then close_notify, then FIN */
    FC_LINGER,      /* closed our side; reading until the peer closes */
};

struct ftp_data;

struct ftp_conn {
    struct loop_conn lc;
    struct web_stats_conn st; /* the status page's entry ("ftp") */
    unsigned pending;         /* command lines not yet answered (the requests count) */
    struct ftp_server *srv;
    struct ftp_session sess;
    struct ftp_io io;
    enum ftp_conn_state state;
    int implicit;
    int tls;        /* the control connection runs TLS */
    int session_id; /* its chipssl session (data connections use the same) */
    int dead;
    int hold;               /* login delay: replies held, input not read */
    int counted;            /* in the per-address table */
    int stopping;           /* the server stops */
    int data_kick;          /* a transfer was set up: progress it after the reply */
    int busy;               /* conn_progress is running the data side: no nested call */
    int rd_closed;          /* the client closed after QUIT: its transfer still ends first */
    unsigned char addr[16]; /* the peer's address, IPv4 as ::ffff:a.b.c.d */
    struct sockaddr_storage peer, local;
    char peer_text[INET6_ADDRSTRLEN];
    char in[FTP_IN_MAX];
    size_t in_len;
    char *out;
    size_t out_len, out_off, out_cap;
    struct ftp_data *data; /* the prepared or running data connection */
    char *xbuf, *xraw;     /* transfer blocks, kept for the connection's next transfers */
};

enum ftp_data_state {
    FD_IDLE,       /* active mode: the address is known, no socket yet */
    FD_LISTEN,     /* passive: listening */
    FD_CONNECTING, /* active: connect running */
    FD_CONNECTED,  /* connected, waiting for the transfer command */
    FD_HANDSHAKE,  /* TLS handshake of the data connection (PROT P: at once) */
    FD_TLS_READY,  /* handshake done; the transfer command checks it */
    FD_XFER,       /* moving bytes */
    FD_CLOSING,    /* close_notify pending */
    FD_LINGER,     /* detached from the control connection, reading until EOF */
};

struct ftp_data {
    struct loop_conn lc;      /* lc.fd -1 while there is no socket */
    struct web_stats_conn st; /* the status page's entry ("ftp-data") */
    int st_open;              /* st is in the registry (a connection, not a listener) */
    struct loop_worker *w;    /* the control connection's worker */
    struct ftp_conn *conn;    /* NULL once detached (lingering) */
    enum ftp_data_state state;
    int dead;
    int added;                      /* lc is in the loop */
    struct sockaddr_storage target; /* active mode */
    int have_xfer;
    int tls;
    int started_tls; /* the TLS handshake has begun */
    int recv_side;   /* STOR/APPE */
    int eof;         /* RETR/listing: nothing more to read */
    struct ftp_xfer x;
    struct ftp_ascii asc;
    unsigned long long pos;   /* RETR: next file offset */
    unsigned long long bytes; /* moved over the data connection */
    char *buf;
    size_t len, off;
    char *raw;
    size_t raw_len, raw_off;
};

/* ftp_server.c */
int ftp_server_login(struct ftp_server *s, const char *user, const char *pass,
                     struct ftp_account *acct);
void ftp_server_xfer_log(struct ftp_server *s, const struct ftp_conn *c, const struct ftp_xfer *x,
                         unsigned long long bytes, int complete);
void ftp_server_ip_release(struct ftp_server *s, const unsigned char addr[16]);
/* 0 when the address may have another session, else -1 (counted when 0). */
int ftp_server_ip_take(struct ftp_server *s, const unsigned char addr[16]);

/* ftp_conn.c */
void ftp_conn_accept(struct ftp_server *srv, struct loop_worker *w, int sd, int implicit,
                     const struct sockaddr_storage *peer);
/* A reply of the server's own (not through the session), e.g. 522. */
void ftp_conn_reply(struct ftp_conn *c, int code, const char *text);
/* Send what is pending and go on with the control connection (after a
 * data connection changed something). */
void ftp_conn_progress(struct ftp_conn *c);
/* A transfer ended (226 or an error): the control connection's idle time
 * starts now, not at the transfer command (a transfer that failed on the
 * data connection's own limit is not followed at once by 421). */
void ftp_conn_transfer_ended(struct ftp_conn *c);
void ftp_conn_defer_free(struct loop_worker *w, void *p);
/* The status page's text of a transfer verb: "transfer: RETR", ... */
const char *ftp_conn_transfer_text(enum ftp_verb v);

/* ftp_data.c: the ftp_io calls of a connection, and the teardown. */
int ftp_data_passive(struct ftp_conn *c, struct ftp_hostport *hp);
int ftp_data_active(struct ftp_conn *c, const struct ftp_hostport *hp);
int ftp_data_transfer(struct ftp_conn *c, struct ftp_xfer *x);
/* Stop the data connection now (ABOR, QUIT, the control connection ends,
 * the server stops): the transfer's resource is released, the upload
 * aborted, the transfer logged as aborted. */
void ftp_data_abort(struct ftp_conn *c);
/* Progress after the control connection answered (150 sent). */
void ftp_data_kick(struct ftp_conn *c);

/* ftp_tls.c */
int ftp_tls_setup(struct ftp_server *srv, char *err, size_t errlen, int *api_error);
int ftp_tls_reload(struct ftp_server *srv);
void ftp_tls_cleanup(struct ftp_server *srv);

#endif
