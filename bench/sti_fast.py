#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""The reference STI-AS / STI-VS for the benchmark's (n): tools/sti_service.py with
its ES256 done in this process by python3-cryptography instead of the openssl CLI.

The reference service runs `openssl dgst` for every signature and every verification
(a fork and exec, about 15 ms of CPU), which is what an HSM-backed service would not
cost; (n) measures what Ms costs the proxies and the call, so only that engine is
swapped here. Everything else (the routes, the request checks, the canonical
claims, the answers, the keys and certificates it trusts) is the reference
service's own code, with the same options:

    sti_fast.py --listen 127.0.0.1:8490 --cert srv.pem --key srv.key \
        --sign-key sti.key --sign-cert sti.pem --x5u URL [--trust URL=PEM ...] [--log F]
"""
import os
import sys

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import (decode_dss_signature,
                                                              encode_dss_signature)

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "tools"))
import sti_service  # noqa: E402

_KEYS = {}  # PEM file -> loaded key (the files are read once, at first use)


def _key(path, private):
    k = _KEYS.get(path)
    if k is None:
        with open(path, "rb") as f:
            data = f.read()
        k = (serialization.load_pem_private_key(data, None) if private
             else serialization.load_pem_public_key(data))
        _KEYS[path] = k
    return k


def es256_sign(key, data):
    r, s = decode_dss_signature(_key(key, True).sign(data, ec.ECDSA(hashes.SHA256())))
    return r.to_bytes(32, "big") + s.to_bytes(32, "big")


def es256_verify(pub, data, raw, tmpdir):
    if len(raw) != 64:
        return False
    sig = encode_dss_signature(int.from_bytes(raw[:32], "big"), int.from_bytes(raw[32:], "big"))
    try:
        _key(pub, False).verify(sig, data, ec.ECDSA(hashes.SHA256()))
    except InvalidSignature:
        return False
    return True


sti_service.es256_sign = es256_sign
sti_service.es256_verify = es256_verify

if __name__ == "__main__":
    sys.exit(sti_service.main())
