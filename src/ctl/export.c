/*
 * export.c - marketctl export: the delivered trades (market plugin), the
 * accepted price reports (prices plugin), what agents did for their
 * members (agent_actions), the commissions of the service points and
 * the payments ledger (payments: every payment, refund and payout, with
 * its effective order) between two days, as CSV or JSON for a spreadsheet or another program,
 * the phones of farmers only when asked (--with-phones; an agent's phone
 * is always shown: it is the number counterparties are given); to
 * stdout, a file, or trades.csv, prices.csv, agent_actions.csv,
 * commissions.csv and payments.csv in a directory.  rows.c streams the rows.
 */
#include "config.h"

#include <sys/types.h>
#include <sys/stat.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "base/conf.h"
#include "store/store.h"
#include "ctl/ctl.h"

/* A YYYY-MM-DD date (UTC midnight) into *t.  0 or -1 (ctl.h). */
int
ctl_date(const char *s, long long *t)
{
	struct tm	 tm;
	int		 y, m, d;
	char		 extra;

	if (s == NULL || sscanf(s, "%4d-%2d-%2d%c", &y, &m, &d, &extra) != 3 ||
	    y < 1970 || m < 1 || m > 12 || d < 1 || d > 31)
		return -1;
	memset(&tm, 0, sizeof(tm));
	tm.tm_year = y - 1900;
	tm.tm_mon = m - 1;
	tm.tm_mday = d;
	*t = (long long)timegm(&tm);
	return 0;
}

/*
 * Write the agents' export (agent_actions or commissions) to fp: $1 and
 * $2 the period, $3 1 for the members' phones.
 */
static int
ctl_export_agents(struct ctl *c, const struct ctl_args *a, const char *what,
    FILE *fp, long long since, long long until)
{
	static const char actions[] =
	    "SELECT x.id AS action, x.at AS date, g.point, x.agent, "
	    "x.member, CASE WHEN $3 = 1 THEN (SELECT m.phone FROM members m "
	    "WHERE m.code = x.member) END AS member_phone, x.command, "
	    "x.inbox_id AS message FROM agent_actions x "
	    "LEFT JOIN agents g ON g.msisdn = x.agent "
	    "WHERE x.at >= $1 AND x.at < $2 ORDER BY x.at, x.id";
	static const char commissions[] =
	    "SELECT c.ref AS order_ref, c.at AS date, c.point, c.agent, "
	    "c.member, CASE WHEN $3 = 1 THEN (SELECT m.phone FROM members m "
	    "WHERE m.code = c.member OR m.identity = c.member) END "
	    "AS member_phone, c.side, c.total AS total, c.rate_bp, "
	    "c.amount AS commission FROM commissions c "
	    "WHERE c.at >= $1 AND c.at < $2 ORDER BY c.at, c.id";
	struct store_stmt	*st;
	int			 is_actions = strcmp(what, "agent_actions") == 0;

	if (!ctl_has_table(c, is_actions ? "agent_actions" : "commissions")) {
		ctl_err("this database has no service point tables (a "
		    "marketbox older than its agents)");
		return -1;
	}
	if ((st = ctl_prepare(c, is_actions ? actions : commissions)) == NULL)
		return -1;
	store_bind_int(st, 1, since);
	store_bind_int(st, 2, until);
	store_bind_int(st, 3, a->f.with_phones ? 1 : 0);
	return ctl_print_stmt(c, fp, st, is_actions ? "nDttttttn" :
	    "nDtttttmnm", 0, what);
}

/*
 * payments.csv: the ledger (lists.c's query), every payment, refund and
 * payout of the period with its effective order (a match's when the
 * operator made one); phones and payers' names only with --with-phones.
 */
static int
ctl_export_payments(struct ctl *c, const struct ctl_args *a, FILE *fp,
    long long since, long long until)
{
	struct store_stmt	*st;

	if (!ctl_has_table(c, "payments") ||
	    !ctl_has_table(c, "payment_matches")) {
		ctl_err("this database has no payments ledger (a marketbox "
		    "older than payments)");
		return -1;
	}
	if ((st = ctl_prepare(c, ctl_ledger_sql)) == NULL)
		return -1;
	store_bind_int(st, 1, since);
	store_bind_int(st, 2, until);
	store_bind_int(st, 3, 0);
	store_bind_int(st, 4, a->f.with_phones ? 1 : 0);
	return ctl_print_stmt(c, fp, st, "nDttnmttttttt", 0, "payments");
}

/* Write one export (trades, prices, agent_actions, commissions or
 * payments) to fp. */
