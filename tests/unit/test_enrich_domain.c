/* test_enrich_domain.c: sensor/enrich-domain.c: registered domains from Debian's Public
 * Suffix List, domain sets (suffix matching on label boundaries), list files, the
 * shipped category lists in rules/lists/, and cloud storage tenants (T1537).
 *
 * Registered domains were checked by hand against /usr/share/publicsuffix/
 * public_suffix_list.dat (publicsuffix 20230209.2326-1): it lists us-east-1.amazonaws.com
 * and s3.amazonaws.com but no core.windows.net rule, so BUCKET.s3.us-east-1.amazonaws.com
 * gives s3.us-east-1.amazonaws.com and ACCOUNT.blob.core.windows.net gives windows.net.
 * Tenant names follow the providers' documented endpoint forms and naming rules.
 * Run from the repository root (the lists are read from rules/lists/).
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "enrich-domain.h"

#define LISTS_DIR "rules/lists"

/* ---- Registered domain ------------------------------------------------------------ */

static struct enrich_psl *psl_open_ok(void)
{
	char err[512] = "x";
	struct enrich_psl *p = enrich_psl_open(err, sizeof(err));
	if (!p)
		fail_msg("enrich_psl_open: %s", err);
	if (err[0])
		fail_msg("enrich_psl_open warned: %s", err);
	return p;
}

static void check_reg(const struct enrich_psl *p, const char *name, const char *want)
{
	char out[ENRICH_NAME_MAX + 1];
	memset(out, 'z', sizeof(out));
	bool ok = enrich_registered_domain(p, name, strlen(name), out, sizeof(out));
	if (!want) {
		if (ok)
			fail_msg("'%s' gave '%s', want no registered domain", name, out);
		assert_string_equal(out, "");
		return;
	}
	if (!ok)
		fail_msg("'%s' gave no registered domain, want '%s'", name, want);
	assert_string_equal(out, want);
}

static void test_psl_source(void **state)
{
	(void)state;
	struct enrich_psl *p = psl_open_ok();
	/* Debian 12: libpsl's distribution file is the publicsuffix package's DAFSA */
	assert_string_equal(enrich_psl_source(p), ENRICH_PSL_DEBIAN_FILE);
	enrich_psl_close(p);
	enrich_psl_close(NULL); /* no-op */
}

static void test_psl_builtin_fallback(void **state)
{
	(void)state;
	char err[512] = "";
	struct enrich_psl *p = enrich_psl_open_path("/nonexistent/psl.dafsa", err, sizeof(err));
	assert_non_null(p);
	assert_non_null(strstr(err, "/nonexistent/psl.dafsa"));
	assert_non_null(strstr(err, "built-in"));
	assert_non_null(strstr(enrich_psl_source(p), "libpsl built-in"));
	check_reg(p, "www.example.co.uk", "example.co.uk");
	enrich_psl_close(p);

	/* the .dat form loads too */
	p = enrich_psl_open_path("/usr/share/publicsuffix/public_suffix_list.dat", err,
				 sizeof(err));
	assert_non_null(p);
	assert_string_equal(err, "");
	check_reg(p, "foo.github.io", "foo.github.io");
	enrich_psl_close(p);
}

static void test_registered_ordinary(void **state)
{
	(void)state;
	struct enrich_psl *p = psl_open_ok();
	check_reg(p, "example.com", "example.com");
	check_reg(p, "www.example.com", "example.com");
	check_reg(p, "a.b.c.example.com", "example.com");
	check_reg(p, "WWW.Example.COM", "example.com");   /* lowercased */
	check_reg(p, "www.example.com.", "example.com");  /* trailing dot */
	check_reg(p, "_dmarc.example.org", "example.org"); /* '_' is a DNS label byte */
	check_reg(p, "xn--bcher-kva.example", "xn--bcher-kva.example"); /* * rule for unknown TLDs */
	check_reg(p, "www.example.xn--p1ai", "example.xn--p1ai");         /* .рф in A-labels */
	check_reg(p, "en.wikipedia.org", "wikipedia.org");
	enrich_psl_close(p);
}

static void test_registered_multilabel(void **state)
{
	(void)state;
	struct enrich_psl *p = psl_open_ok();
	check_reg(p, "example.co.uk", "example.co.uk");
	check_reg(p, "www.example.co.uk", "example.co.uk");
	check_reg(p, "a.b.example.com.au", "example.com.au");
	check_reg(p, "www.city.kawasaki.jp", "city.kawasaki.jp"); /* !city.kawasaki.jp exception */
	check_reg(p, "foo.bar.kawasaki.jp", "foo.bar.kawasaki.jp"); /* *.kawasaki.jp */
	/* private section: github.io is a suffix, each user's site its own domain */
	check_reg(p, "foo.github.io", "foo.github.io");
	check_reg(p, "x.foo.github.io", "foo.github.io");
	check_reg(p, "blog.foo.blogspot.com", "foo.blogspot.com");
	/* a public suffix itself has no registered domain */
	check_reg(p, "github.io", NULL);
	check_reg(p, "co.uk", NULL);
	check_reg(p, "com", NULL);
	check_reg(p, "localhost", NULL);
	enrich_psl_close(p);
}

static void test_registered_cloud(void **state)
{
	(void)state;
	struct enrich_psl *p = psl_open_ok();
	/* us-east-1.amazonaws.com is a suffix (EC2), s3.us-east-1.amazonaws.com is not */
	check_reg(p, "corp-logs.s3.us-east-1.amazonaws.com", "s3.us-east-1.amazonaws.com");
	/* s3.amazonaws.com and s3.us-east-2.amazonaws.com are suffixes: each bucket its own */
	check_reg(p, "corp-logs.s3.amazonaws.com", "corp-logs.s3.amazonaws.com");
	check_reg(p, "corp-logs.s3.us-east-2.amazonaws.com", "corp-logs.s3.us-east-2.amazonaws.com");
	check_reg(p, "corp-logs.s3.dualstack.us-east-1.amazonaws.com",
		  "corp-logs.s3.dualstack.us-east-1.amazonaws.com");
	/* eu-west-1 has no S3 rule in this list: everything falls to amazonaws.com */
	check_reg(p, "corp-logs.s3.eu-west-1.amazonaws.com", "amazonaws.com");
	/* no core.windows.net rule in Debian 12's list */
	check_reg(p, "corpstore.blob.core.windows.net", "windows.net");
	check_reg(p, "corp-logs.storage.googleapis.com", "storage.googleapis.com");
	check_reg(p, "abc.ngrok-free.app", "ngrok-free.app");
	check_reg(p, "abc.trycloudflare.com", "abc.trycloudflare.com");
	enrich_psl_close(p);
}

