/*
 * suites.h - the cipher-suite table: the IANA numbers chipssl accepts.
 * Anything not in the table (NULL, EXPORT, RC4, DES, 3DES, anonymous, PSK,
 * SRP, ...) is refused by SSL_SessionProp.
 */
#ifndef CHIPSSL_SUITES_H
#define CHIPSSL_SUITES_H

struct chip_suite {
    int iana;            /* IANA TLS cipher-suite number */
    const char *name;    /* the IANA name (RFC 8446 B.4, the TLS registry) */
    int tls13;           /* 1: a TLS 1.3 suite, 0: TLS 1.2 */
};

/* The entry for an IANA number, or NULL when unknown or refused. */
const struct chip_suite *chip_suite_find(int iana);

/* Entry i of the table (0..), NULL past its end. */
const struct chip_suite *chip_suite_at(int i);

/* The default proposal list (documented in tcpip.h). */
extern const int chip_default_suites[];
extern const int chip_default_suite_count;

#endif
