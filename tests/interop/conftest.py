"""Fixtures and helpers for the chipssl interop tests.

The tests drive the two example programs against real TLS peers (openssl
s_client/s_server, gnutls-cli, Python's ssl module):

  CHIPSSL_ECHO_SERVER  path of tls_echo_server (default: build/examples/...)
  CHIPSSL_HTTPS_GET    path of https_get       (default: build/examples/...)
  CHIPSSL_PKI_DIR      directory made by tests/pki/mkpki.sh; when unset, the
                       PKI is generated once per session into a temporary dir.

Every process a test starts is registered with the `procs` fixture and is
killed and reaped when the test ends. Every wait has a timeout, so no test can
hang. Only 127.0.0.1 and ::1 are used; ports come from the kernel (port 0).
"""

import os
import re
import shutil
import socket
import ssl
import subprocess
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
MKPKI = REPO / "tests" / "pki" / "mkpki.sh"

TIMEOUT = 20          # seconds: upper bound for any one subprocess run
WAIT = 10             # seconds: waiting for a line / a connection result

# Certificate check flags and alerts (tcpip.h, RFC 8446 6.2)
BADCERT, REVOKED, EXPIRED, UNMATCHED, UNKNOWNCA, NOTVERIFIED = 0x01, 0x02, 0x04, 0x08, 0x10, 0x20
ALERT_HANDSHAKE_FAILURE = 40
ALERT_BAD_CERTIFICATE = 42
ALERT_CERTIFICATE_EXPIRED = 45
ALERT_UNKNOWN_CA = 48
ALERT_PROTOCOL_VERSION = 70
ALERT_CERTIFICATE_REQUIRED = 116

# IANA number -> (OpenSSL name, GnuTLS cipher, GnuTLS MAC, GnuTLS kx or None, TLS version)
SUITES = {
    0x1301: ("TLS_AES_128_GCM_SHA256", "AES-128-GCM", "AEAD", None, "TLS1.3"),
    0x1302: ("TLS_AES_256_GCM_SHA384", "AES-256-GCM", "AEAD", None, "TLS1.3"),
    0x1303: ("TLS_CHACHA20_POLY1305_SHA256", "CHACHA20-POLY1305", "AEAD", None, "TLS1.3"),
    0x1304: ("TLS_AES_128_CCM_SHA256", "AES-128-CCM", "AEAD", None, "TLS1.3"),
    0xC02B: ("ECDHE-ECDSA-AES128-GCM-SHA256", "AES-128-GCM", "AEAD", "ECDHE-ECDSA", "TLS1.2"),
    0xC02C: ("ECDHE-ECDSA-AES256-GCM-SHA384", "AES-256-GCM", "AEAD", "ECDHE-ECDSA", "TLS1.2"),
    0xC02F: ("ECDHE-RSA-AES128-GCM-SHA256", "AES-128-GCM", "AEAD", "ECDHE-RSA", "TLS1.2"),
    0xC030: ("ECDHE-RSA-AES256-GCM-SHA384", "AES-256-GCM", "AEAD", "ECDHE-RSA", "TLS1.2"),
    0xCCA8: ("ECDHE-RSA-CHACHA20-POLY1305", "CHACHA20-POLY1305", "AEAD", "ECDHE-RSA", "TLS1.2"),
    0xCCA9: ("ECDHE-ECDSA-CHACHA20-POLY1305", "CHACHA20-POLY1305", "AEAD", "ECDHE-ECDSA", "TLS1.2"),
    0xC027: ("ECDHE-RSA-AES128-SHA256", "AES-128-CBC", "SHA256", "ECDHE-RSA", "TLS1.2"),
    0xC028: ("ECDHE-RSA-AES256-SHA384", "AES-256-CBC", "SHA384", "ECDHE-RSA", "TLS1.2"),
}
OPENSSL_NAME_TO_IANA = {v[0]: k for k, v in SUITES.items()}


def suite_hex(n):
    return "0x%04X" % n


def suites_arg(suites):
    """List of IANA numbers -> the -s argument of the example programs."""
    return ",".join(suite_hex(s) for s in suites)


