/* test_spool.c: sensor/spool.c, the on-disk record spool of the Redis output.
 *
 * Expected behaviour from include/spool.h: records come back in append order across
 * segments, peek does not remove, consume deletes wholly consumed segments and resets
 * the directory when empty; close and reopen (and a kill -9) keep exactly the
 * unconsumed records with seq still increasing and the meta blob; a torn tail is cut and
 * counted, a damaged middle record skipped and counted once; a missing or corrupt
 * position file restarts from the oldest record; the size bound, write errors (made with
 * RLIMIT_FSIZE in a child) and oversized records leave nothing behind; a second opener
 * is refused by the lock. A fuzz test damages a spool directory a few hundred ways and
 * checks that every record handed out is one that was appended, in order. The damage is
 * placed with the record layout from the header (20-byte header, then the payload).
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "spool.h"

#define HDR 20u
#define KIB 1024ull
#define MIB (1024ull * 1024)

/* ---- helpers ----------------------------------------------------------------------- */

struct fx {
	char dir[256];
};

/* out = a/b; the test fails when it does not fit. */
static void join(char *out, size_t cap, const char *a, const char *b)
{
	int n = snprintf(out, cap, "%s/%s", a, b);
	if (n < 0 || (size_t)n >= cap)
		fail_msg("path too long: %s/%s", a, b);
}

/* A file name into a 32-byte slot. */
static void copy_name(char *out, const char *name)
{
	int n = snprintf(out, 32, "%s", name);
	if (n < 0 || n >= 32)
		fail_msg("unexpected file name %s", name);
}

static int fx_setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));
	const char *t = getenv("TMPDIR");

	if (!f)
		return -1;
	snprintf(f->dir, sizeof(f->dir), "%s/egressd-spool-XXXXXX", t && *t ? t : "/tmp");
	if (!mkdtemp(f->dir)) {
		free(f);
		return -1;
	}
	*state = f;
	return 0;
}

/* Remove dir and everything in it (two levels are enough here). */
static void rm_rf(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *de;
	char p[512];

	if (!d)
		return;
	while ((de = readdir(d)) != NULL) {
		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		join(p, sizeof(p), dir, de->d_name);
		if (unlink(p) != 0)
			rm_rf(p);
	}
	closedir(d);
	rmdir(dir);
}

static int fx_teardown(void **state)
{
	struct fx *f = *state;
	rm_rf(f->dir);
	free(f);
	return 0;
}

/* The payload of the record with this seq: lengths 0 .. 3000, bytes from the seq. */
static size_t gen(uint64_t seq, uint8_t *buf)
{
	size_t len = seq % 50 == 0 ? 0 : (size_t)(seq * 7919 % 3001);
	for (size_t i = 0; i < len; i++)
		buf[i] = (uint8_t)(seq * 31 + i * 7 + (i >> 8));
	return len;
}

static size_t gen_len(uint64_t seq)
{
	uint8_t buf[3001];
	return gen(seq, buf);
}

static void append_seqs(struct spool *s, uint64_t from, uint64_t to)
{
	uint8_t buf[3001];
	for (uint64_t q = from; q <= to; q++) {
		size_t n = gen(q, buf);
		assert_int_equal(spool_append(s, buf, n), SPOOL_OK);
	}
}

static bool rec_ok(const struct spool_rec *r)
{
	uint8_t buf[3001];
	size_t n = gen(r->seq, buf);
	return r->len == n && (n == 0 || memcmp(r->data, buf, n) == 0);
}

/* Read and consume everything; every record must be gen(seq) with seq increasing. The
 * seqs go to out (up to cap); returns how many, or -1 (with why) on a bad record. */
static long drain(struct spool *s, uint64_t *out, size_t cap, char *why, size_t whylen)
{
	struct spool_batch b = { 0 };
	uint64_t last = 0;
	long n = 0;
	int got;

	while ((got = spool_peek(s, &b, 64, 1 << 20)) > 0) {
		for (int i = 0; i < got; i++) {
			const struct spool_rec *r = &b.rec[i];
			if (r->seq <= last || !rec_ok(r)) {
				snprintf(why, whylen, "record seq %llu (after %llu) len %zu is not "
					 "what was appended", (unsigned long long)r->seq,
					 (unsigned long long)last, r->len);
				spool_batch_free(&b);
				return -1;
			}
			last = r->seq;
			if ((size_t)n < cap)
				out[n] = r->seq;
			n++;
		}
		if (spool_consume(s, (size_t)got) != SPOOL_OK) {
			snprintf(why, whylen, "consume failed");
			spool_batch_free(&b);
			return -1;
		}
	}
	spool_batch_free(&b);
	if (got < 0) {
		snprintf(why, whylen, "peek failed");
		return -1;
	}
	return n;
}

/* Drain and check that exactly the seqs from .. to come back, in order. */
static void expect_range(struct spool *s, uint64_t from, uint64_t to)
{
	uint64_t seqs[1024];
	char why[200];
	long n = drain(s, seqs, 1024, why, sizeof(why));

	if (n < 0)
		fail_msg("%s", why);
	assert_int_equal(n, to - from + 1);
	for (long i = 0; i < n; i++)
		assert_int_equal(seqs[i], from + (uint64_t)i);
	assert_int_equal(spool_pending(s), 0);
}

