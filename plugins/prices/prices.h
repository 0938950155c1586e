/*
 * prices.h - what the three files of the prices plugin share: its
 * configuration, the price board, the text helpers (prices_text.c) and
 * the store functions (prices_store.c, the only file with SQL).
 *
 * Internal to the plugin (and to its unit tests and benchmark, which
 * compile the plugin's files into their programs): nothing here is part
 * of marketbox's plugin interface, and the shared object exports only
 * marketbox_plugin.
 *
 * Money is an integer number of minor units (cents): 3000 shillings is
 * 300000.  No floating point touches a price.
 */
#ifndef MARKETBOX_PRICES_H
#define MARKETBOX_PRICES_H

#include <stddef.h>

#include <marketbox/plugin.h>

#define PRICES_CODE_MAX		64	/* bytes of a catalogue code, NUL too */
#define PRICES_OFFERS		3	/* best open offers on a board */
#define PRICES_MARKETS		3	/* markets named for no data */
#define PRICES_ALERTS_MAX	5	/* subscriptions per phone */
#define PRICES_MONEY_MAX	100000000000LL	/* 1e9 whole units */
#define PRICES_TIMER_INTERVAL	10	/* seconds between timer runs */
#define PRICES_SEASONS_MAX	32	/* seasons looked at (more: logged) */
#define PRICES_SEASON_MARKETS	128	/* markets of a region looked at
					   for an input (more: logged) */
#define PRICES_SEASON_RESCAN	3600	/* seconds before a season's round
					   found complete is looked at again
					   (for new subscribers) */

/* The plugin's conf group, parsed and checked at init. */
struct prices_conf {
	long long	 window;	/* seconds: the board's window */
	int		 agent_weight;	/* an agent's report counts so often */
	long long	 ratio100;	/* outlier ratio x 100 (300 = 3) */
	int		 bulletin_hour;	/* 0..23, local time */
	long long	 utc_offset;	/* seconds east of UTC */
	int		 batch;		/* subscribers per timer run */
	int		 bulletin_now;	/* the day's bulletin is due at once */
};

struct prices_board;

/* The plugin's state, hung on its context at init. */
struct prices_state {
	struct prices_conf conf;
	int		 has_posts;	/* the market plugin's table exists */
	int		 has_pools;	/* and its market_pools */
	int		 has_shares;	/* and its market_pool_shares */
	int		 has_legs;	/* and the tables of a record */
	int		 has_disputes;
	int		 has_ratings;
	int		 rep_broken;	/* of a shape not known: none */
	/* when each season's current reminder round was last found complete
	   (0: not yet), and for which start and reminder */
	long long	 season_done[PRICES_SEASONS_MAX];
	long long	 season_start[PRICES_SEASONS_MAX];
	long long	 season_remind[PRICES_SEASONS_MAX];
	/* the bulletin's boards, one per commodity and market (prices.c) */
	struct prices_board *boards;
	size_t		 nboards;
};

/*
 * Reports of one commodity at one market (or all) in one window.  n is the
 * number of published reports; weight counts agents' reports agent_weight
 * times (n + agents * (agent_weight - 1)); median is the weighted median
 * (see prices_store_stats); newest is the time of the latest report.  All
 * zero when n is 0.
 */
struct prices_stats {
	long long	 n, weight, agents;
	long long	 low, high, median;
	long long	 newest;
};

/*
 * An offer's seller's record as the board shows it (market_rep_sql.h
 * counts it): known 0 when the market plugin's tables of it are not
 * there.  failed: her orders cancelled, rejected or left to expire, her
 * late legs and her disputes lost, together.
 */
struct prices_rep {
	int		 known;
	long long	 trades, failed, rated, stars;	/* stars: their sum */
};

/*
 * Everything a board message needs, computed once (a bulletin sends the
 * same board to many subscribers).  market is "" for all markets.
 */
struct prices_board {
	char		 commodity[PRICES_CODE_MAX];
	char		 market[PRICES_CODE_MAX];
	long long	 now;
	struct prices_stats cur, prev;
	size_t		 noffers;
	long long	 offer_ref[PRICES_OFFERS];
	long long	 offer_price[PRICES_OFFERS];
	long long	 offer_qty[PRICES_OFFERS];	/* what is left */
	long long	 offer_farmers[PRICES_OFFERS];	/* a listed sell
							   pool's members,
							   0: a plain offer */
	struct prices_rep offer_rep[PRICES_OFFERS];	/* its seller's */
	/* with no data: the markets that have some, most reports first */
	size_t		 nmarkets;
	char		 markets[PRICES_MARKETS][PRICES_CODE_MAX];
};

