/*
 * market.c - the market plugin: farmers post what they sell, buyers what
 * they want, both are told of matches, buyers order, sellers answer and
 * dispatch, the buyer (or the transporter, with the buyer's code) confirms
 * delivery, and everyone concerned gets an SMS at every step.
 *
 * Commands (ids; the words people type are in the language files), with
 * an exchange each ("> " what a phone sends, "< " what it gets; replies
 * are templates market-* of the sender's language):
 *
 *   SELL commodity qty [unit] price [market]
 *   SELL qty [unit] commodity price [market]
 *	> SELL maize 10 bags 3000
 *	< Offer #41: 10 bags of maize at 3,000 KES a bag, Nakuru. Buyers
 *	  order with BUY 41 and how many.
 *	The commodity is every word before the quantity, or after the
 *	quantity and its unit ("SELL 10 bags maize @ 3,000"; catalogue
 *	codes and aliases, "sukuma wiki" too); a near miss gets a
 *	suggestion.  The unit may be omitted; the only unit allowed is the
 *	commodity's catalogue unit.  The price is per unit, whole or with
 *	two decimals ("2.50"), 0.01 to 10^9; typed in groups of three
 *	digits ("6 000") it is one number.  The market is the poster's (REG)
 *	unless a market is named last.
 *
 *   WANT commodity qty [unit] maxprice [market]
 *	> WANT maize 5 bags 3200
 *	< Want #42: 5 bags of maize at up to 3,200 KES a bag, Nakuru.
 *	  Sellers will be told.
 *
 *	A new post is matched against the open posts of the other kind:
 *	same commodity and unit, in scope (match-scope: the same market,
 *	the same region, or anywhere; a post with no market matches every
 *	market), offer price <= want price, another person.  At most
 *	max-matches, the best price first (for a new offer the wants that
 *	pay most, for a new want the cheapest offers), then the oldest.  The
 *	poster gets them listed in a second reply (market-match-wants /
 *	market-match-offers); each counterpart gets a notice with the
 *	reference to act on (market-match-buyer: "send BUY 41 5";
 *	market-match-seller).
 *
 *   BUY offer qty [unit]
 *	> BUY 41 5
 *	< Order #43: 5 bags of maize from Wanjiru (offer #41), total
 *	  15,000 KES. The seller is asked to accept.
 *	The seller gets the buyer's name and number, the quantity, the total
 *	and "ACCEPT 43 / REJECT 43".  The quantity is reserved at once, in
 *	one conditional UPDATE: of two buyers for the last bags one gets
 *	them, the other is told what is left.  An order also counts toward
 *	the buyer's oldest open want of that commodity (a want fully ordered
 *	is closed; the quantity comes back if the order does not go
 *	through).  Refused: own offer, more than is left, a want or order
 *	number, an unknown number, an offer no longer open, a total above
 *	10^11.
 *
 *   ACCEPT order			(the seller; a pending order)
 *	> ACCEPT 43
 *	< Order #43 accepted. When the goods leave, send SENT 43 and the
 *	  transporter's phone.
 *   REJECT order [reason]		(the seller; a pending order)
 *	> REJECT 43 sold at the farm
 *	< Order #43 rejected. 5 bags are back on offer #41.
 *   SENT order [transporter-phone]	(the seller; an accepted order)
 *	> SENT 43 0722000111
 *	< Order #43 is on its way; transporter +254722000111 has the details.
 *	The transporter is a registered user (any country), or a number
 *	that starts with one of transporter-prefixes (by default the home
 *	country's code): any other number is refused (market-transporter-
 *	refused), so that SENT cannot text anyone abroad.  A transporter
 *	who is not a registered user is told the order without the seller's
 *	or the buyer's name (market-sent-transporter-unnamed): names go to
 *	users only.
 *	The buyer gets a 4-digit delivery code; the transporter (local or
 *	international number, registered or not) gets the pickup (seller,
 *	number, market) and drop-off (buyer, number) and how to confirm.
 *   DELIVERED order [[word] code]	(the buyer; or the transporter with
 *					 the code; a sent order)
 *	> DELIVERED 43 4831
 *	> DELIVERED 43 code 4831	(a word before the code is skipped:
 *					 code, msimbo, 码, any language's)
 *	< Order #43 delivered. Thank you!
 *	Both parties' records get one trade more (ME: "N trades
 *	completed"); the seller is told, and the buyer when the transporter
 *	confirmed.  A wrong code is counted; after code-tries wrong codes
 *	the order's code is locked and only the buyer can confirm (the buyer
 *	is told).  No registration needed: a transporter may not have one.
 *   CANCEL ref
 *	> CANCEL 41
 *	< Offer #41 withdrawn. Orders already placed on it stand.
 *	An own open offer or want; or an order not yet sent, by its buyer or
 *	its seller (the reserved quantity returns, the other party is told).
 *   MY [page]
 *	> MY
 *	< #41 selling 5 bags of maize at 3,000; #43 you sell 5 bags of
 *	  maize, 15,000: accepted, not yet sent. 2 more: send MY 2
 *	Open offers, open wants, then orders not final (as buyer or
 *	seller), newest first, in pages of one SMS (see "MY" below).
 *
 * Every word is the language files': replies are templates, and so are
 * the items of lists and an order's state, rendered by the host
 * (host->render) and joined by market-list-sep.  Free text people typed
 * (a REJECT reason, names) is cut at a word to keep a message one SMS.
 *
 * Everything else gets a refusal that changes nothing and names the next
 * step, who must act and the exact command: market-unknown-ref; a number
 * of another kind (market_post_refuse: market-ref-offer, -own-offer,
 * -want, -own-want, market-sold-out, market-offer-ended, market-ref-order);
 * market-not-yours; an order's step out of turn or state
 * (market_order_refuse: market-order-wait-*, -is-accepted, -on-way,
 * -ended-*); a post already withdrawn or expired (market-post-*).
 *
 * Orders: the state machine (see market_transitions, the one place an
 * order changes state: market_order_move checks the from-state, writes
 * the row and sends every notice of the step, in the transaction of the
 * message or timer run):
 *
 *	pending  -> accepted | rejected | expired | cancelled
 *	accepted -> sent | cancelled
 *	sent     -> delivered
 *
 * rejected, expired and cancelled give the reserved quantity back to the
 * offer (a sold-out offer reopens while it has not expired).
 *
 * Posts: open -> closed (an offer sold out, or a want fully ordered;
 * back to open when an order returns its quantity) | cancelled | expired.
 *
 * Timers (one timer, "market-sweep", every 15 s; it works when
 * sweep-interval has passed since its last sweep, or at once when the
 * wall clock went back, at most 200 rows a run,
 * the rest next run; due times are columns, so nothing is lost across a
 * restart):
 *  - open offers and wants past their lifetime expire; the owner is told;
 *  - a pending order unanswered for order-remind: the seller is reminded,
 *    once; unanswered for order-expire: it expires, the quantity returns,
 *    both are told;
 *  - a sent order not confirmed after delivery-remind: the buyer is
 *    reminded, once.
 *
 * Questions: a SELL, WANT or BUY whose price is confirm-ratio times
 * above or below the usual one, or whose price reads two ways, asks the
 * sender (host->ask) and is done when they answer YES; see "questions"
 * below.
 *
 * Configuration (group = plugin-market; durations take s, m, h or d):
 *	offer-lifetime = 7d	match-scope = market | region | all
 *	order-remind = 2h	max-matches = 3	(0: no match notices)
 *	order-expire = 24h	code-tries = 3
 *	delivery-remind = 48h	sweep-interval = 60s
 *	confirm-ratio = 10 (0: never ask)	confirm-posts = 5
 *	confirm-window = 30d
 *	transporter-prefixes = +254;+256 (default: the home country)
 *
 * Money is in minor units (cents) in 64-bit integers, never in floating
 * point: prices are read digit by digit, totals multiplied with an
 * overflow check.
 *
 * The plugin includes only <marketbox/plugin.h> and libc; its SQL, which
 * both engines of the store run, is in market_store.c.
 */
#include <ctype.h>
#include <limits.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <marketbox/plugin.h>

#include "market.h"

#define MARKET_TICK		15	/* seconds between timer runs */
#define MARKET_SWEEP_MAX	200	/* rows one sweep handles */
#define MARKET_MAX_ARGS		16	/* placeholders of one template */
#define MARKET_FETCH_MAX	200	/* candidates read for matching */
#define MARKET_MY_MAX		100	/* posts, and orders, read for MY */
#define MARKET_LIST_NAME	16	/* bytes of a name in a list */

/* --- money and durations -------------------------------------------------- */

int
market_money_parse(const char *s, long long *out)
{
	long long	 v = 0;
	int		 frac = 0, digits = 0;

	if (s == NULL)
		return -1;
	for (; *s >= '0' && *s <= '9'; s++) {
		/* more digits than the largest price has: refused early */
		if (++digits > 10)
			return -1;
		v = v * 10 + (*s - '0');
	}
	if (digits == 0)
		return -1;
	v *= 100;
	if (*s == '.' || *s == ',') {
		s++;
		if (*s < '0' || *s > '9')
			return -1;
		frac = (*s++ - '0') * 10;
		if (*s >= '0' && *s <= '9')
			frac += *s++ - '0';
	}
	if (*s != '\0')
		return -1;
	v += frac;
	if (v < 1 || v > MARKET_PRICE_MAX)
		return -1;
	*out = v;
	return 0;
}

void
market_money_format(long long minor, char *buf, size_t len)
{
	if (minor % 100 == 0)
		snprintf(buf, len, "%lld", minor / 100);
	else
		snprintf(buf, len, "%lld.%02lld", minor / 100, minor % 100);
}

int
market_money_mul(long long qty, long long price, long long *out)
{
	if (qty < 0 || price < 0 ||
	    __builtin_mul_overflow(qty, price, out))
		return -1;
	return 0;
}

int
market_duration_parse(const char *s, long long *out)
{
	long long	 v = 0, unit = 1;
	int		 digits = 0;

	if (s == NULL)
		return -1;
	while (*s == ' ')
		s++;
	for (; *s >= '0' && *s <= '9'; s++) {
		if (++digits > 9)
			return -1;
		v = v * 10 + (*s - '0');
	}
	if (digits == 0)
		return -1;
	switch (tolower((unsigned char)*s)) {
	case '\0':
		break;
	case 's':
		s++;
		break;
	case 'm':
		unit = 60;
		s++;
		break;
	case 'h':
		unit = 3600;
		s++;
		break;
	case 'd':
		unit = 86400;
		s++;
		break;
	default:
		return -1;
	}
	while (*s == ' ')
		s++;
	if (*s != '\0')
		return -1;
	*out = v * unit;
	return 0;
}

/* --- small helpers -------------------------------------------------------- */

/* Copy s into buf, cut at a UTF-8 character boundary to fit len. */
static void
market_copy(char *buf, size_t len, const char *s)
{
	size_t	 n;

	if (len == 0)
		return;
	if (s == NULL)
		s = "";
	n = strlen(s);
	if (n >= len) {
		n = len - 1;
		while (n > 0 && ((unsigned char)s[n] & 0xC0) == 0x80)
			n--;
	}
	memcpy(buf, s, n);
	buf[n] = '\0';
}

/* Placeholder values for one template; numbers are kept inside. */
struct market_args {
	struct mb_arg	 a[MARKET_MAX_ARGS];
	char		 num[MARKET_MAX_ARGS][32];
	size_t		 n;
};

