/* config-rules.c: rule files (docs/rules.md) read with libyaml into struct rule. Like
 * config.c, libyaml builds the document and we walk it, checking every key; every
 * problem is reported as "file:line:col: message", all of them.
 *
 * A file is read twice: once as events, to refuse aliases (a document with aliases is a
 * graph, not a tree, and walking it could take exponential time), nesting deeper than
 * RULES_MAX_DEPTH, a second document and NUL characters in scalars before anything is
 * built; then as a document, which is walked. Each mapping's keys are first collected by
 * name (unknown and duplicate keys reported), then read in a fixed order, so that a key
 * may depend on another written after it (subtechnique on technique, measures on the
 * detector).
 */
#include <errno.h>
#include <glob.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <yaml.h>

#include "config.h"
#include "detect-rules.h"
#include "detect-tunnel.h"
#include "enrich-domain.h"

#define RULES_PATH_MAX 4096

/* The id of a rule that had a problem: not added, but still taken by it. */
struct seen_id {
	char id[RULE_ID_MAX + 1];
	char file[RULE_FILE_MAX + 1];
	uint32_t line, col;
};

struct loader {
	const char *path; /* the file being read */
	yaml_document_t *doc;
	char *err;
	size_t errlen;
	int problems;
	struct ruleset_list *out;
	struct seen_id *seen;
	int nseen, capseen;
	int nrules;	/* rules in all: out->n at the start plus those read since */
	bool too_many;
	char ruleset[RULE_RULESET_MAX + 1];
};

/* ---- Reporting ------------------------------------------------------------------ */

__attribute__((format(printf, 5, 0)))
static void vproblem(struct loader *L, const char *path, size_t line, size_t col,
		     const char *fmt, va_list ap)
{
	L->problems++;
	if (!L->errlen)
		return;
	size_t used = strlen(L->err);
	if (used + 2 >= L->errlen)
		return;
	int k = snprintf(L->err + used, L->errlen - used, "%s:%zu:%zu: ", path, line, col);
	if (k < 0 || (size_t)k >= L->errlen - used)
		return;
	used += (size_t)k;
	vsnprintf(L->err + used, L->errlen - used, fmt, ap);
	used = strlen(L->err);
	if (used + 1 < L->errlen) {
		L->err[used] = '\n';
		L->err[used + 1] = '\0';
	}
}

__attribute__((format(printf, 3, 4)))
static void problem(struct loader *L, const yaml_node_t *n, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vproblem(L, L->path, n ? n->start_mark.line + 1 : 1, n ? n->start_mark.column + 1 : 1,
		 fmt, ap);
	va_end(ap);
}

__attribute__((format(printf, 3, 4)))
static void problem_mark(struct loader *L, yaml_mark_t m, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vproblem(L, L->path, m.line + 1, m.column + 1, fmt, ap);
	va_end(ap);
}

__attribute__((format(printf, 3, 4)))
static void problem_file(struct loader *L, const char *path, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vproblem(L, path, 1, 1, fmt, ap);
	va_end(ap);
}

/* ---- Values ----------------------------------------------------------------------- */

static yaml_node_t *node(struct loader *L, int idx)
{
	return yaml_document_get_node(L->doc, idx);
}

static bool is_null(const yaml_node_t *v)
{
	if (!v || v->type != YAML_SCALAR_NODE)
		return !v;
	if (v->data.scalar.style != YAML_PLAIN_SCALAR_STYLE)
		return false;
	const char *s = (const char *)v->data.scalar.value;
	return !*s || !strcmp(s, "~") || !strcmp(s, "null") || !strcmp(s, "Null") ||
	       !strcmp(s, "NULL");
}

/* The text of a single value, or NULL (reported) for a list, a mapping or nothing. */
static const char *text(struct loader *L, const yaml_node_t *v, const char *key)
{
	if (is_null(v)) {
		problem(L, v, "%s: has no value", key);
		return NULL;
	}
	if (v->type != YAML_SCALAR_NODE) {
		problem(L, v, "%s: expected a single value, not a %s", key,
			v->type == YAML_SEQUENCE_NODE ? "list" : "mapping");
		return NULL;
	}
	return (const char *)v->data.scalar.value;
}

static bool all_digits(const char *s)
{
	if (!*s)
		return false;
	for (; *s; s++)
		if (*s < '0' || *s > '9')
			return false;
	return true;
}

static bool get_uint(struct loader *L, const yaml_node_t *v, const char *key, uint64_t min,
		     uint64_t max, uint64_t *out)
{
	const char *s = text(L, v, key);
	if (!s)
		return false;
	errno = 0;
	unsigned long long x = all_digits(s) ? strtoull(s, NULL, 10) : 0;
	if (!all_digits(s) || errno) {
		problem(L, v, "%s: '%s' is not a whole number", key, s);
		return false;
	}
	if (x < min || x > max) {
		problem(L, v, "%s: %llu is out of range (%llu to %llu)", key, x,
			(unsigned long long)min, (unsigned long long)max);
		return false;
	}
	*out = x;
	return true;
}

static bool get_size(struct loader *L, const yaml_node_t *v, const char *key, uint64_t *out)
{
	const char *s = text(L, v, key);
	uint64_t x;
	if (!s)
		return false;
	if (!config_parse_size(s, &x)) {
		problem(L, v, "%s: '%s' is not a size (500KB, 50MB, 2GB, 64KiB)", key, s);
		return false;
	}
	if (x == 0) {
		problem(L, v, "%s: must be at least 1 byte", key);
		return false;
	}
	*out = x;
	return true;
}

static bool get_duration_s(struct loader *L, const yaml_node_t *v, const char *key,
			   uint32_t min, uint32_t max, uint32_t *out)
{
	const char *s = text(L, v, key);
	uint64_t ms;
	if (!s)
		return false;
	if (!config_parse_duration_ms(s, &ms) || ms % 1000) {
		problem(L, v, "%s: '%s' is not a duration in whole seconds (30s, 10m, 24h)", key,
			s);
		return false;
	}
	if (ms / 1000 < min || ms / 1000 > max) {
		problem(L, v, "%s: %s is out of range (%us to %us)", key, s, min, max);
		return false;
	}
	*out = (uint32_t)(ms / 1000);
	return true;
}

