/* l7-quic.c: the QUIC Initial reader. Finds the client's Initial packets in a UDP
 * datagram (RFC 9000 17.2, 12.2), removes their protection with the Initial keys every
 * observer can derive from the Destination Connection ID (RFC 9001 5.2-5.4; RFC 9369
 * for QUIC version 2), walks the frames (RFC 9000 19) and reassembles the CRYPTO
 * stream, which starts with the TLS ClientHello, so the TLS module can read its server
 * name. The rules are in include/l7-quic.h. Nothing here allocates.
 */
#include <string.h>

#include "crypto.h"
#include "l7-quic.h"

#define QUIC_SALT_LEN 20
#define QUIC_KEY_LEN 16
#define QUIC_IV_LEN 12
#define QUIC_HP_LEN 16
#define QUIC_SAMPLE_LEN 16	/* RFC 9001 5.4.2: AES-based header protection */
#define QUIC_PN_MAX_LEN 4
#define QUIC_TAG_LEN 16		/* RFC 9001 5.3: AEAD_AES_128_GCM */
#define QUIC_VARINT_MAX ((1ull << 62) - 1)

/* Frame types allowed in Initial packets (RFC 9000 12.4, table 3). */
#define QUIC_FRAME_PADDING 0x00
#define QUIC_FRAME_PING 0x01
#define QUIC_FRAME_ACK 0x02
#define QUIC_FRAME_ACK_ECN 0x03
#define QUIC_FRAME_CRYPTO 0x06
#define QUIC_FRAME_CONNECTION_CLOSE 0x1c

_Static_assert(L7_QUIC_CRYPTO_MAX <= UINT16_MAX, "stream ranges are kept in 16 bits");

#define TLS_HS_CLIENT_HELLO 1	/* RFC 8446 4 */
#define TLS_HS_HEADER_LEN 4	/* msg_type, uint24 length */

/* What differs between the versions read here. */
struct quic_version {
	uint32_t version;
	uint32_t version_last; /* a range of versions that share the rest; 0: just one */
	uint8_t type_initial;	/* Long Packet Type values (RFC 9000 17.2, RFC 9369 3.2) */
	uint8_t type_retry;
	uint8_t salt[QUIC_SALT_LEN];
	const char *label_key;
	const char *label_iv;
	const char *label_hp;
};

static const struct quic_version quic_versions[] = {
	{
		/* RFC 9001 5.2 */
		.version = L7_QUIC_V1,
		.type_initial = 0x0,
		.type_retry = 0x3,
		.salt = { 0x38, 0x76, 0x2c, 0xf7, 0xf5, 0x59, 0x34, 0xb3, 0x4d, 0x17,
			  0x9a, 0xe6, 0xa4, 0xc8, 0x0c, 0xad, 0xcc, 0xbb, 0x7f, 0x0a },
		.label_key = "quic key",
		.label_iv = "quic iv",
		.label_hp = "quic hp",
	},
	{
		/* RFC 9369 3.2 (packet types), 3.3.1 (salt), 3.3.2 (labels) */
		.version = L7_QUIC_V2,
		.type_initial = 0x1,
		.type_retry = 0x0,
		.salt = { 0x0d, 0xed, 0xe3, 0xde, 0xf7, 0x00, 0xa6, 0xdb, 0x81, 0x93,
			  0x81, 0xbe, 0x6e, 0x26, 0x9d, 0xcb, 0xf9, 0xbd, 0x2e, 0xd9 },
		.label_key = "quicv2 key",
		.label_iv = "quicv2 iv",
		.label_hp = "quicv2 hp",
	},
	{
		/* draft-ietf-quic-tls-29 to -32 5.2: the last drafts before v1, still sent
		 * by deployed clients; v1's packet types and labels, their own salt */
		.version = 0xff00001du,
		.version_last = 0xff000020u,
		.type_initial = 0x0,
		.type_retry = 0x3,
		.salt = { 0xaf, 0xbf, 0xec, 0x28, 0x99, 0x93, 0xd2, 0x4c, 0x9e, 0x97,
			  0x86, 0xf1, 0x9c, 0x61, 0x11, 0xe0, 0x43, 0x90, 0xa8, 0x99 },
		.label_key = "quic key",
		.label_iv = "quic iv",
		.label_hp = "quic hp",
	},
};

#define QUIC_N_VERSIONS (sizeof(quic_versions) / sizeof(quic_versions[0]))

