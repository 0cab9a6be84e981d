/* keyed-pool.c: the fixed pool of keyed entries shared by the detection tables: an
 * open-addressing index (linear probing over 8-byte slots holding the low half of the
 * hash and the entry, at most half full, backward-shift deletion), a free list, an LRU
 * list with eviction when full, and the entry counters. See keyed-pool.h.
 *
 * The index is apart from the entries (which are large: a window entry is ~900 bytes)
 * so that looking up an absent key, the common case for a new destination, reads one
 * cache line of slots instead of the entries of a hash chain; a hit reads its slot and
 * its entry. */
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "keyed-pool.h"

#define ALIGN _Alignof(max_align_t)
#define LINE 64u

/* At the start of every slot; links are slot indices. */
struct kpool_hdr {
	uint64_t hash;
	uint32_t prev, next; /* recency list, head = least recently used; next links the
			      * free list when not live */
	uint16_t keylen;
};

struct kslot {
	uint32_t hlo;  /* low half of the hash: its home slot is hlo & mask */
	uint32_t idx1; /* entry + 1; 0: empty */
};

struct kpool {
	struct siphash_key key; /* for owners' hashes that stand for their keys */
	struct khash_key kkey;
	void *mem;	   /* as calloc'd */
	uint8_t *base;	   /* max_entries slots of block bytes, from a cache line */
	struct kslot *slots;
	size_t block;	   /* slot size */
	size_t data_off;   /* caller data within a slot */
	size_t key_max;
	uint32_t mask;
	uint32_t max_entries;
	uint32_t used;	    /* slots ever handed out */
	uint32_t free_head; /* recycled entries, linked through next */
	uint32_t lru_head, lru_tail;
	kpool_evict_fn evict;
	void *evict_ctx;
	struct kpool_stats st;
};

static inline size_t round_up(size_t n)
{
	return (n + ALIGN - 1) / ALIGN * ALIGN;
}

static inline struct kpool_hdr *hdr(const struct kpool *p, uint32_t i)
{
	return (struct kpool_hdr *)(p->base + (size_t)i * p->block);
}

static inline uint8_t *key_of(struct kpool_hdr *h)
{
	return (uint8_t *)(h + 1);
}

struct kpool *kpool_create(uint32_t max_entries, size_t entry_size, size_t key_max)
{
	struct kpool *p;
	uint64_t nslots = 16;

	if (max_entries == 0 || max_entries > KPOOL_MAX_ENTRIES || key_max > KPOOL_KEY_MAX ||
	    entry_size > SIZE_MAX / 4) /* calloc checks the product */
		return NULL;
	p = calloc(1, sizeof(*p));
	if (!p)
		return NULL;
	while (nslots < (uint64_t)max_entries * 2)
		nslots <<= 1;
	p->mask = (uint32_t)(nslots - 1);
	p->max_entries = max_entries;
	p->key_max = key_max;
	p->data_off = round_up(sizeof(struct kpool_hdr) + key_max);
	p->block = round_up(p->data_off + entry_size);
	/* calloc'd big blocks are mapped lazily: pages are touched as entries are used */
	p->mem = calloc((size_t)max_entries + 1, p->block);
	p->slots = calloc(nslots, sizeof(*p->slots)); /* all empty, mapped as used */
	if (!p->mem || !p->slots) {
		kpool_destroy(p);
		return NULL;
	}
	/* slots start on a cache line, so a short key and the header share one */
	p->base = (uint8_t *)p->mem + (-(uintptr_t)p->mem & (LINE - 1));
	kpool_clear(p);
	siphash_key_random(&p->key);
	khash_key_random(&p->kkey);
	return p;
}

void kpool_destroy(struct kpool *p)
{
	if (!p)
		return;
	free(p->mem);
	free(p->slots);
	free(p);
}

void kpool_set_evict(struct kpool *p, kpool_evict_fn fn, void *ctx)
{
	p->evict = fn;
	p->evict_ctx = ctx;
}

uint64_t kpool_hash(const struct kpool *p, const void *key, size_t len)
{
	return khash(&p->kkey, key, len);
}

const struct siphash_key *kpool_sipkey(const struct kpool *p)
{
	return &p->key;
}

void kpool_clear(struct kpool *p)
{
	if (p->used) /* a new pool's calloc'd slots are empty: leave their pages untouched */
		memset(p->slots, 0, ((size_t)p->mask + 1) * sizeof(*p->slots));
	p->used = 0;
	p->free_head = KPOOL_NONE;
	p->lru_head = p->lru_tail = KPOOL_NONE;
	p->st.entries = 0;
}

