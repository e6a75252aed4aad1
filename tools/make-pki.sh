#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
#
# Generates a throwaway test PKI with the openssl CLI. Usage: make-pki.sh OUTDIR
# Idempotent: does nothing when OUTDIR/.done names this script's own digest (a
# changed script makes the PKI anew). All keys EC P-256, certs SHA-256,
# valid 30 days (except hook-expired). Nothing here is fit for production.
#
#   sign-ca  -> sign            operator's PASSporT signing certificate (trust anchor + leaf)
#   sign-ca  -> sign2           a second one, for key rotation
#   sign-ca  -> sign-noTPID     RFC 9118 EnhancedJWTClaimConstraints: mustExclude ["tpid"]
#                               (its tokens may not carry tpid at all)
#   sign-ca  -> sign-pinrcd     RFC 8226 JWTClaimConstraints: mustInclude ["rcd"],
#                               permittedValues crn: ["Customer service"] (a tpid-token
#                               token passes: rcd present, no crn)
#   sign-ca  -> sign-expired    valid only in January 2020
#   sign-ca  -> sign-noDS       keyUsage without digitalSignature (may not sign tokens)
#   sign-ca  -> sign-revoked    revoked in sign-ca.crl (the CRL sign-ca issues)
#   sign-ca  -> sti             the operator's STI-AS (tools/sti_service.py) signing key
#   rogue-ca -> rogue           unrelated CA + leaf, for forged-token tests
#   hook-ca  -> hook            enterprise hook server cert (127.0.0.1, localhost)
#   hook-ca  -> hook-expired    same, already expired
#   wrong-ca -> hook-wrongca    server cert for 127.0.0.1 from a CA nobody trusts
#   client-ca -> client         S-CSCF client certificate for mTLS to the hook
set -euo pipefail
out=${1:?usage: make-pki.sh OUTDIR}

