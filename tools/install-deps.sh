#!/usr/bin/env bash
# Installs what the build, the demo and the tests need on Debian 12, and unpacks the
# Kamailio 5.6.3 source (from Debian's source package) that the module builds against.
# Idempotent: does nothing that is already done. Usage: install-deps.sh BUILD_DIR
set -euo pipefail
build=${1:?usage: install-deps.sh BUILD_DIR}
SUDO=
[ "$(id -u)" = 0 ] || SUDO=sudo
. "$(dirname "$0")/kamailio-tree.sh"

pkgs=(kamailio sip-tester libcurl4-openssl-dev libjansson-dev libssl-dev pkg-config
      libcmocka-dev python3-pytest python3-yaml openssl curl make gcc dpkg-dev xsltproc
      docbook-xsl clang-format kamailio-python3-modules kamailio-ims-modules
      python3-jwt python3-cryptography)
missing=()
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done

# deb-src for bookworm main, so that 'apt-get source kamailio' works.
srcfile=/etc/apt/sources.list.d/tpid-deb-src.sources
need_src=0
[ -d "$build/kamailio-5.6.3/src" ] || need_src=1
# (another suite's deb-src entry, e.g. trixie's for build-kamailio6.sh, does not count)
has_bookworm_src() {
  local f
  for f in /etc/apt/sources.list.d/*.sources; do
    grep -qs '^Types:.*deb-src' "$f" && grep -qsE '^Suites:.*\bbookworm\b' "$f" && return 0
  done
  grep -qsE '^deb-src .* bookworm( |$)' /etc/apt/sources.list /etc/apt/sources.list.d/*.list
}
if [ $need_src = 1 ] && ! has_bookworm_src; then
  deb_src_entry bookworm "$srcfile"
fi

if [ ${#missing[@]} -gt 0 ] || [ $need_src = 1 ]; then
  $SUDO apt-get update -q
fi
if [ ${#missing[@]} -gt 0 ]; then
  echo "installing: ${missing[*]}"
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -q --no-install-recommends "${missing[@]}"
fi
# The packaged kamailio starts a system service on install; the stack runs its own.
if systemctl is-active --quiet kamailio 2>/dev/null; then
  echo "stopping the system kamailio service (the packaged one, started by its install):"
  echo "  the demo and the tests run their own Kamailio instances on 127.0.0.1:5060/5070"
  $SUDO systemctl stop kamailio || echo "could not stop the kamailio service: ports may be busy"
fi

if [ $need_src = 1 ]; then
  mkdir -p "$build/src-pkg"
  (cd "$build/src-pkg" && apt-get source --download-only kamailio=5.6.3-2 2>/dev/null \
     || apt-get source --download-only kamailio)
  tar -xzf "$build"/src-pkg/kamailio_5.6.3.orig.tar.gz -C "$build"
fi
if [ ! -f "$build/kamailio-5.6.3/src/config.mak" ]; then
  make -C "$build/kamailio-5.6.3" cfg >/dev/null
fi
echo "dependencies ready; Kamailio source in $build/kamailio-5.6.3"
