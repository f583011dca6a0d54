"""Option 1 (SSL_OPT_CLIENT_AUTH) on tls_echo_server, seen by real clients.

Spec (API.md 5, SSL_SessionOpt): the server requests a certificate (TLS 1.2:
CertificateRequest in the flight of ServerHello, Certificate and
ServerHelloDone; TLS 1.3: after EncryptedExtensions) and requires one; no
certificate, or one that does not verify, fails the handshake with the proper
alert. With SSL_AddClientCA CAs, the client chain must lead to one of them, and
their names are listed in the CertificateRequest.
"""

import re

import pytest

from conftest import (ALERT_CERTIFICATE_EXPIRED, ALERT_CERTIFICATE_REQUIRED,
                      ALERT_HANDSHAKE_FAILURE, ALERT_UNKNOWN_CA, EXPIRED, UNKNOWNCA,
                      assert_cert_request_placement, ca_names, cert_args, server_msgs, url)

VERSIONS = [
    pytest.param("TLS1.2", "-tls1_2", id="TLS1.2"),
    pytest.param("TLS1.3", "-tls1_3", id="TLS1.3"),
]
# alert a server must send when the client sends no certificate at all
NO_CERT_ALERT = {"TLS1.2": ALERT_HANDSHAKE_FAILURE, "TLS1.3": ALERT_CERTIFICATE_REQUIRED}


# ---------------------------------------------------------------------------

@pytest.mark.parametrize("version,flag", VERSIONS)
def test_certificate_request_in_server_flight(pki, start_echo_server, run_s_client,
                                              version, flag):
    srv = start_echo_server(["-a", pki / "ca.pem", "-o", "1"])
    r = run_s_client(srv.port, [flag, "-msg"] + cert_args(pki, "client"))
    assert_cert_request_placement(version, server_msgs(r), r)
    assert r.echoed, r.describe()
    conn = srv.wait_conn()
    assert conn["status"] == "ok", conn["line"]
    assert conn["version"] == version
    assert "chipssl client" in conn["peer"], conn["line"]
    assert r.negotiated()[0] == version


@pytest.mark.parametrize("version,flag", VERSIONS)
def test_option1_off_sends_no_certificate_request(pki, start_echo_server, run_s_client,
                                                  version, flag):
    srv = start_echo_server(["-a", pki / "ca.pem"])
    r = run_s_client(srv.port, [flag, "-msg"] + cert_args(pki, "client"))
    msgs = server_msgs(r)
    assert "ServerHello" in msgs, r.describe()
    assert "CertificateRequest" not in msgs, r.describe()
    assert r.echoed, r.describe()
    conn = srv.wait_conn()
    assert conn["status"] == "ok", conn["line"]
    assert conn["peer"] == "-", conn["line"]


@pytest.mark.parametrize("opts", ["1", "1,3"])
@pytest.mark.parametrize("version,flag", VERSIONS)
def test_client_without_certificate_refused(pki, start_echo_server, run_s_client,
                                            version, flag, opts):
    """Option 3 skips validation but does not make the certificate optional."""
    srv = start_echo_server(["-a", pki / "ca.pem", "-o", opts])
    r = run_s_client(srv.port, [flag, "-msg"])
    alert = NO_CERT_ALERT[version]
    assert not r.echoed, r.describe()
    assert alert in r.received_alert_numbers(), r.describe()
    assert any(d == "<<<" and lvl == "fatal" for d, lvl, _ in r.alerts()), r.describe()
    conn = srv.wait_conn()
    assert conn["status"] == "failed", conn["line"]
    assert conn["alert"] == alert, conn["line"]
    assert conn["sent"] == 1, conn["line"]


# id, server args (PKI file names), client cert, chain, expected: None = accepted,
# else (alert, flag bit in the CONN failed line)
CLIENT_CERT_CASES = [
    ("trusted", [("-a", "ca")], "client", None, None),
    ("untrusted-ca", [("-a", "ca")], "client-untrusted", None,
     (ALERT_UNKNOWN_CA, UNKNOWNCA)),
    ("self-signed", [("-a", "ca")], "selfsigned", None, (ALERT_UNKNOWN_CA, UNKNOWNCA)),
    ("expired", [("-a", "ca")], "expired", None, (ALERT_CERTIFICATE_EXPIRED, EXPIRED)),
    ("via-intermediate", [("-a", "ca")], "client-inter", "inter-ca", None),
    ("client-ca2-accepts-client2", [("-a", "ca"), ("-A", "ca2")], "client2", None, None),
    ("client-ca2-only-refuses-root-ca-client", [("-a", "ca"), ("-A", "ca2")], "client", None,
     (ALERT_UNKNOWN_CA, UNKNOWNCA)),
    ("client-ca-intermediate", [("-a", "ca"), ("-A", "inter-ca")], "client-inter",
     "inter-ca", None),
    ("client-ca-intermediate-refuses-other", [("-a", "ca"), ("-A", "inter-ca")], "client",
     None, (ALERT_UNKNOWN_CA, UNKNOWNCA)),
]


@pytest.mark.parametrize("version,flag", VERSIONS)
@pytest.mark.parametrize("sargs,cert,chain,expect",
                         [pytest.param(*c[1:], id=c[0]) for c in CLIENT_CERT_CASES])
