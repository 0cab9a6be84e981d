/* report.c: the run's picture for an analyst (see report.h): bounded tables of egress
 * sources, destinations and alert groups, the timeline, and the stderr summary. */
#include <arpa/inet.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "report-table.h"

/* ---- bounded keyed table ---------------------------------------------------------- */

/* Index slots hold (hash << 32) | (entry index + 1); 0 is empty. The hash is kept so
 * that growing and unlinking never hash a key again. */
static bool rtab_init(struct rtab *t, size_t esz, size_t klen, size_t woff, uint32_t max)
{
	memset(t, 0, sizeof(*t));
	t->esz = esz;
	t->klen = klen;
	t->woff = woff;
	t->max = max;
	t->cap = max < 256 ? max : 256;
	t->e = malloc((size_t)t->cap * esz);
	t->idx = calloc((size_t)t->cap * 2, sizeof(uint64_t));
	t->mask = t->cap * 2 - 1;
	khash_key_random(&t->hk);
	t->rng = 0x9e3779b97f4a7c15ull ^ (uint64_t)(uintptr_t)t;
	return t->e && t->idx;
}

static void rtab_free(struct rtab *t)
{
	free(t->e);
	free(t->idx);
	t->e = NULL;
	t->idx = NULL;
}

static uint64_t rtab_weight(const struct rtab *t, uint32_t i)
{
	uint64_t w;
	memcpy(&w, (const unsigned char *)rtab_at(t, i) + t->woff, sizeof(w));
	return w;
}

static uint32_t rtab_hash(const struct rtab *t, const void *key)
{
	return (uint32_t)khash(&t->hk, key, t->klen);
}

/* The index slot of key (hash h), or for an absent key the empty slot where it would
 * go. */
static uint32_t rtab_slot(const struct rtab *t, const void *key, uint32_t h, bool *found)
{
	uint32_t s = h & t->mask;
	for (;;) {
		uint64_t v = t->idx[s];
		if (!v) {
			*found = false;
			return s;
		}
		if ((uint32_t)(v >> 32) == h &&
		    memcmp(rtab_at(t, (uint32_t)v - 1), key, t->klen) == 0) {
			*found = true;
			return s;
		}
		s = (s + 1) & t->mask;
	}
}

static bool rtab_grow(struct rtab *t)
{
	uint32_t ncap = t->cap * 2 > t->max ? t->max : t->cap * 2;
	unsigned char *e = realloc(t->e, (size_t)ncap * t->esz);
	if (!e)
		return false;
	t->e = e;
	uint64_t *idx = calloc((size_t)ncap * 2, sizeof(uint64_t));
	if (!idx)
		return false;
	uint32_t nmask = ncap * 2 - 1;
	for (uint32_t s = 0; s <= t->mask; s++) {
		uint64_t v = t->idx[s];
		if (!v)
			continue;
		uint32_t j = (uint32_t)(v >> 32) & nmask;
		while (idx[j])
			j = (j + 1) & nmask;
		idx[j] = v;
	}
	free(t->idx);
	t->idx = idx;
	t->cap = ncap;
	t->mask = nmask;
	return true;
}

/* Remove index slot s, shifting later members of its probe run back (linear probing
 * without tombstones). */
static void rtab_unlink(struct rtab *t, uint32_t s)
{
	uint32_t j = s;
	t->idx[s] = 0;
	for (;;) {
		j = (j + 1) & t->mask;
		uint64_t v = t->idx[j];
		if (!v)
			return;
		uint32_t h = (uint32_t)(v >> 32) & t->mask;
		/* move v to s when its home is not cyclically within (s, j] */
		bool stay = s <= j ? (h > s && h <= j) : (h > s || h <= j);
		if (!stay) {
			t->idx[s] = v;
			t->idx[j] = 0;
			s = j;
		}
	}
}

/* The entry of key, created (zeroed, key set) if absent. *created tells; when an entry
 * had to make room, it is copied to evicted (esz bytes) first and *was_evicted is set.
 * NULL only when out of memory. */
