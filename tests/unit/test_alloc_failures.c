/*
 * test_alloc_failures.c - every allocation the library makes may fail.
 *
 * The library's own allocations are wrapped at link time
 * (-Wl,--wrap=malloc,--wrap=calloc,--wrap=realloc, so only the objects of
 * the library and of this test are affected), OpenSSL's through
 * CRYPTO_set_mem_functions (set first thing in main). "Fail the Nth
 * allocation" runs the main paths - PKI add, session new, sockets, the
 * handshake of a client and a server in this one thread, send, recv,
 * close_notify, close - for N = 1, 2, ... : every call must succeed or
 * return an error code documented for it that says what happened (PKI
 * adds: API_ENOMEM, never "unusable certificate" or "bad argument"),
 * nothing may crash, and (under AddressSanitizer, leak detection on)
 * nothing may leak. After every call the thread's OpenSSL error queue must
 * be empty: an error the library leaves there would be read as the next
 * call's (a stale allocation failure once turned the next successful
 * PKI_CertificateAdd into API_ENOMEM).
 *
 * The allocations of chipssl's own code (and of this test) and OpenSSL's
 * are counted apart (those libc makes inside fopen and strdup are neither:
 * the wrapping reaches direct calls only). Every one of chipssl's is
 * failed in turn, in every phase (PKI, sessions, sockets, SSL_ClientStart,
 * handshake, send/recv/close). OpenSSL makes thousands per phase: a phase
 * of up to FIRST_ALL has each one failed, a larger one its first FIRST_ALL
 * and then about SAMPLES more at a fixed stride (the same runs every time;
 * about 15 s in a Debug build). CHIPSSL_FAULT_ALL=1 in the environment
 * fails every OpenSSL allocation too (about 21,000 runs, 1.5 minutes).
 *
 * Also the defect that made this test: a non-blocking send whose hold-back
 * buffer could not be allocated reported API_EWOULDBLOCK (the ENOMEM was
 * overwritten), so a caller waited for a writability that changed nothing.
 * And an OpenSSL error the application left queued changes no result of
 * the PKI calls, SSL_SessionNew, the handshake or send.
 */
#define _GNU_SOURCE

#include <fcntl.h>
#include <poll.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <openssl/crypto.h>
#include <openssl/err.h>

#include "tcpip.h"
#include "testutil.h"
#include "tu_cmocka.h"

#define FIRST_ALL 150
#define SAMPLES 400
#define STEP_LIMIT 400 /* handshake steps: more means a hang */

/* ---------------------------------------------------------- the injector */

void *__real_malloc(size_t n);
void *__real_calloc(size_t k, size_t n);
void *__real_realloc(void *p, size_t n);

/* Whose allocation: chipssl's own code and this test's (malloc, calloc,
 * realloc, wrapped at link time), or OpenSSL's (its allocator hooks). */
enum { OWN, OSSL, KINDS };
static const char *const kind_name[KINDS] = {"chipssl", "OpenSSL"};

static int fail_kind;       /* whose allocation fail_at counts */
static long fail_at;        /* fail that kind's allocation with this number (1-based), 0 none */
static size_t fail_size;    /* or: fail every allocation of exactly this size */
static long counted[KINDS]; /* allocations while armed */
/* Where each phase of the paths starts (allocation counts of each kind), as
 * a clean run measured it: PKI, sessions, sockets, SSL_ClientStart,
 * handshake, data and close, end. */
enum { PH_PKI, PH_SESSION, PH_SOCKETS, PH_START, PH_HANDSHAKE, PH_DATA, PH_END };
static long phase[KINDS][PH_END + 1];
static int armed, injected;

static void mark_phase(int p)
{
    for (int k = 0; k < KINDS; k++)
        phase[k][p] = counted[k];
}

static int should_fail(int kind, size_t n)
{
    if (!armed)
        return 0;
    counted[kind]++;
    if ((fail_at && kind == fail_kind && counted[kind] == fail_at) ||
        (fail_size && n == fail_size)) {
        injected++;
        return 1;
    }
    return 0;
}

void *__wrap_malloc(size_t n)
{
    return should_fail(OWN, n) ? NULL : __real_malloc(n);
}

void *__wrap_calloc(size_t k, size_t n)
{
    return should_fail(OWN, k * n) ? NULL : __real_calloc(k, n);
}

