/*
 * market_rep_sql.h - a person's record (reputation) as SQL over the
 * market plugin's tables: the one definition of what counts for and
 * against her, included by the market plugin (market_store.c:
 * market_store_rep, for INFO and the notices) and by the prices plugin
 * (prices_store.c: each offer's seller on the board), so that the two
 * can never count differently.  SQL fragments only: string literals
 * joined by the compiler, nothing linked, no symbol.
 *
 * Each macro takes W, the SQL expression of the person (a bound "$1", or
 * a column of the reader's query such as "board.msisdn"), and the late
 * legs NOW, the SQL expression of the time now (bound).  The aliases used
 * inside (o, p, l, d, g, r) are the fragments' own: W must not name them.
 * The same text runs on SQLite and PostgreSQL.
 *
 * MARKET_REP_SQL_COLUMNS(W, NOW) is eight columns, in this order, each a
 * scalar subquery (so a reader can put them beside its own columns, one
 * row per person):
 *	trades		her orders delivered, as buyer or seller
 *	cancelled	orders cancelled by her side (cancelled_by)
 *	rejected	orders she rejected as seller
 *	expired		orders she left to expire unanswered, as seller
 *	late		legs she carried that ended after their due time,
 *			or are still moving past it at NOW (market_legs:
 *			a done leg keeps its last due time)
 *	lost		closed disputes decided for the other side
 *	rated		ratings she was given
 *	stars		their sum (0 when none)
 * An order counts for its buyer and its seller, but a member's share
 * order only for its member (the seller of a sell pool's lot, the buyer
 * of a want pool's: the other side has the pool order), so one delivery
 * is one trade for each person; and not when she is a party of the pool
 * order too (an opener who joined his own pool: the pool order counts
 * for him).  Rejected and expired count only on an order of its own
 * (parent NULL): a share order follows the opener's decision.
 *
 * The indexes that keep it to a few ranges of an index a person, without
 * the tables (market schema step 11 made them hold the columns the rules
 * read): market_orders_seller and market_orders_buyer (the person, state,
 * then parent, cancelled_by, the other side, offer, want),
 * market_orders_parent, market_legs_carrier (carrier, state, due_at,
 * ended), market_disputes_order (order_ref, state, decision) and
 * market_ratings_rated (rated, stars).  tests/bench/rep-bench times the
 * price board with and without the records on 200,000 orders.
 */
#ifndef MARKETBOX_MARKET_REP_SQL_H
#define MARKETBOX_MARKET_REP_SQL_H

/* o, an order of W's, counts for W (see above) */
#define MARKET_REP_SQL_PARTY(W) \
    " (o.parent IS NULL" \
    " OR (NOT EXISTS (SELECT 1 FROM market_orders p WHERE p.ref = o.parent" \
    " AND (p.buyer = " W " OR p.seller = " W "))" \
    " AND ((o.seller = " W " AND EXISTS (SELECT 1 FROM market_pools l" \
    " WHERE l.ref = o.offer AND l.kind = 'sell'))" \
    " OR (o.buyer = " W " AND EXISTS (SELECT 1 FROM market_pools l" \
    " WHERE l.ref = o.want AND l.kind = 'want')))))"

/*
 * W's orders that count for her, as o, and what counts of them: as
 * seller, then as buyer of another's, two counts added (an OR of the two
 * would read every row of hers from the table; each side alone is one
 * range of its index, market_orders_seller or market_orders_buyer, which
 * holds every column the rules read: state first, so that a count reads
 * the orders of its state only, without the table)
 */
#define MARKET_REP_SQL_ORDERS_OF(W, SIDE, WHAT) \
    "(SELECT count(*) FROM market_orders o WHERE " SIDE " AND" \
    MARKET_REP_SQL_PARTY(W) " AND " WHAT ")"
#define MARKET_REP_SQL_ORDERS(W, WHAT) \
    "(" MARKET_REP_SQL_ORDERS_OF(W, "o.seller = " W, WHAT) " + " \
    MARKET_REP_SQL_ORDERS_OF(W, "o.buyer = " W " AND o.seller <> " W, \
    WHAT) ")"

#define MARKET_REP_SQL_TRADE(W) "o.state = 'delivered'"
#define MARKET_REP_SQL_CANCELLED(W) \
    "o.state = 'cancelled' AND" \
    " ((o.cancelled_by = 'buyer' AND o.buyer = " W ") OR" \
    " (o.cancelled_by = 'seller' AND o.seller = " W "))"
#define MARKET_REP_SQL_REJECTED(W) \
    "o.state = 'rejected' AND o.seller = " W " AND o.parent IS NULL"
#define MARKET_REP_SQL_EXPIRED(W) \
    "o.state = 'expired' AND o.seller = " W " AND o.parent IS NULL"

/* the legs W carried late */
#define MARKET_REP_SQL_LATE(W, NOW) \
    "(SELECT count(*) FROM market_legs g WHERE g.carrier = " W \
    " AND g.due_at IS NOT NULL" \
    " AND ((g.state = 'done' AND g.ended > g.due_at)" \
    " OR (g.state = 'moving' AND g.due_at < " NOW ")))"

/*
 * a closed dispute is lost by the side it was not decided for: read from
 * W's orders, as seller then as buyer (the two cannot both hold for one
 * dispute), each probing market_disputes_order, which holds the state
 * and the decision (reading the closed disputes of everyone for each
 * person was the cost of this count)
 */
#define MARKET_REP_SQL_LOST_AS(SIDE, DECISION) \
    "(SELECT count(*) FROM market_orders o" \
    " JOIN market_disputes d ON d.order_ref = o.ref" \
    " WHERE " SIDE " AND d.state = 'closed' AND d.decision = '" \
    DECISION "')"
#define MARKET_REP_SQL_LOST(W) \
    "(" MARKET_REP_SQL_LOST_AS("o.seller = " W, "buyer") " + " \
    MARKET_REP_SQL_LOST_AS("o.buyer = " W, "seller") ")"

#define MARKET_REP_SQL_RATED(W) \
    "(SELECT count(*) FROM market_ratings r WHERE r.rated = " W ")"
#define MARKET_REP_SQL_STARS(W) \
    "(SELECT COALESCE(SUM(r.stars), 0) FROM market_ratings r" \
    " WHERE r.rated = " W ")"

#define MARKET_REP_SQL_COLUMNS(W, NOW) \
    MARKET_REP_SQL_ORDERS(W, MARKET_REP_SQL_TRADE(W)) "," \
    MARKET_REP_SQL_ORDERS(W, "(" MARKET_REP_SQL_CANCELLED(W) ")") "," \
    MARKET_REP_SQL_ORDERS(W, "(" MARKET_REP_SQL_REJECTED(W) ")") "," \
    MARKET_REP_SQL_ORDERS(W, "(" MARKET_REP_SQL_EXPIRED(W) ")") "," \
    MARKET_REP_SQL_LATE(W, NOW) "," \
    MARKET_REP_SQL_LOST(W) "," \
    MARKET_REP_SQL_RATED(W) "," \
    MARKET_REP_SQL_STARS(W)
#define MARKET_REP_SQL_NCOLUMNS	8

#endif
