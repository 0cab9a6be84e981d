/* sink-spec.h: where alerts go, as the user wrote it: "stdout", "file:PATH",
 * "redis://[USER@]HOST:PORT[/DB]?stream=KEY&...", "unix:PATH?stream=KEY&..." on the
 * command line, or the equivalent `outputs` entries in sensor.yaml. Parsing only: no
 * sockets, no files (the password sources are read by sink_spec_resolve_password), so the
 * config loader and the command line share one set of keys and one set of messages.
 *
 * The Redis password is a secret: it is kept in redis_opts.password only, and no
 * function here writes it into a message. redis_opts_describe() names a target for
 * messages without it.
 */
#ifndef EGRESSD_SINK_SPEC_H
#define EGRESSD_SINK_SPEC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum sink_kind { SINK_STDOUT, SINK_FILE, SINK_REDIS };

/* How a lost reply is kept from making a second stream entry. */
enum redis_dedupe {
	REDIS_DEDUPE_ID,       /* explicit increasing entry ids: Redis refuses a repeat */
	REDIS_DEDUPE_EVENT_ID, /* a server-side script adds only an unseen event.id */
	REDIS_DEDUPE_NONE,     /* '*' ids: a lost reply may leave a duplicate */
};

enum redis_fsync { REDIS_FSYNC_BATCH = 0, REDIS_FSYNC_ALWAYS, REDIS_FSYNC_NEVER };

#define REDIS_DEFAULT_STREAM "egressd:alerts"
#define REDIS_DEFAULT_MAXLEN 100000
#define REDIS_PASSWORD_MAX 512

struct redis_opts {
	char host[256];      /* "" with unix_path set */
	uint16_t port;
	char unix_path[108]; /* sun_path */
	uint32_t db;
	char user[128];
	char password[REDIS_PASSWORD_MAX]; /* the secret; "" none */
	bool password_in_url;		   /* written in the URL: warn, erase from argv */
	char password_env[128];		   /* where to read it from */
	char password_file[512];
	char stream[256];
	uint64_t maxlen; /* 0: no trimming */
	char field[32];	 /* "event", or "eve" for tools made for Suricata */
	enum redis_dedupe dedupe;
	uint32_t dedupe_ttl_s; /* event-id: how long a seen id is remembered */
	uint32_t timeout_ms;   /* connect, read and write */
	uint32_t drain_ms;     /* at exit: how long to keep trying */
	uint32_t queue_max;    /* documents waiting in memory */
	char spool[512];       /* directory; "" none */
	uint64_t spool_max;
	enum redis_fsync fsync;
};

struct sink_spec {
	enum sink_kind kind;
	char path[512]; /* SINK_FILE */
	struct redis_opts redis;
};

void redis_opts_defaults(struct redis_opts *o);

/* One setting by name, as in a URL parameter or a YAML key: host, port, unix, db, user,
 * password, password_env, password_file, stream, maxlen, field, dedupe, dedupe_ttl,
 * timeout, drain, queue, spool, spool_max, fsync. false with a message in err (which
 * never holds a password). */
bool redis_opts_set(struct redis_opts *o, const char *key, const char *value, char *err,
		    size_t errlen);

/* true if key names a setting redis_opts_set takes. */
bool redis_opts_known(const char *key);

/* Checks what only the whole set can tell (a host or a socket, not both). */
bool redis_opts_check(const struct redis_opts *o, char *err, size_t errlen);

/* "stdout", "file:PATH", "redis://...", "unix:PATH[?...]". false with a message. */
bool sink_spec_parse(const char *text, struct sink_spec *s, char *err, size_t errlen);

/* In a URL written on the command line, the span of "PASS" in "redis://USER:PASS@":
 * *off and *len, so main can erase it from argv. false if there is none. */
bool sink_spec_password_span(const char *text, size_t *off, size_t *len);

/* Fill o->password from password_file, password_env, or EGRESSD_REDIS_PASSWORD (in
 * that order) unless one was given directly. false with a message naming the source
 * (never the secret). */
bool redis_opts_resolve_password(struct redis_opts *o, char *err, size_t errlen);

/* "redis 127.0.0.1:6379 db 0 stream egressd:alerts user egressd" (no password). */
const char *redis_opts_describe(const struct redis_opts *o, char *buf, size_t n);

#endif
