/*
 * prices-bench.c - the prices plugin at scale: millions of price reports,
 * 100k users and subscribers, and how fast the price board and the daily
 * bulletin are on them.  Not run by `make check` (it takes minutes); the
 * figures of a run are in README.md ("Prices at scale").
 *
 *	prices-bench [-n REPORTS] [-u USERS] [-q QUERIES] [-B BASELINE]
 *	    [-f DBFILE] [-s SEED]
 *
 *	-n	reports to load (default 10000000)
 *	-u	users, each with a daily subscription (default 100000); one in
 *		20 also has a threshold alert, one in 50 sent STOP
 *	-q	PRICE queries to time (default 1000)
 *	-B	baseline queries (default 5: each is a full scan)
 *	-f	the database file (default a temporary one, removed at the
 *		end); an existing file with as many reports is reused, so
 *		that runs after the first skip the load
 *	-s	seed of the query mix (default 1)
 *
 * It runs the plugin's own code: prices.c, prices_store.c and
 * prices_text.c are compiled into this program, and a small host below
 * (the struct mb_host table; its statements are the daemon's store,
 * store.c, through host_store.c as in the plugin mock: the core's schema
 * and the plugin's migrations applied as the daemon applies them, each
 * command and timer run a unit of work committed at once; notices
 * inserted into an outbox table as the daemon does) calls its PRICE and
 * REPORT handlers and its timer.  While it times, the file is in WAL
 * with synchronous NORMAL (the store's is FULL): the figures are of the
 * queries, not of the disk's fsync.
 *
 * The data (one transaction of INSERT ... WITH RECURSIVE on the store's
 * SQLite connection, then the plugin's indexes built on the full table;
 * SQLite's SQL, as the NOT INDEXED baseline: the bench runs on SQLite
 * only): 20 commodities, 50 markets
 * in 10 regions, reports spread over the last 365 days (about 190 a week
 * for each commodity and market at 10M), prices around a commodity's base,
 * one report in 10 by an agent, one in 100 held.
 *
 * What it times, each as p50 / p99 / max over the runs, with the time
 * per run on the loop's one thread:
 *  - PRICE commodity market (the whole handler: two windows' stats and
 *    medians, the offers, the reply);
 *  - PRICE commodity (all markets);
 *  - the board's queries alone (stats + median of one window), and the
 *    same SQL with "NOT INDEXED" (the baseline: the plugin's queries on a
 *    table without its index), and their ratio;
 *  - REPORT (an insert into both indexes, with the outlier check);
 *  - the bulletin: timer runs of `batch` subscribers until the day is
 *    done, as rows (notices) per second and the longest run.
 *
 * The last line is "RESULT key=value ..." for scripts.
 */
#include <errno.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <sqlite3.h>

#include <marketbox/plugin.h>

#include "base/gw.h"
#include "store/store.h"

#include "plugins/prices/prices.h"
#include "host_store.h"

#define BENCH_NOW		1700000000LL
#define BENCH_COMMODITIES	20
#define BENCH_MARKETS		50
#define BENCH_REGIONS		10
#define BENCH_WORDS		4

extern const struct mb_plugin marketbox_plugin;

/* --- the host ----------------------------------------------------------- */

struct mb_ctx {
	int		 in_timer;
};

struct mb_plugin_ctx {
	void		*state;
};

static struct store	*bench_store;
static sqlite3		*bench_db;	/* the store's, for the load */
static struct mb_ctx	 bench_ctx;
static struct mb_plugin_ctx bench_pctx;
static const char	*bench_words[BENCH_WORDS];
static size_t		 bench_nwords;
static const char	*bench_sender_market;
static long long	 bench_now = BENCH_NOW;
static long long	 bench_replies, bench_notices;
static char		 bench_codes[BENCH_COMMODITIES][8];
static char		 bench_markets[BENCH_MARKETS][8];
static char		 bench_names[BENCH_MARKETS][16];
static char		 bench_regions[BENCH_REGIONS][8];
static const char	*bench_batch = "500";

static const char *
bench_sender(struct mb_ctx *ctx)
{
	return ctx->in_timer ? NULL : "+254799999999";
}

static const char *
bench_sender_name(struct mb_ctx *ctx)
{
	return ctx->in_timer ? NULL : "Bench";
}

static const char *
bench_h_sender_market(struct mb_ctx *ctx)
{
	return ctx->in_timer ? NULL : bench_sender_market;
}

static const char *
bench_sender_language(struct mb_ctx *ctx)
{
	(void)ctx;
	return "en";
}