void *__wrap_realloc(void *p, size_t n)
{
    return should_fail(OWN, n) ? NULL : __real_realloc(p, n);
}

static void *ossl_malloc(size_t n, const char *file, int line)
{
    (void)file, (void)line;
    return should_fail(OSSL, n) ? NULL : __real_malloc(n);
}

static void *ossl_realloc(void *p, size_t n, const char *file, int line)
{
    (void)file, (void)line;
    return should_fail(OSSL, n) ? NULL : __real_realloc(p, n);
}

static void ossl_free(void *p, const char *file, int line)
{
    (void)file, (void)line;
    free(p);
}

/* ------------------------------------------------------------ the paths */

/* Error codes tcpip.h documents for each call that a shortage of memory can
 * plausibly produce (0 ends a list). The PKI and session calls say
 * API_ENOMEM and nothing else: "bad argument" or BADCERT flags would blame
 * the input (and a session refused with API_EINVAL after a PKI add that had
 * absorbed a failure meant that the add had stored a broken key). The
 * summary printed at the end lists every (call, code) seen. */
static const int E_PKI[] = {API_ENOMEM, 0};
static const int E_KEY[] = {API_ENOMEM, 0};
static const int E_SESSION[] = {API_ENOMEM, 0};
static const int E_SOCKET[] = {API_ENOMEM, API_EMFILE, API_ENOBUFS, 0};
static const int E_START[] = {API_ENOMEM, 0};
static const int E_TLS[] = {API_ENOMEM, API_ECONNABORTED, API_ECONNRESET, API_EWOULDBLOCK, 0};

/* (call, code) pairs seen, for the summary. */
static struct {
    const char *where;
    int error;
    long count;
} seen[64];
static int nseen;

static void note(const char *where, int error)
{
    for (int i = 0; i < nseen; i++)
        if (seen[i].where == where && seen[i].error == error) {
            seen[i].count++;
            return;
        }
    if (nseen < (int)(sizeof seen / sizeof seen[0]))
        seen[nseen++] = (typeof(seen[0])){where, error, 1};
}

struct run {
    const char *where; /* the call that failed */
    int error;
    int key_pending; /* a key pair waits for its certificate */
    int lsn, cli, srv, srv_sid, cli_sid;
};

static void bad_code(const struct run *r, int kind, long n)
{
    fail_msg("%s allocation %ld failed: %s returned undocumented error %d (0x%x)",
             kind_name[kind], n, r->where, r->error, (unsigned)r->error);
}

/* 1 when code is in the list. */
static int listed(const int *codes, int code)
{
    for (; *codes; codes++)
        if (*codes == code)
            return 1;
    return 0;
}

/* A call failed: remember which, and check its code. */
#define FAILED(r, name, codes, err)                                                                \
    do {                                                                                           \
        queue_empty(name);                                                                         \
        (r)->where = (name);                                                                       \
        (r)->error = (err);                                                                        \
        if (!listed((codes), (err)))                                                               \
            return -1;                                                                             \
        return 1;                                                                                  \
    } while (0)

/* The OpenSSL error queue of this thread is empty after a call of the
 * library (after: the call). */
static void queue_empty(const char *after)
{
    const char *file;
    int line;
    unsigned long e = ERR_peek_error_all(&file, &line, NULL, NULL, NULL);
    if (e == 0)
        return;
    armed = 0;
    fail_msg("%s allocation %ld failed: %s left an OpenSSL error queued: %s (%s:%d)",
             kind_name[fail_kind], fail_at, after, ERR_error_string(e, NULL), file, line);
}

/* Handshake both ends in this thread. 0 done, 1 failed as documented,
 * -1 failed otherwise. */
/* After -3: SSL_GetProblem answers, and a recorded failure is the one that
 * get_socketerror() reports (a connection that could not even be created
 * has no record: errorCode 0). */
static void check_problem(int sd)
{
    SslProblemS pr;
    int err;
    if (SSL_GetProblem(sd, &pr, &err) != 0)
        fail_msg("SSL_GetProblem after -3: error %d", err);
    if (pr.errorCode != 0 && pr.errorCode != get_socketerror(sd))
        fail_msg("problem %d, get_socketerror %d", pr.errorCode, get_socketerror(sd));
}

