/* config.c: sensor.yaml as a table of rows (key, kind, bounds, target), after redis's
 * config.c. libyaml builds the document; we walk it, checking every key. */
#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <yaml.h>

#include "config.h"

enum kind { K_STRING, K_UINT, K_DURATION_S, K_DURATION_MS, K_SIZE, K_BOOL, K_CIDRS, K_OUTPUTS,
	    K_ITEMS, K_ITEM };

struct row {
	const char *key; /* dotted path */
	enum kind kind;
	uint64_t min, max;
	size_t off;
	size_t size; /* strings: buffer size */
};

#define OFF(f) offsetof(struct config, f)
#define U32(f) sizeof(((struct config *)0)->f)

static const struct row rows[] = {
	{ "sensor_name", K_STRING, 1, 63, OFF(sensor_name), U32(sensor_name) },
	{ "home_net", K_CIDRS, 1, 0, OFF(home_net), 0 },
	{ "flows.max_flows", K_UINT, 1, 1u << 30, OFF(max_flows), 0 },
	{ "flows.tcp_timeout", K_DURATION_S, 1, 86400, OFF(tcp_timeout_s), 0 },
	{ "flows.tcp_closed_timeout", K_DURATION_S, 1, 3600, OFF(tcp_closed_timeout_s), 0 },
	{ "flows.udp_timeout", K_DURATION_S, 1, 86400, OFF(udp_timeout_s), 0 },
	{ "flows.icmp_timeout", K_DURATION_S, 1, 86400, OFF(icmp_timeout_s), 0 },
	{ "flows.other_timeout", K_DURATION_S, 1, 86400, OFF(other_timeout_s), 0 },
	{ "flows.active_timeout", K_DURATION_S, 0, 7 * 86400, OFF(active_timeout_s), 0 },
	{ "flows.fragments", K_UINT, 16, 1u << 24, OFF(fragments), 0 },
	{ "flows.fragment_timeout", K_DURATION_S, 1, 600, OFF(fragment_timeout_s), 0 },
	{ "l7.reassembly_buffers", K_UINT, 0, 1u << 20, OFF(reassembly_buffers), 0 },
	{ "l7.reassembly_buffer_size", K_SIZE, 12288, 65536, OFF(reassembly_buffer_size), 0 },
	{ "l7.names", K_UINT, 16, 1u << 26, OFF(names), 0 },
	{ "l7.dns_cache", K_UINT, 16, 1u << 26, OFF(dns_cache), 0 },
	{ "l7.dns_min_ttl", K_DURATION_S, 0, 86400, OFF(dns_min_ttl_s), 0 },
	{ "l7.dns_max_ttl", K_DURATION_S, 1, 7 * 86400, OFF(dns_max_ttl_s), 0 },
	{ "allowlist.domains", K_ITEMS, 0, 0, OFF(allow_domains), 0 },
	{ "allowlist.cidrs", K_CIDRS, 0, 0, OFF(allow_cidrs), 0 },
	{ "cloud.own_tenants", K_ITEMS, 0, 0, OFF(own_tenants), 0 },
	{ "geoip.country", K_ITEM, 0, 0, OFF(geoip_country), 0 },
	{ "geoip.asn", K_ITEM, 0, 0, OFF(geoip_asn), 0 },
	{ "lists", K_ITEM, 0, 0, OFF(lists), 0 },
	{ "learning_period", K_DURATION_S, 0, 365 * 86400, OFF(learning_period_s), 0 },
	{ "baseline.path", K_ITEM, 0, 0, OFF(baseline_path), 0 },
	{ "baseline.new_for", K_DURATION_S, 1, 365 * 86400, OFF(baseline_new_for_s), 0 },
	{ "baseline.expire_after", K_DURATION_S, 0, 3650u * 86400u, OFF(baseline_expire_s), 0 },
	{ "baseline.max_entries", K_UINT, 16, 1u << 24, OFF(baseline_max), 0 },
	{ "baseline.save_interval", K_DURATION_S, 0, 86400, OFF(baseline_save_s), 0 },
	{ "rules", K_ITEMS, 0, 0, OFF(rules), 0 },
	{ "detection.windows", K_UINT, 16, 1u << 24, OFF(windows_max), 0 },
	{ "detection.tunnels", K_UINT, 16, 1u << 20, OFF(tunnels_max), 0 },
	{ "detection.checkpoint", K_SIZE, 1, 1u << 30, OFF(checkpoint_bytes), 0 },
	{ "detection.rule_alerts_per_minute", K_UINT, 0, 1000000, OFF(rule_alerts_per_minute), 0 },
	{ "detection.source_alerts_per_minute", K_UINT, 0, 1000000, OFF(source_alerts_per_minute),
	  0 },
	{ "capture.interface", K_ITEM, 0, 0, OFF(capture_interface), 0 },
	{ "capture.snaplen", K_UINT, 64, 262144, OFF(snaplen), 0 },
	{ "capture.promisc", K_BOOL, 0, 1, OFF(promisc), 0 },
	{ "capture.buffer_size", K_SIZE, 1u << 20, 2047u << 20, OFF(buffer_bytes), 0 },
	{ "capture.filter", K_ITEM, 0, 0, OFF(capture_filter), 0 },
	{ "capture.timeout", K_DURATION_MS, 1, 10000, OFF(capture_timeout_ms), 0 },
	{ "health.interval", K_DURATION_S, 1, 3600, OFF(health_interval_s), 0 },
	{ "health.loss_percent", K_UINT, 0, 100, OFF(health_loss_percent), 0 },
	{ "health.idle_after", K_DURATION_S, 0, 86400, OFF(health_idle_s), 0 },
	{ "outputs", K_OUTPUTS, 0, 0, 0, 0 },
};