static void
market_arg(struct market_args *a, const char *name, const char *value)
{
	if (a->n == MARKET_MAX_ARGS)
		return;		/* a programming error; the mock shows it */
	a->a[a->n].name = name;
	a->a[a->n].value = value != NULL ? value : "";
	a->n++;
}

static void
market_arg_num(struct market_args *a, const char *name, long long v)
{
	if (a->n == MARKET_MAX_ARGS)
		return;
	snprintf(a->num[a->n], sizeof(a->num[a->n]), "%lld", v);
	market_arg(a, name, a->num[a->n]);
}

static void
market_arg_money(struct market_args *a, const char *name, long long minor)
{
	if (a->n == MARKET_MAX_ARGS)
		return;
	market_money_format(minor, a->num[a->n], sizeof(a->num[a->n]));
	market_arg(a, name, a->num[a->n]);
}

static int	market_fit(struct market_call *, const char *, const char *,
		    struct market_args *, char [][MARKET_REASON_LEN + 8]);

/*
 * The reply tmpl with a; free text in a (names, a reason) is cut to keep
 * it one SMS (market_fit).  MB_OK or MB_FAIL (logged).
 */
static int
market_reply(struct market_call *c, const char *tmpl,
    const struct market_args *a)
{
	struct market_args	 f;
	char			 cut[3][MARKET_REASON_LEN + 8];

	if (a != NULL) {
		f = *a;
		if (market_fit(c, NULL, tmpl, &f, cut) == -1)
			return MB_FAIL;
		a = &f;
	}
	if (c->host->reply(c->ctx, tmpl, a ? a->a : NULL, a ? a->n : 0) ==
	    -1) {
		c->host->log(c->ctx, MB_LOG_ERROR, "market: cannot reply %s",
		    tmpl);
		return MB_FAIL;
	}
	return MB_OK;
}

/* The notice tmpl with a to phone to, as market_reply. */
static int
market_notify(struct market_call *c, const char *to, const char *tmpl,
    const struct market_args *a)
{
	struct market_args	 f;
	char			 cut[3][MARKET_REASON_LEN + 8];

	if (a != NULL) {
		f = *a;
		if (market_fit(c, to, tmpl, &f, cut) == -1)
			return MB_FAIL;
		a = &f;
	}
	if (c->host->notify(c->ctx, to, tmpl, a ? a->a : NULL,
	    a ? a->n : 0) == -1) {
		c->host->log(c->ctx, MB_LOG_ERROR,
		    "market: cannot notify %s with %s", to, tmpl);
		return MB_FAIL;
	}
	return MB_OK;
}

/* A reply whose only placeholder is {ref}. */
static int
market_reply_ref(struct market_call *c, const char *tmpl, long long ref)
{
	struct market_args	 a = { .n = 0 };

	market_arg_num(&a, "ref", ref);
	return market_reply(c, tmpl, &a);
}

/*
 * A person as shown to others: the registered name, else the number.
 * Copied at once: the host lends the strings it returns only briefly.
 */
static void
market_person(struct market_call *c, const char *msisdn, char *buf,
    size_t len)
{
	const char	*name = c->host->user_name(c->ctx, msisdn);

	market_copy(buf, len, name != NULL && name[0] != '\0' ? name : msisdn);
}

/* A market code as shown: its name, else the code, else "-". */
static void
market_market_name(struct market_call *c, const char *code, char *buf,
    size_t len)
{
	const char	*name = NULL;

	if (code != NULL && code[0] != '\0')
		name = c->host->market_name(c->ctx, code);
	market_copy(buf, len, name != NULL ? name :
	    code != NULL && code[0] != '\0' ? code : "-");
}

/* --- one SMS: measuring, lists, free text cut to fit ------------------------
 *
 * Replies and notices are rendered by the host in the reader's language;
 * the plugin renders them first (host->render) where their length depends
 * on what it puts in: lists of items and free text (names, reasons).  A
 * text fits when the host sends it as one SMS (host->sms_parts: 160 GSM
 * septets, or 70 UCS-2 units, accents GSM lacks folded when that saves
 * an SMS).
 */

/*
 * A cut ends in "…": where the rest of a text is GSM and the mark would
 * cost a second SMS, the host sends it as "..." (host->sms_parts measures
 * it so).
 */
#define MARKET_ELLIPSIS		"\xe2\x80\xa6"

/* 1 if text is one SMS as the host sends it. */
static int
market_sms_fits(struct market_call *c, const char *text)
{
	return c->host->sms_parts(c->ctx, text) == 1;
}

/*
 * tmpl rendered for to (NULL: the sender), or NULL (logged).  The text is
 * the host's, valid until the handler returns.
 */
static const char *
market_render(struct market_call *c, const char *to, const char *tmpl,
    const struct market_args *a)
{
	const char	*text;

	text = c->host->render(c->ctx, to != NULL && to[0] != '\0' ? to : NULL,
	    tmpl, a ? a->a : NULL, a ? a->n : 0);
	if (text == NULL)
		c->host->log(c->ctx, MB_LOG_ERROR, "market: cannot render %s",
		    tmpl);
	return text;
}

/*
 * Free text in notices: what people typed (a REJECT reason) and names.
 * They are cut, the reason first, a word at a time, never below their
 * first word, until the message fits one SMS.  Phone numbers and every
 * other value are never cut.
 */
static const char * const market_free_args[] = { "reason", "name", "buyer" };
#define MARKET_NFREE	(sizeof(market_free_args) / sizeof(market_free_args[0]))

/*
 * Drop the last word of s (a buffer of len bytes; any ellipsis it ends
 * with first) and end it with ellipsis: 1, or 0 when s is one word (or
 * one character of a script without blanks) and stays as it is.
 */
static int
market_cut_word(char *s, size_t len, const char *ellipsis)
{
	size_t	 n = strlen(s), e, cut;

	if (n >= 3 && strcmp(s + n - 3, "...") == 0)
		n -= 3;
	else if (n >= 3 && strcmp(s + n - 3, "\xe2\x80\xa6") == 0)
		n -= 3;
	while (n > 0 && s[n - 1] == ' ')
		n--;
	/* the last blank, else (Chinese) the last character */
	for (cut = n; cut > 0 && s[cut - 1] != ' '; cut--)
		;
	if (cut == 0) {
		/* one word of a script with blanks stays whole */
		if (n == 0 || (unsigned char)s[0] < 0xE0)
			return 0;
		/* else its last character goes */
		cut = n;
		do
			cut--;
		while (cut > 0 && ((unsigned char)s[cut] & 0xC0) == 0x80);
	}
	while (cut > 0 && s[cut - 1] == ' ')
		cut--;
	if (cut == 0)
		return 0;
	e = strlen(ellipsis);
	if (cut + e + 1 > len)
		return 0;
	memcpy(s + cut, ellipsis, e + 1);
	return 1;
}

/*
 * a's free text cut so that tmpl, rendered for to, fits one SMS: the
 * values are copied into cut (MARKET_NFREE buffers) and a points at
 * them.  0, or -1 when rendering fails.
 */
static int
market_fit(struct market_call *c, const char *to, const char *tmpl,
    struct market_args *a, char cut[][MARKET_REASON_LEN + 8])
{
	const char	*text;
	size_t		 i, k, longest;
	int		 slot[MARKET_NFREE], any = 0, done[MARKET_NFREE] = { 0 };

	for (k = 0; k < MARKET_NFREE; k++) {
		slot[k] = -1;
		for (i = 0; i < a->n; i++)
			if (strcmp(a->a[i].name, market_free_args[k]) == 0 &&
			    a->a[i].value[0] != '\0') {
				slot[k] = (int)i;
				any = 1;
			}
	}
	if (!any)
		return 0;
	for (;;) {
		if ((text = market_render(c, to, tmpl, a)) == NULL)
			return -1;
		if (market_sms_fits(c, text))
			return 0;
		/* the reason first, then the longest name */
		k = MARKET_NFREE;
		if (slot[0] != -1 && !done[0])
			k = 0;
		else
			for (i = 1, longest = 0; i < MARKET_NFREE; i++)
				if (slot[i] != -1 && !done[i] &&
				    strlen(a->a[slot[i]].value) >= longest) {
					longest = strlen(a->a[slot[i]].value);
					k = i;
				}
		if (k == MARKET_NFREE)
			return 0;	/* nothing left to cut: as it is */
		if (a->a[slot[k]].value != cut[k]) {
			market_copy(cut[k], MARKET_REASON_LEN + 8,
			    a->a[slot[k]].value);
			a->a[slot[k]].value = cut[k];
		}
		if (!market_cut_word(cut[k], MARKET_REASON_LEN + 8,
		    MARKET_ELLIPSIS))
			done[k] = 1;
	}
}

/*
 * A list of items rendered from item templates in the reader's language,
 * joined by the language's separator (market-list-sep).  The strings are
 * the host's (valid until the handler returns).
 */
struct market_items {
	const char	**item;
	size_t		  n, cap;
};

/* Render tmpl with a for to and add it: MB_OK or MB_FAIL. */
static int
market_items_add(struct market_call *c, struct market_items *l,
    const char *to, const char *tmpl, const struct market_args *a)
{
	const char	**p, *text;

	if ((text = market_render(c, to, tmpl, a)) == NULL)
		return MB_FAIL;
	if (l->n == l->cap) {
		l->cap = l->cap ? l->cap * 2 : 8;
		if ((p = realloc(l->item, l->cap * sizeof(*p))) == NULL) {
			c->host->log(c->ctx, MB_LOG_ERROR,
			    "market: out of memory");
			return MB_FAIL;
		}
		l->item = p;
	}
	l->item[l->n++] = text;
	return MB_OK;
}

static void
market_items_free(struct market_items *l)
{
	free(l->item);
	memset(l, 0, sizeof(*l));
}

/* Items [from, to) joined by sep, malloc'd; NULL if memory runs out. */
static char *
market_items_join(const struct market_items *l, size_t from, size_t to,
    const char *sep)
{
	size_t	 i, len = 1;
	char	*s;

	for (i = from; i < to; i++)
		len += strlen(l->item[i]) + strlen(sep);
	if ((s = malloc(len)) == NULL)
		return NULL;
	s[0] = '\0';
	for (i = from; i < to; i++) {
		if (i > from)
			strcat(s, sep);
		strcat(s, l->item[i]);
	}
	return s;
}

/*
 * How many of the items from first fit one SMS with tmpl, which gets
 * them joined as {list} beside the values of a and, as {more}, how many
 * items are left after them: the largest count that fits, at least 1
 * (an item that does not fit alone goes alone).  -1 on failure.
 */
static long
market_items_fit(struct market_call *c, const struct market_items *l,
    size_t first, const char *sep, const char *tmpl, const char *list,
    const struct market_args *a)
{
	struct market_args	 b;
	const char		*text;
	char			*joined;
	size_t			 k, fit = 1;

	for (k = 1; first + k <= l->n; k++) {
		if ((joined = market_items_join(l, first, first + k, sep)) ==
		    NULL)
			return -1;
		b = *a;
		market_arg(&b, list, joined);
		market_arg_num(&b, "more", (long long)(l->n - first - k));
		text = market_render(c, NULL, tmpl, &b);
		free(joined);
		if (text == NULL)
			return -1;
		if (!market_sms_fits(c, text))
			break;
		fit = k;
	}
	return (long)fit;
}

