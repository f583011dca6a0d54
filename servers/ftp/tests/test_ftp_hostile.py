#!/usr/bin/env python3
"""The FTP server against a hostile or careless client: raw sockets on the
control and data connections (garbage, pipelining around AUTH TLS, clients
that vanish at every step, peers that never read or never handshake), the
reply codes of failing commands, and chipd's descriptors: after each
scenario the count from /proc/PID/fd returns to its baseline.

Run: CHIPD=build/servers/chipd python3 -m pytest -q servers/ftp/tests/test_ftp_hostile.py
Every wait is bounded; timeouts are checked as "it ends eventually" or
"it did not end while bytes kept moving", never as a speed.
"""
import ftplib
import os
import select
import socket
import ssl
import sys
import tempfile
import shutil
import signal
import subprocess
import threading
import time

import pytest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "tests"))
import test_chipd as tc  # noqa: E402
from test_ftp_server import Server, make_files, wait_for, ReuseFTP  # noqa: E402

TIMEOUT = 30


class Ctl:
    """A raw control connection: lines out, whole replies (multi-line
    included) in."""

    def __init__(self, s, greet=True):
        self.sock = socket.create_connection((s.host, s.port), TIMEOUT)
        self.f = self.sock.makefile("rb")
        self.greeting = self.reply() if greet else None

    def reply(self):
        line = self.f.readline().decode("utf-8", "replace")
        if not line:
            return ""
        out = line
        if len(line) > 3 and line[3] == "-":
            end = line[:3] + " "
            while True:
                nxt = self.f.readline().decode("utf-8", "replace")
                out += nxt
                if not nxt or nxt.startswith(end):
                    break
        return out

    def send(self, raw):
        self.sock.sendall(raw)

    def cmd(self, line):
        self.send(line.encode() + b"\r\n")
        return self.reply()

    def login(self):
        assert self.cmd("USER alice").startswith("331")
        assert self.cmd("PASS wonder-land").startswith("230")

    def pasv(self):
        r = self.cmd("EPSV")
        assert r.startswith("229"), r
        port = int(r.split("|||")[1].split("|")[0])
        return port

    def close(self):
        self.f.close()
        self.sock.close()


def fds(s):
    return len(os.listdir(f"/proc/{s.c.p.pid}/fd"))


@pytest.fixture(scope="module")
def tmp():
    d = tempfile.mkdtemp(prefix="chipd-ftp-hostile-")
    tc.make_pki(d)
    tc.make_root(d)
    make_files(d)
    yield d
    shutil.rmtree(d, ignore_errors=True)


@pytest.fixture(scope="module")
def srv(tmp):
    s = Server(tmp, "REQUIRE_TLS = 0\nMAX_PER_IP = 4\nMAX_CLIENTS = 50\n", name="hostile.ini")
    yield s
    assert s.stop() == 0


def settled(s, base):
    wait_for(lambda: fds(s) <= base, f"chipd's descriptors back to {base} (now {fds(s)})")


def test_no_descriptor_left_behind(srv):
    base = fds(srv)
    # PASV then QUIT; PASV twice; PASV then PORT.
    c = Ctl(srv)
    c.login()
    c.pasv()
    assert c.cmd("QUIT").startswith("221")
    c.close()
    settled(srv, base)
    c = Ctl(srv)
    c.login()
    c.pasv()
    c.pasv()
    c.pasv()
    local = c.sock.getsockname()[0].split(".")
    lst = socket.socket()
    lst.bind(("127.0.0.1", 0))
    lst.listen(1)
    p = lst.getsockname()[1]
    assert c.cmd(f"PORT {','.join(local)},{p >> 8},{p & 255}").startswith("200")
    c.close()  # vanishes without QUIT
    lst.close()
    settled(srv, base)
    # Connected to the passive port, then the control connection vanishes.
    c = Ctl(srv)
    c.login()
    d = socket.create_connection((srv.host, c.pasv()), TIMEOUT)
    c.close()
    settled(srv, base)
    d.close()
    # A listing running into a client that never reads, then everything vanishes.
    c = Ctl(srv)
    c.login()
    d = socket.create_connection((srv.host, c.pasv()), TIMEOUT)
    d.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    assert c.cmd("RETR huge.bin").startswith("150")
    c.close()
    d.close()
    settled(srv, base)
    # An upload with its temporary file, the client vanishes mid-way.
    c = Ctl(srv)
    c.login()
    assert c.cmd("TYPE I").startswith("200")
    d = socket.create_connection((srv.host, c.pasv()), TIMEOUT)
    assert c.cmd("STOR vanish.bin").startswith("150")
    d.sendall(os.urandom(300000))
    c.close()
    settled(srv, base)
    d.close()
    assert not os.path.exists(f"{srv.root}/vanish.bin")
    assert not [n for n in os.listdir(srv.root) if ".part." in n]
    # Gone during the login delay.
    c = Ctl(srv)
    c.cmd("USER alice")
    c.send(b"PASS wrong\r\n")
    c.close()
    settled(srv, base)


