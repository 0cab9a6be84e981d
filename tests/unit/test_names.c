/* test_names.c: sensor/names.c, the interned, reference-counted name store.
 *
 * Expected values follow include/names.h: the same bytes give the same id, each intern
 * or ref is one reference, the entry goes away with its last reference, a full store
 * returns 0, names are cut at NAMES_MAX_LEN bytes and are binary-safe.
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

#include "names.h"

static void assert_name(const struct names *n, uint32_t id, const void *want, size_t wlen)
{
	size_t len = 12345;
	const char *s = names_get(n, id, &len);
	assert_non_null(s);
	assert_int_equal(len, wlen);
	assert_memory_equal(s, want, wlen);
}

static void test_create_zero(void **state)
{
	(void)state;
	assert_null(names_create(0));
	names_destroy(NULL); /* no-op */
}

static void test_dedupe(void **state)
{
	(void)state;
	struct names *n = names_create(16);
	assert_non_null(n);
	assert_int_equal(names_count(n), 0);

	uint32_t a = names_intern(n, "example.com", 11);
	assert_int_not_equal(a, 0);
	assert_int_equal(names_count(n), 1);
	uint32_t b = names_intern(n, "example.com", 11);
	assert_int_equal(a, b);
	assert_int_equal(names_count(n), 1);

	/* a copy in another buffer is the same name */
	char buf[32];
	snprintf(buf, sizeof(buf), "%s", "example.com");
	assert_int_equal(names_intern(n, buf, strlen(buf)), a);

	uint32_t c = names_intern(n, "example.org", 11);
	assert_int_not_equal(c, 0);
	assert_int_not_equal(c, a);
	assert_int_equal(names_count(n), 2);
	/* a prefix is another name */
	uint32_t d = names_intern(n, "example", 7);
	assert_int_not_equal(d, a);
	assert_int_not_equal(d, c);
	assert_int_equal(names_count(n), 3);

	assert_name(n, a, "example.com", 11);
	assert_name(n, c, "example.org", 11);
	assert_name(n, d, "example", 7);

	/* the empty name is a name too */
	uint32_t e = names_intern(n, "", 0);
	assert_int_not_equal(e, 0);
	assert_int_equal(names_intern(n, "x", 0), e);
	assert_name(n, e, "", 0);
	assert_int_equal(names_count(n), 4);
	names_destroy(n);
}

static void test_refcounts(void **state)
{
	(void)state;
	struct names *n = names_create(8);
	assert_non_null(n);

	uint32_t a = names_intern(n, "a.test", 6); /* refs 1 */
	assert_int_equal(names_intern(n, "a.test", 6), a); /* refs 2 */
	names_ref(n, a);				     /* refs 3 */
	names_unref(n, a);				     /* 2 */
	names_unref(n, a);				     /* 1 */
	assert_int_equal(names_count(n), 1);
	assert_name(n, a, "a.test", 6);
	names_unref(n, a); /* 0: gone */
	assert_int_equal(names_count(n), 0);

	/* unref of a free entry and of id 0 change nothing */
	names_unref(n, a);
	names_unref(n, 0);
	names_ref(n, 0);
	assert_int_equal(names_count(n), 0);

	/* a new intern of the same bytes after the last unref is a new, live entry */
	uint32_t a2 = names_intern(n, "a.test", 6);
	assert_int_not_equal(a2, 0);
	assert_int_equal(names_count(n), 1);
	assert_name(n, a2, "a.test", 6);

	/* id 0 is "no name" */
	size_t len = 99;
	assert_null(names_get(n, 0, &len));
	assert_int_equal(len, 0);
	names_destroy(n);
}

static void test_reuse_after_unref(void **state)
{
	(void)state;
	/* capacity 1: the only entry must come back once released */
	struct names *n = names_create(1);
	assert_non_null(n);
	uint32_t a = names_intern(n, "one", 3);
	assert_int_not_equal(a, 0);
	assert_int_equal(names_intern(n, "two", 3), 0); /* full */
	names_unref(n, a);
	assert_int_equal(names_count(n), 0);
	uint32_t b = names_intern(n, "two", 3);
	assert_int_not_equal(b, 0);
	assert_int_equal(b, a); /* the freed entry is reused */
	assert_name(n, b, "two", 3);
	/* the old name is not findable any more: interning it needs room again */
	assert_int_equal(names_intern(n, "one", 3), 0);
	assert_int_equal(names_count(n), 1);
	names_destroy(n);
}