/* Sections: keys that hold a mapping of rows. */
static const char *const sections[] = { "flows", "l7", "allowlist", "cloud", "geoip",
					 "baseline", "detection", "capture", "health" };

void config_defaults(struct config *c)
{
	memset(c, 0, sizeof(*c));
	snprintf(c->sensor_name, sizeof(c->sensor_name), "egressd");
	netset_default_home(&c->home_net);
	c->max_flows = 1000000;
	c->tcp_timeout_s = 300;
	c->tcp_closed_timeout_s = 120;
	c->udp_timeout_s = 60;
	c->icmp_timeout_s = 60;
	c->other_timeout_s = 60;
	c->active_timeout_s = 1800;
	c->fragments = 65536;
	c->fragment_timeout_s = 30;
	c->reassembly_buffers = 4096;
	c->reassembly_buffer_size = 16384;
	c->names = 262144;
	c->dns_cache = 262144;
	c->dns_min_ttl_s = 60;
	c->dns_max_ttl_s = 86400;
	c->learning_period_s = 0;
	c->baseline_new_for_s = 7 * 86400;
	c->baseline_expire_s = 90 * 86400;
	c->baseline_max = 1000000;
	c->baseline_save_s = 300;
	c->windows_max = 65536;
	c->tunnels_max = 8192;
	c->checkpoint_bytes = 65536;
	c->rule_alerts_per_minute = 120;
	c->source_alerts_per_minute = 30;
	c->snaplen = 65535;
	c->promisc = 1;
	c->buffer_bytes = 64u << 20;
	c->capture_timeout_ms = 100;
	c->health_interval_s = 10;
	c->health_loss_percent = 1;
	c->health_idle_s = 60;
}

bool config_parse_duration_ms(const char *s, uint64_t *ms)
{
	char *end;
	if (!isdigit((unsigned char)*s))
		return false;
	errno = 0;
	unsigned long long v = strtoull(s, &end, 10);
	if (errno)
		return false;
	uint64_t mul;
	if (strcmp(end, "ms") == 0)
		mul = 1;
	else if (strcmp(end, "s") == 0 || *end == '\0')
		mul = 1000;
	else if (strcmp(end, "m") == 0)
		mul = 60000;
	else if (strcmp(end, "h") == 0)
		mul = 3600000;
	else if (strcmp(end, "d") == 0)
		mul = 86400000;
	else
		return false;
	if (v > UINT64_MAX / mul)
		return false;
	*ms = v * mul;
	return true;
}

