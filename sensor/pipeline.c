/* pipeline.c: glue between the stages, per frame (see pipeline.h). */
#include <glob.h>
#include <string.h>

#include "pipeline.h"

/* The flow record as the report takes it (initiator first). */
static void report_flow_end(struct pipeline *p, struct flow *f, enum flow_end why)
{
	const struct flow_key *k = &f->key;
	int o = f->init, r = o ^ 1;
	bool icmp = k->proto == 1 || k->proto == 58;
	size_t nlen = 0;
	const char *name = names_get(p->names, l7_destination_name(flow_ext(flow_table_ext_pool(p->flows), f)), &nlen);
	int side = detect_flow_egress_side(f); /* canonical side of the internal host */
	struct report_flow rf = {
		.first_us = f->first_us,
		.last_us = f->last_us,
		.family = k->family,
		.addr = { k->addr[o], k->addr[r] },
		.port = { icmp ? 0 : k->port[o], icmp ? 0 : k->port[r] },
		.proto = k->proto,
		.bytes = { f->ip_bytes[o], f->ip_bytes[r] },
		.name = name,
		.name_len = name ? nlen : 0,
		.new_destination = detect_flow_new_destination(p->detect, f),
		.internal = -2,
		.record_only = why == FLOW_END_ACTIVE,
	};
	if (side != -2)
		rf.internal = side < 0 ? -1 : side == o ? 0 : 1;
	report_flow(p->report, &rf);
}

static void on_flow_end(void *ctx, struct flow *f, enum flow_end why)
{
	struct pipeline *p = ctx;
	if (why == FLOW_END_ACTIVE)
		detect_flow_restart(p->detect, f, p->now_us);
	else
		detect_flow(p->detect, f, p->now_us, true);
	if (p->report)
		report_flow_end(p, f, why);
	if (p->emit_flows)
		output_flow_record(p, f, why);
	if (why != FLOW_END_ACTIVE)
		l7_flow_end(p->l7, f);
}

static void on_alert(void *ctx, const struct alert *a)
{
	struct pipeline *p = ctx;
	static char buf[ALERT_JSON_MAX];
	size_t n = alert_json(a, p->cfg.sensor_name, EGRESSD_VERSION_STR, buf, sizeof(buf));
	if (p->report)
		report_alert(p->report, a);
	output_alert(p->out, buf, n, a->rule_id, a->severity, a->id);
}

static void on_dns_query(void *ctx, int family, const uint8_t src[16], const char *qname,
			 size_t qlen, uint16_t qtype, uint64_t now_us)
{
	struct pipeline *p = ctx;
	detect_dns_query(p->detect, family, src, qname, qlen, qtype, now_us);
}

int pipeline_load_rules(const struct config *cfg, struct ruleset_list *l, char *err,
			size_t errlen)
{
	int problems = 0;
	memset(l, 0, sizeof(*l));
	if (cfg->rules.n == 0) {
		char pat[300];
		snprintf(pat, sizeof(pat), "%s/../*.yaml", cfg->lists.text);
		size_t used = strlen(err);
		return rules_load_glob(l, pat, err + used, errlen - used);
	}
	for (int i = 0; i < cfg->rules.n; i++) {
		size_t used = strlen(err);
		int n = rules_load_glob(l, cfg->rules.v[i].text, err + used, errlen - used);
		if (n && cfg->path[0] && strstr(err + used, cfg->rules.v[i].text) == err + used) {
			/* a pattern matching nothing: say where it was written */
			char tmp[700];
			snprintf(tmp, sizeof(tmp), "%s:%u:%u: rules: ", cfg->path, cfg->rules.v[i].line,
				 cfg->rules.v[i].col);
			size_t tl = strlen(tmp), rest = strlen(err + used);
			if (used + tl + rest + 1 < errlen) {
				memmove(err + used + tl, err + used, rest + 1);
				memcpy(err + used, tmp, tl);
			}
		}
		problems += n;
	}
	return problems;
}

