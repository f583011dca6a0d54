/*
 * tcpip.h - chipssl: the @CHIP-RTOS TCP/IP, PKI and SSL API on POSIX hosts.
 *
 * An application includes this header (or TCPIP.H, clib.h, CLIB.H) and
 * nothing else to use sockets, the PKI store and SSL sessions.
 *
 * CONVENTIONS
 *   Every function returns API_ERROR (-1) on failure and writes a code to
 *   *error; on success it writes 0 to *error (unless said otherwise). `error`
 *   may not be NULL where the prototype has it, except where said. Error codes
 *   are the original numbering (API_E..., base 200); the PKI functions may
 *   instead write an OR of PKI_CERT_... flags (values below 0x80, so they
 *   never collide with an error code).
 *
 * MEMORY POLICY
 *   The library allocates: one record per PKI entry (the parsed certificate,
 *   key or CRL, with a copy of its ID) from PKI_*Add until PKI_CertificateDel
 *   and until the last session or connection that uses it is gone; one record
 *   per SSL session from SSL_SessionNew until SSL_SessionClose and the last
 *   socket bound to it is closed; per session, one TLS context built at the
 *   first handshake after a change of options, proposals or PKI (the previous
 *   one lives on while connections use it; all contexts share one trust store
 *   of the PKI's CAs and CRLs, built again after a PKI change) and up to
 *   maxCaches resumption entries; per socket, a small record from opensocket()/accept() or the
 *   first SSL option until closesocket(), plus, for an SSL socket, the TLS
 *   connection (about 40-70 KiB while records are in flight) and a 16 KiB
 *   send-side hold-back buffer allocated on first need. Nothing is allocated
 *   per send()/recv() call. Pointers handed to the library are only read
 *   during the call; nothing keeps them. Pointers handed out by the library
 *   (SSL_GetConnState) stay valid until closesocket() of that socket.
 *
 * THREADS
 *   The PKI store and the session table may be used from any number of
 *   threads at once. One socket must be used by one thread at a time (two
 *   threads may not call send/recv/SSL_* on the same sd concurrently). There
 *   is no background thread: handshakes advance inside the caller's calls.
 *
 * DESCRIPTORS
 *   Socket descriptors are the operating system's file descriptors: they may
 *   be given to poll()/epoll. Close them with closesocket(): a descriptor
 *   closed with the C library's close() leaves the library's record behind
 *   (it is replaced when opensocket()/accept() return the same number again).
 *
 * SIGNALS
 *   The library never raises SIGPIPE: writes use MSG_NOSIGNAL.
 */
#ifndef CHIPSSL_TCPIP_H
#define CHIPSSL_TCPIP_H

/* The C library's socket headers come first, so that the RTOS names defined
 * further down replace theirs in the application and are never re-declared. */
#include <sys/types.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <arpa/inet.h>
#include <poll.h>
#include <stddef.h>
#include <stdint.h>

#include "chipssl_config.h"

