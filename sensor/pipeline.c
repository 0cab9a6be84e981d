/* pipeline.c: glue between the stages, per frame (see pipeline.h). */
#include <string.h>

#include "pipeline.h"

static void on_flow_end(void *ctx, struct flow *f, enum flow_end why)
{
	struct pipeline *p = ctx;
	if (p->emit_flows)
		output_flow_record(p, f, why);
	if (why != FLOW_END_ACTIVE)
		l7_flow_end(p->l7, f);
}

bool pipeline_init(struct pipeline *p, const struct config *cfg, bool emit_flows,
		   struct output *out, char *err, size_t errlen)
{
	struct flow_table_config fc;

	memset(p, 0, sizeof(*p));
	p->cfg = *cfg;
	err[0] = '\0';
	p->enrich = enrich_create(cfg, err, errlen);
	if (!p->enrich)
		return false;
	p->out = out;
	p->emit_flows = emit_flows;
	decoder_init(&p->dec, &p->anom);

	flow_table_config_default(&fc);
	fc.max_flows = cfg->max_flows;
	fc.timeout_s[FLOW_LIST_TCP] = cfg->tcp_timeout_s;
	fc.timeout_s[FLOW_LIST_TCP_CLOSED] = cfg->tcp_closed_timeout_s;
	fc.timeout_s[FLOW_LIST_UDP] = cfg->udp_timeout_s;
	fc.timeout_s[FLOW_LIST_ICMP] = cfg->icmp_timeout_s;
	fc.timeout_s[FLOW_LIST_OTHER] = cfg->other_timeout_s;
	fc.active_timeout_s = cfg->active_timeout_s;
	fc.ext_size = sizeof(struct l7_flow);
	p->flows = flow_table_create(&fc, on_flow_end, p, err, errlen);
	if (!p->flows)
		goto fail;
	p->frags = frag_table_create(cfg->fragments, cfg->fragment_timeout_s, &p->anom);
	p->names = names_create(cfg->names);
	if (!p->frags || !p->names)
		goto oom;
	p->dns = dns_cache_create(cfg->dns_cache, cfg->dns_min_ttl_s, cfg->dns_max_ttl_s,
				  p->names);
	if (!p->dns)
		goto oom;
	struct l7_config lc = { cfg->reassembly_buffers, cfg->reassembly_buffer_size };
	p->l7 = l7_create(&lc, p->names, p->dns, &p->anom);
	if (!p->l7)
		goto oom;
	return true;
oom:
	snprintf(err, errlen, "out of memory while setting up the tables (lower flows.max_flows, "
			      "l7.names or l7.dns_cache)");
fail:
	pipeline_destroy(p);
	return false;
}

void pipeline_packet(void *ctx, int linktype, uint64_t ts_us, const uint8_t *data,
		     uint32_t caplen, uint32_t wirelen)
{
	struct pipeline *p = ctx;
	struct pkt pkt;

	p->packets++;
	/* packet time only moves forward: a timestamp from the past is counted, and the
	 * packet is accounted at the current packet time */
	if (ts_us < p->now_us) {
		anomaly_count(&p->anom, ANOM_TIME_WENT_BACK);
		ts_us = p->now_us;
	}
	p->now_us = ts_us;
	flow_table_advance(p->flows, ts_us);

	int n = decode_packet(&p->dec, linktype, data, caplen, wirelen, &pkt);
	if (n == 0) {
		if (pkt.non_ip)
			p->non_ip++;
		else
			p->undecoded++;
		return;
	}
	for (int i = 0; i < n; i++) {
		struct pkt_layer *l = &pkt.layer[i];
		struct frag_pending pend = { 0, 0, 0 };
		int side;
		bool created;

		p->layers++;
		if (l->frag == PKT_FRAG_LATER) {
			if (!frag_later(p->frags, l, ts_us))
				continue; /* waits for its first fragment */
		} else if (l->frag == PKT_FRAG_FIRST) {
			pend = frag_first(p->frags, l, ts_us);
		}
		struct flow *f = flow_table_update(p->flows, l, ts_us, &side, &created);
		if (pend.pkts)
			flow_account(f, side, pend.pkts, pend.ip_bytes, pend.payload_bytes);
		if (l->frag != PKT_FRAG_LATER)
			l7_packet(p->l7, f, l, side, created, ts_us);
	}
}

void pipeline_finish(struct pipeline *p)
{
	flow_table_flush(p->flows);
}

static void stat_line(FILE *f, const char *name, uint64_t v)
{
	fprintf(f, "%-44s %llu\n", name, (unsigned long long)v);
}

void pipeline_print_stats(const struct pipeline *p, FILE *f)
{
	const struct flow_table_stats *fs = flow_table_stats(p->flows);
	const struct l7_stats *ls = l7_stats(p->l7);
	const struct dns_cache_stats *ds = dns_cache_stats(p->dns);
	static const char *const end_names[] = { "flows.ended.idle", "flows.ended.tcp_closed",
						 "flows.active_timeout_records",
						 "flows.evicted", "flows.ended.end_of_input" };

	stat_line(f, "packets.decoded_layers", p->layers);
	stat_line(f, "packets.non_ip", p->non_ip);
	stat_line(f, "packets.undecoded", p->undecoded);
	stat_line(f, "flows.created", fs->created);
	for (int i = 0; i <= FLOW_END_EOF; i++)
		stat_line(f, end_names[i], fs->ended[i]);
	stat_line(f, "flows.peak_active", fs->peak_active);
	stat_line(f, "flows.records_written", p->flow_records);
	for (int a = 1; a < L7_APP__COUNT; a++) {
		char name[64];
		snprintf(name, sizeof(name), "l7.flows.%s", l7_app_name((enum l7_app)a));
		stat_line(f, name, ls->flows_by_app[a]);
	}
	stat_line(f, "l7.reassembly_buffers_peak", ls->buffers_peak);
	stat_line(f, "l7.ftp_data_linked", ls->ftp_data_linked);
	stat_line(f, "dns_cache.inserted", ds->inserted);
	stat_line(f, "dns_cache.evicted", ds->evicted);
	stat_line(f, "dns_cache.hits", ds->hits);
	stat_line(f, "names.live", names_count(p->names));
	uint64_t total = 0;
	for (int a = 0; a < ANOM__COUNT; a++)
		total += p->anom.n[a];
	stat_line(f, "anomalies.total", total);
	for (int a = 0; a < ANOM__COUNT; a++) {
		if (!p->anom.n[a])
			continue;
		char name[80];
		snprintf(name, sizeof(name), "anomaly.%s", anomaly_name((enum anomaly)a));
		stat_line(f, name, p->anom.n[a]);
	}
}

void pipeline_destroy(struct pipeline *p)
{
	if (p->flows) {
		/* flows still open hold names: end them quietly */
		bool emit = p->emit_flows;
		p->emit_flows = false;
		if (p->l7)
			flow_table_flush(p->flows);
		p->emit_flows = emit;
	}
	flow_table_destroy(p->flows);
	l7_destroy(p->l7);
	dns_cache_destroy(p->dns);
	names_destroy(p->names);
	frag_table_destroy(p->frags);
	enrich_destroy(p->enrich);
	p->enrich = NULL;
	p->flows = NULL;
	p->l7 = NULL;
	p->dns = NULL;
	p->names = NULL;
	p->frags = NULL;
}
