/*
 * log.c - open the log, set levels, and bring libevent's messages into it.
 */
#include "config.h"

#include <event2/event.h>

#include "gw.h"

#include "log.h"

/* libevent's severities mapped onto Kannel's levels. */
static void
log_libevent_cb(int severity, const char *msg)
{
	switch (severity) {
	case EVENT_LOG_DEBUG:
		debug("mb.libevent", 0, "libevent: %s", msg);
		break;
	case EVENT_LOG_MSG:
		info(0, "libevent: %s", msg);
		break;
	case EVENT_LOG_WARN:
		warning(0, "libevent: %s", msg);
		break;
	default:
		error(0, "libevent: %s", msg);
		break;
	}
}

int
log_setup(int stderr_level, const char *file, int file_level)
{
	log_set_output_level(stderr_level);
	event_set_log_callback(log_libevent_cb);
	if (file != NULL && log_open((char *)file, file_level, GW_NON_EXCL) == -1)
		return -1;
	return 0;
}

void
log_reopen_files(void)
{
	log_reopen();
	info(0, "log files reopened");
}
