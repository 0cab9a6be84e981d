/* test_detect_window.c: sensor/detect-window.c, per-key sliding-window volume sums.
 *
 * Expected behaviour from include/detect-window.h: 32 buckets of window_s * 31250 us; at
 * time t the sum covers the buckets floor(t / width) - 31 .. floor(t / width), so it
 * never counts anything at or before t - window and misses at most one bucket's width at
 * the old end; same key bytes with two window lengths are two entries; the entry least
 * recently added to is evicted when full. The exfiltration shapes the detector must
 * catch: a burst (150 MB in 4 minutes, 5-minute window) and a slow drip (2 MB every 5
 * minutes for 12 hours: 288 MB in a 24-hour window, and only ever one hour's worth, 12
 * drips = 24 MB, in a 1-hour window).
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "detect-window.h"

#define SEC 1000000ULL
#define MIN (60 * SEC)
#define HOUR (60 * MIN)
#define MB 1000000ULL
/* an arbitrary, unaligned packet time */
#define T0 (1700000000ULL * SEC + 123457)

static struct window_table *mk(uint32_t n)
{
	char err[256] = "";
	struct window_table *t = window_table_create(n, err, sizeof(err));
	if (!t)
		fail_msg("window_table_create: %s", err);
	return t;
}

static void test_create_bounds(void **state)
{
	char err[256] = "";
	(void)state;
	assert_null(window_table_create(0, err, sizeof(err)));
	assert_non_null(strstr(err, "max_entries"));
	err[0] = '\0';
	assert_null(window_table_create(WINDOW_MAX_ENTRIES + 1, err, sizeof(err)));
	assert_non_null(strstr(err, "max_entries"));
	struct window_table *t = mk(1);
	assert_int_equal(window_table_stats(t)->entries, 0);
	window_table_destroy(t);
	window_table_destroy(NULL);
}

static void test_key_limits(void **state)
{
	struct window_table *t = mk(16);
	uint8_t key[WINDOW_KEY_MAX + 1];
	struct window_sum s;
	(void)state;

	memset(key, 'k', sizeof(key));
	assert_false(window_add(t, key, WINDOW_KEY_MAX + 1, 60, T0, 1, 1, 1, &s));
	assert_int_equal(s.bytes, 0);
	assert_false(window_add(t, key, 4, 0, T0, 1, 1, 1, &s));
	assert_false(window_add(t, key, 4, WINDOW_MAX_S + 1, T0, 1, 1, 1, &s));
	assert_int_equal(window_table_stats(t)->entries, 0);
	assert_false(window_peek(t, key, WINDOW_KEY_MAX + 1, 60, T0, &s));

	assert_true(window_add(t, key, WINDOW_KEY_MAX, 60, T0, 5, 1, 1, &s));
	assert_int_equal(s.bytes, 5);
	assert_true(window_add(t, key, 0, 60, T0, 7, 1, 1, &s)); /* the empty key is a key */
	assert_int_equal(s.bytes, 7);
	assert_true(window_add(t, key, 4, WINDOW_MIN_S, T0, 1, 1, 1, NULL));
	assert_true(window_add(t, key, 4, WINDOW_MAX_S, T0, 1, 1, 1, NULL));
	assert_int_equal(window_table_stats(t)->entries, 4);
	window_table_destroy(t);
}

static void test_sums_and_keys(void **state)
{
	struct window_table *t = mk(16);
	struct window_sum s;
	(void)state;

	assert_true(window_add(t, "a", 1, 300, T0, 100, 2, 1, &s));
	assert_int_equal(s.bytes, 100);
	assert_int_equal(s.packets, 2);
	assert_int_equal(s.flows, 1);
	assert_int_equal(s.first_us, T0);
	assert_int_equal(s.last_us, T0);
	assert_true(window_add(t, "a", 1, 300, T0 + 10 * SEC, 50, 1, 0, &s));
	assert_int_equal(s.bytes, 150);
	assert_int_equal(s.packets, 3);
	assert_int_equal(s.flows, 1);
	assert_int_equal(s.first_us, T0);
	assert_int_equal(s.last_us, T0 + 10 * SEC);

	/* same bytes, other window length: another entry */
	assert_true(window_add(t, "a", 1, 3600, T0 + 10 * SEC, 1, 1, 1, &s));
	assert_int_equal(s.bytes, 1);
	/* other bytes, same length: another entry; a prefix is not the key */
	assert_true(window_add(t, "ab", 2, 300, T0 + 10 * SEC, 9, 1, 1, &s));
	assert_int_equal(s.bytes, 9);
	assert_int_equal(window_table_stats(t)->entries, 3);

	assert_true(window_peek(t, "a", 1, 300, T0 + 10 * SEC, &s));
	assert_int_equal(s.bytes, 150);
	assert_false(window_peek(t, "b", 1, 300, T0, &s));
	assert_int_equal(s.bytes, 0);
	assert_int_equal(s.first_us, 0);
	window_table_destroy(t);
}

