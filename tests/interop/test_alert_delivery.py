"""A fatal alert always reaches the peer (closesocket() of a failed SSL socket).

When tls_echo_server refuses a connection, the peer has often pipelined more
data already. A plain close() with unread data makes the kernel send a reset
at once: the alert, still queued behind a segment waiting for its ACK, is
thrown away with it, and the peer's next write fails with EPIPE or its read
with ECONNRESET instead of telling why. chipssl shuts the sending side down
first (the alert goes out, then FIN) and drains what the peer still sends,
as `openssl s_server` does; tls_echo_server's sockets are non-blocking, so
this is the non-blocking path (the descriptor stays open in the library,
never blocking the event loop).

Two refusals, each repeated REPEAT times on one server (the loss was
intermittent: a few to most of 50 connections per run):
  - a malformed KeyUpdate (RFC 8446 4.6.3: request_update 2) after which
    the client keeps sending: it must read illegal_parameter (47);
  - a client without a certificate under option 1 that sends data as soon
    as its handshake is done (TLS 1.3), or right after its Finished without
    waiting for the server's (TLS 1.2, as TLS False Start does): it must read
    certificate_required (116) / handshake_failure (40), not a broken pipe;
  - the same with a certificate the server refuses: one of a CA it does not
    know (client-untrusted.pem: unknown_ca, 48) and a revoked one (revoked.pem
    in crl.pem: certificate_revoked, 44), in TLS 1.3 and TLS 1.2 alike.
The KeyUpdate is built by hand: Python's ssl gives the traffic secret through
its key log, and the record is sealed with the negotiated AEAD
(python3-cryptography; that one test is skipped without it).
"""

import socket
import ssl
import time

import pytest

from conftest import (ALERT_UNKNOWN_CA, REVOKED, UNKNOWNCA, WAIT, py_client_context)

REPEAT = 30
ALERT_ILLEGAL_PARAMETER = 47
ALERT_CERTIFICATE_REVOKED = 44

# the alert's name as OpenSSL (through Python's ssl) reports a received one
ALERT_REASON = {
    ALERT_ILLEGAL_PARAMETER: "ALERT_ILLEGAL_PARAMETER",
    40: "ALERT_HANDSHAKE_FAILURE",
    116: "ALERT_CERTIFICATE_REQUIRED",
    ALERT_UNKNOWN_CA: "ALERT_UNKNOWN_CA",
    ALERT_CERTIFICATE_REVOKED: "ALERT_CERTIFICATE_REVOKED",
}


def crypto():
    """python3-cryptography's pieces (only the KeyUpdate test needs them):
    HKDFExpand and, per TLS 1.3 suite, (AEAD, hash, key length)."""
    pytest.importorskip("cryptography")
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.ciphers.aead import AESGCM, ChaCha20Poly1305
    from cryptography.hazmat.primitives.kdf.hkdf import HKDFExpand
    return HKDFExpand, {
        "TLS_AES_128_GCM_SHA256": (AESGCM, hashes.SHA256, 16),
        "TLS_AES_256_GCM_SHA384": (AESGCM, hashes.SHA384, 32),
        "TLS_CHACHA20_POLY1305_SHA256": (ChaCha20Poly1305, hashes.SHA256, 32),
    }


def hkdf_expand_label(hash_cls, secret, label, length):
    """RFC 8446 7.1 HKDF-Expand-Label with an empty context."""
    HKDFExpand, _ = crypto()
    full = b"tls13 " + label
    info = length.to_bytes(2, "big") + bytes([len(full)]) + full + b"\x00"
    return HKDFExpand(hash_cls(), length, info).derive(secret)


