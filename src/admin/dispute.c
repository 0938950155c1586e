/*
 * dispute.c - the admins' side of the market plugin's disputes (PROBLEM,
 * plugins/market/market_dispute.c): closing one, and the open ones on
 * /status and /status.json.
 *
 *	POST /admin/dispute	ref=, for=buyer|seller, note=: dispute ref
 *				closed for that side (state closed, closed
 *				now, decision, note), in one unit of work
 *				with the notices to the order's buyer and
 *				seller (market-dispute-closed-buyer or
 *				-seller, each in their language, a member's
 *				through her agent: router_notify) and to
 *				its opener when he is neither (side other:
 *				a transporter), each person once, queued in
 *				the outbox like every notice; answered after
 *				the commit with {"dispute", "order",
 *				"decision", "buyer", "seller"}.  An unknown
 *				dispute is 404, a closed one 409 (with its
 *				decision; also when a concurrent close
 *				took it first), a database without the market
 *				plugin's disputes 404.
 *
 * marketctl dispute close sends the form (src/ctl/dispute.c); marketctl
 * dispute list reads the table itself, read-only.
 *
 * The plugin owns the table (schema step 5); the daemon writes only what
 * closing it sets, as the plugin's head comment says.
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
#include "engine/router.h"
#include "http/http.h"
#include "marketbox-plugin.h"
#include "queue/outbox.h"
#include "store/store.h"

#define ADMIN_DISPUTE_NOTE	120	/* bytes of a note: it goes in an SMS */

static const char *const admin_dispute_cols[] = {
	"ref", "order_ref", "opener", "side", "text", "state", "created",
	"closed", "decision", "note", NULL
};

/* 1 if the database has the plugin's disputes (and orders). */
static int
admin_disputes_exist(struct admin *a)
{
	static const char *const orders_cols[] = { "ref", "buyer", "seller",
	    NULL };

	return admin_table_has(a, "market_disputes", admin_dispute_cols) &&
	    admin_table_has(a, "market_orders", orders_cols);
}

/* The outbox's sender woken once the notices are committed. */
static void
admin_dispute_kick_cb(void *arg, int ok)
{
	if (ok)
		outbox_kick(arg);
}

/* ref as typed: a positive number, else -1. */
static long long
admin_dispute_ref(const char *s)
{
	char		*end;
	long long	 v;

	if (s == NULL || *s < '0' || *s > '9')
		return -1;
	v = strtoll(s, &end, 10);
	return *end == '\0' && v > 0 ? v : -1;
}

/* POST /admin/dispute: closed for one side, both parties told. */
void
admin_dispute_close(struct admin *a, struct evhttp_request *req,
    struct evkeyvalq *q, const char *peer)
{
	static const char find[] =
	    "SELECT d.state, d.order_ref, d.decision, o.buyer, o.seller, "
	    "d.opener, d.side FROM market_disputes d "
	    "JOIN market_orders o ON o.ref = d.order_ref WHERE d.ref = $1";
	static const char close_sql[] =
	    "UPDATE market_disputes SET state = 'closed', closed = $2, "
	    "decision = $3, note = $4 WHERE ref = $1 AND state = 'open'";
	const char		*side = admin_param(q, "for");
	const char		*note = admin_param(q, "note");
	struct store		*store = a->src.store;
	struct store_stmt	*st;
	struct evbuffer		*b;
	struct mb_arg		 args[3];
	char			 state[ADMIN_LABEL], decided[ADMIN_LABEL];
	char			 buyer[64], seller[64], opener[64], why[200];
	char			 opened_by[ADMIN_LABEL];
	char			 num[2][24];
	const char		*tmpl;
	long long		 ref, order = 0;
	int			 rc, ok = 0;

