/*
 * market_store_pool.c - the SQL of pools, their share orders and tier
 * prices: the statements of market_pool.c, market_pool_order.c and
 * market_tier.c, each with its values bound, on both engines, through
 * the helpers of market_store.c (which has the schema and says how the
 * statements are written).
 */
#include <stdio.h>
#include <string.h>

#include <marketbox/plugin.h>

#include "market.h"

/* --- a pool order's share orders (market_pool_order.c) ------------------------------
 *
 * A share order is an order whose parent is the pool order it follows;
 * its member's share counts what is given to orders in sold, which can
 * never pass the share (one conditional UPDATE each way), so a member's
 * lot is never given twice.
 */

static const char market_sql_share_orders[] =
    "SELECT " MARKET_ORDER_COLUMNS " FROM market_orders o"
    " JOIN market_posts p ON p.ref = o.offer"
    " WHERE o.parent = $1 ORDER BY o.ref LIMIT $2";

int
market_store_share_orders(struct market_call *c, long long parent,
    struct market_order *out, size_t max, size_t *n)
{
	const struct mb_host	*h = c->host;
	struct mb_stmt		*st;
	int			 b, rc = MB_DONE;

	*n = 0;
	if ((st = h->query(c->ctx, market_sql_share_orders)) == NULL)
		return -1;
	b = h->bind_int(st, 1, parent);
	b |= h->bind_int(st, 2, (long long)max);
	if (b != 0)
		return market_store_fail(c, st, "cannot read share orders");
	while (*n < max && (rc = h->step(st)) == MB_ROW)
		market_store_order_read(c, st, &out[(*n)++]);
	if (*n < max && rc != MB_DONE)
		return market_store_fail(c, st, "cannot read share orders");
	h->done(st);
	return 0;
}

static const char market_sql_share_sell[] =
    "UPDATE market_pool_shares SET sold = sold + $3"
    " WHERE pool = $1 AND member = $2 AND sold + $3 <= qty";
static const char market_sql_share_give[] =
    "UPDATE market_pool_shares SET sold = sold - $3"
    " WHERE pool = $1 AND member = $2 AND sold >= $3";

int
market_store_share_sold(struct market_call *c, long long pool,
    const char *member, long long qty)
{
	const struct mb_host	*h = c->host;
	struct mb_stmt		*st;
	int			 b;

	st = h->query(c->ctx, qty >= 0 ? market_sql_share_sell :
	    market_sql_share_give);
	if (st == NULL)
		return -1;
	b = h->bind_int(st, 1, pool);
	b |= market_store_bind_text(c, st, 2, member);
	b |= h->bind_int(st, 3, qty >= 0 ? qty : -qty);
	if (market_store_run(c, st, b, "cannot count a share sold") == -1)
		return -1;
	return h->changes(c->ctx) == 1;
}

static const char market_sql_is_parent[] =
    "SELECT count(*) FROM market_orders WHERE parent = $1";

int
market_store_is_parent(struct market_call *c, long long ref)
{
	const struct mb_host	*h = c->host;
	struct mb_stmt		*st;
	long long		 n = 0;
	int			 rc;

	if ((st = h->query(c->ctx, market_sql_is_parent)) == NULL)
		return -1;
	if (h->bind_int(st, 1, ref) != 0)
		return market_store_fail(c, st, "cannot read share orders");
	if ((rc = h->step(st)) == MB_ROW)
		n = h->column_int(st, 0);
	else
		return market_store_fail(c, st, "cannot read share orders");
	h->done(st);
	return n > 0;
}

/* --- tiers (market_tier.c) ------------------------------------------------------------
 *
 * An offer's tiers and the orders that count toward them: every order on
 * the offer that still stands (not rejected, expired or cancelled), but a
 * member's share order, which a pool order already counts (parent).
 */

static const char market_sql_tier_insert[] =
    "INSERT INTO market_tiers(offer, qty, price) VALUES ($1, $2, $3)";

