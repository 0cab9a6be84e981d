/* detect.c: the detection engine (see detect.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "community-id.h"
#include "crypto.h"
#include "detect-baseline.h"
#include "detect-tunnel.h"
#include "detect-window.h"
#include "detect.h"
#include "siphash.h"

#ifndef EGRESSD_VERSION
#define EGRESSD_VERSION "0.1.0"
#endif

#define SUPPRESS_SLOTS 65536
#define SUPPRESS_PROBE 8
#define DETECT_MAX_DNS_WINDOWS 16
/* Alerts whose totals may still grow during their suppression period: the evidence
 * that follows updates them, and an update document goes out when the period ends. */
#define DETECT_PENDING 1024

struct pending {
	uint64_t key;	   /* suppression key */
	uint64_t until_us; /* 0: free */
	bool changed;
	uint32_t updates;
	uint64_t threshold; /* bytes_out of the rule, for the message */
	struct alert a;
};

enum grain { GRAIN_DEST, GRAIN_REGDOM, GRAIN_TENANT };
#define NEW_HOST(g) (1u << (2 * (g)))
#define NEW_SITE(g) (1u << (2 * (g) + 1))

/* Alert rates, per minute of packet time: one counter per rule, and a direct-mapped
 * table of internal hosts (keyed hash; a host that loses its slot to another starts
 * counting again, which only errs towards alerting). */
#define RATE_SOURCES 4096

struct rate {
	uint64_t minute;
	uint32_t count;
};

struct rate_source {
	struct rate r;
	uint8_t family;
	uint8_t addr[16];
};

struct suppress_slot {
	uint64_t key;
	uint64_t until_us; /* 0: free */
};

struct detect {
	struct detect_config cfg;
	struct flow_ext_pool ext; /* a copy: one load less per packet */
	char baseline_path[512];
	const struct ruleset_list *rules;
	const struct enrich *enrich;
	const struct netset *home;
	struct names *names;
	struct window_table *win;
	struct baseline *base;
	struct tunnel_table *tun;
	struct siphash_key hk;
	struct suppress_slot *sup;
	struct pending *pend;
	bool learning_known;
	uint64_t learning_end_us;
	uint64_t next_save_us;
	detect_alert_fn fn;
	void *ctx;
	struct detect_stats st;
	/* The enabled rules of each detector, in rule order, as indices: a flow that is
	 * not egress is only tried against the volume rules that take any direction (none
	 * of the default rules do), and a DNS query only against the DNS tunnel rules. */
	int nvol, nvol_any, ndns; /* -1 (nvol): more rules than fit, scan them all */
	uint16_t vol[RULES_MAX_RULES], vol_any[RULES_MAX_RULES], dns[RULES_MAX_RULES];
	struct rate rule_rate[RULES_MAX_RULES];
	struct rate_source *src_rate;
	struct khash_key rk;
};

static void flush_pending(struct detect *d, uint64_t now_us);

static void index_rules(struct detect *d)
{
	d->nvol = d->nvol_any = d->ndns = 0;
	if (d->rules->n > RULES_MAX_RULES) {
		d->nvol = -1;
		return;
	}
	for (int k = 0; k < d->rules->n; k++) {
		const struct rule *r = &d->rules->rules[k];
		if (!r->enabled)
			continue;
		if (r->detector == RULE_DNS_TUNNEL)
			d->dns[d->ndns++] = (uint16_t)k;
		if (r->detector != RULE_VOLUME)
			continue;
		d->vol[d->nvol++] = (uint16_t)k;
		if (r->any_direction)
			d->vol_any[d->nvol_any++] = (uint16_t)k;
	}
}

void detect_set_rules(struct detect *d, const struct ruleset_list *rules,
		      const struct enrich *enrich, const struct netset *home)
{
	d->rules = rules;
	d->enrich = enrich;
	d->home = home;
	index_rules(d);
}

const struct detect_stats *detect_stats(const struct detect *d)
{
	struct detect_stats *st = (struct detect_stats *)(uintptr_t)&d->st;
	st->window_entries = window_table_stats(d->win)->entries;
	st->window_evictions = window_table_stats(d->win)->evictions;
	st->tunnel_evictions = tunnel_table_stats(d->tun)->evictions;
	st->baseline_entries = baseline_stats(d->base)->entries;
	st->baseline_evictions = baseline_stats(d->base)->evictions;
	return &d->st;
}

struct detect *detect_create(const struct detect_config *cfg, const struct ruleset_list *rules,
			     const struct enrich *enrich, const struct netset *home,
			     struct names *names, detect_alert_fn fn, void *ctx, uint64_t now_us,
			     char *err, size_t errlen)
{
	struct detect *d = calloc(1, sizeof(*d));
	(void)now_us;
	if (!d) {
		snprintf(err, errlen, "out of memory for the detection engine");
		return NULL;
	}
	d->cfg = *cfg;
	d->ext = *flow_table_ext_pool(cfg->flows);
	if (cfg->baseline_path)
		snprintf(d->baseline_path, sizeof(d->baseline_path), "%s", cfg->baseline_path);
	d->cfg.baseline_path = d->baseline_path;
	d->rules = rules;
	d->enrich = enrich;
	d->home = home;
	index_rules(d);
	d->names = names;
	d->fn = fn;
	d->ctx = ctx;
	siphash_key_random(&d->hk);
	d->win = window_table_create(cfg->windows_max, err, errlen);
	if (!d->win)
		goto fail;
	d->base = baseline_create(cfg->baseline_max, cfg->baseline_expire_us, err, errlen);
	if (!d->base)
		goto fail;
	d->tun = tunnel_table_create(cfg->tunnels_max, err, errlen);
	if (!d->tun)
		goto fail;
	d->sup = calloc(SUPPRESS_SLOTS, sizeof(*d->sup));
	d->pend = calloc(DETECT_PENDING, sizeof(*d->pend));
	d->src_rate = calloc(RATE_SOURCES, sizeof(*d->src_rate));
	khash_key_random(&d->rk);
	if (!d->sup || !d->pend || !d->src_rate) {
		snprintf(err, errlen, "out of memory for the suppression table");
		goto fail;
	}
	err[0] = '\0';
	if (d->baseline_path[0]) {
		/* a corrupt file is set aside and reported; detection starts afresh */
		int r = baseline_load(d->base, d->baseline_path, 0, err, errlen);
		if (r == BASELINE_LOAD_OK && !baseline_stats(d->base)->load_absent &&
		    baseline_stats(d->base)->loaded > 0) {
			/* learning began with the oldest entry the baseline still holds */
			d->learning_known = true;
			d->learning_end_us = baseline_earliest_first_seen(d->base) +
					     cfg->learning_period_us;
		}
		if (r == BASELINE_LOAD_OK)
			err[0] = '\0';
	}
	return d;
fail:
	detect_destroy(d);
	return NULL;
}

