"""Option 2 (SSL_OPT_SERVER_PROPOSALS) and SSL_SessionProp on tls_echo_server.

Spec (API.md 5): off, the server takes the first suite of the client's
ClientHello list that is also in its own list (client preference); on, the
first suite of its own list that the client offered (server preference):
server 1,2,3,4 and client 4,3,2 gives 2. Same for TLS 1.2 and TLS 1.3. The
server accepts only the suites of its list.

The server certificate is RSA (server.pem), so the TLS 1.2 suites are ECDHE-RSA.
The negotiated suite is read from the server's CONN line and from the client.
"""

import re

import pytest

from conftest import (SUITES, gnutls_description_cipher, gnutls_priority, suite_hex,
                      suites_arg, url)

# id, version, server list, client list, expected with option 2 off, with option 2 on
CASES = [
    # the spec's example: server 1,2,3,4, client 4,3,2
    ("tls12-spec-example", "TLS1.2",
     [0xC02F, 0xC030, 0xCCA8, 0xC027], [0xC027, 0xCCA8, 0xC030], 0xC027, 0xC030),
    ("tls12-two-common", "TLS1.2",
     [0xC027, 0xCCA8], [0xC030, 0xCCA8, 0xC027], 0xCCA8, 0xC027),
    ("tls12-mixed-server-list", "TLS1.2",
     [0x1301, 0xC030, 0xC02F], [0xC02F, 0xC030], 0xC02F, 0xC030),
    ("tls13-spec-example", "TLS1.3",
     [0x1301, 0x1302, 0x1303, 0x1304], [0x1304, 0x1303, 0x1302], 0x1304, 0x1302),
    ("tls13-two-common", "TLS1.3",
     [0x1303, 0x1301], [0x1301, 0x1302, 0x1303], 0x1301, 0x1303),
    ("tls13-mixed-server-list", "TLS1.3",
     [0xC02F, 0x1302, 0x1301], [0x1301, 0x1302], 0x1301, 0x1302),
]
# ECDSA server certificate (server-ec.pem)
EC_CASES = [
    ("tls12-ecdsa", "TLS1.2",
     [0xC02B, 0xC02C, 0xCCA9], [0xCCA9, 0xC02C], 0xCCA9, 0xC02C),
]

PARAMS = ([pytest.param(*c[1:], "server", id=c[0]) for c in CASES]
          + [pytest.param(*c[1:], "server-ec", id=c[0]) for c in EC_CASES])
OPT2 = [pytest.param(False, id="opt2-off"), pytest.param(True, id="opt2-on")]


def start(start_echo_server, server_list, opt2, cert="server"):
    args = ["-s", suites_arg(server_list)]
    if opt2:
        args += ["-o", "2"]
    return start_echo_server(args, cert=cert)


def check_server(srv, version, expected):
    conn = srv.wait_conn()
    assert conn["status"] == "ok", conn["line"] + "\n" + srv.describe()
    assert conn["version"] == version, conn["line"]
    assert conn["suite"] == expected, "server chose %s, expected %s: %s" % (
        suite_hex(conn["suite"]) if isinstance(conn["suite"], int) else conn["suite"],
        suite_hex(expected), conn["line"])


@pytest.mark.parametrize("opt2", OPT2)
@pytest.mark.parametrize("version,server_list,client_list,exp_off,exp_on,cert", PARAMS)
def test_openssl_s_client(start_echo_server, run_s_client, opt2, version, server_list,
                          client_list, exp_off, exp_on, cert):
    expected = exp_on if opt2 else exp_off
    srv = start(start_echo_server, server_list, opt2, cert)
    names = ":".join(SUITES[s][0] for s in client_list)
    if version == "TLS1.2":
        cargs = ["-tls1_2", "-cipher", names]
    else:
        cargs = ["-tls1_3", "-ciphersuites", names]
    r = run_s_client(srv.port, cargs)
    check_server(srv, version, expected)
    assert r.echoed, r.describe()
    assert r.negotiated() == (version, expected), r.describe()


@pytest.mark.parametrize("opt2", OPT2)
@pytest.mark.parametrize("version,server_list,client_list,exp_off,exp_on,cert", PARAMS)
def test_gnutls_cli(start_echo_server, run_gnutls_cli, opt2, version, server_list,
                    client_list, exp_off, exp_on, cert):
    expected = exp_on if opt2 else exp_off
    srv = start(start_echo_server, server_list, opt2, cert)
    r = run_gnutls_cli(srv.port, ["--priority", gnutls_priority(client_list, version)])
    check_server(srv, version, expected)
    assert r.echoed, r.describe()
    ver, cipher = gnutls_description_cipher(r.out)
    assert (ver, cipher) == (version, SUITES[expected][1]), r.describe()


