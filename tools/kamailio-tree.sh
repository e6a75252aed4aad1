# Shell functions shared by install-deps.sh, build-asan.sh and
# build-kamailio6.sh (sourced, not run). They expect $SUDO (empty as root).
# SPDX-License-Identifier: GPL-2.0-or-later

# deb_src_entry SUITE FILE: writes a deb-src entry for Debian's SUITE to FILE
# (apt-get source only: no binary package comes from it).
deb_src_entry() {
  $SUDO tee "$2" >/dev/null <<SRC
Types: deb-src
URIs: http://deb.debian.org/debian
Suites: $1
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
SRC
}

# build_kamailio TREE MODULES...: the core and MODULES of an unpacked Kamailio
# tree whose `make cfg` is done.
build_kamailio() {
  local tree=$1 m
  shift
  make -C "$tree/src" -j"$(nproc)" kamailio >/dev/null
  for m in "$@"; do
    # Debian's python3-config, not the first one on PATH
    make -C "$tree/src/modules/$m" -j"$(nproc)" PYTHON3=/usr/bin/python3 >/dev/null
  done
}

# build_tpid_module ROOT TREE [CC_EXTRA_OPTS]: tpid_assert's sources copied
# into TREE (it builds in place) and built against it.
build_tpid_module() {
  local root=$1 tree=$2
  mkdir -p "$tree/src/modules/tpid_assert"
  cp -p "$root/modules/tpid_assert/"*.[ch] "$root/modules/tpid_assert/Makefile" \
    "$tree/src/modules/tpid_assert/"
  make -C "$tree/src/modules/tpid_assert" -j"$(nproc)" KSR_SRC="$tree/src" \
    ${3:+CC_EXTRA_OPTS="$3"} >/dev/null
}
