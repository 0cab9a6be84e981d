/* test_json.c: unit tests for the bounded JSON writer (sensor/json.c).
 * Expected texts are written by hand from RFC 8259; every output is also run
 * through a strict RFC 8259 + UTF-8 checker (json-check.h).
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

#include "json.h"
#include "json-check.h"

/* ---- helpers --------------------------------------------------------- */

/* Finishes j and checks the text against expect, its length and validity. */
static void expect_text(struct json *j, const char *expect)
{
	size_t len = 0;
	const char *t = json_finish(j, &len);

	if (strcmp(t, expect) != 0)
		fail_msg("got      %s\nexpected %s", t, expect);
	assert_int_equal(len, strlen(expect));
	if (len > 0)
		assert_true(chk_valid(t, len));
}

/* Writes bytes as a lone top-level string and checks the text. */
static void expect_str(const void *s, size_t n, const char *expect)
{
	char buf[1024];
	struct json j;

	json_init(&j, buf, sizeof(buf));
	json_strn(&j, NULL, s, n);
	expect_text(&j, expect);
	assert_false(j.truncated);
	assert_false(j.misuse);
}

#define EXPECT_STR(lit, expect) expect_str(lit, sizeof(lit) - 1, expect)

/* ---- escaping -------------------------------------------------------- */

static void test_every_byte(void **state)
{
	static const char *const ctl[32] = {
		"\"\\u0000\"", "\"\\u0001\"", "\"\\u0002\"", "\"\\u0003\"",
		"\"\\u0004\"", "\"\\u0005\"", "\"\\u0006\"", "\"\\u0007\"",
		"\"\\u0008\"", "\"\\t\"",     "\"\\n\"",     "\"\\u000b\"",
		"\"\\u000c\"", "\"\\r\"",     "\"\\u000e\"", "\"\\u000f\"",
		"\"\\u0010\"", "\"\\u0011\"", "\"\\u0012\"", "\"\\u0013\"",
		"\"\\u0014\"", "\"\\u0015\"", "\"\\u0016\"", "\"\\u0017\"",
		"\"\\u0018\"", "\"\\u0019\"", "\"\\u001a\"", "\"\\u001b\"",
		"\"\\u001c\"", "\"\\u001d\"", "\"\\u001e\"", "\"\\u001f\"",
	};
	char expect[16];
	int b;

	(void)state;
	for (b = 0; b < 256; b++) {
		uint8_t byte = (uint8_t)b;

		if (b < 0x20)
			snprintf(expect, sizeof(expect), "%s", ctl[b]);
		else if (b == '"')
			snprintf(expect, sizeof(expect), "\"\\\"\"");
		else if (b == '\\')
			snprintf(expect, sizeof(expect), "\"\\\\\"");
		else if (b < 0x7f)
			snprintf(expect, sizeof(expect), "\"%c\"", b);
		else if (b == 0x7f)
			snprintf(expect, sizeof(expect), "\"\\u007f\"");
		else	/* alone, no byte >= 0x80 is UTF-8 */
			snprintf(expect, sizeof(expect), "\"\\\\x%02x\"", b);
		expect_str(&byte, 1, expect);
	}
}

static void test_ascii_escapes(void **state)
{
	(void)state;
	EXPECT_STR("", "\"\"");
	EXPECT_STR("GET / HTTP/1.1\r\nHost: x\r\n", "\"GET / HTTP/1.1\\r\\nHost: x\\r\\n\"");
	EXPECT_STR("say \"hi\"", "\"say \\\"hi\\\"\"");
	EXPECT_STR("a\\b", "\"a\\\\b\"");
	EXPECT_STR("end\\", "\"end\\\\\"");
	EXPECT_STR("\\\\", "\"\\\\\\\\\"");
	EXPECT_STR("a\0b", "\"a\\u0000b\"");
	EXPECT_STR("tab\there", "\"tab\\there\"");
	EXPECT_STR("</script>", "\"</script>\"");
	EXPECT_STR("\x1b[0m\x7f", "\"\\u001b[0m\\u007f\"");
	/* A backslash before 'x' reads as an escaped 0x5c byte, so that literal
	 * text "\x41" and a raw byte never come out alike. */
	EXPECT_STR("C:\\xampp", "\"C:\\\\x5cxampp\"");
	EXPECT_STR("\\x41", "\"\\\\x5cx41\"");
	EXPECT_STR("\\X41", "\"\\\\X41\"");
}

static void test_utf8_valid(void **state)
{
	(void)state;
	EXPECT_STR("\xc2\x80", "\"\xc2\x80\"");			/* U+0080 */
	EXPECT_STR("caf\xc3\xa9", "\"caf\xc3\xa9\"");		/* é */
	EXPECT_STR("\xdf\xbf", "\"\xdf\xbf\"");			/* U+07FF */
	EXPECT_STR("\xe0\xa0\x80", "\"\xe0\xa0\x80\"");		/* U+0800 */
	EXPECT_STR("\xe2\x82\xac", "\"\xe2\x82\xac\"");		/* € */
	EXPECT_STR("\xed\x9f\xbf", "\"\xed\x9f\xbf\"");		/* U+D7FF */
	EXPECT_STR("\xee\x80\x80", "\"\xee\x80\x80\"");		/* U+E000 */
	EXPECT_STR("\xef\xbf\xbf", "\"\xef\xbf\xbf\"");		/* U+FFFF */
	EXPECT_STR("\xe2\x80\xa8", "\"\xe2\x80\xa8\"");		/* U+2028 */
	EXPECT_STR("\xf0\x90\x80\x80", "\"\xf0\x90\x80\x80\"");	/* U+10000 */
	EXPECT_STR("\xf0\x9d\x84\x9e", "\"\xf0\x9d\x84\x9e\"");	/* 𝄞 */
	EXPECT_STR("\xf4\x8f\xbf\xbf", "\"\xf4\x8f\xbf\xbf\"");	/* U+10FFFF */
	EXPECT_STR("\xd0\x9f\xd1\x80\xd0\xb8\xd0\xb2\xd0\xb5\xd1\x82",
		   "\"\xd0\x9f\xd1\x80\xd0\xb8\xd0\xb2\xd0\xb5\xd1\x82\"");
}

static void test_utf8_invalid(void **state)
{
	(void)state;
	/* overlong forms */
	EXPECT_STR("\xc0\xaf", "\"\\\\xc0\\\\xaf\"");
	EXPECT_STR("\xc1\xbf", "\"\\\\xc1\\\\xbf\"");
	EXPECT_STR("\xe0\x80\xaf", "\"\\\\xe0\\\\x80\\\\xaf\"");
	EXPECT_STR("\xe0\x9f\xbf", "\"\\\\xe0\\\\x9f\\\\xbf\"");
	EXPECT_STR("\xf0\x80\x80\xaf", "\"\\\\xf0\\\\x80\\\\x80\\\\xaf\"");
	EXPECT_STR("\xf0\x8f\xbf\xbf", "\"\\\\xf0\\\\x8f\\\\xbf\\\\xbf\"");
	/* UTF-16 surrogates */
	EXPECT_STR("\xed\xa0\x80", "\"\\\\xed\\\\xa0\\\\x80\"");
	EXPECT_STR("\xed\xbf\xbf", "\"\\\\xed\\\\xbf\\\\xbf\"");
	EXPECT_STR("\xed\xa0\xbd\xed\xb2\xa9", /* CESU-8 pair */
		   "\"\\\\xed\\\\xa0\\\\xbd\\\\xed\\\\xb2\\\\xa9\"");
	/* above U+10FFFF, and lead bytes that are never valid */
	EXPECT_STR("\xf4\x90\x80\x80", "\"\\\\xf4\\\\x90\\\\x80\\\\x80\"");
	EXPECT_STR("\xf5\x80\x80\x80", "\"\\\\xf5\\\\x80\\\\x80\\\\x80\"");
	EXPECT_STR("\xf8\x88\x80\x80\x80",
		   "\"\\\\xf8\\\\x88\\\\x80\\\\x80\\\\x80\"");
	EXPECT_STR("\xfe\xff", "\"\\\\xfe\\\\xff\"");
	/* lone continuation bytes */
	EXPECT_STR("\x80\xbf", "\"\\\\x80\\\\xbf\"");
	/* sequences cut short at the end of the string */
	EXPECT_STR("\xc3", "\"\\\\xc3\"");
	EXPECT_STR("a\xe2\x82", "\"a\\\\xe2\\\\x82\"");
	EXPECT_STR("\xf0\x9f\x98", "\"\\\\xf0\\\\x9f\\\\x98\"");
	/* ... and in the middle: decoding resumes at the next byte */
	EXPECT_STR("\xe2\x82" "A", "\"\\\\xe2\\\\x82A\"");
	EXPECT_STR("\xf0\x9f\x98\xc3\xa9", "\"\\\\xf0\\\\x9f\\\\x98\xc3\xa9\"");
	EXPECT_STR("\xff\xc3\xa9\xff", "\"\\\\xff\xc3\xa9\\\\xff\"");
	EXPECT_STR("\xc3\x22", "\"\\\\xc3\\\"\"");
}

