/*
 * metrics.c - GET /metrics: the snapshot of figures (snapshot.c) in
 * Prometheus's text format (version 0.0.4), a # HELP and a # TYPE line
 * before each metric, label values escaped by admin_prom_label.  It
 * shows the figures of /status and /status.json, since all three render
 * one struct admin_snapshot.  The headers (the format's Content-Type)
 * and the answer are admin.c's; the password is checked by the HTTP
 * server before.
 */
#include "config.h"

#include <sys/types.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/gw.h"

#include <event2/buffer.h>

#include "base/conf.h"
#include "admin/admin.h"
#include "admin/admin_int.h"
#include "marketbox-plugin.h"
#include "plugin/plugin.h"
#include "queue/outbox.h"
#include "store/store.h"

/* Append s as a Prometheus label value, quotes included. */
static void
admin_prom_label(struct evbuffer *b, const char *s)
{
	const char	*p;

	evbuffer_add(b, "\"", 1);
	for (p = s != NULL ? s : ""; *p != '\0'; p++) {
		if (*p == '"' || *p == '\\')
			evbuffer_add_printf(b, "\\%c", *p);
		else if (*p == '\n')
			evbuffer_add(b, "\\n", 2);
		else
			evbuffer_add(b, p, 1);
	}
	evbuffer_add(b, "\"", 1);
}

static void
admin_prom_head(struct evbuffer *b, const char *name, const char *type,
    const char *help)
{
	evbuffer_add_printf(b, "# HELP %s %s\n# TYPE %s %s\n", name, help, name,
	    type);
}

static void
admin_prom_one(struct evbuffer *b, const char *name, const char *type,
    const char *help, long long v)
{
	admin_prom_head(b, name, type, help);
	evbuffer_add_printf(b, "%s %lld\n", name, v);
}

static void
admin_prom_group(struct evbuffer *b, const char *name, const char *type,
    const char *help, const char *la, const char *lb,
    const struct admin_group *g)
{
	size_t	 i;

	admin_prom_head(b, name, type, help);
	for (i = 0; i < g->n; i++) {
		evbuffer_add_printf(b, "%s{%s=", name, la);
		admin_prom_label(b, g->row[i].a);
		if (lb != NULL) {
			evbuffer_add_printf(b, ",%s=", lb);
			admin_prom_label(b, g->row[i].b);
		}
		evbuffer_add_printf(b, "} %lld\n", g->row[i].n);
	}
}

/*
 * The store's COMMIT times, a histogram: cumulative buckets, the last one
 * le="+Inf" (its count is _count), _sum in seconds.
 */
static void
admin_prom_commit_times(struct evbuffer *b,
    const struct store_commit_times *t)
{
	static const char	 name[] = "marketbox_store_commit_seconds";
	size_t			 i;

	admin_prom_head(b, name, "histogram",
	    "Time the database's COMMITs took, since start (a unit of work "
	    "waits for its commit before its MO is acked).");
	for (i = 0; i < STORE_COMMIT_BUCKETS; i++) {
		if (i == STORE_COMMIT_BUCKETS - 1)
			evbuffer_add_printf(b, "%s_bucket{le=\"+Inf\"}", name);
		else
			evbuffer_add_printf(b, "%s_bucket{le=\"%g\"}", name,
			    store_commit_bounds[i]);
		evbuffer_add_printf(b, " %llu\n", t->le[i]);
	}
	evbuffer_add_printf(b, "%s_sum %llu.%06llu\n%s_count %llu\n", name,
	    t->sum_us / 1000000, t->sum_us % 1000000, name, t->count);
}

/* One gauge per service point: which 0 agents, 1 members, 2 commission. */
static void
admin_prom_points(struct evbuffer *b, const char *name, const char *help,
    const struct admin_snapshot *s, int which)
{
	const struct admin_service_point	*p;
	size_t					 i;

	admin_prom_head(b, name, "gauge", help);
	for (i = 0; i < s->npoints; i++) {
		p = &s->points[i];
		evbuffer_add_printf(b, "%s{point=", name);
		admin_prom_label(b, p->code);
		evbuffer_add_printf(b, "} %lld\n", which == 0 ? p->agents :
		    which == 1 ? p->members : p->commission);
	}
}

