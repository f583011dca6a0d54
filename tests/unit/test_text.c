/*
 * test_text.c - the words for numbers (tcpip.h section 10): error codes,
 * certificate flags, TLS alerts, cipher suites, versions. Tables of cases,
 * through the shared library as an application links it.
 */
#define _POSIX_C_SOURCE 200809L

#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "tcpip.h"

#define N(a) (sizeof(a) / sizeof((a)[0]))

/* ---------------------------------------------------------------- errors */

struct error_case {
    int code;
    const char *name;
    const char *text; /* NULL: only "non-empty and distinct" is checked */
};

#define E(c, t) { c, #c, t }
/* Every API_E... code of tcpip.h section 2. */
static const struct error_case error_cases[] = {
    E(API_EPERM, NULL), E(API_ENOENT, NULL), E(API_EBADF, NULL),
    E(API_ENOMEM, "out of memory"), E(API_EINVAL, "invalid argument"),
    E(API_EMFILE, NULL), E(API_EWOULDBLOCK, NULL), E(API_EINPROGRESS, NULL),
    E(API_EALREADY, NULL), E(API_ENOTSOCK, "not a socket"), E(API_EMSGSIZE, NULL),
    E(API_ENOPROTOOPT, NULL), E(API_EPROTONOSUPPORT, NULL), E(API_EOPNOTSUPP, NULL),
    E(API_EAFNOSUPPORT, NULL), E(API_EADDRINUSE, "address already in use"),
    E(API_EADDRNOTAVAIL, NULL), E(API_ENETDOWN, NULL), E(API_ENETUNREACH, NULL),
    E(API_ECONNABORTED, "connection aborted"), E(API_ECONNRESET, "connection reset by peer"),
    E(API_ENOBUFS, NULL), E(API_EISCONN, NULL), E(API_ENOTCONN, "not connected"),
    E(API_ESHUTDOWN, NULL), E(API_ETIMEDOUT, "timed out"),
    E(API_ECONNREFUSED, "connection refused"), E(API_EHOSTDOWN, NULL),
    E(API_EHOSTUNREACH, NULL),
};

static void test_error_codes(void **state)
{
    int failures = 0;
    (void)state;
    for (size_t i = 0; i < N(error_cases); i++) {
        const struct error_case *c = &error_cases[i];
        const char *text = chipssl_strerror(c->code), *name = chipssl_error_name(c->code);
        if (!text || !text[0] || strcmp(text, "unknown error code") == 0 ||
            (c->text && strcmp(text, c->text) != 0)) {
            print_error("strerror(%d): \"%s\", want \"%s\"\n", c->code, text ? text : "(null)",
                        c->text ? c->text : "words of its own");
            failures++;
        }
        if (!name || strcmp(name, c->name) != 0) {
            print_error("error_name(%d): \"%s\", want \"%s\"\n", c->code,
                        name ? name : "(null)", c->name);
            failures++;
        }
        for (size_t j = 0; j < i; j++)
            if (strcmp(text, chipssl_strerror(error_cases[j].code)) == 0) {
                print_error("%s and %s share the text \"%s\"\n", c->name, error_cases[j].name,
                            text);
                failures++;
            }
    }
    assert_int_equal(failures, 0);
}

/* No code outside the table has words of its own, and none in it is
 * missing: the table above is the whole of section 2. */
static void test_error_unknown(void **state)
{
    static const int others[] = { -1, 1, 22, 111, 199, 200, 203, 223, 262, 266, 299, 1000,
                                  INT_MIN, INT_MAX };
    int named = 0;
    (void)state;
    assert_string_equal(chipssl_strerror(0), "no error");
    assert_null(chipssl_error_name(0));
    for (size_t i = 0; i < N(others); i++) {
        assert_string_equal(chipssl_strerror(others[i]), "unknown error code");
        assert_null(chipssl_error_name(others[i]));
    }
    for (int code = 0; code < 1000; code++)
        named += chipssl_error_name(code) != NULL;
    assert_int_equal(named, (int)N(error_cases));
}

/* -------------------------------------------------------- certificate flags */

struct flags_case {
    int flags;
    const char *want;
};

