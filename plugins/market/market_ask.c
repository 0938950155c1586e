/*
 * market_ask.c - the questions asked before a post or an order is done.
 *
 * Questions: a SELL, WANT or BUY whose price is confirm-ratio times
 * above or below the usual one, or whose price reads two ways, asks the
 * sender (host->ask) and is done when they answer YES; see "questions"
 * below.
 *
 * The commands call market_post_ask (market_post.c) and market_buy_ask
 * (market_order.c) once their words are read and before anything is
 * written; the usual price comes from the store (market_store_usual).
 */
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <marketbox/plugin.h>

#include "market.h"

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
int
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
int
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
