/* enrich.h: what egressd knows about a destination beyond its address: registered
 * domain, category (cloud storage, paste, code repository, webhook, file drop, tunnel
 * service), cloud tenant and whether it is one of the organisation's own, allowlisting,
 * country and AS. Built once from the configuration; read-only afterwards.
 */
#ifndef EGRESSD_ENRICH_H
#define EGRESSD_ENRICH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "config.h"
#include "enrich-domain.h"
#include "enrich-geoip.h"

struct enrich_result {
	char registered_domain[ENRICH_NAME_MAX + 1]; /* "" if none */
	enum enrich_category category;
	bool has_tenant;
	bool own_tenant; /* the tenant is on cloud.own_tenants */
	struct enrich_tenant tenant;
	bool allowlisted; /* the name or the address is on the allowlist */
	bool has_geo;
	struct geoip_result geo;
};

struct enrich;

/* Build from cfg: the category lists in cfg->lists, allowlist domains, own tenants,
 * GeoIP databases. Every problem is reported, one per line, naming the configuration
 * file, line and column of the value; returns NULL if there was any. */
struct enrich *enrich_create(const struct config *cfg, char *err, size_t errlen);
void enrich_destroy(struct enrich *e);

/* Enrich a destination: its address and, if known, its name (len 0: none). */
void enrich_destination(const struct enrich *e, int family, const uint8_t addr[16],
			const char *name, size_t len, struct enrich_result *out);

/* A warning from building (the built-in public suffix list was used), or NULL. */
const char *enrich_warning(const struct enrich *e);

/* Where the category lists were read from (for messages and --stats). */
const char *enrich_lists_dir(const struct enrich *e);

#endif