struct quic_keys {
	uint8_t key[QUIC_KEY_LEN];
	uint8_t iv[QUIC_IV_LEN];
	uint8_t hp[QUIC_HP_LEN];
};

/* What happened to one packet of a datagram. */
enum quic_pkt {
	QUIC_PKT_STOP,		/* not a packet to read, and nothing after it is either */
	QUIC_PKT_SKIPPED,	/* a long-header packet that was stepped over */
	QUIC_PKT_OPENED,	/* a client Initial whose frames were read */
	QUIC_PKT_BROKEN,	/* cut short or inconsistent */
};

static const struct quic_version *quic_version_find(uint32_t version);

bool l7_quic_version_supported(uint32_t version)
{
	return quic_version_find(version) != NULL;
}

static const struct quic_version *quic_version_find(uint32_t version)
{
	for (size_t i = 0; i < QUIC_N_VERSIONS; i++) {
		if (quic_versions[i].version == version ||
		    (version > quic_versions[i].version && version <= quic_versions[i].version_last))
			return &quic_versions[i];
	}
	return NULL;
}

/* RFC 9000 16: a variable-length integer; the two high bits of the first byte give its
 * length (1, 2, 4 or 8 bytes). Sets the cursor's error on a short read. */
static uint64_t quic_varint(struct cur *c)
{
	uint8_t b = cur_u8(c);
	size_t n = (size_t)1 << (b >> 6);
	uint64_t v = b & 0x3f;

	for (size_t i = 1; i < n; i++)
		v = v << 8 | cur_u8(c);
	return v;
}

/* ---- CRYPTO stream reassembly ------------------------------------------------- */

void l7_quic_crypto_init(struct l7_quic_crypto *acc)
{
	/* Everything but the (large) buffer, whose bytes are only read within ranges. */
	memset((uint8_t *)acc + sizeof(acc->buf), 0, sizeof(*acc) - sizeof(acc->buf));
}

/* Record [start, end) as received, merging it with the ranges it overlaps or touches.
 * Returns false if no slot is left for it (the range furthest from offset 0 is given
 * up for a nearer one, since the stream is only useful from its start). */
static bool quic_range_add(struct l7_quic_crypto *acc, uint16_t start, uint16_t end)
{
	struct l7_quic_range *r = acc->ranges;
	unsigned n = acc->n_ranges;
	unsigned i, j;

	if (n > L7_QUIC_RANGES_MAX)		/* a corrupted accumulator */
		n = acc->n_ranges = 0;
	/* i: first range that ends at or after start; j: first that begins after end.
	 * Ranges i..j-1 overlap or touch [start, end). */
	for (i = 0; i < n && r[i].end < start; i++)
		;
	for (j = i; j < n && r[j].start <= end; j++)
		;
	if (i == j) {
		if (n == L7_QUIC_RANGES_MAX) {
			if (i == n)
				return false;
			n--;			/* forget the last range */
		}
		memmove(&r[i + 1], &r[i], (n - i) * sizeof(r[0]));
		r[i].start = start;
		r[i].end = end;
		n++;
	} else {
		if (r[i].start < start)
			start = r[i].start;
		if (r[j - 1].end > end)
			end = r[j - 1].end;
		r[i].start = start;
		r[i].end = end;
		memmove(&r[i + 1], &r[j], (n - j) * sizeof(r[0]));
		n -= j - i - 1;
	}
	acc->n_ranges = (uint8_t)n;
	acc->have_upto = n > 0 && r[0].start == 0 ? r[0].end : 0;
	return true;
}

/* RFC 9000 19.6: CRYPTO data at stream offset off. The caller checked that off + len
 * does not exceed 2^62 - 1. */
static void quic_crypto_add(struct l7_quic_crypto *acc, uint64_t off, const uint8_t *data,
			    uint64_t len)
{
	uint64_t end = off + len;

	if (len == 0)
		return;
	if (off >= L7_QUIC_CRYPTO_MAX) {
		acc->n_dropped++;
		return;
	}
	if (end > L7_QUIC_CRYPTO_MAX) {
		acc->n_dropped++;
		end = L7_QUIC_CRYPTO_MAX;
	}
	if (!quic_range_add(acc, (uint16_t)off, (uint16_t)end)) {
		acc->n_dropped++;
		return;
	}
	memcpy(acc->buf + off, data, (size_t)(end - off));
}

