#!/usr/bin/env python3
"""testssl.sh (Debian's testssl.sh, program `testssl`) against chipd's HTTPS
instance on 127.0.0.1 with the default configuration (no PROPOSALS: the
library's default list, option 2 on), its JSON findings parsed:

- protocols: only TLS 1.2 and 1.3 offered (SSLv2, SSLv3, TLS 1.0, 1.1 not);
- the server has a cipher order (option 2, server proposals);
- cipher categories: no NULL, anonymous, export, LOW (DES, RC2, RC4, 64-bit),
  3DES/IDEA, nor "obsolete CBC" suites; strong (AEAD) ones offered; every
  TLS 1.2 suite of the server's order is ECDHE with AES-GCM or ChaCha20;
- the quick vulnerability checks (Heartbleed, CCS, Ticketbleed, ROBOT,
  renegotiation, CRIME, POODLE, fallback SCSV, SWEET32, FREAK, DROWN, LOGJAM,
  BEAST, LUCKY13, RC4) all answer OK;
- and no finding anywhere of severity LOW or worse, nor a scan problem.

testssl takes about a minute here (it is bash and openssl; the server's
side is small). Set CHIPD_SKIP_TESTSSL=1 to skip it (the test then reports
itself skipped); CTest registers it only where `testssl` is installed.

Run: CHIPD=build/servers/chipd python3 -m unittest -v test_web_testssl
"""
import json
import os
import shutil
import tempfile
import unittest

import test_chipd
from test_chipd import Chipd, run

CHECKS = ["-p", "-P", "-s", "-H", "-I", "-T", "-BB", "-R", "-C", "-O", "-Z", "-W", "-F", "-D", "-J",
          "-A", "-L", "-4"]
VULNS = ["heartbleed", "CCS", "ticketbleed", "ROBOT", "secure_renego", "secure_client_renego",
         "CRIME_TLS", "POODLE_SSL", "fallback_SCSV", "SWEET32", "FREAK", "DROWN", "LOGJAM", "BEAST",
         "LUCKY13", "RC4"]


@unittest.skipIf(os.environ.get("CHIPD_SKIP_TESTSSL") == "1", "CHIPD_SKIP_TESTSSL=1")
@unittest.skipUnless(shutil.which("testssl"), "testssl (Debian testssl.sh) not installed")
class TestTestssl(unittest.TestCase):
    def test_testssl_findings(self):
        d = tempfile.mkdtemp(prefix="chipd-testssl-")
        try:
            test_chipd.make_pki(d)
            test_chipd.make_root(d)
            srv = Chipd(d)
            try:
                out = f"{d}/testssl.json"
                r = run(["testssl", "--quiet", "--color", "0", "--warnings", "off", "--nodns", "none",
                         "--connect-timeout", "20", "--openssl-timeout", "20", "--add-ca", f"{d}/ca.pem",
                         "--jsonfile-pretty", out, *CHECKS, "--ip", "127.0.0.1", f"localhost:{srv.https}"],
                        timeout=900)
                self.assertTrue(os.path.exists(out), r.stdout.decode()[-3000:] + r.stderr.decode()[-3000:])
                with open(out) as f:
                    scan = json.load(f)["scanResult"][0]
            finally:
                self.assertEqual(srv.stop(), 0)
        finally:
            shutil.rmtree(d, ignore_errors=True)
        findings = {}
        for section, items in scan.items():
            if isinstance(items, list):
                for it in items:
                    findings[it["id"]] = it
        text = json.dumps(findings, indent=1)

        def finding(i):
            self.assertIn(i, findings, text)
            return findings[i]["finding"]

        for p in ("SSLv2", "SSLv3", "TLS1", "TLS1_1"):
            self.assertTrue(finding(p).startswith("not offered"), (p, finding(p)))
        for p in ("TLS1_2", "TLS1_3"):
            self.assertTrue(finding(p).startswith("offered"), (p, finding(p)))
        self.assertEqual(finding("cipher_order"), "server")
        self.assertEqual(findings["cipher_order"]["severity"], "OK")
        for c in ("NULL", "aNULL", "EXPORT", "LOW", "3DES_IDEA", "AVERAGE"):
            self.assertEqual(finding("cipherlist_" + c), "not offered", c)
        self.assertEqual(finding("cipherlist_STRONG"), "offered")
        suites = finding("cipherorder_TLSv1_2").split()
        self.assertTrue(suites, text)
        for s in suites:
            self.assertTrue(s.startswith("ECDHE-") and ("-GCM-" in s or "CHACHA20" in s), s)
        for v in VULNS:
            self.assertIn(v, findings, v)
            self.assertEqual(findings[v]["severity"], "OK", (v, findings[v]))
        bad = {i: f for i, f in findings.items()
               if f["severity"] not in ("OK", "INFO") or i.startswith("scanProblem")}
        self.assertEqual(bad, {})


if __name__ == "__main__":
    unittest.main()
