/*
 * market_store.c - the SQL of the market plugin: its schema (migrations
 * of owner "market") and every statement it runs, each with its values
 * bound, through the host's statement cache (host->query, keyed on the
 * address of these static strings).
 *
 * The statements run on both engines, SQLite and PostgreSQL: parameters
 * are $1, $2 ..., times are integers bound from C, refs come from
 * host->ref_next and never from the engine.  Only the schema's types
 * differ: a step whose DDL does has its PostgreSQL variant.
 *
 * Nothing here decides anything: the commands (market_post.c,
 * market_order.c, market_delivery.c) and the timer (market.c) say what
 * changes, this file says how.  The one exception is atomicity that only
 * SQL can give: the reservation of an offer's quantity is a single
 * conditional UPDATE.
 *
 * One file: the schema's steps and the statements of the tables they
 * make (posts, orders, ratings, disputes, legs) are read together when a
 * step changes a table, so they stay side by side, one section per
 * table, the newest at the end; only the pools' and tiers' statements,
 * whose tables no other section touches, are market_store_pool.c's.
 */
#include <stdio.h>
#include <string.h>

#include <marketbox/plugin.h>

#include "market.h"
#include "market_rep_sql.h"

/* --- the schema ------------------------------------------------------------
 *
 * market_posts and its columns are read by other plugins (prices): keep
 * them.  ref comes from host->ref_next: offers, wants and orders share one
 * sequence, so a number names one thing.  Money is in minor units.
 *
 * A post is open, closed (an offer sold out: every unit reserved by
 * orders; it reopens when an order gives its quantity back), cancelled
 * (withdrawn by its owner) or expired.  qty_left is, for an offer, what
 * orders have not reserved; for a want, what is still wanted.
 *
 * An order holds its quantity and price as they were when ordered; want
 * and want_qty name the buyer's want it counted against (given back with
 * the quantity if the order does not go through).  remind_at and
 * expires_at are the due times of the timers, so they survive restarts.
 */
static const char market_schema_1[] =
    "CREATE TABLE market_posts ("
    " ref INTEGER PRIMARY KEY,"
    " kind TEXT NOT NULL CHECK (kind IN ('offer', 'want')),"
    " msisdn TEXT NOT NULL,"
    " commodity TEXT NOT NULL,"
    " unit TEXT NOT NULL,"
    " market TEXT,"
    " qty INTEGER NOT NULL CHECK (qty > 0),"
    " qty_left INTEGER NOT NULL CHECK (qty_left >= 0 AND qty_left <= qty),"
    " price INTEGER NOT NULL CHECK (price > 0),"
    " state TEXT NOT NULL"
    "  CHECK (state IN ('open', 'closed', 'cancelled', 'expired')),"
    " created INTEGER NOT NULL,"
    " expires INTEGER NOT NULL);"
    "CREATE INDEX market_posts_open"
    " ON market_posts(kind, commodity, state, price);"
    "CREATE INDEX market_posts_owner ON market_posts(msisdn, state);"
    "CREATE INDEX market_posts_expires ON market_posts(state, expires);"
    "CREATE TABLE market_orders ("
    " ref INTEGER PRIMARY KEY,"
    " offer INTEGER NOT NULL REFERENCES market_posts(ref),"
    " buyer TEXT NOT NULL,"
    " seller TEXT NOT NULL,"
    " qty INTEGER NOT NULL CHECK (qty > 0),"
    " price INTEGER NOT NULL,"
    " total INTEGER NOT NULL,"
    " state TEXT NOT NULL CHECK (state IN ('pending', 'accepted',"
    "  'rejected', 'expired', 'cancelled', 'sent', 'delivered')),"
    " transporter TEXT,"
    " code TEXT,"
    " code_tries INTEGER NOT NULL DEFAULT 0,"
    " reason TEXT,"
    " created INTEGER NOT NULL,"
    " updated INTEGER NOT NULL,"
    " remind_at INTEGER,"
    " expires_at INTEGER,"
    " reminded INTEGER NOT NULL DEFAULT 0,"
    " want INTEGER REFERENCES market_posts(ref),"
    " want_qty INTEGER NOT NULL DEFAULT 0);"
    "CREATE INDEX market_orders_remind ON market_orders(state, remind_at);"
    "CREATE INDEX market_orders_expires ON market_orders(state, expires_at);"
    "CREATE INDEX market_orders_buyer ON market_orders(buyer);"
    "CREATE INDEX market_orders_seller ON market_orders(seller);"
    "CREATE INDEX market_orders_offer ON market_orders(offer);";

/*
 * The same tables on PostgreSQL: refs, money, quantities and times are
 * BIGINT (SQLite's INTEGER is 64 bits already).  A ref is a plain BIGINT
 * key, not an identity: every row is given its ref from host->ref_next,
 * as on SQLite, where the key is never left to the engine either.
 */
static const char market_schema_1_pg[] =
    "CREATE TABLE market_posts ("
    " ref BIGINT PRIMARY KEY,"
    " kind TEXT NOT NULL CHECK (kind IN ('offer', 'want')),"
    " msisdn TEXT NOT NULL,"
    " commodity TEXT NOT NULL,"
    " unit TEXT NOT NULL,"
    " market TEXT,"
    " qty BIGINT NOT NULL CHECK (qty > 0),"
    " qty_left BIGINT NOT NULL CHECK (qty_left >= 0 AND qty_left <= qty),"
    " price BIGINT NOT NULL CHECK (price > 0),"
    " state TEXT NOT NULL"
    "  CHECK (state IN ('open', 'closed', 'cancelled', 'expired')),"
    " created BIGINT NOT NULL,"
    " expires BIGINT NOT NULL);"
    "CREATE INDEX market_posts_open"
    " ON market_posts(kind, commodity, state, price);"
    "CREATE INDEX market_posts_owner ON market_posts(msisdn, state);"
    "CREATE INDEX market_posts_expires ON market_posts(state, expires);"
    "CREATE TABLE market_orders ("
    " ref BIGINT PRIMARY KEY,"
    " offer BIGINT NOT NULL REFERENCES market_posts(ref),"
    " buyer TEXT NOT NULL,"
    " seller TEXT NOT NULL,"
    " qty BIGINT NOT NULL CHECK (qty > 0),"
    " price BIGINT NOT NULL,"
    " total BIGINT NOT NULL,"
    " state TEXT NOT NULL CHECK (state IN ('pending', 'accepted',"
    "  'rejected', 'expired', 'cancelled', 'sent', 'delivered')),"
    " transporter TEXT,"
    " code TEXT,"
    " code_tries INTEGER NOT NULL DEFAULT 0,"
    " reason TEXT,"
    " created BIGINT NOT NULL,"
    " updated BIGINT NOT NULL,"
    " remind_at BIGINT,"
    " expires_at BIGINT,"
    " reminded INTEGER NOT NULL DEFAULT 0,"
    " want BIGINT REFERENCES market_posts(ref),"
    " want_qty BIGINT NOT NULL DEFAULT 0);"
    "CREATE INDEX market_orders_remind ON market_orders(state, remind_at);"
    "CREATE INDEX market_orders_expires ON market_orders(state, expires_at);"
    "CREATE INDEX market_orders_buyer ON market_orders(buyer);"
    "CREATE INDEX market_orders_seller ON market_orders(seller);"
    "CREATE INDEX market_orders_offer ON market_orders(offer);";

/*
 * The usual price of a commodity at a market (market_store_usual) reads
 * the recent posts of one commodity and market, newest first.
 */
static const char market_schema_2[] =
    "CREATE INDEX market_posts_usual"
    " ON market_posts(commodity, market, created);";

/*
 * Pools: many small lots sold as one offer (kind 'sell'), or many small
 * wants bought as one (kind 'want').  ref comes from host->ref_next like
 * every other number; a sell pool that is listed is also the offer of the
 * same ref in market_posts, so BUY 51 names both.  target and price are
 * per the opener's POOL command (price in minor units per unit: the price
 * asked, or for a want pool the most its members pay); rule is the
 * allocation rule in force when the pool opened ('joined': in order of
 * joining; 'prorata': in proportion, remainders by the rule in
 * market(8)), so a conf change never re-divides an open pool.  told is
 * 1 once the members have been told the deadline passed.
 *
 * A share is one member's lot in a pool: qty she put in (or wants), seq
 * the order of joining (ref-like, never reused), sold the units of it
 * already given to orders.  A member's share order is a market_orders row
 * whose parent is the pool order it follows (the one the opener answers);
 * parent is NULL for every other order.
 */
