/* test_keyed_pool.c: sensor/keyed-pool.c, the fixed pool of keyed entries with LRU
 * eviction shared by the detection tables.
 *
 * Expected behaviour from include/keyed-pool.h: an entry is found by hash, length and key
 * bytes; insert appends as most recently used and, when full, evicts the least recently
 * used (calling the eviction callback first, counted in evictions); touch moves to the
 * most recent end; remove is not an eviction; the walk goes from least to most recently
 * used; clear keeps peak, created and evictions. A churn test checks all of it against a
 * simple model, with hashes that collide on purpose.
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

#include "keyed-pool.h"

struct item {
	uint64_t id;
	double d;
};

static uint64_t rng_next(uint64_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 7;
	*s ^= *s << 17;
	return *s;
}

static uint32_t put(struct kpool *p, const char *k)
{
	size_t n = strlen(k);
	uint64_t h = kpool_hash(p, k, n);

	assert_int_equal(kpool_find(p, h, k, n), KPOOL_NONE);
	uint32_t i = kpool_insert(p, h, k, n);
	assert_int_not_equal(i, KPOOL_NONE);
	return i;
}

static uint32_t get(const struct kpool *p, const char *k)
{
	size_t n = strlen(k);

	return kpool_find(p, kpool_hash(p, k, n), k, n);
}

/* The walk from the least recently used entry, as the keys' first letters. */
static void walk(const struct kpool *p, char *out)
{
	size_t n = 0, kl;

	for (uint32_t i = kpool_first(p); i != KPOOL_NONE; i = kpool_next(p, i))
		out[n++] = (char)kpool_key(p, i, &kl)[0];
	out[n] = 0;
}

static void test_create_bounds(void **state)
{
	struct kpool *p;
	(void)state;

	assert_null(kpool_create(0, 8, 8));
	assert_null(kpool_create(KPOOL_MAX_ENTRIES + 1, 8, 8));
	assert_null(kpool_create(4, 8, KPOOL_KEY_MAX + 1));
	p = kpool_create(1, 0, 0);
	assert_non_null(p);
	uint32_t i = kpool_insert(p, 42, NULL, 0);
	assert_int_equal(kpool_find(p, 42, NULL, 0), i);
	assert_int_equal(kpool_find(p, 43, NULL, 0), KPOOL_NONE);
	kpool_destroy(p);
	kpool_destroy(NULL);
}

static void test_insert_find(void **state)
{
	struct kpool *p = kpool_create(8, sizeof(struct item), 16);
	size_t kl;
	(void)state;

	assert_non_null(p);
	uint32_t a = put(p, "alpha"), b = put(p, "alph"), c = put(p, "");
	assert_int_not_equal(a, b);
	struct item *ia = kpool_data(p, a), *ib = kpool_data(p, b);
	assert_int_equal((uintptr_t)ia % _Alignof(max_align_t), 0);
	assert_int_equal(ia->id, 0); /* first use: zero */
	ia->id = 1;
	ia->d = 0.5;
	ib->id = 2;
	assert_int_equal(get(p, "alpha"), a);
	assert_int_equal(get(p, "alph"), b);
	assert_int_equal(get(p, ""), c);
	assert_int_equal(get(p, "alphb"), KPOOL_NONE);
	assert_int_equal(get(p, "alphab"), KPOOL_NONE);
	assert_int_equal(((struct item *)kpool_data(p, a))->id, 1);
	assert_true(((struct item *)kpool_data(p, a))->d == 0.5);
	assert_memory_equal(kpool_key(p, a, &kl), "alpha", 5);
	assert_int_equal(kl, 5);
	/* a full-length key */
	uint32_t f = put(p, "0123456789abcdef");
	assert_int_equal(get(p, "0123456789abcdef"), f);
	/* the same key bytes under another hash are not found */
	assert_int_equal(kpool_find(p, kpool_hash(p, "alpha", 5) ^ 1, "alpha", 5), KPOOL_NONE);

	const struct kpool_stats *st = kpool_stats(p);
	assert_int_equal(st->entries, 4);
	assert_int_equal(st->peak, 4);
	assert_int_equal(st->created, 4);
	assert_int_equal(st->evictions, 0);
	kpool_destroy(p);
}

struct evicted {
	int calls;
	uint64_t id;
};

static void on_evict(void *ctx, uint32_t idx, void *data)
{
	struct evicted *ev = ctx;
	(void)idx;

	ev->calls++;
	ev->id = ((struct item *)data)->id;
}

static void test_evict_order(void **state)
{
	struct kpool *p = kpool_create(4, sizeof(struct item), 8);
	struct evicted ev = { 0 };
	char w[16];
	(void)state;

	assert_non_null(p);
	kpool_set_evict(p, on_evict, &ev);
	const char *keys[] = { "a", "b", "c", "d" };
	for (int k = 0; k < 4; k++)
		((struct item *)kpool_data(p, put(p, keys[k])))->id = (uint64_t)('a' + k);
	walk(p, w);
	assert_string_equal(w, "abcd");
	kpool_touch(p, get(p, "a"));
	kpool_touch(p, get(p, "a")); /* already the most recent */
	walk(p, w);
	assert_string_equal(w, "bcda");

	put(p, "e"); /* evicts b, the least recently used */
	assert_int_equal(ev.calls, 1);
	assert_int_equal(ev.id, 'b');
	assert_int_equal(get(p, "b"), KPOOL_NONE);
	walk(p, w);
	assert_string_equal(w, "cdae");
	put(p, "f"); /* then c */
	assert_int_equal(ev.calls, 2);
	assert_int_equal(ev.id, 'c');
	assert_int_equal(get(p, "c"), KPOOL_NONE);
	assert_int_not_equal(get(p, "d"), KPOOL_NONE);
	walk(p, w);
	assert_string_equal(w, "daef");

	const struct kpool_stats *st = kpool_stats(p);
	assert_int_equal(st->entries, 4);
	assert_int_equal(st->peak, 4);
	assert_int_equal(st->created, 6);
	assert_int_equal(st->evictions, 2);
	kpool_destroy(p);
}

