/* test_config.c: sensor/config.c, sensor.yaml loading and the duration/size parsers.
 *
 * Expected values come from the README's Configuration section (durations 30s, 10m, 24h,
 * 7d; sizes in powers of 1000 (KB, MB) or 1024 (KiB, MiB); every problem reported as
 * file:line:col) and from counting lines and columns in the YAML written here (both
 * 1-based, the column of the offending key or value).
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
#include <unistd.h>

#include "config.h"

struct tmpcfg {
	char path[64];
};

static void write_cfg(struct tmpcfg *t, const char *text)
{
	snprintf(t->path, sizeof(t->path), "/tmp/egressd-test-cfg-XXXXXX");
	int fd = mkstemp(t->path);
	assert_true(fd >= 0);
	size_t n = strlen(text);
	assert_int_equal(write(fd, text, n), (ssize_t)n);
	close(fd);
}

static int load(const char *text, struct config *c, char *err, size_t errlen)
{
	struct tmpcfg t;
	write_cfg(&t, text);
	config_defaults(c);
	int n = config_load(c, t.path, err, errlen);
	/* every report names the file: replace the random path by "F" for comparisons */
	char tmp[8192];
	size_t plen = strlen(t.path);
	size_t o = 0;
	for (const char *p = err; *p && o + 2 < sizeof(tmp);) {
		if (strncmp(p, t.path, plen) == 0) {
			tmp[o++] = 'F';
			p += plen;
		} else {
			tmp[o++] = *p++;
		}
	}
	tmp[o] = '\0';
	if (o >= errlen)
		o = errlen - 1;
	memcpy(err, tmp, o);
	err[o] = '\0';
	unlink(t.path);
	return n;
}

static int count_lines(const char *s)
{
	int n = 0;
	for (; *s; s++)
		n += *s == '\n';
	return n;
}

/* ---- parsers ------------------------------------------------------------ */

static uint64_t dur(const char *s)
{
	uint64_t ms = 0xdeadbeef;
	if (!config_parse_duration_ms(s, &ms))
		fail_msg("duration '%s' rejected", s);
	return ms;
}

static void test_durations(void **state)
{
	(void)state;
	assert_int_equal(dur("30s"), 30000);
	assert_int_equal(dur("10m"), 600000);
	assert_int_equal(dur("24h"), 86400000);
	assert_int_equal(dur("7d"), 604800000);
	assert_int_equal(dur("250ms"), 250);
	assert_int_equal(dur("0s"), 0);
	assert_int_equal(dur("1ms"), 1);
	assert_int_equal(dur("90m"), 5400000);

	static const char *const bad[] = { "",	   "s",	   "ms",   "-5s",   "+5s",  "1.5h",
					   "10 s", " 10s", "10x",  "10sec", "10mss", "5ms5",
					   "h",	   "1e3s", "0x10s" };
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		uint64_t ms = 77;
		if (config_parse_duration_ms(bad[i], &ms))
			fail_msg("duration '%s' accepted as %llu ms", bad[i],
				 (unsigned long long)ms);
	}
	/* overflow: 2^64 ms does not fit, nor does a huge count of days */
	uint64_t ms;
	assert_false(config_parse_duration_ms("18446744073709551616ms", &ms));
	assert_false(config_parse_duration_ms("18446744073709551615d", &ms));
}

static uint64_t size_of(const char *s)
{
	uint64_t b = 0xdeadbeef;
	if (!config_parse_size(s, &b))
		fail_msg("size '%s' rejected", s);
	return b;
}

