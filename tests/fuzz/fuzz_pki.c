/*
 * fuzz_pki - libFuzzer target for the PKI input parsers, through the public
 * API: the input as a PEM string, as DER (when its outer header fits the
 * input, since DER memory input takes its length from that header), as a
 * CRL and as a private key. Nothing may crash or leak. What the parser
 * accepts is read again, and must behave the same (properties):
 *   - the same data under the same ID while stored: refused as a duplicate
 *     (-1, API_EINVAL), the entry still there;
 *   - deleted: PKI_CertificateDel gives 0, a second one -1 API_ENOENT (the
 *     ID is gone), and the same data is accepted again under that ID with
 *     the same flags (flags are stable);
 *   - a certificate or CRL accepted from PEM is accepted from the DER of its
 *     PEM block too (decoded here, strictly; inputs whose block is not plain
 *     base64 skip this one), with the same flags.
 * A broken property aborts with a message.
 */
#include "tcpip.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static size_t der_len(const uint8_t *p, size_t size)
{
    if (size < 2 || p[0] != 0x30)
        return 0;
    if (p[1] < 0x80)
        return 2 + (size_t)p[1];
    size_t nb = p[1] & 0x7f, len = 0;
    if (nb == 0 || nb > 4 || size < 2 + nb)
        return 0;
    for (size_t i = 0; i < nb; i++)
        len = (len << 8) | p[2 + i];
    return len + 2 + nb;
}

static void broken(const char *what, const char *kind, int rc, int err)
{
    fprintf(stderr, "fuzz_pki: %s (%s): got %d, error/flags %d\n", what, kind, rc, err);
    abort();
}

static int add(const char *id, const char *data, int fmt, int type, int *err)
{
    PKI_CERT_ADD_Entry e = {data, fmt | PKI_FMT_MEMORY, type, id, (int)strlen(id), NULL};

    return PKI_CertificateAdd(&e, err);
}

/* The ID is stored: delete it; it must be gone afterwards. */
static void del_gone(const char *id, const char *kind)
{
    int err, rc;

    rc = PKI_CertificateDel((void *)id, PKI_CERT_NONLOCAL, &err);
    if (rc != 0)
        broken("PKI_CertificateDel of a stored ID", kind, rc, err);
    rc = PKI_CertificateDel((void *)id, PKI_CERT_LOCAL | PKI_CERT_NONLOCAL, &err);
    if (rc != -1 || err != API_ENOENT)
        broken("PKI_CertificateDel of a deleted ID: want -1 API_ENOENT", kind, rc, err);
}

/* Add data; when accepted, check the re-reading properties (see the top)
 * and leave nothing stored. Returns 1 when accepted, with its flags. */
static int try_add(const char *data, int fmt, int type, const char *kind, int *flags)
{
    int err, err2, rc;

    if (add("fuzz", data, fmt, type, &err) != 0)
        return 0;
    *flags = err;
    rc = add("fuzz", data, fmt, type, &err2);
    if (rc != -1 || err2 != API_EINVAL)
        broken("the same ID again while stored: want -1 API_EINVAL", kind, rc, err2);
    del_gone("fuzz", kind);
    rc = add("fuzz", data, fmt, type, &err2);
    if (rc != 0 || err2 != *flags)
        broken("accepted once, then not with the same flags", kind, rc, err2);
    del_gone("fuzz", kind);
    return 1;
}

/* ------------------------------------------ strict PEM block to DER */

static int b64(int c)
{
    if (c >= 'A' && c <= 'Z')
        return c - 'A';
    if (c >= 'a' && c <= 'z')
        return c - 'a' + 26;
    if (c >= '0' && c <= '9')
        return c - '0' + 52;
    return c == '+' ? 62 : c == '/' ? 63 : -1;
}

/* The DER of the first PEM block of pem when it is the block a parser of
 * `label` takes and is plain: the input's first "-----BEGIN " is
 * "-----BEGIN <label>-----\n" at the start of a line, followed by lines of
 * base64 characters only ('=' padding at the very end), then
 * "-----END <label>-----". Returns the length (malloc'ed in *out), 0 when
 * the input is not that plain. */
