/*
 * market.h - what the files of the market plugin share: the records of
 * an offer, a want and an order as the plugin handles them, the call
 * context every function takes, money in minor units, the replies and
 * lists of market_text.c, the steps of an order, the handlers the command
 * table names, and the SQL of market_store.c.  Internal to plugins/market:
 * nothing here is exported from market.so (only marketbox_plugin is).
 *
 * See market.c for which file does what, the conf and the timers.
 */
#ifndef MARKETBOX_MARKET_H
#define MARKETBOX_MARKET_H

#include <stddef.h>

#include <marketbox/plugin.h>

/*
 * 1 if the host's table has the function f: an older host's table ends
 * before it, and a host whose header has it may still leave it unset.
 */
#define MARKET_HOST_HAS(host, f) \
	((host)->size >= offsetof(struct mb_host, f) + sizeof((host)->f) && \
	    (host)->f != NULL)

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
	long long	 accept_remind;		/* accepted: remind the seller */
	long long	 accept_expire;		/* accepted: cancelled unsent */
	long long	 delivery_remind;	/* sent: ask the buyer */
	long long	 delivery_complete;	/* sent: completes by itself */
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
	/* pools (market_pool.c) */
	int		 pool_prorata;		/* pool-allocation = prorata */
	int		 pool_min;		/* percent of the target that
						   CLOSE may list */
	long long	 pool_grace;		/* after the deadline: lapses */
	long long	 pool_dropoff;		/* drop-off day after a pool
						   order is accepted */
	/* a leg's handover is due this long after it starts, by the level
	   of its hub (market_leg.c) */
	long long	 leg_due_county;
	long long	 leg_due_township;
	long long	 leg_due_village;
	/* a leg past its due time: its holder reminded at once, the hub's
	   operators (and the buyer) told leg_escalate later, the admins
	   leg_escalate_admins later (market.c's sweep) */
	long long	 leg_escalate;
	long long	 leg_escalate_admins;
	/* the hubs' morning manifest: minutes after local midnight, or
	   MARKET_MANIFEST_OFF (market_manifest.c) */
	int		 manifest_time;
	/* cash-at-delivery = yes: DELIVERED records the rest as received
	   by the seller (market_pay.c) */
	int		 cash_at_delivery;
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
	/* one command moves many orders (ACCEPT of an offer, market_tier.c):
	   market_order_move leaves out the sender's reply of each step,
	   the caller sums them up in one */
	int			 batch;
	/* DELIVERED of order cash_ref (0: none) may record cash taken with
	   the goods (cash-at-delivery); cash the amount it entered, for
	   the delivered texts (market_pay.c) */
	long long		 cash_ref;
	long long		 cash;
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
	long long	 parent;		/* a member's share order: the pool
					   order it follows (0: none) */
	char		 commodity[MARKET_CODE_LEN];
	char		 unit[MARKET_CODE_LEN];
	char		 market[MARKET_CODE_LEN];
};

/*
 * A pool (market_pool.c): a row of market_pools with the sum of its
 * shares.  kind "sell": members' lots sold as one offer of the same ref;
 * "want": members' wants bought as one want of the same ref.
 */
#define MARKET_POOL_SHARES_MAX	200	/* members in one pool */

struct market_pool {
	long long	 ref;
	char		 kind[8];		/* "sell" | "want" */
	char		 opener[MARKET_MSISDN_LEN];
	char		 commodity[MARKET_CODE_LEN];
	char		 unit[MARKET_CODE_LEN];
	char		 market[MARKET_CODE_LEN];	/* "" for none */
	long long	 target;		/* units */
	long long	 price;			/* minor units per unit */
	char		 rule[12];		/* "joined" | "prorata" */
	char		 state[16];		/* open listed sold lapsed
						   cancelled */
	long long	 created, deadline;
	int		 told;
	long long	 total;			/* units in its shares */
	long long	 members;		/* its shares */
};

/* One member's lot in a pool: a row of market_pool_shares. */
struct market_share {
	long long	 pool;
	char		 member[MARKET_MSISDN_LEN];
	long long	 qty, sold;
	long long	 seq, joined;
};

/* --- money (market_money.c) ------------------------------------------------------ */

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

/* --- the call (market.c) ------------------------------------------------------- */

/* Start a call: the context, the conf, the clock, the sender. */
void		 market_call_init(struct market_call *, struct mb_ctx *,
		    const struct mb_host *, const struct market_conf *);
/* The conf from a handler (defaults if the state is missing). */
const struct market_conf *market_conf_of(struct mb_ctx *,
		    const struct mb_host *);

/* --- what the plugin says (market_text.c) -------------------------------------- */

#define MARKET_MAX_ARGS		16	/* placeholders of one template */

