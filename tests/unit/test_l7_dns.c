/* test_l7_dns.c: unit tests of the DNS message parser (sensor/l7-dns.c) on messages
 * built from RFC 1035 4.1 (incl. compression, 4.1.4) and on captured ones. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "l7-dns.h"
#include "l7-robust.h"

/* A response laid out field by field (RFC 1035 4.1.1-4.1.4). Checked with text2pcap +
 * tshark: www.example.com CNAME web.example.com (TTL 3600), web.example.com A
 * 93.184.216.34 (TTL 300), web.example.com AAAA 2606:2800:220:1:248:1893:25c8:1946
 * (TTL 2147483648). */
static const uint8_t rfc_resp[95] = {
	/* ID 0x1234; QR=1 opcode 0 RD=1 RA=1 rcode 0; QD 1, AN 3, NS 0, AR 0 */
	0x12, 0x34, 0x81, 0x80, 0x00, 0x01, 0x00, 0x03, 0x00, 0x00, 0x00, 0x00,
	/* offset 12: QNAME www.example.com ("example" at 16, "com" at 24) */
	0x03, 'w', 'w', 'w', 0x07, 'e', 'x', 'a', 'm', 'p', 'l', 'e', 0x03, 'c', 'o', 'm', 0x00,
	/* QTYPE A, QCLASS IN */
	0x00, 0x01, 0x00, 0x01,
	/* offset 33: NAME -> 12, CNAME, IN, TTL 3600, RDLENGTH 6,
	 * RDATA (offset 45) "web" + pointer to 16 */
	0xc0, 0x0c, 0x00, 0x05, 0x00, 0x01, 0x00, 0x00, 0x0e, 0x10, 0x00, 0x06,
	0x03, 'w', 'e', 'b', 0xc0, 0x10,
	/* offset 51: NAME -> 45 (-> 16), A, IN, TTL 300, 93.184.216.34 */
	0xc0, 0x2d, 0x00, 0x01, 0x00, 0x01, 0x00, 0x00, 0x01, 0x2c, 0x00, 0x04,
	0x5d, 0xb8, 0xd8, 0x22,
	/* offset 67: NAME -> 45, AAAA, IN, TTL 2^31 (RFC 2181 8: read as 0) */
	0xc0, 0x2d, 0x00, 0x1c, 0x00, 0x01, 0x80, 0x00, 0x00, 0x00, 0x00, 0x10,
	0x26, 0x06, 0x28, 0x00, 0x02, 0x20, 0x00, 0x01, 0x02, 0x48, 0x18, 0x93,
	0x25, 0xc8, 0x19, 0x46,
};

/* Captured messages (udp.payload via tshark). Expected values are tshark's. */

/* zeek/dns/dns-corrupt.pcap frame 2: ID 0xb823, flags 0x8180, zeek.org A IN;
 * answers A 192.0.78.212 and A 192.0.78.150, TTL 60; 1 additional (OPT) */
static const uint8_t dns_zeek_a[69] = {
	0xb8, 0x23, 0x81, 0x80, 0x00, 0x01, 0x00, 0x02, 0x00, 0x00, 0x00, 0x01,
	0x04, 0x7a, 0x65, 0x65, 0x6b, 0x03, 0x6f, 0x72, 0x67, 0x00, 0x00, 0x01,
	0x00, 0x01, 0xc0, 0x0c, 0x00, 0x01, 0x00, 0x01, 0x00, 0x00, 0x00, 0x3c,
	0x00, 0x04, 0xc0, 0x00, 0x4e, 0xd4, 0xc0, 0x0c, 0x00, 0x01, 0x00, 0x01,
	0x00, 0x00, 0x00, 0x3c, 0x00, 0x04, 0xc0, 0x00, 0x4e, 0x96, 0x00, 0x00,
	0x29, 0x02, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
};

/* ndpi/vxlan.pcap frame 27 (inner UDP): ID 0x2b36, www.facebook.com AAAA; answers
 * CNAME star-mini.c10r.facebook.com (TTL 2681), AAAA 2a03:2880:f165:81:face:b00c:0:25de
 * (TTL 60), the AAAA owner a pointer into the CNAME's RDATA */
static const uint8_t dns_fb_aaaa[91] = {
	0x2b, 0x36, 0x81, 0x80, 0x00, 0x01, 0x00, 0x02, 0x00, 0x00, 0x00, 0x00,
	0x03, 0x77, 0x77, 0x77, 0x08, 0x66, 0x61, 0x63, 0x65, 0x62, 0x6f, 0x6f,
	0x6b, 0x03, 0x63, 0x6f, 0x6d, 0x00, 0x00, 0x1c, 0x00, 0x01, 0xc0, 0x0c,
	0x00, 0x05, 0x00, 0x01, 0x00, 0x00, 0x0a, 0x79, 0x00, 0x11, 0x09, 0x73,
	0x74, 0x61, 0x72, 0x2d, 0x6d, 0x69, 0x6e, 0x69, 0x04, 0x63, 0x31, 0x30,
	0x72, 0xc0, 0x10, 0xc0, 0x2e, 0x00, 0x1c, 0x00, 0x01, 0x00, 0x00, 0x00,
	0x3c, 0x00, 0x10, 0x2a, 0x03, 0x28, 0x80, 0xf1, 0x65, 0x00, 0x81, 0xfa,
	0xce, 0xb0, 0x0c, 0x00, 0x00, 0x25, 0xde,
};

/* zeek/pcapng-multi-interface.pcapng frame 6: ID 0x0005, google.com AAAA; 4 AAAA
 * answers 2607:f8b0:4023:2007::66, ::8b, ::71, ::8a, TTL 112 */
