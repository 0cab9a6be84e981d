/* l7-http.h: the HTTP/1.x request parser: method, target, version and the Host,
 * Content-Length and User-Agent header fields of the first request on a connection. */
#ifndef EGRESSD_L7_HTTP_H
#define EGRESSD_L7_HTTP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "l7.h"

#define L7_HTTP_METHOD_MAX 9	/* "PROPPATCH" */
#define L7_HTTP_TARGET_MAX 512
#define L7_HTTP_HOST_MAX 255
#define L7_HTTP_UA_MAX 256
#define L7_HTTP_MAX_LINES 100	/* header field lines read */

struct l7_http_req {
	char method[L7_HTTP_METHOD_MAX + 1];	/* one of the known methods, as sent */
	char target[L7_HTTP_TARGET_MAX + 1];	/* request-target as sent, NUL -> '?' */
	bool target_truncated;
	uint8_t version_major;			/* HTTP-version "HTTP/1.1" -> 1, 1 */
	uint8_t version_minor;
	bool has_host;
	bool host_truncated;
	bool host_from_target;	/* CONNECT authority-form or absolute-form target */
	char host[L7_HTTP_HOST_MAX + 1];	/* lowercased, port and IPv6 [] removed */
	uint16_t port;				/* port given with the host, 0 if none */
	bool has_content_length;
	uint64_t content_length;		/* saturates at UINT64_MAX */
	bool has_user_agent;
	bool user_agent_truncated;
	char user_agent[L7_HTTP_UA_MAX + 1];
	bool headers_complete;	/* the empty line ending the header section was seen */
	size_t header_len;	/* bytes up to and including that empty line, if seen */
	uint16_t n_fields;	/* header field lines read */
};

/* Parse the request at the start of data (a client's TCP stream from its first byte).
 * L7_NOT_THIS unless the stream starts with a known method followed by a space (up to
 * four empty lines before the request line are skipped, RFC 9112 2.2); L7_NEED_MORE
 * while the header section is incomplete and no host is known yet; L7_OK once the
 * header section is complete, or earlier as soon as the host is known (then
 * headers_complete is false and later fields may be missing: call again with more
 * data to get them); L7_MALFORMED, with what was read before, on a broken request
 * line or field line, a missing or repeated Host in HTTP/1.1, conflicting
 * Content-Length values or more than L7_HTTP_MAX_LINES field lines. */
enum l7_result l7_http_request(const uint8_t *data, size_t len, struct l7_http_req *out);

/* True if the bytes present (at least one) are the start of "<known method> ". */
bool l7_http_looks_like(const uint8_t *data, size_t len);

#endif
