/*
 * prices_store.c - the prices plugin's tables and every statement it runs
 * on them: the only file of the plugin with SQL.  Every value is bound;
 * every statement is a string literal handed to host->query (the host
 * caches it by address) and let go with host->done after its last step.
 * The SQL is the same on SQLite and PostgreSQL (ABI 2: $N parameters,
 * integer times, ON CONFLICT); the schema has a PostgreSQL variant of its
 * DDL only, and one statement, whether a table of the market plugin
 * exists (its name bound), asks each engine's catalogue.  A failed
 * statement is logged by the host with its SQL, and so is a failed bind:
 * the functions here only return -1, and every bind is checked (a
 * statement is never run with a parameter missing).
 *
 * The market plugin's tables read (when they exist): market_posts (the
 * board's offers, a reminder's offer), market_pools (a reminder's buying
 * pool; whether an offer is a listed sell pool) and market_pool_shares
 * (its farmers); and for each offer on the board its seller's record,
 * counted from market_orders, market_legs, market_disputes and
 * market_ratings by the market plugin's own SQL (market_rep_sql.h,
 * included: one definition of a trade for both plugins).  A region is
 * chosen in SQL: its markets (those of the
 * rows, looked up with host->market_region as distinct codes, page by
 * page) are bound, PRICES_IN_MAX to a statement, never filtered out of
 * a first page of every market's rows.
 *
 * The tables (migration 1, prices_reports changed by 3; prefixed with the
 * plugin's name; on PostgreSQL
 * the same columns, with BIGINT where a price, a time or an id may pass
 * 2^31, and the code columns of prices_reports in the "C" collation so
 * that markets sort by their bytes as SQLite sorts them):
 *
 *  prices_reports	one row per REPORT: commodity and market codes, the
 *			price in minor units, who, agent (1 when an agent
 *			reported it: weighted), status 'ok' (published) or
 *			'held' (an outlier, kept for an admin's review),
 *			'rejected' (held, then refused by an admin: kept,
 *			never counted), created, decided (when an admin
 *			approved or rejected it: step 3).  The daemon's
 *			admin (src/admin/reports.c) writes only what a
 *			decision sets: status, decided, and the pair in
 *			prices_dirty an approval makes, as REPORT does.
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

#include "prices.h"
#include "prices_sql.h"

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

/*
 * The same schema on PostgreSQL: identity ids, BIGINT for money (up to
 * 1e11 minor units), times and ids, INTEGER for the 0/1 flags (their
 * sum() stays an integer), and the "C" collation for the report's codes:
 * the markets with data are listed by count then code, as SQLite's
 * binary collation orders them, not by the server's locale.
 */
static const char prices_store_v1_pg[] =
    "CREATE TABLE prices_reports ("
    "  id BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,"
    "  commodity TEXT COLLATE \"C\" NOT NULL,"
    "  market TEXT COLLATE \"C\" NOT NULL,"
    "  price BIGINT NOT NULL CHECK (price > 0),"
    "  msisdn TEXT NOT NULL,"
    "  agent INTEGER NOT NULL DEFAULT 0,"
    "  status TEXT NOT NULL DEFAULT 'ok' CHECK (status IN ('ok', 'held')),"
    "  created BIGINT NOT NULL);"
    "CREATE INDEX prices_reports_board ON prices_reports"
    "  (commodity, market, status, created, price, agent);"
    "CREATE INDEX prices_reports_all ON prices_reports"
    "  (commodity, status, created, market, price, agent);"
    "CREATE TABLE prices_alerts ("
    "  id BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,"
    "  msisdn TEXT NOT NULL,"
    "  commodity TEXT NOT NULL,"
    "  market TEXT NOT NULL DEFAULT '',"
    "  op TEXT NOT NULL DEFAULT '' CHECK (op IN ('', '>', '<')),"
    "  threshold BIGINT,"
    "  fired INTEGER NOT NULL DEFAULT 0,"
    "  created BIGINT NOT NULL,"
    "  UNIQUE (msisdn, commodity, market, op));"
    "CREATE INDEX prices_alerts_threshold ON prices_alerts"
    "  (commodity, market) WHERE op <> '';"
    "CREATE TABLE prices_dirty ("
    "  commodity TEXT NOT NULL,"
    "  market TEXT NOT NULL,"
    "  PRIMARY KEY (commodity, market));"
    "CREATE TABLE prices_bulletin ("
    "  id INTEGER PRIMARY KEY CHECK (id = 1),"
    "  day BIGINT NOT NULL,"
    "  cursor BIGINT NOT NULL,"
    "  done INTEGER NOT NULL);"
    "INSERT INTO prices_bulletin (id, day, cursor, done) VALUES (1, -1, 0, 1);";

/*
 * Step 2: the seasonal reminders told, one row per subscriber, season,
 * year of the season's start and reminder (seconds before the start):
 * the timer sends to whoever has no row yet and writes the row in the
 * same transaction as the notice, so a restart neither repeats nor skips
 * anyone.  told is 0 for a subscriber who had sent STOP (looked at, not
 * told).
 */
static const char prices_store_v2[] =
    "CREATE TABLE prices_season_sent ("
    "  season TEXT NOT NULL,"
    "  year INTEGER NOT NULL,"
    "  remind INTEGER NOT NULL,"
    "  msisdn TEXT NOT NULL,"
    "  commodity TEXT NOT NULL,"
    "  told INTEGER NOT NULL,"
    "  sent INTEGER NOT NULL,"
    "  PRIMARY KEY (season, year, remind, msisdn));";
static const char prices_store_v2_pg[] =
    "CREATE TABLE prices_season_sent ("
    "  season TEXT NOT NULL,"
    "  year INTEGER NOT NULL,"
    "  remind BIGINT NOT NULL,"
    "  msisdn TEXT NOT NULL,"
    "  commodity TEXT NOT NULL,"
    "  told INTEGER NOT NULL,"
    "  sent BIGINT NOT NULL,"
    "  PRIMARY KEY (season, year, remind, msisdn));";

/*
 * Step 3: a held report is decided by an admin (marketctl reports approve
 * or reject, POST /admin/reports, src/admin/reports.c): approved, it
 * becomes 'ok' and counts on the board; rejected, it is kept as
 * 'rejected' (never counted, never deleted).  decided is when.  SQLite
 * cannot change a CHECK: the table is built again, its rows and ids
 * kept; PostgreSQL changes the constraint in place.
 */