def test_garbage_on_the_control_connection(srv):
    base = fds(srv)
    c = Ctl(srv)
    assert c.cmd("NOOP\x00junk").startswith("500")
    assert c.cmd("X" * 10000).startswith("500")
    assert c.cmd("\x01\x02\x03").startswith("500")
    # Telnet IP and DM before ABOR, as clients send it (RFC 959 s.4.1.3).
    c.send(b"\xff\xf4\xff\xf2NOOP\r\n")
    assert c.reply().startswith("200")
    c.send(b"\xff\xfb\x01NOOP\r\n")  # IAC WILL ECHO: skipped
    assert c.reply().startswith("200")
    c.send(os.urandom(3000).replace(b"\n", b"") + b"\r\n")
    assert c.reply()[:1] == "5"
    c.send(b"NO")
    c.send(b"OP\r\n")
    assert c.reply().startswith("200")
    c.login()
    assert c.cmd("NOOP").startswith("200")
    # A CR inside a path (Telnet CR NUL) or a bare CR: never a name.
    c.send(b"MKD a\r\x00b\r\n")
    assert c.reply().startswith("500")
    c.send(b"MKD a\rb\r\n")
    assert c.reply().startswith("500")
    assert not [n for n in os.listdir(srv.root) if "\r" in n]
    c.close()
    # A TLS ClientHello on the plaintext port before AUTH TLS: refused as
    # lines, never a crash, the connection ends or answers.
    raw = socket.create_connection((srv.host, srv.port), TIMEOUT)
    raw.recv(1000)
    ctx = ssl.create_default_context()
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    try:
        ctx.wrap_socket(raw, server_hostname="x").close()
    except (ssl.SSLError, OSError):
        pass
    raw.close()
    c = Ctl(srv)
    assert c.cmd("NOOP").startswith("200")
    c.close()
    settled(srv, base)


def tls_ctx(s):
    return ssl.create_default_context(cafile=f"{s.d}/ca.pem")


def test_auth_tls_injection(srv):
    """CVE-2011-0411: commands pipelined in clear text with AUTH TLS are
    not run once TLS is up."""
    c = Ctl(srv)
    c.send(b"AUTH TLS\r\nUSER alice\r\nPASS wonder-land\r\n")
    assert c.reply().startswith("234")
    t = tls_ctx(srv).wrap_socket(c.sock, server_hostname="localhost")
    f = t.makefile("rb")
    t.sendall(b"PWD\r\n")
    r = f.readline().decode()
    assert r.startswith("530"), r  # not logged in: the clear USER/PASS were dropped
    t.sendall(b"AUTH TLS\r\n")
    assert f.readline().startswith(b"503")  # AUTH twice
    t.sendall(b"QUIT\r\n")
    assert f.readline().startswith(b"221")
    t.close()


def test_plaintext_after_auth_tls(srv):
    base = fds(srv)
    c = Ctl(srv)
    assert c.cmd("AUTH TLS").startswith("234")
    c.send(b"USER alice\r\n")
    try:  # the server ends the connection: no reply in the clear
        assert c.f.read() == b""
    except ConnectionResetError:
        pass
    c.close()
    settled(srv, base)


