/*
 * prices_store.c - the prices plugin's tables and every statement it runs
 * on them: the only file of the plugin with SQL.  Every value is bound;
 * every statement is a string literal handed to host->stmt (the host
 * caches it by address), reset after use.
 *
 * The tables (migration 1; prefixed with the plugin's name):
 *
 *  prices_reports	one row per REPORT: commodity and market codes, the
 *			price in minor units, who, agent (1 when an agent
 *			reported it: weighted), status 'ok' (published) or
 *			'held' (an outlier, kept for an admin's review),
 *			created.
 *  prices_alerts	ALERT subscriptions: op '' for the daily bulletin,
 *			'>' or '<' with threshold for a crossing alert, and
 *			fired, the side of the threshold the median was on
 *			when last looked at (1: the condition holds), so
 *			that a crossing is told once and re-arms when the
 *			median crosses back.
 *  prices_dirty	(commodity, market) pairs with a new report since the
 *			timer last compared their median to thresholds.
 *  prices_bulletin	one row: the local day of the last bulletin round,
 *			the last subscription id done, done.  A restart
 *			continues where the last committed batch ended.
 *
 * The indexes are the queries':
 *
 *  prices_reports_board (commodity, market, status, created, price, agent)
 *	a board for one market: count/min/max/newest are an aggregate over
 *	one index range, and the median an ORDER BY price LIMIT 2 OFFSET
 *	n/2 over the same range: the index covers every column read, so no
 *	table row is touched and only the window's entries are sorted,
 *	however many millions of reports the table holds.
 *  prices_reports_all (commodity, status, created, market, price, agent)
 *	the board for all markets, and the markets that have data for a
 *	commodity (GROUP BY market over the window's range).
 *  prices_alerts_threshold (commodity, market) WHERE op <> ''
 *	the threshold subscriptions of one pair, small beside the bulletin
 *	subscribers, who are walked by id (the primary key).
 */
#include <stdio.h>
#include <stddef.h>
#include <string.h>

#include <sqlite3.h>

#include "prices.h"

static const char prices_store_v1[] =
    "CREATE TABLE prices_reports ("
    "  id INTEGER PRIMARY KEY,"
    "  commodity TEXT NOT NULL,"
    "  market TEXT NOT NULL,"
    "  price INTEGER NOT NULL CHECK (price > 0),"	/* minor units */
    "  msisdn TEXT NOT NULL,"
    "  agent INTEGER NOT NULL DEFAULT 0,"
    "  status TEXT NOT NULL DEFAULT 'ok' CHECK (status IN ('ok', 'held')),"
    "  created INTEGER NOT NULL);"
    "CREATE INDEX prices_reports_board ON prices_reports"
    "  (commodity, market, status, created, price, agent);"
    "CREATE INDEX prices_reports_all ON prices_reports"
    "  (commodity, status, created, market, price, agent);"
    "CREATE TABLE prices_alerts ("
    "  id INTEGER PRIMARY KEY,"
    "  msisdn TEXT NOT NULL,"
    "  commodity TEXT NOT NULL,"
    "  market TEXT NOT NULL DEFAULT '',"		/* '' all markets */
    "  op TEXT NOT NULL DEFAULT '' CHECK (op IN ('', '>', '<')),"
    "  threshold INTEGER,"				/* minor units */
    "  fired INTEGER NOT NULL DEFAULT 0,"
    "  created INTEGER NOT NULL,"
    "  UNIQUE (msisdn, commodity, market, op));"
    "CREATE INDEX prices_alerts_threshold ON prices_alerts"
    "  (commodity, market) WHERE op <> '';"
    "CREATE TABLE prices_dirty ("
    "  commodity TEXT NOT NULL,"
    "  market TEXT NOT NULL,"
    "  PRIMARY KEY (commodity, market)) WITHOUT ROWID;"
    "CREATE TABLE prices_bulletin ("
    "  id INTEGER PRIMARY KEY CHECK (id = 1),"
    "  day INTEGER NOT NULL,"		/* local days since 1970 */
    "  cursor INTEGER NOT NULL,"		/* last prices_alerts.id done */
    "  done INTEGER NOT NULL);"
    "INSERT INTO prices_bulletin (id, day, cursor, done) VALUES (1, -1, 0, 1);";

