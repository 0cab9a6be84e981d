/* capture: the widening of libpcap's 32-bit kernel counters, and the live open's answers
 * for an interface that is not there. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "capture.h"

static void test_widen(void **state)
{
	(void)state;
	uint64_t total = 0;
	uint32_t last = 0;

	capture_widen(&total, &last, 10);
	capture_widen(&total, &last, 10);
	assert_int_equal(total, 10);
	capture_widen(&total, &last, 4294967290u);
	assert_int_equal(total, 4294967290u);
	/* the counter wraps: 4294967290 -> 5 is 11 more packets */
	capture_widen(&total, &last, 5);
	assert_int_equal(total, 4294967290ull + 11);
	assert_int_equal(last, 5);
	/* many wraps, read often enough: the total keeps growing past 2^32 */
	uint64_t t2 = 0;
	uint32_t l2 = 0, c = 0;
	for (int i = 0; i < 1000; i++) {
		c += 3000000000u; /* wraps most rounds */
		capture_widen(&t2, &l2, c);
	}
	assert_int_equal(t2, 3000000000ull * 1000);
	/* a new handle starts from 0 (last is reset by the caller): nothing lost */
	uint64_t t3 = 100;
	uint32_t l3 = 0;
	capture_widen(&t3, &l3, 7);
	assert_int_equal(t3, 107);
}

static void test_open_missing_interface(void **state)
{
	(void)state;
	struct capture_live_config c = { "egressd-nx0", 65535, true, 1u << 20, 100, NULL };
	enum capture_live_status st;
	char err[512] = "";
	struct capture_live *l = capture_live_open(&c, &st, err, sizeof(err));
	assert_null(l);
	assert_non_null(strstr(err, "egressd-nx0"));
	/* as root: "no such device" (retry later); without privileges: a permission error */
	assert_true(st == CAPTURE_LIVE_GONE || st == CAPTURE_LIVE_FAILED);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_widen),
		cmocka_unit_test(test_open_missing_interface),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
