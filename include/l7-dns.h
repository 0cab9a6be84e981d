/* l7-dns.h: the DNS message parser: header, first question and the A/AAAA addresses
 * and record-type counts of the answer section of one DNS message. */
#ifndef EGRESSD_L7_DNS_H
#define EGRESSD_L7_DNS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "l7.h"

#define L7_DNS_NAME_MAX 253	/* chars of a dotted name (255 octets on the wire) */
#define L7_DNS_MAX_ADDRS 16	/* A/AAAA answers kept */
#define L7_DNS_MAX_LABELS 128	/* labels per name */
#define L7_DNS_MAX_PTR_HOPS 16	/* compression pointers followed per name */
#define L7_DNS_MAX_RECORDS 64	/* questions + answers parsed */

#define L7_DNS_TYPE_A 1
#define L7_DNS_TYPE_CNAME 5
#define L7_DNS_TYPE_NULL 10
#define L7_DNS_TYPE_MX 15
#define L7_DNS_TYPE_TXT 16
#define L7_DNS_TYPE_AAAA 28

struct l7_dns_addr {
	uint8_t family;		/* 4 or 6 */
	uint8_t addr[16];	/* network order; IPv4 in the first 4 bytes */
	uint32_t ttl;		/* seconds; RFC 2181 8: values above 2^31-1 read as 0 */
};

struct l7_dns_msg {
	uint16_t id;
	uint16_t flags;		/* the whole second header word */
	bool qr;		/* response */
	uint8_t opcode;
	uint8_t rcode;		/* header RCODE (the EDNS extension bits are not read) */
	uint16_t qdcount, ancount, nscount, arcount;

	bool has_question;	/* the whole first question was read (qname may hold a
				 * prefix even when not) */
	bool qname_truncated;	/* name longer than L7_DNS_NAME_MAX or cut by damage */
	char qname[L7_DNS_NAME_MAX + 1];	/* dotted, lowercased, root is "." */
	uint16_t qtype, qclass;

	uint16_t answers_parsed;	/* answer RRs walked */
	uint8_t n_addrs;		/* entries of addrs[] used */
	bool addrs_truncated;		/* more A/AAAA answers than L7_DNS_MAX_ADDRS */
	struct l7_dns_addr addrs[L7_DNS_MAX_ADDRS]; /* the first n_addrs are set */
	/* answer RRs by type */
	uint16_t n_a, n_aaaa, n_cname, n_mx, n_txt, n_null, n_other;
};

/* Parse one DNS message (a UDP payload, or a TCP message without its 2-byte length
 * prefix). Reads the header, the questions (the first one is kept) and the answer
 * section; authority and additional records are not read. L7_OK, or L7_MALFORMED with
 * everything read before the damage filled in. Never L7_NEED_MORE. A message with TC
 * set may end at a record boundary before its counts say. */
enum l7_result l7_dns_parse(const uint8_t *msg, size_t len, struct l7_dns_msg *out);

#endif
