/* detect.h: the detection engine: YAML rules evaluated as flow counters change (not only
 * when flows end), over sliding windows of egress volume, against the seen-destination
 * baseline, and over DNS and ICMP tunnel measures. Fires alerts through a callback.
 *
 * Egress is what the internal host (home_net) sends to an external one, whoever opened
 * the flow. A flow is evaluated when its egress grew by `checkpoint_bytes` since the last
 * evaluation, and when it ends; windows and the baseline run on packet time.
 * The engine keeps per-flow state in the flow's extension area after struct l7_flow
 * (DETECT_FLOW_EXT_SIZE bytes), taken at a flow's first evaluation or checkpoint, and
 * the flow's direction in its stage byte.
 */
#ifndef EGRESSD_DETECT_H
#define EGRESSD_DETECT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "alert.h"
#include "detect-rules.h"
#include "enrich.h"
#include "flow.h"
#include "l7-flow.h"
#include "names.h"
#include "netset.h"

struct detect_config {
	uint64_t learning_period_us; /* new-destination conditions stay silent this long */
	uint64_t new_for_us;	     /* "new" for this long after first sight */
	uint64_t baseline_expire_us; /* forget destinations not seen for this long (0: never) */
	uint32_t baseline_max;
	const char *baseline_path;   /* NULL or "": not persisted */
	uint32_t windows_max;
	uint32_t tunnels_max;
	uint32_t checkpoint_bytes;
	uint32_t save_interval_s;    /* packet time between baseline saves */
	bool learn_only;	     /* fill the baseline, never alert */
	uint32_t rule_alerts_per_minute;   /* alerts a rule may raise per minute (0: any) */
	uint32_t source_alerts_per_minute; /* alerts about one internal host (0: any) */
	struct flow_table *flows; /* the table whose flows' extensions hold the state */
};

struct detect_stats {
	uint64_t evaluations, alerts, suppressed, allowlisted_flows, learning_silenced;
	uint64_t rate_limited; /* alerts held back by the per-rule or per-source rate */
	uint64_t baseline_saves, baseline_save_errors;
	/* filled by detect_stats() from the tables */
	uint64_t window_entries, window_evictions, tunnel_evictions;
	uint64_t baseline_entries, baseline_evictions;
};

/* Per-flow state, in the flow's extension area after struct l7_flow: 64 bytes. */
struct detect_flow {
	uint64_t given_out, given_in, given_pkts; /* already added to windows */
	uint64_t first_seen[3]; /* per grain (destination, registered domain, tenant): host */
	uint32_t asn;
	uint32_t regdom;     /* interned names, released at flow end */
	uint32_t tenant_name;
	char country[2];     /* ISO 3166-1 alpha-2, zeros if unknown */
	uint8_t category : 4; /* enum enrich_category */
	uint8_t tenant : 2;  /* 0 none, 1 own, 2 foreign */
	uint8_t enriched : 1;
	uint8_t counted : 1; /* counted as a flow in the windows */
	uint8_t newbits : 6; /* DETECT_NEW_*: new for this host / the site, per grain */
	uint8_t allowlisted : 1;
};

#define DETECT_FLOW_EXT_SIZE (sizeof(struct l7_flow) + sizeof(struct detect_flow))

typedef void (*detect_alert_fn)(void *ctx, const struct alert *a);

struct detect;

/* rules is borrowed and must outlive the engine. The baseline is loaded from
 * cfg->baseline_path (a corrupt file is set aside and reported in err as a warning:
 * the engine is still created). NULL with a message in err on failure. */
struct detect *detect_create(const struct detect_config *cfg, const struct ruleset_list *rules,
			     const struct enrich *enrich, const struct netset *home,
			     struct names *names, detect_alert_fn fn, void *ctx, uint64_t now_us,
			     char *err, size_t errlen);

/* Evaluate flow f if its egress passed the next checkpoint (or always when ended). */
void detect_flow(struct detect *d, struct flow *f, uint64_t now_us, bool ended);

/* Whether detection found the flow's external address new for the site (not in the
 * baseline, or first seen less than new_for ago) when it first evaluated the flow;
 * false for a flow it never evaluated. */
bool detect_flow_new_destination(const struct detect *d, const struct flow *f);

/* The canonical side (0/1) of its internal host when it is egress (one side in home_net),
 * -1 when it is not, -2 when detection has not looked at it. */
int detect_flow_egress_side(const struct flow *f);

/* The flow reached its active timeout: evaluate it, then its counters start again. */
void detect_flow_restart(struct detect *d, struct flow *f, uint64_t now_us);

/* A DNS query name sent by src (any resolver, internal ones included). */
void detect_dns_query(struct detect *d, int family, const uint8_t src[16], const char *qname,
		      size_t qlen, uint16_t qtype, uint64_t now_us);

/* An ICMP/ICMPv6 echo request from src to dst. */
void detect_icmp_echo(struct detect *d, int family, const uint8_t src[16],
		      const uint8_t dst[16], const uint8_t *payload, size_t caplen,
		      uint32_t payload_len, uint64_t now_us);

/* Packet time passed: baseline expiry and periodic saves. */
void detect_tick(struct detect *d, uint64_t now_us);

/* End of input: the updates of alerts still in their suppression period go out. */
void detect_finish(struct detect *d);

/* Save the baseline (at exit). 0, or -1 with a message. */
int detect_save(struct detect *d, char *err, size_t errlen);

/* A reload: new rules, enrichment and home networks (all borrowed, as at create). The
 * windows, the baseline, pending alerts and per-flow state stay. */
void detect_set_rules(struct detect *d, const struct ruleset_list *rules,
		      const struct enrich *enrich, const struct netset *home);

void detect_destroy(struct detect *d);
const struct detect_stats *detect_stats(const struct detect *d);

/* Longest text of detect_ip_text, its terminating NUL included (as INET6_ADDRSTRLEN). */
#define DETECT_IP_TEXT_MAX 46

/* An address as text, exactly as inet_ntop writes it: family 4 dotted decimal from
 * addr[0..3], anything else IPv6 from addr[0..15] (RFC 5952 as glibc applies it: the
 * first longest run of two or more zero fields compressed, lower-case hex, IPv4-mapped
 * and IPv4-compatible addresses with a dotted tail). out holds DETECT_IP_TEXT_MAX bytes;
 * returns the length. */
size_t detect_ip_text(int family, const uint8_t *addr, char *out);

#endif
