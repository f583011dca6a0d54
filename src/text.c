/*
 * text.c - words for the numbers the API hands out: error codes, certificate
 * check flags, TLS alerts, cipher suites and protocol versions. Every answer
 * is a string literal or the caller's buffer: no state, no locks, no
 * allocation, so every call here is thread-safe and async-signal-safe.
 */
#include "internal.h"
#include "suites.h"

#include <stdio.h>
#include <strings.h>

struct code_text {
    int code;
    const char *name;
    const char *text;
};

#define CODE(c, words) { c, #c, words }

/* The original's error codes (tcpip.h section 2), in numeric order. */
static const struct code_text errors[] = {
    CODE(API_EPERM, "operation not permitted in this state"),
    CODE(API_ENOENT, "no such file, entry or session"),
    CODE(API_EBADF, "bad descriptor"),
    CODE(API_ENOMEM, "out of memory"),
    CODE(API_EINVAL, "invalid argument"),
    CODE(API_EMFILE, "too many open descriptors"),
    CODE(API_EWOULDBLOCK, "operation would block"),
    CODE(API_EINPROGRESS, "operation in progress"),
    CODE(API_EALREADY, "operation already in progress"),
    CODE(API_ENOTSOCK, "not a socket"),
    CODE(API_EMSGSIZE, "message too long"),
    CODE(API_ENOPROTOOPT, "unknown socket option"),
    CODE(API_EPROTONOSUPPORT, "protocol not supported"),
    CODE(API_EOPNOTSUPP, "operation not supported on this socket"),
    CODE(API_EAFNOSUPPORT, "address family not supported"),
    CODE(API_EADDRINUSE, "address already in use"),
    CODE(API_EADDRNOTAVAIL, "address not available"),
    CODE(API_ENETDOWN, "network is down"),
    CODE(API_ENETUNREACH, "network is unreachable"),
    CODE(API_ECONNABORTED, "connection aborted"),
    CODE(API_ECONNRESET, "connection reset by peer"),
    CODE(API_ENOBUFS, "no buffer space or table full"),
    CODE(API_EISCONN, "already connected"),
    CODE(API_ENOTCONN, "not connected"),
    CODE(API_ESHUTDOWN, "cannot send after shutdown"),
    CODE(API_ETIMEDOUT, "timed out"),
    CODE(API_ECONNREFUSED, "connection refused"),
    CODE(API_EHOSTDOWN, "host is down"),
    CODE(API_EHOSTUNREACH, "no route to host"),
};

static const struct code_text *find_error(int code)
{
    for (size_t i = 0; i < sizeof errors / sizeof errors[0]; i++)
        if (errors[i].code == code)
            return &errors[i];
    return NULL;
}

const char *chipssl_strerror(int code)
{
    if (code == 0)
        return "no error";
    const struct code_text *e = find_error(code);
    return e ? e->text : "unknown error code";
}

const char *chipssl_error_name(int code)
{
    const struct code_text *e = find_error(code);
    return e ? e->name : NULL;
}

/* Certificate check flags (tcpip.h section 3), most serious first. */
static const struct code_text cert_flags[] = {
    CODE(PKI_CERT_BADCERT, "unusable certificate"),
    CODE(PKI_CERT_KEYMISMATCH, "key pair does not match"),
    CODE(PKI_CERT_REVOKED, "revoked"),
    CODE(PKI_CERT_EXPIRED, "expired or not yet valid"),
    CODE(PKI_CERT_UNMATCHED, "name does not match"),
    CODE(PKI_CERT_UNKNOWNCA, "issuer unknown"),
    CODE(PKI_CERT_NOTVERIFIED, "not verified"),
};

