/*
 * test_lock_scope - building one session's TLS context never stalls the
 * others (issue 5, item 5): the trust store is rebuilt after a PKI change
 * without holding the session table, the session's own lock or the PKI
 * store's lock.
 *
 * The library calls the internal hook chip_test_trust_hook (src/pki.h) in
 * every trust-store build, outside every lock. Here the first build after
 * arming parks in the hook until released. Thread T changes the PKI (adds a
 * root CA) and starts a handshake on client session A: A's context is
 * rebuilt, its trust-store build parks. While T is parked, the main thread
 * must be able to
 *   (a) complete a full handshake on client session B (B's context is stale
 *       too, so B builds its own trust store: the hook lets it through),
 *   (b) change settings of A and of B (SSL_SessionOpt),
 *   (c) add and delete a PKI entry.
 * Each step runs in a helper thread joined with a bound (STEP_BOUND_S): a
 * step that waits for a lock T holds would never end, and the test fails
 * with "stalled behind another session's trust-store build" instead of
 * hanging. The bound only catches hangs; no step is timed. Then T is
 * released and its handshake must complete too.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include "pki.h"
#include "testutil.h"

#define STEP_BOUND_S 10 /* generous: each step normally ends in milliseconds */

/* ---------------------------------------------------------------- hook */

static pthread_mutex_t hook_mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t hook_cv = PTHREAD_COND_INITIALIZER;
static int hook_armed;      /* the next build parks */
static int hook_parked;     /* a build is parked now */
static int hook_released;   /* the parked build may go on */
static pthread_t hook_parked_thread;
static int hook_calls;      /* builds seen, parked or not */

static void trust_hook(void)
{
    pthread_mutex_lock(&hook_mu);
    hook_calls++;
    if (hook_armed) {
        hook_armed = 0;
        hook_parked = 1;
        hook_parked_thread = pthread_self();
        pthread_cond_broadcast(&hook_cv);
        while (!hook_released)
            pthread_cond_wait(&hook_cv, &hook_mu);
        hook_parked = 0;
    }
    pthread_mutex_unlock(&hook_mu);
}

static void hook_release(void)
{
    pthread_mutex_lock(&hook_mu);
    hook_released = 1;
    pthread_cond_broadcast(&hook_cv);
    pthread_mutex_unlock(&hook_mu);
}

static int hook_get(int *v)
{
    pthread_mutex_lock(&hook_mu);
    int r = *v;
    pthread_mutex_unlock(&hook_mu);
    return r;
}

/* Wait (bounded) until a build is parked; 1 when it is. */
static int hook_wait_parked(void)
{
    struct timespec until;
    clock_gettime(CLOCK_REALTIME, &until);
    until.tv_sec += STEP_BOUND_S;
    pthread_mutex_lock(&hook_mu);
    int rc = 0;
    while (!hook_parked && rc != ETIMEDOUT)
        rc = pthread_cond_timedwait(&hook_cv, &hook_mu, &until);
    int parked = hook_parked;
    pthread_mutex_unlock(&hook_mu);
    return parked;
}

/* ------------------------------------------------------------- fixture */

static int srv_sid, sid_a, sid_b;
static int lsn_a = -1, lsn_b = -1;
static unsigned short port_a, port_b;

/* A full handshake of client session sid with the server session on lsn
 * (port); 0 when both ends completed it. Everything is closed again. */
static int one_handshake(int sid, int lsn, unsigned short port, int *cli_hs, int *srv_hs)
{
    struct tu_pair p = { .lsn = lsn, .cli = -1, .srv = -1, .cli_sid = sid };
    int err, rc = tu_pair_connect(&p, AF_INET, port, "localhost", NULL);
    *cli_hs = p.cli_hs;
    *srv_hs = p.srv_hs;
    if (p.cli >= 0)
        closesocket(p.cli, &err);
    if (p.srv >= 0)
        closesocket(p.srv, &err);
    return rc;
}