/* A decimal number above 0 and at most max: digits, optionally '.' and digits. */
static bool get_decimal(struct loader *L, const yaml_node_t *v, const char *key, double max,
			double *out)
{
	const char *s = text(L, v, key);
	if (!s)
		return false;
	const char *p = s;
	while (*p >= '0' && *p <= '9')
		p++;
	bool ok = p > s;
	if (ok && *p == '.') {
		const char *q = ++p;
		while (*p >= '0' && *p <= '9')
			p++;
		ok = p > q;
	}
	if (!ok || *p) {
		problem(L, v, "%s: '%s' is not a number (e.g. 3 or 0.5)", key, s);
		return false;
	}
	double x = strtod(s, NULL);
	if (!(x > 0) || x > max) {
		problem(L, v, "%s: %s is out of range (above 0, at most %g)", key, s, max);
		return false;
	}
	*out = x;
	return true;
}

static bool get_bool(struct loader *L, const yaml_node_t *v, const char *key, bool *out)
{
	const char *s = text(L, v, key);
	if (!s)
		return false;
	if (!strcmp(s, "true") || !strcmp(s, "True") || !strcmp(s, "TRUE")) {
		*out = true;
		return true;
	}
	if (!strcmp(s, "false") || !strcmp(s, "False") || !strcmp(s, "FALSE")) {
		*out = false;
		return true;
	}
	problem(L, v, "%s: '%s' is not true or false", key, s);
	return false;
}

/* One of words (shown in the message as "a, b, c"); the index, or -1 (reported). */
static int get_word(struct loader *L, const yaml_node_t *v, const char *key,
		    const char *const *words, int n)
{
	const char *s = text(L, v, key);
	char list[256];
	size_t used = 0;
	if (!s)
		return -1;
	for (int i = 0; i < n; i++)
		if (!strcmp(s, words[i]))
			return i;
	list[0] = '\0';
	for (int i = 0; i < n && used < sizeof(list); i++)
		used += (size_t)snprintf(list + used, sizeof(list) - used, "%s%s", i ? ", " : "",
					 words[i]);
	problem(L, v, "%s: '%s' is not one of %s", key, s, list);
	return -1;
}

static bool get_string(struct loader *L, const yaml_node_t *v, const char *key, size_t max,
		       char *out, size_t outsz)
{
	const char *s = text(L, v, key);
	if (!s)
		return false;
	size_t len = strlen(s);
	if (len != v->data.scalar.length) {
		problem(L, v, "%s: contains a NUL character", key);
		return false;
	}
	if (len < 1 || len > max) {
		problem(L, v, "%s: must be 1 to %zu bytes long", key, max);
		return false;
	}
	snprintf(out, outsz, "%s", s);
	return true;
}

/* A non-empty list of at most max entries; reported otherwise. */
static bool check_list(struct loader *L, const yaml_node_t *v, const char *key, int max,
		       const char *example)
{
	if (is_null(v) || v->type != YAML_SEQUENCE_NODE) {
		problem(L, v, "%s: expected a list, e.g. %s", key, example);
		return false;
	}
	long n = v->data.sequence.items.top - v->data.sequence.items.start;
	if (n == 0) {
		problem(L, v, "%s: empty list (leave the key out instead)", key);
		return false;
	}
	if (n > max) {
		problem(L, v, "%s: more than %d entries", key, max);
		return false;
	}
	return true;
}

#define for_each_item(L, seq, e)                                                              \
	for (yaml_node_item_t *it_ = (seq)->data.sequence.items.start;                       \
	     it_ < (seq)->data.sequence.items.top && ((e) = node((L), *it_)) != NULL; it_++)

/* ---- Mappings --------------------------------------------------------------------- */

/* The value (and key) node of each of names[0..n) in mapping m, NULL when absent;
 * unknown keys, duplicate keys and keys that are not plain text are reported. */
static void collect(struct loader *L, const yaml_node_t *m, const char *prefix,
		    const char *const *names, int n, yaml_node_t **val, yaml_node_t **key)
{
	for (int i = 0; i < n; i++)
		val[i] = key[i] = NULL;
	for (yaml_node_pair_t *p = m->data.mapping.pairs.start; p < m->data.mapping.pairs.top;
	     p++) {
		yaml_node_t *kn = node(L, p->key), *vn = node(L, p->value);
		if (!kn || !vn || kn->type != YAML_SCALAR_NODE) {
			problem(L, kn, "keys must be plain words");
			continue;
		}
		const char *k = (const char *)kn->data.scalar.value;
		int i = 0;
		while (i < n && strcmp(names[i], k) != 0)
			i++;
		if (i == n) {
			problem(L, kn, "unknown key '%s%s'", prefix, k);
			continue;
		}
		if (val[i]) {
			problem(L, kn, "duplicate key '%s%s' (first at line %zu)", prefix, k,
				key[i]->start_mark.line + 1);
			continue;
		}
		val[i] = vn;
		key[i] = kn;
	}
}

/* ---- Match ------------------------------------------------------------------------ */

static const char *const transport_names[] = { "tcp", "udp", "icmp" };
static const char *const app_names[RULE_APP__COUNT] = { "tls", "http",	   "quic",
							"dns", "ssh",	   "ftp",
							"ftp-data", "smtp", "none" };
static const char *const direction_names[] = { "outbound", "any" };
static const char *const tenant_names[] = { "any", "foreign", "own" };

/* ISO 3166-1 alpha-2, the officially assigned codes (as tzdata's iso3166.tab lists
 * them), and XK (Kosovo), which GeoIP databases use. */
static const char iso3166[] =
	"AD AE AF AG AI AL AM AO AQ AR AS AT AU AW AX AZ BA BB BD BE BF BG BH BI BJ BL BM BN "
	"BO BQ BR BS BT BV BW BY BZ CA CC CD CF CG CH CI CK CL CM CN CO CR CU CV CW CX CY CZ "
	"DE DJ DK DM DO DZ EC EE EG EH ER ES ET FI FJ FK FM FO FR GA GB GD GE GF GG GH GI GL "
	"GM GN GP GQ GR GS GT GU GW GY HK HM HN HR HT HU ID IE IL IM IN IO IQ IR IS IT JE JM "
	"JO JP KE KG KH KI KM KN KP KR KW KY KZ LA LB LC LI LK LR LS LT LU LV LY MA MC MD ME "
	"MF MG MH MK ML MM MN MO MP MQ MR MS MT MU MV MW MX MY MZ NA NC NE NF NG NI NL NO NP "
	"NR NU NZ OM PA PE PF PG PH PK PL PM PN PR PS PT PW PY QA RE RO RS RU RW SA SB SC SD "
	"SE SG SH SI SJ SK SL SM SN SO SR SS ST SV SX SY SZ TC TD TF TG TH TJ TK TL TM TN TO "
	"TR TT TV TW TZ UA UG UM US UY UZ VA VC VE VG VI VN VU WF WS YE YT ZA ZM ZW XK";

