/*
 * admin.c - the operators' pages and actions on the HTTP port: /status,
 * /status.json, /metrics, and the POST /admin/... actions of marketctl.
 *
 * See admin.h for the contract.  How a request goes:
 *
 *	1. the peer must be loopback or match admin-allow-ip (else 403);
 *	2. an admin-password must be configured (else 403 "admin pages are
 *	   off");
 *	3. a POST must not come from a browser for another site or host
 *	   (http_request_foreign: Origin, Sec-Fetch-Site, Host), else 403;
 *	4. an address that gave a wrong password is locked out for
 *	   admin_failure_delay(count) seconds (0.5 s doubling up to 8 s):
 *	   until then each of its requests is answered 429 with Retry-After
 *	   at once, BEFORE the password is looked at, so a guess made then
 *	   teaches nothing and costs nothing; other addresses are not
 *	   touched, so the right password from elsewhere still gets in;
 *	5. the password, from ?password= or HTTP Basic, is compared in
 *	   constant time (an empty one never matches); a wrong one is
 *	   logged, counted for that address and answered 401 at once, and
 *	   starts its lock-out;
 *	6. then the page or the action.  Only actions wait (for their
 *	   commit), at most ADMIN_MAX_WAITING at once: wrong passwords never
 *	   take a place among them.
 *
 * This file keeps that way in (allow-list, password, lock-out, the
 * routing to a page or an action), the admin's life (admin_new,
 * admin_free) and the answers pages and actions send (headers,
 * errors, an answer after the commit).
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
 *			/admin/user
 *	format.c	text escaped for HTML and JSON
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
#define ADMIN_FAIL_FORGET	900	/* seconds: a quiet address is forgotten */
#define ADMIN_DELAY_FIRST	0.5	/* seconds before the first 401 */
#define ADMIN_DELAY_MAX		8.0	/* seconds: the longest delay */
#define ADMIN_MAX_PASSWORD	256	/* bytes of a password given */

/* --- state --------------------------------------------------------------- */

/* An action waiting for its commit. */
struct admin_waiting {
	TAILQ_ENTRY(admin_waiting) entry;
	struct admin		*admin;		/* NULL once detached */
	struct evhttp_request	*req;		/* NULL once answered */
	char			*body;		/* JSON answered after commit */
};

/* --- small helpers ------------------------------------------------------- */

double
admin_monotonic(void)
{
	struct timespec	 ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int
admin_password_equal(const char *given, size_t given_len, const char *want)
{
	size_t			 want_len, i;
	volatile unsigned char	 diff;

	if (want == NULL || given == NULL)
		return 0;
	want_len = strlen(want);
	/*
	 * Every byte of the given password is compared with a byte of the
	 * wanted one (cycling over it), so the time depends on the lengths
	 * only; a length that differs makes diff non-zero too.
	 */
	diff = (unsigned char)(given_len != want_len);
	for (i = 0; i < given_len; i++)
		diff |= (unsigned char)given[i] ^
		    (unsigned char)(want_len > 0 ? want[i % want_len] : 0);
	return diff == 0;
}

/* Decode base64 (RFC 4648, padding optional) into out (size bytes).
 * Returns the decoded length, or -1 if it is not base64 or too long. */
static long
admin_base64_decode(const char *in, char *out, size_t size)
{
	unsigned	 acc = 0;
	int		 bits = 0, v;
	size_t		 n = 0;
	const char	*p;

	for (p = in; *p != '\0' && *p != '='; p++) {
		if (*p >= 'A' && *p <= 'Z')
			v = *p - 'A';
		else if (*p >= 'a' && *p <= 'z')
			v = *p - 'a' + 26;
		else if (*p >= '0' && *p <= '9')
			v = *p - '0' + 52;
		else if (*p == '+')
			v = 62;
		else if (*p == '/')
			v = 63;
		else
			return -1;
		acc = (acc << 6) | (unsigned)v;
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			if (n + 1 >= size)
				return -1;
			out[n++] = (char)((acc >> bits) & 0xff);
		}
	}
	while (*p == '=')
		p++;
	if (*p != '\0')
		return -1;
	out[n] = '\0';
	return (long)n;
}

enum admin_auth
admin_auth_check(const struct conf *conf, const char *query_password,
    const char *authorization)
{
	char		 decoded[ADMIN_MAX_PASSWORD * 2];
	const char	*p, *colon;
	long		 n;
	int		 ok = 1;

	if (conf == NULL || conf->admin_password == NULL ||
	    conf->admin_password[0] == '\0')
		return ADMIN_AUTH_OFF;
	if (query_password == NULL && authorization == NULL)
		return ADMIN_AUTH_MISSING;
	if (query_password != NULL) {
		n = (long)strlen(query_password);
		if (n > ADMIN_MAX_PASSWORD)
			ok = 0;
		else if (!admin_password_equal(query_password, (size_t)n,
		    conf->admin_password))
			ok = 0;
	}
	if (authorization != NULL) {
		p = authorization;
		while (*p == ' ')
			p++;
		if (strncasecmp(p, "Basic", 5) != 0 || (p[5] != ' ' &&
		    p[5] != '\t'))
			return ADMIN_AUTH_WRONG;
		p += 6;
		while (*p == ' ' || *p == '\t')
			p++;
		if ((n = admin_base64_decode(p, decoded, sizeof(decoded))) < 0 ||
		    (colon = memchr(decoded, ':', (size_t)n)) == NULL)
			return ADMIN_AUTH_WRONG;
		colon++;
		if (!admin_password_equal(colon,
		    (size_t)(decoded + n - colon), conf->admin_password))
			ok = 0;
	}
	return ok ? ADMIN_AUTH_OK : ADMIN_AUTH_WRONG;
}