static struct spool *open_ok(const char *dir, uint64_t max, enum spool_fsync pol)
{
	char err[512] = "";
	struct spool *s = spool_open(dir, max, pol, err, sizeof(err));
	if (!s)
		fail_msg("spool_open %s: %s", dir, err);
	return s;
}

/* The segment files of dir, sorted; returns how many (names in names[i], 21 bytes). */
static int seg_names(const char *dir, char names[][32], int cap)
{
	DIR *d = opendir(dir);
	struct dirent *de;
	int n = 0;

	assert_non_null(d);
	while ((de = readdir(d)) != NULL) {
		size_t l = strlen(de->d_name);
		if (l > 4 && !strcmp(de->d_name + l - 4, ".seg") && n < cap)
			copy_name(names[n++], de->d_name);
	}
	closedir(d);
	qsort(names, (size_t)n, 32, (int (*)(const void *, const void *))strcmp);
	return n;
}

static int seg_count(const char *dir)
{
	char names[64][32];
	return seg_names(dir, names, 64);
}

/* Path of the i-th (or, with i < 0, the newest) segment. */
static void seg_path(const char *dir, int i, char *out, size_t cap)
{
	char names[64][32];
	int n = seg_names(dir, names, 64);
	assert_true(n > 0);
	if (i < 0)
		i = n - 1;
	assert_true(i < n);
	join(out, cap, dir, names[i]);
}

static uint64_t fsize(const char *path)
{
	struct stat st;
	assert_int_equal(stat(path, &st), 0);
	return (uint64_t)st.st_size;
}

static bool exists(const char *path)
{
	struct stat st;
	return stat(path, &st) == 0;
}

static uint64_t segs_total(const char *dir)
{
	char names[64][32], p[512];
	int n = seg_names(dir, names, 64);
	uint64_t t = 0;
	for (int i = 0; i < n; i++) {
		join(p, sizeof(p), dir, names[i]);
		t += fsize(p);
	}
	return t;
}

static void patch(const char *path, uint64_t off, const void *data, size_t n)
{
	int fd = open(path, O_WRONLY);
	assert_true(fd >= 0);
	assert_int_equal(pwrite(fd, data, n, (off_t)off), (ssize_t)n);
	close(fd);
}

static void flip(const char *path, uint64_t off)
{
	uint8_t c;
	int fd = open(path, O_RDWR);
	assert_true(fd >= 0);
	assert_int_equal(pread(fd, &c, 1, (off_t)off), 1);
	c ^= 0x5a;
	assert_int_equal(pwrite(fd, &c, 1, (off_t)off), 1);
	close(fd);
}

static void append_file(const char *path, const void *data, size_t n)
{
	int fd = open(path, O_WRONLY | O_APPEND);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, data, n), (ssize_t)n);
	close(fd);
}

/* Offset of the record with this seq in a spool written from seq 1 into one segment. */
static uint64_t rec_off(uint64_t seq)
{
	uint64_t off = 0;
	for (uint64_t q = 1; q < seq; q++)
		off += HDR + gen_len(q);
	return off;
}

static void subdir(const struct fx *f, const char *name, char *out, size_t cap)
{
	join(out, cap, f->dir, name);
}

/* ---- order, segments, peek --------------------------------------------------------- */

static void test_order_segments(void **state)
{
	struct fx *f = *state;
	struct spool_batch b = { 0 };
	char first[512];
	uint64_t total = 0;
	struct spool *s = open_ok(f->dir, 1 * MIB, SPOOL_FSYNC_BATCH);

	assert_int_equal(spool_pending(s), 0);
	assert_int_equal(spool_peek(s, &b, 10, 1 << 20), 0);
	append_seqs(s, 1, 300);
	assert_int_equal(spool_sync(s), SPOOL_OK);
	for (uint64_t q = 1; q <= 300; q++)
		total += HDR + gen_len(q);
	const struct spool_stats *st = spool_stats(s);
	assert_int_equal(st->appended, 300);
	assert_int_equal(st->pending, 300);
	assert_int_equal(st->disk_bytes, total);
	assert_int_equal(segs_total(f->dir), total);
	/* segment size max_bytes / 8 = 128 KiB: about 450 KB of records */
	assert_true(seg_count(f->dir) >= 3);
	seg_path(f->dir, 0, first, sizeof(first));
	assert_true(fsize(first) <= 128 * KIB);

	/* peek does not remove; its limits */
	for (int k = 0; k < 2; k++) {
		assert_int_equal(spool_peek(s, &b, 10, 1 << 20), 10);
		for (size_t i = 0; i < 10; i++) {
			assert_int_equal(b.rec[i].seq, i + 1);
			assert_true(rec_ok(&b.rec[i]));
		}
	}
	assert_int_equal(spool_pending(s), 300);
	assert_int_equal(spool_peek(s, &b, 256, 1), 1); /* at least one record */
	assert_int_equal(spool_peek(s, &b, 1000, SIZE_MAX), 256);
	assert_int_equal(b.rec[255].seq, 256);
	assert_true(rec_ok(&b.rec[255]));
	assert_int_equal(spool_peek(s, &b, 256, gen_len(1) + gen_len(2)), 2);

	/* how many records the first segment holds, from its size */
	uint64_t in_first = 0, sz = 0;
	while (sz < fsize(first))
		sz += HDR + gen_len(++in_first);
	assert_int_equal(sz, fsize(first));
	assert_int_equal(spool_peek(s, &b, in_first - 1, SIZE_MAX), in_first - 1);
	assert_int_equal(spool_consume(s, in_first - 1), SPOOL_OK);
	assert_true(exists(first));
	assert_int_equal(spool_consume(s, 1), SPOOL_OK); /* without a peek before */
	assert_false(exists(first));
	assert_int_equal(spool_stats(s)->consumed, in_first);
	assert_int_equal(spool_pending(s), 300 - in_first);
	assert_int_equal(spool_stats(s)->disk_bytes, segs_total(f->dir));

	int segs = seg_count(f->dir);
	expect_range(s, in_first + 1, 300);
	assert_true(segs >= 2);
	assert_int_equal(seg_count(f->dir), 0); /* reset when empty */
	assert_int_equal(spool_stats(s)->disk_bytes, 0);
	assert_int_equal(spool_stats(s)->pending_bytes, 0);

	append_seqs(s, 301, 302); /* seq goes on after the reset */
	expect_range(s, 301, 302);
	assert_int_equal(spool_stats(s)->corrupt, 0);
	spool_batch_free(&b);
	spool_close(s);
}

