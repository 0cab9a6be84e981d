/* decode-link.c: link layers and layer-2 encapsulations (Ethernet, 802.1Q/QinQ, MPLS,
 * PPPoE, PPP, Linux SLL/SLL2, BSD loopback, raw IP, NFLOG) down to the IP header. */
#include <string.h>

#include "decode.h"

#define ETH_IPV4 0x0800
#define ETH_ARP 0x0806
#define ETH_IPV6 0x86dd
#define ETH_VLAN 0x8100
#define ETH_QINQ 0x88a8
#define ETH_QINQ_OLD 0x9100
#define ETH_MPLS_UC 0x8847
#define ETH_MPLS_MC 0x8848
#define ETH_PPPOE_SESS 0x8864
#define ETH_TEB 0x6558 /* transparent Ethernet bridging (GRE, Geneve) */

#define PPP_IPV4 0x0021
#define PPP_IPV6 0x0057

void decoder_init(struct decoder *d, struct anomaly_counts *anom)
{
	memset(d, 0, sizeof(*d));
	d->anom = anom;
}

bool decode_link_supported(int linktype)
{
	switch (linktype) {
	case DECODE_LINK_NULL:
	case DECODE_LINK_ETHERNET:
	case DECODE_LINK_PPP:
	case DECODE_LINK_RAW:
	case DECODE_LINK_RAW_OPENBSD:
	case DECODE_LINK_PPP_SERIAL:
	case DECODE_LINK_PPP_ETHER:
	case DECODE_LINK_RAW_LINKTYPE:
	case DECODE_LINK_LOOP:
	case DECODE_LINK_LINUX_SLL:
	case DECODE_LINK_IPV4:
	case DECODE_LINK_IPV6:
	case DECODE_LINK_NFLOG:
	case DECODE_LINK_LINUX_SLL2:
		return true;
	default:
		return false;
	}
}

static void note_vlan(struct decoder *d, uint16_t tci)
{
	if (!d->vlan_set) {
		d->vlan = tci & 0x0fff;
		d->vlan_set = true;
	}
}

/* MPLS label stack (RFC 3032 2.1), then the payload guessed from its first nibble:
 * 4/6 is IP; 0 is a pseudowire control word (RFC 4385) followed by Ethernet. */
static void decode_mpls(struct decoder *d, struct cur *c, uint32_t wire_left, int depth,
			struct pkt *pkt)
{
	size_t start = c->off;
	int n;

	for (n = 0; n < DECODE_MAX_MPLS; n++) {
		uint32_t e = cur_be32(c);
		if (!cur_ok(c)) {
			anomaly_count(d->anom, ANOM_LINK_TRUNCATED);
			return;
		}
		if (e & 0x100)
			break;
	}
	if (n == DECODE_MAX_MPLS) {
		anomaly_count(d->anom, ANOM_MPLS_TOO_MANY);
		return;
	}
	uint8_t first = cur_peek_u8(c, 0);
	if (!cur_ok(c)) {
		anomaly_count(d->anom, ANOM_LINK_TRUNCATED);
		return;
	}
	uint32_t left = decode_wire_after(wire_left, c->off - start);
	switch (first >> 4) {
	case 4:
	case 6:
		decode_ip(d, c, left, depth + 1, pkt);
		return;
	case 0:
		cur_skip(c, 4);
		decode_ether(d, c, decode_wire_after(left, 4), depth + 1, pkt);
		return;
	default:
		anomaly_count(d->anom, ANOM_MPLS_UNKNOWN_PAYLOAD);
	}
}

/* PPPoE session stage (RFC 2516 4): ver/type, code 0, session id, length, then PPP. */
static void decode_pppoe(struct decoder *d, struct cur *c, uint32_t wire_left, int depth,
			 struct pkt *pkt)
{
	uint8_t vt = cur_u8(c);
	uint8_t code = cur_u8(c);
	cur_skip(c, 2);
	uint16_t len = cur_be16(c);
	uint16_t proto = cur_be16(c);
	if (!cur_ok(c)) {
		anomaly_count(d->anom, ANOM_LINK_TRUNCATED);
		return;
	}
	if (vt != 0x11 || code != 0 || len < 2) {
		anomaly_count(d->anom, ANOM_PPPOE_INVALID);
		return;
	}
	decode_ppp_proto(d, proto, c, decode_wire_after(wire_left, 8), depth, pkt);
}

