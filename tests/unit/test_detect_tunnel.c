/* test_detect_tunnel.c: sensor/detect-tunnel.c, the DNS- and ICMP-tunnel measures.
 *
 * Expected behaviour from include/detect-tunnel.h: Shannon entropy in bits per byte
 * worked out by hand; the left part of a query name under its registered domain; a
 * dnscat/iodine-like stream (500 queries of random 50-char base32 labels in 2 minutes)
 * against ordinary lookups of 20 names; the TXT/NULL share; everything, unique names and
 * the longest label included, leaving the window with its bucket; unique names exact
 * below 256 and "at least 256" at the cap; ping (real payloads from pcaps/zeek/icmp: a
 * 64-bit Linux ping stamps 16 bytes, a BSD/macOS ping 8) against a 1000-byte random
 * ICMP tunnel; one table for both kinds with LRU eviction counted.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "detect-tunnel.h"

#define SEC 1000000ULL
#define MIN (60 * SEC)
/* an arbitrary, unaligned packet time */
#define T0 (1700000000ULL * SEC + 123457)
/* the start of a whole second (a bucket boundary for a 32 s window) */
#define B0 (1700000000ULL * SEC)

static const uint8_t SRC4[16] = { 10, 0, 0, 7 };
static const uint8_t DST4[16] = { 192, 0, 2, 1 };
static const uint8_t SRC6[16] = { 0x20, 0x01, 0x0d, 0xb8, [15] = 1 };

static const char B32[] = "abcdefghijklmnopqrstuvwxyz234567";

static uint64_t rng = 0x9e3779b97f4a7c15ULL;

static uint64_t rnd(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return rng;
}

static struct tunnel_table *mk(uint32_t n)
{
	char err[256] = "";
	struct tunnel_table *t = tunnel_table_create(n, err, sizeof(err));
	if (!t)
		fail_msg("tunnel_table_create: %s", err);
	return t;
}

static bool dns(struct tunnel_table *t, const char *regdom, const char *qname,
		uint16_t qtype, uint32_t window_s, uint64_t now, struct tunnel_dns_sum *s)
{
	return tunnel_dns_query(t, 4, SRC4, regdom, strlen(regdom), qname, strlen(qname),
				qtype, window_s, now, s);
}

static bool icmp(struct tunnel_table *t, const uint8_t *p, size_t caplen, uint32_t len,
		 uint32_t window_s, uint64_t now, struct tunnel_icmp_sum *s)
{
	return tunnel_icmp_echo(t, 4, SRC4, DST4, p, caplen, len, window_s, now, s);
}

static double H(const char *s)
{
	return tunnel_entropy((const uint8_t *)s, strlen(s));
}

static void test_create_bounds(void **state)
{
	char err[256] = "";
	(void)state;
	assert_null(tunnel_table_create(0, err, sizeof(err)));
	assert_non_null(strstr(err, "max_entries"));
	err[0] = '\0';
	assert_null(tunnel_table_create(TUNNEL_MAX_ENTRIES + 1, err, sizeof(err)));
	assert_non_null(strstr(err, "max_entries"));
	struct tunnel_table *t = mk(1);
	assert_int_equal(tunnel_table_stats(t)->entries, 0);
	tunnel_table_destroy(t);
	tunnel_table_destroy(NULL);
}

/* Worked by hand: H = -sum p log2 p over the byte counts. */
static void test_entropy(void **state)
{
	char s64[65];
	uint8_t all[256];
	(void)state;

	assert_true(tunnel_entropy(NULL, 0) == 0.0);
	assert_true(H("a") == 0.0);
	assert_true(H("aaaa") == 0.0);		   /* one symbol */
	assert_float_equal(H("abcd"), 2.0, 1e-12);   /* 4 x 1/4 */
	assert_float_equal(H("aabb"), 1.0, 1e-12);   /* 2 x 1/2 */
	assert_float_equal(H("aaab"), 0.8112781244591328, 1e-12); /* 3/4, 1/4 */
	/* the 32 base32 symbols twice each: 32 x 1/32 = 5 bits */
	snprintf(s64, sizeof(s64), "%s%s", B32, B32);
	assert_int_equal(strlen(s64), 64);
	assert_float_equal(H(s64), 5.0, 1e-12);
	/* a random 64-char base32 string comes close to 5 (fewer than 32 symbols show up
	 * in 64 draws, so it is a little below) */
	for (int i = 0; i < 64; i++)
		s64[i] = B32[rnd() % 32];
	assert_true(H(s64) > 4.3 && H(s64) <= 5.0);
	for (int i = 0; i < 256; i++)
		all[i] = (uint8_t)i;
	assert_float_equal(tunnel_entropy(all, 256), 8.0, 1e-12);
	/* "x1y2.tunnel": 11 chars, 'n' twice, 9 others once: log2(11) - 2/11 */
	assert_float_equal(H("x1y2.tunnel"), log2(11.0) - 2.0 / 11.0, 1e-12);
}

/* The table's entropy is the same double as tunnel_entropy's, bit for bit: every term
 * (c/n) log2(c/n) of a name (one byte c times, the rest distinct), random names over
 * small and large alphabets, each asked twice (the second time from the cached terms). */
