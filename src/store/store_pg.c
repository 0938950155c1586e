/*
 * store_pg.c - the store on PostgreSQL, through libpq: statements prepared
 * once per connection, parameters and rows as text, group commit's
 * transactions and savepoints, migrations under an advisory lock, and a
 * lost connection made again with backoff.
 *
 * See store_pg.h.  The calls block the calling thread: on the task thread
 * (task.h) the loop runs meanwhile, except for the first few hundred
 * microseconds of each round trip (store_pg_await).
 *
 * Round trips.  Transaction control costs none of its own: BEGIN, a
 * unit's SAVEPOINT and the RELEASE of the unit before are kept pending
 * and go to the server in one pipeline with the next statement (libpq's
 * pipeline mode), and a COMMIT needs no RELEASE before it (it commits the
 * savepoints still open).  The results come back in order: a pending item
 * that fails aborts what follows it, which is then the failure of a
 * statement outside a unit (below); a statement that fails after its
 * unit's SAVEPOINT succeeded is a failure inside the unit, as if the
 * SAVEPOINT had had its own round trip.
 *
 * Transactions.  A statement that fails inside a transaction aborts it in
 * PostgreSQL until ROLLBACK TO the savepoint.  Inside a unit of work,
 * store_work_end(ok = 0) does that.  Outside a unit, the transaction is
 * rolled back at once, and it is remembered as lost: the units it held are
 * gone, so its COMMIT fails (their callbacks are told), and units that
 * come before that COMMIT run in a new transaction that the failing COMMIT
 * rolls back too.  A connection lost inside a transaction loses it the
 * same way.
 */
#include "config.h"

/* Built without libpq (a build that compiles every file of src/): empty. */
#ifdef HAVE_POSTGRESQL

#include <errno.h>
#include <limits.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <libpq-fe.h>

#include "base/gw.h"

#include "store/store_pg.h"
#include "store/task.h"

/*
 * The key of the session advisory lock migrations run under, so that
 * instances starting at once migrate once ("mbox" in ASCII).
 */
#define STORE_PG_MIGRATION_LOCK	"1835167608"

#define STORE_PG_LOCK_TIMEOUT	"200ms"	/* see store_pg_connect */
#define STORE_PG_BACKOFF_MIN	250	/* ms, first wait between tries */
#define STORE_PG_BACKOFF_MAX	8000	/* ms */

struct store_pg {
	PGconn		*conn;
	char		*name;		/* for logs: no password */
	unsigned	 gen;		/* connections made: 1, 2 ... */
	unsigned	 nstmts;	/* statement names given */
	int		 down;		/* the connection is lost */
	long long	 next_try;	/* ms, monotonic: reconnect not before */
	int		 backoff;	/* ms */
	int		 in_txn;	/* BEGIN done, COMMIT pending */
	int		 in_unit;	/* SAVEPOINT done, not released */
	int		 txn_lost;	/* the open transaction's work is gone */
	/* Transaction control owed to the server, sent with the next
	 * statement, in this order (store_pg_pending). */
	int		 p_release;	/* the last unit's RELEASE */
	int		 p_begin;	/* BEGIN */
	int		 p_savepoint;	/* this unit's SAVEPOINT */
	int		 skip_release;	/* the unit rolled back reached no server */
	unsigned	 tc_gen;	/* the connection store_pg_tc is prepared on */
	long long	 changes;
	int		 conflict;	/* the last failure: another session
					   held what it needed */
	char		 errmsg[256];
	struct tasks	*tasks;		/* the loop runs while we wait */
};

struct store_pg_stmt {
	struct store_pg	*pg;
	const char	*sql;		/* as the caller wrote it */
	char		 name[16];	/* mb<N> */
	unsigned	 gen;		/* the connection it is prepared on */
	int		 nparams;
	const char	**values;	/* nparams: NULL binds NULL */
	char		**copies;	/* store_bind_text_copy's, kept */
	size_t		*copycap;
	char		(*ints)[24];	/* integers, formatted */
	PGresult	*desc;		/* the columns, from the first prepare */
	PGresult	*res;		/* the rows of the step in progress */
	int		 row, nrows;
};

/*
 * Every round trip to the server: the loop runs meanwhile when the store
 * works on its task thread (task.h); the task goes on with the answer.
 */
static PGresult *
store_pg_rt_exec(struct store_pg *pg, const char *sql)
{
	PGresult	*res;

	tasks_wait_begin(pg->tasks);
	res = PQexec(pg->conn, sql);
	tasks_wait_end(pg->tasks);
	return res;
}

static PGresult *
store_pg_rt_params(struct store_pg *pg, const char *sql, int n,
    const char *const *values)
{
	PGresult	*res;

	tasks_wait_begin(pg->tasks);
	res = PQexecParams(pg->conn, sql, n, NULL, values, NULL, NULL, 0);
	tasks_wait_end(pg->tasks);
	return res;
}

static PGresult *
store_pg_rt_prepare(struct store_pg *pg, const char *name, const char *sql,
    int n)
{
	PGresult	*res;

	tasks_wait_begin(pg->tasks);
	res = PQprepare(pg->conn, name, sql, n, NULL);
	tasks_wait_end(pg->tasks);
	return res;
}

static void
store_pg_rt_reset(struct store_pg *pg)
{
	tasks_wait_begin(pg->tasks);
	PQreset(pg->conn);
	tasks_wait_end(pg->tasks);
}

