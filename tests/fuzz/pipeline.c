/* pipeline.c: libFuzzer target for the whole pipeline (decode, fragments, flow table,
 * L7, enrichment, detection with the default rule packs, flow records) fed one capture
 * file image per input.
 *
 * The input is a pcap or pcapng file, opened from memory with fmemopen and
 * pcap_fopen_offline; its frames go to pipeline_packet the way sensor/capture.c hands
 * them over (microsecond timestamps, the same handling of a bad microseconds field).
 * Each input gets a fresh pipeline with small tables, so a crash replays on its own;
 * flow records and alerts are written to /dev/null, then the summary (to /dev/null)
 * and the HTML report (to a file of its own, removed).
 */
#include <pcap/pcap.h>
#include <stdio.h>
#include <unistd.h>

#include "config.h"
#include "fuzz.h"
#include "log.h"
#include "output.h"
#include "pipeline.h"

static struct config cfg;
static struct sink_spec devnull;

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	log_set_level(LOG_LEVEL_ERROR);
	config_defaults(&cfg);
	/* small tables: eviction and the full-table paths are reached with few flows */
	cfg.max_flows = 64;
	cfg.fragments = 64;
	cfg.reassembly_buffers = 8;
	cfg.names = 256;
	cfg.dns_cache = 256;
	cfg.baseline_max = 256;
	cfg.windows_max = 256;
	cfg.tunnels_max = 64;
	/* the default packs are found next to the lists, as from a checkout */
	snprintf(cfg.lists.text, sizeof(cfg.lists.text), "%s/rules/lists", fuzz_root());
	devnull.kind = SINK_FILE;
	snprintf(devnull.path, sizeof(devnull.path), "/dev/null");
	return 0;
}

/* The packet time of a record, as capture_read_files computes it. */
static uint64_t record_time(const struct pcap_pkthdr *h, uint64_t last)
{
	uint64_t ts = 0;

	if (h->ts.tv_usec < 0 || h->ts.tv_usec >= 1000000) {
		if (h->ts.tv_sec > 0)
			ts = (uint64_t)h->ts.tv_sec * 1000000u;
		return ts < last ? last : ts;
	}
	if (h->ts.tv_sec >= 0)
		ts = (uint64_t)h->ts.tv_sec * 1000000u + (uint64_t)h->ts.tv_usec;
	return ts;
}

static void feed(struct pipeline *p, uint8_t *image, size_t size)
{
	char ebuf[PCAP_ERRBUF_SIZE];
	struct pcap_pkthdr *h;
	const u_char *frame;
	uint64_t last = 0;

	FILE *f = fmemopen(image, size, "rb");
	if (!f)
		return;
	pcap_t *pc = pcap_fopen_offline_with_tstamp_precision(f, PCAP_TSTAMP_PRECISION_MICRO,
							       ebuf);
	if (!pc) {
		fclose(f);
		return;
	}
	int linktype = pcap_datalink(pc);
	while (pcap_next_ex(pc, &h, &frame) == 1) {
		last = record_time(h, last);
		pipeline_packet(p, linktype, last, frame, h->caplen, h->len);
	}
	pcap_close(pc); /* closes f */
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct pipeline p;
	static char err[16384];
	enum output_fail fail;

	if (size == 0)
		return 0;
	struct output *out = output_open(&devnull, 1, &fail, err, sizeof(err));
	if (!out)
		abort();
	if (!pipeline_init(&p, &cfg, true, false, out, err, sizeof(err))) {
		fprintf(stderr, "pipeline_init: %s\n", err);
		abort();
	}
	if (!pipeline_want_report(&p, true))
		abort();
	uint8_t *image = fuzz_dup(data, size);
	feed(&p, image, size);
	free(image);
	FUZZ_CHECK(pipeline_finish(&p, err, sizeof(err)));
	/* the summary and the HTML page of what was read (names from the input escaped) */
	char *names[1] = { "fuzz.pcap" };
	struct report_input ri = { .files = (const char *const *)names, .nfiles = 1,
				   .sensor_name = "fuzz", .version = "fuzz" };
	FILE *sink = fopen("/dev/null", "w");
	if (sink) {
		report_print_summary(p.report, &ri, p.enrich, sink);
		fclose(sink);
	}
	static char path[64];
	if (!path[0])
		snprintf(path, sizeof(path), "/tmp/egressd-fuzz-report-%ld.html", (long)getpid());
	FUZZ_CHECK(report_write_html(p.report, &ri, p.enrich, path, err, sizeof(err)) == 0);
	unlink(path);
	output_finish(out);
	pipeline_destroy(&p);
	output_close(out);
	return 0;
}