def test_failing_commands(srv):
    c = Ctl(srv)
    c.login()
    os.makedirs(f"{srv.root}/full/inner", exist_ok=True)
    for cmd, code in [
        ("REST 99999999999999999999999", "501"), ("REST -1", "501"), ("REST +5", "501"),
        ("PORT 1,2,3", "501"), ("PORT 127,0,0,1,300,1", "501"), ("PORT 127,0,0,1,0,0", "501"),
        ("EPRT |3|127.0.0.1|5000|", "522"), ("EPRT |2|::1%lo|5000|", "501"),
        ("EPRT |1|::1|5000|", "501"), ("EPSV 7", "522"),
        ("RNTO x", "503"), ("MKD dir", "550"), ("DELE dir", "550"), ("RMD full", "550"),
        ("SIZE dir", "550"), ("MDTM dir", "550"), ("CWD hello.txt", "550"),
        ("RNFR nonexistent", "550"), ("SIZE nonexistent", "550"), ("TYPE X", "501"),
        ("MODE B", "504"), ("STRU R", "504"), ("OPTS FOO", "501"), ("CCC", "534"),
        ("STAT /", "504"), ("PROT P", "503"), ("XYZW", "500"), ("SITE CHMOD", "502"),
    ]:
        r = c.cmd(cmd)
        assert r.startswith(code), (cmd, r)
    assert c.cmd("RNFR hello.txt").startswith("350")
    assert c.cmd("NOOP").startswith("200")
    assert c.cmd("RNTO other.txt").startswith("503")  # RNFR forgotten
    assert c.cmd("RNFR hello.txt").startswith("350")
    r = c.cmd("RNTO ../../../../tmp/chipd-stolen")
    assert r.startswith("250") or r[:1] == "5", r
    assert not os.path.exists("/tmp/chipd-stolen")
    if r.startswith("250"):  # ".." clamps at the root: renamed inside
        os.rename(f"{srv.root}/chipd-stolen", f"{srv.root}/hello.txt")
    assert c.cmd("TYPE I").startswith("200")
    assert c.cmd("SIZE hello.txt") == "213 10\r\n"
    assert c.cmd("MDTM hello.txt")[:4] == "213 " and len(c.cmd("MDTM hello.txt").strip()) == 18
    r = c.cmd("MLST /")
    assert r.startswith("250-") and "type=" in r and r.splitlines()[-1].startswith("250 "), r
    assert c.cmd("OPTS UTF8 ON").startswith("200")
    # No data connection: 425.
    assert c.cmd("RETR hello.txt").startswith("425")
    assert c.cmd("LIST").startswith("425")
    for cmd, code in [("STOR dir", "550"), ("STOR newdir/", "55"), ("NLST missing", "550"),
                      ("RETR dir", "550"), ("RETR missing", "550"), ("MLSD hello.txt", "501")]:
        d = socket.create_connection((srv.host, c.pasv()), TIMEOUT)
        r = c.cmd(cmd)
        assert r.startswith(code), (cmd, r)
        d.close()
    c.close()


def listing(c, s, cmd):
    d = socket.create_connection((s.host, c.pasv()), TIMEOUT)
    r = c.cmd(cmd)
    assert r.startswith("150"), (cmd, r)
    data = b""
    while chunk := d.recv(65536):
        data += chunk
    d.close()
    assert c.reply().startswith("226")
    return data.decode()


def test_list_arguments(srv):
    c = Ctl(srv)
    c.login()
    plain = listing(c, srv, "LIST")
    assert " hello.txt\r\n" in plain
    for cmd in ("LIST -a", "LIST -la", "LIST -l", "LIST -al"):
        assert " hello.txt\r\n" in listing(c, srv, cmd), cmd
    assert "deep.txt" in listing(c, srv, "LIST -la dir/sub")
    assert listing(c, srv, "NLST dir/sub").split() in (["deep.txt"], ["dir/sub/deep.txt"])
    c.close()


def test_appe_creates(srv):
    c = Ctl(srv)
    c.login()
    assert c.cmd("TYPE I").startswith("200")
    d = socket.create_connection((srv.host, c.pasv()), TIMEOUT)
    assert c.cmd("APPE appended.txt").startswith("150")
    d.sendall(b"abc")
    d.close()
    assert c.reply().startswith("226")
    with open(f"{srv.root}/appended.txt", "rb") as f:
        assert f.read() == b"abc"
    os.unlink(f"{srv.root}/appended.txt")
    c.close()


