/*
 * snapshot.c - the one snapshot of figures every admin page reads.
 *
 * Pages take a snapshot (struct admin_snapshot) of the in-memory counters
 * and of read-only queries, and render it as HTML, JSON or Prometheus
 * text, so the three always show the same figures.  Queries of plugin
 * tables (market_posts, market_orders, market_pools and
 * market_pool_shares, prices_reports) and of the service
 * points' (agents, members, commissions) run only when the table and the
 * columns they use exist.  Every GROUP BY is bounded by
 * ADMIN_MAX_GROUPS rows and the price charts by ADMIN_CHART_ROWS reports.
 *
 * admin_snapshot_take fills struct admin_snapshot (admin_int.h) and
 * keeps the samples of the counters that the rates per minute are
 * taken over.  The renderers (status_json.c, metrics.c,
 * status_html.c) only read it; a figure new to the pages is read
 * here once, then shown by each of them.  The small readers here
 * (admin_table_has, admin_count, admin_label) also serve chart.c and
 * actions.c.
 */
#include "config.h"

#include <sys/types.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "base/gw.h"

#include "admin/admin.h"
#include "admin/admin_int.h"
#include "base/conf.h"
#include "engine/router.h"
#include "http/http.h"
#include "link/box.h"
#include "queue/inbox.h"
#include "queue/outbox.h"
#include "queue/instance.h"
#include "store/store.h"

#define ADMIN_SAMPLE_EVERY	5.0	/* seconds between kept samples */
#define ADMIN_RATE_WINDOW	300.0	/* seconds: rates are over this */

/*
 * 1 if table exists with every column named in cols (NULL-terminated).
 * Each engine describes its tables its own way: SQLite in sqlite_master
 * and pragma_table_info, PostgreSQL in information_schema (the schema
 * marketbox's tables are in: the first of the search path).
 */
int
admin_table_has(struct admin *a, const char *table, const char *const *cols)
{
	static const char lite_table[] =
	    "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = $1";
	static const char lite_column[] =
	    "SELECT 1 FROM pragma_table_info($1) WHERE name = $2";
	static const char pg_table[] =
	    "SELECT 1 FROM information_schema.tables WHERE "
	    "table_schema = current_schema() AND table_name = $1";
	static const char pg_column[] =
	    "SELECT 1 FROM information_schema.columns WHERE "
	    "table_schema = current_schema() AND table_name = $1 AND "
	    "column_name = $2";
	struct store_stmt	*st;
	int			 lite, rc;

	lite = strcmp(store_engine(a->src.store), "sqlite") == 0;
	if ((st = store_query(a->src.store, lite ? lite_table : pg_table)) ==
	    NULL)
		return 0;
	store_bind_text(st, 1, table);
	rc = store_step(st);
	store_done(st);
	if (rc != STORE_ROW)
		return 0;
	for (; cols != NULL && *cols != NULL; cols++) {
		if ((st = store_query(a->src.store, lite ? lite_column :
		    pg_column)) == NULL)
			return 0;
		store_bind_text(st, 1, table);
		store_bind_text(st, 2, *cols);
		rc = store_step(st);
		store_done(st);
		if (rc != STORE_ROW)
			return 0;
	}
	return 1;
}

void
admin_label(char *dst, const char *src, const char *none)
{
	snprintf(dst, ADMIN_LABEL, "%s",
	    src != NULL && src[0] != '\0' ? src : none);
}

/*
 * Run sql (a literal; no parameters) whose rows are (label, count) or
 * (label, label, count), into g.  0 or -1 (logged).
 */
static int
admin_group_read(struct admin *a, const char *sql, int labels,
    struct admin_group *g)
{
	struct store_stmt	*st;
	int			 rc;

	g->n = 0;
	if ((st = store_query(a->src.store, sql)) == NULL)
		return -1;
	while ((rc = store_step(st)) == STORE_ROW &&
	    g->n < ADMIN_MAX_GROUPS) {
		struct admin_count	*c = &g->row[g->n++];

		admin_label(c->a, store_text(st, 0), "none");
		if (labels == 2)
			admin_label(c->b, store_text(st, 1), "none");
		else
			c->b[0] = '\0';
		c->n = store_int(st, labels);
	}
	store_done(st);
	return rc == STORE_ERROR ? -1 : 0;
}