static int handshake_pair(struct run *r)
{
    int done_c = 0, done_s = 0;

    for (int step = 0; step < STEP_LIMIT && !(done_c && done_s); step++) {
        if (!done_c) {
            int hc = SSL_HandshakeComplete(r->cli, 0);
            queue_empty("client SSL_HandshakeComplete");
            if (hc == -3) {
                check_problem(r->cli);
                FAILED(r, "client SSL_HandshakeComplete", E_TLS, get_socketerror(r->cli));
            }
            if (hc != 0 && hc != 1)
                FAILED(r, "client SSL_HandshakeComplete (not -3)", E_TLS, hc);
            done_c = hc == 1;
        }
        if (!done_s) {
            int hs = SSL_HandshakeComplete(r->srv, 0);
            queue_empty("server SSL_HandshakeComplete");
            if (hs == -3) {
                check_problem(r->srv);
                FAILED(r, "server SSL_HandshakeComplete", E_TLS, get_socketerror(r->srv));
            }
            if (hs != 0 && hs != 1)
                FAILED(r, "server SSL_HandshakeComplete (not -3)", E_TLS, hs);
            done_s = hs == 1;
        }
        struct pollfd pf[2] = {{.fd = r->cli, .events = POLLIN}, {.fd = r->srv, .events = POLLIN}};
        if (!(done_c && done_s))
            poll(pf, 2, 20);
    }
    if (!(done_c && done_s)) {
        r->where = "handshake (no progress)";
        r->error = 0;
        return -1;
    }
    return 0;
}

/* Receive exactly len bytes on sd (non-blocking, bounded). */
static int recv_n(struct run *r, int sd, char *buf, int len, const char *name)
{
    int got = 0, err;
    for (int step = 0; step < STEP_LIMIT && got < len; step++) {
        int n = recv(sd, buf + got, len - got, MSG_DONTWAIT, 0, &err);
        queue_empty(name);
        if (n > 0) {
            got += n;
            continue;
        }
        if (n == 0) {
            r->where = name;
            r->error = 0;
            return -1; /* end of stream in the middle: not a documented failure */
        }
        if (err != API_EWOULDBLOCK)
            FAILED(r, name, E_TLS, err);
        tu_readable(sd, 20);
    }
    if (got < len) {
        r->where = name;
        r->error = 0;
        return -1;
    }
    return 0;
}

/* Send all of buf (non-blocking, bounded). */
static int send_all(struct run *r, int sd, const char *buf, int len, const char *name)
{
    int put = 0, err;
    for (int step = 0; step < STEP_LIMIT && put < len; step++) {
        int n = send(sd, buf + put, len - put, 0, &err);
        queue_empty(name);
        if (n > 0) {
            put += n;
            continue;
        }
        if (err != API_EWOULDBLOCK)
            FAILED(r, name, E_TLS, err);
        struct pollfd pf = {.fd = sd, .events = POLLOUT};
        poll(&pf, 1, 20);
    }
    return put == len ? 0 : -1;
}

/* The main paths, armed. 0 all went through, 1 a call failed as
 * documented, -1 a call failed otherwise (r says which). */
