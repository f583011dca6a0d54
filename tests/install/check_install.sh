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

# Static: the archive alone (no libchipssl.so beside it at run time).
# shellcheck disable=SC2046
cc -Wall -Wextra -Werror -o "$tmp/app-static" "$src/app.c" \
  $(pkg-config --define-prefix --cflags chipssl) "$libdir/libchipssl.a" \
  $(pkg-config --define-prefix --static --libs-only-l chipssl | sed 's/-lchipssl//')
"$tmp/app-static"

for lib in chipssl chipssl_static; do
  mkdir "$tmp/cm-$lib"
  cp "$src/app.c" "$tmp/cm-$lib/"
  sed "s/chipssl::chipssl)/chipssl::$lib)/" "$src/CMakeLists.txt.in" > "$tmp/cm-$lib/CMakeLists.txt"
  cmake -S "$tmp/cm-$lib" -B "$tmp/cm-$lib/build" -DCMAKE_PREFIX_PATH="$tmp/prefix" >/dev/null
  cmake --build "$tmp/cm-$lib/build" >/dev/null
  LD_LIBRARY_PATH="$libdir" "$tmp/cm-$lib/build/app"
done

# Only the API is exported, by the shared library and by the archive: no
# internal or engine symbol can clash with an application's.
api='^(PKI_|SSL_|chipssl_|opensocket|opensocket_ext|closesocket|Set_Blocking_Mode|get_socketerror|InetToAscii|getHostByName|setNameServer)'
bad=$( (nm -D --defined-only "$libdir/libchipssl.so"; nm --defined-only -g "$libdir/libchipssl.a") |
      awk 'NF == 3 {print $3}' | grep -vE "$api" || true)
if [ -n "$bad" ]; then
  echo "unexpected exported symbols: $bad" >&2
  exit 1
fi
echo "install check passed"