static const char market_schema_3[] =
    "CREATE TABLE market_pools ("
    " ref INTEGER PRIMARY KEY,"
    " kind TEXT NOT NULL CHECK (kind IN ('sell', 'want')),"
    " opener TEXT NOT NULL,"
    " commodity TEXT NOT NULL,"
    " unit TEXT NOT NULL,"
    " market TEXT,"
    " target INTEGER NOT NULL CHECK (target > 0),"
    " price INTEGER NOT NULL CHECK (price > 0),"
    " rule TEXT NOT NULL CHECK (rule IN ('joined', 'prorata')),"
    " state TEXT NOT NULL CHECK (state IN ('open', 'listed', 'sold',"
    "  'lapsed', 'cancelled')),"
    " created INTEGER NOT NULL,"
    " deadline INTEGER NOT NULL,"
    " told INTEGER NOT NULL DEFAULT 0);"
    "CREATE INDEX market_pools_due ON market_pools(state, deadline);"
    "CREATE INDEX market_pools_open ON market_pools(kind, commodity, state);"
    "CREATE TABLE market_pool_shares ("
    " pool INTEGER NOT NULL REFERENCES market_pools(ref),"
    " member TEXT NOT NULL,"
    " qty INTEGER NOT NULL CHECK (qty > 0),"
    " sold INTEGER NOT NULL DEFAULT 0 CHECK (sold >= 0 AND sold <= qty),"
    " seq INTEGER NOT NULL,"
    " joined INTEGER NOT NULL,"
    " PRIMARY KEY (pool, member));"
    "CREATE INDEX market_pool_shares_member ON market_pool_shares(member);"
    "ALTER TABLE market_orders ADD COLUMN parent INTEGER;"
    "CREATE INDEX market_orders_parent ON market_orders(parent);";

static const char market_schema_3_pg[] =
    "CREATE TABLE market_pools ("
    " ref BIGINT PRIMARY KEY,"
    " kind TEXT NOT NULL CHECK (kind IN ('sell', 'want')),"
    " opener TEXT NOT NULL,"
    " commodity TEXT NOT NULL,"
    " unit TEXT NOT NULL,"
    " market TEXT,"
    " target BIGINT NOT NULL CHECK (target > 0),"
    " price BIGINT NOT NULL CHECK (price > 0),"
    " rule TEXT NOT NULL CHECK (rule IN ('joined', 'prorata')),"
    " state TEXT NOT NULL CHECK (state IN ('open', 'listed', 'sold',"
    "  'lapsed', 'cancelled')),"
    " created BIGINT NOT NULL,"
    " deadline BIGINT NOT NULL,"
    " told INTEGER NOT NULL DEFAULT 0);"
    "CREATE INDEX market_pools_due ON market_pools(state, deadline);"
    "CREATE INDEX market_pools_open ON market_pools(kind, commodity, state);"
    "CREATE TABLE market_pool_shares ("
    " pool BIGINT NOT NULL REFERENCES market_pools(ref),"
    " member TEXT NOT NULL,"
    " qty BIGINT NOT NULL CHECK (qty > 0),"
    " sold BIGINT NOT NULL DEFAULT 0 CHECK (sold >= 0 AND sold <= qty),"
    " seq BIGINT NOT NULL,"
    " joined BIGINT NOT NULL,"
    " PRIMARY KEY (pool, member));"
    "CREATE INDEX market_pool_shares_member ON market_pool_shares(member);"
    "ALTER TABLE market_orders ADD COLUMN parent BIGINT;"
    "CREATE INDEX market_orders_parent ON market_orders(parent);";

/*
 * Tiers of an offer: a lower price per unit for orders that together
 * reach qty units while the offer is open (its window).  reached is the
 * time the orders first reached it (NULL until then): the orderers are
 * told once, when it is set.
 */
static const char market_schema_4[] =
    "CREATE TABLE market_tiers ("
    " offer INTEGER NOT NULL REFERENCES market_posts(ref),"
    " qty INTEGER NOT NULL CHECK (qty > 0),"
    " price INTEGER NOT NULL CHECK (price > 0),"
    " reached INTEGER,"
    " PRIMARY KEY (offer, qty));";

static const char market_schema_4_pg[] =
    "CREATE TABLE market_tiers ("
    " offer BIGINT NOT NULL REFERENCES market_posts(ref),"
    " qty BIGINT NOT NULL CHECK (qty > 0),"
    " price BIGINT NOT NULL CHECK (price > 0),"
    " reached BIGINT,"
    " PRIMARY KEY (offer, qty));";

/*
 * Disputes and ratings (step 5).  A dispute is opened by PROBLEM on a
 * sent or delivered order by one of its parties (opener, side 'buyer'
 * or 'seller'; 'other' for anyone else the order concerns, a carrier or
 * an agent); ref is from the one ref sequence, so "dispute #80" never
 * names anything else.  It is closed by an admin (marketctl dispute
 * close) for one side: decision 'buyer' or 'seller', with a note.  The
 * side a closed dispute went against has lost it (reputation).  An open
 * dispute stops a sent order from completing by itself.
 *
 * A rating is one party's 1..5 for the other after delivery, once per
 * order and rater (the primary key makes a second RATE a no-op the
 * handler refuses).  Reputation is computed from market_orders,
 * market_disputes and market_ratings when it is shown, never kept as a
 * counter.
 */
static const char market_schema_5[] =
    "CREATE TABLE market_disputes ("
    " ref INTEGER PRIMARY KEY,"
    " order_ref INTEGER NOT NULL REFERENCES market_orders(ref),"
    " opener TEXT NOT NULL,"
    " side TEXT NOT NULL CHECK (side IN ('buyer', 'seller', 'other')),"
    " text TEXT NOT NULL,"
    " state TEXT NOT NULL CHECK (state IN ('open', 'closed')),"
    " created INTEGER NOT NULL,"
    " closed INTEGER,"
    " decision TEXT CHECK (decision IN ('buyer', 'seller')),"
    " note TEXT);"
    "CREATE INDEX market_disputes_order ON market_disputes(order_ref);"
    "CREATE INDEX market_disputes_state ON market_disputes(state, created);"
    "CREATE TABLE market_ratings ("
    " order_ref INTEGER NOT NULL REFERENCES market_orders(ref),"
    " rater TEXT NOT NULL,"
    " rated TEXT NOT NULL,"
    " stars INTEGER NOT NULL CHECK (stars BETWEEN 1 AND 5),"
    " created INTEGER NOT NULL,"
    " PRIMARY KEY (order_ref, rater));"
    "CREATE INDEX market_ratings_rated ON market_ratings(rated);";

static const char market_schema_5_pg[] =
    "CREATE TABLE market_disputes ("
    " ref BIGINT PRIMARY KEY,"
    " order_ref BIGINT NOT NULL REFERENCES market_orders(ref),"
    " opener TEXT NOT NULL,"
    " side TEXT NOT NULL CHECK (side IN ('buyer', 'seller', 'other')),"
    " text TEXT NOT NULL,"
    " state TEXT NOT NULL CHECK (state IN ('open', 'closed')),"
    " created BIGINT NOT NULL,"
    " closed BIGINT,"
    " decision TEXT CHECK (decision IN ('buyer', 'seller')),"
    " note TEXT);"
    "CREATE INDEX market_disputes_order ON market_disputes(order_ref);"
    "CREATE INDEX market_disputes_state ON market_disputes(state, created);"
    "CREATE TABLE market_ratings ("
    " order_ref BIGINT NOT NULL REFERENCES market_orders(ref),"
    " rater TEXT NOT NULL,"
    " rated TEXT NOT NULL,"
    " stars INTEGER NOT NULL CHECK (stars BETWEEN 1 AND 5),"
    " created BIGINT NOT NULL,"
    " PRIMARY KEY (order_ref, rater));"
    "CREATE INDEX market_ratings_rated ON market_ratings(rated);";

/*
 * Orders that always end (step 6): an accepted order now has due times
 * (accept-remind, accept-expire: reminded, then cancelled unsent) and a
 * sent one a completion (delivery-complete), set by ACCEPT and SENT.
 * Rows accepted or sent before this step have none (remind_at and
 * expires_at NULL, or a sent order's reminder only), so they would never
 * end; giving them due times from updated alone would cancel or complete
 * the old ones at the first sweep after the upgrade, before anyone was
 * told.  So their due times are the defaults counted from updated, but
 * never before the upgrade itself (the engine's clock) plus the default
 * time between reminder and end:
 *
 *	accepted  reminded = 0
 *		  remind_at  = max(updated + 24h, upgrade)
 *		  expires_at = max(updated + 72h, upgrade + 48h)
 *	sent	  expires_at = max(updated + 7d, upgrade + 5d)
 *		  (its reminder, given or due, stays as it is)
 *
 * An old accepted order's seller is thus reminded at once at worst and
 * has two days to send it; an old sent order's buyer five days to answer.
 * Conf values other than the defaults apply to orders accepted or sent
 * after the upgrade (as a changed conf does to any order).  The sweep's
 * queries by state and due time use the indexes of step 1
 * (market_orders_remind, market_orders_expires); the dispute a sent
 * order's completion waits for is found by market_disputes_order.
 */
static const char market_schema_6[] =
    "UPDATE market_orders SET reminded = 0,"
    " remind_at = MAX(updated + 86400,"
    "  CAST(strftime('%s', 'now') AS INTEGER)),"
    " expires_at = MAX(updated + 259200,"
    "  CAST(strftime('%s', 'now') AS INTEGER) + 172800)"
    " WHERE state = 'accepted' AND parent IS NULL;"
    "UPDATE market_orders SET expires_at = MAX(updated + 604800,"
    "  CAST(strftime('%s', 'now') AS INTEGER) + 432000)"
    " WHERE state = 'sent' AND parent IS NULL;";

static const char market_schema_6_pg[] =
    "UPDATE market_orders SET reminded = 0,"
    " remind_at = GREATEST(updated + 86400,"
    "  CAST(EXTRACT(EPOCH FROM now()) AS BIGINT)),"
    " expires_at = GREATEST(updated + 259200,"
    "  CAST(EXTRACT(EPOCH FROM now()) AS BIGINT) + 172800)"
    " WHERE state = 'accepted' AND parent IS NULL;"
    "UPDATE market_orders SET expires_at = GREATEST(updated + 604800,"
    "  CAST(EXTRACT(EPOCH FROM now()) AS BIGINT) + 432000)"
    " WHERE state = 'sent' AND parent IS NULL;";