static void test_sizes(void **state)
{
	(void)state;
	assert_int_equal(size_of("500KB"), 500000);
	assert_int_equal(size_of("64KiB"), 65536);
	assert_int_equal(size_of("1MiB"), 1048576);
	assert_int_equal(size_of("50MB"), 50000000);
	assert_int_equal(size_of("2GB"), 2000000000ULL);
	assert_int_equal(size_of("1GiB"), 1073741824ULL);
	assert_int_equal(size_of("123"), 123);
	assert_int_equal(size_of("0"), 0);
	assert_int_equal(size_of("512B"), 512);

	static const char *const bad[] = { "",	    "KB",    "-1",    "1.5MB", " 1KB", "1 KB",
					   "1KBB",  "1kib",  "1Kib",  "1XB",   "KiB1", "0x10" };
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		uint64_t b = 77;
		if (config_parse_size(bad[i], &b))
			fail_msg("size '%s' accepted as %llu", bad[i], (unsigned long long)b);
	}
	uint64_t b;
	assert_false(config_parse_size("99999999999999999999", &b)); /* > 2^64 */
	assert_false(config_parse_size("18446744073709551615KB", &b));
}

/* ---- loading ------------------------------------------------------------ */

static void test_values(void **state)
{
	(void)state;
	struct config c;
	char err[4096];
	int n = load("# egressd sensor\n"
		     "sensor_name: edge-7\n"
		     "home_net: [10.0.0.0/8, 2001:db8::/32]\n"
		     "flows:\n"
		     "  max_flows: 5000\n"
		     "  tcp_timeout: 10m\n"
		     "  tcp_closed_timeout: 30s\n"
		     "  udp_timeout: 24h\n"
		     "  icmp_timeout: 45s\n"
		     "  other_timeout: 2m\n"
		     "  active_timeout: 7d\n"
		     "  fragments: 1024\n"
		     "  fragment_timeout: 10s\n"
		     "l7:\n"
		     "  reassembly_buffers: 100\n"
		     "  reassembly_buffer_size: 64KiB\n"
		     "  names: 4096\n"
		     "  dns_cache: 2048\n"
		     "  dns_min_ttl: 0s\n"
		     "  dns_max_ttl: 1h\n",
		     &c, err, sizeof(err));
	if (n != 0)
		fail_msg("%d problems:\n%s", n, err);
	assert_string_equal(err, "");
	assert_string_equal(c.sensor_name, "edge-7");
	assert_int_equal(c.home_net.n, 2);
	uint8_t a[16] = { 10, 1, 2, 3 };
	assert_true(netset_contains(&c.home_net, 4, a));
	uint8_t b[16] = { 192, 168, 0, 1 }; /* default home_net was replaced */
	assert_false(netset_contains(&c.home_net, 4, b));
	uint8_t v6[16] = { 0x20, 0x01, 0x0d, 0xb8, 0xff };
	assert_true(netset_contains(&c.home_net, 6, v6));
	assert_int_equal(c.max_flows, 5000);
	assert_int_equal(c.tcp_timeout_s, 600);
	assert_int_equal(c.tcp_closed_timeout_s, 30);
	assert_int_equal(c.udp_timeout_s, 86400);
	assert_int_equal(c.icmp_timeout_s, 45);
	assert_int_equal(c.other_timeout_s, 120);
	assert_int_equal(c.active_timeout_s, 604800);
	assert_int_equal(c.fragments, 1024);
	assert_int_equal(c.fragment_timeout_s, 10);
	assert_int_equal(c.reassembly_buffers, 100);
	assert_int_equal(c.reassembly_buffer_size, 65536);
	assert_int_equal(c.names, 4096);
	assert_int_equal(c.dns_cache, 2048);
	assert_int_equal(c.dns_min_ttl_s, 0);
	assert_int_equal(c.dns_max_ttl_s, 3600);
}

