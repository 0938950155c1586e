/*
 * instance.h - this marketbox among those that share one database.
 *
 * Each instance has a row in the instances table (name, host, pid, when
 * it started, its last heartbeat), written at start and then every
 * lease/4 seconds (kept between 1 and 15) by a timer whose work is a
 * store task; a clean stop deletes it.  An instance whose heartbeat is
 * older than the lease (conf key outbox-lease) is dead: on a shared store
 * (store_shared) the same timer has the outbox queue again the MTs a dead
 * instance left in sending (outbox_takeover).  A SQLite file has one
 * marketbox: nothing is written (a start does not commit), and
 * instance_list() gives this process alone.
 */
#ifndef MARKETBOX_INSTANCE_H
#define MARKETBOX_INSTANCE_H

#include <stddef.h>

struct conf;
struct event_base;
struct outbox;
struct store;
struct instance;

/* Seconds between heartbeats for a lease: lease/4, from 1 to 15. */
int		 instance_heartbeat_interval(int lease);

/*
 * Write this instance's row and start its heartbeat.  Refused (NULL, with
 * the cause logged) when another live instance already has the name.
 * Rows of other instances of this host whose process is gone are deleted
 * (their MTs are then taken over at once).
 * Before the loop runs: it commits by itself.
 */
struct instance	*instance_new(struct event_base *, struct store *,
		    const struct conf *);

/* Take over the MTs of dead instances now (before the loop: it commits)
 * and with each heartbeat (shared store only). */
void		 instance_set_outbox(struct instance *, struct outbox *);

/* Run one heartbeat now (tests): the row, then the takeover. */
void		 instance_beat(struct instance *);

/* A clean stop: the row is deleted and committed.  After the store's
 * tasks have ended. */
void		 instance_free(struct instance *);

/* One row of the instances table, for the status pages. */
struct instance_info {
	char		 name[128];
	char		 host[72];
	long long	 pid, started, heartbeat;
	int		 live;		/* heartbeat within the lease */
};

/*
 * Up to max rows of the instances table, by name, into info[]; *live gets
 * how many of them are live.  0, or -1 (logged).
 */
int		 instance_list(struct store *, int lease,
		    struct instance_info *info, size_t max, size_t *n,
		    size_t *live);

#endif
