/* json.c: bounded JSON writer for egressd's alert and flow records.
 * Escaping and overflow rules are documented in include/json.h.
 *
 * Every flow record is written here, so the common cases are plain copies:
 * strings in runs of bytes that need no escape, numbers, times and addresses
 * formatted by hand rather than through printf.
 */
#include "json.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

/* Byte classes in strings. */
#define P 0	/* printable ASCII but '"' and '\': copied */
#define E 1	/* '"', '\', controls and DEL: escaped */
#define H 2	/* 0x80..0xff: copied if part of well-formed UTF-8, else escaped */

const uint8_t json_class[256] = {
	E, E, E, E, E, E, E, E, E, E, E, E, E, E, E, E,	/* 00 */
	E, E, E, E, E, E, E, E, E, E, E, E, E, E, E, E,	/* 10 */
	P, P, E, P, P, P, P, P, P, P, P, P, P, P, P, P,	/* 20 */
	P, P, P, P, P, P, P, P, P, P, P, P, P, P, P, P,	/* 30 */
	P, P, P, P, P, P, P, P, P, P, P, P, P, P, P, P,	/* 40 */
	P, P, P, P, P, P, P, P, P, P, P, P, E, P, P, P,	/* 50 */
	P, P, P, P, P, P, P, P, P, P, P, P, P, P, P, P,	/* 60 */
	P, P, P, P, P, P, P, P, P, P, P, P, P, P, P, E,	/* 70 */
	H, H, H, H, H, H, H, H, H, H, H, H, H, H, H, H,	/* 80 */
	H, H, H, H, H, H, H, H, H, H, H, H, H, H, H, H,	/* 90 */
	H, H, H, H, H, H, H, H, H, H, H, H, H, H, H, H,	/* a0 */
	H, H, H, H, H, H, H, H, H, H, H, H, H, H, H, H,	/* b0 */
	H, H, H, H, H, H, H, H, H, H, H, H, H, H, H, H,	/* c0 */
	H, H, H, H, H, H, H, H, H, H, H, H, H, H, H, H,	/* d0 */
	H, H, H, H, H, H, H, H, H, H, H, H, H, H, H, H,	/* e0 */
	H, H, H, H, H, H, H, H, H, H, H, H, H, H, H, H,	/* f0 */
};

#undef P
#undef E
#undef H
#define JSON_PLAIN 0
#define JSON_HIGH 2

/* "00" to "99": numbers are written two digits at a time. */
const char json_digit_pairs[201] =
	"00010203040506070809101112131415161718192021222324"
	"25262728293031323334353637383940414243444546474849"
	"50515253545556575859606162636465666768697071727374"
	"75767778798081828384858687888990919293949596979899";

static const char json_hex[] = "0123456789abcdef";

void json_init(struct json *j, char *buf, size_t cap)
{
	memset(j, 0, sizeof(*j));
	j->buf = buf;
	j->cap = buf ? cap : 0;
	if (j->cap > 0) {
		j->buf[0] = '\0';
		j->lim = j->cap - 1;
	}
}

static bool json_stopped(const struct json *j)
{
	return j->truncated || j->misuse;
}

/* Room for n more bytes. j->lim keeps the NUL and each open container's closer
 * in reserve, so this is one subtraction. */
static inline bool json_fits(const struct json *j, size_t n)
{
	return n <= j->lim - j->len;
}

/* Copies n bytes; the short copies that keys and numbers make go without a call
 * to memcpy. */
static inline void json_copy(char *d, const void *src, size_t n)
{
	const char *s = src;

	if (n > 16) {
		memcpy(d, s, n);
	} else if (n >= 8) {
		memcpy(d, s, 8);
		memcpy(d + n - 8, s + n - 8, 8);
	} else if (n >= 4) {
		memcpy(d, s, 4);
		memcpy(d + n - 4, s + n - 4, 4);
	} else if (n > 0) {
		d[0] = s[0];
		d[n / 2] = s[n / 2];
		d[n - 1] = s[n - 1];
	}
}

static inline bool json_put(struct json *j, const void *s, size_t n)
{
	if (!json_fits(j, n))
		return false;
	json_copy(j->buf + j->len, s, n);
	j->len += n;
	return true;
}

