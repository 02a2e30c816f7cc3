# t0605-serve-client-cert: over TLS, a client certificate signed by --client-ca stands
# for the viewer token. GnuTLS verifies it on each connection: a certificate from another
# CA, an expired one, one made for a server (not client use) and none at all get 401; the
# token still works beside it. --client-ca without TLS is refused.
. "$TOP/tests/integration/lib.sh"

if ! command -v openssl >/dev/null; then
	not_ok "openssl is needed to make the test certificates"
	exit 0
fi
# A CA, a server certificate for 127.0.0.1, client certificates: good, from a rogue CA,
# expired, and one for server use only. EC P-256 keys: quick to make.
key() { openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$1" 2>/dev/null; }
ca() { key "$1.key" && openssl req -x509 -key "$1.key" -out "$1.pem" -days 2 -subj "/CN=$1" 2>/dev/null; }
# sign NAME CA CN EKU [openssl ca dates]: a certificate for NAME signed by CA.
sign() {
	key "$1.key" && openssl req -new -key "$1.key" -out "$1.csr" -subj "/CN=$3" 2>/dev/null &&
	printf 'subjectAltName=IP:127.0.0.1\nextendedKeyUsage=%s\n' "$4" > "$1.ext" &&
	openssl x509 -req -in "$1.csr" -CA "$2.pem" -CAkey "$2.key" -CAcreateserial -days 2 \
		-extfile "$1.ext" -out "$1.pem" 2>/dev/null
}
ca ca && ca rogue
sign server ca 127.0.0.1 serverAuth
sign alice ca alice clientAuth
sign mallory rogue alice clientAuth
sign impostor ca impostor serverAuth
# Expired: `openssl ca` takes explicit dates (x509 -req does not, in OpenSSL 3.0).
key old.key && openssl req -new -key old.key -out old.csr -subj /CN=old 2>/dev/null
mkdir -p cadb && : > cadb/index.txt && echo 01 > cadb/serial
cat > ca.cnf <<'C'
[ca]
default_ca = test
[test]
database = cadb/index.txt
serial = cadb/serial
new_certs_dir = cadb
default_md = sha256
policy = any
x509_extensions = client
[any]
commonName = supplied
[client]
extendedKeyUsage = clientAuth
C
openssl ca -batch -config ca.cnf -cert ca.pem -keyfile ca.key -in old.csr -out old.pem \
	-startdate 20200101000000Z -enddate 20200102000000Z >/dev/null 2>&1
check "(the test certificates were made)" "for f in ca server alice mallory impostor old; do [ -s \$f.pem ] || exit 1; done"

printf 'a-viewer-token-of-some-length\n' > viewer.token
serve_start --lab --tls-cert server.pem --tls-key server.key --client-ca ca.pem --token-file viewer.token
get() { curl -s -o /dev/null -w '%{http_code}' --cacert ca.pem "$@" "$URL/runbooks/gpu-fault?node=n42"; }
check "a client certificate the CA signed: 200" "[ \$(get --cert alice.pem --key alice.key) = 200 ]"
check "and the page itself" "curl -s --cacert ca.pem --cert alice.pem --key alice.key '$URL/runbooks/gpu-fault?node=n42' | grep -q '<h2>On n42</h2>'"
check "no certificate and no token: 401" "[ \$(get) = 401 ]"
check "a certificate from another CA, though it says alice: 401" "[ \$(get --cert mallory.pem --key mallory.key) = 401 ]"
check "an expired certificate from the CA: 401" "[ \$(get --cert old.pem --key old.key) = 401 ]"
check "a server certificate from the CA (not for client use): 401" "[ \$(get --cert impostor.pem --key impostor.key) = 401 ]"
check "the viewer token still works without a certificate" "[ \$(get -H 'Authorization: Bearer a-viewer-token-of-some-length') = 200 ]"
check "a wrong token with no certificate: 401" "[ \$(get -H 'Authorization: Bearer a-viewer-token-of-some-lengtX') = 401 ]"
serve_stop
expect_exit "--client-ca without TLS is refused" 2 serve --listen 127.0.0.1:9 --client-ca ca.pem
expect_exit "off loopback, a client CA stands for the token" 2 serve --listen 0.0.0.0:9 --insecure-http
check "(that refusal names both)" "\"\$RBX\" serve --listen 0.0.0.0:9 --insecure-http 2>&1 | grep -q -- '--client-ca'"
expect_exit "a client CA that is not a file is refused" 2 serve --listen 127.0.0.1:9 --tls-cert server.pem --tls-key server.key --client-ca nope.pem
