#!/usr/bin/env python3
"""The Web server reviewed as an attacker would use it: request smuggling
and framing, paths, log injection, header injection, stalled and hostile
clients, descriptors back to their count after each scenario.

Run: CHIPD=build/servers/chipd python3 -m unittest -v test_web_adversarial
(from servers/tests). Every wait is bounded; nothing is judged on time.
"""
import base64
import json
import os
import re
import resource
import socket
import ssl
import subprocess
import tempfile
import time
import unittest

import test_chipd
from test_chipd import TIMEOUT, raw, status_of


SHRINK_SIZE = 256 * 1024 * 1024


def fd_count(pid):
    return len(os.listdir(f"/proc/{pid}/fd"))


def head_of(resp):
    """The header lines of the first response (status line excluded)."""
    return resp.split(b"\r\n\r\n", 1)[0].split(b"\r\n")[1:]


class TestAdversarial(test_chipd.Base):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        root = f"{cls.d}/root"
        # Directories whose names carry bytes a Location must not carry raw.
        os.mkdir(f"{root}/d\r\nX-Injected: 1")
        os.mkdir(f"{root}/sp ace")
        os.mkfifo(f"{root}/fifo")
        # The count with no connection open (chipd has just started).
        cls.base_fds = fd_count(cls.srv.p.pid)

    def settle_fds(self, baseline):
        """The server's descriptor count back to baseline (bounded wait: the
        server closes after its linger)."""
        deadline = time.monotonic() + TIMEOUT
        while fd_count(self.srv.p.pid) != baseline and time.monotonic() < deadline:
            time.sleep(0.05)
        self.assertEqual(fd_count(self.srv.p.pid), baseline)

    def test_user_name_cannot_forge_access_log_lines(self):
        """A Basic user name is any bytes: CR/LF, blanks and quotes are
        escaped in the access log; the password is never written."""
        cred = base64.b64encode(b'evil\r\n127.0.0.1 - admin [x] "GET /forged HTTP/1.1" 200 1:Secr3tPw')
        resp = raw(self.srv.http, b"GET /hello.txt HTTP/1.1\r\nHost: x\r\nAuthorization: Basic " + cred +
                   b"\r\nConnection: close\r\n\r\n")
        self.assertEqual(status_of(resp), 200)
        with open(self.srv.acclog, "rb") as f:
            log = f.read()
        self.assertNotIn(b"Secr3tPw", log)
        self.assertNotIn(b"dXNl", log)  # nor the credentials as sent
        lines = log.splitlines()
        self.assertFalse([l for l in lines if l.startswith(b"127.0.0.1 - admin")], lines[-3:])
        ours = [l for l in lines if l.startswith(b"127.0.0.1 - evil")]
        self.assertEqual(len(ours), 1, lines[-3:])
        self.assertIn(b"evil\\x0D\\x0A127.0.0.1\\x20-\\x20admin\\x20[x]\\x20\\x22GET", ours[0])
        self.assertIn(b'"GET /hello.txt HTTP/1.1" 200 20', ours[0])

    def test_request_line_cannot_forge_access_log_lines(self):
        """The request line's bytes that could end the quoted field (a
        quote, a backslash) are escaped; bytes beyond ASCII or control bytes
        never reach the log (the parser answers 400 and logs no line)."""
        resp = raw(self.srv.http, b'GET /nothere"x\\ HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n')
        self.assertEqual(status_of(resp), 404)
        resp = raw(self.srv.http, b'GET /nothere\xc3\xa9\r HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n')
        self.assertEqual(status_of(resp), 400)
        with open(self.srv.acclog, "rb") as f:
            log = f.read()
        self.assertIn(b'"GET /nothere\\x22x\\x5C HTTP/1.1" 404', log)
        self.assertNotIn(b"\xc3", log)

    def test_directory_redirect_location_is_encoded(self):
        """The 301 to a directory's slash form names the path percent-encoded:
        a %0D%0A in the request cannot add a header to the response."""
        resp = raw(self.srv.http, b"GET /d%0D%0AX-Injected:%201 HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        self.assertEqual(status_of(resp), 301, resp)
        self.assertNotIn(b"X-Injected", b"\n".join(h for h in head_of(resp) if not h.startswith(b"Location:")))
        self.assertIn(b"Location: /d%0D%0AX-Injected:%201/", head_of(resp))
        resp = raw(self.srv.http, b"GET /sp%20ace HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        self.assertEqual(status_of(resp), 301, resp)
        self.assertIn(b"Location: /sp%20ace/", head_of(resp))
        # curl follows it to the directory (no main page there: 404), the
        # encoded form naming the same directory
        r = self.curl("-s", "-o", "/dev/null", "-w", "%{http_code} %{url_effective}", "-L", self.url("/sp%20ace"))
        self.assertEqual(r.stdout.decode(), f"404 http://127.0.0.1:{self.srv.http}/sp%20ace/")
        self.settle_fds(self.base_fds)

    def test_empty_transfer_encoding_next_to_content_length(self):
        """An empty Transfer-Encoding field is refused (400), not ignored in
        favour of the Content-Length: the body's framing must be certain."""
        for te in (b"", b" , ", b","):
            resp = raw(self.srv.http, b"POST /hello.txt HTTP/1.1\r\nHost: x\r\nTransfer-Encoding:" + te +
                       b"\r\nContent-Length: 5\r\n\r\n0\r\n\r\nGET /smuggled HTTP/1.1\r\nHost: x\r\n\r\n")
            self.assertEqual(status_of(resp), 400, (te, resp))
            self.assertEqual(resp.count(b"HTTP/1.1 "), 1, resp)
            self.assertIn(b"Connection: close", resp)

    def test_smuggling_forms_refused(self):
        """Framing the server cannot be sure of is refused with the
        connection closed: nothing behind it is read as a request."""
        tail = b"GET /smuggled HTTP/1.1\r\nHost: x\r\n\r\n"
        cases = [
            (b"Transfer-Encoding: chunked\r\nContent-Length: 5\r\n", 400),
            (b"Content-Length: 5\r\nContent-Length: 6\r\n", 400),
            (b"Content-Length: 5, 6\r\n", 400),
            (b"Content-Length: +5\r\n", 400),
            (b"Content-Length: 0x5\r\n", 400),
            (b"Transfer-Encoding: chunked, identity\r\n", 501),
            (b"Transfer-Encoding: gzip, chunked\r\n", 501),
            (b"Transfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n", 400),
            (b"Transfer-Encoding : chunked\r\n", 400),
            (b"X-Fold: a\r\n folded\r\n", 400),
            (b"X-Nul: a\x00b\r\n", 400),
            (b"X-Cr: a\rb\r\n", 400),
        ]
        for hdr, want in cases:
            resp = raw(self.srv.http, b"POST /hello.txt HTTP/1.1\r\nHost: x\r\n" + hdr + b"\r\n0\r\n\r\n" + tail)
            self.assertEqual(status_of(resp), want, (hdr, resp))
            self.assertEqual(resp.count(b"HTTP/1.1 "), 1, (hdr, resp))
        for body, want in ((b" 3\r\nabc\r\n0\r\n\r\n", 400), (b"3 \r\nabc\r\n0\r\n\r\n", None),
                           (b"fffffffffffffffff\r\n", 413), (b"-1\r\n", 400), (b"3\r\nabcX0\r\n\r\n", 400),
                           (b"3;ext=1\r\nabc\r\n0\r\n\r\n", None)):
            resp = raw(self.srv.http, b"POST /hello.txt HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n" +
                       body + b"GET /hello.txt HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
            if want is None:  # well formed: 405 (static file), then the next request
                self.assertEqual(status_of(resp), 405, (body, resp))
                self.assertIn(b"HTTP/1.1 200 OK", resp)
            else:
                self.assertEqual(status_of(resp), want, (body, resp))
                self.assertEqual(resp.count(b"HTTP/1.1 "), 1, (body, resp))
        self.settle_fds(self.base_fds)

    def test_odd_request_lines(self):
        p = self.srv.http
        cases = [
            (b"OPTIONS * HTTP/1.1\r\nHost: x\r\n\r\n", 405),
            (b"CONNECT 127.0.0.1:1 HTTP/1.1\r\nHost: x\r\n\r\n", 405),
            (b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n", 501),
            (b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03" + os.urandom(40), 400),  # a ClientHello
            (b"GET http://other.example/hello.txt HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n", 200),
            (b"GET /hello.txt HTTP/1.1\nHost: x\nConnection: close\n\n", 200),  # bare LF
            (b"GET /hello.txt\x00 HTTP/1.1\r\nHost: x\r\n\r\n", 400),
            (b"GET /hello%00.txt HTTP/1.1\r\nHost: x\r\n\r\n", 400),
            (b"GET /hello.txt HTTP/1.1\r\nHost: x\r\nHost: y\r\n\r\n", 400),
            (b"GET /hello.txt HTTP/3.0\r\nHost: x\r\n\r\n", 505),
        ]
        for req, want in cases:
            self.assertEqual(status_of(raw(p, req)), want, req)
        # a body on a GET is read and dropped; the next request is answered
        resp = raw(p, b"GET /hello.txt HTTP/1.1\r\nHost: x\r\nContent-Length: 4\r\n\r\nGET GET /hello.txt HTTP/1.1\r\n"
                      b"Host: x\r\nConnection: close\r\n\r\n")
        self.assertEqual(resp.count(b"HTTP/1.1 200 OK"), 2, resp)
        # pipelined, the second malformed: the first is answered, then 400
        resp = raw(p, b"GET /hello.txt HTTP/1.1\r\nHost: x\r\n\r\nGET /x HTTP/1.1\r\nBad Header: 1\r\n\r\n")
        self.assertTrue(resp.startswith(b"HTTP/1.1 200 OK"), resp)
        self.assertIn(b"HTTP/1.1 400 ", resp)
        # HTTP/1.0 keep-alive: kept open, a second request answered on it
        s = socket.create_connection(("127.0.0.1", p), timeout=TIMEOUT)
        for _ in range(2):
            s.sendall(b"GET /hello.txt HTTP/1.0\r\nConnection: keep-alive\r\n\r\n")
            got = b""
            while not got.endswith(b"0123456789abcdefghij"):
                b = s.recv(4096)
                self.assertTrue(b, got)
                got += b
            self.assertIn(b"Connection: keep-alive", got)
        s.close()
        self.settle_fds(self.base_fds)

    def test_paths(self):
        p = self.srv.http
        for path, want in ((b"/sub//main.htm", 200), (b"/./sub/./main.htm", 200), (b"/sub%2fmain.htm", 200),
                           (b"/sub\\main.htm", 404), (b"/hello.txt.", 404), (b"/HELLO.TXT", 404),
                           (b"/fifo", 404), (b"/etcdir/passwd", 404), (b"/" + b"a" * 1100, 414)):
            resp = raw(p, b"GET " + path + b" HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
            self.assertEqual(status_of(resp), want, path)
        self.settle_fds(self.base_fds)

    def test_ranges(self):
        def rng(spec):
            return raw(self.srv.http, b"GET /hello.txt HTTP/1.1\r\nHost: x\r\nRange: " + spec +
                       b"\r\nConnection: close\r\n\r\n")
        for spec, want, body in ((b"bytes=0-0", 206, b"0"), (b"bytes=-0", 416, b""), (b"bytes=5-2", 200, None),
                                 (b"bytes=0-1,3-4", 200, None), (b"bytes=99999999999999999999-", 200, None),
                                 (b"bytes=18-99999999999", 206, b"ij"), (b"bytes=20-", 416, b""),
                                 (b"bytes=-5", 206, b"fghij"), (b"items=0-1", 200, None)):
            resp = rng(spec)
            self.assertEqual(status_of(resp), want, spec)
            got = resp.split(b"\r\n\r\n", 1)[1]
            if want == 200:
                self.assertEqual(got, b"0123456789abcdefghij", spec)
            elif want == 206:
                self.assertEqual(got, body, spec)

    def test_if_range(self):
        """If-Range: the range only when the date is the file's
        Last-Modified; another date or an entity tag gets the whole file
        (a client must not splice a part of a newer file onto an older)."""
        r, _ = self.get("/hello.txt")
        lm = r.getheader("Last-Modified").encode()
        older = b"Mon, 01 Jan 2001 00:00:00 GMT"
        for cond, want in ((lm, 206), (older, 200), (b'"some-etag"', 200), (b"W/\"x\"", 200),
                           (b"not a date", 200)):
            resp = raw(self.srv.http, b"GET /hello.txt HTTP/1.1\r\nHost: x\r\nRange: bytes=0-3\r\nIf-Range: " +
                       cond + b"\r\nConnection: close\r\n\r\n")
            self.assertEqual(status_of(resp), want, cond)
            self.assertEqual(resp.split(b"\r\n\r\n", 1)[1],
                             b"0123" if want == 206 else b"0123456789abcdefghij", cond)
        # without Range, If-Range changes nothing
        resp = raw(self.srv.http, b"GET /hello.txt HTTP/1.1\r\nHost: x\r\nIf-Range: " + older +
                   b"\r\nConnection: close\r\n\r\n")
        self.assertEqual(status_of(resp), 200)

    def test_file_shrinks_while_sent(self):
        """A file truncated between the head (its Content-Length) and the
        end of its body: the connection is closed short of the length
        announced (the client sees the truncation), never padded or left
        hanging; HTTP (sendfile) and HTTPS (pread) alike."""
        path = f"{self.d}/root/shrink.bin"
        ctx = ssl.create_default_context(cafile=f"{self.d}/ca.pem")
        for tls in (False, True):
            with open(path, "wb") as f:  # sparse: far more than socket buffers hold
                f.truncate(SHRINK_SIZE)
            s = socket.create_connection(("127.0.0.1", self.srv.https if tls else self.srv.http), timeout=TIMEOUT)
            if tls:
                s = ctx.wrap_socket(s, server_hostname="localhost")
            s.sendall(b"GET /shrink.bin HTTP/1.1\r\nHost: x\r\n\r\n")
            got = b""
            while b"\r\n\r\n" not in got:
                got += s.recv(4096)
            head, body = got.split(b"\r\n\r\n", 1)
            self.assertIn(b"Content-Length: %d\r\n" % SHRINK_SIZE, head)
            with open(path, "r+b") as f:
                f.truncate(1000)
            n = len(body)
            try:
                while True:
                    b = s.recv(65536)
                    if not b:
                        break
                    n += len(b)
            except (ConnectionResetError, ssl.SSLError):
                pass  # over TLS: no close_notify, the truncation is seen
            s.close()
            self.assertLess(n, SHRINK_SIZE, tls)
            r, data = self.get("/shrink.bin", tls=tls)
            self.assertEqual((r.status, len(data)), (200, 1000))
        os.unlink(path)
        self.settle_fds(self.base_fds)

    def test_tls_failures_leave_no_descriptor(self):
        """Failed and abandoned handshakes, a TLS peer gone mid-request, a
        ClientHello cut short: each connection's descriptor is closed."""
        port = self.srv.https
        raw(port, b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")  # plain HTTP on the HTTPS port
        raw(port, b"\x16\x03\x01\x00\xff\x01\x00")       # a ClientHello cut short, then closed
        old = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        old.check_hostname, old.verify_mode = False, ssl.CERT_NONE
        old.set_ciphers("AES128-SHA")  # no suite in common with the PROPOSALS
        old.maximum_version = ssl.TLSVersion.TLSv1_2
        with self.assertRaises((ssl.SSLError, ConnectionResetError)):
            raw(port, b"x", tls_ctx=old)
        ctx = ssl.create_default_context(cafile=f"{self.d}/ca.pem")
        s = ctx.wrap_socket(socket.create_connection(("127.0.0.1", port), timeout=TIMEOUT),
                            server_hostname="localhost")
        s.sendall(b"GET /hello.txt HTTP/1.1\r\nHost: x\r\n")  # half a head, then gone
        s.close()
        s = ctx.wrap_socket(socket.create_connection(("127.0.0.1", port), timeout=TIMEOUT),
                            server_hostname="localhost")
        s.sendall(b"GET /big.bin HTTP/1.1\r\nHost: x\r\n\r\n")
        s.recv(100)
        s.close()  # gone mid-response
        self.settle_fds(self.base_fds)

    def test_oversized_body_refused_before_reading(self):
        """MAX_BODY (1000 here) + 1 announced: 413 at once, then closed,
        without the client sending a byte of the body."""
        s = socket.create_connection(("127.0.0.1", self.srv.http), timeout=TIMEOUT)
        s.sendall(b"POST /hello.txt HTTP/1.1\r\nHost: x\r\nContent-Length: 1001\r\nExpect: 100-continue\r\n\r\n")
        got = b""
        while True:
            b = s.recv(4096)
            if not b:
                break
            got += b
        s.close()
        self.assertEqual(status_of(got), 413, got)
        self.assertNotIn(b"100 Continue", got)
        self.assertIn(b"Connection: close", got)
        # chunked over MAX_BODY
        resp = raw(self.srv.http, b"POST /hello.txt HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n" +
                   b"200\r\n" + b"a" * 512 + b"\r\n" + b"200\r\n" + b"a" * 512 + b"\r\n0\r\n\r\n")
        self.assertEqual(status_of(resp), 413, resp)
        self.settle_fds(self.base_fds)

    def test_client_that_never_reads(self):
        """A client that asks for a big file and reads nothing: the server's
        memory does not grow by the file (sendfile), and the descriptors come
        back once the client goes."""
        with open(f"/proc/{self.srv.p.pid}/status") as f:
            rss0 = int(re.search(r"VmRSS:\s+(\d+)", f.read()).group(1))
        socks = []
        for _ in range(20):
            s = socket.create_connection(("127.0.0.1", self.srv.http), timeout=TIMEOUT)
            s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
            s.sendall(b"GET /big.bin HTTP/1.1\r\nHost: x\r\n\r\n" * 4)
            socks.append(s)
        s = socket.create_connection(("127.0.0.1", self.srv.http), timeout=TIMEOUT)
        s.sendall(b"GET /hello.txt HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        self.assertTrue(s.recv(4096).startswith(b"HTTP/1.1 200 OK"))  # the others do not block it
        s.close()
        with open(f"/proc/{self.srv.p.pid}/status") as f:
            rss1 = int(re.search(r"VmRSS:\s+(\d+)", f.read()).group(1))
        self.assertLess(rss1 - rss0, 20 * 1024, (rss0, rss1))  # far less than 20 x 3 MiB
        for s in socks:
            s.close()
        self.settle_fds(self.base_fds)


class TestStatusPagePeerText(test_chipd.Base):
    """The status page shows peer-chosen text (the SNI a client sends: any
    bytes but NUL): the JSON stays valid UTF-8 with everything escaped, the
    HTML has no markup of the peer's."""
    extra_web = "STATUS_PAGE = /status\n"

    def test_sni_bytes_escaped(self):
        sni = b'\xff\xfe"<img src=x onerror=alert(1)>\xc3\xa9\xed\xa0\x80\\'
        p = subprocess.Popen(["openssl", "s_client", "-connect", f"127.0.0.1:{self.srv.https}",
                              "-servername", sni, "-quiet"],
                             stdin=subprocess.PIPE, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            deadline = time.monotonic() + TIMEOUT
            while True:  # until the connection is on the page, handshake done
                resp = raw(self.srv.http, b"GET /status?format=json HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
                body = resp.split(b"\r\n\r\n", 1)[1]
                j = json.loads(body)  # valid UTF-8 JSON (failed before: raw 0xFF)
                snis = [c["sni"] for c in j["connections"] if c.get("sni")]
                if snis or time.monotonic() > deadline:
                    break
                time.sleep(0.05)
            self.assertEqual(snis, ['\ufffd\ufffd"<img src=x onerror=alert(1)>\u00e9\ufffd\ufffd\ufffd\\'])
            self.assertNotIn(b"<img", body)
            resp = raw(self.srv.http, b"GET /status HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
            page = resp.split(b"\r\n\r\n", 1)[1]
            page.decode("utf-8")  # strict: every byte a character
            self.assertNotIn(b"<img", page)
            self.assertIn(b"&quot;&lt;img src=x onerror=alert(1)&gt;\xc3\xa9", page)
        finally:
            p.kill()
            p.wait()
            p.stdin.close()


class TestRedirectAbsoluteForm(test_chipd.Base):
    """REDIRECT_HTTPS with an absolute-form target ("GET http://host/path"):
    the Location is https://host:port + the path and query, not the whole
    target appended; an authority a Host field could not be is refused."""
    extra_web = "REDIRECT_HTTPS = 1\n"

    def test_absolute_form_redirect(self):
        def loc(target):
            resp = raw(self.srv.http, b"GET " + target + b" HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
            return status_of(resp), [h for h in head_of(resp) if h.startswith(b"Location:")]
        port = b"%d" % self.srv.https
        self.assertEqual(loc(b"http://example.com/a/b?c=d"), (301, [b"Location: https://example.com:" + port + b"/a/b?c=d"]))
        self.assertEqual(loc(b"http://example.com:8080"), (301, [b"Location: https://example.com:" + port + b"/"]))
        self.assertEqual(loc(b"http://example.com?q"), (301, [b"Location: https://example.com:" + port + b"/?q"]))
        self.assertEqual(loc(b"/a?b"), (301, [b"Location: https://x:" + port + b"/a?b"]))
        for bad in (b"http://evil.example@example.com/", b"http://exa\"mple.com/", b"http://a<b>/"):
            self.assertEqual(loc(bad), (400, []), bad)
        # curl follows it (the redirect lands on the HTTPS instance)
        r = self.curl("-s", "-o", "/dev/null", "-w", "%{http_code} %{redirect_url}",
                      "--request-target", "http://localhost/hello.txt", self.url("/"))
        self.assertEqual(r.stdout.decode(), f"301 https://localhost:{self.srv.https}/hello.txt")


class TestOutOfDescriptors(test_chipd.Base):
    """chipd out of descriptors (RLIMIT_NOFILE reached): the connections
    it cannot accept wait in the backlog without a worker spinning on the
    listener (a level-triggered listener with a pending connection wakes
    epoll_wait at once), and are served once descriptors are free."""

    def test_emfile_no_busy_loop(self):
        pid = self.srv.p.pid
        old = resource.prlimit(pid, resource.RLIMIT_NOFILE)
        lim = fd_count(pid) + 4
        resource.prlimit(pid, resource.RLIMIT_NOFILE, (lim, old[1]))
        socks = []
        try:
            for _ in range(4):  # the descriptors left
                socks.append(socket.create_connection(("127.0.0.1", self.srv.http), timeout=TIMEOUT))
            deadline = time.monotonic() + TIMEOUT
            while fd_count(pid) < lim and time.monotonic() < deadline:
                time.sleep(0.02)
            self.assertEqual(fd_count(pid), lim)
            # all accepted: no descriptor left for the file, 503 (not 404)
            socks[0].sendall(b"GET /hello.txt HTTP/1.1\r\nHost: x\r\n\r\n")
            got = socks[0].recv(4096)
            self.assertEqual(status_of(got), 503, got)
            waiting = socket.create_connection(("127.0.0.1", self.srv.http), timeout=TIMEOUT)
            waiting.sendall(b"GET /hello.txt HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")

            def cpu_ticks():
                with open(f"/proc/{pid}/stat") as f:
                    v = f.read().rsplit(")", 1)[1].split()
                return int(v[11]) + int(v[12])  # utime + stime
            hz = os.sysconf("SC_CLK_TCK")
            t0, c0 = time.monotonic(), cpu_ticks()
            time.sleep(1)
            used = (cpu_ticks() - c0) / hz
            # spinning, a worker used all the CPU it got (about 1 s here);
            # held off, it wakes ten times a second
            self.assertLess(used, (time.monotonic() - t0) / 4, used)
            for s in socks:
                s.close()
            got = b""  # accepted once descriptors are free
            while True:
                b = waiting.recv(4096)
                if not b:
                    break
                got += b
            self.assertTrue(got.startswith(b"HTTP/1.1 200 OK"), got)
            waiting.close()
        finally:
            for s in socks:
                s.close()
            resource.prlimit(pid, resource.RLIMIT_NOFILE, old)


class TestStalledClients(test_chipd.Base):
    """IDLE_TIMEOUT ends a response the client never reads (the write side
    stalls), HEADER_TIMEOUT a head sent byte by byte; the descriptors come
    back either way."""
    extra_web = "IDLE_TIMEOUT = 1\nHEADER_TIMEOUT = 1\n"

    def wait_fds(self, n):
        deadline = time.monotonic() + TIMEOUT
        while fd_count(self.srv.p.pid) != n and time.monotonic() < deadline:
            time.sleep(0.05)
        return fd_count(self.srv.p.pid)

    def test_never_reading_client_closed(self):
        path = f"{self.d}/root/huge.bin"
        with open(path, "wb") as f:  # sparse: far more than socket buffers hold
            f.truncate(SHRINK_SIZE)
        base = fd_count(self.srv.p.pid)
        for port in (self.srv.http, self.srv.https):
            s = socket.create_connection(("127.0.0.1", port), timeout=TIMEOUT)
            s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
            if port == self.srv.https:
                s = ssl.create_default_context(cafile=f"{self.d}/ca.pem").wrap_socket(s, server_hostname="localhost")
            s.sendall(b"GET /huge.bin HTTP/1.1\r\nHost: x\r\n\r\n")
            self.assertTrue(s.recv(1).startswith(b"H"))  # answering
            # nothing more read: the server gives up on the stalled response
            # (it cannot have finished: 256 MiB do not fit in the socket
            # buffers between us)
            self.assertEqual(self.wait_fds(base), base, port)
            s.close()
        os.unlink(path)

    def test_byte_by_byte_head_closed(self):
        base = fd_count(self.srv.p.pid)
        s = socket.create_connection(("127.0.0.1", self.srv.http), timeout=TIMEOUT)
        s.sendall(b"G")
        self.assertEqual(self.wait_fds(base + 1), base + 1)  # accepted
        closed = False
        deadline = time.monotonic() + TIMEOUT
        for b in (b"ET /hello.txt HTTP/1.1\r\nHost: x\r\n" + b"X-Slow: " + b"a" * 4000):
            try:
                s.sendall(bytes([b]))
            except (BrokenPipeError, ConnectionResetError):
                closed = True
                break
            if fd_count(self.srv.p.pid) == base or time.monotonic() > deadline:
                closed = fd_count(self.srv.p.pid) == base
                break
            time.sleep(0.01)
        s.close()
        self.assertTrue(closed)
        self.assertEqual(self.wait_fds(base), base)


class TestErrorLogPeerText(test_chipd.Base):
    """The error log's TLS failure line carries the reason, which names the
    client certificate (its CN: the peer's choice, unverified): a CR/LF in
    it must not start a line of the peer's."""

    @classmethod
    def setUpClass(cls):
        cls.d = tempfile.mkdtemp(prefix="chipd-test-")
        test_chipd.make_pki(cls.d)
        test_chipd.make_root(cls.d)
        cls.srv = test_chipd.Chipd(cls.d, "", f"CLIENT_AUTH = 1\nCA = {cls.d}/ca.pem\n")

    def test_client_cert_cn_cannot_forge_error_log_lines(self):
        from cryptography import x509
        from cryptography.hazmat.primitives import hashes, serialization
        from cryptography.hazmat.primitives.asymmetric import ec
        from cryptography.x509.oid import NameOID
        import datetime
        key = ec.generate_private_key(ec.SECP256R1())
        cn = "evil\r\n2026-01-01 00:00:00 chipd: forged line\x1b[31m"
        name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, cn)])
        now = datetime.datetime.now(datetime.timezone.utc)
        cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
                .serial_number(7).not_valid_before(now - datetime.timedelta(days=1))
                .not_valid_after(now + datetime.timedelta(days=1)).sign(key, hashes.SHA256()))
        with open(f"{self.d}/evil.pem", "wb") as f:
            f.write(cert.public_bytes(serialization.Encoding.PEM))
        with open(f"{self.d}/evil.key", "wb") as f:
            f.write(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                      serialization.NoEncryption()))
        ctx = ssl.create_default_context(cafile=f"{self.d}/ca.pem")
        ctx.maximum_version = ssl.TLSVersion.TLSv1_2  # the refusal inside the handshake
        ctx.load_cert_chain(f"{self.d}/evil.pem", f"{self.d}/evil.key")
        with self.assertRaises((ssl.SSLError, ConnectionResetError)):
            raw(self.srv.https, b"GET / HTTP/1.1\r\nHost: x\r\n\r\n", tls_ctx=ctx)
        deadline = time.monotonic() + TIMEOUT
        while "evil" not in self.srv.errors() and time.monotonic() < deadline:
            time.sleep(0.05)
        log = self.srv.errors()
        ours = [l for l in log.splitlines() if "evil" in l]
        self.assertEqual(len(ours), 1, log)
        self.assertIn("evil\\x0D\\x0A2026-01-01 00:00:00 chipd: forged line\\x1B[31m", ours[0])
        self.assertFalse([l for l in log.splitlines() if l.startswith("2026-01-01 00:00:00 chipd: forged")])


class TestOverloadNoUpload(test_chipd.Base):
    """Over MAX_CONNECTIONS the 503 comes right after the head: no
    100 Continue, no body taken that will be refused anyway."""
    extra_web = "MAX_CONNECTIONS = 1\n"

    def test_503_before_the_body(self):
        held = socket.create_connection(("127.0.0.1", self.srv.http), timeout=TIMEOUT)
        held.sendall(b"GET /hello.txt HTTP/1.1\r\nHost: x\r\n\r\n")
        self.assertTrue(held.recv(4096).startswith(b"HTTP/1.1 200 OK"))  # accepted, kept alive
        s = socket.create_connection(("127.0.0.1", self.srv.http), timeout=TIMEOUT)
        s.sendall(b"POST /hello.txt HTTP/1.1\r\nHost: x\r\nContent-Length: 1000\r\n"
                  b"Expect: 100-continue\r\n\r\n")
        got = b""
        try:
            while True:
                b = s.recv(4096)
                if not b:
                    break
                got += b
        except socket.timeout:
            pass
        s.close()
        self.assertTrue(got.startswith(b"HTTP/1.1 503 "), got)
        self.assertNotIn(b"100 Continue", got)
        self.assertIn(b"Connection: close", got)
        held.close()


if __name__ == "__main__":
    unittest.main()