/*
 * The market plugin's pools: the counts by kind and state, and the open
 * and listed ones (the first ADMIN_POOLS by deadline) with what their
 * members have put in of the target and how many they are.  0 or -1
 * (logged).
 */
static int
admin_pools_read(struct admin *a, struct admin_snapshot *s)
{
	static const char sql[] =
	    "SELECT p.ref, p.kind, p.state, p.commodity, p.unit, "
	    "(SELECT CAST(COALESCE(SUM(h.qty), 0) AS BIGINT) FROM "
	    "market_pool_shares h WHERE h.pool = p.ref), p.target, "
	    "(SELECT COUNT(*) FROM market_pool_shares h WHERE h.pool = p.ref), "
	    "p.deadline FROM market_pools p "
	    "WHERE p.state IN ('open', 'listed') "
	    "ORDER BY p.deadline, p.ref LIMIT 32";	/* ADMIN_POOLS */
	struct store_stmt	*st;
	struct admin_pool	*p;
	size_t			 i;
	int			 rc;

	s->nlive_pools = 0;
	s->pools_live = 0;
	if (admin_group_read(a, "SELECT kind, state, COUNT(*) FROM "
	    "market_pools GROUP BY kind, state ORDER BY kind, state LIMIT 64",
	    2, &s->pools) == -1)
		return -1;
	for (i = 0; i < s->pools.n; i++)
		if (strcmp(s->pools.row[i].b, "open") == 0 ||
		    strcmp(s->pools.row[i].b, "listed") == 0)
			s->pools_live += s->pools.row[i].n;
	if ((st = store_query(a->src.store, sql)) == NULL)
		return -1;
	while ((rc = store_step(st)) == STORE_ROW &&
	    s->nlive_pools < ADMIN_POOLS) {
		p = &s->live_pools[s->nlive_pools++];
		p->ref = store_int(st, 0);
		admin_label(p->kind, store_text(st, 1), "none");
		admin_label(p->state, store_text(st, 2), "none");
		admin_label(p->commodity, store_text(st, 3), "none");
		admin_label(p->unit, store_text(st, 4), "");
		p->filled = store_int(st, 5);
		p->target = store_int(st, 6);
		p->members = store_int(st, 7);
		p->deadline = store_int(st, 8);
	}
	store_done(st);
	return rc == STORE_ERROR ? -1 : 0;
}

/*
 * The service points: every code the agents, members and commissions
 * tables name (a point of the conf without an agent has nothing to
 * show), with its active agents, active members and the commission
 * recorded.  At most ADMIN_MAX_GROUPS points.  0 or -1 (logged).
 */
static int
admin_points_read(struct admin *a, struct admin_snapshot *s)
{
	static const char sql[] =
	    "SELECT p.point, "
	    "(SELECT COUNT(*) FROM agents g WHERE g.point = p.point AND "
	    "g.removed IS NULL), "
	    "(SELECT COUNT(*) FROM members m WHERE m.point = p.point AND "
	    "m.state = 'active'), "
	    "(SELECT CAST(COALESCE(SUM(c.amount), 0) AS BIGINT) FROM "
	    "commissions c WHERE c.point = p.point) "
	    "FROM (SELECT point FROM agents UNION SELECT point FROM members "
	    "UNION SELECT point FROM commissions) p ORDER BY p.point LIMIT 64";
	struct store_stmt	*st;
	int			 rc;

	s->npoints = 0;
	if ((st = store_query(a->src.store, sql)) == NULL)
		return -1;
	while ((rc = store_step(st)) == STORE_ROW &&
	    s->npoints < ADMIN_MAX_GROUPS) {
		struct admin_service_point	*p = &s->points[s->npoints++];

		admin_label(p->code, store_text(st, 0), "none");
		p->agents = store_int(st, 1);
		p->members = store_int(st, 2);
		p->commission = store_int(st, 3);
	}
	store_done(st);
	return rc == STORE_ERROR ? -1 : 0;
}