static void test_registered_junk(void **state)
{
	(void)state;
	struct enrich_psl *p = psl_open_ok();
	char out[ENRICH_NAME_MAX + 1], big[300];

	/* IP literals */
	check_reg(p, "1.2.3.4", NULL);
	check_reg(p, "10.0.0.1.", NULL);
	check_reg(p, "192.168.1", NULL); /* inet_aton's short forms */
	check_reg(p, "0x7f.1", NULL);
	check_reg(p, "example.123", NULL); /* no all-numeric TLD (RFC 3696 2) */
	check_reg(p, "::1", NULL);
	check_reg(p, "[::1]", NULL);
	check_reg(p, "2001:db8::1", NULL);
	check_reg(p, "fe80::1%eth0", NULL);

	/* not host names */
	check_reg(p, "", NULL);
	check_reg(p, ".", NULL);
	check_reg(p, "..", NULL);
	check_reg(p, "a..example.com", NULL);
	check_reg(p, ".example.com", NULL);
	check_reg(p, "example.com..", NULL);
	check_reg(p, "exa mple.com", NULL);
	check_reg(p, "example.com/path", NULL);
	check_reg(p, "user@example.com", NULL);
	check_reg(p, "*.example.com", NULL);
	check_reg(p, "caf\xc3\xa9.fr", NULL); /* U-label: SNI carries A-labels (RFC 6066 3) */
	check_reg(p, "\x01" "example.com", NULL);
	assert_false(enrich_registered_domain(p, "exa\0mple.com", 12, out, sizeof(out)));

	/* label of 64, name of 254 */
	memset(big, 'a', 64);
	strcpy(big + 64, ".com");
	check_reg(p, big, NULL);
	big[1] = '.'; /* labels of 1 and 62 */
	check_reg(p, big, big + 2);
	big[0] = 'b'; /* "b" + "a.a. ... a.com": 254 characters, then 253 */
	for (int i = 1; i < 251; i++)
		big[i] = i % 2 ? 'a' : '.';
	memcpy(big + 251, "com", 4);
	assert_int_equal(strlen(big), 254);
	check_reg(p, big, NULL);
	check_reg(p, big + 1, "a.com");

	/* (name, len): bytes past len are not read */
	assert_true(enrich_registered_domain(p, "www.example.comXYZ", 15, out, sizeof(out)));
	assert_string_equal(out, "example.com");
	/* result too large for out */
	assert_false(enrich_registered_domain(p, "www.example.com", 15, out, 11));
	assert_true(enrich_registered_domain(p, "www.example.com", 15, out, 12));
	assert_false(enrich_registered_domain(NULL, "example.com", 11, out, sizeof(out)));
	enrich_psl_close(p);
}

/* ---- Domain sets ---------------------------------------------------------------- */

static void add_ok(struct domain_set *s, const char *d, int want)
{
	char err[256] = "";
	int r = domain_set_add(s, d, err, sizeof(err));
	if (r != want)
		fail_msg("add '%s' = %d, want %d (%s)", d, r, want, err);
}

static void add_bad(struct domain_set *s, const char *d, const char *msg)
{
	char err[256] = "";
	uint32_t before = domain_set_count(s);
	assert_int_equal(domain_set_add(s, d, err, sizeof(err)), -1);
	if (!strstr(err, msg))
		fail_msg("add '%s': message '%s' lacks '%s'", d, err, msg);
	assert_int_equal(domain_set_count(s), before);
}

static const char *match(const struct domain_set *s, const char *name)
{
	return domain_set_match(s, name, strlen(name));
}

static void test_set_create(void **state)
{
	(void)state;
	assert_null(domain_set_create(0));
	assert_null(domain_set_create(DOMAIN_SET_MAX_CAPACITY + 1));
	struct domain_set *s = domain_set_create(1);
	assert_non_null(s);
	assert_int_equal(domain_set_count(s), 0);
	assert_null(match(s, "example.com"));
	domain_set_destroy(s);
	domain_set_destroy(NULL);
	assert_null(domain_set_match(NULL, "x", 1));
}

static void test_set_suffix(void **state)
{
	(void)state;
	struct domain_set *s = domain_set_create(16);
	add_ok(s, "example.com", 1);

	assert_string_equal(match(s, "example.com"), "example.com");
	assert_string_equal(match(s, "www.example.com"), "example.com");
	assert_string_equal(match(s, "a.b.c.example.com"), "example.com");
	assert_string_equal(match(s, "WWW.EXAMPLE.COM"), "example.com");
	assert_string_equal(match(s, "www.example.com."), "example.com");
	assert_string_equal(match(s, "a..example.com"), "example.com"); /* wire junk still ends in it */
	/* label boundaries */
	assert_null(match(s, "notexample.com"));
	assert_null(match(s, "www.notexample.com"));
	assert_null(match(s, "example.com.evil.net"));
	assert_null(match(s, "example.co"));
	assert_null(match(s, "xample.com"));
	assert_null(match(s, "com"));
	assert_null(match(s, ""));
	assert_null(match(s, "."));
	/* (name, len) */
	assert_string_equal(domain_set_match(s, "www.example.comXYZ", 15), "example.com");
	assert_null(domain_set_match(s, "www.example.comXYZ", 14));

	/* the three spellings are one entry */
	add_ok(s, "*.example.org", 1);
	add_ok(s, ".example.org", 0);
	add_ok(s, "example.org", 0);
	add_ok(s, "EXAMPLE.ORG.", 0);
	add_ok(s, ".example.net", 1);
	add_ok(s, "*.example.net", 0);
	assert_int_equal(domain_set_count(s), 3);
	assert_string_equal(match(s, "example.org"), "example.org");
	assert_string_equal(match(s, "x.example.net"), "example.net");
	assert_string_equal(domain_set_entry(s, 0), "example.com");
	assert_string_equal(domain_set_entry(s, 1), "example.org");
	assert_string_equal(domain_set_entry(s, 2), "example.net");
	assert_null(domain_set_entry(s, 3));
	domain_set_destroy(s);
}

static void test_set_longest(void **state)
{
	(void)state;
	struct domain_set *s = domain_set_create(16);
	add_ok(s, "githubusercontent.com", 1);
	add_ok(s, "gist.githubusercontent.com", 1);
	add_ok(s, "a.b.c.d.example", 1);
	add_ok(s, "example", 1); /* a single label is a domain too */
	assert_string_equal(match(s, "x.gist.githubusercontent.com"), "gist.githubusercontent.com");
	assert_string_equal(match(s, "gist.githubusercontent.com"), "gist.githubusercontent.com");
	assert_string_equal(match(s, "raw.githubusercontent.com"), "githubusercontent.com");
	assert_string_equal(match(s, "z.a.b.c.d.example"), "a.b.c.d.example");
	assert_string_equal(match(s, "b.c.d.example"), "example");

	/* 127 labels (the most 253 characters hold): the last one is still reached */
	char name[ENRICH_NAME_MAX + 1];
	for (int i = 0; i < 126; i++)
		memcpy(name + 2 * i, "a.", 2);
	memcpy(name + 252, "x", 2);
	assert_int_equal(strlen(name), 253);
	assert_null(match(s, name));
	add_ok(s, "x", 1);
	assert_string_equal(match(s, name), "x");
	add_ok(s, name + 2, 1); /* 126 labels */
	assert_string_equal(match(s, name), name + 2);
	/* over 253 characters: not a name */
	char longer[ENRICH_NAME_MAX + 3];
	snprintf(longer, sizeof(longer), "b.%s", name);
	assert_null(match(s, longer));
	domain_set_destroy(s);
}

