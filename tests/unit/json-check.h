/* Strict RFC 8259 + UTF-8 checker for the JSON text egressd writes: chk_valid() is true
 * if a text is exactly one JSON value, valid UTF-8, with no NUL; chk_string() decodes a
 * string value into c->out when it is set.
 *
 * Header-only (static functions): each test is its own binary. Include after cmocka.h. */
#ifndef EGRESSD_TESTS_JSON_CHECK_H
#define EGRESSD_TESTS_JSON_CHECK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

struct chk {
	const char *p;
	const char *end;
	char *out;		/* decoded string value, if not NULL */
	size_t out_len;
	size_t out_cap;
};

static void chk_emit(struct chk *c, const void *s, size_t n)
{
	if (c->out == NULL)
		return;
	assert_true(c->out_len + n <= c->out_cap);
	memcpy(c->out + c->out_len, s, n);
	c->out_len += n;
}

static void chk_emit_cp(struct chk *c, uint32_t cp)
{
	uint8_t u[4];
	size_t n;

	if (cp < 0x80) {
		u[0] = (uint8_t)cp;
		n = 1;
	} else if (cp < 0x800) {
		u[0] = (uint8_t)(0xc0 | cp >> 6);
		u[1] = (uint8_t)(0x80 | (cp & 0x3f));
		n = 2;
	} else if (cp < 0x10000) {
		u[0] = (uint8_t)(0xe0 | cp >> 12);
		u[1] = (uint8_t)(0x80 | (cp >> 6 & 0x3f));
		u[2] = (uint8_t)(0x80 | (cp & 0x3f));
		n = 3;
	} else {
		u[0] = (uint8_t)(0xf0 | cp >> 18);
		u[1] = (uint8_t)(0x80 | (cp >> 12 & 0x3f));
		u[2] = (uint8_t)(0x80 | (cp >> 6 & 0x3f));
		u[3] = (uint8_t)(0x80 | (cp & 0x3f));
		n = 4;
	}
	chk_emit(c, u, n);
}

/* Decodes one UTF-8 scalar value by arithmetic (independent of the writer's
 * table): rejects overlong forms, surrogates and values above U+10FFFF. */
static bool chk_utf8(struct chk *c)
{
	const uint8_t *s = (const uint8_t *)c->p;
	size_t avail = (size_t)(c->end - c->p), n, i;
	uint32_t cp, min;

	if (s[0] < 0x80)
		return false;
	if ((s[0] & 0xe0) == 0xc0) {
		n = 2;
		cp = s[0] & 0x1f;
		min = 0x80;
	} else if ((s[0] & 0xf0) == 0xe0) {
		n = 3;
		cp = s[0] & 0x0f;
		min = 0x800;
	} else if ((s[0] & 0xf8) == 0xf0) {
		n = 4;
		cp = s[0] & 0x07;
		min = 0x10000;
	} else {
		return false;
	}
	if (avail < n)
		return false;
	for (i = 1; i < n; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return false;
		cp = cp << 6 | (s[i] & 0x3f);
	}
	if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
		return false;
	chk_emit(c, s, n);
	c->p += n;
	return true;
}

static int chk_hex(char ch)
{
	if (ch >= '0' && ch <= '9')
		return ch - '0';
	if (ch >= 'a' && ch <= 'f')
		return ch - 'a' + 10;
	if (ch >= 'A' && ch <= 'F')
		return ch - 'A' + 10;
	return -1;
}

static bool chk_u4(struct chk *c, uint32_t *v)
{
	int i, h;

	if (c->end - c->p < 4)
		return false;
	*v = 0;
	for (i = 0; i < 4; i++) {
		h = chk_hex(c->p[i]);
		if (h < 0)
			return false;
		*v = *v << 4 | (uint32_t)h;
	}
	c->p += 4;
	return true;
}

