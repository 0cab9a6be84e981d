/* l7-util.c: helpers shared by the application-layer parsers: bounded string copies
 * of wire bytes, line splitting for text protocols, small span predicates. */
#include <string.h>

#include "l7.h"

static uint8_t ascii_lower(uint8_t ch)
{
	return (ch >= 'A' && ch <= 'Z') ? (uint8_t)(ch - 'A' + 'a') : ch;
}

#define BYTES64(x) (0x0101010101010101ull * (x))
#define BYTES32(x) (0x01010101u * (x))

/* l7_str_append()'s rule for 8 (or 4) bytes at once, each byte on its own (no carry
 * crosses a byte): NUL becomes '?', and if lower, A-Z become a-z. */
#define WIRE_CHARS(T, BYTES)                                                              \
	static T wire_chars_##T(T v, bool lower)                                          \
	{                                                                                 \
		T low7 = v & BYTES(0x7f);                                                 \
		/* the top bit of each byte that is 0 */                                  \
		T nul = ~((low7 + BYTES(0x7f)) | v) & BYTES(0x80);                        \
		T out = v | (T)((nul >> 7) * '?');                                        \
                                                                                          \
		if (lower) {                                                              \
			/* top bit of each byte in 'A'..'Z': from 'A', not past 'Z', < 0x80 */ \
			T ge_a = low7 + BYTES(0x80 - 'A');                                \
			T gt_z = low7 + BYTES(0x80 - 'Z' - 1);                            \
			T upper = ge_a & ~gt_z & ~v & BYTES(0x80);                        \
                                                                                          \
			out |= upper >> 2; /* 0x20: 'A' -> 'a' */                         \
		}                                                                         \
		return out;                                                               \
	}
WIRE_CHARS(uint64_t, BYTES64)
WIRE_CHARS(uint32_t, BYTES32)

/* Words that do not fill n are taken again from n's end, overlapping: the rule reads src
 * only. */
void l7_wire_copy(char *dst, const uint8_t *src, size_t n, bool lower)
{
	uint64_t v;
	uint32_t w;
	size_t i;

	if (n >= 8) {
		for (i = 0; i + 8 <= n; i += 8) {
			memcpy(&v, src + i, 8);
			v = wire_chars_uint64_t(v, lower);
			memcpy(dst + i, &v, 8);
		}
		if (i < n) {
			memcpy(&v, src + n - 8, 8);
			v = wire_chars_uint64_t(v, lower);
			memcpy(dst + n - 8, &v, 8);
		}
	} else if (n >= 4) {
		memcpy(&w, src, 4);
		w = wire_chars_uint32_t(w, lower);
		memcpy(dst, &w, 4);
		memcpy(&w, src + n - 4, 4);
		w = wire_chars_uint32_t(w, lower);
		memcpy(dst + n - 4, &w, 4);
	} else {
		for (i = 0; i < n; i++) {
			uint8_t ch = src[i];
			dst[i] = (char)(ch == 0 ? '?' : lower ? ascii_lower(ch) : ch);
		}
	}
}

bool l7_str_append(char *dst, size_t dstsz, size_t *pos, const uint8_t *src, size_t n,
		   bool lower)
{
	size_t at = *pos, take;

	if (dstsz == 0)
		return n == 0;
	if (!src)
		n = 0; /* an absent view holds no bytes */
	if (at >= dstsz)
		at = dstsz - 1;
	take = dstsz - 1 - at;
	if (n < take)
		take = n;
	l7_wire_copy(dst + at, src, take, lower);
	dst[at + take] = '\0';
	*pos = at + take;
	return take == n;
}

bool l7_copy_str(char *dst, size_t dstsz, const uint8_t *src, size_t n, bool lower)
{
	size_t pos = 0;

	return l7_str_append(dst, dstsz, &pos, src, n, lower);
}

