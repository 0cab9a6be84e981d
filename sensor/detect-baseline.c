/* detect-baseline.c: first/last-seen times per (scope, source, destination) in a keyed
 * pool (keyed-pool.h: SipHash-1-3 chained hash, LRU list for expiry and eviction), saved
 * atomically to a checksummed binary file and loaded back only after the whole file
 * validates. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "crc32.h"
#include "detect-baseline.h"
#include "keyed-pool.h"
#include "le.h"

#define FILE_MAGIC "EGRESSDB"
#define HDR_SIZE 24u	  /* magic, version, count, length */
#define CRC_SIZE 4u
#define REC_FIXED 36u	  /* record without its destination bytes */
#define REC_MAX (REC_FIXED + BASELINE_DEST_MAX)

/* The pool key: scope, family, destination length (2 bytes, little-endian), source (16
 * bytes, zero past the family's), then the destination bytes. */
#define KEY_FIXED 20u
#define KEY_MAX (KEY_FIXED + BASELINE_DEST_MAX)

/* Caller data of a pool entry. */
struct baseline_entry {
	uint64_t first_us, last_us;
};

struct baseline {
	struct kpool *pool;
	uint32_t max_entries;
	uint64_t expire_after_us;
	/* The live entry the last touch of each scope found or made (KPOOL_NONE: none): a
	 * flow's grains often share one destination text, so the next touch often names it
	 * again and is spared the hash and the lookup. Forgotten whenever an entry goes. */
	uint32_t last[2];
	struct baseline_stats st; /* entries .. evictions: the pool's, copied after changes */
};

/* ---- table ------------------------------------------------------------------------- */

static void stats_sync(struct baseline *b)
{
	const struct kpool_stats *ps = kpool_stats(b->pool);

	b->st.entries = ps->entries;
	b->st.peak = ps->peak;
	b->st.created = ps->created;
	b->st.evictions = ps->evictions;
}

static void forget_last(struct baseline *b)
{
	b->last[BASELINE_HOST] = b->last[BASELINE_SITE] = KPOOL_NONE;
}

static void table_clear(struct baseline *b)
{
	kpool_clear(b->pool);
	forget_last(b);
	stats_sync(b);
}

struct baseline *baseline_create(uint32_t max_entries, uint64_t expire_after_us, char *err,
				 size_t errlen)
{
	struct baseline *b;

	if (max_entries == 0 || max_entries > BASELINE_MAX_ENTRIES) {
		snprintf(err, errlen, "baseline: max_entries must be between 1 and %u",
			 BASELINE_MAX_ENTRIES);
		return NULL;
	}
	b = calloc(1, sizeof(*b));
	if (b)
		b->pool = kpool_create(max_entries, sizeof(struct baseline_entry), KEY_MAX);
	if (!b || !b->pool) {
		snprintf(err, errlen, "baseline: cannot reserve memory for %u entries",
			 max_entries);
		baseline_destroy(b);
		return NULL;
	}
	b->max_entries = max_entries;
	b->expire_after_us = expire_after_us;
	forget_last(b);
	return b;
}

void baseline_destroy(struct baseline *b)
{
	if (!b)
		return;
	kpool_destroy(b->pool);
	free(b);
}

const struct baseline_stats *baseline_stats(const struct baseline *b)
{
	return &b->st;
}

static void key_put(uint8_t *k, uint8_t scope, uint8_t family, uint16_t len,
		    const uint8_t src[16], const void *dest)
{
	k[0] = scope;
	k[1] = family;
	k[2] = (uint8_t)len;
	k[3] = (uint8_t)(len >> 8);
	memcpy(k + 4, src, 16);
	if (len)
		memcpy(k + KEY_FIXED, dest, len);
}

/* Build the normalised pool key in k and return its length; 0 when a host-scope family
 * is not 4 or 6 or the scope is unknown. */