def test_per_ip_count_released(srv):
    for _ in range(100):
        c = Ctl(srv, greet=False)
        c.close()
    for _ in range(20):
        c = Ctl(srv)
        c.cmd("QUIT")
        c.close()
    # The quick ones above may still be closing: a login works eventually.
    def ok():
        c = Ctl(srv)
        try:
            return c.greeting.startswith("220")
        finally:
            c.close()
    wait_for(ok, "a new session")
    c = Ctl(srv)
    c.login()
    c.close()


def test_login_delay_does_not_stall_others(srv):
    """A client in the login delay (a timer, not a sleeping worker) does not
    hold up another client's commands and transfer on the same server."""
    a = Ctl(srv)
    a.login()
    b = Ctl(srv)
    for pw in ("wrong1", "wrong2"):
        b.cmd("USER alice")
        assert b.cmd(f"PASS {pw}").startswith("530")
    b.cmd("USER alice")
    b.send(b"PASS wrong3\r\n")  # the third failure: 2 s, then 421
    for _ in range(3):
        d = socket.create_connection((srv.host, a.pasv()), TIMEOUT)
        assert a.cmd("RETR hello.txt").startswith("150")
        assert d.recv(100) == b"hello ftp\r\n"
        d.close()
        assert a.reply().startswith("226")
    b.sock.settimeout(0)
    with pytest.raises(BlockingIOError):
        b.sock.recv(1, socket.MSG_PEEK)  # still held
    b.sock.settimeout(TIMEOUT)
    assert b.reply().startswith("421")
    a.close()
    b.close()


@pytest.fixture(scope="module")
def slow(tmp):
    s = Server(tmp, "REQUIRE_TLS = 0\nTIMEOUT = 2\n", name="slow.ini")
    yield s
    assert s.stop() == 0


def test_moving_transfer_outlives_the_timeout(slow):
    """TIMEOUT is an idle limit: an upload that keeps moving for longer
    than it is not cut (it was: 426 "stalled" after TIMEOUT seconds)."""
    c = Ctl(slow)
    c.login()
    assert c.cmd("TYPE I").startswith("200")
    d = socket.create_connection((slow.host, c.pasv()), TIMEOUT)
    assert c.cmd("STOR trickle.bin").startswith("150")
    end = time.monotonic() + 5  # 2.5 times TIMEOUT
    n = 0
    while time.monotonic() < end:
        d.sendall(b"x")
        n += 1
        time.sleep(0.25)
    d.close()
    r = c.reply()
    assert r.startswith("226"), r
    assert os.path.getsize(f"{slow.root}/trickle.bin") == n
    os.unlink(f"{slow.root}/trickle.bin")
    c.close()


def test_stalled_transfer_ends(slow):
    """A data client that never reads: the control connection still answers
    STAT, and the transfer ends eventually (426), descriptors released."""
    base = fds(slow)
    c = Ctl(slow)
    c.login()
    assert c.cmd("TYPE I").startswith("200")
    d = socket.socket()
    d.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    d.connect((slow.host, c.pasv()))
    assert c.cmd("RETR huge.bin").startswith("150")
    assert c.cmd("STAT").startswith("213")
    assert c.cmd("NOOP").startswith("503")
    r = c.reply()
    assert r.startswith("426"), r
    assert c.cmd("NOOP").startswith("200")
    d.close()
    c.close()
    settled(slow, base)


def test_data_peer_never_handshakes(slow):
    """PROT P, connected to the passive port, no ClientHello ever: the data
    connection's limit ends it (425), the control connection goes on."""
    base = fds(slow)
    f = ReuseFTP(context=slow.ctx(), timeout=TIMEOUT)
    f.connect(slow.host, slow.port)
    f.auth()
    f.login("alice", "wonder-land")
    f.prot_p()
    r = f.sendcmd("EPSV")
    port = int(r.split("|||")[1].split("|")[0])
    d = socket.create_connection((slow.host, port), TIMEOUT)
    assert f.sendcmd("RETR hello.txt").startswith("150")
    with pytest.raises(ftplib.error_temp, match="^425"):
        f.voidresp()
    assert f.voidcmd("NOOP").startswith("200")
    f.quit()
    d.close()
    settled(slow, base)