static void same_entropy(struct tunnel_table *t, const uint8_t *p, size_t n)
{
	double want = tunnel_entropy(p, n);
	for (int k = 0; k < 2; k++) {
		double got = tunnel_table_entropy(t, p, n);
		if (memcmp(&got, &want, sizeof(got)) != 0)
			fail_msg("n %zu: table %.17g, formula %.17g", n, got, want);
	}
}

static void test_entropy_table(void **state)
{
	static const size_t alphabets[] = { 1, 2, 3, 16, 32, 37, 64, 200, 256 };
	uint8_t p[TUNNEL_NAME_MAX + 3];
	struct tunnel_table *t = mk(1);
	(void)state;

	same_entropy(t, NULL, 0);
	for (size_t n = 1; n <= TUNNEL_NAME_MAX; n++) {
		for (size_t c = 1; c <= n; c++) {
			memset(p, 'a', c);
			for (size_t i = c; i < n; i++)
				p[i] = (uint8_t)('a' + 1 + (i - c)); /* wraps past 255: distinct */
			same_entropy(t, p, n);
		}
	}
	for (int round = 0; round < 20000; round++) {
		size_t n = 1 + (size_t)rnd() % TUNNEL_NAME_MAX;
		size_t a = alphabets[(size_t)rnd() % (sizeof(alphabets) / sizeof(alphabets[0]))];
		uint8_t base = (uint8_t)rnd();
		for (size_t i = 0; i < n; i++)
			p[i] = (uint8_t)(base + (size_t)rnd() % a);
		same_entropy(t, p, n);
	}
	/* longer than a name: the formula itself */
	for (size_t n = TUNNEL_NAME_MAX + 1; n <= sizeof(p); n++) {
		for (size_t i = 0; i < n; i++)
			p[i] = (uint8_t)(i * 7);
		same_entropy(t, p, n);
	}
	tunnel_table_destroy(t);
}

static size_t lp(const char *q, const char *r)
{
	return tunnel_dns_left_part(q, strlen(q), r, strlen(r));
}

static void test_left_part(void **state)
{
	(void)state;
	const char *q = "x1y2.tunnel.example.com";
	size_t n = lp(q, "example.com");
	assert_int_equal(n, 11);
	assert_memory_equal(q, "x1y2.tunnel", n);

	assert_int_equal(lp("www.example.com", "example.com"), 3);
	assert_int_equal(lp("a.b.c.example.co.uk", "example.co.uk"), 5);
	assert_int_equal(lp("example.com", "example.com"), 0);	   /* the domain itself */
	assert_int_equal(lp("badexample.com", "example.com"), 0);  /* not a label boundary */
	assert_int_equal(lp("example.com.evil.net", "example.com"), 0);
	assert_int_equal(lp("www.example.org", "example.com"), 0);
	assert_int_equal(lp("com", "example.com"), 0);
	assert_int_equal(lp("", "example.com"), 0);
	assert_int_equal(lp("www.example.com", ""), 0);
	assert_int_equal(lp(".example.com", "example.com"), 0);   /* empty left part */
	/* case and one trailing dot do not matter */
	assert_int_equal(lp("WWW.Example.COM", "example.com"), 3);
	assert_int_equal(lp("www.example.com.", "example.com"), 3);
	assert_int_equal(lp("www.example.com", "example.com."), 3);
	assert_int_equal(lp("www.example.com.", "EXAMPLE.com."), 3);
}

static void test_refusals(void **state)
{
	struct tunnel_table *t = mk(8);
	struct tunnel_dns_sum s;
	struct tunnel_icmp_sum c;
	char longname[TUNNEL_NAME_MAX + 3];
	uint8_t p[8] = { 0 };
	(void)state;

	memset(&s, 0xaa, sizeof(s));
	assert_false(tunnel_dns_query(t, 5, SRC4, "example.com", 11, "a.example.com", 13, 1,
				      60, T0, &s));
	assert_int_equal(s.queries, 0);
	assert_true(s.mean_entropy == 0.0);
	assert_false(tunnel_dns_query(t, 0, SRC4, "example.com", 11, "a.example.com", 13, 1,
				      60, T0, &s));
	assert_false(dns(t, "example.com", "a.example.com", 1, 0, T0, &s));
	assert_false(dns(t, "example.com", "a.example.com", 1, TUNNEL_MAX_S + 1, T0, &s));
	assert_false(dns(t, "", "a.example.com", 1, 60, T0, &s));
	assert_false(dns(t, ".", "a.example.com", 1, 60, T0, &s));
	assert_false(tunnel_dns_query(t, 4, SRC4, NULL, 0, "a", 1, 1, 60, T0, &s));
	assert_false(tunnel_dns_query(t, 4, SRC4, "example.com", 11, NULL, 3, 1, 60, T0, &s));

	/* names: 253 chars (254 with the trailing dot) at most */
	memset(longname, 'a', sizeof(longname));
	memcpy(longname + TUNNEL_NAME_MAX - 12, ".example.com", 12);
	longname[TUNNEL_NAME_MAX] = '\0';
	assert_true(dns(t, "example.com", longname, 1, 60, T0, &s));
	assert_int_equal(s.name_bytes, TUNNEL_NAME_MAX - 12);
	assert_int_equal(s.max_label_length, TUNNEL_NAME_MAX - 12);
	longname[TUNNEL_NAME_MAX] = '.';
	longname[TUNNEL_NAME_MAX + 1] = '\0';
	assert_true(dns(t, "example.com", longname, 1, 60, T0, &s));
	assert_int_equal(s.unique_names, 1); /* the same name */
	longname[TUNNEL_NAME_MAX] = 'a';
	assert_false(dns(t, "example.com", longname, 1, 60, T0, &s));
	assert_false(dns(t, longname, "a.example.com", 1, 60, T0, &s));
	assert_int_equal(s.queries, 0);
	/* an empty query name (the root) is a query with an empty left part */
	assert_true(tunnel_dns_query(t, 4, SRC4, "example.com", 11, NULL, 0, 1, 60, T0, &s));
	assert_int_equal(s.queries, 3);
	assert_int_equal(s.unique_names, 2);

	memset(&c, 0xaa, sizeof(c));
	assert_false(tunnel_icmp_echo(t, 7, SRC4, DST4, p, 8, 8, 60, T0, &c));
	assert_int_equal(c.packets, 0);
	assert_false(icmp(t, p, 8, 8, 0, T0, &c));
	assert_false(icmp(t, p, 8, 8, TUNNEL_MAX_S + 1, T0, &c));
	assert_false(icmp(t, NULL, 8, 8, 60, T0, &c));
	assert_true(icmp(t, NULL, 0, 8, 60, T0, &c)); /* nothing captured: fine */
	assert_int_equal(c.packets, 1);
	assert_int_equal(tunnel_table_stats(t)->entries, 2);

	/* window limits are accepted */
	assert_true(dns(t, "example.com", "a.example.com", 1, TUNNEL_MIN_S, T0, NULL));
	assert_true(dns(t, "example.com", "a.example.com", 1, TUNNEL_MAX_S, T0, NULL));
	assert_true(icmp(t, p, 8, 8, TUNNEL_MAX_S, T0, NULL));
	tunnel_table_destroy(t);
}