static void test_set_full(void **state)
{
	(void)state;
	char err[256] = "";
	struct domain_set *s = domain_set_create(2);
	add_ok(s, "one.example", 1);
	add_ok(s, "two.example", 1);
	assert_int_equal(domain_set_add(s, "three.example", err, sizeof(err)), -1);
	assert_non_null(strstr(err, "full"));
	assert_non_null(strstr(err, "three.example"));
	add_ok(s, "one.example", 0); /* present: still fine on a full set */
	assert_int_equal(domain_set_count(s), 2);
	assert_null(match(s, "three.example"));
	assert_string_equal(match(s, "x.two.example"), "two.example");
	domain_set_destroy(s);

	/* a set filled to capacity keeps every entry findable */
	s = domain_set_create(1000);
	char d[32];
	for (int i = 0; i < 1000; i++) {
		snprintf(d, sizeof(d), "host%d.example", i);
		add_ok(s, d, 1);
	}
	for (int i = 0; i < 1000; i++) {
		snprintf(d, sizeof(d), "www.host%d.example", i);
		assert_string_equal(match(s, d), d + 4);
	}
	assert_int_equal(domain_set_add(s, "more.example", err, sizeof(err)), -1);
	domain_set_destroy(s);
}

static void test_set_bad(void **state)
{
	(void)state;
	char label64[80], name254[260];
	struct domain_set *s = domain_set_create(16);
	add_bad(s, "", "no domain");
	add_bad(s, ".", "no domain");
	add_bad(s, "*.", "no domain");
	add_bad(s, "*", "character '*' is not allowed");
	add_bad(s, "..example.com", "empty label");
	add_bad(s, "a..example.com", "empty label");
	add_bad(s, "example.com..", "empty label");
	add_bad(s, "foo.*.example.com", "character '*' is not allowed");
	add_bad(s, "**.example.com", "character '*' is not allowed");
	add_bad(s, "exa mple.com", "byte 0x20 is not allowed");
	add_bad(s, "http://example.com", "character ':' is not allowed");
	add_bad(s, "example.com/x", "character '/' is not allowed");
	add_bad(s, "caf\xc3\xa9.fr", "byte 0xc3 is not allowed");
	memset(label64, 'a', 64);
	strcpy(label64 + 64, ".com");
	add_bad(s, label64, "longer than 63");
	add_ok(s, label64 + 1, 1); /* 63 is fine */
	for (int i = 0; i < 254; i++)
		name254[i] = i % 2 ? '.' : 'a';
	name254[253] = 'a';
	name254[254] = '\0';
	add_bad(s, name254, "longer than 253");
	add_ok(s, name254 + 1 + 1, 1); /* 252 characters */
	add_ok(s, "under_score.example", 1);
	add_ok(s, "-hyphen-.example", 1);
	assert_int_equal(domain_set_count(s), 4);
	domain_set_destroy(s);
}

/* ---- List files ------------------------------------------------------------------- */

static void write_file(const char *path, const char *text, size_t len)
{
	FILE *f = fopen(path, "wb");
	assert_non_null(f);
	assert_int_equal(fwrite(text, 1, len, f), len);
	assert_int_equal(fclose(f), 0);
}

static void assert_has(const char *err, const char *want)
{
	if (!strstr(err, want))
		fail_msg("'%s' not in:\n%s", want, err);
}

static void test_load_file(void **state)
{
	(void)state;
	char dir[] = "/tmp/test_enrich_domain.XXXXXX";
	assert_non_null(mkdtemp(dir));
	char path[128], err[4096] = "", want[256];
	snprintf(path, sizeof(path), "%s/list.txt", dir);
	static const char text[] =
		"# a comment\n"                      /* 1 */
		"\n"                                 /* 2 */
		"example.com\n"                      /* 3 */
		"  *.example.org   # trailing\n"     /* 4 */
		"bad..name\n"                        /* 5 */
		".example.net\r\n"                   /* 6 CRLF */
		"\t\n"                               /* 7 */
		"two names.com\n"                    /* 8 */
		"two.example three.example\n"        /* 9 */
		"ex*ample.com\n"                     /* 10 */
		"example.com\n"                      /* 11 duplicate: not a problem */
		"exa\0mple.com\n"                    /* 12 NUL byte */
		"last.example";                      /* 13 no final newline */
	write_file(path, text, sizeof(text) - 1);

	struct domain_set *s = domain_set_create(64);
	int n = domain_set_load_file(s, path, err, sizeof(err));
	assert_int_equal(n, 5);
	snprintf(want, sizeof(want), "%s:5: 'bad..name': empty label", path);
	assert_has(err, want);
	snprintf(want, sizeof(want), "%s:8: more than one name", path);
	assert_has(err, want);
	snprintf(want, sizeof(want), "%s:9: more than one name", path);
	assert_has(err, want);
	snprintf(want, sizeof(want), "%s:10: 'ex*ample.com': character '*'", path);
	assert_has(err, want);
	snprintf(want, sizeof(want), "%s:12: 'exa?mple.com': byte 0x00", path);
	assert_has(err, want);
	/* one line "path:line: message\n" per problem */
	int lines = 0;
	for (const char *p = err; *p; p++)
		lines += *p == '\n';
	assert_int_equal(lines, 5);
	assert_int_equal(err[strlen(err) - 1], '\n');
	assert_int_equal(domain_set_count(s), 4);
	assert_non_null(match(s, "www.example.com"));
	assert_non_null(match(s, "example.org"));
	assert_non_null(match(s, "a.example.net"));
	assert_non_null(match(s, "last.example"));
	domain_set_destroy(s);

	/* err is appended to, and a small err keeps its first messages */
	char small[40] = "before\n";
	s = domain_set_create(64);
	assert_int_equal(domain_set_load_file(s, path, small, sizeof(small)), 5);
	assert_int_equal(strncmp(small, "before\n", 7), 0);
	assert_int_equal(strlen(small), sizeof(small) - 1);
	domain_set_destroy(s);

	/* a line over the limit */
	char *longline = malloc(DOMAIN_LIST_MAX_LINE + 64);
	assert_non_null(longline);
	memset(longline, 'a', DOMAIN_LIST_MAX_LINE + 1);
	memcpy(longline + DOMAIN_LIST_MAX_LINE + 1, "\nok.example\n", 12);
	write_file(path, longline, DOMAIN_LIST_MAX_LINE + 13);
	free(longline);
	err[0] = '\0';
	s = domain_set_create(4);
	assert_int_equal(domain_set_load_file(s, path, err, sizeof(err)), 1);
	snprintf(want, sizeof(want), "%s:1: line longer than %u bytes\n", path,
		 DOMAIN_LIST_MAX_LINE);
	assert_string_equal(err, want);
	assert_int_equal(domain_set_count(s), 1);
	domain_set_destroy(s);

	/* a full set: one problem, the load ends */
	write_file(path, "a.example\nb.example\nc.example\nd.example\n", 40);
	err[0] = '\0';
	s = domain_set_create(2);
	assert_int_equal(domain_set_load_file(s, path, err, sizeof(err)), 1);
	snprintf(want, sizeof(want), "%s:3: 'c.example': the set is full (2 domains)\n", path);
	assert_string_equal(err, want);
	domain_set_destroy(s);

	/* missing, a directory, too large */
	s = domain_set_create(4);
	err[0] = '\0';
	snprintf(path, sizeof(path), "%s/missing.txt", dir);
	assert_int_equal(domain_set_load_file(s, path, err, sizeof(err)), 1);
	snprintf(want, sizeof(want), "%s: No such file or directory\n", path);
	assert_string_equal(err, want);
	err[0] = '\0';
	assert_int_equal(domain_set_load_file(s, dir, err, sizeof(err)), 1);
	assert_has(err, "not a regular file");
	snprintf(path, sizeof(path), "%s/big.txt", dir);
	FILE *f = fopen(path, "wb");
	assert_non_null(f);
	assert_int_equal(ftruncate(fileno(f), (off_t)DOMAIN_LIST_MAX_FILE + 1), 0);
	fclose(f);
	err[0] = '\0';
	assert_int_equal(domain_set_load_file(s, path, err, sizeof(err)), 1);
	assert_has(err, "over the 16 MiB");
	unlink(path);
	domain_set_destroy(s);

	snprintf(path, sizeof(path), "%s/list.txt", dir);
	unlink(path);
	rmdir(dir);
}

