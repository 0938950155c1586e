/*
 * file.c - see file.h.
 */
#include "config.h"

#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <unistd.h>

#include "base/gw.h"

#include "base/file.h"

int
file_open_private(const char *path, const char *what, int flags, mode_t mode)
{
	struct stat	 st;
	int		 fd;

	if ((fd = open(path, flags | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK,
	    mode)) == -1) {
		if (errno == ENOENT && !(flags & O_CREAT))
			return -1;
		if (errno == ELOOP)
			error(0, "%s %s is a symbolic link: refusing it", what,
			    path);
		else
			error(errno, "cannot open %s %s", what, path);
		return -1;
	}
	if (fstat(fd, &st) == -1)
		error(errno, "cannot stat %s %s", what, path);
	else if (!S_ISREG(st.st_mode))
		error(0, "%s %s is not a regular file: refusing it", what, path);
	else if (st.st_nlink != 1)
		error(0, "%s %s has %ld links (a hard link to another file?): "
		    "refusing it", what, path, (long)st.st_nlink);
	else if (st.st_uid != geteuid())
		error(0, "%s %s belongs to uid %ld, not to uid %ld that "
		    "marketbox runs as: refusing it", what, path,
		    (long)st.st_uid, (long)geteuid());
	else if ((st.st_mode & 07777 & ~mode) != 0 && fchmod(fd, mode) == -1)
		error(errno, "cannot narrow the mode of %s %s", what, path);
	else
		return fd;
	close(fd);
	errno = EPERM;		/* refused: never taken for "not there" */
	return -1;
}
