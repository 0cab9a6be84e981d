/* test_enrich_geoip.c: GeoIP enrichment (sensor/enrich-geoip.c) against MaxMind's test
 * databases in tests/data/geoip/ (see the README.md there): the rows of
 * EXPECTED_LOOKUPS.tsv for the fields the module reads, every network of the JSON
 * sources, NULL paths, wrong kinds, missing and broken files, randomly damaged copies,
 * and a database built here for the string and integer edge cases.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "enrich-geoip.h"

#define TESTDATA_DIR "geoip"
#include "testdata.h"

#define COUNTRY_DB	"GeoLite2-Country-Test.mmdb"
#define CITY_DB		"GeoLite2-City-Test.mmdb"
#define ASN_DB		"GeoLite2-ASN-Test.mmdb"
#define ISP_DB		"GeoIP2-ISP-Test.mmdb"

/* ---- files and addresses --------------------------------------------- */

static void write_file(const char *path, const void *buf, size_t len)
{
	FILE *f = fopen(path, "wb");

	if (f == NULL)
		fail_msg("cannot create %s: %s", path, strerror(errno));
	assert_int_equal(fwrite(buf, 1, len, f), len);
	assert_int_equal(fclose(f), 0);
}

/* A scratch directory per test (state), removed with its files even if the test fails. */
static int tmpdir_setup(void **state)
{
	const char *tmp = getenv("TMPDIR");
	char *dir = malloc(4096);
	int n;

	if (dir == NULL)
		return -1;
	if (tmp == NULL || tmp[0] == '\0')
		tmp = "/tmp";
	n = snprintf(dir, 4096, "%s/egressd-geoip-XXXXXX", tmp);
	if (n <= 0 || n >= 4096 || mkdtemp(dir) == NULL) {
		free(dir);
		return -1;
	}
	*state = dir;
	return 0;
}

static int tmpdir_teardown(void **state)
{
	char *dir = *state;
	struct dirent *e;
	DIR *d = opendir(dir);
	int rc = 0;

	if (d != NULL) {
		while ((e = readdir(d)) != NULL) {
			char path[4400];

			if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
				continue;
			snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
			if (unlink(path) != 0)
				rc = -1;
		}
		closedir(d);
	}
	if (rmdir(dir) != 0)
		rc = -1;
	free(dir);
	return rc;
}

static void parse_addr(const char *text, int *family, uint8_t addr[16])
{
	*family = strchr(text, ':') != NULL ? 6 : 4;
	memset(addr, 0, 16);
	if (inet_pton(*family == 4 ? AF_INET : AF_INET6, text, addr) != 1)
		fail_msg("bad address \"%s\"", text);
}

/* Open database files of tests/data/geoip/ (NULL: none); fails the test on error. */
static struct geoip *open_ok(const char *country, const char *asn)
{
	char cpath[4096], apath[4096], err[512];
	struct geoip *g;

	if (country != NULL)
		data_path(cpath, sizeof(cpath), country);
	if (asn != NULL)
		data_path(apath, sizeof(apath), asn);
	memset(err, 'x', sizeof(err));
	g = geoip_open(country != NULL ? cpath : NULL, asn != NULL ? apath : NULL, err,
		       sizeof(err));
	if (g == NULL)
		fail_msg("geoip_open(%s, %s): %s", country ? country : "NULL",
			 asn ? asn : "NULL", err);
	assert_string_equal(err, "");
	return g;
}

/* The error for opening path in one slot; fails the test if it opens. */
static void open_fails(const char *country, const char *asn, char *err, size_t errlen)
{
	struct geoip *g = geoip_open(country, asn, err, errlen);

	if (g != NULL) {
		geoip_close(g);
		fail_msg("geoip_open(%s, %s) succeeded", country ? country : "NULL",
			 asn ? asn : "NULL");
	}
}

/* The result is always well formed: bounded, NUL-terminated strings. */
static void assert_sane(const struct geoip_result *r)
{
	assert_non_null(memchr(r->country, '\0', sizeof(r->country)));
	assert_non_null(memchr(r->as_org, '\0', sizeof(r->as_org)));
}

static bool look(const struct geoip *g, const char *text, struct geoip_result *r)
{
	uint8_t addr[16];
	int family;
	bool found;

	parse_addr(text, &family, addr);
	memset(r, 0x55, sizeof(*r));
	found = geoip_lookup(g, family, addr, r);
	assert_sane(r);
	assert_int_equal(found, r->country[0] != '\0' || r->asn != 0 || r->as_org[0] != '\0');
	return found;
}

static void assert_nothing(const struct geoip *g, const char *text)
{
	struct geoip_result r;

	if (look(g, text, &r))
		fail_msg("%s: found country \"%s\" asn %u as_org \"%s\"", text, r.country,
			 r.asn, r.as_org);
	assert_string_equal(r.country, "");
	assert_int_equal(r.asn, 0);
	assert_string_equal(r.as_org, "");
}

static void assert_found(const struct geoip *g, const char *text, const char *country,
			 uint32_t asn, const char *as_org)
{
	struct geoip_result r;

	if (!look(g, text, &r))
		fail_msg("%s: not found", text);
	if (strcmp(r.country, country) != 0 || r.asn != asn || strcmp(r.as_org, as_org) != 0)
		fail_msg("%s: got \"%s\" %u \"%s\", expected \"%s\" %u \"%s\"", text,
			 r.country, r.asn, r.as_org, country, asn, as_org);
}