/* A word that is meant as a number: "10", "2.50", "-5". */
static int
market_is_number(const char *s)
{
	if (s != NULL && (*s == '-' || *s == '+'))
		s++;
	return s != NULL && *s >= '0' && *s <= '9';
}

/* Start a call: the context, the conf, the clock, the sender. */
static void
market_call_init(struct market_call *c, struct mb_ctx *ctx,
    const struct mb_host *host, const struct market_conf *conf)
{
	const char	*sender;

	memset(c, 0, sizeof(*c));
	c->ctx = ctx;
	c->host = host;
	c->conf = conf;
	c->now = host->now(ctx);
	sender = host->sender(ctx);
	market_copy(c->actor, sizeof(c->actor), sender);
}

/* The conf from a handler (defaults if the state is missing). */
static const struct market_conf market_defaults = {
	.offer_lifetime = 7 * 86400,
	.order_remind = 2 * 3600,
	.order_expire = 24 * 3600,
	.delivery_remind = 48 * 3600,
	.sweep_interval = 60,
	.scope = MARKET_SCOPE_MARKET,
	.max_matches = 3,
	.code_tries = 3,
	.confirm_ratio = 10,
	.confirm_posts = 5,
	.confirm_window = 30 * 86400,
};

static const struct market_conf *
market_conf_of(struct mb_ctx *ctx, const struct mb_host *host)
{
	const struct market_state	*st = host->plugin_state(ctx);

	return st != NULL ? &st->conf : &market_defaults;
}

/* --- the order state machine ------------------------------------------------
 *
 * Every change of an order's state is a row of this table, and goes
 * through market_order_move, which checks it, writes it and tells people:
 *
 *	pending  -> accepted | rejected | expired | cancelled
 *	accepted -> sent | cancelled
 *	sent     -> delivered
 *
 * rejected, expired, cancelled and delivered are final.
 */
static const struct market_transition {
	const char	*from;
	const char	*to;
} market_transitions[] = {
	{ "pending",	"accepted" },
	{ "pending",	"rejected" },
	{ "pending",	"expired" },
	{ "pending",	"cancelled" },
	{ "accepted",	"sent" },
	{ "accepted",	"cancelled" },
	{ "sent",	"delivered" },
};

static int
market_order_can(const char *from, const char *to)
{
	size_t	 i;

	for (i = 0; i < sizeof(market_transitions) /
	    sizeof(market_transitions[0]); i++)
		if (strcmp(market_transitions[i].from, from) == 0 &&
		    strcmp(market_transitions[i].to, to) == 0)
			return 1;
	return 0;
}

/* The placeholders every order notice has. */
static void
market_order_args(struct market_call *c, const struct market_order *o,
    struct market_args *a)
{
	market_arg_num(a, "ref", o->ref);
	market_arg_num(a, "offer", o->offer);
	market_arg_num(a, "qty", o->qty);
	market_arg(a, "unit", o->unit);
	market_arg(a, "commodity", o->commodity);
	market_arg_money(a, "price", o->price);
	market_arg_money(a, "total", o->total);
	market_arg(a, "currency", c->host->currency(c->ctx));
}

/*
 * A 4-digit delivery code from the kernel's random source (getentropy:
 * a guess must not be easier than 1 in 10,000).  0, or -1 when there is
 * no randomness to have: the step is refused, not sent with a weak code.
 */
static int
market_order_code(struct market_call *c, char *buf, size_t len)
{
	unsigned int	 r;

	if (getentropy(&r, sizeof(r)) == -1) {
		c->host->log(c->ctx, MB_LOG_ERROR,
		    "market: no random delivery code: getentropy failed");
		return -1;
	}
	snprintf(buf, len, "%04u", r % 10000);
	return 0;
}

/* The notices of a step that has been written (o is the new row). */
static int
market_order_tell(struct market_call *c, const struct market_order *o)
{
	struct market_args	 a = { .n = 0 };
	char			 seller[MARKET_NAME_LEN];
	char			 buyer[MARKET_NAME_LEN];
	char			 mname[MARKET_NAME_LEN];
	const char		*other;
	int			 by_transporter;

	market_person(c, o->seller, seller, sizeof(seller));
	market_person(c, o->buyer, buyer, sizeof(buyer));
	market_order_args(c, o, &a);

	if (strcmp(o->state, "accepted") == 0) {
		market_arg(&a, "name", seller);
		market_arg(&a, "phone", o->seller);
		if (market_reply(c, "market-accept-ok", &a) != MB_OK)
			return MB_FAIL;
		return market_notify(c, o->buyer, "market-accepted", &a);
	}
	if (strcmp(o->state, "rejected") == 0) {
		market_arg(&a, "name", seller);
		market_arg(&a, "reason", o->reason);
		if (market_reply(c, "market-reject-ok", &a) != MB_OK)
			return MB_FAIL;
		return market_notify(c, o->buyer, o->reason[0] != '\0' ?
		    "market-rejected-reason" : "market-rejected", &a);
	}
	if (strcmp(o->state, "expired") == 0) {
		struct market_args	 b = { .n = 0 };

		market_arg(&a, "name", seller);
		if (market_notify(c, o->buyer, "market-expired-order-buyer",
		    &a) != MB_OK)
			return MB_FAIL;
		market_order_args(c, o, &b);
		market_arg(&b, "name", buyer);
		return market_notify(c, o->seller,
		    "market-expired-order-seller", &b);
	}
	if (strcmp(o->state, "cancelled") == 0) {
		int	 by_buyer = strcmp(c->actor, o->buyer) == 0;

		other = by_buyer ? o->seller : o->buyer;
		market_arg(&a, "name", by_buyer ? buyer : seller);
		if (market_reply(c, "market-cancelled-order", &a) != MB_OK)
			return MB_FAIL;
		return market_notify(c, other, "market-order-cancelled", &a);
	}
	if (strcmp(o->state, "sent") == 0) {
		int	 carried = o->transporter[0] != '\0';

		market_arg(&a, "code", o->code);
		market_arg(&a, "phone", o->transporter);
		if (market_reply(c, carried ? "market-sent-ok-transporter" :
		    "market-sent-ok", &a) != MB_OK)
			return MB_FAIL;
		if (market_notify(c, o->buyer, carried ?
		    "market-sent-buyer-transporter" : "market-sent-buyer",
		    &a) != MB_OK)
			return MB_FAIL;
		if (carried) {
			struct market_args	 t = { .n = 0 };

			/* names go to registered users only */
			int	 named = c->host->user_name(c->ctx,
				    o->transporter) != NULL;

			market_market_name(c, o->market, mname,
			    sizeof(mname));
			market_arg_num(&t, "ref", o->ref);
			market_arg_num(&t, "qty", o->qty);
			market_arg(&t, "unit", o->unit);
			market_arg(&t, "commodity", o->commodity);
			if (named)
				market_arg(&t, "name", seller);
			market_arg(&t, "phone", o->seller);
			market_arg(&t, "market", mname);
			if (named)
				market_arg(&t, "buyer", buyer);
			market_arg(&t, "buyer_phone", o->buyer);
			if (market_notify(c, o->transporter, named ?
			    "market-sent-transporter" :
			    "market-sent-transporter-unnamed", &t) != MB_OK)
				return MB_FAIL;
		}
		return MB_OK;
	}
	if (strcmp(o->state, "delivered") == 0) {
		by_transporter = strcmp(c->actor, o->buyer) != 0;
		if (c->host->user_trade(c->ctx, o->buyer) == -1 ||
		    c->host->user_trade(c->ctx, o->seller) == -1) {
			c->host->log(c->ctx, MB_LOG_ERROR,
			    "market: cannot count the trade of order %lld",
			    o->ref);
			return MB_FAIL;
		}
		market_arg(&a, "name", buyer);
		if (market_reply(c, "market-delivered-ok", &a) != MB_OK ||
		    market_notify(c, o->seller, "market-delivered-seller",
		    &a) != MB_OK)
			return MB_FAIL;
		if (by_transporter) {
			struct market_args	 b = { .n = 0 };

			market_arg_num(&b, "ref", o->ref);
			market_arg(&b, "phone", c->actor);
			if (market_notify(c, o->buyer,
			    "market-delivered-buyer", &b) != MB_OK)
				return MB_FAIL;
		}
		return MB_OK;
	}
	return MB_OK;
}

/*
 * Move order o to state to: the from-state checked against the table,
 * the row written (only if it is still in the from-state), the quantity
 * given back when the order does not go through, and every notice of the
 * step sent.  transporter and reason are for sent and rejected (may be
 * NULL).  MB_OK, or MB_FAIL (a broken rule is logged: callers check
 * market_order_can first and refuse with a reply).
 */
static int
market_order_move(struct market_call *c, struct market_order *o,
    const char *to, const char *transporter, const char *reason)
{
	char	 from[sizeof(o->state)];
	int	 rc;

	if (!market_order_can(o->state, to)) {
		c->host->log(c->ctx, MB_LOG_ERROR,
		    "market: order %lld: no transition %s -> %s", o->ref,
		    o->state, to);
		return MB_FAIL;
	}
	market_copy(from, sizeof(from), o->state);
	market_copy(o->state, sizeof(o->state), to);
	o->updated = c->now;
	if (strcmp(to, "sent") == 0) {
		market_copy(o->transporter, sizeof(o->transporter),
		    transporter);
		if (market_order_code(c, o->code, sizeof(o->code)) == -1)
			return MB_FAIL;
		o->code_tries = 0;
		o->remind_at = c->now + c->conf->delivery_remind;
		o->reminded = 0;
		o->expires_at = 0;
	} else {
		/* no timer of a pending order runs for the others */
		o->remind_at = 0;
		o->expires_at = 0;
		o->reminded = 0;
	}
	if (strcmp(to, "rejected") == 0)
		market_copy(o->reason, sizeof(o->reason), reason);
	if ((rc = market_store_order_update(c, o, from)) == -1)
		return MB_FAIL;
	if (rc == 0) {
		c->host->log(c->ctx, MB_LOG_ERROR,
		    "market: order %lld was not %s", o->ref, from);
		return MB_FAIL;
	}
	if (strcmp(to, "rejected") == 0 || strcmp(to, "expired") == 0 ||
	    strcmp(to, "cancelled") == 0) {
		if (market_store_post_return(c, o->offer, o->qty) == -1)
			return MB_FAIL;
		if (o->want != 0 && o->want_qty > 0 &&
		    market_store_post_return(c, o->want, o->want_qty) == -1)
			return MB_FAIL;
	}
	c->host->log(c->ctx, MB_LOG_INFO, "market: order %lld %s -> %s",
	    o->ref, from, to);
	return market_order_tell(c, o);
}

/* --- finding what a number names, and refusing with the next step ------------
 *
 * A refusal says what the thing is now and who must act next, with the
 * exact command: an order's state and the sender's part in it choose the
 * template (market_order_refuse), an offer or want that is not what the
 * command needs says what can be done with it (market_post_refuse).
 */

/* The reference in word i: 1 and *ref, else 0. */
static int
market_ref_arg(struct market_call *c, size_t i, long long *ref)
{
	return c->host->arg_number(c->ctx, i, 1, LLONG_MAX, ref);
}

/* An offer that can be ordered from now: open, in time, something left. */
static int
market_offer_open(struct market_call *c, const struct market_post *p)
{
	return strcmp(p->kind, "offer") == 0 && strcmp(p->state, "open") == 0 &&
	    p->expires > c->now && p->qty_left > 0;
}

