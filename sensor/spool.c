/* spool.c: the on-disk record spool: numbered segment files of checksummed records, a
 * position file replaced atomically, recovery that truncates torn tails and skips damage
 * by resynchronising on the record magic. See spool.h for the format and the policies. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "crc32.h"
#include "le.h"
#include "spool.h"

#define REC_MAGIC 0x52505345u /* "ESPR" */
#define POS_MAGIC 0x50505345u /* "ESPP" */
#define POS_VERSION 1u
#define HDR 20u		      /* record header */
#define POS_SIZE 104u
#define SEG_MIN (64ull << 10)
#define SEG_MAX (64ull << 20)
#define POS_NAME "position"
#define POS_TMP "position.tmp"
#define LOCK_NAME "lock"

struct seg {
	uint64_t num, size;
};

/* A place in the spool: segment, offset, and the lowest seq still acceptable there. */
struct spos {
	uint64_t num, off, floor;
};

struct rhdr {
	uint32_t len;
	uint64_t seq;
};

struct spool {
	char *dir;
	int dirfd, lockfd;
	int wfd, rfd;	       /* newest segment (read-write); one older one (read) */
	uint64_t wnum, rnum;
	enum spool_fsync policy;
	uint64_t max_bytes, seg_max;
	struct seg *segs;      /* existing segments, ascending */
	size_t nsegs, segcap;
	uint64_t next_num;     /* number of the next segment created */
	uint64_t next_seq;
	struct spos rpos;      /* read position, as persisted */
	struct spos counted;   /* damage before this place has been counted */
	bool dirty, dir_dirty; /* unsynced data / directory entries */
	uint8_t meta[SPOOL_META_MAX];
	size_t meta_len;
	uint8_t *scratch;      /* one record */
	size_t scratch_cap;
	/* the last peek: where it started, the place after each record, payload bytes */
	struct spos pk_start, pk_after[SPOOL_BATCH_MAX];
	uint64_t pk_bytes[SPOOL_BATCH_MAX];
	size_t pk_n;
	struct spool_stats st;
};

/* ---- helpers ----------------------------------------------------------------------- */


static bool pos_eq(const struct spos *a, const struct spos *b)
{
	return a->num == b->num && a->off == b->off && a->floor == b->floor;
}

/* Bytes read (short only at end of file), or -1. */
static ssize_t pread_full(int fd, void *buf, size_t n, uint64_t off)
{
	size_t got = 0;

	while (got < n) {
		ssize_t r = pread(fd, (uint8_t *)buf + got, n - got, (off_t)(off + got));
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			return -1;
		if (r == 0)
			break;
		got += (size_t)r;
	}
	return (ssize_t)got;
}

static int pwrite_full(int fd, const void *buf, size_t n, uint64_t off)
{
	size_t done = 0;

	while (done < n) {
		ssize_t r = pwrite(fd, (const uint8_t *)buf + done, n - done,
				   (off_t)(off + done));
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0) {
			if (r == 0)
				errno = EIO;
			return -1;
		}
		done += (size_t)r;
	}
	return 0;
}

static int scratch_reserve(struct spool *s, size_t n)
{
	if (n <= s->scratch_cap)
		return 0;
	uint8_t *p = realloc(s->scratch, n);
	if (!p) {
		errno = ENOMEM;
		return -1;
	}
	s->scratch = p;
	s->scratch_cap = n;
	return 0;
}

static int seg_open(struct spool *s, uint64_t num, int flags)
{
	char name[32];

	snprintf(name, sizeof(name), "%016llx.seg", (unsigned long long)num);
	return openat(s->dirfd, name, flags | O_CLOEXEC, 0600);
}

static void seg_unlink(struct spool *s, uint64_t num)
{
	char name[32];

	snprintf(name, sizeof(name), "%016llx.seg", (unsigned long long)num);
	unlinkat(s->dirfd, name, 0);
}

/* Index of the first segment numbered num or above (nsegs if none). */
static size_t seg_find(const struct spool *s, uint64_t num)
{
	size_t i = 0;

	while (i < s->nsegs && s->segs[i].num < num)
		i++;
	return i;
}

