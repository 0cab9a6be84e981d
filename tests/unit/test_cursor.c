/* test_cursor.c: include/cursor.h, the bounds-checked reader every parser uses.
 *
 * Expected values are written by hand from the byte layouts (big-endian: most significant
 * byte first; little-endian: least significant first), never taken from a run.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "cursor.h"

/* A heap copy of exactly n bytes, so that AddressSanitizer catches any read past it. */
static uint8_t *dup_exact(const uint8_t *src, size_t n)
{
	uint8_t *p = malloc(n ? n : 1);
	assert_non_null(p);
	if (n)
		memcpy(p, src, n);
	return p;
}

static void test_make(void **state)
{
	(void)state;
	static const uint8_t b[3] = { 1, 2, 3 };
	struct cur c = cur_make(b, 3);
	assert_ptr_equal(c.p, b);
	assert_int_equal(c.len, 3);
	assert_int_equal(c.off, 0);
	assert_true(cur_ok(&c));
	assert_int_equal(cur_left(&c), 3);
	assert_ptr_equal(cur_ptr(&c), b);

	/* a NULL buffer is an empty view whatever length is given */
	struct cur z = cur_make(NULL, 100);
	assert_int_equal(z.len, 0);
	assert_int_equal(cur_left(&z), 0);
	assert_true(cur_ok(&z));
	assert_int_equal(cur_u8(&z), 0);
	assert_false(cur_ok(&z));
	assert_int_equal(z.off, 0);
}

static void test_u8_bounds(void **state)
{
	(void)state;
	static const uint8_t src[2] = { 0xab, 0xff };
	uint8_t *b = dup_exact(src, 2);
	struct cur c = cur_make(b, 2);
	assert_int_equal(cur_u8(&c), 0xab);
	assert_int_equal(cur_left(&c), 1);
	assert_int_equal(cur_u8(&c), 0xff); /* last byte: exactly at the bound */
	assert_true(cur_ok(&c));
	assert_int_equal(cur_left(&c), 0);
	assert_int_equal(cur_u8(&c), 0); /* one past */
	assert_false(cur_ok(&c));
	assert_int_equal(c.off, 2);
	free(b);
}

/* Each multi-byte getter: succeeds with exactly n bytes left, fails with n-1 left, and
 * on failure returns 0, sets err and leaves the offset at the end. */
static void test_be16_bounds(void **state)
{
	(void)state;
	static const uint8_t src[3] = { 0x12, 0x34, 0x56 };
	uint8_t *b = dup_exact(src, 3);
	struct cur c = cur_make(b, 2);
	assert_int_equal(cur_be16(&c), 0x1234);
	assert_true(cur_ok(&c));
	assert_int_equal(cur_left(&c), 0);

	c = cur_make(b, 3);
	cur_skip(&c, 2);
	assert_true(cur_ok(&c));
	assert_int_equal(cur_be16(&c), 0); /* 1 byte left */
	assert_false(cur_ok(&c));
	assert_int_equal(c.off, 3);
	free(b);
}

static void test_be24_bounds(void **state)
{
	(void)state;
	static const uint8_t src[5] = { 0xfe, 0xdc, 0xba, 0x98, 0x76 };
	uint8_t *b = dup_exact(src, 5);
	struct cur c = cur_make(b, 3);
	assert_int_equal(cur_be24(&c), 0xfedcba);
	assert_true(cur_ok(&c));
	assert_int_equal(cur_left(&c), 0);

	c = cur_make(b, 5);
	cur_skip(&c, 3);
	assert_int_equal(cur_be24(&c), 0); /* 2 left */
	assert_false(cur_ok(&c));
	assert_int_equal(c.off, 5);
	free(b);
}

static void test_be32_bounds(void **state)
{
	(void)state;
	static const uint8_t src[7] = { 0xde, 0xad, 0xbe, 0xef, 1, 2, 3 };
	uint8_t *b = dup_exact(src, 7);
	struct cur c = cur_make(b, 4);
	assert_int_equal(cur_be32(&c), 0xdeadbeefu);
	assert_true(cur_ok(&c));

	c = cur_make(b, 7);
	cur_skip(&c, 4);
	assert_int_equal(cur_be32(&c), 0); /* 3 left */
	assert_false(cur_ok(&c));
	assert_int_equal(c.off, 7);
	free(b);
}

static void test_le16_bounds(void **state)
{
	(void)state;
	static const uint8_t src[3] = { 0x34, 0x12, 0x99 };
	uint8_t *b = dup_exact(src, 3);
	struct cur c = cur_make(b, 2);
	assert_int_equal(cur_le16(&c), 0x1234);
	assert_true(cur_ok(&c));

	c = cur_make(b, 3);
	cur_skip(&c, 2);
	assert_int_equal(cur_le16(&c), 0);
	assert_false(cur_ok(&c));
	assert_int_equal(c.off, 3);
	free(b);
}