#ifdef __cplusplus
extern "C" {
#endif

#if defined(CHIPSSL_BUILDING) && defined(__GNUC__)
#define CHIPSSL_API __attribute__((visibility("default")))
#else
#define CHIPSSL_API
#endif

/* ------------------------------------------------------------------------
 * 1. Old-source compatibility
 * --------------------------------------------------------------------- */

/* The original was 16-bit real-mode C; pointers were `far`. */
#ifndef far
#define far
#endif
#ifndef _far
#define _far
#endif
#ifndef huge
#define huge
#endif

#define API_ERROR (-1)

/* ------------------------------------------------------------------------
 * 2. Error codes (original numbering, base 200). They never equal <errno.h>
 *    values' meanings: compare *error with these names only.
 * --------------------------------------------------------------------- */
#define API_EPERM            201 /* operation not allowed in this state       */
#define API_ENOENT           202 /* no such file, entry or session            */
#define API_EBADF            209 /* not a valid descriptor                    */
#define API_ENOMEM           212 /* out of memory                             */
#define API_EINVAL           222 /* bad argument                              */
#define API_EMFILE           224 /* too many open descriptors                 */
#define API_EWOULDBLOCK      235 /* nothing ready now (non-blocking/timeout)  */
#define API_EINPROGRESS      236 /* connect started, not finished             */
#define API_EALREADY         237 /* already in progress                       */
#define API_ENOTSOCK         238 /* descriptor is not a socket                */
#define API_EMSGSIZE         240 /* message too long                          */
#define API_ENOPROTOOPT      242 /* unknown socket option                     */
#define API_EPROTONOSUPPORT  243 /* protocol not supported                    */
#define API_EOPNOTSUPP       245 /* operation not supported on this socket    */
#define API_EAFNOSUPPORT     247 /* address family not supported              */
#define API_EADDRINUSE       248 /* address in use                            */
#define API_EADDRNOTAVAIL    249 /* address not available                     */
#define API_ENETDOWN         250 /* network down                              */
#define API_ENETUNREACH      251 /* network unreachable                       */
#define API_ECONNABORTED     253 /* connection aborted (fatal TLS error)      */
#define API_ECONNRESET       254 /* connection reset by peer                  */
#define API_ENOBUFS          255 /* no buffer space / table full              */
#define API_EISCONN          256 /* already connected                         */
#define API_ENOTCONN         257 /* not connected / end of stream seen        */
#define API_ESHUTDOWN        258 /* sending after SSL_ConnClose/shutdown      */
#define API_ETIMEDOUT        260 /* timed out                                 */
#define API_ECONNREFUSED     261 /* connection refused                        */
#define API_EHOSTDOWN        264 /* host down                                 */
#define API_EHOSTUNREACH     265 /* host unreachable                          */

/* ------------------------------------------------------------------------
 * 3. PKI constants
 * --------------------------------------------------------------------- */
#define PKI_FMT_PEM     0x01 /* PEM text                                      */
#define PKI_FMT_DER     0x02 /* DER binary                                    */
#define PKI_FMT_MEMORY  0x04 /* flag: fileNamePtr points at the data itself   */

#define PKI_CERT_LOCAL     0x01 /* own certificate (local list)               */
#define PKI_CERT_NONLOCAL  0x02 /* CA or peer certificate (non-local list)    */
#define PKI_CERT_CRL       0x04 /* the data is a CRL (goes to non-local list) */
#define PKI_CERT_ROOTCA    0x08 /* trust anchor: add root CAs as 0x0A         */

#define PKI_KEY_RSA      0 /* RSA, at least 2048 bits                         */
#define PKI_KEY_DSA      1 /* refused with API_EINVAL: no modern peer uses it */
#define PKI_KEY_EC       2 /* extension: EC key on P-256/P-384/P-521          */
#define PKI_KEY_ED25519  3 /* extension: Ed25519                              */

/* Certificate check flags: written to *error by PKI_CertificateAdd and
 * reported for the peer's certificate after a handshake (SSL_CONN_STATE,
 * SslProblemS). BADCERT is fatal; the others are warnings at add time. */
#define PKI_CERT_BADCERT      0x01 /* unusable: bad signature, no/odd key, not a CA */
#define PKI_CERT_REVOKED      0x02 /* listed in a CRL of the store             */
#define PKI_CERT_EXPIRED      0x04 /* expired or not yet valid                 */
#define PKI_CERT_UNMATCHED    0x08 /* name does not match srvCommonName        */
#define PKI_CERT_UNKNOWNCA    0x10 /* issuer not found / not trusted           */
#define PKI_CERT_NOTVERIFIED  0x20 /* could not be verified for another reason */
#define PKI_CERT_KEYMISMATCH  0x40 /* extension, with BADCERT: a LOCAL certificate
                                      whose public key is not that of the key
                                      pair added last (or no key pair waits) */

/* ------------------------------------------------------------------------
 * 4. SSL constants
 * --------------------------------------------------------------------- */
#define SSL_VERSION_SSL30  0x01 /* obsolete: accepted, never negotiated      */
#define SSL_VERSION_TLS10  0x02 /* obsolete: accepted, never negotiated      */
#define SSL_VERSION_TLS11  0x04 /* obsolete: accepted, never negotiated      */
#define SSL_VERSION_TLS12  0x08
#define SSL_VERSION_TLS13  0x10 /* extension                                 */

#define SSL_OPT_CLIENT_AUTH           1
#define SSL_OPT_SERVER_PROPOSALS      2
#define SSL_OPT_SKIP_CERT_VALIDATION  3

/* Socket option level and names (value: an int, optionLength sizeof(int)). */
#define IP_PROTOTCP_LEVEL        6
#define TCP_SSL_CLIENT           0x400D /* 1: client SSL socket, 0: off      */
#define TCP_SSL_SERVER           0x400E /* 1: server SSL socket, 0: off      */
#define TCP_SSLSESSION           0x400F /* session ID to use                  */
#define TCP_SSL_CONNECT_TIMEOUT  0x4010 /* handshake limit, s (default 10; 0 none) */
#define TCP_SSL_SEND_MIN_SIZE    0x4011 /* hold back smaller writes (0..16384, 0 = never) */
#define TCP_SSL_SEND_MAX_SIZE    0x4012 /* plaintext per record (100..16384)  */

/* recv() wait modes. MSG_PEEK and MSG_DONTWAIT are the C library's values
 * (<sys/socket.h> already defines them); the two RTOS modes use bits that
 * Linux does not. With none of MSG_BLOCKING, MSG_TIMEOUT, MSG_DONTWAIT the
 * socket's blocking mode decides (blocking: wait forever). */
#ifndef MSG_PEEK
#define MSG_PEEK      0x02
#endif
#ifndef MSG_DONTWAIT
#define MSG_DONTWAIT  0x40
#endif
#define MSG_BLOCKING  0x00100000 /* wait until data, end of stream or error  */
#define MSG_TIMEOUT   0x00200000 /* wait at most timeout ms, then EWOULDBLOCK */

/* SSL_HandshakeComplete() timeout meaning "wait without limit" (the
 * TCP_SSL_CONNECT_TIMEOUT limit still applies). */
#define SSL_WAIT_FOREVER 0xFFFFu

/* ------------------------------------------------------------------------
 * 5. Structures
 * --------------------------------------------------------------------- */
typedef struct PKI_CERT_ADD_Entry {
    const char *fileNamePtr; /* file name, or the data (PKI_FMT_MEMORY)      */
    int fileFormat;          /* PKI_FMT_PEM or PKI_FMT_DER, | PKI_FMT_MEMORY */
    int certType;            /* 0x01, 0x02, 0x0A, or 0x04/0x06 for a CRL     */
    const char *idPtr;       /* ID bytes (need not be NUL-terminated)        */
    int idLength;            /* 1..CHIPSSL_MAX_ID_LEN                        */
    const char *caIdPtr;     /* NUL-terminated ID of the issuer, or NULL     */
} PKI_CERT_ADD_Entry, *PKI_CERT_ADD_EntryPtr;

typedef struct PKI_OWNKEYPAIR_ADD_Entry {
    const char *fileNamePtr; /* file name, or the data (PKI_FMT_MEMORY)      */
    int fileFormat;          /* PKI_FMT_PEM or PKI_FMT_DER, | PKI_FMT_MEMORY */
    int keyType;             /* PKI_KEY_RSA, PKI_KEY_EC, PKI_KEY_ED25519     */
} PKI_OWNKEYPAIR_ADD_Entry, *PKI_OWNKEYPAIR_ADD_EntryPtr;

typedef struct SSL_SESSION_NEW_Entry {
    const char *certIdentity; /* NUL-terminated ID of a LOCAL cert, or NULL  */
    int maxCaches;            /* resumption cache size, 0..CHIPSSL_MAX_CACHES */
    int version;              /* SSL_VERSION_* mask                          */
} SSL_SESSION_NEW_Entry, *SSL_SESSION_NEW_EntryPtr;

typedef struct SetSocketOption {
    int protocol_level;       /* IP_PROTOTCP_LEVEL, SOL_SOCKET, ...          */
    int optionName;
    const char *optionValue;
    int optionLength;         /* bytes at optionValue                        */
} SetSocketOption, *SetSocketOptionPtr;

typedef struct GetSocketOption {
    int protocol_level;
    int optionName;
    char *optionValue;
    int *optionLength;        /* in: buffer size; out: bytes written         */
} GetSocketOption, *GetSocketOptionPtr;

/* Handshake states (SSL_CONN_STATE.handshakeState, SslProblemS.hsState). */
#define SSL_HS_NONE         0 /* not an SSL socket or not started            */
#define SSL_HS_HELLO        1 /* waiting for / sending the hellos            */
#define SSL_HS_CERTIFICATE  2 /* certificate exchange and verification       */
#define SSL_HS_KEY_EXCHANGE 3 /* key exchange, CertificateVerify             */
#define SSL_HS_FINISHED     4 /* Finished messages                           */
#define SSL_HS_DONE         5 /* handshake complete: application data flows  */
#define SSL_HS_FAILED       6 /* handshake or connection failed (see problem) */
#define SSL_HS_CLOSED       7 /* close_notify sent or received, or the peer
                                 closed (end of stream reported)             */

/* Why a handshake or connection failed (extension; after the original's
 * SslProblemS). All zero (alert -1) while nothing has failed. */
typedef struct SslProblemS {
    int errorCode;  /* API_E...: ECONNABORTED (TLS error), ETIMEDOUT (time
                       limit), ECONNRESET (peer vanished), ...            */
    int certFlags;  /* PKI_CERT_* flags of the peer's certificate          */
    int hsState;    /* SSL_HS_* state in which it failed                   */
    int alert;      /* TLS alert description (RFC 8446 6.2), -1: none       */
    int alertSent;  /* 1: we sent the alert, 0: the peer sent it           */
    char reason[128]; /* short engine text, e.g. "certificate verify failed";
                         never contains key material                       */
} SslProblemS;

/* Connection state record (extension). Read-only; valid until closesocket(). */
typedef struct SSL_CONN_STATE {
    int handshakeState;     /* SSL_HS_*                                     */
    int isServer;           /* 1 server side, 0 client side                 */
    int sessionID;          /* session the socket is bound to               */
    int version;            /* SSL_VERSION_TLS12 or _TLS13 once negotiated  */
    int cipherSuite;        /* IANA number once negotiated, else 0          */
    int resumed;            /* 1 when the session was resumed               */
    int peerCertFlags;      /* PKI_CERT_* warnings/errors of the peer cert
                               (a resumed connection: those of the handshake
                               that created the session)                   */
    int closeNotify;        /* 1 once the peer's close_notify was received  */
    char peerSubject[256];  /* peer certificate subject (RFC 2253), or ""   */
    char serverName[256];   /* SNI: client, the name sent (SSL_ClientStart's
                               name when it is a DNS name; "" for NULL, an
                               IP literal or a name with '*'); server, the
                               name received; "" when none                 */
    unsigned long long bytesIn;  /* plaintext bytes delivered by recv()     */
    unsigned long long bytesOut; /* plaintext bytes accepted by send()      */
    SslProblemS problem;    /* why it failed (errorCode 0 while fine)        */
    char alpn[256];         /* the application protocol agreed (ALPN), or "" */
    unsigned long long sessionOrigin; /* one number per full handshake of
                               this process; a resumed connection carries
                               the number of the full handshake whose TLS
                               session it resumed, 0 before the handshake
                               ends (see SSL_IsResumptionOf)               */
} SSL_CONN_STATE;

/* ------------------------------------------------------------------------
 * 6. PKI functions. Thread-safe.
 * --------------------------------------------------------------------- */

/* PKI_CertificateAdd - store one certificate or CRL under an ID.
 * e->fileNamePtr: a file name, or with PKI_FMT_MEMORY the data (PEM: a
 *   NUL-terminated string, the first PEM block is used; DER: length taken
 *   from the outer ASN.1 header, at most CHIPSSL_MAX_PKI_FILE).
 * e->certType: PKI_CERT_LOCAL (takes the own key most recently added with
 *   PKI_OwnKeyPairAdd and not yet taken; it must match, else
 *   BADCERT|KEYMISMATCH and the key stays pending; since call order pairs key and certificate, threads
 *   that add own key pairs at the same time must serialize each
 *   PKI_OwnKeyPairAdd + PKI_CertificateAdd pair), PKI_CERT_NONLOCAL,
 *   PKI_CERT_NONLOCAL|PKI_CERT_ROOTCA (0x0A: must be a CA certificate),
 *   PKI_CERT_CRL (0x04 or 0x06). A LOCAL certificate is not a trust anchor.
 * e->caIdPtr: ID of the issuer (searched in the non-local, then the local
 *   list); the signature is checked against it now. NULL: self-signed, a
 *   root, or a certificate whose issuer is not in the store (UNKNOWNCA
 *   warning). A CRL with caIdPtr NULL is checked against the CA in the store
 *   whose subject is the CRL's issuer.
 * Returns 0 when stored (*error: 0 or an OR of warnings EXPIRED, REVOKED,
 *   UNKNOWNCA); -1 when not stored (*error: flags including BADCERT, e.g.
 *   BADCERT|UNKNOWNCA when caIdPtr names no entry, BADCERT|NOTVERIFIED for a
 *   bad signature, BADCERT|KEYMISMATCH for a LOCAL certificate that is not
 *   the pending key's; or an error code: API_ENOENT no such file, API_EINVAL bad
 *   arguments, unparsable data, unknown format or type, duplicate ID in that
 *   list, API_ENOMEM).
 * Out of memory is always API_ENOMEM, never BADCERT flags or API_EINVAL.
 */
CHIPSSL_API int PKI_CertificateAdd(const PKI_CERT_ADD_Entry *e, int *error);

/* PKI_CertificateDel - remove the entry with this NUL-terminated ID from the
 * list(s) selected by certType bits 0x01 (local) and 0x02 (non-local; CRLs
 * live there). Sessions and connections that use it keep their reference;
 * handshakes started afterwards no longer see it. A pending own key is not
 * affected. Returns 0, or -1 with API_EINVAL (NULL id, no list bit) or
 * API_ENOENT (not found in the selected lists). */
CHIPSSL_API int PKI_CertificateDel(const void *idPtr, int certType, int *error);

/* PKI_OwnKeyPairAdd - load an unencrypted private key (PKCS#1, SEC1 or
 * PKCS#8; PEM or DER; file or memory) and make it the pending own key for the
 * next LOCAL certificate. Returns 0, or -1 with API_ENOENT (no such file),
 * API_EINVAL (unparsable, encrypted, type differs from keyType, DSA, RSA
 * below 2048 bits, EC on another curve), API_ENOBUFS (more than
 * CHIPSSL_MAX_PENDING_KEYS keys pending), API_ENOMEM (out of memory: never EINVAL). */
CHIPSSL_API int PKI_OwnKeyPairAdd(const PKI_OWNKEYPAIR_ADD_Entry *e, int *error);

/* PKI_RootCABundleAdd (extension) - add every certificate of a PEM bundle as
 * a root CA (0x0A) under the IDs "<idPrefix><n>" (n from 0). fileName NULL:
 * the operating system's trust store (/etc/ssl/certs/ca-certificates.crt, or
 * the engine's default file). idPrefix NULL: "sys:". Certificates that are
 * not CAs, are expired or whose ID is taken are skipped. Returns the number
 * added (>= 0), or -1 with API_ENOENT (no file), API_EINVAL (no certificate
 * in it, prefix too long), API_ENOMEM. */
CHIPSSL_API int PKI_RootCABundleAdd(const char *fileName, const char *idPrefix,
                                    int *error);

/* ------------------------------------------------------------------------
 * 7. Session functions. Thread-safe.
 * --------------------------------------------------------------------- */

/* SSL_SessionNew - create an SSL session; returns its ID (>= 1, lowest free)
 * or -1.
 * e->certIdentity: ID of a LOCAL certificate (with its key) used as server
 *   certificate or client certificate; NULL for a client without one.
 * e->maxCaches: resumption cache size, 0..CHIPSSL_MAX_CACHES. 0: no
 *   resumption at all (a server issues no session IDs or tickets, a client
 *   offers none). Client side an entry is keyed by peer address, port and the
 *   name given to SSL_ClientStart; server side it bounds the sessions kept.
 *   The oldest entry is replaced when full. A change of the session's
 *   options or proposals, or of the PKI, starts the cache afresh: a session
 *   negotiated under the old settings or trust is never resumed, since a
 *   resumption skips the certificate checks.
 * e->version: mask of SSL_VERSION_*. THE VERSION RULE: 0 or bits above 0x1F
 *   are API_EINVAL. SSL 3.0, TLS 1.0 and 1.1 are prohibited (RFC 7568,
 *   RFC 8996): their bits are accepted so that old sources keep working, and
 *   a mask naming only them negotiates TLS 1.2 and TLS 1.3 instead (so the
 *   original's version = 3 works). A mask naming TLS 1.2 and/or TLS 1.3
 *   negotiates exactly those; obsolete bits beside them are ignored.
 * Errors: API_EINVAL (NULL e, unknown certIdentity or one without key, an
 *   own certificate the TLS engine refuses at its security level, e.g. one
 *   signed with SHA-1; bad maxCaches or version), API_ENOENT (all
 *   CHIPSSL_MAX_SESSIONS in use), API_ENOMEM. */
CHIPSSL_API int SSL_SessionNew(const SSL_SESSION_NEW_Entry *e, int *error);

/* SSL_SessionClose - free the session ID. Sockets bound to it keep working
 * until closed; binding a socket to the ID afterwards fails (API_EINVAL) until
 * SSL_SessionNew hands the ID out again. Errors: API_EINVAL unknown ID. */
CHIPSSL_API int SSL_SessionClose(int sessionID, int *error);

/* SSL_SessionProp - set the ordered cipher-suite proposal list (IANA numbers).
 * Known suites: TLS 1.3: 0x1301 0x1302 0x1303 0x1304; TLS 1.2: ECDHE-ECDSA
 * and ECDHE-RSA with AES-GCM (0xC02B 0xC02C 0xC02F 0xC030), ChaCha20-Poly1305
 * (0xCCA9 0xCCA8), AES-CBC-SHA256/384 (0xC023 0xC024 0xC027 0xC028),
 * AES-CBC-SHA (0xC009 0xC00A 0xC013 0xC014); DHE-RSA AES-GCM (0x009E 0x009F)
 * and ChaCha (0xCCAA); RSA key exchange AES (0x009C 0x009D 0x002F 0x0035
 * 0x003C 0x003D, the original's). A client offers the list in this order,
 * with one exception: a list that mixes versions is offered as its TLS 1.3
 * suites first, then its TLS 1.2 suites, each group in list order (the engine
 * negotiates the two versions' suites separately; option 2 applies within
 * each). A server accepts only these and chooses as option 2 says. A list
 * without TLS 1.3 suites disables TLS 1.3 for the session, one without TLS
 * 1.2 suites disables TLS 1.2.
 * Default (never called): 0x1301 0x1302 0x1303, 0xC02B 0xC02F 0xC02C 0xC030
 * 0xCCA9 0xCCA8.
 * Errors (the previous list stays): API_EINVAL for an unknown session, NULL
 * list, count < 1 or > CHIPSSL_MAX_PROPOSALS, an unknown or insecure suite
 * (NULL, EXPORT, RC4, DES, 3DES, anonymous, ...), a duplicate, or a list with
 * no suite for any version the session's mask allows. */
CHIPSSL_API int SSL_SessionProp(int sessionID, const int *proposals, int count,
                                int *error);

/* SSL_SessionOpt - switch an option (value 0 off, the default; 1 on).
 * SSL_OPT_CLIENT_AUTH (1): a server socket of the session requests a client
 *   certificate (TLS 1.2: CertificateRequest in the ServerHello flight; TLS
 *   1.3: after EncryptedExtensions) and requires one; none, or one that does
 *   not verify, fails the handshake with the alert RFC 8446/5246 prescribe
 *   (certificate_required / handshake_failure, or the verify alert). The
 *   chain must lead to a CA given with SSL_AddClientCA when there are any
 *   (such a CA may be an intermediate), else to a root CA of the PKI. A client
 *   session answers a request with its certIdentity (or no certificate).
 *   In TLS 1.3 the client's certificate travels after the server's Finished
 *   (RFC 8446 4.4.2), so a client whose certificate is refused may see
 *   SSL_HandshakeComplete return 1: the refusal (alert 116, 42, 48, ...)
 *   reaches it at its next recv/send, which fails with API_ECONNABORTED and
 *   SSL_GetProblem tells why. In TLS 1.2 the client's handshake fails.
 * SSL_OPT_SERVER_PROPOSALS (2): off, the server takes the first suite of the
 *   client's list that it also has; on, the first of its own list that the
 *   client offered. Same for TLS 1.2 and TLS 1.3.
 * SSL_OPT_SKIP_CERT_VALIDATION (3): received certificates are accepted
 *   without chain, trust, expiry or revocation checks (their flags are still
 *   reported in SSL_CONN_STATE); the name given to SSL_ClientStart is still
 *   checked, and handshake signatures always are. Client and server side.
 * Changes apply to handshakes started afterwards. Errors: API_EINVAL
 * (unknown session, option or value). */
CHIPSSL_API int SSL_SessionOpt(int sessionID, int option, int value,
                               int *error);

/* SSL_AddClientCA - name a CA (PKI ID, NUL-terminated) in the session's
 * CertificateRequest and accept client chains that lead to it. Option 1 must
 * be on. The ID must name a CA certificate (basicConstraints CA:TRUE) of the
 * non-local list. Adding the same CA twice is harmless. Errors: API_EINVAL
 * (unknown session, an ID that names no CA certificate of the non-local list,
 * option 1 off), API_ENOBUFS (more than CHIPSSL_MAX_CLIENT_CAS). */
CHIPSSL_API int SSL_AddClientCA(int sessionID, const void *caIdPtr, int *error);

/* SSL_SessionAddIdentity - extension: one more own certificate (the PKI ID
 * of a LOCAL certificate with its key, NUL-terminated) for the session's
 * server sockets, chosen by the name a client sends as SNI: the first
 * identity whose names match it (subjectAltName DNS entries, else the CN;
 * the wildcard rules of SSL_ClientStart) is presented. A client that sends
 * no SNI, or one no identity matches, gets the default identity: the
 * certIdentity of SSL_SessionNew, or without one the first identity added.
 * Applies to handshakes started afterwards. Adding the same ID twice is
 * harmless. Errors: API_EINVAL (unknown session, NULL or unknown ID, a
 * certificate the engine refuses), API_ENOBUFS (more than
 * CHIPSSL_MAX_IDENTITIES in all, the default included). */
CHIPSSL_API int SSL_SessionAddIdentity(int sessionID, const char *certIdentity, int *error);

/* SSL_SessionALPN - extension: the application protocols (RFC 7301) of the
 * session, as a comma-separated list in order of preference, e.g.
 * "http/1.1" or "h2,http/1.1"; NULL or "" removes them (the default: no
 * ALPN). A client offers them; a server takes the first of its own list
 * that the client offers, and refuses a client that offers protocols but
 * none of its list with the no_application_protocol alert (a client that
 * offers none is served). SSL_CONN_STATE.alpn tells the result. Applies to
 * handshakes started afterwards. Errors: API_EINVAL (unknown session, an
 * empty or over-long (> 255 bytes) protocol name, a list over 255 bytes in
 * all). */
CHIPSSL_API int SSL_SessionALPN(int sessionID, const char *protocols, int *error);

/* ------------------------------------------------------------------------
 * 8. SSL socket functions. One thread per socket at a time.
 * --------------------------------------------------------------------- */

/* SSL_ClientStart - start the client handshake on a connected socket that
 * has TCP_SSL_CLIENT and TCP_SSLSESSION. Sends the ClientHello (without
 * waiting) and returns 0; SSL_HandshakeComplete, send or recv finish it.
 * srvCommonName: name the server's certificate must carry, or NULL for no
 * name check. Matched against subjectAltName DNS and IP entries, or the
 * subject CN when the certificate has no DNS/IP SAN. Case-insensitive; a `*`
 * matches within one label: "*.a.com" matches "foo.a.com", not
 * "bar.foo.a.com" nor "a.com"; "f*.com" matches "foo.com", not "bar.com".
 * A DNS name (no `*`, not an IP literal) is also sent as SNI. A cached session
 * for (peer address, port, name) is offered for resumption.
 * Errors: API_EBADF (bad sd), API_ENOTSOCK, API_EPERM (no TCP_SSL_CLIENT or
 * no TCP_SSLSESSION), API_ENOENT (session closed since binding),
 * API_ENOTCONN (not connected), API_EALREADY (already started), API_EINVAL
 * (name longer than 255), API_ENOMEM. */
CHIPSSL_API int SSL_ClientStart(int sd, const char *srvCommonName, int *error);

/* SSL_HandshakeComplete - advance the handshake, waiting at most timeout ms
 * (0: no wait; SSL_WAIT_FOREVER: no limit but TCP_SSL_CONNECT_TIMEOUT's).
 * Returns 1 done, 0 not done, -1 not a TCP socket, -2 invalid descriptor,
 * -3 failed (alert, certificate rejected, protocol error, peer gone,
 * TCP_SSL_CONNECT_TIMEOUT passed): see SSL_GetProblem.
 * 0 keeps the original's two meanings; get_socketerror(sd) tells them apart
 * (extension): API_EWOULDBLOCK still in progress; API_EINVAL not an SSL
 * socket (no TCP_SSL_CLIENT/SERVER or no TCP_SSLSESSION) or a listening
 * socket; API_EPERM a client socket before SSL_ClientStart. After 1 it is 0,
 * after -3 the failure's code.
 * A server socket from accept() starts its handshake here or in send/recv;
 * its time limit runs from accept(). A TLS 1.3 client whose certificate the
 * server refuses may get 1 here and the refusal at its next call (see
 * option 1). There is no timer thread: the limit is checked inside calls on
 * the socket. An event loop asks SSL_GetTimeout when the limit of each
 * handshaking socket expires, keeps that in its timers, and calls
 * SSL_HandshakeComplete(sd, 0) when the socket is ready (SSL_GetWaitEvents)
 * or its timer fires: -3 then reports API_ETIMEDOUT. */
CHIPSSL_API int SSL_HandshakeComplete(int sd, unsigned int timeout);

/* SSL_SendFlush - send what TCP_SSL_SEND_MIN_SIZE holds back (and anything a
 * non-blocking send left pending). Blocking socket: waits until written.
 * Non-blocking: API_EWOULDBLOCK when some is still pending (call again).
 * Errors: API_EINVAL not an established SSL socket, API_EBADF,
 * API_ECONNABORTED, API_ECONNRESET. */
CHIPSSL_API int SSL_SendFlush(int sd, int *error);

/* SSL_ConnClose - flush pending data, then send close_notify. The TCP socket
 * stays open (closesocket() is still needed) and recv() still reads until the
 * peer's close_notify. Later send(): API_ESHUTDOWN.
 * Blocking socket: returns once close_notify is written. Non-blocking socket:
 * never waits; when the pending data or the close_notify cannot be written
 * yet it returns -1 with API_EWOULDBLOCK, SSL_GetWaitEvents() then includes
 * POLLOUT, and the application calls SSL_ConnClose again when the socket is
 * writable until it returns 0 (send() meanwhile: API_ESHUTDOWN).
 * Errors: API_EINVAL (not an established SSL socket, or already closed),
 * API_EBADF, API_EWOULDBLOCK (non-blocking: call again), API_ECONNABORTED,
 * API_ECONNRESET (the connection failed meanwhile). */
CHIPSSL_API int SSL_ConnClose(int sd, int *error);

/* SSL_GetConnState (alias SSL_Get_ConnState) - extension: point
 * *connStatePtr at the socket's SSL_CONN_STATE, refreshed by this call and
 * valid until closesocket() (the record is made by the first call: idle
 * sockets that are never asked carry none). Read-only. Errors: API_EBADF,
 * API_EINVAL (NULL pointer, not an SSL socket), API_ENOMEM (first call). */
CHIPSSL_API int SSL_GetConnState(int sd, void **connStatePtr, int *error);
CHIPSSL_API int SSL_Get_ConnState(int sd, void **connStatePtr, int *error);

/* SSL_GetProblem - extension: copy why the handshake or connection failed.
 * problem->errorCode is 0 while nothing failed. Errors: API_EBADF,
 * API_EINVAL (NULL pointer, not an SSL socket). */
CHIPSSL_API int SSL_GetProblem(int sd, SslProblemS *problem, int *error);

/* SSL_IsResumptionOf - extension: prove that the connection on sd resumed
 * the TLS session that the connection on originSd uses: 1 when sd's
 * handshake was a resumption of the session made by the full handshake that
 * originSd's connection made or itself resumed (SSL_CONN_STATE.
 * sessionOrigin equal), 0 otherwise (a full handshake, or another session's
 * resumption, or sd == originSd). For an FTPS server: a data connection
 * must resume its control connection's session (RFC 4217 10.2, vsftpd's
 * require_ssl_reuse). Both sockets must have completed their handshakes
 * (they may have been closed with SSL_ConnClose since). Errors: API_EBADF,
 * API_ENOTSOCK, API_EINVAL (not an SSL socket, handshake not complete or
 * failed). */
CHIPSSL_API int SSL_IsResumptionOf(int sd, int originSd, int *error);

/* SSL_GetWaitEvents - extension for event loops: after send/recv/
 * SSL_HandshakeComplete/SSL_ConnClose reported API_EWOULDBLOCK or 0, which
 * readiness the socket waits for: an OR of POLLIN and POLLOUT (0 when it
 * waits for nothing: call again). Rule for edge-triggered loops: keep calling
 * recv() until API_EWOULDBLOCK, since decrypted data may wait inside the
 * library. The handshake time limit is a timer, not an event: see
 * SSL_GetTimeout. Returns the mask, or -1 with API_EBADF. */
CHIPSSL_API int SSL_GetWaitEvents(int sd, int *error);

/* SSL_GetTimeout - extension for event loops: milliseconds until the
 * handshake time limit (TCP_SSL_CONNECT_TIMEOUT) of the socket passes, so
 * that a timer, not a scan of every socket, drops a silent peer. 0: the
 * limit has passed (call SSL_HandshakeComplete(sd, 0), which fails with -3,
 * API_ETIMEDOUT). SSL_NO_TIMEOUT: no limit runs (handshake done or failed,
 * not started, a client before SSL_ClientStart, or TCP_SSL_CONNECT_TIMEOUT
 * 0). The limit of an accepted socket runs from accept(), so ask right after
 * accept(); it does not move, so one answer is enough for a timer. Errors:
 * API_EBADF, API_ENOTSOCK, API_EINVAL (not an SSL socket). */
#define SSL_NO_TIMEOUT 0x7FFFFFFF
CHIPSSL_API int SSL_GetTimeout(int sd, int *error);

/* ------------------------------------------------------------------------
 * 9. RTOS socket calls. Several of them have POSIX names with other
 *    signatures: in an application translation unit that includes this
 *    header, the names below are macros for the library's chipssl_* symbols,
 *    so libc's functions stay untouched elsewhere. Define
 *    CHIPSSL_NO_RTOS_NAMES before including to keep the POSIX names.
 *
 *    Addresses: struct sockaddr_in or sockaddr_in6 (passed as void *). send/
 *    recv on an SSL socket carry plaintext and advance the handshake first.
 *    End of stream: recv returns 0 with *error 0 once (peer's close_notify or
 *    FIN), then -1 with API_ENOTCONN. A failed connection makes later calls
 *    fail with the code of its failure (SslProblemS.errorCode): API_ECONNABORTED
 *    for a TLS error, API_ETIMEDOUT for the handshake time limit,
 *    API_ECONNRESET for a vanished peer, API_ENOMEM when memory ran out.
 *    Every TCP socket is created address-reusable.
 * --------------------------------------------------------------------- */

/* opensocket - new socket, IPv4. type SOCK_STREAM or SOCK_DGRAM. Returns sd.
 * Errors: API_EINVAL (type), API_EMFILE, API_ENOBUFS, API_ENOMEM. */
CHIPSSL_API int opensocket(unsigned char type, int *error);
/* opensocket_ext - as opensocket, family AF_INET or AF_INET6
 * (API_EAFNOSUPPORT otherwise). */
CHIPSSL_API int opensocket_ext(unsigned char family, unsigned char type,
                               int *error);
/* closesocket - close the socket and free its SSL state (no close_notify:
 * call SSL_ConnClose first for a clean TLS close). Returns 0. Errors:
 * API_EBADF.
 * A connection that failed with a fatal alert sent by this side is not reset
 * (a plain close() would discard the alert when the peer already sent more
 * data): the sending side is shut down (FIN after the alert) and what the
 * peer still sends is read and dropped until it closes, for 500 ms at most,
 * as `openssl s_server` does. A blocking socket waits for that inside this
 * call. A non-blocking socket never waits: the descriptor stays open in the
 * library (at most 64 such descriptors; the oldest is closed when more come)
 * and a later opensocket/accept/closesocket call closes it once the peer has
 * closed or the 500 ms have passed; exit() waits for those still open, for
 * what is left of their 500 ms. */
CHIPSSL_API int closesocket(int sd, int *error);

/* bind - bind to a local address (struct sockaddr_in or sockaddr_in6, told
 * apart by its family field). Returns 0. Errors: API_EBADF, API_ENOTSOCK,
 * API_EINVAL (NULL addr, already bound), API_EAFNOSUPPORT (neither AF_INET
 * nor AF_INET6; a family other than the socket's gives API_EINVAL or
 * API_EAFNOSUPPORT, as the OS says), API_EADDRINUSE, API_EADDRNOTAVAIL,
 * API_EPERM (a privileged port). */
CHIPSSL_API int chipssl_bind(int sd, const void *addr, int *error);
/* connect - connect to addr (as for bind). Blocking socket: waits until
 * connected or failed (a signal does not abort it). Non-blocking socket: -1
 * with API_EINPROGRESS; poll for POLLOUT, then get_socketerror() says how it
 * ended. Returns 0. Errors: API_EBADF, API_ENOTSOCK, API_EINVAL,
 * API_EAFNOSUPPORT, API_ECONNREFUSED, API_ETIMEDOUT, API_ENETUNREACH,
 * API_EHOSTUNREACH, API_EISCONN, API_EALREADY. An SSL client socket then
 * needs SSL_ClientStart. */
CHIPSSL_API int chipssl_connect(int sd, const void *addr, int *error);
/* listen - make a bound TCP socket listen (backlog as for POSIX listen).
 * An SSL server listener never runs TLS itself: its accepted sockets do.
 * Returns 0. Errors: API_EBADF, API_ENOTSOCK, API_EOPNOTSUPP (not TCP),
 * API_EADDRINUSE. */
CHIPSSL_API int chipssl_listen(int sd, int backlog, int *error);
/* accept - returns the new sd; addr (may be NULL) receives a sockaddr_in on
 * an IPv4 listener, a sockaddr_in6 on an IPv6 one. The new socket inherits
 * the listener's SSL options and session, and its blocking mode: a
 * non-blocking listener (Set_Blocking_Mode) gives non-blocking sockets. The
 * handshake time limit of an SSL socket runs from here (SSL_GetTimeout).
 * Errors: API_EBADF, API_ENOTSOCK, API_EINVAL (not listening),
 * API_EWOULDBLOCK (non-blocking, no connection waiting), API_EMFILE,
 * API_ENOMEM. */
CHIPSSL_API int chipssl_accept(int sd, void *addr, int *error);
/* send - returns the bytes accepted (all of them on a blocking socket; on a
 * non-blocking one possibly fewer, or -1 with API_EWOULDBLOCK). flags: 0 or
 * MSG_DONTWAIT (others passed to the OS on plain sockets). Errors include
 * API_ESHUTDOWN, API_ECONNABORTED, API_ECONNRESET, API_ETIMEDOUT (handshake
 * time limit), API_EINVAL (len < 0), API_EPERM (an SSL socket that cannot
 * carry TLS yet: TCP_SSL_CLIENT/SERVER without TCP_SSLSESSION, or a client
 * before SSL_ClientStart; an SSL socket never falls back to plaintext). */
CHIPSSL_API int chipssl_send(int sd, const void *buf, int len, int flags,
                             int *error);
/* recv - returns bytes read (>0), 0 at end of stream (once), -1 on error.
 * flags: MSG_BLOCKING, MSG_TIMEOUT (wait at most timeout ms; on expiry
 * API_EWOULDBLOCK), MSG_DONTWAIT, each optionally | MSG_PEEK. Errors:
 * API_EINVAL (NULL buf, len <= 0), API_ENOTCONN (end of stream already
 * reported), API_EWOULDBLOCK, API_ECONNABORTED (TLS failure: see
 * SSL_GetProblem), API_ECONNRESET, API_ETIMEDOUT (handshake time limit),
 * API_EPERM (client SSL socket before SSL_ClientStart). */
CHIPSSL_API int chipssl_recv(int sd, void *buf, int len, int flags,
                             unsigned long timeout, int *error);
/* setsockopt/getsockopt - level IP_PROTOTCP_LEVEL with the TCP_SSL_* names
 * above are the library's (value int, length sizeof(int), else API_EINVAL;
 * TCP_SSL_CLIENT and TCP_SSL_SERVER both on: API_EINVAL; unknown or closed
 * session: API_EINVAL; changing them once the handshake started: API_EINVAL);
 * an SSL option on a UDP socket: API_EOPNOTSUPP); everything else goes to
 * the OS (API_ENOPROTOOPT for unknown ones). */
CHIPSSL_API int chipssl_setsockopt(int sd, const SetSocketOption *opt,
                                   int *error);
CHIPSSL_API int chipssl_getsockopt(int sd, const GetSocketOption *opt,
                                   int *error);
/* shutdown - how: 0 receive, 1 send, 2 both (as SHUT_RD/WR/RDWR); other
 * values API_EINVAL. On an SSL socket this is TCP-level: no close_notify is
 * sent (call SSL_ConnClose first for a clean TLS close); after how 1 or 2,
 * send fails with API_ESHUTDOWN and SSL_ConnClose with API_EINVAL. */
CHIPSSL_API int chipssl_shutdown(int sd, int how, int *error);
/* inet_addr - dotted quad to network-order address; 0 on success, -1
 * (API_EINVAL) when str is not an address. */
CHIPSSL_API int chipssl_inet_addr(const char *str, in_addr_t *addr);

/* Set_Blocking_Mode - nonblocking 1: non-blocking, 0: blocking; other
 * values API_EINVAL. Errors also API_EBADF, API_ENOTSOCK. Change the mode
 * with this call: SSL sockets consult it on every send/recv. */
CHIPSSL_API int Set_Blocking_Mode(int sd, unsigned int nonblocking, int *error);
/* get_socketerror - the last error code of a call on this socket (0 none),
 * or the pending OS socket error mapped; -1 for an invalid sd. A call that
 * fails records its code here, and so does every SSL_HandshakeComplete
 * (0 after a 1, see there for its 0). */
CHIPSSL_API int get_socketerror(int sd);
/* InetToAscii - network-order IPv4 address to dotted quad in str (at least
 * 16 bytes). Returns 0, -1 for NULL arguments. */
CHIPSSL_API int InetToAscii(const in_addr_t *addr, char *str);
/* getHostByName - resolve name with the host's resolver: up to maxAddrs IPv4
 * addresses (network order) into addrs. Returns the number found, 0 or -1
 * when none / bad arguments. */
CHIPSSL_API int getHostByName(const char *name, int maxAddrs, in_addr_t *addrs);
/* setNameServer - accepted for compatibility (returns 0); the host's
 * resolver configuration is used. */
CHIPSSL_API int setNameServer(int family, const void *addr);

/* chipssl_errno_to_api - the one mapping from an OS errno to API_E... */
CHIPSSL_API int chipssl_errno_to_api(int os_errno);

/* ------------------------------------------------------------------------
 * 10. Text for numbers (extension). Words for what the calls above report,
 *     for messages a person reads. Every call is thread-safe: the strings
 *     returned are constants (never free or change them, valid for the life
 *     of the process) and chipssl_certflags_text writes only the caller's
 *     buffer. Nothing here allocates.
 * --------------------------------------------------------------------- */

/* chipssl_strerror - words for an API_E... code: "connection refused" for
 * API_ECONNREFUSED, "no error" for 0, "unknown error code" for any other
 * value (an OS errno or a PKI_CERT_* flag word is not an API_E... code: use
 * chipssl_certflags_text for PKI_CertificateAdd's flags). Never NULL. */
CHIPSSL_API const char *chipssl_strerror(int code);

/* chipssl_error_name - the name of an API_E... code as written in this
 * header: "API_ECONNREFUSED" for 261. NULL for 0 and for values that are no
 * API_E... code. */
CHIPSSL_API const char *chipssl_error_name(int code);

/* chipssl_certflags_text - words for an OR of PKI_CERT_* check flags (what
 * PKI_CertificateAdd writes to *error, SslProblemS.certFlags,
 * SSL_CONN_STATE.peerCertFlags), comma-separated, most serious first:
 * 0x14 gives "expired or not yet valid, issuer unknown"; 0 gives "none";
 * bits no flag uses are named "unknown flags 0x...".
 * buf, len: the caller's buffer and its size in bytes (64 bytes hold one
 * flag's words, 192 every flag's). The text is always NUL-terminated, cut
 * short when it does not fit.
 * Returns the length of the whole text (as snprintf: a result >= len means
 * it was cut short), or -1 when buf is NULL, len < 1 or flags < 0 (then
 * buf, when usable, holds ""). */
CHIPSSL_API int chipssl_certflags_text(int flags, char *buf, int len);

/* chipssl_alert_text - words for a TLS alert description number (the TLS
 * alert registry: RFC 8446 6.2, RFC 5246 7.2 and their extensions), as in
 * SslProblemS.alert: 45 gives "certificate expired", 48 "unknown CA", 116
 * "certificate required", 120 "no application protocol"; -1 (no alert)
 * gives "no alert"; an unregistered value "unknown alert". Never NULL. */
CHIPSSL_API const char *chipssl_alert_text(int alert);

/* chipssl_suite_name - the IANA name of a cipher suite that SSL_SessionProp
 * accepts (see section 7), as SSL_CONN_STATE.cipherSuite reports it: 0x1301
 * gives "TLS_AES_128_GCM_SHA256", 0xC02F
 * "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256". NULL for 0, an unknown number, or
 * a suite chipssl refuses (NULL, EXPORT, RC4, DES, 3DES, anonymous, ...). */
CHIPSSL_API const char *chipssl_suite_name(int iana);

/* chipssl_suite_number - the reverse: the IANA number of a suite named as
 * chipssl_suite_name names it (case-insensitive), e.g. for a proposal list
 * read from a configuration file. Returns the number, or -1 for NULL or a
 * name that is not one of the accepted suites. Scans the whole 16-bit
 * number space: meant for set-up, not for every connection. */
CHIPSSL_API int chipssl_suite_number(const char *name);

/* chipssl_version_name - the name of one SSL_VERSION_* bit, as
 * SSL_CONN_STATE.version reports the negotiated one: SSL_VERSION_TLS12 gives
 * "TLS 1.2", SSL_VERSION_TLS13 "TLS 1.3" (the obsolete bits "SSL 3.0",
 * "TLS 1.0", "TLS 1.1"). NULL for 0 (nothing negotiated yet), for a mask of
 * several bits, and for unknown bits. */
CHIPSSL_API const char *chipssl_version_name(int version);

#if !defined(CHIPSSL_BUILDING) && !defined(CHIPSSL_NO_RTOS_NAMES)
#define bind        chipssl_bind
#define connect     chipssl_connect
#define listen      chipssl_listen
#define accept      chipssl_accept
#define send        chipssl_send
#define recv        chipssl_recv
#define setsockopt  chipssl_setsockopt
#define getsockopt  chipssl_getsockopt
#define shutdown    chipssl_shutdown
#define inet_addr   chipssl_inet_addr
#endif

#ifdef __cplusplus
}
#endif

#endif /* CHIPSSL_TCPIP_H */
