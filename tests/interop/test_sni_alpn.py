"""Identities chosen by SNI, ALPN and the session origin, against real peers.

Spec (tcpip.h, extensions):
- SSL_SessionAddIdentity: a server presents the first identity whose names
  (subjectAltName DNS entries, else the CN; one-label wildcards) match the
  SNI a client sends; no SNI, or a name no identity matches, gets the
  default (SSL_SessionNew's certIdentity). A certificate the engine refuses
  is API_EINVAL.
- SSL_SessionALPN: a server takes the first protocol of its own list that
  the client offers, refuses a client that offers protocols but none of its
  list with no_application_protocol (120), serves a client that offers none.
- SSL_CONN_STATE.sessionOrigin: one number per full handshake; a resumed
  connection carries the number of the handshake whose session it resumed.

tls_echo_server: -I CERT:KEY (identities), -L LIST (ALPN); https_get: -A
LIST. Both print alpn= and origin= in their status lines.
"""

import socket
import ssl
import subprocess

import pytest

from conftest import WAIT, have_tool, py_client_context, url

VERSIONS = [pytest.param("TLS1.2", "0x08", id="TLS1.2"),
            pytest.param("TLS1.3", "0x10", id="TLS1.3")]
S_CLIENT_VERSION = {"TLS1.2": "-tls1_2", "TLS1.3": "-tls1_3"}
PY_VERSION = {"TLS1.2": ssl.TLSVersion.TLSv1_2, "TLS1.3": ssl.TLSVersion.TLSv1_3}
GNUTLS_PRIO = {"TLS1.2": "NORMAL:-VERS-ALL:+VERS-TLS1.2",
               "TLS1.3": "NORMAL:-VERS-ALL:+VERS-TLS1.3"}
ALERT_NO_APPLICATION_PROTOCOL = 120
DATA = b"sni-alpn-check"


# ---------------------------------------------------------------------------
# The certificate a peer was given
# ---------------------------------------------------------------------------

def cert_names(pem):
    """(subject CN, [SAN DNS names]) of a PEM certificate, by openssl x509."""
    r = subprocess.run(["openssl", "x509", "-noout", "-subject", "-nameopt", "RFC2253",
                        "-ext", "subjectAltName"], input=pem, capture_output=True,
                       text=True, timeout=WAIT)
    assert r.returncode == 0, r.stderr
    subject, sans = None, []
    for ln in r.stdout.splitlines():
        if ln.startswith("subject="):
            subject = ln[len("subject="):].strip()
        elif "DNS:" in ln:
            sans = [p.strip()[4:] for p in ln.split(",") if p.strip().startswith("DNS:")]
    return subject, sans


# (name sent as SNI, or None; subject and DNS SANs of the certificate it must get)
SNI_CASES = [
    pytest.param("a.wild.test", "CN=wildcard", ["*.wild.test"], id="wildcard"),
    pytest.param("cnonly.test", "CN=cnonly.test", [], id="cn-only"),
    pytest.param(None, "CN=localhost", ["localhost"], id="no-sni-default"),
    pytest.param("unknown.test", "CN=localhost", ["localhost"], id="unknown-name-default"),
    pytest.param("localhost", "CN=localhost", ["localhost"], id="default-by-name"),
]


def sni_server(start_echo_server, pki, mask):
    return start_echo_server(["-v", mask,
                              "-I", "%s:%s" % (pki / "wildcard.pem", pki / "wildcard.key"),
                              "-I", "%s:%s" % (pki / "cnonly.pem", pki / "cnonly.key")])


def check_server_saw(srv, name):
    conn = srv.wait_conn(0)
    assert conn["status"] == "ok", srv.describe()
    assert conn["sni"] == (name or "-"), conn["line"]


