/* test_l7_smtp.c: unit tests of the SMTP line parser (sensor/l7-smtp.c) on RFC 5321
 * examples and captured lines, and of the shared L7 helpers (sensor/l7-util.c). */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "l7-smtp.h"
#include "l7-robust.h"

/* zeek/smtp.pcap frame 6 (tcp.payload): a 3-line 220 greeting */
static const char cap_greeting[] =
	"220-xc90.websitewelcome.com ESMTP Exim 4.69 #1 Mon, 05 Oct 2009 01:05:54 -0500 \r\n"
	"220-We do not authorize the use of this system to transport unsolicited, \r\n"
	"220 and/or bulk e-mail.\r\n";
/* zeek/smtp.pcap frame 9: the EHLO reply */
static const char cap_ehlo_reply[] = "250-xc90.websitewelcome.com Hello GP [122.162.143.157]\r\n"
				     "250-SIZE 52428800\r\n"
				     "250-PIPELINING\r\n"
				     "250-AUTH PLAIN LOGIN\r\n"
				     "250-STARTTLS\r\n"
				     "250 HELP\r\n";

static enum l7_result cmd_n(const void *p, size_t n, struct l7_smtp_cmd *c)
{
	uint8_t *copy = malloc(n ? n : 1);
	enum l7_result r;

	assert_non_null(copy);
	if (n)
		memcpy(copy, p, n);
	r = l7_smtp_client_line(copy, n, c);
	free(copy);
	return r;
}

static enum l7_result cmd(const char *s, struct l7_smtp_cmd *c)
{
	return cmd_n(s, strlen(s), c);
}

static enum l7_result reply_n(const void *p, size_t n, struct l7_smtp_reply *r)
{
	uint8_t *copy = malloc(n ? n : 1);
	enum l7_result res;

	assert_non_null(copy);
	if (n)
		memcpy(copy, p, n);
	res = l7_smtp_server_line(copy, n, r);
	free(copy);
	return res;
}

static enum l7_result reply(const char *s, struct l7_smtp_reply *r)
{
	return reply_n(s, strlen(s), r);
}

/* Client lines from zeek/smtp.pcap (frames 7, 10, 16, 18, 20, 54, 68) and
 * ndpi/smtp.pcap (frames 9, 11, 13); tshark smtp.req.command / smtp.req.parameter. */
static void test_captured_commands(void **state)
{
	struct l7_smtp_cmd c;

	(void)state;
	assert_int_equal(cmd("EHLO GP\r\n", &c), L7_OK);
	assert_string_equal(c.verb, "EHLO");
	assert_string_equal(c.arg, "GP");
	assert_int_equal(cmd("AUTH LOGIN\r\n", &c), L7_OK);
	assert_string_equal(c.verb, "AUTH");
	assert_string_equal(c.arg, "LOGIN");
	assert_int_equal(cmd("MAIL FROM: <gurpartap@patriots.in>\r\n", &c), L7_OK);
	assert_string_equal(c.verb, "MAIL");
	assert_string_equal(c.arg, "gurpartap@patriots.in");
	assert_int_equal(cmd("RCPT TO: <raj_deol2002in@yahoo.co.in>\r\n", &c), L7_OK);
	assert_string_equal(c.verb, "RCPT");
	assert_string_equal(c.arg, "raj_deol2002in@yahoo.co.in");
	assert_int_equal(cmd("DATA\r\n", &c), L7_OK);
	assert_string_equal(c.verb, "DATA");
	assert_string_equal(c.arg, "");
	assert_int_equal(cmd("QUIT\r\n", &c), L7_OK);
	assert_int_equal(cmd("EHLO [192.168.133.100]\r\n", &c), L7_OK);
	assert_string_equal(c.arg, "[192.168.133.100]");
	assert_int_equal(cmd("HELO delta.peach.mil\r\n", &c), L7_OK);
	assert_string_equal(c.verb, "HELO");
	assert_string_equal(c.arg, "delta.peach.mil");
	assert_int_equal(cmd("MAIL From:<coreys@delta.peach.mil>\r\n", &c), L7_OK);
	assert_string_equal(c.arg, "coreys@delta.peach.mil");
	assert_int_equal(cmd("RCPT To:<camronm@pigeon.eyrie.af.mil>\r\n", &c), L7_OK);
	assert_string_equal(c.arg, "camronm@pigeon.eyrie.af.mil");
	/* the AUTH LOGIN exchange's base64 lines are not commands (frames 12, 14) */
	assert_int_equal(cmd("Z3VycGFydGFwQHBhdHJpb3RzLmlu\r\n", &c), L7_NOT_THIS);
	assert_int_equal(cmd("cHVuamFiQDEyMw==\r\n", &c), L7_NOT_THIS);
}

