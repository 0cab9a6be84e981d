/* detect-baseline.h: the seen-destinations baseline: when each destination was first and
 * last seen, per source host and site-wide, on packet time, kept across restarts.
 *
 * An entry is keyed by (scope, source address, destination key). BASELINE_HOST entries
 * are per source (family 4 or 6; an IPv4 address is its first 4 bytes, the other 12 are
 * ignored and stored as zero); BASELINE_SITE entries are for the whole site and ignore the
 * family and source (stored as family 0, source all zero). The destination key is a byte
 * string chosen by the caller (a domain, "ip:port", ...) of up to BASELINE_DEST_MAX bytes;
 * longer strings are cut to their first BASELINE_DEST_MAX bytes.
 *
 * Expiry. An entry whose last_seen is more than expire_after_us before now is expired:
 * baseline_touch treats it as never seen (known = false, first_seen starts again) even
 * before baseline_expire removes it. expire_after_us = 0 means never expire.
 * baseline_expire does bounded work: it walks the recency list from the least recently
 * touched end and removes at most BASELINE_EXPIRE_BATCH entries per call, stopping at the
 * first entry still alive; call it regularly on packet time (e.g. once per second of
 * capture). When packet time went backwards the list is only approximately ordered by
 * last_seen; such entries are removed a little late, never wrongly.
 *
 * Memory. Fixed at creation (about 320 bytes per entry, reserved with calloc so pages are
 * touched only as entries are used); no allocation in touch or expire. When full, the
 * least recently touched entry (the head of an LRU list, which is the oldest last_seen)
 * is evicted and counted. Keys are hashed with SipHash-1-3 and a per-table random key.
 * Not thread safe.
 *
 * File format (version 1; all integers little-endian):
 *
 *	offset  size  field
 *	0       8     magic "EGRESSDB"
 *	8       4     version (1)
 *	12      4     record count
 *	16      8     file length in bytes, this header and the checksum included
 *	24      ...   records, each:
 *	                1  scope (0 host, 1 site)
 *	                1  family (4 or 6 for host; 0 for site)
 *	               16  source address (IPv4: 4 bytes then 12 zero; site: all zero)
 *	                2  destination length (0 .. 255)
 *	                n  destination bytes
 *	                8  first_seen (microseconds of packet time)
 *	                8  last_seen (>= first_seen)
 *	end - 4 4     CRC-32 (IEEE 802.3, reflected, polynomial 0xEDB88320, as zlib's
 *	              crc32) of every byte before it
 *
 * A record is 36 + n bytes (at most 291). A file longer than 28 + max_entries * 291
 * bytes is refused as corrupt; so is one whose stored length differs from its size,
 * whose checksum does not match, whose records do not fill it exactly, or with any field
 * out of range. Records are written least recently touched first.
 */
#ifndef EGRESSD_DETECT_BASELINE_H
#define EGRESSD_DETECT_BASELINE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define BASELINE_DEST_MAX 255
#define BASELINE_MAX_ENTRIES (1u << 24)
#define BASELINE_EXPIRE_BATCH 1024
#define BASELINE_FILE_VERSION 1

enum baseline_scope {
	BASELINE_HOST = 0, /* per source address */
	BASELINE_SITE = 1, /* the whole site */
};

struct baseline;

/* What was known about a destination before a touch. */
struct baseline_seen {
	bool known; /* false: never seen, or expired */
	uint64_t first_us, last_us;
};

/* baseline_load results: 0 success, positive failure. */
enum baseline_load_result {
	BASELINE_LOAD_OK = 0,	     /* loaded; or no file: stats' load_absent says which */
	BASELINE_LOAD_IO,	     /* could not be read (permissions, not a regular
				      * file, I/O error): left where it is */
	/* corrupt: the file is renamed to PATH.corrupt-<unix time> */
	BASELINE_LOAD_TOO_BIG,	     /* larger than the table could ever hold */
	BASELINE_LOAD_TRUNCATED,     /* shorter than a header, or than its stored length */
	BASELINE_LOAD_BAD_MAGIC,     /* not an egressd baseline */
	BASELINE_LOAD_BAD_VERSION,   /* a format version this build does not read */
	BASELINE_LOAD_BAD_LENGTH,    /* longer than its stored length */
	BASELINE_LOAD_BAD_CHECKSUM,
	BASELINE_LOAD_BAD_COUNT,     /* record count does not match the size */
	BASELINE_LOAD_BAD_RECORD,    /* a field out of range (scope, family, length...) */
};

struct baseline_stats {
	uint64_t entries;     /* live entries now */
	uint64_t peak;	      /* most live entries at once */
	uint64_t created;     /* entries ever created (by touch or load) */
	uint64_t evictions;   /* dropped to make room (table full) */
	uint64_t expired;     /* removed by baseline_expire */
	uint64_t loaded;      /* records loaded by the last baseline_load */
	uint64_t load_skipped; /* records the last baseline_load left out: already
				* expired, or the oldest beyond max_entries */
	bool load_absent;     /* the last baseline_load found no file (fresh start) */
};

/* max_entries: 1 .. BASELINE_MAX_ENTRIES. NULL with a message in err when out of range
 * or the memory cannot be reserved. */
struct baseline *baseline_create(uint32_t max_entries, uint64_t expire_after_us, char *err,
				 size_t errlen);
void baseline_destroy(struct baseline *b);

/* Record that src (or the site) talked to dest at now_us. *before (if not NULL) gets the
 * entry as it was before this touch; then the entry is created (first_seen = last_seen =
 * now_us, evicting the least recently touched entry when full) or its last_seen moved to
 * now_us (never backwards). A BASELINE_HOST touch with a family other than 4 or 6 is
 * ignored and reports known = false. */
void baseline_touch(struct baseline *b, enum baseline_scope scope, int family,
		    const uint8_t src[16], const char *dest, size_t len, uint64_t now_us,
		    struct baseline_seen *before);

/* True when the destination counts as new: never seen (or expired), or first seen less
 * than new_for_us before now_us. */
bool baseline_is_new(const struct baseline_seen *s, uint64_t now_us, uint64_t new_for_us);

/* Remove up to BASELINE_EXPIRE_BATCH entries whose last_seen is more than
 * expire_after_us before now_us (see above). */
void baseline_expire(struct baseline *b, uint64_t now_us);

/* Write every entry to path atomically: PATH.tmp.<pid> is written, flushed, fsync'd and
 * renamed over path, then the directory is fsync'd; mode 0600 (it names internal hosts).
 * Returns 0, or -1 with a message in err; on failure path is untouched and the
 * temporary file removed (except when only the final directory fsync fails: the new
 * file is then in place, and err says so). */
int baseline_save(const struct baseline *b, const char *path, char *err, size_t errlen);

/* Replace the table's contents with the file's entries, skipping those already expired
 * at now_us (when the file holds more than max_entries live records, the most recently
 * seen are kept). Returns BASELINE_LOAD_OK when loaded or when path does not exist (a
 * fresh start; stats' load_absent is set), with a note in err either way. Any other
 * result leaves the table empty and err naming the file; a corrupt file is first renamed
 * aside to PATH.corrupt-<unix time> (wall clock; "-N" appended if that name is taken)
 * and err names both paths. The whole file is validated before anything is inserted. */
int baseline_load(struct baseline *b, const char *path, uint64_t now_us, char *err,
		  size_t errlen);

const struct baseline_stats *baseline_stats(const struct baseline *b);

/* The earliest first_seen of any live entry (0 when empty): where learning began. */
uint64_t baseline_earliest_first_seen(const struct baseline *b);

#endif