void detect_destroy(struct detect *d)
{
	if (!d)
		return;
	window_table_destroy(d->win);
	baseline_destroy(d->base);
	tunnel_table_destroy(d->tun);
	free(d->sup);
	free(d->pend);
	free(d->src_rate);
	free(d);
}

void detect_finish(struct detect *d)
{
	flush_pending(d, 0);
}

int detect_save(struct detect *d, char *err, size_t errlen)
{
	if (!d->baseline_path[0])
		return 0;
	if (baseline_save(d->base, d->baseline_path, err, errlen) != 0) {
		d->st.baseline_save_errors++;
		return -1;
	}
	d->st.baseline_saves++;
	return 0;
}

void detect_tick(struct detect *d, uint64_t now_us)
{
	char err[512];
	flush_pending(d, now_us);
	baseline_expire(d->base, now_us);
	if (!d->baseline_path[0] || !d->cfg.save_interval_s)
		return;
	if (!d->next_save_us) {
		d->next_save_us = now_us + (uint64_t)d->cfg.save_interval_s * 1000000u;
		return;
	}
	if (now_us >= d->next_save_us) {
		detect_save(d, err, sizeof(err));
		d->next_save_us = now_us + (uint64_t)d->cfg.save_interval_s * 1000000u;
	}
}

static bool learning(struct detect *d, uint64_t now_us)
{
	if (!d->learning_known) {
		d->learning_known = true;
		d->learning_end_us = now_us + d->cfg.learning_period_us;
	}
	return now_us < d->learning_end_us;
}

/* true if (rule, key) may fire now; marks it suppressed until now + suppress */
static bool suppress_pass(struct detect *d, uint64_t key, uint32_t suppress_s, uint64_t now_us)
{
	uint32_t pos = (uint32_t)key & (SUPPRESS_SLOTS - 1);
	struct suppress_slot *slot = NULL;
	for (int i = 0; i < SUPPRESS_PROBE; i++, pos = (pos + 1) & (SUPPRESS_SLOTS - 1)) {
		struct suppress_slot *s = &d->sup[pos];
		if (s->until_us && s->key == key) {
			if (now_us < s->until_us)
				return false;
			slot = s;
			break;
		}
		if (!slot || (slot->until_us && (!s->until_us || s->until_us < slot->until_us)))
			slot = s;
	}
	slot->key = key;
	slot->until_us = now_us + (uint64_t)(suppress_s ? suppress_s : 1) * 1000000u;
	if (!suppress_s)
		slot->until_us = now_us + 1;
	return true;
}

static struct rate_source *rate_source(struct detect *d, int family, const uint8_t src[16])
{
	uint8_t k[17];
	memcpy(k, src, 16);
	k[16] = (uint8_t)family;
	return &d->src_rate[khash(&d->rk, k, sizeof(k)) & (RATE_SOURCES - 1)];
}

/* May rule k raise one more alert about src this minute? An alert held back is counted
 * once and its key held (suppress_hold) until the minute has passed. */
static bool rate_ok(struct detect *d, int k, int family, const uint8_t src[16], uint64_t now_us)
{
	uint64_t minute = now_us / 60000000u;
	uint32_t rl = d->cfg.rule_alerts_per_minute, sl = d->cfg.source_alerts_per_minute;

	if (rl && k < RULES_MAX_RULES && d->rule_rate[k].minute == minute &&
	    d->rule_rate[k].count >= rl)
		goto held;
	if (sl) {
		const struct rate_source *s = rate_source(d, family, src);
		if (s->r.minute == minute && s->r.count >= sl && s->family == family &&
		    memcmp(s->addr, src, 16) == 0)
			goto held;
	}
	return true;
held:
	d->st.rate_limited++;
	return false;
}

static void rate_count(struct rate *r, uint64_t minute)
{
	if (r->minute != minute) {
		r->minute = minute;
		r->count = 0;
	}
	r->count++;
}

static void rate_take(struct detect *d, int k, int family, const uint8_t src[16], uint64_t now_us)
{
	uint64_t minute = now_us / 60000000u;
	if (k < RULES_MAX_RULES)
		rate_count(&d->rule_rate[k], minute);
	struct rate_source *s = rate_source(d, family, src);
	if (s->family != family || memcmp(s->addr, src, 16) != 0) {
		s->family = (uint8_t)family;
		memcpy(s->addr, src, 16);
		s->r.minute = 0;
	}
	rate_count(&s->r, minute);
}

/* An alert that passed suppress_pass but is held back by the rate: its key stays quiet
 * only until the next minute, when a later evaluation may raise it. */
static void suppress_hold(struct detect *d, uint64_t key, uint64_t now_us)
{
	uint32_t pos = (uint32_t)key & (SUPPRESS_SLOTS - 1);
	for (int i = 0; i < SUPPRESS_PROBE; i++, pos = (pos + 1) & (SUPPRESS_SLOTS - 1))
		if (d->sup[pos].until_us && d->sup[pos].key == key) {
			d->sup[pos].until_us = (now_us / 60000000u + 1) * 60000000u;
			return;
		}
}

_Static_assert(sizeof(struct detect_flow) == 64, "detect_flow: one cache line");
_Static_assert(ENRICH_CAT__COUNT <= 16, "detect_flow.category: 4 bits");