static void *rtab_get(struct rtab *t, const void *key, bool *created, void *evicted,
		      bool *was_evicted, uint32_t *index)
{
	bool found;
	uint32_t h = rtab_hash(t, key);
	uint32_t s = rtab_slot(t, key, h, &found);

	*created = false;
	if (was_evicted)
		*was_evicted = false;
	if (found) {
		*index = (uint32_t)t->idx[s] - 1;
		return rtab_at(t, *index);
	}
	uint32_t i;
	if (t->n == t->cap && t->cap < t->max) {
		if (!rtab_grow(t))
			return NULL;
		s = rtab_slot(t, key, h, &found);
	}
	if (t->n < t->cap) {
		i = t->n++;
	} else {
		/* full: the lightest of 8 sampled entries makes room */
		uint32_t best = 0;
		uint64_t bw = UINT64_MAX;
		for (int k = 0; k < 8; k++) {
			t->rng ^= t->rng << 13;
			t->rng ^= t->rng >> 7;
			t->rng ^= t->rng << 17;
			uint32_t c = (uint32_t)(t->rng % t->n);
			uint64_t w = rtab_weight(t, c);
			if (w < bw) {
				bw = w;
				best = c;
			}
		}
		i = best;
		bool f2;
		const void *old = rtab_at(t, i);
		uint32_t os = rtab_slot(t, old, rtab_hash(t, old), &f2);
		if (evicted)
			memcpy(evicted, old, t->esz);
		if (was_evicted)
			*was_evicted = true;
		rtab_unlink(t, os);
		t->evicted++;
		s = rtab_slot(t, key, h, &found);
	}
	memset(rtab_at(t, i), 0, t->esz);
	memcpy(rtab_at(t, i), key, t->klen);
	t->idx[s] = (uint64_t)h << 32 | (i + 1);
	*created = true;
	*index = i;
	return rtab_at(t, i);
}

static void *rtab_find(const struct rtab *t, const void *key)
{
	bool found;
	uint32_t s = rtab_slot(t, key, rtab_hash(t, key), &found);
	return found ? rtab_at(t, (uint32_t)t->idx[s] - 1) : NULL;
}

/* x before y: heavier first, then by key (a stable order for equal weights) */
static int rtab_cmp(const struct rtab *t, uint32_t x, uint32_t y)
{
	uint64_t wx = rtab_weight(t, x), wy = rtab_weight(t, y);
	if (wx != wy)
		return wx > wy ? -1 : 1;
	return memcmp(rtab_at(t, x), rtab_at(t, y), t->klen);
}

static const struct rtab *sort_tab;

static int by_weight(const void *a, const void *b)
{
	return rtab_cmp(sort_tab, *(const uint32_t *)a, *(const uint32_t *)b);
}

uint32_t *rtab_top(const struct rtab *t, uint32_t k, bool (*keep)(const void *entry),
		   uint32_t *n)
{
	*n = 0;
	if (!t->n || !k)
		return NULL;
	if (k > t->n)
		k = t->n;
	uint32_t *v = malloc((size_t)k * sizeof(*v));
	if (!v)
		return NULL;
	if (k > 64 && !keep) {
		/* many of them: sort them all (the insertion below is for a few) */
		uint32_t *all = realloc(v, (size_t)t->n * sizeof(*v));
		if (!all) {
			free(v);
			return NULL;
		}
		for (uint32_t i = 0; i < t->n; i++)
			all[i] = i;
		sort_tab = t;
		qsort(all, t->n, sizeof(*all), by_weight);
		*n = k;
		return all;
	}
	uint32_t m = 0;
	for (uint32_t i = 0; i < t->n; i++) {
		if (keep && !keep(rtab_at(t, i)))
			continue;
		if (m == k && rtab_cmp(t, i, v[m - 1]) >= 0)
			continue; /* not among the k first: the common case, one comparison */
		uint32_t j = m < k ? m++ : m - 1;
		while (j > 0 && rtab_cmp(t, i, v[j - 1]) < 0) {
			v[j] = v[j - 1];
			j--;
		}
		v[j] = i;
	}
	*n = m;
	return v;
}

/* ---- the report ------------------------------------------------------------------- */

