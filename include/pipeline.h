/* pipeline.h: the runtime context that carries a frame through every stage:
 * decode -> fragments -> flow table -> l7, and finished flows to the flow-record output.
 * One context, passed explicitly (no globals); main.c owns it.
 */
#ifndef EGRESSD_PIPELINE_H
#define EGRESSD_PIPELINE_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "anomaly.h"
#include "config.h"
#include "decode.h"
#include "detect.h"
#include "enrich.h"
#include "flow-frag.h"
#include "flow.h"
#include "health.h"
#include "l7-dns-cache.h"
#include "l7-flow.h"
#include "names.h"
#include "output.h"
#include "report.h"

#ifndef EGRESSD_VERSION
#define EGRESSD_VERSION "0.1.0"
#endif
#define EGRESSD_VERSION_STR EGRESSD_VERSION

struct pipeline {
	struct config cfg;
	struct anomaly_counts anom;
	struct decoder dec;
	struct frag_table *frags;
	struct flow_table *flows;
	struct names *names;
	struct dns_cache *dns;
	struct l7 *l7;
	struct enrich *enrich;
	struct ruleset_list rules;
	struct detect *detect;
	uint64_t next_tick_us;
	bool baseline_warning; /* err of pipeline_init holds a warning about the baseline */
	struct output *out; /* borrowed */
	struct report *report; /* NULL: no summary or report wanted (pipeline_want_report) */
	bool emit_flows;
	uint64_t now_us;
	uint64_t packets, non_ip, undecoded, layers, flow_records;
	uint64_t link_unsupported_warned;
	uint64_t health_events;
};

/* Build every stage from cfg. Returns false with the problems in err (configuration
 * problems name the file, line and column). */
bool pipeline_init(struct pipeline *p, const struct config *cfg, bool emit_flows,
		   bool learn_only, struct output *out, char *err, size_t errlen);

/* Load the rules named by cfg (or the default packs) into l; the problems go to err. */
int pipeline_load_rules(const struct config *cfg, struct ruleset_list *l, char *err,
			size_t errlen);

/* capture_fn: one frame. ctx is the struct pipeline. */
void pipeline_packet(void *ctx, int linktype, uint64_t ts_us, const uint8_t *data,
		     uint32_t caplen, uint32_t wirelen);

/* End of input: every open flow ends (and is written, with --flows); the baseline is
 * saved. Returns false with a message in err if saving failed. */
bool pipeline_finish(struct pipeline *p, char *err, size_t errlen);

/* Time passed without packets (live capture): flows expire, windows and the baseline
 * advance to now_us (ignored if not after the last packet). */
void pipeline_tick(struct pipeline *p, uint64_t now_us);

/* SIGHUP: load rules, lists, allowlists, tenants, GeoIP and home_net from cfg and put them
 * in force, keeping flows, windows and the baseline. false (the old set stays) with the
 * problems in err. Table sizes and outputs keep their values until a restart. */
bool pipeline_reload(struct pipeline *p, const struct config *cfg, char *err, size_t errlen);

/* Keep the picture for the summary and --report (timeline: with the timeline the HTML
 * page draws) from now on. false when out of memory. */
bool pipeline_want_report(struct pipeline *p, bool timeline);

/* Write a health event (its id is filled in) to the outputs. */
void pipeline_health(struct pipeline *p, struct health_event *h);

/* Counters as "name value" lines. */
void pipeline_print_stats(const struct pipeline *p, FILE *f);

void pipeline_destroy(struct pipeline *p);

/* Write the flow record of f (output-flow.c). */
void output_flow_record(struct pipeline *p, struct flow *f, enum flow_end why);

#endif
