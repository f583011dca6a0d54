"""Session resumption (maxCaches).

Spec (API.md 5): maxCaches is the size of the session's resumption cache; 0
disables resumption (no session IDs and no tickets issued by a server, no reuse
by a client). Client side entries are keyed by peer address, port and name.
"""

import socket

import pytest

from conftest import WAIT, py_client_context, url

VERSIONS = [pytest.param("TLS1.2", "0x08", id="TLS1.2"),
            pytest.param("TLS1.3", "0x10", id="TLS1.3")]
DATA = "resume-me"


@pytest.mark.parametrize("version,mask", VERSIONS)
def test_https_get_resumes(pki, start_echo_server, run_https_get, version, mask):
    srv = start_echo_server(["-m", "16", "-v", mask])
    r = run_https_get(["-a", pki / "ca.pem", "-r", "3", "-d", DATA,
                       url("localhost", srv.port)])
    assert r.rc == 0, r.describe()
    assert r.stdout == DATA.encode() * 3, r.describe()
    assert [h["status"] for h in r.handshakes] == ["ok"] * 3, r.describe()
    assert [h["version"] for h in r.handshakes] == [version] * 3, r.describe()
    assert [h["resumed"] for h in r.handshakes] == [0, 1, 1], r.describe()
    conns = srv.wait_conns(3)
    assert [c["status"] for c in conns] == ["ok"] * 3, srv.describe()
    assert [c["resumed"] for c in conns] == [0, 1, 1], srv.describe()


@pytest.mark.parametrize("version,mask", VERSIONS)
@pytest.mark.parametrize("client_m,server_m", [("0", "16"), ("8", "0"), ("0", "0")],
                         ids=["client-m0", "server-m0", "both-m0"])
def test_no_resumption_with_zero_cache(pki, start_echo_server, run_https_get, version, mask,
                                       client_m, server_m):
    srv = start_echo_server(["-m", server_m, "-v", mask])
    r = run_https_get(["-a", pki / "ca.pem", "-r", "3", "-m", client_m, "-d", DATA,
                       url("localhost", srv.port)])
    assert r.rc == 0, r.describe()
    assert r.stdout == DATA.encode() * 3, r.describe()
    assert [h["resumed"] for h in r.handshakes] == [0, 0, 0], r.describe()
    conns = srv.wait_conns(3)
    assert [c["status"] for c in conns] == ["ok"] * 3, srv.describe()
    assert [c["resumed"] for c in conns] == [0, 0, 0], srv.describe()


def test_s_client_reconnect_tls12(start_echo_server, run_s_client):
    """openssl s_client -reconnect: 1 full handshake, then 5 resumed ones."""
    srv = start_echo_server(["-m", "16"])
    r = run_s_client(srv.port, ["-tls1_2", "-reconnect"], token=None, timeout=20)
    assert r.rc == 0, r.describe()
    new = [ln for ln in r.out.splitlines() if ln.startswith("New, ")]
    reused = [ln for ln in r.out.splitlines() if ln.startswith("Reused, ")]
    assert len(new) == 1 and len(reused) == 5, r.describe()
    conns = srv.wait_conns(6)
    assert [c["resumed"] for c in conns] == [0, 1, 1, 1, 1, 1], srv.describe()


def test_s_client_reconnect_server_m0(start_echo_server, run_s_client):
    srv = start_echo_server(["-m", "0"])
    r = run_s_client(srv.port, ["-tls1_2", "-reconnect"], token=None, timeout=20)
    assert not [ln for ln in r.out.splitlines() if ln.startswith("Reused, ")], r.describe()
    conns = srv.wait_conns(6)
    assert conns and all(c["resumed"] == 0 for c in conns), srv.describe()


@pytest.mark.parametrize("server_m,expect_tickets", [("16", True), ("0", False)])
def test_tls13_tickets_only_with_cache(start_echo_server, run_s_client, server_m,
                                       expect_tickets):
    """maxCaches 0: no NewSessionTicket in TLS 1.3."""
    srv = start_echo_server(["-m", server_m])
    r = run_s_client(srv.port, ["-tls1_3", "-msg"])
    assert r.echoed, r.describe()
    got = ("<<<", "NewSessionTicket") in r.handshake_msgs()
    assert got == expect_tickets, r.describe()