@pytest.mark.parametrize("version,flag,opt", [("TLS1.2", "-cipher", "-tls1_2"),
                                              ("TLS1.3", "-ciphersuites", "-tls1_3")])
def test_no_common_suite_refused(start_echo_server, run_s_client, version, flag, opt):
    """The server accepts only the suites of its list."""
    if version == "TLS1.2":
        srv = start_echo_server(["-s", "0xC02F"])
        client = "ECDHE-RSA-AES256-GCM-SHA384"
    else:
        srv = start_echo_server(["-s", "0x1301"])
        client = "TLS_AES_256_GCM_SHA384"
    r = run_s_client(srv.port, [opt, flag, client])
    assert not r.echoed, r.describe()
    conn = srv.wait_conn()
    assert conn["status"] == "failed", conn["line"]
    assert conn["alert"] == 40, conn["line"]   # handshake_failure
    assert conn["sent"] == 1, conn["line"]


# --- the client side: https_get -s -------------------------------------------

# https_get list, s_server args, expected suite. openssl s_server uses the
# client's preference unless -serverpref, so it shows the order https_get sent.
CLIENT_ORDER_CASES = [
    ("tls13-order-a", [0x1302, 0x1301], [], "TLS1.3", 0x1302),
    ("tls13-order-b", [0x1301, 0x1302], [], "TLS1.3", 0x1301),
    ("tls13-chacha-first", [0x1303, 0x1301, 0x1302], [], "TLS1.3", 0x1303),
    ("tls12-order-a", [0xC030, 0xC02F], [], "TLS1.2", 0xC030),
    ("tls12-order-b", [0xC027, 0xC030, 0xC02F], [], "TLS1.2", 0xC027),
    ("no-tls13-suite-means-tls12", [0xC02F], [], "TLS1.2", 0xC02F),
    ("no-tls12-suite-means-tls13-only", [0x1301], ["-tls1_2"], None, None),
    ("mixed-list-tls12-server", [0x1302, 0xCCA8, 0xC02F], ["-tls1_2"], "TLS1.2", 0xCCA8),
]


@pytest.mark.parametrize("suites,sargs,version,expected",
                         [pytest.param(*c[1:], id=c[0]) for c in CLIENT_ORDER_CASES])
def test_https_get_offers_its_list_in_order(pki, start_openssl_server, run_https_get, suites,
                                            sargs, version, expected):
    srv = start_openssl_server(["-www", "-ciphersuites",
                                "TLS_AES_128_GCM_SHA256:TLS_AES_256_GCM_SHA384:"
                                "TLS_CHACHA20_POLY1305_SHA256"] + sargs)
    r = run_https_get(["-a", pki / "ca.pem", "-s", suites_arg(suites),
                       url("localhost", srv.port)])
    assert len(r.handshakes) == 1, r.describe()
    hs = r.handshakes[0]
    if expected is None:
        assert r.rc == 2 and hs["status"] == "failed", r.describe()
        return
    assert r.rc == 0, r.describe()
    assert (hs["version"], hs["suite"]) == (version, expected), r.describe()
    assert ("Cipher    : " + SUITES[expected][0]).encode() in r.stdout, r.describe()


@pytest.mark.parametrize("suites", ["0x0005", "0x000A", "0x0000", "0xC02F,0x0004", "0x1234"],
                         ids=["RC4", "3DES", "NULL", "list-with-RC4", "unknown"])
def test_https_get_insecure_or_unknown_suite_is_setup_error(pki, start_openssl_server,
                                                            run_https_get, suites):
    """SSL_SessionProp refuses insecure and unknown suites (API_EINVAL)."""
    srv = start_openssl_server(["-www"])
    r = run_https_get(["-a", pki / "ca.pem", "-s", suites, url("localhost", srv.port)])
    assert r.rc == 1, r.describe()
    assert not r.handshakes, r.describe()


@pytest.mark.parametrize("sargs,cargs,version", [
    (["-s", "0xC02F,0xC030"], [], "TLS1.2"),       # no TLS 1.3 suite: TLS 1.2 only
    (["-s", "0x1301"], [], "TLS1.3"),
    (["-s", "0x1301"], ["-tls1_2"], None),         # no TLS 1.2 suite: TLS 1.3 only
], ids=["tls12-list", "tls13-list", "tls13-list-refuses-tls12"])
def test_echo_server_list_decides_versions(start_echo_server, run_s_client, sargs, cargs,
                                           version):
    srv = start_echo_server(sargs)
    r = run_s_client(srv.port, cargs)
    conn = srv.wait_conn()
    if version:
        assert conn["status"] == "ok" and conn["version"] == version, conn["line"]
        assert r.echoed, r.describe()
    else:
        assert conn["status"] == "failed", conn["line"]
        assert not r.echoed, r.describe()


