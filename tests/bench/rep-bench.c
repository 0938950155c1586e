/*
 * rep-bench.c - what the sellers' records cost the price board: the
 * board's offers query (prices_sql.h, PRICES_SQL_OFFERS, as
 * prices_store_offers runs it with the pool tables there) with and
 * without the records (market_rep_sql.h), and INFO's record alone (the
 * SELECT of market_store_rep), on synthetic data in a temporary SQLite
 * file with the market plugin's schema (its migrations, as the daemon
 * applies them).  Not run by `make check` (it loads for a few seconds);
 * the figures of a run are in README.md ("Records at scale").
 *
 *	rep-bench [-q QUERIES] [-f DBFILE] [-s SEED]
 *
 *	-q	queries of each kind to time (default 2000)
 *	-f	the database file (default a temporary one, removed at the
 *		end)
 *	-s	seed of the query mix (default 1)
 *
 * The data (one transaction of INSERT ... WITH RECURSIVE, the same at every
 * run: no random numbers): 2,000 people
 * who sell and buy, 5,000 open offers of 5 commodities over 10 markets,
 * 200,000 orders (each person the seller of about 100 and the buyer of
 * about 100: about 200 each, in every state, one in 50 a member's share
 * order), 50,000 legs carried by them (done, some late, or moving), 50,000
 * ratings, 5,000 disputes (4 in 5 closed).
 *
 * Prints each query's time per call (mean and p99, microseconds) and the
 * ratio of the board with records to the board without, measured in the
 * same run; the last line is "RESULT key=value ..." for scripts.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <sqlite3.h>

#include "plugins/market/market.h"
#include "plugins/prices/prices_sql.h"

#define BENCH_NOW	1700000000LL

static sqlite3	*db;

static void
die(const char *what)
{
	fprintf(stderr, "rep-bench: %s: %s\n", what, sqlite3_errmsg(db));
	exit(1);
}

static void
run(const char *sql)
{
	char	*err = NULL;

	if (sqlite3_exec(db, sql, NULL, NULL, &err) != SQLITE_OK) {
		fprintf(stderr, "rep-bench: %s\n%s\n", err, sql);
		exit(1);
	}
}

/* $1 ... as ?1 ... (SQLite numbers "$n" by first appearance), as the
   store does (src/store/store.c: store_sql_lite) */
static sqlite3_stmt *
prepare(const char *sql)
{
	sqlite3_stmt	*st;
	char		*s, *p, quote = 0;

	if ((s = strdup(sql)) == NULL)
		exit(1);
	for (p = s; *p != '\0'; p++) {
		if (quote != 0) {
			if (*p == quote)
				quote = 0;
		} else if (*p == '\'' || *p == '"')
			quote = *p;
		else if (*p == '$' && p[1] >= '0' && p[1] <= '9')
			*p = '?';
	}
	if (sqlite3_prepare_v2(db, s, -1, &st, NULL) != SQLITE_OK)
		die(s);
	free(s);
	return st;
}

static double
now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e6 + ts.tv_nsec / 1e3;
}

