/*
 * lists.c - marketctl's lists of what the database holds now: users,
 * offers, orders and disputes (the market plugin's tables), price reports
 * (the prices plugin's), outbox, the agents of the service points with
 * what they did for their members over a period, the payments ledger
 * (its suspense list too) and the refunds and payouts the operator must
 * send.  Each is one query with its filters bound; rows.c prints the
 * rows.  A filter's value is checked first (marketctl.c's ctl_phone,
 * ctl_choice, ctl_db_choice): an unknown state or a local phone without
 * country-code is a usage error, never a silent empty list.
 */
#include "config.h"

#include <string.h>

#include "admin/admin.h"
#include "base/conf.h"
#include "pay/pay.h"
#include "queue/outbox.h"
#include "store/store.h"
#include "ctl/ctl.h"

#define CTL_N(a)	(sizeof(a) / sizeof((a)[0]))

/* The roles and the outbox's states and kinds, as the daemon names them. */
static const char *const ctl_roles[] = { ADMIN_ROLES };
static const char *const ctl_outbox_states[] = { OUTBOX_STATES };
static const char *const ctl_outbox_kinds[] = { OUTBOX_KINDS };

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

	if ((a->f.role != NULL && ctl_choice("--role", a->f.role, ctl_roles,
	    CTL_N(ctl_roles)) != 0) || (a->f.language != NULL &&
	    ctl_language(c, "--language", a->f.language) != 0))
		return 2;
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
	if ((a->f.kind != NULL && ctl_db_choice(c, "--kind", a->f.kind,
	    "market_posts", "kind", NULL) != 0) || ctl_db_choice(c,
	    "--state", state, "market_posts", "state", "all") != 0)
		return 2;
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
	if (a->f.state != NULL && ctl_db_choice(c, "--state", a->f.state,
	    "market_orders", "state", "all") != 0)
		return 2;
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
	    "AND (CAST($3 AS TEXT) IS NULL OR receiver = $3 OR receiver = $4) "
	    "ORDER BY id DESC";
	struct store_stmt	*st;
	char			 to[32];

	if ((a->f.state != NULL && ctl_choice("--state", a->f.state,
	    ctl_outbox_states, CTL_N(ctl_outbox_states)) != 0) ||
	    (a->f.kind != NULL && ctl_choice("--kind", a->f.kind,
	    ctl_outbox_kinds, CTL_N(ctl_outbox_kinds)) != 0) ||
	    (a->f.to != NULL && ctl_phone(c, "--to", a->f.to, to,
	    sizeof(to)) != 0))
		return 2;
	if ((st = ctl_prepare(c, sql)) == NULL)
		return 1;
	store_bind_text(st, 1, a->f.state);
	store_bind_text(st, 2, a->f.kind);
	store_bind_text(st, 3, a->f.to != NULL ? to : NULL);
	/* a reply goes to the sender as the SMSC gave it (254722..., or
	   0722...): the number as typed finds those too */
	store_bind_text(st, 4, a->f.to);
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
 * The ledger's query, shared with export (payments.csv): every payment,
 * refund and payout over [$1, $2), oldest first, with its effective
 * order (its payment_matches row's when the operator matched it: the
 * ledger row is never updated), who said it (the provider, or the
 * operator) and who matched it; $3 1 for the suspense list only
 * (payments with no order and no match), $4 1 for the phones and names.
 * Without them ($4 0), said_by is provider, operator or seller (never the
 * seller's phone a RECEIVED or cash row keeps) and the account is left
 * out (payers type their phone there as often as the order).  A suspense
 * payment returned to its payer (payouts done --ref) has the order 0 of
 * its payment_matches row, and is off the suspense list.
 */
const char ctl_ledger_sql[] =
    "SELECT p.id, p.created AS date, p.kind, p.trans_id AS trans, "
    "COALESCE(m.order_ref, p.order_ref) AS order_ref, p.amount, "
    "p.currency, CASE WHEN $4 = 1 THEN p.msisdn END AS phone, "
    "CASE WHEN $4 = 1 THEN p.names END AS names, "
    "CASE WHEN $4 = 1 THEN p.bill_ref END AS account, p.outcome, "
    "CASE WHEN $4 = 1 THEN COALESCE(p.said_by, 'provider') "
    "WHEN p.said_by IS NULL THEN 'provider' "
    "WHEN p.said_by = 'operator' THEN 'operator' ELSE 'seller' END "
    "AS said_by, "
    "m.matched_by FROM payments p "
    "LEFT JOIN payment_matches m ON m.trans_id = p.trans_id "
    "WHERE p.created >= $1 AND p.created < $2 AND ($3 = 0 OR "
    "(p.kind = 'payment' AND p.order_ref IS NULL AND m.trans_id IS NULL)) "
    "ORDER BY p.created, p.id";

/* The period of --since and --until into *since, *until.  0, or 2. */
static int
ctl_period(const struct ctl_args *a, long long *since, long long *until)
{
	*since = 0;
	*until = (long long)1 << 62;
	if ((a->f.since != NULL && ctl_date(a->f.since, since) == -1) ||
	    (a->f.until != NULL && ctl_date(a->f.until, until) == -1)) {
		ctl_err("dates are YYYY-MM-DD");
		return 2;
	}
	if (a->f.until != NULL)
		*until += 86400;	/* the day itself is included */
	return 0;
}

/*
 * payments [--unmatched] [--since D] [--until D]: the ledger (phones
 * shown: the operator reads it to match and to pay back); --unmatched,
 * the suspense list: payments that named no order and were not matched
 * since (marketctl payments match TRANSID ORDER).
 */
int
ctl_payments_list(struct ctl *c, const struct ctl_args *a)
{
	struct store_stmt	*st;
	long long		 since, until;

	if (ctl_period(a, &since, &until) != 0)
		return 2;
	if (!ctl_has_table(c, "payments") ||
	    !ctl_has_table(c, "payment_matches")) {
		ctl_err("this database has no payments ledger (a marketbox "
		    "older than payments)");
		return 1;
	}
	if ((st = ctl_prepare(c, ctl_ledger_sql)) == NULL)
		return 1;
	store_bind_int(st, 1, since);
	store_bind_int(st, 2, until);
	store_bind_int(st, 3, a->f.unmatched ? 1 : 0);
	store_bind_int(st, 4, 1);
	return ctl_print_stmt(c, stdout, st, "nDttnmttttttt", ctl_limit(c),
	    NULL) == 0 ? 0 : 1;
}

/*
 * payouts: what the operator must send, oldest first: each order whose
 * operator still owes money (pay.h's PAY_SQL_OWED: what she holds of the
 * provider's payments, less refunds and payouts recorded; never money a
 * seller says she took): refund (refund-due, to its buyer), payout
 * (payout-due, escrow: the seller's share), credit (over, or paid-out
 * with more than the total paid: the buyer's over-payment), the phone,
 * the amount and the TransIDs of its payments (any one names the order
 * to payouts done).  An order owed nothing is not listed.
 */
int
ctl_payouts_list(struct ctl *c, const struct ctl_args *a)
{
#define CTL_PAYOUTS(agg) \
	"SELECT CASE w.state WHEN 'refund-due' THEN 'refund' " \
	"WHEN 'payout-due' THEN 'payout' ELSE 'credit' END AS kind, " \
	"w.order_ref, CASE w.state WHEN 'payout-due' THEN o.seller " \
	"ELSE o.buyer END AS phone, w.owed AS amount, " \
	"CAST($1 AS TEXT) AS currency, " \
	"(SELECT " agg " FROM payments p LEFT JOIN payment_matches m " \
	"ON m.trans_id = p.trans_id WHERE p.kind = 'payment' AND " \
	"COALESCE(m.order_ref, p.order_ref) = w.order_ref) AS trans, " \
	"w.updated AS since FROM (SELECT h.order_ref, h.state, h.updated, " \
	PAY_SQL_OWED("h.state") " AS owed FROM " PAY_SQL_HELD " h " \
	"WHERE h.state IN ('refund-due', 'payout-due', 'over', " \
	"'paid-out')) w LEFT JOIN market_orders o ON o.ref = w.order_ref " \
	"WHERE w.owed > 0 ORDER BY w.updated, w.order_ref"
	static const char lite[] = CTL_PAYOUTS("group_concat(p.trans_id, ' ')");
	static const char pg[] =
	    CTL_PAYOUTS("string_agg(p.trans_id, ' ' ORDER BY p.id)");
#undef CTL_PAYOUTS
	struct store_stmt	*st;

	if (a->argc > 0) {
		ctl_err("usage: marketctl payouts | payouts done TRANSID...");
		return 2;
	}
	if (!ctl_has_table(c, "order_payments") ||
	    !ctl_has_table(c, "payment_matches")) {
		ctl_err("this database has no payments ledger (a marketbox "
		    "older than payments)");
		return 1;
	}
	if (ctl_need_market(c) == -1)
		return 1;
	if ((st = ctl_prepare(c, strcmp(store_engine(c->store), "sqlite") ==
	    0 ? lite : pg)) == NULL)
		return 1;
	store_bind_text(st, 1, c->conf != NULL && c->conf->currency != NULL ?
	    c->conf->currency : "");
	return ctl_print_stmt(c, stdout, st, "tntmttD", ctl_limit(c),
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
