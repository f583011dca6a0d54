#!/usr/bin/env python3
"""The FTP server on the status page ([WEB] STATUS_PAGE, ../../web/web_stats.h):
one chipd runs the Web and the FTP server from one chip.ini. An FTPS client
(ftplib.FTP_TLS, logged in, PROT P) holds its control connection and a large
RETR on its data connection while the test reads /status?format=json and the
HTML page over HTTPS: both connections are listed with their TLS details,
the data connection resumed; a data connection with a fresh session (522)
and a client that refuses the server are counted by reason; the FTPS
session is listed with option 2 on, and again after a reload (SIGHUP).
A second chipd runs FTP alone (no page): the registry is fed all the same,
and chipd stops cleanly (exit status 0; under ASan: no leak, no error).

Run: CHIPD=build/servers/chipd python3 -m pytest -q servers/ftp/tests/test_ftp_status.py
Every wait is bounded; no result depends on how fast the machine is.
"""
import ftplib
import http.client
import json
import os
import shutil
import signal
import socket
import ssl
import sys
import tempfile
import time

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(HERE, "..", "..", "tests"))
import test_chipd as tc  # noqa: E402  (make_pki, make_root, Chipd, free_port)
from test_ftp_server import FreshFTP, ImplicitFTP, ReuseFTP  # noqa: E402
from test_status_page import Page  # noqa: E402  (the page's rows by port)

TIMEOUT = tc.TIMEOUT
PROPOSALS = [0x1302, 0x1301, 0xC02C, 0xC02B]
SUITES = {0x1301: "TLS_AES_128_GCM_SHA256", 0x1302: "TLS_AES_256_GCM_SHA384",
          0xC02B: "TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256",
          0xC02C: "TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384"}
# What ssl's cipher() calls them.
OPENSSL_NAMES = {"TLS_AES_128_GCM_SHA256": "TLS_AES_128_GCM_SHA256",
                 "TLS_AES_256_GCM_SHA384": "TLS_AES_256_GCM_SHA384",
                 "ECDHE-ECDSA-AES128-GCM-SHA256": "TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256",
                 "ECDHE-ECDSA-AES256-GCM-SHA384": "TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384"}
NOT_RESUMED = "FTP data connection did not resume the control session"
UNKNOWN_CA = "peer refused: unknown CA"


def wait_for(pred, what):
    """Poll pred() until it gives a true value; bounded by TIMEOUT."""
    deadline = time.monotonic() + TIMEOUT
    while True:
        v = pred()
        if v:
            return v
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.05)


def reasons(counters):
    return {f["reason"]: f["count"] for f in counters["failures"]}


class Setup:
    """chipd with FTP (explicit and implicit FTPS, REQUIRE_TLS) and, when
    web, the Web server with the status page."""

    def __init__(self, d, web, name):
        self.d = d
        self.port, self.ftps = tc.free_port(), tc.free_port()
        ftp = (f"BIND = 127.0.0.1\nPORT = {self.port}\nFTPS_PORT = {self.ftps}\n"
               f"USER1 = alice\nPASSWORD1 = secret-pw-7\nROOT1 = {d}/ftproot\n")
        props = ",".join(f"0x{p:04X}" for p in PROPOSALS)
        self.c = tc.Chipd(d, "STATUS_PAGE = /status\n" if web else "ENABLE = 0\nSSL_ENABLE = 0\n",
                          f"PROPOSALS = {props}\n", name=name, ftp=ftp)

    def ctx(self, version):
        ctx = ssl.create_default_context(cafile=f"{self.d}/ca.pem")
        ctx.minimum_version = ctx.maximum_version = version
        return ctx

    def client(self, version, cls=ReuseFTP):
        f = cls(context=self.ctx(version), timeout=TIMEOUT)
        f.connect("127.0.0.1", self.port)
        f.auth()
        f.login("alice", "secret-pw-7")
        f.prot_p()
        return f

    def get(self, path):
        ctx = ssl.create_default_context(cafile=f"{self.d}/ca.pem")
        c = http.client.HTTPSConnection("localhost", self.c.https, timeout=TIMEOUT, context=ctx)
        try:
            c.request("GET", path)
            r = c.getresponse()
            body = r.read()
            assert r.status == 200, (path, r.status)
            return body.decode()
        finally:
            c.close()

    def json(self):
        return json.loads(self.get("/status?format=json"))

    def refuse_server(self):
        """A client that does not trust the server (the system's CAs):
        it ends the handshake on the implicit port with unknown_ca."""
        ctx = ssl.create_default_context(cafile=f"{self.d}/server2.pem")  # not the CA
        s = socket.create_connection(("127.0.0.1", self.ftps), timeout=TIMEOUT)
        with pytest.raises(ssl.SSLCertVerificationError):
            ctx.wrap_socket(s, server_hostname="localhost")
        s.close()

    def fresh_session_522(self, version):
        f = self.client(version, FreshFTP)
        with pytest.raises(ftplib.error_perm, match="^522 "):
            f.retrbinary("RETR hello.txt", lambda b: None)
        f.quit()

    def stop(self):
        rc = self.c.stop()
        err = self.c.stderr_text()
        assert "AddressSanitizer" not in err and "LeakSanitizer" not in err, err
        assert "runtime error" not in err, err
        assert "secret-pw-7" not in err
        return rc


