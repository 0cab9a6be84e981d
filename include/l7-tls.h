/* l7-tls.h: the TLS ClientHello parser: server name, ALPN, versions and ECH from the
 * first bytes a client sends on a TLS connection. */
#ifndef EGRESSD_L7_TLS_H
#define EGRESSD_L7_TLS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "l7.h"

#define L7_TLS_SNI_MAX 255	/* bytes of host_name kept (RFC 6066 allows 2^16-1) */
#define L7_TLS_ALPN_MAX 128	/* chars of the comma-joined ALPN list kept */
#define L7_TLS_MAX_EXTENSIONS 64
#define L7_TLS_MAX_ALPN 16
/* Largest ClientHello handshake message (header included) that is reassembled from
 * several records; a bigger one is parsed as far as this prefix goes, then reported
 * L7_MALFORMED. Equal to the largest record payload, so one record always fits. */
#define L7_TLS_HELLO_MAX 16384
#define L7_TLS_MAX_RECORDS 1024

struct l7_tls_hello {
	uint16_t record_version;	/* legacy_record_version of the first record */
	uint16_t legacy_version;	/* ClientHello.legacy_version */
	uint16_t max_version;		/* highest non-GREASE supported_versions entry, else
					 * legacy_version */
	bool has_sni;
	bool sni_truncated;		/* host_name longer than L7_TLS_SNI_MAX */
	char sni[L7_TLS_SNI_MAX + 1];	/* first host_name, lowercased, NUL -> '?' */
	uint8_t alpn_count;		/* protocol names seen (at most L7_TLS_MAX_ALPN) */
	bool alpn_truncated;		/* more names than kept, or did not fit */
	char alpn[L7_TLS_ALPN_MAX + 1];	/* e.g. "h2,http/1.1"; names kept as sent */
	bool offers_tls13;		/* supported_versions contains 0x0304 */
	bool has_ech;			/* encrypted_client_hello (0xfe0d) present */
	bool extensions_capped;		/* more than L7_TLS_MAX_EXTENSIONS; rest ignored */
	uint16_t n_extensions;		/* extensions looked at */
	uint16_t n_records;		/* TLS records the ClientHello was spread over */
};

/* Parse the ClientHello at the start of a client's TCP stream. data is the stream from
 * its first byte (as much as has been reassembled). Returns L7_NOT_THIS if the stream
 * does not start with a TLS handshake record holding a ClientHello, L7_NEED_MORE while
 * the ClientHello is incomplete, L7_MALFORMED (with the fields found before the damage)
 * on a broken record or message, and L7_OK once the whole message was read. The message
 * may be spread over several handshake records; records after it are not looked at.
 * Uses about L7_TLS_HELLO_MAX bytes of stack. */
enum l7_result l7_tls_client_hello(const uint8_t *data, size_t len, struct l7_tls_hello *out);

/* Cheap test of the first (up to) 3 bytes: a handshake record (0x16) of version 3.0 to
 * 3.4. True if the bytes present are consistent with that; false for len 0. */
/* The same for a bare ClientHello handshake message (type byte onwards), as QUIC carries
 * it (no TLS record layer). */
enum l7_result l7_tls_client_hello_message(const uint8_t *msg, size_t len,
					   struct l7_tls_hello *out);

bool l7_tls_looks_like(const uint8_t *data, size_t len);

#endif