static int setup(void **state)
{
    (void)state;
    int err = 0, c, s;
    if (tu_pki_add(&tu_pki_srv) != 0)
        return -1;
    SSL_SESSION_NEW_Entry se = { "srv", 0, SSL_VERSION_TLS12 | SSL_VERSION_TLS13 };
    SSL_SESSION_NEW_Entry ce = { NULL, 0, SSL_VERSION_TLS12 | SSL_VERSION_TLS13 };
    srv_sid = SSL_SessionNew(&se, &err);
    sid_a = SSL_SessionNew(&ce, &err);
    sid_b = SSL_SessionNew(&ce, &err);
    if (srv_sid < 1 || sid_a < 1 || sid_b < 1)
        return -1;
    lsn_a = tu_listener(AF_INET, srv_sid, &port_a, &err);
    lsn_b = tu_listener(AF_INET, srv_sid, &port_b, &err);
    if (lsn_a < 0 || lsn_b < 0)
        return -1;
    /* Contexts exist for A, B and the server: after the PKI change each
     * must be rebuilt, not built for the first time. */
    if (one_handshake(sid_a, lsn_a, port_a, &c, &s) != 0 ||
        one_handshake(sid_b, lsn_b, port_b, &c, &s) != 0) {
        fprintf(stderr, "test_lock_scope: first handshakes failed (%d/%d)\n", c, s);
        return -1;
    }
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    int err;
    closesocket(lsn_a, &err);
    closesocket(lsn_b, &err);
    SSL_SessionClose(sid_a, &err);
    SSL_SessionClose(sid_b, &err);
    SSL_SessionClose(srv_sid, &err);
    tu_pki_del(&tu_pki_srv);
    PKI_CertificateDel("ca2-by-t", PKI_CERT_NONLOCAL, &err);
    return 0;
}

/* ------------------------------------------------------------ thread T */

struct t_job {
    int add_rc, add_err;
    int start_rc, start_err;
    int hs;
    SslProblemS prob;
};

static void *t_main(void *arg)
{
    struct t_job *j = arg;
    int err = 0;
    j->add_rc = tu_add_cert("ca2.pem", PKI_FMT_PEM, PKI_CERT_NONLOCAL | PKI_CERT_ROOTCA,
                            "ca2-by-t", NULL, &j->add_err);
    int cli = tu_client(AF_INET, sid_a, port_a, &err);
    if (cli < 0) {
        j->start_rc = -90;
        j->start_err = err;
        return NULL;
    }
    /* A's context is rebuilt here: its trust-store build parks. */
    j->start_rc = SSL_ClientStart(cli, "localhost", &j->start_err);
    if (j->start_rc == 0)
        j->hs = SSL_HandshakeComplete(cli, TU_WAIT_MS);
    SSL_GetProblem(cli, &j->prob, &err);
    closesocket(cli, &err);
    return NULL;
}

/* -------------------------------------------------------- bounded steps */

struct step {
    const char *what;
    void (*fn)(struct step *);
    int rc, rc2; /* results, checked after the join */
    int err, err2;
    int cli_hs, srv_hs;
    int calls_before, calls_after; /* (a): trust-store builds seen */
};

static void *step_main(void *arg)
{
    struct step *st = arg;
    st->fn(st);
    return NULL;
}

/* Runs st->fn in a thread and waits STEP_BOUND_S at most. A stalled step is
 * a failure: T is released first so that the stuck thread can end. */
static void run_step(struct step *st)
{
    pthread_t tid;
    assert_int_equal(pthread_create(&tid, NULL, step_main, st), 0);
    struct timespec until;
    clock_gettime(CLOCK_REALTIME, &until);
    until.tv_sec += STEP_BOUND_S;
    int rc = pthread_timedjoin_np(tid, NULL, &until);
    if (rc != 0) {
        hook_release();
        fail_msg("%s: did not complete within %d s while thread T's trust-store build was "
                 "parked: stalled behind another session's trust-store build (pthread_"
                 "timedjoin_np: %s)", st->what, STEP_BOUND_S, strerror(rc));
    }
    /* The point of the test: T was still parked when the step ended. */
    if (!hook_get(&hook_parked))
        fail_msg("%s: thread T's build was no longer parked", st->what);
}

/* Both ends' contexts (B's and the server's) are stale after T's PKI
 * change. The first of them to be rebuilt builds the new trust store (the
 * other may take it from the cache: which one wins is a race), so at least
 * one build must happen during the step, while T's is parked: B does not
 * wait for T's store. */
static void step_handshake_b(struct step *st)
{
    st->calls_before = hook_get(&hook_calls);
    st->rc = one_handshake(sid_b, lsn_b, port_b, &st->cli_hs, &st->srv_hs);
    st->calls_after = hook_get(&hook_calls);
}

static void step_opts(struct step *st)
{
    st->rc = SSL_SessionOpt(sid_a, SSL_OPT_SERVER_PROPOSALS, 1, &st->err);
    if (st->rc == 0)
        st->rc = SSL_SessionOpt(sid_a, SSL_OPT_SERVER_PROPOSALS, 0, &st->err);
    st->rc2 = SSL_SessionOpt(sid_b, SSL_OPT_SERVER_PROPOSALS, 1, &st->err2);
    if (st->rc2 == 0)
        st->rc2 = SSL_SessionOpt(sid_b, SSL_OPT_SERVER_PROPOSALS, 0, &st->err2);
}

