/* decode-ip.c: IPv4 (RFC 791) and IPv6 (RFC 8200) with fragments and extension headers,
 * the transport headers that key flows (TCP, UDP, ICMP, ICMPv6), and the IP-carried
 * tunnels: IP-in-IP and 6in4 (RFC 2003, 4213), GRE (RFC 2784/2890, PPTP RFC 2637) with
 * ERSPAN, VXLAN (RFC 7348), Geneve (RFC 8926), Teredo (RFC 4380), GTP-U (TS 29.281). */
#include <string.h>

#include "decode.h"

#define IPPROTO_HOPOPTS_ 0
#define IPPROTO_ICMP_ 1
#define IPPROTO_IPIP_ 4
#define IPPROTO_TCP_ 6
#define IPPROTO_UDP_ 17
#define IPPROTO_IPV6_ 41
#define IPPROTO_ROUTING_ 43
#define IPPROTO_FRAGMENT_ 44
#define IPPROTO_GRE_ 47
#define IPPROTO_ESP_ 50
#define IPPROTO_AH_ 51
#define IPPROTO_ICMPV6_ 58
#define IPPROTO_NONE_ 59
#define IPPROTO_DSTOPTS_ 60
#define IPPROTO_MH_ 135

#define PORT_VXLAN 4789
#define PORT_GENEVE 6081
#define PORT_TEREDO 3544
#define PORT_GTPU 2152

static struct pkt_layer *push_layer(struct decoder *d, struct pkt *pkt,
				    const struct pkt_layer *l)
{
	if (pkt->nlayers >= PKT_MAX_LAYERS) {
		anomaly_count(d->anom, ANOM_LAYERS_TOO_MANY);
		return NULL;
	}
	struct pkt_layer *dst = &pkt->layer[pkt->nlayers++];
	*dst = *l;
	/* the outermost VLAN tag seen so far: a tunnel's outer flow keeps its own */
	dst->vlan = d->vlan_set ? d->vlan : 0;
	return dst;
}

/* ERSPAN type II (8-byte header) and type III (12 bytes, +8 with the O flag), each
 * followed by the mirrored Ethernet frame. */
static void decode_erspan(struct decoder *d, struct cur *c, uint32_t wire_left, int depth,
			  struct pkt *pkt, int type)
{
	size_t start = c->off;
	if (type == 2) {
		cur_skip(c, 8);
	} else {
		const uint8_t *h = cur_bytes(c, 12);
		if (h && (h[11] & 0x01))
			cur_skip(c, 8);
	}
	if (!cur_ok(c)) {
		anomaly_count(d->anom, ANOM_ERSPAN_TRUNCATED);
		return;
	}
	decode_ether(d, c, decode_wire_after(wire_left, c->off - start), depth + 1, pkt);
}

static void decode_gre(struct decoder *d, struct cur *c, uint32_t wire_left, int depth,
		       struct pkt *pkt)
{
	size_t start = c->off;
	uint16_t fv = cur_be16(c);
	uint16_t proto = cur_be16(c);
	int ver = fv & 7;

	if (ver > 1 || (fv & 0x4000)) { /* RFC 1701 routing, unknown versions */
		anomaly_count(d->anom, ANOM_GRE_UNSUPPORTED);
		return;
	}
	if (fv & 0x8000)
		cur_skip(c, 4); /* checksum + reserved */
	if (fv & 0x2000)
		cur_skip(c, 4); /* key (PPTP: payload length + call id) */
	if (fv & 0x1000)
		cur_skip(c, 4); /* sequence number */
	if (ver == 1 && (fv & 0x0080))
		cur_skip(c, 4); /* PPTP acknowledgment number */
	if (!cur_ok(c)) {
		anomaly_count(d->anom, ANOM_GRE_TRUNCATED);
		return;
	}
	uint32_t left = decode_wire_after(wire_left, c->off - start);
	if (ver == 1) {
		if (proto != 0x880b) {
			anomaly_count(d->anom, ANOM_GRE_UNSUPPORTED);
			return;
		}
		if (cur_left(c) == 0) {
			pkt->non_ip = true; /* PPTP acknowledgment only: no payload */
			return;
		}
		decode_ppp(d, c, left, depth, pkt);
		return;
	}
	switch (proto) {
	case 0x88be: /* ERSPAN type II, or type I when no sequence number is present */
		if (fv & 0x1000)
			decode_erspan(d, c, left, depth, pkt, 2);
		else
			decode_ether(d, c, left, depth + 1, pkt);
		return;
	case 0x22eb:
		decode_erspan(d, c, left, depth, pkt, 3);
		return;
	case 0x0800:
	case 0x86dd:
	case 0x6558:
	case 0x8847:
	case 0x8848:
	case 0x8100:
	case 0x88a8:
		decode_ethertype(d, proto, c, left, depth + 1, pkt);
		return;
	default:
		anomaly_count(d->anom, ANOM_GRE_UNSUPPORTED);
	}
}