int
market_store_tier_insert(struct market_call *c, long long offer,
    const struct market_tier *t)
{
	const struct mb_host	*h = c->host;
	struct mb_stmt		*st;
	int			 b;

	if ((st = h->query(c->ctx, market_sql_tier_insert)) == NULL)
		return -1;
	b = h->bind_int(st, 1, offer);
	b |= h->bind_int(st, 2, t->qty);
	b |= h->bind_int(st, 3, t->price);
	return market_store_run(c, st, b, "cannot insert a tier");
}

static const char market_sql_tiers[] =
    "SELECT qty, price, reached FROM market_tiers WHERE offer = $1"
    " ORDER BY qty";

int
market_store_tiers(struct market_call *c, long long offer,
    struct market_tier *out, size_t max, size_t *n)
{
	const struct mb_host	*h = c->host;
	struct mb_stmt		*st;
	int			 rc;

	*n = 0;
	if ((st = h->query(c->ctx, market_sql_tiers)) == NULL)
		return -1;
	if (h->bind_int(st, 1, offer) != 0)
		return market_store_fail(c, st, "cannot read tiers");
	while ((rc = h->step(st)) == MB_ROW) {
		if (*n >= max)
			continue;
		out[*n].qty = h->column_int(st, 0);
		out[*n].price = h->column_int(st, 1);
		out[*n].reached = h->column_null(st, 2) ? 0 :
		    h->column_int(st, 2);
		(*n)++;
	}
	if (rc != MB_DONE)
		return market_store_fail(c, st, "cannot read tiers");
	h->done(st);
	return 0;
}

static const char market_sql_tier_reach[] =
    "UPDATE market_tiers SET reached = $3"
    " WHERE offer = $1 AND qty = $2 AND reached IS NULL";

int
market_store_tier_reach(struct market_call *c, long long offer,
    long long qty)
{
	const struct mb_host	*h = c->host;
	struct mb_stmt		*st;
	int			 b;

	if ((st = h->query(c->ctx, market_sql_tier_reach)) == NULL)
		return -1;
	b = h->bind_int(st, 1, offer);
	b |= h->bind_int(st, 2, qty);
	b |= h->bind_int(st, 3, c->now);
	if (market_store_run(c, st, b, "cannot mark a tier reached") == -1)
		return -1;
	return h->changes(c->ctx) == 1;
}

static const char market_sql_tier_ordered[] =
    "SELECT COALESCE(SUM(qty), 0) FROM market_orders"
    " WHERE offer = $1 AND parent IS NULL"
    " AND state NOT IN ('rejected', 'expired', 'cancelled')";

int
market_store_tier_ordered(struct market_call *c, long long offer,
    long long *sum)
{
	const struct mb_host	*h = c->host;
	struct mb_stmt		*st;

	*sum = 0;
	if ((st = h->query(c->ctx, market_sql_tier_ordered)) == NULL)
		return -1;
	if (h->bind_int(st, 1, offer) != 0 || h->step(st) != MB_ROW)
		return market_store_fail(c, st, "cannot count the orders");
	*sum = h->column_int(st, 0);
	h->done(st);
	return 0;
}

/*
 * qty * price: both at most 10^6 and 10^11, the total within int64.  The
 * share orders of a pool order repriced first (their parent still above
 * the price), then the orders themselves: the shares sum to their pool
 * order's want part at the same price.
 */
static const char market_sql_tier_reprice_shares[] =
    "UPDATE market_orders SET price = $2, total = qty * $2, updated = $3"
    " WHERE parent IN (SELECT ref FROM market_orders WHERE offer = $1"
    "  AND parent IS NULL AND price > $2"
    "  AND state IN ('pending', 'accepted'))";
static const char market_sql_tier_reprice[] =
    "UPDATE market_orders SET price = $2, total = qty * $2, updated = $3"
    " WHERE offer = $1 AND parent IS NULL AND price > $2"
    " AND state IN ('pending', 'accepted')";

