/* l7-smtp.c: the SMTP line parser (RFC 5321): client verbs with the HELO/EHLO domain
 * and MAIL/RCPT paths, and server reply codes. */
#include <string.h>

#include "l7-smtp.h"

/* RFC 5321 4.1.1, RFC 3207 (STARTTLS), RFC 4954 (AUTH), RFC 3030 (BDAT), RFC 1985
 * (ETRN); TURN is RFC 821's. */
static const char *const smtp_verbs[] = {
	"HELO", "EHLO", "MAIL", "RCPT", "DATA", "BDAT", "RSET", "VRFY",
	"EXPN", "HELP", "NOOP", "QUIT", "STARTTLS", "AUTH", "ETRN", "TURN",
};

#define SMTP_N_VERBS (sizeof(smtp_verbs) / sizeof(smtp_verbs[0]))

/* The first word of the span (up to SP or HTAB). */
static void smtp_first_word(const uint8_t **p, size_t *n)
{
	struct cur c = cur_make(*p, *n);
	size_t k = 0;

	while (cur_left(&c) > 0) {
		uint8_t ch = cur_u8(&c);

		if (ch == ' ' || ch == '\t')
			break;
		k++;
	}
	*n = k;
}

/* RFC 5321 4.1.1.2 and 4.1.1.3: "MAIL FROM:" Reverse-path [SP Mail-parameters] and
 * "RCPT TO:" Forward-path [SP Rcpt-parameters], a path being "<" ... ">". Space after
 * the colon is tolerated (some clients send it). */
static bool smtp_path(struct l7_smtp_cmd *out, const uint8_t *p, size_t n, const char *kw)
{
	struct cur c = cur_make(p, n);
	const uint8_t *path;
	size_t pn;

	if (!l7_span_iprefix(p, n, kw))
		return false;
	cur_skip(&c, strlen(kw));
	l7_cur_skip_ws(&c);
	if (cur_left(&c) == 0)
		return false;
	if (cur_peek_u8(&c, 0) != '<') {
		/* no brackets: keep the word for the record, but it is not a path */
		pn = cur_left(&c);
		path = cur_bytes(&c, pn);
		smtp_first_word(&path, &pn);
		out->arg_truncated = !l7_copy_str(out->arg, sizeof(out->arg), path, pn, false);
		return false;
	}
	cur_skip(&c, 1);
	if (!l7_cur_split(&c, '>', &path, &pn)) {
		out->arg_truncated = !l7_copy_str(out->arg, sizeof(out->arg), path, pn, false);
		return false;
	}
	out->arg_truncated = !l7_copy_str(out->arg, sizeof(out->arg), path, pn, false);
	return true;
}

/* RFC 5321 section 4.1.1: a command is a verb, then for most verbs SP and arguments,
 * then CRLF; verbs are case-insensitive. */
enum l7_result l7_smtp_client_line(const uint8_t *line, size_t len, struct l7_smtp_cmd *out)
{
	struct cur c;
	const uint8_t *verb, *arg;
	size_t vn, an;
	const char *v = NULL;

	memset(out, 0, sizeof(*out));
	if (!line)
		return L7_NOT_THIS;
	l7_strip_eol(&line, &len);
	c = cur_make(line, len);
	l7_cur_split(&c, ' ', &verb, &vn);
	for (size_t i = 0; i < SMTP_N_VERBS; i++) {
		if (l7_span_ieq(verb, vn, smtp_verbs[i])) {
			v = smtp_verbs[i];
			break;
		}
	}
	if (!v)
		return L7_NOT_THIS;
	memcpy(out->verb, v, strlen(v) + 1);
	an = cur_left(&c);
	arg = cur_ptr(&c);
	l7_trim_ws(&arg, &an);

	if (strcmp(v, "HELO") == 0 || strcmp(v, "EHLO") == 0) {
		/* RFC 5321 4.1.1.1: "EHLO" SP ( Domain / address-literal ) */
		smtp_first_word(&arg, &an);
		out->arg_truncated = !l7_copy_str(out->arg, sizeof(out->arg), arg, an, false);
		return an > 0 ? L7_OK : L7_MALFORMED;
	}
	if (strcmp(v, "MAIL") == 0)
		return smtp_path(out, arg, an, "FROM:") ? L7_OK : L7_MALFORMED;
	if (strcmp(v, "RCPT") == 0)
		return smtp_path(out, arg, an, "TO:") ? L7_OK : L7_MALFORMED;
	if (strcmp(v, "AUTH") == 0) {
		/* RFC 4954 4: AUTH mechanism [initial-response]; the response may carry
		 * credentials and is never kept */
		smtp_first_word(&arg, &an);
		out->arg_truncated = !l7_copy_str(out->arg, sizeof(out->arg), arg, an, false);
		return an > 0 ? L7_OK : L7_MALFORMED;
	}
	if (strcmp(v, "VRFY") == 0 || strcmp(v, "EXPN") == 0 || strcmp(v, "HELP") == 0)
		out->arg_truncated = !l7_copy_str(out->arg, sizeof(out->arg), arg, an, false);
	return L7_OK;
}

/* RFC 5321 section 4.2: Reply-line = *( Reply-code "-" [ textstring ] CRLF )
 * Reply-code [ SP textstring ] CRLF, Reply-code = %x32-35 %x30-35 %x30-39. */
enum l7_result l7_smtp_server_line(const uint8_t *line, size_t len, struct l7_smtp_reply *out)
{
	struct cur c;
	uint16_t code;

	memset(out, 0, sizeof(*out));
	if (!l7_reply_code(line, len, &code, &out->more, &c))
		return L7_NOT_THIS;
	out->code = code;
	return code >= 200 && code <= 599 ? L7_OK : L7_MALFORMED;
}