static const uint8_t dns_google_aaaa[140] = {
	0x00, 0x05, 0x81, 0x80, 0x00, 0x01, 0x00, 0x04, 0x00, 0x00, 0x00, 0x00,
	0x06, 0x67, 0x6f, 0x6f, 0x67, 0x6c, 0x65, 0x03, 0x63, 0x6f, 0x6d, 0x00,
	0x00, 0x1c, 0x00, 0x01, 0xc0, 0x0c, 0x00, 0x1c, 0x00, 0x01, 0x00, 0x00,
	0x00, 0x70, 0x00, 0x10, 0x26, 0x07, 0xf8, 0xb0, 0x40, 0x23, 0x20, 0x07,
	0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x66, 0xc0, 0x0c, 0x00, 0x1c,
	0x00, 0x01, 0x00, 0x00, 0x00, 0x70, 0x00, 0x10, 0x26, 0x07, 0xf8, 0xb0,
	0x40, 0x23, 0x20, 0x07, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x8b,
	0xc0, 0x0c, 0x00, 0x1c, 0x00, 0x01, 0x00, 0x00, 0x00, 0x70, 0x00, 0x10,
	0x26, 0x07, 0xf8, 0xb0, 0x40, 0x23, 0x20, 0x07, 0x00, 0x00, 0x00, 0x00,
	0x00, 0x00, 0x00, 0x71, 0xc0, 0x0c, 0x00, 0x1c, 0x00, 0x01, 0x00, 0x00,
	0x00, 0x70, 0x00, 0x10, 0x26, 0x07, 0xf8, 0xb0, 0x40, 0x23, 0x20, 0x07,
	0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x8a,
};

/* suricata-verify dns/dns-udp-eve-txt frame 2: ID 0x6e53, google.com TXT; 1 TXT answer
 * "v=spf1 include:_spf.google.com ~all", 1 additional (OPT) */
static const uint8_t dns_txt[87] = {
	0x6e, 0x53, 0x81, 0x80, 0x00, 0x01, 0x00, 0x01, 0x00, 0x00, 0x00, 0x01,
	0x06, 0x67, 0x6f, 0x6f, 0x67, 0x6c, 0x65, 0x03, 0x63, 0x6f, 0x6d, 0x00,
	0x00, 0x10, 0x00, 0x01, 0xc0, 0x0c, 0x00, 0x10, 0x00, 0x01, 0x00, 0x00,
	0x0c, 0x91, 0x00, 0x24, 0x23, 0x76, 0x3d, 0x73, 0x70, 0x66, 0x31, 0x20,
	0x69, 0x6e, 0x63, 0x6c, 0x75, 0x64, 0x65, 0x3a, 0x5f, 0x73, 0x70, 0x66,
	0x2e, 0x67, 0x6f, 0x6f, 0x67, 0x6c, 0x65, 0x2e, 0x63, 0x6f, 0x6d, 0x20,
	0x7e, 0x61, 0x6c, 0x6c, 0x00, 0x00, 0x29, 0x10, 0x00, 0x00, 0x00, 0x00,
	0x00, 0x00, 0x00,
};

/* zeek/dns-txt-multiple.pcap frame 2: ID 0x6daf, flags 0x8500 (AA), flkr._domainkey.
 * flickr.com TXT; answers CNAME, CNAME, TXT; 5 authority, 5 additional */