static size_t key_make(uint8_t *k, enum baseline_scope scope, int family,
		       const uint8_t src[16], const char *dest, size_t len)
{
	uint8_t s[16] = { 0 };

	if (scope == BASELINE_HOST) {
		if (family == 4)
			memcpy(s, src, 4);
		else if (family == 6)
			memcpy(s, src, 16);
		else
			return 0;
	} else if (scope == BASELINE_SITE) {
		family = 0;
	} else {
		return 0;
	}
	if (len > BASELINE_DEST_MAX)
		len = BASELINE_DEST_MAX;
	key_put(k, (uint8_t)scope, (uint8_t)family, (uint16_t)len, s, dest);
	return KEY_FIXED + len;
}

/* Insert a key known to be absent (evicting the least recently touched when full). */
static uint32_t entry_new(struct baseline *b, uint64_t h, const uint8_t *k, size_t kl,
			  uint64_t first_us, uint64_t last_us)
{
	if (kpool_stats(b->pool)->entries >= b->max_entries)
		forget_last(b); /* an entry is evicted */
	uint32_t i = kpool_insert(b->pool, h, k, kl);
	struct baseline_entry *e = kpool_data(b->pool, i);

	e->first_us = first_us;
	e->last_us = last_us;
	stats_sync(b);
	return i;
}

/* The live entry with key k: the one last touched in this scope if it is that key,
 * else looked up; KPOOL_NONE with its hash in *h when absent. */
static uint32_t entry_find(const struct baseline *b, enum baseline_scope scope,
			   const uint8_t *k, size_t kl, uint64_t *h)
{
	uint32_t i = b->last[scope];

	if (i != KPOOL_NONE) {
		size_t len;
		const uint8_t *key = kpool_key(b->pool, i, &len);
		if (len == kl && memcmp(key, k, kl) == 0)
			return i;
	}
	*h = kpool_hash(b->pool, k, kl);
	return kpool_find(b->pool, *h, k, kl);
}

static bool is_expired(const struct baseline *b, uint64_t last_us, uint64_t now_us)
{
	return b->expire_after_us && now_us > last_us && now_us - last_us > b->expire_after_us;
}

void baseline_touch(struct baseline *b, enum baseline_scope scope, int family,
		    const uint8_t src[16], const char *dest, size_t len, uint64_t now_us,
		    struct baseline_seen *before)
{
	struct baseline_seen dummy;
	uint8_t k[KEY_MAX];
	size_t kl;

	if (!before)
		before = &dummy;
	memset(before, 0, sizeof(*before));
	kl = key_make(k, scope, family, src, dest, len);
	if (!kl)
		return;
	uint64_t h = 0;
	uint32_t i = entry_find(b, scope, k, kl, &h);
	if (i == KPOOL_NONE) {
		b->last[scope] = entry_new(b, h, k, kl, now_us, now_us);
		return;
	}
	b->last[scope] = i;
	struct baseline_entry *e = kpool_data(b->pool, i);
	if (is_expired(b, e->last_us, now_us)) {
		e->first_us = e->last_us = now_us; /* seen again after expiry: new again */
	} else {
		before->known = true;
		before->first_us = e->first_us;
		before->last_us = e->last_us;
		if (now_us > e->last_us)
			e->last_us = now_us;
	}
	kpool_touch(b->pool, i);
}

bool baseline_is_new(const struct baseline_seen *s, uint64_t now_us, uint64_t new_for_us)
{
	if (!s->known)
		return true;
	uint64_t age = now_us > s->first_us ? now_us - s->first_us : 0;
	return age < new_for_us;
}

void baseline_expire(struct baseline *b, uint64_t now_us)
{
	for (int n = 0; n < BASELINE_EXPIRE_BATCH; n++) {
		uint32_t i = kpool_first(b->pool); /* least recently touched */
		if (i == KPOOL_NONE)
			break;
		const struct baseline_entry *e = kpool_data(b->pool, i);
		if (!is_expired(b, e->last_us, now_us))
			break;
		kpool_remove(b->pool, i);
		forget_last(b);
		b->st.expired++;
	}
	stats_sync(b);
}

/* ---- file format helpers ----------------------------------------------------------- */


static uint64_t file_cap(const struct baseline *b)
{
	return HDR_SIZE + CRC_SIZE + (uint64_t)b->max_entries * REC_MAX;
}

