/* live.c: the live capture loop (see live.h). */
#include <errno.h>
#include <inttypes.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "live.h"
#include "log.h"

#define POLL_MS 250
#define REOPEN_MIN_MS 1000
#define REOPEN_MAX_MS 30000
/* packets can sit in the ring for a block timeout before we see them: time moved by the
 * wall clock stays this far behind it, so they do not arrive "from the past" */
#define IDLE_LAG_US 1000000u
#define LINK_CHECK_MS 1000

static uint64_t wall_us(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

static uint64_t mono_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

static void event_counts(struct health_event *h, struct capture_live *cap, const char *iface,
			 const char *action)
{
	struct capture_live_counters c;
	capture_live_counters(cap, &c);
	memset(h, 0, sizeof(*h));
	h->ts_us = wall_us();
	h->action = action;
	h->iface = iface;
	h->received = c.received;
	h->dropped = c.dropped;
	h->if_dropped = c.if_dropped;
	h->processed = c.packets;
}

static void reload(struct pipeline *p, struct capture_live *cap, const char *iface,
		   const struct live_hooks *hooks, struct live_stats *st)
{
	static struct config c;
	static char err[16384];
	struct health_event h;

	err[0] = '\0';
	config_defaults(&c);
	bool ok = hooks->load_config(hooks->ctx, &c, err, sizeof(err)) &&
		  pipeline_reload(p, &c, err, sizeof(err));
	event_counts(&h, cap, iface, ok ? "reload" : "reload_failed");
	if (ok) {
		st->reload_ok++;
		h.rules = (uint64_t)p->rules.n;
		snprintf(h.message, sizeof(h.message),
			 "configuration reloaded: %d rule%s in force; flows, windows and the "
			 "baseline kept",
			 p->rules.n, p->rules.n == 1 ? "" : "s");
		log_msg(LOG_LEVEL_NOTICE, "SIGHUP: reloaded the configuration: %d rule%s",
			p->rules.n, p->rules.n == 1 ? "" : "s");
	} else {
		st->reload_failed++;
		size_t n = strlen(err);
		while (n && err[n - 1] == '\n')
			err[--n] = '\0';
		h.detail = err;
		snprintf(h.message, sizeof(h.message),
			 "configuration reload failed; the previous rules, lists and databases "
			 "stay in force");
		log_msg(LOG_LEVEL_ERROR,
			"SIGHUP: reload failed, keeping the previous configuration:\n%s", err);
	}
	pipeline_health(p, &h);
}

void live_run(struct pipeline *p, struct capture_live *cap, const char *iface,
	      struct live_flags *flags, const struct live_hooks *hooks, struct live_stats *st)
{
	const struct config *cfg = &p->cfg;
	char err[1024];
	uint64_t now = mono_ms();
	uint64_t last_packet = now, next_health = now + (uint64_t)cfg->health_interval_s * 1000;
	uint64_t next_reopen = 0, backoff = 0, next_link_check = 0;
	bool idle_told = false, failed_told = false;
	struct capture_live_counters prev;

	capture_live_counters(cap, &prev);
	while (!flags->stop) {
		if (!capture_live_is_open(cap)) {
			if (now >= next_reopen) {
				int link = capture_live_link_state(cap);
				enum capture_live_status s =
					link == 1 ? capture_live_reopen(cap, err, sizeof(err))
						  : CAPTURE_LIVE_GONE;
				if (link != 1)
					snprintf(err, sizeof(err), "%s: %s", iface,
						 link == 0 ? "the link is down" : "no such interface");
				if (s == CAPTURE_LIVE_OK) {
					struct health_event h;
					st->reopens++;
					backoff = 0;
					failed_told = false;
					log_msg(LOG_LEVEL_NOTICE, "interface %s is back: capturing again",
						iface);
					event_counts(&h, cap, iface, "interface_reopened");
					snprintf(h.message, sizeof(h.message),
						 "interface %s reopened; capture resumed", iface);
					pipeline_health(p, &h);
					last_packet = now;
				} else {
					backoff = backoff ? backoff * 2 : REOPEN_MIN_MS;
					if (backoff > REOPEN_MAX_MS)
						backoff = REOPEN_MAX_MS;
					next_reopen = now + backoff;
					if (!failed_told || s != CAPTURE_LIVE_GONE) {
						log_msg(LOG_LEVEL_WARN,
							"cannot reopen interface %s: %s; next try in %" PRIu64
							" ms",
							iface, err, backoff);
						failed_told = true;
					}
				}
			}
			if (!capture_live_is_open(cap)) {
				/* sleep, woken early by a signal */
				uint64_t wait = next_reopen > now ? next_reopen - now : 0;
				if (wait > POLL_MS)
					wait = POLL_MS;
				poll(NULL, 0, (int)wait);
			}
		} else {
			int n = capture_live_poll(cap, POLL_MS, pipeline_packet, p, &flags->stop, err,
						  sizeof(err));
			if (n < 0) {
				struct health_event h;
				st->lost++;
				log_msg(LOG_LEVEL_WARN,
					"interface %s lost (%s); reopening it with a backoff", iface, err);
				event_counts(&h, cap, iface, "interface_lost");
				h.detail = err;
				snprintf(h.message, sizeof(h.message),
					 "interface %s lost; reopening it with a backoff", iface);
				pipeline_health(p, &h);
				backoff = REOPEN_MIN_MS / 2;
				next_reopen = mono_ms() + REOPEN_MIN_MS;
			} else if (n == 0 && mono_ms() >= next_link_check) {
				/* libpcap reports a vanished interface, not a link gone down */
				next_link_check = mono_ms() + LINK_CHECK_MS;
				int link = capture_live_link_state(cap);
				if (link != 1) {
					struct health_event h;
					st->lost++;
					snprintf(err, sizeof(err), "%s: %s", iface,
						 link == 0 ? "the link went down" : "the interface disappeared");
					capture_live_suspend(cap);
					log_msg(LOG_LEVEL_WARN,
						"interface %s lost (%s); reopening it when it is up again",
						iface, err);
					event_counts(&h, cap, iface, "interface_lost");
					h.detail = err;
					snprintf(h.message, sizeof(h.message),
						 "interface %s lost (%s); reopening it when it is up",
						 iface, link == 0 ? "link down" : "gone");
					pipeline_health(p, &h);
					backoff = REOPEN_MIN_MS / 2;
					next_reopen = mono_ms() + REOPEN_MIN_MS;
				}
			} else if (n > 0) {
				last_packet = mono_ms();
				if (idle_told) {
					log_msg(LOG_LEVEL_NOTICE, "packets on %s again", iface);
					idle_told = false;
				}
			}
		}
		now = mono_ms();
		/* a quiet wire: time goes on by the wall clock */
		if (now - last_packet >= 1000) {
			uint64_t w = wall_us();
			if (w > IDLE_LAG_US)
				pipeline_tick(p, w - IDLE_LAG_US);
		}
		if (now >= next_health) {
			struct capture_live_counters c;
			capture_live_counters(cap, &c);
			uint64_t rcv = c.received - prev.received, drop = c.dropped - prev.dropped;
			double pct = rcv ? 100.0 * (double)drop / (double)rcv : 0.0;
			if (drop > 0 && pct >= (double)cfg->health_loss_percent) {
				struct health_event h;
				st->loss_events++;
				event_counts(&h, cap, iface, "capture_loss");
				h.interval_received = rcv;
				h.interval_dropped = drop;
				h.loss_percent = pct;
				snprintf(h.message, sizeof(h.message),
					 "capture loss on %s: the kernel dropped %" PRIu64 " of %" PRIu64
					 " packets (%.2f%%) in the last %us",
					 iface, drop, rcv, pct, cfg->health_interval_s);
				log_msg(LOG_LEVEL_WARN, "%s", h.message);
				pipeline_health(p, &h);
			}
			prev = c;
			next_health = now + (uint64_t)cfg->health_interval_s * 1000;
		}
		if (cfg->health_idle_s && !idle_told &&
		    now - last_packet >= (uint64_t)cfg->health_idle_s * 1000) {
			struct health_event h;
			st->idle_events++;
			idle_told = true;
			event_counts(&h, cap, iface, "capture_idle");
			h.idle_s = (now - last_packet) / 1000;
			snprintf(h.message, sizeof(h.message),
				 "no packet on %s for %" PRIu64 " s", iface, h.idle_s);
			log_msg(LOG_LEVEL_WARN, "%s", h.message);
			pipeline_health(p, &h);
		}
		if (flags->hup) {
			flags->hup = 0;
			reload(p, cap, iface, hooks, st);
		}
		if (flags->usr1) {
			flags->usr1 = 0;
			hooks->print_stats(hooks->ctx, stderr);
		}
		output_flush(p->out);
	}
	/* stopping: what the kernel already holds is read first (a block is handed over
	 * when full or after the block timeout), so nothing received goes uncounted */
	for (int round = 0; round < 200 && capture_live_is_open(cap); round++) {
		int n = capture_live_poll(cap, (int)cfg->capture_timeout_ms + 100, pipeline_packet,
					  p, NULL, err, sizeof(err));
		if (n <= 0)
			break;
	}
}
