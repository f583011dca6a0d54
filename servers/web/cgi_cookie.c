/*
 * cgi_cookie.c - CGI_SetCookie (Set-Cookie strings in the request's own
 * buffer) and CGI_GetCookie (the Cookie header, parsed in place).
 * No lock: they work on the caller's rpCgi only.
 */
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "cgi_internal.h"

/* RFC 9110 5.6.2 token characters: a cookie name is a token. */
static int is_token(const char *s)
{
    if (*s == '\0')
        return 0;
    for (; *s != '\0'; s++) {
        unsigned char c = (unsigned char)*s;
        if (!((c >= '0' && c <= '9') || (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
              strchr("!#$%&'*+-.^_`|~", c) != NULL))
            return 0;
    }
    return 1;
}

/* RFC 6265 4.1.1 cookie-octet, which also keeps a value from ending the
 * header line or adding an attribute (no CR, LF, ';', ','). */
static int is_cookie_text(const char *s)
{
    return s == NULL || (cgi_printable(s, 0) && strpbrk(s, ";,\"\\") == NULL);
}

/* The IMF-fixdate of RFC 9110 5.6.7, written without strftime so that the
 * process locale cannot change the day and month names. */
static void http_date(char *buf, size_t size, time_t t)
{
    static const char days[7][4] = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
    static const char months[12][4] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                       "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
    struct tm tm;

    gmtime_r(&t, &tm);
    snprintf(buf, size, "%s, %02d %s %04d %02d:%02d:%02d GMT", days[tm.tm_wday], tm.tm_mday,
             months[tm.tm_mon], tm.tm_year + 1900, tm.tm_hour, tm.tm_min, tm.tm_sec);
}

/* Bytes used by the strings already in the buffer (each with its NUL). */
static size_t cookie_bytes_used(const rpCgi *req)
{
    size_t used = 0;
    int i;

    for (i = 0; i < req->fNumOfSetCookieHeaders && used < sizeof req->fSetCookieBuffer; i++)
        used += strnlen(req->fSetCookieBuffer + used, sizeof req->fSetCookieBuffer - used) + 1;
    return used;
}

/* Appends to line[CGI_MAX_COOKIE_SIZE + 1] at *len; -1 when it would not
 * fit (the caller then reports CGI_COOKIE_ERR_SIZE). */
static int append(char *line, size_t *len, const char *a, const char *b)
{
    size_t na = strlen(a), nb = strlen(b);

    if (*len + na + nb > CGI_MAX_COOKIE_SIZE)
        return -1;
    memcpy(line + *len, a, na);
    memcpy(line + *len + na, b, nb + 1);
    *len += na + nb;
    return 0;
}

int CGI_SetCookie(const char *name, const char *value, const char *domain,
                  const unsigned long *expires, const char *path, const int secure, rpCgiPtr req)
{
    char line[CGI_MAX_COOKIE_SIZE + 1], date[80];
    int del = value == NULL || value[0] == '\0', bad = 0;
    size_t used, len = 0;

    if (req == NULL || name == NULL || !is_token(name) || !is_cookie_text(value) ||
        !is_cookie_text(domain) || !is_cookie_text(path) || req->fNumOfSetCookieHeaders < 0)
        return CGI_COOKIE_ERR_PARAM;
    bad |= append(line, &len, name, "=");
    bad |= append(line, &len, del ? "" : value, "");
    if (del) {
        bad |= append(line, &len, "; Expires=Thu, 01 Jan 1970 00:00:00 GMT; Max-Age=0", "");
    } else if (expires != NULL) {
        size_t n;
        http_date(date, sizeof date, time(NULL) + (time_t)*expires);
        n = strlen(date);
        snprintf(date + n, sizeof date - n, "; Max-Age=%lu", *expires);
        bad |= append(line, &len, "; Expires=", date);
    }
    if (domain != NULL && domain[0] != '\0')
        bad |= append(line, &len, "; Domain=", domain);
    if (path != NULL && path[0] != '\0')
        bad |= append(line, &len, "; Path=", path);
    if (secure)
        bad |= append(line, &len, "; Secure", "");
    used = cookie_bytes_used(req);
    if (bad || used + len + 1 > sizeof req->fSetCookieBuffer)
        return CGI_COOKIE_ERR_SIZE;
    memcpy(req->fSetCookieBuffer + used, line, len + 1);
    req->fSetCookieHeaders = req->fSetCookieBuffer;
    req->fNumOfSetCookieHeaders++;
    return CGI_COOKIE_ERR_OK;
}

static char *skip_space(char *p)
{
    while (*p == ' ' || *p == '\t')
        p++;
    return p;
}

/* One "name=value" of the header at p: cuts it out in place (NULs over the
 * ';', the '=' and trailing blanks, quotes stripped), returns the text
 * after it. *name is "" for a pair without a name. */
static char *cut_pair(char *p, char **name, char **value)
{
    char *end = p + strcspn(p, ";"), *next = *end != '\0' ? end + 1 : end;
    char *eq, *t;

    *end = '\0';
    p = skip_space(p);
    for (t = end; t > p && (t[-1] == ' ' || t[-1] == '\t'); t--)
        t[-1] = '\0';
    eq = strchr(p, '=');
    if (eq == NULL) {
        *name = p;
        *value = p + strlen(p); /* "" */
        return next;
    }
    *eq = '\0';
    for (t = eq; t > p && (t[-1] == ' ' || t[-1] == '\t'); t--)
        t[-1] = '\0';
    *name = p;
    *value = skip_space(eq + 1);
    t = *value + strlen(*value);
    if (t - *value >= 2 && **value == '"' && t[-1] == '"') {
        t[-1] = '\0';
        (*value)++;
    }
    return next;
}

int CGI_GetCookie(char **name, char **value, char **domain, char **path, char **port,
                  char **version, rpCgiPtr req)
{
    char *p, *n, *v, *ver = NULL;

    if (name == NULL || value == NULL || req == NULL)
        return CGI_COOKIE_ERR_PARAM;
    if (domain != NULL)
        *domain = NULL;
    if (path != NULL)
        *path = NULL;
    if (port != NULL)
        *port = NULL;
    if (version != NULL)
        *version = NULL;
    p = req->fCookieHeader;
    if (p == NULL)
        return CGI_COOKIE_ERR_NONE;
    if (strlen(p) > CGI_MAX_COOKIE_SIZE)
        return CGI_COOKIE_ERR_SIZE;
    for (;;) {
        p = skip_space(p);
        if (*p == '\0') {
            req->fCookieHeader = p;
            return CGI_COOKIE_ERR_NONE;
        }
        p = cut_pair(p, &n, &v);
        if (strcasecmp(n, "$Version") == 0)
            ver = v; /* RFC 2965: belongs to the cookies that follow */
        else if (n[0] != '\0' && n[0] != '$')
            break;
        /* other attributes without a cookie before them, empty names: skip */
    }
    *name = n;
    *value = v;
    if (version != NULL)
        *version = ver;
    /* The cookie's own RFC 2965 attributes follow it. A pair that is not
     * one is left untouched for the next call. */
    for (;;) {
        char *q = skip_space(p), **out = NULL;
        if (*q != '$')
            break;
        if (strncasecmp(q, "$Path", 5) == 0 && strchr("= \t", q[5]) != NULL)
            out = path;
        else if (strncasecmp(q, "$Domain", 7) == 0 && strchr("= \t", q[7]) != NULL)
            out = domain;
        else if (strncasecmp(q, "$Port", 5) == 0 && strchr("= \t;", q[5]) != NULL)
            out = port;
        else if (strncasecmp(q, "$Version", 8) == 0)
            break; /* the next cookie's */
        p = cut_pair(q, &n, &v);
        if (out != NULL)
            *out = v;
    }
    req->fCookieHeader = p;
    return CGI_COOKIE_ERR_OK;
}
