/*
 * ftp_cmd.h - the FTP server's command side, pure functions over buffers:
 * the control-line assembler (any split of the byte stream gives the same
 * lines), the verb table, the argument parsers (PORT, EPRT, EPSV, REST,
 * TYPE, MODE, STRU, PROT, PBSZ, AUTH), the table of which command is allowed
 * in which session state, and the reply formatter (RFC 959 4.2). Nothing here
 * allocates, blocks or touches a socket.
 *
 * Memory: every function writes into storage the caller owns (struct
 * ftp_line, reply buffers); nothing is kept between calls.
 */
#ifndef CHIPD_FTP_CMD_H
#define CHIPD_FTP_CMD_H

#include <stddef.h>

/* Longest command line kept, CRLF excluded. RFC 959 sets no limit; 1024
 * holds any path a client sends (vsftpd: 4096 with its own string type). */
#define FTP_LINE_MAX 1024

enum ftp_verb {
    FTP_V_NONE = 0, /* not a known verb: 500 */
    FTP_USER,
    FTP_PASS,
    FTP_AUTH,
    FTP_PBSZ,
    FTP_PROT,
    FTP_CCC,
    FTP_FEAT,
    FTP_SYST,
    FTP_TYPE,
    FTP_MODE,
    FTP_STRU,
    FTP_PWD,
    FTP_CWD,
    FTP_CDUP,
    FTP_MKD,
    FTP_RMD,
    FTP_DELE,
    FTP_RNFR,
    FTP_RNTO,
    FTP_SIZE,
    FTP_MDTM,
    FTP_REST,
    FTP_RETR,
    FTP_STOR,
    FTP_APPE,
    FTP_LIST,
    FTP_NLST,
    FTP_MLSD,
    FTP_MLST,
    FTP_PASV,
    FTP_EPSV,
    FTP_PORT,
    FTP_EPRT,
    FTP_ABOR,
    FTP_STAT,
    FTP_NOOP,
    FTP_QUIT,
    FTP_OPTS,
    FTP_HELP,
    FTP_ALLO,
    FTP_V_COUNT
};

/* Argument rules of a verb (ftp_verb_arg). */
enum ftp_arg { FTP_ARG_NONE, FTP_ARG_OPTIONAL, FTP_ARG_REQUIRED };

/* --- the line assembler ------------------------------------------------ */

/* One control connection's partial line. Zero it (or ftp_line_init) once. */
struct ftp_line {
    char buf[FTP_LINE_MAX + 1]; /* the line so far, NUL-terminated when DONE */
    size_t len;
    size_t dropped; /* bytes beyond FTP_LINE_MAX in the current line */
    int telnet;     /* Telnet state: 0 data, 1 after IAC, 2 after WILL/WONT/DO/DONT */
    int cr;         /* last data byte was CR (CR NUL is a bare CR, RFC 854) */
    int ready;      /* buf holds a finished line: the next call starts afresh */
};

enum {
    FTP_LINE_MORE = 0, /* all input used, no complete line yet */
    FTP_LINE_DONE = 1, /* a line is in buf (len bytes, CR/LF removed) */
    FTP_LINE_LONG = 2  /* a line ended that was longer than FTP_LINE_MAX: answer 500 */
};

void ftp_line_init(struct ftp_line *l);

/* ftp_line_feed - takes bytes of the control stream until a line ends.
 * *used is how many of the n bytes were taken (the rest belongs to the next
 * call). The line ends at LF (CRLF or a bare LF); a CR before it is dropped.
 * Telnet commands are removed (RFC 854: IAC IAC is a 0xFF data byte; IAC
 * WILL/WONT/DO/DONT x and IAC x are dropped, so "IAC IP IAC DM ABOR" is
 * ABOR). After DONE or LONG the next call starts a new line. */
int ftp_line_feed(struct ftp_line *l, const char *in, size_t n, size_t *used);

/* --- commands --------------------------------------------------------- */

