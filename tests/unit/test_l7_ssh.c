/* test_l7_ssh.c: unit tests of the SSH identification-string parser (sensor/l7-ssh.c)
 * on RFC 4253 4.2 examples and captured banners. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "l7-ssh.h"
#include "l7-robust.h"

/* zeek/ssh/ssh.pcap frame 4 (tcp.payload; tshark ssh.protocol SSH-2.0-OpenSSH_5.8) */
static const char cap_crlf[] = "SSH-2.0-OpenSSH_5.8\r\n";
/* zeek/ssh/ssh.pcap frame 99: LF only, with comments (tshark ssh.protocol
 * "SSH-1.99-OpenSSH_6.6.1p1 Ubuntu-2ubuntu2") */
static const char cap_lf[] = "SSH-1.99-OpenSSH_6.6.1p1 Ubuntu-2ubuntu2\n";

static enum l7_result parse_n(const void *p, size_t n, char *out, size_t outsz)
{
	uint8_t *copy = malloc(n ? n : 1);
	enum l7_result r;

	assert_non_null(copy);
	if (n)
		memcpy(copy, p, n);
	r = l7_ssh_banner(copy, n, out, outsz);
	free(copy);
	return r;
}

static enum l7_result parse_s(const char *s, char *out, size_t outsz)
{
	return parse_n(s, strlen(s), out, outsz);
}

/* RFC 4253 4.2's example */
static void test_rfc_example(void **state)
{
	char b[256];

	(void)state;
	assert_int_equal(parse_s("SSH-2.0-billsSSH_3.6.3q3\r\n", b, sizeof(b)), L7_OK);
	assert_string_equal(b, "SSH-2.0-billsSSH_3.6.3q3");
}

static void test_captures(void **state)
{
	char b[256];

	(void)state;
	assert_int_equal(parse_s(cap_crlf, b, sizeof(b)), L7_OK);
	assert_string_equal(b, "SSH-2.0-OpenSSH_5.8");
	assert_int_equal(parse_s(cap_lf, b, sizeof(b)), L7_OK);
	assert_string_equal(b, "SSH-1.99-OpenSSH_6.6.1p1 Ubuntu-2ubuntu2");
}

/* Every proper prefix of a banner is "need more". */
static void test_prefixes(void **state)
{
	char b[256];

	(void)state;
	for (size_t n = 0; n < strlen(cap_crlf); n++)
		assert_int_equal(parse_n(cap_crlf, n, b, sizeof(b)), L7_NEED_MORE);
	for (size_t n = 0; n < strlen(cap_lf); n++)
		assert_int_equal(parse_n(cap_lf, n, b, sizeof(b)), L7_NEED_MORE);
}

/* RFC 4253 4.2: "The server MAY send other lines of data before sending the version
 * string"; and binary packets may follow the line in the same buffer. */
static void test_other_lines_and_following_data(void **state)
{
	static const char pre[] = "Welcome to host7\r\n"
				  "Authorized use only\r\n"
				  "\r\n"
				  "SSH-2.0-OpenSSH_9.6p1 Ubuntu-3ubuntu13\r\n"
				  "\x00\x00\x05\xdc\x0a\x14";
	static char many[8192];
	char b[256];
	size_t n = 0;

	(void)state;
	assert_int_equal(parse_n(pre, sizeof(pre) - 1, b, sizeof(b)), L7_OK);
	assert_string_equal(b, "SSH-2.0-OpenSSH_9.6p1 Ubuntu-3ubuntu13");
	assert_int_equal(parse_s("Welcome\r\nSSH-2.0-x", b, sizeof(b)), L7_NEED_MORE);
	assert_int_equal(parse_s("Welcome\r\nSS", b, sizeof(b)), L7_NEED_MORE);
	assert_int_equal(parse_s("Welcome\r\nbanner text without end", b, sizeof(b)),
			 L7_NEED_MORE);

	/* 100 other lines are accepted, 101 are not */
	for (int i = 0; i < L7_SSH_MAX_LINES; i++)
		n += (size_t)snprintf(many + n, sizeof(many) - n, "line %d\r\n", i);
	snprintf(many + n, sizeof(many) - n, "SSH-2.0-late\r\n");
	assert_int_equal(parse_s(many, b, sizeof(b)), L7_OK);
	assert_string_equal(b, "SSH-2.0-late");
	snprintf(many + n, sizeof(many) - n, "one more\r\nSSH-2.0-late\r\n");
	assert_int_equal(parse_s(many, b, sizeof(b)), L7_NOT_THIS);
}

static void test_not_this(void **state)
{
	static char longline[L7_SSH_MAX_OTHER_LINE + 10];
	char b[256];

	(void)state;
	memset(longline, 'x', sizeof(longline) - 1);
	assert_int_equal(parse_s(longline, b, sizeof(b)), L7_NOT_THIS);
	longline[L7_SSH_MAX_OTHER_LINE - 2] = '\n';
	longline[L7_SSH_MAX_OTHER_LINE - 1] = '\0';
	assert_int_equal(parse_s(longline, b, sizeof(b)), L7_NEED_MORE);
}