/*
 * Post p is not what the command needs (an order, or for CANCEL a live
 * post): say what it is and what can be done.  For an offer: the
 * sender's own (MY shows the orders on it), sold out or ended (PRICE
 * shows others), or open (BUY it).  For a want: the sender's own or
 * another's.  MB_OK or MB_FAIL.
 */
static int
market_post_refuse(struct market_call *c, const struct market_post *p)
{
	struct market_args	 a = { .n = 0 };
	const char		*tmpl;
	int			 own = strcmp(p->msisdn, c->actor) == 0;

	market_arg_num(&a, "ref", p->ref);
	market_arg(&a, "commodity", p->commodity);
	market_arg(&a, "unit", p->unit);
	market_arg_num(&a, "left", p->qty_left);
	if (strcmp(p->kind, "want") == 0)
		tmpl = own ? "market-ref-own-want" : "market-ref-want";
	else if (own)
		tmpl = "market-ref-own-offer";
	else if (market_offer_open(c, p))
		tmpl = "market-ref-offer";
	else if (strcmp(p->state, "closed") == 0 ||
	    (strcmp(p->state, "open") == 0 && p->qty_left == 0))
		tmpl = "market-sold-out";
	else
		tmpl = "market-offer-ended";
	return market_reply(c, tmpl, &a);
}

/*
 * The order ref names, into o: 1.  Otherwise the sender is told what the
 * number is (an offer, a want, nothing) and 0 is returned; -1 on failure.
 */
static int
market_order_find(struct market_call *c, long long ref,
    struct market_order *o)
{
	struct market_post	 p;
	int			 rc;

	if ((rc = market_store_order_get(c, ref, o)) != 0)
		return rc;
	if ((rc = market_store_post_get(c, ref, &p)) == -1)
		return -1;
	if (rc == 0)
		rc = market_reply_ref(c, "market-unknown-ref", ref);
	else
		rc = market_post_refuse(c, &p);
	return rc == MB_OK ? 0 : -1;
}

/*
 * Order o cannot take the sender's command in its state: say where it
 * stands and who must act next.  The sender is its buyer, its seller or
 * its transporter.
 *
 *	state		buyer			seller
 *	pending		wait-seller		wait-accept
 *	accepted	wait-sent		is-accepted
 *	sent		on-way			wait-delivered
 *	final		ended-<state>		ended-<state>
 */
static int
market_order_refuse(struct market_call *c, const struct market_order *o)
{
	struct market_args	 a = { .n = 0 };
	char			 tmpl[64];
	int			 seller = strcmp(o->seller, c->actor) == 0;
	int			 buyer = strcmp(o->buyer, c->actor) == 0;

	if (strcmp(o->state, "pending") == 0)
		snprintf(tmpl, sizeof(tmpl), "%s", seller ?
		    "market-order-wait-accept" : "market-order-wait-seller");
	else if (strcmp(o->state, "accepted") == 0)
		snprintf(tmpl, sizeof(tmpl), "%s", seller ?
		    "market-order-is-accepted" : "market-order-wait-sent");
	else if (strcmp(o->state, "sent") == 0)
		snprintf(tmpl, sizeof(tmpl), "%s", buyer ?
		    "market-order-on-way" : "market-order-wait-delivered");
	else
		snprintf(tmpl, sizeof(tmpl), "market-order-ended-%s",
		    o->state);
	market_arg_num(&a, "ref", o->ref);
	market_arg_num(&a, "offer", o->offer);
	market_arg(&a, "commodity", o->commodity);
	return market_reply(c, tmpl, &a);
}

/* --- SELL and WANT ---------------------------------------------------------------- */

/* Is candidate q within the conf's scope of post p? */
static int
market_in_scope(struct market_call *c, const struct market_post *p,
    const char *p_region, const struct market_post *q)
{
	const char	*r;

	if (c->conf->scope == MARKET_SCOPE_ALL || p->market[0] == '\0' ||
	    q->market[0] == '\0' || strcmp(p->market, q->market) == 0)
		return 1;
	if (c->conf->scope == MARKET_SCOPE_MARKET || p_region[0] == '\0')
		return 0;
	r = c->host->market_region(c->ctx, q->market);
	return r != NULL && strcmp(r, p_region) == 0;
}

/*
 * Tell the counterparts of new post p (at most max-matches, best price
 * first) and list them to the poster in a second reply: the items
 * (market-item-buyer, market-item-offer-match) that fit one SMS, and how
 * many more were told.
 */
static int
market_match(struct market_call *c, const struct market_post *p)
{
	struct market_post	*cand;
	struct market_items	 list = { NULL, 0, 0 };
	struct market_args	 a;
	char			 region[MARKET_CODE_LEN] = "";
	char			 me[MARKET_NAME_LEN];
	char			 them[MARKET_REASON_LEN + 8];
	char			 mname[MARKET_NAME_LEN], sep[16];
	const char		*r;
	char			*joined = NULL;
	size_t			 n, i, told = 0;
	long			 fit;
	long long		 first = 0, buy = 0;
	int			 offer = strcmp(p->kind, "offer") == 0;
	int			 rc = MB_FAIL;

	if (c->conf->max_matches <= 0)
		return MB_OK;
	if ((cand = calloc(MARKET_FETCH_MAX, sizeof(*cand))) == NULL) {
		c->host->log(c->ctx, MB_LOG_ERROR, "market: out of memory");
		return MB_FAIL;
	}
	if (market_store_candidates(c, p, cand, MARKET_FETCH_MAX, &n) == -1)
		goto out;
	if (p->market[0] != '\0' &&
	    (r = c->host->market_region(c->ctx, p->market)) != NULL)
		market_copy(region, sizeof(region), r);
	market_person(c, p->msisdn, me, sizeof(me));
	market_market_name(c, p->market, mname, sizeof(mname));
	for (i = 0; i < n && told < (size_t)c->conf->max_matches; i++) {
		const struct market_post *q = &cand[i];
		const struct market_post *o = offer ? p : q;
		const struct market_post *w = offer ? q : p;

		if (!market_in_scope(c, p, region, q))
			continue;
		told++;
		memset(&a, 0, sizeof(a));
		market_arg_num(&a, "ref", o->ref);
		market_arg_num(&a, "want", w->ref);
		market_arg(&a, "unit", p->unit);
		market_arg(&a, "commodity", p->commodity);
		market_arg(&a, "currency", c->host->currency(c->ctx));
		market_arg(&a, "name", me);
		market_arg(&a, "phone", p->msisdn);
		/* the new post's quantity, price and market; to a buyer
		   also how much to send BUY for */
		market_arg_num(&a, "qty", p->qty_left);
		market_arg_money(&a, "price", p->price);
		market_arg(&a, "market", mname);
		if (offer)
			market_arg_num(&a, "buy", q->qty_left < p->qty_left ?
			    q->qty_left : p->qty_left);
		if (market_notify(c, q->msisdn, offer ? "market-match-buyer" :
		    "market-match-seller", &a) != MB_OK)
			goto out;
		/* the poster's list: who wants it, or which offers */
		memset(&a, 0, sizeof(a));
		market_arg_num(&a, "ref", q->ref);
		market_arg_num(&a, "qty", q->qty_left);
		market_arg(&a, "unit", q->unit);
		market_arg_money(&a, "price", q->price);
		if (offer) {
			/* a long name loses its last words, not the item */
			market_person(c, q->msisdn, them, MARKET_NAME_LEN);
			while (strlen(them) > MARKET_LIST_NAME &&
			    market_cut_word(them, sizeof(them),
			    MARKET_ELLIPSIS))
				;
			market_arg(&a, "name", them);
		} else if (first == 0) {
			/* the example BUY of the reply: the best offer */
			first = q->ref;
			buy = q->qty_left < p->qty_left ? q->qty_left :
			    p->qty_left;
		}
		if (market_items_add(c, &list, NULL, offer ?
		    "market-item-buyer" : "market-item-offer-match", &a) !=
		    MB_OK)
			goto out;
	}
	rc = MB_OK;
	if (told == 0)
		goto out;
	rc = MB_FAIL;
	market_copy(sep, sizeof(sep), market_render(c, NULL,
	    "market-list-sep", NULL));
	memset(&a, 0, sizeof(a));
	market_arg_num(&a, "ref", p->ref);
	market_arg_num(&a, "count", (long long)told);
	market_arg(&a, "commodity", p->commodity);
	market_arg(&a, "unit", p->unit);
	if (!offer) {
		market_arg_num(&a, "first", first);
		market_arg_num(&a, "buy", buy);
	}
	if ((fit = market_items_fit(c, &list, 0, sep, offer ?
	    "market-match-wants" : "market-match-offers", "matches", &a)) ==
	    -1)
		goto out;
	if ((joined = market_items_join(&list, 0, (size_t)fit, sep)) == NULL)
		goto out;
	market_arg(&a, "matches", joined);
	market_arg_num(&a, "more", (long long)(list.n - (size_t)fit));
	rc = market_reply(c, offer ? "market-match-wants" :
	    "market-match-offers", &a);
out:
	free(joined);
	market_items_free(&list);
	free(cand);
	return rc;
}

/* --- questions: a price far off the usual one, a number read two ways ------
 *
 * A SELL or WANT whose price is confirm-ratio times above or below the
 * usual price of its commodity at its market, a BUY from an offer priced
 * so, and a price word that people could mean two ways (host->arg_other)
 * are not done at once: the sender is asked (host->ask), and their YES
 * runs the command again, written out in full, with host->confirmed() 1,
 * which skips these checks.  The usual price is the median of the newest
 * posts, offers and wants, of that commodity, unit and market over
 * confirm-window; with fewer than confirm-posts of them nothing is asked.
 */

#define MARKET_USUAL_MAX	50	/* newest posts the median is of */

/* 1 if the host's table has the function f (an older host may not). */
#define MARKET_HOST_HAS(host, f) \
	((host)->size >= offsetof(struct mb_host, f) + sizeof((host)->f))

/* 1 when the command runs because its sender answered YES. */
static int
market_confirmed(struct market_call *c)
{
	return !MARKET_HOST_HAS(c->host, confirmed) ||
	    !MARKET_HOST_HAS(c->host, ask) || c->host->confirmed(c->ctx) == 1;
}

static int
market_price_cmp(const void *a, const void *b)
{
	long long	 x = *(const long long *)a, y = *(const long long *)b;

	return x < y ? -1 : x > y;
}

/*
 * The usual price of commodity and unit at market, the post exclude left
 * out: 1 with *usual set, 0 when there are too few recent posts, -1 on a
 * store failure.  Of an even number, the lower middle one: a price that
 * was posted.
 */
static int
market_usual(struct market_call *c, const char *commodity, const char *unit,
    const char *market, long long exclude, long long *usual)
{
	long long	 prices[MARKET_USUAL_MAX];
	size_t		 n;

	if (c->conf->confirm_ratio == 0 || market == NULL || market[0] == '\0')
		return 0;
	if (market_store_usual(c, commodity, unit, market,
	    c->now - c->conf->confirm_window, exclude, prices,
	    MARKET_USUAL_MAX, &n) == -1)
		return -1;
	if (n == 0 || n < (size_t)c->conf->confirm_posts)
		return 0;
	qsort(prices, n, sizeof(prices[0]), market_price_cmp);
	*usual = prices[(n - 1) / 2];
	return 1;
}