/* ---- EXPECTED_LOOKUPS.tsv -------------------------------------------- */

enum kind {
	KIND_COUNTRY,
	KIND_ASN,
};

struct tsv_db {
	char name[128];
	bool present;
	struct geoip *g;
	int checked;
	int skipped;
};

static char *tsv_field(char **line)
{
	char *f = *line, *tab;

	if (f == NULL)
		return NULL;
	tab = strchr(f, '\t');
	if (tab != NULL) {
		*tab = '\0';
		*line = tab + 1;
	} else {
		*line = NULL;
	}
	return f;
}

static struct tsv_db *tsv_db(struct tsv_db *dbs, int *ndb, int cap, const char *name,
			     enum kind kind)
{
	char path[4096], err[512];
	struct tsv_db *d;
	int i;

	for (i = 0; i < *ndb; i++)
		if (strcmp(dbs[i].name, name) == 0)
			return &dbs[i];
	assert_true(*ndb < cap);
	assert_true(strlen(name) < sizeof(dbs[0].name));
	d = &dbs[(*ndb)++];
	memset(d, 0, sizeof(*d));
	strcpy(d->name, name);
	data_path(path, sizeof(path), name);
	d->present = access(path, F_OK) == 0;
	if (d->present) {
		d->g = kind == KIND_COUNTRY ? geoip_open(path, NULL, err, sizeof(err)) :
					      geoip_open(NULL, path, err, sizeof(err));
		if (d->g == NULL)
			fail_msg("%s: %s", name, err);
	}
	return d;
}

/* Append s to the string in buf, cut to fit. */
static void append(char *buf, size_t cap, const char *s)
{
	size_t n = strlen(buf), add = strlen(s);

	if (add > cap - 1 - n)
		add = cap - 1 - n;
	memcpy(buf + n, s, add);
	buf[n + add] = '\0';
}

static bool parse_u32(const char *s, uint32_t *out)
{
	unsigned long long v;
	char *end;

	if (*s < '0' || *s > '9')
		return false;
	errno = 0;
	v = strtoull(s, &end, 10);
	if (*end != '\0' || errno != 0 || v > UINT32_MAX)
		return false;
	*out = (uint32_t)v;
	return true;
}

/*
 * Rows are: db, ip, source_network, field, expected, verify. The module reads
 * country.iso_code (Country/City databases) and autonomous_system_number and
 * autonomous_system_organization (ASN/ISP databases); field "(any)" with NOT_FOUND
 * means the address has no record. Other fields (city.names.en, isp) are not read
 * by the module, and rows naming a database that is not shipped here cannot be run:
 * both are counted and reported, and every other row must match.
 */
static void test_expected_lookups(void **state)
{
	static const char header[] = "db\tip\tsource_network\tfield\texpected\tverify";
	char *text = slurp("EXPECTED_LOOKUPS.tsv", NULL);
	char *save = NULL, *line, absent[512] = "";
	struct tsv_db dbs[16];
	int ndb = 0, lineno = 0, checked = 0, failed = 0, other = 0, no_db = 0, i;
	bool seen_header = false;

	(void)state;
	for (line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		char *rest = line, *f[6];
		struct geoip_result r;
		struct tsv_db *d;
		enum kind kind = KIND_COUNTRY;
		uint32_t want_asn = 0;
		bool found, ok;

		lineno++;
		line[strcspn(line, "\r")] = '\0';
		if (line[0] == '#' || line[0] == '\0')
			continue;
		if (!seen_header) {
			if (strcmp(line, header) != 0)
				fail_msg("EXPECTED_LOOKUPS.tsv:%d: unexpected header", lineno);
			seen_header = true;
			continue;
		}
		for (i = 0; i < 6; i++)
			if ((f[i] = tsv_field(&rest)) == NULL)
				fail_msg("EXPECTED_LOOKUPS.tsv:%d: %d fields", lineno, i);
		if (rest != NULL)
			fail_msg("EXPECTED_LOOKUPS.tsv:%d: extra fields", lineno);
		if (strcmp(f[5], "OK") != 0)
			fail_msg("EXPECTED_LOOKUPS.tsv:%d: verify is \"%s\"", lineno, f[5]);

		if (strcmp(f[3], "country.iso_code") == 0) {
			kind = KIND_COUNTRY;
		} else if (strcmp(f[3], "autonomous_system_number") == 0) {
			kind = KIND_ASN;
			if (!parse_u32(f[4], &want_asn) || want_asn == 0)
				fail_msg("EXPECTED_LOOKUPS.tsv:%d: bad ASN", lineno);
		} else if (strcmp(f[3], "autonomous_system_organization") == 0) {
			kind = KIND_ASN;
		} else if (strcmp(f[3], "(any)") == 0 && strcmp(f[4], "NOT_FOUND") == 0) {
			if (strstr(f[0], "Country") != NULL || strstr(f[0], "City") != NULL)
				kind = KIND_COUNTRY;
			else if (strstr(f[0], "ASN") != NULL || strstr(f[0], "ISP") != NULL)
				kind = KIND_ASN;
			else
				fail_msg("EXPECTED_LOOKUPS.tsv:%d: kind of %s", lineno, f[0]);
		} else {
			other++;
			continue;
		}

		d = tsv_db(dbs, &ndb, 16, f[0], kind);
		if (!d->present) {
			d->skipped++;
			no_db++;
			continue;
		}
		found = look(d->g, f[1], &r);
		if (strcmp(f[4], "NOT_FOUND") == 0)
			ok = !found;
		else if (kind == KIND_COUNTRY)
			ok = found && strcmp(r.country, f[4]) == 0;
		else if (want_asn != 0)
			ok = found && r.asn == want_asn;
		else
			ok = found && strcmp(r.as_org, f[4]) == 0;
		if (!ok) {
			print_error("EXPECTED_LOOKUPS.tsv:%d: %s %s %s: got found=%d country=\"%s\" "
				    "asn=%u as_org=\"%s\", expected %s\n", lineno, f[0], f[1], f[3],
				    found, r.country, r.asn, r.as_org, f[4]);
			failed++;
		}
		checked++;
		d->checked++;
	}
	free(text);

	for (i = 0; i < ndb; i++) {
		if (dbs[i].present) {
			print_message("EXPECTED_LOOKUPS.tsv: %s: %d rows checked\n", dbs[i].name,
				      dbs[i].checked);
			assert_true(dbs[i].checked > 0);
		} else {
			char one[160];

			snprintf(one, sizeof(one), "%.127s (%d)", dbs[i].name, dbs[i].skipped);
			append(absent, sizeof(absent), absent[0] ? ", " : "");
			append(absent, sizeof(absent), one);
		}
		geoip_close(dbs[i].g);
	}
	print_message("EXPECTED_LOOKUPS.tsv: %d rows checked, %d failed; not run: %d rows "
		      "of fields the module does not read, %d rows of databases not in "
		      "tests/data/geoip/%s%s\n", checked, failed, other, no_db,
		      absent[0] ? ": " : "", absent);
	assert_true(seen_header);
	assert_true(checked > 0);
	assert_int_equal(failed, 0);
}

