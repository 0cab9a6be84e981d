/* tls.c: libFuzzer target for the TLS ClientHello parser: the input as the start of a
 * client's TCP stream (records), and as a bare handshake message (as QUIC carries it). */
#include "fuzz.h"
#include "l7-tls.h"

static void check(enum l7_result r, const struct l7_tls_hello *h)
{
	FUZZ_CHECK(r == L7_OK || r == L7_NEED_MORE || r == L7_NOT_THIS || r == L7_MALFORMED);
	FUZZ_CHECK(strlen(h->sni) <= L7_TLS_SNI_MAX);
	FUZZ_CHECK(strlen(h->alpn) <= L7_TLS_ALPN_MAX);
	FUZZ_CHECK(h->n_extensions <= L7_TLS_MAX_EXTENSIONS);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct l7_tls_hello h;
	uint8_t *buf = fuzz_dup(data, size);

	memset(&h, 0, sizeof(h));
	(void)l7_tls_looks_like(buf, size);
	check(l7_tls_client_hello(buf, size, &h), &h);
	memset(&h, 0, sizeof(h));
	check(l7_tls_client_hello_message(buf, size, &h), &h);
	free(buf);
	return 0;
}