static const struct flags_case flags_cases[] = {
    { 0, "none" },
    { PKI_CERT_BADCERT, "unusable certificate" },
    { PKI_CERT_REVOKED, "revoked" },
    { PKI_CERT_EXPIRED, "expired or not yet valid" },
    { PKI_CERT_UNMATCHED, "name does not match" },
    { PKI_CERT_UNKNOWNCA, "issuer unknown" },
    { PKI_CERT_NOTVERIFIED, "not verified" },
    { PKI_CERT_KEYMISMATCH, "key pair does not match" },
    { PKI_CERT_EXPIRED | PKI_CERT_UNKNOWNCA, "expired or not yet valid, issuer unknown" },
    { PKI_CERT_BADCERT | PKI_CERT_UNKNOWNCA, "unusable certificate, issuer unknown" },
    { PKI_CERT_BADCERT | PKI_CERT_KEYMISMATCH, "unusable certificate, key pair does not match" },
    { PKI_CERT_BADCERT | PKI_CERT_NOTVERIFIED, "unusable certificate, not verified" },
    { PKI_CERT_REVOKED | PKI_CERT_UNMATCHED, "revoked, name does not match" },
    { 0x7F, "unusable certificate, key pair does not match, revoked, expired or not yet valid, "
            "name does not match, issuer unknown, not verified" },
    { 0x80, "unknown flags 0x80" },
    { PKI_CERT_EXPIRED | 0x300, "expired or not yet valid, unknown flags 0x300" },
};

static void test_certflags(void **state)
{
    int failures = 0;
    (void)state;
    for (size_t i = 0; i < N(flags_cases); i++) {
        char buf[192];
        memset(buf, 'x', sizeof buf);
        int n = chipssl_certflags_text(flags_cases[i].flags, buf, (int)sizeof buf);
        if (n != (int)strlen(flags_cases[i].want) || strcmp(buf, flags_cases[i].want) != 0) {
            print_error("certflags_text(0x%x): %d \"%s\", want \"%s\"\n",
                        (unsigned)flags_cases[i].flags, n, buf, flags_cases[i].want);
            failures++;
        }
    }
    assert_int_equal(failures, 0);
}

/* A buffer too small: cut short, NUL-terminated, nothing written past len,
 * and the result says how long the whole text is (as snprintf). */
static void test_certflags_short_buffer(void **state)
{
    const char *whole = "expired or not yet valid, issuer unknown";
    int flags = PKI_CERT_EXPIRED | PKI_CERT_UNKNOWNCA;
    (void)state;
    for (int len = 1; len <= (int)strlen(whole) + 1; len++) {
        char buf[64];
        memset(buf, 'x', sizeof buf);
        assert_int_equal(chipssl_certflags_text(flags, buf, len), (int)strlen(whole));
        assert_int_equal((int)strlen(buf), len - 1);
        assert_memory_equal(buf, whole, (size_t)len - 1);
        assert_int_equal(buf[len], 'x');
    }
}

static void test_certflags_bad_args(void **state)
{
    char buf[16] = "untouched";
    (void)state;
    assert_int_equal(chipssl_certflags_text(PKI_CERT_EXPIRED, NULL, 16), -1);
    assert_int_equal(chipssl_certflags_text(PKI_CERT_EXPIRED, buf, 0), -1);
    assert_string_equal(buf, "untouched");
    assert_int_equal(chipssl_certflags_text(PKI_CERT_EXPIRED, buf, -5), -1);
    assert_string_equal(buf, "untouched");
    assert_int_equal(chipssl_certflags_text(-1, buf, (int)sizeof buf), -1);
    assert_string_equal(buf, "");
    assert_int_equal(chipssl_certflags_text(INT_MIN, buf, (int)sizeof buf), -1);
}

/* ------------------------------------------------------------------ alerts */

struct alert_case {
    int alert;
    const char *want;
};

