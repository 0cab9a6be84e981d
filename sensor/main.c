/* main.c: egressd's command line: read captures through the pipeline, write flow
 * records and counters. Exit codes follow sysexits(3). */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "capture.h"
#include "config.h"
#include "enrich.h"
#include "live.h"
#include "log.h"
#include "privdrop.h"
#include "pipeline.h"

#ifndef EGRESSD_VERSION
#define EGRESSD_VERSION "0.1.0"
#endif

#define EX_OK_ 0
#define EX_USAGE_ 64
#define EX_DATAERR_ 65
#define EX_NOINPUT_ 66
#define EX_UNAVAILABLE_ 69
#define EX_SOFTWARE_ 70
#define EX_OSERR_ 71
#define EX_CANTCREAT_ 73
#define EX_IOERR_ 74
#define EX_CONFIG_ 78

#define MAX_FILES 4096

static struct live_flags flags;

/* the command line, kept for SIGHUP: the configuration is loaded again the same way */
static const char *config_path, *filter, *home_net, *iface, *user, *snaplen, *bufsize;
static bool no_promisc;

static void on_signal(int sig)
{
	if (sig == SIGHUP)
		flags.hup = 1;
	else if (sig == SIGUSR1)
		flags.usr1 = 1;
	else
		flags.stop = 1;
}

static void usage(FILE *f)
{
	fprintf(f,
		"usage: egressd -r FILE [-r FILE ...] [options]\n"
		"       egressd -i IFACE [options]\n"
		"\n"
		"  -r FILE               read a pcap or pcapng file ('-' is standard input);\n"
		"                        several files are read in order as one timeline\n"
		"  -i, --interface IFACE capture live on IFACE (a span port), until SIGTERM\n"
		"  -s, --snaplen N       bytes kept per packet, live (default 65535)\n"
		"      --no-promisc      do not put the interface in promiscuous mode\n"
		"  -B, --buffer-size SIZE  kernel capture buffer, e.g. 256MiB (default 64MiB)\n"
		"  -Z, --user USER       after opening the capture, run as USER (keeping only\n"
		"                        CAP_NET_RAW and CAP_NET_ADMIN), no_new_privs\n"
		"  -C, --config FILE     sensor.yaml (default ./sensor.yaml if present)\n"
		"  -F, --filter EXPR     BPF filter, as tcpdump takes it\n"
		"      --home-net LIST   internal networks, e.g. 10.0.0.0/8,fc00::/7\n"
		"  -o, --output SPEC     stdout, file:PATH, redis://[USER@]HOST:PORT[/DB][?PARAMS]\n"
		"                        or unix:PATH[?PARAMS] (repeatable; overrides outputs);\n"
		"                        PARAMS: stream=KEY&maxlen=N&spool=DIR&dedupe=id|event-id|none\n"
		"                        &field=event|eve&timeout=2s&drain=10s&password_env=VAR\n"
		"                        &password_file=PATH (see egressd(8))\n"
		"      --flows           write one JSON record per finished flow\n"
		"      --report FILE     at the end, write an HTML report (timeline, top\n"
		"                        sources and destinations, alerts with evidence)\n"
		"      --no-progress     no progress line on a terminal (offline)\n"
		"      --no-summary      no summary on standard error at the end (offline)\n"
		"  -T, --check-config    load the configuration, report every problem, exit\n"
		"      --stats           print counters to standard error at exit\n"
		"      --learn-only      fill the baseline of seen destinations, never alert\n"
		"  -q, --quiet           only errors on standard error (no progress, no summary)\n"
		"  -v, --verbose         more detail on standard error\n"
		"  -V, --version         print the version\n"
		"  -h, --help            this text\n"
		"\n"
		"Exit status: 0 ok, 64 usage, 65 a capture was damaged (what came before was\n"
		"processed), 66 input cannot be opened, 69 Redis (the only output, no spool)\n"
		"does not answer, 70 internal error, 71 -Z failed, 73 the --report file\n"
		"cannot be created, 74 output error (alerts lost, or the report not written),\n"
		"78 configuration error. SIGHUP reloads, SIGUSR1 prints counters.\n"
		"See egressd(8) and README.md.\n");

}

enum {
	OPT_HOME_NET = 256,
	OPT_FLOWS,
	OPT_STATS,
	OPT_LEARN_ONLY,
	OPT_NO_PROMISC,
	OPT_REPORT,
	OPT_NO_PROGRESS,
	OPT_NO_SUMMARY,
};