struct ftp_cmd {
    enum ftp_verb verb;
    char name[5];    /* the verb as sent, upper case (for "500 XYZ not understood") */
    const char *arg; /* after the first space, never NULL ("" when none) */
};

/* ftp_cmd_parse - splits a line from ftp_line_feed (line[len] must be NUL,
 * as ftp_line_feed leaves it; modified in place: the verb is upper-cased) into verb and argument.
 * The verb ends at the first space; one space separates it from the argument, which is kept as sent
 * (file names may begin or end with spaces). XPWD XCWD XCUP XMKD XRMD
 * (RFC 775, Windows clients) are the same as PWD CWD CDUP MKD RMD.
 * Returns 0, or 500 (empty line, unknown verb, control byte in the line),
 * 502 (a verb of the RFCs this server does not implement: ACCT SMNT REIN
 * STOU SITE, RFC 2228's ADAT MIC CONF ENC, LPRT LPSV, LANG, HOST; verb
 * FTP_V_NONE, name set) or 501 (argument missing or present against the
 * verb's rule). */
int ftp_cmd_parse(char *line, size_t len, struct ftp_cmd *c);

const char *ftp_verb_name(enum ftp_verb v);
enum ftp_arg ftp_verb_arg(enum ftp_verb v);
/* Whether the verb names a path (goes through ftp_path_resolve). */
int ftp_verb_takes_path(enum ftp_verb v);
/* Whether the verb changes the file system (refused to anonymous). */
int ftp_verb_writes(enum ftp_verb v);
/* Whether the verb opens a data connection. */
int ftp_verb_data(enum ftp_verb v);
/* Whether the verb is allowed before login. */
int ftp_verb_prelogin(enum ftp_verb v);

/* --- the state table -------------------------------------------------- */

struct ftp_state {
    int require_tls;  /* [FTP] REQUIRE_TLS */
    int tls;          /* control connection is TLS (after AUTH TLS, or implicit) */
    int pbsz;         /* PBSZ was accepted */
    int prot_private; /* PROT P in force */
    int user_given;   /* USER accepted, PASS expected */
    int logged_in;
    int anonymous; /* read-only */
    int rnfr;      /* RNFR accepted; the next command must be RNTO */
    int transfer;  /* a data transfer is running */
};

/* ftp_cmd_allowed - whether c may run now. Returns 0, or the reply code and
 * sets *why to its text (static):
 *   during a transfer: only ABOR, STAT, QUIT (others 503);
 *   REQUIRE_TLS before AUTH: USER/PASS 530 (RFC 4217 s.4: policy requires TLS),
 *     PBSZ/PROT 503 (RFC 4217 s.8: PBSZ needs a security exchange first);
 *   before login: everything but USER PASS AUTH PBSZ PROT CCC FEAT SYST HELP
 *     OPTS NOOP QUIT gets 530; PASS without USER 503;
 *   AUTH on a TLS connection 503; PROT before PBSZ 503; CCC 534 (policy);
 *   PROT C with REQUIRE_TLS 534 (RFC 4217 s.9);
 *   RNTO without RNFR 503; anonymous writes 550;
 *   data commands with REQUIRE_TLS and not PROT P: 521 (RFC 2228). */
int ftp_cmd_allowed(const struct ftp_cmd *c, const struct ftp_state *s, const char **why);

/* --- arguments --------------------------------------------------------- */

/* A data-connection address from PORT/EPRT, or for 227/229 replies. */
struct ftp_hostport {
    int family;             /* 4 or 6 */
    unsigned char addr[16]; /* network order; 4 bytes used for IPv4 */
    unsigned port;          /* 1..65535 */
};

/* Each returns 0 or a reply code (501 syntax; 504 parameter not implemented;
 * 522 EPRT/EPSV network protocol not supported, RFC 2428 s.2; 536 PROT
 * level not supported, RFC 2228). */
