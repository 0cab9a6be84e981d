/* l7-tls.c: the TLS ClientHello parser: reassembles the first handshake message from
 * the client's handshake records and reads SNI, ALPN, versions and the ECH marker. */
#include <string.h>

#include "l7-tls.h"

#define TLS_CT_HANDSHAKE 22
#define TLS_HS_CLIENT_HELLO 1
#define TLS_RECORD_MAX 16384 /* RFC 8446 5.1, RFC 5246 6.2.1: 2^14 */
#define TLS_HS_HDR 4

#define TLS_EXT_SERVER_NAME 0
#define TLS_EXT_ALPN 16
#define TLS_EXT_SUPPORTED_VERSIONS 43
#define TLS_EXT_ECH 0xfe0d
#define TLS_SNI_TYPE_HOST 0
#define TLS_MAX_SERVER_NAMES 8

#define TLS_V13 0x0304

/* RFC 8701: GREASE values are 0x?a?a with both bytes equal. */
static bool tls_is_grease(uint16_t v)
{
	return (v & 0x0f0f) == 0x0a0a && (v >> 8) == (v & 0xff);
}

/* RFC 6066 section 3: ServerNameList server_name_list<1..2^16-1>; a ServerName is a
 * name_type byte and, for host_name(0), HostName opaque<1..2^16-1>. Later name types
 * are assumed to use the same 16-bit length (as deployed stacks do). */
static bool tls_ext_sni(struct cur *e, struct l7_tls_hello *out)
{
	uint16_t list_len = cur_be16(e);
	struct cur l = cur_sub(e, list_len);

	if (!cur_ok(e) || list_len == 0 || cur_left(e) != 0)
		return false;
	for (unsigned i = 0; cur_left(&l) > 0; i++) {
		uint8_t type;
		uint16_t n;
		const uint8_t *name;

		if (i == TLS_MAX_SERVER_NAMES)
			return false;
		type = cur_u8(&l);
		n = cur_be16(&l);
		name = cur_bytes(&l, n);
		if (!cur_ok(&l) || n == 0)
			return false;
		if (type != TLS_SNI_TYPE_HOST)
			continue;
		/* "MUST NOT contain more than one name of the same name_type" */
		if (out->has_sni)
			return false;
		out->has_sni = true;
		out->sni_truncated = !l7_copy_str(out->sni, sizeof(out->sni), name, n, true);
	}
	return true;
}

/* RFC 7301 section 3.1: ProtocolName protocol_name_list<2..2^16-1>, each ProtocolName
 * opaque<1..2^8-1>; "Empty strings MUST NOT be included". */
static bool tls_ext_alpn(struct cur *e, struct l7_tls_hello *out)
{
	uint16_t list_len = cur_be16(e);
	struct cur l = cur_sub(e, list_len);
	size_t pos = 0;

	if (!cur_ok(e) || list_len < 2 || cur_left(e) != 0)
		return false;
	while (cur_left(&l) > 0) {
		uint8_t n;
		const uint8_t *name;

		if (out->alpn_count == L7_TLS_MAX_ALPN) {
			out->alpn_truncated = true;
			break;
		}
		n = cur_u8(&l);
		name = cur_bytes(&l, n);
		if (!cur_ok(&l) || n == 0)
			return false;
		if (out->alpn_count > 0 &&
		    !l7_str_append(out->alpn, sizeof(out->alpn), &pos, (const uint8_t *)",", 1,
				   false))
			out->alpn_truncated = true;
		if (!l7_str_append(out->alpn, sizeof(out->alpn), &pos, name, n, false))
			out->alpn_truncated = true;
		out->alpn_count++;
	}
	return true;
}

/* RFC 8446 section 4.2.1: in a ClientHello, ProtocolVersion versions<2..254>. */
static bool tls_ext_versions(struct cur *e, struct l7_tls_hello *out)
{
	uint8_t n = cur_u8(e);
	struct cur l = cur_sub(e, n);
	uint16_t best = 0;

	if (!cur_ok(e) || n < 2 || (n & 1) || cur_left(e) != 0)
		return false;
	while (cur_left(&l) >= 2) { /* at most 127 entries */
		uint16_t v = cur_be16(&l);

		if (v == TLS_V13)
			out->offers_tls13 = true;
		if (!tls_is_grease(v) && v > best)
			best = v;
	}
	if (best)
		out->max_version = best;
	return true;
}

