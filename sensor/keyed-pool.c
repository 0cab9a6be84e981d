/* keyed-pool.c: the fixed pool of keyed entries shared by the detection tables: chained
 * hash on SipHash-1-3 with a random key, free list, LRU list with eviction when full, and
 * the entry counters. See keyed-pool.h. */
#include <stdlib.h>
#include <string.h>

#include "keyed-pool.h"

#define ALIGN _Alignof(max_align_t)
#define LINE 64u

/* At the start of every slot; links are slot indices. */
struct kpool_hdr {
	uint64_t hash;
	uint32_t hnext;	     /* hash chain; the free list when not live */
	uint32_t prev, next; /* recency list, head = least recently used */
	uint16_t keylen;
};

struct kpool {
	struct siphash_key key; /* for owners' hashes that stand for their keys */
	struct khash_key kkey;
	void *mem;	   /* as calloc'd */
	uint8_t *base;	   /* max_entries slots of block bytes, from a cache line */
	uint32_t *heads;
	size_t block;	   /* slot size */
	size_t data_off;   /* caller data within a slot */
	size_t key_max;
	uint32_t mask;
	uint32_t max_entries;
	uint32_t used;	    /* slots ever handed out */
	uint32_t free_head; /* recycled slots, linked through hnext */
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
	uint64_t nheads = 16;

	if (max_entries == 0 || max_entries > KPOOL_MAX_ENTRIES || key_max > KPOOL_KEY_MAX ||
	    entry_size > SIZE_MAX / 4) /* calloc checks the product */
		return NULL;
	p = calloc(1, sizeof(*p));
	if (!p)
		return NULL;
	while (nheads < max_entries)
		nheads <<= 1;
	p->mask = (uint32_t)(nheads - 1);
	p->max_entries = max_entries;
	p->key_max = key_max;
	p->data_off = round_up(sizeof(struct kpool_hdr) + key_max);
	p->block = round_up(p->data_off + entry_size);
	/* calloc'd big blocks are mapped lazily: pages are touched as entries are used */
	p->mem = calloc((size_t)max_entries + 1, p->block);
	p->heads = malloc(nheads * sizeof(*p->heads));
	if (!p->mem || !p->heads) {
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
	free(p->heads);
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
	memset(p->heads, 0xff, ((size_t)p->mask + 1) * sizeof(*p->heads)); /* all NONE */
	p->used = 0;
	p->free_head = KPOOL_NONE;
	p->lru_head = p->lru_tail = KPOOL_NONE;
	p->st.entries = 0;
}

uint32_t kpool_find(const struct kpool *p, uint64_t hash, const void *key, size_t keylen)
{
	for (uint32_t i = p->heads[hash & p->mask]; i != KPOOL_NONE;) {
		struct kpool_hdr *h = hdr(p, i);
		if (h->hash == hash && h->keylen == keylen &&
		    (keylen == 0 || memcmp(key_of(h), key, keylen) == 0))
			return i;
		i = h->hnext;
	}
	return KPOOL_NONE;
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
	uint32_t *pp = &p->heads[h->hash & p->mask];

	while (*pp != i)
		pp = &hdr(p, *pp)->hnext; /* every live entry is on its chain */
	*pp = h->hnext;
	lru_unlink(p, h);
	h->hnext = p->free_head;
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
		p->free_head = hdr(p, i)->hnext;
	} else {
		i = p->used++;
	}
	struct kpool_hdr *h = hdr(p, i);
	h->hash = hash;
	h->keylen = (uint16_t)keylen;
	if (keylen)
		memcpy(key_of(h), key, keylen);
	h->hnext = p->heads[hash & p->mask];
	p->heads[hash & p->mask] = i;
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
