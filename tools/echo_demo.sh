#!/usr/bin/env bash
# The TLS echo demo (bash tools/echo_demo.sh, or bash tools/demo.sh echo):
# what the chipssl library is for, in four short scenes.
#   1. option 2 (server proposals): one client that prefers another suite
#      than the server gets the server's choice with option 2 on, its own
#      with it off;
#   2. a refused certificate, with its readable reason;
#   3. resumption: the second connection resumes the first one's session;
#   4. the server's side of it all (its log).
# It installs what running needs (tools/deps.sh run; the tests' packages
# belong to tools/test.sh), builds the library and the examples in build/,
# and keeps the demo PKI in demo/pki (generated only when missing; delete the
# directory for a fresh one).
#
# Environment:
#   PORT   TCP port of the main echo server (default 0: the system picks a
#          free one). It keeps running at the end for your own tries when
#          the demo runs on a terminal; Ctrl-C stops it.
#   CI     when set (or without a terminal), the demo ends after the scenes.
# Exit status 0 when every scene showed what it should.
set -euo pipefail
cd "$(dirname "$0")/.."
bash tools/deps.sh run
echo "building chipssl and its examples in build/ ..."
cmake -S . -B build >/dev/null
cmake --build build -j"$(nproc)" --target tls_echo_server https_get >/dev/null
bin=build/examples

pki=demo/pki
if [ -f "$pki/ca.pem" ] && [ -f "$pki/ca2.pem" ] && [ -f "$pki/server.pem" ] &&
   [ -f "$pki/server.key" ]; then
  echo "demo PKI: keeping $pki"
else
  bash tests/pki/mkpki.sh "$pki" >/dev/null
  echo "demo PKI: generated in $pki"
fi

tmp=$(mktemp -d)
servers=()
cleanup() {
  for p in "${servers[@]}"; do kill "$p" 2>/dev/null || true; wait "$p" 2>/dev/null || true; done
  rm -rf "$tmp"
}
trap cleanup EXIT
ok=1
unexpected() { echo "  UNEXPECTED: $*"; ok=0; }

# start_server NAME PORT ARGS...: an echo server whose stdout goes to
# $tmp/NAME.log; sets $port to the port it listens on.
start_server() {
  local name=$1 p=$2
  shift 2
  "$bin/tls_echo_server" -c "$pki/server.pem" -k "$pki/server.key" -p "$p" "$@" \
    >"$tmp/$name.log" 2>&1 &
  servers+=($!)
  port=
  for _ in $(seq 100); do
    port=$(sed -n 's/^READY port=//p' "$tmp/$name.log")
    [ -n "$port" ] && break
    sleep 0.1
  done
  if [ -z "$port" ]; then
    echo "tls_echo_server did not start:"
    sed 's/^/  /' "$tmp/$name.log"
    exit 1
  fi
}

# client ARGS...: run https_get, show what it printed, each line on its own
# (the echoed data has no newline of its own); sets $status and $hs (its
# HANDSHAKE lines).
client() {
  printf '$ https_get'
  local a
  for a in "$@"; do
    if [[ $a =~ ^[A-Za-z0-9_@%+=:,./-]+$ ]]; then printf ' %s' "$a"; else printf ' %q' "$a"; fi
  done
  echo
  set +e
  "$bin/https_get" "$@" >"$tmp/reply" 2>"$tmp/client.log"
  status=$?
  set -e
  sed 's/^/  /' "$tmp/client.log"
  if [ -s "$tmp/reply" ]; then
    # One line per echo; a reply without a final newline gets one here.
    sed 's/^/  echoed back: /' "$tmp/reply"
    [ -z "$(tail -c 1 "$tmp/reply")" ] || echo
  fi
  echo "  exit status $status"
  hs=$(grep '^HANDSHAKE' "$tmp/client.log" || true)
}
# The value of key=... in the first HANDSHAKE line (values end at " key=").
field() { sed -n "1s/.* $1=\\(.*\\)/\\1/p" <<<"$hs" | sed 's/ [a-z]*=.*//'; }
# A value without the number in parentheses that follows its words.
words() { field "$1" | sed 's/ ([^)]*)$//'; }
# A refusal in one sentence, from the client's HANDSHAKE failed line.
refused() {
  local sent=received
  [ "$(field sent)" = yes ] && sent=sent
  echo "  => refused: the certificate check says \"$(words flags)\"; alert \"$(words alert)\"" \
    "$sent; the library's reason: \"$(field reason)\""
}

server_list=TLS_AES_256_GCM_SHA384,TLS_AES_128_GCM_SHA256
client_list=TLS_AES_128_GCM_SHA256,TLS_AES_256_GCM_SHA384
start_server main "${PORT:-0}" -a "$pki/ca.pem" -o 2 -s "$server_list"
main_port=$port
start_server pref-off 0 -o 2=0 -s "$server_list"
off_port=$port

echo
echo "== 1. Option 2 (server proposals)"
echo "Both servers have the list $server_list;"
echo "the client prefers $client_list."
echo
echo "-- server with option 2 on (port $main_port): the server's first choice wins"
client -a "$pki/ca.pem" -s "$client_list" -d $'hello, chipssl\n' "https://localhost:$main_port/"
echo "  => negotiated $(field suite): the server's choice"
[ "$(field suite)" = "TLS_AES_256_GCM_SHA384 (0x1302)" ] ||
  unexpected "option 2 on should give TLS_AES_256_GCM_SHA384"
echo
echo "-- server with option 2 off (port $off_port): the client's first choice wins"
client -a "$pki/ca.pem" -s "$client_list" -d $'hello, chipssl\n' "https://localhost:$off_port/"
echo "  => negotiated $(field suite): the client's choice"
[ "$(field suite)" = "TLS_AES_128_GCM_SHA256 (0x1301)" ] ||
  unexpected "option 2 off should give TLS_AES_128_GCM_SHA256"

echo
echo "== 2. A refused certificate, and why"
echo "-- the client expects another name than the server's certificate carries"
client -a "$pki/ca.pem" -N www.example.com -d "hello" "https://localhost:$main_port/"
refused
[ "$status" -eq 2 ] || unexpected "a wrong name should fail the handshake (exit status 2)"
echo
echo "-- the client trusts only a CA that did not sign the server's certificate"
client -a "$pki/ca2.pem" -d "hello" "https://localhost:$main_port/"
refused
[ "$status" -eq 2 ] || unexpected "an unknown issuer should fail the handshake (exit status 2)"

echo
echo "== 3. Resumption: two connections, the second resumes the first's session"
client -a "$pki/ca.pem" -r 2 -d $'hello, again\n' "https://localhost:$main_port/"
resumed=$(sed -n '2s/.* resumed=\([a-z]*\).*/\1/p' <<<"$hs")
echo "  => second connection resumed: $resumed (no certificate exchange: the first handshake's checks carry over)"
[ "$resumed" = yes ] || unexpected "the second connection should be resumed"

echo
echo "== 4. What the server with option 2 on saw"
sleep 0.2
sed 's/^/  /' "$tmp/main.log"

echo
if [ "$ok" -ne 1 ]; then
  echo "Some scene did not show what it should (see UNEXPECTED above)."
  exit 1
fi
echo "Every scene showed what it should."
if [ -n "${CI:-}" ] || [ ! -t 0 ]; then exit 0; fi
echo
echo "The main server keeps running on port $main_port; try:"
echo "  $bin/https_get -a $pki/ca.pem -d hi https://localhost:$main_port/"
echo "  openssl s_client -connect 127.0.0.1:$main_port -CAfile $pki/ca.pem"
echo "Ctrl-C to stop."
wait "${servers[0]}"
