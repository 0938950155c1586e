/*
 * task.h - work that waits for a database server without stopping the
 * event loop.
 *
 * marketbox is one event loop: every callback runs to its end before the
 * next one starts, and no code of marketbox ever runs on two threads at
 * once.  A database over the network breaks that model where it waits:
 * a statement sent to PostgreSQL takes a round trip, and a loop that waits
 * for it stops reading the link, answering heartbeats and serving HTTP.
 *
 * Tasks keep the model and take the waits off the loop.  A task is a
 * function run on the task thread, one task at a time, in the order they
 * were added, and only while the loop's thread is parked: tasks_add()
 * hands the thread its turn and waits until the task has finished or
 * waits for the database.  Between tasks_wait_begin() and
 * tasks_wait_end() (around a blocking call to the database, nothing else)
 * the loop runs again; when the answer is there, the task thread asks
 * for its turn back through a pipe the loop watches, and the loop parks
 * while it goes on.  So a task reads and writes what loop callbacks do,
 * exactly as a callback would, without locks: the turn passes under a
 * mutex, which orders every memory access of one side before the other's.
 *
 *	loop thread		task thread
 *	callback: tasks_add  ->	fn() runs ...
 *	(parked)		tasks_wait_begin()
 *	other callbacks   <-	PQexecPrepared() blocks
 *	pipe readable	  ->	tasks_wait_end() returns; fn() goes on
 *	(parked)		fn() returns; the next task, or the turn back
 *
 * What a task starts runs later than its caller continues: a caller must
 * not count on the task having run when tasks_add() returns (it has, when
 * the task did not wait).
 */
#ifndef MARKETBOX_TASK_H
#define MARKETBOX_TASK_H

struct event_base;
struct tasks;

/* The task thread and its pipe on base.  NULL (logged) on failure. */
struct tasks	*tasks_new(struct event_base *base);

/*
 * Run what is queued to its end (waits included, the loop not running),
 * then stop the thread.
 */
void		 tasks_free(struct tasks *);

/*
 * Queue fn(arg) and, unless a task is under way, run it now on the task
 * thread until it finishes or waits.  Called from a task, it is queued
 * behind the running one.  0, or -1 (logged) when out of memory: then
 * fn has not run.
 */
int		 tasks_add(struct tasks *, void (*fn)(void *), void *arg);

/* Around a blocking wait of a task: the loop runs meanwhile. */
void		 tasks_wait_begin(struct tasks *);
void		 tasks_wait_end(struct tasks *);

/* 1 on the task thread. */
int		 tasks_on_thread(const struct tasks *);

/* 1 while a task is under way (running, or waiting on its database). */
int		 tasks_busy(struct tasks *);

/* Tasks run since tasks_new(), and waits they made. */
void		 tasks_stats(struct tasks *, unsigned long long *run,
		    unsigned long long *waits);

#endif