/* ---- Shipped lists ---------------------------------------------------------------- */

/* Names in a list file as written (comments and blanks dropped). */
static int read_entries(const char *path, char (*out)[ENRICH_NAME_MAX + 3], int max)
{
	char line[DOMAIN_LIST_MAX_LINE + 2];
	int n = 0;
	FILE *f = fopen(path, "r");
	if (!f)
		fail_msg("%s: cannot open (run from the repository root)", path);
	while (fgets(line, sizeof(line), f)) {
		line[strcspn(line, "#\r\n")] = '\0';
		char *a = line + strspn(line, " \t");
		size_t l = strcspn(a, " \t");
		if (l == 0)
			continue;
		if (n >= max)
			fail_msg("%s: more than %d entries", path, max);
		snprintf(out[n++], ENRICH_NAME_MAX + 3, "%.*s", (int)l, a);
	}
	fclose(f);
	return n;
}

static void test_shipped_lists(void **state)
{
	(void)state;
	static char entries[ENRICH_CAT__COUNT][512][ENRICH_NAME_MAX + 3];
	int count[ENRICH_CAT__COUNT] = { 0 };
	struct domain_set *sets[ENRICH_CAT__COUNT] = { NULL };

	for (int c = ENRICH_CAT_NONE + 1; c < ENRICH_CAT__COUNT; c++) {
		char path[256], err[4096] = "";
		snprintf(path, sizeof(path), "%s/%s.txt", LISTS_DIR,
			 enrich_category_name((enum enrich_category)c));
		sets[c] = domain_set_create(4096);
		int problems = domain_set_load_file(sets[c], path, err, sizeof(err));
		if (problems)
			fail_msg("%s: %d problems:\n%s", path, problems, err);
		count[c] = read_entries(path, entries[c], 512);
		assert_true(count[c] >= 10);
		/* no duplicates: every written entry became one set entry */
		if ((uint32_t)count[c] != domain_set_count(sets[c]))
			fail_msg("%s: %d entries but %u distinct", path, count[c],
				 domain_set_count(sets[c]));
		for (uint32_t i = 0; i < domain_set_count(sets[c]); i++) {
			const char *e = domain_set_entry(sets[c], i);
			/* written in normal form (lowercase, no "*." or "."); */
			assert_string_equal(e, entries[c][i]);
			/* and not already covered by another entry of the same list */
			const char *dot = strchr(e, '.');
			const char *parent = dot ? domain_set_match(sets[c], dot + 1, strlen(dot + 1)) : NULL;
			if (parent)
				fail_msg("%s: '%s' is already covered by '%s'", path, e, parent);
		}
		printf("  %-32s %3d entries\n", path, count[c]);
	}
	/* no entry in two lists */
	for (int c = ENRICH_CAT_NONE + 1; c < ENRICH_CAT__COUNT; c++) {
		for (int d = c + 1; d < ENRICH_CAT__COUNT; d++) {
			for (int i = 0; i < count[c]; i++) {
				const char *e = entries[c][i];
				const char *m = domain_set_match(sets[d], e, strlen(e));
				if (m && strcmp(m, e) == 0)
					fail_msg("'%s' is in both %s and %s", e,
						 enrich_category_name((enum enrich_category)c),
						 enrich_category_name((enum enrich_category)d));
			}
		}
	}
	for (int c = 0; c < ENRICH_CAT__COUNT; c++)
		domain_set_destroy(sets[c]);
}

/* ---- Categories ----------------------------------------------------------------- */

static void test_category_names(void **state)
{
	(void)state;
	static const char *const want[] = { "none", "cloud_storage", "paste", "code_repository",
					    "webhook", "file_drop", "tunnel_service" };
	assert_int_equal(sizeof(want) / sizeof(want[0]), ENRICH_CAT__COUNT);
	for (int c = 0; c < ENRICH_CAT__COUNT; c++) {
		assert_string_equal(enrich_category_name((enum enrich_category)c), want[c]);
		assert_int_equal(enrich_category_parse(want[c]), c);
	}
	assert_string_equal(enrich_category_name(ENRICH_CAT__COUNT), "unknown");
	assert_int_equal(enrich_category_parse("Paste"), ENRICH_CAT_NONE);
	assert_int_equal(enrich_category_parse("code_repo"), ENRICH_CAT_NONE);
	assert_int_equal(enrich_category_parse(""), ENRICH_CAT_NONE);
	assert_int_equal(enrich_category_parse(NULL), ENRICH_CAT_NONE);
}

static void check_cat(const struct enrich_categories *cats, const char *name,
		      enum enrich_category want, const char *want_entry)
{
	const char *m = "unset";
	enum enrich_category c = enrich_category_of(cats, name, strlen(name), &m);
	if (c != want)
		fail_msg("'%s' is %s (%s), want %s", name, enrich_category_name(c), m ? m : "-",
			 enrich_category_name(want));
	if (!want_entry)
		assert_null(m);
	else
		assert_string_equal(m, want_entry);
}

