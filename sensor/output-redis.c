/* output-redis.c: the Redis stream sink (see output-redis.h). */
#include <errno.h>
#include <hiredis/hiredis.h>
#include <inttypes.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>

#include "le.h"
#include "log.h"
#include "output-redis.h"
#include "spool.h"

#define BATCH_MAX 256
#define BATCH_BYTES (1u << 20)
#define QUEUE_BYTES_MAX (64u << 20)
#define BACKOFF_MIN_MS 100
#define BACKOFF_MAX_MS 5000
#define RULE_MAX 64

enum err_kind { E_IO, E_TIMEOUT, E_OOM, E_NOPERM, E_AUTH, E_WRONGTYPE, E_OTHER, E_KINDS };
static const char *const err_name[E_KINDS] = { "io",	 "timeout",   "oom",  "noperm",
					       "auth", "wrongtype", "other" };

/* A document waiting to be sent. The fields after `json` is filled are the redis
 * thread's only. */
struct item {
	uint32_t len;
	uint8_t sev;
	bool has_id;   /* an entry id was put on the wire and no definite answer came back */
	bool attempted; /* sent at least once before */
	bool done;     /* in the stream already (accepted after an earlier one failed) */
	bool star;     /* dedupe=id: send with '*' (the explicit id was refused as too small) */
	bool health;   /* a health event (kind health), not an alert */
	uint64_t id_ms, id_seq;
	uint64_t seq; /* spool sequence number (items read from the spool) */
	char rule[RULE_MAX + 1];
	char event_id[48];
	char json[];
};

/* Written by the redis thread, read by SIGUSR1's printer on the main thread: atomic. */
struct counters {
	_Atomic uint64_t queued, sent, retried, spooled, replayed, dropped, deduplicated,
		reordered;
	_Atomic uint64_t reconnects, id_conflicts, spool_errors;
	_Atomic uint64_t err[E_KINDS];
	/* the spool's, copied by the thread after each round */
	_Atomic uint64_t sp_pending, sp_recovered, sp_torn, sp_corrupt, sp_full, sp_write_errors;
};

/* The spool's meta blob: the entry ids given to a run of spool records that were sent
 * and not yet answered, so that after a restart they go out with the same ids. */
struct inflight_meta {
	uint64_t seq0, count, base_ms, base_seq;
};

struct redis_sink {
	struct redis_opts o;
	char desc[512];

	/* shared with the producer, under mu */
	pthread_mutex_t mu;
	pthread_cond_t cv;
	struct item **ring;
	uint32_t cap, head, n;
	size_t bytes;
	bool stopping;
	uint64_t drain_deadline_ms;
	uint64_t queued, dropped_full;
	uint64_t drop_logged;

	/* the thread's */
	pthread_t thread;
	bool started;
	redisContext *c;
	struct spool *spool;
	struct spool_batch sb;
	struct item *b[BATCH_MAX]; /* the batch being sent: spool items (owned) or queue items */
	size_t bn;
	bool b_from_spool;
	uint64_t last_ms, last_seq; /* dedupe=id: the last entry id given */
	uint32_t backoff_ms;
	uint64_t next_try_ms;
	bool outage;		     /* logged that Redis is away */
	bool spool_refused;	     /* the last spill stopped: the spool is full or failing */
	uint32_t logged_errors;	     /* bit per err_kind logged in this outage */
	struct counters st;
	struct inflight_meta meta; /* the last run of ids written to the spool's meta */
	char ids[BATCH_MAX][48], sev[BATCH_MAX][4], dkey[BATCH_MAX][320]; /* command text */
	int lost_at_exit;
};

static uint64_t mono_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static uint64_t wall_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* ---- spool records -----------------------------------------------------------------
 * payload: u8 version (1), u8 flags (1 has_id, 2 attempted, 4 health), u8 sev, u8 rule length,
 * u8 event id length, 3 zero bytes, u64 id_ms, u64 id_seq (little-endian), rule,
 * event id, document. */

#define REC_HDR 24


static struct item *item_new(const char *json, size_t len, const char *rule, unsigned sev,
			     const char *event_id, bool health)
{
	struct item *it = malloc(sizeof(*it) + len + 1);
	if (!it)
		return NULL;
	memset(it, 0, sizeof(*it));
	it->len = (uint32_t)len;
	it->sev = (uint8_t)sev;
	snprintf(it->rule, sizeof(it->rule), "%s", rule ? rule : "");
	snprintf(it->event_id, sizeof(it->event_id), "%s", event_id ? event_id : "");
	memcpy(it->json, json, len);
	it->json[len] = '\0';
	it->health = health;
	return it;
}

