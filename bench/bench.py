#!/usr/bin/env python3
"""chipssl's benchmarks: each figure for chipssl and its anchor in the same
run, alternating rounds (A B A B ...), on 127.0.0.1. Called by bench/run.sh
(which builds and installs what is needed); see bench/README.md.

Every figure gives a median per side over the rounds and the ratio
chipssl / anchor. CPU-bound figures are divided by the server's own CPU time
(utime + stime from /proc/PID/stat, summed over the server's processes),
so that a load client sharing the cores does not decide them; the wall-clock
rate is kept beside it. A side that cannot run says why ("n/a (...)"),
never a made-up number."""

import argparse
import csv
import re
import os
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
TICK = os.sysconf("SC_CLK_TCK")
NOFILE = __import__("resource").getrlimit(__import__("resource").RLIMIT_NOFILE)[1]


class NA(Exception):
    """A side that cannot be measured: the reason goes into the table."""


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_port(port, proc, secs=10):
    end = time.time() + secs
    while time.time() < end:
        if proc.poll() is not None:
            raise NA("server exited at start (%d)" % proc.returncode)
        try:
            socket.create_connection(("127.0.0.1", port), 0.2).close()
            return
        except OSError:
            time.sleep(0.05)
    raise NA("server not listening on port %d" % port)


def procs_of(pid):
    """pid and all its descendants (nginx's workers)."""
    kids = {}
    for d in os.listdir("/proc"):
        if d.isdigit():
            try:
                with open("/proc/%s/stat" % d) as f:
                    ppid = int(f.read().rsplit(")", 1)[1].split()[1])
                kids.setdefault(ppid, []).append(int(d))
            except (OSError, ValueError, IndexError):
                pass
    out, todo = [], [pid]
    while todo:
        p = todo.pop()
        out.append(p)
        todo.extend(kids.get(p, []))
    return out


def cpu_secs(pid, user_only=False):
    total = 0
    for p in procs_of(pid):
        try:
            with open("/proc/%d/stat" % p) as f:
                fields = f.read().rsplit(")", 1)[1].split()
            total += int(fields[11]) + (0 if user_only else int(fields[12]))  # utime, stime
        except OSError:
            pass
    return total / TICK


def rss_kib(pid):
    total = 0
    for p in procs_of(pid):
        try:
            with open("/proc/%d/status" % p) as f:
                for line in f:
                    if line.startswith("VmRSS:"):
                        total += int(line.split()[1])
        except OSError:
            pass
    return total


SANITIZED = "n/a (sanitizer build: ASan's allocator, no malloc_stats)"


def heap_kib(pid, logs):
    """KiB in use in the malloc heaps of pid and its children: glibc's
    malloc_stats() called in each process by gdb; it writes to the process's
    standard error, which is one of the files in logs. None without gdb."""
    if not shutil.which("gdb"):
        return None
    try:
        with open("/proc/%d/maps" % pid) as f:
            if "libasan" in f.read():
                return SANITIZED
    except OSError:
        return None
    total = 0
    for p in procs_of(pid):
        sizes = {f: os.path.getsize(f) if os.path.exists(f) else 0 for f in logs}
        r = subprocess.run(["gdb", "-p", str(p), "-batch", "-nx", "-ex", "call (void)malloc_stats()"],
                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, timeout=120)
        if r.returncode != 0:
            return None
        found = None
        for f in logs:
            if not os.path.exists(f):
                continue
            with open(f, errors="replace") as fh:
                fh.seek(sizes[f])
                text = fh.read()
            # the last block, "Total (incl. mmap):", counts every arena and mmap
            m = re.findall(r"Total \(incl\. mmap\):\s*system bytes\s*=\s*\d+\s*in use bytes\s*=\s*(\d+)",
                           text)
            if m:
                found = int(m[-1])
        if found is None:
            return None
        total += found
    return total / 1024


def kv(line):
    return {k: v for k, v in (w.split("=", 1) for w in line.split() if "=" in w)}


class Server:
    """A server process, stopped (SIGTERM, then SIGKILL) at the end."""

    def __init__(self, argv, port, work, name, env=None, stdin=subprocess.DEVNULL):
        self.log = open(os.path.join(work, name + ".log"), "w")
        self.proc = subprocess.Popen(argv, stdout=self.log, stderr=subprocess.STDOUT, stdin=stdin,
                                     env=env, start_new_session=True)
        self.port = port
        self.name = name
        Server.running.append(self)
        try:
            wait_port(port, self.proc)
        except NA:
            self.stop()
            raise

    @property
    def pid(self):
        return self.proc.pid

    running = []

    def died(self):
        """Why the server is gone, with the end of its log, or None."""
        if self.proc.poll() is None:
            return None
        self.log.flush()
        with open(self.log.name, errors="replace") as f:
            tail = f.read()[-300:].replace("\n", " / ")
        return "%s exited with %d: %s" % (self.name, self.proc.returncode, tail)

    def stop(self):
        if self in Server.running:
            Server.running.remove(self)
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait()
        self.log.close()

    def __enter__(self):
        return self

    def __exit__(self, *a):
        self.stop()


