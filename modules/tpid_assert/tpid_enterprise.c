/*
 * tpid_assert - the enterprise table: loading, lookup, ID domains.
 *
 * The file is operator input that decides who may vouch for whom, so it is
 * validated strictly: unknown keys are refused (a typo must not silently
 * drop a CA or a client certificate) and every file it names is checked
 * when it is loaded, not on the first call.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include "tpid_enterprise.h"
#include "tpid_ident.h"

#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include <jansson.h>

#define TPID_DEF_CONNECT_TIMEOUT_MS 500
#define TPID_DEF_TIMEOUT_MS 2000
#define TPID_MAX_CONNECT_TIMEOUT_MS 60000
#define TPID_MAX_TIMEOUT_MS 120000
#define TPID_MAX_TTL_CAP 86400

static const char *const tpid_ent_keys[] = {"domain", "api_root", "ca_file",
		"client_cert", "client_key", "bearer_token_file", "connect_timeout_ms",
		"timeout_ms", "ttl_cap", "allow_private_address", NULL};

/* Error context: the file, and the entry once we are inside one. */
typedef struct tpid_ent_ctx
{
	const char *label; /* the parameter naming the file */
	int wildcard;	   /* a "*" domain is allowed */
	const char *path;
	int index;			/* 1-based entry number, 0 outside entries */
	const char *domain; /* once known */
	char *err;
	size_t errsize;
} tpid_ent_ctx_t;

static void tpid_ent_err(const tpid_ent_ctx_t *c, const char *fmt, ...)
		__attribute__((format(printf, 2, 3)));

static void tpid_ent_err(const tpid_ent_ctx_t *c, const char *fmt, ...)
{
	va_list ap;
	int n = 0;

	if(c == NULL || c->err == NULL || c->errsize == 0)
		return;
	if(c->index > 0 && c->domain != NULL)
		n = snprintf(c->err, c->errsize, "%s %s: entry %d (%s): ", c->label,
				c->path, c->index, c->domain);
	else if(c->index > 0)
		n = snprintf(c->err, c->errsize, "%s %s: entry %d: ", c->label, c->path,
				c->index);
	else
		n = snprintf(c->err, c->errsize, "%s %s: ", c->label, c->path);
	if(n < 0 || (size_t)n >= c->errsize)
		return;
	va_start(ap, fmt);
	vsnprintf(c->err + n, c->errsize - (size_t)n, fmt, ap);
	va_end(ap);
}

/* Readable regular file: access() alone would accept a directory. */
static int tpid_ent_readable(const char *file)
{
	struct stat st;

	if(access(file, R_OK) != 0)
		return 0;
	if(stat(file, &st) != 0 || !S_ISREG(st.st_mode))
		return 0;
	return 1;
}

/* Optional string member; 0 absent, 1 copied, -1 error reported. */
static int tpid_ent_str(const tpid_ent_ctx_t *c, json_t *obj, const char *key,
		char *dst, size_t dstsize)
{
	json_t *v = json_object_get(obj, key);
	const char *s;
	size_t len;

	if(v == NULL)
		return 0;
	if(!json_is_string(v)) {
		tpid_ent_err(c, "%s must be a string", key);
		return -1;
	}
	s = json_string_value(v);
	len = json_string_length(v);
	if(len == 0 || strlen(s) != len) {
		tpid_ent_err(c, "%s must be a non-empty string", key);
		return -1;
	}
	if(len >= dstsize) {
		tpid_ent_err(c, "%s too long (max %zu bytes)", key, dstsize - 1);
		return -1;
	}
	memcpy(dst, s, len + 1);
	return 1;
}

/* Optional file-name member that must name a readable file. */
static int tpid_ent_file(const tpid_ent_ctx_t *c, json_t *obj, const char *key,
		char *dst, size_t dstsize)
{
	int rc = tpid_ent_str(c, obj, key, dst, dstsize);

	if(rc == 1 && !tpid_ent_readable(dst)) {
		tpid_ent_err(c, "%s '%s' not readable", key, dst);
		return -1;
	}
	return rc;
}

