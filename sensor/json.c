/* json.c: bounded JSON writer for egressd's alert and flow records.
 * Escaping and overflow rules are documented in include/json.h.
 */
#include "json.h"

#include <arpa/inet.h>
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

void json_init(struct json *j, char *buf, size_t cap)
{
	memset(j, 0, sizeof(*j));
	j->buf = buf;
	j->cap = buf ? cap : 0;
	if (j->cap > 0)
		j->buf[0] = '\0';
}

static bool json_stopped(const struct json *j)
{
	return j->truncated || j->misuse;
}

/* Room for n more bytes while `depth` closers and the NUL stay reserved. */
static bool json_room(const struct json *j, size_t n, int depth)
{
	size_t reserve = (size_t)depth + 1;

	return j->cap >= reserve && j->len <= j->cap - reserve &&
	       n <= j->cap - reserve - j->len;
}

static bool json_put(struct json *j, const void *s, size_t n)
{
	if (!json_room(j, n, j->depth))
		return false;
	memcpy(j->buf + j->len, s, n);
	j->len += n;
	return true;
}

static bool json_putc(struct json *j, char c)
{
	return json_put(j, &c, 1);
}

/* Length of the well-formed UTF-8 sequence (RFC 3629, table 3) of at least two
 * bytes at s, or 0 if the bytes there are not one. */
static size_t json_utf8_len(const uint8_t *s, size_t n)
{
	uint8_t lo = 0x80, hi = 0xbf;	/* range of the second byte */
	size_t need, i;

	if (s[0] >= 0xc2 && s[0] <= 0xdf) {
		need = 2;
	} else if (s[0] >= 0xe0 && s[0] <= 0xef) {
		need = 3;
		if (s[0] == 0xe0)
			lo = 0xa0;	/* no overlong forms */
		else if (s[0] == 0xed)
			hi = 0x9f;	/* no surrogates */
	} else if (s[0] >= 0xf0 && s[0] <= 0xf4) {
		need = 4;
		if (s[0] == 0xf0)
			lo = 0x90;	/* no overlong forms */
		else if (s[0] == 0xf4)
			hi = 0x8f;	/* nothing above U+10FFFF */
	} else {
		return 0;		/* ASCII, continuation, C0, C1, F5..FF */
	}
	if (n < need || s[1] < lo || s[1] > hi)
		return 0;
	for (i = 2; i < need; i++)
		if (s[i] < 0x80 || s[i] > 0xbf)
			return 0;
	return need;
}

/* Bytes that go into the JSON text unchanged starting at s[0]: 0 if s[0] needs
 * an escape, else 1 for ASCII or the length of a UTF-8 sequence. */
static size_t json_plain_len(const uint8_t *s, size_t n)
{
	if (s[0] >= 0x80)
		return json_utf8_len(s, n);
	if (s[0] < 0x20 || s[0] == 0x7f || s[0] == '"')
		return 0;
	/* A backslash before 'x' is written as \x5c, so that every \xNN in the
	 * decoded string stands for one raw byte: the mapping stays lossless. */
	if (s[0] == '\\')
		return 0;
	return 1;
}

/* s[0..n) as a quoted JSON string. */
static bool json_put_string(struct json *j, const uint8_t *s, size_t n)
{
	static const char hex[] = "0123456789abcdef";
	char esc[8];
	size_t i = 0;

	if (!json_putc(j, '"'))
		return false;
	while (i < n) {
		size_t run = i, k;

		while (run < n && (k = json_plain_len(s + run, n - run)) > 0)
			run += k;
		if (run > i) {
			if (!json_put(j, s + i, run - i))
				return false;
			i = run;
			continue;
		}

		uint8_t c = s[i++];
		size_t len = 2;

		esc[0] = '\\';
		switch (c) {
		case '"':
			esc[1] = '"';
			break;
		case '\n':
			esc[1] = 'n';
			break;
		case '\r':
			esc[1] = 'r';
			break;
		case '\t':
			esc[1] = 't';
			break;
		case '\\':
			if (i < n && s[i] == 'x') {
				memcpy(esc + 1, "\\x5c", 4);	/* as if a raw 0x5c byte */
				len = 5;
			} else {
				esc[1] = '\\';
			}
			break;
		default:
			if (c < 0x80) {			/* controls and DEL: \u00xx */
				memcpy(esc + 1, "u00", 3);
				esc[4] = hex[c >> 4];
				esc[5] = hex[c & 0x0f];
				len = 6;
			} else {			/* not UTF-8: \\xNN */
				memcpy(esc + 1, "\\x", 2);
				esc[3] = hex[c >> 4];
				esc[4] = hex[c & 0x0f];
				len = 5;
			}
			break;
		}
		if (!json_put(j, esc, len))
			return false;
	}
	return json_putc(j, '"');
}

