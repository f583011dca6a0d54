#!/bin/bash
# mkpki.sh OUTDIR - generate the chipssl test PKI into OUTDIR.
#
# Uses only the openssl command line tool (3.0). File names are fixed; the
# keys and serial numbers are new on every run. Existing OUTDIR content is
# removed first, so running it twice gives a fresh, complete set.
#
# Contents (PEM unless noted; private keys unencrypted unless noted):
#   ca.pem/.key            root "CN=chipssl Test Root CA" (RSA 2048)
#   server.pem/.key        RSA 2048, CN=localhost, SAN localhost,127.0.0.1,::1, serverAuth
#   server-ec.pem/.key     as server.pem with an EC P-256 key (ECDSA suites)
#   client.pem/.key        RSA 2048, CN=chipssl client, clientAuth
#   notca.pem/.key         copy of client.pem/.key (a non-CA certificate for
#                          "a root CA must be a CA" tests)
#   ca2.pem/.key           root "CN=chipssl Client CA 2" (EC)
#   client2.pem/.key       CN=chipssl client 2, clientAuth, issued by ca2 (EC)
#   untrusted-ca.pem/.key  root "CN=chipssl Untrusted CA" (EC)
#   client-untrusted.pem/.key  clientAuth, issued by untrusted-ca (EC)
#   server-unknownca.pem/.key  CN=localhost SAN localhost, issued by untrusted-ca (EC)
#   selfsigned.pem/.key    self-signed leaf CN=localhost SAN localhost, CA:FALSE (EC)
#   expired.pem/.key       issued by ca, SAN localhost, valid 2020-01-01..2021-01-01 (EC)
#   notyet.pem/.key        issued by ca, SAN localhost, valid 2090-01-01..2091-01-01 (EC)
#   wrongname.pem/.key     issued by ca, CN/SAN wrong.example (EC)
#   cnonly.pem/.key        issued by ca, CN=cnonly.test, no SAN extension (EC)
#   wildcard.pem/.key      issued by ca, SAN DNS:*.wild.test (EC)
#   partial.pem/.key       issued by ca, SAN DNS:f*.test (EC)
#   inter-ca.pem/.key      intermediate CA issued by ca, CA:TRUE pathlen:0 (EC)
#   leaf-inter.pem/.key    CN=localhost SAN localhost, issued by inter-ca (EC)
#   leaf-inter-chain.pem   leaf-inter.pem + inter-ca.pem
#   client-inter.pem/.key  clientAuth, issued by inter-ca (EC)
#   client-inter-chain.pem client-inter.pem + inter-ca.pem
#   revoked.pem/.key       issued by ca, SAN localhost, listed in crl.pem (EC)
#   crl.pem, crl.der       CRL of ca listing revoked.pem, nextUpdate in 10 years
#   crl-inter.pem          CRL of ca listing inter-ca.pem only (the intermediate
#                          revoked: chains leaf-inter/client-inter -> inter-ca -> ca
#                          fail when revocation is checked along the whole chain)
#   crl-ca2.pem            CRL of ca2 listing client2.pem only (a client CA's own CRL)
#   crl-inter-client.pem   CRL of inter-ca listing client-inter.pem only (the CRL
#                          of an intermediate that serves as SSL_AddClientCA CA)
#   sha1.pem/.key          CN=localhost SAN localhost,127.0.0.1,::1, serverAuth, issued
#                          by ca but signed with SHA-1 (EC key; TLS engines at security
#                          level >= 1 refuse it as an own certificate)
#   ec-secp256k1.key       EC key on secp256k1 (not a TLS curve of RFC 8446)
#   ec-brainpoolP256r1.key EC key on brainpoolP256r1 (not a TLS 1.3 curve)
#   ec-p384.pem/.key       EC key on P-384, CN=localhost SAN localhost,127.0.0.1,::1 (ca)
#   ec-p521.pem/.key       EC key on P-521, CN=localhost SAN localhost,127.0.0.1,::1 (ca)
#   seed-two-certs.pem     server.pem + ca.pem (fuzz_pki seed: the first block is used)
#   seed-crl-then-cert.pem crl.pem + server.pem (fuzz_pki seed: read as a certificate the
#                          CRL block is skipped, read as a CRL it is the one used)
#   ca.der                 ca.pem in DER
#   server.key.pk8.der     server.key as PKCS#8 DER
#   server.key.pkcs1.pem   server.key as PKCS#1 ("BEGIN RSA PRIVATE KEY")
#   server-ec.key.sec1.pem server-ec.key as SEC1 ("BEGIN EC PRIVATE KEY")
#   ed25519.pem/.key       Ed25519 leaf CN=localhost SAN localhost, issued by ca
#   weak-rsa1024.key       RSA 1024 key (too weak)
#   dsa.key                DSA 2048 key
#   encrypted.key          server.key encrypted (AES-256, PKCS#8) with passphrase "x"
# Leaf certificates that tests use both as server and as client certificate
# (selfsigned, expired, revoked, wrongname, ...) carry serverAuth+clientAuth.
# Everything is valid for 10 years except expired.pem and notyet.pem.
set -euo pipefail