/* One row of prices_alerts taken by the timer. */
struct prices_sub {
	long long	 id;
	char		 msisdn[32];
	char		 commodity[PRICES_CODE_MAX];
	char		 market[PRICES_CODE_MAX];
	char		 op;		/* '>' or '<', 0 for a daily bulletin */
	long long	 threshold;
	int		 fired;
	int		 opt_out;
};

/* Does this host's table reach function fn?  (marketbox-plugin(3)) */
#define PRICES_HOST_HAS(host, fn) \
	((host)->size >= offsetof(struct mb_host, fn) + sizeof((host)->fn) && \
	    (host)->fn != NULL)

#define PRICES_ARGS_MAX		20
#define PRICES_RUN_MS		50	/* a timer run stops its batch after */

/* Template arguments being gathered. */
struct prices_args {
	struct mb_arg	 a[PRICES_ARGS_MAX];
	size_t		 n;
};

/* --- prices.c: what prices_season.c uses too --------------------------- */

struct timespec;

void		 prices_arg(struct prices_args *, const char *name,
		    const char *value);
/* A reply (to NULL) or a notice (to msisdn): MB_OK or MB_FAIL. */
int		 prices_send(struct mb_ctx *, const struct mb_host *,
		    const char *to, const char *tmpl,
		    const struct prices_args *);
/* tmpl rendered for to (NULL: the sender) without sending it, or NULL */
const char	*prices_render(struct mb_ctx *, const struct mb_host *,
		    const char *to, const char *tmpl,
		    const struct prices_args *);
/* A market's name, else its code. */
const char	*prices_market_name(struct mb_ctx *, const struct mb_host *,
		    const char *code);
/* Milliseconds since started (CLOCK_MONOTONIC). */
long long	 prices_elapsed_ms(const struct timespec *started);
/*
 * Whether a timer run that started then has had its time: more than
 * prices_run_ms (PRICES_RUN_MS; the unit tests, which check what a run
 * sends and not how long it takes, widen it; -1 ends every run after
 * its first notice).
 */
extern long long prices_run_ms;
int		 prices_run_over(const struct timespec *started);

/* --- prices_season.c: seasonal reminders -------------------------------- */

/*
 * The planting seasons' reminders due at now, at most the conf's batch
 * a run (see prices_season.c).  0 or -1 on a store failure.
 */
int		 prices_seasons(struct mb_ctx *, const struct mb_host *,
		    struct prices_state *, long long now,
		    const struct timespec *started);

/* The offer and pool a seasonal reminder names (ref 0: none). */
struct prices_season_deal {
	long long	 offer_ref, offer_price;
	char		 offer_market[PRICES_CODE_MAX];
	long long	 pool_ref, pool_deadline;
};

/* --- prices_text.c: pure functions, no host ----------------------------- */

/*
 * A price as typed (after the host's normalisation: "3000", "2.50",
 * "2,5"; thousands separators and a "/=" suffix are accepted too) in
 * minor units.  0 and *out set when it is a price in (0, 1e9] with at
 * most two decimals, -1 otherwise.
 */
int		 prices_text_money_parse(const char *, long long *out);
/* minor units as shown: "3000" when whole, "2.50" otherwise */
void		 prices_text_money(long long, char *, size_t);
/* a duration "7d", "24h", "90m", "3600" (seconds) -> seconds, or -1 */
long long	 prices_text_duration_parse(const char *);
/*
 * Seconds s as a number of days, hours or minutes, the unit returned ('d',
 * 'h' or 'm') and the number in *n.  exact (a window): the largest unit
 * that divides s: 7 days, 36 hours, 90 minutes (seconds beyond whole
 * minutes are dropped).  Else (an age): the largest unit s holds once,
 * rounded down: 59 minutes, 3 hours, 2 days; under a minute is 1 minute.
 */
char		 prices_text_span(long long s, int exact, long long *n);
/* "+3", "-5", "+5:30", "0" -> seconds east of UTC in *out: 0, or -1
   when it is no offset in [-12h, +14h] */
int		 prices_text_offset_parse(const char *, long long *out);
/*
 * The change from prev to cur in percent, rounded half away from zero,
 * in integer arithmetic; prev must be > 0.
 */
long long	 prices_text_trend(long long prev, long long cur);

/* Days since 1970-01-01 of the date y-m-d (proleptic Gregorian). */
long long	 prices_text_civil_days(long long y, int m, int d);
/* The year of the date days since 1970-01-01. */
long long	 prices_text_civil_year(long long days);

/* --- prices_store.c: the plugin's SQL ----------------------------------- */

