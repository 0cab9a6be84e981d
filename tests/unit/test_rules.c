/* test_rules.c: sensor/config-rules.c, the rule file loader (docs/rules.md).
 *
 * Expected values come from docs/rules.md (keys, defaults, ranges; every problem
 * reported as file:line:col, all of them) and from counting lines and columns by hand in
 * the YAML written here (both 1-based; the column of the offending key or value, or of
 * the mapping that misses a key). Files are written with mkstemps into a directory made
 * with mkdtemp; in messages the rule file's path is replaced by "F" (a second file "G")
 * and the directory by "D".
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "detect-rules.h"

#define ERRLEN 16384

/* ---- Temporary files ------------------------------------------------------------- */

static char made[64][256]; /* created paths, removed in reverse order */
static int nmade;

static void remember(const char *path)
{
	assert_true(nmade < 64);
	snprintf(made[nmade++], sizeof(made[0]), "%s", path);
}

static void cleanup(void)
{
	while (nmade > 0)
		remove(made[--nmade]);
}

static void make_dir(char *dir, size_t sz)
{
	snprintf(dir, sz, "/tmp/egressd-test-rules-XXXXXX");
	assert_non_null(mkdtemp(dir));
	remember(dir);
}

static void write_all(int fd, const char *text)
{
	size_t n = strlen(text);
	assert_int_equal(write(fd, text, n), (ssize_t)n);
	close(fd);
}

/* A new rule file in dir (name random, ending .yaml). */
static void write_rules(const char *dir, const char *text, char *path, size_t sz)
{
	snprintf(path, sz, "%s/rules-XXXXXX.yaml", dir);
	int fd = mkstemps(path, 5);
	assert_true(fd >= 0);
	remember(path);
	write_all(fd, text);
}

/* A file at dir/name (name may be "lists/x.txt": the directory is created). */
static void write_named(const char *dir, const char *name, const char *text)
{
	char path[256];
	const char *slash = strchr(name, '/');
	if (slash) {
		snprintf(path, sizeof(path), "%s/%.*s", dir, (int)(slash - name), name);
		if (mkdir(path, 0700) == 0)
			remember(path);
	}
	snprintf(path, sizeof(path), "%s/%s", dir, name);
	FILE *f = fopen(path, "w");
	assert_non_null(f);
	remember(path);
	fputs(text, f);
	fclose(f);
}

/* Replace every occurrence of from by to in s (in place, s holds ERRLEN). */
static void subst(char *s, const char *from, const char *to)
{
	char tmp[ERRLEN];
	size_t flen = strlen(from), o = 0;
	if (!flen)
		return;
	for (const char *p = s; *p && o + strlen(to) + 2 < sizeof(tmp);) {
		if (strncmp(p, from, flen) == 0) {
			o += (size_t)snprintf(tmp + o, sizeof(tmp) - o, "%s", to);
			p += flen;
		} else {
			tmp[o++] = *p++;
		}
	}
	tmp[o] = '\0';
	memcpy(s, tmp, o + 1);
}

/* Load text as a rule file in a fresh directory; err with paths replaced. */
static int load_text(const char *text, struct ruleset_list *out, char *err)
{
	char dir[64], path[256];
	make_dir(dir, sizeof(dir));
	write_rules(dir, text, path, sizeof(path));
	char *paths[] = { path };
	int n = rules_load_files(out, paths, 1, err, ERRLEN);
	subst(err, path, "F");
	subst(err, dir, "D");
	return n;
}

static int count_lines(const char *s)
{
	int n = 0;
	for (; *s; s++)
		n += *s == '\n';
	return n;
}

/* err holds this exact line. */
static void assert_line(const char *err, const char *line)
{
	size_t n = strlen(line);
	for (const char *p = err; *p; p = strchr(p, '\n') + 1) {
		if (strncmp(p, line, n) == 0 && p[n] == '\n')
			return;
		if (!strchr(p, '\n'))
			break;
	}
	fail_msg("expected the line\n  %s\nin\n%s", line, err);
}

/* Exactly one problem, this one. */
static void expect_one(const char *text, const char *line)
{
	struct ruleset_list l = { 0, NULL };
	char err[ERRLEN];
	int n = load_text(text, &l, err);
	if (n != 1)
		fail_msg("expected 1 problem (%s), got %d:\n%s", line, n, err);
	assert_line(err, line);
	assert_int_equal(count_lines(err), 1);
	rules_free(&l);
	cleanup();
}

/* A rule that is valid, for tests that change one thing: the condition's lines are 6-10.
 *   line 1 rules:
 *   line 2   - id: r1              id at col 5, its value at col 9
 *   line 3     name: Rule one      value at col 11
 *   line 4     technique: T1567    value at col 16
 *   line 5     severity: high      value at col 15
 *   line 6     condition:          the mapping starts at line 7 col 7
 *   line 7       detector: volume  value at col 17
 *   line 8       key: destination  value at col 12
 *   line 9       window: 1h        value at col 15
 *   line 10      bytes_out: 100MB  value at col 18
 */
#define RULE_HEAD "rules:\n" RULE_ITEM
#define RULE_ITEM                                                                            \
	"  - id: r1\n"                                                                       \
	"    name: Rule one\n"                                                               \
	"    technique: T1567\n"                                                             \
	"    severity: high\n"
#define RULE_COND                                                                            \
	"    condition:\n"                                                                   \
	"      detector: volume\n"                                                           \
	"      key: destination\n"                                                           \
	"      window: 1h\n"                                                                 \
	"      bytes_out: 100MB\n"

/* ---- Valid files ----------------------------------------------------------------- */

