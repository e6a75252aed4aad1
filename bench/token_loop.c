/*
 * token_loop - what one token costs the module besides its cryptography,
 * measured in-process.
 *
 * For a third-party token (ppt=rcd) and an avatar token (ppt=avatar) with
 * the values of the benchmark's calls, prints microseconds of CPU per call:
 *   <kind>_sign_us    tpid_passport_sign: JSON, base64url, ES256, header
 *   <kind>_check_us   tpid_passport_parse, tpid_passport_verify_sig and the
 *                     time, orig and dest checks (what term does per token)
 *   <kind>_es256_us   tpid_jose_es256_sign + tpid_jose_es256_verify over the
 *                     same signing input (the cryptography alone)
 *   <kind>_rest_us    sign + check - es256: the module's own work per token
 *
 * Usage: token_loop [seconds-per-measurement]   (default 2)
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
#include "tpid_passport.h"

static tpid_passport_t tok; /* large: off the stack */

/* What term does with one token. */
static int check(
		const char *hdr, const char *ppt, EVP_PKEY *key, const tpid_claims_t *c)
{
	return tpid_passport_parse(hdr, strlen(hdr), ppt, &tok) == TPID_OK
		   && tpid_passport_verify_sig(&tok, key) == TPID_OK
		   && tpid_passport_check_time(&tok.claims, c->iat, 60, 5) == TPID_OK
		   && tpid_passport_check_orig(&tok.claims, &c->orig) == TPID_OK
		   && tpid_passport_check_dest(&tok.claims, &c->dest[0]) == TPID_OK;
}

static int measure(
		const char *kind, const tpid_claims_t *c, EVP_PKEY *key, double secs)
{
	static char hdr[TPID_MAX_HDR_LEN];
	unsigned char rs[TPID_ES256_SIG_LEN];
	const char *si;
	size_t silen;
	double s, k, e1, e2;

	if(tpid_passport_sign(c, key, hdr, sizeof(hdr)) != TPID_OK
			|| !check(hdr, c->ppt, key, c)) {
		fprintf(stderr, "%s: the token does not pass\n", kind);
		return 1;
	}
	si = hdr;
	silen = strrchr(hdr, '.') - hdr;
	TIME_LOOP(secs, tpid_passport_sign(c, key, hdr, sizeof(hdr)) == TPID_OK, s);
	TIME_LOOP(secs, check(hdr, c->ppt, key, c), k);
	TIME_LOOP(secs, tpid_jose_es256_sign(key, si, silen, rs) == 0, e1);
	TIME_LOOP(secs, tpid_jose_es256_verify(key, si, silen, rs, sizeof(rs)) == 0,
			e2);
	printf("%s_bytes %zu\n", kind, strlen(hdr));
	printf("%s_sign_us %.2f\n%s_check_us %.2f\n", kind, s, kind, k);
	printf("%s_es256_us %.2f\n%s_rest_us %.2f\n", kind, e1 + e2, kind,
			s + k - e1 - e2);
	return 0;
}

int main(int argc, char **argv)
{
	double secs = argc > 1 ? atof(argv[1]) : 2.0;
	EVP_PKEY *key = EVP_EC_gen("P-256");
	tpid_claims_t t, a;

	if(key == NULL || secs <= 0) {
		fprintf(stderr, "usage: token_loop [seconds]\n");
		return 2;
	}
	/* the benchmark's calls (bench/uac.xml, the reference avatar) */
	memset(&t, 0, sizeof(t));
	strcpy(t.ppt, "rcd");
	strcpy(t.x5u, "https://cert.example.net/sign.pem");
	t.iat = (int64_t)time(NULL);
	t.orig.is_tn = 1;
	strcpy(t.orig.value, "4971112345001");
	t.ndest = 1;
	t.dest[0].is_tn = 1;
	strcpy(t.dest[0].value, "4961511234567");
	strcpy(t.name, "Alice Example");
	strcpy(t.id, "sip:alice.employee@acme.example");
	strcpy(t.iss, "acme.example");
	t.exp = t.iat + 300;
	a = t;
	strcpy(a.ppt, TPID_PPT_AVATAR);
	a.name[0] = a.id[0] = a.iss[0] = '\0';
	a.exp = 0;
	strcpy(a.aid, "alice-01");
	strcpy(a.bar, "https://127.0.0.1:8480/bar/v1/avatars/alice-01/"
				  "representation");
	strcpy(a.fmt, "model/gltf-binary");
	strcpy(a.digest, "sha256-47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=");
	if(measure("tpid", &t, key, secs) || measure("avatar", &a, key, secs))
		return 1;
	EVP_PKEY_free(key);
	tpid_jose_release();
	return 0;
}