# --- the order a mixed list is offered in -------------------------------------

# tcpip.h (SSL_SessionProp): a list that mixes versions is offered as its TLS
# 1.3 suites first, then its TLS 1.2 suites, each group in list order. The
# ClientHello is read from `openssl s_server -trace` (the cipher_suites lines
# "{0x13, 0x01} TLS_AES_128_GCM_SHA256"); the renegotiation SCSV 0x00FF the
# engine appends is not part of the list.
_TRACE_SUITE_RE = re.compile(r"^\s+\{0x([0-9A-Fa-f]{2}), 0x([0-9A-Fa-f]{2})\}")
SCSV = 0x00FF


def client_hello_suites(lines):
    """IANA numbers of the cipher_suites of the first ClientHello in
    `openssl s_server -trace` output lines, or None if not (yet) complete."""
    in_hello = False
    suites = None
    for ln in lines:
        if not in_hello:
            in_hello = ln.strip().startswith("ClientHello")
            continue
        if suites is None:
            if ln.strip().startswith("cipher_suites"):
                suites = []
            continue
        m = _TRACE_SUITE_RE.match(ln)
        if not m:
            return suites if suites else None
        suites.append(int(m.group(1) + m.group(2), 16))
    return None


def tls13_first(suites):
    return [s for s in suites if s >> 8 == 0x13] + [s for s in suites if s >> 8 != 0x13]


OFFER_ORDER_CASES = [
    # (id, https_get list, offered order)
    ("mixed-tls12-first", [0xC02F, 0x1301, 0xC030, 0x1302], [0x1301, 0x1302, 0xC02F, 0xC030]),
    ("mixed-reversed", [0xC030, 0x1302, 0xC02F, 0x1301], [0x1302, 0x1301, 0xC030, 0xC02F]),
    ("mixed-tls13-last", [0xCCA8, 0xC027, 0xC030, 0x1303], [0x1303, 0xCCA8, 0xC027, 0xC030]),
    ("mixed-interleaved", [0x1302, 0xC028, 0x1303, 0xCCA8, 0x1301],
     [0x1302, 0x1303, 0x1301, 0xC028, 0xCCA8]),
    ("tls12-only-list", [0xC028, 0xCCA8, 0xC02F], [0xC028, 0xCCA8, 0xC02F]),
    ("tls13-only-list", [0x1303, 0x1301], [0x1303, 0x1301]),
]


def test_offer_order_helpers():
    """The parser and the rule on fixed input (no programs needed)."""
    trace = ["Received Record", "    ClientHello, Length=250", "      session_id (len=0):",
             "      cipher_suites (len=6)", "        {0x13, 0x02} TLS_AES_256_GCM_SHA384",
             "        {0xC0, 0x2F} TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256",
             "        {0x00, 0xFF} TLS_EMPTY_RENEGOTIATION_INFO_SCSV",
             "      compression_methods (len=1)"]
    assert client_hello_suites(trace) == [0x1302, 0xC02F, 0x00FF]
    assert client_hello_suites(trace[:5]) is None      # block not finished yet
    for _, given, offered in OFFER_ORDER_CASES:
        assert tls13_first(given) == offered


@pytest.mark.parametrize("suites,offered", [pytest.param(*c[1:], id=c[0])
                                            for c in OFFER_ORDER_CASES])
def test_https_get_mixed_list_offer_order(pki, start_openssl_server, run_https_get, suites,
                                          offered):
    srv = start_openssl_server(["-www", "-trace", "-ciphersuites",
                                "TLS_AES_128_GCM_SHA256:TLS_AES_256_GCM_SHA384:"
                                "TLS_CHACHA20_POLY1305_SHA256"])
    r = run_https_get(["-a", pki / "ca.pem", "-s", suites_arg(suites),
                       url("localhost", srv.port)])
    seen = srv.wait_for(client_hello_suites)
    assert seen, "no ClientHello cipher_suites in the trace\n" + srv.describe()
    assert [s for s in seen if s != SCSV] == offered, "offered %s, want %s\n%s" % (
        suites_arg(seen), suites_arg(offered), r.describe())
    # s_server follows the client's preference: the first suite offered wins
    assert r.rc == 0 and len(r.handshakes) == 1, r.describe()
    hs = r.handshakes[0]
    assert (hs["version"], hs["suite"]) == (SUITES[offered[0]][4], offered[0]), r.describe()