static const char prices_store_v3[] =
    "CREATE TABLE prices_reports_v3 ("
    "  id INTEGER PRIMARY KEY,"
    "  commodity TEXT NOT NULL,"
    "  market TEXT NOT NULL,"
    "  price INTEGER NOT NULL CHECK (price > 0),"
    "  msisdn TEXT NOT NULL,"
    "  agent INTEGER NOT NULL DEFAULT 0,"
    "  status TEXT NOT NULL DEFAULT 'ok'"
    "   CHECK (status IN ('ok', 'held', 'rejected')),"
    "  created INTEGER NOT NULL,"
    "  decided INTEGER);"
    "INSERT INTO prices_reports_v3 (id, commodity, market, price, msisdn,"
    "  agent, status, created) SELECT id, commodity, market, price, msisdn,"
    "  agent, status, created FROM prices_reports;"
    "DROP TABLE prices_reports;"
    "ALTER TABLE prices_reports_v3 RENAME TO prices_reports;"
    "CREATE INDEX prices_reports_board ON prices_reports"
    "  (commodity, market, status, created, price, agent);"
    "CREATE INDEX prices_reports_all ON prices_reports"
    "  (commodity, status, created, market, price, agent);";
static const char prices_store_v3_pg[] =
    "ALTER TABLE prices_reports DROP CONSTRAINT prices_reports_status_check;"
    "ALTER TABLE prices_reports ADD CONSTRAINT prices_reports_status_check"
    "  CHECK (status IN ('ok', 'held', 'rejected'));"
    "ALTER TABLE prices_reports ADD COLUMN decided BIGINT;";

/* Append only: a released step is never edited (marketbox-plugin(3)). */
const struct mb_migration prices_store_migrations[PRICES_STORE_NMIGRATIONS] = {
	{ .version = 1, .sql = prices_store_v1, .sql_pg = prices_store_v1_pg },
	{ .version = 2, .sql = prices_store_v2, .sql_pg = prices_store_v2_pg },
	{ .version = 3, .sql = prices_store_v3, .sql_pg = prices_store_v3_pg },
};

static const char prices_store_sql_stats[] =
    PRICES_SQL_STATS("prices_reports AS r");
static const char prices_store_sql_median[] =
    PRICES_SQL_MEDIAN("prices_reports AS r");
static const char prices_store_sql_median_weighted[] =
    PRICES_SQL_MEDIAN_WEIGHTED("prices_reports AS r");
/*
 * The same over every market (prices_reports_all), without the market:
 * $1 commodity, ($2, $3] the window, $4 the offset, $5 the weight (every
 * number used, as PostgreSQL must type each parameter).
 */
static const char prices_store_sql_stats_all[] =
    "SELECT count(*), min(price), max(price), max(created),"
    " coalesce(sum(agent), 0) FROM prices_reports"
    " WHERE commodity = $1 AND status = 'ok'"
    " AND created > $2 AND created <= $3";
static const char prices_store_sql_median_all[] =
    "SELECT price FROM prices_reports"
    " WHERE commodity = $1 AND status = 'ok'"
    " AND created > $2 AND created <= $3"
    " ORDER BY price LIMIT 2 OFFSET $4";
static const char prices_store_sql_median_all_weighted[] =
    "WITH RECURSIVE k(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM k"
    " WHERE n < $5)"
    " SELECT r.price FROM prices_reports AS r CROSS JOIN k"
    " WHERE r.commodity = $1 AND r.status = 'ok'"
    " AND r.created > $2 AND r.created <= $3"
    " AND k.n <= CASE WHEN r.agent <> 0 THEN $5 ELSE 1 END"
    " ORDER BY r.price LIMIT 2 OFFSET $4";

/* Step a statement that returns no rows, and let it go: 0, or -1 (the
   host has logged why). */
static int
prices_store_run(const struct mb_host *host, struct mb_stmt *st)
{
	int	 rc = host->step(st);

	host->done(st);
	return rc == MB_DONE ? 0 : -1;
}

/* A bind failed (the host has logged why): let the statement go; -1. */
static int
prices_store_unbound(const struct mb_host *host, struct mb_stmt *st)
{
	host->done(st);
	return -1;
}

/* Copy column col (text) into buf; "" for NULL. */
static void
prices_store_text(const struct mb_host *host, struct mb_stmt *st, int col,
    char *buf, size_t len)
{
	const char	*t = host->column_text(st, col);

	snprintf(buf, len, "%s", t != NULL ? t : "");
}

/*
 * Bind the parameters the board's statements share: commodity, market
 * (when not NULL: the statements over every market go without it, and
 * the numbers after it are one less) and the window (from, to].  0, or
 * -1 when a bind failed.
 */
static int
prices_store_bind_board(const struct mb_host *host, struct mb_stmt *st,
    const char *commodity, const char *market, long long from, long long to)
{
	int	 k = market != NULL, b;

	b = host->bind_text(st, 1, commodity);
	if (market != NULL)
		b |= host->bind_text(st, 2, market);
	b |= host->bind_int(st, 2 + k, from);
	b |= host->bind_int(st, 3 + k, to);
	return b != 0 ? -1 : 0;
}

int
prices_store_stats(struct mb_ctx *ctx, const struct mb_host *host,
    const char *commodity, const char *market, long long from, long long to,
    int weight, struct prices_stats *s)
{
	struct mb_stmt	*st;
	long long	 lower, v[2];
	int		 rc, got = 0, weighted, k = market != NULL;

	memset(s, 0, sizeof(*s));
	st = host->query(ctx, market != NULL ? prices_store_sql_stats :
	    prices_store_sql_stats_all);
	if (st == NULL)
		return -1;
	if (prices_store_bind_board(host, st, commodity, market, from,
	    to) == -1)
		return prices_store_unbound(host, st);
	if ((rc = host->step(st)) == MB_ROW) {
		s->n = host->column_int(st, 0);
		s->low = host->column_int(st, 1);
		s->high = host->column_int(st, 2);
		s->newest = host->column_int(st, 3);
		s->agents = host->column_int(st, 4);
	}
	host->done(st);
	if (rc != MB_ROW)
		return -1;
	if (s->n == 0) {
		memset(s, 0, sizeof(*s));
		return 0;
	}
	if (weight < 1)
		weight = 1;
	s->weight = s->n + s->agents * (weight - 1);
	lower = (s->weight - 1) / 2;

	/* The middle one or two of the sorted (weighted) list. */
	weighted = s->agents > 0 && weight > 1;
	if (weighted)
		st = host->query(ctx, market != NULL ?
		    prices_store_sql_median_weighted :
		    prices_store_sql_median_all_weighted);
	else
		st = host->query(ctx, market != NULL ? prices_store_sql_median :
		    prices_store_sql_median_all);
	if (st == NULL)
		return -1;
	if (prices_store_bind_board(host, st, commodity, market, from,
	    to) == -1 || host->bind_int(st, 4 + k, lower) != 0 ||
	    (weighted && host->bind_int(st, 5 + k, weight) != 0))
		return prices_store_unbound(host, st);
	while (got < 2 && (rc = host->step(st)) == MB_ROW)
		v[got++] = host->column_int(st, 0);
	host->done(st);
	if (got < 2 && rc != MB_DONE)
		return -1;
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
	    " WHERE commodity = $1 AND status = 'ok'"
	    " AND created > $2 AND created <= $3"
	    " GROUP BY market ORDER BY n DESC, market LIMIT 100";
	struct mb_stmt	*st;
	const char	*code, *r;
	int		 rc = MB_DONE;

	*n = 0;
	if ((st = host->query(ctx, sql)) == NULL)
		return -1;
	if ((host->bind_text(st, 1, commodity) | host->bind_int(st, 2, from) |
	    host->bind_int(st, 3, to)) != 0)
		return prices_store_unbound(host, st);
	while (*n < max && (rc = host->step(st)) == MB_ROW) {
		code = host->column_text(st, 0);
		if (code == NULL || strlen(code) >= PRICES_CODE_MAX)
			continue;
		if (region != NULL && ((r = host->market_region(ctx, code)) ==
		    NULL || strcmp(r, region) != 0))
			continue;
		snprintf(out[(*n)++], PRICES_CODE_MAX, "%s", code);
	}
	host->done(st);
	if (*n < max && rc != MB_DONE)
		return -1;
	return 0;
}

