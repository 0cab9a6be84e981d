/* l7-ftp.c: the FTP control-line parser (RFC 959, RFC 2428): client verbs and
 * arguments with PORT/EPRT endpoints, server reply codes with 227/229 endpoints. */
#include <arpa/inet.h>
#include <string.h>

#include "l7-ftp.h"

#define FTP_ADDR_TEXT_MAX 64	/* longest EPRT net-addr accepted, incl. NUL */

static bool ftp_is_digit(uint8_t ch)
{
	return ch >= '0' && ch <= '9';
}

/* 1..3 decimal digits with a value of at most 255. */
static bool ftp_byte(struct cur *c, uint8_t *v)
{
	unsigned acc = 0, k;

	for (k = 0; k < 3 && cur_left(c) > 0 && ftp_is_digit(cur_peek_u8(c, 0)); k++)
		acc = acc * 10 + (unsigned)(cur_u8(c) - '0');
	if (k == 0 || acc > 255 || (cur_left(c) > 0 && ftp_is_digit(cur_peek_u8(c, 0))))
		return false;
	*v = (uint8_t)acc;
	return true;
}

/* RFC 959 4.1.2: "h1,h2,h3,h4,p1,p2", the IPv4 address bytes then the port bytes, high
 * first. Reads the six numbers at c, leaving c after the last one. */
static bool ftp_host_port(struct cur *c, struct l7_ftp_endpoint *ep)
{
	uint8_t v[6];

	for (unsigned i = 0; i < 6; i++) {
		if (i > 0 && cur_u8(c) != ',')
			return false;
		if (!ftp_byte(c, &v[i]))
			return false;
	}
	memset(ep, 0, sizeof(*ep));
	ep->family = 4;
	memcpy(ep->addr, v, 4);
	ep->port = (uint16_t)(v[4] << 8 | v[5]);
	return true;
}

static bool ftp_port_number(const uint8_t *p, size_t n, uint16_t *port)
{
	uint64_t v;

	if (n > 5 || !l7_parse_u64(p, n, &v) || v > 65535)
		return false;
	*port = (uint16_t)v;
	return true;
}

/* RFC 2428 section 2: EPRT <d><net-prt><d><net-addr><d><tcp-port><d>, d one character
 * in ASCII 33-126, net-prt 1 (IPv4, dotted decimal) or 2 (IPv6, RFC 4291 2.2 text). */
static enum l7_result ftp_eprt(const uint8_t *arg, size_t n, struct l7_ftp_cmd *out)
{
	struct cur c;
	const uint8_t *prt, *addr, *port;
	size_t prn, an, pn;
	uint8_t d;
	char text[FTP_ADDR_TEXT_MAX];
	struct l7_ftp_endpoint ep;

	l7_trim_ws(&arg, &n);
	c = cur_make(arg, n);
	d = cur_u8(&c);
	if (!cur_ok(&c) || d < 33 || d > 126)
		return L7_MALFORMED;
	if (!l7_cur_split(&c, d, &prt, &prn) || !l7_cur_split(&c, d, &addr, &an) ||
	    !l7_cur_split(&c, d, &port, &pn) || cur_left(&c) != 0)
		return L7_MALFORMED;
	memset(&ep, 0, sizeof(ep));
	if (!ftp_port_number(port, pn, &ep.port))
		return L7_MALFORMED;
	if (l7_span_ieq(prt, prn, "1"))
		ep.family = 4;
	else if (l7_span_ieq(prt, prn, "2"))
		ep.family = 6;
	else
		return L7_OK; /* another network protocol: no endpoint we can use */
	if (!l7_copy_str(text, sizeof(text), addr, an, false))
		return L7_MALFORMED;
	if (inet_pton(ep.family == 4 ? AF_INET : AF_INET6, text, ep.addr) != 1)
		return L7_MALFORMED;
	out->ep = ep;
	out->has_endpoint = true;
	return L7_OK;
}

