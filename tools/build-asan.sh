#!/usr/bin/env bash
# Kamailio 5.6.3 built with AddressSanitizer and UndefinedBehaviorSanitizer from
# the same Debian source package `make` already fetched, the modules the shipped
# cfgs and the tests load, and tpid_assert built against it with the same flags.
#
#   tools/build-asan.sh BUILD_DIR
#
# Result: BUILD_DIR/asan/kamailio-5.6.3/src/kamailio, its modules under
# .../src/modules/<name>/<name>.so (Kamailio's mpath finds them there) and
# .../src/modules/tpid_assert/tpid_assert.so. The core and its modules are built
# once (about 3 minutes on 2 cores); the module again whenever its sources change.
# SPDX-License-Identifier: GPL-2.0-or-later
set -euo pipefail
build=$(cd "${1:?usage: build-asan.sh BUILD_DIR}" && pwd)
root=$(cd "$(dirname "$0")/.." && pwd)
SUDO=$([ "$(id -u)" = 0 ] || echo sudo)
. "$root/tools/kamailio-tree.sh"
src_pkg=$build/src-pkg
tree=$build/asan/kamailio-5.6.3
# The module: every ASan and UBSan check, a UBSan finding aborts the process.
flags="-fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined"
# Kamailio's core and modules: the same but UBSan's null check. Kamailio 5.6.3
# computes &send_sock->address_str with send_sock NULL whenever it relays a
# reply that carries lumps (core/msg_translator.c:810, lumps_len()), which the
# terminating side's RFC 9410 Reason header on replies does: UBSan's report
# there is Kamailio's, not the module's.
core_flags="$flags -fno-sanitize=null"
tree_build_deps

stamp=$tree/.asan-built
want="$core_flags"
if [ "$(cat "$stamp" 2>/dev/null)" != "$want" ]; then
  orig=$(ls "$src_pkg"/kamailio_5.6.3.orig.tar.gz)
  deb=$(ls "$src_pkg"/kamailio_5.6.3-*.debian.tar.xz)
  rm -rf "$build/asan" && mkdir -p "$build/asan"
  tar xzf "$orig" -C "$build/asan"
  # Debian's fixes that let app_python3 build against Python 3.11
  tmp=$(mktemp -d)
  trap 'rm -rf "$tmp"' EXIT
  tar xJf "$deb" -C "$tmp"
  for p in app_python3_fix.patch app_python3-proper-check-of-PY_VERSION_HEX-for-pytho.patch \
           app_python3-use-Py_SET_TYPE-from-python-3.9.patch; do
    patch -d "$tree" -p1 --forward --quiet < "$tmp/debian/patches/$p"
  done
  echo "building an ASan/UBSan Kamailio in $tree"
  make -C "$tree" cfg CC_EXTRA_OPTS="$core_flags" LD_EXTRA_OPTS="-fsanitize=address,undefined" >/dev/null
  build_kamailio_core "$tree"
  echo "$want" > "$stamp"
fi
# shellcheck disable=SC2086 # a list of names
build_kamailio_modules "$tree" $TREE_MODULES

# tpid_assert, with the tree's flags
build_tpid_module "$root" "$tree" "$flags"
echo "ASan/UBSan Kamailio: $tree/src/kamailio"
