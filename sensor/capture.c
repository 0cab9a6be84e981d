/* capture.c: offline capture through libpcap (pcap and pcapng, several files as one
 * timeline, stdin as "-"), with microsecond timestamps whatever the file's precision. */
#include <pcap/pcap.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "capture.h"

const char *capture_linktype_name(int linktype)
{
	const char *n = pcap_datalink_val_to_name(linktype);
	return n ? n : "unknown";
}

__attribute__((format(printf, 3, 4)))
static void append_err(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;
	size_t used = strlen(err);
	if (used + 1 >= errlen)
		return;
	va_start(ap, fmt);
	vsnprintf(err + used, errlen - used, fmt, ap);
	va_end(ap);
}

enum capture_status capture_read_files(char *const *files, int n, const char *filter,
				       capture_fn fn, void *ctx,
				       volatile sig_atomic_t *stop, struct capture_stats *st,
				       char *err, size_t errlen)
{
	enum capture_status rc = CAPTURE_OK;
	char ebuf[PCAP_ERRBUF_SIZE];

	err[0] = '\0';
	for (int i = 0; i < n; i++) {
		const char *name = strcmp(files[i], "-") == 0 ? "standard input" : files[i];
		ebuf[0] = '\0';
		pcap_t *p = pcap_open_offline_with_tstamp_precision(files[i],
								     PCAP_TSTAMP_PRECISION_MICRO, ebuf);
		if (!p) {
			append_err(err, errlen, "%s: %s\n", name, ebuf);
			return CAPTURE_OPEN_FAILED;
		}
		st->files++;
		if (filter && *filter) {
			struct bpf_program prog;
			if (pcap_compile(p, &prog, filter, 1, PCAP_NETMASK_UNKNOWN) < 0) {
				append_err(err, errlen, "bad filter \"%s\": %s\n", filter, pcap_geterr(p));
				pcap_close(p);
				return CAPTURE_BAD_FILTER;
			}
			int set = pcap_setfilter(p, &prog);
			pcap_freecode(&prog);
			if (set < 0) {
				append_err(err, errlen, "%s: cannot set filter: %s\n", name,
					   pcap_geterr(p));
				pcap_close(p);
				return CAPTURE_BAD_FILTER;
			}
		}
		int linktype = pcap_datalink(p);
		struct pcap_pkthdr *h;
		const u_char *data;
		int r;
		while ((r = pcap_next_ex(p, &h, &data)) == 1) {
			uint64_t ts = (uint64_t)h->ts.tv_sec * 1000000u + (uint64_t)h->ts.tv_usec;
			if (h->ts.tv_sec < 0)
				ts = 0;
			st->packets++;
			st->wire_bytes += h->len;
			fn(ctx, linktype, ts, data, h->caplen, h->len);
			if (stop && *stop) {
				pcap_close(p);
				return CAPTURE_STOPPED;
			}
		}
		if (r == -1) {
			append_err(err, errlen, "%s: %s (the packets before it were processed)\n",
				   name, pcap_geterr(p));
			st->damaged_files++;
			rc = CAPTURE_DAMAGED;
		}
		pcap_close(p);
	}
	return rc;
}