/* Placeholder values for one template; numbers are kept inside. */
struct market_args {
	struct mb_arg	 a[MARKET_MAX_ARGS];
	char		 num[MARKET_MAX_ARGS][32];
	size_t		 n;
};

/*
 * A cut ends in "…": where the rest of a text is GSM and the mark would
 * cost a second SMS, the host sends it as "..." (host->sms_parts measures
 * it so).
 */
#define MARKET_ELLIPSIS		"\xe2\x80\xa6"

/*
 * A list of items rendered from item templates in the reader's language,
 * joined by the language's separator (market-list-sep).  The strings are
 * the host's (valid until the handler returns).
 */
struct market_items {
	const char	**item;
	size_t		  n, cap;
};

/* Copy s into buf, cut at a UTF-8 character boundary to fit len. */
void		 market_copy(char *buf, size_t len, const char *s);
void		 market_arg(struct market_args *, const char *name,
		    const char *value);
void		 market_arg_num(struct market_args *, const char *name,
		    long long v);
void		 market_arg_money(struct market_args *, const char *name,
		    long long minor);
/* The reply tmpl with a, free text cut to one SMS: MB_OK or MB_FAIL. */
int		 market_reply(struct market_call *, const char *tmpl,
		    const struct market_args *a);
/* The notice tmpl with a to phone to, as market_reply. */
int		 market_notify(struct market_call *, const char *to,
		    const char *tmpl, const struct market_args *a);
/* A reply whose only placeholder is {ref}. */
int		 market_reply_ref(struct market_call *, const char *tmpl,
		    long long ref);
/* A person as shown to others: the registered name, else the number. */
void		 market_person(struct market_call *, const char *msisdn,
		    char *buf, size_t len);
/*
 * The number a person (a seller's or buyer's identity) is reached on, as
 * shown to others: host->contact() where the host has it (a member of a
 * service point is reached through her agent), else the identity itself.
 * 0, or -1 on a store failure (logged).
 */
int		 market_contact(struct market_call *, const char *who,
		    char *buf, size_t len);
/* A market code as shown: its name, else the code, else "-". */
void		 market_market_name(struct market_call *, const char *code,
		    char *buf, size_t len);
/* tmpl rendered for to (NULL: the sender), the host's text; NULL logged */
const char	*market_render(struct market_call *, const char *to,
		    const char *tmpl, const struct market_args *a);
/* Drop the last word of s and end it with ellipsis: 1, or 0 (one word) */
int		 market_cut_word(char *s, size_t len, const char *ellipsis);
/* Render tmpl with a for to and add it to the list: MB_OK or MB_FAIL. */
int		 market_items_add(struct market_call *, struct market_items *,
		    const char *to, const char *tmpl,
		    const struct market_args *a);
void		 market_items_free(struct market_items *);
/* Items [from, to) joined by sep, malloc'd; NULL if memory runs out. */
char		*market_items_join(const struct market_items *, size_t from,
		    size_t to, const char *sep);
/* How many items from first fit one SMS with tmpl as {list}; -1 failed */
long		 market_items_fit(struct market_call *,
		    const struct market_items *, size_t first, const char *sep,
		    const char *tmpl, const char *list,
		    const struct market_args *a);
/* A word that is meant as a number: "10", "2.50", "-5". */
int		 market_is_number(const char *);

/* --- questions before a post or an order (market_ask.c) ------------------------ */

/*
 * 1 when the sender was asked instead (or a failure: *rc set, MB_FAIL),
 * 0 to go on: before post p (complete but for its reference; price_word
 * the index of its price among the arguments), and before an order of
 * qty from offer p, total in all.
 */
int		 market_post_ask(struct market_call *,
		    const struct market_post *p, size_t price_word, int *rc);
int		 market_buy_ask(struct market_call *,
		    const struct market_post *p, long long qty, long long total,
		    int *rc);

/* --- orders (market_order.c) --------------------------------------------------- */

/* 1 if the state machine has the step from -> to */
int		 market_order_can(const char *from, const char *to);
int		 market_order_code(struct market_call *, char *buf, size_t len);
/* 1 if it has the step from -> to for reason (a step only some reason
   takes: sent -> cancelled, MARKET_REASON_DISPUTE) */
int		 market_order_can_for(const char *from, const char *to,
		    const char *reason);
/* The placeholders every order notice has. */
void		 market_order_args(struct market_call *,
		    const struct market_order *, struct market_args *);
/*
 * Move order o to state to: checked, written, the quantity given back
 * when the order does not go through, every notice sent.  transporter is
 * for sent, reason for rejected and for the timer's own steps
 * (MARKET_REASON_AUTO: an accepted order cancelled unsent, a sent order
 * completed unconfirmed); both may be NULL.  MB_OK or MB_FAIL.
 */