static bool is_country(const char *s)
{
	if (strlen(s) != 2 || s[0] < 'A' || s[0] > 'Z' || s[1] < 'A' || s[1] > 'Z')
		return false;
	for (const char *p = iso3166; *p; p += p[2] ? 3 : 2)
		if (p[0] == s[0] && p[1] == s[1])
			return true;
	return false;
}

/* A list of words into a bit mask (bit i for words[i]); 0 when there was a problem. */
static uint32_t get_mask(struct loader *L, const yaml_node_t *v, const char *key,
			 const char *const *words, int n, const char *example)
{
	uint32_t mask = 0;
	bool ok = true;
	yaml_node_t *e;
	if (!check_list(L, v, key, 64, example))
		return 0;
	for_each_item (L, v, e) {
		int i = get_word(L, e, key, words, n);
		if (i < 0)
			ok = false;
		else
			mask |= 1u << i;
	}
	return ok ? mask : 0;
}

static bool parse_port(const char *s, struct rule_port_range *pr)
{
	const char *dash = strchr(s, '-');
	char lo[8], hi[8];
	size_t n = dash ? (size_t)(dash - s) : strlen(s);
	if (n == 0 || n >= sizeof(lo))
		return false;
	memcpy(lo, s, n);
	lo[n] = '\0';
	snprintf(hi, sizeof(hi), "%s", dash ? dash + 1 : lo);
	if ((dash && strlen(dash + 1) >= sizeof(hi)) || !all_digits(lo) || !all_digits(hi))
		return false;
	unsigned long a = strtoul(lo, NULL, 10), b = strtoul(hi, NULL, 10);
	if (a < 1 || b > 65535 || a > b)
		return false;
	pr->lo = (uint16_t)a;
	pr->hi = (uint16_t)b;
	return true;
}

static bool get_ports(struct loader *L, const yaml_node_t *v, const char *key,
		      struct rule_port_range *out, int *n)
{
	yaml_node_t *e;
	bool ok = true;
	if (!check_list(L, v, key, RULE_MAX_PORTS, "[443, 8000-8100]"))
		return false;
	for_each_item (L, v, e) {
		const char *s = text(L, e, key);
		if (!s) {
			ok = false;
		} else if (!parse_port(s, &out[*n])) {
			problem(L, e, "%s: '%s' is not a port or a range of ports (1 to 65535, "
				      "e.g. 443 or 8000-8100)", key, s);
			ok = false;
		} else {
			(*n)++;
		}
	}
	return ok;
}

static bool get_countries(struct loader *L, const yaml_node_t *v, const char *key,
			  char (*out)[3], int *n)
{
	yaml_node_t *e;
	bool ok = true;
	if (!check_list(L, v, key, RULE_MAX_COUNTRIES, "[CN, RU]"))
		return false;
	for_each_item (L, v, e) {
		const char *s = text(L, e, key);
		if (!s) {
			ok = false;
		} else if (!is_country(s)) {
			problem(L, e, "%s: '%s' is not an ISO 3166 alpha-2 country code (two "
				      "capital letters, e.g. GB)", key, s);
			ok = false;
		} else {
			memcpy(out[(*n)++], s, 3);
		}
	}
	return ok;
}

/* Domains written in the rule into set (created by the caller). */
static bool add_domains(struct loader *L, const yaml_node_t *v, const char *key,
			struct domain_set *set)
{
	yaml_node_t *e;
	bool ok = true;
	char why[256];
	for_each_item (L, v, e) {
		const char *s = text(L, e, key);
		if (!s) {
			ok = false;
			continue;
		}
		why[0] = '\0';
		if (domain_set_add(set, s, why, sizeof(why)) < 0) {
			problem(L, e, "%s: %s", key, why);
			ok = false;
		}
	}
	return ok;
}

/* A domain_lists entry resolved against the rule file's directory into full; the number
 * of lines it has (an upper bound on its domains), or -1 (reported). */
static long list_file(struct loader *L, const yaml_node_t *e, const char *s, char *full,
		      size_t fullsz)
{
	const char *slash = strrchr(L->path, '/');
	int dirlen = s[0] == '/' || !slash ? 0 : (int)(slash - L->path + 1);
	int k = snprintf(full, fullsz, "%.*s%s", dirlen, L->path, s);
	if (k < 0 || (size_t)k >= fullsz) {
		problem(L, e, "match.domain_lists: path too long");
		return -1;
	}
	FILE *f = fopen(full, "re");
	struct stat st;
	if (!f) {
		problem(L, e, "match.domain_lists: cannot open '%s' (%s): %s", s, full,
			strerror(errno));
		return -1;
	}
	if (fstat(fileno(f), &st) != 0 || !S_ISREG(st.st_mode)) {
		problem(L, e, "match.domain_lists: '%s' (%s) is not a regular file", s, full);
		fclose(f);
		return -1;
	}
	if (st.st_size > (off_t)DOMAIN_LIST_MAX_FILE) {
		problem(L, e, "match.domain_lists: '%s' (%s) is larger than %u MiB", s, full,
			DOMAIN_LIST_MAX_FILE >> 20);
		fclose(f);
		return -1;
	}
	char buf[8192];
	size_t got;
	long lines = 1;
	while ((got = fread(buf, 1, sizeof(buf), f)) > 0)
		for (size_t i = 0; i < got; i++)
			lines += buf[i] == '\n';
	fclose(f);
	return lines;
}

