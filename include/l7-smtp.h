/* l7-smtp.h: the SMTP command-line parser: client verbs with the HELO/EHLO domain and
 * the MAIL FROM / RCPT TO address, and server reply codes. */
#ifndef EGRESSD_L7_SMTP_H
#define EGRESSD_L7_SMTP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "l7.h"

#define L7_SMTP_VERB_MAX 8	/* "STARTTLS" */
#define L7_SMTP_ARG_MAX 256

struct l7_smtp_cmd {
	char verb[L7_SMTP_VERB_MAX + 1];	/* one of the known verbs, uppercased */
	/* HELO/EHLO: the domain or address literal; MAIL/RCPT: the path between < and >
	 * ("" for the null path <>); AUTH: the mechanism only (never credentials);
	 * VRFY/EXPN/HELP: the argument; other verbs: empty */
	char arg[L7_SMTP_ARG_MAX + 1];
	bool arg_truncated;
};

struct l7_smtp_reply {
	uint16_t code;	/* 200..599 */
	bool more;	/* "xyz-": more lines of this reply follow */
};

/* One client command line (RFC 5321 4.1.1), with or without its CRLF. Verbs are
 * HELO EHLO MAIL RCPT DATA BDAT RSET VRFY EXPN HELP NOOP QUIT STARTTLS AUTH ETRN TURN,
 * case-insensitive. L7_NOT_THIS for any other first word (the caller tracks the DATA
 * and AUTH exchanges, whose lines are not commands); L7_MALFORMED when HELO/EHLO lack
 * the domain or MAIL/RCPT lack "FROM:"/"TO:" and a <path> (filled as far as read). */
enum l7_result l7_smtp_client_line(const uint8_t *line, size_t len, struct l7_smtp_cmd *out);

/* One server reply line (RFC 5321 4.2): L7_NOT_THIS unless it starts with three digits
 * followed by SP, '-' or the line end; L7_MALFORMED for a code outside 200..599
 * (RFC 5321 4.2.1 uses 2xx-5xx only; 1xx is not used in SMTP). */
enum l7_result l7_smtp_server_line(const uint8_t *line, size_t len, struct l7_smtp_reply *out);

#endif