static const char every_key[] =
	"ruleset: t1567\n"
	"rules:\n"
	"  - id: t1567.002-cloud-upload\n"
	"    name: Large upload to cloud storage\n"
	"    description: More than 100 MB to a new cloud storage domain in an hour\n"
	"    technique: T1567\n"
	"    subtechnique: T1567.002\n"
	"    severity: high\n"
	"    enabled: false\n"
	"    match:\n"
	"      direction: any\n"
	"      transport: [tcp, udp]\n"
	"      ports: [443, 8000-8100]\n"
	"      not_ports: [8080]\n"
	"      apps: [tls, quic, none]\n"
	"      categories: [cloud_storage, paste, none]\n"
	"      domains: [example.com, \"*.files.example.net\"]\n"
	"      domain_lists: [lists/custom.txt]\n"
	"      not_domains: [ok.example.com]\n"
	"      countries: [CN, RU]\n"
	"      not_countries: [US]\n"
	"      asns: [13335, 4294967295]\n"
	"      tenant: foreign\n"
	"    condition:\n"
	"      detector: volume\n"
	"      key: registered_domain\n"
	"      window: 1h\n"
	"      bytes_out: 100MB\n"
	"      packets_out: 1000\n"
	"      flows: 3\n"
	"      ratio_out_in: 3.5\n"
	"      new_destination: true\n"
	"      new_scope: site\n"
	"    suppress: 2h\n"
	"  - id: dns-tunnel\n"
	"    name: DNS tunnel\n"
	"    technique: T1048\n"
	"    subtechnique: T1048.003\n"
	"    severity: medium\n"
	"    condition:\n"
	"      detector: dns_tunnel\n"
	"      key: registered_domain\n"
	"      window: 10m\n"
	"      queries: 100\n"
	"      unique_names: 25\n"
	"      name_bytes: 2KB\n"
	"      max_label_length: 40\n"
	"      mean_entropy: 3.5\n"
	"      txt_null_share: 0.5\n"
	"  - id: icmp-tunnel\n"
	"    name: ICMP tunnel\n"
	"    technique: T1095\n"
	"    severity: low\n"
	"    enabled: true\n"
	"    condition:\n"
	"      detector: icmp_tunnel\n"
	"      window: 5m\n"
	"      payload_bytes: 64KiB\n"
	"      large_payloads: 10\n"
	"      distinct_payloads: 12\n"
	"    suppress: 0s\n";

static void test_every_key(void **state)
{
	(void)state;
	char dir[64], path[256], err[ERRLEN];
	struct ruleset_list l = { 0, NULL };
	make_dir(dir, sizeof(dir));
	write_named(dir, "lists/custom.txt",
		    "# custom exfiltration sites\ndrop.example.org\n\nUpload.Example.IO # x\n");
	write_rules(dir, every_key, path, sizeof(path));
	char *paths[] = { path };
	int n = rules_load_files(&l, paths, 1, err, sizeof(err));
	if (n)
		fail_msg("%d problems:\n%s", n, err);
	assert_string_equal(err, "");
	assert_int_equal(l.n, 3);

	const struct rule *r = &l.rules[0];
	assert_string_equal(r->id, "t1567.002-cloud-upload");
	assert_string_equal(r->name, "Large upload to cloud storage");
	assert_string_equal(r->description,
			    "More than 100 MB to a new cloud storage domain in an hour");
	assert_string_equal(r->ruleset, "t1567");
	assert_string_equal(r->technique, "T1567");
	assert_string_equal(r->subtechnique, "T1567.002");
	assert_int_equal(r->severity, RULE_SEVERITY_HIGH);
	assert_int_equal(r->severity, 3);
	assert_false(r->enabled);
	assert_true(r->any_direction);
	assert_int_equal(r->transports, RULE_TRANSPORT_TCP | RULE_TRANSPORT_UDP);
	assert_int_equal(r->nports, 2);
	assert_int_equal(r->ports[0].lo, 443);
	assert_int_equal(r->ports[0].hi, 443);
	assert_int_equal(r->ports[1].lo, 8000);
	assert_int_equal(r->ports[1].hi, 8100);
	assert_int_equal(r->nnot_ports, 1);
	assert_int_equal(r->not_ports[0].lo, 8080);
	assert_int_equal(r->apps, RULE_APP_TLS | RULE_APP_QUIC | RULE_APP_NONE);
	assert_int_equal(r->apps, (1u << 0) | (1u << 2) | (1u << 8));
	assert_int_equal(r->categories, (1u << ENRICH_CAT_CLOUD_STORAGE) |
						(1u << ENRICH_CAT_PASTE) | (1u << ENRICH_CAT_NONE));
	assert_non_null(r->domains);
	assert_int_equal(domain_set_count(r->domains), 4); /* 2 written, 2 from the list */
	assert_non_null(domain_set_match(r->domains, "www.example.com", 15));
	assert_non_null(domain_set_match(r->domains, "a.files.example.net", 19));
	assert_non_null(domain_set_match(r->domains, "drop.example.org", 16));
	assert_non_null(domain_set_match(r->domains, "x.upload.example.io", 19));
	assert_null(domain_set_match(r->domains, "example.org", 11));
	assert_non_null(r->not_domains);
	assert_int_equal(domain_set_count(r->not_domains), 1);
	assert_non_null(domain_set_match(r->not_domains, "ok.example.com", 14));
	assert_int_equal(r->ncountries, 2);
	assert_string_equal(r->countries[0], "CN");
	assert_string_equal(r->countries[1], "RU");
	assert_int_equal(r->nnot_countries, 1);
	assert_string_equal(r->not_countries[0], "US");
	assert_int_equal(r->nasns, 2);
	assert_int_equal(r->asns[0], 13335);
	assert_int_equal(r->asns[1], 4294967295u);
	assert_int_equal(r->tenant, RULE_TENANT_FOREIGN);
	assert_int_equal(r->detector, RULE_VOLUME);
	assert_int_equal(r->key, RULE_KEY_REGISTERED_DOMAIN);
	assert_int_equal(r->window_s, 3600);
	assert_int_equal(r->bytes_out, 100000000);
	assert_int_equal(r->packets_out, 1000);
	assert_int_equal(r->flows, 3);
	assert_true(r->ratio_out_in == 3.5);
	assert_true(r->new_destination);
	assert_true(r->new_site);
	assert_int_equal(r->queries, 0);
	assert_int_equal(r->payload_bytes, 0);
	assert_int_equal(r->suppress_s, 7200);
	assert_string_equal(r->file, path);
	assert_int_equal(r->line, 3); /* the id's value */
	assert_int_equal(r->col, 9);

	r = &l.rules[1];
	assert_string_equal(r->id, "dns-tunnel");
	assert_string_equal(r->ruleset, "t1567");
	assert_null(r->description);
	assert_string_equal(r->subtechnique, "T1048.003");
	assert_int_equal(r->severity, RULE_SEVERITY_MEDIUM);
	assert_true(r->enabled); /* default */
	assert_false(r->any_direction);
	assert_int_equal(r->transports, 0);
	assert_int_equal(r->apps, 0);
	assert_int_equal(r->categories, 0);
	assert_null(r->domains);
	assert_null(r->not_domains);
	assert_int_equal(r->tenant, RULE_TENANT_ANY);
	assert_int_equal(r->detector, RULE_DNS_TUNNEL);
	assert_int_equal(r->key, RULE_KEY_REGISTERED_DOMAIN);
	assert_int_equal(r->window_s, 600);
	assert_int_equal(r->queries, 100);
	assert_int_equal(r->unique_names, 25);
	assert_int_equal(r->name_bytes, 2000);
	assert_int_equal(r->max_label_length, 40);
	assert_true(r->mean_entropy == 3.5);
	assert_true(r->txt_null_share == 0.5);
	assert_false(r->new_destination);
	assert_int_equal(r->bytes_out, 0);
	assert_int_equal(r->suppress_s, 3600); /* default */
	assert_int_equal(r->line, 35);

	r = &l.rules[2];
	assert_string_equal(r->id, "icmp-tunnel");
	assert_string_equal(r->subtechnique, "");
	assert_int_equal(r->severity, RULE_SEVERITY_LOW);
	assert_true(r->enabled);
	assert_int_equal(r->transports, 0);
	assert_int_equal(r->detector, RULE_ICMP_TUNNEL);
	assert_int_equal(r->key, RULE_KEY_DESTINATION); /* fixed */
	assert_int_equal(r->window_s, 300);
	assert_int_equal(r->payload_bytes, 65536);
	assert_int_equal(r->large_payloads, 10);
	assert_int_equal(r->distinct_payloads, 12);
	assert_int_equal(r->suppress_s, 0);
	assert_int_equal(r->nports, 0);

	rules_free(&l);
	assert_int_equal(l.n, 0);
	assert_null(l.rules);
	cleanup();
}

