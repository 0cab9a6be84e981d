/* netset.c: CIDR parsing and matching (linear scan: home_net lists are short and the
 * check runs once per flow, not per packet). */
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "netset.h"

bool cidr_parse(const char *text, struct cidr *out, char *err, size_t errlen)
{
	char buf[64];
	size_t len = strlen(text);
	if (len == 0 || len >= sizeof(buf)) {
		snprintf(err, errlen, "'%.64s' is not an address or CIDR block", text);
		return false;
	}
	memcpy(buf, text, len + 1);
	char *slash = strchr(buf, '/');
	long bits = -1;
	if (slash) {
		*slash = '\0';
		char *end;
		if (slash[1] < '0' || slash[1] > '9')
			goto bad;
		bits = strtol(slash + 1, &end, 10);
		if (*end != '\0')
			goto bad;
	}
	memset(out, 0, sizeof(*out));
	if (inet_pton(AF_INET, buf, out->addr) == 1) {
		out->family = 4;
		if (bits < 0)
			bits = 32;
		if (bits > 32)
			goto bad;
	} else if (inet_pton(AF_INET6, buf, out->addr) == 1) {
		out->family = 6;
		if (bits < 0)
			bits = 128;
		if (bits > 128)
			goto bad;
	} else {
		goto bad;
	}
	out->bits = (uint8_t)bits;
	for (int i = 0; i < 16; i++) {
		int keep = (int)bits - i * 8;
		if (keep >= 8)
			continue;
		out->addr[i] &= keep <= 0 ? 0 : (uint8_t)(0xff << (8 - keep));
	}
	return true;
bad:
	snprintf(err, errlen, "'%s' is not an address or CIDR block (want 10.0.0.0/8 or fc00::/7)",
		 text);
	return false;
}

bool netset_add(struct netset *s, const struct cidr *c)
{
	if (s->n >= NETSET_MAX)
		return false;
	s->v[s->n++] = *c;
	return true;
}

bool netset_parse_list(struct netset *s, const char *text, char *err, size_t errlen)
{
	char buf[4096];
	size_t len = strlen(text);
	if (len >= sizeof(buf)) {
		snprintf(err, errlen, "CIDR list too long");
		return false;
	}
	memcpy(buf, text, len + 1);
	s->n = 0;
	char *save = NULL;
	for (char *tok = strtok_r(buf, ", ", &save); tok; tok = strtok_r(NULL, ", ", &save)) {
		struct cidr c;
		if (!cidr_parse(tok, &c, err, errlen))
			return false;
		if (!netset_add(s, &c)) {
			snprintf(err, errlen, "more than %d CIDR blocks", NETSET_MAX);
			return false;
		}
	}
	if (s->n == 0) {
		snprintf(err, errlen, "empty CIDR list");
		return false;
	}
	return true;
}

bool netset_contains(const struct netset *s, int family, const uint8_t addr[16])
{
	for (int i = 0; i < s->n; i++) {
		const struct cidr *c = &s->v[i];
		if (c->family != family)
			continue;
		int full = c->bits / 8, rest = c->bits % 8;
		if (memcmp(c->addr, addr, (size_t)full) != 0)
			continue;
		if (rest && ((addr[full] ^ c->addr[full]) & (uint8_t)(0xff << (8 - rest))))
			continue;
		return true;
	}
	return false;
}

void netset_default_home(struct netset *s)
{
	static const char *const def[] = { "10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16",
					   "fc00::/7" };
	char err[128];
	s->n = 0;
	for (size_t i = 0; i < sizeof(def) / sizeof(def[0]); i++) {
		struct cidr c;
		if (cidr_parse(def[i], &c, err, sizeof(err)))
			netset_add(s, &c);
	}
}
