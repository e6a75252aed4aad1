/*
 * tpid_assert - unit tests: the HTTPS engine (curl multi) and the
 * enterprise-hook job on it, against in-test servers: a TLS one in a child process (self-signed EC
 * certificate for IP 127.0.0.1, made here) and plain sockets for failures.
 *
 * The unit tests link libcrypto but not libssl: the server side of TLS is
 * taken from the libssl that libcurl has loaded already (dlopen).
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "test_net.h"

#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <sys/wait.h>

#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "tpid_hook.h"
#include "tpid_https.h"
#include "tpid_reason.h"

static char dir[64];
static char ca[128];	   /* the server's own certificate: its CA file */
static char other_ca[128]; /* a CA that did not sign it */
static X509 *srv_cert;
static EVP_PKEY *srv_key;

/* ---- libssl, server side -------------------------------------------------- */

static void *libssl;
static struct
{
	__typeof__(&TLS_server_method) TLS_server_method;
	__typeof__(&SSL_CTX_new) SSL_CTX_new;
	__typeof__(&SSL_CTX_use_certificate) SSL_CTX_use_certificate;
	__typeof__(&SSL_CTX_use_PrivateKey) SSL_CTX_use_PrivateKey;
	__typeof__(&SSL_new) SSL_new;
	__typeof__(&SSL_set_fd) SSL_set_fd;
	__typeof__(&SSL_accept) SSL_accept;
	__typeof__(&SSL_read) SSL_read;
	__typeof__(&SSL_write) SSL_write;
	__typeof__(&SSL_free) SSL_free;
} ssl;

