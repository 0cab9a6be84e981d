/* siphash.h: SipHash-1-3, a keyed hash (Aumasson & Bernstein), for hash tables whose keys
 * come from the wire: without the per-run key an attacker cannot craft collisions.
 * Hand-written because it sits on the per-packet path. */
#ifndef EGRESSD_SIPHASH_H
#define EGRESSD_SIPHASH_H

#include <stddef.h>
#include <stdint.h>

struct siphash_key {
	uint64_t k0, k1;
};

uint64_t siphash13(const struct siphash_key *key, const void *data, size_t len);

/* Fill key from the kernel's random source; falls back to time and pid if unavailable. */
void siphash_key_random(struct siphash_key *key);

/* khash: a keyed hash for the in-memory tables whose lookups compare the whole key
 * (names, DNS cache, detection pools, fragments, the enrichment cache). Two
 * multilinear hashes (Lemire and Kaser, "Strongly universal string hashing is fast",
 * 2014) over the input's 32-bit words, zero-padded to KHASH_MAX_BYTES, and its
 * length, with 64-bit random keys; each half of the result is the top 32 bits of one
 * of them. For two distinct inputs the chance of equal halves is about 2^-32 each, over
 * the choice of the key, so an attacker without the key cannot make entries collide;
 * it costs two multiply-adds per four bytes where SipHash costs ~130 instructions for
 * a 20-byte name. Longer inputs go through SipHash-1-3 with a key of their own.
 * Where a hash stands for a key that is not compared afterwards, use siphash13. */
#define KHASH_MAX_BYTES 256

struct khash_key {
	uint64_t a[KHASH_MAX_BYTES / 4 + 2], b[KHASH_MAX_BYTES / 4 + 2];
	struct siphash_key sip;
};

void khash_key_random(struct khash_key *key);
uint64_t khash(const struct khash_key *key, const void *data, size_t len);

#endif
