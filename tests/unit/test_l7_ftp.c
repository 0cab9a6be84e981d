/* test_l7_ftp.c: unit tests of the FTP control-line parser (sensor/l7-ftp.c) on RFC
 * 959 / RFC 2428 examples and on captured command and reply lines. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "l7-ftp.h"
#include "l7-robust.h"

static enum l7_result cmd_n(const void *p, size_t n, struct l7_ftp_cmd *c)
{
	uint8_t *copy = malloc(n ? n : 1);
	enum l7_result r;

	assert_non_null(copy);
	if (n)
		memcpy(copy, p, n);
	r = l7_ftp_client_line(copy, n, c);
	free(copy);
	return r;
}

static enum l7_result cmd(const char *s, struct l7_ftp_cmd *c)
{
	return cmd_n(s, strlen(s), c);
}

static enum l7_result reply_n(const void *p, size_t n, struct l7_ftp_reply *r)
{
	uint8_t *copy = malloc(n ? n : 1);
	enum l7_result res;

	assert_non_null(copy);
	if (n)
		memcpy(copy, p, n);
	res = l7_ftp_server_line(copy, n, r);
	free(copy);
	return res;
}

static enum l7_result reply(const char *s, struct l7_ftp_reply *r)
{
	return reply_n(s, strlen(s), r);
}

static void assert_v4(const struct l7_ftp_endpoint *ep, uint8_t a, uint8_t b, uint8_t c,
		      uint8_t d, uint16_t port)
{
	const uint8_t want[4] = { a, b, c, d };

	assert_int_equal(ep->family, 4);
	assert_memory_equal(ep->addr, want, 4);
	assert_int_equal(ep->port, port);
}

/* Captured PORT lines (tcp.payload; tshark ftp.active.cip / ftp.active.port). */
static void test_port(void **state)
{
	struct l7_ftp_cmd c;

	(void)state;
	/* zeek/ftp/ipv4.pcap frame 57: 141.142.220.235, 33582 */
	assert_int_equal(cmd("PORT 141,142,220,235,131,46\r\n", &c), L7_OK);
	assert_string_equal(c.verb, "PORT");
	assert_string_equal(c.arg, "141,142,220,235,131,46");
	assert_true(c.has_endpoint);
	assert_v4(&c.ep, 141, 142, 220, 235, 33582);

	/* suricata-verify ftp/ftp-upload-active frame 13: 172.23.0.3, 35627 */
	assert_int_equal(cmd("PORT 172,23,0,3,139,43\r\n", &c), L7_OK);
	assert_v4(&c.ep, 172, 23, 0, 3, 35627);

	/* without CRLF, lowercase verb (RFC 959 5.3: case does not matter) */
	assert_int_equal(cmd("port 10,0,0,1,0,21", &c), L7_OK);
	assert_string_equal(c.verb, "PORT");
	assert_v4(&c.ep, 10, 0, 0, 1, 21);

	/* RFC 959 4.1.2: each field 0..255, six of them */
	assert_int_equal(cmd("PORT 256,0,0,1,0,21\r\n", &c), L7_MALFORMED);
	assert_false(c.has_endpoint);
	assert_int_equal(cmd("PORT 10,0,0,1,0\r\n", &c), L7_MALFORMED);
	assert_int_equal(cmd("PORT 10,0,0,1,0,21,7\r\n", &c), L7_MALFORMED);
	assert_int_equal(cmd("PORT 10,0,0,1,,21\r\n", &c), L7_MALFORMED);
	assert_int_equal(cmd("PORT 0010,0,0,1,0,21\r\n", &c), L7_MALFORMED);
	assert_int_equal(cmd("PORT\r\n", &c), L7_MALFORMED);
	assert_int_equal(cmd("PORT 10,0,0,1,0,2x\r\n", &c), L7_MALFORMED);
}