int
admin_ip_allowed(const struct conf *conf, const char *ip)
{
	return http_ip_listed(conf != NULL ? &conf->admin_allow_ip : NULL, ip);
}

double
admin_failure_delay(unsigned n)
{
	double	 d = ADMIN_DELAY_FIRST;

	while (n > 1 && d < ADMIN_DELAY_MAX) {
		d *= 2;
		n--;
	}
	return d < ADMIN_DELAY_MAX ? d : ADMIN_DELAY_MAX;
}

/* --- answering ----------------------------------------------------------- */

/* Headers every admin answer carries: not cached, not framed, no
 * outside resources, the password in the URL never sent on. */
static void
admin_headers(struct evhttp_request *req, const char *type)
{
	struct evkeyvalq	*h = evhttp_request_get_output_headers(req);

	evhttp_add_header(h, "Content-Type", type);
	evhttp_add_header(h, "Cache-Control", "no-store");
	evhttp_add_header(h, "X-Content-Type-Options", "nosniff");
	evhttp_add_header(h, "X-Frame-Options", "DENY");
	evhttp_add_header(h, "Referrer-Policy", "no-referrer");
	evhttp_add_header(h, "Content-Security-Policy",
	    "default-src 'none'; style-src 'unsafe-inline'");
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
	admin_json_string(b, text);
	evbuffer_add(b, "}\n", 2);
	admin_reply(req, code, reason, "application/json", b);
	evbuffer_free(b);
}

