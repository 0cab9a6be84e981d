/* flow-table.c: open-addressing flow table (linear probing over 8-byte slots holding a
 * hash tag and a pool index, backward-shift deletion), keyed with a per-run random key,
 * a fixed pool of flows and one recency list per timeout class.
 * Hand-written: this is the per-packet hot path.
 *
 * The hash is multilinear (Lemire and Kaser, "Strongly universal string hashing is
 * fast", 2014): h = (k0 + sum k[i] * w[i]) mod 2^64 over the key's ten 32-bit words with
 * 64-bit random k, keeping the top 32 bits. For any two distinct keys the chance that
 * they collide is about 2^-32 over the choice of k, so tuples crafted without the key
 * cannot pile up in one probe sequence; it costs a few multiplications where SipHash
 * costs some 130 instructions per packet.
 *
 * Extensions are in a pool of their own, handed out when a stage first writes to one
 * (bump allocation, then a free list): the flow pool and the extension pool are both
 * mapped lazily, so resident memory follows the flows and the extensions in use, and
 * a SYN flood fills only flow slots. A slot's tag is the whole hash, so deleting from
 * the index reads no flow, and a flow does not keep its hash. */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "flow.h"
#include "siphash.h"

#define NONE UINT32_MAX

struct slot {
	uint32_t tag; /* the flow's hash: its low bits give the home slot */
	uint32_t idx; /* pool index + 1; 0 = empty */
};

struct lru {
	uint32_t head, tail;
};

struct flow_table {
	struct flow_table_config cfg;
	uint64_t mk[11]; /* multilinear hash key */
	struct slot *slots;
	uint32_t mask;
	struct flow *pool;
	uint32_t used;	    /* pool entries ever handed out (bump allocation) */
	uint32_t free_head; /* recycled entries, linked through `next` */
	struct flow_ext_pool ext;
	unsigned char *ext_map; /* the mapping: read-only zero entry, then the entries */
	size_t ext_map_len, ext_zero_len;
	uint32_t ext_used;	/* extension entries ever handed out, entry 0 excluded */
	uint32_t ext_free;	/* recycled entries, linked through their first bytes */
	uint64_t next_id;
	uint64_t now_us;
	/* No list head can time out before this packet time: at most the earliest head's
	 * last_us + timeout + 1, lowered whenever a list gets a new head. */
	uint64_t next_expiry_us;
	uint64_t timeout_us[FLOW_LIST__COUNT];
	struct lru lists[FLOW_LIST__COUNT];
	flow_end_fn on_end;
	void *ctx;
	struct flow_table_stats st;
};

void flow_table_config_default(struct flow_table_config *cfg)
{
	memset(cfg, 0, sizeof(*cfg));
	cfg->max_flows = 1000000;
	cfg->timeout_s[FLOW_LIST_TCP] = 300;
	cfg->timeout_s[FLOW_LIST_TCP_CLOSED] = 120;
	cfg->timeout_s[FLOW_LIST_UDP] = 60;
	cfg->timeout_s[FLOW_LIST_ICMP] = 60;
	cfg->timeout_s[FLOW_LIST_OTHER] = 60;
	cfg->active_timeout_s = 1800;
}

static inline struct flow *flow_at(const struct flow_table *ft, uint32_t i)
{
	return &ft->pool[i];
}

static inline uint32_t flow_index(const struct flow_table *ft, const struct flow *f)
{
	return (uint32_t)(f - ft->pool);
}

_Static_assert(sizeof(struct flow) == 128, "struct flow: two cache lines");

/* The extension pool: max_flows entries after a zero entry 0 that ends where the first
 * page of entry 1 starts, on pages of its own made read-only. */
