/* l7-ssh.c: the SSH identification-string parser (RFC 4253 4.2): finds the
 * "SSH-protoversion-softwareversion SP comments" line, skipping a server's other lines. */
#include <string.h>

#include "l7-ssh.h"

static const char ssh_magic[] = "SSH-";

#define SSH_MAGIC_LEN (sizeof(ssh_magic) - 1)

/* True if the first min(n, 4) bytes of the span match "SSH-" (case-sensitive). */
static bool ssh_prefix_ok(const uint8_t *p, size_t n)
{
	struct cur c = cur_make(p, n);

	for (size_t i = 0; i < SSH_MAGIC_LEN && cur_left(&c) > 0; i++) {
		if (cur_u8(&c) != (uint8_t)ssh_magic[i])
			return false;
	}
	return true;
}

bool l7_ssh_looks_like(const uint8_t *data, size_t len)
{
	return len > 0 && data && ssh_prefix_ok(data, len);
}

/* protoversion and softwareversion are non-empty and separated by '-'. */
static bool ssh_ident_ok(const uint8_t *line, size_t n)
{
	struct cur c = cur_make(line, n);
	const uint8_t *proto, *soft;
	size_t pn, sn;

	cur_skip(&c, SSH_MAGIC_LEN);
	if (!l7_cur_split(&c, '-', &proto, &pn) || pn == 0)
		return false;
	l7_cur_split(&c, ' ', &soft, &sn);
	return sn > 0;
}

static size_t ssh_copy_size(size_t outsz)
{
	return outsz < L7_SSH_BANNER_MAX + 1 ? outsz : L7_SSH_BANNER_MAX + 1;
}

/* RFC 4253 section 4.2: "SSH-protoversion-softwareversion SP comments CR LF", at most
 * 255 characters including CR LF; "The server MAY send other lines of data before
 * sending the version string", which must not begin with "SSH-". Some old peers end
 * the line with LF alone; that is accepted too. */
enum l7_result l7_ssh_banner(const uint8_t *data, size_t len, char *out, size_t outsz)
{
	struct cur c = cur_make(data, len);

	if (outsz > 0)
		out[0] = '\0';
	for (unsigned others = 0; others <= L7_SSH_MAX_LINES; others++) {
		const uint8_t *line;
		size_t n;
		bool complete = l7_next_line(&c, &line, &n);

		if (!complete) {
			n = cur_left(&c);
			if (n == 0)
				return L7_NEED_MORE;
			line = cur_bytes(&c, n);
			if (!line)
				return L7_NEED_MORE;
		}
		if (ssh_prefix_ok(line, n)) {
			if (n < SSH_MAGIC_LEN && !complete)
				return L7_NEED_MORE;
			if (n >= SSH_MAGIC_LEN) {
				l7_copy_str(out, ssh_copy_size(outsz), line, n, false);
				if (n > L7_SSH_BANNER_MAX - 2)
					return L7_MALFORMED;
				if (!complete)
					return L7_NEED_MORE;
				return ssh_ident_ok(line, n) ? L7_OK : L7_MALFORMED;
			}
		}
		if (n > L7_SSH_MAX_OTHER_LINE)
			return L7_NOT_THIS;
		if (!complete)
			return L7_NEED_MORE;
	}
	return L7_NOT_THIS;
}
