/* detect-tunnel.c: per-key sliding-window measures for DNS and ICMP tunnel detection
 * (32 time buckets per entry, a bounded set of name hashes per DNS entry) in a keyed
 * pool shared by both kinds (keyed-pool.h: SipHash-1-3 chained hash, LRU eviction when
 * full). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "detect-tunnel.h"
#include "keyed-pool.h"
#include "siphash.h"

#define US_PER_S_OVER_BUCKETS 31250u /* 1 s / TUNNEL_BUCKETS, exact */

enum tunnel_kind {
	TUNNEL_KIND_DNS = 1,
	TUNNEL_KIND_ICMP = 2,
};

/* kind, family, source, then the registered domain (DNS) or destination (ICMP) */
#define KEY_HDR 18
#define TUNNEL_KEY_MAX (KEY_HDR + TUNNEL_NAME_MAX)

_Static_assert(1000000u % TUNNEL_BUCKETS == 0, "bucket width must be whole microseconds");
_Static_assert(1000000u / TUNNEL_BUCKETS == US_PER_S_OVER_BUCKETS, "bucket width");
_Static_assert(TUNNEL_DNS_NAMES_MAX <= UINT16_MAX, "name count fits nnames");

struct tunnel_dns_bucket {
	uint64_t name_bytes;
	double entropy_sum;
	uint64_t first_us; /* earliest query in this bucket; UINT64_MAX: empty */
	uint32_t queries;
	uint32_t txt_null;
	uint16_t max_label;
};

/* Only the buckets flagged in used hold anything; the others are stale and read as
 * empty, so an entry is cleared and summed without touching all 32. */
struct tunnel_dns_state {
	struct tunnel_dns_bucket b[TUNNEL_BUCKETS];
	uint32_t used; /* bit k: b[k] is written since it was last retired */
	uint16_t nnames;
	/* Live names: after every bucket advance each has age < TUNNEL_BUCKETS, so the low
	 * 32 bits of its bucket number are enough to compute the age. */
	uint32_t name_bn[TUNNEL_DNS_NAMES_MAX];	 /* bucket of the name's latest query */
	uint64_t name_hash[TUNNEL_DNS_NAMES_MAX];
};

struct tunnel_icmp_bucket {
	uint64_t payload_bytes;
	uint64_t first_us; /* UINT64_MAX: empty */
	uint32_t packets;
	uint32_t large;
	uint32_t distinct;
};

struct tunnel_icmp_state {
	struct tunnel_icmp_bucket b[TUNNEL_BUCKETS];
	uint64_t prev_hash; /* of the previous payload's captured bytes past the skip */
	uint32_t prev_len;  /* its wire length */
	bool has_prev;
};

/* Caller data of a pool entry; its key is the window length (4 bytes, big-endian) then
 * the kind, family, source and domain or destination. */
struct tunnel_entry {
	uint64_t head_bn; /* bucket number of the newest bucket written */
	uint64_t last_us; /* latest contribution */
	union {
		struct tunnel_dns_state dns;
		struct tunnel_icmp_state icmp;
	} u;
};

#define POOL_KEY_MAX (4 + TUNNEL_KEY_MAX)

/* Entropy terms (c/n) log2(c/n) for 1 <= c <= n <= TUNNEL_NAME_MAX, row n from
 * PLOGP_ROW(n); 0.0 until first needed (a real term with c < n is never 0). */
#define PLOGP_ROW(n) ((size_t)(n) * ((n) - 1) / 2)
#define PLOGP_TERMS PLOGP_ROW(TUNNEL_NAME_MAX + 1)

struct tunnel_table {
	struct kpool *pool;
	const struct siphash_key *key; /* the pool's, for name and payload hashes */
	double *plogp;
};

struct tunnel_table *tunnel_table_create(uint32_t max_entries, char *err, size_t errlen)
{
	struct tunnel_table *t;