/* Undoes the writer's \xNN convention on a decoded string. */
static size_t unzeek(const char *s, size_t n, uint8_t *out)
{
	size_t i = 0, o = 0;

	while (i < n) {
		if (i + 3 < n && s[i] == '\\' && s[i + 1] == 'x' &&
		    chk_hex(s[i + 2]) >= 0 && chk_hex(s[i + 3]) >= 0) {
			out[o++] = (uint8_t)(chk_hex(s[i + 2]) << 4 | chk_hex(s[i + 3]));
			i += 4;
		} else {
			out[o++] = (uint8_t)s[i++];
		}
	}
	return o;
}

/* Random hostile byte strings: the text is valid JSON, and decoding it and
 * then the \xNN escapes gives back the input bytes exactly. */
static void test_roundtrip_random(void **state)
{
	static const uint8_t pick[] = {
		'\\', 'x', '4', '1', 'f', '"', 0x00, 0x0a, 0x7f, 0x80, 0xbf, 0xc0,
		0xc3, 0xa9, 0xe0, 0xa0, 0xed, 0xf0, 0x90, 0xf4, 0x8f, 0xff,
	};
	uint64_t rng = 0x9e3779b97f4a7c15ull;
	char buf[2048], dec[2048];
	uint8_t in[160], back[2048];
	int iter;

	(void)state;
	for (iter = 0; iter < 20000; iter++) {
		size_t n, i, len;
		struct json j;

		rng ^= rng << 13;
		rng ^= rng >> 7;
		rng ^= rng << 17;
		n = rng % sizeof(in);
		for (i = 0; i < n; i++) {
			rng ^= rng << 13;
			rng ^= rng >> 7;
			rng ^= rng << 17;
			in[i] = rng & 0x100 ? pick[(rng >> 16) % sizeof(pick)] : (uint8_t)(rng >> 24);
		}
		json_init(&j, buf, sizeof(buf));
		json_strn(&j, NULL, in, n);
		const char *t = json_finish(&j, &len);

		assert_false(j.truncated);
		assert_true(chk_valid(t, len));

		struct chk c = { t, t + len, dec, 0, sizeof(dec) };

		assert_true(chk_string(&c));
		assert_int_equal(unzeek(dec, c.out_len, back), n);
		if (n)
			assert_memory_equal(back, in, n);
	}
}

/* ---- structure and scalars ------------------------------------------ */

static void test_nesting_and_commas(void **state)
{
	char buf[512];
	struct json j;

	(void)state;
	json_init(&j, buf, sizeof(buf));
	json_obj_begin(&j, NULL);
	json_u64(&j, "a", 1);
	json_arr_begin(&j, "b");
	json_u64(&j, NULL, 1);
	json_i64(&j, NULL, -2);
	json_obj_begin(&j, NULL);
	json_str(&j, "c", "d");
	json_obj_end(&j);
	json_arr_begin(&j, NULL);
	json_arr_end(&j);
	json_arr_end(&j);
	json_obj_begin(&j, "e");
	json_obj_end(&j);
	json_obj_begin(&j, "source");
	json_null(&j, "g");
	json_bool(&j, "h", true);
	json_bool(&j, "i", false);
	json_str(&j, "j", NULL);
	json_obj_end(&j);
	json_str(&j, "we\"ird\\key", "v");
	json_obj_end(&j);
	expect_text(&j, "{\"a\":1,\"b\":[1,-2,{\"c\":\"d\"},[]],\"e\":{},"
			"\"source\":{\"g\":null,\"h\":true,\"i\":false,\"j\":null},"
			"\"we\\\"ird\\\\key\":\"v\"}");
	assert_false(j.truncated);
	assert_false(j.misuse);
}

static void test_top_level_values(void **state)
{
	char buf[64];
	struct json j;

	(void)state;
	json_init(&j, buf, sizeof(buf));
	json_arr_begin(&j, NULL);
	json_str(&j, NULL, "x");
	json_arr_begin(&j, NULL);
	json_arr_begin(&j, NULL);
	json_arr_end(&j);
	json_arr_end(&j);
	json_u64(&j, NULL, 0);
	json_arr_end(&j);
	expect_text(&j, "[\"x\",[[]],0]");

	json_init(&j, buf, sizeof(buf));
	json_obj_begin(&j, NULL);
	json_obj_end(&j);
	expect_text(&j, "{}");

	json_init(&j, buf, sizeof(buf));
	json_u64(&j, NULL, 42);
	expect_text(&j, "42");
	assert_false(j.misuse);
}

static void test_integers(void **state)
{
	char buf[128];
	struct json j;

	(void)state;
	json_init(&j, buf, sizeof(buf));
	json_arr_begin(&j, NULL);
	json_u64(&j, NULL, 0);
	json_u64(&j, NULL, UINT64_MAX);
	json_i64(&j, NULL, INT64_MIN);
	json_i64(&j, NULL, INT64_MAX);
	json_i64(&j, NULL, 0);
	json_arr_end(&j);
	expect_text(&j, "[0,18446744073709551615,-9223372036854775808,"
			"9223372036854775807,0]");
}

static void test_doubles(void **state)
{
	char buf[256];
	struct json j;

	(void)state;
	json_init(&j, buf, sizeof(buf));
	json_arr_begin(&j, NULL);
	json_double(&j, NULL, 1.5);
	json_double(&j, NULL, 0.1);
	json_double(&j, NULL, 0.0);
	json_double(&j, NULL, -0.0);
	json_double(&j, NULL, 1e6);
	json_double(&j, NULL, 123456789.0);
	json_double(&j, NULL, 2.5e-7);
	json_double(&j, NULL, -1.7976931348623157e308);
	json_double(&j, NULL, NAN);
	json_double(&j, NULL, INFINITY);
	json_double(&j, NULL, -INFINITY);
	json_arr_end(&j);
	expect_text(&j, "[1.5,0.1,0,-0,1e+06,1.23457e+08,2.5e-07,-1.79769e+308,"
			"null,null,null]");
}

static void expect_time(uint64_t usec, const char *expect)
{
	char buf[64];
	struct json j;

	json_init(&j, buf, sizeof(buf));
	json_time(&j, NULL, usec);
	expect_text(&j, expect);
}

