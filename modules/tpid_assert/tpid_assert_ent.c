/*
 * tpid_assert - Kamailio glue: the shared enterprise table and the shared
 * decision cache.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "core/dprint.h"
#include "core/locking.h"
#include "core/mem/shm_mem.h"

#include "tpid_assert_cfg.h"
#include "tpid_assert_ent.h"
#include "tpid_assert_shm.h"

/* The enterprise table (shared memory). */
typedef struct tpid_ent_shared
{
	gen_lock_t lock;
	int version;
	int n;
	tpid_enterprise_t *items; /* shm array of n */
} tpid_ent_shared_t;

tpid_cache_t *tpid_cache = NULL;
static tpid_ent_shared_t *tpid_sh = NULL;

/* ---- the enterprise table -------------------------------------------------- */

static int tpid_ent_publish(const tpid_enterprise_set_t *set)
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
	lock_get(&tpid_sh->lock);
	old = tpid_sh->items;
	old_n = tpid_sh->n;
	tpid_sh->items = items;
	tpid_sh->n = n;
	tpid_sh->version++;
	lock_release(&tpid_sh->lock);
	/* Answers from an enterprise that went away or changed are not kept. */
	if(tpid_cache != NULL) {
		for(i = 0; i < old_n; i++) {
			for(j = 0; j < n; j++) {
				if(strcmp(old[i].domain, items[j].domain) == 0)
					break;
			}
			if(j == n || memcmp(&old[i], &items[j], sizeof(old[i])) != 0)
				tpid_cache_evict(tpid_cache, NULL, NULL, old[i].domain);
		}
	}
	if(old != NULL)
		shm_free(old);
	return 0;
}

int tpid_ent_get(const char *domain, tpid_enterprise_t *out)
{
	int i, rc = -1;

	lock_get(&tpid_sh->lock);
	for(i = 0; i < tpid_sh->n; i++) {
		if(strcasecmp(tpid_sh->items[i].domain, domain) == 0) {
			*out = tpid_sh->items[i];
			rc = 0;
			break;
		}
	}
	lock_release(&tpid_sh->lock);
	return rc;
}

int tpid_ent_reload(const char *path, char *err, size_t errsize)
{
	tpid_enterprise_set_t set = {0, NULL};
	int rc;

	if(path == NULL) {
		snprintf(err, errsize, "no enterprise_file configured");
		return -1;
	}
	if(tpid_enterprise_load(path, &set, err, errsize) < 0)
		return -1;
	rc = tpid_ent_publish(&set);
	if(rc < 0)
		snprintf(err, errsize, "out of shared memory");
	tpid_enterprise_free(&set);
	return rc;
}

int tpid_ent_walk(void (*fn)(const tpid_enterprise_t *e, void *arg), void *arg)
{
	int i, n;

	lock_get(&tpid_sh->lock);
	n = tpid_sh->n;
	for(i = 0; fn != NULL && i < n; i++)
		fn(&tpid_sh->items[i], arg);
	lock_release(&tpid_sh->lock);
	return n;
}

int tpid_ent_version(void)
{
	return tpid_sh ? tpid_sh->version : 0;
}

int tpid_ent_mod_init(void)
{
	tpid_cache_ops_t ops;

	tpid_sh = shm_malloc(sizeof(*tpid_sh));
	if(tpid_sh == NULL) {
		SHM_MEM_ERROR;
		return -1;
	}
	memset(tpid_sh, 0, sizeof(*tpid_sh));
	lock_init(&tpid_sh->lock);

	if(tpid_shm_ops_new(tpid_cfg.cache_locks, &ops) < 0)
		return -1;
	/* stripes = the lock set size, a power of two (see mod_init) */
	tpid_cache = tpid_cache_new(&ops, tpid_cfg.cache_size, tpid_cfg.cache_locks,
			tpid_cfg.cache_size);
	if(tpid_cache == NULL) {
		LM_ERR("cannot create the decision cache\n");
		return -1;
	}
	return 0;
}