	if ((ref = admin_dispute_ref(admin_param(q, "ref"))) == -1) {
		admin_reply_error(req, 400, "Bad Request", "ref must be a "
		    "dispute's number (marketctl dispute list)");
		return;
	}
	if (side == NULL || (strcmp(side, "buyer") != 0 &&
	    strcmp(side, "seller") != 0)) {
		admin_reply_error(req, 400, "Bad Request", "for must be buyer "
		    "or seller: the side the dispute is decided for");
		return;
	}
	if (note == NULL)
		note = "";
	if (strlen(note) > ADMIN_DISPUTE_NOTE || strchr(note, '\n') != NULL ||
	    !admin_text_ok(note, strlen(note))) {
		snprintf(why, sizeof(why), "the note must be text of at most "
		    "%d bytes, on one line: it goes to both parties in an SMS",
		    ADMIN_DISPUTE_NOTE);
		admin_reply_error(req, 400, "Bad Request", why);
		return;
	}
	if (a->src.router == NULL) {
		admin_reply_error(req, 503, "Service Unavailable", "this "
		    "marketbox has no router to tell the parties");
		return;
	}
	if (!admin_disputes_exist(a)) {
		admin_reply_error(req, 404, "Not Found", "this database has no "
		    "disputes (the market plugin is not loaded, or older)");
		return;
	}
	tmpl = strcmp(side, "buyer") == 0 ? "market-dispute-closed-buyer" :
	    "market-dispute-closed-seller";
	if (store_work_begin(store) == -1) {
		admin_reply_error(req, 500, "Internal Server Error",
		    "the database is not available");
		return;
	}
	if ((st = store_query(store, find)) == NULL)
		goto end;
	store_bind_int(st, 1, ref);
	if ((rc = store_step(st)) == STORE_ROW) {
		admin_label(state, store_text(st, 0), "");
		order = store_int(st, 1);
		admin_label(decided, store_text(st, 2), "none");
		snprintf(buyer, sizeof(buyer), "%s", store_text(st, 3) != NULL ?
		    store_text(st, 3) : "");
		snprintf(seller, sizeof(seller), "%s", store_text(st, 4) !=
		    NULL ? store_text(st, 4) : "");
		snprintf(opener, sizeof(opener), "%s", store_text(st, 5) !=
		    NULL ? store_text(st, 5) : "");
		admin_label(opened_by, store_text(st, 6), "");
	}
	store_done(st);
	if (rc == STORE_ERROR)
		goto end;
	if (rc == STORE_DONE || strcmp(state, "open") != 0) {
		store_work_end(store, 0);
		if (rc == STORE_DONE) {
			snprintf(why, sizeof(why), "there is no dispute #%lld "
			    "(marketctl dispute list shows the open ones)",
			    ref);
			admin_reply_error(req, 404, "Not Found", why);
		} else {
			snprintf(why, sizeof(why), "dispute #%lld is closed "
			    "already (decided for the %s): nothing done", ref,
			    decided);
			admin_reply_error(req, 409, "Conflict", why);
		}
		return;
	}
	if ((st = store_query(store, close_sql)) == NULL)
		goto end;
	store_bind_int(st, 1, ref);
	store_bind_int(st, 2, (long long)time(NULL));
	store_bind_text(st, 3, side);
	store_bind_text(st, 4, note[0] != '\0' ? note : NULL);
	rc = store_step(st);
	store_done(st);
	if (rc != STORE_DONE)
		goto end;
	if (store_changes(store) != 1) {
		/* another close took it between the read and the write */
		store_work_end(store, 0);
		snprintf(why, sizeof(why), "dispute #%lld is closed already "
		    "(by another close just now): nothing done", ref);
		admin_reply_error(req, 409, "Conflict", why);
		return;
	}
	snprintf(num[0], sizeof(num[0]), "%lld", ref);
	snprintf(num[1], sizeof(num[1]), "%lld", order);
	args[0] = (struct mb_arg){ "dispute", num[0] };
	args[1] = (struct mb_arg){ "ref", num[1] };
	args[2] = (struct mb_arg){ "note", note };
	if (router_notify(a->src.router, buyer, tmpl, args, 3) == -1 ||
	    router_notify(a->src.router, seller, tmpl, args, 3) == -1)
		goto end;
	/* a transporter who opened it hears the decision too, once */
	if (strcmp(opened_by, "other") == 0 && opener[0] != '\0' &&
	    strcmp(opener, buyer) != 0 && strcmp(opener, seller) != 0 &&
	    router_notify(a->src.router, opener, tmpl, args, 3) == -1)
		goto end;
	ok = 1;
end:
	if (!ok)
		error(0, "admin: dispute %lld could not be closed", ref);
	if (store_work_end(store, ok) == -1 || !ok) {
		admin_reply_error(req, 500, "Internal Server Error",
		    "the database could not close the dispute");
		return;
	}
	info(0, "admin: dispute %lld (order %lld) closed for the %s, by %s",
	    ref, order, side, peer);
	if (store_on_commit(store, admin_dispute_kick_cb, a->src.outbox) == -1)
		warning(0, "admin: the sender wakes at its next timer");
	if ((b = evbuffer_new()) == NULL) {
		evhttp_send_error(req, 500, NULL);
		return;
	}
	evbuffer_add_printf(b, "{\"dispute\": %lld, \"order\": %lld, "
	    "\"decision\": ", ref, order);
	http_json_string(b, side);
	evbuffer_add_printf(b, ", \"buyer\": ");
	http_json_string(b, buyer);
	evbuffer_add_printf(b, ", \"seller\": ");
	http_json_string(b, seller);
	evbuffer_add_printf(b, "}\n");
	admin_answer_after_commit(a, req, b);
	evbuffer_free(b);
}

