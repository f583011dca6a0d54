/*
 * fuzz_ftp_cmd - properties of the FTP control-line assembler and command
 * parser on any byte stream:
 *  - feeding the stream at once, byte by byte and in two parts at every
 *    split point gives the same lines (and the same "too long" ends), and
 *    a line is never longer than the bytes taken since the previous one;
 *  - every line parses without reading past it; a parsed PORT or EPRT
 *    argument formats back to text that parses to the same address;
 *  - replies that quote the argument stay inside the buffer at every size,
 *    end with exactly one CRLF and carry no other CR or LF;
 *  - the resolved path of the argument is normalized, and resolving it
 *    again changes nothing;
 *  - the state table answers with a known code for every state.
 */
#include "ftp_cmd.h"
#include "ftp_path.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define MAX_OUT 65536

/* The stream's lines as a record: rc, length, bytes, for each line. */
struct record {
    unsigned char buf[MAX_OUT];
    size_t len;
};

static void note(struct record *r, int rc, const char *line, size_t n)
{
    if (r->len + 3 + n > sizeof r->buf)
        abort(); /* cannot happen: lines are never longer than the input */
    r->buf[r->len++] = (unsigned char)rc;
    r->buf[r->len++] = (unsigned char)(n >> 8);
    r->buf[r->len++] = (unsigned char)n;
    memcpy(r->buf + r->len, line, n);
    r->len += n;
}

static void run(const uint8_t *in, size_t n, size_t cut, size_t step, struct record *r)
{
    struct ftp_line l;
    ftp_line_init(&l);
    r->len = 0;
    size_t pos = 0, since = 0; /* bytes taken since the last line ended */
    while (pos < n) {
        size_t avail = pos < cut ? cut - pos : step;
        if (avail > n - pos)
            avail = n - pos;
        size_t off = 0;
        while (off < avail) {
            size_t used;
            int rc = ftp_line_feed(&l, (const char *)in + pos + off, avail - off, &used);
            if (used == 0 || used > avail - off)
                abort();
            off += used;
            since += used;
            if (rc == FTP_LINE_DONE) {
                /* a line is made of its own bytes only */
                if (l.len > FTP_LINE_MAX || l.len >= since || l.buf[l.len] != '\0')
                    abort();
                note(r, rc, l.buf, l.len);
            } else if (rc == FTP_LINE_LONG) {
                note(r, rc, "", 0);
            } else if (rc != FTP_LINE_MORE || off != avail) {
                abort();
            }
            if (rc != FTP_LINE_MORE)
                since = 0;
        }
        pos += avail;
    }
}

static void same_hp(const struct ftp_hostport *a, const struct ftp_hostport *b)
{
    if (a->family != b->family || a->port != b->port ||
        memcmp(a->addr, b->addr, a->family == 4 ? 4 : 16) != 0)
        abort();
}

static void check_reply(const char *text)
{
    char full[4 * FTP_LINE_MAX];
    int n = ftp_replyf(full, sizeof full, 550, "%s: No such file.", text);
    if (n < 0)
        return;
    if ((size_t)n != strlen(full) || n < 6 || full[n - 2] != '\r' || full[n - 1] != '\n')
        abort();
    if (memchr(full, '\r', (size_t)n - 2) || memchr(full, '\n', (size_t)n - 2))
        abort();
    static char small[4 * FTP_LINE_MAX + 16];
    size_t caps[] = {0, 1, 5, (size_t)n / 2, (size_t)n, (size_t)n + 1};
    for (size_t i = 0; i < sizeof caps / sizeof caps[0]; i++) {
        memset(small, 'Z', sizeof small);
        int m = ftp_replyf(small, caps[i], 550, "%s: No such file.", text);
        if ((m >= 0) != (caps[i] > (size_t)n) || (m >= 0 && strcmp(small, full) != 0))
            abort();
        for (size_t j = caps[i]; j < sizeof small; j++)
            if (small[j] != 'Z')
                abort();
    }
}

static void check_path(const char *arg)
{
    char p[FTP_PATH_MAX], q[FTP_PATH_MAX];
    if (ftp_path_resolve("/a/b", arg, p, sizeof p) != 0)
        return;
    size_t n = strlen(p);
    if (p[0] != '/' || (n > 1 && p[n - 1] == '/') || strstr(p, "//") || strstr(p, "/./") ||
        strstr(p, "/../") || (n >= 2 && !strcmp(p + n - 2, "/.")) ||
        (n >= 3 && !strcmp(p + n - 3, "/..")) || strpbrk(p, "\r\n"))
        abort();
    if (ftp_path_resolve("/", p, q, sizeof q) != 0 || strcmp(p, q) != 0)
        abort();
}

static void check_command(char *line, size_t len, unsigned seed)
{
    /* The raw line first: it may hold a CR (sent as CR NUL) that the
     * parser would refuse, and a reply may still quote it (500 XYZ). */
    check_reply(line);
    check_path(line);
    struct ftp_cmd c;
    int rc = ftp_cmd_parse(line, len, &c);
    if (rc != 0 && rc != 500 && rc != 501 && rc != 502)
        abort();
    if (rc == 500 || rc == 502)
        return;
    struct ftp_hostport hp, hp2;
    char text[128];
    if (c.verb == FTP_PORT && ftp_parse_port(c.arg, &hp) == 0) {
        if (ftp_format_port(text, sizeof text, &hp) < 0 || ftp_parse_port(text, &hp2) != 0)
            abort();
        same_hp(&hp, &hp2);
    }
    if ((c.verb == FTP_EPRT && ftp_parse_eprt(c.arg, &hp) == 0) ||
        (c.verb == FTP_PORT && ftp_parse_port(c.arg, &hp) == 0)) {
        if (ftp_format_eprt(text, sizeof text, &hp) < 0 || ftp_parse_eprt(text, &hp2) != 0)
            abort();
        same_hp(&hp, &hp2);
    }
    check_reply(c.arg);
    check_path(c.arg);
    struct ftp_state s = {
        .require_tls = seed & 1,
        .tls = seed >> 1 & 1,
        .pbsz = seed >> 2 & 1,
        .prot_private = seed >> 3 & 1,
        .user_given = seed >> 4 & 1,
        .logged_in = seed >> 5 & 1,
        .anonymous = seed >> 6 & 1,
        .rnfr = seed >> 7 & 1,
        .transfer = seed >> 8 & 1,
    };
    const char *why;
    switch (ftp_cmd_allowed(&c, &s, &why)) {
    case 0:
    case 500:
    case 503:
    case 521:
    case 530:
    case 534:
    case 550: break;
    default: abort();
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > 4096)
        return 0;
    static struct record whole, piece;
    run(data, size, size, size, &whole);
    run(data, size, 0, 1, &piece);
    if (whole.len != piece.len || memcmp(whole.buf, piece.buf, whole.len) != 0)
        abort();
    for (size_t cut = 1; cut < size; cut++) {
        run(data, size, cut, size, &piece);
        if (whole.len != piece.len || memcmp(whole.buf, piece.buf, whole.len) != 0)
            abort();
    }
    /* every line as a command */
    unsigned seed = 0;
    for (size_t off = 0; off < whole.len;) {
        int rc = whole.buf[off];
        size_t n = (size_t)whole.buf[off + 1] << 8 | whole.buf[off + 2];
        static char line[FTP_LINE_MAX + 1];
        memcpy(line, whole.buf + off + 3, n);
        line[n] = '\0';
        off += 3 + n;
        if (rc == FTP_LINE_DONE)
            check_command(line, n, seed += 37);
    }
    return 0;
}