#define MARKET_REASON_AUTO	"auto"
/* a sent order whose dispute was decided for the buyer, ended by the
   timer: cancelled, nothing given back (the goods left), no trade */
#define MARKET_REASON_DISPUTE	"dispute"

int		 market_order_move(struct market_call *, struct market_order *o,
		    const char *to, const char *transporter,
		    const char *reason);
/*
 * Order ref's money follows its step to state to (host pay_event, when
 * the host has it): rejected, expired, cancelled (MB_PAY_CLOSED) or
 * delivered (MB_PAY_DELIVERED); other states nothing.  0, or -1 (logged).
 */
int		 market_order_pay(struct market_call *, long long ref,
		    const char *to);
/* The reference in word i: 1 and *ref, else 0. */
int		 market_ref_arg(struct market_call *, size_t i, long long *ref);
/* The order ref names into o: 1; else the sender told what it is, 0; -1 */
int		 market_order_find(struct market_call *, long long ref,
		    struct market_order *o);
/* Order o cannot take the sender's command: where it stands, who acts. */
int		 market_order_refuse(struct market_call *,
		    const struct market_order *o);
/* A seller's step on the order of word 0: 1 (o filled), 0 refused, -1,
   2 usage; market_step_result turns the others into MB_* */
int		 market_seller_step(struct market_call *, const char *to,
		    struct market_order *o);
int		 market_step_result(int rc);

/* --- the handlers of the command table (market.c) ------------------------------ */

int	market_sell(struct mb_ctx *, const struct mb_host *);	/* post.c */
int	market_want(struct mb_ctx *, const struct mb_host *);	/* post.c */
int	market_my(struct mb_ctx *, const struct mb_host *);	/* post.c */
int	market_buy(struct mb_ctx *, const struct mb_host *);	/* order.c */
int	market_accept(struct mb_ctx *, const struct mb_host *);	/* order.c */
int	market_reject(struct mb_ctx *, const struct mb_host *);	/* order.c */
int	market_cancel(struct mb_ctx *, const struct mb_host *);	/* order.c */
int	market_sent(struct mb_ctx *, const struct mb_host *);	/* delivery.c */
int	market_delivered(struct mb_ctx *, const struct mb_host *); /* delivery.c */
int	market_paid(struct mb_ctx *, const struct mb_host *);	/* pay.c */
int	market_received(struct mb_ctx *, const struct mb_host *); /* pay.c */

/*
 * Order ref delivered by the DELIVERED that named it (c->cash_ref), with
 * cash-at-delivery = yes: the cash the seller took recorded through the
 * host's pay_said (the rest of what is due; c->cash set, 0 when nothing
 * was due).  0, or -1 (logged).  market_pay.c.
 */
int	market_pay_cash(struct market_call *, long long ref);

/* --- pools (market_pool.c: POOL, JOIN, LEAVE, CLOSE, the pool's states;
 * market_pool_order.c: a pool order's shares, OFFER) --------------------------- */

int	market_pool(struct mb_ctx *, const struct mb_host *);	/* pool.c */
int	market_join(struct mb_ctx *, const struct mb_host *);	/* pool.c */
int	market_leave(struct mb_ctx *, const struct mb_host *);	/* pool.c */
int	market_close(struct mb_ctx *, const struct mb_host *);	/* pool.c */
int	market_offer(struct mb_ctx *, const struct mb_host *);	/* pool_order.c */

/* The pool ref into *p: 0, 1 when there is none, -1 when the store fails. */
int	market_pool_find(struct market_call *, long long ref,
	    struct market_pool *p);
/* Its shares in order of joining, at most max: 0 or -1. */
int	market_pool_shares(struct market_call *, long long pool,
	    struct market_share *, size_t max, size_t *n);
/*
 * The one place a pool changes state: checks the step, writes it and
 * tells the opener and members (0, 1 when the step is not allowed from
 * its state, -1 when the store or a notice fails).
 */
int	market_pool_move(struct market_call *, struct market_pool *,
	    const char *to);
/*
 * qty units shared among n shares (in order of joining): out[i] is
 * share i's part, sum(out) == qty <= sum of the shares' unsold qty.
 * prorata 0: in order of joining; 1: in proportion, by the rule of
 * market(8).  0, or -1 when qty is more than the shares hold.
 */
int	market_pool_allocate(long long qty, const struct market_share *,
	    size_t n, int prorata, long long *out);
/*
 * After the order o was made on a pool's offer (a sell pool) or counted
 * toward a pool's want (a want pool): the members' share orders, each
 * member told.  0 or -1.
 */
int	market_pool_order(struct market_call *, const struct market_pool *,
	    struct market_order *o);