/* ---- the JSON sources ------------------------------------------------ */

/*
 * GeoLite2-*-Test.json: an array of one-member objects, network -> record. A small
 * strict scanner: values are skipped whatever they are, the strings read (network,
 * iso_code, organization) must have no escapes (they have none upstream).
 */
struct js {
	const char *p;
	const char *start;
	const char *file;
};

static void js_ws(struct js *j)
{
	while (*j->p == ' ' || *j->p == '\n' || *j->p == '\r' || *j->p == '\t')
		j->p++;
}

static bool js_peek(struct js *j, char c)
{
	js_ws(j);
	return *j->p == c;
}

static void js_char(struct js *j, char c)
{
	if (!js_peek(j, c))
		fail_msg("%s: expected '%c' at offset %ld", j->file, c, (long)(j->p - j->start));
	j->p++;
}

static void js_string(struct js *j, char *out, size_t cap)
{
	size_t n = 0;

	js_char(j, '"');
	while (*j->p != '"') {
		if (*j->p == '\0' || *j->p == '\\' || n + 1 >= cap)
			fail_msg("%s: unsupported string at offset %ld", j->file,
				 (long)(j->p - j->start));
		out[n++] = *j->p++;
	}
	j->p++;
	out[n] = '\0';
}

static void js_skip(struct js *j, int depth)
{
	const char *from;

	if (depth > 32)
		fail_msg("%s: nested too deeply", j->file);
	js_ws(j);
	switch (*j->p) {
	case '"':
		for (j->p++; *j->p != '"'; j->p++) {
			if (*j->p == '\0')
				fail_msg("%s: unterminated string", j->file);
			if (*j->p == '\\' && j->p[1] != '\0')
				j->p++;
		}
		j->p++;
		return;
	case '{':
	case '[': {
		char close = *j->p == '{' ? '}' : ']';

		j->p++;
		if (js_peek(j, close)) {
			j->p++;
			return;
		}
		for (;;) {
			if (close == '}') {
				js_skip(j, depth + 1);
				js_char(j, ':');
			}
			js_skip(j, depth + 1);
			if (!js_peek(j, ','))
				break;
			j->p++;
		}
		js_char(j, close);
		return;
	}
	default:
		from = j->p;
		while (*j->p != '\0' && strchr("+-.0123456789Eaeflnrstu", *j->p) != NULL)
			j->p++;
		if (j->p == from)
			fail_msg("%s: unexpected value at offset %ld", j->file,
				 (long)(from - j->start));
	}
}

static uint32_t js_u32(struct js *j)
{
	char num[16];
	size_t n = 0;
	uint32_t v = 0;

	js_ws(j);
	while (*j->p >= '0' && *j->p <= '9' && n + 1 < sizeof(num))
		num[n++] = *j->p++;
	num[n] = '\0';
	if (!parse_u32(num, &v))
		fail_msg("%s: bad number at offset %ld", j->file, (long)(j->p - j->start));
	return v;
}

