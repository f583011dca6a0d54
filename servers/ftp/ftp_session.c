/*
 * ftp_session.c - the control connection's state machine: line -> parse ->
 * state table -> action -> replies through io.
 */
#include "ftp_session.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define OUT_MAX 4096

static int send_text(struct ftp_session *s, const char *buf, int n)
{
    if (n < 0) {
        char b[64];
        n = ftp_reply(b, sizeof b, 451, "Reply too long.");
        return s->io->reply(s->io->ctx, b, (size_t)n);
    }
    return s->io->reply(s->io->ctx, buf, (size_t)n);
}

static int say(struct ftp_session *s, int code, const char *text)
{
    char b[OUT_MAX];
    return send_text(s, b, ftp_reply(b, sizeof b, code, text));
}

static int say_errno(struct ftp_session *s, int err)
{
    /* Fixed texts: an escape (EXDEV, ELOOP) reads as any refusal. */
    const char *t = err == ENOENT                    ? "No such file or directory."
                    : err == EEXIST                  ? "File exists."
                    : err == ENOTDIR                 ? "Not a directory."
                    : err == EISDIR                  ? "Is a directory."
                    : err == ENOTEMPTY               ? "Directory not empty."
                    : err == ENOSPC || err == EDQUOT ? "No space left."
                    : err == EINVAL                  ? "Invalid argument."
                                                     : "Permission denied.";
    return say(s, ftp_path_reply(err), t);
}

int ftp_session_init(struct ftp_session *s, const struct ftp_session_config *cfg,
                     const struct ftp_io *io)
{
    memset(s, 0, sizeof *s);
    ftp_line_init(&s->line);
    s->cfg = *cfg;
    s->io = io;
    s->root.fd = -1;
    s->st.require_tls = cfg->require_tls;
    s->st.tls = cfg->implicit_tls;
    strcpy(s->cwd, "/");
    s->type = 'A';
    s->xfer.fd = -1;
    return say(s, 220, "chipd FTP server ready.");
}

void ftp_session_free(struct ftp_session *s)
{
    if (s->root.fd >= 0)
        ftp_root_close(&s->root);
    s->root.fd = -1;
}

/* cwd + arg into out; replies on failure. 0 or 1 (replied). */
static int resolve(struct ftp_session *s, const char *arg, char *out, int *rc)
{
    if (ftp_path_resolve(s->cwd, arg, out, FTP_PATH_MAX) == 0)
        return 0;
    *rc = say(s, errno == EACCES ? 550 : 553,
              errno == EACCES ? "Permission denied." : "File name not allowed.");
    return 1;
}

static int do_pass(struct ftp_session *s, const char *pass)
{
    struct ftp_account acct;
    memset(&acct, 0, sizeof acct);
    s->st.user_given = 0;
    if (s->io->login(s->io->ctx, s->user, pass, &acct) != 0) {
        if (++s->failed_logins >= FTP_LOGIN_TRIES) {
            s->closed = 1;
            return say(s, 421, "Too many failed logins: closing.");
        }
        return say(s, 530, "Login incorrect.");
    }
    if (ftp_root_open(&s->root, acct.root) != 0) {
        s->root.fd = -1;
        return say(s, 530, "Login incorrect (home directory unavailable).");
    }
    s->st.logged_in = 1;
    s->st.anonymous = acct.anonymous;
    strcpy(s->cwd, "/");
    return say(s, 230, acct.anonymous ? "Anonymous login ok, read-only." : "Login successful.");
}

static void release_xfer(struct ftp_xfer *x)
{
    if (x->fd >= 0)
        close(x->fd);
    x->fd = -1;
    if (x->verb == FTP_STOR || x->verb == FTP_APPE)
        ftp_store_abort(&x->store);
    if (x->verb == FTP_LIST || x->verb == FTP_NLST || x->verb == FTP_MLSD)
        ftp_list_close(&x->lister);
}