static int spool_put(struct redis_sink *r, const struct item *it)
{
	size_t rl = strlen(it->rule), el = strlen(it->event_id);
	size_t n = REC_HDR + rl + el + it->len;
	uint8_t *p = malloc(n);
	if (!p)
		return SPOOL_IOERR;
	memset(p, 0, REC_HDR);
	p[0] = 1;
	p[1] = (uint8_t)((it->has_id ? 1 : 0) | (it->attempted ? 2 : 0) | (it->health ? 4 : 0));
	p[2] = it->sev;
	p[3] = (uint8_t)rl;
	p[4] = (uint8_t)el;
	le_put(p + 8, it->id_ms, 8);
	le_put(p + 16, it->id_seq, 8);
	memcpy(p + REC_HDR, it->rule, rl);
	memcpy(p + REC_HDR + rl, it->event_id, el);
	memcpy(p + REC_HDR + rl + el, it->json, it->len);
	int rc = spool_append(r->spool, p, n);
	free(p);
	return rc;
}

static struct item *spool_get(const struct spool_rec *rec)
{
	const uint8_t *p = rec->data;
	if (rec->len < REC_HDR || p[0] != 1 || p[3] > RULE_MAX || p[4] >= 48)
		return NULL;
	size_t rl = p[3], el = p[4];
	if (rec->len < REC_HDR + rl + el)
		return NULL;
	char rule[RULE_MAX + 1], eid[48];
	memcpy(rule, p + REC_HDR, rl);
	rule[rl] = '\0';
	memcpy(eid, p + REC_HDR + rl, el);
	eid[el] = '\0';
	size_t jl = rec->len - REC_HDR - rl - el;
	struct item *it = item_new((const char *)p + REC_HDR + rl + el, jl, rule, p[2], eid,
				   (p[1] & 4) != 0);
	if (!it)
		return NULL;
	it->has_id = p[1] & 1;
	it->attempted = (p[1] & 2) != 0;
	it->id_ms = le_get(p + 8, 8);
	it->id_seq = le_get(p + 16, 8);
	it->seq = rec->seq;
	return it;
}

static void meta_write(struct redis_sink *r, uint64_t seq0, uint64_t count, uint64_t ms,
		       uint64_t seq)
{
	uint8_t m[32];
	le_put(m, seq0, 8);
	le_put(m + 8, count, 8);
	le_put(m + 16, ms, 8);
	le_put(m + 24, seq, 8);
	if (spool_meta_set(r->spool, m, count ? sizeof(m) : 0) != SPOOL_OK)
		r->st.spool_errors++;
	r->meta.seq0 = seq0;
	r->meta.count = count;
	r->meta.base_ms = ms;
	r->meta.base_seq = seq;
}

static bool meta_read(struct redis_sink *r, struct inflight_meta *m)
{
	uint8_t b[64];
	if (spool_meta_get(r->spool, b, sizeof(b)) != 32)
		return false;
	m->seq0 = le_get(b, 8);
	m->count = le_get(b + 8, 8);
	m->base_ms = le_get(b + 16, 8);
	m->base_seq = le_get(b + 24, 8);
	return m->count > 0 && m->count <= (1u << 20);
}

/* ---- the producer side --------------------------------------------------------------- */

void redis_sink_alert(struct redis_sink *r, const char *json, size_t len, const char *rule_id,
		      unsigned sev, const char *event_id, bool health)
{
	struct item *it = len < SPOOL_RECORD_MAX - 512
				  ? item_new(json, len, rule_id, sev, event_id, health)
				  : NULL;
	pthread_mutex_lock(&r->mu);
	if (!it || r->n == r->cap || r->bytes + len > QUEUE_BYTES_MAX) {
		uint64_t d = ++r->dropped_full;
		pthread_mutex_unlock(&r->mu);
		free(it);
		if (d == 1 || d % 1000 == 0)
			log_msg(LOG_LEVEL_ERROR,
				"%s: the memory queue is full (%u alerts) and the spool cannot take "
				"them: %" PRIu64 " alert%s dropped so far",
				r->desc, r->cap, d, d == 1 ? "" : "s");
		return;
	}
	r->ring[(r->head + r->n) % r->cap] = it;
	r->n++;
	r->bytes += len;
	r->queued++;
	pthread_cond_signal(&r->cv);
	pthread_mutex_unlock(&r->mu);
}

/* ---- the thread: queue and spool --------------------------------------------------- */

static struct item *queue_at(struct redis_sink *r, uint32_t i)
{
	return r->ring[(r->head + i) % r->cap];
}

static void queue_pop(struct redis_sink *r, uint32_t k)
{
	pthread_mutex_lock(&r->mu);
	for (uint32_t i = 0; i < k; i++) {
		struct item *it = r->ring[r->head];
		r->bytes -= it->len;
		free(it);
		r->head = (r->head + 1) % r->cap;
		r->n--;
	}
	pthread_mutex_unlock(&r->mu);
}

static uint32_t queue_len(struct redis_sink *r)
{
	pthread_mutex_lock(&r->mu);
	uint32_t n = r->n;
	pthread_mutex_unlock(&r->mu);
	return n;
}

static void batch_clear(struct redis_sink *r)
{
	if (r->b_from_spool)
		for (size_t i = 0; i < r->bn; i++)
			free(r->b[i]);
	r->bn = 0;
	r->b_from_spool = false;
}