/* Teredo: optional authentication (type 1) and origin indication (type 0) headers,
 * then an IPv6 packet. Anything else on port 3544 is plain UDP. */
static void decode_teredo(struct decoder *d, struct cur *c, uint32_t wire_left, int depth,
			  struct pkt *pkt)
{
	size_t start = c->off;
	for (int i = 0; i < 2 && cur_left(c) >= 2; i++) {
		uint8_t a = cur_peek_u8(c, 0), b = cur_peek_u8(c, 1);
		if (a == 0 && b == 1) {
			cur_skip(c, 2);
			uint8_t idlen = cur_u8(c);
			uint8_t aulen = cur_u8(c);
			cur_skip(c, (size_t)idlen + aulen + 8 + 1);
		} else if (a == 0 && b == 0) {
			cur_skip(c, 8);
		} else {
			break;
		}
	}
	if (!cur_ok(c) || cur_left(c) < 40 || (cur_peek_u8(c, 0) >> 4) != 6)
		return; /* not Teredo-encapsulated IPv6 (bubbles carry no payload) */
	decode_ip(d, c, decode_wire_after(wire_left, c->off - start), depth + 1, pkt);
}

/* GTP-U G-PDU: 8-byte header, 4 optional bytes, extension header chain, inner IP. */
static void decode_gtpu(struct decoder *d, struct cur *c, uint32_t wire_left, int depth,
			struct pkt *pkt)
{
	size_t start = c->off;
	uint8_t flags = cur_u8(c);
	uint8_t type = cur_u8(c);
	cur_skip(c, 6);
	if (!cur_ok(c)) {
		anomaly_count(d->anom, ANOM_GTP_TRUNCATED);
		return;
	}
	if ((flags >> 5) != 1 || !(flags & 0x10) || type != 0xff)
		return; /* not a version-1 G-PDU: signalling, echo ... */
	if (flags & 0x07) {
		cur_skip(c, 3);
		uint8_t next = cur_u8(c);
		for (int i = 0; next != 0; i++) {
			if (i == DECODE_MAX_GTP_EXT) {
				anomaly_count(d->anom, ANOM_TUNNEL_TOO_DEEP);
				return;
			}
			uint8_t len = cur_u8(c);
			if (len == 0 || !cur_ok(c)) {
				anomaly_count(d->anom, ANOM_GTP_TRUNCATED);
				return;
			}
			cur_skip(c, (size_t)len * 4 - 2);
			next = cur_u8(c);
		}
	}
	if (!cur_ok(c)) {
		anomaly_count(d->anom, ANOM_GTP_TRUNCATED);
		return;
	}
	uint8_t v = cur_left(c) ? (uint8_t)(cur_peek_u8(c, 0) >> 4) : 0;
	if (v == 4 || v == 6)
		decode_ip(d, c, decode_wire_after(wire_left, c->off - start), depth + 1, pkt);
}

