/* alert.c: the alert document (ECS names, MITRE ATT&CK, evidence under egressd.*). */
#include <stdio.h>
#include <string.h>

#include "alert.h"
#include "json.h"

void alert_fmt_bytes(uint64_t n, char *out, size_t outsz)
{
	static const char *const unit[] = { "B", "KB", "MB", "GB", "TB" };
	double v = (double)n;
	int u = 0;
	if (n < 1000) {
		snprintf(out, outsz, "%llu B", (unsigned long long)n);
		return;
	}
	while (v >= 1000.0 && u < 4) {
		v /= 1000.0;
		u++;
	}
	snprintf(out, outsz, "%.1f %s", v, unit[u]);
}

void alert_fmt_duration(uint64_t s, char *out, size_t outsz)
{
	if (s >= 86400 && s % 86400 == 0)
		snprintf(out, outsz, "%llud", (unsigned long long)(s / 86400));
	else if (s >= 3600 && s % 60 == 0)
		snprintf(out, outsz, s % 3600 ? "%lluh%llum" : "%lluh",
			 (unsigned long long)(s / 3600), (unsigned long long)(s % 3600 / 60));
	else if (s >= 60 && s % 60 == 0)
		snprintf(out, outsz, "%llum", (unsigned long long)(s / 60));
	else
		snprintf(out, outsz, "%llus", (unsigned long long)s);
}

static void str_if(struct json *j, const char *key, const char *s)
{
	if (s && *s)
		json_str(j, key, s);
}

size_t alert_json(const struct alert *a, const char *sensor_name, const char *version,
		  char *buf, size_t cap)
{
	struct json j;
	size_t len;

	json_init(&j, buf, cap);
	json_obj_begin(&j, NULL);
	json_time(&j, "@timestamp", a->ts_us);

	json_obj_begin(&j, "event");
	json_str(&j, "kind", "alert");
	json_str(&j, "id", a->id);
	json_arr_begin(&j, "category");
	json_str(&j, NULL, "network");
	json_arr_end(&j);
	json_str(&j, "dataset", "egressd.alert");
	json_time(&j, "start", a->start_us);
	json_time(&j, "end", a->end_us);
	json_u64(&j, "severity", a->severity);
	json_obj_end(&j);

	json_obj_begin(&j, "rule");
	json_str(&j, "id", a->rule_id);
	json_str(&j, "name", a->rule_name);
	json_str(&j, "ruleset", a->ruleset);
	json_obj_end(&j);

	json_obj_begin(&j, "threat");
	json_str(&j, "framework", "MITRE ATT&CK");
	json_obj_begin(&j, "tactic");
	json_arr_begin(&j, "id");
	json_str(&j, NULL, "TA0010");
	json_arr_end(&j);
	json_arr_begin(&j, "name");
	json_str(&j, NULL, "Exfiltration");
	json_arr_end(&j);
	json_obj_end(&j);
	json_obj_begin(&j, "technique");
	json_arr_begin(&j, "id");
	json_str(&j, NULL, a->technique);
	json_arr_end(&j);
	if (a->subtechnique[0]) {
		json_obj_begin(&j, "subtechnique");
		json_arr_begin(&j, "id");
		json_str(&j, NULL, a->subtechnique);
		json_arr_end(&j);
		json_obj_end(&j);
	}
	json_obj_end(&j);
	json_obj_end(&j);

	json_obj_begin(&j, "source");
	json_ip(&j, "ip", a->family, a->src);
	json_u64(&j, "bytes", a->bytes_out);
	json_u64(&j, "packets", a->packets_out);
	json_obj_end(&j);

	json_obj_begin(&j, "destination");
	if (strcmp(a->detector, "dns_tunnel") != 0) /* per domain: no one address */
		json_ip(&j, "ip", a->family, a->dst);
	if (a->dst_port)
		json_u64(&j, "port", a->dst_port);
	str_if(&j, "domain", a->domain);
	str_if(&j, "registered_domain", a->registered_domain);
	json_u64(&j, "bytes", a->bytes_in);
	if (a->country[0]) {
		json_obj_begin(&j, "geo");
		json_str(&j, "country_iso_code", a->country);
		json_obj_end(&j);
	}
	if (a->asn) {
		json_obj_begin(&j, "as");
		json_u64(&j, "number", a->asn);
		if (a->as_org[0]) {
			json_obj_begin(&j, "organization");
			json_str(&j, "name", a->as_org);
			json_obj_end(&j);
		}
		json_obj_end(&j);
	}
	json_obj_end(&j);

	json_obj_begin(&j, "network");
	str_if(&j, "transport", a->transport);
	str_if(&j, "protocol", a->protocol);
	json_str(&j, "direction", "outbound");
	str_if(&j, "community_id", a->community_id);
	json_obj_end(&j);

	json_obj_begin(&j, "observer");
	json_str(&j, "name", sensor_name);
	json_str(&j, "product", "egressd");
	json_str(&j, "version", version);
	json_obj_end(&j);

	json_str(&j, "message", a->message);

	json_obj_begin(&j, "egressd");
	if (a->update_of[0])
		json_str(&j, "update_of", a->update_of);
	json_str(&j, "detector", a->detector);
	json_u64(&j, "window_seconds", a->window_s);
	json_str(&j, "threshold", a->threshold);
	json_str(&j, "key", a->key);
	json_u64(&j, "flows", a->flows);
	json_bool(&j, "new_destination", a->is_new);
	if (a->first_seen_us)
		json_time(&j, "first_seen", a->first_seen_us);
	str_if(&j, "category", a->category);
	if (a->tenant[0]) {
		json_obj_begin(&j, "cloud");
		json_str(&j, "tenant", a->tenant);
		json_obj_end(&j);
	}
	if (a->dns_queries) {
		json_obj_begin(&j, "dns");
		json_u64(&j, "queries", a->dns_queries);
		json_u64(&j, "unique_names", a->dns_unique_names);
		json_u64(&j, "name_bytes", a->dns_name_bytes);
		json_u64(&j, "max_label_length", a->dns_max_label);
		json_double(&j, "mean_entropy", a->dns_mean_entropy);
		json_double(&j, "txt_null_share", a->dns_txt_null_share);
		json_obj_end(&j);
	}
	if (a->icmp_payload_bytes) {
		json_obj_begin(&j, "icmp");
		json_u64(&j, "payload_bytes", a->icmp_payload_bytes);
		json_u64(&j, "large_payloads", a->icmp_large);
		json_u64(&j, "distinct_payloads", a->icmp_distinct);
		json_obj_end(&j);
	}
	if (j.truncated)
		json_bool(&j, "truncated", true);
	json_obj_end(&j);
	json_obj_end(&j);
	json_finish(&j, &len);
	return len;
}
