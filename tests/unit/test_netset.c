/* test_netset.c: sensor/netset.c, CIDR parsing (RFC 4632 prefix notation, RFC 4291 2.3
 * for IPv6) and set membership. Expected addresses and masks are worked out by hand. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdbool.h>
#include <string.h>

#include "netset.h"

static struct cidr parse_ok(const char *text)
{
	struct cidr c;
	char err[256] = "";
	memset(&c, 0xaa, sizeof(c));
	if (!cidr_parse(text, &c, err, sizeof(err)))
		fail_msg("'%s' rejected: %s", text, err);
	return c;
}

static void check_cidr(const char *text, int family, int bits, const uint8_t want[16])
{
	struct cidr c = parse_ok(text);
	assert_int_equal(c.family, family);
	assert_int_equal(c.bits, bits);
	assert_memory_equal(c.addr, want, 16);
}

static void test_parse_valid(void **state)
{
	(void)state;
	static const uint8_t a10[16] = { 10 };
	static const uint8_t a1234[16] = { 1, 2, 3, 4 };
	static const uint8_t zero[16] = { 0 };
	static const uint8_t fc00[16] = { 0xfc };
	static const uint8_t loop6[16] = { [15] = 1 };
	static const uint8_t db8[16] = { 0x20, 0x01, 0x0d, 0xb8, 0x12, 0x34 };
	static const uint8_t a172[16] = { 172, 16 };

	check_cidr("10.0.0.0/8", 4, 8, a10);
	check_cidr("1.2.3.4", 4, 32, a1234);   /* bare address: a /32 */
	check_cidr("1.2.3.4/32", 4, 32, a1234);
	check_cidr("0.0.0.0/0", 4, 0, zero);
	check_cidr("fc00::/7", 6, 7, fc00);
	check_cidr("::1", 6, 128, loop6);      /* bare address: a /128 */
	check_cidr("::1/128", 6, 128, loop6);
	check_cidr("::/0", 6, 0, zero);
	check_cidr("2001:db8:1234::/48", 6, 48, db8);
	check_cidr("172.16.0.0/12", 4, 12, a172);
}

/* Host bits are cleared, not an error. */
static void test_parse_host_bits(void **state)
{
	(void)state;
	static const uint8_t a192[16] = { 192, 168, 1, 0 };
	static const uint8_t a10[16] = { 10 };
	static const uint8_t fc00[16] = { 0xfc };
	static const uint8_t a25[16] = { 192, 168, 1, 128 };
	static const uint8_t zero[16] = { 0 };
	static const uint8_t a172[16] = { 172, 16 };
	static const uint8_t v6_65[16] = { 0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0x80 };

	check_cidr("192.168.1.77/24", 4, 24, a192);
	check_cidr("10.255.255.255/8", 4, 8, a10);
	/* fd12:3456::1/7: 0xfd & 0xfe = 0xfc, everything after bit 7 cleared */
	check_cidr("fd12:3456::1/7", 6, 7, fc00);
	check_cidr("192.168.1.200/25", 4, 25, a25); /* 200 = 0b11001000 -> 128 */
	check_cidr("255.255.255.255/0", 4, 0, zero);
	check_cidr("172.31.255.255/12", 4, 12, a172); /* 31 = 0b00011111 -> 16 */
	check_cidr("2001:db8::ffff:ffff:ffff:ffff/65", 6, 65, v6_65);
	check_cidr("ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff/0", 6, 0, zero);
}

static void parse_bad(const char *text)
{
	struct cidr c;
	char err[256] = "";
	if (cidr_parse(text, &c, err, sizeof(err)))
		fail_msg("'%s' accepted (family %d bits %d)", text, c.family, c.bits);
	assert_true(err[0] != '\0'); /* a message says why */
}

static void test_parse_invalid(void **state)
{
	(void)state;
	parse_bad("10.0.0.0/33");
	parse_bad("::/129");
	parse_bad("abc");
	parse_bad("10.0.0.1/");
	parse_bad("");
	parse_bad("/8");
	parse_bad("10.0.0.0/-1");
	parse_bad("10.0.0.0/8x");
	parse_bad("10.0.0.0/ 8");
	parse_bad("10.0.0.0/+8");
	parse_bad("10.0.0.0/8/8");
	parse_bad("10.0.0/8");
	parse_bad("256.0.0.0/8");
	parse_bad("10.0.0.0 /8");
	parse_bad(" 10.0.0.0/8");
	parse_bad("1.2.3.4.5");
	parse_bad("fc00:::/7");
	parse_bad("gggg::/16");
	parse_bad("10.0.0.0/99999999999999999999999");
	parse_bad("0.0.0.0/4294967328"); /* 2^32 + 32 must not wrap to 32 */
	/* longer than any address: rejected, not overflowed */
	char longtext[200];
	memset(longtext, '1', sizeof(longtext) - 1);
	longtext[sizeof(longtext) - 1] = '\0';
	parse_bad(longtext);

	/* the message names the text */
	struct cidr c;
	char err[256] = "";
	assert_false(cidr_parse("abc", &c, err, sizeof(err)));
	assert_non_null(strstr(err, "'abc'"));
}