def test_client_certificate_checked(pki, start_echo_server, run_s_client, version, flag,
                                    sargs, cert, chain, expect):
    args = ["-o", "1"]
    for opt, name in sargs:
        args += [opt, pki / (name + ".pem")]
    srv = start_echo_server(args)
    r = run_s_client(srv.port, [flag] + cert_args(pki, cert, chain))
    conn = srv.wait_conn()
    if expect is None:
        assert conn["status"] == "ok", conn["line"] + "\n" + r.describe()
        assert conn["version"] == version
        assert r.echoed, r.describe()
        assert conn["peer"] not in ("", "-"), conn["line"]
    else:
        alert, bit = expect
        assert conn["status"] == "failed", conn["line"] + "\n" + r.describe()
        assert not r.echoed, r.describe()
        assert conn["flags"] & bit, "flags 0x%02x lack 0x%02x: %s" % (conn["flags"], bit,
                                                                       conn["line"])
        assert conn["alert"] == alert, conn["line"]
        assert conn["sent"] == 1, conn["line"]
        assert alert in r.received_alert_numbers(), r.describe()


@pytest.mark.parametrize("version,flag", VERSIONS)
def test_client_ca_names_in_certificate_request(pki, start_echo_server, run_s_client,
                                                version, flag):
    srv = start_echo_server(["-a", pki / "ca.pem", "-o", "1", "-A", pki / "ca2.pem"])
    r = run_s_client(srv.port, [flag] + cert_args(pki, "client2"))
    assert r.echoed, r.describe()
    names = ca_names(r)
    assert any(re.search(r"CN ?= ?chipssl Client CA 2", n) for n in names), r.describe()
    # only the SSL_AddClientCA CAs are acceptable, so only they are named
    assert not any("chipssl Test Root CA" in n for n in names), names
    conn = srv.wait_conn()
    assert conn["status"] == "ok", conn["line"]
    assert "chipssl client 2" in conn["peer"], conn["line"]


# --- the same with gnutls-cli ------------------------------------------------

GNUTLS_VERSIONS = [
    pytest.param("TLS1.2", "NORMAL:-VERS-ALL:+VERS-TLS1.2", id="TLS1.2"),
    pytest.param("TLS1.3", "NORMAL:-VERS-ALL:+VERS-TLS1.3", id="TLS1.3"),
]
REQUESTED_RE = re.compile(r"Server has requested a certificate|Successfully sent \d+ certificate")


@pytest.mark.parametrize("version,prio", GNUTLS_VERSIONS)
@pytest.mark.parametrize("option1,client_cert", [(True, True), (True, False), (False, True)],
                         ids=["on-with-cert", "on-without-cert", "off"])
def test_gnutls_cli_client_auth(pki, start_echo_server, run_gnutls_cli, version, prio,
                                option1, client_cert):
    args = ["-a", pki / "ca.pem"] + (["-o", "1"] if option1 else [])
    srv = start_echo_server(args)
    cargs = ["--priority", prio]
    if client_cert:
        cargs += ["--x509certfile", pki / "client.pem", "--x509keyfile", pki / "client.key"]
    r = run_gnutls_cli(srv.port, cargs)
    conn = srv.wait_conn()
    if option1:
        assert REQUESTED_RE.search(r.out), r.describe()
    else:
        assert not REQUESTED_RE.search(r.out), r.describe()
    if client_cert:
        assert r.echoed, r.describe()
        assert conn["status"] == "ok", conn["line"]
        assert conn["version"] == version
        if option1:
            assert "chipssl client" in conn["peer"], conn["line"]
        else:
            assert conn["peer"] == "-", conn["line"]
    else:
        assert not r.echoed, r.describe()
        assert conn["status"] == "failed", conn["line"]
        assert conn["alert"] == NO_CERT_ALERT[version], conn["line"]
        assert conn["sent"] == 1, conn["line"]


# --- https_get answering a real server's CertificateRequest --------------------

@pytest.mark.parametrize("version,flag", VERSIONS)
@pytest.mark.parametrize("client_cert", [True, False], ids=["with-cert", "without-cert"])
def test_https_get_answers_certificate_request(pki, start_openssl_server, run_https_get,
                                               version, flag, client_cert):
    """A client session answers with its certIdentity (or no certificate)."""
    srv = start_openssl_server(["-www", flag, "-Verify", "1", "-CAfile", pki / "ca.pem",
                                "-verify_return_error"])
    args = ["-a", pki / "ca.pem"]
    if client_cert:
        args += ["-c", pki / "client.pem", "-k", pki / "client.key"]
    r = run_https_get(args + [url("localhost", srv.port)])
    if client_cert:
        assert r.rc == 0, r.describe() + "\n" + srv.describe()
        assert b"HTTP/1.0 200 ok" in r.stdout
        assert b"chipssl client" in r.stdout, "s_server -www names the client certificate"
    else:
        # TLS 1.3: the client may finish its handshake before the server's
        # alert comes, so the refusal may show up as an I/O error (exit 3).
        assert r.rc in ((2,) if version == "TLS1.2" else (2, 3)), r.describe()
        assert b"200 ok" not in r.stdout
        assert NO_CERT_ALERT[version] in [h.get("alert") for h in r.handshakes] or r.rc == 3, \
            r.describe()