/* Without ruleset:, the ruleset is the file's name without .yaml. */
static void test_default_ruleset(void **state)
{
	(void)state;
	char dir[64], path[256], err[ERRLEN];
	struct ruleset_list l = { 0, NULL };
	make_dir(dir, sizeof(dir));
	write_rules(dir, RULE_HEAD RULE_COND, path, sizeof(path));
	char *paths[] = { path };
	assert_int_equal(rules_load_files(&l, paths, 1, err, sizeof(err)), 0);
	assert_int_equal(l.n, 1);
	const char *base = strrchr(path, '/') + 1;
	assert_int_equal(strlen(l.rules[0].ruleset), strlen(base) - 5);
	assert_memory_equal(l.rules[0].ruleset, base, strlen(base) - 5);
	assert_int_equal(l.rules[0].suppress_s, 3600);
	assert_true(l.rules[0].enabled);
	rules_free(&l);
	cleanup();
}

static void test_engine_helpers(void **state)
{
	(void)state;
	struct rule r;
	memset(&r, 0, sizeof(r));
	/* no ports given: everything, ports or not */
	assert_true(rule_port_matches(&r, 0));
	assert_true(rule_port_matches(&r, 443));
	r.nports = 2;
	r.ports[0] = (struct rule_port_range){ 443, 443 };
	r.ports[1] = (struct rule_port_range){ 8000, 8100 };
	assert_true(rule_port_matches(&r, 443));
	assert_true(rule_port_matches(&r, 8000));
	assert_true(rule_port_matches(&r, 8100));
	assert_false(rule_port_matches(&r, 8101));
	assert_false(rule_port_matches(&r, 444));
	assert_false(rule_port_matches(&r, 0)); /* a flow without ports */
	r.nnot_ports = 1;
	r.not_ports[0] = (struct rule_port_range){ 8050, 8059 };
	assert_false(rule_port_matches(&r, 8055));
	assert_true(rule_port_matches(&r, 8049));
	r.nports = 0;
	assert_true(rule_port_matches(&r, 0));
	assert_true(rule_port_matches(&r, 80));
	assert_false(rule_port_matches(&r, 8050));

	assert_int_equal(rule_app_bit("tls"), RULE_APP_TLS);
	assert_int_equal(rule_app_bit("ftp-data"), RULE_APP_FTP_DATA);
	assert_int_equal(rule_app_bit("smtp"), RULE_APP_SMTP);
	assert_int_equal(rule_app_bit(NULL), RULE_APP_NONE);
	assert_int_equal(rule_app_bit(""), RULE_APP_NONE);
	assert_int_equal(rule_app_bit("smb"), 0);
	assert_string_equal(rule_detector_name(RULE_ICMP_TUNNEL), "icmp_tunnel");
	assert_string_equal(rule_key_name(RULE_KEY_TENANT), "tenant");
	assert_string_equal(rule_severity_name(2), "medium");
	assert_string_equal(rule_severity_name(0), "unknown");
}

/* ---- One problem each, at the right place ------------------------------------------- */

static void test_unknown_keys(void **state)
{
	(void)state;
	/* line 6 "    severty: low": the key at col 5 */
	expect_one(RULE_HEAD "    severty: low\n" RULE_COND, "F:6:5: unknown key 'severty'");
	/* line 8 "      prots: [443]": col 7 */
	expect_one(RULE_HEAD "    match:\n      transport: [tcp]\n      prots: [443]\n" RULE_COND,
		   "F:8:7: unknown key 'match.prots'");
	/* line 11 after the condition */
	expect_one(RULE_HEAD RULE_COND "      treshold: 5\n",
		   "F:11:7: unknown key 'condition.treshold'");
	/* top level, line 1 */
	expect_one("rule_set: x\n" RULE_HEAD RULE_COND, "F:1:1: unknown key 'rule_set'");
	/* a key twice: the second is reported, naming the first's line */
	expect_one(RULE_HEAD "    name: Again\n" RULE_COND,
		   "F:6:5: duplicate key 'name' (first at line 3)");
}

static void test_wrong_types(void **state)
{
	(void)state;
	/* "    name: [a, b]": '[' at col 11 */
	expect_one("rules:\n  - id: r1\n    name: [a, b]\n    technique: T1567\n"
		   "    severity: high\n" RULE_COND,
		   "F:3:11: name: expected a single value, not a list");
	/* "    match: [tcp]" at line 6, col 12 */
	expect_one(RULE_HEAD "    match: [tcp]\n" RULE_COND,
		   "F:6:12: match: expected a mapping of constraints");
	/* "      ports: 443" at line 7: the value at col 14 */
	expect_one(RULE_HEAD "    match:\n      ports: 443\n" RULE_COND,
		   "F:7:14: match.ports: expected a list, e.g. [443, 8000-8100]");
	/* "    enabled: yes" at line 6 col 14 */
	expect_one(RULE_HEAD "    enabled: yes\n" RULE_COND,
		   "F:6:14: enabled: 'yes' is not true or false");
	/* rules: must be a list: "rules: {}" col 8 */
	expect_one("rules: {}\n", "F:1:8: rules: expected a list of rules");
	/* a rule that is not a mapping: "  - just text" col 5 */
	expect_one("rules:\n  - just text\n",
		   "F:2:5: a rule is a mapping of keys (id, name, technique, ...)");
	/* an empty list: "      transport: []" line 7 col 18 */
	expect_one(RULE_HEAD "    match:\n      transport: []\n" RULE_COND,
		   "F:7:18: match.transport: empty list (leave the key out instead)");
	/* no value: "    description:" line 6, the empty scalar is where the value would be */
	struct ruleset_list l = { 0, NULL };
	char err[ERRLEN];
	assert_int_equal(load_text(RULE_HEAD "    description:\n" RULE_COND, &l, err), 1);
	assert_string_equal(err, "F:6:17: description: has no value\n");
	cleanup();
}