/*
 * Does the market plugin's table (market_posts, market_pools,
 * market_pool_shares) exist?  Plugins load in any order and the market
 * plugin may be added later, so the answer is looked up until it is yes,
 * then kept in *known (a table does not go away under a running daemon).
 * Each engine has its own catalogue: the one statement written twice,
 * the table's name bound.  1 or 0 (a failure to ask is taken as no: the
 * caller goes without the table).
 */
static int
prices_store_has_table(struct mb_ctx *ctx, const struct mb_host *host,
    const char *table, int *known)
{
	static const char sql_sqlite[] =
	    "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = $1";
	static const char sql_pg[] =
	    "SELECT 1 FROM pg_catalog.pg_tables WHERE tablename = $1"
	    " AND schemaname = current_schema()";
	struct mb_stmt	*st;
	const char	*engine;

	if (*known)
		return 1;
	engine = host->engine(ctx);
	if ((st = host->query(ctx, engine != NULL &&
	    strcmp(engine, "postgresql") == 0 ? sql_pg : sql_sqlite)) == NULL)
		return 0;
	if (host->bind_text(st, 1, table) != 0) {
		prices_store_unbound(host, st);
		return 0;
	}
	*known = host->step(st) == MB_ROW;
	host->done(st);
	return *known;
}

static int
prices_store_has_posts(struct mb_ctx *ctx, const struct mb_host *host,
    struct prices_state *ps)
{
	return prices_store_has_table(ctx, host, "market_posts",
	    &ps->has_posts);
}

static int
prices_store_has_pools(struct mb_ctx *ctx, const struct mb_host *host,
    struct prices_state *ps)
{
	return prices_store_has_table(ctx, host, "market_pools",
	    &ps->has_pools);
}

static int
prices_store_has_shares(struct mb_ctx *ctx, const struct mb_host *host,
    struct prices_state *ps)
{
	return prices_store_has_table(ctx, host, "market_pool_shares",
	    &ps->has_shares);
}

/*
 * Add code to the sorted list out (n of max) when it is a market of
 * region and not there yet: 0, or 1 when the list is full.
 */
static int
prices_store_region_add(struct mb_ctx *ctx, const struct mb_host *host,
    const char *region, const char *code, char out[][PRICES_CODE_MAX],
    size_t max, size_t *n)
{
	const char	*r;
	size_t		 i;
	int		 c = 1;

	if (code == NULL || code[0] == '\0' ||
	    strlen(code) >= PRICES_CODE_MAX ||
	    (r = host->market_region(ctx, code)) == NULL ||
	    strcmp(r, region) != 0)
		return 0;
	for (i = 0; i < *n && (c = strcmp(out[i], code)) < 0; i++)
		;
	if (i < *n && c == 0)
		return 0;
	if (*n == max)
		return 1;
	memmove(out[i + 1], out[i], (*n - i) * sizeof(out[0]));
	snprintf(out[i], PRICES_CODE_MAX, "%s", code);
	(*n)++;
	return 0;
}

/*
 * The region's markets in one source: sql gives distinct market codes in
 * order, after the one bound after the others, at most the number bound
 * last.  Its parameters: $1 commodity, then unit when not NULL, then now
 * when with_now, then the code after, then the page (no parameter a
 * source has no use for: PostgreSQL must type each).  Run page after
 * page until a page is short.  0, 1 when out is full, -2 when the
 * statement cannot be prepared (a table of another shape than this
 * plugin knows: the host has logged why), or -1.
 */
static int
prices_store_region_source(struct mb_ctx *ctx, const struct mb_host *host,
    const char *sql, const char *commodity, const char *unit, int with_now,
    long long now, const char *region, char out[][PRICES_CODE_MAX],
    size_t max, size_t *n)
{
	enum { PAGE = 32 };
	struct mb_stmt	*st;
	char		 last[PRICES_CODE_MAX] = "";
	const char	*code;
	int		 rc, b, i, full = 0;
	size_t		 got;

	do {
		if ((st = host->query(ctx, sql)) == NULL)
			return -2;
		i = 1;
		b = host->bind_text(st, i++, commodity);
		if (unit != NULL)
			b |= host->bind_text(st, i++, unit);
		if (with_now)
			b |= host->bind_int(st, i++, now);
		b |= host->bind_text(st, i++, last);
		b |= host->bind_int(st, i, PAGE);
		if (b != 0)
			return prices_store_unbound(host, st);
		got = 0;
		while ((rc = host->step(st)) == MB_ROW) {
			got++;
			if ((code = host->column_text(st, 0)) == NULL)
				continue;
			/* a code too long for last is no catalogue market;
			   paging after its first bytes would meet it again:
			   the source ends there (logged) */
			if (strlen(code) >= sizeof(last)) {
				host->log(ctx, MB_LOG_WARNING, "prices: a "
				    "market code of %zu bytes ends the list of "
				    "%s's markets", strlen(code), commodity);
				got = 0;
				break;
			}
			snprintf(last, sizeof(last), "%s", code);
			if (!full)
				full = prices_store_region_add(ctx, host,
				    region, code, out, max, n);
		}
		host->done(st);
		if (rc == MB_ERROR)
			return -1;
	} while (got == PAGE && !full);
	return full;
}