/* Optional integer member within [min, max]; def when absent. */
static int tpid_ent_int(const tpid_ent_ctx_t *c, json_t *obj, const char *key,
		long min, long max, long def, long *out)
{
	json_t *v = json_object_get(obj, key);
	json_int_t i;

	if(v == NULL) {
		*out = def;
		return 0;
	}
	if(!json_is_integer(v)) {
		tpid_ent_err(c, "%s must be an integer", key);
		return -1;
	}
	i = json_integer_value(v);
	if(i < min || i > max) {
		tpid_ent_err(c, "%s %lld out of range %ld..%ld", key, (long long)i, min,
				max);
		return -1;
	}
	*out = (long)i;
	return 0;
}

/* An optional boolean: 1/0 into *out, def when absent. 0 or -1. */
static int tpid_ent_bool(const tpid_ent_ctx_t *c, json_t *obj, const char *key,
		int def, int *out)
{
	json_t *v = json_object_get(obj, key);

	if(v == NULL) {
		*out = def;
		return 0;
	}
	if(!json_is_boolean(v)) {
		tpid_ent_err(c, "%s must be true or false", key);
		return -1;
	}
	*out = json_is_true(v);
	return 0;
}

/* A domain of the one identity grammar, short enough for the table; "*"
 * where the file may name a default entry. */
static int tpid_ent_domain_ok(const tpid_ent_ctx_t *c, const char *d)
{
	if(c->wildcard && strcmp(d, "*") == 0)
		return 1;
	size_t len = strlen(d);

	return len < TPID_MAX_DOMAIN && tpid_dns_name_ok(d, len);
}

/* The token goes into an HTTP header: trailing whitespace (the newline an
 * editor adds) is dropped, any other control character refused. */
static int tpid_ent_token(
		const tpid_ent_ctx_t *c, const char *file, char *dst, size_t dstsize)
{
	char buf[TPID_MAX_TOKEN * 4];
	size_t n, i;
	FILE *f;
	int big;

	f = fopen(file, "r");
	if(f == NULL) {
		tpid_ent_err(c, "bearer_token_file '%s' not readable: %s", file,
				strerror(errno));
		return -1;
	}
	n = fread(buf, 1, sizeof(buf), f);
	big = (n == sizeof(buf) && fgetc(f) != EOF);
	if(ferror(f)) {
		fclose(f);
		tpid_ent_err(c, "bearer_token_file '%s' read error", file);
		return -1;
	}
	fclose(f);
	if(big) {
		tpid_ent_err(c, "bearer_token_file '%s': token too long (max %d bytes)",
				file, TPID_MAX_TOKEN - 1);
		return -1;
	}
	while(n > 0 && isspace((unsigned char)buf[n - 1]))
		n--;
	if(n == 0) {
		tpid_ent_err(c, "bearer_token_file '%s' is empty", file);
		return -1;
	}
	if(n >= dstsize) {
		tpid_ent_err(c,
				"bearer_token_file '%s': token too long (max %zu bytes)", file,
				dstsize - 1);
		return -1;
	}
	for(i = 0; i < n; i++) {
		unsigned char ch = (unsigned char)buf[i];
		if(ch < 0x20 || ch == 0x7f) {
			tpid_ent_err(c,
					"bearer_token_file '%s': control character in token", file);
			return -1;
		}
	}
	memcpy(dst, buf, n);
	dst[n] = '\0';
	return 0;
}

