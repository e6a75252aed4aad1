/*
 * tpid_assert - Kamailio glue: the trust boundary
 *
 * Only tpid_assert_orig() and tpid_assert_term() may let a third-party ID
 * through, and only one they signed or verified. Every other request (any
 * method, in-dialog or not) passes tpid_assert_strip(): whatever
 * presentation, claim or third-party token the network put in it goes.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include "core/dprint.h"

#include "tpid_assert_boundary.h"
#include "tpid_assert_cfg.h"
#include "tpid_assert_sip.h"

int tpid_strip(sip_msg_t *msg)
{
	int a, b, c, d, e, f;

	a = tpid_sip_remove_headers(msg, &tpid_cfg.present_header);
	b = tpid_sip_remove_headers(msg, &tpid_cfg.claim_header);
	c = tpid_sip_remove_identity(msg, TPID_PPT_THIRD_PARTY, 0);
	d = tpid_sip_remove_headers(msg, &tpid_cfg.avatar_present_header);
	e = tpid_sip_remove_headers(msg, &tpid_cfg.avatar_header);
	f = tpid_sip_remove_identity(msg, TPID_PPT_AVATAR, 0);
	if(a < 0 || b < 0 || c < 0 || d < 0 || e < 0 || f < 0)
		return -1;
	if(a + b + c + d + e + f > 0)
		LM_DBG("removed %d presentation, %d claim, %d Identity header(s) "
			   "of third-party IDs, %d, %d, %d of avatars\n",
				a, b, c, d, e, f);
	return a + b + c + d + e + f;
}
