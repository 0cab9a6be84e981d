/* output.h: where egressd's documents go: standard output and files (JSON lines, one
 * document per line) and Redis streams (alerts only), several at once. Alerts go to
 * every sink; flow records only to standard output and files.
 *
 * Each sink is a row of functions (after masscan's output.h), so a new kind of output
 * is one new file.
 */
#ifndef EGRESSD_OUTPUT_H
#define EGRESSD_OUTPUT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "sink-spec.h"

#define OUTPUT_MAX 8

struct output;

struct output_stats {
	uint64_t written; /* lines written to standard output and files */
	uint64_t errors;
};

enum output_fail { OUTPUT_FAIL_CONFIG = 1, OUTPUT_FAIL_UNAVAILABLE };

/* Open the sinks (none means stdout). Returns NULL with a message in err and the kind
 * of failure in *fail. Redis passwords must be resolved already. */
struct output *output_open(const struct sink_spec *specs, int n, enum output_fail *fail,
			   char *err, size_t errlen);

/* One alert document (without a newline) to every sink. */
void output_alert(struct output *o, const char *json, size_t len, const char *rule_id,
		  unsigned severity, const char *event_id);

/* One health event to every sink (Redis: kind health, rule = its action, sev 2). */
void output_health(struct output *o, const char *json, size_t len, const char *action,
		   const char *event_id);

/* One other document (a flow record) to standard output and the files. */
void output_line(struct output *o, const char *json, size_t len);

void output_flush(struct output *o);

/* Deliver what is pending (Redis: up to its drain time) and stop. Returns 0, or -1 if
 * a write failed or alerts were lost. Messages go to the log. */
int output_finish(struct output *o);
/* The counters, "name value" per line; after output_finish for the final values. */
void output_print_stats(const struct output *o, FILE *f);
/* Finishes if needed and frees; returns what output_finish returned. */
int output_close(struct output *o);

#endif