static bool ext_pool_create(struct flow_table *ft, size_t ext_size)
{
	size_t page = (size_t)sysconf(_SC_PAGESIZE);
	size_t stride = (ext_size + 7) & ~(size_t)7;
	if (stride == 0)
		stride = 8;
	ft->ext_zero_len = (stride + page - 1) / page * page;
	ft->ext_map_len = ft->ext_zero_len + (size_t)ft->cfg.max_flows * stride;
	void *m = mmap(NULL, ft->ext_map_len, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (m == MAP_FAILED) {
		ft->ext_map = NULL;
		return false;
	}
	ft->ext_map = m;
	if (mprotect(m, ft->ext_zero_len, PROT_READ) != 0)
		return false;
	ft->ext.base = ft->ext_map + ft->ext_zero_len - stride;
	ft->ext.stride = stride;
	ft->ext.ft = ft;
	return true;
}

const struct flow_ext_pool *flow_table_ext_pool(const struct flow_table *ft)
{
	return &ft->ext;
}

/* flow_ext_take for a flow without one */
void *flow_ext_new(struct flow_table *ft, struct flow *f)
{
	unsigned char *base = ft->ext.base;
	uint32_t n;
	if (ft->ext_free) {
		n = ft->ext_free;
		memcpy(&ft->ext_free, base + (size_t)n * ft->ext.stride, sizeof(n));
	} else {
		n = ++ft->ext_used; /* one per live flow at most: <= max_flows */
	}
	memset(base + (size_t)n * ft->ext.stride, 0, ft->ext.stride);
	f->ext = n;
	return base + (size_t)n * ft->ext.stride;
}

/* The flow ended: its extension goes back to the pool. */
static void ext_release(struct flow_table *ft, struct flow *f)
{
	if (!f->ext)
		return;
	unsigned char *e = ft->ext.base + (size_t)f->ext * ft->ext.stride;
	memcpy(e, &ft->ext_free, sizeof(ft->ext_free));
	ft->ext_free = f->ext;
	f->ext = 0;
}

struct flow_table *flow_table_create(const struct flow_table_config *cfg, flow_end_fn on_end,
				     void *ctx, char *err, size_t errlen)
{
	struct flow_table *ft = calloc(1, sizeof(*ft));
	uint64_t nslots = 16;

	if (!ft)
		goto fail;
	if (cfg->max_flows == 0 || cfg->max_flows > (1u << 30)) {
		snprintf(err, errlen, "flow table: max_flows must be between 1 and %u", 1u << 30);
		free(ft);
		return NULL;
	}
	ft->cfg = *cfg;
	ft->on_end = on_end;
	ft->ctx = ctx;
	/* at most two thirds full: linear probing stays short (about 2 probes for a hit,
	 * 5 for a miss at the worst load) while the slots cost 8-16 bytes per flow */
	while (nslots < (uint64_t)cfg->max_flows * 3 / 2)
		nslots <<= 1;
	ft->mask = (uint32_t)(nslots - 1);
	/* calloc'd big blocks are mapped lazily: pages are touched as flows are used */
	ft->slots = calloc(nslots, sizeof(struct slot));
	ft->pool = calloc(cfg->max_flows, sizeof(struct flow));
	if (!ft->slots || !ft->pool || !ext_pool_create(ft, cfg->ext_size))
		goto fail;
	ft->free_head = NONE;
	for (int i = 0; i < FLOW_LIST__COUNT; i++) {
		ft->lists[i].head = ft->lists[i].tail = NONE;
		ft->timeout_us[i] = (uint64_t)cfg->timeout_s[i] * 1000000u;
	}
	ft->next_expiry_us = UINT64_MAX;
	struct siphash_key seed = { cfg->hash_seed, ~cfg->hash_seed };
	if (!cfg->hash_seed)
		siphash_key_random(&seed);
	for (uint64_t i = 0; i < sizeof(ft->mk) / sizeof(ft->mk[0]); i++)
		ft->mk[i] = siphash13(&seed, &i, sizeof(i));
	return ft;
fail:
	snprintf(err, errlen, "flow table: cannot reserve memory for %u flows",
		 cfg->max_flows);
	if (ft) {
		free(ft->slots);
		free(ft->pool);
		if (ft->ext_map)
			munmap(ft->ext_map, ft->ext_map_len);
		free(ft);
	}
	return NULL;
}

void flow_table_destroy(struct flow_table *ft)
{
	if (!ft)
		return;
	free(ft->slots);
	free(ft->pool);
	munmap(ft->ext_map, ft->ext_map_len);
	free(ft);
}

const struct flow_table_stats *flow_table_stats(const struct flow_table *ft)
{
	return &ft->st;
}

/* ICMP request/reply pairs share a flow keyed by the request type (Community ID's
 * table of two-way types). Returns the request type; *is_reply tells the direction. */
static uint8_t icmp_request_type(int family, uint8_t type, bool *is_reply)
{
	static const uint8_t v4[][2] = { { 8, 0 }, { 13, 14 }, { 15, 16 }, { 17, 18 }, { 10, 9 } };
	static const uint8_t v6[][2] = { { 128, 129 }, { 133, 134 }, { 135, 136 }, { 130, 131 } };
	const uint8_t(*t)[2] = family == 4 ? v4 : v6;
	size_t n = family == 4 ? sizeof(v4) / sizeof(v4[0]) : sizeof(v6) / sizeof(v6[0]);

	*is_reply = false;
	for (size_t i = 0; i < n; i++) {
		if (type == t[i][0])
			return type;
		if (type == t[i][1]) {
			*is_reply = true;
			return t[i][0];
		}
	}
	return type;
}

static bool is_icmp(const struct pkt_layer *l)
{
	return (l->proto == 1 && l->family == 4) || (l->proto == 58 && l->family == 6);
}

/* Addresses in 64-bit halves: their byte order (memcmp's) is the big-endian value's. */
static inline uint64_t be64_at(const uint8_t *p)
{
	uint64_t v;
	memcpy(&v, p, 8);
	return __builtin_bswap64(v);
}

static inline int cmp_u64(uint64_t a, uint64_t b)
{
	return (a > b) - (a < b);
}

int flow_key_from_layer(const struct pkt_layer *l, struct flow_key *k)
{
	int side;
	uint16_t p0, p1;

	if (is_icmp(l)) {
		/* directional: side 0 is the requester, so A pinging B and B pinging A are two
		 * flows, and a reply belongs with its request */
		bool reply;
		p0 = icmp_request_type(l->family, (uint8_t)l->sport, &reply);
		p1 = l->dport;
		side = reply;
	} else {
		/* the sender is side 1 when its (address, port) is the larger */
		int c = cmp_u64(be64_at(l->src), be64_at(l->dst));
		if (c == 0)
			c = cmp_u64(be64_at(l->src + 8), be64_at(l->dst + 8));
		if (c == 0)
			c = (int)l->sport - (int)l->dport;
		side = c > 0;
		p0 = side ? l->dport : l->sport;
		p1 = side ? l->sport : l->dport;
	}
	const uint8_t *a0 = side ? l->dst : l->src, *a1 = side ? l->src : l->dst;
	memcpy(k->addr[0], a0, 16);
	memcpy(k->addr[1], a1, 16);
	k->port[0] = p0;
	k->port[1] = p1;
	k->vlan = l->vlan;
	k->proto = l->proto;
	k->family = l->family;
	return side;
}

static inline bool key_eq(const struct flow_key *a, const struct flow_key *b)
{
	uint64_t x[5], y[5];
	memcpy(x, a, sizeof(x));
	memcpy(y, b, sizeof(y));
	return ((x[0] ^ y[0]) | (x[1] ^ y[1]) | (x[2] ^ y[2]) | (x[3] ^ y[3]) | (x[4] ^ y[4])) ==
	       0;
}

static enum flow_list list_for(const struct flow_key *k)
{
	switch (k->proto) {
	case 6:
		return FLOW_LIST_TCP;
	case 17:
		return FLOW_LIST_UDP;
	case 1:
	case 58:
		return FLOW_LIST_ICMP;
	default:
		return FLOW_LIST_OTHER;
	}
}

/* A flow became the head of its list: it is the next of the list to time out. */
static inline void head_changed(struct flow_table *ft, const struct flow *h)
{
	uint64_t at = h->last_us + ft->timeout_us[h->list] + 1;
	if (at < ft->next_expiry_us)
		ft->next_expiry_us = at;
}

static void lru_unlink(struct flow_table *ft, struct flow *f)
{
	struct lru *L = &ft->lists[f->list];
	if (f->prev != NONE) {
		flow_at(ft, f->prev)->next = f->next;
	} else {
		L->head = f->next;
		if (f->next != NONE)
			head_changed(ft, flow_at(ft, f->next));
	}
	if (f->next != NONE)
		flow_at(ft, f->next)->prev = f->prev;
	else
		L->tail = f->prev;
}

static void lru_append(struct flow_table *ft, struct flow *f, uint32_t i)
{
	struct lru *L = &ft->lists[f->list];
	f->next = NONE;
	f->prev = L->tail;
	if (L->tail != NONE) {
		flow_at(ft, L->tail)->next = i;
	} else {
		L->head = i;
		head_changed(ft, f);
	}
	L->tail = i;
}

/* Remove slot `pos` and shift the following cluster back (Knuth 6.4 algorithm R). */
static void slot_delete(struct flow_table *ft, uint32_t pos)
{
	uint32_t i = pos, j = pos;
	for (;;) {
		j = (j + 1) & ft->mask;
		if (ft->slots[j].idx == 0)
			break;
		uint32_t home = ft->slots[j].tag & ft->mask;
		/* can slot j move back to i? only if home is not cyclically in (i, j] */
		bool stays = (i <= j) ? (i < home && home <= j) : (i < home || home <= j);
		if (stays)
			continue;
		ft->slots[i] = ft->slots[j];
		i = j;
	}
	ft->slots[i].idx = 0;
	ft->slots[i].tag = 0;
}

static inline uint32_t key_hash(const struct flow_table *ft, const struct flow_key *k);

static uint32_t slot_find(const struct flow_table *ft, const struct flow *f)
{
	uint32_t want = flow_index(ft, f) + 1;
	uint32_t pos = key_hash(ft, &f->key) & ft->mask;
	for (uint32_t n = 0; n <= ft->mask; n++, pos = (pos + 1) & ft->mask)
		if (ft->slots[pos].idx == want)
			return pos;
	return NONE; /* not reached: every pooled flow is indexed */
}

static void flow_release(struct flow_table *ft, struct flow *f, enum flow_end why)
{
	uint32_t i = flow_index(ft, f);
	ft->on_end(ft->ctx, f, why);
	ext_release(ft, f);
	ft->st.ended[why]++;
	ft->st.active--;
	lru_unlink(ft, f);
	uint32_t pos = slot_find(ft, f);
	if (pos != NONE)
		slot_delete(ft, pos);
	f->next = ft->free_head;
	ft->free_head = i;
}

static void evict_one(struct flow_table *ft)
{
	struct flow *victim = NULL;
	/* closed TCP first: it is finished anyway; then the least recently active */
	uint32_t h = ft->lists[FLOW_LIST_TCP_CLOSED].head;
	if (h != NONE) {
		victim = flow_at(ft, h);
	} else {
		for (int i = 0; i < FLOW_LIST__COUNT; i++) {
			h = ft->lists[i].head;
			if (h == NONE)
				continue;
			struct flow *f = flow_at(ft, h);
			if (!victim || f->last_us < victim->last_us)
				victim = f;
		}
	}
	if (victim)
		flow_release(ft, victim, FLOW_END_EVICTED);
}

void flow_table_advance(struct flow_table *ft, uint64_t now_us)
{
	if (now_us <= ft->now_us)
		return;
	ft->now_us = now_us;
	if (now_us < ft->next_expiry_us)
		return;
	ft->next_expiry_us = UINT64_MAX;
	for (int i = 0; i < FLOW_LIST__COUNT; i++) {
		uint64_t to = ft->timeout_us[i];
		/* bounded by the number of live flows */
		while (ft->lists[i].head != NONE) {
			struct flow *f = flow_at(ft, ft->lists[i].head);
			if (now_us - f->last_us <= to)
				break;
			flow_release(ft, f, i == FLOW_LIST_TCP_CLOSED ? FLOW_END_CLOSED :
								   FLOW_END_IDLE);
		}
		if (ft->lists[i].head != NONE)
			head_changed(ft, flow_at(ft, ft->lists[i].head));
	}
}

static void decide_initiator(struct flow *f, const struct pkt_layer *l, int side)
{
	if (l->proto == 6 && (l->tcp_flags & (TCP_SYN | TCP_ACK)) == TCP_SYN) {
		f->init = (uint8_t)side;
		f->init_rule = FLOW_INIT_SYN;
	} else if (l->proto == 6 && (l->tcp_flags & (TCP_SYN | TCP_ACK)) == (TCP_SYN | TCP_ACK)) {
		f->init = (uint8_t)(side ^ 1);
		f->init_rule = FLOW_INIT_SYNACK;
	} else if (is_icmp(l)) {
		f->init = 0; /* the requester (see flow_key_from_layer) */
		f->init_rule = side ? FLOW_INIT_REPLY : FLOW_INIT_REQUEST;
	} else if ((l->proto == 6 || l->proto == 17) && (l->sport < 1024) != (l->dport < 1024)) {
		f->init = (uint8_t)(l->sport < 1024 ? side ^ 1 : side);
		f->init_rule = FLOW_INIT_PORT;
	} else {
		f->init = (uint8_t)side;
		f->init_rule = FLOW_INIT_FIRST;
	}
}

static struct flow *flow_new(struct flow_table *ft, const struct flow_key *k, uint32_t hash,
			     uint64_t ts_us)
{
	uint32_t i;
	if (ft->st.active >= ft->cfg.max_flows)
		evict_one(ft);
	if (ft->free_head != NONE) {
		i = ft->free_head;
		ft->free_head = flow_at(ft, i)->next;
	} else {
		i = ft->used++;
	}
	struct flow *f = flow_at(ft, i);
	memset(f, 0, sizeof(*f));
	f->key = *k;
	f->id = ++ft->next_id;
	f->first_us = f->last_us = ts_us;
	f->list = (uint8_t)list_for(k);
	lru_append(ft, f, i);
	uint32_t pos = hash & ft->mask;
	while (ft->slots[pos].idx != 0)
		pos = (pos + 1) & ft->mask;
	ft->slots[pos].tag = (uint32_t)(hash >> 0);
	ft->slots[pos].idx = i + 1;
	ft->st.created++;
	if (++ft->st.active > ft->st.peak_active)
		ft->st.peak_active = ft->st.active;
	return f;
}

void flow_account(struct flow *f, int side, uint64_t pkts, uint64_t ip_bytes,
		  uint64_t payload_bytes)
{
	f->pkts[side] += pkts;
	f->ip_bytes[side] += ip_bytes;
	f->payload_bytes[side] += payload_bytes;
}

_Static_assert(sizeof(struct flow_key) == 40, "flow_key: ten 32-bit words, no padding");

/* The keyed hash of a flow key (see the top of this file). An IPv4 key's address words
 * 1-3 and 5-7 are zero and add nothing, so they are skipped. */
static inline uint32_t key_hash(const struct flow_table *ft, const struct flow_key *k)
{
	const uint64_t *K = ft->mk;
	uint32_t w[10];
	memcpy(w, k, sizeof(w));
	uint64_t h = K[0] + K[1] * w[0] + K[5] * w[4] + K[9] * w[8] + K[10] * w[9];
	if (k->family != 4)
		h += K[2] * w[1] + K[3] * w[2] + K[4] * w[3] + K[6] * w[5] + K[7] * w[6] +
		     K[8] * w[7];
	return (uint32_t)(h >> 32);
}

uint32_t flow_table_hash(const struct flow_table *ft, const struct flow_key *k)
{
	return key_hash(ft, k);
}

struct flow *flow_table_update(struct flow_table *ft, const struct pkt_layer *l,
			       uint64_t ts_us, int *side_out, bool *created)
{
	struct flow_key k;
	int side = flow_key_from_layer(l, &k);
	uint32_t hash = key_hash(ft, &k);
	uint32_t tag = hash;
	uint32_t pos = hash & ft->mask;
	struct flow *f = NULL;

	*created = false;
	ft->st.lookups++;
	for (uint32_t n = 0; n <= ft->mask; n++, pos = (pos + 1) & ft->mask) {
		struct slot s = ft->slots[pos];
		ft->st.probes++;
		if (s.idx == 0)
			break;
		if (s.tag != tag)
			continue;
		struct flow *c = flow_at(ft, s.idx - 1);
		if (key_eq(&c->key, &k)) {
			f = c;
			break;
		}
	}
	/* a new SYN on a finished connection starts a new flow (port reuse) */
	if (f && (f->tcp_seen & (FLOW_TCP_FIN0 | FLOW_TCP_FIN1 | FLOW_TCP_RST)) &&
	    (l->tcp_flags & (TCP_SYN | TCP_ACK)) == TCP_SYN && l->proto == 6) {
		flow_release(ft, f, FLOW_END_CLOSED);
		f = NULL;
	}
	if (!f) {
		f = flow_new(ft, &k, hash, ts_us);
		decide_initiator(f, l, side);
		*created = true;
	} else if (ft->cfg.active_timeout_s &&
		   ts_us > f->first_us + (uint64_t)ft->cfg.active_timeout_s * 1000000u) {
		ft->on_end(ft->ctx, f, FLOW_END_ACTIVE);
		ft->st.ended[FLOW_END_ACTIVE]++;
		memset(f->pkts, 0, sizeof(f->pkts));
		memset(f->ip_bytes, 0, sizeof(f->ip_bytes));
		memset(f->payload_bytes, 0, sizeof(f->payload_bytes));
		f->first_us = ts_us;
	}

	f->pkts[side]++;
	f->ip_bytes[side] += l->ip_bytes;
	f->payload_bytes[side] += l->payload_bytes;
	if (ts_us > f->last_us)
		f->last_us = ts_us;
	if (ts_us < f->first_us)
		f->first_us = ts_us;

	uint8_t list = f->list;
	if (l->proto == 6) {
		uint8_t fl = l->tcp_flags;
		if (fl & TCP_SYN)
			f->tcp_seen |= (uint8_t)((side ? FLOW_TCP_SYN1 : FLOW_TCP_SYN0) |
						 ((fl & TCP_ACK) ? FLOW_TCP_SYNACK : 0));
		if (fl & TCP_FIN)
			f->tcp_seen |= side ? FLOW_TCP_FIN1 : FLOW_TCP_FIN0;
		if (fl & TCP_RST)
			f->tcp_seen |= FLOW_TCP_RST;
		if ((f->tcp_seen & FLOW_TCP_RST) ||
		    (f->tcp_seen & (FLOW_TCP_FIN0 | FLOW_TCP_FIN1)) == (FLOW_TCP_FIN0 | FLOW_TCP_FIN1))
			list = FLOW_LIST_TCP_CLOSED;
	}
	/* most packets follow one of their own flow: it is already the most recent */
	uint32_t i = flow_index(ft, f);
	if (list != f->list || ft->lists[list].tail != i) {
		lru_unlink(ft, f);
		f->list = list;
		lru_append(ft, f, i);
	}
	*side_out = side;
	return f;
}

static int cmp_id(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
	return (x > y) - (x < y);
}

/* Flush in creation order when the live ids are dense enough: a table indexed by id
 * (4 bytes per id in the range) instead of sorting (id, index) pairs. */
static bool flush_dense(struct flow_table *ft, size_t n)
{
	uint64_t lo = ft->next_id;
	for (int i = 0; i < FLOW_LIST__COUNT; i++)
		for (uint32_t j = ft->lists[i].head; j != NONE; j = flow_at(ft, j)->next)
			if (flow_at(ft, j)->id < lo)
				lo = flow_at(ft, j)->id;
	uint64_t range = ft->next_id - lo + 1;
	if (range > (uint64_t)n * 4)
		return false;
	uint32_t *at = malloc(range * sizeof(*at));
	if (!at)
		return false;
	memset(at, 0xff, range * sizeof(*at)); /* NONE */
	for (int i = 0; i < FLOW_LIST__COUNT; i++)
		for (uint32_t j = ft->lists[i].head; j != NONE; j = flow_at(ft, j)->next)
			at[flow_at(ft, j)->id - lo] = j;
	for (uint64_t k = 0; k < range; k++)
		if (at[k] != NONE)
			flow_release(ft, flow_at(ft, at[k]), FLOW_END_EOF);
	free(at);
	return true;
}

void flow_table_flush(struct flow_table *ft)
{
	size_t n = ft->st.active, k = 0;
	if (n == 0 || flush_dense(ft, n))
		return;
	/* (id, index) pairs sorted by id: records come out in creation order */
	uint64_t *v = malloc(n * sizeof(*v) * 2);
	if (!v) {
		for (int i = 0; i < FLOW_LIST__COUNT; i++)
			while (ft->lists[i].head != NONE)
				flow_release(ft, flow_at(ft, ft->lists[i].head), FLOW_END_EOF);
		return;
	}
	for (int i = 0; i < FLOW_LIST__COUNT; i++)
		for (uint32_t j = ft->lists[i].head; j != NONE && k < n; j = flow_at(ft, j)->next) {
			v[2 * k] = flow_at(ft, j)->id;
			v[2 * k + 1] = j;
			k++;
		}
	qsort(v, k, 2 * sizeof(*v), cmp_id);
	for (size_t i = 0; i < k; i++)
		flow_release(ft, flow_at(ft, (uint32_t)v[2 * i + 1]), FLOW_END_EOF);
	free(v);
}
