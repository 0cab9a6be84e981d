/* test_report.c: sensor/report.c, the run's picture (include/report.h).
 *
 * Expected behaviour from report.h: egress is what a home_net host sends outside; a
 * flow record's egress bytes are spread evenly over its duration and the timeline holds
 * every egress byte (whatever the order, span or age of the records: the bins double in
 * width and extend to the left); the tables stay within REPORT_MAX_ENTRIES, the lightest
 * sampled entry making room and its bytes counted as not itemised, the heavy ones
 * staying; an alert update refreshes the alert it updates; an alert that comes before
 * its flow's record is still counted on its source and destination.
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

#include "report-table.h"

static struct netset home;

static int setup(void **state)
{
	(void)state;
	char err[200];
	return netset_parse_list(&home, "10.0.0.0/8", err, sizeof(err)) ? 0 : -1;
}

static uint64_t rng(uint64_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 7;
	*s ^= *s << 17;
	return *s;
}

static void v4(uint8_t a[16], uint32_t ip)
{
	memset(a, 0, 16);
	a[0] = (uint8_t)(ip >> 24);
	a[1] = (uint8_t)(ip >> 16);
	a[2] = (uint8_t)(ip >> 8);
	a[3] = (uint8_t)ip;
}

static void flow(struct report *r, uint32_t src, uint32_t dst, uint64_t first_us,
		 uint64_t last_us, uint64_t out, uint64_t in)
{
	uint8_t s[16], d[16];
	v4(s, src);
	v4(d, dst);
	struct report_flow f = {
		.first_us = first_us,
		.last_us = last_us,
		.family = 4,
		.addr = { s, d },
		.port = { 40000, 443 },
		.proto = 6,
		.bytes = { out, in },
		.internal = -2,
	};
	report_flow(r, &f);
}

static uint64_t timeline_sum(const struct report *r)
{
	uint64_t t = 0;
	for (int b = 0; b < REPORT_BINS; b++) {
		t += r->other.bin[b];
		for (int i = 0; i < REPORT_TRACKED; i++)
			if (r->tracked[i])
				t += r->tracked[i]->bin[b];
	}
	return t;
}

static uint64_t bin_of(const struct report *r, int b)
{
	uint64_t t = r->other.bin[b];
	for (int i = 0; i < REPORT_TRACKED; i++)
		if (r->tracked[i])
			t += r->tracked[i]->bin[b];
	return t;
}

#define IN(x) (0x0a000000u + (x))  /* 10.0.0.0/8 */
#define OUT(x) (0xc6336400u + (x)) /* 198.51.100.0/24 and up */
#define S 1000000ull

static void test_direction(void **state)
{
	(void)state;
	struct report *r = report_create(&home, true);
	flow(r, IN(1), OUT(1), 0, S, 1000, 50);	      /* egress: initiator inside */
	flow(r, OUT(2), IN(2), 0, S, 70, 3000);	      /* egress: responder inside sends 3000 */
	flow(r, IN(3), IN(4), 0, S, 5000, 5000);      /* internal */
	flow(r, OUT(3), OUT(4), 0, S, 5000, 5000);    /* external */
	assert_int_equal(r->flows, 4);
	assert_int_equal(r->egress_flows, 2);
	assert_int_equal(r->internal_flows, 1);
	assert_int_equal(r->external_flows, 1);
	assert_int_equal(r->egress_bytes, 4000);
	assert_int_equal(r->ingress_bytes, 120);
	assert_int_equal(r->src.n, 2);
	assert_int_equal(r->dst.n, 2);
	assert_int_equal(timeline_sum(r), 4000);
	report_destroy(r);
}

static void test_spread_evenly(void **state)
{
	(void)state;
	struct report *r = report_create(&home, true);
	/* 1000 bytes from 0.5 s to 2.5 s: bins [0,1) [1,2) [2,3) get 250, 500, 250 */
	flow(r, IN(1), OUT(1), S / 2, 5 * S / 2, 1000, 0);
	assert_int_equal(r->t0_us, 0);
	assert_int_equal(r->w_us, S);
	assert_int_equal(bin_of(r, 0), 250);
	assert_int_equal(bin_of(r, 1), 500);
	assert_int_equal(bin_of(r, 2), 250);
	assert_int_equal(r->bins_used, 3);
	/* 7 bytes over 3 bins cannot split evenly: still 7 in all, each share 2 or 3 */
	flow(r, IN(1), OUT(1), 10 * S, 13 * S - 1, 7, 0);
	assert_int_equal(bin_of(r, 10) + bin_of(r, 11) + bin_of(r, 12), 7);
	for (int b = 10; b <= 12; b++)
		assert_true(bin_of(r, b) == 2 || bin_of(r, b) == 3);
	report_destroy(r);
}

