"""tls_echo_server as the model event loop (issue 5, item 6).

One thread, non-blocking sockets, poll() and a timer per connection, no
polling tick:
  - a silent client (TCP connect, nothing sent) is dropped at the handshake
    time limit (-t) by its timer, while nothing else wakes the server up;
    an idle server does not wake up at all;
  - a client that stops reading while the server echoes to it stalls only
    its own connection: another client is still served; when it finally
    goes away, the server's connection ends;
  - the server's clean close (SSL_ConnClose) never blocks: 20 clients that
    close are all answered with close_notify while two others read nothing;
    at exit (-n) the server finishes the close of the one that starts
    reading only after the close began, and gives up on the other at its
    close timer.

Wake-ups are counted with the server's voluntary context switches
(/proc/PID/task/PID/status): a process asleep in poll() has none. Every wait
is bounded; nothing asserts on elapsed time.
"""

import os
import select
import socket
import ssl
import threading
import time

import pytest

from conftest import WAIT, py_client_context

ERR_TIMEDOUT = 260          # API_ETIMEDOUT
STALL_QUIET = 1.0           # s without any progress: the server no longer reads
FILL_LIMIT = 512 << 20      # bytes: a server that reads this much never stalled
RCVBUF = 4096               # bytes: a stalling client's receive buffer
SNDBUF = 16384              # bytes: the server's send buffers (-w), fixed
CLOSE_NOTIFY_GIVEN_UP = "ENDED close: close_notify not sent"


def _status_path(pid):
    return "/proc/%d/task/%d/status" % (pid, pid)


def wakeups(srv):
    """The server's voluntary context switches so far: one per sleep."""
    try:
        with open(_status_path(srv.proc.pid)) as f:
            for ln in f:
                if ln.startswith("voluntary_ctxt_switches:"):
                    return int(ln.split()[1])
    except OSError:
        pass
    pytest.skip("no /proc/PID/task/PID/status voluntary_ctxt_switches here")


def wait_asleep(srv, timeout=WAIT):
    """Wait until the server sleeps (state S: in poll()) with no wake-up
    between two looks: it has done everything it could do."""
    deadline = time.monotonic() + timeout
    last = None
    while time.monotonic() < deadline:
        with open("/proc/%d/stat" % srv.proc.pid) as f:
            state = f.read().rsplit(")", 1)[1].split()[0]
        now = wakeups(srv)
        if state == "S" and now == last:
            return
        last = now if state == "S" else None
        time.sleep(0.1)
    pytest.fail("tls_echo_server never went back to sleep\n" + srv.describe())


def echo_once(pki, port, payload):
    """A Python TLS client: send payload, read it back, close_notify and wait
    for the server's. Returns (echo, the server's close_notify seen)."""
    ctx = py_client_context(pki)
    with socket.create_connection(("127.0.0.1", port), timeout=WAIT) as raw:
        tls = ctx.wrap_socket(raw, server_hostname="localhost")
        tls.sendall(payload)
        got = bytearray()
        while len(got) < len(payload):
            d = tls.recv(65536)
            if not d:
                break
            got += d
        try:
            tls.unwrap()
            clean = True
        except (ssl.SSLError, OSError):
            clean = False
        tls.close()
        return bytes(got), clean


