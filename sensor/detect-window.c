/* detect-window.c: per-key sliding-window volume sums (32 time buckets per entry) in a
 * fixed pool, chained hash on SipHash-1-3 with a random key, LRU eviction when full. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "detect-window.h"
#include "siphash.h"

#define NONE UINT32_MAX
#define US_PER_S_OVER_BUCKETS 31250u /* 1 s / WINDOW_BUCKETS, exact */

_Static_assert(1000000u % WINDOW_BUCKETS == 0, "bucket width must be whole microseconds");
_Static_assert(1000000u / WINDOW_BUCKETS == US_PER_S_OVER_BUCKETS, "bucket width");

struct window_bucket {
	uint64_t bytes;
	uint64_t first_us; /* earliest contribution in this bucket; UINT64_MAX: empty */
	uint32_t packets;
	uint32_t flows;
};

struct window_entry {
	uint32_t hnext;	     /* hash chain */
	uint32_t prev, next; /* recency list, head = coldest */
	uint32_t window_s;
	uint64_t hash;
	uint64_t head_bn;    /* bucket number of the newest bucket written */
	uint64_t last_us;    /* latest contribution */
	uint8_t keylen;
	uint8_t key[WINDOW_KEY_MAX];
	struct window_bucket b[WINDOW_BUCKETS];
};

struct window_table {
	struct siphash_key key;
	struct window_entry *pool;
	uint32_t *heads;
	uint32_t mask;
	uint32_t max_entries;
	uint32_t used;	    /* pool entries ever handed out */
	uint32_t free_head; /* recycled entries, linked through hnext */
	uint32_t lru_head, lru_tail;
	struct window_table_stats st;
};

struct window_table *window_table_create(uint32_t max_entries, char *err, size_t errlen)
{
	struct window_table *t;
	uint64_t nheads = 16;

	if (max_entries == 0 || max_entries > WINDOW_MAX_ENTRIES) {
		snprintf(err, errlen, "window table: max_entries must be between 1 and %u",
			 WINDOW_MAX_ENTRIES);
		return NULL;
	}
	t = calloc(1, sizeof(*t));
	if (!t)
		goto fail;
	while (nheads < max_entries)
		nheads <<= 1;
	t->mask = (uint32_t)(nheads - 1);
	t->max_entries = max_entries;
	/* calloc'd big blocks are mapped lazily: pages are touched as entries are used */
	t->pool = calloc(max_entries, sizeof(*t->pool));
	t->heads = malloc(nheads * sizeof(*t->heads));
	if (!t->pool || !t->heads)
		goto fail;
	memset(t->heads, 0xff, nheads * sizeof(*t->heads)); /* all NONE */
	t->free_head = NONE;
	t->lru_head = t->lru_tail = NONE;
	siphash_key_random(&t->key);
	return t;
fail:
	snprintf(err, errlen, "window table: cannot reserve memory for %u entries",
		 max_entries);
	window_table_destroy(t);
	return NULL;
}

void window_table_destroy(struct window_table *t)
{
	if (!t)
		return;
	free(t->pool);
	free(t->heads);
	free(t);
}

const struct window_table_stats *window_table_stats(const struct window_table *t)
{
	return &t->st;
}

static bool key_ok(size_t keylen, uint32_t window_s)
{
	return keylen <= WINDOW_KEY_MAX && window_s >= WINDOW_MIN_S && window_s <= WINDOW_MAX_S;
}

static uint64_t key_hash(const struct window_table *t, const void *key, size_t keylen,
			 uint32_t window_s)
{
	uint8_t buf[4 + WINDOW_KEY_MAX];

	buf[0] = (uint8_t)(window_s >> 24);
	buf[1] = (uint8_t)(window_s >> 16);
	buf[2] = (uint8_t)(window_s >> 8);
	buf[3] = (uint8_t)window_s;
	if (keylen)
		memcpy(buf + 4, key, keylen);
	return siphash13(&t->key, buf, 4 + keylen);
}

static uint32_t entry_find(const struct window_table *t, uint64_t h, const void *key,
			   size_t keylen, uint32_t window_s)
{
	for (uint32_t i = t->heads[h & t->mask]; i != NONE; i = t->pool[i].hnext) {
		const struct window_entry *e = &t->pool[i];
		if (e->hash == h && e->window_s == window_s && e->keylen == keylen &&
		    (keylen == 0 || memcmp(e->key, key, keylen) == 0))
			return i;
	}
	return NONE;
}

