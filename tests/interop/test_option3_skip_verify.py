"""Option 3 (SSL_OPT_SKIP_CERT_VALIDATION), client side (https_get against
openssl s_server) and server side (tls_echo_server verifying client
certificates of openssl s_client).

Spec (API.md 5): a received certificate is accepted without tracing it back to
a root (no chain, trust or expiry check). A client still checks the name given
to SSL_ClientStart, if any; signatures are always checked. Without option 3 a
bad certificate fails the handshake, and the check flags say why.
"""

import pytest

from conftest import (EXPIRED, UNKNOWNCA, UNMATCHED, cert_args, url)

OPT3 = [pytest.param(False, id="opt3-off"), pytest.param(True, id="opt3-on")]

# id, s_server certificate, extra s_server args (PKI names), flag expected
# without option 3 (None: accepted), accepted with option 3
SERVER_CASES = [
    ("control-server", "server", [], None, True),
    ("control-ecdsa", "server-ec", [], None, True),
    ("control-chain-via-intermediate", "leaf-inter", ["-cert_chain", "inter-ca"], None, True),
    ("self-signed", "selfsigned", [], UNKNOWNCA, True),
    ("expired", "expired", [], EXPIRED, True),
    ("unknown-ca", "server-unknownca", [], UNKNOWNCA, True),
    ("intermediate-not-sent", "leaf-inter", [], UNKNOWNCA, True),
    ("wrong-name", "wrongname", [], UNMATCHED, False),
]


def s_server_args(pki, extra):
    out = []
    for a in extra:
        out.append(a if a.startswith("-") else pki / (a + ".pem"))
    return out


@pytest.mark.parametrize("opt3", OPT3)
@pytest.mark.parametrize("cert,extra,flag_off,ok_on",
                         [pytest.param(*c[1:], id=c[0]) for c in SERVER_CASES])
def test_https_get_verifies_server(pki, start_openssl_server, run_https_get, opt3, cert,
                                   extra, flag_off, ok_on):
    srv = start_openssl_server(["-www"] + s_server_args(pki, extra), cert=cert)
    args = ["-a", pki / "ca.pem"] + (["-o", "3"] if opt3 else [])
    r = run_https_get(args + [url("localhost", srv.port)])
    accepted = ok_on if opt3 else flag_off is None
    assert len(r.handshakes) == 1, r.describe()
    hs = r.handshakes[0]
    if accepted:
        assert r.rc == 0, r.describe()
        assert hs["status"] == "ok", r.describe()
        assert b"HTTP/1.0 200 ok" in r.stdout, r.describe()
    else:
        assert r.rc == 2, r.describe()
        assert hs["status"] == "failed", r.describe()
        expected = flag_off if not opt3 else UNMATCHED
        assert hs["flags"] & expected, "flags 0x%02x lack 0x%02x\n%s" % (
            hs["flags"], expected, r.describe())
        assert r.stdout == b"", r.describe()


@pytest.mark.parametrize("opt3", OPT3)
@pytest.mark.parametrize("cert", ["wrongname", "server"])
def test_https_get_no_name_check(pki, start_openssl_server, run_https_get, opt3, cert):
    """-x (NULL srvCommonName): no name check, the chain is still checked."""
    srv = start_openssl_server(["-www"], cert=cert)
    args = ["-a", pki / "ca.pem", "-x"] + (["-o", "3"] if opt3 else [])
    r = run_https_get(args + [url("localhost", srv.port)])
    assert r.rc == 0, r.describe()
    assert r.handshakes and r.handshakes[0]["status"] == "ok", r.describe()


@pytest.mark.parametrize("opt3", OPT3)
def test_https_get_no_name_check_still_verifies_chain(pki, start_openssl_server,
                                                      run_https_get, opt3):
    srv = start_openssl_server(["-www"], cert="server-unknownca")
    args = ["-a", pki / "ca.pem", "-x"] + (["-o", "3"] if opt3 else [])
    r = run_https_get(args + [url("localhost", srv.port)])
    if opt3:
        assert r.rc == 0, r.describe()
    else:
        assert r.rc == 2, r.describe()
        assert r.handshakes[0]["flags"] & UNKNOWNCA, r.describe()


