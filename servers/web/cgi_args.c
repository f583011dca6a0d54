/*
 * cgi_args.c - urlencoded arguments: CGI_GetArgument, CGI_UrlEncode,
 * CGI_UrlDecode and the deprecated CGI_GetFormItem / CGI_GetNextItem.
 * No lock: they work on the caller's buffers only.
 */
#include <string.h>

#include "cgi_internal.h"

static int hexval(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

/* Decodes n bytes of src into dst (dst <= src is allowed: the output is
 * never longer than the input); returns the output length. A '%' without
 * two hex digits is kept as it is: browsers send a literal '%' so, and
 * refusing the whole form for it would help nobody. */
static size_t decode(char *dst, const char *src, size_t n)
{
    size_t i = 0, o = 0;

    while (i < n) {
        int hi, lo;
        if (src[i] == '+') {
            dst[o++] = ' ';
            i++;
        } else if (src[i] == '%' && i + 2 < n && (hi = hexval(src[i + 1])) >= 0 &&
                   (lo = hexval(src[i + 2])) >= 0) {
            dst[o++] = (char)(hi << 4 | lo);
            i += 3;
        } else {
            dst[o++] = src[i++];
        }
    }
    return o;
}

void CGI_UrlDecode(char *dst, const char *src)
{
    if (dst == NULL || src == NULL)
        return;
    dst[decode(dst, src, strlen(src))] = '\0';
}

static int keep(unsigned char c)
{
    return (c >= '0' && c <= '9') || (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || c == '_' ||
           c == '.' || c == '-';
}

int CGI_UrlEncode_Ext(char *dst, size_t dstSize, const char *src)
{
    static const char hex[] = "0123456789ABCDEF";
    size_t o = 0;

    if (dst == NULL || src == NULL)
        return -1;
    for (; *src != '\0'; src++) {
        unsigned char c = (unsigned char)*src;
        size_t need = keep(c) || c == ' ' ? 1 : 3;
        if (o + need >= dstSize) {
            if (dstSize > 0)
                dst[0] = '\0';
            return -1;
        }
        if (keep(c)) {
            dst[o++] = (char)c;
        } else if (c == ' ') {
            dst[o++] = '+';
        } else {
            dst[o++] = '%';
            dst[o++] = hex[c >> 4];
            dst[o++] = hex[c & 15];
        }
    }
    if (dstSize == 0)
        return -1;
    dst[o] = '\0';
    return (int)o;
}

void CGI_UrlEncode(char *dst, const char *src)
{
    if (dst == NULL || src == NULL)
        return;
    /* The original's contract: dst holds 3 * strlen(src) + 1 bytes. */
    CGI_UrlEncode_Ext(dst, 3 * strlen(src) + 1, src);
}

int CGI_GetArgument(char **name, char **value, rpCgiPtr req)
{
    char *p, *end, *eq;
    size_t avail, n;

    if (name == NULL || value == NULL || req == NULL)
        return CGI_ARGUMENT_ERR_PARAM;
    for (;;) {
        p = req->fArgumentBufferPtr;
        if (p == NULL || req->fArgumentBufferLength <= 0)
            return CGI_ARGUMENT_ERR_NONE;
        avail = strnlen(p, (size_t)req->fArgumentBufferLength);
        if (avail == 0)
            return CGI_ARGUMENT_ERR_NONE;
        end = memchr(p, '&', avail);
        n = end != NULL ? (size_t)(end - p) : avail;
        /* Move past the pair (and its '&') before decoding it. */
        req->fArgumentBufferPtr = p + n + (end != NULL);
        req->fArgumentBufferLength -= (long)(n + (end != NULL));
        if (n > 0)
            break; /* "&&": an empty pair, skipped */
    }
    eq = memchr(p, '=', n);
    if (eq != NULL) {
        size_t nn = (size_t)(eq - p);
        p[decode(p, p, nn)] = '\0';
        eq[1 + decode(eq + 1, eq + 1, n - nn - 1)] = '\0';
        *value = eq + 1;
    } else {
        /* No '=': the value is "", the terminator we write after the name.
         * p[n] is in the buffer ('&' or the NUL/length end) only when n is
         * shorter than what was left; the server NUL-terminates the buffer
         * (cgi.h), so p[n] is always writable. */
        p[decode(p, p, n)] = '\0';
        *value = p + n;
        p[n] = '\0';
    }
    *name = p;
    return CGI_ARGUMENT_ERR_OK;
}

void CGI_GetFormItem(const char *argbuf, FormItem *fi)
{
    size_t n, nn;
    const char *eq;

    if (argbuf == NULL || fi == NULL || fi->NamePtr == NULL || fi->ValuePtr == NULL)
        return;
    n = strcspn(argbuf, "&");
    eq = memchr(argbuf, '=', n);
    nn = eq != NULL ? (size_t)(eq - argbuf) : n;
    fi->NamePtr[decode(fi->NamePtr, argbuf, nn)] = '\0';
    if (eq != NULL)
        fi->ValuePtr[decode(fi->ValuePtr, eq + 1, n - nn - 1)] = '\0';
    else
        fi->ValuePtr[0] = '\0';
}

int CGI_GetNextItem(char *argbuf, char **next)
{
    char *amp;

    if (next != NULL)
        *next = NULL;
    if (argbuf == NULL || next == NULL || (amp = strchr(argbuf, '&')) == NULL)
        return -1;
    *next = amp + 1;
    return 0;
}