bool config_parse_size(const char *s, uint64_t *bytes)
{
	static const struct {
		const char *suffix;
		uint64_t mul;
	} units[] = { { "", 1 },	   { "B", 1 },
		      { "KB", 1000 },	   { "MB", 1000000 },
		      { "GB", 1000000000 }, { "TB", 1000000000000ULL },
		      { "KiB", 1024 },	   { "MiB", 1048576 },
		      { "GiB", 1073741824 }, { "TiB", 1099511627776ULL } };
	char *end;
	if (!isdigit((unsigned char)*s))
		return false;
	errno = 0;
	unsigned long long v = strtoull(s, &end, 10);
	if (errno)
		return false;
	for (size_t i = 0; i < sizeof(units) / sizeof(units[0]); i++) {
		if (strcmp(end, units[i].suffix) == 0) {
			if (v > UINT64_MAX / units[i].mul)
				return false;
			*bytes = v * units[i].mul;
			return true;
		}
	}
	return false;
}

struct loader {
	const char *path;
	yaml_document_t *doc;
	struct config *c;
	char *err;
	size_t errlen;
	int problems;
};

__attribute__((format(printf, 3, 4)))
static void problem(struct loader *L, const yaml_node_t *n, const char *fmt, ...)
{
	size_t used = strlen(L->err);
	L->problems++;
	if (used + 2 >= L->errlen)
		return;
	int k = snprintf(L->err + used, L->errlen - used, "%s:%zu:%zu: ", L->path,
			 n ? n->start_mark.line + 1 : 1, n ? n->start_mark.column + 1 : 1);
	if (k < 0 || (size_t)k >= L->errlen - used)
		return;
	used += (size_t)k;
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(L->err + used, L->errlen - used, fmt, ap);
	va_end(ap);
	used = strlen(L->err);
	if (used + 1 < L->errlen) {
		L->err[used] = '\n';
		L->err[used + 1] = '\0';
	}
}

static const char *scalar(const yaml_node_t *n)
{
	return n && n->type == YAML_SCALAR_NODE ? (const char *)n->data.scalar.value : NULL;
}

static void set_u32(struct loader *L, const struct row *r, const yaml_node_t *v, uint64_t x,
		    const char *unit)
{
	if (x < r->min || x > r->max) {
		problem(L, v, "%s: %llu%s is out of range (%llu to %llu%s)", r->key,
			(unsigned long long)x, unit, (unsigned long long)r->min,
			(unsigned long long)r->max, unit);
		return;
	}
	uint32_t u = (uint32_t)x;
	memcpy((char *)L->c + r->off, &u, sizeof(u));
}

/* outputs: redis: {host: ..., spool: {path: ..., max_size: ..., fsync: ...}} */
static bool load_redis(struct loader *L, const yaml_node_t *m, struct redis_opts *ro)
{
	char e[400];
	bool ok = true, host = false, sock = false;

	redis_opts_defaults(ro);
	if (m->type != YAML_MAPPING_NODE) {
		problem(L, m, "outputs: redis: expected a mapping, e.g. {host: 127.0.0.1, port: "
			      "6379, stream: \"egressd:alerts\"}");
		return false;
	}
	for (yaml_node_pair_t *p = m->data.mapping.pairs.start; p < m->data.mapping.pairs.top;
	     p++) {
		yaml_node_t *kn = yaml_document_get_node(L->doc, p->key);
		yaml_node_t *vn = yaml_document_get_node(L->doc, p->value);
		const char *k = scalar(kn);
		if (!k || !vn)
			continue;
		if (!redis_opts_known(k)) {
			/* not quoted: it may be the password itself, written without its key
			 * ({password Pw..}, {password=Pw..}, a line of its own) */
			problem(L, kn, "outputs: redis: unknown setting (host, port, unix, db, user, "
				       "password, password_env, password_file, stream, maxlen, "
				       "field, dedupe, dedupe_ttl, timeout, drain, queue, spool, "
				       "spool_max, fsync)");
			ok = false;
			continue;
		}
		if (strcmp(k, "spool") == 0 && vn->type == YAML_MAPPING_NODE) {
			for (yaml_node_pair_t *q = vn->data.mapping.pairs.start;
			     q < vn->data.mapping.pairs.top; q++) {
				yaml_node_t *skn = yaml_document_get_node(L->doc, q->key);
				yaml_node_t *sv = yaml_document_get_node(L->doc, q->value);
				const char *sk = scalar(skn);
				char key[64];
				if (!sk || !sv)
					continue;
				if (strcmp(sk, "path") && strcmp(sk, "max_size") && strcmp(sk, "fsync")) {
					/* not quoted, as above: named by its position */
					problem(L, skn, "outputs: redis: spool: unknown key "
							"(path, max_size, fsync)");
					ok = false;
					continue;
				}
				snprintf(key, sizeof(key), "spool.%s", sk);
				if (!scalar(sv) || !redis_opts_set(ro, key, scalar(sv), e, sizeof(e))) {
					problem(L, sv, "outputs: redis: %s",
						scalar(sv) ? e : "spool: expected a value");
					ok = false;
				}
			}
			continue;
		}
		if (!scalar(vn)) {
			problem(L, vn, "outputs: redis: %.40s: expected a value", k);
			ok = false;
			continue;
		}
		if (strcmp(k, "host") == 0 || strcmp(k, "port") == 0)
			host = true;
		if (strcmp(k, "unix") == 0)
			sock = true;
		if (!redis_opts_set(ro, k, scalar(vn), e, sizeof(e))) {
			problem(L, vn, "outputs: redis: %s", e);
			ok = false;
		}
	}
	if (host && sock) {
		problem(L, m, "outputs: redis: give host/port or unix, not both");
		return false;
	}
	if (sock)
		ro->host[0] = '\0';
	if (ok && !redis_opts_check(ro, e, sizeof(e))) {
		problem(L, m, "outputs: redis: %s", e);
		ok = false;
	}
	return ok;
}

