/* health.h: health events: what the sensor says about itself (capture loss, silence, an
 * interface lost and reopened, a configuration reload), as JSON documents that travel
 * with the alerts to every output (event.kind "metric", event.dataset "egressd.health";
 * in Redis, kind "health").
 */
#ifndef EGRESSD_HEALTH_H
#define EGRESSD_HEALTH_H

#include <stddef.h>
#include <stdint.h>

#define HEALTH_ID_LEN 40

struct health_event {
	uint64_t ts_us;
	const char *action;  /* capture_loss, capture_idle, interface_lost, ... */
	const char *iface;   /* "" offline */
	uint64_t received, dropped, if_dropped, processed; /* totals since start */
	uint64_t interval_received, interval_dropped;	   /* over the last interval */
	double loss_percent;				   /* over the last interval */
	uint64_t idle_s;
	uint64_t rules;		/* reload: the rules now in force */
	const char *detail;	/* a reason, a problem text; may be NULL */
	char message[512];
	char id[HEALTH_ID_LEN + 1]; /* filled by health_json */
};

/* The document, one line without a newline; returns its length. */
size_t health_json(struct health_event *h, const char *sensor_name, const char *version,
		   char *buf, size_t cap);

#endif
