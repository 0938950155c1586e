/*
 * status_html.c - GET /status: the snapshot of figures (snapshot.c) as
 * one HTML page for people, with the price charts (chart.c).  The page
 * stands alone: inline CSS and SVG, no script, nothing fetched from
 * elsewhere (admin.c's headers allow nothing else).  Every figure is
 * tagged data-k="key" for scripts and tests, and every text from the
 * database is escaped.  It shows the figures of /status.json and
 * /metrics, since all three render one struct admin_snapshot.  The
 * headers and the answer are admin.c's; the password is checked by the
 * HTTP server before.
 */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "base/gw.h"

#include <event2/buffer.h>

#include "admin/admin.h"
#include "admin/admin_int.h"
#include "base/conf.h"
#include "marketbox-plugin.h"
#include "plugin/plugin.h"

#define ADMIN_CURRENCY_FALLBACK	"KES"

static const char admin_css[] =
    "body{font:15px/1.4 system-ui,sans-serif;margin:1.5em auto;max-width:"
    "1100px;padding:0 1em;color:#1d2125;background:#fff}"
    "h1{font-size:1.5em;margin:0 0 .2em}h2{font-size:1.15em;margin:1.4em 0 "
    ".4em;border-bottom:1px solid #ccd;padding-bottom:.2em}"
    "table{border-collapse:collapse;margin:.3em 0}td,th{padding:.2em .8em;"
    "border:1px solid #dde;text-align:left}td.n{text-align:right;"
    "font-variant-numeric:tabular-nums}th{background:#f2f4f7}"
    ".grid{display:flex;flex-wrap:wrap;gap:1.5em;align-items:flex-start}.up{color:#0a6b2a;"
    "font-weight:bold}.down{color:#a61b1b;font-weight:bold}"
    ".muted{color:#667}.chart{border:1px solid #dde;background:#fcfcfd}"
    ".chart .t{font-size:13px;font-weight:bold;fill:#1d2125}"
    ".chart .axis{stroke:#889;stroke-width:1}.chart .line{fill:none;"
    "stroke:#1f5fbf;stroke-width:2}.chart .dot{fill:#1f5fbf}"
    ".chart .y{font-size:11px;text-anchor:end;fill:#445}"
    ".chart .x{font-size:11px;fill:#445}.chart .xe{text-anchor:end}";

/* A table row: a label and a figure, the figure tagged data-k=key. */
static void
admin_html_row(struct evbuffer *b, const char *label, const char *key,
    long long v)
{
	evbuffer_add_printf(b, "<tr><th>");
	admin_escape_html(b, label);
	evbuffer_add_printf(b, "</th><td class=\"n\" data-k=\"");
	admin_escape_html(b, key);
	evbuffer_add_printf(b, "\">%lld</td></tr>\n", v);
}

/* A table of a one-label group, figures tagged data-k=prefix.label. */
static void
admin_html_group(struct evbuffer *b, const char *head, const char *prefix,
    const struct admin_group *g)
{
	size_t	 i;
	char	 key[2 * ADMIN_LABEL + 16];

	evbuffer_add_printf(b, "<table><tr><th>");
	admin_escape_html(b, head);
	evbuffer_add_printf(b, "</th><th>count</th></tr>\n");
	if (g->n == 0)
		evbuffer_add_printf(b, "<tr><td colspan=\"2\" class=\"muted\">"
		    "none</td></tr>\n");
	for (i = 0; i < g->n; i++) {
		snprintf(key, sizeof(key), "%s.%s", prefix, g->row[i].a);
		admin_html_row(b, g->row[i].a, key, g->row[i].n);
	}
	evbuffer_add_printf(b, "</table>\n");
}