static void test_bins_double_and_extend_left(void **state)
{
	(void)state;
	struct report *r = report_create(&home, true);
	uint64_t base = 1700000000ull * S;
	flow(r, IN(1), OUT(1), base + 100 * S, base + 100 * S, 111, 0);
	assert_int_equal(r->w_us, S);
	/* 1000 s later: 240 bins of 1 s do not reach; 4 s bins do (960 s: not), 8 s do */
	flow(r, IN(1), OUT(1), base + 1100 * S, base + 1100 * S, 222, 0);
	assert_int_equal(r->w_us, 8 * S);
	assert_true(r->t0_us <= base + 100 * S);
	assert_int_equal(bin_of(r, (int)((base + 100 * S - r->t0_us) / r->w_us)), 111);
	assert_int_equal(bin_of(r, (int)((base + 1100 * S - r->t0_us) / r->w_us)), 222);
	/* a record that started before the first one: the bins move right */
	flow(r, IN(2), OUT(2), base + 20 * S, base + 20 * S, 333, 0);
	assert_true(r->t0_us <= base + 20 * S);
	assert_int_equal(bin_of(r, (int)((base + 20 * S - r->t0_us) / r->w_us)), 333);
	assert_int_equal(bin_of(r, (int)((base + 100 * S - r->t0_us) / r->w_us)), 111);
	assert_int_equal(timeline_sum(r), 666);
	report_destroy(r);
}

static void test_timeline_keeps_every_byte(void **state)
{
	(void)state;
	struct report *r = report_create(&home, true);
	uint64_t seed = 42, total = 0, base = 1600000000ull * S;
	/* records out of order, long and short, over a month, from 300 sources (more than
	 * are tracked): the bins hold every byte */
	for (int i = 0; i < 50000; i++) {
		uint64_t a = base + rng(&seed) % (30 * 86400 * S);
		uint64_t len = rng(&seed) % 4 == 0 ? rng(&seed) % (86400 * S) : rng(&seed) % (5 * S);
		uint64_t b = rng(&seed) % 100000;
		flow(r, IN((uint32_t)(rng(&seed) % 300)), OUT((uint32_t)(rng(&seed) % 5000)), a,
		     a + len, b, 10);
		total += b;
	}
	assert_int_equal(r->egress_bytes, total);
	assert_int_equal(timeline_sum(r), total);
	assert_true(r->bins_used <= REPORT_BINS);
	assert_int_equal(r->ntracked, REPORT_TRACKED);
	/* the tracked sources are among the largest: the largest source has a line */
	uint32_t n;
	uint32_t *top = rtab_top(&r->src, 1, NULL, &n);
	assert_int_equal(n, 1);
	assert_true(((struct rsrc *)rtab_at(&r->src, top[0]))->tracked >= 0);
	free(top);
	report_destroy(r);
}

static void test_tables_are_bounded(void **state)
{
	(void)state;
	struct report *r = report_create(&home, false);
	uint64_t seed = 7, total = 0;
	/* ten heavy destinations early, 200,000 light ones, ten heavy ones late */
	for (uint32_t i = 0; i < 10; i++) {
		flow(r, IN(1), OUT(1000000 + i), S, S, 1000000000, 0);
		total += 1000000000;
	}
	for (uint32_t i = 0; i < 200000; i++) {
		uint64_t b = 1 + rng(&seed) % 10000;
		flow(r, IN(i % 100000), OUT(i), 2 * S, 2 * S, b, 0);
		total += b;
	}
	for (uint32_t i = 0; i < 10; i++) {
		flow(r, IN(1), OUT(2000000 + i), 3 * S, 3 * S, 500000000, 0);
		total += 500000000;
	}
	assert_int_equal(r->dst.n, REPORT_MAX_ENTRIES);
	assert_int_equal(r->dst.evicted, 200020 - REPORT_MAX_ENTRIES);
	assert_int_equal(r->src.n, REPORT_MAX_ENTRIES);
	/* every byte is in an entry or counted as not itemised */
	uint64_t kept = 0;
	for (uint32_t i = 0; i < r->dst.n; i++)
		kept += ((struct rdst *)rtab_at(&r->dst, i))->bytes_out;
	assert_int_equal(kept + r->dst_bytes_dropped, total);
	kept = 0;
	for (uint32_t i = 0; i < r->src.n; i++)
		kept += ((struct rsrc *)rtab_at(&r->src, i))->bytes_out;
	assert_int_equal(kept + r->src_bytes_dropped, total);
	/* the twenty heavy ones are the top twenty, heaviest first */
	uint32_t n;
	uint32_t *top = rtab_top(&r->dst, 20, NULL, &n);
	assert_int_equal(n, 20);
	for (uint32_t i = 0; i < 20; i++) {
		const struct rdst *d = rtab_at(&r->dst, top[i]);
		assert_int_equal(d->bytes_out, i < 10 ? 1000000000 : 500000000);
	}
	free(top);
	report_destroy(r);
}