/* domains and domain_lists into r->domains, not_domains into r->not_domains. */
static bool get_domain_sets(struct loader *L, struct rule *r, yaml_node_t *domains,
			    yaml_node_t *lists, yaml_node_t *not_domains)
{
	char (*full)[RULES_PATH_MAX] = NULL;
	bool ok = true;
	int nfiles = 0;
	uint64_t cap = 0;
	yaml_node_t *e;

	if (domains && check_list(L, domains, "match.domains", RULE_MAX_DOMAINS,
				  "[example.com]")) {
		cap += (uint64_t)(domains->data.sequence.items.top -
				  domains->data.sequence.items.start);
	} else if (domains) {
		ok = false;
		domains = NULL;
	}
	if (lists && !(full = malloc(RULE_MAX_DOMAIN_LISTS * sizeof(*full)))) {
		problem(L, lists, "match.domain_lists: out of memory");
		return false;
	}
	if (lists) {
		if (check_list(L, lists, "match.domain_lists", RULE_MAX_DOMAIN_LISTS,
			       "[lists/custom.txt]")) {
			for_each_item (L, lists, e) {
				const char *s = text(L, e, "match.domain_lists");
				long lines = s ? list_file(L, e, s, full[nfiles],
							   sizeof(full[nfiles])) : -1;
				if (lines < 0) {
					ok = false;
					continue;
				}
				cap += (uint64_t)lines;
				nfiles++;
			}
		} else {
			ok = false;
		}
	}
	if (domains || nfiles) {
		if (cap > DOMAIN_SET_MAX_CAPACITY)
			cap = DOMAIN_SET_MAX_CAPACITY;
		r->domains = domain_set_create((uint32_t)cap);
		if (!r->domains) {
			problem(L, domains ? domains : lists, "match.domains: out of memory");
			free(full);
			return false;
		}
		if (domains && !add_domains(L, domains, "match.domains", r->domains))
			ok = false;
		for (int i = 0; i < nfiles; i++) {
			int n = domain_set_load_file(r->domains, full[i], L->err, L->errlen);
			L->problems += n;
			if (n)
				ok = false;
		}
	}
	free(full);
	if (not_domains) {
		if (!check_list(L, not_domains, "match.not_domains", RULE_MAX_DOMAINS,
				"[example.com]"))
			return false;
		r->not_domains = domain_set_create((uint32_t)(not_domains->data.sequence.items.top -
							      not_domains->data.sequence.items.start));
		if (!r->not_domains) {
			problem(L, not_domains, "match.not_domains: out of memory");
			return false;
		}
		if (!add_domains(L, not_domains, "match.not_domains", r->not_domains))
			ok = false;
	}
	return ok;
}

enum {
	M_DIRECTION, M_TRANSPORT, M_PORTS, M_NOT_PORTS, M_APPS, M_CATEGORIES, M_DOMAINS,
	M_DOMAIN_LISTS, M_NOT_DOMAINS, M_COUNTRIES, M_NOT_COUNTRIES, M_ASNS, M_TENANT,
	M__COUNT
};
static const char *const match_keys[M__COUNT] = {
	"direction", "transport",     "ports",	       "not_ports", "apps",
	"categories", "domains",	"domain_lists", "not_domains", "countries",
	"not_countries", "asns",	"tenant",
};

static void load_match(struct loader *L, struct rule *r, yaml_node_t *m)
{
	yaml_node_t *mv[M__COUNT], *mk[M__COUNT], *e;
	int i;

	if (m->type != YAML_MAPPING_NODE) {
		problem(L, m, "match: expected a mapping of constraints");
		return;
	}
	collect(L, m, "match.", match_keys, M__COUNT, mv, mk);
	if (mv[M_DIRECTION] && (i = get_word(L, mv[M_DIRECTION], "match.direction",
					     direction_names, 2)) >= 0)
		r->any_direction = i == 1;
	if (mv[M_TRANSPORT])
		r->transports = (uint8_t)get_mask(L, mv[M_TRANSPORT], "match.transport",
						  transport_names, 3, "[tcp, udp]");
	if (mv[M_PORTS])
		get_ports(L, mv[M_PORTS], "match.ports", r->ports, &r->nports);
	if (mv[M_NOT_PORTS])
		get_ports(L, mv[M_NOT_PORTS], "match.not_ports", r->not_ports, &r->nnot_ports);
	if (mv[M_APPS])
		r->apps = get_mask(L, mv[M_APPS], "match.apps", app_names, RULE_APP__COUNT,
				   "[tls, quic]");
	if (mv[M_CATEGORIES] &&
	    check_list(L, mv[M_CATEGORIES], "match.categories", 64, "[cloud_storage, paste]")) {
		for_each_item (L, mv[M_CATEGORIES], e) {
			const char *s = text(L, e, "match.categories");
			enum enrich_category c;
			if (!s)
				continue;
			c = enrich_category_parse(s);
			if (c == ENRICH_CAT_NONE && strcmp(s, "none") != 0) {
				char list[256];
				size_t used = 0;
				for (int k = ENRICH_CAT_NONE + 1; k < ENRICH_CAT__COUNT; k++)
					used += (size_t)snprintf(list + used, sizeof(list) - used,
						"%s, ", enrich_category_name((enum enrich_category)k));
				problem(L, e, "match.categories: unknown category '%s' (%snone)", s,
					list);
				continue;
			}
			r->categories |= 1u << c;
		}
	}
	if (mv[M_DOMAINS] || mv[M_DOMAIN_LISTS] || mv[M_NOT_DOMAINS])
		get_domain_sets(L, r, mv[M_DOMAINS], mv[M_DOMAIN_LISTS], mv[M_NOT_DOMAINS]);
	if (mv[M_COUNTRIES])
		get_countries(L, mv[M_COUNTRIES], "match.countries", r->countries, &r->ncountries);
	if (mv[M_NOT_COUNTRIES])
		get_countries(L, mv[M_NOT_COUNTRIES], "match.not_countries", r->not_countries,
			      &r->nnot_countries);
	if (mv[M_ASNS] && check_list(L, mv[M_ASNS], "match.asns", RULE_MAX_ASNS, "[13335]")) {
		for_each_item (L, mv[M_ASNS], e) {
			uint64_t x;
			if (get_uint(L, e, "match.asns", 1, UINT32_MAX, &x))
				r->asns[r->nasns++] = (uint32_t)x;
		}
	}
	if (mv[M_TENANT] && (i = get_word(L, mv[M_TENANT], "match.tenant", tenant_names, 3)) >= 0)
		r->tenant = (uint8_t)i;
}

/* ---- Condition -------------------------------------------------------------------- */

static const char *const detector_names[] = { "volume", "dns_tunnel", "icmp_tunnel" };
static const char *const key_names[] = { "source", "destination", "registered_domain",
					 "category", "tenant" };
static const char *const scope_names[] = { "host", "site" };
static const char *const severity_names[] = { "low", "medium", "high" };

enum mkind { MK_U32, MK_U64, MK_SIZE, MK_DECIMAL };

/* A measure: a threshold over the window for one detector. counts: it constrains the
 * rule on its own (ratio_out_in only refines a volume). */
struct measure {
	const char *key;
	enum rule_detector detector;
	enum mkind kind;
	bool counts;
	uint64_t max;
	double dmax;
	size_t off;
};

#define OFF(f) offsetof(struct rule, f)