static size_t pem_to_der(const char *pem, const char *label, uint8_t **out)
{
    char begin[64], end[64];
    const char *first = strstr(pem, "-----BEGIN "), *p, *stop;
    size_t n = 0, pad = 0;
    uint32_t acc = 0;
    int bits = 0;

    snprintf(begin, sizeof begin, "-----BEGIN %s-----\n", label);
    snprintf(end, sizeof end, "\n-----END %s-----", label);
    if (!first || (first != pem && first[-1] != '\n') || strncmp(first, begin, strlen(begin)) != 0)
        return 0;
    p = first + strlen(begin);
    stop = strstr(p - 1, end);
    if (!stop || stop < p)
        return 0;
    *out = malloc((size_t)(stop - p) + 1);
    if (!*out)
        abort();
    for (; p < stop; p++) {
        int v = b64((unsigned char)*p);

        if (*p == '\n')
            continue;
        if (*p == '=' && pad < 2) {
            pad++;
            continue;
        }
        if (v < 0 || pad > 0) /* another byte, or data after the padding */
            goto not_plain;
        acc = (acc << 6) | (uint32_t)v;
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            (*out)[n++] = (uint8_t)(acc >> bits);
        }
    }
    /* whole groups of four: 0, 2 or 4 bits left over match the padding */
    if ((pad == 0 && bits != 0) || (pad == 1 && bits != 2) || (pad == 2 && bits != 4))
        goto not_plain;
    if (n > 0 && der_len(*out, n) > 0 && der_len(*out, n) <= n)
        return n;
not_plain:
    free(*out);
    *out = NULL;
    return 0;
}

/* Accepted from PEM: the DER of its block must be accepted, same flags. */
static void pem_again_as_der(const char *pem, const char *label, int type, int flags,
                             const char *kind)
{
    uint8_t *der = NULL;
    int err, rc;

    if (pem_to_der(pem, label, &der) == 0)
        return;
    rc = add("fuzz-der", (const char *)der, PKI_FMT_DER, type, &err);
    if (rc != 0 || err != flags) {
        fprintf(stderr, "fuzz_pki: accepted from PEM with flags %d\n", flags);
        broken("the DER of an accepted PEM block", kind, rc, err);
    }
    del_gone("fuzz-der", kind);
    free(der);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *pem = malloc(size + 1);
    int flags, err;

    if (!pem)
        abort();
    memcpy(pem, data, size);
    pem[size] = '\0';
    if (try_add(pem, PKI_FMT_PEM, PKI_CERT_NONLOCAL, "certificate, PEM", &flags))
        pem_again_as_der(pem, "CERTIFICATE", PKI_CERT_NONLOCAL, flags, "certificate, PEM");
    if (try_add(pem, PKI_FMT_PEM, PKI_CERT_CRL, "CRL, PEM", &flags))
        pem_again_as_der(pem, "X509 CRL", PKI_CERT_CRL, flags, "CRL, PEM");
    size_t dl = der_len(data, size);
    if (dl > 0 && dl <= size) {
        try_add((const char *)data, PKI_FMT_DER, PKI_CERT_NONLOCAL | PKI_CERT_ROOTCA,
                "root CA, DER", &flags);
        try_add((const char *)data, PKI_FMT_DER, PKI_CERT_CRL, "CRL, DER", &flags);
        for (int t = PKI_KEY_RSA; t <= PKI_KEY_ED25519; t++) {
            PKI_OWNKEYPAIR_ADD_Entry k = {(const char *)data, PKI_FMT_DER | PKI_FMT_MEMORY, t};
            PKI_OwnKeyPairAdd(&k, &err);
        }
    }
    for (int t = PKI_KEY_RSA; t <= PKI_KEY_ED25519; t++) {
        PKI_OWNKEYPAIR_ADD_Entry k = {pem, PKI_FMT_PEM | PKI_FMT_MEMORY, t};
        PKI_OwnKeyPairAdd(&k, &err);
    }
    free(pem);
    return 0;
}
