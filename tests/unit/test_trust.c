/*
 * test_trust.c - what a handshake trusts, beyond the plain cases of
 * test_loopback.c's table:
 *
 *   bundle  a root imported with PKI_RootCABundleAdd anchors a handshake, and
 *           stops doing so when its entry is deleted (an audit found it
 *           untested)
 *   CRL     CRLs of the PKI are checked along the whole chain (a CRL of the
 *           root that revokes an intermediate CA fails the chains through it;
 *           regression: only the leaf was checked), for server and client
 *           certificates; and for client certificates whose chain leads to a
 *           CA given with SSL_AddClientCA (the server then verifies against
 *           those CAs only, and must still apply the CRLs: the CA's own CRL,
 *           an intermediate client CA's CRL, the root's CRL). Each row first
 *           connects without the CRL (the chain is good), then with it
 *           (refused with REVOKED), and with the CRL present a certificate it
 *           does not list still passes.
 *
 * Server ends run in threads of this process (tu_conn); cmocka assertions are
 * made in the main thread only, after the threads were joined.
 */
#define _POSIX_C_SOURCE 200809L

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "tcpip.h"
#include "testutil.h"
#include "tu_cmocka.h"

#define V12 SSL_VERSION_TLS12
#define V13 SSL_VERSION_TLS13

/* ================================ a root from PKI_RootCABundleAdd anchors */

static char g_bundle[64];
#define BUNDLE_PREFIX "trust-bundle:"

static int bundle_teardown(void **state)
{
    int err;

    (void)state;
    PKI_CertificateDel(BUNDLE_PREFIX "0", PKI_CERT_NONLOCAL, &err);
    PKI_CertificateDel(BUNDLE_PREFIX "1", PKI_CERT_NONLOCAL, &err);
    /* the group's root, whatever happened (a duplicate add is refused) */
    tu_add_cert("ca.pem", PKI_FMT_PEM, TU_ROOT, "ca", NULL, &err);
    if (g_bundle[0])
        unlink(g_bundle);
    g_bundle[0] = '\0';
    return 0;
}

static void test_bundle_root_anchors(void **state)
{
    struct tu_scfg ss = {.cert = "srv"}, cs = {0};
    struct tu_end r, s;
    char *ca = tu_read("ca.pem", NULL), *ca2 = tu_read("ca2.pem", NULL);
    unsigned short port;
    int srv_sid, cli_sid, lsn, err, fd, n, ok;

    (void)state;
    snprintf(g_bundle, sizeof g_bundle, "/tmp/chipssl-bundle-XXXXXX");
    fd = mkstemp(g_bundle);
    ok = ca != NULL && ca2 != NULL && fd >= 0 && write(fd, ca, strlen(ca)) == (ssize_t)strlen(ca) &&
         write(fd, ca2, strlen(ca2)) == (ssize_t)strlen(ca2);
    if (fd >= 0)
        close(fd);
    else
        g_bundle[0] = '\0';
    free(ca);
    free(ca2);
    assert_true(ok); /* ca.pem + ca2.pem written to the bundle file */

    srv_sid = tu_new_session(&ss);
    cli_sid = tu_new_session(&cs);
    lsn = tu_listener(AF_INET, srv_sid, &port, &err);
    assert_true(lsn >= 0);

    /* without the root: UNKNOWNCA */
    assert_int_equal(PKI_CertificateDel("ca", PKI_CERT_NONLOCAL, &err), 0);
    tu_conn(lsn, port, cli_sid, "localhost", 0, &r, &s);
    if (r.hs != -3 || !(r.prob.certFlags & PKI_CERT_UNKNOWNCA))
        fail_msg("no root: handshake %d, certFlags 0x%x, want -3 with UNKNOWNCA", r.hs,
                 (unsigned)r.prob.certFlags);

    /* the bundle's two roots, under "<prefix>0" and "<prefix>1" */
    err = 4242;
    n = PKI_RootCABundleAdd(g_bundle, BUNDLE_PREFIX, &err);
    assert_int_equal(n, 2);
    assert_int_equal(err, 0);
    tu_conn(lsn, port, cli_sid, "localhost", 0, &r, &s);
    tu_want_good("bundle: root from the bundle", &r, &s, 0);
    assert_int_equal(r.st.peerCertFlags, 0);

    /* it was the bundle's first entry (ca.pem) that anchored it */
    assert_int_equal(PKI_CertificateDel(BUNDLE_PREFIX "0", PKI_CERT_NONLOCAL, &err), 0);
    tu_conn(lsn, port, cli_sid, "localhost", 0, &r, &s);
    if (r.hs != -3 || !(r.prob.certFlags & PKI_CERT_UNKNOWNCA))
        fail_msg("bundle entry 0 deleted: handshake %d, certFlags 0x%x, want -3 with UNKNOWNCA",
                 r.hs, (unsigned)r.prob.certFlags);
    assert_int_equal(PKI_CertificateDel(BUNDLE_PREFIX "1", PKI_CERT_NONLOCAL, &err), 0);

    closesocket(lsn, &err);
    tu_session_close(srv_sid);
    tu_session_close(cli_sid);
}

