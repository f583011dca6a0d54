"""Protocol versions (the version rule), SNI, server-name matching and IPv6.

Spec: API.md 5 (SSL_SessionNew `version`), 6 (SSL_ClientStart srvCommonName:
SAN DNS/IP entries, or the CN when there are none; `*` within one label; a DNS
name is also sent as SNI).
"""

import socket

import pytest

from conftest import (ALERT_PROTOCOL_VERSION, UNMATCHED, have_ipv6, py_client_context,
                      url)

OLD = ["-cipher", "DEFAULT@SECLEVEL=0"]   # let s_client itself offer TLS 1.0/1.1

# server mask, s_client args, negotiated version (None: refused)
SERVER_VERSION_CASES = [
    ("0x18", [], "TLS1.3"),
    ("0x18", ["-tls1_2"], "TLS1.2"),
    ("0x03", [], "TLS1.3"),           # the original's "version = 3"
    ("0x03", ["-tls1_2"], "TLS1.2"),
    ("0x01", [], "TLS1.3"),
    ("0x07", ["-tls1_2"], "TLS1.2"),
    ("0x08", [], "TLS1.2"),
    ("0x08", ["-tls1_2"], "TLS1.2"),
    ("0x08", ["-tls1_3"], None),
    ("0x0C", ["-tls1_3"], None),      # obsolete bits beside TLS1.2 are ignored
    ("0x10", [], "TLS1.3"),
    ("0x10", ["-tls1_2"], None),
    ("0x1F", ["-tls1_1"] + OLD, None),
    ("0x03", ["-tls1_1"] + OLD, None),
    ("0x07", ["-tls1_1"] + OLD, None),
    ("0x07", ["-tls1"] + OLD, None),
    ("0x18", ["-tls1_1"] + OLD, None),
]


@pytest.mark.parametrize("mask,cargs,expected",
                         [pytest.param(m, a, e, id="%s-%s" % (m, "_".join(a[:1]) or "any"))
                          for m, a, e in SERVER_VERSION_CASES])
def test_echo_server_version_rule(start_echo_server, run_s_client, mask, cargs, expected):
    srv = start_echo_server(["-v", mask])
    r = run_s_client(srv.port, ["-msg"] + cargs)
    # the ClientHello really went out (s_client did not give up by itself)
    assert (">>>", "ClientHello") in r.handshake_msgs(), r.describe()
    conn = srv.wait_conn()
    if expected:
        assert conn["status"] == "ok", conn["line"] + "\n" + r.describe()
        assert conn["version"] == expected, conn["line"]
        assert r.echoed, r.describe()
        assert r.negotiated()[0] == expected, r.describe()
    else:
        assert conn["status"] == "failed", conn["line"] + "\n" + r.describe()
        assert not r.echoed, r.describe()
        assert conn["alert"] == ALERT_PROTOCOL_VERSION, conn["line"]
        assert conn["sent"] == 1, conn["line"]


# https_get mask, s_server args, negotiated version (None: refused)
CLIENT_VERSION_CASES = [
    ("0x18", [], "TLS1.3"),
    ("0x03", [], "TLS1.3"),
    ("0x03", ["-tls1_2"], "TLS1.2"),
    ("0x01", ["-tls1_2"], "TLS1.2"),
    ("0x08", [], "TLS1.2"),
    ("0x08", ["-tls1_3"], None),
    ("0x10", ["-tls1_2"], None),
    ("0x10", [], "TLS1.3"),
    ("0x0C", ["-tls1_3"], None),
]


@pytest.mark.parametrize("mask,sargs,expected",
                         [pytest.param(m, a, e, id="%s-%s" % (m, "_".join(a) or "any"))
                          for m, a, e in CLIENT_VERSION_CASES])
def test_https_get_version_rule(pki, start_openssl_server, run_https_get, mask, sargs,
                                expected):
    srv = start_openssl_server(["-www"] + sargs)
    r = run_https_get(["-a", pki / "ca.pem", "-v", mask, url("localhost", srv.port)])
    assert len(r.handshakes) == 1, r.describe()
    hs = r.handshakes[0]
    if expected:
        assert r.rc == 0, r.describe()
        assert hs["version"] == expected, r.describe()
    else:
        assert r.rc == 2, r.describe()
        assert hs["status"] == "failed", r.describe()


@pytest.mark.parametrize("mask", ["0", "0x20", "0x40"])
def test_https_get_invalid_mask_is_setup_error(pki, start_openssl_server, run_https_get,
                                               mask):
    """SSL_SessionNew refuses the mask (API_EINVAL): exit 1, no handshake."""
    srv = start_openssl_server(["-www"])
    r = run_https_get(["-a", pki / "ca.pem", "-v", mask, url("localhost", srv.port)])
    assert r.rc == 1, r.describe()
    assert not r.handshakes, r.describe()


# --- SNI --------------------------------------------------------------------

# id, URL host, extra https_get args, SNI the server must see (None: no SNI; https_get
# prints it as sni=, "-" for none, on a successful handshake), handshake ok
SNI_CASES = [
    ("dns-name", "localhost", [], "localhost", True),
    ("ipv4-literal", "127.0.0.1", [], None, True),
    ("name-given", "127.0.0.1", ["-N", "localhost"], "localhost", True),
    ("name-mismatch-still-sent", "127.0.0.1", ["-N", "other.test"], "other.test", False),
    ("no-name", "localhost", ["-x"], None, True),
    ("ip-as-name", "localhost", ["-N", "127.0.0.1"], None, True),
]


@pytest.mark.parametrize("host,extra,sni,ok", [pytest.param(*c[1:], id=c[0])
                                              for c in SNI_CASES])