class Bench:
    def __init__(self, args):
        self.a = args
        self.build = args.build_dir
        self.work = tempfile.mkdtemp(prefix="chipssl-bench-")
        os.chmod(self.work, 0o755)  # nginx's and vsftpd's unprivileged users read the files
        self.rows = []
        self.tiny = args.tiny
        self.rounds = 1 if self.tiny else args.rounds
        self.secs = 0.3 if self.tiny else args.secs
        self.concs = [4] if self.tiny else [10, 100, 1000]
        self.workers = [1] if self.tiny else [1, 2]
        self.make_files()

    def exe(self, rel):
        p = os.path.join(self.build, rel)
        if not os.path.exists(p):
            raise NA("%s not built" % rel)
        return p

    def run(self, argv, timeout=600, **kw):
        r = subprocess.run(argv, capture_output=True, text=True, timeout=timeout, **kw)
        if r.returncode != 0:
            raise NA("%s failed: %s" % (os.path.basename(argv[0]), (r.stderr or r.stdout).strip()[-200:]))
        return r.stdout

    # --- set-up ---------------------------------------------------------

    def make_files(self):
        w = self.work
        self.cert = {}
        for kind, newkey in (("ecdsa", ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256"]),
                             ("rsa", ["-newkey", "rsa:2048"])):
            c, k = os.path.join(w, kind + ".pem"), os.path.join(w, kind + ".key")
            subprocess.run(["openssl", "req", "-x509", *newkey, "-nodes", "-keyout", k, "-out", c,
                            "-days", "7", "-subj", "/CN=localhost", "-addext",
                            "subjectAltName=DNS:localhost,IP:127.0.0.1"],
                           check=True, capture_output=True)
            os.chmod(k, 0o644)  # a throw-away key, read by nginx/vsftpd workers
            self.cert[kind] = (c, k)
        self.www = os.path.join(w, "www")
        os.mkdir(self.www)
        with open(os.path.join(self.www, "1k.bin"), "wb") as f:
            f.write(b"k" * 1024)
        with open(os.path.join(self.www, "main.htm"), "w") as f:
            f.write("bench\n")
        self.ftproot = os.path.join(w, "ftp")
        os.mkdir(self.ftproot)
        with open(os.path.join(self.ftproot, "1k.bin"), "wb") as f:
            f.write(b"k" * 1024)
        big = (1 << 20) if self.tiny else self.a.ftp_mib << 20
        with open(os.path.join(self.ftproot, "big.bin"), "wb") as f:
            f.truncate(big)  # zeros; TLS does not care
        self.big = big
        for d in (self.www, self.ftproot):
            os.chmod(d, 0o755)

    # --- the table --------------------------------------------------------

    def add(self, figure, case, unit, a, b, goal, better="higher", note="", wall=None, limit=None):
        """a: chipssl's rounds (or NA text), b: the anchor's. limit: an
        absolute bound on chipssl's median (lower is better) that the goal
        also needs."""
        def med(v):
            return statistics.median(v) if isinstance(v, list) and v else None
        ma, mb = med(a), med(b)
        ratio = ma / mb if ma is not None and mb else None
        met = ""
        if ratio is not None and goal:
            met = "yes" if (ratio >= goal if better == "higher" else ratio <= goal) else "no"
            if limit is not None and ma > limit:
                met = "no (%.3g > %g)" % (ma, limit)
        row = dict(figure=figure, case=case, unit=unit,
                   chipssl=("%.4g" % ma) if ma is not None else a,
                   anchor=("%.4g" % mb) if mb is not None else b,
                   ratio=("%.3f" % ratio) if ratio is not None else "",
                   goal=("%s %.2f" % (">=" if better == "higher" else "<=", goal)) if goal else "",
                   met=met, wall="", note=note, rounds=len(a) if isinstance(a, list) else 0)
        if wall:
            wa, wb = med(wall[0]), med(wall[1])
            row["wall"] = "%s / %s" % ("%.4g" % wa if wa is not None else "n/a",
                                       "%.4g" % wb if wb is not None else "n/a")
        self.rows.append(row)
        print("%-28s %-34s %12s %12s %7s %s" % (figure, case, row["chipssl"], row["anchor"],
                                              row["ratio"], note), flush=True)

    def alternate(self, sides, measure):
        """Runs measure(side) for each side in turn, rounds times: A B A B.
        Returns per side a list of results, or the NA text of the first
        failure (that side is not run again)."""
        out = {s: [] for s in sides}
        for _ in range(self.rounds):
            for s in sides:
                if isinstance(out[s], str):
                    continue
                try:
                    out[s].append(measure(s))
                except NA as e:
                    why = "; ".join(filter(None, (x.died() for x in Server.running)))
                    out[s] = "n/a (%s%s)" % (e, "; " + why if why else "")
                except subprocess.TimeoutExpired:
                    out[s] = "n/a (timed out)"
        return out

    @staticmethod
    def col(res, key):
        return res if isinstance(res, str) else [r[key] for r in res if key in r]

    # --- servers ----------------------------------------------------------

    def echo_server(self, kind, ver, caches=4096, extra=()):
        c, k = self.cert[kind]
        p = free_port()
        suite = "0x1301" if ver == 13 else ("0xC02B" if kind == "ecdsa" else "0xC02F")
        return Server([self.exe("examples/tls_echo_server"), "-c", c, "-k", k, "-p", str(p),
                       "-m", str(caches), "-v", "0x10" if ver == 13 else "0x08", "-s", suite,
                       "-q"] + list(extra),  # -q as s_server -quiet: no line per connection
                      p, self.work, "tls_echo_server")

    def s_server(self, kind, ver, resumption=True):
        c, k = self.cert[kind]
        p = free_port()
        argv = ["openssl", "s_server", "-accept", "127.0.0.1:%d" % p, "-cert", c, "-key", k,
                "-quiet", "-groups", "X25519:P-256"]
        if not resumption:  # as tls_echo_server -m 0: no cache, no tickets
            argv += ["-no_cache", "-no_ticket", "-num_tickets", "0"]
        if ver == 13:
            argv += ["-tls1_3", "-ciphersuites", "TLS_AES_128_GCM_SHA256"]
        else:
            argv += ["-tls1_2", "-cipher",
                     "ECDHE-ECDSA-AES128-GCM-SHA256" if kind == "ecdsa" else "ECDHE-RSA-AES128-GCM-SHA256"]
        return Server(argv, p, self.work, "s_server")

    def nginx(self, workers, kind="ecdsa"):
        c, k = self.cert[kind]
        p = free_port()
        d = os.path.join(self.work, "nginx")
        os.makedirs(d, exist_ok=True)
        conf = os.path.join(d, "nginx.conf")
        with open(conf, "w") as f:
            f.write("""daemon off;
master_process on;
worker_processes %d;
worker_rlimit_nofile %d;
pid %s/nginx.pid;
error_log %s/error.log warn;
events { worker_connections %d; }
http {
  access_log off;
  client_body_temp_path %s/tmp; proxy_temp_path %s/tmp; fastcgi_temp_path %s/tmp;
  uwsgi_temp_path %s/tmp; scgi_temp_path %s/tmp;
  keepalive_requests 100000000; keepalive_timeout 300s;
  types { application/octet-stream bin; text/html htm; }
  server {
    listen 127.0.0.1:%d ssl;
    ssl_certificate %s; ssl_certificate_key %s;
    ssl_protocols TLSv1.3;
    ssl_conf_command Ciphersuites TLS_AES_128_GCM_SHA256;
    ssl_ecdh_curve X25519:prime256v1;
    root %s;
  }
}
""" % (workers, NOFILE, d, d, NOFILE - 100, d, d, d, d, d, p, c, k, self.www))
        return Server(["nginx", "-p", d, "-c", conf, "-e", os.path.join(d, "error.log")],
                      p, self.work, "nginx")

    def chipd(self, workers, prog="servers/chipd", ftp_port=None, kind="ecdsa"):
        c, k = self.cert[kind]
        p = free_port()
        ini = os.path.join(self.work, "chip.ini")
        ftp = "[FTP]\nENABLE=0\n"
        if ftp_port:
            ftp = ("[FTP]\nENABLE=1\nBIND=127.0.0.1\nPORT=%d\nFTPS_PORT=0\nREQUIRE_TLS=1\n"
                   "ANONYMOUS=1\nROOT0=%s\nMAX_CLIENTS=1000\nMAX_PER_IP=1000\n" % (ftp_port, self.ftproot))
        with open(ini, "w") as f:
            f.write("[WEB]\nENABLE=0\nSSL_ENABLE=1\nBIND=127.0.0.1\nHTTPS_PORT=%d\nROOTDIR=%s\n"
                    "WORKERS=%d\nMAX_CONNECTIONS=20000\nIDLE_TIMEOUT=300\nHEADER_TIMEOUT=60\nCGI_CONCURRENT=1\n"
                    # the bench callback never blocks: on the workers (servers/CONFIG.md)
                    "CGI_INLINE=1\n"
                    "[SSL]\nCERT=%s\nKEY=%s\nPROPOSALS=0x1301\n%s" % (p, self.www, workers, c, k, ftp))
        return Server([self.exe(prog), "-c", ini], p, self.work, os.path.basename(prog))

    # --- load clients -----------------------------------------------------

    def hsload(self, port, conc, ver, resume="none", path=None, kind="ecdsa"):
        argv = [self.exe("bench/bench_hsload"), "-p", str(port), "-a", self.cert[kind][0],
                "-c", str(conc), "-t", str(self.secs), "-v", str(ver), "-r", resume]
        if path:
            argv += ["-q", path]
        r = kv(self.run(argv, timeout=self.secs + 60))
        done, failed = int(r["done"]), int(r["failed"])
        if done == 0 or failed > done // 100:
            raise NA("%d of %d connections failed" % (failed, done + failed))
        return done, int(r["resumed"]), float(r["secs"])

    def loaded(self, srv, fn):
        """fn() under the server's CPU clock: (result, server CPU seconds)."""
        c0 = cpu_secs(srv.pid)
        res = fn()
        return res, max(cpu_secs(srv.pid) - c0, 1.0 / TICK)

    def wrk(self, port, conc, path):
        conc = max(conc, 1)
        # wrk's time includes opening its connections (full handshakes from one thread)
        secs = int(max(self.secs, 1) + conc / 250 + 0.999)
        out = self.run(["wrk", "-t", "1", "-c", str(conc), "-d", "%ds" % secs,
                        "--timeout", "10s", "https://127.0.0.1:%d%s" % (port, path)],
                       timeout=secs + 60)
        if "Non-2xx" in out:
            raise NA("wrk: answers other than 200")
        lines = out.splitlines()
        try:
            reqs = int(next(l.split()[0] for l in lines if "requests in" in l))
            rps = float(next(l.split()[-1] for l in lines if l.startswith("Requests/sec")))
        except (StopIteration, ValueError):
            raise NA("wrk gave no count")
        errs = next((l for l in lines if "Socket errors" in l), "")
        nerr = sum(int(w.rstrip(",")) for w in errs.split()[3::2]) if errs else 0
        if reqs == 0 or nerr > reqs // 100:
            raise NA("wrk: " + (errs.strip() or "no requests"))
        return reqs, rps

    # --- figures ----------------------------------------------------------

    def fig_handshakes(self):
        inmem = self.exe("bench/bench_inmem")
        concs = self.concs
        for kind in ("ecdsa", "rsa"):
            for ver in (13, 12):
                case0 = "%s TLS 1.%d" % ("ECDSA P-256" if kind == "ecdsa" else "RSA-2048", ver - 10)
                for conc in concs:
                    # Resumption off on all three sides (no cache, no tickets): a full
                    # handshake costs the same work everywhere.
                    with self.echo_server(kind, ver, caches=0) as es, \
                            self.s_server(kind, ver, resumption=False) as ss:
                        srv = {"chipssl": es, "anchor": ss}

                        def m(side):
                            u0 = cpu_secs(srv[side].pid, True)
                            (done, _, secs), cpu = self.loaded(srv[side], lambda: self.hsload(
                                srv[side].port, conc, ver, kind=kind))
                            user = max(cpu_secs(srv[side].pid, True) - u0, 1.0 / TICK)
                            return {"cpu": done / cpu, "wall": done / secs, "user": done / user}
                        r = self.alternate(["chipssl", "anchor"], m)
                    self.add("full handshakes", "%s c=%d" % (case0, conc), "hs per server CPU s",
                             self.col(r["chipssl"], "cpu"), self.col(r["anchor"], "cpu"), 1.0,
                             note="server CPU-normalised, resumption off on both; s_server serves one "
                             "connection at a time",
                             wall=(self.col(r["chipssl"], "wall"), self.col(r["anchor"], "wall")))
                    if conc == concs[0]:
                        first = r["chipssl"]
                # the engine's limit: OpenSSL in memory
                c, k = self.cert[kind]

                def lim(_):
                    args = ["-n", "20"] if self.tiny else ["-t", str(self.secs)]
                    o = kv(self.run([inmem, "-c", c, "-k", k, "-v", str(ver), *args]))
                    return {"cpu": int(o["done"]) / float(o["server_cpu"])}
                li = self.alternate(["limit"], lim)["limit"]
                self.add("full handshakes vs limit", "%s c=%d" % (case0, concs[0]),
                         "hs per server CPU s", self.col(first, "cpu"), self.col(li, "cpu"), 0.9,
                         note="anchor: OpenSSL in memory (BIO pair, no sockets, no kernel)")
                self.add("full handshakes vs limit", "%s c=%d, user CPU only" % (case0, concs[0]),
                         "hs per server user CPU s", self.col(first, "user"), self.col(li, "cpu"), 0.9,
                         note="the server's user time only: the kernel's TCP work left out, "
                              "as the in-memory limit has none")

    def fig_resumed(self):
        conc = self.concs[0]
        for ver, mode, name in ((12, "id", "TLS 1.2 session ID"), (12, "ticket", "TLS 1.2 ticket"),
                                (13, "psk", "TLS 1.3 PSK")):
            with self.echo_server("ecdsa", ver) as es, self.s_server("ecdsa", ver) as ss:
                srv = {"chipssl": es, "anchor": ss}

                def m(side):
                    (done, res, secs), cpu = self.loaded(srv[side], lambda: self.hsload(
                        srv[side].port, conc, ver, resume=mode))
                    return {"cpu": done / cpu, "wall": done / secs, "resumed": res / done}
                r = self.alternate(["chipssl", "anchor"], m)
            note = "server CPU-normalised"
            for side in ("chipssl", "anchor"):
                if not isinstance(r[side], str):
                    note += "; %s resumed %.0f%%" % (side, 100 * min(x["resumed"] for x in r[side]))
            if mode == "ticket":
                note += " (chipssl is stateful by design: a ticket-capable client is resumed by session ID)"
            self.add("resumed handshakes", "ECDSA %s c=%d" % (name, conc), "hs per server CPU s",
                     self.col(r["chipssl"], "cpu"), self.col(r["anchor"], "cpu"), 1.0, note=note,
                     wall=(self.col(r["chipssl"], "wall"), self.col(r["anchor"], "wall")))

    def fig_bulk(self):
        size = (4 << 20) if self.tiny else self.a.bulk_mib << 20
        c, k = self.cert["ecdsa"]
        prog = {"chipssl": self.exe("bench/bench_bulk_chipssl"),
                "anchor": self.exe("bench/bench_bulk_openssl")}

        def m(side):
            o = kv(self.run([prog[side], "-c", c, "-k", k, "-v", "13", "-s", str(size)]))
            return {k2: float(v) for k2, v in o.items()}
        r = self.alternate(["chipssl", "anchor"], m)
        for d in ("up", "down"):
            self.add("bulk goodput", "TLS 1.3 AES-128-GCM %d MiB %s" % (size >> 20, d), "MB/s",
                     self.col(r["chipssl"], d + "_MBps"), self.col(r["anchor"], d + "_MBps"), 0.95,
                     note="client and server both on the machine's 2 cores (not normalised)")
        for side in ("chipssl", "anchor"):
            if not isinstance(r[side], str):
                for x in r[side]:
                    x["per_cpu"] = 2 * size / 1e6 / x["cpu"]
        self.add("bulk goodput", "TLS 1.3 AES-128-GCM %d MiB both ways, CPU" % (size >> 20),
                 "MB per CPU s", self.col(r["chipssl"], "per_cpu"), self.col(r["anchor"], "per_cpu"),
                 0.95, note="bytes moved per CPU second of both processes (client and server)")

    def fig_idle_memory(self):
        counts = [20] if self.tiny else [1000, 10000]
        quiet = 0.2 if self.tiny else 2.0  # the servers idle before each reading
        for n in counts:
            def m(side):
                # -t 60: a burst of 10,000 handshakes on one thread may take
                # longer than the default 10 s limit; nginx allows 60 s.
                srv = {"chipssl": lambda: self.echo_server("ecdsa", 13, caches=0, extra=("-t", "60")),
                       "anchor": lambda: self.nginx(1),
                       "chipd": lambda: self.chipd(1)}[side]()
                logs = [srv.log.name, os.path.join(self.work, "nginx", "error.log")]
                hs = [self.exe("bench/bench_hsload"), "-p", str(srv.port), "-a",
                      self.cert["ecdsa"][0], "-v", "13"]
                with srv:
                    # A few handshakes first, so that the code and tables
                    # every connection uses are in the baseline.
                    self.run(hs + ["-c", "2", "-n", "20"])
                    time.sleep(quiet)
                    r0, h0 = rss_kib(srv.pid), heap_kib(srv.pid, logs)
                    p = subprocess.Popen(hs + ["-c", str(n), "-I", "-t", "30"],
                                         stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
                    try:
                        line = p.stdout.readline()
                        held = int(line.split()[1]) if line.startswith("HELD") else 0
                        time.sleep(quiet)
                        r1, h1 = rss_kib(srv.pid), heap_kib(srv.pid, logs)
                    finally:
                        p.stdin.close()
                        p.wait(60)
                    if held < n:
                        raise NA("held %d of %d connections" % (held, n))
                    out = {"rss": (r1 - r0) / n}
                    if SANITIZED in (h0, h1):
                        out["heap_na"] = SANITIZED
                    elif h0 is not None and h1 is not None:
                        out["heap"] = (h1 - h0) / n
                    return out
            r = self.alternate(["chipssl", "anchor", "chipd"], m)
            for what, unit, how in (("rss", "KiB RSS per conn", "RSS"),
                                    ("heap", "KiB heap per conn", "malloc heap in use (gdb: malloc_stats)")):
                cols = {}
                for side in ("chipssl", "anchor", "chipd"):
                    cols[side] = self.col(r[side], what)
                    if isinstance(cols[side], list) and not cols[side]:
                        na = [x["heap_na"] for x in r[side] if "heap_na" in x]
                        cols[side] = na[0] if na else "n/a (gdb missing or not permitted)"
                for side, who in (("chipssl", "tls_echo_server"), ("chipd", "chipd's HTTPS instance (1 worker)")):
                    self.add("idle connection memory",
                             "TLS 1.3, %d held%s" % (n, "" if side == "chipssl" else ", chipd"),
                             unit, cols[side], cols["anchor"], 1.0, better="lower", limit=20.0,
                             note="%s vs nginx 1 worker; %s; goal also <= 20 KiB per connection"
                             % (who, how))

    def http_figure(self, figure, chip_prog, chip_path, anchor_path, newconn):
        for w in self.workers:
            for conc in self.concs:
                with self.chipd(w, chip_prog) as cs, self.nginx(w) as ng:
                    srv = {"chipssl": cs, "anchor": ng}
                    path = {"chipssl": chip_path, "anchor": anchor_path}

                    def m(side):
                        s = srv[side]
                        if newconn:
                            (done, _, secs), cpu = self.loaded(s, lambda: self.hsload(
                                s.port, conc, 13, path=path[side]))
                            return {"cpu": done / cpu, "wall": done / secs}
                        (reqs, rps), cpu = self.loaded(s, lambda: self.wrk(s.port, conc, path[side]))
                        return {"cpu": reqs / cpu, "wall": rps}
                    r = self.alternate(["chipssl", "anchor"], m)
                self.add(figure, "workers=%d c=%d" % (w, conc), "req per server CPU s",
                         self.col(r["chipssl"], "cpu"), self.col(r["anchor"], "cpu"), 1.0,
                         note="wall req/s client-bound (the load client shares the 2 cores)",
                         wall=(self.col(r["chipssl"], "wall"), self.col(r["anchor"], "wall")))

    def fig_https_keepalive(self):
        self.http_figure("HTTPS keep-alive 1 KiB", "servers/chipd", "/1k.bin", "/1k.bin", False)

    def fig_https_newconn(self):
        self.http_figure("HTTPS new conn per request", "servers/chipd", "/1k.bin", "/1k.bin", True)

    def fig_cgi(self):
        self.http_figure("CGI 1 KiB (keep-alive)", "bench/bench_cgi_kib", "/kib", "/1k.bin", False)

    # --- FTP --------------------------------------------------------------

    def vsftpd(self):
        if os.geteuid() != 0:
            raise NA("vsftpd needs root for its anonymous chroot")
        if not shutil.which("vsftpd") and not os.path.exists("/usr/sbin/vsftpd"):
            raise NA("vsftpd not installed")
        c, k = self.cert["ecdsa"]
        p = free_port()
        lo = free_port()
        empty = "/var/run/vsftpd/empty"
        os.makedirs(empty, exist_ok=True)
        conf = os.path.join(self.work, "vsftpd.conf")
        with open(conf, "w") as f:
            f.write("""listen=YES
listen_ipv6=NO
listen_address=127.0.0.1
listen_port=%d
background=NO
anonymous_enable=YES
anon_root=%s
no_anon_password=YES
local_enable=NO
write_enable=NO
pasv_enable=YES
pasv_address=127.0.0.1
pasv_min_port=%d
pasv_max_port=%d
ssl_enable=YES
allow_anon_ssl=YES
force_anon_logins_ssl=YES
force_anon_data_ssl=YES
require_ssl_reuse=YES
ssl_ciphers=HIGH
rsa_cert_file=%s
rsa_private_key_file=%s
secure_chroot_dir=%s
seccomp_sandbox=NO
xferlog_enable=NO
max_clients=1000
max_per_ip=1000
""" % (p, self.ftproot, lo, lo + 50 if lo + 50 < 65535 else lo, c, k, empty))
        return Server(["/usr/sbin/vsftpd", conf], p, self.work, "vsftpd")

    def chipd_ftp(self):
        port = free_port()
        srv = self.chipd(1, ftp_port=port)
        try:
            socket.create_connection(("127.0.0.1", port), 2).close()
        except OSError:
            srv.stop()
            raise NA("FTP server not built")
        srv.port = port
        return srv

    def curl_ftp(self, port, name):
        out = self.run(["curl", "-sS", "--ssl-reqd", "--cacert", self.cert["ecdsa"][0],
                        "--tls13-ciphers", "TLS_AES_128_GCM_SHA256",
                        "-o", "/dev/null", "-w", "%{size_download} %{speed_download} %{time_total}",
                        "ftp://127.0.0.1:%d/%s" % (port, name)], timeout=300)
        size, speed, total = out.split()
        return int(size), float(speed), float(total)

    def fig_ftps(self):
        servers = {}
        try:
            for side, start in (("chipssl", self.chipd_ftp), ("anchor", self.vsftpd)):
                try:
                    servers[side] = start()
                except NA as e:
                    servers[side] = "n/a (%s)" % e

            def m(side, what):
                s = servers[side]
                if isinstance(s, str):
                    raise NA(s[5:-1])
                if what == "download":
                    (size, speed, _), cpu = self.loaded(s, lambda: self.curl_ftp(s.port, "big.bin"))
                    if size != self.big:
                        raise NA("got %d of %d bytes" % (size, self.big))
                    return {"MBps": speed / 1e6, "cpu": size / 1e6 / cpu}
                times = []
                for _ in range(1 if self.tiny else 10):
                    size, _, total = self.curl_ftp(s.port, "1k.bin")
                    if size != 1024:
                        raise NA("got %d of 1024 bytes" % size)
                    times.append(total * 1000)
                return {"ms": statistics.median(times)}
            r = self.alternate(["chipssl", "anchor"], lambda s: m(s, "download"))
            self.add("FTPS download", "%d MiB, curl --ssl-reqd" % (self.big >> 20), "MB/s",
                     self.col(r["chipssl"], "MBps"), self.col(r["anchor"], "MBps"), 1.0,
                     note="vsftpd require_ssl_reuse=YES; both sides and curl share the cores")
            r = self.alternate(["chipssl", "anchor"], lambda s: m(s, "short"))
            self.add("FTPS short session", "login, PROT P, 1 KiB RETR, QUIT", "ms",
                     self.col(r["chipssl"], "ms"), self.col(r["anchor"], "ms"), 1.0, better="lower",
                     note="median of 10 curl sessions per round, curl's start included on both sides")
        finally:
            for s in servers.values():
                if not isinstance(s, str):
                    s.stop()

    # --- output -----------------------------------------------------------

    def write(self, out, update=False):
        os.makedirs(out, exist_ok=True)
        old = os.path.join(out, "latest.csv")
        if update and os.path.exists(old):
            # --update: the figures run now replace theirs; the others stay
            with open(old) as f:
                kept = [r for r in csv.DictReader(f)
                        if r["figure"] not in {n["figure"] for n in self.rows}]
            self.rows = kept + self.rows
        else:
            kept = []
        keys = ["figure", "case", "unit", "chipssl", "anchor", "ratio", "goal", "met", "wall",
                "rounds", "note"]
        with open(os.path.join(out, "latest.csv"), "w", newline="") as f:
            w = csv.DictWriter(f, fieldnames=keys)
            w.writeheader()
            w.writerows(self.rows)
        md = os.path.join(out, "latest.md")
        when, where = getattr(self, "start", None) or (
            time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()), machine())
        head = "Run %s on %s; %d rounds per side, alternating; medians." % (when, where, self.rounds)
        if update and os.path.exists(md):
            with open(md) as f:
                first = f.readline().rstrip("\n")
            head = "%s\nRerun (--update) of %s: %s" % (
                first, ", ".join(sorted({r["figure"] for r in self.rows[len(kept):]})), head)
        with open(md, "w") as f:
            f.write(head + "\n\n")
            f.write("| figure | case | unit | chipssl | anchor | ratio | goal | met | wall/s chipssl / anchor | note |\n")
            f.write("|---|---|---|---|---|---|---|---|---|---|\n")
            for r in self.rows:
                f.write("| %s |\n" % " | ".join(str(r[k]) for k in
                                                ("figure", "case", "unit", "chipssl", "anchor", "ratio",
                                                 "goal", "met", "wall", "note")))
        if shutil.which("gnuplot"):
            plot(self.rows, out, self.work)


def plot(rows, out, work):
    """latest.png: the wall-clock rate of the handshake and HTTP figures
    against concurrency, from the rows' wall column (chipssl / anchor)."""
    series = {}
    for r in rows:
        m = re.search(r"^(.*?)\s*c=(\d+)$", r["case"])
        if not m or not r["wall"]:
            continue
        if r["figure"] == "full handshakes":
            kind, names, label = "handshakes", ("tls_echo_server", "s_server"), m.group(1)
        elif r["figure"].startswith(("HTTPS", "CGI")):
            kind, names, label = "requests", ("chipd", "nginx"), r["figure"] + " " + m.group(1)
        else:
            continue
        for name, v in zip(names, r["wall"].split(" / ")):
            if v != "n/a":
                series.setdefault(kind, {}).setdefault("%s %s" % (label, name), []).append(
                    (int(m.group(2)), float(v)))
    if not series:
        return
    script = ["set terminal png size 1400,600", "set output '%s/latest.png'" % out,
              "set termoption noenhanced", "set multiplot layout 1,%d" % len(series),
              "set logscale x", "set xlabel 'concurrent connections'",
              "set key outside bottom center", "set key font ',7'"]
    for kind, lines in sorted(series.items()):
        dat = os.path.join(work, kind + ".dat")
        with open(dat, "w") as f:
            for name, pts in lines.items():
                f.write("# %s\n" % name)
                for c, v in sorted(pts):
                    f.write("%d %.1f\n" % (c, v))
                f.write("\n\n")
        script += ["set title '%s per second (wall clock, client-bound)'" % kind,
                   "set ylabel '%s/s'" % kind,
                   "set logscale y" if kind == "requests" else "unset logscale y",
                   "plot " + ", ".join("'%s' index %d with linespoints title '%s'" % (dat, i, n)
                                       for i, n in enumerate(lines))]
    script.append("unset multiplot")
    subprocess.run(["gnuplot"], input="\n".join(script), text=True, check=False,
                   capture_output=True)


def machine():
    model = "?"
    with open("/proc/cpuinfo") as f:
        for line in f:
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    load = os.getloadavg()[0]
    return "%s, %d cores, Linux %s, load %.2f at the start" % (model, os.cpu_count(), os.uname().release, load)


FIGURES = ["handshakes", "resumed", "bulk", "idle_memory", "https_keepalive", "https_newconn",
           "cgi", "ftps"]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--build-dir", required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("--tiny", action="store_true")
    ap.add_argument("--only", action="append", choices=FIGURES)
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--secs", type=float, default=2.0)
    ap.add_argument("--bulk-mib", type=int, default=1024)
    ap.add_argument("--ftp-mib", type=int, default=256)
    ap.add_argument("--update", action="store_true",
                    help="keep OUT/latest.csv's rows of the figures not run now")
    ap.add_argument("--plot-only", action="store_true", help="redraw OUT/latest.png from OUT/latest.csv")
    a = ap.parse_args()
    if a.plot_only:
        with open(os.path.join(a.out, "latest.csv")) as f:
            plot(list(csv.DictReader(f)), a.out, tempfile.mkdtemp(prefix="chipssl-plot-"))
        return 0
    b = Bench(a)
    b.start = (time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()), machine())  # the table's head
    print("machine: %s" % b.start[1], flush=True)
    print("%-28s %-34s %12s %12s %7s %s" % ("figure", "case", "chipssl", "anchor", "ratio", "note"))
    try:
        for name in a.only or FIGURES:
            getattr(b, "fig_" + name)()
    finally:
        b.write(a.out, a.update)
        if not a.tiny:
            print("written: %s/latest.md, latest.csv, latest.png" % a.out)
        shutil.rmtree(b.work, ignore_errors=True)
    if a.tiny:
        # every figure produced, both sides measured (or an honest n/a)
        # Allowed gaps: what this tree or this user cannot run, said so.
        allowed = ("n/a (FTP server not built)", "n/a (vsftpd needs root for its anonymous chroot)",
                   SANITIZED)
        bad = [r for r in b.rows for side in ("chipssl", "anchor")
               if not r[side] or (str(r[side]).startswith("n/a") and r[side] not in allowed)]
        for r in bad:
            print("tiny: FAILED %s %s: chipssl=%s anchor=%s" % (r["figure"], r["case"], r["chipssl"],
                                                                r["anchor"]))
        want = {"full handshakes", "full handshakes vs limit", "resumed handshakes", "bulk goodput",
                "idle connection memory", "HTTPS keep-alive 1 KiB", "HTTPS new conn per request",
                "CGI 1 KiB (keep-alive)", "FTPS download", "FTPS short session"}
        if not a.only and want - {r["figure"] for r in b.rows}:
            print("tiny: FAILED figures missing: %s" % sorted(want - {r["figure"] for r in b.rows}))
            return 1
        return 1 if bad or not b.rows else 0
    return 0


if __name__ == "__main__":
    sys.exit(main())
