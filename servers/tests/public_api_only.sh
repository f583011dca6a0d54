#!/usr/bin/env bash
# The servers are built on the core's public API only: no file under
# servers/ includes a header of the core's src/ (by name or by path).
set -euo pipefail
top=${1:?usage: public_api_only.sh SOURCE_DIR}
cd "$top"
bad=""
for h in $(cd src && find . -name '*.h' | sed 's|^\./||'); do
  name=$(basename "$h")
  # Quoted includes only: <sys/socket.h> is the C library's, not src/socket.h.
  hits=$(grep -rnE "^[[:space:]]*#[[:space:]]*include[[:space:]]*\"([^\"]*/)?${name//./\\.}\"" servers || true)
  [ -n "$hits" ] && bad+="$hits"$'\n'
done
hits=$(grep -rnE '^[[:space:]]*#[[:space:]]*include[[:space:]]*[<"][^>"]*src/' servers || true)
[ -n "$hits" ] && bad+="$hits"$'\n'
if [ -n "$bad" ]; then
  echo "servers/ includes internal headers of the core:"
  printf '%s' "$bad" | sed 's/^/  /'
  exit 1
fi
echo "servers/ uses the public headers only"