/*
 * After the pool order parent moved to state to (market_order_move):
 * its share orders follow, each member told.  0 or -1.
 */
int	market_pool_follow(struct market_call *,
	    const struct market_order *parent, const char *to);
/*
 * market_buy's hook: after order o was made, if it is a pool order (an
 * order on a sell pool's offer, or its opener's order counted toward a
 * want pool), market_pool_order.  0 (also when it is not), or -1.
 */
int	market_pool_ordered(struct market_call *, struct market_order *o);
/*
 * market_buy's hook: the order o of qty from offer p (at p's price)
 * counted toward the buyer's wants: the pool p was offered to by OFFER
 * first, a buying pool only at most at its price.  o->want and
 * o->want_qty set.  0 or -1.
 */
int	market_pool_want_take(struct market_call *,
	    const struct market_post *p, long long qty, struct market_order *o);
/* The template of the seller's notice that pool order o expired; NULL on
   failure. */
const char *market_pool_expired_tmpl(struct market_call *,
	    const struct market_order *o);
/*
 * market_match_post's hook for new post p and candidate q: 1 when one is
 * a pool of which the other's owner is a member (not matched), else 0,
 * a dealer's new offer p matching a buying pool q told to use OFFER;
 * -1 on failure.
 */
int	market_pool_match(struct market_call *, const struct market_post *p,
	    const struct market_post *q);

/* --- tiers (market_tier.c): a dealer's lower prices for orders that
 * together reach a quantity; the hooks of SELL, BUY, ACCEPT, MY and the
 * match notices, one call each ---------------------------------------------- */

#define MARKET_TIERS_MAX	3	/* tiers of one offer */

/* A row of market_tiers. */
struct market_tier {
	long long	 qty;			/* units all orders reach */
	long long	 price;			/* minor units per unit */
	long long	 reached;		/* when (0: not yet) */
};

/*
 * SELL: the TIER groups after the price word *k ("TIER 20 3200 TIER 50
 * 3000") of post p (its price and unit read), into t (at most
 * MARKET_TIERS_MAX), *n set and *k moved to their last word.  1 when the
 * sender was answered instead (a refusal, or *rc = MB_USAGE / MB_FAIL),
 * 0 to go on.
 */
int	market_tier_parse(struct market_call *, const char *kind,
	    const struct market_post *p, size_t *k, struct market_tier *t,
	    size_t *n, int *rc);
/* After offer p was inserted: its n tiers written, the seller told. 0, -1 */
int	market_tier_post(struct market_call *, const struct market_post *p,
	    const struct market_tier *t, size_t n);
/*
 * BUY of qty from offer p, before its total: p->price becomes the price
 * of the lowest tier the orders reach with qty.  0, or -1.
 */
int	market_tier_price(struct market_call *, struct market_post *p,
	    long long qty);
/*
 * After order o on offer p was made: tiers it reached marked, the live
 * orders repriced, every orderer told once; the buyer told the price now
 * and the next tier.  0, or -1.
 */
int	market_tier_order(struct market_call *, const struct market_post *p,
	    const struct market_order *o);
/*
 * ACCEPT with the sender's own tiered offer's ref: every pending order on
 * it accepted.  1 when it was (*rc set), 0 when word 0 is not that.
 */
int	market_tier_accept(struct market_call *, int *rc);
/*
 * The template to show offer ref with: tmpl, or its "-tiers" variant
 * with {tiers} (the tiers still ahead, written into buf) added to a when
 * the offer has them and the text fits one SMS for to (NULL: the
 * sender).  NULL on failure (logged).
 */
#define MARKET_TIER_TEXT	160	/* bytes of a list of tiers */
const char *market_tier_show(struct market_call *, long long ref,
	    const char *to, struct market_args *a, const char *tmpl,
	    char *buf, size_t len);

/* --- the store (market_store.c) -------------------------------------------------
 * Every function runs in the transaction of the call's message or timer
 * run and returns -1 (logged) when the store fails; the plugin then
 * returns MB_FAIL so that everything rolls back.
 */

/*
 * What market_store.c shares with market_store_pool.c: the columns of an
 * order as market_store_order_read reads them, and the helpers every
 * statement uses (a failure logged and the statement done; a statement
 * without rows run; "" bound as NULL; a column copied into a buffer).
 */
#define MARKET_ORDER_COLUMNS \
    "o.ref, o.offer, o.buyer, o.seller, o.qty, o.price, o.total, o.state," \
    " o.transporter, o.code, o.code_tries, o.reason, o.created, o.updated," \
    " o.remind_at, o.expires_at, o.reminded, o.want, o.want_qty," \
    " p.commodity, p.unit, p.market, o.parent"