int
market_store_tier_reprice(struct market_call *c, long long offer,
    long long price)
{
	const struct mb_host	*h = c->host;
	struct mb_stmt		*st;
	const char		*sql[] = { market_sql_tier_reprice_shares,
				    market_sql_tier_reprice };
	size_t			 i;
	int			 b;

	for (i = 0; i < sizeof(sql) / sizeof(sql[0]); i++) {
		if ((st = h->query(c->ctx, sql[i])) == NULL)
			return -1;
		b = h->bind_int(st, 1, offer);
		b |= h->bind_int(st, 2, price);
		b |= h->bind_int(st, 3, c->now);
		if (market_store_run(c, st, b, "cannot reprice the orders") ==
		    -1)
			return -1;
	}
	return 0;
}

/* the pool: 0 for an orderer; a member's (one per member and pool) */
static const char market_sql_tier_buyers[] =
    "SELECT buyer, SUM(qty), SUM(total), 0 FROM market_orders"
    " WHERE offer = $1 AND parent IS NULL AND buyer > $2"
    " AND state IN ('pending', 'accepted')"
    " GROUP BY buyer ORDER BY buyer LIMIT $3";
static const char market_sql_tier_members[] =
    "SELECT buyer, SUM(qty), SUM(total), MIN(want) FROM market_orders"
    " WHERE offer = $1 AND parent IS NOT NULL AND want IS NOT NULL"
    " AND buyer > $2 AND state IN ('pending', 'accepted')"
    " GROUP BY buyer ORDER BY buyer LIMIT $3";

int
market_store_tier_buyers(struct market_call *c, long long offer,
    int members, const char *after, struct market_tier_buyer *out,
    size_t max, size_t *n)
{
	const struct mb_host	*h = c->host;
	struct mb_stmt		*st;
	int			 b, rc;

	*n = 0;
	if ((st = h->query(c->ctx, members ? market_sql_tier_members :
	    market_sql_tier_buyers)) == NULL)
		return -1;
	b = h->bind_int(st, 1, offer);
	b |= h->bind_text(st, 2, after);
	b |= h->bind_int(st, 3, (long long)max);
	if (b != 0)
		return market_store_fail(c, st, "cannot list the orderers");
	while ((rc = h->step(st)) == MB_ROW && *n < max) {
		market_store_column(c, st, 0, out[*n].buyer,
		    sizeof(out[*n].buyer));
		out[*n].qty = h->column_int(st, 1);
		out[*n].total = h->column_int(st, 2);
		out[*n].pool = h->column_int(st, 3);
		(*n)++;
	}
	if (rc != MB_DONE && rc != MB_ROW)
		return market_store_fail(c, st, "cannot list the orderers");
	h->done(st);
	return 0;
}

static const char market_sql_offer_pending[] =
    "SELECT ref FROM market_orders WHERE offer = $1 AND seller = $2"
    " AND parent IS NULL AND state = 'pending' ORDER BY ref LIMIT $3";

int
market_store_offer_pending(struct market_call *c, long long offer,
    const char *seller, long long *refs, size_t max, size_t *n)
{
	const struct mb_host	*h = c->host;
	struct mb_stmt		*st;
	int			 b, rc;

	*n = 0;
	if ((st = h->query(c->ctx, market_sql_offer_pending)) == NULL)
		return -1;
	b = h->bind_int(st, 1, offer);
	b |= market_store_bind_text(c, st, 2, seller);
	b |= h->bind_int(st, 3, (long long)max);
	if (b != 0)
		return market_store_fail(c, st, "cannot list pending orders");
	while ((rc = h->step(st)) == MB_ROW && *n < max)
		refs[(*n)++] = h->column_int(st, 0);
	if (rc != MB_DONE && rc != MB_ROW)
		return market_store_fail(c, st, "cannot list pending orders");
	h->done(st);
	return 0;
}

/* --- an OFFER's pool, and a buying pool its opener's order is too dear for --- */

static const char market_sql_post_pool_set[] =
    "UPDATE market_posts SET pool = $2 WHERE ref = $1";

int
market_store_post_pool_set(struct market_call *c, long long ref,
    long long pool)
{
	struct mb_stmt	*st;
	int		 b;

	if ((st = c->host->query(c->ctx, market_sql_post_pool_set)) == NULL)
		return -1;
	b = c->host->bind_int(st, 1, ref);
	b |= c->host->bind_int(st, 2, pool);
	return market_store_run(c, st, b, "cannot name an offer's pool");
}

