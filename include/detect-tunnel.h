/* detect-tunnel.h: the measures behind DNS-tunnel and ICMP-tunnel detection (MITRE ATT&CK
 * T1048.003, T1071.004), per key over a sliding window on packet time, in a fixed-size
 * table. This module measures; deciding what is a tunnel is the caller's job.
 *
 * DNS, per (source address, registered domain). Tunnels (iodine, dnscat2, dns2tcp ...)
 * put their data in the labels to the left of a domain they control, so every query
 * name is new, long and close to random. For a query name under the registered domain,
 * the "left part" is what precedes the dot before the registered domain
 * ("x1y2.tunnel.example.com" under "example.com" -> "x1y2.tunnel", dots inside it
 * included); a name equal to the registered domain, or not under it, has an empty left
 * part. Names are compared and measured without ASCII case (l7-dns already lowercases,
 * and a resolver's 0x20 case randomisation must not read as entropy); one trailing dot
 * on either string is ignored. Over the window:
 *	queries            queries counted
 *	unique_names       distinct query names (see the bound below)
 *	name_bytes         sum of the left parts' lengths
 *	max_label_length   longest label of any left part
 *	mean_entropy       Shannon entropy of each left part's bytes, in bits per
 *	                   character (0 for an empty left part), averaged over queries
 *	txt_null_share     queries of type TXT (16) or NULL (10) / queries
 *
 * ICMP echo, per (source, destination). The payload is what follows the 8-byte echo
 * header (type, code, checksum, identifier, sequence). Ping sends small payloads that
 * repeat one pattern after a timestamp; tunnels (ptunnel, icmpsh, icmptunnel) send
 * large ones that change every packet. Over the window:
 *	packets, payload_bytes (wire lengths),
 *	large_payloads     payloads longer than TUNNEL_ICMP_LARGE (64) bytes on the wire:
 *	                   ordinary ping sends 32 (Windows) or 56 (Linux, macOS, BSD)
 *	distinct_payloads  payloads that differ from the previous payload of this key
 *	                   (the first payload of a key differs from nothing: not counted).
 *	                   The first TUNNEL_ICMP_STAMP_SKIP (16) bytes are skipped: ping
 *	                   stamps its send time there, as a 16-byte struct timeval on
 *	                   64-bit Linux (iputils) and an 8-byte one on BSD/macOS, followed
 *	                   by a fixed pattern; Windows sends a fixed pattern only. Skipping
 *	                   only 8 bytes would make every 64-bit Linux ping look distinct.
 *	                   Two payloads differ when their wire lengths differ or a 64-bit
 *	                   SipHash of their captured bytes past the skip differs.
 * Feed echo requests with their sender as source; replies, if wanted, are their own key
 * (source = the replier).
 *
 * Windows and error bounds. window_s is 1 .. 86400 s. As in detect-window, each entry
 * keeps TUNNEL_BUCKETS (32) buckets of window_s * 31250 us aligned on packet time, and at
 * time t the measures cover the bucket holding t and the 31 before it: nothing at or
 * before t - window is ever counted, and what is missed is at most the oldest bucket's
 * width at the old end of the window. So for the sums (queries, name_bytes, TXT/NULL
 * queries, packets, payload_bytes, large_payloads, distinct_payloads):
 * true(window - width) <= sum <= true(window); max_label_length is the maximum over the
 * same buckets, and mean_entropy and txt_null_share are exact ratios over the queries
 * counted. Sums saturate rather than wrap.
 *
 * unique_names. Each DNS entry keeps an exact set of up to TUNNEL_DNS_NAMES_MAX (256)
 * 64-bit SipHash values of query names, each with the bucket of that name's latest query;
 * a name leaves the set when that bucket leaves the window. When the set is full a new
 * name replaces the name whose latest query is oldest. Hence: below 256, unique_names is
 * the exact number of distinct names whose latest query falls in the counted buckets
 * (any name ever replaced has left the window by the time the count drops below 256);
 * unique_names == TUNNEL_DNS_NAMES_MAX reads "at least 256". Two distinct names count as
 * one only if their 64-bit hashes collide: probability below 256 / 2^64 per query.
 *
 * distinct_payloads. Exact but for hash collisions (2^-64 per packet), over the bytes the
 * capture kept: a difference beyond the snaplen is invisible (with a 96-byte snaplen on
 * Ethernet and IPv4, 54 payload bytes are captured and 38 compared; with 16 or fewer
 * captured bytes only length changes count). caplen is clamped to payload_len, so
 * Ethernet padding after a short packet is not compared.
 *
 * Time. Packet time in microseconds, passed in by the caller. A time earlier than the
 * entry's latest contribution is accounted at that latest time: nothing is dropped.
 *
 * Memory. Fixed at creation: about 4.7 KB per entry of either kind (reserved with
 * calloc, so pages are touched only as entries are used), plus 257 KB per table for the
 * entropy terms (c/n) log2(c/n) of names up to TUNNEL_NAME_MAX, each computed when first
 * needed; no allocation after tunnel_table_create. One table holds both kinds (the first key byte is the kind) and
 * the window length is part of the key. When the table is full the entry least recently
 * added to, of either kind, is evicted and counted (an LRU list: O(1)). Keys and names
 * are hashed with SipHash-1-3 and a per-table random key. A DNS query costs its name's
 * length plus a scan of at most 256 hashes. Not thread safe: one table per thread.
 */