/*
 * The board's queries, as macros of the table clause T so that the
 * benchmark (tests/bench/prices-bench.c) times exactly the same SQL with
 * "prices_reports AS r NOT INDEXED" as its baseline.  $1 commodity,
 * $2 market, ($3, $4] the window; the median takes LIMIT 2 OFFSET $5 (the
 * lower middle position) and, weighted, $6 the agents' weight.  SQL both
 * engines run (SQLite and PostgreSQL), with the same results.
 */
#define PRICES_SQL_STATS(T) \
	"SELECT count(*), min(r.price), max(r.price), max(r.created)," \
	" coalesce(sum(r.agent), 0) FROM " T \
	" WHERE r.commodity = $1 AND r.market = $2 AND r.status = 'ok'" \
	" AND r.created > $3 AND r.created <= $4"
#define PRICES_SQL_MEDIAN(T) \
	"SELECT r.price FROM " T \
	" WHERE r.commodity = $1 AND r.market = $2 AND r.status = 'ok'" \
	" AND r.created > $3 AND r.created <= $4" \
	" ORDER BY r.price LIMIT 2 OFFSET $5"
/*
 * agents' reports repeated $6 times by a join with 1..$6; CROSS JOIN keeps
 * the reports the outer loop (one scan of the index range, not $6)
 */
#define PRICES_SQL_MEDIAN_WEIGHTED(T) \
	"WITH RECURSIVE k(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM k" \
	" WHERE n < $6)" \
	" SELECT r.price FROM " T " CROSS JOIN k" \
	" WHERE r.commodity = $1 AND r.market = $2 AND r.status = 'ok'" \
	" AND r.created > $3 AND r.created <= $4" \
	" AND k.n <= CASE WHEN r.agent <> 0 THEN $6 ELSE 1 END" \
	" ORDER BY r.price LIMIT 2 OFFSET $5"

#define PRICES_STORE_NMIGRATIONS 3
extern const struct mb_migration
		 prices_store_migrations[PRICES_STORE_NMIGRATIONS];

/*
 * Stats of the published reports of commodity at market (NULL: every
 * market) with created in (from, to].  The median is the weighted median
 * (agents' reports counted weight times): with W the total weight, the
 * value at 0-based position (W - 1) / 2 of the sorted list when W is odd,
 * the mean of the two middle values rounded half up when W is even.
 * Computed in SQL over the covering index, never by loading the rows.
 * 0, or -1 on a store failure.
 */
int		 prices_store_stats(struct mb_ctx *, const struct mb_host *,
		    const char *commodity, const char *market, long long from,
		    long long to, int weight, struct prices_stats *);
/*
 * The markets with published reports of commodity in (from, to], most
 * reports first (then by code), at most max of them after skipping those
 * whose region is not region (NULL: any region).  Codes are copied into
 * out; *n is set.  0 or -1.
 */
int		 prices_store_markets(struct mb_ctx *, const struct mb_host *,
		    const char *commodity, long long from, long long to,
		    const char *region, char out[][PRICES_CODE_MAX],
		    size_t max, size_t *n);
/*
 * The cheapest open offers of the market plugin for commodity in its
 * default unit, at market or a market of the same region (market NULL:
 * anywhere; the region's markets with an offer are listed first and
 * bound, so the region is chosen in SQL): their reference, price and
 * quantity left, and for a listed sell pool the number of its members.
 * The market plugin's contract is its tables market_posts, market_pools
 * and market_pool_shares, read here and nowhere else, when they exist
 * (market_store.c keeps their columns for this).  0, or -1 when a bind
 * fails (a table of another shape is logged and taken as none).
 */
int		 prices_store_offers(struct mb_ctx *, const struct mb_host *,
		    struct prices_state *, const char *commodity,
		    const char *market, struct prices_board *);
/* A report; status "ok" or "held".  0 or -1. */
int		 prices_store_report(struct mb_ctx *, const struct mb_host *,
		    const char *commodity, const char *market, long long price,
		    const char *msisdn, int agent, const char *status,
		    long long now);
/* Threshold subscriptions of commodity at market need a look.  0 or -1. */
int		 prices_store_dirty(struct mb_ctx *, const struct mb_host *,
		    const char *commodity, const char *market);
/*
 * Up to max pairs that need a look, copied into commodity[] and market[];
 * *n set.  0 or -1.
 */
int		 prices_store_dirty_take(struct mb_ctx *,
		    const struct mb_host *, char commodity[][PRICES_CODE_MAX],
		    char market[][PRICES_CODE_MAX], size_t max, size_t *n);
