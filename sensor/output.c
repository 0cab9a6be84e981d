/* output.c: the sinks: standard output, files opened for append, Redis streams
 * (output-redis.c). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "output-redis.h"
#include "output.h"

struct sink;

struct sink_ops {
	int (*write)(struct sink *s, const char *line, size_t len);
	int (*flush)(struct sink *s);
	int (*close)(struct sink *s);
};

struct sink {
	const struct sink_ops *ops; /* standard output and files */
	FILE *f;
	struct redis_sink *redis;
};

struct output {
	int n, nredis;
	struct sink s[OUTPUT_MAX];
	struct output_stats st;
	bool finished;
	int finish_rc;
};

static int stdio_write(struct sink *s, const char *line, size_t len)
{
	if (fwrite(line, 1, len, s->f) != len || fputc('\n', s->f) == EOF)
		return -1;
	return 0;
}

static int stdio_flush(struct sink *s)
{
	return fflush(s->f) == 0 ? 0 : -1;
}

static int stdout_close(struct sink *s)
{
	return fflush(s->f) == 0 ? 0 : -1;
}

static int file_close(struct sink *s)
{
	return fclose(s->f) == 0 ? 0 : -1;
}

static const struct sink_ops stdout_ops = { stdio_write, stdio_flush, stdout_close };
static const struct sink_ops file_ops = { stdio_write, stdio_flush, file_close };

struct output *output_open(const struct sink_spec *specs, int n, enum output_fail *fail,
			   char *err, size_t errlen)
{
	struct output *o = calloc(1, sizeof(*o));
	struct sink_spec def;

	*fail = OUTPUT_FAIL_CONFIG;
	if (!o) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	if (n == 0) {
		memset(&def, 0, sizeof(def));
		def.kind = SINK_STDOUT;
		specs = &def;
		n = 1;
	}
	if (n > OUTPUT_MAX) {
		snprintf(err, errlen, "at most %d outputs", OUTPUT_MAX);
		free(o);
		return NULL;
	}
	for (int i = 0; i < n; i++) {
		struct sink *s = &o->s[o->n];
		switch (specs[i].kind) {
		case SINK_STDOUT:
			s->ops = &stdout_ops;
			s->f = stdout;
			break;
		case SINK_FILE:
			s->f = fopen(specs[i].path, "a");
			if (!s->f) {
				snprintf(err, errlen, "output %s: %s", specs[i].path, strerror(errno));
				output_close(o);
				return NULL;
			}
			s->ops = &file_ops;
			break;
		case SINK_REDIS: {
			/* with no other output and no spool, a Redis that does not answer
			 * would lose every alert: refuse to start */
			bool must = n == 1 && !specs[i].redis.spool[0];
			enum redis_open_fail rf;
			s->redis = redis_sink_open(&specs[i].redis, must, &rf, err, errlen);
			if (!s->redis) {
				output_close(o);
				*fail = rf == REDIS_OPEN_UNAVAILABLE ? OUTPUT_FAIL_UNAVAILABLE
								     : OUTPUT_FAIL_CONFIG;
				return NULL;
			}
			o->nredis++;
			break;
		}
		}
		o->n++;
	}
	return o;
}

static void to_all(struct output *o, const char *json, size_t len, const char *rule_id,
		   unsigned severity, const char *event_id, bool health)
{
	for (int i = 0; i < o->n; i++) {
		struct sink *s = &o->s[i];
		if (s->redis) {
			redis_sink_alert(s->redis, json, len, rule_id, severity, event_id, health);
		} else if (s->ops->write(s, json, len) == 0) {
			o->st.written++;
		} else {
			o->st.errors++;
		}
	}
}

void output_alert(struct output *o, const char *json, size_t len, const char *rule_id,
		  unsigned severity, const char *event_id)
{
	to_all(o, json, len, rule_id, severity, event_id, false);
}

void output_health(struct output *o, const char *json, size_t len, const char *action,
		   const char *event_id)
{
	to_all(o, json, len, action, 2, event_id, true);
}

void output_line(struct output *o, const char *json, size_t len)
{
	for (int i = 0; i < o->n; i++) {
		struct sink *s = &o->s[i];
		if (s->redis)
			continue;
		if (s->ops->write(s, json, len) == 0)
			o->st.written++;
		else
			o->st.errors++;
	}
}

void output_flush(struct output *o)
{
	for (int i = 0; i < o->n; i++)
		if (o->s[i].ops && o->s[i].ops->flush(&o->s[i]) != 0)
			o->st.errors++;
}

int output_finish(struct output *o)
{
	if (o->finished)
		return o->finish_rc;
	int rc = 0;
	for (int i = 0; i < o->n; i++) {
		struct sink *s = &o->s[i];
		if (s->redis) {
			if (redis_sink_stop(s->redis) != 0)
				rc = -1;
		} else if (s->ops->flush(s) != 0) {
			o->st.errors++;
		}
	}
	if (o->st.errors)
		rc = -1;
	o->finished = true;
	o->finish_rc = rc;
	return rc;
}

void output_print_stats(const struct output *o, FILE *f)
{
	fprintf(f, "%-44s %llu\n", "output.lines_written", (unsigned long long)o->st.written);
	fprintf(f, "%-44s %llu\n", "output.errors", (unsigned long long)o->st.errors);
	for (int i = 0, k = 0; i < o->n; i++) {
		if (!o->s[i].redis)
			continue;
		char prefix[32];
		k++;
		if (k == 1)
			snprintf(prefix, sizeof(prefix), "output.redis");
		else
			snprintf(prefix, sizeof(prefix), "output.redis%d", k);
		redis_sink_print_stats(o->s[i].redis, prefix, f);
	}
}

int output_close(struct output *o)
{
	if (!o)
		return 0;
	int rc = output_finish(o);
	for (int i = 0; i < o->n; i++) {
		struct sink *s = &o->s[i];
		if (s->redis)
			redis_sink_free(s->redis);
		else if (s->ops->close(s) != 0)
			rc = -1;
	}
	free(o);
	return rc;
}