/* RFC 2428 section 2 examples. */
static void test_eprt(void **state)
{
	static const uint8_t v6[16] = { 0x10, 0x80, 0, 0, 0, 0, 0, 0,
					0, 0x08, 0x08, 0x00, 0x20, 0x0c, 0x41, 0x7a };
	struct l7_ftp_cmd c;

	(void)state;
	assert_int_equal(cmd("EPRT |1|132.235.1.2|6275|\r\n", &c), L7_OK);
	assert_string_equal(c.verb, "EPRT");
	assert_true(c.has_endpoint);
	assert_v4(&c.ep, 132, 235, 1, 2, 6275);

	assert_int_equal(cmd("EPRT |2|1080::8:800:200C:417A|5282|\r\n", &c), L7_OK);
	assert_true(c.has_endpoint);
	assert_int_equal(c.ep.family, 6);
	assert_memory_equal(c.ep.addr, v6, 16);
	assert_int_equal(c.ep.port, 5282);

	/* another delimiter (RFC 2428: any of ASCII 33-126) */
	assert_int_equal(cmd("EPRT !1!10.1.2.3!2121!", &c), L7_OK);
	assert_v4(&c.ep, 10, 1, 2, 3, 2121);

	/* an unknown network protocol: fine, but no endpoint */
	assert_int_equal(cmd("EPRT |3|whatever|21|\r\n", &c), L7_OK);
	assert_false(c.has_endpoint);

	assert_int_equal(cmd("EPRT |1|132.235.1.2|6275\r\n", &c), L7_MALFORMED);
	assert_int_equal(cmd("EPRT |1|132.235.1|6275|\r\n", &c), L7_MALFORMED);
	assert_int_equal(cmd("EPRT |1|132.235.1.2|65536|\r\n", &c), L7_MALFORMED);
	assert_int_equal(cmd("EPRT |2|1080::8:800:200C:417A:1:2:3|5282|\r\n", &c), L7_MALFORMED);
	assert_int_equal(cmd("EPRT |1|1.2.3.4|21|extra\r\n", &c), L7_MALFORMED);
	assert_int_equal(cmd("EPRT \x01" "1\x01" "1.2.3.4\x01" "21\x01", &c), L7_MALFORMED);
	assert_int_equal(cmd("EPRT", &c), L7_MALFORMED);
	{
		static const char nul[] = "EPRT |1|1.2.3.4\0|21|";
		assert_int_equal(cmd_n(nul, sizeof(nul) - 1, &c), L7_MALFORMED);
	}
	{
		char lng[200];

		memset(lng, '1', sizeof(lng));
		memcpy(lng, "EPRT |2|", 8);
		memcpy(lng + sizeof(lng) - 5, "|21|", 5);
		assert_int_equal(cmd(lng, &c), L7_MALFORMED);
	}
}

/* Verbs and arguments. */
static void test_commands(void **state)
{
	struct l7_ftp_cmd c;
	char lng[400];

	(void)state;
	/* zeek/ftp/ipv6.pcap frame 6 */
	assert_int_equal(cmd("USER anonymous\r\n", &c), L7_OK);
	assert_string_equal(c.verb, "USER");
	assert_string_equal(c.arg, "anonymous");
	assert_false(c.has_endpoint);

	assert_int_equal(cmd("PASS secret\r\n", &c), L7_OK);
	assert_string_equal(c.verb, "PASS");
	assert_string_equal(c.arg, ""); /* never kept */

	assert_int_equal(cmd("EPSV\r\n", &c), L7_OK);
	assert_string_equal(c.verb, "EPSV");
	assert_string_equal(c.arg, "");
	assert_int_equal(cmd("STOR dir/file name.txt\n", &c), L7_OK);
	assert_string_equal(c.arg, "dir/file name.txt");

	memset(lng, 'z', sizeof(lng));
	memcpy(lng, "RETR ", 5);
	lng[sizeof(lng) - 1] = '\0';
	assert_int_equal(cmd(lng, &c), L7_OK);
	assert_true(c.arg_truncated);
	assert_int_equal(strlen(c.arg), L7_FTP_ARG_MAX);

	assert_int_equal(cmd("", &c), L7_MALFORMED);
	assert_int_equal(cmd("\r\n", &c), L7_MALFORMED);
	assert_int_equal(cmd(" USER x", &c), L7_MALFORMED);
	assert_int_equal(cmd("US3R x", &c), L7_MALFORMED);
	assert_int_equal(cmd("ABCDEFGHI x", &c), L7_MALFORMED);
	assert_string_equal(c.verb, "ABCDEFGH");
	assert_int_equal(cmd("ABCDEFGH x", &c), L7_OK);
	assert_int_equal(cmd("\x16\x03\x01\x02", &c), L7_MALFORMED);
	assert_int_equal(l7_ftp_client_line(NULL, 0, &c), L7_MALFORMED);
}

/* Captured 227 replies (tshark ftp.passive.ip / ftp.passive.port) and RFC 1123
 * 4.1.2.6's advice to scan for the first digit. */
static void test_227(void **state)
{
	struct l7_ftp_reply r;

	(void)state;
	/* zeek/ftp/ipv4.pcap frame 20: 199.233.217.249, 56666 */
	assert_int_equal(reply("227 Entering Passive Mode (199,233,217,249,221,90)\r\n", &r),
			 L7_OK);
	assert_int_equal(r.code, 227);
	assert_false(r.multiline);
	assert_true(r.has_endpoint);
	assert_v4(&r.ep, 199, 233, 217, 249, 56666);

	/* suricata-verify ftp/ftp-upload-passive frame 14: 172.23.0.2, 21003 */
	assert_int_equal(reply("227 Entering Passive Mode (172,23,0,2,82,11).\r\n", &r), L7_OK);
	assert_v4(&r.ep, 172, 23, 0, 2, 21003);

	assert_int_equal(reply("227 =10,1,2,3,4,1", &r), L7_OK);
	assert_v4(&r.ep, 10, 1, 2, 3, 1025);

	assert_int_equal(reply("227 Entering Passive Mode\r\n", &r), L7_MALFORMED);
	assert_int_equal(r.code, 227);
	assert_false(r.has_endpoint);
	assert_int_equal(reply("227 Entering Passive Mode (1,2,3,4,5)\r\n", &r), L7_MALFORMED);
	assert_int_equal(reply("227 Entering Passive Mode (1,2,3,4,5,999)\r\n", &r),
			 L7_MALFORMED);
}