/* Drops a half-written member and stops the writer. */
static void json_abort(struct json *j, size_t mark)
{
	j->len = mark;
	if (!j->misuse)
		j->truncated = true;
}

/*
 * Checks that a member may start here and writes its comma and key. Returns
 * false if nothing may be written (writer stopped, misuse, no room); then the
 * writer is stopped and nothing was added. *mark is where the member starts.
 */
static bool json_start(struct json *j, const char *key, size_t *mark)
{
	*mark = j->len;
	if (json_stopped(j))
		return false;

	if (j->depth == 0) {
		if (key || j->top_done) {
			j->misuse = true;
			return false;
		}
		return true;
	}

	int top = j->depth - 1;
	bool in_obj = j->closer[top] == '}';

	if (in_obj != (key != NULL)) {
		j->misuse = true;
		return false;
	}
	if ((!j->first[top] && !json_putc(j, ',')) ||
	    (key && (!json_put_string(j, (const uint8_t *)key, strlen(key)) ||
		     !json_putc(j, ':')))) {
		json_abort(j, *mark);
		return false;
	}
	return true;
}

/* A member was written whole. */
static void json_done(struct json *j)
{
	if (j->depth == 0)
		j->top_done = true;
	else
		j->first[j->depth - 1] = false;
}

static void json_raw(struct json *j, const char *key, const char *text, size_t n)
{
	size_t mark;

	if (!json_start(j, key, &mark))
		return;
	if (!json_put(j, text, n)) {
		json_abort(j, mark);
		return;
	}
	json_done(j);
}

static void json_begin(struct json *j, const char *key, char open, char close)
{
	size_t mark;

	if (!json_start(j, key, &mark))
		return;
	if (j->depth >= JSON_MAX_DEPTH) {
		j->misuse = true;
		json_abort(j, mark);
		return;
	}
	/* The opener, with room kept for its closer too. */
	if (!json_room(j, 1, j->depth + 1)) {
		json_abort(j, mark);
		return;
	}
	j->buf[j->len++] = open;
	json_done(j);
	j->closer[j->depth] = close;
	j->first[j->depth] = true;
	j->depth++;
}

static void json_end(struct json *j, char close)
{
	if (json_stopped(j))
		return;
	if (j->depth == 0 || j->closer[j->depth - 1] != close) {
		j->misuse = true;
		return;
	}
	/* Always fits: a byte was reserved for it when the container opened. */
	j->depth--;
	j->buf[j->len++] = close;
}

void json_obj_begin(struct json *j, const char *key)
{
	json_begin(j, key, '{', '}');
}

void json_obj_end(struct json *j)
{
	json_end(j, '}');
}

void json_arr_begin(struct json *j, const char *key)
{
	json_begin(j, key, '[', ']');
}

void json_arr_end(struct json *j)
{
	json_end(j, ']');
}

void json_strn(struct json *j, const char *key, const void *s, size_t n)
{
	size_t mark;

	if (s == NULL && n > 0) {
		j->misuse = true;
		return;
	}
	if (!json_start(j, key, &mark))
		return;
	if (!json_put_string(j, s, n)) {
		json_abort(j, mark);
		return;
	}
	json_done(j);
}

void json_str(struct json *j, const char *key, const char *s)
{
	if (s == NULL)
		json_null(j, key);
	else
		json_strn(j, key, s, strlen(s));
}