/* The flow's detection state, for reading (all zeros until taken) and for writing. */
static const struct detect_flow *dflow(const struct detect *d, const struct flow *f)
{
	const unsigned char *e = flow_ext(&d->ext, f);
	return (const struct detect_flow *)(const void *)(e + sizeof(struct l7_flow));
}

static struct detect_flow *dflow_take(struct detect *d, struct flow *f)
{
	return (struct detect_flow *)(void *)((unsigned char *)flow_ext_take(&d->ext, f) +
					      sizeof(struct l7_flow));
}

/* The L7 state of the same flow: just before its detection state. */
static const struct l7_flow *l7_of(const struct detect_flow *df)
{
	return (const struct l7_flow *)(const void *)((const unsigned char *)df -
						      sizeof(struct l7_flow));
}

/* The flow's direction, decided at its first packet, is kept in the flow's stage byte
 * rather than in the extension: a flow that never moves data (a SYN, a scan probe)
 * needs no extension at all. Bits 0-1: 0 undecided, 1 egress, 2 not egress; bit 2:
 * the canonical side of the internal host (of the initiator when not egress). */
static inline int egress_of(const struct flow *f)
{
	return f->stage & 3;
}

static inline int out_of(const struct flow *f)
{
	return (f->stage >> 2) & 1;
}

/* a byte in decimal, no leading zeros */
static char *put_dec8(char *p, unsigned v)
{
	if (v >= 100) {
		*p++ = (char)('0' + v / 100);
		v %= 100;
		*p++ = (char)('0' + v / 10);
	} else if (v >= 10) {
		*p++ = (char)('0' + v / 10);
	}
	*p++ = (char)('0' + v % 10);
	return p;
}

static char *put_ipv4(char *p, const uint8_t *a)
{
	p = put_dec8(p, a[0]);
	*p++ = '.';
	p = put_dec8(p, a[1]);
	*p++ = '.';
	p = put_dec8(p, a[2]);
	*p++ = '.';
	return put_dec8(p, a[3]);
}

/* a 16-bit field in lower-case hex, no leading zeros */
static char *put_hex16(char *p, unsigned v)
{
	static const char hex[] = "0123456789abcdef";
	int shift = v >= 0x1000 ? 12 : v >= 0x100 ? 8 : v >= 0x10 ? 4 : 0;

	for (; shift >= 0; shift -= 4)
		*p++ = hex[(v >> shift) & 0xf];
	return p;
}

/* inet_ntop's IPv6 text (glibc resolv/inet_ntop.c), step for step: the first longest
 * run of at least two zero fields becomes "::"; a dotted tail when that run starts the
 * address and is six fields long (IPv4-compatible) or five followed by ffff (mapped). */
static size_t put_ipv6(char *out, const uint8_t *a)
{
	unsigned w[8];
	int best = -1, best_len = 0, cur = -1, cur_len = 0;
	char *p = out;

	for (int i = 0; i < 8; i++) {
		w[i] = (unsigned)a[2 * i] << 8 | a[2 * i + 1];
		if (!w[i]) {
			if (cur < 0)
				cur = i, cur_len = 0;
			if (++cur_len > best_len)
				best = cur, best_len = cur_len;
		} else {
			cur = -1;
		}
	}
	if (best_len < 2)
		best = -1;
	for (int i = 0; i < 8; i++) {
		if (best >= 0 && i >= best && i < best + best_len) {
			if (i == best)
				*p++ = ':';
			continue;
		}
		if (i)
			*p++ = ':';
		if (i == 6 && best == 0 && (best_len == 6 || (best_len == 5 && w[5] == 0xffff))) {
			p = put_ipv4(p, a + 12);
			break;
		}
		p = put_hex16(p, w[i]);
	}
	if (best >= 0 && best + best_len == 8)
		*p++ = ':';
	*p = '\0';
	return (size_t)(p - out);
}

size_t detect_ip_text(int family, const uint8_t *addr, char *out)
{
	if (family != 4)
		return put_ipv6(out, addr);
	char *p = put_ipv4(out, addr);
	*p = '\0';
	return (size_t)(p - out);
}

static const char *name_of(const struct detect *d, uint32_t id, size_t *len)
{
	const char *s = names_get(d->names, id, len);
	return s;
}

/* Texts keyed on by the volume rules and the baseline: the destination at each grain,
 * the category, and none (rules keyed by source alone). */
enum text_kind { TEXT_CATEGORY = GRAIN_TENANT + 1, TEXT_NONE, TEXT_KINDS };

/* The texts of one flow for one evaluation, each made (and hashed) on first use: the
 * twenty-odd rules share a handful of them. */
struct flow_texts {
	uint8_t made, hashed; /* bit per enum text_kind */
	const char *p[TEXT_KINDS];
	size_t len[TEXT_KINDS];
	uint64_t hash[TEXT_KINDS];
	char ip[DETECT_IP_TEXT_MAX];
};

/* The destination at a grain, as text: name, registered domain or tenant, else the
 * address. */
static void grain_text(const struct detect *d, const struct flow *f,
		       const struct detect_flow *df, enum grain g, struct flow_texts *t)
{
	const struct l7_flow *s = l7_of(df);
	size_t len = 0;
	const char *p = NULL;

	if (g == GRAIN_TENANT && df->tenant_name)
		p = name_of(d, df->tenant_name, &len);
	else if (g == GRAIN_REGDOM && df->regdom)
		p = name_of(d, df->regdom, &len);
	if (!p && l7_destination_name(s))
		p = name_of(d, l7_destination_name(s), &len);
	if (!p) {
		if (!t->ip[0])
			detect_ip_text(f->key.family, f->key.addr[out_of(f) ^ 1], t->ip);
		p = t->ip;
		len = strlen(p);
	}
	t->p[g] = p;
	t->len[g] = len < 299 ? len : 299; /* names are shorter: NAMES_MAX_LEN */
}

