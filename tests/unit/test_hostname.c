/*
 * test_hostname.c - the host-name matcher (src/hostname.h): the wildcard
 * rules of SSL_ClientStart (API.md 6: "A `*` matches within one label only")
 * and the IP-literal test that decides SNI and IP-SAN matching.
 */
#define _POSIX_C_SOURCE 200809L

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "hostname.h"

/* pattern is plen bytes when plen > 0 (it may hold a NUL), else strlen. */
struct match_case {
    const char *desc;
    const char *pattern;
    size_t plen;
    const char *name;
    int want;
};

#define EMBEDDED_NUL "foo.com\0.evil.com"

/* clang-format off */
static const struct match_case match_cases[] = {
    /* exact and case */
    { .desc = "exact", .pattern = "www.example.com", .name = "www.example.com", .want = 1 },
    { .desc = "other tld", .pattern = "www.example.com", .name = "www.example.org", .want = 0 },
    { .desc = "prefix of name", .pattern = "example.com", .name = "www.example.com", .want = 0 },
    { .desc = "name is prefix", .pattern = "www.example.com", .name = "example.com", .want = 0 },
    { .desc = "suffix only", .pattern = "ample.com", .name = "example.com", .want = 0 },
    { .desc = "longer pattern", .pattern = "www.example.com.au", .name = "www.example.com", .want = 0 },
    { .desc = "single label", .pattern = "localhost", .name = "localhost", .want = 1 },
    { .desc = "upper pattern", .pattern = "WWW.Example.COM", .name = "www.example.com", .want = 1 },
    { .desc = "upper name", .pattern = "www.example.com", .name = "WWW.EXAMPLE.COM", .want = 1 },
    /* one trailing dot on either side is ignored */
    { .desc = "dot on pattern", .pattern = "www.example.com.", .name = "www.example.com", .want = 1 },
    { .desc = "dot on name", .pattern = "www.example.com", .name = "www.example.com.", .want = 1 },
    { .desc = "dot on both", .pattern = "www.example.com.", .name = "www.example.com.", .want = 1 },
    { .desc = "two dots on pattern", .pattern = "www.example.com..", .name = "www.example.com", .want = 0 },
    { .desc = "empty label", .pattern = "a..com", .name = "a..com", .want = 0 },
    { .desc = "leading dot", .pattern = ".a.com", .name = ".a.com", .want = 0 },
    /* "*.a.com" */
    { .desc = "*.a.com foo.a.com", .pattern = "*.a.com", .name = "foo.a.com", .want = 1 },
    { .desc = "*.a.com FOO.A.COM", .pattern = "*.a.com", .name = "FOO.A.COM", .want = 1 },
    { .desc = "*.A.COM foo.a.com", .pattern = "*.A.COM", .name = "foo.a.com", .want = 1 },
    { .desc = "*.a.com foo.a.com.", .pattern = "*.a.com", .name = "foo.a.com.", .want = 1 },
    { .desc = "*.a.com bar.foo.a.com", .pattern = "*.a.com", .name = "bar.foo.a.com", .want = 0 },
    { .desc = "*.a.com a.com", .pattern = "*.a.com", .name = "a.com", .want = 0 },
    { .desc = "*.a.com .a.com", .pattern = "*.a.com", .name = ".a.com", .want = 0 },
    { .desc = "*.a.com foo.b.com", .pattern = "*.a.com", .name = "foo.b.com", .want = 0 },
    { .desc = "*.a.com fooa.com", .pattern = "*.a.com", .name = "fooa.com", .want = 0 },
    /* `*` anywhere in the left-most label, zero or more characters */
    { .desc = "f*.com foo.com", .pattern = "f*.com", .name = "foo.com", .want = 1 },
    { .desc = "f*.com bar.com", .pattern = "f*.com", .name = "bar.com", .want = 0 },
    { .desc = "f*.com f.com", .pattern = "f*.com", .name = "f.com", .want = 1 },
    { .desc = "f*.com F.COM", .pattern = "f*.com", .name = "F.COM", .want = 1 },
    { .desc = "f*.com foo.bar.com", .pattern = "f*.com", .name = "foo.bar.com", .want = 0 },
    { .desc = "f*.com afoo.com", .pattern = "f*.com", .name = "afoo.com", .want = 0 },
    { .desc = "*oo.com foo.com", .pattern = "*oo.com", .name = "foo.com", .want = 1 },
    { .desc = "*oo.com fox.com", .pattern = "*oo.com", .name = "fox.com", .want = 0 },
    { .desc = "f*o.com foo.com", .pattern = "f*o.com", .name = "foo.com", .want = 1 },
    { .desc = "f*o.com fo.com", .pattern = "f*o.com", .name = "fo.com", .want = 1 },
    { .desc = "f*o.com fxx.com", .pattern = "f*o.com", .name = "fxx.com", .want = 0 },
    { .desc = "f*.test from the PKI", .pattern = "f*.test", .name = "foo.test", .want = 1 },
    /* invalid patterns never match */
    { .desc = "* alone vs foo", .pattern = "*", .name = "foo", .want = 0 },
    { .desc = "* alone vs a.com", .pattern = "*", .name = "a.com", .want = 0 },
    { .desc = "* alone vs *", .pattern = "*", .name = "*", .want = 0 },
    { .desc = "*. alone", .pattern = "*.", .name = "foo.", .want = 0 },
    { .desc = "a.*.com", .pattern = "a.*.com", .name = "a.b.com", .want = 0 },
    { .desc = "foo.*", .pattern = "foo.*", .name = "foo.com", .want = 0 },
    { .desc = "*.*.com", .pattern = "*.*.com", .name = "a.b.com", .want = 0 },
    { .desc = "f**.com", .pattern = "f**.com", .name = "foo.com", .want = 0 },
    { .desc = "*f*.com", .pattern = "*f*.com", .name = "foo.com", .want = 0 },
    { .desc = "embedded NUL", .pattern = EMBEDDED_NUL, .plen = sizeof EMBEDDED_NUL - 1,
      .name = "foo.com", .want = 0 },
    { .desc = "embedded NUL, full name", .pattern = EMBEDDED_NUL, .plen = sizeof EMBEDDED_NUL - 1,
      .name = "foo.com.evil.com", .want = 0 },
    { .desc = "plen shorter than string", .pattern = "foo.com.evil.org", .plen = 7,
      .name = "foo.com", .want = 1 },
    { .desc = "plen shorter, no match of full", .pattern = "foo.com.evil.org", .plen = 7,
      .name = "foo.com.evil.org", .want = 0 },
    { .desc = "empty pattern", .pattern = "", .name = "foo", .want = 0 },
    { .desc = "empty name", .pattern = "foo", .name = "", .want = 0 },
    { .desc = "both empty", .pattern = "", .name = "", .want = 0 },
    /* only ASCII letters fold: bytes that differ by 0x20 but are not
     * letters are different ('\r' | 0x20 is '-', '@' | 0x20 is '`', ...) */
    { .desc = "- vs CR", .pattern = "a-b.com", .name = "a\rb.com", .want = 0 },
    { .desc = "CR vs -", .pattern = "a\rb.com", .name = "a-b.com", .want = 0 },
    { .desc = "@ vs `", .pattern = "a@b.com", .name = "a`b.com", .want = 0 },
    { .desc = "[ vs {", .pattern = "a[b.com", .name = "a{b.com", .want = 0 },
    { .desc = "^ vs ~", .pattern = "a^b.com", .name = "a~b.com", .want = 0 },
    { .desc = "_ vs DEL", .pattern = "a_b.com", .name = "a\x7f" "b.com", .want = 0 },
    { .desc = "0 vs DLE", .pattern = "a0b.com", .name = "a\x10" "b.com", .want = 0 },
    { .desc = ". vs SO in a label", .pattern = "a.b.com", .name = "a\x0e" "b.com", .want = 0 },
    { .desc = "Latin-1 upper vs lower", .pattern = "\xc4.com", .name = "\xe4.com", .want = 0 },
    { .desc = "wildcard rest, - vs CR", .pattern = "*.a-b.com", .name = "x.a\rb.com", .want = 0 },
    { .desc = "wildcard prefix, - vs CR", .pattern = "a-*.com", .name = "a\rb.com", .want = 0 },
    { .desc = "wildcard suffix, - vs CR", .pattern = "*-b.com", .name = "a\rb.com", .want = 0 },
    { .desc = "same non-letters", .pattern = "a-b_c.com", .name = "A-B_C.COM", .want = 1 },
    /* a wildcard is for DNS names: never an IP literal */
    { .desc = "*.0.0.1 vs 127.0.0.1", .pattern = "*.0.0.1", .name = "127.0.0.1", .want = 0 },
    { .desc = "*.0.0.1 vs 127.0.0.1.", .pattern = "*.0.0.1", .name = "127.0.0.1.", .want = 0 },
    { .desc = "1*.0.0.1 vs 127.0.0.1", .pattern = "1*.0.0.1", .name = "127.0.0.1", .want = 0 },
    { .desc = "*7.0.0.1 vs 127.0.0.1", .pattern = "*7.0.0.1", .name = "127.0.0.1", .want = 0 },
    { .desc = "*.168.1.1 vs 192.168.1.1", .pattern = "*.168.1.1", .name = "192.168.1.1",
      .want = 0 },
    { .desc = "*.2.3.4 vs ::ffff:1.2.3.4", .pattern = "*.2.3.4", .name = "::ffff:1.2.3.4",
      .want = 0 },
    { .desc = "*.0.0.1 vs a.0.0.1 (a DNS name)", .pattern = "*.0.0.1", .name = "a.0.0.1",
      .want = 1 },
    { .desc = "*.0.0.1.2 vs 1.0.0.1.2 (not an IP)", .pattern = "*.0.0.1.2",
      .name = "1.0.0.1.2", .want = 1 },
    /* IP literals compared as strings */
    { .desc = "same IPv4 literal", .pattern = "127.0.0.1", .name = "127.0.0.1", .want = 1 },
    { .desc = "other IPv4 literal", .pattern = "127.0.0.1", .name = "127.0.0.2", .want = 0 },
};
/* clang-format on */

