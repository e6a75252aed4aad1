/*
 * es256_loop - the cryptographic floor of a call, measured in-process.
 *
 * Prints microseconds per operation for:
 *   floor:  EVP_PKEY_sign / EVP_PKEY_verify over a ready SHA-256 digest with
 *           contexts set up once (what `openssl speed ecdsap256` times);
 *   module: tpid_jose_es256_sign / tpid_jose_es256_verify over a signing
 *           input of a PASSporT's size (hashing, the r||s <-> DER form and
 *           whatever per-call set-up the module does included);
 *   cold:   the module's sign and verify again, with the caches evicted
 *           before each operation (EVICT_MB of memory written, 64 MB: more
 *           than this machine's last-level cache), the median of single
 *           operations. A proxy signs or verifies once per call, between
 *           other work that has taken the caches over; the loops above run
 *           with OpenSSL's code, tables and contexts always cached.
 *
 * Usage: es256_loop [seconds-per-measurement [EVICT_MB]]   (default 2, 64)
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/ec.h>
#include <openssl/evp.h>

#include "cpu_loop.h"
#include "tpid_jose.h"

#define COLD_MAX_OPS 4096

static volatile unsigned char evict_sink;

/* Writes one byte per cache line of buf: what was cached before is gone. */
static void evict(unsigned char *buf, size_t len)
{
	for(size_t i = 0; i < len; i += 64)
		buf[i]++;
	evict_sink = buf[len / 2];
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

/* The module's sign and verify, each after an eviction, until `secs` of
 * wall time have passed: the median microseconds of each into *s and *v.
 * 0, or 1 on a failure. */
static int cold_pair(EVP_PKEY *key, const char *tbs, size_t tbslen, double secs,
		size_t evict_len, double *s, double *v)
{
	static double ts[COLD_MAX_OPS], tv[COLD_MAX_OPS];
	unsigned char rs[TPID_ES256_SIG_LEN];
	unsigned char *buf = malloc(evict_len);
	double end = mono_s() + secs, t;
	int n = 0, failed = 0;

	if(buf == NULL)
		return 1;
	memset(buf, 1, evict_len);
	while(n < COLD_MAX_OPS && (n < 16 || mono_s() < end)) {
		evict(buf, evict_len);
		t = mono_s();
		if(tpid_jose_es256_sign(key, tbs, tbslen, rs) != 0) {
			failed = 1;
			break;
		}
		ts[n] = (mono_s() - t) * 1e6;
		evict(buf, evict_len);
		t = mono_s();
		if(tpid_jose_es256_verify(key, tbs, tbslen, rs, sizeof(rs)) != 0) {
			failed = 1;
			break;
		}
		tv[n++] = (mono_s() - t) * 1e6;
	}
	free(buf);
	if(failed || n < 16)
		return 1;
	qsort(ts, n, sizeof(ts[0]), cmp_double);
	qsort(tv, n, sizeof(tv[0]), cmp_double);
	*s = ts[n / 2];
	*v = tv[n / 2];
	return 0;
}

int main(int argc, char **argv)
{
	double secs = argc > 1 ? atof(argv[1]) : 2.0;
	double evict_mb = argc > 2 ? atof(argv[2]) : 64.0;
	EVP_PKEY *key = EVP_EC_gen("P-256");
	EVP_PKEY_CTX *sctx, *vctx;
	unsigned char dgst[32], der[80], rs[TPID_ES256_SIG_LEN];
	char tbs[640];
	size_t derlen = sizeof(der);
	double fs, fv, ms, mv, cs, cv;

	if(key == NULL || secs <= 0 || evict_mb < 1 || evict_mb > 4096) {
		fprintf(stderr, "usage: es256_loop [seconds [evict-MB]]\n");
		return 2;
	}
	/* a signing input of a third-party PASSporT's size, base64url chars */
	for(size_t i = 0; i < sizeof(tbs); i++)
		tbs[i] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz-_"[i
																		  % 54];
	tbs[300] = '.';
	if(EVP_Digest(tbs, sizeof(tbs), dgst, NULL, EVP_sha256(), NULL) != 1)
		return 1;

	sctx = EVP_PKEY_CTX_new_from_pkey(NULL, key, NULL);
	vctx = EVP_PKEY_CTX_new_from_pkey(NULL, key, NULL);
	if(sctx == NULL || vctx == NULL || EVP_PKEY_sign_init(sctx) != 1
			|| EVP_PKEY_verify_init(vctx) != 1
			|| EVP_PKEY_sign(sctx, der, &derlen, dgst, sizeof(dgst)) != 1)
		return 1;

	TIME_LOOP(secs,
			(derlen = sizeof(der),
					EVP_PKEY_sign(sctx, der, &derlen, dgst, sizeof(dgst)) == 1),
			fs);
	TIME_LOOP(secs, EVP_PKEY_verify(vctx, der, derlen, dgst, sizeof(dgst)) == 1,
			fv);
	TIME_LOOP(secs, tpid_jose_es256_sign(key, tbs, sizeof(tbs), rs) == 0, ms);
	TIME_LOOP(secs,
			tpid_jose_es256_verify(key, tbs, sizeof(tbs), rs, sizeof(rs)) == 0,
			mv);

	if(cold_pair(key, tbs, sizeof(tbs), secs, (size_t)(evict_mb * 1048576.0),
			   &cs, &cv)
			!= 0) {
		fprintf(stderr, "cold sign/verify failed\n");
		return 1;
	}

	printf("floor_sign_us %.2f\nfloor_verify_us %.2f\n", fs, fv);
	printf("module_sign_us %.2f\nmodule_verify_us %.2f\n", ms, mv);
	printf("module_over_floor %.3f\n", (ms + mv) / (fs + fv));
	printf("cold_evict_mb %.0f\ncold_sign_us %.2f\ncold_verify_us %.2f\n",
			evict_mb, cs, cv);
	printf("cold_over_floor %.3f\n", (cs + cv) / (fs + fv));
	EVP_PKEY_CTX_free(sctx);
	EVP_PKEY_CTX_free(vctx);
	EVP_PKEY_free(key);
	return 0;
}