static const struct measure measures[] = {
	{ "bytes_out", RULE_VOLUME, MK_SIZE, true, 0, 0, OFF(bytes_out) },
	{ "packets_out", RULE_VOLUME, MK_U64, true, UINT64_MAX, 0, OFF(packets_out) },
	{ "flows", RULE_VOLUME, MK_U64, true, UINT64_MAX, 0, OFF(flows) },
	{ "ratio_out_in", RULE_VOLUME, MK_DECIMAL, false, 0, 1e9, OFF(ratio_out_in) },
	{ "queries", RULE_DNS_TUNNEL, MK_U32, true, UINT32_MAX, 0, OFF(queries) },
	/* the tunnel table tracks up to TUNNEL_DNS_NAMES_MAX names per key: a higher
	 * threshold could never be reached */
	{ "unique_names", RULE_DNS_TUNNEL, MK_U32, true, TUNNEL_DNS_NAMES_MAX, 0,
	  OFF(unique_names) },
	{ "name_bytes", RULE_DNS_TUNNEL, MK_SIZE, true, 0, 0, OFF(name_bytes) },
	{ "max_label_length", RULE_DNS_TUNNEL, MK_U32, true, ENRICH_LABEL_MAX, 0,
	  OFF(max_label_length) },
	{ "mean_entropy", RULE_DNS_TUNNEL, MK_DECIMAL, true, 0, 8, OFF(mean_entropy) },
	{ "txt_null_share", RULE_DNS_TUNNEL, MK_DECIMAL, true, 0, 1, OFF(txt_null_share) },
	{ "payload_bytes", RULE_ICMP_TUNNEL, MK_SIZE, true, 0, 0, OFF(payload_bytes) },
	{ "large_payloads", RULE_ICMP_TUNNEL, MK_U32, true, UINT32_MAX, 0, OFF(large_payloads) },
	{ "distinct_payloads", RULE_ICMP_TUNNEL, MK_U32, true, UINT32_MAX, 0,
	  OFF(distinct_payloads) },
};
#define NMEASURES (sizeof(measures) / sizeof(measures[0]))

enum { C_DETECTOR, C_KEY, C_WINDOW, C_NEW_DESTINATION, C_NEW_SCOPE, C__FIXED };
#define C__COUNT (C__FIXED + (int)NMEASURES)

/* The measures a detector takes, "a, b, c". */
static const char *measure_list(enum rule_detector d, bool counting, char *buf, size_t bufsz)
{
	size_t used = 0;
	buf[0] = '\0';
	for (size_t i = 0; i < NMEASURES && used < bufsz; i++)
		if (measures[i].detector == d && (measures[i].counts || !counting))
			used += (size_t)snprintf(buf + used, bufsz - used, "%s%s",
						 used ? ", " : "", measures[i].key);
	return buf;
}

static void set_measure(struct loader *L, struct rule *r, const struct measure *m,
			yaml_node_t *v)
{
	char key[64];
	uint64_t x;
	double d;
	snprintf(key, sizeof(key), "condition.%s", m->key);
	switch (m->kind) {
	case MK_U32:
	case MK_U64:
		if (get_uint(L, v, key, 1, m->max, &x)) {
			if (m->kind == MK_U32) {
				uint32_t u = (uint32_t)x;
				memcpy((char *)r + m->off, &u, sizeof(u));
			} else {
				memcpy((char *)r + m->off, &x, sizeof(x));
			}
		}
		break;
	case MK_SIZE:
		if (get_size(L, v, key, &x))
			memcpy((char *)r + m->off, &x, sizeof(x));
		break;
	case MK_DECIMAL:
		if (get_decimal(L, v, key, m->dmax, &d))
			memcpy((char *)r + m->off, &d, sizeof(d));
		break;
	}
}

/* The detector, or -1 when it is missing or wrong. */
static int load_condition(struct loader *L, struct rule *r, yaml_node_t *c)
{
	const char *names[C__COUNT];
	yaml_node_t *cv[C__COUNT], *ck[C__COUNT];
	char list[256];
	int i;

	if (c->type != YAML_MAPPING_NODE) {
		problem(L, c, "condition: expected a mapping");
		return -1;
	}
	names[C_DETECTOR] = "detector";
	names[C_KEY] = "key";
	names[C_WINDOW] = "window";
	names[C_NEW_DESTINATION] = "new_destination";
	names[C_NEW_SCOPE] = "new_scope";
	for (size_t m = 0; m < NMEASURES; m++)
		names[C__FIXED + (int)m] = measures[m].key;
	collect(L, c, "condition.", names, C__COUNT, cv, ck);

	int det = -1;
	if (!cv[C_DETECTOR])
		problem(L, c, "condition: missing required key 'detector' (volume, dns_tunnel "
			      "or icmp_tunnel)");
	else
		det = get_word(L, cv[C_DETECTOR], "condition.detector", detector_names, 3);
	if (det >= 0)
		r->detector = (enum rule_detector)det;

	/* key: chosen for volume, fixed for the tunnel detectors */
	if (det == RULE_VOLUME && !cv[C_KEY]) {
		problem(L, c, "condition: missing required key 'key' (source, destination, "
			      "registered_domain, category or tenant)");
	} else if (cv[C_KEY] && (i = get_word(L, cv[C_KEY], "condition.key", key_names, 5)) >= 0) {
		if (det == RULE_DNS_TUNNEL && i != RULE_KEY_REGISTERED_DOMAIN)
			problem(L, cv[C_KEY], "condition.key: dns_tunnel rules are kept per "
					      "registered_domain");
		else if (det == RULE_ICMP_TUNNEL && i != RULE_KEY_DESTINATION)
			problem(L, cv[C_KEY], "condition.key: icmp_tunnel rules are kept per "
					      "destination");
		r->key = (enum rule_key)i;
	}
	if (det == RULE_DNS_TUNNEL)
		r->key = RULE_KEY_REGISTERED_DOMAIN;
	else if (det == RULE_ICMP_TUNNEL)
		r->key = RULE_KEY_DESTINATION;

	if (!cv[C_WINDOW])
		problem(L, c, "condition: missing required key 'window' (1s to 24h)");
	else
		get_duration_s(L, cv[C_WINDOW], "condition.window", RULE_WINDOW_MIN_S,
			       RULE_WINDOW_MAX_S, &r->window_s);

	/* new_destination: the baseline is consulted by volume rules only */
	bool new_ok = true;
	for (i = C_NEW_DESTINATION; i <= C_NEW_SCOPE; i++) {
		if (cv[i] && det > RULE_VOLUME) {
			problem(L, ck[i], "condition.%s: only volume rules look for new "
					  "destinations", names[i]);
			cv[i] = NULL;
			new_ok = false;
		}
	}
	if (cv[C_NEW_DESTINATION])
		new_ok = get_bool(L, cv[C_NEW_DESTINATION], "condition.new_destination",
				  &r->new_destination);
	if (cv[C_NEW_SCOPE] &&
	    (i = get_word(L, cv[C_NEW_SCOPE], "condition.new_scope", scope_names, 2)) >= 0) {
		r->new_site = i == 1;
		if (new_ok && !r->new_destination)
			problem(L, cv[C_NEW_SCOPE], "condition.new_scope: only means something "
						    "with new_destination: true");
	}

	bool constrained = false;
	for (size_t m = 0; m < NMEASURES; m++) {
		yaml_node_t *v = cv[C__FIXED + (int)m];
		if (!v || det < 0)
			continue;
		if (measures[m].detector != (enum rule_detector)det) {
			problem(L, ck[C__FIXED + (int)m], "condition.%s: not a measure of %s (it "
				"takes %s)", measures[m].key, detector_names[det],
				measure_list((enum rule_detector)det, false, list, sizeof(list)));
			continue;
		}
		set_measure(L, r, &measures[m], v);
		constrained |= measures[m].counts;
	}
	if (det >= 0 && !constrained)
		problem(L, c, "condition: a%s %s rule needs at least one of %s",
			det == RULE_ICMP_TUNNEL ? "n" : "", detector_names[det],
			measure_list((enum rule_detector)det, true, list, sizeof(list)));
	return det;
}

