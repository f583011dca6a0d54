/*
 * fuzz_pki - libFuzzer target for the PKI input parsers, through the public
 * API: the input as a PEM string, as DER (when its outer header fits the
 * input, since DER memory input takes its length from that header), as a CRL
 * and as a private key. Nothing may crash or leak; whatever is stored is
 * deleted again.
 */
#include "tcpip.h"

#include <stdint.h>
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

static void try_cert(const char *data, int fmt, int type)
{
    int err;
    PKI_CERT_ADD_Entry e = { data, fmt | PKI_FMT_MEMORY, type, "fuzz", 4, NULL };
    if (PKI_CertificateAdd(&e, &err) == 0)
        PKI_CertificateDel("fuzz", PKI_CERT_LOCAL | PKI_CERT_NONLOCAL, &err);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *pem = malloc(size + 1);
    if (!pem)
        abort();
    memcpy(pem, data, size);
    pem[size] = '\0';
    try_cert(pem, PKI_FMT_PEM, PKI_CERT_NONLOCAL);
    try_cert(pem, PKI_FMT_PEM, PKI_CERT_CRL);
    size_t dl = der_len(data, size);
    if (dl > 0 && dl <= size) {
        try_cert((const char *)data, PKI_FMT_DER, PKI_CERT_NONLOCAL | PKI_CERT_ROOTCA);
        try_cert((const char *)data, PKI_FMT_DER, PKI_CERT_CRL);
        int err;
        for (int t = PKI_KEY_RSA; t <= PKI_KEY_ED25519; t++) {
            PKI_OWNKEYPAIR_ADD_Entry k = { (const char *)data, PKI_FMT_DER | PKI_FMT_MEMORY, t };
            PKI_OwnKeyPairAdd(&k, &err);
        }
    }
    int err;
    for (int t = PKI_KEY_RSA; t <= PKI_KEY_ED25519; t++) {
        PKI_OWNKEYPAIR_ADD_Entry k = { pem, PKI_FMT_PEM | PKI_FMT_MEMORY, t };
        PKI_OwnKeyPairAdd(&k, &err);
    }
    free(pem);
    return 0;
}