struct report *report_create(const struct netset *home, bool timeline)
{
	struct report *r = calloc(1, sizeof(*r));
	if (!r)
		return NULL;
	r->home = home;
	r->timeline = timeline;
	r->min_slot = -1;
	bool ok = rtab_init(&r->src, sizeof(struct rsrc), sizeof(struct rkey),
			    offsetof(struct rsrc, bytes_out), REPORT_MAX_ENTRIES);
	ok = rtab_init(&r->dst, sizeof(struct rdst), sizeof(struct rkey),
		       offsetof(struct rdst, bytes_out), REPORT_MAX_ENTRIES) && ok;
	ok = rtab_init(&r->groups, sizeof(struct rgroup), sizeof(struct rgroup_key),
		       offsetof(struct rgroup, count), REPORT_MAX_GROUPS) && ok;
	if (!ok) {
		report_destroy(r);
		return NULL;
	}
	return r;
}

void report_destroy(struct report *r)
{
	if (!r)
		return;
	rtab_free(&r->src);
	rtab_free(&r->dst);
	rtab_free(&r->groups);
	for (int i = 0; i < REPORT_TRACKED; i++)
		free(r->tracked[i]);
	for (uint32_t i = 0; i < r->ndetails; i++)
		free(r->details[i]);
	free(r->details);
	free(r->detail_updates);
	free(r->detail_group);
	free(r->al);
	free(r);
}

/* ---- timeline ---- */

static void series_double(struct rseries *s, uint64_t t0, uint64_t w, uint64_t nt0)
{
	struct rseries o = *s;
	memset(s, 0, sizeof(*s));
	for (uint32_t i = 0; i < REPORT_BINS; i++)
		if (o.bin[i])
			s->bin[(t0 + i * w - nt0) / (2 * w)] += o.bin[i];
}

static void series_shift(struct rseries *s, uint32_t by)
{
	memmove(s->bin + by, s->bin, (REPORT_BINS - by) * sizeof(s->bin[0]));
	memset(s->bin, 0, by * sizeof(s->bin[0]));
}

static void each_series(struct report *r, void (*fn)(struct rseries *, void *), void *arg)
{
	fn(&r->other, arg);
	for (int i = 0; i < REPORT_TRACKED; i++)
		if (r->tracked[i])
			fn(r->tracked[i], arg);
}

struct dbl { uint64_t t0, w, nt0; };
static void do_double(struct rseries *s, void *arg)
{
	struct dbl *d = arg;
	series_double(s, d->t0, d->w, d->nt0);
}
static void do_shift(struct rseries *s, void *arg)
{
	series_shift(s, *(uint32_t *)arg);
}

/* Make [lo, hi] fall within the bins. */
static void timeline_fit(struct report *r, uint64_t lo, uint64_t hi)
{
	if (!r->t_init) {
		r->w_us = 1000000u;
		r->t0_us = lo - lo % r->w_us;
		r->t_init = true;
	}
	for (;;) {
		uint64_t nt0 = r->t0_us;
		if (lo < nt0)
			nt0 = lo - lo % r->w_us;
		uint32_t shift = (uint32_t)((r->t0_us - nt0) / r->w_us);
		if (hi < nt0 + REPORT_BINS * r->w_us && r->bins_used + shift <= REPORT_BINS) {
			if (shift) {
				each_series(r, do_shift, &shift);
				r->bins_used += shift;
				r->t0_us = nt0;
			}
			return;
		}
		struct dbl d = { r->t0_us, r->w_us, r->t0_us - r->t0_us % (2 * r->w_us) };
		each_series(r, do_double, &d);
		if (r->bins_used)
			r->bins_used = (uint32_t)((r->t0_us + (r->bins_used - 1) * r->w_us - d.nt0) /
						  (2 * r->w_us)) + 1;
		r->t0_us = d.nt0;
		r->w_us *= 2;
	}
}

