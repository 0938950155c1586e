/*
 * prices_season.c - the prices plugin's seasonal reminders: before a
 * planting season of the catalogue starts (host->season), the subscribers
 * of its inputs in its region are told once per reminder what there is
 * to buy them with: the cheapest open offer there and the open buying
 * pool that closes first.  Run by the plugin's timer after the bulletin,
 * with a budget of its own; who was told is kept in prices_season_sent
 * (prices_store.c), written with the notice, so a restart repeats and
 * skips nobody.
 */
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <marketbox/plugin.h>

#include "prices.h"

/*
 * The next start of season s at or after now (local midnight of its
 * month and day, utc-offset), as Unix seconds, with the year of it.
 */
static long long
prices_season_start(const struct prices_conf *c, const struct mb_season *s,
    long long now, long long *year)
{
	long long	 local = now + c->utc_offset, day, start;

	day = local >= 0 ? local / 86400 : -((-local + 86399) / 86400);
	*year = prices_text_civil_year(day);
	start = prices_text_civil_days(*year, s->start_month, s->start_day) *
	    86400 - c->utc_offset;
	if (start <= now) {
		(*year)++;
		start = prices_text_civil_days(*year, s->start_month,
		    s->start_day) * 86400 - c->utc_offset;
	}
	return start;
}

/*
 * One subscriber's reminder: the time to the start in their words, the
 * input, and what there is to buy it with in the region.  MB_OK or
 * MB_FAIL.
 */
static int
prices_season_send(struct mb_ctx *ctx, const struct mb_host *host,
    struct prices_state *ps, const char *to, const char *commodity,
    long long left, const struct prices_season_deal *d)
{
	struct prices_args	 args = { .n = 0 }, w = { .n = 0 };
	char			 n[24], price[24], ref[24], pool[24], dtmpl[24];
	const char		*when, *day = NULL, *unit, *tmpl;
	long long		 days = (left + 86399) / 86400, local, wd;

	if (days % 7 == 0) {
		snprintf(n, sizeof(n), "%lld", days / 7);
		prices_arg(&w, "n", n);
		when = prices_render(ctx, host, to, "prices-season-in-weeks",
		    &w);
	} else {
		snprintf(n, sizeof(n), "%lld", days);
		prices_arg(&w, "n", n);
		when = prices_render(ctx, host, to, "prices-season-in-days",
		    &w);
	}
	if (d->pool_ref != 0) {
		local = d->pool_deadline + ps->conf.utc_offset;
		wd = ((local >= 0 ? local / 86400 :
		    -((-local + 86399) / 86400)) % 7 + 11) % 7;	/* 1970-01-01
								   a Thursday */
		snprintf(dtmpl, sizeof(dtmpl), "prices-day-%lld", wd);
		day = prices_render(ctx, host, to, dtmpl, &args);
		if (day == NULL)
			return MB_FAIL;
	}
	if (when == NULL)
		return MB_FAIL;
	if ((unit = host->commodity_unit(ctx, commodity)) == NULL)
		unit = "";
	prices_arg(&args, "when", when);
	prices_arg(&args, "commodity", commodity);
	prices_arg(&args, "unit", unit);
	prices_arg(&args, "currency", host->currency(ctx));
	if (d->offer_ref != 0) {
		prices_text_money(d->offer_price, price, sizeof(price));
		snprintf(ref, sizeof(ref), "%lld", d->offer_ref);
		prices_arg(&args, "market", prices_market_name(ctx, host,
		    d->offer_market));
		prices_arg(&args, "price", price);
		prices_arg(&args, "ref", ref);
	}
	if (d->pool_ref != 0) {
		snprintf(pool, sizeof(pool), "%lld", d->pool_ref);
		prices_arg(&args, "pool", pool);
		prices_arg(&args, "day", day);
	}
	tmpl = d->offer_ref != 0 ? (d->pool_ref != 0 ?
	    "prices-season-offer-pool" : "prices-season-offer") :
	    d->pool_ref != 0 ? "prices-season-pool" : "prices-season";
	return prices_send(ctx, host, to, tmpl, &args);
}

/*
 * Season s's due reminder (the nearest to the start whose time has come)
 * to every subscriber of its inputs at a market of its region, each once:
 * the first of the season's inputs they subscribe to names the message.
 * At most *budget notices; 1 when the round is complete, 0 when budget or
 * time ran out, -1 on a store failure.
 */
