#!/usr/bin/env python3
"""chipd against real clients: curl, openssl s_client, gnutls-cli, Python's
http.client/ssl and raw sockets. Each test class starts its own chipd on a
generated PKI, web root and chip.ini with free ports on 127.0.0.1, and stops
it at the end (SIGTERM; the exit status must be 0).

Run: CHIPD=build/servers/chipd python3 -m unittest -v servers/tests/test_chipd.py
(pytest runs it too). Needs: python3, openssl, curl, gnutls-cli.
Every wait is bounded; no result depends on how fast the machine is.
"""
import http.client
import os
import select
import shutil
import signal
import socket
import ssl
import subprocess
import tempfile
import threading
import time
import unittest

CHIPD = os.environ.get("CHIPD", "build/servers/chipd")
TIMEOUT = 30  # seconds: the bound of any single wait


def run(cmd, **kw):
    kw.setdefault("timeout", TIMEOUT)
    return subprocess.run(cmd, capture_output=True, **kw)


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def make_pki(d):
    """A CA, a server certificate for localhost/127.0.0.1, a client certificate."""
    def ossl(*a):
        r = run(["openssl", *a])
        if r.returncode != 0:
            raise RuntimeError(r.stderr.decode())
    ossl("req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
         "-keyout", f"{d}/ca.key", "-out", f"{d}/ca.pem", "-days", "3", "-subj", "/CN=chipd test CA",
         "-addext", "basicConstraints=critical,CA:TRUE", "-addext", "keyUsage=critical,keyCertSign,cRLSign")
    for name, cn, ext in (("server", "localhost", "subjectAltName=DNS:localhost,IP:127.0.0.1"),
                          ("server2", "localhost", "subjectAltName=DNS:localhost,IP:127.0.0.1"),
                          ("client", "chipd test client", "extendedKeyUsage=clientAuth")):
        ossl("req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
             "-keyout", f"{d}/{name}.key", "-out", f"{d}/{name}.csr", "-subj", f"/CN={cn}")
        with open(f"{d}/{name}.ext", "w") as f:
            f.write(ext + "\n")
        ossl("x509", "-req", "-in", f"{d}/{name}.csr", "-CA", f"{d}/ca.pem", "-CAkey", f"{d}/ca.key",
             "-CAcreateserial", "-out", f"{d}/{name}.pem", "-days", "2", "-extfile", f"{d}/{name}.ext")


def make_root(d):
    root = f"{d}/root"
    os.makedirs(f"{root}/sub")
    with open(f"{root}/main.htm", "w") as f:
        f.write("<html><body><h1>chipd main page</h1></body></html>\n")
    with open(f"{root}/sub/main.htm", "w") as f:
        f.write("sub main\n")
    with open(f"{root}/hello.txt", "w") as f:
        f.write("0123456789abcdefghij")
    with open(f"{root}/big.bin", "wb") as f:
        f.write(os.urandom(3 * 1024 * 1024 + 17))
    os.symlink("/etc/passwd", f"{root}/escape.txt")
    os.symlink("/etc", f"{root}/etcdir")
    os.symlink("hello.txt", f"{root}/inside.txt")
    return root


