/*
 * instance.c - this marketbox's row among those sharing one database, its
 * heartbeat, and the takeover of what dead instances left in flight.  See
 * instance.h.
 */
#include "config.h"

#include <sys/types.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <event2/event.h>

#include "base/gw.h"

#include "base/conf.h"
#include "queue/instance.h"
#include "queue/outbox.h"
#include "store/store.h"

struct instance {
	struct event_base	*base;
	struct store		*store;
	struct outbox		*outbox;	/* NULL: no takeover */
	struct event		*timer;
	char			*name;
	char			 host[72];
	int			 lease;
	int			 shared;	/* store_shared(): the row, the
						   heartbeat, the takeover */
	long long		 started;
	int			 beating;	/* the task is queued or runs */
};

/* This process's instance, for instance_list on SQLite (no table rows). */
static const struct instance	*instance_self;

int
instance_heartbeat_interval(int lease)
{
	int	 secs = lease / 4;

	if (secs < 1)
		secs = 1;
	if (secs > 15)
		secs = 15;
	return secs;
}

/* Step a statement that returns no rows: 0 or -1 (logged by the store). */
static int
instance_step_done(struct store_stmt *st)
{
	int	 rc = store_step(st);

	store_done(st);
	return rc == STORE_DONE ? 0 : -1;
}

/*
 * A row of the name was written by a process of this host that is gone
 * (a crash, then a restart within the lease): no live instance holds it.
 */
static int
instance_stale(struct instance *in, const char *host, long long pid)
{
	if (host == NULL || strcmp(host, in->host) != 0)
		return 0;
	/* This pid is this process now (a container's pid 1 started
	 * again): the process that wrote the row is gone. */
	if (pid == (long long)getpid())
		return 1;
	return pid > 0 && kill((pid_t)pid, 0) == -1 && errno == ESRCH;
}

/*
 * Claim the name: the row is written unless another live instance holds
 * it.  1 written, 0 refused (logged), -1 on error.  Inside a unit.
 */
static int
instance_claim(struct instance *in)
{
	static const char find[] =
	    "SELECT host, pid, heartbeat FROM instances WHERE name = $1";
	static const char upsert[] =
	    "INSERT INTO instances (name, host, pid, started, heartbeat) "
	    "VALUES ($1, $2, $3, $4, $4) ON CONFLICT (name) DO UPDATE SET "
	    "host = excluded.host, pid = excluded.pid, "
	    "started = excluded.started, heartbeat = excluded.heartbeat "
	    "WHERE instances.heartbeat < $5 OR $6 = 1 RETURNING name";
	struct store_stmt	*st;
	char			 host[72] = "";
	long long		 pid = 0, beat = 0, now = (long long)time(NULL);
	int			 rc, found = 0, stale = 0;

	if ((st = store_query(in->store, find)) == NULL)
		return -1;
	store_bind_text(st, 1, in->name);
	if ((rc = store_step(st)) == STORE_ROW) {
		found = 1;
		snprintf(host, sizeof(host), "%s", store_text(st, 0) != NULL ?
		    store_text(st, 0) : "");
		pid = store_int(st, 1);
		beat = store_int(st, 2);
	}
	store_done(st);
	if (rc == STORE_ERROR)
		return -1;
	if (found)
		stale = instance_stale(in, host, pid);
	if ((st = store_query(in->store, upsert)) == NULL)
		return -1;
	store_bind_text(st, 1, in->name);
	store_bind_text(st, 2, in->host);
	store_bind_int(st, 3, (long long)getpid());
	store_bind_int(st, 4, now);
	store_bind_int(st, 5, now - in->lease);
	store_bind_int(st, 6, stale);
	rc = store_step(st);
	store_done(st);
	if (rc == STORE_ERROR)
		return -1;
	if (rc == STORE_ROW)
		return 1;
	error(0, "instance: another marketbox named %s is alive on this "
	    "database (on %s, pid %lld, heartbeat %lld s ago): give each "
	    "instance its own name (conf key instance), or stop that one",
	    in->name, host, pid, now - beat);
	return 0;
}

/*
 * The rows of other instances of this host whose process is gone (killed,
 * then started again under a new default name): deleted, so that the
 * takeover queues their messages again at once rather than after the
 * lease.  Host names must differ between hosts.  Inside a unit.
 */
