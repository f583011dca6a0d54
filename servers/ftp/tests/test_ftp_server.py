#!/usr/bin/env python3
"""The FTP server (chipd with [FTP] on) against real clients: Python's
ftplib.FTP_TLS (explicit, implicit, data connections reusing the control
session in TLS 1.2 and 1.3), curl --ssl-reqd and lftp, plus raw sockets for
what clients never do (bounce, escapes, a cut-off upload). Each class starts
its own chipd on a generated PKI and chip.ini with free ports on 127.0.0.1
(or ::1), and stops it at the end (SIGTERM; exit status 0).

Run: CHIPD=build/servers/chipd python3 -m pytest -q servers/ftp/tests/test_ftp_server.py
Every wait is bounded; no result depends on how fast the machine is (the
login delay is checked as a lower bound only).
"""
import ftplib
import hashlib
import io
import os
import shutil
import signal
import socket
import ssl
import subprocess
import sys
import tempfile
import threading
import time

import pytest

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "tests"))
import test_chipd as tc  # noqa: E402  (make_pki, make_root, Chipd, free_port)

TIMEOUT = 30


def sha(b):
    return hashlib.sha256(b).hexdigest()


def file_sha(path):
    with open(path, "rb") as f:
        return sha(f.read())


class ReuseFTP(ftplib.FTP_TLS):
    """FTP_TLS whose data connections resume the control connection's TLS
    session (what vsftpd's require_ssl_reuse and chipd's REQUIRE_TLS need)."""
    tls_host = "localhost"

    def auth(self):
        host, self.host = self.host, self.tls_host
        try:
            return super().auth()
        finally:
            self.host = host

    def ntransfercmd(self, cmd, rest=None):
        conn, size = ftplib.FTP.ntransfercmd(self, cmd, rest)
        if self._prot_p:
            conn = self.context.wrap_socket(conn, server_hostname=self.tls_host,
                                            session=self.sock.session)
        return conn, size


class FreshFTP(ReuseFTP):
    """Data connections with a fresh TLS session: must get 522."""

    def ntransfercmd(self, cmd, rest=None):
        conn, size = ftplib.FTP.ntransfercmd(self, cmd, rest)
        conn = self.context.wrap_socket(conn, server_hostname=self.tls_host)
        return conn, size


class ImplicitFTP(ReuseFTP):
    """Implicit FTPS: TLS from the first byte, PROT P still to be sent."""

    def connect(self, host="", port=0, timeout=-999, source_address=None):
        self.host, self.port = host, port
        if timeout != -999:
            self.timeout = timeout
        raw = socket.create_connection((host, port), self.timeout)
        self.af = raw.family
        self.sock = self.context.wrap_socket(raw, server_hostname=self.tls_host)
        self.file = self.sock.makefile("r", encoding=self.encoding)
        self.welcome = self.getresp()
        return self.welcome


def make_files(d):
    root = f"{d}/ftproot"
    os.makedirs(f"{root}/dir/sub")
    with open(f"{root}/hello.txt", "wb") as f:
        f.write(b"hello ftp\n")
    with open(f"{root}/lines.txt", "wb") as f:
        f.write(b"one\ntwo\nthree\n")
    with open(f"{root}/big.bin", "wb") as f:
        f.write(os.urandom(12 * 1024 * 1024 + 5))
    # Larger than any socket buffers on the way: a transfer of it is still
    # running while the client has read only its start (ABOR, STAT, stop).
    with open(f"{root}/huge.bin", "wb") as f:
        f.truncate(64 * 1024 * 1024)
    with open(f"{root}/dir/sub/deep.txt", "wb") as f:
        f.write(b"deep\n")
    os.symlink("/etc/passwd", f"{root}/escape.txt")
    os.symlink("/etc", f"{root}/etcdir")
    os.symlink("hello.txt", f"{root}/inside.txt")
    os.makedirs(f"{d}/anonroot")
    with open(f"{d}/anonroot/pub.txt", "wb") as f:
        f.write(b"public\n")
    return root


