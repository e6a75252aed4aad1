/*
 * tpid_assert - one asynchronous HTTPS request engine (libcurl multi).
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include "tpid_https.h"

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <curl/curl.h>

static int tpid_https_inited = 0;

/* ---- address policy ------------------------------------------------------ */

typedef struct tpid_https_net
{
	unsigned char a[16];
	int bits;
} tpid_https_net_t;

/* IPv4 ranges that are not public unicast. */
static const tpid_https_net_t tpid_https_v4_refused[] = {
		{{0, 0, 0, 0}, 8},		 /* "this network", unspecified */
		{{10, 0, 0, 0}, 8},		 /* private */
		{{100, 64, 0, 0}, 10},	 /* CGNAT */
		{{127, 0, 0, 0}, 8},	 /* loopback */
		{{169, 254, 0, 0}, 16},	 /* link-local, cloud metadata */
		{{172, 16, 0, 0}, 12},	 /* private */
		{{192, 0, 0, 0}, 24},	 /* IETF protocol assignments */
		{{192, 0, 2, 0}, 24},	 /* documentation */
		{{192, 168, 0, 0}, 16},	 /* private */
		{{198, 18, 0, 0}, 15},	 /* benchmarking */
		{{198, 51, 100, 0}, 24}, /* documentation */
		{{203, 0, 113, 0}, 24},	 /* documentation */
		{{224, 0, 0, 0}, 4},	 /* multicast */
		{{240, 0, 0, 0}, 4},	 /* reserved, broadcast */
};

/* IPv6 ranges that are not public unicast. */
static const tpid_https_net_t tpid_https_v6_refused[] = {
		{{0}, 96}, /* unspecified, loopback, IPv4-compatible */
		{{0x00, 0x64, 0xff, 0x9b, 0x00, 0x01}, 48}, /* local-use NAT64 */
		{{0x01, 0x00}, 64},							/* discard */
		{{0x20, 0x01, 0x00, 0x00}, 32},				/* Teredo */
		{{0x20, 0x01, 0x0d, 0xb8}, 32},				/* documentation */
		{{0xfc}, 7},								/* unique local */
		{{0xfe, 0x80}, 10},							/* link-local */
		{{0xfe, 0xc0}, 10},							/* site-local */
		{{0xff}, 8},								/* multicast */
};

/* IPv6 forms that carry an IPv4 address: judged by that address. */
typedef struct tpid_https_embed
{
	tpid_https_net_t net;
	int off; /* byte offset of the IPv4 address */
} tpid_https_embed_t;

static const tpid_https_embed_t tpid_https_v6_embed[] = {
		{{{0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff}, 96}, 12}, /* mapped */
		{{{0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 0, 0}, 96}, 12}, /* translated */
		{{{0x00, 0x64, 0xff, 0x9b}, 96}, 12},					/* NAT64 */
		{{{0x20, 0x02}, 16}, 2},								/* 6to4 */
};

#define TPID_NELEM(a) (sizeof(a) / sizeof((a)[0]))

static int tpid_https_in_net(const unsigned char *a, const tpid_https_net_t *n)
{
	int full = n->bits / 8, rest = n->bits % 8;
	unsigned char mask;

	if(memcmp(a, n->a, full) != 0)
		return 0;
	if(rest == 0)
		return 1;
	mask = (unsigned char)(0xff << (8 - rest));
	return (a[full] & mask) == (n->a[full] & mask);
}

static int tpid_https_v4_public(const unsigned char *a)
{
	size_t i;

	for(i = 0; i < TPID_NELEM(tpid_https_v4_refused); i++)
		if(tpid_https_in_net(a, &tpid_https_v4_refused[i]))
			return 0;
	return 1;
}

static int tpid_https_v6_public(const unsigned char *a)
{
	size_t i;

	for(i = 0; i < TPID_NELEM(tpid_https_v6_embed); i++)
		if(tpid_https_in_net(a, &tpid_https_v6_embed[i].net))
			return tpid_https_v4_public(a + tpid_https_v6_embed[i].off);
	for(i = 0; i < TPID_NELEM(tpid_https_v6_refused); i++)
		if(tpid_https_in_net(a, &tpid_https_v6_refused[i]))
			return 0;
	return 1;
}