static int tpid_ent_parse_entry(tpid_ent_ctx_t *c, json_t *obj,
		tpid_enterprise_t *e, const tpid_enterprise_t *prev, int nprev)
{
	char tokfile[TPID_MAX_PATH];
	const char *key;
	json_t *v;
	tpid_url_t url;
	size_t i, len;
	int rc, rk, j;

	memset(e, 0, sizeof(*e));
	if(!json_is_object(obj)) {
		tpid_ent_err(c, "not an object");
		return -1;
	}

	/* the domain first (quietly), so that later messages can name it */
	rc = tpid_ent_str(NULL, obj, "domain", e->domain, sizeof(e->domain));
	if(rc == 1) {
		for(i = 0; e->domain[i]; i++)
			e->domain[i] = (char)tolower((unsigned char)e->domain[i]);
		if(tpid_ent_domain_ok(c, e->domain))
			c->domain = e->domain;
	}

	/* unknown keys before anything else: "domian" must read as a typo,
	 * not as "domain missing" */
	json_object_foreach(obj, key, v)
	{
		for(j = 0; tpid_ent_keys[j] != NULL; j++) {
			if(strcmp(key, tpid_ent_keys[j]) == 0)
				break;
		}
		if(tpid_ent_keys[j] == NULL) {
			tpid_ent_err(c, "unknown key '%s'", key);
			return -1;
		}
	}

	rc = tpid_ent_str(c, obj, "domain", e->domain, sizeof(e->domain));
	if(rc < 0)
		return -1;
	if(rc == 0) {
		tpid_ent_err(c, "domain missing");
		return -1;
	}
	for(i = 0; e->domain[i]; i++)
		e->domain[i] = (char)tolower((unsigned char)e->domain[i]);
	if(!tpid_ent_domain_ok(c, e->domain)) {
		tpid_ent_err(c,
				"domain '%s' invalid (a DNS name of at most %d chars: labels "
				"of a-z 0-9 -, no empty label, TLD not all digits)",
				e->domain, TPID_MAX_DOMAIN - 1);
		return -1;
	}
	c->domain = e->domain;

	for(j = 0; j < nprev; j++) {
		if(strcmp(prev[j].domain, e->domain) == 0) {
			tpid_ent_err(c, "duplicate domain (also entry %d)", j + 1);
			return -1;
		}
	}

	rc = tpid_ent_str(c, obj, "api_root", e->api_root, sizeof(e->api_root));
	if(rc < 0)
		return -1;
	if(rc == 0) {
		tpid_ent_err(c, "api_root missing");
		return -1;
	}
	len = strlen(e->api_root);
	if(len <= 8 || strncasecmp(e->api_root, "https://", 8) != 0) {
		tpid_ent_err(c, "api_root '%s' must be an https:// URL", e->api_root);
		return -1;
	}
	if(e->api_root[len - 1] == '/')
		e->api_root[--len] = '\0';
	if(tpid_url_parse(e->api_root, len, &url) < 0) {
		tpid_ent_err(c,
				"api_root must be https://host[:port][/path] (no userinfo, "
				"query, fragment, dot segment, blank or control)");
		return -1;
	}

	rc = tpid_ent_file(c, obj, "ca_file", e->ca_file, sizeof(e->ca_file));
	if(rc < 0)
		return -1;
	if(rc == 0) {
		tpid_ent_err(c, "ca_file missing");
		return -1;
	}

	rc = tpid_ent_file(
			c, obj, "client_cert", e->client_cert, sizeof(e->client_cert));
	if(rc < 0)
		return -1;
	rk = tpid_ent_file(
			c, obj, "client_key", e->client_key, sizeof(e->client_key));
	if(rk < 0)
		return -1;
	if(rc != rk) {
		tpid_ent_err(c, "client_cert and client_key go together");
		return -1;
	}

	rc = tpid_ent_str(c, obj, "bearer_token_file", tokfile, sizeof(tokfile));
	if(rc < 0)
		return -1;
	if(rc == 1
			&& tpid_ent_token(
					   c, tokfile, e->bearer_token, sizeof(e->bearer_token))
					   < 0)
		return -1;

	if(tpid_ent_int(c, obj, "connect_timeout_ms", 1,
			   TPID_MAX_CONNECT_TIMEOUT_MS, TPID_DEF_CONNECT_TIMEOUT_MS,
			   &e->connect_timeout_ms)
			< 0)
		return -1;
	if(tpid_ent_int(c, obj, "timeout_ms", 1, TPID_MAX_TIMEOUT_MS,
			   TPID_DEF_TIMEOUT_MS, &e->timeout_ms)
			< 0)
		return -1;
	if(e->timeout_ms < e->connect_timeout_ms) {
		tpid_ent_err(c, "timeout_ms %ld below connect_timeout_ms %ld",
				e->timeout_ms, e->connect_timeout_ms);
		return -1;
	}
	{
		long cap;
		if(tpid_ent_int(c, obj, "ttl_cap", 0, TPID_MAX_TTL_CAP, 0, &cap) < 0)
			return -1;
		e->ttl_cap = (int)cap;
	}
	return tpid_ent_bool(
			c, obj, "allow_private_address", 1, &e->allow_private_address);
}