static void decode_udp_tunnel(struct decoder *d, const struct pkt_layer *l, struct cur *c,
			      uint32_t wire_left, int depth, struct pkt *pkt)
{
	if (l->dport == PORT_VXLAN) {
		uint8_t flags = cur_u8(c);
		cur_skip(c, 7);
		if (!cur_ok(c)) {
			anomaly_count(d->anom, ANOM_VXLAN_TRUNCATED);
			return;
		}
		if (flags & 0x08)
			decode_ether(d, c, decode_wire_after(wire_left, 8), depth + 1, pkt);
	} else if (l->dport == PORT_GENEVE) {
		uint8_t vo = cur_u8(c);
		cur_skip(c, 1);
		uint16_t proto = cur_be16(c);
		cur_skip(c, 4 + (size_t)(vo & 0x3f) * 4);
		if (!cur_ok(c)) {
			anomaly_count(d->anom, ANOM_GENEVE_TRUNCATED);
			return;
		}
		if ((vo >> 6) == 0)
			decode_ethertype(d, proto, c,
					 decode_wire_after(wire_left, 8 + (size_t)(vo & 0x3f) * 4),
					 depth + 1, pkt);
	} else if (l->dport == PORT_GTPU || l->sport == PORT_GTPU) {
		decode_gtpu(d, c, wire_left, depth, pkt);
	} else if (l->dport == PORT_TEREDO || l->sport == PORT_TEREDO) {
		decode_teredo(d, c, wire_left, depth, pkt);
	}
}

static bool is_udp_tunnel(const struct pkt_layer *l)
{
	return l->dport == PORT_VXLAN || l->dport == PORT_GENEVE || l->dport == PORT_GTPU ||
	       l->sport == PORT_GTPU || l->dport == PORT_TEREDO || l->sport == PORT_TEREDO;
}

/* Transport header of an unfragmented packet or first fragment. c covers the captured
 * transport bytes; tlen is the transport length on the wire (from the IP header). */
static void decode_transport(struct decoder *d, struct pkt_layer *l, struct cur *c,
			     uint32_t tlen, int depth, struct pkt *pkt)
{
	size_t hl;

	switch (l->proto) {
	case IPPROTO_TCP_: {
		l->sport = cur_be16(c);
		l->dport = cur_be16(c);
		l->tcp_seq = cur_be32(c);
		cur_skip(c, 4);
		uint8_t off = cur_u8(c);
		l->tcp_flags = cur_u8(c);
		cur_skip(c, 6);
		if (!cur_ok(c) && l->frag == PKT_FRAG_FIRST && tlen < 20 && c->len >= tlen) {
			/* a first fragment that ends inside the TCP header (RFC 1858 tiny
			 * fragment): the ports are enough to tie the fragments to a flow */
			if (tlen < 4) {
				anomaly_count(d->anom, ANOM_TCP_NO_PORTS_FRAG);
				return;
			}
			l->tcp_flags = 0;
			l->tcp_seq = 0;
			l->payload_bytes = 0;
			l->payload = NULL;
			l->payload_cap = 0;
			push_layer(d, pkt, l);
			return;
		}
		if (!cur_ok(c)) {
			anomaly_count(d->anom, ANOM_TCP_TRUNCATED);
			return;
		}
		hl = (size_t)(off >> 4) * 4;
		if (hl < 20 || hl > tlen) {
			anomaly_count(d->anom, ANOM_TCP_BAD_OFFSET);
			return;
		}
		l->payload_bytes = tlen - (uint32_t)hl;
		break;
	}
	case IPPROTO_UDP_: {
		l->sport = cur_be16(c);
		l->dport = cur_be16(c);
		uint16_t ulen = cur_be16(c);
		cur_skip(c, 2);
		if (!cur_ok(c)) {
			anomaly_count(d->anom, ANOM_UDP_TRUNCATED);
			return;
		}
		hl = 8;
		if (ulen < 8 || (l->frag == PKT_FRAG_NONE && ulen > tlen)) {
			anomaly_count(d->anom, ANOM_UDP_BAD_LENGTH);
			return;
		}
		l->payload_bytes = ulen - 8u;
		break;
	}
	case IPPROTO_ICMP_:
	case IPPROTO_ICMPV6_:
		l->sport = cur_u8(c);
		l->dport = cur_u8(c);
		cur_skip(c, 2);
		if (!cur_ok(c)) {
			anomaly_count(d->anom, l->proto == IPPROTO_ICMP_ ? ANOM_ICMP_TRUNCATED :
									  ANOM_ICMPV6_TRUNCATED);
			return;
		}
		/* the ICMP header is 8 bytes for every type egressd keys on */
		hl = tlen < 8 ? tlen : 8;
		l->payload_bytes = tlen - (uint32_t)hl;
		break;
	default:
		hl = 0;
		l->payload_bytes = tlen;
	}
	/* payload view: what was captured after the transport header (c->off covers the
	 * fixed part; TCP options may run past the capture) */
	size_t have = c->len;
	size_t pstart = hl;
	if (pstart > have)
		pstart = have;
	size_t pend = (size_t)tlen < have ? tlen : have;
	if (l->proto == IPPROTO_UDP_ && l->frag == PKT_FRAG_NONE && (size_t)l->payload_bytes + 8 < pend)
		pend = (size_t)l->payload_bytes + 8;
	l->payload = c->p + pstart;
	l->payload_cap = (uint32_t)(pend > pstart ? pend - pstart : 0);

	struct pkt_layer *pushed = push_layer(d, pkt, l);
	if (!pushed || l->proto != IPPROTO_UDP_ || !is_udp_tunnel(l))
		return;
	/* a first fragment carries the inner headers; lengths are checked against the
	 * whole datagram (UDP length), the captured view stays what this fragment holds */
	struct cur inner = cur_make(l->payload, l->payload_cap);
	decode_udp_tunnel(d, l, &inner, l->payload_bytes, depth, pkt);
}

