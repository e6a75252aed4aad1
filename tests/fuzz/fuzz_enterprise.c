/*
 * tpid_assert - libFuzzer target for the enterprise file and the avatar
 * repositories' file (tpid_enterprise_load_dir), with oracles: a file that
 * loads has unique domains of the identity grammar ("*" only where a
 * default is allowed), https API roots of the URL grammar and timeouts in
 * range; a refused one leaves the output untouched and says why.
 *
 * Input: one byte choosing the directory, then the file's bytes.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "tpid_enterprise.h"
#include "tpid_ident.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static char path[64];

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	tpid_enterprise_set_t set = {-7, NULL};
	char err[512];
	tpid_url_t u;
	FILE *f;
	int bars, i, j, rc;

	if(size < 1)
		return 0;
	bars = data[0] & 1;
	if(path[0] == '\0')
		snprintf(path, sizeof(path), "/dev/shm/fuzz_enterprise.%d.json",
				(int)getpid());
	f = fopen(path, "wb");
	if(f == NULL)
		return 0;
	fwrite(data + 1, 1, size - 1, f);
	fclose(f);
	err[0] = '\0';
	rc = tpid_enterprise_load_dir(
			path, bars ? "bars" : "enterprises", bars, &set, err, sizeof(err));
	if(rc < 0) {
		if(set.n != -7 || set.items != NULL || err[0] == '\0')
			abort();
		return 0;
	}
	for(i = 0; i < set.n; i++) {
		const tpid_enterprise_t *e = &set.items[i];
		if(!(bars && strcmp(e->domain, "*") == 0)
				&& !tpid_dns_name_ok(e->domain, strlen(e->domain)))
			abort();
		if(tpid_url_parse(e->api_root, strlen(e->api_root), &u) < 0
				|| e->connect_timeout_ms < 1 || e->timeout_ms < 1)
			abort();
		for(j = 0; j < i; j++) {
			if(strcmp(set.items[j].domain, e->domain) == 0)
				abort();
		}
	}
	tpid_enterprise_free(&set);
	return 0;
}