/* Append only: a released step is never edited (marketbox-plugin(3)). */
const struct mb_migration prices_store_migrations[PRICES_STORE_NMIGRATIONS] = {
	{ .version = 1, .sql = prices_store_v1 },
};

static const char prices_store_sql_stats[] =
    PRICES_SQL_STATS("prices_reports AS r");
static const char prices_store_sql_median[] =
    PRICES_SQL_MEDIAN("prices_reports AS r");
static const char prices_store_sql_median_weighted[] =
    PRICES_SQL_MEDIAN_WEIGHTED("prices_reports AS r");
/* The same over every market (prices_reports_all). */
static const char prices_store_sql_stats_all[] =
    "SELECT count(*), min(price), max(price), max(created),"
    " coalesce(sum(agent), 0) FROM prices_reports"
    " WHERE commodity = ?1 AND status = 'ok'"
    " AND created > ?3 AND created <= ?4";
static const char prices_store_sql_median_all[] =
    "SELECT price FROM prices_reports"
    " WHERE commodity = ?1 AND status = 'ok'"
    " AND created > ?3 AND created <= ?4"
    " ORDER BY price LIMIT 2 OFFSET ?5";
static const char prices_store_sql_median_all_weighted[] =
    "WITH RECURSIVE k(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM k"
    " WHERE n < ?6)"
    " SELECT r.price FROM prices_reports AS r CROSS JOIN k"
    " WHERE r.commodity = ?1 AND r.status = 'ok'"
    " AND r.created > ?3 AND r.created <= ?4"
    " AND k.n <= CASE WHEN r.agent <> 0 THEN ?6 ELSE 1 END"
    " ORDER BY r.price LIMIT 2 OFFSET ?5";

static void
prices_store_error(struct mb_ctx *ctx, const struct mb_host *host,
    const char *what)
{
	host->log(ctx, MB_LOG_ERROR, "prices: %s: %s", what,
	    sqlite3_errmsg(host->db(ctx)));
}

/* Run a statement that returns no rows, then reset it: 0, or -1 logged. */
static int
prices_store_done(struct mb_ctx *ctx, const struct mb_host *host,
    sqlite3_stmt *st, const char *what)
{
	int	 rc = sqlite3_step(st);

	sqlite3_reset(st);
	if (rc != SQLITE_DONE) {
		prices_store_error(ctx, host, what);
		return -1;
	}
	return 0;
}

/* Copy column col (text) into buf; "" for NULL. */
static void
prices_store_text(sqlite3_stmt *st, int col, char *buf, size_t len)
{
	const unsigned char	*t = sqlite3_column_text(st, col);

	snprintf(buf, len, "%s", t != NULL ? (const char *)t : "");
}

