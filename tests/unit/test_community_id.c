/* test_community_id.c: Community ID v1 (sensor/community-id.c) against the official
 * vectors in tests/data/community-id/ (see the README.md there), plus hand checks.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "community-id.h"
#include "crypto.h"

#define TESTDATA_DIR "community-id"
#include "testdata.h"

struct cid_vec {
	uint16_t seed;
	bool hex;
	uint8_t proto;
	int family;
	uint8_t saddr[16];
	uint8_t daddr[16];
	uint16_t sport;
	uint16_t dport;
	char expect[64];
};

struct cid_tally {
	int checked;
	int failed;
};

/* ---- vector files ---------------------------------------------------- */

static bool parse_addr(const char *s, struct cid_vec *v, uint8_t addr[16])
{
	int family = strchr(s, ':') ? 6 : 4;

	if (v->family != 0 && v->family != family)
		return false;
	v->family = family;
	memset(addr, 0, 16);
	return inet_pton(family == 4 ? AF_INET : AF_INET6, s, addr) == 1;
}

static bool parse_u16(const char *s, uint16_t *out)
{
	char *end;
	unsigned long v;

	if (*s < '0' || *s > '9')
		return false;
	v = strtoul(s, &end, 10);
	if (*end != '\0' || v > 65535)
		return false;
	*out = (uint16_t)v;
	return true;
}

static void check_vec(const struct cid_vec *v, const char *where, struct cid_tally *t)
{
	char got[COMMUNITY_ID_STRLEN];
	int rc;

	memset(got, 0x55, sizeof(got));
	if (v->hex)
		rc = community_id_v1_hex(v->seed, v->family, v->saddr, v->daddr, v->proto,
					 v->sport, v->dport, got);
	else
		rc = community_id_v1(v->seed, v->family, v->saddr, v->daddr, v->proto,
				     v->sport, v->dport, got);
	t->checked++;
	if (rc != 0 || strcmp(got, v->expect) != 0) {
		print_error("%s: got \"%s\" (rc %d), expected \"%s\"\n", where,
			    rc == 0 ? got : "", rc, v->expect);
		t->failed++;
	}
}

/*
 * baseline_*.json: one array of flat objects whose values are integers, plain
 * strings (no escapes) or null. A tailored scanner, strict about that shape:
 * anything else fails the test rather than being skipped.
 */
struct scan {
	const char *p;
	const char *start;
	const char *file;
};

static void scan_ws(struct scan *s)
{
	while (*s->p == ' ' || *s->p == '\n' || *s->p == '\r' || *s->p == '\t')
		s->p++;
}

static void scan_char(struct scan *s, char c)
{
	scan_ws(s);
	if (*s->p != c)
		fail_msg("%s: expected '%c' at offset %ld", s->file, c, (long)(s->p - s->start));
	s->p++;
}

/* A string without escapes, copied into out. */
static void scan_string(struct scan *s, char *out, size_t cap)
{
	size_t n = 0;

	scan_char(s, '"');
	while (*s->p != '"') {
		if (*s->p == '\0' || *s->p == '\\' || n + 1 >= cap)
			fail_msg("%s: unexpected string content", s->file);
		out[n++] = *s->p++;
	}
	s->p++;
	out[n] = '\0';
}

/* A value: a string, a non-negative integer (as text) or null (as ""). */
static void scan_value(struct scan *s, char *out, size_t cap)
{
	size_t n = 0;

	scan_ws(s);
	if (*s->p == '"') {
		scan_string(s, out, cap);
		return;
	}
	if (strncmp(s->p, "null", 4) == 0) {
		s->p += 4;
		out[0] = '\0';
		return;
	}
	while (*s->p >= '0' && *s->p <= '9') {
		if (n + 1 >= cap)
			fail_msg("%s: number too long", s->file);
		out[n++] = *s->p++;
	}
	if (n == 0)
		fail_msg("%s: unexpected value", s->file);
	out[n] = '\0';
}