int	market_store_fail(struct market_call *, struct mb_stmt *,
	    const char *what);
int	market_store_run(struct market_call *, struct mb_stmt *, int binds,
	    const char *what);
int	market_store_bind_text(struct market_call *, struct mb_stmt *, int i,
	    const char *s);
void	market_store_column(struct market_call *, struct mb_stmt *, int col,
	    char *buf, size_t len);
void	market_store_order_read(struct market_call *, struct mb_stmt *,
	    struct market_order *);

#define MARKET_NMIGRATIONS	11
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
 * Count an order of qty at price from offer against the buyer's open
 * want: the pool the offer was made for by OFFER first, else his oldest
 * open want of the same commodity and unit; a buying pool's want only
 * when price is at most the pool's: *want and *taken (0 when none).
 */
int	market_store_want_take(struct market_call *, const char *buyer,
	    long long offer, const char *commodity, const char *unit,
	    long long qty, long long price, long long *want,
	    long long *taken);
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

/* --- tiers (market_tier.c) --- */

int	market_store_tier_insert(struct market_call *, long long offer,
	    const struct market_tier *);
/* An offer's tiers, lowest quantity first: at most max, *n set. */
int	market_store_tiers(struct market_call *, long long offer,
	    struct market_tier *out, size_t max, size_t *n);
/* reached = now for the tier (offer, qty) not yet reached: 1 done, 0 not */
int	market_store_tier_reach(struct market_call *, long long offer,
	    long long qty);
/*
 * Units of the orders on offer that count toward its tiers: not rejected,
 * expired or cancelled, and no member's share order (parent).
 */
int	market_store_tier_ordered(struct market_call *, long long offer,
	    long long *sum);
/* Pending and accepted orders on offer above price, and their share
   orders: price, total. */
int	market_store_tier_reprice(struct market_call *, long long offer,
	    long long price);
/*
 * The buyers of pending and accepted orders on offer (no share orders;
 * members: the members of buying pools with share orders on it, pool
 * set), after the buyer after ("" first), in order: at most max, each
 * with the sum of her orders' qty and total.  *n set.
 */
struct market_tier_buyer {
	char		 buyer[MARKET_MSISDN_LEN];
	long long	 qty, total;
	long long	 pool;			/* a member's pool, else 0 */
};
int	market_store_tier_buyers(struct market_call *, long long offer,
	    int members, const char *after, struct market_tier_buyer *out,
	    size_t max, size_t *n);
/* Offer ref was made by OFFER for pool (market_posts.pool). */
int	market_store_post_pool_set(struct market_call *, long long ref,
	    long long pool);
/*
 * The oldest listed buying pool, its want open, of order's buyer and
 * commodity that pays less than the order's price: *pool and its price
 * *max (0: none).
 */
int	market_store_pool_dear(struct market_call *, long long order,
	    long long *pool, long long *max);
/* Pending orders on offer whose seller is seller (no share orders),
 * oldest first: at most max refs, *n set. */
int	market_store_offer_pending(struct market_call *, long long offer,
	    const char *seller, long long *refs, size_t max, size_t *n);

/*
 * A pool order's share orders (parent = its ref), oldest first, at most
 * max into out.  market_store_share_sold: qty more of a member's share
 * given to orders (qty < 0: given back): 1 done, 0 refused (more than
 * the share, or less than sold).  market_store_is_parent: 1 when order
 * ref has share orders, else 0.
 */
int	market_store_share_orders(struct market_call *, long long parent,
	    struct market_order *out, size_t max, size_t *n);
int	market_store_share_sold(struct market_call *, long long pool,
	    const char *member, long long qty);
int	market_store_is_parent(struct market_call *, long long ref);

/*
 * What is due at call->now, oldest due first, at most max refs:
 *  MARKET_DUE_POSTS	open posts past their expiry
 *  MARKET_DUE_EXPIRE	pending orders past expires_at
 *  MARKET_DUE_REMIND	pending orders past remind_at, not reminded
 *  MARKET_DUE_UNSENT	accepted orders past expires_at
 *  MARKET_DUE_SEND	accepted orders past remind_at, not reminded
 *  MARKET_DUE_COMPLETE	sent orders past expires_at without an open
 *			dispute (market_disputes; the sweep reads them
 *			again: market_store_dispute_hold)
 *  MARKET_DUE_DELIVERY	sent orders past remind_at, not reminded, without
 *			an open dispute
 * (share orders have no due times: they follow their pool order).
 */
enum market_due {
	MARKET_DUE_POSTS,
	MARKET_DUE_EXPIRE,
	MARKET_DUE_REMIND,
	MARKET_DUE_UNSENT,
	MARKET_DUE_SEND,
	MARKET_DUE_COMPLETE,
	MARKET_DUE_DELIVERY
};
int	market_store_due(struct market_call *, enum market_due,
	    long long *refs, size_t max, size_t *n);