class StallingClient:
    """A TLS client on a non-blocking socket (ssl.SSLObject over memory BIOs),
    all in the calling thread: it sends as much as the server takes while
    reading nothing, and reads only when told to."""

    def __init__(self, pki, port):
        # A small receive buffer (no autotuning) is full at once: the
        # server's echo then fills its socket's send buffer with nothing in
        # flight, and with a fixed send buffer (-w) nothing frees a byte of
        # it until this client reads: the server's close_notify cannot go.
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, RCVBUF)
        self.sock.settimeout(WAIT)
        self.sock.connect(("127.0.0.1", port))
        self.sock.setblocking(False)
        self.inc, self.out = ssl.MemoryBIO(), ssl.MemoryBIO()
        self.tls = py_client_context(pki).wrap_bio(self.inc, self.out,
                                                   server_hostname="localhost")
        self.pending = bytearray()   # encrypted bytes not yet on the socket
        self.sent = 0                # plaintext bytes handed to TLS
        self.received = 0            # plaintext bytes read back
        deadline = time.monotonic() + WAIT
        while True:
            try:
                self.tls.do_handshake()
                break
            except ssl.SSLWantReadError:
                self._push(deadline - time.monotonic())
                if not self._pull(deadline - time.monotonic()):
                    raise AssertionError("handshake: the server sent nothing more")
        self._push(deadline - time.monotonic())

    def _push(self, timeout):
        """Move TLS output to the socket; False when the socket took nothing
        for `timeout` seconds."""
        self.pending += self.out.read()
        while self.pending:
            _, w, _ = select.select([], [self.sock], [], max(timeout, 0))
            if not w:
                return False
            n = self.sock.send(self.pending)
            del self.pending[:n]
        return True

    def _pull(self, timeout):
        """Feed what arrives within `timeout` to TLS; b'' at end of stream."""
        r, _, _ = select.select([self.sock], [], [], max(timeout, 0))
        if not r:
            return None
        try:
            data = self.sock.recv(1 << 20)
        except ConnectionResetError:
            data = b""
        if data:
            self.inc.write(data)
        else:
            self.inc.write_eof()
        return data

    def fill_until_stalled(self):
        """Send until the server takes nothing for STALL_QUIET seconds: it
        echoes into a connection whose peer does not read, and so stopped
        reading. Returns the plaintext bytes sent."""
        chunk = b"s" * 65536
        deadline = time.monotonic() + 4 * WAIT
        while time.monotonic() < deadline and self.sent < FILL_LIMIT:
            if not self.pending:
                self.tls.write(chunk)
                self.sent += len(chunk)
            if not self._push(STALL_QUIET):
                return self.sent
        raise AssertionError("the server kept reading %d bytes from a client that reads "
                             "nothing" % self.sent)

    def _read_all(self):
        """Read what TLS holds: True at close_notify (SSLObject.read gives b''
        or raises SSLZeroReturnError), None when it needs more input."""
        try:
            while True:
                data = self.tls.read(1 << 20)
                if not data:
                    return True
                self.received += len(data)
        except ssl.SSLZeroReturnError:
            return True
        except ssl.SSLWantReadError:
            return None

    def read_to_end(self, timeout=4 * WAIT):
        """Read until the server's close_notify or the end of the stream.
        Returns True for close_notify."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                if self._read_all():
                    return True
                if self._pull(deadline - time.monotonic()) == b"":
                    return bool(self._read_all())
            except ssl.SSLError:
                return False  # the end of the stream without close_notify
        raise AssertionError("no end of stream from the server")

    def close(self):
        """Go away without reading: close() with unread data sends a reset."""
        self.sock.close()


@pytest.fixture
def stalling_client(pki):
    made = []

    def make(port):
        c = StallingClient(pki, port)
        made.append(c)
        return c
    yield make
    for c in made:
        c.close()


def test_silent_client_dropped_by_its_timer(pki, start_echo_server):
    """-t 2: a client that connects and sends nothing is dropped with
    'timed out' and 'handshake time limit passed', although nothing but
    its timer wakes the server; an idle server sleeps without a tick."""
    srv = start_echo_server(["-t", "2"])
    wait_asleep(srv)
    before = wakeups(srv)
    time.sleep(1.5)
    assert wakeups(srv) == before, \
        "the idle server woke up (a polling tick?)\n" + srv.describe()

    silent = socket.create_connection(("127.0.0.1", srv.port), timeout=WAIT)
    try:
        conn = srv.wait_conn(timeout=WAIT + 2)
        assert conn["status"] == "failed", conn["line"]
        assert conn["error"] == ERR_TIMEDOUT, conn["line"]
        assert "timed out" in conn["line"], conn["line"]
        assert "time limit" in conn["reason"], conn["line"]
        silent.settimeout(WAIT)
        try:
            assert silent.recv(100) == b"", "the server did not close the connection"
        except ConnectionResetError:
            pass
        wait_asleep(srv)
        # accept(), the timer, at most one re-armed timer (clock rounding);
        # a 250 ms tick would have made it 8 or more in these 2 s.
        woke = wakeups(srv) - before
        assert woke <= 3, "%d wake-ups for one silent client\n%s" % (woke, srv.describe())
    finally:
        silent.close()
    # the server still serves
    got, clean = echo_once(pki, srv.port, b"after the time limit")
    assert got == b"after the time limit" and clean, srv.describe()


def test_client_that_stops_reading_stalls_only_itself(pki, start_echo_server,
                                                      stalling_client):
    """A client sends without ever reading until the server no longer reads
    from it (its echo to that client waits for POLLOUT); another client is
    served meanwhile; when the stalled one goes away, its connection ends."""
    srv = start_echo_server()
    stalled = stalling_client(srv.port)
    sent = stalled.fill_until_stalled()
    assert srv.wait_conn()["status"] == "ok", srv.describe()

    # The server echoes into a full socket and no longer reads from it;
    # another client is still served, both ways, close_notify included.
    payload = os.urandom(100 * 1024)
    got, clean = echo_once(pki, srv.port, payload)
    assert got == payload, srv.describe()
    assert clean, "no close_notify from the server\n" + srv.describe()
    closed = srv.wait_closed(1)
    assert len(closed) == 1 and closed[0]["in"] == len(payload), srv.describe()

    # The stalled client goes away (a reset: it leaves data unread): the
    # server's connection ends, what it had read counted.
    stalled.close()
    closed = srv.wait_closed(2)
    assert len(closed) == 2, "the stalled connection never ended\n" + srv.describe()
    assert 0 < closed[1]["in"] < sent, closed[1]
    assert any(ln.startswith("ENDED ") for ln in srv.out.splitlines()), srv.describe()
    got, clean = echo_once(pki, srv.port, b"still here")
    assert got == b"still here" and clean, srv.describe()


def test_clean_close_never_blocks(pki, start_echo_server, stalling_client):
    """-n 20: two clients stall the server's echo to them (its send buffers
    are fixed with -w, so that they stay full to the last byte); 20 clients
    that close at once all get close_notify back and a CLOSED line. At exit
    the server closes the two stalled ones, whose close_notify cannot be
    written: one starts reading after the close began (SSL_ConnClose called
    again as its socket drains, until done), the other never reads (the
    close timer gives up on it). The program then exits by itself. A
    blocking close would hang on the first of them."""
    n = 20
    srv = start_echo_server(["-n", str(n), "-w", str(SNDBUF)])
    never_reads = stalling_client(srv.port)
    never_reads.fill_until_stalled()
    reads_late = stalling_client(srv.port)
    reads_late.fill_until_stalled()

    results = [None] * n
    errors = []

    def client(i):
        try:
            results[i] = echo_once(pki, srv.port, b"client %d" % i)
        except Exception as e:  # noqa: BLE001 - reported below
            errors.append("client %d: %r" % (i, e))

    threads = [threading.Thread(target=client, args=(i,), daemon=True) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=4 * WAIT)
    assert not any(t.is_alive() for t in threads), "a client hung\n" + srv.describe()
    assert not errors, "%s\n%s" % (errors, srv.describe())
    for i, (got, clean) in enumerate(results):
        assert got == b"client %d" % i, results[i]
        assert clean, "client %d: no close_notify from the server\n%s" % (i, srv.describe())
    assert len(srv.wait_closed(n)) == n, srv.describe()

    # The 20th end made the server begin closing the two stalled
    # connections; once it sleeps again, both closes are pending.
    wait_asleep(srv)
    assert srv.proc.poll() is None, "exited without closing\n" + srv.describe()
    reads_late.read_to_end()  # close_notify, or a reset: the server leaves its data unread
    assert srv.wait_closed(n + 1, timeout=WAIT)[n:], \
        "the close of a client that reads was not finished\n" + srv.describe()
    rc = srv.wait(timeout=4 * WAIT)
    assert rc == 0, "the server did not exit by itself\n" + srv.describe()
    closed = srv.closed_lines()
    assert len(closed) == n + 2, srv.describe()
    lines = srv.out.splitlines()
    gave_up = [ln for ln in lines if ln.startswith(CLOSE_NOTIFY_GIVEN_UP)]
    assert len(gave_up) == 1, "expected one close given up (the client that never " \
        "reads)\n" + srv.describe()
    # the reading client's close came first: the give-up line is just
    # before the last CLOSED line
    assert lines.index(gave_up[0]) == len(lines) - 2, srv.describe()
