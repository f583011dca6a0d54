/*
 * chipssl_config.h - compile-time limits of chipssl, in one place.
 *
 * Every limit can be overridden on the compiler command line when the library
 * is built (for example -DCHIPSSL_MAX_SESSIONS=128); applications see the
 * values the library was built with only if they use the same definitions,
 * so change them through CMake (CHIPSSL_EXTRA_DEFINES) rather than by hand.
 */
#ifndef CHIPSSL_CONFIG_H
#define CHIPSSL_CONFIG_H

/* Number of SSL sessions that may exist at once (IDs 1..CHIPSSL_MAX_SESSIONS).
 * The original allowed a handful; servers with per-purpose sessions need more. */
#ifndef CHIPSSL_MAX_SESSIONS
#define CHIPSSL_MAX_SESSIONS 64
#endif

/* Longest cipher-suite proposal list accepted by SSL_SessionProp(). */
#ifndef CHIPSSL_MAX_PROPOSALS
#define CHIPSSL_MAX_PROPOSALS 32
#endif

/* Longest PKI ID in bytes (idLength of PKI_CertificateAdd, strlen of the
 * NUL-terminated IDs used everywhere else). */
#ifndef CHIPSSL_MAX_ID_LEN
#define CHIPSSL_MAX_ID_LEN 64
#endif

/* Largest maxCaches of SSL_SessionNew(): resumption cache entries per session. */
#ifndef CHIPSSL_MAX_CACHES
#define CHIPSSL_MAX_CACHES 4096
#endif

/* Largest number of CAs one session accepts through SSL_AddClientCA(). */
#ifndef CHIPSSL_MAX_CLIENT_CAS
#define CHIPSSL_MAX_CLIENT_CAS 16
#endif

/* Own certificates one session can present, chosen by SNI: the default
 * (SSL_SessionNew's certIdentity) and those of SSL_SessionAddIdentity(). */
#ifndef CHIPSSL_MAX_IDENTITIES
#define CHIPSSL_MAX_IDENTITIES 8
#endif

/* Own key pairs added with PKI_OwnKeyPairAdd() and not yet taken by a LOCAL
 * certificate. One more pending key fails with API_ENOBUFS. */
#ifndef CHIPSSL_MAX_PENDING_KEYS
#define CHIPSSL_MAX_PENDING_KEYS 8
#endif

/* Largest certificate, key, CRL or bundle file read by the PKI, in bytes. */
#ifndef CHIPSSL_MAX_PKI_FILE
#define CHIPSSL_MAX_PKI_FILE (4L * 1024 * 1024)
#endif

/* Highest socket descriptor the library can track (the per-socket table is
 * allocated in blocks of 1024 on first use, never all at once). */
#ifndef CHIPSSL_MAX_FD
#define CHIPSSL_MAX_FD (1024 * 1024)
#endif

/* TCP_SSL_CONNECT_TIMEOUT default, in seconds. */
#ifndef CHIPSSL_DEFAULT_CONNECT_TIMEOUT
#define CHIPSSL_DEFAULT_CONNECT_TIMEOUT 10
#endif

#if CHIPSSL_MAX_SESSIONS < 1 || CHIPSSL_MAX_SESSIONS > 4096
#error "CHIPSSL_MAX_SESSIONS must be 1..4096"
#endif
#if CHIPSSL_MAX_PROPOSALS < 1 || CHIPSSL_MAX_PROPOSALS > 128
#error "CHIPSSL_MAX_PROPOSALS must be 1..128"
#endif
#if CHIPSSL_MAX_IDENTITIES < 1 || CHIPSSL_MAX_IDENTITIES > 256
#error "CHIPSSL_MAX_IDENTITIES must be 1..256"
#endif
#if CHIPSSL_MAX_ID_LEN < 1 || CHIPSSL_MAX_ID_LEN > 1024
#error "CHIPSSL_MAX_ID_LEN must be 1..1024"
#endif
#if CHIPSSL_MAX_CACHES < 1
#error "CHIPSSL_MAX_CACHES must be at least 1"
#endif
#if CHIPSSL_MAX_FD < 1024 || (CHIPSSL_MAX_FD % 1024) != 0
#error "CHIPSSL_MAX_FD must be a multiple of 1024"
#endif
#if CHIPSSL_DEFAULT_CONNECT_TIMEOUT < 0
#error "CHIPSSL_DEFAULT_CONNECT_TIMEOUT must not be negative"
#endif

#endif /* CHIPSSL_CONFIG_H */