if [ $# -ne 1 ]; then
    echo "usage: $0 OUTDIR" >&2
    exit 1
fi
OUT=$1
mkdir -p "$OUT"
OUT=$(cd "$OUT" && pwd)
# Idempotent: remove what a previous run left (only our own files and the
# work directory), then recreate everything.
rm -rf "${OUT:?}/.work"
find "$OUT" -maxdepth 1 -type f \( -name '*.pem' -o -name '*.key' -o -name '*.der' \) -delete
W="$OUT/.work"
mkdir -p "$W/ca-db"
DAYS=3650

cd "$OUT"

# ---------------------------------------------------------------- helpers
rsakey() { openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out "$1" 2>/dev/null; }
eckey()  { openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 \
                           -pkeyopt ec_param_enc:named_curve -out "$1" 2>/dev/null; }

# Extension sections, shared by `openssl ca`, `openssl x509 -req` and
# `openssl req -x509` (all via -extfile/-extensions or -config).
cat > "$W/ext.cnf" <<'EOF'
[ root_ca ]
basicConstraints = critical, CA:TRUE
keyUsage = critical, keyCertSign, cRLSign
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid:always

[ inter_ca ]
basicConstraints = critical, CA:TRUE, pathlen:0
keyUsage = critical, keyCertSign, cRLSign
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid:always

[ server_localhost ]
basicConstraints = critical, CA:FALSE
keyUsage = critical, digitalSignature, keyEncipherment
extendedKeyUsage = serverAuth
subjectAltName = DNS:localhost, IP:127.0.0.1, IP:::1
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid

[ server_localhost_ec ]
basicConstraints = critical, CA:FALSE
keyUsage = critical, digitalSignature
extendedKeyUsage = serverAuth
subjectAltName = DNS:localhost, IP:127.0.0.1, IP:::1
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid

[ client ]
basicConstraints = critical, CA:FALSE
keyUsage = critical, digitalSignature, keyEncipherment
extendedKeyUsage = clientAuth
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid

[ client_ec ]
basicConstraints = critical, CA:FALSE
keyUsage = critical, digitalSignature
extendedKeyUsage = clientAuth
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid

# leaf for localhost usable as server and client certificate
[ any_localhost ]
basicConstraints = critical, CA:FALSE
keyUsage = critical, digitalSignature
extendedKeyUsage = serverAuth, clientAuth
subjectAltName = DNS:localhost
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid

# self-signed leaf: no authorityKeyIdentifier
[ selfsigned ]
basicConstraints = critical, CA:FALSE
keyUsage = critical, digitalSignature
extendedKeyUsage = serverAuth, clientAuth
subjectAltName = DNS:localhost
subjectKeyIdentifier = hash

[ wrongname ]
basicConstraints = critical, CA:FALSE
keyUsage = critical, digitalSignature
extendedKeyUsage = serverAuth, clientAuth
subjectAltName = DNS:wrong.example
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid

[ cnonly ]
basicConstraints = critical, CA:FALSE
keyUsage = critical, digitalSignature
extendedKeyUsage = serverAuth, clientAuth
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid

[ wildcard ]
basicConstraints = critical, CA:FALSE
keyUsage = critical, digitalSignature
extendedKeyUsage = serverAuth, clientAuth
subjectAltName = DNS:*.wild.test
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid

[ partial ]
basicConstraints = critical, CA:FALSE
keyUsage = critical, digitalSignature
extendedKeyUsage = serverAuth, clientAuth
subjectAltName = DNS:f*.test
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
EOF

# Minimal `openssl ca` configuration for the root CA "ca": used for every
# certificate ca issues (serials and index kept, so the CRL can list
# revoked.pem, and -startdate/-enddate give expired.pem its past validity).
cat > "$W/ca.cnf" <<EOF
[ ca ]
default_ca = test_ca

[ test_ca ]
dir              = $W/ca-db
database         = \$dir/index.txt
new_certs_dir    = \$dir
serial           = \$dir/serial
crlnumber        = \$dir/crlnumber
certificate      = $OUT/ca.pem
private_key      = $OUT/ca.key
default_md       = sha256
default_days     = $DAYS
default_crl_days = $DAYS
policy           = policy_any
unique_subject   = no
copy_extensions  = none
email_in_dn      = no
preserve         = yes

[ policy_any ]
commonName = supplied

[ crl_ext ]
authorityKeyIdentifier = keyid:always
EOF
: > "$W/ca-db/index.txt"
echo 1000 > "$W/ca-db/serial"
echo 01 > "$W/ca-db/crlnumber"

SERIAL=2000   # serials of certificates issued with `openssl x509 -req`

# csr KEY SUBJECT -> $W/<basename>.csr
csr() {
    openssl req -new -key "$1" -subj "$2" -out "$W/$(basename "$1" .key).csr"
}

# ca_issue NAME SUBJECT EXT_SECTION [extra openssl ca args...]
# root CA "ca" issues NAME.pem for NAME.key
ca_issue() {
    local name=$1 subj=$2 ext=$3
    shift 3
    csr "$name.key" "$subj"
    openssl ca -batch -notext -config "$W/ca.cnf" -in "$W/$name.csr" -out "$name.pem" \
        -extfile "$W/ext.cnf" -extensions "$ext" "$@" 2>/dev/null
}

# x509_issue NAME SUBJECT EXT_SECTION ISSUER (issuer.pem/issuer.key)
x509_issue() {
    local name=$1 subj=$2 ext=$3 issuer=$4
    csr "$name.key" "$subj"
    SERIAL=$((SERIAL + 1))
    openssl x509 -req -in "$W/$name.csr" -CA "$issuer.pem" -CAkey "$issuer.key" \
        -set_serial "$SERIAL" -days "$DAYS" -sha256 \
        -extfile "$W/ext.cnf" -extensions "$ext" -out "$name.pem" 2>/dev/null
}

# self_root NAME SUBJECT EXT_SECTION
self_root() {
    local name=$1 subj=$2 ext=$3
    SERIAL=$((SERIAL + 1))
    openssl req -new -x509 -key "$name.key" -subj "$subj" -days "$DAYS" -sha256 \
        -set_serial "$SERIAL" -config "$W/ext.cnf" -extensions "$ext" -out "$name.pem" 2>/dev/null
}

# ---------------------------------------------------------------- keys
for k in ca server client; do rsakey "$k.key"; done
for k in server-ec ca2 client2 untrusted-ca client-untrusted server-unknownca selfsigned \
         expired notyet wrongname cnonly wildcard partial inter-ca leaf-inter client-inter revoked; do
    eckey "$k.key"
done
openssl genpkey -algorithm ED25519 -out ed25519.key
eckey sha1.key
for c in secp256k1:secp256k1 brainpoolP256r1:brainpoolP256r1 p384:P-384 p521:P-521; do
    openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:"${c#*:}" \
        -pkeyopt ec_param_enc:named_curve -out "ec-${c%%:*}.key" 2>/dev/null
done
openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:1024 -out weak-rsa1024.key 2>/dev/null
openssl dsaparam -genkey -out "$W/dsa-params-and-key.pem" 2048 2>/dev/null
openssl pkey -in "$W/dsa-params-and-key.pem" -out dsa.key

# ---------------------------------------------------------------- roots
self_root ca           "/CN=chipssl Test Root CA"  root_ca
self_root ca2          "/CN=chipssl Client CA 2"   root_ca
self_root untrusted-ca "/CN=chipssl Untrusted CA"  root_ca
self_root selfsigned   "/CN=localhost"             selfsigned

# ---------------------------------------------------------------- issued by ca
ca_issue server     "/CN=localhost"       server_localhost
ca_issue server-ec  "/CN=localhost"       server_localhost_ec
ca_issue client     "/CN=chipssl client"  client
ca_issue expired    "/CN=localhost"       any_localhost \
    -startdate 20200101000000Z -enddate 20210101000000Z
ca_issue notyet     "/CN=localhost"       any_localhost \
    -startdate 20900101000000Z -enddate 20910101000000Z
ca_issue wrongname  "/CN=wrong.example"   wrongname
ca_issue cnonly     "/CN=cnonly.test"     cnonly
ca_issue wildcard   "/CN=wildcard"        wildcard
ca_issue partial    "/CN=partial"         partial
ca_issue inter-ca   "/CN=chipssl Intermediate CA" inter_ca
ca_issue revoked    "/CN=localhost"       any_localhost
ca_issue ed25519    "/CN=localhost"       any_localhost
ca_issue sha1       "/CN=localhost"       server_localhost_ec -md sha1
ca_issue ec-p384    "/CN=localhost"       server_localhost_ec
ca_issue ec-p521    "/CN=localhost"       server_localhost_ec

# ---------------------------------------------------------------- other issuers
x509_issue client2          "/CN=chipssl client 2"         client_ec     ca2
x509_issue client-untrusted "/CN=chipssl untrusted client" client_ec     untrusted-ca
x509_issue server-unknownca "/CN=localhost"                any_localhost untrusted-ca
x509_issue leaf-inter       "/CN=localhost"                any_localhost inter-ca
x509_issue client-inter     "/CN=chipssl inter client"     client_ec     inter-ca
cat leaf-inter.pem inter-ca.pem > leaf-inter-chain.pem
cat client-inter.pem inter-ca.pem > client-inter-chain.pem

# ---------------------------------------------------------------- CRL
# crl-inter.pem comes from a copy of ca's database, so that crl.pem lists
# revoked.pem only and crl-inter.pem inter-ca.pem only.
cp -r "$W/ca-db" "$W/ca-db-inter"
sed "s|$W/ca-db\$|$W/ca-db-inter|" "$W/ca.cnf" > "$W/ca-inter.cnf"
openssl ca -batch -config "$W/ca-inter.cnf" -revoke inter-ca.pem -crl_reason cACompromise 2>/dev/null
openssl ca -batch -config "$W/ca-inter.cnf" -gencrl -crldays "$DAYS" -crlexts crl_ext \
    -out crl-inter.pem 2>/dev/null
openssl ca -batch -config "$W/ca.cnf" -revoke revoked.pem -crl_reason keyCompromise 2>/dev/null
openssl ca -batch -config "$W/ca.cnf" -gencrl -crldays "$DAYS" -crlexts crl_ext \
    -out crl.pem 2>/dev/null
openssl crl -in crl.pem -outform DER -out crl.der

# issuer_crl ISSUER CERT OUT: a CRL of ISSUER (ISSUER.pem/.key) listing CERT
# only, from a database of its own (openssl ca -revoke adds CERT to it).
issuer_crl() {
    local iss=$1 cert=$2 out=$3 db="$W/db-$1"
    mkdir -p "$db"
    : > "$db/index.txt"
    echo 01 > "$db/crlnumber"
    sed -e "s|^dir .*|dir              = $db|" \
        -e "s|^certificate .*|certificate      = $OUT/$iss.pem|" \
        -e "s|^private_key .*|private_key      = $OUT/$iss.key|" "$W/ca.cnf" > "$W/$iss.cnf"
    openssl ca -batch -config "$W/$iss.cnf" -revoke "$cert" -crl_reason keyCompromise 2>/dev/null
    openssl ca -batch -config "$W/$iss.cnf" -gencrl -crldays "$DAYS" -crlexts crl_ext \
        -out "$out" 2>/dev/null
}
issuer_crl ca2 client2.pem crl-ca2.pem
issuer_crl inter-ca client-inter.pem crl-inter-client.pem

# ---------------------------------------------------------------- other encodings
cp client.pem notca.pem
cat server.pem ca.pem > seed-two-certs.pem
cat crl.pem server.pem > seed-crl-then-cert.pem
cp client.key notca.key
openssl x509 -in ca.pem -outform DER -out ca.der
openssl pkcs8 -topk8 -nocrypt -in server.key -outform DER -out server.key.pk8.der
openssl rsa -in server.key -traditional -out server.key.pkcs1.pem 2>/dev/null
openssl ec -in server-ec.key -out server-ec.key.sec1.pem 2>/dev/null
openssl pkcs8 -topk8 -v2 aes-256-cbc -passout pass:x -in server.key -out encrypted.key

chmod 600 ./*.key

# ---------------------------------------------------------------- self-check
v() {   # v CAFILE CERT [extra args]
    local ca=$1 cert=$2
    shift 2
    if ! openssl verify -CAfile "$ca" "$@" "$cert" >/dev/null 2>&1; then
        echo "mkpki.sh: verification of $cert failed" >&2
        openssl verify -CAfile "$ca" "$@" "$cert" >&2 || true
        exit 1
    fi
}
v ca.pem ca.pem
for c in server server-ec client wrongname cnonly wildcard partial inter-ca revoked ed25519 \
         ec-p384 ec-p521; do
    v ca.pem "$c.pem"
done
v ca2.pem client2.pem
v untrusted-ca.pem client-untrusted.pem
v untrusted-ca.pem server-unknownca.pem
v selfsigned.pem selfsigned.pem -partial_chain
v ca.pem leaf-inter.pem -untrusted inter-ca.pem
v ca.pem client-inter.pem -untrusted inter-ca.pem
v ca.pem expired.pem -no_check_time
v ca.pem notyet.pem -no_check_time
[ "$(openssl x509 -in expired.pem -noout -enddate)" = "notAfter=Jan  1 00:00:00 2021 GMT" ] || {
    echo "mkpki.sh: expired.pem has the wrong validity" >&2; exit 1; }
if openssl verify -CAfile ca.pem expired.pem >/dev/null 2>&1; then
    echo "mkpki.sh: expired.pem verifies now" >&2; exit 1
fi
if openssl verify -CAfile ca.pem -CRLfile crl.pem -crl_check revoked.pem >/dev/null 2>&1; then
    echo "mkpki.sh: revoked.pem is not revoked by crl.pem" >&2; exit 1
fi
v ca.pem server.pem -CRLfile crl.pem -crl_check
# crl-inter.pem revokes inter-ca.pem and nothing else; crl.pem does not list it
if openssl verify -CAfile ca.pem -CRLfile crl-inter.pem -crl_check inter-ca.pem >/dev/null 2>&1; then
    echo "mkpki.sh: inter-ca.pem is not revoked by crl-inter.pem" >&2; exit 1
fi
v ca.pem inter-ca.pem -CRLfile crl.pem -crl_check
v ca.pem revoked.pem -CRLfile crl-inter.pem -crl_check
[ "$(openssl crl -in crl-inter.pem -noout -text | grep -c 'Serial Number:')" = 1 ] || {
    echo "mkpki.sh: crl-inter.pem should list exactly one certificate" >&2; exit 1; }
[ "$(openssl crl -in crl.pem -noout -text | grep -c 'Serial Number:')" = 1 ] || {
    echo "mkpki.sh: crl.pem should list exactly one certificate" >&2; exit 1; }
# crl-ca2.pem revokes client2.pem; crl-inter-client.pem revokes client-inter.pem
if openssl verify -CAfile ca2.pem -CRLfile crl-ca2.pem -crl_check client2.pem >/dev/null 2>&1; then
    echo "mkpki.sh: client2.pem is not revoked by crl-ca2.pem" >&2; exit 1
fi
if openssl verify -CAfile ca.pem -untrusted inter-ca.pem -CRLfile crl-inter-client.pem -crl_check \
        client-inter.pem >/dev/null 2>&1; then
    echo "mkpki.sh: client-inter.pem is not revoked by crl-inter-client.pem" >&2; exit 1
fi
for f in crl-ca2.pem crl-inter-client.pem; do
    [ "$(openssl crl -in "$f" -noout -text | grep -c 'Serial Number:')" = 1 ] || {
        echo "mkpki.sh: $f should list exactly one certificate" >&2; exit 1; }
done
# sha1.pem: issued by ca, signed with SHA-1
v ca.pem sha1.pem
grep -q 'Signature Algorithm: sha1WithRSAEncryption' <<<"$(openssl x509 -in sha1.pem -noout -text)" || {
    echo "mkpki.sh: sha1.pem is not signed with SHA-1" >&2; exit 1; }
# the EC keys are on the curves their names say
for c in secp256k1:secp256k1 brainpoolP256r1:brainpoolP256r1 p384:secp384r1 p521:secp521r1; do
    grep -q "ASN1 OID: ${c#*:}\$" <<<"$(openssl pkey -in "ec-${c%%:*}.key" -noout -text 2>/dev/null)" || {
        echo "mkpki.sh: ec-${c%%:*}.key is not on ${c#*:}" >&2; exit 1; }
done

rm -rf "$W"
echo "mkpki.sh: test PKI in $OUT"