static void test_categories_shipped(void **state)
{
	(void)state;
	struct enrich_categories cats;
	char err[4096] = "";
	assert_true(enrich_categories_init(&cats, 1024));
	assert_null(cats.set[ENRICH_CAT_NONE]);
	int n = enrich_categories_load_dir(&cats, LISTS_DIR, err, sizeof(err));
	if (n)
		fail_msg("%d problems:\n%s", n, err);

	check_cat(&cats, "content.dropboxapi.com", ENRICH_CAT_CLOUD_STORAGE, "dropboxapi.com");
	check_cat(&cats, "drive.google.com", ENRICH_CAT_CLOUD_STORAGE, "drive.google.com");
	check_cat(&cats, "contoso-my.sharepoint.com", ENRICH_CAT_CLOUD_STORAGE, "sharepoint.com");
	check_cat(&cats, "gfs270n103.userstorage.mega.co.nz", ENRICH_CAT_CLOUD_STORAGE, "mega.co.nz");
	check_cat(&cats, "pastebin.com", ENRICH_CAT_PASTE, "pastebin.com");
	check_cat(&cats, "gist.github.com", ENRICH_CAT_PASTE, "gist.github.com");
	/* the most specific entry wins across lists */
	check_cat(&cats, "gist.githubusercontent.com", ENRICH_CAT_PASTE, "gist.githubusercontent.com");
	check_cat(&cats, "raw.githubusercontent.com", ENRICH_CAT_CODE_REPO, "githubusercontent.com");
	check_cat(&cats, "api.github.com", ENRICH_CAT_CODE_REPO, "github.com");
	check_cat(&cats, "uploads.github.com", ENRICH_CAT_CODE_REPO, "github.com");
	check_cat(&cats, "GitLab.com.", ENRICH_CAT_CODE_REPO, "gitlab.com");
	check_cat(&cats, "hooks.slack.com", ENRICH_CAT_WEBHOOK, "hooks.slack.com");
	check_cat(&cats, "contoso.webhook.office.com", ENRICH_CAT_WEBHOOK, "webhook.office.com");
	check_cat(&cats, "discord.com", ENRICH_CAT_WEBHOOK, "discord.com");
	check_cat(&cats, "api.telegram.org", ENRICH_CAT_WEBHOOK, "api.telegram.org");
	check_cat(&cats, "transfer.sh", ENRICH_CAT_FILE_DROP, "transfer.sh");
	check_cat(&cats, "litterbox.catbox.moe", ENRICH_CAT_FILE_DROP, "catbox.moe");
	check_cat(&cats, "abc123.ngrok-free.app", ENRICH_CAT_TUNNEL, "ngrok-free.app");
	check_cat(&cats, "connect.ngrok-agent.com", ENRICH_CAT_TUNNEL, "ngrok-agent.com");
	check_cat(&cats, "region1.v2.argotunnel.com", ENRICH_CAT_TUNNEL, "argotunnel.com");
	check_cat(&cats, "x-8080.usw2.devtunnels.ms", ENRICH_CAT_TUNNEL, "devtunnels.ms");

	/* general hosts stay out: a list entry must not make everyday traffic match */
	static const char *const everyday[] = {
		"www.google.com", "google.com", "www.googleapis.com", "fonts.googleapis.com",
		"lh3.googleusercontent.com", "s3.amazonaws.com", "corp-logs.s3.amazonaws.com",
		"ec2.us-east-1.amazonaws.com", "d111111abcdef8.cloudfront.net",
		"corpstore.blob.core.windows.net", "login.microsoftonline.com",
		"www.microsoft.com", "outlook.office.com", "outlook.office365.com",
		"graph.microsoft.com", "login.live.com", "www.apple.com", "www.icloud.com",
		"gateway.icloud.com", "slack.com", "app.slack.com", "telegram.org",
		"www.cloudflare.com", "github.githubassets.com", "foo.github.io",
		"update.code.visualstudio.com", "marketplace.visualstudio.com", "yandex.ru",
		"www.baidu.com", "www.zoho.com", "example.com", "notgithub.com", "github.com.evil.net",
	};
	for (size_t i = 0; i < sizeof(everyday) / sizeof(everyday[0]); i++)
		check_cat(&cats, everyday[i], ENRICH_CAT_NONE, NULL);
	assert_int_equal(enrich_category_of(&cats, "", 0, NULL), ENRICH_CAT_NONE);
	assert_int_equal(enrich_category_of(NULL, "github.com", 10, NULL), ENRICH_CAT_NONE);
	enrich_categories_free(&cats);
	enrich_categories_free(&cats); /* twice is harmless */
}

static void test_categories_precedence(void **state)
{
	(void)state;
	struct enrich_categories cats;
	char err[256] = "";
	assert_true(enrich_categories_init(&cats, 8));
	/* longest wins whatever the enum order */
	assert_int_equal(domain_set_add(cats.set[ENRICH_CAT_CODE_REPO], "githubusercontent.com", err,
					sizeof(err)), 1);
	assert_int_equal(domain_set_add(cats.set[ENRICH_CAT_PASTE], "gist.githubusercontent.com",
					err, sizeof(err)), 1);
	assert_int_equal(domain_set_add(cats.set[ENRICH_CAT_CLOUD_STORAGE], "deep.b.example", err,
					sizeof(err)), 1);
	assert_int_equal(domain_set_add(cats.set[ENRICH_CAT_TUNNEL], "b.example", err,
					sizeof(err)), 1);
	assert_int_equal(domain_set_add(cats.set[ENRICH_CAT_FILE_DROP], "x.deep.b.example", err,
					sizeof(err)), 1);
	check_cat(&cats, "gist.githubusercontent.com", ENRICH_CAT_PASTE, "gist.githubusercontent.com");
	check_cat(&cats, "raw.githubusercontent.com", ENRICH_CAT_CODE_REPO, "githubusercontent.com");
	check_cat(&cats, "a.deep.b.example", ENRICH_CAT_CLOUD_STORAGE, "deep.b.example");
	check_cat(&cats, "a.x.deep.b.example", ENRICH_CAT_FILE_DROP, "x.deep.b.example");
	check_cat(&cats, "c.b.example", ENRICH_CAT_TUNNEL, "b.example");
	/* the same entry in two lists: the lower enum value */
	assert_int_equal(domain_set_add(cats.set[ENRICH_CAT_WEBHOOK], "same.example", err,
					sizeof(err)), 1);
	assert_int_equal(domain_set_add(cats.set[ENRICH_CAT_PASTE], "same.example", err,
					sizeof(err)), 1);
	check_cat(&cats, "a.same.example", ENRICH_CAT_PASTE, "same.example");
	enrich_categories_free(&cats);
}

static void test_categories_missing(void **state)
{
	(void)state;
	char dir[] = "/tmp/test_enrich_cats.XXXXXX", path[128], err[2048] = "", want[160];
	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/paste.txt", dir);
	write_file(path, "pastebin.com\nbad..one\n", 22);
	struct enrich_categories cats;
	assert_true(enrich_categories_init(&cats, 8));
	/* five files missing and one bad line */
	assert_int_equal(enrich_categories_load_dir(&cats, dir, err, sizeof(err)), 6);
	static const char *const missing[] = { "cloud_storage", "code_repository", "webhook",
					       "file_drop", "tunnel_service" };
	for (size_t i = 0; i < 5; i++) {
		snprintf(want, sizeof(want), "%s/%s.txt: No such file or directory", dir, missing[i]);
		assert_has(err, want);
	}
	snprintf(want, sizeof(want), "%s/paste.txt:2: 'bad..one': empty label", dir);
	assert_has(err, want);
	check_cat(&cats, "pastebin.com", ENRICH_CAT_PASTE, "pastebin.com");
	enrich_categories_free(&cats);
	unlink(path);
	rmdir(dir);
}

/* ---- Cloud tenants -------------------------------------------------------------- */

static void check_tenant(const char *name, const char *provider, const char *service,
			 const char *tenant)
{
	struct enrich_tenant t;
	memset(&t, 0x55, sizeof(t));
	bool ok = enrich_cloud_tenant(name, strlen(name), &t);
	if (!tenant) {
		if (ok)
			fail_msg("'%s' gave tenant '%s', want none", name, t.tenant);
		assert_string_equal(t.tenant, "");
		return;
	}
	if (!ok)
		fail_msg("'%s' gave no tenant, want '%s'", name, tenant);
	assert_string_equal(t.provider, provider);
	assert_string_equal(t.service, service);
	assert_string_equal(t.tenant, tenant);
}