	if (max_entries == 0 || max_entries > TUNNEL_MAX_ENTRIES) {
		snprintf(err, errlen, "tunnel table: max_entries must be between 1 and %u",
			 TUNNEL_MAX_ENTRIES);
		return NULL;
	}
	t = calloc(1, sizeof(*t));
	if (t) {
		t->pool = kpool_create(max_entries, sizeof(struct tunnel_entry), POOL_KEY_MAX);
		t->plogp = calloc(PLOGP_TERMS, sizeof(*t->plogp));
	}
	if (!t || !t->pool || !t->plogp) {
		snprintf(err, errlen, "tunnel table: cannot reserve memory for %u entries",
			 max_entries);
		tunnel_table_destroy(t);
		return NULL;
	}
	t->key = kpool_sipkey(t->pool);
	return t;
}

void tunnel_table_destroy(struct tunnel_table *t)
{
	if (!t)
		return;
	kpool_destroy(t->pool);
	free(t->plogp);
	free(t);
}

const struct kpool_stats *tunnel_table_stats(const struct tunnel_table *t)
{
	return kpool_stats(t->pool);
}

/* ---- names ---- */

static inline uint8_t lower(uint8_t c)
{
	return c >= 'A' && c <= 'Z' ? (uint8_t)(c + ('a' - 'A')) : c;
}

/* dst[0..n) = src[0..n) without ASCII case, eight bytes at a time: a byte gets 0x20
 * when it is below 0x80 and at least 'A' and at most 'Z' (no carry crosses a byte:
 * each sum stays below 0x100). */
static void lower_copy(uint8_t *dst, const char *src, size_t n)
{
	const uint64_t ones = 0x0101010101010101ULL, high = 0x80 * ones;
	size_t i = 0;

	for (; i + 8 <= n; i += 8) {
		uint64_t x, low;
		memcpy(&x, src + i, 8);
		low = x & ~high;
		uint64_t ge_a = low + (0x80 - 'A') * ones;
		uint64_t gt_z = low + (0x80 - 'Z' - 1) * ones;
		x |= (ge_a & ~gt_z & ~x & high) >> 2;
		memcpy(dst + i, &x, 8);
	}
	for (; i < n; i++)
		dst[i] = lower((uint8_t)src[i]);
}

static size_t strip_dot(const char *s, size_t n)
{
	return n && s[n - 1] == '.' ? n - 1 : n;
}

double tunnel_entropy(const uint8_t *p, size_t n)
{
	size_t count[256] = { 0 };
	double h = 0.0;

	if (n == 0)
		return 0.0;
	for (size_t i = 0; i < n; i++)
		count[p[i]]++;
	for (int c = 0; c < 256; c++) {
		if (!count[c])
			continue;
		double q = (double)count[c] / (double)n;
		h -= q * log2(q);
	}
	return h > 0.0 ? h : 0.0; /* -0.0 for a single symbol */
}

/* tunnel_entropy without its 256-symbol scan and log2 calls: the symbols present are
 * flagged as they are counted and visited in the same (ascending) order, and each term
 * is computed once per table with the same expression, so the sum is the same double. */
double tunnel_table_entropy(struct tunnel_table *t, const uint8_t *p, size_t n)
{
	uint8_t count[256]; /* valid where seen says so */
	uint64_t seen[4] = { 0 };
	double h = 0.0;

	if (n == 0)
		return 0.0;
	if (n > TUNNEL_NAME_MAX)
		return tunnel_entropy(p, n);
	for (size_t i = 0; i < n; i++) {
		uint64_t bit = 1ull << (p[i] & 63);
		if (!(seen[p[i] >> 6] & bit)) {
			seen[p[i] >> 6] |= bit;
			count[p[i]] = 0;
		}
		count[p[i]]++; /* n <= 253 */
	}
	double *row = t->plogp + PLOGP_ROW(n);
	for (int w = 0; w < 4; w++) {
		for (uint64_t m = seen[w]; m; m &= m - 1) {
			size_t c = count[w * 64 + __builtin_ctzll(m)];
			double term = row[c - 1];
			if (term == 0.0 && c < n) {
				double q = (double)c / (double)n;
				term = row[c - 1] = q * log2(q);
			}
			h -= term;
		}
	}
	return h > 0.0 ? h : 0.0;
}