static const char *flow_text(const struct detect *d, const struct flow *f,
			     const struct detect_flow *df, enum text_kind k,
			     struct flow_texts *t, size_t *len)
{
	if (!(t->made & (1u << k))) {
		if (k == TEXT_CATEGORY) {
			t->p[k] = enrich_category_name((enum enrich_category)df->category);
			t->len[k] = strlen(t->p[k]);
		} else if (k == TEXT_NONE) {
			t->p[k] = "";
			t->len[k] = 0;
		} else {
			grain_text(d, f, df, (enum grain)k, t);
		}
		t->made |= (uint8_t)(1u << k);
	}
	*len = t->len[k];
	return t->p[k];
}

static uint64_t flow_text_hash(const struct detect *d, const struct flow *f,
			       const struct detect_flow *df, enum text_kind k,
			       struct flow_texts *t)
{
	if (!(t->hashed & (1u << k))) {
		size_t len;
		const char *p = flow_text(d, f, df, k, t, &len);
		t->hash[k] = siphash13(&d->hk, p, len);
		t->hashed |= (uint8_t)(1u << k);
	}
	return t->hash[k];
}

static void enrich_flow(struct detect *d, struct flow *f, struct detect_flow *df,
			struct flow_texts *t, uint64_t now_us)
{
	const struct l7_flow *s = l7_of(df);
	int in_side = out_of(f) ^ 1;
	size_t len = 0;
	const char *name = name_of(d, l7_destination_name(s), &len);
	struct enrich_result er;

	enrich_destination(d->enrich, f->key.family, f->key.addr[in_side], name, name ? len : 0,
			   &er);
	df->category = (uint8_t)er.category;
	df->tenant = er.has_tenant ? (er.own_tenant ? 1 : 2) : 0;
	df->allowlisted = er.allowlisted;
	if (er.has_geo) {
		memcpy(df->country, er.geo.country, sizeof(df->country));
		df->asn = er.geo.asn;
	}
	if (er.registered_domain[0])
		df->regdom = names_intern(d->names, er.registered_domain,
					  strlen(er.registered_domain));
	if (er.has_tenant)
		df->tenant_name = names_intern(d->names, er.tenant.tenant, strlen(er.tenant.tenant));
	df->enriched = 1;

	/* the baseline: host and site scope, at each grain */
	for (int g = GRAIN_DEST; g <= GRAIN_TENANT; g++) {
		struct baseline_seen h, site;
		if (g == GRAIN_TENANT && !df->tenant_name)
			continue;
		size_t n;
		const char *text = flow_text(d, f, df, (enum text_kind)g, t, &n);
		baseline_touch(d->base, BASELINE_HOST, f->key.family, f->key.addr[out_of(f)],
			       text, n, now_us, &h);
		baseline_touch(d->base, BASELINE_SITE, 0, NULL, text, n, now_us, &site);
		/* what was first seen while learning is known, however recent */
		bool lh = h.known && h.first_us < d->learning_end_us;
		bool ls = site.known && site.first_us < d->learning_end_us;
		if (!lh && baseline_is_new(&h, now_us, d->cfg.new_for_us))
			df->newbits |= (uint8_t)NEW_HOST(g);
		if (!ls && baseline_is_new(&site, now_us, d->cfg.new_for_us))
			df->newbits |= (uint8_t)NEW_SITE(g);
		df->first_seen[g] = h.known ? h.first_us : now_us;
	}
}

static bool country_in(const char (*list)[3], int n, const char *c)
{
	for (int i = 0; i < n; i++)
		if (c[0] && memcmp(list[i], c, 2) == 0)
			return true;
	return false;
}

/* What the rules' match conditions look at, the same for every rule: worked out once
 * per evaluation (the application's bit on first use). */
struct flow_match {
	uint8_t tr;	   /* RULE_TRANSPORT_* */
	bool egress;
	uint16_t port;	   /* the far end's; 0 for ICMP */
	bool app_known;
	uint32_t app_bit;
	uint32_t category_bit;
};

static void flow_match_init(const struct flow *f, const struct detect_flow *df,
			    struct flow_match *m)
{
	m->egress = egress_of(f) == 1;
	m->category_bit = 1u << df->category;
	m->tr = f->key.proto == 6 ? RULE_TRANSPORT_TCP :
		f->key.proto == 17 ? RULE_TRANSPORT_UDP :
		(f->key.proto == 1 || f->key.proto == 58) ? RULE_TRANSPORT_ICMP : 0;
	m->port = m->tr == RULE_TRANSPORT_ICMP ? 0 : f->key.port[out_of(f) ^ 1];
	m->app_known = false;
	m->app_bit = 0;
}

static bool rule_matches(const struct detect *d, const struct rule *r,
			 const struct detect_flow *df, struct flow_match *m)
{
	const struct l7_flow *s = l7_of(df);

	if (!m->egress && !r->any_direction)
		return false;
	if (r->transports && !(r->transports & m->tr))
		return false;
	if ((r->nports || r->nnot_ports) && !rule_port_matches(r, m->port))
		return false;
	if (r->apps && !m->app_known) {
		m->app_bit = rule_app_bit(l7_app_name((enum l7_app)s->app));
		m->app_known = true;
	}
	if (r->apps && !(r->apps & m->app_bit))
		return false;
	if (r->categories && !(r->categories & m->category_bit))
		return false;
	if (r->tenant == RULE_TENANT_FOREIGN && df->tenant != 2)
		return false;
	if (r->tenant == RULE_TENANT_OWN && df->tenant != 1)
		return false;
	if (r->domains || r->not_domains) {
		size_t len = 0;
		const char *name = name_of(d, l7_destination_name(s), &len);
		if (r->domains && (!name || !domain_set_match(r->domains, name, len)))
			return false;
		if (r->not_domains && name && domain_set_match(r->not_domains, name, len))
			return false;
	}
	if (r->ncountries && !country_in(r->countries, r->ncountries, df->country))
		return false;
	if (r->nnot_countries && country_in(r->not_countries, r->nnot_countries, df->country))
		return false;
	if (r->nasns) {
		bool hit = false;
		for (int i = 0; i < r->nasns; i++)
			hit |= r->asns[i] == df->asn;
		if (!hit)
			return false;
	}
	return true;
}

static enum grain grain_of(enum rule_key k)
{
	return k == RULE_KEY_REGISTERED_DOMAIN ? GRAIN_REGDOM :
	       k == RULE_KEY_TENANT ? GRAIN_TENANT : GRAIN_DEST;
}

