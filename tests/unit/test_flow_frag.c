/* test_flow_frag.c: sensor/flow-frag.c, tying IP fragments to their first fragment.
 *
 * Expected behaviour from include/flow-frag.h and the README (Flows: "a later fragment
 * is tied to its first fragment by (addresses, protocol, IP id); if it arrives first it
 * waits (as counts) for up to fragment_timeout"): entries live timeout_s of packet time
 * (alive at exactly that age, gone one microsecond later), a full table and fragments
 * whose first fragment never came are counted anomalies.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdbool.h>
#include <string.h>

#include "anomaly.h"
#include "decode.h"
#include "flow-frag.h"

#define SEC 1000000ULL
#define T0 (1600000000ULL * SEC)

static struct pkt_layer frag(int family, uint8_t proto, uint32_t src, uint32_t dst, uint32_t id,
			     enum pkt_frag kind, uint16_t sport, uint16_t dport, uint32_t ip_bytes,
			     uint32_t payload_bytes)
{
	struct pkt_layer l;
	memset(&l, 0, sizeof(l));
	l.family = (uint8_t)family;
	l.proto = proto;
	l.frag = (uint8_t)kind;
	l.frag_id = id;
	l.sport = sport;
	l.dport = dport;
	l.ip_bytes = ip_bytes;
	l.payload_bytes = payload_bytes;
	if (family == 4) {
		l.src[0] = (uint8_t)(src >> 24), l.src[1] = (uint8_t)(src >> 16);
		l.src[2] = (uint8_t)(src >> 8), l.src[3] = (uint8_t)src;
		l.dst[0] = (uint8_t)(dst >> 24), l.dst[1] = (uint8_t)(dst >> 16);
		l.dst[2] = (uint8_t)(dst >> 8), l.dst[3] = (uint8_t)dst;
	} else {
		l.src[0] = 0x20, l.src[1] = 0x01, l.src[12] = (uint8_t)(src >> 24);
		l.src[13] = (uint8_t)(src >> 16), l.src[14] = (uint8_t)(src >> 8);
		l.src[15] = (uint8_t)src;
		l.dst[0] = 0x20, l.dst[1] = 0x01, l.dst[12] = (uint8_t)(dst >> 24);
		l.dst[13] = (uint8_t)(dst >> 16), l.dst[14] = (uint8_t)(dst >> 8);
		l.dst[15] = (uint8_t)dst;
	}
	return l;
}

#define A 0xc0a80001u /* 192.168.0.1 */
#define B 0x08080808u /* 8.8.8.8 */

static uint64_t anom_total(const struct anomaly_counts *a)
{
	uint64_t t = 0;
	for (int i = 0; i < ANOM__COUNT; i++)
		t += a->n[i];
	return t;
}

static void test_first_then_later(void **state)
{
	(void)state;
	struct anomaly_counts an;
	memset(&an, 0, sizeof(an));
	struct frag_table *t = frag_table_create(64, 30, &an);
	assert_non_null(t);

	struct pkt_layer f1 = frag(4, 17, A, B, 0x1234, PKT_FRAG_FIRST, 5353, 53, 1500, 3000);
	struct frag_pending p = frag_first(t, &f1, T0);
	assert_int_equal(p.pkts, 0);
	assert_int_equal(p.ip_bytes, 0);
	assert_int_equal(p.payload_bytes, 0);

	struct pkt_layer f2 = frag(4, 17, A, B, 0x1234, PKT_FRAG_LATER, 0, 0, 1500, 0);
	assert_true(frag_later(t, &f2, T0 + 1));
	assert_int_equal(f2.sport, 5353);
	assert_int_equal(f2.dport, 53);
	struct pkt_layer f3 = frag(4, 17, A, B, 0x1234, PKT_FRAG_LATER, 0, 0, 48, 0);
	assert_true(frag_later(t, &f3, T0 + 2));
	assert_int_equal(f3.sport, 5353);
	assert_int_equal(f3.dport, 53);

	/* ICMP: the first fragment's type and code travel the same way */
	struct pkt_layer i1 = frag(4, 1, A, B, 7, PKT_FRAG_FIRST, 8, 0, 1500, 1472);
	frag_first(t, &i1, T0);
	struct pkt_layer i2 = frag(4, 1, A, B, 7, PKT_FRAG_LATER, 0, 0, 100, 80);
	assert_true(frag_later(t, &i2, T0));
	assert_int_equal(i2.sport, 8);
	assert_int_equal(i2.dport, 0);

	/* IPv6: fragment ids are 32 bits */
	struct pkt_layer s1 = frag(6, 6, A, B, 0xdeadbeef, PKT_FRAG_FIRST, 40000, 443, 1280, 1000);
	frag_first(t, &s1, T0);
	struct pkt_layer s2 = frag(6, 6, A, B, 0xdeadbeef, PKT_FRAG_LATER, 0, 0, 500, 452);
	assert_true(frag_later(t, &s2, T0));
	assert_int_equal(s2.sport, 40000);
	assert_int_equal(s2.dport, 443);

	assert_int_equal(anom_total(&an), 0);
	frag_table_destroy(t);
}

