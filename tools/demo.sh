#!/usr/bin/env bash
# The run command: chipd, chipssl's Web (and FTP) server, on a demo set-up.
#
#   bash tools/demo.sh            set up demo/ (first time), print the URLs and
#                                 accounts, run chipd -c demo/chip.ini in the
#                                 foreground (Ctrl-C stops it)
#   bash tools/demo.sh --check    the same set-up, then chipd in the background
#                                 on free ports, the pages fetched with curl
#                                 (the form over HTTPS with the demo CA), chipd
#                                 stopped; exit 0 when all was as it should be
#   bash tools/demo.sh echo       the TLS echo demo of the library alone
#                                 (tools/echo_demo.sh)
#
# What it keeps under demo/ (DEMO_DIR), made only when missing (delete a part
# for a fresh one):
#   pki/       a demo PKI (tests/pki/mkpki.sh): ca.pem, server.pem/.key for
#              localhost, 127.0.0.1 and ::1, client.pem/.key (a client certificate)
#   accounts   the generated accounts (mode 600): the status page's secure
#              account and the FTP account; random, never a default
#   www/       the web root: main.htm, whose form the built-in CGI function
#              /demo answers ([WEB] DEMO_CGI=1), and demo.css
#   ftp/       the FTP account's root, with hello.txt
#   chip.ini   written when missing, or when a port is given (below)
#
# Environment: HTTP_PORT (8080), HTTPS_PORT (8443), FTP_PORT (2121) pick the
# ports (given: chip.ini is written again with them); BIND (127.0.0.1) the
# address to listen on; DEMO_DIR (demo) where the set-up lives; CHIPD_BIN a
# chipd program to use instead of building build/servers/chipd (then
# tools/deps.sh is not run either: the tests use that).
set -euo pipefail
cd "$(dirname "$0")/.."

mode=run
case "${1:-}" in
'') ;;
echo) exec bash tools/echo_demo.sh ;;
--check) mode=check ;;
-h | --help)
  sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'
  exit 0
  ;;
*)
  echo "usage: bash tools/demo.sh [--check | echo]" >&2
  exit 2
  ;;
esac

if [ -n "${CHIPD_BIN:-}" ]; then
  chipd=$CHIPD_BIN
else
  bash tools/deps.sh run
  echo "building chipd in build/ ..."
  cmake -S . -B build >/dev/null
  cmake --build build -j"$(nproc)" --target chipd_program >/dev/null
  chipd=build/servers/chipd
fi

dir=${DEMO_DIR:-demo}
mkdir -p "$dir"
dir=$(cd "$dir" && pwd)
pki=$dir/pki

# --- the PKI ---------------------------------------------------------------
if [ -f "$pki/ca.pem" ] && [ -f "$pki/server.pem" ] && [ -f "$pki/server.key" ] &&
  [ -f "$pki/client.pem" ] && [ -f "$pki/client.key" ]; then
  echo "demo PKI: keeping $pki"
else
  bash tests/pki/mkpki.sh "$pki" >/dev/null
  echo "demo PKI: generated in $pki"
fi

# --- the accounts ----------------------------------------------------------
# Random letters and digits (no character that chip.ini, a URL or a shell
# would treat specially); the Web server's accounts take at most 19
# characters (CGI_SetCredentials).
random() { LC_ALL=C tr -dc 'A-Za-z0-9' </dev/urandom | head -c "$1" || true; }
if [ ! -f "$dir/accounts" ]; then
  (
    umask 077
    {
      echo "status_user=status-$(random 6)"
      echo "status_password=$(random 16)"
      echo "ftp_user=ftp-$(random 6)"
      echo "ftp_password=$(random 16)"
    } >"$dir/accounts"
  )
  echo "demo accounts: generated in $dir/accounts"
  rewrite=1
fi
account() { sed -n "s/^$1=//p" "$dir/accounts"; }
status_user=$(account status_user)
status_password=$(account status_password)
ftp_user=$(account ftp_user)
ftp_password=$(account ftp_password)

# --- the web root and the FTP root -----------------------------------------
mkdir -p "$dir/www" "$dir/ftp"
if [ ! -f "$dir/www/main.htm" ]; then
  cat >"$dir/www/main.htm" <<'EOF'
