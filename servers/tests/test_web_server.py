#!/usr/bin/env python3
"""The Web server through chipd_cgi_app (chipd with the test application's
CGI functions and error pages): the application's 503 page over
MAX_CONNECTIONS, identities chosen by SNI, many connections at once with
slow clients among them, request heads and bodies of every size around the
input buffer's growth, idle keep-alive connections that request again.

Run: CHIPD=build/servers/tests/chipd_cgi_app python3 -m unittest -v test_web_server
(from servers/tests). Every wait is bounded; nothing is judged on time.
"""
import os
import shutil
import socket
import ssl
import tempfile
import time
import unittest

import test_chipd
from test_chipd import TIMEOUT, Chipd, raw, run, status_of

BUSY = b"app page: too busy, come back later"


class Test503Page(unittest.TestCase):
    """The server's own 503 (MAX_CONNECTIONS) is the application's page."""

    def test_503_uses_application_page(self):
        d = tempfile.mkdtemp(prefix="chipd-503-test-")
        try:
            test_chipd.make_pki(d)
            test_chipd.make_root(d)
            srv = Chipd(d, "MAX_CONNECTIONS = 2\n")
            try:
                idle = [socket.create_connection(("127.0.0.1", srv.http), timeout=TIMEOUT) for _ in range(2)]
                for s in idle:  # answered: both are accepted (and kept alive)
                    s.sendall(b"GET /hello.txt HTTP/1.1\r\nHost: x\r\n\r\n")
                    self.assertIn(b"200 OK", s.recv(4096))
                resp = raw(srv.http, b"GET /hello.txt HTTP/1.1\r\nHost: x\r\n\r\n")
                self.assertEqual(status_of(resp), 503, resp)
                self.assertIn(b"Connection: close\r\n", resp)
                self.assertTrue(resp.endswith(b"\r\n\r\n" + BUSY), resp)
                r = run(["curl", "-sS", "-w", " %{http_code}", "--max-time", str(TIMEOUT),
                         "--cacert", f"{d}/ca.pem", "--resolve", f"localhost:{srv.https}:127.0.0.1",
                         f"https://localhost:{srv.https}/hello.txt"])
                self.assertEqual(r.stdout, BUSY + b" 503", r.stderr)  # over TLS too
                # a HEAD gets the status without the page
                resp = raw(srv.http, b"HEAD /hello.txt HTTP/1.1\r\nHost: x\r\n\r\n")
                self.assertEqual(status_of(resp), 503, resp)
                self.assertTrue(resp.endswith(b"\r\n\r\n"), resp)
                for s in idle:
                    s.close()
                deadline = time.monotonic() + TIMEOUT
                while time.monotonic() < deadline:  # until the server has seen them close
                    resp = raw(srv.http, b"GET /hello.txt HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
                    if status_of(resp) != 503:
                        break
                    time.sleep(0.05)
                self.assertEqual(status_of(resp), 200, resp)
            finally:
                self.assertEqual(srv.stop(), 0)
        finally:
            shutil.rmtree(d, ignore_errors=True)


class TestServerOffByConfig(unittest.TestCase):
    """[WEB] ENABLE=0: BIOS_Server_State says suspended, nothing listens on
    HTTP_PORT; BIOS_Server_On_Off(SS_WEB_SERVER, 0) starts it there (as on
    the original: a server CHIP.INI left off can be started at run time)."""

    def test_http_started_at_run_time(self):
        d = tempfile.mkdtemp(prefix="chipd-off-test-")
        try:
            test_chipd.make_pki(d)
            test_chipd.make_root(d)
            srv = Chipd(d, "ENABLE = 0\n")
            try:
                ctx = ssl.create_default_context(cafile=f"{d}/ca.pem")

                def ctl(q):
                    return raw(srv.https, b"GET /ctl?%s HTTP/1.1\r\nHost: localhost\r\n"
                               b"Connection: close\r\n\r\n" % q, tls_ctx=ctx).split(b"\r\n\r\n", 1)[1]
                with self.assertRaises(ConnectionRefusedError):
                    socket.create_connection(("127.0.0.1", srv.http), timeout=TIMEOUT)
                self.assertEqual(ctl(b"x=1"), b"ctl 0 state 1")
                self.assertEqual(ctl(b"http=on"), b"ctl 0 state 0")
                resp = raw(srv.http, b"GET /hello.txt HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
                self.assertTrue(resp.endswith(b"0123456789abcdefghij"), resp)
                self.assertEqual(ctl(b"http=off"), b"ctl 0 state 1")
                with self.assertRaises(ConnectionRefusedError):
                    socket.create_connection(("127.0.0.1", srv.http), timeout=TIMEOUT)
            finally:
                self.assertEqual(srv.stop(), 0)
        finally:
            shutil.rmtree(d, ignore_errors=True)


def make_cert(d, name, cn, san):
    """A certificate of the test CA (test_chipd.make_pki) for cn/san."""
    def ossl(*a):
        r = run(["openssl", *a])
        if r.returncode != 0:
            raise RuntimeError(r.stderr.decode())
    ossl("req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
         "-keyout", f"{d}/{name}.key", "-out", f"{d}/{name}.csr", "-subj", f"/CN={cn}")
    with open(f"{d}/{name}.ext", "w") as f:
        f.write(f"subjectAltName={san}\n")
    ossl("x509", "-req", "-in", f"{d}/{name}.csr", "-CA", f"{d}/ca.pem", "-CAkey", f"{d}/ca.key",
         "-CAcreateserial", "-out", f"{d}/{name}.pem", "-days", "2", "-extfile", f"{d}/{name}.ext")


class TestSNI(unittest.TestCase):
    """[SSL] CERTn/KEYn: identities chosen by the name the client sends (SNI)."""

    @classmethod
    def setUpClass(cls):
        cls.d = d = tempfile.mkdtemp(prefix="chipd-sni-test-")
        test_chipd.make_pki(d)
        test_chipd.make_root(d)
        make_cert(d, "alpha", "alpha.example", "DNS:alpha.example")
        make_cert(d, "beta", "beta wildcard", "DNS:*.beta.example")
        cls.srv = Chipd(d, "", f"CERT1 = {d}/alpha.pem\nKEY1 = {d}/alpha.key\n"
                                f"CERT2 = {d}/beta.pem\nKEY2 = {d}/beta.key\n")

    @classmethod
    def tearDownClass(cls):
        rc = cls.srv.stop()
        shutil.rmtree(cls.d, ignore_errors=True)
        if rc != 0:
            raise AssertionError(f"chipd exited with {rc}")

    def subject(self, *name):
        """The subject of the certificate the server presents (s_client)."""
        args = ["-servername", name[0]] if name else ["-noservername"]
        r = run(["openssl", "s_client", "-connect", f"127.0.0.1:{self.srv.https}", *args,
                 "-CAfile", f"{self.d}/ca.pem", "-verify_return_error"], input=b"")
        self.assertEqual(r.returncode, 0, r.stderr)
        for line in r.stdout.decode().splitlines():
            if line.startswith("subject="):
                return line[len("subject="):].replace(" = ", "=")
        self.fail(r.stdout)

    def curl(self, host):
        return run(["curl", "-sS", "--max-time", str(TIMEOUT), "--cacert", f"{self.d}/ca.pem",
                    "--resolve", f"{host}:{self.srv.https}:127.0.0.1", f"https://{host}:{self.srv.https}/hello.txt"])

    def test_each_name_gets_its_certificate(self):
        self.assertEqual(self.subject("alpha.example"), "CN=alpha.example")
        self.assertEqual(self.subject("x.beta.example"), "CN=beta wildcard")
        self.assertEqual(self.subject("localhost"), "CN=localhost")
        # unknown names and no SNI: the default identity ([SSL] CERT)
        self.assertEqual(self.subject("gamma.example"), "CN=localhost")
        self.assertEqual(self.subject("x.y.beta.example"), "CN=localhost")  # one label only
        self.assertEqual(self.subject(), "CN=localhost")
        # curl verifies each name against what it gets
        for host in ("alpha.example", "www.beta.example", "localhost"):
            r = self.curl(host)
            self.assertEqual((r.returncode, r.stdout), (0, b"0123456789abcdefghij"), (host, r.stderr))
        r = self.curl("gamma.example")  # the default certificate does not carry that name
        self.assertEqual(r.returncode, 60, r.stderr)

    def test_config_errors(self):
        ini = f"{self.d}/bad.ini"
        with open(ini, "w") as f:
            f.write(f"[WEB]\nROOTDIR = {self.d}/root\n[SSL]\nCERT = {self.d}/server.pem\n"
                    f"KEY = {self.d}/server.key\nCERT3 = {self.d}/alpha.pem\n")
        chipd = os.environ.get("CHIPD_PROGRAM", test_chipd.CHIPD.replace("tests/chipd_cgi_app", "chipd"))
        r = run([chipd, "-t", "-c", ini])
        self.assertNotEqual(r.returncode, 0)
        self.assertIn(b"bad.ini:6:", r.stderr)
        self.assertIn(b"CERT3 needs KEY3", r.stderr)


def padded_head(first, n, extra=b""):
    """A request head of exactly n bytes: the request line first, then Host,
    the extra fields and an X-Pad field filling up to n."""
    start = first + b"\r\nHost: localhost\r\n" + extra + b"X-Pad: "
    head = start + b"p" * (n - len(start) - 4) + b"\r\n\r\n"
    assert len(head) == n
    return head


def split_responses(data):
    """The responses in data as (status, head, body) (bodies by Content-Length)."""
    out = []
    while data:
        head, sep, rest = data.partition(b"\r\n\r\n")
        if not sep or not head.startswith(b"HTTP/1.1 "):
            out.append((None, data, b""))
            break
        length = 0
        for line in head.split(b"\r\n")[1:]:
            name, _, value = line.partition(b":")
            if name.strip().lower() == b"content-length":
                length = int(value)
        out.append((int(head.split(b" ", 2)[1]), head, rest[:length]))
        data = rest[length:]
    return out


def chunked(body, size=1000):
    return b"".join(b"%x\r\n%s\r\n" % (len(body[i:i + size]), body[i:i + size])
                    for i in range(0, len(body), size)) + b"0\r\n\r\n"


class TestManyConnections(unittest.TestCase):
    """300 keep-alive HTTPS and 100 HTTP connections open at once, each doing
    several requests, while slow clients (half a request head, "slowloris")
    hold connections of both instances: every fast request gets its exact
    body, and every slow client is closed by the server (HEADER_TIMEOUT).
    Nothing is judged on time; each wait is bounded by TIMEOUT."""
    TLS_CONNS = 300
    PLAIN_CONNS = 100
    SLOW_CONNS = 20
    ROUNDS = 3

    @classmethod
    def setUpClass(cls):
        cls.d = d = tempfile.mkdtemp(prefix="chipd-many-test-")
        test_chipd.make_pki(d)
        test_chipd.make_root(d)
        cls.srv = Chipd(d, "HEADER_TIMEOUT = 3\nIDLE_TIMEOUT = 600\nMAX_CONNECTIONS = 2000\n")

    @classmethod
    def tearDownClass(cls):
        rc = cls.srv.stop()
        shutil.rmtree(cls.d, ignore_errors=True)
        if rc != 0:
            raise AssertionError(f"chipd exited with {rc}")

    def test_many_keep_alive_and_slow_clients(self):
        import asyncio
        files = {"/hello.txt": b"0123456789abcdefghij", "/sub/main.htm": b"sub main\n"}
        files["/many.bin"] = os.urandom(200000)  # several TLS records, several reads
        with open(f"{self.d}/root/many.bin", "wb") as f:
            f.write(files["/many.bin"])
        ctx = ssl.create_default_context(cafile=f"{self.d}/ca.pem")
        port = {False: self.srv.http, True: self.srv.https}
        limit = TIMEOUT * 10  # a bound for the whole exchange, far above what it needs

        async def connect(tls):
            return await asyncio.open_connection("127.0.0.1", port[tls], ssl=ctx if tls else None,
                                                 server_hostname="localhost" if tls else None,
                                                 limit=1 << 20)

        async def get(reader, writer, path):
            writer.write(b"GET %s HTTP/1.1\r\nHost: localhost\r\n\r\n" % path.encode())
            await writer.drain()
            head = await reader.readuntil(b"\r\n\r\n")
            length = next(int(l.split(b":")[1]) for l in head.split(b"\r\n")
                          if l.lower().startswith(b"content-length:"))
            body = await reader.readexactly(length)
            return head.split(b" ")[1], body

        async def slow(tls):
            reader, writer = await connect(tls)
            writer.write(b"GET /hello.txt HTTP/1.1\r\nHost: localhost\r\nX-Slow: ")  # never finished
            await writer.drain()
            return reader, writer

        async def wait_closed_by_server(reader, writer):
            try:
                data = await reader.read(4096)
            except (ConnectionResetError, ssl.SSLError):
                data = b""
            writer.close()
            return data

        async def main():
            slows = await asyncio.gather(*(slow(i % 2 == 1) for i in range(self.SLOW_CONNS)))
            kinds = [True] * self.TLS_CONNS + [False] * self.PLAIN_CONNS
            conns = await asyncio.gather(*(connect(tls) for tls in kinds))  # all open at once
            paths = list(files)
            results = []
            for r in range(self.ROUNDS):
                results += await asyncio.gather(*(get(rd, wr, paths[(i + r) % len(paths)])
                                                  for i, (rd, wr) in enumerate(conns)))
            bad = [i for i, (st, body) in enumerate(results)
                   if st != b"200" or body != files[paths[(i % len(conns) + i // len(conns)) % len(paths)]]]
            for rd, wr in conns:
                wr.close()
            closed = await asyncio.gather(*(wait_closed_by_server(rd, wr) for rd, wr in slows))
            return len(results), bad, closed

        n, bad, closed = asyncio.run(asyncio.wait_for(main(), limit))
        self.assertEqual(n, (self.TLS_CONNS + self.PLAIN_CONNS) * self.ROUNDS)
        self.assertEqual(bad, [])
        # the slow clients got nothing (no answer to half a head) and were closed
        self.assertEqual(closed, [b""] * self.SLOW_CONNS)
        # and the server still serves
        r = run(["curl", "-sS", "--max-time", str(TIMEOUT), "--cacert", f"{self.d}/ca.pem",
                 "--resolve", f"localhost:{self.srv.https}:127.0.0.1",
                 f"https://localhost:{self.srv.https}/hello.txt"])
        self.assertEqual(r.stdout, files["/hello.txt"], r.stderr)


    # The input buffer starts small (4 KiB) and grows up to MAX_HEADER_SIZE
    # + 4 KiB; an idle connection holds none. Heads and bodies around and
    # beyond the sizes it takes, pipelined and in pieces, on both instances.
    SIZES = (1000, 4095, 4096, 4097, 8191, 8192, 8193, 12000, 16000)

    def connect(self, tls):
        s = socket.create_connection(("127.0.0.1", self.srv.https if tls else self.srv.http),
                                     timeout=TIMEOUT)
        if tls:
            ctx = ssl.create_default_context(cafile=f"{self.d}/ca.pem")
            s = ctx.wrap_socket(s, server_hostname="localhost")
        return s

    def read_responses(self, s, count=None):
        """Read until count complete responses (None: until the server closes)."""
        data = b""
        while True:
            if count is not None:
                got = split_responses(data)
                if len(got) >= count and got[count - 1][0] is not None and \
                        len(got[count - 1][2]) >= self.length_of(got[count - 1][1]):
                    return got
            try:
                b = s.recv(65536)
            except (ConnectionResetError, socket.timeout):
                b = b""
            if not b:
                return split_responses(data)
            data += b

    @staticmethod
    def length_of(head):
        for line in head.split(b"\r\n")[1:]:
            name, _, value = line.partition(b":")
            if name.strip().lower() == b"content-length":
                return int(value)
        return 0

    def exchange(self, tls, data, piece=None):
        """Send data on a new connection (at once, or piece bytes at a time
        with a short pause between), read until the server closes."""
        s = self.connect(tls)
        try:
            step = piece or len(data)
            for i in range(0, len(data), step):
                s.sendall(data[i:i + step])
                if piece:
                    time.sleep(0.01)
            return self.read_responses(s)
        finally:
            s.close()

    def test_heads_larger_than_the_first_buffer(self):
        for tls in (False, True):
            for n in self.SIZES:
                reqs = (padded_head(b"GET /hello.txt HTTP/1.1", n) +
                        padded_head(b"GET /sub/main.htm HTTP/1.1", n, b"Connection: close\r\n"))
                for piece in (None, 1500):  # at once (pipelined), and growing across reads
                    got = [(st, body) for st, _, body in self.exchange(tls, reqs, piece)]
                    self.assertEqual(got, [(200, b"0123456789abcdefghij"), (200, b"sub main\n")],
                                     (tls, n, piece))
            # still one limit: a head over MAX_HEADER_SIZE (16384) is refused
            got = self.exchange(tls, padded_head(b"GET /hello.txt HTTP/1.1", 17000))
            self.assertEqual([st for st, _, _ in got], [431], tls)

    def test_bodies_after_heads_of_any_size(self):
        # POST /setled reads "led" at the end of the body (GET /status shows
        # it); /session answers from the Cookie field of a head whose body
        # made the input grow (the head's fields must still be right).
        form = b"Content-Type: application/x-www-form-urlencoded\r\n"
        led = 0
        for tls in (False, True):
            for n in self.SIZES[:-1]:
                for kind in ("length", "chunked"):
                    led ^= 1
                    body = b"note=" + b"n" * 6000 + b"&led=%d" % led
                    if kind == "length":
                        framing, sent = b"Content-Length: %d\r\n" % len(body), body
                    else:
                        framing, sent = b"Transfer-Encoding: chunked\r\n", chunked(body)
                    visits = 100 + n
                    reqs = (padded_head(b"POST /setled HTTP/1.1", n, form + framing) + sent +
                            padded_head(b"GET /status HTTP/1.1", 200) +
                            padded_head(b"POST /session HTTP/1.1", n,
                                        framing + b"Cookie: visits=%d\r\n" % visits) + sent +
                            padded_head(b"GET /hello.txt HTTP/1.1", 300, b"Connection: close\r\n"))
                    got = self.exchange(tls, reqs)
                    what = (tls, n, kind)
                    self.assertEqual([st for st, _, _ in got], [302, 200, 200, 200], (what, got))
                    self.assertTrue(got[1][2].startswith(b"led=%d " % led), (what, got[1]))
                    self.assertIn(b"visit %d<" % (visits + 1), got[2][2], what)
                    self.assertEqual(got[3][2], b"0123456789abcdefghij", what)

    def test_idle_connection_then_requests_again(self):
        # Between requests the connection gives its buffers back; it takes
        # them again for the next request, small or large, whole or in parts.
        for tls in (False, True):
            s = self.connect(tls)
            try:
                for i, n in enumerate((300, 9000, 300, 16000, 300)):
                    head = padded_head(b"GET /hello.txt HTTP/1.1", n)
                    time.sleep(0.2)  # idle (any pause will do)
                    if i == 2:  # a head in two parts, idle between them
                        s.sendall(head[:100])
                        time.sleep(0.2)
                        head = head[100:]
                    s.sendall(head)
                    got = self.read_responses(s, 1)
                    self.assertEqual([(st, body) for st, _, body in got],
                                     [(200, b"0123456789abcdefghij")], (tls, n))
            finally:
                s.close()

if __name__ == "__main__":
    unittest.main()