/* Only (addresses, protocol, id) of the same direction match. */
static void test_key_separation(void **state)
{
	(void)state;
	struct anomaly_counts an;
	memset(&an, 0, sizeof(an));
	struct frag_table *t = frag_table_create(64, 30, &an);

	struct pkt_layer f1 = frag(4, 17, A, B, 100, PKT_FRAG_FIRST, 1111, 2222, 1500, 2000);
	frag_first(t, &f1, T0);

	struct pkt_layer x;
	x = frag(4, 17, A, B, 101, PKT_FRAG_LATER, 0, 0, 500, 0); /* other id */
	assert_false(frag_later(t, &x, T0));
	x = frag(4, 6, A, B, 100, PKT_FRAG_LATER, 0, 0, 500, 480); /* other protocol */
	assert_false(frag_later(t, &x, T0));
	x = frag(4, 17, B, A, 100, PKT_FRAG_LATER, 0, 0, 500, 0); /* reversed */
	assert_false(frag_later(t, &x, T0));
	x = frag(4, 17, A, B + 1, 100, PKT_FRAG_LATER, 0, 0, 500, 0); /* other address */
	assert_false(frag_later(t, &x, T0));
	x = frag(6, 17, A, B, 100, PKT_FRAG_LATER, 0, 0, 500, 0); /* other family */
	assert_false(frag_later(t, &x, T0));
	x = frag(4, 17, A, B, 100, PKT_FRAG_LATER, 0, 0, 500, 0);
	assert_true(frag_later(t, &x, T0));
	assert_int_equal(x.sport, 1111);
	assert_int_equal(x.dport, 2222);
	frag_table_destroy(t);
}

static void test_later_then_first(void **state)
{
	(void)state;
	struct anomaly_counts an;
	memset(&an, 0, sizeof(an));
	struct frag_table *t = frag_table_create(64, 30, &an);

	struct pkt_layer l1 = frag(4, 6, A, B, 0x4242, PKT_FRAG_LATER, 0, 0, 1500, 1480);
	struct pkt_layer l2 = frag(4, 6, A, B, 0x4242, PKT_FRAG_LATER, 0, 0, 520, 500);
	assert_false(frag_later(t, &l1, T0));
	assert_false(frag_later(t, &l2, T0 + 5));
	assert_int_equal(l1.sport, 0);

	struct pkt_layer f = frag(4, 6, A, B, 0x4242, PKT_FRAG_FIRST, 40001, 80, 1500, 1460);
	struct frag_pending p = frag_first(t, &f, T0 + 10);
	assert_int_equal(p.pkts, 2);
	assert_int_equal(p.ip_bytes, 2020);
	assert_int_equal(p.payload_bytes, 1980);

	/* handed over once: a repeated first fragment gets nothing more */
	p = frag_first(t, &f, T0 + 11);
	assert_int_equal(p.pkts, 0);
	assert_int_equal(p.ip_bytes, 0);

	/* and a later fragment now finds its ports */
	struct pkt_layer l3 = frag(4, 6, A, B, 0x4242, PKT_FRAG_LATER, 0, 0, 100, 80);
	assert_true(frag_later(t, &l3, T0 + 12));
	assert_int_equal(l3.sport, 40001);
	assert_int_equal(l3.dport, 80);
	assert_int_equal(anom_total(&an), 0);
	frag_table_destroy(t);
}

