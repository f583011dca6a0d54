#!/usr/bin/env python3
"""The Web server through chipd_cgi_app (chipd with the test application's
CGI functions and error pages): the application's 503 page over
MAX_CONNECTIONS, identities chosen by SNI, many connections at once with
slow clients among them.

Run: CHIPD=build/servers/tests/chipd_cgi_app python3 -m unittest -v test_web_server
(from servers/tests). Every wait is bounded; nothing is judged on time.
"""
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


if __name__ == "__main__":
    unittest.main()
