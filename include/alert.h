/* alert.h: an alert is a self-contained value (no pointers into flows, rules or name
 * stores), so outputs never need to know about the stages that made it. alert_json()
 * writes the document INTERFACE-style: Elastic Common Schema names, the ATT&CK technique,
 * a deterministic event.id and the evidence under egressd.*.
 */
#ifndef EGRESSD_ALERT_H
#define EGRESSD_ALERT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define ALERT_ID_LEN 40

struct alert {
	uint64_t ts_us;		  /* packet time when it fired */
	uint64_t start_us, end_us; /* the span of the evidence (the window's) */
	char id[ALERT_ID_LEN + 1];
	char update_of[ALERT_ID_LEN + 1]; /* an update: the id of the alert it updates */
	/* rule */
	char rule_id[65], rule_name[201], ruleset[65];
	char technique[6], subtechnique[10];
	uint8_t severity; /* 1 low, 2 medium, 3 high */
	char detector[16];
	/* who and where */
	uint8_t family;
	uint8_t src[16], dst[16];
	uint16_t dst_port;
	char domain[256], registered_domain[254];
	char transport[16], protocol[16];
	char community_id[44];
	/* evidence over the window */
	uint64_t bytes_out, packets_out, bytes_in, flows;
	uint32_t window_s;
	char threshold[96]; /* what was crossed, e.g. "bytes_out >= 100000000" */
	char key[400];	    /* the key the rule counts by, as text */
	bool is_new;
	uint64_t first_seen_us; /* 0: not looked up */
	char category[24];
	char tenant[260];
	char country[3];
	uint32_t asn;
	char as_org[128];
	/* tunnel detectors */
	uint64_t dns_queries, dns_unique_names, dns_name_bytes, dns_max_label;
	double dns_mean_entropy, dns_txt_null_share;
	uint64_t icmp_payload_bytes, icmp_large, icmp_distinct;
	char message[1024];
};

/* Room for the largest document alert_json() can write: every string of struct alert
 * and the sensor name and version (63 bytes each) full of bytes that are escaped as
 * \u00XX, six bytes each (3072 bytes, 18432 escaped), plus the keys, numbers and times
 * (under 2 KiB), with room for fields to come. tests/unit/test_alert.c checks it. */
#define ALERT_JSON_MAX 24576

/* The document, one line without a newline, into buf; returns its length. A document
 * that does not fit (cap below ALERT_JSON_MAX) is cut at a field boundary, stays valid
 * JSON and ends with egressd.truncated: true (cap of at least 64 bytes). */
size_t alert_json(const struct alert *a, const char *sensor_name, const char *version,
		  char *buf, size_t cap);

/* Human size: "150.0 MB", "2.0 MB", "512 B" (powers of 1000, as thresholds are written). */
void alert_fmt_bytes(uint64_t n, char *out, size_t outsz);
/* Human duration: "4m", "1h", "90s", "1h30m". */
void alert_fmt_duration(uint64_t seconds, char *out, size_t outsz);

#endif