/* Every value of the TLS alert registry. */
static const struct alert_case alert_cases[] = {
    { 0, "close notify" }, { 10, "unexpected message" }, { 20, "bad record MAC" },
    { 21, "decryption failed" }, { 22, "record overflow" }, { 30, "decompression failure" },
    { 40, "handshake failure" }, { 41, "no certificate" }, { 42, "bad certificate" },
    { 43, "unsupported certificate" }, { 44, "certificate revoked" },
    { 45, "certificate expired" }, { 46, "certificate unknown" }, { 47, "illegal parameter" },
    { 48, "unknown CA" }, { 49, "access denied" }, { 50, "decode error" },
    { 51, "decrypt error" }, { 60, "export restriction" }, { 70, "protocol version" },
    { 71, "insufficient security" }, { 80, "internal error" },
    { 86, "inappropriate fallback" }, { 90, "user canceled" }, { 100, "no renegotiation" },
    { 109, "missing extension" }, { 110, "unsupported extension" },
    { 111, "certificate unobtainable" }, { 112, "unrecognized name" },
    { 113, "bad certificate status response" }, { 114, "bad certificate hash value" },
    { 115, "unknown PSK identity" }, { 116, "certificate required" },
    { 120, "no application protocol" }, { 121, "encrypted client hello required" },
};

static void test_alerts(void **state)
{
    int failures = 0;
    (void)state;
    for (size_t i = 0; i < N(alert_cases); i++) {
        const char *got = chipssl_alert_text(alert_cases[i].alert);
        if (!got || strcmp(got, alert_cases[i].want) != 0) {
            print_error("alert_text(%d): \"%s\", want \"%s\"\n", alert_cases[i].alert,
                        got ? got : "(null)", alert_cases[i].want);
            failures++;
        }
    }
    assert_int_equal(failures, 0);
    assert_string_equal(chipssl_alert_text(-1), "no alert");
    /* Every other value of the one-byte field, and beyond it. */
    int known = 0;
    for (int a = 0; a < 256; a++)
        known += strcmp(chipssl_alert_text(a), "unknown alert") != 0;
    assert_int_equal(known, (int)N(alert_cases));
    assert_string_equal(chipssl_alert_text(-2), "unknown alert");
    assert_string_equal(chipssl_alert_text(256), "unknown alert");
    assert_string_equal(chipssl_alert_text(INT_MIN), "unknown alert");
}

/* ------------------------------------------------------------------ suites */

struct suite_case {
    int iana;
    const char *want; /* NULL: refused or unknown */
};

static const struct suite_case suite_cases[] = {
    { 0x1301, "TLS_AES_128_GCM_SHA256" },
    { 0x1302, "TLS_AES_256_GCM_SHA384" },
    { 0x1303, "TLS_CHACHA20_POLY1305_SHA256" },
    { 0x1304, "TLS_AES_128_CCM_SHA256" },
    { 0xC02B, "TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256" },
    { 0xC02F, "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256" },
    { 0xC030, "TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384" },
    { 0xCCA8, "TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256" },
    { 0xCCAA, "TLS_DHE_RSA_WITH_CHACHA20_POLY1305_SHA256" },
    { 0x002F, "TLS_RSA_WITH_AES_128_CBC_SHA" },
    { 0x003D, "TLS_RSA_WITH_AES_256_CBC_SHA256" },
    { 0x0000, NULL }, /* TLS_NULL_WITH_NULL_NULL */
    { 0x0002, NULL }, /* NULL-SHA */
    { 0x0004, NULL }, /* RC4-MD5 */
    { 0x000A, NULL }, /* 3DES */
    { 0x0009, NULL }, /* DES */
    { 0x0034, NULL }, /* anonymous DH */
    { 0x00FF, NULL }, /* renegotiation SCSV: no suite */
    { 0x5600, NULL }, /* fallback SCSV */
    { -1, NULL },
    { 0x10000, NULL },
    { 0x11301, NULL }, /* not the low 16 bits only */
};

/* The suites tcpip.h section 7 documents as known. */
static const int documented_suites[] = {
    0x1301, 0x1302, 0x1303, 0x1304, 0xC02B, 0xC02C, 0xC02F, 0xC030, 0xCCA9, 0xCCA8,
    0xC023, 0xC024, 0xC027, 0xC028, 0xC009, 0xC00A, 0xC013, 0xC014, 0x009E, 0x009F,
    0xCCAA, 0x009C, 0x009D, 0x002F, 0x0035, 0x003C, 0x003D,
};

