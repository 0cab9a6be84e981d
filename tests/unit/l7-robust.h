/* Shared robustness harness for the L7 parser unit tests: every prefix of a message,
 * then seeded pseudo-random mutations, each in a heap buffer of exactly the input's
 * size so that AddressSanitizer sees any over-read. The callback parses one buffer
 * and makes its own assertions.
 *
 * Header-only (static inline): each test is its own binary. Include after cmocka.h. */
#ifndef EGRESSD_TESTS_L7_ROBUST_H
#define EGRESSD_TESTS_L7_ROBUST_H

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* xorshift32; the state carries over between l7_robust_run() calls so that one
 * seed serves a whole test. */
struct l7_rng {
	uint32_t s;
};

static inline void l7_rng_seed(struct l7_rng *r, uint32_t seed)
{
	r->s = seed;
}

static inline uint32_t l7_rng_next(struct l7_rng *r)
{
	uint32_t x = r->s;

	x ^= x << 13;
	x ^= x >> 17;
	x ^= x << 5;
	return r->s = x;
}

/* A heap copy of exactly n bytes (malloc(1) for n == 0, so the pointer is never NULL);
 * the caller frees it. */
static inline uint8_t *l7_robust_dup(const void *p, size_t n)
{
	uint8_t *b = malloc(n ? n : 1);

	assert_non_null(b);
	if (n)
		memcpy(b, p, n);
	return b;
}

/* The kinds of edit a mutation round picks from (uniformly, by rng % count). */
enum l7_robust_op {
	L7_ROBUST_RANDOM,	/* a random byte */
	L7_ROBUST_SPECIAL,	/* one of opts->specials */
	L7_ROBUST_BITFLIP,	/* one bit flipped */
	L7_ROBUST_EXTREME,	/* 0x00 or 0xff */
	L7_ROBUST_CUSTOM,	/* opts->custom() */
	L7_ROBUST_TRUNCATE,	/* the buffer ends after this byte */
};

struct l7_robust_opts {
	const enum l7_robust_op *ops;
	size_t n_ops;
	const uint8_t *specials;	/* for L7_ROBUST_SPECIAL */
	size_t n_specials;
	/* for L7_ROBUST_CUSTOM: edit b (n bytes) at index at */
	void (*custom)(uint8_t *b, size_t n, size_t at, struct l7_rng *rng);
};

/* Parses p[0..n) and asserts whatever holds for any input. */
typedef void (*l7_robust_fn)(const uint8_t *p, size_t n, void *ctx);

/* Every prefix msg[0..k), k = 0..len, then `mutations` rounds of 1 to 4 edits to a
 * full copy, each handed to fn in a buffer of exactly its length. len must be > 0
 * when mutations > 0. */
static inline void l7_robust_run(const uint8_t *msg, size_t len, struct l7_rng *rng,
				 int mutations, const struct l7_robust_opts *opts,
				 l7_robust_fn fn, void *ctx)
{
	uint8_t *b = l7_robust_dup(msg, len);

	for (size_t k = 0; k <= len; k++) {
		uint8_t *p = l7_robust_dup(msg, k);

		fn(p, k, ctx);
		free(p);
	}
	for (int i = 0; i < mutations; i++) {
		unsigned edits = 1 + l7_rng_next(rng) % 4;
		size_t n = len;

		memcpy(b, msg, len);
		for (unsigned e = 0; e < edits; e++) {
			size_t at = l7_rng_next(rng) % len;

			switch (opts->ops[l7_rng_next(rng) % opts->n_ops]) {
			case L7_ROBUST_RANDOM:
				b[at] = (uint8_t)l7_rng_next(rng);
				break;
			case L7_ROBUST_SPECIAL:
				b[at] = opts->specials[l7_rng_next(rng) % opts->n_specials];
				break;
			case L7_ROBUST_BITFLIP:
				b[at] ^= (uint8_t)(1u << (l7_rng_next(rng) % 8));
				break;
			case L7_ROBUST_EXTREME:
				b[at] = (l7_rng_next(rng) & 1) ? 0xff : 0x00;
				break;
			case L7_ROBUST_CUSTOM:
				opts->custom(b, len, at, rng);
				break;
			case L7_ROBUST_TRUNCATE:
				n = at + 1;
				break;
			}
		}
		{
			uint8_t *p = l7_robust_dup(b, n);

			fn(p, n, ctx);
			free(p);
		}
	}
	free(b);
}

/* For text protocols: each edit is a random byte, one of specials, or a cut. */
static inline void l7_robust_text(const char *s, size_t len, struct l7_rng *rng, int mutations,
				  const uint8_t *specials, size_t n_specials, l7_robust_fn fn,
				  void *ctx)
{
	static const enum l7_robust_op ops[] = { L7_ROBUST_RANDOM, L7_ROBUST_SPECIAL,
						 L7_ROBUST_TRUNCATE };
	const struct l7_robust_opts o = {
		.ops = ops,
		.n_ops = sizeof(ops) / sizeof(ops[0]),
		.specials = specials,
		.n_specials = n_specials,
	};

	l7_robust_run((const uint8_t *)s, len, rng, mutations, &o, fn, ctx);
}

#endif
