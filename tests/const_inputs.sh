#!/usr/bin/env bash
# Read-only inputs are const: a C++ program and a C program built with
# -Wwrite-strings pass string literals and const data to every call that
# only reads them, with no warning (-Werror).
set -euo pipefail
inc=${1:?usage: const_inputs.sh INCLUDE_DIR}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
cat >"$tmp/use.inc" <<'SRC'
static int use(int sd)
{
    int err;
    static const PKI_CERT_ADD_Entry ca = { "ca.pem", PKI_FMT_PEM, 0x0A, "ca", 2, NULL };
    static const PKI_OWNKEYPAIR_ADD_Entry key = { "k.pem", PKI_FMT_PEM, PKI_KEY_EC };
    static const SSL_SESSION_NEW_Entry se = { "own", 8, SSL_VERSION_TLS13 };
    static const int props[] = { 0x1301, 0x1302 };
    PKI_CertificateAdd(&ca, &err);
    PKI_OwnKeyPairAdd(&key, &err);
    PKI_CertificateDel("ca", PKI_CERT_NONLOCAL, &err);
    PKI_RootCABundleAdd("bundle.pem", "sys:", &err);
    int id = SSL_SessionNew(&se, &err);
    SSL_SessionProp(id, props, 2, &err);
    SSL_AddClientCA(id, "ca", &err);
    SSL_SessionAddIdentity(id, "other", &err);
    SSL_SessionALPN(id, "http/1.1", &err);
    SSL_ClientStart(sd, "localhost", &err);
    char text[64];
    chipssl_certflags_text(PKI_CERT_EXPIRED, text, (int)sizeof text);
    return chipssl_suite_number("TLS_AES_128_GCM_SHA256");
}
SRC
printf '#include "tcpip.h"\n#include "use.inc"\nint main(void) { return use(0) < 0; }\n' >"$tmp/use.cpp"
cp "$tmp/use.cpp" "$tmp/use.c"
g++ -std=c++11 -Wall -Wextra -Wwrite-strings -Werror -fsyntax-only -I"$inc" -I"$tmp" "$tmp/use.cpp"
gcc -std=c11 -Wall -Wextra -Wwrite-strings -Wcast-qual -Werror -fsyntax-only -I"$inc" -I"$tmp" "$tmp/use.c"
echo "const inputs: C++ and C (-Wwrite-strings) compile without a warning"