/*
 * Bind the market codes markets[from .. from + PRICES_IN_MAX) to the
 * parameters first, first + 1 ...: NULL for those past n (market IN
 * (..., NULL) never matches them).  0 or -1.
 */
#define PRICES_IN_MAX	8
static int
prices_store_bind_in(const struct mb_host *host, struct mb_stmt *st,
    int first, const char markets[][PRICES_CODE_MAX], size_t from, size_t n)
{
	size_t	 i;
	int	 b = 0;

	for (i = 0; i < PRICES_IN_MAX; i++)
		b |= from + i < n ? host->bind_text(st, first + (int)i,
		    markets[from + i]) : host->bind_null(st, first + (int)i);
	return b;
}

/* The board's offers: PRICES_SQL_OFFERS, prices_sql.h. */

/*
 * Add offer (ref, price, qty, farmers, rep: its seller's record, NULL
 * for none) to b's cheapest PRICES_OFFERS.
 */
static void
prices_store_offer_add(struct prices_board *b, long long ref, long long price,
    long long qty, long long farmers, const struct prices_rep *rep)
{
	size_t	 i, j;

	for (i = 0; i < b->noffers && (b->offer_price[i] < price ||
	    (b->offer_price[i] == price && b->offer_ref[i] < ref)); i++)
		;
	if (i == PRICES_OFFERS || (i < b->noffers && b->offer_ref[i] == ref))
		return;
	j = b->noffers < PRICES_OFFERS ? b->noffers++ : PRICES_OFFERS - 1;
	for (; j > i; j--) {
		b->offer_ref[j] = b->offer_ref[j - 1];
		b->offer_price[j] = b->offer_price[j - 1];
		b->offer_qty[j] = b->offer_qty[j - 1];
		b->offer_farmers[j] = b->offer_farmers[j - 1];
		b->offer_rep[j] = b->offer_rep[j - 1];
	}
	b->offer_ref[i] = ref;
	b->offer_price[i] = price;
	b->offer_qty[i] = qty;
	b->offer_farmers[i] = farmers;
	if (rep != NULL)
		b->offer_rep[i] = *rep;
	else
		memset(&b->offer_rep[i], 0, sizeof(b->offer_rep[i]));
}

/*
 * The tables of the market plugin a record is counted from (besides
 * market_orders and market_pools, which they refer to): all there, or
 * the board goes without records.
 */
static int
prices_store_has_rep(struct mb_ctx *ctx, const struct mb_host *host,
    struct prices_state *ps)
{
	return !ps->rep_broken &&
	    prices_store_has_table(ctx, host, "market_legs", &ps->has_legs) &&
	    prices_store_has_table(ctx, host, "market_disputes",
	    &ps->has_disputes) &&
	    prices_store_has_table(ctx, host, "market_ratings",
	    &ps->has_ratings);
}

/*
 * Are the tables of a record of the shape this plugin reads
 * (market_rep_sql.h's columns)?  Asked of the catalogue, column by
 * column, only when the board's statement with the records cannot be
 * made: 1 all there (the failure was something else, a passing one:
 * tried again next time), 0 a column missing (another shape, an older
 * market plugin: the records are given up until a restart), -1 the
 * catalogue cannot be asked either (taken as passing).
 */
static int
prices_store_rep_shape(struct mb_ctx *ctx, const struct mb_host *host)
{
	static const char sql_sqlite[] =
	    "SELECT 1 FROM pragma_table_info($1) WHERE name = $2";
	static const char sql_pg[] =
	    "SELECT 1 FROM information_schema.columns WHERE table_name = $1"
	    " AND column_name = $2 AND table_schema = current_schema()";
	static const char *const cols[][2] = {
		{ "market_orders", "buyer" }, { "market_orders", "seller" },
		{ "market_orders", "state" }, { "market_orders", "parent" },
		{ "market_orders", "offer" }, { "market_orders", "want" },
		{ "market_orders", "cancelled_by" },
		{ "market_pools", "kind" },
		{ "market_legs", "carrier" }, { "market_legs", "state" },
		{ "market_legs", "due_at" }, { "market_legs", "ended" },
		{ "market_disputes", "order_ref" },
		{ "market_disputes", "state" },
		{ "market_disputes", "decision" },
		{ "market_ratings", "rated" }, { "market_ratings", "stars" },
	};
	struct mb_stmt	*st;
	const char	*engine;
	size_t		 i;
	int		 rc;

	engine = host->engine(ctx);
	for (i = 0; i < sizeof(cols) / sizeof(cols[0]); i++) {
		if ((st = host->query(ctx, engine != NULL &&
		    strcmp(engine, "postgresql") == 0 ? sql_pg :
		    sql_sqlite)) == NULL)
			return -1;
		if ((host->bind_text(st, 1, cols[i][0]) |
		    host->bind_text(st, 2, cols[i][1])) != 0) {
			prices_store_unbound(host, st);
			return -1;
		}
		rc = host->step(st);
		host->done(st);
		if (rc == MB_DONE) {
			host->log(ctx, MB_LOG_WARNING, "prices: %s has no "
			    "column %s: the market plugin's records are of "
			    "another shape", cols[i][0], cols[i][1]);
			return 0;
		}
		if (rc != MB_ROW)
			return -1;
	}
	return 1;
}

int
prices_store_offers(struct mb_ctx *ctx, const struct mb_host *host,
    struct prices_state *ps, const char *commodity, const char *market,
    struct prices_board *b)
{
	/* [pools][rep][one region] */
	static const char sql_all[] = PRICES_SQL_OFFERS("0", "", "");
	static const char sql_in[] = PRICES_SQL_OFFERS("0", "", PRICES_SQL_IN);
	static const char sql_pools_all[] =
	    PRICES_SQL_OFFERS(PRICES_SQL_FARMERS, "", "");
	static const char sql_pools_in[] =
	    PRICES_SQL_OFFERS(PRICES_SQL_FARMERS, "", PRICES_SQL_IN);
	static const char sql_rep_all[] =
	    PRICES_SQL_OFFERS("0", PRICES_SQL_REP, "");
	static const char sql_rep_in[] =
	    PRICES_SQL_OFFERS("0", PRICES_SQL_REP, PRICES_SQL_IN);
	static const char sql_pools_rep_all[] =
	    PRICES_SQL_OFFERS(PRICES_SQL_FARMERS, PRICES_SQL_REP, "");
	static const char sql_pools_rep_in[] =
	    PRICES_SQL_OFFERS(PRICES_SQL_FARMERS, PRICES_SQL_REP,
	    PRICES_SQL_IN);
	static const char * const sqls[2][2][2] = {
		{ { sql_all, sql_in }, { sql_rep_all, sql_rep_in } },
		{ { sql_pools_all, sql_pools_in },
		    { sql_pools_rep_all, sql_pools_rep_in } },
	};
	/* the markets with an offer, as prices_store_region_markets reads
	   them */
	static const char sql_markets[] =
	    "SELECT DISTINCT market FROM market_posts"
	    " WHERE kind = 'offer' AND state = 'open' AND qty_left > 0"
	    " AND commodity = $1 AND unit = $2"
	    " AND (expires IS NULL OR expires > $3)"
	    " AND market > $4 ORDER BY market LIMIT $5";
	char		 markets[PRICES_SEASON_MARKETS][PRICES_CODE_MAX];
	struct mb_stmt	*st;
	struct prices_rep r;
	const char	*unit, *region = NULL, *sql;
	size_t		 nm = 0, k = 0;
	int		 pools, rep, rc, bound, i;