/* After the IP header: tunnels, fragments or a transport header. */
static void decode_ip_payload(struct decoder *d, struct pkt_layer *l, struct cur *c,
			      uint32_t tlen, int depth, struct pkt *pkt)
{
	if (l->frag == PKT_FRAG_LATER) {
		l->payload_bytes = l->proto == IPPROTO_UDP_ ? 0 : tlen;
		push_layer(d, pkt, l);
		return;
	}
	if (l->frag == PKT_FRAG_NONE) {
		switch (l->proto) {
		case IPPROTO_IPIP_:
			decode_ip_as(d, 4, c, tlen, depth + 1, pkt);
			return;
		case IPPROTO_IPV6_:
			decode_ip_as(d, 6, c, tlen, depth + 1, pkt);
			return;
		case IPPROTO_GRE_:
			decode_gre(d, c, tlen, depth + 1, pkt);
			return;
		default:
			break;
		}
	}
	decode_transport(d, l, c, tlen, depth, pkt);
}

static void decode_ipv4(struct decoder *d, struct cur *c, uint32_t wire_left, int depth,
			struct pkt *pkt)
{
	struct pkt_layer l;
	size_t start = c->off;

	memset(&l, 0, sizeof(l));
	uint8_t vhl = cur_u8(c);
	cur_skip(c, 1);
	uint16_t totlen = cur_be16(c);
	uint16_t id = cur_be16(c);
	uint16_t fo = cur_be16(c);
	cur_skip(c, 1);
	l.proto = cur_u8(c);
	cur_skip(c, 2);
	const uint8_t *src = cur_bytes(c, 4);
	const uint8_t *dst = cur_bytes(c, 4);
	if (!cur_ok(c)) {
		anomaly_count(d->anom, ANOM_IPV4_TRUNCATED);
		return;
	}
	size_t hlen = (size_t)(vhl & 0x0f) * 4;
	if (hlen < 20) {
		anomaly_count(d->anom, ANOM_IPV4_BAD_HLEN);
		return;
	}
	if (totlen < hlen) {
		anomaly_count(d->anom, ANOM_IPV4_BAD_TOTLEN);
		return;
	}
	if (totlen > wire_left) {
		anomaly_count(d->anom, ANOM_IPV4_LEN_EXCEEDS_FRAME);
		return;
	}
	cur_seek(c, start);
	/* the datagram: what was captured of its total length (drops Ethernet padding) */
	size_t cap = cur_left(c) < totlen ? cur_left(c) : totlen;
	struct cur ip = cur_sub(c, cap);
	cur_skip(&ip, hlen); /* options are not needed for accounting */
	if (!cur_ok(&ip)) {
		anomaly_count(d->anom, ANOM_IPV4_TRUNCATED);
		return;
	}
	l.family = 4;
	memcpy(l.src, src, 4);
	memcpy(l.dst, dst, 4);
	l.ip_bytes = totlen;
	l.frag_id = id;
	if (fo & 0x1fff)
		l.frag = PKT_FRAG_LATER;
	else if (fo & 0x2000)
		l.frag = PKT_FRAG_FIRST;
	struct cur t = cur_make(cur_ptr(&ip), cur_left(&ip));
	decode_ip_payload(d, &l, &t, (uint32_t)(totlen - hlen), depth, pkt);
}