/* The version string has "-softwareversion" and is at most 255 bytes with CR LF. */
static void test_malformed(void **state)
{
	static char line[400];
	char b[512];

	(void)state;
	assert_int_equal(parse_s("SSH-2.0\r\n", b, sizeof(b)), L7_MALFORMED);
	assert_string_equal(b, "SSH-2.0");
	assert_int_equal(parse_s("SSH-2.0-\r\n", b, sizeof(b)), L7_MALFORMED);
	assert_int_equal(parse_s("SSH--x\r\n", b, sizeof(b)), L7_MALFORMED);
	assert_int_equal(parse_s("SSH-2.0- comment\r\n", b, sizeof(b)), L7_MALFORMED);

	/* 253 chars + CR LF = 255: fine; 254: too long */
	memset(line, 'v', sizeof(line));
	memcpy(line, "SSH-2.0-", 8);
	memcpy(line + 253, "\r\n", 3);
	assert_int_equal(parse_s(line, b, sizeof(b)), L7_OK);
	assert_int_equal(strlen(b), 253);
	memset(line, 'v', sizeof(line));
	memcpy(line, "SSH-2.0-", 8);
	memcpy(line + 254, "\r\n", 3);
	assert_int_equal(parse_s(line, b, sizeof(b)), L7_MALFORMED);
	assert_int_equal(strlen(b), 254);

	/* an unterminated SSH- line already past the limit does not wait for more */
	memset(line, 'v', sizeof(line));
	memcpy(line, "SSH-2.0-", 8);
	line[sizeof(line) - 1] = '\0';
	assert_int_equal(parse_s(line, b, sizeof(b)), L7_MALFORMED);
	assert_int_equal(strlen(b), L7_SSH_BANNER_MAX);
}

/* Output bounded by outsz; NUL shown as '?'. */
static void test_output(void **state)
{
	static const char nul[] = "SSH-2.0-Evil\0Tool\r\n";
	char b[8];
	char big[256];

	(void)state;
	assert_int_equal(parse_s(cap_crlf, b, sizeof(b)), L7_OK);
	assert_string_equal(b, "SSH-2.0");
	assert_int_equal(parse_s(cap_crlf, NULL, 0), L7_OK);
	assert_int_equal(parse_n(nul, sizeof(nul) - 1, big, sizeof(big)), L7_OK);
	assert_string_equal(big, "SSH-2.0-Evil?Tool");
}

static void test_looks_like(void **state)
{
	(void)state;
	assert_true(l7_ssh_looks_like((const uint8_t *)"S", 1));
	assert_true(l7_ssh_looks_like((const uint8_t *)cap_crlf, strlen(cap_crlf)));
	assert_false(l7_ssh_looks_like((const uint8_t *)"ssh-", 4));
	assert_false(l7_ssh_looks_like((const uint8_t *)"SSH_", 4));
	assert_false(l7_ssh_looks_like((const uint8_t *)"", 0));
	assert_false(l7_ssh_looks_like(NULL, 0));
}

/* ---- robustness: every prefix and random mutations ---- */

static struct l7_rng fuzz_rng;

static void check_any(const uint8_t *p, size_t n, void *ctx)
{
	char b[300];
	enum l7_result r = parse_n(p, n, b, sizeof(b));

	(void)ctx;
	assert_in_range(r, L7_OK, L7_MALFORMED);
	assert_true(strlen(b) <= L7_SSH_BANNER_MAX);
	(void)l7_ssh_looks_like(p, n);
}

static void fuzz_one(const char *s, size_t n, unsigned rounds)
{
	static const uint8_t specials[] = { '\r', '\n', '-', ' ', 'S', 'H', 0 };

	l7_robust_text(s, n, &fuzz_rng, (int)rounds, specials, sizeof(specials), check_any,
		       NULL);
}

static void test_fuzz(void **state)
{
	static const char pre[] = "Hello\r\n\r\nSSH-2.0-OpenSSH_9.6 c\r\n\x00\x00\x01";

	(void)state;
	l7_rng_seed(&fuzz_rng, 0xc2b2ae35);
	fuzz_one(cap_crlf, strlen(cap_crlf), 400);
	fuzz_one(cap_lf, strlen(cap_lf), 400);
	fuzz_one(pre, sizeof(pre) - 1, 400);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_rfc_example),
		cmocka_unit_test(test_captures),
		cmocka_unit_test(test_prefixes),
		cmocka_unit_test(test_other_lines_and_following_data),
		cmocka_unit_test(test_not_this),
		cmocka_unit_test(test_malformed),
		cmocka_unit_test(test_output),
		cmocka_unit_test(test_looks_like),
		cmocka_unit_test(test_fuzz),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