static int do_data(struct ftp_session *s, const struct ftp_cmd *c)
{
    struct ftp_xfer *x = &s->xfer;
    unsigned long long rest = s->rest;
    int rc = 0;
    s->rest = 0;
    memset(x, 0, sizeof *x);
    x->fd = -1;
    x->store.fd = -1;
    x->store.dirfd = -1;
    x->verb = c->verb;
    x->type = s->type;
    x->offset = rest;
    const char *arg = c->arg;
    int all = 0;
    if (c->verb == FTP_LIST || c->verb == FTP_NLST)
        ftp_list_args(c->arg, &all, &arg);
    if (resolve(s, arg, x->vpath, &rc))
        return rc;
    /* "STOR name/" names a directory: a file would be made as "name". */
    size_t alen = strlen(arg);
    if ((c->verb == FTP_STOR || c->verb == FTP_APPE) && alen > 0 && arg[alen - 1] == '/')
        return say(s, 553, "File name not allowed.");
    if (!s->data_ready)
        return say(s, 425, "Use PORT, EPRT, PASV or EPSV first.");
    int r = 0;
    switch (c->verb) {
    case FTP_RETR: {
        struct stat st;
        x->fd = ftp_open_read(&s->root, x->vpath);
        if (x->fd < 0)
            return say_errno(s, errno);
        if (fstat(x->fd, &st) != 0 || rest > (unsigned long long)st.st_size) {
            /* RFC 3659 s.5.3: a restart point beyond the file. */
            close(x->fd);
            x->fd = -1;
            x->verb = FTP_V_NONE;
            return say(s, 554, "Restart point beyond the end of the file.");
        }
        break;
    }
    case FTP_STOR:
    case FTP_APPE: {
        enum ftp_store_mode m;
        long long off = (long long)rest;
        if (c->verb == FTP_APPE) {
            m = FTP_STORE_APPEND;
            off = -1;
        } else if (s->cfg.keep_partial)
            m = rest ? FTP_STORE_APPEND : FTP_STORE_PARTIAL;
        else
            m = FTP_STORE_HIDDEN;
        r = ftp_store_open(&s->root, x->vpath, m, off, &x->store);
        break;
    }
    default: {
        enum ftp_list_format f = c->verb == FTP_LIST   ? FTP_LIST_LS
                                 : c->verb == FTP_NLST ? FTP_LIST_NAMES
                                                       : FTP_LIST_MLSD;
        r = ftp_list_open(&x->lister, &s->root, x->vpath, f, f == FTP_LIST_MLSD ? 1 : all,
                          !s->st.anonymous, time(NULL));
        if (r != 0 && f == FTP_LIST_MLSD && errno == ENOTDIR)
            return say(s, 501, "MLSD needs a directory.");
        break;
    }
    }
    if (r != 0) {
        x->verb = FTP_V_NONE; /* nothing open */
        if (errno == EINVAL && rest && (c->verb == FTP_STOR || c->verb == FTP_APPE))
            return say(s, 554, "Restart point beyond the end of the file.");
        return say_errno(s, errno);
    }
    s->data_ready = 0;
    int code = s->io->transfer(s->io->ctx, x);
    if (code != 0) {
        release_xfer(x);
        return say(s, code, "Cannot open data connection.");
    }
    s->st.transfer = 1;
    return say(s, 150, "Opening data connection.");
}

/* After the transfer's reply: a QUIT that came during it is answered now. */
static int quit_after(struct ftp_session *s, int r)
{
    if (r != 0 || !s->quit_after)
        return r;
    s->quit_after = 0;
    s->closed = 1;
    return say(s, 221, "Goodbye.");
}

int ftp_session_transfer_end(struct ftp_session *s, int ok, int code)
{
    if (!s->st.transfer)
        return 0;
    s->st.transfer = 0;
    return quit_after(s, ok ? say(s, 226, "Transfer complete.") : say(s, code, "Transfer failed."));
}

int ftp_session_transfer_fail(struct ftp_session *s, int code, const char *text)
{
    if (!s->st.transfer)
        return 0;
    s->st.transfer = 0;
    return quit_after(s, say(s, code, text));
}