/* the order's buyer's pool of its offer's commodity that pays less */
static const char market_sql_pool_dear[] =
    "SELECT l.ref, l.price FROM market_orders o"
    " JOIN market_posts op ON op.ref = o.offer"
    " JOIN market_pools l ON l.opener = o.buyer AND l.kind = 'want'"
    "  AND l.state = 'listed' AND l.commodity = op.commodity"
    "  AND l.unit = op.unit AND l.price < o.price"
    " JOIN market_posts p ON p.ref = l.ref"
    " WHERE o.ref = $1 AND p.state = 'open' AND p.qty_left > 0"
    " AND p.expires > $2 ORDER BY l.ref LIMIT 1";

int
market_store_pool_dear(struct market_call *c, long long order,
    long long *pool, long long *max)
{
	struct mb_stmt	*st = c->host->query(c->ctx, market_sql_pool_dear);
	int		 b, rc = MB_DONE;

	*pool = *max = 0;
	if (st == NULL)
		return -1;
	b = c->host->bind_int(st, 1, order);
	b |= c->host->bind_int(st, 2, c->now);
	/* one row at most (LIMIT 1) */
	while (b == 0 && (rc = c->host->step(st)) == MB_ROW) {
		*pool = c->host->column_int(st, 0);
		*max = c->host->column_int(st, 1);
	}
	if (b != 0 || rc != MB_DONE)
		return market_store_fail(c, st, "cannot read the buying pools");
	c->host->done(st);
	return 0;
}

/* --- pools (market_pool.c) ------------------------------------------------------------
 *
 * A pool is read with the sum and count of its shares, so that a caller
 * never adds them up itself; shares in order of joining (seq).
 */

#define MARKET_POOL_COLUMNS \
    "p.ref, p.kind, p.opener, p.commodity, p.unit, p.market, p.target," \
    " p.price, p.rule, p.state, p.created, p.deadline, p.told," \
    " (SELECT COALESCE(SUM(s.qty), 0) FROM market_pool_shares s" \
    "  WHERE s.pool = p.ref)," \
    " (SELECT COUNT(*) FROM market_pool_shares s WHERE s.pool = p.ref)"

static void
market_store_pool_read(struct market_call *c, struct mb_stmt *st,
    struct market_pool *p)
{
	const struct mb_host	*h = c->host;

	memset(p, 0, sizeof(*p));
	p->ref = h->column_int(st, 0);
	market_store_column(c, st, 1, p->kind, sizeof(p->kind));
	market_store_column(c, st, 2, p->opener, sizeof(p->opener));
	market_store_column(c, st, 3, p->commodity, sizeof(p->commodity));
	market_store_column(c, st, 4, p->unit, sizeof(p->unit));
	market_store_column(c, st, 5, p->market, sizeof(p->market));
	p->target = h->column_int(st, 6);
	p->price = h->column_int(st, 7);
	market_store_column(c, st, 8, p->rule, sizeof(p->rule));
	market_store_column(c, st, 9, p->state, sizeof(p->state));
	p->created = h->column_int(st, 10);
	p->deadline = h->column_int(st, 11);
	p->told = (int)h->column_int(st, 12);
	p->total = h->column_int(st, 13);
	p->members = h->column_int(st, 14);
}

static const char market_sql_pool_insert[] =
    "INSERT INTO market_pools(ref, kind, opener, commodity, unit, market,"
    " target, price, rule, state, created, deadline, told)"
    " VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, 0)";

int
market_store_pool_insert(struct market_call *c, const struct market_pool *p)
{
	const struct mb_host	*h = c->host;
	struct mb_stmt		*st;
	int			 b;

	if ((st = h->query(c->ctx, market_sql_pool_insert)) == NULL)
		return -1;
	b = h->bind_int(st, 1, p->ref);
	b |= market_store_bind_text(c, st, 2, p->kind);
	b |= market_store_bind_text(c, st, 3, p->opener);
	b |= market_store_bind_text(c, st, 4, p->commodity);
	b |= market_store_bind_text(c, st, 5, p->unit);
	b |= market_store_bind_text(c, st, 6, p->market);
	b |= h->bind_int(st, 7, p->target);
	b |= h->bind_int(st, 8, p->price);
	b |= market_store_bind_text(c, st, 9, p->rule);
	b |= market_store_bind_text(c, st, 10, p->state);
	b |= h->bind_int(st, 11, p->created);
	b |= h->bind_int(st, 12, p->deadline);
	return market_store_run(c, st, b, "cannot insert a pool");
}

