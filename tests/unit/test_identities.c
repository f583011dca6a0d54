/*
 * test_identities - SSL_SessionAddIdentity (own certificates chosen by the
 * SNI a client sends) and SSL_SessionALPN (application protocols):
 *
 *  - tables of bad inputs for both calls, each with the error it must give;
 *    a failed call leaves the session as it was (a certificate the engine
 *    refuses is not kept: the slots it would take are still free and the
 *    session still serves; a refused ALPN list keeps the previous one);
 *  - CHIPSSL_MAX_IDENTITIES in all, the default included (API_ENOBUFS
 *    after), and adding the same ID twice takes no slot;
 *  - a chipssl client against a chipssl server on the loopback interface,
 *    TLS 1.2 and 1.3: the certificate presented for each SNI name (wildcard
 *    SAN, CN-only certificate, the default for no or an unknown name), and
 *    the protocol agreed for each ALPN offer (server preference, none in
 *    common refused with no_application_protocol, no offer served).
 */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "testutil.h"
#include "tu_cmocka.h"

#define V12 SSL_VERSION_TLS12
#define V13 SSL_VERSION_TLS13
#define ALERT_NO_APPLICATION_PROTOCOL 120

/* LOCAL IDs made by setup: the default server certificate (CN=localhost,
 * SAN localhost), the wildcard one (SAN *.wild.test), the CN-only one
 * (CN=cnonly.test), the SHA-1 signed one the engine refuses, and
 * CHIPSSL_MAX_IDENTITIES + 1 distinct ones ("many0"...) to fill a session. */
#define NMANY (CHIPSSL_MAX_IDENTITIES + 1)

static const struct tu_own own[] = {
    { "server.key", PKI_KEY_RSA, "server.pem", "srv", "ca" },
    { "wildcard.key", PKI_KEY_EC, "wildcard.pem", "wild", "ca" },
    { "cnonly.key", PKI_KEY_EC, "cnonly.pem", "cnonly", "ca" },
    { "sha1.key", PKI_KEY_EC, "sha1.pem", "sha1", "ca" },
};
static const struct tu_pki pki = { .own = own, .nown = TU_N(own) };

static int setup_pki(void **state)
{
    (void)state;
    int err = 0;
    char id[32];
    if (tu_pki_add(&pki) != 0)
        return -1;
    for (int i = 0; i < NMANY; i++) {
        snprintf(id, sizeof id, "many%d", i);
        if (tu_add_local("server-ec.key", PKI_KEY_EC, "server-ec.pem", id, "ca", &err) != 0) {
            fprintf(stderr, "test_identities: adding %s failed (*error 0x%x)\n", id,
                    (unsigned)err);
            return -1;
        }
    }
    return 0;
}

static int teardown_pki(void **state)
{
    (void)state;
    int err;
    char id[32];
    for (int i = 0; i < NMANY; i++) {
        snprintf(id, sizeof id, "many%d", i);
        PKI_CertificateDel(id, PKI_CERT_LOCAL, &err);
    }
    tu_pki_del(&pki);
    return 0;
}

/* A session (tu_new_session: fails the test on error). */
static int new_session(const char *cert, int version)
{
    struct tu_scfg c = { .version = version, .cert = cert };
    return tu_new_session(&c);
}

/* ------------------------------------------------------------ handshakes */

/* One connection between a chipssl client and a chipssl server, both ends'
 * handshake results and state. */
struct run {
    int cli_hs, srv_hs;
    int cst_ok, sst_ok;
    SSL_CONN_STATE cst, sst;
    SslProblemS cprob, sprob;
};

struct srv_job {
    int lsn;
    struct run *r;
};

static void *srv_main(void *arg)
{
    struct srv_job *j = arg;
    int err = 0;
    if (!tu_readable(j->lsn, TU_WAIT_MS))
        return NULL; /* the client never came: srv_hs stays -99 */
    int sd = accept(j->lsn, NULL, &err);
    if (sd < 0)
        return NULL;
    j->r->srv_hs = SSL_HandshakeComplete(sd, TU_WAIT_MS);
    tu_snapshot(sd, &j->r->sst, &j->r->sst_ok, &j->r->sprob);
    closesocket(sd, &err);
    return NULL;
}