static void alert_id(const struct rule *r, const char *key, uint64_t ts_us, char *out)
{
	char in[512];
	uint8_t md[CRYPTO_SHA1_LEN];
	int n = snprintf(in, sizeof(in), "%s|%s|%llu", r->id, key, (unsigned long long)ts_us);
	if (n < 0)
		n = 0;
	if ((size_t)n >= sizeof(in))
		n = (int)sizeof(in) - 1;
	if (crypto_sha1(in, (size_t)n, md) != 0)
		memset(md, 0, sizeof(md));
	for (int i = 0; i < CRYPTO_SHA1_LEN; i++)
		snprintf(out + 2 * i, 3, "%02x", md[i]);
}

static void fill_rule(struct alert *a, const struct rule *r)
{
	snprintf(a->rule_id, sizeof(a->rule_id), "%s", r->id);
	snprintf(a->rule_name, sizeof(a->rule_name), "%s", r->name);
	snprintf(a->ruleset, sizeof(a->ruleset), "%s", r->ruleset);
	snprintf(a->technique, sizeof(a->technique), "%s", r->technique);
	snprintf(a->subtechnique, sizeof(a->subtechnique), "%s", r->subtechnique);
	a->severity = r->severity;
	snprintf(a->detector, sizeof(a->detector), "%s", rule_detector_name(r->detector));
	a->window_s = r->window_s;
}

static void volume_message(struct alert *a, const char *rule_name, uint32_t window_s,
			   uint64_t threshold)
{
	char src[64], dst[64], vol[32], thr[32], win[16];
	detect_ip_text(a->family, a->src, src);
	detect_ip_text(a->family, a->dst, dst);
	alert_fmt_bytes(a->bytes_out, vol, sizeof(vol));
	alert_fmt_bytes(threshold, thr, sizeof(thr));
	alert_fmt_duration(window_s, win, sizeof(win));
	const char *where = a->tenant[0] ? a->tenant : a->domain[0] ? a->domain : dst;
	snprintf(a->message, sizeof(a->message),
		 "%s%s sent %s to %s%s%s%s in %llu flow%s within %s (threshold %s)%s: %s",
		 a->update_of[0] ? "update: " : "", src, vol, where, a->category[0] ? " (" : "",
		 a->category, a->category[0] ? ")" : "", (unsigned long long)a->flows,
		 a->flows == 1 ? "" : "s", win, thr,
		 a->is_new ? ", a destination first seen within new_for" : "", rule_name);
}

static void emit_update(struct detect *d, struct pending *p)
{
	static struct alert u;
	char in[64];
	uint8_t md[CRYPTO_SHA1_LEN];

	u = p->a;
	p->updates++;
	snprintf(u.update_of, sizeof(u.update_of), "%s", p->a.id);
	int n = snprintf(in, sizeof(in), "%s/%u", p->a.id, p->updates);
	if (crypto_sha1(in, (size_t)(n > 0 ? n : 0), md) != 0)
		memset(md, 0, sizeof(md));
	for (int i = 0; i < CRYPTO_SHA1_LEN; i++)
		snprintf(u.id + 2 * i, 3, "%02x", md[i]);
	u.ts_us = u.end_us;
	volume_message(&u, u.rule_name, u.window_s, p->threshold);
	d->fn(d->ctx, &u);
	p->changed = false;
}

/* Emit the updates of pending alerts whose period ended (all of them when now is 0). */
static void flush_pending(struct detect *d, uint64_t now_us)
{
	for (int i = 0; i < DETECT_PENDING; i++) {
		struct pending *p = &d->pend[i];
		if (!p->until_us || (now_us && now_us < p->until_us))
			continue;
		if (p->changed)
			emit_update(d, p);
		p->until_us = 0;
	}
}

static void pending_add(struct detect *d, uint64_t key, uint64_t until_us, uint64_t threshold,
			const struct alert *a)
{
	struct pending *slot = &d->pend[0];
	for (int i = 0; i < DETECT_PENDING; i++) {
		if (!d->pend[i].until_us) {
			slot = &d->pend[i];
			break;
		}
		if (d->pend[i].until_us < slot->until_us)
			slot = &d->pend[i];
	}
	if (slot->until_us && slot->changed)
		emit_update(d, slot); /* full: the oldest goes out early */
	slot->key = key;
	slot->until_us = until_us;
	slot->changed = false;
	slot->updates = 0;
	slot->threshold = threshold;
	slot->a = *a;
}

static void pending_update(struct detect *d, uint64_t key, const struct window_sum *out,
			   const struct window_sum *in, uint64_t now_us)
{
	for (int i = 0; i < DETECT_PENDING; i++) {
		struct pending *p = &d->pend[i];
		if (!p->until_us || p->key != key)
			continue;
		p->a.bytes_out = out->bytes;
		p->a.packets_out = out->packets;
		p->a.flows = out->flows;
		if (in)
			p->a.bytes_in = in->bytes;
		p->a.end_us = now_us;
		p->changed = true;
		return;
	}
}