/*
 * An offer made by OFFER for a buying pool (market_pool_order.c) names
 * the pool (step 7): its opener's BUY of it counts toward that pool's
 * want before any other want of his.  NULL for every other post.
 */
static const char market_schema_7[] =
    "ALTER TABLE market_posts ADD COLUMN pool INTEGER"
    " REFERENCES market_pools(ref);";

static const char market_schema_7_pg[] =
    "ALTER TABLE market_posts ADD COLUMN pool BIGINT"
    " REFERENCES market_pools(ref);";

/*
 * Who cancelled an order (step 8): 'buyer' or 'seller', set by CANCEL
 * (market_rep_cancelled) when one of its parties cancels it, and by the
 * timer that cancels an accepted order its seller never sent ('seller');
 * NULL for an order cancelled otherwise (a share order following its pool
 * order, whose opener's cancel is counted on the pool order) and for
 * orders cancelled before this step, whose canceller is not known.
 * Reputation counts a cancellation against the side named here only.
 */
static const char market_schema_8[] =
    "ALTER TABLE market_orders ADD COLUMN cancelled_by TEXT"
    " CHECK (cancelled_by IN ('buyer', 'seller'));";

/*
 * The legs of an order sent through hubs (step 9, market_leg.c): one row
 * per leg, seq 1, 2 ... in travel order; from_hub NULL is the seller's
 * place (the first leg), to_hub NULL the buyer's (the last).  A leg is
 * waiting (made, its parcel not yet handed to a carrier), moving (its
 * carrier has it, with the handover code code, wrong tries code_tries)
 * or done (received at to_hub with IN, or by the buyer).  due_at is when
 * its next handover is due (see market_leg.c: per level, leg-due-*), a
 * column so that the reminders that read it survive restarts; NULL for
 * legs not yet reached and legs done.  problem is the last PROBLEM text
 * sent while the leg was the current one.
 */
static const char market_schema_9[] =
    "CREATE TABLE market_legs ("
    " order_ref INTEGER NOT NULL REFERENCES market_orders(ref),"
    " seq INTEGER NOT NULL,"
    " from_hub TEXT,"
    " to_hub TEXT,"
    " carrier TEXT,"
    " code TEXT,"
    " code_tries INTEGER NOT NULL DEFAULT 0,"
    " state TEXT NOT NULL CHECK (state IN ('waiting', 'moving', 'done')),"
    " due_at INTEGER,"
    " created INTEGER NOT NULL,"
    " updated INTEGER NOT NULL,"
    " problem TEXT,"
    " PRIMARY KEY (order_ref, seq));"
    "CREATE INDEX market_legs_due ON market_legs(state, due_at);"
    "CREATE INDEX market_legs_carrier ON market_legs(carrier);";

static const char market_schema_9_pg[] =
    "CREATE TABLE market_legs ("
    " order_ref BIGINT NOT NULL REFERENCES market_orders(ref),"
    " seq INTEGER NOT NULL,"
    " from_hub TEXT,"
    " to_hub TEXT,"
    " carrier TEXT,"
    " code TEXT,"
    " code_tries INTEGER NOT NULL DEFAULT 0,"
    " state TEXT NOT NULL CHECK (state IN ('waiting', 'moving', 'done')),"
    " due_at BIGINT,"
    " created BIGINT NOT NULL,"
    " updated BIGINT NOT NULL,"
    " problem TEXT,"
    " PRIMARY KEY (order_ref, seq));"
    "CREATE INDEX market_legs_due ON market_legs(state, due_at);"
    "CREATE INDEX market_legs_carrier ON market_legs(carrier);";

/*
 * Step 10: when a leg began moving (started: SENT or OUT) and ended
 * (ended: IN, PICKUP or the delivery at the door), and how far its
 * current due time has been pressed (reminded: 0 not yet, then 1 its
 * holder reminded, 2 the hub's operators told, 3 the admins told; back
 * to 0 when its due time moves).  A done leg keeps its last due time,
 * so a late leg is one that ended after it (or is still moving past it):
 * counted from the rows, as the rest of the record.  market_manifests:
 * the morning list each hub's operators were sent, one row per hub and
 * day (YYYY-MM-DD in the host's local time), so a restart sends none
 * twice.  Legs made before this step: started and ended from their
 * times as far as the rows tell.
 */
static const char market_schema_10[] =
    "ALTER TABLE market_legs ADD COLUMN started INTEGER;"
    "ALTER TABLE market_legs ADD COLUMN ended INTEGER;"
    "ALTER TABLE market_legs ADD COLUMN reminded INTEGER NOT NULL DEFAULT 0;"
    "UPDATE market_legs SET started = created WHERE state <> 'waiting';"
    "UPDATE market_legs SET ended = updated WHERE state = 'done';"
    "CREATE TABLE market_manifests ("
    " hub TEXT NOT NULL,"
    " day TEXT NOT NULL,"
    " sent INTEGER NOT NULL,"
    " PRIMARY KEY (hub, day));";

static const char market_schema_10_pg[] =
    "ALTER TABLE market_legs ADD COLUMN started BIGINT;"
    "ALTER TABLE market_legs ADD COLUMN ended BIGINT;"
    "ALTER TABLE market_legs ADD COLUMN reminded INTEGER NOT NULL DEFAULT 0;"
    "UPDATE market_legs SET started = created WHERE state <> 'waiting';"
    "UPDATE market_legs SET ended = updated WHERE state = 'done';"
    "CREATE TABLE market_manifests ("
    " hub TEXT NOT NULL,"
    " day TEXT NOT NULL,"
    " sent BIGINT NOT NULL,"
    " PRIMARY KEY (hub, day));";

/*
 * The record's indexes (step 11): a person's record (market_rep_sql.h) is
 * counted for every offer on the price board and every INFO, so each of
 * its counts is one range of an index that holds every column its rule
 * reads, without the table: the orders by seller and by buyer, then
 * state (a count reads the orders of its state only), then what the
 * rules read of them; the legs by carrier with their state and times;
 * the disputes of an order with their state and decision; the ratings
 * of a person with their stars.  Each replaces the index of its table
 * that was its first column alone (the new one serves every lookup the
 * old one did).  Same DDL on both engines.
 */
static const char market_schema_11[] =
    "DROP INDEX market_orders_seller;"
    "CREATE INDEX market_orders_seller ON market_orders(seller, state,"
    " parent, cancelled_by, buyer, offer, want);"
    "DROP INDEX market_orders_buyer;"
    "CREATE INDEX market_orders_buyer ON market_orders(buyer, state,"
    " parent, cancelled_by, seller, offer, want);"
    "DROP INDEX market_legs_carrier;"
    "CREATE INDEX market_legs_carrier"
    " ON market_legs(carrier, state, due_at, ended);"
    "DROP INDEX market_disputes_order;"
    "CREATE INDEX market_disputes_order"
    " ON market_disputes(order_ref, state, decision);"
    "DROP INDEX market_ratings_rated;"
    "CREATE INDEX market_ratings_rated ON market_ratings(rated, stars);";

/* Steps 2, 8 and 11 are the same DDL on both engines. */
const struct mb_migration market_migrations[MARKET_NMIGRATIONS] = {
	{ .version = 1, .sql = market_schema_1, .sql_pg = market_schema_1_pg },
	{ .version = 2, .sql = market_schema_2 },
	{ .version = 3, .sql = market_schema_3, .sql_pg = market_schema_3_pg },
	{ .version = 4, .sql = market_schema_4, .sql_pg = market_schema_4_pg },
	{ .version = 5, .sql = market_schema_5, .sql_pg = market_schema_5_pg },
	{ .version = 6, .sql = market_schema_6, .sql_pg = market_schema_6_pg },
	{ .version = 7, .sql = market_schema_7, .sql_pg = market_schema_7_pg },
	{ .version = 8, .sql = market_schema_8 },
	{ .version = 9, .sql = market_schema_9, .sql_pg = market_schema_9_pg },
	{ .version = 10, .sql = market_schema_10, .sql_pg = market_schema_10_pg },
	{ .version = 11, .sql = market_schema_11 },
};

/* --- helpers -------------------------------------------------------------------- */

/*
 * A failed statement (or bind): the host has logged it with its SQL, so
 * only what the plugin was doing is said here.  The statement is done
 * with; -1 for the caller to pass on.
 */
int
market_store_fail(struct market_call *c, struct mb_stmt *st, const char *what)
{
	c->host->done(st);
	c->host->log(c->ctx, MB_LOG_ERROR, "market: %s", what);
	return -1;
}

/* Run a statement that returns no row (binds == 0 when they all took). */
int
market_store_run(struct market_call *c, struct mb_stmt *st, int binds,
    const char *what)
{
	int	 rc;

	if (binds != 0)
		return market_store_fail(c, st, what);
	rc = c->host->step(st);
	c->host->done(st);
	if (rc != MB_DONE) {
		c->host->log(c->ctx, MB_LOG_ERROR, "market: %s", what);
		return -1;
	}
	return 0;
}