/* ---- save -------------------------------------------------------------------------- */

struct writer {
	FILE *f;
	uint32_t crc;
	bool failed;
};

static void w_put(struct writer *w, const void *p, size_t n)
{
	w->crc = crc32_update(w->crc, p, n);
	if (!w->failed && fwrite(p, 1, n, w->f) != n)
		w->failed = true;
}

/* The directory holding path ("." when it has no slash). */
static int dir_of(const char *path, char *out, size_t cap)
{
	const char *slash = strrchr(path, '/');
	int n;

	if (!slash)
		n = snprintf(out, cap, ".");
	else if (slash == path)
		n = snprintf(out, cap, "/");
	else
		n = snprintf(out, cap, "%.*s", (int)(slash - path), path);
	return n < 0 || (size_t)n >= cap ? -1 : 0;
}

int baseline_save(const struct baseline *b, const char *path, char *err, size_t errlen)
{
	char tmp[4096], dir[4096];
	uint8_t hdr[HDR_SIZE], rec[REC_MAX], crc[CRC_SIZE];
	struct writer w = { .crc = 0 };
	uint64_t length = HDR_SIZE + CRC_SIZE;
	int fd, n;

	n = snprintf(tmp, sizeof(tmp), "%s.tmp.%ld", path, (long)getpid());
	if (n < 0 || (size_t)n >= sizeof(tmp) || dir_of(path, dir, sizeof(dir)) < 0) {
		snprintf(err, errlen, "baseline %s: path too long", path);
		return -1;
	}
	for (uint32_t i = kpool_first(b->pool); i != KPOOL_NONE; i = kpool_next(b->pool, i)) {
		size_t kl;
		kpool_key(b->pool, i, &kl);
		length += REC_FIXED + (kl - KEY_FIXED);
	}

	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0) {
		snprintf(err, errlen, "baseline: cannot create %s: %s", tmp, strerror(errno));
		return -1;
	}
	w.f = fdopen(fd, "wb");
	if (!w.f) {
		snprintf(err, errlen, "baseline: cannot write %s: %s", tmp, strerror(errno));
		close(fd);
		unlink(tmp);
		return -1;
	}

	errno = 0;
	memcpy(hdr, FILE_MAGIC, 8);
	le_put(hdr + 8, BASELINE_FILE_VERSION, 4);
	le_put(hdr + 12, b->st.entries, 4);
	le_put(hdr + 16, length, 8);
	w_put(&w, hdr, sizeof(hdr));
	/* least recently touched first, so a load rebuilds the same recency order */
	for (uint32_t i = kpool_first(b->pool); i != KPOOL_NONE; i = kpool_next(b->pool, i)) {
		const struct baseline_entry *e = kpool_data(b->pool, i);
		size_t kl;
		const uint8_t *k = kpool_key(b->pool, i, &kl);
		size_t len = kl - KEY_FIXED;
		rec[0] = k[0];
		rec[1] = k[1];
		memcpy(rec + 2, k + 4, 16);
		le_put(rec + 18, len, 2);
		memcpy(rec + 20, k + KEY_FIXED, len);
		le_put(rec + 20 + len, e->first_us, 8);
		le_put(rec + 28 + len, e->last_us, 8);
		w_put(&w, rec, REC_FIXED + len);
	}
	le_put(crc, w.crc, 4);
	w_put(&w, crc, sizeof(crc));

	int saved_errno = 0;
	if (w.failed || fflush(w.f) != 0)
		saved_errno = errno ? errno : EIO;
	else if (fsync(fileno(w.f)) != 0)
		saved_errno = errno;
	if (fclose(w.f) != 0 && !saved_errno)
		saved_errno = errno;
	if (saved_errno) {
		snprintf(err, errlen, "baseline: cannot write %s: %s", tmp, strerror(saved_errno));
		unlink(tmp);
		return -1;
	}
	if (rename(tmp, path) != 0) {
		snprintf(err, errlen, "baseline: cannot rename %s to %s: %s", tmp, path,
			 strerror(errno));
		unlink(tmp);
		return -1;
	}
	/* make the rename itself durable */
	int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd < 0 || (fsync(dfd) != 0 && errno != EINVAL)) {
		snprintf(err, errlen, "baseline: %s written, but its directory %s could not be "
			 "synced: %s", path, dir, strerror(errno));
		if (dfd >= 0)
			close(dfd);
		return -1;
	}
	close(dfd);
	return 0;
}

