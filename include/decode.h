/* decode.h: turns a captured frame into a packet view: the IP/transport layers that
 * carry flows, with lengths taken from the headers (so a short snaplen still counts the
 * real volume) and pointers into the frame.
 *
 * Ownership: a struct pkt borrows the frame it was decoded from; it is valid only
 * inside the capture callback that produced the frame. Nothing here allocates.
 */
#ifndef EGRESSD_DECODE_H
#define EGRESSD_DECODE_H

#include <stdbool.h>
#include <stdint.h>

#include "anomaly.h"
#include "cursor.h"

/* Flow-bearing layers per packet: the outer UDP flow of each UDP-carried tunnel
 * (VXLAN, Geneve, Teredo, GTP-U) plus the innermost packet. */
#define PKT_MAX_LAYERS 4
/* Nested encapsulations followed before giving up (tunnel.too_deep). */
#define DECODE_MAX_DEPTH 8
#define DECODE_MAX_VLAN 4
#define DECODE_MAX_MPLS 8
#define DECODE_MAX_IPV6_EXT 8
#define DECODE_MAX_GTP_EXT 8

/* Link types, with libpcap's DLT_ numbers (Linux values). */
enum decode_link {
	DECODE_LINK_NULL = 0,
	DECODE_LINK_ETHERNET = 1,
	DECODE_LINK_PPP = 9,
	DECODE_LINK_RAW = 12,
	DECODE_LINK_RAW_OPENBSD = 14,
	DECODE_LINK_PPP_SERIAL = 50,
	DECODE_LINK_PPP_ETHER = 51,
	DECODE_LINK_RAW_LINKTYPE = 101,
	DECODE_LINK_LOOP = 108,
	DECODE_LINK_LINUX_SLL = 113,
	DECODE_LINK_IPV4 = 228,
	DECODE_LINK_IPV6 = 229,
	DECODE_LINK_NFLOG = 239,
	DECODE_LINK_LINUX_SLL2 = 276,
};

enum pkt_frag {
	PKT_FRAG_NONE = 0,
	PKT_FRAG_FIRST,	/* offset 0, more fragments follow: carries the ports */
	PKT_FRAG_LATER, /* no transport header: ports come from the first fragment */
};

#define TCP_FIN 0x01
#define TCP_SYN 0x02
#define TCP_RST 0x04
#define TCP_PSH 0x08
#define TCP_ACK 0x10

struct pkt_layer {
	uint8_t family;	   /* 4 or 6 */
	uint8_t proto;	   /* transport protocol after IPv6 extension headers */
	uint8_t frag;	   /* enum pkt_frag */
	uint8_t tcp_flags;
	uint16_t sport;	   /* TCP/UDP ports; ICMP/ICMPv6: type and code */
	uint16_t dport;
	uint16_t vlan;	   /* outermost 802.1Q VLAN ID before this layer, 0 if none */
	uint32_t frag_id;  /* IPv4 identification / IPv6 fragment id */
	uint32_t ip_bytes; /* IPv4 total length, IPv6 payload length + 40 */
	uint32_t payload_bytes; /* transport payload, from header lengths */
	uint32_t tcp_seq;
	uint32_t payload_cap;	/* captured bytes at payload */
	const uint8_t *payload; /* borrowed from the frame */
	uint8_t src[16];	/* IPv4 in the first 4 bytes, rest zero */
	uint8_t dst[16];
};

struct pkt {
	uint64_t ts_us; /* packet time, microseconds since the epoch */
	uint32_t wire_len;
	uint32_t cap_len;
	uint8_t nlayers; /* layer[nlayers - 1] is the innermost */
	bool non_ip;	 /* a well-formed frame that carries no IP (ARP, LLDP ...) */
	struct pkt_layer layer[PKT_MAX_LAYERS];
};

struct decoder {
	struct anomaly_counts *anom; /* where anomalies are counted; owned by the caller */
	/* scratch while decoding one frame */
	uint16_t vlan;
	bool vlan_set;
};

void decoder_init(struct decoder *d, struct anomaly_counts *anom);

/* True if egressd can decode frames of this link type. */
bool decode_link_supported(int linktype);

/* Decode one frame. Fills pkt (ts_us is left to the caller). Returns the number of
 * flow-bearing layers found (0 for non-IP or undecodable frames; the reason is counted).
 * The common frames (Ethernet with at most one VLAN tag, or raw IP; IPv4 without
 * options or IPv6 without extension headers; TCP or UDP; no fragment, no tunnel) take a
 * short path; everything else, and anything that path is not sure of, goes through
 * decode_packet_general(), with the same result. */
int decode_packet(struct decoder *d, int linktype, const uint8_t *data, uint32_t caplen,
		  uint32_t wirelen, struct pkt *pkt);

/* decode_packet() without the short path: every frame through the general decoder
 * (tests check that both agree). */
int decode_packet_general(struct decoder *d, int linktype, const uint8_t *data,
			  uint32_t caplen, uint32_t wirelen, struct pkt *pkt);

/* For decode-*.c only: the stages call each other for encapsulations.
 * wire_left is the number of wire bytes from the cursor's offset to the frame's end
 * (>= the captured bytes left): lengths in headers are checked against it. */
void decode_ether(struct decoder *d, struct cur *c, uint32_t wire_left, int depth,
		  struct pkt *pkt);
void decode_ethertype(struct decoder *d, uint16_t type, struct cur *c, uint32_t wire_left,
		      int depth, struct pkt *pkt);
/* PPP in HDLC-like framing (optional 0xff 0x03, 1- or 2-byte protocol), then IP. */
void decode_ppp(struct decoder *d, struct cur *c, uint32_t wire_left, int depth,
		struct pkt *pkt);
void decode_ppp_proto(struct decoder *d, uint16_t proto, struct cur *c, uint32_t wire_left,
		      int depth, struct pkt *pkt);
void decode_ip(struct decoder *d, struct cur *c, uint32_t wire_left, int depth,
	       struct pkt *pkt);
/* The same when the outer header said which family to expect (4 or 6; 0: either), so a
 * mismatch or a short header is counted under that family's name. */
void decode_ip_as(struct decoder *d, int family, struct cur *c, uint32_t wire_left, int depth,
		  struct pkt *pkt);

/* Wire bytes left after consuming `consumed` of `wire_left`. */
static inline uint32_t decode_wire_after(uint32_t wire_left, size_t consumed)
{
	return consumed >= wire_left ? 0 : wire_left - (uint32_t)consumed;
}

#endif
