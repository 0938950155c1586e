/*
 * market_delivery.c - an accepted order on its way: SENT names who carries
 * it (the transporter, checked against transporter-prefixes), DELIVERED
 * confirms it, by the buyer or by the transporter with the buyer's
 * delivery code, whose wrong tries are counted and lock the code.
 *
 * Commands, with an exchange each ("> " what a phone sends, "< " what it
 * gets; replies are templates market-* of the sender's language):
 *
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
 *	With cash-at-delivery = yes, an order whose money is unpaid or part
 *	paid has the rest recorded as cash the seller took (market_pay.c),
 *	in the same step, and both texts say so:
 *	< Order #43 delivered. 6,000 KES paid in cash to the seller is
 *	  recorded. Thank you!
 *
 * A sent order nobody confirms does not stay sent: after delivery-remind
 * the buyer is asked whether it arrived (DELIVERED, or PROBLEM and what
 * is wrong), and after delivery-complete (from SENT) market.c's sweep
 * moves it to delivered itself, reason "auto", counted as a DELIVERED
 * (both parties' trades, the host's trade_done) and both told; an open
 * dispute on it holds that until it is closed.  SENT sets those due
 * times, as ACCEPT sets an accepted order's (market_order_move).
 *
 * An order whose route goes through hubs (a transporter named, the
 * host's route() from the seller's place to the buyer's has hubs) is
 * sent leg by leg: market_leg.c makes its legs (IN, OUT, PICKUP there);
 * its last leg still ends with DELIVERED and the buyer's code, which
 * closes it (done, ended) in the same step.  While the parcel is between
 * hubs (a leg to a hub not received) DELIVERED is refused, to the buyer
 * as to a carrier (no wrong try counted), with where it is and what
 * comes next (market-leg-not-arrived-moving, -at).
 *
 * The steps themselves (the state written, the code drawn, the notices to
 * the buyer, the seller and the transporter) are market_order_move's
 * (market_order.c).
 */
#include <stddef.h>
#include <string.h>

#include <marketbox/plugin.h>

#include "market.h"

/* --- SENT, DELIVERED ------------------------------------------------------------------------- */

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
 * 1 if typed is a local number ("0722 000 111": a leading 0, not the 00
 * of an international prefix) and the host has no country code to make
 * it international: the host refuses it (as the daemon refuses to store
 * "+0722000111"), and the reply must say to send it with its country
 * code rather than show a local number as the example.
 */
int
market_phone_local(struct market_call *c, const char *typed)
{
	const char	*p = typed;

	if (c->host->size >= offsetof(struct mb_host, country_code) +
	    sizeof(c->host->country_code) && c->host->country_code != NULL &&
	    c->host->country_code(c->ctx) != NULL)
		return 0;
	while (*p == ' ')
		p++;
	if (p[0] != '0' || p[1] == '0')
		return 0;
	for (; *p != '\0'; p++)
		if (!(*p >= '0' && *p <= '9') && *p != ' ' && *p != '-')
			return 0;
	return 1;
}

/*
 * A transporter SENT may name: a registered user, or a number of the
 * countries of transporter-prefixes (by default the home country; with
 * neither, registered users only).  Anything else would let a seller
 * have marketbox text any number in the world.
 */
int
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

int
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
			return market_reply(&c, market_phone_local(&c, typed) ?
			    "market-phone-local" : "market-bad-phone", &a);
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
	/* through hubs, leg by leg, when there are (market_leg.c) */
	if (market_leg_sent(&c, &o, phone, &rc))
		return rc;
	return market_order_move(&c, &o, "sent", phone, NULL);
}

/* Order o delivered: its last leg, if it went through hubs, closed with
   it (done, ended now: market_leg.c). */
static int
market_delivered_move(struct market_call *c, struct market_order *o)
{
	if (market_leg_delivered(c, o, 0, 1) != 0)
		return MB_FAIL;
	/* this order's cash, with cash-at-delivery (market_pay.c) */
	c->cash_ref = o->ref;
	return market_order_move(c, o, "delivered", NULL, NULL);
}

/*
 * DELIVERED order [code]: the buyer confirms with or without the code;
 * the order's transporter only with the right code.  Wrong codes are
 * counted (and kept: the count commits with the refusal); at code-tries
 * the code is locked and the buyer is told.
 */
int
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
	/* through hubs: not before its last hub has it (where it is and
	   the next step); the last leg ends with the order */
	if ((rc = market_leg_delivered(&c, &o, 1, 0)) != 0)
		return rc == 1 ? MB_OK : MB_FAIL;
	if (strcmp(o.buyer, c.actor) == 0)
		return market_delivered_move(&c, &o);

	/* the transporter */
	if (o.code_tries >= c.conf->code_tries)
		return market_reply_ref(&c, "market-code-locked", ref);
	if ((code = host->arg(ctx, codek)) == NULL)
		return market_reply_ref(&c, "market-code-needed", ref);
	if (strcmp(code, o.code) == 0)
		return market_delivered_move(&c, &o);
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
