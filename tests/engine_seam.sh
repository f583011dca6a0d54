#!/usr/bin/env bash
# The engine seam: only src/engine/openssl/ may include an OpenSSL header.
# The library's other files, the public headers, the examples and the
# servers reach the engine through src/tls.h (or the public API) only.
set -euo pipefail
top=${1:?usage: engine_seam.sh SOURCE_DIR}
cd "$top"
dirs=()
for d in src include examples servers; do [ -d "$d" ] && dirs+=("$d"); done
bad=$(grep -rlE '^[[:space:]]*#[[:space:]]*include[[:space:]]*[<"]openssl/' "${dirs[@]}" |
      grep -v '^src/engine/openssl/' || true)
if [ -n "$bad" ]; then
  echo "OpenSSL headers included outside src/engine/openssl/:"
  echo "$bad" | sed 's/^/  /'
  exit 1
fi
n=$(grep -rlE '#[[:space:]]*include[[:space:]]*[<"]openssl/' src/engine/openssl | wc -l)
echo "engine seam holds: OpenSSL is included by $n files, all in src/engine/openssl/"