static const uint8_t dns_flickr[508] = {
	0x6d, 0xaf, 0x85, 0x00, 0x00, 0x01, 0x00, 0x03, 0x00, 0x05, 0x00, 0x05,
	0x04, 0x66, 0x6c, 0x6b, 0x72, 0x0a, 0x5f, 0x64, 0x6f, 0x6d, 0x61, 0x69,
	0x6e, 0x6b, 0x65, 0x79, 0x06, 0x66, 0x6c, 0x69, 0x63, 0x6b, 0x72, 0x03,
	0x63, 0x6f, 0x6d, 0x00, 0x00, 0x10, 0x00, 0x01, 0xc0, 0x0c, 0x00, 0x05,
	0x00, 0x01, 0x00, 0x00, 0x03, 0x84, 0x00, 0x07, 0x04, 0x66, 0x61, 0x31,
	0x34, 0xc0, 0x11, 0xc0, 0x38, 0x00, 0x05, 0x00, 0x01, 0x00, 0x00, 0x03,
	0x84, 0x00, 0x18, 0x04, 0x66, 0x61, 0x31, 0x34, 0x0a, 0x5f, 0x64, 0x6f,
	0x6d, 0x61, 0x69, 0x6e, 0x6b, 0x65, 0x79, 0x05, 0x79, 0x61, 0x68, 0x6f,
	0x6f, 0xc0, 0x23, 0xc0, 0x4b, 0x00, 0x10, 0x00, 0x01, 0x00, 0x00, 0x1c,
	0x20, 0x00, 0xe3, 0x7f, 0x6b, 0x3d, 0x72, 0x73, 0x61, 0x3b, 0x20, 0x70,
	0x3d, 0x4d, 0x49, 0x47, 0x66, 0x4d, 0x41, 0x30, 0x47, 0x43, 0x53, 0x71,
	0x47, 0x53, 0x49, 0x62, 0x33, 0x44, 0x51, 0x45, 0x42, 0x41, 0x51, 0x55,
	0x41, 0x41, 0x34, 0x47, 0x4e, 0x41, 0x44, 0x43, 0x42, 0x69, 0x51, 0x4b,
	0x42, 0x67, 0x51, 0x44, 0x50, 0x64, 0x50, 0x66, 0x79, 0x4a, 0x4d, 0x32,
	0x52, 0x32, 0x47, 0x71, 0x4d, 0x79, 0x5a, 0x4d, 0x31, 0x66, 0x6c, 0x54,
	0x7a, 0x46, 0x65, 0x44, 0x49, 0x55, 0x2b, 0x65, 0x37, 0x4b, 0x6d, 0x69,
	0x4b, 0x52, 0x77, 0x35, 0x79, 0x7a, 0x33, 0x58, 0x68, 0x74, 0x2b, 0x63,
	0x67, 0x45, 0x49, 0x69, 0x48, 0x6d, 0x6d, 0x35, 0x6c, 0x49, 0x47, 0x42,
	0x75, 0x57, 0x43, 0x63, 0x35, 0x72, 0x74, 0x69, 0x79, 0x30, 0x43, 0x63,
	0x78, 0x65, 0x50, 0x70, 0x71, 0x63, 0x63, 0x50, 0x4b, 0x6a, 0x6e, 0x62,
	0x48, 0x53, 0x72, 0x44, 0x49, 0x32, 0x33, 0x50, 0x55, 0x2b, 0x48, 0x4f,
	0x75, 0x71, 0x4a, 0x36, 0x65, 0x72, 0x67, 0x45, 0x31, 0x49, 0x4f, 0x73,
	0x4c, 0x36, 0x4c, 0x4f, 0x45, 0x67, 0x47, 0x36, 0x59, 0x54, 0x35, 0x33,
	0x76, 0x4d, 0x62, 0x38, 0x5a, 0x36, 0x55, 0x69, 0x42, 0x53, 0x73, 0x59,
	0x50, 0x6c, 0x72, 0x44, 0x45, 0x43, 0x2b, 0x38, 0x43, 0x55, 0x49, 0x6b,
	0x54, 0x4c, 0x4d, 0x4c, 0x58, 0x4a, 0x61, 0x75, 0x52, 0x4b, 0x35, 0x62,
	0x4e, 0x52, 0x4b, 0x56, 0x31, 0x41, 0x54, 0x47, 0x7a, 0x47, 0x46, 0x70,
	0x66, 0x33, 0x54, 0x6a, 0x5a, 0x74, 0x57, 0x77, 0x49, 0x44, 0x41, 0x51,
	0x41, 0x42, 0xc0, 0x50, 0x00, 0x02, 0x00, 0x01, 0x00, 0x02, 0xa3, 0x00,
	0x00, 0x06, 0x03, 0x6e, 0x73, 0x35, 0xc0, 0x5b, 0xc0, 0x50, 0x00, 0x02,
	0x00, 0x01, 0x00, 0x02, 0xa3, 0x00, 0x00, 0x06, 0x03, 0x6e, 0x73, 0x34,
	0xc0, 0x5b, 0xc0, 0x50, 0x00, 0x02, 0x00, 0x01, 0x00, 0x02, 0xa3, 0x00,
	0x00, 0x06, 0x03, 0x6e, 0x73, 0x33, 0xc0, 0x5b, 0xc0, 0x50, 0x00, 0x02,
	0x00, 0x01, 0x00, 0x02, 0xa3, 0x00, 0x00, 0x06, 0x03, 0x6e, 0x73, 0x32,
	0xc0, 0x5b, 0xc0, 0x50, 0x00, 0x02, 0x00, 0x01, 0x00, 0x02, 0xa3, 0x00,
	0x00, 0x06, 0x03, 0x6e, 0x73, 0x31, 0xc0, 0x5b, 0xc1, 0xa6, 0x00, 0x01,
	0x00, 0x01, 0x00, 0x12, 0x75, 0x00, 0x00, 0x04, 0x44, 0xb4, 0x83, 0x10,
	0xc1, 0x94, 0x00, 0x01, 0x00, 0x01, 0x00, 0x12, 0x75, 0x00, 0x00, 0x04,
	0x44, 0x8e, 0xff, 0x10, 0xc1, 0x82, 0x00, 0x01, 0x00, 0x01, 0x00, 0x12,
	0x75, 0x00, 0x00, 0x04, 0xcb, 0x54, 0xdd, 0x35, 0xc1, 0x70, 0x00, 0x01,
	0x00, 0x01, 0x00, 0x12, 0x75, 0x00, 0x00, 0x04, 0x62, 0x8a, 0x0b, 0x9d,
	0xc1, 0x5e, 0x00, 0x01, 0x00, 0x01, 0x00, 0x12, 0x75, 0x00, 0x00, 0x04,
	0x77, 0xa0, 0xf7, 0x7c,
};

/* ---- a small writer for building variants ---- */

struct wbuf {
	uint8_t b[4096];
	size_t n;
};

static void w8(struct wbuf *w, unsigned v)
{
	assert_true(w->n < sizeof(w->b));
	w->b[w->n++] = (uint8_t)v;
}

static void w16(struct wbuf *w, unsigned v)
{
	w8(w, v >> 8);
	w8(w, v & 0xff);
}

static void w32(struct wbuf *w, uint32_t v)
{
	w16(w, v >> 16);
	w16(w, v & 0xffff);
}

static void wmem(struct wbuf *w, const void *p, size_t n)
{
	assert_true(w->n + n <= sizeof(w->b));
	memcpy(w->b + w->n, p, n);
	w->n += n;
}

static void whdr(struct wbuf *w, unsigned flags, unsigned qd, unsigned an)
{
	w->n = 0;
	w16(w, 0xbeef);
	w16(w, flags);
	w16(w, qd);
	w16(w, an);
	w16(w, 0);
	w16(w, 0);
}

