/* test_detect_baseline.c: sensor/detect-baseline.c, the seen-destinations baseline.
 *
 * Expected behaviour from include/detect-baseline.h: touch reports the entry as it was
 * before (unknown when never seen or expired), host and site scopes are separate, expiry
 * is bounded per call, a full table evicts the least recently touched entry; the file is
 * written atomically and any damaged file is set aside (PATH.corrupt-<time>) with an
 * empty table. The files for the corruption cases are built here by hand from the format
 * table in the header, not by baseline_save; the CRC-32 (crc32.h, crc32_update) is checked
 * against the standard check value ("123456789" -> 0xCBF43926) and a bit-at-a-time
 * reference.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <dirent.h>
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "crc32.h"
#include "detect-baseline.h"

#define SEC 1000000ULL
#define HOUR (3600 * SEC)
#define DAY (24 * HOUR)
#define T0 (1700000000ULL * SEC + 777)

static const uint8_t A4[16] = { 10, 0, 0, 5 };
static const uint8_t B4[16] = { 10, 0, 0, 6 };
static const uint8_t A6[16] = { 0x20, 0x01, 0x0d, 0xb8, [15] = 1 };

/* ---- helpers ----------------------------------------------------------------------- */

struct fx {
	char dir[64];
	char path[128];
};

static int fx_setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));
	if (!f)
		return -1;
	snprintf(f->dir, sizeof(f->dir), "/tmp/egressd-baseline-XXXXXX");
	if (!mkdtemp(f->dir)) {
		free(f);
		return -1;
	}
	snprintf(f->path, sizeof(f->path), "%s/baseline.db", f->dir);
	*state = f;
	return 0;
}

/* Remove every file in dir (one level; a directory inside is removed empty). */
static void clean_dir(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *de;
	char p[512];

	if (!d)
		return;
	while ((de = readdir(d)) != NULL) {
		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		snprintf(p, sizeof(p), "%s/%s", dir, de->d_name);
		if (unlink(p) != 0)
			rmdir(p);
	}
	closedir(d);
}

static int fx_teardown(void **state)
{
	struct fx *f = *state;
	clean_dir(f->dir);
	rmdir(f->dir);
	free(f);
	return 0;
}

/* How many files in dir start with prefix; with remove, delete them. */
static int count_prefix(const char *dir, const char *prefix, bool remove)
{
	DIR *d = opendir(dir);
	struct dirent *de;
	char p[512];
	int n = 0;

	assert_non_null(d);
	while ((de = readdir(d)) != NULL) {
		if (strncmp(de->d_name, prefix, strlen(prefix)) != 0)
			continue;
		n++;
		if (remove) {
			snprintf(p, sizeof(p), "%s/%s", dir, de->d_name);
			unlink(p);
		}
	}
	closedir(d);
	return n;
}

static bool exists(const char *p)
{
	struct stat st;
	return stat(p, &st) == 0;
}

static struct baseline *mk(uint32_t n, uint64_t expire)
{
	char err[256] = "";
	struct baseline *b = baseline_create(n, expire, err, sizeof(err));
	if (!b)
		fail_msg("baseline_create: %s", err);
	return b;
}

static struct baseline_seen touch(struct baseline *b, enum baseline_scope scope, int family,
				  const uint8_t *src, const char *dest, uint64_t now)
{
	struct baseline_seen s;
	memset(&s, 0xa5, sizeof(s));
	baseline_touch(b, scope, family, src, dest, strlen(dest), now, &s);
	return s;
}

static void write_file(const char *path, const void *p, size_t n)
{
	FILE *f = fopen(path, "wb");
	assert_non_null(f);
	assert_int_equal(fwrite(p, 1, n, f), n);
	assert_int_equal(fclose(f), 0);
}

static uint8_t *read_file(const char *path, size_t *n)
{
	FILE *f = fopen(path, "rb");
	assert_non_null(f);
	assert_int_equal(fseek(f, 0, SEEK_END), 0);
	long sz = ftell(f);
	assert_true(sz >= 0);
	rewind(f);
	uint8_t *p = malloc((size_t)sz + 1);
	assert_non_null(p);
	assert_int_equal(fread(p, 1, (size_t)sz, f), (size_t)sz);
	fclose(f);
	*n = (size_t)sz;
	return p;
}

/* ---- hand-built files (the format table of detect-baseline.h) ----------------------- */

struct img {
	uint8_t b[4096];
	size_t n;
};

static void le(struct img *m, uint64_t v, int bytes)
{
	for (int i = 0; i < bytes; i++)
		m->b[m->n++] = (uint8_t)(v >> (8 * i));
}

static void img_header(struct img *m, uint32_t version, uint32_t count)
{
	m->n = 0;
	memcpy(m->b, "EGRESSDB", 8);
	m->n = 8;
	le(m, version, 4);
	le(m, count, 4);
	le(m, 0, 8); /* length, set by img_finish */
}

static void img_record(struct img *m, uint8_t scope, uint8_t family, const uint8_t src[16],
		       uint16_t len, char fill, uint64_t first, uint64_t last)
{
	m->b[m->n++] = scope;
	m->b[m->n++] = family;
	memcpy(m->b + m->n, src, 16);
	m->n += 16;
	le(m, len, 2);
	memset(m->b + m->n, fill, len);
	m->n += len;
	le(m, first, 8);
	le(m, last, 8);
}

/* Set the length field to the final size and append the CRC. */
static void img_finish(struct img *m)
{
	uint64_t len = m->n + 4;
	for (int i = 0; i < 8; i++)
		m->b[16 + i] = (uint8_t)(len >> (8 * i));
	uint32_t c = crc32_update(0, m->b, m->n);
	le(m, c, 4);
}

