/* enrich-geoip.c: country and AS lookups in MaxMind DB files through libmaxminddb (the
 * only module that includes <maxminddb.h>). Opening checks the metadata's kind, walks
 * the search tree once and decodes a sample of data records, so a damaged file is
 * refused at start-up; lookups then allocate nothing and treat damaged records as not
 * found. */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>

#include <maxminddb.h>

#include "enrich-geoip.h"

/* Data records decoded while walking the search tree at open, the first met in node
 * order: most of a small database, a quick sample of a full-size one. */
#define GEOIP_CHECK_RECORDS	512
/* "\xab\xcd\xefMaxMind.com": ends the data section, starts the metadata. */
#define GEOIP_MARKER_LEN	14
/* The 16 zero bytes between the search tree and the data section. */
#define GEOIP_SEPARATOR_LEN	16

enum geoip_kind {
	GEOIP_COUNTRY,
	GEOIP_ASN,
};

struct geoip_db {
	MMDB_s mmdb;
	bool open;
};

struct geoip {
	struct geoip_db country;
	struct geoip_db asn;
};

/* Lookup paths for MMDB_aget_value (MMDB_get_value would calloc a copy per call). */
static const char *const geoip_path_country[] = { "country", "iso_code", NULL };
static const char *const geoip_path_asn[] = { "autonomous_system_number", NULL };
static const char *const geoip_path_org[] = { "autonomous_system_organization", NULL };

/* Fixed addresses looked up once at open, through the same code as geoip_lookup():
 * both families, so an IPv6 database's IPv4 subtree is walked too. */
static const char *const geoip_probe_addrs[] = {
	"1.0.0.1", "8.8.8.8", "81.2.69.160", "216.160.83.56", "2001:218::1",
	"2001:4860:4860::8888", "2a02:d040::1",
};

__attribute__((format(printf, 3, 4)))
static void geoip_err(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	if (err == NULL || errlen == 0)
		return;
	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
}

static const char *geoip_kind_name(enum geoip_kind kind)
{
	return kind == GEOIP_COUNTRY ? "a Country or City" : "an ASN or ISP";
}

/* A missing path (absent key, or a map where the data has something else) is not
 * damage: the record simply lacks the field. */
static bool geoip_absent(int rc)
{
	return rc == MMDB_LOOKUP_PATH_DOES_NOT_MATCH_DATA_ERROR ||
	       rc == MMDB_INVALID_LOOKUP_PATH_ERROR;
}

static bool geoip_alpha(char c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z');
}

/* Copy at most cap - 1 bytes, up to the first NUL; a cut does not split a UTF-8
 * sequence (unless the bytes are not UTF-8 anyway). */
static void geoip_copy_str(char *dst, size_t cap, const char *src, uint32_t len)
{
	const char *nul = memchr(src, '\0', len);
	size_t n = nul != NULL ? (size_t)(nul - src) : len;

	if (n >= cap) {
		size_t cut = cap - 1;

		n = cut;
		while (n > 0 && cut - n < 3 && ((unsigned char)src[n] & 0xc0) == 0x80)
			n--;
		if (((unsigned char)src[n] & 0xc0) == 0x80)
			n = cut;
	}
	memcpy(dst, src, n);
	dst[n] = '\0';
}

static int geoip_get_country(MMDB_entry_s *entry, char out[3])
{
	MMDB_entry_data_s d;
	int rc = MMDB_aget_value(entry, &d, geoip_path_country);

	if (rc != MMDB_SUCCESS || !d.has_data)
		return rc;
	if (d.type == MMDB_DATA_TYPE_UTF8_STRING && d.data_size == 2 &&
	    geoip_alpha(d.utf8_string[0]) && geoip_alpha(d.utf8_string[1])) {
		out[0] = d.utf8_string[0];
		out[1] = d.utf8_string[1];
		out[2] = '\0';
	}
	return MMDB_SUCCESS;
}