/* RFC 5321 4.1.1: paths, parameters, the null reverse-path, other verbs. */
static void test_rfc_commands(void **state)
{
	struct l7_smtp_cmd c;
	char lng[400];

	(void)state;
	assert_int_equal(cmd("MAIL FROM:<Smith@bar.com> SIZE=1000 BODY=8BITMIME\r\n", &c), L7_OK);
	assert_string_equal(c.arg, "Smith@bar.com");
	assert_int_equal(cmd("MAIL FROM:<>\r\n", &c), L7_OK); /* 4.5.5: bounces */
	assert_string_equal(c.arg, "");
	assert_int_equal(cmd("RCPT TO:<@hosta.int,@jkl.org:userc@d.bar.org>\r\n", &c), L7_OK);
	assert_string_equal(c.arg, "@hosta.int,@jkl.org:userc@d.bar.org");
	assert_int_equal(cmd("rcpt to:<Postmaster>", &c), L7_OK);
	assert_string_equal(c.verb, "RCPT");
	assert_string_equal(c.arg, "Postmaster");
	assert_int_equal(cmd("ehlo mail.example.org", &c), L7_OK);
	assert_string_equal(c.verb, "EHLO");
	assert_int_equal(cmd("STARTTLS\r\n", &c), L7_OK);
	assert_string_equal(c.verb, "STARTTLS");
	assert_int_equal(cmd("BDAT 1000 LAST\r\n", &c), L7_OK);
	assert_string_equal(c.verb, "BDAT");
	assert_int_equal(cmd("VRFY Smith\r\n", &c), L7_OK);
	assert_string_equal(c.arg, "Smith");
	assert_int_equal(cmd("RSET\r\n", &c), L7_OK);
	assert_int_equal(cmd("NOOP\r\n", &c), L7_OK);

	/* AUTH keeps the mechanism only, never the initial response (RFC 4954 4) */
	assert_int_equal(cmd("AUTH PLAIN dGVzdAB0ZXN0AHRlc3Q=\r\n", &c), L7_OK);
	assert_string_equal(c.arg, "PLAIN");

	memset(lng, 'q', sizeof(lng));
	memcpy(lng, "MAIL FROM:<", 11);
	memcpy(lng + sizeof(lng) - 4, ">\r\n", 4);
	assert_int_equal(cmd(lng, &c), L7_OK);
	assert_true(c.arg_truncated);
	assert_int_equal(strlen(c.arg), L7_SMTP_ARG_MAX);
}

static void test_malformed_and_not_this(void **state)
{
	struct l7_smtp_cmd c;

	(void)state;
	assert_int_equal(cmd("HELO\r\n", &c), L7_MALFORMED);
	assert_string_equal(c.verb, "HELO");
	assert_int_equal(cmd("EHLO   \r\n", &c), L7_MALFORMED);
	assert_int_equal(cmd("MAIL\r\n", &c), L7_MALFORMED);
	assert_int_equal(cmd("MAIL TO:<a@b>\r\n", &c), L7_MALFORMED);
	assert_int_equal(cmd("MAIL FROM:\r\n", &c), L7_MALFORMED);
	assert_int_equal(cmd("MAIL FROM:a@b.example\r\n", &c), L7_MALFORMED);
	assert_string_equal(c.arg, "a@b.example");
	assert_int_equal(cmd("RCPT TO:<a@b.example\r\n", &c), L7_MALFORMED);
	assert_string_equal(c.arg, "a@b.example");
	assert_int_equal(cmd("AUTH\r\n", &c), L7_MALFORMED);

	assert_int_equal(cmd("", &c), L7_NOT_THIS);
	assert_int_equal(cmd("Subject: hello\r\n", &c), L7_NOT_THIS);
	assert_int_equal(cmd("MAILX FROM:<a@b>\r\n", &c), L7_NOT_THIS);
	assert_int_equal(cmd(".\r\n", &c), L7_NOT_THIS);
	assert_int_equal(cmd("GET / HTTP/1.1\r\n", &c), L7_NOT_THIS);
	assert_int_equal(l7_smtp_client_line(NULL, 0, &c), L7_NOT_THIS);
}