static bool chk_string(struct chk *c)
{
	if (c->p >= c->end || *c->p != '"')
		return false;
	c->p++;
	while (c->p < c->end) {
		unsigned char ch = (unsigned char)*c->p;
		uint32_t cp, lo;

		if (ch == '"') {
			c->p++;
			return true;
		}
		if (ch < 0x20)
			return false;
		if (ch >= 0x80) {
			if (!chk_utf8(c))
				return false;
			continue;
		}
		if (ch != '\\') {
			chk_emit(c, &ch, 1);
			c->p++;
			continue;
		}
		if (++c->p >= c->end)
			return false;
		ch = (unsigned char)*c->p++;
		switch (ch) {
		case '"': case '\\': case '/':
			chk_emit(c, &ch, 1);
			break;
		case 'b':
			chk_emit(c, "\b", 1);
			break;
		case 'f':
			chk_emit(c, "\f", 1);
			break;
		case 'n':
			chk_emit(c, "\n", 1);
			break;
		case 'r':
			chk_emit(c, "\r", 1);
			break;
		case 't':
			chk_emit(c, "\t", 1);
			break;
		case 'u':
			if (!chk_u4(c, &cp))
				return false;
			if (cp >= 0xdc00 && cp <= 0xdfff)
				return false;	/* lone low surrogate */
			if (cp >= 0xd800 && cp <= 0xdbff) {
				if (c->end - c->p < 2 || c->p[0] != '\\' || c->p[1] != 'u')
					return false;
				c->p += 2;
				if (!chk_u4(c, &lo) || lo < 0xdc00 || lo > 0xdfff)
					return false;
				cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
			}
			chk_emit_cp(c, cp);
			break;
		default:
			return false;
		}
	}
	return false;
}

static bool chk_digits(struct chk *c)
{
	const char *s = c->p;

	while (c->p < c->end && *c->p >= '0' && *c->p <= '9')
		c->p++;
	return c->p > s;
}

static bool chk_number(struct chk *c)
{
	if (c->p < c->end && *c->p == '-')
		c->p++;
	if (c->p < c->end && *c->p == '0')
		c->p++;
	else if (c->p >= c->end || *c->p < '1' || *c->p > '9' || !chk_digits(c))
		return false;
	if (c->p < c->end && *c->p == '.') {
		c->p++;
		if (!chk_digits(c))
			return false;
	}
	if (c->p < c->end && (*c->p == 'e' || *c->p == 'E')) {
		c->p++;
		if (c->p < c->end && (*c->p == '+' || *c->p == '-'))
			c->p++;
		if (!chk_digits(c))
			return false;
	}
	return true;
}

static bool chk_lit(struct chk *c, const char *w)
{
	size_t n = strlen(w);

	if ((size_t)(c->end - c->p) < n || memcmp(c->p, w, n) != 0)
		return false;
	c->p += n;
	return true;
}

static bool chk_value(struct chk *c, int depth);

/* Containers; the writer emits no whitespace, so none is accepted. */
static bool chk_members(struct chk *c, int depth, char close, bool keyed)
{
	c->p++;
	if (c->p < c->end && *c->p == close) {
		c->p++;
		return true;
	}
	for (;;) {
		if (keyed) {
			char *save = c->out;

			c->out = NULL;
			bool ok = chk_string(c);

			c->out = save;
			if (!ok || c->p >= c->end || *c->p++ != ':')
				return false;
		}
		if (!chk_value(c, depth + 1) || c->p >= c->end)
			return false;
		if (*c->p == close) {
			c->p++;
			return true;
		}
		if (*c->p++ != ',')
			return false;
	}
}

static bool chk_value(struct chk *c, int depth)
{
	if (depth > 64 || c->p >= c->end)
		return false;
	switch (*c->p) {
	case '{':
		return chk_members(c, depth, '}', true);
	case '[':
		return chk_members(c, depth, ']', false);
	case '"':
		return chk_string(c);
	case 't':
		return chk_lit(c, "true");
	case 'f':
		return chk_lit(c, "false");
	case 'n':
		return chk_lit(c, "null");
	default:
		return chk_number(c);
	}
}

/* True if s[0..n) is exactly one JSON value, valid UTF-8, with no NUL. */
static bool chk_valid(const char *s, size_t n)
{
	struct chk c = { s, s + n, NULL, 0, 0 };

	if (memchr(s, '\0', n))
		return false;
	return chk_value(&c, 0) && c.p == c.end;
}

#endif