/* A client of cli_sid asking for `name` (SSL_ClientStart: checked, sent as
 * SNI when a DNS name) against a server of srv_sid. Everything it opens is
 * closed again; *r says what happened on both ends. */
static void handshake(int srv_sid, int cli_sid, const char *name, struct run *r)
{
    int err = 0;
    unsigned short port = 0;
    memset(r, 0, sizeof *r);
    r->cli_hs = r->srv_hs = -99;
    int lsn = tu_listener(AF_INET, srv_sid, &port, &err);
    if (lsn < 0)
        fail_msg("listener: %s", chipssl_strerror(err));
    struct srv_job j = { lsn, r };
    pthread_t tid;
    assert_int_equal(pthread_create(&tid, NULL, srv_main, &j), 0);
    int cli = tu_client(AF_INET, cli_sid, port, &err);
    if (cli >= 0 && SSL_ClientStart(cli, name, &err) == 0)
        r->cli_hs = SSL_HandshakeComplete(cli, TU_WAIT_MS);
    if (cli >= 0)
        tu_snapshot(cli, &r->cst, &r->cst_ok, &r->cprob);
    /* The client's handshake ended (1 or failed): the server's has what it
     * needs (Finished or an alert). Still in progress: close first. */
    if (r->cli_hs == 0 && cli >= 0) {
        closesocket(cli, &err);
        cli = -1;
    }
    pthread_join(tid, NULL);
    if (cli >= 0)
        closesocket(cli, &err);
    closesocket(lsn, &err);
}

static const char *vname(int version)
{
    return version == V12 ? "TLS 1.2" : "TLS 1.3";
}

/* ------------------------------------------------- SSL_SessionAddIdentity */

enum sid_kind { SID_VALID, SID_CLOSED, SID_ZERO, SID_NEGATIVE, SID_TOO_BIG };

struct add_case {
    const char *desc;
    enum sid_kind sid;
    const char *id;
    int null_error; /* pass error == NULL */
    int want_rc, want_err;
};

static char long_id[CHIPSSL_MAX_ID_LEN + 2];

/* clang-format off */
static const struct add_case add_cases[] = {
    { "unknown session: 0", SID_ZERO, "wild", 0, API_ERROR, API_EINVAL },
    { "unknown session: -1", SID_NEGATIVE, "wild", 0, API_ERROR, API_EINVAL },
    { "unknown session: above CHIPSSL_MAX_SESSIONS", SID_TOO_BIG, "wild", 0, API_ERROR,
      API_EINVAL },
    { "unknown session: closed", SID_CLOSED, "wild", 0, API_ERROR, API_EINVAL },
    { "NULL ID", SID_VALID, NULL, 0, API_ERROR, API_EINVAL },
    { "empty ID", SID_VALID, "", 0, API_ERROR, API_EINVAL },
    { "unknown ID", SID_VALID, "nope", 0, API_ERROR, API_EINVAL },
    { "a non-local (CA) certificate's ID", SID_VALID, "ca", 0, API_ERROR, API_EINVAL },
    { "an ID longer than CHIPSSL_MAX_ID_LEN", SID_VALID, long_id, 0, API_ERROR, API_EINVAL },
    { "a certificate the engine refuses (SHA-1 signed)", SID_VALID, "sha1", 0, API_ERROR,
      API_EINVAL },
    { "error pointer NULL", SID_VALID, "wild", 1, API_ERROR, 0 },
    { "valid: the wildcard certificate", SID_VALID, "wild", 0, 0, 0 },
    { "valid: the same twice is harmless", SID_VALID, "srv", 0, 0, 0 },
};
/* clang-format on */

static int sid_of(enum sid_kind k, int valid, int closed)
{
    switch (k) {
    case SID_VALID: return valid;
    case SID_CLOSED: return closed;
    case SID_ZERO: return 0;
    case SID_NEGATIVE: return -1;
    default: return CHIPSSL_MAX_SESSIONS + 1;
    }
}