static unsigned
bench_sender_roles(struct mb_ctx *ctx)
{
	return ctx->in_timer ? 0 : MB_ROLE_FARMER | MB_ROLE_BUYER;
}

static int
bench_sender_registered(struct mb_ctx *ctx)
{
	return !ctx->in_timer;
}

static size_t
bench_argc(struct mb_ctx *ctx)
{
	(void)ctx;
	return bench_nwords;
}

static const char *
bench_arg(struct mb_ctx *ctx, size_t i)
{
	(void)ctx;
	return i < bench_nwords ? bench_words[i] : NULL;
}

static const char *
bench_rest(struct mb_ctx *ctx, size_t i)
{
	(void)ctx;
	return i < bench_nwords ? bench_words[i] : "";
}

static int
bench_arg_number(struct mb_ctx *ctx, size_t i, long long min, long long max,
    long long *out)
{
	const char	*a = bench_arg(ctx, i);
	char		*end;
	long long	 v;

	if (a == NULL)
		return 0;
	errno = 0;
	v = strtoll(a, &end, 10);
	if (errno != 0 || *end != '\0' || v < min || v > max)
		return 0;
	*out = v;
	return 1;
}

static void		 bench_die(const char *);

/* The text the daemon would render: the values, joined (a stand-in). */
static void
bench_text(const struct mb_arg *args, size_t nargs, char *buf, size_t len)
{
	size_t	 i, used = 0;
	int	 k;

	buf[0] = '\0';
	for (i = 0; i < nargs && used < len; i++) {
		k = snprintf(buf + used, len - used, "%s ", args[i].value);
		if (k < 0)
			break;
		used += (size_t)k;
	}
}

static int
bench_reply(struct mb_ctx *ctx, const char *tmpl, const struct mb_arg *args,
    size_t nargs)
{
	(void)args;
	(void)nargs;
	if (ctx->in_timer || tmpl == NULL)
		return -1;
	bench_replies++;
	return 0;
}

/* As the daemon's outbox_notify: one row per notice, in the transaction. */
static int
bench_notify(struct mb_ctx *ctx, const char *msisdn, const char *tmpl,
    const struct mb_arg *args, size_t nargs)
{
	static const char	 sql[] =
	    "INSERT INTO bench_outbox (receiver, template, text, state,"
	    " created) VALUES ($1, $2, $3, 'queued', $4)";
	struct store_stmt	*st;
	char			 text[512];
	int			 rc;

	(void)ctx;
	if (msisdn == NULL || tmpl == NULL)
		return -1;
	bench_text(args, nargs, text, sizeof(text));
	if ((st = store_query(bench_store, sql)) == NULL)
		return -1;
	store_bind_text(st, 1, msisdn);
	store_bind_text(st, 2, tmpl);
	store_bind_text(st, 3, text);
	store_bind_int(st, 4, bench_now);
	rc = store_step(st);
	store_done(st);
	if (rc != STORE_DONE)
		return -1;
	bench_notices++;
	return 0;
}

/* The plugin's statements (host_store.c) run on the daemon's store. */
struct store *
host_store_of(struct mb_ctx *ctx)
{
	(void)ctx;
	return bench_store;
}

static long long
bench_ref_next(struct mb_ctx *ctx, const char *kind)
{
	static long long	 ref = 1000000;

	(void)ctx;
	(void)kind;
	return ++ref;
}

/* "c07" -> its code, kept in bench_codes */
static const char *
bench_find(const char *word, char (*codes)[8], size_t n)
{
	size_t	 i;

	for (i = 0; word != NULL && i < n; i++)
		if (strcmp(codes[i], word) == 0)
			return codes[i];
	return NULL;
}

static const char *
bench_commodity(struct mb_ctx *ctx, const char *word)
{
	(void)ctx;
	return bench_find(word, bench_codes, BENCH_COMMODITIES);
}

static const char *
bench_commodity_unit(struct mb_ctx *ctx, const char *code)
{
	(void)ctx;
	return bench_find(code, bench_codes, BENCH_COMMODITIES) ? "bag" : NULL;
}

static const char *
bench_unit(struct mb_ctx *ctx, const char *word)
{
	(void)ctx;
	return word != NULL && strcmp(word, "bag") == 0 ? "bag" : NULL;
}

static const char *
bench_market(struct mb_ctx *ctx, const char *word)
{
	(void)ctx;
	return bench_find(word, bench_markets, BENCH_MARKETS);
}

