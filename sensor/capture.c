/* capture.c: capture through libpcap: offline (pcap and pcapng, several files as one
 * timeline, stdin as "-") and live (one interface), with microsecond timestamps. */
#include <errno.h>
#include <net/if.h>
#include <stdbool.h>
#include <pcap/pcap.h>
#include <poll.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "capture.h"

#define CAPTURE_FILE_BUFFER (1u << 20)

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

/* pcap_close closes the file, except standard input, which keeps its buffer. */
static void file_close(pcap_t *p, bool is_stdin, char *iobuf)
{
	pcap_close(p);
	if (!is_stdin)
		free(iobuf);
}

enum capture_status capture_read_files(char *const *files, int n, const char *filter,
				       capture_fn fn, void *ctx,
				       volatile sig_atomic_t *stop, struct capture_stats *st,
				       const struct capture_progress *progress,
				       char *err, size_t errlen)
{
	enum capture_status rc = CAPTURE_OK;
	char ebuf[PCAP_ERRBUF_SIZE];
	uint64_t total = 0, before = 0; /* bytes of all files; of the files already read */

	err[0] = '\0';
	if (progress && progress->fn) {
		for (int i = 0; i < n; i++) {
			struct stat sb;
			if (strcmp(files[i], "-") == 0 || stat(files[i], &sb) != 0 ||
			    !S_ISREG(sb.st_mode)) {
				total = 0;
				break;
			}
			total += (uint64_t)sb.st_size;
		}
	} else {
		progress = NULL;
	}
	for (int i = 0; i < n; i++) {
		const char *name = strcmp(files[i], "-") == 0 ? "standard input" : files[i];
		ebuf[0] = '\0';
		/* libpcap reads a file through stdio, two small reads per packet; with the
		 * default buffer of a few KiB that is a system call every few packets. The
		 * file is opened here so that its buffer is 1 MiB. */
		bool is_stdin = strcmp(files[i], "-") == 0;
		FILE *fp = is_stdin ? stdin : fopen(files[i], "rb");
		if (!fp) {
			append_err(err, errlen, "%s: %s\n", name, strerror(errno));
			return CAPTURE_OPEN_FAILED;
		}
		char *iobuf = malloc(CAPTURE_FILE_BUFFER);
		if (iobuf)
			setvbuf(fp, iobuf, _IOFBF, CAPTURE_FILE_BUFFER);
		pcap_t *p = pcap_fopen_offline_with_tstamp_precision(fp, PCAP_TSTAMP_PRECISION_MICRO,
								     ebuf);
		if (!p) {
			append_err(err, errlen, "%s: %s\n", name, ebuf);
			if (!is_stdin) {
				fclose(fp);
				free(iobuf);
			}
			return CAPTURE_OPEN_FAILED;
		}
		st->files++;
		if (filter && *filter) {
			struct bpf_program prog;
			if (pcap_compile(p, &prog, filter, 1, PCAP_NETMASK_UNKNOWN) < 0) {
				append_err(err, errlen, "bad filter \"%s\": %s\n", filter, pcap_geterr(p));
				file_close(p, is_stdin, iobuf);
				return CAPTURE_BAD_FILTER;
			}
			int set = pcap_setfilter(p, &prog);
			pcap_freecode(&prog);
			if (set < 0) {
				append_err(err, errlen, "%s: cannot set filter: %s\n", name,
					   pcap_geterr(p));
				file_close(p, is_stdin, iobuf);
				return CAPTURE_BAD_FILTER;
			}
		}
		int linktype = pcap_datalink(p);
		uint64_t in_file = 0;
		struct pcap_pkthdr *h;
		const u_char *data;
		int r;
		uint64_t last_ts = 0;
		while ((r = pcap_next_ex(p, &h, &data)) == 1) {
			uint64_t ts = 0;
			/* a microseconds field of a million or more is not a time at all: read
			 * as one it would jump ahead and make the packets after it look as if
			 * time went backwards; its second is kept, not before the packet
			 * ahead of it */
			if (h->ts.tv_usec < 0 || h->ts.tv_usec >= 1000000) {
				st->bad_timestamps++;
				if (h->ts.tv_sec > 0)
					ts = (uint64_t)h->ts.tv_sec * 1000000u;
				if (ts < last_ts)
					ts = last_ts;
			} else if (h->ts.tv_sec >= 0) {
				ts = (uint64_t)h->ts.tv_sec * 1000000u + (uint64_t)h->ts.tv_usec;
			}
			last_ts = ts;
			st->packets++;
			st->wire_bytes += h->len;
			fn(ctx, linktype, ts, data, h->caplen, h->len);
			if (stop && *stop) {
				file_close(p, is_stdin, iobuf);
				if (progress)
					progress->fn(progress->ctx, st, before, total, true);
				return CAPTURE_STOPPED;
			}
			if (progress && (st->packets & 8191) == 0) {
				/* a pipe has no position: count record headers and data */
				long pos = is_stdin ? -1 : ftell(fp);
				in_file = pos >= 0 ? (uint64_t)pos : in_file;
				progress->fn(progress->ctx, st, before + in_file, total, false);
			}
			if (is_stdin)
				in_file += 16u + h->caplen;
		}
		if (r == -1) {
			append_err(err, errlen, "%s: %s (the packets before it were processed)\n",
				   name, pcap_geterr(p));
			st->damaged_files++;
			rc = CAPTURE_DAMAGED;
		}
		if (progress) {
			struct stat sb;
			if (!is_stdin && fstat(fileno(fp), &sb) == 0)
				in_file = (uint64_t)sb.st_size;
			before += in_file;
		}
		file_close(p, is_stdin, iobuf);
	}
	if (progress)
		progress->fn(progress->ctx, st, before, total, true);
	return rc;
}