/* Keys not in the file keep their defaults (README: the documented defaults). */
static void test_defaults_kept(void **state)
{
	(void)state;
	struct config c;
	char err[1024];
	assert_int_equal(load("flows:\n  udp_timeout: 90s\n", &c, err, sizeof(err)), 0);
	assert_int_equal(c.udp_timeout_s, 90);
	assert_int_equal(c.tcp_timeout_s, 300);	      /* 5m */
	assert_int_equal(c.tcp_closed_timeout_s, 120); /* 2m */
	assert_int_equal(c.other_timeout_s, 60);       /* 1m */
	assert_int_equal(c.active_timeout_s, 1800);    /* 30m */
	assert_string_equal(c.sensor_name, "egressd");
	uint8_t a[16] = { 192, 168, 1, 1 };
	assert_true(netset_contains(&c.home_net, 4, a)); /* RFC 1918 default */

	/* an empty file, and one with only a comment, are valid */
	assert_int_equal(load("", &c, err, sizeof(err)), 0);
	assert_int_equal(load("# nothing\n", &c, err, sizeof(err)), 0);
	assert_int_equal(c.max_flows, 1000000);

	/* sizes in powers of 1000 inside the file; home_net as a comma-separated scalar */
	assert_int_equal(load("l7:\n  reassembly_buffer_size: 16KB\n"
			      "home_net: 10.0.0.0/8, 172.16.0.0/12\n",
			      &c, err, sizeof(err)),
			 0);
	assert_int_equal(c.reassembly_buffer_size, 16000);
	assert_int_equal(c.home_net.n, 2);
}

static void test_unknown_key_exact(void **state)
{
	(void)state;
	struct config c;
	char err[1024];
	int n = load("flows:\n"
		     "  max_flows: 10\n"
		     "  x: 1\n",
		     &c, err, sizeof(err));
	assert_int_equal(n, 1);
	assert_string_equal(err, "F:3:3: unknown key 'flows.x'\n");
	assert_int_equal(c.max_flows, 10); /* the good key still applies */

	n = load("sensor_name: a\n"
		 "colour: blue\n",
		 &c, err, sizeof(err));
	assert_int_equal(n, 1);
	assert_string_equal(err, "F:2:1: unknown key 'colour'\n");

	/* a row name at the wrong level is unknown there */
	n = load("max_flows: 10\n", &c, err, sizeof(err));
	assert_int_equal(n, 1);
	assert_string_equal(err, "F:1:1: unknown key 'max_flows'\n");
	n = load("l7:\n    tcp_timeout: 10s\n", &c, err, sizeof(err));
	assert_int_equal(n, 1);
	assert_string_equal(err, "F:2:5: unknown key 'l7.tcp_timeout'\n");
}

static void expect_one_problem(const char *yaml, const char *prefix, const char *needle)
{
	struct config c;
	char err[2048];
	int n = load(yaml, &c, err, sizeof(err));
	if (n != 1 || strncmp(err, prefix, strlen(prefix)) != 0 ||
	    (needle && !strstr(err, needle)) || count_lines(err) != 1)
		fail_msg("for\n%s\nwant 1 problem starting '%s' containing '%s', got %d:\n%s", yaml,
			 prefix, needle ? needle : "", n, err);
}