/* Move the memory queue, oldest first, to the spool tail. Stops at the first record
 * the spool refuses (full, disk error): the rest stays in memory, still in order. */
static void spill(struct redis_sink *r)
{
	if (!r->spool)
		return;
	if (!r->b_from_spool)
		r->bn = 0; /* queue items: they are still in the queue */
	uint32_t n = queue_len(r), moved = 0;
	r->spool_refused = false;
	for (uint32_t i = 0; i < n; i++) {
		struct item *it = queue_at(r, i); /* the producer only adds at the tail */
		if (!it->done) {
			int rc = spool_put(r, it);
			if (rc != SPOOL_OK) {
				r->st.spool_errors++;
				r->spool_refused = true;
				if (!(r->logged_errors & (1u << 31))) {
					r->logged_errors |= 1u << 31;
					log_msg(LOG_LEVEL_ERROR,
						"%s: the spool refused an alert (%s); alerts wait in "
						"memory until it has room",
						r->desc, rc == SPOOL_FULL ? "it is full" : strerror(errno));
				}
				break;
			}
			r->st.spooled++;
		}
		moved++;
	}
	if (moved) {
		if (spool_sync(r->spool) != SPOOL_OK)
			r->st.spool_errors++;
		queue_pop(r, moved);
	}
}

/* dedupe=id: the next entry id, above every id given before. */
static void next_id(struct redis_sink *r, uint64_t *ms, uint64_t *seq)
{
	uint64_t now = wall_ms();
	if (now > r->last_ms) {
		r->last_ms = now;
		r->last_seq = 0;
	} else {
		r->last_seq++;
	}
	*ms = r->last_ms;
	*seq = r->last_seq;
}

static void seen_id(struct redis_sink *r, uint64_t ms, uint64_t seq)
{
	if (ms > r->last_ms || (ms == r->last_ms && seq > r->last_seq)) {
		r->last_ms = ms;
		r->last_seq = seq;
	}
}

/* Fill r->b: spool records first (while the spool has any), else the queue's front. */
static bool fill_batch(struct redis_sink *r)
{
	if (r->spool && (spool_pending(r->spool) > 0 || r->b_from_spool)) {
		if (!r->b_from_spool)
			r->bn = 0;
		r->b_from_spool = true;
		if (r->bn < BATCH_MAX) {
			int k = spool_peek(r->spool, &r->sb, BATCH_MAX, BATCH_BYTES);
			if (k < 0) {
				r->st.spool_errors++;
				return r->bn > 0;
			}
			for (size_t i = r->bn; i < (size_t)k; i++) {
				struct item *it = spool_get(&r->sb.rec[i]);
				if (!it) {
					/* a record this version cannot read: keep the order, say so */
					log_msg(LOG_LEVEL_ERROR,
						"%s: spool record %" PRIu64 " is not an alert record; "
						"skipped",
						r->desc, r->sb.rec[i].seq);
					r->st.spool_errors++;
					it = item_new("", 0, "", 0, "", false);
					if (!it)
						break;
					it->done = true;
					it->seq = r->sb.rec[i].seq;
				}
				const struct inflight_meta *m = &r->meta;
				if (r->o.dedupe == REDIS_DEDUPE_ID && !it->has_id && m->count &&
				    it->seq >= m->seq0 && it->seq - m->seq0 < m->count) {
					/* sent before a restart, its answer unseen: the same id */
					it->has_id = true;
					it->attempted = true;
					it->id_ms = m->base_ms;
					it->id_seq = m->base_seq + (it->seq - m->seq0);
				}
				if (r->o.dedupe == REDIS_DEDUPE_ID && it->has_id)
					seen_id(r, it->id_ms, it->id_seq);
				r->b[r->bn++] = it;
			}
		}
		return r->bn > 0;
	}
	batch_clear(r);
	uint32_t n = queue_len(r);
	size_t bytes = 0;
	for (uint32_t i = 0; i < n && r->bn < BATCH_MAX && bytes < BATCH_BYTES; i++) {
		r->b[r->bn++] = queue_at(r, i);
		bytes += queue_at(r, i)->len;
	}
	return r->bn > 0;
}

/* ---- the thread: Redis ------------------------------------------------------------- */

static enum err_kind classify(const char *msg)
{
	if (strncmp(msg, "OOM", 3) == 0)
		return E_OOM;
	if (strncmp(msg, "NOPERM", 6) == 0)
		return E_NOPERM;
	if (strncmp(msg, "NOAUTH", 6) == 0 || strncmp(msg, "WRONGPASS", 9) == 0 ||
	    strstr(msg, "invalid password") || strstr(msg, "invalid username-password"))
		return E_AUTH;
	if (strncmp(msg, "WRONGTYPE", 9) == 0)
		return E_WRONGTYPE;
	return E_OTHER;
}