static void load_outputs(struct loader *L, const yaml_node_t *v)
{
	static const char what[] = "stdout, {file: PATH}, {redis: {...}}, or a spec as on the "
				   "command line (file:PATH, redis://HOST:PORT?stream=KEY, "
				   "unix:PATH?stream=KEY)";
	if (v->type != YAML_SEQUENCE_NODE) {
		problem(L, v, "outputs: expected a list, e.g. [stdout, {file: /var/log/egressd.json}]");
		return;
	}
	L->c->noutputs = 0;
	for (yaml_node_item_t *it = v->data.sequence.items.start; it < v->data.sequence.items.top;
	     it++) {
		yaml_node_t *o = yaml_document_get_node(L->doc, *it);
		struct sink_spec *spec;
		char e[400];
		if (!o)
			continue;
		if (L->c->noutputs >= CONFIG_MAX_OUTPUTS) {
			problem(L, o, "outputs: at most %d outputs", CONFIG_MAX_OUTPUTS);
			return;
		}
		spec = &L->c->outputs[L->c->noutputs];
		memset(spec, 0, sizeof(*spec));
		if (scalar(o)) {
			if (!sink_spec_parse(scalar(o), spec, e, sizeof(e))) {
				problem(L, o, "outputs: %s", e);
				continue;
			}
			if (spec->kind == SINK_REDIS && spec->redis.password_in_url) {
				problem(L, o, "outputs: give the redis password with password_env or "
					      "password_file, not in the URL");
				continue;
			}
		} else if (o->type == YAML_MAPPING_NODE &&
			   o->data.mapping.pairs.top - o->data.mapping.pairs.start == 1) {
			yaml_node_pair_t *p = o->data.mapping.pairs.start;
			const char *k = scalar(yaml_document_get_node(L->doc, p->key));
			yaml_node_t *vn = yaml_document_get_node(L->doc, p->value);
			const char *val = scalar(vn);
			if (k && strcmp(k, "file") == 0) {
				if (!val || !*val) {
					problem(L, vn, "outputs: file: expected a path");
					continue;
				}
				if (strlen(val) >= sizeof(spec->path)) {
					problem(L, vn, "outputs: file path too long");
					continue;
				}
				spec->kind = SINK_FILE;
				snprintf(spec->path, sizeof(spec->path), "%s", val);
			} else if (k && strcmp(k, "redis") == 0 && vn) {
				spec->kind = SINK_REDIS;
				if (!load_redis(L, vn, &spec->redis))
					continue;
			} else {
				problem(L, o, "outputs: unknown output (%s)", what);
				continue;
			}
		} else {
			problem(L, o, "outputs: unknown output (%s)", what);
			continue;
		}
		L->c->noutputs++;
	}
}

