/* sink-spec: output specifications from the command line (URLs) and the password sources. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <unistd.h>

#include <cmocka.h>

#include "sink-spec.h"

static void parse_ok(const char *text, struct sink_spec *s)
{
	char err[512];
	if (!sink_spec_parse(text, s, err, sizeof(err)))
		fail_msg("%s: %s", text, err);
}

static void parse_bad(const char *text, const char *want)
{
	struct sink_spec s;
	char err[512] = "";
	assert_false(sink_spec_parse(text, &s, err, sizeof(err)));
	if (!strstr(err, want))
		fail_msg("%s: got '%s', want '%s'", text, err, want);
}

static void test_simple(void **state)
{
	(void)state;
	struct sink_spec s;
	parse_ok("stdout", &s);
	assert_int_equal(s.kind, SINK_STDOUT);
	parse_ok("file:/var/log/a b.json", &s);
	assert_int_equal(s.kind, SINK_FILE);
	assert_string_equal(s.path, "/var/log/a b.json");
	parse_bad("file:", "no path");
	parse_bad("syslog", "unknown");
	parse_bad("rediss://h:1", "TLS");
}

static void test_redis_url(void **state)
{
	(void)state;
	struct sink_spec s;
	parse_ok("redis://10.1.2.3", &s);
	assert_int_equal(s.kind, SINK_REDIS);
	assert_string_equal(s.redis.host, "10.1.2.3");
	assert_int_equal(s.redis.port, 6379);
	assert_int_equal(s.redis.db, 0);
	assert_string_equal(s.redis.stream, "egressd:alerts");
	assert_int_equal(s.redis.maxlen, 100000);
	assert_string_equal(s.redis.field, "event");
	assert_int_equal(s.redis.dedupe, REDIS_DEDUPE_ID);
	assert_int_equal(s.redis.timeout_ms, 2000);

	parse_ok("redis://sensor%2D1@[::1]:6380/3?stream=a%3Ab&maxlen=7&field=eve&dedupe=none"
		 "&timeout=250ms&drain=0s&spool=/var/spool/e&spool_max=5MB&fsync=never"
		 "&password_env=PW&queue=64",
		 &s);
	assert_string_equal(s.redis.user, "sensor-1");
	assert_string_equal(s.redis.host, "::1");
	assert_int_equal(s.redis.port, 6380);
	assert_int_equal(s.redis.db, 3);
	assert_string_equal(s.redis.stream, "a:b");
	assert_int_equal(s.redis.maxlen, 7);
	assert_string_equal(s.redis.field, "eve");
	assert_int_equal(s.redis.dedupe, REDIS_DEDUPE_NONE);
	assert_int_equal(s.redis.timeout_ms, 250);
	assert_int_equal(s.redis.drain_ms, 0);
	assert_string_equal(s.redis.spool, "/var/spool/e");
	assert_int_equal(s.redis.spool_max, 5000000);
	assert_int_equal(s.redis.fsync, REDIS_FSYNC_NEVER);
	assert_string_equal(s.redis.password_env, "PW");
	assert_int_equal(s.redis.queue_max, 64);
	assert_false(s.redis.password_in_url);

	parse_ok("unix:/run/redis/redis.sock?db=2&user=u&stream=s", &s);
	assert_string_equal(s.redis.unix_path, "/run/redis/redis.sock");
	assert_string_equal(s.redis.host, "");
	assert_int_equal(s.redis.db, 2);
	assert_string_equal(s.redis.user, "u");

	parse_bad("redis://h:0", "port");
	parse_bad("redis://h:99999", "port");
	parse_bad("redis://:6379", "no host");
	parse_bad("redis://[::1", "']'");
	parse_bad("redis://h/x", "db");
	parse_bad("redis://h?stream=", "stream");
	parse_bad("redis://h?stream=a%20b", "stream");
	parse_bad("redis://h?field=kind", "field");
	parse_bad("redis://h?dedupe=yes", "dedupe");
	parse_bad("redis://h?fsync=sometimes", "fsync");
	parse_bad("redis://h?timeout=forever", "timeout");
	parse_bad("redis://h?colour=red", "unknown redis setting 'colour'");
	parse_bad("redis://h?maxlen", "KEY=VALUE");
	parse_bad("redis://h?stream=%zz", "malformed");
	parse_bad("redis://h?password=x", "password_env or password_file");
	parse_bad("redis://h?host=x", "address part");
	parse_bad("unix:", "socket path");
	parse_bad("redis://h?password_env=A&password_file=/b", "one way");
}

/* A mistyped URL holding a password: refused, and no part of the password quoted. */
static void parse_bad_secret(const char *text, const char *want)
{
	parse_bad(text, want);
	struct sink_spec s;
	char err[512] = "";
	assert_false(sink_spec_parse(text, &s, err, sizeof(err)));
	if (strstr(err, "Pw7") || strstr(err, "s3c"))
		fail_msg("%s: the password is in '%s'", text, err);
}