/* 32 s window: 1 s buckets, aligned on whole seconds of packet time. */
static void test_bucket_edges(void **state)
{
	struct window_table *t = mk(4);
	struct window_sum s;
	uint64_t b10 = 1700000010ULL * SEC; /* start of a bucket */
	(void)state;

	window_add(t, "k", 1, 32, b10, 1000, 1, 1, &s);
	/* still in: bucket 10 is the oldest of 10..41 */
	assert_true(window_peek(t, "k", 1, 32, b10 + 32 * SEC - 1, &s));
	assert_int_equal(s.bytes, 1000);
	/* exactly one window later the contribution is at t - window: out */
	assert_true(window_peek(t, "k", 1, 32, b10 + 32 * SEC, &s));
	assert_int_equal(s.bytes, 0);
	assert_int_equal(s.first_us, 0);
	assert_int_equal(s.last_us, 0);

	/* the documented error: a contribution inside (t - window, t] but in the bucket
	 * that straddles t - window is not counted (at most one bucket's width) */
	window_add(t, "m", 1, 32, b10 + SEC / 2, 7, 1, 1, &s);
	assert_true(window_peek(t, "m", 1, 32, b10 + 32 * SEC + SEC / 4, &s));
	assert_int_equal(s.bytes, 0);
	/* and everything newer than one bucket after t - window is */
	window_add(t, "n", 1, 32, b10 + SEC, 7, 1, 1, &s);
	assert_true(window_peek(t, "n", 1, 32, b10 + 32 * SEC + SEC / 4, &s));
	assert_int_equal(s.bytes, 7);
	window_table_destroy(t);
}

/* Windows shorter than 32 s: buckets of window_s * 31250 us. */
static void test_short_window(void **state)
{
	struct window_table *t = mk(4);
	struct window_sum s;
	uint64_t b = 1700000000ULL * SEC; /* a bucket start for every width dividing 1 s */
	(void)state;

	window_add(t, "k", 1, 1, b, 10, 1, 1, &s);
	window_add(t, "k", 1, 1, b + 500000, 20, 1, 1, &s);
	assert_int_equal(s.bytes, 30);
	window_add(t, "k", 1, 1, b + 968749, 1, 1, 1, &s); /* last µs of bucket 30 */
	assert_int_equal(s.bytes, 31);
	window_add(t, "k", 1, 1, b + SEC - 1, 1, 1, 1, &s); /* bucket 31: all 32 in */
	assert_int_equal(s.bytes, 32);
	assert_int_equal(s.first_us, b);
	window_add(t, "k", 1, 1, b + SEC, 1, 1, 1, &s); /* bucket 0 (the first add) retires */
	assert_int_equal(s.bytes, 23);
	assert_int_equal(s.first_us, b + 500000);
	window_add(t, "k", 1, 1, b + 5 * SEC, 4, 1, 1, &s); /* all retired but this */
	assert_int_equal(s.bytes, 4);
	assert_int_equal(s.packets, 1);
	assert_int_equal(s.first_us, b + 5 * SEC);
	window_table_destroy(t);
}

