/* report.h: what an analyst reads after a run: who inside sent how much to whom, over
 * time, and what alerted. Fed with every flow record and every alert; printed as a
 * short summary on standard error (report_print_summary) and as one self-contained HTML
 * page (report_write_html, report-html.c).
 *
 * Egress is what a host inside home_net sends to a host outside it, whoever opened the
 * flow (the same definition as detection's). Memory is bounded whatever the input:
 *  - sources and destinations: at most REPORT_MAX_ENTRIES of each at once; when a table
 *    is full, the entry with the fewest egress bytes among a few sampled ones makes room
 *    and its bytes are counted as "not itemised" (the totals stay exact);
 *  - the timeline: REPORT_BINS bins whose width doubles as the run gets longer; a line
 *    for each of the REPORT_TRACKED largest sources, the rest in "other" (a source's line
 *    starts when it became one of the largest; before that its bytes are in "other"), so
 *    the stacked total is exact. A flow record's egress bytes are spread evenly over its
 *    duration;
 *  - alerts: every alert is counted; the first REPORT_MAX_ALERTS are kept for the
 *    timeline and the first REPORT_DETAIL_ALERTS with their evidence. An alert update
 *    (update_of) refreshes the alert it updates instead of counting as a new one.
 */
#ifndef EGRESSD_REPORT_H
#define EGRESSD_REPORT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "alert.h"
#include "enrich.h"
#include "netset.h"

#define REPORT_MAX_ENTRIES 65536u
#define REPORT_BINS 240
#define REPORT_TRACKED 32
#define REPORT_MAX_ALERTS 100000u
#define REPORT_DETAIL_ALERTS 2000u
#define REPORT_NAME_MAX 80 /* a destination's name kept for display (longer ones cut) */

/* One flow record, as the report sees it. */
struct report_flow {
	uint64_t first_us, last_us;
	int family;
	const uint8_t *addr[2]; /* initiator, responder */
	uint16_t port[2];
	uint8_t proto;
	uint64_t bytes[2]; /* IP bytes sent by the initiator, the responder */
	const char *name;  /* the responder's name (SNI, Host, DNS answer) or NULL */
	size_t name_len;
	int internal;	      /* 0/1: which of addr is in home_net (egress); -1 neither or
			       * both; -2 not known (report_flow looks) */
	bool new_destination; /* detection found the responder's address new */
	bool record_only;     /* an active-timeout record: the flow goes on (not counted again) */
};

/* What the capture layer knows at the end. */
struct report_input {
	const char *const *files; /* NULL with nfiles 0: a live interface */
	int nfiles;
	const char *interface;
	uint64_t packets, wire_bytes;
	uint64_t damaged_files;
	uint64_t rate_limited; /* alerts held back by the rate limits */
	uint64_t anomalies;
	const char *sensor_name, *version;
	bool baseline_loaded; /* destinations are new against a stored baseline */
};

struct report;

/* home is borrowed (a reload changes the networks in place). timeline: keep
 * the timeline (the HTML page has one, the summary not). NULL when out of memory. */
struct report *report_create(const struct netset *home, bool timeline);
void report_destroy(struct report *r);

void report_flow(struct report *r, const struct report_flow *f);
void report_alert(struct report *r, const struct alert *a);

/* The short summary (a dozen lines). enrich gives the top destinations' category,
 * country and AS (may be NULL). */
void report_print_summary(struct report *r, const struct report_input *in,
			  const struct enrich *enrich, FILE *f);

/* The HTML page into path (written to path.tmp, then renamed). 0, or -1 with a message
 * in err. */
int report_write_html(struct report *r, const struct report_input *in,
		      const struct enrich *enrich, const char *path, char *err, size_t errlen);

#endif
