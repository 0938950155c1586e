/*
 * admin_int.h - what the files of the admin pages share: struct admin,
 * the snapshot of figures the pages render, a broadcast's job, the limits
 * that size them, and the helpers more than one file calls.  Only the
 * files of src/admin include it; everyone else has admin.h.
 *
 * Who does what (admin.c's head comment has the way a request goes):
 *
 *	admin.c		the admin's life, the answers, the entries of the
 *			HTTP server's table that lead to a page or an action
 *			(passwords and lock-outs are the server's: access.c)
 *	snapshot.c	admin_snapshot_take: the one snapshot of figures every
 *			page reads, and the small database readers it uses
 *	status_json.c	/status.json		(admin_status_json)
 *	metrics.c	/metrics, Prometheus text	(admin_metrics)
 *	status_html.c	/status, the HTML page	(admin_status_html)
 *	chart.c		the SVG price charts of /status (admin_svg_chart,
 *			admin_charts_read, admin_median)
 *	actions.c	POST /admin/broadcast and its batches, GET
 *			/admin/broadcast, POST /admin/retry, POST /admin/user,
 *			POST /admin/agent, the form of a POST
 *	dispute.c	POST /admin/dispute (a dispute closed, both parties
 *			told) and the open disputes of /status
 *	reports.c	POST /admin/reports (a held price report approved or
 *			rejected) and the held ones of /status, with forms
 *	payments.c	POST /payments/confirm, a provider's confirmation
 *			(src/pay/ takes it); POST /admin/payments/match and
 *			/admin/payouts/done (src/pay/pay_admin.c); the
 *			money of /status (admin_money_read)
 *	format.c	text escaped for HTML (admin_escape_html) and JSON
 */
#ifndef MARKETBOX_ADMIN_INT_H
#define MARKETBOX_ADMIN_INT_H

#include <sys/queue.h>
#include <sys/types.h>
#include <stddef.h>
#include <time.h>

#include "admin/admin.h"
#include "engine/router.h"
#include "link/box.h"
#include "queue/outbox.h"
#include "queue/instance.h"
#include "store/store.h"

struct evbuffer;
struct event;
struct http;
struct evhttp_request;
struct evkeyvalq;

#define ADMIN_INSTANCES		16	/* instances listed on /status */
#define ADMIN_SAMPLES		32	/* counter samples for the rates */
#define ADMIN_MAX_GROUPS	64	/* rows of one GROUP BY shown */
#define ADMIN_LABEL		48	/* bytes of one label, with the NUL */
#define ADMIN_CHART_DAYS	56	/* days of price history charted */
#define ADMIN_MAX_JOBS		16	/* broadcasts remembered */
#define ADMIN_DISPUTES		10	/* open disputes listed on /status */
#define ADMIN_POOLS		32	/* open and listed pools listed */

/* --- state --------------------------------------------------------------- */

struct admin_waiting;

#define ADMIN_BROADCAST_LANGS	16	/* texts of one broadcast */

