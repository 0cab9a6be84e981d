/* detect-window.c: per-key sliding-window volume sums (32 time buckets per entry) in a
 * keyed pool (keyed-pool.h: SipHash-1-3 chained hash, LRU eviction when full). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "detect-window.h"
#include "keyed-pool.h"

#define US_PER_S_OVER_BUCKETS 31250u /* 1 s / WINDOW_BUCKETS, exact */

_Static_assert(1000000u % WINDOW_BUCKETS == 0, "bucket width must be whole microseconds");
_Static_assert(1000000u / WINDOW_BUCKETS == US_PER_S_OVER_BUCKETS, "bucket width");

struct window_bucket {
	uint64_t bytes;
	uint64_t first_us; /* earliest contribution in this bucket; UINT64_MAX: empty */
	uint32_t packets;
	uint32_t flows;
};

/* Caller data of a pool entry; its key is the window length (4 bytes, big-endian) then
 * the caller's key bytes. Only the buckets flagged in used hold anything: the others
 * are stale and read as empty, so an entry is cleared, and summed, without touching
 * all 32 (most entries see a few buckets in their life). */
struct window_entry {
	uint32_t window_s;
	uint32_t used;	  /* bit k: b[k] is written since it was last retired */
	uint64_t head_bn; /* bucket number of the newest bucket written */
	uint64_t last_us; /* latest contribution */
	struct window_bucket b[WINDOW_BUCKETS];
};

#define POOL_KEY_MAX (4 + WINDOW_KEY_MAX)

struct window_table {
	struct kpool *pool;
};

struct window_table *window_table_create(uint32_t max_entries, char *err, size_t errlen)
{
	struct window_table *t;

	if (max_entries == 0 || max_entries > WINDOW_MAX_ENTRIES) {
		snprintf(err, errlen, "window table: max_entries must be between 1 and %u",
			 WINDOW_MAX_ENTRIES);
		return NULL;
	}
	t = calloc(1, sizeof(*t));
	if (t)
		t->pool = kpool_create(max_entries, sizeof(struct window_entry), POOL_KEY_MAX);
	if (!t || !t->pool) {
		snprintf(err, errlen, "window table: cannot reserve memory for %u entries",
			 max_entries);
		window_table_destroy(t);
		return NULL;
	}
	return t;
}

void window_table_destroy(struct window_table *t)
{
	if (!t)
		return;
	kpool_destroy(t->pool);
	free(t);
}

const struct kpool_stats *window_table_stats(const struct window_table *t)
{
	return kpool_stats(t->pool);
}

static bool key_ok(size_t keylen, uint32_t window_s)
{
	return keylen <= WINDOW_KEY_MAX && window_s >= WINDOW_MIN_S && window_s <= WINDOW_MAX_S;
}

/* The pool key: window_s big-endian, then the key bytes; returns its length. */
static size_t key_make(uint8_t *buf, const void *key, size_t keylen, uint32_t window_s)
{
	buf[0] = (uint8_t)(window_s >> 24);
	buf[1] = (uint8_t)(window_s >> 16);
	buf[2] = (uint8_t)(window_s >> 8);
	buf[3] = (uint8_t)window_s;
	if (keylen)
		memcpy(buf + 4, key, keylen);
	return 4 + keylen;
}

_Static_assert(WINDOW_BUCKETS == 32, "one bit per bucket in window_entry.used");

static inline void bucket_retire(struct window_entry *e, uint64_t bn)
{
	e->used &= ~(1u << (bn % WINDOW_BUCKETS));
}

static inline uint64_t width_us(const struct window_entry *e)
{
	return (uint64_t)e->window_s * US_PER_S_OVER_BUCKETS;
}

static inline uint64_t sat_add(uint64_t a, uint64_t b)
{
	return a + b < a ? UINT64_MAX : a + b;
}

static inline uint32_t sat_add32(uint32_t a, uint32_t b)
{
	return a + b < a ? UINT32_MAX : a + b;
}

/* Sum the buckets still in the window whose newest bucket number is cur: those numbered
 * cur - 31 .. cur. Slot k holds bucket head_bn - ((head_bn - k) mod 32). Slots are
 * visited in order (sums saturate, so the order does not change them anyway). */
