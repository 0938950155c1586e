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
 * Pages take a snapshot (struct admin_snapshot) of the in-memory counters
 * and of read-only queries, and render it as HTML, JSON or Prometheus
 * text, so the three always show the same figures.  Queries of plugin
 * tables (market_posts, market_orders, prices_reports) run only when the
 * table and the columns they use exist.  Every GROUP BY is bounded by
 * ADMIN_MAX_GROUPS rows and the price charts by ADMIN_CHART_ROWS reports.
 *
 * Actions change the database in units of work, like a message, and
 * answer once the pass's transaction has committed:
 *
 *	POST /admin/broadcast	market=, commodity=, all=1, text=: a notice
 *				to every registered user who matches and has
 *				not sent STOP, queued in batches of
 *				ADMIN_BROADCAST_BATCH per loop pass (opt_out
 *				is read as each batch is queued); answers 202
 *				with the broadcast's id at once.  The outbox's
 *				sender then sends at the conf's throughput.
 *	GET /admin/broadcast?id=	its progress
 *	POST /admin/retry	kind= (optional): failed rows queued again,
 *				ADMIN_RETRY_BATCH at most per request
 *	POST /admin/user	msisdn=, role=: set a user's role (the user
 *				is created if marketbox does not know them)
 *
 * POSTs must carry the header X-Marketbox-Admin (any value): a browser
 * holding Basic credentials for the pages cannot be made by another site
 * to send it (a cross-site request with a custom header needs a CORS
 * preflight, which is never granted), so the actions are safe from
 * cross-site request forgery.
 */
#include "config.h"

#include <sys/queue.h>
#include <sys/types.h>
#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
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
#include "link/box.h"
#include "base/conf.h"
#include "engine/core.h"
#include "text/gsm.h"
#include "http/http.h"
#include "queue/inbox.h"
#include "store/instance.h"
#include "marketbox-plugin.h"
#include "queue/outbox.h"
#include "plugin/plugin.h"
#include "engine/router.h"
#include "store/store.h"

#define ADMIN_MAX_WAITING	64	/* delayed 401s and commits at once */
#define ADMIN_INSTANCES		16	/* instances listed on /status */
#define ADMIN_SAMPLES		32	/* counter samples for the rates */
#define ADMIN_SAMPLE_EVERY	5.0	/* seconds between kept samples */
#define ADMIN_RATE_WINDOW	300.0	/* seconds: rates are over this */
#define ADMIN_MAX_GROUPS	64	/* rows of one GROUP BY shown */
#define ADMIN_LABEL		48	/* bytes of one label, with the NUL */
#define ADMIN_CHART_DAYS	56	/* days of price history charted */
#define ADMIN_MAX_CHARTS	24	/* commodity and market pairs charted */
#define ADMIN_CHART_ROWS	200000	/* reports read for the charts */
#define ADMIN_BROADCAST_BATCH	500	/* notices queued per loop pass */
#define ADMIN_MAX_JOBS		16	/* broadcasts remembered */
#define ADMIN_RETRY_BATCH	10000	/* rows requeued per request */
#define ADMIN_MAX_TEXT		1600	/* bytes of a broadcast text */
#define ADMIN_CURRENCY_FALLBACK	"KES"

/* --- state --------------------------------------------------------------- */

/* An action waiting for its commit. */
struct admin_waiting {
	TAILQ_ENTRY(admin_waiting) entry;
	struct admin		*admin;		/* NULL once detached */
	struct evhttp_request	*req;		/* NULL once answered */
	char			*body;		/* JSON answered after commit */
};

/* One broadcast: who it goes to, and how far it got. */
struct admin_job {
	struct admin	*admin;		/* NULL once admin_free detached it */
	long long	 id;
	char		*market;	/* NULL: any */
	char		*commodity;	/* NULL: any */
	char		*text;
	long long	 recipients;	/* matching when it started */
	long long	 cursor;	/* users.id done up to */
	long long	 notices;	/* queued and committed */
	long long	 row_floor;	/* outbox ids above this ... */
	long long	 last_row;	/* ... up to this, of kind broadcast */
	long long	 batch_cursor, batch_notices, batch_last_row;
	int		 batch_final;
	int		 tables;	/* admin_sql_batch[] index */
	int		 done, failed, commit_pending;
	int		 running;	/* its batch task is queued or
					   under way */
	time_t		 started;
	struct event	*next;		/* the next batch */
};

struct admin_sample {
	double			 t;	/* monotonic seconds */
	unsigned long long	 mo;	/* MOs taken since start */
	long long		 mt;	/* outbox rows handed to the link */
};

struct admin {
	struct event_base	*base;
	const struct conf	*conf;
	struct admin_sources	 src;
	time_t			 started;
	TAILQ_HEAD(, admin_waiting) waiting;
	size_t			 nwaiting;
	struct http		*http;		/* the server, once registered */
	struct admin_sample	 samples[ADMIN_SAMPLES];
	size_t			 nsamples, sample_next;
	struct admin_sample	 baseline;
	struct admin_job	*jobs[ADMIN_MAX_JOBS];	/* oldest first */
	size_t			 njobs;
	long long		 next_job;
};

/* One row of a GROUP BY: up to two labels and a count. */
struct admin_count {
	char		 a[ADMIN_LABEL], b[ADMIN_LABEL];
	long long	 n;
};

struct admin_group {
	struct admin_count	 row[ADMIN_MAX_GROUPS];
	size_t			 n;
};

/* Everything a page shows, read at one moment. */
struct admin_snapshot {
	time_t			 now;
	long long		 uptime;
	const char		*link_mode;
	int			 has_box, link_up;
	struct box_stats	 box;
	int			 has_inbox;
	unsigned long long	 mo_received, mo_duplicates;
	int			 has_router;
	struct router_stats	 router;
	unsigned long long	 commits, units;
	long long		 mo_total;
	double			 mo_per_minute, mt_per_minute, rate_window;
	struct outbox_counts	 outbox;
	long long		 mt_total;
	struct admin_group	 dlr;		/* dlr_state */
	struct admin_group	 failed;	/* kind */
	struct admin_group	 users;		/* language, role */
	long long		 users_total, users_registered,
				 users_opted_out;
	int			 has_posts, has_orders, has_prices;
	struct admin_group	 posts;		/* kind, state */
	struct admin_group	 orders;	/* state */
	struct admin_group	 prices;	/* status */
	long long		 open_offers, open_wants;
	unsigned long long	 auth_failures;
	/* The instances sharing the database (one on SQLite). */
	struct instance_info	 instances[ADMIN_INSTANCES];
	size_t			 ninstances, instances_live;
};

