/* test_json.c: unit tests for the bounded JSON writer (sensor/json.c).
 * Expected texts are written by hand from RFC 8259; every output is also run
 * through a strict RFC 8259 + UTF-8 checker defined below.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "json.h"

/* ---- strict checker -------------------------------------------------- */

struct chk {
	const char *p;
	const char *end;
	char *out;		/* decoded string value, if not NULL */
	size_t out_len;
	size_t out_cap;
};

static void chk_emit(struct chk *c, const void *s, size_t n)
{
	if (c->out == NULL)
		return;
	assert_true(c->out_len + n <= c->out_cap);
	memcpy(c->out + c->out_len, s, n);
	c->out_len += n;
}

static void chk_emit_cp(struct chk *c, uint32_t cp)
{
	uint8_t u[4];
	size_t n;

	if (cp < 0x80) {
		u[0] = (uint8_t)cp;
		n = 1;
	} else if (cp < 0x800) {
		u[0] = (uint8_t)(0xc0 | cp >> 6);
		u[1] = (uint8_t)(0x80 | (cp & 0x3f));
		n = 2;
	} else if (cp < 0x10000) {
		u[0] = (uint8_t)(0xe0 | cp >> 12);
		u[1] = (uint8_t)(0x80 | (cp >> 6 & 0x3f));
		u[2] = (uint8_t)(0x80 | (cp & 0x3f));
		n = 3;
	} else {
		u[0] = (uint8_t)(0xf0 | cp >> 18);
		u[1] = (uint8_t)(0x80 | (cp >> 12 & 0x3f));
		u[2] = (uint8_t)(0x80 | (cp >> 6 & 0x3f));
		u[3] = (uint8_t)(0x80 | (cp & 0x3f));
		n = 4;
	}
	chk_emit(c, u, n);
}

/* Decodes one UTF-8 scalar value by arithmetic (independent of the writer's
 * table): rejects overlong forms, surrogates and values above U+10FFFF. */
static bool chk_utf8(struct chk *c)
{
	const uint8_t *s = (const uint8_t *)c->p;
	size_t avail = (size_t)(c->end - c->p), n, i;
	uint32_t cp, min;

	if (s[0] < 0x80)
		return false;
	if ((s[0] & 0xe0) == 0xc0) {
		n = 2;
		cp = s[0] & 0x1f;
		min = 0x80;
	} else if ((s[0] & 0xf0) == 0xe0) {
		n = 3;
		cp = s[0] & 0x0f;
		min = 0x800;
	} else if ((s[0] & 0xf8) == 0xf0) {
		n = 4;
		cp = s[0] & 0x07;
		min = 0x10000;
	} else {
		return false;
	}
	if (avail < n)
		return false;
	for (i = 1; i < n; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return false;
		cp = cp << 6 | (s[i] & 0x3f);
	}
	if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
		return false;
	chk_emit(c, s, n);
	c->p += n;
	return true;
}

static int chk_hex(char ch)
{
	if (ch >= '0' && ch <= '9')
		return ch - '0';
	if (ch >= 'a' && ch <= 'f')
		return ch - 'a' + 10;
	if (ch >= 'A' && ch <= 'F')
		return ch - 'A' + 10;
	return -1;
}

static bool chk_u4(struct chk *c, uint32_t *v)
{
	int i, h;

	if (c->end - c->p < 4)
		return false;
	*v = 0;
	for (i = 0; i < 4; i++) {
		h = chk_hex(c->p[i]);
		if (h < 0)
			return false;
		*v = *v << 4 | (uint32_t)h;
	}
	c->p += 4;
	return true;
}

