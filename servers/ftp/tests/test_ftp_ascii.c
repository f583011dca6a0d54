/*
 * test_ftp_ascii - TYPE A conversion both ways: a table of cases, every
 * split of each input into two chunks, output buffers of every small size,
 * and the round trip file -> wire -> file.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "ftp_ascii.h"

/* Converts in with the given first chunk length and output size. */
static size_t conv(int to_net, const char *in, size_t n, size_t cut, size_t cap, char *out)
{
    struct ftp_ascii a = {0};
    size_t o = 0, pos = 0;
    while (pos < n) {
        size_t end = pos < cut ? cut : n;
        while (pos < end) {
            char tmp[16];
            size_t used;
            size_t w = to_net ? ftp_ascii_to_net(&a, in + pos, end - pos, tmp, cap, &used)
                              : ftp_ascii_from_net(&a, in + pos, end - pos, tmp, cap, &used);
            assert_true(w <= cap);
            assert_true(used > 0); /* cap >= 2 always makes progress */
            memcpy(out + o, tmp, w);
            o += w;
            pos += used;
        }
    }
    if (!to_net)
        o += ftp_ascii_from_net_end(&a, out + o, 1);
    return o;
}

static void test_table(void **state)
{
    (void)state;
    static const struct {
        int to_net;
        const char *in, *out;
    } rows[] = {
        {1, "", ""},
        {1, "a\nb\n", "a\r\nb\r\n"},
        {1, "a\r\nb", "a\r\nb"}, /* already CRLF: unchanged */
        {1, "\n\n", "\r\n\r\n"},
        {1, "a\rb\n", "a\rb\r\n"},
        {1, "\r\r\n", "\r\r\n"},
        {0, "a\r\nb\r\n", "a\nb\n"},
        {0, "a\rb", "a\rb"},
        {0, "a\r", "a\r"}, /* a CR at the very end comes back */
        {0, "\r\r\n", "\r\n"},
        {0, "a\nb", "a\nb"},
        {0, "\r\n\r\n", "\n\n"},
    };
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
        size_t n = strlen(rows[i].in);
        for (size_t cut = 0; cut <= n; cut++)
            for (size_t cap = 2; cap <= 8; cap++) {
                char out[64];
                size_t o = conv(rows[i].to_net, rows[i].in, n, cut, cap, out);
                out[o] = '\0';
                if (strcmp(out, rows[i].out) != 0)
                    fail_msg("row %zu cut %zu cap %zu: got %zu bytes", i, cut, cap, o);
            }
    }
}

/* A file without CR comes back exactly through the wire. */
static void test_round_trip(void **state)
{
    (void)state;
    const char *file = "line one\n\nline three\nno end";
    char wire[128], back[128];
    size_t w = conv(1, file, strlen(file), 5, 3, wire);
    size_t b = conv(0, wire, w, 7, 2, back);
    back[b] = '\0';
    assert_string_equal(back, file);
    assert_int_equal(w, strlen(file) + 3);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_table),
        cmocka_unit_test(test_round_trip),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
