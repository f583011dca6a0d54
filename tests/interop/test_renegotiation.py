"""Renegotiation refused, KeyUpdate kept (README.md, table of differences,
row "renegotiation": "refused (the peer's request gets a no_renegotiation
warning or the connection fails); TLS 1.3 KeyUpdate works").

  - client-initiated: `openssl s_client -tls1_2` against tls_echo_server asks
    for a second handshake (`R`). The server sends no second ServerHello;
    s_client reads a no_renegotiation warning or the connection fails; a line
    written after the request never comes back over a renegotiated link.
  - server-initiated: `openssl s_server -tls1_2` sends a HelloRequest (`r`)
    to https_get waiting for its reply. https_get sends no second
    ClientHello; s_server reads a no_renegotiation warning or the connection
    fails.
  - TLS 1.3: a KeyUpdate that asks for one back (`K`) is answered, and data
    flows on under the new keys.
Each test first checks that the request was really made (the second
ClientHello, the HelloRequest, the KeyUpdate in the `-msg` trace): a peer that
never asked would prove nothing.
"""

import pytest

from conftest import WAIT, TOKEN, ManagedProcess, PeerResult, url

AFTER = "chipssl-after-request-51d0\n"
NO_RENEGOTIATION = ("<<<", "warning", "no_renegotiation")


def count(msgs, direction, name):
    return sum(1 for d, n in msgs if d == direction and n == name)


def finish(p, rc):
    """Stop p (when still running), and its output as a PeerResult."""
    p.close_stdin()
    if rc is None:
        rc = p.wait(timeout=WAIT)
    p.stop()
    return PeerResult(p.argv, rc if rc is not None else p.returncode, p.out, p.err,
                      AFTER.strip() in p.out)


def test_client_renegotiation_refused(pki, start_echo_server, procs, run_s_client):
    srv = start_echo_server()
    p = procs.add(ManagedProcess(
        ["openssl", "s_client", "-connect", "127.0.0.1:%d" % srv.port,
         "-CAfile", pki / "ca.pem", "-tls1_2", "-msg"], name="s_client", stdin=True))
    p.write(TOKEN)
    assert p.wait_bytes(TOKEN.encode()), p.describe() + "\n" + srv.describe()
    p.write("R\n")
    # the refusal: a warning (s_client itself then gives up) or the end of the
    # connection; after either, a renegotiated link could still echo AFTER
    p.wait_line(r"no_renegotiation|^closed|^DONE")
    p.write(AFTER)
    rc = p.wait(timeout=WAIT)  # s_client ends after the refusal; else finish() stops it
    r = finish(p, rc)
    msgs = r.handshake_msgs()
    assert count(msgs, ">>>", "ClientHello") == 2, "s_client did not ask\n" + r.describe()
    assert count(msgs, "<<<", "ServerHello") == 1, "a second handshake\n" + r.describe()
    assert NO_RENEGOTIATION in r.alerts() or r.rc not in (0, None), r.describe()
    assert not r.echoed, "echo after the request\n" + r.describe()
    conns = srv.wait_conns(1)
    assert len(conns) == 1 and conns[0]["status"] == "ok", srv.describe()
    assert conns[0]["version"] == "TLS1.2", conns[0]["line"]
    # the server goes on serving others
    again = run_s_client(srv.port, ["-tls1_2"])
    assert again.echoed, again.describe() + "\n" + srv.describe()


def test_server_renegotiation_refused_by_chipssl_client(pki, start_openssl_server, procs,
                                                        https_get_bin):
    srv = start_openssl_server(["-tls1_2", "-msg"])
    cli = procs.add(ManagedProcess([https_get_bin, "-a", pki / "ca.pem",
                                    url("localhost", srv.port)], name="https_get"))
    # https_get sent its request and waits for the reply (up to 20 s)
    assert srv.wait_line(r"^GET / HTTP/1\.0"), srv.describe() + "\n" + cli.describe()
    start = len(srv.out_lines)
    srv.write("r\n")
    m = srv.wait_line(r"no_renegotiation|<<< .*ClientHello|^ERROR|^DONE", start=start)
    if not m or "ClientHello" in m.group(0):
        # no refusal seen, or a second handshake: the link may live on, end it
        srv.write("q\n")
    rc = cli.wait(timeout=WAIT)
    cli.stop()
    r = PeerResult(srv.argv, None, srv.out, srv.err, False)
    msgs = r.handshake_msgs()
    assert count(msgs, ">>>", "HelloRequest") == 1, "s_server did not ask\n" + r.describe()
    assert count(msgs, "<<<", "ClientHello") == 1, "a second handshake\n" + r.describe()
    assert NO_RENEGOTIATION in r.alerts() or rc not in (0, None), (
        r.describe() + "\n" + cli.describe())
    handshakes = [ln for ln in cli.err_lines if ln.startswith("HANDSHAKE ")]
    assert len(handshakes) == 1 and handshakes[0].startswith("HANDSHAKE ok"), cli.describe()


@pytest.mark.parametrize("update_requested", [True, False], ids=["requested", "not-requested"])
def test_tls13_key_update(pki, start_echo_server, procs, update_requested):
    srv = start_echo_server()
    p = procs.add(ManagedProcess(
        ["openssl", "s_client", "-connect", "127.0.0.1:%d" % srv.port,
         "-CAfile", pki / "ca.pem", "-tls1_3", "-msg"], name="s_client", stdin=True))
    p.write(TOKEN)
    assert p.wait_bytes(TOKEN.encode()), p.describe() + "\n" + srv.describe()
    start = len(p.out_lines)
    p.write("K\n" if update_requested else "k\n")
    assert p.wait_line(r"^>>> .*KeyUpdate", start=start), p.describe()
    p.write(AFTER)
    assert p.wait_bytes(AFTER.encode()), "no echo under the new keys\n" + p.describe()
    r = finish(p, None)
    msgs = r.handshake_msgs()
    assert count(msgs, ">>>", "KeyUpdate") == 1, r.describe()
    # update_requested: the server answers with a KeyUpdate of its own
    assert count(msgs, "<<<", "KeyUpdate") == (1 if update_requested else 0), r.describe()
    assert r.rc == 0, r.describe()
    closed = srv.wait_closed(1)
    n = len(TOKEN) + len(AFTER)
    assert len(closed) == 1 and closed[0]["in"] == n and closed[0]["out"] == n, srv.describe()