class RecordSealer:
    """Client application-traffic records (RFC 8446 5.2), sequence from 0."""

    def __init__(self, suite, secret):
        aead, hash_cls, keylen = crypto()[1][suite]
        self.aead = aead(hkdf_expand_label(hash_cls, secret, b"key", keylen))
        self.iv = hkdf_expand_label(hash_cls, secret, b"iv", 12)
        self.seq = 0

    def seal(self, content_type, data):
        inner = data + bytes([content_type])
        header = b"\x17\x03\x03" + (len(inner) + 16).to_bytes(2, "big")
        nonce = bytes(a ^ b for a, b in zip(self.iv, self.seq.to_bytes(12, "big")))
        self.seq += 1
        return header + self.aead.encrypt(nonce, inner, header)


def memory_handshake(ctx, sock):
    """TLS client over memory BIOs on a connected socket: (SSLObject, incoming)."""
    incoming, outgoing = ssl.MemoryBIO(), ssl.MemoryBIO()
    obj = ctx.wrap_bio(incoming, outgoing, server_hostname="localhost")
    deadline = time.monotonic() + WAIT
    while True:
        try:
            obj.do_handshake()
            break
        except ssl.SSLWantReadError:
            pass
        finally:
            out = outgoing.read()
            if out:
                sock.sendall(out)
        if time.monotonic() > deadline:
            raise AssertionError("handshake did not finish")
        data = sock.recv(65536)
        if not data:
            raise AssertionError("server closed during the handshake")
        incoming.write(data)
    return obj, incoming


def read_alert(sock, obj=None, incoming=None):
    """Read until the peer's alert or the end: ('alert', reason) when TLS
    reported a received alert, ('eof', '') at a plain end, ('reset', errno
    text) when the socket was reset, ('data', ...) never expected."""
    deadline = time.monotonic() + WAIT
    while time.monotonic() < deadline:
        try:
            if obj is not None:
                try:
                    got = obj.read(65536)
                    if got:
                        return ("data", got[:40])
                    return ("eof", "")
                except ssl.SSLWantReadError:
                    data = sock.recv(65536)
                    if not data:
                        incoming.write_eof()
                    else:
                        incoming.write(data)
                    continue
            else:
                got = sock.recv(65536)
                if got:
                    return ("data", got[:40])
                return ("eof", "")
        except ssl.SSLError as e:
            return ("alert", "%s: %s" % (e.reason, e))
        except (ConnectionResetError, BrokenPipeError) as e:
            return ("reset", repr(e))
    return ("timeout", "")


def keep_sending(send, rounds=8, size=4096, pause=0.005):
    """Pipeline data as a client that has not read yet does. None when every
    write went through, else the error."""
    for _ in range(rounds):
        try:
            send(b"p" * size)
        except (ConnectionResetError, BrokenPipeError) as e:
            return repr(e)
        except ssl.SSLError as e:
            return "ssl: %s" % e
        time.sleep(pause)
    return None


def keyupdate_round(pki, port, keylog):
    """One connection: handshake, a malformed KeyUpdate plus more data at
    once, more data, then read. Returns a problem text or None."""
    keylog.unlink(missing_ok=True)
    ctx = py_client_context(pki, versions=(ssl.TLSVersion.TLSv1_3, ssl.TLSVersion.TLSv1_3))
    ctx.keylog_filename = str(keylog)
    with socket.create_connection(("127.0.0.1", port), timeout=WAIT) as sock:
        obj, incoming = memory_handshake(ctx, sock)
        secret = None
        for line in keylog.read_text().splitlines():
            f = line.split()
            if len(f) == 3 and f[0] == "CLIENT_TRAFFIC_SECRET_0":
                secret = bytes.fromhex(f[2])
        assert secret, "no CLIENT_TRAFFIC_SECRET_0 in the key log"
        sealer = RecordSealer(obj.cipher()[0], secret)
        bad_keyupdate = b"\x18\x00\x00\x01\x02"  # request_update 2: illegal
        flight = sealer.seal(22, bad_keyupdate) + b"".join(
            sealer.seal(23, b"d" * 1000) for _ in range(8))
        try:
            sock.sendall(flight)
        except (ConnectionResetError, BrokenPipeError) as e:
            return "first flight: %r" % e
        err = keep_sending(lambda b: sock.sendall(sealer.seal(23, b)))
        if err:
            return "write after the refusal: %s" % err
        kind, text = read_alert(sock, obj, incoming)
        if kind != "alert" or ALERT_REASON[ALERT_ILLEGAL_PARAMETER] not in text:
            return "read: %s %s" % (kind, text)
    return None


