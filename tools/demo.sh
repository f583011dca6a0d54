#!/usr/bin/env bash
# The run command: build, generate a demo PKI, start the TLS echo server on
# it and show https_get talking to it. Ctrl-C stops the server.
set -euo pipefail
cd "$(dirname "$0")/.."
bash tools/deps.sh
cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build build -j"$(nproc)" >/dev/null
pki=demo/pki
bash tests/pki/mkpki.sh "$pki" >/dev/null
echo "demo PKI in $pki (CA: $pki/ca.pem)"

out=$(mktemp)
build/examples/tls_echo_server -c "$pki/server.pem" -k "$pki/server.key" -a "$pki/ca.pem" \
  -o 2 -p "${PORT:-0}" >"$out" &
server=$!
trap 'kill $server 2>/dev/null; wait $server 2>/dev/null; rm -f "$out"' EXIT
for _ in $(seq 50); do grep -q READY "$out" && break; sleep 0.1; done
port=$(sed -n 's/READY port=//p' "$out")
echo "tls_echo_server listening on 127.0.0.1:$port (options: server proposals)"
echo
echo "\$ https_get -a $pki/ca.pem -r 2 -d 'hello, chipssl' https://localhost:$port/"
build/examples/https_get -a "$pki/ca.pem" -r 2 -d 'hello, chipssl' "https://localhost:$port/"
echo
echo
echo "server log:"
sed 's/^/  /' "$out"
if [ -n "${CI:-}" ] || [ ! -t 0 ]; then exit 0; fi
echo
echo "The server keeps running; try: openssl s_client -connect 127.0.0.1:$port -CAfile $pki/ca.pem"
echo "Ctrl-C to stop."
wait $server