static void add_identity_bad_inputs(void **state)
{
    (void)state;
    memset(long_id, 'x', sizeof long_id - 1);
    long_id[sizeof long_id - 1] = '\0';
    int err;
    for (size_t i = 0; i < sizeof add_cases / sizeof add_cases[0]; i++) {
        const struct add_case *c = &add_cases[i];
        /* A closed ID that no session has taken again. */
        int sid = new_session("srv", V12 | V13), closed = new_session("srv", V12 | V13);
        assert_int_equal(SSL_SessionClose(closed, &err), 0);
        err = 12345;
        int rc = SSL_SessionAddIdentity(sid_of(c->sid, sid, closed), c->id,
                                        c->null_error ? NULL : &err);
        if (rc != c->want_rc || (!c->null_error && err != c->want_err))
            fail_msg("%s: returned %d with *error %d (%s), want %d with %d (%s)", c->desc, rc,
                     err, chipssl_strerror(err), c->want_rc, c->want_err,
                     chipssl_strerror(c->want_err));
        if (c->null_error && err != 12345)
            fail_msg("%s: *error written", c->desc);
        assert_int_equal(SSL_SessionClose(sid, &err), 0);
    }
}

/* Adds "many<from>".."many<to-1>" to sid; each must succeed. */
static void add_many(int sid, int from, int to, const char *what)
{
    char id[32];
    int err = 0;
    for (int i = from; i < to; i++) {
        snprintf(id, sizeof id, "many%d", i);
        if (SSL_SessionAddIdentity(sid, id, &err) != 0)
            fail_msg("%s: adding identity %d (%s) failed: %s", what, i + 1, id,
                     chipssl_strerror(err));
    }
}

static void expect_full(int sid, const char *what)
{
    char id[32];
    int err = 0;
    snprintf(id, sizeof id, "many%d", NMANY - 1);
    int rc = SSL_SessionAddIdentity(sid, id, &err);
    if (rc != API_ERROR || err != API_ENOBUFS)
        fail_msg("%s: one identity more than CHIPSSL_MAX_IDENTITIES (%d): returned %d, %s; "
                 "want API_ENOBUFS", what, CHIPSSL_MAX_IDENTITIES, rc, chipssl_strerror(err));
}

/* CHIPSSL_MAX_IDENTITIES in all, the default included; duplicates take no
 * slot, and a full session still takes a duplicate. */
static void identity_limit(void **state)
{
    (void)state;
    int err = 0;
    /* With a default: MAX - 1 more fit. */
    int sid = new_session("srv", V12 | V13);
    add_many(sid, 0, CHIPSSL_MAX_IDENTITIES - 1, "with a default");
    expect_full(sid, "with a default");
    assert_int_equal(SSL_SessionAddIdentity(sid, "srv", &err), 0);
    assert_int_equal(SSL_SessionAddIdentity(sid, "many0", &err), 0);
    SSL_SessionClose(sid, &err);

    /* Without a default: MAX fit, the first one added is the default. */
    sid = new_session(NULL, V12 | V13);
    add_many(sid, 0, CHIPSSL_MAX_IDENTITIES, "without a default");
    expect_full(sid, "without a default");
    SSL_SessionClose(sid, &err);

    /* Each ID added twice: the second time takes no slot. */
    sid = new_session("srv", V12 | V13);
    for (int i = 0; i < CHIPSSL_MAX_IDENTITIES - 1; i++) {
        add_many(sid, i, i + 1, "duplicates");
        add_many(sid, i, i + 1, "duplicates (the second time)");
    }
    expect_full(sid, "duplicates");
    SSL_SessionClose(sid, &err);
}

/* The refused certificate is not kept: every slot is still free, and the
 * session still serves with its default (a kept SHA-1 identity would fail
 * every context build, so every handshake). */
