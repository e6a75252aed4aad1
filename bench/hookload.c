/*
 * hookload - open-loop HTTPS load on an enterprise hook, to check that the
 * hook itself is not what a benchmark measures (bench/README.md).
 *
 * Starts RATE verification requests per second for SECONDS seconds with libcurl
 * multi (keep-alive connections, as the module uses), user i of USERS each time
 * (the served user tel:+4970NNNNNNNN and sip:uNNNNNNNN@acme.example of
 * bench/run.py's (c) directory), and prints the answer times.
 *
 *   cc -O2 -o build/bench/hookload bench/hookload.c -lcurl
 *   build/bench/hookload RATE SECONDS https://127.0.0.1:8443/acme/tpid/v1/verification \
 *       build/pki/hook-ca.pem [USERS]
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include <curl/curl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define MAX_CONN 4000
#define MAX_LAT 1000000

typedef struct
{
	CURL *h;
	double t0;
	int busy;
	char body[512];
} slot_t;

static double now(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return t.tv_sec + t.tv_nsec / 1e9;
}

static size_t discard(void *p, size_t s, size_t n, void *u)
{
	(void)p;
	(void)u;
	return s * n;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return x < y ? -1 : x > y;
}

int main(int argc, char **argv)
{
	double rate, dur, t0, el;
	const char *url, *ca;
	long users, total, started = 0, done = 0, ok = 0, fail = 0;
	slot_t *s;
	double *lat;
	long nl = 0;
	CURLM *m;
	struct curl_slist *hd;

	if(argc < 5) {
		fprintf(stderr, "usage: %s RATE SECONDS URL CA_FILE [USERS]\n",
				argv[0]);
		return 2;
	}
	rate = atof(argv[1]);
	dur = atof(argv[2]);
	url = argv[3];
	ca = argv[4];
	users = argc > 5 ? atol(argv[5]) : 1;
	total = (long)(rate * dur);
	if(rate <= 0 || dur <= 0 || users < 1 || total < 1)
		return 2;
	s = calloc(MAX_CONN, sizeof(*s));
	lat = calloc(MAX_LAT, sizeof(*lat));
	if(s == NULL || lat == NULL)
		return 1;
	curl_global_init(CURL_GLOBAL_DEFAULT);
	m = curl_multi_init();
	curl_multi_setopt(m, CURLMOPT_MAXCONNECTS, (long)MAX_CONN);
	hd = curl_slist_append(NULL, "Content-Type: application/json");
	t0 = now();
	while(done < total) {
		long due = (long)((now() - t0) * rate);
		int running, q;
		CURLMsg *msg;

		if(due > total)
			due = total;
		while(started < due) {
			int i;
			CURL *h;
			for(i = 0; i < MAX_CONN && s[i].busy; i++)
				;
			if(i == MAX_CONN)
				break;
			if(s[i].h == NULL)
				s[i].h = curl_easy_init();
			h = s[i].h;
			snprintf(s[i].body, sizeof(s[i].body),
					"{\"tpidVerificationRequest\":{\"servedUser\":"
					"\"tel:+4970%08ld\",\"tpid\":\"sip:u%08ld@acme.example\","
					"\"dest\":[\"tel:+4961511234567\"],\"time\":%ld}}",
					started % users, started % users, (long)time(NULL));
			curl_easy_setopt(h, CURLOPT_URL, url);
			curl_easy_setopt(h, CURLOPT_CAINFO, ca);
			curl_easy_setopt(h, CURLOPT_POSTFIELDS, s[i].body);
			curl_easy_setopt(h, CURLOPT_HTTPHEADER, hd);
			curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, discard);
			curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, 5000L);
			curl_easy_setopt(h, CURLOPT_PRIVATE, (void *)&s[i]);
			s[i].t0 = now();
			s[i].busy = 1;
			curl_multi_add_handle(m, h);
			started++;
		}
		curl_multi_perform(m, &running);
		while((msg = curl_multi_info_read(m, &q)) != NULL) {
			slot_t *sl;
			long code = 0;
			if(msg->msg != CURLMSG_DONE)
				continue;
			curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE, (char **)&sl);
			curl_easy_getinfo(msg->easy_handle, CURLINFO_RESPONSE_CODE, &code);
			if(msg->data.result == CURLE_OK && code == 200)
				ok++;
			else
				fail++;
			if(nl < MAX_LAT)
				lat[nl++] = now() - sl->t0;
			curl_multi_remove_handle(m, msg->easy_handle);
			sl->busy = 0;
			done++;
		}
		curl_multi_poll(m, NULL, 0, 1, NULL);
	}
	el = now() - t0;
	qsort(lat, nl, sizeof(double), cmp_double);
	printf("rate=%.0f total=%ld ok=%ld fail=%ld elapsed=%.2f achieved=%.0f/s "
		   "p50=%.1fms p99=%.1fms max=%.1fms\n",
			rate, total, ok, fail, el, done / el, lat[nl / 2] * 1e3,
			lat[nl * 99 / 100] * 1e3, lat[nl - 1] * 1e3);
	return fail ? 1 : 0;
}