static int geoip_get_asn(MMDB_entry_s *entry, uint32_t *asn)
{
	MMDB_entry_data_s d;
	int rc = MMDB_aget_value(entry, &d, geoip_path_asn);

	if (rc != MMDB_SUCCESS || !d.has_data)
		return rc;
	switch (d.type) {
	case MMDB_DATA_TYPE_UINT16:
		*asn = d.uint16;
		break;
	case MMDB_DATA_TYPE_UINT32:
		*asn = d.uint32;
		break;
	case MMDB_DATA_TYPE_UINT64:
		if (d.uint64 <= UINT32_MAX)
			*asn = (uint32_t)d.uint64;
		break;
	case MMDB_DATA_TYPE_INT32:
		if (d.int32 > 0)
			*asn = (uint32_t)d.int32;
		break;
	default:
		break;
	}
	return MMDB_SUCCESS;
}

static int geoip_get_org(MMDB_entry_s *entry, char *out, size_t cap)
{
	MMDB_entry_data_s d;
	int rc = MMDB_aget_value(entry, &d, geoip_path_org);

	if (rc != MMDB_SUCCESS || !d.has_data)
		return rc;
	if (d.type == MMDB_DATA_TYPE_UTF8_STRING)
		geoip_copy_str(out, cap, d.utf8_string, d.data_size);
	return MMDB_SUCCESS;
}

/* The record for addr in db; false if there is none or the lookup failed (an IPv6
 * address in an IPv4-only database, a damaged tree). */
static bool geoip_find(const struct geoip_db *db, int family, const uint8_t *addr,
		       MMDB_lookup_result_s *res, int *mmdb_err)
{
	union {
		struct sockaddr sa;
		struct sockaddr_in in4;
		struct sockaddr_in6 in6;
	} u;

	memset(&u, 0, sizeof(u));
	if (family == 4) {
		u.in4.sin_family = AF_INET;
		memcpy(&u.in4.sin_addr, addr, 4);
	} else {
		u.in6.sin6_family = AF_INET6;
		memcpy(&u.in6.sin6_addr, addr, 16);
	}
	*mmdb_err = MMDB_SUCCESS;
	*res = MMDB_lookup_sockaddr(&db->mmdb, &u.sa, mmdb_err);
	return *mmdb_err == MMDB_SUCCESS && res->found_entry;
}

bool geoip_lookup(const struct geoip *g, int family, const uint8_t addr[16],
		  struct geoip_result *out)
{
	MMDB_lookup_result_s res;
	int rc;

	memset(out, 0, sizeof(*out));
	if (g == NULL || addr == NULL || (family != 4 && family != 6))
		return false;
	if (g->country.open && geoip_find(&g->country, family, addr, &res, &rc))
		geoip_get_country(&res.entry, out->country);
	if (g->asn.open && geoip_find(&g->asn, family, addr, &res, &rc)) {
		geoip_get_asn(&res.entry, &out->asn);
		geoip_get_org(&res.entry, out->as_org, sizeof(out->as_org));
	}
	return out->country[0] != '\0' || out->asn != 0 || out->as_org[0] != '\0';
}

/* ---- checks at open ------------------------------------------------- */

/* Decode every field geoip_lookup() reads (whatever the kind, so more of the record
 * is walked): MMDB_SUCCESS, or the status for a damaged record. */
static int geoip_check_entry(MMDB_entry_s *entry)
{
	struct geoip_result r;
	int rc;

	memset(&r, 0, sizeof(r));
	rc = geoip_get_country(entry, r.country);
	if (rc == MMDB_SUCCESS || geoip_absent(rc))
		rc = geoip_get_asn(entry, &r.asn);
	if (rc == MMDB_SUCCESS || geoip_absent(rc))
		rc = geoip_get_org(entry, r.as_org, sizeof(r.as_org));
	return geoip_absent(rc) ? MMDB_SUCCESS : rc;
}