static int
cmp(const void *a, const void *b)
{
	double	 x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static const char *const commodities[] = {
	"maize", "beans", "rice", "sorghum", "millet"
};

/* Times q runs of st (kind 0: a board, 1: a record); the mean. */
static double
bench(const char *name, sqlite3_stmt *st, int kind, int q, unsigned seed,
    long long *check)
{
	double	*t, sum = 0, t0;
	char	 who[32];
	int	 i, rc;

	if ((t = calloc(q, sizeof(*t))) == NULL)
		exit(1);
	srand(seed);
	*check = 0;
	for (i = 0; i < q; i++) {
		if (kind == 0) {
			sqlite3_bind_text(st, 1,
			    commodities[rand() % 5], -1, SQLITE_STATIC);
			sqlite3_bind_text(st, 2, "kg", -1, SQLITE_STATIC);
			sqlite3_bind_int64(st, 3, BENCH_NOW);
			sqlite3_bind_int64(st, 4, 3);
		} else {
			snprintf(who, sizeof(who), "2547%08d", rand() % 2000);
			sqlite3_bind_text(st, 1, who, -1, SQLITE_TRANSIENT);
			sqlite3_bind_int64(st, 2, BENCH_NOW);
		}
		t0 = now_us();
		while ((rc = sqlite3_step(st)) == SQLITE_ROW)
			*check += sqlite3_column_int64(st,
			    sqlite3_column_count(st) - 1);
		t[i] = now_us() - t0;
		if (rc != SQLITE_DONE)
			die(name);
		sqlite3_reset(st);
		sum += t[i];
	}
	qsort(t, q, sizeof(*t), cmp);
	printf("%-28s %9.1f us mean %9.1f us p99  (check %lld)\n", name,
	    sum / q, t[q * 99 / 100], *check);
	free(t);
	return sum / q;
}

static const char load[] =
    "WITH RECURSIVE n(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM n"
    " WHERE i < 4999)"
    " INSERT INTO market_posts (ref, kind, msisdn, commodity, unit, market,"
    " qty, qty_left, price, state, created, expires)"
    " SELECT 1000000 + i, 'offer', printf('2547%08d', i * 7 % 2000),"
    " CASE i % 5 WHEN 0 THEN 'maize' WHEN 1 THEN 'beans' WHEN 2 THEN 'rice'"
    " WHEN 3 THEN 'sorghum' ELSE 'millet' END, 'kg',"
    " 'm' || (i / 5 % 10), 100, 50, 1000 + i * 7919 % 5000,"
    " 'open', 1690000000, 1800000000 FROM n;"
    /* the orders: seller and buyer spread by ref, states by ref */
    "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n"
    " WHERE i < 200000)"
    " INSERT INTO market_orders (ref, offer, buyer, seller, qty, price,"
    " total, state, created, updated, parent, cancelled_by)"
    " SELECT i, 1000000 + i % 5000, printf('2547%08d', i * 7919 / 3 % 2000),"
    " printf('2547%08d', i % 2000), 1, 1000, 1000,"
    " CASE WHEN i % 20 < 14 THEN 'delivered' WHEN i % 20 < 16"
    " THEN 'cancelled' WHEN i % 20 = 16 THEN 'rejected' WHEN i % 20 = 17"
    " THEN 'expired' WHEN i % 20 = 18 THEN 'sent' ELSE 'accepted' END,"
    " 1690000000, 1690000000,"
    " CASE WHEN i / 2000 % 50 = 7 THEN i - 1 END,"
    " CASE WHEN i % 20 = 14 THEN 'buyer' WHEN i % 20 = 15 THEN 'seller' END"
    " FROM n;"
    "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n"
    " WHERE i < 50000)"
    " INSERT INTO market_legs (order_ref, seq, carrier, state, due_at,"
    " created, updated, started, ended)"
    " SELECT i * 4, 1, printf('2547%08d', i * 104729 % 2000),"
    " CASE WHEN i % 4 = 0 THEN 'moving' ELSE 'done' END, 1699000000,"
    " 1690000000, 1690000000, 1690000000,"
    " CASE WHEN i % 4 = 0 THEN NULL ELSE 1699000000 - 3600 + i % 3 * 3600"
    " END FROM n;"
    "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n"
    " WHERE i < 50000)"
    " INSERT INTO market_ratings (order_ref, rater, rated, stars, created)"
    " SELECT ref, buyer, seller, 1 + i % 5, 1690000000"
    " FROM n JOIN market_orders ON ref = i * 4 - i % 4;"
    "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n"
    " WHERE i < 5000)"
    " INSERT INTO market_disputes (ref, order_ref, opener, side, text,"
    " state, created, decision)"
    " SELECT 2000000 + i, i * 40 - 39, 'x', 'buyer', 'late',"
    " CASE WHEN i % 5 = 0 THEN 'open' ELSE 'closed' END, 1690000000,"
    " CASE WHEN i % 5 = 0 THEN NULL WHEN i % 2 = 0 THEN 'buyer'"
    " ELSE 'seller' END FROM n;"
    "ANALYZE;";

int
main(int argc, char *argv[])
{
	static const char board_rep[] = PRICES_SQL_OFFERS(PRICES_SQL_FARMERS,
	    PRICES_SQL_REP, "");
	static const char board[] = PRICES_SQL_OFFERS(PRICES_SQL_FARMERS, "",
	    "");
	static const char rep[] = "SELECT " MARKET_REP_SQL_COLUMNS("$1", "$2");
	char		 tmp[] = "/tmp/rep-bench.XXXXXX";
	const char	*file = NULL;
	sqlite3_stmt	*st_board, *st_rep, *st_info;
	long long	 c1, c2, c3;
	double		 t0, a, b, r;
	unsigned	 seed = 1;
	size_t		 i;
	int		 c, q = 2000, fd;

	while ((c = getopt(argc, argv, "f:q:s:")) != -1) {
		switch (c) {
		case 'f':
			file = optarg;
			break;
		case 'q':
			q = atoi(optarg);
			break;
		case 's':
			seed = (unsigned)strtoul(optarg, NULL, 10);
			break;
		default:
			fprintf(stderr, "usage: rep-bench [-q QUERIES] "
			    "[-f DBFILE] [-s SEED]\n");
			return 2;
		}
	}
	if (q < 1)
		q = 1;
	if (file == NULL) {
		if ((fd = mkstemp(tmp)) == -1)
			return 1;
		close(fd);
		file = tmp;
	}
	unlink(file);
	if (sqlite3_open(file, &db) != SQLITE_OK)
		die(file);
	run("PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL;"
	    "BEGIN;");
	for (i = 0; i < MARKET_NMIGRATIONS; i++)
		run(market_migrations[i].sql);
	t0 = now_us();
	run(load);
	run("COMMIT;");
	printf("loaded in %.1f s: 5000 offers, 2000 people, 200000 orders, "
	    "50000 legs, 50000 ratings, 5000 disputes\n",
	    (now_us() - t0) / 1e6);

	st_board = prepare(board);
	st_rep = prepare(board_rep);
	st_info = prepare(rep);
	/* a round unmeasured, then the figures */
	bench("warm-up", st_rep, 0, q / 10 + 1, seed, &c1);
	a = bench("board without records", st_board, 0, q, seed, &c1);
	b = bench("board with records", st_rep, 0, q, seed, &c2);
	r = bench("record (INFO)", st_info, 1, q, seed, &c3);
	printf("board with records / without: %.2fx\n", b / a);
	printf("RESULT board_us=%.1f board_rep_us=%.1f ratio=%.2f "
	    "rep_us=%.1f\n", a, b, b / a, r);
	sqlite3_finalize(st_board);
	sqlite3_finalize(st_rep);
	sqlite3_finalize(st_info);
	sqlite3_close(db);
	if (file == tmp)
		unlink(tmp);
	return 0;
}