static struct netset one(const char *text)
{
	struct netset s;
	s.n = 0;
	struct cidr c = parse_ok(text);
	assert_true(netset_add(&s, &c));
	return s;
}

static bool in4(const struct netset *s, uint8_t a, uint8_t b, uint8_t c, uint8_t d)
{
	uint8_t addr[16] = { a, b, c, d };
	return netset_contains(s, 4, addr);
}

static void test_contains_v4(void **state)
{
	(void)state;
	struct netset s;

	s = one("0.0.0.0/0");
	assert_true(in4(&s, 0, 0, 0, 0));
	assert_true(in4(&s, 255, 255, 255, 255));
	assert_true(in4(&s, 8, 8, 8, 8));

	s = one("10.1.2.3/32");
	assert_true(in4(&s, 10, 1, 2, 3));
	assert_false(in4(&s, 10, 1, 2, 2));
	assert_false(in4(&s, 10, 1, 2, 4));
	assert_false(in4(&s, 138, 1, 2, 3)); /* top bit */

	/* /7 covers 10.0.0.0 - 11.255.255.255 (10 = 0b00001010) */
	s = one("10.0.0.0/7");
	assert_true(in4(&s, 10, 0, 0, 0));
	assert_true(in4(&s, 11, 255, 255, 255));
	assert_false(in4(&s, 9, 255, 255, 255));
	assert_false(in4(&s, 12, 0, 0, 0));

	/* /25 edges */
	s = one("192.168.1.0/25");
	assert_true(in4(&s, 192, 168, 1, 0));
	assert_true(in4(&s, 192, 168, 1, 127));
	assert_false(in4(&s, 192, 168, 1, 128));
	assert_false(in4(&s, 192, 168, 0, 127));

	/* /12 edges: 172.16.0.0 - 172.31.255.255 */
	s = one("172.16.0.0/12");
	assert_true(in4(&s, 172, 16, 0, 0));
	assert_true(in4(&s, 172, 31, 255, 255));
	assert_false(in4(&s, 172, 15, 255, 255));
	assert_false(in4(&s, 172, 32, 0, 0));

	/* /31 and /1 */
	s = one("10.0.0.4/31");
	assert_true(in4(&s, 10, 0, 0, 4));
	assert_true(in4(&s, 10, 0, 0, 5));
	assert_false(in4(&s, 10, 0, 0, 6));
	assert_false(in4(&s, 10, 0, 0, 3));
	s = one("128.0.0.0/1");
	assert_true(in4(&s, 128, 0, 0, 0));
	assert_true(in4(&s, 255, 0, 0, 1));
	assert_false(in4(&s, 127, 255, 255, 255));
}

static void test_contains_v6(void **state)
{
	(void)state;
	struct netset s;
	uint8_t a[16];

	s = one("::/0");
	memset(a, 0xff, 16);
	assert_true(netset_contains(&s, 6, a));
	memset(a, 0, 16);
	assert_true(netset_contains(&s, 6, a));

	/* fc00::/7 covers fc00:: - fdff:ffff:...:ffff */
	s = one("fc00::/7");
	memset(a, 0, 16);
	a[0] = 0xfc;
	assert_true(netset_contains(&s, 6, a));
	memset(a, 0xff, 16);
	a[0] = 0xfd;
	assert_true(netset_contains(&s, 6, a));
	memset(a, 0, 16);
	a[0] = 0xfe;
	assert_false(netset_contains(&s, 6, a));
	memset(a, 0xff, 16);
	a[0] = 0xfb;
	assert_false(netset_contains(&s, 6, a));

	/* /128: only the address itself */
	s = one("2001:db8::1/128");
	uint8_t x[16] = { 0x20, 0x01, 0x0d, 0xb8, [15] = 1 };
	assert_true(netset_contains(&s, 6, x));
	x[15] = 0;
	assert_false(netset_contains(&s, 6, x));
	x[15] = 3;
	assert_false(netset_contains(&s, 6, x));
	x[15] = 1;
	x[0] = 0xa0; /* first bit differs */
	assert_false(netset_contains(&s, 6, x));

	/* /64 edge */
	s = one("2001:db8:0:1::/64");
	uint8_t y[16] = { 0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 1, 0xff, 0xff, 0xff, 0xff,
			  0xff, 0xff, 0xff, 0xff };
	assert_true(netset_contains(&s, 6, y));
	y[7] = 2;
	assert_false(netset_contains(&s, 6, y));
}