/* A search-tree record: another node (never the root), "no data", or a pointer past
 * the 16-byte separator into the data section proper (before the metadata marker). */
static bool geoip_record_ok(const MMDB_s *m, uint64_t rec, uint8_t type, uint64_t data_len)
{
	uint64_t nodes = m->metadata.node_count;

	if (type == MMDB_RECORD_TYPE_INVALID)
		return false;
	if (rec <= nodes)
		return true;
	return rec - nodes >= GEOIP_SEPARATOR_LEN &&
	       rec - nodes - GEOIP_SEPARATOR_LEN < data_len;
}

static bool geoip_check_tree(const struct geoip_db *db, const char *path, char *err,
			     size_t errlen)
{
	const MMDB_s *m = &db->mmdb;
	uint64_t data_len;
	unsigned int sampled = 0;
	uint32_t i;
	int rc;

	if (m->metadata_section == NULL || m->data_section == NULL ||
	    m->metadata_section < m->data_section ||
	    (size_t)(m->metadata_section - m->data_section) < GEOIP_MARKER_LEN) {
		geoip_err(err, errlen, "%s: corrupt database: the search tree (%u nodes) runs "
			  "into the metadata", path, m->metadata.node_count);
		return false;
	}
	data_len = (uint64_t)(m->metadata_section - m->data_section) - GEOIP_MARKER_LEN;

	for (i = 0; i < m->metadata.node_count; i++) {
		MMDB_search_node_s node;

		rc = MMDB_read_node(m, i, &node);
		if (rc != MMDB_SUCCESS) {
			geoip_err(err, errlen, "%s: %s (search tree node %u)", path,
				  MMDB_strerror(rc), i);
			return false;
		}
		if (!geoip_record_ok(m, node.left_record, node.left_record_type, data_len) ||
		    !geoip_record_ok(m, node.right_record, node.right_record_type, data_len)) {
			geoip_err(err, errlen, "%s: corrupt search tree: node %u of %u points "
				  "outside the tree and the data section", path, i,
				  m->metadata.node_count);
			return false;
		}
		if (sampled < GEOIP_CHECK_RECORDS &&
		    node.left_record_type == MMDB_RECORD_TYPE_DATA) {
			sampled++;
			rc = geoip_check_entry(&node.left_record_entry);
		}
		if (rc == MMDB_SUCCESS && sampled < GEOIP_CHECK_RECORDS &&
		    node.right_record_type == MMDB_RECORD_TYPE_DATA) {
			sampled++;
			rc = geoip_check_entry(&node.right_record_entry);
		}
		if (rc != MMDB_SUCCESS) {
			geoip_err(err, errlen, "%s: %s (a data record of search tree node %u)",
				  path, MMDB_strerror(rc), i);
			return false;
		}
	}
	return true;
}

static bool geoip_check_probes(const struct geoip_db *db, const char *path, char *err,
			       size_t errlen)
{
	size_t i;

	for (i = 0; i < sizeof(geoip_probe_addrs) / sizeof(geoip_probe_addrs[0]); i++) {
		const char *text = geoip_probe_addrs[i];
		int family = strchr(text, ':') != NULL ? 6 : 4;
		MMDB_lookup_result_s res;
		uint8_t addr[16];
		int rc;

		memset(addr, 0, sizeof(addr));
		if (inet_pton(family == 4 ? AF_INET : AF_INET6, text, addr) != 1)
			continue;
		if (geoip_find(db, family, addr, &res, &rc))
			rc = geoip_check_entry(&res.entry);
		else if (rc == MMDB_IPV6_LOOKUP_IN_IPV4_DATABASE_ERROR)
			rc = MMDB_SUCCESS;
		if (rc != MMDB_SUCCESS) {
			geoip_err(err, errlen, "%s: %s (looking up %s)", path, MMDB_strerror(rc),
				  text);
			return false;
		}
	}
	return true;
}