/* b bytes spread evenly over [lo, hi] (microseconds, inclusive start). */
static void timeline_add(struct report *r, struct rseries *s, uint64_t lo, uint64_t hi,
			 uint64_t b)
{
	if (!b)
		return;
	uint32_t i0 = (uint32_t)((lo - r->t0_us) / r->w_us);
	uint32_t i1 = (uint32_t)((hi - r->t0_us) / r->w_us);
	if (i1 + 1 > r->bins_used)
		r->bins_used = i1 + 1;
	if (i0 == i1) {
		s->bin[i0] += b;
		return;
	}
	/* the share of bin i is F(end of i) - F(start of i), F(x) = floor(b x / span):
	 * monotone, F(0) = 0 and F(span) = b, so the shares add up to b exactly */
	double span = (double)(hi - lo), given = 0;
	for (uint32_t i = i0; i <= i1; i++) {
		uint64_t end = r->t0_us + (uint64_t)(i + 1) * r->w_us;
		double f = i == i1 ? (double)b : floor((double)b * ((double)(end - lo) / span));
		s->bin[i] += (uint64_t)(f - given);
		given = f;
	}
}

static void untrack(struct report *r, int slot)
{
	r->min_slot = -1;
	for (uint32_t i = 0; i < REPORT_BINS; i++)
		r->other.bin[i] += r->tracked[slot]->bin[i];
	free(r->tracked[slot]);
	r->tracked[slot] = NULL;
	r->ntracked--;
}

/* Keep a line for the largest sources: src (entry index si) gets one if there is room
 * or it has sent more than the smallest tracked source. */
static void maybe_track(struct report *r, struct rsrc *src, uint32_t si)
{
	int slot = -1;
	if (src->tracked >= 0) {
		if (src->tracked == r->min_slot)
			r->min_slot = -1; /* it grew: the smallest is to be found again */
		return;
	}
	if (r->ntracked < REPORT_TRACKED) {
		for (slot = 0; r->tracked[slot]; slot++)
			;
	} else {
		if (r->min_slot < 0) {
			/* tracked sources only grow: the smallest stays so until it grows */
			uint64_t minb = UINT64_MAX;
			for (int i = 0; i < REPORT_TRACKED; i++) {
				struct rsrc *t = rtab_at(&r->src, r->tracked_src[i]);
				if (t->bytes_out < minb) {
					minb = t->bytes_out;
					r->min_slot = i;
				}
			}
		}
		slot = r->min_slot;
		struct rsrc *smallest = rtab_at(&r->src, r->tracked_src[slot]);
		if (src->bytes_out <= smallest->bytes_out)
			return;
		smallest->tracked = -1;
		untrack(r, slot);
	}
	r->min_slot = -1;
	r->tracked[slot] = calloc(1, sizeof(struct rseries));
	if (!r->tracked[slot])
		return;
	r->ntracked++;
	r->tracked_src[slot] = si;
	src->tracked = slot;
}

static uint64_t mix64(uint64_t x)
{
	x ^= x >> 33;
	x *= 0xff51afd7ed558ccdull;
	x ^= x >> 33;
	x *= 0xc4ceb9fe1a85ec53ull;
	return x ^ (x >> 33);
}