static void test_bad_values(void **state)
{
	(void)state;
	expect_one("rules:\n  - id: R1\n    name: Rule one\n    technique: T1567\n"
		   "    severity: high\n" RULE_COND,
		   "F:2:9: id: 'R1' is not a valid rule id (1 to 64 of a-z 0-9 . _ -)");
	expect_one("rules:\n  - id: r1\n    name: Rule one\n    technique: T15670\n"
		   "    severity: high\n" RULE_COND,
		   "F:4:16: technique: 'T15670' is not an ATT&CK technique id (T and four "
		   "digits, e.g. T1567)");
	/* "    subtechnique: T1048.003" line 6, value col 19 */
	expect_one(RULE_HEAD "    subtechnique: T1048.003\n" RULE_COND,
		   "F:6:19: subtechnique: T1048.003 is not a sub-technique of T1567");
	expect_one(RULE_HEAD "    subtechnique: T1567.2\n" RULE_COND,
		   "F:6:19: subtechnique: 'T1567.2' is not an ATT&CK sub-technique id (e.g. "
		   "T1567.002)");
	expect_one("rules:\n  - id: r1\n    name: Rule one\n    technique: T1567\n"
		   "    severity: critical\n" RULE_COND,
		   "F:5:15: severity: 'critical' is not one of low, medium, high");
	/* "      ports: [443, 70000]": '7' at col 20 */
	expect_one(RULE_HEAD "    match:\n      ports: [443, 70000]\n" RULE_COND,
		   "F:7:20: match.ports: '70000' is not a port or a range of ports (1 to "
		   "65535, e.g. 443 or 8000-8100)");
	/* "      not_ports: [8100-8000]": col 19 */
	expect_one(RULE_HEAD "    match:\n      not_ports: [8100-8000]\n" RULE_COND,
		   "F:7:19: match.not_ports: '8100-8000' is not a port or a range of ports (1 "
		   "to 65535, e.g. 443 or 8000-8100)");
	/* "      transport: [tcp, sctp]": col 24 */
	expect_one(RULE_HEAD "    match:\n      transport: [tcp, sctp]\n" RULE_COND,
		   "F:7:24: match.transport: 'sctp' is not one of tcp, udp, icmp");
	expect_one(RULE_HEAD "    match:\n      apps: [smb]\n" RULE_COND,
		   "F:7:14: match.apps: 'smb' is not one of tls, http, quic, dns, ssh, ftp, "
		   "ftp-data, smtp, none");
	/* "      categories: [cloud]": col 20 */
	expect_one(RULE_HEAD "    match:\n      categories: [cloud]\n" RULE_COND,
		   "F:7:20: match.categories: unknown category 'cloud' (cloud_storage, paste, "
		   "code_repository, webhook, file_drop, tunnel_service, none)");
	/* "      countries: [CN, UK, cn]": UK at col 23, cn at col 27 */
	struct ruleset_list l = { 0, NULL };
	char err[ERRLEN];
	assert_int_equal(load_text(RULE_HEAD "    match:\n      countries: [CN, UK, cn]\n" RULE_COND,
				   &l, err),
			 2);
	assert_line(err, "F:7:23: match.countries: 'UK' is not an ISO 3166 alpha-2 country code "
			 "(two capital letters, e.g. GB)");
	assert_line(err, "F:7:27: match.countries: 'cn' is not an ISO 3166 alpha-2 country code "
			 "(two capital letters, e.g. GB)");
	cleanup();
	expect_one(RULE_HEAD "    match:\n      asns: [0]\n" RULE_COND,
		   "F:7:14: match.asns: 0 is out of range (1 to 4294967295)");
	expect_one(RULE_HEAD "    match:\n      asns: [AS13335]\n" RULE_COND,
		   "F:7:14: match.asns: 'AS13335' is not a whole number");
	expect_one(RULE_HEAD "    match:\n      tenant: mine\n" RULE_COND,
		   "F:7:15: match.tenant: 'mine' is not one of any, foreign, own");
	expect_one(RULE_HEAD "    match:\n      direction: inbound\n" RULE_COND,
		   "F:7:18: match.direction: 'inbound' is not one of outbound, any");
	/* "      domains: [exa mple.com]": col 17 */
	l.n = 0;
	assert_int_equal(load_text(RULE_HEAD "    match:\n      domains: [\"exa mple.com\"]\n"
				   RULE_COND, &l, err), 1);
	assert_int_equal(strncmp(err, "F:7:17: match.domains: ", 23), 0);
	cleanup();
	/* suppress: "    suppress: 8d" line 6 col 15 */
	expect_one(RULE_HEAD "    suppress: 8d\n" RULE_COND,
		   "F:6:15: suppress: 8d is out of range (0s to 604800s)");
	/* a name over 200 bytes */
	char text[1024];
	char longname[202];
	memset(longname, 'n', 201);
	longname[201] = '\0';
	snprintf(text, sizeof(text),
		 "rules:\n  - id: r1\n    name: %s\n    technique: T1567\n    severity: high\n"
		 RULE_COND, longname);
	expect_one(text, "F:3:11: name: must be 1 to 200 bytes long");
}