class PlainChipd:
    """chipd with the FTP server only and no [SSL] identity: no TLS at all."""

    def __init__(self, d, root):
        self.port = tc.free_port()
        self.host = "127.0.0.1"
        self.root = root
        ini = f"{d}/plain.ini"
        with open(ini, "w") as f:
            f.write(f"[WEB]\nENABLE = 0\nSSL_ENABLE = 0\n[FTP]\nBIND = 127.0.0.1\n"
                    f"PORT = {self.port}\nFTPS_PORT = 0\nREQUIRE_TLS = 0\nUSER1 = alice\n"
                    f"PASSWORD1 = wonder-land\nROOT1 = {root}\n")
        self.stderr = open(f"{d}/plain.stderr", "wb")
        self.p = subprocess.Popen([tc.CHIPD, "-c", ini], stdout=subprocess.PIPE,
                                  stderr=self.stderr)
        line = self.p.stdout.readline().decode()
        if "running" not in line:
            self.stop()
            raise RuntimeError(f"chipd did not start: {line}")

    def stop(self):
        self.p.send_signal(signal.SIGTERM)
        try:
            rc = self.p.wait(TIMEOUT)
        except subprocess.TimeoutExpired:
            self.p.kill()
            rc = self.p.wait()
        self.p.stdout.close()
        self.stderr.close()
        return rc


def test_auth_tls_without_tls(tmp):
    """No certificate, no TLS: FEAT does not offer AUTH TLS, PBSZ, PROT, and
    AUTH TLS is refused with a reply (it was 234, then the connection cut)."""
    s = PlainChipd(tmp, f"{tmp}/ftproot")
    try:
        c = Ctl(s)
        feat = c.cmd("FEAT")
        assert feat.startswith("211-") and " SIZE\r\n" in feat, feat
        assert "AUTH" not in feat and "PBSZ" not in feat and "PROT" not in feat, feat
        r = c.cmd("AUTH TLS")
        assert r.startswith("534"), r
        c.login()
        assert c.cmd("NOOP").startswith("200")
        c.close()
    finally:
        assert s.stop() == 0


def test_bsd_style_abor(srv):
    """BSD ftp's abort: IAC IP IAC with the last IAC as urgent data (so it
    leaves the stream), then DM "ABOR": the line reads IAC IP DM ABOR, and
    the ABOR must still be understood (it was 500 and the transfer ran on)."""
    c = Ctl(srv)
    c.login()
    assert c.cmd("TYPE I").startswith("200")
    d = socket.socket()
    d.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    d.connect((srv.host, c.pasv()))
    assert c.cmd("RETR huge.bin").startswith("150")
    assert d.recv(1000)
    c.sock.send(b"\xff\xf4\xff", socket.MSG_OOB)
    c.send(b"\xf2ABOR\r\n")
    r1 = c.reply()
    assert r1.startswith("426"), r1
    assert c.reply().startswith("226")
    assert c.cmd("NOOP").startswith("200")
    d.close()
    c.close()
    # Python's ftplib sends the whole "ABOR\r\n" as urgent data.
    f = ftplib.FTP(timeout=TIMEOUT)
    f.connect(srv.host, srv.port)
    f.login("alice", "wonder-land")
    f.voidcmd("TYPE I")
    conn, _ = f.ntransfercmd("RETR huge.bin")
    assert conn.recv(1000)
    assert f.abort().startswith("426")
    assert f.getline().startswith("226")
    assert f.voidcmd("NOOP").startswith("200")
    conn.close()
    f.close()