static int paths(struct run *r, int version)
{
    int err, rc;
    unsigned short port;
    char buf[256];
    static const char ping[] = "ping: the client speaks first", pong[] = "pong";

    /* PKI add */
    /* (*error 0: stored without a warning; any flag would be a wrong
     * verdict on a good certificate) */
    rc = tu_add_cert("ca.pem", PKI_FMT_PEM, TU_ROOT, "fa-ca", NULL, &err);
    if (rc != 0 || err != 0)
        FAILED(r, "PKI_CertificateAdd(ca)", E_PKI, err);
    queue_empty("PKI_CertificateAdd(ca)");
    rc = tu_add_key("server.key", PKI_FMT_PEM, PKI_KEY_RSA, &err);
    if (rc != 0)
        FAILED(r, "PKI_OwnKeyPairAdd", E_KEY, err);
    queue_empty("PKI_OwnKeyPairAdd");
    r->key_pending = 1;
    rc = tu_add_cert("server.pem", PKI_FMT_PEM, PKI_CERT_LOCAL, "fa-srv", "fa-ca", &err);
    r->key_pending = rc != 0;
    if (rc != 0 || err != 0)
        FAILED(r, "PKI_CertificateAdd(local)", E_PKI, err);
    queue_empty("PKI_CertificateAdd(local)");

    mark_phase(PH_SESSION);
    /* session new */
    SSL_SESSION_NEW_Entry se = {"fa-srv", 0, version}, ce = {NULL, 0, version};
    if ((r->srv_sid = SSL_SessionNew(&se, &err)) < 0)
        FAILED(r, "SSL_SessionNew(server)", E_SESSION, err);
    queue_empty("SSL_SessionNew(server)");
    if ((r->cli_sid = SSL_SessionNew(&ce, &err)) < 0)
        FAILED(r, "SSL_SessionNew(client)", E_SESSION, err);
    queue_empty("SSL_SessionNew(client)");

    mark_phase(PH_SOCKETS);
    /* sockets */
    if ((r->lsn = tu_listener(AF_INET, r->srv_sid, &port, &err)) < 0)
        FAILED(r, "listener", E_SOCKET, err);
    queue_empty("listener");
    if ((r->cli = tu_client(AF_INET, r->cli_sid, port, &err)) < 0)
        FAILED(r, "client socket", E_SOCKET, err);
    queue_empty("client socket");
    if ((r->srv = accept(r->lsn, NULL, &err)) < 0)
        FAILED(r, "accept", E_SOCKET, err);
    queue_empty("accept");
    if (Set_Blocking_Mode(r->cli, 1, &err) != 0 || Set_Blocking_Mode(r->srv, 1, &err) != 0)
        FAILED(r, "Set_Blocking_Mode", E_SOCKET, err);
    queue_empty("Set_Blocking_Mode");
    /* Small records in one thread: without this, Nagle waits for a delayed
     * ACK (40 ms) after each flight. */
    if (tu_setopt_level(r->cli, IPPROTO_TCP, TCP_NODELAY, 1, &err) != 0 ||
        tu_setopt_level(r->srv, IPPROTO_TCP, TCP_NODELAY, 1, &err) != 0)
        FAILED(r, "TCP_NODELAY", E_SOCKET, err);
    queue_empty("TCP_NODELAY");

    /* handshake */
    mark_phase(PH_START);
    if (SSL_ClientStart(r->cli, "localhost", &err) != 0)
        FAILED(r, "SSL_ClientStart", E_START, err);
    queue_empty("SSL_ClientStart");
    mark_phase(PH_HANDSHAKE);
    if ((rc = handshake_pair(r)) != 0)
        return rc;
    mark_phase(PH_DATA);

    /* send, recv, both ways */
    if ((rc = send_all(r, r->cli, ping, sizeof ping, "client send")) != 0)
        return rc;
    if ((rc = recv_n(r, r->srv, buf, sizeof ping, "server recv")) != 0)
        return rc;
    if (memcmp(buf, ping, sizeof ping) != 0)
        fail_msg("the server received other bytes");
    if ((rc = send_all(r, r->srv, pong, sizeof pong, "server send")) != 0)
        return rc;
    if ((rc = recv_n(r, r->cli, buf, sizeof pong, "client recv")) != 0)
        return rc;

    /* close_notify, then the end of the stream at the server */
    for (int step = 0; (rc = SSL_ConnClose(r->cli, &err)) != 0; step++) {
        queue_empty("SSL_ConnClose");
        if (err != API_EWOULDBLOCK || step == STEP_LIMIT)
            FAILED(r, "SSL_ConnClose", E_TLS, err);
        struct pollfd pf = {.fd = r->cli, .events = POLLOUT};
        poll(&pf, 1, 20);
    }
    queue_empty("SSL_ConnClose");
    for (int step = 0; (rc = recv(r->srv, buf, sizeof buf, MSG_DONTWAIT, 0, &err)) != 0; step++) {
        queue_empty("server recv of close_notify");
        if (rc > 0 || step == STEP_LIMIT) {
            r->where = "server recv of close_notify";
            r->error = 0;
            return -1;
        }
        if (err != API_EWOULDBLOCK)
            FAILED(r, "server recv of close_notify", E_TLS, err);
        tu_readable(r->srv, 20);
    }
    queue_empty("server recv of close_notify");
    mark_phase(PH_END);
    return 0;
}

