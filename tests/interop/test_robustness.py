"""Garbage on the wire, truncated and vanished peers (the rules of the house:
bad input gets a clear error and loses nothing, the process never crashes).

Server side: tls_echo_server gets random bytes, plaintext HTTP, an oversized
record, a truncated ClientHello, a reset in the middle of the handshake and a
corrupted record after the handshake; each connection fails with a reason and
the server goes on serving a proper client. Client side: https_get meets a
server that sends garbage, one that closes at once and one that never
answers; it reports the failure (exit 2) and does not hang.
"""

import os
import socket
import ssl
import struct
import threading

import pytest

from conftest import WAIT, py_client_context, url

API_ECONNABORTED, API_ECONNRESET, API_ETIMEDOUT = 253, 254, 260
ALERT_RECORD_OVERFLOW, ALERT_UNEXPECTED_MESSAGE, ALERT_DECODE_ERROR = 22, 10, 50


def echo_once(pki, port, payload=b"still served"):
    ctx = py_client_context(pki)
    with socket.create_connection(("127.0.0.1", port), timeout=WAIT) as raw:
        with ctx.wrap_socket(raw, server_hostname="localhost") as tls:
            tls.sendall(payload)
            got = b""
            while len(got) < len(payload):
                d = tls.recv(4096)
                if not d:
                    break
                got += d
            return got


def client_hello_bytes(pki):
    """A real ClientHello, captured from Python's ssl with a memory BIO."""
    ctx = py_client_context(pki)
    inc, out = ssl.MemoryBIO(), ssl.MemoryBIO()
    obj = ctx.wrap_bio(inc, out, server_hostname="localhost")
    with pytest.raises(ssl.SSLWantReadError):
        obj.do_handshake()
    return out.read()


def send_raw(port, data, reset=False, linger_read=True):
    s = socket.create_connection(("127.0.0.1", port), timeout=WAIT)
    try:
        try:
            s.sendall(data)
            if reset:
                s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
                return b""
            s.shutdown(socket.SHUT_WR)
        except OSError:
            # The server may already have answered with an alert and closed.
            return b""
        got = b""
        if linger_read:
            try:
                while True:
                    d = s.recv(4096)
                    if not d:
                        break
                    got += d
            except (ConnectionResetError, socket.timeout):
                pass
        return got
    finally:
        s.close()


