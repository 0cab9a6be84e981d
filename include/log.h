/* log.h: messages for the operator, from any thread: "egressd: [warning: ]text" lines on
 * standard error. Each message is one write, so lines from the output threads and the
 * capture thread never interleave. -q shows errors only; by default errors, warnings and notices; -v adds info, -vv debug.
 */
#ifndef EGRESSD_LOG_H
#define EGRESSD_LOG_H

enum log_level { LOG_LEVEL_ERROR = 0, LOG_LEVEL_WARN, LOG_LEVEL_NOTICE, LOG_LEVEL_INFO, LOG_LEVEL_DEBUG };

void log_set_level(enum log_level max);

__attribute__((format(printf, 2, 3)))
void log_msg(enum log_level level, const char *fmt, ...);

#endif