static void test_remove_walk_clear(void **state)
{
	struct kpool *p = kpool_create(5, sizeof(struct item), 8);
	char w[16];
	(void)state;

	assert_non_null(p);
	const char *keys[] = { "a", "b", "c", "d", "e" };
	for (int k = 0; k < 5; k++)
		put(p, keys[k]);
	kpool_remove(p, get(p, "c")); /* middle */
	walk(p, w);
	assert_string_equal(w, "abde");
	kpool_remove(p, kpool_first(p)); /* head */
	kpool_remove(p, get(p, "e"));	 /* tail */
	walk(p, w);
	assert_string_equal(w, "bd");
	assert_int_equal(get(p, "a"), KPOOL_NONE);
	assert_int_equal(get(p, "c"), KPOOL_NONE);
	assert_int_equal(get(p, "e"), KPOOL_NONE);

	/* freed slots are reused: five live again without eviction */
	put(p, "x");
	put(p, "y");
	put(p, "z");
	walk(p, w);
	assert_string_equal(w, "bdxyz");
	const struct kpool_stats *st = kpool_stats(p);
	assert_int_equal(st->entries, 5);
	assert_int_equal(st->created, 8);
	assert_int_equal(st->evictions, 0);

	kpool_clear(p);
	walk(p, w);
	assert_string_equal(w, "");
	assert_int_equal(get(p, "b"), KPOOL_NONE);
	assert_int_equal(st->entries, 0);
	assert_int_equal(st->peak, 5);
	assert_int_equal(st->created, 8);
	put(p, "q");
	assert_int_equal(get(p, "q"), kpool_first(p));
	assert_int_equal(st->entries, 1);
	kpool_destroy(p);
}

/* Random finds, inserts, touches and removes against a model: an array of key ids from
 * least to most recently used. Hashes collide on purpose (id % 5). */
/* mode 0: five hashes for all keys (long clusters); 1: hashes at the top of the index,
 * so clusters wrap round its end; 2: spread */
static void churn(int mode)
{
	enum { CAP = 64, KEYS = 200, OPS = 30000 };
	struct kpool *p = kpool_create(CAP, sizeof(struct item), 12);
	uint64_t seed = 0x9e3779b97f4a7c15ULL, evictions = 0, created = 0, peak = 0;
	int model[CAP], n = 0;
	char key[12];

	assert_non_null(p);
	for (int op = 0; op < OPS; op++) {
		int id = (int)(rng_next(&seed) % KEYS);
		int kl = snprintf(key, sizeof(key), "k%d", id);
		uint64_t h = mode == 0 ? (uint64_t)id % 5 :
			     mode == 1 ? 0xffffffffull - (uint64_t)id % 4 :
					 (uint64_t)id * 0x9e3779b97f4a7c15ULL;
		uint32_t i = kpool_find(p, h, key, (size_t)kl);
		int pos = -1;
		for (int m = 0; m < n; m++)
			if (model[m] == id)
				pos = m;
		assert_int_equal(i != KPOOL_NONE, pos >= 0);
		if (i != KPOOL_NONE)
			assert_int_equal(((struct item *)kpool_data(p, i))->id, (uint64_t)id);

		if (pos >= 0 && rng_next(&seed) % 4 == 0) {
			kpool_remove(p, i);
			memmove(model + pos, model + pos + 1, sizeof(int) * (size_t)(n - pos - 1));
			n--;
		} else if (pos >= 0) {
			kpool_touch(p, i);
			memmove(model + pos, model + pos + 1, sizeof(int) * (size_t)(n - pos - 1));
			model[n - 1] = id;
		} else {
			if (n == CAP) {
				memmove(model, model + 1, sizeof(int) * (CAP - 1));
				n--;
				evictions++;
			}
			i = kpool_insert(p, h, key, (size_t)kl);
			((struct item *)kpool_data(p, i))->id = (uint64_t)id;
			model[n++] = id;
			created++;
			if ((uint64_t)n > peak)
				peak = (uint64_t)n;
		}

		const struct kpool_stats *st = kpool_stats(p);
		assert_int_equal(st->entries, n);
		assert_int_equal(st->evictions, evictions);
		assert_int_equal(st->created, created);
		assert_int_equal(st->peak, peak);
		if (op % 97 == 0) {
			int m = 0;
			for (uint32_t j = kpool_first(p); j != KPOOL_NONE; j = kpool_next(p, j))
				assert_int_equal(((struct item *)kpool_data(p, j))->id,
						 (uint64_t)model[m++]);
			assert_int_equal(m, n);
		}
	}
	assert_true(evictions > 0);
	kpool_destroy(p);
}

static void test_churn_model(void **state)
{
	(void)state;
	for (int mode = 0; mode < 3; mode++)
		churn(mode);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_create_bounds),
		cmocka_unit_test(test_insert_find),
		cmocka_unit_test(test_evict_order),
		cmocka_unit_test(test_remove_walk_clear),
		cmocka_unit_test(test_churn_model),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