/* An IPv4 block never matches an IPv6 address and the reverse, even when the bytes
 * agree: ::/0 does not hold 1.2.3.4 and 0.0.0.0/0 does not hold ::. */
static void test_family_separation(void **state)
{
	(void)state;
	struct netset s = one("0.0.0.0/0");
	uint8_t a[16] = { 0 };
	assert_false(netset_contains(&s, 6, a));
	assert_true(netset_contains(&s, 4, a));

	s = one("::/0");
	uint8_t b[16] = { 1, 2, 3, 4 };
	assert_false(netset_contains(&s, 4, b));
	assert_true(netset_contains(&s, 6, b));

	/* 10.0.0.0/8 and the IPv6 address 0a00::: same first byte, other family */
	s = one("10.0.0.0/8");
	uint8_t c[16] = { 10 };
	assert_false(netset_contains(&s, 6, c));
	assert_true(netset_contains(&s, 4, c));

	/* an empty set holds nothing */
	s.n = 0;
	assert_false(netset_contains(&s, 4, c));
}

static void test_list(void **state)
{
	(void)state;
	struct netset s;
	char err[256];

	assert_true(netset_parse_list(&s, "10.0.0.0/8, 192.168.0.0/16,fc00::/7", err, sizeof(err)));
	assert_int_equal(s.n, 3);
	assert_true(in4(&s, 10, 9, 9, 9));
	assert_true(in4(&s, 192, 168, 200, 1));
	assert_false(in4(&s, 192, 169, 0, 1));
	uint8_t v6[16] = { 0xfd, 0x00, [15] = 1 };
	assert_true(netset_contains(&s, 6, v6));

	/* replacing: the list is not appended to */
	assert_true(netset_parse_list(&s, "1.1.1.1", err, sizeof(err)));
	assert_int_equal(s.n, 1);
	assert_false(in4(&s, 10, 9, 9, 9));

	err[0] = '\0';
	assert_false(netset_parse_list(&s, "", err, sizeof(err)));
	assert_true(err[0] != '\0');
	err[0] = '\0';
	assert_false(netset_parse_list(&s, " , ,", err, sizeof(err)));
	assert_true(err[0] != '\0');
	err[0] = '\0';
	assert_false(netset_parse_list(&s, "10.0.0.0/8,10.0.0.0/33", err, sizeof(err)));
	assert_non_null(strstr(err, "10.0.0.0/33"));

	/* NETSET_MAX blocks fit, one more does not */
	struct netset big;
	big.n = 0;
	struct cidr c = parse_ok("10.0.0.0/8");
	for (int i = 0; i < NETSET_MAX; i++)
		assert_true(netset_add(&big, &c));
	assert_false(netset_add(&big, &c));
	assert_int_equal(big.n, NETSET_MAX);
}

static void test_default_home(void **state)
{
	(void)state;
	struct netset s;
	netset_default_home(&s);
	assert_int_equal(s.n, 4);
	assert_true(in4(&s, 10, 0, 0, 1));
	assert_true(in4(&s, 172, 16, 0, 1));
	assert_true(in4(&s, 172, 31, 255, 254));
	assert_false(in4(&s, 172, 32, 0, 1));
	assert_true(in4(&s, 192, 168, 255, 255));
	assert_false(in4(&s, 192, 167, 255, 255));
	assert_false(in4(&s, 8, 8, 8, 8));
	uint8_t ula[16] = { 0xfd, 0x12 };
	uint8_t glob[16] = { 0x20, 0x01, 0x0d, 0xb8 };
	assert_true(netset_contains(&s, 6, ula));
	assert_false(netset_contains(&s, 6, glob));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse_valid),	  cmocka_unit_test(test_parse_host_bits),
		cmocka_unit_test(test_parse_invalid),	  cmocka_unit_test(test_contains_v4),
		cmocka_unit_test(test_contains_v6),	  cmocka_unit_test(test_family_separation),
		cmocka_unit_test(test_list),		  cmocka_unit_test(test_default_home),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