/*
 * What order ref's disputes say of its completion: 1 an open one (it
 * waits), 2 the latest closed one was decided for the buyer (*dispute
 * its ref: the order ends cancelled, MARKET_REASON_DISPUTE), 0 none or
 * decided for the seller (it completes); -1.
 */
int	market_store_dispute_hold(struct market_call *, long long ref,
	    long long *dispute);

/*
 * Pools (market_pool.c).  A pool with its shares' sum and count: 1 found,
 * 0 none.  The state moves only from the state given (1 moved, 0 not).
 */
int	market_store_pool_insert(struct market_call *,
	    const struct market_pool *);
int	market_store_pool_get(struct market_call *, long long ref,
	    struct market_pool *);
int	market_store_pool_state(struct market_call *, long long ref,
	    const char *from, const char *to);
/* told = 1: the members were told the deadline passed */
int	market_store_pool_told(struct market_call *, long long ref);
/* Shares of pool in order of joining (seq), at most max. */
int	market_store_shares(struct market_call *, long long pool,
	    struct market_share *out, size_t max, size_t *n);
/* member's share of pool: 1 found, 0 none */
int	market_store_share_get(struct market_call *, long long pool,
	    const char *member, struct market_share *);
/*
 * Set member's share to qty; a new share (!exists) joins after all
 * others.  1 done, 0 not (an existing share already sold more than qty).
 */
int	market_store_share_put(struct market_call *, long long pool,
	    const char *member, long long qty, int exists);
/* Remove member's share if none of it is sold: 1 removed, 0 not. */
int	market_store_share_delete(struct market_call *, long long pool,
	    const char *member);
/* All that pool's shares have sold (given to share orders): 0 or -1. */
int	market_store_pool_sold(struct market_call *, long long pool,
	    long long *sold);
/*
 * Pools msisdn opened or has a share in, open or listed, or sold while
 * a share order of it is live or its post ended less than offer-lifetime
 * ago; newest first, at most max (*total: how many were read).
 */
int	market_store_my_pools(struct market_call *, const char *msisdn,
	    struct market_pool *out, size_t max, size_t *n, size_t *total);
/*
 * Open pools past their deadline at call->now, oldest first: not yet
 * told (lapse 0), or past the deadline and grace seconds (lapse 1).
 */
int	market_store_pools_due(struct market_call *, int lapse,
	    long long grace, long long *refs, size_t max, size_t *n);

/* --- matching (market_post.c) ---------------------------------------------------- */

/*
 * Tell the counterparts of the new post p (market-match-*, a pool's
 * offer as market-match-pool with its farmers); with list, the sender
 * also gets them listed in a reply.  farmers: the members of the pool p
 * is (0: not a pool).  MB_OK or MB_FAIL.
 */
int	market_match_post(struct market_call *, const struct market_post *p,
	    long long farmers, int list);

/* --- reputation (market_rep.c: INFO, RATE, a record where a decision is
 * made; counted by market_store.c from the tables each time) ------------------ */

int	market_info(struct mb_ctx *, const struct mb_host *);	/* rep.c */
int	market_rate(struct mb_ctx *, const struct mb_host *);	/* rep.c */

/* A person's record, as market_store_rep counts it. */
struct market_rep {
	long long	 trades;	/* orders delivered */
	long long	 cancelled;	/* orders she cancelled */
	long long	 rejected;	/* orders she rejected, as seller */
	long long	 expired;	/* orders left to expire, as seller */
	long long	 late;		/* legs she carried late */
	long long	 lost;		/* disputes closed against her */
	long long	 rated;		/* ratings she was given */
	long long	 stars;		/* their sum */
};

/* who's record counted now into r: 0 or -1 */
int	market_store_rep(struct market_call *, const char *who,
	    struct market_rep *r);
/* order ref was cancelled by side ("buyer" | "seller"): 0 or -1 */
int	market_store_rep_cancelled(struct market_call *, long long ref,
	    const char *side);
/* rater's stars for rated on order ref: 1 recorded, 0 rated before, -1 */
int	market_store_rate(struct market_call *, long long ref,
	    const char *rater, const char *rated, int stars);

#define MARKET_REP_TEXT		200	/* bytes of a record as shown */

/*
 * The template to send with who's record for to: tmpl, or its "-rep"
 * variant with {record} (the short record, written into buf) added to a
 * when tmpl has one and the text fits one SMS for to as it is (names not
 * cut).  NULL on failure (logged).
 */
const char *market_rep_show(struct market_call *, const char *who,
	    const char *to, struct market_args *a, const char *tmpl,
	    char *buf, size_t len);