/* RFC 5321 4.2: reply lines, split out of captured multi-line replies. */
static void test_replies(void **state)
{
	static const uint16_t want_more[] = { 1, 1, 1, 1, 1, 0 };
	struct l7_smtp_reply r;
	struct cur c;
	const uint8_t *line;
	size_t len;
	int i;

	(void)state;
	c = cur_make((const uint8_t *)cap_greeting, strlen(cap_greeting));
	for (i = 0; l7_next_line(&c, &line, &len); i++) {
		assert_int_equal(reply_n(line, len, &r), L7_OK);
		assert_int_equal(r.code, 220);
		assert_int_equal(r.more, i < 2);
	}
	assert_int_equal(i, 3);

	c = cur_make((const uint8_t *)cap_ehlo_reply, strlen(cap_ehlo_reply));
	for (i = 0; l7_next_line(&c, &line, &len); i++) {
		assert_int_equal(reply_n(line, len, &r), L7_OK);
		assert_int_equal(r.code, 250);
		assert_int_equal(r.more, want_more[i]);
	}
	assert_int_equal(i, 6);

	assert_int_equal(reply("334 VXNlcm5hbWU6\r\n", &r), L7_OK); /* zeek/smtp.pcap 11 */
	assert_int_equal(r.code, 334);
	assert_int_equal(reply("354 Enter message, ending with \".\" on a line by itself\r\n",
			       &r),
			 L7_OK);
	assert_int_equal(reply("554", &r), L7_OK);
	assert_int_equal(r.code, 554);
	assert_int_equal(reply("150 x", &r), L7_MALFORMED);
	assert_int_equal(reply("600 x", &r), L7_MALFORMED);
	assert_int_equal(reply("25O OK", &r), L7_NOT_THIS);
	assert_int_equal(reply("2500 OK", &r), L7_NOT_THIS);
	assert_int_equal(reply("", &r), L7_NOT_THIS);
	assert_int_equal(l7_smtp_server_line(NULL, 0, &r), L7_NOT_THIS);
}

/* ---- the shared helpers of l7.h ---- */

static void test_util_next_line(void **state)
{
	static const char text[] = "one\r\ntwo\nthree\r\r\n\nlast";
	struct cur c = cur_make((const uint8_t *)text, strlen(text));
	const uint8_t *line;
	size_t len;

	(void)state;
	assert_true(l7_next_line(&c, &line, &len));
	assert_int_equal(len, 3);
	assert_memory_equal(line, "one", 3);
	assert_true(l7_next_line(&c, &line, &len));
	assert_memory_equal(line, "two", len);
	assert_true(l7_next_line(&c, &line, &len));
	assert_int_equal(len, 6); /* "three\r": only the CR right before LF goes */
	assert_true(l7_next_line(&c, &line, &len));
	assert_int_equal(len, 0);
	assert_int_equal(c.off, strlen(text) - 4);
	assert_false(l7_next_line(&c, &line, &len));
	assert_int_equal(c.off, strlen(text) - 4); /* unchanged: "last" is incomplete */

	c = cur_make(NULL, 0);
	assert_false(l7_next_line(&c, &line, &len));
	c = cur_make((const uint8_t *)"\n", 1);
	assert_true(l7_next_line(&c, &line, &len));
	assert_int_equal(len, 0);
	c = cur_make((const uint8_t *)"\r\n", 2);
	assert_true(l7_next_line(&c, &line, &len));
	assert_int_equal(len, 0);
}

