/*
 * hostname.c - the host-name matcher used for srvCommonName checks.
 * Engine independent and allocation free, so it can be fuzzed alone.
 */
#include "hostname.h"

#include <arpa/inet.h>
#include <string.h>

/* ASCII letters only: any other byte (digits, '-', '\r', bytes >= 0x80)
 * compares as itself, so no two different non-letters are ever equal. */
static int lower(int c)
{
    return (c >= 'A' && c <= 'Z') ? c + ('a' - 'A') : c;
}

static int eq_nocase(const char *a, const char *b, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (lower((unsigned char)a[i]) != lower((unsigned char)b[i]))
            return 0;
    return 1;
}

/* Count labels and check that none is empty. Returns 0 when invalid. */
static size_t count_labels(const char *s, size_t n)
{
    size_t labels = 1, len = 0;
    for (size_t i = 0; i < n; i++) {
        if (s[i] == '.') {
            if (len == 0)
                return 0;
            labels++;
            len = 0;
        } else {
            len++;
        }
    }
    return len == 0 ? 0 : labels;
}

/* 1 when the first n bytes of name are an IPv4 or IPv6 literal. */
static int is_ip_n(const char *name, size_t n)
{
    char buf[INET6_ADDRSTRLEN + 1];

    if (n >= sizeof buf)
        return 0;
    memcpy(buf, name, n);
    buf[n] = '\0';
    return chipssl_name_is_ip(buf);
}

int chipssl_name_match(const char *pattern, size_t plen, const char *name)
{
    if (!pattern || !name || memchr(pattern, '\0', plen))
        return 0;
    size_t nlen = strlen(name);
    /* One trailing dot (an absolute name) is the same name. */
    if (plen > 0 && pattern[plen - 1] == '.')
        plen--;
    if (nlen > 0 && name[nlen - 1] == '.')
        nlen--;
    size_t pl = count_labels(pattern, plen), nl = count_labels(name, nlen);
    if (pl == 0 || nl == 0 || pl != nl)
        return 0;

    const char *pdot = memchr(pattern, '.', plen);
    size_t pfirst = pdot ? (size_t)(pdot - pattern) : plen;
    const char *star = memchr(pattern, '*', plen);
    if (!star)
        return plen == nlen && eq_nocase(pattern, name, nlen);
    /* A wildcard is for DNS names only: "*.0.0.1" must not match the address
     * 127.0.0.1 (RFC 6125 6.4.3 applies to DNS-IDs; an IP is matched whole). */
    if (is_ip_n(name, nlen))
        return 0;

    /* The original's rule: one `*`, in the left-most label, of a name with at
     * least two labels; it matches within that label only. */
    if ((size_t)(star - pattern) >= pfirst || pl < 2 ||
        memchr(star + 1, '*', plen - (size_t)(star - pattern) - 1))
        return 0;
    const char *ndot = memchr(name, '.', nlen);
    size_t nfirst = (size_t)(ndot - name);
    /* The rest after the first label must be equal. */
    if (plen - pfirst != nlen - nfirst ||
        !eq_nocase(pattern + pfirst, name + nfirst, nlen - nfirst))
        return 0;
    size_t pre = (size_t)(star - pattern), post = pfirst - pre - 1;
    if (nfirst < pre + post)
        return 0;
    return eq_nocase(pattern, name, pre) && eq_nocase(star + 1, name + nfirst - post, post);
}

int chipssl_name_is_ip(const char *name)
{
    unsigned char buf[sizeof(struct in6_addr)];
    return name && (inet_pton(AF_INET, name, buf) == 1 || inet_pton(AF_INET6, name, buf) == 1);
}