/* A dotted name as uncompressed labels ("" is the root). */
static void wname(struct wbuf *w, const char *dotted)
{
	while (*dotted) {
		const char *dot = strchr(dotted, '.');
		size_t l = dot ? (size_t)(dot - dotted) : strlen(dotted);

		w8(w, (unsigned)l);
		wmem(w, dotted, l);
		dotted += l + (dot ? 1 : 0);
	}
	w8(w, 0);
}

/* RR header after the owner name. */
static void wrr(struct wbuf *w, unsigned type, unsigned klass, uint32_t ttl, unsigned rdlen)
{
	w16(w, type);
	w16(w, klass);
	w32(w, ttl);
	w16(w, rdlen);
}

/* Parse from an exactly sized heap copy, so ASan sees any read past the end. */
static enum l7_result parse(const uint8_t *p, size_t n, struct l7_dns_msg *m)
{
	uint8_t *copy = malloc(n ? n : 1);
	enum l7_result r;

	assert_non_null(copy);
	if (n)
		memcpy(copy, p, n);
	r = l7_dns_parse(copy, n, m);
	free(copy);
	return r;
}

/* ---- tests ---- */

static void test_rfc_response(void **state)
{
	static const uint8_t v6[16] = { 0x26, 0x06, 0x28, 0x00, 0x02, 0x20, 0x00, 0x01,
					0x02, 0x48, 0x18, 0x93, 0x25, 0xc8, 0x19, 0x46 };
	struct l7_dns_msg m;

	(void)state;
	assert_int_equal(parse(rfc_resp, sizeof(rfc_resp), &m), L7_OK);
	assert_int_equal(m.id, 0x1234);
	assert_int_equal(m.flags, 0x8180);
	assert_true(m.qr);
	assert_int_equal(m.opcode, 0);
	assert_int_equal(m.rcode, 0);
	assert_int_equal(m.qdcount, 1);
	assert_int_equal(m.ancount, 3);
	assert_true(m.has_question);
	assert_false(m.qname_truncated);
	assert_string_equal(m.qname, "www.example.com");
	assert_int_equal(m.qtype, L7_DNS_TYPE_A);
	assert_int_equal(m.qclass, 1);
	assert_int_equal(m.answers_parsed, 3);
	assert_int_equal(m.n_cname, 1);
	assert_int_equal(m.n_a, 1);
	assert_int_equal(m.n_aaaa, 1);
	assert_int_equal(m.n_addrs, 2);
	assert_int_equal(m.addrs[0].family, 4);
	assert_memory_equal(m.addrs[0].addr, "\x5d\xb8\xd8\x22", 4);
	assert_int_equal(m.addrs[0].ttl, 300);
	assert_int_equal(m.addrs[1].family, 6);
	assert_memory_equal(m.addrs[1].addr, v6, 16);
	assert_int_equal(m.addrs[1].ttl, 0);
}

/* A cut message is malformed, never "need more"; what came before is kept. */
static void test_truncations(void **state)
{
	struct l7_dns_msg m;

	(void)state;
	for (size_t n = 0; n < sizeof(rfc_resp); n++) {
		assert_int_equal(parse(rfc_resp, n, &m), L7_MALFORMED);
		if (n >= 12)
			assert_int_equal(m.id, 0x1234);
		if (n >= 33) {
			assert_true(m.has_question);
			assert_string_equal(m.qname, "www.example.com");
		}
		if (n >= 67)
			assert_int_equal(m.n_addrs, 1);
	}
}

static void test_captures(void **state)
{
	static const uint8_t fb6[16] = { 0x2a, 0x03, 0x28, 0x80, 0xf1, 0x65, 0x00, 0x81,
					 0xfa, 0xce, 0xb0, 0x0c, 0x00, 0x00, 0x25, 0xde };
	static const uint8_t g6[16] = { 0x26, 0x07, 0xf8, 0xb0, 0x40, 0x23, 0x20, 0x07,
					0, 0, 0, 0, 0, 0, 0, 0x66 };
	static const uint8_t g6_last[] = { 0x66, 0x8b, 0x71, 0x8a };
	struct l7_dns_msg m;

	(void)state;
	assert_int_equal(parse(dns_zeek_a, sizeof(dns_zeek_a), &m), L7_OK);
	assert_int_equal(m.id, 0xb823);
	assert_int_equal(m.flags, 0x8180);
	assert_string_equal(m.qname, "zeek.org");
	assert_int_equal(m.qtype, L7_DNS_TYPE_A);
	assert_int_equal(m.arcount, 1);
	assert_int_equal(m.n_addrs, 2);
	assert_memory_equal(m.addrs[0].addr, "\xc0\x00\x4e\xd4", 4);
	assert_memory_equal(m.addrs[1].addr, "\xc0\x00\x4e\x96", 4);
	assert_int_equal(m.addrs[0].ttl, 60);
	assert_int_equal(m.addrs[1].ttl, 60);

	assert_int_equal(parse(dns_fb_aaaa, sizeof(dns_fb_aaaa), &m), L7_OK);
	assert_int_equal(m.id, 0x2b36);
	assert_string_equal(m.qname, "www.facebook.com");
	assert_int_equal(m.qtype, L7_DNS_TYPE_AAAA);
	assert_int_equal(m.n_cname, 1);
	assert_int_equal(m.n_aaaa, 1);
	assert_int_equal(m.n_addrs, 1);
	assert_int_equal(m.addrs[0].family, 6);
	assert_memory_equal(m.addrs[0].addr, fb6, 16);
	assert_int_equal(m.addrs[0].ttl, 60);

	assert_int_equal(parse(dns_google_aaaa, sizeof(dns_google_aaaa), &m), L7_OK);
	assert_int_equal(m.id, 0x0005);
	assert_string_equal(m.qname, "google.com");
	assert_int_equal(m.n_aaaa, 4);
	assert_int_equal(m.n_addrs, 4);
	assert_memory_equal(m.addrs[0].addr, g6, 16);
	for (int i = 0; i < 4; i++) {
		assert_memory_equal(m.addrs[i].addr, g6, 15);
		assert_int_equal(m.addrs[i].addr[15], g6_last[i]);
		assert_int_equal(m.addrs[i].ttl, 112);
	}

	assert_int_equal(parse(dns_txt, sizeof(dns_txt), &m), L7_OK);
	assert_int_equal(m.id, 0x6e53);
	assert_string_equal(m.qname, "google.com");
	assert_int_equal(m.qtype, L7_DNS_TYPE_TXT);
	assert_int_equal(m.n_txt, 1);
	assert_int_equal(m.n_addrs, 0);

	assert_int_equal(parse(dns_flickr, sizeof(dns_flickr), &m), L7_OK);
	assert_int_equal(m.id, 0x6daf);
	assert_int_equal(m.flags, 0x8500);
	assert_string_equal(m.qname, "flkr._domainkey.flickr.com");
	assert_int_equal(m.ancount, 3);
	assert_int_equal(m.nscount, 5);
	assert_int_equal(m.arcount, 5);
	assert_int_equal(m.n_cname, 2);
	assert_int_equal(m.n_txt, 1);
	assert_int_equal(m.answers_parsed, 3);
}