@pytest.mark.parametrize("server_m,expect_resumable", [("16", True), ("0", False)])
def test_tls12_no_session_id_or_ticket_without_cache(start_echo_server, run_s_client,
                                                     server_m, expect_resumable):
    """maxCaches 0: TLS 1.2 ServerHello has an empty session ID and no ticket."""
    srv = start_echo_server(["-m", server_m])
    r = run_s_client(srv.port, ["-tls1_2", "-msg"])
    assert r.echoed, r.describe()
    ticket = ("<<<", "NewSessionTicket") in r.handshake_msgs()
    session_id = ""
    for ln in r.out.splitlines():
        if ln.strip().startswith("Session-ID:"):
            session_id = ln.split(":", 1)[1].strip()
            break
    assert (ticket or bool(session_id)) == expect_resumable, r.describe()


@pytest.mark.parametrize("version,mask", VERSIONS)
def test_resumed_session_keeps_client_certificate(pki, start_echo_server, run_https_get,
                                                  version, mask):
    """Option 1 with resumption: the resumed connection still knows the peer."""
    srv = start_echo_server(["-a", pki / "ca.pem", "-o", "1", "-m", "16", "-v", mask])
    r = run_https_get(["-a", pki / "ca.pem", "-c", pki / "client.pem", "-k", pki / "client.key",
                       "-r", "2", "-d", DATA, url("localhost", srv.port)])
    assert r.rc == 0, r.describe()
    conns = srv.wait_conns(2)
    assert [c["resumed"] for c in conns] == [0, 1], srv.describe()
    assert all("chipssl client" in c["peer"] for c in conns), srv.describe()


@pytest.mark.parametrize("version,mask", VERSIONS)
def test_https_get_resumes_with_s_server(pki, start_openssl_server, run_https_get, version,
                                         mask):
    """chipssl client resumption against OpenSSL's server (cache and tickets)."""
    srv = start_openssl_server(["-www"])
    r = run_https_get(["-a", pki / "ca.pem", "-v", mask, "-r", "3",
                       url("localhost", srv.port)])
    assert r.rc == 0, r.describe()
    assert [h["version"] for h in r.handshakes] == [version] * 3, r.describe()
    assert [h["resumed"] for h in r.handshakes] == [0, 1, 1], r.describe()
    # s_server -www reports "Reused, ..." for a resumed session
    assert r.stdout.count(b"Reused, ") == 2, r.describe()


@pytest.mark.parametrize("version,mask", VERSIONS)
def test_python_client_resumes(pki, start_echo_server, version, mask):
    srv = start_echo_server(["-m", "16", "-v", mask])
    ctx = py_client_context(pki)
    session = None
    reused = []
    for i in range(3):
        with socket.create_connection(("127.0.0.1", srv.port), timeout=WAIT) as raw:
            with ctx.wrap_socket(raw, server_hostname="localhost", session=session) as tls:
                tls.sendall(b"py%d" % i)
                assert tls.recv(10) == b"py%d" % i   # TLS 1.3: tickets read by now
                reused.append(tls.session_reused)
                session = tls.session
                tls.unwrap()
    assert reused == [False, True, True]
    conns = srv.wait_conns(3)
    assert [c["resumed"] for c in conns] == [0, 1, 1], srv.describe()


GNUTLS_PRIO = {"TLS1.2": "NORMAL:-VERS-ALL:+VERS-TLS1.2",
               "TLS1.3": "NORMAL:-VERS-ALL:+VERS-TLS1.3"}


@pytest.mark.parametrize("version,mask", VERSIONS)
@pytest.mark.parametrize("server_m,resumes", [("16", True), ("0", False)])
def test_gnutls_cli_resumes(start_echo_server, run_gnutls_cli, version, mask, server_m,
                            resumes):
    srv = start_echo_server(["-m", server_m, "-v", mask])
    r = run_gnutls_cli(srv.port, ["-r", "--priority", GNUTLS_PRIO[version]])
    assert r.echoed, r.describe()
    assert ("*** This is a resumed session" in r.out) == resumes, r.describe()
    conns = srv.wait_conns(2)
    assert [c["resumed"] for c in conns] == ([0, 1] if resumes else [0, 0]), srv.describe()