	b->noffers = 0;
	if (!prices_store_has_posts(ctx, host, ps))
		return 0;
	if ((unit = host->commodity_unit(ctx, commodity)) == NULL)
		return 0;
	pools = prices_store_has_pools(ctx, host, ps) &&
	    prices_store_has_shares(ctx, host, ps);
	if (market != NULL) {
		/* the market and the others of its region, chosen in SQL:
		   their codes are bound */
		if ((region = host->market_region(ctx, market)) != NULL &&
		    (rc = prices_store_region_source(ctx, host, sql_markets,
		    commodity, unit, 1, b->now, region, markets,
		    PRICES_SEASON_MARKETS, &nm)) < 0) {
			if (rc == -1)
				return -1;
			host->log(ctx, MB_LOG_WARNING, "prices: market_posts "
			    "cannot be read: the board goes without offers");
			return 0;
		}
		if (region == NULL && strlen(market) < PRICES_CODE_MAX)
			snprintf(markets[nm++], PRICES_CODE_MAX, "%s", market);
		if (nm == 0)
			return 0;
	}
	rep = prices_store_has_rep(ctx, host, ps);
	do {
		sql = sqls[pools][rep][market != NULL];
		if ((st = host->query(ctx, sql)) == NULL && rep) {
			/* the host has logged the cause: the offers without
			   records this time; given up for good only when the
			   tables are of another shape than this plugin knows
			   (an older market plugin), else tried again on the
			   next board (a passing failure) */
			host->log(ctx, MB_LOG_WARNING, "prices: the market "
			    "plugin's records cannot be read: the board's "
			    "offers go without them");
			if (prices_store_rep_shape(ctx, host) == 0)
				ps->rep_broken = 1;
			rep = 0;
			sql = sqls[pools][rep][market != NULL];
			st = host->query(ctx, sql);
		}
		if (st == NULL) {
			/* another shape of market_posts than this plugin
			   knows (the host has logged the cause): the board
			   goes without offers rather than not at all */
			host->log(ctx, MB_LOG_WARNING, "prices: market_posts "
			    "cannot be read: the board goes without offers");
			b->noffers = 0;
			return 0;
		}
		bound = host->bind_text(st, 1, commodity) |
		    host->bind_text(st, 2, unit) |
		    host->bind_int(st, 3, b->now) |
		    host->bind_int(st, 4, PRICES_OFFERS);
		if (market != NULL)
			bound |= prices_store_bind_in(host, st, 5,
			    (const char (*)[PRICES_CODE_MAX])markets, k, nm);
		if (bound != 0)
			return prices_store_unbound(host, st);
		while ((rc = host->step(st)) == MB_ROW) {
			long long	 v[MARKET_REP_SQL_NCOLUMNS];

			for (i = 0; rep && i < MARKET_REP_SQL_NCOLUMNS; i++)
				v[i] = host->column_int(st, 4 + i);
			if (rep) {
				/* what the board says of a seller: her
				   trades, what went wrong by her (cancelled,
				   rejected, expired, late legs, disputes
				   lost), her stars */
				r.known = 1;
				r.trades = v[0];
				r.failed = v[1] + v[2] + v[3] + v[4] + v[5];
				r.rated = v[6];
				r.stars = v[7];
			}
			prices_store_offer_add(b, host->column_int(st, 0),
			    host->column_int(st, 1), host->column_int(st, 2),
			    host->column_int(st, 3), rep ? &r : NULL);
		}
		host->done(st);
		/* a failed step (logged) leaves the offers found before it */
		if (rc == MB_ERROR)
			break;
		k += PRICES_IN_MAX;
	} while (market != NULL && k < nm);
	return 0;
}

int
prices_store_report(struct mb_ctx *ctx, const struct mb_host *host,
    const char *commodity, const char *market, long long price,
    const char *msisdn, int agent, const char *status, long long now)
{
	static const char sql[] =
	    "INSERT INTO prices_reports (commodity, market, price, msisdn,"
	    " agent, status, created) VALUES ($1, $2, $3, $4, $5, $6, $7)";
	struct mb_stmt	*st;

	if ((st = host->query(ctx, sql)) == NULL)
		return -1;
	if ((host->bind_text(st, 1, commodity) |
	    host->bind_text(st, 2, market) | host->bind_int(st, 3, price) |
	    host->bind_text(st, 4, msisdn) | host->bind_int(st, 5, agent != 0) |
	    host->bind_text(st, 6, status) | host->bind_int(st, 7, now)) != 0)
		return prices_store_unbound(host, st);
	return prices_store_run(host, st);
}

/* Run a statement that returns no row, with two texts bound. */
static int
prices_store_exec2(struct mb_ctx *ctx, const struct mb_host *host,
    const char *sql, const char *a, const char *b)
{
	struct mb_stmt	*st;

	if ((st = host->query(ctx, sql)) == NULL)
		return -1;
	if ((host->bind_text(st, 1, a) | host->bind_text(st, 2, b)) != 0)
		return prices_store_unbound(host, st);
	return prices_store_run(host, st);
}

int
prices_store_dirty(struct mb_ctx *ctx, const struct mb_host *host,
    const char *commodity, const char *market)
{
	static const char sql[] =
	    "INSERT INTO prices_dirty (commodity, market) VALUES ($1, $2)"
	    " ON CONFLICT (commodity, market) DO NOTHING";

	return prices_store_exec2(ctx, host, sql, commodity, market);
}