/* tunnel_dns_left_part on lengths whose trailing dot is already gone */
static size_t left_part(const char *qname, size_t qlen, const char *regdom, size_t rlen)
{
	/* "left.regdom": at least one byte for the dot before regdom */
	if (rlen == 0 || qlen <= rlen || qname[qlen - rlen - 1] != '.')
		return 0;
	for (size_t i = 0; i < rlen; i++)
		if (lower((uint8_t)qname[qlen - rlen + i]) != lower((uint8_t)regdom[i]))
			return 0;
	return qlen - rlen - 1;
}

size_t tunnel_dns_left_part(const char *qname, size_t qlen, const char *regdom,
			    size_t rlen)
{
	return left_part(qname, strip_dot(qname, qlen), regdom, strip_dot(regdom, rlen));
}

/* left_part on names already lowercased */
static size_t left_part_lower(const uint8_t *qname, size_t qlen, const uint8_t *regdom,
			      size_t rlen)
{
	if (rlen == 0 || qlen <= rlen || qname[qlen - rlen - 1] != '.' ||
	    memcmp(qname + qlen - rlen, regdom, rlen) != 0)
		return 0;
	return qlen - rlen - 1;
}

static uint16_t longest_label(const uint8_t *p, size_t n)
{
	size_t best = 0, run = 0;

	for (size_t i = 0; i < n; i++) {
		if (p[i] == '.') {
			run = 0;
			continue;
		}
		if (++run > best)
			best = run;
	}
	return (uint16_t)best; /* n <= TUNNEL_NAME_MAX */
}

/* ---- table ---- */

static bool window_ok(int family, uint32_t window_s)
{
	return (family == 4 || family == 6) && window_s >= TUNNEL_MIN_S &&
	       window_s <= TUNNEL_MAX_S;
}

static size_t key_head(uint8_t *key, enum tunnel_kind kind, int family,
		       const uint8_t src[16])
{
	key[0] = (uint8_t)kind;
	key[1] = (uint8_t)family;
	memset(key + 2, 0, 16);
	memcpy(key + 2, src, family == 4 ? 4 : 16);
	return KEY_HDR;
}

_Static_assert(TUNNEL_BUCKETS == 32, "one bit per bucket in tunnel_dns_state.used");

static void dns_clear(struct tunnel_dns_state *d)
{
	d->used = 0;
	d->nnames = 0;
}

/* The bucket of bucket number bn, emptied first if it is stale. */
static struct tunnel_dns_bucket *dns_bucket(struct tunnel_dns_state *d, uint64_t bn)
{
	uint32_t bit = 1u << (bn % TUNNEL_BUCKETS);
	struct tunnel_dns_bucket *b = &d->b[bn % TUNNEL_BUCKETS];

	if (!(d->used & bit)) {
		memset(b, 0, sizeof(*b));
		b->first_us = UINT64_MAX;
		d->used |= bit;
	}
	return b;
}

static void icmp_clear(struct tunnel_icmp_state *c)
{
	memset(c->b, 0, sizeof(c->b));
	for (int k = 0; k < TUNNEL_BUCKETS; k++)
		c->b[k].first_us = UINT64_MAX;
}

static inline uint64_t sat_add(uint64_t a, uint64_t b)
{
	return a + b < a ? UINT64_MAX : a + b;
}

static inline uint32_t sat_add32(uint32_t a, uint32_t b)
{
	return a + b < a ? UINT32_MAX : a + b;
}

