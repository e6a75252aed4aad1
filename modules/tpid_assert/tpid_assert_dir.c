/*
 * tpid_assert - Kamailio glue: the directories of services (enterprises,
 * avatar repositories) and their decision caches.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "core/dprint.h"
#include "core/locking.h"
#include "core/mem/shm_mem.h"

#include "tpid_assert_dir.h"
#include "tpid_assert_shm.h"

/* A directory's table (shared memory). */
struct tpid_dir_shared
{
	gen_lock_t lock;
	int version;
	int n;
	tpid_enterprise_t *items; /* shm array of n */
};

tpid_dir_t tpid_ents = {"enterprise", "enterprises", 0, NULL, {0}, NULL};
tpid_dir_t tpid_bars = {"avatar repository", "bars", 1, NULL, {0}, NULL};

static int tpid_dir_publish(tpid_dir_t *d, const tpid_enterprise_set_t *set)
{
	tpid_enterprise_t *items = NULL, *old;
	int i, j, n = set->n, old_n;

	if(n > 0) {
		items = shm_malloc(n * sizeof(*items));
		if(items == NULL) {
			SHM_MEM_ERROR;
			return -1;
		}
		memcpy(items, set->items, n * sizeof(*items));
	}
	lock_get(&d->sh->lock);
	old = d->sh->items;
	old_n = d->sh->n;
	d->sh->items = items;
	d->sh->n = n;
	d->sh->version++;
	lock_release(&d->sh->lock);

	/* Answers from a service that went away or changed are not kept. */
	if(d->cache != NULL) {
		for(i = 0; i < old_n; i++) {
			for(j = 0; j < n; j++) {
				if(strcmp(old[i].domain, items[j].domain) == 0)
					break;
			}
			if(j == n || memcmp(&old[i], &items[j], sizeof(old[i])) != 0)
				tpid_cache_evict(d->cache, NULL, NULL, old[i].domain);
		}
	}
	if(old != NULL) {
		memset(old, 0, old_n * sizeof(*old)); /* no token left in freed shm */
		shm_free(old);
	}
	return 0;
}

int tpid_dir_get(tpid_dir_t *d, const char *domain, tpid_enterprise_t *out)
{
	int i, rc = -1, dflt = -1;

	lock_get(&d->sh->lock);
	for(i = 0; i < d->sh->n; i++) {
		if(domain != NULL && strcasecmp(d->sh->items[i].domain, domain) == 0) {
			*out = d->sh->items[i];
			rc = 0;
			break;
		}
		if(d->wildcard && strcmp(d->sh->items[i].domain, "*") == 0)
			dflt = i;
	}
	if(rc < 0 && dflt >= 0) {
		*out = d->sh->items[dflt];
		rc = 0;
	}
	lock_release(&d->sh->lock);
	return rc;
}

int tpid_dir_reload(tpid_dir_t *d, const char *path, char *err, size_t errsize)
{
	tpid_enterprise_set_t set = {0, NULL};
	int rc;

	if(path == NULL) {
		snprintf(err, errsize, "no %s file configured", d->what);
		return -1;
	}
	if(tpid_enterprise_load_dir(
			   path, d->file_key, d->wildcard, &set, err, errsize)
			< 0)
		return -1;
	rc = tpid_dir_publish(d, &set);
	if(rc < 0)
		snprintf(err, errsize, "out of shared memory");
	tpid_enterprise_free(&set);
	return rc;
}

int tpid_dir_walk(tpid_dir_t *d,
		void (*fn)(const tpid_enterprise_t *e, void *arg), void *arg)
{
	int i, n;

	lock_get(&d->sh->lock);
	n = d->sh->n;
	for(i = 0; fn != NULL && i < n; i++)
		fn(&d->sh->items[i], arg);
	lock_release(&d->sh->lock);
	return n;
}

int tpid_dir_version(const tpid_dir_t *d)
{
	return d->sh ? d->sh->version : 0;
}

int tpid_dir_init(tpid_dir_t *d, int cache_size, int cache_locks)
{
	d->sh = shm_malloc(sizeof(*d->sh));
	if(d->sh == NULL) {
		SHM_MEM_ERROR;
		return -1;
	}
	memset(d->sh, 0, sizeof(*d->sh));
	if(lock_init(&d->sh->lock) == NULL) {
		LM_ERR("cannot initialise the %s directory lock\n", d->what);
		return -1;
	}
	if(tpid_shm_ops_new(cache_locks, &d->ops) < 0)
		return -1;
	/* stripes = the lock set size, a power of two (see mod_init) */
	d->cache = tpid_cache_new(&d->ops, cache_size, cache_locks, cache_size);
	if(d->cache == NULL) {
		LM_ERR("cannot create the %s decision cache\n", d->what);
		return -1;
	}
	/* A decision this close to its end is asked again rather than signed
	 * into a token that may expire before the terminating side sees it. */
	tpid_cache_set_min_life(d->cache, TPID_DIR_MIN_LIFE);
	return 0;
}

void tpid_dir_destroy(tpid_dir_t *d)
{
	unsigned int n;

	/* At exit a big cache is left to the shared memory, which goes with
	 * the processes: freeing a million entries one by one kept Kamailio
	 * over a minute in q_malloc's free (bench/README.md, (m)). A small one
	 * is freed, so that a shutdown memory report names no leak. */
	if(d->cache != NULL) {
		n = tpid_cache_count(d->cache);
		if(n <= TPID_DIR_FREE_MAX)
			tpid_cache_destroy(d->cache);
		else
			LM_INFO("%s decision cache: %u entries left to the exit\n", d->what,
					n);
		d->cache = NULL;
	}
	tpid_shm_ops_destroy(&d->ops);
	if(d->sh != NULL) {
		if(d->sh->items != NULL) {
			/* no token left in freed shm */
			memset(d->sh->items, 0, d->sh->n * sizeof(*d->sh->items));
			shm_free(d->sh->items);
		}
		lock_destroy(&d->sh->lock);
		shm_free(d->sh);
		d->sh = NULL;
	}
}