/* ---- CRC-32 ------------------------------------------------------------------------ */

static uint32_t crc_bitwise(const uint8_t *p, size_t n)
{
	uint32_t c = 0xffffffffu;
	for (size_t i = 0; i < n; i++) {
		c ^= p[i];
		for (int k = 0; k < 8; k++)
			c = (c & 1) ? (c >> 1) ^ 0xedb88320u : c >> 1;
	}
	return ~c;
}

static void test_crc32(void **state)
{
	uint8_t buf[1000];
	(void)state;

	assert_int_equal(crc32_update(0, "123456789", 9), 0xcbf43926u);
	assert_int_equal(crc32_update(0, "", 0), 0);
	assert_int_equal(crc32_update(0, "a", 1), 0xe8b7be43u);
	for (size_t i = 0; i < sizeof(buf); i++)
		buf[i] = (uint8_t)(i * 131 + (i >> 3));
	for (size_t n = 0; n <= sizeof(buf); n += 37) {
		assert_int_equal(crc32_update(0, buf, n), crc_bitwise(buf, n));
		/* continuing in two parts equals one pass */
		uint32_t c = crc32_update(0, buf, n / 3);
		assert_int_equal(crc32_update(c, buf + n / 3, n - n / 3), crc_bitwise(buf, n));
	}
}

/* ---- table semantics --------------------------------------------------------------- */

static void test_create_bounds(void **state)
{
	char err[256] = "";
	(void)state;
	assert_null(baseline_create(0, 0, err, sizeof(err)));
	assert_non_null(strstr(err, "max_entries"));
	assert_null(baseline_create(BASELINE_MAX_ENTRIES + 1, 0, err, sizeof(err)));
	baseline_destroy(NULL);
}

static void test_touch_known_new(void **state)
{
	struct baseline *b = mk(16, 30 * DAY);
	struct baseline_seen s;
	uint64_t new_for = DAY;
	(void)state;

	s = touch(b, BASELINE_HOST, 4, A4, "files.example.net", T0);
	assert_false(s.known);
	assert_int_equal(s.first_us, 0);
	assert_int_equal(s.last_us, 0);
	assert_true(baseline_is_new(&s, T0, new_for));

	s = touch(b, BASELINE_HOST, 4, A4, "files.example.net", T0 + 10 * SEC);
	assert_true(s.known);
	assert_int_equal(s.first_us, T0);
	assert_int_equal(s.last_us, T0); /* as it was before this touch */
	assert_true(baseline_is_new(&s, T0 + 10 * SEC, new_for));

	s = touch(b, BASELINE_HOST, 4, A4, "files.example.net", T0 + new_for - 1);
	assert_true(s.known);
	assert_int_equal(s.last_us, T0 + 10 * SEC);
	assert_true(baseline_is_new(&s, T0 + new_for - 1, new_for));
	s = touch(b, BASELINE_HOST, 4, A4, "files.example.net", T0 + new_for);
	assert_int_equal(s.first_us, T0);
	assert_false(baseline_is_new(&s, T0 + new_for, new_for)); /* now - first == new_for */
	assert_false(baseline_is_new(&s, T0 + 2 * new_for, new_for));
	assert_true(baseline_is_new(&s, T0 + 2 * new_for, 0) == false);

	/* time going backwards: last_seen never moves back, first_seen stays */
	s = touch(b, BASELINE_HOST, 4, A4, "files.example.net", T0 + 5 * SEC);
	assert_int_equal(s.last_us, T0 + new_for);
	s = touch(b, BASELINE_HOST, 4, A4, "files.example.net", T0 + new_for);
	assert_int_equal(s.first_us, T0);
	assert_int_equal(s.last_us, T0 + new_for);
	/* and now earlier than first: not yet "old" */
	assert_true(baseline_is_new(&s, T0 - SEC, new_for));

	/* unknown is always new, whatever new_for */
	struct baseline_seen u = { .known = false };
	assert_true(baseline_is_new(&u, T0, 0));
	/* NULL before is allowed */
	baseline_touch(b, BASELINE_SITE, 0, NULL, "x", 1, T0, NULL);
	assert_int_equal(baseline_stats(b)->entries, 2);
	baseline_destroy(b);
}

static void test_scopes(void **state)
{
	struct baseline *b = mk(16, 0);
	struct baseline_seen s;
	uint8_t a4_dirty[16];
	(void)state;

	s = touch(b, BASELINE_HOST, 4, A4, "d.example", T0);
	assert_false(s.known);
	/* another host: unknown to it */
	s = touch(b, BASELINE_HOST, 4, B4, "d.example", T0 + 1);
	assert_false(s.known);
	/* site-wide is its own entry */
	s = touch(b, BASELINE_SITE, 0, NULL, "d.example", T0 + 2);
	assert_false(s.known);
	s = touch(b, BASELINE_SITE, 6, A6, "d.example", T0 + 3); /* family/src ignored */
	assert_true(s.known);
	assert_int_equal(s.first_us, T0 + 2);
	/* same bytes as IPv4 and IPv6 sources differ */
	uint8_t a4_as6[16] = { 10, 0, 0, 5 };
	s = touch(b, BASELINE_HOST, 6, a4_as6, "d.example", T0 + 4);
	assert_false(s.known);
	/* an IPv4 source is its first 4 bytes */
	memcpy(a4_dirty, A4, 16);
	memset(a4_dirty + 4, 0xee, 12);
	s = touch(b, BASELINE_HOST, 4, a4_dirty, "d.example", T0 + 5);
	assert_true(s.known);
	assert_int_equal(s.first_us, T0);
	/* destinations are compared whole */
	s = touch(b, BASELINE_HOST, 4, A4, "d.exampl", T0 + 6);
	assert_false(s.known);
	s = touch(b, BASELINE_HOST, 4, A4, "D.example", T0 + 6);
	assert_false(s.known);
	/* a host touch with no usable family is ignored */
	uint64_t before = baseline_stats(b)->entries;
	s = touch(b, BASELINE_HOST, 0, A4, "d.example", T0 + 7);
	assert_false(s.known);
	s = touch(b, (enum baseline_scope)7, 4, A4, "d.example", T0 + 7);
	assert_false(s.known);
	assert_int_equal(baseline_stats(b)->entries, before);
	/* an empty destination is a destination */
	baseline_touch(b, BASELINE_SITE, 0, NULL, "", 0, T0, &s);
	assert_false(s.known);
	baseline_touch(b, BASELINE_SITE, 0, NULL, "", 0, T0 + 1, &s);
	assert_true(s.known);
	baseline_destroy(b);
}