/* ---- Rules ------------------------------------------------------------------------ */

enum {
	F_ID, F_NAME, F_DESCRIPTION, F_TECHNIQUE, F_SUBTECHNIQUE, F_SEVERITY, F_ENABLED,
	F_MATCH, F_CONDITION, F_SUPPRESS, F__COUNT
};
static const char *const rule_keys[F__COUNT] = {
	"id",	    "name",    "description", "technique", "subtechnique",
	"severity", "enabled", "match",	      "condition", "suppress",
};

static bool valid_chars(const char *s, size_t max, bool upper)
{
	size_t n = strlen(s);
	if (n < 1 || n > max)
		return false;
	for (; *s; s++)
		if (!((*s >= 'a' && *s <= 'z') || (*s >= '0' && *s <= '9') || *s == '.' ||
		      *s == '_' || *s == '-' || (upper && *s >= 'A' && *s <= 'Z')))
			return false;
	return true;
}

static bool is_technique(const char *s, bool sub)
{
	if (strlen(s) != (sub ? 9u : 5u) || s[0] != 'T')
		return false;
	for (int i = 1; i < (sub ? 9 : 5); i++) {
		if (i == 5 ? s[i] != '.' : (s[i] < '0' || s[i] > '9'))
			return false;
	}
	return true;
}

/* A rule's id is taken (by a rule already added, or by one that had a problem)? */
static bool id_taken(struct loader *L, const char *id, char *where, size_t wsz)
{
	for (int i = 0; i < L->out->n; i++) {
		const struct rule *o = &L->out->rules[i];
		if (!strcmp(o->id, id)) {
			snprintf(where, wsz, "%s:%u:%u", o->file, o->line, o->col);
			return true;
		}
	}
	for (int i = 0; i < L->nseen; i++) {
		const struct seen_id *s = &L->seen[i];
		if (!strcmp(s->id, id)) {
			snprintf(where, wsz, "%s:%u:%u", s->file, s->line, s->col);
			return true;
		}
	}
	return false;
}

static void rule_release(struct rule *r)
{
	free(r->description);
	domain_set_destroy(r->domains);
	domain_set_destroy(r->not_domains);
	r->description = NULL;
	r->domains = r->not_domains = NULL;
}

static bool append_rule(struct loader *L, const struct rule *r)
{
	struct ruleset_list *out = L->out;
	int n = out->n;
	/* the capacity is 16, then the next power of two: full at 0, 16, 32, 64 ... */
	if (n >= 16 ? (n & (n - 1)) == 0 : n == 0) {
		size_t cap = n ? (size_t)n * 2 : 16;
		struct rule *nr = realloc(out->rules, cap * sizeof(*nr));
		if (!nr)
			return false;
		out->rules = nr;
	}
	out->rules[out->n++] = *r;
	return true;
}

static void remember_id(struct loader *L, const struct rule *r)
{
	if (L->nseen == L->capseen) {
		int cap = L->capseen ? L->capseen * 2 : 16;
		struct seen_id *ns = realloc(L->seen, (size_t)cap * sizeof(*ns));
		if (!ns)
			return;
		L->seen = ns;
		L->capseen = cap;
	}
	struct seen_id *s = &L->seen[L->nseen++];
	memcpy(s->id, r->id, sizeof(s->id));
	memcpy(s->file, r->file, sizeof(s->file));
	s->line = r->line;
	s->col = r->col;
}