static void test_mistyped_url_quotes_no_password(void **state)
{
	(void)state;
	parse_bad_secret("Redis://u:Pw7s3c@h:6379", "output 'Redis:...': unknown");
	parse_bad_secret("redis:/u:Pw7s3c@h:6379", "output 'redis:...': unknown");
	parse_bad_secret("redis://u:Pw7/s3c@h:6379", "'@' after the address");
	parse_bad_secret("redis://u:Pw7?s3c@h:6379", "'@' after the address");
	parse_bad_secret("redis://u:Pw7s3c@h:6379/0?spool=/a@b", "'@' after the address");
	parse_bad("stdot", "output 'stdot': unknown");
	struct sink_spec s;
	parse_ok("redis://u:Pw7%2Fs3c@h:6379/0?spool=/a%40b", &s);
	assert_string_equal(s.redis.password, "Pw7/s3c");
	assert_string_equal(s.redis.spool, "/a@b");
	assert_true(redis_opts_known("password_file"));
	assert_true(redis_opts_known("spool_max"));
	assert_false(redis_opts_known("Pw7s3c"));
	assert_false(redis_opts_known("spool.path"));
}

static void test_password_in_url(void **state)
{
	(void)state;
	struct sink_spec s;
	char text[] = "redis://egressd:p%40ss:w@127.0.0.1:6379/0?stream=x";
	size_t off, len;
	parse_ok(text, &s);
	assert_true(s.redis.password_in_url);
	assert_string_equal(s.redis.user, "egressd");
	assert_string_equal(s.redis.password, "p@ss:w");
	assert_true(sink_spec_password_span(text, &off, &len));
	assert_int_equal(len, strlen("p%40ss:w"));
	assert_memory_equal(text + off, "p%40ss:w", len);
	assert_false(sink_spec_password_span("redis://u@h:1", &off, &len));
	assert_false(sink_spec_password_span("unix:/x?user=a", &off, &len));
	/* messages name the target, never the password */
	char d[512];
	redis_opts_describe(&s.redis, d, sizeof(d));
	assert_string_equal(d, "redis 127.0.0.1:6379 stream x user egressd");
	assert_null(strstr(d, "p@ss"));
	parse_bad("redis://u:%zz@h:1", "password is malformed");
}

static void test_password_sources(void **state)
{
	(void)state;
	struct redis_opts o;
	char err[512];
	char path[] = "/tmp/egressd-pw-XXXXXX";
	int fd = mkstemp(path);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, "s3cret\nsecond line\n", 19), 19);
	close(fd);

	redis_opts_defaults(&o);
	snprintf(o.password_file, sizeof(o.password_file), "%s", path);
	assert_true(redis_opts_resolve_password(&o, err, sizeof(err)));
	assert_string_equal(o.password, "s3cret");

	redis_opts_defaults(&o);
	snprintf(o.password_file, sizeof(o.password_file), "/nonexistent/pw");
	assert_false(redis_opts_resolve_password(&o, err, sizeof(err)));
	assert_non_null(strstr(err, "/nonexistent/pw"));

	setenv("EGRESSD_TEST_PW", "from-env", 1);
	redis_opts_defaults(&o);
	snprintf(o.password_env, sizeof(o.password_env), "EGRESSD_TEST_PW");
	assert_true(redis_opts_resolve_password(&o, err, sizeof(err)));
	assert_string_equal(o.password, "from-env");

	redis_opts_defaults(&o);
	snprintf(o.password_env, sizeof(o.password_env), "EGRESSD_TEST_UNSET");
	unsetenv("EGRESSD_TEST_UNSET");
	assert_false(redis_opts_resolve_password(&o, err, sizeof(err)));
	assert_non_null(strstr(err, "EGRESSD_TEST_UNSET"));

	/* no source named: EGRESSD_REDIS_PASSWORD if set, else none */
	unsetenv("EGRESSD_REDIS_PASSWORD");
	redis_opts_defaults(&o);
	assert_true(redis_opts_resolve_password(&o, err, sizeof(err)));
	assert_string_equal(o.password, "");
	setenv("EGRESSD_REDIS_PASSWORD", "dflt", 1);
	assert_true(redis_opts_resolve_password(&o, err, sizeof(err)));
	assert_string_equal(o.password, "dflt");
	unsetenv("EGRESSD_REDIS_PASSWORD");

	/* an empty first line, or one longer than we hold, is refused */
	fd = open(path, O_WRONLY | O_TRUNC);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, "\nx\n", 3), 3);
	close(fd);
	redis_opts_defaults(&o);
	snprintf(o.password_file, sizeof(o.password_file), "%s", path);
	assert_false(redis_opts_resolve_password(&o, err, sizeof(err)));
	assert_non_null(strstr(err, "empty"));
	fd = open(path, O_WRONLY | O_TRUNC);
	char big[REDIS_PASSWORD_MAX + 10];
	memset(big, 'a', sizeof(big));
	assert_int_equal(write(fd, big, sizeof(big)), (ssize_t)sizeof(big));
	close(fd);
	assert_false(redis_opts_resolve_password(&o, err, sizeof(err)));
	assert_non_null(strstr(err, "longer"));
	assert_null(strstr(err, "aaaa"));
	unlink(path);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_simple),
		cmocka_unit_test(test_redis_url),
		cmocka_unit_test(test_password_in_url),
		cmocka_unit_test(test_mistyped_url_quotes_no_password),
		cmocka_unit_test(test_password_sources),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