class Chipd:
    """One chipd process on a configuration."""

    def __init__(self, d, extra_web="", extra_ssl="", name="chip.ini", ftp="ENABLE = 0\n"):
        self.d = d
        self.http = free_port()
        self.https = free_port()
        self.ini = f"{d}/{name}"
        self.errlog = f"{d}/{name}.error.log"
        self.acclog = f"{d}/{name}.access.log"
        workers = "" if "WORKERS" in extra_web else "WORKERS = 2\n"  # unless the test sets it
        with open(self.ini, "w") as f:
            f.write(f"""[WEB]
BIND = 127.0.0.1
HTTP_PORT = {self.http}
HTTPS_PORT = {self.https}
ROOTDIR = {d}/root
{workers}ACCESS_LOG = {self.acclog}
ERROR_LOG = {self.errlog}
{extra_web}
[SSL]
CERT = {d}/server.pem
KEY = {d}/server.key
{extra_ssl}
[FTP]
{ftp}""")
        self.stderr_path = f"{d}/{name}.stderr"
        self.stderr = open(self.stderr_path, "wb")  # a file: sanitizer reports never block chipd
        self.p = subprocess.Popen([CHIPD, "-c", self.ini], stdout=subprocess.PIPE, stderr=self.stderr)
        r, _, _ = select.select([self.p.stdout], [], [], TIMEOUT)
        line = self.p.stdout.readline().decode() if r else ""
        if "running" not in line:
            self.p.kill()
            self.p.wait()
            raise RuntimeError(f"chipd did not start: {line} {self.stderr_text()}")

    def stop(self):
        self.p.send_signal(signal.SIGTERM)
        try:
            rc = self.p.wait(TIMEOUT)
        except subprocess.TimeoutExpired:
            self.p.kill()
            self.p.wait()
            rc = "hung"
        self.p.stdout.close()
        self.stderr.close()
        if rc != 0:
            print(f"chipd exited with {rc}; its stderr:\n{self.stderr_text()}")
        return rc

    def stderr_text(self):
        with open(self.stderr_path, errors="replace") as f:
            return f.read()

    def errors(self):
        with open(self.errlog) as f:
            return f.read()


def raw(port, data, want_close=True, tls_ctx=None):
    """Send data, read until the server closes (bounded); returns the bytes."""
    s = socket.create_connection(("127.0.0.1", port), timeout=TIMEOUT)
    if tls_ctx:
        s = tls_ctx.wrap_socket(s, server_hostname="localhost")
    s.sendall(data)
    out = b""
    try:
        while True:
            b = s.recv(65536)
            if not b:
                break
            out += b
            if not want_close and out.count(b"HTTP/1.1 ") >= want_close:
                break
    except (ConnectionResetError, socket.timeout):
        pass
    s.close()
    return out


def status_of(resp):
    return int(resp.split(b" ", 2)[1]) if resp.startswith(b"HTTP/1.1 ") else None


class Base(unittest.TestCase):
    extra_web = "MAX_BODY = 1000\nHEADER_TIMEOUT = 2\nMAX_REQUEST_LINE = 1024\nMAX_HEADER_SIZE = 4096\n"
    extra_ssl = "PROPOSALS = 0x1302,0x1301,0xC030,0xC02C,0xC02F,0xC02B\n"

    @classmethod
    def setUpClass(cls):
        cls.d = tempfile.mkdtemp(prefix="chipd-test-")
        make_pki(cls.d)
        make_root(cls.d)
        cls.srv = Chipd(cls.d, cls.extra_web, cls.extra_ssl)

    @classmethod
    def tearDownClass(cls):
        rc = cls.srv.stop()
        shutil.rmtree(cls.d, ignore_errors=True)
        if rc != 0:
            raise AssertionError(f"chipd exited with {rc}")

    def url(self, path, tls=False):
        return (f"https://localhost:{self.srv.https}{path}" if tls
                else f"http://127.0.0.1:{self.srv.http}{path}")

    def curl(self, *args):
        r = run(["curl", "-sS", "--max-time", str(TIMEOUT), "--cacert", f"{self.d}/ca.pem",
                 "--resolve", f"localhost:{self.srv.https}:127.0.0.1", *args])
        return r

    def get(self, path, method="GET", headers=None, body=None, tls=False):
        if tls:
            ctx = ssl.create_default_context(cafile=f"{self.d}/ca.pem")
            c = http.client.HTTPSConnection("localhost", self.srv.https, timeout=TIMEOUT, context=ctx)
        else:
            c = http.client.HTTPConnection("127.0.0.1", self.srv.http, timeout=TIMEOUT)
        c.request(method, path, body=body, headers=headers or {})
        r = c.getresponse()
        data = r.read()
        c.close()
        return r, data


