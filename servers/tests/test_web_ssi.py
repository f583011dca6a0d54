#!/usr/bin/env python3
"""SSI through a running server: chipd_cgi_app registers the tags of
InstallSsi (servers/tests/chipd_cgi_app.c) for both servers, with the file
filter "*.shtml" on HTTP (server 0) and "files in a directory named ssi" on
HTTPS (server 1). Pages are fetched over HTTP and HTTPS with Python's
http.client and curl.

Run: CHIPD=build/servers/tests/chipd_cgi_app python3 -m unittest -v test_web_ssi
(from servers/tests).
"""
import os
import shutil
import tempfile
import unittest

import test_chipd
from test_chipd import Base

BLOCK = 64 * 1024  # web_ssi.c's input block


def big():
    return bytes((ord("a") + i % 26) for i in range(30000)) * 10


class TestSSI(Base):
    extra_web = ""
    extra_ssl = ""

    @classmethod
    def setUpClass(cls):
        cls.d = tempfile.mkdtemp(prefix="chipd-ssi-test-")
        test_chipd.make_pki(cls.d)
        root = test_chipd.make_root(cls.d)
        os.makedirs(f"{root}/ssi")
        page = b"<p>A<!--#echo-->B<!--#unknown-->C<!--#nothing-->D</p>\n"
        for name in ("ssi/page.shtml", "x.shtml", "ssi/plain.htm"):
            with open(f"{root}/{name}", "wb") as f:
                f.write(page)
        # a tag across the first and the second read block
        cls.split = b"x" * (BLOCK - 5) + b"<!--#echo-->" + b"y" * 10
        for name in ("split.shtml", "ssi/split.htm"):
            with open(f"{root}/{name}", "wb") as f:
                f.write(cls.split)
        for name in ("big.shtml", "ssi/big.htm"):
            with open(f"{root}/{name}", "wb") as f:
                f.write(b"[<!--#big-->]" + b"z" * 100000 + b"<!--#big-->end")
        with open(f"{root}/hide.shtml", "wb") as f:
            f.write(b"1<!--#hide-->hidden<!--#echo-->3<!--#hide-->hidden<!--#show-->2<!--#stop-->never")
        with open(f"{root}/bad.shtml", "wb") as f:
            f.write(b"before<!--#bad-->after")
        # a prefix of a tag at the very end of the file
        with open(f"{root}/tail.shtml", "wb") as f:
            f.write(b"end<!--#ec")
        cls.srv = test_chipd.Chipd(cls.d, cls.extra_web, cls.extra_ssl)

    def echo(self, server, path, query=""):
        return b"[<!--#echo--> server=%d method=1 path=%s query=%s]" % (server, path.encode(),
                                                                         query.encode())

    def test_tags_replaced_http_and_https_with_own_filters(self):
        r, data = self.get("/x.shtml?a=1&b=%20")
        self.assertEqual(r.status, 200)
        self.assertEqual(data, b"<p>A" + self.echo(0, "/x.shtml", "a=1&b=%20") +
                         b"B<!--#unknown-->CD</p>\n")
        self.assertEqual(int(r.getheader("Content-Length")), len(data))
        self.assertEqual(r.getheader("Cache-Control"), "no-cache")
        self.assertIsNone(r.getheader("Last-Modified"))
        # HTTPS filters by directory "ssi": x.shtml is a plain file there
        r, data = self.get("/x.shtml", tls=True)
        self.assertEqual(data, b"<p>A<!--#echo-->B<!--#unknown-->C<!--#nothing-->D</p>\n")
        r, data = self.get("/ssi/plain.htm", tls=True)
        self.assertEqual(data, b"<p>A" + self.echo(1, "/ssi/plain.htm") + b"B<!--#unknown-->CD</p>\n")
        r, data = self.get("/ssi/plain.htm")  # not *.shtml: raw over HTTP
        self.assertEqual(data, b"<p>A<!--#echo-->B<!--#unknown-->C<!--#nothing-->D</p>\n")
        r, data = self.get("/ssi/page.shtml", tls=True)
        self.assertEqual(data, b"<p>A" + self.echo(1, "/ssi/page.shtml") + b"B<!--#unknown-->CD</p>\n")
        r = self.curl(self.url("/ssi/page.shtml", True))
        self.assertEqual(r.stdout, data, r.stderr)

    def test_tag_split_across_blocks(self):
        for tls, path in ((False, "/split.shtml"), (True, "/ssi/split.htm")):
            r, data = self.get(path, tls=tls)
            self.assertEqual(r.status, 200)
            self.assertEqual(data, b"x" * (BLOCK - 5) + self.echo(int(tls), path) + b"y" * 10)

    def test_large_output_head_and_no_range_or_304(self):
        want = b"[" + big() + b"]" + b"z" * 100000 + big() + b"end"
        for tls, path in ((False, "/big.shtml"), (True, "/ssi/big.htm")):
            r, data = self.get(path, tls=tls)
            self.assertEqual((r.status, len(data)), (200, len(want)))
            self.assertTrue(data == want, "the large SSI page differs")
        # HTTPS parses only the "ssi" directory: this one is sent raw
        r, data = self.get("/big.shtml", tls=True)
        self.assertTrue(data.startswith(b"[<!--#big-->]"))
        r = self.curl("-o", "/dev/null", "-w", "%{http_code} %{size_download}", self.url("/big.shtml"))
        self.assertEqual(r.stdout, b"200 %d" % len(want), r.stderr)
        r, data = self.get("/big.shtml", method="HEAD")
        self.assertEqual((r.status, data, int(r.getheader("Content-Length"))), (200, b"", len(want)))
        # Range and If-Modified-Since do not apply to SSI output
        r, data = self.get("/x.shtml", headers={"Range": "bytes=0-3"})
        self.assertEqual(r.status, 200)
        self.assertIsNone(r.getheader("Content-Range"))
        self.assertIn(b"server=0", data)
        r, data = self.get("/x.shtml", headers={"If-Modified-Since": "Fri, 01 Jan 2100 00:00:00 GMT"})
        self.assertEqual(r.status, 200)
        self.assertIn(b"server=0", data)
        # a plain file still honours both
        self.assertEqual(self.get("/hello.txt", headers={"Range": "bytes=0-3"})[1], b"0123")

    def test_output_disable_abort_and_error(self):
        r, data = self.get("/hide.shtml")
        # a handler's own output always goes out; its result (echo: ENABLE)
        # turns the static text back on
        self.assertEqual(data, b"1" + self.echo(0, "/hide.shtml") + b"32[stop]")
        r, data = self.get("/bad.shtml")
        self.assertEqual(r.status, 500)
        self.assertNotIn(b"before", data)
        r, data = self.get("/tail.shtml")  # an unfinished tag at the end stays text
        self.assertEqual((r.status, data), (200, b"end<!--#ec"))
        # keep-alive goes on after SSI pages
        import http.client
        c = http.client.HTTPConnection("127.0.0.1", self.srv.http, timeout=test_chipd.TIMEOUT)
        for path in ("/x.shtml", "/hello.txt", "/bad.shtml", "/split.shtml", "/hello.txt"):
            c.request("GET", path)
            resp = c.getresponse()
            body = resp.read()
            self.assertIn(resp.status, (200, 500), path)
            self.assertEqual(len(body), int(resp.getheader("Content-Length")), path)
        c.close()


if __name__ == "__main__":
    unittest.main()