void report_flow(struct report *r, const struct report_flow *f)
{
	if (!f->record_only)
		r->flows++;
	if (!r->first_us || f->first_us < r->first_us)
		r->first_us = f->first_us;
	if (f->last_us > r->last_us)
		r->last_us = f->last_us;

	int in = f->internal;
	if (in == -2) {
		bool in0 = netset_contains(r->home, f->family, f->addr[0]);
		bool in1 = netset_contains(r->home, f->family, f->addr[1]);
		in = in0 == in1 ? -1 : in0 ? 0 : 1;
	}
	if (in < 0) {
		if (!f->record_only) {
			if (netset_contains(r->home, f->family, f->addr[0]))
				r->internal_flows++;
			else
				r->external_flows++;
		}
		return;
	}
	int out = in ^ 1;
	uint64_t eg = f->bytes[in], ig = f->bytes[out];
	if (!f->record_only) {
		r->egress_flows++;
	}
	r->egress_bytes += eg;
	r->ingress_bytes += ig;
	if (!eg)
		return; /* nothing went out (a scan or flood coming in): no source, no destination */

	struct rkey k;
	memset(&k, 0, sizeof(k));
	k.family = (uint8_t)f->family;
	memcpy(k.addr, f->addr[in], f->family == 4 ? 4 : 16);
	bool created, ev;
	uint32_t si, di;
	struct rsrc gone;
	struct rsrc *s = rtab_get(&r->src, &k, &created, &gone, &ev, &si);
	if (!s)
		return;
	if (ev) {
		r->src_bytes_dropped += gone.bytes_out;
		if (gone.tracked >= 0)
			untrack(r, gone.tracked);
	}
	if (created)
		s->tracked = -1;
	s->bytes_out += eg;
	s->bytes_in += ig;
	if (!f->record_only) {
		s->flows++;
		if (f->new_destination)
			s->new_flows++;
	}
	if (r->timeline) {
		maybe_track(r, s, si);
		uint64_t lo = f->first_us, hi = f->last_us < lo ? lo : f->last_us;
		timeline_fit(r, lo, hi);
		timeline_add(r, s->tracked >= 0 ? r->tracked[s->tracked] : &r->other, lo, hi,
			     eg);
	}

	struct rkey dk;
	memset(&dk, 0, sizeof(dk));
	dk.family = (uint8_t)f->family;
	memcpy(dk.addr, f->addr[out], f->family == 4 ? 4 : 16);
	struct rdst dgone;
	struct rdst *d = rtab_get(&r->dst, &dk, &created, &dgone, &ev, &di);
	if (!d)
		return;
	if (ev) {
		r->dst_bytes_dropped += dgone.bytes_out;
		if (dgone.is_new)
			r->new_dsts--;
	}
	if (created) {
		memcpy(d->first_src, k.addr, 16);
		d->port = f->port[out];
		d->proto = f->proto;
	}
	if (!d->name[0] && f->name && f->name_len) {
		size_t n = f->name_len < REPORT_NAME_MAX ? f->name_len : REPORT_NAME_MAX;
		memcpy(d->name, f->name, n);
		d->name[n] = '\0';
		for (size_t i = 0; i < n; i++) /* a NUL would end the text early */
			if (!d->name[i])
				d->name[i] = '?';
	}
	d->bytes_out += eg;
	d->bytes_in += ig;
	if (!f->record_only)
		d->flows++;
	uint64_t w[2];
	memcpy(w, k.addr, sizeof(w));
	uint64_t hb = mix64(w[0] ^ mix64(w[1] ^ k.family));
	d->src_bits[(hb >> 6) & 3] |= 1ull << (hb & 63);
	if (f->new_destination && !d->is_new) {
		d->is_new = true;
		r->new_dsts++;
	}
}

uint64_t report_dst_sources(const struct rdst *d)
{
	int zero = 0;
	for (int i = 0; i < 4; i++)
		zero += 64 - __builtin_popcountll(d->src_bits[i]);
	if (zero == 256)
		return 0;
	if (zero == 0)
		zero = 1; /* saturated: at least this many */
	/* linear counting: n = -m ln(V) */
	return (uint64_t)llround(-256.0 * log((double)zero / 256.0));
}

/* ---- alerts ---- */

static int tech_index(struct report *r, const char *t)
{
	for (int i = 0; i < r->ntech; i++)
		if (strcmp(r->tech[i], t) == 0)
			return i;
	if (r->ntech < REPORT_MAX_TECH) {
		snprintf(r->tech[r->ntech], sizeof(r->tech[0]), "%s", t[0] ? t : "other");
		return r->ntech++;
	}
	return REPORT_MAX_TECH - 1;
}

static void addr_key(struct rkey *k, int family, const uint8_t *a)
{
	memset(k, 0, sizeof(*k));
	k->family = (uint8_t)family;
	memcpy(k->addr, a, family == 4 ? 4 : 16);
}

