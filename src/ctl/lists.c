/*
 * lists.c - marketctl's lists of what the database holds now: users,
 * offers, orders (the market plugin's tables) and outbox.  Each is one
 * query with its filters bound; rows.c prints the rows.
 */
#include "config.h"

#include <string.h>

#include "store/store.h"
#include "ctl/ctl.h"

int
ctl_users(struct ctl *c, const struct ctl_args *a)
{
	static const char sql[] =
	    "SELECT msisdn AS phone, name, market, language, role, "
	    "CASE opt_out WHEN 0 THEN 'no' ELSE 'yes' END AS stop, trades, "
	    "created AS since FROM users "
	    "WHERE (CAST($1 AS TEXT) IS NULL OR market = $1) "
	    "AND (CAST($2 AS TEXT) IS NULL OR role = $2) "
	    "AND (CAST($3 AS TEXT) IS NULL OR COALESCE(language, '') = $3) "
	    "AND ($4 = 0 OR opt_out <> 0) ORDER BY id";
	struct store_stmt	*st;

	if ((st = ctl_prepare(c, sql)) == NULL)
		return 1;
	store_bind_text(st, 1, a->f.market);
	store_bind_text(st, 2, a->f.role);
	store_bind_text(st, 3, a->f.language);
	store_bind_int(st, 4, a->f.opted_out);
	return ctl_print_stmt(c, stdout, st, "ttttttnd", ctl_limit(c),
	    NULL) == 0 ? 0 : 1;
}

int
ctl_offers(struct ctl *c, const struct ctl_args *a)
{
	static const char sql[] =
	    "SELECT ref, kind, msisdn AS phone, commodity, market, qty, "
	    "qty_left AS left, unit, price, state, created AS posted, "
	    "expires FROM market_posts "
	    "WHERE (CAST($1 AS TEXT) IS NULL OR kind = $1) "
	    "AND (CAST($2 AS TEXT) IS NULL OR state = $2) "
	    "AND (CAST($3 AS TEXT) IS NULL OR commodity = $3) "
	    "AND (CAST($4 AS TEXT) IS NULL OR market = $4) "
	    "ORDER BY ref DESC";
	struct store_stmt	*st;
	const char		*state = a->f.state != NULL ? a->f.state :
				    "open";

	if (ctl_need_market(c) == -1)
		return 1;
	if ((st = ctl_prepare(c, sql)) == NULL)
		return 1;
	store_bind_text(st, 1, a->f.kind);
	store_bind_text(st, 2, strcmp(state, "all") == 0 ? NULL : state);
	store_bind_text(st, 3, a->f.commodity);
	store_bind_text(st, 4, a->f.market);
	return ctl_print_stmt(c, stdout, st, "nttttnntmtDD", ctl_limit(c),
	    NULL) == 0 ? 0 : 1;
}

int
ctl_orders(struct ctl *c, const struct ctl_args *a)
{
	static const char sql[] =
	    "SELECT o.ref, o.offer, p.commodity, p.market, o.qty, p.unit, "
	    "o.price AS price, o.total AS total, o.seller, o.buyer, o.state, "
	    "o.updated AS updated FROM market_orders o "
	    "LEFT JOIN market_posts p ON p.ref = o.offer "
	    "WHERE (CAST($1 AS TEXT) IS NULL OR o.state = $1) "
	    "ORDER BY o.ref DESC";
	struct store_stmt	*st;

	if (ctl_need_market(c) == -1)
		return 1;
	if ((st = ctl_prepare(c, sql)) == NULL)
		return 1;
	store_bind_text(st, 1, a->f.state != NULL &&
	    strcmp(a->f.state, "all") != 0 ? a->f.state : NULL);
	return ctl_print_stmt(c, stdout, st, "nnttntmmtttD", ctl_limit(c),
	    NULL) == 0 ? 0 : 1;
}

int
ctl_outbox(struct ctl *c, const struct ctl_args *a)
{
	static const char sql[] =
	    "SELECT id, kind, receiver AS phone, state, dlr_state AS dlr, "
	    "attempts, CAST(part AS TEXT) || '/' || CAST(parts AS TEXT) "
	    "AS part, created, text, error "
	    "FROM outbox WHERE (CAST($1 AS TEXT) IS NULL OR state = $1) "
	    "AND (CAST($2 AS TEXT) IS NULL OR kind = $2) "
	    "AND (CAST($3 AS TEXT) IS NULL OR receiver = $3) "
	    "ORDER BY id DESC";
	struct store_stmt	*st;

	if ((st = ctl_prepare(c, sql)) == NULL)
		return 1;
	store_bind_text(st, 1, a->f.state);
	store_bind_text(st, 2, a->f.kind);
	store_bind_text(st, 3, a->f.to);
	return ctl_print_stmt(c, stdout, st, "nttttntDtt", ctl_limit(c),
	    NULL) == 0 ? 0 : 1;
}
