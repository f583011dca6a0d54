#!/usr/bin/env python3
"""The original CGI API through chipd: chipd_cgi_app (an application that
embeds chipd and installs the original-style CGI application of
servers/web/tests/test_cgi_original_app.c and a few functions more) driven
over HTTP and HTTPS with curl and Python's http.client.

Run: CHIPD=build/servers/tests/chipd_cgi_app python3 -m unittest -v test_chipd_cgi
(from servers/tests). Needs python3, openssl, curl.
"""
import http.client
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
        # the application's 401 page
        r, data = self.req("/secure/info")
        self.assertEqual(data, b"app page: who are you?")

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
        r, data = self.req("/boom")
        self.assertEqual((r.status, data), (500, b"app page: something broke"))

    def test_static_files_mime_from_cgi_table(self):
        r, data = self.req("/")
        self.assertEqual(r.status, 200)
        self.assertEqual(r.getheader("Content-Type"), "text/html; charset=utf-8")
        r, _ = self.req("/hello.txt")
        self.assertEqual(r.getheader("Content-Type"), "text/plain; charset=utf-8")

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
            self.assertEqual(self.req("/ctl?filter=none&http=off", tls=True)[1], b"ctl 0 state 1")
            self.assertEqual(self.connect_from("127.0.0.1"), b"")  # suspended
            r, data = self.req("/hello.txt", tls=True)  # the HTTPS server is not
            self.assertEqual(data, ok)
            self.assertEqual(self.req("/ctl?http=on", tls=True)[1], b"ctl 0 state 0")
            self.assertTrue(self.connect_from("127.0.0.1").endswith(ok))
            self.assertTrue(self.connect_from("127.0.0.2").endswith(ok))
        finally:
            self.req("/ctl?filter=none&http=on", tls=True)


if __name__ == "__main__":
    unittest.main()
