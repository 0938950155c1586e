/*
 * test_task.c - task.c: tasks run in order, one at a time and never while
 * a loop callback runs; a task's wait lets the loop run; a task queued by
 * a task runs after it; tasks_free() runs what is queued to its end.
 */
#include "config.h"

#include <time.h>
#include <unistd.h>

#include <criterion/criterion.h>
#include <event2/event.h>

#include "base/gw.h"
#include "store/task.h"

static struct event_base	*base;
static struct tasks		*tasks;

/* Who is running marketbox's code now: never more than one. */
static volatile int		 inside;
static int			 overlaps;
static char			 trace[64];
static size_t			 ntrace;

static void
enter(char c)
{
	if (inside++ != 0)
		overlaps++;
	if (ntrace < sizeof(trace) - 1)
		trace[ntrace++] = c;
}

static void
leave(void)
{
	inside--;
}

static void
setup(void)
{
	gwlib_init();
	log_set_output_level(GW_PANIC);
	inside = overlaps = 0;
	ntrace = 0;
	memset(trace, 0, sizeof(trace));
	cr_assert_not_null(base = event_base_new());
	cr_assert_not_null(tasks = tasks_new(base));
}

static void
teardown(void)
{
	tasks_free(tasks);
	event_base_free(base);
	gwlib_shutdown();
}

TestSuite(task, .init = setup, .fini = teardown, .timeout = 20);

/* A task with no wait: done when tasks_add() returns, on the thread. */
static void
quick(void *arg)
{
	enter(*(char *)arg);
	cr_expect(tasks_on_thread(tasks));
	leave();
}

Test(task, a_task_that_does_not_wait_has_run_on_return)
{
	static char a = 'a', b = 'b';

	cr_assert_eq(tasks_add(tasks, quick, &a), 0);
	cr_expect_str_eq(trace, "a");
	cr_assert_eq(tasks_add(tasks, quick, &b), 0);
	cr_expect_str_eq(trace, "ab");
	cr_expect_not(tasks_on_thread(tasks));
	cr_expect_not(tasks_busy(tasks));
}

/* A task that waits 200 ms as for a database, in two halves. */
static void
slow(void *arg)
{
	enter(*(char *)arg);
	leave();
	tasks_wait_begin(tasks);
	usleep(200 * 1000);
	tasks_wait_end(tasks);
	enter(*(char *)arg + 1);
	leave();
}

static void
tick_cb(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	(void)arg;
	enter('.');
	leave();
}

static void
stop_when_idle_cb(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	(void)arg;
	if (!tasks_busy(tasks))
		event_base_loopbreak(base);
}

/* Run the loop until no task is under way, 10 s at most. */
static void
run_until_idle(void)
{
	struct timeval	 tv = { 0, 5 * 1000 };
	struct timeval	 limit = { 10, 0 };
	struct event	*poll;

	poll = event_new(base, -1, EV_PERSIST, stop_when_idle_cb, NULL);
	cr_assert_not_null(poll);
	event_add(poll, &tv);
	event_base_loopexit(base, &limit);
	event_base_dispatch(base);
	event_free(poll);
}

Test(task, the_loop_runs_while_a_task_waits)
{
	static char a = 'A';
	struct timeval	 tv = { 0, 20 * 1000 };
	struct event	*tick;

	cr_assert_not_null(tick = evtimer_new(base, tick_cb, NULL));
	event_add(tick, &tv);
	cr_assert_eq(tasks_add(tasks, slow, &a), 0);
	/* back before the task ends: its first half ran, its wait began */
	cr_expect_str_eq(trace, "A");
	cr_expect(tasks_busy(tasks));
	run_until_idle();
	/* the tick ran during the wait, then the task's second half */
	cr_expect_str_eq(trace, "A.B");
	cr_expect_eq(overlaps, 0);
	event_free(tick);
}

Test(task, tasks_run_one_at_a_time_in_order)
{
	static char a = 'a', c = 'c', e = 'e';

	cr_assert_eq(tasks_add(tasks, slow, &a), 0);
	/* queued behind the waiting one: not run yet */
	cr_assert_eq(tasks_add(tasks, slow, &c), 0);
	cr_assert_eq(tasks_add(tasks, quick, &e), 0);
	cr_expect_str_eq(trace, "a");
	run_until_idle();
	cr_expect_str_eq(trace, "abcde");
	cr_expect_eq(overlaps, 0);
}

static void
parent(void *arg)
{
	static char child = 'k';

	(void)arg;
	enter('p');
	/* queued behind this task, not run inside it */
	cr_expect_eq(tasks_add(tasks, quick, &child), 0);
	cr_expect_eq(ntrace, 1);
	leave();
}

Test(task, a_task_queued_by_a_task_runs_after_it)
{
	cr_assert_eq(tasks_add(tasks, parent, NULL), 0);
	cr_expect_str_eq(trace, "pk");
	cr_expect_not(tasks_busy(tasks));
}

Test(task, free_runs_what_is_queued_to_its_end)
{
	static char a = 'a', c = 'c';

	cr_assert_eq(tasks_add(tasks, slow, &a), 0);
	cr_assert_eq(tasks_add(tasks, slow, &c), 0);
	tasks_free(tasks);
	tasks = NULL;
	cr_expect_str_eq(trace, "abcd");
	cr_expect_eq(overlaps, 0);
}

/* Many short waits against a busy loop: never two sides at once. */
static void
jitter(void *arg)
{
	int	 i;

	(void)arg;
	for (i = 0; i < 20; i++) {
		enter('j');
		leave();
		tasks_wait_begin(tasks);
		usleep(500);
		tasks_wait_end(tasks);
	}
}

Test(task, never_two_at_once_under_many_waits)
{
	struct timeval	 tv = { 0, 300 };
	struct event	*tick;
	unsigned long long run, waits;
	int		 i;

	cr_assert_not_null(tick = event_new(base, -1, EV_PERSIST, tick_cb,
	    NULL));
	event_add(tick, &tv);
	for (i = 0; i < 10; i++)
		cr_assert_eq(tasks_add(tasks, jitter, NULL), 0);
	run_until_idle();
	event_free(tick);
	cr_expect_eq(overlaps, 0);
	tasks_stats(tasks, &run, &waits);
	cr_expect_eq(run, 10);
	cr_expect_eq(waits, 200);
}
