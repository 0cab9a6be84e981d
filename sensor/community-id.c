/* community-id.c: Community ID v1 flow hashes; the rules are in include/community-id.h.
 * SHA-1 from libcrypto (through crypto.c); the base64 of the 20-byte digest is done
 * here, a few table lookups, where libcrypto's encoder would cost more than the hash.
 */
#include "community-id.h"
#include "crypto.h"

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

	return crypto_sha1(in, n, md);
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
