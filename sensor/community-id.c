/* community-id.c: Community ID v1 flow hashes; the rules are in include/community-id.h.
 *
 * Every flow record carries one, so the hash is done here rather than through
 * libcrypto's EVP interface, whose per-call setup (fetching the digest, a
 * context to allocate and free) cost four times the hash of the one 64-byte
 * block a flow tuple fills. tests/unit/test_community_id.c checks this SHA-1
 * against libcrypto's.
 */
#include "community-id.h"

#include <stdbool.h>
#include <stddef.h>
#include <string.h>

#define CID_PROTO_ICMP 1
#define CID_PROTO_TCP 6
#define CID_PROTO_UDP 17
#define CID_PROTO_ICMP6 58
#define CID_PROTO_SCTP 132

#define CID_SHA1_LEN 20

/* The counterpart of a two-way ICMP type, or -1 for a one-way type. */
static int cid_icmp4_counterpart(uint16_t type)
{
	switch (type) {
	case 8: return 0;	/* echo request / reply */
	case 0: return 8;
	case 13: return 14;	/* timestamp */
	case 14: return 13;
	case 15: return 16;	/* information */
	case 16: return 15;
	case 10: return 9;	/* router solicitation / advertisement */
	case 9: return 10;
	case 17: return 18;	/* address mask */
	case 18: return 17;
	default: return -1;
	}
}

static int cid_icmp6_counterpart(uint16_t type)
{
	switch (type) {
	case 128: return 129;	/* echo request / reply */
	case 129: return 128;
	case 130: return 131;	/* MLD listener query / report */
	case 131: return 130;
	case 133: return 134;	/* router solicitation / advertisement */
	case 134: return 133;
	case 135: return 136;	/* neighbor solicitation / advertisement */
	case 136: return 135;
	case 139: return 140;	/* who-are-you (node information) request / reply */
	case 140: return 139;
	case 144: return 145;	/* home agent address discovery request / reply */
	case 145: return 144;
	default: return -1;
	}
}

static size_t cid_put_be16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
	return 2;
}

#define CID_ROL(x, k) ((uint32_t)((x) << (k) | (x) >> (32 - (k))))

/* SHA-1 rounds (FIPS 180-4 6.1.2). Five at a time with the working variables
 * passed round in turn, so that none is copied: after five rounds they are
 * back in place. */
#define CID_ROUND(a, b, c, d, e, f, k, w) do {				\
		(e) += CID_ROL(a, 5) + (f) + (k) + (w);			\
		(b) = CID_ROL(b, 30);					\
	} while (0)
#define CID_ROUNDS5(F, k, w, i) do {					\
		CID_ROUND(a, b, c, d, e, F(b, c, d), k, w[i]);		\
		CID_ROUND(e, a, b, c, d, F(a, b, c), k, w[i + 1]);	\
		CID_ROUND(d, e, a, b, c, F(e, a, b), k, w[i + 2]);	\
		CID_ROUND(c, d, e, a, b, F(d, e, a), k, w[i + 3]);	\
		CID_ROUND(b, c, d, e, a, F(c, d, e), k, w[i + 4]);	\
	} while (0)
#define CID_CH(x, y, z) ((z) ^ ((x) & ((y) ^ (z))))
#define CID_PARITY(x, y, z) ((x) ^ (y) ^ (z))
#define CID_MAJ(x, y, z) (((x) & (y)) | ((z) & ((x) | (y))))

static void cid_sha1_block(uint32_t h[5], const uint8_t *p)
{
	uint32_t w[80], a, b, c, d, e;
	int i;

	for (i = 0; i < 16; i++)
		w[i] = (uint32_t)p[4 * i] << 24 | (uint32_t)p[4 * i + 1] << 16 |
		       (uint32_t)p[4 * i + 2] << 8 | p[4 * i + 3];
	for (; i < 32; i++)
		w[i] = CID_ROL(w[i - 3] ^ w[i - 8] ^ w[i - 14] ^ w[i - 16], 1);
	/* The same recurrence unrolled once (Locktyukhin's form): no term is
	 * closer than six words back, so the compiler can do four at a time. */
	for (; i < 80; i++)
		w[i] = CID_ROL(w[i - 6] ^ w[i - 16] ^ w[i - 28] ^ w[i - 32], 2);
	a = h[0];
	b = h[1];
	c = h[2];
	d = h[3];
	e = h[4];
	for (i = 0; i < 20; i += 5)
		CID_ROUNDS5(CID_CH, 0x5a827999u, w, i);
	for (; i < 40; i += 5)
		CID_ROUNDS5(CID_PARITY, 0x6ed9eba1u, w, i);
	for (; i < 60; i += 5)
		CID_ROUNDS5(CID_MAJ, 0x8f1bbcdcu, w, i);
	for (; i < 80; i += 5)
		CID_ROUNDS5(CID_PARITY, 0xca62c1d6u, w, i);
	h[0] += a;
	h[1] += b;
	h[2] += c;
	h[3] += d;
	h[4] += e;
}