/* One integer from sql (a literal, no parameters); -1 on error. */
long long
admin_count(struct admin *a, const char *sql)
{
	struct store_stmt	*st;
	long long		 n = -1;
	int			 rc;

	if ((st = store_query(a->src.store, sql)) == NULL)
		return -1;
	if ((rc = store_step(st)) == STORE_ROW)
		n = store_int(st, 0);
	else if (rc == STORE_DONE)
		error(0, "admin: no row from %s", sql);
	store_done(st);
	return n;
}

/* Outbox rows handed to the link so far (every state but queued and
 * inline). */
long long
admin_mt_handled(const struct outbox_counts *c)
{
	return c->sending + c->accepted + c->buffered + c->delivered +
	    c->failed;
}

/* Keep a sample of the counters, and set the rates per minute over the
 * oldest sample inside the window (or the one taken at start). */
static void
admin_rates(struct admin *a, struct admin_snapshot *s)
{
	const struct admin_sample	*base = &a->baseline, *p;
	struct admin_sample		 now;
	size_t				 i;
	double				 dt;

	now.t = admin_monotonic();
	now.mo = s->mo_received - s->mo_duplicates;
	now.mt = admin_mt_handled(&s->outbox);
	for (i = 0; i < a->nsamples; i++) {
		p = &a->samples[i];
		if (now.t - p->t <= ADMIN_RATE_WINDOW &&
		    (base == &a->baseline || p->t < base->t))
			base = p;
	}
	/* The baseline is older than any sample: use it only if nothing in
	 * the window is. */
	dt = now.t - base->t;
	s->rate_window = dt;
	if (dt >= 1) {
		s->mo_per_minute = (double)(now.mo - base->mo) * 60 / dt;
		s->mt_per_minute = now.mt >= base->mt ?
		    (double)(now.mt - base->mt) * 60 / dt : 0;
	}
	if (a->nsamples == 0 || now.t - a->samples[(a->sample_next +
	    ADMIN_SAMPLES - 1) % ADMIN_SAMPLES].t >= ADMIN_SAMPLE_EVERY) {
		a->samples[a->sample_next] = now;
		a->sample_next = (a->sample_next + 1) % ADMIN_SAMPLES;
		if (a->nsamples < ADMIN_SAMPLES)
			a->nsamples++;
	}
}

