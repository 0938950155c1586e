/*
 * faultshim.c - faults injected into a running marketbox, for the fault
 * suite (tests/faults/).  Loaded with LD_PRELOAD; never installed, never
 * linked into the daemon.
 *
 * Its constructor does, before main() runs:
 *
 *  - SQLite's allocator: sqlite3_config(SQLITE_CONFIG_MALLOC) with a
 *    wrapper around the default one that fails allocations on demand
 *    (the way SQLite's own test harness injects out-of-memory faults);
 *  - a VFS, "faultvfs", that wraps the default VFS and is registered as
 *    the new default: every file SQLite opens goes through it, so its
 *    xRead, xWrite and xSync can fail or be slowed down;
 *  - time(), gettimeofday() and clock_gettime(CLOCK_REALTIME) moved by an
 *    offset that the test changes while the daemon runs (a clock jump).
 *    CLOCK_MONOTONIC is left alone, as a real clock jump leaves it.
 *
 * Environment (all optional; nothing set, nothing changes):
 *
 *	FAULT_ARM=FILE	operations are counted only while FILE exists, so
 *			start-up (migrations) is not hit; unset: always
 *	FAULT_OP=write|sync|read|malloc
 *			the operation to fail
 *	FAULT_N=N	fail the Nth such operation counted (1 = the first)
 *	FAULT_EVERY=K	and then every Kth after it (0: once only)
 *	FAULT_PERSIST=P	each failure lasts P operations (default 1)
 *	FAULT_SYNC_MS=MS	every xSync sleeps MS milliseconds first
 *	FAULT_SYNC_PAUSE=FILE	while FILE exists, xSync waits (0.01 s steps,
 *			60 s at most) before it syncs: a disk that hangs
 *	FAULT_CLOCK=FILE	FILE holds the offset in seconds (a signed
 *			decimal, overwritten in place); re-read at most every
 *			10 ms
 *	FAULT_LOG=FILE	one line appended for each fault injected
 *	FAULT_KILL_ON_WRITE=TEXT
 *			the process raises SIGKILL when it writes or sends
 *			a buffer holding TEXT (write, writev, send, sendto,
 *			sendmsg; each buffer of a vector on its own), before
 *			a byte of it leaves: a crash at that very point, e.g.
 *			after a commit and before the answer that follows it
 *			(tests/integration/paid-order.sh: the answer to a
 *			payment's callback); counted only while FAULT_ARM's
 *			file exists, if set
 *
 * A failed xWrite answers SQLITE_IOERR_WRITE, xSync SQLITE_IOERR_FSYNC,
 * xRead SQLITE_IOERR_READ, an allocation NULL: what SQLite gets from a
 * real disk or a real allocator that fails.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

#include <sqlite3.h>

enum fault_op { OP_NONE, OP_WRITE, OP_SYNC, OP_READ, OP_MALLOC };

static const char	*arm_file, *pause_file, *clock_file, *log_file;
static enum fault_op	 fault_op;
static long		 fault_n, fault_every, fault_persist = 1, sync_ms;
static long		 counted, failing;	/* operations counted, left */
static int		 in_fault;		/* no recursion from the log */

/* -------------------------------------------------------------------------
 * When to fail.
 */

static int
armed(void)
{
	struct stat	sb;

	return arm_file == NULL || stat(arm_file, &sb) == 0;
}

static void
fault_note(const char *what)
{
	char	 line[128];
	int	 fd, n;

	if (log_file == NULL)
		return;
	if ((fd = open(log_file, O_WRONLY | O_APPEND | O_CREAT, 0644)) == -1)
		return;
	n = snprintf(line, sizeof(line), "%s %ld\n", what, counted);
	if (n > 0 && write(fd, line, (size_t)n) < 0)
		n = 0;
	close(fd);
}

/* 1 when this operation of kind op is to fail. */
static int
fault_now(enum fault_op op, const char *what)
{
	if (op != fault_op || fault_n <= 0 || in_fault || !armed())
		return 0;
	counted++;
	if (failing == 0 && (counted == fault_n || (fault_every > 0 &&
	    counted > fault_n && (counted - fault_n) % fault_every == 0)))
		failing = fault_persist;
	if (failing == 0)
		return 0;
	failing--;
	in_fault = 1;
	fault_note(what);
	in_fault = 0;
	return 1;
}

/* -------------------------------------------------------------------------
 * SQLite's allocator.
 */

static sqlite3_mem_methods	real_mem;