@pytest.mark.parametrize("version,mask", VERSIONS)
@pytest.mark.parametrize("name,subject,sans", SNI_CASES)
def test_sni_identity_python(pki, start_echo_server, version, mask, name, subject, sans):
    srv = sni_server(start_echo_server, pki, mask)
    ctx = py_client_context(pki, versions=(PY_VERSION[version], PY_VERSION[version]))
    # The chain is always verified; the name only where the certificate is
    # the one that name should get (the defaults do not carry unknown.test).
    ctx.check_hostname = name is not None and name != "unknown.test"
    with socket.create_connection(("127.0.0.1", srv.port), timeout=WAIT) as raw:
        with ctx.wrap_socket(raw, server_hostname=name) as tls:
            assert tls.version() == version.replace("TLS", "TLSv")
            der = tls.getpeercert(binary_form=True)
            tls.sendall(DATA)
            assert tls.recv(100) == DATA
            tls.unwrap()
    got = cert_names(ssl.DER_cert_to_PEM_cert(der))
    assert got == (subject, sans), (name, got)
    check_server_saw(srv, name)


@pytest.mark.parametrize("version,mask", VERSIONS)
@pytest.mark.parametrize("name,subject,sans", SNI_CASES)
def test_sni_identity_s_client(pki, start_echo_server, run_s_client, version, mask, name,
                               subject, sans):
    srv = sni_server(start_echo_server, pki, mask)
    args = [S_CLIENT_VERSION[version], "-verify_return_error"]
    args += ["-servername", name] if name else ["-noservername"]
    r = run_s_client(srv.port, args)
    assert r.echoed, r.describe()
    assert r.negotiated()[0] == version, r.describe()
    start = r.out.index("-----BEGIN CERTIFICATE-----")
    end = r.out.index("-----END CERTIFICATE-----") + len("-----END CERTIFICATE-----")
    assert cert_names(r.out[start:end] + "\n") == (subject, sans), r.describe()
    check_server_saw(srv, name)


# A client that prefers RSA (its signature algorithms in TLS 1.3, its suites
# in TLS 1.2) but offers ECDSA too must still get the identity its SNI
# names (EC keys), not the default (an RSA key): the name chooses, the key
# type does not. GnuTLS prefers RSA-PSS in TLS 1.3 by default.
@pytest.mark.parametrize("version,mask,prefs", [
    pytest.param("TLS1.3", "0x10",
                 ["-sigalgs", "rsa_pss_rsae_sha256:ecdsa_secp256r1_sha256"], id="TLS1.3-sigalgs"),
    pytest.param("TLS1.2", "0x08",
                 ["-cipher", "ECDHE-RSA-AES128-GCM-SHA256:ECDHE-ECDSA-AES128-GCM-SHA256"],
                 id="TLS1.2-suites"),
])
@pytest.mark.parametrize("name,subject,sans", SNI_CASES[:2])
def test_sni_identity_wins_over_key_type(pki, start_echo_server, run_s_client, version, mask,
                                         prefs, name, subject, sans):
    srv = sni_server(start_echo_server, pki, mask)
    r = run_s_client(srv.port, [S_CLIENT_VERSION[version], "-servername", name] + prefs)
    assert r.echoed, r.describe()
    start = r.out.index("-----BEGIN CERTIFICATE-----")
    end = r.out.index("-----END CERTIFICATE-----") + len("-----END CERTIFICATE-----")
    assert cert_names(r.out[start:end] + "\n") == (subject, sans), r.describe()
    check_server_saw(srv, name)


@pytest.mark.parametrize("version,mask", VERSIONS)
@pytest.mark.parametrize("peer", ["python", "s_client"])
def test_sni_rsa_identity_with_ec_default(pki, start_echo_server, run_s_client, version, mask,
                                          peer):
    """The mirror, with the clients' own preferences (ECDSA first): an EC
    default (*.wild.test) and an RSA identity (localhost); SNI localhost
    must get the RSA identity."""
    srv = start_echo_server(["-v", mask, "-I", "%s:%s" % (pki / "server.pem",
                                                           pki / "server.key")],
                            cert="wildcard")
    if peer == "python":
        ctx = py_client_context(pki, versions=(PY_VERSION[version], PY_VERSION[version]))
        ctx.check_hostname = False   # the subject is checked below, in words
        with socket.create_connection(("127.0.0.1", srv.port), timeout=WAIT) as raw:
            with ctx.wrap_socket(raw, server_hostname="localhost") as tls:
                pem = ssl.DER_cert_to_PEM_cert(tls.getpeercert(binary_form=True))
    else:
        r = run_s_client(srv.port, [S_CLIENT_VERSION[version], "-servername", "localhost"])
        assert r.echoed, r.describe()
        pem = r.out[r.out.index("-----BEGIN CERTIFICATE-----"):
                    r.out.index("-----END CERTIFICATE-----") + 25] + "\n"
    assert cert_names(pem) == ("CN=localhost", ["localhost"]), srv.describe()
    check_server_saw(srv, "localhost")


