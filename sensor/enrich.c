/* enrich.c: destination enrichment (see enrich.h): one context over the public suffix
 * list, the category lists, the allowlist, the organisation's own cloud tenants and the
 * GeoIP databases. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "enrich.h"
#include "siphash.h"

/* What a name alone decides (registered domain, category, cloud tenant, allowlist),
 * remembered per name: the same names come back in flow after flow and DNS query after
 * query, and the Public Suffix List and the category lists cost far more than a lookup
 * here. Set-associative, the least recently used way replaced, so that a working set
 * of a few thousand names does not evict itself the way a direct-mapped cache does. A
 * way holds the name itself, so a hit is exact, and the result in compact form: the
 * registered domain is always a suffix of the lower-cased name (libpsl returns a
 * pointer into the name it is given), so its length is enough; a tenant (rare) is
 * parsed again from the name on a hit. 16384 ways of 272 bytes: 4.3 MiB. */
#define NAME_CACHE_SETS 4096
#define NAME_CACHE_WAYS 4

#define NC_TENANT 0x01
#define NC_OWN_TENANT 0x02
#define NC_ALLOWLISTED 0x04

struct name_cache_way {
	uint16_t len;
	uint8_t regdom_len; /* 0: none */
	uint8_t category;
	uint8_t flags; /* NC_* */
	char name[ENRICH_NAME_MAX];
};

struct name_cache_set {
	uint64_t hash[NAME_CACHE_WAYS];
	uint32_t used[NAME_CACHE_WAYS]; /* recency stamp; 0: empty */
	struct name_cache_way way[NAME_CACHE_WAYS];
};

struct name_cache {
	struct khash_key key;
	uint32_t clock;
	struct name_cache_set set[NAME_CACHE_SETS];
};

#define ENRICH_PER_CATEGORY 65536

struct enrich {
	struct enrich_psl *psl;
	struct enrich_categories cats;
	bool cats_ok;
	struct domain_set *allow;
	struct netset allow_cidrs;
	struct tenant_set *own;
	struct geoip *geo;
	char lists_dir[256];
	char warning[640];
	struct name_cache *cache; /* NULL: no cache (out of memory) */
};

__attribute__((format(printf, 5, 6)))
static void problem(char *err, size_t errlen, const struct config *cfg,
		    const struct config_item *it, const char *fmt, ...)
{
	size_t used = strlen(err);
	if (used + 2 >= errlen)
		return;
	if (cfg->path[0] && it && it->line)
		snprintf(err + used, errlen - used, "%s:%u:%u: ", cfg->path, it->line, it->col);
	used = strlen(err);
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(err + used, errlen - used, fmt, ap);
	va_end(ap);
	used = strlen(err);
	if (used + 1 < errlen) {
		err[used] = '\n';
		err[used + 1] = '\0';
	}
}

struct enrich *enrich_create(const struct config *cfg, char *err, size_t errlen)
{
	struct enrich *e = calloc(1, sizeof(*e));
	char msg[512];
	size_t start = strlen(err);

	if (!e) {
		snprintf(err + start, errlen - start, "out of memory\n");
		return NULL;
	}
	/* calloc'd: pages are touched as slots fill; the cache is an optimisation only */
	e->cache = calloc(1, sizeof(*e->cache));
	if (e->cache)
		khash_key_random(&e->cache->key);
	msg[0] = '\0';
	e->psl = enrich_psl_open(msg, sizeof(msg));
	if (!e->psl)
		problem(err, errlen, cfg, NULL, "public suffix list: %s", msg);
	else if (msg[0]) /* fell back to libpsl's built-in list */
		snprintf(e->warning, sizeof(e->warning), "public suffix list: %s", msg);

	snprintf(e->lists_dir, sizeof(e->lists_dir), "%s", cfg->lists.text);
	e->cats_ok = enrich_categories_init(&e->cats, ENRICH_PER_CATEGORY);
	if (!e->cats_ok) {
		problem(err, errlen, cfg, NULL, "out of memory for the category lists");
	} else if (cfg->lists.text[0]) {
		size_t used = strlen(err);
		if (enrich_categories_load_dir(&e->cats, cfg->lists.text, err + used,
					       errlen - used) > 0 &&
		    cfg->lists.line) {
			problem(err, errlen, cfg, &cfg->lists, "lists: the category lists in %s have "
				"problems (above)", cfg->lists.text);
		}
	}

	e->allow = domain_set_create(cfg->allow_domains.n > 0 ? (uint32_t)cfg->allow_domains.n : 1);
	if (!e->allow)
		problem(err, errlen, cfg, NULL, "out of memory for the allowlist");
	for (int i = 0; e->allow && i < cfg->allow_domains.n; i++) {
		const struct config_item *it = &cfg->allow_domains.v[i];
		if (domain_set_add(e->allow, it->text, msg, sizeof(msg)) < 0)
			problem(err, errlen, cfg, it, "allowlist.domains: %s", msg);
	}
	e->allow_cidrs = cfg->allow_cidrs;

	e->own = tenant_set_create(cfg->own_tenants.n > 0 ? (uint32_t)cfg->own_tenants.n : 1);
	if (!e->own)
		problem(err, errlen, cfg, NULL, "out of memory for cloud.own_tenants");
	for (int i = 0; e->own && i < cfg->own_tenants.n; i++) {
		const struct config_item *it = &cfg->own_tenants.v[i];
		struct enrich_tenant t;
		if (!enrich_tenant_parse_config(it->text, &t, msg, sizeof(msg)) ||
		    tenant_set_add(e->own, &t, msg, sizeof(msg)) < 0)
			problem(err, errlen, cfg, it, "cloud.own_tenants: %s", msg);
	}

