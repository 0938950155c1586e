/*
 * stats.c - marketctl stats: the figures of the database (users, MOs,
 * the outbox by state and delivery report, and the market and prices
 * plugins' tables when they exist), one figure a row, or one JSON object
 * for scripts.  A new figure is one more ctl_stats_group line.
 */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include "store/store.h"
#include "ctl/ctl.h"

/* Add the (label, count) rows of sql as figures prefix.label. */
static int
ctl_stats_group(struct ctl *c, struct ctl_rows *r, const char *prefix,
    const char *sql)
{
	struct store_stmt	*st;
	struct ctl_cell		 cells[2];
	char			 name[160];
	int			 rc;

	if ((st = ctl_prepare(c, sql)) == NULL)
		return -1;
	while ((rc = store_step(st)) == STORE_ROW) {
		const char	*label = store_text(st, 0);

		snprintf(name, sizeof(name), "%s%s%s", prefix,
		    label != NULL ? "." : "", label != NULL ? label : "");
		cells[0].text = name;
		cells[0].number = 0;
		cells[1].text = (char *)store_text(st, 1);
		cells[1].number = 1;
		ctl_rows_add(r, cells);
	}
	store_done(st);
	return rc == STORE_DONE ? 0 : -1;
}

int
ctl_stats(struct ctl *c, const struct ctl_args *a)
{
	static const char *const names[] = { "figure", "value" };
	struct ctl_rows	 r;
	int		 bad = 0;

	(void)a;
	memset(&r, 0, sizeof(r));
	ctl_rows_columns(&r, names, 2);
	bad |= ctl_stats_group(c, &r, "users", "SELECT NULL, COUNT(*) FROM "
	    "users");
	bad |= ctl_stats_group(c, &r, "users.registered", "SELECT NULL, "
	    "COUNT(name) FROM users");
	bad |= ctl_stats_group(c, &r, "users.opted_out", "SELECT NULL, "
	    "COUNT(*) FROM users WHERE opt_out <> 0");
	bad |= ctl_stats_group(c, &r, "users.role", "SELECT role, COUNT(*) "
	    "FROM users GROUP BY role ORDER BY role");
	bad |= ctl_stats_group(c, &r, "users.language", "SELECT "
	    "COALESCE(language, 'none'), COUNT(*) FROM users GROUP BY 1 "
	    "ORDER BY 1");
	bad |= ctl_stats_group(c, &r, "mo", "SELECT NULL, COUNT(*) FROM inbox");
	bad |= ctl_stats_group(c, &r, "outbox", "SELECT state, COUNT(*) FROM "
	    "outbox GROUP BY state ORDER BY state");
	bad |= ctl_stats_group(c, &r, "dlr", "SELECT dlr_state, COUNT(*) FROM "
	    "outbox WHERE dlr_state IS NOT NULL GROUP BY dlr_state "
	    "ORDER BY dlr_state");
	bad |= ctl_stats_group(c, &r, "failed", "SELECT kind, COUNT(*) FROM "
	    "outbox WHERE state = 'failed' GROUP BY kind ORDER BY kind");
	if (ctl_has_table(c, "market_posts"))
		bad |= ctl_stats_group(c, &r, "posts", "SELECT kind || '.' || "
		    "state, COUNT(*) FROM market_posts GROUP BY kind, state "
		    "ORDER BY kind, state");
	/* a pool's order once: its members' share orders (parent set) are
	   parts of it */
	if (ctl_has_column(c, "market_orders", "parent"))
		bad |= ctl_stats_group(c, &r, "orders", "SELECT state, COUNT(*) "
		    "FROM market_orders WHERE parent IS NULL GROUP BY state "
		    "ORDER BY state");
	else if (ctl_has_table(c, "market_orders"))
		bad |= ctl_stats_group(c, &r, "orders", "SELECT state, COUNT(*) "
		    "FROM market_orders GROUP BY state ORDER BY state");
	if (ctl_has_table(c, "prices_reports"))
		bad |= ctl_stats_group(c, &r, "prices", "SELECT status, "
		    "COUNT(*) FROM prices_reports GROUP BY status ORDER BY "
		    "status");
	if (bad) {
		ctl_err("the database could not be read");
		ctl_rows_free(&r);
		return 1;
	}
	if (c->format == CTL_JSON) {
		size_t	 i;

		/* One object, figure: value, for scripts. */
		printf("{");
		for (i = 0; i < r.nrows; i++) {
			printf("%s\n  ", i ? "," : "");
			ctl_json_value(stdout, r.cells[i * 2].text, 0);
			printf(": %s", r.cells[i * 2 + 1].text ?
			    r.cells[i * 2 + 1].text : "null");
		}
		printf("\n}\n");
	} else
		ctl_print_rows(c, stdout, &r);
	ctl_rows_free(&r);
	return 0;
}