static void test_out_of_range(void **state)
{
	(void)state;
	struct config c;
	char err[1024];

	/* limits that must be accepted */
	assert_int_equal(load("flows:\n  tcp_timeout: 24h\n  max_flows: 1\n", &c, err, sizeof(err)), 0);
	assert_int_equal(c.tcp_timeout_s, 86400);
	assert_int_equal(c.max_flows, 1);
	assert_int_equal(load("flows:\n  active_timeout: 0s\n", &c, err, sizeof(err)), 0);
	assert_int_equal(c.active_timeout_s, 0);
	/* sensor.yaml.example: "Size: 12KiB to 64KiB" */
	assert_int_equal(load("l7:\n  reassembly_buffer_size: 12KiB\n", &c, err, sizeof(err)), 0);
	assert_int_equal(c.reassembly_buffer_size, 12288);
	assert_int_equal(load("l7:\n  reassembly_buffer_size: 64KiB\n", &c, err, sizeof(err)), 0);
	assert_int_equal(c.reassembly_buffer_size, 65536);
	/* a duration written in milliseconds that is a whole number of seconds */
	assert_int_equal(load("flows:\n  udp_timeout: 2000ms\n", &c, err, sizeof(err)), 0);
	assert_int_equal(c.udp_timeout_s, 2);

	/* one past the limits; the value is reported where it is written */
	expect_one_problem("flows:\n  tcp_timeout: 86401s\n", "F:2:16: flows.tcp_timeout", "range");
	expect_one_problem("flows:\n  tcp_timeout: 2d\n", "F:2:16: flows.tcp_timeout", "range");
	expect_one_problem("flows:\n  max_flows: 0\n", "F:2:14: flows.max_flows", "range");
	expect_one_problem("flows:\n  max_flows: 1073741825\n", "F:2:14: flows.max_flows", "range");
	expect_one_problem("flows:\n  fragments: 15\n", "F:2:14: flows.fragments", "range");
	expect_one_problem("l7:\n  reassembly_buffer_size: 1MiB\n",
			   "F:2:27: l7.reassembly_buffer_size", "range");
	expect_one_problem("l7:\n  reassembly_buffer_size: 12287\n",
			   "F:2:27: l7.reassembly_buffer_size", "range");
	expect_one_problem("l7:\n  reassembly_buffer_size: 65537\n",
			   "F:2:27: l7.reassembly_buffer_size", "range");
	expect_one_problem("flows:\n  max_flows: 99999999999999999999999\n",
			   "F:2:14: flows.max_flows", NULL);
	/* a value that is not a whole number / duration / size */
	expect_one_problem("flows:\n  max_flows: lots\n", "F:2:14: flows.max_flows", "lots");
	expect_one_problem("flows:\n  max_flows: -1\n", "F:2:14: flows.max_flows", NULL);
	expect_one_problem("flows:\n  udp_timeout: soon\n", "F:2:16: flows.udp_timeout", "soon");
	expect_one_problem("l7:\n  reassembly_buffer_size: big\n",
			   "F:2:27: l7.reassembly_buffer_size", "big");
	expect_one_problem("sensor_name: [a, b]\n", "F:1:14: sensor_name", NULL);
	expect_one_problem("sensor_name: "
			   "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\n",
			   "F:1:14: sensor_name", NULL); /* 64 characters: one too many */
	expect_one_problem("flows: 5\n", "F:1:8: flows", NULL);
	expect_one_problem("home_net: []\n", "F:1:11: home_net", NULL);
	expect_one_problem("l7:\n  dns_min_ttl: 2h\n  dns_max_ttl: 1h\n", "F:", "dns_min_ttl");
	expect_one_problem("- a\n- b\n", "F:1:1:", NULL); /* the top level is a list */

	/* a rejected value leaves the default in place */
	load("flows:\n  tcp_timeout: 2d\n", &c, err, sizeof(err));
	assert_int_equal(c.tcp_timeout_s, 300);
}

/* One malformed block in a list is one problem, reported at the block. The list is not
 * empty, so "home_net: empty list" must not be reported on top of it. */
static void test_bad_cidr_single_report(void **state)
{
	(void)state;
	expect_one_problem("home_net:\n  - 10.0.0.0/8\n  - abc\n", "F:3:5: home_net", "abc");
	expect_one_problem("home_net: [10.0.0.0/33]\n", "F:1:12: home_net", "10.0.0.0/33");
}

/* Every problem is reported, each on its own line, in file order; the return value is
 * their number; good values around them still apply. */
