/* sink-spec.c: output specifications from the command line and sensor.yaml (see
 * sink-spec.h). */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config.h"
#include "sink-spec.h"

void redis_opts_defaults(struct redis_opts *o)
{
	memset(o, 0, sizeof(*o));
	snprintf(o->host, sizeof(o->host), "127.0.0.1");
	o->port = 6379;
	snprintf(o->stream, sizeof(o->stream), "%s", REDIS_DEFAULT_STREAM);
	o->maxlen = REDIS_DEFAULT_MAXLEN;
	snprintf(o->field, sizeof(o->field), "event");
	o->dedupe = REDIS_DEDUPE_ID;
	o->dedupe_ttl_s = 7 * 86400;
	o->timeout_ms = 2000;
	o->drain_ms = 10000;
	o->queue_max = 65536;
	o->spool_max = 1000000000ULL;
	o->fsync = REDIS_FSYNC_BATCH;
}

static bool copy_str(char *dst, size_t cap, const char *key, const char *v, char *err,
		     size_t errlen)
{
	size_t n = strlen(v);
	if (n >= cap) {
		snprintf(err, errlen, "%s: longer than %zu characters", key, cap - 1);
		return false;
	}
	memcpy(dst, v, n + 1);
	return true;
}

static bool parse_uint(const char *key, const char *v, uint64_t min, uint64_t max,
		       uint64_t *out, char *err, size_t errlen)
{
	char *end;
	if (!isdigit((unsigned char)*v)) {
		snprintf(err, errlen, "%s: expected a number, got '%.64s'", key, v);
		return false;
	}
	errno = 0;
	unsigned long long x = strtoull(v, &end, 10);
	if (errno || *end || x < min || x > max) {
		snprintf(err, errlen, "%s: '%.64s' is not a number from %llu to %llu", key, v,
			 (unsigned long long)min, (unsigned long long)max);
		return false;
	}
	*out = x;
	return true;
}

static bool parse_ms(const char *key, const char *v, uint64_t min, uint64_t max,
		     uint32_t *out, char *err, size_t errlen)
{
	uint64_t ms;
	if (!config_parse_duration_ms(v, &ms) || ms < min || ms > max) {
		snprintf(err, errlen, "%s: '%.64s' is not a duration from %llums to %llus", key, v,
			 (unsigned long long)min, (unsigned long long)(max / 1000));
		return false;
	}
	*out = (uint32_t)ms;
	return true;
}

/* A stream key or field name: printable, no spaces (they travel as RESP bulk strings,
 * but a key an operator cannot type into redis-cli helps nobody). */
static bool plain_name(const char *v)
{
	if (!*v)
		return false;
	for (const unsigned char *p = (const unsigned char *)v; *p; p++)
		if (*p <= ' ' || *p >= 0x7f)
			return false;
	return true;
}