static int check_baseline(const char *file, uint16_t seed, bool hex, struct cid_tally *t)
{
	char *text = slurp(file, NULL);
	struct scan s = { text, text, file };
	int count = 0;

	scan_char(&s, '[');
	scan_ws(&s);
	while (*s.p != ']') {
		struct cid_vec v = { .seed = seed, .hex = hex };
		char key[32], val[64], where[256], sport[64] = "?", dport[64] = "?";
		unsigned int seen = 0;
		uint16_t proto = 0;

		scan_char(&s, '{');
		for (;;) {
			scan_string(&s, key, sizeof(key));
			scan_char(&s, ':');
			scan_value(&s, val, sizeof(val));
			if (strcmp(key, "proto") == 0 && parse_u16(val, &proto) && proto < 256) {
				v.proto = (uint8_t)proto;
				seen |= 1;
			} else if (strcmp(key, "saddr") == 0 && parse_addr(val, &v, v.saddr)) {
				seen |= 2;
			} else if (strcmp(key, "daddr") == 0 && parse_addr(val, &v, v.daddr)) {
				seen |= 4;
			} else if (strcmp(key, "sport") == 0) {
				snprintf(sport, sizeof(sport), "%s", val);
				seen |= 8;
			} else if (strcmp(key, "dport") == 0) {
				snprintf(dport, sizeof(dport), "%s", val);
				seen |= 16;
			} else if (strcmp(key, "communityid") == 0) {
				snprintf(v.expect, sizeof(v.expect), "%s", val);
				seen |= 32;
			} else {
				fail_msg("%s: bad member \"%s\": \"%s\"", file, key, val);
			}
			scan_ws(&s);
			if (*s.p == '}')
				break;
			scan_char(&s, ',');
		}
		s.p++;
		if (seen != 63)
			fail_msg("%s: vector %d lacks members (%#x)", file, count, seen);
		/* Both ports or neither: null means a port-less protocol. */
		if (sport[0] == '\0' && dport[0] == '\0') {
			v.sport = 0;
			v.dport = 0;
		} else if (!parse_u16(sport, &v.sport) || !parse_u16(dport, &v.dport)) {
			fail_msg("%s: vector %d: bad ports %s %s", file, count, sport, dport);
		}
		count++;
		snprintf(where, sizeof(where), "%s vector %d (proto %u %s/%s)", file, count,
			 v.proto, sport, dport);
		check_vec(&v, where, t);

		scan_ws(&s);
		if (*s.p == ',') {
			s.p++;
			scan_ws(&s);
		} else if (*s.p != ']') {
			fail_msg("%s: expected ',' or ']'", file);
		}
	}
	s.p++;
	scan_ws(&s);
	if (*s.p != '\0')
		fail_msg("%s: trailing data", file);
	free(text);
	return count;
}

static char *tsv_field(char **line)
{
	char *f = *line, *tab;

	if (f == NULL)
		return NULL;
	tab = strchr(f, '\t');
	if (tab) {
		*tab = '\0';
		*line = tab + 1;
	} else {
		*line = NULL;
	}
	return f;
}

static int check_readme_tables(struct cid_tally *t)
{
	static const char header[] = "config\tproto_name\tproto\tsaddr\tdaddr\tsport\tdport\t"
				     "community_id\tcomment";
	char *text = slurp("readme_table_vectors.tsv", NULL);
	char *save = NULL, *line;
	int count = 0, lineno = 0;

	for (line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		struct cid_vec v = { 0 };
		char *rest = line, *f[9], where[160];
		uint16_t proto = 0;
		int i;

		lineno++;
		line[strcspn(line, "\r")] = '\0';
		if (lineno == 1) {
			if (strcmp(line, header) != 0)
				fail_msg("readme_table_vectors.tsv: unexpected header");
			continue;
		}
		for (i = 0; i < 9; i++)
			if ((f[i] = tsv_field(&rest)) == NULL)
				fail_msg("readme_table_vectors.tsv:%d: %d fields", lineno, i);
		if (rest != NULL)
			fail_msg("readme_table_vectors.tsv:%d: extra fields", lineno);

		if (strcmp(f[0], "seed0_base64") == 0) {
			v.seed = 0;
		} else if (strcmp(f[0], "seed1_base64") == 0) {
			v.seed = 1;
		} else if (strcmp(f[0], "seed0_hex") == 0) {
			v.seed = 0;
			v.hex = true;
		} else {
			fail_msg("readme_table_vectors.tsv:%d: config %s", lineno, f[0]);
		}
		if (!parse_u16(f[2], &proto) || proto > 255 ||
		    !parse_addr(f[3], &v, v.saddr) || !parse_addr(f[4], &v, v.daddr))
			fail_msg("readme_table_vectors.tsv:%d: bad proto or address", lineno);
		v.proto = (uint8_t)proto;
		if (strcmp(f[5], "-") == 0 && strcmp(f[6], "-") == 0) {
			v.sport = 0;
			v.dport = 0;
		} else if (!parse_u16(f[5], &v.sport) || !parse_u16(f[6], &v.dport)) {
			fail_msg("readme_table_vectors.tsv:%d: bad ports", lineno);
		}
		snprintf(v.expect, sizeof(v.expect), "%s", f[7]);
		snprintf(where, sizeof(where), "readme_table_vectors.tsv:%d (%s %s)", lineno,
			 f[0], f[1]);
		check_vec(&v, where, t);
		count++;
	}
	free(text);
	return count;
}