void json_u64(struct json *j, const char *key, uint64_t v)
{
	char tmp[24];
	int n = snprintf(tmp, sizeof(tmp), "%llu", (unsigned long long)v);

	json_raw(j, key, tmp, (size_t)n);
}

void json_i64(struct json *j, const char *key, int64_t v)
{
	char tmp[24];
	int n = snprintf(tmp, sizeof(tmp), "%lld", (long long)v);

	json_raw(j, key, tmp, (size_t)n);
}

void json_bool(struct json *j, const char *key, bool v)
{
	if (v)
		json_raw(j, key, "true", 4);
	else
		json_raw(j, key, "false", 5);
}

void json_null(struct json *j, const char *key)
{
	json_raw(j, key, "null", 4);
}

void json_double(struct json *j, const char *key, double v)
{
	char tmp[32];
	int n, i;

	if (!isfinite(v)) {
		json_null(j, key);
		return;
	}
	n = snprintf(tmp, sizeof(tmp), "%.6g", v);
	if (n <= 0 || (size_t)n >= sizeof(tmp)) {
		json_null(j, key);
		return;
	}
	/* %g follows LC_NUMERIC: mend a ',' radix, refuse anything else odd. */
	for (i = 0; i < n; i++) {
		if (tmp[i] == ',') {
			tmp[i] = '.';
		} else if (!strchr("0123456789+-.e", tmp[i])) {
			json_null(j, key);
			return;
		}
	}
	json_raw(j, key, tmp, (size_t)n);
}

void json_time(struct json *j, const char *key, uint64_t usec_since_epoch)
{
	uint64_t secs = usec_since_epoch / 1000000;
	unsigned int usec = (unsigned int)(usec_since_epoch % 1000000);
	unsigned int sod = (unsigned int)(secs % 86400);
	/* Days to civil date, H. Hinnant's algorithm; the epoch is day 719468 of
	 * the proleptic Gregorian calendar counted from 0000-03-01. */
	uint64_t z = secs / 86400 + 719468;
	uint64_t era = z / 146097;
	uint64_t doe = z - era * 146097;
	uint64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	uint64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	uint64_t mp = (5 * doy + 2) / 153;
	unsigned int day = (unsigned int)(doy - (153 * mp + 2) / 5 + 1);
	unsigned int mon = (unsigned int)(mp < 10 ? mp + 3 : mp - 9);
	uint64_t year = yoe + era * 400 + (mon <= 2);
	char tmp[40];
	int n;

	if (year > 9999) {
		json_null(j, key);
		return;
	}
	n = snprintf(tmp, sizeof(tmp), "\"%04u-%02u-%02uT%02u:%02u:%02u.%06uZ\"",
		     (unsigned int)year, mon, day, sod / 3600, sod / 60 % 60, sod % 60, usec);
	json_raw(j, key, tmp, (size_t)n);
}

void json_ip(struct json *j, const char *key, int family, const uint8_t addr[16])
{
	char tmp[INET6_ADDRSTRLEN + 2];
	int af = family == 4 ? AF_INET : family == 6 ? AF_INET6 : -1;

	if (af < 0 || addr == NULL || !inet_ntop(af, addr, tmp + 1, INET6_ADDRSTRLEN)) {
		json_null(j, key);
		return;
	}
	size_t n = strlen(tmp + 1);

	tmp[0] = '"';
	tmp[n + 1] = '"';
	json_raw(j, key, tmp, n + 2);
}

const char *json_finish(struct json *j, size_t *len)
{
	if (j->cap == 0) {
		j->truncated = true;
		if (len)
			*len = 0;
		return "";
	}
	if (!json_stopped(j) && (j->depth > 0 || !j->top_done))
		j->misuse = true;
	/* Each closer's byte was reserved when its container opened. */
	while (j->depth > 0) {
		j->depth--;
		j->buf[j->len++] = j->closer[j->depth];
	}
	j->buf[j->len] = '\0';
	if (len)
		*len = j->len;
	return j->buf;
}