bool redis_opts_set(struct redis_opts *o, const char *key, const char *v, char *err,
		    size_t errlen)
{
	uint64_t x;

	if (strcmp(key, "host") == 0) {
		if (!*v) {
			snprintf(err, errlen, "host: empty");
			return false;
		}
		return copy_str(o->host, sizeof(o->host), key, v, err, errlen);
	}
	if (strcmp(key, "port") == 0) {
		if (!parse_uint(key, v, 1, 65535, &x, err, errlen))
			return false;
		o->port = (uint16_t)x;
		return true;
	}
	if (strcmp(key, "unix") == 0) {
		if (!*v) {
			snprintf(err, errlen, "unix: empty socket path");
			return false;
		}
		return copy_str(o->unix_path, sizeof(o->unix_path), key, v, err, errlen);
	}
	if (strcmp(key, "db") == 0) {
		if (!parse_uint(key, v, 0, 65535, &x, err, errlen))
			return false;
		o->db = (uint32_t)x;
		return true;
	}
	if (strcmp(key, "user") == 0)
		return copy_str(o->user, sizeof(o->user), key, v, err, errlen);
	if (strcmp(key, "password") == 0) {
		if (strlen(v) >= sizeof(o->password)) {
			snprintf(err, errlen, "password: longer than %zu characters",
				 sizeof(o->password) - 1);
			return false;
		}
		snprintf(o->password, sizeof(o->password), "%s", v);
		return true;
	}
	if (strcmp(key, "password_env") == 0)
		return copy_str(o->password_env, sizeof(o->password_env), key, v, err, errlen);
	if (strcmp(key, "password_file") == 0)
		return copy_str(o->password_file, sizeof(o->password_file), key, v, err, errlen);
	if (strcmp(key, "stream") == 0) {
		if (!plain_name(v)) {
			snprintf(err, errlen, "stream: '%.64s' is not a usable key (printable, no spaces)",
				 v);
			return false;
		}
		return copy_str(o->stream, sizeof(o->stream), key, v, err, errlen);
	}
	if (strcmp(key, "maxlen") == 0)
		return parse_uint(key, v, 0, UINT64_MAX / 2, &o->maxlen, err, errlen);
	if (strcmp(key, "field") == 0) {
		if (!plain_name(v) || strcmp(v, "kind") == 0 || strcmp(v, "rule") == 0 ||
		    strcmp(v, "sev") == 0) {
			snprintf(err, errlen, "field: '%.31s' cannot name the document "
					      "(use event, or eve for tools made for Suricata)",
				 v);
			return false;
		}
		return copy_str(o->field, sizeof(o->field), key, v, err, errlen);
	}
	if (strcmp(key, "dedupe") == 0) {
		if (strcmp(v, "id") == 0)
			o->dedupe = REDIS_DEDUPE_ID;
		else if (strcmp(v, "event-id") == 0)
			o->dedupe = REDIS_DEDUPE_EVENT_ID;
		else if (strcmp(v, "none") == 0)
			o->dedupe = REDIS_DEDUPE_NONE;
		else {
			snprintf(err, errlen, "dedupe: '%.32s' is not id, event-id or none", v);
			return false;
		}
		return true;
	}
	if (strcmp(key, "dedupe_ttl") == 0) {
		uint32_t ms;
		if (!parse_ms(key, v, 60000, 365ULL * 86400000, &ms, err, errlen)) {
			/* the ms field is 32 bits: a year does not fit, say it in seconds */
			uint64_t t;
			if (!config_parse_duration_ms(v, &t) || t < 60000 || t > 365ULL * 86400000)
				return false;
			o->dedupe_ttl_s = (uint32_t)(t / 1000);
			return true;
		}
		o->dedupe_ttl_s = ms / 1000;
		return true;
	}
	if (strcmp(key, "timeout") == 0)
		return parse_ms(key, v, 10, 600000, &o->timeout_ms, err, errlen);
	if (strcmp(key, "drain") == 0)
		return parse_ms(key, v, 0, 3600000, &o->drain_ms, err, errlen);
	if (strcmp(key, "queue") == 0) {
		if (!parse_uint(key, v, 16, 1u << 24, &x, err, errlen))
			return false;
		o->queue_max = (uint32_t)x;
		return true;
	}
	if (strcmp(key, "spool") == 0 || strcmp(key, "spool.path") == 0) {
		if (!*v) {
			snprintf(err, errlen, "spool: empty directory");
			return false;
		}
		return copy_str(o->spool, sizeof(o->spool), "spool", v, err, errlen);
	}
	if (strcmp(key, "spool_max") == 0 || strcmp(key, "spool.max_size") == 0) {
		if (!config_parse_size(v, &x) || x < 65536) {
			snprintf(err, errlen, "spool max_size: '%.32s' is not a size of at least 64KiB",
				 v);
			return false;
		}
		o->spool_max = x;
		return true;
	}
	if (strcmp(key, "fsync") == 0 || strcmp(key, "spool.fsync") == 0) {
		if (strcmp(v, "batch") == 0)
			o->fsync = REDIS_FSYNC_BATCH;
		else if (strcmp(v, "always") == 0)
			o->fsync = REDIS_FSYNC_ALWAYS;
		else if (strcmp(v, "never") == 0)
			o->fsync = REDIS_FSYNC_NEVER;
		else {
			snprintf(err, errlen, "fsync: '%.32s' is not batch, always or never", v);
			return false;
		}
		return true;
	}
	snprintf(err, errlen,
		 "unknown redis setting '%.64s' (host, port, unix, db, user, password, "
		 "password_env, password_file, stream, maxlen, field, dedupe, dedupe_ttl, timeout, "
		 "drain, queue, spool, spool_max, fsync)",
		 key);
	return false;
}