/* ============================================================== CRLs */

struct crl_case {
    const char *desc;
    struct tu_scfg srv, cli;
    const char *crl, *crl_ca; /* the CRL file and the ID of its issuer */
    int server_checks;        /* 1: the server refuses the client's chain, else
                                 the client refuses the server's            */
    const char *spared;       /* a certificate in the same role (client's when
                                 server_checks, else server's) that the CRL
                                 does not list: accepted with the CRL present */
};

/* clang-format off */
static const struct crl_case crl_cases[] = {
    /* revocation along the whole chain */
    { "CRL: TLS1.2 server chain leaf-inter -> inter-ca (revoked) -> ca",
      { .version = V12, .cert = "leaf-inter" }, { .version = V12 },
      "crl-inter.pem", "ca", 0, "srv" },
    { "CRL: TLS1.3 server chain leaf-inter -> inter-ca (revoked) -> ca",
      { .version = V13, .cert = "leaf-inter" }, { .version = V13 },
      "crl-inter.pem", "ca", 0, "srv" },
    { "CRL: TLS1.2 client chain client-inter -> inter-ca (revoked) -> ca",
      { .version = V12, .cert = "srv", .opt1 = 1 }, { .version = V12, .cert = "cli-inter" },
      "crl-inter.pem", "ca", 1, "cli" },
    { "CRL: TLS1.3 client chain client-inter -> inter-ca (revoked) -> ca",
      { .version = V13, .cert = "srv", .opt1 = 1 }, { .version = V13, .cert = "cli-inter" },
      "crl-inter.pem", "ca", 1, "cli" },
    /* client certificates that lead to an SSL_AddClientCA CA */
    { "CRL: TLS1.2 client CA ca2, its CRL revokes client2",
      { .version = V12, .cert = "srv", .opt1 = 1, .client_ca = "ca2" },
      { .version = V12, .cert = "cli2" }, "crl-ca2.pem", "ca2", 1, NULL },
    { "CRL: TLS1.3 client CA ca2, its CRL revokes client2",
      { .version = V13, .cert = "srv", .opt1 = 1, .client_ca = "ca2" },
      { .version = V13, .cert = "cli2" }, "crl-ca2.pem", "ca2", 1, NULL },
    { "CRL: TLS1.2 client CA inter (an intermediate), its CRL revokes client-inter",
      { .version = V12, .cert = "srv", .opt1 = 1, .client_ca = "inter" },
      { .version = V12, .cert = "cli-inter" }, "crl-inter-client.pem", "inter", 1, NULL },
    { "CRL: TLS1.3 client CA inter (an intermediate), its CRL revokes client-inter",
      { .version = V13, .cert = "srv", .opt1 = 1, .client_ca = "inter" },
      { .version = V13, .cert = "cli-inter" }, "crl-inter-client.pem", "inter", 1, NULL },
    { "CRL: TLS1.2 client CA ca, its CRL revokes the client certificate revoked.pem",
      { .version = V12, .cert = "srv", .opt1 = 1, .client_ca = "ca" },
      { .version = V12, .cert = "revoked" }, "crl.pem", "ca", 1, "cli" },
    { "CRL: TLS1.3 client CA ca, its CRL revokes the client certificate revoked.pem",
      { .version = V13, .cert = "srv", .opt1 = 1, .client_ca = "ca" },
      { .version = V13, .cert = "revoked" }, "crl.pem", "ca", 1, "cli" },
    { "CRL: TLS1.3 client CA ca, client-inter -> inter-ca (revoked) -> ca",
      { .version = V13, .cert = "srv", .opt1 = 1, .client_ca = "ca" },
      { .version = V13, .cert = "cli-inter" }, "crl-inter.pem", "ca", 1, "cli" },
};
/* clang-format on */

#define CRL_ID "trust-crl"

/* Without the CRL the chain is good; with it, refused with REVOKED; and the
 * CRL spares a certificate it does not list, in the same role. */
