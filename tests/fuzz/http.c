/* http.c: libFuzzer target for the HTTP/1.x request parser (the start of a client's TCP
 * stream). */
#include "fuzz.h"
#include "l7-http.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct l7_http_req q;
	uint8_t *buf = fuzz_dup(data, size);

	memset(&q, 0, sizeof(q));
	if (size)
		(void)l7_http_looks_like(buf, size);
	enum l7_result r = l7_http_request(buf, size, &q);
	FUZZ_CHECK(r == L7_OK || r == L7_NEED_MORE || r == L7_NOT_THIS || r == L7_MALFORMED);
	FUZZ_CHECK(strlen(q.method) <= L7_HTTP_METHOD_MAX);
	FUZZ_CHECK(strlen(q.target) <= L7_HTTP_TARGET_MAX);
	FUZZ_CHECK(strlen(q.host) <= L7_HTTP_HOST_MAX);
	FUZZ_CHECK(strlen(q.user_agent) <= L7_HTTP_UA_MAX);
	FUZZ_CHECK(!q.headers_complete || q.header_len <= size);
	free(buf);
	return 0;
}