/* 150 MB in 4 minutes, watched with a 5-minute window: the whole burst is visible. */
static void test_burst(void **state)
{
	struct window_table *t = mk(64);
	struct window_sum s, s1h;
	const char key[] = "\x01" "10.0.0.5" "files.example.net";
	uint64_t peak = 0;
	(void)state;

	/* one 625 kB chunk per second for 240 s = 150 MB; plus background noise elsewhere */
	for (int i = 0; i < 240; i++) {
		uint64_t now = T0 + (uint64_t)i * SEC;
		assert_true(window_add(t, key, sizeof(key) - 1, 300, now, 625000, 430, i == 0,
				       &s));
		assert_true(window_add(t, key, sizeof(key) - 1, 3600, now, 625000, 430, i == 0,
				       &s1h));
		window_add(t, "noise", 5, 300, now, 1500, 1, 0, NULL);
		if (s.bytes > peak)
			peak = s.bytes;
	}
	assert_int_equal(s.bytes, 150 * MB);
	assert_int_equal(s.packets, 240 * 430);
	assert_int_equal(s.flows, 1);
	assert_int_equal(s.first_us, T0);
	assert_int_equal(s.last_us, T0 + 239 * SEC);
	assert_int_equal(peak, 150 * MB);
	assert_true(s.bytes >= 100 * MB); /* e.g. a 100 MB / 5 min threshold fires */
	assert_int_equal(s1h.bytes, 150 * MB);

	/* 40 s after the burst, still all in the 5-minute window */
	assert_true(window_peek(t, key, sizeof(key) - 1, 300, T0 + 280 * SEC, &s));
	assert_int_equal(s.bytes, 150 * MB);
	/* five minutes after it ended, gone */
	assert_true(window_peek(t, key, sizeof(key) - 1, 300, T0 + 239 * SEC + 300 * SEC, &s));
	assert_int_equal(s.bytes, 0);
	/* the same burst spread over 30 minutes never reaches the threshold in 5 minutes */
	peak = 0;
	for (int i = 0; i < 1800; i++) {
		window_add(t, "slow", 4, 300, T0 + (uint64_t)i * SEC, 150 * MB / 1800, 1, 0, &s);
		if (s.bytes > peak)
			peak = s.bytes;
	}
	assert_true(peak < 100 * MB);
	assert_true(peak <= 25 * MB); /* 300 s x 83333 B */
	window_table_destroy(t);
}

/* 2 MB every 5 minutes for 12 hours (144 drips = 288 MB). */
static void test_slow_drip(void **state)
{
	struct window_table *t = mk(64);
	struct window_sum d, h, m;
	const char key[] = "\x01" "10.0.0.7" "paste.example.org";
	size_t kl = sizeof(key) - 1;
	uint64_t max_1h = 0, max_1h_pk = 0, max_5m = 0;
	(void)state;

	for (int i = 0; i < 144; i++) {
		uint64_t now = T0 + (uint64_t)i * 5 * MIN;
		assert_true(window_add(t, key, kl, 86400, now, 2 * MB, 1500, 1, &d));
		assert_true(window_add(t, key, kl, 3600, now, 2 * MB, 1500, 1, &h));
		assert_true(window_add(t, key, kl, 300, now, 2 * MB, 1500, 1, &m));
		/* the 24-hour window holds every drip so far */
		assert_int_equal(d.bytes, (uint64_t)(i + 1) * 2 * MB);
		/* the 1-hour window holds exactly the drips of the last hour: at most 12
		 * (the one exactly an hour ago is at t - window, so not in it) */
		uint64_t in_hour = i + 1 < 12 ? (uint64_t)i + 1 : 12;
		assert_int_equal(h.bytes, in_hour * 2 * MB);
		if (h.bytes > max_1h)
			max_1h = h.bytes;
		if (h.flows > max_1h_pk)
			max_1h_pk = h.flows;
		if (m.bytes > max_5m)
			max_5m = m.bytes;
	}
	assert_int_equal(d.bytes, 288 * MB);
	assert_int_equal(d.flows, 144);
	assert_int_equal(d.packets, 144 * 1500);
	assert_int_equal(d.first_us, T0);
	assert_int_equal(d.last_us, T0 + 143 * 5 * MIN);
	assert_int_equal(max_1h, 24 * MB);
	assert_int_equal(max_1h_pk, 12);
	assert_int_equal(max_5m, 2 * MB); /* invisible to a short window */

	/* 24 hours after the first drip it has left the 24-hour window (it is at
	 * t - window); at most one 45-minute bucket (9 drips) more may be missed */
	assert_true(window_peek(t, key, kl, 86400, T0 + 24 * HOUR, &d));
	assert_true(d.bytes <= 286 * MB);
	assert_true(d.bytes >= (286 - 18) * MB);
	assert_true(d.first_us > T0);
	assert_true(d.first_us <= T0 + 45 * MIN + 5 * MIN);
	assert_int_equal(d.bytes, (uint64_t)(144 - (d.first_us - T0) / (5 * MIN)) * 2 * MB);
	window_table_destroy(t);
}