static void step_pki(struct step *st)
{
    st->rc = tu_add_cert("untrusted-ca.pem", PKI_FMT_PEM, PKI_CERT_NONLOCAL | PKI_CERT_ROOTCA,
                         "lock-scope-ca", NULL, &st->err);
    st->rc2 = PKI_CertificateDel("lock-scope-ca", PKI_CERT_NONLOCAL, &st->err2);
}

/* ----------------------------------------------------------------- test */

struct srv_end {
    int hs, err;
};

static void *serve_a(void *arg)
{
    struct srv_end *e = arg;
    e->hs = -99;
    if (!tu_readable(lsn_a, TU_WAIT_MS))
        return NULL;
    int sd = accept(lsn_a, NULL, &e->err);
    if (sd < 0)
        return NULL;
    e->hs = SSL_HandshakeComplete(sd, TU_WAIT_MS);
    closesocket(sd, &e->err);
    return NULL;
}

static void trust_build_does_not_stall_other_sessions(void **state)
{
    (void)state;
    static struct t_job tj; /* static: T may outlive a failed run */
    tj = (struct t_job){ .hs = -99 };
    pthread_t t;

    pthread_mutex_lock(&hook_mu);
    hook_armed = 1;
    hook_released = 0;
    pthread_mutex_unlock(&hook_mu);
    assert_int_equal(pthread_create(&t, NULL, t_main, &tj), 0);
    if (!hook_wait_parked()) {
        hook_release();
        pthread_join(t, NULL);
        fail_msg("thread T's handshake on session A never reached a trust-store build "
                 "(PKI add %d/0x%x, SSL_ClientStart %d/%d, handshake %d)", tj.add_rc,
                 (unsigned)tj.add_err, tj.start_rc, tj.start_err, tj.hs);
    }
    pthread_mutex_lock(&hook_mu);
    int parked_is_t = pthread_equal(hook_parked_thread, t);
    pthread_mutex_unlock(&hook_mu);
    if (!parked_is_t) {
        hook_release();
        pthread_join(t, NULL);
        fail_msg("the parked trust-store build is not thread T's");
    }

    /* Static: a stalled step's thread outlives this function. */
    static struct step a = { .what = "(a) a full handshake on session B",
                             .fn = step_handshake_b };
    static struct step b = { .what = "(b) SSL_SessionOpt on sessions A and B", .fn = step_opts };
    static struct step c = { .what = "(c) PKI_CertificateAdd and PKI_CertificateDel",
                             .fn = step_pki };
    run_step(&a);
    run_step(&b);
    run_step(&c);

    /* Release T; serve the server end of its connection. */
    hook_release();
    struct srv_end se = { 0, 0 };
    serve_a(&se);
    struct timespec until;
    clock_gettime(CLOCK_REALTIME, &until);
    until.tv_sec += STEP_BOUND_S;
    int jr = pthread_timedjoin_np(t, NULL, &until);
    if (jr != 0)
        fail_msg("thread T did not finish its handshake after the release (%s)", strerror(jr));

    /* What each step did, checked now that no thread is left parked. */
    if (a.rc != 0)
        fail_msg("%s: handshakes %d (client) / %d (server), want 1/1", a.what, a.cli_hs,
                 a.srv_hs);
    if (a.calls_after <= a.calls_before)
        fail_msg("%s: no trust-store build during the step (builds %d -> %d): the contexts "
                 "were not rebuilt after the PKI change", a.what, a.calls_before,
                 a.calls_after);
    if (b.rc != 0 || b.rc2 != 0)
        fail_msg("%s: %d/%s and %d/%s", b.what, b.rc, chipssl_strerror(b.err), b.rc2,
                 chipssl_strerror(b.err2));
    if (c.rc != 0 || c.rc2 != 0)
        fail_msg("%s: add %d (*error 0x%x), delete %d (%s)", c.what, c.rc, (unsigned)c.err,
                 c.rc2, chipssl_strerror(c.err2));
    if (tj.add_rc != 0)
        fail_msg("thread T: adding ca2.pem failed (*error 0x%x)", (unsigned)tj.add_err);
    if (tj.start_rc != 0 || tj.hs != 1 || se.hs != 1)
        fail_msg("thread T: SSL_ClientStart %d (%s), handshake %d (server end %d): %s",
                 tj.start_rc, chipssl_strerror(tj.start_err), tj.hs, se.hs, tj.prob.reason);
}

int main(void)
{
    tu_require_pki();
    chip_test_trust_hook = trust_hook; /* before any thread: passes every build through */
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(trust_build_does_not_stall_other_sessions),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