static void test_le32_bounds(void **state)
{
	(void)state;
	static const uint8_t src[7] = { 0xef, 0xbe, 0xad, 0xde, 1, 2, 3 };
	uint8_t *b = dup_exact(src, 7);
	struct cur c = cur_make(b, 4);
	assert_int_equal(cur_le32(&c), 0xdeadbeefu);
	assert_true(cur_ok(&c));

	c = cur_make(b, 7);
	cur_skip(&c, 4);
	assert_int_equal(cur_le32(&c), 0);
	assert_false(cur_ok(&c));
	assert_int_equal(c.off, 7);
	free(b);
}

/* The same five bytes read every way: 01 02 03 04 05. */
static void test_endianness(void **state)
{
	(void)state;
	static const uint8_t b[5] = { 0x01, 0x02, 0x03, 0x04, 0x05 };
	struct cur c;

	c = cur_make(b, 5);
	assert_int_equal(cur_be16(&c), 0x0102);
	c = cur_make(b, 5);
	assert_int_equal(cur_be24(&c), 0x010203);
	c = cur_make(b, 5);
	assert_int_equal(cur_be32(&c), 0x01020304);
	c = cur_make(b, 5);
	assert_int_equal(cur_le16(&c), 0x0201);
	c = cur_make(b, 5);
	assert_int_equal(cur_le32(&c), 0x04030201);

	/* consecutive reads advance: 01 | 02 03 | 04 05 */
	c = cur_make(b, 5);
	assert_int_equal(cur_u8(&c), 1);
	assert_int_equal(cur_be16(&c), 0x0203);
	assert_int_equal(cur_le16(&c), 0x0504);
	assert_true(cur_ok(&c));
	assert_int_equal(cur_left(&c), 0);

	/* high bits set: no sign extension anywhere */
	static const uint8_t h[4] = { 0xff, 0xfe, 0xfd, 0xfc };
	c = cur_make(h, 4);
	assert_int_equal(cur_be32(&c), 0xfffefdfcu);
	c = cur_make(h, 4);
	assert_int_equal(cur_le32(&c), 0xfcfdfeffu);
	c = cur_make(h, 4);
	assert_int_equal(cur_be24(&c), 0xfffefdu);
	c = cur_make(h, 4);
	assert_int_equal(cur_be16(&c), 0xfffe);
	c = cur_make(h, 4);
	assert_int_equal(cur_le16(&c), 0xfeff);
	c = cur_make(h, 4);
	assert_int_equal(cur_u8(&c), 0xff);
}

/* Once a read failed, every later read fails too, even after a seek back to 0. */
static void test_sticky_error(void **state)
{
	(void)state;
	static const uint8_t b[4] = { 9, 8, 7, 6 };
	struct cur c = cur_make(b, 4);

	cur_skip(&c, 2);
	assert_int_equal(cur_be32(&c), 0); /* needs 4, has 2 */
	assert_false(cur_ok(&c));
	cur_seek(&c, 0);
	assert_false(cur_ok(&c)); /* seek does not clear the error */
	assert_int_equal(cur_u8(&c), 0);
	assert_int_equal(cur_be16(&c), 0);
	assert_int_equal(cur_be24(&c), 0);
	assert_int_equal(cur_be32(&c), 0);
	assert_int_equal(cur_le16(&c), 0);
	assert_int_equal(cur_le32(&c), 0);
	assert_null(cur_bytes(&c, 1));
	assert_null(cur_bytes(&c, 0));
	assert_int_equal(cur_peek_u8(&c, 0), 0);
	struct cur s = cur_sub(&c, 0);
	assert_false(cur_ok(&s));
	assert_int_equal(s.len, 0);
	assert_false(cur_ok(&c));

	/* a failed read does not consume the bytes that were there: offset goes to the end */
	c = cur_make(b, 4);
	cur_u8(&c);
	assert_int_equal(cur_le32(&c), 0);
	assert_int_equal(c.off, 4);
	assert_int_equal(cur_left(&c), 0);
}

static void test_bytes_and_skip(void **state)
{
	(void)state;
	static const uint8_t src[6] = { 'a', 'b', 'c', 'd', 'e', 'f' };
	uint8_t *b = dup_exact(src, 6);
	struct cur c = cur_make(b, 6);

	const uint8_t *p = cur_bytes(&c, 2);
	assert_ptr_equal(p, b);
	assert_int_equal(c.off, 2);
	p = cur_bytes(&c, 0); /* zero bytes: fine, no move */
	assert_ptr_equal(p, b + 2);
	assert_true(cur_ok(&c));
	p = cur_bytes(&c, 4); /* exactly the rest */
	assert_ptr_equal(p, b + 2);
	assert_true(cur_ok(&c));
	assert_int_equal(cur_left(&c), 0);
	assert_null(cur_bytes(&c, 1));
	assert_false(cur_ok(&c));

	c = cur_make(b, 6);
	cur_skip(&c, 6);
	assert_true(cur_ok(&c));
	cur_skip(&c, 1);
	assert_false(cur_ok(&c));
	assert_int_equal(c.off, 6);

	/* a huge length does not wrap around */
	c = cur_make(b, 6);
	cur_u8(&c);
	assert_null(cur_bytes(&c, SIZE_MAX));
	assert_false(cur_ok(&c));
	assert_int_equal(c.off, 6);
	free(b);
}

