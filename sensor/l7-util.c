/* l7-util.c: helpers shared by the application-layer parsers: bounded string copies
 * of wire bytes, line splitting for text protocols, small span predicates. */
#include <string.h>

#include "l7.h"

static uint8_t ascii_lower(uint8_t ch)
{
	return (ch >= 'A' && ch <= 'Z') ? (uint8_t)(ch - 'A' + 'a') : ch;
}

bool l7_str_append(char *dst, size_t dstsz, size_t *pos, const uint8_t *src, size_t n,
		   bool lower)
{
	struct cur c = cur_make(src, n);
	size_t at = *pos;

	if (dstsz == 0)
		return n == 0;
	if (at >= dstsz)
		at = dstsz - 1;
	while (cur_left(&c) > 0 && at < dstsz - 1) {
		uint8_t ch = cur_u8(&c);

		if (ch == 0)
			ch = '?';
		else if (lower)
			ch = ascii_lower(ch);
		dst[at++] = (char)ch;
	}
	dst[at] = '\0';
	*pos = at;
	return cur_left(&c) == 0;
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

void l7_cur_skip_ws(struct cur *c)
{
	while (cur_left(c) > 0) {
		uint8_t ch = cur_peek_u8(c, 0);

		if (ch != ' ' && ch != '\t')
			break;
		cur_skip(c, 1);
	}
}

void l7_trim_ws(const uint8_t **p, size_t *n)
{
	struct cur c = cur_make(*p, *n);
	size_t end;

	l7_cur_skip_ws(&c);
	end = cur_left(&c);
	while (end > 0) {
		uint8_t ch = cur_peek_u8(&c, end - 1);

		if (ch != ' ' && ch != '\t')
			break;
		end--;
	}
	*p = cur_ptr(&c);
	*n = end;
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
	struct cur c = cur_make(p, n);

	if (ln > n)
		return false;
	for (size_t i = 0; i < ln; i++) {
		if (ascii_lower(cur_u8(&c)) != ascii_lower((uint8_t)lit[i]))
			return false;
	}
	return cur_ok(&c);
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