/* ---- load -------------------------------------------------------------------------- */

struct live_rec {
	uint64_t last_us;
	size_t off;
};

static int cmp_live(const void *a, const void *b)
{
	const struct live_rec *x = a, *y = b;
	if (x->last_us != y->last_us)
		return x->last_us < y->last_us ? -1 : 1;
	return (x->off > y->off) - (x->off < y->off);
}

/* Validate the whole image; 0 or a BASELINE_LOAD_* code with the reason in why. */
static int validate(const uint8_t *buf, size_t size, char *why, size_t whylen)
{
	if (size < 8) {
		if (memcmp(buf, FILE_MAGIC, size) != 0) {
			snprintf(why, whylen, "bad magic (not an egressd baseline)");
			return BASELINE_LOAD_BAD_MAGIC;
		}
		snprintf(why, whylen, "truncated: %zu bytes, shorter than the header", size);
		return BASELINE_LOAD_TRUNCATED;
	}
	if (memcmp(buf, FILE_MAGIC, 8) != 0) {
		snprintf(why, whylen, "bad magic (not an egressd baseline)");
		return BASELINE_LOAD_BAD_MAGIC;
	}
	if (size < 12) {
		snprintf(why, whylen, "truncated: %zu bytes, shorter than the header", size);
		return BASELINE_LOAD_TRUNCATED;
	}
	uint32_t version = (uint32_t)le_get(buf + 8, 4);
	if (version != BASELINE_FILE_VERSION) {
		snprintf(why, whylen, "unsupported format version %u (this egressd reads "
			 "version %u)", version, BASELINE_FILE_VERSION);
		return BASELINE_LOAD_BAD_VERSION;
	}
	if (size < HDR_SIZE + CRC_SIZE) {
		snprintf(why, whylen, "truncated: %zu bytes, shorter than the header", size);
		return BASELINE_LOAD_TRUNCATED;
	}
	uint32_t count = (uint32_t)le_get(buf + 12, 4);
	uint64_t length = le_get(buf + 16, 8);
	if (size < length) {
		snprintf(why, whylen, "truncated: %zu bytes, the header says %llu", size,
			 (unsigned long long)length);
		return BASELINE_LOAD_TRUNCATED;
	}
	if (size > length) {
		snprintf(why, whylen, "%zu bytes, but the header says %llu", size,
			 (unsigned long long)length);
		return BASELINE_LOAD_BAD_LENGTH;
	}
	uint32_t want = (uint32_t)le_get(buf + size - CRC_SIZE, 4);
	uint32_t got = crc32_update(0, buf, size - CRC_SIZE);
	if (want != got) {
		snprintf(why, whylen, "checksum mismatch (stored %08x, computed %08x)", want, got);
		return BASELINE_LOAD_BAD_CHECKSUM;
	}

	size_t pos = HDR_SIZE, end = size - CRC_SIZE;
	for (uint32_t i = 0; i < count; i++) {
		if (end - pos < REC_FIXED) {
			snprintf(why, whylen, "record count %u does not match the size: the "
				 "records end after %u", count, i);
			return BASELINE_LOAD_BAD_COUNT;
		}
		const uint8_t *r = buf + pos;
		uint8_t scope = r[0], family = r[1];
		uint16_t len = (uint16_t)le_get(r + 18, 2);
		if (len > BASELINE_DEST_MAX) {
			snprintf(why, whylen, "record %u: destination length %u > %u", i, len,
				 BASELINE_DEST_MAX);
			return BASELINE_LOAD_BAD_RECORD;
		}
		if (end - pos < REC_FIXED + len) {
			snprintf(why, whylen, "record count %u does not match the size: the "
				 "records end inside record %u", count, i);
			return BASELINE_LOAD_BAD_COUNT;
		}
		static const uint8_t zero[16];
		bool src_ok;
		if (scope == BASELINE_HOST && family == 4)
			src_ok = memcmp(r + 6, zero, 12) == 0;
		else if (scope == BASELINE_HOST && family == 6)
			src_ok = true;
		else if (scope == BASELINE_SITE && family == 0)
			src_ok = memcmp(r + 2, zero, 16) == 0;
		else if (scope == BASELINE_HOST || scope == BASELINE_SITE) {
			snprintf(why, whylen, "record %u: address family %u (want %s)", i, family,
				 scope == BASELINE_HOST ? "4 or 6" : "0 for site scope");
			return BASELINE_LOAD_BAD_RECORD;
		} else {
			snprintf(why, whylen, "record %u: unknown scope %u", i, scope);
			return BASELINE_LOAD_BAD_RECORD;
		}
		if (!src_ok) {
			snprintf(why, whylen, "record %u: source address bytes beyond its family",
				 i);
			return BASELINE_LOAD_BAD_RECORD;
		}
		uint64_t first = le_get(r + 20 + len, 8), last = le_get(r + 28 + len, 8);
		if (first > last) {
			snprintf(why, whylen, "record %u: first seen after last seen", i);
			return BASELINE_LOAD_BAD_RECORD;
		}
		pos += REC_FIXED + len;
	}
	if (pos != end) {
		snprintf(why, whylen, "record count %u does not match the size: %zu bytes left "
			 "after the last record", count, end - pos);
		return BASELINE_LOAD_BAD_COUNT;
	}
	return 0;
}