static void test_one_query(void **state)
{
	struct tunnel_table *t = mk(8);
	struct tunnel_dns_sum s;
	(void)state;

	assert_true(dns(t, "example.com", "x1y2.tunnel.example.com", 1, 300, T0, &s));
	assert_int_equal(s.queries, 1);
	assert_int_equal(s.unique_names, 1);
	assert_int_equal(s.name_bytes, 11);
	assert_int_equal(s.max_label_length, 6); /* "tunnel" */
	assert_float_equal(s.mean_entropy, log2(11.0) - 2.0 / 11.0, 1e-12);
	assert_true(s.txt_null_share == 0.0);
	assert_int_equal(s.first_us, T0);
	assert_int_equal(s.last_us, T0);

	/* a name not under the registered domain: a query and a name, empty left part */
	assert_true(dns(t, "example.com", "www.example.org", 1, 300, T0 + SEC, &s));
	assert_int_equal(s.queries, 2);
	assert_int_equal(s.unique_names, 2);
	assert_int_equal(s.name_bytes, 11);
	assert_int_equal(s.max_label_length, 6);
	assert_float_equal(s.mean_entropy, (log2(11.0) - 2.0 / 11.0) / 2, 1e-12);
	/* the domain itself: empty left part too */
	assert_true(dns(t, "example.com", "example.com", 1, 300, T0 + SEC, &s));
	assert_int_equal(s.queries, 3);
	assert_int_equal(s.unique_names, 3);
	assert_int_equal(s.name_bytes, 11);
	/* case and trailing dot: the same name, the same entry */
	assert_true(dns(t, "Example.COM.", "X1Y2.Tunnel.example.com.", 1, 300, T0 + 2 * SEC,
			&s));
	assert_int_equal(s.queries, 4);
	assert_int_equal(s.unique_names, 3);
	assert_int_equal(s.name_bytes, 22);
	assert_float_equal(s.mean_entropy, (log2(11.0) - 2.0 / 11.0) / 2, 1e-12);
	assert_int_equal(s.last_us, T0 + 2 * SEC);
	assert_int_equal(tunnel_table_stats(t)->entries, 1);
	tunnel_table_destroy(t);
}

/* iodine / dnscat2-like: 500 queries, a fresh random 50-char base32 label each, in 2
 * minutes; against 2000 ordinary lookups of 20 names of one domain. */
static void test_tunnel_vs_ordinary(void **state)
{
	static const char *const common[20] = {
		"www",	    "mail",    "accounts", "drive",   "docs",
		"apis",	    "fonts",   "maps",	   "play",    "news",
		"calendar", "photos",  "meet",	   "chat",    "translate",
		"support",  "clients4", "ssl",	   "update",  "lh3",
	};
	struct tunnel_table *t = mk(8);
	struct tunnel_dns_sum s, o;
	char q[128];
	(void)state;

	for (int i = 0; i < 500; i++) {
		for (int k = 0; k < 50; k++)
			q[k] = B32[rnd() % 32];
		snprintf(q + 50, sizeof(q) - 50, ".tunnel-example.net");
		assert_true(dns(t, "tunnel-example.net", q, 16, 300,
				T0 + (uint64_t)i * (2 * MIN) / 500, &s));
		if (i == 99) {
			assert_int_equal(s.unique_names, 100); /* exact below the cap */
		}
	}
	assert_int_equal(s.queries, 500);
	assert_int_equal(s.unique_names, TUNNEL_DNS_NAMES_MAX); /* at least 256 */
	assert_int_equal(s.name_bytes, 500 * 50);
	assert_int_equal(s.max_label_length, 50);
	assert_true(s.mean_entropy > 4.0 && s.mean_entropy <= 5.0);
	assert_float_equal(s.txt_null_share, 1.0, 1e-12);

	size_t total = 0;
	double hsum = 0;
	for (int i = 0; i < 2000; i++) {
		snprintf(q, sizeof(q), "%s.google.com", common[i % 20]);
		total += strlen(common[i % 20]);
		hsum += H(common[i % 20]);
		assert_true(dns(t, "google.com", q, (i & 1) ? 28 : 1, 300,
				T0 + (uint64_t)i * (2 * MIN) / 2000, &o));
	}
	assert_int_equal(o.queries, 2000);
	assert_int_equal(o.unique_names, 20);
	assert_int_equal(o.name_bytes, total);
	assert_true(o.name_bytes / o.queries < 6); /* 5.1 bytes per query */
	assert_int_equal(o.max_label_length, 9);   /* "translate" */
	assert_float_equal(o.mean_entropy, hsum / 2000, 1e-9);
	assert_true(o.mean_entropy < 2.5);
	assert_true(o.txt_null_share == 0.0);
	/* the two streams are two entries and did not disturb each other */
	assert_int_equal(tunnel_table_stats(t)->entries, 2);
	tunnel_table_destroy(t);
}