int tpid_https_addr_public(int family, const void *addr)
{
	if(addr == NULL)
		return 0;
	if(family == AF_INET)
		return tpid_https_v4_public(addr);
	if(family == AF_INET6)
		return tpid_https_v6_public(addr);
	return 0;
}

/* The textual address curl reports for a connection (new or reused). */
static int tpid_https_ip_public(const char *ip)
{
	unsigned char a[16];
	char buf[64];
	size_t n;

	if(ip == NULL || (n = strcspn(ip, "%")) >= sizeof(buf))
		return 0;
	memcpy(buf, ip, n); /* a link-local scope ("%eth0") is not an address */
	buf[n] = '\0';
	if(inet_pton(AF_INET, buf, a) == 1)
		return tpid_https_v4_public(a);
	if(inet_pton(AF_INET6, buf, a) == 1)
		return tpid_https_v6_public(a);
	return 0;
}

static int tpid_https_sockaddr_public(const struct sockaddr *sa)
{
	if(sa->sa_family == AF_INET)
		return tpid_https_v4_public(
				(const unsigned char *)&((const struct sockaddr_in *)sa)
						->sin_addr);
	if(sa->sa_family == AF_INET6)
		return tpid_https_v6_public(
				((const struct sockaddr_in6 *)sa)->sin6_addr.s6_addr);
	return 0;
}

/* ---- one transfer -------------------------------------------------------- */

/* A request in flight: owns its handle, headers and response buffer. The
 * multi handle keeps the connections; a finished request's easy handle is
 * reset and kept for the next one (curl_easy_init is not free). */
typedef struct tpid_https_xfer
{
	CURL *h;
	struct curl_slist *hdrs;
	char *buf;
	size_t len, cap, max_body;
	int too_big;
	int allow_private;
	int refused; /* the address policy said no */
	void *user;
	char errbuf[CURL_ERROR_SIZE];
	struct tpid_https_xfer *next;
} tpid_https_xfer_t;

/* Easy handles kept for reuse: enough for the usual requests in flight. */
#define TPID_HTTPS_IDLE_MAX 64
/* Events taken per epoll_wait; more wait for the next call (level-triggered). */
#define TPID_HTTPS_EVENTS 64

/* The engine is event-driven (curl_multi_socket_action): curl tells it which
 * sockets to watch and when its next timeout is due, and a socket's activity
 * drives only the transfer on it. curl_multi_perform would instead visit
 * every transfer in flight (and poll each socket) on every wake-up. */
struct tpid_https
{
	CURLM *m;
	int running;
	tpid_https_xfer_t *xfers; /* all in flight */
	int ep;					  /* epoll: curl's sockets and the caller's fd */
	int extra_fd;			  /* the caller's fd registered in ep, or -1 */
	int64_t timer_at;		  /* curl's timeout (monotonic ms), or -1 */
	CURL *idle[TPID_HTTPS_IDLE_MAX];
	int nidle;
};

static int64_t tpid_https_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static size_t tpid_https_write(char *ptr, size_t size, size_t nmemb, void *ud)
{
	tpid_https_xfer_t *x = ud;
	size_t n = size * nmemb, cap;
	char *nb;

	if(n > x->max_body - x->len) {
		x->too_big = 1;
		return 0; /* aborts the transfer with CURLE_WRITE_ERROR */
	}
	if(x->len + n + 1 > x->cap) {
		cap = x->cap ? x->cap : 1024;
		while(cap < x->len + n + 1)
			cap *= 2;
		if(cap > x->max_body + 1)
			cap = x->max_body + 1;
		nb = realloc(x->buf, cap);
		if(nb == NULL)
			return 0;
		x->buf = nb;
		x->cap = cap;
	}
	memcpy(x->buf + x->len, ptr, n);
	x->len += n;
	x->buf[x->len] = '\0';
	return n;
}

/* Before a socket is opened for an address DNS gave: nothing is sent to a
 * refused address, not even a SYN. */
static curl_socket_t tpid_https_opensocket(
		void *ud, curlsocktype purpose, struct curl_sockaddr *a)
{
	tpid_https_xfer_t *x = ud;

	(void)purpose;
	if(!x->allow_private && !tpid_https_sockaddr_public(&a->addr)) {
		x->refused = 1;
		return CURL_SOCKET_BAD;
	}
	return socket(a->family, a->socktype, a->protocol);
}