int		 prices_store_dirty_done(struct mb_ctx *,
		    const struct mb_host *, const char *commodity,
		    const char *market);
/*
 * The threshold subscriptions of commodity at market whose fired flag
 * differs from what median says now (at most max, by id).  0 or -1.
 */
int		 prices_store_crossed(struct mb_ctx *, const struct mb_host *,
		    const char *commodity, const char *market, long long median,
		    struct prices_sub *, size_t max, size_t *n);
int		 prices_store_set_fired(struct mb_ctx *, const struct mb_host *,
		    long long id, int fired);
/*
 * Subscribe msisdn to commodity at market ("" all markets): op 0 for the
 * daily bulletin, else '>' or '<' with threshold and fired, the side the
 * median is on now.  The same subscription again (same commodity,
 * market and op) is updated: a new threshold replaces the old.  0 done,
 * 1 refused (a new one, and the phone has max already), -1 on failure.
 */
int		 prices_store_alert_set(struct mb_ctx *, const struct mb_host *,
		    const char *msisdn, const char *commodity,
		    const char *market, char op, long long threshold,
		    int fired, long long now, int max);
/* Unsubscribe msisdn (from commodity only, when not NULL): -1 or how
   many went. */
int		 prices_store_alert_off(struct mb_ctx *, const struct mb_host *,
		    const char *msisdn, const char *commodity);
/*
 * STOP: 1 if msisdn has opted out of broadcasts, else 0; -1 on failure.
 * Reads the core's users table (see prices_store.c).
 */
int		 prices_store_opt_out(struct mb_ctx *, const struct mb_host *,
		    const char *msisdn);
/* The bulletin's cursor: the local day, the last subscription id done,
   and whether the day's round is over.  0 or -1. */
int		 prices_store_cursor(struct mb_ctx *, const struct mb_host *,
		    long long *day, long long *cursor, int *done);
int		 prices_store_cursor_set(struct mb_ctx *,
		    const struct mb_host *, long long day, long long cursor,
		    int done);
/* Daily-bulletin subscriptions with id > after, by id, at most max.
   0 or -1. */
int		 prices_store_bulletin_subs(struct mb_ctx *,
		    const struct mb_host *, long long after,
		    struct prices_sub *, size_t max, size_t *n);

/*
 * Seasonal reminders.  The markets of region (host->market_region) where
 * commodity is followed or can be bought: the markets of its subscribers
 * (an alert's market, or for an alert of all markets the subscriber's own,
 * from the core's users table), of its open offers in its default unit
 * (market_posts) and of its open buying pools (market_pools), when those
 * tables exist.  Each source is read page by page as distinct codes, so
 * none is missed however many markets the others have; at most max (by
 * code, logged when more), sorted, into out.  0 or -1.
 */
int		 prices_store_region_markets(struct mb_ctx *,
		    const struct mb_host *, struct prices_state *,
		    const char *commodity, const char *region, long long now,
		    char out[][PRICES_CODE_MAX], size_t max, size_t *n);
/*
 * Subscribers of commodity at market (as above) not yet told reminder
 * remind of season's start in year, at most max, first subscribed
 * first.  0 or -1.
 */
int		 prices_store_season_subs(struct mb_ctx *,
		    const struct mb_host *, const char *season,
		    long long year, long long remind, const char *commodity,
		    const char *market, char out[][32], size_t max, size_t *n);
/* msisdn has had that reminder (told 0: looked at, had sent STOP). */
int		 prices_store_season_told(struct mb_ctx *,
		    const struct mb_host *, const char *season,
		    long long year, long long remind, const char *msisdn,
		    const char *commodity, int told, long long now);
/*
 * The cheapest open offer of commodity (its default unit) at one of
 * markets (a region's, from prices_store_region_markets: the codes are
 * bound, so the region is chosen in SQL), and the open buying pool
 * (market_pools, kind want) of it there that closes first, into d; refs
 * 0 when none or when the market plugin has no such table.  0, or -1 on
 * a store failure (a table the plugin cannot read is logged and taken as
 * none).
 */
int		 prices_store_season_offer(struct mb_ctx *,
		    const struct mb_host *, struct prices_state *,
		    const char *commodity,
		    const char markets[][PRICES_CODE_MAX], size_t nmarkets,
		    long long now, struct prices_season_deal *);
int		 prices_store_season_pool(struct mb_ctx *,
		    const struct mb_host *, struct prices_state *,
		    const char *commodity,
		    const char markets[][PRICES_CODE_MAX], size_t nmarkets,
		    long long now, struct prices_season_deal *);

#endif
