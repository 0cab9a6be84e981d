/* siphash.c: SipHash-1-3 (one compression round, three finalisation rounds), following
 * the reference implementation at https://github.com/veorq/SipHash. */
#include <string.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

#include "siphash.h"

#define ROTL(x, b) (uint64_t)(((x) << (b)) | ((x) >> (64 - (b))))

static inline void sipround(uint64_t *v0, uint64_t *v1, uint64_t *v2, uint64_t *v3)
{
	*v0 += *v1;
	*v1 = ROTL(*v1, 13);
	*v1 ^= *v0;
	*v0 = ROTL(*v0, 32);
	*v2 += *v3;
	*v3 = ROTL(*v3, 16);
	*v3 ^= *v2;
	*v0 += *v3;
	*v3 = ROTL(*v3, 21);
	*v3 ^= *v0;
	*v2 += *v1;
	*v1 = ROTL(*v1, 17);
	*v1 ^= *v2;
	*v2 = ROTL(*v2, 32);
}

static inline uint64_t load_le64(const uint8_t *p)
{
	uint64_t v;
	memcpy(&v, p, 8);
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
	v = __builtin_bswap64(v);
#endif
	return v;
}

uint64_t siphash13(const struct siphash_key *key, const void *data, size_t len)
{
	const uint8_t *in = data;
	uint64_t v0 = 0x736f6d6570736575ULL ^ key->k0;
	uint64_t v1 = 0x646f72616e646f6dULL ^ key->k1;
	uint64_t v2 = 0x6c7967656e657261ULL ^ key->k0;
	uint64_t v3 = 0x7465646279746573ULL ^ key->k1;
	const uint8_t *end = in + len - (len % 8);
	uint64_t b = (uint64_t)len << 56;

	for (; in != end; in += 8) {
		uint64_t m = load_le64(in);
		v3 ^= m;
		sipround(&v0, &v1, &v2, &v3);
		v0 ^= m;
	}
	switch (len & 7) {
	case 7: b |= (uint64_t)in[6] << 48; /* fall through */
	case 6: b |= (uint64_t)in[5] << 40; /* fall through */
	case 5: b |= (uint64_t)in[4] << 32; /* fall through */
	case 4: b |= (uint64_t)in[3] << 24; /* fall through */
	case 3: b |= (uint64_t)in[2] << 16; /* fall through */
	case 2: b |= (uint64_t)in[1] << 8;  /* fall through */
	case 1: b |= (uint64_t)in[0]; break;
	case 0: break;
	}
	v3 ^= b;
	sipround(&v0, &v1, &v2, &v3);
	v0 ^= b;
	v2 ^= 0xff;
	sipround(&v0, &v1, &v2, &v3);
	sipround(&v0, &v1, &v2, &v3);
	sipround(&v0, &v1, &v2, &v3);
	return v0 ^ v1 ^ v2 ^ v3;
}

void siphash_key_random(struct siphash_key *key)
{
	uint64_t k[2];
	if (getrandom(k, sizeof(k), 0) != (ssize_t)sizeof(k)) {
		struct timespec ts;
		clock_gettime(CLOCK_MONOTONIC, &ts);
		k[0] = (uint64_t)ts.tv_nsec * 0x9e3779b97f4a7c15ULL ^ (uint64_t)getpid();
		k[1] = (uint64_t)ts.tv_sec * 0xc2b2ae3d27d4eb4fULL ^ (uint64_t)(uintptr_t)key;
	}
	key->k0 = k[0];
	key->k1 = k[1];
}

void khash_key_random(struct khash_key *key)
{
	struct siphash_key seed;
	siphash_key_random(&seed);
	for (uint64_t i = 0; i < KHASH_MAX_BYTES / 4 + 2; i++) {
		uint64_t j = i | 1ull << 32;
		key->a[i] = siphash13(&seed, &i, sizeof(i));
		key->b[i] = siphash13(&seed, &j, sizeof(j));
	}
	siphash_key_random(&key->sip);
}

uint64_t khash(const struct khash_key *key, const void *data, size_t len)
{
	const uint8_t *p = data;
	size_t n = len / 4, i;

	if (len > KHASH_MAX_BYTES)
		return siphash13(&key->sip, data, len);
	uint64_t h1 = key->a[0] + key->a[1] * len, h2 = key->b[0] + key->b[1] * len;
	for (i = 0; i < n; i++) {
		uint32_t w;
		memcpy(&w, p + 4 * i, 4);
		h1 += key->a[i + 2] * w;
		h2 += key->b[i + 2] * w;
	}
	if (len & 3) {
		uint32_t w = 0;
		memcpy(&w, p + 4 * n, len & 3);
		h1 += key->a[n + 2] * w;
		h2 += key->b[n + 2] * w;
	}
	return (h1 & 0xffffffff00000000ull) | (h2 >> 32);
}