#ifndef EGRESSD_DATADIR
#define EGRESSD_DATADIR "/usr/local/share/egressd"
#endif

/* The category lists when the configuration names none: the installed ones, or, for
 * build/egressd run from a checkout, the checkout's rules/lists. */
static void default_lists(struct config *cfg)
{
	char exe[200], cand[240];
	ssize_t n;

	if (cfg->lists.text[0])
		return;
	n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	if (n > 0) {
		exe[n] = '\0';
		char *slash = strrchr(exe, '/');
		if (slash) {
			*slash = '\0';
			snprintf(cand, sizeof(cand), "%s/../rules/lists", exe);
			if (access(cand, R_OK) == 0 && strstr(exe, "/build")) {
				snprintf(cfg->lists.text, sizeof(cfg->lists.text), "%s", cand);
				return;
			}
			snprintf(cand, sizeof(cand), "%s/../../rules/lists", exe); /* build/asan */
			if (access(cand, R_OK) == 0 && strstr(exe, "/build")) {
				snprintf(cfg->lists.text, sizeof(cfg->lists.text), "%s", cand);
				return;
			}
		}
	}
	snprintf(cfg->lists.text, sizeof(cfg->lists.text), "%s", EGRESSD_DATADIR "/rules/lists");
}

/* The configuration file, then the command line over it. EX_OK_, or an exit status with
 * the messages in err. */
static int load_config(struct config *c, char *err, size_t errlen)
{
	err[0] = '\0';
	if (config_path) {
		int problems = config_load(c, config_path, err, errlen);
		if (problems) {
			size_t n = strlen(err);
			snprintf(err + n, errlen - n, "egressd: %d problem%s in the configuration\n",
				 problems, problems == 1 ? "" : "s");
			return EX_CONFIG_;
		}
	}
	if (home_net && !netset_parse_list(&c->home_net, home_net, err, errlen)) {
		char tmp[300];
		snprintf(tmp, sizeof(tmp), "egressd: --home-net: %s\n", err);
		snprintf(err, errlen, "%s", tmp);
		return EX_USAGE_;
	}
	if (iface)
		snprintf(c->capture_interface.text, sizeof(c->capture_interface.text), "%s", iface);
	if (filter)
		snprintf(c->capture_filter.text, sizeof(c->capture_filter.text), "%s", filter);
	if (no_promisc)
		c->promisc = 0;
	if (snaplen) {
		char *end;
		unsigned long v = strtoul(snaplen, &end, 10);
		if (*end || v < 64 || v > 262144) {
			snprintf(err, errlen, "egressd: -s: '%s' is not a snaplen from 64 to 262144\n",
				 snaplen);
			return EX_USAGE_;
		}
		c->snaplen = (uint32_t)v;
	}
	if (bufsize) {
		uint64_t b;
		if (!config_parse_size(bufsize, &b) || b < (1u << 20) || b > (2047ULL << 20)) {
			snprintf(err, errlen,
				 "egressd: -B: '%s' is not a size from 1MiB to 2047MiB\n", bufsize);
			return EX_USAGE_;
		}
		c->buffer_bytes = (uint32_t)b;
	}
	default_lists(c);
	return EX_OK_;
}

static bool reload_config(void *ctx, struct config *c, char *err, size_t errlen)
{
	(void)ctx;
	return load_config(c, err, errlen) == EX_OK_;
}

struct stats_ctx {
	struct pipeline *p;
	struct output *out;
	struct capture_stats *cs;     /* offline */
	struct capture_live *cap;     /* live */
	struct live_stats *ls;
};

static void row(FILE *f, const char *name, uint64_t v)
{
	fprintf(f, "%-44s %llu\n", name, (unsigned long long)v);
}

static void print_stats(void *ctx, FILE *f)
{
	struct stats_ctx *x = ctx;
	if (x->cap) {
		struct capture_live_counters c;
		capture_live_counters(x->cap, &c);
		fprintf(f, "%-44s %s\n", "capture.interface", iface ? iface : "");
		row(f, "capture.packets", c.packets);
		row(f, "capture.wire_bytes", c.wire_bytes);
		row(f, "capture.kernel_received", c.received);
		row(f, "capture.kernel_dropped", c.dropped);
		row(f, "capture.interface_dropped", c.if_dropped);
		row(f, "capture.lost", x->ls->lost);
		row(f, "capture.reopens", x->ls->reopens);
		row(f, "reload.ok", x->ls->reload_ok);
		row(f, "reload.failed", x->ls->reload_failed);
		row(f, "health.loss_events", x->ls->loss_events);
		row(f, "health.idle_events", x->ls->idle_events);
	} else {
		row(f, "capture.files", x->cs->files);
		row(f, "capture.packets", x->cs->packets);
		row(f, "capture.wire_bytes", x->cs->wire_bytes);
		row(f, "capture.damaged_files", x->cs->damaged_files);
		row(f, "capture.bad_timestamps", x->cs->bad_timestamps);
	}
	pipeline_print_stats(x->p, f);
	output_print_stats(x->out, f);
	fflush(f);
}

