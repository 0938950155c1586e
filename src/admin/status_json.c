/*
 * status_json.c - GET /status.json: the snapshot of figures (snapshot.c)
 * as one JSON object, for scripts.  It shows the figures of /status and
 * /metrics, since all three render one struct admin_snapshot; a figure
 * added to the snapshot is added here too.  The headers and the answer
 * are admin.c's; the password is checked by the HTTP server before.
 */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>

#include "base/gw.h"

#include <event2/buffer.h>

#include "admin/admin.h"
#include "admin/admin_int.h"
#include "http/http.h"
#include "marketbox-plugin.h"
#include "plugin/plugin.h"

static void
admin_json_group(struct evbuffer *b, const struct admin_group *g)
{
	size_t	 i;

	evbuffer_add(b, "{", 1);
	for (i = 0; i < g->n; i++) {
		evbuffer_add_printf(b, "%s", i ? ", " : "");
		http_json_string(b, g->row[i].a);
		evbuffer_add_printf(b, ": %lld", g->row[i].n);
	}
	evbuffer_add(b, "}", 1);
}

/* [{"<ka>": a, "<kb>": b, "count": n}, ...] */
static void
admin_json_group2(struct evbuffer *b, const struct admin_group *g,
    const char *ka, const char *kb)
{
	size_t	 i;

	evbuffer_add(b, "[", 1);
	for (i = 0; i < g->n; i++) {
		evbuffer_add_printf(b, "%s{\"%s\": ", i ? ", " : "", ka);
		http_json_string(b, g->row[i].a);
		evbuffer_add_printf(b, ", \"%s\": ", kb);
		http_json_string(b, g->row[i].b);
		evbuffer_add_printf(b, ", \"count\": %lld}", g->row[i].n);
	}
	evbuffer_add(b, "]", 1);
}

/*
 * "pools": the market plugin's pools, counts by kind and state and the
 * open and listed ones (the first ADMIN_POOLS by deadline of "live"),
 * or null without its tables.
 */
static void
admin_json_pools(struct evbuffer *b, const struct admin_snapshot *s)
{
	const struct admin_pool	*p;
	size_t			 i;

	if (!s->has_pools) {
		evbuffer_add_printf(b, ",\n  \"pools\": null");
		return;
	}
	evbuffer_add_printf(b, ",\n  \"pools\": {\"by_kind_state\": ");
	admin_json_group2(b, &s->pools, "kind", "state");
	evbuffer_add_printf(b, ", \"live\": %lld, \"list\": [", s->pools_live);
	for (i = 0; i < s->nlive_pools; i++) {
		p = &s->live_pools[i];
		evbuffer_add_printf(b, "%s{\"ref\": %lld, \"kind\": ",
		    i ? ", " : "", p->ref);
		http_json_string(b, p->kind);
		evbuffer_add_printf(b, ", \"state\": ");
		http_json_string(b, p->state);
		evbuffer_add_printf(b, ", \"commodity\": ");
		http_json_string(b, p->commodity);
		evbuffer_add_printf(b, ", \"unit\": ");
		http_json_string(b, p->unit);
		evbuffer_add_printf(b, ", \"filled\": %lld, \"target\": %lld, "
		    "\"members\": %lld, \"deadline\": %lld}", p->filled,
		    p->target, p->members, p->deadline);
	}
	evbuffer_add(b, "]}", 2);
}