/* A query; the root name; opcode/rcode bits; name bytes kept and lowercased. */
static void test_names_and_header(void **state)
{
	static const uint8_t odd_label[] = { 4, 'A', 0, '.', 0xff, 3, 'C', 'o', 'M', 0 };
	struct wbuf w;
	struct l7_dns_msg m;

	(void)state;
	/* RFC 1035 4.1.1: QR 0, opcode 2 (STATUS), AA, TC, RD, rcode 3 (NXDOMAIN) */
	whdr(&w, 0x1780, 1, 0);
	wname(&w, "");
	w16(&w, 2);
	w16(&w, 1);
	w.b[3] = 0x83;
	assert_int_equal(parse(w.b, w.n, &m), L7_OK);
	assert_false(m.qr);
	assert_int_equal(m.opcode, 2);
	assert_int_equal(m.rcode, 3);
	assert_int_equal(m.flags, 0x1783);
	assert_string_equal(m.qname, ".");
	assert_int_equal(m.qtype, 2);

	whdr(&w, 0x0100, 1, 0);
	wname(&w, "MiXeD.Example.ORG");
	w16(&w, 28);
	w16(&w, 1);
	assert_int_equal(parse(w.b, w.n, &m), L7_OK);
	assert_string_equal(m.qname, "mixed.example.org");
	assert_int_equal(m.qtype, 28);

	whdr(&w, 0x0100, 1, 0);
	wmem(&w, odd_label, sizeof(odd_label));
	w16(&w, 1);
	w16(&w, 1);
	assert_int_equal(parse(w.b, w.n, &m), L7_OK);
	assert_memory_equal(m.qname, "a?.\xff.com", 9);
	assert_int_equal(strlen(m.qname), 8);

	/* a header alone with no records is fine; shorter is not */
	whdr(&w, 0, 0, 0);
	assert_int_equal(parse(w.b, w.n, &m), L7_OK);
	assert_false(m.has_question);
	assert_string_equal(m.qname, "");
	assert_int_equal(parse(w.b, 11, &m), L7_MALFORMED);
	assert_int_equal(parse(NULL, 0, &m), L7_MALFORMED);
}

/* RFC 1035 4.1.4: a pointer to itself, a two-pointer loop, a forward pointer and a
 * pointer into the header are all refused. */
static void test_bad_pointers(void **state)
{
	struct wbuf w;
	struct l7_dns_msg m;

	(void)state;
	/* QNAME = pointer to 12 (itself) */
	whdr(&w, 0x8180, 1, 0);
	w16(&w, 0xc00c);
	w16(&w, 1);
	w16(&w, 1);
	assert_int_equal(parse(w.b, w.n, &m), L7_MALFORMED);
	assert_false(m.has_question);
	assert_true(m.qname_truncated);

	/* "a" then a pointer back to 12: a loop through one label */
	whdr(&w, 0x8180, 1, 0);
	w8(&w, 1);
	w8(&w, 'a');
	w16(&w, 0xc00c);
	w16(&w, 1);
	w16(&w, 1);
	assert_int_equal(parse(w.b, w.n, &m), L7_MALFORMED);

	/* two pointers inside a NULL RR's RDATA pointing at each other; an answer whose
	 * owner enters the pair at either end */
	for (int entry = 0; entry < 2; entry++) {
		size_t p1, p2;

		whdr(&w, 0x8180, 1, 2);
		wname(&w, "x.example");
		w16(&w, 1);
		w16(&w, 1);
		w16(&w, 0xc00c);
		wrr(&w, L7_DNS_TYPE_NULL, 1, 0, 4);
		p1 = w.n;
		p2 = w.n + 2;
		w16(&w, 0xc000 | (unsigned)p2);
		w16(&w, 0xc000 | (unsigned)p1);
		w16(&w, 0xc000 | (unsigned)(entry ? p2 : p1));
		wrr(&w, L7_DNS_TYPE_A, 1, 0, 4);
		w32(&w, 0x01020304);
		assert_int_equal(parse(w.b, w.n, &m), L7_MALFORMED);
		assert_string_equal(m.qname, "x.example");
		assert_true(m.has_question);
		assert_int_equal(m.n_null, 1);
		assert_int_equal(m.n_addrs, 0);
	}

	/* a forward pointer in the question: to a copy of the name after it */
	whdr(&w, 0x8180, 1, 0);
	w16(&w, 0xc000 | 18);
	w16(&w, 1);
	w16(&w, 1);
	wname(&w, "fwd.example");
	assert_int_equal(parse(w.b, w.n, &m), L7_MALFORMED);

	/* a pointer into the header */
	whdr(&w, 0x8180, 1, 1);
	wname(&w, "x.example");
	w16(&w, 1);
	w16(&w, 1);
	w16(&w, 0xc004);
	wrr(&w, L7_DNS_TYPE_A, 1, 0, 4);
	w32(&w, 0x01020304);
	assert_int_equal(parse(w.b, w.n, &m), L7_MALFORMED);
	assert_string_equal(m.qname, "x.example");

	/* a pointer cut after its first byte */
	whdr(&w, 0x8180, 1, 0);
	w8(&w, 0xc0);
	assert_int_equal(parse(w.b, w.n, &m), L7_MALFORMED);
}