/*
 * The operator's backups (marketctl backup): the mtime of the newest
 * marketbox-YYYYMMDDTHHMMSSZ.db in backup-dir (names sort as their
 * times: one readdir and one stat), 0 when there is none; and the room
 * left beside a SQLite database (for unprivileged users: marketbox is
 * one).  Alert rules watch both.
 */
static int backup_dir_unreadable;	/* said in the log already */

static void
admin_prom_backups(struct admin *a, struct evbuffer *b)
{
	const char	*db = a->conf->database;
	char		 newest[64] = "", path[PATH_MAX], *slash;
	struct dirent	*e;
	struct statvfs	 vfs;
	struct stat	 sb;
	long long	 t = 0;
	DIR		*d;

	if (a->conf->backup_dir != NULL) {
		/*
		 * A backup-dir marketbox cannot read says nothing of the
		 * backups in it: no sample (not 0, "none"), and a warning
		 * when it starts and when it ends, not at every scrape.
		 */
		if ((d = opendir(a->conf->backup_dir)) == NULL) {
			if (!backup_dir_unreadable)
				warning(errno, "admin: backup-dir %s cannot be "
				    "read: /metrics leaves out the time of "
				    "the last backup", a->conf->backup_dir);
			backup_dir_unreadable = 1;
			goto disk;
		}
		if (backup_dir_unreadable)
			info(0, "admin: backup-dir %s can be read again",
			    a->conf->backup_dir);
		backup_dir_unreadable = 0;
		while ((e = readdir(d)) != NULL)
			if (store_backup_name(e->d_name) &&
			    strcmp(e->d_name, newest) > 0)
				strcpy(newest, e->d_name);
		closedir(d);
		if (newest[0] != '\0' && snprintf(path, sizeof(path), "%s/%s",
		    a->conf->backup_dir, newest) < (int)sizeof(path) &&
		    stat(path, &sb) == 0)
			t = (long long)sb.st_mtime;
		admin_prom_one(b, "marketbox_backup_last_success_timestamp_"
		    "seconds", "gauge", "When the newest backup in backup-dir "
		    "was written (its mtime), Unix seconds; 0: none.", t);
	}
disk:
	if (db == NULL || conf_database_is_conninfo(db) ||
	    snprintf(path, sizeof(path), "%s", db) >= (int)sizeof(path))
		return;
	if ((slash = strrchr(path, '/')) == NULL)
		strcpy(path, ".");
	else if (slash == path)
		path[1] = '\0';
	else
		*slash = '\0';
	if (statvfs(path, &vfs) == -1)
		return;
	admin_prom_one(b, "marketbox_store_disk_free_bytes", "gauge",
	    "Bytes free for unprivileged users in the database's directory.",
	    (long long)vfs.f_bavail * (long long)vfs.f_frsize);
}