static void *
fault_malloc(int n)
{
	if (fault_now(OP_MALLOC, "malloc"))
		return NULL;
	return real_mem.xMalloc(n);
}

static void *
fault_realloc(void *p, int n)
{
	if (fault_now(OP_MALLOC, "realloc"))
		return NULL;
	return real_mem.xRealloc(p, n);
}

static void
fault_free(void *p)
{
	real_mem.xFree(p);
}

static int
fault_size(void *p)
{
	return real_mem.xSize(p);
}

static int
fault_roundup(int n)
{
	return real_mem.xRoundup(n);
}

static int
fault_mem_init(void *arg)
{
	return real_mem.xInit(arg);
}

static void
fault_mem_shutdown(void *arg)
{
	real_mem.xShutdown(arg);
}

/* -------------------------------------------------------------------------
 * The VFS: a file is the real VFS's file followed by a pointer back to it.
 */

struct fault_file {
	sqlite3_file	 base;
	sqlite3_file	*real;
};

static sqlite3_vfs	*real_vfs;
static sqlite3_vfs	 fault_vfs;

static int
ff_close(sqlite3_file *f)
{
	struct fault_file	*ff = (struct fault_file *)f;
	int			 rc;

	rc = ff->real->pMethods->xClose(ff->real);
	return rc;
}

static int
ff_read(sqlite3_file *f, void *buf, int n, sqlite3_int64 off)
{
	struct fault_file	*ff = (struct fault_file *)f;

	if (fault_now(OP_READ, "read"))
		return SQLITE_IOERR_READ;
	return ff->real->pMethods->xRead(ff->real, buf, n, off);
}

static int
ff_write(sqlite3_file *f, const void *buf, int n, sqlite3_int64 off)
{
	struct fault_file	*ff = (struct fault_file *)f;

	if (fault_now(OP_WRITE, "write"))
		return SQLITE_IOERR_WRITE;
	return ff->real->pMethods->xWrite(ff->real, buf, n, off);
}

static int
ff_truncate(sqlite3_file *f, sqlite3_int64 size)
{
	struct fault_file	*ff = (struct fault_file *)f;

	return ff->real->pMethods->xTruncate(ff->real, size);
}

static int
ff_sync(sqlite3_file *f, int flags)
{
	struct fault_file	*ff = (struct fault_file *)f;
	struct timespec		 ts;
	struct stat		 sb;
	int			 i;

	if (sync_ms > 0) {
		ts.tv_sec = sync_ms / 1000;
		ts.tv_nsec = (sync_ms % 1000) * 1000000L;
		nanosleep(&ts, NULL);
	}
	for (i = 0; pause_file != NULL && i < 6000 &&
	    stat(pause_file, &sb) == 0; i++) {
		ts.tv_sec = 0;
		ts.tv_nsec = 10 * 1000000L;
		nanosleep(&ts, NULL);
	}
	if (fault_now(OP_SYNC, "sync"))
		return SQLITE_IOERR_FSYNC;
	return ff->real->pMethods->xSync(ff->real, flags);
}

static int
ff_file_size(sqlite3_file *f, sqlite3_int64 *size)
{
	return ((struct fault_file *)f)->real->pMethods->xFileSize(
	    ((struct fault_file *)f)->real, size);
}

static int
ff_lock(sqlite3_file *f, int l)
{
	struct fault_file	*ff = (struct fault_file *)f;

	return ff->real->pMethods->xLock(ff->real, l);
}

static int
ff_unlock(sqlite3_file *f, int l)
{
	struct fault_file	*ff = (struct fault_file *)f;

	return ff->real->pMethods->xUnlock(ff->real, l);
}

static int
ff_check_reserved(sqlite3_file *f, int *out)
{
	struct fault_file	*ff = (struct fault_file *)f;

	return ff->real->pMethods->xCheckReservedLock(ff->real, out);
}

static int
ff_file_control(sqlite3_file *f, int op, void *arg)
{
	struct fault_file	*ff = (struct fault_file *)f;

	return ff->real->pMethods->xFileControl(ff->real, op, arg);
}

static int
ff_sector_size(sqlite3_file *f)
{
	struct fault_file	*ff = (struct fault_file *)f;

	return ff->real->pMethods->xSectorSize(ff->real);
}

static int
ff_device_chars(sqlite3_file *f)
{
	struct fault_file	*ff = (struct fault_file *)f;

	return ff->real->pMethods->xDeviceCharacteristics(ff->real);
}