static void test_expiry(void **state)
{
	(void)state;
	struct anomaly_counts an;
	memset(&an, 0, sizeof(an));
	struct frag_table *t = frag_table_create(64, 30, &an);

	/* a first fragment's ports are kept for exactly 30 s */
	struct pkt_layer f = frag(4, 17, A, B, 1, PKT_FRAG_FIRST, 1000, 2000, 1500, 3000);
	frag_first(t, &f, T0);
	struct pkt_layer l = frag(4, 17, A, B, 1, PKT_FRAG_LATER, 0, 0, 1500, 0);
	assert_true(frag_later(t, &l, T0 + 30 * SEC));
	l = frag(4, 17, A, B, 1, PKT_FRAG_LATER, 0, 0, 1500, 0);
	assert_false(frag_later(t, &l, T0 + 30 * SEC + 1));
	assert_int_equal(l.sport, 0);

	/* waiting fragments likewise: 30 s, then they are orphans (counted once) */
	struct pkt_layer w = frag(4, 17, A, B, 2, PKT_FRAG_LATER, 0, 0, 700, 0);
	assert_false(frag_later(t, &w, T0));
	struct pkt_layer g = frag(4, 17, A, B, 2, PKT_FRAG_FIRST, 3000, 4000, 1500, 2000);
	struct frag_pending p = frag_first(t, &g, T0 + 30 * SEC);
	assert_int_equal(p.pkts, 1);
	assert_int_equal(p.ip_bytes, 700);

	struct pkt_layer o = frag(4, 17, A, B, 3, PKT_FRAG_LATER, 0, 0, 900, 0);
	assert_false(frag_later(t, &o, T0));
	uint64_t orphans = an.n[ANOM_FRAG_ORPHAN];
	/* the same key after the timeout: the old waiting fragment is an orphan, the new
	 * one waits on its own */
	o = frag(4, 17, A, B, 3, PKT_FRAG_LATER, 0, 0, 400, 0);
	assert_false(frag_later(t, &o, T0 + 30 * SEC + 1));
	assert_int_equal(an.n[ANOM_FRAG_ORPHAN], orphans + 1);
	struct pkt_layer h = frag(4, 17, A, B, 3, PKT_FRAG_FIRST, 5, 6, 1500, 2000);
	p = frag_first(t, &h, T0 + 30 * SEC + 2);
	assert_int_equal(p.pkts, 1);	    /* only the fragment that has not expired */
	assert_int_equal(p.ip_bytes, 400);
	assert_int_equal(an.n[ANOM_FRAG_ORPHAN], orphans + 1);
	assert_int_equal(an.n[ANOM_FRAG_TABLE_FULL], 0);
	frag_table_destroy(t);
}

/* Capacity 16 (the smallest table, 16 slots): at most 16 live entries; an insertion
 * that finds no room is refused and counted once; room comes back with expiry. */