def garbage_cases(pki):
    hello = client_hello_bytes(pki)
    return {
        "random": os.urandom(2048),
        "http-plaintext": b"GET / HTTP/1.1\r\nHost: localhost\r\n\r\n",
        # handshake record header claiming 65535 bytes (over 2^14 + 256)
        "oversized-record": b"\x16\x03\x01\xff\xff" + b"\x00" * 64,
        "truncated-hello": hello[:len(hello) // 2],
        "hello-then-garbage": hello + os.urandom(512),
        "zero-length-records": b"\x16\x03\x01\x00\x00" * 64,
    }


@pytest.mark.parametrize("case", ["random", "http-plaintext", "oversized-record",
                                  "truncated-hello", "hello-then-garbage",
                                  "zero-length-records"])
def test_server_survives_garbage(pki, start_echo_server, case):
    srv = start_echo_server()
    send_raw(srv.port, garbage_cases(pki)[case])
    conn = srv.wait_conn()
    assert conn["status"] == "failed", conn["line"]
    assert conn["error"] in (API_ECONNABORTED, API_ECONNRESET), conn["line"]
    assert conn["reason"] not in ("", "-"), conn["line"]
    assert echo_once(pki, srv.port) == b"still served", srv.describe()
    assert srv.returncode is None, srv.describe()


def test_server_reports_oversized_record(pki, start_echo_server):
    srv = start_echo_server()
    send_raw(srv.port, garbage_cases(pki)["oversized-record"])
    conn = srv.wait_conn()
    assert conn["alert"] == ALERT_RECORD_OVERFLOW and conn["sent"] == 1, conn["line"]


def test_server_survives_reset_mid_handshake(pki, start_echo_server):
    srv = start_echo_server()
    send_raw(srv.port, client_hello_bytes(pki), reset=True)
    conn = srv.wait_conn()
    assert conn["status"] == "failed", conn["line"]
    assert echo_once(pki, srv.port) == b"still served", srv.describe()


@pytest.mark.parametrize("version", [ssl.TLSVersion.TLSv1_2, ssl.TLSVersion.TLSv1_3],
                         ids=["TLS1.2", "TLS1.3"])
def test_server_survives_corrupted_record_after_handshake(pki, start_echo_server, version):
    """A record whose MAC fails after the handshake: the connection ends
    (bad_record_mac), the server keeps serving."""
    srv = start_echo_server()
    ctx = py_client_context(pki, versions=(version, version))
    raw = socket.create_connection(("127.0.0.1", srv.port), timeout=WAIT)
    tls = ctx.wrap_socket(raw, server_hostname="localhost")
    tls.sendall(b"hello")
    assert tls.recv(100) == b"hello"
    # application_data record with nonsense ciphertext, written under TLS
    raw_dup = socket.socket(fileno=os.dup(tls.fileno()))
    raw_dup.sendall(b"\x17\x03\x03\x00\x40" + os.urandom(64))
    raw_dup.close()
    try:
        while tls.recv(100):
            pass
    except (ssl.SSLError, ConnectionResetError, OSError):
        pass
    tls.close()
    assert srv.wait_closed(1), srv.describe()
    assert echo_once(pki, srv.port) == b"still served", srv.describe()


class RawServer:
    """A TCP server on 127.0.0.1 that does `behaviour` with each connection."""

    def __init__(self, behaviour):
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(4)
        self.port = self.sock.getsockname()[1]
        self.behaviour = behaviour
        self.conns = []
        self.thread = threading.Thread(target=self.run, daemon=True)
        self.thread.start()

    def run(self):
        try:
            c, _ = self.sock.accept()
        except OSError:
            return
        self.conns.append(c)
        try:
            c.settimeout(WAIT)
            c.recv(65536)  # the ClientHello
            self.behaviour(c)
        except OSError:
            pass

    def close(self):
        self.sock.close()
        for c in self.conns:
            c.close()
        self.thread.join(WAIT)


@pytest.fixture
def raw_server():
    servers = []

    def start(behaviour):
        s = RawServer(behaviour)
        servers.append(s)
        return s
    yield start
    for s in servers:
        s.close()


@pytest.mark.parametrize("behaviour,want_error", [
    pytest.param(lambda c: c.sendall(os.urandom(4096)), API_ECONNABORTED, id="garbage"),
    pytest.param(lambda c: c.sendall(b"HTTP/1.1 400 Bad Request\r\n\r\n"), API_ECONNABORTED,
                 id="plaintext-http"),
    pytest.param(lambda c: c.shutdown(socket.SHUT_RDWR), API_ECONNRESET, id="closes-at-once"),
])
def test_client_survives_bad_server(raw_server, run_https_get, pki, behaviour, want_error):
    srv = raw_server(behaviour)
    r = run_https_get(["-a", pki / "ca.pem", url("localhost", srv.port)])
    assert r.rc == 2, r.describe()
    hs = r.handshakes[0]
    assert hs["status"] == "failed" and hs["error"] == want_error, r.describe()


def test_client_gives_up_on_silent_server(raw_server, run_https_get, pki):
    """SSL_HandshakeComplete(sd, 1000) returns without a handshake; the
    client reports it and ends (no hang)."""
    gate = threading.Event()
    srv = raw_server(lambda c: gate.wait(WAIT))
    try:
        r = run_https_get(["-a", pki / "ca.pem", "-t", "1000", url("localhost", srv.port)])
    finally:
        gate.set()
    assert r.rc == 2, r.describe()
    assert r.handshakes[0]["status"] == "failed", r.describe()
    assert r.handshakes[0]["error"] == API_ETIMEDOUT, r.describe()