/* RFC 2428 section 3's example and a capture (zeek/ftp/ipv6.pcap frame 28, tshark
 * ftp.epsv.port 57086). */
static void test_229(void **state)
{
	struct l7_ftp_reply r;

	(void)state;
	assert_int_equal(reply("229 Entering Extended Passive Mode (|||6446|)\r\n", &r), L7_OK);
	assert_int_equal(r.code, 229);
	assert_true(r.has_endpoint);
	assert_int_equal(r.ep.family, 0);
	assert_int_equal(r.ep.port, 6446);

	assert_int_equal(reply("229 Entering Extended Passive Mode (|||57086|)\r\n", &r), L7_OK);
	assert_int_equal(r.ep.port, 57086);

	assert_int_equal(reply("229 ok (!!!2121!)", &r), L7_OK);
	assert_int_equal(r.ep.port, 2121);

	assert_int_equal(reply("229 Entering Extended Passive Mode (||6446|)\r\n", &r),
			 L7_MALFORMED);
	assert_int_equal(reply("229 Entering Extended Passive Mode (|||6446)\r\n", &r),
			 L7_MALFORMED);
	assert_int_equal(reply("229 Entering Extended Passive Mode (|||70000|)\r\n", &r),
			 L7_MALFORMED);
	assert_int_equal(reply("229 Entering Extended Passive Mode (|||x|)\r\n", &r),
			 L7_MALFORMED);
	assert_int_equal(reply("229 Entering Extended Passive Mode |||6446|\r\n", &r),
			 L7_MALFORMED);
	assert_int_equal(reply("229 (|||6446|", &r), L7_MALFORMED);
}

/* RFC 959 4.2: codes and multi-line replies (zeek/ftp/ipv6.pcap frames 4, 10, 12). */
static void test_replies(void **state)
{
	struct l7_ftp_reply r;

	(void)state;
	assert_int_equal(reply("220 ftp.NetBSD.org FTP server (NetBSD-ftpd 20100320) ready.\r\n",
			       &r),
			 L7_OK);
	assert_int_equal(r.code, 220);
	assert_false(r.has_endpoint);
	assert_int_equal(reply("230-\r\n", &r), L7_OK);
	assert_int_equal(r.code, 230);
	assert_true(r.multiline);
	assert_int_equal(reply("    The NetBSD Project FTP Server located in Redwood City, CA, "
			       "USA\r\n",
			       &r),
			 L7_NOT_THIS);
	assert_int_equal(reply("230", &r), L7_OK);
	assert_int_equal(reply("230 ", &r), L7_OK);
	assert_int_equal(reply("23", &r), L7_NOT_THIS);
	assert_int_equal(reply("2300 x", &r), L7_NOT_THIS);
	assert_int_equal(reply("", &r), L7_NOT_THIS);
	assert_int_equal(reply("099 x", &r), L7_MALFORMED);
	assert_int_equal(reply("600 x", &r), L7_MALFORMED);
	assert_int_equal(l7_ftp_server_line(NULL, 0, &r), L7_NOT_THIS);
}

/* ---- robustness: every prefix and random mutations ---- */

static struct l7_rng fuzz_rng;

static void check_any(const uint8_t *p, size_t n, void *ctx)
{
	struct l7_ftp_cmd c;
	struct l7_ftp_reply r;

	(void)ctx;
	assert_in_range(cmd_n(p, n, &c), L7_OK, L7_MALFORMED);
	assert_true(strlen(c.verb) <= L7_FTP_VERB_MAX);
	assert_true(strlen(c.arg) <= L7_FTP_ARG_MAX);
	assert_true(c.ep.family == 0 || c.ep.family == 4 || c.ep.family == 6);
	assert_in_range(reply_n(p, n, &r), L7_OK, L7_MALFORMED);
}

static void fuzz_one(const char *s, unsigned rounds)
{
	static const uint8_t specials[] = { '|', ',', '(', ')', ':', '.', '0', '9', ' ', 0 };

	l7_robust_text(s, strlen(s), &fuzz_rng, (int)rounds, specials, sizeof(specials), check_any,
		       NULL);
}

static void test_fuzz(void **state)
{
	(void)state;
	l7_rng_seed(&fuzz_rng, 0x27d4eb2f);
	fuzz_one("PORT 141,142,220,235,131,46\r\n", 300);
	fuzz_one("EPRT |1|132.235.1.2|6275|\r\n", 300);
	fuzz_one("EPRT |2|1080::8:800:200C:417A|5282|\r\n", 300);
	fuzz_one("227 Entering Passive Mode (199,233,217,249,221,90)\r\n", 300);
	fuzz_one("229 Entering Extended Passive Mode (|||6446|)\r\n", 300);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_port),
		cmocka_unit_test(test_eprt),
		cmocka_unit_test(test_commands),
		cmocka_unit_test(test_227),
		cmocka_unit_test(test_229),
		cmocka_unit_test(test_replies),
		cmocka_unit_test(test_fuzz),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