static void test_sub(void **state)
{
	(void)state;
	static const uint8_t src[6] = { 1, 2, 3, 4, 5, 6 };
	uint8_t *b = dup_exact(src, 6);
	struct cur c = cur_make(b, 6);

	cur_u8(&c);
	struct cur s = cur_sub(&c, 3); /* bytes 2 3 4 */
	assert_true(cur_ok(&s));
	assert_true(cur_ok(&c));
	assert_ptr_equal(s.p, b + 1);
	assert_int_equal(s.len, 3);
	assert_int_equal(s.off, 0);
	assert_int_equal(c.off, 4);
	assert_int_equal(cur_be24(&s), 0x020304);
	assert_int_equal(cur_u8(&s), 0); /* the sub-view ends where it was cut */
	assert_false(cur_ok(&s));
	assert_true(cur_ok(&c)); /* the parent is unaffected by the child's error */
	assert_int_equal(cur_be16(&c), 0x0506);

	/* exactly what is left */
	c = cur_make(b, 6);
	cur_skip(&c, 2);
	s = cur_sub(&c, 4);
	assert_true(cur_ok(&s));
	assert_int_equal(s.len, 4);
	assert_int_equal(cur_left(&c), 0);

	/* short parent: the sub-view is empty and in error, and so is the parent */
	c = cur_make(b, 6);
	cur_skip(&c, 2);
	s = cur_sub(&c, 5);
	assert_false(cur_ok(&s));
	assert_int_equal(s.len, 0);
	assert_int_equal(cur_left(&s), 0);
	assert_int_equal(cur_u8(&s), 0);
	assert_false(cur_ok(&c));
	assert_int_equal(c.off, 6);

	/* empty sub-view of an empty rest is fine */
	c = cur_make(b, 6);
	cur_skip(&c, 6);
	s = cur_sub(&c, 0);
	assert_true(cur_ok(&s));
	assert_int_equal(s.len, 0);
	assert_true(cur_ok(&c));
	free(b);
}

static void test_peek(void **state)
{
	(void)state;
	static const uint8_t src[3] = { 0x10, 0x20, 0x30 };
	uint8_t *b = dup_exact(src, 3);
	struct cur c = cur_make(b, 3);

	cur_u8(&c);
	assert_int_equal(cur_peek_u8(&c, 0), 0x20);
	assert_int_equal(cur_peek_u8(&c, 1), 0x30); /* last byte */
	assert_int_equal(c.off, 1);		    /* peeking does not move */
	assert_true(cur_ok(&c));
	assert_int_equal(cur_peek_u8(&c, 2), 0); /* one past */
	assert_false(cur_ok(&c));

	c = cur_make(b, 3);
	assert_int_equal(cur_peek_u8(&c, SIZE_MAX), 0);
	assert_false(cur_ok(&c));

	c = cur_make(b, 3);
	cur_skip(&c, 3);
	assert_int_equal(cur_peek_u8(&c, 0), 0);
	assert_false(cur_ok(&c));
	free(b);
}

static void test_seek(void **state)
{
	(void)state;
	static const uint8_t b[4] = { 0xa0, 0xa1, 0xa2, 0xa3 };
	struct cur c = cur_make(b, 4);

	cur_seek(&c, 3);
	assert_true(cur_ok(&c));
	assert_int_equal(cur_u8(&c), 0xa3);
	cur_seek(&c, 0); /* backwards (DNS pointers go back) */
	assert_int_equal(cur_u8(&c), 0xa0);
	cur_seek(&c, 4); /* exactly the end: allowed, nothing left */
	assert_true(cur_ok(&c));
	assert_int_equal(cur_left(&c), 0);
	cur_seek(&c, 5); /* beyond the end */
	assert_false(cur_ok(&c));
	assert_int_equal(c.off, 4);
	assert_int_equal(cur_left(&c), 0);

	c = cur_make(b, 4);
	cur_seek(&c, SIZE_MAX);
	assert_false(cur_ok(&c));
	assert_int_equal(c.off, 4);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_make),	     cmocka_unit_test(test_u8_bounds),
		cmocka_unit_test(test_be16_bounds),  cmocka_unit_test(test_be24_bounds),
		cmocka_unit_test(test_be32_bounds),  cmocka_unit_test(test_le16_bounds),
		cmocka_unit_test(test_le32_bounds),  cmocka_unit_test(test_endianness),
		cmocka_unit_test(test_sticky_error), cmocka_unit_test(test_bytes_and_skip),
		cmocka_unit_test(test_sub),	     cmocka_unit_test(test_peek),
		cmocka_unit_test(test_seek),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
