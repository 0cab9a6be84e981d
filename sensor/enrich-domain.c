/* enrich-domain.c: registered domains through libpsl (the only file that includes it),
 * domain sets matched by suffix on label boundaries, the category lists, and cloud
 * storage tenants read from virtual-hosted object-store names. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include <libpsl.h>

#include "enrich-domain.h"
#include "siphash.h"

/* ---- Small helpers --------------------------------------------------------------------- */

static void err_set(char *err, size_t errlen, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static void err_set(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;
	if (!err || errlen == 0)
		return;
	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
}

/* Append one problem as a line "message\n" (config.c's convention); a message that
 * does not fit is cut, and a full buffer keeps the lines it has. */
static void err_append(char *err, size_t errlen, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static void err_append(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;
	if (!err || errlen == 0)
		return;
	size_t used = strnlen(err, errlen);
	if (used + 2 >= errlen) {
		err[used < errlen ? used : errlen - 1] = '\0';
		return;
	}
	va_start(ap, fmt);
	vsnprintf(err + used, errlen - used, fmt, ap);
	va_end(ap);
	used = strlen(err);
	if (used + 1 < errlen) {
		err[used] = '\n';
		err[used + 1] = '\0';
	}
}

static inline char lower(char c)
{
	return c >= 'A' && c <= 'Z' ? (char)(c - 'A' + 'a') : c;
}

static inline bool is_digit(char c)
{
	return c >= '0' && c <= '9';
}

static inline bool is_alnum(char c)
{
	return (c >= 'a' && c <= 'z') || is_digit(c);
}

/* a-z 0-9 '-' '_': the bytes of a label. '_' is not in RFC 952 host names but is in
 * real DNS names (RFC 2782 service labels, RFC 8552) and in SNI seen in the wild. */
static inline bool is_label_char(char c)
{
	return is_alnum(c) || c == '-' || c == '_';
}

/* Quote text for a message: at most 80 bytes, unprintable bytes as '?'. */
static const char *quote(const char *s, size_t len, char *buf, size_t bufsz)
{
	size_t n = 0;
	for (size_t i = 0; i < len && n + 4 < bufsz; i++) {
		if (n >= 80) {
			memcpy(buf + n, "...", 3);
			n += 3;
			break;
		}
		unsigned char c = (unsigned char)s[i];
		buf[n++] = c >= 0x20 && c < 0x7f ? (char)c : '?';
	}
	buf[n] = '\0';
	return buf;
}

static bool has_suffix(const char *s, size_t len, const char *suf, size_t *prefix)
{
	size_t sl = strlen(suf);
	if (len <= sl || memcmp(s + len - sl, suf, sl) != 0)
		return false;
	*prefix = len - sl;
	return true;
}

static bool has_prefix(const char *s, size_t len, const char *pre)
{
	size_t pl = strlen(pre);
	return len >= pl && memcmp(s, pre, pl) == 0;
}

/* memrchr and memmem are GNU extensions; egressd builds with _DEFAULT_SOURCE only. */
static const char *last_byte(const char *s, char c, size_t len)
{
	while (len-- > 0)
		if (s[len] == c)
			return s + len;
	return NULL;
}

static bool contains(const char *s, size_t len, const char *needle)
{
	size_t nl = strlen(needle);
	for (size_t i = 0; i + nl <= len; i++)
		if (memcmp(s + i, needle, nl) == 0)
			return true;
	return false;
}

static bool all_digits(const char *s, size_t len)
{
	if (len == 0)
		return false;
	for (size_t i = 0; i < len; i++)
		if (!is_digit(s[i]))
			return false;
	return true;
}

/* Normalise name[0..len) into out (ENRICH_NAME_MAX + 1 bytes): lowercase, one trailing
 * dot dropped, then check it is a host name: 1..253 characters, labels of 1..63 bytes
 * of is_label_char (RFC 1035 2.3.4, RFC 1123 2.1). err may be NULL. */
static bool name_normalise(const char *name, size_t len, char *out, size_t *outlen, char *err,
			   size_t errlen)
{
	char q[96];
	if (len > 0 && name[len - 1] == '.')
		len--;
	if (len == 0) {
		err_set(err, errlen, "empty name");
		return false;
	}
	if (len > ENRICH_NAME_MAX) {
		err_set(err, errlen, "'%s': longer than %d characters",
			quote(name, len, q, sizeof(q)), ENRICH_NAME_MAX);
		return false;
	}
	size_t label = 0;
	for (size_t i = 0; i < len; i++) {
		char c = lower(name[i]);
		out[i] = c;
		if (c == '.') {
			if (label == 0) {
				err_set(err, errlen, "'%s': empty label",
					quote(name, len, q, sizeof(q)));
				return false;
			}
			label = 0;
			continue;
		}
		if (!is_label_char(c)) {
			unsigned char b = (unsigned char)name[i];
			if (b >= 0x21 && b < 0x7f)
				err_set(err, errlen,
					"'%s': character '%c' is not allowed in a domain name "
					"(only a-z, 0-9, '-', '_' and '.')",
					quote(name, len, q, sizeof(q)), (char)b);
			else
				err_set(err, errlen,
					"'%s': byte 0x%02x is not allowed in a domain name "
					"(only a-z, 0-9, '-', '_' and '.')",
					quote(name, len, q, sizeof(q)), b);
			return false;
		}
		if (++label > ENRICH_LABEL_MAX) {
			err_set(err, errlen, "'%s': a label is longer than %d characters",
				quote(name, len, q, sizeof(q)), ENRICH_LABEL_MAX);
			return false;
		}
	}
	if (label == 0) { /* "example.." */
		err_set(err, errlen, "'%s': empty label", quote(name, len, q, sizeof(q)));
		return false;
	}
	out[len] = '\0';
	*outlen = len;
	return true;
}

/* ---- Registered domain ------------------------------------------------------------ */

struct enrich_psl {
	psl_ctx_t *owned; /* from a file; NULL for the built-in list */
	const psl_ctx_t *ctx;
	char source[192];
};

struct enrich_psl *enrich_psl_open_path(const char *path, char *err, size_t errlen)
{
	struct enrich_psl *p = calloc(1, sizeof(*p));
	if (!p) {
		err_set(err, errlen, "public suffix list: out of memory");
		return NULL;
	}
	err_set(err, errlen, "%s", "");
	if (!path) {
		path = psl_dist_filename();
		if (!path || !*path)
			path = ENRICH_PSL_DEBIAN_FILE;
	}
	errno = 0;
	p->owned = psl_load_file(path);
	if (p->owned) {
		p->ctx = p->owned;
		snprintf(p->source, sizeof(p->source), "%s", path);
		return p;
	}
	int e = errno;
	p->ctx = psl_builtin();
	if (!p->ctx) {
		err_set(err, errlen,
			"public suffix list: cannot load %s (%s) and libpsl has no built-in list",
			path, e ? strerror(e) : "not a PSL file");
		free(p);
		return NULL;
	}
	char day[32] = "unknown date";
	time_t t = psl_builtin_file_time();
	struct tm tm;
	if (t > 0 && gmtime_r(&t, &tm))
		strftime(day, sizeof(day), "%Y-%m-%d", &tm);
	snprintf(p->source, sizeof(p->source), "libpsl built-in (%s)", day);
	err_set(err, errlen,
		"public suffix list: cannot load %s (%s); using libpsl's built-in list of %s",
		path, e ? strerror(e) : "not a PSL file", day);
	return p;
}

struct enrich_psl *enrich_psl_open(char *err, size_t errlen)
{
	return enrich_psl_open_path(NULL, err, errlen);
}

void enrich_psl_close(struct enrich_psl *p)
{
	if (!p)
		return;
	psl_free(p->owned);
	free(p);
}

const char *enrich_psl_source(const struct enrich_psl *p)
{
	return p ? p->source : "";
}

bool enrich_registered_domain(const struct enrich_psl *p, const char *name, size_t len,
			      char *out, size_t outsz)
{
	char buf[ENRICH_NAME_MAX + 1];
	size_t n;
	if (out && outsz)
		out[0] = '\0';
	if (!p || !name || !out || outsz == 0)
		return false;
	if (!name_normalise(name, len, buf, &n, NULL, 0))
		return false;
	/* An all-digit last label: an IPv4 literal (dotted, or inet_aton's shorter forms);
	 * no top-level domain is all-numeric (RFC 3696 2). IPv6 fails on ':' above. */
	const char *dot = last_byte(buf, '.', n);
	const char *last = dot ? dot + 1 : buf;
	if (all_digits(last, n - (size_t)(last - buf)))
		return false;
	const char *r = psl_registrable_domain(p->ctx, buf);
	if (!r)
		return false;
	size_t rl = strlen(r);
	if (rl >= outsz)
		return false;
	memcpy(out, r, rl + 1);
	return true;
}

/* ---- A fixed-capacity string table ----------------------------------------------
 * Entries in insertion order, text in one arena sized for the worst case (untouched
 * pages of a large calloc cost no memory), found through an open-addressing index of
 * entry numbers at most half full (linear probing, no deletion). */

struct strtab_entry {
	uint32_t off;
	uint32_t hash;
	uint16_t len;
};

struct strtab {
	struct strtab_entry *e;
	uint32_t *index; /* entry number + 1; 0 empty */
	char *arena;
	size_t arena_used, arena_cap;
	uint32_t cap, count, mask;
	uint16_t maxlen, longest;
	struct khash_key key;
};

static void strtab_fini(struct strtab *t)
{
	free(t->e);
	free(t->index);
	free(t->arena);
	memset(t, 0, sizeof(*t));
}

static bool strtab_init(struct strtab *t, uint32_t cap, uint16_t maxlen)
{
	memset(t, 0, sizeof(*t));
	uint32_t slots = 16;
	while (slots < cap * 2u)
		slots <<= 1;
	t->e = calloc(cap, sizeof(*t->e));
	t->index = calloc(slots, sizeof(*t->index));
	t->arena_cap = (size_t)cap * ((size_t)maxlen + 1);
	t->arena = calloc(t->arena_cap, 1);
	if (!t->e || !t->index || !t->arena) {
		strtab_fini(t);
		return false;
	}
	t->cap = cap;
	t->mask = slots - 1;
	t->maxlen = maxlen;
	khash_key_random(&t->key);
	return true;
}

/* The entry's text, or NULL; *slot is where the probe stopped (for an insert). */
static const char *strtab_find(const struct strtab *t, const char *s, size_t len, uint32_t h,
			       uint32_t *slot)
{
	uint32_t pos = h & t->mask;
	for (uint32_t k = 0; k <= t->mask; k++, pos = (pos + 1) & t->mask) {
		uint32_t id = t->index[pos];
		if (id == 0)
			break;
		const struct strtab_entry *e = &t->e[id - 1];
		if (e->hash == h && e->len == len && memcmp(t->arena + e->off, s, len) == 0) {
			if (slot)
				*slot = pos;
			return t->arena + e->off;
		}
	}
	if (slot)
		*slot = pos;
	return NULL;
}

static const char *strtab_lookup(const struct strtab *t, const char *s, size_t len)
{
	if (t->count == 0 || len > t->longest)
		return NULL;
	return strtab_find(t, s, len, (uint32_t)khash(&t->key, s, len), NULL);
}

/* 1 added, 0 present, -1 full. len <= maxlen. */
static int strtab_add(struct strtab *t, const char *s, size_t len)
{
	uint32_t h = (uint32_t)khash(&t->key, s, len), slot;
	if (strtab_find(t, s, len, h, &slot))
		return 0;
	if (t->count >= t->cap || t->arena_used + len + 1 > t->arena_cap)
		return -1;
	struct strtab_entry *e = &t->e[t->count];
	e->off = (uint32_t)t->arena_used;
	e->hash = h;
	e->len = (uint16_t)len;
	memcpy(t->arena + t->arena_used, s, len);
	t->arena[t->arena_used + len] = '\0';
	t->arena_used += len + 1;
	t->index[slot] = ++t->count;
	if (len > t->longest)
		t->longest = (uint16_t)len;
	return 1;
}

/* ---- Domain sets -------------------------------------------------------------------- */

struct domain_set {
	struct strtab t;
};

struct domain_set *domain_set_create(uint32_t capacity)
{
	if (capacity == 0 || capacity > DOMAIN_SET_MAX_CAPACITY)
		return NULL;
	struct domain_set *set = calloc(1, sizeof(*set));
	if (!set)
		return NULL;
	if (!strtab_init(&set->t, capacity, ENRICH_NAME_MAX)) {
		free(set);
		return NULL;
	}
	return set;
}

void domain_set_destroy(struct domain_set *set)
{
	if (!set)
		return;
	strtab_fini(&set->t);
	free(set);
}

static int dset_add(struct domain_set *set, const char *text, size_t len, char *err,
		    size_t errlen)
{
	char buf[ENRICH_NAME_MAX + 1], q[96];
	size_t n;
	const char *s = text;
	size_t sl = len;
	if (sl >= 2 && s[0] == '*' && s[1] == '.') {
		s += 2;
		sl -= 2;
	} else if (sl >= 1 && s[0] == '.') {
		s++;
		sl--;
	}
	if (sl == 0 || (sl == 1 && s[0] == '.')) {
		err_set(err, errlen, "'%s': no domain", quote(text, len, q, sizeof(q)));
		return -1;
	}
	if (!name_normalise(s, sl, buf, &n, err, errlen))
		return -1;
	int r = strtab_add(&set->t, buf, n);
	if (r < 0) {
		err_set(err, errlen, "'%s': the set is full (%u domains)", buf, set->t.cap);
		return -2;
	}
	return r;
}

int domain_set_add(struct domain_set *set, const char *domain, char *err, size_t errlen)
{
	if (!set || !domain) {
		err_set(err, errlen, "no set or no domain");
		return -1;
	}
	int r = dset_add(set, domain, strlen(domain), err, errlen);
	return r < 0 ? -1 : r;
}

const char *domain_set_match(const struct domain_set *set, const char *name, size_t len)
{
	char buf[ENRICH_NAME_MAX + 1];
	if (!set || !name || set->t.count == 0)
		return NULL;
	if (len > 0 && name[len - 1] == '.')
		len--;
	if (len == 0 || len > ENRICH_NAME_MAX)
		return NULL;
	for (size_t i = 0; i < len; i++)
		buf[i] = lower(name[i]);
	size_t off = 0;
	for (int labels = 0; labels < ENRICH_LABELS_MAX && off < len; labels++) {
		const char *hit = strtab_lookup(&set->t, buf + off, len - off);
		if (hit)
			return hit;
		const char *dot = memchr(buf + off, '.', len - off);
		if (!dot)
			break;
		off = (size_t)(dot - buf) + 1;
	}
	return NULL;
}

uint32_t domain_set_count(const struct domain_set *set)
{
	return set ? set->t.count : 0;
}

const char *domain_set_entry(const struct domain_set *set, uint32_t i)
{
	if (!set || i >= set->t.count)
		return NULL;
	return set->t.arena + set->t.e[i].off;
}

/* One line of a list file (without its newline): 0 loaded or nothing to load, 1 a
 * problem, -1 the set is full and the load ends. */
static int list_line(struct domain_set *set, const char *path, unsigned long lineno,
		     char *line, size_t n, char *err, size_t errlen)
{
	char msg[384];
	if (n > 0 && line[n - 1] == '\r')
		n--;
	char *hash = memchr(line, '#', n);
	if (hash)
		n = (size_t)(hash - line);
	size_t a = 0;
	while (a < n && (line[a] == ' ' || line[a] == '\t'))
		a++;
	while (n > a && (line[n - 1] == ' ' || line[n - 1] == '\t'))
		n--;
	if (a == n)
		return 0;
	for (size_t i = a; i < n; i++) {
		if (line[i] == ' ' || line[i] == '\t') {
			err_append(err, errlen, "%s:%lu: more than one name (one domain per line)",
				   path, lineno);
			return 1;
		}
	}
	int r = dset_add(set, line + a, n - a, msg, sizeof(msg));
	if (r >= 0)
		return 0;
	err_append(err, errlen, "%s:%lu: %s", path, lineno, msg);
	return r == -2 ? -1 : 1;
}

int domain_set_load_file(struct domain_set *set, const char *path, char *err, size_t errlen)
{
	char line[DOMAIN_LIST_MAX_LINE];
	struct stat st;
	if (!set || !path) {
		err_append(err, errlen, "no set or no path");
		return 1;
	}
	FILE *f = fopen(path, "re");
	if (!f) {
		err_append(err, errlen, "%s: %s", path, strerror(errno));
		return 1;
	}
	if (fstat(fileno(f), &st) != 0 || !S_ISREG(st.st_mode)) {
		err_append(err, errlen, "%s: not a regular file", path);
		fclose(f);
		return 1;
	}
	if (st.st_size > (off_t)DOMAIN_LIST_MAX_FILE) {
		err_append(err, errlen, "%s: %lld bytes, over the %u MiB a domain list may have",
			   path, (long long)st.st_size, DOMAIN_LIST_MAX_FILE >> 20);
		fclose(f);
		return 1;
	}
	int problems = 0, c, r = 0;
	unsigned long lineno = 1;
	size_t n = 0, total = 0;
	bool too_long = false;
	while ((c = getc(f)) != EOF) {
		if (++total > DOMAIN_LIST_MAX_FILE) { /* grew since fstat */
			err_append(err, errlen, "%s: over the %u MiB a domain list may have", path,
				   DOMAIN_LIST_MAX_FILE >> 20);
			problems++;
			goto out;
		}
		if (c != '\n') {
			if (n < sizeof(line))
				line[n++] = (char)c;
			else
				too_long = true;
			continue;
		}
		if (too_long) {
			err_append(err, errlen, "%s:%lu: line longer than %u bytes", path, lineno,
				   DOMAIN_LIST_MAX_LINE);
			problems++;
		} else if ((r = list_line(set, path, lineno, line, n, err, errlen)) != 0) {
			problems++;
			if (r < 0)
				goto out;
		}
		lineno++;
		n = 0;
		too_long = false;
	}
	if (ferror(f)) {
		err_append(err, errlen, "%s:%lu: read error", path, lineno);
		problems++;
	} else if (too_long) {
		err_append(err, errlen, "%s:%lu: line longer than %u bytes", path, lineno,
			   DOMAIN_LIST_MAX_LINE);
		problems++;
	} else if (n > 0 && list_line(set, path, lineno, line, n, err, errlen) != 0) {
		problems++;
	}
out:
	fclose(f);
	return problems;
}

/* ---- Categories ----------------------------------------------------------------- */

static const char *const category_names[ENRICH_CAT__COUNT] = {
	[ENRICH_CAT_NONE] = "none",
	[ENRICH_CAT_CLOUD_STORAGE] = "cloud_storage",
	[ENRICH_CAT_PASTE] = "paste",
	[ENRICH_CAT_CODE_REPO] = "code_repository",
	[ENRICH_CAT_WEBHOOK] = "webhook",
	[ENRICH_CAT_FILE_DROP] = "file_drop",
	[ENRICH_CAT_TUNNEL] = "tunnel_service",
};

const char *enrich_category_name(enum enrich_category c)
{
	if ((unsigned)c >= ENRICH_CAT__COUNT)
		return "unknown";
	return category_names[c];
}

enum enrich_category enrich_category_parse(const char *text)
{
	if (!text)
		return ENRICH_CAT_NONE;
	for (int c = ENRICH_CAT_NONE + 1; c < ENRICH_CAT__COUNT; c++)
		if (strcmp(text, category_names[c]) == 0)
			return (enum enrich_category)c;
	return ENRICH_CAT_NONE;
}

bool enrich_categories_init(struct enrich_categories *cats, uint32_t per_category)
{
	if (!cats)
		return false;
	memset(cats, 0, sizeof(*cats));
	for (int c = ENRICH_CAT_NONE + 1; c < ENRICH_CAT__COUNT; c++) {
		cats->set[c] = domain_set_create(per_category);
		if (!cats->set[c]) {
			enrich_categories_free(cats);
			return false;
		}
	}
	return true;
}

void enrich_categories_free(struct enrich_categories *cats)
{
	if (!cats)
		return;
	for (int c = 0; c < ENRICH_CAT__COUNT; c++) {
		domain_set_destroy(cats->set[c]);
		cats->set[c] = NULL;
	}
}

int enrich_categories_load_dir(struct enrich_categories *cats, const char *dir, char *err,
			       size_t errlen)
{
	char path[4096];
	int problems = 0;
	if (!cats || !dir) {
		err_append(err, errlen, "no categories or no directory");
		return 1;
	}
	for (int c = ENRICH_CAT_NONE + 1; c < ENRICH_CAT__COUNT; c++) {
		int n = snprintf(path, sizeof(path), "%s/%s.txt", dir, category_names[c]);
		if (n < 0 || (size_t)n >= sizeof(path)) {
			err_append(err, errlen, "%.64s...: path too long", dir);
			problems++;
			continue;
		}
		if (!cats->set[c]) {
			err_append(err, errlen, "%s: no set to load it into", path);
			problems++;
			continue;
		}
		problems += domain_set_load_file(cats->set[c], path, err, errlen);
	}
	return problems;
}

enum enrich_category enrich_category_of(const struct enrich_categories *cats, const char *name,
					size_t len, const char **matched)
{
	enum enrich_category best = ENRICH_CAT_NONE;
	const char *best_entry = NULL;
	size_t best_len = 0;
	if (cats) {
		for (int c = ENRICH_CAT_NONE + 1; c < ENRICH_CAT__COUNT; c++) {
			const char *m = domain_set_match(cats->set[c], name, len);
			if (!m)
				continue;
			size_t ml = strlen(m);
			if (ml > best_len) {
				best = (enum enrich_category)c;
				best_entry = m;
				best_len = ml;
			}
		}
	}
	if (matched)
		*matched = best_entry;
	return best;
}

/* ---- Cloud storage tenants -------------------------------------------------------- */

/* "us-east-1", "ap-southeast-2", "us-gov-west-1", "cn-northwest-1": two letters, one
 * or more words, a number (AWS General Reference, Regions and Zones). */
static bool aws_region_ok(const char *s, size_t len)
{
	if (len < 6 || len > 24 || s[0] < 'a' || s[0] > 'z' || s[1] < 'a' || s[1] > 'z' ||
	    s[2] != '-')
		return false;
	const char *dash = last_byte(s, '-', len);
	size_t tail = len - (size_t)(dash - s) - 1;
	if (dash == s + 2 || !all_digits(dash + 1, tail))
		return false;
	for (const char *p = s + 3; p < dash; p++) {
		if (*p == '-' && (p[-1] == '-' || p + 1 == dash))
			return false;
		if (*p != '-' && (*p < 'a' || *p > 'z'))
			return false;
	}
	return true;
}

/* Looks like an IPv4 address: four dot-separated groups of digits. */
static bool looks_ipv4(const char *s, size_t len)
{
	int groups = 0;
	size_t i = 0;
	while (i <= len) {
		size_t j = i;
		while (j < len && s[j] != '.')
			j++;
		if (!all_digits(s + i, j - i))
			return false;
		groups++;
		i = j + 1;
	}
	return groups == 4;
}

static bool ends_with(const char *s, size_t len, const char *suf)
{
	size_t sl = strlen(suf);
	return len >= sl && memcmp(s + len - sl, suf, sl) == 0;
}

/* S3 general purpose bucket naming rules (Amazon S3 User Guide, "Bucket naming
 * rules"): NULL when valid, else what is wrong. */
static const char *s3_bucket_problem(const char *b, size_t len)
{
	static const char *const bad_prefix[] = { "xn--", "sthree-", "amzn-s3-demo-" };
	static const char *const bad_suffix[] = { "-s3alias", "--ol-s3", ".mrap", "--x-s3",
						  "--table-s3" };
	if (len < 3 || len > 63)
		return "S3 bucket names have 3 to 63 characters";
	for (size_t i = 0; i < len; i++)
		if (!is_alnum(b[i]) && b[i] != '.' && b[i] != '-')
			return "S3 bucket names have only a-z, 0-9, '.' and '-'";
	if (!is_alnum(b[0]) || !is_alnum(b[len - 1]))
		return "S3 bucket names begin and end with a letter or digit";
	if (contains(b, len, ".."))
		return "S3 bucket names have no two adjacent periods";
	if (looks_ipv4(b, len))
		return "S3 bucket names are not IP addresses";
	for (size_t i = 0; i < sizeof(bad_prefix) / sizeof(bad_prefix[0]); i++)
		if (has_prefix(b, len, bad_prefix[i]))
			return "S3 reserves that bucket name prefix";
	for (size_t i = 0; i < sizeof(bad_suffix) / sizeof(bad_suffix[0]); i++)
		if (ends_with(b, len, bad_suffix[i]))
			return "S3 reserves that bucket name suffix";
	return NULL;
}

/* Azure storage account names: 3 to 24 lowercase letters and digits (Azure Storage
 * account overview, "Storage account name"). */
static const char *azure_account_problem(const char *a, size_t len)
{
	if (len < 3 || len > 24)
		return "Azure storage account names have 3 to 24 characters";
	for (size_t i = 0; i < len; i++)
		if (!is_alnum(a[i]))
			return "Azure storage account names have only a-z and 0-9";
	return NULL;
}

/* Cloud Storage bucket naming requirements (Google Cloud, "Bucket names"). */
static const char *gcs_bucket_problem(const char *b, size_t len)
{
	bool dots = memchr(b, '.', len) != NULL;
	if (len < 3 || len > (dots ? 222u : 63u))
		return "GCS bucket names have 3 to 63 characters (222 with dots)";
	for (size_t i = 0; i < len; i++)
		if (!is_label_char(b[i]) && b[i] != '.')
			return "GCS bucket names have only a-z, 0-9, '-', '_' and '.'";
	if (!is_alnum(b[0]) || !is_alnum(b[len - 1]))
		return "GCS bucket names begin and end with a letter or digit";
	size_t comp = 0;
	for (size_t i = 0; i < len; i++) {
		if (b[i] != '.') {
			if (++comp > 63)
				return "GCS bucket name components have at most 63 characters";
			continue;
		}
		if (comp == 0)
			return "GCS bucket names have no empty dot-separated component";
		comp = 0;
	}
	if (looks_ipv4(b, len))
		return "GCS bucket names are not IP addresses";
	if (has_prefix(b, len, "goog"))
		return "GCS bucket names do not begin with \"goog\"";
	if (contains(b, len, "google") || contains(b, len, "g00gle"))
		return "GCS bucket names do not contain \"google\"";
	return NULL;
}

/* Cloudflare account ids: 32 lowercase hex digits. */
static const char *r2_account_problem(const char *a, size_t len)
{
	if (len != 32)
		return "R2 account ids have 32 hex digits";
	for (size_t i = 0; i < len; i++)
		if (!is_digit(a[i]) && (a[i] < 'a' || a[i] > 'f'))
			return "R2 account ids have 32 hex digits";
	return NULL;
}

/* DigitalOcean datacenter regions: letters then digits (nyc3, fra1, sgp1). */
static bool do_region_ok(const char *s, size_t len)
{
	size_t i = 0;
	while (i < len && s[i] >= 'a' && s[i] <= 'z')
		i++;
	return i >= 2 && i < len && len <= 8 && all_digits(s + i, len - i);
}

/* Spaces bucket names follow the S3 rules (3-63 of a-z 0-9 . -, alnum at both ends). */
static const char *spaces_bucket_problem(const char *b, size_t len)
{
	if (len < 3 || len > 63)
		return "Spaces bucket names have 3 to 63 characters";
	for (size_t i = 0; i < len; i++)
		if (!is_alnum(b[i]) && b[i] != '.' && b[i] != '-')
			return "Spaces bucket names have only a-z, 0-9, '.' and '-'";
	if (!is_alnum(b[0]) || !is_alnum(b[len - 1]) || contains(b, len, ".."))
		return "Spaces bucket names begin and end with a letter or digit";
	return NULL;
}

static void tenant_fill(struct enrich_tenant *out, const char *provider, const char *service,
			const char *prefix, const char *id, size_t idlen)
{
	snprintf(out->provider, sizeof(out->provider), "%s", provider);
	snprintf(out->service, sizeof(out->service), "%s", service);
	snprintf(out->tenant, sizeof(out->tenant), "%s:%.*s", prefix, (int)idlen, id);
}

static bool label_is(const char *s, size_t len, const char *want)
{
	return strlen(want) == len && memcmp(s, want, len) == 0;
}

/* The endpoint labels after the bucket, ep[0..len) (without .amazonaws.com[.cn]), per
 * the Amazon S3 endpoints of the AWS General Reference; *region set when one is named.
 * Access points (s3-accesspoint), Object Lambda, S3 Control and S3 Express are not
 * bucket endpoints. */
static bool s3_endpoint_ok(const char *ep, size_t len, const char **region, size_t *rlen)
{
	const char *dot = memchr(ep, '.', len);
	size_t l0 = dot ? (size_t)(dot - ep) : len;
	const char *rest = dot ? dot + 1 : NULL;
	size_t restlen = dot ? len - l0 - 1 : 0;
	const char *dot2 = rest ? memchr(rest, '.', restlen) : NULL;
	*region = NULL;
	*rlen = 0;
	if (label_is(ep, l0, "s3") || label_is(ep, l0, "s3-fips")) {
		/* s3 | s3.REGION | s3.dualstack.REGION | s3-fips.[dualstack.]REGION */
		if (!rest)
			return l0 == 2;
		if (dot2 && label_is(rest, (size_t)(dot2 - rest), "dualstack")) {
			rest = dot2 + 1;
			restlen = len - (size_t)(rest - ep);
		}
		*region = rest;
		*rlen = restlen;
		return aws_region_ok(rest, restlen);
	}
	if (label_is(ep, l0, "s3-accelerate"))
		return !rest || label_is(rest, restlen, "dualstack");
	if (label_is(ep, l0, "s3-website")) { /* s3-website.REGION */
		*region = rest;
		*rlen = restlen;
		return rest && aws_region_ok(rest, restlen);
	}
	if (rest)
		return false;
	if (label_is(ep, l0, "s3-external-1"))
		return true;
	/* legacy one-label forms: s3-REGION, s3-website-REGION, s3-fips-REGION */
	if (!has_prefix(ep, l0, "s3-"))
		return false;
	const char *r = ep + 3;
	if (has_prefix(ep, l0, "s3-website-"))
		r = ep + 11;
	else if (has_prefix(ep, l0, "s3-fips-"))
		r = ep + 8;
	*region = r;
	*rlen = l0 - (size_t)(r - ep);
	return aws_region_ok(r, *rlen);
}

/* rest = the name before ".amazonaws.com" or ".amazonaws.com.cn". */
static bool tenant_s3(const char *rest, size_t len, bool china, struct enrich_tenant *out)
{
	/* The endpoint starts at the rightmost label that begins with "s3" (no region or
	 * "dualstack" does); everything before it is the bucket, dots and all. */
	size_t start = len;
	for (size_t i = len; i-- > 0;) {
		if ((i == 0 || rest[i - 1] == '.') && has_prefix(rest + i, len - i, "s3")) {
			start = i;
			break;
		}
	}
	if (start == len || start < 2)
		return false;
	const char *region;
	size_t rlen;
	if (!s3_endpoint_ok(rest + start, len - start, &region, &rlen))
		return false;
	size_t blen = start - 1;
	if (s3_bucket_problem(rest, blen))
		return false;
	const char *prefix = "s3";
	if (china) {
		if (region && !has_prefix(region, rlen, "cn-"))
			return false;
		prefix = "s3-cn";
	} else if (region && has_prefix(region, rlen, "cn-")) {
		return false; /* China regions live under amazonaws.com.cn */
	} else if (region && has_prefix(region, rlen, "us-gov-")) {
		prefix = "s3-gov";
	}
	tenant_fill(out, "aws", "s3", prefix, rest, blen);
	return true;
}

/* rest = the name before ".core.windows.net" (or ".storage.azure.net" when zoned):
 * ACCOUNT.SERVICE, ACCOUNT.privatelink.SERVICE, ACCOUNT.zNN.web (static websites),
 * ACCOUNT.zNN.SERVICE (Azure DNS zone endpoints); ACCOUNT-secondary is the read-access
 * secondary endpoint of ACCOUNT (Azure Storage redundancy, RA-GRS). */
static bool tenant_azure(const char *rest, size_t len, bool dns_zone, struct enrich_tenant *out)
{
	static const char *const services[] = { "blob", "dfs", "file", "queue", "table" };
	const char *dot = memchr(rest, '.', len);
	if (!dot)
		return false;
	size_t alen = (size_t)(dot - rest);
	const char *svc = dot + 1;
	size_t slen = len - alen - 1;
	const char *dot2 = memchr(svc, '.', slen);
	bool zoned = false;
	if (dot2) {
		size_t mlen = (size_t)(dot2 - svc);
		if (mlen >= 2 && svc[0] == 'z' && all_digits(svc + 1, mlen - 1))
			zoned = true;
		else if (!label_is(svc, mlen, "privatelink") || dns_zone)
			return false;
		slen -= mlen + 1;
		svc = dot2 + 1;
		if (memchr(svc, '.', slen))
			return false;
	}
	const char *service = NULL;
	if (zoned && !dns_zone && label_is(svc, slen, "web"))
		service = "web";
	for (size_t i = 0; !service && i < sizeof(services) / sizeof(services[0]); i++)
		if (label_is(svc, slen, services[i]) && zoned == dns_zone)
			service = services[i];
	if (!service)
		return false;
	if (ends_with(rest, alen, "-secondary"))
		alen -= strlen("-secondary");
	if (azure_account_problem(rest, alen))
		return false;
	tenant_fill(out, "azure", service, "azure", rest, alen);
	return true;
}

/* rest = the name before ".r2.cloudflarestorage.com": [BUCKET.]ACCOUNT[.JURISDICTION]
 * (R2 S3 API endpoints; jurisdictions eu, fedramp, us). */
static bool tenant_r2(const char *rest, size_t len, struct enrich_tenant *out)
{
	static const char *const juris[] = { ".eu", ".fedramp", ".us" };
	for (size_t i = 0; i < sizeof(juris) / sizeof(juris[0]); i++) {
		if (ends_with(rest, len, juris[i])) {
			len -= strlen(juris[i]);
			break;
		}
	}
	const char *dot = last_byte(rest, '.', len);
	const char *acct = dot ? dot + 1 : rest;
	size_t alen = len - (size_t)(acct - rest);
	if (r2_account_problem(acct, alen))
		return false;
	tenant_fill(out, "cloudflare", "r2", "r2", acct, alen);
	return true;
}

/* rest = the name before ".storage.googleapis.com": the bucket, dots and all. */
static bool tenant_gcs(const char *rest, size_t len, struct enrich_tenant *out)
{
	if (gcs_bucket_problem(rest, len))
		return false;
	tenant_fill(out, "gcp", "gcs", "gcs", rest, len);
	return true;
}

/* rest = the name before ".digitaloceanspaces.com": BUCKET.REGION[.cdn]. */
static bool tenant_spaces(const char *rest, size_t len, struct enrich_tenant *out)
{
	if (ends_with(rest, len, ".cdn"))
		len -= 4;
	const char *dot = last_byte(rest, '.', len);
	if (!dot)
		return false;
	const char *region = dot + 1;
	size_t rlen = len - (size_t)(region - rest), blen = (size_t)(dot - rest);
	if (!do_region_ok(region, rlen) || spaces_bucket_problem(rest, blen))
		return false;
	snprintf(out->provider, sizeof(out->provider), "digitalocean");
	snprintf(out->service, sizeof(out->service), "spaces");
	snprintf(out->tenant, sizeof(out->tenant), "spaces:%.*s/%.*s", (int)rlen, region,
		 (int)blen, rest);
	return true;
}

bool enrich_cloud_tenant(const char *name, size_t len, struct enrich_tenant *out)
{
	char buf[ENRICH_NAME_MAX + 1];
	size_t n, p;
	if (!out)
		return false;
	memset(out, 0, sizeof(*out));
	if (!name || !name_normalise(name, len, buf, &n, NULL, 0))
		return false;
	bool ok = false;
	if (has_suffix(buf, n, ".amazonaws.com", &p))
		ok = tenant_s3(buf, p, false, out);
	else if (has_suffix(buf, n, ".amazonaws.com.cn", &p))
		ok = tenant_s3(buf, p, true, out);
	else if (has_suffix(buf, n, ".core.windows.net", &p))
		ok = tenant_azure(buf, p, false, out);
	else if (has_suffix(buf, n, ".storage.azure.net", &p))
		ok = tenant_azure(buf, p, true, out);
	else if (has_suffix(buf, n, ".storage.googleapis.com", &p))
		ok = tenant_gcs(buf, p, out);
	else if (has_suffix(buf, n, ".r2.cloudflarestorage.com", &p))
		ok = tenant_r2(buf, p, out);
	else if (has_suffix(buf, n, ".digitaloceanspaces.com", &p))
		ok = tenant_spaces(buf, p, out);
	if (!ok)
		memset(out, 0, sizeof(*out));
	return ok;
}

/* A short form "prefix:id" (id lowercased already). */
static bool tenant_short(const char *prefix, size_t plen, const char *id, size_t idlen,
			 struct enrich_tenant *out, char *err, size_t errlen)
{
	const char *why = NULL;
	if (label_is(prefix, plen, "s3") || label_is(prefix, plen, "s3-cn") ||
	    label_is(prefix, plen, "s3-gov")) {
		if (!(why = s3_bucket_problem(id, idlen))) {
			char pre[8];
			snprintf(pre, sizeof(pre), "%.*s", (int)plen, prefix);
			tenant_fill(out, "aws", "s3", pre, id, idlen);
			return true;
		}
	} else if (label_is(prefix, plen, "azure")) {
		if (!(why = azure_account_problem(id, idlen))) {
			tenant_fill(out, "azure", "", "azure", id, idlen);
			return true;
		}
	} else if (label_is(prefix, plen, "gcs")) {
		if (!(why = gcs_bucket_problem(id, idlen))) {
			tenant_fill(out, "gcp", "gcs", "gcs", id, idlen);
			return true;
		}
	} else if (label_is(prefix, plen, "r2")) {
		if (!(why = r2_account_problem(id, idlen))) {
			tenant_fill(out, "cloudflare", "r2", "r2", id, idlen);
			return true;
		}
	} else if (label_is(prefix, plen, "spaces")) {
		const char *slash = memchr(id, '/', idlen);
		if (!slash || !do_region_ok(id, (size_t)(slash - id))) {
			why = "Spaces tenants are written spaces:REGION/BUCKET "
			      "(spaces:nyc3/my-bucket)";
		} else if (!(why = spaces_bucket_problem(slash + 1,
							 idlen - (size_t)(slash - id) - 1))) {
			snprintf(out->provider, sizeof(out->provider), "digitalocean");
			snprintf(out->service, sizeof(out->service), "spaces");
			snprintf(out->tenant, sizeof(out->tenant), "spaces:%.*s", (int)idlen, id);
			return true;
		}
	} else {
		why = "unknown provider (want s3, s3-gov, s3-cn, azure, gcs, r2 or spaces)";
	}
	err_set(err, errlen, "'%.*s:%.*s': %s", (int)plen, prefix, (int)(idlen > 230 ? 230 : idlen),
		id, why);
	return false;
}

bool enrich_tenant_parse_config(const char *text, struct enrich_tenant *out, char *err,
				size_t errlen)
{
	char buf[1024], q[96];
	if (!out) {
		err_set(err, errlen, "no output");
		return false;
	}
	memset(out, 0, sizeof(*out));
	if (!text) {
		err_set(err, errlen, "empty tenant");
		return false;
	}
	size_t len = strlen(text), a = 0;
	while (a < len && (text[a] == ' ' || text[a] == '\t'))
		a++;
	while (len > a && (text[len - 1] == ' ' || text[len - 1] == '\t'))
		len--;
	if (a == len) {
		err_set(err, errlen, "empty tenant");
		return false;
	}
	if (len - a >= sizeof(buf)) {
		err_set(err, errlen, "'%s': too long for a cloud storage tenant",
			quote(text + a, len - a, q, sizeof(q)));
		return false;
	}
	size_t n = len - a;
	for (size_t i = 0; i < n; i++)
		buf[i] = lower(text[a + i]);
	buf[n] = '\0';

	const char *s = buf;
	size_t sl = n;
	/* URI forms: s3://BUCKET/..., gs://BUCKET/..., https://HOST[:PORT]/... */
	const char *sep = strstr(s, "://");
	if (sep) {
		size_t slen = (size_t)(sep - s);
		const char *host = sep + 3;
		size_t hl = strcspn(host, "/?#");
		if (label_is(s, slen, "s3"))
			return tenant_short("s3", 2, host, hl, out, err, errlen);
		if (label_is(s, slen, "gs"))
			return tenant_short("gcs", 3, host, hl, out, err, errlen);
		if (!label_is(s, slen, "https") && !label_is(s, slen, "http")) {
			err_set(err, errlen, "'%s': unknown scheme (want s3://, gs:// or https://)",
				quote(text + a, n, q, sizeof(q)));
			return false;
		}
		const char *colon = memchr(host, ':', hl);
		if (colon)
			hl = (size_t)(colon - host);
		s = host;
		sl = hl;
	} else if (has_prefix(s, sl, "arn:")) {
		/* arn:PARTITION:s3:::BUCKET (AWS General Reference, ARN format) */
		static const struct {
			const char *arn, *prefix;
		} parts[] = { { "arn:aws:s3:::", "s3" },
			      { "arn:aws-cn:s3:::", "s3-cn" },
			      { "arn:aws-us-gov:s3:::", "s3-gov" } };
		for (size_t i = 0; i < sizeof(parts) / sizeof(parts[0]); i++) {
			size_t pl = strlen(parts[i].arn);
			if (has_prefix(s, sl, parts[i].arn)) {
				size_t bl = strcspn(s + pl, "/");
				return tenant_short(parts[i].prefix, strlen(parts[i].prefix),
						    s + pl, bl, out, err, errlen);
			}
		}
		err_set(err, errlen,
			"'%s': only S3 bucket ARNs name a tenant (arn:aws:s3:::BUCKET)",
			quote(text + a, n, q, sizeof(q)));
		return false;
	} else {
		const char *colon = memchr(s, ':', sl);
		if (colon)
			return tenant_short(s, (size_t)(colon - s), colon + 1,
					    sl - (size_t)(colon - s) - 1, out, err, errlen);
	}
	if (enrich_cloud_tenant(s, sl, out))
		return true;
	err_set(err, errlen,
		"'%s': not a cloud storage tenant (want BUCKET.s3.amazonaws.com, "
		"ACCOUNT.blob.core.windows.net, BUCKET.storage.googleapis.com, "
		"ACCOUNT.r2.cloudflarestorage.com, BUCKET.REGION.digitaloceanspaces.com, or "
		"s3:BUCKET, azure:ACCOUNT, gcs:BUCKET, r2:ACCOUNT, spaces:REGION/BUCKET)",
		quote(text + a, n, q, sizeof(q)));
	return false;
}

struct tenant_set {
	struct strtab t;
};

struct tenant_set *tenant_set_create(uint32_t capacity)
{
	if (capacity == 0 || capacity > TENANT_SET_MAX_CAPACITY)
		return NULL;
	struct tenant_set *set = calloc(1, sizeof(*set));
	if (!set)
		return NULL;
	if (!strtab_init(&set->t, capacity, ENRICH_TENANT_MAX - 1)) {
		free(set);
		return NULL;
	}
	return set;
}

void tenant_set_destroy(struct tenant_set *set)
{
	if (!set)
		return;
	strtab_fini(&set->t);
	free(set);
}

int tenant_set_add(struct tenant_set *set, const struct enrich_tenant *t, char *err,
		   size_t errlen)
{
	if (!set || !t) {
		err_set(err, errlen, "no set or no tenant");
		return -1;
	}
	size_t len = strnlen(t->tenant, sizeof(t->tenant));
	if (len == 0 || len >= sizeof(t->tenant)) {
		err_set(err, errlen, "not a tenant");
		return -1;
	}
	int r = strtab_add(&set->t, t->tenant, len);
	if (r < 0)
		err_set(err, errlen, "'%s': the own-tenant list is full (%u tenants)", t->tenant,
			set->t.cap);
	return r;
}

bool tenant_set_contains(const struct tenant_set *set, const struct enrich_tenant *t)
{
	if (!set || !t)
		return false;
	size_t len = strnlen(t->tenant, sizeof(t->tenant));
	if (len == 0 || len >= sizeof(t->tenant))
		return false;
	return strtab_lookup(&set->t, t->tenant, len) != NULL;
}

uint32_t tenant_set_count(const struct tenant_set *set)
{
	return set ? set->t.count : 0;
}
