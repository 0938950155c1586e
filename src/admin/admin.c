/*
 * admin.c - the operators' pages and actions on the HTTP port: /status,
 * /status.json, /metrics, and the POST /admin/... actions of marketctl.
 *
 * See admin.h for the contract.  admin_register() puts the pages and
 * actions in the HTTP server's table as HTTP_ACCESS_ADMIN entries: the
 * server (src/http/access.c) applies their rules before any of them runs
 * (admin-allow-ip, admin-password with its wrong-password lock-out, a
 * POST a browser made for another site, the entry's methods, the header
 * X-Marketbox-Admin on POSTs), so what runs here has passed them.  Only
 * actions wait (for their commit), at most ADMIN_MAX_WAITING at once:
 * wrong passwords never take a place among them.
 *
 * This file keeps the table of entries and the handlers that lead from
 * one to its page or action, the admin's life (admin_new, admin_free) and
 * the answers pages and actions send (headers, errors, an answer after
 * the commit).
 *
 * The rest is one file per reason to change, sharing admin_int.h:
 *
 *	snapshot.c	the one snapshot of figures every page reads
 *	status_json.c	/status.json
 *	metrics.c	/metrics, in Prometheus's text format
 *	status_html.c	/status, the HTML page
 *	chart.c		its SVG price charts
 *	actions.c	the actions: POST /admin/broadcast (and its batches),
 *			GET /admin/broadcast, POST /admin/retry, POST
 *			/admin/user, POST /admin/agent
 *	dispute.c	POST /admin/dispute, and the open disputes of
 *			/status
 *	reports.c	POST /admin/reports (a held price report approved
 *			or rejected), and the held ones of /status with a
 *			form each (its token in place of the header below)
 *	payments.c	POST /payments/confirm, a mobile-money provider's
 *			confirmation (HTTP_ACCESS_PEER, not ADMIN: the
 *			provider has no admin password; group = payments
 *			has its own secret and allow-list); and the
 *			operator's POST /admin/payments/match and
 *			/admin/payouts/done (ADMIN, as the other actions)
 *	format.c	text escaped for HTML and JSON
 *
 * POSTs must carry the header X-Marketbox-Admin (any value): a browser
 * holding Basic credentials for the pages cannot be made by another site
 * to send it (a cross-site request with a custom header needs a CORS
 * preflight, which is never granted), so the actions are safe from
 * cross-site request forgery.  The one exception, /admin/reports, also
 * takes the forms of /status, which a browser sends without JavaScript
 * and so without headers: they carry the server's form token
 * (http_form_token, random at start, shown only on the admin pages)
 * instead, which another site cannot know.
 */
#include "config.h"

#include <sys/queue.h>
#include <sys/types.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "base/gw.h"

/* After libgw: its gwlib/http.h has an enum that event2/http.h's macros
 * would otherwise break. */
#include <event2/buffer.h>
#include <event2/event.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>

#include "admin/admin.h"
#include "admin/admin_int.h"
#include "base/conf.h"
#include "http/http.h"
#include "queue/inbox.h"
#include "queue/outbox.h"
#include "store/store.h"

#define ADMIN_MAX_WAITING	64	/* delayed 401s and commits at once */

/* --- state --------------------------------------------------------------- */

/* An action waiting for its commit. */
struct admin_waiting {
	TAILQ_ENTRY(admin_waiting) entry;
	struct admin		*admin;		/* NULL once detached */
	struct evhttp_request	*req;		/* NULL once answered */
	char			*body;		/* answered after commit */
	const char		*type;		/* body's: JSON, or a page */
};

/* --- small helpers ------------------------------------------------------- */