int
prices_store_stats(struct mb_ctx *ctx, const struct mb_host *host,
    const char *commodity, const char *market, long long from, long long to,
    int weight, struct prices_stats *s)
{
	sqlite3_stmt	*st;
	long long	 lower, v[2];
	int		 rc = SQLITE_DONE, got = 0;

	memset(s, 0, sizeof(*s));
	st = host->stmt(ctx, market != NULL ? prices_store_sql_stats :
	    prices_store_sql_stats_all);
	if (st == NULL)
		return -1;
	sqlite3_bind_text(st, 1, commodity, -1, SQLITE_STATIC);
	if (market != NULL)
		sqlite3_bind_text(st, 2, market, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 3, from);
	sqlite3_bind_int64(st, 4, to);
	if ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		s->n = sqlite3_column_int64(st, 0);
		s->low = sqlite3_column_int64(st, 1);
		s->high = sqlite3_column_int64(st, 2);
		s->newest = sqlite3_column_int64(st, 3);
		s->agents = sqlite3_column_int64(st, 4);
	}
	sqlite3_reset(st);
	if (rc != SQLITE_ROW) {
		prices_store_error(ctx, host, "stats");
		return -1;
	}
	if (s->n == 0) {
		memset(s, 0, sizeof(*s));
		return 0;
	}
	if (weight < 1)
		weight = 1;
	s->weight = s->n + s->agents * (weight - 1);
	lower = (s->weight - 1) / 2;

	/* The middle one or two of the sorted (weighted) list. */
	if (s->agents > 0 && weight > 1)
		st = host->stmt(ctx, market != NULL ?
		    prices_store_sql_median_weighted :
		    prices_store_sql_median_all_weighted);
	else
		st = host->stmt(ctx, market != NULL ? prices_store_sql_median :
		    prices_store_sql_median_all);
	if (st == NULL)
		return -1;
	sqlite3_bind_text(st, 1, commodity, -1, SQLITE_STATIC);
	if (market != NULL)
		sqlite3_bind_text(st, 2, market, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 3, from);
	sqlite3_bind_int64(st, 4, to);
	sqlite3_bind_int64(st, 5, lower);
	if (s->agents > 0 && weight > 1)
		sqlite3_bind_int(st, 6, weight);
	while (got < 2 && (rc = sqlite3_step(st)) == SQLITE_ROW)
		v[got++] = sqlite3_column_int64(st, 0);
	if (got < 2 && rc != SQLITE_DONE) {
		sqlite3_reset(st);
		prices_store_error(ctx, host, "median");
		return -1;
	}
	sqlite3_reset(st);
	if (got == 0) {
		/* the count and the rows disagree: cannot be, in one
		   transaction; say so rather than show a wrong median */
		host->log(ctx, MB_LOG_ERROR, "prices: median of %s: no row at "
		    "%lld of %lld", commodity, lower, s->weight);
		return -1;
	}
	if (s->weight % 2 == 1 || got == 1)
		s->median = v[0];
	else
		s->median = (v[0] + v[1] + 1) / 2;
	return 0;
}

int
prices_store_markets(struct mb_ctx *ctx, const struct mb_host *host,
    const char *commodity, long long from, long long to, const char *region,
    char out[][PRICES_CODE_MAX], size_t max, size_t *n)
{
	static const char sql[] =
	    "SELECT market, count(*) AS n FROM prices_reports"
	    " WHERE commodity = ?1 AND status = 'ok'"
	    " AND created > ?2 AND created <= ?3"
	    " GROUP BY market ORDER BY n DESC, market LIMIT 100";
	sqlite3_stmt	*st;
	const char	*code, *r;
	int		 rc = SQLITE_DONE;

	*n = 0;
	if ((st = host->stmt(ctx, sql)) == NULL)
		return -1;
	sqlite3_bind_text(st, 1, commodity, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, from);
	sqlite3_bind_int64(st, 3, to);
	while (*n < max && (rc = sqlite3_step(st)) == SQLITE_ROW) {
		code = (const char *)sqlite3_column_text(st, 0);
		if (code == NULL || strlen(code) >= PRICES_CODE_MAX)
			continue;
		if (region != NULL && ((r = host->market_region(ctx, code)) ==
		    NULL || strcmp(r, region) != 0))
			continue;
		snprintf(out[(*n)++], PRICES_CODE_MAX, "%s", code);
	}
	if (*n < max && rc != SQLITE_DONE) {
		sqlite3_reset(st);
		prices_store_error(ctx, host, "markets");
		return -1;
	}
	sqlite3_reset(st);
	return 0;
}

/*
 * Does the market plugin's table exist?  Plugins load in any order and
 * the market plugin may be added later, so the answer is looked up until
 * it is yes, then kept (a table does not go away under a running daemon).
 */
static int
prices_store_has_posts(struct mb_ctx *ctx, const struct mb_host *host,
    struct prices_state *ps)
{
	static const char sql[] =
	    "SELECT 1 FROM sqlite_master WHERE type = 'table'"
	    " AND name = 'market_posts'";
	sqlite3_stmt	*st;