struct ip_case {
    const char *name;
    int want;
};

/* clang-format off */
static const struct ip_case ip_cases[] = {
    { .name = "127.0.0.1", .want = 1 },
    { .name = "0.0.0.0", .want = 1 },
    { .name = "255.255.255.255", .want = 1 },
    { .name = "192.168.10.200", .want = 1 },
    { .name = "::1", .want = 1 },
    { .name = "::", .want = 1 },
    { .name = "fe80::1", .want = 1 },
    { .name = "2001:db8::1", .want = 1 },
    { .name = "2001:DB8:0:0:0:0:0:1", .want = 1 },
    { .name = "::ffff:192.0.2.1", .want = 1 },
    { .name = "localhost", .want = 0 },
    { .name = "example.com", .want = 0 },
    { .name = "1.2.3.4.example.com", .want = 0 },
    { .name = "256.1.1.1", .want = 0 },
    { .name = "1.2.3.4.5", .want = 0 },
    { .name = "1.2.3", .want = 0 },
    { .name = "1..2.3", .want = 0 },
    { .name = "2001:db8::1::2", .want = 0 },
    { .name = "gggg::1", .want = 0 },
    { .name = "", .want = 0 },
    { .name = "*.a.com", .want = 0 },
};
/* clang-format on */

/* n bytes of s with non-printable bytes as \xNN, for messages. */
static const char *esc(char *dst, size_t size, const char *s, size_t n)
{
    size_t used = 0, i;

    dst[0] = '\0';
    for (i = 0; i < n && used + 5 < size; i++) {
        unsigned char c = (unsigned char)s[i];

        used +=
            (size_t)snprintf(dst + used, size - used, (c < 0x20 || c > 0x7e) ? "\\x%02x" : "%c", c);
    }
    return dst;
}

