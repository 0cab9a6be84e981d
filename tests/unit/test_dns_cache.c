/* test_dns_cache.c: sensor/l7-dns-cache.c, the address -> DNS name map.
 *
 * Expected behaviour from include/l7-dns-cache.h: an entry lives for its TTL clamped to
 * [min_ttl, max_ttl] of packet time (alive at exactly expiry, gone one microsecond
 * later), a new answer for the same address replaces the old one, a full probe window
 * replaces a live entry and counts it, and the cache holds one reference on each name
 * it stores, released when the entry goes and at destroy.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "l7-dns-cache.h"
#include "names.h"

#define SEC 1000000ULL
#define T0 (1700000000ULL * SEC)

static void v4(uint8_t a[16], uint32_t x)
{
	memset(a, 0, 16);
	a[0] = (uint8_t)(x >> 24);
	a[1] = (uint8_t)(x >> 16);
	a[2] = (uint8_t)(x >> 8);
	a[3] = (uint8_t)x;
}

/* A name the caller interns, hands to the cache and releases, as l7-flow.c does. */
static uint32_t put_name(struct dns_cache *c, struct names *n, int family, const uint8_t a[16],
			 const char *name, uint32_t ttl, uint64_t now)
{
	uint32_t id = names_intern(n, name, strlen(name));
	assert_int_not_equal(id, 0);
	dns_cache_put(c, family, a, id, ttl, now);
	names_unref(n, id);
	return id;
}

static void assert_get_name(struct dns_cache *c, struct names *n, int family,
			    const uint8_t a[16], uint64_t now, const char *want)
{
	uint32_t id = dns_cache_get(c, family, a, now);
	if (!want) {
		assert_int_equal(id, 0);
		return;
	}
	assert_int_not_equal(id, 0);
	size_t len;
	const char *s = names_get(n, id, &len);
	assert_non_null(s);
	assert_int_equal(len, strlen(want));
	assert_memory_equal(s, want, len);
}

static void test_put_get(void **state)
{
	(void)state;
	struct names *n = names_create(64);
	struct dns_cache *c = dns_cache_create(64, 60, 86400, n);
	assert_non_null(n);
	assert_non_null(c);
	uint8_t a[16], b[16];
	v4(a, 0x5db8d822); /* 93.184.216.34 */
	v4(b, 0x5db8d823);

	assert_int_equal(dns_cache_get(c, 4, a, T0), 0);
	put_name(c, n, 4, a, "example.com", 300, T0);
	assert_get_name(c, n, 4, a, T0, "example.com");
	assert_get_name(c, n, 4, a, T0 + 10 * SEC, "example.com");
	assert_get_name(c, n, 4, b, T0, NULL);
	/* the same 16 bytes as IPv6 are another address */
	assert_get_name(c, n, 6, a, T0, NULL);

	uint8_t six[16] = { 0x26, 0x06, 0x28, 0x00, 0x02, 0x20, 0, 1, [15] = 0x46 };
	put_name(c, n, 6, six, "v6.example.com", 300, T0);
	assert_get_name(c, n, 6, six, T0, "v6.example.com");
	assert_get_name(c, n, 4, six, T0, NULL);
	assert_get_name(c, n, 4, a, T0, "example.com");

	/* the cache's references keep both names alive after the caller let go */
	assert_int_equal(names_count(n), 2);

	const struct dns_cache_stats *st = dns_cache_stats(c);
	assert_int_equal(st->inserted, 2);
	assert_int_equal(st->evicted, 0);
	assert_int_equal(st->replaced, 0);
	dns_cache_destroy(c);
	assert_int_equal(names_count(n), 0);
	names_destroy(n);
}

