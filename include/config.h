/* config.h: sensor.yaml: what a user writes to set up egressd, read with libyaml (the
 * only module that sees <yaml.h>). Every problem is reported as "file:line:col: message",
 * all of them, not only the first.
 *
 * The struct is plain values; main.c hands each stage its part.
 */
#ifndef EGRESSD_CONFIG_H
#define EGRESSD_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "netset.h"
#include "sink-spec.h"

#define CONFIG_MAX_OUTPUTS 8
#define CONFIG_MAX_FILE_SIZE (1024 * 1024)
#define CONFIG_MAX_DEPTH 16

#define CONFIG_MAX_ITEMS 1024

/* A value as written, with where it was written, for messages that name the place
 * (the stage that understands the value checks it). line 0: not from a file. */
struct config_item {
	char text[256];
	uint32_t line, col;
};

struct config_items {
	int n;
	struct config_item v[CONFIG_MAX_ITEMS];
};

struct config {
	char path[512]; /* the file loaded, "" for built-in defaults */
	char sensor_name[64];
	struct netset home_net;
	/* flows */
	uint32_t max_flows;
	uint32_t tcp_timeout_s, tcp_closed_timeout_s, udp_timeout_s, icmp_timeout_s,
		other_timeout_s, active_timeout_s;
	uint32_t fragments, fragment_timeout_s;
	/* l7 */
	uint32_t reassembly_buffers, reassembly_buffer_size;
	uint32_t names, dns_cache, dns_min_ttl_s, dns_max_ttl_s;
	/* enrichment */
	struct config_items allow_domains;
	struct netset allow_cidrs;
	struct config_items own_tenants;
	struct config_item geoip_country, geoip_asn; /* text "" = none */
	struct config_item lists;		     /* category lists directory */
	/* detection */
	uint32_t learning_period_s;
	struct config_item baseline_path;
	uint32_t baseline_new_for_s, baseline_expire_s, baseline_max, baseline_save_s;
	struct config_items rules; /* file patterns; none: the default packs */
	uint32_t windows_max, tunnels_max, checkpoint_bytes;
	uint32_t rule_alerts_per_minute, source_alerts_per_minute;
	/* live capture */
	struct config_item capture_interface, capture_filter;
	uint32_t snaplen, promisc, buffer_bytes, capture_timeout_ms;
	uint32_t health_interval_s, health_loss_percent, health_idle_s;
	/* outputs: standard output, files, Redis streams */
	int noutputs;
	struct sink_spec outputs[CONFIG_MAX_OUTPUTS];
};

void config_defaults(struct config *c);

/* Load path over the defaults already in c. Returns the number of problems (0 = ok);
 * each is one line "path:line:col: message\n" appended to err. */
int config_load(struct config *c, const char *path, char *err, size_t errlen);

/* "30s", "10m", "24h", "7d", "250ms" -> milliseconds. false if malformed. */
bool config_parse_duration_ms(const char *s, uint64_t *ms);
/* "500KB", "50MB", "2GB" (powers of 1000), "64KiB", "1MiB", "1GiB", "123" -> bytes. */
bool config_parse_size(const char *s, uint64_t *bytes);

#endif