/* ---- reopen, meta, kill -9 --------------------------------------------------------- */

static void test_reopen_meta(void **state)
{
	struct fx *f = *state;
	struct spool_batch b = { 0 };
	uint8_t m[SPOOL_META_MAX + 1];
	struct spool *s = open_ok(f->dir, 4 * MIB, SPOOL_FSYNC_ALWAYS);

	append_seqs(s, 1, 100);
	assert_int_equal(spool_peek(s, &b, 30, SIZE_MAX), 30);
	assert_int_equal(spool_meta_set(s, "batch 1-30", 10), SPOOL_OK);
	assert_int_equal(spool_consume(s, 30), SPOOL_OK);
	memset(m, 'x', sizeof(m));
	assert_int_equal(spool_meta_set(s, m, SPOOL_META_MAX + 1), SPOOL_TOOBIG);
	assert_int_equal(spool_meta_set(s, "ids:31-40", 9), SPOOL_OK);
	spool_close(s);

	s = open_ok(f->dir, 4 * MIB, SPOOL_FSYNC_ALWAYS);
	const struct spool_stats *st = spool_stats(s);
	assert_int_equal(st->recovered, 70);
	assert_int_equal(st->pending, 70);
	assert_int_equal(st->torn + st->corrupt + st->position_reset, 0);
	assert_int_equal(spool_meta_get(s, m, sizeof(m)), 9);
	assert_memory_equal(m, "ids:31-40", 9);
	assert_int_equal(spool_meta_get(s, m, 3), 9); /* copies 3, says 9 */
	assert_int_equal(spool_peek(s, &b, 1, SIZE_MAX), 1);
	assert_int_equal(b.rec[0].seq, 31);
	/* consume and clear the meta in one write */
	assert_int_equal(spool_consume_meta(s, 10, NULL, 0), SPOOL_OK);
	assert_int_equal(spool_meta_get(s, m, sizeof(m)), 0);
	assert_int_equal(spool_meta_set(s, "abc", 3), SPOOL_OK);
	spool_close(s);

	s = open_ok(f->dir, 4 * MIB, SPOOL_FSYNC_NEVER);
	assert_int_equal(spool_pending(s), 60);
	assert_int_equal(spool_meta_get(s, m, sizeof(m)), 3);
	expect_range(s, 41, 100);
	append_seqs(s, 101, 101);
	spool_close(s);

	s = open_ok(f->dir, 4 * MIB, SPOOL_FSYNC_BATCH);
	assert_int_equal(spool_stats(s)->recovered, 1);
	expect_range(s, 101, 101); /* seq kept increasing across the reset and reopen */
	assert_int_equal(spool_meta_get(s, m, sizeof(m)), 3); /* consume keeps the meta */
	spool_close(s);
	spool_batch_free(&b);
}

static void test_kill9(void **state)
{
	struct fx *f = *state;
	struct spool_batch b = { 0 };
	pid_t pid = fork();
	int ws;

	assert_true(pid >= 0);
	if (pid == 0) {
		char err[512];
		uint8_t buf[3001];
		struct spool *s = spool_open(f->dir, 4 * MIB, SPOOL_FSYNC_BATCH, err,
					     sizeof(err));
		if (!s)
			_exit(2);
		for (uint64_t q = 1; q <= 55; q++)
			if (spool_append(s, buf, gen(q, buf)) != SPOOL_OK)
				_exit(3);
		if (spool_peek(s, &b, 10, SIZE_MAX) != 10 || spool_consume(s, 10) != SPOOL_OK)
			_exit(4);
		raise(SIGKILL); /* no close, no sync */
		_exit(5);
	}
	assert_int_equal(waitpid(pid, &ws, 0), pid);
	assert_true(WIFSIGNALED(ws) && WTERMSIG(ws) == SIGKILL);
	struct spool *s = open_ok(f->dir, 4 * MIB, SPOOL_FSYNC_BATCH); /* lock released */
	assert_int_equal(spool_stats(s)->recovered, 45);
	assert_int_equal(spool_stats(s)->torn, 0);
	expect_range(s, 11, 55);
	spool_close(s);
}