static int do_stat(struct ftp_session *s, const struct ftp_cmd *c)
{
    if (s->st.transfer)
        return say(s, 213, "Transfer in progress.");
    if (c->arg[0])
        return say(s, 504, "STAT with a path is not implemented: use LIST.");
    char l1[FTP_USER_MAX + 32], l2[64], l3[64];
    snprintf(l1, sizeof l1, "Logged in as %s", s->st.logged_in ? s->user : "(nobody)");
    snprintf(l2, sizeof l2, "TYPE: %s; STRUcture: File; MODE: Stream",
             s->type == 'A' ? "ASCII" : "BINARY");
    snprintf(l3, sizeof l3, "Control connection %s; data %s", s->st.tls ? "TLS" : "plain",
             s->st.prot_private ? "PROT P" : "PROT C");
    const char *lines[] = {l1, l2, l3};
    char b[OUT_MAX];
    return send_text(
        s, b, ftp_reply_multi(b, sizeof b, 211, "FTP server status:", lines, 3, "End of status"));
}

static int do_port(struct ftp_session *s, const struct ftp_cmd *c)
{
    struct ftp_hostport hp;
    const char *why;
    if (s->epsv_all)
        return say(s, 503, "EPSV ALL in force.");
    int r = c->verb == FTP_PORT ? ftp_parse_port(c->arg, &hp) : ftp_parse_eprt(c->arg, &hp);
    if (r)
        return say(s, r, "Syntax error in address.");
    if ((r = ftp_port_allowed(&hp, (const struct sockaddr *)&s->cfg.peer, &why)) != 0)
        return say(s, r, why);
    if ((r = s->io->active(s->io->ctx, &hp)) != 0)
        return say(s, r, "Cannot use that address.");
    s->data_ready = 1;
    return say(s, 200,
               c->verb == FTP_PORT ? "PORT command successful." : "EPRT command successful.");
}

static int do_pasv(struct ftp_session *s, const struct ftp_cmd *c)
{
    struct ftp_hostport hp;
    char b[OUT_MAX];
    int proto = 0, r;
    if (c->verb == FTP_EPSV) {
        if ((r = ftp_parse_epsv(c->arg, &proto)) != 0)
            return say(s, r, "Network protocol not supported, use (1,2).");
        if (proto == -1) {
            s->epsv_all = 1;
            return say(s, 200, "EPSV ALL ok.");
        }
    } else if (s->epsv_all)
        return say(s, 503, "EPSV ALL in force.");
    memset(&hp, 0, sizeof hp);
    if ((r = s->io->passive(s->io->ctx, &hp)) != 0)
        return say(s, r, "Cannot open passive connection.");
    int n =
        c->verb == FTP_EPSV ? ftp_reply_229(b, sizeof b, hp.port) : ftp_reply_227(b, sizeof b, &hp);
    if (n < 0) {
        s->io->abort(s->io->ctx); /* the listener just opened is not used */
        return say(s, 425, "PASV needs IPv4: use EPSV.");
    }
    s->data_ready = 1;
    return send_text(s, b, n);
}