/* At most L7_DNS_MAX_PTR_HOPS pointers per name: a chain of backward pointers kept in
 * a NULL RR's RDATA, entered from the next answer's owner name. */
static void build_chain(struct wbuf *w, unsigned chain)
{
	size_t base;

	whdr(w, 0x8180, 1, 2);
	wname(w, "chain.example");
	w16(w, 1);
	w16(w, 1);
	w16(w, 0xc00c);
	wrr(w, L7_DNS_TYPE_NULL, 1, 0, 2 * chain);
	base = w->n;
	for (unsigned i = 0; i < chain; i++)
		w16(w, 0xc000 | (unsigned)(i == 0 ? 12 : base + 2 * (i - 1)));
	w16(w, 0xc000 | (unsigned)(base + 2 * (chain - 1)));
	wrr(w, L7_DNS_TYPE_A, 1, 10, 4);
	w32(w, 0x0a000001);
}

static void test_pointer_hops(void **state)
{
	struct wbuf w;
	struct l7_dns_msg m;

	(void)state;
	build_chain(&w, L7_DNS_MAX_PTR_HOPS - 1); /* owner pointer + 15 = 16 hops */
	assert_int_equal(parse(w.b, w.n, &m), L7_OK);
	assert_int_equal(m.n_addrs, 1);
	build_chain(&w, L7_DNS_MAX_PTR_HOPS); /* 17 hops */
	assert_int_equal(parse(w.b, w.n, &m), L7_MALFORMED);
	assert_int_equal(m.n_addrs, 0);
	assert_string_equal(m.qname, "chain.example");
}

/* RFC 1035 2.3.4 / 3.1: labels of 63 octets at most (length bytes 0x40-0xbf are the
 * 01/10 label types, refused); names of 255 octets at most. */
static void test_label_and_name_limits(void **state)
{
	char name[600];
	struct wbuf w;
	struct l7_dns_msg m;

	(void)state;
	/* a 63-octet label is fine */
	memset(name, 'b', 63);
	strcpy(name + 63, ".example");
	whdr(&w, 0x0100, 1, 0);
	wname(&w, name);
	w16(&w, 1);
	w16(&w, 1);
	assert_int_equal(parse(w.b, w.n, &m), L7_OK);
	assert_int_equal(strlen(m.qname), 71);

	/* length byte 64 (type 01) and 0x80 (type 10) */
	for (unsigned lb = 0x40; lb <= 0x80; lb += 0x40) {
		whdr(&w, 0x0100, 1, 0);
		w8(&w, lb);
		for (unsigned i = 0; i < (lb & 0x3f) + 64; i++)
			w8(&w, 'c');
		w8(&w, 0);
		w16(&w, 1);
		w16(&w, 1);
		assert_int_equal(parse(w.b, w.n, &m), L7_MALFORMED);
		assert_false(m.has_question);
	}

	/* 127 labels "a": 255 octets, the longest name: 253 chars */
	whdr(&w, 0x0100, 1, 0);
	for (int i = 0; i < 127; i++) {
		w8(&w, 1);
		w8(&w, 'a');
	}
	w8(&w, 0);
	w16(&w, 1);
	w16(&w, 1);
	assert_int_equal(parse(w.b, w.n, &m), L7_OK);
	assert_int_equal(strlen(m.qname), L7_DNS_NAME_MAX);
	assert_false(m.qname_truncated);

	/* 200 labels: over 255 octets; the 253-char prefix is kept and flagged */
	whdr(&w, 0x0100, 1, 0);
	for (int i = 0; i < 200; i++) {
		w8(&w, 1);
		w8(&w, 'a');
	}
	w8(&w, 0);
	w16(&w, 1);
	w16(&w, 1);
	assert_int_equal(parse(w.b, w.n, &m), L7_MALFORMED);
	assert_false(m.has_question);
	assert_true(m.qname_truncated);
	assert_int_equal(strlen(m.qname), L7_DNS_NAME_MAX);
	assert_memory_equal(m.qname, "a.a.a.a.", 8);

	/* four 63-octet labels: 257 octets */
	whdr(&w, 0x0100, 1, 0);
	for (int i = 0; i < 4; i++) {
		w8(&w, 63);
		for (int j = 0; j < 63; j++)
			w8(&w, 'd');
	}
	w8(&w, 0);
	w16(&w, 1);
	w16(&w, 1);
	assert_int_equal(parse(w.b, w.n, &m), L7_MALFORMED);
	assert_true(m.qname_truncated);

	/* long through compression: a 200-octet name, then one reaching it by a pointer
	 * after 60 more octets of labels (over 255 in all) */
	whdr(&w, 0x8180, 1, 1);
	for (int i = 0; i < 4; i++) {
		w8(&w, 49);
		for (int j = 0; j < 49; j++)
			w8(&w, 'e');
	}
	w8(&w, 0);
	w16(&w, 1);
	w16(&w, 1);
	w8(&w, 59);
	for (int j = 0; j < 59; j++)
		w8(&w, 'f');
	w16(&w, 0xc00c);
	wrr(&w, L7_DNS_TYPE_A, 1, 0, 4);
	w32(&w, 0);
	assert_int_equal(parse(w.b, w.n, &m), L7_MALFORMED);
	assert_true(m.has_question);
	assert_int_equal(m.n_addrs, 0);
}