/* The iso_code of the "country" object the scanner is at. */
static void js_country(struct js *j, char *iso, size_t cap)
{
	char key[64];

	js_char(j, '{');
	if (js_peek(j, '}')) {
		j->p++;
		return;
	}
	for (;;) {
		js_string(j, key, sizeof(key));
		js_char(j, ':');
		if (strcmp(key, "iso_code") == 0)
			js_string(j, iso, cap);
		else
			js_skip(j, 1);
		if (!js_peek(j, ','))
			break;
		j->p++;
	}
	js_char(j, '}');
}

/* Look up the first address of every network in a JSON source; returns how many. */
static int check_json(const char *file, const struct geoip *g, int *failed)
{
	char *text = slurp(file, NULL);
	struct js j = { text, text, file };
	int count = 0;

	js_char(&j, '[');
	while (!js_peek(&j, ']')) {
		char net[64], key[64], iso[8] = "", org[256] = "", *slash;
		struct geoip_result r;
		uint32_t asn = 0;
		bool found, want;

		js_char(&j, '{');
		js_string(&j, net, sizeof(net));
		js_char(&j, ':');
		js_char(&j, '{');
		while (!js_peek(&j, '}')) {
			js_string(&j, key, sizeof(key));
			js_char(&j, ':');
			if (strcmp(key, "country") == 0)
				js_country(&j, iso, sizeof(iso));
			else if (strcmp(key, "autonomous_system_number") == 0)
				asn = js_u32(&j);
			else if (strcmp(key, "autonomous_system_organization") == 0)
				js_string(&j, org, sizeof(org));
			else
				js_skip(&j, 1);
			if (js_peek(&j, ','))
				j.p++;
		}
		j.p++;
		js_char(&j, '}');
		if (js_peek(&j, ','))
			j.p++;

		slash = strchr(net, '/');
		if (slash == NULL)
			fail_msg("%s: network \"%s\"", file, net);
		*slash = '\0';
		found = look(g, net, &r);
		want = iso[0] != '\0' || asn != 0 || org[0] != '\0';
		if (found != want || strcmp(r.country, iso) != 0 || r.asn != asn ||
		    strcmp(r.as_org, org) != 0) {
			print_error("%s: %s/%s: got found=%d \"%s\" %u \"%s\", expected \"%s\" %u "
				    "\"%s\"\n", file, net, slash + 1, found, r.country, r.asn,
				    r.as_org, iso, asn, org);
			(*failed)++;
		}
		count++;
	}
	free(text);
	return count;
}

static void test_json_sources(void **state)
{
	struct geoip *country = open_ok(COUNTRY_DB, NULL);
	struct geoip *asn = open_ok(NULL, ASN_DB);
	int failed = 0, nc, na;

	(void)state;
	nc = check_json("GeoLite2-Country-Test.json", country, &failed);
	na = check_json("GeoLite2-ASN-Test.json", asn, &failed);
	print_message("JSON sources: %d Country networks, %d ASN networks, %d failed\n", nc,
		      na, failed);
	assert_true(nc > 0);
	assert_true(na > 0);
	assert_int_equal(failed, 0);
	geoip_close(country);
	geoip_close(asn);
}

/* ---- hand checks ----------------------------------------------------- */

static void test_lookups(void **state)
{
	struct geoip *g = open_ok(COUNTRY_DB, ASN_DB);
	struct geoip *city = open_ok(CITY_DB, ISP_DB);
	struct geoip_result r;
	uint8_t addr[16];
	int family;

	(void)state;
	/* Both databases at once; the ASN record without an organization. */
	assert_found(g, "89.160.20.129", "SE", 29518, "Bredband2 AB");
	assert_found(g, "216.160.83.57", "US", 209, "");
	/* IPv6 in each. */
	assert_found(g, "2001:218::1", "JP", 0, "");
	assert_found(g, "2001:2000::1", "", 1299, "TeliaSonera International Carrier");
	/* City and ISP databases. */
	assert_found(city, "81.2.69.160", "GB", 0, "");
	assert_found(city, "::180:1", "", 1221, "Telstra Pty Ltd");
	assert_found(city, "12.87.116.1", "", 7018, "");	/* ISP record: no AS org */
	/* Not in any of them. */
	assert_nothing(g, "8.8.8.8");
	assert_nothing(g, "10.0.0.1");
	assert_nothing(g, "2001:db8::1");
	assert_nothing(city, "192.0.2.1");
	/*
	 * IPv4 in an IPv6 database: the IPv4 subtree is ::/96; these databases also alias
	 * ::ffff:0:0/96 to it, so all three spellings agree.
	 */
	assert_found(g, "1.0.0.1", "", 15169, "Google Inc.");
	assert_found(g, "::1.0.0.1", "", 15169, "Google Inc.");
	assert_found(g, "::ffff:1.0.0.1", "", 15169, "Google Inc.");
	/* Only the first 4 bytes of an IPv4 address are used. */
	parse_addr("1.0.0.1", &family, addr);
	memset(addr + 4, 0xee, 12);
	assert_true(geoip_lookup(g, 4, addr, &r));
	assert_int_equal(r.asn, 15169);
	/* A family that is neither 4 nor 6 finds nothing, and clears out. */
	memset(&r, 0x55, sizeof(r));
	assert_false(geoip_lookup(g, 5, addr, &r));
	assert_int_equal(r.asn, 0);
	assert_string_equal(r.country, "");
	assert_string_equal(r.as_org, "");
	geoip_close(g);
	geoip_close(city);
}

