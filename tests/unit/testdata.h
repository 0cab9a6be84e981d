/* testdata.h: files under tests/data/TESTDATA_DIR (or $EGRESSD_TESTDATA/TESTDATA_DIR)
 * for the unit tests. Define TESTDATA_DIR before including; include after cmocka.h. */
#ifndef EGRESSD_TESTDATA_H
#define EGRESSD_TESTDATA_H

#include <stdio.h>
#include <stdlib.h>

static void data_path(char *out, size_t cap, const char *file)
{
	const char *root = getenv("EGRESSD_TESTDATA");
	int n;

	if (root == NULL || root[0] == '\0')
		root = "tests/data";
	n = snprintf(out, cap, "%s/%s/%s", root, TESTDATA_DIR, file);
	assert_true(n > 0 && (size_t)n < cap);
}

/* The whole file, NUL-terminated (its length in *len if len is not NULL); fails the
 * test if it cannot be read. */
static char *slurp(const char *file, size_t *len)
{
	char path[4096];
	FILE *f;
	char *buf;
	long size;

	data_path(path, sizeof(path), file);
	f = fopen(path, "rb");
	if (f == NULL)
		fail_msg("cannot open %s (run from the repository root or set "
			 "EGRESSD_TESTDATA)", path);
	assert_int_equal(fseek(f, 0, SEEK_END), 0);
	size = ftell(f);
	assert_true(size >= 0);
	assert_int_equal(fseek(f, 0, SEEK_SET), 0);
	buf = malloc((size_t)size + 1);
	assert_non_null(buf);
	assert_int_equal(fread(buf, 1, (size_t)size, f), (size_t)size);
	buf[size] = '\0';
	fclose(f);
	if (len != NULL)
		*len = (size_t)size;
	return buf;
}

#endif
