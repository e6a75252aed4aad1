/*
 * tpid_assert - the parsed certificates of one process, by x5u URL.
 *
 * The shared certificate cache (tpid_certcache.h) holds the PEM bytes as
 * fetched; parsing them and reading their claim constraints is done once
 * per process and kept here, tagged with the cache entry's generation: a
 * new generation (the bytes changed) means parse again. Bounded: an open
 * hash of size slots, a URL lives at one of its first TPID_KEYMAP_PROBES
 * slots; when they are all taken the oldest one is replaced.
 *
 * Plain C, process memory (malloc): no locks, one per process.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#ifndef TPID_KEYMAP_H
#define TPID_KEYMAP_H

#include <stdint.h>

#include "tpid_trust.h"

#define TPID_KEYMAP_PROBES 8

typedef struct tpid_keymap tpid_keymap_t;

/* size >= 1 slots. NULL on bad size or allocation failure. */
tpid_keymap_t *tpid_keymap_new(unsigned int size);
void tpid_keymap_free(tpid_keymap_t *m);

/* The certificate kept for url at generation gen, or NULL (absent, or of
 * another generation). Borrowed until the next put or free. */
const tpid_cert_t *tpid_keymap_get(
		tpid_keymap_t *m, const char *url, uint64_t gen);

/* Keeps cert (taken over in every case: freed on failure) for url at
 * generation gen, replacing url's former one or the oldest of its slots.
 * 0, or -1 (url NULL, empty or too long). */
int tpid_keymap_put(
		tpid_keymap_t *m, const char *url, uint64_t gen, tpid_cert_t *cert);

/* Drops url's entry, or all with url NULL. */
void tpid_keymap_drop(tpid_keymap_t *m, const char *url);

/* Entries kept. */
unsigned int tpid_keymap_count(const tpid_keymap_t *m);

#endif
