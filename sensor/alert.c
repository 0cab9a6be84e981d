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

static void str_if(struct json *j, struct json_key key, const char *s)
{
	if (s && *s)
		json_str_k(j, key, s);
}

/* Bytes held back for the mark of a cut document: ,"egressd":{ with its closer and
 * ,"truncated":true */
#define CUT_MARK_ROOM 32

/* The document into j; *in_egressd tells whether the egressd object was opened before
 * a cut (if any). Leaves j finished but for json_finish(). */
static void alert_doc(struct json *j, const struct alert *a, const char *sensor_name,
		      const char *version, bool *in_egressd)
{
	json_obj_begin(j, NULL);
	json_time_k(j, JSON_KEY("@timestamp"), a->ts_us);

	json_obj_begin_k(j, JSON_KEY("event"));
	json_str_k(j, JSON_KEY("kind"), "alert");
	json_str_k(j, JSON_KEY("id"), a->id);
	json_arr_begin_k(j, JSON_KEY("category"));
	json_str(j, NULL, "network");
	json_arr_end(j);
	json_str_k(j, JSON_KEY("dataset"), "egressd.alert");
	json_time_k(j, JSON_KEY("start"), a->start_us);
	json_time_k(j, JSON_KEY("end"), a->end_us);
	json_u64_k(j, JSON_KEY("severity"), a->severity);
	json_obj_end(j);

	json_obj_begin_k(j, JSON_KEY("rule"));
	json_str_k(j, JSON_KEY("id"), a->rule_id);
	json_str_k(j, JSON_KEY("name"), a->rule_name);
	json_str_k(j, JSON_KEY("ruleset"), a->ruleset);
	json_obj_end(j);

	json_obj_begin_k(j, JSON_KEY("threat"));
	json_str_k(j, JSON_KEY("framework"), "MITRE ATT&CK");
	json_obj_begin_k(j, JSON_KEY("tactic"));
	json_arr_begin_k(j, JSON_KEY("id"));
	json_str(j, NULL, "TA0010");
	json_arr_end(j);
	json_arr_begin_k(j, JSON_KEY("name"));
	json_str(j, NULL, "Exfiltration");
	json_arr_end(j);
	json_obj_end(j);
	json_obj_begin_k(j, JSON_KEY("technique"));
	json_arr_begin_k(j, JSON_KEY("id"));
	json_str(j, NULL, a->technique);
	json_arr_end(j);
	if (a->subtechnique[0]) {
		json_obj_begin_k(j, JSON_KEY("subtechnique"));
		json_arr_begin_k(j, JSON_KEY("id"));
		json_str(j, NULL, a->subtechnique);
		json_arr_end(j);
		json_obj_end(j);
	}
	json_obj_end(j);
	json_obj_end(j);

	json_obj_begin_k(j, JSON_KEY("source"));
	json_ip_k(j, JSON_KEY("ip"), a->family, a->src);
	json_u64_k(j, JSON_KEY("bytes"), a->bytes_out);
	json_u64_k(j, JSON_KEY("packets"), a->packets_out);
	json_obj_end(j);

	json_obj_begin_k(j, JSON_KEY("destination"));
	if (strcmp(a->detector, "dns_tunnel") != 0) /* per domain: no one address */
		json_ip_k(j, JSON_KEY("ip"), a->family, a->dst);
	if (a->dst_port)
		json_u64_k(j, JSON_KEY("port"), a->dst_port);
	str_if(j, JSON_KEY("domain"), a->domain);
	str_if(j, JSON_KEY("registered_domain"), a->registered_domain);
	json_u64_k(j, JSON_KEY("bytes"), a->bytes_in);
	if (a->country[0]) {
		json_obj_begin_k(j, JSON_KEY("geo"));
		json_str_k(j, JSON_KEY("country_iso_code"), a->country);
		json_obj_end(j);
	}
	if (a->asn) {
		json_obj_begin_k(j, JSON_KEY("as"));
		json_u64_k(j, JSON_KEY("number"), a->asn);
		if (a->as_org[0]) {
			json_obj_begin_k(j, JSON_KEY("organization"));
			json_str_k(j, JSON_KEY("name"), a->as_org);
			json_obj_end(j);
		}
		json_obj_end(j);
	}
	json_obj_end(j);

	json_obj_begin_k(j, JSON_KEY("network"));
	str_if(j, JSON_KEY("transport"), a->transport);
	str_if(j, JSON_KEY("protocol"), a->protocol);
	json_str_k(j, JSON_KEY("direction"), "outbound");
	str_if(j, JSON_KEY("community_id"), a->community_id);
	json_obj_end(j);

	json_obj_begin_k(j, JSON_KEY("observer"));
	json_str_k(j, JSON_KEY("name"), sensor_name);
	json_str_k(j, JSON_KEY("product"), "egressd");
	json_str_k(j, JSON_KEY("version"), version);
	json_obj_end(j);

	json_str_k(j, JSON_KEY("message"), a->message);

	json_obj_begin_k(j, JSON_KEY("egressd"));
	*in_egressd = !j->truncated;
	if (a->update_of[0])
		json_str_k(j, JSON_KEY("update_of"), a->update_of);
	json_str_k(j, JSON_KEY("detector"), a->detector);
	json_u64_k(j, JSON_KEY("window_seconds"), a->window_s);
	json_str_k(j, JSON_KEY("threshold"), a->threshold);
	json_str_k(j, JSON_KEY("key"), a->key);
	json_u64_k(j, JSON_KEY("flows"), a->flows);
	json_bool_k(j, JSON_KEY("new_destination"), a->is_new);
	if (a->first_seen_us)
		json_time_k(j, JSON_KEY("first_seen"), a->first_seen_us);
	str_if(j, JSON_KEY("category"), a->category);
	if (a->tenant[0]) {
		json_obj_begin_k(j, JSON_KEY("cloud"));
		json_str_k(j, JSON_KEY("tenant"), a->tenant);
		json_obj_end(j);
	}
	if (a->dns_queries) {
		json_obj_begin_k(j, JSON_KEY("dns"));
		json_u64_k(j, JSON_KEY("queries"), a->dns_queries);
		json_u64_k(j, JSON_KEY("unique_names"), a->dns_unique_names);
		json_u64_k(j, JSON_KEY("name_bytes"), a->dns_name_bytes);
		json_u64_k(j, JSON_KEY("max_label_length"), a->dns_max_label);
		json_double_k(j, JSON_KEY("mean_entropy"), a->dns_mean_entropy);
		json_double_k(j, JSON_KEY("txt_null_share"), a->dns_txt_null_share);
		json_obj_end(j);
	}
	if (a->icmp_payload_bytes) {
		json_obj_begin_k(j, JSON_KEY("icmp"));
		json_u64_k(j, JSON_KEY("payload_bytes"), a->icmp_payload_bytes);
		json_u64_k(j, JSON_KEY("large_payloads"), a->icmp_large);
		json_u64_k(j, JSON_KEY("distinct_payloads"), a->icmp_distinct);
		json_obj_end(j);
	}
	json_obj_end(j);
	json_obj_end(j);
}

size_t alert_json(const struct alert *a, const char *sensor_name, const char *version,
		  char *buf, size_t cap)
{
	struct json j;
	size_t len;
	bool in_egressd = false;

	json_init(&j, buf, cap);
	alert_doc(&j, a, sensor_name, version, &in_egressd);
	if (j.truncated && cap > CUT_MARK_ROOM) {
		/* Again with room held back for the mark: then back to the egressd object
		 * (or the top level, if the cut came before it) to say the document was cut.
		 * The writer stops at the first member that does not fit, so what is kept
		 * is the start of the document. */
		json_init(&j, buf, cap - CUT_MARK_ROOM);
		in_egressd = false;
		alert_doc(&j, a, sensor_name, version, &in_egressd);
		if (json_resume(&j, in_egressd ? 2 : 1, CUT_MARK_ROOM)) {
			if (!in_egressd)
				json_obj_begin_k(&j, JSON_KEY("egressd"));
			json_bool_k(&j, JSON_KEY("truncated"), true);
			json_obj_end(&j);
			json_obj_end(&j);
		}
	}
	json_finish(&j, &len);
	return len;
}