bool pipeline_init(struct pipeline *p, const struct config *cfg, bool emit_flows,
		   bool learn_only, struct output *out, char *err, size_t errlen)
{
	struct flow_table_config fc;

	memset(p, 0, sizeof(*p));
	p->cfg = *cfg;
	err[0] = '\0';
	p->enrich = enrich_create(cfg, err, errlen);
	if (!p->enrich)
		return false;
	if (pipeline_load_rules(cfg, &p->rules, err, errlen) > 0) {
		pipeline_destroy(p);
		return false;
	}
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
	fc.ext_size = DETECT_FLOW_EXT_SIZE;
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
	struct detect_config dc = {
		.learning_period_us = (uint64_t)cfg->learning_period_s * 1000000u,
		.new_for_us = (uint64_t)cfg->baseline_new_for_s * 1000000u,
		.baseline_expire_us = (uint64_t)cfg->baseline_expire_s * 1000000u,
		.baseline_max = cfg->baseline_max,
		.baseline_path = cfg->baseline_path.text,
		.windows_max = cfg->windows_max,
		.tunnels_max = cfg->tunnels_max,
		.checkpoint_bytes = cfg->checkpoint_bytes,
		.save_interval_s = cfg->baseline_save_s,
		.learn_only = learn_only,
		.rule_alerts_per_minute = cfg->rule_alerts_per_minute,
		.source_alerts_per_minute = cfg->source_alerts_per_minute,
		.flows = p->flows,
	};
	p->detect = detect_create(&dc, &p->rules, p->enrich, &p->cfg.home_net, p->names, on_alert,
				  p, 0, err, errlen);
	if (!p->detect)
		goto fail;
	if (err[0]) /* a corrupt baseline was set aside: say so, and go on */
		p->baseline_warning = true;
	struct l7_config lc = { cfg->reassembly_buffers, cfg->reassembly_buffer_size,
				on_dns_query, p, p->flows };
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
		if (l->frag != PKT_FRAG_LATER) {
			l7_packet(p->l7, f, l, side, created, ts_us);
			/* ICMP echo request (v4 type 8, v6 128): tunnel measures */
			if ((l->proto == 1 && l->sport == 8) || (l->proto == 58 && l->sport == 128))
				detect_icmp_echo(p->detect, l->family, l->src, l->dst, l->payload,
						 l->payload_cap, l->payload_bytes, ts_us);
		}
		detect_flow(p->detect, f, ts_us, false);
	}
	if (ts_us >= p->next_tick_us) {
		detect_tick(p->detect, ts_us);
		p->next_tick_us = ts_us + 1000000u;
	}
}

void pipeline_tick(struct pipeline *p, uint64_t now_us)
{
	if (now_us <= p->now_us)
		return;
	p->now_us = now_us;
	flow_table_advance(p->flows, now_us);
	if (now_us >= p->next_tick_us) {
		detect_tick(p->detect, now_us);
		p->next_tick_us = now_us + 1000000u;
	}
}

bool pipeline_reload(struct pipeline *p, const struct config *cfg, char *err, size_t errlen)
{
	struct ruleset_list rl;

	err[0] = '\0';
	struct enrich *e = enrich_create(cfg, err, errlen);
	if (!e)
		return false;
	if (pipeline_load_rules(cfg, &rl, err, errlen) > 0) {
		rules_free(&rl);
		enrich_destroy(e);
		return false;
	}
	struct ruleset_list old_rules = p->rules;
	struct enrich *old_enrich = p->enrich;
	p->rules = rl;
	p->enrich = e;
	/* what the tables were sized with stays; names, networks and lists change */
	snprintf(p->cfg.sensor_name, sizeof(p->cfg.sensor_name), "%s", cfg->sensor_name);
	p->cfg.home_net = cfg->home_net;
	p->cfg.lists = cfg->lists;
	p->cfg.rules = cfg->rules;
	detect_set_rules(p->detect, &p->rules, p->enrich, &p->cfg.home_net);
	rules_free(&old_rules);
	enrich_destroy(old_enrich);
	return true;
}

bool pipeline_want_report(struct pipeline *p, bool timeline)
{
	if (!p->report)
		p->report = report_create(&p->cfg.home_net, timeline);
	return p->report != NULL;
}

void pipeline_health(struct pipeline *p, struct health_event *h)
{
	static char buf[4096];
	size_t n = health_json(h, p->cfg.sensor_name, EGRESSD_VERSION_STR, buf, sizeof(buf));
	output_health(p->out, buf, n, h->action, h->id);
	p->health_events++;
}

bool pipeline_finish(struct pipeline *p, char *err, size_t errlen)
{
	flow_table_flush(p->flows);
	detect_finish(p->detect);
	return detect_save(p->detect, err, errlen) == 0;
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
	stat_line(f, "flows.lookups", fs->lookups);
	stat_line(f, "flows.lookup_probes", fs->probes);
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
	const struct detect_stats *dst = detect_stats(p->detect);
	stat_line(f, "detect.rules", (uint64_t)p->rules.n);
	stat_line(f, "detect.evaluations", dst->evaluations);
	stat_line(f, "detect.alerts", dst->alerts);
	stat_line(f, "detect.suppressed", dst->suppressed);
	stat_line(f, "detect.learning_silenced", dst->learning_silenced);
	stat_line(f, "detect.alerts_rate_limited", dst->rate_limited);
	stat_line(f, "detect.allowlisted_flows", dst->allowlisted_flows);
	stat_line(f, "detect.window_entries", dst->window_entries);
	stat_line(f, "detect.window_evictions", dst->window_evictions);
	stat_line(f, "detect.tunnel_evictions", dst->tunnel_evictions);
	stat_line(f, "detect.baseline_entries", dst->baseline_entries);
	stat_line(f, "detect.baseline_evictions", dst->baseline_evictions);
	stat_line(f, "detect.baseline_saves", dst->baseline_saves);
	stat_line(f, "detect.baseline_save_errors", dst->baseline_save_errors);
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
	report_destroy(p->report);
	p->report = NULL;
	detect_destroy(p->detect);
	p->detect = NULL;
	rules_free(&p->rules);
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