static void test_txt_null_share(void **state)
{
	struct tunnel_table *t = mk(8);
	struct tunnel_dns_sum s;
	static const uint16_t types[10] = { 1, 16, 28, 10, 1, 16, 15, 1, 16, 5 };
	(void)state;

	for (int i = 0; i < 10; i++)
		assert_true(dns(t, "example.com", "a.example.com", types[i], 60,
				T0 + (uint64_t)i * SEC, &s));
	assert_int_equal(s.queries, 10);
	assert_int_equal(s.txt_null, 4); /* three TXT and one NULL */
	assert_float_equal(s.txt_null_share, 0.4, 1e-12);
	assert_int_equal(s.unique_names, 1);
	tunnel_table_destroy(t);
}

/* 32 s window: 1 s buckets aligned on whole seconds. */
static void test_window_expiry(void **state)
{
	struct tunnel_table *t = mk(8);
	struct tunnel_dns_sum s;
	char q[128];
	(void)state;

	/* a tunnel burst in second 0 */
	for (int i = 0; i < 300; i++) {
		for (int k = 0; k < 60; k++)
			q[k] = B32[rnd() % 32];
		snprintf(q + 60, sizeof(q) - 60, ".example.com");
		assert_true(dns(t, "example.com", q, 10, 32, B0 + (uint64_t)i, &s));
	}
	assert_int_equal(s.unique_names, 256);
	assert_int_equal(s.max_label_length, 60);
	assert_int_equal(s.txt_null, 300);

	/* second 31: still all in (buckets 0 .. 31) */
	assert_true(dns(t, "example.com", "www.example.com", 1, 32, B0 + 31 * SEC, &s));
	assert_int_equal(s.queries, 301);
	assert_int_equal(s.unique_names, 256); /* full: www replaced the oldest name */
	assert_int_equal(s.max_label_length, 60);
	assert_int_equal(s.first_us, B0);

	/* second 32: bucket 0 has left, and with it every measure of the burst */
	assert_true(dns(t, "example.com", "mx.example.com", 1, 32, B0 + 32 * SEC, &s));
	assert_int_equal(s.queries, 2);
	assert_int_equal(s.unique_names, 2);
	assert_int_equal(s.name_bytes, 3 + 2);
	assert_int_equal(s.max_label_length, 3);
	assert_int_equal(s.txt_null, 0);
	assert_true(s.txt_null_share == 0.0);
	assert_float_equal(s.mean_entropy, (0.0 + 1.0) / 2, 1e-12); /* "www", "mx" */
	assert_int_equal(s.first_us, B0 + 31 * SEC);

	/* a name counts by its latest query: www again at 50, mx last at 32 */
	assert_true(dns(t, "example.com", "www.example.com", 1, 32, B0 + 50 * SEC, &s));
	assert_int_equal(s.unique_names, 2);
	assert_true(dns(t, "example.com", "ns.example.com", 1, 32, B0 + 64 * SEC, &s));
	assert_int_equal(s.queries, 2);	     /* www at 50, ns at 64 */
	assert_int_equal(s.unique_names, 2); /* mx (32) has left */

	/* a long quiet gap clears everything */
	assert_true(dns(t, "example.com", "a.example.com", 1, 32, B0 + 3600 * SEC, &s));
	assert_int_equal(s.queries, 1);
	assert_int_equal(s.unique_names, 1);
	assert_int_equal(s.first_us, B0 + 3600 * SEC);
	tunnel_table_destroy(t);
}

/* Below the cap the count is exact even after the set was full: the names that made room
 * had the oldest latest-query and are out of the window before the count drops. */
