/*
 * ftp_cmd.c - the control-line assembler and the verb table.
 */
#include "ftp_cmd.h"

#include <string.h>

enum { IAC = 255, WILL = 251, DONT = 254 };

void ftp_line_init(struct ftp_line *l)
{
    memset(l, 0, sizeof *l);
}

/* A byte as data: kept while the line has room, counted beyond. */
static void put(struct ftp_line *l, unsigned char ch)
{
    if (l->len < FTP_LINE_MAX)
        l->buf[l->len++] = (char)ch;
    else
        l->dropped++;
}

int ftp_line_feed(struct ftp_line *l, const char *in, size_t n, size_t *used)
{
    const unsigned char *p = (const unsigned char *)in;
    if (l->ready) {
        l->ready = 0;
        l->len = 0;
        l->buf[0] = '\0';
    }
    for (size_t i = 0; i < n; i++) {
        unsigned char ch = p[i];
        if (l->telnet == 2) { /* the option byte of WILL/WONT/DO/DONT */
            l->telnet = 0;
            continue;
        }
        if (l->telnet == 1) {
            l->telnet = ch >= WILL && ch <= DONT ? 2 : 0;
            if (ch == IAC)
                put(l, ch); /* IAC IAC: a data byte 0xFF */
            continue;
        }
        if (ch == IAC) {
            l->telnet = 1;
            continue;
        }
        if (ch == '\n') {
            int rc = l->dropped ? FTP_LINE_LONG : FTP_LINE_DONE;
            l->buf[l->len] = '\0';
            *used = i + 1;
            if (rc == FTP_LINE_LONG) {
                l->len = 0;
                l->buf[0] = '\0';
            }
            l->dropped = 0;
            l->cr = 0;
            l->ready = 1;
            return rc;
        }
        if (l->cr) {
            /* The CR held back was not the end of the line: CR NUL is a
             * CR as data (RFC 854); CR before anything else stays too. */
            l->cr = 0;
            put(l, '\r');
            if (ch == '\0')
                continue;
        }
        if (ch == '\r') {
            l->cr = 1;
            continue;
        }
        put(l, ch);
    }
    *used = n;
    return FTP_LINE_MORE;
}

/* Index FTP_x: name, argument rule, flags. */
enum { F_PATH = 1, F_WRITE = 2, F_DATA = 4, F_PRELOGIN = 8 };
static const struct {
    const char *name;
    unsigned char arg, flags;
} verbs[FTP_V_COUNT] = {
    [FTP_V_NONE] = {"", FTP_ARG_OPTIONAL, 0},
    [FTP_USER] = {"USER", FTP_ARG_REQUIRED, F_PRELOGIN},
    [FTP_PASS] = {"PASS", FTP_ARG_OPTIONAL, F_PRELOGIN}, /* an empty password is a password */
    [FTP_AUTH] = {"AUTH", FTP_ARG_REQUIRED, F_PRELOGIN},
    [FTP_PBSZ] = {"PBSZ", FTP_ARG_REQUIRED, F_PRELOGIN},
    [FTP_PROT] = {"PROT", FTP_ARG_REQUIRED, F_PRELOGIN},
    [FTP_CCC] = {"CCC", FTP_ARG_NONE, F_PRELOGIN},
    [FTP_FEAT] = {"FEAT", FTP_ARG_NONE, F_PRELOGIN},
    [FTP_SYST] = {"SYST", FTP_ARG_NONE, F_PRELOGIN},
    [FTP_TYPE] = {"TYPE", FTP_ARG_REQUIRED, 0},
    [FTP_MODE] = {"MODE", FTP_ARG_REQUIRED, 0},
    [FTP_STRU] = {"STRU", FTP_ARG_REQUIRED, 0},
    [FTP_PWD] = {"PWD", FTP_ARG_NONE, 0},
    [FTP_CWD] = {"CWD", FTP_ARG_REQUIRED, F_PATH},
    [FTP_CDUP] = {"CDUP", FTP_ARG_NONE, F_PATH},
    [FTP_MKD] = {"MKD", FTP_ARG_REQUIRED, F_PATH | F_WRITE},
    [FTP_RMD] = {"RMD", FTP_ARG_REQUIRED, F_PATH | F_WRITE},
    [FTP_DELE] = {"DELE", FTP_ARG_REQUIRED, F_PATH | F_WRITE},
    [FTP_RNFR] = {"RNFR", FTP_ARG_REQUIRED, F_PATH | F_WRITE},
    [FTP_RNTO] = {"RNTO", FTP_ARG_REQUIRED, F_PATH | F_WRITE},
    [FTP_SIZE] = {"SIZE", FTP_ARG_REQUIRED, F_PATH},
    [FTP_MDTM] = {"MDTM", FTP_ARG_REQUIRED, F_PATH},
    [FTP_REST] = {"REST", FTP_ARG_REQUIRED, 0},
    [FTP_RETR] = {"RETR", FTP_ARG_REQUIRED, F_PATH | F_DATA},
    [FTP_STOR] = {"STOR", FTP_ARG_REQUIRED, F_PATH | F_WRITE | F_DATA},
    [FTP_APPE] = {"APPE", FTP_ARG_REQUIRED, F_PATH | F_WRITE | F_DATA},
    [FTP_LIST] = {"LIST", FTP_ARG_OPTIONAL, F_PATH | F_DATA},
    [FTP_NLST] = {"NLST", FTP_ARG_OPTIONAL, F_PATH | F_DATA},
    [FTP_MLSD] = {"MLSD", FTP_ARG_OPTIONAL, F_PATH | F_DATA},
    [FTP_MLST] = {"MLST", FTP_ARG_OPTIONAL, F_PATH},
    [FTP_PASV] = {"PASV", FTP_ARG_NONE, 0},
    [FTP_EPSV] = {"EPSV", FTP_ARG_OPTIONAL, 0},
    [FTP_PORT] = {"PORT", FTP_ARG_REQUIRED, 0},
    [FTP_EPRT] = {"EPRT", FTP_ARG_REQUIRED, 0},
    [FTP_ABOR] = {"ABOR", FTP_ARG_NONE, 0},
    [FTP_STAT] = {"STAT", FTP_ARG_OPTIONAL, F_PATH},
    [FTP_NOOP] = {"NOOP", FTP_ARG_NONE, F_PRELOGIN},
    [FTP_QUIT] = {"QUIT", FTP_ARG_NONE, F_PRELOGIN},
    [FTP_OPTS] = {"OPTS", FTP_ARG_REQUIRED, F_PRELOGIN},
    [FTP_HELP] = {"HELP", FTP_ARG_OPTIONAL, F_PRELOGIN},
    [FTP_ALLO] = {"ALLO", FTP_ARG_REQUIRED, 0},
};