static void test_long_dest(void **state)
{
	struct baseline *b = mk(4, 0);
	struct baseline_seen s;
	char d[400];
	(void)state;

	memset(d, 'x', sizeof(d));
	baseline_touch(b, BASELINE_SITE, 0, NULL, d, sizeof(d), T0, &s);
	assert_false(s.known);
	/* cut to its first 255 bytes */
	baseline_touch(b, BASELINE_SITE, 0, NULL, d, BASELINE_DEST_MAX, T0 + 1, &s);
	assert_true(s.known);
	baseline_touch(b, BASELINE_SITE, 0, NULL, d, BASELINE_DEST_MAX - 1, T0 + 2, &s);
	assert_false(s.known);
	baseline_destroy(b);
}

static void test_expiry(void **state)
{
	struct baseline *b = mk(5000, HOUR);
	struct baseline_seen s;
	char d[32];
	(void)state;

	s = touch(b, BASELINE_HOST, 4, A4, "old.example", T0);
	s = touch(b, BASELINE_HOST, 4, A4, "old.example", T0 + HOUR); /* exactly: alive */
	assert_true(s.known);
	/* more than expire_after since last_seen: treated as never seen, even before
	 * baseline_expire removed it, and first_seen starts again */
	s = touch(b, BASELINE_HOST, 4, A4, "old.example", T0 + 2 * HOUR + 1);
	assert_false(s.known);
	s = touch(b, BASELINE_HOST, 4, A4, "old.example", T0 + 2 * HOUR + 2);
	assert_true(s.known);
	assert_int_equal(s.first_us, T0 + 2 * HOUR + 1);

	/* baseline_expire drops what is expired and keeps the rest */
	touch(b, BASELINE_SITE, 0, NULL, "a", T0 + 3 * HOUR);
	touch(b, BASELINE_SITE, 0, NULL, "b", T0 + 4 * HOUR);
	/* "old.example" (last +2h+2) is 1h+1 old: goes; "a" is not */
	baseline_expire(b, T0 + 3 * HOUR + 3);
	assert_int_equal(baseline_stats(b)->expired, 1);
	assert_int_equal(baseline_stats(b)->entries, 2);
	baseline_expire(b, T0 + 3 * HOUR + 3);
	assert_int_equal(baseline_stats(b)->expired, 1);
	baseline_expire(b, T0 + 5 * HOUR); /* "a" goes, "b" is exactly one hour old */
	assert_int_equal(baseline_stats(b)->entries, 1);
	s = touch(b, BASELINE_SITE, 0, NULL, "b", T0 + 5 * HOUR);
	assert_true(s.known);

	/* bounded work: at most BASELINE_EXPIRE_BATCH per call */
	for (int i = 0; i < 3000; i++) {
		int n = snprintf(d, sizeof(d), "h%d", i);
		baseline_touch(b, BASELINE_SITE, 0, NULL, d, (size_t)n, T0 + 6 * HOUR, NULL);
	}
	uint64_t e0 = baseline_stats(b)->entries;
	assert_int_equal(e0, 3001);
	baseline_expire(b, T0 + 9 * HOUR);
	assert_int_equal(baseline_stats(b)->entries, e0 - BASELINE_EXPIRE_BATCH);
	baseline_expire(b, T0 + 9 * HOUR);
	baseline_expire(b, T0 + 9 * HOUR);
	assert_int_equal(baseline_stats(b)->entries, 0);
	assert_int_equal(baseline_stats(b)->expired, 1 + 1 + 3001);

	/* expire_after 0: never */
	struct baseline *n = mk(4, 0);
	touch(n, BASELINE_SITE, 0, NULL, "a", 0);
	baseline_expire(n, UINT64_MAX);
	s = touch(n, BASELINE_SITE, 0, NULL, "a", UINT64_MAX);
	assert_true(s.known);
	baseline_destroy(n);
	baseline_destroy(b);
}

/* The same destination touched again at once (a flow's grains often share a text):
 * known, with the first touch's times; and once it expired and was removed, or the
 * table was reloaded, a touch makes it again rather than finding what was removed. */