int chipssl_certflags_text(int flags, char *buf, int len)
{
    if (!buf || len < 1)
        return -1;
    buf[0] = '\0';
    if (flags < 0)
        return -1;
    if (flags == 0)
        return snprintf(buf, (size_t)len, "none");
    /* Like snprintf: the length of the whole text, even when cut short. */
    size_t total = 0, cap = (size_t)len;
    int rest = flags;
    for (size_t i = 0; i < sizeof cert_flags / sizeof cert_flags[0]; i++) {
        if (!(flags & cert_flags[i].code))
            continue;
        rest &= ~cert_flags[i].code;
        int n = snprintf(buf + (total < cap ? total : cap - 1),
                         total < cap ? cap - total : 1, "%s%s",
                         total ? ", " : "", cert_flags[i].text);
        total += (size_t)n;
    }
    if (rest) {
        int n = snprintf(buf + (total < cap ? total : cap - 1),
                         total < cap ? cap - total : 1, "%sunknown flags 0x%x",
                         total ? ", " : "", (unsigned)rest);
        total += (size_t)n;
    }
    return (int)total;
}

/* The TLS alert registry (RFC 8446 6.2, RFC 5246 7.2, RFC 6066, RFC 7301,
 * RFC 7507, RFC 4279; "reserved" ones are old versions' alerts that a peer
 * may still send). */
static const struct code_text alerts[] = {
    { 0, "close_notify", "close notify" },
    { 10, "unexpected_message", "unexpected message" },
    { 20, "bad_record_mac", "bad record MAC" },
    { 21, "decryption_failed", "decryption failed" },
    { 22, "record_overflow", "record overflow" },
    { 30, "decompression_failure", "decompression failure" },
    { 40, "handshake_failure", "handshake failure" },
    { 41, "no_certificate", "no certificate" },
    { 42, "bad_certificate", "bad certificate" },
    { 43, "unsupported_certificate", "unsupported certificate" },
    { 44, "certificate_revoked", "certificate revoked" },
    { 45, "certificate_expired", "certificate expired" },
    { 46, "certificate_unknown", "certificate unknown" },
    { 47, "illegal_parameter", "illegal parameter" },
    { 48, "unknown_ca", "unknown CA" },
    { 49, "access_denied", "access denied" },
    { 50, "decode_error", "decode error" },
    { 51, "decrypt_error", "decrypt error" },
    { 60, "export_restriction", "export restriction" },
    { 70, "protocol_version", "protocol version" },
    { 71, "insufficient_security", "insufficient security" },
    { 80, "internal_error", "internal error" },
    { 86, "inappropriate_fallback", "inappropriate fallback" },
    { 90, "user_canceled", "user canceled" },
    { 100, "no_renegotiation", "no renegotiation" },
    { 109, "missing_extension", "missing extension" },
    { 110, "unsupported_extension", "unsupported extension" },
    { 111, "certificate_unobtainable", "certificate unobtainable" },
    { 112, "unrecognized_name", "unrecognized name" },
    { 113, "bad_certificate_status_response", "bad certificate status response" },
    { 114, "bad_certificate_hash_value", "bad certificate hash value" },
    { 115, "unknown_psk_identity", "unknown PSK identity" },
    { 116, "certificate_required", "certificate required" },
    { 120, "no_application_protocol", "no application protocol" },
    { 121, "ech_required", "encrypted client hello required" },
};

const char *chipssl_alert_text(int alert)
{
    if (alert == -1)
        return "no alert";
    for (size_t i = 0; i < sizeof alerts / sizeof alerts[0]; i++)
        if (alerts[i].code == alert)
            return alerts[i].text;
    return "unknown alert";
}

const char *chipssl_suite_name(int iana)
{
    const struct chip_suite *s = chip_suite_find(iana);
    return s ? s->name : NULL;
}

int chipssl_suite_number(const char *name)
{
    if (!name)
        return -1;
    const struct chip_suite *s;
    for (int i = 0; (s = chip_suite_at(i)) != NULL; i++)
        if (strcasecmp(s->name, name) == 0)
            return s->iana;
    return -1;
}

const char *chipssl_version_name(int version)
{
    switch (version) {
    case SSL_VERSION_SSL30: return "SSL 3.0";
    case SSL_VERSION_TLS10: return "TLS 1.0";
    case SSL_VERSION_TLS11: return "TLS 1.1";
    case SSL_VERSION_TLS12: return "TLS 1.2";
    case SSL_VERSION_TLS13: return "TLS 1.3";
    default: return NULL;
    }
}