static void test_unique_exact_after_cap(void **state)
{
	struct tunnel_table *t = mk(8);
	struct tunnel_dns_sum s;
	char q[64];
	(void)state;

	for (int i = 0; i < 200; i++) {
		snprintf(q, sizeof(q), "n%d.example.com", i);
		assert_true(dns(t, "example.com", q, 1, 32, B0 + (uint64_t)i, &s));
	}
	assert_int_equal(s.unique_names, 200);
	/* n0 .. n9 again at second 5: their latest query moves */
	for (int i = 0; i < 10; i++) {
		snprintf(q, sizeof(q), "n%d.example.com", i);
		assert_true(dns(t, "example.com", q, 1, 32, B0 + 5 * SEC, &s));
	}
	assert_int_equal(s.unique_names, 200);
	for (int i = 0; i < 100; i++) {
		snprintf(q, sizeof(q), "m%d.example.com", i);
		assert_true(dns(t, "example.com", q, 1, 32, B0 + 10 * SEC + (uint64_t)i, &s));
	}
	assert_int_equal(s.unique_names, 256); /* 300 distinct: at least 256 */
	assert_int_equal(s.queries, 310);

	/* second 33: buckets 2 .. 33; n10 .. n199 (second 0) have left; n0 .. n9 (second
	 * 5) and m0 .. m99 are in, and were never the ones replaced */
	assert_true(dns(t, "example.com", "z.example.com", 1, 32, B0 + 33 * SEC, &s));
	assert_int_equal(s.queries, 10 + 100 + 1);
	assert_int_equal(s.unique_names, 10 + 100 + 1);
	/* second 37: n0 .. n9 have left */
	assert_true(dns(t, "example.com", "z.example.com", 1, 32, B0 + 37 * SEC, &s));
	assert_int_equal(s.unique_names, 100 + 1);
	tunnel_table_destroy(t);
}

static void test_keys(void **state)
{
	struct tunnel_table *t = mk(16);
	struct tunnel_dns_sum s;
	struct tunnel_icmp_sum c;
	uint8_t src4_junk[16] = { 10, 0, 0, 7, 0xde, 0xad, 0xbe, 0xef };
	uint8_t p[56] = { 0 };
	(void)state;

	assert_true(dns(t, "example.com", "a.example.com", 1, 300, T0, &s));
	/* IPv4: bytes 4 .. 15 are not the address */
	assert_true(tunnel_dns_query(t, 4, src4_junk, "example.com", 11, "b.example.com", 13,
				     1, 300, T0, &s));
	assert_int_equal(s.queries, 2);
	/* the registered domain without case: the same entry */
	assert_true(dns(t, "EXAMPLE.com", "c.example.com", 1, 300, T0, &s));
	assert_int_equal(s.queries, 3);
	assert_int_equal(tunnel_table_stats(t)->entries, 1);
	/* another domain, window, family, source: other entries */
	assert_true(dns(t, "example.net", "a.example.net", 1, 300, T0, &s));
	assert_int_equal(s.queries, 1);
	assert_true(dns(t, "example.com", "a.example.com", 1, 3600, T0, &s));
	assert_int_equal(s.queries, 1);
	assert_true(tunnel_dns_query(t, 6, SRC4, "example.com", 11, "a.example.com", 13, 1,
				     300, T0, &s));
	assert_int_equal(s.queries, 1);
	assert_true(tunnel_dns_query(t, 6, SRC6, "example.com", 11, "a.example.com", 13, 1,
				     300, T0, &s));
	assert_int_equal(s.queries, 1);
	assert_int_equal(tunnel_table_stats(t)->entries, 5);

	/* ICMP: per (source, destination), its own kind */
	assert_true(icmp(t, p, sizeof(p), sizeof(p), 300, T0, &c));
	assert_int_equal(c.packets, 1);
	assert_true(tunnel_icmp_echo(t, 4, src4_junk, DST4, p, sizeof(p), sizeof(p), 300, T0,
				     &c));
	assert_int_equal(c.packets, 2);
	assert_true(tunnel_icmp_echo(t, 4, DST4, SRC4, p, sizeof(p), sizeof(p), 300, T0, &c));
	assert_int_equal(c.packets, 1); /* the other direction */
	assert_int_equal(tunnel_table_stats(t)->entries, 7);
	tunnel_table_destroy(t);
}

static char ref_lower(char c)
{
	return c >= 'A' && c <= 'Z' ? (char)(c + 32) : c;
}

/* Names and domains are taken without ASCII case, whatever their length (they are
 * lowercased eight bytes at a time): only 'A' .. 'Z' change, not '@', '[', '`', '{' nor
 * bytes above 0x7f whose low bits spell a letter. */
static void test_name_case(void **state)
{
	static const char edge[] = "AZaz@[`{09-_.";
	static const char high[] = { (char)0xc1, (char)0xda, (char)0xe1, (char)0xfa };
	static const char *const doms[] = { "x.io", "Example.COM", "a-long-registered-DOMAIN.org",
					    "eXaMpLe.Co.Uk" };
	char q[200], ql[200], dom[64];
	struct tunnel_dns_sum s;
	(void)state;

	for (int round = 0; round < 3000; round++) {
		struct tunnel_table *t = mk(4);
		const char *d = doms[round % 4];
		size_t rl = strlen(d), left = 1 + (size_t)rnd() % 60;
		for (size_t i = 0; i < rl; i++)
			dom[i] = rnd() % 2 ? d[i] : ref_lower(d[i]);
		dom[rl] = '\0';
		for (size_t i = 0; i < left; i++) {
			uint64_t r = rnd();
			q[i] = r % 4 == 0 ? edge[(r >> 8) % (sizeof(edge) - 1)] :
			       r % 4 == 1 ? high[(r >> 8) % 4] :
			       (char)((r % 8 < 4 ? 'A' : 'a') + (r >> 8) % 26);
		}
		q[left] = '.';
		memcpy(q + left + 1, d, rl + 1);
		for (size_t i = 0; i <= left + rl; i++)
			ql[i] = ref_lower(q[i]);
		ql[left + rl + 1] = '\0';

		assert_true(tunnel_dns_query(t, 4, SRC4, dom, rl, q, strlen(q), 1, 300, T0, &s));
		assert_int_equal(s.name_bytes, left);
		double want = tunnel_entropy((const uint8_t *)ql, left);
		assert_memory_equal(&s.mean_entropy, &want, sizeof(want));
		assert_true(dns(t, d, ql, 1, 300, T0, &s));
		assert_int_equal(s.queries, 2);
		assert_int_equal(s.unique_names, 1);
		assert_int_equal(tunnel_table_stats(t)->entries, 1);
		/* one byte that only looks like a case pair away: another name */
		size_t at = (size_t)rnd() % left;
		ql[at] = ql[at] == '@' ? '`' : ql[at] == '[' ? '{' : ql[at] == '`' ? '@' :
			 ql[at] == (char)0xc1 ? (char)0xe1 : ql[at] == (char)0xe1 ? (char)0xc1 :
			 (char)(ql[at] ^ 1);
		assert_true(dns(t, d, ql, 1, 300, T0, &s));
		assert_int_equal(s.unique_names, 2);
		tunnel_table_destroy(t);
	}
}

