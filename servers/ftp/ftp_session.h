/*
 * ftp_session.h - one FTP control connection as a pure state machine.
 *
 * The server feeds the control stream's bytes to ftp_session_input; every
 * complete line goes through ftp_cmd_parse -> ftp_cmd_allowed -> the
 * command's action. Commands that need no socket (login via io->login,
 * PWD, CWD, CDUP, MKD, RMD, DELE, RNFR/RNTO, SIZE, MDTM, MLST, REST, TYPE,
 * MODE, STRU, PBSZ, PROT, FEAT, SYST, STAT, NOOP, HELP, OPTS, QUIT, ALLO)
 * run here; the others are handed to struct ftp_io after their checks
 * (bounce check of PORT/EPRT against the peer, path resolution, the file
 * opened for reading, the upload opened per KEEP_PARTIAL, the listing
 * started). Replies go out through io->reply only.
 *
 * Memory: the session owns its account root descriptor (ftp_session_free).
 * A transfer's descriptor, store or lister belongs to io once io->transfer
 * returned 0; otherwise the session releases it.
 */
#ifndef CHIPD_FTP_SESSION_H
#define CHIPD_FTP_SESSION_H

#include <stddef.h>
#include <sys/socket.h>

#include "ftp_cmd.h"
#include "ftp_list.h"
#include "ftp_path.h"

/* Failed PASS replies before the connection is closed (421). */
#define FTP_LOGIN_TRIES 3
#define FTP_USER_MAX 256

/* What io->login gives for a good user and password. */
struct ftp_account {
    char root[FTP_PATH_MAX]; /* the account's root on the host */
    int anonymous;           /* read-only */
};

/* A data transfer handed to io->transfer. Exactly one resource is open:
 * fd (RETR), store (STOR, APPE) or lister (LIST, NLST, MLSD). */
struct ftp_xfer {
    enum ftp_verb verb;
    char type;                 /* 'A' or 'I' */
    unsigned long long offset; /* REST offset (RETR: where to start reading) */
    int fd;                    /* RETR: the file, read-only; -1 otherwise */
    struct ftp_store store;    /* STOR/APPE: write to store.fd, then ftp_store_commit/abort */
    struct ftp_lister lister;  /* listings: ftp_list_read, then ftp_list_close */
    char vpath[FTP_PATH_MAX];
};

/* The server's side. Every function is required. ctx is io->ctx. */
struct ftp_io {
    void *ctx;
    /* Writes reply text (complete replies, CRLF-terminated). 0 or -1. */
    int (*reply)(void *ctx, const char *text, size_t len);
    /* AUTH TLS accepted (234 already written): start the handshake now. 0 or -1. */
    int (*start_tls)(void *ctx);
    /* Checks a login. 0 with *acct filled, or -1 (wrong user or password). */
    int (*login)(void *ctx, const char *user, const char *pass, struct ftp_account *acct);
    /* PASV/EPSV: opens a listener; *hp is the address to announce. 0 or a
     * reply code (425). */
    int (*passive)(void *ctx, struct ftp_hostport *hp);
    /* PORT/EPRT (already bounce-checked): remembers where to connect. 0 or a code. */
    int (*active)(void *ctx, const struct ftp_hostport *hp);
    /* Starts a transfer on the prepared data connection; the session has
     * written nothing yet for it. 0: started, io owns x's resource, and the
     * server calls ftp_session_transfer_end when it ends; or a reply code
     * (425) and the session releases the resource. */
    int (*transfer)(void *ctx, struct ftp_xfer *x);
    /* ABOR or QUIT during a transfer: stop it and release its resource
     * (the session has already forgotten it: a later
     * ftp_session_transfer_end does nothing). */
    void (*abort)(void *ctx);
};

struct ftp_session_config {
    int require_tls;              /* [FTP] REQUIRE_TLS */
    int keep_partial;             /* [FTP] KEEP_PARTIAL */
    int implicit_tls;             /* the control connection is TLS from the start */
    int no_tls;                   /* no FTPS session: AUTH refused, FEAT without AUTH/PBSZ/PROT */
    struct sockaddr_storage peer; /* the client's address (PORT/EPRT bounce check) */
};

struct ftp_session {
    struct ftp_line line;
    struct ftp_state st;
    struct ftp_session_config cfg;
    const struct ftp_io *io;
    struct ftp_root root; /* fd -1 until logged in */
    char user[FTP_USER_MAX];
    char cwd[FTP_PATH_MAX];
    char rnfr[FTP_PATH_MAX]; /* the RNFR path (st.rnfr) */
    unsigned long long rest; /* REST offset, for the next transfer */
    char type;               /* 'A' or 'I' */
    int data_ready;          /* PASV/EPSV/PORT/EPRT done, not yet used */
    int epsv_all;            /* EPSV ALL: PASV, PORT, EPRT refused */
    int failed_logins;
    int closed;     /* QUIT answered, or too many failures: close the connection */
    int quit_after; /* QUIT during a transfer: 221 and close once it ends (RFC 959) */
    struct ftp_xfer xfer;
};

/* ftp_session_init - a new connection: writes the 220 greeting. Returns 0
 * or -1 (io->reply failed). */
int ftp_session_init(struct ftp_session *s, const struct ftp_session_config *cfg,
                     const struct ftp_io *io);
void ftp_session_free(struct ftp_session *s);

/* ftp_session_input - the control stream's next bytes. Every complete line
 * runs now. After AUTH TLS is accepted the rest of the buffer is dropped
 * (bytes sent in the clear before the handshake are never taken as
 * commands: CVE-2011-0411). Returns 0, 1 when the connection is to be
 * closed (s->closed), or -1 (io->reply or io->start_tls failed). */
int ftp_session_input(struct ftp_session *s, const char *bytes, size_t len);

/* ftp_session_transfer_end - the transfer io started has ended: 226 when
 * ok, else code (426 cut off, 451 local error). Returns 0 or -1. */
int ftp_session_transfer_end(struct ftp_session *s, int ok, int code);
/* ftp_session_transfer_fail - as ftp_session_transfer_end(s, 0, code) with
 * the reply's text. */
int ftp_session_transfer_fail(struct ftp_session *s, int code, const char *text);

#endif