/* A descriptor for reading segment i, or -1. */
static int seg_fd(struct spool *s, size_t i)
{
	uint64_t num = s->segs[i].num;

	if (s->wfd >= 0 && s->wnum == num)
		return s->wfd;
	if (s->rfd >= 0 && s->rnum == num)
		return s->rfd;
	if (s->rfd >= 0)
		close(s->rfd);
	s->rfd = seg_open(s, num, O_RDONLY);
	s->rnum = num;
	return s->rfd;
}

/* Close and unlink every segment numbered below num. */
static void drop_below(struct spool *s, uint64_t num)
{
	size_t k = 0;

	for (; k < s->nsegs && s->segs[k].num < num; k++) {
		uint64_t n = s->segs[k].num;
		if (s->rfd >= 0 && s->rnum == n) {
			close(s->rfd);
			s->rfd = -1;
		}
		if (s->wfd >= 0 && s->wnum == n) {
			close(s->wfd);
			s->wfd = -1;
			s->dirty = false;
		}
		seg_unlink(s, n);
		s->st.disk_bytes -= s->segs[k].size;
	}
	if (k) {
		memmove(s->segs, s->segs + k, (s->nsegs - k) * sizeof(*s->segs));
		s->nsegs -= k;
	}
}

static int dir_sync(struct spool *s)
{
	return fsync(s->dirfd) != 0 && errno != EINVAL ? -1 : 0;
}

/* ---- reading records --------------------------------------------------------------- */

/* Is there a valid record at off (size: the file's length)? 1 yes (*h filled, payload in
 * s->scratch), 0 no, -1 read error. */
static int rec_check(struct spool *s, int fd, uint64_t size, uint64_t off, uint64_t floor,
		     struct rhdr *h)
{
	uint8_t hb[HDR];

	if (off > size || size - off < HDR)
		return 0;
	ssize_t got = pread_full(fd, hb, HDR, off);
	if (got < 0)
		return -1;
	if ((size_t)got < HDR || le_get(hb, 4) != REC_MAGIC)
		return 0;
	h->len = (uint32_t)le_get(hb + 4, 4);
	h->seq = le_get(hb + 8, 8);
	/* the length is checked before anything is allocated for it */
	if (h->len > SPOOL_RECORD_MAX || h->len > size - off - HDR || h->seq < floor)
		return 0;
	if (scratch_reserve(s, h->len ? h->len : 1) != 0)
		return -1;
	got = pread_full(fd, s->scratch, h->len, off + HDR);
	if (got < 0)
		return -1;
	if ((size_t)got < h->len)
		return 0;
	uint32_t crc = crc32_update(0, hb + 4, 12);
	crc = crc32_update(crc, s->scratch, h->len);
	return crc == (uint32_t)le_get(hb + 16, 4);
}

/* The first valid record at or after *off, searching for the magic after damage: 1 with
 * *off moved to it, 0 none before size, -1 read error. */
static int seg_scan(struct spool *s, int fd, uint64_t size, uint64_t *off, uint64_t floor,
		    struct rhdr *h)
{
	uint8_t buf[4096];
	int r = rec_check(s, fd, size, *off, floor, h);

	if (r != 0)
		return r;
	for (uint64_t q = *off + 1; q + HDR <= size;) {
		size_t want = size - q < sizeof(buf) ? (size_t)(size - q) : sizeof(buf);
		ssize_t got = pread_full(fd, buf, want, q);
		if (got < 0)
			return -1;
		if (got < 4)
			return 0; /* shrank under us */
		for (size_t i = 0; i + 4 <= (size_t)got; i++) {
			if (buf[i] != (REC_MAGIC & 0xff) || le_get(buf + i, 4) != REC_MAGIC)
				continue;
			r = rec_check(s, fd, size, q + i, floor, h);
			if (r > 0)
				*off = q + i;
			if (r != 0)
				return r;
		}
		q += (uint64_t)got - 3; /* a magic may straddle the chunks */
	}
	return 0;
}

/* Count the damage [from, to) of segment num once, however often it is passed over. */
static void damage(struct spool *s, uint64_t num, uint64_t from, uint64_t to)
{
	struct spos *c = &s->counted;

	if (num < c->num || (num == c->num && to <= c->off))
		return;
	if (num == c->num && from < c->off)
		from = c->off;
	s->st.corrupt++;
	s->st.corrupt_bytes += to - from;
	c->num = num;
	c->off = to;
}

/* The next valid record from c, across segments: 1 (c moved past it, payload in
 * s->scratch), 0 at the end of the spool, -1 read error. */