int
prices_store_dirty_take(struct mb_ctx *ctx, const struct mb_host *host,
    char commodity[][PRICES_CODE_MAX], char market[][PRICES_CODE_MAX],
    size_t max, size_t *n)
{
	static const char sql[] =
	    "SELECT commodity, market FROM prices_dirty LIMIT $1";
	struct mb_stmt	*st;
	int		 rc = MB_DONE;

	*n = 0;
	if ((st = host->query(ctx, sql)) == NULL)
		return -1;
	if (host->bind_int(st, 1, (long long)max) != 0)
		return prices_store_unbound(host, st);
	while (*n < max && (rc = host->step(st)) == MB_ROW) {
		prices_store_text(host, st, 0, commodity[*n], PRICES_CODE_MAX);
		prices_store_text(host, st, 1, market[*n], PRICES_CODE_MAX);
		(*n)++;
	}
	host->done(st);
	if (*n < max && rc != MB_DONE)
		return -1;
	return 0;
}

int
prices_store_dirty_done(struct mb_ctx *ctx, const struct mb_host *host,
    const char *commodity, const char *market)
{
	static const char sql[] =
	    "DELETE FROM prices_dirty WHERE commodity = $1 AND market = $2";

	return prices_store_exec2(ctx, host, sql, commodity, market);
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
	/* fired against the side of the threshold the median is on now,
	   as 0 or 1 (a comparison is a boolean, not an integer, in
	   PostgreSQL) */
	static const char sql[] =
	    "SELECT a.id, a.msisdn, a.op, a.threshold, a.fired"
	    " FROM prices_alerts AS a"
	    " WHERE a.commodity = $1 AND a.market = $2 AND a.op <> ''"
	    " AND a.fired <> CASE"
	    " WHEN a.op = '>' AND $3 > a.threshold THEN 1"
	    " WHEN a.op = '<' AND $3 < a.threshold THEN 1"
	    " ELSE 0 END"
	    " ORDER BY a.id LIMIT $4";
	struct mb_stmt	*st;
	struct prices_sub *s;
	const char	*op;
	int		 rc = MB_DONE;

	*n = 0;
	if ((st = host->query(ctx, sql)) == NULL)
		return -1;
	if ((host->bind_text(st, 1, commodity) |
	    host->bind_text(st, 2, market) | host->bind_int(st, 3, median) |
	    host->bind_int(st, 4, (long long)max)) != 0)
		return prices_store_unbound(host, st);
	while (*n < max && (rc = host->step(st)) == MB_ROW) {
		s = &subs[(*n)++];
		memset(s, 0, sizeof(*s));
		s->id = host->column_int(st, 0);
		prices_store_text(host, st, 1, s->msisdn, sizeof(s->msisdn));
		snprintf(s->commodity, sizeof(s->commodity), "%s", commodity);
		snprintf(s->market, sizeof(s->market), "%s", market);
		op = host->column_text(st, 2);
		s->op = op != NULL ? op[0] : 0;
		s->threshold = host->column_int(st, 3);
		s->fired = host->column_int(st, 4) != 0;
	}
	host->done(st);
	if (*n < max && rc != MB_DONE)
		return -1;
	return prices_store_fill_opt_out(ctx, host, subs, *n);
}

int
prices_store_set_fired(struct mb_ctx *ctx, const struct mb_host *host,
    long long id, int fired)
{
	static const char sql[] =
	    "UPDATE prices_alerts SET fired = $2 WHERE id = $1";
	struct mb_stmt	*st;

	if ((st = host->query(ctx, sql)) == NULL)
		return -1;
	if ((host->bind_int(st, 1, id) | host->bind_int(st, 2,
	    fired != 0)) != 0)
		return prices_store_unbound(host, st);
	return prices_store_run(host, st);
}

int
prices_store_alert_set(struct mb_ctx *ctx, const struct mb_host *host,
    const char *msisdn, const char *commodity, const char *market, char op,
    long long threshold, int fired, long long now, int max)
{
	static const char sql_find[] =
	    "SELECT id FROM prices_alerts WHERE msisdn = $1"
	    " AND commodity = $2 AND market = $3 AND op = $4";
	static const char sql_count[] =
	    "SELECT count(*) FROM prices_alerts WHERE msisdn = $1";
	static const char sql_update[] =
	    "UPDATE prices_alerts SET threshold = $2, fired = $3 WHERE id = $1";
	static const char sql_insert[] =
	    "INSERT INTO prices_alerts (msisdn, commodity, market, op,"
	    " threshold, fired, created) VALUES ($1, $2, $3, $4, $5, $6, $7)";
	struct mb_stmt	*st;
	char		 ops[2] = { op, '\0' };
	long long	 id = 0, n = 0;
	int		 rc, b;

	if ((st = host->query(ctx, sql_find)) == NULL)
		return -1;
	if ((host->bind_text(st, 1, msisdn) |
	    host->bind_text(st, 2, commodity) |
	    host->bind_text(st, 3, market) | host->bind_text(st, 4, ops)) != 0)
		return prices_store_unbound(host, st);
	if ((rc = host->step(st)) == MB_ROW)
		id = host->column_int(st, 0);
	host->done(st);
	if (rc == MB_ERROR)
		return -1;
	if (id == 0) {
		/* a new one: within the phone's allowance? */
		if ((st = host->query(ctx, sql_count)) == NULL)
			return -1;
		if (host->bind_text(st, 1, msisdn) != 0)
			return prices_store_unbound(host, st);
		if ((rc = host->step(st)) == MB_ROW)
			n = host->column_int(st, 0);
		host->done(st);
		if (rc != MB_ROW)
			return -1;
		if (n >= max)
			return 1;
	}
	if (id != 0) {
		if ((st = host->query(ctx, sql_update)) == NULL)
			return -1;
		b = host->bind_int(st, 1, id);
	} else {
		if ((st = host->query(ctx, sql_insert)) == NULL)
			return -1;
		b = host->bind_text(st, 1, msisdn);
		b |= host->bind_text(st, 2, commodity);
		b |= host->bind_text(st, 3, market);
		b |= host->bind_text(st, 4, ops);
		b |= host->bind_int(st, 7, now);
	}
	if (op != 0) {
		b |= host->bind_int(st, id != 0 ? 2 : 5, threshold);
		b |= host->bind_int(st, id != 0 ? 3 : 6, fired != 0);
	} else {
		b |= host->bind_null(st, id != 0 ? 2 : 5);
		b |= host->bind_int(st, id != 0 ? 3 : 6, 0);
	}
	if (b != 0)
		return prices_store_unbound(host, st);
	return prices_store_run(host, st);
}