static const struct {
    const char *alias;
    enum ftp_verb verb;
} aliases[] = {
    {"XPWD", FTP_PWD}, {"XCWD", FTP_CWD}, {"XCUP", FTP_CDUP}, {"XMKD", FTP_MKD}, {"XRMD", FTP_RMD},
};

/* Verbs of the RFCs that this server does not implement: 502, not 500. */
static const char *const unimplemented[] = {
    "ACCT", "SMNT", "REIN", "STOU", "SITE", "ADAT", "MIC",
    "CONF", "ENC",  "LPRT", "LPSV", "LANG", "HOST",
};

const char *ftp_verb_name(enum ftp_verb v)
{
    return (unsigned)v < FTP_V_COUNT ? verbs[v].name : "";
}

enum ftp_arg ftp_verb_arg(enum ftp_verb v)
{
    return (unsigned)v < FTP_V_COUNT ? (enum ftp_arg)verbs[v].arg : FTP_ARG_OPTIONAL;
}

static int flag(enum ftp_verb v, int f)
{
    return (unsigned)v < FTP_V_COUNT && (verbs[v].flags & f) != 0;
}

int ftp_verb_takes_path(enum ftp_verb v)
{
    return flag(v, F_PATH);
}
int ftp_verb_writes(enum ftp_verb v)
{
    return flag(v, F_WRITE);
}
int ftp_verb_data(enum ftp_verb v)
{
    return flag(v, F_DATA);
}
int ftp_verb_prelogin(enum ftp_verb v)
{
    return flag(v, F_PRELOGIN);
}

int ftp_cmd_parse(char *line, size_t len, struct ftp_cmd *c)
{
    memset(c, 0, sizeof *c);
    c->arg = "";
    /* NUL or a control byte (other than TAB) inside: not a command line. */
    for (size_t i = 0; i < len; i++) {
        unsigned char ch = (unsigned char)line[i];
        if ((ch < 0x20 && ch != '\t') || ch == 0x7f)
            return 500;
    }
    size_t vlen = 0;
    while (vlen < len && line[vlen] != ' ')
        vlen++;
    if (vlen == 0 || vlen > 4)
        return 500;
    for (size_t i = 0; i < vlen; i++) {
        char ch = line[i];
        if (ch >= 'a' && ch <= 'z')
            ch = (char)(ch - 'a' + 'A');
        if (ch < 'A' || ch > 'Z')
            return 500;
        line[i] = ch;
        c->name[i] = ch;
    }
    int has_arg = vlen < len; /* a space follows the verb */
    if (has_arg)
        c->arg = line + vlen + 1;
    line[vlen] = '\0'; /* ends the verb; the argument stays NUL-terminated at len */
    for (int v = 1; v < FTP_V_COUNT; v++)
        if (strcmp(c->name, verbs[v].name) == 0)
            c->verb = (enum ftp_verb)v;
    for (size_t i = 0; !c->verb && i < sizeof aliases / sizeof aliases[0]; i++)
        if (strcmp(c->name, aliases[i].alias) == 0)
            c->verb = aliases[i].verb;
    for (size_t i = 0; !c->verb && i < sizeof unimplemented / sizeof unimplemented[0]; i++)
        if (strcmp(c->name, unimplemented[i]) == 0)
            return 502;
    if (!c->verb)
        return 500;
    /* "CWD " with an empty argument counts as none. */
    if (verbs[c->verb].arg == FTP_ARG_REQUIRED && c->arg[0] == '\0')
        return 501;
    if (verbs[c->verb].arg == FTP_ARG_NONE && c->arg[0] != '\0')
        return 501;
    return 0;
}