static void load_rule(struct loader *L, yaml_node_t *m)
{
	yaml_node_t *fv[F__COUNT], *fk[F__COUNT];
	struct rule r;
	int before = L->problems, i;
	char where[RULE_FILE_MAX + 32];

	if (L->nrules >= RULES_MAX_RULES) {
		if (!L->too_many)
			problem(L, m, "more than %d rules in all", RULES_MAX_RULES);
		L->too_many = true;
		return;
	}
	L->nrules++;
	if (m->type != YAML_MAPPING_NODE) {
		problem(L, m, "a rule is a mapping of keys (id, name, technique, ...)");
		return;
	}
	memset(&r, 0, sizeof(r));
	r.enabled = true;
	r.suppress_s = RULE_SUPPRESS_DEFAULT_S;
	memcpy(r.ruleset, L->ruleset, sizeof(r.ruleset));
	snprintf(r.file, sizeof(r.file), "%s", L->path);
	collect(L, m, "", rule_keys, F__COUNT, fv, fk);

	for (i = 0; i < F__COUNT; i++) {
		static const bool required[F__COUNT] = {
			[F_ID] = true, [F_NAME] = true, [F_TECHNIQUE] = true,
			[F_SEVERITY] = true, [F_CONDITION] = true,
		};
		if (required[i] && !fv[i])
			problem(L, m, "missing required key '%s'", rule_keys[i]);
	}
	bool have_id = false;
	if (fv[F_ID]) {
		const char *s = text(L, fv[F_ID], "id");
		if (s && !valid_chars(s, RULE_ID_MAX, false)) {
			problem(L, fv[F_ID], "id: '%s' is not a valid rule id (1 to %d of a-z 0-9 "
					     ". _ -)", s, RULE_ID_MAX);
		} else if (s) {
			snprintf(r.id, sizeof(r.id), "%s", s);
			r.line = (uint32_t)fv[F_ID]->start_mark.line + 1;
			r.col = (uint32_t)fv[F_ID]->start_mark.column + 1;
			if (id_taken(L, r.id, where, sizeof(where)))
				problem(L, fv[F_ID], "duplicate rule id '%s' (first defined at %s)",
					r.id, where);
			else
				have_id = true;
		}
	}
	if (fv[F_NAME])
		get_string(L, fv[F_NAME], "name", RULE_NAME_MAX, r.name, sizeof(r.name));
	if (fv[F_DESCRIPTION]) {
		char *d = malloc(RULE_DESCRIPTION_MAX + 1);
		if (!d)
			problem(L, fv[F_DESCRIPTION], "description: out of memory");
		else if (!get_string(L, fv[F_DESCRIPTION], "description", RULE_DESCRIPTION_MAX,
				     d, RULE_DESCRIPTION_MAX + 1))
			free(d);
		else
			r.description = d;
	}
	if (fv[F_TECHNIQUE]) {
		const char *s = text(L, fv[F_TECHNIQUE], "technique");
		if (s && !is_technique(s, false))
			problem(L, fv[F_TECHNIQUE], "technique: '%s' is not an ATT&CK technique "
						    "id (T and four digits, e.g. T1567)", s);
		else if (s)
			memcpy(r.technique, s, sizeof(r.technique));
	}
	if (fv[F_SUBTECHNIQUE]) {
		const char *s = text(L, fv[F_SUBTECHNIQUE], "subtechnique");
		if (s && !is_technique(s, true))
			problem(L, fv[F_SUBTECHNIQUE], "subtechnique: '%s' is not an ATT&CK "
				"sub-technique id (e.g. T1567.002)", s);
		else if (s && r.technique[0] && strncmp(s, r.technique, 5) != 0)
			problem(L, fv[F_SUBTECHNIQUE], "subtechnique: %s is not a sub-technique "
				"of %s", s, r.technique);
		else if (s)
			memcpy(r.subtechnique, s, sizeof(r.subtechnique));
	}
	if (fv[F_SEVERITY] &&
	    (i = get_word(L, fv[F_SEVERITY], "severity", severity_names, 3)) >= 0)
		r.severity = (uint8_t)(RULE_SEVERITY_LOW + i);
	if (fv[F_ENABLED])
		get_bool(L, fv[F_ENABLED], "enabled", &r.enabled);
	if (fv[F_MATCH])
		load_match(L, &r, fv[F_MATCH]);
	int det = fv[F_CONDITION] ? load_condition(L, &r, fv[F_CONDITION]) : -1;
	/* the tunnel detectors see every DNS query, or ICMP echo request, that a home_net
	 * host sends out: a match would be ignored, so it is refused */
	if (fv[F_MATCH] && det == RULE_DNS_TUNNEL)
		problem(L, fk[F_MATCH], "match: dns_tunnel rules take no match (they look at "
					"every DNS query a home_net host sends)");
	else if (fv[F_MATCH] && det == RULE_ICMP_TUNNEL)
		problem(L, fk[F_MATCH], "match: icmp_tunnel rules take no match (they look at "
					"every ICMP echo request a home_net host sends out)");
	if (fv[F_SUPPRESS])
		get_duration_s(L, fv[F_SUPPRESS], "suppress", 0, RULE_SUPPRESS_MAX_S,
			       &r.suppress_s);

	if (L->problems == before && append_rule(L, &r))
		return;
	if (L->problems == before)
		problem(L, m, "out of memory");
	if (have_id)
		remember_id(L, &r);
	rule_release(&r);
}

/* ---- Files ------------------------------------------------------------------------ */

/* Events first: syntax, aliases, anchors, depth, documents, NULs. False: do not build. */
static bool prescan(struct loader *L, const unsigned char *buf, size_t len)
{
	yaml_parser_t p;
	yaml_event_t ev;
	int depth = 0, docs = 0;
	bool ok = true, deep = false;

	if (!yaml_parser_initialize(&p)) {
		problem_file(L, L->path, "out of memory");
		return false;
	}
	yaml_parser_set_input_string(&p, buf, len);
	for (;;) {
		const yaml_char_t *anchor = NULL;
		if (!yaml_parser_parse(&p, &ev)) {
			problem_mark(L, p.problem_mark, "YAML syntax: %s",
				     p.problem ? p.problem : "error");
			ok = false;
			break;
		}
		if (ev.type == YAML_STREAM_END_EVENT) {
			yaml_event_delete(&ev);
			break;
		}
		switch (ev.type) {
		case YAML_DOCUMENT_START_EVENT:
			if (++docs == 2) {
				problem_mark(L, ev.start_mark, "a rule file holds one YAML document");
				ok = false;
			}
			break;
		case YAML_ALIAS_EVENT:
			problem_mark(L, ev.start_mark, "aliases are not allowed in rule files");
			ok = false;
			break;
		case YAML_SCALAR_EVENT:
			anchor = ev.data.scalar.anchor;
			/* "\0" (or \x00, \u0000) in a quoted scalar: the value would end there */
			if (memchr(ev.data.scalar.value, 0, ev.data.scalar.length)) {
				problem_mark(L, ev.start_mark, "a NUL character (\\0) in a key or value");
				ok = false;
			}
			break;
		case YAML_SEQUENCE_START_EVENT:
		case YAML_MAPPING_START_EVENT:
			anchor = ev.type == YAML_SEQUENCE_START_EVENT ?
					 ev.data.sequence_start.anchor :
					 ev.data.mapping_start.anchor;
			if (++depth > RULES_MAX_DEPTH) {
				problem_mark(L, ev.start_mark, "nested deeper than %d levels",
					     RULES_MAX_DEPTH);
				deep = true;
			}
			break;
		case YAML_SEQUENCE_END_EVENT:
		case YAML_MAPPING_END_EVENT:
			depth--;
			break;
		default:
			break;
		}
		if (anchor)
			problem_mark(L, ev.start_mark, "anchors are not allowed in rule files");
		yaml_event_delete(&ev);
		/* stop here: libyaml's scanner does work per open flow level for every
		 * token, so scanning on through deep nesting would be quadratic */
		if (deep) {
			ok = false;
			break;
		}
	}
	yaml_parser_delete(&p);
	return ok;
}

/* The file's base name without .yaml/.yml as its ruleset name. */
static void default_ruleset(struct loader *L)
{
	const char *base = strrchr(L->path, '/');
	base = base ? base + 1 : L->path;
	size_t n = strlen(base);
	if (n > 5 && !strcmp(base + n - 5, ".yaml"))
		n -= 5;
	else if (n > 4 && !strcmp(base + n - 4, ".yml"))
		n -= 4;
	snprintf(L->ruleset, sizeof(L->ruleset), "%.*s", (int)n, base);
	if (n > RULE_RULESET_MAX || !valid_chars(L->ruleset, RULE_RULESET_MAX, true))
		problem_file(L, L->path, "the file name '%.*s' is not a ruleset name (1 to %d "
			     "of A-Z a-z 0-9 . _ -): set 'ruleset:'", (int)n, base,
			     RULE_RULESET_MAX);
}

