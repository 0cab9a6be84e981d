/* json.h: bounded writer for the JSON records egressd emits (one object per line).
 * Writes into a caller-supplied buffer; never allocates, never overflows.
 *
 * Usage:
 *	char buf[4096];
 *	struct json j;
 *	json_init(&j, buf, sizeof(buf));
 *	json_obj_begin(&j, NULL);
 *	json_str(&j, "event", "dns");
 *	json_obj_begin(&j, "source");		(ECS dotted names are nested objects:
 *	json_ip(&j, "ip", 4, addr);		 the caller nests, the writer only
 *	json_obj_end(&j);			 writes keys)
 *	json_obj_end(&j);
 *	text = json_finish(&j, &len);		(no trailing newline is added)
 *
 * Keys: every member of an object needs a key; values at the top level and in
 * arrays take key NULL. Keys are escaped like string values.
 *
 * Strings (json_str, json_strn and keys) may be hostile bytes from the wire; the
 * output is always valid JSON and valid UTF-8, and the mapping is lossless:
 *  - well-formed UTF-8 (RFC 3629: no overlong forms, no surrogates U+D800..DFFF,
 *    nothing above U+10FFFF) is copied as it is;
 *  - `"` and `\` are escaped; \n \r \t use their short forms; the other bytes
 *    0x00..0x1F and 0x7F are written as \u00xx (lowercase hex);
 *  - each byte of an ill-formed sequence is written as the four characters
 *    \xNN (lowercase hex), i.e. the JSON text holds `\\xNN` (Zeek's convention).
 *    Decoding restarts at the next byte, so valid text after garbage survives;
 *  - a backslash followed by 'x' is written as \x5c (JSON text `\\x5c`), as if
 *    it were a raw byte, so that every \xNN in the decoded string stands for
 *    exactly one input byte: the 4 input characters \x41 give "\\x5cx41", the
 *    byte 0xff gives "\\xff". Any other backslash is written `\\`.
 *  A reader undoes the mapping by JSON-decoding, then turning each \xNN back
 *  into the byte NN.
 *
 * Overflow: one byte per open container (for its closer) and one for the
 * terminating NUL are always held in reserve. Each member (comma, key and value)
 * is written whole or not at all. When a member or container opener does not
 * fit, it is dropped, `truncated` is set and every later call writes nothing;
 * json_finish() then appends the closers of the containers that were open at
 * that point, so the text is still valid JSON ("{}" at the least, if the top
 * level container fit). A buffer of at least 3 bytes is needed for that; with
 * less, json_finish() returns "" with truncated set.
 *
 * Misuse (a member without a key in an object or with one outside it, nesting
 * deeper than JSON_MAX_DEPTH, an end that does not match the open container, a
 * second top-level value, json_finish() with containers still open or nothing
 * written) sets `misuse` and is handled like an overflow at that point: nothing
 * more is written and json_finish() closes what is open, so the text stays valid.
 *
 * Without truncation or misuse json_finish() closes nothing: the caller closes
 * every container it opened.
 */
#ifndef EGRESSD_JSON_H
#define EGRESSD_JSON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#define JSON_MAX_DEPTH 16

struct json {
	char *buf;
	size_t cap;			/* size of buf, including the NUL */
	size_t len;			/* bytes of text written so far */
	size_t lim;			/* len may grow to this: cap less the NUL
					 * and the open containers' closers */
	bool truncated;			/* ran out of room; content was dropped */
	bool misuse;			/* API misuse; content was dropped */
	bool top_done;			/* the top-level value has been started */
	int depth;			/* open containers */
	bool first[JSON_MAX_DEPTH];	/* container i has no member yet */
	char closer[JSON_MAX_DEPTH];	/* '}' or ']' for container i */
};

void json_init(struct json *j, char *buf, size_t cap);

void json_obj_begin(struct json *j, const char *key);
void json_arr_begin(struct json *j, const char *key);
/* json_obj_end and json_arr_end are below. */

/* A NUL-terminated string; s == NULL writes null. */
void json_str(struct json *j, const char *key, const char *s);
/* n bytes, any values (NUL included); s may be NULL only when n == 0. */
void json_strn(struct json *j, const char *key, const void *s, size_t n);
void json_u64(struct json *j, const char *key, uint64_t v);
void json_i64(struct json *j, const char *key, int64_t v);
void json_bool(struct json *j, const char *key, bool v);
void json_null(struct json *j, const char *key);
/* printf %.6g; NaN and infinities are written as null. */
void json_double(struct json *j, const char *key, double v);
/* RFC 3339 UTC with microseconds, "2024-01-02T03:04:05.123456Z";
 * null past 9999-12-31T23:59:59.999999Z. */
void json_time(struct json *j, const char *key, uint64_t usec_since_epoch);
/* family 4 (address in addr[0..3]) or 6; canonical inet_ntop text
 * ("2001:db8::1"); null for any other family. */
void json_ip(struct json *j, const char *key, int family, const uint8_t addr[16]);

/*
 * Keys known when compiling: JSON_KEY("port") holds the key already quoted,
 * with the comma that goes before it and the colon after, so that writing it is
 * one copy and no escaping. Only for string literals of printable ASCII without
 * '"' or '\' (the ECS names); a key that may hold anything else takes the
 * escaping const char * form above. The _k functions are those above with such
 * a key, for members of objects; a _k call elsewhere is misuse as usual.
 */
