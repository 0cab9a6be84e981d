/* enrich-domain.h: what a destination name says about where data goes: its registered
 * domain (eTLD+1, Public Suffix List), the category of service it belongs to (the MITRE
 * ATT&CK T1567 sub-techniques, file drops, tunnels), and the cloud storage tenant that a
 * virtual-hosted object-store name addresses (T1537).
 *
 * Names are DNS names as they come from the wire (TLS SNI, HTTP Host, DNS questions):
 * (name, len), not NUL-terminated, any case, maybe with one trailing dot (RFC 1034 3.1).
 * Nothing keeps a pointer to them. Sets have a capacity fixed at creation and never
 * allocate afterwards. Errors are written into the caller's (err, errlen).
 */
#ifndef EGRESSD_ENRICH_DOMAIN_H
#define EGRESSD_ENRICH_DOMAIN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define ENRICH_NAME_MAX   253 /* RFC 1035 2.3.4: 255 octets on the wire, 253 as text */
#define ENRICH_LABEL_MAX  63  /* RFC 1035 2.3.4 */
#define ENRICH_LABELS_MAX 127 /* "a.a. ... .a" in 253 characters */

/* ---- Registered domain (eTLD+1) ---------------------------------------------------- */

/* Debian's compiled Public Suffix List (package publicsuffix), which libpsl reports as
 * its distribution file; it is updated with that package, independently of libpsl. */
#define ENRICH_PSL_DEBIAN_FILE "/usr/share/publicsuffix/public_suffix_list.dafsa"

struct enrich_psl;

/* Open the Public Suffix List: libpsl's distribution file (on Debian 12
 * ENRICH_PSL_DEBIAN_FILE), else libpsl's built-in copy. NULL only when neither can be
 * had (reason in err). On success err is "" when the file was loaded, and a warning
 * naming the file and the built-in list's date when the built-in copy is used instead. */
struct enrich_psl *enrich_psl_open(char *err, size_t errlen);

/* The same from a given file (.dat or libpsl's DAFSA form); NULL path: as above. */
struct enrich_psl *enrich_psl_open_path(const char *path, char *err, size_t errlen);

void enrich_psl_close(struct enrich_psl *p);

/* Where the list came from: a file path, or "libpsl built-in (...)". */
const char *enrich_psl_source(const struct enrich_psl *p);

/* The registered domain of name[0..len) into out (NUL-terminated, lowercase): the
 * public suffix plus one label, private-section suffixes included (foo.github.io).
 * False (and out = "") when the name is not a hostname (empty label, label over 63,
 * over 253 characters, a byte outside [A-Za-z0-9-_.]), is an address literal (IPv6
 * has ':'; a last label of digits only is IPv4 in any of its forms, and no top-level
 * domain is all-numeric, RFC 3696 2), is itself a public suffix or a single label
 * ("co.uk", "localhost"), or when the result does not fit in outsz. */
bool enrich_registered_domain(const struct enrich_psl *p, const char *name, size_t len,
			      char *out, size_t outsz);

/* ---- Domain sets: suffix matching on label boundaries ------------------------------- */

#define DOMAIN_SET_MAX_CAPACITY (1u << 20)
#define DOMAIN_LIST_MAX_FILE    (16u << 20) /* bytes in a list file */
#define DOMAIN_LIST_MAX_LINE    1024        /* bytes in one line of it */

struct domain_set;

/* A set of at most capacity domains (1 .. DOMAIN_SET_MAX_CAPACITY); NULL if out of
 * range or out of memory. Entries are kept as normalised text: lowercase, without
 * a trailing dot. */
struct domain_set *domain_set_create(uint32_t capacity);
void domain_set_destroy(struct domain_set *set);

/* Add a domain: "example.com", ".example.com" and "*.example.com" all mean
 * example.com and every name below it. Returns 1 when added, 0 when already present
 * (err untouched), -1 with a message in err when the text is not a domain (empty
 * label, label over 63 or name over 253 characters, a character other than a-z 0-9
 * '-' '_' '.' after lowercasing) or the set is full. */