	if (ps->has_posts)
		return 1;
	if ((st = host->stmt(ctx, sql)) == NULL)
		return 0;
	ps->has_posts = sqlite3_step(st) == SQLITE_ROW;
	sqlite3_reset(st);
	return ps->has_posts;
}

int
prices_store_offers(struct mb_ctx *ctx, const struct mb_host *host,
    struct prices_state *ps, const char *commodity, const char *market,
    struct prices_board *b)
{
	/* the cheapest first; a few more than shown, for the region filter */
	static const char sql[] =
	    "SELECT ref, price, market, qty_left FROM market_posts"
	    " WHERE kind = 'offer' AND state = 'open' AND qty_left > 0"
	    " AND commodity = ?1 AND unit = ?2"
	    " AND (expires IS NULL OR expires > ?3)"
	    " ORDER BY price, ref LIMIT 50";
	sqlite3_stmt	*st;
	const char	*unit, *region = NULL, *m, *r;
	int		 rc = SQLITE_DONE;

	b->noffers = 0;
	if (!prices_store_has_posts(ctx, host, ps))
		return 0;
	if ((unit = host->commodity_unit(ctx, commodity)) == NULL)
		return 0;
	if ((st = host->stmt(ctx, sql)) == NULL) {
		/* another shape of market_posts than this plugin knows: the
		   board goes without offers rather than not at all */
		host->log(ctx, MB_LOG_WARNING, "prices: market_posts cannot "
		    "be read: %s", sqlite3_errmsg(host->db(ctx)));
		return 0;
	}
	if (market != NULL)
		region = host->market_region(ctx, market);
	sqlite3_bind_text(st, 1, commodity, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, unit, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 3, b->now);
	while (b->noffers < PRICES_OFFERS &&
	    (rc = sqlite3_step(st)) == SQLITE_ROW) {
		m = (const char *)sqlite3_column_text(st, 2);
		if (market != NULL && (m == NULL || (strcmp(m, market) != 0 &&
		    (region == NULL || (r = host->market_region(ctx, m)) ==
		    NULL || strcmp(r, region) != 0))))
			continue;
		b->offer_ref[b->noffers] = sqlite3_column_int64(st, 0);
		b->offer_price[b->noffers] = sqlite3_column_int64(st, 1);
		b->offer_qty[b->noffers] = sqlite3_column_int64(st, 3);
		if (b->offer_price[b->noffers] > 0)
			b->noffers++;
	}
	if (b->noffers < PRICES_OFFERS && rc != SQLITE_DONE)
		prices_store_error(ctx, host, "offers");
	sqlite3_reset(st);
	return 0;
}

int
prices_store_report(struct mb_ctx *ctx, const struct mb_host *host,
    const char *commodity, const char *market, long long price,
    const char *msisdn, int agent, const char *status, long long now)
{
	static const char sql[] =
	    "INSERT INTO prices_reports (commodity, market, price, msisdn,"
	    " agent, status, created) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)";
	sqlite3_stmt	*st;

	if ((st = host->stmt(ctx, sql)) == NULL)
		return -1;
	sqlite3_bind_text(st, 1, commodity, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, market, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 3, price);
	sqlite3_bind_text(st, 4, msisdn, -1, SQLITE_STATIC);
	sqlite3_bind_int(st, 5, agent != 0);
	sqlite3_bind_text(st, 6, status, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 7, now);
	return prices_store_done(ctx, host, st, "report");
}

/* Run a statement that returns no row, with two texts bound. */
static int
prices_store_exec2(struct mb_ctx *ctx, const struct mb_host *host,
    const char *sql, const char *a, const char *b, const char *what)
{
	sqlite3_stmt	*st;

	if ((st = host->stmt(ctx, sql)) == NULL)
		return -1;
	sqlite3_bind_text(st, 1, a, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, b, -1, SQLITE_STATIC);
	return prices_store_done(ctx, host, st, what);
}