static void fire_volume(struct detect *d, const struct rule *r, struct flow *f,
			struct detect_flow *df, const struct window_sum *out,
			const struct window_sum *in, const char *keytext, bool is_new,
			uint64_t sk, uint64_t now_us)
{
	static struct alert a; /* large: not on the stack */
	const struct l7_flow *s = l7_of(df);
	int o = out_of(f), i = o ^ 1;
	size_t len = 0;

	memset(&a, 0, sizeof(a));
	fill_rule(&a, r);
	a.ts_us = now_us;
	a.start_us = out->first_us ? out->first_us : now_us;
	a.end_us = now_us;
	a.family = f->key.family;
	memcpy(a.src, f->key.addr[o], 16);
	memcpy(a.dst, f->key.addr[i], 16);
	if (f->key.proto == 6 || f->key.proto == 17)
		a.dst_port = f->key.port[i];
	const char *name = name_of(d, l7_destination_name(s), &len);
	if (name) {
		size_t n = len < sizeof(a.domain) - 1 ? len : sizeof(a.domain) - 1;
		memcpy(a.domain, name, n);
	}
	if (df->regdom) {
		const char *rd = name_of(d, df->regdom, &len);
		snprintf(a.registered_domain, sizeof(a.registered_domain), "%.*s", (int)len, rd);
	}
	if (df->tenant_name) {
		const char *t = name_of(d, df->tenant_name, &len);
		snprintf(a.tenant, sizeof(a.tenant), "%.*s", (int)len, t);
	}
	snprintf(a.transport, sizeof(a.transport), "%s",
		 f->key.proto == 6 ? "tcp" : f->key.proto == 17 ? "udp" :
		 f->key.proto == 1 ? "icmp" : f->key.proto == 58 ? "ipv6-icmp" : "other");
	if (l7_app_name((enum l7_app)s->app))
		snprintf(a.protocol, sizeof(a.protocol), "%s", l7_app_name((enum l7_app)s->app));
	uint16_t sp = (f->key.proto == 1 || f->key.proto == 58) ? f->key.port[0] :
							       f->key.port[f->init];
	uint16_t dp = (f->key.proto == 1 || f->key.proto == 58) ? f->key.port[1] :
							       f->key.port[f->init ^ 1];
	community_id_v1(0, f->key.family, f->key.addr[f->init], f->key.addr[f->init ^ 1],
			f->key.proto, sp, dp, a.community_id);
	a.bytes_out = out->bytes;
	a.packets_out = out->packets;
	a.flows = out->flows;
	a.bytes_in = in ? in->bytes : f->ip_bytes[i];
	snprintf(a.threshold, sizeof(a.threshold), "bytes_out >= %llu",
		 (unsigned long long)r->bytes_out);
	if (!r->bytes_out && r->packets_out)
		snprintf(a.threshold, sizeof(a.threshold), "packets_out >= %llu",
			 (unsigned long long)r->packets_out);
	else if (!r->bytes_out && r->flows)
		snprintf(a.threshold, sizeof(a.threshold), "flows >= %llu",
			 (unsigned long long)r->flows);
	snprintf(a.key, sizeof(a.key), "%s", keytext);
	a.is_new = is_new;
	a.first_seen_us = df->first_seen[grain_of(r->key)];
	if (df->category)
		snprintf(a.category, sizeof(a.category), "%s",
			 enrich_category_name((enum enrich_category)df->category));
	memcpy(a.country, df->country, sizeof(df->country)); /* a.country[2] stays 0 */
	a.asn = df->asn;
	alert_id(r, keytext, now_us, a.id);

	volume_message(&a, r->name, r->window_s, r->bytes_out);
	d->st.alerts++;
	d->fn(d->ctx, &a);
	pending_add(d, sk, now_us + (uint64_t)(r->suppress_s ? r->suppress_s : 1) * 1000000u,
		    r->bytes_out, &a);
}

static void evaluate(struct detect *d, struct flow *f, struct detect_flow *df, uint64_t now_us)
{
	int o = out_of(f), i = o ^ 1;
	uint64_t dout = f->ip_bytes[o] - df->given_out;
	uint64_t din = f->ip_bytes[i] - df->given_in;
	uint64_t dpk = f->pkts[o] - df->given_pkts;
	uint32_t newflow = df->counted ? 0 : 1;
	bool learn = learning(d, now_us);
	struct flow_texts texts;
	struct flow_match match;

	d->st.evaluations++;
	(void)learning(d, now_us); /* starts the learning period at the first evaluation */
	texts.made = texts.hashed = 0;
	texts.ip[0] = '\0';
	if (!df->enriched)
		enrich_flow(d, f, df, &texts, now_us);
	df->given_out = f->ip_bytes[o];
	df->given_in = f->ip_bytes[i];
	df->given_pkts = f->pkts[o];
	df->counted = 1;
	if (df->allowlisted) {
		if (newflow)
			d->st.allowlisted_flows++;
		return;
	}
	flow_match_init(f, df, &match);
	int nrules = d->nvol < 0 ? d->rules->n : egress_of(f) == 1 ? d->nvol : d->nvol_any;
	const uint16_t *idx = egress_of(f) == 1 ? d->vol : d->vol_any;
	for (int j = 0; j < nrules; j++) {
		int k = d->nvol < 0 ? j : idx[j];
		const struct rule *r = &d->rules->rules[k];
		struct window_sum out, in;
		uint8_t key[WINDOW_KEY_MAX];
		size_t kl = 0;

		if (!r->enabled || r->detector != RULE_VOLUME || !rule_matches(d, r, df, &match))
			continue;
		if (r->key == RULE_KEY_TENANT && !df->tenant_name)
			continue;
		/* key: rule, direction tag, family, source, grain */
		uint16_t ri = (uint16_t)k;
		memcpy(key, &ri, 2);
		key[2] = 'o';
		key[3] = f->key.family;
		memcpy(key + 4, f->key.addr[o], 16);
		kl = 20;
		enum text_kind tk = r->key == RULE_KEY_CATEGORY ? TEXT_CATEGORY :
				    r->key == RULE_KEY_SOURCE ? TEXT_NONE :
				    (enum text_kind)grain_of(r->key);
		uint64_t gh = flow_text_hash(d, f, df, tk, &texts);
		memcpy(key + kl, &gh, 8);
		kl += 8;
		window_add(d->win, key, kl, r->window_s, now_us, dout, (uint32_t)dpk, newflow, &out);
		bool have_in = false;
		if (r->ratio_out_in > 0) {
			key[2] = 'i';
			window_add(d->win, key, kl, r->window_s, now_us, din, 0, 0, &in);
			have_in = true;
		}
		if (r->bytes_out && out.bytes < r->bytes_out)
			continue;
		if (r->packets_out && out.packets < r->packets_out)
			continue;
		if (r->flows && out.flows < r->flows)
			continue;
		if (have_in && in.bytes && (double)out.bytes / (double)in.bytes < r->ratio_out_in)
			continue;
		enum grain g = grain_of(r->key);
		bool is_new = df->newbits & (r->new_site ? NEW_SITE(g) : NEW_HOST(g));
		if (r->new_destination && !is_new)
			continue;
		if (learn && (r->new_destination || d->cfg.learn_only)) {
			d->st.learning_silenced++;
			continue;
		}
		char keytext[400], src[64];
		size_t tl;
		const char *text = flow_text(d, f, df, tk, &texts, &tl);
		detect_ip_text(f->key.family, f->key.addr[o], src);
		snprintf(keytext, sizeof(keytext), "%s %s%s%.*s", rule_key_name(r->key), src,
			 tl ? " " : "", (int)tl, text);
		uint64_t sk = siphash13(&d->hk, key, kl) ^ (uint64_t)k;
		if (!suppress_pass(d, sk, r->suppress_s, now_us)) {
			d->st.suppressed++;
			pending_update(d, sk, &out, have_in ? &in : NULL, now_us);
			continue;
		}
		if (!rate_ok(d, k, f->key.family, f->key.addr[o], now_us)) {
			suppress_hold(d, sk, now_us);
			continue;
		}
		rate_take(d, k, f->key.family, f->key.addr[o], now_us);
		fire_volume(d, r, f, df, &out, have_in ? &in : NULL, keytext, is_new, sk, now_us);
	}
}