static void test_null_paths(void **state)
{
	struct geoip *none = open_ok(NULL, NULL);
	struct geoip *country = open_ok(COUNTRY_DB, NULL);
	struct geoip *asn = open_ok(NULL, ASN_DB);
	struct geoip_result r;
	uint8_t addr[16];
	int family;

	(void)state;
	assert_nothing(none, "89.160.20.129");
	assert_nothing(none, "2001:2000::1");
	assert_found(country, "89.160.20.129", "SE", 0, "");
	assert_found(asn, "89.160.20.129", "", 29518, "Bredband2 AB");
	assert_nothing(country, "2001:2000::1");
	assert_nothing(asn, "2001:218::1");
	/* A NULL handle finds nothing; closing one is a no-op. */
	parse_addr("89.160.20.129", &family, addr);
	memset(&r, 0x55, sizeof(r));
	assert_false(geoip_lookup(NULL, family, addr, &r));
	assert_int_equal(r.asn, 0);
	geoip_close(NULL);
	geoip_close(none);
	geoip_close(country);
	geoip_close(asn);
}

static void test_wrong_kind(void **state)
{
	static const struct {
		const char *file;
		bool as_country;
		const char *type;
	} cases[] = {
		{ ASN_DB, true, "GeoLite2-ASN" },
		{ ISP_DB, true, "GeoIP2-ISP" },
		{ COUNTRY_DB, false, "GeoLite2-Country" },
		{ CITY_DB, false, "GeoLite2-City" },
	};
	char path[4096], good[4096], err[512], want[4600];
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		data_path(path, sizeof(path), cases[i].file);
		snprintf(want, sizeof(want), "%s: is a %s database, expected %s database", path,
			 cases[i].type, cases[i].as_country ? "a Country or City" :
			 "an ASN or ISP");
		if (cases[i].as_country)
			open_fails(path, NULL, err, sizeof(err));
		else
			open_fails(NULL, path, err, sizeof(err));
		assert_string_equal(err, want);
	}
	/* Right Country database, wrong second one: nothing leaks (ASan). */
	data_path(good, sizeof(good), COUNTRY_DB);
	data_path(path, sizeof(path), CITY_DB);
	open_fails(good, path, err, sizeof(err));
	assert_non_null(strstr(err, "expected an ASN or ISP database"));
	/* Both swapped: the first is reported. */
	data_path(good, sizeof(good), ASN_DB);
	open_fails(good, path, err, sizeof(err));
	snprintf(want, sizeof(want), "%s: is a GeoLite2-ASN database, expected a Country or "
		 "City database", good);
	assert_string_equal(err, want);
}

static void assert_err_names(const char *err, const char *path, const char *what)
{
	size_t n = strlen(path);

	if (strncmp(err, path, n) != 0 || err[n] != ':')
		fail_msg("error does not start with \"%s:\": %s", path, err);
	if (what != NULL && strstr(err, what) == NULL)
		fail_msg("error lacks \"%s\": %s", what, err);
}

static void test_missing_and_unusable(void **state)
{
	const char *dir = *state;
	char path[4200], good[4096], err[512];
	char *buf;
	size_t len;

	snprintf(path, sizeof(path), "%s/no-such.mmdb", dir);
	open_fails(path, NULL, err, sizeof(err));
	assert_err_names(err, path, strerror(ENOENT));
	assert_non_null(strstr(err, "MaxMind DB"));	/* libmaxminddb's own words */
	open_fails(NULL, path, err, sizeof(err));
	assert_err_names(err, path, strerror(ENOENT));
	/* Without an error buffer. */
	assert_null(geoip_open(path, NULL, NULL, 0));

	open_fails(dir, NULL, err, sizeof(err));
	assert_err_names(err, dir, "is a directory");
	open_fails("", NULL, err, sizeof(err));
	assert_string_equal(err, "empty file name for a Country or City database");

	/* Not MaxMind DB files: empty, text, a database cut in half. */
	snprintf(path, sizeof(path), "%s/empty.mmdb", dir);
	write_file(path, "", 0);
	open_fails(NULL, path, err, sizeof(err));
	assert_err_names(err, path, "empty file");

	data_path(good, sizeof(good), "LICENSE-MIT");
	open_fails(good, NULL, err, sizeof(err));
	assert_err_names(err, good, "not a valid MaxMind DB");

	buf = slurp(COUNTRY_DB, &len);
	snprintf(path, sizeof(path), "%s/half.mmdb", dir);
	write_file(path, buf, len / 2);
	open_fails(path, NULL, err, sizeof(err));
	assert_err_names(err, path, NULL);
	print_message("half a database: %s\n", err);

	/* Unreadable: only meaningful when not root (root reads mode 000 files). */
	write_file(path, buf, len);
	assert_int_equal(chmod(path, 0), 0);
	if (geteuid() != 0) {
		open_fails(path, NULL, err, sizeof(err));
		assert_err_names(err, path, strerror(EACCES));
	} else {
		print_message("unreadable file: not checked as root\n");
	}
	free(buf);
}