static const char market_sql_pool_get[] =
    "SELECT " MARKET_POOL_COLUMNS " FROM market_pools p WHERE p.ref = $1";

int
market_store_pool_get(struct market_call *c, long long ref,
    struct market_pool *p)
{
	const struct mb_host	*h = c->host;
	struct mb_stmt		*st;
	int			 rc;

	if ((st = h->query(c->ctx, market_sql_pool_get)) == NULL)
		return -1;
	if (h->bind_int(st, 1, ref) != 0)
		return market_store_fail(c, st, "cannot read a pool");
	rc = h->step(st);
	if (rc == MB_ROW)
		market_store_pool_read(c, st, p);
	else if (rc != MB_DONE)
		return market_store_fail(c, st, "cannot read a pool");
	h->done(st);
	return rc == MB_ROW;
}

/* The step is taken only from the state the caller read (two messages
   racing for one pool: one of them finds it moved). */
static const char market_sql_pool_state[] =
    "UPDATE market_pools SET state = $3 WHERE ref = $1 AND state = $2";

int
market_store_pool_state(struct market_call *c, long long ref,
    const char *from, const char *to)
{
	const struct mb_host	*h = c->host;
	struct mb_stmt		*st;
	int			 b;

	if ((st = h->query(c->ctx, market_sql_pool_state)) == NULL)
		return -1;
	b = h->bind_int(st, 1, ref);
	b |= market_store_bind_text(c, st, 2, from);
	b |= market_store_bind_text(c, st, 3, to);
	if (market_store_run(c, st, b, "cannot move a pool") == -1)
		return -1;
	return h->changes(c->ctx) == 1;
}

static const char market_sql_pool_told[] =
    "UPDATE market_pools SET told = 1 WHERE ref = $1";

int
market_store_pool_told(struct market_call *c, long long ref)
{
	const struct mb_host	*h = c->host;
	struct mb_stmt		*st;
	int			 b;

	if ((st = h->query(c->ctx, market_sql_pool_told)) == NULL)
		return -1;
	b = h->bind_int(st, 1, ref);
	return market_store_run(c, st, b, "cannot mark a pool told");
}

#define MARKET_SHARE_COLUMNS "pool, member, qty, sold, seq, joined"

static void
market_store_share_read(struct market_call *c, struct mb_stmt *st,
    struct market_share *s)
{
	const struct mb_host	*h = c->host;

	memset(s, 0, sizeof(*s));
	s->pool = h->column_int(st, 0);
	market_store_column(c, st, 1, s->member, sizeof(s->member));
	s->qty = h->column_int(st, 2);
	s->sold = h->column_int(st, 3);
	s->seq = h->column_int(st, 4);
	s->joined = h->column_int(st, 5);
}

static const char market_sql_shares[] =
    "SELECT " MARKET_SHARE_COLUMNS " FROM market_pool_shares"
    " WHERE pool = $1 ORDER BY seq LIMIT $2";

int
market_store_shares(struct market_call *c, long long pool,
    struct market_share *out, size_t max, size_t *n)
{
	const struct mb_host	*h = c->host;
	struct mb_stmt		*st;
	int			 b, rc = MB_DONE;

	*n = 0;
	if ((st = h->query(c->ctx, market_sql_shares)) == NULL)
		return -1;
	b = h->bind_int(st, 1, pool);
	b |= h->bind_int(st, 2, (long long)max);
	if (b != 0)
		return market_store_fail(c, st, "cannot read a pool's shares");
	while (*n < max && (rc = h->step(st)) == MB_ROW)
		market_store_share_read(c, st, &out[(*n)++]);
	if (*n < max && rc != MB_DONE)
		return market_store_fail(c, st, "cannot read a pool's shares");
	h->done(st);
	return 0;
}