/* ---- damage ------------------------------------------------------------------------ */

static void test_torn_tail(void **state)
{
	struct fx *f = *state;
	char d[300], seg[512];
	struct spool *s;

	/* a) the last record cut in the middle */
	subdir(f, "cut", d, sizeof(d));
	s = open_ok(d, 4 * MIB, SPOOL_FSYNC_BATCH);
	append_seqs(s, 1, 10);
	spool_close(s);
	seg_path(d, -1, seg, sizeof(seg));
	assert_int_equal(fsize(seg), rec_off(11));
	assert_int_equal(truncate(seg, (off_t)(rec_off(11) - 5)), 0);
	s = open_ok(d, 4 * MIB, SPOOL_FSYNC_BATCH);
	assert_int_equal(spool_stats(s)->torn, 1);
	assert_int_equal(spool_stats(s)->torn_bytes, HDR + gen_len(10) - 5);
	assert_int_equal(spool_stats(s)->corrupt, 0);
	assert_int_equal(spool_stats(s)->recovered, 9);
	assert_int_equal(fsize(seg), rec_off(10)); /* cut back to the last good record */
	append_seqs(s, 10, 12);			   /* seq 10 again: the torn one never was */
	expect_range(s, 1, 12);
	spool_close(s);

	/* b) garbage after the last record */
	subdir(f, "garbage", d, sizeof(d));
	s = open_ok(d, 4 * MIB, SPOOL_FSYNC_BATCH);
	append_seqs(s, 1, 10);
	spool_close(s);
	seg_path(d, -1, seg, sizeof(seg));
	uint8_t junk[37];
	memset(junk, 0xab, sizeof(junk));
	append_file(seg, junk, sizeof(junk));
	s = open_ok(d, 4 * MIB, SPOOL_FSYNC_BATCH);
	assert_int_equal(spool_stats(s)->torn, 1);
	assert_int_equal(spool_stats(s)->torn_bytes, 37);
	assert_int_equal(spool_stats(s)->recovered, 10);
	assert_int_equal(fsize(seg), rec_off(11));
	append_seqs(s, 11, 11);
	expect_range(s, 1, 11);
	spool_close(s);

	/* c) a stale copy of an earlier record (valid CRC, seq already passed) at the end */
	subdir(f, "stale", d, sizeof(d));
	s = open_ok(d, 4 * MIB, SPOOL_FSYNC_BATCH);
	append_seqs(s, 1, 5);
	spool_close(s);
	seg_path(d, -1, seg, sizeof(seg));
	{
		size_t l = HDR + gen_len(2);
		uint8_t *r = malloc(l);
		int fd = open(seg, O_RDONLY);
		assert_non_null(r);
		assert_true(fd >= 0);
		assert_int_equal(pread(fd, r, l, (off_t)rec_off(2)), (ssize_t)l);
		close(fd);
		append_file(seg, r, l);
		free(r);
	}
	s = open_ok(d, 4 * MIB, SPOOL_FSYNC_BATCH);
	assert_int_equal(spool_stats(s)->torn, 1);
	assert_int_equal(spool_stats(s)->torn_bytes, HDR + gen_len(2));
	expect_range(s, 1, 5);
	spool_close(s);

	/* d) the last record's length field is 0xffffffff */
	subdir(f, "length", d, sizeof(d));
	s = open_ok(d, 4 * MIB, SPOOL_FSYNC_BATCH);
	append_seqs(s, 1, 10);
	spool_close(s);
	seg_path(d, -1, seg, sizeof(seg));
	patch(seg, rec_off(10) + 4, "\xff\xff\xff\xff", 4);
	s = open_ok(d, 4 * MIB, SPOOL_FSYNC_BATCH);
	assert_int_equal(spool_stats(s)->torn, 1);
	assert_int_equal(spool_stats(s)->torn_bytes, HDR + gen_len(10));
	expect_range(s, 1, 9);
	spool_close(s);
}