static void test_condition_values(void **state)
{
	(void)state;
	/* window: "      window: 48h" line 9 col 15 */
	expect_one(RULE_HEAD "    condition:\n      detector: volume\n      key: destination\n"
			     "      window: 48h\n      bytes_out: 1MB\n",
		   "F:9:15: condition.window: 48h is out of range (1s to 86400s)");
	expect_one(RULE_HEAD "    condition:\n      detector: volume\n      key: destination\n"
			     "      window: 1.5h\n      bytes_out: 1MB\n",
		   "F:9:15: condition.window: '1.5h' is not a duration in whole seconds (30s, "
		   "10m, 24h)");
	expect_one(RULE_HEAD "    condition:\n      detector: volume\n      key: destination\n"
			     "      window: 1h\n      bytes_out: 100 MB\n",
		   "F:10:18: condition.bytes_out: '100 MB' is not a size (500KB, 50MB, 2GB, "
		   "64KiB)");
	expect_one(RULE_HEAD "    condition:\n      detector: volume\n      key: destination\n"
			     "      window: 1h\n      bytes_out: 0\n",
		   "F:10:18: condition.bytes_out: must be at least 1 byte");
	expect_one(RULE_HEAD "    condition:\n      detector: volumes\n      key: destination\n"
			     "      window: 1h\n      bytes_out: 1MB\n",
		   "F:7:17: condition.detector: 'volumes' is not one of volume, dns_tunnel, "
		   "icmp_tunnel");
	expect_one(RULE_HEAD "    condition:\n      detector: volume\n      key: host\n"
			     "      window: 1h\n      bytes_out: 1MB\n",
		   "F:8:12: condition.key: 'host' is not one of source, destination, "
		   "registered_domain, category, tenant");
	/* key missing for volume: reported at the condition mapping, line 7 col 7 */
	expect_one(RULE_HEAD "    condition:\n      detector: volume\n      window: 1h\n"
			     "      bytes_out: 1MB\n",
		   "F:7:7: condition: missing required key 'key' (source, destination, "
		   "registered_domain, category or tenant)");
	expect_one(RULE_HEAD "    condition:\n      detector: dns_tunnel\n      key: destination\n"
			     "      window: 1h\n      queries: 10\n",
		   "F:8:12: condition.key: dns_tunnel rules are kept per registered_domain");
	/* "      mean_entropy: 9" line 10 col 21 */
	expect_one(RULE_HEAD "    condition:\n      detector: dns_tunnel\n      window: 1h\n"
			     "      queries: 10\n      mean_entropy: 9\n",
		   "F:10:21: condition.mean_entropy: 9 is out of range (above 0, at most 8)");
	expect_one(RULE_HEAD "    condition:\n      detector: dns_tunnel\n      window: 1h\n"
			     "      txt_null_share: .5\n",
		   "F:9:23: condition.txt_null_share: '.5' is not a number (e.g. 3 or 0.5)");
	/* "      unique_names: 257" line 9 col 21: 256 names are tracked per key */
	expect_one(RULE_HEAD "    condition:\n      detector: dns_tunnel\n      window: 1h\n"
			     "      unique_names: 257\n",
		   "F:9:21: condition.unique_names: 257 is out of range (1 to 256)");
	expect_one(RULE_HEAD "    condition:\n      detector: dns_tunnel\n      window: 1h\n"
			     "      max_label_length: 64\n",
		   "F:9:25: condition.max_label_length: 64 is out of range (1 to 63)");
	expect_one(RULE_HEAD RULE_COND "      new_scope: site\n",
		   "F:11:18: condition.new_scope: only means something with new_destination: "
		   "true");
	/* only volume rules consult the baseline: "      new_destination: true" line 10 */
	expect_one(RULE_HEAD "    condition:\n      detector: dns_tunnel\n      window: 1h\n"
			     "      queries: 5\n      new_destination: true\n",
		   "F:10:7: condition.new_destination: only volume rules look for new "
		   "destinations");
	/* the tunnel detectors take no match: reported at the key, line 6 col 5 */
	expect_one(RULE_HEAD "    match:\n      transport: [icmp]\n    condition:\n"
			     "      detector: icmp_tunnel\n      window: 1h\n"
			     "      large_payloads: 5\n",
		   "F:6:5: match: icmp_tunnel rules take no match (they look at every ICMP "
		   "echo request a home_net host sends out)");
	expect_one(RULE_HEAD "    match:\n      apps: [dns]\n    condition:\n"
			     "      detector: dns_tunnel\n      window: 1h\n      queries: 5\n",
		   "F:6:5: match: dns_tunnel rules take no match (they look at every DNS query "
		   "a home_net host sends)");

	/* key source with new_destination: new is said of the flow's destination */
	struct ruleset_list l = { 0, NULL };
	char err[ERRLEN];
	assert_int_equal(load_text(RULE_HEAD "    condition:\n      detector: volume\n"
					     "      key: source\n      window: 1h\n"
					     "      flows: 10\n      new_destination: true\n"
					     "      new_scope: host\n", &l, err), 0);
	assert_int_equal(l.n, 1);
	assert_int_equal(l.rules[0].key, RULE_KEY_SOURCE);
	assert_true(l.rules[0].new_destination);
	assert_false(l.rules[0].new_site);
	rules_free(&l);
	cleanup();
}

/* A measure of another detector is named at its key. */
static void test_measure_of_other_detector(void **state)
{
	(void)state;
	/* "      bytes_out: 1MB" line 10 col 7 */
	expect_one(RULE_HEAD "    condition:\n      detector: dns_tunnel\n      window: 1h\n"
			     "      queries: 100\n      bytes_out: 1MB\n",
		   "F:10:7: condition.bytes_out: not a measure of dns_tunnel (it takes "
		   "queries, unique_names, name_bytes, max_label_length, mean_entropy, "
		   "txt_null_share)");
	expect_one(RULE_HEAD RULE_COND "      payload_bytes: 1KB\n",
		   "F:11:7: condition.payload_bytes: not a measure of volume (it takes "
		   "bytes_out, packets_out, flows, ratio_out_in)");
	expect_one(RULE_HEAD "    condition:\n      detector: icmp_tunnel\n      window: 1h\n"
			     "      large_payloads: 3\n      queries: 100\n",
		   "F:10:7: condition.queries: not a measure of icmp_tunnel (it takes "
		   "payload_bytes, large_payloads, distinct_payloads)");
}

/* A condition that constrains nothing, reported at the condition mapping (line 7 col 7). */
static void test_condition_constrains_nothing(void **state)
{
	(void)state;
	expect_one(RULE_HEAD "    condition:\n      detector: volume\n      key: destination\n"
			     "      window: 1h\n      ratio_out_in: 3\n      new_destination: true\n",
		   "F:7:7: condition: a volume rule needs at least one of bytes_out, "
		   "packets_out, flows");
	expect_one(RULE_HEAD "    condition:\n      detector: dns_tunnel\n      window: 1h\n",
		   "F:7:7: condition: a dns_tunnel rule needs at least one of queries, "
		   "unique_names, name_bytes, max_label_length, mean_entropy, txt_null_share");
	expect_one(RULE_HEAD "    condition:\n      detector: icmp_tunnel\n      window: 1h\n",
		   "F:7:7: condition: an icmp_tunnel rule needs at least one of payload_bytes, "
		   "large_payloads, distinct_payloads");
}

/* Missing keys are reported at the rule's mapping: "  - id: r1" -> line 2 col 5. */
static void test_missing_keys(void **state)
{
	(void)state;
	struct ruleset_list l = { 0, NULL };
	char err[ERRLEN];
	int n = load_text("rules:\n  - id: r1\n    description: nothing else\n", &l, err);
	assert_int_equal(n, 4);
	assert_line(err, "F:2:5: missing required key 'name'");
	assert_line(err, "F:2:5: missing required key 'technique'");
	assert_line(err, "F:2:5: missing required key 'severity'");
	assert_line(err, "F:2:5: missing required key 'condition'");
	assert_int_equal(count_lines(err), 4);
	cleanup();
	/* condition without detector and window: line 7 col 7 */
	expect_one(RULE_HEAD "    condition:\n      detector: volume\n      key: source\n"
			     "      bytes_out: 1MB\n",
		   "F:7:7: condition: missing required key 'window' (1s to 24h)");
	expect_one("ruleset: x\n", "F:1:1: missing required key 'rules'");
	expect_one("", "F:1:1: no rules: expected 'rules:' and a list of rules");
	expect_one("- a\n", "F:1:1: the top level must be a mapping with 'rules:' (and optionally "
			    "'ruleset:')");
}