def gnutls_priority(suites, version):
    """GnuTLS priority string offering exactly `suites` (in that order)."""
    prio = ["NONE", "+VERS-" + version, "+COMP-NULL", "+SIGN-ALL",
            "+GROUP-ALL", "+CTYPE-X509"]
    seen = set()
    ciphers, macs, kxs = [], [], []
    for s in suites:
        _, ciph, mac, kx, _ = SUITES[s]
        for lst, item in ((ciphers, ciph), (macs, mac), (kxs, kx)):
            if item and item not in seen:
                seen.add(item)
                lst.append(item)
    return ":".join(prio + ["+" + c for c in ciphers] + ["+" + m for m in macs]
                    + ["+" + k for k in kxs])


_GNUTLS_CIPHERS = {v[1] for v in SUITES.values()}


def gnutls_description_cipher(out):
    """('TLS1.3', 'AES-256-GCM') from gnutls-cli's '- Description:' line,
    e.g. (TLS1.3-X.509)-(ECDHE-SECP256R1)-(RSA-PSS-RSAE-SHA256)-(AES-256-GCM)
    or (TLS1.2)-(ECDHE-SECP256R1)-(RSA-SHA256)-(AES-128-CBC)-(SHA256)."""
    m = re.search(r"^- Description: (.*)$", out, re.M)
    if not m:
        return None, None
    groups = re.findall(r"\(([^)]*)\)", m.group(1))
    if not groups:
        return None, None
    version = groups[0].split("-")[0]
    cipher = next((g for g in groups[1:] if g in _GNUTLS_CIPHERS), None)
    return version, cipher


# ---------------------------------------------------------------------------
# Parsing the example programs' status lines
# ---------------------------------------------------------------------------

_STATUS_KEYS = ("version", "suite", "resumed", "peer", "flags", "sni", "alpn", "origin",
                "error", "alert", "sent", "state", "reason", "in", "out", "port")
_KEY_RE = re.compile(r"(?:^|(?<= ))(%s)=" % "|".join(_STATUS_KEYS))
_INT_KEYS = {"resumed": 10, "flags": 16, "error": 10, "alert": 10, "sent": 10, "state": 10,
             "in": 10, "out": 10, "port": 10, "suite": 16, "origin": 10}


_NUM_IN_PARENS = re.compile(r"\((0x[0-9A-Fa-f]+|-?\d+)\)$")
_WORD_VALUES = {"yes": 1, "no": 0, "none": 0}


def parse_status(line):
    """'CONN ok version=TLS 1.2 suite=TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256 (0xC02F)
    ... peer=CN=x y flags=none'
    -> {'kind': 'CONN', 'status': 'ok', 'version': 'TLS1.2', 'suite': 0xC02F, ...}.
    The examples print words first and the number in parentheses; numeric
    keys give the number (yes/no/none: 1/0/0). Values may contain spaces
    (peer subject, reason): a value runs until the next known key; `reason`
    runs to the end of the line."""
    line = line.rstrip("\r\n")
    matches = []
    for m in _KEY_RE.finditer(line):
        matches.append(m)
        if m.group(1) == "reason":
            break
    head = line[: matches[0].start()] if matches else line
    words = head.split()
    d = {"kind": words[0] if words else "", "status": words[1] if len(words) > 1 else None,
         "line": line}
    for i, m in enumerate(matches):
        end = matches[i + 1].start() if i + 1 < len(matches) else len(line)
        raw = line[m.end():end]
        key = m.group(1)
        raw = raw if key == "reason" else raw.rstrip()
        if key in _INT_KEYS:
            num = _NUM_IN_PARENS.search(raw)
            if num:
                raw = num.group(1)
            if raw in _WORD_VALUES:
                d[key] = _WORD_VALUES[raw]
                continue
            try:
                d[key] = int(raw, 0) if _INT_KEYS[key] == 10 else int(raw, 16)
            except ValueError:
                d[key] = raw
        elif key == "version":
            d[key] = raw.replace(" ", "")  # "TLS 1.3" -> "TLS1.3"
        else:
            d[key] = raw
    return d


# ---------------------------------------------------------------------------
# Process management
# ---------------------------------------------------------------------------

