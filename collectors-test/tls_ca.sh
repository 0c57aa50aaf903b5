#!/bin/sh
# tls_ca.sh DIR - creates a throwaway test PKI in DIR for the TLS transport tests.
#
# Every key is a fresh P-256 key; nothing here is secret or kept. Files written (PEM):
#   ca.pem                     the CA the probe trusts (tls_ca) and the server trusts for clients
#   server.{pem,key}           good collector cert: DNS:localhost, IP:127.0.0.1, IP:::1
#   server-ip.{pem,key}        good for IP:127.0.0.1 and IP:::1 only (no DNS name)
#   server-dns.{pem,key}       good for DNS:localhost only (no IP address)
#   other-server.{pem,key}     the same names, signed by another CA (other-ca.pem)
#   expired-server.{pem,key}   the same names and CA, valid 2020-01-01 .. 2020-02-01 only
#   wrongname-server.{pem,key} signed by the CA for DNS:collector.example, IP:192.0.2.10
#   client.{pem,key}           the probe's client certificate (clientAuth), signed by the CA
#   other-client.{pem,key}     a client certificate from the other CA (the server refuses it)
set -eu

[ $# -eq 1 ] || { echo "usage: $0 DIR" >&2; exit 2; }
DIR=$1
mkdir -p "$DIR"
cd "$DIR"

OPENSSL=${OPENSSL:-openssl}
KEYOPT="-newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes"

cat >ext.cnf <<'EOF'
[ req ]
distinguished_name = req_dn
[ req_dn ]

[ ca_ext ]
basicConstraints = critical, CA:TRUE
keyUsage = critical, keyCertSign, cRLSign
subjectKeyIdentifier = hash

[ server_ext ]
basicConstraints = critical, CA:FALSE
keyUsage = critical, digitalSignature, keyEncipherment
extendedKeyUsage = serverAuth
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
subjectAltName = DNS:localhost, IP:127.0.0.1, IP:::1

[ server_ip_ext ]
basicConstraints = critical, CA:FALSE
keyUsage = critical, digitalSignature, keyEncipherment
extendedKeyUsage = serverAuth
subjectAltName = IP:127.0.0.1, IP:::1

[ server_dns_ext ]
basicConstraints = critical, CA:FALSE
keyUsage = critical, digitalSignature, keyEncipherment
extendedKeyUsage = serverAuth
subjectAltName = DNS:localhost

[ wrongname_ext ]
basicConstraints = critical, CA:FALSE
keyUsage = critical, digitalSignature, keyEncipherment
extendedKeyUsage = serverAuth
subjectAltName = DNS:collector.example, IP:192.0.2.10

[ client_ext ]
basicConstraints = critical, CA:FALSE
keyUsage = critical, digitalSignature
extendedKeyUsage = clientAuth
subjectAltName = DNS:nfprobe.test
EOF

# make_ca NAME CN
make_ca() {
    # shellcheck disable=SC2086
    "$OPENSSL" req -x509 $KEYOPT -keyout "$1.key" -out "$1.pem" -subj "/CN=$2" -days 3650 \
        -config ext.cnf -extensions ca_ext 2>/dev/null
}

# make_cert NAME CN CA EXTSECTION
make_cert() {
    # shellcheck disable=SC2086
    "$OPENSSL" req $KEYOPT -keyout "$1.key" -out "$1.csr" -subj "/CN=$2" \
        -config ext.cnf 2>/dev/null
    "$OPENSSL" x509 -req -in "$1.csr" -CA "$3.pem" -CAkey "$3.key" -set_serial "0x$(od -An -N8 -tx1 /dev/urandom | tr -d ' \n')" \
        -days 3650 -extfile ext.cnf -extensions "$4" -out "$1.pem" 2>/dev/null
    rm -f "$1.csr"
}

make_ca ca "nfprobe test CA"
make_ca other-ca "nfprobe other test CA"

make_cert server localhost ca server_ext
make_cert server-ip 127.0.0.1 ca server_ip_ext
make_cert server-dns localhost ca server_dns_ext
make_cert other-server localhost other-ca server_ext
make_cert wrongname-server collector.example ca wrongname_ext
make_cert client nfprobe ca client_ext
make_cert other-client nfprobe other-ca client_ext

# The expired certificate needs explicit dates in the past, which only `openssl ca` sets.
mkdir -p ca-db
: >ca-db/index.txt
echo 1000 >ca-db/serial
cat >ca-db/ca.cnf <<EOF
[ ca ]
default_ca = test_ca
[ test_ca ]
dir = $(pwd)/ca-db
database = \$dir/index.txt
new_certs_dir = \$dir
serial = \$dir/serial
default_md = sha256
policy = any
unique_subject = no
copy_extensions = none
[ any ]
commonName = supplied
EOF
# shellcheck disable=SC2086
"$OPENSSL" req $KEYOPT -keyout expired-server.key -out expired-server.csr -subj /CN=localhost \
    -config ext.cnf 2>/dev/null
"$OPENSSL" ca -batch -notext -config ca-db/ca.cnf -cert ca.pem -keyfile ca.key \
    -in expired-server.csr -out expired-server.pem -startdate 20200101000000Z \
    -enddate 20200201000000Z -extfile ext.cnf -extensions server_ext 2>/dev/null
rm -rf expired-server.csr ca-db ext.cnf

# Sanity: the good certificates verify, the bad ones fail for the intended reason.
"$OPENSSL" verify -CAfile ca.pem server.pem server-ip.pem server-dns.pem client.pem >/dev/null
if "$OPENSSL" verify -CAfile ca.pem expired-server.pem >/dev/null 2>&1; then
    echo "$0: expired-server.pem unexpectedly verifies" >&2
    exit 1
fi
chmod 600 ./*.key