/* Text, or NULL for "" (market, transporter, code and reason may be). */
int
market_store_bind_text(struct market_call *c, struct mb_stmt *st, int i,
    const char *s)
{
	return c->host->bind_text(st, i, s != NULL && s[0] != '\0' ? s : NULL);
}

/* A time column: NULL for 0. */
static int
market_store_bind_time(struct market_call *c, struct mb_stmt *st, int i,
    long long t)
{
	if (t != 0)
		return c->host->bind_int(st, i, t);
	return c->host->bind_null(st, i);
}

/* Column col into buf, "" for NULL, cut to the buffer. */
void
market_store_column(struct market_call *c, struct mb_stmt *st, int col,
    char *buf, size_t len)
{
	const char	*t = c->host->column_text(st, col);

	snprintf(buf, len, "%s", t != NULL ? t : "");
}

/* --- posts ----------------------------------------------------------------------- */

#define MARKET_POST_COLUMNS \
    "ref, kind, msisdn, commodity, unit, market, qty, qty_left, price," \
    " state, created, expires"

static void
market_store_post_read(struct market_call *c, struct mb_stmt *st,
    struct market_post *p)
{
	const struct mb_host	*h = c->host;

	memset(p, 0, sizeof(*p));
	p->ref = h->column_int(st, 0);
	market_store_column(c, st, 1, p->kind, sizeof(p->kind));
	market_store_column(c, st, 2, p->msisdn, sizeof(p->msisdn));
	market_store_column(c, st, 3, p->commodity, sizeof(p->commodity));
	market_store_column(c, st, 4, p->unit, sizeof(p->unit));
	market_store_column(c, st, 5, p->market, sizeof(p->market));
	p->qty = h->column_int(st, 6);
	p->qty_left = h->column_int(st, 7);
	p->price = h->column_int(st, 8);
	market_store_column(c, st, 9, p->state, sizeof(p->state));
	p->created = h->column_int(st, 10);
	p->expires = h->column_int(st, 11);
}

static const char market_sql_post_insert[] =
    "INSERT INTO market_posts(" MARKET_POST_COLUMNS ")"
    " VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)";

int
market_store_post_insert(struct market_call *c, const struct market_post *p)
{
	const struct mb_host	*h = c->host;
	struct mb_stmt		*st;
	int			 b;

	if ((st = h->query(c->ctx, market_sql_post_insert)) == NULL)
		return -1;
	b = h->bind_int(st, 1, p->ref);
	b |= market_store_bind_text(c, st, 2, p->kind);
	b |= market_store_bind_text(c, st, 3, p->msisdn);
	b |= market_store_bind_text(c, st, 4, p->commodity);
	b |= market_store_bind_text(c, st, 5, p->unit);
	b |= market_store_bind_text(c, st, 6, p->market);
	b |= h->bind_int(st, 7, p->qty);
	b |= h->bind_int(st, 8, p->qty_left);
	b |= h->bind_int(st, 9, p->price);
	b |= market_store_bind_text(c, st, 10, p->state);
	b |= h->bind_int(st, 11, p->created);
	b |= h->bind_int(st, 12, p->expires);
	return market_store_run(c, st, b, "cannot insert a post");
}

static const char market_sql_post_get[] =
    "SELECT " MARKET_POST_COLUMNS " FROM market_posts WHERE ref = $1";

int
market_store_post_get(struct market_call *c, long long ref,
    struct market_post *p)
{
	const struct mb_host	*h = c->host;
	struct mb_stmt		*st;
	int			 rc;

	if ((st = h->query(c->ctx, market_sql_post_get)) == NULL)
		return -1;
	if (h->bind_int(st, 1, ref) != 0)
		return market_store_fail(c, st, "cannot read a post");
	rc = h->step(st);
	if (rc == MB_ROW)
		market_store_post_read(c, st, p);
	else if (rc != MB_DONE)
		return market_store_fail(c, st, "cannot read a post");
	h->done(st);
	return rc == MB_ROW;
}

/*
 * The reservation: one statement, so that two buyers of the last bags
 * cannot both have them whatever runs between their messages.
 */
static const char market_sql_reserve[] =
    "UPDATE market_posts SET qty_left = qty_left - $2"
    " WHERE ref = $1 AND kind = 'offer' AND state = 'open'"
    " AND qty_left >= $2 AND expires > $3";
static const char market_sql_sold_out[] =
    "UPDATE market_posts SET state = 'closed'"
    " WHERE ref = $1 AND state = 'open' AND qty_left = 0";

int
market_store_reserve(struct market_call *c, long long offer, long long qty)
{
	const struct mb_host	*h = c->host;
	struct mb_stmt		*st;
	int			 b;

	if ((st = h->query(c->ctx, market_sql_reserve)) == NULL)
		return -1;
	b = h->bind_int(st, 1, offer);
	b |= h->bind_int(st, 2, qty);
	b |= h->bind_int(st, 3, c->now);
	if (market_store_run(c, st, b, "cannot reserve") == -1)
		return -1;
	if (h->changes(c->ctx) != 1)
		return 0;
	if ((st = h->query(c->ctx, market_sql_sold_out)) == NULL)
		return -1;
	b = h->bind_int(st, 1, offer);
	if (market_store_run(c, st, b, "cannot close a sold-out offer") == -1)
		return -1;
	return 1;
}

/* qty_left + $2, but never above qty (the smaller of two, as CASE). */
static const char market_sql_post_return[] =
    "UPDATE market_posts SET qty_left = CASE WHEN qty_left + $2 > qty"
    "  THEN qty ELSE qty_left + $2 END,"
    " state = CASE WHEN state <> 'closed' THEN state"
    "  WHEN expires > $3 THEN 'open' ELSE 'expired' END"
    " WHERE ref = $1";

int
market_store_post_return(struct market_call *c, long long ref, long long qty)
{
	const struct mb_host	*h = c->host;
	struct mb_stmt		*st;
	int			 b;

	if ((st = h->query(c->ctx, market_sql_post_return)) == NULL)
		return -1;
	b = h->bind_int(st, 1, ref);
	b |= h->bind_int(st, 2, qty);
	b |= h->bind_int(st, 3, c->now);
	return market_store_run(c, st, b, "cannot give a quantity back");
}

static const char market_sql_post_end[] =
    "UPDATE market_posts SET state = $2"
    " WHERE ref = $1 AND state IN ('open', 'closed')";

int
market_store_post_end(struct market_call *c, long long ref, const char *state)
{
	const struct mb_host	*h = c->host;
	struct mb_stmt		*st;
	int			 b;

	if ((st = h->query(c->ctx, market_sql_post_end)) == NULL)
		return -1;
	b = h->bind_int(st, 1, ref);
	b |= market_store_bind_text(c, st, 2, state);
	if (market_store_run(c, st, b, "cannot end a post") == -1)
		return -1;
	return h->changes(c->ctx) == 1;
}

static const char market_sql_want_find[] =
    "SELECT ref, qty_left FROM market_posts"
    " WHERE msisdn = $1 AND state = 'open' AND kind = 'want'"
    " AND commodity = $2 AND unit = $3 AND qty_left > 0 AND expires > $4"
    /* a buying pool: only at most the price its members agreed to */
    " AND (price >= $5 OR NOT EXISTS (SELECT 1 FROM market_pools l"
    "  WHERE l.ref = market_posts.ref))"
    /* the pool the offer was made for by OFFER first, then the oldest */
    " ORDER BY CASE WHEN ref = (SELECT pool FROM market_posts"
    "  WHERE ref = $6) THEN 0 ELSE 1 END, ref LIMIT 1";
static const char market_sql_want_take[] =
    "UPDATE market_posts SET qty_left = qty_left - $2,"
    " state = CASE WHEN qty_left - $2 = 0 THEN 'closed' ELSE state END"
    " WHERE ref = $1 AND qty_left >= $2";

int
market_store_want_take(struct market_call *c, const char *buyer,
    long long offer, const char *commodity, const char *unit, long long qty,
    long long price, long long *want, long long *taken)
{
	const struct mb_host	*h = c->host;
	struct mb_stmt		*st;
	long long		 left = 0;
	int			 b, rc;

	*want = *taken = 0;
	if ((st = h->query(c->ctx, market_sql_want_find)) == NULL)
		return -1;
	b = market_store_bind_text(c, st, 1, buyer);
	b |= market_store_bind_text(c, st, 2, commodity);
	b |= market_store_bind_text(c, st, 3, unit);
	b |= h->bind_int(st, 4, c->now);
	b |= h->bind_int(st, 5, price);
	b |= h->bind_int(st, 6, offer);
	if (b != 0)
		return market_store_fail(c, st, "cannot find a want");
	rc = h->step(st);
	if (rc == MB_ROW) {
		*want = h->column_int(st, 0);
		left = h->column_int(st, 1);
	} else if (rc != MB_DONE)
		return market_store_fail(c, st, "cannot find a want");
	h->done(st);
	if (*want == 0)
		return 0;
	*taken = qty < left ? qty : left;
	if ((st = h->query(c->ctx, market_sql_want_take)) == NULL)
		return -1;
	b = h->bind_int(st, 1, *want);
	b |= h->bind_int(st, 2, *taken);
	return market_store_run(c, st, b, "cannot count an order to a want");
}

/*
 * Candidates for matching, bounded (the scope is checked by the caller,
 * which may need a region per market).  For a new offer: wants paying
 * at least its price, the best paying first; for a new want: offers at
 * most its price, the cheapest first; the older first at one price.
 */