static void test_corrupt_middle(void **state)
{
	struct fx *f = *state;
	char d[300], seg[512];
	struct spool_batch b = { 0 };
	struct spool *s;
	/* record 3: a payload byte, the magic, the length field (garbage, and one above the
	 * maximum), the seq */
	const uint64_t where[] = { HDR + 2, 0, 4, 4, 10 };
	const char *what[] = { "payload", "magic", "length ffffffff", "length max+1", "seq" };

	for (size_t k = 0; k < sizeof(where) / sizeof(where[0]); k++) {
		char name[16];
		snprintf(name, sizeof(name), "m%zu", k);
		subdir(f, name, d, sizeof(d));
		s = open_ok(d, 4 * MIB, SPOOL_FSYNC_BATCH);
		append_seqs(s, 1, 5);
		spool_close(s);
		seg_path(d, 0, seg, sizeof(seg));
		if (k == 2) {
			patch(seg, rec_off(3) + 4, "\xff\xff\xff\xff", 4);
		} else if (k == 3) {
			uint8_t l[4] = { 0x01, 0x00, 0x10, 0x00 }; /* 2^20 + 1 */
			patch(seg, rec_off(3) + 4, l, 4);
		} else {
			flip(seg, rec_off(3) + where[k]);
		}
		s = open_ok(d, 4 * MIB, SPOOL_FSYNC_BATCH);
		const struct spool_stats *st = spool_stats(s);
		if (st->corrupt != 1 || st->corrupt_bytes != HDR + gen_len(3) || st->torn != 0 ||
		    st->recovered != 4)
			fail_msg("%s: corrupt %llu (%llu bytes), torn %llu, recovered %llu", what[k],
				 (unsigned long long)st->corrupt,
				 (unsigned long long)st->corrupt_bytes,
				 (unsigned long long)st->torn, (unsigned long long)st->recovered);
		assert_int_equal(spool_peek(s, &b, 10, SIZE_MAX), 4);
		assert_int_equal(b.rec[0].seq, 1);
		assert_int_equal(b.rec[1].seq, 2);
		assert_int_equal(b.rec[2].seq, 4);
		assert_int_equal(b.rec[3].seq, 5);
		for (int i = 0; i < 4; i++)
			assert_true(rec_ok(&b.rec[i]));
		assert_int_equal(spool_stats(s)->corrupt, 1); /* counted once */
		assert_int_equal(spool_consume(s, 4), SPOOL_OK);
		assert_int_equal(spool_pending(s), 0);
		assert_int_equal(spool_stats(s)->corrupt, 1);
		spool_close(s);
	}

	/* damage appearing while open: skipped at peek, counted once */
	subdir(f, "live", d, sizeof(d));
	s = open_ok(d, 4 * MIB, SPOOL_FSYNC_BATCH);
	append_seqs(s, 1, 5);
	assert_int_equal(spool_sync(s), SPOOL_OK);
	seg_path(d, 0, seg, sizeof(seg));
	flip(seg, rec_off(2) + HDR + 1);
	for (int k = 0; k < 2; k++) {
		assert_int_equal(spool_peek(s, &b, 10, SIZE_MAX), 4);
		assert_int_equal(b.rec[0].seq, 1);
		assert_int_equal(b.rec[1].seq, 3);
		assert_int_equal(b.rec[3].seq, 5);
		assert_int_equal(spool_stats(s)->corrupt, 1);
		assert_int_equal(spool_stats(s)->corrupt_bytes, HDR + gen_len(2));
	}
	assert_int_equal(spool_pending(s), 4); /* corrected by the peek that reached the end */
	assert_int_equal(spool_consume(s, 4), SPOOL_OK);
	assert_int_equal(seg_count(d), 0);
	spool_close(s);
	spool_batch_free(&b);
}

static void test_position_reset(void **state)
{
	struct fx *f = *state;
	char d[300], p[512];
	uint8_t m[SPOOL_META_MAX];
	struct spool *s;

	for (int k = 0; k < 3; k++) {
		subdir(f, k == 0 ? "flip" : k == 1 ? "gone" : "short", d, sizeof(d));
		s = open_ok(d, 4 * MIB, SPOOL_FSYNC_BATCH);
		assert_int_equal(spool_stats(s)->position_reset, 0); /* a new spool */
		append_seqs(s, 1, 10);
		assert_int_equal(spool_consume_meta(s, 4, "meta", 4), SPOOL_OK);
		spool_close(s);
		join(p, sizeof(p), d, "position");
		assert_int_equal(fsize(p), 104);
		if (k == 0)
			flip(p, 17); /* inside the offset */
		else if (k == 1)
			assert_int_equal(unlink(p), 0);
		else
			assert_int_equal(truncate(p, 50), 0);
		s = open_ok(d, 4 * MIB, SPOOL_FSYNC_BATCH);
		assert_int_equal(spool_stats(s)->position_reset, 1);
		assert_int_equal(spool_stats(s)->recovered, 10);
		assert_int_equal(spool_meta_get(s, m, sizeof(m)), 0);
		expect_range(s, 1, 10); /* duplicates rather than loss */
		spool_close(s);
		/* consumed to the end: a fresh position, no reset next time */
		s = open_ok(d, 4 * MIB, SPOOL_FSYNC_BATCH);
		assert_int_equal(spool_stats(s)->position_reset, 0);
		assert_int_equal(spool_pending(s), 0);
		spool_close(s);
	}
}

/* ---- limits ------------------------------------------------------------------------ */