/* Before every request, on a new or a reused connection: a connection
 * another request opened to a private address is not reused by one that
 * may not go there. */
static int tpid_https_prereq(
		void *ud, char *ip, char *local_ip, int port, int local_port)
{
	tpid_https_xfer_t *x = ud;

	(void)local_ip;
	(void)port;
	(void)local_port;
	if(x->allow_private || tpid_https_ip_public(ip))
		return CURL_PREREQFUNC_OK;
	x->refused = 1;
	return CURL_PREREQFUNC_ABORT;
}

#define TPID_SETOPT(h, opt, val)                      \
	do {                                              \
		if(curl_easy_setopt(h, opt, val) != CURLE_OK) \
			return -1;                                \
	} while(0)

static int tpid_https_empty(const char *s)
{
	return s == NULL || s[0] == '\0';
}

/* The rules every request obeys. 0 or -1. */
static int tpid_https_rules(CURL *h, tpid_https_xfer_t *x)
{
	TPID_SETOPT(h, CURLOPT_PROTOCOLS_STR, "https");
	TPID_SETOPT(h, CURLOPT_REDIR_PROTOCOLS_STR, "https");
	TPID_SETOPT(h, CURLOPT_FOLLOWLOCATION, 0L);
	/* an environment proxy must not sit between us and the peer */
	TPID_SETOPT(h, CURLOPT_PROXY, "");
	TPID_SETOPT(h, CURLOPT_SSL_VERIFYPEER, 1L);
	TPID_SETOPT(h, CURLOPT_SSL_VERIFYHOST, 2L);
	TPID_SETOPT(h, CURLOPT_SSLVERSION, (long)CURL_SSLVERSION_TLSv1_2);
	/* only the request's CA: no system store next to it */
	TPID_SETOPT(h, CURLOPT_CAPATH, NULL);
#if LIBCURL_VERSION_NUM >= 0x075700
	/* 0: the CA file is read for each new connection, so a replaced file
	 * counts at once (curl would keep it for a day) */
	TPID_SETOPT(h, CURLOPT_CA_CACHE_TIMEOUT, 0L);
#endif
	TPID_SETOPT(h, CURLOPT_NOSIGNAL, 1L);
	TPID_SETOPT(h, CURLOPT_USERAGENT, "tpid_assert");
	TPID_SETOPT(h, CURLOPT_OPENSOCKETFUNCTION, tpid_https_opensocket);
	TPID_SETOPT(h, CURLOPT_OPENSOCKETDATA, x);
	TPID_SETOPT(h, CURLOPT_PREREQFUNCTION, tpid_https_prereq);
	TPID_SETOPT(h, CURLOPT_PREREQDATA, x);
	TPID_SETOPT(h, CURLOPT_WRITEFUNCTION, tpid_https_write);
	TPID_SETOPT(h, CURLOPT_WRITEDATA, x);
	TPID_SETOPT(h, CURLOPT_ERRORBUFFER, x->errbuf);
	TPID_SETOPT(h, CURLOPT_PRIVATE, x);
	return 0;
}

/* What this request asks for. 0 or -1. */
static int tpid_https_options(
		CURL *h, tpid_https_xfer_t *x, const tpid_https_req_t *r)
{
	TPID_SETOPT(h, CURLOPT_URL, r->url);
	TPID_SETOPT(h, CURLOPT_CAINFO, r->ca_file);
	TPID_SETOPT(h, CURLOPT_SSLCERT,
			tpid_https_empty(r->client_cert) ? NULL : r->client_cert);
	TPID_SETOPT(h, CURLOPT_SSLKEY,
			tpid_https_empty(r->client_key) ? NULL : r->client_key);
	TPID_SETOPT(h, CURLOPT_CONNECTTIMEOUT_MS, r->connect_timeout_ms);
	TPID_SETOPT(h, CURLOPT_TIMEOUT_MS, r->timeout_ms);
	TPID_SETOPT(h, CURLOPT_MAXFILESIZE_LARGE, (curl_off_t)r->max_body);
	TPID_SETOPT(h, CURLOPT_HTTPHEADER, x->hdrs);
	if(r->method == TPID_HTTPS_POST) {
		TPID_SETOPT(h, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)r->body_len);
		TPID_SETOPT(h, CURLOPT_COPYPOSTFIELDS, r->body ? r->body : "");
	} else {
		TPID_SETOPT(h, CURLOPT_HTTPGET, 1L);
	}
	return 0;
}