static void test_touch_again(void **state)
{
	struct baseline *b = mk(8, HOUR);
	struct baseline_seen s;
	(void)state;

	s = touch(b, BASELINE_HOST, 4, A4, "10.1.2.3", T0);
	assert_false(s.known);
	s = touch(b, BASELINE_SITE, 0, NULL, "10.1.2.3", T0);
	assert_false(s.known);
	s = touch(b, BASELINE_HOST, 4, A4, "10.1.2.3", T0);
	assert_true(s.known);
	assert_int_equal(s.first_us, T0);
	assert_int_equal(s.last_us, T0);
	s = touch(b, BASELINE_SITE, 0, NULL, "10.1.2.3", T0 + 5);
	assert_true(s.known);
	s = touch(b, BASELINE_SITE, 0, NULL, "10.1.2.3", T0 + 6);
	assert_true(s.known);
	assert_int_equal(s.last_us, T0 + 5);
	/* a key that differs only in length or in the last byte is another entry */
	s = touch(b, BASELINE_HOST, 4, A4, "10.1.2.", T0 + 6);
	assert_false(s.known);
	s = touch(b, BASELINE_HOST, 4, A4, "10.1.2.4", T0 + 6);
	assert_false(s.known);
	assert_int_equal(baseline_stats(b)->entries, 4);

	baseline_expire(b, T0 + 3 * HOUR); /* all four go */
	assert_int_equal(baseline_stats(b)->entries, 0);
	s = touch(b, BASELINE_HOST, 4, A4, "10.1.2.4", T0 + 3 * HOUR);
	assert_false(s.known);
	s = touch(b, BASELINE_SITE, 0, NULL, "10.1.2.3", T0 + 3 * HOUR);
	assert_false(s.known);
	assert_int_equal(baseline_stats(b)->entries, 2);
	assert_int_equal(baseline_stats(b)->created, 6);
	baseline_expire(b, T0 + 5 * HOUR);
	assert_int_equal(baseline_stats(b)->entries, 0);
	baseline_expire(b, T0 + 5 * HOUR); /* the lists are intact */
	assert_int_equal(baseline_stats(b)->entries, 0);
	baseline_destroy(b);

	/* full: the entry evicted for a new one is not found again */
	b = mk(2, 0);
	touch(b, BASELINE_HOST, 4, A4, "x", T0);
	touch(b, BASELINE_SITE, 0, NULL, "x", T0);
	s = touch(b, BASELINE_SITE, 0, NULL, "y", T0 + 1); /* evicts host x */
	assert_false(s.known);
	s = touch(b, BASELINE_HOST, 4, A4, "x", T0 + 2);
	assert_false(s.known);
	assert_int_equal(baseline_stats(b)->evictions, 2);
	baseline_destroy(b);
}

static void test_eviction(void **state)
{
	struct baseline *b = mk(3, 0);
	struct baseline_seen s;
	(void)state;

	touch(b, BASELINE_SITE, 0, NULL, "A", T0);
	touch(b, BASELINE_SITE, 0, NULL, "B", T0 + 1);
	touch(b, BASELINE_SITE, 0, NULL, "C", T0 + 2);
	touch(b, BASELINE_SITE, 0, NULL, "A", T0 + 3); /* A refreshed: B is the oldest */
	s = touch(b, BASELINE_SITE, 0, NULL, "D", T0 + 4);
	assert_false(s.known);
	const struct baseline_stats *st = baseline_stats(b);
	assert_int_equal(st->entries, 3);
	assert_int_equal(st->evictions, 1);
	assert_int_equal(st->peak, 3);
	s = touch(b, BASELINE_SITE, 0, NULL, "A", T0 + 5);
	assert_true(s.known);
	assert_int_equal(s.first_us, T0);
	s = touch(b, BASELINE_SITE, 0, NULL, "B", T0 + 6); /* evicted: new again, evicts C */
	assert_false(s.known);
	assert_int_equal(st->evictions, 2);
	s = touch(b, BASELINE_SITE, 0, NULL, "D", T0 + 7);
	assert_true(s.known);
	baseline_destroy(b);
}

/* ---- persistence ------------------------------------------------------------------- */

/* A varied table: both scopes, both families, destination lengths 0, 1 and 255. */
static void fill(struct baseline *b)
{
	char d255[BASELINE_DEST_MAX];
	memset(d255, 'z', sizeof(d255));
	d255[0] = 'y';
	touch(b, BASELINE_HOST, 4, A4, "files.example.net", T0);
	touch(b, BASELINE_HOST, 6, A6, "files.example.net", T0 + 1 * SEC);
	touch(b, BASELINE_SITE, 0, NULL, "files.example.net", T0 + 2 * SEC);
	touch(b, BASELINE_HOST, 4, B4, "x", T0 + 3 * SEC);
	baseline_touch(b, BASELINE_HOST, 4, B4, "", 0, T0 + 4 * SEC, NULL);
	baseline_touch(b, BASELINE_SITE, 0, NULL, d255, sizeof(d255), T0 + 5 * SEC, NULL);
	touch(b, BASELINE_HOST, 4, A4, "files.example.net", T0 + DAY); /* first != last */
	touch(b, BASELINE_HOST, 4, A4, "203.0.113.9:443", T0 + DAY + 1);
}

static void expect_seen(struct baseline *b, enum baseline_scope sc, int fam,
			const uint8_t *src, const char *d, size_t len, uint64_t first,
			uint64_t last)
{
	struct baseline_seen s;
	baseline_touch(b, sc, fam, src, d, len, last, &s);
	assert_true(s.known);
	assert_int_equal(s.first_us, first);
	assert_int_equal(s.last_us, last);
}