/* ---- progress on a terminal ---- */

struct progress {
	struct pipeline *p;
	double start, last;
	bool drawn;
};

static double mono_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void rate_text(double v, char *out, size_t n)
{
	if (v >= 1e6)
		snprintf(out, n, "%.1fM", v / 1e6);
	else if (v >= 1e3)
		snprintf(out, n, "%.1fk", v / 1e3);
	else
		snprintf(out, n, "%.0f", v);
}

static void on_progress(void *ctx, const struct capture_stats *st, uint64_t bytes_read,
			uint64_t bytes_total, bool done)
{
	struct progress *g = ctx;
	double now = mono_s();
	if (done || now - g->last < 0.5)
		return; /* the last line is written after the flows have ended */
	g->last = now;
	double el = now - g->start;
	char rd[32], tot[32], pps[32], left[32] = "";
	alert_fmt_bytes(bytes_read, rd, sizeof(rd));
	rate_text(el > 0 ? (double)st->packets / el : 0, pps, sizeof(pps));
	if (bytes_total) {
		alert_fmt_bytes(bytes_total, tot, sizeof(tot));
		if (bytes_read && bytes_read <= bytes_total) {
			uint64_t s = (uint64_t)(el * (double)(bytes_total - bytes_read) /
						(double)bytes_read + 0.5);
			snprintf(left, sizeof(left), ", %llu:%02llu:%02llu left",
				 (unsigned long long)(s / 3600), (unsigned long long)(s / 60 % 60),
				 (unsigned long long)(s % 60));
		}
	}
	const struct flow_table_stats *fs = flow_table_stats(g->p->flows);
	if (bytes_total)
		fprintf(stderr, "\r\033[Kegressd: %s of %s (%.0f%%), %s packets/s, %llu flows, "
				"%llu alerts%s", rd, tot,
			100.0 * (double)bytes_read / (double)bytes_total, pps,
			(unsigned long long)fs->created,
			(unsigned long long)detect_stats(g->p->detect)->alerts, left);
	else
		fprintf(stderr, "\r\033[Kegressd: %s read, %s packets/s, %llu flows, %llu alerts",
			rd, pps, (unsigned long long)fs->created,
			(unsigned long long)detect_stats(g->p->detect)->alerts);
	fflush(stderr);
	g->drawn = true;
}