int
admin_metrics(struct admin *a, struct evbuffer *b)
{
	struct admin_snapshot	*s;
	const struct mb_plugin	*p;
	size_t			 i, n;
	int			 rc;
	static const char	*const states[] = { OUTBOX_STATES };
	long long		 counts[OUTBOX_NSTATES];

	if ((s = calloc(1, sizeof(*s))) == NULL) {
		error(errno, "admin: out of memory");
		return -1;
	}
	rc = admin_snapshot_take(a, s);
	admin_prom_head(b, "marketbox_info", "gauge",
	    "The version of marketbox running.");
	evbuffer_add_printf(b, "marketbox_info{version=");
	admin_prom_label(b, MARKETBOX_VERSION);
	evbuffer_add_printf(b, "} 1\n");
	admin_prom_one(b, "marketbox_start_time_seconds", "gauge",
	    "When marketbox started, Unix seconds.", (long long)a->started);
	admin_prom_one(b, "marketbox_uptime_seconds", "gauge",
	    "Seconds since marketbox started.", s->uptime);
	admin_prom_head(b, "marketbox_bearerbox_up", "gauge",
	    "1 while the bearerbox link is connected and identified.");
	evbuffer_add_printf(b, "marketbox_bearerbox_up{mode=");
	admin_prom_label(b, s->link_mode);
	evbuffer_add_printf(b, "} %d\n", s->link_up);
	admin_prom_one(b, "marketbox_mo_total", "counter",
	    "Messages from phones in the inbox, all time.", s->mo_total);
	admin_prom_one(b, "marketbox_mo_received_total", "counter",
	    "Messages from phones taken since start, duplicates included.",
	    (long long)s->mo_received);
	admin_prom_one(b, "marketbox_mo_duplicates_total", "counter",
	    "Messages from phones taken again since start (no new effect).",
	    (long long)s->mo_duplicates);
	admin_prom_head(b, "marketbox_mo_per_minute", "gauge",
	    "New messages from phones per minute, over the last minutes.");
	evbuffer_add_printf(b, "marketbox_mo_per_minute %.2f\n",
	    s->mo_per_minute);
	admin_prom_one(b, "marketbox_mt_total", "counter",
	    "Messages to phones in the outbox (inline replies aside), all time.",
	    s->mt_total);
	admin_prom_head(b, "marketbox_mt_per_minute", "gauge",
	    "Messages to phones handed to the link per minute, over the last "
	    "minutes.");
	evbuffer_add_printf(b, "marketbox_mt_per_minute %.2f\n",
	    s->mt_per_minute);
	admin_prom_head(b, "marketbox_outbox_messages", "gauge",
	    "Outbox rows (SMS parts) by state.");
	counts[0] = s->outbox.queued;
	counts[1] = s->outbox.sending;
	counts[2] = s->outbox.accepted;
	counts[3] = s->outbox.buffered;
	counts[4] = s->outbox.delivered;
	counts[5] = s->outbox.failed;
	counts[6] = s->outbox.inline_;
	for (i = 0; i < 7; i++)
		evbuffer_add_printf(b, "marketbox_outbox_messages{state=\"%s\"} "
		    "%lld\n", states[i], counts[i]);
	admin_prom_one(b, "marketbox_outbox_oldest_age_seconds", "gauge",
	    "Age of the oldest outbox row not yet taken by bearerbox (queued "
	    "or sending), 0 when none.", s->outbox_oldest_age);
	admin_prom_group(b, "marketbox_dlr_total", "counter",
	    "Delivery reports recorded, by their last outcome.", "outcome",
	    NULL, &s->dlr);
	admin_prom_group(b, "marketbox_failed_messages", "gauge",
	    "Outbox rows that failed, by kind (reply, notice, broadcast).",
	    "kind", NULL, &s->failed);
	if (s->has_router) {
		admin_prom_head(b, "marketbox_commands_total", "counter",
		    "Messages routed since start, by outcome.");
		evbuffer_add_printf(b,
		    "marketbox_commands_total{outcome=\"handled\"} %llu\n"
		    "marketbox_commands_total{outcome=\"throttled\"} %llu\n"
		    "marketbox_commands_total{outcome=\"repeat\"} %llu\n"
		    "marketbox_commands_total{outcome=\"unknown\"} %llu\n",
		    s->router.handled, s->router.throttled, s->router.repeats,
		    s->router.unknown);
	}
	if (s->has_box) {
		admin_prom_one(b, "marketbox_box_connects_total", "counter",
		    "Connections made to bearerbox since start.",
		    (long long)s->box.connects);
		admin_prom_one(b, "marketbox_box_protocol_errors_total",
		    "counter", "Box protocol errors since start.",
		    (long long)s->box.protocol_errors);
		admin_prom_one(b, "marketbox_box_mt_total", "counter",
		    "Messages to phones written to bearerbox since start.",
		    (long long)s->box.mt);
		admin_prom_one(b, "marketbox_box_dlr_total", "counter",
		    "Delivery reports taken from bearerbox since start.",
		    (long long)s->box.dlr);
	}
	admin_prom_one(b, "marketbox_instances", "gauge",
	    "marketbox instances on this database with a heartbeat within the "
	    "lease (outbox-lease).", (long long)s->instances_live);
	admin_prom_one(b, "marketbox_store_commits_total", "counter",
	    "Database transactions committed since start.",
	    (long long)s->commits);
	admin_prom_one(b, "marketbox_store_units_total", "counter",
	    "Units of work (a message and its effects) committed since start.",
	    (long long)s->units);
	admin_prom_commit_times(b, &s->commit_times);
	admin_prom_group(b, "marketbox_users", "gauge",
	    "People known, by language and role (language \"none\": the "
	    "default).", "language", "role", &s->users);
	admin_prom_one(b, "marketbox_users_registered", "gauge",
	    "People registered with REG.", s->users_registered);
	admin_prom_one(b, "marketbox_users_opted_out", "gauge",
	    "People who sent STOP.", s->users_opted_out);
	if (s->has_posts) {
		admin_prom_group(b, "marketbox_market_posts", "gauge",
		    "Offers and wants, by kind and state.", "kind", "state",
		    &s->posts);
		admin_prom_one(b, "marketbox_open_offers", "gauge",
		    "Offers open now.", s->open_offers);
		admin_prom_one(b, "marketbox_open_wants", "gauge",
		    "Wants open now.", s->open_wants);
	}
	if (s->has_orders)
		admin_prom_group(b, "marketbox_market_orders", "gauge",
		    "Orders, by state.", "state", NULL, &s->orders);
	/* the market plugin's pools */
	if (s->has_pools)
		admin_prom_group(b, "marketbox_market_pools", "gauge",
		    "Pools, by kind (sell, want) and state.", "kind", "state",
		    &s->pools);
	if (s->has_prices)
		admin_prom_group(b, "marketbox_price_reports", "gauge",
		    "Price reports, by status.", "status", NULL, &s->prices);
	if (s->has_points) {
		admin_prom_points(b, "marketbox_service_point_agents",
		    "Agents of a service point (not removed).", s, 0);
		admin_prom_points(b, "marketbox_service_point_members",
		    "Active members of a service point.", s, 1);
		admin_prom_points(b, "marketbox_service_point_commission",
		    "Commission recorded for a service point's trades, all "
		    "time, in minor units (hundredths of the currency).", s, 2);
	}
	/* money, with group = payments (payments.c reads it) */
	if (s->has_money) {
		admin_prom_one(b, "marketbox_payments_received", "gauge",
		    "Provider payments received, all time (suspense ones "
		    "too; not what sellers say they took).",
		    s->received.n);
		admin_prom_one(b, "marketbox_payments_received_amount",
		    "gauge", "Money received, all time, in minor units.",
		    s->received.sum);
		admin_prom_one(b, "marketbox_payments_suspense", "gauge",
		    "Payments matched to no order (marketctl payments "
		    "--unmatched).", s->suspense.n);
		admin_prom_one(b, "marketbox_payments_suspense_amount",
		    "gauge", "Money of the suspense list, in minor units.",
		    s->suspense.sum);
		admin_prom_one(b, "marketbox_refunds_due", "gauge",
		    "Orders whose money is to be refunded to the buyer.",
		    s->refunds_due.n);
		admin_prom_one(b, "marketbox_refunds_due_amount", "gauge",
		    "Money still to refund, in minor units.", s->refunds_due.sum);
		admin_prom_one(b, "marketbox_payouts_due", "gauge",
		    "Escrow orders whose seller is to be paid out.",
		    s->payouts_due.n);
		admin_prom_one(b, "marketbox_payouts_due_amount", "gauge",
		    "Money to pay sellers out, in minor units.",
		    s->payouts_due.sum);
	}
	n = a->src.plugins != NULL ? plugin_count(a->src.plugins) : 0;
	admin_prom_one(b, "marketbox_plugins_loaded", "gauge",
	    "Plugins loaded.", (long long)n);
	admin_prom_head(b, "marketbox_plugin_info", "gauge",
	    "A plugin loaded, with its version.");
	for (i = 0; i < n; i++) {
		p = plugin_at(a->src.plugins, i);
		evbuffer_add_printf(b, "marketbox_plugin_info{name=");
		admin_prom_label(b, p->name);
		evbuffer_add_printf(b, ",version=");
		admin_prom_label(b, p->version);
		evbuffer_add_printf(b, "} 1\n");
	}
	admin_prom_one(b, "marketbox_admin_auth_failures_total", "counter",
	    "Wrong admin passwords since start.", (long long)s->auth_failures);
	if (a->conf != NULL)
		admin_prom_backups(a, b);
	free(s);
	return rc;
}
