#!/usr/bin/env python3
"""The status page ([WEB] STATUS_PAGE) against real clients: Python ssl
connections that stay open (TLS 1.2, TLS 1.3, a resumed one, one with a
client certificate), failed handshakes, and Debian's headless Chromium,
which renders the page over HTTPS (--dump-dom to assert on, --screenshot
for the artifacts).

Chromium trusts the server by its key only: --ignore-certificate-errors-
spki-list with the SHA-256 of the server's SubjectPublicKeyInfo pins that
one key (any other certificate error still fails; the test checks that
without the pin the page does not load). There is no NSS tool here to add
the demo CA to a profile.

Run: CHIPD=build/servers/chipd STATUS_ARTIFACTS=build/artifacts \
     python3 -m unittest -v servers/tests/test_status_page.py
The screenshots go to $STATUS_ARTIFACTS (CTest: <build>/artifacts):
status-page.png (desktop, 1280x900), status-page-phone.png (412x900) and
status-page-phone-full.png (412x2800: the whole page on a phone's width).
Uses the helpers of test_chipd.py (PKI, web root, chip.ini, chipd).
"""
import base64
import hashlib
import html.parser
import http.client
import json
import os
import shutil
import signal
import socket
import ssl
import struct
import subprocess
import tempfile
import time
import unittest

from test_chipd import TIMEOUT, Chipd, make_pki, make_root, raw, run

CHROMIUM = os.environ.get("CHROMIUM", "chromium")
ARTIFACTS = os.environ.get("STATUS_ARTIFACTS", "artifacts")
PROPOSALS = [0x1302, 0x1301, 0xC030, 0xC02C, 0xC02F, 0xC02B]
SUITE_NAMES = {  # IANA names of the suites the configurations propose
    0x1301: "TLS_AES_128_GCM_SHA256",
    0x1302: "TLS_AES_256_GCM_SHA384",
    0xC02B: "TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256",
    0xC02C: "TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384",
    0xC02F: "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256",
    0xC030: "TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384",
}
EVIL_CN = "<script>alert(1)</script>"


def wait_for(pred, what):
    """Poll pred() until true; bounded by TIMEOUT, not by the machine's speed."""
    deadline = time.monotonic() + TIMEOUT
    while True:
        v = pred()
        if v:
            return v
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.05)


def spki_pin(cert):
    pub = run(["openssl", "x509", "-in", cert, "-pubkey", "-noout"]).stdout
    der = run(["openssl", "pkey", "-pubin", "-outform", "der"], input=pub).stdout
    assert der, "no public key"
    return base64.b64encode(hashlib.sha256(der).digest()).decode()


def iana_of(ctx, openssl_name):
    for c in ctx.get_ciphers():
        if c["name"] == openssl_name:
            return c["id"] & 0xFFFF
    raise KeyError(openssl_name)


def png_size(path):
    with open(path, "rb") as f:
        head = f.read(24)
    assert head[:8] == b"\x89PNG\r\n\x1a\n" and head[12:16] == b"IHDR", f"{path} is not a PNG"
    return struct.unpack(">II", head[16:24])


class Page(html.parser.HTMLParser):
    """The parts of the status page the tests read: connection rows (by
    data-port, cells by data-label), failure rows, elements by id, the
    meta tags."""

    def __init__(self, text):
        super().__init__()
        self.conns, self.failures, self.ids, self.meta = {}, [], {}, []
        self._row = self._cell = self._id = None
        self._fail = None
        self.feed(text)

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "meta":
            self.meta.append(a)
        if tag == "tr" and a.get("class") == "conn":
            self._row = self.conns.setdefault(int(a["data-port"]), {})
        elif tag == "tr" and a.get("class") == "failure":
            self._fail = []
        if tag == "td" and self._row is not None:
            self._cell = a.get("data-label")
            self._row[self._cell] = ""
        if tag == "td" and self._fail is not None:
            self._fail.append("")
        if "id" in a:
            self._id = a["id"]
            self.ids[self._id] = ""

    def handle_endtag(self, tag):
        if tag == "tr":
            if self._fail is not None:
                self.failures.append((self._fail[0].strip(), int(self._fail[1])))
            self._row = self._fail = None
        if tag == "td":
            self._cell = None
        if tag in ("td", "b", "div") and self._id:
            self._id = None

    def handle_data(self, data):
        if self._row is not None and self._cell:
            self._row[self._cell] += data
        if self._fail is not None and self._fail:
            self._fail[-1] += data
        if self._id:
            self.ids[self._id] += data