static void test_several_problems(void **state)
{
	(void)state;
	struct config c;
	char err[4096];
	int n = load("sensor_name: edge-1\n"		      /* 1 */
		     "bogus: 1\n"			      /* 2: unknown key */
		     "flows:\n"				      /* 3 */
		     "  max_flows: 0\n"			      /* 4: out of range */
		     "  tcp_timeout: soon\n"		      /* 5: not a duration */
		     "  udp_timeout: 30s\n"		      /* 6: fine */
		     "home_net: [10.0.0.0/8, 10.0.0.0/33]\n" /* 7: bad CIDR */
		     "l7:\n"				      /* 8 */
		     "  reassembly_buffer_size: 1MiB\n",     /* 9: out of range */
		     &c, err, sizeof(err));
	assert_int_equal(n, 5);
	assert_int_equal(count_lines(err), 5);
	static const char *const starts[5] = {
		"F:2:1: unknown key 'bogus'",
		"F:4:14: flows.max_flows",
		"F:5:16: flows.tcp_timeout",
		"F:7:24: home_net",
		"F:9:27: l7.reassembly_buffer_size",
	};
	const char *line = err;
	for (int i = 0; i < 5; i++) {
		if (strncmp(line, starts[i], strlen(starts[i])) != 0)
			fail_msg("problem %d: want '%s...', got:\n%s", i + 1, starts[i], err);
		line = strchr(line, '\n') + 1;
	}
	assert_string_equal(c.sensor_name, "edge-1");
	assert_int_equal(c.udp_timeout_s, 30);
	assert_int_equal(c.max_flows, 1000000);
	assert_int_equal(c.tcp_timeout_s, 300);
}

static void test_yaml_syntax(void **state)
{
	(void)state;
	struct config c;
	char err[1024];
	/* line 3 puts a second mapping value on one line: not YAML */
	int n = load("sensor_name: x\n"
		     "flows:\n"
		     "  max_flows: 5: 6\n",
		     &c, err, sizeof(err));
	assert_int_equal(n, 1);
	if (strncmp(err, "F:3:", 4) != 0 || !strstr(err, "YAML syntax"))
		fail_msg("want 'F:3:<col>: YAML syntax: ...', got: %s", err);
	assert_int_equal(count_lines(err), 1);

	/* an unclosed flow sequence opened on line 2, file ends on line 4 */
	n = load("sensor_name: x\n"
		 "home_net: [10.0.0.0/8,\n"
		 "  192.168.0.0/16\n"
		 "flows: {}\n",
		 &c, err, sizeof(err));
	assert_int_equal(n, 1);
	if (strncmp(err, "F:", 2) != 0 || !strstr(err, "YAML syntax"))
		fail_msg("got: %s", err);

	/* a tab where indentation is expected (line 2) */
	n = load("flows:\n\tmax_flows: 5\n", &c, err, sizeof(err));
	assert_int_equal(n, 1);
	if (strncmp(err, "F:2:", 4) != 0 || !strstr(err, "YAML syntax"))
		fail_msg("want 'F:2:<col>: YAML syntax: ...', got: %s", err);
}

static void test_missing_file(void **state)
{
	(void)state;
	struct config c;
	char err[1024];
	config_defaults(&c);
	int n = config_load(&c, "/nonexistent/egressd/sensor.yaml", err, sizeof(err));
	assert_int_equal(n, 1);
	assert_non_null(strstr(err, "/nonexistent/egressd/sensor.yaml"));
	assert_int_equal(c.max_flows, 1000000);
}