def test_alert_after_malformed_keyupdate_reaches_pipelining_client(pki, start_echo_server,
                                                                    tmp_path):
    crypto()  # skipped without python3-cryptography
    srv = start_echo_server(["-a", pki / "ca.pem"])
    problems = []
    for i in range(REPEAT):
        p = keyupdate_round(pki, srv.port, tmp_path / "keylog.txt")
        if p:
            problems.append("connection %d: %s" % (i, p))
    srv.wait_closed(REPEAT)
    assert not problems, "%d of %d lost the alert:\n%s\n%s" % (
        len(problems), REPEAT, "\n".join(problems), srv.describe())
    # each handshake succeeded; the refusal came later (the server prints no
    # second CONN line for it, only CLOSED)
    assert [c["status"] for c in srv.conn_lines()] == ["ok"] * REPEAT, srv.describe()


def tls12_record(data):
    """An application_data record as a TLS 1.2 client would pipeline it right
    after its Finished. Python's ssl cannot seal data before the handshake
    ends; the server refuses at the Certificate message and never reads
    these, so their content does not matter, only that they arrive."""
    return b"\x17\x03\x03" + len(data).to_bytes(2, "big") + data


def refused_tls12_round(ctx, sock, alert):
    """TLS 1.2 handshake over memory BIOs; right behind the client's second
    flight (its certificate or none, ..., Finished) it keeps sending records
    as a client that does not wait for the server's Finished (TLS False
    Start), then reads. The handshake must fail with ALERT. Returns a problem
    text or None."""
    incoming, outgoing = ssl.MemoryBIO(), ssl.MemoryBIO()
    obj = ctx.wrap_bio(incoming, outgoing, server_hostname="localhost")
    flights = 0
    deadline = time.monotonic() + WAIT
    while time.monotonic() < deadline:
        try:
            obj.do_handshake()
            return "the handshake succeeded"
        except ssl.SSLWantReadError:
            pass
        except ssl.SSLError as e:
            return None if ALERT_REASON[alert] in str(e.reason) else "handshake: %s" % e
        out = outgoing.read()
        if out:
            flights += 1
            try:
                sock.sendall(out)
            except (ConnectionResetError, BrokenPipeError) as e:
                return "write of flight %d: %r" % (flights, e)
            if flights == 2:
                err = keep_sending(lambda b: sock.sendall(tls12_record(b)))
                if err:
                    return "write after the Finished: %s" % err
        try:
            data = sock.recv(65536)
        except (ConnectionResetError, BrokenPipeError) as e:
            return "read after flight %d: %r" % (flights, e)
        if not data:
            return "end of stream after flight %d, no alert" % flights
        incoming.write(data)
    return "timeout"


def refused_client_round(pki, port, version, alert, cert=None):
    """One connection of a client to an option-1 server that refuses it:
    without a certificate (cert None) or with CERT (a PKI name). TLS 1.3: the
    client's handshake ends before the server's verdict, it pipelines data at
    once. TLS 1.2: the refusal comes in the handshake, while the client
    pipelines records behind its Finished. The client must read ALERT."""
    ctx = py_client_context(pki, cert=cert, versions=(version, version))
    with socket.create_connection(("127.0.0.1", port), timeout=WAIT) as raw:
        if version == ssl.TLSVersion.TLSv1_2:
            return refused_tls12_round(ctx, raw, alert)
        tls = ctx.wrap_socket(raw, server_hostname="localhost", do_handshake_on_connect=False)
        try:
            tls.do_handshake()
        except (ssl.SSLError, ConnectionResetError, BrokenPipeError) as e:
            return "handshake: %r" % e
        err = keep_sending(tls.sendall)
        if err:
            return "write after the refusal: %s" % err
        kind, text = read_alert(tls)
        if kind != "alert" or ALERT_REASON[alert] not in text:
            return "read: %s %s" % (kind, text)
    return None