static void lru_unlink(struct window_table *t, struct window_entry *e)
{
	if (e->prev != NONE)
		t->pool[e->prev].next = e->next;
	else
		t->lru_head = e->next;
	if (e->next != NONE)
		t->pool[e->next].prev = e->prev;
	else
		t->lru_tail = e->prev;
}

static void lru_append(struct window_table *t, struct window_entry *e, uint32_t i)
{
	e->next = NONE;
	e->prev = t->lru_tail;
	if (t->lru_tail != NONE)
		t->pool[t->lru_tail].next = i;
	else
		t->lru_head = i;
	t->lru_tail = i;
}

static void entry_release(struct window_table *t, uint32_t i)
{
	struct window_entry *e = &t->pool[i];
	uint32_t *pp = &t->heads[e->hash & t->mask];

	while (*pp != i)
		pp = &t->pool[*pp].hnext; /* every live entry is on its chain */
	*pp = e->hnext;
	lru_unlink(t, e);
	e->hnext = t->free_head;
	t->free_head = i;
	t->st.entries--;
}

static void buckets_clear(struct window_entry *e)
{
	memset(e->b, 0, sizeof(e->b));
	for (int k = 0; k < WINDOW_BUCKETS; k++)
		e->b[k].first_us = UINT64_MAX;
}

static uint32_t entry_new(struct window_table *t, uint64_t h, const void *key, size_t keylen,
			  uint32_t window_s)
{
	uint32_t i;

	if (t->st.entries >= t->max_entries) {
		entry_release(t, t->lru_head); /* the coldest: least recently added to */
		t->st.evictions++;
	}
	if (t->free_head != NONE) {
		i = t->free_head;
		t->free_head = t->pool[i].hnext;
	} else {
		i = t->used++;
	}
	struct window_entry *e = &t->pool[i];
	e->hash = h;
	e->window_s = window_s;
	e->keylen = (uint8_t)keylen;
	if (keylen)
		memcpy(e->key, key, keylen);
	e->head_bn = 0;
	e->last_us = 0;
	buckets_clear(e);
	e->hnext = t->heads[h & t->mask];
	t->heads[h & t->mask] = i;
	lru_append(t, e, i);
	t->st.created++;
	if (++t->st.entries > t->st.peak)
		t->st.peak = t->st.entries;
	return i;
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
 * cur - 31 .. cur. Slot k holds bucket head_bn - ((head_bn - k) mod 32). */
static void entry_sum(const struct window_entry *e, uint64_t cur, struct window_sum *out)
{
	uint64_t oldest = cur >= WINDOW_BUCKETS - 1 ? cur - (WINDOW_BUCKETS - 1) : 0;

	memset(out, 0, sizeof(*out));
	out->first_us = UINT64_MAX;
	for (uint32_t k = 0; k < WINDOW_BUCKETS; k++) {
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
	uint64_t h = key_hash(t, key, keylen, window_s);
	uint32_t i = entry_find(t, h, key, keylen, window_s);
	bool fresh = i == NONE;

	if (fresh)
		i = entry_new(t, h, key, keylen, window_s);
	struct window_entry *e = &t->pool[i];
	if (!fresh) {
		lru_unlink(t, e);
		lru_append(t, e, i);
		if (now_us < e->last_us)
			now_us = e->last_us; /* time went back: count at the latest time */
	}

	uint64_t bn = now_us / width_us(e);
	if (fresh) {
		e->head_bn = bn;
	} else if (bn > e->head_bn) {
		/* retire the buckets that leave the window: the slots of head_bn+1 .. bn */
		if (bn - e->head_bn >= WINDOW_BUCKETS) {
			buckets_clear(e);
		} else {
			for (uint64_t n = e->head_bn + 1; n <= bn; n++) {
				struct window_bucket *b = &e->b[n % WINDOW_BUCKETS];
				memset(b, 0, sizeof(*b));
				b->first_us = UINT64_MAX;
			}
		}
		e->head_bn = bn;
	}
	/* bn == head_bn here: now_us >= last_us keeps it from going back */
	struct window_bucket *b = &e->b[bn % WINDOW_BUCKETS];
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
	uint64_t h = key_hash(t, key, keylen, window_s);
	uint32_t i = entry_find(t, h, key, keylen, window_s);
	if (i == NONE)
		return false;
	const struct window_entry *e = &t->pool[i];
	if (now_us < e->last_us)
		now_us = e->last_us;
	entry_sum(e, now_us / width_us(e), out);
	return true;
}
