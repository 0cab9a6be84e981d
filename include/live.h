/* live.h: the loop of a sensor on an interface: packets into the pipeline, the wall clock
 * moving time on when the wire is quiet, the kernel's loss counters watched, a vanished
 * interface reopened with a backoff, and the signals (SIGHUP reload, SIGUSR1 counters,
 * SIGTERM/SIGINT stop) acted on between packets.
 */
#ifndef EGRESSD_LIVE_H
#define EGRESSD_LIVE_H

#include <signal.h>
#include <stdint.h>
#include <stdio.h>

#include "capture.h"
#include "config.h"
#include "pipeline.h"

struct live_flags {
	volatile sig_atomic_t stop, hup, usr1;
};

struct live_stats {
	uint64_t reopens, lost, reload_ok, reload_failed, loss_events, idle_events;
};

struct live_hooks {
	/* SIGHUP: the configuration again, as at start (file plus command-line overrides). */
	bool (*load_config)(void *ctx, struct config *c, char *err, size_t errlen);
	/* SIGUSR1: the counters. */
	void (*print_stats)(void *ctx, FILE *f);
	void *ctx;
};

/* Run until flags->stop. The capture is open (or gone: it is reopened). */
void live_run(struct pipeline *p, struct capture_live *cap, const char *iface,
	      struct live_flags *flags, const struct live_hooks *hooks, struct live_stats *st);

#endif
