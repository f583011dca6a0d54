#!/usr/bin/env bash
# Install the Debian 12 packages chipssl needs (as root; others get a list of
# what is missing).
#   bash tools/deps.sh run    what building the library and running the
#                             examples and the demo need (compiler, CMake,
#                             OpenSSL 3 headers, the openssl tool for the
#                             demo PKI, libinih for the servers' chip.ini)
#   bash tools/deps.sh test   that, plus what the tests need (cmocka, GnuTLS
#                             and Python/pytest peers, python3-cryptography
#                             for the KeyUpdate interop test, curl, lftp
#                             for the FTP server, chromium for the status
#                             page, testssl.sh for the HTTPS instance, and
#                             the benchmarks' packages, since the test
#                             command runs them once in a tiny mode); the
#                             default
#   bash tools/deps.sh bench  run, plus the benchmarks' anchors and load
#                             clients (nginx, vsftpd, wrk, gnuplot, gdb for
#                             the heap figures)
set -euo pipefail
run_pkgs=(build-essential cmake pkg-config libssl-dev openssl ca-certificates libinih-dev)
test_pkgs=(libcmocka-dev gnutls-bin python3 python3-pytest python3-cryptography curl lftp
  chromium fonts-dejavu-core testssl.sh)
bench_pkgs=(python3 curl nginx-light vsftpd wrk gnuplot-nox gdb)
case ${1:-test} in
  run) pkgs=("${run_pkgs[@]}") ;;
  test) pkgs=("${run_pkgs[@]}" "${test_pkgs[@]}" "${bench_pkgs[@]}") ;;
  bench) pkgs=("${run_pkgs[@]}" "${bench_pkgs[@]}") ;;
  *) echo "usage: bash tools/deps.sh [run|test|bench]" >&2; exit 2 ;;
esac
missing=()
for p in "${pkgs[@]}"; do
  dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  if [ "$(id -u)" -ne 0 ]; then
    echo "missing packages: ${missing[*]} (run as root to install them)" >&2
    exit 1
  fi
  echo "installing: ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