static void test_outputs(void **state)
{
	(void)state;
	struct config c;
	char err[2048];

	int n = load("outputs:\n"
		     "  - stdout\n"
		     "  - file: /var/log/egressd/flows.json\n",
		     &c, err, sizeof(err));
	if (n)
		fail_msg("%s", err);
	assert_int_equal(c.noutputs, 2);
	assert_int_equal(c.outputs[0].kind, SINK_STDOUT);
	assert_int_equal(c.outputs[1].kind, SINK_FILE);
	assert_string_equal(c.outputs[1].path, "/var/log/egressd/flows.json");

	n = load("outputs: [stdout, {file: /tmp/a.json}, {file: b.json}]\n", &c, err, sizeof(err));
	assert_int_equal(n, 0);
	assert_int_equal(c.noutputs, 3);
	assert_int_equal(c.outputs[0].kind, SINK_STDOUT);
	assert_string_equal(c.outputs[1].path, "/tmp/a.json");
	assert_string_equal(c.outputs[2].path, "b.json");

	n = load("outputs: []\n", &c, err, sizeof(err));
	assert_int_equal(n, 0);
	assert_int_equal(c.noutputs, 0);

	/* an unknown output is a problem at its position; the others still count */
	n = load("outputs:\n"
		 "  - stdout\n"
		 "  - syslog\n"
		 "  - {redis: localhost}\n"
		 "  - {file: ''}\n",
		 &c, err, sizeof(err));
	assert_int_equal(n, 3);
	assert_int_equal(count_lines(err), 3);
	assert_true(strncmp(err, "F:3:5: outputs", 14) == 0);
	assert_non_null(strstr(err, "\nF:4:13: outputs: redis: expected a mapping"));
	assert_non_null(strstr(err, "\nF:5:12: outputs: file: expected a path"));
	assert_int_equal(c.noutputs, 1);

	/* not a list */
	expect_one_problem("outputs: stdout\n", "F:1:10: outputs", NULL);

	/* CONFIG_MAX_OUTPUTS fit, one more is a problem */
	char y[1024] = "outputs:\n";
	for (int i = 0; i < CONFIG_MAX_OUTPUTS + 1; i++) {
		char line[64];
		snprintf(line, sizeof(line), "  - file: /tmp/o%d\n", i);
		strcat(y, line);
	}
	n = load(y, &c, err, sizeof(err));
	assert_int_equal(n, 1);
	assert_int_equal(c.noutputs, CONFIG_MAX_OUTPUTS);
	assert_string_equal(c.outputs[CONFIG_MAX_OUTPUTS - 1].path, "/tmp/o7");
	assert_true(strncmp(err, "F:10:5: outputs", 15) == 0);
}

static void test_outputs_redis(void **state)
{
	(void)state;
	struct config c;
	char err[4096];

	int n = load("outputs:\n"
		     "  - redis: {host: 10.1.2.3, port: 6380, db: 2, user: sensor,\n"
		     "            password_file: /etc/egressd/redis.pass, stream: \"s:1\",\n"
		     "            maxlen: 5000, field: eve, dedupe: event-id, dedupe_ttl: 2d,\n"
		     "            timeout: 500ms, drain: 3s, queue: 100,\n"
		     "            spool: {path: /var/lib/egressd/spool, max_size: 20MB,\n"
		     "                    fsync: always}}\n"
		     "  - redis: {unix: /run/redis.sock, spool: /tmp/sp}\n"
		     "  - \"unix:/run/r.sock?stream=k&maxlen=0\"\n",
		     &c, err, sizeof(err));
	if (n)
		fail_msg("%s", err);
	assert_int_equal(c.noutputs, 3);
	const struct redis_opts *r = &c.outputs[0].redis;
	assert_int_equal(c.outputs[0].kind, SINK_REDIS);
	assert_string_equal(r->host, "10.1.2.3");
	assert_int_equal(r->port, 6380);
	assert_int_equal(r->db, 2);
	assert_string_equal(r->user, "sensor");
	assert_string_equal(r->password_file, "/etc/egressd/redis.pass");
	assert_string_equal(r->password, "");
	assert_string_equal(r->stream, "s:1");
	assert_int_equal(r->maxlen, 5000);
	assert_string_equal(r->field, "eve");
	assert_int_equal(r->dedupe, REDIS_DEDUPE_EVENT_ID);
	assert_int_equal(r->dedupe_ttl_s, 2 * 86400);
	assert_int_equal(r->timeout_ms, 500);
	assert_int_equal(r->drain_ms, 3000);
	assert_int_equal(r->queue_max, 100);
	assert_string_equal(r->spool, "/var/lib/egressd/spool");
	assert_int_equal(r->spool_max, 20000000);
	assert_int_equal(r->fsync, REDIS_FSYNC_ALWAYS);
	r = &c.outputs[1].redis;
	assert_string_equal(r->unix_path, "/run/redis.sock");
	assert_string_equal(r->host, "");
	assert_string_equal(r->spool, "/tmp/sp");
	assert_string_equal(r->stream, "egressd:alerts"); /* defaults */
	assert_int_equal(r->maxlen, 100000);
	assert_int_equal(r->dedupe, REDIS_DEDUPE_ID);
	assert_int_equal(r->fsync, REDIS_FSYNC_BATCH);
	assert_string_equal(c.outputs[2].redis.stream, "k");
	assert_int_equal(c.outputs[2].redis.maxlen, 0);

	/* each problem at its place; a password in a URL is refused in the file */
	n = load("outputs:\n"
		 "  - redis: {host: a, unix: /b}\n"
		 "  - redis: {port: 70000}\n"
		 "  - redis: {dedupe: maybe, spool: {path: /x, colour: red}}\n"
		 "  - \"redis://u:secret@h:1\"\n"
		 "  - redis: {password: a, password_env: B}\n",
		 &c, err, sizeof(err));
	assert_int_equal(n, 6);
	assert_non_null(strstr(err, "F:2:12: outputs: redis: give host/port or unix"));
	assert_non_null(strstr(err, "F:3:19: outputs: redis: port"));
	assert_non_null(strstr(err, "F:4:21: outputs: redis: dedupe"));
	/* an unknown key is not quoted (it may be the password): named by its position */
	assert_non_null(strstr(err, "F:4:46: outputs: redis: spool: unknown key (path, "));
	assert_null(strstr(err, "colour"));
	assert_non_null(strstr(err, "F:5:5: outputs: give the redis password"));
	assert_non_null(strstr(err, "F:6:12: outputs: redis: give the redis password one way"));
	assert_null(strstr(err, "secret"));
}