static bool geoip_check_kind(const MMDB_s *m, const char *path, enum geoip_kind kind,
			     char *err, size_t errlen)
{
	const char *type = m->metadata.database_type;
	char shown[64];
	size_t i;

	if (type == NULL || type[0] == '\0') {
		geoip_err(err, errlen, "%s: has no database_type in its metadata, expected %s "
			  "database", path, geoip_kind_name(kind));
		return false;
	}
	if (kind == GEOIP_COUNTRY && (strstr(type, "Country") != NULL ||
				      strstr(type, "City") != NULL))
		return true;
	if (kind == GEOIP_ASN && (strstr(type, "ASN") != NULL || strstr(type, "ISP") != NULL))
		return true;
	/* The type comes from the file: printable ASCII only in the message. */
	for (i = 0; type[i] != '\0' && i + 1 < sizeof(shown); i++)
		shown[i] = type[i] >= 0x20 && type[i] < 0x7f ? type[i] : '?';
	shown[i] = '\0';
	geoip_err(err, errlen, "%s: is a %s database, expected %s database", path, shown,
		  geoip_kind_name(kind));
	return false;
}

static bool geoip_db_open(struct geoip_db *db, const char *path, enum geoip_kind kind,
			  char *err, size_t errlen)
{
	struct stat st;
	int rc;

	if (path[0] == '\0') {
		geoip_err(err, errlen, "empty file name for %s database", geoip_kind_name(kind));
		return false;
	}
	/* MMDB_open() would block on a FIFO, and report a directory or an empty file as
	 * a failed read ("Invalid argument" from mmap). */
	if (stat(path, &st) == 0 && (!S_ISREG(st.st_mode) || st.st_size == 0)) {
		geoip_err(err, errlen, "%s: %s", path, S_ISDIR(st.st_mode) ? "is a directory" :
			  !S_ISREG(st.st_mode) ? "not a regular file" :
			  "empty file, not a MaxMind DB");
		return false;
	}
	errno = 0;
	rc = MMDB_open(path, MMDB_MODE_MMAP, &db->mmdb);
	if (rc != MMDB_SUCCESS) {
		int e = errno;

		if ((rc == MMDB_FILE_OPEN_ERROR || rc == MMDB_IO_ERROR) && e != 0)
			geoip_err(err, errlen, "%s: %s (%s)", path, MMDB_strerror(rc),
				  strerror(e));
		else
			geoip_err(err, errlen, "%s: not a valid MaxMind DB: %s", path,
				  MMDB_strerror(rc));
		return false;
	}
	db->open = true;
	if (!geoip_check_tree(db, path, err, errlen) ||
	    !geoip_check_probes(db, path, err, errlen) ||
	    !geoip_check_kind(&db->mmdb, path, kind, err, errlen)) {
		MMDB_close(&db->mmdb);
		db->open = false;
		return false;
	}
	return true;
}

struct geoip *geoip_open(const char *country_path, const char *asn_path, char *err,
			 size_t errlen)
{
	struct geoip *g = calloc(1, sizeof(*g));

	if (g == NULL) {
		geoip_err(err, errlen, "geoip: out of memory");
		return NULL;
	}
	if (country_path != NULL &&
	    !geoip_db_open(&g->country, country_path, GEOIP_COUNTRY, err, errlen))
		goto fail;
	if (asn_path != NULL && !geoip_db_open(&g->asn, asn_path, GEOIP_ASN, err, errlen))
		goto fail;
	if (err != NULL && errlen > 0)
		err[0] = '\0';
	return g;
fail:
	geoip_close(g);
	return NULL;
}

void geoip_close(struct geoip *g)
{
	if (g == NULL)
		return;
	if (g->country.open)
		MMDB_close(&g->country.mmdb);
	if (g->asn.open)
		MMDB_close(&g->asn.mmdb);
	free(g);
}