static int
ff_shm_map(sqlite3_file *f, int pg, int pgsz, int extend,
    void volatile **pp)
{
	struct fault_file	*ff = (struct fault_file *)f;

	return ff->real->pMethods->xShmMap(ff->real, pg, pgsz, extend, pp);
}

static int
ff_shm_lock(sqlite3_file *f, int off, int n, int flags)
{
	struct fault_file	*ff = (struct fault_file *)f;

	return ff->real->pMethods->xShmLock(ff->real, off, n, flags);
}

static void
ff_shm_barrier(sqlite3_file *f)
{
	struct fault_file	*ff = (struct fault_file *)f;

	ff->real->pMethods->xShmBarrier(ff->real);
}

static int
ff_shm_unmap(sqlite3_file *f, int del)
{
	struct fault_file	*ff = (struct fault_file *)f;

	return ff->real->pMethods->xShmUnmap(ff->real, del);
}

static int
ff_fetch(sqlite3_file *f, sqlite3_int64 off, int n, void **pp)
{
	struct fault_file	*ff = (struct fault_file *)f;

	return ff->real->pMethods->xFetch(ff->real, off, n, pp);
}

static int
ff_unfetch(sqlite3_file *f, sqlite3_int64 off, void *p)
{
	struct fault_file	*ff = (struct fault_file *)f;

	return ff->real->pMethods->xUnfetch(ff->real, off, p);
}

/* Version 3 methods; the shm and fetch ones only where the real file has
 * them (SQLite looks at iVersion and at NULL pointers). */
static const sqlite3_io_methods ff_methods = {
	3, ff_close, ff_read, ff_write, ff_truncate, ff_sync, ff_file_size,
	ff_lock, ff_unlock, ff_check_reserved, ff_file_control,
	ff_sector_size, ff_device_chars, ff_shm_map, ff_shm_lock,
	ff_shm_barrier, ff_shm_unmap, ff_fetch, ff_unfetch
};

static int
fv_open(sqlite3_vfs *vfs, const char *name, sqlite3_file *f, int flags,
    int *out_flags)
{
	struct fault_file	*ff = (struct fault_file *)f;
	int			 rc;

	(void)vfs;
	ff->real = (sqlite3_file *)(ff + 1);
	rc = real_vfs->xOpen(real_vfs, name, ff->real, flags, out_flags);
	/* pMethods NULL: SQLite closes nothing; set it only when open. */
	f->pMethods = ff->real->pMethods != NULL ? &ff_methods : NULL;
	return rc;
}

static int
fv_delete(sqlite3_vfs *vfs, const char *name, int sync_dir)
{
	(void)vfs;
	return real_vfs->xDelete(real_vfs, name, sync_dir);
}

static int
fv_access(sqlite3_vfs *vfs, const char *name, int flags, int *out)
{
	(void)vfs;
	return real_vfs->xAccess(real_vfs, name, flags, out);
}

static int
fv_full_pathname(sqlite3_vfs *vfs, const char *name, int n, char *out)
{
	(void)vfs;
	return real_vfs->xFullPathname(real_vfs, name, n, out);
}

static void *
fv_dlopen(sqlite3_vfs *vfs, const char *name)
{
	(void)vfs;
	return real_vfs->xDlOpen(real_vfs, name);
}

static void
fv_dlerror(sqlite3_vfs *vfs, int n, char *out)
{
	(void)vfs;
	real_vfs->xDlError(real_vfs, n, out);
}

static void
(*fv_dlsym(sqlite3_vfs *vfs, void *h, const char *sym))(void)
{
	(void)vfs;
	return real_vfs->xDlSym(real_vfs, h, sym);
}

static void
fv_dlclose(sqlite3_vfs *vfs, void *h)
{
	(void)vfs;
	real_vfs->xDlClose(real_vfs, h);
}

static int
fv_randomness(sqlite3_vfs *vfs, int n, char *out)
{
	(void)vfs;
	return real_vfs->xRandomness(real_vfs, n, out);
}

static int
fv_sleep(sqlite3_vfs *vfs, int us)
{
	(void)vfs;
	return real_vfs->xSleep(real_vfs, us);
}

static int
fv_current_time(sqlite3_vfs *vfs, double *out)
{
	(void)vfs;
	return real_vfs->xCurrentTime(real_vfs, out);
}

static int
fv_last_error(sqlite3_vfs *vfs, int n, char *out)
{
	(void)vfs;
	return real_vfs->xGetLastError(real_vfs, n, out);
}

static int
fv_current_time64(sqlite3_vfs *vfs, sqlite3_int64 *out)
{
	(void)vfs;
	return real_vfs->xCurrentTimeInt64(real_vfs, out);
}

