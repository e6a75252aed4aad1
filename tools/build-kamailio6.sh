#!/usr/bin/env bash
# Kamailio 6.0 from Debian 13's source package (deb-src for trixie, fetched and
# verified by apt), built into BUILD_DIR/k6 with the modules the shipped cfgs and
# the tests load, and tpid_assert built against it.
#
#   tools/build-kamailio6.sh BUILD_DIR
#
# Result: BUILD_DIR/k6/kamailio-6.0.*/src/kamailio, its modules under
# .../src/modules/<name>/<name>.so and .../src/modules/tpid_assert/tpid_assert.so.
# The core and its modules are built once (a few minutes on 2 cores); the module
# again whenever its sources change. `make test-k6` runs the integration suite on it.
# SPDX-License-Identifier: GPL-2.0-or-later
set -euo pipefail
build=$(cd "${1:?usage: build-kamailio6.sh BUILD_DIR}" && pwd)
root=$(cd "$(dirname "$0")/.." && pwd)
SUDO=$([ "$(id -u)" = 0 ] || echo sudo)
. "$root/tools/kamailio-tree.sh"
src_pkg=$build/k6/src-pkg
tree_build_deps

# Debian 13's sources, for apt-get source only (no binary package comes from it)
srcfile=/etc/apt/sources.list.d/tpid-trixie-src.sources
if ! ls "$src_pkg"/kamailio_6.0.*.orig.tar.* >/dev/null 2>&1; then
  if [ ! -f "$srcfile" ]; then
    deb_src_entry trixie "$srcfile"
    $SUDO apt-get update -q
  fi
  mkdir -p "$src_pkg"
  # apt checks every file it fetches against the signed index; the mirror may
  # lack the upstream signature (.orig.tar.gz.asc), which is not needed here
  (cd "$src_pkg" && apt-get source --download-only kamailio/trixie) ||
    echo "apt-get source did not fetch every file; checking the tarball against the .dsc"
fi
orig=$(ls "$src_pkg"/kamailio_6.0.*.orig.tar.gz | head -1)
dsc=$(ls "$src_pkg"/kamailio_6.0.*.dsc | head -1)
want_sum=$(awk -v f="$(basename "$orig")" '/^[^ ]/{c=/^Checksums-Sha256:/;next} c&&$3==f{print $1}' "$dsc")
if [ -z "$want_sum" ] || [ "$(sha256sum "$orig" | cut -d' ' -f1)" != "$want_sum" ]; then
  echo "$orig does not match $dsc" >&2
  exit 1
fi
version=$(basename "$orig" | sed -E 's/^kamailio_([0-9.]+)\.orig\.tar\..*$/\1/')
tree=$build/k6/kamailio-$version

stamp=$tree/.k6-built
want="$version"
if [ "$(cat "$stamp" 2>/dev/null)" != "$want" ]; then
  rm -rf "$tree" && mkdir -p "$build/k6"
  tar xf "$orig" -C "$build/k6"
  echo "building Kamailio $version in $tree"
  make -C "$tree" cfg >/dev/null
  build_kamailio_core "$tree"
  echo "$want" > "$stamp"
fi
# shellcheck disable=SC2086 # a list of names
build_kamailio_modules "$tree" $TREE_MODULES

# tpid_assert against this tree
build_tpid_module "$root" "$tree"
ln -sfn "$tree" "$build/k6/tree"
echo "Kamailio $version: $tree/src/kamailio"