static void test_full(void **state)
{
	struct fx *f = *state;
	const uint64_t max = 512 * KIB, rec = HDR + 1000, per_seg = (64 * KIB) / rec;
	uint8_t buf[1000];
	char first[512], last[512];
	uint64_t n = 0;
	struct spool *s = open_ok(f->dir, max, SPOOL_FSYNC_BATCH);

	memset(buf, 'a', sizeof(buf));
	while (spool_append(s, buf, sizeof(buf)) == SPOOL_OK)
		assert_true(++n < 10000);
	assert_int_equal(n, max / rec);
	const struct spool_stats *st = spool_stats(s);
	assert_int_equal(st->full, 1);
	assert_int_equal(st->appended, n);
	assert_int_equal(st->disk_bytes, n * rec);
	assert_int_equal(segs_total(f->dir), n * rec); /* nothing written by the refusal */
	seg_path(f->dir, -1, last, sizeof(last));
	uint64_t last_size = fsize(last);
	assert_int_equal(spool_append(s, buf, 0), SPOOL_FULL); /* 20 bytes: only 8 left */
	assert_int_equal(fsize(last), last_size);
	assert_int_equal(st->full, 2);
	assert_int_equal(st->write_errors, 0);

	/* room comes back only when the first segment is wholly consumed */
	seg_path(f->dir, 0, first, sizeof(first));
	assert_int_equal(fsize(first), per_seg * rec);
	assert_int_equal(spool_consume(s, per_seg - 1), SPOOL_OK);
	assert_int_equal(spool_append(s, buf, sizeof(buf)), SPOOL_FULL);
	assert_int_equal(spool_consume(s, 1), SPOOL_OK);
	assert_false(exists(first));
	assert_int_equal(st->disk_bytes, (n - per_seg) * rec);
	assert_int_equal(spool_append(s, buf, sizeof(buf)), SPOOL_OK);
	assert_int_equal(st->pending, n - per_seg + 1);
	assert_int_equal(st->disk_bytes, segs_total(f->dir));
	spool_close(s);
}

static void test_toobig(void **state)
{
	struct fx *f = *state;
	struct spool_batch b = { 0 };
	uint8_t *big = malloc(SPOOL_RECORD_MAX + 1);
	struct spool *s = open_ok(f->dir, 4 * MIB, SPOOL_FSYNC_BATCH);

	assert_non_null(big);
	for (size_t i = 0; i <= SPOOL_RECORD_MAX; i++)
		big[i] = (uint8_t)(i * 13);
	assert_int_equal(spool_append(s, big, SPOOL_RECORD_MAX + 1), SPOOL_TOOBIG);
	assert_int_equal(spool_stats(s)->disk_bytes, 0);
	assert_int_equal(seg_count(f->dir), 0);
	assert_int_equal(spool_append(s, "x", 1), SPOOL_OK);
	assert_int_equal(spool_append(s, big, SPOOL_RECORD_MAX), SPOOL_OK); /* own segment */
	assert_int_equal(seg_count(f->dir), 2);
	spool_close(s);
	s = open_ok(f->dir, 4 * MIB, SPOOL_FSYNC_BATCH);
	assert_int_equal(spool_peek(s, &b, 10, 1), 1);
	assert_int_equal(spool_peek(s, &b, 10, SIZE_MAX), 2);
	assert_int_equal(b.rec[1].len, SPOOL_RECORD_MAX);
	assert_memory_equal(b.rec[1].data, big, SPOOL_RECORD_MAX);
	assert_int_equal(b.rec[1].seq, 2);
	spool_close(s);
	spool_batch_free(&b);
	free(big);
}

/* In a child: appends that hit RLIMIT_FSIZE mid-record. Exit status 0 when every check
 * passed, else the number of the failed one. */
static int write_error_child(const char *dir)
{
	char err[512], seg[600], names[4][32];
	uint8_t buf[1000];
	struct stat st;
	struct rlimit rl;
	struct spool *s = spool_open(dir, 4 * MIB, SPOOL_FSYNC_BATCH, err, sizeof(err));

	if (!s)
		return 1;
	memset(buf, 'w', sizeof(buf));
	for (int i = 0; i < 5; i++)
		if (spool_append(s, buf, sizeof(buf)) != SPOOL_OK)
			return 2;
	if (spool_sync(s) != SPOOL_OK || seg_names(dir, names, 4) != 1)
		return 3;
	join(seg, sizeof(seg), dir, names[0]);
	signal(SIGXFSZ, SIG_IGN);
	rl.rlim_cur = rl.rlim_max = 5 * (HDR + 1000) + 100; /* the 6th record stops at 100 */
	if (setrlimit(RLIMIT_FSIZE, &rl) != 0)
		return 4;
	errno = 0;
	if (spool_append(s, buf, sizeof(buf)) != SPOOL_IOERR || errno != EFBIG)
		return 5;
	if (stat(seg, &st) != 0 || st.st_size != 5 * (HDR + 1000))
		return 6; /* the partial record is truncated away */
	const struct spool_stats *ss = spool_stats(s);
	if (ss->write_errors != 1 || ss->appended != 5 || ss->pending != 5 ||
	    ss->disk_bytes != 5 * (HDR + 1000))
		return 7;
	if (spool_append(s, "small", 5) != SPOOL_OK) /* 25 bytes fit under the limit */
		return 8;
	spool_close(s);

	/* the first record of a new segment fails: no empty segment is left behind */
	static uint8_t big[6000];
	join(seg, sizeof(seg), dir, "fresh");
	s = spool_open(seg, 4 * MIB, SPOOL_FSYNC_BATCH, err, sizeof(err));
	if (!s)
		return 9;
	if (spool_append(s, big, sizeof(big)) != SPOOL_IOERR || seg_count(seg) != 0)
		return 10;
	if (spool_stats(s)->write_errors != 1 || spool_stats(s)->disk_bytes != 0)
		return 11;
	if (spool_append(s, big, 100) != SPOOL_OK || seg_count(seg) != 1)
		return 12;
	spool_close(s);
	return 0;
}