static void test_capture_and_health(void **state)
{
	(void)state;
	struct config c;
	char err[2048];

	int n = load("capture: {interface: eth1, snaplen: 200, promisc: false,\n"
		     "          buffer_size: 256MiB, filter: \"not port 22\", timeout: 50ms}\n"
		     "health: {interval: 5s, loss_percent: 3, idle_after: 0s}\n",
		     &c, err, sizeof(err));
	if (n)
		fail_msg("%s", err);
	assert_string_equal(c.capture_interface.text, "eth1");
	assert_int_equal(c.snaplen, 200);
	assert_int_equal(c.promisc, 0);
	assert_int_equal(c.buffer_bytes, 256u << 20);
	assert_string_equal(c.capture_filter.text, "not port 22");
	assert_int_equal(c.capture_timeout_ms, 50);
	assert_int_equal(c.health_interval_s, 5);
	assert_int_equal(c.health_loss_percent, 3);
	assert_int_equal(c.health_idle_s, 0);
	n = load("capture: {promisc: maybe, snaplen: 10, buffer_size: 1KB}\n", &c, err,
		 sizeof(err));
	assert_int_equal(n, 3);
	assert_non_null(strstr(err, "capture.promisc: 'maybe' is not true or false"));
	assert_non_null(strstr(err, "capture.snaplen"));
	assert_non_null(strstr(err, "capture.buffer_size"));
}

/* A small error buffer is never overrun, and the count is still the full count. */
static void test_small_err_buffer(void **state)
{
	(void)state;
	struct config c;
	struct tmpcfg t;
	write_cfg(&t, "a: 1\nb: 2\nc: 3\nd: 4\n");
	config_defaults(&c);
	char *err = malloc(40); /* exact size: ASan sees any overrun */
	assert_non_null(err);
	int n = config_load(&c, t.path, err, 40);
	assert_int_equal(n, 4);
	assert_true(strlen(err) < 40);
	free(err);
	unlink(t.path);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_durations),	 cmocka_unit_test(test_sizes),
		cmocka_unit_test(test_values),		 cmocka_unit_test(test_defaults_kept),
		cmocka_unit_test(test_unknown_key_exact), cmocka_unit_test(test_out_of_range),
		cmocka_unit_test(test_bad_cidr_single_report),
		cmocka_unit_test(test_several_problems), cmocka_unit_test(test_yaml_syntax),
		cmocka_unit_test(test_missing_file),	 cmocka_unit_test(test_outputs),
		cmocka_unit_test(test_outputs_redis), cmocka_unit_test(test_capture_and_health),
		cmocka_unit_test(test_small_err_buffer),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