int
admin_snapshot_take(struct admin *a, struct admin_snapshot *s)
{
	static const char *const posts_cols[] = { "kind", "state", NULL };
	static const char *const orders_cols[] = { "state", NULL };
	static const char *const pool_orders_cols[] = { "state", "parent",
	    NULL };
	static const char *const prices_cols[] = { "status", NULL };
	static const char *const agents_cols[] = { "point", "removed", NULL };
	static const char *const members_cols[] = { "point", "state", NULL };
	static const char *const commissions_cols[] = { "point", "amount",
	    NULL };
	static const char *const pools_cols[] = { "ref", "kind", "state",
	    "commodity", "unit", "target", "deadline", NULL };
	static const char *const shares_cols[] = { "pool", "qty", NULL };
	struct store_stmt	*st;
	size_t			 i;
	int			 bad = 0;

	memset(s, 0, sizeof(*s));
	s->now = time(NULL);
	s->uptime = (long long)(s->now - a->started);
	s->link_mode = a->src.link_mode != NULL ? a->src.link_mode : "none";
	if (a->src.box != NULL) {
		s->has_box = 1;
		s->link_up = box_is_up(a->src.box);
		box_stats(a->src.box, &s->box);
	}
	if (a->src.inbox != NULL) {
		s->has_inbox = 1;
		inbox_stats(a->src.inbox, &s->mo_received, &s->mo_duplicates);
	}
	if (a->src.router != NULL) {
		s->has_router = 1;
		router_stats(a->src.router, &s->router);
	}
	store_stats(a->src.store, &s->commits, &s->units);
	store_commit_times(a->src.store, &s->commit_times);
	s->auth_failures = http_auth_failures(a->http);

	if ((s->mo_total = admin_count(a, "SELECT COUNT(*) FROM inbox")) < 0)
		bad = -1;
	if (outbox_counts(a->src.outbox, &s->outbox) == -1)
		bad = -1;
	s->mt_total = s->outbox.queued + admin_mt_handled(&s->outbox);
	if ((s->outbox_oldest_age = outbox_oldest_age(a->src.outbox,
	    (long long)s->now)) < 0) {
		s->outbox_oldest_age = 0;
		bad = -1;
	}
	bad |= admin_group_read(a, "SELECT dlr_state, COUNT(*) FROM outbox "
	    "WHERE dlr_state IS NOT NULL GROUP BY dlr_state ORDER BY dlr_state "
	    "LIMIT 64", 1, &s->dlr);
	bad |= admin_group_read(a, "SELECT kind, COUNT(*) FROM outbox "
	    "WHERE state = 'failed' GROUP BY kind ORDER BY kind LIMIT 64",
	    1, &s->failed);
	/* No language ("none") first: SQLite sorts NULL first, PostgreSQL
	 * last, unless told. */
	bad |= admin_group_read(a, "SELECT language, role, COUNT(*) FROM users "
	    "GROUP BY language, role ORDER BY CASE WHEN language IS NULL "
	    "THEN 0 ELSE 1 END, language, role LIMIT 64", 2, &s->users);
	if ((st = store_query(a->src.store, "SELECT COUNT(*), COUNT(name), "
	    "COALESCE(SUM(CASE WHEN opt_out <> 0 THEN 1 ELSE 0 END), 0) "
	    "FROM users")) != NULL) {
		if (store_step(st) == STORE_ROW) {
			s->users_total = store_int(st, 0);
			s->users_registered = store_int(st, 1);
			s->users_opted_out = store_int(st, 2);
		} else
			bad = -1;
		store_done(st);
	} else
		bad = -1;

	if (admin_table_has(a, "market_posts", posts_cols)) {
		s->has_posts = 1;
		bad |= admin_group_read(a, "SELECT kind, state, COUNT(*) FROM "
		    "market_posts GROUP BY kind, state ORDER BY kind, state "
		    "LIMIT 64", 2, &s->posts);
		for (i = 0; i < s->posts.n; i++) {
			if (strcmp(s->posts.row[i].b, "open") != 0)
				continue;
			if (strcmp(s->posts.row[i].a, "offer") == 0)
				s->open_offers += s->posts.row[i].n;
			else if (strcmp(s->posts.row[i].a, "want") == 0)
				s->open_wants += s->posts.row[i].n;
		}
	}
	/* a pool's order once: its members' share orders (parent set) are
	   parts of it */
	if (admin_table_has(a, "market_orders", pool_orders_cols)) {
		s->has_orders = 1;
		bad |= admin_group_read(a, "SELECT state, COUNT(*) FROM "
		    "market_orders WHERE parent IS NULL GROUP BY state "
		    "ORDER BY state LIMIT 64", 1, &s->orders);
	} else if (admin_table_has(a, "market_orders", orders_cols)) {
		s->has_orders = 1;
		bad |= admin_group_read(a, "SELECT state, COUNT(*) FROM "
		    "market_orders GROUP BY state ORDER BY state LIMIT 64", 1,
		    &s->orders);
	}
	if (admin_table_has(a, "prices_reports", prices_cols)) {
		s->has_prices = 1;
		bad |= admin_group_read(a, "SELECT status, COUNT(*) FROM "
		    "prices_reports GROUP BY status ORDER BY status LIMIT 64", 1,
		    &s->prices);
	}
	if (admin_table_has(a, "agents", agents_cols) &&
	    admin_table_has(a, "members", members_cols) &&
	    admin_table_has(a, "commissions", commissions_cols)) {
		s->has_points = 1;
		bad |= admin_points_read(a, s);
	}
	/* the market plugin's open disputes (dispute.c) */
	bad |= admin_disputes_read(a, s);
	/* money received and due (payments.c), with group = payments */
	bad |= admin_money_read(a, s);
	/* the pools: only with both of the market plugin's tables */
	if (admin_table_has(a, "market_pools", pools_cols) &&
	    admin_table_has(a, "market_pool_shares", shares_cols)) {
		s->has_pools = 1;
		bad |= admin_pools_read(a, s);
	}
	if (instance_list(a->src.store, conf_outbox_lease(a->conf),
	    s->instances, ADMIN_INSTANCES, &s->ninstances,
	    &s->instances_live) == -1)
		bad = -1;
	admin_rates(a, s);
	return bad ? -1 : 0;
}