@pytest.mark.skipif(not have_tool("gnutls-cli"), reason="gnutls-cli not installed")
@pytest.mark.parametrize("version,mask", VERSIONS)
@pytest.mark.parametrize("name,subject", [("b.wild.test", "CN=wildcard"),
                                          ("cnonly.test", "CN=cnonly.test"),
                                          (None, "CN=localhost")],
                         ids=["wildcard", "cn-only", "no-sni"])
def test_sni_identity_gnutls(pki, start_echo_server, run_gnutls_cli, version, mask, name,
                             subject):
    srv = sni_server(start_echo_server, pki, mask)
    args = ["--priority", GNUTLS_PRIO[version], "--verify-hostname", name or "localhost"]
    args += ["--sni-hostname", name] if name else ["--disable-sni"]
    r = run_gnutls_cli(srv.port, args)
    assert r.echoed, r.describe()
    # "- Certificate[0] info:\n - subject `CN=wildcard', issuer ..."
    assert "subject `%s'" % subject in r.out, r.describe()
    check_server_saw(srv, name)


def test_refused_identity_is_reported(pki, echo_server_bin):
    """A SHA-1 signed certificate: SSL_SessionAddIdentity says API_EINVAL,
    the server does not start."""
    r = subprocess.run([echo_server_bin, "-p", "0", "-c", pki / "server.pem",
                        "-k", pki / "server.key",
                        "-I", "%s:%s" % (pki / "sha1.pem", pki / "sha1.key")],
                       stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=WAIT)
    assert r.returncode == 1, (r.stdout, r.stderr)
    assert "READY" not in r.stdout
    assert "SSL_SessionAddIdentity" in r.stderr and "API_EINVAL" in r.stderr, r.stderr


# ---------------------------------------------------------------------------
# ALPN: the chipssl server
# ---------------------------------------------------------------------------

# (protocols the client offers, or None; protocol agreed, None: refused)
ALPN_CASES = [
    pytest.param(["http/1.1"], "http/1.1", id="http1.1"),
    pytest.param(["h2", "http/1.1"], "h2", id="h2-first"),
    pytest.param(["http/1.1", "h2"], "h2", id="server-preference"),
    pytest.param(["spdy/3"], None, id="none-in-common-refused"),
    pytest.param(None, "", id="no-offer-served"),
]


def alpn_server(start_echo_server, mask):
    return start_echo_server(["-v", mask, "-L", "h2,http/1.1"])


def check_server_alpn(srv, want):
    conn = srv.wait_conn(0)
    if want is None:
        assert conn["status"] == "failed", srv.describe()
        assert conn["alert"] == ALERT_NO_APPLICATION_PROTOCOL and conn["sent"] == 1, \
            conn["line"]
    else:
        assert conn["status"] == "ok", srv.describe()
        assert conn["alpn"] == (want or "-"), conn["line"]


@pytest.mark.parametrize("version,mask", VERSIONS)
@pytest.mark.parametrize("offer,want", ALPN_CASES)
def test_alpn_s_client(start_echo_server, run_s_client, version, mask, offer, want):
    srv = alpn_server(start_echo_server, mask)
    args = [S_CLIENT_VERSION[version]]
    if offer:
        args += ["-alpn", ",".join(offer)]
    r = run_s_client(srv.port, args)
    if want is None:
        assert not r.echoed, r.describe()
        assert ALERT_NO_APPLICATION_PROTOCOL in r.received_alert_numbers(), r.describe()
    else:
        assert r.echoed, r.describe()
        line = "ALPN protocol: %s" % want if want else "No ALPN negotiated"
        assert line in r.out, r.describe()
    check_server_alpn(srv, want)


