/* l7-ssh.h: the SSH identification-string parser: the "SSH-protoversion-softwareversion"
 * line each side sends first (RFC 4253 4.2). */
#ifndef EGRESSD_L7_SSH_H
#define EGRESSD_L7_SSH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "l7.h"

#define L7_SSH_BANNER_MAX 255	/* RFC 4253 4.2: at most 255 chars including CR LF */
#define L7_SSH_MAX_LINES 100	/* other lines allowed before it */
#define L7_SSH_MAX_OTHER_LINE 1024 /* longest such line accepted */

/* Find the identification string in data (one side's TCP stream from its first byte)
 * and copy it, without its line end, into out (outsz bytes, NUL-terminated; at most
 * L7_SSH_BANNER_MAX bytes are kept; NUL -> '?'). Lines before it that do not start
 * with "SSH-" are skipped (a server may send them). L7_NEED_MORE until the line is
 * complete; L7_NOT_THIS if the stream is unlikely to be SSH (more than
 * L7_SSH_MAX_LINES other lines, or one longer than L7_SSH_MAX_OTHER_LINE);
 * L7_MALFORMED, with the copy made, if the line is longer than the limit or lacks the
 * "-softwareversion" part. */
enum l7_result l7_ssh_banner(const uint8_t *data, size_t len, char *out, size_t outsz);

/* True if the bytes present (at least one) are the start of "SSH-". */
bool l7_ssh_looks_like(const uint8_t *data, size_t len);

#endif