/* RFC 8446 section 4.1.2 (RFC 5246 section 7.4.1.2), the ClientHello body:
 * legacy_version, random[32], legacy_session_id<0..32>, cipher_suites<2..2^16-2>,
 * legacy_compression_methods<1..2^8-1>, extensions<8..2^16-1> (TLS 1.0-1.2 hellos may
 * end before the extensions). */
static enum l7_result tls_hello_body(struct cur *b, struct l7_tls_hello *out)
{
	uint64_t seen_low = 0; /* types below 64, one bit each */
	uint16_t seen[L7_TLS_MAX_EXTENSIONS]; /* the others */
	unsigned n_seen = 0;
	uint8_t sid_len, cm_len;
	uint16_t cs_len, ext_len;
	struct cur exts;
	bool bad = false;

	out->legacy_version = cur_be16(b);
	out->max_version = out->legacy_version;
	cur_skip(b, 32);
	sid_len = cur_u8(b);
	if (sid_len > 32)
		return L7_MALFORMED;
	cur_skip(b, sid_len);
	cs_len = cur_be16(b);
	if (cs_len < 2 || (cs_len & 1))
		return L7_MALFORMED;
	cur_skip(b, cs_len);
	cm_len = cur_u8(b);
	if (cm_len < 1)
		return L7_MALFORMED;
	cur_skip(b, cm_len);
	if (!cur_ok(b))
		return L7_MALFORMED;
	if (cur_left(b) == 0)
		return L7_OK;

	ext_len = cur_be16(b);
	if (!cur_ok(b))
		return L7_MALFORMED;
	if (cur_left(b) != ext_len)
		bad = true; /* short, or bytes after the extensions block */
	/* a short block (an oversize hello's prefix) is read as far as it goes */
	exts = cur_sub(b, cur_left(b) < ext_len ? cur_left(b) : ext_len);
	while (cur_left(&exts) > 0) {
		uint16_t type, elen;
		struct cur e;
		bool ok = true;

		if (out->n_extensions == L7_TLS_MAX_EXTENSIONS) {
			out->extensions_capped = true;
			break;
		}
		type = cur_be16(&exts);
		elen = cur_be16(&exts);
		e = cur_sub(&exts, elen);
		if (!cur_ok(&exts))
			return L7_MALFORMED;
		/* RFC 8446 4.2: at most one extension of each type; the first one counts */
		out->n_extensions++;
		if (type < 64) {
			ok = !(seen_low & (uint64_t)1 << type);
			seen_low |= (uint64_t)1 << type;
		} else {
			for (unsigned i = 0; i < n_seen; i++) {
				if (seen[i] == type)
					ok = false;
			}
			seen[n_seen++] = type;
		}
		if (!ok) {
			bad = true;
			continue;
		}
		switch (type) {
		case TLS_EXT_SERVER_NAME:
			ok = tls_ext_sni(&e, out);
			break;
		case TLS_EXT_ALPN:
			ok = tls_ext_alpn(&e, out);
			break;
		case TLS_EXT_SUPPORTED_VERSIONS:
			ok = tls_ext_versions(&e, out);
			break;
		case TLS_EXT_ECH:
			out->has_ech = true;
			break;
		default:
			break;
		}
		if (!ok)
			bad = true;
	}
	return bad ? L7_MALFORMED : L7_OK;
}

bool l7_tls_looks_like(const uint8_t *data, size_t len)
{
	struct cur c = cur_make(data, len < 3 ? len : 3);

	if (cur_left(&c) == 0 || cur_u8(&c) != TLS_CT_HANDSHAKE)
		return false;
	if (cur_left(&c) > 0 && cur_u8(&c) != 3)
		return false;
	if (cur_left(&c) > 0 && cur_u8(&c) > 4)
		return false;
	return true;
}

