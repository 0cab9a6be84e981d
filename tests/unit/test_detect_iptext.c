/* test_detect_iptext.c: detect_ip_text (sensor/detect.c), the address text of alert
 * keys, messages and baseline entries, which must stay byte for byte what inet_ntop
 * writes: keys and baselines made before are compared with it.
 *
 * Every IPv6 address whose eight fields are each zero, 0xffff or another value (3^8
 * shapes, several values each) and random IPv4 addresses are checked against the C
 * library's inet_ntop, plus the cases RFC 5952 and glibc single out.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "detect.h"

static uint64_t rng = 0x9e3779b97f4a7c15ULL;

static uint32_t next_rand(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return (uint32_t)(rng >> 16);
}

static void check(int family, const uint8_t *a)
{
	char want[INET6_ADDRSTRLEN], got[DETECT_IP_TEXT_MAX + 8];

	assert_non_null(inet_ntop(family == 4 ? AF_INET : AF_INET6, a, want, sizeof(want)));
	memset(got, 'x', sizeof(got));
	size_t n = detect_ip_text(family, a, got);
	if (strcmp(got, want) != 0)
		fail_msg("got \"%s\", inet_ntop wrote \"%s\"", got, want);
	assert_int_equal(n, strlen(want));
	assert_true(n < DETECT_IP_TEXT_MAX);
}

static void check6(const char *text, const char *want)
{
	uint8_t a[16];
	char got[DETECT_IP_TEXT_MAX];

	assert_int_equal(inet_pton(AF_INET6, text, a), 1);
	check(6, a);
	detect_ip_text(6, a, got);
	assert_string_equal(got, want);
}

static void test_ipv4(void **state)
{
	static const uint8_t fixed[][4] = {
		{ 0, 0, 0, 0 }, { 255, 255, 255, 255 }, { 10, 0, 0, 1 }, { 1, 2, 3, 4 },
		{ 9, 10, 99, 100 }, { 199, 200, 249, 250 }, { 100, 10, 1, 0 },
	};
	uint8_t a[16] = { 0 };
	(void)state;

	for (size_t i = 0; i < sizeof(fixed) / sizeof(fixed[0]); i++)
		check(4, fixed[i]);
	for (unsigned v = 0; v < 256; v++) {
		a[0] = a[3] = (uint8_t)v;
		a[1] = (uint8_t)(255 - v);
		a[2] = (uint8_t)(v * 7);
		check(4, a);
	}
	for (int i = 0; i < 100000; i++) {
		uint32_t r = next_rand();
		memcpy(a, &r, 4);
		a[4] = 0xee; /* bytes past the fourth are not read */
		check(4, a);
	}
	char got[DETECT_IP_TEXT_MAX];
	assert_int_equal(detect_ip_text(4, (const uint8_t *)"\xc0\xa8\x00\x01", got), 11);
	assert_string_equal(got, "192.168.0.1");
}

static void test_ipv6_named(void **state)
{
	(void)state;
	check6("::", "::");
	check6("::1", "::1");
	check6("1::", "1::");
	check6("::ffff:10.1.2.3", "::ffff:10.1.2.3");	  /* IPv4-mapped */
	check6("::ffff:0:0", "::ffff:0.0.0.0");
	check6("::10.1.2.3", "::10.1.2.3");		  /* IPv4-compatible */
	check6("::0.0.1.0", "::100");			  /* a run of seven: not dotted */
	check6("::1.2.0.0", "::1.2.0.0");
	check6("::1:0:0:0", "::1:0:0:0");		  /* the first longer run wins */
	check6("1:0:0:2:0:0:3:4", "1::2:0:0:3:4");	  /* equal runs: the first */
	check6("1:0:2:3:4:5:6:7", "1:0:2:3:4:5:6:7");	  /* one zero field stays */
	check6("1:2:3:4:5:6:7:0", "1:2:3:4:5:6:7:0");
	check6("0:1:2:3:4:5:6:7", "0:1:2:3:4:5:6:7");
	check6("1:2:3:4:5:6:0:0", "1:2:3:4:5:6::");	  /* trailing run */
	check6("0:0:1:2:3:4:5:6", "::1:2:3:4:5:6");
	check6("1:0:0:0:0:0:0:0", "1::");
	check6("0:0:0:0:0:ffff:0:1", "::ffff:0.0.0.1");
	check6("0:0:0:0:1:ffff:0:1", "::1:ffff:0:1");	  /* not mapped: a run of four */
	check6("0:0:0:0:0:fffe:1:2", "::fffe:1:2");
	check6("2001:db8::ff00:42:8329", "2001:db8::ff00:42:8329");
	check6("fc00:abcd:1:20:300:4000:50:6", "fc00:abcd:1:20:300:4000:50:6");
	check6("ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff",
	       "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff");
	check6("fe80::1:0:0:1", "fe80::1:0:0:1");
}

/* every shape of zero, all-ones and other fields, with varied values */
static void test_ipv6_shapes(void **state)
{
	static const unsigned other[] = { 1, 0xa, 0x10, 0xff, 0x100, 0xabc, 0x1000, 0xfffe };
	uint8_t a[16];
	(void)state;

	for (unsigned shape = 0; shape < 6561; shape++) { /* 3^8 */
		for (int round = 0; round < 4; round++) {
			unsigned s = shape;
			for (int i = 0; i < 8; i++, s /= 3) {
				unsigned w = s % 3 == 0 ? 0 : s % 3 == 1 ? 0xffff :
					     round == 0 ? other[(shape + (unsigned)i) % 8] :
							  1 + next_rand() % 0xfffe;
				a[2 * i] = (uint8_t)(w >> 8);
				a[2 * i + 1] = (uint8_t)w;
			}
			check(6, a);
		}
	}
	for (int i = 0; i < 100000; i++) {
		for (int k = 0; k < 16; k += 2) {
			uint32_t r = next_rand();
			/* mostly zero fields: the runs are what is hard */
			unsigned w = r % 4 ? 0 : (r >> 8) & 0xffff;
			a[k] = (uint8_t)(w >> 8);
			a[k + 1] = (uint8_t)w;
		}
		check(6, a);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_ipv4),
		cmocka_unit_test(test_ipv6_named),
		cmocka_unit_test(test_ipv6_shapes),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