/* RFC 1035 3.4.1 / RFC 3596 2.2: A RDATA is 4 octets, AAAA 16. */
static void test_bad_rdata(void **state)
{
	struct wbuf w;
	struct l7_dns_msg m;

	(void)state;
	whdr(&w, 0x8180, 1, 1);
	wname(&w, "a.example");
	w16(&w, 1);
	w16(&w, 1);
	w16(&w, 0xc00c);
	wrr(&w, L7_DNS_TYPE_A, 1, 0, 5);
	wmem(&w, "\x01\x02\x03\x04\x05", 5);
	assert_int_equal(parse(w.b, w.n, &m), L7_MALFORMED);
	assert_string_equal(m.qname, "a.example");
	assert_int_equal(m.n_addrs, 0);

	whdr(&w, 0x8180, 1, 1);
	wname(&w, "a.example");
	w16(&w, 28);
	w16(&w, 1);
	w16(&w, 0xc00c);
	wrr(&w, L7_DNS_TYPE_AAAA, 1, 0, 4);
	w32(&w, 0);
	assert_int_equal(parse(w.b, w.n, &m), L7_MALFORMED);

	/* RDLENGTH past the end */
	whdr(&w, 0x8180, 1, 1);
	wname(&w, "a.example");
	w16(&w, 16);
	w16(&w, 1);
	w16(&w, 0xc00c);
	wrr(&w, L7_DNS_TYPE_TXT, 1, 0, 100);
	wmem(&w, "\x05hello", 6);
	assert_int_equal(parse(w.b, w.n, &m), L7_MALFORMED);
	assert_int_equal(m.n_txt, 0);
}

/* Counts by type, the 16-address cap, class filter, the record cap and TC. */
static void test_counts_and_caps(void **state)
{
	static const unsigned types[] = { L7_DNS_TYPE_TXT, L7_DNS_TYPE_TXT, L7_DNS_TYPE_NULL,
					  L7_DNS_TYPE_CNAME, L7_DNS_TYPE_MX, 33, 46 };
	struct wbuf w;
	struct l7_dns_msg m;

	(void)state;
	whdr(&w, 0x8180, 1, 7);
	wname(&w, "t.example");
	w16(&w, 255);
	w16(&w, 1);
	for (size_t i = 0; i < sizeof(types) / sizeof(types[0]); i++) {
		w16(&w, 0xc00c);
		wrr(&w, types[i], 1, 0, 3);
		wmem(&w, "\x02hi", 3);
	}
	assert_int_equal(parse(w.b, w.n, &m), L7_OK);
	assert_int_equal(m.n_txt, 2);
	assert_int_equal(m.n_null, 1);
	assert_int_equal(m.n_cname, 1);
	assert_int_equal(m.n_mx, 1);
	assert_int_equal(m.n_other, 2);
	assert_int_equal(m.answers_parsed, 7);

	/* 20 A answers: 16 kept; one of class CH (3) is counted but not kept */
	whdr(&w, 0x8180, 1, 21);
	wname(&w, "many.example");
	w16(&w, 1);
	w16(&w, 1);
	w16(&w, 0xc00c);
	wrr(&w, L7_DNS_TYPE_A, 3, 0, 4);
	w32(&w, 0x7f000001);
	for (unsigned i = 0; i < 20; i++) {
		w16(&w, 0xc00c);
		wrr(&w, L7_DNS_TYPE_A, 1, 0xffffffffu, 4);
		w32(&w, 0x0a000000 | i);
	}
	assert_int_equal(parse(w.b, w.n, &m), L7_OK);
	assert_int_equal(m.n_a, 21);
	assert_int_equal(m.n_addrs, L7_DNS_MAX_ADDRS);
	assert_true(m.addrs_truncated);
	assert_int_equal(m.addrs[0].addr[3], 0);
	assert_int_equal(m.addrs[15].addr[3], 15);
	assert_int_equal(m.addrs[0].ttl, 0);

	/* 100 answers: parsing stops at 64 records (1 question + 63 answers) */
	whdr(&w, 0x8180, 1, 100);
	wname(&w, "cap.example");
	w16(&w, 16);
	w16(&w, 1);
	for (unsigned i = 0; i < 100; i++) {
		w16(&w, 0xc00c);
		wrr(&w, L7_DNS_TYPE_TXT, 1, 0, 1);
		w8(&w, 0);
	}
	assert_int_equal(parse(w.b, w.n, &m), L7_OK);
	assert_int_equal(m.answers_parsed, L7_DNS_MAX_RECORDS - 1);

	/* TC: the message may end at a record boundary before ANCOUNT is reached */
	whdr(&w, 0x8380, 1, 5);
	wname(&w, "tc.example");
	w16(&w, 1);
	w16(&w, 1);
	w16(&w, 0xc00c);
	wrr(&w, L7_DNS_TYPE_A, 1, 5, 4);
	w32(&w, 0x01010101);
	assert_int_equal(parse(w.b, w.n, &m), L7_OK);
	assert_int_equal(m.n_addrs, 1);
	w.b[2] = 0x81; /* without TC the same message is short */
	assert_int_equal(parse(w.b, w.n, &m), L7_MALFORMED);
	assert_int_equal(m.n_addrs, 1);

	/* a second question is read past, only the first is kept */
	whdr(&w, 0x0100, 2, 0);
	wname(&w, "one.example");
	w16(&w, 1);
	w16(&w, 1);
	wname(&w, "two.example");
	w16(&w, 28);
	w16(&w, 1);
	assert_int_equal(parse(w.b, w.n, &m), L7_OK);
	assert_string_equal(m.qname, "one.example");
	assert_int_equal(m.qtype, 1);
}