#define MARKET_CANDIDATES_MAX	200
static const char market_sql_wants_for[] =
    "SELECT " MARKET_POST_COLUMNS " FROM market_posts"
    " WHERE kind = 'want' AND commodity = $1 AND state = 'open'"
    " AND price >= $3 AND unit = $2 AND msisdn <> $4 AND qty_left > 0"
    " AND expires > $5 ORDER BY price DESC, ref LIMIT $6";
static const char market_sql_offers_for[] =
    "SELECT " MARKET_POST_COLUMNS " FROM market_posts"
    " WHERE kind = 'offer' AND commodity = $1 AND state = 'open'"
    " AND price <= $3 AND unit = $2 AND msisdn <> $4 AND qty_left > 0"
    " AND expires > $5 ORDER BY price, ref LIMIT $6";

int
market_store_candidates(struct market_call *c, const struct market_post *p,
    struct market_post *out, size_t max, size_t *n)
{
	const struct mb_host	*h = c->host;
	struct mb_stmt		*st;
	int			 b, rc = MB_DONE;

	*n = 0;
	st = h->query(c->ctx, strcmp(p->kind, "offer") == 0 ?
	    market_sql_wants_for : market_sql_offers_for);
	if (st == NULL)
		return -1;
	b = market_store_bind_text(c, st, 1, p->commodity);
	b |= market_store_bind_text(c, st, 2, p->unit);
	b |= h->bind_int(st, 3, p->price);
	b |= market_store_bind_text(c, st, 4, p->msisdn);
	b |= h->bind_int(st, 5, c->now);
	b |= h->bind_int(st, 6, MARKET_CANDIDATES_MAX);
	if (b != 0)
		return market_store_fail(c, st, "cannot match");
	while (*n < max && (rc = h->step(st)) == MB_ROW)
		market_store_post_read(c, st, &out[(*n)++]);
	if (*n < max && rc != MB_DONE)
		return market_store_fail(c, st, "cannot match");
	h->done(st);
	return 0;
}

static const char market_sql_usual[] =
    "SELECT price FROM market_posts WHERE commodity = $1 AND market = $2"
    " AND unit = $3 AND created >= $4 AND ref <> $5"
    " AND state IN ('open', 'closed', 'expired')"
    " ORDER BY created DESC, ref DESC LIMIT $6";

int
market_store_usual(struct market_call *c, const char *commodity,
    const char *unit, const char *market, long long since, long long exclude,
    long long *prices, size_t max, size_t *n)
{
	const struct mb_host	*h = c->host;
	struct mb_stmt		*st;
	int			 b, rc;

	*n = 0;
	if ((st = h->query(c->ctx, market_sql_usual)) == NULL)
		return -1;
	b = market_store_bind_text(c, st, 1, commodity);
	b |= market_store_bind_text(c, st, 2, market);
	b |= market_store_bind_text(c, st, 3, unit);
	b |= h->bind_int(st, 4, since);
	b |= h->bind_int(st, 5, exclude);
	b |= h->bind_int(st, 6, (long long)max);
	if (b != 0)
		return market_store_fail(c, st, "cannot read recent prices");
	while ((rc = h->step(st)) == MB_ROW && *n < max)
		prices[(*n)++] = h->column_int(st, 0);
	if (rc != MB_ROW && rc != MB_DONE)
		return market_store_fail(c, st, "cannot read recent prices");
	h->done(st);
	return 0;
}

/* --- orders --------------------------------------------------------------------------- */

static const char market_sql_order_insert[] =
    "INSERT INTO market_orders(ref, offer, buyer, seller, qty, price, total,"
    " state, created, updated, remind_at, expires_at, reminded, want,"
    " want_qty, parent)"
    " VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $9, $10, $11, 0, $12, $13,"
    " $14)";

int
market_store_order_insert(struct market_call *c, const struct market_order *o)
{
	const struct mb_host	*h = c->host;
	struct mb_stmt		*st;
	int			 b;

	if ((st = h->query(c->ctx, market_sql_order_insert)) == NULL)
		return -1;
	b = h->bind_int(st, 1, o->ref);
	b |= h->bind_int(st, 2, o->offer);
	b |= market_store_bind_text(c, st, 3, o->buyer);
	b |= market_store_bind_text(c, st, 4, o->seller);
	b |= h->bind_int(st, 5, o->qty);
	b |= h->bind_int(st, 6, o->price);
	b |= h->bind_int(st, 7, o->total);
	b |= market_store_bind_text(c, st, 8, o->state);
	b |= h->bind_int(st, 9, o->created);
	b |= market_store_bind_time(c, st, 10, o->remind_at);
	b |= market_store_bind_time(c, st, 11, o->expires_at);
	if (o->want != 0)
		b |= h->bind_int(st, 12, o->want);
	else
		b |= h->bind_null(st, 12);
	b |= h->bind_int(st, 13, o->want_qty);
	if (o->parent != 0)
		b |= h->bind_int(st, 14, o->parent);
	else
		b |= h->bind_null(st, 14);
	return market_store_run(c, st, b, "cannot insert an order");
}

void
market_store_order_read(struct market_call *c, struct mb_stmt *st,
    struct market_order *o)
{
	const struct mb_host	*h = c->host;

	memset(o, 0, sizeof(*o));
	o->ref = h->column_int(st, 0);
	o->offer = h->column_int(st, 1);
	market_store_column(c, st, 2, o->buyer, sizeof(o->buyer));
	market_store_column(c, st, 3, o->seller, sizeof(o->seller));
	o->qty = h->column_int(st, 4);
	o->price = h->column_int(st, 5);
	o->total = h->column_int(st, 6);
	market_store_column(c, st, 7, o->state, sizeof(o->state));
	market_store_column(c, st, 8, o->transporter, sizeof(o->transporter));
	market_store_column(c, st, 9, o->code, sizeof(o->code));
	o->code_tries = (int)h->column_int(st, 10);
	market_store_column(c, st, 11, o->reason, sizeof(o->reason));
	o->created = h->column_int(st, 12);
	o->updated = h->column_int(st, 13);
	o->remind_at = h->column_int(st, 14);
	o->expires_at = h->column_int(st, 15);
	o->reminded = (int)h->column_int(st, 16);
	o->want = h->column_int(st, 17);
	o->want_qty = h->column_int(st, 18);
	market_store_column(c, st, 19, o->commodity, sizeof(o->commodity));
	market_store_column(c, st, 20, o->unit, sizeof(o->unit));
	market_store_column(c, st, 21, o->market, sizeof(o->market));
	o->parent = h->column_int(st, 22);
}

static const char market_sql_order_get[] =
    "SELECT " MARKET_ORDER_COLUMNS " FROM market_orders o"
    " JOIN market_posts p ON p.ref = o.offer WHERE o.ref = $1";

int
market_store_order_get(struct market_call *c, long long ref,
    struct market_order *o)
{
	const struct mb_host	*h = c->host;
	struct mb_stmt		*st;
	int			 rc;

	if ((st = h->query(c->ctx, market_sql_order_get)) == NULL)
		return -1;
	if (h->bind_int(st, 1, ref) != 0)
		return market_store_fail(c, st, "cannot read an order");
	rc = h->step(st);
	if (rc == MB_ROW)
		market_store_order_read(c, st, o);
	else if (rc != MB_DONE)
		return market_store_fail(c, st, "cannot read an order");
	h->done(st);
	return rc == MB_ROW;
}

static const char market_sql_order_update[] =
    "UPDATE market_orders SET state = $3, updated = $4, transporter = $5,"
    " code = $6, reason = $7, remind_at = $8, expires_at = $9,"
    " reminded = $10 WHERE ref = $1 AND state = $2";

int
market_store_order_update(struct market_call *c, const struct market_order *o,
    const char *from)
{
	const struct mb_host	*h = c->host;
	struct mb_stmt		*st;
	int			 b;

	if ((st = h->query(c->ctx, market_sql_order_update)) == NULL)
		return -1;
	b = h->bind_int(st, 1, o->ref);
	b |= market_store_bind_text(c, st, 2, from);
	b |= market_store_bind_text(c, st, 3, o->state);
	b |= h->bind_int(st, 4, o->updated);
	b |= market_store_bind_text(c, st, 5, o->transporter);
	b |= market_store_bind_text(c, st, 6, o->code);
	b |= market_store_bind_text(c, st, 7, o->reason);
	b |= market_store_bind_time(c, st, 8, o->remind_at);
	b |= market_store_bind_time(c, st, 9, o->expires_at);
	b |= h->bind_int(st, 10, o->reminded);
	if (market_store_run(c, st, b, "cannot update an order") == -1)
		return -1;
	return h->changes(c->ctx) == 1;
}

static const char market_sql_code_try[] =
    "UPDATE market_orders SET code_tries = code_tries + 1, updated = $2"
    " WHERE ref = $1";
static const char market_sql_code_tries[] =
    "SELECT code_tries FROM market_orders WHERE ref = $1";

