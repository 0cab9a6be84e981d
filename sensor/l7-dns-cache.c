/* l7-dns-cache.c: IP -> name map fed by DNS answers (see l7-dns-cache.h). */
#include <stdlib.h>
#include <string.h>

#include "l7-dns-cache.h"
#include "siphash.h"

#define DNS_CACHE_PROBE 8

struct dns_entry {
	uint8_t addr[16];
	uint8_t family;
	uint32_t name;
	uint64_t expires_us; /* 0: empty */
};

struct dns_cache {
	struct dns_entry *e;
	uint32_t mask;
	uint64_t min_ttl_us, max_ttl_us;
	struct names *names;
	struct khash_key key;
	struct dns_cache_stats st;
};

struct dns_cache *dns_cache_create(uint32_t capacity, uint32_t min_ttl_s, uint32_t max_ttl_s,
				   struct names *names)
{
	struct dns_cache *c = calloc(1, sizeof(*c));
	uint32_t n = 16;
	if (!c)
		return NULL;
	while (n < capacity && n < (1u << 28))
		n <<= 1;
	c->e = calloc(n, sizeof(*c->e));
	if (!c->e) {
		free(c);
		return NULL;
	}
	c->mask = n - 1;
	c->min_ttl_us = (uint64_t)min_ttl_s * 1000000u;
	c->max_ttl_us = (uint64_t)max_ttl_s * 1000000u;
	c->names = names;
	khash_key_random(&c->key);
	return c;
}

void dns_cache_destroy(struct dns_cache *c)
{
	if (!c)
		return;
	for (uint32_t i = 0; i <= c->mask; i++)
		if (c->e[i].expires_us)
			names_unref(c->names, c->e[i].name);
	free(c->e);
	free(c);
}

static uint32_t home(const struct dns_cache *c, int family, const uint8_t addr[16])
{
	uint8_t k[17];
	memcpy(k, addr, 16);
	k[16] = (uint8_t)family;
	return (uint32_t)khash(&c->key, k, sizeof(k)) & c->mask;
}

void dns_cache_put(struct dns_cache *c, int family, const uint8_t addr[16], uint32_t name_id,
		   uint32_t ttl_s, uint64_t now_us)
{
	uint64_t ttl = (uint64_t)ttl_s * 1000000u;
	if (ttl < c->min_ttl_us)
		ttl = c->min_ttl_us;
	if (ttl > c->max_ttl_us)
		ttl = c->max_ttl_us;
	uint32_t pos = home(c, family, addr);
	struct dns_entry *victim = NULL;
	for (int i = 0; i < DNS_CACHE_PROBE; i++, pos = (pos + 1) & c->mask) {
		struct dns_entry *e = &c->e[pos];
		if (e->expires_us && e->family == family && memcmp(e->addr, addr, 16) == 0) {
			victim = e;
			c->st.replaced++;
			break;
		}
		if (!e->expires_us || e->expires_us < now_us) {
			if (!victim || victim->expires_us)
				victim = e;
		} else if (!victim || (victim->expires_us && e->expires_us < victim->expires_us)) {
			victim = e;
		}
	}
	if (victim->expires_us && victim->expires_us >= now_us &&
	    !(victim->family == family && memcmp(victim->addr, addr, 16) == 0))
		c->st.evicted++;
	/* take the new reference first: name_id may be the one this entry holds */
	names_ref(c->names, name_id);
	if (victim->expires_us)
		names_unref(c->names, victim->name);
	memcpy(victim->addr, addr, 16);
	victim->family = (uint8_t)family;
	victim->name = name_id;
	victim->expires_us = now_us + ttl;
	c->st.inserted++;
}

uint32_t dns_cache_get(struct dns_cache *c, int family, const uint8_t addr[16], uint64_t now_us)
{
	uint32_t pos = home(c, family, addr);
	for (int i = 0; i < DNS_CACHE_PROBE; i++, pos = (pos + 1) & c->mask) {
		struct dns_entry *e = &c->e[pos];
		if (e->expires_us && e->expires_us >= now_us && e->family == family &&
		    memcmp(e->addr, addr, 16) == 0) {
			c->st.hits++;
			return e->name;
		}
	}
	c->st.misses++;
	return 0;
}

const struct dns_cache_stats *dns_cache_stats(const struct dns_cache *c)
{
	return &c->st;
}