void report_alert(struct report *r, const struct alert *a)
{
	if (a->update_of[0]) {
		/* the alert it updates, if its evidence was kept: newest first */
		for (uint32_t i = r->ndetails; i-- > 0;) {
			if (strcmp(r->details[i]->id, a->update_of) == 0) {
				struct alert *d = r->details[i];
				uint64_t ts = d->ts_us, before = d->bytes_out;
				uint32_t gi = r->detail_group[i];
				if (gi != UINT32_MAX && gi < r->groups.n)
					((struct rgroup *)rtab_at(&r->groups, gi))->bytes_out +=
						a->bytes_out - before;
				r->tech_bytes[tech_index(r, d->technique)] += a->bytes_out - before;
				char id[sizeof(d->id)];
				memcpy(id, d->id, sizeof(id));
				*d = *a;
				d->ts_us = ts;
				memcpy(d->id, id, sizeof(id));
				d->update_of[0] = '\0';
				r->detail_updates[i]++;
				r->updates++;
				return;
			}
		}
		r->updates++;
		r->updates_unmatched++;
		return;
	}
	r->alerts++;
	r->by_sev[a->severity < 4 ? a->severity : 3]++;
	int t = tech_index(r, a->technique);
	r->tech_alerts[t]++;
	r->tech_bytes[t] += a->bytes_out;

	/* the alert may come before its flow ends: the entries are made here if need be */
	struct rkey k;
	bool made, ev;
	uint32_t ix;
	if (netset_contains(r->home, a->family, a->src)) {
		struct rsrc gone;
		addr_key(&k, a->family, a->src);
		struct rsrc *s = rtab_get(&r->src, &k, &made, &gone, &ev, &ix);
		if (ev) {
			r->src_bytes_dropped += gone.bytes_out;
			if (gone.tracked >= 0)
				untrack(r, gone.tracked);
		}
		if (s && made)
			s->tracked = -1;
		if (s)
			s->alerts++;
	}
	if (!netset_contains(r->home, a->family, a->dst)) {
		struct rdst dgone;
		addr_key(&k, a->family, a->dst);
		struct rdst *d = rtab_get(&r->dst, &k, &made, &dgone, &ev, &ix);
		if (ev) {
			r->dst_bytes_dropped += dgone.bytes_out;
			if (dgone.is_new)
				r->new_dsts--;
		}
		if (d && made) {
			memcpy(d->first_src, a->src, 16);
			d->port = a->dst_port;
		}
		if (d)
			d->alerts++;
	}

	struct rgroup_key gk;
	memset(&gk, 0, sizeof(gk));
	snprintf(gk.rule_id, sizeof(gk.rule_id), "%s", a->rule_id);
	gk.family = a->family;
	memcpy(gk.src, a->src, a->family == 4 ? 4 : 16);
	bool created;
	uint32_t gi = UINT32_MAX;
	struct rgroup *g = NULL;
	if (r->groups.n < r->groups.max || rtab_find(&r->groups, &gk))
		g = rtab_get(&r->groups, &gk, &created, NULL, &ev, &gi);
	if (g) {
		if (created) {
			g->first_us = a->ts_us;
			snprintf(g->rule_name, sizeof(g->rule_name), "%s", a->rule_name);
			g->tech = (uint8_t)t;
		}
		g->count++;
		g->bytes_out += a->bytes_out;
		g->last_us = a->ts_us;
		if (a->severity > g->severity)
			g->severity = a->severity;
	} else {
		r->group_overflow++;
	}

	if (r->nal == REPORT_MAX_ALERTS) {
		r->alerts_not_kept++;
		return;
	}
	if (r->nal == r->alcap) {
		uint32_t nc = r->alcap ? r->alcap * 2 : 64;
		struct ralert *n = realloc(r->al, nc * sizeof(*n));
		if (!n) {
			r->alerts_not_kept++;
			return;
		}
		r->al = n;
		r->alcap = nc;
	}
	struct ralert *ra = &r->al[r->nal++];
	ra->ts_us = a->ts_us;
	ra->tech = (uint8_t)t;
	ra->severity = a->severity;
	ra->detail = 0;
	if (r->ndetails < REPORT_DETAIL_ALERTS) {
		if (!r->details) {
			r->details = calloc(REPORT_DETAIL_ALERTS, sizeof(*r->details));
			r->detail_updates = calloc(REPORT_DETAIL_ALERTS, sizeof(uint32_t));
			r->detail_group = calloc(REPORT_DETAIL_ALERTS, sizeof(uint32_t));
			if (!r->details || !r->detail_updates || !r->detail_group)
				return;
		}
		struct alert *c = malloc(sizeof(*c));
		if (!c)
			return;
		*c = *a;
		r->details[r->ndetails] = c;
		r->detail_group[r->ndetails] = gi;
		r->ndetails++;
		ra->detail = r->ndetails;
		if (g)
			g->shown++;
	}
}

