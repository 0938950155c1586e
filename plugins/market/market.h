/*
 * market.h - what the two files of the market plugin share: the records
 * of an offer, a want and an order as the plugin handles them, the call
 * context every function takes, money in minor units, and the SQL of
 * market_store.c.  Internal to plugins/market: nothing here is exported
 * from market.so (only marketbox_plugin is).
 *
 * See market.c for the commands, the order state machine and the timers.
 */
#ifndef MARKETBOX_MARKET_H
#define MARKETBOX_MARKET_H

#include <stddef.h>

#include <marketbox/plugin.h>

/* --- limits ------------------------------------------------------------- */

#define MARKET_QTY_MAX		1000000LL	/* units in one post or order */
#define MARKET_UNITS_MAX	1000000000LL	/* a price, in currency units */
#define MARKET_PRICE_MAX	(MARKET_UNITS_MAX * 100) /* minor units */
/*
 * An order's total, in minor units (10^11 currency units).  A total is
 * qty * price, at most 10^6 * 10^11 = 10^17, which int64 holds; the
 * multiplication is still checked, and a total above this is refused.
 */
#define MARKET_TOTAL_MAX	10000000000000LL

#define MARKET_MSISDN_LEN	32	/* "+" and 15 digits, with room */
#define MARKET_CODE_LEN		64	/* catalogue codes */
#define MARKET_NAME_LEN		64	/* people's names as shown */
#define MARKET_REASON_LEN	80	/* bytes of a REJECT reason kept */

/* --- the conf (group = plugin-market) -------------------------------------- */

enum market_scope {
	MARKET_SCOPE_MARKET,		/* same market code */
	MARKET_SCOPE_REGION,		/* same region of the markets */
	MARKET_SCOPE_ALL		/* anywhere */
};

struct market_conf {
	long long	 offer_lifetime;	/* seconds a post stays open */
	long long	 order_remind;		/* pending: remind the seller */
	long long	 order_expire;		/* pending: the order lapses */
	long long	 delivery_remind;	/* sent: remind the buyer */
	long long	 sweep_interval;	/* seconds between sweeps */
	enum market_scope scope;
	int		 max_matches;		/* per new post; 0: none */
	int		 code_tries;		/* wrong codes before the lock */
	/* a price this many times above or below the usual one is asked
	   about before it is posted or ordered (0: never) */
	int		 confirm_ratio;
	int		 confirm_posts;		/* posts the usual price needs */
	long long	 confirm_window;	/* seconds back they are read */
	/* transporter-prefixes: ';'-separated "+<digits>" a transporter who
	   is not a registered user must start with ("": the home country) */
	char		 transporter_prefixes[128];
};

/* The plugin's state (set_state): the conf and the sweep's clock. */
struct market_state {
	struct market_conf	 conf;
	long long		 next_sweep;	/* no sweep before this time */
};

/*
 * One handler or timer run: everything a function needs to reach the
 * host.  actor is the sender's number ("" in a timer, where nobody gets a
 * reply).
 */
struct market_call {
	struct mb_ctx		*ctx;
	const struct mb_host	*host;
	const struct market_conf *conf;
	long long		 now;
	char			 actor[MARKET_MSISDN_LEN];
};

/* --- records ------------------------------------------------------------------ */

/* An offer or a want: a row of market_posts. */
struct market_post {
	long long	 ref;
	char		 kind[8];		/* "offer" | "want" */
	char		 msisdn[MARKET_MSISDN_LEN];
	char		 commodity[MARKET_CODE_LEN];
	char		 unit[MARKET_CODE_LEN];
	char		 market[MARKET_CODE_LEN];	/* "" for none */
	long long	 qty, qty_left;
	long long	 price;			/* minor units per unit */
	char		 state[16];
	long long	 created, expires;
};

/*
 * An order: a row of market_orders with its offer's commodity, unit and
 * market.  Times that are NULL in the table are 0 here.
 */
struct market_order {
	long long	 ref, offer;
	char		 buyer[MARKET_MSISDN_LEN];
	char		 seller[MARKET_MSISDN_LEN];
	long long	 qty, price, total;
	char		 state[16];
	char		 transporter[MARKET_MSISDN_LEN];	/* "" for none */
	char		 code[8];				/* "" until sent */
	int		 code_tries;
	char		 reason[MARKET_REASON_LEN + 1];
	long long	 created, updated;
	long long	 remind_at, expires_at;
	int		 reminded;
	long long	 want, want_qty;	/* the buyer's want it counts
						   toward (0: none), and how
						   much of it */
	char		 commodity[MARKET_CODE_LEN];
	char		 unit[MARKET_CODE_LEN];
	char		 market[MARKET_CODE_LEN];
};

/* --- money (market.c) ---------------------------------------------------------- */

