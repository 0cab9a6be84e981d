/* test_flow_table.c: sensor/flow-table.c, the bidirectional flow table.
 *
 * Expected behaviour from the README (Flows section) and include/flow.h: volume by
 * direction; the initiator rules (SYN, SYN+ACK receiver, service port below 1024, first
 * packet, ICMP request / reply-only); idle expiry on packet time per timeout class (a
 * flow idle for exactly its timeout stays, one microsecond more ends it); the closed-TCP
 * linger after FIN both ways or RST; a new SYN on a finished connection starts a new
 * flow; the active timeout writes a record and restarts the counts; eviction of the least
 * recently active flow (closed TCP first) when full; flush in creation order.
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

#include "decode.h"
#include "flow.h"

#define SEC 1000000ULL
#define T0 (1650000000ULL * SEC)

/* Addresses: A < B < C as 16-byte strings. */
#define A 0x0a000001u /* 10.0.0.1 */
#define B 0x0a000002u /* 10.0.0.2 */
#define C 0x0a000009u /* 10.0.0.9 */

static struct pkt_layer mk(uint8_t proto, uint32_t src, uint16_t sport, uint32_t dst,
			   uint16_t dport, uint8_t flags, uint32_t ip_bytes, uint32_t payload)
{
	struct pkt_layer l;
	memset(&l, 0, sizeof(l));
	l.family = 4;
	l.proto = proto;
	l.sport = sport;
	l.dport = dport;
	l.tcp_flags = flags;
	l.ip_bytes = ip_bytes;
	l.payload_bytes = payload;
	for (int i = 0; i < 4; i++) {
		l.src[i] = (uint8_t)(src >> (24 - 8 * i));
		l.dst[i] = (uint8_t)(dst >> (24 - 8 * i));
	}
	return l;
}

static struct pkt_layer mk6(uint8_t proto, uint8_t s_last, uint16_t sport, uint8_t d_last,
			    uint16_t dport)
{
	struct pkt_layer l;
	memset(&l, 0, sizeof(l));
	l.family = 6;
	l.proto = proto;
	l.sport = sport;
	l.dport = dport;
	l.ip_bytes = 104;
	l.payload_bytes = 56;
	l.src[0] = l.dst[0] = 0x20;
	l.src[1] = l.dst[1] = 0x01;
	l.src[15] = s_last;
	l.dst[15] = d_last;
	return l;
}

/* ---- the end callback's record -------------------------------------------- */

struct ev {
	uint64_t id;
	enum flow_end why;
	uint64_t pkts[2], ip[2], pay[2];
	uint64_t first_us, last_us;
	int init, rule;
};

struct rec {
	int n;
	struct ev ev[256];
};

static void on_end(void *ctx, struct flow *f, enum flow_end why)
{
	struct rec *r = ctx;
	assert_true(r->n < 256);
	struct ev *e = &r->ev[r->n++];
	e->id = f->id;
	e->why = why;
	for (int s = 0; s < 2; s++) {
		e->pkts[s] = f->pkts[s];
		e->ip[s] = f->ip_bytes[s];
		e->pay[s] = f->payload_bytes[s];
	}
	e->first_us = f->first_us;
	e->last_us = f->last_us;
	e->init = f->init;
	e->rule = f->init_rule;
}

/* The table of the running test, destroyed by the teardown even when an assertion
 * fails (so a failure is not followed by leak reports). */
static struct flow_table *cur_ft;

static int teardown(void **state)
{
	(void)state;
	flow_table_destroy(cur_ft);
	cur_ft = NULL;
	return 0;
}

static void done(struct flow_table *ft)
{
	assert_ptr_equal(ft, cur_ft);
	flow_table_destroy(ft);
	cur_ft = NULL;
}

static struct flow_table *mk_table(uint32_t max_flows, struct rec *r, uint32_t tcp, uint32_t closed,
				   uint32_t udp, uint32_t icmp, uint32_t other, uint32_t active)
{
	struct flow_table_config cfg;
	char err[256];
	flow_table_config_default(&cfg);
	cfg.max_flows = max_flows;
	cfg.timeout_s[FLOW_LIST_TCP] = tcp;
	cfg.timeout_s[FLOW_LIST_TCP_CLOSED] = closed;
	cfg.timeout_s[FLOW_LIST_UDP] = udp;
	cfg.timeout_s[FLOW_LIST_ICMP] = icmp;
	cfg.timeout_s[FLOW_LIST_OTHER] = other;
	cfg.active_timeout_s = active;
	memset(r, 0, sizeof(*r));
	struct flow_table *ft = flow_table_create(&cfg, on_end, r, err, sizeof(err));
	if (!ft)
		fail_msg("flow_table_create: %s", err);
	assert_null(cur_ft);
	cur_ft = ft;
	return ft;
}

/* One packet, the way the pipeline feeds the table: advance, then update. */
static struct flow *pkt(struct flow_table *ft, const struct pkt_layer *l, uint64_t ts, int *side,
			bool *created)
{
	int s;
	bool c;
	flow_table_advance(ft, ts);
	struct flow *f = flow_table_update(ft, l, ts, &s, &c);
	assert_non_null(f);
	if (side)
		*side = s;
	if (created)
		*created = c;
	return f;
}

static void test_create_limits(void **state)
{
	(void)state;
	struct flow_table_config cfg;
	char err[256] = "";
	flow_table_config_default(&cfg);
	/* README defaults: tcp 5m, closed 2m, udp/icmp/other 1m, active 30m */
	assert_int_equal(cfg.timeout_s[FLOW_LIST_TCP], 300);
	assert_int_equal(cfg.timeout_s[FLOW_LIST_TCP_CLOSED], 120);
	assert_int_equal(cfg.timeout_s[FLOW_LIST_OTHER], 60);
	assert_int_equal(cfg.active_timeout_s, 1800);
	cfg.max_flows = 0;
	assert_null(flow_table_create(&cfg, on_end, NULL, err, sizeof(err)));
	assert_true(err[0] != '\0');
	flow_table_destroy(NULL);
}

/* ---- keys ------------------------------------------------------------------ */

