#!/usr/bin/env python3
"""The original CGI API through chipd: chipd_cgi_app (an application that
embeds chipd and installs the original-style CGI application of
servers/web/tests/test_cgi_original_app.c and a few functions more) driven
over HTTP and HTTPS with curl and Python's http.client.

Run: CHIPD=build/servers/tests/chipd_cgi_app python3 -m unittest -v test_chipd_cgi
(from servers/tests). Needs python3, openssl, curl.
"""
import http.client
import os
import socket
import ssl
import threading
import time
import unittest

from test_chipd import TIMEOUT, Base, raw, run, status_of

CRED_ADMIN = "Basic YWRtaW46czNjcmV0"  # admin:s3cret (SECURE_USER1)
CRED_WRONG = "Basic YWRtaW46d3Jvbmc="  # admin:wrong


class TestCGI(Base):
    extra_web = ("SECURE_PATH = /secure\nSECURE_USER1 = admin\nSECURE_PASSWORD1 = s3cret\n"
                 "UPLOAD_USER1 = up\nUPLOAD_PASSWORD1 = load\n")
    extra_ssl = f"CLIENT_AUTH = 1\nCA = {{d}}/ca.pem\n"

    @classmethod
    def setUpClass(cls):
        # The CA file's directory is only known once Base made it.
        import tempfile
        import test_chipd
        cls.d = tempfile.mkdtemp(prefix="chipd-cgi-test-")
        test_chipd.make_pki(cls.d)
        test_chipd.make_root(cls.d)
        import os
        os.makedirs(f"{cls.d}/root/secure")
        with open(f"{cls.d}/root/secure/note.txt", "w") as f:
            f.write("secure file")
        cls.srv = test_chipd.Chipd(cls.d, cls.extra_web, cls.extra_ssl.format(d=cls.d))

    def tls_ctx(self):
        ctx = ssl.create_default_context(cafile=f"{self.d}/ca.pem")
        ctx.load_cert_chain(f"{self.d}/client.pem", f"{self.d}/client.key")
        return ctx

    def req(self, path, method="GET", headers=None, body=None, tls=False):
        if tls:
            c = http.client.HTTPSConnection("localhost", self.srv.https, timeout=TIMEOUT,
                                            context=self.tls_ctx())
        else:
            c = http.client.HTTPConnection("127.0.0.1", self.srv.http, timeout=TIMEOUT)
        c.request(method, path, body=body, headers=headers or {})
        r = c.getresponse()
        data = r.read()
        c.close()
        return r, data

    def curl_tls(self, *args):
        return self.curl("--cert", f"{self.d}/client.pem", "--key", f"{self.d}/client.key", *args)

    def test_get_query_http_and_https(self):
        for tls in (False, True):
            r, data = self.req("/status?verbose=1", headers={"Host": "chip.local"}, tls=tls)
            self.assertEqual(r.status, 200)
            self.assertEqual(r.getheader("Content-Type"), "text/plain; charset=utf-8")
            self.assertTrue(data.startswith(b"led="))
            self.assertIn(b"host=chip.local ip=127.0.0.1", data)
        # curl, query decoded by the application (CGI_GetArgument)
        r = self.curl("-u", "admin:chip", self.url("/led?x=1&state=%6Fn"))
        self.assertEqual(r.stdout, b"led on", r.stderr)
        r = self.curl("-u", "admin:nope", "-w", "%{http_code}", "-o", "/dev/null", self.url("/led?state=on"))
        self.assertEqual(r.stdout, b"401")

    def test_post_urlencoded_and_head(self):
        r = self.curl("-i", "-d", "note=hello+world&led=1", self.url("/setled"))
        self.assertIn(b"HTTP/1.1 302 Found", r.stdout, r.stderr)
        self.assertIn(b"Location: /main.htm", r.stdout)
        self.assertIn(b"Content-Length: 0", r.stdout)
        r, data = self.req("/status")
        self.assertTrue(data.startswith(b"led=1"), data)
        r, data = self.req("/status", method="HEAD")
        self.assertEqual((r.status, data), (200, b""))
        self.assertEqual(int(r.getheader("Content-Length")), len(self.req("/status")[1]))
        # HEAD and a next request on the same connection
        resp = raw(self.srv.http, b"HEAD /status HTTP/1.1\r\nHost: x\r\n\r\n"
                   b"GET /clear HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        self.assertEqual(resp.count(b"HTTP/1.1 200 OK"), 1, resp)
        self.assertTrue(resp.endswith(b"HTTP/1.1 204 No Content\r\n") or b"204 No Content" in resp, resp)
        self.assertNotIn(b"led=", resp)

    def test_405_with_allow(self):
        r, _ = self.req("/setled")
        self.assertEqual(r.status, 405)
        self.assertEqual(r.getheader("Allow"), "POST")
        r, _ = self.req("/status", method="POST", body=b"a=1",
                        headers={"Content-Type": "application/x-www-form-urlencoded"})
        self.assertEqual((r.status, r.getheader("Allow")), (405, "GET, HEAD"))

    def test_cookies_both_ways(self):
        r, data = self.req("/session", method="POST", body=b"",
                           headers={"Cookie": "lang=de; visits=41; theme=\"dark\""})
        self.assertEqual(r.status, 200)
        self.assertEqual(data, b"<html><body>visit 42</body></html>")
        self.assertTrue(r.getheader("Set-Cookie").startswith("visits=42; Expires="))
        r = self.curl_tls("-i", "-b", "visits=7", self.url("/session", True))
        self.assertIn(b"Set-Cookie: visits=8; ", r.stdout, r.stderr)
        self.assertTrue(r.stdout.endswith(b"visit 8</body></html>"))

    def test_secure_area(self):
        for path in ("/secure/info", "/secure/note.txt"):
            r, data = self.req(path)
            self.assertEqual(r.status, 401, path)
            self.assertTrue(r.getheader("WWW-Authenticate").startswith("Basic realm="), path)
            r, _ = self.req(path, headers={"Authorization": CRED_WRONG})
            self.assertEqual(r.status, 401, path)
            # the upload account is no secure account
            r, _ = self.req(path, headers={"Authorization": "Basic dXA6bG9hZA=="})
            self.assertEqual(r.status, 401, path)
        r, data = self.req("/secure/info", headers={"Authorization": CRED_ADMIN})
        self.assertEqual((r.status, data), (200, b"secret for admin"))
        r, data = self.req("/SECURE/note.txt", headers={"Authorization": CRED_ADMIN})
        self.assertIn(r.status, (200, 404))  # case: never served without credentials
        r, data = self.req("/secure/note.txt", headers={"Authorization": CRED_ADMIN}, tls=True)
        self.assertEqual((r.status, data), (200, b"secure file"))
        # the application's 401 page, for functions and files
        for path in ("/secure/info", "/secure/note.txt"):
            r, data = self.req(path)
            self.assertEqual((r.status, data), (401, b"app page: who are you?"), path)
            self.assertTrue(r.getheader("WWW-Authenticate").startswith("Basic realm="), path)

    def test_tls_fields(self):
        r = self.curl_tls("--tlsv1.3", self.url("/tls", True))
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertRegex(r.stdout.decode(), r"^tls=1 version=16 suite=130[123] name=TLS_AES_\w+ "
                                            r"subject=CN=chipd test client$")
        r = self.curl_tls("--tlsv1.2", "--tls-max", "1.2", self.url("/tls", True))
        self.assertRegex(r.stdout.decode(), r"^tls=1 version=8 suite=c0(2b|2c|2f|30) name=TLS_ECDHE_\w+ "
                                            r"subject=CN=chipd test client$")
        r, data = self.req("/tls")
        self.assertEqual(data, b"tls=0 version=0 suite=0000 name= subject=")

    def test_error_pages_and_500(self):
        r, data = self.req("/gone")
        self.assertEqual(r.status, 404)
        self.assertEqual(data, b"<html><body>No such page on this @CHIP</body></html>")
        for path, tls in (("/nothing.htm", False), ("/sub/none/", True)):  # static files too
            r, data = self.req(path, tls=tls)
            self.assertEqual((r.status, data), (404, b"<html><body>No such page on this @CHIP</body></html>"))
        r, data = self.req("/nothing.htm", method="HEAD")
        self.assertEqual((r.status, data), (404, b""))
        r, data = self.req("/boom")
        self.assertEqual((r.status, data), (500, b"app page: something broke"))

    def test_static_files_mime_from_cgi_table(self):
        r, data = self.req("/")
        self.assertEqual(r.status, 200)
        self.assertEqual(r.getheader("Content-Type"), "text/html; charset=utf-8")
        r, _ = self.req("/hello.txt")
        self.assertEqual(r.getheader("Content-Type"), "text/plain; charset=utf-8")

    def two_blocking_calls(self):
        """Two 1.5 s callbacks started at once: the seconds until both ended."""
        t0 = time.monotonic()
        ts = [threading.Thread(target=self.req, args=("/block?ms=1500",)) for _ in range(2)]
        for t in ts:
            t.start()
        for t in ts:
            t.join(TIMEOUT)
        return time.monotonic() - t0

    def test_callbacks_serialised(self):
        # CGI_CONCURRENT=0 (the default): one callback at a time, as the original's web task
        self.assertGreaterEqual(self.two_blocking_calls(), 3.0)

    def test_blocking_callback_does_not_stall_static_files(self):
        out = {}

        def slow():
            out["r"] = self.req("/block?ms=3000")

        t = threading.Thread(target=slow)
        t.start()
        time.sleep(0.3)  # the call is running
        t0 = time.monotonic()
        for tls in (False, True, False):
            r, data = self.req("/hello.txt", tls=tls)
            self.assertEqual((r.status, data), (200, b"0123456789abcdefghij"))
        took = time.monotonic() - t0
        self.assertTrue(t.is_alive(), "the blocking call ended before the static requests were done")
        self.assertLess(took, 2.0)
        t.join(TIMEOUT)
        self.assertEqual(out["r"][1], b"blocked 3000")

    def upload_dir_clean(self):
        names = os.listdir(f"{self.d}/root")
        self.assertFalse([n for n in names if n.startswith(".chipd-upload")], names)
        return names

    def test_upload(self):
        src = f"{self.d}/payload.bin"
        payload = os.urandom(200000) + b"\r\n--not-the-boundary\r\n"
        with open(src, "wb") as f:
            f.write(payload)
        r = self.curl("-u", "up:load", "-F", "note=hi", "-F", f"file=@{src};filename=../../up1.bin",
                      self.url("/upload"))
        self.assertEqual(r.stdout, b"stored up1.bin by up", r.stderr)
        with open(f"{self.d}/root/up1.bin", "rb") as f:
            self.assertTrue(f.read() == payload, "the stored file differs")
        # over HTTPS too, then fetched back as a static file
        r = self.curl_tls("-u", "up:load", "-F", f"f=@{src};filename=up2.bin", self.url("/upload", True))
        self.assertEqual(r.stdout, b"stored up2.bin by up", r.stderr)
        r, data = self.req("/up2.bin")
        self.assertTrue(r.status == 200 and data == payload)
        # accounts: none, a secure one, a wrong password: 401, nothing stored
        for cred in ([], ["-u", "admin:s3cret"], ["-u", "up:wrong"]):
            r = self.curl(*cred, "-w", "%{http_code}", "-o", "/dev/null", "-F", f"f=@{src};filename=no.bin",
                          self.url("/upload"))
            self.assertEqual(r.stdout, b"401", cred)
        self.assertNotIn("no.bin", self.upload_dir_clean())

    def test_upload_cut_off_or_unterminated(self):
        head = (b"POST /upload HTTP/1.1\r\nHost: x\r\nAuthorization: Basic dXA6bG9hZA==\r\n"
                b"Content-Type: multipart/form-data; boundary=XyZ\r\n")
        part = (b"--XyZ\r\nContent-Disposition: form-data; name=\"f\"; filename=\"cut.bin\"\r\n\r\n"
                + b"a" * 5000)
        # the connection ends in the middle of the body
        s = socket.create_connection(("127.0.0.1", self.srv.http), timeout=TIMEOUT)
        s.sendall(head + b"Content-Length: %d\r\n\r\n" % (len(part) + 100) + part)
        s.shutdown(socket.SHUT_WR)
        self.assertEqual(s.recv(4096), b"")
        s.close()
        # the whole body came, but without its closing delimiter: 400
        resp = raw(self.srv.http, head + b"Content-Length: %d\r\nConnection: close\r\n\r\n" % len(part) + part)
        self.assertEqual(status_of(resp), 400, resp)
        # then a good one under the same name
        body = part + b"\r\n--XyZ--\r\n"
        resp = raw(self.srv.http, head + b"Content-Length: %d\r\nConnection: close\r\n\r\n" % len(body) + body)
        self.assertEqual(status_of(resp), 200, resp)
        with open(f"{self.d}/root/cut.bin", "rb") as f:
            self.assertEqual(f.read(), b"a" * 5000)
        os.unlink(f"{self.d}/root/cut.bin")
        resp = raw(self.srv.http, head + b"Content-Length: %d\r\nConnection: close\r\n\r\n" % len(part) + part)
        self.assertEqual(status_of(resp), 400, resp)
        self.assertNotIn("cut.bin", self.upload_dir_clean())

    def test_head_completed_by_a_read_that_fills_the_input(self):
        # The head's end arrives in the same read as a body larger than the
        # input buffer: the head is complete, not "too large" (was a 431).
        s = socket.create_connection(("127.0.0.1", self.srv.http), timeout=TIMEOUT)
        s.sendall(b"POST /status HTTP/1.1\r\nHost: x\r\n")
        time.sleep(0.3)  # the server reads the first part alone
        s.sendall(b"Connection: close\r\nContent-Length: 100000\r\n\r\n" + b"a=" + b"b" * 99998)
        out = b""
        while True:
            b = s.recv(65536)
            if not b:
                break
            out += b
        s.close()
        self.assertEqual(status_of(out), 405, out[:200])

    def test_main_page_at_run_time(self):
        try:
            self.assertEqual(self.req("/ctl?main=hello.txt")[1], b"ctl 0 state 0")
            self.assertEqual(self.req("/")[1], b"0123456789abcdefghij")  # a file
            self.assertEqual(self.req("/ctl?main=status")[1], b"ctl 0 state 0")
            r, data = self.req("/", tls=True)  # a CGI function
            self.assertEqual(r.status, 200)
            self.assertTrue(data.startswith(b"led="), data)
            r, _ = self.req("/", method="POST", body=b"a=1")  # status is GET only
            self.assertEqual((r.status, r.getheader("Allow")), (405, "GET, HEAD"))
        finally:
            self.req("/ctl?main=main.htm")
        self.assertIn(b"chipd main page", self.req("/")[1])

    def test_root_dir_at_run_time(self):
        from urllib.parse import quote
        os.makedirs(f"{self.d}/root2", exist_ok=True)
        with open(f"{self.d}/root2/other.txt", "w") as f:
            f.write("in root2")
        try:
            self.assertEqual(self.req("/ctl?root=" + quote(f"{self.d}/root2", safe=""))[1], b"ctl 0 state 0")
            r, data = self.req("/other.txt", tls=True)
            self.assertEqual((r.status, data), (200, b"in root2"))
            self.assertEqual(self.req("/hello.txt")[0].status, 404)
            self.assertEqual(self.req("/ctl?root=/nonexistent")[1], b"ctl 1 state 0")
            self.assertEqual(self.req("/other.txt")[0].status, 200)
        finally:
            self.req("/ctl?root=" + quote(f"{self.d}/root", safe=""))
        self.assertEqual(self.req("/other.txt")[0].status, 404)
        self.assertEqual(self.req("/hello.txt")[0].status, 200)

    def connect_from(self, src):
        """GET /hello.txt over HTTP from source address src: the bytes answered."""
        s = socket.socket()
        s.settimeout(TIMEOUT)
        s.bind((src, 0))
        s.connect(("127.0.0.1", self.srv.http))
        out = b""
        try:
            s.sendall(b"GET /hello.txt HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
            while True:
                b = s.recv(65536)
                if not b:
                    break
                out += b
        except (ConnectionResetError, BrokenPipeError):
            pass
        s.close()
        return out

    def test_zz_accept_filter_and_server_on_off(self):
        ok = b"0123456789abcdefghij"
        try:
            self.assertTrue(self.connect_from("127.0.0.2").endswith(ok))
            self.assertEqual(self.req("/ctl?filter=two", tls=True)[1], b"ctl 0 state 0")
            self.assertEqual(self.connect_from("127.0.0.2"), b"")  # refused: closed at once
            self.assertTrue(self.connect_from("127.0.0.1").endswith(ok))
            # a keep-alive connection opened before the suspension
            import http.client
            kept = http.client.HTTPConnection("127.0.0.1", self.srv.http, timeout=TIMEOUT)
            kept.request("GET", "/hello.txt")
            self.assertEqual(kept.getresponse().read(), ok)
            self.assertEqual(self.req("/ctl?filter=none&http=off", tls=True)[1], b"ctl 0 state 1")
            # suspended: the listener is closed, connects are refused
            with self.assertRaises(ConnectionRefusedError):
                socket.create_connection(("127.0.0.1", self.srv.http), timeout=TIMEOUT)
            r = self.curl("-o", "/dev/null", self.url("/hello.txt"))
            self.assertEqual(r.returncode, 7, r.stderr)  # curl: "Failed to connect"
            kept.request("GET", "/hello.txt")  # ... but open connections go on
            self.assertEqual(kept.getresponse().read(), ok)
            kept.close()
            r, data = self.req("/hello.txt", tls=True)  # the HTTPS server is not suspended
            self.assertEqual(data, ok)
            self.assertEqual(self.req("/ctl?http=on", tls=True)[1], b"ctl 0 state 0")
            self.assertTrue(self.connect_from("127.0.0.1").endswith(ok))  # same port again
            self.assertTrue(self.connect_from("127.0.0.2").endswith(ok))
            # the HTTPS server, suspended and resumed from the HTTP side
            self.assertEqual(self.req("/ctl?https=off")[1], b"ctl 0 state 1")
            with self.assertRaises(ConnectionRefusedError):
                socket.create_connection(("127.0.0.1", self.srv.https), timeout=TIMEOUT)
            self.assertEqual(self.req("/ctl?https=on")[1], b"ctl 0 state 0")
            self.assertEqual(self.req("/hello.txt", tls=True)[1], ok)
            # an accept filter refusing everyone on HTTPS: curl fails (closed before the
            # handshake), then removed: curl works
            self.assertEqual(self.req("/ctl?tlsfilter=all")[1], b"ctl 0 state 0")
            r = self.curl_tls("-o", "/dev/null", self.url("/hello.txt", True))
            self.assertIn(r.returncode, (35, 56), r.stderr)  # SSL connect error / recv failure
            self.assertEqual(self.req("/ctl?tlsfilter=none")[1], b"ctl 0 state 0")
            r = self.curl_tls(self.url("/hello.txt", True))
            self.assertEqual((r.returncode, r.stdout), (0, ok), r.stderr)
        finally:
            self.req("/ctl?filter=none&http=on", tls=True)
            self.req("/ctl?https=on&tlsfilter=none")


class TestCGIConcurrent(TestCGI):
    """The same with [WEB] CGI_CONCURRENT=1: callbacks run at once."""
    extra_web = TestCGI.extra_web + "CGI_CONCURRENT = 1\n"

    def test_callbacks_serialised(self):
        self.assertLess(self.two_blocking_calls(), 2.9)



class TestCGIInline(TestCGI):
    """The same with [WEB] CGI_INLINE=1: the callbacks run on the workers
    (serialised, CGI_CONCURRENT=0); every CGI behaviour is unchanged."""
    extra_web = TestCGI.extra_web + "CGI_INLINE = 1\nWORKERS = 1\n"

    def test_blocking_callback_does_not_stall_static_files(self):
        # The opposite, which shows the callback runs on the worker: with
        # one worker a static request waits until a blocking callback ends
        # (CGI_INLINE=1 promises callbacks that never block).
        out = {}

        def slow():
            out["r"] = self.req("/block?ms=2000")

        t = threading.Thread(target=slow)
        t.start()
        time.sleep(1.0)  # the call is running
        r, data = self.req("/hello.txt?inline")
        self.assertEqual((r.status, data), (200, b"0123456789abcdefghij"))
        t.join(TIMEOUT)
        self.assertEqual(out["r"][1], b"blocked 2000")
        # The access log has a line per finished response, in the order the
        # one worker finished them: the callback's first, then the file.
        with open(self.srv.acclog) as f:
            lines = f.read().splitlines()
        block = max(i for i, l in enumerate(lines) if "/block?ms=2000" in l)
        static = max(i for i, l in enumerate(lines) if "/hello.txt?inline" in l)
        self.assertLess(block, static, "the static request was answered during the callback")


if __name__ == "__main__":
    unittest.main()