	if (cfg->geoip_country.text[0] || cfg->geoip_asn.text[0]) {
		e->geo = geoip_open(cfg->geoip_country.text[0] ? cfg->geoip_country.text : NULL,
				    cfg->geoip_asn.text[0] ? cfg->geoip_asn.text : NULL, msg,
				    sizeof(msg));
		if (!e->geo) {
			const struct config_item *it = cfg->geoip_country.text[0] &&
							       strstr(msg, cfg->geoip_country.text) ?
							       &cfg->geoip_country : &cfg->geoip_asn;
			problem(err, errlen, cfg, it, "geoip: %s", msg);
		}
	}
	if (strlen(err) > start) {
		enrich_destroy(e);
		return NULL;
	}
	return e;
}

void enrich_destroy(struct enrich *e)
{
	if (!e)
		return;
	free(e->cache);
	enrich_psl_close(e->psl);
	if (e->cats_ok)
		enrich_categories_free(&e->cats);
	domain_set_destroy(e->allow);
	tenant_set_destroy(e->own);
	geoip_close(e->geo);
	free(e);
}

const char *enrich_warning(const struct enrich *e)
{
	return e->warning[0] ? e->warning : NULL;
}

const char *enrich_lists_dir(const struct enrich *e)
{
	return e->lists_dir;
}

static void by_name(const struct enrich *e, const char *name, size_t len,
		    struct enrich_result *out)
{
	if (!enrich_registered_domain(e->psl, name, len, out->registered_domain,
				      sizeof(out->registered_domain)))
		out->registered_domain[0] = '\0';
	out->category = enrich_category_of(&e->cats, name, len, NULL);
	out->has_tenant = enrich_cloud_tenant(name, len, &out->tenant);
	if (out->has_tenant)
		out->own_tenant = tenant_set_contains(e->own, &out->tenant);
	/* a provider on the allowlist does not cover its tenants: T1537 compares
	 * tenants, so only the own-tenant list clears a tenant */
	if (domain_set_match(e->allow, name, len) && (!out->has_tenant || out->own_tenant))
		out->allowlisted = true;
}

/* The registered domain as the lower-cased suffix of the name (see name_cache). */
static void regdom_from_name(const char *name, size_t len, size_t rl, char *out)
{
	if (len && name[len - 1] == '.')
		len--;
	for (size_t i = 0; i < rl; i++) {
		char c = name[len - rl + i];
		out[i] = (char)(c >= 'A' && c <= 'Z' ? c + ('a' - 'A') : c);
	}
	out[rl] = '\0';
}

static void name_cache_store(struct name_cache_way *w, const char *name, size_t len,
			     const struct enrich_result *r)
{
	size_t rl = strlen(r->registered_domain);
	char check[ENRICH_NAME_MAX + 1];

	w->len = (uint16_t)len;
	memcpy(w->name, name, len);
	w->category = (uint8_t)r->category;
	w->flags = (uint8_t)((r->has_tenant ? NC_TENANT : 0) | (r->own_tenant ? NC_OWN_TENANT : 0) |
			     (r->allowlisted ? NC_ALLOWLISTED : 0));
	w->regdom_len = 0;
	if (rl && rl <= len && rl <= UINT8_MAX) {
		regdom_from_name(name, len, rl, check);
		if (memcmp(check, r->registered_domain, rl + 1) == 0)
			w->regdom_len = (uint8_t)rl;
		else
			w->len = 0; /* not a suffix after all: do not cache */
	}
}

static void name_cache_load(const struct name_cache_way *w, struct enrich_result *out)
{
	if (w->regdom_len)
		regdom_from_name(w->name, w->len, w->regdom_len, out->registered_domain);
	out->category = (enum enrich_category)w->category;
	if (w->flags & NC_TENANT) {
		out->has_tenant = enrich_cloud_tenant(w->name, w->len, &out->tenant);
		out->own_tenant = (w->flags & NC_OWN_TENANT) != 0;
	}
	out->allowlisted = (w->flags & NC_ALLOWLISTED) != 0;
}

void enrich_destination(const struct enrich *e, int family, const uint8_t addr[16],
			const char *name, size_t len, struct enrich_result *out)
{
	memset(out, 0, sizeof(*out));
	if (len && len <= ENRICH_NAME_MAX && e->cache) {
		struct name_cache *nc = e->cache;
		uint64_t h = khash(&nc->key, name, len);
		struct name_cache_set *set = &nc->set[h & (NAME_CACHE_SETS - 1)];
		int hit = -1, victim = 0;
		for (int i = 0; i < NAME_CACHE_WAYS; i++) {
			if (set->used[i] && set->hash[i] == h && set->way[i].len == len &&
			    memcmp(set->way[i].name, name, len) == 0) {
				hit = i;
				break;
			}
			if (set->used[i] < set->used[victim])
				victim = i; /* an empty way (0) or the least recently used */
		}
		if (hit >= 0) {
			name_cache_load(&set->way[hit], out);
		} else {
			by_name(e, name, len, out);
			hit = victim;
			set->hash[hit] = h;
			name_cache_store(&set->way[hit], name, len, out);
		}
		/* the stamp wraps after 2^32 lookups: the order is then briefly wrong, which
		 * only costs a miss */
		if (++nc->clock == 0)
			nc->clock = 1;
		set->used[hit] = set->way[hit].len ? nc->clock : 0;
	} else if (len) {
		by_name(e, name, len, out);
	}
	if (netset_contains(&e->allow_cidrs, family, addr))
		out->allowlisted = true;
	if (e->geo)
		out->has_geo = geoip_lookup(e->geo, family, addr, &out->geo);
}