static void test_key_symmetry(void **state)
{
	(void)state;
	struct flow_key k1, k2;
	struct pkt_layer ab = mk(6, A, 40000, B, 80, TCP_ACK, 40, 0);
	struct pkt_layer ba = mk(6, B, 80, A, 40000, TCP_ACK, 40, 0);
	int s1 = flow_key_from_layer(&ab, &k1);
	int s2 = flow_key_from_layer(&ba, &k2);
	assert_memory_equal(&k1, &k2, sizeof(k1));
	assert_int_equal(s1, 0); /* A is the lower address */
	assert_int_equal(s2, 1);
	assert_int_equal(k1.port[0], 40000);
	assert_int_equal(k1.port[1], 80);

	/* same address both ends: the lower port is side 0 */
	struct pkt_layer lo1 = mk(17, A, 6000, A, 5000, 0, 40, 12);
	struct pkt_layer lo2 = mk(17, A, 5000, A, 6000, 0, 40, 12);
	s1 = flow_key_from_layer(&lo1, &k1);
	s2 = flow_key_from_layer(&lo2, &k2);
	assert_memory_equal(&k1, &k2, sizeof(k1));
	assert_int_equal(s1, 1);
	assert_int_equal(s2, 0);

	/* ICMP: request and reply share a key; side 0 is the requester */
	struct pkt_layer rq = mk(1, C, 8, B, 0, 0, 84, 56);
	struct pkt_layer rp = mk(1, B, 0, C, 0, 0, 84, 56);
	s1 = flow_key_from_layer(&rq, &k1);
	s2 = flow_key_from_layer(&rp, &k2);
	assert_memory_equal(&k1, &k2, sizeof(k1));
	assert_int_equal(s1, 0);
	assert_int_equal(s2, 1);
	assert_int_equal(k1.port[0], 8);
	assert_memory_equal(k1.addr[0], rq.src, 16);
	/* B pinging C is another key */
	struct pkt_layer rq2 = mk(1, B, 8, C, 0, 0, 84, 56);
	flow_key_from_layer(&rq2, &k2);
	assert_memory_not_equal(&k1, &k2, sizeof(k1));

	/* VLAN is part of the key */
	struct pkt_layer v = ab;
	v.vlan = 10;
	flow_key_from_layer(&ab, &k1);
	flow_key_from_layer(&v, &k2);
	assert_memory_not_equal(&k1, &k2, sizeof(k1));
}

/* ---- accounting -------------------------------------------------------------- */

static void test_bidirectional(void **state)
{
	(void)state;
	struct rec r;
	struct flow_table *ft = mk_table(4, &r, 300, 120, 60, 60, 60, 0);
	struct pkt_layer l;
	int side;
	bool created;

	l = mk(6, A, 40000, B, 80, TCP_SYN, 60, 0);
	struct flow *f = pkt(ft, &l, T0, &side, &created);
	assert_true(created);
	assert_int_equal(side, 0);
	uint64_t id = f->id;
	assert_int_equal(id, 1);

	l = mk(6, B, 80, A, 40000, TCP_SYN | TCP_ACK, 60, 0);
	f = pkt(ft, &l, T0 + 1000, &side, &created);
	assert_false(created);
	assert_int_equal(side, 1);
	l = mk(6, A, 40000, B, 80, TCP_ACK | TCP_PSH, 140, 100);
	f = pkt(ft, &l, T0 + 2000, &side, &created);
	assert_false(created);
	assert_int_equal(side, 0);
	l = mk(6, B, 80, A, 40000, TCP_ACK, 1040, 1000);
	pkt(ft, &l, T0 + 3000, NULL, NULL);
	l = mk(6, B, 80, A, 40000, TCP_ACK, 52, 0);
	f = pkt(ft, &l, T0 + 4000, NULL, NULL);

	assert_int_equal(f->id, id);
	assert_int_equal(f->init, 0);
	assert_int_equal(flow_resp(f), 1);
	assert_int_equal(f->pkts[0], 2);
	assert_int_equal(f->pkts[1], 3);
	assert_int_equal(f->ip_bytes[0], 200);
	assert_int_equal(f->ip_bytes[1], 1152);
	assert_int_equal(f->payload_bytes[0], 100);
	assert_int_equal(f->payload_bytes[1], 1000);
	assert_int_equal(f->first_us, T0);
	assert_int_equal(f->last_us, T0 + 4000);
	assert_int_equal(flow_table_stats(ft)->created, 1);
	assert_int_equal(flow_table_stats(ft)->active, 1);

	/* earlier fragments added on a side */
	flow_account(f, 1, 2, 3000, 2960);
	assert_int_equal(f->pkts[1], 5);
	assert_int_equal(f->ip_bytes[1], 4152);
	assert_int_equal(f->payload_bytes[1], 3960);

	flow_table_flush(ft);
	assert_int_equal(r.n, 1);
	assert_int_equal(r.ev[0].id, 1);
	assert_int_equal(r.ev[0].why, FLOW_END_EOF);
	assert_int_equal(r.ev[0].pkts[0], 2);
	assert_int_equal(r.ev[0].pkts[1], 5);
	assert_int_equal(flow_table_stats(ft)->active, 0);
	assert_int_equal(flow_table_stats(ft)->ended[FLOW_END_EOF], 1);
	done(ft);
}

/* Same 5-tuple, other VLAN or other protocol: separate flows. */
static void test_separate_flows(void **state)
{
	(void)state;
	struct rec r;
	struct flow_table *ft = mk_table(16, &r, 300, 120, 60, 60, 60, 0);
	bool created;
	struct pkt_layer l = mk(17, A, 5000, B, 53, 0, 60, 32);
	struct flow *f1 = pkt(ft, &l, T0, NULL, &created);
	assert_true(created);
	l.vlan = 100;
	struct flow *f2 = pkt(ft, &l, T0, NULL, &created);
	assert_true(created);
	assert_int_not_equal(f1->id, f2->id);
	l.vlan = 0;
	l.proto = 6;
	pkt(ft, &l, T0, NULL, &created);
	assert_true(created);
	struct pkt_layer v6 = mk6(17, 1, 5000, 2, 53);
	pkt(ft, &v6, T0, NULL, &created);
	assert_true(created);
	assert_int_equal(flow_table_stats(ft)->created, 4);
	/* and each is found again */
	l = mk(17, B, 53, A, 5000, 0, 60, 32);
	l.vlan = 100;
	struct flow *g = pkt(ft, &l, T0 + 1, NULL, &created);
	assert_false(created);
	assert_int_equal(g->id, 2);
	assert_int_equal(g->pkts[1], 1);
	done(ft);
}

/* ---- initiator --------------------------------------------------------------- */

struct init_case {
	const char *what;
	struct pkt_layer first;
	uint32_t want_init_addr; /* IPv4 of the initiator */
	int rule;
};

static void check_init(const struct init_case *c)
{
	struct rec r;
	struct flow_table *ft = mk_table(4, &r, 300, 120, 60, 60, 60, 0);
	bool created;
	struct flow *f = pkt(ft, &c->first, T0, NULL, &created);
	assert_true(created);
	uint8_t want[16] = { 0 };
	for (int i = 0; i < 4; i++)
		want[i] = (uint8_t)(c->want_init_addr >> (24 - 8 * i));
	if (memcmp(f->key.addr[f->init], want, 16) != 0 || f->init_rule != c->rule)
		fail_msg("%s: initiator %u.%u.%u.%u rule %d, want %u.%u.%u.%u rule %d", c->what,
			 f->key.addr[f->init][0], f->key.addr[f->init][1], f->key.addr[f->init][2],
			 f->key.addr[f->init][3], f->init_rule, want[0], want[1], want[2], want[3],
			 c->rule);
	done(ft);
}