static void test_time_backwards(void **state)
{
	struct tunnel_table *t = mk(4);
	struct tunnel_dns_sum s;
	struct tunnel_icmp_sum c;
	uint8_t p[100] = { 0 };
	(void)state;

	assert_true(dns(t, "example.com", "a.example.com", 1, 32, B0 + 100 * SEC, &s));
	/* long before the window: counted at the latest time, not dropped */
	assert_true(dns(t, "example.com", "b.example.com", 1, 32, B0, &s));
	assert_int_equal(s.queries, 2);
	assert_int_equal(s.unique_names, 2);
	assert_int_equal(s.first_us, B0 + 100 * SEC);
	assert_int_equal(s.last_us, B0 + 100 * SEC);

	assert_true(icmp(t, p, 100, 100, 32, B0 + 100 * SEC, &c));
	assert_true(icmp(t, p, 100, 100, 32, B0, &c));
	assert_int_equal(c.packets, 2);
	assert_int_equal(c.large_payloads, 2);
	assert_int_equal(c.last_us, B0 + 100 * SEC);
	tunnel_table_destroy(t);
}

/* Echo payloads (after the 8-byte ICMP header) from pcaps/zeek/icmp. */

/* 5-pings.pcap, 172.16.133.2 -> 172.217.11.78, seq 1 and 2: 64-bit Linux iputils, a
 * 16-byte struct timeval (8 bytes of seconds, 8 of microseconds), then 0x10 .. 0x37. */
static void linux_ping(uint8_t p[56], int seq)
{
	static const uint8_t stamp[2][16] = {
		{ 0x8b, 0xcf, 0xcf, 0x5f, 0, 0, 0, 0, 0xdb, 0x0d, 0x0f, 0, 0, 0, 0, 0 },
		{ 0x8c, 0xcf, 0xcf, 0x5f, 0, 0, 0, 0, 0x52, 0x11, 0x0f, 0, 0, 0, 0, 0 },
	};
	memcpy(p, stamp[seq & 1], 16);
	for (int i = 16; i < 56; i++)
		p[i] = (uint8_t)i;
	/* later packets: the stamp moves on in both halves */
	p[0] = (uint8_t)(p[0] + seq);
	p[9] = (uint8_t)(p[9] + 3 * seq);
}

/* icmp-ping.pcap, 10.0.0.1 -> 74.125.225.99, seq 0 and 1: BSD/macOS, an 8-byte stamp
 * (32-bit seconds, 32-bit microseconds), then 0x08 .. 0x37. */
static void bsd_ping(uint8_t p[56], int seq)
{
	static const uint8_t stamp[2][8] = {
		{ 0x4f, 0x85, 0xe0, 0x43, 0x00, 0x0e, 0xeb, 0xff },
		{ 0x4f, 0x85, 0xe0, 0x44, 0x00, 0x0e, 0xf0, 0x7d },
	};
	memcpy(p, stamp[seq & 1], 8);
	for (int i = 8; i < 56; i++)
		p[i] = (uint8_t)i;
	p[7] = (uint8_t)(p[7] + 5 * seq);
}

static void test_icmp_ping(void **state)
{
	struct tunnel_table *t = mk(8);
	struct tunnel_icmp_sum c;
	uint8_t p[56];
	static const char win[] = "abcdefghijklmnopqrstuvwabcdefghi"; /* Windows, 32 bytes */
	(void)state;

	/* one ping a second for a minute, 5-minute window */
	for (int i = 0; i < 60; i++) {
		linux_ping(p, i);
		assert_true(icmp(t, p, 56, 56, 300, T0 + (uint64_t)i * SEC, &c));
	}
	assert_int_equal(c.packets, 60);
	assert_int_equal(c.payload_bytes, 60 * 56);
	assert_int_equal(c.large_payloads, 0);
	assert_int_equal(c.distinct_payloads, 0);
	assert_int_equal(c.first_us, T0);
	assert_int_equal(c.last_us, T0 + 59 * SEC);

	for (int i = 0; i < 60; i++) {
		bsd_ping(p, i);
		assert_true(tunnel_icmp_echo(t, 4, SRC4, SRC6, p, 56, 56, 300,
					     T0 + (uint64_t)i * SEC, &c));
	}
	assert_int_equal(c.packets, 60);
	assert_int_equal(c.large_payloads, 0);
	assert_int_equal(c.distinct_payloads, 0);

	for (int i = 0; i < 60; i++)
		assert_true(tunnel_icmp_echo(t, 6, SRC6, SRC6, (const uint8_t *)win, 32, 32, 300,
					     T0 + (uint64_t)i * SEC, &c));
	assert_int_equal(c.packets, 60);
	assert_int_equal(c.payload_bytes, 60 * 32);
	assert_int_equal(c.large_payloads, 0);
	assert_int_equal(c.distinct_payloads, 0);
	tunnel_table_destroy(t);
}