static struct curl_slist *tpid_https_headers(const tpid_https_req_t *r)
{
	struct curl_slist *hdrs = NULL, *tmp;
	int i;

	/* no 100-continue round trip */
	hdrs = curl_slist_append(NULL, "Expect:");
	for(i = 0; hdrs != NULL && i < r->nheaders; i++) {
		tmp = r->headers[i] ? curl_slist_append(hdrs, r->headers[i]) : NULL;
		if(tmp == NULL) {
			curl_slist_free_all(hdrs);
			return NULL;
		}
		hdrs = tmp;
	}
	return hdrs;
}

static int tpid_https_req_ok(const tpid_https_req_t *r)
{
	return r != NULL && r->url != NULL && !tpid_https_empty(r->ca_file)
		   && (r->method == TPID_HTTPS_GET || r->method == TPID_HTTPS_POST)
		   && r->connect_timeout_ms > 0 && r->timeout_ms > 0 && r->max_body > 0
		   && r->max_body < SIZE_MAX / 2 && r->nheaders >= 0
		   && r->nheaders <= TPID_HTTPS_MAX_HEADERS
		   && (r->nheaders == 0 || r->headers != NULL)
		   && (r->body != NULL || r->body_len == 0);
}

static void tpid_https_xfer_free(tpid_https_xfer_t *x)
{
	if(x == NULL)
		return;
	if(x->h != NULL)
		curl_easy_cleanup(x->h);
	curl_slist_free_all(x->hdrs);
	free(x->buf);
	free(x);
}

/* ---- the verdict ----------------------------------------------------------- */

/* curl's code to a class. RECV/SEND errors before any HTTP status count as
 * TLS failures: a server refusing our client certificate (TLS 1.3 sends
 * that alert after the client thinks the handshake is done) shows up
 * exactly so. After a status line they are a broken connection. */
static int tpid_https_class_of(CURLcode cc, long status, int too_big)
{
	switch(cc) {
		case CURLE_OK:
			return TPID_HTTPS_OK;
		case CURLE_WRITE_ERROR:
			return too_big ? TPID_HTTPS_TOO_BIG : TPID_HTTPS_INTERNAL;
		case CURLE_FILESIZE_EXCEEDED:
			return TPID_HTTPS_TOO_BIG;
		case CURLE_OPERATION_TIMEDOUT:
			return TPID_HTTPS_TIMEOUT;
		case CURLE_SSL_CONNECT_ERROR:
		case CURLE_PEER_FAILED_VERIFICATION:
		case CURLE_SSL_CERTPROBLEM:
		case CURLE_SSL_CIPHER:
		case CURLE_SSL_CACERT_BADFILE:
		case CURLE_SSL_ENGINE_NOTFOUND:
		case CURLE_SSL_ENGINE_SETFAILED:
		case CURLE_SSL_ENGINE_INITFAILED:
		case CURLE_SSL_SHUTDOWN_FAILED:
		case CURLE_SSL_CRL_BADFILE:
		case CURLE_SSL_ISSUER_ERROR:
		case CURLE_SSL_PINNEDPUBKEYNOTMATCH:
		case CURLE_SSL_INVALIDCERTSTATUS:
		case CURLE_SSL_CLIENTCERT:
		case CURLE_USE_SSL_FAILED:
			return TPID_HTTPS_TLS;
		case CURLE_RECV_ERROR:
		case CURLE_SEND_ERROR:
			return status == 0 ? TPID_HTTPS_TLS : TPID_HTTPS_CONNECT;
		case CURLE_UNSUPPORTED_PROTOCOL:
		case CURLE_WEIRD_SERVER_REPLY:
		case CURLE_HTTP2:
		case CURLE_HTTP2_STREAM:
		case CURLE_HTTP3:
		case CURLE_PARTIAL_FILE:
		case CURLE_TOO_MANY_REDIRECTS:
		case CURLE_BAD_CONTENT_ENCODING:
			return TPID_HTTPS_HTTP;
		case CURLE_OUT_OF_MEMORY:
		case CURLE_FAILED_INIT:
		case CURLE_BAD_FUNCTION_ARGUMENT:
		case CURLE_UNKNOWN_OPTION:
		case CURLE_NOT_BUILT_IN:
			return TPID_HTTPS_INTERNAL;
		default:
			return TPID_HTTPS_CONNECT;
	}
}