static inline bool json_putc(struct json *j, char c)
{
	if (!json_fits(j, 1))
		return false;
	j->buf[j->len++] = c;
	return true;
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

/* Nonzero if any of the 8 bytes in w is not plain ASCII: below 0x20, '"', '\'
 * or 0x7f and above. Each test borrows or carries only out of a byte that it
 * flags, so there are no false alarms. */
static inline uint64_t json_special8(uint64_t w)
{
	const uint64_t ones = 0x0101010101010101ull;
	uint64_t q = w ^ (ones * '"'), b = w ^ (ones * '\\');

	return (((w - ones * 0x20) & ~w) | ((q - ones) & ~q) | ((b - ones) & ~b) |
		w | (w + ones)) & (ones * 0x80);
}

/* End of the run of bytes from s[i] on that go into the text unchanged: plain
 * ASCII and well-formed UTF-8 sequences. */
static inline size_t json_plain_run(const uint8_t *s, size_t i, size_t n)
{
	size_t k;

	for (;;) {
		/* Eight bytes at a time while they are plain, then byte by byte
		 * to find where the run ends. */
		while (n - i >= 8) {
			uint64_t w;

			memcpy(&w, s + i, 8);
			if (json_special8(w))
				break;
			i += 8;
		}
		while (i < n && json_class[s[i]] == JSON_PLAIN)
			i++;
		if (i == n || json_class[s[i]] != JSON_HIGH ||
		    (k = json_utf8_len(s + i, n - i)) == 0)
			return i;
		i += k;
	}
}

/* The escape for s[i], which is not plain: its length, the text in esc. */
static size_t json_escape(const uint8_t *s, size_t i, size_t n, char esc[6])
{
	uint8_t c = s[i];

	esc[0] = '\\';
	switch (c) {
	case '"':
		esc[1] = '"';
		return 2;
	case '\n':
		esc[1] = 'n';
		return 2;
	case '\r':
		esc[1] = 'r';
		return 2;
	case '\t':
		esc[1] = 't';
		return 2;
	case '\\':
		/* A backslash before 'x' is written as \x5c, so that every \xNN in
		 * the decoded string stands for one raw byte: the mapping stays
		 * lossless. */
		if (i + 1 < n && s[i + 1] == 'x') {
			memcpy(esc + 1, "\\x5c", 4);
			return 5;
		}
		esc[1] = '\\';
		return 2;
	}
	if (c < 0x80) {			/* controls and DEL: \u00xx */
		memcpy(esc + 1, "u00", 3);
		esc[4] = json_hex[c >> 4];
		esc[5] = json_hex[c & 0x0f];
		return 6;
	}
	memcpy(esc + 1, "\\x", 2);	/* not UTF-8: \\xNN */
	esc[3] = json_hex[c >> 4];
	esc[4] = json_hex[c & 0x0f];
	return 5;
}

/* s[0..n) as a quoted JSON string: runs of plain bytes are copied whole, the
 * rest escaped one byte at a time. False if it does not fit (j->len is then
 * unchanged). */
static bool json_put_string(struct json *j, const uint8_t *s, size_t n)
{
	size_t room = j->lim - j->len, i = 0;
	char *p, *end;

	if (room < 2)
		return false;
	p = j->buf + j->len;
	end = p + room - 1;		/* the closing quote is kept back */
	*p++ = '"';
	while (i < n) {
		size_t run = json_plain_run(s, i, n);

		if (run > i) {
			if (run - i > (size_t)(end - p))
				return false;
			json_copy(p, s + i, run - i);
			p += run - i;
			i = run;
			if (i == n)
				break;
		}

		char esc[6];
		size_t k = json_escape(s, i, n, esc);

		if (k > (size_t)(end - p))
			return false;
		json_copy(p, esc, k);
		p += k;
		i++;
	}
	*p++ = '"';
	j->len = (size_t)(p - j->buf);
	return true;
}

/* Drops a half-written member and stops the writer. */
static void json_abort(struct json *j, size_t mark)
{
	j->len = mark;
	if (!j->misuse)
		j->truncated = true;
}

/* Whether a member with (keyed) or without a key may start here; sets misuse if
 * it is one. */
static inline bool json_may_start(struct json *j, bool keyed)
{
	if (json_stopped(j))
		return false;
	if (j->depth == 0) {
		if (keyed || j->top_done) {
			j->misuse = true;
			return false;
		}
		return true;
	}
	if ((j->closer[j->depth - 1] == '}') != keyed) {
		j->misuse = true;
		return false;
	}
	return true;
}

/*
 * Checks that a member may start here and writes its comma and key. Returns
 * false if nothing may be written (writer stopped, misuse, no room); then the
 * writer is stopped and nothing was added.
 */
static bool json_head(struct json *j, const char *key)
{
	size_t mark = j->len;

	if (!json_may_start(j, key != NULL))
		return false;
	if (j->depth == 0)
		return true;
	if ((!j->first[j->depth - 1] && !json_putc(j, ',')) ||
	    (key && (!json_put_string(j, (const uint8_t *)key, strlen(key)) ||
		     !json_putc(j, ':')))) {
		json_abort(j, mark);
		return false;
	}
	return true;
}

/* The same for a key that needs no escaping: one copy of its text, which starts
 * with the comma. */
static bool json_head_k(struct json *j, struct json_key k)
{
	size_t skip;

	if (!json_may_start(j, true))
		return false;
	skip = j->first[j->depth - 1];	/* no comma before the first member */
	if (!json_put(j, k.text + skip, k.len - skip)) {
		j->truncated = true;
		return false;
	}
	return true;
}

/* A member was written whole. */
static inline void json_done(struct json *j)
{
	if (j->depth == 0)
		j->top_done = true;
	else
		j->first[j->depth - 1] = false;
}

/* The value text of a member whose head (from mark on) is written. */
static void json_tail(struct json *j, size_t mark, const char *text, size_t n)
{
	if (!json_put(j, text, n)) {
		json_abort(j, mark);
		return;
	}
	json_done(j);
}

static void json_raw(struct json *j, const char *key, const char *text, size_t n)
{
	size_t mark = j->len;

	if (json_head(j, key))
		json_tail(j, mark, text, n);
}

/* A member with a JSON_KEY key and a value that needs no escaping, in quotes
 * if quote: one room check and the copies. */
static inline void json_put_k(struct json *j, struct json_key k, const char *text,
			      size_t n, bool quote)
{
	size_t skip, klen, total;
	char *p;

	if (!json_may_start(j, true))
		return;
	skip = j->first[j->depth - 1];	/* no comma before the first member */
	klen = k.len - skip;
	total = klen + n + (quote ? 2 : 0);
	if (!json_fits(j, total)) {
		j->truncated = true;
		return;
	}
	p = j->buf + j->len;
	json_copy(p, k.text + skip, klen);
	p += klen;
	if (quote)
		*p++ = '"';
	json_copy(p, text, n);
	if (quote)
		p[n] = '"';
	j->len += total;
	j->first[j->depth - 1] = false;
}

static void json_raw_k(struct json *j, struct json_key k, const char *text, size_t n)
{
	json_put_k(j, k, text, n, false);
}

/* Opens a container as the member k: key, opener and the byte for its closer
 * checked at once. */
static void json_open_k(struct json *j, struct json_key k, char open, char close)
{
	size_t skip, klen;
	char *p;

	if (!json_may_start(j, true))
		return;
	if (j->depth >= JSON_MAX_DEPTH) {
		j->misuse = true;
		return;
	}
	skip = j->first[j->depth - 1];
	klen = k.len - skip;
	if (!json_fits(j, klen + 2)) {
		j->truncated = true;
		return;
	}
	p = j->buf + j->len;
	json_copy(p, k.text + skip, klen);
	p[klen] = open;
	j->len += klen + 1;
	j->lim--;
	j->first[j->depth - 1] = false;
	j->closer[j->depth] = close;
	j->first[j->depth] = true;
	j->depth++;
}

static void json_open(struct json *j, size_t mark, char open, char close)
{
	if (j->depth >= JSON_MAX_DEPTH) {
		j->misuse = true;
		json_abort(j, mark);
		return;
	}
	/* The opener, with room kept for its closer too. */
	if (!json_fits(j, 2)) {
		json_abort(j, mark);
		return;
	}
	j->buf[j->len++] = open;
	j->lim--;
	json_done(j);
	j->closer[j->depth] = close;
	j->first[j->depth] = true;
	j->depth++;
}

void json_obj_begin(struct json *j, const char *key)
{
	size_t mark = j->len;

	if (json_head(j, key))
		json_open(j, mark, '{', '}');
}

void json_obj_begin_k_slow(struct json *j, struct json_key k)
{
	json_open_k(j, k, '{', '}');
}

void json_arr_begin(struct json *j, const char *key)
{
	size_t mark = j->len;

	if (json_head(j, key))
		json_open(j, mark, '[', ']');
}

void json_arr_begin_k(struct json *j, struct json_key k)
{
	json_open_k(j, k, '[', ']');
}

/* The string value of a member whose head (from mark on) is written. */
static void json_string_tail(struct json *j, size_t mark, const void *s, size_t n)
{
	if (!json_put_string(j, s, n)) {
		json_abort(j, mark);
		return;
	}
	json_done(j);
}

void json_strn(struct json *j, const char *key, const void *s, size_t n)
{
	size_t mark = j->len;

	if (s == NULL && n > 0) {
		j->misuse = true;
		return;
	}
	if (json_head(j, key))
		json_string_tail(j, mark, s, n);
}

void json_strn_k(struct json *j, struct json_key k, const void *s, size_t n)
{
	size_t mark = j->len;

	if (s == NULL && n > 0) {
		j->misuse = true;
		return;
	}
	/* Most strings need no escape: then they are copied like a number. */
	if (json_plain_run(s, 0, n) == n)
		json_put_k(j, k, s, n, true);
	else if (json_head_k(j, k))
		json_string_tail(j, mark, s, n);
}

void json_str(struct json *j, const char *key, const char *s)
{
	if (s == NULL)
		json_null(j, key);
	else
		json_strn(j, key, s, strlen(s));
}

void json_str_k_slow(struct json *j, struct json_key k, const char *s)
{
	size_t n = 0;

	if (s == NULL) {
		json_raw_k(j, k, "null", 4);
		return;
	}
	/* The NUL is not plain: one pass finds the length of a string that
	 * needs no escape. */
	while (json_class[(uint8_t)s[n]] == JSON_PLAIN)
		n++;
	if (s[n] == '\0')
		json_put_k(j, k, s, n, true);
	else
		json_strn_k(j, k, s, n + strlen(s + n));
}

/* v in decimal, ending just before end; returns where it starts. */
static char *json_fmt_u64(char *end, uint64_t v)
{
	char *p = end;

	while (v >= 100) {
		p -= 2;
		memcpy(p, json_digit_pairs + 2 * (v % 100), 2);
		v /= 100;
	}
	if (v >= 10) {
		p -= 2;
		memcpy(p, json_digit_pairs + 2 * v, 2);
	} else {
		*--p = (char)('0' + v);
	}
	return p;
}

void json_u64(struct json *j, const char *key, uint64_t v)
{
	char tmp[20], *p = json_fmt_u64(tmp + sizeof(tmp), v);

	json_raw(j, key, p, (size_t)(tmp + sizeof(tmp) - p));
}

void json_u64_k_slow(struct json *j, struct json_key k, uint64_t v)
{
	char tmp[20], *p = json_fmt_u64(tmp + sizeof(tmp), v);

	json_raw_k(j, k, p, (size_t)(tmp + sizeof(tmp) - p));
}

void json_i64(struct json *j, const char *key, int64_t v)
{
	char tmp[21], *p;

	/* The magnitude in unsigned arithmetic, so that INT64_MIN has one too. */
	p = json_fmt_u64(tmp + sizeof(tmp), v < 0 ? 0 - (uint64_t)v : (uint64_t)v);
	if (v < 0)
		*--p = '-';
	json_raw(j, key, p, (size_t)(tmp + sizeof(tmp) - p));
}

void json_bool(struct json *j, const char *key, bool v)
{
	if (v)
		json_raw(j, key, "true", 4);
	else
		json_raw(j, key, "false", 5);
}

void json_bool_k(struct json *j, struct json_key k, bool v)
{
	if (v)
		json_raw_k(j, k, "true", 4);
	else
		json_raw_k(j, k, "false", 5);
}

void json_null(struct json *j, const char *key)
{
	json_raw(j, key, "null", 4);
}

/* %.6g of v into tmp; its length, or 0 for null. */
static size_t json_fmt_double(char tmp[32], double v)
{
	int n, i;

	if (!isfinite(v))
		return 0;
	n = snprintf(tmp, 32, "%.6g", v);
	if (n <= 0 || n >= 32)
		return 0;
	/* %g follows LC_NUMERIC: mend a ',' radix, refuse anything else odd. */
	for (i = 0; i < n; i++) {
		if (tmp[i] == ',')
			tmp[i] = '.';
		else if (!strchr("0123456789+-.e", tmp[i]))
			return 0;
	}
	return (size_t)n;
}

void json_double(struct json *j, const char *key, double v)
{
	char tmp[32];
	size_t n = json_fmt_double(tmp, v);

	if (n)
		json_raw(j, key, tmp, n);
	else
		json_null(j, key);
}

void json_double_k(struct json *j, struct json_key k, double v)
{
	char tmp[32];
	size_t n = json_fmt_double(tmp, v);

	if (n)
		json_raw_k(j, k, tmp, n);
	else
		json_raw_k(j, k, "null", 4);
}

/* The last second written, as "YYYY-MM-DDTHH:MM:SS": records come in time
 * order, so most times fall in it. One per thread, as writers may run on
 * several. */
static _Thread_local struct {
	uint64_t secs;
	char text[19];
} json_second = { UINT64_MAX, "" };

/* "YYYY-MM-DDTHH:MM:SS" of secs into out; false past year 9999. */
static bool json_fmt_secs(uint64_t secs, char out[19])
{
	if (secs == json_second.secs) {
		memcpy(out, json_second.text, 19);
		return true;
	}

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

	if (year > 9999)
		return false;
	memcpy(out, json_digit_pairs + 2 * (year / 100), 2);
	memcpy(out + 2, json_digit_pairs + 2 * (year % 100), 2);
	out[4] = '-';
	memcpy(out + 5, json_digit_pairs + 2 * mon, 2);
	out[7] = '-';
	memcpy(out + 8, json_digit_pairs + 2 * day, 2);
	out[10] = 'T';
	memcpy(out + 11, json_digit_pairs + 2 * (sod / 3600), 2);
	out[13] = ':';
	memcpy(out + 14, json_digit_pairs + 2 * (sod / 60 % 60), 2);
	out[16] = ':';
	memcpy(out + 17, json_digit_pairs + 2 * (sod % 60), 2);
	json_second.secs = secs;
	memcpy(json_second.text, out, 19);
	return true;
}

#define JSON_TIME_LEN 29	/* "2024-01-02T03:04:05.123456Z" in quotes */

/* The quoted time into tmp; false past year 9999. */
static bool json_fmt_time(char tmp[JSON_TIME_LEN], uint64_t usec_since_epoch)
{
	unsigned int usec = (unsigned int)(usec_since_epoch % 1000000);

	if (!json_fmt_secs(usec_since_epoch / 1000000, tmp + 1))
		return false;
	tmp[0] = '"';
	tmp[20] = '.';
	memcpy(tmp + 21, json_digit_pairs + 2 * (usec / 10000), 2);
	memcpy(tmp + 23, json_digit_pairs + 2 * (usec / 100 % 100), 2);
	memcpy(tmp + 25, json_digit_pairs + 2 * (usec % 100), 2);
	tmp[27] = 'Z';
	tmp[28] = '"';
	return true;
}

void json_time(struct json *j, const char *key, uint64_t usec_since_epoch)
{
	char tmp[JSON_TIME_LEN];

	if (json_fmt_time(tmp, usec_since_epoch))
		json_raw(j, key, tmp, sizeof(tmp));
	else
		json_null(j, key);
}

void json_time_k(struct json *j, struct json_key k, uint64_t usec_since_epoch)
{
	char tmp[JSON_TIME_LEN];

	if (json_fmt_time(tmp, usec_since_epoch))
		json_raw_k(j, k, tmp, sizeof(tmp));
	else
		json_raw_k(j, k, "null", 4);
}

/* Dotted decimal, as inet_ntop writes it. */
static char *json_fmt_ip4(char *p, const uint8_t a[4])
{
	int i;

	for (i = 0; i < 4; i++) {
		unsigned int v = a[i];

		if (i > 0)
			*p++ = '.';
		if (v >= 100) {
			*p++ = (char)('0' + v / 100);
			v %= 100;
		} else if (v < 10) {
			*p++ = (char)('0' + v);
			continue;
		}
		memcpy(p, json_digit_pairs + 2 * v, 2);
		p += 2;
	}
	return p;
}

/* RFC 5952 text exactly as glibc's inet_ntop writes it: the longest run of two
 * or more zero fields (the first of equal ones) becomes "::", fields in
 * lowercase hex without leading zeros, and ::a.b.c.d or ::ffff:a.b.c.d for the
 * IPv4-compatible and IPv4-mapped forms. */
static char *json_fmt_ip6(char *p, const uint8_t a[16])
{
	unsigned int w[8];
	int i, best = -1, best_len = 0, cur = -1;

	for (i = 0; i < 8; i++) {
		w[i] = (unsigned int)a[2 * i] << 8 | a[2 * i + 1];
		if (w[i] == 0) {
			if (cur < 0)
				cur = i;
			if (i - cur + 1 > best_len) {
				best = cur;
				best_len = i - cur + 1;
			}
		} else {
			cur = -1;
		}
	}
	if (best_len < 2)
		best = -1;

	for (i = 0; i < 8; i++) {
		if (best >= 0 && i >= best && i < best + best_len) {
			if (i == best)
				*p++ = ':';
			continue;
		}
		if (i > 0)
			*p++ = ':';
		if (i == 6 && best == 0 &&
		    (best_len == 6 || (best_len == 5 && w[5] == 0xffff)))
			return json_fmt_ip4(p, a + 12);
		if (w[i] >= 0x1000)
			*p++ = json_hex[w[i] >> 12];
		if (w[i] >= 0x100)
			*p++ = json_hex[w[i] >> 8 & 0xf];
		if (w[i] >= 0x10)
			*p++ = json_hex[w[i] >> 4 & 0xf];
		*p++ = json_hex[w[i] & 0xf];
	}
	if (best >= 0 && best + best_len == 8)
		*p++ = ':';
	return p;
}

/* The quoted address into tmp; its length, or 0 for null. */
static size_t json_fmt_ip(char tmp[48], int family, const uint8_t *addr)
{
	char *p;

	if ((family != 4 && family != 6) || addr == NULL)
		return 0;
	tmp[0] = '"';
	p = family == 4 ? json_fmt_ip4(tmp + 1, addr) : json_fmt_ip6(tmp + 1, addr);
	*p++ = '"';
	return (size_t)(p - tmp);
}

void json_ip(struct json *j, const char *key, int family, const uint8_t addr[16])
{
	char tmp[48];
	size_t n = json_fmt_ip(tmp, family, addr);

	if (n)
		json_raw(j, key, tmp, n);
	else
		json_null(j, key);
}

void json_ip_k(struct json *j, struct json_key k, int family, const uint8_t addr[16])
{
	char tmp[48];
	size_t n = json_fmt_ip(tmp, family, addr);

	if (n)
		json_raw_k(j, k, tmp, n);
	else
		json_raw_k(j, k, "null", 4);
}

bool json_resume(struct json *j, int depth, size_t extra)
{
	if (!j->truncated || j->misuse || depth < 1 || depth > j->depth)
		return false;
	/* Each closer's byte was reserved when its container opened. */
	while (j->depth > depth) {
		j->depth--;
		j->buf[j->len++] = j->closer[j->depth];
		j->lim++;
	}
	j->cap += extra;
	j->lim += extra;
	j->truncated = false;
	return true;
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
		j->lim++;
	}
	j->buf[j->len] = '\0';
	if (len)
		*len = j->len;
	return j->buf;
}
