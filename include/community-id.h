/* community-id.h: Community ID v1 flow hashes (github.com/corelight/community-id-spec),
 * the flow identifier Zeek, Suricata and Elastic put in their records.
 *
 * "1:" + base64(SHA1(seed | addr | addr | proto | 0 | port | port)), all in
 * network byte order, the two endpoints ordered so that both directions of a
 * flow hash alike. This follows the reference implementation (pycommunityid):
 *  - TCP (6), UDP (17), SCTP (132): the smaller (address, port) endpoint goes
 *    first, addresses compared bytewise, then ports.
 *  - ICMP (1) and ICMPv6 (58): sport is the message type and dport the code.
 *    Request/reply types are two-way and hash with ports (type, counter-type),
 *    the code being ignored, then ordered like TCP:
 *	ICMP:   echo 8/0, router solicitation/advertisement 10/9, timestamp
 *	        13/14, information 15/16, address mask 17/18;
 *	ICMPv6: echo 128/129, MLD query/report 130/131, router 133/134,
 *	        neighbor 135/136, who-are-you 139/140, home agent address
 *	        discovery 144/145.
 *    Every other type is one-way: ports (type, code), never reordered.
 *  - Any other protocol: no ports in the hash (sport and dport are ignored),
 *    the smaller address goes first.
 * The protocol decides ICMP treatment (1 or 58), whatever the address family.
 */
#ifndef EGRESSD_COMMUNITY_ID_H
#define EGRESSD_COMMUNITY_ID_H

#include <stddef.h>
#include <stdint.h>

/* Room for either form with its NUL: "1:" + 28 base64 chars (30 in all) or
 * "1:" + 40 hex digits (42 in all). */
#define COMMUNITY_ID_STRLEN 43

/*
 * family is 4 (addresses in saddr[0..3], the rest ignored) or 6. Writes the
 * NUL-terminated ID to out and returns 0; on a bad family writes "" and
 * returns -1.
 */
int community_id_v1(uint16_t seed, int family, const uint8_t saddr[16],
		    const uint8_t daddr[16], uint8_t proto, uint16_t sport, uint16_t dport,
		    char out[COMMUNITY_ID_STRLEN]);

/* The same hash with the digest as 40 lowercase hex digits instead of base64
 * (the reference implementation's --no-base64 form). */
int community_id_v1_hex(uint16_t seed, int family, const uint8_t saddr[16],
			const uint8_t daddr[16], uint8_t proto, uint16_t sport,
			uint16_t dport, char out[COMMUNITY_ID_STRLEN]);

#endif