/* CANCEL's hook: order o, just cancelled by the sender, says by whom */
int	market_rep_cancelled(struct market_call *,
	    const struct market_order *o);

/* --- pools, inside the plugin (market_pool.c) ---------------------------------------- */

/* Pool p's members and opener told tmpl with a (each once). MB_OK/MB_FAIL */
int	market_pool_tell(struct market_call *, const struct market_pool *p,
	    const char *tmpl, const struct market_args *a);
/* The placeholders every pool notice has: ref, commodity, unit, price,
   currency, target, qty (what its shares hold), farmers.  Strings are
   the pool's own and the host's: p must outlive a. */
void	market_pool_args(struct market_call *, const struct market_pool *,
	    struct market_args *);
/* CANCEL of pool p by the sender (market_cancel): MB_* */
int	market_pool_cancel(struct market_call *, struct market_pool *p);
/* MY's items of the sender's pools and shares, into l: MB_OK or MB_FAIL */
int	market_pool_my_items(struct market_call *, struct market_items *l);
/*
 * A listed pool whose offer or want the timer ended: sold when any of it
 * is sold (the members with units unsold told how many), else lapsed.
 * 0 or -1.
 */
int	market_pool_ended(struct market_call *, struct market_pool *p);
/* The timer's pools: deadlines, grace; at most *budget rows. MB_* */
int	market_pool_sweep(struct market_call *, size_t *budget);

/* --- disputes (market_dispute.c: PROBLEM; closed by the daemon's
 * POST /admin/dispute) ------------------------------------------------ */

#define MARKET_PROBLEM_LEN	300	/* bytes of a PROBLEM text kept */

/* A row of market_disputes (its text aside: written, never read back). */
struct market_dispute {
	long long	 ref, order_ref;
	char		 opener[MARKET_MSISDN_LEN];
	char		 side[8];		/* buyer | seller | other */
	char		 state[8];		/* open | closed */
	long long	 created;
};

/* PROBLEM (market_dispute.c) */
int	market_problem(struct mb_ctx *, const struct mb_host *);

/* The open dispute of order ref into *d: 1, 0 none, -1. */
int	market_store_dispute_open_of(struct market_call *, long long ref,
	    struct market_dispute *d);
/* A new dispute d (state open) with text: 0 or -1. */
int	market_store_dispute_insert(struct market_call *,
	    const struct market_dispute *d, const char *text);

/* --- hubs and legs (market_leg.c: IN, OUT, PICKUP; the hooks of SENT
 * and PROBLEM) ------------------------------------------------------------- */

#define MARKET_LEGS_MAX		(MB_ROUTE_MAX + 1)	/* legs of one order */

/* A row of market_legs (its problem aside: written, never read back). */
struct market_leg {
	long long	 order_ref;
	int		 seq;			/* 1, 2 ... in travel order */
	char		 from_hub[MARKET_CODE_LEN];	/* "": the seller */
	char		 to_hub[MARKET_CODE_LEN];	/* "": the buyer */
	char		 carrier[MARKET_MSISDN_LEN];	/* "": none yet */
	char		 code[8];		/* the carrier's handover code */
	int		 code_tries;
	char		 state[12];		/* waiting | moving | done */
	long long	 due_at;		/* 0: none */
	long long	 created, updated;
	long long	 started, ended;	/* 0: not yet (the store sets
						   them as state moves) */
	int		 reminded;		/* 0 .. 3 (schema step 10) */
};

int	market_in(struct mb_ctx *, const struct mb_host *);	/* leg.c */
int	market_out(struct mb_ctx *, const struct mb_host *);	/* leg.c */
int	market_pickup(struct mb_ctx *, const struct mb_host *);	/* leg.c */

/*
 * SENT's hook: order o (accepted) sent with carrier phone ("" none)
 * through hubs when the host has them and the route has any: the order
 * moved to sent, its legs made, the carrier and the first hub told.
 * 1 when done so (*rc the handler's result), 0 to send it as without
 * hubs.
 */
int	market_leg_sent(struct market_call *, struct market_order *o,
	    const char *phone, int *rc);
/* PROBLEM's hooks: 1 when the sender is an operator of a hub of order
   o's current leg (0 not, -1 failure); after dispute d was opened on o
   with text, the current leg's problem written and its hub's operators
   told (0 or -1). */
int	market_leg_operator(struct market_call *,
	    const struct market_order *o);
int	market_leg_problem(struct market_call *, const struct market_order *o,
	    long long d, const char *text);
/*
 * The sweep's leg steps (market.c): leg seq of order ref, read with
 * reminded: its next step (reminded + 1: the holder, the hub, the
 * admins) taken and marked: MB_OK (also when the leg moved since the
 * query: skipped), MB_FAIL.
 */
