/*
 * reports.c - the admins' side of the prices plugin's held reports
 * (REPORT, plugins/prices/prices.c: a price far from its window's median
 * is stored as 'held', not counted, for an admin to decide): approving
 * or rejecting one, and the held ones on /status with a form for each.
 *
 *	POST /admin/reports	id=, decision=approve|reject: price report
 *				id decided, in one unit of work: approved,
 *				its status becomes 'ok' and its commodity
 *				and market are marked in prices_dirty (as
 *				REPORT does for a report it publishes), so
 *				it counts on the board at once and the
 *				threshold alerts look at the new median at
 *				the plugin's next timer; rejected, its
 *				status becomes 'rejected' (kept, never
 *				counted).  decided is set to now.  Answered
 *				after the commit with {"report", "decision",
 *				"commodity", "market"}.  An unknown report
 *				is 404, one decided already 409 (with its
 *				status; also when a concurrent decision took
 *				it first), a database without the plugin's
 *				step 3 404.  Nobody is told by SMS: the
 *				plugin has no template for a decision.
 *				With from=status (the forms of /status) the
 *				answer, or the refusal, is a small HTML page
 *				leading back to /status.
 *
 * marketctl reports approve|reject ID... sends the form once per report
 * (src/ctl/actions.c); marketctl reports [--held] reads the table itself,
 * read-only.  The forms of /status carry the server's form token
 * (http_form_token) in place of the header X-Marketbox-Admin, which a
 * browser's form cannot send: the HTTP server checks it (the entry's
 * form_token), with the password, before this runs.
 *
 * The plugin owns the table (its step 3); the daemon writes only what a
 * decision sets, as the plugin's store head comment says.
 */
#include "config.h"

#include <sys/types.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "base/gw.h"

#include <event2/buffer.h>
#include <event2/event.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>

#include "admin/admin.h"
#include "admin/admin_int.h"
#include "http/http.h"
#include "store/store.h"

#define ADMIN_HELD	20	/* held reports listed on /status */

static const char *const admin_reports_cols[] = {
	"id", "commodity", "market", "price", "msisdn", "status", "created",
	"decided", NULL
};

/* id as typed: a positive number, else -1. */
static long long
admin_reports_id(const char *s)
{
	char		*end;
	long long	 v;

	if (s == NULL || *s < '0' || *s > '9')
		return -1;
	v = strtoll(s, &end, 10);
	return *end == '\0' && v > 0 ? v : -1;
}

/* The page a form of /status gets: text, and the way back. */
static struct evbuffer *
admin_reports_page(const char *text)
{
	struct evbuffer	*b;

	if ((b = evbuffer_new()) == NULL)
		return NULL;
	evbuffer_add_printf(b, "<!DOCTYPE html>\n<html><head><meta charset="
	    "\"utf-8\"><title>marketbox: price reports</title></head><body>"
	    "\n<p data-k=\"answer\">");
	admin_escape_html(b, text);
	evbuffer_add_printf(b, "</p>\n<p><a href=\"/status\">Back to /status"
	    "</a></p>\n</body></html>\n");
	return b;
}

/* A refusal: JSON for marketctl, a page for a form of /status. */
static void
admin_reports_refuse(struct evhttp_request *req, int html, int code,
    const char *reason, const char *text)
{
	struct evbuffer	*b;

	if (!html) {
		admin_reply_error(req, code, reason, text);
		return;
	}
	if ((b = admin_reports_page(text)) == NULL) {
		evhttp_send_error(req, 500, NULL);
		return;
	}
	admin_reply(req, code, reason, "text/html; charset=utf-8", b);
	evbuffer_free(b);
}

/* POST /admin/reports: a held report approved or rejected. */
void
admin_reports_decide(struct admin *a, struct evhttp_request *req,
    struct evkeyvalq *q, const char *peer)
{
	static const char find[] =
	    "SELECT status, commodity, market FROM prices_reports "
	    "WHERE id = $1";
	static const char decide_sql[] =
	    "UPDATE prices_reports SET status = $2, decided = $3 "
	    "WHERE id = $1 AND status = 'held'";
	/* what REPORT does for a report it publishes (prices_store_dirty) */
	static const char dirty_sql[] =
	    "INSERT INTO prices_dirty (commodity, market) VALUES ($1, $2)"
	    " ON CONFLICT (commodity, market) DO NOTHING";
	static const char *const dirty_cols[] = { "commodity", "market",
	    NULL };
	const char		*decision = admin_param(q, "decision");
	const char		*from = admin_param(q, "from");
	struct store		*store = a->src.store;
	struct store_stmt	*st;
	struct evbuffer		*b;
	char			 status[ADMIN_LABEL], why[200];
	char			 commodity[ADMIN_LABEL], market[ADMIN_LABEL];
	const char		*to, *done;
	long long		 id;
	int			 rc, ok = 0, approve, html;

