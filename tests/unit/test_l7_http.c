/* test_l7_http.c: unit tests of the HTTP/1.x request parser (sensor/l7-http.c) on
 * requests from RFC 9112 / RFC 9110 examples and on captured ones. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "l7-http.h"
#include "l7-robust.h"

/* Captured requests (tcp.payload via tshark; the POST cut 12 bytes into its body).
 * Expected values are tshark's http.request.method/uri/version, http.host,
 * http.content_length_header and http.user_agent. */

/* zeek/nflog-http.pcap frame 6 */
static const char http_curl[] =
	"GET / HTTP/1.1\r\n"
	"Host: www.example.net\r\n"
	"User-Agent: curl/7.50.1\r\n"
	"Accept: */*\r\n"
	"\r\n";

/* zeek/wikipedia.pcap frame 6 */
static const char http_wiki[] =
	"GET / HTTP/1.1\r\n"
	"Host: www.wikipedia.org\r\n"
	"User-Agent: Mozilla/5.0 (X11; U; Linux x86_64; en-US; rv:1.9.2.15) Gecko/20110303"
	" Ubuntu/10.04 (lucid) Firefox/3.6.15\r\n"
	"Accept: text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8\r\n"
	"Accept-Language: en-us,en;q=0.5\r\n"
	"Accept-Encoding: gzip,deflate\r\n"
	"Accept-Charset: ISO-8859-1,utf-8;q=0.7,*;q=0.7\r\n"
	"Keep-Alive: 115\r\n"
	"Connection: keep-alive\r\n"
	"If-Modified-Since: Sun, 6 Mar 2011 22:45:51 GMT\r\n"
	"Cache-Control: max-age=0\r\n"
	"\r\n";

/* ndpi/webdav.pcap frame 4: Host is the last field line */
static const char http_propfind[] =
	"PROPFIND /webdav HTTP/1.1\r\n"
	"Connection: Keep-Alive\r\n"
	"User-Agent: Microsoft-WebDAV-MiniRedir/10.0.19045\r\n"
	"Depth: 0\r\n"
	"translate: f\r\n"
	"Content-Length: 0\r\n"
	"Host: 104.156.149.6\r\n"
	"\r\n";

/* zeek/http/http-post-large.pcap frame 4 (first 435 bytes) */
static const char http_post[] =
	"POST /hello HTTP/1.1\r\n"
	"Host: 127.0.0.1\r\n"
	"User-Agent: Mozilla/5.0 (X11; Fedora; Linux x86_64; rv:68.0) Gecko/20100101 Firef"
	"ox/68.0\r\n"
	"Accept: text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8\r\n"
	"Accept-Language: en-US,en;q=0.5\r\n"
	"Accept-Encoding: gzip, deflate\r\n"
	"Content-Type: application/x-www-form-urlencoded\r\n"
	"Content-Length: 61484\r\n"
	"Connection: keep-alive\r\n"
	"Referer: http://127.0.0.1/\r\n"
	"Upgrade-Insecure-Requests: 1\r\n"
	"\r\n"
	"say=Hi&to=Hi";

/* Parse from an exactly sized heap copy, so ASan sees any read past the end. */
static enum l7_result parse_n(const void *p, size_t n, struct l7_http_req *r)
{
	uint8_t *copy = malloc(n ? n : 1);
	enum l7_result res;

	assert_non_null(copy);
	if (n)
		memcpy(copy, p, n);
	res = l7_http_request(copy, n, r);
	free(copy);
	return res;
}

static enum l7_result parse_s(const char *s, struct l7_http_req *r)
{
	return parse_n(s, strlen(s), r);
}

/* RFC 9112 3.2.1 (origin-form) example */
static void test_origin_form(void **state)
{
	static const char req[] = "GET /where?q=now HTTP/1.1\r\n"
				  "Host: www.example.org\r\n"
				  "\r\n";
	struct l7_http_req r;

	(void)state;
	assert_int_equal(parse_s(req, &r), L7_OK);
	assert_string_equal(r.method, "GET");
	assert_string_equal(r.target, "/where?q=now");
	assert_false(r.target_truncated);
	assert_int_equal(r.version_major, 1);
	assert_int_equal(r.version_minor, 1);
	assert_true(r.has_host);
	assert_false(r.host_from_target);
	assert_string_equal(r.host, "www.example.org");
	assert_int_equal(r.port, 0);
	assert_false(r.has_content_length);
	assert_false(r.has_user_agent);
	assert_true(r.headers_complete);
	assert_int_equal(r.header_len, strlen(req));
	assert_int_equal(r.n_fields, 1);
}