class Server:
    """A chipd with the Web server off and the FTP server on."""

    def __init__(self, d, extra="", bind="127.0.0.1", name="chip.ini", ssl_extra=""):
        self.d = d
        self.port = tc.free_port()
        self.ftps = tc.free_port()
        self.root = f"{d}/ftproot"
        self.xferlog = f"{d}/{name}.xfer.log"
        ftp = (f"BIND = {bind}\nPORT = {self.port}\nFTPS_PORT = {self.ftps}\n"
               f"USER1 = alice\nPASSWORD1 = wonder-land\nROOT1 = {self.root}\n"
               f"XFER_LOG = {self.xferlog}\n{extra}")
        self.c = tc.Chipd(d, "ENABLE = 0\nSSL_ENABLE = 0\n", ssl_extra, name=name, ftp=ftp)
        self.host = bind

    def stop(self):
        return self.c.stop()

    def ctx(self, version=None):
        ctx = ssl.create_default_context(cafile=f"{self.d}/ca.pem")
        if version == "1.2":
            ctx.maximum_version = ssl.TLSVersion.TLSv1_2
        elif version == "1.3":
            ctx.minimum_version = ssl.TLSVersion.TLSv1_3
        return ctx

    def client(self, cls=ReuseFTP, version=None, login=True, ctx=None):
        f = cls(context=ctx or self.ctx(version), timeout=TIMEOUT)
        if cls is ImplicitFTP:
            f.connect(self.host, self.ftps)
        else:
            f.connect(self.host, self.port)
            f.auth()
        if login:
            f.login("alice", "wonder-land")
            f.prot_p()
        return f

    def xfer_log(self):
        with open(self.xferlog) as f:
            return f.read()


@pytest.fixture(scope="module")
def tmp():
    d = tempfile.mkdtemp(prefix="chipd-ftp-test-")
    tc.make_pki(d)
    tc.make_root(d)  # the (unused) Web root
    make_files(d)
    yield d
    shutil.rmtree(d, ignore_errors=True)


@pytest.fixture(scope="module")
def srv(tmp):
    s = Server(tmp, "MAX_PER_IP = 64\nMAX_CLIENTS = 100\nANONYMOUS = 1\n"
               f"ROOT0 = {tmp}/anonroot\n")
    yield s
    assert s.stop() == 0


def get(f, name, rest=None):
    b = io.BytesIO()
    r = f.retrbinary(f"RETR {name}", b.write, rest=rest)
    return r, b.getvalue()


# ---- Python ftplib ---------------------------------------------------------

@pytest.mark.parametrize("version", ["1.2", "1.3"])
def test_explicit_session_reuse(srv, version):
    f = srv.client(version=version)
    assert f.sock.version() == f"TLSv{version}"
    assert f.pwd() == "/"
    lines = []
    assert f.retrlines("LIST", lines.append).startswith("226")
    hello = [l for l in lines if l.endswith(" hello.txt")]
    assert len(hello) == 1 and hello[0].startswith("-rw") and " 10 " in hello[0]
    facts = dict(f.mlsd())
    assert facts["hello.txt"]["type"] == "file" and facts["hello.txt"]["size"] == "10"
    assert facts["dir"]["type"] == "dir"
    assert ".hello" not in facts
    assert "hello.txt" in f.nlst()
    r, data = get(f, "big.bin")
    assert r.startswith("226") and sha(data) == file_sha(f"{srv.root}/big.bin")
    r, data = get(f, "big.bin", rest=1000)
    assert sha(data) == sha(open(f"{srv.root}/big.bin", "rb").read()[1000:])
    payload = os.urandom(3 * 1024 * 1024 + 7)
    name = f"up-{version}.bin"
    assert f.storbinary(f"STOR {name}", io.BytesIO(payload)).startswith("226")
    assert file_sha(f"{srv.root}/{name}") == sha(payload)
    assert f.size(name) == len(payload)
    # REST + STOR: the file is cut at the offset and the rest follows.
    half = len(payload) // 2
    assert f.storbinary(f"STOR {name}", io.BytesIO(payload[half:]), rest=half).startswith("226")
    assert file_sha(f"{srv.root}/{name}") == sha(payload)
    assert f.rename(name, f"r-{name}").startswith("250")
    assert not os.path.exists(f"{srv.root}/{name}")
    assert f.delete(f"r-{name}").startswith("250")
    assert not os.path.exists(f"{srv.root}/r-{name}")
    assert f.mkd(f"new-{version}") == f"/new-{version}"
    assert f.cwd(f"new-{version}").startswith("250")
    assert f.pwd() == f"/new-{version}"
    f.cwd("..")
    assert f.rmd(f"new-{version}").startswith("250")
    assert f.sendcmd("MLST hello.txt").startswith("250-")
    assert f.quit().startswith("221")
    log = srv.xfer_log()
    assert f"alice RETR out /big.bin {12 * 1024 * 1024 + 5} complete" in log
    assert f"alice STOR in /{name} {len(payload)} complete" in log
    assert "wonder-land" not in log


def test_implicit_ftps(srv):
    f = srv.client(cls=ImplicitFTP)
    assert f.welcome.startswith("220")
    r, data = get(f, "hello.txt")
    assert data == b"hello ftp\n"
    # AUTH on a TLS connection: refused.
    with pytest.raises(ftplib.error_perm, match="^503"):
        f.sendcmd("AUTH TLS")
    f.quit()