static bool chk_string(struct chk *c)
{
	if (c->p >= c->end || *c->p != '"')
		return false;
	c->p++;
	while (c->p < c->end) {
		unsigned char ch = (unsigned char)*c->p;
		uint32_t cp, lo;

		if (ch == '"') {
			c->p++;
			return true;
		}
		if (ch < 0x20)
			return false;
		if (ch >= 0x80) {
			if (!chk_utf8(c))
				return false;
			continue;
		}
		if (ch != '\\') {
			chk_emit(c, &ch, 1);
			c->p++;
			continue;
		}
		if (++c->p >= c->end)
			return false;
		ch = (unsigned char)*c->p++;
		switch (ch) {
		case '"': case '\\': case '/':
			chk_emit(c, &ch, 1);
			break;
		case 'b':
			chk_emit(c, "\b", 1);
			break;
		case 'f':
			chk_emit(c, "\f", 1);
			break;
		case 'n':
			chk_emit(c, "\n", 1);
			break;
		case 'r':
			chk_emit(c, "\r", 1);
			break;
		case 't':
			chk_emit(c, "\t", 1);
			break;
		case 'u':
			if (!chk_u4(c, &cp))
				return false;
			if (cp >= 0xdc00 && cp <= 0xdfff)
				return false;	/* lone low surrogate */
			if (cp >= 0xd800 && cp <= 0xdbff) {
				if (c->end - c->p < 2 || c->p[0] != '\\' || c->p[1] != 'u')
					return false;
				c->p += 2;
				if (!chk_u4(c, &lo) || lo < 0xdc00 || lo > 0xdfff)
					return false;
				cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
			}
			chk_emit_cp(c, cp);
			break;
		default:
			return false;
		}
	}
	return false;
}

static bool chk_digits(struct chk *c)
{
	const char *s = c->p;

	while (c->p < c->end && *c->p >= '0' && *c->p <= '9')
		c->p++;
	return c->p > s;
}

static bool chk_number(struct chk *c)
{
	if (c->p < c->end && *c->p == '-')
		c->p++;
	if (c->p < c->end && *c->p == '0')
		c->p++;
	else if (c->p >= c->end || *c->p < '1' || *c->p > '9' || !chk_digits(c))
		return false;
	if (c->p < c->end && *c->p == '.') {
		c->p++;
		if (!chk_digits(c))
			return false;
	}
	if (c->p < c->end && (*c->p == 'e' || *c->p == 'E')) {
		c->p++;
		if (c->p < c->end && (*c->p == '+' || *c->p == '-'))
			c->p++;
		if (!chk_digits(c))
			return false;
	}
	return true;
}

static bool chk_lit(struct chk *c, const char *w)
{
	size_t n = strlen(w);

	if ((size_t)(c->end - c->p) < n || memcmp(c->p, w, n) != 0)
		return false;
	c->p += n;
	return true;
}

static bool chk_value(struct chk *c, int depth);

/* Containers; the writer emits no whitespace, so none is accepted. */
static bool chk_members(struct chk *c, int depth, char close, bool keyed)
{
	c->p++;
	if (c->p < c->end && *c->p == close) {
		c->p++;
		return true;
	}
	for (;;) {
		if (keyed) {
			char *save = c->out;

			c->out = NULL;
			bool ok = chk_string(c);

			c->out = save;
			if (!ok || c->p >= c->end || *c->p++ != ':')
				return false;
		}
		if (!chk_value(c, depth + 1) || c->p >= c->end)
			return false;
		if (*c->p == close) {
			c->p++;
			return true;
		}
		if (*c->p++ != ',')
			return false;
	}
}

static bool chk_value(struct chk *c, int depth)
{
	if (depth > 64 || c->p >= c->end)
		return false;
	switch (*c->p) {
	case '{':
		return chk_members(c, depth, '}', true);
	case '[':
		return chk_members(c, depth, ']', false);
	case '"':
		return chk_string(c);
	case 't':
		return chk_lit(c, "true");
	case 'f':
		return chk_lit(c, "false");
	case 'n':
		return chk_lit(c, "null");
	default:
		return chk_number(c);
	}
}

/* True if s[0..n) is exactly one JSON value, valid UTF-8, with no NUL. */
static bool chk_valid(const char *s, size_t n)
{
	struct chk c = { s, s + n, NULL, 0, 0 };

	if (memchr(s, '\0', n))
		return false;
	return chk_value(&c, 0) && c.p == c.end;
}

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

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_checker_rejects),
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
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