/* RFC 9112 3.2.2 (absolute-form): the target's authority wins over Host. */
static void test_absolute_form(void **state)
{
	static const char req[] = "GET http://www.example.org/pub/WWW/TheProject.html HTTP/1.1\r\n"
				  "Host: other.example\r\n"
				  "\r\n";
	static const char userinfo[] = "GET http://user:pw@Example.COM:8080/x?y HTTP/1.1\r\n"
				       "Host: example.com:8080\r\n"
				       "\r\n";
	static const char bare[] = "GET https://[2001:DB8::1] HTTP/1.1\r\n\r\n";
	struct l7_http_req r;

	(void)state;
	assert_int_equal(parse_s(req, &r), L7_OK);
	assert_true(r.host_from_target);
	assert_string_equal(r.host, "www.example.org");
	assert_string_equal(r.target, "http://www.example.org/pub/WWW/TheProject.html");

	assert_int_equal(parse_s(userinfo, &r), L7_OK);
	assert_string_equal(r.host, "example.com");
	assert_int_equal(r.port, 8080);

	assert_int_equal(parse_s(bare, &r), L7_OK);
	assert_string_equal(r.host, "2001:db8::1");
	assert_int_equal(r.port, 0);
}

/* RFC 9112 3.2.3 (authority-form, CONNECT): the host is known from the request line,
 * so no header field is needed to answer. */
static void test_connect(void **state)
{
	static const char req[] = "CONNECT www.example.com:80 HTTP/1.1\r\n";
	static const char v6[] = "CONNECT [2001:db8::7]:443 HTTP/1.1\r\n"
				 "Host: [2001:db8::7]:443\r\n"
				 "\r\n";
	static const char noport[] = "CONNECT a:b:c HTTP/1.1\r\n\r\n";
	struct l7_http_req r;

	(void)state;
	assert_int_equal(parse_s(req, &r), L7_OK);
	assert_string_equal(r.method, "CONNECT");
	assert_true(r.host_from_target);
	assert_string_equal(r.host, "www.example.com");
	assert_int_equal(r.port, 80);
	assert_false(r.headers_complete);

	assert_int_equal(parse_s(v6, &r), L7_OK);
	assert_string_equal(r.host, "2001:db8::7");
	assert_int_equal(r.port, 443);
	assert_true(r.headers_complete);

	assert_int_equal(parse_s(noport, &r), L7_MALFORMED);
}

/* RFC 9112 3.2.4 (asterisk-form) example */
static void test_asterisk_form(void **state)
{
	static const char req[] = "OPTIONS * HTTP/1.1\r\n"
				  "Host: www.example.org:8001\r\n"
				  "\r\n";
	struct l7_http_req r;

	(void)state;
	assert_int_equal(parse_s(req, &r), L7_OK);
	assert_string_equal(r.method, "OPTIONS");
	assert_string_equal(r.target, "*");
	assert_string_equal(r.host, "www.example.org");
	assert_int_equal(r.port, 8001);
}

