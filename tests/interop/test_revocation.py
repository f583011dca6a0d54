"""Revocation (API.md 4: CRLs in the PKI; the REVOKED flag).

A CRL added with PKI_CertificateAdd(PKI_CERT_CRL) makes a handshake with a
certificate it lists fail with certificate_revoked (44) and the REVOKED flag,
on the client (https_get -R against openssl s_server) and on the server
(tls_echo_server -R verifying s_client's certificate). Option 3 accepts it and
still reports the flag. Certificates of the same CA that the CRL does not
list, and certificates of CAs without a CRL, are unaffected. A CRL of the root
that revokes an intermediate CA refuses every chain through it (revocation is
checked along the whole chain). A server that names client CAs
(SSL_AddClientCA, tls_echo_server -A) verifies client chains against those CAs
and still applies the CRLs: a client certificate its client CA's own CRL lists
is refused.
"""

import pytest

from conftest import REVOKED, cert_args, url

ALERT_CERTIFICATE_REVOKED = 44
VERSIONS = [pytest.param("-tls1_2", id="TLS1.2"), pytest.param("-tls1_3", id="TLS1.3")]


@pytest.mark.parametrize("opt3", [False, True], ids=["opt3-off", "opt3-on"])
def test_client_refuses_revoked_server(pki, start_openssl_server, run_https_get, opt3):
    srv = start_openssl_server(["-www"], cert="revoked")
    args = ["-a", pki / "ca.pem", "-R", pki / "crl.pem"] + (["-o", "3"] if opt3 else [])
    r = run_https_get(args + [url("localhost", srv.port)])
    hs = r.handshakes[0]
    assert hs["flags"] & REVOKED, r.describe()
    if opt3:
        assert r.rc == 0 and hs["status"] == "ok", r.describe()
    else:
        assert r.rc == 2 and hs["status"] == "failed", r.describe()
        assert hs["alert"] == ALERT_CERTIFICATE_REVOKED and hs["sent"] == 1, r.describe()


def test_client_without_crl_accepts_revoked_server(pki, start_openssl_server, run_https_get):
    """Without the CRL in the PKI nothing says the certificate is revoked."""
    srv = start_openssl_server(["-www"], cert="revoked")
    r = run_https_get(["-a", pki / "ca.pem", url("localhost", srv.port)])
    assert r.rc == 0, r.describe()
    assert not r.handshakes[0]["flags"] & REVOKED, r.describe()


@pytest.mark.parametrize("cert", ["server", "server-ec"])
def test_crl_does_not_touch_other_certificates(pki, start_openssl_server, run_https_get, cert):
    srv = start_openssl_server(["-www"], cert=cert)
    r = run_https_get(["-a", pki / "ca.pem", "-R", pki / "crl.pem", url("localhost", srv.port)])
    assert r.rc == 0 and r.handshakes[0]["flags"] == 0, r.describe()


@pytest.mark.parametrize("flag", VERSIONS)
def test_server_refuses_revoked_client(pki, start_echo_server, run_s_client, flag):
    srv = start_echo_server(["-a", pki / "ca.pem", "-R", pki / "crl.pem", "-o", "1"])
    r = run_s_client(srv.port, [flag] + cert_args(pki, "revoked"))
    conn = srv.wait_conn()
    assert conn["status"] == "failed", conn["line"]
    assert conn["flags"] & REVOKED, conn["line"]
    assert conn["alert"] == ALERT_CERTIFICATE_REVOKED and conn["sent"] == 1, conn["line"]
    assert not r.echoed, r.describe()


@pytest.mark.parametrize("flag", VERSIONS)
def test_server_accepts_unrevoked_client(pki, start_echo_server, run_s_client, flag):
    srv = start_echo_server(["-a", pki / "ca.pem", "-R", pki / "crl.pem", "-o", "1"])
    r = run_s_client(srv.port, [flag] + cert_args(pki, "client"))
    conn = srv.wait_conn()
    assert conn["status"] == "ok" and conn["flags"] == 0, conn["line"]
    assert r.echoed, r.describe()