<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>chipd demo</title>
<link rel="stylesheet" href="/demo.css">
</head>
<body>
<h1>chipd demo</h1>
<p>This page is a static file of the web root. The form below goes to <code>/demo</code>, a CGI
function (the original @CHIP-RTOS CGI API) built into chipd for this demo: it echoes the fields
and says whether the request came over TLS, with the protocol version and cipher suite.</p>
<form method="post" action="/demo">
<label>Name <input name="name" value="Ada"></label>
<label>Message <input name="message" value="hello &lt;chipd&gt; &amp; friends"></label>
<button type="submit">Send (POST)</button>
</form>
<form method="get" action="/demo">
<label>Query <input name="q" value="a GET form"></label>
<button type="submit">Send (GET)</button>
</form>
<p>The live status page (sessions, connections, counters) is at <a href="/status">/status</a>,
behind the demo's secure account.</p>
</body>
</html>
EOF
fi
if [ ! -f "$dir/www/demo.css" ]; then
  cat >"$dir/www/demo.css" <<'EOF'
body { font-family: system-ui, sans-serif; max-width: 40rem; margin: 1rem auto; padding: 0 1rem; }
form { margin: 1rem 0; padding: 0.5rem; border: 1px solid #ccc; border-radius: 0.3rem; }
label { display: block; margin: 0.3rem 0; }
input { width: 100%; box-sizing: border-box; }
.tls { color: #060; } .plain { color: #a00; }
table { border-collapse: collapse; } td, th { border: 1px solid #ccc; padding: 0.2rem 0.5rem; }
EOF
fi
[ -f "$dir/ftp/hello.txt" ] || echo "hello from the chipd demo FTP server" >"$dir/ftp/hello.txt"

# --- chip.ini ---------------------------------------------------------------
if [ "$mode" = check ]; then
  # Free ports, chosen by the system (a port bound by nobody until chipd binds it).
  read -r HTTP_PORT HTTPS_PORT FTP_PORT < <(python3 -c '
import socket
ss = [socket.socket() for _ in range(3)]
for s in ss:
    s.bind(("127.0.0.1", 0))
print(*(s.getsockname()[1] for s in ss))')
  export HTTP_PORT HTTPS_PORT FTP_PORT
fi
if [ -n "${HTTP_PORT:-}${HTTPS_PORT:-}${FTP_PORT:-}${BIND:-}" ]; then rewrite=1; fi
http_port=${HTTP_PORT:-8080}
https_port=${HTTPS_PORT:-8443}
ftp_port=${FTP_PORT:-2121}
bind=${BIND:-127.0.0.1}
ini=$dir/chip.ini
if [ ! -f "$ini" ] || [ -n "${rewrite:-}" ]; then
  cat >"$ini" <<EOF
; chipd demo configuration, written by tools/demo.sh (every key: servers/CONFIG.md)
[WEB]
ENABLE = 1
SSL_ENABLE = 1
BIND = $bind
HTTP_PORT = $http_port
HTTPS_PORT = $https_port
ROOTDIR = $dir/www
MAINPAGE = main.htm
DEMO_CGI = 1
STATUS_PAGE = /status
STATUS_SECURE = 1
SECURE_USER0 = $status_user
SECURE_PASSWORD0 = $status_password
ACCESS_LOG = $dir/access.log

[SSL]
CERT = $pki/server.pem
KEY = $pki/server.key

[FTP]
ENABLE = 1
BIND = $bind
PORT = $ftp_port
FTPS_PORT = 0
REQUIRE_TLS = 1
USER0 = $ftp_user
PASSWORD0 = $ftp_password
ROOT0 = $dir/ftp
EOF
  chmod 600 "$ini"
  echo "demo configuration: written to $ini"
else
  echo "demo configuration: keeping $ini"
  http_port=$(sed -n 's/^HTTP_PORT *= *//p' "$ini")
  https_port=$(sed -n 's/^HTTPS_PORT *= *//p' "$ini")
  ftp_port=$(sed -n '/^\[FTP\]/,$s/^PORT *= *//p' "$ini")
fi
"$chipd" -t -c "$ini" >/dev/null

rel=$pki/ca.pem
[ "${rel#"$PWD"/}" != "$rel" ] && rel=${rel#"$PWD"/}
cat <<EOF

chipd demo
  http:   http://localhost:$http_port/
  https:  https://localhost:$https_port/    (certificate of the demo CA: $rel)
  status: https://localhost:$https_port/status    user $status_user, password $status_password
  FTP (explicit TLS) on port $ftp_port, user $ftp_user, password $ftp_password:
    curl --ssl-reqd --cacert $rel ftp://$ftp_user:$ftp_password@localhost:$ftp_port/hello.txt
    lftp -p $ftp_port -u $ftp_user,$ftp_password -e 'set ssl:ca-file $rel; set ftp:ssl-force true; cat hello.txt; bye' localhost
  try:    curl --cacert $rel -d 'name=you&message=<hi>' https://localhost:$https_port/demo
EOF

if [ "$mode" = run ]; then
  echo
  echo "running $chipd -c $ini (Ctrl-C stops it)"
  exec "$chipd" -c "$ini"
fi

# --- --check: run it, fetch, stop -----------------------------------------
tmp=$(mktemp -d)
pid=
cleanup() {
  if [ -n "$pid" ]; then kill "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; fi
  rm -rf "$tmp"
}
trap cleanup EXIT
"$chipd" -c "$ini" >"$tmp/out" 2>"$tmp/err" &
pid=$!
for _ in $(seq 300); do
  grep -q running "$tmp/out" && break
  kill -0 "$pid" 2>/dev/null || break
  sleep 0.1
done
if ! grep -q running "$tmp/out"; then
  echo "chipd did not start:"
  cat "$tmp/err"
  exit 1
fi
ok=1
check() { # check WHAT EXPECTED-SUBSTRING CURL-ARGS...
  local what=$1 want=$2
  shift 2
  local got
  got=$(curl -sS --max-time 30 --cacert "$pki/ca.pem" "$@" 2>&1) || true
  if [[ $got == *"$want"* ]]; then
    echo "ok: $what"
  else
    echo "FAILED: $what: wanted \"$want\", got:"
    printf '%s\n' "$got" | head -20 | sed 's/^/  /'
    ok=0
  fi
}
echo
check "main page over HTTP" "<h1>chipd demo</h1>" "http://localhost:$http_port/"
check "main page over HTTPS (demo CA)" "<h1>chipd demo</h1>" "https://localhost:$https_port/"
check "form POST over HTTPS answered by the CGI function" \
  "<td>message</td><td>hi &lt;there&gt; &amp; &quot;you&quot;</td>" \
  -d 'name=Ada&message=hi+%3Cthere%3E+%26+%22you%22' "https://localhost:$https_port/demo"
check "the CGI function sees TLS 1.3" "Over TLS: TLS 1.3, suite TLS_" "https://localhost:$https_port/demo"
check "the CGI function sees TLS 1.2" "Over TLS: TLS 1.2, suite TLS_ECDHE_" --tls-max 1.2 \
  "https://localhost:$https_port/demo"
check "form GET over HTTP: not over TLS" "Not over TLS" "http://localhost:$http_port/demo?q=x"
# The status page: without the account it must answer 401, with it 200.
status_code() {
  curl -sS --max-time 30 --cacert "$pki/ca.pem" "$@" -o /dev/null -w '%{http_code}' \
    "https://localhost:$https_port/status" || true
}
anon=$(status_code)
authed=$(status_code -u "$status_user:$status_password")
case $anon/$authed in
401/200) echo "ok: status page: 401 without the account, 200 with it" ;;
*)
  echo "FAILED: status page: HTTP $anon without the account, $authed with it"
  ok=0
  ;;
esac
# FTP over explicit TLS, with curl and with lftp as the printed lines do.
check "FTP over TLS (curl): hello.txt" "hello from the chipd demo FTP server" --ssl-reqd \
  "ftp://$ftp_user:$ftp_password@localhost:$ftp_port/hello.txt"
if command -v lftp >/dev/null; then
  got=$(timeout 60 lftp -p "$ftp_port" -u "$ftp_user,$ftp_password" \
    -e "set ssl:ca-file $pki/ca.pem; set ftp:ssl-force true; set ftp:ssl-protect-data true; cat hello.txt; bye" \
    localhost 2>&1 || true)
  if [ "$got" = "hello from the chipd demo FTP server" ]; then
    echo "ok: FTP over TLS (lftp): hello.txt"
  else
    echo "FAILED: FTP over TLS (lftp): got \"$got\""
    ok=0
  fi
fi
kill -TERM "$pid"
rc=0
wait "$pid" || rc=$?
pid=
if [ "$rc" -ne 0 ]; then
  echo "FAILED: chipd exited with $rc after SIGTERM:"
  cat "$tmp/err"
  ok=0
else
  echo "ok: chipd stopped cleanly"
fi
[ "$ok" -eq 1 ] || {
  echo "the demo check failed"
  exit 1
}
echo "the demo check passed"
