#!/usr/bin/env bash
# chipssl's benchmarks in one command (bench/README.md):
#   bash bench/run.sh [--tiny] [--only FIGURE]... [--update] [--rounds N] [--secs S]
#                     [--build-dir DIR] [--no-build] [--out DIR]
# Installs the anchors and load clients (tools/deps.sh bench), builds chipssl
# in Release into its own build directory (default /tmp/chipssl-bench-build),
# runs every figure for chipssl and its anchor in alternating rounds on
# 127.0.0.1 and writes bench/results/latest.md, latest.csv and latest.png.
# FIGURE: handshakes resumed bulk idle_memory https_keepalive https_newconn
# cgi ftps; --update keeps the table's rows of the figures not run now.
# --tiny: every figure once, seconds, no speed judged (the test command's
# bench_tiny); exits 77 when the anchors are not installed.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(dirname "$here")
build=/tmp/chipssl-bench-build
out=$here/results
tiny=0 nobuild=0
args=()
while [ $# -gt 0 ]; do
  case $1 in
    --build-dir) build=$2; shift 2 ;;
    --out) out=$2; shift 2 ;;
    --no-build) nobuild=1; shift ;;
    --tiny) tiny=1; args+=("$1"); shift ;;
    --update) args+=("$1"); shift ;;
    --only|--rounds|--secs|--bulk-mib|--ftp-mib) args+=("$1" "$2"); shift 2 ;;
    -h|--help) sed -n '2,12p' "$0"; exit 0 ;;
    *) echo "run.sh: unknown argument $1" >&2; exit 2 ;;
  esac
done

if [ $tiny = 1 ]; then
  # No install here (tools/deps.sh test has installed the anchors for the
  # test command): skip when an anchor is missing, e.g. a bare ctest run.
  for t in nginx wrk curl openssl python3 gnuplot gdb; do
    command -v $t >/dev/null || { echo "bench: $t not installed (bash tools/deps.sh bench): skipped"; exit 77; }
  done
  [ -x /usr/sbin/vsftpd ] || { echo "bench: vsftpd not installed: skipped"; exit 77; }
else
  bash "$root/tools/deps.sh" bench
fi
# vsftpd's anonymous login runs as the account "ftp".
if [ "$(id -u)" = 0 ] && ! id ftp >/dev/null 2>&1; then
  useradd --system --no-create-home --home-dir /nonexistent --shell /usr/sbin/nologin ftp
fi
if [ $nobuild = 0 ]; then
  mkdir -p "$build"
  if ! { cmake -S "$root" -B "$build" -DCMAKE_BUILD_TYPE=Release -DBUILD_TESTING=OFF &&
         cmake --build "$build" -j"$(nproc)"; } >"$build/bench-build.log" 2>&1; then
    tail -40 "$build/bench-build.log" >&2
    echo "bench: the Release build failed (whole log: $build/bench-build.log)" >&2
    exit 1
  fi
fi
# 10,000 idle connections need as many descriptors on each side.
ulimit -n "$(ulimit -Hn)" 2>/dev/null || true
exec python3 "$here/bench.py" --build-dir "$build" --out "$out" "${args[@]}"