/* ---- summary ---------------------------------------------------------------------- */

void report_addr_text(int family, const uint8_t *addr, char *out, size_t outsz)
{
	if (!inet_ntop(family == 4 ? AF_INET : AF_INET6, addr, out, (socklen_t)outsz))
		snprintf(out, outsz, "?");
}

static void fmt_time(uint64_t us, char *out, size_t n, bool date)
{
	time_t t = (time_t)(us / 1000000u);
	struct tm tm;
	gmtime_r(&t, &tm);
	strftime(out, n, date ? "%Y-%m-%d %H:%M:%S" : "%H:%M:%S", &tm);
}

void report_count_text(uint64_t v, char *out, size_t n)
{
	char tmp[32];
	int len = snprintf(tmp, sizeof(tmp), "%llu", (unsigned long long)v);
	size_t o = 0;
	for (int i = 0; i < len && o + 2 < n; i++) {
		if (i && (len - i) % 3 == 0)
			out[o++] = ',';
		out[o++] = tmp[i];
	}
	out[o] = '\0';
}

static void fmt_span(uint64_t us, char *out, size_t n)
{
	uint64_t s = us / 1000000u;
	if (s >= 86400)
		snprintf(out, n, "%llud%02lluh%02llum", (unsigned long long)(s / 86400),
			 (unsigned long long)(s % 86400 / 3600), (unsigned long long)(s % 3600 / 60));
	else if (s >= 3600)
		snprintf(out, n, "%lluh%02llum%02llus", (unsigned long long)(s / 3600),
			 (unsigned long long)(s % 3600 / 60), (unsigned long long)(s % 60));
	else if (s >= 60)
		snprintf(out, n, "%llum%02llus", (unsigned long long)(s / 60),
			 (unsigned long long)(s % 60));
	else
		snprintf(out, n, "%.1fs", (double)us / 1e6);
}

/* Display text of a wire name: printable ASCII kept, anything else as \xNN. */
static void safe_text(const char *s, char *out, size_t n)
{
	size_t o = 0;
	for (const unsigned char *p = (const unsigned char *)s; *p && o + 5 < n; p++) {
		if (*p >= 0x20 && *p < 0x7f)
			out[o++] = (char)*p;
		else
			o += (size_t)snprintf(out + o, n - o, "\\x%02x", *p);
	}
	out[o] = '\0';
}

static bool dst_is_new(const void *e)
{
	return ((const struct rdst *)e)->is_new;
}

