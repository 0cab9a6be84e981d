/* capture.h: where frames come from: pcap and pcapng files (or stdin) through libpcap,
 * read in the order given as one timeline, with an optional BPF filter. The only module
 * that sees <pcap.h>.
 *
 * Frames are borrowed: `data` is valid only during the callback.
 */
#ifndef EGRESSD_CAPTURE_H
#define EGRESSD_CAPTURE_H

#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef void (*capture_fn)(void *ctx, int linktype, uint64_t ts_us, const uint8_t *data,
			   uint32_t caplen, uint32_t wirelen);

struct capture_stats {
	uint64_t files;
	uint64_t packets;
	uint64_t wire_bytes;
	uint64_t damaged_files; /* a read error cut the file short */
	uint64_t bad_timestamps; /* microseconds field of a million or more: the packet
				  * is taken at the time of the one before it */
};

enum capture_status {
	CAPTURE_OK = 0,
	CAPTURE_OPEN_FAILED,   /* a file cannot be opened or is not a capture */
	CAPTURE_BAD_FILTER,    /* the BPF filter does not compile */
	CAPTURE_DAMAGED,       /* read, but at least one file was cut short or damaged */
	CAPTURE_STOPPED,       /* *stop was raised */
};

/* Progress of an offline read: called every few thousand packets and once at the end
 * (done true). bytes_read counts the files before the current one in full; bytes_total
 * is the sum of the regular files' sizes, 0 when one of them (standard input, a pipe)
 * has no size. */
struct capture_progress {
	void (*fn)(void *ctx, const struct capture_stats *st, uint64_t bytes_read,
		   uint64_t bytes_total, bool done);
	void *ctx;
};

/* Read files[0..n) in order. Messages (one per problem, naming the file) go to err;
 * on CAPTURE_DAMAGED all files were still read as far as they could be. */
enum capture_status capture_read_files(char *const *files, int n, const char *filter,
				       capture_fn fn, void *ctx,
				       volatile sig_atomic_t *stop, struct capture_stats *st,
				       const struct capture_progress *progress,
				       char *err, size_t errlen);

/* ---- live capture ----
 * One interface through libpcap (TPACKET_V3 on Linux: a memory-mapped ring of blocks the
 * kernel hands over when full or when `timeout_ms` passed). The kernel's counters are
 * read with pcap_stats, whose 32-bit values are widened here (wrap handled), and kept
 * across a reopen of the interface. */
struct capture_live_config {
	const char *iface;
	int snaplen;
	bool promisc;
	uint64_t buffer_bytes; /* kernel ring; 0: libpcap's default */
	uint32_t timeout_ms;   /* block timeout */
	const char *filter;    /* BPF; NULL or "" none */
};

struct capture_live_counters {
	uint64_t received;     /* ps_recv: packets the kernel saw for us (dropped ones included) */
	uint64_t dropped;      /* ps_drop: dropped for lack of room in the ring */
	uint64_t if_dropped;   /* ps_ifdrop: dropped by the interface or driver */
	uint64_t packets;      /* handed to the callback */
	uint64_t wire_bytes;
};

struct capture_live;

enum capture_live_status {
	CAPTURE_LIVE_OK = 0,
	CAPTURE_LIVE_GONE,	 /* the interface does not exist or went down: retry later */
	CAPTURE_LIVE_BAD_FILTER, /* the filter does not compile */
	CAPTURE_LIVE_FAILED,	 /* anything else (permission, bad option) */
};

/* Open and activate. On failure NULL, *st says why, err holds the message. */
struct capture_live *capture_live_open(const struct capture_live_config *c,
				       enum capture_live_status *st, char *err, size_t errlen);
/* Open again after CAPTURE_LIVE_GONE, keeping the counters. */
enum capture_live_status capture_live_reopen(struct capture_live *l, char *err, size_t errlen);
bool capture_live_is_open(const struct capture_live *l);
/* Wait up to wait_ms for packets and hand them to fn. Returns the number of packets, or
 * -1 when the interface went away (the handle is closed; call capture_live_reopen). */
int capture_live_poll(struct capture_live *l, int wait_ms, capture_fn fn, void *ctx,
		      volatile sig_atomic_t *stop, char *err, size_t errlen);
/* The counters, including the kernel's as of now. */
void capture_live_counters(struct capture_live *l, struct capture_live_counters *out);
/* The interface's state: 1 up with a carrier, 0 down (administratively or no carrier),
 * -1 gone. */
int capture_live_link_state(const struct capture_live *l);
/* Close the handle (the counters stay), e.g. when the link went down; reopen later. */
void capture_live_suspend(struct capture_live *l);
void capture_live_close(struct capture_live *l);

/* Add to *total what a 32-bit counter grew since *last (which becomes now), wrapping
 * included; the counters are read every few seconds, far more often than they wrap. */
void capture_widen(uint64_t *total, uint32_t *last, uint32_t now);

#endif