/* -------------------------------------------------------------------------
 * A crash as the process writes a given text.
 */

static const char	*kill_text;
static size_t		 kill_len;

static ssize_t	(*real_write)(int, const void *, size_t);
static ssize_t	(*real_writev)(int, const struct iovec *, int);
static ssize_t	(*real_send)(int, const void *, size_t, int);
static ssize_t	(*real_sendto)(int, const void *, size_t, int,
		    const struct sockaddr *, socklen_t);
static ssize_t	(*real_sendmsg)(int, const struct msghdr *, int);

/* SIGKILL, noted first, when buf holds FAULT_KILL_ON_WRITE's text. */
static void
kill_on(const void *buf, size_t n)
{
	if (kill_len == 0 || in_fault || buf == NULL || n < kill_len ||
	    memmem(buf, n, kill_text, kill_len) == NULL || !armed())
		return;
	in_fault = 1;
	fault_note("kill-on-write");
	raise(SIGKILL);
}

static void
kill_on_iov(const struct iovec *iov, int n)
{
	int	 i;

	for (i = 0; iov != NULL && i < n; i++)
		kill_on(iov[i].iov_base, iov[i].iov_len);
}

ssize_t
write(int fd, const void *buf, size_t n)
{
	if (real_write == NULL)
		real_write = (ssize_t (*)(int, const void *, size_t))
		    dlsym(RTLD_NEXT, "write");
	kill_on(buf, n);
	return real_write(fd, buf, n);
}

ssize_t
writev(int fd, const struct iovec *iov, int n)
{
	if (real_writev == NULL)
		real_writev = (ssize_t (*)(int, const struct iovec *, int))
		    dlsym(RTLD_NEXT, "writev");
	kill_on_iov(iov, n);
	return real_writev(fd, iov, n);
}

ssize_t
send(int fd, const void *buf, size_t n, int flags)
{
	if (real_send == NULL)
		real_send = (ssize_t (*)(int, const void *, size_t, int))
		    dlsym(RTLD_NEXT, "send");
	kill_on(buf, n);
	return real_send(fd, buf, n, flags);
}

ssize_t
sendto(int fd, const void *buf, size_t n, int flags,
    const struct sockaddr *to, socklen_t tolen)
{
	if (real_sendto == NULL)
		real_sendto = (ssize_t (*)(int, const void *, size_t, int,
		    const struct sockaddr *, socklen_t))
		    dlsym(RTLD_NEXT, "sendto");
	kill_on(buf, n);
	return real_sendto(fd, buf, n, flags, to, tolen);
}

ssize_t
sendmsg(int fd, const struct msghdr *m, int flags)
{
	if (real_sendmsg == NULL)
		real_sendmsg = (ssize_t (*)(int, const struct msghdr *, int))
		    dlsym(RTLD_NEXT, "sendmsg");
	if (m != NULL)
		kill_on_iov(m->msg_iov, (int)m->msg_iovlen);
	return real_sendmsg(fd, m, flags);
}

/* -------------------------------------------------------------------------
 * The wall clock.
 */

static long long	 clock_offset;
static struct timespec	 clock_read_at;

static int (*real_clock_gettime)(clockid_t, struct timespec *);
static int (*real_gettimeofday)(struct timeval *, void *);

/* The offset, re-read from FAULT_CLOCK at most every 10 ms. */
static long long
offset_now(void)
{
	struct timespec	 now;
	char		 buf[32];
	ssize_t		 n;
	int		 fd;

	if (clock_file == NULL || real_clock_gettime == NULL)
		return 0;
	real_clock_gettime(CLOCK_MONOTONIC, &now);
	if ((now.tv_sec - clock_read_at.tv_sec) * 1000 +
	    (now.tv_nsec - clock_read_at.tv_nsec) / 1000000 < 10 &&
	    clock_read_at.tv_sec != 0)
		return clock_offset;
	clock_read_at = now;
	if ((fd = open(clock_file, O_RDONLY)) == -1)
		return clock_offset;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n > 0) {
		buf[n] = '\0';
		clock_offset = strtoll(buf, NULL, 10);
	}
	return clock_offset;
}

int
clock_gettime(clockid_t id, struct timespec *ts)
{
	int	rc;

	if (real_clock_gettime == NULL)
		real_clock_gettime = (int (*)(clockid_t, struct timespec *))
		    dlsym(RTLD_NEXT, "clock_gettime");
	rc = real_clock_gettime(id, ts);
	if (rc == 0 && (id == CLOCK_REALTIME || id == CLOCK_REALTIME_COARSE))
		ts->tv_sec += offset_now();
	return rc;
}