/*
 * How long a round trip may keep the loop parked, in microseconds.  The
 * task thread has the turn while it sends a statement; handing the turn
 * to the loop for the wait and taking it back costs two futex hand-offs
 * and a byte through the task pipe, some 60 us of CPU on both threads,
 * more than the round trip itself when the server answers at once (a
 * prepared statement on loopback: 30 to 150 us).  So the task first
 * sleeps in ppoll() on the socket for at most this long, the turn kept,
 * and only then gives the turn to the loop and blocks.  The loop never
 * waits longer than this for the server: a MO read or a heartbeat is at
 * most this late, far below the milliseconds of a commit's fsync.  The
 * figure, measured with scripts/bench direct on this 2-core machine
 * (4,000 MOs, perf stat on marketbox): with 200 us, 1.3% of the round
 * trips hand the turn over, 0.6 futex calls and 160 us of CPU per MO;
 * with 50 us, 8%, 3.4 futex calls and 200 us; handing it over always
 * (as before), 59 futex calls and 560 us.
 */
#ifndef STORE_PG_QUICK_US
#define STORE_PG_QUICK_US	200
#endif

/*
 * Until a result can be read without blocking (and what was sent is all
 * out): 0, or -1 when the connection fails.  The turn goes to the loop
 * once the quick wait is over (*handed); the caller takes it back.
 */
static int
store_pg_await(struct store_pg *pg, int *handed)
{
	PGconn		*c = pg->conn;
	struct pollfd	 pfd;
	struct timespec	 quick = { 0, STORE_PG_QUICK_US * 1000L };
	int		 out, rc;

	for (;;) {
		if (PQstatus(c) != CONNECTION_OK ||
		    (out = PQflush(c)) == -1)
			return -1;
		if (!out && !PQisBusy(c))
			return 0;
		pfd.fd = PQsocket(c);
		pfd.events = POLLIN | (out ? POLLOUT : 0);
		pfd.revents = 0;
		if (*handed)
			rc = poll(&pfd, 1, -1);
		else if ((rc = ppoll(&pfd, 1, &quick, NULL)) == 0) {
			tasks_wait_begin(pg->tasks);
			*handed = 1;
			continue;
		}
		if (rc == -1 && errno != EINTR)
			return -1;
		if (rc > 0 && (pfd.revents & (POLLIN | POLLERR | POLLHUP)) &&
		    !PQconsumeInput(c))
			return -1;
	}
}

#define STORE_PG_PIPE_MAX	4	/* 3 pending items, 1 statement */

/*
 * The transaction control store_pg_pending sends, prepared once per
 * connection under these names: the server does not parse them again
 * for every unit.
 */
static const char *const store_pg_tc[][2] = {
	{ "RELEASE work",	"mb_release" },
	{ "BEGIN",		"mb_begin" },
	{ "SAVEPOINT work",	"mb_savepoint" },
};
#define STORE_PG_TC_RELEASE	0
#define STORE_PG_TC_BEGIN	1
#define STORE_PG_TC_SAVEPOINT	2

/* The name sql is prepared under on this connection, or NULL. */
static const char *
store_pg_tc_name(const struct store_pg *pg, const char *sql)
{
	size_t	 i;

	if (pg->tc_gen != pg->gen)
		return NULL;
	for (i = 0; i < sizeof(store_pg_tc) / sizeof(store_pg_tc[0]); i++)
		if (sql == store_pg_tc[i][0])
			return store_pg_tc[i][1];
	return NULL;
}

/*
 * One round trip in pipeline mode: the texts q[0..nq-1] (no parameters),
 * then st prepared, if any.  Their results in res[], in order, NULL where
 * none came (the connection failed); returns how many there are.  Only
 * the connection is touched between the first send and the last result,
 * so the loop may run meanwhile (store_pg_await).
 */
static int
store_pg_pipeline(struct store_pg *pg, const char *const *q, int nq,
    const struct store_pg_stmt *st, PGresult **res)
{
	PGconn		*c = pg->conn;
	PGresult	*r;
	const char	*name;
	int		 n = nq + (st != NULL), i, k, sent, handed = 0;

	for (i = 0; i < n; i++)
		res[i] = NULL;
	if (!PQenterPipelineMode(c))
		return n;
	for (sent = 0; sent < n; sent++) {
		if (sent >= nq)
			i = PQsendQueryPrepared(c, st->name, st->nparams,
			    st->values, NULL, NULL, 0);
		else if ((name = store_pg_tc_name(pg, q[sent])) != NULL)
			i = PQsendQueryPrepared(c, name, 0, NULL, NULL, NULL, 0);
		else
			i = PQsendQueryParams(c, q[sent], 0, NULL, NULL, NULL,
			    NULL, 0);
		if (!i)
			break;
	}
	/* A sync that cannot be sent: the connection failed, and no result
	 * will come (the NULLs say so). */
	if (sent > 0 && !PQpipelineSync(c))
		sent = 0;
	/*
	 * Each statement gives its result and a NULL, then the sync its
	 * own; a connection that fails gives an error and NULLs.
	 */
	for (i = 0, k = 0; sent > 0 && k < 4 * n + 8; k++) {
		if (store_pg_await(pg, &handed) == -1) {
			if ((r = PQgetResult(c)) != NULL && i < n &&
			    res[i] == NULL)
				res[i] = r;
			else
				PQclear(r);
			break;
		}
		if ((r = PQgetResult(c)) == NULL) {
			i++;
			continue;
		}
		if (PQresultStatus(r) == PGRES_PIPELINE_SYNC) {
			PQclear(r);
			break;
		}
		if (i < n && res[i] == NULL)
			res[i] = r;
		else
			PQclear(r);
	}
	/* Fails only with the connection, which PQreset() makes anew. */
	PQexitPipelineMode(c);
	if (handed)
		tasks_wait_end(pg->tasks);
	return n;
}

