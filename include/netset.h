/* netset.h: a set of IPv4/IPv6 CIDR blocks (home_net, allowlists), parsed from text and
 * matched against addresses in egressd's 16-byte form (IPv4 in the first 4 bytes). */
#ifndef EGRESSD_NETSET_H
#define EGRESSD_NETSET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define NETSET_MAX 256

struct cidr {
	uint8_t family; /* 4 or 6 */
	uint8_t bits;
	uint8_t addr[16]; /* host bits cleared */
};

struct netset {
	int n;
	struct cidr v[NETSET_MAX];
};

/* Parse "192.168.0.0/16", "fc00::/7" or a bare address (a /32 or /128). Returns false
 * with a message in err for anything else (host bits set are cleared, not an error). */
bool cidr_parse(const char *text, struct cidr *out, char *err, size_t errlen);

/* Add one CIDR; false if the set is full. */
bool netset_add(struct netset *s, const struct cidr *c);

/* Parse a comma-separated list into s (replacing it). */
bool netset_parse_list(struct netset *s, const char *text, char *err, size_t errlen);

bool netset_contains(const struct netset *s, int family, const uint8_t addr[16]);

/* The RFC 1918 blocks and fc00::/7: the default home_net. */
void netset_default_home(struct netset *s);

#endif