int
market_store_order_code_try(struct market_call *c, long long ref, int *tries)
{
	const struct mb_host	*h = c->host;
	struct mb_stmt		*st;
	int			 b, rc;

	*tries = 0;
	if ((st = h->query(c->ctx, market_sql_code_try)) == NULL)
		return -1;
	b = h->bind_int(st, 1, ref);
	b |= h->bind_int(st, 2, c->now);
	if (market_store_run(c, st, b, "cannot count a wrong code") == -1)
		return -1;
	if ((st = h->query(c->ctx, market_sql_code_tries)) == NULL)
		return -1;
	if (h->bind_int(st, 1, ref) != 0)
		return market_store_fail(c, st, "cannot read the wrong codes");
	rc = h->step(st);
	if (rc == MB_ROW)
		*tries = (int)h->column_int(st, 0);
	else if (rc != MB_DONE)
		return market_store_fail(c, st, "cannot read the wrong codes");
	h->done(st);
	return 0;
}

static const char market_sql_reminded[] =
    "UPDATE market_orders SET reminded = 1, remind_at = NULL, updated = $2"
    " WHERE ref = $1";

int
market_store_order_reminded(struct market_call *c, long long ref)
{
	const struct mb_host	*h = c->host;
	struct mb_stmt		*st;
	int			 b;

	if ((st = h->query(c->ctx, market_sql_reminded)) == NULL)
		return -1;
	b = h->bind_int(st, 1, ref);
	b |= h->bind_int(st, 2, c->now);
	return market_store_run(c, st, b, "cannot mark a reminder");
}

/* --- MY ---------------------------------------------------------------------------------- */

static const char market_sql_my_posts[] =
    "SELECT " MARKET_POST_COLUMNS " FROM market_posts"
    " WHERE msisdn = $1 AND state = 'open' ORDER BY ref DESC";

int
market_store_my_posts(struct market_call *c, const char *msisdn,
    struct market_post *out, size_t max, size_t *n, size_t *total)
{
	const struct mb_host	*h = c->host;
	struct mb_stmt		*st;
	int			 rc;

	*n = *total = 0;
	if ((st = h->query(c->ctx, market_sql_my_posts)) == NULL)
		return -1;
	if (market_store_bind_text(c, st, 1, msisdn) != 0)
		return market_store_fail(c, st, "cannot list posts");
	while ((rc = h->step(st)) == MB_ROW) {
		if (*n < max)
			market_store_post_read(c, st, &out[(*n)++]);
		(*total)++;
	}
	if (rc != MB_DONE)
		return market_store_fail(c, st, "cannot list posts");
	h->done(st);
	return 0;
}

static const char market_sql_my_orders[] =
    "SELECT " MARKET_ORDER_COLUMNS " FROM market_orders o"
    " JOIN market_posts p ON p.ref = o.offer"
    " WHERE (o.buyer = $1 OR o.seller = $1)"
    " AND o.state IN ('pending', 'accepted', 'sent')"
    /* a share order only to its member: the seller of a sell pool's
       lot, the buyer of a want pool's; the counterparty has the pool
       order */
    " AND (o.parent IS NULL"
    " OR (o.seller = $1 AND EXISTS (SELECT 1 FROM market_pools l"
    " WHERE l.ref = o.offer AND l.kind = 'sell'))"
    " OR (o.buyer = $1 AND EXISTS (SELECT 1 FROM market_pools l"
    " WHERE l.ref = o.want AND l.kind = 'want')))"
    " ORDER BY o.ref DESC";

int
market_store_my_orders(struct market_call *c, const char *msisdn,
    struct market_order *out, size_t max, size_t *n, size_t *total)
{
	const struct mb_host	*h = c->host;
	struct mb_stmt		*st;
	int			 rc;

	*n = *total = 0;
	if ((st = h->query(c->ctx, market_sql_my_orders)) == NULL)
		return -1;
	if (market_store_bind_text(c, st, 1, msisdn) != 0)
		return market_store_fail(c, st, "cannot list orders");
	while ((rc = h->step(st)) == MB_ROW) {
		if (*n < max)
			market_store_order_read(c, st, &out[(*n)++]);
		(*total)++;
	}
	if (rc != MB_DONE)
		return market_store_fail(c, st, "cannot list orders");
	h->done(st);
	return 0;
}

/* --- the timers ---------------------------------------------------------------------------- */

static const char market_sql_due_posts[] =
    "SELECT ref FROM market_posts WHERE state = 'open' AND expires <= $1"
    " ORDER BY expires, ref LIMIT $2";
static const char market_sql_due_expire[] =
    "SELECT ref FROM market_orders WHERE state = 'pending'"
    " AND expires_at <= $1 ORDER BY expires_at, ref LIMIT $2";
static const char market_sql_due_remind[] =
    "SELECT ref FROM market_orders WHERE state = 'pending'"
    " AND remind_at <= $1 AND reminded = 0 ORDER BY remind_at, ref LIMIT $2";
static const char market_sql_due_unsent[] =
    "SELECT ref FROM market_orders WHERE state = 'accepted'"
    " AND expires_at <= $1 ORDER BY expires_at, ref LIMIT $2";
static const char market_sql_due_send[] =
    "SELECT ref FROM market_orders WHERE state = 'accepted'"
    " AND remind_at <= $1 AND reminded = 0 ORDER BY remind_at, ref LIMIT $2";
/* an open dispute holds a sent order: neither asked nor completed */
/*
 * A sent order still between hubs (a leg to a hub not yet received) is
 * not asked about nor completed: it has not reached the buyer's side.
 * Its legs' due times are what moves it (market_legs.due_at); its own
 * timers start again when it reaches the buyer's side
 * (market_store_order_rearm).
 */
#define MARKET_SQL_NOT_AT_HUB \
    " AND NOT EXISTS (SELECT 1 FROM market_legs l WHERE l.order_ref = o.ref" \
    " AND l.to_hub IS NOT NULL AND l.state <> 'done')"
static const char market_sql_due_complete[] =
    "SELECT o.ref FROM market_orders o WHERE o.state = 'sent'"
    " AND o.expires_at <= $1 AND NOT EXISTS (SELECT 1 FROM market_disputes d"
    " WHERE d.order_ref = o.ref AND d.state = 'open')" MARKET_SQL_NOT_AT_HUB
    " ORDER BY o.expires_at, o.ref LIMIT $2";
static const char market_sql_due_delivery[] =
    "SELECT o.ref FROM market_orders o WHERE o.state = 'sent'"
    " AND o.remind_at <= $1 AND o.reminded = 0 AND NOT EXISTS (SELECT 1"
    " FROM market_disputes d WHERE d.order_ref = o.ref AND d.state = 'open')"
    MARKET_SQL_NOT_AT_HUB
    " ORDER BY o.remind_at, o.ref LIMIT $2";

int
market_store_due(struct market_call *c, enum market_due due, long long *refs,
    size_t max, size_t *n)
{
	const struct mb_host	*h = c->host;
	const char		*sql;
	struct mb_stmt		*st;
	int			 b, rc;

	*n = 0;
	switch (due) {
	case MARKET_DUE_POSTS:
		sql = market_sql_due_posts;
		break;
	case MARKET_DUE_EXPIRE:
		sql = market_sql_due_expire;
		break;
	case MARKET_DUE_REMIND:
		sql = market_sql_due_remind;
		break;
	case MARKET_DUE_UNSENT:
		sql = market_sql_due_unsent;
		break;
	case MARKET_DUE_SEND:
		sql = market_sql_due_send;
		break;
	case MARKET_DUE_COMPLETE:
		sql = market_sql_due_complete;
		break;
	default:
		sql = market_sql_due_delivery;
		break;
	}
	if ((st = h->query(c->ctx, sql)) == NULL)
		return -1;
	b = h->bind_int(st, 1, c->now);
	b |= h->bind_int(st, 2, (long long)max);
	if (b != 0)
		return market_store_fail(c, st, "cannot find what is due");
	while ((rc = h->step(st)) == MB_ROW && *n < max)
		refs[(*n)++] = h->column_int(st, 0);
	if (rc != MB_DONE && rc != MB_ROW)
		return market_store_fail(c, st, "cannot find what is due");
	h->done(st);
	return 0;
}

/* an open dispute first, else the latest closed one */
static const char market_sql_dispute_hold[] =
    "SELECT ref, state, decision FROM market_disputes WHERE order_ref = $1"
    " ORDER BY CASE WHEN state = 'open' THEN 0 ELSE 1 END,"
    " closed DESC, ref DESC LIMIT 1";

int
market_store_dispute_hold(struct market_call *c, long long ref,
    long long *dispute)
{
	const struct mb_host	*h = c->host;
	struct mb_stmt		*st;
	char			 state[8], decision[8];
	int			 rc, hold = 0;

	*dispute = 0;
	if ((st = h->query(c->ctx, market_sql_dispute_hold)) == NULL)
		return -1;
	if (h->bind_int(st, 1, ref) != 0)
		return market_store_fail(c, st, "cannot read a dispute");
	if ((rc = h->step(st)) == MB_ROW) {
		*dispute = h->column_int(st, 0);
		market_store_column(c, st, 1, state, sizeof(state));
		market_store_column(c, st, 2, decision, sizeof(decision));
		if (strcmp(state, "open") == 0)
			hold = 1;
		else if (strcmp(decision, "buyer") == 0)
			hold = 2;
	} else if (rc != MB_DONE)
		return market_store_fail(c, st, "cannot read a dispute");
	h->done(st);
	return hold;
}