static void test_util_copy(void **state)
{
	static const uint8_t src[] = { 'A', 'b', 0, 0xc3, 0xa9, 'Z' };
	char d[8];
	char small[4];
	size_t pos = 0;

	(void)state;
	assert_true(l7_copy_str(d, sizeof(d), src, sizeof(src), false));
	assert_memory_equal(d, "Ab?\xc3\xa9Z", 7);
	assert_true(l7_copy_str(d, sizeof(d), src, sizeof(src), true));
	assert_memory_equal(d, "ab?\xc3\xa9z", 7);
	assert_false(l7_copy_str(small, sizeof(small), src, sizeof(src), false));
	assert_string_equal(small, "Ab?");
	assert_true(l7_copy_str(small, sizeof(small), src, 0, false));
	assert_string_equal(small, "");
	assert_false(l7_copy_str(small, 0, src, 1, false));
	assert_true(l7_copy_str(small, 0, src, 0, false));

	assert_true(l7_str_append(d, sizeof(d), &pos, (const uint8_t *)"abc", 3, false));
	assert_true(l7_str_append(d, sizeof(d), &pos, (const uint8_t *)",DE", 3, true));
	assert_int_equal(pos, 6);
	assert_false(l7_str_append(d, sizeof(d), &pos, (const uint8_t *)"fgh", 3, false));
	assert_int_equal(pos, 7);
	assert_string_equal(d, "abc,def");
}

/* l7_str_append() copies several bytes at a time: every byte value, at every position of
 * spans of 0 to 40 bytes, appended at several offsets into buffers of several sizes,
 * must come out as the byte-by-byte rule says (NUL -> '?', A-Z -> a-z if lower, cut at
 * dstsz - 1, NUL-terminated, nothing written past the end). */
static void test_util_append_bytes(void **state)
{
	uint8_t src[40];
	char d[64], want[64];

	(void)state;
	for (unsigned b = 0; b < 256; b++) {
		for (size_t n = 0; n <= sizeof(src); n++) {
			for (size_t i = 0; i < n; i++)
				src[i] = (uint8_t)(i * 37 + 'A' - 3); /* around the A-Z edges */
			if (n)
				src[b % n] = (uint8_t)b;
			for (int lower = 0; lower < 2; lower++) {
				static const size_t sizes[] = { 1, 2, 9, 17, 33, 48, 60 };
				for (size_t k = 0; k < sizeof(sizes) / sizeof(sizes[0]); k++) {
					size_t dstsz = sizes[k], at0 = (b + n) % 12, pos = at0, wpos;
					bool fits, wfits;

					memset(d, 'x', sizeof(d));
					memset(want, 'x', sizeof(want));
					wpos = at0 >= dstsz ? dstsz - 1 : at0;
					size_t i;
					for (i = 0; i < n && wpos < dstsz - 1; i++) {
						uint8_t ch = src[i];
						if (ch == 0)
							ch = '?';
						else if (lower && ch >= 'A' && ch <= 'Z')
							ch = (uint8_t)(ch + 32);
						want[wpos++] = (char)ch;
					}
					want[wpos] = '\0';
					wfits = i == n;
					fits = l7_str_append(d, dstsz, &pos, src, n, lower != 0);
					assert_int_equal(fits, wfits);
					assert_int_equal(pos, wpos);
					assert_memory_equal(d, want, sizeof(d));
				}
			}
		}
	}
}

