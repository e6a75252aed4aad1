# Shell functions shared by install-deps.sh, build-asan.sh and
# build-kamailio6.sh (sourced, not run). They expect $SUDO (empty as root).
# SPDX-License-Identifier: GPL-2.0-or-later

# The modules cfg/*.cfg and the tests load, built in every tree the
# integration suite runs on (the IMS cfg's, xhttp for /metrics, dmq for the
# cluster included).
TREE_MODULES="tm sl pv textops siputils maxfwd xlog ctl kex cfgutils app_python3 xhttp
  xhttp_prom rr tmx cdp cdp_avp ims_usrloc_scscf ims_registrar_scscf ims_auth ims_isc dmq"

# tree_build_deps: what building a tree needs (the core's grammar: bison and
# flex; the IMS modules: libxml2, libmnl; app_python3: python3-dev).
tree_build_deps() {
  local p missing=()
  for p in bison flex libxml2-dev libmnl-dev python3-dev; do
    dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p")
  done
  if [ ${#missing[@]} -gt 0 ]; then
    echo "installing: ${missing[*]}"
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -q --no-install-recommends "${missing[@]}"
  fi
}

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

# build_kamailio_core TREE: the core of an unpacked Kamailio tree whose
# `make cfg` is done.
build_kamailio_core() {
  make -C "$1/src" -j"$(nproc)" kamailio >/dev/null
}

# build_kamailio_modules TREE MODULES...: those modules of the tree (make is
# incremental: a module already built costs nothing).
build_kamailio_modules() {
  local tree=$1 m
  shift
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