class ManagedProcess:
    """A child process whose stdout/stderr are read by threads into line
    lists, so that tests can wait for a line without blocking forever."""

    def __init__(self, argv, name=None, stdin=False, env=None, cwd=None):
        self.argv = [str(a) for a in argv]
        self.name = name or os.path.basename(self.argv[0])
        self.proc = subprocess.Popen(
            self.argv, stdin=subprocess.PIPE if stdin else subprocess.DEVNULL,
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env, cwd=cwd)
        self.out_lines = []
        self.err_lines = []
        self.out_bytes = bytearray()
        self._cond = threading.Condition()
        self._eof = {"out": False, "err": False}
        self._threads = [
            threading.Thread(target=self._reader, args=(self.proc.stdout, "out"), daemon=True),
            threading.Thread(target=self._reader, args=(self.proc.stderr, "err"), daemon=True),
        ]
        for t in self._threads:
            t.start()

    def _reader(self, stream, which):
        buf = b""
        try:
            while True:
                chunk = stream.read1(65536) if hasattr(stream, "read1") else stream.read(65536)
                if not chunk:
                    break
                with self._cond:
                    if which == "out":
                        self.out_bytes += chunk
                    buf += chunk
                    *complete, buf = buf.split(b"\n")
                    target = self.out_lines if which == "out" else self.err_lines
                    for ln in complete:
                        target.append(ln.decode("utf-8", "replace").rstrip("\r"))
                    self._cond.notify_all()
        except (OSError, ValueError):
            pass
        finally:
            with self._cond:
                if buf:
                    target = self.out_lines if which == "out" else self.err_lines
                    target.append(buf.decode("utf-8", "replace").rstrip("\r"))
                self._eof[which] = True
                self._cond.notify_all()

    # -- waiting ------------------------------------------------------------
    def wait_for(self, predicate, timeout=WAIT, stream="out"):
        """Wait until predicate(lines) returns something true; return it.
        Returns None on timeout or when the stream ended without a match."""
        deadline = time.monotonic() + timeout
        with self._cond:
            while True:
                lines = self.out_lines if stream == "out" else self.err_lines
                r = predicate(lines)
                if r:
                    return r
                if self._eof[stream]:
                    return None
                left = deadline - time.monotonic()
                if left <= 0:
                    return None
                self._cond.wait(min(left, 0.5))

    def wait_line(self, regex, timeout=WAIT, stream="out", start=0):
        rx = re.compile(regex)

        def pred(lines):
            for ln in lines[start:]:
                m = rx.search(ln)
                if m:
                    return m
            return None
        return self.wait_for(pred, timeout, stream)

    def wait_bytes(self, data, timeout=WAIT):
        """Wait until stdout contains `data` (bytes)."""
        deadline = time.monotonic() + timeout
        with self._cond:
            while data not in self.out_bytes:
                if self._eof["out"]:
                    return False
                left = deadline - time.monotonic()
                if left <= 0:
                    return False
                self._cond.wait(min(left, 0.5))
            return True

    def write(self, data):
        if isinstance(data, str):
            data = data.encode()
        try:
            self.proc.stdin.write(data)
            self.proc.stdin.flush()
        except (BrokenPipeError, OSError, ValueError):
            pass

    def close_stdin(self):
        if self.proc.stdin and not self.proc.stdin.closed:
            try:
                self.proc.stdin.close()
            except OSError:
                pass

    def wait(self, timeout=WAIT):
        """Wait for exit; returns the exit code or None on timeout."""
        try:
            rc = self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            return None
        for t in self._threads:
            t.join(timeout=5)
        return rc

    @property
    def returncode(self):
        return self.proc.returncode

    def stop(self):
        """Terminate (then kill) and reap the process. Idempotent."""
        if self.proc.poll() is None:
            try:
                self.proc.terminate()
                self.proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=5)
            except OSError:
                pass
        self.close_stdin()
        for t in self._threads:
            t.join(timeout=5)
        for s in (self.proc.stdout, self.proc.stderr):
            try:
                s.close()
            except OSError:
                pass

    @property
    def out(self):
        with self._cond:
            return "\n".join(self.out_lines)

    @property
    def err(self):
        with self._cond:
            return "\n".join(self.err_lines)

    def describe(self):
        return "%s (rc=%s)\n--- stdout ---\n%s\n--- stderr ---\n%s" % (
            " ".join(self.argv), self.proc.returncode, self.out[-6000:], self.err[-6000:])


class ProcRegistry:
    def __init__(self):
        self.items = []

    def add(self, item):
        self.items.append(item)
        return item

    def stop_all(self):
        for p in reversed(self.items):
            try:
                p.stop()
            except Exception:  # noqa: BLE001 - teardown must go on
                pass
        self.items.clear()