/* Disarmed: close everything a run made, whatever state it is in. */
static void cleanup(struct run *r)
{
    int err;
    if (r->cli >= 0)
        assert_int_equal(closesocket(r->cli, &err), 0);
    if (r->srv >= 0)
        assert_int_equal(closesocket(r->srv, &err), 0);
    if (r->lsn >= 0)
        assert_int_equal(closesocket(r->lsn, &err), 0);
    queue_empty("closesocket");
    if (r->srv_sid > 0)
        SSL_SessionClose(r->srv_sid, &err);
    if (r->cli_sid > 0)
        SSL_SessionClose(r->cli_sid, &err);
    queue_empty("SSL_SessionClose");
    /* A key pair whose certificate failed waits for the next LOCAL
     * certificate: give it its own, so that keys do not pile up. */
    if (r->key_pending)
        tu_add_cert("server.pem", PKI_FMT_PEM, PKI_CERT_LOCAL, "fa-srv", NULL, &err);
    PKI_CertificateDel("fa-srv", PKI_CERT_LOCAL, &err);
    PKI_CertificateDel("fa-ca", PKI_CERT_NONLOCAL, &err);
    queue_empty("PKI_CertificateDel");
}

/* One run failing allocation n of kind (n 0: none). Returns what paths()
 * returned; *made: allocations of that kind counted. */
static int one_run(int kind, long n, int version, long *made)
{
    struct run r = {.lsn = -1, .cli = -1, .srv = -1};
    counted[OWN] = counted[OSSL] = 0;
    injected = 0;
    fail_kind = kind;
    fail_at = n;
    queue_empty("the previous run"); /* nothing queued when the run starts */
    armed = 1;
    int rc = paths(&r, version);
    armed = 0;
    *made = counted[kind];
    cleanup(&r);
    fail_at = 0;
    if (rc < 0)
        bad_code(&r, kind, n);
    /* rc 0 with a failure injected: absorbed (a cache, a retry): fine */
    if (rc > 0 && !injected)
        fail_msg("%s run %ld: %s failed (%d) with no allocation failed", kind_name[kind], n,
                 r.where, r.error);
    if (rc > 0)
        note(r.where, r.error);
    return rc;
}

/* The next N to try after n: every allocation of chipssl's; OpenSSL's
 * sampled by phase unless everything. */
static long next_n(int kind, long n, int everything)
{
    if (kind == OWN || everything)
        return n + 1;
    for (int p = PH_PKI; p < PH_END; p++) {
        long from = phase[kind][p], to = phase[kind][p + 1], len = to - from;
        if (n + 1 < from || n >= to)
            continue;
        if (len <= FIRST_ALL || n + 1 - from <= FIRST_ALL)
            return n + 1;
        long stride = (len - FIRST_ALL) / SAMPLES + 1, next = n + stride;
        return next < to ? next : to; /* the phase's last one, then the next phase */
    }
    return n + 1;
}

static void run_all(int version)
{
    const char *env = getenv("CHIPSSL_FAULT_ALL");
    int everything = env && *env && strcmp(env, "0") != 0;
    long m[KINDS], made, n;

    nseen = 0; /* (a failed test leaves its list) */
    assert_int_equal(one_run(OWN, 0, version, &made), 0); /* warm-up: one-time set-up */
    assert_int_equal(one_run(OWN, 0, version, &made), 0);
    long clean[KINDS][PH_END + 1];
    memcpy(clean, phase, sizeof clean);
    for (int k = 0; k < KINDS; k++) {
        m[k] = clean[k][PH_END];
        assert_true(m[k] > 0);
    }
    for (int k = 0; k < KINDS; k++) {
        const long *p = clean[k];
        long tried = 0, failed_calls = 0;
        for (n = 1;; n = next_n(k, n, everything)) {
            int rc = one_run(k, n, version, &made);
            memcpy(phase, clean, sizeof clean); /* sampling follows the clean run */
            tried++;
            failed_calls += rc > 0;
            if (made < n) /* this run made fewer allocations than n: all seen */
                break;
        }
        print_message("TLS %s, %s: %ld allocations per run (PKI %ld, sessions %ld, sockets %ld, "
                      "start %ld, handshake %ld, data and close %ld), %ld runs (%s), %ld ended "
                      "in a documented error\n",
                      version == SSL_VERSION_TLS13 ? "1.3" : "1.2", kind_name[k], m[k],
                      p[PH_SESSION], p[PH_SOCKETS] - p[PH_SESSION], p[PH_START] - p[PH_SOCKETS],
                      p[PH_HANDSHAKE] - p[PH_START], p[PH_DATA] - p[PH_HANDSHAKE],
                      p[PH_END] - p[PH_DATA], tried,
                      k == OWN || everything ? "every one failed" : "sampled", failed_calls);
        for (int i = 0; i < nseen; i++)
            print_message("  %-40s error %3d  x%ld\n", seen[i].where, seen[i].error,
                          seen[i].count);
        nseen = 0;
    }
}

