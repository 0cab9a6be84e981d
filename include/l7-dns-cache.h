/* l7-dns-cache.h: which name a DNS answer gave for an IP address, so that later flows to
 * that address carry the name (the query name the client asked for, not the CNAME
 * target). Fixed capacity; entries live for the answer's TTL clamped to
 * [min_ttl, max_ttl] of packet time; when the probe window is full the entry closest to
 * expiry is replaced (counted). Holds a reference on each name it stores.
 */
#ifndef EGRESSD_L7_DNS_CACHE_H
#define EGRESSD_L7_DNS_CACHE_H

#include <stdint.h>

#include "names.h"

struct dns_cache;

struct dns_cache_stats {
	uint64_t inserted, replaced, evicted, hits, misses;
};

struct dns_cache *dns_cache_create(uint32_t capacity, uint32_t min_ttl_s, uint32_t max_ttl_s,
				   struct names *names);
void dns_cache_destroy(struct dns_cache *c);

void dns_cache_put(struct dns_cache *c, int family, const uint8_t addr[16], uint32_t name_id,
		   uint32_t ttl_s, uint64_t now_us);

/* The name id for addr (borrowed: names_ref it to keep it), or 0. */
uint32_t dns_cache_get(struct dns_cache *c, int family, const uint8_t addr[16], uint64_t now_us);

const struct dns_cache_stats *dns_cache_stats(const struct dns_cache *c);

#endif