static void test_tenant_s3(void **state)
{
	(void)state;
	static const char *const forms[] = {
		"corp-logs.s3.amazonaws.com",
		"corp-logs.s3.us-east-1.amazonaws.com",
		"corp-logs.s3.eu-west-1.amazonaws.com",
		"corp-logs.s3.ap-southeast-2.amazonaws.com",
		"corp-logs.s3-us-west-2.amazonaws.com",
		"corp-logs.s3-eu-west-1.amazonaws.com",
		"corp-logs.s3.dualstack.us-east-1.amazonaws.com",
		"corp-logs.s3.dualstack.eu-central-1.amazonaws.com",
		"corp-logs.s3-accelerate.amazonaws.com",
		"corp-logs.s3-accelerate.dualstack.amazonaws.com",
		"corp-logs.s3-website-us-east-1.amazonaws.com",
		"corp-logs.s3-website.eu-central-1.amazonaws.com",
		"corp-logs.s3-fips.us-east-1.amazonaws.com",
		"corp-logs.s3-fips.dualstack.us-east-2.amazonaws.com",
		"corp-logs.s3-external-1.amazonaws.com",
		"CORP-LOGS.S3.AMAZONAWS.COM.",
	};
	for (size_t i = 0; i < sizeof(forms) / sizeof(forms[0]); i++)
		check_tenant(forms[i], "aws", "s3", "s3:corp-logs");

	/* dotted bucket names: everything before the endpoint is the bucket */
	check_tenant("logs.example.com.s3.amazonaws.com", "aws", "s3", "s3:logs.example.com");
	check_tenant("logs.example.com.s3.eu-west-1.amazonaws.com", "aws", "s3",
		     "s3:logs.example.com");
	check_tenant("my.s3.bucket.s3.amazonaws.com", "aws", "s3", "s3:my.s3.bucket");
	check_tenant("a.s3-logs.s3-us-west-2.amazonaws.com", "aws", "s3", "s3:a.s3-logs");
	check_tenant("s3bucket.s3.amazonaws.com", "aws", "s3", "s3:s3bucket");
	check_tenant("abc.s3.amazonaws.com", "aws", "s3", "s3:abc"); /* 3 characters */
	check_tenant("a23456789012345678901234567890123456789012345678901234567890123.s3.amazonaws.com",
		     "aws", "s3", "s3:a23456789012345678901234567890123456789012345678901234567890123");

	/* other partitions: their own bucket namespaces */
	check_tenant("corp-logs.s3.amazonaws.com.cn", "aws", "s3", "s3-cn:corp-logs");
	check_tenant("corp-logs.s3.cn-north-1.amazonaws.com.cn", "aws", "s3", "s3-cn:corp-logs");
	check_tenant("corp-logs.s3.cn-northwest-1.amazonaws.com.cn", "aws", "s3", "s3-cn:corp-logs");
	check_tenant("corp-logs.s3.us-gov-west-1.amazonaws.com", "aws", "s3", "s3-gov:corp-logs");
	check_tenant("corp-logs.s3-fips-us-gov-west-1.amazonaws.com", "aws", "s3", "s3-gov:corp-logs");

	/* no bucket, or not a bucket endpoint */
	check_tenant("s3.amazonaws.com", NULL, NULL, NULL);
	check_tenant("s3.us-east-1.amazonaws.com", NULL, NULL, NULL);
	check_tenant("s3.dualstack.us-east-1.amazonaws.com", NULL, NULL, NULL);
	check_tenant("s3-accelerate.amazonaws.com", NULL, NULL, NULL);
	check_tenant("ap-123456789012.s3-accesspoint.us-east-1.amazonaws.com", NULL, NULL, NULL);
	check_tenant("corp-logs.s3-object-lambda.us-east-1.amazonaws.com", NULL, NULL, NULL);
	check_tenant("corp-logs.s3.nowhere.amazonaws.com", NULL, NULL, NULL);
	check_tenant("corp-logs.s3.us-east-1.extra.amazonaws.com", NULL, NULL, NULL);
	check_tenant("corp-logs.s3.dualstack.amazonaws.com", NULL, NULL, NULL);
	check_tenant("corp-logs.s3xus-east-1.amazonaws.com", NULL, NULL, NULL);
	check_tenant("corp-logs.s3.cn-north-1.amazonaws.com", NULL, NULL, NULL); /* China is .cn */
	check_tenant("corp-logs.s3.us-east-1.amazonaws.com.cn", NULL, NULL, NULL);
	check_tenant("ec2-1-2-3-4.compute-1.amazonaws.com", NULL, NULL, NULL);
	check_tenant("corp-logs.s3.amazonaws.com.evil.com", NULL, NULL, NULL);
	check_tenant("corp-logs.s3.amazonaws.org", NULL, NULL, NULL);
	check_tenant("corp-logs.s3.amazonaws.com/x", NULL, NULL, NULL);

	/* invalid bucket names */
	check_tenant("ab.s3.amazonaws.com", NULL, NULL, NULL);
	check_tenant("a234567890123456789012345678901234567890123456789012345678901234.s3.amazonaws.com",
		     NULL, NULL, NULL); /* 64 */
	check_tenant("corp_logs.s3.amazonaws.com", NULL, NULL, NULL);
	check_tenant("-corp.s3.amazonaws.com", NULL, NULL, NULL);
	check_tenant("corp-.s3.amazonaws.com", NULL, NULL, NULL);
	check_tenant("192.168.5.4.s3.amazonaws.com", NULL, NULL, NULL);
	check_tenant("xn--corp.s3.amazonaws.com", NULL, NULL, NULL);
	check_tenant("sthree-corp.s3.amazonaws.com", NULL, NULL, NULL);
	check_tenant("amzn-s3-demo-bucket.s3.amazonaws.com", NULL, NULL, NULL);
	check_tenant("corp-s3alias.s3.us-east-1.amazonaws.com", NULL, NULL, NULL);
	check_tenant("corp--ol-s3.s3.us-east-1.amazonaws.com", NULL, NULL, NULL);
	check_tenant("corp.mrap.s3.amazonaws.com", NULL, NULL, NULL);
	check_tenant("corp..logs.s3.amazonaws.com", NULL, NULL, NULL);
}

static void test_tenant_azure(void **state)
{
	(void)state;
	check_tenant("corpstore.blob.core.windows.net", "azure", "blob", "azure:corpstore");
	check_tenant("corpstore.dfs.core.windows.net", "azure", "dfs", "azure:corpstore");
	check_tenant("corpstore.file.core.windows.net", "azure", "file", "azure:corpstore");
	check_tenant("corpstore.queue.core.windows.net", "azure", "queue", "azure:corpstore");
	check_tenant("corpstore.table.core.windows.net", "azure", "table", "azure:corpstore");
	check_tenant("corpstore.z13.web.core.windows.net", "azure", "web", "azure:corpstore");
	check_tenant("corpstore.z6.web.core.windows.net", "azure", "web", "azure:corpstore");
	check_tenant("corpstore-secondary.blob.core.windows.net", "azure", "blob", "azure:corpstore");
	check_tenant("corpstore.privatelink.blob.core.windows.net", "azure", "blob", "azure:corpstore");
	check_tenant("corpstore.z21.blob.storage.azure.net", "azure", "blob", "azure:corpstore");
	check_tenant("abc.blob.core.windows.net", "azure", "blob", "azure:abc");
	check_tenant("a23456789012345678901234.blob.core.windows.net", "azure", "blob",
		     "azure:a23456789012345678901234");

	check_tenant("blob.core.windows.net", NULL, NULL, NULL);
	check_tenant("ab.blob.core.windows.net", NULL, NULL, NULL);
	check_tenant("a234567890123456789012345.blob.core.windows.net", NULL, NULL, NULL); /* 25 */
	check_tenant("corp-store.blob.core.windows.net", NULL, NULL, NULL);
	check_tenant("corp_store.blob.core.windows.net", NULL, NULL, NULL);
	check_tenant("corpstore.web.core.windows.net", NULL, NULL, NULL);
	check_tenant("corpstore.z13.blob.core.windows.net", NULL, NULL, NULL);
	check_tenant("corpstore.zz.web.core.windows.net", NULL, NULL, NULL);
	check_tenant("corpstore.vault.core.windows.net", NULL, NULL, NULL);
	check_tenant("a.corpstore.blob.core.windows.net", NULL, NULL, NULL);
	check_tenant("corpstore.blob.storage.azure.net", NULL, NULL, NULL);
	check_tenant("corpstore.database.windows.net", NULL, NULL, NULL);
}

