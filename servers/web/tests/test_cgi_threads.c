/*
 * test_cgi_threads.c - the tables under concurrent use: threads install,
 * look up and delete CGI entries, swap the MIME table, change accounts,
 * SSI tags and server states at once. Checks that every thread sees its
 * own entries intact and the table is empty at the end; run it under
 * ThreadSanitizer (-fsanitize=thread) to check the locking itself.
 */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "cgi.h"
#include "cgi_server.h"

#define THREADS 4
#define ROUNDS 2000

static void fa(rpCgiPtr r)
{
    (void)r;
}
static void fb(rpCgiPtr r)
{
    (void)r;
}
static int tag(unsigned long c, const char *t)
{
    (void)c;
    (void)t;
    return 0;
}

static CUSTOM_MIMETYPES_TABLE m1[] = {{"a", "x/a"}}, m2[] = {{"b", "x/b"}, {"c", "x/c"}};

static void *worker(void *arg)
{
    long id = (long)arg, bad = 0;
    char name[32];
    int i;

    for (i = 0; i < ROUNDS; i++) {
        CGI_Entry e = {name, CgiHttpGet, id % 2 ? fa : fb}, got;
        struct cgi_mime_info mi;
        snprintf(name, sizeof name, "t%ld-%d", id, i % 17);
        if (CGI_Install(&e) != 0)
            bad++;
        if (cgi_table_lookup(name, CgiHttpGet, &got, NULL) != CGI_LOOKUP_FOUND ||
            got.CgiFuncPtr != e.CgiFuncPtr)
            bad++;
        if (CGI_Delete(name) != 0)
            bad++;
        CGI_Install_MIME_Table(i % 2 ? 1 : 2, i % 2 ? m1 : m2);
        cgi_mime_lookup("/f.b", &mi);
        CGI_SetCredentials("user", "pass", (int)(id % 2), i % CGI_MAX_ACCOUNTS);
        cgi_auth_check("/secure/x", 0, "user", "pass");
        SSI_Register_Tag("<t>", tag, (int)(id % 2));
        ssi_find_tag((int)(id % 2), "<t>", 3, NULL);
        BIOS_Server_On_Off(SS_WEB_SERVER, (unsigned)(i % 2));
        BIOS_Server_State(SS_WEB_SERVER);
    }
    return (void *)bad;
}

static void test_concurrent(void **state)
{
    pthread_t t[THREADS];
    CGI_Entry list[4];
    char names[4][CGI_MAX_PATH_LEN + 1];
    long i;

    (void)state;
    cgi_reset_all();
    assert_int_equal(CGI_SetSecurePath("/secure"), 0);
    for (i = 0; i < THREADS; i++)
        assert_int_equal(pthread_create(&t[i], NULL, worker, (void *)i), 0);
    for (i = 0; i < THREADS; i++) {
        void *bad;
        assert_int_equal(pthread_join(t[i], &bad), 0);
        assert_int_equal((long)bad, 0);
    }
    assert_int_equal(cgi_table_list(list, &names[0][0], 4), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_concurrent),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