/* Where the contiguous stream stands: a complete ClientHello (RFC 8446 4: msg_type 1,
 * uint24 length, body), more needed, or not a ClientHello. *msg_len gets the length of
 * the whole message, header included, once known. */
static enum l7_result quic_hello_state(const struct l7_quic_crypto *acc, size_t *msg_len)
{
	uint32_t have = acc->have_upto;
	size_t need;

	*msg_len = 0;
	if (have > L7_QUIC_CRYPTO_MAX)		/* a corrupted accumulator */
		return L7_MALFORMED;
	if (have == 0)
		return L7_NEED_MORE;
	if (acc->buf[0] != TLS_HS_CLIENT_HELLO)
		return L7_MALFORMED;
	if (have < TLS_HS_HEADER_LEN)
		return L7_NEED_MORE;
	need = TLS_HS_HEADER_LEN + ((size_t)acc->buf[1] << 16 | (size_t)acc->buf[2] << 8 |
				    acc->buf[3]);
	if (need > L7_QUIC_CRYPTO_MAX)
		return L7_MALFORMED;
	*msg_len = need;
	return have >= need ? L7_OK : L7_NEED_MORE;
}

const uint8_t *l7_quic_client_hello(const struct l7_quic_crypto *acc, size_t *len)
{
	size_t n;

	if (quic_hello_state(acc, &n) != L7_OK) {
		*len = 0;
		return NULL;
	}
	*len = n;
	return acc->buf;
}

/* ---- frames (RFC 9000 19) ----------------------------------------------------- */

/* RFC 9000 19.3: ACK (0x02) and ACK with ECN counts (0x03), after the type. */
static bool quic_skip_ack(struct cur *c, uint64_t type)
{
	uint64_t n_ranges;

	(void)quic_varint(c);		/* Largest Acknowledged */
	(void)quic_varint(c);		/* ACK Delay */
	n_ranges = quic_varint(c);	/* ACK Range Count */
	(void)quic_varint(c);		/* First ACK Range */
	if (!cur_ok(c) || n_ranges > cur_left(c) / 2)	/* each range is >= 2 bytes */
		return false;
	for (uint64_t i = 0; i < n_ranges && cur_ok(c); i++) {
		(void)quic_varint(c);	/* Gap */
		(void)quic_varint(c);	/* ACK Range Length */
	}
	if (type == QUIC_FRAME_ACK_ECN) {
		(void)quic_varint(c);	/* ECT0 Count */
		(void)quic_varint(c);	/* ECT1 Count */
		(void)quic_varint(c);	/* ECN-CE Count */
	}
	return cur_ok(c);
}

/* Walk the frames of an opened Initial's payload, adding CRYPTO data to acc. Stops,
 * without error, at a frame type Initial packets may not carry (RFC 9000 12.4) or after
 * L7_QUIC_MAX_FRAMES frames. Returns false on a frame cut short or out of range. */
static bool quic_frames(const uint8_t *payload, size_t len, struct l7_quic_crypto *acc)
{
	struct cur c = cur_make(payload, len);

	for (unsigned f = 0; f < L7_QUIC_MAX_FRAMES && cur_left(&c) > 0; f++) {
		uint64_t type = quic_varint(&c);
		uint64_t off, n;
		const uint8_t *data;

		switch (type) {
		case QUIC_FRAME_PADDING:	/* 19.1: one byte each; skip the whole run */
			for (size_t i = cur_left(&c); i > 0 && cur_peek_u8(&c, 0) == 0; i--)
				cur_skip(&c, 1);
			break;
		case QUIC_FRAME_PING:		/* 19.2: type only */
			break;
		case QUIC_FRAME_ACK:
		case QUIC_FRAME_ACK_ECN:
			if (!quic_skip_ack(&c, type))
				return false;
			break;
		case QUIC_FRAME_CRYPTO:		/* 19.6: Offset, Length, Crypto Data */
			off = quic_varint(&c);
			n = quic_varint(&c);
			if (!cur_ok(&c) || n > cur_left(&c) || off + n > QUIC_VARINT_MAX)
				return false;
			data = cur_bytes(&c, (size_t)n);
			quic_crypto_add(acc, off, data, n);
			break;
		case QUIC_FRAME_CONNECTION_CLOSE:	/* 19.19: transport error */
			(void)quic_varint(&c);		/* Error Code */
			(void)quic_varint(&c);		/* Frame Type */
			n = quic_varint(&c);		/* Reason Phrase Length */
			if (!cur_ok(&c) || n > cur_left(&c))
				return false;
			cur_skip(&c, (size_t)n);
			break;
		default:
			return cur_ok(&c);
		}
		if (!cur_ok(&c))
			return false;
	}
	return true;
}