static void test_official_vectors(void **state)
{
	struct cid_tally t = { 0, 0 };
	int n_deflt, n_seed1, n_nob64, n_tsv;

	(void)state;
	n_deflt = check_baseline("baseline_deflt.json", 0, false, &t);
	n_seed1 = check_baseline("baseline_seed1.json", 1, false, &t);
	n_nob64 = check_baseline("baseline_nob64.json", 0, true, &t);
	n_tsv = check_readme_tables(&t);
	print_message("community-id vectors: %d baseline_deflt, %d baseline_seed1, "
		      "%d baseline_nob64, %d readme tables; %d checked, %d failed\n",
		      n_deflt, n_seed1, n_nob64, n_tsv, t.checked, t.failed);
	assert_true(n_deflt > 0);
	assert_true(n_seed1 > 0);
	assert_true(n_nob64 > 0);
	assert_true(n_tsv > 0);
	assert_int_equal(t.checked, n_deflt + n_seed1 + n_nob64 + n_tsv);
	assert_int_equal(t.failed, 0);
}

/* ---- hand checks ----------------------------------------------------- */

static const uint8_t a4[16] = { 1, 2, 3, 4 };
static const uint8_t b4[16] = { 5, 6, 7, 8 };
static const uint8_t a6[16] = { 0xfe, 0x80, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13 };
static const uint8_t b6[16] = { 0xfe, 0x80, 0x10, 0x11, 0x12, 0x13, 0x14, 0x15,
				0x16, 0x17, 0x18, 0x19, 0x1a, 0x1b, 0x1c, 0x1d };

static void cid(int family, const uint8_t *s, const uint8_t *d, uint8_t proto,
		uint16_t sport, uint16_t dport, char out[COMMUNITY_ID_STRLEN])
{
	assert_int_equal(community_id_v1(0, family, s, d, proto, sport, dport, out), 0);
}

static void test_forms_and_errors(void **state)
{
	char out[COMMUNITY_ID_STRLEN];

	(void)state;
	cid(4, a4, b4, 6, 1122, 3344, out);
	assert_string_equal(out, "1:wCb3OG7yAFWelaUydu0D+125CLM=");
	assert_int_equal(strlen(out), 30);
	assert_int_equal(community_id_v1_hex(0, 4, a4, b4, 6, 1122, 3344, out), 0);
	assert_string_equal(out, "1:c026f7386ef200559e95a53276ed03fb5db908b3");
	assert_int_equal(strlen(out), COMMUNITY_ID_STRLEN - 1);

	memset(out, 'x', sizeof(out));
	assert_int_equal(community_id_v1(0, 5, a4, b4, 6, 1, 2, out), -1);
	assert_string_equal(out, "");
	memset(out, 'x', sizeof(out));
	assert_int_equal(community_id_v1_hex(0, 10, a6, b6, 6, 1, 2, out), -1);
	assert_string_equal(out, "");
}

/* IPv4 uses only the first 4 bytes of each address. */
static void test_v4_ignores_tail(void **state)
{
	uint8_t s[16], d[16];
	char x[COMMUNITY_ID_STRLEN], y[COMMUNITY_ID_STRLEN];

	(void)state;
	memset(s, 0xee, sizeof(s));
	memset(d, 0x11, sizeof(d));
	memcpy(s, a4, 4);
	memcpy(d, b4, 4);
	cid(4, a4, b4, 17, 53, 40000, x);
	cid(4, s, d, 17, 53, 40000, y);
	assert_string_equal(x, y);
}

/* Port-less protocols: the ports passed are ignored; addresses still ordered. */
static void test_portless(void **state)
{
	char x[COMMUNITY_ID_STRLEN], y[COMMUNITY_ID_STRLEN];
	static const uint8_t protos[] = { 0, 2, 46, 47, 50, 51, 89, 255 };
	size_t i;

	(void)state;
	cid(4, a4, b4, 46, 1234, 80, x);
	assert_string_equal(x, "1:ikv3kmf89luf73WPz1jOs49S768=");
	for (i = 0; i < sizeof(protos); i++) {
		cid(6, a6, b6, protos[i], 0, 0, x);
		cid(6, b6, a6, protos[i], 443, 1, y);
		assert_string_equal(x, y);
	}
}