int
gettimeofday(struct timeval *tv, void *tz)
{
	int	rc;

	if (real_gettimeofday == NULL)
		real_gettimeofday = (int (*)(struct timeval *, void *))
		    dlsym(RTLD_NEXT, "gettimeofday");
	rc = real_gettimeofday(tv, tz);
	if (rc == 0)
		tv->tv_sec += offset_now();
	return rc;
}

time_t
time(time_t *out)
{
	struct timespec	ts;
	time_t		t;

	clock_gettime(CLOCK_REALTIME, &ts);
	t = ts.tv_sec;
	if (out != NULL)
		*out = t;
	return t;
}

/* -------------------------------------------------------------------------
 * Set-up.
 */

static long
env_long(const char *name, long def)
{
	const char	*v = getenv(name);

	return v != NULL && *v != '\0' ? strtol(v, NULL, 10) : def;
}

__attribute__((constructor))
static void
fault_init(void)
{
	const char	*op = getenv("FAULT_OP");
	sqlite3_mem_methods	mem;

	arm_file = getenv("FAULT_ARM");
	pause_file = getenv("FAULT_SYNC_PAUSE");
	clock_file = getenv("FAULT_CLOCK");
	log_file = getenv("FAULT_LOG");
	if ((kill_text = getenv("FAULT_KILL_ON_WRITE")) != NULL)
		kill_len = strlen(kill_text);
	fault_n = env_long("FAULT_N", 0);
	fault_every = env_long("FAULT_EVERY", 0);
	fault_persist = env_long("FAULT_PERSIST", 1);
	sync_ms = env_long("FAULT_SYNC_MS", 0);
	if (op == NULL)
		fault_op = OP_NONE;
	else if (strcmp(op, "write") == 0)
		fault_op = OP_WRITE;
	else if (strcmp(op, "sync") == 0)
		fault_op = OP_SYNC;
	else if (strcmp(op, "read") == 0)
		fault_op = OP_READ;
	else if (strcmp(op, "malloc") == 0)
		fault_op = OP_MALLOC;
	real_clock_gettime = (int (*)(clockid_t, struct timespec *))
	    dlsym(RTLD_NEXT, "clock_gettime");
	real_gettimeofday = (int (*)(struct timeval *, void *))
	    dlsym(RTLD_NEXT, "gettimeofday");

	/* The allocator must be set before SQLite initialises. */
	if (fault_op == OP_MALLOC &&
	    sqlite3_config(SQLITE_CONFIG_GETMALLOC, &real_mem) == SQLITE_OK) {
		mem = real_mem;
		mem.xMalloc = fault_malloc;
		mem.xRealloc = fault_realloc;
		mem.xFree = fault_free;
		mem.xSize = fault_size;
		mem.xRoundup = fault_roundup;
		mem.xInit = fault_mem_init;
		mem.xShutdown = fault_mem_shutdown;
		if (sqlite3_config(SQLITE_CONFIG_MALLOC, &mem) != SQLITE_OK)
			fprintf(stderr, "faultshim: cannot set the allocator\n");
	}
	if ((real_vfs = sqlite3_vfs_find(NULL)) == NULL) {
		fprintf(stderr, "faultshim: no default VFS\n");
		return;
	}
	fault_vfs.iVersion = 2;
	fault_vfs.szOsFile = (int)sizeof(struct fault_file) +
	    real_vfs->szOsFile;
	fault_vfs.mxPathname = real_vfs->mxPathname;
	fault_vfs.zName = "faultvfs";
	fault_vfs.xOpen = fv_open;
	fault_vfs.xDelete = fv_delete;
	fault_vfs.xAccess = fv_access;
	fault_vfs.xFullPathname = fv_full_pathname;
	fault_vfs.xDlOpen = fv_dlopen;
	fault_vfs.xDlError = fv_dlerror;
	fault_vfs.xDlSym = fv_dlsym;
	fault_vfs.xDlClose = fv_dlclose;
	fault_vfs.xRandomness = fv_randomness;
	fault_vfs.xSleep = fv_sleep;
	fault_vfs.xCurrentTime = fv_current_time;
	fault_vfs.xGetLastError = fv_last_error;
	fault_vfs.xCurrentTimeInt64 = fv_current_time64;
	if (sqlite3_vfs_register(&fault_vfs, 1) != SQLITE_OK)
		fprintf(stderr, "faultshim: cannot register the VFS\n");
}
