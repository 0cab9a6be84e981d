/* anomaly.c: names of the counted packet and capture anomalies. */
#include "anomaly.h"

static const char *const anomaly_names[ANOM__COUNT] = {
#define ANOMALY_NAME(id, name) [ANOM_##id] = name,
	ANOMALY_LIST(ANOMALY_NAME)
#undef ANOMALY_NAME
};

const char *anomaly_name(enum anomaly a)
{
	if ((unsigned)a >= ANOM__COUNT)
		return "unknown";
	return anomaly_names[a];
}