/* Same address on both ends: the ports decide the order. */
static void test_equal_addresses(void **state)
{
	char x[COMMUNITY_ID_STRLEN], y[COMMUNITY_ID_STRLEN], z[COMMUNITY_ID_STRLEN];

	(void)state;
	cid(4, a4, a4, 6, 80, 1234, x);
	cid(4, a4, a4, 6, 1234, 80, y);
	cid(4, a4, a4, 6, 80, 1235, z);
	assert_string_equal(x, y);
	assert_string_not_equal(x, z);
}

struct icmp_pair {
	uint8_t proto;
	uint16_t type;
	uint16_t peer;
};

/* Two-way ICMP types (pycommunityid's tables): a message and its counterpart
 * in the other direction share an ID whatever the codes, and the code does
 * not enter the hash. */
static void test_icmp_two_way(void **state)
{
	static const struct icmp_pair pairs[] = {
		{ 1, 8, 0 }, { 1, 13, 14 }, { 1, 15, 16 }, { 1, 10, 9 }, { 1, 17, 18 },
		{ 58, 128, 129 }, { 58, 130, 131 }, { 58, 133, 134 }, { 58, 135, 136 },
		{ 58, 139, 140 }, { 58, 144, 145 },
	};
	char x[COMMUNITY_ID_STRLEN], y[COMMUNITY_ID_STRLEN], z[COMMUNITY_ID_STRLEN];
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(pairs) / sizeof(pairs[0]); i++) {
		const struct icmp_pair *p = &pairs[i];
		int fam = p->proto == 1 ? 4 : 6;
		const uint8_t *s = fam == 4 ? a4 : a6, *d = fam == 4 ? b4 : b6;

		cid(fam, s, d, p->proto, p->type, 0, x);
		cid(fam, d, s, p->proto, p->peer, 7, y);
		cid(fam, s, d, p->proto, p->type, 3, z);
		if (strcmp(x, y) != 0 || strcmp(x, z) != 0)
			fail_msg("proto %u type %u/%u: %s %s %s", p->proto, p->type, p->peer,
				 x, y, z);
		/* Both directions started by the other side match too. */
		cid(fam, d, s, p->proto, p->type, 0, x);
		cid(fam, s, d, p->proto, p->peer, 0, y);
		assert_string_equal(x, y);
	}
}

/* One-way ICMP types: never reordered, and the code is the second "port". */
static void test_icmp_one_way(void **state)
{
	static const struct icmp_pair one_way[] = {
		{ 1, 3, 0 }, { 1, 5, 0 }, { 1, 11, 0 }, { 1, 12, 0 },
		{ 58, 1, 0 }, { 58, 2, 0 }, { 58, 3, 0 }, { 58, 4, 0 }, { 58, 137, 0 },
		{ 58, 146, 0 },
	};
	char x[COMMUNITY_ID_STRLEN], y[COMMUNITY_ID_STRLEN], z[COMMUNITY_ID_STRLEN];
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(one_way) / sizeof(one_way[0]); i++) {
		const struct icmp_pair *p = &one_way[i];
		int fam = p->proto == 1 ? 4 : 6;
		const uint8_t *s = fam == 4 ? a4 : a6, *d = fam == 4 ? b4 : b6;

		cid(fam, s, d, p->proto, p->type, 0, x);
		cid(fam, d, s, p->proto, p->type, 0, y);
		cid(fam, s, d, p->proto, p->type, 1, z);
		assert_string_not_equal(x, y);
		assert_string_not_equal(x, z);
		/* code == type: only the address order tells the directions apart */
		cid(fam, s, d, p->proto, p->type, p->type, x);
		cid(fam, d, s, p->proto, p->type, p->type, y);
		assert_string_not_equal(x, y);
	}
	/* Port unreachable from the larger address: hashed as given. Expected
	 * values from Python's hashlib over the hand-laid input
	 * 0000 05060708 01020304 01 00 0003 0003 (and with the addresses swapped). */
	cid(4, b4, a4, 1, 3, 3, x);
	assert_string_equal(x, "1:LpbcOkCI0tVP+aO3QtYxJ5CoMcY=");
	cid(4, a4, b4, 1, 3, 3, x);
	assert_string_equal(x, "1:P5vFBU6TYw5L/r1/iHf4w/aY33Q=");
	/* The spec table's unidirectional example. */
	cid(4, a4, b4, 1, 11, 0, x);
	assert_string_equal(x, "1:f/YiSyWqczrTgfUCZlBUnvHRcPk=");
}


int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_official_vectors),
		cmocka_unit_test(test_forms_and_errors),
		cmocka_unit_test(test_v4_ignores_tail),
		cmocka_unit_test(test_portless),
		cmocka_unit_test(test_equal_addresses),
		cmocka_unit_test(test_icmp_two_way),
		cmocka_unit_test(test_icmp_one_way),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
