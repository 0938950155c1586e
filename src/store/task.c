/*
 * task.c - the task thread: store work whose waits do not stop the loop.
 *
 * See task.h for the model.  One mutex guards everything here; two
 * condition variables say whose turn it is.  The turn is the only licence
 * to run marketbox's code: the loop's thread holds it while it runs
 * callbacks, the task thread while it runs a task, and neither runs
 * anything of marketbox without it.  The task thread gives it up in
 * tasks_wait_begin() (it then touches only its database connection) and
 * asks for it back in tasks_wait_end(): a byte down the pipe wakes the
 * loop, whose callback hands the turn over and parks until it comes back.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/event.h>

#include "base/gw.h"

#include "store/task.h"

enum tasks_turn {
	TURN_LOOP,
	TURN_THREAD
};

struct task {
	void		(*fn)(void *);
	void		 *arg;
};

struct tasks {
	pthread_mutex_t		 m;
	pthread_cond_t		 loop_cv;	/* the loop's turn, or want */
	pthread_cond_t		 thread_cv;	/* the thread's turn */
	pthread_t		 thread;
	int			 started;
	enum tasks_turn		 turn;
	int			 busy;		/* a task under way */
	int			 want;		/* its wait is over */
	int			 stop;
	struct task		*q;		/* ring of queued tasks */
	size_t			 qcap, qhead, qlen;
	int			 pipe[2];
	struct event		*pipe_ev;
	unsigned long long	 run, waits;
};

/* The loop's side: give the thread the turn and park until it is back. */
static void
tasks_hand_over_locked(struct tasks *t)
{
	t->turn = TURN_THREAD;
	pthread_cond_signal(&t->thread_cv);
	while (t->turn != TURN_LOOP)
		pthread_cond_wait(&t->loop_cv, &t->m);
}

static void *
tasks_main(void *arg)
{
	struct tasks	*t = arg;
	struct task	 task;

	pthread_mutex_lock(&t->m);
	for (;;) {
		while (t->turn != TURN_THREAD)
			pthread_cond_wait(&t->thread_cv, &t->m);
		if (t->qlen == 0) {
			t->busy = 0;
			t->turn = TURN_LOOP;
			pthread_cond_signal(&t->loop_cv);
			if (t->stop)
				break;
			continue;
		}
		task = t->q[t->qhead];
		t->qhead = (t->qhead + 1) % t->qcap;
		t->qlen--;
		t->run++;
		pthread_mutex_unlock(&t->m);
		task.fn(task.arg);
		pthread_mutex_lock(&t->m);
	}
	pthread_mutex_unlock(&t->m);
	return NULL;
}

/* The pipe is readable: a task's wait is over and it wants the turn. */
static void
tasks_pipe_cb(evutil_socket_t fd, short what, void *arg)
{
	struct tasks	*t = arg;
	char		 buf[64];

	(void)what;
	while (read(fd, buf, sizeof(buf)) > 0)
		;
	pthread_mutex_lock(&t->m);
	if (t->want) {
		t->want = 0;
		tasks_hand_over_locked(t);
	}
	pthread_mutex_unlock(&t->m);
}

struct tasks *
tasks_new(struct event_base *base)
{
	struct tasks	*t;
	int		 i;

	if ((t = calloc(1, sizeof(*t))) == NULL) {
		error(errno, "tasks: out of memory");
		return NULL;
	}
	t->pipe[0] = t->pipe[1] = -1;
	pthread_mutex_init(&t->m, NULL);
	pthread_cond_init(&t->loop_cv, NULL);
	pthread_cond_init(&t->thread_cv, NULL);
	if (pipe(t->pipe) == -1) {
		error(errno, "tasks: pipe");
		goto fail;
	}
	for (i = 0; i < 2; i++)
		if (fcntl(t->pipe[i], F_SETFL, O_NONBLOCK) == -1 ||
		    fcntl(t->pipe[i], F_SETFD, FD_CLOEXEC) == -1) {
			error(errno, "tasks: pipe");
			goto fail;
		}
	if ((t->pipe_ev = event_new(base, t->pipe[0], EV_READ | EV_PERSIST,
	    tasks_pipe_cb, t)) == NULL || event_add(t->pipe_ev, NULL) == -1) {
		error(0, "tasks: cannot watch the pipe");
		goto fail;
	}
	if ((errno = pthread_create(&t->thread, NULL, tasks_main, t)) != 0) {
		error(errno, "tasks: cannot start the task thread");
		goto fail;
	}
	t->started = 1;
	return t;
fail:
	tasks_free(t);
	return NULL;
}