static void note_error(struct redis_sink *r, enum err_kind k, const char *what)
{
	r->st.err[k]++;
	if (r->logged_errors & (1u << k))
		return;
	r->logged_errors |= 1u << k;
	switch (k) {
	case E_NOPERM:
		log_msg(LOG_LEVEL_ERROR,
			"%s: the Redis user%s%s may not do this (%.200s); give it +xadd on the "
			"stream key (see the README); alerts wait until it may",
			r->desc, r->o.user[0] ? " " : " (default)", r->o.user, what);
		break;
	case E_AUTH:
		log_msg(LOG_LEVEL_ERROR,
			"%s: authentication failed for user %s (%.200s); check the password "
			"source; alerts wait until it succeeds",
			r->desc, r->o.user[0] ? r->o.user : "default", what);
		break;
	case E_WRONGTYPE:
		log_msg(LOG_LEVEL_ERROR,
			"%s: the key %s holds another type than a stream (%.200s); alerts wait until "
			"it is a stream or deleted",
			r->desc, r->o.stream, what);
		break;
	case E_OOM:
		log_msg(LOG_LEVEL_WARN,
			"%s: Redis is out of memory (maxmemory, %.200s); alerts wait and are "
			"retried",
			r->desc, what);
		break;
	default:
		log_msg(LOG_LEVEL_WARN, "%s: %s error: %.300s; alerts wait and are retried",
			r->desc, err_name[k], what);
	}
}

static void disconnect(struct redis_sink *r)
{
	if (r->c)
		redisFree(r->c);
	r->c = NULL;
}

static void backoff(struct redis_sink *r)
{
	r->backoff_ms = r->backoff_ms ? r->backoff_ms * 2 : BACKOFF_MIN_MS;
	if (r->backoff_ms > BACKOFF_MAX_MS)
		r->backoff_ms = BACKOFF_MAX_MS;
	r->next_try_ms = mono_ms() + r->backoff_ms;
	if (!r->outage) {
		r->outage = true;
		log_msg(LOG_LEVEL_WARN, "%s: not delivering; alerts wait %s and are retried",
			r->desc, r->spool ? "in the spool" : "in memory (no spool configured)");
	}
}

static bool io_failed(struct redis_sink *r, int saved_errno)
{
	enum err_kind k = E_IO;
	if (r->c && r->c->err == REDIS_ERR_IO &&
	    (saved_errno == EAGAIN || saved_errno == EWOULDBLOCK || saved_errno == ETIMEDOUT))
		k = E_TIMEOUT;
	note_error(r, k, r->c ? r->c->errstr : "no connection");
	disconnect(r);
	return false;
}

/* One command, synchronously; *reply is NULL after an I/O error (the connection is gone). */
static bool command(struct redis_sink *r, redisReply **reply, int argc, const char **argv)
{
	size_t lens[8];
	for (int i = 0; i < argc; i++)
		lens[i] = strlen(argv[i]);
	*reply = redisCommandArgv(r->c, argc, argv, lens);
	if (!*reply)
		return io_failed(r, errno);
	if ((*reply)->type == REDIS_REPLY_ERROR) {
		note_error(r, classify((*reply)->str), (*reply)->str);
		freeReplyObject(*reply);
		*reply = NULL;
		return false;
	}
	return true;
}

static bool connect_redis(struct redis_sink *r)
{
	struct timeval tv = { (time_t)(r->o.timeout_ms / 1000),
			      (suseconds_t)(r->o.timeout_ms % 1000) * 1000 };
	redisReply *rep;

	disconnect(r);
	if (r->o.unix_path[0])
		r->c = redisConnectUnixWithTimeout(r->o.unix_path, tv);
	else
		r->c = redisConnectWithTimeout(r->o.host, r->o.port, tv);
	if (!r->c) {
		note_error(r, E_IO, "out of memory");
		return false;
	}
	if (r->c->err)
		return io_failed(r, errno);
	/* hiredis 0.14 bounds only the connect with that timeout: reads and writes too */
	if (redisSetTimeout(r->c, tv) != REDIS_OK)
		return io_failed(r, errno);
	if (r->o.password[0]) {
		const char *a3[] = { "AUTH", r->o.user, r->o.password };
		const char *a2[] = { "AUTH", r->o.password };
		bool ok = r->o.user[0] ? command(r, &rep, 3, a3) : command(r, &rep, 2, a2);
		if (!ok) {
			disconnect(r);
			return false;
		}
		freeReplyObject(rep);
	}
	if (r->o.db) {
		char db[16];
		snprintf(db, sizeof(db), "%u", r->o.db);
		const char *a[] = { "SELECT", db };
		if (!command(r, &rep, 2, a)) {
			disconnect(r);
			return false;
		}
		freeReplyObject(rep);
	}
	const char *ping[] = { "PING" };
	if (!command(r, &rep, 1, ping)) {
		disconnect(r);
		return false;
	}
	freeReplyObject(rep);
	return true;
}

