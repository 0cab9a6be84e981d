/* flow-frag.h: ties IP fragments without a transport header to the flow of their first
 * fragment, so the bytes of every fragment count toward the right flow. Fragments that
 * arrive before their first fragment wait here (as counts, not bytes) until it comes.
 *
 * Fixed capacity; entries live `timeout_s` of packet time. Full table and fragments
 * whose first fragment never came are counted anomalies. No reassembly is done.
 */
#ifndef EGRESSD_FLOW_FRAG_H
#define EGRESSD_FLOW_FRAG_H

#include <stdbool.h>
#include <stdint.h>

#include "anomaly.h"
#include "decode.h"

struct frag_table;

struct frag_pending {
	uint64_t pkts, ip_bytes, payload_bytes;
};

struct frag_table *frag_table_create(uint32_t capacity, uint32_t timeout_s,
				     struct anomaly_counts *anom);
void frag_table_destroy(struct frag_table *t);

/* A first fragment: remember its ports. Returns the later fragments that were waiting
 * for it (zero counts if none). */
struct frag_pending frag_first(struct frag_table *t, const struct pkt_layer *l, uint64_t now_us);

/* A later fragment: fills l->sport/dport (and ICMP type/code) from its first fragment
 * and returns true; or keeps it waiting and returns false. */
bool frag_later(struct frag_table *t, struct pkt_layer *l, uint64_t now_us);

#endif