/* A table of a two-label group, figures tagged data-k=prefix.a.b. */
static void
admin_html_group2(struct evbuffer *b, const char *ha, const char *hb,
    const char *prefix, const struct admin_group *g)
{
	size_t	 i;
	char	 key[2 * ADMIN_LABEL + 16];

	evbuffer_add_printf(b, "<table><tr><th>");
	admin_escape_html(b, ha);
	evbuffer_add_printf(b, "</th><th>");
	admin_escape_html(b, hb);
	evbuffer_add_printf(b, "</th><th>count</th></tr>\n");
	if (g->n == 0)
		evbuffer_add_printf(b, "<tr><td colspan=\"3\" class=\"muted\">"
		    "none</td></tr>\n");
	for (i = 0; i < g->n; i++) {
		snprintf(key, sizeof(key), "%s.%s.%s", prefix, g->row[i].a,
		    g->row[i].b);
		evbuffer_add_printf(b, "<tr><td>");
		admin_escape_html(b, g->row[i].a);
		evbuffer_add_printf(b, "</td><td>");
		admin_escape_html(b, g->row[i].b);
		evbuffer_add_printf(b, "</td><td class=\"n\" data-k=\"");
		admin_escape_html(b, key);
		evbuffer_add_printf(b, "\">%lld</td></tr>\n", g->row[i].n);
	}
	evbuffer_add_printf(b, "</table>\n");
}

/*
 * The service points: a row each, figures tagged data-k=points.CODE.agents,
 * .members and .commission (money as the plugins show it).
 */
static void
admin_html_points(struct evbuffer *b, const struct admin_snapshot *s,
    const char *currency)
{
	const struct admin_service_point	*p;
	size_t					 i;
	char					 money[32];

	evbuffer_add_printf(b, "<h2>Service points</h2>\n");
	if (!s->has_points) {
		evbuffer_add_printf(b, "<p class=\"muted\">This database has no "
		    "service point tables.</p>\n");
		return;
	}
	if (s->npoints == 0) {
		evbuffer_add_printf(b, "<p class=\"muted\">No service point has "
		    "an agent yet (marketctl agent add).</p>\n");
		return;
	}
	evbuffer_add_printf(b, "<table><tr><th>point</th><th>agents</th>"
	    "<th>active members</th><th>commission</th></tr>\n");
	for (i = 0; i < s->npoints; i++) {
		p = &s->points[i];
		admin_money(money, sizeof(money), p->commission);
		evbuffer_add_printf(b, "<tr><td data-k=\"point\">");
		admin_escape_html(b, p->code);
		evbuffer_add_printf(b, "</td><td class=\"n\" data-k=\"points.");
		admin_escape_html(b, p->code);
		evbuffer_add_printf(b, ".agents\">%lld</td><td class=\"n\" "
		    "data-k=\"points.", p->agents);
		admin_escape_html(b, p->code);
		evbuffer_add_printf(b, ".members\">%lld</td><td class=\"n\" "
		    "data-k=\"points.", p->members);
		admin_escape_html(b, p->code);
		evbuffer_add_printf(b, ".commission\">%s ", money);
		admin_escape_html(b, currency);
		evbuffer_add_printf(b, "</td></tr>\n");
	}
	evbuffer_add_printf(b, "</table>\n");
}

/*
 * The market plugin's pools: counts by kind and state (data-k=
 * pools.KIND.STATE), then the open and listed ones, a row each (data-k=
 * pool.REF.filled, .target, .members; the deadline in UTC), the first
 * ADMIN_POOLS by deadline.
 */