static int do_path_cmd(struct ftp_session *s, const struct ftp_cmd *c)
{
    char p[FTP_PATH_MAX], b[OUT_MAX];
    struct stat st;
    int rc = 0;
    const char *arg = c->verb == FTP_CDUP ? ".." : c->arg;
    if (resolve(s, arg, p, &rc))
        return rc;
    switch (c->verb) {
    case FTP_CWD:
    case FTP_CDUP: {
        int fd = ftp_open_dir(&s->root, p);
        if (fd < 0)
            return say_errno(s, errno);
        close(fd);
        strcpy(s->cwd, p);
        return say(s, 250, "Directory changed.");
    }
    case FTP_MKD:
        if (ftp_mkdir(&s->root, p, 0755) != 0)
            return say_errno(s, errno);
        return send_text(s, b, ftp_reply_257(b, sizeof b, p, "created"));
    case FTP_RMD:
        if (ftp_rmdir(&s->root, p) != 0)
            return say_errno(s, errno);
        return say(s, 250, "Directory removed.");
    case FTP_DELE:
        if (ftp_unlink(&s->root, p) != 0)
            return say_errno(s, errno);
        return say(s, 250, "File deleted.");
    case FTP_RNFR:
        if (ftp_stat(&s->root, p, &st) != 0 && errno != ELOOP)
            return say_errno(s, errno);
        strcpy(s->rnfr, p);
        s->st.rnfr = 1;
        return say(s, 350, "Ready for RNTO.");
    case FTP_RNTO:
        if (ftp_rename(&s->root, s->rnfr, p) != 0)
            return say_errno(s, errno);
        return say(s, 250, "Rename successful.");
    case FTP_SIZE:
    case FTP_MDTM:
        if (ftp_stat(&s->root, p, &st) != 0)
            return say_errno(s, errno);
        if (!S_ISREG(st.st_mode))
            return say(s, 550, "Not a regular file.");
        if (c->verb == FTP_SIZE) {
            /* RFC 3659 s.4: the size as transferred; in TYPE A that would
             * need a read of the whole file (ProFTPD refuses too). */
            if (s->type == 'A')
                return say(s, 550, "SIZE not allowed in ASCII mode.");
            return send_text(s, b, ftp_replyf(b, sizeof b, 213, "%lld", (long long)st.st_size));
        } else {
            struct tm tm;
            gmtime_r(&st.st_mtime, &tm);
            return send_text(s, b,
                             ftp_replyf(b, sizeof b, 213, "%04d%02d%02d%02d%02d%02d",
                                        tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour,
                                        tm.tm_min, tm.tm_sec));
        }
    case FTP_MLST:
        if (ftp_stat(&s->root, p, &st) != 0)
            return say_errno(s, errno);
        return send_text(s, b, ftp_reply_mlst(b, sizeof b, p, &st, !s->st.anonymous));
    default: return say(s, 502, "Command not implemented.");
    }
}

static int run(struct ftp_session *s, struct ftp_cmd *c, int *tls_now)
{
    char b[OUT_MAX];
    int r;
    switch (c->verb) {
    case FTP_USER:
        if (strlen(c->arg) >= sizeof s->user)
            return say(s, 501, "User name too long.");
        strcpy(s->user, c->arg);
        s->st.user_given = 1;
        return say(s, 331, "Password required.");
    case FTP_PASS: return do_pass(s, c->arg);
    case FTP_AUTH:
        if (s->cfg.no_tls) /* RFC 4217 s.4: not willing (no certificate here) */
            return say(s, 534, "TLS not available on this server.");
        if ((r = ftp_parse_auth(c->arg)) != 0)
            return say(s, r, "Unsupported mechanism: use AUTH TLS.");
        if (say(s, 234, "Proceed with TLS negotiation.") != 0)
            return -1;
        s->st.tls = 1;
        *tls_now = 1;
        return 0;
    case FTP_PBSZ: {
        unsigned long sz;
        if ((r = ftp_parse_pbsz(c->arg, &sz)) != 0)
            return say(s, r, "Bad PBSZ.");
        s->st.pbsz = 1;
        return send_text(s, b, ftp_replyf(b, sizeof b, 200, "PBSZ=%lu", sz));
    }
    case FTP_PROT: {
        char lv;
        if ((r = ftp_parse_prot(c->arg, &lv)) != 0)
            return say(s, r, "PROT level not supported.");
        s->st.prot_private = lv == 'P';
        return say(s, 200, lv == 'P' ? "PROT P ok." : "PROT C ok.");
    }
    case FTP_FEAT: return send_text(s, b, ftp_reply_feat(b, sizeof b, !s->cfg.no_tls));
    case FTP_SYST: return say(s, 215, "UNIX Type: L8");
    case FTP_TYPE: {
        char t;
        if ((r = ftp_parse_type(c->arg, &t)) != 0)
            return say(s, r, "Type not supported.");
        s->type = t;
        return say(s, 200, t == 'A' ? "Switching to ASCII mode." : "Switching to Binary mode.");
    }
    case FTP_MODE:
        if ((r = ftp_parse_mode(c->arg)) != 0)
            return say(s, r, "Only MODE S.");
        return say(s, 200, "MODE S ok.");
    case FTP_STRU:
        if ((r = ftp_parse_stru(c->arg)) != 0)
            return say(s, r, "Only STRU F.");
        return say(s, 200, "STRU F ok.");
    case FTP_PWD:
        return send_text(s, b, ftp_reply_257(b, sizeof b, s->cwd, "is the current directory"));
    case FTP_REST: {
        unsigned long long off;
        if ((r = ftp_parse_rest(c->arg, &off)) != 0)
            return say(s, r, "Bad offset.");
        s->rest = off;
        return send_text(s, b, ftp_replyf(b, sizeof b, 350, "Restarting at %llu.", off));
    }
    case FTP_RETR:
    case FTP_STOR:
    case FTP_APPE:
    case FTP_LIST:
    case FTP_NLST:
    case FTP_MLSD: return do_data(s, c);
    case FTP_PASV:
    case FTP_EPSV: return do_pasv(s, c);
    case FTP_PORT:
    case FTP_EPRT: return do_port(s, c);
    case FTP_ABOR:
        if (!s->st.transfer)
            return say(s, 225, "No transfer to abort.");
        s->io->abort(s->io->ctx);
        s->st.transfer = 0;
        if (say(s, 426, "Transfer aborted.") != 0)
            return -1;
        return say(s, 226, "ABOR successful.");
    case FTP_STAT: return do_stat(s, c);
    case FTP_NOOP: return say(s, 200, "NOOP ok.");
    case FTP_QUIT:
        if (s->st.transfer) {
            /* RFC 959 s.4.1.1: the transfer finishes, its reply goes out,
             * then 221 and the close (a client that pipelines QUIT behind
             * its upload loses nothing). Later lines are not read. */
            s->quit_after = 1;
            return 0;
        }
        s->closed = 1;
        return say(s, 221, "Goodbye.");
    case FTP_OPTS:
        if ((r = ftp_parse_opts(c->arg)) != 0)
            return say(s, r, "Option not understood.");
        return say(s, 200, "UTF8 mode always on.");
    case FTP_HELP: return send_text(s, b, ftp_reply_help(b, sizeof b));
    case FTP_ALLO: return say(s, 202, "ALLO not needed.");
    default: return do_path_cmd(s, c);
    }
}

