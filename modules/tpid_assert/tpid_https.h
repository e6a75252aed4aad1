/*
 * tpid_assert - one asynchronous HTTPS request engine (libcurl multi).
 *
 * Every outgoing request of the module (enterprise hook, x5u certificate
 * fetch, repository queries) runs here, under one set of hard rules: https
 * only, no redirects (a 3xx is a failure), peer and host verified against
 * the request's CA file, TLS 1.2 at least, no proxy, the CA file re-read for
 * every new connection (a reload takes effect without a restart), and an
 * address policy checked on the address actually connected to, after DNS.
 * Connections are reused across requests of one engine. Plain C.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#ifndef TPID_HTTPS_H
#define TPID_HTTPS_H

#include <stddef.h>

#define TPID_HTTPS_MAX_HEADERS 8  /* extra request header lines */
#define TPID_HTTPS_MAX_HDRVAL 256 /* captured response header values */
#define TPID_HTTPS_MAX_ERR 256	  /* curl's error text */

typedef enum tpid_https_method
{
	TPID_HTTPS_GET = 0,
	TPID_HTTPS_POST = 1
} tpid_https_method_t;

/* Result classes of a finished request. */
typedef enum tpid_https_class
{
	TPID_HTTPS_OK = 0,		/* status 200, body complete */
	TPID_HTTPS_CONNECT = 1, /* DNS, TCP, connection broken */
	TPID_HTTPS_TIMEOUT = 2, /* connect or total timeout */
	TPID_HTTPS_TLS = 3,		/* handshake, peer not verified, client cert */
	TPID_HTTPS_HTTP = 4,	/* any status but 200 (3xx included), not https */
	TPID_HTTPS_TOO_BIG = 5, /* body over max_body */
	TPID_HTTPS_ADDRESS = 6, /* address refused by the policy */
	TPID_HTTPS_INTERNAL = 7 /* out of memory, bad request */
} tpid_https_class_t;

/* A request. Everything is copied by tpid_https_add(). */
typedef struct tpid_https_req
{
	const char *url;  /* https://... */
	int method;		  /* tpid_https_method_t */
	const char *body; /* POST body (may be NULL for GET) */
	size_t body_len;
	const char *const *headers; /* nheaders full lines, "Name: value" */
	int nheaders;
	const char *ca_file;	 /* the only trust anchors (required) */
	const char *client_cert; /* NULL or "": no client certificate */
	const char *client_key;
	long connect_timeout_ms; /* > 0 */
	long timeout_ms;		 /* > 0, total */
	size_t max_body;		 /* response body cap, > 0 */
	int allow_private;		 /* 1: loopback/private/... addresses allowed */
} tpid_https_req_t;

/* A finished request. body is malloc()ed (NUL-terminated, body_len bytes);
 * release with tpid_https_result_clear(). Header values are "" when absent,
 * repeated (Cache-Control is joined), over-long, or holding control or
 * non-ASCII bytes. */
typedef struct tpid_https_result
{
	int cls; /* tpid_https_class_t */
	long status;
	char *body;
	size_t body_len;
	double elapsed_ms;
	char cache_control[TPID_HTTPS_MAX_HDRVAL];
	char expires[TPID_HTTPS_MAX_HDRVAL];
	char content_type[TPID_HTTPS_MAX_HDRVAL];
	char error[TPID_HTTPS_MAX_ERR]; /* curl's words, for logs */
} tpid_https_result_t;

typedef struct tpid_https tpid_https_t;

/* Process-wide libcurl init/cleanup; once per process, before any engine. */
int tpid_https_global_init(void);
void tpid_https_global_cleanup(void);

/* An engine; max_conns bounds the connection cache (0: curl's default). */
tpid_https_t *tpid_https_new(long max_conns);

/* At most n connections open to one host at once (0: no bound): more
 * requests wait in the engine for a free one, and the time they wait
 * counts against their timeout. A slow service is then not met with a new
 * TLS connection per request, and when its requests time out, not many are
 * torn down and set up again at once. 0 or -1. */
int tpid_https_set_host_limit(tpid_https_t *h, long n);

/* Aborts what is in flight (their user pointers are not reported). */
void tpid_https_free(tpid_https_t *h);

/* Starts req; user comes back with its result. 0, or -1 (nothing kept). */
int tpid_https_add(tpid_https_t *h, const tpid_https_req_t *req, void *user);

/* Waits up to timeout_ms for network activity or for extra_fd (-1: none)
 * to become readable, then drives the transfers. 0 or -1. */
int tpid_https_wait(
		tpid_https_t *h, int extra_fd, int timeout_ms, int *extra_ready);

/* A finished request: 1 with *user and *res filled, or 0 if none is. */
int tpid_https_next(tpid_https_t *h, void **user, tpid_https_result_t *res);

/* Frees res->body. */
void tpid_https_result_clear(tpid_https_result_t *res);

/* Requests in flight. */
int tpid_https_running(const tpid_https_t *h);

/* 1 if addr (a struct in_addr for AF_INET, in6_addr for AF_INET6, network
 * order) is a public unicast address; 0 for loopback, private, link-local,
 * CGNAT, unspecified, multicast, broadcast, reserved, and their IPv6
 * embeddings (mapped, compatible, NAT64, 6to4), or any other family. */
int tpid_https_addr_public(int family, const void *addr);

/* Stable upper-case name of a class, e.g. "TIMEOUT". */
const char *tpid_https_class_name(int cls);

#endif