bool redis_opts_known(const char *key)
{
	static const char *const keys[] = { "host",	 "port",      "unix",	    "db",
					    "user",	 "password",  "password_env",
					    "password_file", "stream", "maxlen", "field",
					    "dedupe",	 "dedupe_ttl", "timeout",   "drain",
					    "queue",	 "spool",     "spool_max", "fsync" };
	for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++)
		if (strcmp(key, keys[i]) == 0)
			return true;
	return false;
}

bool redis_opts_check(const struct redis_opts *o, char *err, size_t errlen)
{
	int sources = (o->password[0] != 0) + (o->password_env[0] != 0) +
		      (o->password_file[0] != 0);
	if (sources > 1) {
		snprintf(err, errlen,
			 "give the redis password one way: password, password_env or password_file");
		return false;
	}
	return true;
}

static int hexval(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	c = tolower(c);
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

/* Percent-decode [s, s+n) into out (cap bytes). false on a bad escape or overflow. */
static bool pct_decode(const char *s, size_t n, char *out, size_t cap)
{
	size_t k = 0;
	for (size_t i = 0; i < n; i++) {
		int c = (unsigned char)s[i];
		if (c == '%') {
			if (i + 2 >= n)
				return false;
			int h = hexval(s[i + 1]), l = hexval(s[i + 2]);
			if (h < 0 || l < 0)
				return false;
			c = h * 16 + l;
			i += 2;
		}
		if (c == 0 || k + 1 >= cap)
			return false;
		out[k++] = (char)c;
	}
	out[k] = '\0';
	return true;
}

static bool parse_params(struct redis_opts *o, const char *q, char *err, size_t errlen)
{
	while (*q) {
		const char *amp = strchr(q, '&');
		size_t n = amp ? (size_t)(amp - q) : strlen(q);
		const char *eq = memchr(q, '=', n);
		char key[32], val[1024];
		if (!eq || eq == q) {
			snprintf(err, errlen, "redis URL: parameter '%.*s' is not KEY=VALUE",
				 (int)(n > 40 ? 40 : n), q);
			return false;
		}
		if (!pct_decode(q, (size_t)(eq - q), key, sizeof(key)) ||
		    !pct_decode(eq + 1, n - (size_t)(eq + 1 - q), val, sizeof(val))) {
			snprintf(err, errlen, "redis URL: parameter '%.*s' is malformed",
				 (int)((size_t)(eq - q) > 31 ? 31 : (size_t)(eq - q)), q);
			return false;
		}
		if (strcmp(key, "password") == 0) {
			/* a query string is logged by everything that logs URLs */
			snprintf(err, errlen, "redis URL: give the password with password_env or "
					      "password_file, not as a parameter");
			return false;
		}
		if (strcmp(key, "host") == 0 || strcmp(key, "port") == 0 ||
		    strcmp(key, "unix") == 0) {
			snprintf(err, errlen, "redis URL: '%s' belongs in the address part", key);
			return false;
		}
		if (!redis_opts_set(o, key, val, err, errlen))
			return false;
		q += n;
		if (*q == '&')
			q++;
	}
	return true;
}

bool sink_spec_password_span(const char *text, size_t *off, size_t *len)
{
	if (strncmp(text, "redis://", 8) != 0)
		return false;
	const char *auth = text + 8;
	size_t alen = strcspn(auth, "/?");
	const char *at = NULL;
	for (size_t i = 0; i < alen; i++)
		if (auth[i] == '@')
			at = auth + i; /* the last '@' ends the credentials */
	if (!at)
		return false;
	const char *colon = memchr(auth, ':', (size_t)(at - auth));
	if (!colon)
		return false;
	*off = (size_t)(colon + 1 - text);
	*len = (size_t)(at - colon - 1);
	return true;
}

static bool parse_redis_url(const char *text, struct redis_opts *o, char *err, size_t errlen)
{
	const char *p = text + 8; /* "redis://" */
	size_t alen = strcspn(p, "/?");
	const char *end = p + alen, *at = NULL;

	/* an '@' past the address: a user name or password holding a raw '/' or '?' that
	 * would be read as the database and parameters and quoted in messages */
	if (strchr(end, '@')) {
		snprintf(err, errlen, "redis URL: '@' after the address; write '/', '?' and '@' "
				      "in a user name, password or value as %%2F, %%3F and %%40");
		return false;
	}
	for (const char *c = p; c < end; c++)
		if (*c == '@')
			at = c;
	if (at) {
		const char *colon = memchr(p, ':', (size_t)(at - p));
		size_t ulen = colon ? (size_t)(colon - p) : (size_t)(at - p);
		if (!pct_decode(p, ulen, o->user, sizeof(o->user))) {
			snprintf(err, errlen, "redis URL: the user name is malformed or too long");
			return false;
		}
		if (colon) {
			if (!pct_decode(colon + 1, (size_t)(at - colon - 1), o->password,
					sizeof(o->password))) {
				snprintf(err, errlen,
					 "redis URL: the password is malformed or too long");
				return false;
			}
			o->password_in_url = true;
		}
		p = at + 1;
	}
	/* host[:port], host may be [v6] */
	const char *hend, *portp = NULL;
	if (*p == '[') {
		const char *rb = memchr(p, ']', (size_t)(end - p));
		if (!rb) {
			snprintf(err, errlen, "redis URL: '[' without ']' around an IPv6 address");
			return false;
		}
		if ((size_t)(rb - p - 1) >= sizeof(o->host) || rb == p + 1) {
			snprintf(err, errlen, "redis URL: bad IPv6 address");
			return false;
		}
		memcpy(o->host, p + 1, (size_t)(rb - p - 1));
		o->host[rb - p - 1] = '\0';
		hend = rb + 1;
		if (hend < end && *hend != ':') {
			snprintf(err, errlen, "redis URL: unexpected text after ']'");
			return false;
		}
		if (hend < end)
			portp = hend + 1;
	} else {
		const char *colon = memchr(p, ':', (size_t)(end - p));
		hend = colon ? colon : end;
		if (hend == p) {
			snprintf(err, errlen, "redis URL: no host (redis://HOST:PORT)");
			return false;
		}
		if ((size_t)(hend - p) >= sizeof(o->host)) {
			snprintf(err, errlen, "redis URL: host name too long");
			return false;
		}
		memcpy(o->host, p, (size_t)(hend - p));
		o->host[hend - p] = '\0';
		if (colon)
			portp = colon + 1;
	}
	if (portp) {
		char port[8];
		size_t n = (size_t)(end - portp);
		if (n == 0 || n >= sizeof(port)) {
			snprintf(err, errlen, "redis URL: bad port");
			return false;
		}
		memcpy(port, portp, n);
		port[n] = '\0';
		if (!redis_opts_set(o, "port", port, err, errlen))
			return false;
	}
	p = end;
	if (*p == '/') {
		p++;
		size_t n = strcspn(p, "?");
		if (n) {
			char db[8];
			if (n >= sizeof(db)) {
				snprintf(err, errlen, "redis URL: bad database number");
				return false;
			}
			memcpy(db, p, n);
			db[n] = '\0';
			if (!redis_opts_set(o, "db", db, err, errlen))
				return false;
		}
		p += n;
	}
	if (*p == '?' && !parse_params(o, p + 1, err, errlen))
		return false;
	return redis_opts_check(o, err, errlen);
}

bool sink_spec_parse(const char *text, struct sink_spec *s, char *err, size_t errlen)
{
	memset(s, 0, sizeof(*s));
	if (strcmp(text, "stdout") == 0 || strcmp(text, "-") == 0) {
		s->kind = SINK_STDOUT;
		return true;
	}
	if (strncmp(text, "file:", 5) == 0) {
		if (!text[5]) {
			snprintf(err, errlen, "output 'file:': no path");
			return false;
		}
		s->kind = SINK_FILE;
		return copy_str(s->path, sizeof(s->path), "output file", text + 5, err, errlen);
	}
	if (strncmp(text, "redis://", 8) == 0) {
		s->kind = SINK_REDIS;
		redis_opts_defaults(&s->redis);
		return parse_redis_url(text, &s->redis, err, errlen);
	}
	if (strncmp(text, "unix:", 5) == 0) {
		s->kind = SINK_REDIS;
		redis_opts_defaults(&s->redis);
		size_t n = strcspn(text + 5, "?");
		char path[sizeof(s->redis.unix_path) + 1];
		if (n == 0 || n >= sizeof(path)) {
			snprintf(err, errlen, "output 'unix:': the socket path is empty or longer than %zu",
				 sizeof(s->redis.unix_path) - 1);
			return false;
		}
		memcpy(path, text + 5, n);
		path[n] = '\0';
		if (!redis_opts_set(&s->redis, "unix", path, err, errlen))
			return false;
		s->redis.host[0] = '\0';
		if (text[5 + n] == '?') {
			const char *q = text + 5 + n + 1;
			/* user= is a parameter here: there is no authority part */
			if (!parse_params(&s->redis, q, err, errlen))
				return false;
		}
		return redis_opts_check(&s->redis, err, errlen);
	}
	if (strncmp(text, "rediss://", 9) == 0) {
		snprintf(err, errlen, "output 'rediss://': TLS to Redis is not supported (hiredis "
				      "0.14); use a local unix socket or a TLS tunnel such as stunnel");
		return false;
	}
	/* a mistyped scheme (Redis://user:secret@host) may hold a password: quote the
	 * text only up to its first ':' */
	size_t n = strcspn(text, ":");
	snprintf(err, errlen,
		 "output '%.*s%s': unknown (stdout, file:PATH, redis://HOST:PORT?stream=KEY or "
		 "unix:PATH?stream=KEY)",
		 (int)(n > 200 ? 200 : n), text, text[n] ? ":..." : "");
	return false;
}

/* The first line of a file, without its line end. */
static bool read_secret_file(const char *path, char *out, size_t cap, char *err, size_t errlen)
{
	char tmp[REDIS_PASSWORD_MAX + 2];
	bool ok = false;
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	if (fd < 0) {
		snprintf(err, errlen, "password_file %s: %s", path, strerror(errno));
		return false;
	}
	if (cap > REDIS_PASSWORD_MAX)
		cap = REDIS_PASSWORD_MAX;
	ssize_t n = read(fd, tmp, cap);
	int e = errno;
	close(fd);
	if (n < 0) {
		snprintf(err, errlen, "password_file %s: %s", path, strerror(e));
		return false;
	}
	tmp[n] = '\0';
	size_t line = strcspn(tmp, "\r\n");
	if (line == 0)
		snprintf(err, errlen, "password_file %s: the first line is empty", path);
	else if (line >= cap)
		snprintf(err, errlen, "password_file %s: the password is longer than %zu bytes",
			 path, cap - 1);
	else {
		memcpy(out, tmp, line);
		out[line] = '\0';
		ok = true;
	}
	memset(tmp, 0, sizeof(tmp));
	return ok;
}

bool redis_opts_resolve_password(struct redis_opts *o, char *err, size_t errlen)
{
	if (o->password[0])
		return true;
	if (o->password_file[0])
		return read_secret_file(o->password_file, o->password, sizeof(o->password), err,
					errlen);
	const char *var = o->password_env[0] ? o->password_env : "EGRESSD_REDIS_PASSWORD";
	const char *v = getenv(var);
	if (!v || !*v) {
		if (o->password_env[0]) {
			snprintf(err, errlen, "password_env: the environment variable %s is not set",
				 var);
			return false;
		}
		return true; /* no password: fine for a Redis without AUTH */
	}
	if (strlen(v) >= sizeof(o->password)) {
		snprintf(err, errlen, "the password in %s is longer than %zu characters", var,
			 sizeof(o->password) - 1);
		return false;
	}
	snprintf(o->password, sizeof(o->password), "%s", v);
	return true;
}

const char *redis_opts_describe(const struct redis_opts *o, char *buf, size_t n)
{
	char where[300];
	if (o->unix_path[0])
		snprintf(where, sizeof(where), "unix:%s", o->unix_path);
	else if (strchr(o->host, ':'))
		snprintf(where, sizeof(where), "[%s]:%u", o->host, o->port);
	else
		snprintf(where, sizeof(where), "%s:%u", o->host, o->port);
	char db[16] = "";
	if (o->db)
		snprintf(db, sizeof(db), " db %u", o->db);
	snprintf(buf, n, "redis %s%s stream %s%s%s", where, db, o->stream,
		 o->user[0] ? " user " : "", o->user);
	return buf;
}