@pytest.mark.parametrize("version,mask", VERSIONS)
@pytest.mark.parametrize("offer,want", ALPN_CASES)
def test_alpn_python(pki, start_echo_server, version, mask, offer, want):
    srv = alpn_server(start_echo_server, mask)
    ctx = py_client_context(pki, versions=(PY_VERSION[version], PY_VERSION[version]))
    if offer:
        ctx.set_alpn_protocols(offer)
    with socket.create_connection(("127.0.0.1", srv.port), timeout=WAIT) as raw:
        if want is None:
            with pytest.raises(ssl.SSLError) as e:
                ctx.wrap_socket(raw, server_hostname="localhost")
            # "[SSL] tlsv1 alert no application protocol": the alert received
            assert "no application protocol" in str(e.value).lower().replace("_", " "), \
                str(e.value)
        else:
            with ctx.wrap_socket(raw, server_hostname="localhost") as tls:
                assert tls.selected_alpn_protocol() == (want or None)
                tls.sendall(DATA)
                assert tls.recv(100) == DATA
                tls.unwrap()
    check_server_alpn(srv, want)


# ---------------------------------------------------------------------------
# ALPN: the chipssl client
# ---------------------------------------------------------------------------

@pytest.mark.parametrize("version,mask", VERSIONS)
@pytest.mark.parametrize("server_list,offer,want", [
    ("h2,http/1.1", "http/1.1", "http/1.1"),
    ("http/1.1", "h2,http/1.1", "http/1.1"),
    ("h2,http/1.1", "h2,http/1.1", "h2"),
    (None, "h2,http/1.1", "-"),
    ("h2,http/1.1", None, "-"),
], ids=["http1.1", "server-has-only-http1.1", "h2", "server-without-alpn", "no-offer"])
def test_https_get_alpn_with_s_server(pki, start_openssl_server, run_https_get, version, mask,
                                      server_list, offer, want):
    srv = start_openssl_server(["-www"] + (["-alpn", server_list] if server_list else []))
    args = ["-a", pki / "ca.pem", "-v", mask]
    if offer:
        args += ["-A", offer]
    r = run_https_get(args + [url("localhost", srv.port)])
    assert r.rc == 0, r.describe()
    assert len(r.ok_handshakes) == 1, r.describe()
    h = r.ok_handshakes[0]
    assert h["version"] == version and h["alpn"] == want, r.describe()
    # the page s_server -www sends, fetched over that connection
    assert b"200 ok" in r.stdout.lower(), r.describe()


def test_https_get_alpn_refused_by_chipssl_server(pki, start_echo_server, run_https_get):
    srv = start_echo_server(["-L", "h2,http/1.1"])
    r = run_https_get(["-a", pki / "ca.pem", "-A", "spdy/3", "-d", "x",
                       url("localhost", srv.port)])
    assert r.rc == 2, r.describe()
    assert r.handshakes and r.handshakes[0]["status"] == "failed", r.describe()
    assert r.handshakes[0]["alert"] == ALERT_NO_APPLICATION_PROTOCOL, r.describe()
    assert r.handshakes[0]["sent"] == 0, r.describe()
    check_server_alpn(srv, None)


def test_https_get_alpn_with_chipssl_server(pki, start_echo_server, run_https_get):
    srv = start_echo_server(["-L", "h2,http/1.1"])
    r = run_https_get(["-a", pki / "ca.pem", "-A", "http/1.1,h2", "-d", "x",
                       url("localhost", srv.port)])
    assert r.rc == 0 and r.stdout == b"x", r.describe()
    assert r.ok_handshakes[0]["alpn"] == "h2", r.describe()
    check_server_alpn(srv, "h2")