/* The transaction control owed, in the order the server must see it. */
static int
store_pg_pending(struct store_pg *pg, const char **q)
{
	int	 n = 0;

	if (pg->p_release)
		q[n++] = store_pg_tc[STORE_PG_TC_RELEASE][0];
	if (pg->p_begin)
		q[n++] = store_pg_tc[STORE_PG_TC_BEGIN][0];
	if (pg->p_savepoint)
		q[n++] = store_pg_tc[STORE_PG_TC_SAVEPOINT][0];
	return n;
}

static void
store_pg_pending_clear(struct store_pg *pg)
{
	pg->p_release = pg->p_begin = pg->p_savepoint = 0;
	pg->skip_release = 0;
}

void
store_pg_set_tasks(struct store_pg *pg, struct tasks *tasks)
{
	pg->tasks = tasks;
}

static long long
store_pg_now(void)
{
	struct timespec	 ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* PostgreSQL's NOTICEs ("already exists, skipping") are for debugging. */
static void
store_pg_notice(void *arg, const char *msg)
{
	(void)arg;
	debug("mb.store", 0, "store: %.*s", (int)strcspn(msg, "\n"), msg);
}

/* Keep the first line of an error message for store_error(). */
static void
store_pg_set_error(struct store_pg *pg, const char *msg)
{
	if (msg == NULL || *msg == '\0')
		msg = "unknown error";
	snprintf(pg->errmsg, sizeof(pg->errmsg), "%.*s",
	    (int)strcspn(msg, "\n"), msg);
}

/*
 * The connection is gone: logged once, the open transaction's work lost,
 * and the next use tries again at once (then with backoff).
 */
static void
store_pg_lost(struct store_pg *pg)
{
	if (pg->down)
		return;
	error(0, "store: %s: the connection to the database is lost (%s); "
	    "reconnecting", pg->name, pg->errmsg);
	pg->down = 1;
	pg->backoff = STORE_PG_BACKOFF_MIN;
	pg->next_try = 0;
	if (pg->in_txn)
		pg->txn_lost = 1;
	pg->in_txn = 0;
	pg->in_unit = 0;
	store_pg_pending_clear(pg);
}

/*
 * Prepare store_pg_tc on a new connection.  When the server refuses, they
 * go as text: slower, as right.
 */
static void
store_pg_prepare_tc(struct store_pg *pg)
{
	PGresult	*res;
	size_t		 i;

	for (i = 0; i < sizeof(store_pg_tc) / sizeof(store_pg_tc[0]); i++) {
		res = store_pg_rt_prepare(pg, store_pg_tc[i][1],
		    store_pg_tc[i][0], 0);
		if (PQresultStatus(res) != PGRES_COMMAND_OK) {
			debug("mb.store", 0, "store: %s: %s not prepared: %s",
			    pg->name, store_pg_tc[i][0],
			    PQresultErrorMessage(res));
			PQclear(res);
			return;
		}
		PQclear(res);
	}
	pg->tc_gen = pg->gen;
}

/*
 * A usable connection, made again when it was lost and the backoff allows.
 * 0, or -1 (the error set; the loss and the return logged once).
 */
static int
store_pg_ready(struct store_pg *pg)
{
	long long	 now;

	if (!pg->down) {
		if (PQstatus(pg->conn) == CONNECTION_OK)
			return 0;
		store_pg_set_error(pg, PQerrorMessage(pg->conn));
		store_pg_lost(pg);
	}
	now = store_pg_now();
	if (now < pg->next_try) {
		store_pg_set_error(pg, "no connection to the database");
		return -1;
	}
	store_pg_rt_reset(pg);
	if (PQstatus(pg->conn) != CONNECTION_OK) {
		store_pg_set_error(pg, PQerrorMessage(pg->conn));
		debug("mb.store", 0, "store: %s: reconnect failed: %s; next try "
		    "in %d ms", pg->name, pg->errmsg, pg->backoff);
		pg->next_try = now + pg->backoff;
		pg->backoff = pg->backoff * 2 > STORE_PG_BACKOFF_MAX ?
		    STORE_PG_BACKOFF_MAX : pg->backoff * 2;
		return -1;
	}
	pg->down = 0;
	pg->gen++;
	/* PQreset() turned it off */
	PQsetnonblocking(pg->conn, 1);
	store_pg_prepare_tc(pg);
	info(0, "store: %s: connected to the database again", pg->name);
	return 0;
}

/*
 * A result that is not what was wanted: the error kept and logged with its
 * SQLSTATE and the statement (quietly while the connection is down), the
 * loss of the connection noticed, and a transaction a failure outside a
 * unit aborted rolled back.  res is cleared.  Always -1.
 */
static int
store_pg_failed(struct store_pg *pg, PGresult *res, const char *sql)
{
	const char	*msg = res ? PQresultErrorField(res,
			    PG_DIAG_MESSAGE_PRIMARY) : NULL;
	const char	*code = res ? PQresultErrorField(res,
			    PG_DIAG_SQLSTATE) : NULL;
	char		 state[32] = "";
	PGresult	*r;

	if (res != NULL && PQresultStatus(res) != PGRES_FATAL_ERROR &&
	    PQresultStatus(res) != PGRES_NONFATAL_ERROR)
		msg = "unexpected result";
	store_pg_set_error(pg, msg ? msg : PQerrorMessage(pg->conn));
	if (code != NULL)
		snprintf(state, sizeof(state), "SQLSTATE %s: ", code);
	/* Serialization failure, deadlock, lock not available: the work
	 * may succeed if done again (store_retry_wanted). */
	pg->conflict = code != NULL && (strcmp(code, "40001") == 0 ||
	    strcmp(code, "40P01") == 0 || strcmp(code, "55P03") == 0);
	PQclear(res);
	if (pg->down)
		debug("mb.store", 0, "store: %s: %s: %s", pg->name, pg->errmsg,
		    sql);
	else if (pg->conflict)
		/* Expected now and then with several instances: the work is
		 * done again (store_retry_wanted), not lost. */
		warning(0, "store: %s: %s%s (rows another transaction "
		    "holds): %s", pg->name, state, pg->errmsg, sql);
	else
		error(0, "store: %s: %s%s: %s", pg->name, state, pg->errmsg,
		    sql);
	if (PQstatus(pg->conn) != CONNECTION_OK) {
		store_pg_lost(pg);
		return -1;
	}
	if (pg->in_txn && !pg->in_unit &&
	    PQtransactionStatus(pg->conn) == PQTRANS_INERROR) {
		r = store_pg_rt_exec(pg, "ROLLBACK");
		PQclear(r);
		pg->in_txn = 0;
		pg->txn_lost = 1;
		store_pg_pending_clear(pg);
	}
	return -1;
}

/*
 * A statement (sql, text without parameters, or st, prepared; or
 * neither: what is pending alone) after the transaction control pending,
 * in one round trip.  0 with the statement's result in *out (whatever its
 * status; NULL for neither), or -1 when a pending item failed: the
 * statement was not run, and the failure is one outside a unit (the
 * unit's SAVEPOINT, carried or after it, was not made; a RELEASE belongs
 * to a unit that has ended): logged, and the transaction lost.
 */
static int
store_pg_roundtrip(struct store_pg *pg, const char *sql,
    const struct store_pg_stmt *st, PGresult **out)
{
	const char	*q[STORE_PG_PIPE_MAX];
	PGresult	*res[STORE_PG_PIPE_MAX], *r;
	int		 np, n, i, bad = -1;

	np = store_pg_pending(pg, q);
	store_pg_pending_clear(pg);
	if (sql != NULL)
		q[np] = sql;
	n = store_pg_pipeline(pg, q, np + (sql != NULL), st, res);
	for (i = 0; i < np && bad == -1; i++)
		if (res[i] == NULL || PQresultStatus(res[i]) != PGRES_COMMAND_OK)
			bad = i;
	if (bad == -1) {
		for (i = 0; i < np; i++)
			PQclear(res[i]);
		if (out != NULL)
			*out = n > np ? res[np] : NULL;
		else if (n > np)
			PQclear(res[np]);
		return 0;
	}
	for (i = 0; i < n; i++)
		if (i != bad)
			PQclear(res[i]);
	pg->in_unit = 0;
	store_pg_failed(pg, res[bad], q[bad]);
	/* A BEGIN that failed leaves no transaction to roll back. */
	if (pg->in_txn) {
		if (PQstatus(pg->conn) == CONNECTION_OK &&
		    PQtransactionStatus(pg->conn) != PQTRANS_IDLE) {
			r = store_pg_rt_exec(pg, "ROLLBACK");
			PQclear(r);
		}
		pg->in_txn = 0;
		pg->txn_lost = 1;
		store_pg_pending_clear(pg);
	}
	if (out != NULL)
		*out = NULL;
	return -1;
}

/*
 * A connection the server ended while it was idle (a restart, or
 * pg_terminate_backend) is noticed before a transaction starts, as a BEGIN
 * of its own round trip would: its socket is readable with nothing asked.
 * One poll(), no round trip.  0, or -1 (lost).
 */
static int
store_pg_alive(struct store_pg *pg)
{
	struct pollfd	 pfd;
	int		 i;

	pfd.fd = PQsocket(pg->conn);
	pfd.events = POLLIN;
	for (i = 0; i < 4; i++) {
		pfd.revents = 0;
		if (poll(&pfd, 1, 0) <= 0)
			return 0;
		if (!PQconsumeInput(pg->conn) ||
		    PQstatus(pg->conn) != CONNECTION_OK) {
			store_pg_set_error(pg, PQerrorMessage(pg->conn));
			store_pg_lost(pg);
			return -1;
		}
	}
	return 0;
}

/* Count the parameters: the highest $N outside quotes. */
static int
store_pg_nparams(const char *sql)
{
	const char	*p;
	char		 quote = 0;
	long		 n, max = 0;
	char		*end;

	for (p = sql; *p != '\0'; p++) {
		if (quote) {
			if (*p == quote)
				quote = 0;
		} else if (*p == '\'' || *p == '"')
			quote = *p;
		else if (*p == '$' && p[1] >= '0' && p[1] <= '9') {
			n = strtol(p + 1, &end, 10);
			if (n > max && n < 10000)
				max = n;
			p = end - 1;
		}
	}
	return (int)max;
}

/* Prepare st on the connection now open (and learn its columns once). */
static int
store_pg_do_prepare(struct store_pg_stmt *st)
{
	struct store_pg	*pg = st->pg;
	PGresult	*res;

	/*
	 * What is pending goes first: a prepare that fails aborts the
	 * server's transaction, and the unit's ROLLBACK TO needs its
	 * SAVEPOINT there (a first use on the connection: rare).
	 */
	if ((pg->p_release || pg->p_begin || pg->p_savepoint) &&
	    store_pg_roundtrip(pg, NULL, NULL, NULL) == -1)
		return -1;
	res = store_pg_rt_prepare(pg, st->name, st->sql, st->nparams);
	if (PQresultStatus(res) != PGRES_COMMAND_OK)
		return store_pg_failed(pg, res, st->sql);
	PQclear(res);
	if (st->desc == NULL) {
		res = PQdescribePrepared(pg->conn, st->name);
		if (PQresultStatus(res) != PGRES_COMMAND_OK)
			return store_pg_failed(pg, res, st->sql);
		st->desc = res;
	}
	st->gen = pg->gen;
	return 0;
}

struct store_pg_stmt *
store_pg_prepare(struct store_pg *pg, const char *sql)
{
	struct store_pg_stmt	*st;
	int			 n = store_pg_nparams(sql);

	if ((st = calloc(1, sizeof(*st))) == NULL ||
	    (n > 0 && ((st->values = calloc(n, sizeof(*st->values))) == NULL ||
	    (st->copies = calloc(n, sizeof(*st->copies))) == NULL ||
	    (st->copycap = calloc(n, sizeof(*st->copycap))) == NULL ||
	    (st->ints = calloc(n, sizeof(*st->ints))) == NULL))) {
		error(0, "store: out of memory");
		store_pg_stmt_free(st);
		return NULL;
	}
	st->pg = pg;
	st->sql = sql;
	st->nparams = n;
	snprintf(st->name, sizeof(st->name), "mb%u", ++pg->nstmts);
	/*
	 * Prepared now when connected, so SQL that does not prepare is
	 * refused here; with no connection, at the first step.
	 */
	if (store_pg_ready(pg) == 0 && store_pg_do_prepare(st) == -1 &&
	    !pg->down) {
		store_pg_stmt_free(st);
		return NULL;
	}
	return st;
}

void
store_pg_stmt_free(struct store_pg_stmt *st)
{
	int	 i;

	if (st == NULL)
		return;
	PQclear(st->res);
	PQclear(st->desc);
	for (i = 0; st->copies != NULL && i < st->nparams; i++)
		free(st->copies[i]);
	free(st->copies);
	free(st->copycap);
	free(st->values);
	free(st->ints);
	free(st);
}

void
store_pg_reset(struct store_pg_stmt *st, int clear)
{
	if (st->res != NULL) {
		PQclear(st->res);
		st->res = NULL;
	}
	if (clear && st->nparams > 0)
		memset(st->values, 0, st->nparams * sizeof(*st->values));
}

static int
store_pg_param(struct store_pg_stmt *st, int i)
{
	if (i >= 1 && i <= st->nparams)
		return 0;
	store_pg_set_error(st->pg, "no such parameter");
	error(0, "store: cannot bind parameter %d: the statement has %d: %s",
	    i, st->nparams, st->sql);
	return -1;
}

/*
 * v in decimal at the end of buf (24 bytes: a sign, 19 digits, the NUL),
 * without snprintf's parsing of a format for each of a MO's integers.
 */
static const char *
store_pg_format_int(char *buf, long long v)
{
	unsigned long long	 u = v < 0 ? 0ULL - (unsigned long long)v :
				    (unsigned long long)v;
	char			*p = buf + 23;

	*p = '\0';
	do
		*--p = '0' + u % 10;
	while ((u /= 10) != 0);
	if (v < 0)
		*--p = '-';
	return p;
}

int
store_pg_bind_int(struct store_pg_stmt *st, int i, long long v)
{
	if (store_pg_param(st, i) == -1)
		return -1;
	st->values[i - 1] = store_pg_format_int(st->ints[i - 1], v);
	return 0;
}

int
store_pg_bind_text(struct store_pg_stmt *st, int i, const char *v,
    int copy)
{
	size_t	 len;
	char	*p;

	if (store_pg_param(st, i) == -1)
		return -1;
	if (v == NULL || !copy) {
		st->values[i - 1] = v;
		return 0;
	}
	/* The copy's buffer is kept for the next bind: no allocation then. */
	len = strlen(v) + 1;
	if (len > st->copycap[i - 1]) {
		if ((p = realloc(st->copies[i - 1], len)) == NULL) {
			error(errno, "store: out of memory");
			return -1;
		}
		st->copies[i - 1] = p;
		st->copycap[i - 1] = len;
	}
	memcpy(st->copies[i - 1], v, len);
	st->values[i - 1] = st->copies[i - 1];
	return 0;
}

/* A command that changes rows sets store_changes(); a SELECT does not. */
static void
store_pg_count(struct store_pg *pg, PGresult *res)
{
	const char	*cmd = PQcmdStatus(res);

	if (strncmp(cmd, "INSERT", 6) == 0 || strncmp(cmd, "UPDATE", 6) == 0 ||
	    strncmp(cmd, "DELETE", 6) == 0 || strncmp(cmd, "MERGE", 5) == 0)
		pg->changes = strtoll(PQcmdTuples(res), NULL, 10);
}

int
store_pg_step(struct store_pg_stmt *st)
{
	struct store_pg	*pg = st->pg;
	PGresult	*res;

	if (st->res == NULL) {
		if (store_pg_ready(pg) == -1) {
			debug("mb.store", 0, "store: %s: %s: %s", pg->name,
			    pg->errmsg, st->sql);
			return STORE_ERROR;
		}
		if (st->gen != pg->gen && store_pg_do_prepare(st) == -1)
			return STORE_ERROR;
		if (store_pg_roundtrip(pg, NULL, st, &res) == -1)
			return STORE_ERROR;
		switch (PQresultStatus(res)) {
		case PGRES_TUPLES_OK:
		case PGRES_COMMAND_OK:
			break;
		default:
			store_pg_failed(pg, res, st->sql);
			return STORE_ERROR;
		}
		store_pg_count(pg, res);
		st->res = res;
		st->nrows = PQntuples(res);
		st->row = -1;
	}
	if (++st->row < st->nrows)
		return STORE_ROW;
	/* As SQLite: a step after the last runs the statement again. */
	PQclear(st->res);
	st->res = NULL;
	return STORE_DONE;
}

static const char *
store_pg_value(struct store_pg_stmt *st, int i)
{
	if (st->res == NULL || st->row < 0 || st->row >= st->nrows ||
	    i < 0 || i >= PQnfields(st->res) ||
	    PQgetisnull(st->res, st->row, i))
		return NULL;
	return PQgetvalue(st->res, st->row, i);
}

long long
store_pg_int(struct store_pg_stmt *st, int i)
{
	const char	*v = store_pg_value(st, i);

	if (v == NULL)
		return 0;
	/* A comparison is a boolean in PostgreSQL, 0 or 1 in SQLite. */
	if (v[0] == 't')
		return 1;
	if (v[0] == 'f')
		return 0;
	return strtoll(v, NULL, 10);
}

const char *
store_pg_text(struct store_pg_stmt *st, int i)
{
	return store_pg_value(st, i);
}

int
store_pg_is_null(struct store_pg_stmt *st, int i)
{
	return store_pg_value(st, i) == NULL;
}

int
store_pg_columns(struct store_pg_stmt *st)
{
	const PGresult	*r = st->res ? st->res : st->desc;

	return r ? PQnfields(r) : 0;
}

const char *
store_pg_column_name(struct store_pg_stmt *st, int i)
{
	const PGresult	*r = st->res ? st->res : st->desc;

	return r && i >= 0 && i < PQnfields(r) ? PQfname(r, i) : NULL;
}

long long
store_pg_changes(struct store_pg *pg)
{
	return pg->changes;
}

int
store_pg_conflict(struct store_pg *pg, int clear)
{
	int	 c = pg->conflict;

	if (clear)
		pg->conflict = 0;
	return c;
}

const char *
store_pg_error(struct store_pg *pg)
{
	return pg->errmsg[0] ? pg->errmsg : "not an error";
}

/* Run sql (one or more statements, no parameters): 0 or -1 (logged). */
int
store_pg_exec(struct store_pg *pg, const char *sql)
{
	PGresult	*res;

	if (store_pg_ready(pg) == -1) {
		debug("mb.store", 0, "store: %s: %s: %s", pg->name, pg->errmsg,
		    sql);
		return -1;
	}
	/* What is pending first: sql may be several statements, which a
	 * pipeline does not take. */
	if ((pg->p_release || pg->p_begin || pg->p_savepoint) &&
	    store_pg_roundtrip(pg, NULL, NULL, NULL) == -1)
		return -1;
	res = store_pg_rt_exec(pg, sql);
	if (PQresultStatus(res) != PGRES_COMMAND_OK &&
	    PQresultStatus(res) != PGRES_TUPLES_OK)
		return store_pg_failed(pg, res, sql);
	store_pg_count(pg, res);
	PQclear(res);
	return 0;
}

/* One group-commit statement on the server; 0 or -1 (logged). */
static int
store_pg_run(struct store_pg *pg, const char *sql)
{
	PGresult	*res;

	if (store_pg_roundtrip(pg, sql, NULL, &res) == -1)
		return -1;
	if (PQresultStatus(res) != PGRES_COMMAND_OK)
		return store_pg_failed(pg, res, sql);
	PQclear(res);
	return 0;
}

/* The end of a transaction whose work was lost: rolled back, -1. */
static int
store_pg_commit_lost(struct store_pg *pg)
{
	PGresult	*res;

	if (!pg->down && PQstatus(pg->conn) == CONNECTION_OK &&
	    PQtransactionStatus(pg->conn) != PQTRANS_IDLE) {
		res = store_pg_rt_exec(pg, "ROLLBACK");
		PQclear(res);
	}
	pg->in_txn = pg->in_unit = pg->txn_lost = 0;
	store_pg_pending_clear(pg);
	store_pg_set_error(pg, "the transaction was lost (a statement outside "
	    "a unit failed, or the connection was lost) and rolled back");
	return -1;
}

static int
store_pg_commit(struct store_pg *pg)
{
	PGresult	*res;
	int		 ok;

	if (pg->txn_lost || pg->down)
		return store_pg_commit_lost(pg);
	/*
	 * A RELEASE owed need not go first: COMMIT commits the savepoints
	 * still open (and a unit left aborted aborts the COMMIT, as its
	 * RELEASE would have).  A transaction whose BEGIN is still owed
	 * did nothing on the server: nothing to send.
	 */
	pg->p_release = 0;
	if (pg->p_begin) {
		store_pg_pending_clear(pg);
		pg->in_txn = pg->in_unit = 0;
		return 0;
	}
	if (store_pg_roundtrip(pg, "COMMIT", NULL, &res) == -1)
		return store_pg_commit_lost(pg);
	/* COMMIT of an aborted transaction "succeeds" as ROLLBACK. */
	ok = PQresultStatus(res) == PGRES_COMMAND_OK &&
	    strcmp(PQcmdStatus(res), "COMMIT") == 0;
	if (!ok) {
		if (PQresultStatus(res) == PGRES_COMMAND_OK) {
			PQclear(res);
			store_pg_set_error(pg, "the transaction was aborted");
		} else {
			store_pg_set_error(pg, PQresultErrorMessage(res));
			PQclear(res);
			if (PQstatus(pg->conn) != CONNECTION_OK)
				store_pg_lost(pg);
		}
		return store_pg_commit_lost(pg);
	}
	PQclear(res);
	pg->in_txn = pg->in_unit = 0;
	store_pg_pending_clear(pg);
	return 0;
}

/*
 * Transaction control from store.c.  BEGIN, SAVEPOINT and RELEASE are
 * owed to the server (store_pg_roundtrip sends them with the next
 * statement); only ROLLBACK TO and COMMIT make a round trip, and not
 * even they when nothing of theirs reached the server.
 */
int
store_pg_tx(struct store_pg *pg, const char *sql)
{
	switch (sql[0]) {
	case 'C':					/* COMMIT */
		if (!pg->down && PQstatus(pg->conn) != CONNECTION_OK)
			store_pg_lost(pg);
		return store_pg_commit(pg);
	case 'B':					/* BEGIN */
		/* While the connection is down: logged when lost, not here. */
		if (store_pg_ready(pg) == -1 || store_pg_alive(pg) == -1) {
			debug("mb.store", 0, "store: %s: BEGIN: %s", pg->name,
			    pg->errmsg);
			return -1;
		}
		pg->in_txn = 1;
		pg->p_begin = 1;
		return 0;
	case 'S':					/* SAVEPOINT work */
		if (store_pg_ready(pg) == -1) {
			debug("mb.store", 0, "store: %s: %s: %s", pg->name,
			    pg->errmsg, sql);
			return -1;
		}
		/* The transaction was lost: later units go on in a new one. */
		if (pg->txn_lost && !pg->in_txn) {
			pg->in_txn = 1;
			pg->p_begin = 1;
		}
		pg->in_unit = 1;
		pg->p_savepoint = 1;
		return 0;
	default:
		break;
	}
	if (strcmp(sql, "RELEASE work") == 0) {
		if (pg->in_unit) {
			pg->in_unit = 0;
			/* A unit that sent nothing has nothing to release. */
			if (pg->p_savepoint)
				pg->p_savepoint = 0;
			else
				pg->p_release = 1;
			return 0;
		}
		/* After ROLLBACK TO (the savepoint stays), or lost. */
		if (pg->txn_lost || pg->down)
			return 0;
		if (pg->skip_release)
			pg->skip_release = 0;
		else
			pg->p_release = 1;
		return 0;
	}
	/* ROLLBACK TO work: nothing to undo when the transaction is gone. */
	if (!pg->in_unit || pg->down)
		return pg->txn_lost || pg->down ? 0 : store_pg_run(pg, sql);
	pg->in_unit = 0;
	/* A unit that sent nothing: no savepoint to go back to. */
	if (pg->p_savepoint) {
		pg->p_savepoint = 0;
		pg->skip_release = 1;
		return 0;
	}
	return store_pg_run(pg, sql);
}

/* A one-integer query with at most one text parameter: 0 (absent) or
 * the value in *out (a boolean as 0 or 1); -1, logged. */
static int
store_pg_value_of(struct store_pg *pg, const char *sql, const char *param,
    long long *out)
{
	PGresult	*res;

	res = store_pg_rt_params(pg, sql, param ? 1 : 0,
	    param ? &param : NULL);
	if (PQresultStatus(res) != PGRES_TUPLES_OK)
		return store_pg_failed(pg, res, sql);
	*out = 0;
	if (PQntuples(res) > 0 && !PQgetisnull(res, 0, 0))
		*out = PQgetvalue(res, 0, 0)[0] == 't' ? 1 :
		    strtoll(PQgetvalue(res, 0, 0), NULL, 10);
	PQclear(res);
	return 0;
}

/* Apply the steps after have, each in its own transaction.  0 or -1. */
static int
store_pg_apply(struct store_pg *pg, const char *owner,
    const struct store_migration *steps, size_t n, long long have)
{
	static const char set[] =
	    "INSERT INTO schema_versions(owner, version) VALUES ($1, $2) "
	    "ON CONFLICT(owner) DO UPDATE SET version = excluded.version";
	const char	*params[2];
	char		 version[24];
	PGresult	*res;
	size_t		 i;

	for (i = 0; i < n; i++) {
		if (steps[i].version <= have)
			continue;
		if (store_pg_run(pg, "BEGIN") == -1)
			return -1;
		if (store_pg_exec(pg, steps[i].sql_pg ? steps[i].sql_pg :
		    steps[i].sql) == -1)
			goto fail;
		snprintf(version, sizeof(version), "%d", steps[i].version);
		params[0] = owner;
		params[1] = version;
		res = store_pg_rt_params(pg, set, 2, params);
		if (PQresultStatus(res) != PGRES_COMMAND_OK) {
			store_pg_failed(pg, res, set);
			goto fail;
		}
		PQclear(res);
		if (store_pg_run(pg, "COMMIT") == -1)
			goto fail;
		if (have > 0 || strcmp(owner, "core") != 0)
			info(0, "store: %s: the tables of %s upgraded to schema "
			    "version %d", pg->name, owner, steps[i].version);
		continue;
fail:
		res = store_pg_rt_exec(pg, "ROLLBACK");
		PQclear(res);
		error(0, "store: %s: migration of %s to version %d failed",
		    pg->name, owner, steps[i].version);
		return -1;
	}
	return 0;
}

/*
 * An owner's migrations ("core" for schema.c's), under the session advisory
 * lock: the version is read once the lock is held, so a second instance
 * that waited finds the steps done.  0 or -1 (logged).
 */
int
store_pg_migrate(struct store_pg *pg, const char *owner,
    const struct store_migration *steps, size_t n)
{
	static const char lock[] =
	    "SELECT pg_advisory_lock(" STORE_PG_MIGRATION_LOCK ")";
	static const char unlock[] =
	    "SELECT pg_advisory_unlock(" STORE_PG_MIGRATION_LOCK ")";
	static const char exists[] =
	    "SELECT to_regclass('schema_versions') IS NOT NULL";
	static const char get[] =
	    "SELECT version FROM schema_versions WHERE owner = $1";
	long long	 have = 0, there;
	int		 rc = -1;

	if (pg->in_txn) {
		error(0, "store: migrations for %s asked inside a transaction",
		    owner);
		return -1;
	}
	if (store_pg_ready(pg) == -1) {
		error(0, "store: %s: migrations of %s: %s", pg->name, owner,
		    pg->errmsg);
		return -1;
	}
	/* Another instance's migrations may take longer than lock_timeout:
	 * wait for them as long as they take. */
	if (store_pg_exec(pg, "SET lock_timeout = 0") == -1)
		return -1;
	if (store_pg_exec(pg, lock) == -1) {
		store_pg_exec(pg, "RESET lock_timeout");
		return -1;
	}
	if (store_pg_value_of(pg, exists, NULL, &there) == -1 ||
	    (there && store_pg_value_of(pg, get, owner, &have) == -1))
		goto out;
	if (n > 0 && have > steps[n - 1].version) {
		error(0, "store: %s: the tables of %s have schema version %lld, "
		    "newer than the %d this marketbox knows; refusing to touch "
		    "them (run a newer marketbox, or restore a backup)",
		    pg->name, owner, have, steps[n - 1].version);
		goto out;
	}
	rc = store_pg_apply(pg, owner, steps, n, have);
out:
	if (store_pg_exec(pg, unlock) == -1)
		rc = -1;
	if (store_pg_exec(pg, "RESET lock_timeout") == -1)
		rc = -1;
	return rc;
}

/* user@host:port/dbname, the password left out. */
static char *
store_pg_make_name(PGconn *conn)
{
	const char	*host = PQhost(conn), *port = PQport(conn);
	const char	*user = PQuser(conn), *db = PQdb(conn);
	char		*name;
	size_t		 len;

	host = host && *host ? host : "localhost";
	len = strlen(host) + (port ? strlen(port) : 0) +
	    (user ? strlen(user) : 0) + (db ? strlen(db) : 0) + 32;
	if ((name = malloc(len)) == NULL)
		return NULL;
	snprintf(name, len, "postgresql://%s%s%s%s%s/%s", user ? user : "",
	    user && *user ? "@" : "", host, port && *port ? ":" : "",
	    port ? port : "", db ? db : "");
	return name;
}

/* Connected, or NULL (logged). */
static struct store_pg *
store_pg_connect(const char *conninfo)
{
	/*
	 * Defaults the database string may override (it is expanded last):
	 * a connect that cannot succeed gives up in 5 s, not TCP's minutes;
	 * a statement waits at most STORE_PG_LOCK_TIMEOUT for rows another
	 * instance's transaction holds, then fails as a conflict and its
	 * unit runs again (store_retry_wanted).  Two instances' group
	 * commits can lock rows in opposite orders: without it, such a
	 * deadlock holds both for deadlock_timeout (1 s) before the server
	 * breaks it.
	 */
	static const char *const keys[] = { "fallback_application_name",
	    "connect_timeout", "options", "dbname", NULL };
	const char	*values[] = { "marketbox", "5",
	    "-c lock_timeout=" STORE_PG_LOCK_TIMEOUT, conninfo, NULL };
	struct store_pg	*pg;

	if ((pg = calloc(1, sizeof(*pg))) == NULL) {
		error(errno, "store: out of memory");
		return NULL;
	}
	pg->gen = 1;
	pg->conn = PQconnectdbParams(keys, values, 1);
	if (pg->conn == NULL || (pg->name = store_pg_make_name(pg->conn)) ==
	    NULL) {
		error(0, "store: out of memory");
		store_pg_free(pg);
		return NULL;
	}
	if (PQstatus(pg->conn) != CONNECTION_OK) {
		error(0, "store: cannot connect to the database %s: %.*s",
		    pg->name, (int)strcspn(PQerrorMessage(pg->conn), "\n"),
		    PQerrorMessage(pg->conn));
		store_pg_free(pg);
		return NULL;
	}
	PQsetNoticeProcessor(pg->conn, store_pg_notice, NULL);
	/*
	 * Sends that never block (store_pg_await waits for the socket), so
	 * the task thread never holds the turn on a full socket buffer.
	 */
	PQsetnonblocking(pg->conn, 1);
	store_pg_prepare_tc(pg);
	return pg;
}

struct store_pg *
store_pg_open(const char *conninfo, const struct store_migration *steps,
    size_t n)
{
	struct store_pg	*pg;

	if ((pg = store_pg_connect(conninfo)) == NULL)
		return NULL;
	if (store_pg_migrate(pg, "core", steps, n) == -1) {
		store_pg_free(pg);
		return NULL;
	}
	return pg;
}

int
store_pg_check(const char *conninfo, int want)
{
	static const char exists[] =
	    "SELECT to_regclass('schema_versions') IS NOT NULL";
	static const char get[] =
	    "SELECT version FROM schema_versions WHERE owner = 'core'";
	struct store_pg	*pg;
	long long	 there, have = 0;
	int		 rc = -1;

	if ((pg = store_pg_connect(conninfo)) == NULL)
		return -1;
	if (store_pg_value_of(pg, exists, NULL, &there) == -1 ||
	    (there && store_pg_value_of(pg, get, NULL, &have) == -1))
		goto out;
	if (have > want) {
		error(0, "store: %s has schema version %lld, newer than the %d "
		    "this marketbox knows (run a newer marketbox, or restore a "
		    "backup)", pg->name, have, want);
		goto out;
	}
	if (have < want)
		info(0, "store: %s: schema version %lld, upgraded to %d at "
		    "start", pg->name, have, want);
	else
		info(0, "store: %s: schema version %d", pg->name, want);
	rc = 0;
out:
	store_pg_free(pg);
	return rc;
}

const char *
store_pg_name(struct store_pg *pg)
{
	return pg->name;
}

void
store_pg_free(struct store_pg *pg)
{
	if (pg == NULL)
		return;
	PQfinish(pg->conn);
	free(pg->name);
	free(pg);
}

#endif /* HAVE_POSTGRESQL */