static const char market_sql_share_get[] =
    "SELECT " MARKET_SHARE_COLUMNS " FROM market_pool_shares"
    " WHERE pool = $1 AND member = $2";

int
market_store_share_get(struct market_call *c, long long pool,
    const char *member, struct market_share *s)
{
	const struct mb_host	*h = c->host;
	struct mb_stmt		*st;
	int			 b, rc;

	if ((st = h->query(c->ctx, market_sql_share_get)) == NULL)
		return -1;
	b = h->bind_int(st, 1, pool);
	b |= market_store_bind_text(c, st, 2, member);
	if (b != 0)
		return market_store_fail(c, st, "cannot read a share");
	rc = h->step(st);
	if (rc == MB_ROW)
		market_store_share_read(c, st, s);
	else if (rc != MB_DONE)
		return market_store_fail(c, st, "cannot read a share");
	h->done(st);
	return rc == MB_ROW;
}

/* A new share comes after every share the pool has had (seq), so the
   order of joining survives members leaving. */
static const char market_sql_share_seq[] =
    "SELECT COALESCE(MAX(seq), 0) + 1 FROM market_pool_shares"
    " WHERE pool = $1";
static const char market_sql_share_insert[] =
    "INSERT INTO market_pool_shares(pool, member, qty, sold, seq, joined)"
    " VALUES ($1, $2, $3, 0, $4, $5)";
static const char market_sql_share_qty[] =
    "UPDATE market_pool_shares SET qty = $3"
    " WHERE pool = $1 AND member = $2 AND sold <= $3";

/* Set member's share of pool to qty (a new share when !exists): 1 done,
   0 not (less than she has sold already). */
int
market_store_share_put(struct market_call *c, long long pool,
    const char *member, long long qty, int exists)
{
	const struct mb_host	*h = c->host;
	struct mb_stmt		*st;
	long long		 seq = 1;
	int			 b, rc;

	if (!exists) {
		if ((st = h->query(c->ctx, market_sql_share_seq)) == NULL)
			return -1;
		if (h->bind_int(st, 1, pool) != 0)
			return market_store_fail(c, st, "cannot number shares");
		if ((rc = h->step(st)) == MB_ROW)
			seq = h->column_int(st, 0);
		else if (rc != MB_DONE)
			return market_store_fail(c, st, "cannot number shares");
		h->done(st);
	}
	st = h->query(c->ctx, exists ? market_sql_share_qty :
	    market_sql_share_insert);
	if (st == NULL)
		return -1;
	b = h->bind_int(st, 1, pool);
	b |= market_store_bind_text(c, st, 2, member);
	b |= h->bind_int(st, 3, qty);
	if (!exists) {
		b |= h->bind_int(st, 4, seq);
		b |= h->bind_int(st, 5, c->now);
	}
	if (market_store_run(c, st, b, "cannot write a share") == -1)
		return -1;
	return h->changes(c->ctx) == 1;
}

/* Only a share of which nothing is sold leaves (1), else 0. */
static const char market_sql_share_delete[] =
    "DELETE FROM market_pool_shares"
    " WHERE pool = $1 AND member = $2 AND sold = 0";

int
market_store_share_delete(struct market_call *c, long long pool,
    const char *member)
{
	const struct mb_host	*h = c->host;
	struct mb_stmt		*st;
	int			 b;

	if ((st = h->query(c->ctx, market_sql_share_delete)) == NULL)
		return -1;
	b = h->bind_int(st, 1, pool);
	b |= market_store_bind_text(c, st, 2, member);
	if (market_store_run(c, st, b, "cannot remove a share") == -1)
		return -1;
	return h->changes(c->ctx) == 1;
}

static const char market_sql_pool_sold[] =
    "SELECT COALESCE(SUM(sold), 0) FROM market_pool_shares WHERE pool = $1";