stamp=$(sha256sum "$0" | cut -c1-16)
# Kept while this script is unchanged and no certificate (but the one that is
# meant to be expired) ends within 7 days: made anew otherwise.
fresh() {
  local c
  [ "$(cat "$out/.done" 2>/dev/null)" = "$stamp" ] || return 1
  for c in "$out"/*.pem; do
    case "$c" in *expired*) continue ;; esac
    openssl x509 -in "$c" -noout -checkend $((7 * 86400)) >/dev/null 2>&1 || {
      echo "PKI: $(basename "$c") ends within 7 days: making the PKI anew"
      return 1
    }
  done
}
if fresh; then
  echo "PKI in $out"
  exit 0
fi
rm -rf "$out"
mkdir -p "$out"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
# Keys are written before anything else touches them, so create them private.
umask 077
# The 'openssl ca' section below expands this variable whenever the config is parsed.
export TPID_CA_DIR="$tmp/ca"

# One minimal config holds every extension profile. Using our own config (not the
# system openssl.cnf) keeps 'req -x509' from adding default extensions twice.
cat >"$tmp/ext.cnf" <<'EOF'
[req]
distinguished_name = dn
prompt = no
[dn]

[v3_ca]
basicConstraints = critical,CA:true
keyUsage = critical,keyCertSign,cRLSign
subjectKeyIdentifier = hash

[v3_sign]
basicConstraints = critical,CA:false
keyUsage = critical,digitalSignature
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid

# JWT claim constraints (RFC 8226 / RFC 9118 ASN.1 modules: EXPLICIT TAGS),
# used by the v3_sign_* profiles appended below.
[ejcc_notpid]
mustExclude = EXP:2,SEQUENCE:names_tpid
[names_tpid]
n0 = IA5STRING:tpid

[jcc_pinrcd]
mustInclude = EXP:0,SEQUENCE:names_rcd
permittedValues = EXP:1,SEQUENCE:pv_list
[names_rcd]
n0 = IA5STRING:rcd
[pv_list]
p0 = SEQUENCE:pv_crn
[pv_crn]
claim = IA5STRING:crn
permitted = SEQUENCE:crn_values
[crn_values]
v0 = UTF8String:Customer service

[v3_sign_nods]
basicConstraints = critical,CA:false
keyUsage = critical,keyAgreement
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid

[v3_server]
basicConstraints = critical,CA:false
keyUsage = critical,digitalSignature
extendedKeyUsage = serverAuth
subjectAltName = IP:127.0.0.1,DNS:localhost
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid

[v3_client]
basicConstraints = critical,CA:false
keyUsage = critical,digitalSignature
extendedKeyUsage = clientAuth
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid

# Only for 'openssl ca', the one way openssl 3.0 sets an arbitrary (past) validity.
[ca]
default_ca = tmpca
[tmpca]
database = $ENV::TPID_CA_DIR/index.txt
new_certs_dir = $ENV::TPID_CA_DIR
serial = $ENV::TPID_CA_DIR/serial
default_md = sha256
default_crl_days = 30
policy = policy_any
unique_subject = no
copy_extensions = none
[policy_any]
commonName = supplied
organizationName = optional
EOF
# Signing profiles with claim constraints: v3_sign plus one extension each.
v3_sign=$(sed -n '/^\[v3_sign\]$/,/^$/{/^\[/d;/^$/d;p}' "$tmp/ext.cnf")
cat >>"$tmp/ext.cnf" <<EOF
[v3_sign_notpid]
$v3_sign
1.3.6.1.5.5.7.1.33 = ASN1:SEQUENCE:ejcc_notpid

[v3_sign_pinrcd]
$v3_sign
1.3.6.1.5.5.7.1.27 = ASN1:SEQUENCE:jcc_pinrcd
EOF
export OPENSSL_CONF="$tmp/ext.cnf"

# openssl chats on stderr even on success; show its output only when it fails.
quiet() {
  "$@" 2>"$tmp/stderr" || { cat "$tmp/stderr" >&2; echo "make-pki: failed: $*" >&2; return 1; }
}

newkey() { # name
  quiet openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:prime256v1 -out "$out/$1.key"
  chmod 600 "$out/$1.key"
}

serial() { echo "0x$(openssl rand -hex 16)"; }

# Validity starts a day back: tokens are checked at their iat, and a test may
# sign with an iat in the past right after the PKI was made.
start=$(date -u -d '-1 day' +%Y%m%d%H%M%SZ)
end=$(date -u -d '+30 days' +%Y%m%d%H%M%SZ)

# 'openssl ca' with its own database per CA: certificates with a past validity, and
# a revocation list.
ca_sign() { # ca name subject profile [ca options...]
  local ca=$1 name=$2 subj=$3 prof=$4
  shift 4
  export TPID_CA_DIR="$tmp/ca-$ca"
  if [ ! -d "$TPID_CA_DIR" ]; then
    mkdir -p "$TPID_CA_DIR"
    : >"$TPID_CA_DIR/index.txt"
    openssl rand -hex 16 >"$TPID_CA_DIR/serial"
  fi
  newkey "$name"
  quiet openssl req -new -config "$tmp/ext.cnf" -key "$out/$name.key" -subj "$subj" \
    -out "$tmp/$name.csr"
  quiet openssl ca -batch -config "$tmp/ext.cnf" -notext -cert "$out/$ca.pem" \
    -keyfile "$out/$ca.key" "$@" -extfile "$tmp/ext.cnf" -extensions "$prof" \
    -in "$tmp/$name.csr" -out "$out/$name.pem"
}

mkca() { # name subject
  export TPID_CA_DIR="$tmp/ca-$1"
  mkdir -p "$TPID_CA_DIR"
  : >"$TPID_CA_DIR/index.txt"
  openssl rand -hex 16 >"$TPID_CA_DIR/serial"
  newkey "$1"
  quiet openssl req -new -config "$tmp/ext.cnf" -key "$out/$1.key" -subj "$2" -out "$tmp/$1.csr"
  quiet openssl ca -batch -selfsign -config "$tmp/ext.cnf" -notext -keyfile "$out/$1.key" \
    -startdate "$start" -enddate "$end" -extfile "$tmp/ext.cnf" -extensions v3_ca \
    -in "$tmp/$1.csr" -out "$out/$1.pem"
}

mkleaf() { # name subject ca profile
  ca_sign "$3" "$1" "$2" "$4" -startdate "$start" -enddate "$end"
}

mkca   sign-ca   "/O=tpid test operator/CN=tpid test signing root CA"
mkleaf sign      "/O=tpid test operator/CN=tpid test signing certificate" sign-ca v3_sign
mkleaf sign2     "/O=tpid test operator/CN=tpid test signing certificate 2" sign-ca v3_sign
mkleaf sign-noTPID "/O=tpid test operator/CN=tpid test signing certificate without tpid" sign-ca v3_sign_notpid
mkleaf sti       "/O=tpid test operator/CN=tpid test STI-AS signing certificate" sign-ca v3_sign
mkleaf sign-pinrcd "/O=tpid test operator/CN=tpid test signing certificate pinned to rcd" sign-ca v3_sign_pinrcd

mkleaf sign-noDS "/O=tpid test operator/CN=tpid test certificate without digitalSignature" sign-ca v3_sign_nods

mkca   rogue-ca  "/O=rogue/CN=rogue root CA"
mkleaf rogue     "/O=rogue/CN=rogue signing certificate" rogue-ca v3_sign

mkca   hook-ca   "/O=acme.example/CN=enterprise hook CA"
mkleaf hook      "/O=acme.example/CN=localhost" hook-ca v3_server

mkca   wrong-ca  "/O=nobody/CN=wrong CA"
mkleaf hook-wrongca "/O=nobody/CN=localhost" wrong-ca v3_server

mkca   client-ca "/O=tpid test operator/CN=S-CSCF client CA"
mkleaf client    "/O=tpid test operator/CN=scscf.ims.example" client-ca v3_client

# Expired: validity windows in 2020.
ca_sign hook-ca hook-expired "/O=acme.example/CN=localhost" v3_server \
  -startdate 20200101000000Z -enddate 20200201000000Z
ca_sign sign-ca sign-expired "/O=tpid test operator/CN=tpid test expired signing certificate" \
  v3_sign -startdate 20200101000000Z -enddate 20200201000000Z
# Revoked, and the CRL of sign-ca that says so.
ca_sign sign-ca sign-revoked "/O=tpid test operator/CN=tpid test revoked signing certificate" \
  v3_sign -days 30
export TPID_CA_DIR="$tmp/ca-sign-ca"
quiet openssl ca -config "$tmp/ext.cnf" -cert "$out/sign-ca.pem" -keyfile "$out/sign-ca.key" \
  -revoke "$out/sign-revoked.pem" -crl_reason keyCompromise
quiet openssl ca -config "$tmp/ext.cnf" -cert "$out/sign-ca.pem" -keyfile "$out/sign-ca.key" \
  -gencrl -out "$out/sign-ca.crl"

chmod 644 "$out"/*.pem "$out"/*.crl
echo "$stamp" >"$out/.done"
echo "PKI in $out"
