/* capture.h: where frames come from: pcap and pcapng files (or stdin) through libpcap,
 * read in the order given as one timeline, with an optional BPF filter. The only module
 * that sees <pcap.h>.
 *
 * Frames are borrowed: `data` is valid only during the callback.
 */
#ifndef EGRESSD_CAPTURE_H
#define EGRESSD_CAPTURE_H

#include <signal.h>
#include <stddef.h>
#include <stdint.h>

typedef void (*capture_fn)(void *ctx, int linktype, uint64_t ts_us, const uint8_t *data,
			   uint32_t caplen, uint32_t wirelen);

struct capture_stats {
	uint64_t files;
	uint64_t packets;
	uint64_t wire_bytes;
	uint64_t damaged_files; /* a read error cut the file short */
};

enum capture_status {
	CAPTURE_OK = 0,
	CAPTURE_OPEN_FAILED,   /* a file cannot be opened or is not a capture */
	CAPTURE_BAD_FILTER,    /* the BPF filter does not compile */
	CAPTURE_DAMAGED,       /* read, but at least one file was cut short or damaged */
	CAPTURE_STOPPED,       /* *stop was raised */
};

/* Read files[0..n) in order. Messages (one per problem, naming the file) go to err;
 * on CAPTURE_DAMAGED all files were still read as far as they could be. */
enum capture_status capture_read_files(char *const *files, int n, const char *filter,
				       capture_fn fn, void *ctx,
				       volatile sig_atomic_t *stop, struct capture_stats *st,
				       char *err, size_t errlen);

/* libpcap's name for a link type ("EN10MB"), or "unknown". */
const char *capture_linktype_name(int linktype);

#endif