/* ---- packet protection (RFC 9001 5) ---------------------------------------------- */

/* RFC 9001 5.2: client_initial_secret = HKDF-Expand-Label(HKDF-Extract(salt, DCID),
 * "client in", "", 32), then key, iv and hp from it (5.1; RFC 9369 3.3 for v2). */
static int quic_derive_keys(const struct quic_version *v, const uint8_t *dcid,
			    size_t dcid_len, struct quic_keys *k)
{
	uint8_t initial[CRYPTO_SHA256_LEN];
	uint8_t client[CRYPTO_SHA256_LEN];

	if (crypto_hkdf_extract_sha256(v->salt, QUIC_SALT_LEN, dcid, dcid_len, initial) != 0 ||
	    crypto_hkdf_expand_label_sha256(initial, "client in", client, sizeof(client)) != 0 ||
	    crypto_hkdf_expand_label_sha256(client, v->label_key, k->key, QUIC_KEY_LEN) != 0 ||
	    crypto_hkdf_expand_label_sha256(client, v->label_iv, k->iv, QUIC_IV_LEN) != 0 ||
	    crypto_hkdf_expand_label_sha256(client, v->label_hp, k->hp, QUIC_HP_LEN) != 0)
		return -1;
	return 0;
}

/* RFC 9000 17.1 and A.3: the full packet number from its truncated form, closest to
 * the next expected one. With no packet opened yet the truncated value is used (as the
 * algorithm gives for expected_pn 0). */
static uint64_t quic_pn_decode(const struct l7_quic_crypto *acc, uint64_t truncated,
			       unsigned nbits)
{
	uint64_t expected = acc->has_pn ? acc->largest_pn + 1 : 0;
	uint64_t win = 1ull << nbits;
	uint64_t hwin = win / 2;
	uint64_t cand = (expected & ~(win - 1)) | truncated;

	if (cand + hwin <= expected && cand < (1ull << 62) - win)
		return cand + win;
	if (cand > expected + hwin && cand >= win)
		return cand - win;
	return cand;
}

/* A whole Initial packet (first byte to the end of its Length), with the Packet Number
 * at pn_off, checked by the caller to leave room for the header protection sample. */
struct quic_packet {
	const uint8_t *p;
	size_t len;
	size_t pn_off;
};

/* Remove header protection (RFC 9001 5.4.1) and packet protection (5.3) with keys k.
 * The plaintext goes to out (L7_QUIC_PAYLOAD_MAX bytes), its length to *out_len, the
 * packet number to *pn. Returns -1 if the packet does not open with these keys. */
static int quic_open(const struct quic_packet *pkt, const struct quic_keys *k,
		     const struct l7_quic_crypto *acc, uint8_t *out, size_t *out_len,
		     uint64_t *pn)
{
	uint8_t header[L7_QUIC_HEADER_MAX];
	uint8_t mask[CRYPTO_AES_BLOCK_LEN];
	uint8_t nonce[QUIC_IV_LEN];
	struct cur c = cur_make(pkt->p, pkt->len);
	const uint8_t *sample, *hdr, *ct;
	size_t pn_len, hdr_len, ct_len;
	uint64_t truncated = 0;

	/* 5.4.2: the sample starts 4 bytes after the Packet Number field begins. */
	cur_seek(&c, pkt->pn_off + QUIC_PN_MAX_LEN);
	sample = cur_bytes(&c, QUIC_SAMPLE_LEN);
	if (sample == NULL || crypto_aes128_ecb_block(k->hp, sample, mask) != 0)
		return -1;
	/* 5.4.1: long headers protect the low 4 bits of the first byte; the Packet Number
	 * Length is then in the low 2 bits. */
	cur_seek(&c, 0);
	hdr = cur_ptr(&c);
	pn_len = (size_t)((cur_peek_u8(&c, 0) ^ mask[0]) & 0x03) + 1;
	hdr_len = pkt->pn_off + pn_len;
	if (hdr_len > sizeof(header) || !cur_need(&c, hdr_len))
		return -1;
	memcpy(header, hdr, hdr_len);
	header[0] ^= mask[0] & 0x0f;
	for (size_t i = 0; i < pn_len; i++) {
		header[pkt->pn_off + i] ^= mask[1 + i];
		truncated = truncated << 8 | header[pkt->pn_off + i];
	}
	cur_skip(&c, hdr_len);
	ct_len = cur_left(&c);
	ct = cur_bytes(&c, ct_len);
	if (ct == NULL || ct_len < QUIC_TAG_LEN || ct_len - QUIC_TAG_LEN > L7_QUIC_PAYLOAD_MAX)
		return -1;
	*pn = quic_pn_decode(acc, truncated, (unsigned)(pn_len * 8));
	/* 5.3: the nonce is the IV XORed with the packet number, left-padded to 12 bytes. */
	memcpy(nonce, k->iv, sizeof(nonce));
	for (size_t i = 0; i < 8; i++)
		nonce[QUIC_IV_LEN - 1 - i] ^= (uint8_t)(*pn >> (8 * i));
	/* The AAD is the header with header protection removed, up to the packet number. */
	if (crypto_aes128_gcm_open(k->key, nonce, header, hdr_len, ct, ct_len, out) != 0)
		return -1;
	*out_len = ct_len - QUIC_TAG_LEN;
	return 0;
}