/* ---- broken and damaged databases ------------------------------------ */

static uint64_t rng_next(uint64_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 7;
	*s ^= *s << 17;
	return *s;
}

/* Lookups over a spread of addresses of both families; no crash, sane results. */
static int lookup_many(const struct geoip *g, uint64_t seed)
{
	static const char *const fixed[] = {
		"0.0.0.0", "1.0.0.1", "8.8.8.8", "81.2.69.160", "89.160.20.129",
		"127.0.0.1", "214.78.120.1", "255.255.255.255", "::", "::1",
		"::1.0.0.1", "::ffff:81.2.69.160", "2001:218::1", "2001:2000::1",
		"2002:5102:45a0::", "2a02:d040::1", "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff",
	};
	struct geoip_result r;
	uint8_t addr[16];
	int found = 0, i, family;

	for (i = 0; i < (int)(sizeof(fixed) / sizeof(fixed[0])); i++)
		found += look(g, fixed[i], &r);
	for (i = 0; i < 64; i++) {
		uint64_t a = rng_next(&seed), b = rng_next(&seed);

		memcpy(addr, &a, 8);
		memcpy(addr + 8, &b, 8);
		family = i % 2 ? 6 : 4;
		memset(&r, 0x55, sizeof(r));
		found += geoip_lookup(g, family, addr, &r);
		assert_sane(&r);
	}
	return found;
}

struct broken_tally {
	int files;
	int refused;
	int opened;
};

/* Open path in both slots: an error naming it, or a handle whose lookups are sane. */
static void check_damaged(const char *path, const char *label, struct broken_tally *t,
			  bool verbose)
{
	char err[512];
	int slot;

	for (slot = 0; slot < 2; slot++) {
		struct geoip *g = slot == 0 ? geoip_open(path, NULL, err, sizeof(err)) :
					      geoip_open(NULL, path, err, sizeof(err));

		if (g == NULL) {
			assert_err_names(err, path, NULL);
			if (verbose)
				print_message("%s as %s: %s\n", label, slot == 0 ? "country" :
					      "asn", err + strlen(path) + 2);
			t->refused++;
			continue;
		}
		if (verbose)
			print_message("%s as %s: opened, %d of 81 lookups found\n", label,
				      slot == 0 ? "country" : "asn", lookup_many(g, 42));
		else
			lookup_many(g, 42);
		t->opened++;
		geoip_close(g);
	}
}

static int mmdb_or_dir(const struct dirent *e)
{
	return e->d_name[0] != '.';
}

/* Every .mmdb file under dir, in name order. */
static void walk_broken(const char *dir, size_t root_len, struct broken_tally *t)
{
	struct dirent **names;
	int n, i;

	n = scandir(dir, &names, mmdb_or_dir, alphasort);
	if (n < 0)
		fail_msg("cannot read %s: %s", dir, strerror(errno));
	for (i = 0; i < n; i++) {
		const char *name = names[i]->d_name;
		size_t len = strlen(name);
		char path[4096];
		struct stat st;

		assert_true((size_t)snprintf(path, sizeof(path), "%s/%s", dir, name) <
			    sizeof(path));
		assert_int_equal(stat(path, &st), 0);
		if (S_ISDIR(st.st_mode)) {
			walk_broken(path, root_len, t);
		} else if (len > 5 && strcmp(name + len - 5, ".mmdb") == 0) {
			t->files++;
			check_damaged(path, path + root_len, t, true);
		}
		free(names[i]);
	}
	free(names);
}

static void test_broken_databases(void **state)
{
	struct broken_tally t = { 0, 0, 0 };
	char dir[4096], root[4096];

	(void)state;
	data_path(dir, sizeof(dir), "broken");
	data_path(root, sizeof(root), "");
	walk_broken(dir, strlen(root), &t);
	print_message("broken/: %d databases, opened %d times, refused %d times\n", t.files,
		      t.opened, t.refused);
	assert_true(t.files > 0);
	assert_int_equal(t.opened + t.refused, 2 * t.files);
}

/* Copies of the good databases with random bytes changed or the tail cut off. */
static void test_damaged_copies(void **state)
{
	static const char *const files[] = { COUNTRY_DB, CITY_DB, ASN_DB, ISP_DB };
	struct broken_tally t = { 0, 0, 0 };
	uint64_t seed = 0x9e3779b97f4a7c15ull;
	char path[4200];
	size_t f;
	int i, k;

	snprintf(path, sizeof(path), "%s/damaged.mmdb", (const char *)*state);
	for (f = 0; f < sizeof(files) / sizeof(files[0]); f++) {
		size_t len;
		char *orig = slurp(files[f], &len);
		char *copy = malloc(len);

		assert_non_null(copy);
		for (i = 0; i < 200; i++) {
			size_t n = len;

			memcpy(copy, orig, len);
			switch (i % 4) {
			case 0:	/* one byte */
				copy[rng_next(&seed) % len] ^= (char)(1 + rng_next(&seed) % 255);
				break;
			case 1:	/* a few bytes */
				for (k = 0; k < 4; k++)
					copy[rng_next(&seed) % len] = (char)rng_next(&seed);
				break;
			case 2:	/* a run of 0xff */
				for (k = 0, n = rng_next(&seed) % len; k < 8 && n < len; k++, n++)
					copy[n] = (char)0xff;
				n = len;
				break;
			default: /* truncated */
				n = rng_next(&seed) % len;
				break;
			}
			write_file(path, copy, n);
			t.files++;
			check_damaged(path, files[f], &t, false);
		}
		free(copy);
		free(orig);
	}
	print_message("damaged copies: %d files, opened %d times, refused %d times\n",
		      t.files, t.opened, t.refused);
	assert_int_equal(t.opened + t.refused, 2 * t.files);
}