static void test_tenant_gcs_r2_spaces(void **state)
{
	(void)state;
	char name[400], want[240];
	check_tenant("corp-logs.storage.googleapis.com", "gcp", "gcs", "gcs:corp-logs");
	check_tenant("corp_logs.storage.googleapis.com", "gcp", "gcs", "gcs:corp_logs");
	check_tenant("logs.example.com.storage.googleapis.com", "gcp", "gcs", "gcs:logs.example.com");
	check_tenant("storage.googleapis.com", NULL, NULL, NULL);
	check_tenant("c.storage.googleapis.com", NULL, NULL, NULL);
	check_tenant("goog-logs.storage.googleapis.com", NULL, NULL, NULL);
	check_tenant("my-google-logs.storage.googleapis.com", NULL, NULL, NULL);
	check_tenant("my-g00gle-logs.storage.googleapis.com", NULL, NULL, NULL);
	check_tenant("_logs.storage.googleapis.com", NULL, NULL, NULL);
	check_tenant("10.1.2.3.storage.googleapis.com", NULL, NULL, NULL);
	check_tenant("a234567890123456789012345678901234567890123456789012345678901234.storage.googleapis.com",
		     NULL, NULL, NULL); /* 64 without dots */
	/* with dots up to 222 characters, components up to 63 */
	static const char *const c63 = "a23456789012345678901234567890123456789012345678901234567890123";
	snprintf(want, sizeof(want), "%s.%s.%s.a23456789012345678901234567890", c63, c63, c63);
	assert_int_equal(strlen(want), 222);
	snprintf(name, sizeof(name), "%s.storage.googleapis.com", want);
	char tw[310];
	snprintf(tw, sizeof(tw), "gcs:%s", want);
	check_tenant(name, "gcp", "gcs", tw);
	snprintf(name, sizeof(name), "%s.%s.%s.a234567890123456789012345678901.storage.googleapis.com",
		 c63, c63, c63); /* 223 */
	check_tenant(name, NULL, NULL, NULL);

	check_tenant("0123456789abcdef0123456789abcdef.r2.cloudflarestorage.com", "cloudflare", "r2",
		     "r2:0123456789abcdef0123456789abcdef");
	check_tenant("0123456789abcdef0123456789abcdef.eu.r2.cloudflarestorage.com", "cloudflare",
		     "r2", "r2:0123456789abcdef0123456789abcdef");
	check_tenant("my-bucket.0123456789abcdef0123456789abcdef.r2.cloudflarestorage.com",
		     "cloudflare", "r2", "r2:0123456789abcdef0123456789abcdef");
	check_tenant("0123456789abcdef0123456789abcde.r2.cloudflarestorage.com", NULL, NULL, NULL);
	check_tenant("0123456789abcdef0123456789abcdeg.r2.cloudflarestorage.com", NULL, NULL, NULL);
	check_tenant("r2.cloudflarestorage.com", NULL, NULL, NULL);
	check_tenant("pub-0123456789abcdef0123456789abcdef.r2.dev", NULL, NULL, NULL);

	check_tenant("corp-logs.nyc3.digitaloceanspaces.com", "digitalocean", "spaces",
		     "spaces:nyc3/corp-logs");
	check_tenant("corp-logs.fra1.cdn.digitaloceanspaces.com", "digitalocean", "spaces",
		     "spaces:fra1/corp-logs");
	check_tenant("logs.example.sgp1.digitaloceanspaces.com", "digitalocean", "spaces",
		     "spaces:sgp1/logs.example");
	check_tenant("nyc3.digitaloceanspaces.com", NULL, NULL, NULL);
	check_tenant("corp-logs.digitaloceanspaces.com", NULL, NULL, NULL);
	check_tenant("corp-logs.nyc.digitaloceanspaces.com", NULL, NULL, NULL);
	check_tenant("ab.nyc3.digitaloceanspaces.com", NULL, NULL, NULL);
	check_tenant("corp_logs.nyc3.digitaloceanspaces.com", NULL, NULL, NULL);

	/* other names, junk */
	check_tenant("www.dropbox.com", NULL, NULL, NULL);
	check_tenant("", NULL, NULL, NULL);
	check_tenant("1.2.3.4", NULL, NULL, NULL);
	struct enrich_tenant t;
	assert_true(enrich_cloud_tenant("corp-logs.s3.amazonaws.comXYZ", 26, &t));
	assert_string_equal(t.tenant, "s3:corp-logs");
	assert_false(enrich_cloud_tenant(NULL, 0, &t));
	assert_false(enrich_cloud_tenant("x", 1, NULL));
}

static struct enrich_tenant parse_ok(const char *text)
{
	struct enrich_tenant t;
	char err[512] = "";
	if (!enrich_tenant_parse_config(text, &t, err, sizeof(err)))
		fail_msg("'%s' rejected: %s", text, err);
	return t;
}

static void parse_bad(const char *text, const char *msg)
{
	struct enrich_tenant t;
	char err[512] = "";
	memset(&t, 0x55, sizeof(t));
	assert_false(enrich_tenant_parse_config(text, &t, err, sizeof(err)));
	if (!strstr(err, msg))
		fail_msg("'%s': message '%s' lacks '%s'", text, err, msg);
	assert_string_equal(t.tenant, "");
}

static void same_tenant(const char *a, const char *b, const char *want)
{
	struct enrich_tenant ta = parse_ok(a), tb = parse_ok(b);
	assert_string_equal(ta.tenant, want);
	assert_string_equal(tb.tenant, want);
	assert_string_equal(ta.provider, tb.provider);
}