/*
 * How far price is from usual: N > 0 when it is N times usual or more
 * (N at least confirm-ratio), -N when usual is N times it or more, 0
 * when it is within the ratio.  N is rounded to the nearest whole.
 */
static long long
market_far_off(const struct market_conf *conf, long long price,
    long long usual)
{
	long long	 r = conf->confirm_ratio;

	if (r == 0 || price <= 0 || usual <= 0)
		return 0;
	if (price / r >= usual && price >= usual * r)
		return (price + usual / 2) / usual;
	if (usual / r >= price && usual >= price * r)
		return -((usual + price / 2) / price);
	return 0;
}

/* Ask the sender tmpl, YES running command: MB_OK or MB_FAIL. */
static int
market_ask(struct market_call *c, const char *tmpl,
    const struct market_args *a, const char *command)
{
	if (c->host->ask(c->ctx, NULL, tmpl, a->a, a->n, command, 0) == -1) {
		c->host->log(c->ctx, MB_LOG_ERROR, "market: cannot ask %s",
		    tmpl);
		return MB_FAIL;
	}
	c->host->log(c->ctx, MB_LOG_INFO, "market: %s asked before '%s'",
	    c->actor, command);
	return MB_OK;
}

/*
 * Before a post: 1 when the sender was asked instead (or a failure: *rc
 * set, MB_FAIL), 0 to go on.  price_word is the index of the price among
 * the arguments; p is complete but for its reference.
 */
static int
market_post_ask(struct market_call *c, const struct market_post *p,
    size_t price_word, int *rc)
{
	struct market_args	 a = { .n = 0 };
	const char		*other = NULL;
	char			 command[256], price[32], usual_s[32];
	char			 mname[MARKET_NAME_LEN];
	long long		 usual, times;
	int			 found;

	*rc = MB_OK;
	if (market_confirmed(c))
		return 0;
	market_money_format(p->price, price, sizeof(price));
	snprintf(command, sizeof(command), "%s %s %lld%s%s %s %s",
	    strcmp(p->kind, "offer") == 0 ? "SELL" : "WANT", p->commodity,
	    p->qty, p->unit[0] != '\0' ? " " : "", p->unit, price, p->market);
	if (MARKET_HOST_HAS(c->host, arg_other))
		other = c->host->arg_other(c->ctx, price_word);
	if (other != NULL) {
		market_arg(&a, "price", price);
		market_arg(&a, "other", other);
		market_arg(&a, "currency", c->host->currency(c->ctx));
		market_arg(&a, "unit", p->unit);
		*rc = market_ask(c, "market-confirm-reading", &a, command);
		return 1;
	}
	if ((found = market_usual(c, p->commodity, p->unit, p->market, 0,
	    &usual)) == -1) {
		*rc = MB_FAIL;
		return 1;
	}
	if (found == 0 || (times = market_far_off(c->conf, p->price,
	    usual)) == 0)
		return 0;
	market_money_format(usual, usual_s, sizeof(usual_s));
	market_market_name(c, p->market, mname, sizeof(mname));
	if (times > 0)
		market_arg_num(&a, "times", times);
	market_arg(&a, "commodity", p->commodity);
	market_arg(&a, "market", mname);
	market_arg(&a, "usual", usual_s);
	market_arg(&a, "currency", c->host->currency(c->ctx));
	market_arg(&a, "price", price);
	*rc = market_ask(c, times > 0 ? "market-confirm-high" :
	    "market-confirm-low", &a, command);
	return 1;
}

/*
 * Before an order of qty from offer p, total in all: as market_post_ask,
 * for an offer priced far off the usual price at its market.
 */
static int
market_buy_ask(struct market_call *c, const struct market_post *p,
    long long qty, long long total, int *rc)
{
	struct market_args	 a = { .n = 0 };
	char			 command[64], usual_s[32], mname[MARKET_NAME_LEN];
	long long		 usual, times;
	int			 found;

	*rc = MB_OK;
	if (market_confirmed(c))
		return 0;
	if ((found = market_usual(c, p->commodity, p->unit, p->market, p->ref,
	    &usual)) == -1) {
		*rc = MB_FAIL;
		return 1;
	}
	if (found == 0 || (times = market_far_off(c->conf, p->price,
	    usual)) == 0)
		return 0;
	snprintf(command, sizeof(command), "BUY %lld %lld", p->ref, qty);
	market_money_format(usual, usual_s, sizeof(usual_s));
	market_market_name(c, p->market, mname, sizeof(mname));
	market_arg_num(&a, "ref", p->ref);
	if (times > 0)
		market_arg_num(&a, "times", times);
	market_arg(&a, "commodity", p->commodity);
	market_arg(&a, "market", mname);
	market_arg(&a, "usual", usual_s);
	market_arg(&a, "currency", c->host->currency(c->ctx));
	market_arg_num(&a, "qty", qty);
	market_arg(&a, "unit", p->unit);
	market_arg_money(&a, "total", total);
	*rc = market_ask(c, times > 0 ? "market-confirm-buy-high" :
	    "market-confirm-buy-low", &a, command);
	return 1;
}

/* 1 if s is n digits only. */
static int
market_is_digits(const char *s, size_t n)
{
	size_t	 i;

	if (s == NULL || strlen(s) != n)
		return 0;
	for (i = 0; i < n; i++)
		if (s[i] < '0' || s[i] > '9')
			return 0;
	return 1;
}

/*
 * The price at word k, as typed in groups of three digits separated by
 * spaces ("6 000", "1 500 000") joined into buf: a word of 1 to 3 digits
 * not starting with 0, then words of exactly 3 digits.  Where a price is
 * expected, a word of three digits after it can be nothing else (a
 * market is no number).  Returns the index of the price's last word.
 */
static size_t
market_price_words(struct mb_ctx *ctx, const struct mb_host *host, size_t k,
    char *buf, size_t len)
{
	const char	*w = host->arg(ctx, k);
	size_t		 argc = host->argc(ctx), n;

	market_copy(buf, len, w);
	n = w != NULL ? strlen(w) : 0;
	if (n < 1 || n > 3 || w[0] == '0' || !market_is_digits(w, n))
		return k;
	while (k + 1 < argc && market_is_digits(host->arg(ctx, k + 1), 3) &&
	    strlen(buf) + 3 < len) {
		strncat(buf, host->arg(ctx, ++k), len - strlen(buf) - 1);
	}
	return k;
}

/*
 * SELL / WANT commodity qty [unit] price [market], or, as people also
 * say it, SELL / WANT qty [unit] commodity price [market] ("SELL 10 bags
 * maize 3000"): the commodity is the words before the first number, or
 * after the quantity (and its unit) up to the price.
 */
static int
market_post_command(struct mb_ctx *ctx, const struct mb_host *host,
    const char *kind)
{
	struct market_call	 c;
	struct market_post	 p;
	struct market_args	 a = { .n = 0 };
	char			 word[128], mname[MARKET_NAME_LEN], price[64];
	const char		*code, *w, *unit;
	size_t			 argc = host->argc(ctx), k, i, first, last;
	size_t			 qk, uk = SIZE_MAX, price_word;
	long long		 ref;
	int			 offer = strcmp(kind, "offer") == 0, rc;

	market_call_init(&c, ctx, host, market_conf_of(ctx, host));
	memset(&p, 0, sizeof(p));
	if (argc > 0 && market_is_number(host->arg(ctx, 0))) {
		/* the quantity, maybe its unit, then the commodity */
		qk = 0;
		k = 1;
		w = host->arg(ctx, k);
		if (k < argc && !market_is_number(w) &&
		    host->unit(ctx, w) != NULL &&
		    host->commodity(ctx, w) == NULL)
			uk = k++;
		for (first = k; k < argc && !market_is_number(host->arg(ctx,
		    k)); k++)
			;
		last = k;
		if (first == last || k >= argc)
			return MB_USAGE;
	} else {
		for (k = 0; k < argc && !market_is_number(host->arg(ctx, k));
		    k++)
			;
		if (k == 0 || k + 1 >= argc)
			return MB_USAGE;
		first = 0;
		last = k;
		qk = k++;
		if (!market_is_number(host->arg(ctx, k))) {
			uk = k;
			if (++k >= argc)
				return MB_USAGE;
		}
	}
	/* the commodity: one word or several ("sukuma wiki") */
	word[0] = '\0';
	for (i = first; i < last; i++) {
		if (i > first)
			strncat(word, " ", sizeof(word) - strlen(word) - 1);
		strncat(word, host->arg(ctx, i), sizeof(word) - strlen(word) -
		    1);
	}
	if ((code = host->commodity(ctx, word)) == NULL) {
		const char	*s = host->commodity_suggest(ctx, word);

		market_arg(&a, "word", word);
		market_arg(&a, "suggestion", s);
		market_arg(&a, "commodity", s);
		return market_reply(&c, s != NULL ?
		    "market-commodity-suggest" : "market-unknown-commodity",
		    &a);
	}
	market_copy(p.commodity, sizeof(p.commodity), code);
	if (!host->arg_number(ctx, qk, 1, MARKET_QTY_MAX, &p.qty)) {
		market_arg(&a, "word", host->arg(ctx, qk));
		market_arg_num(&a, "max", MARKET_QTY_MAX);
		return market_reply(&c, "market-bad-qty", &a);
	}
	/* the unit: only the commodity's own */
	unit = host->commodity_unit(ctx, p.commodity);
	market_copy(p.unit, sizeof(p.unit), unit != NULL ? unit : "");
	if (uk != SIZE_MAX) {
		w = host->arg(ctx, uk);
		unit = host->unit(ctx, w);
		if (unit == NULL || strcmp(unit, p.unit) != 0) {
			market_arg(&a, "word", w);
			market_arg(&a, "commodity", p.commodity);
			market_arg(&a, "unit", p.unit);
			return market_reply(&c, "market-bad-unit", &a);
		}
	}
	k = market_price_words(ctx, host, k, price, sizeof(price));
	if (market_money_parse(price, &p.price) == -1) {
		market_arg(&a, "word", price);
		return market_reply(&c, "market-bad-price", &a);
	}
	price_word = k;
	/* the market: named last, else the poster's */
	if (++k < argc) {
		word[0] = '\0';
		for (i = k; i < argc; i++) {
			if (i > k)
				strncat(word, " ", sizeof(word) -
				    strlen(word) - 1);
			strncat(word, host->arg(ctx, i), sizeof(word) -
			    strlen(word) - 1);
		}
		if ((code = host->market(ctx, word)) == NULL) {
			const char	*near = host->market_suggest(ctx, word);

			market_arg(&a, "word", word);
			if (near == NULL)
				return market_reply(&c,
				    "market-unknown-market", &a);
			market_market_name(&c, near, mname, sizeof(mname));
			market_arg(&a, "suggestion", mname);
			return market_reply(&c, "market-market-suggest", &a);
		}
	} else if ((code = host->sender_market(ctx)) == NULL)
		return market_reply(&c, "market-need-market", NULL);
	market_copy(p.market, sizeof(p.market), code);
	market_copy(p.kind, sizeof(p.kind), kind);
	if (market_post_ask(&c, &p, price_word, &rc))
		return rc;

	if ((ref = host->ref_next(ctx, kind)) < 0) {
		host->log(ctx, MB_LOG_ERROR, "market: no reference number");
		return MB_FAIL;
	}
	p.ref = ref;
	market_copy(p.kind, sizeof(p.kind), kind);
	market_copy(p.msisdn, sizeof(p.msisdn), c.actor);
	p.qty_left = p.qty;
	market_copy(p.state, sizeof(p.state), "open");
	p.created = c.now;
	p.expires = c.now + c.conf->offer_lifetime;
	if (market_store_post_insert(&c, &p) == -1)
		return MB_FAIL;
	host->log(ctx, MB_LOG_INFO, "market: %s %lld: %lld %s %s at %lld by %s",
	    kind, p.ref, p.qty, p.unit, p.commodity, p.price, p.msisdn);

	market_market_name(&c, p.market, mname, sizeof(mname));
	market_arg_num(&a, "ref", p.ref);
	market_arg_num(&a, "qty", p.qty);
	market_arg(&a, "unit", p.unit);
	market_arg(&a, "commodity", p.commodity);
	market_arg_money(&a, "price", p.price);
	market_arg(&a, "currency", host->currency(ctx));
	market_arg(&a, "market", mname);
	if (market_reply(&c, offer ? "market-offer-ok" : "market-want-ok",
	    &a) != MB_OK)
		return MB_FAIL;
	return market_match(&c, &p);
}