static void flow_direction(struct detect *d, struct flow *f)
{
	const struct flow_key *k = &f->key;
	bool a = netset_contains(d->home, k->family, k->addr[0]);
	bool b = netset_contains(d->home, k->family, k->addr[1]);

	if (a != b)
		f->stage = (uint8_t)(1 | (a ? 0 : 1) << 2);
	else /* "any" direction rules: the initiator sends */
		f->stage = (uint8_t)(2 | f->init << 2);
}

/* detect_flow past its common case. The detection state is taken only when there is
 * something to keep: an evaluation, or a checkpoint passed. */
static void __attribute__((noinline)) flow_step(struct detect *d, struct flow *f,
						uint64_t now_us, bool ended)
{
	if (!egress_of(f))
		flow_direction(d, f);
	const struct detect_flow *df = dflow(d, f);
	int o = out_of(f);
	/* a flow whose sender carried no payload (a SYN, a scan probe, a refused
	 * connection) moves no data: it is left out of the windows, which keeps a SYN
	 * flood from churning them */
	bool due = (ended && f->payload_bytes[o] > 0) ||
		   f->ip_bytes[o] - df->given_out >= d->cfg.checkpoint_bytes;
	/* a flow that is not egress, when no rule takes any direction (the default
	 * rules), can match nothing: no enrichment, baseline or window work for it */
	if (due && egress_of(f) != 1 && d->nvol_any == 0 && d->nvol >= 0) {
		(void)learning(d, now_us); /* the learning period starts as it would have */
		dflow_take(d, f)->given_out = f->ip_bytes[o];
	} else if (due) {
		evaluate(d, f, dflow_take(d, f), now_us);
	}
	if (ended && f->ext) {
		struct detect_flow *w = dflow_take(d, f);
		names_unref(d->names, w->regdom);
		names_unref(d->names, w->tenant_name);
		w->regdom = w->tenant_name = 0;
	}
}

void detect_flow(struct detect *d, struct flow *f, uint64_t now_us, bool ended)
{
	/* most calls are a packet of a known flow short of its next checkpoint: done */
	if (egress_of(f) && !ended &&
	    f->ip_bytes[out_of(f)] - dflow(d, f)->given_out < d->cfg.checkpoint_bytes)
		return;
	flow_step(d, f, now_us, ended);
}

bool detect_flow_new_destination(const struct detect *d, const struct flow *f)
{
	const struct detect_flow *df = dflow(d, f);
	return df->enriched && (df->newbits & NEW_SITE(GRAIN_DEST));
}

int detect_flow_egress_side(const struct flow *f)
{
	return egress_of(f) == 1 ? out_of(f) : egress_of(f) == 2 ? -1 : -2;
}

void detect_flow_restart(struct detect *d, struct flow *f, uint64_t now_us)
{
	if (!egress_of(f))
		detect_flow(d, f, now_us, false);
	struct detect_flow *df = dflow_take(d, f);
	evaluate(d, f, df, now_us);
	df->given_out = df->given_in = df->given_pkts = 0; /* the counters start again */
}

/* ---- tunnels ---- */

static void fire_tunnel(struct detect *d, const struct rule *r, int family, const uint8_t *src,
			const uint8_t *dst, const char *keytext, const char *domain,
			const struct tunnel_dns_sum *ds, const struct tunnel_icmp_sum *is,
			uint64_t now_us)
{
	static struct alert a;
	char s[64], win[16];

	memset(&a, 0, sizeof(a));
	fill_rule(&a, r);
	a.ts_us = now_us;
	a.end_us = now_us;
	a.family = (uint8_t)family;
	memcpy(a.src, src, 16);
	if (dst)
		memcpy(a.dst, dst, 16);
	snprintf(a.key, sizeof(a.key), "%s", keytext);
	alert_id(r, keytext, now_us, a.id);
	detect_ip_text(family, src, s);
	alert_fmt_duration(r->window_s, win, sizeof(win));
	if (ds) {
		a.start_us = ds->first_us;
		snprintf(a.domain, sizeof(a.domain), "%s", domain);
		snprintf(a.registered_domain, sizeof(a.registered_domain), "%s", domain);
		snprintf(a.transport, sizeof(a.transport), "udp");
		snprintf(a.protocol, sizeof(a.protocol), "dns");
		a.dns_queries = ds->queries;
		a.dns_unique_names = ds->unique_names;
		a.dns_name_bytes = ds->name_bytes;
		a.dns_max_label = ds->max_label_length;
		a.dns_mean_entropy = ds->mean_entropy;
		a.dns_txt_null_share = ds->txt_null_share;
		a.bytes_out = ds->name_bytes;
		a.packets_out = ds->queries;
		snprintf(a.threshold, sizeof(a.threshold), "dns_tunnel measures");
		snprintf(a.message, sizeof(a.message),
			 "%s sent %llu DNS queries with %llu distinct names (%llu bytes in names, "
			 "entropy %.1f bits/char) under %s within %s: %s",
			 s, (unsigned long long)ds->queries, (unsigned long long)ds->unique_names,
			 (unsigned long long)ds->name_bytes, ds->mean_entropy, domain, win, r->name);
	} else {
		char dt[64];
		a.start_us = is->first_us;
		snprintf(a.transport, sizeof(a.transport), family == 4 ? "icmp" : "ipv6-icmp");
		a.icmp_payload_bytes = is->payload_bytes;
		a.icmp_large = is->large_payloads;
		a.icmp_distinct = is->distinct_payloads;
		a.bytes_out = is->payload_bytes;
		a.packets_out = is->packets;
		snprintf(a.threshold, sizeof(a.threshold), "icmp_tunnel measures");
		detect_ip_text(family, dst, dt);
		snprintf(a.message, sizeof(a.message),
			 "%s sent %llu bytes of ICMP echo payload in %llu packets (%llu large, %llu "
			 "changing) to %s within %s: %s",
			 s, (unsigned long long)is->payload_bytes, (unsigned long long)is->packets,
			 (unsigned long long)is->large_payloads,
			 (unsigned long long)is->distinct_payloads, dt, win, r->name);
	}
	d->st.alerts++;
	d->fn(d->ctx, &a);
}

