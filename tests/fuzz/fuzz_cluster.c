/*
 * tpid_assert - libFuzzer target for the cluster's messages
 * (tpid_cluster_decode), what a DMQ peer sends. Oracles: a refused message
 * leaves nothing behind (the message zeroed); an accepted one encodes again
 * and decodes to the same message.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "tpid_cluster.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static tpid_cluster_msg_t m, again, zero;
static char buf[TPID_CLUSTER_MAX_BODY + 1];

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	memset(&m, 0xa5, sizeof(m));
	if(tpid_cluster_decode((const char *)data, size, &m) < 0) {
		if(memcmp(&m, &zero, sizeof(m)) != 0)
			abort();
		return 0;
	}
	if(tpid_cluster_encode(&m, buf, sizeof(buf)) < 0
			|| tpid_cluster_decode(buf, strlen(buf), &again) < 0
			|| memcmp(&m, &again, sizeof(m)) != 0)
		abort();
	return 0;
}
