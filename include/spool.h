/* spool.h: a bounded on-disk FIFO of byte records (the Redis output's documents that
 * could not be sent yet): appended at the tail, read and acknowledged from the head in
 * order, kept across a kill -9 of the sensor and a restart.
 *
 * One thread only (no locking inside). One process per directory: spool_open takes an
 * exclusive flock on DIR/lock (the holder's pid is written in it) and a second opener,
 * in this process or another, gets an error naming the directory and that pid.
 *
 * Files (all integers little-endian; CRC-32 as in crc32.h):
 *
 *	DIR/lock		the flock; text: the holder's pid
 *	DIR/%016llx.seg		segments, numbered upwards (lower case hex). Appends go to
 *				the newest; a new one is started when a record would take
 *				the current one past the segment size, max_bytes / 8
 *				clamped to 64 KiB .. 64 MiB (a larger record gets a
 *				segment of its own). Reads come from the oldest.
 *	DIR/position		where reading resumes (below); replaced by renaming
 *				DIR/position.tmp over it
 *
 * A segment is a sequence of records:
 *
 *	offset  size  field
 *	0       4     magic 0x52505345 (the bytes "ESPR")
 *	4       4     payload length n (0 .. SPOOL_RECORD_MAX)
 *	8       8     seq: 1, 2, 3 ... over the spool's life (also across resets)
 *	16      4     CRC-32 of bytes 4 .. 15 followed by the payload
 *	20      n     payload
 *
 * The position file is 104 bytes:
 *
 *	0       4     magic 0x50505345 (the bytes "ESPP")
 *	4       4     version (1)
 *	8       8     segment number of the oldest unconsumed record
 *	16      8     its offset in that segment
 *	24      8     its seq (the next seq to be written when nothing is pending): no
 *	              record with a lower seq is delivered again
 *	32      4     meta length (0 .. SPOOL_META_MAX)
 *	36      64    meta blob, zero padded
 *	100     4     CRC-32 of bytes 0 .. 99
 *
 * Consuming writes the new position first, then unlinks the segments wholly before it.
 * When nothing is left pending the spool resets: every segment is unlinked and the
 * position points at the start of the next segment number, so the directory does not
 * grow. Segments numbered below the position found at open are leftovers of a consume
 * interrupted by a crash and are unlinked.
 *
 * Recovery at open scans every record from the position on. A record is valid when its
 * magic matches, its length is at most SPOOL_RECORD_MAX and fits in the file, its CRC
 * matches and its seq is not below the position's (or the previous record's + 1).
 * Bytes that do not form a valid record are damage: the reader resynchronises on the next
 * magic whose record is valid. Damage at the end of the newest segment (an incomplete or
 * bad last record: a crash in mid-append) is a torn tail, truncated away and counted in
 * torn / torn_bytes; damage anywhere else is skipped and counted in corrupt /
 * corrupt_bytes, once. A position file that is corrupt, or missing while segments exist,
 * is counted in position_reset and reading starts again at the first record of the oldest
 * segment (duplicates rather than loss; the meta blob is then empty). Scanning memory is
 * one record (at most SPOOL_RECORD_MAX) plus a 4 KiB search buffer; a damaged length
 * field never causes a larger allocation. The same checks run at every read, so no
 * record that fails its CRC is ever handed out.
 *
 * Bound: spool_append refuses (SPOOL_FULL, counted) a record that would take the segment
 * files' total size past max_bytes. Space comes back when a segment is wholly consumed,
 * so the usable size is between max_bytes - one segment and max_bytes.
 *
 * fsync policy:
 *	SPOOL_FSYNC_BATCH (default): appended data is fdatasync'd by spool_sync, which the
 *		caller calls after a group of appends (a new segment's directory entry is then
 *		synced too); the previous segment is synced when a new one starts. The
 *		position's temporary file is fdatasync'd before the rename, the rename itself
 *		is not: after a power loss the position may be stale, which means records sent
 *		again, never lost.
 *	SPOOL_FSYNC_ALWAYS: every append is fdatasync'd before it returns; every position
 *		write and segment creation also syncs the directory.
 *	SPOOL_FSYNC_NEVER: no sync at all; the OS decides (survives a crash of the sensor,
 *		not of the machine). spool_sync does nothing.
 * A kill -9 loses nothing under any policy: written data is in the page cache.
 */
#ifndef EGRESSD_SPOOL_H
#define EGRESSD_SPOOL_H

#include <stddef.h>
#include <stdint.h>

enum spool_fsync { SPOOL_FSYNC_BATCH = 0, SPOOL_FSYNC_ALWAYS, SPOOL_FSYNC_NEVER };

