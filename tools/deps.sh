#!/usr/bin/env bash
# Install what chipssl needs to build and test on Debian 12 (as root).
set -euo pipefail
pkgs=(build-essential cmake pkg-config libssl-dev openssl ca-certificates
      libcmocka-dev gnutls-bin python3 python3-pytest curl)
missing=()
for p in "${pkgs[@]}"; do
  dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  if [ "$(id -u)" -ne 0 ]; then
    echo "missing packages: ${missing[*]} (run as root to install them)" >&2
    exit 1
  fi
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq "${missing[@]}" >/dev/null
fi