static void refused_identity_leaves_session_unchanged(void **state)
{
    (void)state;
    int err = 0;
    int srv = new_session("srv", V12 | V13), cli = new_session(NULL, V12 | V13);
    assert_int_equal(SSL_SessionAddIdentity(srv, "sha1", &err), API_ERROR);
    assert_int_equal(err, API_EINVAL);
    assert_int_equal(SSL_SessionAddIdentity(srv, "sha1", &err), API_ERROR);
    assert_int_equal(err, API_EINVAL);

    struct run r;
    handshake(srv, cli, "localhost", &r);
    if (r.cli_hs != 1 || r.srv_hs != 1)
        fail_msg("after a refused identity: handshakes %d/%d, want 1/1 (client: %s; server: "
                 "%s)", r.cli_hs, r.srv_hs, r.cprob.reason, r.sprob.reason);
    assert_string_equal(r.cst.peerSubject, "CN=localhost");

    add_many(srv, 0, CHIPSSL_MAX_IDENTITIES - 1, "after a refused identity");
    expect_full(srv, "after a refused identity");
    SSL_SessionClose(srv, &err);
    SSL_SessionClose(cli, &err);
}

/* ---------------------------------------------------------- SSL_SessionALPN */

struct alpn_case {
    const char *desc;
    enum sid_kind sid;
    const char *list;
    int want_rc, want_err;
};

static char name255[256], name256[257], list256[257], list255[256];

/* clang-format off */
static const struct alpn_case alpn_cases[] = {
    { "unknown session: 0", SID_ZERO, "http/1.1", API_ERROR, API_EINVAL },
    { "unknown session: closed", SID_CLOSED, "http/1.1", API_ERROR, API_EINVAL },
    { "unknown session: above CHIPSSL_MAX_SESSIONS", SID_TOO_BIG, "h2", API_ERROR,
      API_EINVAL },
    { "leading comma", SID_VALID, ",a", API_ERROR, API_EINVAL },
    { "trailing comma", SID_VALID, "a,", API_ERROR, API_EINVAL },
    { "empty name between commas", SID_VALID, "a,,b", API_ERROR, API_EINVAL },
    { "a comma alone", SID_VALID, ",", API_ERROR, API_EINVAL },
    { "a 256-byte name", SID_VALID, name256, API_ERROR, API_EINVAL },
    { "a list of 256 bytes", SID_VALID, list256, API_ERROR, API_EINVAL },
    { "valid: a 255-byte name", SID_VALID, name255, 0, 0 },
    { "valid: a list of 255 bytes", SID_VALID, list255, 0, 0 },
    { "valid: \"\" removes the list", SID_VALID, "", 0, 0 },
    { "valid: NULL removes the list", SID_VALID, NULL, 0, 0 },
    { "valid: h2,http/1.1", SID_VALID, "h2,http/1.1", 0, 0 },
};
/* clang-format on */

static void make_alpn_inputs(void)
{
    memset(name255, 'n', 255);
    memset(name256, 'n', 256);
    /* 64 + 1 + 64 + 1 + 64 + 1 + 60/61 bytes: 255 and 256 in all. */
    memset(list255, 'l', 255);
    memset(list256, 'l', 256);
    for (int i = 64; i < 255; i += 65)
        list255[i] = list256[i] = ',';
}

static void alpn_bad_inputs(void **state)
{
    (void)state;
    make_alpn_inputs();
    int err = 0;
    assert_int_equal(strlen(list255), 255);
    assert_int_equal(strlen(list256), 256);
    for (size_t i = 0; i < sizeof alpn_cases / sizeof alpn_cases[0]; i++) {
        const struct alpn_case *c = &alpn_cases[i];
        int sid = new_session(NULL, V12 | V13), closed = new_session(NULL, V12 | V13);
        assert_int_equal(SSL_SessionClose(closed, &err), 0);
        err = 12345;
        int rc = SSL_SessionALPN(sid_of(c->sid, sid, closed), c->list, &err);
        if (rc != c->want_rc || err != c->want_err)
            fail_msg("%s: returned %d with *error %d (%s), want %d with %d (%s)", c->desc, rc,
                     err, chipssl_strerror(err), c->want_rc, c->want_err,
                     chipssl_strerror(c->want_err));
        SSL_SessionClose(sid, &err);
    }
    assert_int_equal(SSL_SessionALPN(1, "h2", NULL), API_ERROR);
}

/* -------------------------------------------------------- loopback: SNI */

struct sni_case {
    const char *name;     /* the client's SSL_ClientStart name (and SNI) */
    const char *subject;  /* the certificate the client must be given */
    const char *sni;      /* what the server reports receiving */
    int ok;               /* 0: the client refuses the default's name */
};