static void test_capacity_full(void **state)
{
	(void)state;
	struct names *n = names_create(3);
	assert_non_null(n);
	uint32_t id[3];
	char s[16];
	for (int i = 0; i < 3; i++) {
		snprintf(s, sizeof(s), "n%d", i);
		id[i] = names_intern(n, s, strlen(s));
		assert_int_not_equal(id[i], 0);
		for (int j = 0; j < i; j++)
			assert_int_not_equal(id[i], id[j]);
	}
	assert_int_equal(names_count(n), 3);
	assert_int_equal(names_intern(n, "n3", 2), 0);
	assert_int_equal(names_intern(n, "n4", 2), 0);
	assert_int_equal(names_count(n), 3);
	/* a name already stored is still found (and referenced) while full */
	assert_int_equal(names_intern(n, "n1", 2), id[1]);
	names_unref(n, id[1]);
	assert_int_equal(names_count(n), 3); /* n1 still holds its first reference */
	names_unref(n, id[1]);
	assert_int_equal(names_count(n), 2);
	uint32_t x = names_intern(n, "n3", 2);
	assert_int_not_equal(x, 0);
	assert_name(n, x, "n3", 2);
	assert_name(n, id[0], "n0", 2);
	assert_name(n, id[2], "n2", 2);
	names_destroy(n);
}

static void test_length_cap(void **state)
{
	(void)state;
	struct names *n = names_create(8);
	assert_non_null(n);
	char big[300];
	for (int i = 0; i < 300; i++)
		big[i] = (char)('a' + i % 26);

	uint32_t a = names_intern(n, big, 300);
	assert_int_not_equal(a, 0);
	assert_name(n, a, big, NAMES_MAX_LEN); /* cut at 255 */
	/* the first 255 bytes, or any longer run with the same prefix, are the same name */
	assert_int_equal(names_intern(n, big, 255), a);
	assert_int_equal(names_intern(n, big, 256), a);
	assert_int_equal(names_count(n), 1);
	/* 254 bytes is another name */
	uint32_t b = names_intern(n, big, 254);
	assert_int_not_equal(b, a);
	assert_name(n, b, big, 254);
	/* the stored copy does not alias the caller's buffer */
	big[0] = 'Z';
	size_t len;
	const char *s = names_get(n, a, &len);
	assert_int_equal(s[0], 'a');
	names_destroy(n);
}

static void test_binary(void **state)
{
	(void)state;
	struct names *n = names_create(8);
	assert_non_null(n);
	static const char x1[3] = { 'a', '\0', 'b' };
	static const char x2[3] = { 'a', '\0', 'c' };
	static const char x3[2] = { 'a', '\0' };
	static const unsigned char hi[4] = { 0xff, 0x00, 0x80, 0x01 };

	uint32_t i1 = names_intern(n, x1, 3);
	uint32_t i2 = names_intern(n, x2, 3);
	uint32_t i3 = names_intern(n, x3, 2);
	uint32_t i4 = names_intern(n, "a", 1);
	uint32_t i5 = names_intern(n, hi, 4);
	assert_true(i1 && i2 && i3 && i4 && i5);
	assert_int_not_equal(i1, i2);
	assert_int_not_equal(i1, i3);
	assert_int_not_equal(i3, i4);
	assert_int_equal(names_count(n), 5);
	assert_name(n, i1, x1, 3);
	assert_name(n, i2, x2, 3);
	assert_name(n, i3, x3, 2);
	assert_name(n, i4, "a", 1);
	assert_name(n, i5, hi, 4);
	assert_int_equal(names_intern(n, x1, 3), i1);
	names_destroy(n);
}

/* Many interns and releases in random order: every live name stays findable (the
 * index's backward-shift deletion keeps probe chains intact) and counts add up. */
static uint64_t rng = 0x9e3779b97f4a7c15ULL;
static uint32_t rnd(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return (uint32_t)(rng >> 11);
}

static void test_churn(void **state)
{
	(void)state;
	enum { CAP = 500, UNIVERSE = 2000 };
	struct names *n = names_create(CAP);
	assert_non_null(n);
	static uint32_t id[UNIVERSE];
	uint32_t live = 0;
	char s[32];
	memset(id, 0, sizeof(id));

	for (int step = 0; step < 200000; step++) {
		int k = (int)(rnd() % UNIVERSE);
		int len = snprintf(s, sizeof(s), "host-%d.example", k);
		if (id[k] == 0) {
			uint32_t x = names_intern(n, s, (size_t)len);
			if (live == CAP) {
				assert_int_equal(x, 0);
				continue;
			}
			assert_int_not_equal(x, 0);
			id[k] = x;
			live++;
		} else {
			/* present: a new intern finds it, then both references go */
			assert_int_equal(names_intern(n, s, (size_t)len), id[k]);
			names_unref(n, id[k]);
			names_unref(n, id[k]);
			id[k] = 0;
			live--;
		}
		assert_int_equal(names_count(n), live);
	}
	for (int k = 0; k < UNIVERSE; k++) {
		if (!id[k])
			continue;
		int len = snprintf(s, sizeof(s), "host-%d.example", k);
		assert_name(n, id[k], s, (size_t)len);
		assert_int_equal(names_intern(n, s, (size_t)len), id[k]);
		names_unref(n, id[k]);
	}
	assert_int_equal(names_count(n), live);
	names_destroy(n);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_create_zero),	  cmocka_unit_test(test_dedupe),
		cmocka_unit_test(test_refcounts),	  cmocka_unit_test(test_reuse_after_unref),
		cmocka_unit_test(test_capacity_full),	  cmocka_unit_test(test_length_cap),
		cmocka_unit_test(test_binary),		  cmocka_unit_test(test_churn),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
