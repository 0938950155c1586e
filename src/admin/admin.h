/*
 * admin.h - the operators' pages on the HTTP port: /status (HTML with
 * price charts), /status.json, /metrics (Prometheus text format), and the
 * actions marketctl asks for (POST /admin/broadcast, /admin/retry,
 * /admin/user, /admin/agent; GET /admin/broadcast for a broadcast's
 * progress).
 *
 * admin_register() puts them in the HTTP server's table as
 * HTTP_ACCESS_ADMIN entries (http.h), whose access the server applies
 * before any of them runs: their own allow-list, admin-allow-ip (loopback
 * is always allowed), and the conf's admin-password, given as Kannel's
 * admin interface takes it (?password=...) or by HTTP Basic
 * authentication (any user name).  Without an admin-password the pages
 * answer 403 "admin pages are off".  A wrong password is logged, counted
 * per address and answered 401; the address is then refused 429
 * (Retry-After) for a time that doubles with each failure, before any
 * password it sends is looked at, while other addresses go on as before.
 * POST actions made by a browser for another site or host are refused
 * 403 (http_request_foreign), as are those without the header
 * X-Marketbox-Admin.
 *
 * The figures are read when a page is asked for: the in-memory counters
 * of the box link, inbox, router and store, and read-only queries of the
 * database (the plugin tables only if they exist).  Actions change the
 * database in units of work like any message, and answer after the
 * commit.
 */
#ifndef MARKETBOX_ADMIN_H
#define MARKETBOX_ADMIN_H

#include <stddef.h>

/* The roles a user may have (users.role), as POST /admin/user takes them
 * and marketctl's --role filters them. */
#define ADMIN_ROLES	"user", "farmer", "buyer", "transporter", "agent", \
			"dealer", "admin"

struct box;
struct conf;
struct event_base;
struct evbuffer;
struct evhttp_request;
struct http;
struct inbox;
struct outbox;
struct plugin_set;
struct router;
struct store;
struct admin;

/*
 * What the pages read.  Every member but store and outbox may be NULL
 * (that part is then shown as absent or zero).  link_mode names the way
 * MTs leave: "box", "sendsms" or "none".  The admin borrows them all: they
 * must outlive it.
 */
struct admin_sources {
	struct store		*store;
	struct outbox		*outbox;
	struct inbox		*inbox;
	struct router		*router;
	struct plugin_set	*plugins;
	struct box		*box;
	const char		*link_mode;
};

/*
 * A new admin for the loop base.  conf must outlive it (or the next
 * admin_set_conf).  Returns NULL (logged) on failure.  Free with
 * admin_free(), before the HTTP server it is registered with (and with
 * no loop pass in between): actions still waiting for their commit are
 * answered 503.
 */
struct admin	*admin_new(struct event_base *, const struct conf *,
		    const struct admin_sources *);
void		 admin_free(struct admin *);
void		 admin_set_conf(struct admin *, const struct conf *);

/*
 * Register the pages and actions with the HTTP server, at start-up.  The
 * wrong passwords the pages show are counted by that server.  0, or -1
 * (logged).
 */
int		 admin_register(struct admin *, struct http *);

/* --- exposed for tests --------------------------------------------------- */

/* A broadcast's text for the readers of lang (NULL: every language). */
struct admin_text {
	char		*lang;
	char		*text;
};

/*
 * The text a reader of lang gets (lang NULL or "": she chose none, so
 * deflang): the text of every language if there is one, else the text
 * of her language, else the default language's; NULL when none fits.
 */
const char	*admin_broadcast_pick(const struct admin_text *, size_t n,
		    const char *lang, const char *deflang);

/* 1 if path (without the query) is one of the admin pages or actions. */
int		 admin_path_is_ours(const char *path);

/* Append s with &, <, >, " and ' escaped for HTML and SVG text. */
int		 admin_escape_html(struct evbuffer *, const char *s);

/*
 * The median of n values (n > 0), which are sorted in place; of an even
 * count, the mean of the two middle values rounded down.
 */
long long	 admin_median(long long *v, size_t n);

/* One day of a price chart: the day (Unix day number) and its median. */
struct admin_point {
	long long	 day;
	long long	 price;
};

/*
 * Append an inline SVG line chart of n points (n >= 1, days ascending)
 * over the days first_day..last_day, titled title: axes, a polyline, a
 * dot per day, the first and last day and the lowest and highest price as
 * labels.  Prices are minor units (hundredths), shown as the plugins show
 * them ("3000", "2.50") followed by unit (the currency code).  All text is
 * escaped.  0, or -1 when there is no point.
 */
int		 admin_svg_chart(struct evbuffer *, const char *title,
		    const char *unit, const struct admin_point *, size_t n,
		    long long first_day, long long last_day);

/*
 * The bodies of /status.json, /metrics and /status, appended to out.
 * 0, or -1 (logged) if the database could not be read.
 */
int		 admin_status_json(struct admin *, struct evbuffer *out);
int		 admin_metrics(struct admin *, struct evbuffer *out);
int		 admin_status_html(struct admin *, struct evbuffer *out);

#endif
