/* output.c: JSON-lines sinks: standard output and files opened for append. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "output.h"

struct sink;

struct sink_ops {
	int (*write)(struct sink *s, const char *line, size_t len);
	int (*flush)(struct sink *s);
	int (*close)(struct sink *s);
};

struct sink {
	const struct sink_ops *ops;
	FILE *f;
	char name[256];
};

struct output {
	int n;
	struct sink s[OUTPUT_MAX];
	struct output_stats st;
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

struct output *output_open(char *const *specs, int n, char *err, size_t errlen)
{
	struct output *o = calloc(1, sizeof(*o));
	static char *const def[] = { "stdout" };

	if (!o) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	if (n == 0) {
		specs = def;
		n = 1;
	}
	if (n > OUTPUT_MAX) {
		snprintf(err, errlen, "at most %d outputs", OUTPUT_MAX);
		free(o);
		return NULL;
	}
	for (int i = 0; i < n; i++) {
		struct sink *s = &o->s[o->n];
		if (strcmp(specs[i], "stdout") == 0) {
			s->ops = &stdout_ops;
			s->f = stdout;
		} else if (strncmp(specs[i], "file:", 5) == 0 && specs[i][5]) {
			s->f = fopen(specs[i] + 5, "a");
			if (!s->f) {
				snprintf(err, errlen, "output %s: %s", specs[i] + 5, strerror(errno));
				output_close(o);
				return NULL;
			}
			s->ops = &file_ops;
		} else {
			snprintf(err, errlen,
				 "output '%s': unknown (this version writes to 'stdout' or 'file:PATH')",
				 specs[i]);
			output_close(o);
			return NULL;
		}
		snprintf(s->name, sizeof(s->name), "%s", specs[i]);
		o->n++;
	}
	return o;
}

void output_line(struct output *o, const char *json, size_t len)
{
	for (int i = 0; i < o->n; i++) {
		if (o->s[i].ops->write(&o->s[i], json, len) == 0)
			o->st.written++;
		else
			o->st.errors++;
	}
}

void output_flush(struct output *o)
{
	for (int i = 0; i < o->n; i++)
		if (o->s[i].ops->flush(&o->s[i]) != 0)
			o->st.errors++;
}

const struct output_stats *output_stats(const struct output *o)
{
	return &o->st;
}

int output_close(struct output *o)
{
	int rc = 0;
	if (!o)
		return 0;
	for (int i = 0; i < o->n; i++)
		if (o->s[i].ops->close(&o->s[i]) != 0)
			rc = -1;
	if (o->st.errors)
		rc = -1;
	free(o);
	return rc;
}
