/*
 * tpid_assert - the parsed certificates of one process, by x5u URL.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include <stdlib.h>
#include <string.h>

#include "tpid_keymap.h"
#include "tpid_passport.h"
#include "tpid_table.h"

typedef struct tpid_km_slot
{
	char url[TPID_MAX_URI]; /* "" when free */
	uint64_t gen;
	uint64_t stamp; /* insertion order */
	tpid_cert_t *cert;
} tpid_km_slot_t;

struct tpid_keymap
{
	unsigned int size, count;
	uint64_t clock;
	tpid_km_slot_t *slots;
};

tpid_keymap_t *tpid_keymap_new(unsigned int size)
{
	tpid_keymap_t *m;

	if(size < 1 || size > (1u << 20))
		return NULL;
	m = calloc(1, sizeof(*m));
	if(m == NULL)
		return NULL;
	m->slots = calloc(size, sizeof(*m->slots));
	if(m->slots == NULL) {
		free(m);
		return NULL;
	}
	m->size = size;
	return m;
}

static void tpid_km_clear(tpid_keymap_t *m, tpid_km_slot_t *s)
{
	if(s->url[0] == '\0')
		return;
	tpid_cert_free(s->cert);
	s->cert = NULL;
	s->url[0] = '\0';
	m->count--;
}

void tpid_keymap_free(tpid_keymap_t *m)
{
	if(m == NULL)
		return;
	tpid_keymap_drop(m, NULL);
	free(m->slots);
	free(m);
}

static int tpid_km_url_ok(const char *url)
{
	return url != NULL && url[0] != '\0'
		   && strnlen(url, TPID_MAX_URI) < TPID_MAX_URI;
}

/* The slot holding url, or NULL; *victim gets the slot to use for it. */
static tpid_km_slot_t *tpid_km_find(
		tpid_keymap_t *m, const char *url, tpid_km_slot_t **victim)
{
	unsigned int h = tpid_table_hash(0, url), i;
	tpid_km_slot_t *s, *v = NULL;

	for(i = 0; i < TPID_KEYMAP_PROBES && i < m->size; i++) {
		s = &m->slots[(h + i) % m->size];
		if(s->url[0] != '\0' && strcmp(s->url, url) == 0)
			return s;
		if(v == NULL
				|| (v->url[0] != '\0'
						&& (s->url[0] == '\0' || s->stamp < v->stamp)))
			v = s;
	}
	if(victim != NULL)
		*victim = v;
	return NULL;
}

const tpid_cert_t *tpid_keymap_get(
		tpid_keymap_t *m, const char *url, uint64_t gen)
{
	tpid_km_slot_t *s;

	if(!tpid_km_url_ok(url))
		return NULL;
	s = tpid_km_find(m, url, NULL);
	return s != NULL && s->gen == gen ? s->cert : NULL;
}

int tpid_keymap_put(
		tpid_keymap_t *m, const char *url, uint64_t gen, tpid_cert_t *cert)
{
	tpid_km_slot_t *s, *v = NULL;

	if(!tpid_km_url_ok(url)) {
		tpid_cert_free(cert);
		return -1;
	}
	s = tpid_km_find(m, url, &v);
	if(s == NULL)
		s = v;
	tpid_km_clear(m, s);
	memcpy(s->url, url, strlen(url) + 1);
	s->gen = gen;
	s->stamp = ++m->clock;
	s->cert = cert;
	m->count++;
	return 0;
}

void tpid_keymap_drop(tpid_keymap_t *m, const char *url)
{
	tpid_km_slot_t *s;
	unsigned int i;

	if(url == NULL) {
		for(i = 0; i < m->size; i++)
			tpid_km_clear(m, &m->slots[i]);
		return;
	}
	if(tpid_km_url_ok(url) && (s = tpid_km_find(m, url, NULL)) != NULL)
		tpid_km_clear(m, s);
}

unsigned int tpid_keymap_count(const tpid_keymap_t *m)
{
	return m->count;
}
