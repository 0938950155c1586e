/*
 * file.h - opening the files marketbox writes and keeps to itself (the
 * log, the pid file, the database and the files SQLite keeps beside it)
 * so that a link or a file someone planted there is refused, not written
 * through.
 */
#ifndef MARKETBOX_FILE_H
#define MARKETBOX_FILE_H

#include <sys/types.h>

/*
 * Open path (what names it in the log: "log file", "database") with
 * flags, never following a symbolic link, close-on-exec, and check the
 * descriptor: a regular file with one link, owned by the user marketbox
 * runs as; a mode wider than mode is narrowed to it.  The descriptor, or
 * -1, logged; without O_CREAT a file that is not there is -1 with errno
 * ENOENT and nothing logged (the caller's to judge), and a file refused
 * is -1 with errno EPERM.
 */
int	file_open_private(const char *path, const char *what, int flags,
	    mode_t mode);

#endif