/* Several problems in one file: all reported, the count is theirs. */
static void test_several_problems(void **state)
{
	(void)state;
	static const char text[] =
		"ruleset: Bad Name\n"		/* 1: value col 10 */
		"rules:\n"			/* 2 */
		"  - id: a\n"			/* 3 */
		"    name: A\n"			/* 4 */
		"    technique: T1567\n"	/* 5 */
		"    severity: urgent\n"	/* 6: value col 15 */
		"    match:\n"			/* 7 */
		"      ports: [0]\n"		/* 8: '0' col 15 */
		"      countries: [XX]\n"	/* 9: col 19 */
		"    condition:\n"		/* 10 */
		"      detector: volume\n"	/* 11: mapping starts col 7 */
		"      key: tenant\n"		/* 12 */
		"      window: 0s\n"		/* 13: value col 15 */
		"      flows: 1\n"		/* 14 */
		"  - id: b\n"			/* 15 */
		"    name: B\n"			/* 16 */
		"    technique: T1567\n"	/* 17 */
		"    severity: low\n"		/* 18 */
		"    suppress: 1w\n"		/* 19: value col 15 */
		"    condition:\n"		/* 20 */
		"      detector: icmp_tunnel\n" /* 21 */
		"      window: 1m\n"		/* 22 */
		"      flows: 1\n";		/* 23: key col 7; and nothing else: 21:7 */
	struct ruleset_list l = { 0, NULL };
	char err[ERRLEN];
	int n = load_text(text, &l, err);
	assert_line(err, "F:1:10: ruleset: 'Bad Name' is not a ruleset name (1 to 64 of A-Z a-z "
			 "0-9 . _ -)");
	assert_line(err, "F:6:15: severity: 'urgent' is not one of low, medium, high");
	assert_line(err, "F:8:15: match.ports: '0' is not a port or a range of ports (1 to 65535, "
			 "e.g. 443 or 8000-8100)");
	assert_line(err, "F:9:19: match.countries: 'XX' is not an ISO 3166 alpha-2 country code "
			 "(two capital letters, e.g. GB)");
	assert_line(err, "F:13:15: condition.window: 0s is out of range (1s to 86400s)");
	assert_line(err, "F:19:15: suppress: '1w' is not a duration in whole seconds (30s, 10m, "
			 "24h)");
	assert_line(err, "F:23:7: condition.flows: not a measure of icmp_tunnel (it takes "
			 "payload_bytes, large_payloads, distinct_payloads)");
	assert_line(err, "F:21:7: condition: an icmp_tunnel rule needs at least one of "
			 "payload_bytes, large_payloads, distinct_payloads");
	assert_int_equal(n, 8);
	assert_int_equal(count_lines(err), 8);
	assert_int_equal(l.n, 0); /* rules with problems are not added */
	rules_free(&l);
	cleanup();
}

/* ---- Ids ------------------------------------------------------------------------------- */

static void test_duplicate_ids_one_file(void **state)
{
	(void)state;
	/* the second "  - id: r1" at line 11, value col 9; the first at 2:9 */
	struct ruleset_list l = { 0, NULL };
	char err[ERRLEN];
	int n = load_text(RULE_HEAD RULE_COND RULE_ITEM RULE_COND, &l, err);
	assert_int_equal(n, 1);
	assert_string_equal(err, "F:11:9: duplicate rule id 'r1' (first defined at F:2:9)\n");
	assert_int_equal(l.n, 1); /* the first is kept */
	rules_free(&l);
	cleanup();
}

static void test_duplicate_ids_two_files(void **state)
{
	(void)state;
	char dir[64], f1[256], f2[256], err[ERRLEN];
	struct ruleset_list l = { 0, NULL };
	make_dir(dir, sizeof(dir));
	write_rules(dir, RULE_HEAD RULE_COND, f1, sizeof(f1));
	/* G: "ruleset: other" shifts the rule down a line: id value at 3:9 */
	write_rules(dir, "ruleset: other\n" RULE_HEAD RULE_COND, f2, sizeof(f2));
	char *paths[] = { f1, f2 };
	int n = rules_load_files(&l, paths, 2, err, sizeof(err));
	subst(err, f1, "F");
	subst(err, f2, "G");
	assert_int_equal(n, 1);
	assert_string_equal(err, "G:3:9: duplicate rule id 'r1' (first defined at F:2:9)\n");
	assert_int_equal(l.n, 1);

	/* a later call sees the rules already loaded */
	char *again[] = { f2 };
	n = rules_load_files(&l, again, 1, err, sizeof(err));
	subst(err, f1, "F");
	subst(err, f2, "G");
	assert_int_equal(n, 1);
	assert_string_equal(err, "G:3:9: duplicate rule id 'r1' (first defined at F:2:9)\n");

	/* a rule with another problem still takes its id */
	rules_free(&l);
	write_rules(dir, RULE_HEAD "    severity: high\n" RULE_COND, f1, sizeof(f1));
	char *both[] = { f1, f2 };
	n = rules_load_files(&l, both, 2, err, sizeof(err));
	subst(err, f1, "F");
	subst(err, f2, "G");
	assert_int_equal(n, 2);
	assert_line(err, "F:6:5: duplicate key 'severity' (first at line 5)");
	assert_line(err, "G:3:9: duplicate rule id 'r1' (first defined at F:2:9)");
	assert_int_equal(l.n, 0);
	rules_free(&l);
	cleanup();
}

/* ---- YAML features and limits ------------------------------------------------------- */