int tpid_enterprise_load(
		const char *path, tpid_enterprise_set_t *out, char *err, size_t errsize)
{
	return tpid_enterprise_load_dir(path, "enterprises", 0, out, err, errsize);
}

/* The parameter that names a file, for its messages, by its top-level key. */
static const char *tpid_ent_label(const char *file_key)
{
	if(strcmp(file_key, "enterprises") == 0)
		return "enterprise_file";
	if(strcmp(file_key, "ms") == 0)
		return "ms_file";
	return "bar_file";
}

int tpid_enterprise_load_dir(const char *path, const char *file_key,
		int wildcard, tpid_enterprise_set_t *out, char *err, size_t errsize)
{
	tpid_ent_ctx_t c = {tpid_ent_label(file_key), wildcard,
			path ? path : "(null)", 0, NULL, err, errsize};
	tpid_enterprise_t *items = NULL;
	json_error_t jerr;
	json_t *root, *arr;
	const char *key;
	json_t *v;
	size_t i, n;

	if(err != NULL && errsize > 0)
		err[0] = '\0';
	if(path == NULL || out == NULL) {
		tpid_ent_err(&c, "no file given");
		return -1;
	}
	root = json_load_file(path, JSON_REJECT_DUPLICATES, &jerr);
	if(root == NULL) {
		if(jerr.line > 0)
			tpid_ent_err(&c, "line %d column %d: %s", jerr.line, jerr.column,
					jerr.text);
		else
			tpid_ent_err(&c, "%s", jerr.text);
		return -1;
	}
	if(!json_is_object(root)) {
		tpid_ent_err(&c, "top level must be an object");
		goto error;
	}
	json_object_foreach(root, key, v)
	{
		if(strcmp(key, file_key) != 0) {
			tpid_ent_err(&c, "unknown key '%s'", key);
			goto error;
		}
	}
	arr = json_object_get(root, file_key);
	if(!json_is_array(arr)) {
		tpid_ent_err(&c, "\"%s\" array missing", file_key);
		goto error;
	}
	n = json_array_size(arr);
	if(n > 100000) {
		tpid_ent_err(&c, "too many entries");
		goto error;
	}
	if(n > 0) {
		items = calloc(n, sizeof(*items));
		if(items == NULL) {
			tpid_ent_err(&c, "out of memory");
			goto error;
		}
	}
	for(i = 0; i < n; i++) {
		c.index = (int)i + 1;
		c.domain = NULL;
		if(tpid_ent_parse_entry(
				   &c, json_array_get(arr, i), &items[i], items, (int)i)
				< 0)
			goto error;
	}
	json_decref(root);
	out->n = (int)n;
	out->items = items;
	return 0;

error:
	if(items != NULL) {
		memset(items, 0, n * sizeof(*items)); /* no token left in freed heap */
		free(items);
	}
	json_decref(root);
	return -1;
}

void tpid_enterprise_free(tpid_enterprise_set_t *set)
{
	if(set == NULL)
		return;
	if(set->items != NULL) {
		memset(set->items, 0, (size_t)set->n * sizeof(*set->items));
		free(set->items);
	}
	set->items = NULL;
	set->n = 0;
}

const tpid_enterprise_t *tpid_enterprise_find(
		const tpid_enterprise_set_t *set, const char *domain, size_t len)
{
	int i;

	if(set == NULL || domain == NULL || len == 0 || len >= TPID_MAX_DOMAIN)
		return NULL;
	for(i = 0; i < set->n; i++) {
		const tpid_enterprise_t *e = &set->items[i];
		if(strlen(e->domain) == len && strncasecmp(e->domain, domain, len) == 0
				&& memchr(domain, '\0', len) == NULL)
			return e;
	}
	return NULL;
}

int tpid_id_domain(const char *id, size_t len, char *out, size_t outsize)
{
	tpid_uri_t u;
	size_t n;

	if(id == NULL || out == NULL || outsize == 0
			|| tpid_uri_from_text(id, len, &u) < 0 || u.scheme == TPID_URI_TEL
			|| u.user[0] == '\0')
		return -1;
	n = strlen(u.host);
	if(n >= outsize)
		return -1;
	memcpy(out, u.host, n + 1);
	return 0;
}