static const char dedupe_script[] =
	"if redis.call('SET', KEYS[2], '1', 'NX', 'EX', ARGV[2]) then\n"
	"  local ok, res = pcall(redis.call, 'XADD', KEYS[1], 'MAXLEN', '~', ARGV[1], '*',\n"
	"    ARGV[3], ARGV[4], 'kind', ARGV[7], 'rule', ARGV[5], 'sev', ARGV[6])\n"
	"  if ok then return res end\n"
	"  redis.call('DEL', KEYS[2])\n"
	"  return redis.error_reply(res.err or tostring(res))\n"
	"end\n"
	"return false\n";

static const char *const TOO_SMALL = "equal or smaller than the target stream top item";

enum outcome { O_OK, O_DUP, O_FAIL, O_CONFLICT, O_UNKNOWN };

/* The argument vector of one record's command; returns argc. */
static int build_command(struct redis_sink *r, struct item *it, const char **argv, size_t *lens,
			 char *id, size_t idsz, char *sev, char *dkey, size_t dksz,
			 const char *maxlen, const char *ttl)
{
	int argc = 0, json_at;

	snprintf(sev, 4, "%u", it->sev);
	if (r->o.dedupe == REDIS_DEDUPE_EVENT_ID) {
		snprintf(dkey, dksz, "%s:seen:%s", r->o.stream, it->event_id);
		argv[argc++] = "EVAL";
		argv[argc++] = dedupe_script;
		argv[argc++] = "2";
		argv[argc++] = r->o.stream;
		argv[argc++] = dkey;
		argv[argc++] = maxlen;
		argv[argc++] = ttl;
		argv[argc++] = r->o.field;
		json_at = argc;
		argv[argc++] = it->json;
		argv[argc++] = it->rule;
		argv[argc++] = sev;
		argv[argc++] = it->health ? "health" : "alert";
	} else {
		argv[argc++] = "XADD";
		argv[argc++] = r->o.stream;
		if (r->o.maxlen) {
			argv[argc++] = "MAXLEN";
			argv[argc++] = "~";
			argv[argc++] = maxlen;
		}
		if (r->o.dedupe == REDIS_DEDUPE_ID && !it->star) {
			snprintf(id, idsz, "%" PRIu64 "-%" PRIu64, it->id_ms, it->id_seq);
			argv[argc++] = id;
		} else {
			argv[argc++] = "*";
		}
		argv[argc++] = r->o.field;
		json_at = argc;
		argv[argc++] = it->json;
		argv[argc++] = "kind";
		argv[argc++] = it->health ? "health" : "alert";
		argv[argc++] = "rule";
		argv[argc++] = it->rule;
		argv[argc++] = "sev";
		argv[argc++] = sev;
	}
	for (int a = 0; a < argc; a++)
		lens[a] = a == json_at ? it->len : strlen(argv[a]);
	return argc;
}

/* Send the batch pipelined and read every reply. Returns how many records at the front
 * are settled (in the stream, or refused as repeats). *healthy is false when a failure
 * means waiting (backoff) before trying again. */