int
prices_store_alert_off(struct mb_ctx *ctx, const struct mb_host *host,
    const char *msisdn, const char *commodity)
{
	static const char sql_all[] =
	    "DELETE FROM prices_alerts WHERE msisdn = $1";
	static const char sql_one[] =
	    "DELETE FROM prices_alerts WHERE msisdn = $1 AND commodity = $2";
	struct mb_stmt	*st;

	if ((st = host->query(ctx, commodity != NULL ? sql_one : sql_all)) ==
	    NULL)
		return -1;
	if (host->bind_text(st, 1, msisdn) != 0 || (commodity != NULL &&
	    host->bind_text(st, 2, commodity) != 0))
		return prices_store_unbound(host, st);
	if (prices_store_run(host, st) == -1)
		return -1;
	return (int)host->changes(ctx);
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
		host->log(ctx, MB_LOG_ERROR, "prices: whether a subscriber "
		    "sent STOP cannot be read");
	return out;
}

int
prices_store_cursor(struct mb_ctx *ctx, const struct mb_host *host,
    long long *day, long long *cursor, int *done)
{
	static const char sql[] =
	    "SELECT day, cursor, done FROM prices_bulletin WHERE id = 1";
	struct mb_stmt	*st;
	int		 rc;

	if ((st = host->query(ctx, sql)) == NULL)
		return -1;
	if ((rc = host->step(st)) == MB_ROW) {
		*day = host->column_int(st, 0);
		*cursor = host->column_int(st, 1);
		*done = host->column_int(st, 2) != 0;
	}
	host->done(st);
	if (rc == MB_DONE)
		host->log(ctx, MB_LOG_ERROR, "prices: prices_bulletin has "
		    "no row");
	return rc == MB_ROW ? 0 : -1;
}

int
prices_store_cursor_set(struct mb_ctx *ctx, const struct mb_host *host,
    long long day, long long cursor, int done)
{
	static const char sql[] =
	    "UPDATE prices_bulletin SET day = $1, cursor = $2, done = $3"
	    " WHERE id = 1";
	struct mb_stmt	*st;

	if ((st = host->query(ctx, sql)) == NULL)
		return -1;
	if ((host->bind_int(st, 1, day) | host->bind_int(st, 2, cursor) |
	    host->bind_int(st, 3, done != 0)) != 0)
		return prices_store_unbound(host, st);
	return prices_store_run(host, st);
}

/* The bulletin's subscribers, with whether each sent STOP. */
int
prices_store_bulletin_subs(struct mb_ctx *ctx, const struct mb_host *host,
    long long after, struct prices_sub *subs, size_t max, size_t *n)
{
	static const char sql[] =
	    "SELECT a.id, a.msisdn, a.commodity, a.market"
	    " FROM prices_alerts AS a"
	    " WHERE a.id > $1 AND a.op = ''"
	    " ORDER BY a.id LIMIT $2";
	struct mb_stmt	*st;
	struct prices_sub *s;
	int		 rc = MB_DONE;

	*n = 0;
	if ((st = host->query(ctx, sql)) == NULL)
		return -1;
	if ((host->bind_int(st, 1, after) |
	    host->bind_int(st, 2, (long long)max)) != 0)
		return prices_store_unbound(host, st);
	while (*n < max && (rc = host->step(st)) == MB_ROW) {
		s = &subs[(*n)++];
		memset(s, 0, sizeof(*s));
		s->id = host->column_int(st, 0);
		prices_store_text(host, st, 1, s->msisdn, sizeof(s->msisdn));
		prices_store_text(host, st, 2, s->commodity,
		    sizeof(s->commodity));
		prices_store_text(host, st, 3, s->market, sizeof(s->market));
	}
	host->done(st);
	if (*n < max && rc != MB_DONE)
		return -1;
	return prices_store_fill_opt_out(ctx, host, subs, *n);
}

/* --- seasonal reminders ---------------------------------------------------- */

int
prices_store_region_markets(struct mb_ctx *ctx, const struct mb_host *host,
    struct prices_state *ps, const char *commodity, const char *region,
    long long now, char out[][PRICES_CODE_MAX], size_t max, size_t *n)
{
	/* an alert for all markets counts at the subscriber's own */
	static const char sql_subs[] =
	    "SELECT DISTINCT coalesce(nullif(a.market, ''), u.market)"
	    " FROM prices_alerts AS a LEFT JOIN users AS u"
	    " ON u.msisdn = a.msisdn"
	    " WHERE a.commodity = $1"
	    " AND coalesce(nullif(a.market, ''), u.market) > $2"
	    " ORDER BY 1 LIMIT $3";
	static const char sql_offers[] =
	    "SELECT DISTINCT market FROM market_posts"
	    " WHERE kind = 'offer' AND state = 'open' AND qty_left > 0"
	    " AND commodity = $1 AND unit = $2"
	    " AND (expires IS NULL OR expires > $3)"
	    " AND market > $4 ORDER BY market LIMIT $5";
	static const char sql_pools[] =
	    "SELECT DISTINCT market FROM market_pools"
	    " WHERE kind = 'want' AND state = 'open' AND commodity = $1"
	    " AND deadline > $2"
	    " AND market > $3 ORDER BY market LIMIT $4";
	const char	*unit;
	int		 rc;

	*n = 0;
	if ((rc = prices_store_region_source(ctx, host, sql_subs, commodity,
	    NULL, 0, now, region, out, max, n)) == 0 &&
	    prices_store_has_posts(ctx, host, ps) &&
	    (unit = host->commodity_unit(ctx, commodity)) != NULL &&
	    (rc = prices_store_region_source(ctx, host, sql_offers,
	    commodity, unit, 1, now, region, out, max, n)) == -2) {
		/* the market plugin's tables of another shape: the reminders
		   go without what they cannot read, not without reminders */
		host->log(ctx, MB_LOG_WARNING, "prices: market_posts cannot "
		    "be read: reminders go without offers");
		rc = 0;
	}
	if (rc == 0 && prices_store_has_pools(ctx, host, ps) &&
	    (rc = prices_store_region_source(ctx, host, sql_pools,
	    commodity, NULL, 1, now, region, out, max, n)) == -2) {
		host->log(ctx, MB_LOG_WARNING, "prices: market_pools cannot "
		    "be read: reminders go without pools");
		rc = 0;
	}
	if (rc == 1)
		host->log(ctx, MB_LOG_WARNING, "prices: region %s has more "
		    "than %zu markets with %s: reminders look at the first "
		    "%zu by code", region, max, commodity, max);
	return rc < 0 ? -1 : 0;
}