static void test_ttl_clamp(void **state)
{
	(void)state;
	struct names *n = names_create(64);
	struct dns_cache *c = dns_cache_create(64, 60, 3600, n);
	uint8_t lo[16], mid[16], hi[16], zero[16];
	v4(lo, 0x0a000001);
	v4(mid, 0x0a000002);
	v4(hi, 0x0a000003);
	v4(zero, 0x0a000004);

	put_name(c, n, 4, lo, "short.test", 10, T0);	 /* clamped up to 60 s */
	put_name(c, n, 4, mid, "mid.test", 300, T0);	 /* as given */
	put_name(c, n, 4, hi, "long.test", 100000, T0); /* clamped down to 3600 s */
	put_name(c, n, 4, zero, "zero.test", 0, T0);	 /* TTL 0: 60 s */

	assert_get_name(c, n, 4, lo, T0 + 10 * SEC + 1, "short.test");
	assert_get_name(c, n, 4, lo, T0 + 60 * SEC, "short.test");
	assert_get_name(c, n, 4, lo, T0 + 60 * SEC + 1, NULL);
	assert_get_name(c, n, 4, zero, T0 + 60 * SEC, "zero.test");
	assert_get_name(c, n, 4, zero, T0 + 60 * SEC + 1, NULL);

	assert_get_name(c, n, 4, mid, T0 + 300 * SEC, "mid.test");
	assert_get_name(c, n, 4, mid, T0 + 300 * SEC + 1, NULL);

	assert_get_name(c, n, 4, hi, T0 + 3600 * SEC, "long.test");
	assert_get_name(c, n, 4, hi, T0 + 3600 * SEC + 1, NULL);

	/* a huge TTL does not overflow: still clamped to max */
	uint8_t x[16];
	v4(x, 0x0a000005);
	put_name(c, n, 4, x, "max.test", UINT32_MAX, T0);
	assert_get_name(c, n, 4, x, T0 + 3600 * SEC, "max.test");
	assert_get_name(c, n, 4, x, T0 + 3600 * SEC + 1, NULL);

	const struct dns_cache_stats *st = dns_cache_stats(c);
	assert_int_equal(st->hits, 6);
	assert_int_equal(st->misses, 5);
	dns_cache_destroy(c);
	assert_int_equal(names_count(n), 0);
	names_destroy(n);
}

static void test_replace_same_address(void **state)
{
	(void)state;
	struct names *n = names_create(64);
	struct dns_cache *c = dns_cache_create(64, 1, 86400, n);
	uint8_t a[16];
	v4(a, 0xc0000201);

	put_name(c, n, 4, a, "old.example", 300, T0);
	put_name(c, n, 4, a, "new.example", 30, T0 + SEC);
	assert_get_name(c, n, 4, a, T0 + SEC, "new.example");
	/* the new TTL counts, from the new answer's time */
	assert_get_name(c, n, 4, a, T0 + 31 * SEC, "new.example");
	assert_get_name(c, n, 4, a, T0 + 31 * SEC + 1, NULL);

	const struct dns_cache_stats *st = dns_cache_stats(c);
	assert_int_equal(st->replaced, 1);
	assert_int_equal(st->evicted, 0);
	assert_int_equal(st->inserted, 2);
	/* the old name's reference was released: only the new one is alive */
	assert_int_equal(names_count(n), 1);

	/* a replacement by an answer whose TTL ran out keeps one entry only */
	put_name(c, n, 4, a, "third.example", 30, T0 + 100 * SEC);
	assert_get_name(c, n, 4, a, T0 + 100 * SEC, "third.example");
	assert_int_equal(names_count(n), 1);
	dns_cache_destroy(c);
	assert_int_equal(names_count(n), 0);
	names_destroy(n);
}

/* The same name for the same address again, passing the id that dns_cache_get lent
 * (the caller holds no reference of its own): the cache must still hold the name. */
struct fixture {
	struct names *n;
	struct dns_cache *c;
	uint32_t other;
};

static int fixture_teardown(void **state)
{
	struct fixture *f = *state;
	if (f) {
		dns_cache_destroy(f->c);
		names_unref(f->n, f->other);
		names_destroy(f->n);
	}
	return 0;
}

static void test_reput_borrowed_id(void **state)
{
	static struct fixture f;
	memset(&f, 0, sizeof(f));
	f.n = names_create(64);
	f.c = dns_cache_create(64, 1, 86400, f.n);
	*state = &f; /* released by fixture_teardown even when an assertion fails */
	struct names *n = f.n;
	struct dns_cache *c = f.c;
	uint8_t a[16];
	v4(a, 0xc0000202);

	put_name(c, n, 4, a, "keep.example", 300, T0);
	uint32_t id = dns_cache_get(c, 4, a, T0); /* borrowed */
	assert_int_not_equal(id, 0);
	dns_cache_put(c, 4, a, id, 300, T0 + SEC);
	/* a new name must not take over the entry the cache still points at (interning it
	 * before checking also keeps the store consistent for the teardown if it does) */
	f.other = names_intern(n, "other.example", 13);
	assert_int_not_equal(f.other, 0);
	assert_get_name(c, n, 4, a, T0 + SEC, "keep.example");
	assert_int_not_equal(f.other, id);
	assert_int_equal(names_count(n), 2);
}