/* --- small helpers ------------------------------------------------------- */

static double
admin_monotonic(void)
{
	struct timespec	 ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int
admin_escape_html(struct evbuffer *b, const char *s)
{
	const char	*p, *run;
	const char	*rep;

	if (s == NULL)
		return 0;
	for (p = run = s; *p != '\0'; p++) {
		switch (*p) {
		case '&':	rep = "&amp;"; break;
		case '<':	rep = "&lt;"; break;
		case '>':	rep = "&gt;"; break;
		case '"':	rep = "&quot;"; break;
		case '\'':	rep = "&#39;"; break;
		default:	continue;
		}
		if ((p > run && evbuffer_add(b, run, (size_t)(p - run)) == -1) ||
		    evbuffer_add(b, rep, strlen(rep)) == -1)
			return -1;
		run = p + 1;
	}
	if (p > run && evbuffer_add(b, run, (size_t)(p - run)) == -1)
		return -1;
	return 0;
}

/* Append s as a JSON string, quotes included. */
static void
admin_json_string(struct evbuffer *b, const char *s)
{
	const unsigned char	*p;

	if (s == NULL) {
		evbuffer_add(b, "null", 4);
		return;
	}
	evbuffer_add(b, "\"", 1);
	for (p = (const unsigned char *)s; *p != '\0'; p++) {
		if (*p == '"' || *p == '\\')
			evbuffer_add_printf(b, "\\%c", *p);
		else if (*p < 0x20 || *p == 0x7f)
			evbuffer_add_printf(b, "\\u%04x", *p);
		else
			evbuffer_add(b, p, 1);
	}
	evbuffer_add(b, "\"", 1);
}

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

static int
admin_compare_ll(const void *a, const void *b)
{
	long long	 x = *(const long long *)a, y = *(const long long *)b;

	return x < y ? -1 : x > y;
}

long long
admin_median(long long *v, size_t n)
{
	long long	 lo, hi;

	qsort(v, n, sizeof(*v), admin_compare_ll);
	if (n % 2 == 1)
		return v[n / 2];
	lo = v[n / 2 - 1];
	hi = v[n / 2];
	/* Sorted, so hi >= lo: this cannot overflow and rounds down. */
	return lo + (hi - lo) / 2;
}

/* 1 if the n bytes at s are valid UTF-8 with no control characters but
 * newline. */
static int
admin_text_ok(const char *s, size_t n)
{
	const unsigned char	*p = (const unsigned char *)s;
	size_t			 i = 0, k, more;
	unsigned long		 cp;

	while (i < n) {
		if (p[i] < 0x80) {
			if ((p[i] < 0x20 && p[i] != '\n') || p[i] == 0x7f)
				return 0;
			i++;
			continue;
		}
		if ((p[i] & 0xe0) == 0xc0) {
			more = 1;
			cp = p[i] & 0x1f;
		} else if ((p[i] & 0xf0) == 0xe0) {
			more = 2;
			cp = p[i] & 0x0f;
		} else if ((p[i] & 0xf8) == 0xf0) {
			more = 3;
			cp = p[i] & 0x07;
		} else
			return 0;
		for (k = 1; k <= more; k++) {
			if (i + k >= n || (p[i + k] & 0xc0) != 0x80)
				return 0;
			cp = cp << 6 | (p[i + k] & 0x3f);
		}
		if ((more == 1 && cp < 0x80) || (more == 2 && cp < 0x800) ||
		    (more == 3 && cp < 0x10000) || cp > 0x10ffff ||
		    (cp >= 0xd800 && cp <= 0xdfff))
			return 0;
		i += more + 1;
	}
	return 1;
}

/* --- answering ----------------------------------------------------------- */

/* Headers every admin answer carries: not cached, not framed, no
 * outside resources, the password in the URL never sent on. */
static void
admin_headers(struct evhttp_request *req, const char *type)
{
	http_private_headers(req, type);
}

static void
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
static void
admin_reply_error(struct evhttp_request *req, int code, const char *reason,
    const char *text)
{
	struct evbuffer	*b;

	if ((b = evbuffer_new()) == NULL) {
		evhttp_send_error(req, 500, NULL);
		return;
	}
	evbuffer_add(b, "{\"error\": ", 10);
	admin_json_string(b, text);
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
		admin_reply(w->req, 200, "OK", "application/json", b);
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
static void
admin_answer_after_commit(struct admin *a, struct evhttp_request *req,
    struct evbuffer *body)
{
	struct admin_waiting	*w;
	size_t			 len = evbuffer_get_length(body);

	if ((w = admin_wait(a, req)) == NULL)
		return;
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

/* --- the snapshot -------------------------------------------------------- */

/*
 * 1 if table exists with every column named in cols (NULL-terminated).
 * Each engine describes its tables its own way: SQLite in sqlite_master
 * and pragma_table_info, PostgreSQL in information_schema (the schema
 * marketbox's tables are in: the first of the search path).
 */
static int
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

static void
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

/* One integer from sql (a literal, no parameters); -1 on error. */
static long long
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
static long long
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

static int
admin_snapshot_take(struct admin *a, struct admin_snapshot *s)
{
	static const char *const posts_cols[] = { "kind", "state", NULL };
	static const char *const orders_cols[] = { "state", NULL };
	static const char *const prices_cols[] = { "status", NULL };
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
	s->auth_failures = http_auth_failures(a->http);

	if ((s->mo_total = admin_count(a, "SELECT COUNT(*) FROM inbox")) < 0)
		bad = -1;
	if (outbox_counts(a->src.outbox, &s->outbox) == -1)
		bad = -1;
	s->mt_total = s->outbox.queued + admin_mt_handled(&s->outbox);
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
	if (admin_table_has(a, "market_orders", orders_cols)) {
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
	if (instance_list(a->src.store, instance_lease(a->conf), s->instances,
	    ADMIN_INSTANCES, &s->ninstances, &s->instances_live) == -1)
		bad = -1;
	admin_rates(a, s);
	return bad ? -1 : 0;
}

/* --- /status.json -------------------------------------------------------- */

static void
admin_json_group(struct evbuffer *b, const struct admin_group *g)
{
	size_t	 i;

	evbuffer_add(b, "{", 1);
	for (i = 0; i < g->n; i++) {
		evbuffer_add_printf(b, "%s", i ? ", " : "");
		admin_json_string(b, g->row[i].a);
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
		admin_json_string(b, g->row[i].a);
		evbuffer_add_printf(b, ", \"%s\": ", kb);
		admin_json_string(b, g->row[i].b);
		evbuffer_add_printf(b, ", \"count\": %lld}", g->row[i].n);
	}
	evbuffer_add(b, "]", 1);
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
	admin_json_string(b, MARKETBOX_VERSION);
	evbuffer_add_printf(b, ",\n  \"time\": %lld,\n  \"started\": %lld,\n"
	    "  \"uptime_seconds\": %lld,\n", (long long)s->now,
	    (long long)a->started, s->uptime);
	evbuffer_add_printf(b, "  \"link\": {\"mode\": ");
	admin_json_string(b, s->link_mode);
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
		admin_json_string(b, s->instances[i].name);
		evbuffer_add_printf(b, ", \"host\": ");
		admin_json_string(b, s->instances[i].host);
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
	if (s->has_prices) {
		evbuffer_add_printf(b, ",\n  \"prices\": {\"reports\": ");
		admin_json_group(b, &s->prices);
		evbuffer_add(b, "}", 1);
	} else
		evbuffer_add_printf(b, ",\n  \"prices\": null");
	evbuffer_add_printf(b, ",\n  \"plugins\": [");
	n = a->src.plugins != NULL ? plugin_count(a->src.plugins) : 0;
	for (i = 0; i < n; i++) {
		p = plugin_at(a->src.plugins, i);
		evbuffer_add_printf(b, "%s{\"name\": ", i ? ", " : "");
		admin_json_string(b, p->name);
		evbuffer_add_printf(b, ", \"version\": ");
		admin_json_string(b, p->version);
		evbuffer_add(b, "}", 1);
	}
	evbuffer_add_printf(b, "],\n  \"admin\": {\"auth_failures\": %llu}\n}\n",
	    s->auth_failures);
	free(s);
	return rc;
}

/* --- /metrics ------------------------------------------------------------ */

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

int
admin_metrics(struct admin *a, struct evbuffer *b)
{
	struct admin_snapshot	*s;
	const struct mb_plugin	*p;
	size_t			 i, n;
	int			 rc;
	static const char	*const states[] = { "queued", "sending",
				    "accepted", "buffered", "delivered",
				    "failed", "inline" };
	long long		 counts[7];

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
	if (s->has_prices)
		admin_prom_group(b, "marketbox_price_reports", "gauge",
		    "Price reports, by status.", "status", NULL, &s->prices);
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
	free(s);
	return rc;
}

/*
 * Money as the plugins show it: minor units are hundredths, "3000" when
 * whole, "2.50" otherwise.
 */
static void
admin_money(char *buf, size_t size, long long minor)
{
	if (minor % 100 == 0)
		snprintf(buf, size, "%lld", minor / 100);
	else
		snprintf(buf, size, "%s%lld.%02lld", minor < 0 ? "-" : "",
		    llabs(minor / 100), llabs(minor % 100));
}

/* A day as YYYY-MM-DD (libgw forbids strftime). */
static void
admin_date(char *buf, size_t size, const struct tm *tm)
{
	snprintf(buf, size, "%04d-%02d-%02d", tm->tm_year + 1900,
	    tm->tm_mon + 1, tm->tm_mday);
}

/* --- price charts -------------------------------------------------------- */

int
admin_svg_chart(struct evbuffer *b, const char *title, const char *unit,
    const struct admin_point *pts, size_t n, long long first_day,
    long long last_day)
{
	const double	 w = 360, h = 170, left = 64, right = 14, top = 26,
			 bottom = 30;
	double		 x, y, span_x, span_y;
	long long	 lo, hi;
	size_t		 i;
	char		 d1[48], d2[48], money[32];
	time_t		 t;
	struct tm	 tm;

	if (n == 0 || pts == NULL)
		return -1;
	lo = hi = pts[0].price;
	for (i = 1; i < n; i++) {
		if (pts[i].price < lo)
			lo = pts[i].price;
		if (pts[i].price > hi)
			hi = pts[i].price;
	}
	span_x = last_day > first_day ? (double)(last_day - first_day) : 1;
	span_y = hi > lo ? (double)(hi - lo) : 1;
	t = (time_t)(first_day * 86400);
	gmtime_r(&t, &tm);
	admin_date(d1, sizeof(d1), &tm);
	t = (time_t)(last_day * 86400);
	gmtime_r(&t, &tm);
	admin_date(d2, sizeof(d2), &tm);

	evbuffer_add_printf(b, "<svg xmlns=\"http://www.w3.org/2000/svg\" "
	    "class=\"chart\" width=\"%.0f\" height=\"%.0f\" viewBox=\"0 0 %.0f "
	    "%.0f\" role=\"img\" aria-label=\"", w, h, w, h);
	admin_escape_html(b, title);
	evbuffer_add_printf(b, "\"><title>");
	admin_escape_html(b, title);
	evbuffer_add_printf(b, ": median price per day</title>\n");
	evbuffer_add_printf(b, "<text x=\"%.0f\" y=\"16\" class=\"t\">", left);
	admin_escape_html(b, title);
	evbuffer_add_printf(b, "</text>\n");
	/* the axes */
	evbuffer_add_printf(b, "<line x1=\"%.0f\" y1=\"%.0f\" x2=\"%.0f\" "
	    "y2=\"%.0f\" class=\"axis\"/>\n<line x1=\"%.0f\" y1=\"%.0f\" "
	    "x2=\"%.0f\" y2=\"%.0f\" class=\"axis\"/>\n", left, top, left,
	    h - bottom, left, h - bottom, w - right, h - bottom);
	/* price labels: highest at the top, lowest at the bottom */
	admin_money(money, sizeof(money), hi);
	evbuffer_add_printf(b, "<text x=\"%.0f\" y=\"%.0f\" class=\"y\">%s ",
	    left - 4, top + 4, money);
	admin_escape_html(b, unit);
	admin_money(money, sizeof(money), lo);
	evbuffer_add_printf(b, "</text>\n<text x=\"%.0f\" y=\"%.0f\" "
	    "class=\"y\">%s ", left - 4, h - bottom, money);
	admin_escape_html(b, unit);
	evbuffer_add_printf(b, "</text>\n");
	/* day labels */
	evbuffer_add_printf(b, "<text x=\"%.0f\" y=\"%.0f\" class=\"x\">%s"
	    "</text>\n<text x=\"%.0f\" y=\"%.0f\" class=\"x xe\">%s</text>\n",
	    left, h - 10, d1, w - right, h - 10, d2);
	/* the line, and a dot per day */
	evbuffer_add_printf(b, "<polyline class=\"line\" points=\"");
	for (i = 0; i < n; i++) {
		x = left + (double)(pts[i].day - first_day) / span_x *
		    (w - left - right);
		y = hi > lo ? top + (double)(hi - pts[i].price) / span_y *
		    (h - top - bottom) : (top + h - bottom) / 2;
		evbuffer_add_printf(b, "%s%.1f,%.1f", i ? " " : "", x, y);
	}
	evbuffer_add_printf(b, "\"/>\n");
	for (i = 0; i < n; i++) {
		x = left + (double)(pts[i].day - first_day) / span_x *
		    (w - left - right);
		y = hi > lo ? top + (double)(hi - pts[i].price) / span_y *
		    (h - top - bottom) : (top + h - bottom) / 2;
		admin_money(money, sizeof(money), pts[i].price);
		evbuffer_add_printf(b, "<circle cx=\"%.1f\" cy=\"%.1f\" r=\"2\" "
		    "class=\"dot\"><title>%s</title></circle>\n", x, y, money);
	}
	evbuffer_add_printf(b, "</svg>\n");
	return 0;
}

/* One commodity and market's daily medians. */
struct admin_chart {
	char			 commodity[ADMIN_LABEL], market[ADMIN_LABEL];
	struct admin_point	 pts[ADMIN_CHART_DAYS + 1];
	size_t			 n;
};

/*
 * The charts: the published reports (status 'ok', not 'held') of the
 * last ADMIN_CHART_DAYS days, by commodity and market, a median per day.
 * *charts is malloc'd.  Returns the count (0: none, or no price table),
 * or -1.
 */
static long
admin_charts_read(struct admin *a, struct admin_chart **charts,
    long long *first_day, long long *last_day)
{
	static const char *const need[] = { "commodity", "market", "price",
					    "created", "status", NULL };
	static const char sql[] =
	    "SELECT commodity, market, created / 86400, price FROM "
	    "prices_reports WHERE created >= $1 AND created < $3 AND "
	    "status = 'ok' ORDER BY commodity, market, created / 86400 "
	    "LIMIT $2";
	struct admin_chart	*c = NULL, *cur = NULL;
	struct store_stmt	*st;
	long long		*day_prices = NULL, day = -1;
	size_t			 nday = 0, capday = 0;
	long			 nc = 0;
	int			 rc, oom = 0;
	time_t			 now = time(NULL);

	*charts = NULL;
	*last_day = (long long)now / 86400;
	*first_day = *last_day - ADMIN_CHART_DAYS + 1;
	if (!admin_table_has(a, "prices_reports", need))
		return 0;
	if ((st = store_query(a->src.store, sql)) == NULL)
		return -1;
	if ((c = calloc(ADMIN_MAX_CHARTS, sizeof(*c))) == NULL) {
		store_done(st);
		return -1;
	}
	store_bind_int(st, 1, *first_day * 86400);
	store_bind_int(st, 2, ADMIN_CHART_ROWS);
	store_bind_int(st, 3, (*last_day + 1) * 86400);
	for (;;) {
		const char	*com, *mkt;
		long long	 d = 0, price = 0;
		int		 row, same;

		rc = store_step(st);
		row = rc == STORE_ROW;
		com = row ? store_text(st, 0) : NULL;
		mkt = row ? store_text(st, 1) : NULL;
		if (row) {
			d = store_int(st, 2);
			price = store_int(st, 3);
			if (com == NULL)
				com = "";
			if (mkt == NULL)
				mkt = "";
		}
		same = row && cur != NULL &&
		    strncmp(cur->commodity, com, ADMIN_LABEL - 1) == 0 &&
		    strncmp(cur->market, mkt, ADMIN_LABEL - 1) == 0;
		/* The day before closes when the day or the pair changes. */
		if (cur != NULL && nday > 0 && (!same || d != day)) {
			if (cur->n <= ADMIN_CHART_DAYS) {
				cur->pts[cur->n].day = day;
				cur->pts[cur->n].price = admin_median(day_prices,
				    nday);
				cur->n++;
			}
			nday = 0;
		}
		if (!row)
			break;
		if (!same) {
			if (nc == ADMIN_MAX_CHARTS)
				break;
			cur = &c[nc++];
			snprintf(cur->commodity, sizeof(cur->commodity), "%s",
			    com);
			snprintf(cur->market, sizeof(cur->market), "%s", mkt);
		}
		day = d;
		if (price <= 0)
			continue;
		if (nday == capday) {
			size_t		 ncap = capday ? capday * 2 : 64;
			long long	*np = realloc(day_prices,
					    ncap * sizeof(*np));

			if (np == NULL) {
				oom = 1;
				break;
			}
			day_prices = np;
			capday = ncap;
		}
		day_prices[nday++] = price;
	}
	store_done(st);
	free(day_prices);
	if (rc == STORE_ERROR || oom) {
		if (oom)
			error(0, "admin: price charts: out of memory");
		free(c);
		return -1;
	}
	/* Drop pairs whose every price was refused. */
	{
		long	 i, j;

		for (i = j = 0; i < nc; i++)
			if (c[i].n > 0)
				c[j++] = c[i];
		nc = j;
	}
	*charts = c;
	return nc;
}

/* --- /status ------------------------------------------------------------- */

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

	evbuffer_add_printf(b, "<h2>People</h2>\n<div class=\"grid\"><table>\n");
	admin_html_row(b, "known", "users.total", s->users_total);
	admin_html_row(b, "registered", "users.registered",
	    s->users_registered);
	admin_html_row(b, "sent STOP", "users.opted_out", s->users_opted_out);
	evbuffer_add_printf(b, "</table>\n");
	admin_html_group2(b, "language", "role", "users", &s->users);
	evbuffer_add_printf(b, "</div>\n");

	evbuffer_add_printf(b, "<h2>Prices</h2>\n");
	if (s->has_prices)
		admin_html_group(b, "report status", "prices", &s->prices);
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

/* --- actions ------------------------------------------------------------- */

/* The value of key in a decoded query or form, or NULL. */
static const char *
admin_param(struct evkeyvalq *q, const char *key)
{
	return q != NULL ? evhttp_find_header(q, key) : NULL;
}

/* Parse a POST form body into q.  0, or -1 (answered 400 / 415). */
static int
admin_form(struct evhttp_request *req, struct evkeyvalq *q)
{
	struct evbuffer	*in = evhttp_request_get_input_buffer(req);
	const char	*type;
	size_t		 len = evbuffer_get_length(in);
	char		*body;
	int		 rc;

	type = evhttp_find_header(evhttp_request_get_input_headers(req),
	    "Content-Type");
	if (len > 0 && (type == NULL || strncasecmp(type,
	    "application/x-www-form-urlencoded", 33) != 0)) {
		admin_reply_error(req, 415, "Unsupported Media Type",
		    "send the fields as application/x-www-form-urlencoded");
		return -1;
	}
	if ((body = malloc(len + 1)) == NULL) {
		admin_reply_error(req, 500, "Internal Server Error",
		    "out of memory");
		return -1;
	}
	evbuffer_copyout(in, body, len);
	body[len] = '\0';
	rc = strlen(body) != len ? -1 : evhttp_parse_query_str(body, q);
	free(body);
	if (rc == -1) {
		evhttp_clear_headers(q);
		admin_reply_error(req, 400, "Bad Request",
		    "the form body does not parse");
		return -1;
	}
	return 0;
}

static struct admin_job *
admin_job_find(struct admin *a, long long id)
{
	size_t	 i;

	for (i = 0; i < a->njobs; i++)
		if (a->jobs[i]->id == id)
			return a->jobs[i];
	return NULL;
}

static void
admin_job_free(struct admin_job *j)
{
	if (j == NULL)
		return;
	if (j->next != NULL)
		event_free(j->next);
	free(j->market);
	free(j->commodity);
	free(j->text);
	free(j);
}

/* Bind the job's filters (NULL: any) to the recipients query. */
static void
admin_job_bind(struct store_stmt *st, const struct admin_job *j)
{
	store_bind_text(st, 1, j->market);
	store_bind_text(st, 2, j->commodity);
}

/*
 * The recipients of a broadcast: registered, not opted out, of the market
 * ($1, NULL: any), and, for a commodity ($2), who showed an interest in
 * it: posted an offer or a want of it (the market plugin's table) or
 * asked for its price alerts (the prices plugin's).  Ordered by users.id,
 * taken a batch at a time after $3.  One statement per set of plugin
 * tables present (index: 1 market_posts, 2 prices_alerts).
 */
#define ADMIN_WHO \
	"FROM users WHERE name IS NOT NULL AND opt_out = 0 " \
	"AND (CAST($1 AS TEXT) IS NULL OR market = $1) AND "
#define ADMIN_POSTS \
	"msisdn IN (SELECT msisdn FROM market_posts WHERE commodity = $2)"
#define ADMIN_ALERTS \
	"msisdn IN (SELECT msisdn FROM prices_alerts WHERE commodity = $2)"
#define ADMIN_BATCH	" AND id > $3 ORDER BY id LIMIT $4"
/* $2 is typed where nothing else says what it is (PostgreSQL asks). */
static const char *const admin_sql_count[4] = {
	"SELECT COUNT(*) " ADMIN_WHO "CAST($2 AS TEXT) IS NULL",
	"SELECT COUNT(*) " ADMIN_WHO "(CAST($2 AS TEXT) IS NULL OR "
	    ADMIN_POSTS ")",
	"SELECT COUNT(*) " ADMIN_WHO "(CAST($2 AS TEXT) IS NULL OR "
	    ADMIN_ALERTS ")",
	"SELECT COUNT(*) " ADMIN_WHO "(CAST($2 AS TEXT) IS NULL OR "
	    ADMIN_POSTS " OR " ADMIN_ALERTS ")"
};
static const char *const admin_sql_batch[4] = {
	"SELECT id, msisdn " ADMIN_WHO "CAST($2 AS TEXT) IS NULL" ADMIN_BATCH,
	"SELECT id, msisdn " ADMIN_WHO "(CAST($2 AS TEXT) IS NULL OR "
	    ADMIN_POSTS ")" ADMIN_BATCH,
	"SELECT id, msisdn " ADMIN_WHO "(CAST($2 AS TEXT) IS NULL OR "
	    ADMIN_ALERTS ")" ADMIN_BATCH,
	"SELECT id, msisdn " ADMIN_WHO "(CAST($2 AS TEXT) IS NULL OR "
	    ADMIN_POSTS " OR " ADMIN_ALERTS ")" ADMIN_BATCH
};

/* Which interest tables exist: 1 market_posts, 2 prices_alerts. */
static int
admin_interest_tables(struct admin *a)
{
	static const char *const cols[] = { "msisdn", "commodity", NULL };

	return (admin_table_has(a, "market_posts", cols) ? 1 : 0) |
	    (admin_table_has(a, "prices_alerts", cols) ? 2 : 0);
}

/*
 * Run the next batch on a later pass of the loop: a zero timer, which
 * libevent runs only after polling again (an event made active now would
 * run in this very pass, and a big broadcast would hold the loop).
 */
static void
admin_job_schedule(struct admin_job *j)
{
	static const struct timeval	 now = { 0, 0 };

	if (j->next != NULL && evtimer_add(j->next, &now) == -1) {
		error(0, "admin: broadcast %lld: cannot schedule; stopped",
		    j->id);
		j->failed = j->done = 1;
	}
}

/* A batch is durable (or rolled back): move on, or stop. */
static void
admin_job_commit_cb(void *arg, int ok)
{
	struct admin_job	*j = arg;

	j->commit_pending = 0;
	if (j->admin == NULL) {		/* admin_free detached it */
		admin_job_free(j);
		return;
	}
	if (!ok) {
		j->failed = 1;
		j->done = 1;
		error(0, "admin: broadcast %lld stopped: the database could "
		    "not commit; %lld notices were queued", j->id, j->notices);
		return;
	}
	j->cursor = j->batch_cursor;
	j->notices += j->batch_notices;
	if (j->batch_last_row > 0)
		j->last_row = j->batch_last_row;
	if (j->batch_final) {
		j->done = 1;
		info(0, "admin: broadcast %lld queued: %lld notices", j->id,
		    j->notices);
		return;
	}
	admin_job_schedule(j);
}

/*
 * One batch of a broadcast, in one unit of work: the next recipients by
 * users.id, read now (so a STOP sent meanwhile is respected), each given
 * the notice through the outbox.  The next batch runs after the commit.
 */
static void
admin_job_batch(struct admin_job *j)
{
	struct admin		*a = j->admin;
	struct store		*store = a->src.store;
	struct store_stmt	*st;
	char			(*to)[32] = NULL;
	long long		 last_id = j->cursor, row = 0;
	size_t			 n = 0, seen = 0, i;
	int			 rc, ok = 0;

	if (j->done || j->commit_pending)
		return;
	if ((to = calloc(ADMIN_BROADCAST_BATCH, sizeof(*to))) == NULL) {
		error(errno, "admin: broadcast %lld: out of memory", j->id);
		j->failed = j->done = 1;
		return;
	}
	if (store_work_begin(store) == -1)
		goto out;
	if ((st = store_query(store, admin_sql_batch[j->tables])) == NULL)
		goto end;
	admin_job_bind(st, j);
	store_bind_int(st, 3, j->cursor);
	store_bind_int(st, 4, ADMIN_BROADCAST_BATCH);
	while ((rc = store_step(st)) == STORE_ROW &&
	    seen < ADMIN_BROADCAST_BATCH) {
		const char	*m = store_text(st, 1);

		seen++;
		last_id = store_int(st, 0);
		if (m == NULL || strlen(m) >= sizeof(to[0]))
			continue;
		snprintf(to[n++], sizeof(to[0]), "%s", m);
	}
	store_done(st);
	if (rc == STORE_ERROR) {
		error(0, "admin: broadcast %lld: cannot read its recipients",
		    j->id);
		goto end;
	}
	/* A short batch is the last (LIMIT ends every batch with DONE). */
	j->batch_final = seen < ADMIN_BROADCAST_BATCH;
	for (i = 0; i < n; i++)
		if (outbox_queue(a->src.outbox, 0, "broadcast",
		    a->conf->global_sender, to[i], j->text, NULL, NULL) == -1)
			goto end;
	/*
	 * The highest outbox row now, inside this unit of work: the last
	 * notice queued (the progress counts rows up to it).  One query a
	 * batch, whichever engine numbers the rows.
	 */
	if (n > 0 && (row = admin_count(a,
	    "SELECT COALESCE(MAX(id), 0) FROM outbox")) < 0)
		goto end;
	ok = 1;
end:
	if (store_work_end(store, ok) == -1)
		ok = 0;
out:
	free(to);
	if (!ok) {
		error(0, "admin: broadcast %lld stopped after %lld notices",
		    j->id, j->notices);
		j->failed = j->done = 1;
		return;
	}
	j->batch_cursor = last_id;
	j->batch_notices = (long long)n;
	j->batch_last_row = row;
	if (store_on_commit(store, admin_job_commit_cb, j) == -1) {
		j->failed = j->done = 1;
		return;
	}
	j->commit_pending = 1;
}

/* A batch as a store task (store.h): one at a time. */
static void
admin_job_batch_task(void *arg)
{
	struct admin_job	*j = arg;

	admin_job_batch(j);
	j->running = 0;
}

static void
admin_job_batch_cb(evutil_socket_t fd, short what, void *arg)
{
	struct admin_job	*j = arg;

	(void)fd;
	(void)what;
	if (j->running || j->admin == NULL)
		return;
	j->running = 1;
	if (store_task(j->admin->src.store, admin_job_batch_task, j) == -1) {
		j->running = 0;
		error(0, "admin: broadcast %lld: cannot run; stopped", j->id);
		j->failed = j->done = 1;
	}
}

/* The JSON of a broadcast's progress. */
static void
admin_job_json(struct admin *a, const struct admin_job *j,
    struct evbuffer *b)
{
	static const char sql[] =
	    "SELECT state, COUNT(*) FROM outbox WHERE kind = 'broadcast' AND "
	    "id > $1 AND id <= $2 GROUP BY state ORDER BY state";
	struct store_stmt	*st;
	int			 first = 1;

	evbuffer_add_printf(b, "{\"id\": %lld, \"market\": ", j->id);
	admin_json_string(b, j->market);
	evbuffer_add_printf(b, ", \"commodity\": ");
	admin_json_string(b, j->commodity);
	evbuffer_add_printf(b, ", \"started\": %lld, \"recipients\": %lld, "
	    "\"notices\": %lld, \"done\": %s, \"failed\": %s, \"rows\": {",
	    (long long)j->started, j->recipients, j->notices,
	    j->done ? "true" : "false", j->failed ? "true" : "false");
	if (j->last_row > j->row_floor &&
	    (st = store_query(a->src.store, sql)) != NULL) {
		store_bind_int(st, 1, j->row_floor);
		store_bind_int(st, 2, j->last_row);
		while (store_step(st) == STORE_ROW) {
			evbuffer_add_printf(b, "%s", first ? "" : ", ");
			admin_json_string(b, store_text(st, 0));
			evbuffer_add_printf(b, ": %lld", store_int(st, 1));
			first = 0;
		}
		store_done(st);
	}
	evbuffer_add_printf(b, "}}\n");
}

static void
admin_broadcast_status(struct admin *a, struct evhttp_request *req,
    struct evkeyvalq *q)
{
	const char		*v = admin_param(q, "id");
	struct admin_job	*j;
	struct evbuffer		*b;
	char			*end;
	long long		 id;

	if (v == NULL && a->njobs > 0)
		j = a->jobs[a->njobs - 1];
	else {
		id = v != NULL ? strtoll(v, &end, 10) : 0;
		j = v != NULL && *v != '\0' && *end == '\0' ?
		    admin_job_find(a, id) : NULL;
	}
	if (j == NULL) {
		admin_reply_error(req, 404, "Not Found", "no such broadcast");
		return;
	}
	if ((b = evbuffer_new()) == NULL) {
		evhttp_send_error(req, 500, NULL);
		return;
	}
	admin_job_json(a, j, b);
	admin_reply(req, 200, "OK", "application/json", b);
	evbuffer_free(b);
}

/* 1 if s is a catalogue-style code: 1-32 lowercase letters, digits, - _ */
static int
admin_code_ok(const char *s)
{
	size_t	 n = 0;

	for (; *s != '\0'; s++, n++)
		if (!(islower((unsigned char)*s) || isdigit((unsigned char)*s) ||
		    *s == '-' || *s == '_'))
			return 0;
	return n > 0 && n <= 32;
}

static void
admin_broadcast_start(struct admin *a, struct evhttp_request *req,
    struct evkeyvalq *q, const char *peer)
{
	const char		*market = admin_param(q, "market");
	const char		*commodity = admin_param(q, "commodity");
	const char		*all = admin_param(q, "all");
	const char		*text = admin_param(q, "text");
	struct admin_job	*j = NULL;
	struct gsm_measure	 m;
	struct evbuffer		*b = NULL;
	struct store_stmt	*st;
	char			 why[160];

	if (market != NULL && *market == '\0')
		market = NULL;
	if (commodity != NULL && *commodity == '\0')
		commodity = NULL;
	if (text == NULL || *text == '\0') {
		admin_reply_error(req, 400, "Bad Request", "text is missing");
		return;
	}
	if (strlen(text) > ADMIN_MAX_TEXT || !admin_text_ok(text,
	    strlen(text))) {
		admin_reply_error(req, 400, "Bad Request", "text must be UTF-8 "
		    "without control characters, at most 1600 bytes");
		return;
	}
	gsm_measure(text, strlen(text), &m);
	if (m.parts > (size_t)(a->conf->max_parts > 0 ? a->conf->max_parts :
	    1)) {
		snprintf(why, sizeof(why), "text needs %zu SMS parts; "
		    "max-parts is %d", m.parts, a->conf->max_parts);
		admin_reply_error(req, 400, "Bad Request", why);
		return;
	}
	if (market == NULL && commodity == NULL &&
	    (all == NULL || strcmp(all, "1") != 0)) {
		admin_reply_error(req, 400, "Bad Request", "name a market or "
		    "a commodity, or all=1 to reach everyone");
		return;
	}
	if ((market != NULL && (!admin_code_ok(market) ||
	    conf_market_find(a->conf, market) == NULL)) ||
	    (commodity != NULL && (!admin_code_ok(commodity) ||
	    conf_commodity_find(a->conf, commodity) == NULL))) {
		admin_reply_error(req, 400, "Bad Request", "unknown market or "
		    "commodity: use the codes of the catalogue");
		return;
	}
	if (a->njobs > 0 && !a->jobs[a->njobs - 1]->done) {
		admin_reply_error(req, 409, "Conflict", "a broadcast is being "
		    "queued; try again when it is done");
		return;
	}
	if ((j = calloc(1, sizeof(*j))) == NULL ||
	    (market != NULL && (j->market = strdup(market)) == NULL) ||
	    (commodity != NULL && (j->commodity = strdup(commodity)) == NULL) ||
	    (j->text = strdup(text)) == NULL ||
	    (j->next = event_new(a->base, -1, 0, admin_job_batch_cb, j)) ==
	    NULL || (b = evbuffer_new()) == NULL)
		goto oom;
	j->admin = a;
	j->id = ++a->next_job;
	j->started = time(NULL);
	/* Without the plugins' tables, nobody showed an interest in any
	 * commodity. */
	j->tables = commodity != NULL ? admin_interest_tables(a) : 0;
	if (commodity != NULL && j->tables == 0) {
		j->done = 1;
	} else {
		if ((st = store_query(a->src.store,
		    admin_sql_count[j->tables])) == NULL)
			goto dberr;
		admin_job_bind(st, j);
		if (store_step(st) != STORE_ROW) {
			store_done(st);
			goto dberr;
		}
		j->recipients = store_int(st, 0);
		store_done(st);
		j->row_floor = admin_count(a,
		    "SELECT COALESCE(MAX(id), 0) FROM outbox");
		if (j->row_floor < 0)
			goto dberr;
	}
	if (a->njobs == ADMIN_MAX_JOBS) {
		admin_job_free(a->jobs[0]);
		memmove(a->jobs, a->jobs + 1, (ADMIN_MAX_JOBS - 1) *
		    sizeof(a->jobs[0]));
		a->njobs--;
	}
	a->jobs[a->njobs++] = j;
	info(0, "admin: broadcast %lld from %s to %lld people (market %s, "
	    "commodity %s)", j->id, peer, j->recipients,
	    market != NULL ? market : "any",
	    commodity != NULL ? commodity : "any");
	if (!j->done)
		admin_job_schedule(j);
	admin_job_json(a, j, b);
	admin_reply(req, 202, "Accepted", "application/json", b);
	evbuffer_free(b);
	return;
dberr:
	admin_job_free(j);
	if (b != NULL)
		evbuffer_free(b);
	admin_reply_error(req, 500, "Internal Server Error",
	    "the database could not be read");
	return;
oom:
	error(errno, "admin: out of memory");
	admin_job_free(j);
	if (b != NULL)
		evbuffer_free(b);
	admin_reply_error(req, 500, "Internal Server Error", "out of memory");
}

/* After a commit that queued rows behind the outbox's back: wake its
 * sender. */
static void
admin_kick_outbox_cb(void *arg, int ok)
{
	if (ok)
		outbox_kick(arg);
}

/* POST /admin/retry: failed rows queued again, in one unit of work. */
static void
admin_retry(struct admin *a, struct evhttp_request *req,
    struct evkeyvalq *q, const char *peer)
{
	static const char sql[] =
	    "UPDATE outbox SET state = 'queued', attempts = 0, "
	    "next_attempt = $1, error = NULL, dlr_state = NULL, "
	    "dlr_time = NULL WHERE id IN (SELECT id FROM outbox "
	    "WHERE state = 'failed' AND (CAST($2 AS TEXT) IS NULL OR "
	    "kind = $2) ORDER BY id LIMIT $3)";
	static const char left_sql[] =
	    "SELECT COUNT(*) FROM outbox WHERE state = 'failed' AND "
	    "(CAST($1 AS TEXT) IS NULL OR kind = $1)";
	const char		*kind = admin_param(q, "kind");
	struct store		*store = a->src.store;
	struct evbuffer		*b;
	struct store_stmt	*st;
	long long		 n = 0, left = 0;
	int			 ok = 0;

	if (kind != NULL && *kind == '\0')
		kind = NULL;
	if (kind != NULL && !admin_code_ok(kind)) {
		admin_reply_error(req, 400, "Bad Request", "bad kind");
		return;
	}
	if (store_work_begin(store) == -1) {
		admin_reply_error(req, 500, "Internal Server Error",
		    "the database is not available");
		return;
	}
	if ((st = store_query(store, sql)) != NULL) {
		store_bind_int(st, 1, (long long)time(NULL));
		store_bind_text(st, 2, kind);
		store_bind_int(st, 3, ADMIN_RETRY_BATCH);
		if (store_step(st) == STORE_DONE) {
			n = store_changes(store);
			ok = 1;
		}
		store_done(st);
	}
	if (ok && (st = store_query(store, left_sql)) != NULL) {
		store_bind_text(st, 1, kind);
		if (store_step(st) == STORE_ROW)
			left = store_int(st, 0);
		else
			ok = 0;
		store_done(st);
	}
	if (store_work_end(store, ok) == -1 || !ok) {
		admin_reply_error(req, 500, "Internal Server Error",
		    "the database could not requeue the failed messages");
		return;
	}
	info(0, "admin: %lld failed message(s) queued again, asked by %s", n,
	    peer);
	if (n > 0 && store_on_commit(store, admin_kick_outbox_cb,
	    a->src.outbox) == -1)
		warning(0, "admin: the sender wakes at its next timer");
	if ((b = evbuffer_new()) == NULL) {
		evhttp_send_error(req, 500, NULL);
		return;
	}
	evbuffer_add_printf(b, "{\"requeued\": %lld, \"failed_left\": %lld}\n",
	    n, left);
	admin_answer_after_commit(a, req, b);
	evbuffer_free(b);
}

/* POST /admin/user: set the role of msisdn (created if unknown). */
static void
admin_user(struct admin *a, struct evhttp_request *req,
    struct evkeyvalq *q, const char *peer)
{
	static const char *const roles[] = { "user", "farmer", "buyer",
	    "transporter", "agent", "admin" };
	static const char find[] = "SELECT role FROM users WHERE msisdn = $1";
	static const char upsert[] =
	    "INSERT INTO users (msisdn, role, created, updated) "
	    "VALUES ($1, $2, $3, $3) ON CONFLICT (msisdn) DO UPDATE SET "
	    "role = excluded.role, updated = excluded.updated";
	const char		*typed = admin_param(q, "msisdn");
	const char		*role = admin_param(q, "role");
	struct store		*store = a->src.store;
	struct evbuffer		*b;
	struct store_stmt	*st;
	char			 msisdn[32], before[ADMIN_LABEL] = "";
	size_t			 i;
	int			 ok = 0, rc, known = 0;

	for (i = 0; role != NULL && i < sizeof(roles) / sizeof(roles[0]); i++)
		if (strcmp(role, roles[i]) == 0)
			break;
	if (role == NULL || i == sizeof(roles) / sizeof(roles[0])) {
		admin_reply_error(req, 400, "Bad Request", "role must be one of "
		    "user, farmer, buyer, transporter, agent, admin");
		return;
	}
	if (typed == NULL || msisdn_normalise(a->conf->country_code, typed,
	    msisdn, sizeof(msisdn)) == -1) {
		admin_reply_error(req, 400, "Bad Request",
		    "msisdn is not a phone number");
		return;
	}
	if (store_work_begin(store) == -1) {
		admin_reply_error(req, 500, "Internal Server Error",
		    "the database is not available");
		return;
	}
	if ((st = store_query(store, find)) == NULL)
		goto end;
	store_bind_text(st, 1, msisdn);
	rc = store_step(st);
	if (rc == STORE_ROW) {
		known = 1;
		admin_label(before, store_text(st, 0), "");
	}
	store_done(st);
	if (rc == STORE_ERROR)
		goto end;
	if ((st = store_query(store, upsert)) == NULL)
		goto end;
	store_bind_text(st, 1, msisdn);
	store_bind_text(st, 2, role);
	store_bind_int(st, 3, (long long)time(NULL));
	ok = store_step(st) == STORE_DONE;
	store_done(st);
end:
	if (!ok)
		error(0, "admin: user: %s could not be made %s", msisdn, role);
	if (store_work_end(store, ok) == -1 || !ok) {
		admin_reply_error(req, 500, "Internal Server Error",
		    "the database could not change the user");
		return;
	}
	info(0, "admin: %s is now %s (was %s), set by %s", msisdn, role,
	    known ? before : "unknown", peer);
	if ((b = evbuffer_new()) == NULL) {
		evhttp_send_error(req, 500, NULL);
		return;
	}
	evbuffer_add_printf(b, "{\"msisdn\": ");
	admin_json_string(b, msisdn);
	evbuffer_add_printf(b, ", \"role\": ");
	admin_json_string(b, role);
	evbuffer_add_printf(b, ", \"before\": ");
	admin_json_string(b, known ? before : NULL);
	evbuffer_add_printf(b, ", \"created\": %s}\n", known ? "false" : "true");
	admin_answer_after_commit(a, req, b);
	evbuffer_free(b);
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
	  .fn = admin_user_cb }
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