static bool ipv6_is_ext(uint8_t nh)
{
	return nh == IPPROTO_HOPOPTS_ || nh == IPPROTO_ROUTING_ || nh == IPPROTO_FRAGMENT_ ||
	       nh == IPPROTO_DSTOPTS_ || nh == IPPROTO_AH_ || nh == IPPROTO_MH_;
}

static void decode_ipv6(struct decoder *d, struct cur *c, uint32_t wire_left, int depth,
			struct pkt *pkt)
{
	struct pkt_layer l;

	memset(&l, 0, sizeof(l));
	cur_skip(c, 4);
	uint16_t plen = cur_be16(c);
	uint8_t nh = cur_u8(c);
	cur_skip(c, 1);
	const uint8_t *src = cur_bytes(c, 16);
	const uint8_t *dst = cur_bytes(c, 16);
	if (!cur_ok(c)) {
		anomaly_count(d->anom, ANOM_IPV6_TRUNCATED);
		return;
	}
	if (plen == 0 && nh == IPPROTO_HOPOPTS_) {
		anomaly_count(d->anom, ANOM_IPV6_JUMBOGRAM);
		return;
	}
	if ((uint32_t)plen + 40 > wire_left) {
		anomaly_count(d->anom, ANOM_IPV6_LEN_EXCEEDS_FRAME);
		return;
	}
	size_t cap = cur_left(c) < plen ? cur_left(c) : plen;
	struct cur p = cur_sub(c, cap);
	uint32_t tlen = plen;

	l.family = 6;
	memcpy(l.src, src, 16);
	memcpy(l.dst, dst, 16);
	l.ip_bytes = (uint32_t)plen + 40;

	/* RFC 8200 4: walk the extension headers, at most DECODE_MAX_IPV6_EXT of them */
	int n;
	for (n = 0; ipv6_is_ext(nh) && n < DECODE_MAX_IPV6_EXT; n++) {
		size_t hstart = p.off;
		uint8_t next = cur_u8(&p);
		uint8_t hl = cur_u8(&p);
		size_t len;
		if (nh == IPPROTO_FRAGMENT_) {
			uint16_t fo = cur_be16(&p);
			uint32_t fid = cur_be32(&p);
			len = 8;
			if (cur_ok(&p)) {
				l.frag_id = fid;
				if (fo & 0xfff8)
					l.frag = PKT_FRAG_LATER;
				else if (fo & 1)
					l.frag = PKT_FRAG_FIRST;
			}
		} else if (nh == IPPROTO_AH_) {
			len = ((size_t)hl + 2) * 4;
		} else {
			len = ((size_t)hl + 1) * 8;
		}
		cur_seek(&p, hstart + len);
		if (!cur_ok(&p) || len > tlen) {
			anomaly_count(d->anom, ANOM_IPV6_EXT_TRUNCATED);
			return;
		}
		tlen -= (uint32_t)len;
		nh = next;
		if (l.frag == PKT_FRAG_LATER)
			break;
	}
	if (n == DECODE_MAX_IPV6_EXT && ipv6_is_ext(nh)) {
		anomaly_count(d->anom, ANOM_IPV6_EXT_TOO_MANY);
		return;
	}
	l.proto = nh;
	struct cur t = cur_make(cur_ptr(&p), cur_left(&p));
	decode_ip_payload(d, &l, &t, tlen, depth, pkt);
}