void detect_dns_query(struct detect *d, int family, const uint8_t src[16], const char *qname,
		      size_t qlen, uint16_t qtype, uint64_t now_us)
{
	struct enrich_result er;
	uint32_t done_w[DETECT_MAX_DNS_WINDOWS];
	struct tunnel_dns_sum done_s[DETECT_MAX_DNS_WINDOWS];
	int ndone = 0;

	if (!netset_contains(d->home, family, src))
		return;
	enrich_destination(d->enrich, 0, src, qname, qlen, &er);
	if (!er.registered_domain[0] || er.allowlisted)
		return;
	bool learn = d->cfg.learn_only;
	size_t rl = strlen(er.registered_domain);
	int nrules = d->nvol < 0 ? d->rules->n : d->ndns;
	for (int j = 0; j < nrules; j++) {
		int k = d->nvol < 0 ? j : d->dns[j];
		const struct rule *r = &d->rules->rules[k];
		struct tunnel_dns_sum sum;
		int w;
		if (!r->enabled || r->detector != RULE_DNS_TUNNEL)
			continue;
		for (w = 0; w < ndone && done_w[w] != r->window_s; w++)
			;
		if (w < ndone) {
			sum = done_s[w];
		} else {
			if (!tunnel_dns_query(d->tun, family, src, er.registered_domain, rl, qname, qlen,
					      qtype, r->window_s, now_us, &sum))
				continue;
			if (ndone < DETECT_MAX_DNS_WINDOWS) {
				done_w[ndone] = r->window_s;
				done_s[ndone++] = sum;
			}
		}
		if ((r->queries && sum.queries < r->queries) ||
		    (r->unique_names && sum.unique_names < r->unique_names) ||
		    (r->name_bytes && sum.name_bytes < r->name_bytes) ||
		    (r->max_label_length && sum.max_label_length < r->max_label_length) ||
		    (r->mean_entropy > 0 && sum.mean_entropy < r->mean_entropy) ||
		    (r->txt_null_share > 0 && sum.txt_null_share < r->txt_null_share))
			continue;
		if (learn) {
			d->st.learning_silenced++;
			continue;
		}
		char keytext[400], s[64];
		detect_ip_text(family, src, s);
		snprintf(keytext, sizeof(keytext), "registered_domain %s %s", s, er.registered_domain);
		uint64_t sk = siphash13(&d->hk, keytext, strlen(keytext)) ^ (uint64_t)k;
		if (!suppress_pass(d, sk, r->suppress_s, now_us)) {
			d->st.suppressed++;
			continue;
		}
		if (!rate_ok(d, k, family, src, now_us)) {
			suppress_hold(d, sk, now_us);
			continue;
		}
		rate_take(d, k, family, src, now_us);
		fire_tunnel(d, r, family, src, NULL, keytext, er.registered_domain, &sum, NULL, now_us);
	}
}

void detect_icmp_echo(struct detect *d, int family, const uint8_t src[16],
		      const uint8_t dst[16], const uint8_t *payload, size_t caplen,
		      uint32_t payload_len, uint64_t now_us)
{
	if (!netset_contains(d->home, family, src) || netset_contains(d->home, family, dst))
		return;
	struct enrich_result er;
	enrich_destination(d->enrich, family, dst, NULL, 0, &er);
	if (er.allowlisted)
		return;
	bool learn = d->cfg.learn_only;
	for (int k = 0; k < d->rules->n; k++) {
		const struct rule *r = &d->rules->rules[k];
		struct tunnel_icmp_sum sum;
		if (!r->enabled || r->detector != RULE_ICMP_TUNNEL)
			continue;
		if (!tunnel_icmp_echo(d->tun, family, src, dst, payload, caplen, payload_len,
				      r->window_s, now_us, &sum))
			continue;
		if ((r->payload_bytes && sum.payload_bytes < r->payload_bytes) ||
		    (r->large_payloads && sum.large_payloads < r->large_payloads) ||
		    (r->distinct_payloads && sum.distinct_payloads < r->distinct_payloads))
			continue;
		if (learn) {
			d->st.learning_silenced++;
			continue;
		}
		char keytext[400], s[64], t[64];
		detect_ip_text(family, src, s);
		detect_ip_text(family, dst, t);
		snprintf(keytext, sizeof(keytext), "destination %s %s", s, t);
		uint64_t sk = siphash13(&d->hk, keytext, strlen(keytext)) ^ (uint64_t)k;
		if (!suppress_pass(d, sk, r->suppress_s, now_us)) {
			d->st.suppressed++;
			continue;
		}
		if (!rate_ok(d, k, family, src, now_us)) {
			suppress_hold(d, sk, now_us);
			continue;
		}
		rate_take(d, k, family, src, now_us);
		fire_tunnel(d, r, family, src, dst, keytext, NULL, NULL, &sum, now_us);
	}
}