/* --- /status, /status.json ---------------------------------------------- */

/* The open disputes into s: their count, the oldest ADMIN_DISPUTES. */
int
admin_disputes_read(struct admin *a, struct admin_snapshot *s)
{
	static const char count_sql[] =
	    "SELECT COUNT(*) FROM market_disputes WHERE state = 'open'";
	static const char list_sql[] =
	    "SELECT ref, order_ref, side, created FROM market_disputes "
	    "WHERE state = 'open' ORDER BY created, ref LIMIT $1";
	struct store_stmt	*st;
	struct admin_dispute	*d;
	int			 rc;

	s->has_disputes = 0;
	s->disputes_open = 0;
	s->ndisputes = 0;
	if (!admin_table_has(a, "market_disputes", admin_dispute_cols))
		return 0;
	s->has_disputes = 1;
	if ((s->disputes_open = admin_count(a, count_sql)) < 0)
		return -1;
	if ((st = store_query(a->src.store, list_sql)) == NULL)
		return -1;
	store_bind_int(st, 1, ADMIN_DISPUTES);
	while ((rc = store_step(st)) == STORE_ROW &&
	    s->ndisputes < ADMIN_DISPUTES) {
		d = &s->disputes[s->ndisputes++];
		d->ref = store_int(st, 0);
		d->order = store_int(st, 1);
		admin_label(d->side, store_text(st, 2), "");
		d->created = store_int(st, 3);
	}
	store_done(st);
	return rc == STORE_ERROR ? -1 : 0;
}

/* Seconds as "3d 4h", "4h 5m" or "5m". */
static void
admin_dispute_age(char *buf, size_t size, long long sec)
{
	if (sec < 0)
		sec = 0;
	if (sec >= 86400)
		snprintf(buf, size, "%lldd %lldh", sec / 86400,
		    sec % 86400 / 3600);
	else if (sec >= 3600)
		snprintf(buf, size, "%lldh %lldm", sec / 3600, sec % 3600 / 60);
	else
		snprintf(buf, size, "%lldm", sec / 60);
}

/*
 * /status: the open disputes, oldest first: number, order, the opener's
 * side and age, tagged data-k=disputes.open and dispute.REF.
 */
void
admin_disputes_html(struct evbuffer *b, const struct admin_snapshot *s)
{
	const struct admin_dispute	*d;
	char				 age[32];
	size_t				 i;

	if (!s->has_disputes)
		return;
	evbuffer_add_printf(b, "<h2>Disputes</h2>\n<p><span "
	    "data-k=\"disputes.open\">%lld</span> open", s->disputes_open);
	if (s->disputes_open == 0) {
		evbuffer_add_printf(b, ".</p>\n");
		return;
	}
	evbuffer_add_printf(b, "; decide each with marketctl dispute close N "
	    "--for buyer|seller \"note\"%s.</p>\n", s->disputes_open >
	    (long long)s->ndisputes ? " (the oldest shown)" : "");
	evbuffer_add_printf(b, "<table><tr><th>dispute</th><th>order</th>"
	    "<th>opened by</th><th>age</th></tr>\n");
	for (i = 0; i < s->ndisputes; i++) {
		d = &s->disputes[i];
		admin_dispute_age(age, sizeof(age), (long long)s->now -
		    d->created);
		evbuffer_add_printf(b, "<tr><td class=\"n\" data-k=\"dispute."
		    "%lld\">#%lld</td><td class=\"n\">#%lld</td><td>", d->ref,
		    d->ref, d->order);
		admin_escape_html(b, d->side);
		evbuffer_add_printf(b, "</td><td>%s</td></tr>\n", age);
	}
	evbuffer_add_printf(b, "</table>\n");
}

/* /status.json: ,"disputes": {"open": N, "oldest": [...]} or null. */
void
admin_disputes_json(struct evbuffer *b, const struct admin_snapshot *s)
{
	const struct admin_dispute	*d;
	size_t				 i;

	if (!s->has_disputes) {
		evbuffer_add_printf(b, ",\n  \"disputes\": null");
		return;
	}
	evbuffer_add_printf(b, ",\n  \"disputes\": {\"open\": %lld, "
	    "\"oldest\": [", s->disputes_open);
	for (i = 0; i < s->ndisputes; i++) {
		d = &s->disputes[i];
		evbuffer_add_printf(b, "%s{\"ref\": %lld, \"order\": %lld, "
		    "\"side\": ", i ? ", " : "", d->ref, d->order);
		http_json_string(b, d->side);
		evbuffer_add_printf(b, ", \"age\": %lld}", (long long)s->now -
		    d->created);
	}
	evbuffer_add(b, "]}", 2);
}