@pytest.mark.parametrize("version", ["1.2", "1.3"])
def test_fresh_data_session_refused(srv, version):
    f = srv.client(cls=FreshFTP, version=version)
    with pytest.raises(ftplib.error_perm) as e:
        get(f, "hello.txt")
    assert str(e.value) == "522 Data connection must resume the control connection's TLS session"
    # The control connection goes on, and a resuming data connection works.
    f.__class__ = ReuseFTP
    assert get(f, "hello.txt")[1] == b"hello ftp\n"
    f.quit()


def test_clear_text_refused(srv):
    f = ftplib.FTP(timeout=TIMEOUT)
    f.connect(srv.host, srv.port)
    with pytest.raises(ftplib.error_perm, match="^530"):
        f.sendcmd("USER alice")
    with pytest.raises(ftplib.error_perm, match="^503"):
        f.sendcmd("PROT P")
    f.close()
    # PROT C after AUTH TLS with REQUIRE_TLS: refused too.
    g = srv.client(login=False)
    g.login("alice", "wonder-land")
    with pytest.raises(ftplib.error_perm, match="^5"):
        g.sendcmd("PBSZ 0")
        g.sendcmd("PROT C")
    g.quit()


def test_anonymous_read_only(srv):
    f = srv.client(login=False)
    f.login("anonymous", "guest@")
    f.prot_p()
    assert get(f, "pub.txt")[1] == b"public\n"
    with pytest.raises(ftplib.error_perm, match="^550"):
        f.storbinary("STOR new.txt", io.BytesIO(b"x"))
    with pytest.raises(ftplib.error_perm, match="^550"):
        f.delete("pub.txt")
    assert not os.path.exists(f"{srv.d}/anonroot/new.txt")
    f.quit()


def test_escapes(srv):
    f = srv.client()
    for cmd in ("RETR escape.txt", "RETR ../../../../etc/passwd", "RETR etcdir/passwd",
                "RETR /../etc/passwd"):
        with pytest.raises(ftplib.error_perm, match="^55"):
            get(f, cmd.split(" ", 1)[1])
    assert get(f, "inside.txt")[1] == b"hello ftp\n"  # a link inside the root
    with pytest.raises(ftplib.error_perm, match="^550"):
        f.cwd("etcdir")
    f.cwd("../../..")
    assert f.pwd() == "/"  # ".." clamps at the root
    with pytest.raises(ftplib.error_perm, match="^55"):
        f.retrlines("LIST etcdir", lambda l: None)
    with pytest.raises(ftplib.error_perm, match="^55"):
        f.storbinary("STOR etcdir/chipd-ftp-test", io.BytesIO(b"x"))
    assert not os.path.exists("/etc/chipd-ftp-test")
    with pytest.raises(ftplib.error_perm, match="^55"):
        f.sendcmd("SIZE escape.txt")
    with pytest.raises(ftplib.error_perm, match="^55"):
        f.sendcmd("MKD etcdir/x")
    with pytest.raises(ftplib.error_perm, match="^55"):
        f.sendcmd("RNFR etcdir/passwd")
        f.sendcmd("RNTO stolen")
    f.quit()


def test_bounce_refused(srv):
    f = srv.client()
    with pytest.raises(ftplib.error_perm, match="^504"):
        f.sendcmd("PORT 10,1,2,3,200,10")
    with pytest.raises(ftplib.error_perm, match="^50"):
        f.sendcmd("EPRT |1|192.0.2.7|5000|")
    with pytest.raises(ftplib.error_perm, match="^504"):
        f.sendcmd("PORT 127,0,0,1,0,21")  # a privileged port
    # Active mode to the client itself works.
    f.set_pasv(False)
    assert get(f, "hello.txt")[1] == b"hello ftp\n"
    f.quit()


def test_type_a(srv):
    f = srv.client()
    f.voidcmd("TYPE A")
    conn = f.transfercmd("RETR lines.txt")
    data = b""
    while chunk := conn.recv(65536):
        data += chunk
    conn.unwrap()
    conn.close()
    assert f.voidresp().startswith("226")
    assert data == b"one\r\ntwo\r\nthree\r\n"
    f.voidcmd("TYPE A")
    conn = f.transfercmd("STOR ascii-up.txt")
    conn.sendall(b"a\r\nb\r\nc\r\n")
    conn.unwrap()
    conn.close()
    assert f.voidresp().startswith("226")
    with open(f"{srv.root}/ascii-up.txt", "rb") as fh:
        assert fh.read() == b"a\nb\nc\n"
    f.delete("ascii-up.txt")
    f.quit()