int	market_leg_press(struct market_call *, long long ref, int seq,
	    int reminded);
/*
 * DELIVERED's and the timer's completion hook: order o (sent) is about
 * to be delivered.  With legs still between hubs (a leg to a hub not
 * done) 1: refused (with reply, the sender told where it is and the
 * next step; without, nothing sent); else, with close, its last leg
 * closed (done, ended now) when open, and 0; -1 failure.
 */
int	market_leg_delivered(struct market_call *, const struct market_order *o,
	    int reply, int close);
/* SENT's rule for a carrier's number (market_delivery.c): 1 if allowed */
int	market_transporter_ok(struct market_call *, const char *phone);
/* 1 if typed is a local number (0722000111) and the host has no country
   code to make it international: SENT and OUT answer market-phone-local */
int	market_phone_local(struct market_call *, const char *typed);

int	market_store_leg_insert(struct market_call *,
	    const struct market_leg *);
/* Order ref's legs by seq, at most max: 0 or -1. */
int	market_store_legs(struct market_call *, long long ref,
	    struct market_leg *out, size_t max, size_t *n);
/* Leg l's carrier, code, tries, state and due_at written where it is
   still in state from: 1 done, 0 not. */
int	market_store_leg_update(struct market_call *,
	    const struct market_leg *l, const char *from);
/* one more wrong handover code on leg seq: the new count in *tries */
int	market_store_leg_code_try(struct market_call *, long long ref,
	    int seq, int *tries);
int	market_store_leg_problem(struct market_call *, long long ref,
	    int seq, const char *text);
/* A sent order's transporter is its current carrier: 0 or -1. */
int	market_store_order_carrier(struct market_call *, long long ref,
	    const char *carrier);
/* The parcel reached the buyer's side: sent order ref's remind_at and
   expires_at from now (delivery-remind, -complete), reminded 0: 0 or -1. */
int	market_store_order_rearm(struct market_call *, long long ref);
/* The buyer's place (a market code, "" none): the market of the want
   want (0: none), else of his newest post naming one.  0 or -1. */
int	market_store_buyer_place(struct market_call *, const char *buyer,
	    long long want, char *buf, size_t len);
/* Open legs (waiting or moving) of sent orders whose next step is due
   at call->now (reminded 0: due_at; 1: + leg-escalate; 2: +
   leg-escalate-admins), oldest due first, at most max: 0 or -1. */
struct market_leg_due {
	long long	 ref;
	int		 seq;
	int		 reminded;
};
int	market_store_legs_due(struct market_call *,
	    struct market_leg_due *out, size_t max, size_t *n);
/* Leg seq of ref pressed to step reminded + 1 where it is still in state
   with due_at and reminded: 1 done, 0 it moved, -1. */
int	market_store_leg_pressed(struct market_call *, long long ref, int seq,
	    const char *state, long long due_at, int reminded);

/* --- the hubs' morning manifest (market_manifest.c; its SQL in
 * market_store_manifest.c) ------------------------------------------------- */

#define MARKET_MANIFEST_OFF	(-1)		/* manifest-time = off */
#define MARKET_MANIFEST_DEFAULT	(6 * 60)	/* 06:00 local */
#define MARKET_MANIFEST_LATE_MAX 64		/* late refs read per hub */

/* manifest-time "HH:MM" or "off" into *minutes: 0, or -1 (logged). */
int	market_manifest_conf(const struct mb_host *, const char *value,
	    int *minutes);
/* The timer's manifests: each hub's, once a day, at most *budget hubs.
   MB_OK or MB_FAIL. */
int	market_manifest_sweep(struct market_call *, size_t *budget);

/* What a hub has today (market_store_manifest_hub). */
struct market_manifest {
	long long	 in;		/* moving towards it */
	long long	 out;		/* received, waiting to leave */
	long long	 late;		/* of those, past their due time */
	long long	 refs[MARKET_MANIFEST_LATE_MAX];	/* late orders,
							   most late first */
	size_t		 nrefs;
};

/*
 * Hubs with open legs of sent orders (from_hub or to_hub of a waiting or
 * moving leg) that have no manifest for day yet, by code, at most max
 * into out.  0 or -1.
 */
int	market_store_manifest_hubs(struct market_call *, const char *day,
	    char (*out)[MARKET_CODE_LEN], size_t max, size_t *n);
/* Hub's counts at call->now into *m: 0 or -1. */
int	market_store_manifest_hub(struct market_call *, const char *hub,
	    struct market_manifest *m);
/* Hub's manifest of day done at call->now: 0 or -1. */
int	market_store_manifest_done(struct market_call *, const char *hub,
	    const char *day);

#endif