void decode_ip_as(struct decoder *d, int family, struct cur *c, uint32_t wire_left, int depth,
		  struct pkt *pkt)
{
	if (depth > DECODE_MAX_DEPTH) {
		anomaly_count(d->anom, ANOM_TUNNEL_TOO_DEEP);
		return;
	}
	uint8_t v = cur_peek_u8(c, 0);
	if (!cur_ok(c)) {
		anomaly_count(d->anom, family == 6 ? ANOM_IPV6_TRUNCATED : ANOM_IPV4_TRUNCATED);
		return;
	}
	if ((v >> 4) == 4 && family != 6)
		decode_ipv4(d, c, wire_left, depth, pkt);
	else if ((v >> 4) == 6 && family != 4)
		decode_ipv6(d, c, wire_left, depth, pkt);
	else
		anomaly_count(d->anom, family == 6 ? ANOM_IPV6_BAD_VERSION : ANOM_IPV4_BAD_VERSION);
}

void decode_ip(struct decoder *d, struct cur *c, uint32_t wire_left, int depth,
	       struct pkt *pkt)
{
	decode_ip_as(d, 0, c, wire_left, depth, pkt);
}

/* ---- The short path (see decode_packet() in decode.h) ----
 *
 * Most frames are Ethernet, perhaps with one VLAN tag, over IPv4 without options or IPv6
 * without extension headers, carrying TCP or UDP. They are decoded here in one pass,
 * each header's length checked once instead of field by field. Every check the general
 * path makes on these headers is made here too; a frame that would fail one, or that
 * needs anything more (options, extension headers, fragments, tunnels, other
 * transports, a VLAN stack), is left to the general path, which decodes it from the
 * start and counts what is wrong with it. Nothing here counts an anomaly.
 * It lives here, with the link stage too, so that it compiles into one function. */

#define ETH_IPV4 0x0800
#define ETH_IPV6 0x86dd
#define ETH_VLAN 0x8100
#define ETH_QINQ 0x88a8
#define ETH_QINQ_OLD 0x9100

/* Big-endian loads from headers whose length was checked. */
static inline uint16_t be16(const uint8_t *p)
{
	return (uint16_t)((uint16_t)p[0] << 8 | p[1]);
}

static inline uint32_t be32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

/* The IP stage: ip points at the IP header, cap captured and wire_left wire bytes
 * (>= cap) from there; family 4 or 6 (what the link layer said) or 0 (either). Fills
 * pkt->layer[0] (which the general path rewrites if this returns false). */
