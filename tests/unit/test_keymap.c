/*
 * tpid_assert - unit tests: the per-process map of parsed certificates
 * (generations, replacement, the probe bound, hostile URLs).
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include <openssl/evp.h>
#include <openssl/x509.h>

#include "tpid_keymap.h"
#include "tpid_passport.h"

/* A certificate object with a one-certificate chain (contents do not
 * matter here; ASan checks that every one is freed exactly once). */
static tpid_cert_t *cert(void)
{
	STACK_OF(X509) *chain = sk_X509_new_null();
	X509 *x = X509_new();
	tpid_cert_t *c;

	assert_non_null(chain);
	assert_non_null(x);
	assert_int_equal(sk_X509_push(chain, x) > 0, 1);
	c = tpid_cert_new(chain);
	assert_non_null(c);
	return c;
}

static void test_generations(void **state)
{
	tpid_keymap_t *m = tpid_keymap_new(16);
	tpid_cert_t *a = cert(), *b = cert();
	(void)state;

	assert_null(tpid_keymap_get(m, "https://a/x.pem", 1));
	assert_int_equal(tpid_keymap_put(m, "https://a/x.pem", 1, a), 0);
	assert_ptr_equal(tpid_keymap_get(m, "https://a/x.pem", 1), a);
	/* another generation: the bytes changed, parse again */
	assert_null(tpid_keymap_get(m, "https://a/x.pem", 2));
	assert_null(tpid_keymap_get(m, "https://a/x.pem2", 1));
	assert_int_equal(tpid_keymap_put(m, "https://a/x.pem", 2, b), 0);
	assert_ptr_equal(tpid_keymap_get(m, "https://a/x.pem", 2), b);
	assert_null(tpid_keymap_get(m, "https://a/x.pem", 1));
	assert_int_equal(tpid_keymap_count(m), 1);
	tpid_keymap_drop(m, "https://a/x.pem");
	assert_int_equal(tpid_keymap_count(m), 0);
	assert_null(tpid_keymap_get(m, "https://a/x.pem", 2));
	tpid_keymap_free(m);
}

static void test_bounds(void **state)
{
	tpid_keymap_t *m = tpid_keymap_new(4);
	char url[64], big[TPID_MAX_URI + 8];
	int i, found = 0;
	(void)state;

	assert_null(tpid_keymap_new(0));
	/* more URLs than slots: the map stays bounded, the newest are there */
	for(i = 0; i < 100; i++) {
		snprintf(url, sizeof(url), "https://h/%d.pem", i);
		assert_int_equal(tpid_keymap_put(m, url, 7, cert()), 0);
		assert_true(tpid_keymap_count(m) <= 4);
		assert_non_null(tpid_keymap_get(m, url, 7));
	}
	for(i = 0; i < 100; i++) {
		snprintf(url, sizeof(url), "https://h/%d.pem", i);
		found += tpid_keymap_get(m, url, 7) != NULL;
	}
	assert_int_equal(found, (int)tpid_keymap_count(m));
	/* hostile URLs: refused, the certificate freed */
	memset(big, 'a', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	assert_int_equal(tpid_keymap_put(m, big, 1, cert()), -1);
	assert_int_equal(tpid_keymap_put(m, "", 1, cert()), -1);
	assert_int_equal(tpid_keymap_put(m, NULL, 1, cert()), -1);
	assert_null(tpid_keymap_get(m, big, 1));
	assert_null(tpid_keymap_get(m, NULL, 1));
	tpid_keymap_drop(m, NULL);
	assert_int_equal(tpid_keymap_count(m), 0);
	tpid_keymap_free(m);
	tpid_keymap_free(NULL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
			cmocka_unit_test(test_generations),
			cmocka_unit_test(test_bounds),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