static void test_util_misc(void **state)
{
	uint64_t v;
	const uint8_t *p = (const uint8_t *)" \t a b \t";
	size_t n = 8;

	(void)state;
	assert_true(l7_parse_u64((const uint8_t *)"0", 1, &v));
	assert_true(v == 0);
	assert_true(l7_parse_u64((const uint8_t *)"18446744073709551615", 20, &v));
	assert_true(v == UINT64_MAX);
	assert_true(l7_parse_u64((const uint8_t *)"18446744073709551616", 20, &v));
	assert_true(v == UINT64_MAX);
	assert_false(l7_parse_u64((const uint8_t *)"", 0, &v));
	assert_false(l7_parse_u64((const uint8_t *)"1 ", 2, &v));
	assert_false(l7_parse_u64((const uint8_t *)"+1", 2, &v));

	l7_trim_ws(&p, &n);
	assert_int_equal(n, 3);
	assert_memory_equal(p, "a b", 3);
	{
		const uint8_t *np = NULL;
		size_t nn = 5;
		struct cur c = cur_make((const uint8_t *)" \t x", 4);

		l7_trim_ws(&np, &nn); /* an absent span is empty */
		assert_null(np);
		assert_int_equal(nn, 0);
		assert_true(l7_span_iprefix(NULL, 3, ""));
		assert_false(l7_span_iprefix(NULL, 3, "a"));
		assert_true(l7_span_ieq((const uint8_t *)"HoSt", 4, "host"));
		assert_false(l7_span_ieq((const uint8_t *)"hosts", 5, "host"));
		assert_false(l7_span_iprefix((const uint8_t *)"ho", 2, "host"));
		l7_cur_skip_ws(&c);
		assert_int_equal(c.off, 3);
		c = cur_make((const uint8_t *)" \t x", 4);
		(void)cur_peek_u8(&c, 9); /* in error, still at 0 */
		l7_cur_skip_ws(&c);
		assert_int_equal(c.off, 0);
	}
	p = (const uint8_t *)"  ";
	n = 2;
	l7_trim_ws(&p, &n);
	assert_int_equal(n, 0);

	p = (const uint8_t *)"x\r\n";
	n = 3;
	l7_strip_eol(&p, &n);
	assert_int_equal(n, 1);
	n = 2;
	l7_strip_eol(&p, &n);
	assert_int_equal(n, 1);

	assert_true(l7_span_ieq((const uint8_t *)"HoSt", 4, "host"));
	assert_false(l7_span_ieq((const uint8_t *)"Hos", 3, "host"));
	assert_true(l7_span_iprefix((const uint8_t *)"FROM:<x>", 8, "from:"));
	assert_false(l7_span_iprefix((const uint8_t *)"FRO", 3, "from:"));
}

/* ---- robustness: every prefix and random mutations ---- */

static struct l7_rng fuzz_rng;

static void check_any(const uint8_t *p, size_t n, void *ctx)
{
	struct l7_smtp_cmd c;
	struct l7_smtp_reply r;

	(void)ctx;
	assert_in_range(cmd_n(p, n, &c), L7_OK, L7_MALFORMED);
	assert_true(strlen(c.verb) <= L7_SMTP_VERB_MAX);
	assert_true(strlen(c.arg) <= L7_SMTP_ARG_MAX);
	assert_in_range(reply_n(p, n, &r), L7_OK, L7_MALFORMED);
}

static void fuzz_one(const char *s, unsigned rounds)
{
	static const uint8_t specials[] = { '<', '>', ':', ' ', '\r', '\n', '-', 0 };

	l7_robust_text(s, strlen(s), &fuzz_rng, (int)rounds, specials, sizeof(specials), check_any,
		       NULL);
}

static void test_fuzz(void **state)
{
	(void)state;
	l7_rng_seed(&fuzz_rng, 0x165667b1);
	fuzz_one("MAIL FROM: <gurpartap@patriots.in>\r\n", 400);
	fuzz_one("RCPT To:<camronm@pigeon.eyrie.af.mil>\r\n", 300);
	fuzz_one("EHLO [192.168.133.100]\r\n", 300);
	fuzz_one("AUTH PLAIN dGVzdAB0ZXN0AHRlc3Q=\r\n", 300);
	fuzz_one("250-xc90.websitewelcome.com Hello GP [122.162.143.157]\r\n", 300);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_captured_commands),
		cmocka_unit_test(test_rfc_commands),
		cmocka_unit_test(test_malformed_and_not_this),
		cmocka_unit_test(test_replies),
		cmocka_unit_test(test_util_next_line),
		cmocka_unit_test(test_util_copy),
		cmocka_unit_test(test_util_append_bytes),
		cmocka_unit_test(test_util_misc),
		cmocka_unit_test(test_fuzz),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