static void entry_sum(const struct window_entry *e, uint64_t cur, struct window_sum *out)
{
	uint64_t oldest = cur >= WINDOW_BUCKETS - 1 ? cur - (WINDOW_BUCKETS - 1) : 0;

	memset(out, 0, sizeof(*out));
	out->first_us = UINT64_MAX;
	for (uint32_t m = e->used; m; m &= m - 1) {
		uint32_t k = (uint32_t)__builtin_ctz(m);
		const struct window_bucket *b = &e->b[k];
		if (b->first_us == UINT64_MAX)
			continue;
		uint64_t bn = e->head_bn - ((e->head_bn - k) % WINDOW_BUCKETS);
		if (bn < oldest || bn > cur)
			continue;
		out->bytes = sat_add(out->bytes, b->bytes);
		out->packets += b->packets; /* 32 x u32: cannot overflow u64 */
		out->flows += b->flows;
		if (b->first_us < out->first_us)
			out->first_us = b->first_us;
	}
	if (out->first_us == UINT64_MAX) {
		out->first_us = 0;
		return;
	}
	out->last_us = e->last_us;
}

bool window_add(struct window_table *t, const void *key, size_t keylen, uint32_t window_s,
		uint64_t now_us, uint64_t bytes, uint32_t packets, uint32_t flows,
		struct window_sum *out)
{
	if (!key_ok(keylen, window_s)) {
		if (out)
			memset(out, 0, sizeof(*out));
		return false;
	}
	uint8_t buf[POOL_KEY_MAX];
	size_t kl = key_make(buf, key, keylen, window_s);
	uint64_t h = kpool_hash(t->pool, buf, kl);
	uint32_t i = kpool_find(t->pool, h, buf, kl);
	bool fresh = i == KPOOL_NONE;

	if (fresh) {
		/* full: the entry least recently added to goes */
		i = kpool_insert(t->pool, h, buf, kl);
	} else {
		kpool_touch(t->pool, i);
	}
	struct window_entry *e = kpool_data(t->pool, i);
	if (fresh) {
		e->window_s = window_s;
		e->used = 0;
		e->head_bn = 0;
		e->last_us = 0;
	} else if (now_us < e->last_us) {
		now_us = e->last_us; /* time went back: count at the latest time */
	}

	uint64_t bn = now_us / width_us(e);
	if (fresh) {
		e->head_bn = bn;
	} else if (bn > e->head_bn) {
		/* retire the buckets that leave the window: the slots of head_bn+1 .. bn */
		if (bn - e->head_bn >= WINDOW_BUCKETS) {
			e->used = 0;
		} else {
			for (uint64_t n = e->head_bn + 1; n <= bn; n++)
				bucket_retire(e, n);
		}
		e->head_bn = bn;
	}
	/* bn == head_bn here: now_us >= last_us keeps it from going back */
	struct window_bucket *b = &e->b[bn % WINDOW_BUCKETS];
	if (!(e->used & (1u << (bn % WINDOW_BUCKETS)))) {
		memset(b, 0, sizeof(*b));
		b->first_us = UINT64_MAX;
		e->used |= 1u << (bn % WINDOW_BUCKETS);
	}
	b->bytes = sat_add(b->bytes, bytes);
	b->packets = sat_add32(b->packets, packets);
	b->flows = sat_add32(b->flows, flows);
	if (now_us < b->first_us)
		b->first_us = now_us;
	e->last_us = now_us;
	if (out)
		entry_sum(e, bn, out);
	return true;
}

bool window_peek(const struct window_table *t, const void *key, size_t keylen,
		 uint32_t window_s, uint64_t now_us, struct window_sum *out)
{
	struct window_sum dummy;

	if (!out)
		out = &dummy;
	memset(out, 0, sizeof(*out));
	if (!key_ok(keylen, window_s))
		return false;
	uint8_t buf[POOL_KEY_MAX];
	size_t kl = key_make(buf, key, keylen, window_s);
	uint32_t i = kpool_find(t->pool, kpool_hash(t->pool, buf, kl), buf, kl);
	if (i == KPOOL_NONE)
		return false;
	const struct window_entry *e = kpool_data(t->pool, i);
	if (now_us < e->last_us)
		now_us = e->last_us;
	entry_sum(e, now_us / width_us(e), out);
	return true;
}
