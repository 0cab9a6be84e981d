/* keyed-pool.h: a fixed pool of fixed-size entries found by a byte-string key, for the
 * detection tables (window, tunnel, baseline) that each keep a bounded set of per-key
 * state.
 *
 * Entries. One calloc'd block of max_entries slots made at kpool_create; nothing is
 * allocated after that. Each slot starts with a header the pool owns (hash, recency
 * links, key length), then the key bytes (up to key_max), then entry_size bytes
 * of caller data, aligned for any type. Entries are named by index (0 .. max_entries - 1,
 * KPOOL_NONE for none); kpool_data gives the caller data. Data is zero in a slot used for
 * the first time and left as it was in a recycled one: the caller initialises it.
 *
 * Lookup. An open-addressing index of 2 * max_entries (rounded up to a power of two)
 * 8-byte slots apart from the entries; the caller hashes the key with kpool_hash (khash
 * with a per-pool random key) and the pool compares the hash, the length and the stored
 * key bytes (memcmp): no callback on the lookup path.
 *
 * Recency. A list from least to most recently used: kpool_insert appends, kpool_touch
 * moves to the most recent end, and when the pool is full kpool_insert evicts the least
 * recently used entry (calling the optional eviction callback first) and counts it.
 *
 * Not thread safe: one pool per thread.
 */
#ifndef EGRESSD_KEYED_POOL_H
#define EGRESSD_KEYED_POOL_H

#include <stddef.h>
#include <stdint.h>

#include "siphash.h"

#define KPOOL_NONE UINT32_MAX
#define KPOOL_MAX_ENTRIES (1u << 30)
#define KPOOL_KEY_MAX UINT16_MAX

struct kpool;

struct kpool_stats {
	uint64_t entries;   /* live entries now */
	uint64_t peak;	    /* most live entries at once */
	uint64_t created;   /* entries ever inserted */
	uint64_t evictions; /* entries dropped by kpool_insert to make room */
};

/* Called by kpool_insert with the least recently used entry just before it is evicted
 * (its key and data still intact), so the owner can release what it holds. */
typedef void (*kpool_evict_fn)(void *ctx, uint32_t idx, void *data);

/* max_entries: 1 .. KPOOL_MAX_ENTRIES; key_max: 0 .. KPOOL_KEY_MAX. NULL when out of
 * range or the memory cannot be reserved. */
struct kpool *kpool_create(uint32_t max_entries, size_t entry_size, size_t key_max);
void kpool_destroy(struct kpool *p);
void kpool_set_evict(struct kpool *p, kpool_evict_fn fn, void *ctx);

/* The pool's keyed hash of len bytes, and its SipHash key for other hashes of the
 * owner's that should be as unpredictable. */
uint64_t kpool_hash(const struct kpool *p, const void *key, size_t len);
const struct siphash_key *kpool_sipkey(const struct kpool *p);

/* The live entry with this hash and key, or KPOOL_NONE; does not change recency. */
uint32_t kpool_find(const struct kpool *p, uint64_t hash, const void *key, size_t keylen);

/* Insert a new entry (the caller has checked that the key is absent; keylen <= key_max)
 * as the most recently used, evicting the least recently used one when full. */
uint32_t kpool_insert(struct kpool *p, uint64_t hash, const void *key, size_t keylen);

/* Make a live entry the most recently used. */
void kpool_touch(struct kpool *p, uint32_t idx);

/* Remove a live entry (not counted as an eviction). */
void kpool_remove(struct kpool *p, uint32_t idx);

/* Remove every entry; peak, created and evictions are kept. */
void kpool_clear(struct kpool *p);

/* Walk from the least recently used entry: kpool_first, then kpool_next until
 * KPOOL_NONE. Do not insert, touch or remove while walking (except removing kpool_first
 * and asking for kpool_first again). */
uint32_t kpool_first(const struct kpool *p);
uint32_t kpool_next(const struct kpool *p, uint32_t idx);

/* A live entry's caller data and stored key bytes (with their length in *keylen). */
void *kpool_data(const struct kpool *p, uint32_t idx);
const uint8_t *kpool_key(const struct kpool *p, uint32_t idx, size_t *keylen);

const struct kpool_stats *kpool_stats(const struct kpool *p);

#endif