@pytest.fixture
def procs():
    reg = ProcRegistry()
    yield reg
    reg.stop_all()


# ---------------------------------------------------------------------------
# Paths: binaries and PKI
# ---------------------------------------------------------------------------

def _binary(env, name):
    p = os.environ.get(env)
    if p:
        if not os.access(p, os.X_OK):
            pytest.fail("%s=%s is not an executable file" % (env, p))
        return p
    for cand in (REPO / "build" / "examples" / name, REPO / "build" / name):
        if os.access(cand, os.X_OK):
            return str(cand)
    pytest.skip("%s not set and %s not built" % (env, name))


@pytest.fixture(scope="session")
def echo_server_bin():
    return _binary("CHIPSSL_ECHO_SERVER", "tls_echo_server")


@pytest.fixture(scope="session")
def https_get_bin():
    return _binary("CHIPSSL_HTTPS_GET", "https_get")


@pytest.fixture(scope="session")
def pki(tmp_path_factory):
    """Directory with the test PKI (see tests/pki/mkpki.sh)."""
    d = os.environ.get("CHIPSSL_PKI_DIR")
    if d:
        d = Path(d)
        if not (d / "ca.pem").exists():
            pytest.fail("CHIPSSL_PKI_DIR=%s has no ca.pem (run tests/pki/mkpki.sh %s)" % (d, d))
        return d
    d = tmp_path_factory.mktemp("pki")
    r = subprocess.run(["bash", str(MKPKI), str(d)], capture_output=True, text=True,
                       timeout=120)
    if r.returncode != 0:
        pytest.fail("mkpki.sh failed: %s\n%s" % (r.stdout, r.stderr))
    return d


def free_port(family=socket.AF_INET):
    """A port that was free a moment ago (bind to port 0 and close)."""
    host = "::1" if family == socket.AF_INET6 else "127.0.0.1"
    with socket.socket(family, socket.SOCK_STREAM) as s:
        s.bind((host, 0))
        return s.getsockname()[1]


def have_ipv6():
    try:
        with socket.socket(socket.AF_INET6, socket.SOCK_STREAM) as s:
            s.bind(("::1", 0))
        return True
    except OSError:
        return False


# ---------------------------------------------------------------------------
# tls_echo_server
# ---------------------------------------------------------------------------

class EchoServer(ManagedProcess):
    port = None

    def conn_lines(self):
        with self._cond:
            return [parse_status(ln) for ln in self.out_lines if ln.startswith("CONN ")]

    def closed_lines(self):
        with self._cond:
            return [parse_status(ln) for ln in self.out_lines if ln.startswith("CLOSED")]

    def wait_conns(self, n=1, timeout=WAIT):
        """Wait for n CONN lines; returns the list of parsed CONN lines (may
        be shorter than n on timeout: the caller's assertion then shows it)."""
        self.wait_for(lambda lines: sum(1 for ln in lines if ln.startswith("CONN ")) >= n,
                      timeout)
        return self.conn_lines()

    def wait_conn(self, index=0, timeout=WAIT):
        conns = self.wait_conns(index + 1, timeout)
        assert len(conns) > index, "tls_echo_server printed no CONN line #%d\n%s" % (
            index + 1, self.describe())
        return conns[index]

    def wait_closed(self, n=1, timeout=WAIT):
        self.wait_for(lambda lines: sum(1 for ln in lines if ln.startswith("CLOSED")) >= n,
                      timeout)
        return self.closed_lines()


@pytest.fixture
def start_echo_server(echo_server_bin, pki, procs):
    """start_echo_server(args, cert='server', bind='127.0.0.1') -> EchoServer
    with .port. `cert` names a PKI file pair (NAME.pem/NAME.key), or None to
    pass no -c/-k at all (args must then have them)."""

    def start(args=(), cert="server", bind="127.0.0.1", ready_timeout=WAIT):
        argv = [echo_server_bin, "-p", "0", "-b", bind]
        if cert:
            argv += ["-c", pki / (cert + ".pem"), "-k", pki / (cert + ".key")]
        argv += [str(a) for a in args]
        srv = procs.add(EchoServer(argv, name="tls_echo_server"))
        m = srv.wait_line(r"^READY port=(\d+)", timeout=ready_timeout)
        if not m:
            srv.stop()
            pytest.fail("tls_echo_server did not print READY\n" + srv.describe())
        srv.port = int(m.group(1))
        srv.host = bind
        return srv
    return start


