/* l7-http.c: the HTTP/1.x request parser: request line, then the Host, Content-Length
 * and User-Agent fields of the header section (RFC 9112, RFC 9110). */
#include <string.h>

#include "l7-http.h"

#define HTTP_MAX_LEADING_EMPTY 4
#define HTTP_MAX_CL_VALUES 16

/* RFC 9110 section 9 and RFC 4918 (WebDAV); method names are case-sensitive (9.1). */
static const char *const http_methods[] = {
	"GET", "POST", "PUT", "DELETE", "HEAD", "OPTIONS", "PATCH", "CONNECT", "TRACE",
	"PROPFIND", "MKCOL", "COPY", "MOVE", "LOCK", "UNLOCK", "PROPPATCH",
};

#define HTTP_N_METHODS (sizeof(http_methods) / sizeof(http_methods[0]))

enum http_match { HTTP_NO, HTTP_PARTIAL, HTTP_YES };

/* Does the rest of c start with "<method> "? HTTP_PARTIAL if the bytes present are a
 * proper prefix of one. */
static enum http_match http_method_at(const struct cur *c, const char **method)
{
	enum http_match best = HTTP_NO;

	for (size_t i = 0; i < HTTP_N_METHODS; i++) {
		const char *m = http_methods[i];
		size_t mn = strlen(m);
		size_t k, cmp = cur_left(c) < mn + 1 ? cur_left(c) : mn + 1;
		struct cur t = *c;

		for (k = 0; k < cmp; k++) {
			uint8_t want = k < mn ? (uint8_t)m[k] : ' ';

			if (cur_u8(&t) != want)
				break;
		}
		if (k < cmp)
			continue;
		if (cmp == mn + 1) {
			*method = m;
			return HTTP_YES;
		}
		best = HTTP_PARTIAL;
	}
	return best;
}

/* First and last byte of a span (0 if it is empty). */
static uint8_t span_first(const uint8_t *p, size_t n)
{
	struct cur c = cur_make(p, n);

	return n ? cur_peek_u8(&c, 0) : 0;
}

static uint8_t span_last(const uint8_t *p, size_t n)
{
	struct cur c = cur_make(p, n);

	return n ? cur_peek_u8(&c, n - 1) : 0;
}

bool l7_http_looks_like(const uint8_t *data, size_t len)
{
	struct cur c = cur_make(data, len);
	const char *m;

	return len > 0 && http_method_at(&c, &m) != HTTP_NO;
}

/* RFC 3986 section 3.2.2 and 3.2.3: host = IP-literal / IPv4address / reg-name,
 * optionally followed by ":" port. The host is stored lowercased without the port and
 * without the brackets of an IP-literal. Returns false on an invalid authority (the raw
 * text is stored then). */
static bool http_set_host(struct l7_http_req *out, const uint8_t *p, size_t n)
{
	struct cur c = cur_make(p, n);
	const uint8_t *host = p, *port = NULL;
	size_t host_n = n, port_n = 0, colons = 0, last_colon = 0;
	bool valid = true;

	out->has_host = true;
	if (n > 0 && cur_peek_u8(&c, 0) == '[') {
		cur_skip(&c, 1);
		if (!l7_cur_split(&c, ']', &host, &host_n)) {
			valid = false;
		} else if (cur_left(&c) > 0) {
			if (cur_u8(&c) != ':')
				valid = false;
			port = cur_ptr(&c);
			port_n = cur_left(&c);
		}
	} else {
		for (size_t i = 0; i < n; i++) {
			if (cur_u8(&c) == ':') {
				colons++;
				last_colon = i;
			}
		}
		if (colons == 1) {
			struct cur h = cur_make(p, n);

			host = cur_bytes(&h, last_colon);
			host_n = last_colon;
			cur_skip(&h, 1);
			port = cur_ptr(&h);
			port_n = cur_left(&h);
		} else if (colons > 1) {
			valid = false; /* an IPv6 address must be in brackets */
		}
	}
	if (valid && port_n > 0) {
		uint64_t v;

		if (!l7_parse_u64(port, port_n, &v) || v > 65535)
			valid = false;
		else
			out->port = (uint16_t)v;
	}
	if (!valid) {
		host = p;
		host_n = n;
		out->port = 0;
	}
	out->host_truncated = !l7_copy_str(out->host, sizeof(out->host), host, host_n, true);
	return valid;
}

