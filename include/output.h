/* output.h: where egressd's JSON lines go: standard output and files (JSON lines, one
 * document per line), several at once. Alerts and flow records share the sinks.
 *
 * Each sink is a row of functions (after masscan's output.h), so a new kind of output
 * is one new file.
 */
#ifndef EGRESSD_OUTPUT_H
#define EGRESSD_OUTPUT_H

#include <stddef.h>
#include <stdint.h>

#define OUTPUT_MAX 8

struct output;

struct output_stats {
	uint64_t written;
	uint64_t errors;
};

/* Open the sinks named by specs ("stdout", "file:PATH"); none means stdout.
 * Returns NULL with a message in err if one cannot be opened. */
struct output *output_open(char *const *specs, int n, char *err, size_t errlen);

/* Write one JSON document as a line to every sink. */
void output_line(struct output *o, const char *json, size_t len);

void output_flush(struct output *o);
const struct output_stats *output_stats(const struct output *o);

/* Flushes and closes every sink; returns 0, or -1 if a write or close failed. */
int output_close(struct output *o);

#endif