static int cur_next(struct spool *s, struct spos *c, struct rhdr *h)
{
	for (;;) {
		size_t i = seg_find(s, c->num);
		if (i == s->nsegs)
			return 0;
		if (s->segs[i].num != c->num) {
			c->num = s->segs[i].num;
			c->off = 0;
		}
		uint64_t size = s->segs[i].size, o = c->off;
		int fd = seg_fd(s, i);
		if (fd < 0)
			return -1;
		int r = o < size ? seg_scan(s, fd, size, &o, c->floor, h) : 0;
		if (r < 0)
			return -1;
		if (r == 0)
			o = size;
		if (o > c->off)
			damage(s, c->num, c->off, o);
		if (r > 0) {
			c->off = o + HDR + h->len;
			c->floor = h->seq + 1;
			return 1;
		}
		if (i + 1 == s->nsegs)
			return 0; /* stay: records appended after the damage are found later */
		c->num = s->segs[i + 1].num;
		c->off = 0;
	}
}

/* ---- position ---------------------------------------------------------------------- */

/* Write p and meta to DIR/position atomically; -1 with errno on failure. */
static int pos_write(struct spool *s, const struct spos *p, const void *meta, size_t len)
{
	uint8_t b[POS_SIZE] = { 0 };
	int fd, e;

	le_put(b, POS_MAGIC, 4);
	le_put(b + 4, POS_VERSION, 4);
	le_put(b + 8, p->num, 8);
	le_put(b + 16, p->off, 8);
	le_put(b + 24, p->floor, 8);
	le_put(b + 32, len, 4);
	if (len)
		memcpy(b + 36, meta, len);
	le_put(b + 100, crc32_update(0, b, 100), 4);

	fd = openat(s->dirfd, POS_TMP, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0)
		return -1;
	if (pwrite_full(fd, b, sizeof(b), 0) != 0 ||
	    (s->policy != SPOOL_FSYNC_NEVER && fdatasync(fd) != 0)) {
		e = errno;
		close(fd);
		unlinkat(s->dirfd, POS_TMP, 0);
		errno = e;
		return -1;
	}
	if (close(fd) != 0 || renameat(s->dirfd, POS_TMP, s->dirfd, POS_NAME) != 0) {
		e = errno;
		unlinkat(s->dirfd, POS_TMP, 0);
		errno = e;
		return -1;
	}
	if (s->policy == SPOOL_FSYNC_ALWAYS && dir_sync(s) != 0)
		return -1;
	return 0;
}

