/*
 * multipart_hdr.c - the header lines of one multipart/form-data part
 * (Content-Disposition, Content-Type) and the file name rule.
 */
#include <string.h>
#include <strings.h>

#include "multipart.h"
#include "multipart_internal.h"

/* Sets *why and returns err. */
#define FAIL(err, w) return (*why = (w), (err))

static int tchar(unsigned char c)
{
    return c > 0x20 && c < 0x7f && strchr("\"(),/:;<=>?@[\\]{}", c) == NULL;
}

static int is_ws(char c)
{
    return c == ' ' || c == '\t';
}

/* Copies v[0..n) NUL-terminated into dst[size]; -413 when too long. */
static int copy(char *dst, size_t size, const char *v, size_t n)
{
    if (n >= size)
        return -413;
    memcpy(dst, v, n);
    dst[n] = '\0';
    return 0;
}

/* form-data; name="x"; filename="y" (RFC 7578 4.2; quoted values end at
 * the next '"', multipart.h). */
static int disposition(struct multipart_part *p, const char *v, size_t n, const char **why)
{
    size_t i = 0;
    int has_name = 0;

    while (i < n && tchar((unsigned char)v[i]))
        i++;
    if (i != 9 || strncasecmp(v, "form-data", 9) != 0)
        FAIL(-400, "part: Content-Disposition is not form-data");
    for (;;) {
        while (i < n && is_ws(v[i]))
            i++;
        if (i == n)
            break;
        if (v[i++] != ';')
            FAIL(-400, "part: Content-Disposition: ';' expected");
        while (i < n && is_ws(v[i]))
            i++;
        const char *pn = v + i;
        while (i < n && tchar((unsigned char)v[i]) && v[i] != '=')
            i++;
        size_t pnl = (size_t)(v + i - pn);
        while (i < n && is_ws(v[i]))
            i++;
        if (pnl == 0 || i == n || v[i++] != '=')
            FAIL(-400, "part: Content-Disposition: bad parameter");
        while (i < n && is_ws(v[i]))
            i++;
        const char *val;
        size_t vl;
        if (i < n && v[i] == '"') {
            val = v + ++i;
            while (i < n && v[i] != '"')
                i++;
            if (i == n)
                FAIL(-400, "part: Content-Disposition: unterminated quote");
            vl = (size_t)(v + i++ - val);
        } else {
            val = v + i;
            while (i < n && tchar((unsigned char)v[i]))
                i++;
            vl = (size_t)(v + i - val);
            if (vl == 0)
                FAIL(-400, "part: Content-Disposition: empty parameter value");
        }
        int rc = 0;
        if (pnl == 4 && strncasecmp(pn, "name", 4) == 0) {
            if (has_name)
                FAIL(-400, "part: name= twice");
            has_name = 1;
            rc = copy(p->name, sizeof p->name, val, vl);
        } else if (pnl == 8 && strncasecmp(pn, "filename", 8) == 0) {
            char raw[MULTIPART_MAX_FILENAME + 1];
            if (p->has_filename)
                FAIL(-400, "part: filename= twice");
            p->has_filename = 1;
            rc = copy(raw, sizeof raw, val, vl);
            if (rc == 0 &&
                multipart_sanitize_filename(raw, vl, p->filename, sizeof p->filename) < 0)
                rc = -413; /* cannot happen: the result is never longer */
        }
        if (rc < 0)
            FAIL(rc, "part: name or filename too long");
    }
    if (!has_name)
        FAIL(-400, "part: Content-Disposition without name=");
    return 0;
}

int multipart_parse_headers(struct multipart *m, const char *h, size_t n, const char **why)
{
    struct multipart_part *p = &m->part;
    int has_cd = 0, has_ct = 0, rc;

    memset(p, 0, sizeof *p);
    while (n > 0) {
        const char *eol = memchr(h, '\r', n); /* lines end in CRLF (multipart.c) */
        size_t len = (size_t)(eol - h), i = 0, j;

        if (eol[1] != '\n')
            FAIL(-400, "part: bare CR in a header"); /* the block ends in CRLF: eol[1] exists */

        while (i < len && tchar((unsigned char)h[i]))
            i++;
        if (i == 0 || i == len || h[i] != ':')
            FAIL(-400, "part: header line without name and ':' (or folded)");
        size_t name = i++;
        while (i < len && is_ws(h[i]))
            i++;
        for (j = i; j < len; j++)
            if (((unsigned char)h[j] < 0x20 && h[j] != '\t') || h[j] == 0x7f)
                FAIL(-400, "part: control character in a header");
        while (len > i && is_ws(h[len - 1]))
            len--;
        rc = 0;
        if (name == 19 && strncasecmp(h, "Content-Disposition", 19) == 0) {
            if (has_cd++)
                FAIL(-400, "part: Content-Disposition twice");
            rc = disposition(p, h + i, len - i, why);
        } else if (name == 12 && strncasecmp(h, "Content-Type", 12) == 0) {
            if (has_ct++)
                FAIL(-400, "part: Content-Type twice");
            rc = copy(p->content_type, sizeof p->content_type, h + i, len - i);
            if (rc < 0)
                FAIL(rc, "part: Content-Type too long");
        }
        if (rc < 0)
            return rc; /* *why set by disposition */
        len = (size_t)(eol - h) + 2;
        h += len;
        n -= len;
    }
    if (!has_cd)
        FAIL(-400, "part: no Content-Disposition");
    return 0;
}

long multipart_sanitize_filename(const char *in, size_t n, char *out, size_t outsize)
{
    size_t i, start = 0, end, k = 0;

    if (out == NULL || outsize == 0)
        return -1;
    out[0] = '\0';
    if (in == NULL)
        return 0;
    for (i = 0; i < n; i++)
        if (in[i] == '/' || in[i] == '\\')
            start = i + 1;
    while (start < n && (in[start] == '.' || in[start] == ' '))
        start++;
    end = n;
    while (end > start && (in[end - 1] == '.' || in[end - 1] == ' '))
        end--;
    if (end - start >= outsize)
        return -1;
    for (i = start; i < end; i++) {
        unsigned char c = (unsigned char)in[i];
        out[k++] = (c < 0x20 || c == 0x7f || strchr("\"*:<>?|", c) != NULL) ? '_' : (char)c;
    }
    out[k] = '\0';
    return (long)k;
}