int
admin_status_json(struct admin *a, struct evbuffer *b)
{
	struct admin_snapshot	*s;
	const struct mb_plugin	*p;
	size_t			 i, n;
	int			 rc;

	if ((s = calloc(1, sizeof(*s))) == NULL) {
		error(errno, "admin: out of memory");
		return -1;
	}
	rc = admin_snapshot_take(a, s);
	evbuffer_add_printf(b, "{\n  \"version\": ");
	http_json_string(b, MARKETBOX_VERSION);
	evbuffer_add_printf(b, ",\n  \"time\": %lld,\n  \"started\": %lld,\n"
	    "  \"uptime_seconds\": %lld,\n", (long long)s->now,
	    (long long)a->started, s->uptime);
	evbuffer_add_printf(b, "  \"link\": {\"mode\": ");
	http_json_string(b, s->link_mode);
	evbuffer_add_printf(b, ", \"up\": %s},\n", !s->has_box ? "null" :
	    s->link_up ? "true" : "false");
	evbuffer_add_printf(b, "  \"mo\": {\"total\": %lld, \"received\": %llu, "
	    "\"duplicates\": %llu, \"per_minute\": %.2f},\n", s->mo_total,
	    s->mo_received, s->mo_duplicates, s->mo_per_minute);
	evbuffer_add_printf(b, "  \"mt\": {\"total\": %lld, \"handed_to_link\": "
	    "%lld, \"per_minute\": %.2f},\n", s->mt_total,
	    admin_mt_handled(&s->outbox), s->mt_per_minute);
	evbuffer_add_printf(b, "  \"rate_window_seconds\": %.0f,\n",
	    s->rate_window);
	evbuffer_add_printf(b, "  \"outbox\": {\"queued\": %lld, \"sending\": "
	    "%lld, \"accepted\": %lld, \"buffered\": %lld, \"delivered\": %lld, "
	    "\"failed\": %lld, \"inline\": %lld},\n", s->outbox.queued,
	    s->outbox.sending, s->outbox.accepted, s->outbox.buffered,
	    s->outbox.delivered, s->outbox.failed, s->outbox.inline_);
	evbuffer_add_printf(b, "  \"dlr\": ");
	admin_json_group(b, &s->dlr);
	evbuffer_add_printf(b, ",\n  \"failed\": ");
	admin_json_group(b, &s->failed);
	if (s->has_router)
		evbuffer_add_printf(b, ",\n  \"commands\": {\"handled\": %llu, "
		    "\"throttled\": %llu, \"repeats\": %llu, \"unknown\": %llu}",
		    s->router.handled, s->router.throttled, s->router.repeats,
		    s->router.unknown);
	else
		evbuffer_add_printf(b, ",\n  \"commands\": null");
	if (s->has_box)
		evbuffer_add_printf(b, ",\n  \"box\": {\"mo\": %llu, \"dlr\": %llu, "
		    "\"mt\": %llu, \"acks_sent\": %llu, \"acks_received\": %llu, "
		    "\"connects\": %llu, \"protocol_errors\": %llu}", s->box.mo,
		    s->box.dlr, s->box.mt, s->box.acks_sent,
		    s->box.acks_received, s->box.connects,
		    s->box.protocol_errors);
	else
		evbuffer_add_printf(b, ",\n  \"box\": null");
	evbuffer_add_printf(b, ",\n  \"store\": {\"commits\": %llu, \"units\": "
	    "%llu}", s->commits, s->units);
	evbuffer_add_printf(b, ",\n  \"instances\": {\"live\": %zu, \"list\": [",
	    s->instances_live);
	for (i = 0; i < s->ninstances; i++) {
		evbuffer_add_printf(b, "%s{\"name\": ", i ? ", " : "");
		http_json_string(b, s->instances[i].name);
		evbuffer_add_printf(b, ", \"host\": ");
		http_json_string(b, s->instances[i].host);
		evbuffer_add_printf(b, ", \"pid\": %lld, \"started\": %lld, "
		    "\"heartbeat_age_seconds\": %lld, \"live\": %s}",
		    s->instances[i].pid, s->instances[i].started,
		    (long long)s->now - s->instances[i].heartbeat,
		    s->instances[i].live ? "true" : "false");
	}
	evbuffer_add_printf(b, "]}");
	evbuffer_add_printf(b, ",\n  \"users\": {\"total\": %lld, "
	    "\"registered\": %lld, \"opted_out\": %lld, \"by_language_role\": ",
	    s->users_total, s->users_registered, s->users_opted_out);
	admin_json_group2(b, &s->users, "language", "role");
	evbuffer_add(b, "}", 1);
	if (s->has_posts || s->has_orders) {
		evbuffer_add_printf(b, ",\n  \"market\": {\"open_offers\": %lld, "
		    "\"open_wants\": %lld, \"posts\": ", s->open_offers,
		    s->open_wants);
		admin_json_group2(b, &s->posts, "kind", "state");
		evbuffer_add_printf(b, ", \"orders\": ");
		admin_json_group(b, &s->orders);
		evbuffer_add(b, "}", 1);
	} else
		evbuffer_add_printf(b, ",\n  \"market\": null");
	admin_json_pools(b, s);
	if (s->has_prices) {
		evbuffer_add_printf(b, ",\n  \"prices\": {\"reports\": ");
		admin_json_group(b, &s->prices);
		evbuffer_add(b, "}", 1);
	} else
		evbuffer_add_printf(b, ",\n  \"prices\": null");
	if (s->has_points) {
		evbuffer_add_printf(b, ",\n  \"service_points\": [");
		for (i = 0; i < s->npoints; i++) {
			evbuffer_add_printf(b, "%s{\"point\": ", i ? ", " : "");
			http_json_string(b, s->points[i].code);
			evbuffer_add_printf(b, ", \"agents\": %lld, \"members\": "
			    "%lld, \"commission\": %lld}", s->points[i].agents,
			    s->points[i].members, s->points[i].commission);
		}
		evbuffer_add(b, "]", 1);
	} else
		evbuffer_add_printf(b, ",\n  \"service_points\": null");
	admin_disputes_json(b, s);
	admin_money_json(b, s);
	evbuffer_add_printf(b, ",\n  \"plugins\": [");
	n = a->src.plugins != NULL ? plugin_count(a->src.plugins) : 0;
	for (i = 0; i < n; i++) {
		p = plugin_at(a->src.plugins, i);
		evbuffer_add_printf(b, "%s{\"name\": ", i ? ", " : "");
		http_json_string(b, p->name);
		evbuffer_add_printf(b, ", \"version\": ");
		http_json_string(b, p->version);
		evbuffer_add(b, "}", 1);
	}
	evbuffer_add_printf(b, "],\n  \"admin\": {\"auth_failures\": %llu}\n}\n",
	    s->auth_failures);
	free(s);
	return rc;
}
