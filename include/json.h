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
void json_obj_end(struct json *j);
void json_arr_begin(struct json *j, const char *key);
void json_arr_end(struct json *j);

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

void json_obj_begin_k(struct json *j, struct json_key k);
void json_arr_begin_k(struct json *j, struct json_key k);
void json_str_k(struct json *j, struct json_key k, const char *s);
void json_strn_k(struct json *j, struct json_key k, const void *s, size_t n);
void json_u64_k(struct json *j, struct json_key k, uint64_t v);
void json_bool_k(struct json *j, struct json_key k, bool v);
void json_double_k(struct json *j, struct json_key k, double v);
void json_time_k(struct json *j, struct json_key k, uint64_t usec_since_epoch);
void json_ip_k(struct json *j, struct json_key k, int family, const uint8_t addr[16]);

/* Terminates the text with a NUL (closing containers only after truncation or
 * misuse, see above) and returns it; *len (if len is not NULL) gets its length.
 * The text lives in the caller's buffer. No newline is appended. */
const char *json_finish(struct json *j, size_t *len);

#endif
