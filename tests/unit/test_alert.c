/* test_alert.c: the alert document's size bound (sensor/alert.c, include/alert.h).
 *
 * Every string of struct alert is a fixed array, so the document has a largest size:
 * every array full, every byte one that JSON escapes as \u00XX (six bytes), every
 * number at its widest. ALERT_JSON_MAX must hold that document whole. A caller with
 * less room gets the document cut at a field boundary, still one line of valid JSON,
 * and saying so in egressd.truncated.
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

#include "alert.h"
#include "json-check.h"

/* Fill a char array with n - 1 copies of c and its terminator. */
#define FILL(f, c)                                  \
	do {                                        \
		memset((f), (c), sizeof(f) - 1);    \
		(f)[sizeof(f) - 1] = '\0';          \
	} while (0)

/* The largest document: 0x01 is escaped as \u0001, the longest escape there is. */
static void worst_alert(struct alert *a, char sensor[64], char version[64])
{
	memset(a, 0, sizeof(*a));
	a->ts_us = a->start_us = a->end_us = a->first_seen_us = 253402300799999999ull;
	FILL(a->id, 1);
	FILL(a->update_of, 1);
	FILL(a->rule_id, 1);
	FILL(a->rule_name, 1);
	FILL(a->ruleset, 1);
	FILL(a->technique, 1);
	FILL(a->subtechnique, 1);
	FILL(a->detector, 1);
	FILL(a->domain, 1);
	FILL(a->registered_domain, 1);
	FILL(a->transport, 1);
	FILL(a->protocol, 1);
	FILL(a->community_id, 1);
	FILL(a->threshold, 1);
	FILL(a->key, 1);
	FILL(a->category, 1);
	FILL(a->tenant, 1);
	FILL(a->country, 1);
	FILL(a->as_org, 1);
	FILL(a->message, 1);
	a->severity = UINT8_MAX;
	a->family = 6;
	memset(a->src, 0x11, 16); /* no :: shortening: the longest text */
	memset(a->dst, 0x11, 16);
	a->dst_port = UINT16_MAX;
	a->bytes_out = a->packets_out = a->bytes_in = a->flows = UINT64_MAX;
	a->window_s = UINT32_MAX;
	a->is_new = true;
	a->asn = UINT32_MAX;
	a->dns_queries = a->dns_unique_names = a->dns_name_bytes = a->dns_max_label = UINT64_MAX;
	a->dns_mean_entropy = a->dns_txt_null_share = -1.23456e-300; /* %.6g: 13 chars */
	a->icmp_payload_bytes = a->icmp_large = a->icmp_distinct = UINT64_MAX;
	memset(sensor, 1, 63); /* sensor_name: 63 bytes at most */
	sensor[63] = '\0';
	memset(version, 1, 63);
	version[63] = '\0';
}

static bool has(const char *s, const char *lit)
{
	return strstr(s, lit) != NULL;
}

static void test_worst_case_fits(void **state)
{
	(void)state;
	static struct alert a;
	static char buf[ALERT_JSON_MAX];
	char sensor[64], version[64];

	worst_alert(&a, sensor, version);
	size_t n = alert_json(&a, sensor, version, buf, sizeof(buf));
	assert_true(n < sizeof(buf));
	assert_int_equal(strlen(buf), n);
	assert_true(chk_valid(buf, n));
	assert_null(memchr(buf, '\n', n));
	assert_false(has(buf, "\"truncated\""));
	/* the last member of the last object is there */
	assert_true(has(buf, "\"distinct_payloads\":18446744073709551615}}}"));
	assert_int_equal(buf[n - 1], '}');
}

/* Each room from 64 bytes to more than the whole: one line of valid JSON that fits;
 * egressd.truncated exactly when the whole did not fit, as the last member. */
static void test_truncation_is_marked(void **state)
{
	(void)state;
	static struct alert a;
	static char full[ALERT_JSON_MAX], buf[ALERT_JSON_MAX];
	char sensor[64], version[64];

	worst_alert(&a, sensor, version);
	size_t whole = alert_json(&a, sensor, version, full, sizeof(full));
	for (size_t cap = 64; cap <= whole + 8; cap++) {
		memset(buf, 'Z', cap + 8 < sizeof(buf) ? cap + 8 : sizeof(buf));
		size_t n = alert_json(&a, sensor, version, buf, cap);
		assert_true(n < cap);
		assert_int_equal(strlen(buf), n);
		if (cap + 8 < sizeof(buf))
			assert_int_equal(buf[cap], 'Z'); /* nothing written past cap */
		if (!chk_valid(buf, n))
			fail_msg("cap %zu: not valid JSON: %s", cap, buf);
		assert_null(memchr(buf, '\n', n));
		if (cap > whole) {
			assert_int_equal(n, whole);
			assert_memory_equal(buf, full, whole);
			continue;
		}
		/* the end: the mark, in the egressd object (opened for it if the cut came
		 * before it), which appears once */
		static const char *const tails[] = {
			",\"egressd\":{\"truncated\":true}}", "\"egressd\":{\"truncated\":true}}",
			",\"truncated\":true}}", "\"truncated\":true}}",
		};
		size_t r = 0;
		for (size_t t = 0; t < 4 && !r; t++) {
			size_t tl = strlen(tails[t]);
			/* without a comma: the first member, just after a '{' */
			if (n > tl && strcmp(buf + n - tl, tails[t]) == 0 &&
			    (tails[t][0] == ',' || buf[n - tl - 1] == '{'))
				r = n - tl;
		}
		if (!r)
			fail_msg("cap %zu: no egressd.truncated at the end: %s", cap,
				 buf + (n > 80 ? n - 80 : 0));
		const char *e = strstr(buf, "\"egressd\":{");
		assert_non_null(e);
		assert_null(strstr(e + 1, "\"egressd\":{"));
		/* before it: the start of the whole document, then the closers of what was
		 * open where it was cut */
		while (r > 0 && (buf[r - 1] == '}' || buf[r - 1] == ']'))
			r--;
		assert_memory_equal(buf, full, r);
	}
}

/* An alert like the ones the rules make, with the longest names: fits whole. */
static void test_long_names_fit(void **state)
{
	(void)state;
	static struct alert a;
	static char buf[ALERT_JSON_MAX];

	memset(&a, 0, sizeof(a));
	a.ts_us = a.start_us = a.end_us = 1704067200000000ull;
	memset(a.id, 'a', ALERT_ID_LEN);
	memset(a.rule_id, 'r', sizeof(a.rule_id) - 1);
	memset(a.rule_name, '"', sizeof(a.rule_name) - 1); /* escaped as \" */
	snprintf(a.technique, sizeof(a.technique), "T1567");
	snprintf(a.detector, sizeof(a.detector), "volume");
	for (size_t i = 0; i < 253; i++) /* 253 characters: the longest DNS name */
		a.domain[i] = i % 64 == 63 ? '.' : 'x';
	a.family = 4;
	size_t n = alert_json(&a, "egressd", "1.0", buf, sizeof(buf));
	assert_true(chk_valid(buf, n));
	assert_false(has(buf, "\"truncated\""));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_worst_case_fits),
		cmocka_unit_test(test_truncation_is_marked),
		cmocka_unit_test(test_long_names_fit),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
