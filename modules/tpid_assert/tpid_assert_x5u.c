/*
 * tpid_assert - Kamailio glue: certificates fetched from x5u
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include "core/dprint.h"

#include "tpid_assert_x5u.h"
#include "tpid_reason.h"

static void (*tpid_x5u_resumed)(sip_msg_t *msg, int fetch_reason) = NULL;

int tpid_x5u_mod_init(void (*resumed)(sip_msg_t *msg, int fetch_reason))
{
	tpid_x5u_resumed = resumed;
	return 0;
}

int tpid_x5u_key(const char *x5u, int64_t iat, EVP_PKEY **pub)
{
	(void)x5u;
	(void)iat;
	*pub = NULL;
	return TPID_R_CERT_UNAVAILABLE;
}

int tpid_x5u_suspend(
		sip_msg_t *msg, const char *x5u, int route, const str *cbname)
{
	return TPID_R_CERT_UNAVAILABLE;
}

void tpid_x5u_prefetch(const char *x5u)
{
}
