#!/usr/bin/env bash
# The README's example must compile and link against the library as shown
# (strict warnings), so that the first thing a reader copies works.
set -euo pipefail
readme=$1 include=$2 lib=$3
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
awk '/^```c$/ {on=1; next} /^```$/ {if (on) exit} on' "$readme" > "$tmp/example.c"
test -s "$tmp/example.c"
cc -std=c11 -Wall -Wextra -Werror -I"$include" -o "$tmp/example" "$tmp/example.c" "$lib" \
  -lssl -lcrypto -lpthread
echo "README example compiles and links"