static int
bench_market_index(const char *code)
{
	if (code == NULL || code[0] != 'm' || code[1] < '0' || code[1] > '9' ||
	    code[2] < '0' || code[2] > '9' || code[3] != '\0')
		return -1;
	return (code[1] - '0') * 10 + (code[2] - '0');
}

static const char *
bench_market_name(struct mb_ctx *ctx, const char *code)
{
	int	 i = bench_market_index(code);

	(void)ctx;
	return i >= 0 && i < BENCH_MARKETS ? bench_names[i] : NULL;
}

static const char *
bench_market_region(struct mb_ctx *ctx, const char *code)
{
	int	 i = bench_market_index(code);

	(void)ctx;
	return i >= 0 && i < BENCH_MARKETS ? bench_regions[i % BENCH_REGIONS] :
	    NULL;
}

static const char *
bench_commodity_suggest(struct mb_ctx *ctx, const char *word)
{
	(void)ctx;
	(void)word;
	return NULL;
}

static const char *
bench_currency(struct mb_ctx *ctx)
{
	(void)ctx;
	return "KES";
}

static long long
bench_h_now(struct mb_ctx *ctx)
{
	(void)ctx;
	return bench_now;
}

static void bench_log(struct mb_ctx *, int, const char *, ...)
    __attribute__((format(printf, 3, 4)));

static void
bench_log(struct mb_ctx *ctx, int level, const char *fmt, ...)
{
	va_list	 ap;

	(void)ctx;
	if (level < MB_LOG_WARNING)
		return;
	va_start(ap, fmt);
	fprintf(stderr, "prices-bench: plugin: ");
	vfprintf(stderr, fmt, ap);
	fprintf(stderr, "\n");
	va_end(ap);
}

static const char *
bench_conf(struct mb_plugin_ctx *pctx, const char *key)
{
	(void)pctx;
	if (strcmp(key, "bulletin-now") == 0)
		return "yes";
	if (strcmp(key, "batch") == 0)
		return bench_batch;
	return NULL;
}

static void *
bench_state(struct mb_plugin_ctx *pctx)
{
	return pctx->state;
}

static void
bench_set_state(struct mb_plugin_ctx *pctx, void *state)
{
	pctx->state = state;
}

static struct mb_ctx *
bench_timer_ctx(struct mb_plugin_ctx *pctx)
{
	(void)pctx;
	return bench_ctx.in_timer ? &bench_ctx : NULL;
}

static void *
bench_plugin_state(struct mb_ctx *ctx)
{
	(void)ctx;
	return bench_pctx.state;
}

static const char *
bench_user_name(struct mb_ctx *ctx, const char *msisdn)
{
	(void)ctx;
	(void)msisdn;
	return NULL;
}

static int
bench_user_trade(struct mb_ctx *ctx, const char *msisdn)
{
	(void)ctx;
	(void)msisdn;
	return 0;
}

static const char *
bench_msisdn(struct mb_ctx *ctx, const char *typed)
{
	(void)ctx;
	return typed;
}

/*
 * render(): the values joined (the stand-in of bench_text), in one of
 * BENCH_RENDERED buffers used in turn: the plugin keeps fewer rendered
 * texts than that at once while it makes one message.
 */
#define BENCH_RENDERED	64
static const char *
bench_render(struct mb_ctx *ctx, const char *msisdn, const char *tmpl,
    const struct mb_arg *args, size_t nargs)
{
	static char	 bufs[BENCH_RENDERED][512];
	static size_t	 next;
	char		*buf = bufs[next++ % BENCH_RENDERED];

	(void)ctx;
	(void)msisdn;
	if (tmpl == NULL)
		return NULL;
	bench_text(args, nargs, buf, sizeof(bufs[0]));
	return buf;
}

/* sms_parts(): every board is one SMS here (the bench times queries). */
static size_t
bench_sms_parts(struct mb_ctx *ctx, const char *text)
{
	(void)ctx;
	(void)text;
	return 1;
}

static const struct mb_host bench_host = {
	.abi = MB_PLUGIN_ABI,
	.size = sizeof(struct mb_host),
	.sender = bench_sender,
	.sender_name = bench_sender_name,
	.sender_market = bench_h_sender_market,
	.sender_language = bench_sender_language,
	.sender_roles = bench_sender_roles,
	.sender_registered = bench_sender_registered,
	.argc = bench_argc,
	.arg = bench_arg,
	.rest = bench_rest,
	.arg_number = bench_arg_number,
	.reply = bench_reply,
	.notify = bench_notify,
	.ref_next = bench_ref_next,
	.commodity = bench_commodity,
	.commodity_unit = bench_commodity_unit,
	.unit = bench_unit,
	.market = bench_market,
	.market_name = bench_market_name,
	.market_region = bench_market_region,
	.commodity_suggest = bench_commodity_suggest,
	.currency = bench_currency,
	.now = bench_h_now,
	.log = bench_log,
	.conf = bench_conf,
	.state = bench_state,
	.set_state = bench_set_state,
	.timer_ctx = bench_timer_ctx,
	.plugin_state = bench_plugin_state,
	.user_name = bench_user_name,
	.user_trade = bench_user_trade,
	.msisdn = bench_msisdn,
	.render = bench_render,
	.sms_parts = bench_sms_parts,
	HOST_STORE_FUNCTIONS
};