/* Insert the validated image's live records, oldest last_seen first. */
static int insert_all(struct baseline *b, const uint8_t *buf, uint64_t now_us)
{
	uint32_t count = (uint32_t)le_get(buf + 12, 4);
	struct live_rec *v = malloc((count ? count : 1) * sizeof(*v));
	size_t pos = HDR_SIZE, n = 0, skip;

	if (!v)
		return -1;
	for (uint32_t i = 0; i < count; i++) {
		uint16_t len = (uint16_t)le_get(buf + pos + 18, 2);
		uint64_t last = le_get(buf + pos + 28 + len, 8);
		if (is_expired(b, last, now_us))
			b->st.load_skipped++;
		else
			v[n++] = (struct live_rec){ .last_us = last, .off = pos };
		pos += REC_FIXED + len;
	}
	qsort(v, n, sizeof(*v), cmp_live);
	/* more live records than room: keep the most recently seen */
	skip = n > b->max_entries ? n - b->max_entries : 0;
	b->st.load_skipped += skip;
	for (size_t j = skip; j < n; j++) {
		const uint8_t *r = buf + v[j].off;
		uint16_t len = (uint16_t)le_get(r + 18, 2);
		uint8_t k[KEY_MAX];
		size_t kl = KEY_FIXED + len;
		key_put(k, r[0], r[1], len, r + 2, r + 20);
		uint64_t first = le_get(r + 20 + len, 8), last = le_get(r + 28 + len, 8);
		uint64_t h = kpool_hash(b->pool, k, kl);
		uint32_t i = kpool_find(b->pool, h, k, kl);
		if (i == KPOOL_NONE) {
			entry_new(b, h, k, kl, first, last);
			b->st.loaded++;
			continue;
		}
		/* the same key twice: merge (the list stays in last_seen order) */
		struct baseline_entry *e = kpool_data(b->pool, i);
		if (first < e->first_us)
			e->first_us = first;
		if (last > e->last_us)
			e->last_us = last;
		kpool_touch(b->pool, i);
	}
	free(v);
	return 0;
}

/* Rename a corrupt file aside; the new name in aside, or -1 with errno. */
static int set_aside(const char *path, char *aside, size_t cap)
{
	long long now = (long long)time(NULL);
	struct stat st;

	for (int k = 0; k < 100; k++) {
		int n = k ? snprintf(aside, cap, "%s.corrupt-%lld-%d", path, now, k) :
			    snprintf(aside, cap, "%s.corrupt-%lld", path, now);
		if (n < 0 || (size_t)n >= cap) {
			errno = ENAMETOOLONG;
			return -1;
		}
		if (lstat(aside, &st) != 0 && errno == ENOENT)
			return rename(path, aside);
	}
	errno = EEXIST;
	return -1;
}

