# SPDX-License-Identifier: GPL-2.0-or-later
# tpid_assert - originating S-CSCF routing in Python (KEMI), loaded by
# orig-scscf-kemi.cfg. The same logic as orig-scscf.cfg: create the
# transaction, let tpid_assert_orig() suspend the INVITE while the
# enterprise is asked, relay in ksr_tpid_orig_done() either way.
import os

import KSR

NEXT_HOP = os.environ.get("TPID_NEXT_HOP", "sip:127.0.0.1:5070")


def mod_init():
    return kamailio()


class kamailio:
    def child_init(self, rank):
        return 0

    def ksr_request_route(self, msg):
        if KSR.maxfwd.process_maxfwd(10) < 0:
            KSR.sl.sl_send_reply(483, "Too Many Hops")
            return 1
        if KSR.is_INVITE() and KSR.siputils.has_totag() < 0:
            if KSR.tm.t_newtran() < 0:
                KSR.sl.sl_reply_error()
                return 1
            # 0: suspended, ksr_tpid_orig_done runs when the answer comes
            if KSR.tpid_assert.tpid_assert_orig("ksr_tpid_orig_done") == 0:
                return 1
            return self.ksr_tpid_orig_done(msg)
        # the trust boundary: any other request loses every third-party
        # presentation, claim and token the UE put in it
        if KSR.tpid_assert.tpid_assert_strip() < 0:
            # a header could not be removed: fail closed, not relayed
            if not KSR.is_ACK():
                KSR.sl.sl_send_reply(500, "Server Internal Error")
            return 1
        return self.relay()

    def ksr_tpid_orig_done(self, msg):
        KSR.info("tpid orig: call-id=%s result=%s reason=%s id=%s\n" % (
            KSR.pv.get("$ci"), KSR.pv.get("$tpid(result)"),
            KSR.pv.get("$tpid(reason_name)"), KSR.pv.get("$tpid(id)")))
        KSR.info("tpid orig avatar: call-id=%s result=%s reason=%s id=%s\n" % (
            KSR.pv.get("$ci"), KSR.pv.get("$tpid(avatar_result)"),
            KSR.pv.get("$tpid(avatar_reason_name)"), KSR.pv.get("$tpid(avatar_id)")))
        # -1: the module has already replied (policy "reject"), for the
        # third-party ID or for the avatar
        res, avres = KSR.pv.get("$tpid(result)"), KSR.pv.get("$tpid(avatar_result)")
        if res == -1 or avres == -1:
            return 1
        # -2, or no result: the module could not act on this INVITE (a reply
        # or a header edit failed): fail closed, nothing unchecked is relayed
        if res is None or res == -2 or avres == -2:
            KSR.tm.t_reply(500, "Server Internal Error")
            return 1
        return self.relay()

    # app_python3 calls these for every reply and every sent request
    def ksr_reply_route(self, msg):
        return 1

    def ksr_onsend_route(self, msg):
        return 1

    def relay(self):
        KSR.pv.sets("$du", NEXT_HOP)
        if KSR.tm.t_relay() < 0:
            KSR.sl.sl_reply_error()
        return 1