static void run_crl_case(void **state)
{
    const struct crl_case *c = *state;
    struct tu_scfg s2 = c->srv, k2 = c->cli;
    struct tu_end r, s, rd, sd;
    unsigned short port, port2 = 0;
    int srv_sid, cli_sid, srv2_sid = 0, cli2_sid = 0, lsn, lsn2 = -1, err, with_crl;
    char what[256];

    if (c->server_checks)
        k2.cert = c->spared;
    else
        s2.cert = c->spared;
    srv_sid = tu_new_session(&c->srv);
    cli_sid = tu_new_session(&c->cli);
    lsn = tu_listener(AF_INET, srv_sid, &port, &err);
    assert_true(lsn >= 0);
    if (c->spared) {
        srv2_sid = tu_new_session(&s2);
        cli2_sid = tu_new_session(&k2);
        lsn2 = tu_listener(AF_INET, srv2_sid, &port2, &err);
        assert_true(lsn2 >= 0);
    }
    for (with_crl = 0; with_crl <= 1; with_crl++) {
        if (with_crl)
            assert_int_equal(
                tu_add_cert(c->crl, PKI_FMT_PEM, PKI_CERT_CRL, CRL_ID, c->crl_ca, &err), 0);
        tu_conn(lsn, port, cli_sid, "localhost", 0, &r, &s);
        if (!with_crl) {
            /* the chain itself is good */
            snprintf(what, sizeof what, "%s, without the CRL", c->desc);
            tu_want_good(what, &r, &s, 0);
            continue;
        }
        if (s.hs != -3)
            fail_msg("%s: server handshake %d, want -3 (problem flags 0x%x)", c->desc, s.hs,
                     (unsigned)s.prob.certFlags);
        if (r.data)
            fail_msg("%s: data went through a refused connection", c->desc);
        if (c->server_checks) {
            if (!(s.prob.certFlags & PKI_CERT_REVOKED))
                fail_msg("%s: server problem certFlags 0x%x lack REVOKED (\"%s\")", c->desc,
                         (unsigned)s.prob.certFlags, s.prob.reason);
        } else {
            if (r.hs != -3)
                fail_msg("%s: client handshake %d, want -3", c->desc, r.hs);
            if (!(r.prob.certFlags & PKI_CERT_REVOKED))
                fail_msg("%s: client problem certFlags 0x%x lack REVOKED (\"%s\")", c->desc,
                         (unsigned)r.prob.certFlags, r.prob.reason);
        }
        if (!c->spared)
            continue;
        /* the CRL spares what it does not list */
        tu_conn(lsn2, port2, cli2_sid, "localhost", 0, &rd, &sd);
        snprintf(what, sizeof what, "%s: %s with the CRL present", c->desc, c->spared);
        tu_want_good(what, &rd, &sd, 0);
        if (rd.st.peerCertFlags != 0 || sd.st.peerCertFlags != 0)
            fail_msg("%s: peerCertFlags client 0x%x server 0x%x", what,
                     (unsigned)rd.st.peerCertFlags, (unsigned)sd.st.peerCertFlags);
    }
    assert_int_equal(PKI_CertificateDel(CRL_ID, PKI_CERT_NONLOCAL, &err), 0);
    closesocket(lsn, &err);
    if (lsn2 >= 0)
        closesocket(lsn2, &err);
    tu_session_close(cli_sid);
    tu_session_close(srv_sid);
    tu_session_close(cli2_sid);
    tu_session_close(srv2_sid);
}

static int crl_teardown(void **state)
{
    int err;

    (void)state;
    PKI_CertificateDel(CRL_ID, PKI_CERT_NONLOCAL, &err); /* ENOENT when gone */
    return 0;
}

/* ================================================================= main */

/* clang-format off */
static const struct tu_cert cas[] = {
    { "ca2.pem", TU_ROOT, "ca2", NULL },
    { "inter-ca.pem", PKI_CERT_NONLOCAL, "inter", "ca" },
};
static const struct tu_own own[] = {
    { "server.key", PKI_KEY_RSA, "server.pem", "srv", "ca" },
    { "leaf-inter.key", PKI_KEY_EC, "leaf-inter.pem", "leaf-inter", "inter" },
    { "client.key", PKI_KEY_RSA, "client.pem", "cli", "ca" },
    { "client2.key", PKI_KEY_EC, "client2.pem", "cli2", "ca2" },
    { "client-inter.key", PKI_KEY_EC, "client-inter.pem", "cli-inter", "inter" },
    { "revoked.key", PKI_KEY_EC, "revoked.pem", "revoked", "ca" },
};
/* clang-format on */
static const struct tu_pki pki = {cas, TU_N(cas), own, TU_N(own), 0};

TU_PKI_FIXTURES(group_setup, group_teardown, pki)

int main(void)
{
    static struct CMUnitTest tests[32];
    size_t n = 0;

    tu_require_pki();
    tu_add_test(tests, TU_N(tests), &n,
                "bundle: a root from PKI_RootCABundleAdd anchors a handshake",
                test_bundle_root_anchors, NULL, bundle_teardown);
    TU_ADD_TABLE_TD(tests, n, crl_cases, run_crl_case, crl_teardown);
    return _cmocka_run_group_tests("trust", tests, n, group_setup, group_teardown);
}