enum { SPOOL_OK = 0, SPOOL_FULL = -2, SPOOL_IOERR = -3, SPOOL_TOOBIG = -4 };

#define SPOOL_RECORD_MAX (1u << 20) /* largest payload accepted */
#define SPOOL_META_MAX 64	    /* largest meta blob */
#define SPOOL_BATCH_MAX 256	    /* records in one spool_batch */

struct spool_stats {
	uint64_t appended;	 /* records written since open */
	uint64_t consumed;	 /* records removed (acknowledged) since open */
	uint64_t recovered;	 /* records found waiting at open */
	uint64_t torn;		 /* torn tails dropped at open (an incomplete or bad last
				  * record) */
	uint64_t torn_bytes;
	uint64_t corrupt;	 /* damaged regions skipped (bad checksum/length with valid
				  * records after) */
	uint64_t corrupt_bytes;
	uint64_t full;		 /* appends refused: max size reached */
	uint64_t write_errors;	 /* appends refused: write or fsync failed (ENOSPC, EIO,
				  * EFBIG...) */
	uint64_t pending;	 /* records waiting now */
	uint64_t pending_bytes;	 /* their payload bytes */
	uint64_t disk_bytes;	 /* bytes of segment files now */
	uint64_t position_reset; /* position file corrupt, or missing with segments present,
				  * at open: reading restarted at the oldest record */
};

/* One record of a batch; data points into the batch's buffer until the next peek. */
struct spool_rec {
	const uint8_t *data;
	size_t len;
	uint64_t seq;
};

/* Zero-initialise before the first peek; spool_batch_free releases the buffer. */
struct spool_batch {
	size_t n;
	struct spool_rec rec[SPOOL_BATCH_MAX];
	uint8_t *buf;
	size_t cap;
};

struct spool;

/* Open (creating DIR, mode 0700, if missing: the parent must exist) and recover (see
 * above). max_bytes (> 0) bounds the bytes of all segment files together. Returns NULL
 * with a message in err (naming DIR, and the pid holding it when it is locked). */
struct spool *spool_open(const char *dir, uint64_t max_bytes, enum spool_fsync policy,
			 char *err, size_t errlen);

/* Append one record at the tail. SPOOL_OK; SPOOL_FULL (nothing written); SPOOL_TOOBIG
 * (len > SPOOL_RECORD_MAX); SPOOL_IOERR (write, fsync or allocation failed; nothing left
 * behind: a partial write is truncated away; errno kept). */
int spool_append(struct spool *s, const void *data, size_t len);

/* Make the appends durable now (fdatasync of the segment written, and of the directory
 * when a segment was created). With SPOOL_FSYNC_BATCH the caller calls this once after a
 * group of appends; ALWAYS syncs inside every append; NEVER makes this a no-op. SPOOL_OK
 * or SPOOL_IOERR. */
int spool_sync(struct spool *s);

/* Copy up to max_records (at most SPOOL_BATCH_MAX) / about max_bytes of payload (at
 * least one record) of the oldest records into b without removing them. Returns how many
 * (0: empty), or SPOOL_IOERR. */
int spool_peek(struct spool *s, struct spool_batch *b, size_t max_records, size_t max_bytes);

/* Remove the n oldest records (all of them when fewer are pending) and persist the read
 * position (a wholly consumed segment file is deleted). SPOOL_OK, or SPOOL_IOERR with
 * nothing removed (the position could not be written). n = 0 does nothing. */
int spool_consume(struct spool *s, size_t n);

/* spool_consume and spool_meta_set in one atomic position write (n may be 0). SPOOL_OK,
 * SPOOL_TOOBIG (len > SPOOL_META_MAX) or SPOOL_IOERR (nothing changed). */
int spool_consume_meta(struct spool *s, size_t n, const void *meta, size_t len);

/* A small opaque blob (at most SPOOL_META_MAX bytes) stored with the read position and
 * written atomically with it (the Redis output keeps there the ids of a batch sent but
 * not acknowledged). It stays until set again. spool_meta_set: SPOOL_OK, SPOOL_TOOBIG or
 * SPOOL_IOERR (the old blob kept). spool_meta_get copies at most cap bytes and returns
 * the blob's length (0 if none). */
int spool_meta_set(struct spool *s, const void *meta, size_t len);
size_t spool_meta_get(const struct spool *s, void *out, size_t cap);

uint64_t spool_pending(const struct spool *s);
const struct spool_stats *spool_stats(const struct spool *s);
void spool_batch_free(struct spool_batch *b);

/* Sync pending appends (unless SPOOL_FSYNC_NEVER), close the files, release the lock. */
void spool_close(struct spool *s);

#endif