int
prices_store_dirty(struct mb_ctx *ctx, const struct mb_host *host,
    const char *commodity, const char *market)
{
	static const char sql[] =
	    "INSERT OR IGNORE INTO prices_dirty (commodity, market)"
	    " VALUES (?1, ?2)";

	return prices_store_exec2(ctx, host, sql, commodity, market, "dirty");
}

int
prices_store_dirty_take(struct mb_ctx *ctx, const struct mb_host *host,
    char commodity[][PRICES_CODE_MAX], char market[][PRICES_CODE_MAX],
    size_t max, size_t *n)
{
	static const char sql[] =
	    "SELECT commodity, market FROM prices_dirty LIMIT ?1";
	sqlite3_stmt	*st;
	int		 rc = SQLITE_DONE;

	*n = 0;
	if ((st = host->stmt(ctx, sql)) == NULL)
		return -1;
	sqlite3_bind_int64(st, 1, (long long)max);
	while (*n < max && (rc = sqlite3_step(st)) == SQLITE_ROW) {
		prices_store_text(st, 0, commodity[*n], PRICES_CODE_MAX);
		prices_store_text(st, 1, market[*n], PRICES_CODE_MAX);
		(*n)++;
	}
	sqlite3_reset(st);
	if (*n < max && rc != SQLITE_DONE) {
		prices_store_error(ctx, host, "dirty");
		return -1;
	}
	return 0;
}

int
prices_store_dirty_done(struct mb_ctx *ctx, const struct mb_host *host,
    const char *commodity, const char *market)
{
	static const char sql[] =
	    "DELETE FROM prices_dirty WHERE commodity = ?1 AND market = ?2";

	return prices_store_exec2(ctx, host, sql, commodity, market, "dirty");
}

/*
 * Whether each subscriber sent STOP: the host knows (users are the
 * core's); asked after the query, once per subscriber.
 */
static int
prices_store_fill_opt_out(struct mb_ctx *ctx, const struct mb_host *host,
    struct prices_sub *subs, size_t n)
{
	size_t	 i;
	int	 out;

	for (i = 0; i < n; i++) {
		if ((out = prices_store_opt_out(ctx, host, subs[i].msisdn)) == -1)
			return -1;
		subs[i].opt_out = out;
	}
	return 0;
}

int
prices_store_crossed(struct mb_ctx *ctx, const struct mb_host *host,
    const char *commodity, const char *market, long long median,
    struct prices_sub *subs, size_t max, size_t *n)
{
	static const char sql[] =
	    "SELECT a.id, a.msisdn, a.op, a.threshold, a.fired"
	    " FROM prices_alerts AS a"
	    " WHERE a.commodity = ?1 AND a.market = ?2 AND a.op <> ''"
	    " AND a.fired <> (CASE a.op WHEN '>' THEN ?3 > a.threshold"
	    " ELSE ?3 < a.threshold END)"
	    " ORDER BY a.id LIMIT ?4";
	sqlite3_stmt	*st;
	struct prices_sub *s;
	const char	*op;
	int		 rc = SQLITE_DONE;

	*n = 0;
	if ((st = host->stmt(ctx, sql)) == NULL)
		return -1;
	sqlite3_bind_text(st, 1, commodity, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, market, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 3, median);
	sqlite3_bind_int64(st, 4, (long long)max);
	while (*n < max && (rc = sqlite3_step(st)) == SQLITE_ROW) {
		s = &subs[(*n)++];
		memset(s, 0, sizeof(*s));
		s->id = sqlite3_column_int64(st, 0);
		prices_store_text(st, 1, s->msisdn, sizeof(s->msisdn));
		snprintf(s->commodity, sizeof(s->commodity), "%s", commodity);
		snprintf(s->market, sizeof(s->market), "%s", market);
		op = (const char *)sqlite3_column_text(st, 2);
		s->op = op != NULL ? op[0] : 0;
		s->threshold = sqlite3_column_int64(st, 3);
		s->fired = sqlite3_column_int(st, 4);
	}
	sqlite3_reset(st);
	if (*n < max && rc != SQLITE_DONE) {
		prices_store_error(ctx, host, "thresholds");
		return -1;
	}
	return prices_store_fill_opt_out(ctx, host, subs, *n);
}

