/*
 * suites.c - the cipher-suite table. Only suites with forward secrecy or the
 * original's RSA AES ones, all with AES-GCM/CCM, ChaCha20-Poly1305 or AES-CBC
 * with SHA-1/SHA-2 HMAC: nothing that RFC 7465 (RC4), RFC 8996 or the
 * engine's security level would reject.
 */
#include "suites.h"

#include <stddef.h>

static const struct chip_suite table[] = {
    /* TLS 1.3 (RFC 8446 B.4) */
    { 0x1301, "TLS_AES_128_GCM_SHA256", 1 },
    { 0x1302, "TLS_AES_256_GCM_SHA384", 1 },
    { 0x1303, "TLS_CHACHA20_POLY1305_SHA256", 1 },
    { 0x1304, "TLS_AES_128_CCM_SHA256", 1 },
    /* TLS 1.2 ECDHE (RFC 5289, RFC 7905) */
    { 0xC02B, "TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256", 0 },
    { 0xC02C, "TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384", 0 },
    { 0xC02F, "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256", 0 },
    { 0xC030, "TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384", 0 },
    { 0xCCA9, "TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256", 0 },
    { 0xCCA8, "TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256", 0 },
    { 0xC023, "TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA256", 0 },
    { 0xC024, "TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA384", 0 },
    { 0xC027, "TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA256", 0 },
    { 0xC028, "TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA384", 0 },
    { 0xC009, "TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA", 0 },
    { 0xC00A, "TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA", 0 },
    { 0xC013, "TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA", 0 },
    { 0xC014, "TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA", 0 },
    /* TLS 1.2 DHE-RSA (RFC 5288, RFC 7905) */
    { 0x009E, "TLS_DHE_RSA_WITH_AES_128_GCM_SHA256", 0 },
    { 0x009F, "TLS_DHE_RSA_WITH_AES_256_GCM_SHA384", 0 },
    { 0xCCAA, "TLS_DHE_RSA_WITH_CHACHA20_POLY1305_SHA256", 0 },
    /* TLS 1.2 RSA key exchange: the original's suites (RFC 5246, 5288) */
    { 0x009C, "TLS_RSA_WITH_AES_128_GCM_SHA256", 0 },
    { 0x009D, "TLS_RSA_WITH_AES_256_GCM_SHA384", 0 },
    { 0x002F, "TLS_RSA_WITH_AES_128_CBC_SHA", 0 },
    { 0x0035, "TLS_RSA_WITH_AES_256_CBC_SHA", 0 },
    { 0x003C, "TLS_RSA_WITH_AES_128_CBC_SHA256", 0 },
    { 0x003D, "TLS_RSA_WITH_AES_256_CBC_SHA256", 0 },
};

const int chip_default_suites[] = {
    0x1301, 0x1302, 0x1303, 0xC02B, 0xC02F, 0xC02C, 0xC030, 0xCCA9, 0xCCA8,
};
const int chip_default_suite_count =
    (int)(sizeof(chip_default_suites) / sizeof(chip_default_suites[0]));

const struct chip_suite *chip_suite_find(int iana)
{
    for (size_t i = 0; i < sizeof(table) / sizeof(table[0]); i++)
        if (table[i].iana == iana)
            return &table[i];
    return NULL;
}

const struct chip_suite *chip_suite_at(int i)
{
    return i >= 0 && (size_t)i < sizeof(table) / sizeof(table[0]) ? &table[i] : NULL;
}