@pytest.fixture(scope="module")
def tmp():
    d = tempfile.mkdtemp(prefix="chipd-ftp-status-")
    tc.make_pki(d)
    tc.make_root(d)
    os.makedirs(f"{d}/ftproot")
    with open(f"{d}/ftproot/hello.txt", "wb") as f:
        f.write(b"hello ftp\n")
    # Larger than any socket buffers on the way: its RETR is still running
    # while the client has read only its start.
    with open(f"{d}/ftproot/huge.bin", "wb") as f:
        f.truncate(64 * 1024 * 1024)
    yield d
    shutil.rmtree(d, ignore_errors=True)


def by_port(j, port):
    rows = [c for c in j["connections"] if c["port"] == port]
    assert len(rows) == 1, (port, j["connections"])
    return rows[0]


@pytest.mark.parametrize("version", [ssl.TLSVersion.TLSv1_3, ssl.TLSVersion.TLSv1_2],
                         ids=["tls13", "tls12"])
def test_ftp_on_the_status_page(tmp, version):
    name = {ssl.TLSVersion.TLSv1_3: "TLS 1.3", ssl.TLSVersion.TLSv1_2: "TLS 1.2"}[version]
    s = Setup(tmp, True, f"status-{version.name}.ini")
    try:
        # The FTPS session, as configured: option 2 on, the PROPOSALS order.
        j = s.json()
        sess = {x["name"]: x for x in j["sessions"]}
        assert set(sess) == {"HTTPS", "FTPS"}
        ftps = sess["FTPS"]
        assert ftps["options"] == {"client_auth": False, "server_proposals": True,
                                   "skip_validation": False}
        assert ftps["versions"] == ["TLS 1.2", "TLS 1.3"]
        assert ftps["proposals"] == [SUITES[p] for p in PROPOSALS]
        assert ftps["id"] != sess["HTTPS"]["id"]
        before = j["counters"]

        f = s.client(version)
        f.voidcmd("TYPE I")
        conn, _ = f.ntransfercmd("RETR huge.bin")
        try:
            got = 0
            while got < 65536:
                b = conn.recv(65536)
                assert b
                got += len(b)
            # The transfer runs (the server waits for us to read on).
            ctrl_port, data_port = f.sock.getsockname()[1], conn.getsockname()[1]
            j = s.json()
            ctrl, data = by_port(j, ctrl_port), by_port(j, data_port)
            suite = OPENSSL_NAMES[f.sock.cipher()[0]]
            assert f.sock.version() == conn.version() == name.replace(" ", "v")
            assert ctrl["service"] == "ftp" and ctrl["peer"] == "127.0.0.1"
            assert (ctrl["version"], ctrl["suite"]) == (name, suite)
            assert ctrl["resumed"] is False
            assert ctrl["sni"] == "localhost" and ctrl["client_certificate"] is None
            assert ctrl["alpn"] is None
            assert ctrl["state"] == "transfer: RETR"
            # AUTH, USER, PASS, PBSZ, PROT, TYPE, PASV answered; RETR's 150
            # is a mark, not its answer; the greeting answers nothing.
            assert ctrl["requests"] == 7
            assert data["service"] == "ftp-data" and data["peer"] == "127.0.0.1"
            assert (data["version"], data["suite"]) == (name, OPENSSL_NAMES[conn.cipher()[0]])
            assert data["resumed"] is True and conn.session_reused
            assert data["state"] == "transfer: RETR"
            assert data["requests"] == 0
            # The user's name is not on the page (it may be public).
            page_text = json.dumps(j)
            assert "alice" not in page_text and "huge.bin" not in page_text
            k = j["counters"]
            assert k["bytes_sent"] - before["bytes_sent"] >= got
            assert k["handshakes"]["resumed"] >= before["handshakes"]["resumed"] + 1
            assert k["requests"]["total"] >= before["requests"]["total"] + 7

            # The HTML page has the same rows.
            html = s.get("/status")
            page = Page(html)
            rc, rd = page.conns[ctrl_port], page.conns[data_port]
            assert rc["Service"].strip() == "ftp" and rd["Service"].strip() == "ftp-data"
            assert rc["State"].strip() == rd["State"].strip() == "transfer: RETR"
            assert rc["Version"].strip() == rd["Version"].strip() == name
            assert rc["Resumed"].strip() == "no" and rd["Resumed"].strip() == "yes"
            assert rc["Cipher suite"].strip() == suite
            assert rc["Requests"].strip() == "7"
            assert "FTPS" in html and "alice" not in html
        finally:
            f.putcmd("ABOR")
            assert f.getline().startswith("426")
            assert f.getline().startswith("226")
            conn.close()
        # ABOR was answered (226 after the transfer's 426): 8 and 9.
        j = s.json()
        ctrl = by_port(j, ctrl_port)
        assert ctrl["requests"] == 9 and ctrl["state"] == "idle"
        assert f.voidcmd("NOOP").startswith("200")
        f.quit()
        wait_for(lambda: not [c for c in s.json()["connections"]
                              if c["port"] in (ctrl_port, data_port)],
                 "the connections to leave the page")

        # Refusals, each counted under its reason.
        s.fresh_session_522(version)
        s.refuse_server()

        def counted():
            k = s.json()["counters"]
            r = reasons(k)
            return k if (r.get(NOT_RESUMED, 0) == reasons(before).get(NOT_RESUMED, 0) + 1 and
                         r.get(UNKNOWN_CA, 0) == reasons(before).get(UNKNOWN_CA, 0) + 1) else None
        after = wait_for(counted, "the failures to be counted")
        assert after["handshakes"]["failed"] == before["handshakes"]["failed"] + 2
        html = s.get("/status")
        assert dict(Page(html).failures)[NOT_RESUMED] == 1

        # Implicit FTPS: TLS details from the first handshake; the greeting
        # answers no command; the user's state, not the user.
        imp = ImplicitFTP(context=s.ctx(version), timeout=TIMEOUT)
        imp.connect("127.0.0.1", s.ftps)
        try:
            row = by_port(s.json(), imp.sock.getsockname()[1])
            assert (row["service"], row["state"], row["requests"]) == ("ftp", "login", 0)
            assert (row["version"], row["sni"]) == (name, "localhost")
            imp.login("alice", "secret-pw-7")
            row = by_port(s.json(), imp.sock.getsockname()[1])
            assert (row["state"], row["requests"]) == ("idle", 2)
        finally:
            imp.quit()

        # A reload: a new FTPS session, shown in place of the old one.
        s.c.p.send_signal(signal.SIGHUP)

        def new_session():
            ss = [x for x in s.json()["sessions"] if x["name"] == "FTPS"]
            assert len(ss) == 1
            return ss[0] if ss[0]["id"] != ftps["id"] else None
        wait_for(new_session, "the reloaded FTPS session")
        g = s.client(version)
        assert g.retrbinary("RETR hello.txt", lambda b: None).startswith("226")
        g.quit()
    finally:
        assert s.stop() == 0


def test_ftp_alone_no_page(tmp):
    """No Web server: nothing shows the registry, and nothing breaks: the
    same calls run (connections, TLS details, failures, the session and its
    reload), and chipd stops cleanly."""
    s = Setup(tmp, False, "alone.ini")
    try:
        for version in (ssl.TLSVersion.TLSv1_3, ssl.TLSVersion.TLSv1_2):
            f = s.client(version)
            out = []
            assert f.retrbinary("RETR hello.txt", out.append).startswith("226")
            assert b"".join(out) == b"hello ftp\n"
            f.quit()
            s.fresh_session_522(version)
        s.refuse_server()
        s.c.p.send_signal(signal.SIGHUP)
        # A connection held open while chipd stops: its entry leaves too.
        f = s.client(ssl.TLSVersion.TLSv1_3)
        f.voidcmd("NOOP")
    finally:
        assert s.stop() == 0