static int
ctl_export_one(struct ctl *c, const struct ctl_args *a, const char *what,
    FILE *fp, long long since, long long until)
{
#define CTL_TRADES(pools) \
	    "SELECT o.ref AS order_ref, o.updated AS date, " \
	    "p.commodity, p.market, o.qty, p.unit, o.price AS price, " \
	    "o.total AS total, CAST($3 AS TEXT) AS currency, " \
	    "CASE WHEN $4 = 1 THEN o.seller END AS seller, " \
	    "CASE WHEN $4 = 1 THEN o.buyer END AS buyer " \
	    "FROM market_orders o JOIN market_posts p ON p.ref = o.offer " \
	    "WHERE o.state = 'delivered' AND o.updated >= $1 AND " \
	    "o.updated < $2 " pools "ORDER BY o.updated, o.ref"
	static const char trades[] = CTL_TRADES("");
	/* a pool's sale once: its pool order, not the members' share
	   orders (parent: the market plugin's pools, step 3) */
	static const char trades_pools[] = CTL_TRADES("AND o.parent IS NULL ");
#undef CTL_TRADES
	static const char prices[] =
	    "SELECT id AS report, created AS date, commodity, market, "
	    "price, CAST($3 AS TEXT) AS currency, "
	    "CASE WHEN agent <> 0 THEN 'agent' ELSE 'user' END AS reporter, "
	    "CASE WHEN $4 = 1 THEN msisdn END AS phone FROM prices_reports "
	    "WHERE status = 'ok' AND created >= $1 AND created < $2 "
	    "ORDER BY created, id";
	struct store_stmt	*st;
	const char		*currency = c->conf != NULL &&
				    c->conf->currency != NULL ?
				    c->conf->currency : "";
	int			 is_trades = strcmp(what, "trades") == 0;

	if (strcmp(what, "agent_actions") == 0 ||
	    strcmp(what, "commissions") == 0)
		return ctl_export_agents(c, a, what, fp, since, until);
	if (strcmp(what, "payments") == 0)
		return ctl_export_payments(c, a, fp, since, until);
	if (is_trades ? ctl_need_market(c) == -1 :
	    !ctl_has_table(c, "prices_reports")) {
		if (!is_trades)
			ctl_err("this database has no price reports (is the "
			    "prices plugin loaded?)");
		return -1;
	}
	if ((st = ctl_prepare(c, !is_trades ? prices : ctl_has_column(c,
	    "market_orders", "parent") ? trades_pools : trades)) == NULL)
		return -1;
	store_bind_int(st, 1, since);
	store_bind_int(st, 2, until);
	store_bind_text(st, 3, currency);
	store_bind_int(st, 4, a->f.with_phones ? 1 : 0);
	return ctl_print_stmt(c, fp, st, is_trades ? "ndttntmmttt" :
	    "ndttmttt", 0, what);
}

int
ctl_export(struct ctl *c, const struct ctl_args *a)
{
	static const char *const all[] = { "trades", "prices",
	    "agent_actions", "commissions", "payments" };
	const char	*what = a->argc > 0 ? a->argv[0] : NULL;
	long long	 since = 0, until = (long long)1 << 62;
	struct stat	 sb;
	char		 file[4096];
	FILE		*fp;
	size_t		 i;
	int		 bad = 0;

	for (i = 0; what != NULL && i < sizeof(all) / sizeof(all[0]); i++)
		if (strcmp(what, all[i]) == 0)
			break;
	if (a->argc > 1 || (what != NULL && i == sizeof(all) / sizeof(all[0]))) {
		ctl_err("export takes trades, prices, agent_actions, "
		    "commissions, payments, or nothing for all five");
		return 2;
	}
	if ((a->f.since != NULL && ctl_date(a->f.since, &since) == -1) ||
	    (a->f.until != NULL && ctl_date(a->f.until, &until) == -1)) {
		ctl_err("dates are YYYY-MM-DD");
		return 2;
	}
	if (a->f.until != NULL)
		until += 86400;		/* the day itself is included */
	if (c->format == CTL_TABLE)
		c->format = CTL_CSV;	/* an export is for a program */
	if (what != NULL) {
		if (a->f.output == NULL)
			return ctl_export_one(c, a, what, stdout, since,
			    until) == 0 ? 0 : 1;
		if ((fp = fopen(a->f.output, "w")) == NULL) {
			ctl_err("%s: %s", a->f.output, strerror(errno));
			return 1;
		}
		bad = ctl_export_one(c, a, what, fp, since, until);
		if (fclose(fp) == EOF)
			bad = -1;
		return bad == 0 ? 0 : 1;
	}
	/* Both, into a directory. */
	if (a->f.output != NULL && (stat(a->f.output, &sb) == -1 ||
	    !S_ISDIR(sb.st_mode))) {
		ctl_err("%s: not a directory (export without a name writes "
		    "trades.csv, prices.csv, agent_actions.csv, "
		    "commissions.csv and payments.csv there)", a->f.output);
		return 1;
	}
	for (i = 0; i < sizeof(all) / sizeof(all[0]); i++) {
		snprintf(file, sizeof(file), "%s/%s.%s", a->f.output != NULL ?
		    a->f.output : ".", all[i], c->format == CTL_JSON ? "json" :
		    "csv");
		if ((fp = fopen(file, "w")) == NULL) {
			ctl_err("%s: %s", file, strerror(errno));
			return 1;
		}
		if (ctl_export_one(c, a, all[i], fp, since, until) == -1)
			bad = 1;
		if (fclose(fp) == EOF)
			bad = 1;
		if (!bad)
			fprintf(stderr, "wrote %s\n", file);
	}
	return bad;
}
