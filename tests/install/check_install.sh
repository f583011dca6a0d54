#!/usr/bin/env bash
# Install the build tree into a temporary prefix, then build and run a small
# application against it as users do: with pkg-config (plain, without
# --define-prefix: the .pc file itself must give working paths) and with
# find_package; then move the installed tree and do it again.
set -euo pipefail
build=$1
src=$(cd "$(dirname "$0")" && pwd)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

fail() { echo "install check: $*" >&2; exit 1; }

# Build and run app.c against the tree at $1 (shared and static with
# pkg-config, shared and static with find_package).
use_tree() {
  local prefix=$1 tag=$2 libdir pcdir flags
  libdir=$(dirname "$(find "$prefix" -name libchipssl.so -print -quit)")
  pcdir="$libdir/pkgconfig"
  test -f "$pcdir/chipssl.pc" || fail "no chipssl.pc in $pcdir"
  export PKG_CONFIG_PATH="$pcdir"
  # Every path pkg-config gives must exist and lie inside this tree.
  flags=$(pkg-config --cflags --libs chipssl) || fail "pkg-config failed"
  for f in $flags; do
    case $f in
      -I*|-L*)
        d=${f:2}
        test -d "$d" || fail "pkg-config gives $f, which does not exist ($tag)"
        case $(cd "$d" && pwd -P) in
          "$(cd "$prefix" && pwd -P)"/*) ;;
          *) fail "pkg-config gives $f, outside the installed tree $prefix ($tag)" ;;
        esac ;;
    esac
  done
  test -f "$(pkg-config --variable=includedir chipssl)/tcpip.h" || fail "includedir has no tcpip.h"

  # shellcheck disable=SC2046
  cc -Wall -Wextra -Werror -o "$tmp/app-pc-$tag" "$src/app.c" $(pkg-config --cflags --libs chipssl)
  LD_LIBRARY_PATH="$libdir" "$tmp/app-pc-$tag"
  # The run-time path a user may bake in instead of LD_LIBRARY_PATH.
  # shellcheck disable=SC2046
  cc -Wall -Wextra -Werror -o "$tmp/app-rpath-$tag" "$src/app.c" \
    $(pkg-config --cflags --libs chipssl) -Wl,-rpath,"$(pkg-config --variable=libdir chipssl)"
  "$tmp/app-rpath-$tag"

  # Static: the archive alone (no libchipssl.so beside it at run time).
  # shellcheck disable=SC2046
  cc -Wall -Wextra -Werror -o "$tmp/app-static-$tag" "$src/app.c" \
    $(pkg-config --cflags chipssl) "$libdir/libchipssl.a" \
    $(pkg-config --static --libs-only-l chipssl | sed 's/-lchipssl//')
  "$tmp/app-static-$tag"

  for lib in chipssl chipssl_static; do
    local d="$tmp/cm-$lib-$tag"
    mkdir "$d"
    cp "$src/app.c" "$d/"
    sed "s/chipssl::chipssl)/chipssl::$lib)/" "$src/CMakeLists.txt.in" > "$d/CMakeLists.txt"
    cmake -S "$d" -B "$d/build" -DCMAKE_PREFIX_PATH="$prefix" >/dev/null
    cmake --build "$d/build" >/dev/null
    LD_LIBRARY_PATH="$libdir" "$d/build/app"
  done
  unset PKG_CONFIG_PATH
}

cmake --install "$build" --prefix "$tmp/prefix" >/dev/null
test -f "$tmp/prefix/include/chipssl/tcpip.h"
test -f "$tmp/prefix/include/chipssl/TCPIP.H"
test -f "$tmp/prefix/include/chipssl/CLIB.H"
use_tree "$tmp/prefix" installed

# The installed tree is relocatable: move it and use it again (the old
# place is gone, so nothing can still point there).
mv "$tmp/prefix" "$tmp/moved"
use_tree "$tmp/moved" moved

# Only the API is exported, by the shared library and by the archive: no
# internal or engine symbol can clash with an application's.
libdir=$(dirname "$(find "$tmp/moved" -name libchipssl.so -print -quit)")
api='^(PKI_|SSL_|chipssl_|opensocket|opensocket_ext|closesocket|Set_Blocking_Mode|get_socketerror|InetToAscii|getHostByName|setNameServer)'
bad=$( (nm -D --defined-only "$libdir/libchipssl.so"; nm --defined-only -g "$libdir/libchipssl.a") |
      awk 'NF == 3 {print $3}' | grep -vE "$api" || true)
if [ -n "$bad" ]; then
  echo "unexpected exported symbols: $bad" >&2
  exit 1
fi
echo "install check passed"