/* clang-format off */
static const struct sni_case sni_cases[] = {
    { "a.wild.test", "CN=wildcard", "a.wild.test", 1 },
    { "B.WILD.TEST", "CN=wildcard", "B.WILD.TEST", 1 },
    { "cnonly.test", "CN=cnonly.test", "cnonly.test", 1 },
    { "localhost", "CN=localhost", "localhost", 1 },
    { NULL, "CN=localhost", "", 1 },            /* no SNI: the default */
    { "127.0.0.1", "CN=localhost", "", 1 },     /* an IP literal is never sent */
    { "a.b.wild.test", NULL, "a.b.wild.test", 0 }, /* * covers one label only */
    { "unknown.test", NULL, "unknown.test", 0 },
};
/* clang-format on */

static void sni_chooses_identity(void **state)
{
    (void)state;
    static const int versions[] = { V12, V13 };
    int err = 0;
    for (size_t v = 0; v < 2; v++) {
        int srv = new_session("srv", versions[v]), cli = new_session(NULL, versions[v]);
        assert_int_equal(SSL_SessionAddIdentity(srv, "wild", &err), 0);
        assert_int_equal(SSL_SessionAddIdentity(srv, "cnonly", &err), 0);
        for (size_t i = 0; i < sizeof sni_cases / sizeof sni_cases[0]; i++) {
            const struct sni_case *c = &sni_cases[i];
            const char *nm = c->name ? c->name : "(none)";
            struct run r;
            handshake(srv, cli, c->name, &r);
            if (!r.sst_ok || strcmp(r.sst.serverName, c->sni) != 0)
                fail_msg("%s, %s: the server received SNI \"%s\", want \"%s\"",
                         vname(versions[v]), nm, r.sst.serverName, c->sni);
            if (c->ok) {
                if (r.cli_hs != 1 || r.srv_hs != 1)
                    fail_msg("%s, %s: handshakes %d/%d (client: %s)", vname(versions[v]), nm,
                             r.cli_hs, r.srv_hs, r.cprob.reason);
                if (strcmp(r.cst.peerSubject, c->subject) != 0)
                    fail_msg("%s, %s: presented %s, want %s", vname(versions[v]), nm,
                             r.cst.peerSubject, c->subject);
            } else {
                /* The default (SAN localhost) was presented: the client's
                 * name check refuses it, naming what it found. */
                if (r.cli_hs != -3 || !(r.cprob.certFlags & PKI_CERT_UNMATCHED) ||
                    !strstr(r.cprob.reason, "DNS:localhost"))
                    fail_msg("%s, %s: want the default certificate refused for its name; "
                             "got handshake %d, flags 0x%x, reason \"%s\"", vname(versions[v]),
                             nm, r.cli_hs, (unsigned)r.cprob.certFlags, r.cprob.reason);
            }
        }
        SSL_SessionClose(srv, &err);
        SSL_SessionClose(cli, &err);
    }
}

/* The name chooses, not the key type: a TLS 1.2 client that prefers an
 * RSA suite but offers ECDSA ones too gets the EC identity its SNI names,
 * not the RSA default. */
static void sni_identity_wins_over_key_type(void **state)
{
    (void)state;
    static const int rsa_first[] = { 0xC02F, 0xC02B }; /* ECDHE-RSA, ECDHE-ECDSA */
    static const struct { const char *name, *subject; } rows[] = {
        { "a.wild.test", "CN=wildcard" },
        { "cnonly.test", "CN=cnonly.test" },
    };
    int err = 0;
    int srv = new_session("srv", V12), cli = new_session(NULL, V12);
    assert_int_equal(SSL_SessionAddIdentity(srv, "wild", &err), 0);
    assert_int_equal(SSL_SessionAddIdentity(srv, "cnonly", &err), 0);
    assert_int_equal(SSL_SessionProp(cli, rsa_first, 2, &err), 0);
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
        struct run r;
        handshake(srv, cli, rows[i].name, &r);
        if (r.cli_hs != 1 || strcmp(r.cst.peerSubject, rows[i].subject) != 0)
            fail_msg("TLS 1.2, RSA suite preferred, SNI %s: handshake %d, presented \"%s\" "
                     "(suite 0x%04X), want %s; client: %s", rows[i].name, r.cli_hs,
                     r.cst.peerSubject, (unsigned)r.cst.cipherSuite, rows[i].subject,
                     r.cprob.reason);
    }
    SSL_SessionClose(srv, &err);
    SSL_SessionClose(cli, &err);
}