static void
admin_reply_401(struct evhttp_request *req)
{
	evhttp_add_header(evhttp_request_get_output_headers(req),
	    "WWW-Authenticate", "Basic realm=\"marketbox admin\", "
	    "charset=\"UTF-8\"");
	admin_reply_text(req, 401, "Unauthorized",
	    "the admin password is needed (?password= or HTTP Basic)");
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

/* An address locked out for wait more seconds: come back later. */
static void
admin_reply_429(struct evhttp_request *req, double wait)
{
	char	 secs[16];

	snprintf(secs, sizeof(secs), "%d", (int)wait + (wait > (int)wait));
	evhttp_add_header(evhttp_request_get_output_headers(req),
	    "Retry-After", secs);
	admin_reply_text(req, 429, "Too Many Requests", "too many wrong "
	    "passwords from this address; try again later");
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
void
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

/* --- wrong passwords ----------------------------------------------------- */

static struct admin_failures *
admin_failures_find(struct admin *a, const char *ip, int create)
{
	struct admin_failures	*f, *slot = NULL;
	time_t			 now = time(NULL);
	size_t			 i;

	for (i = 0; i < ADMIN_FAIL_SLOTS; i++) {
		f = &a->failures[i];
		if (f->ip[0] != '\0' && now - f->last > ADMIN_FAIL_FORGET)
			memset(f, 0, sizeof(*f));
		if (f->ip[0] != '\0' && strcmp(f->ip, ip) == 0)
			return f;
		/* A free slot, else the one quiet for longest. */
		if (slot == NULL || (slot->ip[0] != '\0' &&
		    (f->ip[0] == '\0' || f->last < slot->last)))
			slot = f;
	}
	if (!create)
		return NULL;
	memset(slot, 0, sizeof(*slot));
	snprintf(slot->ip, sizeof(slot->ip), "%s", ip);
	return slot;
}

/* A wrong password from peer: log, count, lock the address out for a
 * while, answer 401. */
static void
admin_wrong_password(struct admin *a, struct evhttp_request *req,
    const char *peer, const char *path)
{
	struct admin_failures	*f;
	double			 delay;

	a->auth_failures++;
	f = admin_failures_find(a, peer, 1);
	f->count++;
	f->last = time(NULL);
	delay = admin_failure_delay(f->count);
	f->until = admin_monotonic() + delay;
	warning(0, "admin: wrong password from %s for %s (%u in a row); "
	    "the address is refused for %.1f s", peer, path, f->count, delay);
	admin_reply_401(req);
}

/* The seconds peer is still locked out for, or 0. */
static double
admin_locked_out(struct admin *a, const char *peer)
{
	struct admin_failures	*f;
	double			 left;

	if ((f = admin_failures_find(a, peer, 0)) == NULL)
		return 0;
	left = f->until - admin_monotonic();
	return left > 0 ? left : 0;
}

/* --- routing ------------------------------------------------------------- */

static const char *const admin_paths[] = {
	"/status", "/status.json", "/metrics", "/admin/broadcast",
	"/admin/retry", "/admin/user"
};

int
admin_path_is_ours(const char *path)
{
	size_t	 i;

	if (path == NULL)
		return 0;
	for (i = 0; i < sizeof(admin_paths) / sizeof(admin_paths[0]); i++)
		if (strcmp(path, admin_paths[i]) == 0)
			return 1;
	return 0;
}

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

void
admin_handle(struct admin *a, struct evhttp_request *req, const char *peer)
{
	const struct evhttp_uri	*uri = evhttp_request_get_evhttp_uri(req);
	struct evkeyvalq	 query, form;
	const char		*path = uri != NULL ? evhttp_uri_get_path(uri) :
				    NULL;
	const char		*qs = uri != NULL ? evhttp_uri_get_query(uri) :
				    NULL;
	const char		*auth, *why;
	enum evhttp_cmd_type	 method = evhttp_request_get_command(req);
	int			 post = method == EVHTTP_REQ_POST;
	double			 wait;

	TAILQ_INIT(&query);
	TAILQ_INIT(&form);
	if (peer == NULL)
		peer = "";
	if (path == NULL)
		path = "/";
	if (!admin_ip_allowed(a->conf, peer)) {
		warning(0, "admin: %s from %s refused: not loopback and not in "
		    "admin-allow-ip", path, *peer ? peer : "(unknown)");
		admin_reply_text(req, 403, "Forbidden", "forbidden");
		return;
	}
	if (method != EVHTTP_REQ_GET && method != EVHTTP_REQ_POST) {
		evhttp_add_header(evhttp_request_get_output_headers(req),
		    "Allow", "GET, POST");
		admin_reply_text(req, 405, "Method Not Allowed",
		    "method not allowed: use GET or POST");
		return;
	}
	if (qs != NULL && evhttp_parse_query_str(qs, &query) == -1) {
		evhttp_clear_headers(&query);
		admin_reply_text(req, 400, "Bad Request",
		    "the query does not parse");
		return;
	}
	if (post && (why = http_request_foreign(a->conf, req)) != NULL) {
		warning(0, "admin: %s from %s refused: %s", path, peer, why);
		admin_reply_error(req, 403, "Forbidden", why);
		goto out;
	}
	/* Before the password is judged: a guess from a locked-out address
	 * is not even looked at. */
	if ((wait = admin_locked_out(a, peer)) > 0) {
		debug("mb.admin", 0, "admin: %s from %s: 429 (locked out for "
		    "%.1f s)", path, peer, wait);
		admin_reply_429(req, wait);
		goto out;
	}
	auth = evhttp_find_header(evhttp_request_get_input_headers(req),
	    "Authorization");
	switch (admin_auth_check(a->conf, admin_param(&query, "password"),
	    auth)) {
	case ADMIN_AUTH_OFF:
		admin_reply_text(req, 403, "Forbidden", "admin pages are off "
		    "(no admin-password in the configuration)");
		goto out;
	case ADMIN_AUTH_MISSING:
		admin_reply_401(req);
		goto out;
	case ADMIN_AUTH_WRONG:
		admin_wrong_password(a, req, peer, path);
		goto out;
	case ADMIN_AUTH_OK:
		break;
	}
	{
		struct admin_failures	*f = admin_failures_find(a, peer, 0);

		if (f != NULL)
			memset(f, 0, sizeof(*f));
	}

	if (strcmp(path, "/status") == 0 && !post)
		admin_page(a, req, admin_status_html, "text/html; charset=utf-8");
	else if (strcmp(path, "/status.json") == 0 && !post)
		admin_page(a, req, admin_status_json, "application/json");
	else if (strcmp(path, "/metrics") == 0 && !post)
		admin_page(a, req, admin_metrics,
		    "text/plain; version=0.0.4; charset=utf-8");
	else if (strcmp(path, "/admin/broadcast") == 0 && !post)
		admin_broadcast_status(a, req, &query);
	else if (strncmp(path, "/admin/", 7) == 0 && !post) {
		evhttp_add_header(evhttp_request_get_output_headers(req),
		    "Allow", "POST");
		admin_reply_error(req, 405, "Method Not Allowed", "use POST");
	} else if (strncmp(path, "/admin/", 7) != 0) {
		evhttp_add_header(evhttp_request_get_output_headers(req),
		    "Allow", "GET");
		admin_reply_text(req, 405, "Method Not Allowed", "use GET");
	} else if (evhttp_find_header(evhttp_request_get_input_headers(req),
	    "X-Marketbox-Admin") == NULL)
		admin_reply_error(req, 403, "Forbidden", "an action needs the "
		    "X-Marketbox-Admin header (marketctl sends it)");
	else if (admin_form(req, &form) == 0) {
		if (strcmp(path, "/admin/broadcast") == 0)
			admin_broadcast_start(a, req, &form, peer);
		else if (strcmp(path, "/admin/retry") == 0)
			admin_retry(a, req, &form, peer);
		else if (strcmp(path, "/admin/user") == 0)
			admin_user(a, req, &form, peer);
		else
			admin_reply_error(req, 404, "Not Found",
			    "no such action");
	}
out:
	evhttp_clear_headers(&query);
	evhttp_clear_headers(&form);
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
