/*
 * lists.c - marketctl's lists of what the database holds now: users,
 * offers, orders and disputes (the market plugin's tables), price
 * reports (the prices plugin's), outbox, and
 * the agents of
 * the service points with what they did for their members over a
 * period.  Each is one query with its filters bound; rows.c prints the
 * rows.
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

/*
 * agents [--from DATE] [--to DATE]: each agent (removed ones too, for
 * their history), its point, its active members now, and over the
 * period (--to's day included): the offers and wants posted and the
 * orders made for members (agent_actions, whose command begins with the
 * command's id: SELL, WANT, BUY), the trades completed through it, their
 * value (each order counted once, whichever sides were its members) and
 * the commission recorded (commissions).
 */
int
ctl_agents(struct ctl *c, const struct ctl_args *a)
{
#define CTL_AGENT_ACTS(words) \
	"(SELECT COUNT(*) FROM agent_actions x WHERE x.agent = a.msisdn " \
	"AND x.at >= $1 AND x.at < $2 AND (" words "))"
#define CTL_AGENT_TRADES \
	"FROM commissions c WHERE c.agent = a.msisdn AND c.at >= $1 AND " \
	"c.at < $2"
	static const char sql[] =
	    "SELECT a.msisdn AS agent, u.name, a.point, "
	    "CASE WHEN a.removed IS NULL THEN 'active' ELSE 'removed' END "
	    "AS state, "
	    "(SELECT COUNT(*) FROM members m WHERE m.agent = a.msisdn AND "
	    "m.state = 'active') AS members, "
	    CTL_AGENT_ACTS("UPPER(x.command) IN ('SELL', 'WANT') OR "
	    "UPPER(x.command) LIKE 'SELL %' OR UPPER(x.command) LIKE 'WANT %'")
	    " AS posts, "
	    CTL_AGENT_ACTS("UPPER(x.command) = 'BUY' OR "
	    "UPPER(x.command) LIKE 'BUY %'") " AS orders, "
	    "(SELECT COUNT(DISTINCT c.ref) " CTL_AGENT_TRADES ") AS trades, "
	    "(SELECT CAST(COALESCE(SUM(c.total), 0) AS BIGINT) "
	    CTL_AGENT_TRADES " AND c.id = (SELECT MIN(d.id) FROM commissions d "
	    "WHERE d.ref = c.ref AND d.agent = c.agent)) AS value, "
	    "(SELECT CAST(COALESCE(SUM(c.amount), 0) AS BIGINT) "
	    CTL_AGENT_TRADES ") AS commission "
	    "FROM agents a LEFT JOIN users u ON u.msisdn = a.msisdn "
	    "ORDER BY a.point, a.msisdn";
#undef CTL_AGENT_ACTS
#undef CTL_AGENT_TRADES
	struct store_stmt	*st;
	long long		 from = 0, to = (long long)1 << 62;

	if (a->argc > 0) {
		ctl_err("agents takes --from DATE and --to DATE only");
		return 2;
	}
	if ((a->f.from != NULL && ctl_date(a->f.from, &from) == -1) ||
	    (a->f.to != NULL && ctl_date(a->f.to, &to) == -1)) {
		ctl_err("dates are YYYY-MM-DD");
		return 2;
	}
	if (a->f.to != NULL)
		to += 86400;		/* the day itself is included */
	if (!ctl_has_table(c, "agents") || !ctl_has_table(c, "commissions") ||
	    !ctl_has_table(c, "agent_actions")) {
		ctl_err("this database has no service point tables (a "
		    "marketbox older than its agents)");
		return 1;
	}
	if ((st = ctl_prepare(c, sql)) == NULL)
		return 1;
	store_bind_int(st, 1, from);
	store_bind_int(st, 2, to);
	return ctl_print_stmt(c, stdout, st, "ttttnnnnmm", ctl_limit(c),
	    NULL) == 0 ? 0 : 1;
}

/*
 * dispute list [--state open|closed|all]: the market plugin's disputes
 * (PROBLEM), open ones by default, oldest first: the order, its
 * commodity, who opened it and on which side, the buyer and the seller,
 * the text; closed ones with their decision and note.
 */
int
ctl_dispute_list(struct ctl *c, const struct ctl_args *a)
{
	static const char sql[] =
	    "SELECT d.ref AS dispute, d.order_ref AS \"order\", p.commodity, "
	    "d.side, d.opener, o.buyer, o.seller, d.state, "
	    "d.created AS opened, d.text, d.decision, d.closed, d.note "
	    "FROM market_disputes d "
	    "LEFT JOIN market_orders o ON o.ref = d.order_ref "
	    "LEFT JOIN market_posts p ON p.ref = o.offer "
	    "WHERE (CAST($1 AS TEXT) IS NULL OR d.state = $1) "
	    "ORDER BY d.created, d.ref";
	struct store_stmt	*st;
	const char		*state = a->f.state != NULL ? a->f.state :
				    "open";

	if (a->argc != 1) {
		ctl_err("usage: marketctl dispute list [--state "
		    "open|closed|all]");
		return 2;
	}
	if (strcmp(state, "open") != 0 && strcmp(state, "closed") != 0 &&
	    strcmp(state, "all") != 0) {
		ctl_err("--state is open, closed or all");
		return 2;
	}
	if (!ctl_has_table(c, "market_disputes")) {
		ctl_err("this database has no disputes (a market plugin "
		    "older than PROBLEM, or none)");
		return 1;
	}
	if ((st = ctl_prepare(c, sql)) == NULL)
		return 1;
	store_bind_text(st, 1, strcmp(state, "all") == 0 ? NULL : state);
	return ctl_print_stmt(c, stdout, st, "nnttttttDttDt", ctl_limit(c),
	    NULL) == 0 ? 0 : 1;
}

/*
 * reports [--held] [--commodity C] [--market M]: the prices plugin's
 * reports, newest first; with --held only those held for review (a
 * price far from its window's median), oldest first, the order an admin
 * decides them in: the id (for reports approve|reject), when, the
 * reporter, commodity, market, price, status and why it is held.
 */
int
ctl_reports_list(struct ctl *c, const struct ctl_args *a)
{
	static const char sql[] =
	    "SELECT id AS report, created AS \"when\", msisdn AS reporter, "
	    "commodity, market, price, status, "
	    "CASE status WHEN 'held' THEN 'far from the median of its window'"
	    " ELSE '' END AS why FROM prices_reports "
	    "WHERE ($1 = 0 OR status = 'held') "
	    "AND (CAST($2 AS TEXT) IS NULL OR commodity = $2) "
	    "AND (CAST($3 AS TEXT) IS NULL OR market = $3) "
	    "ORDER BY CASE WHEN $1 = 0 THEN -created ELSE created END, id";
	struct store_stmt	*st;

	if (a->argc > 1) {
		ctl_err("usage: marketctl reports [--held] [--commodity C] "
		    "[--market M] | reports approve|reject ID...");
		return 2;
	}
	if (!ctl_has_table(c, "prices_reports")) {
		ctl_err("this database has no price reports (the prices "
		    "plugin is not loaded)");
		return 1;
	}
	if ((st = ctl_prepare(c, sql)) == NULL)
		return 1;
	store_bind_int(st, 1, a->f.held);
	store_bind_text(st, 2, a->f.commodity);
	store_bind_text(st, 3, a->f.market);
	return ctl_print_stmt(c, stdout, st, "nDtttmtt", ctl_limit(c),
	    NULL) == 0 ? 0 : 1;
}