uint32_t kpool_find(const struct kpool *p, uint64_t hash, const void *key, size_t keylen)
{
	uint32_t hlo = (uint32_t)hash;
	for (uint32_t pos = hlo & p->mask;; pos = (pos + 1) & p->mask) {
		struct kslot s = p->slots[pos];
		if (s.idx1 == 0)
			return KPOOL_NONE; /* at most half full: an empty slot always comes */
		if (s.hlo != hlo)
			continue;
		struct kpool_hdr *h = hdr(p, s.idx1 - 1);
		if (h->hash == hash && h->keylen == keylen &&
		    (keylen == 0 || memcmp(key_of(h), key, keylen) == 0))
			return s.idx1 - 1;
	}
}

/* Remove slot pos and shift the rest of its cluster back (Knuth 6.4 algorithm R). */
static void slot_delete(struct kpool *p, uint32_t pos)
{
	uint32_t i = pos, j = pos;
	for (;;) {
		j = (j + 1) & p->mask;
		if (p->slots[j].idx1 == 0)
			break;
		uint32_t home = p->slots[j].hlo & p->mask;
		/* slot j stays unless its home is cyclically outside (i, j] */
		bool stays = (i <= j) ? (i < home && home <= j) : (i < home || home <= j);
		if (stays)
			continue;
		p->slots[i] = p->slots[j];
		i = j;
	}
	p->slots[i].idx1 = 0;
	p->slots[i].hlo = 0;
}

static void lru_unlink(struct kpool *p, struct kpool_hdr *h)
{
	if (h->prev != KPOOL_NONE)
		hdr(p, h->prev)->next = h->next;
	else
		p->lru_head = h->next;
	if (h->next != KPOOL_NONE)
		hdr(p, h->next)->prev = h->prev;
	else
		p->lru_tail = h->prev;
}

static void lru_append(struct kpool *p, struct kpool_hdr *h, uint32_t i)
{
	h->next = KPOOL_NONE;
	h->prev = p->lru_tail;
	if (p->lru_tail != KPOOL_NONE)
		hdr(p, p->lru_tail)->next = i;
	else
		p->lru_head = i;
	p->lru_tail = i;
}

void kpool_remove(struct kpool *p, uint32_t i)
{
	struct kpool_hdr *h = hdr(p, i);
	uint32_t pos = (uint32_t)h->hash & p->mask;

	while (p->slots[pos].idx1 != i + 1) /* every live entry is indexed */
		pos = (pos + 1) & p->mask;
	slot_delete(p, pos);
	lru_unlink(p, h);
	h->next = p->free_head;
	p->free_head = i;
	p->st.entries--;
}

uint32_t kpool_insert(struct kpool *p, uint64_t hash, const void *key, size_t keylen)
{
	uint32_t i;

	if (p->st.entries >= p->max_entries) {
		i = p->lru_head;
		if (p->evict)
			p->evict(p->evict_ctx, i, kpool_data(p, i));
		kpool_remove(p, i);
		p->st.evictions++;
	}
	if (p->free_head != KPOOL_NONE) {
		i = p->free_head;
		p->free_head = hdr(p, i)->next;
	} else {
		i = p->used++;
	}
	struct kpool_hdr *h = hdr(p, i);
	h->hash = hash;
	h->keylen = (uint16_t)keylen;
	if (keylen)
		memcpy(key_of(h), key, keylen);
	uint32_t pos = (uint32_t)hash & p->mask;
	while (p->slots[pos].idx1 != 0)
		pos = (pos + 1) & p->mask;
	p->slots[pos].hlo = (uint32_t)hash;
	p->slots[pos].idx1 = i + 1;
	lru_append(p, h, i);
	p->st.created++;
	if (++p->st.entries > p->st.peak)
		p->st.peak = p->st.entries;
	return i;
}

void kpool_touch(struct kpool *p, uint32_t i)
{
	if (i == p->lru_tail)
		return;
	struct kpool_hdr *h = hdr(p, i);
	lru_unlink(p, h);
	lru_append(p, h, i);
}

uint32_t kpool_first(const struct kpool *p)
{
	return p->lru_head;
}

uint32_t kpool_next(const struct kpool *p, uint32_t i)
{
	return hdr(p, i)->next;
}

void *kpool_data(const struct kpool *p, uint32_t i)
{
	return p->base + (size_t)i * p->block + p->data_off;
}

const uint8_t *kpool_key(const struct kpool *p, uint32_t i, size_t *keylen)
{
	struct kpool_hdr *h = hdr(p, i);

	*keylen = h->keylen;
	return key_of(h);
}

const struct kpool_stats *kpool_stats(const struct kpool *p)
{
	return &p->st;
}