static int
market_sell(struct mb_ctx *ctx, const struct mb_host *host)
{
	return market_post_command(ctx, host, "offer");
}

static int
market_want(struct mb_ctx *ctx, const struct mb_host *host)
{
	return market_post_command(ctx, host, "want");
}

/* --- BUY ------------------------------------------------------------------------------ */

static int
market_buy(struct mb_ctx *ctx, const struct mb_host *host)
{
	struct market_call	 c;
	struct market_post	 p;
	struct market_order	 o;
	struct market_args	 a = { .n = 0 };
	char			 seller[MARKET_NAME_LEN];
	char			 buyer[MARKET_NAME_LEN];
	long long		 ref, qty, total, left;
	int			 rc;

	market_call_init(&c, ctx, host, market_conf_of(ctx, host));
	if (host->argc(ctx) < 2 || host->argc(ctx) > 3 ||
	    !market_ref_arg(&c, 0, &ref))
		return MB_USAGE;
	if ((rc = market_store_post_get(&c, ref, &p)) == -1)
		return MB_FAIL;
	if (rc == 0) {
		if ((rc = market_store_order_get(&c, ref, &o)) == -1)
			return MB_FAIL;
		return market_reply_ref(&c, rc ? "market-ref-order" :
		    "market-unknown-ref", ref);
	}
	if (strcmp(p.kind, "offer") != 0)
		return market_post_refuse(&c, &p);
	if (!host->arg_number(ctx, 1, 1, MARKET_QTY_MAX, &qty)) {
		market_arg(&a, "word", host->arg(ctx, 1));
		market_arg_num(&a, "max", MARKET_QTY_MAX);
		return market_reply(&c, "market-bad-qty", &a);
	}
	if (host->argc(ctx) == 3) {
		const char	*unit = host->unit(ctx, host->arg(ctx, 2));

		if (unit == NULL || strcmp(unit, p.unit) != 0) {
			market_arg(&a, "word", host->arg(ctx, 2));
			market_arg(&a, "commodity", p.commodity);
			market_arg(&a, "unit", p.unit);
			return market_reply(&c, "market-bad-unit", &a);
		}
	}
	if (strcmp(p.msisdn, c.actor) == 0)
		return market_reply_ref(&c, "market-own-offer", ref);
	/* withdrawn or expired: other offers, not this one */
	if ((strcmp(p.state, "open") != 0 && strcmp(p.state, "closed") != 0) ||
	    p.expires <= c.now)
		return market_post_refuse(&c, &p);
	if (market_money_mul(qty, p.price, &total) == -1 ||
	    total > MARKET_TOTAL_MAX) {
		market_arg_num(&a, "qty", qty);
		market_arg(&a, "unit", p.unit);
		market_arg_money(&a, "price", p.price);
		market_arg(&a, "currency", host->currency(ctx));
		return market_reply(&c, "market-bad-total", &a);
	}
	if (market_buy_ask(&c, &p, qty, total, &rc))
		return rc;
	/* the reservation: atomic, whatever else is ordered meanwhile */
	if ((rc = market_store_reserve(&c, ref, qty)) == -1)
		return MB_FAIL;
	if (rc == 0) {
		if (market_store_post_get(&c, ref, &p) != 1)
			return MB_FAIL;
		/* nothing left: other offers; some: how to take them */
		if (!market_offer_open(&c, &p))
			return market_post_refuse(&c, &p);
		market_arg_num(&a, "ref", ref);
		market_arg_num(&a, "left", p.qty_left);
		market_arg_num(&a, "qty", qty);
		market_arg(&a, "unit", p.unit);
		market_arg(&a, "commodity", p.commodity);
		return market_reply(&c, "market-not-enough", &a);
	}
	left = p.qty_left - qty;

	memset(&o, 0, sizeof(o));
	if (market_store_want_take(&c, c.actor, p.commodity, p.unit, qty,
	    &o.want, &o.want_qty) == -1)
		return MB_FAIL;
	if ((o.ref = host->ref_next(ctx, "order")) < 0) {
		host->log(ctx, MB_LOG_ERROR, "market: no reference number");
		return MB_FAIL;
	}
	o.offer = ref;
	market_copy(o.buyer, sizeof(o.buyer), c.actor);
	market_copy(o.seller, sizeof(o.seller), p.msisdn);
	o.qty = qty;
	o.price = p.price;
	o.total = total;
	market_copy(o.state, sizeof(o.state), "pending");
	o.created = o.updated = c.now;
	o.remind_at = c.now + c.conf->order_remind;
	o.expires_at = c.now + c.conf->order_expire;
	market_copy(o.commodity, sizeof(o.commodity), p.commodity);
	market_copy(o.unit, sizeof(o.unit), p.unit);
	market_copy(o.market, sizeof(o.market), p.market);
	if (market_store_order_insert(&c, &o) == -1)
		return MB_FAIL;
	host->log(ctx, MB_LOG_INFO, "market: order %lld: %lld of offer %lld "
	    "by %s", o.ref, qty, ref, o.buyer);

	/* the buyer's reply names the seller; the seller is told who
	   ordered */
	market_person(&c, o.seller, seller, sizeof(seller));
	market_person(&c, o.buyer, buyer, sizeof(buyer));
	market_order_args(&c, &o, &a);
	market_arg(&a, "name", seller);
	market_arg(&a, "phone", o.seller);
	if (market_reply(&c, "market-order-ok", &a) != MB_OK)
		return MB_FAIL;
	memset(&a, 0, sizeof(a));
	market_order_args(&c, &o, &a);
	market_arg_num(&a, "left", left);
	market_arg(&a, "name", buyer);
	market_arg(&a, "phone", o.buyer);
	return market_notify(&c, o.seller, "market-order-seller", &a);
}

/* --- ACCEPT, REJECT, SENT, DELIVERED, CANCEL ------------------------------------------ */

/*
 * The common start of a seller's answer: the order, the sender its
 * seller, the step allowed from its state.  1 with o filled, 0 refused
 * (replied), -1 failure.
 */
static int
market_seller_step(struct market_call *c, const char *to,
    struct market_order *o)
{
	long long	 ref;
	int		 rc;

	if (!market_ref_arg(c, 0, &ref))
		return 2;
	if ((rc = market_order_find(c, ref, o)) != 1)
		return rc;
	if (strcmp(o->seller, c->actor) != 0 && strcmp(o->buyer, c->actor) != 0)
		return market_reply_ref(c, "market-not-yours", ref) == MB_OK ?
		    0 : -1;
	/* the buyer, or the wrong state: who must act, and how */
	if (strcmp(o->seller, c->actor) != 0 || !market_order_can(o->state, to))
		return market_order_refuse(c, o) == MB_OK ? 0 : -1;
	return 1;
}

/* MB_* for a market_seller_step result other than 1. */
static int
market_step_result(int rc)
{
	return rc == 2 ? MB_USAGE : rc == 0 ? MB_OK : MB_FAIL;
}

static int
market_accept(struct mb_ctx *ctx, const struct mb_host *host)
{
	struct market_call	 c;
	struct market_order	 o;
	int			 rc;

	market_call_init(&c, ctx, host, market_conf_of(ctx, host));
	if (host->argc(ctx) != 1)
		return MB_USAGE;
	if ((rc = market_seller_step(&c, "accepted", &o)) != 1)
		return market_step_result(rc);
	return market_order_move(&c, &o, "accepted", NULL, NULL);
}

static int
market_reject(struct mb_ctx *ctx, const struct mb_host *host)
{
	struct market_call	 c;
	struct market_order	 o;
	char			 reason[MARKET_REASON_LEN + 1];
	int			 rc;

	market_call_init(&c, ctx, host, market_conf_of(ctx, host));
	if (host->argc(ctx) < 1)
		return MB_USAGE;
	if ((rc = market_seller_step(&c, "rejected", &o)) != 1)
		return market_step_result(rc);
	market_copy(reason, sizeof(reason), host->rest(ctx, 1));
	return market_order_move(&c, &o, "rejected", NULL, reason);
}

/* 1 if prefix list (';'-separated) has one that phone starts with. */
static int
market_prefix_match(const char *list, const char *phone)
{
	const char	*p = list, *e;
	size_t		 n;

	while (*p != '\0') {
		if ((e = strchr(p, ';')) == NULL)
			e = p + strlen(p);
		n = (size_t)(e - p);
		if (n > 1 && strncmp(phone, p, n) == 0)
			return 1;
		p = *e == ';' ? e + 1 : e;
	}
	return 0;
}

/*
 * A transporter SENT may name: a registered user, or a number of the
 * countries of transporter-prefixes (by default the home country; with
 * neither, registered users only).  Anything else would let a seller
 * have marketbox text any number in the world.
 */
static int
market_transporter_ok(struct market_call *c, const char *phone)
{
	const char	*home = NULL;

	if (c->host->user_name(c->ctx, phone) != NULL)
		return 1;
	if (c->conf->transporter_prefixes[0] != '\0')
		return market_prefix_match(c->conf->transporter_prefixes, phone);
	if (c->host->size >= offsetof(struct mb_host, country_code) +
	    sizeof(c->host->country_code) && c->host->country_code != NULL)
		home = c->host->country_code(c->ctx);
	return home != NULL && market_prefix_match(home, phone);
}

static int
market_sent(struct mb_ctx *ctx, const struct mb_host *host)
{
	struct market_call	 c;
	struct market_order	 o;
	struct market_args	 a = { .n = 0 };
	char			 phone[MARKET_MSISDN_LEN] = "";
	const char		*typed, *m;
	int			 rc;

	market_call_init(&c, ctx, host, market_conf_of(ctx, host));
	if (host->argc(ctx) < 1)
		return MB_USAGE;
	if ((rc = market_seller_step(&c, "sent", &o)) != 1)
		return market_step_result(rc);
	if (host->argc(ctx) > 1) {
		/* the number as typed: "0722 000 111" is one number */
		typed = host->rest(ctx, 1);
		if ((m = host->msisdn(ctx, typed)) == NULL) {
			market_arg(&a, "word", typed);
			return market_reply(&c, "market-bad-phone", &a);
		}
		market_copy(phone, sizeof(phone), m);
		/* the seller carrying it, or the buyer fetching it: nobody
		   else to tell */
		if (strcmp(phone, o.seller) == 0 ||
		    strcmp(phone, o.buyer) == 0)
			phone[0] = '\0';
		else if (!market_transporter_ok(&c, phone)) {
			market_arg(&a, "phone", phone);
			market_arg_num(&a, "ref", o.ref);
			return market_reply(&c, "market-transporter-refused",
			    &a);
		}
	}
	return market_order_move(&c, &o, "sent", phone, NULL);
}