# ---------------------------------------------------------------------------
# https_get
# ---------------------------------------------------------------------------

@dataclass
class HttpsGetResult:
    argv: list
    rc: int
    stdout: bytes
    stderr: str
    handshakes: list = field(default_factory=list)

    @property
    def ok_handshakes(self):
        return [h for h in self.handshakes if h["status"] == "ok"]

    def describe(self):
        return "%s\nrc=%s\n--- stdout ---\n%r\n--- stderr ---\n%s" % (
            " ".join(self.argv), self.rc, bytes(self.stdout[:3000]), self.stderr[-6000:])


def url(host, port, path="/"):
    if ":" in host and not host.startswith("["):
        host = "[%s]" % host
    return "https://%s:%d%s" % (host, port, path)


@pytest.fixture
def run_https_get(https_get_bin):
    """run_https_get(args) -> HttpsGetResult; args are passed as given (the
    URL included). Killed after `timeout` seconds (then rc is None)."""

    def run(args, timeout=TIMEOUT):
        argv = [https_get_bin] + [str(a) for a in args]
        try:
            r = subprocess.run(argv, stdin=subprocess.DEVNULL, capture_output=True,
                               timeout=timeout)
            rc, out, err = r.returncode, r.stdout, r.stderr
        except subprocess.TimeoutExpired as e:
            rc, out, err = None, e.stdout or b"", (e.stderr or b"") + b"\n[killed: timeout]"
        err = err.decode("utf-8", "replace")
        hs = [parse_status(ln) for ln in err.splitlines() if ln.startswith("HANDSHAKE ")]
        return HttpsGetResult(argv, rc, out, err, hs)
    return run


# ---------------------------------------------------------------------------
# openssl s_server / s_client, gnutls-cli
# ---------------------------------------------------------------------------

class OpenSSLServer(ManagedProcess):
    port = None


@pytest.fixture
def start_openssl_server(pki, procs):
    """start_openssl_server(args, cert='server', bind='127.0.0.1') -> process
    with .port. Runs `openssl s_server -accept BIND:0 -cert .. -key .. ARGS`."""

    def start(args=(), cert="server", bind="127.0.0.1"):
        acc = "[%s]:0" % bind if ":" in bind else "%s:0" % bind
        argv = ["openssl", "s_server", "-accept", acc]
        if cert:
            argv += ["-cert", pki / (cert + ".pem"), "-key", pki / (cert + ".key")]
        argv += [str(a) for a in args]
        srv = procs.add(OpenSSLServer(argv, name="s_server", stdin=True))
        m = srv.wait_line(r"^ACCEPT .*:(\d+)\s*$")
        if not m:
            srv.stop()
            pytest.fail("openssl s_server did not start\n" + srv.describe())
        srv.port = int(m.group(1))
        return srv
    return start


_MSG_RE = re.compile(r"^(<<<|>>>) (TLS [\d.]+|\?\?\?|DTLS [\d.]+)[^,]*, Handshake \[length [0-9a-fA-F]+\], (\w+)")
_ALERT_MSG_RE = re.compile(r"^(<<<|>>>) [^,]*, Alert \[length [0-9a-fA-F]+\], (fatal|warning) (\w+)")
_SSL_ALERT_RE = re.compile(r"SSL alert number (\d+)")


@dataclass
class PeerResult:
    argv: list
    rc: int
    out: str
    err: str
    echoed: bool

    @property
    def text(self):
        return self.out + "\n" + self.err

    def handshake_msgs(self):
        """[(direction, name)] from `openssl s_client -msg` output; direction
        '<<<' = received by s_client (sent by the server)."""
        res = []
        for ln in self.out.splitlines():
            m = _MSG_RE.match(ln)
            if m:
                res.append((m.group(1), m.group(3)))
        return res

    def alerts(self):
        """[(direction, level, name)] from -msg output."""
        return [(m.group(1), m.group(2), m.group(3))
                for m in (_ALERT_MSG_RE.match(ln) for ln in self.out.splitlines()) if m]

    def received_alert_numbers(self):
        return [int(x) for x in _SSL_ALERT_RE.findall(self.text)]

    def negotiated(self):
        """(protocol, IANA suite) from s_client's 'New, TLSv1.3, Cipher is X' /
        'Reused, ...' line, or (None, None)."""
        m = re.search(r"^(?:New|Reused), (TLSv1\.[0-3]), Cipher is (\S+)", self.out, re.M)
        if not m or m.group(2) == "(NONE)":
            return None, None
        return m.group(1).replace("TLSv", "TLS"), OPENSSL_NAME_TO_IANA.get(m.group(2), m.group(2))

    def describe(self):
        return "%s\nrc=%s echoed=%s\n--- stdout ---\n%s\n--- stderr ---\n%s" % (
            " ".join(self.argv), self.rc, self.echoed, self.out[-8000:], self.err[-4000:])


