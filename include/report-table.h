/* report-table.h: the report's internals, shared by its aggregation (report.c) and its
 * writers (report.c's summary, report-html.c). Not for other modules.
 *
 * A bounded keyed table: dense entries (each starts with its key, then a uint64 weight,
 * the egress bytes or alert count the table ranks by) with an open-addressing index.
 * It grows by doubling up to a bound; when full, the lightest of a few sampled entries
 * makes room (the caller is shown it first, to fold its counts away).
 */
#ifndef EGRESSD_REPORT_TABLE_H
#define EGRESSD_REPORT_TABLE_H

#include <stdbool.h>
#include <stdint.h>

#include "alert.h"
#include "report.h"
#include "siphash.h"

struct rtab {
	unsigned char *e; /* entries, esz bytes each */
	size_t esz, klen, woff;
	uint32_t n, cap, max;
	uint64_t *idx; /* hash << 32 | entry index + 1; 0 empty */
	uint32_t mask;
	struct khash_key hk;
	uint64_t rng;
	uint64_t evicted;
};

/* An address: the key of the source and destination tables. */
struct rkey {
	uint8_t family;
	uint8_t addr[16];
};

struct rsrc {
	struct rkey k;
	uint64_t bytes_out; /* weight */
	uint64_t bytes_in, flows, new_flows;
	uint32_t alerts;
	int32_t tracked; /* its timeline line, or -1 */
};

struct rdst {
	struct rkey k;
	uint64_t bytes_out; /* weight */
	uint64_t bytes_in, flows;
	uint64_t src_bits[4]; /* sources, hashed: linear counting */
	uint8_t first_src[16];
	uint16_t port;
	uint8_t proto;
	bool is_new;
	uint32_t alerts;
	char name[REPORT_NAME_MAX + 1];
};

struct rgroup_key {
	char rule_id[65];
	uint8_t family;
	uint8_t src[16];
};

struct rgroup {
	struct rgroup_key k;
	uint64_t count; /* weight */
	uint64_t bytes_out;
	uint64_t first_us, last_us;
	char rule_name[201];
	uint8_t tech;
	uint8_t severity; /* highest */
	uint32_t shown;	  /* alerts of the group with their evidence kept */
};

struct ralert {
	uint64_t ts_us;
	uint8_t tech;
	uint8_t severity;
	uint32_t detail; /* index + 1 into details; 0 none */
};

#define REPORT_MAX_TECH 16
#define REPORT_MAX_GROUPS 4096u

struct rseries {
	uint64_t bin[REPORT_BINS];
};

struct report {
	const struct netset *home;
	struct rtab src, dst, groups;
	/* totals */
	uint64_t flows, egress_flows, egress_bytes, ingress_bytes;
	uint64_t internal_flows, external_flows;
	uint64_t first_us, last_us;
	uint64_t src_bytes_dropped, dst_bytes_dropped; /* in evicted entries */
	uint64_t new_dsts; /* destinations found new */
	/* timeline (only for the HTML page) */
	bool timeline;
	int min_slot; /* the tracked source that sent least, or -1: to be found */
	bool t_init;
	uint64_t t0_us, w_us;
	uint32_t bins_used; /* highest bin with anything + 1 */
	int ntracked;
	struct rseries *tracked[REPORT_TRACKED];
	uint32_t tracked_src[REPORT_TRACKED]; /* source entry index */
	struct rseries other;
	/* alerts */
	uint64_t alerts, updates, updates_unmatched, alerts_not_kept, group_overflow;
	uint64_t by_sev[4];
	char tech[REPORT_MAX_TECH][10];
	uint64_t tech_alerts[REPORT_MAX_TECH], tech_bytes[REPORT_MAX_TECH];
	int ntech;
	struct ralert *al;
	uint32_t nal, alcap;
	struct alert **details;
	uint32_t *detail_updates;
	uint32_t *detail_group;
	uint32_t ndetails;
};

/* The k heaviest entries that keep() accepts (NULL: all), heaviest first (ties by key):
 * an array of entry indices, *n of them (malloc'd; NULL when none or out of memory). */
uint32_t *rtab_top(const struct rtab *t, uint32_t k, bool (*keep)(const void *entry),
		   uint32_t *n);
static inline void *rtab_at(const struct rtab *t, uint32_t i)
{
	return t->e + (size_t)i * t->esz;
}

/* Text of an address (inet_ntop's form). */
void report_addr_text(int family, const uint8_t *addr, char *out, size_t outsz);

/* A count with thousands separators: "1,234,567". */
void report_count_text(uint64_t v, char *out, size_t n);

/* Estimated distinct sources of a destination. */
uint64_t report_dst_sources(const struct rdst *d);

#endif
