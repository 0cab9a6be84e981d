/* flow-frag.c: fragment-to-flow map (see flow-frag.h). Open addressing with a short
 * probe window; an expired or orphaned entry is reused in place. */
#include <stdlib.h>
#include <string.h>

#include "flow-frag.h"
#include "siphash.h"

#define FRAG_PROBE 8

struct frag_key {
	uint8_t src[16], dst[16];
	uint32_t id;
	uint16_t vlan;
	uint8_t proto, family;
};

struct frag_entry {
	struct frag_key key;
	uint64_t expires_us; /* 0: empty */
	bool have_ports;
	uint16_t sport, dport;
	struct frag_pending pending;
};

struct frag_table {
	struct frag_entry *e;
	uint32_t mask;
	uint64_t timeout_us;
	struct khash_key hkey;
	struct anomaly_counts *anom;
};

struct frag_table *frag_table_create(uint32_t capacity, uint32_t timeout_s,
				     struct anomaly_counts *anom)
{
	struct frag_table *t = calloc(1, sizeof(*t));
	uint32_t n = 16;
	if (!t)
		return NULL;
	while (n < capacity && n < (1u << 24))
		n <<= 1;
	t->e = calloc(n, sizeof(*t->e));
	if (!t->e) {
		free(t);
		return NULL;
	}
	t->mask = n - 1;
	t->timeout_us = (uint64_t)timeout_s * 1000000u;
	t->anom = anom;
	khash_key_random(&t->hkey);
	return t;
}

void frag_table_destroy(struct frag_table *t)
{
	if (!t)
		return;
	free(t->e);
	free(t);
}

static void key_of(const struct pkt_layer *l, struct frag_key *k)
{
	memset(k, 0, sizeof(*k));
	memcpy(k->src, l->src, 16);
	memcpy(k->dst, l->dst, 16);
	k->id = l->frag_id;
	k->vlan = l->vlan;
	k->proto = l->proto;
	k->family = l->family;
}

/* The entry for k, or a free/expired slot to hold it, or NULL when the window is full
 * of live entries. */
static struct frag_entry *lookup(struct frag_table *t, const struct frag_key *k,
				 uint64_t now_us, bool *found)
{
	uint32_t pos = (uint32_t)khash(&t->hkey, k, sizeof(*k)) & t->mask;
	struct frag_entry *spare = NULL;
	*found = false;
	for (int i = 0; i < FRAG_PROBE; i++, pos = (pos + 1) & t->mask) {
		struct frag_entry *e = &t->e[pos];
		bool live = e->expires_us != 0 && e->expires_us >= now_us;
		if (live && memcmp(&e->key, k, sizeof(*k)) == 0) {
			*found = true;
			return e;
		}
		if (!live) {
			if (e->expires_us != 0 && !e->have_ports && e->pending.pkts)
				anomaly_count(t->anom, ANOM_FRAG_ORPHAN);
			if (!spare)
				spare = e;
			e->expires_us = 0;
		}
	}
	return spare;
}

struct frag_pending frag_first(struct frag_table *t, const struct pkt_layer *l, uint64_t now_us)
{
	struct frag_key k;
	struct frag_pending none = { 0, 0, 0 };
	bool found;

	key_of(l, &k);
	struct frag_entry *e = lookup(t, &k, now_us, &found);
	if (!e) {
		anomaly_count(t->anom, ANOM_FRAG_TABLE_FULL);
		return none;
	}
	struct frag_pending p = found ? e->pending : none;
	e->key = k;
	e->expires_us = now_us + t->timeout_us;
	e->have_ports = true;
	e->sport = l->sport;
	e->dport = l->dport;
	e->pending = none;
	return p;
}

bool frag_later(struct frag_table *t, struct pkt_layer *l, uint64_t now_us)
{
	struct frag_key k;
	bool found;

	key_of(l, &k);
	struct frag_entry *e = lookup(t, &k, now_us, &found);
	if (!e) {
		anomaly_count(t->anom, ANOM_FRAG_TABLE_FULL);
		return false;
	}
	if (found && e->have_ports) {
		l->sport = e->sport;
		l->dport = e->dport;
		return true;
	}
	if (!found) {
		memset(e, 0, sizeof(*e));
		e->key = k;
		e->expires_us = now_us + t->timeout_us;
	}
	e->pending.pkts++;
	e->pending.ip_bytes += l->ip_bytes;
	e->pending.payload_bytes += l->payload_bytes;
	return false;
}