/* ---- live ----------------------------------------------------------------------------- */

struct capture_live {
	struct capture_live_config c;
	char iface[256];
	char filter[4096];
	pcap_t *p;
	int fd;
	int linktype;
	uint32_t last_recv, last_drop, last_ifdrop; /* pcap_stats of this handle */
	struct capture_live_counters n;
	capture_fn fn;
	void *ctx;
	volatile sig_atomic_t *stop;
};

/* Widen the handle's 32-bit counters into the 64-bit totals. */
static void fold_stats(struct capture_live *l)
{
	struct pcap_stat ps;
	if (!l->p || pcap_stats(l->p, &ps) != 0)
		return;
	capture_widen(&l->n.received, &l->last_recv, ps.ps_recv);
	capture_widen(&l->n.dropped, &l->last_drop, ps.ps_drop);
	capture_widen(&l->n.if_dropped, &l->last_ifdrop, ps.ps_ifdrop);
}

void capture_widen(uint64_t *total, uint32_t *last, uint32_t now)
{
	*total += (uint32_t)(now - *last); /* modulo 2^32: one wrap between reads is fine */
	*last = now;
}

static enum capture_live_status activate(struct capture_live *l, char *err, size_t errlen)
{
	char eb[PCAP_ERRBUF_SIZE] = "";
	pcap_t *p = pcap_create(l->iface, eb);
	if (!p) {
		snprintf(err, errlen, "%s: %s", l->iface, eb);
		return CAPTURE_LIVE_FAILED;
	}
	pcap_set_snaplen(p, l->c.snaplen);
	pcap_set_promisc(p, l->c.promisc);
	pcap_set_timeout(p, (int)l->c.timeout_ms);
	pcap_set_tstamp_precision(p, PCAP_TSTAMP_PRECISION_MICRO);
	if (l->c.buffer_bytes)
		pcap_set_buffer_size(p, l->c.buffer_bytes > INT32_MAX ? INT32_MAX
									: (int)l->c.buffer_bytes);
	int rc = pcap_activate(p);
	if (rc < 0) {
		enum capture_live_status st = CAPTURE_LIVE_FAILED;
		const char *why = rc == PCAP_ERROR ? pcap_geterr(p) : pcap_statustostr(rc);
		if (rc == PCAP_ERROR_NO_SUCH_DEVICE || rc == PCAP_ERROR_IFACE_NOT_UP)
			st = CAPTURE_LIVE_GONE;
		if (rc == PCAP_ERROR_PERM_DENIED)
			snprintf(err, errlen, "%s: %s (capturing needs root or CAP_NET_RAW)", l->iface,
				 pcap_geterr(p)[0] ? pcap_geterr(p) : why);
		else if (rc == PCAP_ERROR_NO_SUCH_DEVICE || rc == PCAP_ERROR_IFACE_NOT_UP)
			snprintf(err, errlen, "%s: %s", l->iface, why[0] ? why : pcap_statustostr(rc));
		else
			snprintf(err, errlen, "%s: %s", l->iface, why);
		pcap_close(p);
		return st;
	}
	if (l->filter[0]) {
		struct bpf_program prog;
		if (pcap_compile(p, &prog, l->filter, 1, PCAP_NETMASK_UNKNOWN) < 0) {
			snprintf(err, errlen, "bad filter \"%s\": %s", l->filter, pcap_geterr(p));
			pcap_close(p);
			return CAPTURE_LIVE_BAD_FILTER;
		}
		int set = pcap_setfilter(p, &prog);
		pcap_freecode(&prog);
		if (set < 0) {
			snprintf(err, errlen, "%s: cannot set filter: %s", l->iface, pcap_geterr(p));
			pcap_close(p);
			return CAPTURE_LIVE_FAILED;
		}
	}
	if (pcap_setnonblock(p, 1, eb) < 0 || (l->fd = pcap_get_selectable_fd(p)) < 0) {
		snprintf(err, errlen, "%s: no pollable descriptor: %s", l->iface, eb);
		pcap_close(p);
		return CAPTURE_LIVE_FAILED;
	}
	l->p = p;
	l->linktype = pcap_datalink(p);
	l->last_recv = l->last_drop = l->last_ifdrop = 0;
	return CAPTURE_LIVE_OK;
}