static void test_suite_names(void **state)
{
    int failures = 0;
    (void)state;
    for (size_t i = 0; i < N(suite_cases); i++) {
        const char *got = chipssl_suite_name(suite_cases[i].iana);
        const char *want = suite_cases[i].want;
        if ((got == NULL) != (want == NULL) || (got && strcmp(got, want) != 0)) {
            print_error("suite_name(0x%x): \"%s\", want \"%s\"\n", (unsigned)suite_cases[i].iana,
                        got ? got : "(null)", want ? want : "(null)");
            failures++;
        }
    }
    assert_int_equal(failures, 0);
}

/* Exactly the documented suites have names; every name is an IANA TLS_
 * name, distinct, and chipssl_suite_number maps it back. */
static void test_suite_table_round_trip(void **state)
{
    int named = 0;
    const char *names[64];
    (void)state;
    for (int iana = 0; iana <= 0xFFFF; iana++) {
        const char *name = chipssl_suite_name(iana);
        if (!name)
            continue;
        int documented = 0;
        for (size_t i = 0; i < N(documented_suites); i++)
            documented |= documented_suites[i] == iana;
        if (!documented)
            fail_msg("suite 0x%04X (%s) has a name but is not documented", (unsigned)iana, name);
        assert_true(strncmp(name, "TLS_", 4) == 0);
        assert_int_equal(chipssl_suite_number(name), iana);
        assert_true(named < (int)N(names));
        for (int j = 0; j < named; j++)
            assert_string_not_equal(names[j], name);
        names[named++] = name;
    }
    assert_int_equal(named, (int)N(documented_suites));
}

static void test_suite_number(void **state)
{
    (void)state;
    assert_int_equal(chipssl_suite_number("TLS_AES_256_GCM_SHA384"), 0x1302);
    assert_int_equal(chipssl_suite_number("tls_ecdhe_rsa_with_aes_256_gcm_sha384"), 0xC030);
    assert_int_equal(chipssl_suite_number(NULL), -1);
    assert_int_equal(chipssl_suite_number(""), -1);
    assert_int_equal(chipssl_suite_number("TLS_AES_256_GCM"), -1);
    assert_int_equal(chipssl_suite_number("TLS_AES_256_GCM_SHA384 "), -1);
    assert_int_equal(chipssl_suite_number("TLS_RSA_WITH_RC4_128_MD5"), -1);
    /* OpenSSL's names are not the IANA names. */
    assert_int_equal(chipssl_suite_number("ECDHE-RSA-AES128-GCM-SHA256"), -1);
}

/* ---------------------------------------------------------------- versions */

static void test_versions(void **state)
{
    static const struct {
        int version;
        const char *want;
    } cases[] = {
        { SSL_VERSION_SSL30, "SSL 3.0" }, { SSL_VERSION_TLS10, "TLS 1.0" },
        { SSL_VERSION_TLS11, "TLS 1.1" }, { SSL_VERSION_TLS12, "TLS 1.2" },
        { SSL_VERSION_TLS13, "TLS 1.3" }, { 0, NULL },
        { SSL_VERSION_TLS12 | SSL_VERSION_TLS13, NULL }, { 0x20, NULL }, { -1, NULL },
    };
    (void)state;
    for (size_t i = 0; i < N(cases); i++) {
        const char *got = chipssl_version_name(cases[i].version);
        if (cases[i].want)
            assert_string_equal(got, cases[i].want);
        else
            assert_null(got);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_error_codes),
        cmocka_unit_test(test_error_unknown),
        cmocka_unit_test(test_certflags),
        cmocka_unit_test(test_certflags_short_buffer),
        cmocka_unit_test(test_certflags_bad_args),
        cmocka_unit_test(test_alerts),
        cmocka_unit_test(test_suite_names),
        cmocka_unit_test(test_suite_table_round_trip),
        cmocka_unit_test(test_suite_number),
        cmocka_unit_test(test_versions),
    };
    return cmocka_run_group_tests_name("text", tests, NULL, NULL);
}