/* --- helpers ------------------------------------------------------------ */

static void
bench_die(const char *what)
{
	fprintf(stderr, "prices-bench: %s: %s\n", what,
	    bench_db ? sqlite3_errmsg(bench_db) : strerror(errno));
	exit(2);
}

static void
bench_exec(const char *sql)
{
	char	*err = NULL;

	if (sqlite3_exec(bench_db, sql, NULL, NULL, &err) != SQLITE_OK) {
		fprintf(stderr, "prices-bench: %s\n  in: %.200s\n",
		    err ? err : "?", sql);
		exit(2);
	}
}

/* Run one statement with ?1 .. ?5 bound to the five numbers. */
static void
bench_run(const char *sql, long long a1, long long a2, long long a3,
    long long a4, long long a5)
{
	sqlite3_stmt	*st;
	long long	 v[5] = { a1, a2, a3, a4, a5 };
	int		 i, n;

	if (sqlite3_prepare_v2(bench_db, sql, -1, &st, NULL) != SQLITE_OK)
		bench_die(sql);
	n = sqlite3_bind_parameter_count(st);
	for (i = 1; i <= n && i <= 5; i++)
		sqlite3_bind_int64(st, i, v[i - 1]);
	if (sqlite3_step(st) != SQLITE_DONE)
		bench_die(sql);
	sqlite3_finalize(st);
}

static long long
bench_int(const char *sql)
{
	sqlite3_stmt	*st;
	long long	 v = -1;

	if (sqlite3_prepare_v2(bench_db, sql, -1, &st, NULL) != SQLITE_OK)
		return -1;
	if (sqlite3_step(st) == SQLITE_ROW)
		v = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	return v;
}