def test_https_get_option3_still_reports_flags(pki, start_openssl_server, run_https_get):
    """tcpip.h: with option 3 the certificate's flags are still reported."""
    srv = start_openssl_server(["-www"], cert="server-unknownca")
    r = run_https_get(["-a", pki / "ca.pem", "-o", "3", url("localhost", srv.port)])
    assert r.rc == 0, r.describe()
    assert r.handshakes[0]["flags"] & UNKNOWNCA, r.describe()


def test_https_get_option3_without_any_ca(pki, start_openssl_server, run_https_get):
    """Option 3 with an empty PKI: nothing to trace back to, still accepted."""
    srv = start_openssl_server(["-www"], cert="selfsigned")
    r = run_https_get(["-o", "3", url("localhost", srv.port)])
    assert r.rc == 0, r.describe()


# --- server side: client certificates -----------------------------------------

VERSIONS = [pytest.param("-tls1_2", id="TLS1.2"), pytest.param("-tls1_3", id="TLS1.3")]

# id, client certificate, chain, flag expected without option 3 (None: accepted)
CLIENT_CASES = [
    ("trusted", "client", None, None),
    ("untrusted-ca", "client-untrusted", None, UNKNOWNCA),
    ("self-signed", "selfsigned", None, UNKNOWNCA),
    ("expired", "expired", None, EXPIRED),
    ("intermediate-not-sent", "client-inter", None, UNKNOWNCA),
]


@pytest.mark.parametrize("flag", VERSIONS)
@pytest.mark.parametrize("opt3", OPT3)
@pytest.mark.parametrize("cert,chain,flag_off", [pytest.param(*c[1:], id=c[0])
                                                 for c in CLIENT_CASES])
def test_echo_server_verifies_client(pki, start_echo_server, run_s_client, flag, opt3,
                                     cert, chain, flag_off):
    srv = start_echo_server(["-a", pki / "ca.pem", "-o", "1,3" if opt3 else "1"])
    r = run_s_client(srv.port, [flag] + cert_args(pki, cert, chain))
    conn = srv.wait_conn()
    if opt3 or flag_off is None:
        assert conn["status"] == "ok", conn["line"] + "\n" + r.describe()
        assert r.echoed, r.describe()
        assert conn["peer"] not in ("", "-"), conn["line"]
    else:
        assert conn["status"] == "failed", conn["line"] + "\n" + r.describe()
        assert not r.echoed, r.describe()
        assert conn["flags"] & flag_off, "flags 0x%02x lack 0x%02x: %s" % (
            conn["flags"], flag_off, conn["line"])
        assert conn["sent"] == 1, conn["line"]


def test_echo_server_option3_still_reports_flags(pki, start_echo_server, run_s_client):
    srv = start_echo_server(["-a", pki / "ca.pem", "-o", "1,3"])
    r = run_s_client(srv.port, cert_args(pki, "client-untrusted"))
    conn = srv.wait_conn()
    assert conn["status"] == "ok", conn["line"]
    assert r.echoed, r.describe()
    assert conn["flags"] & UNKNOWNCA, conn["line"]



# --- the OS trust store (-S, PKI_RootCABundleAdd) -------------------------------

@pytest.mark.parametrize("with_ca", [False, True], ids=["store-only", "store-and-ca"])
def test_https_get_os_trust_store(pki, start_openssl_server, run_https_get, with_ca):
    """The test CA is not in the OS store: -S alone refuses, -S -a ca.pem accepts."""
    srv = start_openssl_server(["-www"])
    args = ["-S"] + (["-a", pki / "ca.pem"] if with_ca else [])
    r = run_https_get(args + [url("localhost", srv.port)])
    if with_ca:
        assert r.rc == 0, r.describe()
    else:
        assert r.rc == 2, r.describe()
        assert r.handshakes[0]["flags"] & UNKNOWNCA, r.describe()