static void load_document(struct loader *L, yaml_node_t *root)
{
	static const char *const top_keys[] = { "ruleset", "rules" };
	yaml_node_t *tv[2], *tk[2], *e;

	if (!root || is_null(root)) {
		problem_file(L, L->path, "no rules: expected 'rules:' and a list of rules");
		return;
	}
	if (root->type != YAML_MAPPING_NODE) {
		problem(L, root, "the top level must be a mapping with 'rules:' (and "
				 "optionally 'ruleset:')");
		return;
	}
	collect(L, root, "", top_keys, 2, tv, tk);
	if (tv[0]) {
		const char *s = text(L, tv[0], "ruleset");
		if (s && !valid_chars(s, RULE_RULESET_MAX, true))
			problem(L, tv[0], "ruleset: '%s' is not a ruleset name (1 to %d of A-Z "
					  "a-z 0-9 . _ -)", s, RULE_RULESET_MAX);
		else if (s)
			snprintf(L->ruleset, sizeof(L->ruleset), "%s", s);
	} else {
		default_ruleset(L);
	}
	if (!tv[1]) {
		problem(L, root, "missing required key 'rules'");
		return;
	}
	if (tv[1]->type != YAML_SEQUENCE_NODE) {
		problem(L, tv[1], "rules: expected a list of rules");
		return;
	}
	for_each_item (L, tv[1], e)
		load_rule(L, e);
}

static void load_file(struct loader *L, const char *path)
{
	yaml_parser_t parser;
	yaml_document_t doc;
	struct stat st;
	unsigned char *buf;
	size_t len;
	FILE *f;

	L->path = path;
	if (strlen(path) > RULE_FILE_MAX) {
		problem_file(L, path, "path longer than %d bytes", RULE_FILE_MAX);
		return;
	}
	f = fopen(path, "rbe");
	if (!f) {
		problem_file(L, path, "cannot open: %s", strerror(errno));
		return;
	}
	if (fstat(fileno(f), &st) != 0 || !S_ISREG(st.st_mode)) {
		problem_file(L, path, "not a regular file");
		fclose(f);
		return;
	}
	if (st.st_size > RULES_MAX_FILE_SIZE) {
		problem_file(L, path, "file is larger than %d bytes", RULES_MAX_FILE_SIZE);
		fclose(f);
		return;
	}
	buf = malloc((size_t)st.st_size + 1);
	if (!buf) {
		problem_file(L, path, "out of memory");
		fclose(f);
		return;
	}
	len = fread(buf, 1, (size_t)st.st_size + 1, f);
	if (ferror(f) || len > (size_t)st.st_size) {
		problem_file(L, path, ferror(f) ? "read error" : "file grew while being read");
		free(buf);
		fclose(f);
		return;
	}
	fclose(f);

	if (prescan(L, buf, len)) {
		if (!yaml_parser_initialize(&parser)) {
			problem_file(L, path, "out of memory");
		} else {
			yaml_parser_set_input_string(&parser, buf, len);
			if (!yaml_parser_load(&parser, &doc)) {
				problem_mark(L, parser.problem_mark, "YAML: %s",
					     parser.problem ? parser.problem : "error");
			} else {
				L->doc = &doc;
				load_document(L, yaml_document_get_root_node(&doc));
				L->doc = NULL;
				yaml_document_delete(&doc);
			}
			yaml_parser_delete(&parser);
		}
	}
	free(buf);
}

static void loader_init(struct loader *L, struct ruleset_list *out, char *err, size_t errlen)
{
	memset(L, 0, sizeof(*L));
	L->out = out;
	L->err = err;
	L->errlen = errlen;
	L->nrules = out->n;
	if (errlen)
		err[0] = '\0';
}

int rules_load_files(struct ruleset_list *out, char *const *paths, int npaths, char *err,
		     size_t errlen)
{
	struct loader L;
	loader_init(&L, out, err, errlen);
	for (int i = 0; i < npaths; i++)
		load_file(&L, paths[i]);
	free(L.seen);
	return L.problems;
}

int rules_load_glob(struct ruleset_list *out, const char *pattern, char *err, size_t errlen)
{
	struct loader L;
	glob_t g;
	loader_init(&L, out, err, errlen);
	int rc = glob(pattern, 0, NULL, &g);
	if (rc == GLOB_NOMATCH)
		problem_file(&L, pattern, "no rule file matches this pattern");
	else if (rc != 0)
		problem_file(&L, pattern, "%s", rc == GLOB_NOSPACE ? "out of memory" :
						      "cannot read a directory of this pattern");
	else
		for (size_t i = 0; i < g.gl_pathc; i++)
			load_file(&L, g.gl_pathv[i]);
	if (rc == 0 || rc == GLOB_NOMATCH)
		globfree(&g);
	free(L.seen);
	return L.problems;
}

void rules_free(struct ruleset_list *l)
{
	if (!l)
		return;
	for (int i = 0; i < l->n; i++)
		rule_release(&l->rules[i]);
	free(l->rules);
	l->rules = NULL;
	l->n = 0;
}

/* ---- For the engine ------------------------------------------------------------ */

static bool in_ranges(const struct rule_port_range *v, int n, uint16_t port)
{
	for (int i = 0; i < n; i++)
		if (port >= v[i].lo && port <= v[i].hi)
			return true;
	return false;
}

bool rule_port_matches(const struct rule *r, uint16_t port)
{
	if (r->nports && !in_ranges(r->ports, r->nports, port))
		return false;
	return !in_ranges(r->not_ports, r->nnot_ports, port);
}

uint32_t rule_app_bit(const char *name)
{
	if (!name || !*name)
		return RULE_APP_NONE;
	for (int i = 0; i < RULE_APP__COUNT; i++)
		if (!strcmp(name, app_names[i]))
			return 1u << i;
	return 0;
}

const char *rule_detector_name(enum rule_detector d)
{
	return (unsigned)d < 3 ? detector_names[d] : "unknown";
}

const char *rule_key_name(enum rule_key k)
{
	return (unsigned)k < 5 ? key_names[k] : "unknown";
}

const char *rule_severity_name(uint8_t severity)
{
	return severity >= 1 && severity <= 3 ? severity_names[severity - 1] : "unknown";
}