static void test_write_error(void **state)
{
	struct fx *f = *state;
	struct spool_batch b = { 0 };
	int ws;
	pid_t pid = fork();

	assert_true(pid >= 0);
	if (pid == 0)
		_exit(write_error_child(f->dir));
	assert_int_equal(waitpid(pid, &ws, 0), pid);
	assert_true(WIFEXITED(ws));
	if (WEXITSTATUS(ws) != 0)
		fail_msg("write-error child failed check %d", WEXITSTATUS(ws));
	struct spool *s = open_ok(f->dir, 4 * MIB, SPOOL_FSYNC_BATCH);
	assert_int_equal(spool_stats(s)->torn, 0);
	assert_int_equal(spool_stats(s)->corrupt, 0);
	assert_int_equal(spool_stats(s)->recovered, 6);
	assert_int_equal(spool_peek(s, &b, 10, SIZE_MAX), 6);
	for (int i = 0; i < 5; i++) {
		assert_int_equal(b.rec[i].seq, (uint64_t)i + 1);
		assert_int_equal(b.rec[i].len, 1000);
	}
	assert_int_equal(b.rec[5].seq, 6); /* the failed append took no seq */
	assert_int_equal(b.rec[5].len, 5);
	assert_memory_equal(b.rec[5].data, "small", 5);
	spool_close(s);
	spool_batch_free(&b);
}

static void test_lock(void **state)
{
	struct fx *f = *state;
	char err[512] = "", pidstr[32];
	int ws;
	struct spool *s = open_ok(f->dir, 1 * MIB, SPOOL_FSYNC_BATCH);

	/* flock locks belong to the open file description: a new open conflicts even in the
	 * same process */
	assert_null(spool_open(f->dir, 1 * MIB, SPOOL_FSYNC_BATCH, err, sizeof(err)));
	snprintf(pidstr, sizeof(pidstr), "pid %ld", (long)getpid());
	if (!strstr(err, f->dir) || !strstr(err, pidstr))
		fail_msg("error does not name the directory and %s: %s", pidstr, err);
	pid_t pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		char e2[512] = "";
		struct spool *t = spool_open(f->dir, 1 * MIB, SPOOL_FSYNC_BATCH, e2, sizeof(e2));
		_exit(t == NULL && strstr(e2, f->dir) ? 0 : 1);
	}
	assert_int_equal(waitpid(pid, &ws, 0), pid);
	assert_true(WIFEXITED(ws));
	assert_int_equal(WEXITSTATUS(ws), 0);
	append_seqs(s, 1, 3);
	spool_close(s);
	s = open_ok(f->dir, 1 * MIB, SPOOL_FSYNC_BATCH); /* released by close */
	expect_range(s, 1, 3);
	spool_close(s);
}