/* The mirror, with the client's defaults (ECDSA preferred, both versions):
 * an EC default (*.wild.test) and an RSA identity (localhost); SNI
 * localhost must get the RSA identity. */
static void sni_rsa_identity_with_ec_default(void **state)
{
    (void)state;
    static const int versions[] = { V12, V13 };
    int err = 0;
    for (size_t v = 0; v < 2; v++) {
        int srv = new_session("wild", versions[v]), cli = new_session(NULL, versions[v]);
        assert_int_equal(SSL_SessionAddIdentity(srv, "srv", &err), 0);
        struct run r;
        handshake(srv, cli, "localhost", &r);
        if (r.cli_hs != 1 || strcmp(r.cst.peerSubject, "CN=localhost") != 0)
            fail_msg("%s, EC default, RSA identity, SNI localhost: handshake %d, presented "
                     "\"%s\", want CN=localhost; client: %s", vname(versions[v]), r.cli_hs,
                     r.cst.peerSubject, r.cprob.reason);
        SSL_SessionClose(srv, &err);
        SSL_SessionClose(cli, &err);
    }
}

/* Without a certIdentity, the first identity added is the default. */
static void first_identity_is_default(void **state)
{
    (void)state;
    int err = 0;
    int srv = new_session(NULL, V12 | V13), cli = new_session(NULL, V12 | V13);
    assert_int_equal(SSL_SessionAddIdentity(srv, "cnonly", &err), 0);
    assert_int_equal(SSL_SessionAddIdentity(srv, "wild", &err), 0);
    struct run r;
    handshake(srv, cli, NULL, &r);
    assert_int_equal(r.cli_hs, 1);
    assert_string_equal(r.cst.peerSubject, "CN=cnonly.test");
    handshake(srv, cli, "x.wild.test", &r);
    assert_int_equal(r.cli_hs, 1);
    assert_string_equal(r.cst.peerSubject, "CN=wildcard");
    SSL_SessionClose(srv, &err);
    SSL_SessionClose(cli, &err);
}

/* ------------------------------------------------------- loopback: ALPN */

struct alpn_run_case {
    const char *desc;
    const char *srv, *cli; /* lists; NULL: none */
    int ok;
    const char *want;      /* agreed protocol, "" for none */
};

/* clang-format off */
static const struct alpn_run_case alpn_runs[] = {
    { "client offers http/1.1", "h2,http/1.1", "http/1.1", 1, "http/1.1" },
    { "server preference: h2", "h2,http/1.1", "http/1.1,h2", 1, "h2" },
    { "client offers none: served without", "h2,http/1.1", NULL, 1, "" },
    { "server has none: ignores the offer", NULL, "h2,http/1.1", 1, "" },
    { "none in common: no_application_protocol", "h2,http/1.1", "spdy/3", 0, "" },
};
/* clang-format on */