void community_id_sha1(const void *in, size_t n, uint8_t out[20])
{
	uint32_t h[5] = { 0x67452301u, 0xefcdab89u, 0x98badcfeu, 0x10325476u, 0xc3d2e1f0u };
	const uint8_t *p = in;
	uint8_t last[128];
	size_t rest, tail, i;
	uint64_t bits = (uint64_t)n * 8;

	for (; n >= 64; n -= 64, p += 64)
		cid_sha1_block(h, p);
	/* The rest, 0x80, zeros and the length in bits: one block or two. */
	rest = n;
	tail = rest < 56 ? 64 : 128;
	memcpy(last, p, rest);
	last[rest] = 0x80;
	memset(last + rest + 1, 0, tail - rest - 9);
	for (i = 0; i < 8; i++)
		last[tail - 1 - i] = (uint8_t)(bits >> (8 * i));
	cid_sha1_block(h, last);
	if (tail == 128)
		cid_sha1_block(h, last + 64);
	for (i = 0; i < 5; i++) {
		out[4 * i] = (uint8_t)(h[i] >> 24);
		out[4 * i + 1] = (uint8_t)(h[i] >> 16);
		out[4 * i + 2] = (uint8_t)(h[i] >> 8);
		out[4 * i + 3] = (uint8_t)h[i];
	}
}

/* Standard base64 (RFC 4648 4) with padding of the 20-byte digest: 28 characters
 * and a NUL. */
static void cid_base64(const uint8_t md[CID_SHA1_LEN], char *out)
{
	static const char b64[] =
		"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	size_t i;

	for (i = 0; i + 3 <= CID_SHA1_LEN; i += 3) {
		uint32_t v = (uint32_t)md[i] << 16 | (uint32_t)md[i + 1] << 8 | md[i + 2];

		*out++ = b64[v >> 18];
		*out++ = b64[v >> 12 & 0x3f];
		*out++ = b64[v >> 6 & 0x3f];
		*out++ = b64[v & 0x3f];
	}
	/* 20 = 6 * 3 + 2: two bytes left, three characters and one '='. */
	uint32_t v = (uint32_t)md[18] << 16 | (uint32_t)md[19] << 8;

	*out++ = b64[v >> 18];
	*out++ = b64[v >> 12 & 0x3f];
	*out++ = b64[v >> 6 & 0x3f];
	*out++ = '=';
	*out = '\0';
}

/* SHA1 over the ordered tuple; 0 on success. */
static int cid_digest(uint16_t seed, int family, const uint8_t *saddr, const uint8_t *daddr,
		      uint8_t proto, uint16_t sport, uint16_t dport, unsigned char md[CID_SHA1_LEN])
{
	uint8_t in[2 + 16 + 16 + 2 + 4];
	size_t alen, n = 0;
	bool ports, one_way = false;

	if (family == 4)
		alen = 4;
	else if (family == 6)
		alen = 16;
	else
		return -1;

	switch (proto) {
	case CID_PROTO_TCP:
	case CID_PROTO_UDP:
	case CID_PROTO_SCTP:
		ports = true;
		break;
	case CID_PROTO_ICMP:
	case CID_PROTO_ICMP6: {
		int peer = proto == CID_PROTO_ICMP ? cid_icmp4_counterpart(sport)
						   : cid_icmp6_counterpart(sport);
		ports = true;
		if (peer < 0)
			one_way = true;		/* (type, code) as given */
		else
			dport = (uint16_t)peer;	/* (type, counter-type) */
		break;
	}
	default:
		ports = false;
		sport = 0;
		dport = 0;
		break;
	}

	int cmp = memcmp(saddr, daddr, alen);
	if (!one_way && !(cmp < 0 || (cmp == 0 && sport < dport))) {
		const uint8_t *ta = saddr;
		uint16_t tp = sport;

		saddr = daddr;
		daddr = ta;
		sport = dport;
		dport = tp;
	}

	n += cid_put_be16(in + n, seed);
	memcpy(in + n, saddr, alen);
	n += alen;
	memcpy(in + n, daddr, alen);
	n += alen;
	in[n++] = proto;
	in[n++] = 0;
	if (ports) {
		n += cid_put_be16(in + n, sport);
		n += cid_put_be16(in + n, dport);
	}

	community_id_sha1(in, n, md);
	return 0;
}

int community_id_v1(uint16_t seed, int family, const uint8_t saddr[16],
		    const uint8_t daddr[16], uint8_t proto, uint16_t sport, uint16_t dport,
		    char out[COMMUNITY_ID_STRLEN])
{
	unsigned char md[CID_SHA1_LEN];

	out[0] = '\0';
	if (cid_digest(seed, family, saddr, daddr, proto, sport, dport, md) != 0)
		return -1;
	out[0] = '1';
	out[1] = ':';
	/* 20 bytes -> 28 characters and a NUL: fits in COMMUNITY_ID_STRLEN - 2. */
	cid_base64(md, out + 2);
	return 0;
}

int community_id_v1_hex(uint16_t seed, int family, const uint8_t saddr[16],
			const uint8_t daddr[16], uint8_t proto, uint16_t sport,
			uint16_t dport, char out[COMMUNITY_ID_STRLEN])
{
	static const char hex[] = "0123456789abcdef";
	unsigned char md[CID_SHA1_LEN];
	size_t i;

	out[0] = '\0';
	if (cid_digest(seed, family, saddr, daddr, proto, sport, dport, md) != 0)
		return -1;
	out[0] = '1';
	out[1] = ':';
	for (i = 0; i < CID_SHA1_LEN; i++) {
		out[2 + 2 * i] = hex[md[i] >> 4];
		out[3 + 2 * i] = hex[md[i] & 0x0f];
	}
	out[2 + 2 * CID_SHA1_LEN] = '\0';
	return 0;
}