static inline bool decode_ip_fast(int family, const uint8_t *ip, size_t cap, uint32_t wire_left,
		    uint16_t vlan, struct pkt *pkt)
{
	struct pkt_layer *l = &pkt->layer[0];
	const uint8_t *t;
	uint32_t tlen;
	size_t have; /* captured transport bytes (never more than tlen) */

	if (cap < 20)
		return false;
	if (ip[0] == 0x45 && family != 6) {
		uint16_t totlen = be16(ip + 2);

		/* the fragment offset and MF; DF does not matter */
		if (totlen < 20 || totlen > wire_left || (be16(ip + 6) & 0x3fff))
			return false;
		l->family = 4;
		l->proto = ip[9];
		l->frag_id = be16(ip + 4);
		l->ip_bytes = totlen;
		memcpy(l->src, ip + 12, 4);
		memset(l->src + 4, 0, 12);
		memcpy(l->dst, ip + 16, 4);
		memset(l->dst + 4, 0, 12);
		tlen = totlen - 20u;
		have = (cap < totlen ? cap : totlen) - 20;
		t = ip + 20;
	} else if ((ip[0] >> 4) == 6 && family != 4) {
		uint16_t plen;

		if (cap < 40)
			return false;
		plen = be16(ip + 4);
		if ((uint32_t)plen + 40 > wire_left)
			return false;
		l->family = 6;
		l->proto = ip[6];
		l->frag_id = 0;
		l->ip_bytes = (uint32_t)plen + 40;
		memcpy(l->src, ip + 8, 16);
		memcpy(l->dst, ip + 24, 16);
		tlen = plen;
		have = cap - 40 < plen ? cap - 40 : plen;
		t = ip + 40;
	} else {
		return false;
	}

	size_t pstart, pend = have;
	if (l->proto == IPPROTO_TCP_) {
		if (have < 20)
			return false;
		size_t hl = (size_t)(t[12] >> 4) * 4;
		if (hl < 20 || hl > tlen)
			return false;
		l->tcp_seq = be32(t + 4);
		l->tcp_flags = t[13];
		l->payload_bytes = tlen - (uint32_t)hl;
		pstart = hl < have ? hl : have; /* options may run past the capture */
	} else if (l->proto == IPPROTO_UDP_) {
		if (have < 8)
			return false;
		uint16_t ulen = be16(t + 4);
		if (ulen < 8 || ulen > tlen)
			return false;
		l->tcp_seq = 0;
		l->tcp_flags = 0;
		l->payload_bytes = ulen - 8u;
		pstart = 8;
		if (ulen < pend)
			pend = ulen; /* bytes after the UDP length are not payload */
	} else {
		return false;
	}
	l->sport = be16(t);
	l->dport = be16(t + 2);
	if (l->proto == IPPROTO_UDP_ && is_udp_tunnel(l))
		return false;
	l->frag = PKT_FRAG_NONE;
	l->vlan = vlan;
	l->payload = t + pstart;
	l->payload_cap = (uint32_t)(pend - pstart);
	return true;
}

/* The link stage: the offset of the IP header, the family the link layer announces (0:
 * either) and the VLAN ID, for Ethernet II with at most one 802.1Q/802.1ad tag and for
 * raw IP. False for anything else. */
static inline bool decode_link_fast(int linktype, const uint8_t *data, uint32_t caplen,
				    size_t *off, int *family, uint16_t *vlan)
{
	uint16_t type;

	switch (linktype) {
	case DECODE_LINK_ETHERNET:
		break;
	case DECODE_LINK_RAW:
	case DECODE_LINK_RAW_OPENBSD:
	case DECODE_LINK_RAW_LINKTYPE:
	case DECODE_LINK_IPV4:
	case DECODE_LINK_IPV6:
		*off = 0;
		*family = 0;
		*vlan = 0;
		return true;
	default:
		return false;
	}
	if (caplen < 14 + 20)
		return false;
	*off = 14;
	*vlan = 0;
	type = be16(data + 12);
	if (type == ETH_VLAN || type == ETH_QINQ || type == ETH_QINQ_OLD) {
		*vlan = be16(data + 14) & 0x0fff;
		type = be16(data + 16);
		*off = 18;
	}
	if (type == ETH_IPV4)
		*family = 4;
	else if (type == ETH_IPV6)
		*family = 6;
	else
		return false;
	return true;
}

int decode_packet(struct decoder *d, int linktype, const uint8_t *data, uint32_t caplen,
		  uint32_t wirelen, struct pkt *pkt)
{
	size_t off;
	int family;
	uint16_t vlan;

	/* a frame longer than its wire length is counted by the general path */
	if (data && wirelen >= caplen &&
	    decode_link_fast(linktype, data, caplen, &off, &family, &vlan) &&
	    decode_ip_fast(family, data + off, caplen - off, wirelen - (uint32_t)off, vlan, pkt)) {
		pkt->nlayers = 1;
		pkt->non_ip = false;
		pkt->wire_len = wirelen;
		pkt->cap_len = caplen;
		return 1;
	}
	return decode_packet_general(d, linktype, data, caplen, wirelen, pkt);
}
