"""Self-check of the test harness against real peers only (no chipssl binary
needed): the output parsers and helpers the other tests rely on must work
against openssl s_server and Python's ssl. When one of these fails, the
failures elsewhere say nothing about the library."""

import socket
import subprocess

import pytest

from conftest import (SUITES, gnutls_description_cipher, gnutls_priority, parse_status,
                      py_client_context, assert_cert_request_placement, ca_names,
                      cert_args, server_msgs)

VERSIONS = [pytest.param("TLS1.2", "-tls1_2", id="TLS1.2"),
            pytest.param("TLS1.3", "-tls1_3", id="TLS1.3")]


def test_parse_status():
    d = parse_status("CONN ok version=TLS1.2 suite=0xC02F resumed=1 "
                     "peer=CN=chipssl client,O=x y flags=0x10 sni=-")
    assert (d["kind"], d["status"], d["version"], d["suite"], d["resumed"], d["peer"],
            d["flags"], d["sni"]) == ("CONN", "ok", "TLS1.2", 0xC02F, 1,
                                      "CN=chipssl client,O=x y", 0x10, "-")
    d = parse_status("CONN failed error=253 flags=0x14 alert=48 sent=1 state=2 "
                     "reason=certificate verify failed (x=y flags=1)")
    assert (d["status"], d["error"], d["flags"], d["alert"], d["sent"], d["state"],
            d["reason"]) == ("failed", 253, 0x14, 48, 1, 2,
                             "certificate verify failed (x=y flags=1)")
    d = parse_status("HANDSHAKE failed error=253 flags=0x08 alert=-1 sent=0 state=2 reason=x")
    assert d["alert"] == -1 and d["flags"] == 8
    # The examples' own format: words first, the number in parentheses.
    d = parse_status("CONN failed error=connection aborted (253) flags=expired or not yet "
                     "valid, issuer unknown (0x14) alert=unknown CA (48) sent=yes "
                     "state=certificate exchange (2) reason=x (y)")
    assert (d["error"], d["flags"], d["alert"], d["sent"], d["state"], d["reason"]) == \
        (253, 0x14, 48, 1, 2, "x (y)")
    d = parse_status("HANDSHAKE ok version=TLS 1.3 suite=TLS_AES_128_GCM_SHA256 (0x1301) "
                     "resumed=no peer=CN=a b flags=none sni=-")
    assert (d["version"], d["suite"], d["resumed"], d["peer"], d["flags"]) == \
        ("TLS1.3", 0x1301, 0, "CN=a b", 0)
    d = parse_status("CLOSED in=12 out=34")
    assert (d["kind"], d["in"], d["out"]) == ("CLOSED", 12, 34)
    assert parse_status("READY port=4433")["port"] == 4433


def test_pki_files(pki):
    for name in ("ca", "server", "server-ec", "client", "client2", "expired", "wildcard",
                 "leaf-inter", "revoked", "ed25519"):
        assert (pki / (name + ".pem")).exists() and (pki / (name + ".key")).exists(), name
    for name in ("ca.der", "crl.pem", "crl.der", "server.key.pk8.der", "server.key.pkcs1.pem",
                 "server-ec.key.sec1.pem", "weak-rsa1024.key", "dsa.key", "encrypted.key",
                 "notca.pem", "leaf-inter-chain.pem"):
        assert (pki / name).exists(), name
    r = subprocess.run(["openssl", "verify", "-CAfile", pki / "ca.pem", pki / "server.pem"],
                       capture_output=True, timeout=10)
    assert r.returncode == 0, r.stderr


@pytest.mark.parametrize("version,flag", VERSIONS)
def test_s_client_msg_parsing(pki, start_openssl_server, run_s_client, version, flag):
    srv = start_openssl_server(["-Verify", "1", "-CAfile", pki / "ca.pem", "-rev"])
    r = run_s_client(srv.port, [flag, "-msg"])
    assert_cert_request_placement(version, server_msgs(r), r)
    alert = 40 if version == "TLS1.2" else 116
    assert alert in r.received_alert_numbers(), r.describe()
    assert any(d == "<<<" and lvl == "fatal" for d, lvl, _ in r.alerts()), r.alerts()
    assert not r.echoed


@pytest.mark.parametrize("version,flag", VERSIONS)
def test_s_client_ca_names_parsing(pki, start_openssl_server, run_s_client, version, flag):
    srv = start_openssl_server(["-Verify", "1", "-CAfile", pki / "ca.pem", "-rev"])
    # -rev reverses the line, so the token does not come back: only wait briefly
    r = run_s_client(srv.port, [flag] + cert_args(pki, "client"), timeout=3)
    assert any("chipssl Test Root CA" in n for n in ca_names(r)), r.describe()
    assert "lsspihc" in r.out, r.describe()


@pytest.mark.parametrize("version,flag", VERSIONS)
def test_s_client_against_python_echo(pki, start_py_server, run_s_client, version, flag):
    srv = start_py_server()
    r = run_s_client(srv.port, [flag, "-msg"])
    assert r.echoed, r.describe()
    v, suite = r.negotiated()
    assert v == version and suite in SUITES, r.describe()
    if version == "TLS1.3":
        assert ("<<<", "NewSessionTicket") in r.handshake_msgs()
    assert "CertificateRequest" not in server_msgs(r)


@pytest.mark.parametrize("version", ["TLS1.2", "TLS1.3"])
def test_gnutls_cli_against_python_echo(start_py_server, run_gnutls_cli, version):
    srv = start_py_server()
    suites = [0xC030, 0xC02F] if version == "TLS1.2" else [0x1302, 0x1301]
    r = run_gnutls_cli(srv.port, ["--priority", gnutls_priority(suites, version)])
    assert r.echoed, r.describe()
    v, cipher = gnutls_description_cipher(r.out)
    assert v == version and cipher in {SUITES[s][1] for s in suites}, r.describe()


def test_s_client_reconnect_parsing(start_openssl_server, run_s_client):
    srv = start_openssl_server([])
    r = run_s_client(srv.port, ["-tls1_2", "-reconnect"], token=None, timeout=20)
    lines = r.out.splitlines()
    assert sum(ln.startswith("New, ") for ln in lines) == 1, r.describe()
    assert sum(ln.startswith("Reused, ") for ln in lines) == 5, r.describe()


def test_s_client_tls11_sends_client_hello(start_openssl_server, run_s_client):
    srv = start_openssl_server(["-tls1_2"])
    r = run_s_client(srv.port, ["-msg", "-tls1_1", "-cipher", "DEFAULT@SECLEVEL=0"])
    assert (">>>", "ClientHello") in r.handshake_msgs(), r.describe()
    assert 70 in r.received_alert_numbers(), r.describe()


def test_python_server_records_sni(pki, start_py_server):
    srv = start_py_server()
    ctx = py_client_context(pki)
    for name in ("localhost", None):
        with socket.create_connection(("127.0.0.1", srv.port), timeout=10) as raw:
            with ctx.wrap_socket(raw, server_hostname=name or "127.0.0.1") as tls:
                tls.sendall(b"x")
                assert tls.recv(10) == b"x"
    recs = srv.wait_records(2)
    assert [r["sni"] for r in recs] == ["localhost", None], recs
