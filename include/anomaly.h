/* anomaly.h: the named, counted things that can be wrong with a packet or a capture.
 *
 * Bad input is counted here, never logged per packet. "truncated" means the capture
 * cut the header short (snaplen, damaged file); "invalid" means the header itself is
 * wrong. Names are stable: they appear in --stats and, later, in health events.
 */
#ifndef EGRESSD_ANOMALY_H
#define EGRESSD_ANOMALY_H

#include <stdint.h>

#define ANOMALY_LIST(X)                                                        \
	X(LINK_TRUNCATED, "link.truncated")                                    \
	X(LINK_UNSUPPORTED, "link.unsupported_linktype")                       \
	X(LINK_UNKNOWN_FAMILY, "link.unknown_address_family")                  \
	X(VLAN_TOO_MANY, "vlan.too_many_tags")                                 \
	X(MPLS_TOO_MANY, "mpls.too_many_labels")                               \
	X(MPLS_UNKNOWN_PAYLOAD, "mpls.unknown_payload")                        \
	X(PPPOE_INVALID, "pppoe.invalid")                                      \
	X(NFLOG_INVALID, "nflog.invalid")                                      \
	X(IPV4_TRUNCATED, "ipv4.truncated")                                    \
	X(IPV4_BAD_VERSION, "ipv4.invalid_version")                            \
	X(IPV4_BAD_HLEN, "ipv4.invalid_header_length")                         \
	X(IPV4_BAD_TOTLEN, "ipv4.invalid_total_length")                        \
	X(IPV4_LEN_EXCEEDS_FRAME, "ipv4.length_exceeds_frame")                 \
	X(IPV6_TRUNCATED, "ipv6.truncated")                                    \
	X(IPV6_BAD_VERSION, "ipv6.invalid_version")                            \
	X(IPV6_LEN_EXCEEDS_FRAME, "ipv6.length_exceeds_frame")                 \
	X(IPV6_EXT_TRUNCATED, "ipv6.extension_truncated")                      \
	X(IPV6_EXT_TOO_MANY, "ipv6.too_many_extension_headers")               \
	X(IPV6_JUMBOGRAM, "ipv6.jumbogram_unsupported")                        \
	X(TCP_TRUNCATED, "tcp.truncated")                                      \
	X(TCP_BAD_OFFSET, "tcp.invalid_data_offset")                           \
	X(UDP_TRUNCATED, "udp.truncated")                                      \
	X(UDP_BAD_LENGTH, "udp.invalid_length")                                \
	X(ICMP_TRUNCATED, "icmp.truncated")                                    \
	X(ICMPV6_TRUNCATED, "icmpv6.truncated")                                \
	X(GRE_TRUNCATED, "gre.truncated")                                      \
	X(GRE_UNSUPPORTED, "gre.unsupported")                                  \
	X(ERSPAN_TRUNCATED, "erspan.truncated")                                \
	X(VXLAN_TRUNCATED, "vxlan.truncated")                                  \
	X(GENEVE_TRUNCATED, "geneve.truncated")                                \
	X(TEREDO_INVALID, "teredo.invalid")                                    \
	X(GTP_TRUNCATED, "gtp.truncated")                                      \
	X(TUNNEL_TOO_DEEP, "tunnel.too_deep")                                  \
	X(LAYERS_TOO_MANY, "tunnel.too_many_flow_layers")                      \
	X(FRAG_TABLE_FULL, "fragment.table_full")                              \
	X(FRAG_ORPHAN, "fragment.orphan")                                      \
	X(TCP_NO_PORTS_FRAG, "fragment.first_without_ports")                   \
	X(L7_TLS_MALFORMED, "tls.malformed_client_hello")                      \
	X(L7_HTTP_MALFORMED, "http.malformed_request")                         \
	X(L7_DNS_MALFORMED, "dns.malformed")                                   \
	X(L7_BUFFER_EXHAUSTED, "l7.reassembly_buffers_exhausted")              \
	X(L7_BUFFER_OVERFLOW, "l7.reassembly_buffer_overflow")                 \
	X(L7_STREAM_GAP, "l7.stream_gap")                                      \
	X(NAME_STORE_FULL, "names.store_full")                                 \
	X(FTP_EXPECT_FULL, "ftp.expectation_table_full")                       \
	X(TIME_WENT_BACK, "capture.timestamp_went_backwards")                  \
	X(CAPLEN_EXCEEDS_LEN, "capture.caplen_exceeds_len")

enum anomaly {
#define ANOMALY_ENUM(id, name) ANOM_##id,
	ANOMALY_LIST(ANOMALY_ENUM)
#undef ANOMALY_ENUM
	ANOM__COUNT
};

/* Stable dotted name of an anomaly ("ipv4.truncated"). */
const char *anomaly_name(enum anomaly a);

struct anomaly_counts {
	uint64_t n[ANOM__COUNT];
};

static inline void anomaly_count(struct anomaly_counts *c, enum anomaly a)
{
	c->n[a]++;
}

#endif