/*
 * DELIVERED order [code]: the buyer confirms with or without the code;
 * the order's transporter only with the right code.  Wrong codes are
 * counted (and kept: the count commits with the refusal); at code-tries
 * the code is locked and the buyer is told.
 */
static int
market_delivered(struct mb_ctx *ctx, const struct mb_host *host)
{
	struct market_call	 c;
	struct market_order	 o;
	struct market_args	 a = { .n = 0 };
	const char		*code;
	long long		 ref;
	size_t			 codek;
	int			 rc, tries;

	market_call_init(&c, ctx, host, market_conf_of(ctx, host));
	/* "DELIVERED 43 code 4831": the word naming the code goes */
	codek = host->argc(ctx) == 3 && !market_is_number(host->arg(ctx, 1)) &&
	    market_is_number(host->arg(ctx, 2)) ? 2 : 1;
	if (host->argc(ctx) < 1 || host->argc(ctx) > codek + 1 ||
	    !market_ref_arg(&c, 0, &ref))
		return MB_USAGE;
	if ((rc = market_order_find(&c, ref, &o)) != 1)
		return rc == 0 ? MB_OK : MB_FAIL;
	if (strcmp(o.buyer, c.actor) != 0 && strcmp(o.seller, c.actor) != 0 &&
	    (o.transporter[0] == '\0' || strcmp(o.transporter, c.actor) != 0))
		return market_reply_ref(&c, "market-not-yours", ref);
	/* the seller, or the wrong state: who must act, and how */
	if (strcmp(o.seller, c.actor) == 0 ||
	    !market_order_can(o.state, "delivered"))
		return market_order_refuse(&c, &o);
	if (strcmp(o.buyer, c.actor) == 0)
		return market_order_move(&c, &o, "delivered", NULL, NULL);

	/* the transporter */
	if (o.code_tries >= c.conf->code_tries)
		return market_reply_ref(&c, "market-code-locked", ref);
	if ((code = host->arg(ctx, codek)) == NULL)
		return market_reply_ref(&c, "market-code-needed", ref);
	if (strcmp(code, o.code) == 0)
		return market_order_move(&c, &o, "delivered", NULL, NULL);
	if (market_store_order_code_try(&c, ref, &tries) == -1)
		return MB_FAIL;
	host->log(ctx, MB_LOG_WARNING, "market: order %lld: wrong code %d "
	    "of %d from %s", ref, tries, c.conf->code_tries, c.actor);
	market_arg_num(&a, "ref", ref);
	if (tries >= c.conf->code_tries) {
		if (market_reply(&c, "market-code-locked", &a) != MB_OK)
			return MB_FAIL;
		return market_notify(&c, o.buyer, "market-code-locked-buyer",
		    &a);
	}
	market_arg_num(&a, "left", c.conf->code_tries - tries);
	return market_reply(&c, "market-wrong-code", &a);
}

/*
 * CANCEL ref: an own open offer or want (orders placed on an offer stand:
 * the seller still answers them); or an order not yet sent, by its buyer
 * or seller.
 */
static int
market_cancel(struct mb_ctx *ctx, const struct mb_host *host)
{
	struct market_call	 c;
	struct market_post	 p;
	struct market_order	 o;
	long long		 ref;
	int			 rc;

	market_call_init(&c, ctx, host, market_conf_of(ctx, host));
	if (host->argc(ctx) != 1 || !market_ref_arg(&c, 0, &ref))
		return MB_USAGE;
	if ((rc = market_store_post_get(&c, ref, &p)) == -1)
		return MB_FAIL;
	if (rc == 1) {
		if (strcmp(p.msisdn, c.actor) != 0)
			return market_reply_ref(&c, "market-not-yours", ref);
		if ((rc = market_store_post_end(&c, ref, "cancelled")) == -1)
			return MB_FAIL;
		if (rc == 0)
			return market_reply_ref(&c, strcmp(p.state,
			    "expired") == 0 ? "market-post-expired" :
			    "market-post-cancelled", ref);
		host->log(ctx, MB_LOG_INFO, "market: %s %lld cancelled",
		    p.kind, ref);
		return market_reply_ref(&c, strcmp(p.kind, "offer") == 0 ?
		    "market-cancelled-offer" : "market-cancelled-want", ref);
	}
	if ((rc = market_store_order_get(&c, ref, &o)) == -1)
		return MB_FAIL;
	if (rc == 0)
		return market_reply_ref(&c, "market-unknown-ref", ref);
	if (strcmp(o.buyer, c.actor) != 0 && strcmp(o.seller, c.actor) != 0)
		return market_reply_ref(&c, "market-not-yours", ref);
	if (!market_order_can(o.state, "cancelled"))
		return market_order_refuse(&c, &o);
	return market_order_move(&c, &o, "cancelled", NULL, NULL);
}

/* --- MY -------------------------------------------------------------------------------------------
 *
 * MY [page]: the sender's open offers, then open wants, then orders not
 * final (as buyer or seller), newest first, as items of the language
 * files (market-item-*, an order's state from market-state-*) joined by
 * market-list-sep, in pages of one SMS each.  A page holds as many items
 * as fit with its words (market-my-page) and says how many come after it
 * and the command for the next page ("... 5 more: send MY 2").  Pages are
 * counted from the first each time, so MY 2 shows what MY left out.
 */

/* Every item of the sender's MY, into l: MB_OK or MB_FAIL. */
static int
market_my_items(struct market_call *c, struct market_items *l)
{
	struct market_post	*posts = NULL;
	struct market_order	*orders = NULL;
	struct market_args	 a;
	const char		*state;
	size_t			 np, tp, no, to, i;
	int			 kind, rc = MB_FAIL;

	posts = calloc(MARKET_MY_MAX, sizeof(*posts));
	orders = calloc(MARKET_MY_MAX, sizeof(*orders));
	if (posts == NULL || orders == NULL) {
		c->host->log(c->ctx, MB_LOG_ERROR, "market: out of memory");
		goto out;
	}
	if (market_store_my_posts(c, c->actor, posts, MARKET_MY_MAX, &np,
	    &tp) == -1 ||
	    market_store_my_orders(c, c->actor, orders, MARKET_MY_MAX, &no,
	    &to) == -1)
		goto out;
	/* offers, then wants */
	for (kind = 0; kind < 2; kind++)
		for (i = 0; i < np; i++) {
			const struct market_post *p = &posts[i];

			if ((strcmp(p->kind, "offer") == 0) != (kind == 0))
				continue;
			memset(&a, 0, sizeof(a));
			market_arg_num(&a, "ref", p->ref);
			market_arg_num(&a, "qty", p->qty_left);
			market_arg_num(&a, "posted", p->qty);
			market_arg(&a, "unit", p->unit);
			market_arg(&a, "commodity", p->commodity);
			market_arg_money(&a, "price", p->price);
			if (market_items_add(c, l, NULL, kind == 0 ?
			    "market-item-offer" : "market-item-want", &a) !=
			    MB_OK)
				goto out;
		}
	for (i = 0; i < no; i++) {
		const struct market_order *o = &orders[i];
		char	 tmpl[32];

		memset(&a, 0, sizeof(a));
		market_arg_num(&a, "ref", o->ref);
		snprintf(tmpl, sizeof(tmpl), "market-state-%s", o->state);
		if ((state = market_render(c, NULL, tmpl, &a)) == NULL)
			goto out;
		market_arg_num(&a, "offer", o->offer);
		market_arg_num(&a, "qty", o->qty);
		market_arg(&a, "unit", o->unit);
		market_arg(&a, "commodity", o->commodity);
		market_arg_money(&a, "total", o->total);
		market_arg(&a, "state", state);
		if (market_items_add(c, l, NULL, strcmp(o->buyer, c->actor) ==
		    0 ? "market-item-order-buy" : "market-item-order-sell",
		    &a) != MB_OK)
			goto out;
	}
	rc = MB_OK;
out:
	free(posts);
	free(orders);
	return rc;
}

static int
market_my(struct mb_ctx *ctx, const struct mb_host *host)
{
	struct market_call	 c;
	struct market_items	 list = { NULL, 0, 0 };
	struct market_args	 a;
	char			 sep[16], *joined = NULL;
	long long		 page = 1, p;
	size_t			 first = 0;
	long			 fit = 0;
	int			 rc = MB_FAIL;

	market_call_init(&c, ctx, host, market_conf_of(ctx, host));
	if (host->argc(ctx) > 1 || (host->argc(ctx) == 1 &&
	    !host->arg_number(ctx, 0, 1, 1000, &page)))
		return MB_USAGE;
	if (market_my_items(&c, &list) != MB_OK)
		goto out;
	if (list.n == 0) {
		rc = market_reply(&c, "market-my-empty", NULL);
		goto out;
	}
	market_copy(sep, sizeof(sep), market_render(&c, NULL,
	    "market-list-sep", NULL));
	memset(&a, 0, sizeof(a));
	/* the pages before this one, counted as MY shows them */
	for (p = 1; ; p++) {
		memset(&a, 0, sizeof(a));
		market_arg_num(&a, "next", p + 1);
		if ((fit = market_items_fit(&c, &list, first, sep,
		    "market-my-page", "items", &a)) == -1)
			goto out;
		if (p == page)
			break;
		first += (size_t)fit;
		if (first >= list.n) {
			memset(&a, 0, sizeof(a));
			market_arg_num(&a, "page", page);
			market_arg_num(&a, "pages", p);
			rc = market_reply(&c, "market-my-no-page", &a);
			goto out;
		}
	}
	if ((joined = market_items_join(&list, first, first + (size_t)fit,
	    sep)) == NULL)
		goto out;
	market_arg(&a, "items", joined);
	market_arg_num(&a, "more", (long long)(list.n - first - (size_t)fit));
	rc = market_reply(&c, "market-my-page", &a);
out:
	free(joined);
	market_items_free(&list);
	return rc;
}

/* --- the timer ------------------------------------------------------------------------------------- */

/* An open post past its lifetime: expired, the owner told. */
static int
market_sweep_post(struct market_call *c, long long ref)
{
	struct market_post	 p;
	struct market_args	 a = { .n = 0 };
	int			 rc;

	if ((rc = market_store_post_get(c, ref, &p)) != 1)
		return rc == 0 ? MB_OK : MB_FAIL;
	if ((rc = market_store_post_end(c, ref, "expired")) != 1)
		return rc == 0 ? MB_OK : MB_FAIL;
	market_arg_num(&a, "ref", p.ref);
	market_arg_num(&a, "qty", p.qty_left);
	market_arg(&a, "unit", p.unit);
	market_arg(&a, "commodity", p.commodity);
	return market_notify(c, p.msisdn, strcmp(p.kind, "offer") == 0 ?
	    "market-expired-offer" : "market-expired-want", &a);
}

