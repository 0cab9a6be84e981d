/* decode.c: libFuzzer target for the whole-packet decoder (decode_packet) and the flow
 * key of every layer it returns.
 *
 * Input: byte 0 picks the link type (modulo the supported DECODE_LINK_* values), byte 1
 * the wire length (high bit clear: the frame was captured whole; set: it was cut by a
 * snaplen and the wire carried (byte & 0x7f) * 64 more bytes); the rest is the frame.
 */
#include <stdbool.h>

#include "anomaly.h"
#include "decode.h"
#include "flow.h"
#include "fuzz.h"

static const int links[] = {
	DECODE_LINK_NULL,	  DECODE_LINK_ETHERNET,	  DECODE_LINK_PPP,
	DECODE_LINK_RAW,	  DECODE_LINK_RAW_OPENBSD, DECODE_LINK_PPP_SERIAL,
	DECODE_LINK_PPP_ETHER,	  DECODE_LINK_RAW_LINKTYPE, DECODE_LINK_LOOP,
	DECODE_LINK_LINUX_SLL,	  DECODE_LINK_IPV4,	  DECODE_LINK_IPV6,
	DECODE_LINK_NFLOG,	  DECODE_LINK_LINUX_SLL2,
};
#define NLINKS (sizeof(links) / sizeof(links[0]))

/* A layer's payload lies inside the frame it was decoded from. */
static void check_layer(const struct pkt_layer *l, const uint8_t *frame, uint32_t caplen)
{
	FUZZ_CHECK(l->family == 4 || l->family == 6);
	FUZZ_CHECK(l->payload_cap <= caplen);
	if (l->payload_cap) {
		FUZZ_CHECK(l->payload >= frame);
		FUZZ_CHECK(l->payload + l->payload_cap <= frame + caplen);
	}
}

/* The key is the same from either end of a TCP/UDP conversation. */
static void check_key(const struct pkt_layer *l)
{
	struct flow_key k, rk;
	struct pkt_layer r = *l;

	int side = flow_key_from_layer(l, &k);
	FUZZ_CHECK(side == 0 || side == 1);
	if (l->proto != 6 && l->proto != 17)
		return;
	memcpy(r.src, l->dst, sizeof(r.src));
	memcpy(r.dst, l->src, sizeof(r.dst));
	r.sport = l->dport;
	r.dport = l->sport;
	int rside = flow_key_from_layer(&r, &rk);
	FUZZ_CHECK(memcmp(&k, &rk, sizeof(k)) == 0);
	if (memcmp(l->src, l->dst, 16) != 0 || l->sport != l->dport)
		FUZZ_CHECK(side != rside);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct anomaly_counts anom;
	struct decoder d;
	struct pkt pkt;

	if (size < 2 || size > 65535)
		return 0;
	int link = links[data[0] % NLINKS];
	uint32_t caplen = (uint32_t)(size - 2);
	uint32_t wirelen = caplen + (data[1] & 0x80 ? (uint32_t)(data[1] & 0x7f) * 64 : 0);
	uint8_t *frame = fuzz_dup(data + 2, caplen);

	memset(&anom, 0, sizeof(anom));
	decoder_init(&d, &anom);
	FUZZ_CHECK(decode_link_supported(link));
	int n = decode_packet(&d, link, frame, caplen, wirelen, &pkt);
	FUZZ_CHECK(n >= 0 && n <= PKT_MAX_LAYERS && n == pkt.nlayers);
	for (int i = 0; i < n; i++) {
		check_layer(&pkt.layer[i], frame, caplen);
		check_key(&pkt.layer[i]);
	}
	free(frame);
	return 0;
}