int
prices_store_set_fired(struct mb_ctx *ctx, const struct mb_host *host,
    long long id, int fired)
{
	static const char sql[] =
	    "UPDATE prices_alerts SET fired = ?2 WHERE id = ?1";
	sqlite3_stmt	*st;

	if ((st = host->stmt(ctx, sql)) == NULL)
		return -1;
	sqlite3_bind_int64(st, 1, id);
	sqlite3_bind_int(st, 2, fired != 0);
	return prices_store_done(ctx, host, st, "fired");
}

int
prices_store_alert_set(struct mb_ctx *ctx, const struct mb_host *host,
    const char *msisdn, const char *commodity, const char *market, char op,
    long long threshold, int fired, long long now, int max)
{
	static const char sql_find[] =
	    "SELECT id FROM prices_alerts WHERE msisdn = ?1"
	    " AND commodity = ?2 AND market = ?3 AND op = ?4";
	static const char sql_count[] =
	    "SELECT count(*) FROM prices_alerts WHERE msisdn = ?1";
	static const char sql_update[] =
	    "UPDATE prices_alerts SET threshold = ?2, fired = ?3 WHERE id = ?1";
	static const char sql_insert[] =
	    "INSERT INTO prices_alerts (msisdn, commodity, market, op,"
	    " threshold, fired, created) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)";
	sqlite3_stmt	*st;
	char		 ops[2] = { op, '\0' };
	long long	 id = 0;
	int		 rc, n;

	if ((st = host->stmt(ctx, sql_find)) == NULL)
		return -1;
	sqlite3_bind_text(st, 1, msisdn, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, commodity, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, market, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 4, ops, -1, SQLITE_STATIC);
	if ((rc = sqlite3_step(st)) == SQLITE_ROW)
		id = sqlite3_column_int64(st, 0);
	sqlite3_reset(st);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE) {
		prices_store_error(ctx, host, "alert");
		return -1;
	}
	if (id == 0) {
		/* a new one: within the phone's allowance? */
		if ((st = host->stmt(ctx, sql_count)) == NULL)
			return -1;
		sqlite3_bind_text(st, 1, msisdn, -1, SQLITE_STATIC);
		rc = sqlite3_step(st);
		n = rc == SQLITE_ROW ? sqlite3_column_int(st, 0) : 0;
		sqlite3_reset(st);
		if (rc != SQLITE_ROW) {
			prices_store_error(ctx, host, "alerts");
			return -1;
		}
		if (n >= max)
			return 1;
	}
	if (id != 0) {
		if ((st = host->stmt(ctx, sql_update)) == NULL)
			return -1;
		sqlite3_bind_int64(st, 1, id);
	} else {
		if ((st = host->stmt(ctx, sql_insert)) == NULL)
			return -1;
		sqlite3_bind_text(st, 1, msisdn, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 2, commodity, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 3, market, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 4, ops, -1, SQLITE_STATIC);
		sqlite3_bind_int64(st, 7, now);
	}
	if (op != 0) {
		sqlite3_bind_int64(st, id != 0 ? 2 : 5, threshold);
		sqlite3_bind_int(st, id != 0 ? 3 : 6, fired != 0);
	} else {
		sqlite3_bind_null(st, id != 0 ? 2 : 5);
		sqlite3_bind_int(st, id != 0 ? 3 : 6, 0);
	}
	return prices_store_done(ctx, host, st, "alert");
}

int
prices_store_alert_off(struct mb_ctx *ctx, const struct mb_host *host,
    const char *msisdn, const char *commodity)
{
	static const char sql_all[] =
	    "DELETE FROM prices_alerts WHERE msisdn = ?1";
	static const char sql_one[] =
	    "DELETE FROM prices_alerts WHERE msisdn = ?1 AND commodity = ?2";
	sqlite3_stmt	*st;
	int		 rc;

	if ((st = host->stmt(ctx, commodity != NULL ? sql_one : sql_all)) ==
	    NULL)
		return -1;
	sqlite3_bind_text(st, 1, msisdn, -1, SQLITE_STATIC);
	if (commodity != NULL)
		sqlite3_bind_text(st, 2, commodity, -1, SQLITE_STATIC);
	rc = sqlite3_step(st);
	sqlite3_reset(st);
	if (rc != SQLITE_DONE) {
		prices_store_error(ctx, host, "alert off");
		return -1;
	}
	return sqlite3_changes(host->db(ctx));
}