void
tasks_free(struct tasks *t)
{
	if (t == NULL)
		return;
	if (t->started) {
		pthread_mutex_lock(&t->m);
		/* What is queued runs to its end, its waits included. */
		while (t->busy) {
			if (t->want) {
				t->want = 0;
				tasks_hand_over_locked(t);
			} else
				pthread_cond_wait(&t->loop_cv, &t->m);
		}
		t->stop = 1;
		tasks_hand_over_locked(t);
		pthread_mutex_unlock(&t->m);
		pthread_join(t->thread, NULL);
	}
	if (t->pipe_ev != NULL)
		event_free(t->pipe_ev);
	if (t->pipe[0] != -1)
		close(t->pipe[0]);
	if (t->pipe[1] != -1)
		close(t->pipe[1]);
	pthread_cond_destroy(&t->thread_cv);
	pthread_cond_destroy(&t->loop_cv);
	pthread_mutex_destroy(&t->m);
	free(t->q);
	free(t);
}

/* Room for one more queued task (the ring doubles, in order). */
static int
tasks_grow_locked(struct tasks *t)
{
	struct task	*q;
	size_t		 n = t->qcap ? t->qcap * 2 : 64, i;

	if ((q = malloc(n * sizeof(*q))) == NULL)
		return -1;
	for (i = 0; i < t->qlen; i++)
		q[i] = t->q[(t->qhead + i) % t->qcap];
	free(t->q);
	t->q = q;
	t->qcap = n;
	t->qhead = 0;
	return 0;
}

int
tasks_add(struct tasks *t, void (*fn)(void *), void *arg)
{
	pthread_mutex_lock(&t->m);
	if (t->qlen == t->qcap && tasks_grow_locked(t) == -1) {
		pthread_mutex_unlock(&t->m);
		error(0, "tasks: out of memory");
		return -1;
	}
	t->q[(t->qhead + t->qlen) % t->qcap].fn = fn;
	t->q[(t->qhead + t->qlen) % t->qcap].arg = arg;
	t->qlen++;
	/* Under way already: it runs after what is queued before it. */
	if (!t->busy && !tasks_on_thread(t)) {
		t->busy = 1;
		tasks_hand_over_locked(t);
	}
	pthread_mutex_unlock(&t->m);
	return 0;
}

void
tasks_wait_begin(struct tasks *t)
{
	if (t == NULL || !tasks_on_thread(t))
		return;
	pthread_mutex_lock(&t->m);
	t->waits++;
	t->turn = TURN_LOOP;
	pthread_cond_signal(&t->loop_cv);
	pthread_mutex_unlock(&t->m);
}

void
tasks_wait_end(struct tasks *t)
{
	static const char	 one = 1;

	if (t == NULL || !tasks_on_thread(t))
		return;
	pthread_mutex_lock(&t->m);
	t->want = 1;
	/* tasks_free() may be waiting for exactly this */
	pthread_cond_signal(&t->loop_cv);
	/* A full pipe is readable already: the byte is not needed. */
	if (write(t->pipe[1], &one, 1) == -1 && errno != EAGAIN)
		error(errno, "tasks: pipe");
	while (t->turn != TURN_THREAD)
		pthread_cond_wait(&t->thread_cv, &t->m);
	pthread_mutex_unlock(&t->m);
}

int
tasks_on_thread(const struct tasks *t)
{
	return t != NULL && t->started &&
	    pthread_equal(pthread_self(), t->thread);
}

int
tasks_busy(struct tasks *t)
{
	int	 busy;

	pthread_mutex_lock(&t->m);
	busy = t->busy;
	pthread_mutex_unlock(&t->m);
	return busy;
}

void
tasks_stats(struct tasks *t, unsigned long long *run,
    unsigned long long *waits)
{
	pthread_mutex_lock(&t->m);
	*run = t->run;
	*waits = t->waits;
	pthread_mutex_unlock(&t->m);
}