static void test_captures(void **state)
{
	struct l7_http_req r;

	(void)state;
	assert_int_equal(parse_s(http_curl, &r), L7_OK);
	assert_string_equal(r.method, "GET");
	assert_string_equal(r.target, "/");
	assert_string_equal(r.host, "www.example.net");
	assert_string_equal(r.user_agent, "curl/7.50.1");
	assert_false(r.has_content_length);
	assert_true(r.headers_complete);
	assert_int_equal(r.header_len, sizeof(http_curl) - 1);

	assert_int_equal(parse_s(http_wiki, &r), L7_OK);
	assert_string_equal(r.host, "www.wikipedia.org");
	assert_string_equal(r.user_agent, "Mozilla/5.0 (X11; U; Linux x86_64; en-US; "
					  "rv:1.9.2.15) Gecko/20110303 Ubuntu/10.04 (lucid) "
					  "Firefox/3.6.15");
	assert_int_equal(r.n_fields, 10);

	assert_int_equal(parse_s(http_propfind, &r), L7_OK);
	assert_string_equal(r.method, "PROPFIND");
	assert_string_equal(r.target, "/webdav");
	assert_string_equal(r.host, "104.156.149.6");
	assert_true(r.has_content_length);
	assert_int_equal(r.content_length, 0);
	assert_string_equal(r.user_agent, "Microsoft-WebDAV-MiniRedir/10.0.19045");

	assert_int_equal(parse_s(http_post, &r), L7_OK);
	assert_string_equal(r.method, "POST");
	assert_string_equal(r.target, "/hello");
	assert_string_equal(r.host, "127.0.0.1");
	assert_true(r.has_content_length);
	assert_int_equal(r.content_length, 61484);
	assert_true(r.headers_complete);
	assert_int_equal(r.header_len, 423);
	assert_string_equal(r.user_agent, "Mozilla/5.0 (X11; Fedora; Linux x86_64; rv:68.0) "
					  "Gecko/20100101 Firefox/68.0");
}

/* A POST whose Host comes after other fields, cut before Host: need more; once the
 * Host line is in: OK with the header section still open; complete: all fields. */
static void test_post_split_before_host(void **state)
{
	static const char req[] = "POST /upload HTTP/1.1\r\n"
				  "User-Agent: egress-test/1\r\n"
				  "Content-Type: application/octet-stream\r\n"
				  "Host: Upload.Example.NET:8443\r\n"
				  "Content-Length: 1048576\r\n"
				  "\r\n"
				  "BODY";
	size_t before = strstr(req, "Host:") - req;
	size_t with_host = strstr(req, "Content-Length") - req;
	struct l7_http_req r;

	(void)state;
	assert_int_equal(parse_n(req, before, &r), L7_NEED_MORE);
	assert_int_equal(parse_n(req, with_host - 1, &r), L7_NEED_MORE); /* no LF yet */
	assert_int_equal(parse_n(req, with_host, &r), L7_OK);
	assert_false(r.headers_complete);
	assert_string_equal(r.host, "upload.example.net");
	assert_int_equal(r.port, 8443);
	assert_false(r.has_content_length);
	assert_string_equal(r.user_agent, "egress-test/1");

	assert_int_equal(parse_s(req, &r), L7_OK);
	assert_true(r.headers_complete);
	assert_int_equal(r.content_length, 1048576);
	assert_int_equal(r.header_len, strlen(req) - 4);
}

/* Every prefix of a valid request is "need more" until its Host line (or, for the
 * propfind capture, the last field line) is complete, and OK from there on. */
static void check_prefixes(const char *req)
{
	size_t n = strlen(req);
	const char *h = strstr(req, "\nHost:");
	size_t ok_from;
	struct l7_http_req r;

	assert_non_null(h);
	ok_from = (size_t)(strchr(h + 1, '\n') - req) + 1;
	for (size_t k = 0; k <= n; k++) {
		enum l7_result res = parse_n(req, k, &r);

		assert_int_equal(res, k < ok_from ? L7_NEED_MORE : L7_OK);
	}
}

static void test_prefixes(void **state)
{
	(void)state;
	check_prefixes(http_curl);
	check_prefixes(http_wiki);
	check_prefixes(http_propfind);
	check_prefixes(http_post);
}