#define SSL_SYM(name)                                          \
	do {                                                       \
		ssl.name = (__typeof__(ssl.name))dlsym(libssl, #name); \
		if(ssl.name == NULL)                                   \
			return -1;                                         \
	} while(0)

static int load_libssl(void)
{
	libssl = dlopen("libssl.so.3", RTLD_NOW);
	if(libssl == NULL)
		return -1;
	SSL_SYM(TLS_server_method);
	SSL_SYM(SSL_CTX_new);
	SSL_SYM(SSL_CTX_use_certificate);
	SSL_SYM(SSL_CTX_use_PrivateKey);
	SSL_SYM(SSL_new);
	SSL_SYM(SSL_set_fd);
	SSL_SYM(SSL_accept);
	SSL_SYM(SSL_read);
	SSL_SYM(SSL_write);
	SSL_SYM(SSL_free);
	return 0;
}

/* ---- certificates ----------------------------------------------------------- */

static int add_ext(X509 *x, X509V3_CTX *v3, int nid, const char *val)
{
	X509_EXTENSION *e = X509V3_EXT_conf_nid(NULL, v3, nid, val);
	int ok;

	if(e == NULL)
		return -1;
	ok = X509_add_ext(x, e, -1);
	X509_EXTENSION_free(e);
	return ok ? 0 : -1;
}

/* A self-signed P-256 certificate for IP 127.0.0.1, written to path. */
static int make_cert(const char *path, X509 **xo, EVP_PKEY **ko)
{
	EVP_PKEY *k = EVP_EC_gen("P-256");
	X509 *x = X509_new();
	X509V3_CTX v3;
	X509_NAME *n;
	FILE *f;
	int ok = 0;

	if(k == NULL || x == NULL)
		goto done;
	X509_set_version(x, 2);
	ASN1_INTEGER_set(X509_get_serialNumber(x), 1);
	X509_gmtime_adj(X509_getm_notBefore(x), -60);
	X509_gmtime_adj(X509_getm_notAfter(x), 3600);
	n = X509_get_subject_name(x);
	X509_NAME_add_entry_by_txt(n, "CN", MBSTRING_ASC,
			(const unsigned char *)"127.0.0.1", -1, -1, 0);
	X509_set_issuer_name(x, n);
	X509_set_pubkey(x, k);
	X509V3_set_ctx(&v3, x, x, NULL, NULL, 0);
	if(add_ext(x, &v3, NID_basic_constraints, "critical,CA:TRUE") < 0
			|| add_ext(x, &v3, NID_key_usage,
					   "critical,digitalSignature,keyCertSign")
					   < 0
			|| add_ext(x, &v3, NID_subject_key_identifier, "hash") < 0
			|| add_ext(x, &v3, NID_subject_alt_name, "IP:127.0.0.1") < 0)
		goto done;
	if(X509_sign(x, k, EVP_sha256()) <= 0)
		goto done;
	f = fopen(path, "w");
	if(f == NULL)
		goto done;
	ok = PEM_write_X509(f, x);
	fclose(f);
done:
	if(ok && xo != NULL && ko != NULL) {
		*xo = x;
		*ko = k;
	} else {
		X509_free(x);
		EVP_PKEY_free(k);
	}
	return ok ? 0 : -1;
}

/* ---- the TLS server (a child process) ------------------------------------- */

typedef struct srv
{
	pid_t pid;
	int port;
	int accepts; /* read end: one byte per accepted connection */
	int accepted;
} srv_t;

typedef struct srv_cfg
{
	int delay_ms; /* before each answer */
	int status;
	const char *body;
	const char *extra; /* more header lines, each ending in CRLF */
} srv_cfg_t;

static SSL_CTX *srv_ctx;
static srv_cfg_t srv_conf;

static void sleep_ms(int ms)
{
	struct timespec ts;

	ts.tv_sec = ms / 1000;
	ts.tv_nsec = (long)(ms % 1000) * 1000000L;
	while(nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}

static double now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1000.0 + (double)ts.tv_nsec / 1e6;
}

/* Reads one request (headers and Content-Length body). 0, or -1 at EOF. */
static int srv_read_request(SSL *s)
{
	char buf[16384], *end, *cl;
	int len = 0, n, want = -1;

	for(;;) {
		if(len >= (int)sizeof(buf) - 1)
			return -1;
		n = ssl.SSL_read(s, buf + len, (int)sizeof(buf) - 1 - len);
		if(n <= 0)
			return -1;
		len += n;
		buf[len] = '\0';
		if(want < 0 && (end = strstr(buf, "\r\n\r\n")) != NULL) {
			want = (int)(end - buf) + 4;
			for(cl = buf; cl < end; cl++) {
				if(strncasecmp(cl, "\r\nContent-Length:", 17) == 0) {
					want += atoi(cl + 17);
					break;
				}
			}
		}
		if(want >= 0 && len >= want)
			return 0;
	}
}

static void *srv_conn(void *arg)
{
	char resp[TPID_HOOK_MAX_BODY * 2];
	int fd = (int)(intptr_t)arg, n;
	SSL *s = ssl.SSL_new(srv_ctx);

	if(s != NULL && ssl.SSL_set_fd(s, fd) == 1 && ssl.SSL_accept(s) == 1) {
		while(srv_read_request(s) == 0) {
			sleep_ms(srv_conf.delay_ms);
			n = snprintf(resp, sizeof(resp),
					"HTTP/1.1 %d X\r\nContent-Type: application/json\r\n"
					"%sContent-Length: %zu\r\nConnection: keep-alive\r\n\r\n%s",
					srv_conf.status, srv_conf.extra ? srv_conf.extra : "",
					strlen(srv_conf.body), srv_conf.body);
			if(n < 0 || n >= (int)sizeof(resp)
					|| ssl.SSL_write(s, resp, n) != n)
				break;
		}
	}
	if(s != NULL)
		ssl.SSL_free(s);
	close(fd);
	return NULL;
}

static void srv_main(int lfd, int report)
{
	pthread_t t;
	int fd;

	alarm(30); /* never outlive a stuck test run */
	signal(SIGPIPE, SIG_IGN);
	srv_ctx = ssl.SSL_CTX_new(ssl.TLS_server_method());
	if(srv_ctx == NULL || ssl.SSL_CTX_use_certificate(srv_ctx, srv_cert) != 1
			|| ssl.SSL_CTX_use_PrivateKey(srv_ctx, srv_key) != 1)
		_exit(3);
	for(;;) {
		fd = accept(lfd, NULL, NULL);
		if(fd < 0)
			continue;
		if(write(report, "c", 1) != 1)
			_exit(4);
		if(pthread_create(&t, NULL, srv_conn, (void *)(intptr_t)fd) != 0)
			_exit(5);
		pthread_detach(t);
	}
}


static void srv_start(srv_t *s, int delay_ms, int status, const char *body)
{
	int lfd, p[2];

	lfd = listener(&s->port);
	s->accepted = 0;
	assert_int_equal(pipe(p), 0);
	srv_conf.delay_ms = delay_ms;
	srv_conf.status = status;
	srv_conf.body = body; /* srv_conf.extra: set by the test */
	s->pid = fork();
	assert_true(s->pid >= 0);
	if(s->pid == 0) {
		close(p[0]);
		srv_main(lfd, p[1]);
	}
	close(lfd);
	close(p[1]);
	s->accepts = p[0];
	assert_int_equal(fcntl(s->accepts, F_SETFL, O_NONBLOCK), 0);
}

/* Connections accepted so far (the child reports each at once). */
static int srv_accepted(srv_t *s)
{
	char buf[64];
	ssize_t n;

	while((n = read(s->accepts, buf, sizeof(buf))) > 0)
		s->accepted += (int)n;
	return s->accepted;
}

static void srv_stop(srv_t *s)
{
	int status;

	kill(s->pid, SIGKILL);
	assert_int_equal(waitpid(s->pid, &status, 0), s->pid);
	/* it was alive until now: not a crash or an early exit */
	assert_true(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);
	close(s->accepts);
}

/* ---- helpers ----------------------------------------------------------------- */

static void enterprise(tpid_enterprise_t *e, int port)
{
	memset(e, 0, sizeof(*e));
	snprintf(e->domain, sizeof(e->domain), "acme.example");
	snprintf(e->api_root, sizeof(e->api_root), "https://127.0.0.1:%d", port);
	snprintf(e->ca_file, sizeof(e->ca_file), "%s", ca);
	e->connect_timeout_ms = 1000;
	e->timeout_ms = 2000;
	e->allow_private_address = 1; /* the servers are on loopback */
}

static const char *dest1[] = {"tel:+4961511234567"};
static const tpid_hook_query_t query = {"tel:+4961519876543",
		"sip:e102938@acme.example", dest1, 1, "cid-1", 1760000000};

static const char authorized[] =
		"{\"tpidVerificationResponse\":{\"result\":\"authorized\","
		"\"displayName\":\"Alice Example\",\"ttl\":120}}";

#define MAXRES 8

typedef struct res
{
	void *user;
	int rc; /* the hook job's reason */
	tpid_hook_answer_t a;
	tpid_https_result_t h; /* the engine's result (body released) */
	double at_ms;
} res_t;

/* One finished request, as the hook job sees it. 1, or 0 if none. */
static int next(tpid_https_t *m, res_t *r)
{
	if(tpid_https_next(m, &r->user, &r->h) != 1)
		return 0;
	r->rc = tpid_hook_result(&r->h, &r->a);
	tpid_https_result_clear(&r->h);
	return 1;
}

/* Drives m until want results came or limit_ms passed; how many came. */
static int collect(tpid_https_t *m, res_t *r, int want, int limit_ms)
{
	double start = now_ms();
	int n = 0;

	while(n < want && now_ms() - start < limit_ms) {
		assert_int_equal(tpid_https_wait(m, -1, 50, NULL), 0);
		while(n < want && n < MAXRES && next(m, &r[n]) == 1) {
			r[n].at_ms = now_ms() - start;
			n++;
		}
	}
	return n;
}

static int hook_add(tpid_https_t *m, const tpid_enterprise_t *e,
		const tpid_hook_query_t *q, void *user)
{
	return tpid_hook_add(m, e, q, 0, user);
}

static int group_setup(void **state)
{
	(void)state;
	snprintf(dir, sizeof(dir), "/tmp/tpid_multi_XXXXXX");
	if(mkdtemp(dir) == NULL)
		return -1;
	snprintf(ca, sizeof(ca), "%s/ca.pem", dir);
	snprintf(other_ca, sizeof(other_ca), "%s/other.pem", dir);
	if(make_cert(ca, &srv_cert, &srv_key) < 0
			|| make_cert(other_ca, NULL, NULL) < 0)
		return -1;
	if(tpid_https_global_init() < 0)
		return -1;
	return load_libssl(); /* libcurl has loaded it: same library */
}

static int group_teardown(void **state)
{
	(void)state;
	tpid_https_global_cleanup();
	if(libssl != NULL)
		dlclose(libssl);
	X509_free(srv_cert);
	EVP_PKEY_free(srv_key);
	unlink(ca);
	unlink(other_ca);
	rmdir(dir);
	return 0;
}

/* ---- tests ------------------------------------------------------------------ */

static void test_bad_args(void **state)
{
	tpid_https_t *m = tpid_https_new(4);
	tpid_enterprise_t e;
	tpid_hook_query_t q = query;
	int u;
	(void)state;

	assert_non_null(m);
	enterprise(&e, free_port());
	assert_int_equal(tpid_https_running(NULL), 0);
	assert_int_equal(tpid_https_running(m), 0);
	assert_int_equal(hook_add(NULL, &e, &q, &u), TPID_R_INTERNAL);
	assert_int_equal(hook_add(m, NULL, &q, &u), TPID_R_INTERNAL);
	assert_int_equal(hook_add(m, &e, NULL, &u), TPID_R_INTERNAL);
	q.served_user = NULL; /* no request body: nothing added, nothing kept */
	assert_int_equal(hook_add(m, &e, &q, &u), TPID_R_INTERNAL);
	assert_int_equal(tpid_https_running(m), 0);
	tpid_https_free(m);
	tpid_https_free(NULL);
}

static void test_connect_refused(void **state)
{
	tpid_https_t *m = tpid_https_new(0);
	tpid_enterprise_t e;
	res_t r[MAXRES];
	int u1, u2;
	(void)state;

	assert_non_null(m);
	enterprise(&e, free_port());
	assert_int_equal(hook_add(m, &e, &query, &u1), TPID_OK);
	assert_int_equal(hook_add(m, &e, &query, &u2), TPID_OK);
	assert_int_equal(tpid_https_running(m), 2);
	assert_int_equal(collect(m, r, 2, 3000), 2);
	assert_int_equal(r[0].rc, TPID_R_HOOK_CONNECT);
	assert_int_equal(r[1].rc, TPID_R_HOOK_CONNECT);
	assert_true((r[0].user == &u1 && r[1].user == &u2)
				|| (r[0].user == &u2 && r[1].user == &u1));
	assert_int_equal(r[0].a.http_status, 0);
	assert_int_equal(r[0].a.result, 0);
	assert_int_equal(tpid_https_running(m), 0);
	assert_int_equal(next(m, &r[2]), 0);
	tpid_https_free(m);
}

/* https only: a plain http root is refused before anything is sent. */
static void test_https_only(void **state)
{
	tpid_https_t *m = tpid_https_new(0);
	tpid_enterprise_t e;
	res_t r[MAXRES];
	int port, fd, u;
	(void)state;

	fd = listener(&port);
	enterprise(&e, port);
	snprintf(e.api_root, sizeof(e.api_root), "http://127.0.0.1:%d", port);
	assert_int_equal(hook_add(m, &e, &query, &u), TPID_OK);
	assert_int_equal(collect(m, r, 1, 3000), 1);
	assert_int_equal(r[0].rc, TPID_R_HOOK_HTTP);
	assert_ptr_equal(r[0].user, &u);
	assert_true(r[0].at_ms < 250.0); /* refused, not timed out */
	close(fd);
	tpid_https_free(m);
}

/* A server that speaks plain HTTP where TLS is expected: a TLS failure,
 * not an answer. */
static void test_plain_http_is_tls_failure(void **state)
{
	static const char resp[] = "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n"
							   "Connection: close\r\n\r\n{}";
	tpid_https_t *m = tpid_https_new(0);
	tpid_enterprise_t e;
	res_t r[MAXRES];
	int port, fd, status, u;
	pid_t pid;
	(void)state;

	fd = listener(&port);
	pid = fork();
	assert_true(pid >= 0);
	if(pid == 0) {
		char buf[4096];
		int s = accept(fd, NULL, NULL);
		if(s >= 0) {
			if(read(s, buf, sizeof(buf)) > 0
					&& write(s, resp, sizeof(resp) - 1) < 0)
				_exit(2);
			close(s);
		}
		_exit(0);
	}
	close(fd);
	enterprise(&e, port);
	assert_int_equal(hook_add(m, &e, &query, &u), TPID_OK);
	assert_int_equal(collect(m, r, 1, 3000), 1);
	assert_int_equal(r[0].rc, TPID_R_HOOK_TLS);
	assert_int_equal(r[0].a.http_status, 0);
	assert_int_equal(waitpid(pid, &status, 0), pid);
	tpid_https_free(m);
}

/* TCP accepted (by the kernel), the ClientHello never answered. */
static void test_timeout_no_handshake(void **state)
{
	tpid_https_t *m = tpid_https_new(0);
	tpid_enterprise_t e;
	res_t r[MAXRES];
	int port, fd, u;
	(void)state;

	fd = listener(&port);
	enterprise(&e, port);
	e.connect_timeout_ms = 300; /* the TLS handshake is part of connecting */
	e.timeout_ms = 300;
	assert_int_equal(hook_add(m, &e, &query, &u), TPID_OK);
	assert_int_equal(collect(m, r, 1, 3000), 1);
	assert_int_equal(r[0].rc, TPID_R_HOOK_TIMEOUT);
	assert_ptr_equal(r[0].user, &u);
	assert_true(r[0].at_ms >= 250.0);
	assert_true(r[0].at_ms < 1500.0);
	close(fd);
	tpid_https_free(m);
}

/* TLS up, the request read, the answer never comes: timeout_ms rules. */
static void test_timeout_no_answer(void **state)
{
	tpid_https_t *m = tpid_https_new(0);
	tpid_enterprise_t e;
	res_t r[MAXRES];
	srv_t s;
	int u;
	(void)state;

	srv_start(&s, 10000, 200, authorized);
	enterprise(&e, s.port);
	e.timeout_ms = 300;
	assert_int_equal(hook_add(m, &e, &query, &u), TPID_OK);
	assert_int_equal(collect(m, r, 1, 3000), 1);
	assert_int_equal(r[0].rc, TPID_R_HOOK_TIMEOUT);
	assert_ptr_equal(r[0].user, &u);
	assert_int_equal(r[0].a.http_status, 0);
	assert_true(r[0].at_ms >= 250.0);
	assert_true(r[0].at_ms < 1500.0);
	assert_int_equal(tpid_https_running(m), 0);
	tpid_https_free(m);
	srv_stop(&s);
}

/* One connection per host at most: three queries answered after 200 ms
 * each go one after the other on it; a fourth whose timeout passes while it
 * waits for the connection ends with HOOK_TIMEOUT. */
static void test_host_limit(void **state)
{
	tpid_https_t *m = tpid_https_new(0);
	tpid_enterprise_t e, quick;
	res_t r[MAXRES];
	int u[4], i, timeouts = 0, ok = 0;
	double start, took;
	srv_t s;
	(void)state;

	assert_int_equal(tpid_https_set_host_limit(NULL, 1), -1);
	assert_int_equal(tpid_https_set_host_limit(m, -1), -1);
	assert_int_equal(tpid_https_set_host_limit(m, 1), 0);
	srv_start(&s, 200, 200, authorized);
	enterprise(&e, s.port);
	quick = e;
	quick.timeout_ms = 300; /* waits behind the others: 600 ms at least */
	start = now_ms();
	for(i = 0; i < 3; i++)
		assert_int_equal(hook_add(m, &e, &query, &u[i]), TPID_OK);
	assert_int_equal(hook_add(m, &quick, &query, &u[3]), TPID_OK);
	assert_int_equal(collect(m, r, 4, 5000), 4);
	took = now_ms() - start;
	for(i = 0; i < 4; i++) {
		if(r[i].user == &u[3]) {
			assert_int_equal(r[i].rc, TPID_R_HOOK_TIMEOUT);
			timeouts++;
		} else {
			assert_int_equal(r[i].rc, TPID_OK);
			ok++;
		}
	}
	assert_int_equal(ok, 3);
	assert_int_equal(timeouts, 1);
	assert_true(took >= 590.0); /* 3 x 200 ms in a row, not in parallel */
	assert_true(srv_accepted(&s) < 3); /* unbounded: 3 (test_parallel) */
	tpid_https_free(m);
	srv_stop(&s);
}

/* Three at once, each answered after 200 ms: about 200 ms in all. */
static void test_parallel(void **state)
{
	tpid_https_t *m = tpid_https_new(0);
	tpid_enterprise_t e;
	res_t r[MAXRES];
	int u[3], seen[3] = {0, 0, 0}, i, j, conns;
	double start, took;
	srv_t s;
	(void)state;

	srv_start(&s, 200, 200, authorized);
	enterprise(&e, s.port);
	start = now_ms();
	for(i = 0; i < 3; i++) {
		assert_int_equal(hook_add(m, &e, &query, &u[i]), TPID_OK);
		assert_int_equal(tpid_https_running(m), i + 1);
	}
	assert_int_equal(collect(m, r, 3, 3000), 3);
	took = now_ms() - start;
	for(i = 0; i < 3; i++) {
		assert_int_equal(r[i].rc, TPID_OK);
		assert_int_equal(r[i].a.result, TPID_HOOK_AUTHORIZED);
		assert_string_equal(r[i].a.display_name, "Alice Example");
		assert_int_equal(r[i].a.ttl, 120);
		assert_int_equal(r[i].a.http_status, 200);
		assert_true(r[i].a.elapsed_ms >= 190.0);
		for(j = 0; j < 3; j++)
			if(r[i].user == &u[j])
				seen[j]++;
	}
	for(j = 0; j < 3; j++)
		assert_int_equal(seen[j], 1);
	assert_true(took >= 190.0);
	assert_true(took < 500.0); /* not 3 x 200 ms in a row */
	assert_int_equal(tpid_https_running(m), 0);
	conns = srv_accepted(&s);
	assert_int_equal(conns, 3);

	/* the next query reuses a kept connection */
	assert_int_equal(hook_add(m, &e, &query, &u[0]), TPID_OK);
	assert_int_equal(tpid_https_running(m), 1);
	assert_int_equal(collect(m, r, 1, 3000), 1);
	assert_int_equal(r[0].rc, TPID_OK);
	assert_ptr_equal(r[0].user, &u[0]);
	assert_int_equal(srv_accepted(&s), conns);
	tpid_https_free(m);
	srv_stop(&s);
}

/* Answers that are not a usable 200: status, size, body. */
static void test_bad_answers(void **state)
{
	static const char big[] = "{\"tpidVerificationResponse\":{\"result\":"
							  "\"authorized\",\"displayName\":\"A rather long "
							  "display name, longer than the cap\"}}";
	tpid_https_t *m;
	tpid_enterprise_t e;
	res_t r[MAXRES];
	srv_t s;
	int u;
	(void)state;

	srv_start(&s, 0, 503, "{\"error\":{\"text\":\"down for lunch\"}}");
	m = tpid_https_new(0);
	enterprise(&e, s.port);
	assert_int_equal(hook_add(m, &e, &query, &u), TPID_OK);
	assert_int_equal(collect(m, r, 1, 3000), 1);
	assert_int_equal(r[0].rc, TPID_R_HOOK_HTTP);
	assert_int_equal(r[0].a.http_status, 503);
	assert_string_equal(r[0].a.reason, "down for lunch");
	tpid_https_free(m);
	srv_stop(&s);

	srv_start(&s, 0, 200, big);
	m = tpid_https_new(0);
	enterprise(&e, s.port);
	/* body cap below the answer */
	assert_int_equal(tpid_hook_add(m, &e, &query, 64, &u), TPID_OK);
	assert_int_equal(collect(m, r, 1, 3000), 1);
	assert_int_equal(r[0].rc, TPID_R_HOOK_TOO_BIG);
	tpid_https_free(m);
	srv_stop(&s);

	srv_start(&s, 0, 200, "{\"tpidVerificationResponse\":{\"result\":\"ok\"}}");
	m = tpid_https_new(0);
	enterprise(&e, s.port);
	assert_int_equal(hook_add(m, &e, &query, &u), TPID_OK);
	assert_int_equal(collect(m, r, 1, 3000), 1);
	assert_int_equal(r[0].rc, TPID_R_HOOK_BAD_ANSWER);
	assert_int_equal(r[0].a.http_status, 200);
	tpid_https_free(m);
	srv_stop(&s);
}

/* The server's certificate is not signed by the enterprise's CA. */
static void test_wrong_ca(void **state)
{
	tpid_https_t *m = tpid_https_new(0);
	tpid_enterprise_t e;
	res_t r[MAXRES];
	srv_t s;
	int u;
	(void)state;

	srv_start(&s, 0, 200, authorized);
	enterprise(&e, s.port);
	snprintf(e.ca_file, sizeof(e.ca_file), "%s", other_ca);
	assert_int_equal(hook_add(m, &e, &query, &u), TPID_OK);
	assert_int_equal(collect(m, r, 1, 3000), 1);
	assert_int_equal(r[0].rc, TPID_R_HOOK_TLS);
	assert_int_equal(r[0].a.http_status, 0);
	tpid_https_free(m);
	srv_stop(&s);
}

/* extra_fd wakes the wait up and is reported. */
static void test_wait_extra_fd(void **state)
{
	tpid_https_t *m = tpid_https_new(0);
	int p[2], ready = -1;
	double start;
	(void)state;

	assert_int_equal(pipe(p), 0);
	start = now_ms();
	assert_int_equal(tpid_https_wait(m, p[0], 100, &ready), 0);
	assert_int_equal(ready, 0);
	assert_true(now_ms() - start >= 90.0);
	assert_int_equal(write(p[1], "q", 1), 1);
	start = now_ms();
	assert_int_equal(tpid_https_wait(m, p[0], 2000, &ready), 0);
	assert_int_equal(ready, 1);
	assert_true(now_ms() - start < 1000.0);
	assert_int_equal(tpid_https_wait(m, -1, 10, NULL), 0);
	close(p[0]);
	close(p[1]);
	tpid_https_free(m);
}

/* Freed with transfers in flight (TLS up, waiting for the answer; one
 * never driven at all): LSan checks that nothing is left behind. */
static void test_free_in_flight(void **state)
{
	tpid_https_t *m = tpid_https_new(0);
	tpid_enterprise_t e;
	res_t r[MAXRES];
	double start;
	srv_t s;
	int u[3], i;
	(void)state;

	srv_start(&s, 10000, 200, authorized);
	enterprise(&e, s.port);
	for(i = 0; i < 3; i++)
		assert_int_equal(hook_add(m, &e, &query, &u[i]), TPID_OK);
	start = now_ms();
	while(now_ms() - start < 150.0) {
		assert_int_equal(tpid_https_wait(m, -1, 20, NULL), 0);
		assert_int_equal(next(m, &r[0]), 0);
	}
	assert_int_equal(tpid_https_running(m), 3);
	assert_int_equal(srv_accepted(&s), 3);
	tpid_https_free(m);

	m = tpid_https_new(0);
	assert_int_equal(hook_add(m, &e, &query, &u[0]), TPID_OK);
	tpid_https_free(m);
	srv_stop(&s);
}

/* ---- the engine itself ------------------------------------------------------ */

/* A GET request straight on the engine (the x5u fetch's shape). */
static tpid_https_req_t get_req(const char *url, int allow_private)
{
	tpid_https_req_t r;

	memset(&r, 0, sizeof(r));
	r.url = url;
	r.method = TPID_HTTPS_GET;
	r.ca_file = ca;
	r.connect_timeout_ms = 1000;
	r.timeout_ms = 2000;
	r.max_body = 4096;
	r.allow_private = allow_private;
	return r;
}

static void test_engine_bad_requests(void **state)
{
	static const char *const hdrs[TPID_HTTPS_MAX_HEADERS + 1] = {"A: b"};
	tpid_https_t *m = tpid_https_new(0);
	tpid_https_req_t r, ok = get_req("https://127.0.0.1:1/", 1);
	tpid_https_result_t res;
	void *user;
	int i;
	(void)state;

	assert_int_equal(tpid_https_add(NULL, &ok, NULL), -1);
	assert_int_equal(tpid_https_add(m, NULL, NULL), -1);
	for(i = 0; i < 9; i++) {
		r = ok;
		switch(i) {
			case 0:
				r.url = NULL;
				break;
			case 1:
				r.ca_file = NULL;
				break;
			case 2:
				r.ca_file = "";
				break;
			case 3:
				r.method = 7;
				break;
			case 4:
				r.connect_timeout_ms = 0;
				break;
			case 5:
				r.timeout_ms = -1;
				break;
			case 6:
				r.max_body = 0;
				break;
			case 7:
				r.headers = hdrs;
				r.nheaders = TPID_HTTPS_MAX_HEADERS + 1;
				break;
			case 8:
				r.body_len = 5;
				break; /* length without a body */
		}
		assert_int_equal(tpid_https_add(m, &r, NULL), -1);
	}
	assert_int_equal(tpid_https_running(m), 0);
	assert_int_equal(tpid_https_next(m, &user, &res), 0);
	assert_int_equal(tpid_https_wait(NULL, -1, 0, NULL), -1);
	assert_string_equal(tpid_https_class_name(TPID_HTTPS_ADDRESS), "ADDRESS");
	assert_string_equal(tpid_https_class_name(-1), "UNDEFINED");
	assert_string_equal(tpid_https_class_name(8), "UNDEFINED");
	tpid_https_result_clear(NULL);
	tpid_https_free(m);
}

typedef struct addr_case
{
	const char *ip;
	int pub;
} addr_case_t;

/* Every refused range, its edges, and the IPv6 forms of IPv4 ones. */
static void test_addr_public(void **state)
{
	static const addr_case_t cases[] = {{"8.8.8.8", 1}, {"1.1.1.1", 1},
			{"0.0.0.0", 0}, {"0.255.255.255", 0}, {"10.0.0.1", 0},
			{"10.255.255.255", 0}, {"11.0.0.0", 1}, {"100.63.255.255", 1},
			{"100.64.0.0", 0}, {"100.127.255.255", 0}, {"100.128.0.0", 1},
			{"127.0.0.1", 0}, {"127.255.255.254", 0}, {"128.0.0.1", 1},
			{"169.254.169.254", 0}, {"169.254.0.1", 0}, {"169.255.0.1", 1},
			{"172.15.255.255", 1}, {"172.16.0.0", 0}, {"172.31.255.255", 0},
			{"172.32.0.0", 1}, {"192.168.0.1", 0}, {"192.169.0.1", 1},
			{"192.0.0.8", 0}, {"198.18.0.1", 0}, {"198.19.255.255", 0},
			{"198.20.0.0", 1}, {"224.0.0.1", 0}, {"239.255.255.255", 0},
			{"240.0.0.1", 0}, {"255.255.255.255", 0}, {"223.255.255.255", 1},
			{"::", 0}, {"::1", 0}, {"::8.8.8.8", 0}, {"::ffff:127.0.0.1", 0},
			{"::ffff:10.1.2.3", 0}, {"::ffff:169.254.169.254", 0},
			{"::ffff:8.8.8.8", 1}, {"::ffff:0:127.0.0.1", 0},
			{"::ffff:0:8.8.8.8", 1}, {"64:ff9b::7f00:1", 0},
			{"64:ff9b::808:808", 1}, {"64:ff9b:1::1", 0}, {"2002:7f00:1::1", 0},
			{"2002:c0a8:101::1", 0}, {"2002:808:808::1", 1}, {"2001:db8::1", 0},
			{"2001::1", 0}, {"2001:4860::8888", 1}, {"2a00:1450:4001::1", 1},
			{"fc00::1", 0}, {"fdff:ffff::1", 0}, {"fe80::1", 0}, {"febf::1", 0},
			{"fec0::1", 0}, {"ff02::1", 0}, {"100::1", 0}, {"fbff:ffff::1", 1}};
	unsigned char a[16];
	size_t i;
	(void)state;

	for(i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		int fam = strchr(cases[i].ip, ':') ? AF_INET6 : AF_INET;
		assert_int_equal(inet_pton(fam, cases[i].ip, a), 1);
		if(tpid_https_addr_public(fam, a) != cases[i].pub)
			fail_msg("%s: expected %d", cases[i].ip, cases[i].pub);
	}
	assert_int_equal(tpid_https_addr_public(AF_UNIX, a), 0);
	assert_int_equal(tpid_https_addr_public(AF_INET, NULL), 0);
}

/* Not allowed: refused before connecting (the server sees nothing); a
 * connection another request opened while allowed is not reused either. */
static void test_address_policy(void **state)
{
	tpid_https_t *m = tpid_https_new(0);
	tpid_enterprise_t e;
	res_t r[MAXRES];
	srv_t s;
	int u;
	(void)state;

	srv_start(&s, 0, 200, authorized);
	enterprise(&e, s.port);
	e.allow_private_address = 0;
	assert_int_equal(hook_add(m, &e, &query, &u), TPID_OK);
	assert_int_equal(collect(m, r, 1, 3000), 1);
	assert_int_equal(r[0].h.cls, TPID_HTTPS_ADDRESS);
	assert_int_equal(r[0].rc, TPID_R_HOOK_CONNECT);
	assert_string_equal(r[0].a.reason, "address refused by policy");
	assert_true(r[0].at_ms < 250.0);
	assert_int_equal(srv_accepted(&s), 0);

	e.allow_private_address = 1;
	assert_int_equal(hook_add(m, &e, &query, &u), TPID_OK);
	assert_int_equal(collect(m, r, 1, 3000), 1);
	assert_int_equal(r[0].rc, TPID_OK);
	assert_int_equal(r[0].h.cls, TPID_HTTPS_OK);
	assert_int_equal(srv_accepted(&s), 1);

	e.allow_private_address = 0; /* the kept connection is refused too */
	assert_int_equal(hook_add(m, &e, &query, &u), TPID_OK);
	assert_int_equal(collect(m, r, 1, 3000), 1);
	assert_int_equal(r[0].h.cls, TPID_HTTPS_ADDRESS);
	assert_int_equal(srv_accepted(&s), 1);
	tpid_https_free(m);
	srv_stop(&s);
}

/* A 3xx is a failure with its status; Location is not followed. */
static void test_redirect_refused(void **state)
{
	static const int codes[] = {301, 302, 303, 307, 308};
	char url[64];
	tpid_https_t *m;
	tpid_https_req_t q;
	tpid_https_result_t res;
	void *user;
	size_t i;
	srv_t s;
	int n;
	(void)state;

	for(i = 0; i < sizeof(codes) / sizeof(codes[0]); i++) {
		m = tpid_https_new(0);
		srv_conf.extra = "Location: https://127.0.0.1:1/elsewhere\r\n";
		srv_start(&s, 0, codes[i], "{}");
		srv_conf.extra = NULL;
		snprintf(url, sizeof(url), "https://127.0.0.1:%d/x", s.port);
		q = get_req(url, 1);
		assert_int_equal(tpid_https_add(m, &q, &s), 0);
		for(n = 0; n < 60 && tpid_https_next(m, &user, &res) == 0; n++)
			assert_int_equal(tpid_https_wait(m, -1, 50, NULL), 0);
		assert_true(n < 60);
		assert_ptr_equal(user, &s);
		assert_int_equal(res.cls, TPID_HTTPS_HTTP);
		assert_int_equal(res.status, codes[i]);
		assert_int_equal(srv_accepted(&s), 1);
		tpid_https_result_clear(&res);
		tpid_https_free(m);
		srv_stop(&s);
	}
}

typedef struct hdr_case
{
	const char *extra;
	const char *cache_control;
	const char *expires;
} hdr_case_t;

/* Cache-Control (joined), Expires; hostile values are not taken. */
static void test_response_headers(void **state)
{
	static const hdr_case_t cases[] = {
			{"Cache-Control: max-age=60\r\nExpires: Thu, 01 Jan 2099 00:00:00 "
			 "GMT\r\n",
					"max-age=60", "Thu, 01 Jan 2099 00:00:00 GMT"},
			{"cache-control: max-age=60\r\nCache-Control: public\r\n",
					"max-age=60, public", ""},
			{"Expires: 0\r\nExpires: 1\r\n", "", ""}, /* ambiguous */
			{"Cache-Control: max-age=\x01"
			 "60\r\n",
					"", ""},
			{"Cache-Control: max-age=\xc3\xa9\r\n", "", ""},
			{"Cache-Control: "
			 "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
			 "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
			 "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
			 "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
			 "\r\n",
					"", ""}, /* over-long: not cut */
			{"", "", ""},
	};
	char url[64];
	tpid_https_t *m;
	tpid_https_req_t q;
	tpid_https_result_t res;
	void *user;
	size_t i;
	srv_t s;
	int n;
	(void)state;

	for(i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		m = tpid_https_new(0);
		srv_conf.extra = cases[i].extra;
		srv_start(&s, 0, 200, "{\"k\":1}");
		srv_conf.extra = NULL;
		snprintf(url, sizeof(url), "https://127.0.0.1:%d/x", s.port);
		q = get_req(url, 1);
		assert_int_equal(tpid_https_add(m, &q, NULL), 0);
		for(n = 0; n < 60 && tpid_https_next(m, &user, &res) == 0; n++)
			assert_int_equal(tpid_https_wait(m, -1, 50, NULL), 0);
		assert_true(n < 60);
		assert_int_equal(res.cls, TPID_HTTPS_OK);
		assert_int_equal(res.status, 200);
		assert_int_equal(res.body_len, 7);
		assert_string_equal(res.body, "{\"k\":1}");
		assert_string_equal(res.content_type, "application/json");
		assert_string_equal(res.cache_control, cases[i].cache_control);
		assert_string_equal(res.expires, cases[i].expires);
		tpid_https_result_clear(&res);
		tpid_https_free(m);
		srv_stop(&s);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
			cmocka_unit_test(test_bad_args),
			cmocka_unit_test(test_connect_refused),
			cmocka_unit_test(test_https_only),
			cmocka_unit_test(test_plain_http_is_tls_failure),
			cmocka_unit_test(test_timeout_no_handshake),
			cmocka_unit_test(test_timeout_no_answer),
			cmocka_unit_test(test_parallel),
			cmocka_unit_test(test_host_limit),
			cmocka_unit_test(test_bad_answers),
			cmocka_unit_test(test_wrong_ca),
			cmocka_unit_test(test_wait_extra_fd),
			cmocka_unit_test(test_free_in_flight),
			cmocka_unit_test(test_engine_bad_requests),
			cmocka_unit_test(test_addr_public),
			cmocka_unit_test(test_address_policy),
			cmocka_unit_test(test_redirect_refused),
			cmocka_unit_test(test_response_headers),
	};
	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