static int
prices_season_round(struct mb_ctx *ctx, const struct mb_host *host,
    struct prices_state *ps, const struct mb_season *s, long long start,
    long long year, long long remind, long long now, size_t *budget,
    const struct timespec *started)
{
	char				 markets[PRICES_SEASON_MARKETS]
					    [PRICES_CODE_MAX];
	char				 subs[16][32];
	struct prices_season_deal	 d;
	size_t				 i, k, j, nm, ns, rounds;
	size_t				 batch = (size_t)ps->conf.batch;
	int				 out;

	for (i = 0; i < s->ninputs && i < MB_SEASON_INPUTS; i++) {
		/* the region's markets first, then the offer, the pool and
		   the subscribers of those markets only: the region is
		   chosen in SQL, never by filtering a first page of rows */
		if (prices_store_region_markets(ctx, host, ps, s->inputs[i],
		    s->region, now, markets, PRICES_SEASON_MARKETS,
		    &nm) == -1 ||
		    prices_store_season_offer(ctx, host, ps, s->inputs[i],
		    (const char (*)[PRICES_CODE_MAX])markets, nm, now,
		    &d) == -1 ||
		    prices_store_season_pool(ctx, host, ps, s->inputs[i],
		    (const char (*)[PRICES_CODE_MAX])markets, nm, now,
		    &d) == -1)
			return -1;
		for (k = 0; k < nm; k++) {
			/* pages of 16 until none is left; bounded by the
			   budget, each page taking at least one */
			for (rounds = 0, ns = 1; ns > 0 && rounds <= *budget;
			    rounds++) {
				/* a run that has taken its time ends after
				   its first notice: the rest is the next
				   run's */
				if (*budget == 0 || (*budget < batch &&
				    prices_run_over(started)))
					return 0;
				if (prices_store_season_subs(ctx, host, s->code,
				    year, remind, s->inputs[i], markets[k], subs,
				    *budget < 16 ? *budget : 16, &ns) == -1)
					return -1;
				for (j = 0; j < ns; j++) {
					if ((out = host->user_opt_out(ctx,
					    subs[j])) == -1)
						return -1;
					if (!out && prices_season_send(ctx, host,
					    ps, subs[j], s->inputs[i],
					    start - now, &d) != MB_OK)
						return -1;
					if (prices_store_season_told(ctx, host,
					    s->code, year, remind, subs[j],
					    s->inputs[i], !out, now) == -1)
						return -1;
					(*budget)--;
				}
			}
			if (ns > 0)
				return 0;	/* some may be left */
		}
	}
	return 1;
}

/*
 * The seasons of the catalogue (host->season, a newer host's): for each
 * with a reminder due, its round, batch notices a run at most.  A round
 * found complete is looked at again after PRICES_SEASON_RESCAN (people
 * who subscribe later get it too).  0 or -1.
 */
int
prices_seasons(struct mb_ctx *ctx, const struct mb_host *host,
    struct prices_state *ps, long long now, const struct timespec *started)
{
	struct mb_season	 s;
	long long		 start, year, remind;
	size_t			 i, k, budget = (size_t)ps->conf.batch;
	int			 rc;

	if (!PRICES_HOST_HAS(host, season))
		return 0;	/* an older marketbox: no seasons */
	for (i = 0; i < PRICES_SEASONS_MAX; i++) {
		memset(&s, 0, sizeof(s));
		s.size = sizeof(s);
		if (host->season(ctx, i, &s) == -1)
			break;
		if (s.size < sizeof(s) || s.code == NULL || s.region == NULL)
			continue;
		start = prices_season_start(&ps->conf, &s, now, &year);
		remind = 0;
		for (k = 0; k < s.nremind && k < MB_SEASON_REMINDS; k++)
			if (now >= start - s.remind[k] && (remind == 0 ||
			    s.remind[k] < remind))
				remind = s.remind[k];
		if (remind == 0)
			continue;
		if (ps->season_start[i] == start &&
		    ps->season_remind[i] == remind &&
		    now - ps->season_done[i] < PRICES_SEASON_RESCAN)
			continue;
		if ((rc = prices_season_round(ctx, host, ps, &s, start, year,
		    remind, now, &budget, started)) == -1)
			return -1;
		if (rc == 1) {
			ps->season_start[i] = start;
			ps->season_remind[i] = remind;
			ps->season_done[i] = now;
		}
		if (rc == 0)
			break;
	}
	return 0;
}
