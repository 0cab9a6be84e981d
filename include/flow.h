/* flow.h: the bidirectional flow table: per-direction packets, IP bytes and payload
 * bytes for every conversation, keyed by (addresses, ports, protocol, VLAN), with idle
 * and active timeouts on packet time and counted eviction when full.
 *
 * Ownership: flows live in the table's pool; a struct flow pointer is valid until the
 * next call that can end flows (flow_table_update, flow_table_advance,
 * flow_table_flush). A flow may have an extension of `ext_size` bytes for the stages to
 * its right (L7 and detection state), taken from a pool of its own the first time a
 * stage writes to it (flow_ext_take): until then the flow reads as all zeros
 * (flow_ext), so flows that never need one (SYN-only scans and floods, probes) cost
 * only their struct flow. The end callback is the stages' chance to release what
 * they hold; the extension goes back to the pool after it. No allocation happens
 * after flow_table_create.
 */
#ifndef EGRESSD_FLOW_H
#define EGRESSD_FLOW_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "decode.h"

enum flow_list {
	FLOW_LIST_TCP,
	FLOW_LIST_TCP_CLOSED, /* FIN both ways or RST: short linger for stragglers */
	FLOW_LIST_UDP,
	FLOW_LIST_ICMP,
	FLOW_LIST_OTHER,
	FLOW_LIST__COUNT
};

enum flow_end {
	FLOW_END_IDLE,	  /* idle timeout */
	FLOW_END_CLOSED,  /* TCP closed (FIN/RST) and the linger passed, or a new SYN */
	FLOW_END_ACTIVE,  /* active timeout: a record is emitted and the flow goes on */
	FLOW_END_EVICTED, /* table full: the least recently active flow made room */
	FLOW_END_EOF,	  /* end of input */
};

/* How the initiator (Zeek's "orig") was decided. */
enum flow_init_rule {
	FLOW_INIT_SYN,	  /* sender of a SYN without ACK */
	FLOW_INIT_SYNACK, /* receiver of a SYN+ACK (the SYN was not captured) */
	FLOW_INIT_REQUEST, /* ICMP: sender of the request type */
	FLOW_INIT_REPLY,   /* ICMP: receiver of a reply whose request was not captured */
	FLOW_INIT_PORT,	  /* only the other side used a port below 1024 */
	FLOW_INIT_FIRST,  /* sender of the first packet seen */
};

#define FLOW_TCP_SYN0 0x01 /* bits per canonical side */
#define FLOW_TCP_SYN1 0x02
#define FLOW_TCP_FIN0 0x04
#define FLOW_TCP_FIN1 0x08
#define FLOW_TCP_RST 0x10
#define FLOW_TCP_SYNACK 0x20

struct flow_key {
	uint8_t addr[2][16]; /* side 0 is the lower (address, port) */
	uint16_t port[2];    /* ICMP: port[0] request type, port[1] code; addr[0] requester */
	uint16_t vlan;
	uint8_t proto;
	uint8_t family;
};

/* 128 bytes (two cache lines): all that a flow without an extension costs, with its
 * index slot. */
struct flow {
	struct flow_key key;
	uint32_t prev, next;	/* recency list of its timeout class */
	uint32_t ext;		/* extension entry, 0: none taken (see flow_ext) */
	uint8_t list;		/* enum flow_list */
	uint8_t init : 1;	/* canonical side (0/1) of the initiator */
	uint8_t init_rule : 7;	/* enum flow_init_rule */
	uint8_t tcp_seen;	/* FLOW_TCP_* */
	uint8_t stage;		/* for the stages to the right, zeroed at creation */
	uint64_t id;		/* creation number in this run, from 1 */
	uint64_t first_us, last_us;
	uint64_t pkts[2], ip_bytes[2], payload_bytes[2]; /* by canonical side */
};

/* Where the flows' extensions are. Entry 0 is the shared zero state of the flows that
 * have none: it is mapped read-only, so a stage that writes without flow_ext_take
 * faults at once instead of changing what every other flow reads. */
struct flow_ext_pool {
	unsigned char *base; /* entry n at base + n * stride */
	size_t stride;
	struct flow_table *ft;
};

struct flow_table_config {
	uint32_t max_flows;
	uint32_t timeout_s[FLOW_LIST__COUNT];
	uint32_t active_timeout_s; /* 0: none */
	size_t ext_size;
	uint64_t hash_seed; /* 0 (always, outside tests): a random hash key per run */
};

struct flow_table_stats {
	uint64_t created;
	uint64_t ended[FLOW_END_EOF + 1];
	uint64_t active;
	uint64_t peak_active;
	uint64_t lookups; /* packets looked up */
	uint64_t probes;  /* slots examined by those lookups */
};

/* Called for every flow that ends (and for FLOW_END_ACTIVE, which keeps the flow). */
typedef void (*flow_end_fn)(void *ctx, struct flow *f, enum flow_end why);

struct flow_table;

void flow_table_config_default(struct flow_table_config *cfg);

/* Returns NULL and writes a message to err if memory cannot be reserved. */
struct flow_table *flow_table_create(const struct flow_table_config *cfg, flow_end_fn on_end,
				     void *ctx, char *err, size_t errlen);
void flow_table_destroy(struct flow_table *ft);

/* Advance packet time to now_us: ends flows idle longer than their timeout. */
void flow_table_advance(struct flow_table *ft, uint64_t now_us);

/* Account one packet layer (ports already known) at time ts_us, with `extra_pkts`
 * earlier fragments of ip/payload bytes to add on the same side. Creates the flow if
 * needed (evicting when full). *side is the canonical side of the packet's sender;
 * *created tells whether the flow is new. Never fails. */
struct flow *flow_table_update(struct flow_table *ft, const struct pkt_layer *l,
			       uint64_t ts_us, int *side, bool *created);

/* Add packets that could not be matched when they arrived (earlier fragments). */
void flow_account(struct flow *f, int side, uint64_t pkts, uint64_t ip_bytes,
		  uint64_t payload_bytes);

/* End every flow (end of input), in creation order. */
void flow_table_flush(struct flow_table *ft);

const struct flow_table_stats *flow_table_stats(const struct flow_table *ft);

/* The table's keyed hash of a key (its slot is hash & (slots - 1)): for tests. */
uint32_t flow_table_hash(const struct flow_table *ft, const struct flow_key *k);

/* Map a layer to its flow key; returns the canonical side of the sender. */
int flow_key_from_layer(const struct pkt_layer *l, struct flow_key *k);

/* The extension pool of a table (valid until flow_table_destroy). */
const struct flow_ext_pool *flow_table_ext_pool(const struct flow_table *ft);

/* A flow's extension, for reading: all zeros when none was taken. */
static inline const void *flow_ext(const struct flow_ext_pool *p, const struct flow *f)
{
	return p->base + (size_t)f->ext * p->stride;
}

/* flow_ext_take's slow path: a flow's first extension. */
void *flow_ext_new(struct flow_table *ft, struct flow *f);

/* A flow's extension, for writing: taken (zeroed) now if it has none. Never fails: the
 * pool has an entry for every flow the table can hold. */
static inline void *flow_ext_take(const struct flow_ext_pool *p, struct flow *f)
{
	if (!f->ext)
		return flow_ext_new(p->ft, f);
	return p->base + (size_t)f->ext * p->stride;
}

/* Side (0/1) of the responder. */
static inline int flow_resp(const struct flow *f)
{
	return f->init ^ 1;
}

#endif