/* Find or create the entry (key[0] is the kind), refresh its recency, clamp a time that
 * went back, and return the bucket number now_us falls in; *advanced says how many
 * buckets the entry moved forward (UINT64_MAX: fresh entry). Retiring is the caller's,
 * per kind. */
static struct tunnel_entry *entry_get(struct tunnel_table *t, const uint8_t *key,
				      size_t keylen, uint32_t window_s, uint64_t *now_us,
				      uint64_t *bn, uint64_t *advanced)
{
	uint8_t buf[POOL_KEY_MAX];

	buf[0] = (uint8_t)(window_s >> 24);
	buf[1] = (uint8_t)(window_s >> 16);
	buf[2] = (uint8_t)(window_s >> 8);
	buf[3] = (uint8_t)window_s;
	memcpy(buf + 4, key, keylen);
	keylen += 4;
	uint64_t h = kpool_hash(t->pool, buf, keylen);
	uint32_t i = kpool_find(t->pool, h, buf, keylen);
	bool fresh = i == KPOOL_NONE;

	if (fresh) {
		/* full: the entry least recently added to goes */
		i = kpool_insert(t->pool, h, buf, keylen);
	} else {
		kpool_touch(t->pool, i);
	}
	struct tunnel_entry *e = kpool_data(t->pool, i);
	if (fresh) {
		if (key[0] == TUNNEL_KIND_DNS) {
			dns_clear(&e->u.dns);
		} else {
			icmp_clear(&e->u.icmp);
			e->u.icmp.has_prev = false;
			e->u.icmp.prev_hash = 0;
			e->u.icmp.prev_len = 0;
		}
	} else if (*now_us < e->last_us) {
		*now_us = e->last_us; /* time went back: count at the latest time */
	}
	*bn = *now_us / ((uint64_t)window_s * US_PER_S_OVER_BUCKETS);
	if (fresh)
		*advanced = UINT64_MAX;
	else
		*advanced = *bn - e->head_bn; /* now_us >= last_us: never negative */
	e->head_bn = *bn;
	e->last_us = *now_us;
	return e;
}

/* ---- DNS ---- */

static void dns_advance(struct tunnel_dns_state *d, uint64_t bn, uint64_t advanced)
{
	if (advanced == 0)
		return;
	if (advanced >= TUNNEL_BUCKETS) {
		dns_clear(d);
		return;
	}
	/* retire the buckets that leave the window: the slots of bn - advanced + 1 .. bn */
	for (uint64_t n = bn - advanced + 1; n <= bn; n++)
		d->used &= ~(1u << (n % TUNNEL_BUCKETS));
	/* and the names whose latest query was in them */
	uint32_t cur = (uint32_t)bn;
	for (uint32_t k = 0; k < d->nnames;) {
		if ((uint32_t)(cur - d->name_bn[k]) >= TUNNEL_BUCKETS) {
			d->nnames--;
			d->name_bn[k] = d->name_bn[d->nnames];
			d->name_hash[k] = d->name_hash[d->nnames];
		} else {
			k++;
		}
	}
}

static void dns_name_seen(struct tunnel_dns_state *d, uint64_t hash, uint64_t bn)
{
	uint32_t cur = (uint32_t)bn, oldest = 0, oldest_age = 0;

	for (uint32_t k = 0; k < d->nnames; k++) {
		if (d->name_hash[k] == hash) {
			d->name_bn[k] = cur;
			return;
		}
		uint32_t age = cur - d->name_bn[k];
		if (age > oldest_age) {
			oldest_age = age;
			oldest = k;
		}
	}
	if (d->nnames < TUNNEL_DNS_NAMES_MAX) {
		d->name_hash[d->nnames] = hash;
		d->name_bn[d->nnames] = cur;
		d->nnames++;
		return;
	}
	/* full: the name whose latest query is oldest makes room (see the header) */
	d->name_hash[oldest] = hash;
	d->name_bn[oldest] = cur;
}

