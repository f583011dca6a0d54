#!/usr/bin/env bash
# Install the build tree into a temporary prefix, then build and run a small
# application against it twice: with pkg-config and with find_package.
set -euo pipefail
build=$1
src=$(cd "$(dirname "$0")" && pwd)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
cmake --install "$build" --prefix "$tmp/prefix" >/dev/null
libdir=$(ls -d "$tmp"/prefix/lib*/ | head -1)
test -f "$tmp/prefix/include/chipssl/tcpip.h"
test -f "$tmp/prefix/include/chipssl/TCPIP.H"
test -f "$tmp/prefix/include/chipssl/CLIB.H"

export PKG_CONFIG_PATH="$libdir/pkgconfig"
# shellcheck disable=SC2046
cc -Wall -Wextra -Werror -o "$tmp/app-pc" "$src/app.c" $(pkg-config --define-prefix --cflags --libs chipssl)
LD_LIBRARY_PATH="$libdir" "$tmp/app-pc"

mkdir "$tmp/cm"
cp "$src/app.c" "$tmp/cm/"
cp "$src/CMakeLists.txt.in" "$tmp/cm/CMakeLists.txt"
cmake -S "$tmp/cm" -B "$tmp/cm/build" -DCMAKE_PREFIX_PATH="$tmp/prefix" >/dev/null
cmake --build "$tmp/cm/build" >/dev/null
LD_LIBRARY_PATH="$libdir" "$tmp/cm/build/app"

# Only the API is exported: no internal or engine symbol leaks out.
bad=$(nm -D --defined-only "$libdir/libchipssl.so" | awk '{print $3}' |
      grep -vE '^(PKI_|SSL_|chipssl_|opensocket|opensocket_ext|closesocket|Set_Blocking_Mode|get_socketerror|InetToAscii|getHostByName|setNameServer)' || true)
if [ -n "$bad" ]; then
  echo "unexpected exported symbols: $bad" >&2
  exit 1
fi
echo "install check passed"
