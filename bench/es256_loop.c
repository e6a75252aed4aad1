/*
 * es256_loop - the cryptographic floor of a call, measured in-process.
 *
 * Prints microseconds per operation for:
 *   floor:  EVP_PKEY_sign / EVP_PKEY_verify over a ready SHA-256 digest with
 *           contexts set up once (what `openssl speed ecdsap256` times);
 *   module: tpid_jose_es256_sign / tpid_jose_es256_verify over a signing
 *           input of a PASSporT's size (hashing, the r||s <-> DER form and
 *           whatever per-call set-up the module does included).
 *
 * Usage: es256_loop [seconds-per-measurement]   (default 2)
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

int main(int argc, char **argv)
{
	double secs = argc > 1 ? atof(argv[1]) : 2.0;
	EVP_PKEY *key = EVP_EC_gen("P-256");
	EVP_PKEY_CTX *sctx, *vctx;
	unsigned char dgst[32], der[80], rs[TPID_ES256_SIG_LEN];
	char tbs[640];
	size_t derlen = sizeof(der);
	double fs, fv, ms, mv;

	if(key == NULL || secs <= 0) {
		fprintf(stderr, "usage: es256_loop [seconds]\n");
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

	printf("floor_sign_us %.2f\nfloor_verify_us %.2f\n", fs, fv);
	printf("module_sign_us %.2f\nmodule_verify_us %.2f\n", ms, mv);
	printf("module_over_floor %.3f\n", (ms + mv) / (fs + fv));
	EVP_PKEY_CTX_free(sctx);
	EVP_PKEY_CTX_free(vctx);
	EVP_PKEY_free(key);
	return 0;
}