/* A header value we hand on: printable ASCII (and blanks) only. */
static int tpid_https_hdr_clean(const char *v)
{
	for(; *v; v++) {
		unsigned char ch = (unsigned char)*v;
		if((ch < 0x20 && ch != '\t') || ch >= 0x7f)
			return 0;
	}
	return 1;
}

/* One response header of the last response into out ("" when absent or
 * not usable); with join, repeats are joined by ", " (Cache-Control). */
static void tpid_https_hdr(
		CURL *h, const char *name, int join, char *out, size_t size)
{
	struct curl_header *hh;
	size_t i, o = 0, n;

	out[0] = '\0';
	for(i = 0;; i++) {
		if(curl_easy_header(h, name, i, CURLH_HEADER, -1, &hh) != CURLHE_OK)
			return;
		if((hh->amount > 1 && !join) || !tpid_https_hdr_clean(hh->value))
			break;
		n = strlen(hh->value);
		if(o + n + (i ? 2 : 0) >= size)
			break;
		if(i) {
			memcpy(out + o, ", ", 2);
			o += 2;
		}
		memcpy(out + o, hh->value, n + 1);
		o += n;
		if(i + 1 >= hh->amount)
			return;
	}
	out[0] = '\0'; /* a header we cannot take whole is not taken at all */
}

static void tpid_https_verdict(
		tpid_https_xfer_t *x, CURLcode cc, tpid_https_result_t *res)
{
	curl_off_t total_us = 0;
	long status = 0;

	curl_easy_getinfo(x->h, CURLINFO_RESPONSE_CODE, &status);
	if(curl_easy_getinfo(x->h, CURLINFO_TOTAL_TIME_T, &total_us) == CURLE_OK)
		res->elapsed_ms = (double)total_us / 1000.0;
	res->status = status;
	res->cls = tpid_https_class_of(cc, status, x->too_big);
	if(x->refused && cc != CURLE_OK)
		res->cls = TPID_HTTPS_ADDRESS;
	/* a big error page is an HTTP failure first, not a size problem */
	if((res->cls == TPID_HTTPS_TOO_BIG || res->cls == TPID_HTTPS_OK)
			&& status != 0 && status != 200)
		res->cls = TPID_HTTPS_HTTP;
	if(status != 0) {
		tpid_https_hdr(x->h, "Cache-Control", 1, res->cache_control,
				sizeof(res->cache_control));
		tpid_https_hdr(x->h, "Expires", 0, res->expires, sizeof(res->expires));
		tpid_https_hdr(x->h, "Content-Type", 0, res->content_type,
				sizeof(res->content_type));
	}
	if(cc != CURLE_OK)
		snprintf(res->error, sizeof(res->error), "%s",
				x->errbuf[0] ? x->errbuf : curl_easy_strerror(cc));
	if(res->cls == TPID_HTTPS_OK || res->cls == TPID_HTTPS_HTTP) {
		res->body = x->buf; /* handed over */
		res->body_len = x->len;
		x->buf = NULL;
	}
}

/* ---- engine --------------------------------------------------------------- */