static void test_time_backwards(void **state)
{
	struct window_table *t = mk(4);
	struct window_sum s;
	(void)state;

	window_add(t, "k", 1, 60, T0 + 100 * SEC, 10, 1, 1, &s);
	window_add(t, "k", 1, 60, T0 + 20 * SEC, 5, 1, 0, &s); /* earlier: counted at +100 */
	assert_int_equal(s.bytes, 15);
	assert_int_equal(s.last_us, T0 + 100 * SEC);
	assert_int_equal(s.first_us, T0 + 100 * SEC);
	/* both leave together, a window after the latest time */
	assert_true(window_peek(t, "k", 1, 60, T0 + 161 * SEC, &s));
	assert_int_equal(s.bytes, 0);
	/* a peek at an earlier time reads as of the latest contribution */
	assert_true(window_peek(t, "k", 1, 60, T0, &s));
	assert_int_equal(s.bytes, 15);
	window_table_destroy(t);
}

static void test_peek_does_not_change(void **state)
{
	struct window_table *t = mk(2);
	struct window_sum s;
	(void)state;

	window_add(t, "a", 1, 60, T0, 1, 1, 1, NULL);
	window_add(t, "b", 1, 60, T0, 2, 1, 1, NULL);
	/* a peek far in the future sees nothing but retires nothing */
	assert_true(window_peek(t, "a", 1, 60, T0 + HOUR, &s));
	assert_int_equal(s.bytes, 0);
	assert_true(window_peek(t, "a", 1, 60, T0, &s));
	assert_int_equal(s.bytes, 1);
	/* nor refreshes: "a" stays the coldest and goes first */
	window_add(t, "c", 1, 60, T0, 3, 1, 1, NULL);
	assert_false(window_peek(t, "a", 1, 60, T0, &s));
	assert_true(window_peek(t, "b", 1, 60, T0, &s));
	window_table_destroy(t);
}

static void test_eviction(void **state)
{
	struct window_table *t = mk(4);
	struct window_sum s;
	char k[8];
	(void)state;

	window_add(t, "A", 1, 60, T0, 1, 1, 1, NULL);
	window_add(t, "B", 1, 60, T0 + 1, 1, 1, 1, NULL);
	window_add(t, "C", 1, 60, T0 + 2, 1, 1, 1, NULL);
	window_add(t, "D", 1, 60, T0 + 3, 1, 1, 1, NULL);
	window_add(t, "A", 1, 60, T0 + 4, 1, 1, 1, NULL); /* A is hot again */
	window_add(t, "E", 1, 60, T0 + 5, 1, 1, 1, NULL); /* B, the coldest, goes */
	assert_false(window_peek(t, "B", 1, 60, T0 + 5, &s));
	assert_true(window_peek(t, "A", 1, 60, T0 + 5, &s));
	assert_int_equal(s.bytes, 2);
	assert_true(window_peek(t, "C", 1, 60, T0 + 5, &s));
	const struct kpool_stats *st = window_table_stats(t);
	assert_int_equal(st->entries, 4);
	assert_int_equal(st->peak, 4);
	assert_int_equal(st->evictions, 1);
	assert_int_equal(st->created, 5);

	for (int i = 0; i < 1000; i++) {
		int n = snprintf(k, sizeof(k), "x%d", i);
		window_add(t, k, (size_t)n, 60, T0 + 10 + (uint64_t)i, 1, 1, 1, NULL);
	}
	assert_int_equal(st->entries, 4);
	assert_int_equal(st->evictions, 1001);
	/* the four most recent survive, whole */
	for (int i = 996; i < 1000; i++) {
		int n = snprintf(k, sizeof(k), "x%d", i);
		assert_true(window_peek(t, k, (size_t)n, 60, T0 + 2000, &s));
		assert_int_equal(s.bytes, 1);
	}
	/* an evicted key comes back as a fresh entry */
	window_add(t, "A", 1, 60, T0 + 2000, 5, 1, 1, &s);
	assert_int_equal(s.bytes, 5);
	window_table_destroy(t);
}

