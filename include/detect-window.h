/* detect-window.h: sliding-window sums of egress volume (bytes, packets, flows) per
 * caller-built key and window length, on packet time, in a fixed-size table.
 *
 * A key is an opaque byte string of up to WINDOW_KEY_MAX bytes (for example a kind byte,
 * a source address and a destination name) plus a window length of 1 s .. 86400 s; the
 * same bytes with two window lengths are two entries.
 *
 * Buckets. Each entry keeps WINDOW_BUCKETS buckets of width window / WINDOW_BUCKETS,
 * which is window_s * 31250 us exactly (1 s = 32 * 31250 us): a 5-minute window has
 * 9.375 s buckets, a 24-hour window 45-minute buckets, and windows shorter than 32 s
 * simply get buckets shorter than a second (a 1 s window: 31.25 ms). Buckets are aligned
 * on packet time (bucket n covers [n * width, (n + 1) * width)), so a replayed capture
 * gives the same sums.
 *
 * Error bound. At time t the sum covers the bucket holding t and the 31 before it:
 * [floor(t / width) * width - 31 * width, t]. That span is at least window - width and at
 * most window long and never reaches before t - window: nothing older than the window is
 * ever counted, and what is missed is at most the oldest bucket's width at the old end
 * of the window (the bucket that straddles t - window is retired whole). So the sum is
 * exact to one bucket: true_sum(window - width) <= sum <= true_sum(window).
 *
 * Time. Everything is on packet time passed in by the caller. A time earlier than the
 * entry's latest contribution is accounted at that latest time (as the flow table does
 * for timestamps that go backwards): volume is never dropped.
 *
 * Memory. Fixed at creation (about 900 bytes per entry, reserved with calloc so pages
 * are touched only as entries are used); no allocation after window_table_create. When
 * the table is full, the entry least recently added to is evicted and counted (an LRU
 * list: O(1)). Keys are hashed with SipHash-1-3 and a per-table random key. Not thread
 * safe: one table per thread.
 */
#ifndef EGRESSD_DETECT_WINDOW_H
#define EGRESSD_DETECT_WINDOW_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "keyed-pool.h"

#define WINDOW_BUCKETS 32
#define WINDOW_KEY_MAX 64
#define WINDOW_MIN_S 1u
#define WINDOW_MAX_S 86400u
#define WINDOW_MAX_ENTRIES (1u << 24)

struct window_table;

/* A window's sums; all zero (and first_us = last_us = 0) when nothing is in it. Sums
 * saturate at UINT64_MAX rather than wrap. */
struct window_sum {
	uint64_t bytes;
	uint64_t packets;
	uint64_t flows;
	uint64_t first_us; /* earliest contribution still counted */
	uint64_t last_us;  /* latest contribution */
};

/* max_entries: 1 .. WINDOW_MAX_ENTRIES. NULL with a message in err when out of range or
 * the memory cannot be reserved. */
struct window_table *window_table_create(uint32_t max_entries, char *err, size_t errlen);
void window_table_destroy(struct window_table *t);

/* Add a contribution at now_us to the entry (key, window_s), creating it (and evicting
 * the coldest entry when full), after retiring buckets that left the window. *out (if not
 * NULL) gets the sum after adding. Returns false, changing nothing, only when keylen >
 * WINDOW_KEY_MAX or window_s is outside WINDOW_MIN_S .. WINDOW_MAX_S. */
bool window_add(struct window_table *t, const void *key, size_t keylen, uint32_t window_s,
		uint64_t now_us, uint64_t bytes, uint32_t packets, uint32_t flows,
		struct window_sum *out);

/* The entry's sum as it would be at now_us, without adding, retiring or refreshing its
 * recency (out may be NULL to ask only whether it exists). Returns true when the entry
 * exists; otherwise (or for a key window_add would refuse) false with *out zeroed. */
bool window_peek(const struct window_table *t, const void *key, size_t keylen,
		 uint32_t window_s, uint64_t now_us, struct window_sum *out);

/* The pool's counters: live entries, peak, created, evictions (table full). */
const struct kpool_stats *window_table_stats(const struct window_table *t);

#endif