TU_TEST_CALL(test_fail_each_allocation_tls13, run_all, SSL_VERSION_TLS13)
TU_TEST_CALL(test_fail_each_allocation_tls12, run_all, SSL_VERSION_TLS12)

/* ------------------------------------- the hold-back buffer's ENOMEM */

/* A non-blocking send while the handshake runs goes to the hold-back
 * buffer; without memory for it the answer is API_ENOMEM, not
 * API_EWOULDBLOCK (waiting for POLLOUT would change nothing). */
static void test_send_enomem_during_handshake(void **state)
{
    int err, sid, lsn, cli, srv;
    unsigned short port;
    SSL_SESSION_NEW_Entry ce = {NULL, 0, SSL_VERSION_TLS13};

    (void)state;
    sid = SSL_SessionNew(&ce, &err);
    assert_true(sid > 0);
    lsn = tu_listener(AF_INET, 0, &port, &err); /* never answers */
    assert_true(lsn >= 0);
    cli = tu_client(AF_INET, sid, port, &err);
    assert_true(cli >= 0);
    srv = accept(lsn, NULL, &err);
    assert_true(srv >= 0);
    assert_int_equal(Set_Blocking_Mode(cli, 1, &err), 0);
    assert_int_equal(SSL_ClientStart(cli, "localhost", &err), 0);

    fail_size = 16384;
    armed = 1;
    int rc = send(cli, "early", 5, 0, &err);
    armed = 0;
    fail_size = 0;
    assert_int_equal(rc, -1);
    assert_int_equal(err, API_ENOMEM);
    assert_int_equal(get_socketerror(cli), API_ENOMEM);
    /* memory again: accepted (held until the handshake ends) */
    assert_int_equal(send(cli, "early", 5, 0, &err), 5);

    closesocket(cli, &err);
    closesocket(srv, &err);
    closesocket(lsn, &err);
    SSL_SessionClose(sid, &err);
}

/* On an established connection a non-blocking send needs the buffer before
 * it builds a record (a record that cannot go at once is kept there): the
 * failure is API_ENOMEM and the connection goes on. */
static void test_send_enomem_established(void **state)
{
    struct tu_pair p;
    int err;
    char buf[16];

    (void)state;
    assert_int_equal(tu_add_cert("ca.pem", PKI_FMT_PEM, TU_ROOT, "fa-ca", NULL, &err), 0);
    assert_int_equal(tu_add_local("server.key", PKI_KEY_RSA, "server.pem", "srv", "fa-ca", &err),
                     0);
    assert_int_equal(tu_pair_open(&p, AF_INET, SSL_VERSION_TLS13, NULL, NULL, NULL), 0);
    assert_int_equal(Set_Blocking_Mode(p.cli, 1, &err), 0);

    fail_size = 16384;
    armed = 1;
    int rc = send(p.cli, "hello", 5, 0, &err);
    armed = 0;
    fail_size = 0;
    assert_int_equal(rc, -1);
    assert_int_equal(err, API_ENOMEM);

    assert_int_equal(send(p.cli, "hello", 5, 0, &err), 5);
    assert_int_equal(recv(p.srv, buf, sizeof buf, MSG_TIMEOUT, TU_WAIT_MS, &err), 5);
    assert_memory_equal(buf, "hello", 5);
    tu_pair_close(&p);
    PKI_CertificateDel("srv", PKI_CERT_LOCAL, &err);
    PKI_CertificateDel("fa-ca", PKI_CERT_NONLOCAL, &err);
}

/* ------------------------------ errors the application left queued */

/* What an earlier failed OpenSSL call of the application leaves on its
 * thread's error queue: an allocation failure, the reason the library maps
 * to API_ENOMEM. It once turned the next successful PKI_CertificateAdd into
 * -1 with API_ENOMEM. */
static void stale_error(void)
{
    ERR_raise(ERR_LIB_BIO, ERR_R_MALLOC_FAILURE);
}