static void test_time_known(void **state)
{
	(void)state;
	/* Seconds checked with date -u -d @N and date -u -d DATE +%s. */
	expect_time(0, "\"1970-01-01T00:00:00.000000Z\"");
	expect_time(1, "\"1970-01-01T00:00:00.000001Z\"");
	expect_time(1700000000123456ull, "\"2023-11-14T22:13:20.123456Z\"");
	expect_time(946684799999999ull, "\"1999-12-31T23:59:59.999999Z\"");
	expect_time(951782400000000ull, "\"2000-02-29T00:00:00.000000Z\"");
	expect_time(951868800000000ull, "\"2000-03-01T00:00:00.000000Z\"");
	expect_time(1709208000000001ull, "\"2024-02-29T12:00:00.000001Z\"");
	expect_time(2147483648000000ull, "\"2038-01-19T03:14:08.000000Z\"");
	expect_time(4107542400000000ull, "\"2100-03-01T00:00:00.000000Z\"");
	expect_time(253402300799999999ull, "\"9999-12-31T23:59:59.999999Z\"");
	expect_time(253402300800000000ull, "null");
	expect_time(UINT64_MAX, "null");
}

/* The civil-date arithmetic against the C library's gmtime_r. */
static void test_time_vs_gmtime(void **state)
{
	uint64_t rng = 12345;
	char buf[64], expect[64], date[32];
	int i;

	(void)state;
	for (i = 0; i < 200000; i++) {
		struct json j;
		struct tm tm;
		time_t t;

		rng = rng * 6364136223846793005ull + 1442695040888963407ull;
		uint64_t usec = (rng >> 11) % 253402300800000000ull;

		t = (time_t)(usec / 1000000);
		assert_non_null(gmtime_r(&t, &tm));
		strftime(date, sizeof(date), "%Y-%m-%dT%H:%M:%S", &tm);
		snprintf(expect, sizeof(expect), "\"%s.%06uZ\"", date,
			 (unsigned int)(usec % 1000000));
		json_init(&j, buf, sizeof(buf));
		json_time(&j, NULL, usec);
		expect_text(&j, expect);
	}
}

static void expect_ip(int family, const uint8_t addr[16], const char *expect)
{
	char buf[64];
	struct json j;

	json_init(&j, buf, sizeof(buf));
	json_ip(&j, NULL, family, addr);
	expect_text(&j, expect);
}

static void test_ip(void **state)
{
	static const uint8_t v4[16] = { 192, 0, 2, 1, 0xaa, 0xbb };
	static const uint8_t zero[16];
	static const uint8_t v6[16] = { 0x20, 0x01, 0x0d, 0xb8, [15] = 1 };
	static const uint8_t v6_mid[16] = { 0x20, 0x01, 0x0d, 0xb8, [9] = 1, [15] = 1 };
	static const uint8_t v6_one[16] = { [15] = 1 };
	static const uint8_t v6_full[16] = {
		0xfe, 0x80, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 0x0a, 0x0b, 0x0c, 0x0d,
	};
	static const uint8_t v6_mapped[16] = { [10] = 0xff, [11] = 0xff, 192, 0, 2, 1 };

	(void)state;
	expect_ip(4, v4, "\"192.0.2.1\"");
	expect_ip(4, zero, "\"0.0.0.0\"");
	expect_ip(6, v6, "\"2001:db8::1\"");
	expect_ip(6, zero, "\"::\"");
	expect_ip(6, v6_one, "\"::1\"");
	expect_ip(6, v6_mid, "\"2001:db8::1:0:0:1\"");
	expect_ip(6, v6_full, "\"fe80:1:203:405:607:809:a0b:c0d\"");
	expect_ip(6, v6_mapped, "\"::ffff:192.0.2.1\"");
	expect_ip(0, v4, "null");
	expect_ip(10, v6, "null");
}

/* ---- overflow -------------------------------------------------------- */

static void build_record(struct json *j)
{
	static const uint8_t src[16] = { 10, 0, 0, 7 };
	static const uint8_t dst[16] = { 0x20, 0x01, 0x0d, 0xb8, [15] = 0x53 };

	json_obj_begin(j, NULL);
	json_time(j, "@timestamp", 1700000000123456ull);
	json_obj_begin(j, "source");
	json_ip(j, "ip", 4, src);
	json_u64(j, "port", 53124);
	json_obj_end(j);
	json_obj_begin(j, "destination");
	json_ip(j, "ip", 6, dst);
	json_u64(j, "port", 53);
	json_obj_end(j);
	json_obj_begin(j, "dns");
	json_strn(j, "question", "ex\xff" "ample\x01.com", 14);
	json_arr_begin(j, "answers");
	json_str(j, NULL, "192.0.2.1");
	json_obj_begin(j, NULL);
	json_arr_begin(j, "ttl");
	json_u64(j, NULL, 300);
	json_arr_end(j);
	json_obj_end(j);
	json_arr_end(j);
	json_obj_end(j);
	json_double(j, "score", 0.25);
	json_bool(j, "alert", true);
	json_obj_end(j);
}

/* text == some prefix of full, then only closers. */
static bool is_cut_of(const char *text, size_t len, const char *full)
{
	size_t k = len;

	for (;;) {
		if (strncmp(text, full, k) == 0)
			return true;
		if (k == 0 || (text[k - 1] != '}' && text[k - 1] != ']'))
			return false;
		k--;
	}
}

static void test_overflow_every_size(void **state)
{
	char big[1024];
	struct json j;
	size_t full_len, cap;

	(void)state;
	json_init(&j, big, sizeof(big));
	build_record(&j);
	const char *full = json_finish(&j, &full_len);

	assert_false(j.truncated);
	assert_false(j.misuse);
	assert_true(chk_valid(full, full_len));

	for (cap = 0; cap <= full_len + 2; cap++) {
		/* Exactly cap bytes, so that ASan sees any write past the end. */
		char *buf = cap ? malloc(cap) : NULL;
		size_t len = 99;
		const char *t;

		json_init(&j, buf, cap);
		build_record(&j);
		t = json_finish(&j, &len);
		assert_int_equal(strlen(t), len);
		assert_false(j.misuse);
		if (cap > full_len) {
			assert_false(j.truncated);
			assert_string_equal(t, full);
		} else {
			assert_true(j.truncated);
			if (cap < 3) {
				assert_string_equal(t, "");
			} else {
				assert_true(len < cap);
				assert_true(chk_valid(t, len));
				assert_true(is_cut_of(t, len, full));
			}
		}
		free(buf);
	}
}

static void test_overflow_tiny(void **state)
{
	char buf[8];
	struct json j;
	size_t len;

	(void)state;
	json_init(&j, buf, 3);
	json_obj_begin(&j, NULL);
	json_str(&j, "k", "v");
	json_obj_end(&j);
	expect_text(&j, "{}");
	assert_true(j.truncated);

	json_init(&j, buf, 2);
	json_obj_begin(&j, NULL);
	json_obj_end(&j);
	assert_string_equal(json_finish(&j, &len), "");
	assert_int_equal(len, 0);
	assert_true(j.truncated);

	json_init(&j, NULL, 0);
	json_obj_begin(&j, NULL);
	json_obj_end(&j);
	assert_string_equal(json_finish(&j, &len), "");
	assert_true(j.truncated);

	/* Deep nesting: the reserved closers always fit. */
	json_init(&j, buf, 8);
	json_arr_begin(&j, NULL);
	json_arr_begin(&j, NULL);
	json_arr_begin(&j, NULL);
	json_arr_begin(&j, NULL);
	json_arr_begin(&j, NULL);
	json_arr_end(&j);
	json_arr_end(&j);
	json_arr_end(&j);
	json_arr_end(&j);
	json_arr_end(&j);
	expect_text(&j, "[[[]]]");
	assert_true(j.truncated);
}

/* A member that does not fit is dropped whole, and nothing after it is
 * written, even if it would fit. */
