/* detect-rules.h: detection rules as users write them, in YAML rule files (docs/rules.md),
 * loaded and checked by sensor/config-rules.c and read by the detection engine.
 *
 * A rule is plain values: which flows it looks at (match), what must hold over a sliding
 * window of packet time for it to fire (condition), and how often it may fire (suppress).
 * In match, a constraint left out (0, an empty mask, n = 0, a NULL set) does not
 * constrain; every constraint given must hold. In condition, a threshold of 0 is not
 * used; every threshold given must hold (value over the window >= threshold).
 *
 * Loading reports every problem as one line "file:line:col: message\n" (lines and columns
 * 1-based) and returns how many there were, as config_load does; a rule with a problem
 * is not added, and a caller that gets a non-zero count should not run with the rules.
 */
#ifndef EGRESSD_DETECT_RULES_H
#define EGRESSD_DETECT_RULES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "enrich-domain.h"

#define RULES_MAX_FILE_SIZE (1024 * 1024) /* bytes in one rule file */
#define RULES_MAX_DEPTH	    16		  /* nesting of mappings and lists in a file */
#define RULES_MAX_RULES	    4096	  /* rules in all loaded files together */

#define RULE_ID_MAX	     64	  /* [a-z0-9._-] */
#define RULE_RULESET_MAX     64	  /* [A-Za-z0-9._-] */
#define RULE_NAME_MAX	     200  /* bytes */
#define RULE_DESCRIPTION_MAX 2000 /* bytes */
#define RULE_FILE_MAX	     255  /* bytes in a rule file's path */
#define RULE_MAX_PORTS	     64	  /* entries in ports, and in not_ports */
#define RULE_MAX_COUNTRIES   64	  /* entries in countries, and in not_countries */
#define RULE_MAX_ASNS	     64
#define RULE_MAX_DOMAINS     1024 /* entries written in domains, and in not_domains */
#define RULE_MAX_DOMAIN_LISTS 16  /* files in domain_lists */

#define RULE_WINDOW_MIN_S   1u
#define RULE_WINDOW_MAX_S   86400u
#define RULE_SUPPRESS_MAX_S (7u * 86400u)
#define RULE_SUPPRESS_DEFAULT_S 3600u

enum rule_detector {
	RULE_VOLUME,	  /* egress volume per source and key */
	RULE_DNS_TUNNEL,  /* DNS queries per source and registered domain */
	RULE_ICMP_TUNNEL, /* ICMP echo payloads per source and destination */
};

enum rule_key {
	RULE_KEY_SOURCE,	    /* everything the source sends */
	RULE_KEY_DESTINATION,	    /* per destination: its name, else its address */
	RULE_KEY_REGISTERED_DOMAIN, /* per registered domain of the destination's name */
	RULE_KEY_CATEGORY,	    /* per category of the destination */
	RULE_KEY_TENANT,	    /* per cloud storage tenant */
};

enum rule_severity {
	RULE_SEVERITY_LOW = 1,
	RULE_SEVERITY_MEDIUM = 2,
	RULE_SEVERITY_HIGH = 3,
};

enum rule_tenant {
	RULE_TENANT_ANY = 0,
	RULE_TENANT_FOREIGN, /* a cloud storage tenant that is not one of cloud.own_tenants */
	RULE_TENANT_OWN,     /* one of cloud.own_tenants */
};

/* match.transport */
#define RULE_TRANSPORT_TCP  (1u << 0)
#define RULE_TRANSPORT_UDP  (1u << 1)
#define RULE_TRANSPORT_ICMP (1u << 2) /* ICMP or ICMPv6 */

/* match.apps, in the order of the names: tls http quic dns ssh ftp ftp-data smtp none */
#define RULE_APP_TLS	  (1u << 0)
#define RULE_APP_HTTP	  (1u << 1)
#define RULE_APP_QUIC	  (1u << 2)
#define RULE_APP_DNS	  (1u << 3)
#define RULE_APP_SSH	  (1u << 4)
#define RULE_APP_FTP	  (1u << 5)
#define RULE_APP_FTP_DATA (1u << 6)
#define RULE_APP_SMTP	  (1u << 7)
#define RULE_APP_NONE	  (1u << 8) /* no application recognised */
#define RULE_APP__COUNT	  9

struct rule_port_range {
	uint16_t lo, hi; /* 1 .. 65535, lo <= hi */
};