static void alpn_loopback(void **state)
{
    (void)state;
    static const int versions[] = { V12, V13 };
    int err = 0;
    for (size_t v = 0; v < 2; v++)
        for (size_t i = 0; i < sizeof alpn_runs / sizeof alpn_runs[0]; i++) {
            const struct alpn_run_case *c = &alpn_runs[i];
            int srv = new_session("srv", versions[v]), cli = new_session(NULL, versions[v]);
            assert_int_equal(SSL_SessionALPN(srv, c->srv, &err), 0);
            assert_int_equal(SSL_SessionALPN(cli, c->cli, &err), 0);
            struct run r;
            handshake(srv, cli, "localhost", &r);
            if (c->ok) {
                if (r.cli_hs != 1 || r.srv_hs != 1)
                    fail_msg("%s, %s: handshakes %d/%d (client: %s; server: %s)",
                             vname(versions[v]), c->desc, r.cli_hs, r.srv_hs, r.cprob.reason,
                             r.sprob.reason);
                if (strcmp(r.cst.alpn, c->want) != 0 || strcmp(r.sst.alpn, c->want) != 0)
                    fail_msg("%s, %s: agreed \"%s\" (client) / \"%s\" (server), want \"%s\"",
                             vname(versions[v]), c->desc, r.cst.alpn, r.sst.alpn, c->want);
            } else {
                if (r.cli_hs != -3 || r.srv_hs != -3)
                    fail_msg("%s, %s: handshakes %d/%d, want both failed", vname(versions[v]),
                             c->desc, r.cli_hs, r.srv_hs);
                if (r.sprob.alert != ALERT_NO_APPLICATION_PROTOCOL || !r.sprob.alertSent)
                    fail_msg("%s, %s: server alert %d (sent %d), want 120 sent",
                             vname(versions[v]), c->desc, r.sprob.alert, r.sprob.alertSent);
                if (r.cprob.alert != ALERT_NO_APPLICATION_PROTOCOL || r.cprob.alertSent)
                    fail_msg("%s, %s: client alert %d (sent %d), want 120 received",
                             vname(versions[v]), c->desc, r.cprob.alert, r.cprob.alertSent);
            }
            SSL_SessionClose(srv, &err);
            SSL_SessionClose(cli, &err);
        }
}

/* A refused list keeps the previous one; a new list applies to the next
 * handshake; NULL removes it. */
static void alpn_changes(void **state)
{
    (void)state;
    make_alpn_inputs();
    int err = 0;
    int srv = new_session("srv", V12 | V13), cli = new_session(NULL, V12 | V13);
    assert_int_equal(SSL_SessionALPN(srv, "h2,http/1.1", &err), 0);
    assert_int_equal(SSL_SessionALPN(cli, "http/1.1", &err), 0);
    static const char *const bad[] = { ",a", "a,", "a,,b", name256, list256 };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        assert_int_equal(SSL_SessionALPN(cli, bad[i], &err), API_ERROR);
        assert_int_equal(SSL_SessionALPN(srv, bad[i], &err), API_ERROR);
    }
    struct run r;
    handshake(srv, cli, "localhost", &r);
    assert_int_equal(r.cli_hs, 1);
    assert_string_equal(r.cst.alpn, "http/1.1");
    assert_string_equal(r.sst.alpn, "http/1.1");

    assert_int_equal(SSL_SessionALPN(cli, "h2", &err), 0);
    handshake(srv, cli, "localhost", &r);
    assert_int_equal(r.cli_hs, 1);
    assert_string_equal(r.cst.alpn, "h2");

    assert_int_equal(SSL_SessionALPN(cli, NULL, &err), 0);
    handshake(srv, cli, "localhost", &r);
    assert_int_equal(r.cli_hs, 1);
    assert_string_equal(r.cst.alpn, "");
    assert_string_equal(r.sst.alpn, "");

    /* The longest name works on the wire too. */
    assert_int_equal(SSL_SessionALPN(srv, name255, &err), 0);
    assert_int_equal(SSL_SessionALPN(cli, name255, &err), 0);
    handshake(srv, cli, "localhost", &r);
    if (r.cli_hs != 1 || r.srv_hs != 1)
        fail_msg("255-byte protocol name: handshakes %d/%d (client: %s; server: %s)",
                 r.cli_hs, r.srv_hs, r.cprob.reason, r.sprob.reason);
    assert_string_equal(r.cst.alpn, name255);
    SSL_SessionClose(srv, &err);
    SSL_SessionClose(cli, &err);
}

int main(void)
{
    tu_require_pki();
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(add_identity_bad_inputs),
        cmocka_unit_test(identity_limit),
        cmocka_unit_test(refused_identity_leaves_session_unchanged),
        cmocka_unit_test(alpn_bad_inputs),
        cmocka_unit_test(sni_chooses_identity),
        cmocka_unit_test(sni_identity_wins_over_key_type),
        cmocka_unit_test(sni_rsa_identity_with_ec_default),
        cmocka_unit_test(first_identity_is_default),
        cmocka_unit_test(alpn_loopback),
        cmocka_unit_test(alpn_changes),
    };
    return cmocka_run_group_tests(tests, setup_pki, teardown_pki);
}