static void quic_keys_store(struct l7_quic_crypto *acc, const struct quic_version *v,
			    const uint8_t *dcid, size_t dcid_len, const struct quic_keys *k)
{
	acc->has_keys = true;
	acc->version = v->version;
	acc->dcid_len = (uint8_t)dcid_len;
	memcpy(acc->dcid, dcid, dcid_len);
	memcpy(acc->key, k->key, sizeof(acc->key));
	memcpy(acc->iv, k->iv, sizeof(acc->iv));
	memcpy(acc->hp, k->hp, sizeof(acc->hp));
}

/* Open one Initial and read its frames. Keys come from acc when it holds those of this
 * DCID; otherwise they are derived from the DCID, and if that fails the keys in acc are
 * tried as well (a client's later Initials carry the DCID the server chose, but are
 * still protected with the keys of the first one, RFC 9001 5.2). */
static enum quic_pkt quic_initial(const struct quic_packet *pkt, const struct quic_version *v,
				  const uint8_t *dcid, size_t dcid_len,
				  struct l7_quic_crypto *acc, bool *frames_ok)
{
	uint8_t payload[L7_QUIC_PAYLOAD_MAX];
	struct quic_keys k, cached;
	bool have_cached = acc->has_keys && acc->version == v->version &&
			   acc->dcid_len <= L7_QUIC_CID_MAX;
	bool same_dcid = have_cached && acc->dcid_len == dcid_len &&
			 memcmp(acc->dcid, dcid, dcid_len) == 0;
	size_t n = 0;
	uint64_t pn = 0;

	if (have_cached) {
		memcpy(cached.key, acc->key, sizeof(cached.key));
		memcpy(cached.iv, acc->iv, sizeof(cached.iv));
		memcpy(cached.hp, acc->hp, sizeof(cached.hp));
	}
	if (same_dcid) {
		if (quic_open(pkt, &cached, acc, payload, &n, &pn) != 0)
			return QUIC_PKT_SKIPPED;
	} else if (quic_derive_keys(v, dcid, dcid_len, &k) == 0 &&
		   quic_open(pkt, &k, acc, payload, &n, &pn) == 0) {
		quic_keys_store(acc, v, dcid, dcid_len, &k);
	} else if (!have_cached || quic_open(pkt, &cached, acc, payload, &n, &pn) != 0) {
		return QUIC_PKT_SKIPPED;
	}
	/* RFC 9000 17.2 says the Reserved Bits must be 0 once unprotected; they are not
	 * checked: the AEAD already vouched for the packet, and a passive reader gains
	 * nothing by refusing it. */
	if (!acc->has_pn || pn > acc->largest_pn)
		acc->largest_pn = pn;
	acc->has_pn = true;
	acc->n_packets++;
	*frames_ok = quic_frames(payload, n, acc);
	return QUIC_PKT_OPENED;
}

/* ---- datagrams (RFC 9000 17.2, 12.2) -------------------------------------------- */

/* What the packets of one datagram share: the first packet's DCID, as later packets
 * with another DCID are not read (RFC 9000 12.2). */
struct quic_dgram {
	bool have_dcid;
	const uint8_t *dcid;
	size_t dcid_len;
};

