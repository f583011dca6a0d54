#!/usr/bin/env bash
# The README's example must compile and link against the library as shown
# (strict warnings), and do what the README says: fetch a page from a TLS
# server, and otherwise say in words why not and exit non-zero. It runs
# against nothing listening, against openssl s_server with a certificate of
# its CA, and against one whose CA it does not trust.
set -euo pipefail
readme=$1 include=$2 lib=$3
tmp=$(mktemp -d)
server=
cleanup() {
  if [ -n "$server" ]; then kill "$server" 2>/dev/null || true; wait "$server" 2>/dev/null || true; fi
  rm -rf "$tmp"
}
trap cleanup EXIT
fail() { echo "README example: $*" >&2; exit 1; }

awk '/^```c$/ {on=1; next} /^```$/ {if (on) exit} on' "$readme" > "$tmp/example.c"
test -s "$tmp/example.c"
# A library built with the sanitizers needs their run-time first: build the
# example with them too (it then runs under them as well).
san=()
# (ldd first, then grep: "ldd | grep -q" under pipefail fails when grep
# stops reading early and ldd dies of SIGPIPE.)
if grep -q libasan <<<"$(ldd "$lib" 2>/dev/null || true)"; then san=(-fsanitize=address,undefined); fi
cc -std=c11 -Wall -Wextra -Werror "${san[@]}" -I"$include" -o "$tmp/example" "$tmp/example.c" \
  "$lib" -lssl -lcrypto -lpthread
echo "README example compiles and links"

# A free port: the OS picks it, nothing listens on it once the probe is gone.
free_port() {
  python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}
# run DIR PORT: the example in DIR (it reads ./ca.pem); sets rc, out, err.
run() {
  set +e
  (cd "$1" && LD_LIBRARY_PATH="$(dirname "$lib")" timeout 60 "$tmp/example" "$2") \
    >"$tmp/out" 2>"$tmp/err"
  rc=$?
  set -e
  out=$(cat "$tmp/out") err=$(cat "$tmp/err")
}
expect_failure() { # what words
  [ "$rc" -ne 0 ] || fail "$1: exit status 0, want non-zero (stderr: $err)"
  grep -qF -- "$2" "$tmp/err" || fail "$1: stderr is \"$err\", want \"$2\""
}

# Two CAs; a server certificate for localhost from the first.
mk_ca() {
  openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 \
    -subj "/CN=$2" -keyout "$1.key" -out "$1.pem" \
    -addext basicConstraints=critical,CA:TRUE -addext keyUsage=keyCertSign,cRLSign 2>/dev/null
}
mkdir "$tmp/trusting" "$tmp/other" "$tmp/empty"
mk_ca "$tmp/ca" "readme CA"
mk_ca "$tmp/ca2" "other CA"
openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -subj /CN=localhost \
  -keyout "$tmp/server.key" -out "$tmp/server.csr" 2>/dev/null
printf 'subjectAltName=DNS:localhost\nbasicConstraints=CA:FALSE\n' > "$tmp/ext"
openssl x509 -req -in "$tmp/server.csr" -CA "$tmp/ca.pem" -CAkey "$tmp/ca.key" \
  -CAcreateserial -days 2 -extfile "$tmp/ext" -out "$tmp/server.pem" 2>/dev/null
cp "$tmp/ca.pem" "$tmp/trusting/ca.pem"
cp "$tmp/ca2.pem" "$tmp/other/ca.pem"

# No ca.pem at all.
run "$tmp/empty" 1
expect_failure "without ca.pem" "ca.pem: no such file"

# Nothing listening: the real cause, in words.
run "$tmp/trusting" "$(free_port)"
expect_failure "nothing listening" "connect: connection refused"

# A server: the page arrives and the example exits 0.
port=$(free_port)
openssl s_server -accept "$port" -cert "$tmp/server.pem" -key "$tmp/server.key" -www -quiet \
  </dev/null >/dev/null 2>&1 &
server=$!
for _ in $(seq 100); do
  (echo > /dev/tcp/127.0.0.1/"$port") 2>/dev/null && break
  sleep 0.1
done
run "$tmp/trusting" "$port"
[ "$rc" -eq 0 ] || fail "against openssl s_server: exit status $rc (stderr: $err)"
grep -q "^HTTP/1.0 200 ok" "$tmp/out" || fail "against openssl s_server: no page (stdout: $out)"

# A server whose CA the example does not trust: refused, and says why.
run "$tmp/other" "$port"
expect_failure "untrusted server" "alert: unknown CA (sent); certificate: issuer unknown"
echo "README example runs: refused, fetched, untrusted - each as the README says"