/* Whether msisdn sent STOP, from the host: 1, 0, or -1 (logged). */
int
prices_store_opt_out(struct mb_ctx *ctx, const struct mb_host *host,
    const char *msisdn)
{
	int	 out;

	/* A host older than this field has no opt-out to tell. */
	if (host->size < offsetof(struct mb_host, user_opt_out) +
	    sizeof(host->user_opt_out) || host->user_opt_out == NULL)
		return 0;
	if ((out = host->user_opt_out(ctx, msisdn)) == -1)
		prices_store_error(ctx, host, "users");
	return out;
}

int
prices_store_cursor(struct mb_ctx *ctx, const struct mb_host *host,
    long long *day, long long *cursor, int *done)
{
	static const char sql[] =
	    "SELECT day, cursor, done FROM prices_bulletin WHERE id = 1";
	sqlite3_stmt	*st;
	int		 rc;

	if ((st = host->stmt(ctx, sql)) == NULL)
		return -1;
	if ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		*day = sqlite3_column_int64(st, 0);
		*cursor = sqlite3_column_int64(st, 1);
		*done = sqlite3_column_int(st, 2);
	}
	sqlite3_reset(st);
	if (rc != SQLITE_ROW) {
		prices_store_error(ctx, host, "bulletin cursor");
		return -1;
	}
	return 0;
}

int
prices_store_cursor_set(struct mb_ctx *ctx, const struct mb_host *host,
    long long day, long long cursor, int done)
{
	static const char sql[] =
	    "UPDATE prices_bulletin SET day = ?1, cursor = ?2, done = ?3"
	    " WHERE id = 1";
	sqlite3_stmt	*st;

	if ((st = host->stmt(ctx, sql)) == NULL)
		return -1;
	sqlite3_bind_int64(st, 1, day);
	sqlite3_bind_int64(st, 2, cursor);
	sqlite3_bind_int(st, 3, done != 0);
	return prices_store_done(ctx, host, st, "bulletin cursor");
}

/* The bulletin's subscribers, with whether each sent STOP. */
int
prices_store_bulletin_subs(struct mb_ctx *ctx, const struct mb_host *host,
    long long after, struct prices_sub *subs, size_t max, size_t *n)
{
	static const char sql[] =
	    "SELECT a.id, a.msisdn, a.commodity, a.market"
	    " FROM prices_alerts AS a"
	    " WHERE a.id > ?1 AND a.op = ''"
	    " ORDER BY a.id LIMIT ?2";
	sqlite3_stmt	*st;
	struct prices_sub *s;
	int		 rc = SQLITE_DONE;

	*n = 0;
	if ((st = host->stmt(ctx, sql)) == NULL)
		return -1;
	sqlite3_bind_int64(st, 1, after);
	sqlite3_bind_int64(st, 2, (long long)max);
	while (*n < max && (rc = sqlite3_step(st)) == SQLITE_ROW) {
		s = &subs[(*n)++];
		memset(s, 0, sizeof(*s));
		s->id = sqlite3_column_int64(st, 0);
		prices_store_text(st, 1, s->msisdn, sizeof(s->msisdn));
		prices_store_text(st, 2, s->commodity, sizeof(s->commodity));
		prices_store_text(st, 3, s->market, sizeof(s->market));
	}
	sqlite3_reset(st);
	if (*n < max && rc != SQLITE_DONE) {
		prices_store_error(ctx, host, "bulletin");
		return -1;
	}
	return prices_store_fill_opt_out(ctx, host, subs, *n);
}