/*
 * A price as typed ("3000", "2.50", "2,5") in minor units (x100) into
 * *out: 0, or -1 when it is no price or outside 1 .. MARKET_PRICE_MAX.
 * No floating point: digits are read one by one.
 */
int		 market_money_parse(const char *, long long *out);
/* minor units as shown: "3000" when whole, "2.50" otherwise */
void		 market_money_format(long long minor, char *buf, size_t len);
/* qty * price into *out: 0, or -1 on overflow of int64 or a negative */
int		 market_money_mul(long long qty, long long price,
		    long long *out);
/* "7d", "2h", "30m", "45s", "90" in seconds: 0, or -1 when malformed */
int		 market_duration_parse(const char *, long long *out);

/* --- the store (market_store.c) -------------------------------------------------
 * Every function runs in the transaction of the call's message or timer
 * run and returns -1 (logged) when the store fails; the plugin then
 * returns MB_FAIL so that everything rolls back.
 */

#define MARKET_NMIGRATIONS	2
extern const struct mb_migration market_migrations[MARKET_NMIGRATIONS];

int	market_store_post_insert(struct market_call *,
	    const struct market_post *);
/* 1 found, 0 no such post */
int	market_store_post_get(struct market_call *, long long ref,
	    struct market_post *);
/*
 * Reserve qty of an open offer atomically: 1 done, 0 refused (not open,
 * expired, or fewer than qty left).  A reservation that leaves nothing
 * closes the offer (sold out).
 */
int	market_store_reserve(struct market_call *, long long offer,
	    long long qty);
/*
 * Give qty back to a post (a rejected, expired or cancelled order): a
 * sold-out ("closed") post reopens, or is expired when its time passed.
 */
int	market_store_post_return(struct market_call *, long long ref,
	    long long qty);
/* Move a live post (open or closed) to state: 1 done, 0 not live. */
int	market_store_post_end(struct market_call *, long long ref,
	    const char *state);
/*
 * Count an order of qty against the buyer's oldest open want of the same
 * commodity and unit: *want and *taken (0 when there is none).
 */
int	market_store_want_take(struct market_call *, const char *buyer,
	    const char *commodity, const char *unit, long long qty,
	    long long *want, long long *taken);
/*
 * Open posts of the other kind than p that p could match (same commodity
 * and unit, price compatible, not p's owner, not expired), best price for
 * p first; at most max into out, *n set.
 */
int	market_store_candidates(struct market_call *,
	    const struct market_post *p, struct market_post *out, size_t max,
	    size_t *n);

/*
 * The prices (minor units) of the newest posts, offers and wants, of
 * commodity and unit at market created at or after since, but the post
 * exclude (0: none); cancelled ones do not count.  At most max into
 * prices, *n set.
 */
int	market_store_usual(struct market_call *, const char *commodity,
	    const char *unit, const char *market, long long since,
	    long long exclude, long long *prices, size_t max, size_t *n);

int	market_store_order_insert(struct market_call *,
	    const struct market_order *);
/* 1 found, 0 no such order */
int	market_store_order_get(struct market_call *, long long ref,
	    struct market_order *);
/*
 * Write o's state and the columns a transition sets (updated, transporter,
 * code, reason, remind_at, expires_at, reminded) where the row is still
 * in state from: 1 done, 0 it was not.
 */
int	market_store_order_update(struct market_call *,
	    const struct market_order *o, const char *from);
/* one more wrong delivery code: the new count in *tries */
int	market_store_order_code_try(struct market_call *, long long ref,
	    int *tries);
/* a reminder went out: reminded = 1, remind_at cleared */
int	market_store_order_reminded(struct market_call *, long long ref);

/* A user's open posts (newest first): at most max, *total counts all. */
int	market_store_my_posts(struct market_call *, const char *msisdn,
	    struct market_post *out, size_t max, size_t *n, size_t *total);
/* A user's orders not final, as buyer or seller (newest first). */
int	market_store_my_orders(struct market_call *, const char *msisdn,
	    struct market_order *out, size_t max, size_t *n, size_t *total);

/*
 * What is due at call->now, oldest due first, at most max refs:
 *  MARKET_DUE_POSTS	open posts past their expiry
 *  MARKET_DUE_EXPIRE	pending orders past expires_at
 *  MARKET_DUE_REMIND	pending orders past remind_at, not reminded
 *  MARKET_DUE_DELIVERY	sent orders past remind_at, not reminded
 */
enum market_due {
	MARKET_DUE_POSTS,
	MARKET_DUE_EXPIRE,
	MARKET_DUE_REMIND,
	MARKET_DUE_DELIVERY
};
int	market_store_due(struct market_call *, enum market_due,
	    long long *refs, size_t max, size_t *n);

#endif