def _run_interactive(procs, argv, token, timeout, name):
    """Start a TLS client tool with a stdin pipe, send `token`, wait until it
    comes back (echo) or the tool exits, then close stdin and reap it."""
    p = procs.add(ManagedProcess(argv, name=name, stdin=True))
    echoed = False
    if token is not None:
        p.write(token)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if p.wait_bytes(token.encode() if isinstance(token, str) else token, timeout=0.3):
                echoed = True
                break
            if p.proc.poll() is not None or p._eof["out"]:
                break
    p.close_stdin()
    rc = p.wait(timeout=timeout)
    if rc is None:
        p.stop()
        rc = p.proc.returncode
    else:
        p.stop()
    return PeerResult(p.argv, rc, p.out, p.err, echoed)


TOKEN = "chipssl-echo-7f3a9c\n"


# --- s_client output helpers ---------------------------------------------------

def cert_args(pki, name, chain=None):
    a = ["-cert", pki / (name + ".pem"), "-key", pki / (name + ".key")]
    if chain:
        a += ["-cert_chain", pki / (chain + ".pem")]
    return a


def server_msgs(result):
    """Handshake messages the server sent, in order (s_client -msg '<<<')."""
    return [name for d, name in result.handshake_msgs() if d == "<<<"]


def assert_cert_request_placement(version, msgs, result):
    assert "CertificateRequest" in msgs, "no CertificateRequest\n" + result.describe()
    i = msgs.index("CertificateRequest")
    if version == "TLS1.2":
        # ServerHello, Certificate, ServerKeyExchange, CertificateRequest, ServerHelloDone
        assert "ServerHelloDone" in msgs, result.describe()
        assert msgs.index("ServerHello") < msgs.index("Certificate") < i \
            < msgs.index("ServerHelloDone"), msgs
        # all of it in the server's first flight: before it nothing from the
        # client but the ClientHello
        sent_before = []
        for d, name in result.handshake_msgs():
            if d == "<<<" and name == "ServerHelloDone":
                break
            if d == ">>>":
                sent_before.append(name)
        assert sent_before == ["ClientHello"], result.describe()
    else:
        # ServerHello, EncryptedExtensions, CertificateRequest, Certificate,
        # CertificateVerify, Finished
        assert msgs.index("ServerHello") < msgs.index("EncryptedExtensions") == i - 1, msgs
        assert i < msgs.index("Certificate") < msgs.index("Finished"), msgs


def ca_names(result):
    """The names under 'Acceptable client certificate CA names' (s_client)."""
    lines = result.out.splitlines()
    try:
        i = lines.index("Acceptable client certificate CA names")
    except ValueError:
        return []
    names = []
    for ln in lines[i + 1:]:
        if not ln or ln.startswith(("Requested ", "Shared ", "Client Certificate", "---",
                                    "Peer ", "Server Temp")):
            break
        names.append(ln)
    return names



@pytest.fixture
def run_s_client(procs, pki):
    """run_s_client(port, args, host='127.0.0.1', token=TOKEN) -> PeerResult.
    `openssl s_client -connect HOST:PORT -CAfile ca.pem ARGS`; writes token,
    waits for its echo (or for s_client to exit), then closes stdin."""

    def run(port, args=(), host="127.0.0.1", token=TOKEN, timeout=WAIT, cafile="ca"):
        hp = "[%s]:%d" % (host, port) if ":" in host else "%s:%d" % (host, port)
        argv = ["openssl", "s_client", "-connect", hp]
        if cafile:
            argv += ["-CAfile", pki / (cafile + ".pem")]
        argv += [str(a) for a in args]
        return _run_interactive(procs, argv, token, timeout, "s_client")
    return run