/* RFC 959 section 4.1 and 5.3.1: a command is a verb of alphabetic characters (case
 * does not matter), then, if it takes one, SP and the argument, then CRLF. */
enum l7_result l7_ftp_client_line(const uint8_t *line, size_t len, struct l7_ftp_cmd *out)
{
	struct cur c, v;
	const uint8_t *verb, *arg;
	size_t vn, an;
	bool ok = true;

	memset(out, 0, sizeof(*out));
	if (!line)
		return L7_MALFORMED;
	l7_strip_eol(&line, &len);
	c = cur_make(line, len);
	l7_cur_split(&c, ' ', &verb, &vn);
	an = cur_left(&c);
	arg = cur_ptr(&c);
	v = cur_make(verb, vn);
	for (size_t i = 0; i < vn && i < L7_FTP_VERB_MAX; i++) {
		uint8_t ch = cur_u8(&v);

		if (ch >= 'a' && ch <= 'z')
			ch = (uint8_t)(ch - 'a' + 'A');
		if (ch < 'A' || ch > 'Z')
			ok = false;
		out->verb[i] = ch ? (char)ch : '?';
	}
	if (!ok || vn == 0 || vn > L7_FTP_VERB_MAX)
		return L7_MALFORMED;
	/* do not keep passwords */
	if (strcmp(out->verb, "PASS") != 0)
		out->arg_truncated = !l7_copy_str(out->arg, sizeof(out->arg), arg, an, false);

	if (strcmp(out->verb, "PORT") == 0) {
		struct cur a;

		l7_trim_ws(&arg, &an);
		a = cur_make(arg, an);
		if (!ftp_host_port(&a, &out->ep) || cur_left(&a) != 0)
			return L7_MALFORMED;
		out->has_endpoint = true;
	} else if (strcmp(out->verb, "EPRT") == 0) {
		return ftp_eprt(arg, an, out);
	}
	return L7_OK;
}

/* RFC 959 section 4.1.2 and RFC 1123 4.1.2.6: the 227 text is not standardised;
 * read the six numbers starting at the first digit after the code. */
static bool ftp_227(struct cur *c, struct l7_ftp_endpoint *ep)
{
	while (cur_left(c) > 0 && !ftp_is_digit(cur_peek_u8(c, 0)))
		cur_skip(c, 1);
	return ftp_host_port(c, ep);
}

/* RFC 2428 section 3: "229 <text> (<d><d><d><tcp-port><d>)". */
static bool ftp_229(struct cur *c, struct l7_ftp_endpoint *ep)
{
	const uint8_t *skip, *port;
	size_t sn, pn;
	uint8_t d;

	if (!l7_cur_split(c, '(', &skip, &sn))
		return false;
	d = cur_u8(c);
	if (d < 33 || d > 126 || cur_u8(c) != d || cur_u8(c) != d)
		return false;
	if (!l7_cur_split(c, d, &port, &pn) || cur_u8(c) != ')' || !cur_ok(c))
		return false;
	memset(ep, 0, sizeof(*ep));
	return ftp_port_number(port, pn, &ep->port);
}

/* RFC 959 section 4.2: a reply is a three-digit code followed by SP (the last line) or
 * '-' (the first line of a multi-line reply) and text. */
enum l7_result l7_ftp_server_line(const uint8_t *line, size_t len, struct l7_ftp_reply *out)
{
	struct cur c;
	uint16_t code;

	memset(out, 0, sizeof(*out));
	if (!l7_reply_code(line, len, &code, &out->multiline, &c))
		return L7_NOT_THIS;
	out->code = code;
	if (code < 100 || code > 599)
		return L7_MALFORMED;
	if (code == 227) {
		if (!ftp_227(&c, &out->ep))
			return L7_MALFORMED;
		out->has_endpoint = true;
	} else if (code == 229) {
		if (!ftp_229(&c, &out->ep))
			return L7_MALFORMED;
		out->has_endpoint = true;
	}
	return L7_OK;
}
