/*
 * ftp_reply.c - replies into a bounded buffer (RFC 959 s.4.2). Each reply
 * is built whole or not at all: a reply cut in the middle would leave the
 * client waiting for an end line that never comes.
 */
#include "ftp_cmd.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

/* A bounded writer: ok stays 1 while everything fitted. */
struct out {
    char *buf;
    size_t cap, len;
    int ok;
};

static void add(struct out *o, const char *s, size_t n, int clean)
{
    if (!o->ok || o->cap - o->len <= n) { /* room for the NUL too */
        o->ok = 0;
        return;
    }
    for (size_t i = 0; i < n; i++) {
        char ch = s[i];
        /* CR/LF inside text (file names) would end the reply early. */
        o->buf[o->len++] = clean && (ch == '\r' || ch == '\n' || ch == '\0') ? ' ' : ch;
    }
    o->buf[o->len] = '\0';
}

static void adds(struct out *o, const char *s)
{
    add(o, s, strlen(s), 1);
}
static void crlf(struct out *o)
{
    add(o, "\r\n", 2, 0);
}

static void code(struct out *o, int c, char sep)
{
    char b[5] = {(char)('0' + c / 100), (char)('0' + c / 10 % 10), (char)('0' + c % 10), sep, 0};
    add(o, b, 4, 0);
}

static int finish(struct out *o)
{
    if (!o->ok) {
        if (o->cap)
            o->buf[0] = '\0';
        return -1;
    }
    return (int)o->len;
}

static int start(struct out *o, char *buf, size_t cap, int c)
{
    o->buf = buf;
    o->cap = cap;
    o->len = 0;
    o->ok = buf != NULL && cap > 0 && c >= 100 && c <= 599;
    return o->ok;
}

int ftp_reply(char *buf, size_t cap, int c, const char *text)
{
    struct out o;
    if (start(&o, buf, cap, c)) {
        code(&o, c, ' ');
        adds(&o, text);
        crlf(&o);
    }
    return finish(&o);
}

int ftp_replyf(char *buf, size_t cap, int c, const char *fmt, ...)
{
    char text[FTP_LINE_MAX * 2];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(text, sizeof text, fmt, ap);
    va_end(ap);
    if (n < 0 || (size_t)n >= sizeof text) {
        if (buf && cap)
            buf[0] = '\0';
        return -1;
    }
    return ftp_reply(buf, cap, c, text);
}

int ftp_reply_multi(char *buf, size_t cap, int c, const char *first, const char *const *lines,
                    size_t nlines, const char *last)
{
    struct out o;
    if (start(&o, buf, cap, c)) {
        code(&o, c, '-');
        adds(&o, first);
        crlf(&o);
        for (size_t i = 0; i < nlines; i++) {
            /* RFC 959 s.4.2: a line that began with the code and a space
             * would end the reply; the leading space rules that out. */
            add(&o, " ", 1, 0);
            adds(&o, lines[i]);
            crlf(&o);
        }
        code(&o, c, ' ');
        adds(&o, last);
        crlf(&o);
    }
    return finish(&o);
}

int ftp_reply_257(char *buf, size_t cap, const char *path, const char *text)
{
    struct out o;
    if (start(&o, buf, cap, 257)) {
        code(&o, 257, ' ');
        add(&o, "\"", 1, 0);
        for (const char *p = path; *p; p++)
            add(&o, *p == '"' ? "\"\"" : p, *p == '"' ? 2 : 1, 1);
        add(&o, "\" ", 2, 0);
        adds(&o, text);
        crlf(&o);
    }
    return finish(&o);
}

int ftp_reply_227(char *buf, size_t cap, const struct ftp_hostport *hp)
{
    char a[32];
    if (ftp_format_port(a, sizeof a, hp) < 0) {
        if (buf && cap)
            buf[0] = '\0';
        return -1;
    }
    return ftp_replyf(buf, cap, 227, "Entering Passive Mode (%s).", a);
}

int ftp_reply_229(char *buf, size_t cap, unsigned port)
{
    if (port == 0 || port > 65535) {
        if (buf && cap)
            buf[0] = '\0';
        return -1;
    }
    return ftp_replyf(buf, cap, 229, "Entering Extended Passive Mode (|||%u|)", port);
}

int ftp_reply_feat(char *buf, size_t cap, int tls)
{
    /* RFC 2389 s.3.2: one feature per line, each indented by one space. */
    static const char *const with_tls[] = {
        "AUTH TLS",
        "PBSZ",
        "PROT",
        "EPRT",
        "EPSV",
        "MDTM",
        "MLST type*;size*;modify*;perm*;unique*;",
        "REST STREAM",
        "SIZE",
        "TVFS",
        "UTF8",
    };
    const char *const *lines = tls ? with_tls : with_tls + 3;
    size_t n = sizeof with_tls / sizeof with_tls[0] - (tls ? 0 : 3);
    return ftp_reply_multi(buf, cap, 211, "Features:", lines, n, "End");
}

int ftp_reply_help(char *buf, size_t cap)
{
    char rows[(FTP_V_COUNT + 7) / 8][8 * 5 + 1];
    const char *lines[sizeof rows / sizeof rows[0]];
    size_t n = 0;
    for (int v = 1; v < FTP_V_COUNT; v++) {
        size_t row = (size_t)(v - 1) / 8;
        if ((v - 1) % 8 == 0) {
            rows[row][0] = '\0';
            lines[n++] = rows[row];
        }
        size_t len = strlen(rows[row]);
        snprintf(rows[row] + len, sizeof rows[row] - len, "%s%s", len ? " " : "",
                 ftp_verb_name((enum ftp_verb)v));
    }
    return ftp_reply_multi(buf, cap, 214, "The following commands are recognized.", lines, n,
                           "Help OK.");
}
