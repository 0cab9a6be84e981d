/* l7-dns.c: the DNS message parser (RFC 1035 4.1): header, first question, A/AAAA
 * answers and answer counts by type, with bounded decoding of compressed names. */
#include <stddef.h>
#include <string.h>

#include "l7-dns.h"

#define DNS_HDR_LEN 12
#define DNS_NAME_WIRE_MAX 255	/* RFC 1035 2.3.4 and 3.1: octets incl. length bytes */
#define DNS_FLAG_TC 0x0200
#define DNS_CLASS_IN 1

/* Read the domain name at m's offset (RFC 1035 3.1: labels, each a length octet of
 * 0..63 and that many octets, ending with the zero-length root label; 4.1.4: or ending
 * with a pointer, two octets 11 + 14-bit offset from the start of the message).
 * Pointers must point strictly before the start of the piece of name that holds them
 * (which also rules out loops), at most L7_DNS_MAX_PTR_HOPS of them, at most
 * L7_DNS_MAX_LABELS labels and DNS_NAME_WIRE_MAX octets in all. The 01 and 10 label
 * types (RFC 6891 5 deprecates the extended ones) are errors.
 * If out is not NULL it gets the dotted name, labels lowercased, root as ".".
 * On success m moves past the name as it sits at m (up to the first pointer). */
static bool dns_name(struct cur *m, char *out, size_t outsz, bool *truncated)
{
	struct cur r = *m;
	size_t piece = r.off, wire = 0, pos = 0, after = 0;
	unsigned labels = 0, hops = 0;
	bool jumped = false;

	if (out && outsz)
		out[0] = '\0';
	for (;;) {
		uint8_t l = cur_u8(&r);
		const uint8_t *label;

		if (!cur_ok(&r))
			return false;
		if ((l & 0xc0) == 0xc0) {
			size_t target = (size_t)(l & 0x3f) << 8 | cur_u8(&r);

			if (!cur_ok(&r))
				return false;
			if (!jumped) {
				after = r.off;
				jumped = true;
			}
			if (++hops > L7_DNS_MAX_PTR_HOPS)
				return false;
			/* strictly backwards, and not into the header */
			if (target >= piece || target < DNS_HDR_LEN)
				return false;
			cur_seek(&r, target);
			piece = target;
			continue;
		}
		if (l & 0xc0)
			return false;
		if (l == 0)
			break;
		if (++labels > L7_DNS_MAX_LABELS)
			return false;
		/* this label plus at least the root octet must fit */
		wire += 1u + l;
		if (wire + 1 > DNS_NAME_WIRE_MAX) {
			if (truncated)
				*truncated = true;
			return false;
		}
		label = cur_bytes(&r, l);
		if (!label)
			return false;
		if (out && pos > 0 && pos + 1 + l < outsz) {
			/* the length octet and the label in one copy, the octet then becoming
			 * the separator (a length, at most 63, is neither NUL nor A-Z) */
			l7_wire_copy(out + pos, label - 1, 1u + l, true);
			out[pos] = '.';
			pos += 1u + l;
			out[pos] = '\0';
		} else if (out && pos == 0 && l < outsz) {
			l7_wire_copy(out, label, l, true);
			pos = l;
			out[pos] = '\0';
		} else if (out) {
			/* the name does not fit: as much as does */
			bool fit = true;

			if (pos > 0)
				fit = l7_str_append(out, outsz, &pos, (const uint8_t *)".", 1, false);
			if (!l7_str_append(out, outsz, &pos, label, l, true) || !fit) {
				if (truncated)
					*truncated = true;
			}
		}
	}
	if (out && pos == 0)
		l7_str_append(out, outsz, &pos, (const uint8_t *)".", 1, false);
	if (jumped)
		cur_seek(m, after);
	else
		cur_seek(m, r.off);
	return cur_ok(m);
}