bool l7_cur_split(struct cur *c, uint8_t delim, const uint8_t **tok, size_t *n)
{
	size_t left = cur_left(c);
	const uint8_t *start = c->p ? cur_ptr(c) : NULL;
	const uint8_t *hit = left ? memchr(start, delim, left) : NULL;

	if (!hit) {
		*n = left;
		*tok = start;
		if (left)
			cur_skip(c, left);
		return false;
	}
	*n = (size_t)(hit - start);
	*tok = start;
	cur_skip(c, *n + 1);
	return cur_ok(c);
}

bool l7_next_line(struct cur *c, const uint8_t **line, size_t *len)
{
	struct cur probe = *c;
	const uint8_t *p;
	size_t n;

	if (!cur_ok(c) || !l7_cur_split(&probe, '\n', &p, &n))
		return false;
	if (n > 0) {
		struct cur last = cur_make(p, n);

		cur_skip(&last, n - 1);
		if (cur_u8(&last) == '\r')
			n--;
	}
	*c = probe;
	*line = p;
	*len = n;
	return true;
}

static bool is_ws(uint8_t ch)
{
	return ch == ' ' || ch == '\t';
}

void l7_cur_skip_ws(struct cur *c)
{
	size_t left = cur_left(c), i = 0;

	if (c->err)
		return; /* as every other read of a cursor in error: nothing */
	while (i < left && is_ws(c->p[c->off + i]))
		i++;
	c->off += i;
}

void l7_trim_ws(const uint8_t **p, size_t *n)
{
	const uint8_t *q = *p;
	size_t len = q ? *n : 0; /* an absent span holds no bytes */

	while (len > 0 && is_ws(*q)) {
		q++;
		len--;
	}
	while (len > 0 && is_ws(q[len - 1]))
		len--;
	*p = q;
	*n = len;
}

void l7_strip_eol(const uint8_t **p, size_t *n)
{
	struct cur c = cur_make(*p, *n);
	size_t end = *n;

	if (end > 0 && cur_peek_u8(&c, end - 1) == '\n')
		end--;
	if (end > 0 && cur_peek_u8(&c, end - 1) == '\r')
		end--;
	*n = end;
}

bool l7_span_iprefix(const uint8_t *p, size_t n, const char *lit)
{
	size_t ln = strlen(lit);

	if (ln > n)
		return false;
	if (!p)
		return ln == 0; /* an absent span holds no bytes */
	for (size_t i = 0; i < ln; i++) {
		if (ascii_lower(p[i]) != ascii_lower((uint8_t)lit[i]))
			return false;
	}
	return true;
}

bool l7_span_ieq(const uint8_t *p, size_t n, const char *lit)
{
	return strlen(lit) == n && l7_span_iprefix(p, n, lit);
}

bool l7_parse_u64(const uint8_t *p, size_t n, uint64_t *v)
{
	struct cur c = cur_make(p, n);
	uint64_t acc = 0;

	if (n == 0)
		return false;
	while (cur_left(&c) > 0) {
		uint8_t ch = cur_u8(&c);
		unsigned d;

		if (ch < '0' || ch > '9')
			return false;
		d = (unsigned)(ch - '0');
		if (acc > (UINT64_MAX - d) / 10)
			acc = UINT64_MAX;
		else
			acc = acc * 10 + d;
	}
	*v = acc;
	return true;
}

bool l7_reply_code(const uint8_t *line, size_t len, uint16_t *code, bool *more,
		   struct cur *rest)
{
	unsigned v = 0;

	*code = 0;
	*more = false;
	if (!line)
		return false;
	l7_strip_eol(&line, &len);
	*rest = cur_make(line, len);
	for (unsigned i = 0; i < 3; i++) {
		uint8_t ch = cur_u8(rest);

		if (ch < '0' || ch > '9')
			return false;
		v = v * 10 + (unsigned)(ch - '0');
	}
	if (cur_left(rest) > 0) {
		uint8_t sep = cur_u8(rest);

		if (sep != ' ' && sep != '-')
			return false;
		*more = sep == '-';
	}
	*code = (uint16_t)v;
	return true;
}