static int
instance_reap(struct instance *in)
{
	/*
	 * Only rows whose heartbeat is late: processes in another pid
	 * namespace (containers sharing a host name) are not seen by
	 * kill(), but they beat.
	 */
	static const char find[] =
	    "SELECT name, pid FROM instances WHERE host = $1 AND name <> $2 "
	    "AND heartbeat < $3 ORDER BY name LIMIT 64";
	static const char del[] =
	    "DELETE FROM instances WHERE name = $1 AND host = $2 AND pid = $3";
	struct store_stmt	*st;
	char			*gone[64];
	long long		 pid[64];
	size_t			 n = 0, i;
	int			 rc, bad = 0;

	if ((st = store_query(in->store, find)) == NULL)
		return -1;
	store_bind_text(st, 1, in->host);
	store_bind_text(st, 2, in->name);
	store_bind_int(st, 3, (long long)time(NULL) -
	    2 * instance_heartbeat_interval(in->lease));
	while ((rc = store_step(st)) == STORE_ROW) {
		if (n == 64 || store_text(st, 0) == NULL ||
		    !instance_stale(in, in->host, store_int(st, 1)))
			continue;
		if ((gone[n] = strdup(store_text(st, 0))) == NULL)
			continue;
		pid[n++] = store_int(st, 1);
	}
	store_done(st);
	if (rc == STORE_ERROR)
		bad = 1;
	for (i = 0; i < n; i++) {
		if (!bad && (st = store_query(in->store, del)) != NULL) {
			store_bind_text(st, 1, gone[i]);
			store_bind_text(st, 2, in->host);
			store_bind_int(st, 3, pid[i]);
			if (instance_step_done(st) == -1)
				bad = 1;
			else
				info(0, "instance: %s (pid %lld on this host) "
				    "is gone", gone[i], pid[i]);
		} else
			bad = 1;
		free(gone[i]);
	}
	return bad ? -1 : 0;
}

/* This instance's heartbeat: its row, now.  Inside a unit. */
static int
instance_write_beat(struct instance *in)
{
	static const char sql[] =
	    "INSERT INTO instances (name, host, pid, started, heartbeat) "
	    "VALUES ($1, $2, $3, $4, $4) ON CONFLICT (name) DO UPDATE SET "
	    "host = excluded.host, pid = excluded.pid, "
	    "heartbeat = excluded.heartbeat";
	struct store_stmt	*st;

	if ((st = store_query(in->store, sql)) == NULL)
		return -1;
	store_bind_text(st, 1, in->name);
	store_bind_text(st, 2, in->host);
	store_bind_int(st, 3, (long long)getpid());
	store_bind_int(st, 4, (long long)time(NULL));
	return instance_step_done(st);
}

void
instance_beat(struct instance *in)
{
	int	 ok;

	if (!in->shared)
		return;
	if (store_work_begin(in->store) == -1) {
		error(0, "instance: heartbeat not written");
		return;
	}
	ok = instance_write_beat(in) == 0;
	if (store_work_end(in->store, ok) == -1 || !ok)
		error(0, "instance: heartbeat not written");
	/* Its own unit: the row stands whatever the takeover meets. */
	if (in->outbox != NULL)
		outbox_takeover(in->outbox, in->lease);
}

/* The heartbeat, as a store task (store.h). */
static void
instance_beat_task(void *arg)
{
	struct instance	*in = arg;

	instance_beat(in);
	in->beating = 0;
}

static void
instance_timer_cb(evutil_socket_t fd, short what, void *arg)
{
	struct instance	*in = arg;

	(void)fd;
	(void)what;
	/* A database that answers slowly gets one heartbeat at a time. */
	if (in->beating)
		return;
	in->beating = 1;
	if (store_task(in->store, instance_beat_task, in) == -1)
		in->beating = 0;
}