static double
bench_clock(void)
{
	struct timespec	 ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static int
bench_cmp(const void *a, const void *b)
{
	double	 x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

/* Percentiles of n times (seconds), printed in ms; the p50 returned. */
static double
bench_report(const char *what, double *t, size_t n)
{
	double	 sum = 0;
	size_t	 i;

	if (n == 0)
		return 0;
	qsort(t, n, sizeof(*t), bench_cmp);
	for (i = 0; i < n; i++)
		sum += t[i];
	printf("  %-34s n=%-6zu p50 %8.3f ms  p99 %8.3f ms  max %8.3f ms"
	    "  mean %8.3f ms\n", what, n, t[n / 2] * 1e3,
	    t[(n * 99) / 100 < n ? (n * 99) / 100 : n - 1] * 1e3,
	    t[n - 1] * 1e3, sum / n * 1e3);
	return t[n / 2];
}

static unsigned long long bench_seed = 1;

static unsigned
bench_rand(unsigned n)
{
	bench_seed = bench_seed * 6364136223846793005ULL +
	    1442695040888963407ULL;
	return (unsigned)((bench_seed >> 33) % n);
}

/*
 * A unit of work of the store's group commit, as the daemon runs every
 * message and timer run: rolled back when the plugin failed.  Committed
 * at once (the daemon would gather several in one commit).
 */
static void
bench_work_begin(void)
{
	if (store_work_begin(bench_store) == -1)
		bench_die("store_work_begin");
}

static void
bench_work_end(int ok)
{
	if (store_work_end(bench_store, ok) == -1 ||
	    store_commit(bench_store) == -1)
		bench_die("commit");
}

/* A board query (PRICES_SQL_*) on the last week of commodity at market. */
static struct store_stmt *
bench_window(const char *sql, const char *commodity, const char *market)
{
	struct store_stmt	*st;

	if ((st = store_query(bench_store, sql)) == NULL)
		bench_die(sql);
	store_bind_text(st, 1, commodity);
	store_bind_text(st, 2, market);
	store_bind_int(st, 3, BENCH_NOW - 7 * 86400);
	store_bind_int(st, 4, BENCH_NOW);
	return st;
}

/* Run a PRICE or REPORT handler on words w, as one unit of work. */
static int
bench_command(int cmd, const char **w, size_t n)
{
	int	 rc;

	bench_nwords = n;
	memcpy(bench_words, w, n * sizeof(*w));
	bench_work_begin();
	rc = marketbox_plugin.commands[cmd].handler(&bench_ctx, &bench_host);
	bench_work_end(rc != MB_FAIL);
	return rc;
}

/* --- the data ----------------------------------------------------------- */

/*
 * The load, on the store's SQLite connection (the core's schema and the
 * plugin's are there: store_open, store_migrate): the report indexes
 * are dropped during the insert and made again from their own DDL after
 * it, which builds them by sorting instead of 10M random inserts.
 */
static void
bench_load(long long reports, long long users)
{
	char		*ddl[8];
	sqlite3_stmt	*st;
	size_t		 nddl = 0, i;
	double		 t0;

	t0 = bench_clock();
	bench_exec("PRAGMA journal_mode = OFF; PRAGMA synchronous = OFF");
	/* the market plugin's posts with its index
	   (plugins/market/market_store.c), and the notices' table */
	bench_exec("CREATE TABLE market_posts (ref INTEGER PRIMARY KEY,"
	    " kind TEXT NOT NULL, msisdn TEXT NOT NULL,"
	    " commodity TEXT NOT NULL,"
	    " unit TEXT NOT NULL, market TEXT, qty INTEGER NOT NULL,"
	    " qty_left INTEGER NOT NULL, price INTEGER NOT NULL,"
	    " state TEXT NOT NULL, created INTEGER NOT NULL,"
	    " expires INTEGER NOT NULL);"
	    "CREATE INDEX market_posts_open"
	    " ON market_posts(kind, commodity, state, price);"
	    "CREATE TABLE bench_outbox (id INTEGER PRIMARY KEY,"
	    " receiver TEXT NOT NULL, template TEXT NOT NULL,"
	    " text TEXT NOT NULL, state TEXT NOT NULL,"
	    " created INTEGER NOT NULL);"
	    "CREATE INDEX bench_outbox_due ON bench_outbox(state, created)");

	if (sqlite3_prepare_v2(bench_db, "SELECT sql FROM sqlite_master"
	    " WHERE type = 'index' AND tbl_name = 'prices_reports'"
	    " AND sql IS NOT NULL", -1, &st, NULL) != SQLITE_OK)
		bench_die("indexes");
	while (sqlite3_step(st) == SQLITE_ROW && nddl < 8)
		ddl[nddl++] = strdup((const char *)sqlite3_column_text(st, 0));
	sqlite3_finalize(st);
	bench_exec("DROP INDEX prices_reports_board;"
	    " DROP INDEX prices_reports_all");

	/* ?1 how many, ?2 markets, ?3 users, ?4 now, ?5 commodities */
	bench_exec("BEGIN");
	bench_run("WITH RECURSIVE s(i) AS (SELECT 1 UNION ALL SELECT i + 1"
	    " FROM s WHERE i < ?1)"
	    " INSERT INTO prices_reports (commodity, market, price, msisdn,"
	    " agent, status, created)"
	    " SELECT printf('c%02d', c), printf('m%02d', abs(random()) % ?2),"
	    " (c + 1) * 100000 * (900 + abs(random()) % 201) / 1000,"
	    " printf('+2547%08d', abs(random()) % ?3),"
	    " abs(random()) % 10 = 0,"
	    " CASE WHEN abs(random()) % 100 = 0 THEN 'held' ELSE 'ok' END,"
	    " ?4 - abs(random()) % (365 * 86400)"
	    " FROM (SELECT abs(random()) % ?5 AS c FROM s)",
	    reports, (long long)BENCH_MARKETS, users, BENCH_NOW,
	    (long long)BENCH_COMMODITIES);
	printf("  loaded %lld reports in %.1f s\n", reports,
	    bench_clock() - t0);
	bench_run("WITH RECURSIVE s(i) AS (SELECT 1 UNION ALL SELECT i + 1"
	    " FROM s WHERE i < ?1)"
	    " INSERT INTO users (msisdn, name, market, language, opt_out,"
	    " created, updated)"
	    " SELECT printf('+2547%08d', i), 'User ' || i,"
	    " printf('m%02d', i % ?2), 'en', i % 50 = 0, 0, 0 FROM s",
	    users, (long long)BENCH_MARKETS, 0LL, 0LL, 0LL);
	/* every user has a daily bulletin (one in 10 of all markets) */
	bench_run("INSERT INTO prices_alerts (msisdn, commodity, market, op,"
	    " created)"
	    " SELECT msisdn, printf('c%02d', id % ?5),"
	    " CASE WHEN id % 10 = 0 THEN '' ELSE market END, '', 0"
	    " FROM users ORDER BY id",
	    0LL, 0LL, 0LL, 0LL, (long long)BENCH_COMMODITIES);
	/* one in 20 a threshold at the commodity's base price */
	bench_run("INSERT INTO prices_alerts (msisdn, commodity, market, op,"
	    " threshold, fired, created)"
	    " SELECT msisdn, printf('c%02d', id / 20 % ?5), market, '>',"
	    " (id / 20 % ?5 + 1) * 100000, 0, 0 FROM users"
	    " WHERE id % 20 = 0",
	    0LL, 0LL, 0LL, 0LL, (long long)BENCH_COMMODITIES);
	/* posts of the market plugin, 100 per commodity, 3 in 4 offers */
	bench_run("WITH RECURSIVE p(i) AS (SELECT 1 UNION ALL SELECT i + 1"
	    " FROM p WHERE i < ?1)"
	    " INSERT INTO market_posts (kind, msisdn, commodity, unit,"
	    " market, qty, qty_left, price, state, created, expires)"
	    " SELECT CASE WHEN i % 4 = 0 THEN 'want' ELSE 'offer' END,"
	    " '+254700000009', printf('c%02d', i % ?5), 'bag',"
	    " printf('m%02d', i % ?2), 10, i % 7, (i % ?5 + 1) * 100000"
	    " * (900 + i % 201) / 1000, 'open', 0, ?4 + 86400 FROM p",
	    100LL * BENCH_COMMODITIES, (long long)BENCH_MARKETS, 0LL,
	    BENCH_NOW, (long long)BENCH_COMMODITIES);
	bench_exec("COMMIT");
	printf("  loaded %lld users and subscriptions in %.1f s\n", users,
	    bench_clock() - t0);
	for (i = 0; i < nddl; i++) {
		bench_exec(ddl[i]);
		free(ddl[i]);
	}
	bench_exec("ANALYZE");
	printf("  indexes built in %.1f s (total)\n", bench_clock() - t0);
}

/* --- main --------------------------------------------------------------- */

static void
bench_usage(void)
{
	fprintf(stderr, "usage: prices-bench [-n REPORTS] [-u USERS] "
	    "[-q QUERIES] [-B BASELINE] [-f DBFILE] [-s SEED]\n");
	exit(2);
}

int
main(int argc, char **argv)
{
	long long	 reports = 10000000, users = 100000, have, runs = 0;
	long long	 threshold_sent;
	size_t		 queries = 1000, baseline = 5, i, n;
	char		 path[256] = "", tmp[] = "/tmp/prices-bench-XXXXXX";
	const char	*w[3];
	double		*t, t0, t1, total, longest = 0;
	double		 p50_board = 0, p50_base = 0;
	double		 commits = 0, longest_commit = 0;
	double		 p50_price;
	struct store_migration	 steps[PRICES_STORE_NMIGRATIONS];
	struct store_stmt	*st, *med;
	int		 c, rc, keep = 0, fd;
	static const char sql_stats[] = PRICES_SQL_STATS("prices_reports AS r");
	static const char sql_median[] =
	    PRICES_SQL_MEDIAN("prices_reports AS r");
	static const char sql_stats_full[] =
	    PRICES_SQL_STATS("prices_reports AS r NOT INDEXED");
	static const char sql_median_full[] =
	    PRICES_SQL_MEDIAN("prices_reports AS r NOT INDEXED");

	while ((c = getopt(argc, argv, "n:u:q:B:f:s:")) != -1) {
		switch (c) {
		case 'n':
			reports = strtoll(optarg, NULL, 10);
			break;
		case 'u':
			users = strtoll(optarg, NULL, 10);
			break;
		case 'q':
			queries = strtoul(optarg, NULL, 10);
			break;
		case 'B':
			baseline = strtoul(optarg, NULL, 10);
			break;
		case 'f':
			snprintf(path, sizeof(path), "%s", optarg);
			keep = 1;
			break;
		case 's':
			bench_seed = strtoull(optarg, NULL, 10);
			break;
		default:
			bench_usage();
		}
	}
	if (reports < 1000 || users < 100 || queries < 1 || baseline < 1)
		bench_usage();
	if (path[0] == '\0') {
		if ((fd = mkstemp(tmp)) == -1)
			bench_die("mkstemp");
		close(fd);
		unlink(tmp);
		snprintf(path, sizeof(path), "%s", tmp);
	}
	for (i = 0; i < BENCH_COMMODITIES; i++)
		snprintf(bench_codes[i], sizeof(bench_codes[i]), "c%02zu", i);
	for (i = 0; i < BENCH_MARKETS; i++) {
		snprintf(bench_markets[i], sizeof(bench_markets[i]), "m%02zu",
		    i);
		snprintf(bench_names[i], sizeof(bench_names[i]), "Market%02zu",
		    i);
	}
	for (i = 0; i < BENCH_REGIONS; i++)
		snprintf(bench_regions[i], sizeof(bench_regions[i]), "r%zu", i);
	if ((t = calloc(queries > baseline ? queries : baseline,
	    sizeof(*t))) == NULL)
		bench_die("calloc");

	printf("prices-bench: %lld reports, %lld users, %s\n", reports, users,
	    path);
	/* the daemon's store: the core's schema, then the plugin's, as the
	   daemon applies them */
	gwlib_init();
	log_set_output_level(GW_WARNING);
	if (store_is_postgresql(path)) {
		fprintf(stderr, "prices-bench: %s: the load is "
		    "SQLite's, not PostgreSQL's\n", path);
		return 2;
	}
	if ((bench_store = store_open(path, NULL)) == NULL)
		bench_die(path);
	bench_db = store_db(bench_store);
	for (i = 0; i < PRICES_STORE_NMIGRATIONS; i++) {
		steps[i].version = marketbox_plugin.migrations[i].version;
		steps[i].sql = marketbox_plugin.migrations[i].sql;
		steps[i].sql_pg = marketbox_plugin.migrations[i].sql_pg;
	}
	if (store_migrate(bench_store, marketbox_plugin.name, steps,
	    PRICES_STORE_NMIGRATIONS) == -1)
		bench_die("the plugin's migrations");
	have = bench_int("SELECT count(*) FROM prices_reports"
	    " WHERE msisdn <> '+254799999999'");
	if (have != reports) {
		if (have != 0) {
			fprintf(stderr, "prices-bench: %s has %lld reports, "
			    "not %lld\n", path, have, reports);
			return 2;
		}
		bench_load(reports, users);
	} else
		printf("  reusing the %lld reports of %s\n", have, path);
	/* for what is timed: the store's WAL, and commits that wait for no
	   fsync (the store's is synchronous FULL): the figures are of the
	   queries, not of the disk */
	bench_exec("PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL;"
	    " PRAGMA cache_size = -65536; PRAGMA temp_store = MEMORY");
	/* a run after a run: the same starting point */
	bench_exec("DELETE FROM bench_outbox; UPDATE prices_bulletin SET"
	    " day = -1, cursor = 0, done = 1;"
	    " UPDATE prices_alerts SET fired = 0;"
	    " DELETE FROM prices_reports WHERE msisdn = '+254799999999'");
	printf("  database %.0f MB\n", (double)bench_int("PRAGMA page_count") *
	    bench_int("PRAGMA page_size") / 1e6);

	if (marketbox_plugin.init(&bench_pctx, &bench_host) != MB_OK)
		bench_die("init");

	/* --- PRICE, one market and all markets --- */
	printf("PRICE (the whole handler, random commodity and market):\n");
	bench_sender_market = "m00";
	for (i = 0; i < queries; i++) {
		w[0] = bench_codes[bench_rand(BENCH_COMMODITIES)];
		w[1] = bench_markets[bench_rand(BENCH_MARKETS)];
		t0 = bench_clock();
		if (bench_command(0, w, 2) != MB_OK)
			bench_die("PRICE");
		t[i] = bench_clock() - t0;
	}
	p50_price = bench_report("PRICE commodity market", t, queries);
	bench_sender_market = NULL;
	n = queries / 10 > 0 ? queries / 10 : 1;
	for (i = 0; i < n; i++) {
		w[0] = bench_codes[bench_rand(BENCH_COMMODITIES)];
		t0 = bench_clock();
		if (bench_command(0, w, 1) != MB_OK)
			bench_die("PRICE");
		t[i] = bench_clock() - t0;
	}
	bench_report("PRICE commodity (all markets)", t, n);

	/* --- the board's queries, with and without the index --- */
	printf("the board's queries (stats + median of one window):\n");
	for (c = 0; c < 2; c++) {
		size_t		 q = c == 0 ? queries : baseline;

		for (i = 0; i < q; i++) {
			const char	*cm = bench_codes[bench_rand(
					    BENCH_COMMODITIES)];
			const char	*mk = bench_markets[bench_rand(
					    BENCH_MARKETS)];
			long long	 cnt;

			t0 = bench_clock();
			st = bench_window(c == 0 ? sql_stats : sql_stats_full,
			    cm, mk);
			if (store_step(st) != STORE_ROW)
				bench_die("stats");
			cnt = store_int(st, 0);
			store_done(st);
			med = bench_window(c == 0 ? sql_median :
			    sql_median_full, cm, mk);
			store_bind_int(med, 5, cnt > 0 ? (cnt - 1) / 2 : 0);
			while ((rc = store_step(med)) == STORE_ROW)
				;
			store_done(med);
			if (rc != STORE_DONE)
				bench_die("median");
			t[i] = bench_clock() - t0;
		}
		if (c == 0)
			p50_board = bench_report("with prices_reports_board", t,
			    q);
		else
			p50_base = bench_report("baseline: NOT INDEXED", t, q);
	}
	printf("  ratio baseline / indexed (p50): %.0fx\n",
	    p50_board > 0 ? p50_base / p50_board : 0);

	/* --- REPORT --- */
	printf("REPORT (insert into both indexes, outlier check):\n");
	bench_sender_market = "m00";
	for (i = 0; i < queries; i++) {
		char	 price[16];

		w[0] = bench_codes[bench_rand(BENCH_COMMODITIES)];
		snprintf(price, sizeof(price), "%u", 1000 * (1 + (unsigned)(
		    w[0][1] - '0') * 10 + (unsigned)(w[0][2] - '0')));
		w[1] = price;
		w[2] = bench_markets[bench_rand(BENCH_MARKETS)];
		t0 = bench_clock();
		if (bench_command(1, w, 3) != MB_OK)
			bench_die("REPORT");
		t[i] = bench_clock() - t0;
	}
	bench_report("REPORT commodity price market", t, queries);

	/* --- the bulletin --- */
	printf("the daily bulletin (timer runs of %s subscriptions):\n",
	    bench_batch);
	bench_notices = 0;
	total = 0;
	bench_ctx.in_timer = 1;
	for (;;) {
		long long	 before = bench_notices;
		int		 done;

		bench_work_begin();
		t0 = bench_clock();
		rc = marketbox_plugin.timers[0].run(&bench_pctx, &bench_host);
		t0 = bench_clock() - t0;
		t1 = bench_clock();
		bench_work_end(rc == MB_OK);
		t1 = bench_clock() - t1;
		if (rc != MB_OK)
			bench_die("timer");
		total += t0 + t1;
		commits += t1;
		if (t0 > longest)
			longest = t0;
		if (t1 > longest_commit)
			longest_commit = t1;
		runs++;
		done = (int)bench_int("SELECT done FROM prices_bulletin");
		if (done && bench_notices == before)
			break;
		if (runs > 1000000)
			bench_die("the bulletin does not end");
	}
	bench_ctx.in_timer = 0;
	threshold_sent = bench_int("SELECT count(*) FROM bench_outbox"
	    " WHERE template LIKE 'prices-cross-%'");
	printf("  %lld notices (%lld threshold alerts) in %lld runs, %.2f s"
	    " (%.2f s of it committing): %.0f rows/s\n", bench_notices,
	    threshold_sent, runs, total, commits,
	    total > 0 ? bench_notices / total : 0);
	printf("  longest run %.1f ms (the plugin's work), longest commit"
	    " %.1f ms\n", longest * 1e3, longest_commit * 1e3);

	printf("RESULT reports=%lld users=%lld price_p50_ms=%.3f"
	    " board_p50_ms=%.3f baseline_p50_ms=%.1f ratio=%.0f"
	    " bulletin_rows_per_s=%.0f bulletin_longest_run_ms=%.1f"
	    " bulletin_longest_commit_ms=%.1f\n",
	    reports, users, p50_price * 1e3, p50_board * 1e3, p50_base * 1e3,
	    p50_board > 0 ? p50_base / p50_board : 0,
	    total > 0 ? bench_notices / total : 0, longest * 1e3,
	    longest_commit * 1e3);

	marketbox_plugin.fini(&bench_pctx, &bench_host);
	store_free(bench_store);
	if (!keep) {
		char	 side[300];

		unlink(path);
		snprintf(side, sizeof(side), "%s-wal", path);
		unlink(side);
		snprintf(side, sizeof(side), "%s-shm", path);
		unlink(side);
	}
	free(t);
	gwlib_shutdown();
	return 0;
}