int domain_set_add(struct domain_set *set, const char *domain, char *err, size_t errlen);

/* The entry that covers name[0..len): the longest one that is the name itself or one
 * of its parent domains (label boundaries: example.com covers www.example.com, not
 * notexample.com), or NULL. One hash probe per suffix, from the full name down, at most
 * ENRICH_LABELS_MAX of them. The string lives as long as the set. */
const char *domain_set_match(const struct domain_set *set, const char *name, size_t len);

uint32_t domain_set_count(const struct domain_set *set);

/* The i-th entry in the order added (0 .. count-1), NULL past the end. */
const char *domain_set_entry(const struct domain_set *set, uint32_t i);

/* Add every domain of a list file: one per line, '#' starts a comment (whole line or
 * after the name), blank lines and surrounding blanks ignored, CRLF accepted. Every
 * problem is appended to err (which must hold a string, "" to start) as one line
 * "path:line: message\n", config_load's convention; a full err keeps its first lines.
 * Returns the number of problems, 0 when every line loaded. A file that cannot be
 * opened, is not a regular file or is over DOMAIN_LIST_MAX_FILE is one problem; a line
 * over DOMAIN_LIST_MAX_LINE is one; a full set is one and ends the load. Duplicates
 * are not problems. */
int domain_set_load_file(struct domain_set *set, const char *path, char *err, size_t errlen);

/* ---- Categories of services ---------------------------------------------------------- */

enum enrich_category {
	ENRICH_CAT_NONE,
	ENRICH_CAT_CLOUD_STORAGE, /* T1567.002 Exfiltration to Cloud Storage */
	ENRICH_CAT_PASTE,         /* T1567.003 Exfiltration to Text Storage Sites */
	ENRICH_CAT_CODE_REPO,     /* T1567.001 Exfiltration to Code Repository */
	ENRICH_CAT_WEBHOOK,       /* T1567.004 Exfiltration Over Webhook */
	ENRICH_CAT_FILE_DROP,     /* T1567 Exfiltration Over Web Service: anonymous file drops */
	ENRICH_CAT_TUNNEL,        /* T1572 Protocol Tunneling: public reverse-tunnel services */
	ENRICH_CAT__COUNT
};

/* "cloud_storage", "paste", "code_repository", "webhook", "file_drop",
 * "tunnel_service"; "none" for ENRICH_CAT_NONE, "unknown" out of range. The name is
 * also the list file's: <dir>/<name>.txt. */
const char *enrich_category_name(enum enrich_category c);

/* The category with that name; ENRICH_CAT_NONE for "none" and for unknown text. */
enum enrich_category enrich_category_parse(const char *text);

struct enrich_categories {
	struct domain_set *set[ENRICH_CAT__COUNT]; /* set[ENRICH_CAT_NONE] is NULL */
};

/* Create one empty set of per_category capacity for each category; false (and
 * nothing to free) when memory or the capacity is wrong. */
bool enrich_categories_init(struct enrich_categories *cats, uint32_t per_category);
void enrich_categories_free(struct enrich_categories *cats);

/* Load <dir>/<category>.txt into each category's set. Returns the number of problems
 * (as domain_set_load_file, appended to err; a missing file is one, naming it). */
int enrich_categories_load_dir(struct enrich_categories *cats, const char *dir, char *err,
			       size_t errlen);

/* The category of name[0..len): the most specific (longest) entry across every
 * category wins, so gist.githubusercontent.com in paste beats githubusercontent.com in
 * code_repository; between equal entries in two lists the lower enum value wins.
 * *matched (when matched is not NULL) is that entry, or NULL for ENRICH_CAT_NONE. */
enum enrich_category enrich_category_of(const struct enrich_categories *cats, const char *name,
					size_t len, const char **matched);

/* ---- Cloud storage tenants (T1537 Transfer Data to Cloud Account) ------------------ */