static size_t send_batch(struct redis_sink *r, bool *healthy)
{
	char (*ids)[48] = r->ids, (*sev)[4] = r->sev, (*dkey)[320] = r->dkey;
	char maxlen[24], ttl[16];
	enum outcome out[BATCH_MAX];
	bool kept[BATCH_MAX];
	size_t n = r->bn;
	uint64_t run_seq0 = 0, run_ms = 0, run_idseq = 0, run_count = 0;

	/* dedupe=id: a record that goes with '*' goes alone, and its reply (the stream's new
	 * last id) moves our clock before any explicit id is given again; explicit ids given
	 * in the same pipeline behind it could collide with the id Redis picks for it */
	if (r->o.dedupe == REDIS_DEDUPE_ID) {
		for (size_t i = 0; i < n; i++) {
			if (r->b[i]->star && !r->b[i]->done) {
				n = i == 0 ? 1 : i;
				break;
			}
		}
	}
	bool run_open = true;

	*healthy = true;
	snprintf(maxlen, sizeof(maxlen), "%" PRIu64, r->o.maxlen);
	snprintf(ttl, sizeof(ttl), "%u", r->o.dedupe_ttl_s);
	for (size_t i = 0; i < n; i++) {
		struct item *it = r->b[i];
		const char *argv[16];
		size_t lens[16];

		out[i] = O_UNKNOWN;
		kept[i] = it->has_id;
		if (it->done) {
			out[i] = O_DUP;
			continue;
		}
		if (it->attempted)
			r->st.retried++;
		it->attempted = true;
		if (r->o.dedupe == REDIS_DEDUPE_ID && !it->star && !it->has_id) {
			next_id(r, &it->id_ms, &it->id_seq);
			it->has_id = true;
			/* spool records: the fresh ids of the batch, written down before they go
			 * out, so a restart sends the same ids (one consecutive run) */
			if (r->b_from_spool && run_open) {
				if (run_count == 0) {
					run_seq0 = it->seq;
					run_ms = it->id_ms;
					run_idseq = it->id_seq;
				}
				if (it->seq == run_seq0 + run_count && it->id_ms == run_ms &&
				    it->id_seq == run_idseq + run_count)
					run_count++;
				else
					run_open = false;
			}
		}
		int argc = build_command(r, it, argv, lens, ids[i], sizeof(ids[i]), sev[i],
					 dkey[i], sizeof(dkey[i]), maxlen, ttl);
		if (redisAppendCommandArgv(r->c, argc, argv, lens) != REDIS_OK) {
			io_failed(r, errno);
			*healthy = false;
			return 0;
		}
	}
	if (run_count)
		meta_write(r, run_seq0, run_count, run_ms, run_idseq);

	bool broken = false;
	for (size_t i = 0; i < n; i++) {
		struct item *it = r->b[i];
		redisReply *rep = NULL;
		if (it->done)
			continue;
		if (broken || redisGetReply(r->c, (void **)&rep) != REDIS_OK) {
			if (!broken)
				io_failed(r, errno);
			broken = true;
			continue; /* O_UNKNOWN: it may or may not have been added */
		}
		if (rep->type == REDIS_REPLY_ERROR) {
			if (r->o.dedupe == REDIS_DEDUPE_ID && !it->star && strstr(rep->str, TOO_SMALL))
				/* kept from an attempt whose answer was lost: it is there;
				 * a fresh id: someone else wrote newer entries */
				out[i] = kept[i] ? O_DUP : O_CONFLICT;
			else {
				note_error(r, classify(rep->str), rep->str);
				out[i] = O_FAIL;
			}
		} else if (rep->type == REDIS_REPLY_NIL) {
			out[i] = O_DUP; /* event-id: seen before */
		} else if (rep->type == REDIS_REPLY_STRING || rep->type == REDIS_REPLY_STATUS) {
			unsigned long long ms, sq;
			out[i] = O_OK;
			if (r->o.dedupe == REDIS_DEDUPE_ID && it->star &&
			    sscanf(rep->str, "%llu-%llu", &ms, &sq) == 2)
				seen_id(r, ms, sq);
		} else {
			note_error(r, E_OTHER, "an unexpected reply type");
			out[i] = O_FAIL;
		}
		freeReplyObject(rep);
	}

	/* settle: the front run of OK/DUP goes. After a failure, records accepted anyway are
	 * marked done (in the stream, out of order: counted). A definite failure forgets
	 * its id; after one, records without an answer forget theirs too (so a repeat, never
	 * a loss, if they were in fact added). */
	size_t settled = 0;
	bool front = true, seen_fail = false;
	for (size_t i = 0; i < n; i++) {
		struct item *it = r->b[i];
		switch (out[i]) {
		case O_OK:
		case O_DUP:
			if (!it->done) {
				if (out[i] == O_OK)
					r->st.sent++;
				else
					r->st.deduplicated++;
				if (r->b_from_spool)
					r->st.replayed++;
			}
			if (front) {
				settled++;
			} else if (!it->done) {
				r->st.reordered++;
				it->done = true;
			}
			break;
		case O_CONFLICT:
			r->st.id_conflicts++;
			if (r->st.id_conflicts == 1)
				log_msg(LOG_LEVEL_WARN,
					"%s: the stream has entries newer than this sensor's ids: another "
					"writer? Those alerts go with '*' ids; for several sensors on one "
					"stream use dedupe=event-id",
					r->desc);
			it->star = true;
			it->has_id = false;
			front = false;
			seen_fail = true;
			break;
		case O_FAIL:
			*healthy = false;
			it->has_id = false;
			front = false;
			seen_fail = true;
			break;
		case O_UNKNOWN:
			front = false;
			if (seen_fail)
				it->has_id = false;
			break;
		}
	}
	if (broken)
		*healthy = false;
	return settled;
}

static void settle(struct redis_sink *r, size_t k)
{
	if (!k)
		return;
	if (r->b_from_spool) {
		if (spool_consume(r->spool, k) != SPOOL_OK)
			r->st.spool_errors++;
		for (size_t i = 0; i < k; i++)
			free(r->b[i]);
		memmove(r->b, r->b + k, (r->bn - k) * sizeof(r->b[0]));
		r->bn -= k;
		if (r->bn == 0)
			r->b_from_spool = false;
	} else {
		queue_pop(r, (uint32_t)k);
		r->bn = 0;
	}
}

static void snapshot_spool(struct redis_sink *r)
{
	if (!r->spool)
		return;
	const struct spool_stats *ss = spool_stats(r->spool);
	r->st.sp_pending = spool_pending(r->spool);
	r->st.sp_recovered = ss->recovered;
	r->st.sp_torn = ss->torn;
	r->st.sp_corrupt = ss->corrupt;
	r->st.sp_full = ss->full;
	r->st.sp_write_errors = ss->write_errors;
}