void report_print_summary(struct report *r, const struct report_input *in,
			  const struct enrich *enrich, FILE *f)
{
	char a[64], b[64], c[64], d[64], e[64];

	report_count_text(in->packets, a, sizeof(a));
	alert_fmt_bytes(in->wire_bytes, b, sizeof(b));
	fprintf(f, "egressd summary\n");
	if (in->nfiles)
		fprintf(f, "  input:        %s packets, %s, %d file%s%s\n", a, b, in->nfiles,
			in->nfiles == 1 ? "" : "s", in->damaged_files ? " (damaged)" : "");
	else
		fprintf(f, "  input:        %s packets, %s, interface %s\n", a, b,
			in->interface ? in->interface : "?");
	if (r->flows) {
		fmt_time(r->first_us, c, sizeof(c), true);
		fmt_time(r->last_us, d, sizeof(d), false);
		fmt_span(r->last_us - r->first_us, e, sizeof(e));
		fprintf(f, "  time:         %s to %s UTC (%s)\n", c, d, e);
	}
	report_count_text(r->flows, a, sizeof(a));
	report_count_text(r->egress_flows, b, sizeof(b));
	report_count_text(r->internal_flows, c, sizeof(c));
	report_count_text(r->external_flows, d, sizeof(d));
	fprintf(f, "  flows:        %s (%s egress, %s internal, %s external)\n", a, b, c, d);
	alert_fmt_bytes(r->egress_bytes, a, sizeof(a));
	alert_fmt_bytes(r->ingress_bytes, b, sizeof(b));
	uint64_t ndst = r->dst.n;
	report_count_text(ndst, c, sizeof(c));
	report_count_text(r->new_dsts, d, sizeof(d));
	fprintf(f, "  egress:       %s out, %s in, %s%s destination%s (%s new%s)\n", a, b,
		r->dst.evicted ? "over " : "", c, ndst == 1 ? "" : "s", d,
		in->baseline_loaded ? "" : ", no baseline loaded");
	if (!r->alerts) {
		fprintf(f, "  alerts:       none%s\n",
			in->rate_limited ? " (some held back by the rate limits)" : "");
	} else {
		report_count_text(r->alerts, a, sizeof(a));
		fprintf(f, "  alerts:       %s (", a);
		for (int i = 0; i < r->ntech; i++) {
			report_count_text(r->tech_alerts[i], b, sizeof(b));
			fprintf(f, "%s%s %s", i ? ", " : "", r->tech[i], b);
		}
		fprintf(f, ")");
		if (in->rate_limited) {
			report_count_text(in->rate_limited, b, sizeof(b));
			fprintf(f, ", %s held back by the rate limits", b);
		}
		fprintf(f, "\n");
	}

	uint32_t n;
	uint32_t *v = rtab_top(&r->src, 5, NULL, &n);
	if (n) {
		fprintf(f, "  top egress sources:\n");
		for (uint32_t i = 0; i < n && i < 5; i++) {
			const struct rsrc *s = rtab_at(&r->src, v[i]);
			char ip[INET6_ADDRSTRLEN];
			report_addr_text(s->k.family, s->k.addr, ip, sizeof(ip));
			alert_fmt_bytes(s->bytes_out, a, sizeof(a));
			report_count_text(s->flows, b, sizeof(b));
			fprintf(f, "    %-39s %10s out  %s flow%s, %u alert%s\n", ip, a, b,
				s->flows == 1 ? "" : "s", s->alerts, s->alerts == 1 ? "" : "s");
		}
	}
	free(v);

	v = rtab_top(&r->dst, 5, dst_is_new, &n);
	for (uint32_t i = 0; i < n; i++) {
		const struct rdst *dd = rtab_at(&r->dst, v[i]);
		if (!i)
			fprintf(f, "  new destinations by egress bytes:\n");
		char ip[INET6_ADDRSTRLEN], name[4 * REPORT_NAME_MAX + 1], from[INET6_ADDRSTRLEN];
		report_addr_text(dd->k.family, dd->k.addr, ip, sizeof(ip));
		report_addr_text(dd->k.family, dd->first_src, from, sizeof(from));
		safe_text(dd->name, name, sizeof(name));
		alert_fmt_bytes(dd->bytes_out, a, sizeof(a));
		char extra[200] = "";
		if (enrich) {
			struct enrich_result er;
			enrich_destination(enrich, dd->k.family, dd->k.addr, dd->name[0] ? dd->name : NULL,
					   strlen(dd->name), &er);
			size_t o = 0;
			if (er.category != ENRICH_CAT_NONE)
				o += (size_t)snprintf(extra + o, sizeof(extra) - o, " %s",
						      enrich_category_name(er.category));
			if (er.has_geo && er.geo.country[0])
				o += (size_t)snprintf(extra + o, sizeof(extra) - o, " %s",
						      er.geo.country);
			if (er.has_geo && er.geo.asn && o < sizeof(extra))
				snprintf(extra + o, sizeof(extra) - o, " AS%u", er.geo.asn);
		}
		uint64_t ns = report_dst_sources(dd);
		fprintf(f, "    %-39s %10s from %s%s%s%s%s\n", ip, a, from,
			ns > 1 ? " and others" : "", name[0] ? "  " : "", name, extra);
	}
	free(v);
	fflush(f);
}