/* ---- a database built here ------------------------------------------- */

/*
 * The MaxMind DB format (spec: maxmind.github.io/MaxMind-DB): a search tree, 16 zero
 * bytes, the data section, "\xab\xcd\xefMaxMind.com" and the metadata map. Data fields
 * are a control byte (type << 5 | size; extended types as type 0 plus a byte of type
 * - 7), then 1-3 size bytes for sizes of 29 and more, then the payload.
 */
struct mm_buf {
	uint8_t d[2048];
	size_t n;
};

enum {
	MM_STRING = 2,
	MM_UINT16 = 5,
	MM_UINT32 = 6,
	MM_MAP = 7,
	MM_UINT64 = 9,
	MM_ARRAY = 11,
};

static void mm_put(struct mm_buf *b, const void *p, size_t n)
{
	assert_true(b->n + n <= sizeof(b->d));
	memcpy(b->d + b->n, p, n);
	b->n += n;
}

static void mm_byte(struct mm_buf *b, unsigned int v)
{
	uint8_t c = (uint8_t)v;

	mm_put(b, &c, 1);
}

static void mm_ctrl(struct mm_buf *b, unsigned int type, size_t size)
{
	unsigned int t = type <= 7 ? type << 5 : 0;

	assert_true(size < 65821);
	if (size < 29)
		mm_byte(b, t | (unsigned int)size);
	else if (size < 285)
		mm_byte(b, t | 29);
	else
		mm_byte(b, t | 30);
	if (type > 7)
		mm_byte(b, type - 7);
	if (size >= 285) {
		mm_byte(b, (unsigned int)(size - 285) >> 8);
		mm_byte(b, (unsigned int)(size - 285) & 0xff);
	} else if (size >= 29) {
		mm_byte(b, (unsigned int)(size - 29));
	}
}

static void mm_str(struct mm_buf *b, const char *s, size_t len)
{
	mm_ctrl(b, MM_STRING, len);
	mm_put(b, s, len);
}

static void mm_cstr(struct mm_buf *b, const char *s)
{
	mm_str(b, s, strlen(s));
}

static void mm_uint(struct mm_buf *b, unsigned int type, uint64_t v)
{
	size_t n = 0;
	int i;

	while (n < 8 && (v >> (8 * n)) != 0)
		n++;
	mm_ctrl(b, type, n);
	for (i = (int)n - 1; i >= 0; i--)
		mm_byte(b, (unsigned int)(v >> (8 * i)) & 0xff);
}

/* A record {"country": {"iso_code": iso}, asn..., org...}; iso NULL: no country. */
static void mm_record(struct mm_buf *b, const char *iso, unsigned int asn_type,
		      uint64_t asn, const char *org, size_t org_len)
{
	mm_ctrl(b, MM_MAP, 3 - (iso == NULL));
	if (iso != NULL) {
		mm_cstr(b, "country");
		mm_ctrl(b, MM_MAP, 1);
		mm_cstr(b, "iso_code");
		mm_cstr(b, iso);
	}
	mm_cstr(b, "autonomous_system_number");
	if (asn_type == MM_STRING)
		mm_cstr(b, "AS123");
	else
		mm_uint(b, asn_type, asn);
	mm_cstr(b, "autonomous_system_organization");
	mm_str(b, org, org_len);
}

static void mm_record24(struct mm_buf *b, uint32_t rec)
{
	mm_byte(b, rec >> 16);
	mm_byte(b, (rec >> 8) & 0xff);
	mm_byte(b, rec & 0xff);
}

/*
 * An IPv4 database of 4 nodes, 24-bit records:
 *   0.0.0.0/2 -> A   64.0.0.0/2 -> B   128.0.0.0/2 -> C   192.0.0.0/3 -> D
 *   224.0.0.0/3 -> no data
 * A: "DE", uint32 64512, an organization with a control byte, a non-UTF-8 byte and an
 *    embedded NUL; B: "DEU" (not alpha-2), uint64 4200000000, 126 'a' + "é" + 10 'b'
 *    (138 bytes, cut inside the "é"); C: "us", "AS123" as a string, exactly 127 'x';
 *    D: {"city": "Nowhere"}, nothing the module reads.
 */