	html = from != NULL && strcmp(from, "status") == 0;
	if ((id = admin_reports_id(admin_param(q, "id"))) == -1) {
		admin_reports_refuse(req, html, 400, "Bad Request", "id must "
		    "be a price report's number (marketctl reports --held)");
		return;
	}
	if (decision == NULL || (strcmp(decision, "approve") != 0 &&
	    strcmp(decision, "reject") != 0)) {
		admin_reports_refuse(req, html, 400, "Bad Request", "decision "
		    "must be approve or reject");
		return;
	}
	approve = strcmp(decision, "approve") == 0;
	to = approve ? "ok" : "rejected";
	done = approve ? "approved" : "rejected";
	if (!admin_table_has(a, "prices_reports", admin_reports_cols) ||
	    !admin_table_has(a, "prices_dirty", dirty_cols)) {
		admin_reports_refuse(req, html, 404, "Not Found", "this "
		    "database has no held price reports to decide (the prices "
		    "plugin is not loaded, or older)");
		return;
	}
	if (store_work_begin(store) == -1) {
		admin_reports_refuse(req, html, 500, "Internal Server Error",
		    "the database is not available");
		return;
	}
	if ((st = store_query(store, find)) == NULL)
		goto end;
	store_bind_int(st, 1, id);
	if ((rc = store_step(st)) == STORE_ROW) {
		admin_label(status, store_text(st, 0), "");
		admin_label(commodity, store_text(st, 1), "");
		admin_label(market, store_text(st, 2), "");
	}
	store_done(st);
	if (rc == STORE_ERROR)
		goto end;
	if (rc == STORE_DONE || strcmp(status, "held") != 0) {
		store_work_end(store, 0);
		if (rc == STORE_DONE) {
			snprintf(why, sizeof(why), "there is no price report "
			    "#%lld (marketctl reports --held shows the held "
			    "ones)", id);
			admin_reports_refuse(req, html, 404, "Not Found", why);
		} else {
			snprintf(why, sizeof(why), "price report #%lld is not "
			    "held (it is %s): nothing done", id, status);
			admin_reports_refuse(req, html, 409, "Conflict", why);
		}
		return;
	}
	if ((st = store_query(store, decide_sql)) == NULL)
		goto end;
	store_bind_int(st, 1, id);
	store_bind_text(st, 2, to);
	store_bind_int(st, 3, (long long)time(NULL));
	rc = store_step(st);
	store_done(st);
	if (rc != STORE_DONE)
		goto end;
	if (store_changes(store) != 1) {
		/* another decision took it between the read and the write */
		store_work_end(store, 0);
		snprintf(why, sizeof(why), "price report #%lld was decided "
		    "just now by another request: nothing done", id);
		admin_reports_refuse(req, html, 409, "Conflict", why);
		return;
	}
	if (approve) {
		if ((st = store_query(store, dirty_sql)) == NULL)
			goto end;
		store_bind_text(st, 1, commodity);
		store_bind_text(st, 2, market);
		rc = store_step(st);
		store_done(st);
		if (rc != STORE_DONE)
			goto end;
	}
	ok = 1;
end:
	if (!ok)
		error(0, "admin: price report %lld could not be decided", id);
	if (store_work_end(store, ok) == -1 || !ok) {
		admin_reports_refuse(req, html, 500, "Internal Server Error",
		    "the database could not decide the report");
		return;
	}
	info(0, "admin: price report %lld (%s at %s) %s, by %s", id,
	    commodity, market, done, peer);
	if (html) {
		snprintf(why, sizeof(why), "Price report #%lld (%s at %s) %s%s",
		    id, commodity, market, done, approve ? ": it counts on the "
		    "board now." : ": kept, never counted.");
		b = admin_reports_page(why);
	} else if ((b = evbuffer_new()) != NULL) {
		evbuffer_add_printf(b, "{\"report\": %lld, \"decision\": ", id);
		http_json_string(b, done);
		evbuffer_add_printf(b, ", \"commodity\": ");
		http_json_string(b, commodity);
		evbuffer_add_printf(b, ", \"market\": ");
		http_json_string(b, market);
		evbuffer_add_printf(b, "}\n");
	}
	if (b == NULL) {
		evhttp_send_error(req, 500, NULL);
		return;
	}
	admin_answer_after_commit_as(a, req, b, html ?
	    "text/html; charset=utf-8" : "application/json");
	evbuffer_free(b);
}