/* RFC 9112 section 3.2.2: absolute-form is scheme "://" authority path...; the
 * authority may carry userinfo "@" before the host (RFC 3986 3.2). */
static bool http_host_from_absolute(struct l7_http_req *out, const uint8_t *t, size_t n)
{
	struct cur c = cur_make(t, n);
	const uint8_t *auth;
	size_t an = 0;

	/* scheme = ALPHA *( ALPHA / DIGIT / "+" / "-" / "." ), RFC 3986 3.1 */
	while (cur_left(&c) > 0) {
		uint8_t ch = cur_peek_u8(&c, 0);

		if (!((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
		      (ch >= '0' && ch <= '9') || ch == '+' || ch == '-' || ch == '.'))
			break;
		cur_skip(&c, 1);
	}
	if (c.off == 0 || cur_left(&c) < 3 || cur_u8(&c) != ':' || cur_u8(&c) != '/' ||
	    cur_u8(&c) != '/')
		return false;
	auth = cur_ptr(&c);
	while (cur_left(&c) > 0) {
		uint8_t ch = cur_u8(&c);

		if (ch == '/' || ch == '?' || ch == '#')
			break;
		an++;
	}
	/* drop userinfo: everything up to the last '@' */
	for (size_t i = an; i > 0; i--) {
		struct cur a = cur_make(auth, an);

		if (cur_peek_u8(&a, i - 1) == '@') {
			cur_skip(&a, i);
			auth = cur_ptr(&a);
			an -= i;
			break;
		}
	}
	out->host_from_target = true;
	return http_set_host(out, auth, an);
}

/* RFC 9112 section 2.3: HTTP-version = "HTTP" "/" DIGIT "." DIGIT (case-sensitive). */
static bool http_version(struct l7_http_req *out, const uint8_t *p, size_t n)
{
	struct cur c = cur_make(p, n);
	uint8_t maj, min;

	if (n != 8 || !(cur_u8(&c) == 'H' && cur_u8(&c) == 'T' && cur_u8(&c) == 'T' &&
			cur_u8(&c) == 'P' && cur_u8(&c) == '/'))
		return false;
	maj = cur_u8(&c);
	if (cur_u8(&c) != '.')
		return false;
	min = cur_u8(&c);
	if (maj < '0' || maj > '9' || min < '0' || min > '9')
		return false;
	out->version_major = (uint8_t)(maj - '0');
	out->version_minor = (uint8_t)(min - '0');
	return true;
}

/* RFC 9112 section 3: request-line = method SP request-target SP HTTP-version.
 * Whitespace runs are accepted as separators (3: "MAY instead parse on whitespace-
 * delimited word boundaries"), so the version is the last word and the target all
 * between. */
static bool http_request_line(struct l7_http_req *out, const char *method,
			      const uint8_t *line, size_t n)
{
	struct cur c = cur_make(line, n);
	const uint8_t *rest, *target, *ver;
	size_t rn, tn, vn, sp;
	bool ok = true;

	l7_copy_str(out->method, sizeof(out->method), (const uint8_t *)method, strlen(method),
		    false);
	cur_skip(&c, strlen(method) + 1);
	rn = cur_left(&c);
	rest = cur_bytes(&c, rn);
	if (!rest)
		return false;
	l7_trim_ws(&rest, &rn);
	c = cur_make(rest, rn);
	for (sp = rn; sp > 0; sp--) {
		uint8_t ch = cur_peek_u8(&c, sp - 1);

		if (ch == ' ' || ch == '\t')
			break;
	}
	if (sp == 0)
		return false; /* no version: HTTP/0.9 is not accepted */
	tn = sp - 1;
	target = cur_bytes(&c, tn);
	cur_skip(&c, 1);
	vn = cur_left(&c);
	ver = cur_bytes(&c, vn);
	if (!target || !ver)
		return false;
	l7_trim_ws(&target, &tn);
	if (tn == 0)
		return false;
	out->target_truncated = !l7_copy_str(out->target, sizeof(out->target), target, tn,
					     false);
	if (!http_version(out, ver, vn))
		ok = false;

	if (strcmp(method, "CONNECT") == 0) {
		/* RFC 9112 3.2.3: authority-form, host ":" port */
		out->host_from_target = true;
		if (!http_set_host(out, target, tn))
			ok = false;
	} else if (span_first(target, tn) != '/' && !(tn == 1 && span_first(target, tn) == '*')) {
		if (!http_host_from_absolute(out, target, tn))
			ok = false;
	}
	return ok;
}

/* RFC 9110 section 8.6 with RFC 9112 6.3 item 5: Content-Length = 1*DIGIT; a list of
 * identical values may be accepted as one, differing values are an error. */
static bool http_content_length(struct l7_http_req *out, const uint8_t *v, size_t n)
{
	struct cur c = cur_make(v, n);

	for (unsigned i = 0; i < HTTP_MAX_CL_VALUES; i++) {
		const uint8_t *tok;
		size_t tn;
		uint64_t val;
		bool more = l7_cur_split(&c, ',', &tok, &tn);

		l7_trim_ws(&tok, &tn);
		if (!l7_parse_u64(tok, tn, &val))
			return false;
		if (out->has_content_length && out->content_length != val)
			return false;
		out->has_content_length = true;
		out->content_length = val;
		if (!more)
			return true;
	}
	return false;
}

/* RFC 9112 section 5: field-line = field-name ":" OWS field-value OWS. No whitespace
 * is allowed between name and colon (5.1) and obs-fold is rejected (5.2). */
static bool http_field_line(struct l7_http_req *out, const uint8_t *line, size_t n)
{
	struct cur c = cur_make(line, n);
	const uint8_t *name, *val;
	size_t nn, vn;
	uint8_t last;

	if (n == 0 || span_first(line, n) == ' ' || span_first(line, n) == '\t')
		return false;
	if (!l7_cur_split(&c, ':', &name, &nn) || nn == 0)
		return false;
	last = span_last(name, nn);
	if (last == ' ' || last == '\t')
		return false;
	vn = cur_left(&c);
	val = cur_bytes(&c, vn);
	if (!val)
		return false;
	l7_trim_ws(&val, &vn);

	if (l7_span_ieq(name, nn, "host")) {
		/* RFC 9112 3.2.2: with absolute-form (and CONNECT's authority-form) the
		 * target names the host and Host is ignored */
		if (out->host_from_target)
			return true;
		/* RFC 9112 3.2: more than one Host field line is an error */
		if (out->has_host)
			return false;
		return http_set_host(out, val, vn);
	}
	if (l7_span_ieq(name, nn, "content-length"))
		return http_content_length(out, val, vn);
	if (l7_span_ieq(name, nn, "user-agent") && !out->has_user_agent) {
		out->has_user_agent = true;
		out->user_agent_truncated =
			!l7_copy_str(out->user_agent, sizeof(out->user_agent), val, vn, false);
	}
	return true;
}

enum l7_result l7_http_request(const uint8_t *data, size_t len, struct l7_http_req *out)
{
	struct cur c = cur_make(data, len);
	const uint8_t *line;
	size_t n;
	const char *method = NULL;

	memset(out, 0, sizeof(*out));
	/* RFC 9112 2.2: empty lines before the request-line are ignored */
	for (unsigned i = 0; i < HTTP_MAX_LEADING_EMPTY && cur_left(&c) > 0; i++) {
		struct cur probe = c;

		if (cur_peek_u8(&probe, 0) == '\r')
			cur_skip(&probe, 1);
		if (cur_left(&probe) == 0)
			return L7_NEED_MORE;
		if (cur_u8(&probe) != '\n')
			break;
		c = probe;
	}
	if (cur_left(&c) == 0)
		return L7_NEED_MORE;
	switch (http_method_at(&c, &method)) {
	case HTTP_NO:
		return L7_NOT_THIS;
	case HTTP_PARTIAL:
		return L7_NEED_MORE;
	case HTTP_YES:
		break;
	}
	if (!l7_next_line(&c, &line, &n))
		return L7_NEED_MORE;
	if (!http_request_line(out, method, line, n))
		return L7_MALFORMED;

	for (;;) {
		if (!l7_next_line(&c, &line, &n))
			return out->has_host ? L7_OK : L7_NEED_MORE;
		if (n == 0)
			break;
		if (out->n_fields == L7_HTTP_MAX_LINES)
			return L7_MALFORMED;
		out->n_fields++;
		if (!http_field_line(out, line, n))
			return L7_MALFORMED;
	}
	out->headers_complete = true;
	out->header_len = c.off;
	/* RFC 9112 3.2: an HTTP/1.1 request without Host is an error */
	if (!out->has_host && out->version_major == 1 && out->version_minor >= 1)
		return L7_MALFORMED;
	return L7_OK;
}
