/* l7.h: what every application-layer (L7) parser shares: the result codes and the
 * helpers for copying wire strings into fixed buffers and for splitting text lines. */
#ifndef EGRESSD_L7_H
#define EGRESSD_L7_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cursor.h"

/* What a parser says about the bytes it was given. */
enum l7_result {
	L7_OK,		/* parsed; the output is filled */
	L7_NEED_MORE,	/* consistent so far but incomplete: call again with more bytes */
	L7_NOT_THIS,	/* not this protocol (or not the message this parser reads) */
	L7_MALFORMED,	/* this protocol, but broken; the output holds what came before */
};

/* Append n wire bytes from src to the C string dst (size dstsz) at *pos, keeping dst
 * NUL-terminated and advancing *pos. Bytes are kept as they are (escaping is the output
 * writer's job) except that NUL becomes '?' so it cannot silently end the string, and,
 * if lower, ASCII A-Z become a-z. Returns false if not all n bytes fitted (the prefix
 * that fits is kept). dstsz 0 writes nothing. */
bool l7_str_append(char *dst, size_t dstsz, size_t *pos, const uint8_t *src, size_t n,
		   bool lower);

/* The copy l7_str_append() makes, without bounds or terminator: n bytes from src to dst
 * (which has room for them; the two do not overlap), NUL as '?', A-Z as a-z if lower. */
void l7_wire_copy(char *dst, const uint8_t *src, size_t n, bool lower);

/* l7_str_append() at position 0: dst becomes a copy of the n bytes. */
bool l7_copy_str(char *dst, size_t dstsz, const uint8_t *src, size_t n, bool lower);

/* The next line of a text protocol: the bytes before the next LF, without the LF and
 * without a CR just before it (so CRLF and bare LF both end a line; a bare CR does not).
 * On success the cursor moves past the terminator. Returns false, leaving the cursor
 * where it was, when no complete line remains. */
bool l7_next_line(struct cur *c, const uint8_t **line, size_t *len);

/* The bytes before the first `delim` in the rest of c. If found, *tok and *n are set, c
 * moves past the delimiter and true is returned; otherwise *tok and *n are the rest of c,
 * c moves to its end and false is returned. */
bool l7_cur_split(struct cur *c, uint8_t delim, const uint8_t **tok, size_t *n);

/* Skip spaces and horizontal tabs. */
void l7_cur_skip_ws(struct cur *c);

/* Drop leading and trailing spaces and horizontal tabs from the span (*p, *n). */
void l7_trim_ws(const uint8_t **p, size_t *n);

/* Drop one trailing LF and then one trailing CR, if present. */
void l7_strip_eol(const uint8_t **p, size_t *n);

/* True if the span equals lit, ASCII case-insensitively. */
bool l7_span_ieq(const uint8_t *p, size_t n, const char *lit);

/* True if the span starts with lit, ASCII case-insensitively. */
bool l7_span_iprefix(const uint8_t *p, size_t n, const char *lit);

/* Parse a span of decimal digits (at least one, nothing else) into *v, saturating at
 * UINT64_MAX. Returns false on an empty span or any non-digit. */
bool l7_parse_u64(const uint8_t *p, size_t n, uint64_t *v);

/* The reply line of FTP (RFC 959 4.2) and SMTP (RFC 5321 4.2): three digits, then SP
 * (last line), '-' (more lines follow) or the end. Strips the line end. Returns false if
 * the line does not start that way; *code gets the number, *more the '-', and *rest the
 * cursor after the separator. */
bool l7_reply_code(const uint8_t *line, size_t len, uint16_t *code, bool *more,
		   struct cur *rest);

#endif