static void *thread_main(void *arg)
{
	struct redis_sink *r = arg;
	sigset_t pipe;

	/* a write to a connection Redis closed: EPIPE here, not a signal for the process */
	sigemptyset(&pipe);
	sigaddset(&pipe, SIGPIPE);
	pthread_sigmask(SIG_BLOCK, &pipe, NULL);

	for (;;) {
		snapshot_spool(r);
		pthread_mutex_lock(&r->mu);
		while (!r->stopping && r->n == 0 && r->bn == 0 &&
		       !(r->spool && spool_pending(r->spool) > 0)) {
			struct timespec ts;
			clock_gettime(CLOCK_MONOTONIC, &ts);
			ts.tv_sec += 1;
			pthread_cond_timedwait(&r->cv, &r->mu, &ts);
		}
		bool stopping = r->stopping;
		uint64_t deadline = r->drain_deadline_ms;
		bool empty = r->n == 0;
		pthread_mutex_unlock(&r->mu);

		bool left = !empty || r->bn > 0 || (r->spool && spool_pending(r->spool) > 0);
		uint64_t now = mono_ms();
		if (stopping && (!left || now >= deadline))
			break;

		if (!r->c) {
			if (now < r->next_try_ms) {
				spill(r);
				uint64_t until = r->next_try_ms;
				if (stopping && deadline < until)
					until = deadline;
				pthread_mutex_lock(&r->mu);
				/* new alerts while waiting go to the spool at once (a kill -9
				 * must not find them only in memory) */
				while (mono_ms() < until && r->stopping == stopping &&
				       !(r->spool && r->n > 0 && !r->spool_refused)) {
					struct timespec ts;
					uint64_t t = until;
					ts.tv_sec = (time_t)(t / 1000);
					ts.tv_nsec = (long)(t % 1000) * 1000000;
					if (pthread_cond_timedwait(&r->cv, &r->mu, &ts) == ETIMEDOUT)
						break;
				}
				pthread_mutex_unlock(&r->mu);
				continue;
			}
			if (!connect_redis(r)) {
				backoff(r);
				spill(r);
				continue;
			}
			if (r->outage)
				r->st.reconnects++;
		}
		/* the queue half full, or the spool already holding older alerts: to disk */
		if (r->spool && (spool_pending(r->spool) > 0 || queue_len(r) > r->cap / 2))
			spill(r);
		if (!fill_batch(r)) {
			if (r->spool && spool_pending(r->spool) > 0) {
				/* the spool cannot be read now: do not spin */
				struct timespec ts = { 0, 200 * 1000000L };
				nanosleep(&ts, NULL);
			}
			continue;
		}
		bool healthy;
		size_t k = send_batch(r, &healthy);
		settle(r, k);
		if (healthy) {
			if (r->outage)
				log_msg(LOG_LEVEL_NOTICE, "%s: delivering again", r->desc);
			r->outage = false;
			r->logged_errors = 0;
			r->backoff_ms = 0;
		} else {
			if (r->c && r->c->err)
				disconnect(r);
			backoff(r);
			spill(r);
			if (r->c) {
				/* connected but refused: wait out the backoff on this connection */
				disconnect(r);
			}
		}
	}
	/* what is left: the spool keeps it; without one it is lost */
	spill(r);
	snapshot_spool(r);
	if (!r->b_from_spool)
		r->bn = 0;
	batch_clear(r);
	uint32_t left = queue_len(r);
	if (left) {
		pthread_mutex_lock(&r->mu);
		r->lost_at_exit = (int)left;
		pthread_mutex_unlock(&r->mu);
		queue_pop(r, left);
	}
	disconnect(r);
	return NULL;
}

/* ---- open and close ------------------------------------------------------------------ */

struct redis_sink *redis_sink_open(const struct redis_opts *o, bool must_answer,
				   enum redis_open_fail *fail, char *err, size_t errlen)
{
	struct redis_sink *r = calloc(1, sizeof(*r));
	if (!r) {
		*fail = REDIS_OPEN_CONFIG;
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	r->o = *o;
	redis_opts_describe(o, r->desc, sizeof(r->desc));
	r->cap = o->queue_max;
	r->ring = calloc(r->cap, sizeof(r->ring[0]));
	pthread_condattr_t ca;
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&r->cv, &ca);
	pthread_condattr_destroy(&ca);
	pthread_mutex_init(&r->mu, NULL);
	if (!r->ring) {
		*fail = REDIS_OPEN_CONFIG;
		snprintf(err, errlen, "out of memory");
		redis_sink_free(r);
		return NULL;
	}
	if (o->spool[0]) {
		char e[600];
		static const enum spool_fsync pol[] = { SPOOL_FSYNC_BATCH, SPOOL_FSYNC_ALWAYS,
							SPOOL_FSYNC_NEVER };
		r->spool = spool_open(o->spool, o->spool_max, pol[o->fsync], e, sizeof(e));
		if (!r->spool) {
			*fail = REDIS_OPEN_CONFIG;
			snprintf(err, errlen, "%s: spool: %s", r->desc, e);
			redis_sink_free(r);
			return NULL;
		}
		if (meta_read(r, &r->meta))
			seen_id(r, r->meta.base_ms, r->meta.base_seq + r->meta.count - 1);
		else
			memset(&r->meta, 0, sizeof(r->meta));
		uint64_t waiting = spool_pending(r->spool);
		if (waiting)
			log_msg(LOG_LEVEL_NOTICE, "%s: %" PRIu64 " alert%s from an earlier run wait in "
						"the spool %s; they go first",
				r->desc, waiting, waiting == 1 ? "" : "s", o->spool);
	}
	/* the first try, on this thread, with SIGPIPE held and any pending one taken away */
	sigset_t pipe, old;
	sigemptyset(&pipe);
	sigaddset(&pipe, SIGPIPE);
	pthread_sigmask(SIG_BLOCK, &pipe, &old);
	bool up = connect_redis(r);
	struct timespec zero = { 0, 0 };
	while (sigtimedwait(&pipe, NULL, &zero) == SIGPIPE)
		;
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (!up) {
		if (must_answer) {
			*fail = REDIS_OPEN_UNAVAILABLE;
			snprintf(err, errlen,
				 "%s does not answer, it is the only output and has no spool",
				 r->desc);
			redis_sink_free(r);
			return NULL;
		}
		backoff(r);
	}
	if (pthread_create(&r->thread, NULL, thread_main, r) != 0) {
		*fail = REDIS_OPEN_CONFIG;
		snprintf(err, errlen, "%s: cannot start the output thread", r->desc);
		redis_sink_free(r);
		return NULL;
	}
	r->started = true;
	return r;
}