void decode_ppp_proto(struct decoder *d, uint16_t proto, struct cur *c, uint32_t wire_left,
		      int depth, struct pkt *pkt)
{
	if (proto == PPP_IPV4 || proto == PPP_IPV6)
		decode_ip_as(d, proto == PPP_IPV4 ? 4 : 6, c, wire_left, depth + 1, pkt);
	else
		pkt->non_ip = true; /* LCP, IPCP, CCP ...: control traffic, not a flow */
}

/* PPP in HDLC-like framing (RFC 1662 3.1): optional 0xff 0x03, then a protocol field of
 * one byte (odd, compressed, RFC 1661 6.5) or two. */
void decode_ppp(struct decoder *d, struct cur *c, uint32_t wire_left, int depth,
		struct pkt *pkt)
{
	size_t start = c->off;
	if (cur_peek_u8(c, 0) == 0xff && cur_peek_u8(c, 1) == 0x03)
		cur_skip(c, 2);
	uint16_t proto = cur_u8(c);
	if (!(proto & 1))
		proto = (uint16_t)(proto << 8 | cur_u8(c));
	if (!cur_ok(c)) {
		anomaly_count(d->anom, ANOM_LINK_TRUNCATED);
		return;
	}
	decode_ppp_proto(d, proto, c, decode_wire_after(wire_left, c->off - start), depth, pkt);
}

void decode_ethertype(struct decoder *d, uint16_t type, struct cur *c, uint32_t wire_left,
		      int depth, struct pkt *pkt)
{
	size_t start = c->off;
	int tags = 0;

	if (depth > DECODE_MAX_DEPTH) {
		anomaly_count(d->anom, ANOM_TUNNEL_TOO_DEEP);
		return;
	}
	while (type == ETH_VLAN || type == ETH_QINQ || type == ETH_QINQ_OLD) {
		if (++tags > DECODE_MAX_VLAN) {
			anomaly_count(d->anom, ANOM_VLAN_TOO_MANY);
			return;
		}
		uint16_t tci = cur_be16(c);
		type = cur_be16(c);
		if (!cur_ok(c)) {
			anomaly_count(d->anom, ANOM_LINK_TRUNCATED);
			return;
		}
		note_vlan(d, tci);
	}
	uint32_t left = decode_wire_after(wire_left, c->off - start);
	switch (type) {
	case ETH_IPV4:
		decode_ip_as(d, 4, c, left, depth + 1, pkt);
		break;
	case ETH_IPV6:
		decode_ip_as(d, 6, c, left, depth + 1, pkt);
		break;
	case ETH_MPLS_UC:
	case ETH_MPLS_MC:
		decode_mpls(d, c, left, depth + 1, pkt);
		break;
	case ETH_PPPOE_SESS:
		decode_pppoe(d, c, left, depth + 1, pkt);
		break;
	case ETH_TEB:
		decode_ether(d, c, left, depth + 1, pkt);
		break;
	default:
		pkt->non_ip = true; /* ARP, LLDP, PPPoE discovery, 802.3 length ... */
	}
}

/* Ethernet II (and 802.3 frames, which carry no IP here). */
void decode_ether(struct decoder *d, struct cur *c, uint32_t wire_left, int depth,
		  struct pkt *pkt)
{
	cur_skip(c, 12);
	uint16_t type = cur_be16(c);
	if (!cur_ok(c)) {
		anomaly_count(d->anom, ANOM_LINK_TRUNCATED);
		return;
	}
	decode_ethertype(d, type, c, decode_wire_after(wire_left, 14), depth + 1, pkt);
}

/* BSD loopback: a 4-byte address family, host order of the capturing machine (NULL) or
 * network order (LOOP). AF_INET is 2 everywhere; AF_INET6 is 10, 24, 28 or 30. */
static void decode_null(struct decoder *d, struct cur *c, uint32_t wire_left, bool net_order,
			struct pkt *pkt)
{
	uint32_t fam = net_order ? cur_be32(c) : cur_le32(c);
	if (!cur_ok(c)) {
		anomaly_count(d->anom, ANOM_LINK_TRUNCATED);
		return;
	}
	if (!net_order && (fam & 0xffff) == 0 && fam != 0)
		fam = __builtin_bswap32(fam); /* written by a big-endian host */
	switch (fam) {
	case 2:
	case 10:
	case 24:
	case 28:
	case 30:
		decode_ip(d, c, decode_wire_after(wire_left, 4), 1, pkt);
		break;
	default:
		anomaly_count(d->anom, ANOM_LINK_UNKNOWN_FAMILY);
	}
}