static void test_bad_args(void **state)
{
	struct fx *f = *state;
	char err[512] = "", d[300];

	assert_null(spool_open(f->dir, 0, SPOOL_FSYNC_BATCH, err, sizeof(err)));
	assert_non_null(strstr(err, f->dir));
	join(d, sizeof(d), f->dir, "no/such/parent");
	assert_null(spool_open(d, 1 * MIB, SPOOL_FSYNC_BATCH, err, sizeof(err)));
	assert_non_null(strstr(err, d));
	/* a new directory is created 0700 */
	subdir(f, "new", d, sizeof(d));
	struct spool *s = open_ok(d, 1 * MIB, SPOOL_FSYNC_BATCH);
	struct stat st;
	assert_int_equal(stat(d, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0700);
	spool_close(s);
}

/* ---- fuzz -------------------------------------------------------------------------- */

static uint64_t rng_next(uint64_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 7;
	*s ^= *s << 17;
	return *s;
}

struct snap {
	int n;
	char name[32][32];
	uint8_t *data[32];
	size_t len[32];
};

static void snap_take(const char *dir, struct snap *sn)
{
	DIR *d = opendir(dir);
	struct dirent *de;
	char p[512];

	assert_non_null(d);
	sn->n = 0;
	while ((de = readdir(d)) != NULL) {
		if (de->d_name[0] == '.' || !strcmp(de->d_name, "lock"))
			continue;
		assert_true(sn->n < 32);
		int i = sn->n++;
		copy_name(sn->name[i], de->d_name);
		join(p, sizeof(p), dir, de->d_name);
		sn->len[i] = (size_t)fsize(p);
		sn->data[i] = malloc(sn->len[i] + 1);
		assert_non_null(sn->data[i]);
		FILE *fp = fopen(p, "rb");
		assert_non_null(fp);
		assert_int_equal(fread(sn->data[i], 1, sn->len[i], fp), sn->len[i]);
		fclose(fp);
	}
	closedir(d);
}

static void snap_restore(const char *dir, const struct snap *sn)
{
	char p[512];

	rm_rf(dir);
	assert_int_equal(mkdir(dir, 0700), 0);
	for (int i = 0; i < sn->n; i++) {
		join(p, sizeof(p), dir, sn->name[i]);
		FILE *fp = fopen(p, "wb");
		assert_non_null(fp);
		assert_int_equal(fwrite(sn->data[i], 1, sn->len[i], fp), sn->len[i]);
		fclose(fp);
	}
}

static void test_fuzz(void **state)
{
	struct fx *f = *state;
	char d[300], p[512], why[200], names[32][32];
	uint64_t rng = 0x9e3779b97f4a7c15ull, seqs[256];
	struct snap sn;
	struct spool *s;

	/* 200 records over 3 or more segments, the first 20 consumed */
	subdir(f, "fz", d, sizeof(d));
	s = open_ok(d, 1 * MIB, SPOOL_FSYNC_BATCH);
	append_seqs(s, 1, 200);
	assert_int_equal(spool_consume(s, 20), SPOOL_OK);
	spool_close(s);
	assert_true(seg_count(d) >= 3);
	snap_take(d, &sn);

	for (int it = 0; it < 400; it++) {
		int kind = it % 6, nseg, flips = 0;
		snap_restore(d, &sn);
		nseg = seg_names(d, names, 32);
		if (kind == 0 || kind == 5) { /* flip 1 .. 3 bytes in segments */
			flips = 1 + (int)(rng_next(&rng) % 3);
			for (int k = 0; k < flips; k++) {
				join(p, sizeof(p), d,
					 names[rng_next(&rng) % (uint64_t)nseg]);
				flip(p, rng_next(&rng) % fsize(p));
			}
		}
		if (kind == 1 || kind == 5) { /* cut a segment anywhere */
			join(p, sizeof(p), d, names[rng_next(&rng) % (uint64_t)nseg]);
			assert_int_equal(truncate(p, (off_t)(rng_next(&rng) % fsize(p))), 0);
		}
		if (kind == 2) { /* damage the position file */
			join(p, sizeof(p), d, "position");
			flip(p, rng_next(&rng) % 104);
		}
		if (kind == 3 || kind == 5) { /* 4 random bytes anywhere (lengths, seqs...) */
			uint8_t r[4];
			for (int k = 0; k < 4; k++)
				r[k] = (uint8_t)rng_next(&rng);
			if (rng_next(&rng) & 1)
				memset(r, 0xff, 4);
			join(p, sizeof(p), d, names[rng_next(&rng) % (uint64_t)nseg]);
			patch(p, rng_next(&rng) % (fsize(p) - 3), r, 4);
		}
		if (kind == 4) { /* garbage after the end of a segment */
			uint8_t g[300];
			size_t gl = 1 + rng_next(&rng) % sizeof(g);
			for (size_t k = 0; k < gl; k++)
				g[k] = (uint8_t)rng_next(&rng);
			join(p, sizeof(p), d, names[rng_next(&rng) % (uint64_t)nseg]);
			append_file(p, g, gl);
		}

		char err[512];
		s = spool_open(d, 1 * MIB, SPOOL_FSYNC_NEVER, err, sizeof(err));
		if (!s)
			fail_msg("iteration %d (kind %d): open failed: %s", it, kind, err);
		uint64_t recovered = spool_stats(s)->recovered;
		long n = drain(s, seqs, 256, why, sizeof(why));
		if (n < 0)
			fail_msg("iteration %d (kind %d): %s", it, kind, why);
		if ((uint64_t)n != recovered)
			fail_msg("iteration %d (kind %d): %ld delivered, %llu recovered", it, kind,
				 n, (unsigned long long)recovered);
		if (kind == 2 && (n != 200 || spool_stats(s)->position_reset != 1))
			fail_msg("iteration %d: position damage: %ld delivered", it, n);
		if (kind == 4 && (n != 180 || seqs[0] != 21))
			fail_msg("iteration %d: garbage at an end: %ld delivered", it, n);
		if (kind == 0 && n < 180 - flips)
			fail_msg("iteration %d: %d flips lost %ld records", it, flips, 180 - n);
		/* still usable */
		uint8_t buf[3001];
		assert_int_equal(spool_append(s, buf, gen(500, buf)), SPOOL_OK);
		struct spool_batch b = { 0 };
		assert_int_equal(spool_peek(s, &b, 10, SIZE_MAX), 1);
		assert_true(b.rec[0].seq > (n ? seqs[n < 256 ? n - 1 : 255] : 0));
		assert_int_equal(b.rec[0].len, gen_len(500));
		spool_batch_free(&b);
		spool_close(s);
	}
	for (int i = 0; i < sn.n; i++)
		free(sn.data[i]);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_order_segments, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_reopen_meta, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_kill9, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_torn_tail, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_corrupt_middle, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_position_reset, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_full, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_toobig, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_write_error, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_lock, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_bad_args, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_fuzz, fx_setup, fx_teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