static void test_save_load_roundtrip(void **state)
{
	struct fx *f = *state;
	struct baseline *b = mk(64, 30 * DAY), *c = mk(64, 30 * DAY);
	char err[512], tmp[256], again[256];
	char d255[BASELINE_DEST_MAX];

	fill(b);
	assert_int_equal(baseline_save(b, f->path, err, sizeof(err)), 0);
	assert_true(exists(f->path));
	snprintf(tmp, sizeof(tmp), "%s.tmp.%ld", f->path, (long)getpid());
	assert_false(exists(tmp));
	assert_int_equal(count_prefix(f->dir, "baseline.db.tmp", false), 0);
	struct stat st;
	assert_int_equal(stat(f->path, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0600);

	touch(c, BASELINE_SITE, 0, NULL, "to be replaced", T0);
	assert_int_equal(baseline_load(c, f->path, T0 + DAY + 2, err, sizeof(err)), 0);
	assert_non_null(strstr(err, "loaded 7"));
	const struct baseline_stats *cs = baseline_stats(c);
	assert_int_equal(cs->loaded, 7);
	assert_int_equal(cs->load_skipped, 0);
	assert_false(cs->load_absent);
	assert_int_equal(cs->entries, 7);

	/* saving the loaded table gives the same bytes (same records, same order) */
	snprintf(again, sizeof(again), "%s/again.db", f->dir);
	assert_int_equal(baseline_save(c, again, err, sizeof(err)), 0);
	size_t n1, n2;
	uint8_t *p1 = read_file(f->path, &n1), *p2 = read_file(again, &n2);
	assert_int_equal(n1, n2);
	assert_memory_equal(p1, p2, n1);
	free(p1);
	free(p2);

	/* every field as saved */
	memset(d255, 'z', sizeof(d255));
	d255[0] = 'y';
	expect_seen(c, BASELINE_HOST, 4, A4, "files.example.net", 17, T0, T0 + DAY);
	expect_seen(c, BASELINE_HOST, 6, A6, "files.example.net", 17, T0 + SEC, T0 + SEC);
	expect_seen(c, BASELINE_SITE, 0, NULL, "files.example.net", 17, T0 + 2 * SEC,
		    T0 + 2 * SEC);
	expect_seen(c, BASELINE_HOST, 4, B4, "x", 1, T0 + 3 * SEC, T0 + 3 * SEC);
	expect_seen(c, BASELINE_HOST, 4, B4, "", 0, T0 + 4 * SEC, T0 + 4 * SEC);
	expect_seen(c, BASELINE_SITE, 0, NULL, d255, sizeof(d255), T0 + 5 * SEC,
		    T0 + 5 * SEC);
	expect_seen(c, BASELINE_HOST, 4, A4, "203.0.113.9:443", 15, T0 + DAY + 1,
		    T0 + DAY + 1);
	struct baseline_seen s;
	baseline_touch(c, BASELINE_SITE, 0, NULL, "to be replaced", 14, T0, &s);
	assert_false(s.known);

	/* recency survives: the least recently touched is evicted first after a load */
	struct baseline *small = mk(7, 30 * DAY);
	assert_int_equal(baseline_load(small, f->path, T0 + DAY + 2, err, sizeof(err)), 0);
	touch(small, BASELINE_SITE, 0, NULL, "new", T0 + DAY + 3);
	baseline_touch(small, BASELINE_HOST, 4, A4, "files.example.net", 17, T0 + DAY + 4, &s);
	assert_true(s.known); /* touched last before the save: kept */
	baseline_touch(small, BASELINE_HOST, 6, A6, "files.example.net", 17, T0 + DAY + 4, &s);
	assert_false(s.known); /* oldest: evicted by "new" */

	/* an empty table round-trips too */
	struct baseline *e = mk(4, 0);
	assert_int_equal(baseline_save(e, f->path, err, sizeof(err)), 0);
	assert_int_equal(baseline_load(c, f->path, T0, err, sizeof(err)), 0);
	assert_int_equal(baseline_stats(c)->entries, 0);
	assert_int_equal(baseline_stats(c)->loaded, 0);

	baseline_destroy(e);
	baseline_destroy(small);
	baseline_destroy(b);
	baseline_destroy(c);
}

static void test_load_absent_and_io(void **state)
{
	struct fx *f = *state;
	struct baseline *b = mk(8, 0);
	char err[512];

	touch(b, BASELINE_SITE, 0, NULL, "x", T0);
	assert_int_equal(baseline_load(b, f->path, T0, err, sizeof(err)), BASELINE_LOAD_OK);
	assert_true(baseline_stats(b)->load_absent);
	assert_int_equal(baseline_stats(b)->entries, 0);
	assert_non_null(strstr(err, "does not exist"));
	assert_non_null(strstr(err, f->path));

	/* not a regular file: an I/O problem, left where it is */
	assert_int_equal(mkdir(f->path, 0700), 0);
	assert_int_equal(baseline_load(b, f->path, T0, err, sizeof(err)), BASELINE_LOAD_IO);
	assert_non_null(strstr(err, f->path));
	assert_true(exists(f->path));
	assert_int_equal(count_prefix(f->dir, "baseline.db.corrupt-", false), 0);
	assert_false(baseline_stats(b)->load_absent);
	rmdir(f->path);
	baseline_destroy(b);
}

static void test_expired_skipped_and_capacity(void **state)
{
	struct fx *f = *state;
	struct baseline *b = mk(64, 2 * DAY), *c = mk(64, 2 * DAY), *small = mk(2, 2 * DAY);
	struct baseline_seen s;
	char err[512];

	touch(b, BASELINE_SITE, 0, NULL, "a", T0);
	touch(b, BASELINE_SITE, 0, NULL, "b", T0 + DAY);
	touch(b, BASELINE_SITE, 0, NULL, "c", T0 + 2 * DAY);
	touch(b, BASELINE_SITE, 0, NULL, "d", T0 + 3 * DAY);
	assert_int_equal(baseline_save(b, f->path, err, sizeof(err)), 0);

	/* at +3d+1: "a" is 3 days old (expired), "b" 2 days and 1 us (expired) */
	assert_int_equal(baseline_load(c, f->path, T0 + 3 * DAY + 1, err, sizeof(err)), 0);
	assert_int_equal(baseline_stats(c)->loaded, 2);
	assert_int_equal(baseline_stats(c)->load_skipped, 2);
	s = touch(c, BASELINE_SITE, 0, NULL, "a", T0 + 3 * DAY + 1);
	assert_false(s.known);
	s = touch(c, BASELINE_SITE, 0, NULL, "c", T0 + 3 * DAY + 1);
	assert_true(s.known);

	/* more live records than room: the most recently seen are kept, none evicted */
	assert_int_equal(baseline_load(small, f->path, T0 + 3 * DAY, err, sizeof(err)), 0);
	/* at +3d: "a" expired, "b" (exactly 2 days old) alive but the oldest of three */
	assert_int_equal(baseline_stats(small)->loaded, 2);
	assert_int_equal(baseline_stats(small)->load_skipped, 2);
	assert_int_equal(baseline_stats(small)->evictions, 0);
	s = touch(small, BASELINE_SITE, 0, NULL, "d", T0 + 3 * DAY);
	assert_true(s.known);
	s = touch(small, BASELINE_SITE, 0, NULL, "c", T0 + 3 * DAY);
	assert_true(s.known);
	s = touch(small, BASELINE_SITE, 0, NULL, "b", T0 + 3 * DAY);
	assert_false(s.known);
	baseline_destroy(b);
	baseline_destroy(c);
	baseline_destroy(small);
}

static void test_save_failures(void **state)
{
	struct fx *f = *state;
	struct baseline *b = mk(8, 0), *c = mk(8, 0);
	char err[512], p[256], tmp[300];
	size_t n0, n1;

	/* a directory that does not exist */
	snprintf(p, sizeof(p), "%s/no/such/dir/baseline.db", f->dir);
	err[0] = '\0';
	assert_int_equal(baseline_save(b, p, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "cannot create"));
	assert_false(exists(p));

	/* a good file in place, then a save that cannot create its temporary file (a
	 * directory is squatting its name): the old file is untouched */
	fill(b);
	assert_int_equal(baseline_save(b, f->path, err, sizeof(err)), 0);
	uint8_t *before = read_file(f->path, &n0);
	snprintf(tmp, sizeof(tmp), "%s.tmp.%ld", f->path, (long)getpid());
	assert_int_equal(mkdir(tmp, 0700), 0);
	touch(b, BASELINE_SITE, 0, NULL, "one more", T0 + 2 * DAY);
	assert_int_equal(baseline_save(b, f->path, err, sizeof(err)), -1);
	assert_non_null(strstr(err, tmp));
	uint8_t *after = read_file(f->path, &n1);
	assert_int_equal(n0, n1);
	assert_memory_equal(before, after, n0);
	assert_int_equal(rmdir(tmp), 0);
	assert_int_equal(baseline_load(c, f->path, T0 + 2 * DAY, err, sizeof(err)), 0);
	assert_int_equal(baseline_stats(c)->loaded, 7);
	free(before);
	free(after);

	/* the rename fails (a directory is at the target): error, temporary file gone */
	snprintf(p, sizeof(p), "%s/isdir", f->dir);
	assert_int_equal(mkdir(p, 0700), 0);
	snprintf(tmp, sizeof(tmp), "%s/isdir/keep", f->dir);
	write_file(tmp, "k", 1);
	assert_int_equal(baseline_save(b, p, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "rename"));
	assert_int_equal(count_prefix(f->dir, "isdir.tmp", false), 0);
	unlink(tmp);
	rmdir(p);

	/* a relative path works (directory ".") */
	char cwd[512];
	assert_non_null(getcwd(cwd, sizeof(cwd)));
	assert_int_equal(chdir(f->dir), 0);
	assert_int_equal(baseline_save(b, "rel.db", err, sizeof(err)), 0);
	assert_int_equal(chdir(cwd), 0);
	snprintf(p, sizeof(p), "%s/rel.db", f->dir);
	assert_true(exists(p));
	baseline_destroy(b);
	baseline_destroy(c);
}

/* Load a damaged file into a non-empty table: the result code, the message naming both
 * paths, the file set aside and the table empty. */
static void expect_corrupt(struct fx *f, const void *p, size_t n, int want, const char *msg)
{
	struct baseline *b = mk(16, 0);
	char err[1024];

	write_file(f->path, p, n);
	touch(b, BASELINE_SITE, 0, NULL, "stale", T0);
	int rc = baseline_load(b, f->path, T0, err, sizeof(err));
	if (rc != want)
		fail_msg("want result %d, got %d: %s", want, rc, err);
	if (!strstr(err, msg))
		fail_msg("message lacks \"%s\": %s", msg, err);
	assert_non_null(strstr(err, f->path));
	char aside[256];
	snprintf(aside, sizeof(aside), "%s.corrupt-", f->path);
	const char *a = strstr(err, aside);
	assert_non_null(a); /* names the new path */
	char aside_path[256];
	size_t k = 0;
	while (a[k] && a[k] != ',' && k < sizeof(aside_path) - 1) {
		aside_path[k] = a[k];
		k++;
	}
	aside_path[k] = '\0';
	assert_true(exists(aside_path));
	assert_false(exists(f->path));
	assert_int_equal(baseline_stats(b)->entries, 0);
	assert_int_equal(baseline_stats(b)->loaded, 0);
	struct baseline_seen s;
	baseline_touch(b, BASELINE_SITE, 0, NULL, "stale", 5, T0, &s);
	assert_false(s.known);
	assert_int_equal(count_prefix(f->dir, "baseline.db.corrupt-", true), 1);
	baseline_destroy(b);
}

static void test_corrupt_files(void **state)
{
	struct fx *f = *state;
	struct img m;
	static const uint8_t zero[16];

	/* a valid hand-built image loads: the builder follows the format */
	img_header(&m, 1, 2);
	img_record(&m, BASELINE_HOST, 4, A4, 3, 'a', T0, T0 + 5);
	img_record(&m, BASELINE_SITE, 0, zero, 0, 0, T0, T0);
	img_finish(&m);
	write_file(f->path, m.b, m.n);
	{
		struct baseline *b = mk(16, 0);
		char err[512];
		assert_int_equal(baseline_load(b, f->path, T0, err, sizeof(err)), 0);
		assert_int_equal(baseline_stats(b)->loaded, 2);
		expect_seen(b, BASELINE_HOST, 4, A4, "aaa", 3, T0, T0 + 5);
		baseline_destroy(b);
	}
	struct img good = m;

	/* bad magic */
	m = good;
	m.b[0] = 'X';
	expect_corrupt(f, m.b, m.n, BASELINE_LOAD_BAD_MAGIC, "bad magic");
	expect_corrupt(f, "hello", 5, BASELINE_LOAD_BAD_MAGIC, "bad magic");
	expect_corrupt(f, "{\"json\": true}\n", 15, BASELINE_LOAD_BAD_MAGIC, "bad magic");

	/* old (0) and future (2) versions, with valid checksums */
	img_header(&m, 0, 1);
	img_record(&m, BASELINE_HOST, 4, A4, 3, 'a', T0, T0 + 5);
	img_finish(&m);
	expect_corrupt(f, m.b, m.n, BASELINE_LOAD_BAD_VERSION, "version 0");
	img_header(&m, 2, 0);
	img_finish(&m);
	expect_corrupt(f, m.b, m.n, BASELINE_LOAD_BAD_VERSION, "version 2");

	/* truncated, and empty */
	expect_corrupt(f, good.b, good.n - 1, BASELINE_LOAD_TRUNCATED, "truncated");
	expect_corrupt(f, good.b, 20, BASELINE_LOAD_TRUNCATED, "truncated");
	expect_corrupt(f, good.b, 0, BASELINE_LOAD_TRUNCATED, "truncated");

	/* bytes after the stated length */
	m = good;
	m.b[m.n++] = 0;
	expect_corrupt(f, m.b, m.n, BASELINE_LOAD_BAD_LENGTH, "header says");

	/* checksum: a flipped bit in a record, and in the stored CRC */
	m = good;
	m.b[30] ^= 0x10;
	expect_corrupt(f, m.b, m.n, BASELINE_LOAD_BAD_CHECKSUM, "checksum");
	m = good;
	m.b[m.n - 1] ^= 0x80;
	expect_corrupt(f, m.b, m.n, BASELINE_LOAD_BAD_CHECKSUM, "checksum");

	/* record count that does not match the size (valid checksums) */
	img_header(&m, 1, 3);
	img_record(&m, BASELINE_HOST, 4, A4, 3, 'a', T0, T0 + 5);
	img_record(&m, BASELINE_SITE, 0, zero, 0, 0, T0, T0);
	img_finish(&m);
	expect_corrupt(f, m.b, m.n, BASELINE_LOAD_BAD_COUNT, "record count 3");
	img_header(&m, 1, 1);
	img_record(&m, BASELINE_HOST, 4, A4, 3, 'a', T0, T0 + 5);
	img_record(&m, BASELINE_SITE, 0, zero, 0, 0, T0, T0);
	img_finish(&m);
	expect_corrupt(f, m.b, m.n, BASELINE_LOAD_BAD_COUNT, "record count 1");
	img_header(&m, 1, UINT32_MAX);
	img_finish(&m);
	expect_corrupt(f, m.b, m.n, BASELINE_LOAD_BAD_COUNT, "record count");

	/* destination length > 255 */
	img_header(&m, 1, 1);
	img_record(&m, BASELINE_SITE, 0, zero, 256, 'q', T0, T0);
	img_finish(&m);
	expect_corrupt(f, m.b, m.n, BASELINE_LOAD_BAD_RECORD, "destination length 256");
	img_header(&m, 1, 1);
	img_record(&m, BASELINE_SITE, 0, zero, 0, 0, T0, T0);
	m.b[24 + 18] = 0xff; /* length 65535, records far shorter */
	m.b[24 + 19] = 0xff;
	img_finish(&m);
	expect_corrupt(f, m.b, m.n, BASELINE_LOAD_BAD_RECORD, "destination length 65535");

	/* address family not 4/6 (and not 0 for site scope) */
	img_header(&m, 1, 1);
	img_record(&m, BASELINE_HOST, 5, A4, 1, 'a', T0, T0);
	img_finish(&m);
	expect_corrupt(f, m.b, m.n, BASELINE_LOAD_BAD_RECORD, "address family 5");
	img_header(&m, 1, 1);
	img_record(&m, BASELINE_HOST, 0, A4, 1, 'a', T0, T0);
	img_finish(&m);
	expect_corrupt(f, m.b, m.n, BASELINE_LOAD_BAD_RECORD, "address family 0");
	img_header(&m, 1, 1);
	img_record(&m, BASELINE_SITE, 4, zero, 1, 'a', T0, T0);
	img_finish(&m);
	expect_corrupt(f, m.b, m.n, BASELINE_LOAD_BAD_RECORD, "address family 4");

	/* other fields out of range: scope, IPv4 tail, site source, first > last */
	img_header(&m, 1, 1);
	img_record(&m, 2, 4, A4, 1, 'a', T0, T0);
	img_finish(&m);
	expect_corrupt(f, m.b, m.n, BASELINE_LOAD_BAD_RECORD, "unknown scope 2");
	img_header(&m, 1, 1);
	img_record(&m, BASELINE_HOST, 4, A6, 1, 'a', T0, T0);
	img_finish(&m);
	expect_corrupt(f, m.b, m.n, BASELINE_LOAD_BAD_RECORD, "source address");
	img_header(&m, 1, 1);
	img_record(&m, BASELINE_SITE, 0, A4, 1, 'a', T0, T0);
	img_finish(&m);
	expect_corrupt(f, m.b, m.n, BASELINE_LOAD_BAD_RECORD, "source address");
	img_header(&m, 1, 1);
	img_record(&m, BASELINE_HOST, 6, A6, 1, 'a', T0 + 1, T0);
	img_finish(&m);
	expect_corrupt(f, m.b, m.n, BASELINE_LOAD_BAD_RECORD, "first seen after last");

	/* a bad record after good ones: nothing of the file is loaded */
	img_header(&m, 1, 3);
	img_record(&m, BASELINE_HOST, 4, A4, 3, 'a', T0, T0 + 5);
	img_record(&m, BASELINE_SITE, 0, zero, 2, 'b', T0, T0);
	img_record(&m, BASELINE_HOST, 9, A4, 3, 'c', T0, T0);
	img_finish(&m);
	expect_corrupt(f, m.b, m.n, BASELINE_LOAD_BAD_RECORD, "record 2");
}

static void test_too_big(void **state)
{
	struct fx *f = *state;
	struct baseline *b = mk(2, 0);
	char err[1024];
	/* the cap for 2 entries is 24 + 4 + 2 * 291 = 610 bytes */
	size_t n = 611;
	uint8_t *p = calloc(1, n);

	assert_non_null(p);
	memcpy(p, "EGRESSDB", 8);
	write_file(f->path, p, n);
	assert_int_equal(baseline_load(b, f->path, T0, err, sizeof(err)),
			 BASELINE_LOAD_TOO_BIG);
	assert_non_null(strstr(err, "611 bytes"));
	assert_non_null(strstr(err, ".corrupt-"));
	assert_false(exists(f->path));
	assert_int_equal(count_prefix(f->dir, "baseline.db.corrupt-", true), 1);
	/* exactly at the cap is not refused for its size (it fails later, as garbage) */
	write_file(f->path, p, n - 1);
	assert_int_equal(baseline_load(b, f->path, T0, err, sizeof(err)),
			 BASELINE_LOAD_BAD_VERSION);
	assert_int_equal(count_prefix(f->dir, "baseline.db.corrupt-", true), 1);
	free(p);
	baseline_destroy(b);
}

/* A small valid save cut at every byte offset, and with every byte flipped: never a
 * crash (run under ASan), never a partial load. */
static void test_every_truncation_and_flip(void **state)
{
	struct fx *f = *state;
	struct baseline *b = mk(16, 0), *c = mk(16, 0);
	char err[1024];
	size_t n;

	touch(b, BASELINE_HOST, 4, A4, "a.example", T0);
	touch(b, BASELINE_HOST, 6, A6, "bb.example", T0 + 1);
	touch(b, BASELINE_SITE, 0, NULL, "a.example", T0 + 2);
	assert_int_equal(baseline_save(b, f->path, err, sizeof(err)), 0);
	uint8_t *img = read_file(f->path, &n);
	assert_int_equal(n, 24 + 3 * 36 + 9 + 10 + 9 + 4);

	for (size_t cut = 0; cut < n; cut++) {
		write_file(f->path, img, cut);
		touch(c, BASELINE_SITE, 0, NULL, "stale", T0);
		int rc = baseline_load(c, f->path, T0, err, sizeof(err));
		if (rc != BASELINE_LOAD_TRUNCATED)
			fail_msg("cut at %zu: result %d: %s", cut, rc, err);
		assert_int_equal(baseline_stats(c)->entries, 0);
		assert_int_equal(count_prefix(f->dir, "baseline.db.corrupt-", true), 1);
	}
	for (size_t i = 0; i < n; i++) {
		for (int bit = 0; bit < 8; bit += 3) {
			img[i] ^= (uint8_t)(1u << bit);
			write_file(f->path, img, n);
			touch(c, BASELINE_SITE, 0, NULL, "stale", T0);
			int rc = baseline_load(c, f->path, T0, err, sizeof(err));
			img[i] ^= (uint8_t)(1u << bit);
			if (rc == BASELINE_LOAD_OK)
				fail_msg("flip at %zu bit %d loaded: %s", i, bit, err);
			assert_int_equal(baseline_stats(c)->entries, 0);
			assert_int_equal(count_prefix(f->dir, "baseline.db.corrupt-", true), 1);
		}
	}
	/* and the original still loads */
	write_file(f->path, img, n);
	assert_int_equal(baseline_load(c, f->path, T0, err, sizeof(err)), 0);
	assert_int_equal(baseline_stats(c)->entries, 3);
	free(img);
	baseline_destroy(b);
	baseline_destroy(c);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_crc32),
		cmocka_unit_test(test_create_bounds),
		cmocka_unit_test(test_touch_known_new),
		cmocka_unit_test(test_scopes),
		cmocka_unit_test(test_long_dest),
		cmocka_unit_test(test_expiry),
		cmocka_unit_test(test_touch_again),
		cmocka_unit_test(test_eviction),
		cmocka_unit_test_setup_teardown(test_save_load_roundtrip, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_load_absent_and_io, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_expired_skipped_and_capacity, fx_setup,
						fx_teardown),
		cmocka_unit_test_setup_teardown(test_save_failures, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_corrupt_files, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_too_big, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_every_truncation_and_flip, fx_setup,
						fx_teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
