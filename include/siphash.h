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

#endif