static void load_cidrs(struct loader *L, const struct row *r, const yaml_node_t *v)
{
	struct netset *s = (struct netset *)(void *)((char *)L->c + r->off);
	char err[256];
	if (scalar(v)) {
		if (!netset_parse_list(s, scalar(v), err, sizeof(err)))
			problem(L, v, "%s: %s", r->key, err);
		return;
	}
	if (v->type != YAML_SEQUENCE_NODE) {
		problem(L, v, "%s: expected a list of CIDR blocks", r->key);
		return;
	}
	s->n = 0;
	if (v->data.sequence.items.start == v->data.sequence.items.top) {
		if (r->min)
			problem(L, v, "%s: empty list", r->key);
		return;
	}
	for (yaml_node_item_t *it = v->data.sequence.items.start; it < v->data.sequence.items.top;
	     it++) {
		yaml_node_t *e = yaml_document_get_node(L->doc, *it);
		struct cidr cd;
		if (!scalar(e)) {
			problem(L, e, "%s: expected a CIDR block", r->key);
			continue;
		}
		if (!cidr_parse(scalar(e), &cd, err, sizeof(err)))
			problem(L, e, "%s: %s", r->key, err);
		else if (!netset_add(s, &cd))
			problem(L, e, "%s: more than %d blocks", r->key, NETSET_MAX);
	}
}

static bool set_item(struct loader *L, const struct row *r, const yaml_node_t *v,
		     struct config_item *it)
{
	const char *s = scalar(v);
	if (!s || !*s) {
		problem(L, v, "%s: expected a value", r->key);
		return false;
	}
	if (strlen(s) >= sizeof(it->text)) {
		problem(L, v, "%s: longer than %zu characters", r->key, sizeof(it->text) - 1);
		return false;
	}
	snprintf(it->text, sizeof(it->text), "%s", s);
	it->line = (uint32_t)v->start_mark.line + 1;
	it->col = (uint32_t)v->start_mark.column + 1;
	return true;
}

static void load_items(struct loader *L, const struct row *r, const yaml_node_t *v)
{
	struct config_items *items = (struct config_items *)(void *)((char *)L->c + r->off);
	items->n = 0;
	if (v->type != YAML_SEQUENCE_NODE) {
		problem(L, v, "%s: expected a list", r->key);
		return;
	}
	for (yaml_node_item_t *it = v->data.sequence.items.start; it < v->data.sequence.items.top;
	     it++) {
		yaml_node_t *e = yaml_document_get_node(L->doc, *it);
		if (items->n == CONFIG_MAX_ITEMS) {
			problem(L, e, "%s: more than %d entries", r->key, CONFIG_MAX_ITEMS);
			return;
		}
		if (set_item(L, r, e, &items->v[items->n]))
			items->n++;
	}
}

static void load_value(struct loader *L, const struct row *r, const yaml_node_t *v)
{
	const char *s = scalar(v);
	uint64_t x;

	switch (r->kind) {
	case K_CIDRS:
		load_cidrs(L, r, v);
		return;
	case K_OUTPUTS:
		load_outputs(L, v);
		return;
	case K_ITEMS:
		load_items(L, r, v);
		return;
	case K_ITEM:
		set_item(L, r, v, (struct config_item *)(void *)((char *)L->c + r->off));
		return;
	default:
		break;
	}
	if (!s) {
		problem(L, v, "%s: expected a single value", r->key);
		return;
	}
	switch (r->kind) {
	case K_STRING:
		if (strlen(s) < r->min || strlen(s) > r->max) {
			problem(L, v, "%s: must be %llu to %llu characters", r->key,
				(unsigned long long)r->min, (unsigned long long)r->max);
			return;
		}
		snprintf((char *)L->c + r->off, r->size, "%s", s);
		return;
	case K_UINT: {
		char *end;
		errno = 0;
		if (!isdigit((unsigned char)*s) || (x = strtoull(s, &end, 10), errno || *end)) {
			problem(L, v, "%s: '%s' is not a whole number", r->key, s);
			return;
		}
		set_u32(L, r, v, x, "");
		return;
	}
	case K_DURATION_S:
		if (!config_parse_duration_ms(s, &x) || x % 1000) {
			problem(L, v, "%s: '%s' is not a duration in seconds (30s, 10m, 24h, 7d)",
				r->key, s);
			return;
		}
		set_u32(L, r, v, x / 1000, "s");
		return;
	case K_DURATION_MS:
		if (!config_parse_duration_ms(s, &x)) {
			problem(L, v, "%s: '%s' is not a duration (100ms, 1s)", r->key, s);
			return;
		}
		set_u32(L, r, v, x, "ms");
		return;
	case K_BOOL:
		if (strcmp(s, "true") == 0 || strcmp(s, "yes") == 0 || strcmp(s, "on") == 0)
			x = 1;
		else if (strcmp(s, "false") == 0 || strcmp(s, "no") == 0 || strcmp(s, "off") == 0)
			x = 0;
		else {
			problem(L, v, "%s: '%s' is not true or false", r->key, s);
			return;
		}
		set_u32(L, r, v, x, "");
		return;
	case K_SIZE:
		if (!config_parse_size(s, &x)) {
			problem(L, v, "%s: '%s' is not a size (500KB, 50MB, 64KiB)", r->key, s);
			return;
		}
		set_u32(L, r, v, x, " bytes");
		return;
	default:
		return;
	}
}