static void test_name_match(void **state)
{
    size_t i;
    int failures = 0;

    (void)state;
    for (i = 0; i < sizeof match_cases / sizeof match_cases[0]; i++) {
        const struct match_case *c = &match_cases[i];
        size_t plen = c->plen != 0 ? c->plen : strlen(c->pattern);
        int got = chipssl_name_match(c->pattern, plen, c->name);

        if (got != c->want) {
            char p[256], n[256];

            print_error("name_match case %zu (%s): pattern \"%s\" name \"%s\": got %d, want %d\n",
                        i, c->desc, esc(p, sizeof p, c->pattern, plen),
                        esc(n, sizeof n, c->name, strlen(c->name)), got, c->want);
            failures++;
        }
    }
    assert_int_equal(failures, 0);
}

static void test_name_is_ip(void **state)
{
    size_t i;
    int failures = 0;

    (void)state;
    for (i = 0; i < sizeof ip_cases / sizeof ip_cases[0]; i++) {
        const struct ip_case *c = &ip_cases[i];
        int got = chipssl_name_is_ip(c->name);

        /* "1 when name is an IP literal": any non-zero would do for a
         * boolean, but the header promises 1. */
        if (got != c->want) {
            print_error("name_is_ip case %zu \"%s\": got %d, want %d\n", i, c->name, got, c->want);
            failures++;
        }
    }
    assert_int_equal(failures, 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_name_match),
        cmocka_unit_test(test_name_is_ip),
    };

    return cmocka_run_group_tests_name("hostname", tests, NULL, NULL);
}
