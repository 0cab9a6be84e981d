/* l7-ftp.h: the FTP control-channel line parser: client commands (with the PORT/EPRT
 * data endpoint) and server replies (with the 227/229 passive endpoint). */
#ifndef EGRESSD_L7_FTP_H
#define EGRESSD_L7_FTP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "l7.h"

#define L7_FTP_VERB_MAX 8
#define L7_FTP_ARG_MAX 256

/* A data-connection endpoint announced on the control channel. */
struct l7_ftp_endpoint {
	uint8_t family;		/* 4, 6, or 0: "the server's address on the control
				 * connection" (229 gives only a port) */
	uint8_t addr[16];	/* network order; IPv4 in the first 4 bytes */
	uint16_t port;
};

struct l7_ftp_cmd {
	char verb[L7_FTP_VERB_MAX + 1];	/* uppercased */
	char arg[L7_FTP_ARG_MAX + 1];	/* as sent (PASS arguments are not kept) */
	bool arg_truncated;
	bool has_endpoint;		/* PORT or EPRT with a usable endpoint */
	struct l7_ftp_endpoint ep;
};

struct l7_ftp_reply {
	uint16_t code;			/* 100..599 */
	bool multiline;			/* "xyz-": more lines follow */
	bool has_endpoint;		/* 227 or 229 with an endpoint */
	struct l7_ftp_endpoint ep;
};

/* One client command line (RFC 959 4.1, RFC 2428), with or without its CRLF.
 * L7_MALFORMED for an empty line, a verb that is not 1-8 letters, or a PORT/EPRT whose
 * argument does not parse (verb and arg are filled); an EPRT with an unknown network
 * protocol is L7_OK without an endpoint. */
enum l7_result l7_ftp_client_line(const uint8_t *line, size_t len, struct l7_ftp_cmd *out);

/* One server reply line (RFC 959 4.2), with or without its CRLF. L7_NOT_THIS if the
 * line does not start with a 3-digit code followed by SP, '-' or the line end (the text
 * lines inside a multi-line reply are like that); L7_MALFORMED for a code outside
 * 100..599 or a 227/229 reply whose endpoint does not parse. */
enum l7_result l7_ftp_server_line(const uint8_t *line, size_t len, struct l7_ftp_reply *out);

#endif