static void test_icmp_tunnel(void **state)
{
	struct tunnel_table *t = mk(8);
	struct tunnel_icmp_sum c;
	uint8_t p[1000];
	(void)state;

	/* 200 packets of 1000 random bytes in 20 s */
	for (int i = 0; i < 200; i++) {
		for (size_t k = 0; k < sizeof(p); k++)
			p[k] = (uint8_t)rnd();
		assert_true(icmp(t, p, sizeof(p), sizeof(p), 300,
				 T0 + (uint64_t)i * SEC / 10, &c));
	}
	assert_int_equal(c.packets, 200);
	assert_int_equal(c.payload_bytes, 200 * 1000);
	assert_int_equal(c.large_payloads, 200);
	assert_int_equal(c.distinct_payloads, 199); /* every packet but the first */

	/* the same payload again: not distinct; a length change alone: distinct */
	assert_true(icmp(t, p, sizeof(p), sizeof(p), 300, T0 + 21 * SEC, &c));
	assert_int_equal(c.distinct_payloads, 199);
	assert_true(icmp(t, p, sizeof(p), sizeof(p) - 1, 300, T0 + 21 * SEC, &c));
	assert_int_equal(c.distinct_payloads, 200);
	/* exactly 64 bytes is not large; 65 is */
	assert_true(icmp(t, p, 64, 64, 300, T0 + 21 * SEC, &c));
	assert_int_equal(c.large_payloads, 202);
	assert_true(icmp(t, p, 65, 65, 300, T0 + 21 * SEC, &c));
	assert_int_equal(c.large_payloads, 203);
	tunnel_table_destroy(t);
}

/* A short snaplen: differences past the captured bytes are invisible, as documented. */
static void test_icmp_snaplen(void **state)
{
	struct tunnel_table *t = mk(8);
	struct tunnel_icmp_sum c;
	uint8_t p[1000];
	(void)state;

	/* 54 bytes captured (96-byte snaplen, Ethernet + IPv4 + ICMP): still seen */
	for (int i = 0; i < 10; i++) {
		for (size_t k = 0; k < sizeof(p); k++)
			p[k] = (uint8_t)rnd();
		assert_true(icmp(t, p, 54, 1000, 60, T0 + (uint64_t)i * SEC, &c));
	}
	assert_int_equal(c.distinct_payloads, 9);
	assert_int_equal(c.payload_bytes, 10 * 1000); /* the wire length counts */
	assert_int_equal(c.large_payloads, 10);

	/* 16 bytes captured: only the skipped stamp; the same length looks the same */
	for (int i = 0; i < 10; i++) {
		for (size_t k = 0; k < sizeof(p); k++)
			p[k] = (uint8_t)rnd();
		assert_true(tunnel_icmp_echo(t, 4, SRC4, SRC4, p, 16, 1000, 60,
					     T0 + (uint64_t)i * SEC, &c));
	}
	assert_int_equal(c.distinct_payloads, 0);
	assert_int_equal(c.large_payloads, 10);

	/* bytes captured past the wire length (link-layer padding) are not compared */
	memset(p, 0, sizeof(p));
	assert_true(tunnel_icmp_echo(t, 4, DST4, DST4, p, 46, 20, 60, T0, &c));
	p[30] = 0x55;
	assert_true(tunnel_icmp_echo(t, 4, DST4, DST4, p, 46, 20, 60, T0, &c));
	assert_int_equal(c.distinct_payloads, 0);
	p[18] = 0x55;
	assert_true(tunnel_icmp_echo(t, 4, DST4, DST4, p, 46, 20, 60, T0, &c));
	assert_int_equal(c.distinct_payloads, 1);
	tunnel_table_destroy(t);
}

static void test_icmp_expiry(void **state)
{
	struct tunnel_table *t = mk(4);
	struct tunnel_icmp_sum c;
	uint8_t p[500];
	(void)state;

	for (int i = 0; i < 20; i++) {
		for (size_t k = 0; k < sizeof(p); k++)
			p[k] = (uint8_t)rnd();
		assert_true(icmp(t, p, sizeof(p), sizeof(p), 32, B0 + (uint64_t)i * SEC, &c));
	}
	assert_int_equal(c.packets, 20);
	assert_int_equal(c.distinct_payloads, 19);
	/* second 40: buckets 9 .. 40 hold seconds 9 .. 19 */
	assert_true(icmp(t, p, 56, 56, 32, B0 + 40 * SEC, &c));
	assert_int_equal(c.packets, 11 + 1);
	assert_int_equal(c.large_payloads, 11);
	assert_int_equal(c.payload_bytes, 11 * 500 + 56);
	/* seconds 9 .. 19 each differed from the one before; the 56-byte one differs in
	 * length from the last 500-byte one, which outlived its bucket */
	assert_int_equal(c.distinct_payloads, 11 + 1);
	assert_int_equal(c.first_us, B0 + 9 * SEC);
	tunnel_table_destroy(t);
}