def test_abor_during_retr(srv):
    f = srv.client()
    f.voidcmd("TYPE I")
    conn, _ = f.ntransfercmd("RETR huge.bin")
    assert len(conn.recv(65536)) > 0
    f.putcmd("ABOR")
    first, second = f.getline(), f.getline()
    assert first.startswith("426"), first
    assert second.startswith("226"), second
    conn.close()
    assert f.voidcmd("NOOP").startswith("200")
    assert sha(get(f, "hello.txt")[1]) == sha(b"hello ftp\n")
    f.quit()
    assert [l for l in srv.xfer_log().splitlines()
            if " alice RETR out /huge.bin " in l and l.endswith(" aborted")]


def test_stat_during_retr(srv):
    f = srv.client()
    f.voidcmd("TYPE I")
    conn, _ = f.ntransfercmd("RETR huge.bin")
    h = hashlib.sha256(conn.recv(65536))
    f.putcmd("STAT")
    assert f.getline().startswith("213")
    while chunk := conn.recv(1 << 20):
        h.update(chunk)
    conn.unwrap()
    conn.close()
    assert f.voidresp().startswith("226")
    assert h.hexdigest() == file_sha(f"{srv.root}/huge.bin")
    f.quit()


def fd_count(s):
    return len(os.listdir(f"/proc/{s.c.p.pid}/fd"))