/* One line. Returns 0, -1, or 2 (AUTH TLS accepted: drop the rest). */
static int line(struct ftp_session *s, int status)
{
    struct ftp_cmd c;
    const char *why;
    if (status == FTP_LINE_LONG)
        return say(s, 500, "Line too long.");
    int r = ftp_cmd_parse(s->line.buf, s->line.len, &c);
    if (r != 0) {
        char b[OUT_MAX];
        return send_text(s, b,
                         ftp_replyf(b, sizeof b, r, "%s: %s", c.name[0] ? c.name : "?",
                                    r == 501   ? "syntax error in arguments."
                                    : r == 502 ? "command not implemented."
                                               : "command not understood."));
    }
    if (c.verb == FTP_RNFR)
        s->st.rnfr = 0; /* a new RNFR replaces the old one */
    int tls_now = 0;
    if ((r = ftp_cmd_allowed(&c, &s->st, &why)) != 0)
        r = say(s, r, why);
    else
        r = run(s, &c, &tls_now);
    /* RFC 959: RNTO must come right after RNFR; anything else forgets it. */
    if (c.verb != FTP_RNFR)
        s->st.rnfr = 0;
    /* RFC 3659 s.5.3: REST is for the transfer that follows (data
     * connection set-up and TYPE may come in between). */
    if (c.verb != FTP_REST && c.verb != FTP_PASV && c.verb != FTP_EPSV && c.verb != FTP_PORT &&
        c.verb != FTP_EPRT && c.verb != FTP_TYPE)
        s->rest = 0;
    if (r == 0 && tls_now) {
        if (s->io->start_tls(s->io->ctx) != 0)
            return -1;
        return 2;
    }
    return r;
}

int ftp_session_input(struct ftp_session *s, const char *bytes, size_t len)
{
    while (len > 0 && !s->closed && !s->quit_after) {
        size_t used = 0;
        int st = ftp_line_feed(&s->line, bytes, len, &used);
        bytes += used;
        len -= used;
        if (st == FTP_LINE_MORE)
            break;
        int r = line(s, st);
        if (r < 0)
            return -1;
        if (r == 2) {
            break; /* nothing sent in the clear after AUTH survives */
        }
    }
    return s->closed ? 1 : 0;
}