static void test_initiator(void **state)
{
	(void)state;
	/* C (10.0.0.9) is the client; B (10.0.0.2) the server: C is canonical side 1, so a
	 * rule that just picked side 0 or the sender would be caught */
	const struct init_case cases[] = {
		{ "SYN from the client", mk(6, C, 50000, B, 80, TCP_SYN, 60, 0), C, FLOW_INIT_SYN },
		{ "SYN from a low port (active FTP data)", mk(6, B, 20, C, 50000, TCP_SYN, 60, 0), B,
		  FLOW_INIT_SYN },
		{ "SYN+ACK seen first", mk(6, B, 80, C, 50000, TCP_SYN | TCP_ACK, 60, 0), C,
		  FLOW_INIT_SYNACK },
		{ "SYN+ACK from a high port", mk(6, C, 50000, B, 80, TCP_SYN | TCP_ACK, 60, 0), B,
		  FLOW_INIT_SYNACK },
		{ "TCP mid-stream from the server", mk(6, B, 443, C, 50000, TCP_ACK, 1500, 1460), C,
		  FLOW_INIT_PORT },
		{ "TCP mid-stream from the client", mk(6, C, 50000, B, 443, TCP_ACK, 52, 0), C,
		  FLOW_INIT_PORT },
		{ "UDP reply seen first", mk(17, B, 53, C, 40000, 0, 100, 72), C, FLOW_INIT_PORT },
		{ "UDP query", mk(17, C, 40000, B, 53, 0, 60, 32), C, FLOW_INIT_PORT },
		{ "UDP high ports", mk(17, B, 5000, C, 6000, 0, 60, 32), B, FLOW_INIT_FIRST },
		{ "UDP high ports other way", mk(17, C, 6000, B, 5000, 0, 60, 32), C,
		  FLOW_INIT_FIRST },
		{ "both ports low (NTP)", mk(17, B, 123, C, 123, 0, 76, 48), B, FLOW_INIT_FIRST },
		{ "both ports low, client side", mk(17, C, 123, B, 123, 0, 76, 48), C,
		  FLOW_INIT_FIRST },
		{ "port 1023 vs 1024", mk(17, B, 1024, C, 1023, 0, 60, 32), B, FLOW_INIT_PORT },
		{ "GRE: no ports", mk(47, C, 0, B, 0, 0, 100, 80), C, FLOW_INIT_FIRST },
		{ "ICMP echo request", mk(1, C, 8, B, 0, 0, 84, 56), C, FLOW_INIT_REQUEST },
		{ "ICMP echo reply seen first", mk(1, B, 0, C, 0, 0, 84, 56), C, FLOW_INIT_REPLY },
		{ "ICMP timestamp reply first", mk(1, B, 14, C, 0, 0, 40, 12), C, FLOW_INIT_REPLY },
		{ "ICMP router advertisement first", mk(1, B, 9, C, 0, 0, 40, 12), C,
		  FLOW_INIT_REPLY },
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		check_init(&cases[i]);
}

static void test_icmp_flows(void **state)
{
	(void)state;
	struct rec r;
	struct flow_table *ft = mk_table(16, &r, 300, 120, 60, 60, 60, 0);
	int side;
	bool created;

	struct pkt_layer rq = mk(1, C, 8, B, 0, 0, 84, 56);
	struct flow *f = pkt(ft, &rq, T0, &side, &created);
	assert_true(created);
	assert_int_equal(side, 0);
	uint64_t id = f->id;
	struct pkt_layer rp = mk(1, B, 0, C, 0, 0, 84, 56);
	f = pkt(ft, &rp, T0 + 1, &side, &created);
	assert_false(created);
	assert_int_equal(side, 1);
	assert_int_equal(f->id, id);
	assert_int_equal(f->pkts[0], 1);
	assert_int_equal(f->pkts[1], 1);

	/* B pinging C: its own flow */
	struct pkt_layer rq2 = mk(1, B, 8, C, 0, 0, 84, 56);
	f = pkt(ft, &rq2, T0 + 2, &side, &created);
	assert_true(created);
	assert_int_equal(side, 0);
	assert_int_equal(f->init_rule, FLOW_INIT_REQUEST);
	struct pkt_layer rp2 = mk(1, C, 0, B, 0, 0, 84, 56);
	f = pkt(ft, &rp2, T0 + 3, &side, &created);
	assert_false(created);
	assert_int_equal(f->pkts[1], 1);

	/* a reply seen first, then its request: one flow, requester = receiver of reply */
	struct pkt_layer r3 = mk(1, A, 0, B, 0, 0, 84, 56);
	f = pkt(ft, &r3, T0 + 4, &side, &created);
	assert_true(created);
	assert_int_equal(f->init_rule, FLOW_INIT_REPLY);
	assert_int_equal(f->key.addr[f->init][3], 2); /* B asked */
	uint64_t id3 = f->id;
	struct pkt_layer q3 = mk(1, B, 8, A, 0, 0, 84, 56);
	f = pkt(ft, &q3, T0 + 5, &side, &created);
	assert_false(created);
	assert_int_equal(f->id, id3);
	assert_int_equal(side, f->init);

	/* ICMPv6 echo 128/129 and neighbor solicitation/advertisement 135/136 */
	struct pkt_layer e6 = mk6(58, 1, 128, 2, 0);
	f = pkt(ft, &e6, T0 + 6, &side, &created);
	assert_true(created);
	assert_int_equal(f->init_rule, FLOW_INIT_REQUEST);
	struct pkt_layer e6r = mk6(58, 2, 129, 1, 0);
	f = pkt(ft, &e6r, T0 + 7, &side, &created);
	assert_false(created);
	assert_int_equal(side, 1);
	struct pkt_layer na = mk6(58, 2, 136, 1, 0);
	f = pkt(ft, &na, T0 + 8, &side, &created);
	assert_true(created);
	assert_int_equal(f->init_rule, FLOW_INIT_REPLY);
	struct pkt_layer ns = mk6(58, 1, 135, 2, 0);
	f = pkt(ft, &ns, T0 + 9, &side, &created);
	assert_false(created);

	/* echo with another code is another flow (the code is part of the key) */
	struct pkt_layer rqc = mk(1, C, 8, B, 1, 0, 84, 56);
	pkt(ft, &rqc, T0 + 10, NULL, &created);
	assert_true(created);
	done(ft);
}

/* ---- timeouts --------------------------------------------------------------- */

static void test_idle_expiry(void **state)
{
	(void)state;
	struct rec r;
	/* tcp 10 s, closed 2 s, udp 5 s, icmp 3 s, other 7 s */
	struct flow_table *ft = mk_table(16, &r, 10, 2, 5, 3, 7, 0);
	struct pkt_layer tcp = mk(6, A, 40000, B, 443, TCP_ACK, 52, 0);
	struct pkt_layer udp = mk(17, A, 40000, B, 53, 0, 60, 32);
	struct pkt_layer icmp = mk(1, A, 8, B, 0, 0, 84, 56);
	struct pkt_layer gre = mk(47, A, 0, B, 0, 0, 100, 80);
	uint64_t id_tcp = pkt(ft, &tcp, T0, NULL, NULL)->id;
	uint64_t id_udp = pkt(ft, &udp, T0, NULL, NULL)->id;
	uint64_t id_icmp = pkt(ft, &icmp, T0, NULL, NULL)->id;
	uint64_t id_gre = pkt(ft, &gre, T0, NULL, NULL)->id;

	flow_table_advance(ft, T0 + 3 * SEC);
	assert_int_equal(r.n, 0);
	flow_table_advance(ft, T0 + 3 * SEC + 1);
	assert_int_equal(r.n, 1);
	assert_int_equal(r.ev[0].id, id_icmp);
	assert_int_equal(r.ev[0].why, FLOW_END_IDLE);

	flow_table_advance(ft, T0 + 5 * SEC);
	assert_int_equal(r.n, 1);
	flow_table_advance(ft, T0 + 5 * SEC + 1);
	assert_int_equal(r.n, 2);
	assert_int_equal(r.ev[1].id, id_udp);

	flow_table_advance(ft, T0 + 7 * SEC);
	assert_int_equal(r.n, 2);
	flow_table_advance(ft, T0 + 7 * SEC + 1);
	assert_int_equal(r.n, 3);
	assert_int_equal(r.ev[2].id, id_gre);

	flow_table_advance(ft, T0 + 10 * SEC);
	assert_int_equal(r.n, 3);
	flow_table_advance(ft, T0 + 10 * SEC + 1);
	assert_int_equal(r.n, 4);
	assert_int_equal(r.ev[3].id, id_tcp);
	for (int i = 0; i < 4; i++)
		assert_int_equal(r.ev[i].why, FLOW_END_IDLE);
	assert_int_equal(flow_table_stats(ft)->ended[FLOW_END_IDLE], 4);
	assert_int_equal(flow_table_stats(ft)->active, 0);

	/* a packet restarts the idle clock; time going backwards ends nothing */
	uint64_t t1 = T0 + 100 * SEC;
	pkt(ft, &udp, t1, NULL, NULL);
	struct pkt_layer back = mk(17, B, 53, A, 40000, 0, 60, 32);
	pkt(ft, &back, t1 + 4 * SEC, NULL, NULL);
	flow_table_advance(ft, t1 + 5 * SEC + 1);
	assert_int_equal(r.n, 4);
	flow_table_advance(ft, t1 + 2 * SEC);
	assert_int_equal(r.n, 4);
	flow_table_advance(ft, t1 + 9 * SEC);
	assert_int_equal(r.n, 4);
	flow_table_advance(ft, t1 + 9 * SEC + 1);
	assert_int_equal(r.n, 5);
	assert_int_equal(r.ev[4].pkts[0] + r.ev[4].pkts[1], 2);
	assert_int_equal(r.ev[4].first_us, t1);
	assert_int_equal(r.ev[4].last_us, t1 + 4 * SEC);
	done(ft);
}

static void test_tcp_closed(void **state)
{
	(void)state;
	struct rec r;
	struct flow_table *ft = mk_table(16, &r, 10, 2, 5, 3, 7, 0);

	/* FIN both ways: the 2 s linger replaces the 10 s TCP timeout */
	struct pkt_layer f1 = mk(6, A, 40000, B, 80, TCP_FIN | TCP_ACK, 40, 0);
	struct pkt_layer f2 = mk(6, B, 80, A, 40000, TCP_FIN | TCP_ACK, 40, 0);
	uint64_t id1 = pkt(ft, &f1, T0, NULL, NULL)->id;
	pkt(ft, &f2, T0 + SEC, NULL, NULL);

	/* RST alone closes */
	struct pkt_layer rst = mk(6, A, 40001, B, 80, TCP_RST, 40, 0);
	uint64_t id2 = pkt(ft, &rst, T0 + SEC, NULL, NULL)->id;

	/* one FIN only: still an open connection (half-closed) */
	struct pkt_layer half = mk(6, A, 40002, B, 80, TCP_FIN | TCP_ACK, 40, 0);
	uint64_t id3 = pkt(ft, &half, T0 + SEC, NULL, NULL)->id;

	flow_table_advance(ft, T0 + 3 * SEC);
	assert_int_equal(r.n, 0);
	flow_table_advance(ft, T0 + 3 * SEC + 1);
	assert_int_equal(r.n, 2);
	assert_int_equal(r.ev[0].why, FLOW_END_CLOSED);
	assert_int_equal(r.ev[1].why, FLOW_END_CLOSED);
	assert_true((r.ev[0].id == id1 && r.ev[1].id == id2) ||
		    (r.ev[0].id == id2 && r.ev[1].id == id1));
	assert_int_equal(r.ev[0].pkts[0] + r.ev[0].pkts[1] + r.ev[1].pkts[0] + r.ev[1].pkts[1], 3);

	flow_table_advance(ft, T0 + 11 * SEC);
	assert_int_equal(r.n, 2);
	flow_table_advance(ft, T0 + 11 * SEC + 1);
	assert_int_equal(r.n, 3);
	assert_int_equal(r.ev[2].id, id3);
	assert_int_equal(r.ev[2].why, FLOW_END_IDLE);

	/* a straggler inside the linger stays with its flow and restarts the linger */
	uint64_t t = T0 + 100 * SEC;
	bool created;
	uint64_t id4 = pkt(ft, &f1, t, NULL, &created)->id;
	assert_true(created);
	pkt(ft, &f2, t + 1, NULL, NULL);
	struct pkt_layer late = mk(6, A, 40000, B, 80, TCP_ACK, 40, 0);
	struct flow *f = pkt(ft, &late, t + 2 * SEC, NULL, &created);
	assert_false(created);
	assert_int_equal(f->id, id4);
	late.tcp_flags = TCP_RST;
	f = pkt(ft, &late, t + 3 * SEC, NULL, &created);
	assert_false(created);
	assert_int_equal(f->pkts[0], 3);
	flow_table_advance(ft, t + 5 * SEC);
	assert_int_equal(r.n, 3);
	flow_table_advance(ft, t + 5 * SEC + 1);
	assert_int_equal(r.n, 4);
	assert_int_equal(r.ev[3].why, FLOW_END_CLOSED);
	assert_int_equal(flow_table_stats(ft)->ended[FLOW_END_CLOSED], 3);
	done(ft);
}

static void test_syn_after_close(void **state)
{
	(void)state;
	struct rec r;
	struct flow_table *ft = mk_table(16, &r, 300, 120, 60, 60, 60, 0);
	bool created;
	struct pkt_layer syn = mk(6, C, 50000, B, 80, TCP_SYN, 60, 0);
	struct pkt_layer synack = mk(6, B, 80, C, 50000, TCP_SYN | TCP_ACK, 60, 0);
	struct pkt_layer fin1 = mk(6, C, 50000, B, 80, TCP_FIN | TCP_ACK, 40, 0);
	struct pkt_layer fin2 = mk(6, B, 80, C, 50000, TCP_FIN | TCP_ACK, 40, 0);

	struct flow *f = pkt(ft, &syn, T0, NULL, &created);
	uint64_t id1 = f->id;
	/* a retransmitted SYN on an open connection is the same flow */
	f = pkt(ft, &syn, T0 + SEC, NULL, &created);
	assert_false(created);
	assert_int_equal(f->id, id1);
	pkt(ft, &synack, T0 + SEC + 1, NULL, NULL);
	pkt(ft, &fin1, T0 + 2 * SEC, NULL, NULL);
	pkt(ft, &fin2, T0 + 2 * SEC + 1, NULL, NULL);
	assert_int_equal(r.n, 0);

	/* port reuse 5 s later, inside the 120 s linger: the old flow ends, a new one starts */
	f = pkt(ft, &syn, T0 + 7 * SEC, NULL, &created);
	assert_true(created);
	assert_int_not_equal(f->id, id1);
	assert_int_equal(f->pkts[0] + f->pkts[1], 1);
	assert_int_equal(f->init_rule, FLOW_INIT_SYN);
	assert_int_equal(r.n, 1);
	assert_int_equal(r.ev[0].id, id1);
	assert_int_equal(r.ev[0].why, FLOW_END_CLOSED);
	assert_int_equal(r.ev[0].pkts[0] + r.ev[0].pkts[1], 5);
	uint64_t id2 = f->id;

	/* after a RST too */
	struct pkt_layer rst = mk(6, B, 80, C, 50000, TCP_RST | TCP_ACK, 40, 0);
	pkt(ft, &rst, T0 + 8 * SEC, NULL, NULL);
	f = pkt(ft, &syn, T0 + 9 * SEC, NULL, &created);
	assert_true(created);
	assert_int_equal(r.n, 2);
	assert_int_equal(r.ev[1].id, id2);
	assert_int_equal(r.ev[1].why, FLOW_END_CLOSED);
	const struct flow_table_stats *st = flow_table_stats(ft);
	assert_int_equal(st->created, 3);
	assert_int_equal(st->active, 1);
	assert_int_equal(st->ended[FLOW_END_CLOSED], 2);
	done(ft);
}

static void test_active_timeout(void **state)
{
	(void)state;
	struct rec r;
	struct flow_table *ft = mk_table(16, &r, 300, 120, 120, 60, 60, 60);
	struct pkt_layer ab = mk(17, A, 5000, B, 6000, 0, 100, 72);
	struct pkt_layer ba = mk(17, B, 6000, A, 5000, 0, 200, 172);
	bool created;

	struct flow *f = pkt(ft, &ab, T0, NULL, &created);
	uint64_t id = f->id;
	pkt(ft, &ba, T0 + 30 * SEC, NULL, NULL);
	pkt(ft, &ab, T0 + 60 * SEC, NULL, NULL); /* exactly 60 s: no record yet */
	assert_int_equal(r.n, 0);
	ab.ip_bytes = 300;
	ba.ip_bytes = 400;
	f = pkt(ft, &ba, T0 + 60 * SEC + 1, NULL, &created);
	assert_false(created);
	assert_int_equal(r.n, 1);
	assert_int_equal(r.ev[0].id, id);
	assert_int_equal(r.ev[0].why, FLOW_END_ACTIVE);
	/* the record covers the three earlier packets */
	assert_int_equal(r.ev[0].pkts[0], 2);
	assert_int_equal(r.ev[0].pkts[1], 1);
	assert_int_equal(r.ev[0].ip[0], 200);
	assert_int_equal(r.ev[0].ip[1], 200);
	assert_int_equal(r.ev[0].pay[0], 144);
	assert_int_equal(r.ev[0].pay[1], 172);
	assert_int_equal(r.ev[0].first_us, T0);
	/* the flow goes on from zero, with the same id */
	assert_int_equal(f->id, id);
	assert_int_equal(f->pkts[0], 0);
	assert_int_equal(f->pkts[1], 1);
	assert_int_equal(f->ip_bytes[1], 400);
	assert_int_equal(f->payload_bytes[1], 172);
	const struct flow_table_stats *st = flow_table_stats(ft);
	assert_int_equal(st->ended[FLOW_END_ACTIVE], 1);
	assert_int_equal(st->active, 1);
	assert_int_equal(st->created, 1);

	/* the next record comes 60 s after the restart */
	pkt(ft, &ab, T0 + 120 * SEC + 1, NULL, NULL);
	assert_int_equal(r.n, 1);
	pkt(ft, &ab, T0 + 120 * SEC + 2, NULL, NULL);
	assert_int_equal(r.n, 2);
	assert_int_equal(r.ev[1].why, FLOW_END_ACTIVE);
	assert_int_equal(r.ev[1].pkts[0], 1);
	assert_int_equal(r.ev[1].pkts[1], 1);

	flow_table_flush(ft);
	assert_int_equal(r.n, 3);
	assert_int_equal(r.ev[2].id, id);
	assert_int_equal(r.ev[2].why, FLOW_END_EOF);
	assert_int_equal(r.ev[2].pkts[0], 1);
	assert_int_equal(r.ev[2].pkts[1], 0);
	done(ft);
}

/* ---- eviction and flush ----------------------------------------------------- */

static void test_eviction(void **state)
{
	(void)state;
	struct rec r;
	struct flow_table *ft = mk_table(4, &r, 3600, 3600, 3600, 3600, 3600, 0);
	struct pkt_layer u[8];
	uint64_t id[8];
	bool created;
	for (int i = 0; i < 8; i++)
		u[i] = mk(17, A, (uint16_t)(5000 + i), B, 53, 0, 60, 32);

	for (int i = 0; i < 4; i++)
		id[i] = pkt(ft, &u[i], T0 + (uint64_t)(i + 1) * SEC, NULL, NULL)->id;
	pkt(ft, &u[0], T0 + 5 * SEC, NULL, NULL); /* flow 0 is now the most recent */
	assert_int_equal(r.n, 0);

	id[4] = pkt(ft, &u[4], T0 + 6 * SEC, NULL, &created)->id;
	assert_true(created);
	assert_int_equal(r.n, 1);
	assert_int_equal(r.ev[0].id, id[1]);
	assert_int_equal(r.ev[0].why, FLOW_END_EVICTED);
	const struct flow_table_stats *st = flow_table_stats(ft);
	assert_int_equal(st->ended[FLOW_END_EVICTED], 1);
	assert_int_equal(st->active, 4);
	assert_int_equal(st->peak_active, 4);

	/* the evicted flow's next packet is a new flow, which evicts the next oldest (2) */
	struct flow *f = pkt(ft, &u[1], T0 + 7 * SEC, NULL, &created);
	assert_true(created);
	assert_int_not_equal(f->id, id[1]);
	assert_int_equal(r.n, 2);
	assert_int_equal(r.ev[1].id, id[2]);

	/* flows still in the table are found, not duplicated */
	f = pkt(ft, &u[0], T0 + 8 * SEC, NULL, &created);
	assert_false(created);
	assert_int_equal(f->id, id[0]);
	assert_int_equal(f->pkts[0], 3); /* at 1 s, 5 s and 8 s */
	assert_int_equal(r.n, 2);
	done(ft);
}

/* A closed TCP flow goes first even when it is the most recently active. */
static void test_eviction_closed_first(void **state)
{
	(void)state;
	struct rec r;
	struct flow_table *ft = mk_table(4, &r, 3600, 3600, 3600, 3600, 3600, 0);
	struct pkt_layer u0 = mk(17, A, 5000, B, 53, 0, 60, 32);
	struct pkt_layer u1 = mk(17, A, 5001, B, 53, 0, 60, 32);
	struct pkt_layer ic = mk(1, A, 8, B, 0, 0, 84, 56);
	struct pkt_layer t = mk(6, A, 40000, B, 443, TCP_ACK, 52, 0);
	struct pkt_layer u2 = mk(17, A, 5002, B, 53, 0, 60, 32);

	pkt(ft, &u0, T0 + 1 * SEC, NULL, NULL);
	pkt(ft, &u1, T0 + 2 * SEC, NULL, NULL);
	pkt(ft, &ic, T0 + 3 * SEC, NULL, NULL);
	uint64_t tid = pkt(ft, &t, T0 + 4 * SEC, NULL, NULL)->id;
	t.tcp_flags = TCP_RST;
	pkt(ft, &t, T0 + 5 * SEC, NULL, NULL);
	pkt(ft, &u2, T0 + 6 * SEC, NULL, NULL);
	assert_int_equal(r.n, 1);
	assert_int_equal(r.ev[0].id, tid);
	assert_int_equal(r.ev[0].why, FLOW_END_EVICTED);

	/* across timeout classes: the least recently active of all (u0, at 1 s) */
	struct pkt_layer g = mk(47, A, 0, B, 0, 0, 100, 80);
	pkt(ft, &ic, T0 + 7 * SEC, NULL, NULL);
	pkt(ft, &g, T0 + 8 * SEC, NULL, NULL);
	assert_int_equal(r.n, 2);
	assert_int_equal(r.ev[1].id, 1);
	struct pkt_layer u3 = mk(17, A, 5003, B, 53, 0, 60, 32);
	pkt(ft, &u3, T0 + 9 * SEC, NULL, NULL);
	assert_int_equal(r.n, 3);
	assert_int_equal(r.ev[2].id, 2); /* u1 (2 s); the ICMP flow was touched at 7 s */
	assert_int_equal(flow_table_stats(ft)->ended[FLOW_END_EVICTED], 3);
	done(ft);
}

static void test_flush_order(void **state)
{
	(void)state;
	struct rec r;
	struct flow_table *ft = mk_table(16, &r, 3600, 3600, 3600, 3600, 3600, 0);
	struct pkt_layer l[6] = {
		mk(6, A, 40000, B, 443, TCP_ACK, 52, 0), mk(17, A, 5000, B, 53, 0, 60, 32),
		mk(1, A, 8, B, 0, 0, 84, 56),		  mk(47, A, 0, B, 0, 0, 100, 80),
		mk(17, B, 5000, C, 53, 0, 60, 32),	  mk(6, C, 40000, A, 22, TCP_RST, 40, 0),
	};
	for (int i = 0; i < 6; i++)
		pkt(ft, &l[i], T0 + (uint64_t)i, NULL, NULL);
	/* touch them in reverse order so recency order differs from creation order */
	for (int i = 5; i >= 0; i--)
		pkt(ft, &l[i], T0 + 100 + (uint64_t)(5 - i), NULL, NULL);
	flow_table_flush(ft);
	assert_int_equal(r.n, 6);
	for (int i = 0; i < 6; i++) {
		assert_int_equal(r.ev[i].id, (uint64_t)i + 1);
		assert_int_equal(r.ev[i].why, FLOW_END_EOF);
		assert_int_equal(r.ev[i].pkts[0] + r.ev[i].pkts[1], 2);
	}
	assert_int_equal(flow_table_stats(ft)->active, 0);
	assert_int_equal(flow_table_stats(ft)->ended[FLOW_END_EOF], 6);
	flow_table_flush(ft); /* nothing left */
	assert_int_equal(r.n, 6);
	done(ft);
}

/* Live ids spread thinly over a long range (most flows ended): still creation order. */
static void test_flush_order_sparse(void **state)
{
	(void)state;
	struct rec r;
	struct flow_table *ft = mk_table(64, &r, 3600, 3600, 60, 3600, 3600, 0);
	struct pkt_layer u[40];
	for (int i = 0; i < 40; i++)
		u[i] = mk(17, A, (uint16_t)(6000 + i), B, 53, 0, 60, 32);
	for (int i = 0; i < 40; i++)
		pkt(ft, &u[i], T0 + (uint64_t)i, NULL, NULL);
	/* keep flows 3, 21 and 39 (ids 4, 22, 40) alive, touched in reverse order */
	pkt(ft, &u[39], T0 + 50 * SEC, NULL, NULL);
	pkt(ft, &u[21], T0 + 51 * SEC, NULL, NULL);
	pkt(ft, &u[3], T0 + 52 * SEC, NULL, NULL);
	flow_table_advance(ft, T0 + 90 * SEC);
	assert_int_equal(r.n, 37);
	assert_int_equal(flow_table_stats(ft)->active, 3);
	flow_table_flush(ft);
	assert_int_equal(r.n, 40);
	assert_int_equal(r.ev[37].id, 4);
	assert_int_equal(r.ev[38].id, 22);
	assert_int_equal(r.ev[39].id, 40);
	for (int i = 37; i < 40; i++)
		assert_int_equal(r.ev[i].why, FLOW_END_EOF);
	done(ft);
}

/* ---- hash flooding ------------------------------------------------------------ */

static void count_end(void *ctx, struct flow *f, enum flow_end why)
{
	(void)f;
	(void)why;
	++*(int *)ctx;
}

/* Probes per lookup over a second pass of n packets (all flows already in the table). */
static double probes_per_lookup(uint64_t seed, const struct pkt_layer *l, int n)
{
	struct flow_table_config cfg;
	char err[256];
	int ended = 0, side;
	bool created;
	flow_table_config_default(&cfg);
	cfg.max_flows = 8192;
	cfg.hash_seed = seed;
	struct flow_table *ft = flow_table_create(&cfg, count_end, &ended, err, sizeof(err));
	assert_non_null(ft);
	for (int i = 0; i < n; i++)
		flow_table_update(ft, &l[i], T0, &side, &created);
	const struct flow_table_stats *st = flow_table_stats(ft);
	uint64_t lk = st->lookups, pr = st->probes;
	for (int i = 0; i < n; i++) {
		flow_table_update(ft, &l[i], T0 + 1, &side, &created);
		assert_false(created);
	}
	double r = (double)(st->probes - pr) / (double)(st->lookups - lk);
	assert_int_equal(st->active, n);
	flow_table_destroy(ft);
	assert_int_equal(ended, 0);
	return r;
}

/* Tuples crafted to land in 1/64 of the slots under one known key pile up into one long
 * probe sequence when the table uses that key, and spread out under the per-run random
 * key an attacker does not know. */
static void test_hash_flood(void **state)
{
	(void)state;
	enum { N = 2000, SEED = 12345 };
	struct flow_table_config cfg;
	char err[256];
	int ended = 0;
	flow_table_config_default(&cfg);
	cfg.max_flows = 8192; /* 16384 slots */
	cfg.hash_seed = SEED;
	struct flow_table *known = flow_table_create(&cfg, count_end, &ended, err, sizeof(err));
	assert_non_null(known);
	static struct pkt_layer l[N];
	int n = 0;
	for (uint32_t c = 0; n < N && c < 4000000; c++) {
		struct flow_key k;
		l[n] = mk(6, 0x0a000000 | (c >> 8), (uint16_t)(1024 + (c & 0xff)), B, 443, TCP_ACK,
			  52, 0);
		flow_key_from_layer(&l[n], &k);
		if ((flow_table_hash(known, &k) & 16383) < 256)
			n++;
	}
	flow_table_destroy(known);
	assert_int_equal(n, N);

	double attacked = probes_per_lookup(SEED, l, N);
	double keyed = probes_per_lookup(0, l, N);
	print_message("probes per lookup: %.1f with the known key, %.3f keyed at random\n",
		      attacked, keyed);
	assert_true(attacked > 200.0);
	assert_true(keyed < 3.0);
}

/* ---- churn ------------------------------------------------------------------ */

enum { CH_MAX = 1000, CH_TOTAL = 100000 };

struct churn {
	bool live[CH_TOTAL];
	uint32_t nlive;
	uint64_t by_why[FLOW_END_EOF + 1];
	int bad;
};

static void churn_end(void *ctx, struct flow *f, enum flow_end why)
{
	struct churn *c = ctx;
	uint32_t idx;
	memcpy(&idx, flow_ext(flow_table_ext_pool(cur_ft), f), sizeof(idx));
	c->by_why[why]++;
	if (why == FLOW_END_ACTIVE)
		return;
	if (idx >= CH_TOTAL || !c->live[idx]) {
		c->bad++;
		return;
	}
	c->live[idx] = false;
	c->nlive--;
}

static uint64_t xs = 0x2545f4914f6cdd1dULL;
static uint32_t rnd(void)
{
	xs ^= xs << 13;
	xs ^= xs >> 7;
	xs ^= xs << 17;
	return (uint32_t)(xs >> 20);
}

/* Flow number i: a distinct (addresses, ports, protocol) for each i. */
static struct pkt_layer churn_layer(uint32_t i, bool reverse)
{
	static const uint8_t protos[3] = { 17, 6, 47 };
	uint8_t proto = protos[i % 3];
	uint16_t sport = proto == 47 ? 0 : (uint16_t)(1024 + (i % 40000));
	uint16_t dport = proto == 47 ? 0 : (uint16_t)(proto == 6 ? 443 : 53);
	uint32_t src = 0x0a000000u + i;
	uint32_t dst = 0xc6336400u + (i % 7); /* 198.51.100.0-6 */
	struct pkt_layer l = reverse ? mk(proto, dst, dport, src, sport, TCP_ACK, 100, 60) :
				       mk(proto, src, sport, dst, dport, TCP_ACK, 100, 60);
	if (proto != 6)
		l.tcp_flags = 0;
	return l;
}

static void test_churn(void **state)
{
	(void)state;
	static struct churn ch;
	struct flow_table_config cfg;
	char err[256];
	memset(&ch, 0, sizeof(ch));
	flow_table_config_default(&cfg);
	cfg.max_flows = CH_MAX;
	for (int i = 0; i < FLOW_LIST__COUNT; i++)
		cfg.timeout_s[i] = 60;
	cfg.active_timeout_s = 0;
	cfg.ext_size = sizeof(uint32_t);
	struct flow_table *ft = flow_table_create(&cfg, churn_end, &ch, err, sizeof(err));
	assert_non_null(ft);
	cur_ft = ft;
	const struct flow_table_stats *st = flow_table_stats(ft);

	uint32_t next = 0;
	uint64_t base = T0;
	int rounds = 0;
	while (next < CH_TOTAL) {
		/* A: fill the table, and a few more (evictions) */
		flow_table_advance(ft, base);
		uint32_t want = CH_MAX - ch.nlive + rnd() % 20;
		for (uint32_t k = 0; k < want && next < CH_TOTAL; k++, next++) {
			struct pkt_layer l = churn_layer(next, rnd() & 1);
			int side;
			bool created;
			struct flow *f = flow_table_update(ft, &l, base, &side, &created);
			assert_true(created);
			memcpy(flow_ext_take(flow_table_ext_pool(ft), f), &next, sizeof(next));
			ch.live[next] = true;
			ch.nlive++;
			assert_int_equal(st->active, ch.nlive);
		}
		/* B: touch a random half */
		uint64_t tb = base + 50 * SEC;
		flow_table_advance(ft, tb);
		assert_int_equal(ch.bad, 0);
		for (uint32_t i = 0; i < next; i++) {
			if (!ch.live[i] || (rnd() & 1))
				continue;
			struct pkt_layer l = churn_layer(i, rnd() & 1);
			int side;
			bool created;
			flow_table_update(ft, &l, tb, &side, &created);
			assert_false(created);
		}
		/* C: the untouched ones expire (scattered deletions from the hash table) */
		flow_table_advance(ft, base + 60 * SEC + 1);
		assert_int_equal(ch.bad, 0);
		assert_int_equal(st->active, ch.nlive);
		/* D: every remaining flow is found by a new packet, in either direction */
		uint64_t td = base + 61 * SEC;
		flow_table_advance(ft, td);
		assert_int_equal(st->active, ch.nlive);
		for (uint32_t i = 0; i < next; i++) {
			if (!ch.live[i])
				continue;
			struct pkt_layer l = churn_layer(i, rnd() & 1);
			int side;
			bool created;
			struct flow *f = flow_table_update(ft, &l, td, &side, &created);
			if (created)
				fail_msg("round %d: live flow %u not found (created again)", rounds, i);
			uint32_t idx;
			memcpy(&idx, flow_ext(flow_table_ext_pool(ft), f), sizeof(idx));
			assert_int_equal(idx, i);
		}
		assert_int_equal(st->active, ch.nlive);
		assert_int_equal(st->created, next);
		base += 100 * SEC;
		rounds++;
	}
	uint64_t ended = st->ended[FLOW_END_IDLE] + st->ended[FLOW_END_CLOSED] +
			 st->ended[FLOW_END_EVICTED] + st->ended[FLOW_END_EOF];
	assert_true(rounds >= 100); /* about 500 new flows a round */
	assert_int_equal(st->created, CH_TOTAL);
	assert_int_equal(st->created, ended + st->active);
	assert_int_equal(st->ended[FLOW_END_ACTIVE], 0);
	assert_true(st->ended[FLOW_END_EVICTED] > 0);
	assert_true(st->ended[FLOW_END_IDLE] > 0);
	assert_true(st->peak_active <= CH_MAX);
	for (int w = 0; w <= FLOW_END_EOF; w++)
		assert_int_equal(ch.by_why[w], st->ended[w]);

	flow_table_flush(ft);
	assert_int_equal(ch.bad, 0);
	assert_int_equal(ch.nlive, 0);
	assert_int_equal(st->active, 0);
	assert_int_equal(st->created, st->ended[FLOW_END_IDLE] + st->ended[FLOW_END_CLOSED] +
					      st->ended[FLOW_END_EVICTED] + st->ended[FLOW_END_EOF]);
	done(ft);
}

/* ---- extensions --------------------------------------------------------------- */

static struct flow_table *ext_ft;

/* The end callback still sees the extension (zeros when none was taken). */
static void ext_end(void *ctx, struct flow *f, enum flow_end why)
{
	uint64_t *sum = ctx;
	uint64_t v;
	(void)why;
	memcpy(&v, flow_ext(flow_table_ext_pool(ext_ft), f), sizeof(v));
	*sum += v;
}

static void test_ext_lazy(void **state)
{
	(void)state;
	struct flow_table_config cfg;
	char err[256];
	uint64_t sum = 0;
	flow_table_config_default(&cfg);
	cfg.max_flows = 4;
	cfg.ext_size = 24;
	struct flow_table *ft = flow_table_create(&cfg, ext_end, &sum, err, sizeof(err));
	assert_non_null(ft);
	cur_ft = ext_ft = ft;
	const struct flow_ext_pool *pool = flow_table_ext_pool(ft);
	static const uint8_t zero[24];

	/* a flow reads zeros until an extension is taken; taking is idempotent */
	struct pkt_layer l = mk(6, A, 40000, B, 443, TCP_SYN, 60, 0);
	int side;
	bool created;
	struct flow *f = pkt(ft, &l, T0, &side, &created);
	assert_true(created);
	assert_int_equal(f->ext, 0);
	assert_memory_equal(flow_ext(pool, f), zero, sizeof(zero));
	uint64_t *e = flow_ext_take(flow_table_ext_pool(ft), f);
	assert_int_not_equal(f->ext, 0);
	assert_ptr_equal(flow_ext(pool, f), e);
	assert_ptr_equal(flow_ext_take(flow_table_ext_pool(ft), f), e);
	assert_memory_equal(e, zero, sizeof(zero));
	e[0] = 5;
	e[2] = 7;

	/* many more flows than the table holds, every other one with an extension: the
	 * entries are recycled, and each is zero when taken again */
	for (uint32_t i = 0; i < 1000; i++) {
		struct pkt_layer m = mk(17, C, (uint16_t)(1024 + i), B, 53, 0, 80, 52);
		struct flow *g = pkt(ft, &m, T0 + (i + 1) * SEC, &side, &created);
		assert_true(created);
		assert_memory_equal(flow_ext(pool, g), zero, sizeof(zero));
		if (i & 1) {
			uint64_t *x = flow_ext_take(pool, g);
			assert_memory_equal(x, zero, sizeof(zero));
			x[0] = 1;
			x[1] = x[2] = ~0ull;
		}
	}
	flow_table_flush(ft);
	assert_int_equal(sum, 5 + 500); /* the first flow's, and one per odd flow */
	ext_ft = NULL;
	done(ft);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_teardown(test_create_limits, teardown),
		cmocka_unit_test_teardown(test_key_symmetry, teardown),
		cmocka_unit_test_teardown(test_bidirectional, teardown),
		cmocka_unit_test_teardown(test_separate_flows, teardown),
		cmocka_unit_test_teardown(test_initiator, teardown),
		cmocka_unit_test_teardown(test_icmp_flows, teardown),
		cmocka_unit_test_teardown(test_idle_expiry, teardown),
		cmocka_unit_test_teardown(test_tcp_closed, teardown),
		cmocka_unit_test_teardown(test_syn_after_close, teardown),
		cmocka_unit_test_teardown(test_active_timeout, teardown),
		cmocka_unit_test_teardown(test_eviction, teardown),
		cmocka_unit_test_teardown(test_eviction_closed_first, teardown),
		cmocka_unit_test_teardown(test_flush_order, teardown),
		cmocka_unit_test_teardown(test_flush_order_sparse, teardown),
		cmocka_unit_test(test_hash_flood),
		cmocka_unit_test_teardown(test_churn, teardown),
		cmocka_unit_test_teardown(test_ext_lazy, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
