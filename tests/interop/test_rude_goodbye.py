"""Resumption survives a rude goodbye.

After a completed handshake, a client that ends the connection without
close_notify -- with a TCP reset, or with a plain FIN -- leaves a session the
server must still resume (RFC 5246 7.2.1 and RFC 8446 6.1 allow it; only a
fatal alert forbids it, RFC 5246 7.2.2). Python's ssl module is the client:
it keeps the session object, then ends each connection rudely.
"""

import socket
import struct

import pytest

from conftest import WAIT, py_client_context

VERSIONS = [pytest.param("TLSv1_2", id="TLS1.2"), pytest.param("TLSv1_3", id="TLS1.3")]


def _connect(ctx, port, session=None):
    raw = socket.create_connection(("127.0.0.1", port), timeout=WAIT)
    tls = ctx.wrap_socket(raw, server_hostname="localhost", session=session)
    return tls


def _rude_close(tls, how):
    if how == "reset":
        # SO_LINGER 0: close() sends RST instead of FIN.
        tls.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    # Close the TCP socket under the TLS layer: no close_notify is sent.
    sock = socket.socket(fileno=tls.detach())
    sock.close()


@pytest.mark.parametrize("how", ["reset", "fin"])
@pytest.mark.parametrize("version", VERSIONS)
def test_session_resumed_after_rude_close(pki, start_echo_server, version, how):
    srv = start_echo_server(["-m", "16"])
    ctx = py_client_context(pki)
    v = getattr(__import__("ssl").TLSVersion, version)
    ctx.minimum_version = ctx.maximum_version = v

    tls = _connect(ctx, srv.port)
    tls.sendall(b"ping")
    assert tls.recv(16) == b"ping"  # TLS 1.3: the ticket has arrived by now
    session = tls.session
    assert session is not None
    _rude_close(tls, how)
    srv.wait_closed(1)

    for i in range(3):
        tls = _connect(ctx, srv.port, session=session)
        tls.sendall(b"again")
        assert tls.recv(16) == b"again"
        assert tls.session_reused, f"connection {i + 2} was not resumed after a {how}"
        session = tls.session
        _rude_close(tls, how)
        srv.wait_closed(i + 2)
    conns = srv.wait_conns(4)
    assert [c["resumed"] for c in conns] == [0, 1, 1, 1], srv.describe()