@pytest.mark.parametrize("bad", [",a", "a,", "a,,b", "n" * 256])
def test_bad_alpn_lists_are_refused(pki, echo_server_bin, https_get_bin, bad):
    for argv in ([echo_server_bin, "-p", "0", "-c", pki / "server.pem", "-k",
                  pki / "server.key", "-L", bad],
                 [https_get_bin, "-A", bad, "https://127.0.0.1:1/"]):
        r = subprocess.run([str(a) for a in argv], stdin=subprocess.DEVNULL,
                           capture_output=True, text=True, timeout=WAIT)
        assert r.returncode == 1, (argv, r.stdout, r.stderr)
        assert "ALPN list" in r.stderr and "API_EINVAL" in r.stderr, r.stderr


# ---------------------------------------------------------------------------
# Session origin
# ---------------------------------------------------------------------------

def py_connection(ctx, port, session, tag):
    """One connection; returns (session_reused, the session to resume next)."""
    with socket.create_connection(("127.0.0.1", port), timeout=WAIT) as raw:
        with ctx.wrap_socket(raw, server_hostname="localhost", session=session) as tls:
            tls.sendall(tag)
            assert tls.recv(100) == tag   # TLS 1.3: the ticket has arrived by now
            reused, nxt = tls.session_reused, tls.session
            tls.unwrap()
    return reused, nxt


@pytest.mark.parametrize("version,mask", VERSIONS)
def test_session_origin_python(pki, start_echo_server, version, mask):
    srv = start_echo_server(["-m", "16", "-v", mask])
    ctx = py_client_context(pki, versions=(PY_VERSION[version], PY_VERSION[version]))
    reused, session = [], None
    for i in range(3):          # a full handshake, then two resumptions
        r, session = py_connection(ctx, srv.port, session, b"first%d" % i)
        reused.append(r)
    assert reused == [False, True, True]
    r, second = py_connection(ctx, srv.port, None, b"second")   # independent, full
    assert not r
    r, _ = py_connection(ctx, srv.port, second, b"second-resumed")
    assert r
    conns = srv.wait_conns(5)
    assert [c["status"] for c in conns] == ["ok"] * 5, srv.describe()
    assert [c["resumed"] for c in conns] == [0, 1, 1, 0, 1], srv.describe()
    origins = [c["origin"] for c in conns]
    assert all(isinstance(o, int) and o > 0 for o in origins), srv.describe()
    assert origins[0] == origins[1] == origins[2], srv.describe()
    assert origins[3] != origins[0], srv.describe()
    assert origins[4] == origins[3], srv.describe()


@pytest.mark.parametrize("version,mask", VERSIONS)
def test_session_origin_https_get(pki, start_echo_server, run_https_get, version, mask):
    """Both ends: the chipssl client's origins follow its resumptions too."""
    srv = start_echo_server(["-m", "16", "-v", mask])
    r = run_https_get(["-a", pki / "ca.pem", "-r", "3", "-d", "o", url("localhost", srv.port)])
    assert r.rc == 0, r.describe()
    assert [h["resumed"] for h in r.handshakes] == [0, 1, 1], r.describe()
    cli = [h["origin"] for h in r.handshakes]
    assert cli[0] > 0 and cli[0] == cli[1] == cli[2], r.describe()
    conns = srv.wait_conns(3)
    assert [c["resumed"] for c in conns] == [0, 1, 1], srv.describe()
    assert conns[0]["origin"] > 0 and \
        conns[0]["origin"] == conns[1]["origin"] == conns[2]["origin"], srv.describe()


@pytest.mark.parametrize("version,mask", VERSIONS)
def test_resumed_connection_reports_alpn(pki, start_echo_server, run_https_get, version, mask):
    """A resumption agrees on ALPN again; both ends report it."""
    srv = start_echo_server(["-m", "16", "-v", mask, "-L", "h2,http/1.1"])
    r = run_https_get(["-a", pki / "ca.pem", "-A", "http/1.1,h2", "-r", "2", "-d", "a",
                       url("localhost", srv.port)])
    assert r.rc == 0, r.describe()
    assert [(h["resumed"], h["alpn"]) for h in r.handshakes] == [(0, "h2"), (1, "h2")], \
        r.describe()
    conns = srv.wait_conns(2)
    assert [(c["resumed"], c["alpn"]) for c in conns] == [(0, "h2"), (1, "h2")], srv.describe()