/* RFC 1035 4.1.3: NAME, TYPE, CLASS, TTL, RDLENGTH, RDATA. */
static bool dns_answer(struct cur *m, struct l7_dns_msg *out)
{
	uint16_t type, klass, rdlen;
	uint32_t ttl;
	const uint8_t *rdata;
	struct l7_dns_addr *a;

	if (!dns_name(m, NULL, 0, NULL))
		return false;
	type = cur_be16(m);
	klass = cur_be16(m);
	ttl = cur_be32(m);
	rdlen = cur_be16(m);
	rdata = cur_bytes(m, rdlen);
	if (!rdata)
		return false;
	out->answers_parsed++;
	switch (type) {
	case L7_DNS_TYPE_A:
		out->n_a++;
		if (rdlen != 4) /* RFC 1035 3.4.1 */
			return false;
		break;
	case L7_DNS_TYPE_AAAA:
		out->n_aaaa++;
		if (rdlen != 16) /* RFC 3596 2.2 */
			return false;
		break;
	case L7_DNS_TYPE_CNAME:
		out->n_cname++;
		return true;
	case L7_DNS_TYPE_MX:
		out->n_mx++;
		return true;
	case L7_DNS_TYPE_TXT:
		out->n_txt++;
		return true;
	case L7_DNS_TYPE_NULL:
		out->n_null++;
		return true;
	default:
		out->n_other++;
		return true;
	}
	if (klass != DNS_CLASS_IN)
		return true;
	if (out->n_addrs == L7_DNS_MAX_ADDRS) {
		out->addrs_truncated = true;
		return true;
	}
	a = &out->addrs[out->n_addrs++];
	if (rdlen == 4) {
		a->family = 4;
		memcpy(a->addr, rdata, 4);
		memset(a->addr + 4, 0, 12);
	} else {
		a->family = 6;
		memcpy(a->addr, rdata, 16);
	}
	/* RFC 2181 section 8: a TTL with the top bit set is treated as zero */
	a->ttl = ttl > 0x7fffffffu ? 0 : ttl;
	return true;
}

/* RFC 1035 section 4.1.1 (header), 4.1.2 (question), 4.1.3 (resource records). */
enum l7_result l7_dns_parse(const uint8_t *msg, size_t len, struct l7_dns_msg *out)
{
	struct cur m = cur_make(msg, len);
	unsigned records = 0;
	bool tc;

	/* everything but the name buffer and the address slots, which are written as far
	 * as they are used: zeroing them too costs more than reading a query */
	memset(out, 0, offsetof(struct l7_dns_msg, qname));
	out->qname[0] = '\0';
	memset(&out->qtype, 0, offsetof(struct l7_dns_msg, addrs) -
				       offsetof(struct l7_dns_msg, qtype));
	memset(&out->n_a, 0, sizeof(*out) - offsetof(struct l7_dns_msg, n_a));
	if (len < DNS_HDR_LEN)
		return L7_MALFORMED;
	out->id = cur_be16(&m);
	out->flags = cur_be16(&m);
	out->qr = out->flags >> 15;
	out->opcode = (out->flags >> 11) & 0x0f;
	out->rcode = out->flags & 0x0f;
	out->qdcount = cur_be16(&m);
	out->ancount = cur_be16(&m);
	out->nscount = cur_be16(&m);
	out->arcount = cur_be16(&m);
	tc = out->flags & DNS_FLAG_TC;

	for (unsigned i = 0; i < out->qdcount; i++) {
		uint16_t qtype, qclass;
		bool first = i == 0;

		if (records == L7_DNS_MAX_RECORDS)
			return L7_OK;
		if (tc && cur_left(&m) == 0)
			return L7_OK;
		records++;
		if (!dns_name(&m, first ? out->qname : NULL, sizeof(out->qname),
			      first ? &out->qname_truncated : NULL)) {
			if (first)
				out->qname_truncated = true;
			return L7_MALFORMED;
		}
		qtype = cur_be16(&m);
		qclass = cur_be16(&m);
		if (!cur_ok(&m))
			return L7_MALFORMED;
		if (first) {
			out->has_question = true;
			out->qtype = qtype;
			out->qclass = qclass;
		}
	}
	for (unsigned i = 0; i < out->ancount; i++) {
		if (records == L7_DNS_MAX_RECORDS)
			return L7_OK;
		if (tc && cur_left(&m) == 0)
			return L7_OK;
		records++;
		if (!dns_answer(&m, out))
			return L7_MALFORMED;
	}
	return L7_OK;
}