static void test_table_full(void **state)
{
	(void)state;
	enum { N = 200 };
	struct anomaly_counts an;
	memset(&an, 0, sizeof(an));
	struct frag_table *t = frag_table_create(16, 30, &an);
	bool stored[N];
	int ok = 0;

	for (uint32_t i = 0; i < N; i++) {
		struct pkt_layer f = frag(4, 17, A, B, 1000 + i, PKT_FRAG_FIRST, (uint16_t)(10000 + i),
					  53, 1500, 2000);
		uint64_t before = an.n[ANOM_FRAG_TABLE_FULL];
		frag_first(t, &f, T0);
		uint64_t d = an.n[ANOM_FRAG_TABLE_FULL] - before;
		assert_true(d <= 1);
		stored[i] = d == 0;
		ok += stored[i];
	}
	assert_true(ok <= 16);
	assert_true(ok >= 8); /* the first 8 always find room in their 8-slot window */
	assert_int_equal(an.n[ANOM_FRAG_TABLE_FULL], N - ok);
	assert_int_equal(an.n[ANOM_FRAG_ORPHAN], 0);

	/* every stored first fragment is found; the refused ones are not */
	for (uint32_t i = 0; i < N; i++) {
		struct pkt_layer l = frag(4, 17, A, B, 1000 + i, PKT_FRAG_LATER, 0, 0, 500, 0);
		bool got = frag_later(t, &l, T0 + 1);
		if (stored[i]) {
			assert_true(got);
			assert_int_equal(l.sport, 10000 + i);
		} else {
			assert_false(got);
		}
	}

	/* a later fragment can be refused for room too (and is counted) */
	uint64_t full = an.n[ANOM_FRAG_TABLE_FULL];
	int refused = 0;
	for (uint32_t i = 0; i < 50; i++) {
		struct pkt_layer l = frag(4, 17, B, A, 5000 + i, PKT_FRAG_LATER, 0, 0, 500, 0);
		uint64_t before = an.n[ANOM_FRAG_TABLE_FULL];
		assert_false(frag_later(t, &l, T0 + 2));
		refused += (int)(an.n[ANOM_FRAG_TABLE_FULL] - before);
	}
	assert_true(refused > 0);
	assert_int_equal(an.n[ANOM_FRAG_TABLE_FULL], full + (uint64_t)refused);

	/* after the timeout the table has room again */
	full = an.n[ANOM_FRAG_TABLE_FULL];
	for (uint32_t i = 0; i < 8; i++) {
		struct pkt_layer f = frag(4, 17, A, B, 9000 + i, PKT_FRAG_FIRST, 7, 8, 1500, 2000);
		frag_first(t, &f, T0 + 40 * SEC);
	}
	assert_int_equal(an.n[ANOM_FRAG_TABLE_FULL], full);
	for (uint32_t i = 0; i < 8; i++) {
		struct pkt_layer l = frag(4, 17, A, B, 9000 + i, PKT_FRAG_LATER, 0, 0, 500, 0);
		assert_true(frag_later(t, &l, T0 + 40 * SEC));
	}
	frag_table_destroy(t);
}

/* A capacity that is not a power of two is rounded up to one (17 -> 32, 100 -> 128): the
 * table never holds more live entries than that, and every first fragment it refuses is
 * counted once. */
static void test_capacity_rounding(void **state)
{
	(void)state;
	static const uint32_t caps[][2] = { { 17, 32 }, { 100, 128 }, { 65536, 65536 } };
	enum { N = 1000 };

	for (size_t c = 0; c < sizeof(caps) / sizeof(caps[0]); c++) {
		struct anomaly_counts an;
		memset(&an, 0, sizeof(an));
		struct frag_table *t = frag_table_create(caps[c][0], 30, &an);
		uint32_t n = caps[c][1] < N ? 4 * caps[c][1] : N;
		uint32_t ok = 0;

		assert_non_null(t);
		for (uint32_t i = 0; i < n; i++) {
			struct pkt_layer f = frag(4, 17, A, B + i, i, PKT_FRAG_FIRST, 1, 2, 1500,
						  2000);
			uint64_t before = an.n[ANOM_FRAG_TABLE_FULL];
			frag_first(t, &f, T0);
			ok += an.n[ANOM_FRAG_TABLE_FULL] == before;
		}
		assert_true(ok <= caps[c][1]);
		assert_true(ok >= 8);
		assert_int_equal(an.n[ANOM_FRAG_TABLE_FULL], n - ok);
		if (n < caps[c][1] / 4) /* a table a quarter full refuses next to nothing */
			assert_true(ok >= n - n / 8);
		frag_table_destroy(t);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_first_then_later), cmocka_unit_test(test_key_separation),
		cmocka_unit_test(test_later_then_first), cmocka_unit_test(test_expiry),
		cmocka_unit_test(test_table_full), cmocka_unit_test(test_capacity_rounding),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