/* 1 read, 0 no file, -1 unreadable or corrupt. */
static int pos_read(struct spool *s, struct spos *p)
{
	uint8_t b[POS_SIZE + 1];
	int fd = openat(s->dirfd, POS_NAME, O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return errno == ENOENT ? 0 : -1;
	ssize_t got = pread_full(fd, b, sizeof(b), 0);
	close(fd);
	if (got != POS_SIZE || le_get(b, 4) != POS_MAGIC || le_get(b + 4, 4) != POS_VERSION ||
	    le_get(b + 100, 4) != crc32_update(0, b, 100) || le_get(b + 32, 4) > SPOOL_META_MAX)
		return -1;
	p->num = le_get(b + 8, 8);
	p->off = le_get(b + 16, 8);
	p->floor = le_get(b + 24, 8);
	s->meta_len = (size_t)le_get(b + 32, 4);
	memcpy(s->meta, b + 36, s->meta_len);
	return 1;
}

/* Persist c with meta, then make it the read position and unlink what lies before it.
 * Nothing changes when the write fails. */
static int pos_commit(struct spool *s, const struct spos *c, const void *meta, size_t len)
{
	uint8_t m[SPOOL_META_MAX];

	if (len)
		memcpy(m, meta, len); /* meta may be s->meta */
	if (pos_write(s, c, m, len) != 0)
		return -1;
	if (!pos_eq(c, &s->rpos))
		s->pk_n = 0; /* a meta change alone keeps the last peek usable */
	s->rpos = *c;
	if (len)
		memcpy(s->meta, m, len);
	s->meta_len = len;
	drop_below(s, c->num);
	return 0;
}

/* The position that empties the spool: the start of the next segment number. */
static struct spos pos_reset(const struct spool *s)
{
	return (struct spos){ .num = s->next_num, .off = 0, .floor = s->next_seq };
}

/* ---- open and recovery ------------------------------------------------------------- */

static int cmp_seg(const void *a, const void *b)
{
	const struct seg *x = a, *y = b;
	return (x->num > y->num) - (x->num < y->num);
}

static int seg_push(struct spool *s, uint64_t num, uint64_t size)
{
	if (s->nsegs == s->segcap) {
		size_t cap = s->segcap ? s->segcap * 2 : 16;
		struct seg *p = realloc(s->segs, cap * sizeof(*p));
		if (!p) {
			errno = ENOMEM;
			return -1;
		}
		s->segs = p;
		s->segcap = cap;
	}
	s->segs[s->nsegs++] = (struct seg){ .num = num, .size = size };
	return 0;
}

/* Collect DIR/<16 hex digits>.seg, ascending. */
static int seg_list(struct spool *s)
{
	int fd = openat(s->dirfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	DIR *d = fd >= 0 ? fdopendir(fd) : NULL;
	struct dirent *de;
	struct stat st;

	if (!d) {
		if (fd >= 0)
			close(fd);
		return -1;
	}
	while ((de = readdir(d)) != NULL) {
		const char *n = de->d_name;
		if (strlen(n) != 20 || strcmp(n + 16, ".seg") != 0 ||
		    strspn(n, "0123456789abcdef") != 16)
			continue;
		if (fstatat(s->dirfd, n, &st, AT_SYMLINK_NOFOLLOW) != 0 || !S_ISREG(st.st_mode))
			continue;
		if (seg_push(s, strtoull(n, NULL, 16), (uint64_t)st.st_size) != 0) {
			closedir(d);
			return -1;
		}
		s->st.disk_bytes += (uint64_t)st.st_size;
	}
	closedir(d);
	if (s->nsegs > 1)
		qsort(s->segs, s->nsegs, sizeof(*s->segs), cmp_seg);
	return 0;
}

static int lock_dir(struct spool *s, char *err, size_t errlen)
{
	char buf[32];

	s->lockfd = openat(s->dirfd, LOCK_NAME, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (s->lockfd < 0) {
		snprintf(err, errlen, "spool %s: cannot open %s/%s: %s", s->dir, s->dir,
			 LOCK_NAME, strerror(errno));
		return -1;
	}
	if (flock(s->lockfd, LOCK_EX | LOCK_NB) != 0) {
		int e = errno;
		ssize_t n = e == EWOULDBLOCK ? pread_full(s->lockfd, buf, sizeof(buf) - 1, 0) : -1;
		long pid = 0;
		if (n > 0) {
			buf[n] = 0;
			pid = strtol(buf, NULL, 10);
		}
		if (e != EWOULDBLOCK)
			snprintf(err, errlen, "spool %s: cannot lock %s/%s: %s", s->dir, s->dir,
				 LOCK_NAME, strerror(e));
		else if (pid > 0)
			snprintf(err, errlen, "spool %s is in use by another egressd (pid %ld, "
				 "lock %s/%s)", s->dir, pid, s->dir, LOCK_NAME);
		else
			snprintf(err, errlen, "spool %s is in use by another egressd (lock %s/%s)",
				 s->dir, s->dir, LOCK_NAME);
		return -1;
	}
	int n = snprintf(buf, sizeof(buf), "%ld\n", (long)getpid());
	if (ftruncate(s->lockfd, 0) != 0 || pwrite_full(s->lockfd, buf, (size_t)n, 0) != 0) {
		snprintf(err, errlen, "spool %s: cannot write %s/%s: %s", s->dir, s->dir,
			 LOCK_NAME, strerror(errno));
		return -1;
	}
	return 0;
}

/* Scan from the read position to the end: count the pending records, count damage,
 * truncate a torn tail, find the next seq. */
static int recover(struct spool *s, char *err, size_t errlen)
{
	uint64_t floor = s->rpos.floor;
	struct rhdr h;
	size_t i = seg_find(s, s->rpos.num);
	int fd, e;

	if (i == s->nsegs || s->segs[i].num != s->rpos.num)
		s->rpos.off = 0; /* that segment is gone: its successor from the start */
	else if (s->rpos.off > s->segs[i].size)
		s->rpos.off = s->segs[i].size;
	for (; i < s->nsegs; i++) {
		struct seg *g = &s->segs[i];
		bool newest = i + 1 == s->nsegs;
		uint64_t off = g->num == s->rpos.num ? s->rpos.off : 0;
		fd = seg_open(s, g->num, newest ? O_RDWR : O_RDONLY);
		if (fd < 0)
			goto io;
		for (;;) {
			uint64_t o = off;
			int r = off < g->size ? seg_scan(s, fd, g->size, &o, floor, &h) : 0;
			if (r < 0)
				goto io_close;
			if (r == 0 && off < g->size && newest) {
				s->st.torn++;
				s->st.torn_bytes += g->size - off;
				s->st.disk_bytes -= g->size - off;
				if (ftruncate(fd, (off_t)off) != 0 ||
				    (s->policy != SPOOL_FSYNC_NEVER && fdatasync(fd) != 0))
					goto io_close;
				g->size = off;
				break;
			}
			if (r == 0) {
				if (off < g->size)
					damage(s, g->num, off, g->size);
				break;
			}
			if (o > off)
				damage(s, g->num, off, o);
			s->st.pending++;
			s->st.pending_bytes += h.len;
			floor = h.seq + 1;
			off = o + HDR + h.len;
		}
		if (newest) {
			s->wfd = fd;
			s->wnum = g->num;
			s->counted = (struct spos){ .num = g->num, .off = g->size };
		} else {
			close(fd);
		}
	}
	s->next_seq = floor > 1 ? floor : 1;
	s->next_num = s->nsegs ? s->segs[s->nsegs - 1].num + 1 : 1;
	if (s->rpos.num > s->next_num)
		s->next_num = s->rpos.num;
	s->st.recovered = s->st.pending;
	return 0;
io_close:
	e = errno;
	close(fd);
	errno = e;
io:
	snprintf(err, errlen, "spool %s: cannot recover segment %016llx.seg: %s", s->dir,
		 (unsigned long long)s->segs[i].num, strerror(errno));
	return -1;
}

struct spool *spool_open(const char *dir, uint64_t max_bytes, enum spool_fsync policy,
			 char *err, size_t errlen)
{
	struct spool *s;
	int pr;

	if (max_bytes == 0 || (unsigned)policy > SPOOL_FSYNC_NEVER) {
		snprintf(err, errlen, "spool %s: max size must be above 0 and the fsync policy "
			 "batch, always or never", dir);
		return NULL;
	}
	s = calloc(1, sizeof(*s));
	if (!s || !(s->dir = strdup(dir))) {
		snprintf(err, errlen, "spool %s: out of memory", dir);
		free(s);
		return NULL;
	}
	s->dirfd = s->lockfd = s->wfd = s->rfd = -1;
	s->policy = policy;
	s->max_bytes = max_bytes;
	s->seg_max = max_bytes / 8;
	if (s->seg_max < SEG_MIN)
		s->seg_max = SEG_MIN;
	if (s->seg_max > SEG_MAX)
		s->seg_max = SEG_MAX;

	if (mkdir(dir, 0700) != 0 && errno != EEXIST) {
		snprintf(err, errlen, "spool %s: cannot create the directory: %s", dir,
			 strerror(errno));
		goto fail;
	}
	s->dirfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (s->dirfd < 0) {
		snprintf(err, errlen, "spool %s: cannot open the directory: %s", dir,
			 strerror(errno));
		goto fail;
	}
	if (lock_dir(s, err, errlen) != 0)
		goto fail;
	unlinkat(s->dirfd, POS_TMP, 0);
	if (seg_list(s) != 0) {
		snprintf(err, errlen, "spool %s: cannot list the segments: %s", dir,
			 strerror(errno));
		goto fail;
	}
	pr = pos_read(s, &s->rpos);
	if (pr > 0) {
		drop_below(s, s->rpos.num); /* consumed, not yet unlinked at a crash */
	} else {
		if (pr < 0 || s->nsegs)
			s->st.position_reset++;
		s->meta_len = 0;
		s->rpos = (struct spos){ .num = s->nsegs ? s->segs[0].num : 1 };
	}
	if (recover(s, err, errlen) != 0)
		goto fail;
	if (s->st.pending == 0 && s->nsegs) {
		struct spos c = pos_reset(s);
		if (pos_commit(s, &c, s->meta, s->meta_len) != 0) {
			snprintf(err, errlen, "spool %s: cannot write %s/%s: %s", dir, dir,
				 POS_NAME, strerror(errno));
			goto fail;
		}
	}
	return s;
fail:
	spool_close(s);
	return NULL;
}

/* ---- appending --------------------------------------------------------------------- */

/* Start segment next_num as the newest, after syncing the one it replaces. */
static int seg_start(struct spool *s)
{
	if (s->wfd >= 0) {
		if (s->dirty && s->policy != SPOOL_FSYNC_NEVER && fdatasync(s->wfd) != 0)
			return -1;
		close(s->wfd);
		s->wfd = -1;
		s->dirty = false;
	}
	if (seg_push(s, s->next_num, 0) != 0)
		return -1;
	s->wfd = seg_open(s, s->next_num, O_RDWR | O_CREAT | O_EXCL);
	if (s->wfd < 0) {
		s->nsegs--;
		return -1;
	}
	s->wnum = s->next_num++;
	s->dir_dirty = true;
	if (s->policy == SPOOL_FSYNC_ALWAYS && dir_sync(s) != 0)
		return -1; /* the caller drops the new segment */
	return 0;
}

int spool_append(struct spool *s, const void *data, size_t len)
{
	uint64_t need = HDR + (uint64_t)len;
	bool fresh = false;

	if (len > SPOOL_RECORD_MAX)
		return SPOOL_TOOBIG;
	if (s->st.disk_bytes + need > s->max_bytes) {
		s->st.full++;
		return SPOOL_FULL;
	}
	if (s->wfd < 0 || (s->segs[s->nsegs - 1].size > 0 &&
			   s->segs[s->nsegs - 1].size + need > s->seg_max)) {
		fresh = true;
		if (seg_start(s) != 0)
			goto fail;
	}
	struct seg *g = &s->segs[s->nsegs - 1];
	uint8_t *p;
	if (scratch_reserve(s, (size_t)need) != 0)
		goto fail;
	p = s->scratch;
	le_put(p, REC_MAGIC, 4);
	le_put(p + 4, len, 4);
	le_put(p + 8, s->next_seq, 8);
	if (len)
		memcpy(p + HDR, data, len);
	le_put(p + 16, crc32_update(crc32_update(0, p + 4, 12), p + HDR, len), 4);
	if (pwrite_full(s->wfd, p, (size_t)need, g->size) != 0 ||
	    (s->policy == SPOOL_FSYNC_ALWAYS && fdatasync(s->wfd) != 0)) {
		int e = errno;
		if (ftruncate(s->wfd, (off_t)g->size) != 0) {
			/* left for the next append to overwrite, or recovery to cut */
		}
		errno = e;
		goto fail;
	}
	g->size += need;
	s->st.disk_bytes += need;
	s->st.appended++;
	s->st.pending++;
	s->st.pending_bytes += len;
	s->next_seq++;
	s->dirty = true;
	return SPOOL_OK;
fail:;
	int e = errno;
	if (fresh && s->wfd >= 0 && s->nsegs && s->segs[s->nsegs - 1].num == s->wnum &&
	    s->segs[s->nsegs - 1].size == 0) {
		/* leave no empty segment behind */
		close(s->wfd);
		s->wfd = -1;
		s->dirty = false;
		seg_unlink(s, s->segs[--s->nsegs].num);
	}
	s->st.write_errors++;
	errno = e;
	return SPOOL_IOERR;
}

int spool_sync(struct spool *s)
{
	if (s->policy == SPOOL_FSYNC_NEVER)
		return SPOOL_OK;
	if (s->dirty && s->wfd >= 0 && fdatasync(s->wfd) != 0)
		return SPOOL_IOERR;
	s->dirty = false;
	if (s->dir_dirty && dir_sync(s) != 0)
		return SPOOL_IOERR;
	s->dir_dirty = false;
	return SPOOL_OK;
}

/* ---- reading and consuming --------------------------------------------------------- */

int spool_peek(struct spool *s, struct spool_batch *b, size_t max_records, size_t max_bytes)
{
	struct spos c = s->rpos;
	struct rhdr h;
	size_t used = 0;

	b->n = 0;
	s->pk_n = 0;
	s->pk_start = c;
	if (max_records > SPOOL_BATCH_MAX)
		max_records = SPOOL_BATCH_MAX;
	while (b->n < max_records) {
		int r = cur_next(s, &c, &h);
		if (r < 0)
			goto fail;
		if (r == 0) { /* read to the end: the counts are exact */
			s->st.pending = b->n;
			s->st.pending_bytes = used;
			break;
		}
		if (b->n > 0 && used + h.len > max_bytes)
			break;
		if (used + h.len > b->cap) {
			size_t cap = b->cap ? b->cap : 4096;
			while (cap < used + h.len)
				cap *= 2;
			uint8_t *p = realloc(b->buf, cap);
			if (!p) {
				errno = ENOMEM;
				goto fail;
			}
			b->buf = p;
			b->cap = cap;
		}
		if (h.len)
			memcpy(b->buf + used, s->scratch, h.len);
		b->rec[b->n] = (struct spool_rec){ .len = h.len, .seq = h.seq };
		used += h.len;
		s->pk_after[b->n] = c;
		s->pk_bytes[b->n] = used;
		b->n++;
	}
	used = 0;
	for (size_t i = 0; i < b->n; i++) {
		b->rec[i].data = b->buf + used;
		used += b->rec[i].len;
	}
	s->pk_n = b->n;
	return (int)b->n;
fail:
	b->n = 0;
	s->pk_n = 0;
	return SPOOL_IOERR;
}

int spool_consume_meta(struct spool *s, size_t n, const void *meta, size_t len)
{
	struct spos c = s->rpos;
	uint64_t bytes = 0;
	size_t done = 0;
	struct rhdr h;

	if (len > SPOOL_META_MAX)
		return SPOOL_TOOBIG;
	if (n && s->pk_n && pos_eq(&s->pk_start, &s->rpos)) {
		done = n < s->pk_n ? n : s->pk_n;
		c = s->pk_after[done - 1];
		bytes = s->pk_bytes[done - 1];
	}
	for (; done < n; done++) {
		int r = cur_next(s, &c, &h);
		if (r < 0)
			return SPOOL_IOERR;
		if (r == 0)
			break;
		bytes += h.len;
	}
	bool empty = s->st.pending <= done;
	if (empty) {
		c = pos_reset(s); /* unlinks every segment */
	} else {
		/* at the end of an older segment: start the next, so that one is unlinked */
		size_t i = seg_find(s, c.num);
		while (i + 1 < s->nsegs && s->segs[i].num == c.num && c.off >= s->segs[i].size) {
			c.num = s->segs[++i].num;
			c.off = 0;
		}
	}
	if (pos_commit(s, &c, meta, len) != 0)
		return SPOOL_IOERR;
	s->st.consumed += done;
	s->st.pending = empty ? 0 : s->st.pending - done;
	s->st.pending_bytes = empty || s->st.pending_bytes < bytes ? 0 :
				      s->st.pending_bytes - bytes;
	return SPOOL_OK;
}

int spool_consume(struct spool *s, size_t n)
{
	if (n == 0)
		return SPOOL_OK;
	return spool_consume_meta(s, n, s->meta, s->meta_len);
}

int spool_meta_set(struct spool *s, const void *meta, size_t len)
{
	return spool_consume_meta(s, 0, meta, len);
}

size_t spool_meta_get(const struct spool *s, void *out, size_t cap)
{
	if (s->meta_len)
		memcpy(out, s->meta, s->meta_len < cap ? s->meta_len : cap);
	return s->meta_len;
}

uint64_t spool_pending(const struct spool *s)
{
	return s->st.pending;
}

const struct spool_stats *spool_stats(const struct spool *s)
{
	return &s->st;
}

void spool_batch_free(struct spool_batch *b)
{
	free(b->buf);
	b->buf = NULL;
	b->cap = 0;
	b->n = 0;
}

void spool_close(struct spool *s)
{
	if (!s)
		return;
	if (s->wfd >= 0) {
		if (s->dirty && s->policy != SPOOL_FSYNC_NEVER)
			fdatasync(s->wfd);
		close(s->wfd);
	}
	if (s->rfd >= 0)
		close(s->rfd);
	if (s->lockfd >= 0)
		close(s->lockfd); /* releases the flock */
	if (s->dirfd >= 0)
		close(s->dirfd);
	free(s->segs);
	free(s->scratch);
	free(s->dir);
	free(s);
}