static void test_saturation(void **state)
{
	struct window_table *t = mk(2);
	struct window_sum s;
	(void)state;

	window_add(t, "k", 1, 60, T0, UINT64_MAX - 1, UINT32_MAX, UINT32_MAX, &s);
	window_add(t, "k", 1, 60, T0 + 1, 5, 5, 5, &s);
	assert_true(s.bytes == UINT64_MAX);
	assert_int_equal(s.packets, UINT32_MAX);
	window_add(t, "k", 1, 60, T0 + 3 * SEC, 5, 5, 5, &s); /* another bucket */
	assert_true(s.bytes == UINT64_MAX);
	assert_int_equal(s.packets, (uint64_t)UINT32_MAX + 5);
	window_table_destroy(t);
}

/* Random adds on a few keys and windows against a brute-force model of the documented
 * semantics: at time t, every contribution c with floor(c / w) >= floor(t / w) - 31. */
struct contrib {
	int key;
	uint32_t win;
	uint64_t t, bytes;
};

static uint64_t rng_next(uint64_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 7;
	*s ^= *s << 17;
	return *s;
}

static void test_model(void **state)
{
	enum { N = 6000, KEYS = 40 };
	static const uint32_t wins[] = { 1, 7, 60, 300, 3600 };
	struct contrib *c = calloc(N, sizeof(*c));
	struct window_table *t = mk(1024); /* never full: no evictions */
	uint64_t seed = 0x9e3779b97f4a7c15ULL, now = T0;
	char key[16];
	(void)state;

	assert_non_null(c);
	for (int i = 0; i < N; i++) {
		now += rng_next(&seed) % (3 * SEC);
		c[i].key = (int)(rng_next(&seed) % KEYS);
		c[i].win = wins[rng_next(&seed) % 5];
		c[i].t = now;
		c[i].bytes = rng_next(&seed) % 100000;
		int kl = snprintf(key, sizeof(key), "key-%d", c[i].key);
		struct window_sum s;
		assert_true(window_add(t, key, (size_t)kl, c[i].win, now, c[i].bytes, 1, 0, &s));
		uint64_t w = (uint64_t)c[i].win * 31250, want = 0, pk = 0, first = UINT64_MAX;
		for (int j = 0; j <= i; j++) {
			if (c[j].key != c[i].key || c[j].win != c[i].win)
				continue;
			if (c[j].t / w + 31 < now / w)
				continue;
			want += c[j].bytes;
			pk++;
			if (c[j].t < first)
				first = c[j].t;
			/* and never anything at or before t - window */
			assert_true(c[j].t > now - (uint64_t)c[i].win * SEC);
		}
		assert_int_equal(s.bytes, want);
		assert_int_equal(s.packets, pk);
		assert_int_equal(s.first_us, first);
		assert_int_equal(s.last_us, now);
	}
	assert_int_equal(window_table_stats(t)->evictions, 0);
	assert_int_equal(window_table_stats(t)->entries, KEYS * 5);
	window_table_destroy(t);
	free(c);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_create_bounds),
		cmocka_unit_test(test_key_limits),
		cmocka_unit_test(test_sums_and_keys),
		cmocka_unit_test(test_bucket_edges),
		cmocka_unit_test(test_short_window),
		cmocka_unit_test(test_burst),
		cmocka_unit_test(test_slow_drip),
		cmocka_unit_test(test_time_backwards),
		cmocka_unit_test(test_peek_does_not_change),
		cmocka_unit_test(test_eviction),
		cmocka_unit_test(test_saturation),
		cmocka_unit_test(test_model),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