/* A due order: expire it, or send its one reminder. */
static int
market_sweep_order(struct market_call *c, enum market_due due, long long ref)
{
	struct market_order	 o;
	struct market_args	 a = { .n = 0 };
	char			 name[MARKET_NAME_LEN];
	int			 rc;

	if ((rc = market_store_order_get(c, ref, &o)) != 1)
		return rc == 0 ? MB_OK : MB_FAIL;
	if (due == MARKET_DUE_EXPIRE)
		return market_order_move(c, &o, "expired", NULL, NULL);
	market_order_args(c, &o, &a);
	if (due == MARKET_DUE_REMIND) {
		market_person(c, o.buyer, name, sizeof(name));
		market_arg(&a, "name", name);
		market_arg(&a, "phone", o.buyer);
		rc = market_notify(c, o.seller, "market-reminder-seller", &a);
	} else {
		market_person(c, o.seller, name, sizeof(name));
		market_arg(&a, "name", name);
		market_arg(&a, "phone", o.seller);
		rc = market_notify(c, o.buyer, "market-reminder-buyer", &a);
	}
	if (rc != MB_OK || market_store_order_reminded(c, ref) == -1)
		return MB_FAIL;
	return MB_OK;
}

/*
 * The sweep: what is due now, oldest first, at most MARKET_SWEEP_MAX rows
 * a run (the rest the next run, at once rather than after the interval).
 * Expiry comes before reminders, so an order both unreminded and expired
 * just expires.
 */
static int
market_sweep_run(struct mb_plugin_ctx *pctx, const struct mb_host *host)
{
	static const enum market_due	 order[] = {
		MARKET_DUE_POSTS, MARKET_DUE_EXPIRE, MARKET_DUE_REMIND,
		MARKET_DUE_DELIVERY
	};
	struct market_state	*st = host->state(pctx);
	struct market_call	 c;
	struct mb_ctx		*ctx = host->timer_ctx(pctx);
	long long		 refs[MARKET_SWEEP_MAX];
	size_t			 budget = MARKET_SWEEP_MAX, n, i, j;

	if (st == NULL || ctx == NULL)
		return MB_FAIL;
	market_call_init(&c, ctx, host, &st->conf);
	c.actor[0] = '\0';
	/* A next sweep further away than one interval means the wall clock
	   went back: sweep now rather than wait for it to catch up (days
	   without reminders or expiries). */
	if (c.now < st->next_sweep &&
	    st->next_sweep - c.now <= st->conf.sweep_interval)
		return MB_OK;
	for (j = 0; j < sizeof(order) / sizeof(order[0]) && budget > 0;
	    j++) {
		if (market_store_due(&c, order[j], refs, budget, &n) == -1)
			return MB_FAIL;
		for (i = 0; i < n; i++) {
			int	 rc = order[j] == MARKET_DUE_POSTS ?
				    market_sweep_post(&c, refs[i]) :
				    market_sweep_order(&c, order[j], refs[i]);

			if (rc != MB_OK)
				return MB_FAIL;
		}
		budget -= n;
	}
	if (budget > 0)
		st->next_sweep = c.now + st->conf.sweep_interval;
	else
		host->log(ctx, MB_LOG_INFO, "market: sweep: %d rows done, "
		    "more next run", MARKET_SWEEP_MAX);
	return MB_OK;
}

/* --- init, fini ---------------------------------------------------------------------------------------- */

/* A duration key: *out set (default def), -1 when malformed or out of
   [min, max] seconds. */
static int
market_conf_duration(struct mb_plugin_ctx *pctx, const struct mb_host *host,
    const char *key, long long min, long long max, long long *out)
{
	const char	*v = host->conf(pctx, key);

	if (v == NULL)
		return 0;
	if (market_duration_parse(v, out) == -1 || *out < min || *out > max) {
		host->log(NULL, MB_LOG_ERROR, "market: %s = %s: not a duration "
		    "between %llds and %lldd (e.g. 7d, 2h, 30m, 60s)", key, v,
		    min, max / 86400);
		return -1;
	}
	return 0;
}

/*
 * transporter-prefixes: ';'-separated "+<1 to 6 digits>", copied to out.
 * 0, or -1 (logged).
 */
static int
market_conf_prefixes(const struct mb_host *host, const char *value,
    char *out, size_t len)
{
	const char	*p = value, *e;
	size_t		 n;

	if (strlen(value) >= len) {
		host->log(NULL, MB_LOG_ERROR, "market: transporter-prefixes "
		    "is too long (at most %zu characters)", len - 1);
		return -1;
	}
	while (*p != '\0') {
		if ((e = strchr(p, ';')) == NULL)
			e = p + strlen(p);
		n = (size_t)(e - p);
		if (n < 2 || n > 7 || p[0] != '+' ||
		    strspn(p + 1, "0123456789") < n - 1) {
			host->log(NULL, MB_LOG_ERROR, "market: "
			    "transporter-prefixes = %s: each one a '+' and "
			    "1 to 6 digits, like +254;+256", value);
			return -1;
		}
		p = *e == ';' ? e + 1 : e;
	}
	memcpy(out, value, strlen(value) + 1);
	return 0;
}

static int
market_conf_int(struct mb_plugin_ctx *pctx, const struct mb_host *host,
    const char *key, int min, int max, int *out)
{
	const char	*v = host->conf(pctx, key);
	char		*end;
	long		 n;

	if (v == NULL)
		return 0;
	n = strtol(v, &end, 10);
	if (end == v || *end != '\0' || n < min || n > max) {
		host->log(NULL, MB_LOG_ERROR, "market: %s = %s: not a number "
		    "from %d to %d", key, v, min, max);
		return -1;
	}
	*out = (int)n;
	return 0;
}

static int
market_init(struct mb_plugin_ctx *pctx, const struct mb_host *host)
{
	struct market_state	*st;
	struct market_conf	*cf;
	const char		*scope, *prefixes;
	long long		 year = 366LL * 86400;
	int			 bad = 0;

	/* lists and notices that must fit are rendered first */
	if (host->size < offsetof(struct mb_host, market_suggest) +
	    sizeof(host->market_suggest) || host->render == NULL) {
		host->log(NULL, MB_LOG_ERROR, "market: this marketbox cannot "
		    "render templates or measure SMS for the plugin: too old");
		return MB_FAIL;
	}
	/* every statement goes through the store functions of ABI 2 */
	if (!MARKET_HOST_HAS(host, engine) || host->query == NULL) {
		host->log(NULL, MB_LOG_ERROR, "market: this marketbox has no "
		    "store functions for the plugin: too old");
		return MB_FAIL;
	}
	if ((st = calloc(1, sizeof(*st))) == NULL)
		return MB_FAIL;
	cf = &st->conf;
	*cf = market_defaults;
	bad |= market_conf_duration(pctx, host, "offer-lifetime", 60, year,
	    &cf->offer_lifetime);
	bad |= market_conf_duration(pctx, host, "order-remind", 60, year,
	    &cf->order_remind);
	bad |= market_conf_duration(pctx, host, "order-expire", 60, year,
	    &cf->order_expire);
	bad |= market_conf_duration(pctx, host, "delivery-remind", 60, year,
	    &cf->delivery_remind);
	bad |= market_conf_duration(pctx, host, "sweep-interval", 1, 86400,
	    &cf->sweep_interval);
	bad |= market_conf_int(pctx, host, "max-matches", 0, 10,
	    &cf->max_matches);
	bad |= market_conf_int(pctx, host, "code-tries", 1, 10,
	    &cf->code_tries);
	bad |= market_conf_int(pctx, host, "confirm-ratio", 0, 1000,
	    &cf->confirm_ratio);
	bad |= market_conf_int(pctx, host, "confirm-posts", 1, 1000,
	    &cf->confirm_posts);
	bad |= market_conf_duration(pctx, host, "confirm-window", 3600, year,
	    &cf->confirm_window);
	if (cf->confirm_ratio == 1) {
		host->log(NULL, MB_LOG_ERROR, "market: confirm-ratio = 1 would "
		    "ask about every price: use 2 or more, or 0 for never");
		bad = 1;
	}
	if ((prefixes = host->conf(pctx, "transporter-prefixes")) != NULL &&
	    market_conf_prefixes(host, prefixes, cf->transporter_prefixes,
	    sizeof(cf->transporter_prefixes)) == -1)
		bad = 1;
	if ((scope = host->conf(pctx, "match-scope")) != NULL) {
		if (strcmp(scope, "market") == 0)
			cf->scope = MARKET_SCOPE_MARKET;
		else if (strcmp(scope, "region") == 0)
			cf->scope = MARKET_SCOPE_REGION;
		else if (strcmp(scope, "all") == 0)
			cf->scope = MARKET_SCOPE_ALL;
		else {
			host->log(NULL, MB_LOG_ERROR, "market: match-scope = "
			    "%s: not market, region or all", scope);
			bad = 1;
		}
	}
	if (!bad && cf->order_remind >= cf->order_expire) {
		host->log(NULL, MB_LOG_ERROR, "market: order-remind must be "
		    "shorter than order-expire, or no reminder would go out");
		bad = 1;
	}
	if (bad) {
		free(st);
		return MB_FAIL;
	}
	host->set_state(pctx, st);
	return MB_OK;
}

static void
market_fini(struct mb_plugin_ctx *pctx, const struct mb_host *host)
{
	free(host->state(pctx));
	host->set_state(pctx, NULL);
}

/* --- the descriptor --------------------------------------------------------------------------------------- */

static const struct mb_command market_commands[] = {
	{ .id = "SELL", .handler = market_sell, .usage = "usage-SELL",
	    .flags = MB_CMD_REGISTERED },
	{ .id = "WANT", .handler = market_want, .usage = "usage-WANT",
	    .flags = MB_CMD_REGISTERED },
	{ .id = "BUY", .handler = market_buy, .usage = "usage-BUY",
	    .flags = MB_CMD_REGISTERED },
	{ .id = "ACCEPT", .handler = market_accept, .usage = "usage-ACCEPT",
	    .flags = MB_CMD_REGISTERED },
	{ .id = "REJECT", .handler = market_reject, .usage = "usage-REJECT",
	    .flags = MB_CMD_REGISTERED },
	{ .id = "SENT", .handler = market_sent, .usage = "usage-SENT",
	    .flags = MB_CMD_REGISTERED },
	/* a transporter may have no registration: checked in the handler */
	{ .id = "DELIVERED", .handler = market_delivered,
	    .usage = "usage-DELIVERED", .flags = 0 },
	{ .id = "CANCEL", .handler = market_cancel, .usage = "usage-CANCEL",
	    .flags = MB_CMD_REGISTERED },
	{ .id = "MY", .handler = market_my, .usage = "usage-MY",
	    .flags = MB_CMD_REGISTERED },
};

static const struct mb_timer market_timers[] = {
	{ .name = "market-sweep", .interval = MARKET_TICK,
	    .run = market_sweep_run },
};

static const char * const market_conf_keys[] = {
	"offer-lifetime", "order-remind", "order-expire", "delivery-remind",
	"sweep-interval", "match-scope", "max-matches", "code-tries",
	"confirm-ratio", "confirm-posts", "confirm-window",
	"transporter-prefixes",
};

const struct mb_plugin marketbox_plugin = {
	MB_PLUGIN_HEADER,
	.name = "market",
	.version = "1.0",
	.commands = market_commands,
	.ncommands = sizeof(market_commands) / sizeof(market_commands[0]),
	.migrations = market_migrations,
	.nmigrations = MARKET_NMIGRATIONS,
	.timers = market_timers,
	.ntimers = sizeof(market_timers) / sizeof(market_timers[0]),
	.conf_keys = market_conf_keys,
	.nconf_keys = sizeof(market_conf_keys) / sizeof(market_conf_keys[0]),
	.init = market_init,
	.fini = market_fini,
};