static void test_stale_error_queue(void **state)
{
    static const char garbage[] = "-----BEGIN CERTIFICATE-----\nnot base64 at all\n"
                                  "-----END CERTIFICATE-----\n";
    PKI_CERT_ADD_Entry bad = {garbage, PKI_FMT_PEM | PKI_FMT_MEMORY, PKI_CERT_NONLOCAL,
                              "st-bad", 6, NULL};
    struct tu_pair p;
    int err;

    (void)state;
    /* successes stay successes */
    stale_error();
    assert_int_equal(tu_add_cert("ca.pem", PKI_FMT_PEM, TU_ROOT, "fa-ca", NULL, &err), 0);
    assert_int_equal(err, 0);
    queue_empty("PKI_CertificateAdd(ca)");
    stale_error();
    assert_int_equal(tu_add_key("server.key", PKI_FMT_PEM, PKI_KEY_RSA, &err), 0);
    queue_empty("PKI_OwnKeyPairAdd");
    stale_error();
    assert_int_equal(tu_add_cert("server.pem", PKI_FMT_PEM, PKI_CERT_LOCAL, "srv", "fa-ca", &err),
                     0);
    assert_int_equal(err, 0);
    queue_empty("PKI_CertificateAdd(local)");

    /* refusals keep their own answer */
    stale_error();
    assert_int_equal(PKI_CertificateAdd(&bad, &err), -1);
    assert_int_equal(err, API_EINVAL);
    queue_empty("PKI_CertificateAdd(garbage)");
    stale_error();
    assert_int_equal(tu_add_cert("client2.pem", PKI_FMT_PEM, PKI_CERT_NONLOCAL, "st-c2", "fa-ca",
                                 &err),
                     -1);
    assert_int_equal(err, PKI_CERT_BADCERT | PKI_CERT_NOTVERIFIED);
    queue_empty("PKI_CertificateAdd(wrong issuer)");
    stale_error();
    assert_int_equal(tu_add_key("ca.pem", PKI_FMT_PEM, PKI_KEY_RSA, &err), -1);
    assert_int_equal(err, API_EINVAL);
    queue_empty("PKI_OwnKeyPairAdd(a certificate)");
    assert_int_equal(tu_add_key("client.key", PKI_FMT_PEM, PKI_KEY_RSA, &err), 0);
    stale_error();
    assert_int_equal(tu_add_cert("server.pem", PKI_FMT_PEM, PKI_CERT_LOCAL, "st-srv", "fa-ca",
                                 &err),
                     -1);
    assert_int_equal(err, PKI_CERT_BADCERT | PKI_CERT_KEYMISMATCH);
    queue_empty("PKI_CertificateAdd(other key)");
    /* the client key still waits: give it its certificate */
    assert_int_equal(tu_add_cert("client.pem", PKI_FMT_PEM, PKI_CERT_LOCAL, "st-cli", "fa-ca",
                                 &err),
                     0);
    assert_int_equal(PKI_CertificateDel("st-cli", PKI_CERT_LOCAL, &err), 0);

    /* sessions (SSL_SessionNew builds the context) and a connection */
    stale_error();
    assert_int_equal(tu_pair_open(&p, AF_INET, SSL_VERSION_TLS13, NULL, NULL, NULL), 0);
    queue_empty("SSL_SessionNew, SSL_ClientStart, the handshake");
    stale_error();
    assert_int_equal(send(p.cli, "hello", 5, 0, &err), 5);
    queue_empty("send");
    tu_pair_close(&p);
    queue_empty("closesocket, SSL_SessionClose");
    PKI_CertificateDel("srv", PKI_CERT_LOCAL, &err);
    PKI_CertificateDel("fa-ca", PKI_CERT_NONLOCAL, &err);
}

int main(void)
{
    /* Before OpenSSL allocates anything. */
    if (!CRYPTO_set_mem_functions(ossl_malloc, ossl_realloc, ossl_free)) {
        fprintf(stderr, "CRYPTO_set_mem_functions refused\n");
        return 1;
    }
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_send_enomem_during_handshake),
        cmocka_unit_test(test_send_enomem_established),
        cmocka_unit_test(test_stale_error_queue),
        cmocka_unit_test(test_fail_each_allocation_tls13),
        cmocka_unit_test(test_fail_each_allocation_tls12),
    };

    tu_require_pki();
    return cmocka_run_group_tests_name("alloc_failures", tests, NULL, NULL);
}