/* --- reputation (market_rep.c) ---------------------------------------------------
 *
 * A record is counted from the tables each time it is shown, never kept:
 * the orders a person is a party of, the legs she carried, the disputes
 * closed against her, the ratings she was given.  What counts is
 * market_rep_sql.h's, the one definition the prices plugin's board reads
 * too: one statement, the person bound as $1 and the time now as $2 (a
 * leg still moving past its due time is late now).
 */
static const char market_sql_rep[] =
    "SELECT " MARKET_REP_SQL_COLUMNS("$1", "$2");

int
market_store_rep(struct market_call *c, const char *msisdn,
    struct market_rep *r)
{
	const struct mb_host	*h = c->host;
	struct mb_stmt		*st;
	long long		 v[MARKET_REP_SQL_NCOLUMNS];
	int			 i, rc, b;

	memset(r, 0, sizeof(*r));
	if ((st = h->query(c->ctx, market_sql_rep)) == NULL)
		return -1;
	b = market_store_bind_text(c, st, 1, msisdn);
	b |= h->bind_int(st, 2, c->now);
	if (b != 0)
		return market_store_fail(c, st, "cannot read a record");
	if ((rc = h->step(st)) != MB_ROW)
		return market_store_fail(c, st, "cannot read a record");
	for (i = 0; i < MARKET_REP_SQL_NCOLUMNS; i++)
		v[i] = h->column_int(st, i);
	h->done(st);
	r->trades = v[0];
	r->cancelled = v[1];
	r->rejected = v[2];
	r->expired = v[3];
	r->late = v[4];
	r->lost = v[5];
	r->rated = v[6];
	r->stars = v[7];
	return 0;
}

static const char market_sql_rep_cancelled[] =
    "UPDATE market_orders SET cancelled_by = $2"
    " WHERE ref = $1 AND state = 'cancelled'";

int
market_store_rep_cancelled(struct market_call *c, long long ref,
    const char *side)
{
	const struct mb_host	*h = c->host;
	struct mb_stmt		*st;
	int			 b;

	if ((st = h->query(c->ctx, market_sql_rep_cancelled)) == NULL)
		return -1;
	b = h->bind_int(st, 1, ref);
	b |= market_store_bind_text(c, st, 2, side);
	return market_store_run(c, st, b, "cannot record who cancelled");
}

/* A second rating of one order by one rater changes nothing. */
static const char market_sql_rate[] =
    "INSERT INTO market_ratings(order_ref, rater, rated, stars, created)"
    " VALUES ($1, $2, $3, $4, $5)"
    " ON CONFLICT (order_ref, rater) DO NOTHING";

int
market_store_rate(struct market_call *c, long long ref, const char *rater,
    const char *rated, int stars)
{
	const struct mb_host	*h = c->host;
	struct mb_stmt		*st;
	int			 b;

	if ((st = h->query(c->ctx, market_sql_rate)) == NULL)
		return -1;
	b = h->bind_int(st, 1, ref);
	b |= market_store_bind_text(c, st, 2, rater);
	b |= market_store_bind_text(c, st, 3, rated);
	b |= h->bind_int(st, 4, stars);
	b |= h->bind_int(st, 5, c->now);
	if (market_store_run(c, st, b, "cannot record a rating") == -1)
		return -1;
	return h->changes(c->ctx) == 1;
}

/* --- disputes (market_dispute.c) --------------------------------------------------
 *
 * PROBLEM's rows of market_disputes (schema step 5).  The daemon's admin
 * action closes them (src/admin/dispute.c): nothing here changes a
 * dispute's state.
 */

static const char market_sql_dispute_open_of[] =
    "SELECT ref, order_ref, opener, side, state, created"
    " FROM market_disputes WHERE order_ref = $1 AND state = 'open'"
    " ORDER BY ref LIMIT 1";
static const char market_sql_dispute_insert[] =
    "INSERT INTO market_disputes (ref, order_ref, opener, side, text,"
    " state, created) VALUES ($1, $2, $3, $4, $5, 'open', $6)";

int
market_store_dispute_open_of(struct market_call *c, long long ref,
    struct market_dispute *d)
{
	const struct mb_host	*h = c->host;
	struct mb_stmt		*st;
	int			 rc;

	memset(d, 0, sizeof(*d));
	if ((st = h->query(c->ctx, market_sql_dispute_open_of)) == NULL)
		return -1;
	if (h->bind_int(st, 1, ref) != 0)
		return market_store_fail(c, st, "cannot read a dispute");
	if ((rc = h->step(st)) == MB_ROW) {
		d->ref = h->column_int(st, 0);
		d->order_ref = h->column_int(st, 1);
		market_store_column(c, st, 2, d->opener, sizeof(d->opener));
		market_store_column(c, st, 3, d->side, sizeof(d->side));
		market_store_column(c, st, 4, d->state, sizeof(d->state));
		d->created = h->column_int(st, 5);
	} else if (rc != MB_DONE)
		return market_store_fail(c, st, "cannot read a dispute");
	h->done(st);
	return rc == MB_ROW ? 1 : 0;
}

int
market_store_dispute_insert(struct market_call *c,
    const struct market_dispute *d, const char *text)
{
	const struct mb_host	*h = c->host;
	struct mb_stmt		*st;
	int			 b;

	if ((st = h->query(c->ctx, market_sql_dispute_insert)) == NULL)
		return -1;
	b = h->bind_int(st, 1, d->ref);
	b |= h->bind_int(st, 2, d->order_ref);
	b |= h->bind_text(st, 3, d->opener);
	b |= h->bind_text(st, 4, d->side);
	b |= h->bind_text(st, 5, text);
	b |= h->bind_int(st, 6, d->created);
	return market_store_run(c, st, b, "cannot open a dispute");
}

/* --- legs (market_leg.c) --------------------------------------------------------
 *
 * The rows of market_legs (schema step 9): made all at once by SENT
 * through hubs, each moved by one handover (IN, OUT, PICKUP) from the
 * state it was read in.
 */

#define MARKET_LEG_COLUMNS \
    "order_ref, seq, from_hub, to_hub, carrier, code, code_tries, state," \
    " due_at, created, updated, started, ended, reminded"

static const char market_sql_leg_insert[] =
    "INSERT INTO market_legs (order_ref, seq, from_hub, to_hub, carrier,"
    " code, code_tries, state, due_at, created, updated, started)"
    " VALUES ($1, $2, $3, $4, $5, $6, 0, $7, $8, $9, $9,"
    " CASE WHEN $7 = 'moving' THEN CAST($9 AS BIGINT) END)";
static const char market_sql_legs[] =
    "SELECT " MARKET_LEG_COLUMNS " FROM market_legs WHERE order_ref = $1"
    " ORDER BY seq";
static const char market_sql_leg_update[] =
    "UPDATE market_legs SET carrier = $4, code = $5, code_tries = $6,"
    " state = $7, due_at = $8, updated = $9,"
    " started = CASE WHEN $7 = 'moving' AND state <> 'moving' THEN $9"
    " ELSE started END,"
    " ended = CASE WHEN $7 = 'done' THEN $9 ELSE ended END,"
    " reminded = CASE WHEN COALESCE(due_at, 0) ="
    " COALESCE(CAST($8 AS BIGINT), 0) THEN reminded ELSE 0 END"
    " WHERE order_ref = $1 AND seq = $2 AND state = $3";
static const char market_sql_leg_code_try[] =
    "UPDATE market_legs SET code_tries = code_tries + 1, updated = $3"
    " WHERE order_ref = $1 AND seq = $2";
static const char market_sql_leg_code_tries[] =
    "SELECT code_tries FROM market_legs WHERE order_ref = $1 AND seq = $2";
static const char market_sql_leg_problem[] =
    "UPDATE market_legs SET problem = $3, updated = $4"
    " WHERE order_ref = $1 AND seq = $2";
static const char market_sql_order_carrier[] =
    "UPDATE market_orders SET transporter = $2, updated = $3"
    " WHERE ref = $1 AND state = 'sent'";
/*
 * The parcel reached the buyer's side (IN at the last hub, OUT on the
 * last leg or to the buyer himself): the order's delivery timers start
 * again from now, as SENT set them, so a long road in the chain does not
 * leave it due (asked, completed) the moment it arrives.
 */
static const char market_sql_order_rearm[] =
    "UPDATE market_orders SET remind_at = $2, expires_at = $3, reminded = 0,"
    " updated = $4 WHERE ref = $1 AND state = 'sent'";
/* the buyer's place: the want the order counts toward, else the market
   of his newest post that names one */
static const char market_sql_buyer_place[] =
    "SELECT market FROM market_posts"
    " WHERE market IS NOT NULL AND (ref = $2 OR msisdn = $1)"
    " ORDER BY CASE WHEN ref = $2 THEN 0 ELSE 1 END, ref DESC LIMIT 1";

/*
 * The sweep's open legs (an order still sent; a leg not reached has no
 * due_at): each step due from due_at, the next one only once the last
 * is marked (reminded), so each happens once, in order, across restarts.
 */
static const char market_sql_legs_due[] =
    "SELECT l.order_ref, l.seq, l.reminded FROM market_legs l"
    " JOIN market_orders o ON o.ref = l.order_ref"
    " WHERE o.state = 'sent' AND l.state IN ('waiting', 'moving')"
    " AND l.due_at IS NOT NULL AND ((l.reminded = 0 AND l.due_at <= $1)"
    " OR (l.reminded = 1 AND l.due_at <= $1 - CAST($2 AS BIGINT))"
    " OR (l.reminded = 2 AND l.due_at <= $1 - CAST($3 AS BIGINT)))"
    " ORDER BY l.due_at, l.order_ref, l.seq LIMIT $4";
