/* log.c: operator messages on standard error (see log.h). */
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "log.h"

static atomic_int max_level = LOG_LEVEL_NOTICE;

void log_set_level(enum log_level max)
{
	atomic_store(&max_level, (int)max);
}

void log_msg(enum log_level level, const char *fmt, ...)
{
	static const char *const prefix[] = { "", "warning: ", "", "", "" };
	char line[1024];
	va_list ap;

	if ((int)level > atomic_load(&max_level))
		return;
	int n = snprintf(line, sizeof(line), "egressd: %s", prefix[level]);
	va_start(ap, fmt);
	int k = vsnprintf(line + n, sizeof(line) - (size_t)n - 1, fmt, ap);
	va_end(ap);
	size_t len = (size_t)n + (k < 0 ? 0 : (size_t)k);
	if (len > sizeof(line) - 2)
		len = sizeof(line) - 2;
	line[len++] = '\n';
	/* one write(2): whole lines even when threads log at once */
	ssize_t w = write(STDERR_FILENO, line, len);
	(void)w;
}
