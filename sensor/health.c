/* health.c: the health event document (see health.h). */
#include <stdio.h>
#include <string.h>

#include "crypto.h"
#include "health.h"
#include "json.h"

size_t health_json(struct health_event *h, const char *sensor_name, const char *version,
		   char *buf, size_t cap)
{
	char in[256];
	uint8_t md[CRYPTO_SHA1_LEN];
	struct json j;
	size_t len;

	/* deterministic: the same sensor, event and time give the same id */
	int n = snprintf(in, sizeof(in), "health|%s|%s|%s|%llu", sensor_name, h->action,
			 h->iface ? h->iface : "", (unsigned long long)h->ts_us);
	if (crypto_sha1(in, (size_t)(n > 0 ? n : 0), md) != 0)
		memset(md, 0, sizeof(md));
	for (int i = 0; i < CRYPTO_SHA1_LEN; i++)
		snprintf(h->id + 2 * i, 3, "%02x", md[i]);

	json_init(&j, buf, cap);
	json_obj_begin(&j, NULL);
	json_time(&j, "@timestamp", h->ts_us);
	json_obj_begin(&j, "event");
	json_str(&j, "kind", "metric");
	json_str(&j, "dataset", "egressd.health");
	json_str(&j, "action", h->action);
	json_str(&j, "id", h->id);
	json_obj_end(&j);
	json_obj_begin(&j, "observer");
	json_str(&j, "name", sensor_name);
	json_str(&j, "product", "egressd");
	json_str(&j, "version", version);
	if (h->iface && h->iface[0]) {
		json_obj_begin(&j, "ingress");
		json_obj_begin(&j, "interface");
		json_str(&j, "name", h->iface);
		json_obj_end(&j);
		json_obj_end(&j);
	}
	json_obj_end(&j);
	json_str(&j, "message", h->message);
	json_obj_begin(&j, "egressd");
	json_obj_begin(&j, "health");
	if (h->iface && h->iface[0])
		json_str(&j, "interface", h->iface);
	json_u64(&j, "received", h->received);
	json_u64(&j, "dropped", h->dropped);
	json_u64(&j, "interface_dropped", h->if_dropped);
	json_u64(&j, "processed", h->processed);
	json_u64(&j, "interval_received", h->interval_received);
	json_u64(&j, "interval_dropped", h->interval_dropped);
	json_double(&j, "loss_percent", h->loss_percent);
	if (h->idle_s)
		json_u64(&j, "idle_seconds", h->idle_s);
	if (h->rules)
		json_u64(&j, "rules", h->rules);
	if (h->detail && h->detail[0])
		json_str(&j, "detail", h->detail);
	json_obj_end(&j);
	json_obj_end(&j);
	json_obj_end(&j);
	json_finish(&j, &len);
	return len;
}