static void test_aliases_refused(void **state)
{
	(void)state;
	struct ruleset_list l = { 0, NULL };
	char err[ERRLEN];
	/* "    name: &n Rule A" line 3, the anchor at col 11; "    name: *n" line 13 col 11 */
	int n = load_text("rules:\n"
			  "  - id: a\n"
			  "    name: &n Rule A\n"
			  "    technique: T1567\n"
			  "    severity: high\n"
			  "    condition:\n"
			  "      detector: volume\n"
			  "      key: source\n"
			  "      window: 1h\n"
			  "      bytes_out: 1MB\n"
			  "  - id: b\n"
			  "    technique: T1567\n"
			  "    name: *n\n"
			  "    severity: high\n",
			  &l, err);
	assert_string_equal(err, "F:3:11: anchors are not allowed in rule files\n"
				 "F:13:11: aliases are not allowed in rule files\n");
	assert_int_equal(n, 2);
	assert_int_equal(l.n, 0); /* nothing is built from a file with aliases */
	cleanup();
	/* an alias alone (even to nothing) */
	expect_one(RULE_HEAD RULE_COND "    suppress: *none\n",
		   "F:11:15: aliases are not allowed in rule files");
	/* the billion laughs never get walked */
	n = load_text("a: &a [x, x, x, x, x, x, x, x, x, x]\n"
		      "b: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a, *a]\n"
		      "c: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b, *b]\n"
		      "d: &d [*c, *c, *c, *c, *c, *c, *c, *c, *c, *c]\n"
		      "e: &e [*d, *d, *d, *d, *d, *d, *d, *d, *d, *d]\n"
		      "f: &f [*e, *e, *e, *e, *e, *e, *e, *e, *e, *e]\n"
		      "g: &g [*f, *f, *f, *f, *f, *f, *f, *f, *f, *f]\n"
		      "rules: [*g, *g, *g, *g, *g, *g, *g, *g, *g, *g]\n",
		      &l, err);
	assert_int_equal(n, 7 + 70); /* 7 anchors, 70 aliases */
	assert_int_equal(l.n, 0);
	cleanup();
}

static void test_nesting_depth(void **state)
{
	(void)state;
	struct ruleset_list l = { 0, NULL };
	char err[ERRLEN], text[128];
	/* the top mapping is level 1 and the k-th '[' (col 7 + k) level k + 1: 19 '[' nest 20
	 * deep, and the 17th level is the 16th '[' at col 23 */
	snprintf(text, sizeof(text), "rules: %.*s1%.*s\n", 19, "[[[[[[[[[[[[[[[[[[[[", 19,
		 "]]]]]]]]]]]]]]]]]]]]");
	expect_one(text, "F:1:23: nested deeper than 16 levels");
	/* 16 deep is read (and its one rule, a list, is wrong) */
	snprintf(text, sizeof(text), "rules: %.*s1%.*s\n", 15, "[[[[[[[[[[[[[[[[[[[[", 15,
		 "]]]]]]]]]]]]]]]]]]]]");
	expect_one(text, "F:1:9: a rule is a mapping of keys (id, name, technique, ...)");
	/* 17 deep in block style: a mapping per level, "k:" indented by 1 each */
	char deep[1024];
	size_t o = 0;
	for (int i = 0; i < 17; i++)
		o += (size_t)snprintf(deep + o, sizeof(deep) - o, "%*sk:\n", i, "");
	snprintf(deep + o, sizeof(deep) - o, "%*sk: v\n", 17, "");
	/* level 17 is the mapping starting at line 17, col 17 */
	l.n = 0;
	int n = load_text(deep, &l, err);
	assert_int_equal(n, 1);
	assert_string_equal(err, "F:17:17: nested deeper than 16 levels\n");
	cleanup();
}

static void test_yaml_syntax(void **state)
{
	(void)state;
	struct ruleset_list l = { 0, NULL };
	char err[ERRLEN];
	int n = load_text("rules:\n  - id: [r1\n", &l, err);
	assert_int_equal(n, 1);
	assert_int_equal(strncmp(err, "F:3:1: YAML syntax: ", 20), 0);
	cleanup();
	expect_one(RULE_HEAD RULE_COND "---\nrules: []\n",
		   "F:11:1: a rule file holds one YAML document");
}

static void test_file_limits(void **state)
{
	(void)state;
	char dir[64], path[256], err[ERRLEN];
	struct ruleset_list l = { 0, NULL };
	make_dir(dir, sizeof(dir));

	/* over 1 MiB */
	snprintf(path, sizeof(path), "%s/big-XXXXXX.yaml", dir);
	int fd = mkstemps(path, 5);
	assert_true(fd >= 0);
	remember(path);
	char *big = malloc(RULES_MAX_FILE_SIZE + 2);
	assert_non_null(big);
	memset(big, '#', RULES_MAX_FILE_SIZE + 1);
	big[RULES_MAX_FILE_SIZE + 1] = '\0';
	write_all(fd, big);
	free(big);
	char *paths[] = { path };
	assert_int_equal(rules_load_files(&l, paths, 1, err, sizeof(err)), 1);
	subst(err, path, "F");
	assert_string_equal(err, "F:1:1: file is larger than 1048576 bytes\n");

	/* a missing file */
	snprintf(path, sizeof(path), "%s/missing.yaml", dir);
	assert_int_equal(rules_load_files(&l, paths, 1, err, sizeof(err)), 1);
	subst(err, path, "F");
	assert_string_equal(err, "F:1:1: cannot open: No such file or directory\n");

	/* a directory */
	char *dirs[] = { dir };
	assert_int_equal(rules_load_files(&l, dirs, 1, err, sizeof(err)), 1);
	subst(err, dir, "D");
	assert_string_equal(err, "D:1:1: not a regular file\n");
	cleanup();
}

/* 4096 rules in all, counted across files and calls. */
static void test_rule_limit(void **state)
{
	(void)state;
	char dir[64], f1[256], f2[256], err[ERRLEN];
	struct ruleset_list l = { 0, NULL };
	size_t cap = 4100 * 128, o;
	char *text = malloc(cap);
	assert_non_null(text);
	make_dir(dir, sizeof(dir));

	o = (size_t)snprintf(text, cap, "rules:\n");
	for (int i = 0; i < 4000; i++)
		o += (size_t)snprintf(text + o, cap - o,
				      "- {id: a%d, name: A, technique: T1567, severity: low, "
				      "condition: {detector: volume, key: source, window: 1h, "
				      "flows: 1}}\n", i);
	write_rules(dir, text, f1, sizeof(f1));
	o = (size_t)snprintf(text, cap, "rules:\n");
	for (int i = 0; i < 97; i++)
		o += (size_t)snprintf(text + o, cap - o,
				      "- {id: b%d, name: B, technique: T1567, severity: low, "
				      "condition: {detector: volume, key: source, window: 1h, "
				      "flows: 1}}\n", i);
	write_rules(dir, text, f2, sizeof(f2));
	free(text);

	char *paths[] = { f1, f2 };
	int n = rules_load_files(&l, paths, 2, err, sizeof(err));
	subst(err, f2, "G");
	/* rule 4097 is b96, line 98 of G, its mapping at col 3 */
	assert_int_equal(n, 1);
	assert_string_equal(err, "G:98:3: more than 4096 rules in all\n");
	assert_int_equal(l.n, 4096);
	assert_string_equal(l.rules[4095].id, "b95");
	rules_free(&l);
	cleanup();
}

/* ---- Domain lists ---------------------------------------------------------------- */