struct capture_live *capture_live_open(const struct capture_live_config *c,
				       enum capture_live_status *st, char *err, size_t errlen)
{
	struct capture_live *l = calloc(1, sizeof(*l));
	if (!l) {
		*st = CAPTURE_LIVE_FAILED;
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	l->c = *c;
	snprintf(l->iface, sizeof(l->iface), "%s", c->iface);
	snprintf(l->filter, sizeof(l->filter), "%s", c->filter ? c->filter : "");
	l->c.iface = l->iface;
	l->c.filter = l->filter;
	l->fd = -1;
	*st = activate(l, err, errlen);
	if (*st != CAPTURE_LIVE_OK) {
		free(l);
		return NULL;
	}
	return l;
}

enum capture_live_status capture_live_reopen(struct capture_live *l, char *err, size_t errlen)
{
	if (l->p)
		return CAPTURE_LIVE_OK;
	return activate(l, err, errlen);
}

bool capture_live_is_open(const struct capture_live *l)
{
	return l->p != NULL;
}

static void live_cb(u_char *user, const struct pcap_pkthdr *h, const u_char *data)
{
	struct capture_live *l = (struct capture_live *)(void *)user;
	uint64_t ts = h->ts.tv_sec < 0 ? 0
					: (uint64_t)h->ts.tv_sec * 1000000u + (uint64_t)h->ts.tv_usec;
	l->n.packets++;
	l->n.wire_bytes += h->len;
	l->fn(l->ctx, l->linktype, ts, data, h->caplen, h->len);
	if (l->stop && *l->stop)
		pcap_breakloop(l->p);
}

static void close_handle(struct capture_live *l)
{
	fold_stats(l);
	pcap_close(l->p);
	l->p = NULL;
	l->fd = -1;
}

int capture_live_poll(struct capture_live *l, int wait_ms, capture_fn fn, void *ctx,
		      volatile sig_atomic_t *stop, char *err, size_t errlen)
{
	struct pollfd pfd = { l->fd, POLLIN, 0 };

	if (!l->p)
		return -1;
	if (poll(&pfd, 1, wait_ms) < 0 && errno != EINTR) {
		snprintf(err, errlen, "%s: poll: %s", l->iface, strerror(errno));
		close_handle(l);
		return -1;
	}
	l->fn = fn;
	l->ctx = ctx;
	l->stop = stop;
	/* nonblocking: pcap_dispatch takes what the ring holds, and reports an interface
	 * that went down or disappeared (its own zero-timeout poll sees POLLERR) */
	int total = 0;
	for (int rounds = 0; rounds < 64; rounds++) {
		int n = pcap_dispatch(l->p, -1, live_cb, (u_char *)(void *)l);
		if (n == PCAP_ERROR) {
			snprintf(err, errlen, "%s: %s", l->iface, pcap_geterr(l->p));
			close_handle(l);
			return -1;
		}
		if (n <= 0 || (stop && *stop))
			break;
		total += n;
	}
	return total;
}

void capture_live_counters(struct capture_live *l, struct capture_live_counters *out)
{
	fold_stats(l);
	*out = l->n;
}

int capture_live_link_state(const struct capture_live *l)
{
	struct ifreq ifr;
	int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return 1; /* cannot tell: assume up, the capture itself will say */
	memset(&ifr, 0, sizeof(ifr));
	size_t n = strnlen(l->iface, sizeof(ifr.ifr_name));
	if (n == sizeof(ifr.ifr_name)) {
		close(fd);
		return -1; /* no interface has so long a name */
	}
	memcpy(ifr.ifr_name, l->iface, n);
	int rc = ioctl(fd, SIOCGIFFLAGS, &ifr);
	int e = errno;
	close(fd);
	if (rc < 0)
		return e == ENODEV || e == ENXIO ? -1 : 1;
	return (ifr.ifr_flags & IFF_UP) && (ifr.ifr_flags & IFF_RUNNING) ? 1 : 0;
}

void capture_live_suspend(struct capture_live *l)
{
	if (l->p)
		close_handle(l);
}

void capture_live_close(struct capture_live *l)
{
	if (!l)
		return;
	if (l->p)
		close_handle(l);
	free(l);
}