class TestHTTP(Base):
    def test_get_main_page_and_headers(self):
        r, data = self.get("/")
        self.assertEqual(r.status, 200)
        self.assertIn(b"chipd main page", data)
        self.assertEqual(r.getheader("Server"), "chipd")
        self.assertTrue(r.getheader("Date").endswith("GMT"))
        self.assertEqual(int(r.getheader("Content-Length")), len(data))
        self.assertTrue(r.getheader("Content-Type").startswith("text/html"))
        r, data = self.get("/sub/")
        self.assertEqual((r.status, data), (200, b"sub main\n"))
        r, _ = self.get("/sub")
        self.assertEqual((r.status, r.getheader("Location")), (301, "/sub/"))

    def test_big_file_http_and_https(self):
        with open(f"{self.d}/root/big.bin", "rb") as f:
            want = f.read()
        for tls in (False, True):
            r, data = self.get("/big.bin", tls=tls)
            self.assertEqual(r.status, 200)
            self.assertEqual(r.getheader("Content-Type"), "application/octet-stream")
            self.assertTrue(data == want, f"tls={tls}: body differs")

    def test_head(self):
        r, data = self.get("/hello.txt", method="HEAD")
        self.assertEqual((r.status, data), (200, b""))
        self.assertEqual(r.getheader("Content-Length"), "20")
        # The next request on the same connection is still understood.
        resp = raw(self.srv.http, b"HEAD /hello.txt HTTP/1.1\r\nHost: x\r\n\r\n"
                   b"GET /hello.txt HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        self.assertEqual(resp.count(b"HTTP/1.1 200"), 2)
        self.assertEqual(resp.count(b"0123456789abcdefghij"), 1)  # the GET's body only
        self.assertTrue(resp.endswith(b"\r\n\r\n0123456789abcdefghij"))

    def test_304(self):
        r, _ = self.get("/hello.txt")
        lm = r.getheader("Last-Modified")
        r, data = self.get("/hello.txt", headers={"If-Modified-Since": lm})
        self.assertEqual((r.status, data), (304, b""))
        r, data = self.get("/hello.txt", headers={"If-Modified-Since": "Sat, 01 Jan 2000 00:00:00 GMT"})
        self.assertEqual(r.status, 200)

    def test_206_and_416(self):
        r, data = self.get("/hello.txt", headers={"Range": "bytes=2-5"})
        self.assertEqual((r.status, data), (206, b"2345"))
        self.assertEqual(r.getheader("Content-Range"), "bytes 2-5/20")
        r, data = self.get("/hello.txt", headers={"Range": "bytes=-3"}, tls=True)
        self.assertEqual((r.status, data), (206, b"hij"))
        r, data = self.get("/hello.txt", headers={"Range": "bytes=50-"})
        self.assertEqual(r.status, 416)
        self.assertEqual(r.getheader("Content-Range"), "bytes */20")

    def test_404_405(self):
        self.assertEqual(self.get("/nothing.htm")[0].status, 404)
        self.assertEqual(self.get("/hello.txt", method="PUT", body=b"x")[0].status, 405)
        r, _ = self.get("/hello.txt", method="POST", body=b"a=1")
        self.assertEqual(r.status, 405)
        self.assertEqual(r.getheader("Allow"), "GET, HEAD")

    def test_limits(self):
        p = self.srv.http
        self.assertEqual(status_of(raw(p, b"POST / HTTP/1.1\r\nHost: x\r\n\r\n")), 411)
        self.assertEqual(status_of(raw(p, b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 5000\r\n\r\n")), 413)
        self.assertEqual(status_of(raw(p, b"POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
                                          b"800\r\n" + b"a" * 2048 + b"\r\n0\r\n\r\n")), 413)
        self.assertEqual(status_of(raw(p, b"GET /" + b"a" * 2000 + b" HTTP/1.1\r\nHost: x\r\n\r\n")), 414)
        many = b"".join(b"X-H%d: %s\r\n" % (i, b"v" * 100) for i in range(60))
        self.assertEqual(status_of(raw(p, b"GET / HTTP/1.1\r\nHost: x\r\n" + many + b"\r\n")), 431)
        self.assertEqual(status_of(raw(p, b"GET / HTTP/2.0\r\nHost: x\r\n\r\n")), 505)

    def test_bad_requests(self):
        p = self.srv.http
        for bad in (b"GET\r\n\r\n", b"GET / HTTP/1.1 junk\r\nHost: x\r\n\r\n", b"GET / HTTP/1.1\r\n\r\n",
                    b"GET /%zz HTTP/1.1\r\nHost: x\r\n\r\n", b"GET /%4 HTTP/1.1\r\nHost: x\r\n\r\n",
                    b"GET / HTTP/1.1\r\nHost: x\r\nBad Header: 1\r\n\r\n"):
            self.assertEqual(status_of(raw(p, bad)), 400, bad)

    def test_escapes(self):
        p = self.srv.http
        for path in (b"/../etc/passwd", b"/%2e%2e/etc/passwd", b"/sub/../../etc/passwd",
                     b"/%2E%2E/%2e%2e/etc/passwd"):
            resp = raw(p, b"GET " + path + b" HTTP/1.1\r\nHost: x\r\n\r\n")
            self.assertEqual(status_of(resp), 400, path)
            self.assertNotIn(b"root:", resp)
        for path in ("/escape.txt", "/etcdir/passwd", "/etcdir/"):
            r, data = self.get(path)
            self.assertIn(r.status, (403, 404), path)
            self.assertNotIn(b"root:", data)
        r, data = self.get("/inside.txt")  # a link that stays inside is followed
        self.assertEqual((r.status, data), (200, b"0123456789abcdefghij"))

    def test_chunked_body_and_keepalive_after_405(self):
        resp = raw(self.srv.http, b"POST /hello.txt HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
                   b"3\r\nabc\r\n0\r\n\r\nGET /hello.txt HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        self.assertEqual(status_of(resp), 405)
        self.assertIn(b"HTTP/1.1 200 OK", resp)

    def test_body_shorter_or_longer_than_announced(self):
        s = socket.create_connection(("127.0.0.1", self.srv.http), timeout=TIMEOUT)
        s.sendall(b"POST /hello.txt HTTP/1.1\r\nHost: x\r\nContent-Length: 10\r\n\r\nabc")
        s.shutdown(socket.SHUT_WR)  # the body ends early: no answer, the connection is closed
        self.assertEqual(s.recv(4096), b"")
        s.close()
        # Longer: the extra bytes are the start of a next request that never completes
        # (dropped at HEADER_TIMEOUT); the first request gets its one answer.
        resp = raw(self.srv.http, b"POST /hello.txt HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\n\r\nabcdefg")
        self.assertEqual(status_of(resp), 405)
        self.assertEqual(resp.count(b"HTTP/1.1 "), 1)
        self.assertEqual(self.get("/hello.txt")[0].status, 200)

    def test_keep_alive_curl(self):
        r = self.curl("-v", "-o", "/dev/null", "-o", "/dev/null", self.url("/"), self.url("/hello.txt"))
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn(b"Re-using existing connection", r.stderr)
        r = self.curl("-v", "-o", "/dev/null", "-o", "/dev/null", self.url("/", True), self.url("/hello.txt", True))
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn(b"Re-using existing connection", r.stderr)

    def test_pipelining(self):
        reqs = (b"GET /hello.txt HTTP/1.1\r\nHost: x\r\n\r\n"
                b"GET /sub/ HTTP/1.1\r\nHost: x\r\n\r\n"
                b"GET /hello.txt HTTP/1.1\r\nHost: x\r\nRange: bytes=0-1\r\nConnection: close\r\n\r\n")
        for tls in (None, ssl.create_default_context(cafile=f"{self.d}/ca.pem")):
            port = self.srv.https if tls else self.srv.http
            resp = raw(port, reqs, tls_ctx=tls)
            self.assertEqual(resp.count(b"HTTP/1.1 "), 3, resp)
            i1 = resp.index(b"0123456789abcdefghij")
            i2 = resp.index(b"sub main\n")
            i3 = resp.index(b"HTTP/1.1 206")
            self.assertTrue(i1 < i2 < i3)
            self.assertTrue(resp.endswith(b"\r\n\r\n01"))

    def test_curl_tls12_tls13(self):
        for args, version in ((["--tlsv1.2", "--tls-max", "1.2"], "TLSv1.2"), (["--tlsv1.3"], "TLSv1.3")):
            r = self.curl("-v", *args, self.url("/hello.txt", True))
            self.assertEqual(r.returncode, 0, r.stderr)
            self.assertEqual(r.stdout, b"0123456789abcdefghij")
            self.assertIn(f"SSL connection using {version}".encode(), r.stderr)

    def test_s_client_server_order_and_alpn(self):
        # The client prefers AES-128, the server's list starts with AES-256: option 2 makes the server's win.
        cases = ((["-tls1_3", "-ciphersuites", "TLS_AES_128_GCM_SHA256:TLS_AES_256_GCM_SHA384"],
                  b"TLS_AES_256_GCM_SHA384"),
                 (["-tls1_2", "-cipher", "ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-ECDSA-AES256-GCM-SHA384"],
                  b"ECDHE-ECDSA-AES256-GCM-SHA384"))
        for args, want in cases:
            r = run(["openssl", "s_client", "-connect", f"127.0.0.1:{self.srv.https}", "-CAfile",
                     f"{self.d}/ca.pem", "-alpn", "http/1.1", "-servername", "localhost", "-ign_eof", *args],
                    input=b"GET /hello.txt HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n")
            out = r.stdout
            self.assertIn(b"Cipher is " + want, out)
            self.assertIn(b"ALPN protocol: http/1.1", out)
            self.assertIn(b"0123456789abcdefghij", out)

    def test_resumption(self):
        sess = f"{self.d}/session.pem"
        base = ["openssl", "s_client", "-connect", f"127.0.0.1:{self.srv.https}", "-CAfile", f"{self.d}/ca.pem",
                "-tls1_2", "-ign_eof"]
        req = b"GET /hello.txt HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n"
        r1 = run(base + ["-sess_out", sess], input=req)
        self.assertIn(b"New, TLSv1.2", r1.stdout)
        r2 = run(base + ["-sess_in", sess], input=req)
        self.assertIn(b"Reused, TLSv1.2", r2.stdout)
        self.assertIn(b"0123456789abcdefghij", r2.stdout)

    def test_http10_and_expect(self):
        resp = raw(self.srv.http, b"GET /hello.txt HTTP/1.0\r\n\r\n")  # 1.0: closed after the answer
        self.assertEqual(status_of(resp), 200)
        self.assertIn(b"Connection: close\r\n", resp)
        resp = raw(self.srv.http, b"GET /hello.txt HTTP/1.0\r\nConnection: keep-alive\r\n\r\n"
                   b"GET /hello.txt HTTP/1.0\r\n\r\n")
        self.assertEqual(resp.count(b"HTTP/1.1 200 OK"), 2)
        self.assertIn(b"Connection: keep-alive\r\n", resp)
        s = socket.create_connection(("127.0.0.1", self.srv.http), timeout=TIMEOUT)
        s.sendall(b"POST /hello.txt HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nExpect: 100-continue\r\n\r\n")
        self.assertEqual(s.recv(100), b"HTTP/1.1 100 Continue\r\n\r\n")
        s.sendall(b"hello")
        self.assertEqual(status_of(s.recv(4096)), 405)
        s.close()

    def test_python_ssl_and_gnutls(self):
        r, data = self.get("/hello.txt", tls=True)
        self.assertEqual((r.status, data), (200, b"0123456789abcdefghij"))
        g = run(["gnutls-cli", "--x509cafile", f"{self.d}/ca.pem", "-p", str(self.srv.https), "localhost",
                 "--alpn", "http/1.1"],
                input=b"GET /hello.txt HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n")
        self.assertIn(b"HTTP/1.1 200 OK", g.stdout, g.stderr)
        self.assertIn(b"0123456789abcdefghij", g.stdout)

    def test_plain_http_on_https_port(self):
        resp = raw(self.srv.https, b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
        self.assertNotIn(b"200 OK", resp)  # an alert or nothing, then the close
        deadline = time.monotonic() + TIMEOUT
        while "TLS handshake with 127.0.0.1 failed" not in self.srv.errors() and time.monotonic() < deadline:
            time.sleep(0.05)
        self.assertIn("TLS handshake with 127.0.0.1 failed", self.srv.errors())
        self.assertEqual(self.get("/hello.txt", tls=True)[0].status, 200)  # still serving

    def test_failed_handshake_logged_with_reason(self):
        r = run(["openssl", "s_client", "-connect", f"127.0.0.1:{self.srv.https}", "-tls1_2",
                 "-cipher", "ECDHE-RSA-AES128-SHA"], input=b"")
        self.assertNotEqual(r.returncode, 0)
        deadline = time.monotonic() + TIMEOUT
        while "alert: handshake failure (sent)" not in self.srv.errors() and time.monotonic() < deadline:
            time.sleep(0.05)
        self.assertIn("alert: handshake failure (sent)", self.srv.errors())

    def test_slow_headers_dropped(self):
        s = socket.create_connection(("127.0.0.1", self.srv.http), timeout=TIMEOUT)
        s.sendall(b"GET / HTTP/1.1\r\nHost: x\r\n")  # never finished
        try:
            self.assertEqual(s.recv(100), b"")  # closed by HEADER_TIMEOUT (2 s), before TIMEOUT
        finally:
            s.close()
        self.assertEqual(self.get("/hello.txt")[0].status, 200)

    def test_many_connections(self):
        results = []
        lock = threading.Lock()

        def one(i):
            try:
                r, data = self.get("/hello.txt", tls=(i % 4 == 0))
                ok = r.status == 200 and data == b"0123456789abcdefghij"
            except Exception as e:  # noqa: BLE001
                ok = repr(e)
            with lock:
                results.append(ok)
        threads = [threading.Thread(target=one, args=(i,)) for i in range(200)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(TIMEOUT)
        self.assertEqual(results, [True] * 200)

    def test_access_log(self):
        self.get("/hello.txt?x=1")
        raw(self.srv.http, b"\r\nGET /sub/ HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        raw(self.srv.http, b"GET /hello.txt HTTP/1.1\r\nHost: x\r\nAuthorization: Basic dXNlcjpwdw==\r\n"
                           b"Connection: close\r\n\r\n")
        with open(self.srv.acclog) as f:
            lines = f.read().splitlines()
        self.assertTrue(any('"GET /hello.txt?x=1 HTTP/1.1" 200 20' in l and l.startswith("127.0.0.1 - - [")
                            for l in lines), lines[-3:])
        self.assertTrue(any('"GET /sub/ HTTP/1.1" 200 9' in l for l in lines), lines[-3:])
        self.assertTrue(any(l.startswith("127.0.0.1 - user [") for l in lines), lines[-3:])


class TestLimitsAndRedirect(unittest.TestCase):
    """MAX_CONNECTIONS (503) and REDIRECT_HTTPS, on an instance of their own."""

    def test_503_and_redirect(self):
        d = tempfile.mkdtemp(prefix="chipd-test-")
        try:
            make_pki(d)
            make_root(d)
            srv = Chipd(d, "MAX_CONNECTIONS = 2\nREDIRECT_HTTPS = 1\n")
            try:
                idle = [socket.create_connection(("127.0.0.1", srv.http), timeout=TIMEOUT) for _ in range(2)]
                time.sleep(0.3)  # let the server accept them (nothing is judged on time)
                resp = raw(srv.http, b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
                self.assertEqual(status_of(resp), 503)
                r = run(["curl", "-sS", "-o", "/dev/null", "-w", "%{http_code}", "--max-time", str(TIMEOUT),
                         "--cacert", f"{d}/ca.pem", "--resolve", f"localhost:{srv.https}:127.0.0.1",
                         f"https://localhost:{srv.https}/"])
                self.assertEqual(r.stdout, b"503", r.stderr)  # over TLS: after the handshake
                for s in idle:
                    s.close()
                deadline = time.monotonic() + TIMEOUT
                resp = b""
                while time.monotonic() < deadline:
                    resp = raw(srv.http, b"GET /a/b?c=d HTTP/1.1\r\nHost: 127.0.0.1:%d\r\nConnection: close\r\n\r\n"
                               % srv.http)
                    if status_of(resp) != 503:
                        break
                    time.sleep(0.05)
                self.assertEqual(status_of(resp), 301)
                self.assertIn(b"Location: https://127.0.0.1:%d/a/b?c=d\r\n" % srv.https, resp)
            finally:
                self.assertEqual(srv.stop(), 0)
        finally:
            shutil.rmtree(d, ignore_errors=True)


class TestClientAuthAndReload(unittest.TestCase):
    def test_client_auth_and_sighup(self):
        d = tempfile.mkdtemp(prefix="chipd-test-")
        try:
            make_pki(d)
            make_root(d)
            srv = Chipd(d, "", f"CLIENT_AUTH = 1\nCA = {d}/ca.pem\n")
            try:
                base = ["curl", "-sS", "--max-time", str(TIMEOUT), "--cacert", f"{d}/ca.pem", "--resolve",
                        f"localhost:{srv.https}:127.0.0.1", f"https://localhost:{srv.https}/hello.txt"]
                r = run(base + ["--cert", f"{d}/client.pem", "--key", f"{d}/client.key"])
                self.assertEqual(r.stdout, b"0123456789abcdefghij", r.stderr)
                r = run(base + ["--tlsv1.2", "--tls-max", "1.2"])
                self.assertNotEqual(r.returncode, 0)

                def serial():
                    r = run(["openssl", "s_client", "-connect", f"127.0.0.1:{srv.https}", "-cert",
                             f"{d}/client.pem", "-key", f"{d}/client.key"], input=b"")
                    x = run(["openssl", "x509", "-noout", "-serial"], input=r.stdout)
                    return x.stdout.strip()

                def file_serial(name):
                    return run(["openssl", "x509", "-noout", "-serial", "-in", f"{d}/{name}.pem"]).stdout.strip()
                self.assertEqual(serial(), file_serial("server"))
                shutil.copy(f"{d}/server2.pem", f"{d}/server.pem")
                shutil.copy(f"{d}/server2.key", f"{d}/server.key")
                srv.p.send_signal(signal.SIGHUP)
                deadline = time.monotonic() + TIMEOUT
                while "reload: certificate" not in srv.errors() and time.monotonic() < deadline:
                    time.sleep(0.05)
                self.assertEqual(serial(), file_serial("server2"))
                with open(f"{d}/server.pem", "w") as f:
                    f.write("not a certificate\n")
                srv.p.send_signal(signal.SIGHUP)
                deadline = time.monotonic() + TIMEOUT
                while "previous certificate and key stay" not in srv.errors() and time.monotonic() < deadline:
                    time.sleep(0.05)
                self.assertIn("[SSL] CERT", srv.errors())
                self.assertEqual(serial(), file_serial("server2"))
            finally:
                self.assertEqual(srv.stop(), 0)
        finally:
            shutil.rmtree(d, ignore_errors=True)


class TestShutdownAndCheck(unittest.TestCase):
    def test_sigterm_during_transfers(self):
        d = tempfile.mkdtemp(prefix="chipd-test-")
        try:
            make_pki(d)
            make_root(d)
            want = os.urandom(16 * 1024 * 1024)  # more than the socket buffers hold
            with open(f"{d}/root/huge.bin", "wb") as f:
                f.write(want)
            srv = Chipd(d, "SHUTDOWN_TIMEOUT = 300\n")
            results = []
            started = threading.Barrier(9, timeout=TIMEOUT)

            def fetch(tls):
                s = socket.create_connection(("127.0.0.1", srv.https if tls else srv.http), timeout=TIMEOUT)
                if tls:
                    ctx = ssl.create_default_context(cafile=f"{d}/ca.pem")
                    s = ctx.wrap_socket(s, server_hostname="localhost", suppress_ragged_eofs=False)
                s.sendall(b"GET /huge.bin HTTP/1.1\r\nHost: x\r\n\r\n")
                data = s.recv(65536)
                started.wait()
                try:
                    while True:
                        b = s.recv(65536)
                        if not b:
                            break  # TLS: only after close_notify (ragged EOFs raise)
                        data += b
                    head, _, body = data.partition(b"\r\n\r\n")
                    results.append("complete" if body == want else f"short {len(body)}")
                except ssl.SSLEOFError:
                    results.append("no close_notify")
                finally:
                    s.close()
            threads = [threading.Thread(target=fetch, args=(i % 2 == 1,)) for i in range(8)]
            for t in threads:
                t.start()
            started.wait()
            srv.p.send_signal(signal.SIGTERM)
            for t in threads:
                t.join(4 * TIMEOUT)  # within SHUTDOWN_TIMEOUT (300 s here)
            self.assertEqual(results, ["complete"] * 8)
            self.assertEqual(srv.p.wait(4 * TIMEOUT), 0, srv.stderr_text())
            srv.p.stdout.close()
            srv.stderr.close()
        finally:
            shutil.rmtree(d, ignore_errors=True)

    def test_check_and_busy_port(self):
        d = tempfile.mkdtemp(prefix="chipd-test-")
        try:
            make_pki(d)
            make_root(d)
            srv = Chipd(d)
            try:
                r = run([CHIPD, "-t", "-c", srv.ini])
                self.assertEqual(r.returncode, 0, r.stderr)
                with open(srv.ini) as f:
                    text = f.read()
                bad = f"{d}/bad.ini"
                with open(bad, "w") as f:
                    f.write(text.replace(f"HTTPS_PORT = {srv.https}", "HTTPS_PORT = 70000"))
                r = run([CHIPD, "-t", "-c", bad])
                self.assertEqual(r.returncode, 1)
                self.assertIn(f"{bad}:4:".encode(), r.stderr)
                with open(bad, "w") as f:
                    f.write(text + "NOSUCHKEY = 1\n")
                r = run([CHIPD, "-t", "-c", bad])
                self.assertEqual(r.returncode, 1)
                self.assertIn(b"NOSUCHKEY", r.stderr)
                r = run([CHIPD, "-t", "-c", f"{d}/missing.ini"])
                self.assertEqual(r.returncode, 1)
                r = run([CHIPD, "-c", srv.ini])  # the ports are taken by srv
                self.assertEqual(r.returncode, 1)
                self.assertIn(b"address already in use", r.stderr.lower())
                self.assertIn(f"{srv.ini}:3: [WEB] HTTP_PORT {srv.http} on 127.0.0.1: bind:".encode(), r.stderr)
                with open(bad, "w") as f:
                    f.write(text.replace(f"{d}/server.key", f"{d}/nokey.pem"))
                r = run([CHIPD, "-c", bad])
                self.assertEqual(r.returncode, 1)
                self.assertIn(f"{bad}:12: [SSL] KEY {d}/nokey.pem: ".encode(), r.stderr)
            finally:
                self.assertEqual(srv.stop(), 0)
        finally:
            shutil.rmtree(d, ignore_errors=True)


if __name__ == "__main__":
    unittest.main()