static void write_crafted(const char *path)
{
	static const char org_a[] = "Ex\x01" "ample \xff Org\0hidden";
	struct mm_buf data = { .n = 0 }, file = { .n = 0 };
	char org_b[138], org_c[127];
	uint32_t off_a, off_b, off_c, off_d;
	const uint32_t nodes = 4;
	size_t i;

	memset(org_b, 'a', 126);
	org_b[126] = (char)0xc3;
	org_b[127] = (char)0xa9;
	memset(org_b + 128, 'b', 10);
	memset(org_c, 'x', sizeof(org_c));

	off_a = (uint32_t)data.n;
	mm_record(&data, "DE", MM_UINT32, 64512, org_a, sizeof(org_a) - 1);
	off_b = (uint32_t)data.n;
	mm_record(&data, "DEU", MM_UINT64, 4200000000u, org_b, sizeof(org_b));
	off_c = (uint32_t)data.n;
	mm_record(&data, "us", MM_STRING, 0, org_c, sizeof(org_c));
	off_d = (uint32_t)data.n;
	mm_ctrl(&data, MM_MAP, 1);
	mm_cstr(&data, "city");
	mm_cstr(&data, "Nowhere");

	mm_record24(&file, 1);
	mm_record24(&file, 2);
	mm_record24(&file, nodes + 16 + off_a);
	mm_record24(&file, nodes + 16 + off_b);
	mm_record24(&file, nodes + 16 + off_c);
	mm_record24(&file, 3);
	mm_record24(&file, nodes + 16 + off_d);
	mm_record24(&file, nodes);
	for (i = 0; i < 16; i++)
		mm_byte(&file, 0);
	mm_put(&file, data.d, data.n);
	mm_put(&file, "\xab\xcd\xefMaxMind.com", 14);
	mm_ctrl(&file, MM_MAP, 9);
	mm_cstr(&file, "node_count");
	mm_uint(&file, MM_UINT32, nodes);
	mm_cstr(&file, "record_size");
	mm_uint(&file, MM_UINT16, 24);
	mm_cstr(&file, "ip_version");
	mm_uint(&file, MM_UINT16, 4);
	mm_cstr(&file, "database_type");
	mm_cstr(&file, "Crafted-Country-ASN");
	mm_cstr(&file, "languages");
	mm_ctrl(&file, MM_ARRAY, 1);
	mm_cstr(&file, "en");
	mm_cstr(&file, "binary_format_major_version");
	mm_uint(&file, MM_UINT16, 2);
	mm_cstr(&file, "binary_format_minor_version");
	mm_uint(&file, MM_UINT16, 0);
	mm_cstr(&file, "build_epoch");
	mm_uint(&file, MM_UINT64, 1700000000);
	mm_cstr(&file, "description");
	mm_ctrl(&file, MM_MAP, 1);
	mm_cstr(&file, "en");
	mm_cstr(&file, "egressd unit test database");
	write_file(path, file.d, file.n);
}

static void test_crafted_values(void **state)
{
	char path[4200], want_b[127], want_c[128], err[512];
	struct geoip *both, *country, *asn;
	struct geoip_result r;

	snprintf(path, sizeof(path), "%s/crafted.mmdb", (const char *)*state);
	write_crafted(path);
	both = geoip_open(path, path, err, sizeof(err));
	if (both == NULL)
		fail_msg("crafted database: %s", err);
	country = geoip_open(path, NULL, err, sizeof(err));
	assert_non_null(country);
	asn = geoip_open(NULL, path, err, sizeof(err));
	assert_non_null(asn);

	memset(want_b, 'a', 126);
	want_b[126] = '\0';
	memset(want_c, 'x', 127);
	want_c[127] = '\0';

	/* Bytes outside printable ASCII kept, cut at the NUL. */
	assert_found(both, "0.0.0.1", "DE", 64512, "Ex\x01" "ample \xff Org");
	assert_int_equal(strlen("Ex\x01" "ample \xff Org"), 14);
	/* Not alpha-2: unknown; a uint64 ASN; 138 bytes cut to 126, not inside "é". */
	assert_found(both, "64.0.0.1", "", 4200000000u, want_b);
	/* Lower case kept; an ASN that is a string is unknown; 127 bytes fit exactly. */
	assert_found(both, "128.0.0.1", "us", 0, want_c);
	assert_true(look(both, "128.0.0.1", &r));
	assert_int_equal(strlen(r.as_org), 127);
	/* A record with none of the fields, then no record at all. */
	assert_nothing(both, "192.0.0.1");
	assert_nothing(both, "224.0.0.1");
	/* IPv6 in an IPv4-only database. */
	assert_nothing(both, "2001:db8::1");
	assert_nothing(both, "::1.0.0.1");
	/* Each slot reads only its own fields. */
	assert_found(country, "0.0.0.1", "DE", 0, "");
	assert_found(asn, "0.0.0.1", "", 64512, "Ex\x01" "ample \xff Org");
	assert_nothing(country, "64.0.0.1");

	geoip_close(both);
	geoip_close(country);
	geoip_close(asn);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_expected_lookups),
		cmocka_unit_test(test_json_sources),
		cmocka_unit_test(test_lookups),
		cmocka_unit_test(test_null_paths),
		cmocka_unit_test(test_wrong_kind),
		cmocka_unit_test_setup_teardown(test_missing_and_unusable, tmpdir_setup,
						tmpdir_teardown),
		cmocka_unit_test(test_broken_databases),
		cmocka_unit_test_setup_teardown(test_damaged_copies, tmpdir_setup,
						tmpdir_teardown),
		cmocka_unit_test_setup_teardown(test_crafted_values, tmpdir_setup,
						tmpdir_teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
