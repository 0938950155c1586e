/*
 * log.h - marketbox's logging set-up.
 *
 * marketbox logs through libgw's log functions (error, warning, info,
 * debug) so its lines have Kannel's format and levels, which operators
 * already grep.  This module opens the log file, sets the levels, routes
 * libevent's own messages into the same log, and reopens the file on
 * SIGUSR1 for logrotate.
 *
 * It also keeps a flood from filling the disk: gw.h turns every error(),
 * warning(), info() and debug() of marketbox into log_limited(), which
 * prints the same line (same level, place, errno and text) at most
 * LOG_REPEAT_BURST times in LOG_REPEAT_WINDOW seconds and then counts the
 * rest, and writes one "last message repeated N times: ..." line when the
 * window has passed (at the next line logged, or log_flush_repeats()).
 * The lines tracked are a fixed table (LOG_REPEAT_SLOTS): the memory is
 * bounded however many different lines come.
 */
#ifndef MARKETBOX_LOG_H
#define MARKETBOX_LOG_H

#include <time.h>

#define LOG_REPEAT_SLOTS	32	/* different lines tracked at once */
#define LOG_REPEAT_WINDOW	10	/* seconds */
#define LOG_REPEAT_BURST	3	/* same lines printed per window */

/*
 * stderr_level: the level written to stderr (-v); file and file_level: the
 * log file (NULL for none).  Returns 0, or -1 if the file cannot be opened.
 */
int	log_setup(int stderr_level, const char *file, int file_level);
void	log_reopen_files(void);

/*
 * One line at level (GW_DEBUG .. GW_ERROR), from place (debug lines only,
 * else NULL), with errno err (0: none): printed through libgw unless it
 * repeats a line already printed LOG_REPEAT_BURST times in this window.
 */
void	log_limited(int level, const char *place, int err, const char *fmt,
	    ...) __attribute__((format(printf, 4, 5)));

/* Write the "repeated" summaries still owed, and forget every line. */
void	log_flush_repeats(void);

/* For tests: the clock the windows are measured with (NULL: time()). */
void	log_set_clock(time_t (*)(void));

#endif