/* ---- robustness: every prefix and random mutations ---- */

static struct l7_rng fuzz_rng;

static void check_any(const uint8_t *p, size_t n, void *ctx)
{
	struct l7_dns_msg m;
	enum l7_result r = parse(p, n, &m);

	(void)ctx;
	assert_true(r == L7_OK || r == L7_MALFORMED);
	assert_true(strlen(m.qname) <= L7_DNS_NAME_MAX);
	assert_true(m.n_addrs <= L7_DNS_MAX_ADDRS);
	assert_true(m.answers_parsed <= L7_DNS_MAX_RECORDS);
}

/* a random compression pointer */
static void put_pointer(uint8_t *b, size_t n, size_t at, struct l7_rng *rng)
{
	b[at] = 0xc0 | (l7_rng_next(rng) & 0x01);
	if (at + 1 < n)
		b[at + 1] = (uint8_t)(l7_rng_next(rng) % n);
}

static void fuzz_one(const uint8_t *msg, size_t n, unsigned rounds)
{
	static const enum l7_robust_op ops[] = { L7_ROBUST_RANDOM, L7_ROBUST_BITFLIP,
						 L7_ROBUST_CUSTOM, L7_ROBUST_TRUNCATE };
	static const struct l7_robust_opts o = { .ops = ops, .n_ops = 4, .custom = put_pointer };

	l7_robust_run(msg, n, &fuzz_rng, (int)rounds, &o, check_any, NULL);
}

static void test_fuzz(void **state)
{
	(void)state;
	l7_rng_seed(&fuzz_rng, 0x85ebca6b);
	fuzz_one(rfc_resp, sizeof(rfc_resp), 600);
	fuzz_one(dns_fb_aaaa, sizeof(dns_fb_aaaa), 400);
	fuzz_one(dns_flickr, sizeof(dns_flickr), 400);
	fuzz_one(dns_google_aaaa, sizeof(dns_google_aaaa), 300);
}

/* QNAME bytes as they are kept: names of 1 to 7 labels of every length, with every kind
 * of byte (NUL, A-Z and their neighbours, '.', high bytes), checked against the dotted
 * form built here byte by byte. */
static void test_name_bytes(void **state)
{
	static const uint8_t pick[] = { 0, 'A', 'Z', 'a', 'z', '@', '[', '.', '0', 0x80, 0xc1,
					0xdb, 0xff, '-' };
	uint64_t x = 0x9e3779b97f4a7c15ull;
	struct wbuf w;
	struct l7_dns_msg m;
	char want[512];

	(void)state;
	for (int iter = 0; iter < 5000; iter++) {
		size_t wn = 0, wire = 1;
		int nlabels = 1 + iter % 7;

		whdr(&w, 0x0100, 1, 0);
		for (int i = 0; i < nlabels; i++) {
			x ^= x << 13, x ^= x >> 7, x ^= x << 17;
			size_t len = 1 + (x >> 8) % (iter % 3 == 0 ? 63 : 12);
			if (wire + 1 + len > 255)
				break; /* the limit has its own test */
			wire += 1 + len;
			w8(&w, (unsigned)len);
			if (wn > 0)
				want[wn++] = '.';
			for (size_t j = 0; j < len; j++) {
				x ^= x << 13, x ^= x >> 7, x ^= x << 17;
				uint8_t ch = (x >> 20) % 3 ? pick[(x >> 24) % sizeof(pick)]
							   : (uint8_t)(x >> 32);
				w8(&w, ch);
				want[wn++] = (char)(ch == 0 ? '?' : (ch >= 'A' && ch <= 'Z') ? ch + 32 : ch);
			}
		}
		want[wn] = '\0';
		w8(&w, 0);
		w16(&w, 1);
		w16(&w, 1);
		assert_int_equal(parse(w.b, w.n, &m), L7_OK);
		assert_true(m.has_question);
		assert_false(m.qname_truncated);
		assert_int_equal(strlen(m.qname), wn);
		assert_memory_equal(m.qname, want, wn + 1);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_rfc_response),
		cmocka_unit_test(test_truncations),
		cmocka_unit_test(test_captures),
		cmocka_unit_test(test_names_and_header),
		cmocka_unit_test(test_bad_pointers),
		cmocka_unit_test(test_pointer_hops),
		cmocka_unit_test(test_label_and_name_limits),
		cmocka_unit_test(test_name_bytes),
		cmocka_unit_test(test_bad_rdata),
		cmocka_unit_test(test_counts_and_caps),
		cmocka_unit_test(test_fuzz),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
