/*
 * fuzz_hostname - libFuzzer target for the host-name matcher: the input is
 * split at the first NUL into pattern and name. The matcher must never read
 * out of bounds, and an exact copy of a valid name must match itself.
 */
#include "hostname.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const uint8_t *nul = memchr(data, 0, size);
    size_t plen = nul ? (size_t)(nul - data) : size;
    size_t nlen = nul ? size - plen - 1 : 0;
    char *pattern = malloc(plen ? plen : 1);
    char *name = malloc(nlen + 1);
    if (!pattern || !name)
        abort();
    memcpy(pattern, data, plen);
    if (nul)
        memcpy(name, nul + 1, nlen);
    name[nlen] = '\0';
    int m = chipssl_name_match(pattern, plen, name);
    if (m != 0 && m != 1)
        abort();
    /* A name without `*` or NUL matches itself when it matches anything. */
    if (m && !memchr(pattern, '*', plen) && strlen(name) == nlen &&
        !chipssl_name_match(name, nlen, name))
        abort();
    chipssl_name_is_ip(name);
    free(pattern);
    free(name);
    return 0;
}