/* RFC 9110 7.2 / RFC 3986 3.2.2: Host forms. */
static void test_host_forms(void **state)
{
	struct l7_http_req r;

	(void)state;
	assert_int_equal(parse_s("GET / HTTP/1.1\r\nHost: WWW.Example.ORG:80\r\n\r\n", &r), L7_OK);
	assert_string_equal(r.host, "www.example.org");
	assert_int_equal(r.port, 80);

	assert_int_equal(parse_s("GET / HTTP/1.1\r\nhOsT:\t[::1]:8080 \r\n\r\n", &r), L7_OK);
	assert_string_equal(r.host, "::1");
	assert_int_equal(r.port, 8080);

	assert_int_equal(parse_s("GET / HTTP/1.1\r\nHost: example.com:\r\n\r\n", &r), L7_OK);
	assert_string_equal(r.host, "example.com");
	assert_int_equal(r.port, 0);

	/* an empty Host is allowed (RFC 9110 7.2) */
	assert_int_equal(parse_s("GET / HTTP/1.1\r\nHost:\r\n\r\n", &r), L7_OK);
	assert_true(r.has_host);
	assert_string_equal(r.host, "");

	/* invalid: unbracketed IPv6, port out of range, unclosed bracket; raw text kept */
	assert_int_equal(parse_s("GET / HTTP/1.1\r\nHost: 2001:db8::1\r\n\r\n", &r),
			 L7_MALFORMED);
	assert_string_equal(r.host, "2001:db8::1");
	assert_int_equal(parse_s("GET / HTTP/1.1\r\nHost: a.example:65536\r\n\r\n", &r),
			 L7_MALFORMED);
	assert_int_equal(r.port, 0);
	assert_int_equal(parse_s("GET / HTTP/1.1\r\nHost: [::1\r\n\r\n", &r), L7_MALFORMED);

	/* bytes are kept; NUL becomes '?' */
	{
		static const char nul[] = "GET / HTTP/1.1\r\nHost: a\0b.Example\r\n\r\n";
		assert_int_equal(parse_n(nul, sizeof(nul) - 1, &r), L7_OK);
		assert_string_equal(r.host, "a?b.example");
	}
	{
		char big[400];

		snprintf(big, sizeof(big), "GET / HTTP/1.1\r\nHost: %0300d\r\n\r\n", 0);
		assert_int_equal(parse_s(big, &r), L7_OK);
		assert_true(r.host_truncated);
		assert_int_equal(strlen(r.host), L7_HTTP_HOST_MAX);
	}
}

static void test_not_this(void **state)
{
	struct l7_http_req r;

	(void)state;
	assert_int_equal(parse_s("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n", &r), L7_NOT_THIS);
	assert_int_equal(parse_s("get / HTTP/1.1\r\n\r\n", &r), L7_NOT_THIS);
	assert_int_equal(parse_s("GETX / HTTP/1.1\r\n\r\n", &r), L7_NOT_THIS);
	assert_int_equal(parse_s("GET\t/ HTTP/1.1\r\n\r\n", &r), L7_NOT_THIS);
	assert_int_equal(parse_s("SSH-2.0-OpenSSH_9.6\r\n", &r), L7_NOT_THIS);
	assert_int_equal(parse_n("\x16\x03\x01\x00", 4, &r), L7_NOT_THIS);
	assert_int_equal(parse_s("\r\n\r\n\r\n\r\n\r\nGET / HTTP/1.0\r\n\r\n", &r), L7_NOT_THIS);

	assert_int_equal(parse_s("", &r), L7_NEED_MORE);
	assert_int_equal(parse_s("G", &r), L7_NEED_MORE);
	assert_int_equal(parse_s("PROPF", &r), L7_NEED_MORE);
	assert_int_equal(parse_s("GET", &r), L7_NEED_MORE);
	assert_int_equal(parse_s("GET /index.html", &r), L7_NEED_MORE);
	assert_int_equal(parse_s("\r\n", &r), L7_NEED_MORE);
}

static void test_looks_like(void **state)
{
	(void)state;
	assert_true(l7_http_looks_like((const uint8_t *)"G", 1));
	assert_true(l7_http_looks_like((const uint8_t *)"DELETE /x", 9));
	assert_true(l7_http_looks_like((const uint8_t *)"PROPPATCH ", 10));
	assert_true(l7_http_looks_like((const uint8_t *)"UNLOCK", 6));
	assert_false(l7_http_looks_like((const uint8_t *)"", 0));
	assert_false(l7_http_looks_like(NULL, 0));
	assert_false(l7_http_looks_like((const uint8_t *)"GETS", 4));
	assert_false(l7_http_looks_like((const uint8_t *)"HTTP/1.1 200 OK", 15));
	assert_false(l7_http_looks_like((const uint8_t *)"\x16\x03\x01", 3));
}