static const struct row *find_row(const char *key)
{
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++)
		if (strcmp(rows[i].key, key) == 0)
			return &rows[i];
	return NULL;
}

static bool is_section(const char *key)
{
	for (size_t i = 0; i < sizeof(sections) / sizeof(sections[0]); i++)
		if (strcmp(sections[i], key) == 0)
			return true;
	return false;
}

static void load_mapping(struct loader *L, const yaml_node_t *m, const char *prefix)
{
	for (yaml_node_pair_t *p = m->data.mapping.pairs.start; p < m->data.mapping.pairs.top; p++) {
		yaml_node_t *kn = yaml_document_get_node(L->doc, p->key);
		yaml_node_t *vn = yaml_document_get_node(L->doc, p->value);
		const char *k = scalar(kn);
		char path[128];
		if (!k || !vn) {
			problem(L, kn, "keys must be plain words");
			continue;
		}
		snprintf(path, sizeof(path), "%s%s%s", prefix, *prefix ? "." : "", k);
		if (!*prefix && is_section(k)) {
			if (vn->type != YAML_MAPPING_NODE)
				problem(L, vn, "%s: expected a mapping of settings", k);
			else
				load_mapping(L, vn, k);
			continue;
		}
		const struct row *r = strchr(k, '.') ? NULL : find_row(path);
		if (!r) {
			problem(L, kn, "unknown key '%s'", path);
			continue;
		}
		load_value(L, r, vn);
	}
}

/* Events first: aliases and a second document refused and nesting checked before
 * libyaml builds a document (its scanner does work per open level for every token: deep nesting is quadratic, so
 * the scan stops at the first level too deep). */