def test_many_sessions(srv):
    n = 24
    errors = []
    fds = fd_count(srv)

    def one(i):
        try:
            f = srv.client(version="1.2" if i % 2 else "1.3")
            payload = os.urandom(200000 + i)
            f.storbinary(f"STOR many-{i}.bin", io.BytesIO(payload))
            back = get(f, f"many-{i}.bin")[1]
            big = get(f, "big.bin")[1]
            if sha(back) != sha(payload) or len(big) != 12 * 1024 * 1024 + 5:
                errors.append(f"{i}: wrong content")
            f.delete(f"many-{i}.bin")
            f.quit()
        except Exception as e:  # noqa: BLE001 (reported below)
            errors.append(f"{i}: {e!r}")

    threads = [threading.Thread(target=one, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(4 * TIMEOUT)
    assert not errors, errors
    # Every control, data and listening socket and every file is closed
    # again (lingering data sockets end when the clients have closed).
    wait_for(lambda: fd_count(srv) <= fds, f"chipd's descriptors back to {fds}")


def cut_upload(s, name, payload):
    """STOR part of payload, then the client dies: the data connection
    ends without close_notify, the control connection is dropped."""
    f = s.client()
    f.voidcmd("TYPE I")
    conn, _ = f.ntransfercmd(f"STOR {name}")
    conn.sendall(payload)
    conn.close()  # no close_notify
    f.sock.close()
    f.file.close()


def wait_for(pred, what):
    end = time.monotonic() + TIMEOUT
    while time.monotonic() < end:
        if pred():
            return
        time.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}")


def test_cut_upload_hidden(srv):
    payload = os.urandom(2 * 1024 * 1024)
    cut_upload(srv, "cut.bin", payload[: len(payload) // 2])
    wait_for(lambda: "/cut.bin" in srv.xfer_log(), "the transfer log line")
    lines = [l for l in srv.xfer_log().splitlines() if " STOR in /cut.bin " in l]
    assert len(lines) == 1 and lines[0].endswith(" aborted"), lines
    assert not os.path.exists(f"{srv.root}/cut.bin")
    assert not [n for n in os.listdir(srv.root) if ".part." in n]


def test_sigterm_during_transfers(tmp):
    s = Server(tmp, name="stop.ini")
    try:
        f = s.client()
        g = s.client()
        conn, _ = f.ntransfercmd("RETR huge.bin")
        conn.recv(1000)
        up, _ = g.ntransfercmd("STOR stop-up.bin")
        up.sendall(os.urandom(100000))
    finally:
        rc = s.stop()
    assert rc == 0
    rest = f.file.read()  # what the server said before closing
    assert "421" in rest, rest
    assert "421" in g.file.read()
    assert not os.path.exists(f"{s.root}/stop-up.bin")
    assert not [n for n in os.listdir(s.root) if ".part." in n]


def test_keep_partial_then_resume(tmp):
    s = Server(tmp, "KEEP_PARTIAL = 1\n", name="partial.ini")
    try:
        payload = os.urandom(3 * 1024 * 1024)
        cut_upload(s, "partial.bin", payload[:1024 * 1024])
        wait_for(lambda: "/partial.bin" in s.xfer_log(), "the transfer log line")
        have = os.path.getsize(f"{s.root}/partial.bin")
        assert 0 < have <= 1024 * 1024
        f = s.client()
        f.voidcmd("TYPE I")
        assert f.size("partial.bin") == have
        f.storbinary("STOR partial.bin", io.BytesIO(payload[have:]), rest=have)
        assert file_sha(f"{s.root}/partial.bin") == sha(payload)
        f.delete("partial.bin")
        f.quit()
    finally:
        assert s.stop() == 0


def test_wrong_passwords(tmp):
    s = Server(tmp, name="pw.ini")
    try:
        f = s.client(login=False)
        f.sendcmd("USER alice")
        with pytest.raises(ftplib.error_perm, match="^530"):
            f.sendcmd("PASS wrong1")
        f.sendcmd("USER alice")
        t = time.monotonic()
        with pytest.raises(ftplib.error_perm, match="^530"):
            f.sendcmd("PASS wrong2")
        assert time.monotonic() - t >= 0.9  # the second failure waits 1 s
        f.sendcmd("USER alice")
        with pytest.raises(ftplib.error_temp, match="^421"):
            f.sendcmd("PASS wrong3")
        assert f.file.read() == ""  # closed
        g = s.client()  # the right password still works
        g.quit()
    finally:
        assert s.stop() == 0


def test_idle_timeout_and_per_ip(tmp):
    s = Server(tmp, "TIMEOUT = 2\nMAX_PER_IP = 2\n", name="idle.ini")
    try:
        a, b = s.client(), s.client()
        c = ftplib.FTP(timeout=TIMEOUT)
        with pytest.raises(ftplib.error_temp, match="^421 Too many connections from your address"):
            c.connect(s.host, s.port)
        c.close()
        a.quit()
        resp = b.file.readline()  # nothing sent: the idle timeout ends it
        assert resp.startswith("421 Idle timeout"), resp
        assert b.file.read() == ""
    finally:
        assert s.stop() == 0


def test_ipv6_epsv_eprt(tmp):
    if not socket.has_ipv6:
        pytest.skip("no IPv6")
    try:
        with socket.socket(socket.AF_INET6) as t:
            t.bind(("::1", 0))
    except OSError:
        pytest.skip("no ::1")
    s = Server(tmp, bind="::1", name="v6.ini")
    try:
        f = s.client()
        assert f.af == socket.AF_INET6
        assert get(f, "hello.txt")[1] == b"hello ftp\n"  # EPSV
        f.set_pasv(False)  # EPRT |2|::1|port|
        assert get(f, "hello.txt")[1] == b"hello ftp\n"
        f.quit()
    finally:
        assert s.stop() == 0


# ---- curl ------------------------------------------------------------------

def curl(s, *args):
    r = subprocess.run(["curl", "-sS", "--ssl-reqd", "--cacert", f"{s.d}/ca.pem",
                        "-u", "alice:wonder-land", *args], capture_output=True, timeout=TIMEOUT)
    assert r.returncode == 0, r.stderr
    return r.stdout


@pytest.mark.parametrize("version", ["1.2", "1.3"])
def test_curl(srv, tmp, version):
    url = f"ftp://localhost:{srv.port}"
    tls = ["--tlsv1.2", "--tls-max", "1.2"] if version == "1.2" else ["--tlsv1.3"]
    assert curl(srv, *tls, f"{url}/hello.txt") == b"hello ftp\n"
    assert sha(curl(srv, *tls, f"{url}/big.bin")) == file_sha(f"{srv.root}/big.bin")
    listing = curl(srv, *tls, f"{url}/").decode()
    assert " hello.txt\r\n" in listing or " hello.txt\n" in listing
    up = f"{tmp}/curl-up-{version}.bin"
    with open(up, "wb") as fh:
        fh.write(os.urandom(1500000))
    curl(srv, *tls, "-T", up, f"{url}/curl-{version}.bin")
    assert file_sha(f"{srv.root}/curl-{version}.bin") == file_sha(up)
    # Resume a download (-C -): the first part is already here.
    part = f"{tmp}/curl-part-{version}.bin"
    with open(part, "wb") as fh:
        fh.write(open(f"{srv.root}/big.bin", "rb").read()[:5000000])
    curl(srv, *tls, "-C", "-", "-o", part, f"{url}/big.bin")
    assert file_sha(part) == file_sha(f"{srv.root}/big.bin")
    # Resume an upload (-C -): the server has the first part.
    with open(f"{srv.root}/curl-resume-{version}.bin", "wb") as fh:
        fh.write(open(up, "rb").read()[:600000])
    curl(srv, *tls, "-C", "-", "-T", up, f"{url}/curl-resume-{version}.bin")
    assert file_sha(f"{srv.root}/curl-resume-{version}.bin") == file_sha(up)
    # Implicit FTPS.
    assert curl(srv, *tls, f"ftps://localhost:{srv.ftps}/hello.txt") == b"hello ftp\n"
    for n in (f"curl-{version}.bin", f"curl-resume-{version}.bin"):
        os.unlink(f"{srv.root}/{n}")


# ---- lftp ------------------------------------------------------------------

@pytest.mark.parametrize("version", ["1.2", "1.3"])
def test_lftp_mirror(srv, tmp, version):
    src = f"{tmp}/lftp-src-{version}"
    back = f"{tmp}/lftp-back-{version}"
    os.makedirs(f"{src}/a/b")
    files = {"top.txt": b"top\n", "a/one.bin": os.urandom(700000), "a/b/two.bin": os.urandom(123457),
             "a/b/empty": b""}
    for n, data in files.items():
        with open(f"{src}/{n}", "wb") as fh:
            fh.write(data)
    prio = "NORMAL:-VERS-ALL:+VERS-TLS1.2" if version == "1.2" else "NORMAL:-VERS-ALL:+VERS-TLS1.3"
    script = (f"set ftp:ssl-force true; set ftp:ssl-protect-data true; set ssl:ca-file {tmp}/ca.pem; "
              f"set ssl:priority {prio}; set net:max-retries 1; set net:timeout 20; "
              f"open -u alice,wonder-land -p {srv.port} localhost; "
              f"mirror -R {src} m{version}; mirror m{version} {back}; "
              f"mv m{version}/top.txt m{version}/renamed.txt; rm m{version}/a/b/two.bin; "
              f"cls -1 m{version}/")
    r = subprocess.run(["lftp", "-c", script], capture_output=True, timeout=4 * TIMEOUT)
    assert r.returncode == 0, r.stderr
    for n, data in files.items():
        with open(f"{back}/{n}", "rb") as fh:
            assert fh.read() == data, n
    assert b"renamed.txt" in r.stdout
    assert os.path.exists(f"{srv.root}/m{version}/renamed.txt")
    assert not os.path.exists(f"{srv.root}/m{version}/top.txt")
    assert not os.path.exists(f"{srv.root}/m{version}/a/b/two.bin")
    shutil.rmtree(f"{srv.root}/m{version}")


def test_max_clients_and_pasv_ports(tmp):
    s = Server(tmp, "MAX_CLIENTS = 2\nPASV_PORTS = 45000-45999\n", name="max.ini")
    try:
        a, b = s.client(), s.client()
        c = ftplib.FTP(timeout=TIMEOUT)
        with pytest.raises(ftplib.error_temp, match="^421 Too many users"):
            c.connect(s.host, s.port)
        c.close()
        for _ in range(3):
            port = int(a.sendcmd("EPSV").split("|")[3])
            assert 45000 <= port <= 45999
            host, port = ftplib.parse227(a.sendcmd("PASV"))
            assert host == "127.0.0.1" and 45000 <= port <= 45999
        assert get(a, "hello.txt")[1] == b"hello ftp\n"
        a.quit()

        def place_free():  # once the server has closed a's connection
            try:
                s.client().quit()
                return True
            except ftplib.error_temp:
                return False
        wait_for(place_free, "a free place")
        b.quit()
    finally:
        assert s.stop() == 0


def test_sighup_reload(tmp):
    s = Server(tmp, name="reload.ini")
    try:
        a = s.client()
        der_a = a.sock.getpeercert(binary_form=True)

        def reloaded():
            b = s.client()
            try:
                return b.sock.getpeercert(binary_form=True) != der_a
            finally:
                b.quit()
        assert not reloaded()
        # SIGHUP re-reads the files [SSL] names: now server2's.
        for ext in ("pem", "key"):
            shutil.copy(f"{tmp}/server.{ext}", f"{tmp}/server-orig.{ext}")
            shutil.copy(f"{tmp}/server2.{ext}", f"{tmp}/server.{ext}")
        try:
            s.c.p.send_signal(signal.SIGHUP)
            wait_for(reloaded, "the new certificate")
            b = s.client()
            assert get(b, "hello.txt")[1] == b"hello ftp\n"
            b.quit()
            # A PKI change starts the core's resumption caches afresh (a
            # resumption skips the certificate checks): a connection from
            # before the reload can no longer prove its data connections.
            # It is told so, and its control connection goes on.
            with pytest.raises(ftplib.error_perm, match="^522 Data connection must resume"):
                get(a, "hello.txt")
            assert a.voidcmd("NOOP").startswith("200")
            a.quit()
        finally:
            for ext in ("pem", "key"):
                shutil.copy(f"{tmp}/server-orig.{ext}", f"{tmp}/server.{ext}")
    finally:
        assert s.stop() == 0


def test_client_auth(tmp):
    s = Server(tmp, name="cauth.ini", ssl_extra=f"CLIENT_AUTH = 1\nCA = {tmp}/ca.pem\n")
    try:
        f = ReuseFTP(context=s.ctx(), timeout=TIMEOUT)
        f.connect(s.host, s.port)
        with pytest.raises((ssl.SSLError, ConnectionError, EOFError, ftplib.Error)):
            f.auth()
            f.login("alice", "wonder-land")
        f.close()
        ctx = s.ctx()
        ctx.load_cert_chain(f"{tmp}/client.pem", f"{tmp}/client.key")
        g = ReuseFTP(context=ctx, timeout=TIMEOUT)
        g.connect(s.host, s.port)
        g.auth()
        g.login("alice", "wonder-land")
        g.prot_p()
        assert get(g, "hello.txt")[1] == b"hello ftp\n"  # the data connection resumes
        g.quit()
    finally:
        assert s.stop() == 0


def test_passive_port_only_for_the_client(srv):
    f = srv.client()
    f.voidcmd("TYPE I")
    _, port = ftplib.parse227(f.sendcmd("PASV"))
    # Another address (127.0.0.2 is loopback too) is closed at once.
    thief = socket.socket()
    thief.settimeout(TIMEOUT)
    thief.bind(("127.0.0.2", 0))
    thief.connect(("127.0.0.1", port))
    try:
        assert thief.recv(100) == b""
    except ConnectionResetError:
        pass
    thief.close()
    # The listener is still there for the client itself.
    conn = socket.create_connection(("127.0.0.1", port), TIMEOUT)
    assert f.sendcmd("RETR hello.txt").startswith("150")
    conn = f.context.wrap_socket(conn, server_hostname="localhost", session=f.sock.session)
    data = b""
    while chunk := conn.recv(4096):
        data += chunk
    conn.unwrap()
    conn.close()
    assert data == b"hello ftp\n"
    assert f.voidresp().startswith("226")
    # APPE adds to the end.
    f.storbinary("STOR appe.txt", io.BytesIO(b"first\n"))
    f.storbinary("APPE appe.txt", io.BytesIO(b"second\n"))
    with open(f"{srv.root}/appe.txt", "rb") as fh:
        assert fh.read() == b"first\nsecond\n"
    f.delete("appe.txt")
    f.quit()


def test_web_and_ftp_together_option2(tmp):
    """One chip.ini, both servers; the FTP session has option 2 on: the
    server's PROPOSALS order wins over the client's (openssl s_client
    -starttls ftp, and the implicit port)."""
    port, ftps = tc.free_port(), tc.free_port()
    ftp = (f"BIND = 127.0.0.1\nPORT = {port}\nFTPS_PORT = {ftps}\nUSER1 = alice\n"
           f"PASSWORD1 = wonder-land\nROOT1 = {tmp}/ftproot\n")
    c = tc.Chipd(tmp, "", "PROPOSALS = TLS_AES_256_GCM_SHA384,TLS_AES_128_GCM_SHA256,"
                 "TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384,TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256\n",
                 name="both.ini", ftp=ftp)
    try:
        r = subprocess.run(["curl", "-sS", "--cacert", f"{tmp}/ca.pem",
                            f"https://localhost:{c.https}/main.htm"], capture_output=True,
                           timeout=TIMEOUT)
        assert b"chipd main page" in r.stdout, r.stderr
        for args in (["-starttls", "ftp", "-connect", f"127.0.0.1:{port}"],
                     ["-connect", f"127.0.0.1:{ftps}"]):
            for ver, client_order, want in (
                    ("-tls1_3", ["-ciphersuites", "TLS_AES_128_GCM_SHA256:TLS_AES_256_GCM_SHA384"],
                     "TLS_AES_256_GCM_SHA384"),
                    ("-tls1_2", ["-cipher", "ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-ECDSA-AES256-GCM-SHA384"],
                     "ECDHE-ECDSA-AES256-GCM-SHA384")):
                r = subprocess.run(["openssl", "s_client", *args, ver, *client_order, "-CAfile",
                                    f"{tmp}/ca.pem", "-verify_return_error", "-brief", "-ign_eof"],
                                   input=b"QUIT\r\n", capture_output=True, timeout=TIMEOUT)
                out = r.stdout.decode() + r.stderr.decode()
                assert f"Ciphersuite: {want}" in out, out
                assert "221 Goodbye." in out, out
        f = ReuseFTP(context=ssl.create_default_context(cafile=f"{tmp}/ca.pem"), timeout=TIMEOUT)
        f.connect("127.0.0.1", port)
        f.auth()
        f.login("alice", "wonder-land")
        f.prot_p()
        assert get(f, "hello.txt")[1] == b"hello ftp\n"
        f.quit()
    finally:
        assert c.stop() == 0


@pytest.mark.parametrize("version", ["1.2", "1.3"])
def test_other_connections_session_refused(srv, version):
    """A data connection that resumes a session, but another control
    connection's: a resumption, not of this session: 522."""
    ctx = srv.ctx(version)  # Python resumes only sessions of the same context
    a = srv.client(ctx=ctx)
    b = srv.client(ctx=ctx)
    other = a.sock.session

    class Other(ReuseFTP):
        def ntransfercmd(self, cmd, rest=None):
            conn, size = ftplib.FTP.ntransfercmd(self, cmd, rest)
            conn = self.context.wrap_socket(conn, server_hostname=self.tls_host, session=other)
            assert conn.session_reused  # the server did resume it...
            return conn, size
    b.__class__ = Other
    with pytest.raises(ftplib.error_perm) as e:
        get(b, "hello.txt")
    # ... and still refused it: it is not b's control session.
    assert str(e.value) == "522 Data connection must resume the control connection's TLS session"
    b.__class__ = ReuseFTP
    assert get(b, "hello.txt")[1] == b"hello ftp\n"
    assert get(a, "hello.txt")[1] == b"hello ftp\n"
    a.quit()
    b.quit()


@pytest.mark.parametrize("version", ["1.2", "1.3"])
def test_data_handshake_before_the_transfer_command(srv, version):
    # With PROT P the server answers the data connection's ClientHello at
    # once, before the transfer command: curl sends its ClientHello, then
    # its next command, and waits for the ServerHello in between. The
    # handshake completes here with no command sent; RETR then uses it.
    f = srv.client(version=version)
    host, port = ftplib.parse229(f.sendcmd("EPSV"), f.sock.getpeername())
    raw = socket.create_connection((host, port), timeout=TIMEOUT)
    data = f.context.wrap_socket(raw, server_hostname=f.tls_host, session=f.sock.session,
                                 do_handshake_on_connect=False)
    data.do_handshake()  # before the fix: no ServerHello until RETR (the timeout)
    assert data.session_reused
    assert f.sendcmd("TYPE I").startswith("200")
    assert f.sendcmd("RETR hello.txt").startswith("150")
    got = b""
    while chunk := data.recv(65536):
        got += chunk
    data.close()
    assert got == open(f"{srv.root}/hello.txt", "rb").read()
    assert f.voidresp().startswith("226")
    f.quit()


def test_prot_c_after_a_protected_data_connection(tmp):
    # REQUIRE_TLS=0 allows PROT C; a data connection that was opened (and
    # handshaken) under PROT P is not used for a clear transfer: 425.
    s = Server(tmp, "REQUIRE_TLS = 0\n")
    try:
        f = s.client()
        host, port = ftplib.parse229(f.sendcmd("EPSV"), f.sock.getpeername())
        raw = socket.create_connection((host, port), timeout=TIMEOUT)
        data = f.context.wrap_socket(raw, server_hostname=f.tls_host, session=f.sock.session,
                                     do_handshake_on_connect=False)
        data.do_handshake()
        assert f.sendcmd("PROT C").startswith("200")
        assert f.sendcmd("RETR hello.txt").startswith("150")
        with pytest.raises(ftplib.error_temp, match="^425 The data connection was opened under PROT P"):
            f.voidresp()
        assert data.recv(100) == b""  # closed, nothing sent in the clear
        data.close()
        f.quit()
    finally:
        assert s.stop() == 0


def test_sni_identities_on_ftps(tmp):
    # [SSL] CERTn/KEYn apply to the FTP server too (one srv_tls for both):
    # a client naming alpha.example gets that certificate on the explicit
    # (AUTH TLS) and the implicit port; another name, or none, gets CERT.
    from test_web_server import make_cert
    make_cert(tmp, "alpha", "alpha.example", "DNS:alpha.example")
    port, ftps = tc.free_port(), tc.free_port()
    ftp = f"BIND = 127.0.0.1\nPORT = {port}\nFTPS_PORT = {ftps}\n"
    c = tc.Chipd(tmp, "", f"CERT1 = {tmp}/alpha.pem\nKEY1 = {tmp}/alpha.key\n", name="sni.ini",
                 ftp=ftp)
    try:
        for args in (["-starttls", "ftp", "-connect", f"127.0.0.1:{port}"],
                     ["-connect", f"127.0.0.1:{ftps}"]):
            for name, want in ((["-servername", "alpha.example"], "CN=alpha.example"),
                               (["-servername", "gamma.example"], "CN=localhost"),
                               (["-noservername"], "CN=localhost")):
                r = subprocess.run(["openssl", "s_client", *args, *name, "-CAfile", f"{tmp}/ca.pem",
                                    "-verify_return_error"], input=b"QUIT\r\n",
                                   capture_output=True, timeout=TIMEOUT)
                subj = [l for l in r.stdout.decode().splitlines() if l.startswith("subject=")]
                assert r.returncode == 0 and subj, r.stdout.decode() + r.stderr.decode()
                assert subj[0][len("subject="):].replace(" = ", "=") == want, (args, name, subj)
    finally:
        assert c.stop() == 0
