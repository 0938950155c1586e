/*
 * prices_sql.h - the SQL of the price board's offers, shared by the prices
 * plugin (prices_store.c) and tests/bench/rep-bench.c, which times it with
 * and without the sellers' records on synthetic data.  SQL fragments
 * only: string literals joined by the compiler, no symbol.
 */
#ifndef MARKETBOX_PRICES_SQL_H
#define MARKETBOX_PRICES_SQL_H

#include "../market/market_rep_sql.h"

/*
 * The board's offers: the cheapest open ones of commodity in its unit,
 * $4 of them, with the number of farmers in each that is a listed sell
 * pool (a pool's offer has the pool's ref: market_pools,
 * market_pool_shares), 0 for a plain offer, and its seller's record
 * (the market plugin's own definition of it, market_rep_sql.h, at $3,
 * now); over every market, or at PRICES_IN_MAX markets bound from $5.
 * Without the pool tables the count is 0; without the tables of the
 * record, no record.  The cheapest are chosen first (the inner SELECT,
 * a co-routine on SQLite), so the counts are read for those $4 rows
 * only, however many offers there are: one statement for a board (for
 * each PRICES_IN_MAX markets of a region).
 */
#define PRICES_SQL_OFFERS(FARMERS, REP, WHERE) \
	"SELECT board.ref, board.price, board.qty_left, " FARMERS REP \
	" FROM (SELECT p.ref, p.price, p.qty_left, p.msisdn" \
	" FROM market_posts AS p" \
	" WHERE p.kind = 'offer' AND p.state = 'open' AND p.qty_left > 0" \
	" AND p.commodity = $1 AND p.unit = $2" \
	" AND (p.expires IS NULL OR p.expires > $3) AND p.price > 0" \
	WHERE " ORDER BY p.price, p.ref LIMIT $4) AS board" \
	" ORDER BY board.price, board.ref"
#define PRICES_SQL_FARMERS \
	"(SELECT count(*) FROM market_pools AS l" \
	" JOIN market_pool_shares AS s ON s.pool = l.ref" \
	" WHERE l.ref = board.ref AND l.kind = 'sell')"
#define PRICES_SQL_REP \
	", " MARKET_REP_SQL_COLUMNS("board.msisdn", "$3")
#define PRICES_SQL_IN \
	" AND p.market IN ($5, $6, $7, $8, $9, $10, $11, $12)"

#endif