int
market_store_pool_sold(struct market_call *c, long long pool, long long *sold)
{
	const struct mb_host	*h = c->host;
	struct mb_stmt		*st;

	*sold = 0;
	if ((st = h->query(c->ctx, market_sql_pool_sold)) == NULL)
		return -1;
	if (h->bind_int(st, 1, pool) != 0 || h->step(st) != MB_ROW)
		return market_store_fail(c, st, "cannot count a pool sold");
	*sold = h->column_int(st, 0);
	h->done(st);
	return 0;
}

/*
 * Pools someone opened or has a share in, newest first: open and listed
 * ones, and a sold one while it matters: a share order of it is still
 * live (a sell pool's share orders are on its offer, a buying pool's on
 * its want), or its post ended less than $2 (now - offer-lifetime) ago.
 * A sold pool is otherwise done; without the limit MY would read every
 * pool one ever sold.
 */
static const char market_sql_my_pools[] =
    "SELECT " MARKET_POOL_COLUMNS " FROM market_pools p"
    " WHERE (p.opener = $1 OR EXISTS (SELECT 1 FROM market_pool_shares s"
    "  WHERE s.pool = p.ref AND s.member = $1))"
    " AND (p.state IN ('open', 'listed') OR (p.state = 'sold' AND ("
    "  EXISTS (SELECT 1 FROM market_orders o WHERE o.parent IS NOT NULL"
    "   AND o.state IN ('pending', 'accepted', 'sent')"
    "   AND ((p.kind = 'sell' AND o.offer = p.ref)"
    "   OR (p.kind = 'want' AND o.want = p.ref)))"
    "  OR EXISTS (SELECT 1 FROM market_posts q WHERE q.ref = p.ref"
    "   AND q.expires > $2))))"
    " ORDER BY p.ref DESC LIMIT $3";

int
market_store_my_pools(struct market_call *c, const char *msisdn,
    struct market_pool *out, size_t max, size_t *n, size_t *total)
{
	const struct mb_host	*h = c->host;
	struct mb_stmt		*st;
	int			 b, rc = MB_DONE;

	*n = *total = 0;
	if ((st = h->query(c->ctx, market_sql_my_pools)) == NULL)
		return -1;
	b = market_store_bind_text(c, st, 1, msisdn);
	b |= h->bind_int(st, 2, c->now - c->conf->offer_lifetime);
	b |= h->bind_int(st, 3, (long long)max);
	if (b != 0)
		return market_store_fail(c, st, "cannot list pools");
	while (*n < max && (rc = h->step(st)) == MB_ROW) {
		market_store_pool_read(c, st, &out[(*n)++]);
		(*total)++;
	}
	if (*n < max && rc != MB_DONE)
		return market_store_fail(c, st, "cannot list pools");
	h->done(st);
	return 0;
}

/*
 * Open pools due at call->now, oldest deadline first, at most max refs:
 * past their deadline and not yet told (lapse 0), or past their deadline
 * and grace (lapse 1, grace in seconds).
 */
static const char market_sql_pools_due_tell[] =
    "SELECT ref FROM market_pools WHERE state = 'open' AND deadline <= $1"
    " AND told = 0 ORDER BY deadline, ref LIMIT $2";
static const char market_sql_pools_due_lapse[] =
    "SELECT ref FROM market_pools WHERE state = 'open' AND deadline <= $1"
    " ORDER BY deadline, ref LIMIT $2";

int
market_store_pools_due(struct market_call *c, int lapse, long long grace,
    long long *refs, size_t max, size_t *n)
{
	const struct mb_host	*h = c->host;
	struct mb_stmt		*st;
	int			 b, rc;

	*n = 0;
	st = h->query(c->ctx, lapse ? market_sql_pools_due_lapse :
	    market_sql_pools_due_tell);
	if (st == NULL)
		return -1;
	b = h->bind_int(st, 1, lapse ? c->now - grace : c->now);
	b |= h->bind_int(st, 2, (long long)max);
	if (b != 0)
		return market_store_fail(c, st, "cannot find pools due");
	while ((rc = h->step(st)) == MB_ROW && *n < max)
		refs[(*n)++] = h->column_int(st, 0);
	if (rc != MB_DONE && rc != MB_ROW)
		return market_store_fail(c, st, "cannot find pools due");
	h->done(st);
	return 0;
}