@pytest.fixture
def run_gnutls_cli(procs, pki):
    """run_gnutls_cli(port, args, host='127.0.0.1', token=TOKEN) -> PeerResult.
    (127.0.0.1 rather than localhost: localhost may resolve to ::1 first.)"""

    def run(port, args=(), host="127.0.0.1", token=TOKEN, timeout=WAIT, cafile="ca"):
        argv = ["gnutls-cli", "--port", str(port)]
        if cafile:
            argv += ["--x509cafile", pki / (cafile + ".pem")]
        argv += [str(a) for a in args] + [host]
        return _run_interactive(procs, argv, token, timeout, "gnutls-cli")
    return run


# ---------------------------------------------------------------------------
# Python ssl server (threaded), for SNI and as a third peer
# ---------------------------------------------------------------------------

class PyTLSServer:
    """A TLS echo server in a thread (Python ssl). Records for every
    connection the SNI received, the negotiated version/cipher and errors."""

    def __init__(self, pki, cert="server", bind="127.0.0.1", require_client_cert=False,
                 versions=None):
        self.ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        self.ctx.load_cert_chain(str(pki / (cert + ".pem")), str(pki / (cert + ".key")))
        if require_client_cert:
            self.ctx.verify_mode = ssl.CERT_REQUIRED
            self.ctx.load_verify_locations(str(pki / "ca.pem"))
        if versions:
            self.ctx.minimum_version, self.ctx.maximum_version = versions
        self.records = []
        self._lock = threading.Lock()
        self._current = threading.local()
        self.ctx.sni_callback = self._sni
        fam = socket.AF_INET6 if ":" in bind else socket.AF_INET
        self.sock = socket.socket(fam, socket.SOCK_STREAM)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind((bind, 0))
        self.sock.listen(8)
        self.sock.settimeout(0.5)
        self.port = self.sock.getsockname()[1]
        self._stop = threading.Event()
        self._threads = []
        self._thread = threading.Thread(target=self._loop, daemon=True)
        self._thread.start()

    def _sni(self, sslobj, name, ctx):
        rec = getattr(self._current, "rec", None)
        if rec is not None:
            rec["sni"] = name
            rec["sni_called"] = True
        return None

    def _loop(self):
        while not self._stop.is_set():
            try:
                conn, _ = self.sock.accept()
            except socket.timeout:
                continue
            except OSError:
                break
            t = threading.Thread(target=self._serve, args=(conn,), daemon=True)
            self._threads.append(t)
            t.start()

    def _serve(self, conn):
        rec = {"sni": None, "sni_called": False, "error": None, "version": None,
               "cipher": None, "bytes": 0, "done": False}
        self._current.rec = rec
        conn.settimeout(WAIT)
        try:
            tls = self.ctx.wrap_socket(conn, server_side=True)
            rec["version"] = tls.version()
            rec["cipher"] = tls.cipher()[0]
            while True:
                data = tls.recv(65536)
                if not data:
                    break
                rec["bytes"] += len(data)
                tls.sendall(data)
            try:
                tls.unwrap()
            except (ssl.SSLError, OSError):
                pass
            tls.close()
        except (ssl.SSLError, OSError) as e:
            rec["error"] = repr(e)
            conn.close()
        finally:
            rec["done"] = True
            with self._lock:
                self.records.append(rec)

    def wait_records(self, n=1, timeout=WAIT):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self._lock:
                if len(self.records) >= n:
                    return list(self.records)
            time.sleep(0.05)
        with self._lock:
            return list(self.records)

    def stop(self):
        self._stop.set()
        try:
            self.sock.close()
        except OSError:
            pass
        self._thread.join(timeout=5)
        for t in self._threads:
            t.join(timeout=5)


@pytest.fixture
def start_py_server(pki, procs):
    def start(**kw):
        return procs.add(PyTLSServer(pki, **kw))
    return start


def py_client_context(pki, cafile="ca", cert=None, versions=None):
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.load_verify_locations(str(pki / (cafile + ".pem")))
    if cert:
        ctx.load_cert_chain(str(pki / (cert + ".pem")), str(pki / (cert + ".key")))
    if versions:
        ctx.minimum_version, ctx.maximum_version = versions
    return ctx


def have_tool(name):
    return shutil.which(name) is not None