#define ENRICH_TENANT_MAX 256 /* "gcs:" + a 222-character bucket fits */

/* The account or bucket a virtual-hosted object-store name addresses. tenant is
 * canonical, so names written differently compare equal with strcmp:
 *   "s3:BUCKET"      AWS S3, partition aws (BUCKET.s3[.REGION|-REGION|.dualstack.REGION|
 *                    -accelerate|-website...].amazonaws.com)
 *   "s3-gov:BUCKET"  AWS S3 in GovCloud (us-gov-* regions), its own bucket namespace
 *   "s3-cn:BUCKET"   AWS S3 in China (*.amazonaws.com.cn), its own bucket namespace
 *   "azure:ACCOUNT"  Azure Storage account, any service (ACCOUNT.blob|dfs|file|queue|
 *                    table.core.windows.net, ACCOUNT.zNN.web.core.windows.net)
 *   "gcs:BUCKET"     Google Cloud Storage (BUCKET.storage.googleapis.com)
 *   "r2:ACCOUNT"     Cloudflare R2 account (ACCOUNT.r2.cloudflarestorage.com)
 *   "spaces:REGION/BUCKET"  DigitalOcean Spaces (BUCKET.REGION.digitaloceanspaces.com)
 * provider is "aws", "azure", "gcp", "cloudflare" or "digitalocean"; service is the
 * endpoint seen ("s3", "blob", "dfs", "file", "queue", "table", "web", "gcs", "r2",
 * "spaces"), "" when a configured short form named only an Azure account.
 * Path-style requests (s3.amazonaws.com/BUCKET, storage.googleapis.com/BUCKET) carry
 * the bucket in the URL path only, which TLS hides: they give no tenant. */
struct enrich_tenant {
	char provider[16];
	char service[16];
	char tenant[ENRICH_TENANT_MAX];
};

/* Recognise name[0..len) as one of the names above with a valid bucket or account
 * (S3: 3-63 of a-z 0-9 . -, letter or digit at both ends, no "..", not an IPv4
 * address, none of AWS's reserved prefixes and suffixes; Azure: 3-24 of a-z 0-9; GCS:
 * 3-63 of a-z 0-9 - _ ., up to 222 with dots, no "goog" prefix, no "google"; R2: a
 * 32-hex-digit account id; Spaces: 3-63 of a-z 0-9 . -). False (out zeroed) otherwise. */
bool enrich_cloud_tenant(const char *name, size_t len, struct enrich_tenant *out);

/* A tenant as written in configuration: a hostname as above, "https://HOST/...",
 * the short forms "s3:BUCKET", "s3-gov:BUCKET", "s3-cn:BUCKET", "azure:ACCOUNT",
 * "gcs:BUCKET", "r2:ACCOUNT", "spaces:REGION/BUCKET", or "s3://BUCKET/...",
 * "gs://BUCKET/...", "arn:aws:s3:::BUCKET" (also aws-cn, aws-us-gov). Case is ignored.
 * Gives the same canonical tenant as enrich_cloud_tenant on the hostname form. */
bool enrich_tenant_parse_config(const char *text, struct enrich_tenant *out, char *err,
				size_t errlen);

/* An organisation's own tenants, compared by canonical tenant string. */
#define TENANT_SET_MAX_CAPACITY (1u << 16)

struct tenant_set;

struct tenant_set *tenant_set_create(uint32_t capacity); /* 1 .. TENANT_SET_MAX_CAPACITY */
void tenant_set_destroy(struct tenant_set *set);

/* 1 added, 0 already present, -1 (message in err) when the set is full or t has no
 * tenant. */
int tenant_set_add(struct tenant_set *set, const struct enrich_tenant *t, char *err,
		   size_t errlen);
bool tenant_set_contains(const struct tenant_set *set, const struct enrich_tenant *t);
uint32_t tenant_set_count(const struct tenant_set *set);

#endif
