/* output-redis.h: alerts into a Redis stream, at least once, in order, with ids that let
 * Redis (or the consumer) drop repeats. The only module that sees <hiredis.h>.
 *
 *   capture thread                         redis thread
 *   redis_sink_alert() --> memory queue --> XADD batches (pipelined) --> Redis
 *                          (bounded)    \-> spool (disk, bounded) --/  (replayed first)
 *
 * The capture thread only copies the document into the memory queue and never waits on
 * the network or the disk. The redis thread sends from the queue while Redis answers;
 * when it cannot (no connection, a timeout, OOM, a refused command) or the queue is half
 * full, it moves the queue, in order, to the on-disk spool and later sends the spool
 * first. So the stream order is the order the alerts were made in, and what reached the
 * spool survives a kill -9 of egressd and is sent by the next egressd using that spool.
 *
 * Repeats (a reply lost to a timeout, then the command sent again) are refused by Redis
 * itself: with dedupe=id every entry gets an explicit, increasing id that is kept until
 * its reply is seen, and XADD refuses an id not above the stream's last one; with
 * dedupe=event-id a small Lua script adds the entry only if a key named after event.id
 * is new. See the README's "Redis" section for the reasoning and the limits.
 */
#ifndef EGRESSD_OUTPUT_REDIS_H
#define EGRESSD_OUTPUT_REDIS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "sink-spec.h"

struct redis_sink;

enum redis_open_fail { REDIS_OPEN_CONFIG = 1, REDIS_OPEN_UNAVAILABLE };

/* Open the spool (if any), try Redis once (connect, AUTH, SELECT, PING, bounded by the
 * timeout) and start the thread. When Redis does not answer: with must_answer (it is the
 * only output and has no spool) fail with REDIS_OPEN_UNAVAILABLE; otherwise warn and keep
 * trying in the background. o->password must already be resolved. */
struct redis_sink *redis_sink_open(const struct redis_opts *o, bool must_answer,
				   enum redis_open_fail *fail, char *err, size_t errlen);

/* Queue one alert document, or a health event (kind health, rule_id its action), copied.
 * Never blocks on the network or the disk. */
void redis_sink_alert(struct redis_sink *r, const char *json, size_t len, const char *rule_id,
		      unsigned sev, const char *event_id, bool health);

/* The counters, one "name value" line each, names starting with prefix. Call after
 * redis_sink_close's drain or from the thread that owns the sink. */
void redis_sink_print_stats(const struct redis_sink *r, const char *prefix, FILE *f);

/* Stop: keep delivering for up to the drain time, leave the rest in the spool, join the
 * thread. Returns 0, or -1 if alerts were lost (no spool to keep them). Does not free. */
int redis_sink_stop(struct redis_sink *r);
void redis_sink_free(struct redis_sink *r);

#endif