double
admin_monotonic(void)
{
	struct timespec	 ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* --- answering ----------------------------------------------------------- */

/* Headers every admin answer carries: not cached, not framed, no
 * outside resources, the password in the URL never sent on. */
static void
admin_headers(struct evhttp_request *req, const char *type)
{
	http_private_headers(req, type);
}

void
admin_reply(struct evhttp_request *req, int code, const char *reason,
    const char *type, struct evbuffer *body)
{
	admin_headers(req, type);
	evhttp_send_reply(req, code, reason, body);
}

static void
admin_reply_text(struct evhttp_request *req, int code, const char *reason,
    const char *text)
{
	struct evbuffer	*b;

	if ((b = evbuffer_new()) == NULL ||
	    evbuffer_add_printf(b, "%s\n", text) < 0) {
		error(0, "admin: out of memory answering a request");
		if (b != NULL)
			evbuffer_free(b);
		evhttp_send_error(req, 500, NULL);
		return;
	}
	admin_reply(req, code, reason, "text/plain; charset=utf-8", b);
	evbuffer_free(b);
}

/* An error for marketctl: {"error": text}, with code. */
void
admin_reply_error(struct evhttp_request *req, int code, const char *reason,
    const char *text)
{
	struct evbuffer	*b;

	if ((b = evbuffer_new()) == NULL) {
		evhttp_send_error(req, 500, NULL);
		return;
	}
	evbuffer_add(b, "{\"error\": ", 10);
	http_json_string(b, text);
	evbuffer_add(b, "}\n", 2);
	admin_reply(req, code, reason, "application/json", b);
	evbuffer_free(b);
}

static void
admin_waiting_free(struct admin_waiting *w)
{
	if (w == NULL)
		return;
	free(w->body);
	free(w);
}

static void
admin_waiting_remove(struct admin_waiting *w)
{
	if (w->admin != NULL) {
		TAILQ_REMOVE(&w->admin->waiting, w, entry);
		w->admin->nwaiting--;
		w->admin = NULL;
	}
}

/* An action's commit: answer with the body prepared, or 500. */
static void
admin_commit_cb(void *arg, int ok)
{
	struct admin_waiting	*w = arg;
	struct evbuffer		*b;

	if (w->admin == NULL) {		/* admin_free answered it */
		admin_waiting_free(w);
		return;
	}
	admin_waiting_remove(w);
	if (!ok) {
		admin_reply_error(w->req, 500, "Internal Server Error",
		    "the database could not commit the change");
	} else if ((b = evbuffer_new()) != NULL) {
		evbuffer_add(b, w->body, strlen(w->body));
		admin_reply(w->req, 200, "OK", w->type, b);
		evbuffer_free(b);
	} else
		evhttp_send_error(w->req, 500, NULL);
	admin_waiting_free(w);
}

/* A new waiting request, or NULL (answered 503) when too many wait. */
static struct admin_waiting *
admin_wait(struct admin *a, struct evhttp_request *req)
{
	struct admin_waiting	*w;

	if (a->nwaiting >= ADMIN_MAX_WAITING) {
		admin_reply_text(req, 503, "Service Unavailable",
		    "too many admin requests waiting; try later");
		return NULL;
	}
	if ((w = calloc(1, sizeof(*w))) == NULL) {
		error(errno, "admin: out of memory");
		admin_reply_text(req, 500, "Internal Server Error",
		    "out of memory");
		return NULL;
	}
	w->admin = a;
	w->req = req;
	TAILQ_INSERT_TAIL(&a->waiting, w, entry);
	a->nwaiting++;
	return w;
}

/* Answer req with body once the open transaction commits. */
void
admin_answer_after_commit(struct admin *a, struct evhttp_request *req,
    struct evbuffer *body)
{
	admin_answer_after_commit_as(a, req, body, "application/json");
}

void
admin_answer_after_commit_as(struct admin *a, struct evhttp_request *req,
    struct evbuffer *body, const char *type)
{
	struct admin_waiting	*w;
	size_t			 len = evbuffer_get_length(body);

	if ((w = admin_wait(a, req)) == NULL)
		return;
	w->type = type;
	if ((w->body = malloc(len + 1)) == NULL) {
		admin_waiting_remove(w);
		admin_waiting_free(w);
		admin_reply_text(req, 500, "Internal Server Error",
		    "out of memory");
		return;
	}
	evbuffer_copyout(body, w->body, len);
	w->body[len] = '\0';
	if (store_on_commit(a->src.store, admin_commit_cb, w) == -1) {
		admin_waiting_remove(w);
		admin_waiting_free(w);
		admin_reply_text(req, 500, "Internal Server Error",
		    "out of memory");
	}
}

/* --- routing ------------------------------------------------------------- */

/*
 * The pages and actions are entries of the HTTP server's table
 * (admin_register): the server has applied their access
 * (HTTP_ACCESS_ADMIN: allow-list, password, lock-out, methods, the
 * X-Marketbox-Admin header of a POST) before one of these runs.  Each
 * answers its request itself (now, or after a commit from admin's waiting
 * list) and so ends the server's call by taking the request over.
 */

/* A page: render it into a buffer and answer. */
static void
admin_page(struct admin *a, struct evhttp_request *req,
    int (*render)(struct admin *, struct evbuffer *), const char *type)
{
	struct evbuffer	*b;

	if ((b = evbuffer_new()) == NULL) {
		evhttp_send_error(req, 500, NULL);
		return;
	}
	if (render(a, b) == -1) {
		evbuffer_free(b);
		admin_reply_text(req, 500, "Internal Server Error",
		    "the database could not be read; see the log");
		return;
	}
	admin_reply(req, 200, "OK", type, b);
	evbuffer_free(b);
}

static void
admin_status_cb(struct http_call *call, void *arg)
{
	admin_page(arg, http_call_take(call), admin_status_html,
	    "text/html; charset=utf-8");
}

static void
admin_status_json_cb(struct http_call *call, void *arg)
{
	admin_page(arg, http_call_take(call), admin_status_json,
	    "application/json");
}

static void
admin_metrics_cb(struct http_call *call, void *arg)
{
	admin_page(arg, http_call_take(call), admin_metrics,
	    "text/plain; version=0.0.4; charset=utf-8");
}

/* An action: its form parsed (else answered 400 or 415), then fn. */
static void
admin_action(struct admin *a, struct http_call *call,
    void (*fn)(struct admin *, struct evhttp_request *, struct evkeyvalq *,
    const char *))
{
	struct evhttp_request	*req = http_call_request(call);
	struct evkeyvalq	 form;

	TAILQ_INIT(&form);
	if (admin_form(req, &form) == 0)
		fn(a, req, &form, http_call_peer(call));
	evhttp_clear_headers(&form);
	/* Answered, or waiting for its commit in a->waiting. */
	(void)http_call_take(call);
}

/* GET /admin/broadcast: a broadcast's progress; POST: a new one. */
static void
admin_broadcast_cb(struct http_call *call, void *arg)
{
	struct admin	*a = arg;

	if (http_call_post(call)) {
		admin_action(a, call, admin_broadcast_start);
		return;
	}
	admin_broadcast_status(a, http_call_request(call),
	    http_call_params(call));
	(void)http_call_take(call);
}

static void
admin_retry_cb(struct http_call *call, void *arg)
{
	admin_action(arg, call, admin_retry);
}

static void
admin_user_cb(struct http_call *call, void *arg)
{
	admin_action(arg, call, admin_user);
}

static void
admin_agent_cb(struct http_call *call, void *arg)
{
	admin_action(arg, call, admin_agent);
}

static void
admin_dispute_cb(struct http_call *call, void *arg)
{
	admin_action(arg, call, admin_dispute_close);
}

static void
admin_payment_match_cb(struct http_call *call, void *arg)
{
	admin_action(arg, call, admin_payment_match);
}

static void
admin_payout_done_cb(struct http_call *call, void *arg)
{
	admin_action(arg, call, admin_payout_done);
}

static void
admin_reports_cb(struct http_call *call, void *arg)
{
	admin_action(arg, call, admin_reports_decide);
}

/* A provider's payment confirmation: the server checked the peer (PEER);
 * payments.c checks the rest and answers as the provider expects. */
static void
admin_payment_cb(struct http_call *call, void *arg)
{
	const char	*peer = http_call_peer(call);

	admin_payment_confirm(arg, http_call_request(call), peer);
	(void)http_call_take(call);
}

/* A provider's validation, before the buyer pays: read only. */
static void
admin_payment_validate_cb(struct http_call *call, void *arg)
{
	const char	*peer = http_call_peer(call);

	admin_payment_validate(arg, http_call_request(call), peer);
	(void)http_call_take(call);
}

/* The entries: pages answer GET, actions POST (their errors in JSON, for
 * marketctl).  They read the store: each runs as a store task. */
static const struct http_handler admin_handlers[] = {
	{ .path = "/status", .methods = HTTP_GET,
	  .access = HTTP_ACCESS_ADMIN, .store_task = 1,
	  .fn = admin_status_cb },
	{ .path = "/status.json", .methods = HTTP_GET,
	  .access = HTTP_ACCESS_ADMIN, .store_task = 1,
	  .fn = admin_status_json_cb },
	{ .path = "/metrics", .methods = HTTP_GET,
	  .access = HTTP_ACCESS_ADMIN, .store_task = 1,
	  .fn = admin_metrics_cb },
	{ .path = "/admin/broadcast", .methods = HTTP_GET | HTTP_POST,
	  .access = HTTP_ACCESS_ADMIN, .store_task = 1, .json_errors = 1,
	  .fn = admin_broadcast_cb },
	{ .path = "/admin/retry", .methods = HTTP_POST,
	  .access = HTTP_ACCESS_ADMIN, .store_task = 1, .json_errors = 1,
	  .fn = admin_retry_cb },
	{ .path = "/admin/user", .methods = HTTP_POST,
	  .access = HTTP_ACCESS_ADMIN, .store_task = 1, .json_errors = 1,
	  .fn = admin_user_cb },
	{ .path = "/admin/agent", .methods = HTTP_POST,
	  .access = HTTP_ACCESS_ADMIN, .store_task = 1, .json_errors = 1,
	  .fn = admin_agent_cb },
	{ .path = "/admin/dispute", .methods = HTTP_POST,
	  .access = HTTP_ACCESS_ADMIN, .store_task = 1, .json_errors = 1,
	  .fn = admin_dispute_cb },
	{ .path = "/admin/payments/match", .methods = HTTP_POST,
	  .access = HTTP_ACCESS_ADMIN, .store_task = 1, .json_errors = 1,
	  .fn = admin_payment_match_cb },
	{ .path = "/admin/payouts/done", .methods = HTTP_POST,
	  .access = HTTP_ACCESS_ADMIN, .store_task = 1, .json_errors = 1,
	  .fn = admin_payout_done_cb },
	/* also the forms of /status: their token in place of the header */
	{ .path = "/admin/reports", .methods = HTTP_POST,
	  .access = HTTP_ACCESS_ADMIN, .store_task = 1, .json_errors = 1,
	  .form_token = 1, .fn = admin_reports_cb },
	{ .path = "/payments/confirm", .methods = HTTP_POST,
	  .access = HTTP_ACCESS_PEER, .store_task = 1, .json_errors = 1,
	  .max_body = 8192, .fn = admin_payment_cb },
	{ .path = "/payments/validate", .methods = HTTP_POST,
	  .access = HTTP_ACCESS_PEER, .store_task = 1, .json_errors = 1,
	  .max_body = 8192, .fn = admin_payment_validate_cb }
};

#define ADMIN_NHANDLERS	(sizeof(admin_handlers) / sizeof(admin_handlers[0]))

int
admin_path_is_ours(const char *path)
{
	size_t	 i;

	if (path == NULL)
		return 0;
	for (i = 0; i < ADMIN_NHANDLERS; i++)
		if (strcmp(path, admin_handlers[i].path) == 0)
			return 1;
	return 0;
}

int
admin_register(struct admin *a, struct http *h)
{
	size_t	 i;

	if (a == NULL || h == NULL)
		return -1;
	for (i = 0; i < ADMIN_NHANDLERS; i++)
		if (http_handle(h, &admin_handlers[i], a) == -1)
			return -1;
	a->http = h;
	return 0;
}

/* --- life ---------------------------------------------------------------- */

struct admin *
admin_new(struct event_base *base, const struct conf *conf,
    const struct admin_sources *src)
{
	struct admin		*a;
	struct admin_snapshot	 s;

	if (base == NULL || conf == NULL || src == NULL || src->store == NULL ||
	    src->outbox == NULL) {
		error(0, "admin: needs a loop, a conf, a store and an outbox");
		return NULL;
	}
	if ((a = calloc(1, sizeof(*a))) == NULL) {
		error(errno, "admin: out of memory");
		return NULL;
	}
	a->base = base;
	a->conf = conf;
	a->src = *src;
	a->started = time(NULL);
	TAILQ_INIT(&a->waiting);
	/* The counters as they stand now: rates until samples exist. */
	memset(&s, 0, sizeof(s));
	if (outbox_counts(src->outbox, &s.outbox) == -1)
		warning(0, "admin: cannot read the outbox; rates start at 0");
	a->baseline.t = admin_monotonic();
	a->baseline.mt = admin_mt_handled(&s.outbox);
	if (src->inbox != NULL) {
		unsigned long long	 r, d;

		inbox_stats(src->inbox, &r, &d);
		a->baseline.mo = r - d;
	}
	if (conf->admin_password == NULL || conf->admin_password[0] == '\0')
		info(0, "admin: no admin-password: the admin pages are off");
	return a;
}

void
admin_set_conf(struct admin *a, const struct conf *conf)
{
	if (a == NULL || conf == NULL)
		return;
	a->conf = conf;
}

void
admin_free(struct admin *a)
{
	struct admin_waiting	*w;
	size_t			 i;

	if (a == NULL)
		return;
	/* Answer every waiting request: the HTTP server is freed next. */
	while ((w = TAILQ_FIRST(&a->waiting)) != NULL) {
		struct evhttp_request	*req = w->req;

		/* Its commit callback frees it. */
		admin_waiting_remove(w);
		admin_reply_text(req, 503, "Service Unavailable",
		    "shutting down");
		w->req = NULL;
	}
	for (i = 0; i < a->njobs; i++) {
		if (a->jobs[i]->commit_pending) {
			/* Its commit callback frees it. */
			if (a->jobs[i]->next != NULL) {
				event_free(a->jobs[i]->next);
				a->jobs[i]->next = NULL;
			}
			a->jobs[i]->admin = NULL;
		} else
			admin_job_free(a->jobs[i]);
	}
	free(a);
}
