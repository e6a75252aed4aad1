# SPDX-License-Identifier: GPL-2.0-or-later
"""What the shipped policies allow a soak call to end with, given what was going on
while it ran (tests/soak/soak.py records that as a Timeline).

The policies of the soak's stack (cfg/orig-scscf.cfg and cfg/term-scscf.cfg as
shipped): the enterprise says no (denied, unknown) -> 403; the enterprise fails
(down, slow, 5xx, garbage) -> the claim is dropped and the call goes on (a 200 with
nothing presented); the terminating side cannot get the signer's certificate ->
436 (term_policy "reject", failures cached for x5u_fail_ttl).

A call's outcome is one of
    P     200, the callee was shown the caller's own third-party ID
    U     200, the callee was shown nothing
    W     200, the callee was shown some other ID (never allowed)
    403   refused by the originating side
    436   refused by the terminating side
and the allowed set is the union over every state the call overlapped, from its
INVITE to its final response (plus a little slack for clocks)."""

SLACK_S = 0.2   # SIPp's clock against ours: a call is widened by this on both sides


class Timeline:
    """Windows of time in which something was the case: ("hook", start, end) while
    the enterprise misbehaved (its end extended by the enterprise's timeout: a call
    may join a query sent before the end and get that query's failure), ("cert",
    ...) while the certificate repository did (its end extended by the failure
    cache's lifetime), ("revoked", start, end, user) while a user's ID was revoked
    (from the directory edit plus the revocation RPC to the restoring edit). An end
    of None: still going on."""

    def __init__(self):
        self.windows = []

    def open(self, kind, start, who=None):
        self.windows.append([kind, start, None, who])
        return self.windows[-1]

    def close(self, window, end):
        window[2] = end

    def overlaps(self, kind, t0, t1, who=None):
        return any(k == kind and (who is None or w == who) and s <= t1 and (e is None or e >= t0)
                   for k, s, e, w in self.windows)

    def covers(self, kind, t0, t1, who=None):
        """True if one window of kind spans all of [t0, t1]."""
        return any(k == kind and (who is None or w == who) and s <= t0 and (e is None or e >= t1)
                   for k, s, e, w in self.windows)


def outcome(code, seen, own_id):
    """P, U, W, or the refusal's code (as a string), of one logged call."""
    if code != "200":
        return code
    if "P-Verified-Third-Party-ID" not in seen:
        return "U"
    return "P" if f"<{own_id}>" in seen else "W"


def allowed(cls, who, t0, t1, tl):
    """The outcomes the policies allow a call of class cls ("A" authorized, "D" claims
    someone else's ID, "R" authorized but revoked now and then) by user who, which
    ran from t0 to t1, under Timeline tl."""
    t0, t1 = t0 - SLACK_S, t1 + SLACK_S
    ok = set()
    if cls == "D":
        ok.add("403")
    else:
        revoked_all_along = cls == "R" and tl.covers("revoked", t0, t1, who)
        if not revoked_all_along:
            ok.add("P")
            if tl.overlaps("cert", t0, t1):
                ok.add("436")
        if cls == "R" and tl.overlaps("revoked", t0, t1, who):
            ok.add("403")
    if tl.overlaps("hook", t0, t1):
        ok.add("U")     # a query that failed: the claim dropped, the call goes on
    return ok


def is_breach(cls, who, t0, t1, result, tl):
    """A presentation that must never happen: someone else's ID, a denied claim, or
    an ID whose revocation was complete before the call started."""
    if result == "W":
        return True
    if result != "P":
        return False
    return cls == "D" or (cls == "R" and tl.covers("revoked", t0 - SLACK_S, t1 + SLACK_S, who))
