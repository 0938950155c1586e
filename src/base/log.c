/*
 * log.c - open the log, set levels, bring libevent's messages into it, and
 * hold back floods of the same line (see log.h).
 */
#include "config.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <event2/event.h>

#include "base/gw.h"

#include "base/log.h"

/* Here the names are libgw's own functions again. */
#undef error
#undef warning
#undef info
#undef debug

#define LOG_LINE_MAX	4096	/* bytes of one formatted line */
#define LOG_KEEP	160	/* bytes of a line kept for its summary */

/*
 * One line seen lately.  Lines are told apart by a hash of the whole
 * line and its first LOG_KEEP bytes; two different lines that agree on
 * both would share a count, which costs at most a few suppressed lines.
 */
struct log_repeat {
	unsigned long	 hash;		/* 0: a free slot */
	int		 level;
	int		 err;
	char		 place[32];
	char		 text[LOG_KEEP];
	time_t		 start;		/* the window began */
	unsigned long	 seen;		/* in this window */
	unsigned long	 held;		/* of them not printed */
};

/*
 * The logging state is the process's, as libgw's own is: every part of
 * the daemon logs through it, from any call stack.
 */
static struct log_repeat	  log_repeats[LOG_REPEAT_SLOTS];
static time_t			(*log_clock)(void);
static int			  log_min_level;	/* below: nothing prints */

/* libgw's function for level. */
static void
log_emit(int level, const char *place, int err, const char *text)
{
	switch (level) {
	case GW_DEBUG:
		debug(place != NULL ? place : "mb", err, "%s", text);
		break;
	case GW_INFO:
		info(err, "%s", text);
		break;
	case GW_WARNING:
		warning(err, "%s", text);
		break;
	default:
		error(err, "%s", text);
		break;
	}
}

static time_t
log_now(void)
{
	return log_clock != NULL ? log_clock() : time(NULL);
}

/* The summary a slot owes, if any; the slot is then free. */
static void
log_repeat_close(struct log_repeat *r)
{
	char	 line[LOG_KEEP + 64];

	if (r != NULL && r->hash != 0 && r->held > 0) {
		snprintf(line, sizeof(line), "last message repeated %lu times: "
		    "%s", r->held, r->text);
		log_emit(r->level, r->place[0] ? r->place : NULL, 0, line);
	}
	if (r == NULL)
		return;
	memset(r, 0, sizeof(*r));
}

static unsigned long
log_hash(int level, const char *place, int err, const char *text)
{
	unsigned long	 h = 2166136261UL;
	const char	*p;

	h = (h ^ (unsigned long)level) * 16777619UL;
	h = (h ^ (unsigned long)err) * 16777619UL;
	for (p = place != NULL ? place : ""; *p != '\0'; p++)
		h = (h ^ (unsigned char)*p) * 16777619UL;
	for (p = text; *p != '\0'; p++)
		h = (h ^ (unsigned char)*p) * 16777619UL;
	return h != 0 ? h : 1;
}

/* 1 if the line is to be printed, 0 if it is held back and counted. */
static int
log_repeat_check(int level, const char *place, int err, const char *text)
{
	struct log_repeat	*r, *slot = NULL, *oldest = NULL;
	unsigned long		 h = log_hash(level, place, err, text);
	time_t			 now = log_now();
	size_t			 i, n;

	for (i = 0; i < LOG_REPEAT_SLOTS; i++) {
		r = &log_repeats[i];
		/* A window over (or a clock that went back): summarise. */
		if (r->hash != 0 && (now - r->start >= LOG_REPEAT_WINDOW ||
		    now < r->start))
			log_repeat_close(r);
		if (r->hash == h && r->level == level && r->err == err &&
		    strncmp(r->text, text, sizeof(r->text) - 1) == 0)
			slot = r;
		else if (r->hash == 0) {
			if (oldest == NULL || oldest->hash != 0)
				oldest = r;
		} else if (oldest == NULL || (oldest->hash != 0 &&
		    r->start < oldest->start))
			oldest = r;
	}
	if (slot != NULL) {
		if (++slot->seen <= LOG_REPEAT_BURST)
			return 1;
		slot->held++;
		return 0;
	}
	/* A new line: a free slot, else the oldest one's summary now. */
	log_repeat_close(oldest);
	oldest->hash = h;
	oldest->level = level;
	oldest->err = err;
	snprintf(oldest->place, sizeof(oldest->place), "%s",
	    place != NULL ? place : "");
	/* The start of a long line is kept, cut on purpose. */
	n = strnlen(text, sizeof(oldest->text) - 1);
	memcpy(oldest->text, text, n);
	oldest->text[n] = '\0';
	oldest->start = now;
	oldest->seen = 1;
	return 1;
}

void
log_limited(int level, const char *place, int err, const char *fmt, ...)
{
	char		 line[LOG_LINE_MAX];
	const char	*text;
	va_list		 ap;

	/* Debug lines nobody prints are not even formatted. */
	if (level < log_min_level)
		return;
	va_start(ap, fmt);
	if (fmt[0] == '%' && fmt[1] == 's' && fmt[2] == '\0') {
		/*
		 * A line formatted already (a plugin's, through the host):
		 * used as it is, cut where vsnprintf would cut it, rather
		 * than formatted once more before libgw formats it again.
		 */
		if ((text = va_arg(ap, const char *)) == NULL)
			text = "(null)";
		if (strnlen(text, sizeof(line)) == sizeof(line)) {
			memcpy(line, text, sizeof(line) - 1);
			line[sizeof(line) - 1] = '\0';
			text = line;
		}
	} else {
		vsnprintf(line, sizeof(line), fmt, ap);
		text = line;
	}
	va_end(ap);
	if (log_repeat_check(level, place, err, text))
		log_emit(level, place, err, text);
}

void
log_flush_repeats(void)
{
	size_t	 i;

	for (i = 0; i < LOG_REPEAT_SLOTS; i++)
		log_repeat_close(&log_repeats[i]);
}

void
log_set_clock(time_t (*clock)(void))
{
	log_clock = clock;
}

/* libevent's severities mapped onto Kannel's levels. */
static void
log_libevent_cb(int severity, const char *msg)
{
	switch (severity) {
	case EVENT_LOG_DEBUG:
		log_limited(GW_DEBUG, "mb.libevent", 0, "libevent: %s", msg);
		break;
	case EVENT_LOG_MSG:
		log_limited(GW_INFO, NULL, 0, "libevent: %s", msg);
		break;
	case EVENT_LOG_WARN:
		log_limited(GW_WARNING, NULL, 0, "libevent: %s", msg);
		break;
	default:
		log_limited(GW_ERROR, NULL, 0, "libevent: %s", msg);
		break;
	}
}

int
log_setup(int stderr_level, const char *file, int file_level)
{
	log_set_output_level(stderr_level);
	event_set_log_callback(log_libevent_cb);
	log_min_level = stderr_level;
	if (file != NULL) {
		if (log_open((char *)file, file_level, GW_NON_EXCL) == -1)
			return -1;
		if (file_level < log_min_level)
			log_min_level = file_level;
	}
	return 0;
}

void
log_reopen_files(void)
{
	log_flush_repeats();
	log_reopen();
	info(0, "log files reopened");
}
