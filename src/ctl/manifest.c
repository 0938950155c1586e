/*
 * manifest.c - marketctl manifest HUB [--date YYYY-MM-DD]: the full list
 * behind a hub's morning SMS (the market plugin's market_manifest.c):
 * every order through the hub that day, one row each, from the legs of
 * the delivery chain (market_legs), read-only as the other lists.
 *
 * An order goes through a hub on two legs, the one to it and the one
 * from it; its row says where it stands at the hub:
 *	waiting	not yet on its way to the hub (an earlier hub has it)
 *	in	a carrier is bringing it (IN receives it)
 *	out	received, waiting to leave (OUT, or PICKUP at the last hub)
 *	left	gone on from the hub (or delivered)
 * late: the leg it is on is past its due time (for left: it reached
 * the hub after its due time).  from and to are the hubs before and
 * after ("seller", "buyer" at the ends), carrier and due those of the
 * leg it is on (left: the leg from the hub), state the order's.
 *
 * The day is local (the TZ marketbox runs with), today by default, and
 * holds the orders at or on their way to the hub at any moment of it:
 * made before it ended, not gone on before it began.  It went on when
 * the leg from the hub started, or, for a leg closed without moving
 * (the buyer fetched it there with OUT to his own phone, PICKUP at the
 * last hub, the timer's completion), when that leg ended.  Times are
 * shown in UTC, as every marketctl time.
 */
#include "config.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

#include "store/store.h"
#include "ctl/ctl.h"

/* A local day YYYY-MM-DD: its first second into *from, the next day's
   into *to.  0, or -1 when it is no date. */
static int
ctl_local_day(const char *s, long long *from, long long *to)
{
	struct tm	 tm;
	int		 y, m, d;
	char		 extra;
	time_t		 t;

	memset(&tm, 0, sizeof(tm));
	if (s == NULL) {
		t = time(NULL);
		if (localtime_r(&t, &tm) == NULL)
			return -1;
		y = tm.tm_year + 1900;
		m = tm.tm_mon + 1;
		d = tm.tm_mday;
	} else if (strlen(s) != 10 || sscanf(s, "%4d-%2d-%2d%c", &y, &m, &d,
	    &extra) != 3 || s[4] != '-' || s[7] != '-' || y < 1970 ||
	    m < 1 || m > 12 || d < 1 || d > 31)
		return -1;
	memset(&tm, 0, sizeof(tm));
	tm.tm_year = y - 1900;
	tm.tm_mon = m - 1;
	tm.tm_mday = d;
	tm.tm_isdst = -1;
	if ((t = mktime(&tm)) == (time_t)-1 || tm.tm_mday != d ||
	    tm.tm_mon != m - 1)
		return -1;		/* 2026-02-31 */
	*from = (long long)t;
	memset(&tm, 0, sizeof(tm));
	tm.tm_year = y - 1900;
	tm.tm_mon = m - 1;
	tm.tm_mday = d + 1;
	tm.tm_isdst = -1;
	if ((t = mktime(&tm)) == (time_t)-1)
		return -1;
	*to = (long long)t;
	return 0;
}

/* 1 if any leg ever went to or from hub, 0 none, -1 failed. */
static int
ctl_hub_known(struct ctl *c, const char *hub)
{
	static const char sql[] = "SELECT 1 FROM market_legs "
	    "WHERE to_hub = $1 OR from_hub = $1 LIMIT 1";
	struct store_stmt	*st;
	int			 rc;

	if ((st = ctl_prepare(c, sql)) == NULL)
		return -1;
	store_bind_text(st, 1, hub);
	rc = store_step(st);
	store_done(st);
	return rc == STORE_ROW ? 1 : rc == STORE_DONE ? 0 : -1;
}

int
ctl_manifest(struct ctl *c, const struct ctl_args *a)
{
	static const char sql[] =
	    "SELECT i.order_ref AS \"order\", "
	    "CASE WHEN i.state = 'waiting' THEN 'waiting' "
	    " WHEN i.state = 'moving' THEN 'in' "
	    " WHEN x.state = 'waiting' THEN 'out' ELSE 'left' END AS way, "
	    "CASE WHEN i.state <> 'done' THEN "
	    "  CASE WHEN o.state = 'sent' AND i.due_at < $4 "
	    "  THEN 'late' ELSE '' END "
	    " WHEN x.state = 'waiting' THEN "
	    "  CASE WHEN o.state = 'sent' AND x.due_at < $4 "
	    "  THEN 'late' ELSE '' END "
	    " ELSE CASE WHEN i.ended > i.due_at THEN 'late' ELSE '' END "
	    "END AS late, "
	    "p.commodity, o.qty, p.unit, "
	    "COALESCE(i.from_hub, 'seller') AS \"from\", "
	    "COALESCE(x.to_hub, 'buyer') AS \"to\", "
	    "CASE WHEN i.state <> 'done' THEN i.carrier ELSE x.carrier END "
	    "AS carrier, "
	    "CASE WHEN i.state <> 'done' THEN i.due_at ELSE x.due_at END "
	    "AS due, o.state "
	    "FROM market_legs i "
	    "JOIN market_legs x ON x.order_ref = i.order_ref "
	    " AND x.seq = i.seq + 1 "
	    "JOIN market_orders o ON o.ref = i.order_ref "
	    "JOIN market_posts p ON p.ref = o.offer "
	    "WHERE i.to_hub = $1 AND i.created < $3 "
	    "AND (COALESCE(x.started, x.ended) >= $2 "
	    " OR (x.started IS NULL AND x.ended IS NULL "
	    " AND (o.state = 'sent' OR o.updated >= $2))) "
	    "ORDER BY i.order_ref";
	struct store_stmt	*st;
	long long		 from, to;
	int			 rc;

	if (a->argc != 1) {
		ctl_err("usage: marketctl manifest HUB [--date YYYY-MM-DD] "
		    "[--csv]");
		return 2;
	}
	if (ctl_local_day(a->f.date, &from, &to) == -1) {
		ctl_err("--date %s: not a day (YYYY-MM-DD, e.g. 2026-03-01)",
		    a->f.date != NULL ? a->f.date : "(today)");
		return 2;
	}
	if (!ctl_has_table(c, "market_legs")) {
		ctl_err("this database has no hubs' legs (a market plugin "
		    "older than the delivery chain, or none)");
		return 1;
	}
	if ((rc = ctl_hub_known(c, a->argv[0])) != 1) {
		if (rc == 0)
			ctl_err("no order has ever gone through hub '%s' (the "
			    "code of a group = hub of the catalogue)",
			    a->argv[0]);
		return 1;
	}
	if ((st = ctl_prepare(c, sql)) == NULL)
		return 1;
	store_bind_text(st, 1, a->argv[0]);
	store_bind_int(st, 2, from);
	store_bind_int(st, 3, to);
	store_bind_int(st, 4, (long long)time(NULL));
	return ctl_print_stmt(c, stdout, st, "ntttnttttDt", ctl_limit(c),
	    NULL) == 0 ? 0 : 1;
}