struct rule {
	char id[RULE_ID_MAX + 1];
	char name[RULE_NAME_MAX + 1];
	char *description; /* NULL when not given */
	char ruleset[RULE_RULESET_MAX + 1];
	char technique[6];     /* "T1567" */
	char subtechnique[10]; /* "T1567.002", "" when not given */
	uint8_t severity;      /* enum rule_severity */
	bool enabled;

	/* match (volume rules only: the tunnel detectors see every DNS query, or ICMP echo
	 * request, that a home_net host sends out, and their rules take no match) */
	bool any_direction; /* false: outbound flows only */
	uint8_t transports; /* RULE_TRANSPORT_* */
	int nports, nnot_ports;
	struct rule_port_range ports[RULE_MAX_PORTS];	  /* the far end's port */
	struct rule_port_range not_ports[RULE_MAX_PORTS];
	uint32_t apps;		      /* RULE_APP_* */
	uint32_t categories;	      /* 1u << enum enrich_category (ENRICH_CAT_NONE: none) */
	struct domain_set *domains;   /* domains and the domain_lists files; NULL: any */
	struct domain_set *not_domains; /* NULL: none excluded */
	int ncountries, nnot_countries;
	char countries[RULE_MAX_COUNTRIES][3]; /* "CN" */
	char not_countries[RULE_MAX_COUNTRIES][3];
	int nasns;
	uint32_t asns[RULE_MAX_ASNS];
	uint8_t tenant; /* enum rule_tenant */

	/* condition; thresholds at 0 are not used */
	enum rule_detector detector;
	enum rule_key key;
	uint32_t window_s;
	/* volume */
	uint64_t bytes_out, packets_out, flows;
	double ratio_out_in;  /* bytes out / bytes in (in = 0: infinite) */
	/* volume only: the destination was first seen less than baseline.new_for ago, at the
	 * key's grain (registered domain, tenant; for the other keys the destination's
	 * name, else its address) */
	bool new_destination;
	bool new_site; /* ... by the whole site (new_scope: site), not by this source */
	/* dns_tunnel, per source and registered domain */
	uint32_t queries, unique_names, max_label_length; /* unique_names <= 256 */
	uint64_t name_bytes;
	double mean_entropy;   /* bits per character of the leftmost labels, (0, 8] */
	double txt_null_share; /* (0, 1] */
	/* icmp_tunnel, per source and destination */
	uint64_t payload_bytes;
	uint32_t large_payloads, distinct_payloads;

	uint32_t suppress_s; /* one alert per rule and key per this many seconds */

	/* where the rule is written: its file and the position of its id's value */
	char file[RULE_FILE_MAX + 1];
	uint32_t line, col;
};

struct ruleset_list {
	int n;
	struct rule *rules;
};

/* Load rule files, appending their rules to out (which starts zeroed, or holds rules
 * from earlier calls: ids must be unique across all of them). Returns the number of
 * problems; each is one line "path:line:col: message\n" in err, which is cleared first.
 * Problems in a domain_lists file are reported by that file's loader as
 * "listpath:line: message\n". */
int rules_load_files(struct ruleset_list *out, char *const *paths, int npaths, char *err,
		     size_t errlen);

/* The same for every file glob(3) finds for pattern, in glob's sorted order (the .yaml
 * files of a directory: "DIR" "/" "*.yaml"); a pattern that matches nothing is a
 * problem ("pattern:1:1: message"). */
int rules_load_glob(struct ruleset_list *out, const char *pattern, char *err, size_t errlen);

void rules_free(struct ruleset_list *l);

/* A flow's far-end port (for an outbound flow, the outside host's; for others, the
 * responder's) passes match.ports (when given: inside one of the ranges) and
 * match.not_ports (when given: inside none). Port 0, a flow without ports (ICMP),
 * passes only when ports is not given. */
bool rule_port_matches(const struct rule *r, uint16_t port);

/* The RULE_APP_* bit of an application as egressd names it (l7_app_name: "tls", "http",
 * ...), RULE_APP_NONE for NULL or "" (no application), 0 for an unknown name. */
uint32_t rule_app_bit(const char *name);

/* "volume", "dns_tunnel", "icmp_tunnel"; "source", "destination", "registered_domain",
 * "category", "tenant"; "low", "medium", "high". "unknown" out of range. */
const char *rule_detector_name(enum rule_detector d);
const char *rule_key_name(enum rule_key k);
const char *rule_severity_name(uint8_t severity);

#endif