static void
admin_html_pools(struct evbuffer *b, const struct admin_snapshot *s)
{
	const struct admin_pool	*p;
	size_t			 i;
	struct tm		 tm;
	time_t			 t;
	char			 when[40];

	evbuffer_add_printf(b, "<h2>Pools</h2>\n");
	if (!s->has_pools) {
		evbuffer_add_printf(b, "<p class=\"muted\">The market plugin "
		    "has no pool tables in this database.</p>\n");
		return;
	}
	evbuffer_add_printf(b, "<div class=\"grid\">");
	admin_html_group2(b, "kind", "state", "pools", &s->pools);
	evbuffer_add_printf(b, "<table><tr><th>pool</th><th>kind</th>"
	    "<th>state</th><th>commodity</th><th>filled</th><th>target</th>"
	    "<th>members</th><th>deadline</th></tr>\n");
	if (s->nlive_pools == 0)
		evbuffer_add_printf(b, "<tr><td colspan=\"8\" class=\"muted\">"
		    "no pool is open or listed</td></tr>\n");
	for (i = 0; i < s->nlive_pools; i++) {
		p = &s->live_pools[i];
		t = (time_t)p->deadline;
		if (gmtime_r(&t, &tm) != NULL)
			snprintf(when, sizeof(when), "%04d-%02d-%02d %02d:%02d "
			    "UTC", tm.tm_year + 1900, tm.tm_mon + 1,
			    tm.tm_mday, tm.tm_hour, tm.tm_min);
		else
			snprintf(when, sizeof(when), "%lld", p->deadline);
		evbuffer_add_printf(b, "<tr><td data-k=\"pool\">#%lld</td>"
		    "<td>", p->ref);
		admin_escape_html(b, p->kind);
		evbuffer_add_printf(b, "</td><td>");
		admin_escape_html(b, p->state);
		evbuffer_add_printf(b, "</td><td>");
		admin_escape_html(b, p->commodity);
		evbuffer_add_printf(b, "</td><td class=\"n\" "
		    "data-k=\"pool.%lld.filled\">%lld ", p->ref, p->filled);
		admin_escape_html(b, p->unit);
		evbuffer_add_printf(b, "</td><td class=\"n\" "
		    "data-k=\"pool.%lld.target\">%lld ", p->ref, p->target);
		admin_escape_html(b, p->unit);
		evbuffer_add_printf(b, "</td><td class=\"n\" "
		    "data-k=\"pool.%lld.members\">%lld</td>"
		    "<td data-k=\"pool.%lld.deadline\">%s</td></tr>\n", p->ref,
		    p->members, p->ref, when);
	}
	if (s->pools_live > (long long)s->nlive_pools)
		evbuffer_add_printf(b, "<tr><td colspan=\"8\" class=\"muted\">"
		    "%zu of <span data-k=\"pools_live\">%lld</span> shown, "
		    "the first to close</td></tr>\n", s->nlive_pools,
		    s->pools_live);
	evbuffer_add_printf(b, "</table></div>\n");
}

/* Seconds as "3d 4h 5m 6s". */
static void
admin_duration(char *buf, size_t size, long long s)
{
	if (s >= 86400)
		snprintf(buf, size, "%lldd %lldh %lldm", s / 86400,
		    s % 86400 / 3600, s % 3600 / 60);
	else if (s >= 3600)
		snprintf(buf, size, "%lldh %lldm %llds", s / 3600,
		    s % 3600 / 60, s % 60);
	else
		snprintf(buf, size, "%lldm %llds", s / 60, s % 60);
}