/* RFC 9112 2.2: empty lines before the request line are skipped; bare LF ends lines. */
static void test_line_ends(void **state)
{
	struct l7_http_req r;

	(void)state;
	assert_int_equal(parse_s("\r\n\nGET / HTTP/1.0\r\n\r\n", &r), L7_OK);
	assert_int_equal(r.version_minor, 0);
	assert_false(r.has_host);
	assert_int_equal(parse_s("GET / HTTP/1.1\nHost: lf.example\n\n", &r), L7_OK);
	assert_string_equal(r.host, "lf.example");
	assert_true(r.headers_complete);
	assert_int_equal(parse_s("HEAD   /a   HTTP/1.1  \r\nHost: x\r\n\r\n", &r), L7_OK);
	assert_string_equal(r.target, "/a");
}

static void test_malformed(void **state)
{
	struct l7_http_req r;

	(void)state;
	/* RFC 9112 2.3 / 3: no version (HTTP/0.9), a bad version, no target */
	assert_int_equal(parse_s("GET /\r\n\r\n", &r), L7_MALFORMED);
	assert_string_equal(r.method, "GET");
	assert_int_equal(parse_s("GET / HTTP/1.x\r\n\r\n", &r), L7_MALFORMED);
	assert_int_equal(parse_s("GET / http/1.1\r\n\r\n", &r), L7_MALFORMED);
	assert_int_equal(parse_s("GET  HTTP/1.1\r\n\r\n", &r), L7_MALFORMED);
	/* RFC 9112 3.2: a target that is none of the four forms */
	assert_int_equal(parse_s("GET index.html HTTP/1.1\r\nHost: a\r\n\r\n", &r),
			 L7_MALFORMED);
	/* RFC 9112 5.1: whitespace between name and colon */
	assert_int_equal(parse_s("GET / HTTP/1.1\r\nHost : evil.example\r\n\r\n", &r),
			 L7_MALFORMED);
	/* RFC 9112 5.2: obs-fold */
	assert_int_equal(parse_s("GET / HTTP/1.1\r\nHost: a\r\n b\r\n\r\n", &r), L7_MALFORMED);
	assert_string_equal(r.host, "a");
	/* a field line without a colon */
	assert_int_equal(parse_s("GET / HTTP/1.1\r\nHost: a\r\nnocolon\r\n\r\n", &r),
			 L7_MALFORMED);
	assert_int_equal(parse_s("GET / HTTP/1.1\r\n: empty-name\r\n\r\n", &r), L7_MALFORMED);
	/* RFC 9112 3.2: two Host lines; no Host in HTTP/1.1 */
	assert_int_equal(parse_s("GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n", &r),
			 L7_MALFORMED);
	assert_string_equal(r.host, "a");
	assert_int_equal(parse_s("GET / HTTP/1.1\r\nUser-Agent: x\r\n\r\n", &r), L7_MALFORMED);
	assert_string_equal(r.user_agent, "x");
	assert_true(r.headers_complete);
	assert_int_equal(parse_s("GET / HTTP/1.0\r\nUser-Agent: x\r\n\r\n", &r), L7_OK);
}

/* RFC 9110 8.6, RFC 9112 6.3: Content-Length. */
static void test_content_length(void **state)
{
	struct l7_http_req r;

	(void)state;
	assert_int_equal(parse_s("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 5, 5\r\n\r\n", &r),
			 L7_OK);
	assert_int_equal(r.content_length, 5);
	assert_int_equal(parse_s("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\n"
				 "content-length: 5\r\n\r\n", &r),
			 L7_OK);
	assert_int_equal(parse_s("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 5, 6\r\n\r\n", &r),
			 L7_MALFORMED);
	assert_int_equal(parse_s("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\n"
				 "Content-Length: 7\r\n\r\n", &r),
			 L7_MALFORMED);
	assert_int_equal(r.content_length, 5);
	assert_int_equal(parse_s("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: -1\r\n\r\n", &r),
			 L7_MALFORMED);
	assert_int_equal(parse_s("POST / HTTP/1.1\r\nHost: a\r\nContent-Length:\r\n\r\n", &r),
			 L7_MALFORMED);
	assert_int_equal(parse_s("POST / HTTP/1.1\r\nHost: a\r\n"
				 "Content-Length: 99999999999999999999999\r\n\r\n", &r),
			 L7_OK);
	assert_true(r.content_length == UINT64_MAX);
	assert_int_equal(parse_s("POST / HTTP/1.1\r\nHost: a\r\n"
				 "Content-Length: 18446744073709551615\r\n\r\n", &r),
			 L7_OK);
	assert_true(r.content_length == UINT64_MAX);
	assert_int_equal(parse_s("POST / HTTP/1.1\r\nHost: a\r\n"
				 "Content-Length: 18446744073709551614\r\n\r\n", &r),
			 L7_OK);
	assert_true(r.content_length == UINT64_MAX - 1);
}