int tpid_https_global_init(void)
{
	if(tpid_https_inited)
		return 0;
	if(curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
		return -1;
	tpid_https_inited = 1;
	return 0;
}

void tpid_https_global_cleanup(void)
{
	if(!tpid_https_inited)
		return;
	curl_global_cleanup();
	tpid_https_inited = 0;
}

/* curl: watch s for what (or stop watching it). */
static int tpid_https_socket_cb(
		CURL *e, curl_socket_t s, int what, void *ud, void *sockp)
{
	tpid_https_t *h = ud;
	struct epoll_event ev;

	(void)e;
	if(what == CURL_POLL_REMOVE) {
		/* ENOENT/EBADF: already gone with the socket's close */
		epoll_ctl(h->ep, EPOLL_CTL_DEL, s, NULL);
		curl_multi_assign(h->m, s, NULL);
		return 0;
	}
	memset(&ev, 0, sizeof(ev));
	ev.events = ((what & CURL_POLL_IN) ? EPOLLIN : 0)
				| ((what & CURL_POLL_OUT) ? EPOLLOUT : 0);
	ev.data.fd = s;
	if(epoll_ctl(h->ep, sockp ? EPOLL_CTL_MOD : EPOLL_CTL_ADD, s, &ev) < 0) {
		/* curl's view and ours disagree (a socket number reused): the
		 * other operation then holds */
		if(epoll_ctl(h->ep, sockp ? EPOLL_CTL_ADD : EPOLL_CTL_MOD, s, &ev) < 0)
			return -1;
	}
	if(sockp == NULL)
		curl_multi_assign(h->m, s, h); /* marks it registered */
	return 0;
}

/* curl: call back in timeout_ms (-1: no timeout wanted). */
static int tpid_https_timer_cb(CURLM *m, long timeout_ms, void *ud)
{
	tpid_https_t *h = ud;

	(void)m;
	h->timer_at = timeout_ms < 0 ? -1 : tpid_https_now_ms() + timeout_ms;
	return 0;
}

tpid_https_t *tpid_https_new(long max_conns)
{
	tpid_https_t *h = calloc(1, sizeof(*h));

	if(h == NULL)
		return NULL;
	h->extra_fd = -1;
	h->timer_at = -1;
	h->ep = epoll_create1(EPOLL_CLOEXEC);
	h->m = h->ep >= 0 ? curl_multi_init() : NULL;
	if(h->m == NULL
			|| curl_multi_setopt(
					   h->m, CURLMOPT_SOCKETFUNCTION, tpid_https_socket_cb)
					   != CURLM_OK
			|| curl_multi_setopt(h->m, CURLMOPT_SOCKETDATA, h) != CURLM_OK
			|| curl_multi_setopt(
					   h->m, CURLMOPT_TIMERFUNCTION, tpid_https_timer_cb)
					   != CURLM_OK
			|| curl_multi_setopt(h->m, CURLMOPT_TIMERDATA, h) != CURLM_OK) {
		if(h->m != NULL)
			curl_multi_cleanup(h->m);
		if(h->ep >= 0)
			close(h->ep);
		free(h);
		return NULL;
	}
	if(max_conns > 0)
		curl_multi_setopt(h->m, CURLMOPT_MAXCONNECTS, max_conns);
	return h;
}

int tpid_https_set_host_limit(tpid_https_t *h, long n)
{
	if(h == NULL || n < 0)
		return -1;
	return curl_multi_setopt(h->m, CURLMOPT_MAX_HOST_CONNECTIONS, n) == CURLM_OK
				   ? 0
				   : -1;
}

void tpid_https_free(tpid_https_t *h)
{
	tpid_https_xfer_t *x, *n;

	if(h == NULL)
		return;
	for(x = h->xfers; x; x = n) {
		n = x->next;
		curl_multi_remove_handle(h->m, x->h);
		tpid_https_xfer_free(x);
	}
	while(h->nidle > 0)
		curl_easy_cleanup(h->idle[--h->nidle]);
	curl_multi_cleanup(h->m);
	close(h->ep);
	free(h);
}

int tpid_https_add(tpid_https_t *h, const tpid_https_req_t *req, void *user)
{
	tpid_https_xfer_t *x;

	if(h == NULL || !tpid_https_req_ok(req))
		return -1;
	x = calloc(1, sizeof(*x));
	if(x == NULL)
		return -1;
	x->user = user;
	x->max_body = req->max_body;
	x->allow_private = req->allow_private != 0;
	x->hdrs = tpid_https_headers(req);
	x->h = h->nidle > 0 ? h->idle[--h->nidle] : curl_easy_init();
	if(x->hdrs == NULL || x->h == NULL || tpid_https_rules(x->h, x) < 0
			|| tpid_https_options(x->h, x, req) < 0
			|| curl_multi_add_handle(h->m, x->h) != CURLM_OK) {
		tpid_https_xfer_free(x);
		return -1;
	}
	x->next = h->xfers;
	h->xfers = x;
	h->running++;
	return 0;
}

int tpid_https_wait(
		tpid_https_t *h, int extra_fd, int timeout_ms, int *extra_ready)
{
	struct epoll_event evs[TPID_HTTPS_EVENTS], ev;
	int64_t now;
	int i, n, flags, still = 0, rc = 0;

	if(extra_ready)
		*extra_ready = 0;
	if(h == NULL)
		return -1;
	if(extra_fd != h->extra_fd) {
		if(h->extra_fd >= 0)
			epoll_ctl(h->ep, EPOLL_CTL_DEL, h->extra_fd, NULL);
		h->extra_fd = -1;
		memset(&ev, 0, sizeof(ev));
		ev.events = EPOLLIN;
		ev.data.fd = extra_fd;
		if(extra_fd >= 0 && epoll_ctl(h->ep, EPOLL_CTL_ADD, extra_fd, &ev) < 0)
			return -1;
		h->extra_fd = extra_fd;
	}
	if(h->timer_at >= 0) {
		now = tpid_https_now_ms();
		if(timeout_ms < 0 || h->timer_at - now < timeout_ms)
			timeout_ms = h->timer_at > now ? (int)(h->timer_at - now) : 0;
	}
	n = epoll_wait(h->ep, evs, TPID_HTTPS_EVENTS, timeout_ms);
	if(n < 0)
		return errno == EINTR ? 0 : -1;
	for(i = 0; i < n; i++) {
		if(evs[i].data.fd == extra_fd) {
			if(extra_ready)
				*extra_ready = 1;
			continue;
		}
		flags = ((evs[i].events & (EPOLLIN | EPOLLHUP)) ? CURL_CSELECT_IN : 0)
				| ((evs[i].events & EPOLLOUT) ? CURL_CSELECT_OUT : 0)
				| ((evs[i].events & EPOLLERR) ? CURL_CSELECT_ERR : 0);
		if(curl_multi_socket_action(h->m, evs[i].data.fd, flags, &still)
				!= CURLM_OK)
			rc = -1;
	}
	/* curl's timeout is due; or, as a safety net, nothing happened while
	 * requests are in flight */
	if((h->timer_at >= 0 && tpid_https_now_ms() >= h->timer_at)
			|| (n == 0 && h->running > 0)) {
		h->timer_at = -1; /* curl sets the next one during the call */
		if(curl_multi_socket_action(h->m, CURL_SOCKET_TIMEOUT, 0, &still)
				!= CURLM_OK)
			rc = -1;
	}
	return rc;
}

static void tpid_https_unlink(tpid_https_t *h, tpid_https_xfer_t *x)
{
	tpid_https_xfer_t **pp;

	curl_multi_remove_handle(h->m, x->h);
	for(pp = &h->xfers; *pp; pp = &(*pp)->next) {
		if(*pp == x) {
			*pp = x->next;
			break;
		}
	}
	h->running--;
}

int tpid_https_next(tpid_https_t *h, void **user, tpid_https_result_t *res)
{
	tpid_https_xfer_t *x;
	CURLMsg *msg;
	int left;

	if(h == NULL || user == NULL || res == NULL)
		return 0;
	while((msg = curl_multi_info_read(h->m, &left)) != NULL) {
		x = NULL;
		if(msg->msg != CURLMSG_DONE)
			continue;
		curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE, (char **)&x);
		if(x == NULL)
			continue;
		memset(res, 0, sizeof(*res));
		tpid_https_verdict(x, msg->data.result, res);
		*user = x->user;
		tpid_https_unlink(h, x);
		if(h->nidle < TPID_HTTPS_IDLE_MAX) {
			curl_easy_reset(x->h); /* nothing of this request stays */
			h->idle[h->nidle++] = x->h;
			x->h = NULL;
		}
		tpid_https_xfer_free(x);
		return 1;
	}
	return 0;
}

void tpid_https_result_clear(tpid_https_result_t *res)
{
	if(res == NULL)
		return;
	free(res->body);
	res->body = NULL;
	res->body_len = 0;
}

int tpid_https_running(const tpid_https_t *h)
{
	return h ? h->running : 0;
}

const char *tpid_https_class_name(int cls)
{
	static const char *const names[] = {"OK", "CONNECT", "TIMEOUT", "TLS",
			"HTTP", "TOO_BIG", "ADDRESS", "INTERNAL"};

	if(cls < 0 || cls >= (int)TPID_NELEM(names))
		return "UNDEFINED";
	return names[cls];
}