static void test_eviction(void **state)
{
	struct tunnel_table *t = mk(3);
	struct tunnel_dns_sum s;
	struct tunnel_icmp_sum c;
	uint8_t p[56] = { 0 };
	const struct kpool_stats *st = tunnel_table_stats(t);
	(void)state;

	assert_true(dns(t, "a.com", "x.a.com", 1, 60, T0, &s));
	assert_true(dns(t, "b.com", "x.b.com", 1, 60, T0 + 1, &s));
	assert_true(icmp(t, p, 56, 56, 60, T0 + 2, &c));
	assert_int_equal(st->entries, 3);
	assert_int_equal(st->evictions, 0);
	/* a.com is touched: b.com is now the coldest */
	assert_true(dns(t, "a.com", "y.a.com", 1, 60, T0 + 3, &s));
	assert_int_equal(s.queries, 2);
	assert_true(dns(t, "c.com", "x.c.com", 1, 60, T0 + 4, &s));
	assert_int_equal(st->entries, 3);
	assert_int_equal(st->evictions, 1);
	/* b.com starts again from nothing (and evicts the ICMP entry, now the coldest) */
	assert_true(dns(t, "b.com", "z.b.com", 1, 60, T0 + 5, &s));
	assert_int_equal(s.queries, 1);
	assert_int_equal(s.unique_names, 1);
	assert_int_equal(st->evictions, 2);
	assert_true(icmp(t, p, 56, 56, 60, T0 + 6, &c));
	assert_int_equal(c.packets, 1);
	assert_int_equal(c.distinct_payloads, 0); /* no previous payload survived */
	assert_int_equal(st->evictions, 3);
	/* a.com was the coldest when the ICMP entry came back: it starts again, evicting
	 * c.com */
	assert_true(dns(t, "a.com", "x.a.com", 1, 60, T0 + 7, &s));
	assert_int_equal(s.queries, 1);
	assert_int_equal(st->evictions, 4);
	assert_int_equal(st->entries, 3);
	assert_int_equal(st->peak, 3);
	assert_int_equal(st->created, 7);

	/* a table of one entry: every new key evicts */
	struct tunnel_table *one = mk(1);
	for (int i = 0; i < 100; i++) {
		char r[32];
		snprintf(r, sizeof(r), "d%d.com", i);
		assert_true(dns(one, r, r, 1, 60, T0 + (uint64_t)i, &s));
		assert_int_equal(s.queries, 1);
	}
	assert_int_equal(tunnel_table_stats(one)->evictions, 99);
	assert_int_equal(tunnel_table_stats(one)->entries, 1);
	tunnel_table_destroy(one);
	tunnel_table_destroy(t);
}

/* Many keys of both kinds through a small table, checked against a plain count. */
static void test_churn(void **state)
{
	struct tunnel_table *t = mk(64);
	struct tunnel_dns_sum s;
	struct tunnel_icmp_sum c;
	uint8_t p[80] = { 0 };
	(void)state;

	for (int i = 0; i < 20000; i++) {
		char r[32], q[64];
		uint8_t src[16] = { 10, 1, (uint8_t)(i % 97), 0 };
		snprintf(r, sizeof(r), "d%d.org", (int)(rnd() % 50));
		snprintf(q, sizeof(q), "h%d.%s", i % 300, r);
		uint64_t now = T0 + (uint64_t)i * 10000;
		if (i % 3 == 0) {
			assert_true(tunnel_icmp_echo(t, 4, src, DST4, p, sizeof(p), sizeof(p),
						     60, now, &c));
			assert_true(c.packets >= 1 && c.distinct_payloads == 0);
		} else {
			assert_true(tunnel_dns_query(t, 4, src, r, strlen(r), q, strlen(q), 1,
						     60, now, &s));
			assert_true(s.queries >= 1 && s.unique_names >= 1 &&
				    s.unique_names <= s.queries);
		}
		assert_true(tunnel_table_stats(t)->entries <= 64);
	}
	assert_int_equal(tunnel_table_stats(t)->entries, 64);
	assert_int_equal(tunnel_table_stats(t)->created - tunnel_table_stats(t)->evictions, 64);
	tunnel_table_destroy(t);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_create_bounds),
		cmocka_unit_test(test_entropy),
		cmocka_unit_test(test_entropy_table),
		cmocka_unit_test(test_left_part),
		cmocka_unit_test(test_refusals),
		cmocka_unit_test(test_one_query),
		cmocka_unit_test(test_tunnel_vs_ordinary),
		cmocka_unit_test(test_txt_null_share),
		cmocka_unit_test(test_window_expiry),
		cmocka_unit_test(test_unique_exact_after_cap),
		cmocka_unit_test(test_keys),
		cmocka_unit_test(test_name_case),
		cmocka_unit_test(test_time_backwards),
		cmocka_unit_test(test_icmp_ping),
		cmocka_unit_test(test_icmp_tunnel),
		cmocka_unit_test(test_icmp_snaplen),
		cmocka_unit_test(test_icmp_expiry),
		cmocka_unit_test(test_eviction),
		cmocka_unit_test(test_churn),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
