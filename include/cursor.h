/* cursor.h: the one way egressd reads bytes it did not write (packets, records).
 *
 * A cursor is a view (p, len) and a read offset. Every getter checks the bounds;
 * a read past the end returns 0 / NULL, leaves the offset at the end and sets the
 * sticky `err` flag, so a parser can read a whole header and test cur_ok() once.
 * Nothing here allocates; pointers returned by cur_bytes() borrow the caller's buffer.
 */
#ifndef EGRESSD_CURSOR_H
#define EGRESSD_CURSOR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct cur {
	const uint8_t *p;
	size_t len;
	size_t off;
	bool err;
};

static inline struct cur cur_make(const uint8_t *p, size_t len)
{
	struct cur c = { p, p ? len : 0, 0, false };
	return c;
}

static inline size_t cur_left(const struct cur *c)
{
	return c->len - c->off;
}

static inline bool cur_ok(const struct cur *c)
{
	return !c->err;
}

/* Pointer at the read offset; valid for cur_left() bytes. */
static inline const uint8_t *cur_ptr(const struct cur *c)
{
	return c->p + c->off;
}

static inline bool cur_need(struct cur *c, size_t n)
{
	if (c->err || n > c->len - c->off) {
		c->err = true;
		c->off = c->len;
		return false;
	}
	return true;
}

static inline uint8_t cur_u8(struct cur *c)
{
	if (!cur_need(c, 1))
		return 0;
	return c->p[c->off++];
}

static inline uint16_t cur_be16(struct cur *c)
{
	if (!cur_need(c, 2))
		return 0;
	uint16_t v = (uint16_t)((uint16_t)c->p[c->off] << 8 | c->p[c->off + 1]);
	c->off += 2;
	return v;
}

static inline uint32_t cur_be24(struct cur *c)
{
	if (!cur_need(c, 3))
		return 0;
	uint32_t v = (uint32_t)c->p[c->off] << 16 | (uint32_t)c->p[c->off + 1] << 8 |
		     c->p[c->off + 2];
	c->off += 3;
	return v;
}

static inline uint32_t cur_be32(struct cur *c)
{
	if (!cur_need(c, 4))
		return 0;
	uint32_t v = (uint32_t)c->p[c->off] << 24 | (uint32_t)c->p[c->off + 1] << 16 |
		     (uint32_t)c->p[c->off + 2] << 8 | c->p[c->off + 3];
	c->off += 4;
	return v;
}

static inline uint16_t cur_le16(struct cur *c)
{
	if (!cur_need(c, 2))
		return 0;
	uint16_t v = (uint16_t)(c->p[c->off] | (uint16_t)c->p[c->off + 1] << 8);
	c->off += 2;
	return v;
}

static inline uint32_t cur_le32(struct cur *c)
{
	if (!cur_need(c, 4))
		return 0;
	uint32_t v = c->p[c->off] | (uint32_t)c->p[c->off + 1] << 8 |
		     (uint32_t)c->p[c->off + 2] << 16 | (uint32_t)c->p[c->off + 3] << 24;
	c->off += 4;
	return v;
}

/* n bytes at the read offset, advancing past them; NULL (and err) if fewer remain. */
static inline const uint8_t *cur_bytes(struct cur *c, size_t n)
{
	if (!cur_need(c, n))
		return NULL;
	const uint8_t *q = c->p + c->off;
	c->off += n;
	return q;
}

static inline void cur_skip(struct cur *c, size_t n)
{
	(void)cur_bytes(c, n);
}

/* A sub-view of the next n bytes; the parent advances past them. On a short parent
 * the sub-view is empty and already in error, and the parent is in error too. */
static inline struct cur cur_sub(struct cur *c, size_t n)
{
	const uint8_t *q = cur_bytes(c, n);
	struct cur s = { q, q ? n : 0, 0, q == NULL };
	return s;
}

/* The byte at offset off from the read position, without moving; 0 and err if absent. */
static inline uint8_t cur_peek_u8(struct cur *c, size_t off)
{
	if (c->err || off >= c->len - c->off) {
		c->err = true;
		return 0;
	}
	return c->p[c->off + off];
}

/* Absolute seek inside the view (DNS compression pointers). */
static inline void cur_seek(struct cur *c, size_t off)
{
	if (off > c->len) {
		c->err = true;
		c->off = c->len;
		return;
	}
	c->off = off;
}

#endif