def test_rest_beyond_the_end_on_upload(srv):
    """REST past the end then STOR: 554 as for RETR (RFC 3659 s.5.3), not
    553 "file name not allowed"; nothing changed."""
    c = Ctl(srv)
    c.login()
    assert c.cmd("TYPE I").startswith("200")
    for verb in ("RETR", "STOR"):
        d = socket.create_connection((srv.host, c.pasv()), TIMEOUT)
        assert c.cmd("REST 1000").startswith("350")
        r = c.cmd(f"{verb} hello.txt")
        assert r.startswith("554"), (verb, r)
        d.close()
    with open(f"{srv.root}/hello.txt", "rb") as f:
        assert f.read() == b"hello ftp\n"
    c.close()


def test_pasv_on_ipv6_leaves_no_listener(tmp):
    """PASV on an IPv6 control connection is 425 (no IPv4 address to give):
    the listener it opened is closed at once, not at TIMEOUT."""
    try:
        with socket.socket(socket.AF_INET6) as t:
            t.bind(("::1", 0))
    except OSError:
        pytest.skip("no ::1")
    s = Server(tmp, "REQUIRE_TLS = 0\n", bind="::1", name="v6pasv.ini")
    try:
        c = Ctl(s)
        c.login()
        base = fds(s)
        assert c.cmd("PASV").startswith("425")
        settled(s, base)
        assert c.cmd("EPSV").startswith("229")
        c.close()
    finally:
        assert s.stop() == 0


def test_vanish_during_data_handshake(srv):
    """PROT P: the client sends half a ClientHello on the data connection
    and disappears (data and control): every descriptor is released."""
    base = fds(srv)
    for cut_control in (False, True):
        f = ReuseFTP(context=srv.ctx(), timeout=TIMEOUT)
        f.connect(srv.host, srv.port)
        f.auth()
        f.login("alice", "wonder-land")
        f.prot_p()
        port = int(f.sendcmd("EPSV").split("|||")[1].split("|")[0])
        d = socket.create_connection((srv.host, port), TIMEOUT)
        assert f.sendcmd("LIST").startswith("150")
        d.sendall(b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03")
        d.close()
        if cut_control:
            f.sock.close()
            f.file.close()
        else:
            with pytest.raises(ftplib.error_temp, match="^425"):
                f.voidresp()
            assert f.voidcmd("NOOP").startswith("200")
            f.quit()
        settled(srv, base)


def test_dribbled_line_times_out(slow):
    """A client sending a byte now and then but never a whole line is idle:
    421 after TIMEOUT (each byte used to restart the timer, for ever)."""
    c = Ctl(slow)
    c.login()
    c.send(b"NOOP\r\n")
    assert c.reply().startswith("200")
    end = time.monotonic() + 6 * 2  # six times TIMEOUT
    got = b""
    while time.monotonic() < end and not got:
        try:
            c.send(b"X")
        except OSError:
            break
        r, _, _ = select.select([c.sock], [], [], 0.3)
        if r:
            got = c.sock.recv(1000)
    assert got.startswith(b"421 Idle timeout"), got
    c.close()


def test_quit_pipelined_behind_an_upload(srv):
    """QUIT during a transfer (RFC 959 s.4.1.1): the transfer finishes, its
    226 goes out, then 221; even when the client closes right after QUIT,
    the upload is kept (it used to be aborted at the QUIT)."""
    payload = os.urandom(1 << 20)
    for wait_replies in (True, False):
        c = Ctl(srv)
        c.login()
        assert c.cmd("TYPE I").startswith("200")
        d = socket.create_connection((srv.host, c.pasv()), TIMEOUT)
        assert c.cmd("STOR quit.bin").startswith("150")
        d.sendall(payload[:1000])
        c.send(b"QUIT\r\nNOOP\r\n")  # the QUIT while the upload runs
        time.sleep(0.2)  # not needed for the result: gives the QUIT a head start
        d.sendall(payload[1000:])
        d.close()
        if wait_replies:
            assert c.reply().startswith("226")
            assert c.reply().startswith("221")
            assert c.reply() == ""  # NOOP after QUIT: not run
        c.close()
        wait_for(lambda: os.path.exists(f"{srv.root}/quit.bin")
                 and os.path.getsize(f"{srv.root}/quit.bin") == len(payload), "the upload")
        with open(f"{srv.root}/quit.bin", "rb") as f:
            assert f.read() == payload
        os.unlink(f"{srv.root}/quit.bin")