static void test_top_matches_a_full_sort(void **state)
{
	(void)state;
	struct report *r = report_create(&home, false);
	uint64_t seed = 99;
	for (uint32_t i = 0; i < 3000; i++)
		flow(r, IN(1), OUT(i), S, S, rng(&seed) % 50, 0); /* many equal weights */
	uint32_t n5, nall;
	uint32_t *t5 = rtab_top(&r->dst, 50, NULL, &n5);
	uint32_t *all = rtab_top(&r->dst, r->dst.n, NULL, &nall); /* the full sort */
	assert_int_equal(n5, 50);
	assert_int_equal(nall, r->dst.n);
	for (uint32_t i = 0; i < 50; i++)
		assert_int_equal(t5[i], all[i]);
	for (uint32_t i = 1; i < nall; i++)
		assert_true(((struct rdst *)rtab_at(&r->dst, all[i - 1]))->bytes_out >=
			    ((struct rdst *)rtab_at(&r->dst, all[i]))->bytes_out);
	free(t5);
	free(all);
	report_destroy(r);
}

static void mk_alert(struct alert *a, const char *id, const char *update_of, uint32_t src,
		     uint32_t dst, uint64_t bytes, uint64_t ts)
{
	memset(a, 0, sizeof(*a));
	snprintf(a->id, sizeof(a->id), "%s", id);
	snprintf(a->update_of, sizeof(a->update_of), "%s", update_of);
	snprintf(a->rule_id, sizeof(a->rule_id), "r1");
	snprintf(a->rule_name, sizeof(a->rule_name), "Rule one");
	snprintf(a->technique, sizeof(a->technique), "T1567");
	a->severity = 3;
	a->family = 4;
	v4(a->src, src);
	v4(a->dst, dst);
	a->bytes_out = bytes;
	a->ts_us = ts;
}

static void test_alerts_updates_and_order(void **state)
{
	(void)state;
	struct report *r = report_create(&home, true);
	struct alert a;
	/* the alert fires while the flow goes on: before its record */
	mk_alert(&a, "A", "", IN(5), OUT(9), 20000000, 10 * S);
	report_alert(r, &a);
	mk_alert(&a, "B", "A", IN(5), OUT(9), 30000000, 20 * S);
	report_alert(r, &a);
	mk_alert(&a, "C", "Z", IN(5), OUT(9), 1, 20 * S); /* updates an alert never seen */
	report_alert(r, &a);
	assert_int_equal(r->alerts, 1);
	assert_int_equal(r->updates, 2);
	assert_int_equal(r->updates_unmatched, 1);
	assert_int_equal(r->ndetails, 1);
	assert_string_equal(r->details[0]->id, "A");
	assert_int_equal(r->details[0]->bytes_out, 30000000);
	assert_int_equal(r->details[0]->ts_us, 10 * S);
	assert_int_equal(r->detail_updates[0], 1);
	assert_int_equal(r->tech_alerts[0], 1);
	assert_int_equal(r->tech_bytes[0], 30000000);
	flow(r, IN(5), OUT(9), 5 * S, 30 * S, 30500000, 100);
	struct rkey k = { 4, { 0 } };
	v4(k.addr, IN(5));
	uint32_t n;
	uint32_t *v = rtab_top(&r->src, 1, NULL, &n);
	const struct rsrc *s = rtab_at(&r->src, v[0]);
	assert_memory_equal(s->k.addr, k.addr, 4);
	assert_int_equal(s->alerts, 1);
	assert_int_equal(s->bytes_out, 30500000);
	free(v);
	v = rtab_top(&r->dst, 1, NULL, &n);
	assert_int_equal(((struct rdst *)rtab_at(&r->dst, v[0]))->alerts, 1);
	free(v);
	assert_int_equal(r->groups.n, 1);
	assert_int_equal(((struct rgroup *)rtab_at(&r->groups, 0))->count, 1);
	report_destroy(r);
}

static void test_many_alerts_bounded(void **state)
{
	(void)state;
	struct report *r = report_create(&home, true);
	static struct alert a;
	char id[16];
	for (uint32_t i = 0; i < REPORT_DETAIL_ALERTS + 500; i++) {
		snprintf(id, sizeof(id), "%u", i);
		mk_alert(&a, id, "", IN(i % 7), OUT(i), 1000, i * S);
		report_alert(r, &a);
	}
	assert_int_equal(r->alerts, REPORT_DETAIL_ALERTS + 500);
	assert_int_equal(r->ndetails, REPORT_DETAIL_ALERTS);
	assert_int_equal(r->nal, REPORT_DETAIL_ALERTS + 500);
	assert_int_equal(r->groups.n, 7);
	uint64_t shown = 0, count = 0;
	for (uint32_t g = 0; g < r->groups.n; g++) {
		shown += ((struct rgroup *)rtab_at(&r->groups, g))->shown;
		count += ((struct rgroup *)rtab_at(&r->groups, g))->count;
	}
	assert_int_equal(shown, REPORT_DETAIL_ALERTS);
	assert_int_equal(count, REPORT_DETAIL_ALERTS + 500);
	report_destroy(r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_direction),
		cmocka_unit_test(test_spread_evenly),
		cmocka_unit_test(test_bins_double_and_extend_left),
		cmocka_unit_test(test_timeline_keeps_every_byte),
		cmocka_unit_test(test_tables_are_bounded),
		cmocka_unit_test(test_top_matches_a_full_sort),
		cmocka_unit_test(test_alerts_updates_and_order),
		cmocka_unit_test(test_many_alerts_bounded),
	};
	return cmocka_run_group_tests(tests, setup, NULL);
}