static void dns_sum(const struct tunnel_entry *e, uint64_t cur, struct tunnel_dns_sum *out)
{
	const struct tunnel_dns_state *d = &e->u.dns;
	uint64_t oldest = cur >= TUNNEL_BUCKETS - 1 ? cur - (TUNNEL_BUCKETS - 1) : 0;
	double entropy = 0.0;

	memset(out, 0, sizeof(*out));
	out->first_us = UINT64_MAX;
	for (uint32_t m = d->used; m; m &= m - 1) {
		uint32_t k = (uint32_t)__builtin_ctz(m); /* in slot order, as entropy adds up */
		const struct tunnel_dns_bucket *b = &d->b[k];
		if (b->first_us == UINT64_MAX)
			continue;
		uint64_t n = e->head_bn - ((e->head_bn - k) % TUNNEL_BUCKETS);
		if (n < oldest || n > cur)
			continue;
		out->queries += b->queries; /* 32 x u32: cannot overflow u64 */
		out->txt_null += b->txt_null;
		out->name_bytes = sat_add(out->name_bytes, b->name_bytes);
		entropy += b->entropy_sum;
		if (b->max_label > out->max_label_length)
			out->max_label_length = b->max_label;
		if (b->first_us < out->first_us)
			out->first_us = b->first_us;
	}
	if (out->first_us == UINT64_MAX) {
		out->first_us = 0;
		return;
	}
	out->unique_names = d->nnames;
	out->mean_entropy = entropy / (double)out->queries;
	out->txt_null_share = (double)out->txt_null / (double)out->queries;
	out->last_us = e->last_us;
}

bool tunnel_dns_query(struct tunnel_table *t, int family, const uint8_t src[16],
		      const char *regdom, size_t rlen, const char *qname, size_t qlen,
		      uint16_t qtype, uint32_t window_s, uint64_t now_us,
		      struct tunnel_dns_sum *out)
{
	uint8_t key[TUNNEL_KEY_MAX];
	uint8_t name[TUNNEL_NAME_MAX];
	uint64_t bn, advanced;

	if (out)
		memset(out, 0, sizeof(*out));
	if (!window_ok(family, window_s) || !regdom || (!qname && qlen))
		return false;
	rlen = strip_dot(regdom, rlen);
	qlen = strip_dot(qname, qlen);
	if (rlen == 0 || rlen > TUNNEL_NAME_MAX || qlen > TUNNEL_NAME_MAX)
		return false;

	size_t kl = key_head(key, TUNNEL_KIND_DNS, family, src);
	lower_copy(key + kl, regdom, rlen);
	kl += rlen;
	lower_copy(name, qname, qlen);
	size_t left = left_part_lower(name, qlen, key + KEY_HDR, rlen);

	struct tunnel_entry *e = entry_get(t, key, kl, window_s, &now_us, &bn, &advanced);
	struct tunnel_dns_state *d = &e->u.dns;
	if (advanced != UINT64_MAX)
		dns_advance(d, bn, advanced);

	struct tunnel_dns_bucket *b = dns_bucket(d, bn);
	b->queries = sat_add32(b->queries, 1);
	if (qtype == TUNNEL_DNS_TYPE_TXT || qtype == TUNNEL_DNS_TYPE_NULL)
		b->txt_null = sat_add32(b->txt_null, 1);
	b->name_bytes = sat_add(b->name_bytes, left);
	b->entropy_sum += tunnel_table_entropy(t, name, left);
	uint16_t ll = longest_label(name, left);
	if (ll > b->max_label)
		b->max_label = ll;
	if (now_us < b->first_us)
		b->first_us = now_us;
	dns_name_seen(d, siphash13(t->key, name, qlen), bn);
	if (out)
		dns_sum(e, bn, out);
	return true;
}

/* ---- ICMP ---- */