/* The packet at the cursor; the cursor moves past it. */
static enum quic_pkt quic_packet(struct cur *d, struct l7_quic_crypto *acc,
				 struct quic_dgram *dg, bool *frames_ok)
{
	const uint8_t *start = cur_ptr(d);
	size_t off0 = d->off;
	const struct quic_version *v;
	const uint8_t *dcid;
	uint8_t first, type, dcid_len, scid_len;
	uint64_t token_len = 0, length;
	struct quic_packet pkt;

	/* 17.2: Header Form (1) = 1, Fixed Bit (1), Long Packet Type (2), Type-Specific
	 * Bits (4), Version (32), DCID Length (8), DCID, SCID Length (8), SCID. A short
	 * header (17.3) carries 1-RTT data and runs to the end of the datagram. The Fixed
	 * Bit is not checked: RFC 9287 lets a client clear it. */
	first = cur_u8(d);
	if (!cur_ok(d) || !(first & 0x80) || cur_left(d) < 4)
		return QUIC_PKT_STOP;
	/* 17.2.1: Version 0 is Version Negotiation; other versions are not read here. */
	v = quic_version_find(cur_be32(d));
	if (v == NULL)
		return QUIC_PKT_STOP;
	dcid_len = cur_u8(d);
	if (dcid_len > L7_QUIC_CID_MAX)
		return QUIC_PKT_BROKEN;
	dcid = cur_bytes(d, dcid_len);
	scid_len = cur_u8(d);
	if (scid_len > L7_QUIC_CID_MAX)
		return QUIC_PKT_BROKEN;
	cur_skip(d, scid_len);
	if (!cur_ok(d))
		return QUIC_PKT_BROKEN;
	if (!dg->have_dcid) {
		dg->have_dcid = true;
		dg->dcid = dcid;
		dg->dcid_len = dcid_len;
	} else if (dg->dcid_len != dcid_len ||
		   (dcid_len > 0 && memcmp(dg->dcid, dcid, dcid_len) != 0)) {
		return QUIC_PKT_STOP;
	}
	type = (first >> 4) & 0x03;
	/* 17.2.5: a Retry has no Length field and ends the datagram. */
	if (type == v->type_retry)
		return QUIC_PKT_STOP;
	/* 17.2.2: Initial has Token Length (i) and Token before Length (i). */
	if (type == v->type_initial) {
		token_len = quic_varint(d);
		if (!cur_ok(d) || token_len > cur_left(d))
			return QUIC_PKT_BROKEN;
		cur_skip(d, (size_t)token_len);
	}
	length = quic_varint(d);		/* Packet Number and Packet Payload */
	if (!cur_ok(d) || length > cur_left(d))
		return QUIC_PKT_BROKEN;
	pkt.p = start;
	pkt.pn_off = d->off - off0;
	cur_skip(d, (size_t)length);
	pkt.len = d->off - off0;
	if (type != v->type_initial)
		return QUIC_PKT_SKIPPED;	/* 0-RTT or Handshake */
	/* RFC 9001 5.4.2: the packet must hold the sample taken 4 bytes past pn_off. */
	if (length < QUIC_PN_MAX_LEN + QUIC_SAMPLE_LEN)
		return QUIC_PKT_BROKEN;
	return quic_initial(&pkt, v, dcid, dcid_len, acc, frames_ok);
}

enum l7_result l7_quic_initial(const uint8_t *dgram, size_t len, struct l7_quic_crypto *acc)
{
	struct cur d = cur_make(dgram, len);
	struct quic_dgram dg = { false, NULL, 0 };
	enum l7_result st;
	unsigned opened = 0;
	bool broken_first = false;
	bool frames_broken = false;
	size_t msg_len;

	st = quic_hello_state(acc, &msg_len);
	if (st == L7_OK || st == L7_MALFORMED)
		return st;
	for (unsigned i = 0; i < L7_QUIC_MAX_PACKETS && cur_left(&d) > 0; i++) {
		bool frames_ok = true;
		enum quic_pkt r = quic_packet(&d, acc, &dg, &frames_ok);

		if (r == QUIC_PKT_OPENED) {
			opened++;
			if (!frames_ok) {
				frames_broken = true;
				break;
			}
		} else if (r == QUIC_PKT_BROKEN) {
			broken_first = i == 0;
			break;
		} else if (r == QUIC_PKT_STOP) {
			break;
		}
	}
	if (opened == 0)
		return broken_first ? L7_MALFORMED : L7_NOT_THIS;
	st = quic_hello_state(acc, &msg_len);
	if (frames_broken && st != L7_OK)
		return L7_MALFORMED;
	return st;
}