int redis_sink_stop(struct redis_sink *r)
{
	if (!r || !r->started)
		return 0;
	pthread_mutex_lock(&r->mu);
	r->stopping = true;
	r->drain_deadline_ms = mono_ms() + r->o.drain_ms;
	pthread_cond_signal(&r->cv);
	pthread_mutex_unlock(&r->mu);
	pthread_join(r->thread, NULL);
	r->started = false;
	int rc = 0;
	if (r->lost_at_exit) {
		log_msg(LOG_LEVEL_ERROR,
			"%s: %d alert%s could not be delivered and are lost (no spool configured)",
			r->desc, r->lost_at_exit, r->lost_at_exit == 1 ? "" : "s");
		rc = -1;
	}
	if (r->dropped_full)
		rc = -1;
	if (r->spool && spool_pending(r->spool))
		log_msg(LOG_LEVEL_WARN,
			"%s: %" PRIu64 " alert%s wait in the spool %s; the next egressd with this "
			"spool sends them first",
			r->desc, spool_pending(r->spool), spool_pending(r->spool) == 1 ? "" : "s",
			r->o.spool);
	return rc;
}

void redis_sink_print_stats(const struct redis_sink *r, const char *prefix, FILE *f)
{
	struct redis_sink *w = (struct redis_sink *)(uintptr_t)r; /* the lock, only */
	const struct counters *s = &r->st;
	char name[96];
	uint64_t queued, dropped;

	pthread_mutex_lock(&w->mu);
	queued = r->queued;
	dropped = r->dropped_full + (uint64_t)r->lost_at_exit;
	pthread_mutex_unlock(&w->mu);
#define ROW(label, v)                                                              \
	do {                                                                       \
		snprintf(name, sizeof(name), "%s.%s", prefix, label);              \
		fprintf(f, "%-44s %llu\n", name, (unsigned long long)(v));          \
	} while (0)
	ROW("queued", queued);
	ROW("sent", s->sent);
	ROW("retried", s->retried);
	ROW("spooled", s->spooled);
	ROW("replayed", s->replayed);
	ROW("dropped", dropped);
	ROW("deduplicated", s->deduplicated);
	ROW("reordered", s->reordered);
	ROW("reconnects", s->reconnects);
	ROW("id_conflicts", s->id_conflicts);
	for (int k = 0; k < E_KINDS; k++) {
		char l[32];
		snprintf(l, sizeof(l), "errors.%s", err_name[k]);
		ROW(l, s->err[k]);
	}
	ROW("errors.spool", s->spool_errors);
	ROW("spool.pending", s->sp_pending);
	ROW("spool.recovered", s->sp_recovered);
	ROW("spool.torn", s->sp_torn);
	ROW("spool.corrupt", s->sp_corrupt);
	ROW("spool.full", s->sp_full);
	ROW("spool.write_errors", s->sp_write_errors);
#undef ROW
}

void redis_sink_free(struct redis_sink *r)
{
	if (!r)
		return;
	if (r->started)
		redis_sink_stop(r);
	batch_clear(r);
	if (r->ring) {
		for (uint32_t i = 0; i < r->n; i++)
			free(r->ring[(r->head + i) % r->cap]);
		free(r->ring);
	}
	disconnect(r);
	if (r->spool)
		spool_close(r->spool);
	spool_batch_free(&r->sb);
	pthread_mutex_destroy(&r->mu);
	pthread_cond_destroy(&r->cv);
	/* the password leaves memory with the sink */
	memset(r->o.password, 0, sizeof(r->o.password));
	free(r);
}