static bool prescan(struct loader *L, const unsigned char *buf, size_t len)
{
	yaml_parser_t p;
	yaml_event_t ev;
	int depth = 0, docs = 0;
	bool ok = true;

	if (!yaml_parser_initialize(&p)) {
		problem(L, NULL, "out of memory");
		return false;
	}
	yaml_parser_set_input_string(&p, buf, len);
	for (;;) {
		if (!yaml_parser_parse(&p, &ev)) {
			size_t used = strlen(L->err);
			snprintf(L->err + used, L->errlen - used, "%s:%zu:%zu: YAML syntax: %s\n",
				 L->path, p.problem_mark.line + 1, p.problem_mark.column + 1,
				 p.problem ? p.problem : "error");
			L->problems++;
			ok = false;
			break;
		}
		yaml_event_type_t t = ev.type;
		yaml_mark_t m = ev.start_mark;
		bool nul = t == YAML_SCALAR_EVENT &&
			   memchr(ev.data.scalar.value, 0, ev.data.scalar.length);
		yaml_event_delete(&ev);
		if (t == YAML_STREAM_END_EVENT)
			break;
		if (t == YAML_DOCUMENT_START_EVENT && ++docs == 2) {
			/* only the first would be loaded: the rest would be ignored unread */
			size_t used = strlen(L->err);
			snprintf(L->err + used, L->errlen - used,
				 "%s:%zu:%zu: a configuration file holds one YAML document\n",
				 L->path, m.line + 1, m.column + 1);
			L->problems++;
			ok = false;
		} else if (nul) {
			/* "\0" (or \x00, \u0000) in a quoted scalar: the value would end there */
			size_t used = strlen(L->err);
			snprintf(L->err + used, L->errlen - used,
				 "%s:%zu:%zu: a NUL character (\\0) in a key or value\n", L->path,
				 m.line + 1, m.column + 1);
			L->problems++;
			ok = false;
		} else if (t == YAML_ALIAS_EVENT) {
			size_t used = strlen(L->err);
			snprintf(L->err + used, L->errlen - used,
				 "%s:%zu:%zu: aliases are not allowed in the configuration\n", L->path,
				 m.line + 1, m.column + 1);
			L->problems++;
			ok = false;
		} else if (t == YAML_SEQUENCE_START_EVENT || t == YAML_MAPPING_START_EVENT) {
			if (++depth > CONFIG_MAX_DEPTH) {
				size_t used = strlen(L->err);
				snprintf(L->err + used, L->errlen - used,
					 "%s:%zu:%zu: nested deeper than %d levels\n", L->path,
					 m.line + 1, m.column + 1, CONFIG_MAX_DEPTH);
				L->problems++;
				ok = false;
				break;
			}
		} else if (t == YAML_SEQUENCE_END_EVENT || t == YAML_MAPPING_END_EVENT) {
			depth--;
		}
	}
	yaml_parser_delete(&p);
	return ok;
}

int config_load(struct config *c, const char *path, char *err, size_t errlen)
{
	struct loader L = { path, NULL, c, err, errlen, 0 };
	yaml_parser_t parser;
	yaml_document_t doc;
	struct stat sb;
	FILE *f;

	err[0] = '\0';
	snprintf(c->path, sizeof(c->path), "%s", path);
	f = fopen(path, "rb");
	if (!f) {
		problem(&L, NULL, "cannot open: %s", strerror(errno));
		return L.problems;
	}
	if (fstat(fileno(f), &sb) == 0 && sb.st_size > CONFIG_MAX_FILE_SIZE) {
		problem(&L, NULL, "file is larger than %d bytes", CONFIG_MAX_FILE_SIZE);
		fclose(f);
		return L.problems;
	}
	static unsigned char buf[CONFIG_MAX_FILE_SIZE + 1];
	size_t len = fread(buf, 1, sizeof(buf), f);
	if (len > CONFIG_MAX_FILE_SIZE) {
		problem(&L, NULL, "file is larger than %d bytes", CONFIG_MAX_FILE_SIZE);
		fclose(f);
		return L.problems;
	}
	if (!prescan(&L, buf, len)) {
		fclose(f);
		return L.problems;
	}
	if (!yaml_parser_initialize(&parser)) {
		problem(&L, NULL, "out of memory");
		fclose(f);
		return L.problems;
	}
	yaml_parser_set_input_string(&parser, buf, len);
	if (!yaml_parser_load(&parser, &doc)) {
		size_t used = strlen(err);
		snprintf(err + used, errlen - used, "%s:%zu:%zu: YAML syntax: %s\n", path,
			 parser.problem_mark.line + 1, parser.problem_mark.column + 1,
			 parser.problem ? parser.problem : "error");
		L.problems++;
		yaml_parser_delete(&parser);
		fclose(f);
		return L.problems;
	}
	L.doc = &doc;
	yaml_node_t *root = yaml_document_get_root_node(&doc);
	if (root && root->type == YAML_MAPPING_NODE)
		load_mapping(&L, root, "");
	else if (root && !(root->type == YAML_SCALAR_NODE && root->data.scalar.length == 0))
		problem(&L, root, "the top level must be a mapping of settings");
	if (c->dns_min_ttl_s > c->dns_max_ttl_s)
		problem(&L, NULL, "l7.dns_min_ttl is larger than l7.dns_max_ttl");
	yaml_document_delete(&doc);
	yaml_parser_delete(&parser);
	fclose(f);
	return L.problems;
}