int ftp_parse_port(const char *arg, struct ftp_hostport *hp); /* h1,h2,h3,h4,p1,p2 */
int ftp_parse_eprt(const char *arg, struct ftp_hostport *hp); /* <d>1<d>addr<d>port<d> */
/* EPSV: *proto 0 (none given), 1, 2, or -1 for "ALL". */
int ftp_parse_epsv(const char *arg, int *proto);
int ftp_parse_rest(const char *arg, unsigned long long *off); /* decimal, < 2^63 */
/* TYPE: *type 'A' (A, A N) or 'I' (I, L 8); E, A T/C, L n != 8: 504. */
int ftp_parse_type(const char *arg, char *type);
int ftp_parse_mode(const char *arg);              /* S only */
int ftp_parse_stru(const char *arg);              /* F only */
int ftp_parse_prot(const char *arg, char *level); /* C or P */
/* PBSZ: any decimal; *size is what the server answers ("200 PBSZ=0"). */
int ftp_parse_pbsz(const char *arg, unsigned long *size);
int ftp_parse_auth(const char *arg); /* TLS, TLS-C, SSL (RFC 4217 s.4) */
/* OPTS: "UTF8 ON" / "UTF8" (RFC 2640; names are bytes here anyway) is 0,
 * anything else 501 (RFC 2389 s.4). */
int ftp_parse_opts(const char *arg);

struct sockaddr;
/* ftp_port_allowed - no FTP bounce (RFC 2577 s.3): a PORT/EPRT address must
 * be the control connection's peer (an IPv4 peer seen as ::ffff:a.b.c.d on
 * an IPv6 socket counts as itself) and the port not privileged (< 1024).
 * Returns 0, or 504 (command not implemented for that parameter) with the
 * reason in *why. */
int ftp_port_allowed(const struct ftp_hostport *hp, const struct sockaddr *peer, const char **why);
/* ftp_hostport_from - the address part of a socket address (for 227/229
 * replies from the control socket's local address); port from sa. IPv4
 * mapped in IPv6 becomes IPv4. Returns 0 or -1 (not IPv4/IPv6). */
int ftp_hostport_from(const struct sockaddr *sa, struct ftp_hostport *hp);

/* The argument text of PORT / EPRT for hp (what a client sends): round-trips
 * through the parsers. Return the length, or -1 if cap is too small. */
int ftp_format_port(char *buf, size_t cap, const struct ftp_hostport *hp);
int ftp_format_eprt(char *buf, size_t cap, const struct ftp_hostport *hp);

/* --- replies ----------------------------------------------------------- */

/* All return the reply's length (CRLF included, NUL written after it), or -1
 * if it does not fit in cap: nothing beyond cap is ever written, and a
 * reply that does not fit is not sent cut. CR and LF in the text (a file
 * name) become spaces, so a reply can never end early or forge a second one.
 * code must be 100..599. */
int ftp_reply(char *buf, size_t cap, int code, const char *text);
int ftp_replyf(char *buf, size_t cap, int code, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
/* Multi-line (RFC 959 4.2): "code-first", the lines indented by one space
 * (so none can look like an end line), "code last". */
int ftp_reply_multi(char *buf, size_t cap, int code, const char *first, const char *const *lines,
                    size_t nlines, const char *last);
/* 257 "path" text: quotes in the path doubled (RFC 959 appendix II). */
int ftp_reply_257(char *buf, size_t cap, const char *path, const char *text);
/* 227 Entering Passive Mode (h1,h2,h3,h4,p1,p2). IPv4 only (-1 otherwise). */
int ftp_reply_227(char *buf, size_t cap, const struct ftp_hostport *hp);
/* 229 Entering Extended Passive Mode (|||port|) */
int ftp_reply_229(char *buf, size_t cap, unsigned port);
/* 211 FEAT list: the extensions this server has (RFC 2389). tls: AUTH TLS,
 * PBSZ, PROT are listed. */
int ftp_reply_feat(char *buf, size_t cap, int tls);
/* 214 HELP: the verbs this server knows, eight to a line. */
int ftp_reply_help(char *buf, size_t cap);

#endif