static void test_domain_lists_relative(void **state)
{
	(void)state;
	char dir[64], path[256], err[ERRLEN], cwd[1024], rel[256];
	struct ruleset_list l = { 0, NULL };
	static const char text[] = RULE_HEAD
		"    match:\n"
		"      domain_lists: [lists/custom.txt, other.txt]\n"
		RULE_COND;
	make_dir(dir, sizeof(dir));
	write_named(dir, "lists/custom.txt", "paste.example\n");
	write_named(dir, "other.txt", "drop.example\r\n# only a comment\n");
	write_rules(dir, text, path, sizeof(path));

	/* the paths are resolved against the rule file's directory, not the working one:
	 * load it as a relative path from /tmp */
	assert_non_null(getcwd(cwd, sizeof(cwd)));
	assert_int_equal(chdir("/tmp"), 0);
	snprintf(rel, sizeof(rel), "%s", path + strlen("/tmp/"));
	char *paths[] = { rel };
	int n = rules_load_files(&l, paths, 1, err, sizeof(err));
	assert_int_equal(chdir(cwd), 0);
	if (n)
		fail_msg("%s", err);
	assert_int_equal(l.n, 1);
	assert_non_null(l.rules[0].domains);
	assert_null(l.rules[0].not_domains);
	assert_int_equal(domain_set_count(l.rules[0].domains), 2);
	assert_non_null(domain_set_match(l.rules[0].domains, "a.paste.example", 15));
	assert_non_null(domain_set_match(l.rules[0].domains, "drop.example", 12));
	rules_free(&l);

	/* an absolute path is taken as it is */
	char abs_text[1024], listpath[256];
	snprintf(listpath, sizeof(listpath), "%s/other.txt", dir);
	snprintf(abs_text, sizeof(abs_text),
		 RULE_HEAD "    match:\n      domain_lists: [%s]\n" RULE_COND, listpath);
	char p2[256];
	write_rules(dir, abs_text, p2, sizeof(p2));
	char *paths2[] = { p2 };
	assert_int_equal(rules_load_files(&l, paths2, 1, err, sizeof(err)), 0);
	assert_int_equal(domain_set_count(l.rules[0].domains), 1);
	rules_free(&l);
	cleanup();
}

static void test_domain_lists_missing(void **state)
{
	(void)state;
	/* "      domain_lists: [lists/missing.txt]" line 7, the entry at col 22 */
	expect_one(RULE_HEAD "    match:\n      domain_lists: [lists/missing.txt]\n" RULE_COND,
		   "F:7:22: match.domain_lists: cannot open 'lists/missing.txt' "
		   "(D/lists/missing.txt): No such file or directory");

	/* a bad line in a list is reported by the list's loader, as list:line */
	char dir[64], path[256], err[ERRLEN];
	struct ruleset_list l = { 0, NULL };
	make_dir(dir, sizeof(dir));
	write_named(dir, "bad.txt", "good.example\nbad..example\n");
	write_rules(dir, RULE_HEAD "    match:\n      domain_lists: [bad.txt]\n" RULE_COND, path,
		    sizeof(path));
	char *paths[] = { path };
	int n = rules_load_files(&l, paths, 1, err, sizeof(err));
	subst(err, dir, "D");
	assert_int_equal(n, 1);
	assert_int_equal(strncmp(err, "D/bad.txt:2: ", 13), 0);
	assert_int_equal(l.n, 0);
	cleanup();
}

/* ---- Glob ------------------------------------------------------------------------ */

static void test_glob(void **state)
{
	(void)state;
	char dir[64], pattern[128], f1[256], f2[256], err[ERRLEN];
	struct ruleset_list l = { 0, NULL };

	int n = rules_load_glob(&l, "/nonexistent-egressd-dir/*.yaml", err, sizeof(err));
	assert_int_equal(n, 1);
	assert_string_equal(err,
			    "/nonexistent-egressd-dir/*.yaml:1:1: no rule file matches this pattern\n");
	assert_int_equal(l.n, 0);

	make_dir(dir, sizeof(dir));
	write_rules(dir, RULE_HEAD RULE_COND, f1, sizeof(f1));
	write_rules(dir, "rules:\n  - id: r2\n    name: Two\n    technique: T1048\n"
			 "    severity: low\n" RULE_COND, f2, sizeof(f2));
	snprintf(pattern, sizeof(pattern), "%s/*.yaml", dir);
	n = rules_load_glob(&l, pattern, err, sizeof(err));
	if (n)
		fail_msg("%s", err);
	assert_int_equal(l.n, 2);
	/* in glob's sorted order */
	bool f1_first = strcmp(f1, f2) < 0;
	assert_string_equal(l.rules[0].id, f1_first ? "r1" : "r2");
	assert_string_equal(l.rules[1].file, f1_first ? f2 : f1);

	/* a pattern matching none of the directory's files */
	rules_free(&l);
	snprintf(pattern, sizeof(pattern), "%s/*.yml", dir);
	assert_int_equal(rules_load_glob(&l, pattern, err, sizeof(err)), 1);
	cleanup();
}

/* A small error buffer is never overrun, and the count is still the full count. */
static void test_small_err_buffer(void **state)
{
	(void)state;
	char dir[64], path[256];
	struct ruleset_list l = { 0, NULL };
	make_dir(dir, sizeof(dir));
	write_rules(dir, "a: 1\nb: 2\nc: 3\nd: 4\n", path, sizeof(path));
	char *err = malloc(40);
	assert_non_null(err);
	char *paths[] = { path };
	/* four unknown keys and no rules: */
	assert_int_equal(rules_load_files(&l, paths, 1, err, 40), 5);
	assert_true(strlen(err) < 40);
	free(err);
	cleanup();
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_every_key),
		cmocka_unit_test(test_default_ruleset),
		cmocka_unit_test(test_engine_helpers),
		cmocka_unit_test(test_unknown_keys),
		cmocka_unit_test(test_wrong_types),
		cmocka_unit_test(test_bad_values),
		cmocka_unit_test(test_condition_values),
		cmocka_unit_test(test_measure_of_other_detector),
		cmocka_unit_test(test_condition_constrains_nothing),
		cmocka_unit_test(test_missing_keys),
		cmocka_unit_test(test_several_problems),
		cmocka_unit_test(test_duplicate_ids_one_file),
		cmocka_unit_test(test_duplicate_ids_two_files),
		cmocka_unit_test(test_aliases_refused),
		cmocka_unit_test(test_nesting_depth),
		cmocka_unit_test(test_yaml_syntax),
		cmocka_unit_test(test_file_limits),
		cmocka_unit_test(test_rule_limit),
		cmocka_unit_test(test_domain_lists_relative),
		cmocka_unit_test(test_domain_lists_missing),
		cmocka_unit_test(test_glob),
		cmocka_unit_test(test_small_err_buffer),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