@pytest.mark.parametrize("version,alert", [(ssl.TLSVersion.TLSv1_3, 116),
                                           (ssl.TLSVersion.TLSv1_2, 40)],
                         ids=["TLS1.3", "TLS1.2"])
def test_refused_client_certificate_alert_reaches_client(pki, start_echo_server, version, alert):
    srv = start_echo_server(["-a", pki / "ca.pem", "-o", "1"])
    problems = []
    for i in range(REPEAT):
        p = refused_client_round(pki, srv.port, version, alert)
        if p:
            problems.append("connection %d: %s" % (i, p))
    srv.wait_conns(REPEAT)
    assert not problems, "%d of %d lost the alert:\n%s\n%s" % (
        len(problems), REPEAT, "\n".join(problems), srv.describe())
    failed = [c for c in srv.conn_lines() if c["status"] == "failed"]
    assert len(failed) == REPEAT, srv.describe()
    assert all(c["alert"] == alert and c["sent"] == 1 for c in failed), srv.describe()


# PKI name of the client certificate, the alert, the flag the server logs
REJECTED_CERTS = [pytest.param("client-untrusted", ALERT_UNKNOWN_CA, UNKNOWNCA, id="unknown-ca"),
                  pytest.param("revoked", ALERT_CERTIFICATE_REVOKED, REVOKED, id="revoked")]


@pytest.mark.parametrize("cert,alert,flag", REJECTED_CERTS)
@pytest.mark.parametrize("version", [ssl.TLSVersion.TLSv1_3, ssl.TLSVersion.TLSv1_2],
                         ids=["TLS1.3", "TLS1.2"])
def test_rejected_client_certificate_alert_reaches_client(pki, start_echo_server, version,
                                                          cert, alert, flag):
    """A certificate presented and refused: the client reads why."""
    srv = start_echo_server(["-a", pki / "ca.pem", "-R", pki / "crl.pem", "-o", "1"])
    problems = []
    for i in range(REPEAT):
        p = refused_client_round(pki, srv.port, version, alert, cert=cert)
        if p:
            problems.append("connection %d: %s" % (i, p))
    srv.wait_conns(REPEAT)
    assert not problems, "%d of %d lost the alert:\n%s\n%s" % (
        len(problems), REPEAT, "\n".join(problems), srv.describe())
    failed = [c for c in srv.conn_lines() if c["status"] == "failed"]
    assert len(failed) == REPEAT, srv.describe()
    assert all(c["alert"] == alert and c["sent"] == 1 and c["flags"] & flag
               for c in failed), srv.describe()


@pytest.mark.parametrize("cert,alert,flag", REJECTED_CERTS)
def test_alert_reaches_client_when_server_exits(pki, start_echo_server, cert, alert, flag):
    """tls_echo_server -n 1 exits right after closesocket() of the refused
    connection: the library finishes the descriptor it parked for the alert
    at exit() instead of letting the kernel reset it (the client read end of
    stream instead of the alert before)."""
    problems = []
    for i in range(5):
        srv = start_echo_server(["-a", pki / "ca.pem", "-R", pki / "crl.pem", "-o", "1",
                                 "-n", "1"])
        p = refused_client_round(pki, srv.port, ssl.TLSVersion.TLSv1_3, alert, cert=cert)
        assert srv.wait() == 0, srv.describe()
        if p:
            problems.append("run %d: %s" % (i, p))
    assert not problems, "%d of 5 lost the alert:\n%s" % (len(problems), "\n".join(problems))