/* The last line: the whole run. */
static void progress_end(struct progress *g, const struct capture_stats *st)
{
	double el = mono_s() - g->start;
	char wb[32], pps[32];
	alert_fmt_bytes(st->wire_bytes, wb, sizeof(wb));
	rate_text(el > 0 ? (double)st->packets / el : 0, pps, sizeof(pps));
	fprintf(stderr, "%segressd: %llu packets (%s) in %.1f s, %s packets/s, %llu flows, "
			"%llu alerts\n", g->drawn ? "\r\033[K" : "",
		(unsigned long long)st->packets, wb, el, pps,
		(unsigned long long)flow_table_stats(g->p->flows)->created,
		(unsigned long long)detect_stats(g->p->detect)->alerts);
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "config", required_argument, NULL, 'C' },
		{ "interface", required_argument, NULL, 'i' },
		{ "snaplen", required_argument, NULL, 's' },
		{ "no-promisc", no_argument, NULL, OPT_NO_PROMISC },
		{ "buffer-size", required_argument, NULL, 'B' },
		{ "user", required_argument, NULL, 'Z' },
		{ "filter", required_argument, NULL, 'F' },
		{ "home-net", required_argument, NULL, OPT_HOME_NET },
		{ "output", required_argument, NULL, 'o' },
		{ "flows", no_argument, NULL, OPT_FLOWS },
		{ "report", required_argument, NULL, OPT_REPORT },
		{ "no-progress", no_argument, NULL, OPT_NO_PROGRESS },
		{ "no-summary", no_argument, NULL, OPT_NO_SUMMARY },
		{ "check-config", no_argument, NULL, 'T' },
		{ "stats", no_argument, NULL, OPT_STATS },
		{ "learn-only", no_argument, NULL, OPT_LEARN_ONLY },
		{ "quiet", no_argument, NULL, 'q' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "version", no_argument, NULL, 'V' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	char *files[MAX_FILES];
	static struct sink_spec outputs[OUTPUT_MAX];
	int nfiles = 0, noutputs = 0, verbosity = 1;

	bool flows = false, check = false, stats = false, learn_only = false;
	bool no_progress = false, no_summary = false;
	const char *report_path = NULL;
	static char err[16384];
	static struct config cfg;
	static struct pipeline p;
	int c, rc = EX_OK_;

	while ((c = getopt_long(argc, argv, "r:i:s:B:Z:C:F:o:TqvVh", opts, NULL)) != -1) {
		switch (c) {
		case 'i':
			iface = optarg;
			break;
		case 's':
			snaplen = optarg;
			break;
		case 'B':
			bufsize = optarg;
			break;
		case 'Z':
			user = optarg;
			break;
		case OPT_NO_PROMISC:
			no_promisc = true;
			break;
		case 'r':
			if (nfiles == MAX_FILES) {
				fprintf(stderr, "egressd: at most %d capture files\n", MAX_FILES);
				return EX_USAGE_;
			}
			files[nfiles++] = optarg;
			break;
		case 'C':
			config_path = optarg;
			break;
		case 'F':
			filter = optarg;
			break;
		case OPT_HOME_NET:
			home_net = optarg;
			break;
		case 'o':
			if (noutputs == OUTPUT_MAX) {
				fprintf(stderr, "egressd: at most %d outputs\n", OUTPUT_MAX);
				return EX_USAGE_;
			}
			if (!sink_spec_parse(optarg, &outputs[noutputs], err, sizeof(err))) {
				fprintf(stderr, "egressd: -o: %s\n", err);
				return EX_USAGE_;
			}
			if (outputs[noutputs].kind == SINK_REDIS &&
			    outputs[noutputs].redis.password_in_url) {
				/* out of argv (and so of ps and /proc/PID/cmdline) at once */
				size_t off, len;
				if (sink_spec_password_span(optarg, &off, &len))
					memset(optarg + off, '*', len);
				fprintf(stderr, "egressd: warning: -o: a password in the URL can be "
						"seen by other users until egressd erases it; use "
						"password_env= or password_file=\n");
			}
			noutputs++;
			break;
		case OPT_FLOWS:
			flows = true;
			break;
		case OPT_REPORT:
			if (!*optarg) {
				fprintf(stderr, "egressd: --report needs a file name\n");
				return EX_USAGE_;
			}
			report_path = optarg;
			break;
		case OPT_NO_PROGRESS:
			no_progress = true;
			break;
		case OPT_NO_SUMMARY:
			no_summary = true;
			break;
		case 'T':
			check = true;
			break;
		case OPT_STATS:
			stats = true;
			break;
		case OPT_LEARN_ONLY:
			learn_only = true;
			break;
		case 'q':
			verbosity = 0;
			break;
		case 'v':
			verbosity++;
			break;
		case 'V':
			printf("egressd %s\n", EGRESSD_VERSION);
			return EX_OK_;
		case 'h':
			usage(stdout);
			return EX_OK_;
		default:
			usage(stderr);
			return EX_USAGE_;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "egressd: unexpected argument '%s' (captures are read with -r)\n",
			argv[optind]);
		return EX_USAGE_;
	}

	log_set_level(verbosity == 0 ? LOG_LEVEL_ERROR
				     : verbosity == 1 ? LOG_LEVEL_NOTICE
						      : verbosity == 2 ? LOG_LEVEL_INFO : LOG_LEVEL_DEBUG);
	if (!config_path && access("sensor.yaml", F_OK) == 0)
		config_path = "sensor.yaml";
	config_defaults(&cfg);
	int lrc = load_config(&cfg, err, sizeof(err));
	if (lrc != EX_OK_) {
		fputs(err, stderr);
		return lrc;
	}
	if (check) {
		/* the values only the stages understand: lists, tenants, databases */
		err[0] = '\0';
		struct enrich *e = enrich_create(&cfg, err, sizeof(err));
		struct ruleset_list rl;
		int rp = pipeline_load_rules(&cfg, &rl, err, sizeof(err));
		if (!e || rp > 0) {
			fputs(err, stderr);
			fprintf(stderr, "egressd: the configuration has problems\n");
			enrich_destroy(e);
			rules_free(&rl);
			return EX_CONFIG_;
		}
		if (verbosity)
			fprintf(stderr, "egressd: %d rule%s loaded\n", rl.n, rl.n == 1 ? "" : "s");
		rules_free(&rl);
		enrich_destroy(e);
		if (verbosity)
			fprintf(stderr, "egressd: configuration %s is valid\n",
				config_path ? config_path : "(built-in defaults)");
		return EX_OK_;
	}
	const char *live_if = cfg.capture_interface.text[0] ? cfg.capture_interface.text : NULL;
	if (nfiles && iface) {
		fprintf(stderr, "egressd: -r and -i together: read captures or capture live, not both\n");
		return EX_USAGE_;
	}
	if (nfiles)
		live_if = NULL; /* -r wins over capture.interface in the configuration */
	if (nfiles == 0 && !live_if) {
		fprintf(stderr, "egressd: no input: give a capture with -r FILE or an interface "
				"with -i IFACE (see --help)\n");
		return EX_USAGE_;
	}
	iface = live_if;

	/* the capture opens as root (or with CAP_NET_RAW); then the privileges go, before
	 * any thread starts (capabilities are per thread) */
	struct capture_live *cap = NULL;
	if (live_if) {
		struct capture_live_config lc = {
			.iface = live_if,
			.snaplen = (int)cfg.snaplen,
			.promisc = cfg.promisc != 0,
			.buffer_bytes = cfg.buffer_bytes,
			.timeout_ms = cfg.capture_timeout_ms,
			.filter = cfg.capture_filter.text,
		};
		enum capture_live_status cst;
		cap = capture_live_open(&lc, &cst, err, sizeof(err));
		if (!cap) {
			fprintf(stderr, "egressd: %s\n", err);
			return cst == CAPTURE_LIVE_BAD_FILTER ? EX_USAGE_ : EX_NOINPUT_;
		}
	}
	if (user) {
		if (!privdrop_to_user(user, err, sizeof(err))) {
			fprintf(stderr, "egressd: %s\n", err);
			capture_live_close(cap);
			return EX_OSERR_;
		}
	} else {
		privdrop_trim_caps();
	}

	struct sink_spec *specs = noutputs ? outputs : cfg.outputs;
	int nspecs = noutputs ? noutputs : cfg.noutputs;
	for (int i = 0; i < nspecs; i++) {
		if (specs[i].kind == SINK_REDIS &&
		    !redis_opts_resolve_password(&specs[i].redis, err, sizeof(err))) {
			fprintf(stderr, "egressd: redis output: %s\n", err);
			capture_live_close(cap);
			return EX_CONFIG_;
		}
	}
	enum output_fail ofail;
	struct output *out = output_open(specs, nspecs, &ofail, err, sizeof(err));
	for (int i = 0; i < nspecs; i++) /* the sinks hold their own copies */
		memset(specs[i].redis.password, 0, sizeof(specs[i].redis.password));
	if (!out) {
		fprintf(stderr, "egressd: %s\n", err);
		capture_live_close(cap);
		return ofail == OUTPUT_FAIL_UNAVAILABLE ? EX_UNAVAILABLE_ : EX_CONFIG_;
	}
	err[0] = '\0';
	if (!pipeline_init(&p, &cfg, flows, learn_only, out, err, sizeof(err))) {
		fputs(err, stderr);
		if (err[0] && err[strlen(err) - 1] != '\n')
			fputc('\n', stderr);
		output_close(out);
		capture_live_close(cap);
		/* configuration values (lists, tenants, databases) or memory */
		return strstr(err, "memory") ? EX_SOFTWARE_ : EX_CONFIG_;
	}
	if (p.baseline_warning)
		fprintf(stderr, "egressd: warning: %s\n", err);
	bool summary = !cap && verbosity && !no_summary;
	bool baseline_loaded = detect_stats(p.detect)->baseline_entries > 0;
	if ((report_path || summary) && !pipeline_want_report(&p, report_path != NULL)) {
		fprintf(stderr, "egressd: out of memory for the report\n");
		pipeline_destroy(&p);
		output_close(out);
		capture_live_close(cap);
		return EX_SOFTWARE_;
	}
	if (report_path) {
		/* find out now, not after hours of reading, that the report cannot be written */
		char tmp[4200];
		snprintf(tmp, sizeof(tmp), "%s.tmp", report_path);
		FILE *t = fopen(tmp, "w");
		if (!t) {
			fprintf(stderr, "egressd: --report: %s: %s\n", tmp, strerror(errno));
			pipeline_destroy(&p);
			output_close(out);
			capture_live_close(cap);
			return EX_CANTCREAT_;
		}
		fclose(t);
		unlink(tmp);
	}
	if (verbosity && enrich_warning(p.enrich))
		fprintf(stderr, "egressd: warning: %s\n", enrich_warning(p.enrich));

	struct sigaction sa;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
	sigaction(SIGUSR1, &sa, NULL);

	struct capture_stats cs;
	struct live_stats ls;
	memset(&cs, 0, sizeof(cs));
	memset(&ls, 0, sizeof(ls));
	struct stats_ctx sx = { &p, out, &cs, cap, &ls };
	bool finished = false, finish_failed = false;
	if (cap) {
		struct live_hooks hooks = { reload_config, print_stats, &sx };
		log_msg(LOG_LEVEL_NOTICE, "capturing on %s (snaplen %u, %spromiscuous, buffer %u MiB)",
			live_if, cfg.snaplen, cfg.promisc ? "" : "not ", cfg.buffer_bytes >> 20);
		live_run(&p, cap, live_if, &flags, &hooks, &ls);
	} else {
		struct progress prog = { &p, mono_s(), mono_s(), false };
		struct capture_progress cp = { on_progress, &prog };
		bool show = verbosity && !no_progress && isatty(STDERR_FILENO);
		enum capture_status st = capture_read_files(files, nfiles, cfg.capture_filter.text,
							    pipeline_packet, &p, &flags.stop, &cs,
							    show ? &cp : NULL, err, sizeof(err));
		if (show) {
			if (!pipeline_finish(&p, err, sizeof(err))) /* flows end, then the line */
				finish_failed = true;
			finished = true;
			progress_end(&prog, &cs);
		}
		switch (st) {
		case CAPTURE_OK:
		case CAPTURE_STOPPED:
			break;
		case CAPTURE_DAMAGED:
			fprintf(stderr, "egressd: %s", err);
			rc = EX_DATAERR_;
			break;
		case CAPTURE_OPEN_FAILED:
			fprintf(stderr, "egressd: %s", err);
			rc = EX_NOINPUT_;
			break;
		case CAPTURE_BAD_FILTER:
			fprintf(stderr, "egressd: %s", err);
			rc = EX_USAGE_;
			break;
		}
	}
	if (finished ? finish_failed : !pipeline_finish(&p, err, sizeof(err))) {
		fprintf(stderr, "egressd: saving the baseline: %s\n", err);
		if (rc == EX_OK_)
			rc = EX_IOERR_;
	}
	int orc = output_finish(out);
	if (stats)
		print_stats(&sx, stderr);
	struct report_input ri = {
		.files = (const char *const *)files,
		.nfiles = cap ? 0 : nfiles,
		.interface = live_if,
		.packets = cap ? 0 : cs.packets,
		.wire_bytes = cap ? 0 : cs.wire_bytes,
		.damaged_files = cs.damaged_files,
		.rate_limited = detect_stats(p.detect)->rate_limited,
		.sensor_name = p.cfg.sensor_name,
		.version = EGRESSD_VERSION,
		.baseline_loaded = baseline_loaded,
	};
	if (cap) {
		struct capture_live_counters lc;
		capture_live_counters(cap, &lc);
		ri.packets = lc.packets;
		ri.wire_bytes = lc.wire_bytes;
	}
	/* nothing read because the input could not be opened or filtered: no picture */
	bool nothing = !cap && cs.packets == 0 && (rc == EX_NOINPUT_ || rc == EX_USAGE_);
	if (summary && !nothing)
		report_print_summary(p.report, &ri, p.enrich, stderr);
	if (report_path && !nothing) {
		if (report_write_html(p.report, &ri, p.enrich, report_path, err, sizeof(err)) != 0) {
			fprintf(stderr, "egressd: writing the report: %s\n", err);
			if (rc == EX_OK_)
				rc = EX_IOERR_;
		} else if (verbosity) {
			fprintf(stderr, "egressd: report written to %s\n", report_path);
		}
	}
	pipeline_destroy(&p);
	if (output_close(out) != 0 || orc != 0) {
		fprintf(stderr, "egressd: writing the output failed\n");
		if (rc == EX_OK_)
			rc = EX_IOERR_;
	}
	capture_live_close(cap);
	return rc;
}
