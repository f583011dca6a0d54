/*
 * fuzz_hostname - libFuzzer target for the host-name matcher: the input is
 * split at the first NUL into pattern and name (the name ends at its own
 * first NUL, as a C string does). Properties, besides never reading out of
 * bounds:
 *   - chipssl_name_match gives what a reference matcher gives, written here
 *     from the rules of hostname.h the simple way (labels split into an
 *     array, a recursive glob within the first label);
 *   - a name without `*` that matches something matches itself;
 *   - chipssl_name_is_ip is inet_pton's verdict.
 * A difference aborts with both inputs printed (\xNN for other bytes).
 */
#include "hostname.h"

#include <arpa/inet.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ------------------------------------------------------------ reference */

#define REF_MAX_LABELS 256

struct label {
    const char *p;
    size_t n;
};

static int ref_fold(unsigned char c)
{
    return c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c;
}

static int ref_same(const char *a, const char *b, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (ref_fold((unsigned char)a[i]) != ref_fold((unsigned char)b[i]))
            return 0;
    return 1;
}

/* The labels of s (n bytes) split at every '.'; -1 when a label is empty
 * (this includes the empty string) or there are too many. */
static int ref_split(const char *s, size_t n, struct label *out)
{
    int count = 0;
    size_t start = 0;

    for (size_t i = 0; i <= n; i++) {
        if (i < n && s[i] != '.')
            continue;
        if (i == start || count == REF_MAX_LABELS)
            return -1;
        out[count].p = s + start;
        out[count].n = i - start;
        count++;
        start = i + 1;
    }
    return count;
}

/* `*` in p matches any run of bytes of s, anything else one equal byte. */
static int ref_glob(const char *p, size_t pn, const char *s, size_t sn)
{
    if (pn == 0)
        return sn == 0;
    if (p[0] == '*') {
        for (size_t k = 0; k <= sn; k++)
            if (ref_glob(p + 1, pn - 1, s + k, sn - k))
                return 1;
        return 0;
    }
    return sn > 0 && ref_fold((unsigned char)p[0]) == ref_fold((unsigned char)s[0]) &&
           ref_glob(p + 1, pn - 1, s + 1, sn - 1);
}

static int ref_is_ip(const char *s, size_t n)
{
    char buf[64];
    unsigned char a[16];

    if (n >= sizeof buf)
        return 0;
    memcpy(buf, s, n);
    buf[n] = '\0';
    return inet_pton(AF_INET, buf, a) == 1 || inet_pton(AF_INET6, buf, a) == 1;
}

/* hostname.h: one trailing dot ignored on either side; both must be valid
 * names with the same number of labels; without `*`, equal but for the case
 * of ASCII letters; with `*`: exactly one, in the left-most label of a name
 * of two labels or more, never against an IP literal, the other labels
 * equal, and the first label matched as a glob. */
static int ref_match(const char *pattern, size_t plen, const char *name)
{
    static struct label pl[REF_MAX_LABELS], nl[REF_MAX_LABELS];
    size_t nlen = strlen(name), stars = 0;
    int np, nn;

    if (memchr(pattern, '\0', plen))
        return 0;
    if (plen > 0 && pattern[plen - 1] == '.')
        plen--;
    if (nlen > 0 && name[nlen - 1] == '.')
        nlen--;
    np = ref_split(pattern, plen, pl);
    nn = ref_split(name, nlen, nl);
    if (np < 0 || nn < 0 || np != nn)
        return 0;
    for (size_t i = 0; i < plen; i++)
        stars += pattern[i] == '*';
    if (stars == 0)
        return plen == nlen && ref_same(pattern, name, plen);
    if (stars > 1 || !memchr(pl[0].p, '*', pl[0].n) || np < 2 || ref_is_ip(name, nlen))
        return 0;
    for (int i = 1; i < np; i++)
        if (pl[i].n != nl[i].n || !ref_same(pl[i].p, nl[i].p, pl[i].n))
            return 0;
    return ref_glob(pl[0].p, pl[0].n, nl[0].p, nl[0].n);
}

/* ------------------------------------------------------------ the target */

static void print_bytes(const char *what, const char *s, size_t n)
{
    fprintf(stderr, "%s \"", what);
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];

        if (c >= 0x20 && c < 0x7f && c != '\\' && c != '"')
            fputc(c, stderr);
        else
            fprintf(stderr, "\\x%02x", c);
    }
    fprintf(stderr, "\"\n");
}

static void differ(const char *what, const char *pattern, size_t plen, const char *name, int got,
                   int want)
{
    fprintf(stderr, "fuzz_hostname: %s: got %d, want %d\n", what, got, want);
    print_bytes("  pattern", pattern, plen);
    print_bytes("  name   ", name, strlen(name));
    abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const uint8_t *nul = memchr(data, 0, size);
    size_t plen = nul ? (size_t)(nul - data) : size;
    size_t nlen = nul ? size - plen - 1 : 0;
    char *pattern = malloc(plen ? plen : 1);
    char *name = malloc(nlen + 1);
    unsigned char a[16];

    if (!pattern || !name)
        abort();
    memcpy(pattern, data, plen);
    if (nul)
        memcpy(name, nul + 1, nlen);
    name[nlen] = '\0';

    int m = chipssl_name_match(pattern, plen, name);
    int want = ref_match(pattern, plen, name);
    if (m != want)
        differ("chipssl_name_match differs from the reference", pattern, plen, name, m, want);
    /* A name without `*` matches itself when it matches anything. */
    if (m && !memchr(name, '*', strlen(name)) && chipssl_name_match(name, strlen(name), name) != 1)
        differ("a matching name does not match itself", name, strlen(name), name, 0, 1);
    int ip = inet_pton(AF_INET, name, a) == 1 || inet_pton(AF_INET6, name, a) == 1;
    if (chipssl_name_is_ip(name) != ip)
        differ("chipssl_name_is_ip differs from inet_pton", name, strlen(name), name,
               chipssl_name_is_ip(name), ip);
    free(pattern);
    free(name);
    return 0;
}
