/*
 * log.h - marketbox's logging set-up.
 *
 * marketbox logs through libgw's log functions (error, warning, info,
 * debug) so its lines have Kannel's format and levels, which operators
 * already grep.  This module opens the log file, sets the levels, routes
 * libevent's own messages into the same log, and reopens the file on
 * SIGUSR1 for logrotate.
 */
#ifndef MARKETBOX_LOG_H
#define MARKETBOX_LOG_H

/*
 * stderr_level: the level written to stderr (-v); file and file_level: the
 * log file (NULL for none).  Returns 0, or -1 if the file cannot be opened.
 */
int	log_setup(int stderr_level, const char *file, int file_level);
void	log_reopen_files(void);

#endif