# --- a revoked intermediate CA (crl-inter.pem: a CRL of the root listing
# inter-ca.pem). Revocation is checked along the whole chain, not only for
# the leaf: leaf-inter/client-inter -> inter-ca (revoked) -> ca fails with
# REVOKED. Each test first shows that the same chain is accepted without a
# CRL and with the root's other CRL (crl.pem does not list inter-ca; no CRL
# of inter-ca itself is needed), then that crl-inter.pem refuses it.
INTER_CRLS = [(None, False), ("crl", False), ("crl-inter", True)]


@pytest.mark.parametrize("flag", VERSIONS)
def test_client_refuses_server_under_revoked_intermediate(pki, start_openssl_server,
                                                         run_https_get, flag):
    srv = start_openssl_server(["-www", flag, "-cert_chain", pki / "inter-ca.pem"],
                               cert="leaf-inter")
    for crl, refused in INTER_CRLS:
        args = ["-a", pki / "ca.pem"] + (["-R", pki / (crl + ".pem")] if crl else [])
        r = run_https_get(args + [url("localhost", srv.port)])
        assert r.handshakes, "CRL %s\n%s" % (crl, r.describe())
        hs = r.handshakes[0]
        if refused:
            assert r.rc == 2 and hs["status"] == "failed", r.describe()
            assert hs["flags"] & REVOKED, r.describe()
            assert hs["alert"] == ALERT_CERTIFICATE_REVOKED and hs["sent"] == 1, r.describe()
        else:
            assert r.rc == 0 and hs["status"] == "ok", "CRL %s\n%s" % (crl, r.describe())
            assert hs["flags"] == 0, r.describe()


@pytest.mark.parametrize("flag", VERSIONS)
def test_server_refuses_client_under_revoked_intermediate(pki, start_echo_server, run_s_client,
                                                         flag):
    for crl, refused in INTER_CRLS:
        args = ["-a", pki / "ca.pem", "-o", "1"] + (["-R", pki / (crl + ".pem")] if crl else [])
        srv = start_echo_server(args)
        r = run_s_client(srv.port, [flag] + cert_args(pki, "client-inter", "inter-ca"))
        conn = srv.wait_conn()
        if refused:
            assert conn["status"] == "failed", conn["line"] + "\n" + r.describe()
            assert conn["flags"] & REVOKED, conn["line"]
            assert conn["alert"] == ALERT_CERTIFICATE_REVOKED and conn["sent"] == 1, conn["line"]
            assert not r.echoed, r.describe()
        else:
            assert conn["status"] == "ok" and conn["flags"] == 0, "CRL %s: %s" % (crl,
                                                                                  conn["line"])
            assert r.echoed, r.describe()
        srv.stop()


# --- client CAs (SSL_AddClientCA): the server verifies client chains against
# the CAs it names, and applies the CRLs there too. crl-ca2.pem is ca2's CRL
# listing client2.pem; crl-inter-client.pem is inter-ca's CRL listing
# client-inter.pem (an intermediate CA named as client CA).
CLIENT_CA_CRLS = [
    pytest.param("ca2", "client2", "crl-ca2", id="ca2"),
    pytest.param("inter-ca", "client-inter", "crl-inter-client", id="inter-ca"),
]


@pytest.mark.parametrize("flag", VERSIONS)
@pytest.mark.parametrize("client_ca,cert,crl", CLIENT_CA_CRLS)
def test_server_with_client_ca_refuses_revoked_client(pki, start_echo_server, run_s_client, flag,
                                                      client_ca, cert, crl):
    for with_crl in (False, True):
        args = ["-A", pki / (client_ca + ".pem")] + (["-R", pki / (crl + ".pem")] if with_crl
                                                      else [])
        srv = start_echo_server(args)
        r = run_s_client(srv.port, [flag] + cert_args(pki, cert))
        conn = srv.wait_conn()
        if with_crl:
            assert conn["status"] == "failed", conn["line"] + "\n" + r.describe()
            assert conn["flags"] & REVOKED, conn["line"]
            assert conn["alert"] == ALERT_CERTIFICATE_REVOKED and conn["sent"] == 1, conn["line"]
            assert not r.echoed, r.describe()
        else:
            assert conn["status"] == "ok" and conn["flags"] == 0, conn["line"]
            assert r.echoed, r.describe()
        srv.stop()