/* --- /status ------------------------------------------------------------- */

/*
 * /status: the held reports, oldest first (the first ADMIN_HELD), each
 * with its form: two buttons posting id, decision, from=status and the
 * form token to /admin/reports.  No script, no link that changes
 * anything.  Tagged data-k=held.count and held.ID.  0, or -1 if the
 * database could not be read.
 */
int
admin_reports_html(struct admin *a, struct evbuffer *b)
{
	static const char count_sql[] =
	    "SELECT COUNT(*) FROM prices_reports WHERE status = 'held'";
	static const char list_sql[] =
	    "SELECT id, created, msisdn, commodity, market, price "
	    "FROM prices_reports WHERE status = 'held' "
	    "ORDER BY created, id LIMIT $1";
	struct store_stmt	*st;
	const char		*token;
	char			 when[80], price[32];
	long long		 n, id;
	time_t			 t;
	struct tm		 tm;
	int			 rc;

	if (!admin_table_has(a, "prices_reports", admin_reports_cols))
		return 0;
	if ((n = admin_count(a, count_sql)) < 0)
		return -1;
	evbuffer_add_printf(b, "<h3>Held reports</h3>\n<p><span "
	    "data-k=\"held.count\">%lld</span> held for review (a price far "
	    "from the median of its window)", n);
	if (n == 0) {
		evbuffer_add_printf(b, ".</p>\n");
		return 0;
	}
	evbuffer_add_printf(b, "; approved, one counts on the board at once; "
	    "rejected, it is kept and never counted (also marketctl reports "
	    "approve|reject ID)%s.</p>\n", n > ADMIN_HELD ?
	    " (the oldest shown)" : "");
	evbuffer_add_printf(b, "<table><tr><th>report</th><th>when (UTC)</th>"
	    "<th>reporter</th><th>commodity</th><th>market</th><th>price</th>"
	    "<th>decide</th></tr>\n");
	token = a->http != NULL ? http_form_token(a->http) : "";
	if ((st = store_query(a->src.store, list_sql)) == NULL)
		return -1;
	store_bind_int(st, 1, ADMIN_HELD);
	while ((rc = store_step(st)) == STORE_ROW) {
		id = store_int(st, 0);
		t = (time_t)store_int(st, 1);
		if (gmtime_r(&t, &tm) != NULL)
			snprintf(when, sizeof(when), "%04d-%02d-%02d %02d:%02d",
			    tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday,
			    tm.tm_hour, tm.tm_min);
		else
			snprintf(when, sizeof(when), "?");
		admin_money(price, sizeof(price), store_int(st, 5));
		evbuffer_add_printf(b, "<tr><td class=\"n\" data-k=\"held."
		    "%lld\">#%lld</td><td>%s</td><td>", id, id, when);
		admin_escape_html(b, store_text(st, 2));
		evbuffer_add_printf(b, "</td><td>");
		admin_escape_html(b, store_text(st, 3));
		evbuffer_add_printf(b, "</td><td>");
		admin_escape_html(b, store_text(st, 4));
		evbuffer_add_printf(b, "</td><td class=\"n\">%s</td><td>"
		    "<form method=\"post\" action=\"/admin/reports\">"
		    "<input type=\"hidden\" name=\"id\" value=\"%lld\">"
		    "<input type=\"hidden\" name=\"from\" value=\"status\">"
		    "<input type=\"hidden\" name=\"token\" value=\"", price, id);
		admin_escape_html(b, token);
		evbuffer_add_printf(b, "\"><button name=\"decision\" "
		    "value=\"approve\">Approve</button> <button "
		    "name=\"decision\" value=\"reject\">Reject</button>"
		    "</form></td></tr>\n");
	}
	store_done(st);
	evbuffer_add_printf(b, "</table>\n");
	return rc == STORE_ERROR ? -1 : 0;
}
