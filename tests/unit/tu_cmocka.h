/*
 * tu_cmocka.h - the shared helpers of the unit tests that fail the running
 * cmocka test (fail_msg) or build its table of tests.
 *
 * cmocka's assertions work in the test program's main thread only: call the
 * asserting helpers here from test functions, never from a server thread
 * (threads use testutil.h, which never asserts). Include after <cmocka.h>
 * (and what it needs) and "testutil.h".
 */
#ifndef CHIPSSL_TU_CMOCKA_H
#define CHIPSSL_TU_CMOCKA_H

#include <stdio.h>
#include <stdlib.h>

#include "testutil.h"

/* ------------------------------------------------------------ asserting */

/* The session of c (tu_session_new); fails the test, saying which step
 * failed and why, when it cannot be made. */
static inline int tu_new_session(const struct tu_scfg *c)
{
    char msg[256];
    int err, sid = tu_session_new(c, &err);

    if (sid < 1)
        fail_msg("%s", tu_session_msg(msg, sizeof msg, sid, c, err));
    return sid;
}

/* Fails the test unless the connection of tu_conn (made with flags) was a
 * complete good one: tu_conn_check, whose message says what went wrong. srv
 * may be NULL (a server this process does not see). */
static inline void tu_want_good(const char *what, const struct tu_end *cli,
                                const struct tu_end *srv, int flags)
{
    char msg[512];

    if (!tu_conn_check(what, cli, srv, flags, msg, sizeof msg))
        fail_msg("%s", msg);
}

/* Fails the test unless rc, the result of tu_pair_open or tu_pair_connect
 * on p, is 0 (both ends handshook); the message has what p tells. */
static inline void tu_want_pair(int rc, const struct tu_pair *p)
{
    if (rc != 0)
        fail_msg("pair: client handshake %d (error %d), server %d", p->cli_hs, p->error, p->srv_hs);
}

/* --------------------------------------------------- group PKI fixtures */

/* Group set-up and tear-down for the common case: tu_pki_srv, the root
 * "ca" and the server certificate "srv". */
static inline int tu_setup_srv(void **state)
{
    (void)state;
    return tu_pki_add(&tu_pki_srv);
}

static inline int tu_teardown_srv(void **state)
{
    (void)state;
    tu_pki_del(&tu_pki_srv);
    return 0;
}

/* Defines the static group fixtures `setup` and `teardown` that add and
 * delete the PKI of the struct tu_pki object `pki` (tu_pki_add/tu_pki_del),
 * for a program with its own table of certificates. */
#define TU_PKI_FIXTURES(setup, teardown, pki)                                                      \
    static int setup(void **state)                                                                 \
    {                                                                                              \
        (void)state;                                                                               \
        return tu_pki_add(&(pki));                                                                 \
    }                                                                                              \
    static int teardown(void **state)                                                              \
    {                                                                                              \
        (void)state;                                                                               \
        tu_pki_del(&(pki));                                                                        \
        return 0;                                                                                  \
    }

/* ----------------------------------------------------- the test table */

/* Defines the cmocka test function `name` that runs fn(arg): one variant
 * (a version, a mode) of a test body shared by several tests. */
#define TU_TEST_CALL(name, fn, arg)                                                                \
    static void name(void **state)                                                                 \
    {                                                                                              \
        (void)state;                                                                               \
        fn(arg);                                                                                   \
    }

/* Appends the test t to tests (room for max, *n filled). A full table is a
 * mistake of the program: it aborts. */
static inline void tu_add_entry(struct CMUnitTest *tests, size_t max, size_t *n,
                                const struct CMUnitTest *t)
{
    if (*n >= max) {
        fprintf(stderr, "too many tests: the table holds %zu\n", max);
        abort();
    }
    tests[(*n)++] = *t;
}

/* Appends one test: name, test function fn, initial state st (a case row;
 * may be NULL) and per-test teardown (may be NULL). */
static inline void tu_add_test(struct CMUnitTest *tests, size_t max, size_t *n, const char *name,
                               CMUnitTestFunction fn, const void *st, CMFixtureFunction teardown)
{
    struct CMUnitTest t = {name, fn, NULL, teardown, (void *)st};

    tu_add_entry(tests, max, n, &t);
}

/* In the macros below, tests is an array of struct CMUnitTest (not a
 * pointer) and n the size_t count of its filled entries. */

/* One test: name and function. */
#define TU_ADD_TEST(tests, n, name, fn) tu_add_test(tests, TU_N(tests), &(n), name, fn, NULL, NULL)

/* One test per row of the array tbl: the row's desc is the name, the row
 * the initial state of fn; TU_ADD_TABLE_TD with the teardown td for each. */
#define TU_ADD_TABLE_TD(tests, n, tbl, fn, td)                                                     \
    do {                                                                                           \
        size_t tu_row_;                                                                            \
                                                                                                   \
        for (tu_row_ = 0; tu_row_ < TU_N(tbl); tu_row_++)                                          \
            tu_add_test(tests, TU_N(tests), &(n), (tbl)[tu_row_].desc, fn, &(tbl)[tu_row_], td);   \
    } while (0)
#define TU_ADD_TABLE(tests, n, tbl, fn) TU_ADD_TABLE_TD(tests, n, tbl, fn, NULL)

/* The tests of the array more (cmocka_unit_test(...) entries), appended. */
#define TU_ADD_TESTS(tests, n, more)                                                               \
    do {                                                                                           \
        size_t tu_more_;                                                                           \
                                                                                                   \
        for (tu_more_ = 0; tu_more_ < TU_N(more); tu_more_++)                                      \
            tu_add_entry(tests, TU_N(tests), &(n), &(more)[tu_more_]);                             \
    } while (0)

#endif /* CHIPSSL_TU_CMOCKA_H */