static void icmp_advance(struct tunnel_icmp_state *c, uint64_t bn, uint64_t advanced)
{
	if (advanced == 0)
		return;
	if (advanced >= TUNNEL_BUCKETS) {
		icmp_clear(c);
		return;
	}
	for (uint64_t n = bn - advanced + 1; n <= bn; n++) {
		struct tunnel_icmp_bucket *b = &c->b[n % TUNNEL_BUCKETS];
		memset(b, 0, sizeof(*b));
		b->first_us = UINT64_MAX;
	}
}

static void icmp_sum(const struct tunnel_entry *e, uint64_t cur, struct tunnel_icmp_sum *out)
{
	const struct tunnel_icmp_state *c = &e->u.icmp;
	uint64_t oldest = cur >= TUNNEL_BUCKETS - 1 ? cur - (TUNNEL_BUCKETS - 1) : 0;

	memset(out, 0, sizeof(*out));
	out->first_us = UINT64_MAX;
	for (uint32_t k = 0; k < TUNNEL_BUCKETS; k++) {
		const struct tunnel_icmp_bucket *b = &c->b[k];
		if (b->first_us == UINT64_MAX)
			continue;
		uint64_t n = e->head_bn - ((e->head_bn - k) % TUNNEL_BUCKETS);
		if (n < oldest || n > cur)
			continue;
		out->packets += b->packets;
		out->large_payloads += b->large;
		out->distinct_payloads += b->distinct;
		out->payload_bytes = sat_add(out->payload_bytes, b->payload_bytes);
		if (b->first_us < out->first_us)
			out->first_us = b->first_us;
	}
	if (out->first_us == UINT64_MAX) {
		out->first_us = 0;
		return;
	}
	out->last_us = e->last_us;
}

bool tunnel_icmp_echo(struct tunnel_table *t, int family, const uint8_t src[16],
		      const uint8_t dst[16], const uint8_t *payload, size_t caplen,
		      uint32_t payload_len, uint32_t window_s, uint64_t now_us,
		      struct tunnel_icmp_sum *out)
{
	uint8_t key[KEY_HDR + 16];
	uint64_t bn, advanced;

	if (out)
		memset(out, 0, sizeof(*out));
	if (!window_ok(family, window_s) || (!payload && caplen))
		return false;

	size_t kl = key_head(key, TUNNEL_KIND_ICMP, family, src);
	memset(key + kl, 0, 16);
	memcpy(key + kl, dst, family == 4 ? 4 : 16);
	kl += 16;

	if (caplen > payload_len)
		caplen = payload_len; /* link-layer padding is not payload */
	uint64_t ph = caplen > TUNNEL_ICMP_STAMP_SKIP ?
			      siphash13(t->key, payload + TUNNEL_ICMP_STAMP_SKIP,
					caplen - TUNNEL_ICMP_STAMP_SKIP) :
			      siphash13(t->key, "", 0);

	struct tunnel_entry *e = entry_get(t, key, kl, window_s, &now_us, &bn, &advanced);
	struct tunnel_icmp_state *c = &e->u.icmp;
	if (advanced != UINT64_MAX)
		icmp_advance(c, bn, advanced);

	struct tunnel_icmp_bucket *b = &c->b[bn % TUNNEL_BUCKETS];
	b->packets = sat_add32(b->packets, 1);
	b->payload_bytes = sat_add(b->payload_bytes, payload_len);
	if (payload_len > TUNNEL_ICMP_LARGE)
		b->large = sat_add32(b->large, 1);
	if (c->has_prev && (c->prev_hash != ph || c->prev_len != payload_len))
		b->distinct = sat_add32(b->distinct, 1);
	c->prev_hash = ph;
	c->prev_len = payload_len;
	c->has_prev = true;
	if (now_us < b->first_us)
		b->first_us = now_us;
	if (out)
		icmp_sum(e, bn, out);
	return true;
}
