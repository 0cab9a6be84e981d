/* enrich-geoip.h: country and autonomous-system lookups for remote addresses, from
 * MaxMind DB files (GeoLite2/GeoIP2 Country or City, and ASN or ISP). Only
 * sensor/enrich-geoip.c sees libmaxminddb; callers get plain C types. */
#ifndef EGRESSD_ENRICH_GEOIP_H
#define EGRESSD_ENRICH_GEOIP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct geoip;	/* opaque: the open databases */

struct geoip_result {
	char country[3];	/* ISO 3166-1 alpha-2 (country.iso_code), "" if unknown */
	uint32_t asn;		/* autonomous_system_number, 0 if unknown */
	char as_org[128];	/* autonomous_system_organization, "" if unknown; NUL-free,
				 * other bytes as in the database (not escaped) */
};

/*
 * Open the databases. country_path is a Country or City database, asn_path an ASN or
 * ISP database (by the metadata's database_type); either may be NULL, and with both
 * NULL every lookup finds nothing ("" is refused). On error returns NULL with a
 * message in err that starts with the path: the file cannot be opened, is not a
 * regular file or not a MaxMind DB, is corrupt (a search-tree record out of range,
 * undecodable data in the first records or at a few fixed addresses) or is of the
 * wrong kind ("PATH: is a GeoLite2-ASN database, expected a Country or City
 * database"). The files stay memory-mapped read-only until geoip_close(); opening
 * walks the whole search tree once (a few million nodes in a full-size database).
 */
struct geoip *geoip_open(const char *country_path, const char *asn_path, char *err,
			 size_t errlen);

/*
 * Look up one address: family 4 (the address in addr[0..3]) or 6. Fills out (always
 * cleared first) and returns true if any field was found. An IPv4 address in an IPv6
 * database is looked up in its IPv4 subtree (::/96, as libmaxminddb does); an IPv6
 * address in an IPv4-only database finds nothing. Damaged records count as not found.
 * Allocates nothing; g may be NULL (finds nothing). Safe to call from several threads.
 */
bool geoip_lookup(const struct geoip *g, int family, const uint8_t addr[16],
		  struct geoip_result *out);

/* Unmap the databases and free g; NULL is a no-op. */
void geoip_close(struct geoip *g);

#endif