#ifndef EGRESSD_DETECT_TUNNEL_H
#define EGRESSD_DETECT_TUNNEL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "keyed-pool.h"

#define TUNNEL_BUCKETS 32
#define TUNNEL_MIN_S 1u
#define TUNNEL_MAX_S 86400u
#define TUNNEL_MAX_ENTRIES (1u << 20)
#define TUNNEL_NAME_MAX 253		/* chars of a dotted name, trailing dot not counted */
#define TUNNEL_DNS_NAMES_MAX 256	/* distinct names tracked per DNS entry */
#define TUNNEL_DNS_TYPE_NULL 10
#define TUNNEL_DNS_TYPE_TXT 16
#define TUNNEL_ICMP_LARGE 64		/* payload bytes above which a ping is "large" */
#define TUNNEL_ICMP_STAMP_SKIP 16	/* leading payload bytes not compared */

struct tunnel_table;

/* A DNS entry's measures over its window; all zero when nothing is in it. */
struct tunnel_dns_sum {
	uint64_t queries;
	uint64_t name_bytes;
	uint64_t txt_null;	   /* queries of type TXT or NULL */
	uint32_t unique_names;	   /* TUNNEL_DNS_NAMES_MAX means at least that many */
	uint32_t max_label_length;
	double mean_entropy;	   /* bits per character, 0 .. 8 */
	double txt_null_share;	   /* txt_null / queries, 0 .. 1 */
	uint64_t first_us;	   /* earliest query still counted */
	uint64_t last_us;	   /* latest query */
};

/* An ICMP entry's measures over its window; all zero when nothing is in it. */
struct tunnel_icmp_sum {
	uint64_t packets;
	uint64_t payload_bytes;	    /* wire lengths */
	uint64_t large_payloads;    /* payload_len > TUNNEL_ICMP_LARGE */
	uint64_t distinct_payloads; /* differed from the previous payload of the key */
	uint64_t first_us;
	uint64_t last_us;
};

/* max_entries: 1 .. TUNNEL_MAX_ENTRIES. NULL with a message in err when out of range or
 * the memory cannot be reserved. */
struct tunnel_table *tunnel_table_create(uint32_t max_entries, char *err, size_t errlen);
void tunnel_table_destroy(struct tunnel_table *t);

/* Count one DNS query from src (family 4: the address in src[0..3], the rest ignored;
 * or 6) for the registered domain regdom (1 .. TUNNEL_NAME_MAX chars) with the query
 * name qname (0 .. TUNNEL_NAME_MAX chars; it need not be under regdom) and type qtype,
 * at now_us, in the entry (src, regdom, window_s), creating it (and evicting the coldest
 * entry when full) after retiring what left the window. *out (if not NULL) gets the
 * measures after adding. Returns false, changing nothing and zeroing *out, on a bad
 * family, window_s or length, or a NULL regdom (qname may be NULL when qlen is 0). */
bool tunnel_dns_query(struct tunnel_table *t, int family, const uint8_t src[16],
		      const char *regdom, size_t rlen, const char *qname, size_t qlen,
		      uint16_t qtype, uint32_t window_s, uint64_t now_us,
		      struct tunnel_dns_sum *out);

/* Count one ICMP echo payload from src to dst (family 4 or 6 as above): payload_len
 * bytes on the wire, of which the first caplen were captured at payload (NULL allowed
 * when caplen is 0). Same entry handling, *out and refusals as tunnel_dns_query. */
bool tunnel_icmp_echo(struct tunnel_table *t, int family, const uint8_t src[16],
		      const uint8_t dst[16], const uint8_t *payload, size_t caplen,
		      uint32_t payload_len, uint32_t window_s, uint64_t now_us,
		      struct tunnel_icmp_sum *out);

/* The pool's counters: live entries, peak, created, evictions (table full). */
const struct kpool_stats *tunnel_table_stats(const struct tunnel_table *t);

/* Shannon entropy of the byte distribution of p[0..n), in bits per byte (0 .. 8); 0 for
 * n == 0. "aaaa" = 0, "aabb" = 1, "abcd" = 2. */
double tunnel_entropy(const uint8_t *p, size_t n);

/* The same value, bit for bit, through the table's cache of entropy terms (a query
 * costs its name's length and its distinct bytes, no logarithm once the terms are
 * known). */
double tunnel_table_entropy(struct tunnel_table *t, const uint8_t *p, size_t n);

/* Length of qname's left part under regdom: qname[0 .. result) precedes the dot before
 * regdom (compared without ASCII case, one trailing dot on either ignored); 0 when qname
 * is regdom, is not under it, or regdom is empty. */
size_t tunnel_dns_left_part(const char *qname, size_t qlen, const char *regdom,
			    size_t rlen);

#endif