/* RFC 8446 section 5.1 (RFC 5246 section 6.2.1): TLSPlaintext records are type,
 * legacy_record_version, length (at most 2^14, never 0 for handshake records) and the
 * fragment. Handshake messages (RFC 8446 4: type, uint24 length, body) may be split
 * over consecutive handshake records, and no other record type may come in between. */
enum l7_result l7_tls_client_hello(const uint8_t *data, size_t len, struct l7_tls_hello *out)
{
	uint8_t hs[L7_TLS_HELLO_MAX];
	size_t have = 0, want = TLS_HS_HDR;
	bool hdr = false, oversize = false;
	struct cur c = cur_make(data, len);

	memset(out, 0, sizeof(*out));
	if (cur_left(&c) > 0 && cur_peek_u8(&c, 0) != TLS_CT_HANDSHAKE)
		return L7_NOT_THIS;
	if (cur_left(&c) > 1 && cur_peek_u8(&c, 1) != 3)
		return L7_NOT_THIS;

	for (unsigned nrec = 0;; nrec++) {
		uint8_t type, major, minor;
		uint16_t rlen;
		size_t avail;
		struct cur frag;

		if (nrec == L7_TLS_MAX_RECORDS)
			return L7_MALFORMED;
		if (cur_left(&c) < 5)
			return L7_NEED_MORE;
		type = cur_u8(&c);
		major = cur_u8(&c);
		minor = cur_u8(&c);
		rlen = cur_be16(&c);
		if (nrec == 0)
			out->record_version = (uint16_t)(major << 8 | minor);
		if (type != TLS_CT_HANDSHAKE || major != 3)
			return nrec == 0 ? L7_NOT_THIS : L7_MALFORMED;
		if (rlen == 0 || rlen > TLS_RECORD_MAX)
			return L7_MALFORMED;
		out->n_records = (uint16_t)(nrec + 1);

		/* Use what has arrived of this record: the hello may end inside it. */
		avail = cur_left(&c) < rlen ? cur_left(&c) : rlen;
		frag = cur_sub(&c, avail);
		while (cur_left(&frag) > 0) {
			size_t take = want - have;
			const uint8_t *p;

			if (take > cur_left(&frag))
				take = cur_left(&frag);
			p = cur_bytes(&frag, take);
			if (!p)
				return L7_MALFORMED;
			memcpy(hs + have, p, take);
			have += take;
			if (!hdr && have == TLS_HS_HDR) {
				struct cur h = cur_make(hs, TLS_HS_HDR);
				uint8_t msg_type = cur_u8(&h);
				uint32_t mlen = cur_be24(&h);

				if (msg_type != TLS_HS_CLIENT_HELLO)
					return L7_NOT_THIS;
				hdr = true;
				if (mlen > L7_TLS_HELLO_MAX - TLS_HS_HDR) {
					oversize = true;
					want = L7_TLS_HELLO_MAX;
				} else {
					want = TLS_HS_HDR + mlen;
				}
			}
			if (hdr && have == want) {
				struct cur body = cur_make(hs + TLS_HS_HDR, have - TLS_HS_HDR);
				enum l7_result r = tls_hello_body(&body, out);

				if (r == L7_OK && cur_left(&body) != 0)
					r = L7_MALFORMED;
				return oversize ? L7_MALFORMED : r;
			}
		}
		if (avail < rlen)
			return L7_NEED_MORE;
	}
}

/* RFC 8446 4: a bare Handshake message (type, uint24 length, body), as QUIC carries it in
 * CRYPTO frames (RFC 9001 4). */
enum l7_result l7_tls_client_hello_message(const uint8_t *msg, size_t len,
					   struct l7_tls_hello *out)
{
	struct cur c = cur_make(msg, len);

	memset(out, 0, sizeof(*out));
	uint8_t type = cur_u8(&c);
	uint32_t mlen = cur_be24(&c);
	if (!cur_ok(&c))
		return L7_NEED_MORE;
	if (type != TLS_HS_CLIENT_HELLO)
		return L7_NOT_THIS;
	if (mlen > cur_left(&c))
		return L7_NEED_MORE;
	struct cur body = cur_sub(&c, mlen);
	enum l7_result r = tls_hello_body(&body, out);
	if (r == L7_OK && cur_left(&body) != 0)
		r = L7_MALFORMED;
	return r;
}