class Balance(html.parser.HTMLParser):
    """Every element closed, in order (void elements aside)."""
    VOID = {"meta", "br", "img", "input", "link", "hr"}

    def __init__(self, text):
        super().__init__()
        self.stack, self.errors = [], []
        self.feed(text)
        self.close()

    def handle_starttag(self, tag, attrs):
        if tag not in self.VOID:
            self.stack.append(tag)

    def handle_endtag(self, tag):
        if self.stack and self.stack[-1] == tag:
            self.stack.pop()
        else:
            self.errors.append((tag, self.getpos()))


class Chromium:
    """Headless Chromium runs in a throw-away HOME and profile; every
    process of it is gone when run() returns."""

    def __init__(self, pin):
        self.home = tempfile.mkdtemp(prefix="chipd-chromium-")
        self.pin = pin

    def run(self, url, *args, pin=True):
        profile = f"{self.home}/profile"
        cmd = ["timeout", "-k", "5", "60", CHROMIUM, "--headless=new", "--no-sandbox", "--disable-gpu",
               "--disable-dev-shm-usage", "--no-first-run", "--hide-scrollbars",
               f"--user-data-dir={profile}", *args]
        if pin:
            cmd.append(f"--ignore-certificate-errors-spki-list={self.pin}")
        cmd.append(url)
        env = dict(os.environ, HOME=self.home)
        p = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, env=env,
                             start_new_session=True)
        try:
            out, _ = p.communicate(timeout=90)
        finally:
            self.kill_all(profile, p)
        return p.returncode, out.decode(errors="replace")

    @staticmethod
    def kill_all(profile, p):
        """Chromium's helpers (zygote, GPU, network) that outlive the
        browser: the process group, then anything with our profile."""
        try:
            os.killpg(p.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        if p.poll() is None:
            p.kill()
            p.wait()
        for pid in os.listdir("/proc"):
            if not pid.isdigit():
                continue
            try:
                with open(f"/proc/{pid}/cmdline", "rb") as f:
                    if profile.encode() in f.read():
                        os.kill(int(pid), signal.SIGKILL)
            except (OSError, ProcessLookupError):
                pass

    def survivors(self):
        n = 0
        for pid in os.listdir("/proc"):
            try:
                with open(f"/proc/{pid}/cmdline", "rb") as f:
                    n += self.home.encode() in f.read()
            except OSError:
                pass
        return n

    def cleanup(self):
        shutil.rmtree(self.home, ignore_errors=True)


def tls_ctx(d, version=None, cert=None):
    ctx = ssl.create_default_context(cafile=f"{d}/ca.pem")
    if version:
        ctx.minimum_version = ctx.maximum_version = version
    if cert:
        ctx.load_cert_chain(f"{d}/{cert}.pem", f"{d}/{cert}.key")
    return ctx


def open_tls(port, ctx, session=None):
    s = socket.create_connection(("127.0.0.1", port), timeout=TIMEOUT)
    return ctx.wrap_socket(s, server_hostname="localhost", session=session)


def request(s, path, headers=""):
    """One keep-alive request on an open socket; returns (status, head, body)."""
    s.sendall(f"GET {path} HTTP/1.1\r\nHost: localhost\r\n{headers}\r\n".encode())
    data = b""
    while b"\r\n\r\n" not in data:
        b = s.recv(65536)
        assert b, "closed before the head"
        data += b
    head, body = data.split(b"\r\n\r\n", 1)
    length = int([h for h in head.split(b"\r\n") if h.lower().startswith(b"content-length:")][0]
                 .split(b":")[1])
    while len(body) < length:
        b = s.recv(65536)
        assert b, "closed in the body"
        body += b
    return int(head.split(b" ")[1]), head.decode(), body


class TestStatusPage(unittest.TestCase):
    """STATUS_PAGE on, open to anyone, HTTP and HTTPS."""

    @classmethod
    def setUpClass(cls):
        cls.d = tempfile.mkdtemp(prefix="chipd-status-")
        make_pki(cls.d)
        make_root(cls.d)
        props = ",".join(f"0x{p:04X}" for p in PROPOSALS)
        cls.srv = Chipd(cls.d, "STATUS_PAGE = /status\nHEADER_TIMEOUT = 2\n", f"PROPOSALS = {props}\n")
        cls.chromium = Chromium(spki_pin(f"{cls.d}/server.pem"))

    @classmethod
    def tearDownClass(cls):
        rc = cls.srv.stop()
        survivors = cls.chromium.survivors()
        cls.chromium.cleanup()
        shutil.rmtree(cls.d, ignore_errors=True)
        if rc != 0:
            raise AssertionError(f"chipd exited with {rc}")
        if survivors:
            raise AssertionError(f"{survivors} chromium processes survived")

    def json(self, suffix="?format=json"):
        ctx = tls_ctx(self.d)
        c = http.client.HTTPSConnection("localhost", self.srv.https, timeout=TIMEOUT, context=ctx)
        c.request("GET", "/status" + suffix)
        r = c.getresponse()
        body = r.read()
        c.close()
        self.assertEqual(r.status, 200)
        self.assertEqual(r.getheader("Content-Type"), "application/json")
        self.assertEqual(r.getheader("Cache-Control"), "no-store")
        return json.loads(body)

    def test_live_page_in_chromium(self):
        d, port = self.d, self.srv.https
        # Connections that stay open: TLS 1.2 (one request on it), TLS 1.3,
        # and a TLS 1.2 one resuming the first one's session.
        ctx12 = tls_ctx(d, ssl.TLSVersion.TLSv1_2)
        c12 = open_tls(port, ctx12)
        self.assertEqual(request(c12, "/hello.txt")[0], 200)
        ctx13 = tls_ctx(d, ssl.TLSVersion.TLSv1_3)
        c13 = open_tls(port, ctx13)
        cres = open_tls(port, ctx12, session=c12.session)
        self.assertTrue(cres.session_reused)
        self.assertEqual(request(cres, "/hello.txt")[0], 200)
        mine = {c12.getsockname()[1]: c12, c13.getsockname()[1]: c13, cres.getsockname()[1]: cres}
        try:
            # Failed handshakes: plain HTTP on the HTTPS port, a TLS 1.0 client.
            before = self.json()["counters"]
            self.assertNotIn(b"200 OK", raw(port, b"GET / HTTP/1.1\r\nHost: x\r\n\r\n"))
            r = run(["openssl", "s_client", "-connect", f"127.0.0.1:{port}", "-tls1",
                     "-cipher", "DEFAULT:@SECLEVEL=0"], input=b"")
            self.assertNotEqual(r.returncode, 0)

            def reasons(k):
                return {f["reason"]: f["count"] for f in k["failures"]}

            def failed_twice():
                k = self.json()["counters"]
                return k if k["handshakes"]["failed"] >= before["handshakes"]["failed"] + 2 else None
            after = wait_for(failed_twice, "the failures to be counted")
            for reason in ("plain HTTP on the HTTPS port",
                           "protocol version: the client offers only old TLS"):
                self.assertEqual(reasons(after).get(reason, 0), reasons(before).get(reason, 0) + 1,
                                 reason)

            def all_established():
                j = self.json()
                conns = {c["port"]: c for c in j["connections"] if c["port"] in mine}
                return j if len(conns) == 3 and all(c["version"] for c in conns.values()) else None
            j = wait_for(all_established, "the handshakes to end on the server")
            conns = {c["port"]: c for c in j["connections"] if c["port"] in mine}
            expect = {}
            for p, s in mine.items():
                ver = {"TLSv1.2": "TLS 1.2", "TLSv1.3": "TLS 1.3"}[s.version()]
                suite = SUITE_NAMES[iana_of(ctx12 if ver == "TLS 1.2" else ctx13, s.cipher()[0])]
                expect[p] = (ver, suite, "yes" if s is cres else "no")
                self.assertEqual(conns[p]["service"], "https")
                self.assertEqual(conns[p]["peer"], "127.0.0.1")
                self.assertEqual((conns[p]["version"], conns[p]["suite"]), (ver, suite))
                self.assertEqual(conns[p]["resumed"], s is cres)
                self.assertIsNone(conns[p]["client_certificate"])
                if s is not cres:  # (a TLS 1.2 resumption need not carry the name again)
                    self.assertEqual(conns[p]["sni"], "localhost")
            self.assertEqual(conns[c12.getsockname()[1]]["requests"], 1)
            self.assertEqual(conns[c13.getsockname()[1]]["requests"], 0)
            self.assertEqual(expect[c13.getsockname()[1]][:2], ("TLS 1.3", "TLS_AES_256_GCM_SHA384"))
            self.assertEqual(expect[c12.getsockname()[1]][0], "TLS 1.2")
            sess = j["sessions"]
            self.assertEqual(len(sess), 1)
            self.assertEqual(sess[0]["name"], "HTTPS")
            self.assertEqual(sess[0]["options"],
                             {"client_auth": False, "server_proposals": True, "skip_validation": False})
            self.assertEqual(sess[0]["proposals"], [SUITE_NAMES[p] for p in PROPOSALS])
            self.assertGreaterEqual(j["counters"]["handshakes"]["resumed"], 1)

            # Chromium renders the page over HTTPS.
            rc, dom = self.chromium.run(f"https://127.0.0.1:{port}/status", "--dump-dom")
            self.assertEqual(rc, 0)
            page = Page(dom)
            for p, (ver, suite, resumed) in expect.items():
                row = page.conns.get(p)
                self.assertIsNotNone(row, f"port {p} not on the page")
                self.assertEqual(row["Peer"].strip(), f"127.0.0.1:{p}")
                self.assertEqual(row["Version"].strip(), ver)
                self.assertEqual(row["Cipher suite"].strip(), suite)
                self.assertEqual(row["Resumed"].strip(), resumed)
                self.assertEqual(row["Client certificate"].strip(), "none")
                self.assertEqual(row["Service"].strip(), "https")
            # The page's own connection (Chromium's) is there too: TLS 1.3
            # with the server's first TLS 1.3 proposal (option 2).
            own = [r for r in page.conns.values() if r["State"].strip() == "serving this page"]
            self.assertEqual(len(own), 1)
            self.assertEqual((own[0]["Version"].strip(), own[0]["Cipher suite"].strip()),
                             ("TLS 1.3", "TLS_AES_256_GCM_SHA384"))
            # (Chromium's own spare connections may add failures meanwhile.)
            fails = dict(page.failures)
            for reason in ("plain HTTP on the HTTPS port",
                           "protocol version: the client offers only old TLS"):
                self.assertEqual(fails[reason], reasons(after)[reason])
            self.assertGreaterEqual(int(page.ids["hs-failed"]), after["handshakes"]["failed"])
            self.assertGreaterEqual(int(page.ids["n-open"]), 4)
            for p in PROPOSALS:
                self.assertIn(SUITE_NAMES[p], dom)
            self.assertIn("Server proposals (option 2)", dom)
            self.assertTrue(any(m.get("http-equiv") == "refresh" for m in page.meta))
            self.assertTrue(any(m.get("name") == "viewport" for m in page.meta))

            # Without the key pin the page does not load: the pin is what Chromium trusts.
            rc, dom = self.chromium.run(f"https://127.0.0.1:{port}/status", "--dump-dom", pin=False)
            self.assertNotIn("Open connections", dom)

            # Screenshots: desktop and phone.
            os.makedirs(ARTIFACTS, exist_ok=True)
            for name, w, h in (("status-page.png", 1280, 900), ("status-page-phone.png", 412, 900),
                               ("status-page-phone-full.png", 412, 2800)):
                path = os.path.abspath(os.path.join(ARTIFACTS, name))
                if os.path.exists(path):
                    os.unlink(path)
                rc, _ = self.chromium.run(f"https://127.0.0.1:{port}/status",
                                          f"--screenshot={path}", f"--window-size={w},{h}")
                self.assertEqual(rc, 0)
                self.assertEqual(png_size(path), (w, h))
                self.assertGreater(os.path.getsize(path), 20000, "an empty-looking screenshot")
                print(f"status page screenshot: {path}")
        finally:
            for s in mine.values():
                s.close()

    def test_html_and_json_agree(self):
        c = open_tls(self.srv.https, tls_ctx(self.d, ssl.TLSVersion.TLSv1_3))
        try:
            st, head, body = request(c, "/status")
            self.assertEqual(st, 200)
            self.assertIn("Content-Type: text/html; charset=utf-8", head)
            self.assertIn("Cache-Control: no-store", head)
            self.assertTrue(body.startswith(b"<!DOCTYPE html>"))
            bal = Balance(body.decode())
            self.assertEqual((bal.stack, bal.errors), ([], []))
            st, head, jbody = request(c, "/status.json")
            self.assertEqual(st, 200)
            j = json.loads(jbody)
            page = Page(body.decode())
            me = c.getsockname()[1]
            self.assertEqual(page.conns[me]["Version"].strip(), "TLS 1.3")
            mj = [x for x in j["connections"] if x["port"] == me][0]
            self.assertEqual(mj["version"], "TLS 1.3")
            self.assertEqual(mj["suite"], page.conns[me]["Cipher suite"].strip())
            self.assertEqual(mj["requests"], 1)  # the HTML page
            self.assertEqual(int(page.conns[me]["Requests"]), 0)
            k = j["counters"]
            self.assertEqual(dict(page.failures), {f["reason"]: f["count"] for f in k["failures"]})
            self.assertEqual(int(page.ids["hs-failed"]), k["handshakes"]["failed"])
            # The JSON request came after the page: one more 2xx request.
            self.assertEqual(int(page.ids["req-2xx"]) + 1, k["requests"]["2xx"])
            self.assertEqual(self.json()["sessions"], j["sessions"])
        finally:
            c.close()

    def test_handshake_timeout_counted(self):
        before = self.json()["counters"]
        s = socket.create_connection(("127.0.0.1", self.srv.https), timeout=TIMEOUT)
        try:
            port = s.getsockname()[1]
            j = wait_for(lambda: (lambda j: j if any(c["port"] == port for c in j["connections"])
                                  else None)(self.json()), "the silent connection to be listed")
            mine = [c for c in j["connections"] if c["port"] == port][0]
            self.assertEqual((mine["state"], mine["version"]), ("handshake", None))
            self.assertEqual(s.recv(100), b"")  # the handshake limit (HEADER_TIMEOUT, 2 s) ends it
        finally:
            s.close()

        def timeouts(k):
            return {f["reason"]: f["count"] for f in k["failures"]}.get("timeout", 0)
        wait_for(lambda: timeouts(self.json()["counters"]) == timeouts(before) + 1, "the timeout count")
        self.assertFalse(any(c["port"] == port for c in self.json()["connections"]))

    def test_plain_http_and_methods(self):
        c = http.client.HTTPConnection("127.0.0.1", self.srv.http, timeout=TIMEOUT)
        c.request("GET", "/status?format=json")
        r = c.getresponse()
        j = json.loads(r.read())
        self.assertEqual(r.status, 200)  # STATUS_SECURE off: plain HTTP may see it
        mine = [x for x in j["connections"] if x["port"] == c.sock.getsockname()[1]]
        self.assertEqual(mine[0]["service"], "http")
        self.assertIsNone(mine[0]["version"])
        c.request("POST", "/status", body=b"x")
        r = c.getresponse()
        r.read()
        self.assertEqual(r.status, 405)
        self.assertIn("GET", r.getheader("Allow"))
        c.request("GET", "/status/other")
        r = c.getresponse()
        r.read()
        self.assertEqual(r.status, 404)
        c.close()


class TestStatusSecure(unittest.TestCase):
    """STATUS_SECURE=1 with client certificates required: credentials,
    HTTPS only, and escaping of a hostile certificate subject."""

    @classmethod
    def setUpClass(cls):
        d = cls.d = tempfile.mkdtemp(prefix="chipd-status-")
        make_pki(d)
        make_root(d)
        # A client certificate whose subject is HTML.
        ossl = ["openssl"]
        run(ossl + ["req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
                    "-keyout", f"{d}/evil.key", "-out", f"{d}/evil.csr", "-subj", "/CN=" + EVIL_CN.replace("/", "\\/")])
        with open(f"{d}/evil.ext", "w") as f:
            f.write("extendedKeyUsage=clientAuth\n")
        r = run(ossl + ["x509", "-req", "-in", f"{d}/evil.csr", "-CA", f"{d}/ca.pem", "-CAkey",
                        f"{d}/ca.key", "-CAcreateserial", "-out", f"{d}/evil.pem", "-days", "2",
                        "-extfile", f"{d}/evil.ext"])
        assert r.returncode == 0, r.stderr
        cls.srv = Chipd(d, "STATUS_PAGE = /chipcfg\nSTATUS_SECURE = 1\nSECURE_USER0 = admin\n"
                           "SECURE_PASSWORD0 = s3cret-Pw\n",
                        f"CLIENT_AUTH = 1\nCA = {d}/ca.pem\n")

    @classmethod
    def tearDownClass(cls):
        rc = cls.srv.stop()
        shutil.rmtree(cls.d, ignore_errors=True)
        if rc != 0:
            raise AssertionError(f"chipd exited with {rc}")

    def auth(self, user, pw):
        return "Authorization: Basic " + base64.b64encode(f"{user}:{pw}".encode()).decode() + "\r\n"

    def test_credentials(self):
        c = open_tls(self.srv.https, tls_ctx(self.d, cert="client"))
        try:
            st, head, _ = request(c, "/chipcfg")
            self.assertEqual(st, 401)
            self.assertIn('WWW-Authenticate: Basic realm="chipd status"', head)
            self.assertEqual(request(c, "/chipcfg", self.auth("admin", "wrong"))[0], 401)
            self.assertEqual(request(c, "/chipcfg.json", self.auth("nobody", "s3cret-Pw"))[0], 401)
            st, head, body = request(c, "/chipcfg", self.auth("admin", "s3cret-Pw"))
            self.assertEqual(st, 200)
            self.assertIn("Cache-Control: no-store", head)
            self.assertIn(b"Client authentication (option 1)", body)
            st, _, body = request(c, "/chipcfg?format=json", self.auth("admin", "s3cret-Pw"))
            self.assertEqual(st, 200)
            j = json.loads(body)
            self.assertTrue(j["sessions"][0]["options"]["client_auth"])
            me = [x for x in j["connections"] if x["port"] == c.getsockname()[1]][0]
            self.assertIn("CN=chipd test client", me["client_certificate"])
        finally:
            c.close()

    def test_plain_http_never_asks_for_credentials(self):
        for path in ("/chipcfg", "/chipcfg.json"):
            c = http.client.HTTPConnection("127.0.0.1", self.srv.http, timeout=TIMEOUT)
            c.request("GET", path, headers={"Host": "127.0.0.1:%d" % self.srv.http})
            r = c.getresponse()
            r.read()
            c.close()
            self.assertEqual(r.status, 301)
            self.assertEqual(r.getheader("Location"), f"https://127.0.0.1:{self.srv.https}{path}")
            self.assertIsNone(r.getheader("WWW-Authenticate"))
        # Even with the right credentials sent in clear: no page.
        raw_resp = raw(self.srv.http, ("GET /chipcfg HTTP/1.1\r\nHost: x\r\n" +
                                       self.auth("admin", "s3cret-Pw") + "Connection: close\r\n\r\n").encode())
        self.assertTrue(raw_resp.startswith(b"HTTP/1.1 301 "), raw_resp[:40])
        self.assertNotIn(b"Open connections", raw_resp)

    def test_hostile_subject_is_escaped(self):
        evil = open_tls(self.srv.https, tls_ctx(self.d, cert="evil"))
        c = open_tls(self.srv.https, tls_ctx(self.d, cert="client"))
        try:
            self.assertEqual(request(evil, "/hello.txt")[0], 200)  # the server has the subject now
            st, _, body = request(c, "/chipcfg", self.auth("admin", "s3cret-Pw"))
            self.assertEqual(st, 200)
            page = Page(body.decode())
            row = page.conns[evil.getsockname()[1]]
            # What the browser shows is the subject's text, markup and all ...
            self.assertIn("script", row["Client certificate"])
            self.assertIn("<", row["Client certificate"])
            # ... because the page escaped it: no "<script" anywhere but as text.
            self.assertNotIn(b"<script", body.lower())
            self.assertIn(b"&lt;script", body)
            st, _, jb = request(c, "/chipcfg.json", self.auth("admin", "s3cret-Pw"))
            self.assertNotIn(b"<", jb)  # escaped as \u003c in the JSON text
            j = json.loads(jb)
            me = [x for x in j["connections"] if x["port"] == evil.getsockname()[1]][0]
            self.assertEqual(me["client_certificate"], row["Client certificate"].strip())
        finally:
            evil.close()
            c.close()


class TestStatusUnderSecurePath(unittest.TestCase):
    """A STATUS_PAGE under SECURE_PATH is guarded although STATUS_SECURE is 0."""

    def test_secure_prefix_guards_the_page(self):
        d = tempfile.mkdtemp(prefix="chipd-status-")
        try:
            make_pki(d)
            make_root(d)
            srv = Chipd(d, "STATUS_PAGE = /admin/status\nSECURE_PATH = /admin\n"
                           "SECURE_USER0 = ops\nSECURE_PASSWORD0 = pw-42\n")
            try:
                c = open_tls(srv.https, tls_ctx(d))
                try:
                    self.assertEqual(request(c, "/admin/status")[0], 401)
                    auth = "Authorization: Basic " + base64.b64encode(b"ops:pw-42").decode() + "\r\n"
                    st, _, body = request(c, "/admin/status.json", auth)
                    self.assertEqual(st, 200)
                    self.assertEqual(json.loads(body)["sessions"][0]["name"], "HTTPS")
                finally:
                    c.close()
                hc = http.client.HTTPConnection("127.0.0.1", srv.http, timeout=TIMEOUT)
                hc.request("GET", "/admin/status")
                r = hc.getresponse()
                r.read()
                hc.close()
                self.assertEqual(r.status, 301)
            finally:
                self.assertEqual(srv.stop(), 0)
        finally:
            shutil.rmtree(d, ignore_errors=True)


class TestChromiumTLS12(unittest.TestCase):
    """Chromium over TLS 1.2: a configuration proposing only TLS 1.2 suites
    (so the HTTPS instance offers TLS 1.2 only); Chromium fetches a file and
    the status page, whose row of Chromium's own connection tells the
    version and the suite the server chose."""

    def test_chromium_tls12(self):
        d = tempfile.mkdtemp(prefix="chipd-status-")
        chromium = None
        try:
            make_pki(d)
            make_root(d)
            srv = Chipd(d, "STATUS_PAGE = /status\n", "PROPOSALS = 0xC02C,0xC02B\n")
            chromium = Chromium(spki_pin(f"{d}/server.pem"))
            try:
                rc, dom = chromium.run(f"https://127.0.0.1:{srv.https}/hello.txt", "--dump-dom")
                self.assertEqual(rc, 0)
                self.assertIn("0123456789abcdefghij", dom)
                rc, dom = chromium.run(f"https://127.0.0.1:{srv.https}/status", "--dump-dom")
                self.assertEqual(rc, 0)
                own = [r for r in Page(dom).conns.values() if r["State"].strip() == "serving this page"]
                self.assertEqual(len(own), 1, dom[:2000])
                self.assertEqual((own[0]["Version"].strip(), own[0]["Cipher suite"].strip()),
                                 ("TLS 1.2", "TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384"))
            finally:
                self.assertEqual(srv.stop(), 0)
            self.assertEqual(chromium.survivors(), 0)
        finally:
            if chromium:
                chromium.cleanup()
            shutil.rmtree(d, ignore_errors=True)


class TestStatusOff(unittest.TestCase):
    def test_off_by_default(self):
        d = tempfile.mkdtemp(prefix="chipd-status-")
        try:
            make_pki(d)
            make_root(d)
            srv = Chipd(d)
            try:
                ctx = tls_ctx(d)
                for path in ("/status", "/status?format=json", "/status.json", "/chipcfg"):
                    c = http.client.HTTPSConnection("localhost", srv.https, timeout=TIMEOUT, context=ctx)
                    c.request("GET", path)
                    r = c.getresponse()
                    body = r.read()
                    c.close()
                    self.assertEqual(r.status, 404, path)
                    self.assertNotIn(b"Open connections", body)
            finally:
                self.assertEqual(srv.stop(), 0)
        finally:
            shutil.rmtree(d, ignore_errors=True)


if __name__ == "__main__":
    unittest.main()