struct instance *
instance_new(struct event_base *base, struct store *store,
    const struct conf *conf)
{
	struct instance	*in;
	struct timeval	 tv;
	int		 ok;

	if ((in = calloc(1, sizeof(*in))) == NULL ||
	    (in->name = strdup(conf_instance_name(conf))) == NULL) {
		error(errno, "instance: out of memory");
		free(in);
		return NULL;
	}
	in->base = base;
	in->store = store;
	in->lease = conf_outbox_lease(conf);
	in->shared = store_shared(store);
	in->started = (long long)time(NULL);
	conf_host_name(in->host, sizeof(in->host));
	/*
	 * A SQLite file has one marketbox: no row, no heartbeat (nor the
	 * fsync of their commits: a start writes nothing).
	 */
	if (!in->shared) {
		instance_self = in;
		return in;
	}
	if (store_work_begin(store) == -1) {
		free(in->name);
		free(in);
		return NULL;
	}
	ok = instance_claim(in);
	if (ok == 1 && instance_reap(in) == -1)
		ok = -1;
	if (store_work_end(store, ok == 1) == -1 || store_commit(store) == -1)
		ok = -1;
	if (ok != 1) {
		if (ok == -1)
			error(0, "instance: cannot write the row of %s",
			    in->name);
		free(in->name);
		free(in);
		return NULL;
	}
	if (base != NULL) {
		if ((in->timer = event_new(base, -1, EV_PERSIST,
		    instance_timer_cb, in)) == NULL) {
			error(0, "instance: cannot create the heartbeat timer");
			instance_free(in);
			return NULL;
		}
		tv.tv_sec = instance_heartbeat_interval(in->lease);
		tv.tv_usec = 0;
		event_add(in->timer, &tv);
	}
	info(0, "instance %s on %s, pid %ld (%s store, lease %d s)",
	    in->name, in->host, (long)getpid(), store_engine(store),
	    in->lease);
	instance_self = in;
	return in;
}

void
instance_set_outbox(struct instance *in, struct outbox *ob)
{
	if (in == NULL)
		return;
	in->outbox = ob;
	/* What dead instances left: at once, not at the first heartbeat.
	 * Before the loop runs, so it commits by itself. */
	if (ob != NULL && in->shared &&
	    outbox_takeover(ob, in->lease) == 0)
		store_commit(in->store);
}

void
instance_free(struct instance *in)
{
	static const char sql[] =
	    "DELETE FROM instances WHERE name = $1 AND pid = $2";
	struct store_stmt	*st;
	int			 ok = 0;

	if (in == NULL)
		return;
	if (instance_self == in)
		instance_self = NULL;
	if (in->timer != NULL)
		event_free(in->timer);
	if (!in->shared) {
		free(in->name);
		free(in);
		return;
	}
	if (store_work_begin(in->store) == 0) {
		if ((st = store_query(in->store, sql)) != NULL) {
			store_bind_text(st, 1, in->name);
			store_bind_int(st, 2, (long long)getpid());
			ok = instance_step_done(st) == 0;
		}
		if (store_work_end(in->store, ok) == -1 ||
		    store_commit(in->store) == -1)
			ok = 0;
	}
	if (!ok)
		warning(0, "instance: the row of %s is left; it is dead "
		    "after the lease", in->name);
	free(in->name);
	free(in);
}

int
instance_list(struct store *s, int lease, struct instance_info *info,
    size_t max, size_t *n, size_t *live)
{
	static const char sql[] =
	    "SELECT name, host, pid, started, heartbeat FROM instances "
	    "ORDER BY name LIMIT $1";
	struct store_stmt	*st;
	long long		 now = (long long)time(NULL);
	int			 rc = STORE_DONE;

	*n = *live = 0;
	if (!store_shared(s)) {
		/* SQLite: this process alone, from memory. */
		if (instance_self == NULL || max == 0)
			return 0;
		snprintf(info[0].name, sizeof(info[0].name), "%s",
		    instance_self->name);
		snprintf(info[0].host, sizeof(info[0].host), "%s",
		    instance_self->host);
		info[0].pid = (long long)getpid();
		info[0].started = instance_self->started;
		info[0].heartbeat = now;
		info[0].live = 1;
		*n = *live = 1;
		return 0;
	}
	if ((st = store_query(s, sql)) == NULL)
		return -1;
	store_bind_int(st, 1, (long long)max);
	while (*n < max && (rc = store_step(st)) == STORE_ROW) {
		struct instance_info	*p = &info[*n];
		const char		*name = store_text(st, 0);
		const char		*host = store_text(st, 1);

		snprintf(p->name, sizeof(p->name), "%s", name ? name : "");
		snprintf(p->host, sizeof(p->host), "%s", host ? host : "");
		p->pid = store_int(st, 2);
		p->started = store_int(st, 3);
		p->heartbeat = store_int(st, 4);
		p->live = p->heartbeat >= now - lease;
		if (p->live)
			(*live)++;
		(*n)++;
	}
	store_done(st);
	if (*n < max && rc == STORE_ERROR)
		return -1;
	return 0;
}