def test_https_get_sends_sni(pki, start_py_server, run_https_get, host, extra, sni, ok):
    srv = start_py_server()
    data = "sni-check"
    r = run_https_get(["-a", pki / "ca.pem", "-d", data] + extra + [url(host, srv.port)])
    recs = srv.wait_records(1)
    assert recs, "the Python server saw no connection\n" + r.describe()
    assert recs[0]["sni"] == sni, (recs[0], r.describe())
    if ok:
        assert r.rc == 0, r.describe()
        assert r.stdout == data.encode(), r.describe()
        # https_get prints the SNI it sent ("-" for none): the one the server saw
        assert len(r.handshakes) == 1, r.describe()
        assert r.handshakes[0]["sni"] == (sni or "-"), r.describe()
    else:
        assert r.rc == 2, r.describe()
        assert r.handshakes[0]["flags"] & UNMATCHED, r.describe()


@pytest.mark.parametrize("cargs,sni", [(["-servername", "foo.example"], "foo.example"),
                                       (["-servername", "localhost"], "localhost"),
                                       (["-noservername"], "-")])
def test_echo_server_reports_sni(start_echo_server, run_s_client, cargs, sni):
    srv = start_echo_server()
    r = run_s_client(srv.port, cargs)
    assert r.echoed, r.describe()
    conn = srv.wait_conn()
    assert conn["status"] == "ok", conn["line"]
    assert conn["sni"] == sni, conn["line"]


# --- name matching ------------------------------------------------------------

# s_server certificate, name given with -N, accepted
NAME_CASES = [
    ("server", "localhost", True),
    ("server", "LOCALHOST", True),
    ("server", "127.0.0.1", True),        # IP SAN
    ("server", "127.0.0.2", False),
    ("server", "other.test", False),
    ("cnonly", "cnonly.test", True),      # no SAN: the CN counts
    ("cnonly", "CNonly.Test", True),
    ("cnonly", "other.test", False),
    ("wildcard", "a.wild.test", True),
    ("wildcard", "Foo.WILD.test", True),
    ("wildcard", "a.b.wild.test", False),  # '*' is one label
    ("wildcard", "wild.test", False),
    ("wildcard", "a.wild.test.evil", False),
    ("partial", "foo.test", True),         # f*.test
    ("partial", "f1.test", True),
    ("partial", "bar.test", False),
    ("partial", "foo.bar.test", False),
    ("wrongname", "wrong.example", True),
    ("wrongname", "localhost", False),
]


@pytest.mark.parametrize("cert,name,ok", [pytest.param(c, n, o, id="%s-%s" % (c, n))
                                          for c, n, o in NAME_CASES])
def test_name_matching(pki, start_openssl_server, run_https_get, cert, name, ok):
    srv = start_openssl_server(["-www"], cert=cert)
    r = run_https_get(["-a", pki / "ca.pem", "-N", name, url("127.0.0.1", srv.port)])
    assert len(r.handshakes) == 1, r.describe()
    if ok:
        assert r.rc == 0, r.describe()
        assert r.handshakes[0]["status"] == "ok", r.describe()
    else:
        assert r.rc == 2, r.describe()
        assert r.handshakes[0]["status"] == "failed", r.describe()
        assert r.handshakes[0]["flags"] & UNMATCHED, r.describe()


# --- IPv6 ---------------------------------------------------------------------

needs_ipv6 = pytest.mark.skipif(not have_ipv6(), reason="no IPv6 loopback")


@needs_ipv6
def test_ipv6_https_get_to_echo_server(pki, start_echo_server, run_https_get):
    srv = start_echo_server(bind="::1")
    data = "hello over IPv6"
    r = run_https_get(["-a", pki / "ca.pem", "-d", data, url("::1", srv.port)])
    assert r.rc == 0, r.describe() + "\n" + srv.describe()
    assert r.stdout == data.encode(), r.describe()
    conn = srv.wait_conn()
    assert conn["status"] == "ok", conn["line"]
    closed = srv.wait_closed()
    assert closed and closed[0]["in"] == len(data) and closed[0]["out"] == len(data), closed


@needs_ipv6
def test_ipv6_s_client_to_echo_server(start_echo_server, run_s_client):
    srv = start_echo_server(bind="::1")
    r = run_s_client(srv.port, [], host="::1")
    assert r.echoed, r.describe()
    assert srv.wait_conn()["status"] == "ok"


@needs_ipv6
def test_ipv6_python_client_to_echo_server(pki, start_echo_server):
    srv = start_echo_server(bind="::1")
    ctx = py_client_context(pki)
    with socket.create_connection(("::1", srv.port), timeout=10) as raw:
        with ctx.wrap_socket(raw, server_hostname="::1") as tls:   # IP SAN ::1
            tls.sendall(b"ping6")
            got = b""
            while len(got) < 5:
                d = tls.recv(100)
                if not d:
                    break
                got += d
            assert got == b"ping6"
    assert srv.wait_conn()["status"] == "ok"


@needs_ipv6
def test_ipv6_https_get_to_s_server(pki, start_openssl_server, run_https_get):
    srv = start_openssl_server(["-www"], bind="::1")
    r = run_https_get(["-a", pki / "ca.pem", url("::1", srv.port)])
    assert r.rc == 0, r.describe()
    assert b"HTTP/1.0 200 ok" in r.stdout, r.describe()


@needs_ipv6
def test_ipv6_name_mismatch(pki, start_openssl_server, run_https_get):
    """The URL host ::1 is the name checked: wrongname.pem has no IP SAN."""
    srv = start_openssl_server(["-www"], cert="wrongname", bind="::1")
    r = run_https_get(["-a", pki / "ca.pem", url("::1", srv.port)])
    assert r.rc == 2, r.describe()
    assert r.handshakes[0]["flags"] & UNMATCHED, r.describe()
