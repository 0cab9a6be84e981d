/* rules.c: libFuzzer target for the rule file loader (sensor/config-rules.c). The input
 * is written to rules.yaml in a per-process temporary directory, next to a link "lists"
 * to the checkout's rules/lists, so domain_lists entries such as lists/paste.txt
 * resolve as they do for the shipped packs. */
#include "detect-rules.h"
#include "fuzz.h"

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	char target[PATH_MAX], link[PATH_MAX + 32];

	(void)argc;
	(void)argv;
	snprintf(target, sizeof(target), "%s/rules/lists", fuzz_root());
	snprintf(link, sizeof(link), "%s/lists", fuzz_tmpdir());
	if (symlink(target, link) != 0)
		abort();
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static char err[16384];
	struct ruleset_list l;

	if (size > RULES_MAX_FILE_SIZE + 1)
		return 0;
	char *path = strdup(fuzz_write_file("rules.yaml", data, size));
	if (!path)
		abort();
	memset(&l, 0, sizeof(l));
	int problems = rules_load_files(&l, &path, 1, err, sizeof(err));
	if (getenv("EGRESSD_FUZZ_VERBOSE"))
		fputs(err, stderr);
	FUZZ_CHECK(problems >= 0);
	FUZZ_CHECK(problems == 0 || err[0] != '\0');
	FUZZ_CHECK(l.n >= 0 && l.n <= RULES_MAX_RULES);
	for (int i = 0; i < l.n; i++) {
		const struct rule *r = &l.rules[i];
		FUZZ_CHECK(r->window_s >= RULE_WINDOW_MIN_S && r->window_s <= RULE_WINDOW_MAX_S);
		FUZZ_CHECK(r->nports >= 0 && r->nports <= RULE_MAX_PORTS);
		(void)rule_port_matches(r, 0);
		(void)rule_port_matches(r, 443);
	}
	rules_free(&l);
	free(path);
	return 0;
}