static const char market_sql_leg_pressed[] =
    "UPDATE market_legs SET reminded = reminded + 1, updated = $6"
    " WHERE order_ref = $1 AND seq = $2 AND state = $3 AND due_at = $4"
    " AND reminded = $5";

int
market_store_leg_insert(struct market_call *c, const struct market_leg *l)
{
	const struct mb_host	*h = c->host;
	struct mb_stmt		*st;
	int			 b;

	if ((st = h->query(c->ctx, market_sql_leg_insert)) == NULL)
		return -1;
	b = h->bind_int(st, 1, l->order_ref);
	b |= h->bind_int(st, 2, l->seq);
	b |= market_store_bind_text(c, st, 3, l->from_hub);
	b |= market_store_bind_text(c, st, 4, l->to_hub);
	b |= market_store_bind_text(c, st, 5, l->carrier);
	b |= market_store_bind_text(c, st, 6, l->code);
	b |= market_store_bind_text(c, st, 7, l->state);
	b |= market_store_bind_time(c, st, 8, l->due_at);
	b |= h->bind_int(st, 9, c->now);
	return market_store_run(c, st, b, "cannot write a leg");
}

int
market_store_legs(struct market_call *c, long long ref,
    struct market_leg *out, size_t max, size_t *n)
{
	const struct mb_host	*h = c->host;
	struct mb_stmt		*st;
	struct market_leg	*l;
	int			 rc;

	*n = 0;
	if ((st = h->query(c->ctx, market_sql_legs)) == NULL)
		return -1;
	if (h->bind_int(st, 1, ref) != 0)
		return market_store_fail(c, st, "cannot read legs");
	while ((rc = h->step(st)) == MB_ROW) {
		if (*n >= max)
			continue;
		l = &out[(*n)++];
		memset(l, 0, sizeof(*l));
		l->order_ref = h->column_int(st, 0);
		l->seq = (int)h->column_int(st, 1);
		market_store_column(c, st, 2, l->from_hub,
		    sizeof(l->from_hub));
		market_store_column(c, st, 3, l->to_hub, sizeof(l->to_hub));
		market_store_column(c, st, 4, l->carrier, sizeof(l->carrier));
		market_store_column(c, st, 5, l->code, sizeof(l->code));
		l->code_tries = (int)h->column_int(st, 6);
		market_store_column(c, st, 7, l->state, sizeof(l->state));
		l->due_at = h->column_int(st, 8);
		l->created = h->column_int(st, 9);
		l->updated = h->column_int(st, 10);
		l->started = h->column_int(st, 11);
		l->ended = h->column_int(st, 12);
		l->reminded = (int)h->column_int(st, 13);
	}
	if (rc != MB_DONE)
		return market_store_fail(c, st, "cannot read legs");
	h->done(st);
	return 0;
}

int
market_store_leg_update(struct market_call *c, const struct market_leg *l,
    const char *from)
{
	const struct mb_host	*h = c->host;
	struct mb_stmt		*st;
	int			 b;

	if ((st = h->query(c->ctx, market_sql_leg_update)) == NULL)
		return -1;
	b = h->bind_int(st, 1, l->order_ref);
	b |= h->bind_int(st, 2, l->seq);
	b |= market_store_bind_text(c, st, 3, from);
	b |= market_store_bind_text(c, st, 4, l->carrier);
	b |= market_store_bind_text(c, st, 5, l->code);
	b |= h->bind_int(st, 6, l->code_tries);
	b |= market_store_bind_text(c, st, 7, l->state);
	b |= market_store_bind_time(c, st, 8, l->due_at);
	b |= h->bind_int(st, 9, c->now);
	if (market_store_run(c, st, b, "cannot update a leg") == -1)
		return -1;
	return h->changes(c->ctx) == 1;
}

int
market_store_leg_code_try(struct market_call *c, long long ref, int seq,
    int *tries)
{
	const struct mb_host	*h = c->host;
	struct mb_stmt		*st;
	int			 b, rc;

	*tries = 0;
	if ((st = h->query(c->ctx, market_sql_leg_code_try)) == NULL)
		return -1;
	b = h->bind_int(st, 1, ref);
	b |= h->bind_int(st, 2, seq);
	b |= h->bind_int(st, 3, c->now);
	if (market_store_run(c, st, b, "cannot count a wrong leg code") == -1)
		return -1;
	if ((st = h->query(c->ctx, market_sql_leg_code_tries)) == NULL)
		return -1;
	b = h->bind_int(st, 1, ref);
	b |= h->bind_int(st, 2, seq);
	if (b != 0)
		return market_store_fail(c, st, "cannot read wrong leg codes");
	if ((rc = h->step(st)) == MB_ROW)
		*tries = (int)h->column_int(st, 0);
	else if (rc != MB_DONE)
		return market_store_fail(c, st, "cannot read wrong leg codes");
	h->done(st);
	return 0;
}

int
market_store_leg_problem(struct market_call *c, long long ref, int seq,
    const char *text)
{
	const struct mb_host	*h = c->host;
	struct mb_stmt		*st;
	int			 b;

	if ((st = h->query(c->ctx, market_sql_leg_problem)) == NULL)
		return -1;
	b = h->bind_int(st, 1, ref);
	b |= h->bind_int(st, 2, seq);
	b |= market_store_bind_text(c, st, 3, text);
	b |= h->bind_int(st, 4, c->now);
	return market_store_run(c, st, b, "cannot record a leg's problem");
}

int
market_store_order_rearm(struct market_call *c, long long ref)
{
	const struct mb_host	*h = c->host;
	struct mb_stmt		*st;
	int			 b;

	if ((st = h->query(c->ctx, market_sql_order_rearm)) == NULL)
		return -1;
	b = h->bind_int(st, 1, ref);
	b |= market_store_bind_time(c, st, 2,
	    c->now + c->conf->delivery_remind);
	b |= market_store_bind_time(c, st, 3,
	    c->now + c->conf->delivery_complete);
	b |= h->bind_int(st, 4, c->now);
	return market_store_run(c, st, b, "cannot restart an order's "
	    "delivery timers");
}

int
market_store_order_carrier(struct market_call *c, long long ref,
    const char *carrier)
{
	const struct mb_host	*h = c->host;
	struct mb_stmt		*st;
	int			 b;

	if ((st = h->query(c->ctx, market_sql_order_carrier)) == NULL)
		return -1;
	b = h->bind_int(st, 1, ref);
	b |= market_store_bind_text(c, st, 2, carrier);
	b |= h->bind_int(st, 3, c->now);
	return market_store_run(c, st, b, "cannot name an order's carrier");
}

int
market_store_buyer_place(struct market_call *c, const char *buyer,
    long long want, char *buf, size_t len)
{
	const struct mb_host	*h = c->host;
	struct mb_stmt		*st;
	int			 b, rc;

	buf[0] = '\0';
	if ((st = h->query(c->ctx, market_sql_buyer_place)) == NULL)
		return -1;
	b = market_store_bind_text(c, st, 1, buyer);
	b |= h->bind_int(st, 2, want);
	if (b != 0)
		return market_store_fail(c, st, "cannot read the buyer's place");
	if ((rc = h->step(st)) == MB_ROW)
		market_store_column(c, st, 0, buf, len);
	else if (rc != MB_DONE)
		return market_store_fail(c, st, "cannot read the buyer's place");
	h->done(st);
	return 0;
}

int
market_store_legs_due(struct market_call *c, struct market_leg_due *out,
    size_t max, size_t *n)
{
	const struct mb_host	*h = c->host;
	struct mb_stmt		*st;
	int			 b, rc;

	*n = 0;
	if ((st = h->query(c->ctx, market_sql_legs_due)) == NULL)
		return -1;
	b = h->bind_int(st, 1, c->now);
	b |= h->bind_int(st, 2, c->conf->leg_escalate);
	b |= h->bind_int(st, 3, c->conf->leg_escalate_admins);
	b |= h->bind_int(st, 4, (long long)max);
	if (b != 0)
		return market_store_fail(c, st, "cannot find late legs");
	while ((rc = h->step(st)) == MB_ROW && *n < max) {
		out[*n].ref = h->column_int(st, 0);
		out[*n].seq = (int)h->column_int(st, 1);
		out[*n].reminded = (int)h->column_int(st, 2);
		(*n)++;
	}
	if (rc != MB_DONE && rc != MB_ROW)
		return market_store_fail(c, st, "cannot find late legs");
	h->done(st);
	return 0;
}

int
market_store_leg_pressed(struct market_call *c, long long ref, int seq,
    const char *state, long long due_at, int reminded)
{
	const struct mb_host	*h = c->host;
	struct mb_stmt		*st;
	int			 b;

	if ((st = h->query(c->ctx, market_sql_leg_pressed)) == NULL)
		return -1;
	b = h->bind_int(st, 1, ref);
	b |= h->bind_int(st, 2, seq);
	b |= market_store_bind_text(c, st, 3, state);
	b |= h->bind_int(st, 4, due_at);
	b |= h->bind_int(st, 5, reminded);
	b |= h->bind_int(st, 6, c->now);
	if (market_store_run(c, st, b, "cannot mark a late leg") == -1)
		return -1;
	return h->changes(c->ctx) == 1;
}
