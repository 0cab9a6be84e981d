/* l7-quic.h: the QUIC Initial reader: removes the Initial packet protection of a QUIC
 * version 1 (RFC 9000, RFC 9001) or version 2 (RFC 9369) client's Initial packets and
 * (and the final drafts 29 to 32, still seen on the wire) reassembles the TLS ClientHello they carry in CRYPTO frames, so a flow over QUIC
 * (HTTP/3) gets its server name like a TLS flow over TCP. Initial keys are derived
 * from the Destination Connection ID on the wire (RFC 9001 5.2), so no secret is
 * needed; the ClientHello itself is parsed by the TLS module.
 */
#ifndef EGRESSD_L7_QUIC_H
#define EGRESSD_L7_QUIC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "l7.h"

#define L7_QUIC_V1 0x00000001u		/* RFC 9000 15 */
#define L7_QUIC_V2 0x6b3343cfu		/* RFC 9369 3.1 */

#define L7_QUIC_CRYPTO_MAX 8192		/* CRYPTO stream bytes kept, from offset 0 */
#define L7_QUIC_RANGES_MAX 16		/* disjoint received ranges remembered */
#define L7_QUIC_CID_MAX 20		/* RFC 9000 17.2: at most 20 bytes in v1 and v2 */
#define L7_QUIC_MAX_PACKETS 8		/* coalesced packets looked at per datagram */
#define L7_QUIC_MAX_FRAMES 256		/* frames looked at per packet (a run of
					 * PADDING counts once) */
#define L7_QUIC_HEADER_MAX 1024		/* longest Initial header (token included) that
					 * can be authenticated; longer ones are skipped */
#define L7_QUIC_PAYLOAD_MAX 8192	/* longest packet payload decrypted; the payload
					 * of a longer Initial is skipped */

/* A byte range [start, end) of the CRYPTO stream that has arrived. */
struct l7_quic_range {
	uint16_t start;
	uint16_t end;
};

/* The state of one QUIC connection's client Initials: the reassembled CRYPTO stream
 * of the Initial packet number space and the keys that opened it. Owned by the
 * caller (about 8.4 KB); all zero bytes (or l7_quic_crypto_init()) is the empty state.
 * Bytes of the stream at or beyond L7_QUIC_CRYPTO_MAX are dropped. Frames may arrive
 * out of order and overlap: up to L7_QUIC_RANGES_MAX disjoint ranges are remembered
 * (when more arrive, the range furthest from the start is forgotten). Where frames
 * overlap, the bytes that came last are kept. */
struct l7_quic_crypto {
	uint8_t buf[L7_QUIC_CRYPTO_MAX];
	uint32_t have_upto;		/* contiguous bytes from offset 0 */
	uint8_t n_ranges;
	struct l7_quic_range ranges[L7_QUIC_RANGES_MAX];	/* sorted, disjoint, not
								 * touching; ranges[0] is
								 * [0, have_upto) once that
								 * is not empty */
	bool has_keys;			/* key/iv/hp below have opened a packet */
	bool has_pn;			/* largest_pn is valid */
	uint8_t dcid_len;		/* the Destination Connection ID they come from */
	uint8_t dcid[L7_QUIC_CID_MAX];
	uint32_t version;		/* L7_QUIC_V1 or L7_QUIC_V2, 0 before the first */
	uint8_t key[16];
	uint8_t iv[12];
	uint8_t hp[16];
	uint64_t largest_pn;		/* largest Initial packet number opened */
	uint32_t n_packets;		/* Initial packets opened */
	uint32_t n_dropped;		/* CRYPTO frames (or parts) not kept: beyond
					 * L7_QUIC_CRYPTO_MAX, or no range slot left */
};

/* True for the versions whose Initials can be opened: 1, 2, and drafts 29 to 32. */
bool l7_quic_version_supported(uint32_t version);

/* Empty the accumulator for a new connection (the buffer itself is not cleared). */
void l7_quic_crypto_init(struct l7_quic_crypto *acc);

/* Read one UDP datagram a QUIC client sent (the UDP payload) into acc. The datagram
 * may hold up to L7_QUIC_MAX_PACKETS coalesced long-header packets (RFC 9000 12.2);
 * every QUIC v1 or v2 Initial among them is unprotected with the client's Initial keys
 * (RFC 9001 5), and the CRYPTO frames in it are added to acc. Returns
 *   L7_OK        acc holds a complete ClientHello (l7_quic_client_hello() returns it);
 *                once this was returned, later calls return it again at once;
 *   L7_NEED_MORE an Initial was opened, but the ClientHello is not complete yet;
 *   L7_NOT_THIS  no client Initial opened: a short header, Version Negotiation, Retry,
 *                another version, other packet types, or an Initial that does not
 *                decrypt with the client keys (e.g. a server's); acc is unchanged;
 *   L7_MALFORMED a v1/v2 long header that is cut short or inconsistent, an opened
 *                Initial whose frames are broken, or a CRYPTO stream that is not a
 *                ClientHello (or one too long for L7_QUIC_CRYPTO_MAX); in that last
 *                case later calls return it again at once.
 * Keys are derived from each Initial's Destination Connection ID; once a packet was
 * opened its keys are kept in acc and tried on later Initials whose DCID is the one the
 * server chose (the client's keys do not change then, RFC 9001 5.2). */
enum l7_result l7_quic_initial(const uint8_t *dgram, size_t len, struct l7_quic_crypto *acc);

/* The ClientHello handshake message (from its type byte, 4-byte header included) and
 * its length in *len, once acc holds all of it; NULL (and *len 0) before. */
const uint8_t *l7_quic_client_hello(const struct l7_quic_crypto *acc, size_t *len);

#endif