static void test_tenant_config(void **state)
{
	(void)state;
	same_tenant("corp-logs.s3.amazonaws.com", "s3:corp-logs", "s3:corp-logs");
	same_tenant("corp-logs.s3.eu-west-1.amazonaws.com", "s3://corp-logs/some/prefix",
		    "s3:corp-logs");
	same_tenant("  CORP-LOGS.S3-US-WEST-2.AMAZONAWS.COM  ", "arn:aws:s3:::corp-logs",
		    "s3:corp-logs");
	same_tenant("https://corp-logs.s3.amazonaws.com/key?x=1", "S3:Corp-Logs", "s3:corp-logs");
	same_tenant("logs.example.com.s3.amazonaws.com", "s3:logs.example.com",
		    "s3:logs.example.com");
	same_tenant("corp-logs.s3.cn-north-1.amazonaws.com.cn", "arn:aws-cn:s3:::corp-logs",
		    "s3-cn:corp-logs");
	same_tenant("corp-logs.s3.us-gov-west-1.amazonaws.com", "s3-gov:corp-logs",
		    "s3-gov:corp-logs");
	same_tenant("arn:aws-us-gov:s3:::corp-logs/obj", "s3-gov:corp-logs", "s3-gov:corp-logs");
	same_tenant("corpstore.blob.core.windows.net", "azure:corpstore", "azure:corpstore");
	same_tenant("https://corpstore.dfs.core.windows.net:443/fs", "azure:CorpStore",
		    "azure:corpstore");
	same_tenant("corp-logs.storage.googleapis.com", "gcs:corp-logs", "gcs:corp-logs");
	same_tenant("gs://corp-logs/dir/", "gcs:corp-logs", "gcs:corp-logs");
	same_tenant("0123456789abcdef0123456789abcdef.r2.cloudflarestorage.com",
		    "r2:0123456789ABCDEF0123456789ABCDEF", "r2:0123456789abcdef0123456789abcdef");
	same_tenant("corp-logs.nyc3.digitaloceanspaces.com", "spaces:nyc3/corp-logs",
		    "spaces:nyc3/corp-logs");

	struct enrich_tenant t = parse_ok("azure:corpstore");
	assert_string_equal(t.provider, "azure");
	assert_string_equal(t.service, "");
	t = parse_ok("s3:corp-logs");
	assert_string_equal(t.provider, "aws");
	assert_string_equal(t.service, "s3");

	/* the bucket and the partition matter */
	assert_string_not_equal(parse_ok("s3:corp-logs").tenant, parse_ok("s3-cn:corp-logs").tenant);
	assert_string_not_equal(parse_ok("s3:corp-logs").tenant, parse_ok("gcs:corp-logs").tenant);
	assert_string_not_equal(parse_ok("s3:corp-logs").tenant, parse_ok("s3:corp-logs2").tenant);

	parse_bad("", "empty tenant");
	parse_bad("   ", "empty tenant");
	parse_bad("s3:ab", "3 to 63 characters");
	parse_bad("s3:corp_logs", "only a-z, 0-9");
	parse_bad("s3:", "3 to 63 characters");
	parse_bad("s3://xn--corp", "S3 reserves that bucket name prefix");
	parse_bad("azure:corp-store", "only a-z and 0-9");
	parse_bad("azure:a234567890123456789012345", "3 to 24");
	parse_bad("gcs:goog-logs", "goog");
	parse_bad("gs://my-google-logs", "google");
	parse_bad("r2:1234", "32 hex digits");
	parse_bad("spaces:corp-logs", "spaces:REGION/BUCKET");
	parse_bad("spaces:nyc3/ab", "3 to 63");
	parse_bad("dropbox:corp", "unknown provider");
	parse_bad("ftp://corp-logs", "unknown scheme");
	parse_bad("arn:aws:iam::123456789012:role/x", "only S3 bucket ARNs");
	parse_bad("www.dropbox.com", "not a cloud storage tenant");
	parse_bad("s3.amazonaws.com", "not a cloud storage tenant");
	parse_bad("ab.s3.amazonaws.com", "not a cloud storage tenant");
	parse_bad("corpstore.blob.core.windows.net:443", "unknown provider");
	assert_false(enrich_tenant_parse_config(NULL, &t, NULL, 0));
}

static void test_tenant_set(void **state)
{
	(void)state;
	char err[256] = "";
	assert_null(tenant_set_create(0));
	assert_null(tenant_set_create(TENANT_SET_MAX_CAPACITY + 1));
	struct tenant_set *own = tenant_set_create(3);
	assert_non_null(own);

	/* the organisation's list as written in configuration */
	struct enrich_tenant a = parse_ok("corp-logs.s3.amazonaws.com");
	struct enrich_tenant b = parse_ok("azure:corpstore");
	struct enrich_tenant c = parse_ok("gs://corp-backup");
	assert_int_equal(tenant_set_add(own, &a, err, sizeof(err)), 1);
	assert_int_equal(tenant_set_add(own, &b, err, sizeof(err)), 1);
	struct enrich_tenant a2 = parse_ok("s3:corp-logs");
	assert_int_equal(tenant_set_add(own, &a2, err, sizeof(err)), 0); /* the same tenant */
	assert_int_equal(tenant_set_add(own, &c, err, sizeof(err)), 1);
	assert_int_equal(tenant_set_count(own), 3);
	struct enrich_tenant d = parse_ok("s3:other-bucket");
	assert_int_equal(tenant_set_add(own, &d, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "full"));

	/* names seen on the wire, in any endpoint form */
	static const struct {
		const char *name;
		bool own;
	} seen[] = {
		{ "corp-logs.s3.us-east-1.amazonaws.com", true },
		{ "corp-logs.s3.dualstack.eu-west-1.amazonaws.com", true },
		{ "corp-logs.s3-accelerate.amazonaws.com", true },
		{ "corpstore.blob.core.windows.net", true },
		{ "corpstore.dfs.core.windows.net", true },
		{ "corpstore-secondary.blob.core.windows.net", true },
		{ "corp-backup.storage.googleapis.com", true },
		{ "corp-logs.s3.cn-north-1.amazonaws.com.cn", false }, /* another partition */
		{ "corp-logs.storage.googleapis.com", false },         /* another provider */
		{ "exfil-bucket.s3.amazonaws.com", false },
		{ "attacker.blob.core.windows.net", false },
	};
	for (size_t i = 0; i < sizeof(seen) / sizeof(seen[0]); i++) {
		struct enrich_tenant t;
		assert_true(enrich_cloud_tenant(seen[i].name, strlen(seen[i].name), &t));
		if (tenant_set_contains(own, &t) != seen[i].own)
			fail_msg("'%s' (%s): own = %d", seen[i].name, t.tenant, !seen[i].own);
	}
	struct enrich_tenant none;
	memset(&none, 0, sizeof(none));
	assert_false(tenant_set_contains(own, &none));
	assert_int_equal(tenant_set_add(own, &none, err, sizeof(err)), -1);
	assert_false(tenant_set_contains(NULL, &a));
	tenant_set_destroy(own);
	tenant_set_destroy(NULL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_psl_source),
		cmocka_unit_test(test_psl_builtin_fallback),
		cmocka_unit_test(test_registered_ordinary),
		cmocka_unit_test(test_registered_multilabel),
		cmocka_unit_test(test_registered_cloud),
		cmocka_unit_test(test_registered_junk),
		cmocka_unit_test(test_set_create),
		cmocka_unit_test(test_set_suffix),
		cmocka_unit_test(test_set_longest),
		cmocka_unit_test(test_set_full),
		cmocka_unit_test(test_set_bad),
		cmocka_unit_test(test_load_file),
		cmocka_unit_test(test_shipped_lists),
		cmocka_unit_test(test_category_names),
		cmocka_unit_test(test_categories_shipped),
		cmocka_unit_test(test_categories_precedence),
		cmocka_unit_test(test_categories_missing),
		cmocka_unit_test(test_tenant_s3),
		cmocka_unit_test(test_tenant_azure),
		cmocka_unit_test(test_tenant_gcs_r2_spaces),
		cmocka_unit_test(test_tenant_config),
		cmocka_unit_test(test_tenant_set),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