static int read_all(int fd, uint8_t *buf, size_t size, size_t *got)
{
	*got = 0;
	while (*got < size) {
		ssize_t r = read(fd, buf + *got, size - *got);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			return -1;
		if (r == 0)
			break; /* shrank while we read: validated as what we got */
		*got += (size_t)r;
	}
	return 0;
}

int baseline_load(struct baseline *b, const char *path, uint64_t now_us, char *err,
		  size_t errlen)
{
	char why[256], aside[4200];
	struct stat st;
	uint8_t *buf = NULL;
	size_t size = 0;
	int rc, fd;

	table_clear(b);
	b->st.loaded = b->st.load_skipped = 0;
	b->st.load_absent = false;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0 && errno == ENOENT) {
		b->st.load_absent = true;
		snprintf(err, errlen, "baseline %s does not exist: starting with an empty "
			 "baseline", path);
		return BASELINE_LOAD_OK;
	}
	if (fd < 0) {
		snprintf(err, errlen, "baseline: cannot open %s: %s", path, strerror(errno));
		return BASELINE_LOAD_IO;
	}
	if (fstat(fd, &st) != 0) {
		snprintf(err, errlen, "baseline: cannot read %s: %s", path, strerror(errno));
		close(fd);
		return BASELINE_LOAD_IO;
	}
	if (!S_ISREG(st.st_mode)) {
		snprintf(err, errlen, "baseline: cannot read %s: not a regular file", path);
		close(fd);
		return BASELINE_LOAD_IO;
	}
	if ((uint64_t)st.st_size > file_cap(b)) {
		snprintf(why, sizeof(why), "%lld bytes, more than %llu entries can take (%llu)",
			 (long long)st.st_size, (unsigned long long)b->max_entries,
			 (unsigned long long)file_cap(b));
		rc = BASELINE_LOAD_TOO_BIG;
	} else {
		size_t want = (size_t)st.st_size;
		buf = malloc(want ? want : 1);
		if (!buf || read_all(fd, buf, want, &size) != 0) {
			snprintf(err, errlen, "baseline: cannot read %s: %s", path,
				 buf ? strerror(errno) : "out of memory");
			free(buf);
			close(fd);
			return BASELINE_LOAD_IO;
		}
		rc = validate(buf, size, why, sizeof(why));
	}
	close(fd);

	if (rc == 0) {
		if (insert_all(b, buf, now_us) != 0) {
			table_clear(b);
			b->st.loaded = b->st.load_skipped = 0;
			snprintf(err, errlen, "baseline: cannot load %s: out of memory", path);
			free(buf);
			return BASELINE_LOAD_IO;
		}
		snprintf(err, errlen, "baseline %s: loaded %llu destinations (%llu skipped: "
			 "expired or over capacity)", path, (unsigned long long)b->st.loaded,
			 (unsigned long long)b->st.load_skipped);
		free(buf);
		return BASELINE_LOAD_OK;
	}
	free(buf);
	if (set_aside(path, aside, sizeof(aside)) == 0)
		snprintf(err, errlen, "baseline %s is corrupt: %s; set aside as %s, starting "
			 "with an empty baseline", path, why, aside);
	else
		snprintf(err, errlen, "baseline %s is corrupt: %s; could not set it aside as "
			 "%s (%s), starting with an empty baseline", path, why, aside,
			 strerror(errno));
	return rc;
}

uint64_t baseline_earliest_first_seen(const struct baseline *b)
{
	uint64_t min = 0;

	/* walks the live entries once: called at start, after a load */
	for (uint32_t i = kpool_first(b->pool); i != KPOOL_NONE; i = kpool_next(b->pool, i)) {
		const struct baseline_entry *e = kpool_data(b->pool, i);
		if (!min || e->first_us < min)
			min = e->first_us;
	}
	return min;
}