int
prices_store_season_subs(struct mb_ctx *ctx, const struct mb_host *host,
    const char *season, long long year, long long remind,
    const char *commodity, const char *market, char out[][32], size_t max,
    size_t *n)
{
	static const char sql[] =
	    "SELECT a.msisdn FROM prices_alerts AS a LEFT JOIN users AS u"
	    " ON u.msisdn = a.msisdn"
	    " WHERE a.commodity = $1"
	    " AND coalesce(nullif(a.market, ''), u.market) = $2"
	    " AND NOT EXISTS (SELECT 1 FROM prices_season_sent AS s"
	    "  WHERE s.season = $3 AND s.year = $4 AND s.remind = $5"
	    "  AND s.msisdn = a.msisdn)"
	    " GROUP BY a.msisdn ORDER BY min(a.id) LIMIT $6";
	struct mb_stmt	*st;
	const char	*who;
	int		 rc;

	*n = 0;
	if ((st = host->query(ctx, sql)) == NULL)
		return -1;
	if ((host->bind_text(st, 1, commodity) |
	    host->bind_text(st, 2, market) | host->bind_text(st, 3, season) |
	    host->bind_int(st, 4, year) | host->bind_int(st, 5, remind) |
	    host->bind_int(st, 6, (long long)max)) != 0)
		return prices_store_unbound(host, st);
	while (*n < max && (rc = host->step(st)) == MB_ROW) {
		who = host->column_text(st, 0);
		if (who != NULL && strlen(who) < 32)
			snprintf(out[(*n)++], 32, "%s", who);
	}
	if (*n < max && rc != MB_DONE) {
		host->done(st);
		return -1;
	}
	host->done(st);
	return 0;
}

int
prices_store_season_told(struct mb_ctx *ctx, const struct mb_host *host,
    const char *season, long long year, long long remind, const char *msisdn,
    const char *commodity, int told, long long now)
{
	static const char sql[] =
	    "INSERT INTO prices_season_sent (season, year, remind, msisdn,"
	    " commodity, told, sent) VALUES ($1, $2, $3, $4, $5, $6, $7)";
	struct mb_stmt	*st;

	if ((st = host->query(ctx, sql)) == NULL)
		return -1;
	if ((host->bind_text(st, 1, season) | host->bind_int(st, 2, year) |
	    host->bind_int(st, 3, remind) | host->bind_text(st, 4, msisdn) |
	    host->bind_text(st, 5, commodity) |
	    host->bind_int(st, 6, told != 0) | host->bind_int(st, 7, now)) != 0)
		return prices_store_unbound(host, st);
	return prices_store_run(host, st);
}

int
prices_store_season_offer(struct mb_ctx *ctx, const struct mb_host *host,
    struct prices_state *ps, const char *commodity,
    const char markets[][PRICES_CODE_MAX], size_t nmarkets, long long now,
    struct prices_season_deal *d)
{
	/* the cheapest at PRICES_IN_MAX of the region's markets */
	static const char sql[] =
	    "SELECT ref, price, market FROM market_posts"
	    " WHERE kind = 'offer' AND state = 'open' AND qty_left > 0"
	    " AND commodity = $1 AND unit = $2"
	    " AND (expires IS NULL OR expires > $3) AND price > 0"
	    " AND market IN ($4, $5, $6, $7, $8, $9, $10, $11)"
	    " ORDER BY price, ref LIMIT 1";
	struct mb_stmt	*st;
	const char	*unit, *m;
	long long	 ref, price;
	size_t		 k;
	int		 rc;

	d->offer_ref = 0;
	if (!prices_store_has_posts(ctx, host, ps) ||
	    (unit = host->commodity_unit(ctx, commodity)) == NULL)
		return 0;
	for (k = 0; k < nmarkets; k += PRICES_IN_MAX) {
		if ((st = host->query(ctx, sql)) == NULL) {
			host->log(ctx, MB_LOG_WARNING, "prices: market_posts "
			    "cannot be read: reminders go without offers");
			return 0;
		}
		if ((host->bind_text(st, 1, commodity) |
		    host->bind_text(st, 2, unit) | host->bind_int(st, 3, now) |
		    prices_store_bind_in(host, st, 4, markets, k,
		    nmarkets)) != 0)
			return prices_store_unbound(host, st);
		if ((rc = host->step(st)) == MB_ROW) {
			ref = host->column_int(st, 0);
			price = host->column_int(st, 1);
			m = host->column_text(st, 2);
			if (m != NULL && strlen(m) < PRICES_CODE_MAX &&
			    (d->offer_ref == 0 || price < d->offer_price ||
			    (price == d->offer_price && ref < d->offer_ref))) {
				d->offer_ref = ref;
				d->offer_price = price;
				snprintf(d->offer_market,
				    sizeof(d->offer_market), "%s", m);
			}
		}
		host->done(st);
		if (rc == MB_ERROR)
			return -1;
	}
	return 0;
}

int
prices_store_season_pool(struct mb_ctx *ctx, const struct mb_host *host,
    struct prices_state *ps, const char *commodity,
    const char markets[][PRICES_CODE_MAX], size_t nmarkets, long long now,
    struct prices_season_deal *d)
{
	/* the open buying pool that closes first, at PRICES_IN_MAX of the
	   region's markets */
	static const char sql[] =
	    "SELECT ref, deadline FROM market_pools"
	    " WHERE kind = 'want' AND state = 'open' AND commodity = $1"
	    " AND deadline > $2"
	    " AND market IN ($3, $4, $5, $6, $7, $8, $9, $10)"
	    " ORDER BY deadline, ref LIMIT 1";
	struct mb_stmt	*st;
	long long	 ref, deadline;
	size_t		 k;
	int		 rc;

	d->pool_ref = 0;
	if (!prices_store_has_pools(ctx, host, ps))
		return 0;
	for (k = 0; k < nmarkets; k += PRICES_IN_MAX) {
		if ((st = host->query(ctx, sql)) == NULL) {
			host->log(ctx, MB_LOG_WARNING, "prices: market_pools "
			    "cannot be read: reminders go without pools");
			return 0;
		}
		if ((host->bind_text(st, 1, commodity) |
		    host->bind_int(st, 2, now) |
		    prices_store_bind_in(host, st, 3, markets, k,
		    nmarkets)) != 0)
			return prices_store_unbound(host, st);
		if ((rc = host->step(st)) == MB_ROW) {
			ref = host->column_int(st, 0);
			deadline = host->column_int(st, 1);
			if (d->pool_ref == 0 || deadline < d->pool_deadline ||
			    (deadline == d->pool_deadline &&
			    ref < d->pool_ref)) {
				d->pool_ref = ref;
				d->pool_deadline = deadline;
			}
		}
		host->done(st);
		if (rc == MB_ERROR)
			return -1;
	}
	return 0;
}