struct json_key {
	const char *text;		/* ",\"port\":" */
	size_t len;
};

#define JSON_KEY(lit) ((struct json_key){ ",\"" lit "\":", sizeof(lit) + 3 })

void json_arr_begin_k(struct json *j, struct json_key k);
void json_strn_k(struct json *j, struct json_key k, const void *s, size_t n);
void json_bool_k(struct json *j, struct json_key k, bool v);
void json_double_k(struct json *j, struct json_key k, double v);
void json_time_k(struct json *j, struct json_key k, uint64_t usec_since_epoch);
void json_ip_k(struct json *j, struct json_key k, int family, const uint8_t addr[16]);
/* json_obj_begin_k, json_str_k and json_u64_k are below. */

/* Terminates the text with a NUL (closing containers only after truncation or
 * misuse, see above) and returns it; *len (if len is not NULL) gets its length.
 * The text lives in the caller's buffer. No newline is appended. */
const char *json_finish(struct json *j, size_t *len);

/* After a cut (truncated set, no misuse): closes the containers opened deeper than
 * `depth` (1 is the top-level value), clears truncated and lets the writer use `extra`
 * more bytes, which the caller held back by giving json_init a smaller cap. That room
 * is for saying, in a container still open, that the text was cut. Returns false and
 * changes nothing if there was no cut or fewer than `depth` containers are open. */
bool json_resume(struct json *j, int depth, size_t extra);

/*
 * The calls a flow record makes most, inline: with the key's length known when
 * compiling, a member is a few moves. They take the common case (the writer
 * running, in an object, with room for the member) and leave the rest,
 * truncation and misuse included, to the _slow functions, which are the whole
 * rules. Nothing below is API but json_obj_end, json_arr_end and the three _k
 * functions at the end.
 */
/* Inlined even where the compiler thinks a function has grown enough: the
 * call would cost more than the fast path. */
#define JSON_INLINE static inline __attribute__((always_inline))

extern const uint8_t json_class[256];	/* 0: a byte strings carry as it is */
extern const char json_digit_pairs[201];	/* "00" to "99" */

void json_obj_begin_k_slow(struct json *j, struct json_key k);
void json_str_k_slow(struct json *j, struct json_key k, const char *s);
void json_u64_k_slow(struct json *j, struct json_key k, uint64_t v);

JSON_INLINE void json_end(struct json *j, char close)
{
	if (j->truncated || j->misuse)
		return;
	if (j->depth == 0 || j->closer[j->depth - 1] != close) {
		j->misuse = true;
		return;
	}
	/* Always fits: a byte was reserved for it when the container opened. */
	j->depth--;
	j->buf[j->len++] = close;
	j->lim++;
}

JSON_INLINE void json_obj_end(struct json *j)
{
	json_end(j, '}');
}

JSON_INLINE void json_arr_end(struct json *j)
{
	json_end(j, ']');
}

/* Writes the key of a member of at most n bytes after it, and returns where the
 * value goes; NULL (nothing written) if not the common case. The key text
 * starts with its comma: before the first member it is written over the
 * object's '{', which is then put back. */
JSON_INLINE char *json_fast_key(struct json *j, struct json_key k, size_t n)
{
	size_t first;
	char *p;

	if (j->truncated || j->misuse || j->depth == 0 || j->closer[j->depth - 1] != '}')
		return NULL;
	first = j->first[j->depth - 1];
	if (k.len - first + n > j->lim - j->len)
		return NULL;
	p = j->buf + j->len - first;
	memcpy(p, k.text, k.len);
	if (first)
		p[0] = '{';
	j->first[j->depth - 1] = false;
	return p + k.len;
}

JSON_INLINE void json_obj_begin_k(struct json *j, struct json_key k)
{
	char *p;

	/* the opener and a byte kept for the closer */
	if (j->depth >= JSON_MAX_DEPTH || !(p = json_fast_key(j, k, 2))) {
		json_obj_begin_k_slow(j, k);
		return;
	}
	*p++ = '{';
	j->len = (size_t)(p - j->buf);
	j->lim--;
	j->closer[j->depth] = '}';
	j->first[j->depth] = true;
	j->depth++;
}

JSON_INLINE void json_str_k(struct json *j, struct json_key k, const char *s)
{
	size_t n = 0;
	char *p;

	/* The NUL is not plain: one pass finds the length of a string that
	 * needs no escape. */
	if (s)
		while (json_class[(uint8_t)s[n]] == 0)
			n++;
	if (!s || s[n] != '\0' || !(p = json_fast_key(j, k, n + 2))) {
		json_str_k_slow(j, k, s);
		return;
	}
	*p++ = '"';
	memcpy(p, s, n);
	p[n] = '"';
	j->len = (size_t)(p + n + 1 - j->buf);
}

JSON_INLINE void json_u64_k(struct json *j, struct json_key k, uint64_t v)
{
	size_t n = 1;
	uint64_t t;
	char *p;

	for (t = v; t >= 10; t /= 10)
		n++;
	if (!(p = json_fast_key(j, k, n))) {
		json_u64_k_slow(j, k, v);
		return;
	}
	j->len = (size_t)(p + n - j->buf);
	/* two digits at a time, from the end */
	for (p += n; v >= 10; v /= 100) {
		p -= 2;
		memcpy(p, json_digit_pairs + 2 * (v % 100), 2);
		if (v < 100)
			return;
	}
	p[-1] = (char)('0' + v);
}

#endif