/* One broadcast: who it goes to, and how far it got. */
struct admin_job {
	struct admin	*admin;		/* NULL once admin_free detached it */
	long long	 id;
	char		*market;	/* NULL: any */
	char		*commodity;	/* NULL: any */
	struct admin_text texts[ADMIN_BROADCAST_LANGS];
	size_t		 ntexts;
	char		*default_lang;	/* the conf's, when it started */
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

/* One service point's figures (the agents and members tables). */
struct admin_service_point {
	char		 code[ADMIN_LABEL];
	long long	 agents;	/* active (not removed) */
	long long	 members;	/* state active */
	long long	 commission;	/* recorded, all time, minor units */
};

/* An open dispute of the market plugin (market_disputes), for /status. */
struct admin_dispute {
	long long	 ref, order;
	char		 side[ADMIN_LABEL];	/* who opened it: buyer, seller,
						   other */
	long long	 created;
};

/*
 * One open or listed pool of the market plugin (market_pools): what is
 * in it (the sum of its shares, market_pool_shares) of its target, from
 * how many members, until when.
 */
struct admin_pool {
	long long	 ref;
	char		 kind[ADMIN_LABEL];	/* sell, want */
	char		 state[ADMIN_LABEL];	/* open, listed */
	char		 commodity[ADMIN_LABEL], unit[ADMIN_LABEL];
	long long	 filled, target, members;
	long long	 deadline;		/* Unix seconds */
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
	struct store_commit_times commit_times;
	long long		 mo_total;
	double			 mo_per_minute, mt_per_minute, rate_window;
	struct outbox_counts	 outbox;
	long long		 outbox_oldest_age; /* s, of a row to send */
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
	/* The service points: the codes named by the agents, members
	 * and commissions tables (has_points: those tables exist). */
	int			 has_points;
	struct admin_service_point points[ADMIN_MAX_GROUPS];
	size_t			 npoints;
	/* The open disputes (dispute.c; has_disputes: the table exists):
	 * how many, and the oldest ADMIN_DISPUTES. */
	/* Money (payments.c; has_money: group = payments is on): the
	 * payments received (all, suspense ones too) and, of the orders'
	 * money states, the refunds and payouts due: counts and sums in
	 * minor units. */
	int			 has_money;
	struct admin_money {
		long long	 n, sum;
	}			 received, suspense, refunds_due, payouts_due;
	int			 has_disputes;
	long long		 disputes_open;
	struct admin_dispute	 disputes[ADMIN_DISPUTES];
	size_t			 ndisputes;
	/* The market plugin's pools (has_pools: market_pools and
	 * market_pool_shares exist): counts by kind and state, and the
	 * open and listed ones, the first ADMIN_POOLS by deadline of
	 * pools_live. */
	int			 has_pools;
	struct admin_group	 pools;		/* kind, state */
	struct admin_pool	 live_pools[ADMIN_POOLS];
	size_t			 nlive_pools;
	long long		 pools_live;
	unsigned long long	 auth_failures;
	/* The instances sharing the database (one on SQLite). */
	struct instance_info	 instances[ADMIN_INSTANCES];
	size_t			 ninstances, instances_live;
};

/* One commodity and market's daily medians. */
struct admin_chart {
	char			 commodity[ADMIN_LABEL], market[ADMIN_LABEL];
	struct admin_point	 pts[ADMIN_CHART_DAYS + 1];
	size_t			 n;
};

/* --- admin.c ------------------------------------------------------------ */

/* Seconds on the monotonic clock. */
double		 admin_monotonic(void);

/* Answer req: the headers every admin answer carries, then body. */
void		 admin_reply(struct evhttp_request *, int code,
		    const char *reason, const char *type, struct evbuffer *);
/* An error for marketctl: {"error": text}, with code. */
void		 admin_reply_error(struct evhttp_request *, int code,
		    const char *reason, const char *text);
/* Answer req with body once the open transaction commits (or 500). */
void		 admin_answer_after_commit(struct admin *,
		    struct evhttp_request *, struct evbuffer *body);
/* The same with body of that type (a static string), not JSON. */
void		 admin_answer_after_commit_as(struct admin *,
		    struct evhttp_request *, struct evbuffer *body,
		    const char *type);

/* --- snapshot.c --------------------------------------------------------- */

/* Fill s: the counters now and the read-only queries.  0, or -1 if the
 * database could not be read (what could be read is filled). */
int		 admin_snapshot_take(struct admin *, struct admin_snapshot *);
/* 1 if table exists with every column of cols (NULL-terminated). */
int		 admin_table_has(struct admin *, const char *table,
		    const char *const *cols);
/* One integer from sql (a literal, no parameters); -1 on error. */
long long	 admin_count(struct admin *, const char *sql);
/* src, or none if src is NULL or empty, cut to ADMIN_LABEL bytes. */
void		 admin_label(char *dst, const char *src, const char *none);
/* Outbox rows handed to the link so far. */
long long	 admin_mt_handled(const struct outbox_counts *);

/* --- chart.c ------------------------------------------------------------ */

/* Minor units as the plugins show money: "3000" when whole, else "2.50"
 * (also the commission of /status). */
void		 admin_money(char *buf, size_t size, long long minor);

/* The charts of the last ADMIN_CHART_DAYS days into *charts (malloc'd):
 * their count, 0 if none, or -1. */
long		 admin_charts_read(struct admin *, struct admin_chart **charts,
		    long long *first_day, long long *last_day);

/* --- actions.c ---------------------------------------------------------- */

/* The value of key in a decoded query or form, or NULL. */
const char	*admin_param(struct evkeyvalq *, const char *key);
/* Parse a POST form body into q.  0, or -1 (answered 400 / 415). */
int		 admin_form(struct evhttp_request *, struct evkeyvalq *q);
/* Free a broadcast's job (NULL is fine). */
void		 admin_job_free(struct admin_job *);
/* GET /admin/broadcast?id=: a broadcast's progress (the last if no id). */
void		 admin_broadcast_status(struct admin *, struct evhttp_request *,
		    struct evkeyvalq *query);
/* POST /admin/broadcast, /admin/retry, /admin/user: the form is parsed,
 * peer is who asked (logged). */
void		 admin_broadcast_start(struct admin *, struct evhttp_request *,
		    struct evkeyvalq *form, const char *peer);
void		 admin_retry(struct admin *, struct evhttp_request *,
		    struct evkeyvalq *form, const char *peer);
void		 admin_user(struct admin *, struct evhttp_request *,
		    struct evkeyvalq *form, const char *peer);
/* POST /admin/agent: msisdn=, point= (an agent of that service point),
 * or msisdn=, remove=1. */
void		 admin_agent(struct admin *, struct evhttp_request *,
		    struct evkeyvalq *form, const char *peer);
/* 1 if code names a service point of the conf (group = service-point). */
int		 admin_point_known(const struct admin *, const char *code);

/* 1 if the n bytes at s are valid UTF-8 with no control characters but
 * newline. */
int		 admin_text_ok(const char *s, size_t n);

/* --- dispute.c ---------------------------------------------------------- */

/* POST /admin/dispute: ref=, for=buyer|seller, note=. */
/* payments.c: POST /payments/confirm (its access is the server's PEER:
   the group = payments checks are its own) */
void		 admin_payment_confirm(struct admin *, struct evhttp_request *,
		    const char *peer);
void		 admin_payment_validate(struct admin *, struct evhttp_request *,
		    const char *peer);
/* Money into the snapshot (only with group = payments): 0, or -1. */
int		 admin_money_read(struct admin *, struct admin_snapshot *);
/* Its section of /status and /status.json (",\n  \"money\": ..."). */
void		 admin_money_html(struct evbuffer *,
		    const struct admin_snapshot *, const char *currency);
void		 admin_money_json(struct evbuffer *,
		    const struct admin_snapshot *);
/* POST /admin/payments/match (trans=, order=) and /admin/payouts/done
   (trans=, ref=): the operator's steps, ADMIN access. */
void		 admin_payment_match(struct admin *, struct evhttp_request *,
		    struct evkeyvalq *form, const char *peer);
void		 admin_payout_done(struct admin *, struct evhttp_request *,
		    struct evkeyvalq *form, const char *peer);
void		 admin_dispute_close(struct admin *, struct evhttp_request *,
		    struct evkeyvalq *form, const char *peer);
/* The open disputes into the snapshot: 0, or -1 (what was read kept). */
int		 admin_disputes_read(struct admin *, struct admin_snapshot *);
/* Their section of /status and of /status.json (",\n  \"disputes\": ..."). */
void		 admin_disputes_html(struct evbuffer *,
		    const struct admin_snapshot *);
void		 admin_disputes_json(struct evbuffer *,
		    const struct admin_snapshot *);

/* --- reports.c ---------------------------------------------------------- */

/* POST /admin/reports: id=, decision=approve|reject[, from=status]. */
void		 admin_reports_decide(struct admin *, struct evhttp_request *,
		    struct evkeyvalq *form, const char *peer);
/* The held reports of /status with their forms: 0, or -1. */
int		 admin_reports_html(struct admin *, struct evbuffer *);

/* --- format.c ----------------------------------------------------------- */

/* Append s as a JSON string, quotes included (null if s is NULL). */

#endif