int
admin_status_html(struct admin *a, struct evbuffer *b)
{
	struct admin_snapshot	*s;
	struct admin_chart	*charts = NULL;
	const struct mb_plugin	*p;
	const char		*currency;
	long long		 first_day, last_day;
	long			 nc, i;
	size_t			 k, n;
	int			 rc;
	char			 up[64], when[80];
	struct tm		 tm;

	if ((s = calloc(1, sizeof(*s))) == NULL) {
		error(errno, "admin: out of memory");
		return -1;
	}
	rc = admin_snapshot_take(a, s);
	currency = a->conf->currency != NULL ? a->conf->currency :
	    ADMIN_CURRENCY_FALLBACK;
	admin_duration(up, sizeof(up), s->uptime);
	gmtime_r(&s->now, &tm);
	snprintf(when, sizeof(when), "%04d-%02d-%02d %02d:%02d:%02d UTC",
	    tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour,
	    tm.tm_min, tm.tm_sec);

	evbuffer_add_printf(b, "<!DOCTYPE html>\n<html lang=\"en\"><head>"
	    "<meta charset=\"utf-8\"><meta name=\"viewport\" content=\"width="
	    "device-width, initial-scale=1\"><title>marketbox status</title>"
	    "<style>%s</style></head>\n<body>\n", admin_css);
	evbuffer_add_printf(b, "<h1>marketbox %s</h1>\n<p>", MARKETBOX_VERSION);
	admin_escape_html(b, when);
	evbuffer_add_printf(b, " &middot; up <span data-k=\"uptime\">");
	admin_escape_html(b, up);
	evbuffer_add_printf(b, "</span> &middot; link: ");
	admin_escape_html(b, s->link_mode);
	if (s->has_box)
		evbuffer_add_printf(b, " <span class=\"%s\" data-k=\"link_up\">"
		    "%s</span>", s->link_up ? "up" : "down", s->link_up ?
		    "connected" : "NOT CONNECTED");
	evbuffer_add_printf(b, "</p>\n");

	evbuffer_add_printf(b, "<h2>Messages</h2>\n<div class=\"grid\">"
	    "<table>\n");
	admin_html_row(b, "from phones (all time)", "mo_total", s->mo_total);
	admin_html_row(b, "from phones since start", "mo_received",
	    (long long)s->mo_received);
	admin_html_row(b, "duplicates since start", "mo_duplicates",
	    (long long)s->mo_duplicates);
	evbuffer_add_printf(b, "<tr><th>from phones per minute</th><td "
	    "class=\"n\" data-k=\"mo_per_minute\">%.2f</td></tr>\n",
	    s->mo_per_minute);
	admin_html_row(b, "to phones (all time)", "mt_total", s->mt_total);
	evbuffer_add_printf(b, "<tr><th>to phones per minute</th><td "
	    "class=\"n\" data-k=\"mt_per_minute\">%.2f</td></tr>\n",
	    s->mt_per_minute);
	if (s->has_router) {
		admin_html_row(b, "commands handled", "commands.handled",
		    (long long)s->router.handled);
		admin_html_row(b, "throttled (flood)", "commands.throttled",
		    (long long)s->router.throttled);
	}
	evbuffer_add_printf(b, "</table>\n<table><tr><th>outbox state</th>"
	    "<th>SMS parts</th></tr>\n");
	admin_html_row(b, "queued", "outbox.queued", s->outbox.queued);
	admin_html_row(b, "sending", "outbox.sending", s->outbox.sending);
	admin_html_row(b, "accepted", "outbox.accepted", s->outbox.accepted);
	admin_html_row(b, "buffered", "outbox.buffered", s->outbox.buffered);
	admin_html_row(b, "delivered", "outbox.delivered",
	    s->outbox.delivered);
	admin_html_row(b, "failed", "outbox.failed", s->outbox.failed);
	admin_html_row(b, "inline (HTTP)", "outbox.inline", s->outbox.inline_);
	evbuffer_add_printf(b, "</table>\n");
	admin_html_group(b, "delivery report", "dlr", &s->dlr);
	admin_html_group(b, "failed, by kind", "failed", &s->failed);
	evbuffer_add_printf(b, "</div>\n");

	evbuffer_add_printf(b, "<h2>Market</h2>\n");
	if (s->has_posts || s->has_orders) {
		evbuffer_add_printf(b, "<div class=\"grid\"><table>\n");
		admin_html_row(b, "open offers", "open_offers", s->open_offers);
		admin_html_row(b, "open wants", "open_wants", s->open_wants);
		evbuffer_add_printf(b, "</table>\n");
		admin_html_group2(b, "kind", "state", "posts", &s->posts);
		admin_html_group(b, "order state", "orders", &s->orders);
		evbuffer_add_printf(b, "</div>\n");
	} else
		evbuffer_add_printf(b, "<p class=\"muted\">The market plugin "
		    "has no tables in this database.</p>\n");
	admin_html_pools(b, s);

	evbuffer_add_printf(b, "<h2>People</h2>\n<div class=\"grid\"><table>\n");
	admin_html_row(b, "known", "users.total", s->users_total);
	admin_html_row(b, "registered", "users.registered",
	    s->users_registered);
	admin_html_row(b, "sent STOP", "users.opted_out", s->users_opted_out);
	evbuffer_add_printf(b, "</table>\n");
	admin_html_group2(b, "language", "role", "users", &s->users);
	evbuffer_add_printf(b, "</div>\n");

	admin_html_points(b, s, currency);
	admin_disputes_html(b, s);
	admin_money_html(b, s, currency);

	evbuffer_add_printf(b, "<h2>Prices</h2>\n");
	if (s->has_prices)
		admin_html_group(b, "report status", "prices", &s->prices);
	if (admin_reports_html(a, b) == -1)
		rc = -1;
	nc = admin_charts_read(a, &charts, &first_day, &last_day);
	if (nc < 0)
		rc = -1;
	if (nc <= 0)
		evbuffer_add_printf(b, "<p class=\"muted\">No prices reported "
		    "in the last %d days.</p>\n", ADMIN_CHART_DAYS);
	else {
		evbuffer_add_printf(b, "<p>Median price per day over the last "
		    "%d days, per commodity and market (%ld chart%s).</p>\n"
		    "<div class=\"grid\">\n", ADMIN_CHART_DAYS, nc,
		    nc == 1 ? "" : "s");
		for (i = 0; i < nc; i++) {
			char	 title[2 * ADMIN_LABEL + 8];

			snprintf(title, sizeof(title), "%s \xC2\xB7 %s",
			    charts[i].commodity, charts[i].market);
			admin_svg_chart(b, title, currency, charts[i].pts,
			    charts[i].n, first_day, last_day);
		}
		evbuffer_add_printf(b, "</div>\n");
	}
	free(charts);

	evbuffer_add_printf(b, "<h2>Instances</h2>\n<table><tr><th>name</th>"
	    "<th>host</th><th>pid</th><th>heartbeat</th></tr>\n");
	for (k = 0; k < s->ninstances; k++) {
		evbuffer_add_printf(b, "<tr><td data-k=\"instance\">");
		admin_escape_html(b, s->instances[k].name);
		evbuffer_add_printf(b, "</td><td>");
		admin_escape_html(b, s->instances[k].host);
		evbuffer_add_printf(b, "</td><td>%lld</td><td>%lld s ago%s</td>"
		    "</tr>\n", s->instances[k].pid,
		    (long long)s->now - s->instances[k].heartbeat,
		    s->instances[k].live ? "" : " (dead)");
	}
	evbuffer_add_printf(b, "<tr><td colspan=\"4\" class=\"muted\">"
	    "live: <span data-k=\"instances_live\">%zu</span></td></tr>\n"
	    "</table>\n", s->instances_live);
	evbuffer_add_printf(b, "<h2>Plugins</h2>\n<table><tr><th>plugin</th>"
	    "<th>version</th></tr>\n");
	n = a->src.plugins != NULL ? plugin_count(a->src.plugins) : 0;
	for (k = 0; k < n; k++) {
		p = plugin_at(a->src.plugins, k);
		evbuffer_add_printf(b, "<tr><td data-k=\"plugin\">");
		admin_escape_html(b, p->name);
		evbuffer_add_printf(b, "</td><td>");
		admin_escape_html(b, p->version);
		evbuffer_add_printf(b, "</td></tr>\n");
	}
	if (n == 0)
		evbuffer_add_printf(b, "<tr><td colspan=\"2\" class=\"muted\">"
		    "none</td></tr>\n");
	evbuffer_add_printf(b, "</table>\n<p class=\"muted\">Also as "
	    "/status.json and, for Prometheus, /metrics. Wrong admin "
	    "passwords since start: <span data-k=\"auth_failures\">%llu</span>."
	    "</p>\n</body></html>\n", s->auth_failures);
	free(s);
	return rc;
}
