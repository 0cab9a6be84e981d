/* fuzz.h: what the libFuzzer targets in this directory share. Header-only (static
 * inline): each target is one .c file linked on its own.
 *
 * Every target parses a heap copy of exactly the input's size, so AddressSanitizer
 * reports a read one byte past the end (libFuzzer's own buffer may be larger). */
#ifndef EGRESSD_FUZZ_H
#define EGRESSD_FUZZ_H

#include <limits.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerInitialize(int *argc, char ***argv);

/* Stop the run as a crash: an invariant the code promises does not hold. */
#define FUZZ_CHECK(cond)							\
	do {									\
		if (!(cond)) {							\
			fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__,	\
				__LINE__, #cond);				\
			abort();						\
		}								\
	} while (0)

/* A heap copy of exactly n bytes (malloc(1) for n == 0); the caller frees it. */
static inline uint8_t *fuzz_dup(const uint8_t *p, size_t n)
{
	uint8_t *b = malloc(n ? n : 1);

	if (!b)
		abort();
	if (n)
		memcpy(b, p, n);
	return b;
}

/* The checkout this binary was built in: build/fuzz/TARGET -> "../.." of its directory.
 * Used to find rules/ and rules/lists/ whatever the working directory is. */
static inline const char *fuzz_root(void)
{
	static char root[PATH_MAX];
	char exe[PATH_MAX];
	ssize_t n;

	if (root[0])
		return root;
	n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	if (n <= 0)
		abort();
	exe[n] = '\0';
	for (int up = 0; up < 3; up++) {
		char *slash = strrchr(exe, '/');
		if (!slash)
			abort();
		*slash = '\0';
	}
	snprintf(root, sizeof(root), "%s", exe[0] ? exe : "/");
	return root;
}

static inline void fuzz_rmdir_at_exit(void);

/* A private directory made once per process (removed at a normal exit; a crash leaves it
 * for a look) for targets whose loaders only take paths. */
static inline const char *fuzz_tmpdir(void)
{
	static char dir[PATH_MAX];
	const char *base = getenv("TMPDIR");

	if (dir[0])
		return dir;
	snprintf(dir, sizeof(dir), "%s/egressd-fuzz-XXXXXX", base && *base ? base : "/tmp");
	if (!mkdtemp(dir))
		abort();
	atexit(fuzz_rmdir_at_exit);
	return dir;
}

/* Write n bytes to DIR/name (replaced); returns the path (static storage). */
static inline const char *fuzz_write_file(const char *name, const uint8_t *p, size_t n)
{
	static char path[PATH_MAX + 32];

	snprintf(path, sizeof(path), "%s/%s", fuzz_tmpdir(), name);
	FILE *f = fopen(path, "wb");
	if (!f || (n && fwrite(p, 1, n, f) != n) || fclose(f) != 0)
		abort();
	return path;
}

/* Files the targets made in the directory; anything else is left for a person to see. */
static const char *const fuzz_tmp_names[] = { "sensor.yaml", "rules.yaml", "lists" };

static inline void fuzz_rmdir_at_exit(void)
{
	char path[PATH_MAX + 32];
	const char *dir = fuzz_tmpdir();

	for (size_t i = 0; i < sizeof(fuzz_tmp_names) / sizeof(fuzz_tmp_names[0]); i++) {
		snprintf(path, sizeof(path), "%s/%s", dir, fuzz_tmp_names[i]);
		unlink(path);
	}
	rmdir(dir);
}

#endif
