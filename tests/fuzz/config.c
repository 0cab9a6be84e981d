/* config.c: libFuzzer target for the sensor.yaml loader. config_load takes a path, so
 * each input is written to sensor.yaml in a per-process temporary directory. */
#include "config.h"
#include "fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct config c;
	static char err[16384];

	if (size > CONFIG_MAX_FILE_SIZE + 1)
		return 0;
	const char *path = fuzz_write_file("sensor.yaml", data, size);
	config_defaults(&c);
	err[0] = '\0';
	int problems = config_load(&c, path, err, sizeof(err));
	if (getenv("EGRESSD_FUZZ_VERBOSE"))
		fputs(err, stderr);
	FUZZ_CHECK(problems >= 0);
	FUZZ_CHECK(problems == 0 || err[0] != '\0');
	FUZZ_CHECK(memchr(err, '\0', sizeof(err)) != NULL);
	FUZZ_CHECK(c.noutputs >= 0 && c.noutputs <= CONFIG_MAX_OUTPUTS);
	return 0;
}