/* Capacity 16 (the minimum table) and 200 addresses with long TTLs: every placement in a
 * full probe window replaces a live entry and is counted. Each put either takes an
 * empty slot (the entry stays findable: nothing here expires and addresses are distinct)
 * or evicts, so evicted = puts - entries still findable, and at most 16 are. */
static void test_eviction_counted(void **state)
{
	(void)state;
	enum { N = 200 };
	struct names *n = names_create(1024);
	struct dns_cache *c = dns_cache_create(16, 1, 86400, n);
	uint8_t a[16];
	char name[32];

	for (uint32_t i = 0; i < N; i++) {
		v4(a, 0x0b000000 + i);
		snprintf(name, sizeof(name), "h%u.example", i);
		/* increasing TTLs: the entry closest to expiry is always an older one, so the
		 * entry just written must survive the next put */
		put_name(c, n, 4, a, name, 1000 + i, T0);
		if (i > 0) {
			uint8_t prev[16];
			v4(prev, 0x0b000000 + i - 1);
			snprintf(name, sizeof(name), "h%u.example", i - 1);
			assert_get_name(c, n, 4, prev, T0, name);
		}
		snprintf(name, sizeof(name), "h%u.example", i);
		assert_get_name(c, n, 4, a, T0, name);
	}
	uint32_t found = 0;
	for (uint32_t i = 0; i < N; i++) {
		v4(a, 0x0b000000 + i);
		if (dns_cache_get(c, 4, a, T0))
			found++;
	}
	const struct dns_cache_stats *st = dns_cache_stats(c);
	assert_true(found <= 16);
	assert_true(found >= 8); /* the first 8 puts cannot find a full window */
	assert_int_equal(st->inserted, N);
	assert_int_equal(st->evicted, N - found);
	assert_int_equal(st->replaced, 0);
	/* evicted entries released their names: one live name per stored entry */
	assert_int_equal(names_count(n), found);

	/* once everything has expired, new entries reuse expired slots without eviction:
	 * each of 8 new puts sees at most 7 live entries in its 8-slot window */
	uint64_t ev = st->evicted;
	uint64_t later = T0 + 2000 * SEC;
	for (uint32_t i = 0; i < 8; i++) {
		v4(a, 0x0c000000 + i);
		snprintf(name, sizeof(name), "late%u.example", i);
		put_name(c, n, 4, a, name, 60, later);
	}
	assert_int_equal(st->evicted, ev);
	for (uint32_t i = 0; i < 8; i++) {
		v4(a, 0x0c000000 + i);
		snprintf(name, sizeof(name), "late%u.example", i);
		assert_get_name(c, n, 4, a, later, name);
	}
	dns_cache_destroy(c);
	assert_int_equal(names_count(n), 0);
	names_destroy(n);
}

/* References: one names store owned here; after destroy nothing is held. Includes a
 * name shared by several addresses (one reference per entry). */
static void test_references_released(void **state)
{
	(void)state;
	struct names *n = names_create(256);
	struct dns_cache *c = dns_cache_create(4096, 1, 86400, n); /* no window fills up */
	uint8_t a[16];

	uint32_t shared = names_intern(n, "cdn.example", 11);
	for (uint32_t i = 0; i < 20; i++) {
		v4(a, 0x0d000000 + i);
		dns_cache_put(c, 4, a, shared, 300, T0);
	}
	names_unref(n, shared);
	assert_int_equal(names_count(n), 1);
	for (uint32_t i = 0; i < 20; i++) {
		v4(a, 0x0d000000 + i);
		assert_get_name(c, n, 4, a, T0, "cdn.example");
	}
	char name[32];
	for (uint32_t i = 0; i < 50; i++) {
		v4(a, 0x0e000000 + i);
		snprintf(name, sizeof(name), "n%u.example", i);
		put_name(c, n, 4, a, name, 300, T0);
	}
	const struct dns_cache_stats *st = dns_cache_stats(c);
	assert_int_equal(st->evicted, 0);
	assert_int_equal(names_count(n), 1 + 50);
	dns_cache_destroy(c);
	assert_int_equal(names_count(n), 0);
	names_destroy(n);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_put_get),
		cmocka_unit_test(test_ttl_clamp),
		cmocka_unit_test(test_replace_same_address),
		cmocka_unit_test_teardown(test_reput_borrowed_id, fixture_teardown),
		cmocka_unit_test(test_eviction_counted),
		cmocka_unit_test(test_references_released),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