/* NFLOG (Linux netfilter log): 4-byte header, then TLVs with little-endian length and
 * type, each padded to 4 bytes; type 9 (NFULA_PAYLOAD) holds the IP packet. */
static void decode_nflog(struct decoder *d, struct cur *c, uint32_t wire_left, struct pkt *pkt)
{
	uint8_t fam = cur_u8(c);
	cur_skip(c, 3);
	if (!cur_ok(c)) {
		anomaly_count(d->anom, ANOM_LINK_TRUNCATED);
		return;
	}
	for (int i = 0; i < 64 && cur_left(c) >= 4; i++) {
		size_t tlv_start = c->off;
		uint16_t len = cur_le16(c);
		uint16_t type = cur_le16(c);
		if (len < 4) {
			anomaly_count(d->anom, ANOM_NFLOG_INVALID);
			return;
		}
		if ((type & 0x7fff) == 9) {
			size_t plen = len - 4u;
			size_t have = cur_left(c);
			struct cur ip = cur_make(cur_ptr(c), plen < have ? plen : have);
			(void)fam;
			decode_ip(d, &ip, (uint32_t)plen < decode_wire_after(wire_left, c->off) ?
					  (uint32_t)plen : decode_wire_after(wire_left, c->off), 1, pkt);
			return;
		}
		size_t padded = ((size_t)len + 3u) & ~(size_t)3u;
		cur_seek(c, tlv_start + padded);
		if (!cur_ok(c))
			break;
	}
	anomaly_count(d->anom, ANOM_NFLOG_INVALID);
}

int decode_packet_general(struct decoder *d, int linktype, const uint8_t *data,
			  uint32_t caplen, uint32_t wirelen, struct pkt *pkt)
{
	struct cur c = cur_make(data, caplen);

	pkt->nlayers = 0;
	pkt->non_ip = false;
	pkt->wire_len = wirelen;
	pkt->cap_len = caplen;
	d->vlan = 0;
	d->vlan_set = false;
	if (wirelen < caplen) {
		anomaly_count(d->anom, ANOM_CAPLEN_EXCEEDS_LEN);
		wirelen = caplen;
	}

	switch (linktype) {
	case DECODE_LINK_ETHERNET:
		decode_ether(d, &c, wirelen, 0, pkt);
		break;
	case DECODE_LINK_RAW:
	case DECODE_LINK_RAW_OPENBSD:
	case DECODE_LINK_RAW_LINKTYPE:
	case DECODE_LINK_IPV4:
	case DECODE_LINK_IPV6:
		decode_ip(d, &c, wirelen, 0, pkt);
		break;
	case DECODE_LINK_NULL:
		decode_null(d, &c, wirelen, false, pkt);
		break;
	case DECODE_LINK_LOOP:
		decode_null(d, &c, wirelen, true, pkt);
		break;
	case DECODE_LINK_PPP:
	case DECODE_LINK_PPP_SERIAL:
		decode_ppp(d, &c, wirelen, 0, pkt);
		break;
	case DECODE_LINK_PPP_ETHER:
		decode_pppoe(d, &c, wirelen, 0, pkt);
		break;
	case DECODE_LINK_LINUX_SLL: {
		/* packet type, ARPHRD, addr len, 8-byte addr, protocol (network order) */
		cur_skip(&c, 14);
		uint16_t proto = cur_be16(&c);
		if (!cur_ok(&c)) {
			anomaly_count(d->anom, ANOM_LINK_TRUNCATED);
			break;
		}
		decode_ethertype(d, proto, &c, decode_wire_after(wirelen, 16), 0, pkt);
		break;
	}
	case DECODE_LINK_LINUX_SLL2: {
		/* protocol, reserved, ifindex, ARPHRD, packet type, addr len, 8-byte addr */
		uint16_t proto = cur_be16(&c);
		cur_skip(&c, 18);
		if (!cur_ok(&c)) {
			anomaly_count(d->anom, ANOM_LINK_TRUNCATED);
			break;
		}
		decode_ethertype(d, proto, &c, decode_wire_after(wirelen, 20), 0, pkt);
		break;
	}
	case DECODE_LINK_NFLOG:
		decode_nflog(d, &c, wirelen, pkt);
		break;
	default:
		anomaly_count(d->anom, ANOM_LINK_UNSUPPORTED);
	}
	return pkt->nlayers;
}
