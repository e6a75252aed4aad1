/*
 * tpid_assert - the originating side's signing key: read strictly, and
 * checked against the certificate published for it.
 *
 * Plain C (OpenSSL 3), no Kamailio dependency.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#ifndef TPID_SIGNKEY_H
#define TPID_SIGNKEY_H

#include <stddef.h>
#include <openssl/evp.h>

#define TPID_SIGNKEY_MAX_PEM 16384 /* a key or certificate file, at most */

/* Reads a whole PEM file (at most TPID_SIGNKEY_MAX_PEM bytes) into buf,
 * NUL-terminated. Returns its length, or -1 with a reason in err. */
int tpid_signkey_read_file(
		const char *path, char *buf, size_t bufsize, char *err, size_t errsize);

/* Parses a PEM private key. An encrypted key is refused with a clear reason
 * (there is no passphrase prompt: a server must start unattended); so is
 * any key but EC P-256. Returns 0 with *out (free it), or -1 and err. */
int tpid_signkey_parse(
		const char *pem, size_t len, EVP_PKEY **out, char *err, size_t errsize);

/* Whether the first certificate in pem holds the public half of key.
 * 1 yes, 0 no (reason in err), -1 not a PEM certificate. */
int tpid_signkey_matches_cert(
		EVP_PKEY *key, const char *pem, size_t len, char *err, size_t errsize);

#endif