/* Bounded copies and the field-line cap. */
static void test_bounds(void **state)
{
	static char buf[8192];
	struct l7_http_req r;
	size_t n;

	(void)state;
	n = (size_t)snprintf(buf, sizeof(buf), "GET /%0599d HTTP/1.1\r\nUser-Agent: %0299d\r\n"
					       "Host: a\r\n\r\n", 0, 0);
	assert_int_equal(parse_n(buf, n, &r), L7_OK);
	assert_true(r.target_truncated);
	assert_int_equal(strlen(r.target), L7_HTTP_TARGET_MAX);
	assert_true(r.user_agent_truncated);
	assert_int_equal(strlen(r.user_agent), L7_HTTP_UA_MAX);

	/* exactly L7_HTTP_MAX_LINES field lines are fine, one more is not */
	n = (size_t)snprintf(buf, sizeof(buf), "GET / HTTP/1.1\r\nHost: a\r\n");
	for (int i = 1; i < L7_HTTP_MAX_LINES; i++)
		n += (size_t)snprintf(buf + n, sizeof(buf) - n, "X-%d: y\r\n", i);
	n += (size_t)snprintf(buf + n, sizeof(buf) - n, "\r\n");
	assert_int_equal(parse_n(buf, n, &r), L7_OK);
	assert_int_equal(r.n_fields, L7_HTTP_MAX_LINES);
	n -= 2;
	n += (size_t)snprintf(buf + n, sizeof(buf) - n, "X-last: y\r\n\r\n");
	assert_int_equal(parse_n(buf, n, &r), L7_MALFORMED);
	assert_string_equal(r.host, "a");
}

/* ---- robustness: every prefix and random mutations ---- */

static struct l7_rng fuzz_rng;

static void check_any(const uint8_t *p, size_t n, void *ctx)
{
	struct l7_http_req r;
	enum l7_result res = parse_n(p, n, &r);

	(void)ctx;
	assert_in_range(res, L7_OK, L7_MALFORMED);
	assert_true(strlen(r.method) <= L7_HTTP_METHOD_MAX);
	assert_true(strlen(r.target) <= L7_HTTP_TARGET_MAX);
	assert_true(strlen(r.host) <= L7_HTTP_HOST_MAX);
	assert_true(strlen(r.user_agent) <= L7_HTTP_UA_MAX);
	assert_true(r.header_len <= n);
	(void)l7_http_looks_like(p, n);
}

static void fuzz_one(const char *s, unsigned rounds)
{
	static const uint8_t specials[] = { '\r', '\n', ':', ' ', '\t', '[', ']', ',', '/', 0 };

	l7_robust_text(s, strlen(s), &fuzz_rng, (int)rounds, specials, sizeof(specials), check_any,
		       NULL);
}

static void test_fuzz(void **state)
{
	(void)state;
	l7_rng_seed(&fuzz_rng, 0x9e3779b9);
	fuzz_one(http_curl, 500);
	fuzz_one(http_propfind, 500);
	fuzz_one(http_post, 300);
	fuzz_one("CONNECT [2001:db8::7]:443 HTTP/1.1\r\nHost: x\r\n\r\n", 300);
	fuzz_one("GET http://u@h.example:1/p HTTP/1.1\r\nContent-Length: 1,1\r\n\r\n", 300);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_origin_form),
		cmocka_unit_test(test_absolute_form),
		cmocka_unit_test(test_connect),
		cmocka_unit_test(test_asterisk_form),
		cmocka_unit_test(test_captures),
		cmocka_unit_test(test_post_split_before_host),
		cmocka_unit_test(test_prefixes),
		cmocka_unit_test(test_host_forms),
		cmocka_unit_test(test_not_this),
		cmocka_unit_test(test_looks_like),
		cmocka_unit_test(test_line_ends),
		cmocka_unit_test(test_malformed),
		cmocka_unit_test(test_content_length),
		cmocka_unit_test(test_bounds),
		cmocka_unit_test(test_fuzz),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
