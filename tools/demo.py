#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""`make demo`: bring the local stack up, place the story's calls with SIPp,
print per call what the caller claimed and what the callee received, stop
everything. Exit status 0 only if every call ended as the story says."""
import base64
import hashlib
import json
import os
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import stack as S  # noqa: E402

PRESENT = "P-Verified-Third-Party-ID"
AV_PRESENT = "P-Verified-Avatar-ID"


def b64u_dec(s):
    return base64.urlsafe_b64decode(s + "=" * (-len(s) % 4))


def b64u_enc(b):
    return base64.urlsafe_b64encode(b).decode().rstrip("=")


def tamper(identity, new_id, new_name):
    """An intermediary rewrites the asserted ID and name, keeps the signature."""
    jws, params = identity.split(";", 1)
    h, p, sig = jws.split(".")
    payload = json.loads(b64u_dec(p))
    payload["tpid"]["id"] = new_id
    payload["rcd"]["nam"] = new_name
    p2 = b64u_enc(json.dumps(payload, separators=(",", ":"), sort_keys=True).encode())
    return f"{h}.{p2}.{sig};{params}"


def rcd_identity(call):
    for v in call.callee_header("Identity"):
        if "ppt=rcd" in v:
            return v
    return None


def avatar_identity(call):
    for v in call.callee_header("Identity"):
        if "ppt=avatar" in v:
            return v
    return None


def swap_digest(identity, data):
    """An intermediary points the avatar at other bytes, keeps the signature."""
    jws, params = identity.split(";", 1)
    h, p, sig = jws.split(".")
    payload = json.loads(b64u_dec(p))
    payload["avatari"]["/avatar/bar"] = "sha256-" + base64.b64encode(
        hashlib.sha256(data).digest()).decode()
    p2 = b64u_enc(json.dumps(payload, separators=(",", ":"), sort_keys=True).encode())
    return f"{h}.{p2}.{sig};{params}"


def phone_fetch(token, user):
    """What the callee's phone does with the avatar: tpid-token avatar-fetch with
    the user's credential at the avatar repository."""
    cred = [c["token"] for c in json.load(open(S.BAR_DATA))["credentials"]
            if c["user"] == user and "expires" not in c][0]
    r = subprocess.run([S.TPID_TOKEN, "avatar-fetch", "--token", token, "--bearer", cred,
                        "--ca-file", os.path.join(S.PKI, "hook-ca.pem"), "--allow-private"],
                       stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    return r.returncode, r.stdout.decode().strip()


def show_avatar(n, title, claimed, call, expect_code, expect_avatar, expect_tpid=False):
    got, tp = call.callee_header(AV_PRESENT), call.callee_header(PRESENT)
    print(f"\n[{n}] {title}")
    print(f"    caller claimed : {claimed}")
    print(f"    caller got     : {call.code} {call.phrase}")
    if call.callee is None:
        print("    callee         : no INVITE reached the callee")
    else:
        if tp:
            print(f"    callee sees    : {PRESENT}: {tp[0]}")
        print(f"    callee sees    : {AV_PRESENT}: {got[0]}" if got
              else "    callee sees    : no avatar (the call itself goes on)")
    ok = call.code == expect_code and bool(got) == expect_avatar and bool(tp) == expect_tpid
    print("    as expected    : " + ("yes" if ok else "NO"))
    return ok


def show(n, title, claimed, call, expect_code, expect_present):
    got = call.callee_header(PRESENT)
    print(f"\n[{n}] {title}")
    print(f"    caller claimed : {claimed}")
    print(f"    caller got     : {call.code} {call.phrase}")
    if call.callee is None:
        print("    callee         : no INVITE reached the callee")
    elif got:
        print(f"    callee sees    : {PRESENT}: {got[0]}")
    else:
        print("    callee sees    : no third-party ID (the call itself goes on)")
    ok = call.code == expect_code and bool(got) == expect_present
    print("    as expected    : " + ("yes" if ok else "NO"))
    return ok


def ms_stack():
    """Both roles through the operator's STI-AS / STI-VS (tools/sti_service.py): orig
    keeps no signing key, term checks no signature itself, and says verstat."""
    os.makedirs(S.RUN, exist_ok=True)
    path = os.path.join(S.RUN, "ms.json")
    with open(path, "w") as f:
        json.dump({"ms": [{"domain": "*", "api_root": S.STI_ROOT,
                           "ca_file": os.path.join(S.PKI, "hook-ca.pem"),
                           "connect_timeout_ms": 500, "timeout_ms": 2000}]}, f)
    q = '"' + path + '"'
    return S.Stack(sti=True, orig_extra={"MS_FILE": q},
                   term_extra={"MS_FILE": q, "VERSTAT": "1"})


def main():
    ms = "--ms" in sys.argv[1:]
    st = ms_stack() if ms else S.Stack()
    try:
        st.start()
    except S.StackError as e:
        print("demo: " + str(e), file=sys.stderr)
        st.stop()
        return 1
    results = []
    try:
        print("tpid_assert demo: caller -> orig S-CSCF :5060 -> term S-CSCF :5070 -> callee :5080,")
        print("enterprise hook for acme.example at https://127.0.0.1:8443 (directory: tools/demo-directory.json)")
        if ms:
            print(f"Ms mode: the STI-AS / STI-VS at {S.STI_ROOT} signs and verifies "
                  "(tools/sti_service.py); term adds verstat to the P-Asserted-Identity")

        c1 = st.place_call(served=S.ALICE, claim=S.ALICE_ID)
        results.append(show(1, "Alice (tel:+4961519876543) calls with her own employee ID",
                            f"{S.ALICE_ID} as served user {S.ALICE}", c1, 200, True))
        if ms:
            token = rcd_identity(c1) or ""
            pai = (c1.callee_header("P-Asserted-Identity") or [""])[0]
            print(f"    signed by      : {token.split('info=<', 1)[-1].split('>', 1)[0]}")
            print(f"    callee's PAI   : {pai}")
            results[-1] = results[-1] and S.STI_X5U in token and \
                "verstat=TN-Validation-Passed" in pai

        c2 = st.place_call(served=S.MALLORY, claim=S.ALICE_ID, expect=403)
        results.append(show(2, "Mallory (tel:+4961510000666) claims Alice's employee ID",
                            f"{S.ALICE_ID} as served user {S.MALLORY}", c2, 403, False))
        print("    why            : the enterprise answered 'denied'; policy deny_policy=reject")

        token = rcd_identity(c1)
        forged = tamper(token, "sip:ceo@acme.example", "ACME Chief Executive") if token else ""
        c3 = st.place_call(served=S.ALICE, claim=None, to_port=S.TERM_PORT,
                           extra_headers=["Identity: " + forged], expect=438)
        results.append(show(3, "An intermediary rewrites Alice's signed ID to the CEO's on the way",
                            "(call 1's Identity header, payload changed to sip:ceo@acme.example)",
                            c3, 438, False))
        print("    why            : the ES256 signature no longer matches the payload")

        c4 = st.place_call(served=S.BOB, claim="sip:e1@down.example")
        results.append(show(4, "Bob claims an ID of an enterprise whose hook is down",
                            "sip:e1@down.example", c4, 200, False))
        print("    why            : hook unreachable; policy fail_policy=strip keeps the call")

        # A second operator signs; the terminating side has no certificate for it
        # configured, only its repository on the allowlist (x5u_allow) and what
        # it may assert (x5u_signer): the certificate is fetched from x5u.
        peer = S.sign(key=os.path.join(S.PKI, "sign2.key"), x5u=S.CERT_URL + "sign2.pem")
        c5 = st.place_call(served=S.ALICE, claim=None, to_port=S.TERM_PORT,
                           extra_headers=["Identity: " + peer])
        results.append(show(5, "A peer operator signs Alice's ID; its certificate is not configured",
                            f"(a token with x5u {S.CERT_URL}sign2.pem)", c5, 200, True))
        print("    why            : the certificate was fetched from x5u (allowlisted), "
              "validated against ca_file, cached")

        c6 = st.place_call(served=S.ALICE, claim=None, to_port=S.TERM_PORT,
                           extra_headers=["Identity: " + peer], expect=438)
        results.append(show(6, "The callee of call 5 replays its token to another callee",
                            "(call 5's Identity header, on a new call)", c6, 438, False))
        print("    why            : the same token was verified on another Call-ID: REPLAY")

        print("\navatar calls: avatar repository (BAR) at https://127.0.0.1:8480 "
              "(tools/demo-bar.json)")
        c7 = st.place_call(served=S.ALICE, claim=None, extra_headers=["P-Avatar-ID: alice-01"])
        results.append(show_avatar(7, "Alice calls with her own avatar",
                                   f"P-Avatar-ID alice-01 as served user {S.ALICE}",
                                   c7, 200, True))
        tok7 = avatar_identity(c7) or ""
        rc, line = phone_fetch(tok7, "tel:+" + S.CALLEE)
        print(f"    callee's phone : fetches it with its own credential: {line}")
        results[-1] = results[-1] and rc == 0

        c8 = st.place_call(served=S.MALLORY, claim=None,
                           extra_headers=["P-Avatar-ID: alice-01"], expect=403)
        results.append(show_avatar(8, "Mallory claims Alice's avatar",
                                   f"P-Avatar-ID alice-01 as served user {S.MALLORY}",
                                   c8, 403, False))
        print("    why            : the BAR answered 'denied'; avatar_deny_policy=reject")

        c9 = st.place_call(served=S.BOB, claim=S.BOB_ID, extra_headers=["P-Avatar-ID: bob-01"])
        results.append(show_avatar(9, "Bob calls with his employee ID and his avatar",
                                   f"{S.BOB_ID} and P-Avatar-ID bob-01", c9, 200, True,
                                   expect_tpid=True))
        print("    why            : enterprise and BAR asked in parallel, one suspension, "
              "two signed tokens")

        c10 = st.place_call(served=S.ALICE, claim=None, to_port=S.TERM_PORT,
                            extra_headers=["Identity: " + swap_digest(tok7, b"Mallory's face")])
        results.append(show_avatar(10, "An intermediary points Alice's avatar at other bytes",
                                   "(call 7's avatar token, digest changed)", c10, 200, False))
        print("    why            : the signature no longer matches; the avatar is removed, "
              "avatar_term_policy=continue")

        owner = [c["token"] for c in json.load(open(S.BAR_DATA))["credentials"]
                 if c["user"] == S.ALICE][0]
        path = "/bar/v1/avatars/alice-01/representation"
        st.bar_get(path, owner, method="PUT", body=b"glTF replaced after signing")
        rc, line = phone_fetch(tok7, "tel:+" + S.CALLEE)
        print("\n[11] Alice's representation is replaced at the BAR after call 7 was signed")
        print(f"    callee's phone : {line}")
        print("    as expected    : " + ("yes" if line.startswith("AVATAR_DIGEST_MISMATCH")
                                           else "NO"))
        results.append(rc == 1 and line.startswith("AVATAR_DIGEST_MISMATCH"))
        with open(os.path.join(S.ROOT, "tools", "demo-avatars", "alice-01.glb"), "rb") as f:
            st.bar_get(path, owner, method="PUT", body=f.read())
    finally:
        st.stop()
    ok = all(results)
    print(f"\n{sum(results)} of {len(results)} calls ended as expected; logs in {st.run}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