static void test_overflow_drops_whole_member(void **state)
{
	char buf[32];
	char big[100];
	struct json j;

	(void)state;
	memset(big, 'A', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	json_init(&j, buf, sizeof(buf));
	json_obj_begin(&j, NULL);
	json_u64(&j, "a", 1);
	json_obj_begin(&j, "o");
	json_str(&j, "s", big);
	json_u64(&j, "b", 2);
	json_obj_end(&j);
	json_u64(&j, "c", 3);
	json_obj_end(&j);
	expect_text(&j, "{\"a\":1,\"o\":{}}");
	assert_true(j.truncated);
	assert_false(j.misuse);
}

/* ---- misuse ---------------------------------------------------------- */

static void test_misuse(void **state)
{
	char buf[256];
	struct json j;
	int i;

	(void)state;
	/* key inside an array */
	json_init(&j, buf, sizeof(buf));
	json_arr_begin(&j, NULL);
	json_u64(&j, NULL, 1);
	json_u64(&j, "k", 2);
	json_arr_end(&j);
	expect_text(&j, "[1]");
	assert_true(j.misuse);
	assert_false(j.truncated);

	/* no key inside an object */
	json_init(&j, buf, sizeof(buf));
	json_obj_begin(&j, NULL);
	json_str(&j, NULL, "v");
	json_obj_end(&j);
	expect_text(&j, "{}");
	assert_true(j.misuse);

	/* key at the top level */
	json_init(&j, buf, sizeof(buf));
	json_obj_begin(&j, "k");
	expect_text(&j, "");
	assert_true(j.misuse);

	/* mismatched and extra ends */
	json_init(&j, buf, sizeof(buf));
	json_obj_begin(&j, NULL);
	json_arr_begin(&j, "a");
	json_obj_end(&j);
	json_arr_end(&j);
	json_obj_end(&j);
	expect_text(&j, "{\"a\":[]}");
	assert_true(j.misuse);

	json_init(&j, buf, sizeof(buf));
	json_obj_begin(&j, NULL);
	json_obj_end(&j);
	json_obj_end(&j);
	expect_text(&j, "{}");
	assert_true(j.misuse);

	/* a second top-level value */
	json_init(&j, buf, sizeof(buf));
	json_obj_begin(&j, NULL);
	json_obj_end(&j);
	json_obj_begin(&j, NULL);
	json_obj_end(&j);
	expect_text(&j, "{}");
	assert_true(j.misuse);

	/* too deep */
	json_init(&j, buf, sizeof(buf));
	for (i = 0; i < JSON_MAX_DEPTH + 1; i++)
		json_arr_begin(&j, NULL);
	assert_true(j.misuse);
	assert_int_equal(j.depth, JSON_MAX_DEPTH);
	expect_text(&j, "[[[[[[[[[[[[[[[[]]]]]]]]]]]]]]]]");

	/* finishing with containers open, or with nothing written */
	json_init(&j, buf, sizeof(buf));
	json_obj_begin(&j, NULL);
	json_arr_begin(&j, "a");
	expect_text(&j, "{\"a\":[]}");
	assert_true(j.misuse);

	json_init(&j, buf, sizeof(buf));
	expect_text(&j, "");
	assert_true(j.misuse);

	/* NULL bytes with a length */
	json_init(&j, buf, sizeof(buf));
	json_arr_begin(&j, NULL);
	json_strn(&j, NULL, NULL, 0);
	json_strn(&j, NULL, NULL, 3);
	json_arr_end(&j);
	expect_text(&j, "[\"\"]");
	assert_true(j.misuse);
}

/* ---- reference: the writer before the fast paths ------------------------
 *
 * sensor/json.c as it was before it was rewritten for speed (snprintf,
 * inet_ntop and a byte-at-a-time escaper), kept verbatim but for the names.
 * The writer must give the same bytes, lengths and flags as this one for any
 * calls and any buffer size.
 */

struct ref_json {
	char *buf;
	size_t cap;
	size_t len;
	bool truncated;
	bool misuse;
	bool top_done;
	int depth;
	bool first[JSON_MAX_DEPTH];
	char closer[JSON_MAX_DEPTH];
};

static void ref_null(struct ref_json *j, const char *key);

static void ref_init(struct ref_json *j, char *buf, size_t cap)
{
	memset(j, 0, sizeof(*j));
	j->buf = buf;
	j->cap = buf ? cap : 0;
	if (j->cap > 0)
		j->buf[0] = '\0';
}

static bool ref_stopped(const struct ref_json *j)
{
	return j->truncated || j->misuse;
}

/* Room for n more bytes while `depth` closers and the NUL stay reserved. */
static bool ref_room(const struct ref_json *j, size_t n, int depth)
{
	size_t reserve = (size_t)depth + 1;

	return j->cap >= reserve && j->len <= j->cap - reserve &&
	       n <= j->cap - reserve - j->len;
}

static bool ref_put(struct ref_json *j, const void *s, size_t n)
{
	if (!ref_room(j, n, j->depth))
		return false;
	memcpy(j->buf + j->len, s, n);
	j->len += n;
	return true;
}

static bool ref_putc(struct ref_json *j, char c)
{
	return ref_put(j, &c, 1);
}

/* Length of the well-formed UTF-8 sequence (RFC 3629, table 3) of at least two
 * bytes at s, or 0 if the bytes there are not one. */
static size_t ref_utf8_len(const uint8_t *s, size_t n)
{
	uint8_t lo = 0x80, hi = 0xbf;	/* range of the second byte */
	size_t need, i;

	if (s[0] >= 0xc2 && s[0] <= 0xdf) {
		need = 2;
	} else if (s[0] >= 0xe0 && s[0] <= 0xef) {
		need = 3;
		if (s[0] == 0xe0)
			lo = 0xa0;	/* no overlong forms */
		else if (s[0] == 0xed)
			hi = 0x9f;	/* no surrogates */
	} else if (s[0] >= 0xf0 && s[0] <= 0xf4) {
		need = 4;
		if (s[0] == 0xf0)
			lo = 0x90;	/* no overlong forms */
		else if (s[0] == 0xf4)
			hi = 0x8f;	/* nothing above U+10FFFF */
	} else {
		return 0;		/* ASCII, continuation, C0, C1, F5..FF */
	}
	if (n < need || s[1] < lo || s[1] > hi)
		return 0;
	for (i = 2; i < need; i++)
		if (s[i] < 0x80 || s[i] > 0xbf)
			return 0;
	return need;
}

/* Bytes that go into the JSON text unchanged starting at s[0]: 0 if s[0] needs
 * an escape, else 1 for ASCII or the length of a UTF-8 sequence. */
static size_t ref_plain_len(const uint8_t *s, size_t n)
{
	if (s[0] >= 0x80)
		return ref_utf8_len(s, n);
	if (s[0] < 0x20 || s[0] == 0x7f || s[0] == '"')
		return 0;
	/* A backslash before 'x' is written as \x5c, so that every \xNN in the
	 * decoded string stands for one raw byte: the mapping stays lossless. */
	if (s[0] == '\\')
		return 0;
	return 1;
}

/* s[0..n) as a quoted JSON string. */
static bool ref_put_string(struct ref_json *j, const uint8_t *s, size_t n)
{
	static const char hex[] = "0123456789abcdef";
	char esc[8];
	size_t i = 0;

	if (!ref_putc(j, '"'))
		return false;
	while (i < n) {
		size_t run = i, k;

		while (run < n && (k = ref_plain_len(s + run, n - run)) > 0)
			run += k;
		if (run > i) {
			if (!ref_put(j, s + i, run - i))
				return false;
			i = run;
			continue;
		}

		uint8_t c = s[i++];
		size_t len = 2;

		esc[0] = '\\';
		switch (c) {
		case '"':
			esc[1] = '"';
			break;
		case '\n':
			esc[1] = 'n';
			break;
		case '\r':
			esc[1] = 'r';
			break;
		case '\t':
			esc[1] = 't';
			break;
		case '\\':
			if (i < n && s[i] == 'x') {
				memcpy(esc + 1, "\\x5c", 4);	/* as if a raw 0x5c byte */
				len = 5;
			} else {
				esc[1] = '\\';
			}
			break;
		default:
			if (c < 0x80) {			/* controls and DEL: \u00xx */
				memcpy(esc + 1, "u00", 3);
				esc[4] = hex[c >> 4];
				esc[5] = hex[c & 0x0f];
				len = 6;
			} else {			/* not UTF-8: \\xNN */
				memcpy(esc + 1, "\\x", 2);
				esc[3] = hex[c >> 4];
				esc[4] = hex[c & 0x0f];
				len = 5;
			}
			break;
		}
		if (!ref_put(j, esc, len))
			return false;
	}
	return ref_putc(j, '"');
}

/* Drops a half-written member and stops the writer. */
static void ref_abort(struct ref_json *j, size_t mark)
{
	j->len = mark;
	if (!j->misuse)
		j->truncated = true;
}

/*
 * Checks that a member may start here and writes its comma and key. Returns
 * false if nothing may be written (writer stopped, misuse, no room); then the
 * writer is stopped and nothing was added. *mark is where the member starts.
 */
static bool ref_start(struct ref_json *j, const char *key, size_t *mark)
{
	*mark = j->len;
	if (ref_stopped(j))
		return false;

	if (j->depth == 0) {
		if (key || j->top_done) {
			j->misuse = true;
			return false;
		}
		return true;
	}

	int top = j->depth - 1;
	bool in_obj = j->closer[top] == '}';

	if (in_obj != (key != NULL)) {
		j->misuse = true;
		return false;
	}
	if ((!j->first[top] && !ref_putc(j, ',')) ||
	    (key && (!ref_put_string(j, (const uint8_t *)key, strlen(key)) ||
		     !ref_putc(j, ':')))) {
		ref_abort(j, *mark);
		return false;
	}
	return true;
}

/* A member was written whole. */
static void ref_done(struct ref_json *j)
{
	if (j->depth == 0)
		j->top_done = true;
	else
		j->first[j->depth - 1] = false;
}

static void ref_raw(struct ref_json *j, const char *key, const char *text, size_t n)
{
	size_t mark;

	if (!ref_start(j, key, &mark))
		return;
	if (!ref_put(j, text, n)) {
		ref_abort(j, mark);
		return;
	}
	ref_done(j);
}

static void ref_begin(struct ref_json *j, const char *key, char open, char close)
{
	size_t mark;

	if (!ref_start(j, key, &mark))
		return;
	if (j->depth >= JSON_MAX_DEPTH) {
		j->misuse = true;
		ref_abort(j, mark);
		return;
	}
	/* The opener, with room kept for its closer too. */
	if (!ref_room(j, 1, j->depth + 1)) {
		ref_abort(j, mark);
		return;
	}
	j->buf[j->len++] = open;
	ref_done(j);
	j->closer[j->depth] = close;
	j->first[j->depth] = true;
	j->depth++;
}

static void ref_end(struct ref_json *j, char close)
{
	if (ref_stopped(j))
		return;
	if (j->depth == 0 || j->closer[j->depth - 1] != close) {
		j->misuse = true;
		return;
	}
	/* Always fits: a byte was reserved for it when the container opened. */
	j->depth--;
	j->buf[j->len++] = close;
}

static void ref_obj_begin(struct ref_json *j, const char *key)
{
	ref_begin(j, key, '{', '}');
}

static void ref_obj_end(struct ref_json *j)
{
	ref_end(j, '}');
}

static void ref_arr_begin(struct ref_json *j, const char *key)
{
	ref_begin(j, key, '[', ']');
}

static void ref_arr_end(struct ref_json *j)
{
	ref_end(j, ']');
}

static void ref_strn(struct ref_json *j, const char *key, const void *s, size_t n)
{
	size_t mark;

	if (s == NULL && n > 0) {
		j->misuse = true;
		return;
	}
	if (!ref_start(j, key, &mark))
		return;
	if (!ref_put_string(j, s, n)) {
		ref_abort(j, mark);
		return;
	}
	ref_done(j);
}

static void ref_str(struct ref_json *j, const char *key, const char *s)
{
	if (s == NULL)
		ref_null(j, key);
	else
		ref_strn(j, key, s, strlen(s));
}

static void ref_u64(struct ref_json *j, const char *key, uint64_t v)
{
	char tmp[24];
	int n = snprintf(tmp, sizeof(tmp), "%llu", (unsigned long long)v);

	ref_raw(j, key, tmp, (size_t)n);
}

static void ref_i64(struct ref_json *j, const char *key, int64_t v)
{
	char tmp[24];
	int n = snprintf(tmp, sizeof(tmp), "%lld", (long long)v);

	ref_raw(j, key, tmp, (size_t)n);
}

static void ref_bool(struct ref_json *j, const char *key, bool v)
{
	if (v)
		ref_raw(j, key, "true", 4);
	else
		ref_raw(j, key, "false", 5);
}

static void ref_null(struct ref_json *j, const char *key)
{
	ref_raw(j, key, "null", 4);
}

static void ref_double(struct ref_json *j, const char *key, double v)
{
	char tmp[32];
	int n, i;

	if (!isfinite(v)) {
		ref_null(j, key);
		return;
	}
	n = snprintf(tmp, sizeof(tmp), "%.6g", v);
	if (n <= 0 || (size_t)n >= sizeof(tmp)) {
		ref_null(j, key);
		return;
	}
	/* %g follows LC_NUMERIC: mend a ',' radix, refuse anything else odd. */
	for (i = 0; i < n; i++) {
		if (tmp[i] == ',') {
			tmp[i] = '.';
		} else if (!strchr("0123456789+-.e", tmp[i])) {
			ref_null(j, key);
			return;
		}
	}
	ref_raw(j, key, tmp, (size_t)n);
}

static void ref_time(struct ref_json *j, const char *key, uint64_t usec_since_epoch)
{
	uint64_t secs = usec_since_epoch / 1000000;
	unsigned int usec = (unsigned int)(usec_since_epoch % 1000000);
	unsigned int sod = (unsigned int)(secs % 86400);
	/* Days to civil date, H. Hinnant's algorithm; the epoch is day 719468 of
	 * the proleptic Gregorian calendar counted from 0000-03-01. */
	uint64_t z = secs / 86400 + 719468;
	uint64_t era = z / 146097;
	uint64_t doe = z - era * 146097;
	uint64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	uint64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	uint64_t mp = (5 * doy + 2) / 153;
	unsigned int day = (unsigned int)(doy - (153 * mp + 2) / 5 + 1);
	unsigned int mon = (unsigned int)(mp < 10 ? mp + 3 : mp - 9);
	uint64_t year = yoe + era * 400 + (mon <= 2);
	char tmp[40];
	int n;

	if (year > 9999) {
		ref_null(j, key);
		return;
	}
	n = snprintf(tmp, sizeof(tmp), "\"%04u-%02u-%02uT%02u:%02u:%02u.%06uZ\"",
		     (unsigned int)year, mon, day, sod / 3600, sod / 60 % 60, sod % 60, usec);
	ref_raw(j, key, tmp, (size_t)n);
}

static void ref_ip(struct ref_json *j, const char *key, int family, const uint8_t addr[16])
{
	char tmp[INET6_ADDRSTRLEN + 2];
	int af = family == 4 ? AF_INET : family == 6 ? AF_INET6 : -1;

	if (af < 0 || addr == NULL || !inet_ntop(af, addr, tmp + 1, INET6_ADDRSTRLEN)) {
		ref_null(j, key);
		return;
	}
	size_t n = strlen(tmp + 1);

	tmp[0] = '"';
	tmp[n + 1] = '"';
	ref_raw(j, key, tmp, n + 2);
}

static const char *ref_finish(struct ref_json *j, size_t *len)
{
	if (j->cap == 0) {
		j->truncated = true;
		if (len)
			*len = 0;
		return "";
	}
	if (!ref_stopped(j) && (j->depth > 0 || !j->top_done))
		j->misuse = true;
	/* Each closer's byte was reserved when its container opened. */
	while (j->depth > 0) {
		j->depth--;
		j->buf[j->len++] = j->closer[j->depth];
	}
	j->buf[j->len] = '\0';
	if (len)
		*len = j->len;
	return j->buf;
}

/* ---- the writer against the reference -------------------------------- */

static uint64_t rnd(uint64_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 7;
	*s ^= *s << 17;
	return *s;
}

/* Bytes that make escaping interesting: quotes, backslashes before 'x' and
 * not, controls, DEL and the edges of every UTF-8 lead and continuation range. */
static const uint8_t hostile[] = {
	'"', '\\', 'x', 'X', '4', '1', '\r', '\n', '\t', 0x00, 0x01, 0x1f, 0x20, 0x7e,
	0x7f, 0x80, 0x8f, 0x90, 0x9f, 0xa0, 0xbf, 0xc0, 0xc1, 0xc2, 0xdf, 0xe0, 0xe1,
	0xec, 0xed, 0xee, 0xef, 0xf0, 0xf1, 0xf3, 0xf4, 0xf5, 0xfe, 0xff, 'a', '.', '/',
};

/* Well-formed sequences at the edges of their ranges, near misses (overlong,
 * surrogates, above U+10FFFF, cut short) and text that looks like escapes. */
static const char *const pieces[] = {
	"\xc2\x80", "\xc3\xa9", "\xdf\xbf", "\xe0\xa0\x80", "\xe2\x82\xac", "\xed\x9f\xbf",
	"\xee\x80\x80", "\xef\xbf\xbf", "\xf0\x90\x80\x80", "\xf0\x9f\x98\x80",
	"\xf4\x8f\xbf\xbf", "\xc0\xaf", "\xc1\xbf", "\xe0\x80\xaf", "\xe0\x9f\xbf",
	"\xed\xa0\x80", "\xed\xbf\xbf", "\xf0\x80\x80\xaf", "\xf0\x8f\xbf\xbf",
	"\xf4\x90\x80\x80", "\xf5\x80\x80\x80", "\xe2\x82", "\xf0\x9f\x98", "\\x41",
	"\\\\x", "\\\"", "\r\n", "\\xff", "\\u0041", "www.example.com",
	"0123456789abcdefghijklmnop",
};

/* A random string of at most max bytes: a mix of any bytes, hostile bytes,
 * pieces and runs of plain ASCII long enough for the eight-byte scan. */
static size_t rnd_bytes(uint64_t *st, uint8_t *s, size_t max)
{
	size_t n = rnd(st) % (max + 1), i = 0;
	unsigned plain_odds = 1 + rnd(st) % 64;	/* plain bytes per odd one */

	while (i < n) {
		uint64_t r = rnd(st);
		unsigned what = (unsigned)(r % (plain_odds + 3));

		if (what == 0) {
			s[i++] = (uint8_t)(r >> 8);
		} else if (what == 1) {
			s[i++] = hostile[(r >> 8) % sizeof(hostile)];
		} else if (what == 2) {
			const char *p = pieces[(r >> 8) % (sizeof(pieces) / sizeof(pieces[0]))];
			size_t k = strlen(p);

			if (k > n - i)
				k = n - i;
			memcpy(s + i, p, k);
			i += k;
		} else {
			s[i++] = (uint8_t)(0x20 + (r >> 8) % 0x5f);
		}
	}
	return n;
}

static void same_as_ref(const struct json *j, const struct ref_json *r)
{
	assert_int_equal(j->len, r->len);
	assert_int_equal(j->truncated, r->truncated);
	assert_int_equal(j->misuse, r->misuse);
	assert_int_equal(j->depth, r->depth);
	assert_int_equal(j->top_done, r->top_done);
	if (j->len > 0)
		assert_memory_equal(j->buf, r->buf, j->len);
}

static void finish_same(struct json *j, struct ref_json *r)
{
	size_t jl = 1, rl = 2;
	const char *jt = json_finish(j, &jl), *rt = ref_finish(r, &rl);

	same_as_ref(j, r);
	assert_int_equal(jl, rl);
	assert_string_equal(jt, rt);
	if (!j->truncated && !j->misuse)
		assert_true(chk_valid(jt, jl));
}

/* s as a lone value, as a member with a JSON_KEY key, with an escaped key and
 * as a key itself, each written by both writers into buffers of cap bytes
 * (exactly, so that ASan sees any write past the end). */
static void string_vs_ref(const uint8_t *s, size_t n, size_t cap)
{
	char *jb = cap ? malloc(cap) : NULL, *rb = cap ? malloc(cap) : NULL;
	char *cs = malloc(n + 1);
	bool has_nul = memchr(s, '\0', n) != NULL;
	struct ref_json r;
	struct json j;

	memcpy(cs, s, n);
	cs[n] = '\0';

	json_init(&j, jb, cap);
	ref_init(&r, rb, cap);
	json_strn(&j, NULL, s, n);
	ref_strn(&r, NULL, s, n);
	finish_same(&j, &r);

	json_init(&j, jb, cap);
	ref_init(&r, rb, cap);
	json_obj_begin(&j, NULL);
	ref_obj_begin(&r, NULL);
	json_u64_k(&j, JSON_KEY("a"), 1);
	ref_u64(&r, "a", 1);
	json_strn_k(&j, JSON_KEY("str"), s, n);
	ref_strn(&r, "str", s, n);
	same_as_ref(&j, &r);
	json_strn(&j, "\\x\"", s, n);
	ref_strn(&r, "\\x\"", s, n);
	same_as_ref(&j, &r);
	if (!has_nul) {
		json_str_k(&j, JSON_KEY("cstr"), cs);
		ref_str(&r, "cstr", cs);
		same_as_ref(&j, &r);
		json_u64(&j, cs, 7);
		ref_u64(&r, cs, 7);
		same_as_ref(&j, &r);
		json_str(&j, "z", cs);
		ref_str(&r, "z", cs);
	}
	json_bool_k(&j, JSON_KEY("b"), true);
	ref_bool(&r, "b", true);
	json_obj_end(&j);
	ref_obj_end(&r);
	finish_same(&j, &r);

	free(cs);
	free(jb);
	free(rb);
}

static void string_vs_ref_big(const uint8_t *s, size_t n)
{
	string_vs_ref(s, n, 16 * n + 256);
}

/* Every byte, every pair of bytes, triples of hostile bytes, one odd byte at
 * every place in plain runs of every length up to 40, and random strings. */
static void test_escape_vs_ref(void **state)
{
	uint64_t st = 0x2545f4914f6cdd1dull;
	uint8_t s[256];
	size_t a, b, c, n, pos;
	int iter;

	(void)state;
	for (a = 0; a < 256; a++) {
		s[0] = (uint8_t)a;
		string_vs_ref_big(s, 1);
		for (b = 0; b < 256; b++) {
			s[1] = (uint8_t)b;
			string_vs_ref_big(s, 2);
		}
	}
	for (a = 0; a < sizeof(hostile); a++)
		for (b = 0; b < sizeof(hostile); b++)
			for (c = 0; c < sizeof(hostile); c++) {
				s[0] = hostile[a];
				s[1] = hostile[b];
				s[2] = hostile[c];
				string_vs_ref_big(s, 3);
			}
	for (n = 1; n <= 40; n++)
		for (pos = 0; pos < n; pos++)
			for (a = 0; a < sizeof(hostile); a++) {
				memset(s, 'p', n);
				s[pos] = hostile[a];
				string_vs_ref_big(s, n);
			}
	for (iter = 0; iter < 100000; iter++) {
		n = rnd_bytes(&st, s, sizeof(s));
		string_vs_ref_big(s, n);
	}
}

/* Strings cut off at every buffer size: the same bytes and flags. */
static void test_escape_truncation_vs_ref(void **state)
{
	uint64_t st = 0x9e3779b97f4a7c15ull;
	uint8_t s[96];
	int iter;

	(void)state;
	for (iter = 0; iter < 1500; iter++) {
		size_t n = rnd_bytes(&st, s, sizeof(s)), cap;

		for (cap = 0; cap <= 6 * n + 80; cap++)
			string_vs_ref(s, n, cap);
	}
}

static struct json_key plain_key(unsigned i)
{
	switch (i % 4) {
	case 0:
		return JSON_KEY("a");
	case 1:
		return JSON_KEY("port");
	case 2:
		return JSON_KEY("@timestamp");
	default:
		return JSON_KEY("registered_domain");
	}
}

static const char *const plain_keys[] = { "a", "port", "@timestamp", "registered_domain" };
static const char *const odd_keys[] = { "", "k\"q", "\\x41", "\xff\xfe", "\xc3\xa9t\xc3\xa9", "t\tb" };

static void rnd_addr(uint64_t *st, uint8_t a[16])
{
	static const uint16_t words[] = { 0, 0, 0, 1, 0xffff, 0x0db8, 0x2001, 0xfe80, 0x10 };
	int i;

	for (i = 0; i < 8; i++) {
		uint64_t r = rnd(st);
		uint16_t w = r & 1 ? words[(r >> 1) % (sizeof(words) / sizeof(words[0]))]
				   : (uint16_t)(r >> 16);

		a[2 * i] = (uint8_t)(w >> 8);
		a[2 * i + 1] = (uint8_t)w;
	}
}

/* One random call, made on both writers. Keys mostly fit the container the
 * writer is in, so that programs get somewhere before any misuse. */
static void prog_step(uint64_t *st, struct json *j, struct ref_json *r)
{
	static const int families[] = { 4, 6, 4, 6, 0, 10 };
	uint64_t x = rnd(st), v = rnd(st);
	bool in_obj = j->depth > 0 && j->closer[j->depth - 1] == '}';
	bool keyed = x % 32 == 0 ? !in_obj : in_obj;
	bool k_form = keyed && (x >> 5 & 3) != 0;
	unsigned ki = (unsigned)(x >> 7) % 4;
	const char *key = !keyed ? NULL : k_form || (x >> 9 & 1) ?
		plain_keys[ki] : odd_keys[(x >> 10) % (sizeof(odd_keys) / sizeof(odd_keys[0]))];
	struct json_key jk = plain_key(ki);
	uint8_t s[64], addr[16];
	size_t n;
	double d;

	switch ((x >> 16) % 17) {
	case 0:
	case 1:
		if (k_form)
			json_obj_begin_k(j, jk);
		else
			json_obj_begin(j, key);
		ref_obj_begin(r, key);
		break;
	case 2:
		if (k_form)
			json_arr_begin_k(j, jk);
		else
			json_arr_begin(j, key);
		ref_arr_begin(r, key);
		break;
	case 3:
	case 4:
		/* mostly the right end for the open container */
		if ((j->depth > 0 && j->closer[j->depth - 1] == '}') != ((x >> 24) % 16 == 0)) {
			json_obj_end(j);
			ref_obj_end(r);
		} else {
			json_arr_end(j);
			ref_arr_end(r);
		}
		break;
	case 5:
		n = rnd_bytes(st, s, sizeof(s) - 1);
		s[n] = '\0';
		if (k_form)
			json_str_k(j, jk, (const char *)s);
		else
			json_str(j, key, (const char *)s);
		ref_str(r, key, (const char *)s);
		break;
	case 6:
		n = rnd_bytes(st, s, sizeof(s));
		if (k_form)
			json_strn_k(j, jk, s, n);
		else
			json_strn(j, key, s, n);
		ref_strn(r, key, s, n);
		break;
	case 7:
		v >>= v % 64;
		if (k_form)
			json_u64_k(j, jk, v);
		else
			json_u64(j, key, v);
		ref_u64(r, key, v);
		break;
	case 8:
		v = x & 1 << 30 ? (uint64_t)INT64_MIN : v >> v % 64;
		json_i64(j, key, (int64_t)v);
		ref_i64(r, key, (int64_t)v);
		break;
	case 9:
		if (k_form)
			json_bool_k(j, jk, v & 1);
		else
			json_bool(j, key, v & 1);
		ref_bool(r, key, v & 1);
		break;
	case 10:
		json_null(j, key);
		ref_null(r, key);
		break;
	case 11:
		if (v & 1) {
			memcpy(&d, &v, sizeof(d));
		} else {
			d = (double)(int64_t)(v >> 20) / (double)(1 + (v & 0xfffff));
		}
		if (k_form)
			json_double_k(j, jk, d);
		else
			json_double(j, key, d);
		ref_double(r, key, d);
		break;
	case 12:
		v = x & 1 << 30 ? 253402300800000000ull - (v & 3) : v % 300000000000000000ull;
		if (k_form)
			json_time_k(j, jk, v);
		else
			json_time(j, key, v);
		ref_time(r, key, v);
		break;
	case 13:
		rnd_addr(st, addr);
		if (k_form)
			json_ip_k(j, jk, families[v % 6], addr);
		else
			json_ip(j, key, families[v % 6], addr);
		ref_ip(r, key, families[v % 6], addr);
		break;
	case 14:
		if (k_form)
			json_str_k(j, jk, NULL);
		else
			json_str(j, key, NULL);
		ref_str(r, key, NULL);
		break;
	case 15:
		n = v % 8 == 0 ? 3 : 0;		/* NULL with a length is misuse */
		if (k_form)
			json_strn_k(j, jk, NULL, n);
		else
			json_strn(j, key, NULL, n);
		ref_strn(r, key, NULL, n);
		break;
	default:
		if (k_form)
			json_ip_k(j, jk, 4, NULL);
		else
			json_ip(j, key, 4, NULL);
		ref_ip(r, key, 4, NULL);
		break;
	}
	same_as_ref(j, r);
}

/* Random call sequences (misuse included) at every buffer size up to the
 * whole text. */
static void test_calls_vs_ref(void **state)
{
	uint64_t seed = 0x6a09e667f3bcc908ull;
	char big_j[8192], big_r[8192];
	int prog;

	(void)state;
	for (prog = 0; prog < 1000; prog++) {
		uint64_t st, start = rnd(&seed);
		int steps = 1 + (int)(start % 40), k;
		struct ref_json r;
		struct json j;
		size_t full, cap;

		st = start;
		json_init(&j, big_j, sizeof(big_j));
		ref_init(&r, big_r, sizeof(big_r));
		for (k = 0; k < steps; k++)
			prog_step(&st, &j, &r);
		finish_same(&j, &r);
		full = j.len;

		for (cap = 0; cap <= full + 2; cap++) {
			char *jb = cap ? malloc(cap) : NULL, *rb = cap ? malloc(cap) : NULL;

			st = start;
			json_init(&j, jb, cap);
			ref_init(&r, rb, cap);
			for (k = 0; k < steps; k++)
				prog_step(&st, &j, &r);
			finish_same(&j, &r);
			free(jb);
			free(rb);
		}
	}
}

/* json_ip against the C library's inet_ntop: every address whose fields are
 * each one of 0, 1, ffff and 1234 (all the zero-run layouts, ::, ::1, the
 * IPv4-compatible and -mapped forms), then random ones. */
static void ip_vs_ntop(int family, const uint8_t *addr)
{
	uint8_t a[16] = { 0 };
	char want[INET6_ADDRSTRLEN + 2], buf[64];
	struct json j;
	size_t len;

	memcpy(a, addr, family == 4 ? 4 : 16);
	want[0] = '"';
	assert_non_null(inet_ntop(family == 4 ? AF_INET : AF_INET6, a, want + 1,
				  INET6_ADDRSTRLEN));
	strcat(want, "\"");
	json_init(&j, buf, sizeof(buf));
	json_ip(&j, NULL, family, a);
	assert_string_equal(json_finish(&j, &len), want);
	assert_int_equal(len, strlen(want));
}

static void test_ip_vs_inet_ntop(void **state)
{
	static const uint16_t words[] = { 0, 1, 0xffff, 0x1234 };
	uint64_t st = 0xbb67ae8584caa73bull;
	uint8_t a[16];
	unsigned combo, i;

	(void)state;
	for (combo = 0; combo < 1u << 16; combo++) {
		for (i = 0; i < 8; i++) {
			uint16_t w = words[combo >> (2 * i) & 3];

			a[2 * i] = (uint8_t)(w >> 8);
			a[2 * i + 1] = (uint8_t)w;
		}
		ip_vs_ntop(6, a);
		ip_vs_ntop(4, a + 12);
	}
	for (i = 0; i < 200000; i++) {
		rnd_addr(&st, a);
		ip_vs_ntop(6, a);
		ip_vs_ntop(4, a + 12);
		memset(a, 0, 12);
		if (i & 1)
			a[10] = a[11] = 0xff;
		ip_vs_ntop(6, a);
	}
	for (i = 0; i < 256; i++) {
		memset(a, (int)i, 4);
		ip_vs_ntop(4, a);
		a[0] = 0;
		a[3] = 255;
		ip_vs_ntop(4, a);
	}
}

/* A JSON_KEY key gives the text the plain key gives. */
static void test_json_key(void **state)
{
	static const uint8_t v4[16] = { 192, 0, 2, 1 };
	char a[256], b[256];
	struct json j, k;
	size_t la, lb;

	(void)state;
	json_init(&j, a, sizeof(a));
	json_init(&k, b, sizeof(b));
	json_obj_begin(&j, NULL);
	json_obj_begin(&k, NULL);
	json_obj_begin_k(&j, JSON_KEY("o"));
	json_obj_begin(&k, "o");
	json_arr_begin_k(&j, JSON_KEY("arr"));
	json_arr_begin(&k, "arr");
	json_str(&j, NULL, "network");
	json_str(&k, NULL, "network");
	json_arr_end(&j);
	json_arr_end(&k);
	json_str_k(&j, JSON_KEY("s"), "x\"y");
	json_str(&k, "s", "x\"y");
	json_strn_k(&j, JSON_KEY("sn"), "a\0b", 3);
	json_strn(&k, "sn", "a\0b", 3);
	json_u64_k(&j, JSON_KEY("u"), UINT64_MAX);
	json_u64(&k, "u", UINT64_MAX);
	json_bool_k(&j, JSON_KEY("t"), false);
	json_bool(&k, "t", false);
	json_double_k(&j, JSON_KEY("d"), 0.5);
	json_double(&k, "d", 0.5);
	json_time_k(&j, JSON_KEY("@timestamp"), 1);
	json_time(&k, "@timestamp", 1);
	json_ip_k(&j, JSON_KEY("ip"), 4, v4);
	json_ip(&k, "ip", 4, v4);
	json_obj_end(&j);
	json_obj_end(&k);
	json_obj_end(&j);
	json_obj_end(&k);
	assert_string_equal(json_finish(&j, &la), json_finish(&k, &lb));
	assert_int_equal(la, lb);
	assert_false(j.misuse || j.truncated);
	assert_true(chk_valid(a, la));

	/* outside an object it is misuse, like any key */
	json_init(&j, a, sizeof(a));
	json_arr_begin(&j, NULL);
	json_u64_k(&j, JSON_KEY("u"), 1);
	json_arr_end(&j);
	expect_text(&j, "[]");
	assert_true(j.misuse);
}

/* The checker itself must reject what RFC 8259 and UTF-8 reject. */
static void test_checker_rejects(void **state)
{
	static const char *const bad[] = {
		"", "{", "[1,]", "{\"a\"}", "{\"a\":}", "{a:1}", "01", "1.", ".5",
		"-", "1e", "+1", "\"\x01\"", "\"\\x41\"", "\"\\ud800\"",
		"\"\\udc00\"", "\"\xc0\xaf\"", "\"\xed\xa0\x80\"", "\"\xf4\x90\x80\x80\"",
		"\"\xe2\x82\"", "tru", "nul", "[1]x", "{}{}", "\"abc",
		"[\"\\u00\"]",
	};
	const char *good;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		if (chk_valid(bad[i], strlen(bad[i])))
			fail_msg("checker accepted %s", bad[i]);
	good = "{\"a\":[1,-0.5e+3,true,null,\"\\ud83d\\ude00\\/\"]}";
	assert_true(chk_valid(good, strlen(good)));
}

/* json_resume: after a cut, close down to a container still open and write there, in
 * room held back at json_init; nothing without a cut or below the open depth. */
static void test_resume_after_cut(void **state)
{
	(void)state;
	char buf[64];
	struct json j;
	size_t len;

	/* no cut: nothing to resume */
	json_init(&j, buf, sizeof(buf));
	json_obj_begin(&j, NULL);
	assert_false(json_resume(&j, 1, 0));
	json_obj_end(&j);
	expect_text(&j, "{}");

	/* cut inside {"a":{"b":[...: back to "a", with 16 more bytes than json_init got */
	json_init(&j, buf, 24);
	json_obj_begin(&j, NULL);
	json_obj_begin(&j, "a");
	json_arr_begin(&j, "b");
	json_str(&j, NULL, "0123456789");
	assert_true(j.truncated);
	assert_false(json_resume(&j, 4, 16)); /* only 3 containers are open */
	assert_true(j.truncated);
	assert_true(json_resume(&j, 2, 16));
	assert_false(j.truncated);
	json_bool(&j, "cut", true);
	json_obj_end(&j);
	json_obj_end(&j);
	const char *t = json_finish(&j, &len);
	assert_string_equal(t, "{\"a\":{\"b\":[],\"cut\":true}}");
	assert_true(chk_valid(t, len));
	assert_true(len < 24 + 16);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_checker_rejects),
		cmocka_unit_test(test_resume_after_cut),
		cmocka_unit_test(test_every_byte),
		cmocka_unit_test(test_ascii_escapes),
		cmocka_unit_test(test_utf8_valid),
		cmocka_unit_test(test_utf8_invalid),
		cmocka_unit_test(test_roundtrip_random),
		cmocka_unit_test(test_nesting_and_commas),
		cmocka_unit_test(test_top_level_values),
		cmocka_unit_test(test_integers),
		cmocka_unit_test(test_doubles),
		cmocka_unit_test(test_time_known),
		cmocka_unit_test(test_time_vs_gmtime),
		cmocka_unit_test(test_ip),
		cmocka_unit_test(test_overflow_every_size),
		cmocka_unit_test(test_overflow_tiny),
		cmocka_unit_test(test_overflow_drops_whole_member),
		cmocka_unit_test(test_misuse),
		cmocka_unit_test(test_json_key),
		cmocka_unit_test(test_ip_vs_inet_ntop),
		cmocka_unit_test(test_escape_vs_ref),
		cmocka_unit_test(test_escape_truncation_vs_ref),
		cmocka_unit_test(test_calls_vs_ref),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
