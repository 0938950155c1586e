/*
 * prices.c - the prices plugin of marketbox: the prices farmers report,
 * the price board they ask for, and the alerts and daily bulletins they
 * subscribe to.  What farmers ask for most, in one SMS.
 *
 *	REPORT commodity price [market]
 *	PRICE commodity [market]
 *	ALERT commodity [market] [>price | <price]
 *	ALERT OFF [commodity]
 *
 * REPORT (registered users): a price seen at a market (the reporter's own
 * by default), per the commodity's default unit.  An agent's report
 * (MB_ROLE_AGENT) is marked and counts agent-weight times in the median.
 * When the window already has 5 or more published reports for that
 * commodity and market, a price outside [median / outlier-ratio, median
 * x outlier-ratio] is stored as 'held' (not published; an admin approves
 * it, and it counts at once, or rejects it, and it is kept as 'rejected':
 * marketctl reports, /status, src/admin/reports.c) and the reporter is
 * told so.  The reply thanks and
 * gives the median with the new report.
 *
 * PRICE (anyone, registered or not): the board for the market named, or
 * the asker's market, or all markets for someone without one:
 *
 *	Maize, bag, Nakuru, last 7 days: middle price 3,050 KES, lowest
 *	2,900, highest 3,200, 8 reports, newest 1 hour ago. For sale: #41
 *	3,000 (10 bags)
 *
 * the weighted median, low, high and count of the window's published
 * reports, how old the newest is, the change of the median against the
 * window before (in percent, rounded half away from zero, in integers),
 * and the cheapest open offers of the market plugin in the same market or
 * region, when its table exists, with what each has left; a listed sell
 * pool among them (market_pools, issue 17) says so and how many farmers
 * are in it, else, when that does not fit, shows as the plain offer it
 * also is.  Each offer carries its seller's record (issue 18: "#41 3,000
 * (10 bags, 12 trades, 1 failed, 4.5*)", prices-rep), counted by the
 * market plugin's own SQL (plugins/market/market_rep_sql.h) in the
 * statement that reads the offers.  The board is
 * the fullest that fits one SMS, measured on the text rendered in the
 * reader's language: the trend goes first, then the records from the
 * last offer up, then a pool's words, then offers from the end, until it
 * fits.  With no reports the open offers still show.  A market
 * word that names no market gets the markets with data in the asker's
 * region (or anywhere); a market with no data gets the markets that have
 * some, most reports first.
 *
 * ALERT (registered users): without a price, a daily bulletin (the board)
 * at bulletin-hour local time (utc-offset); with >price or <price, one
 * message when the median of that market crosses the price, and again
 * only after it has crossed back.  Thresholds need a market.  STOP (the
 * host's user_opt_out) silences both.  At most PRICES_ALERTS_MAX
 * subscriptions a sender; the same commodity, market and kind again
 * replaces the old one.  ALERT OFF ends all, ALERT OFF maize one.
 *
 * The sender is an identity, not always a phone: a service point's agent
 * acting FOR a member reports and subscribes as her, and a member without
 * a phone is "m:M17".  The plugin stores it and addresses notices to it
 * as it is; the host sends them where that person is reached.
 *
 * The timer (every PRICES_TIMER_INTERVAL seconds, its own transaction)
 * does at most `batch` subscriptions a run: first threshold crossings of
 * the pairs that had reports since its last run (prices_dirty), then the
 * day's bulletin from its cursor (prices_bulletin), so a bulletin to 100k
 * subscribers is queued 500 at a time without holding the event loop, and
 * the outbox sends it at the link's throughput.  A restart continues from
 * the last committed batch.
 *
 * Seasonal reminders (prices_seasons, in the same timer, with a budget
 * of its own of batch notices a run): for each planting season of the
 * catalogue (host->season, of a host that has it) whose reminder time
 * has come (start - remind, the nearest to the start when several have),
 * every subscriber of one of its inputs at a market of its region (the
 * alert's market, or for an alert of all markets her own) is told once,
 * naming the first of its inputs she follows, the cheapest open offer of
 * it in the region (market_posts) and the open buying pool there that
 * closes first (market_pools, kind want), with its weekday.  Who was told
 * is written with the notice (prices_season_sent), so a restart repeats
 * and skips nobody; a round found complete is looked at again after
 * PRICES_SEASON_RESCAN, for those who subscribe later.
 *
 * Conf (group = plugin-prices): window (7d), agent-weight (2),
 * outlier-ratio (3), bulletin-hour (7), utc-offset (0), batch (500),
 * bulletin-now (no: yes makes today's bulletin due at once, whatever
 * the hour, for tests and for an operator who wants it out now).
 *
 * Every user-visible text is a template of the language files (the
 * "# --- prices plugin ---" blocks); the plugin passes values only:
 * catalogue codes as {commodity} and {unit} (each reader sees the
 * catalogue's word in their language), market names, plain numbers
 * ("3050", "2.50") for {x, number}, and phrases it renders with
 * host->render() from the same files: durations ("last 7 days", "1 hour
 * ago"), the trend, the offers ("#41 3,000 (10 bags)").  The daily
 * bulletin is the board inside prices-bulletin, which says what it is
 * and how to stop it.
 */
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <marketbox/plugin.h>

#include "prices.h"


#define PRICES_WORDS_MAX	128	/* bytes of words joined */
#define PRICES_WORD_SHOWN	24	/* bytes of an unknown word replied */
#define PRICES_DIRTY_RUN	16	/* pairs looked at per timer run */
#define PRICES_CACHE_SLOTS	4096	/* bulletin boards kept, a power of 2 */
#define PRICES_CACHE_TTL	900	/* seconds a bulletin board is reused */
#define PRICES_LIST_MAX		512	/* bytes of the offers shown, joined */


void
prices_arg(struct prices_args *args, const char *name, const char *value)
{
	if (args->n < PRICES_ARGS_MAX) {
		args->a[args->n].name = name;
		args->a[args->n].value = value != NULL ? value : "";
		args->n++;
	}
}

/* A reply (to NULL) or a notice (to msisdn): MB_OK or MB_FAIL. */
int
prices_send(struct mb_ctx *ctx, const struct mb_host *host, const char *to,
    const char *tmpl, const struct prices_args *args)
{
	int	 rc;

	if (to == NULL)
		rc = host->reply(ctx, tmpl, args->a, args->n);
	else
		rc = host->notify(ctx, to, tmpl, args->a, args->n);
	return rc == 0 ? MB_OK : MB_FAIL;
}

/* tmpl rendered for to (NULL: the sender) without sending it, or NULL */
const char *
prices_render(struct mb_ctx *ctx, const struct mb_host *host, const char *to,
    const char *tmpl, const struct prices_args *args)
{
	return host->render(ctx, to, tmpl, args->a, args->n);
}

/*
 * A duration in to's words, from the templates prices-KIND-days, -hours
 * or -minutes with {n}: KIND "last" for a window ("last 7 days"), "before"
 * for the window before it ("the 7 days before"), exact; "ago" for an age
 * ("1 hour ago"), rounded down.  NULL if it cannot be rendered.
 */
static const char *
prices_span(struct mb_ctx *ctx, const struct mb_host *host, const char *to,
    const char *kind, long long seconds, int exact)
{
	struct prices_args	 args = { .n = 0 };
	char			 tmpl[32], n[24];
	long long		 count;
	char			 unit = prices_text_span(seconds, exact, &count);

	snprintf(tmpl, sizeof(tmpl), "prices-%s-%s", kind, unit == 'd' ?
	    "days" : unit == 'h' ? "hours" : "minutes");
	snprintf(n, sizeof(n), "%lld", count);
	prices_arg(&args, "n", n);
	return prices_render(ctx, host, to, tmpl, &args);
}

/* --- conf -------------------------------------------------------------- */

static const char * const prices_conf_keys[] = {
	"window", "agent-weight", "outlier-ratio", "bulletin-hour",
	"utc-offset", "batch", "bulletin-now",
};

static int
prices_conf_bad(const struct mb_host *host, const char *key, const char *v,
    const char *want)
{
	host->log(NULL, MB_LOG_ERROR, "prices: group plugin-prices: %s = '%s'"
	    " is not %s", key, v, want);
	return -1;
}

/* A whole number in [min, max], or def when the key is absent. */
static int
prices_conf_int(struct mb_plugin_ctx *pctx, const struct mb_host *host,
    const char *key, int def, int min, int max, int *out)
{
	const char	*v = host->conf(pctx, key);
	long long	 n = 0;
	size_t		 i;

	if (v == NULL) {
		*out = def;
		return 0;
	}
	for (i = 0; v[i] >= '0' && v[i] <= '9' && i < 9; i++)
		n = n * 10 + (v[i] - '0');
	if (i == 0 || v[i] != '\0' || n < min || n > max) {
		char	 want[64];

		snprintf(want, sizeof(want), "a whole number from %d to %d",
		    min, max);
		return prices_conf_bad(host, key, v, want);
	}
	*out = (int)n;
	return 0;
}

static int
prices_conf_read(struct mb_plugin_ctx *pctx, const struct mb_host *host,
    struct prices_conf *c)
{
	const char	*v;
	long long	 ratio;

	c->window = 7 * 86400;
	if ((v = host->conf(pctx, "window")) != NULL &&
	    (c->window = prices_text_duration_parse(v)) < 60)
		return prices_conf_bad(host, "window", v,
		    "a duration from 1m to 366d (7d, 24h, 90m)");
	if (prices_conf_int(pctx, host, "agent-weight", 2, 1, 10,
	    &c->agent_weight) == -1 ||
	    prices_conf_int(pctx, host, "bulletin-hour", 7, 0, 23,
	    &c->bulletin_hour) == -1 ||
	    prices_conf_int(pctx, host, "batch", 500, 1, 10000,
	    &c->batch) == -1)
		return -1;
	c->ratio100 = 300;
	if ((v = host->conf(pctx, "outlier-ratio")) != NULL) {
		/* a price parser reads "2.5" as 250 hundredths */
		if (prices_text_money_parse(v, &ratio) == -1 || ratio <= 100 ||
		    ratio > 10000)
			return prices_conf_bad(host, "outlier-ratio", v,
			    "a ratio above 1 and up to 100 (3, 2.5)");
		c->ratio100 = ratio;
	}
	c->utc_offset = 0;
	if ((v = host->conf(pctx, "utc-offset")) != NULL &&
	    prices_text_offset_parse(v, &c->utc_offset) == -1)
		return prices_conf_bad(host, "utc-offset", v,
		    "an offset from -12 to +14 hours (+3, -5, +5:30)");
	c->bulletin_now = 0;
	if ((v = host->conf(pctx, "bulletin-now")) != NULL) {
		if (strcmp(v, "yes") == 0 || strcmp(v, "true") == 0 ||
		    strcmp(v, "1") == 0)
			c->bulletin_now = 1;
		else if (strcmp(v, "no") != 0 && strcmp(v, "false") != 0 &&
		    strcmp(v, "0") != 0)
			return prices_conf_bad(host, "bulletin-now", v,
			    "yes or no");
	}
	return 0;
}

static int
prices_init_cb(struct mb_plugin_ctx *pctx, const struct mb_host *host)
{
	struct prices_state	*ps;

	/* render() (for the board's words) is the last function it calls */
	if (!PRICES_HOST_HAS(host, render) || !PRICES_HOST_HAS(host, sms_parts)) {
		host->log(NULL, MB_LOG_ERROR, "prices: this marketbox has no "
		    "render(): the plugin needs a newer one");
		return MB_FAIL;
	}
	/* the store of ABI 2; engine() is the last of its functions */
	if (!PRICES_HOST_HAS(host, query) || !PRICES_HOST_HAS(host, engine)) {
		host->log(NULL, MB_LOG_ERROR, "prices: this marketbox has no "
		    "store functions (ABI 2): the plugin needs a newer one");
		return MB_FAIL;
	}
	if ((ps = calloc(1, sizeof(*ps))) == NULL) {
		host->log(NULL, MB_LOG_ERROR, "prices: out of memory");
		return MB_FAIL;
	}
	if (prices_conf_read(pctx, host, &ps->conf) == -1) {
		free(ps);
		return MB_FAIL;
	}
	host->set_state(pctx, ps);
	return MB_OK;
}

static void
prices_fini_cb(struct mb_plugin_ctx *pctx, const struct mb_host *host)
{
	struct prices_state	*ps = host->state(pctx);

	if (ps != NULL)
		free(ps->boards);
	free(ps);
	host->set_state(pctx, NULL);
}

/* --- words -------------------------------------------------------------- */

/* Words [from, to) joined by single spaces into buf: 0, or -1 if none or
   too long. */
static int
prices_words(struct mb_ctx *ctx, const struct mb_host *host, size_t from,
    size_t to, char *buf, size_t len)
{
	const char	*w;
	size_t		 i, used = 0, wl;

	if (from >= to)
		return -1;
	buf[0] = '\0';
	for (i = from; i < to; i++) {
		if ((w = host->arg(ctx, i)) == NULL)
			return -1;
		wl = strlen(w);
		if (used + (i > from) + wl + 1 > len)
			return -1;
		if (i > from)
			buf[used++] = ' ';
		memcpy(buf + used, w, wl + 1);
		used += wl;
	}
	return 0;
}

/*
 * The commodity the first words name: the longest run of up to three
 * (and up to limit) words that is a commodity ("irish potato").  1 with
 * its code copied and *used set, 0 if none.
 */
static int
prices_commodity(struct mb_ctx *ctx, const struct mb_host *host,
    size_t limit, char *code, size_t *used)
{
	char		 words[PRICES_WORDS_MAX];
	const char	*c;
	size_t		 k;

	for (k = limit < 3 ? limit : 3; k > 0; k--) {
		if (prices_words(ctx, host, 0, k, words, sizeof(words)) == -1)
			continue;
		if ((c = host->commodity(ctx, words)) != NULL &&
		    strlen(c) < PRICES_CODE_MAX) {
			snprintf(code, PRICES_CODE_MAX, "%s", c);
			*used = k;
			return 1;
		}
	}
	return 0;
}

/*
 * Words [from, to) as a market: 1 with its code copied; 0 when they name
 * none, with the words in word for the reply, cut at PRICES_WORD_SHOWN
 * bytes (on a character boundary) so that the reply stays one SMS.
 */
static int
prices_market(struct mb_ctx *ctx, const struct mb_host *host, size_t from,
    size_t to, char *code, char *word, size_t wlen)
{
	char		 words[PRICES_WORDS_MAX];
	const char	*c = NULL, *shown;
	size_t		 k;

	if (prices_words(ctx, host, from, to, words, sizeof(words)) == 0)
		c = host->market(ctx, words);
	else
		snprintf(words, sizeof(words), "%s", host->arg(ctx, from) ?
		    host->arg(ctx, from) : "");
	if (c != NULL && strlen(c) < PRICES_CODE_MAX) {
		snprintf(code, PRICES_CODE_MAX, "%s", c);
		return 1;
	}
	shown = words;
	snprintf(word, wlen, "%s", shown);
	if ((k = strlen(word)) > PRICES_WORD_SHOWN) {
		k = PRICES_WORD_SHOWN;
		while (k > 0 && ((unsigned char)word[k] & 0xc0) == 0x80)
			k--;
		word[k] = '\0';
	}
	return 0;
}

/* The sender's home market, copied (""  when none). */
static void
prices_home(struct mb_ctx *ctx, const struct mb_host *host, char *code)
{
	const char	*m = host->sender_market(ctx);

	snprintf(code, PRICES_CODE_MAX, "%s", m != NULL &&
	    strlen(m) < PRICES_CODE_MAX ? m : "");
}

const char *
prices_market_name(struct mb_ctx *ctx, const struct mb_host *host,
    const char *code)
{
	const char	*name = host->market_name(ctx, code);

	return name != NULL ? name : code;
}

/* Market names "Nakuru, Eldoret" of n codes. */
static void
prices_market_list(struct mb_ctx *ctx, const struct mb_host *host,
    char codes[][PRICES_CODE_MAX], size_t n, char *buf, size_t len)
{
	size_t	 i, used = 0;
	int	 k;

	buf[0] = '\0';
	for (i = 0; i < n && used < len; i++) {
		k = snprintf(buf + used, len - used, "%s%s", i > 0 ? ", " : "",
		    prices_market_name(ctx, host, codes[i]));
		if (k < 0 || (size_t)k >= len - used) {
			buf[used] = '\0';
			break;
		}
		used += (size_t)k;
	}
}

/* A word that is no commodity: a suggestion if one is close. */
static int
prices_reply_commodity_unknown(struct mb_ctx *ctx, const struct mb_host *host,
    const char *word)
{
	struct prices_args	 args = { .n = 0 };
	const char		*s = host->commodity_suggest(ctx, word);

	prices_arg(&args, "word", word);
	if (s == NULL)
		return prices_send(ctx, host, NULL, "prices-commodity-unknown",
		    &args);
	prices_arg(&args, "commodity", s);
	return prices_send(ctx, host, NULL, "prices-commodity-suggest", &args);
}

/*
 * Words that are no market: the markets with data for the commodity in
 * the sender's region ("near you"), else anywhere (most reports first),
 * else that no market has any.
 */
static int
prices_reply_market_unknown(struct mb_ctx *ctx, const struct mb_host *host,
    const struct prices_state *ps, const char *commodity, const char *word)
{
	struct prices_args	 args = { .n = 0 };
	char			 home[PRICES_CODE_MAX];
	char			 codes[PRICES_MARKETS][PRICES_CODE_MAX];
	char			 list[256];
	const char		*region = NULL;
	long long		 now = host->now(ctx);
	size_t			 n = 0;

	prices_home(ctx, host, home);
	if (home[0] != '\0')
		region = host->market_region(ctx, home);
	prices_arg(&args, "word", word);
	prices_arg(&args, "commodity", commodity);
	if (region != NULL) {
		if (prices_store_markets(ctx, host, commodity,
		    now - ps->conf.window, now, region, codes, PRICES_MARKETS,
		    &n) == -1)
			return MB_FAIL;
		if (n > 0) {
			prices_market_list(ctx, host, codes, n, list,
			    sizeof(list));
			prices_arg(&args, "markets", list);
			return prices_send(ctx, host, NULL,
			    "prices-market-near", &args);
		}
	}
	if (prices_store_markets(ctx, host, commodity, now - ps->conf.window,
	    now, NULL, codes, PRICES_MARKETS, &n) == -1)
		return MB_FAIL;
	if (n > 0) {
		prices_market_list(ctx, host, codes, n, list, sizeof(list));
		prices_arg(&args, "markets", list);
		return prices_send(ctx, host, NULL, "prices-market-list",
		    &args);
	}
	return prices_send(ctx, host, NULL, "prices-market-unknown", &args);
}

/* --- the board ---------------------------------------------------------- */

/*
 * Everything the board of commodity at market ("" all markets) shows at
 * now: this window and the one before, the best open offers, and, with no
 * data, the markets that have some.  0 or -1.
 */
static int
prices_board_compute(struct mb_ctx *ctx, const struct mb_host *host,
    struct prices_state *ps, const char *commodity, const char *market,
    long long now, struct prices_board *b)
{
	const char	*m = market[0] != '\0' ? market : NULL;
	long long	 w = ps->conf.window;

	memset(b, 0, sizeof(*b));
	snprintf(b->commodity, sizeof(b->commodity), "%s", commodity);
	snprintf(b->market, sizeof(b->market), "%s", market);
	b->now = now;
	if (prices_store_stats(ctx, host, commodity, m, now - w, now,
	    ps->conf.agent_weight, &b->cur) == -1)
		return -1;
	if (b->cur.n == 0) {
		if (m != NULL && prices_store_markets(ctx, host, commodity,
		    now - w, now, NULL, b->markets, PRICES_MARKETS,
		    &b->nmarkets) == -1)
			return -1;
	} else if (prices_store_stats(ctx, host, commodity, m, now - 2 * w,
	    now - w, ps->conf.agent_weight, &b->prev) == -1)
		return -1;
	/* the offers show with or without prices: a buyer wants them most */
	return prices_store_offers(ctx, host, ps, commodity, m, b);
}

/* The board's template: prices or none, one market or all, offers or not. */
static const char *
prices_board_tmpl(const struct prices_board *b, int offers)
{
	int	 all = b->market[0] == '\0';

	if (b->cur.n > 0) {
		if (all)
			return offers ? "prices-board-all-offers" :
			    "prices-board-all";
		return offers ? "prices-board-offers" : "prices-board";
	}
	if (offers)
		return all ? "prices-nodata-all-offers" : "prices-nodata-offers";
	if (all)
		return "prices-nodata-all";
	return b->nmarkets > 0 ? "prices-nodata" : "prices-nodata-none";
}

/*
 * The trend of board b in to's words: prices-trend-up, -down or -same with
 * {pct} (whole percent, no sign) and {before} ("the 7 days before");
 * "" when there were no reports in the window before.  NULL if it cannot
 * be rendered.
 */
static const char *
prices_board_trend(struct mb_ctx *ctx, const struct mb_host *host,
    const struct prices_state *ps, const struct prices_board *b,
    const char *to)
{
	struct prices_args	 args = { .n = 0 };
	const char		*before;
	char			 pct[24];
	long long		 t;

	if (b->prev.n == 0 || b->cur.n == 0)
		return "";
	if ((before = prices_span(ctx, host, to, "before", ps->conf.window,
	    1)) == NULL)
		return NULL;
	t = prices_text_trend(b->prev.median, b->cur.median);
	snprintf(pct, sizeof(pct), "%lld", t < 0 ? -t : t);
	prices_arg(&args, "pct", pct);
	prices_arg(&args, "before", before);
	return prices_render(ctx, host, to, t > 0 ? "prices-trend-up" : t < 0 ?
	    "prices-trend-down" : "prices-trend-same", &args);
}

/*
 * Offer i of b in to's words, into item: the first from prices-offer, the
 * others from prices-offer-more (which begins with the language's
 * separator), each with {ref}, {price}, {qty} and {unit}; a listed sell
 * pool, when pool, from prices-offer-pool and prices-offer-pool-more,
 * with {farmers} too; and, when rep and the seller's record is known,
 * each template's "-rep" variant with {record} (prices-rep: her trades,
 * what failed by her, her stars).  0, or -1 if it cannot be rendered.
 */
static int
prices_board_item(struct mb_ctx *ctx, const struct mb_host *host,
    const struct prices_board *b, size_t i, const char *unit, const char *to,
    int pool, int rep, char *item, size_t len)
{
	const struct prices_rep	*r = &b->offer_rep[i];
	struct prices_args	 args = { .n = 0 }, ra = { .n = 0 };
	const char		*text, *record;
	char			 ref[24], price[24], qty[24], farmers[24];
	char			 trades[24], failed[24], rated[24], stars[24];
	char			 tmpl[48];
	long long		 tenths;

	snprintf(ref, sizeof(ref), "%lld", b->offer_ref[i]);
	prices_text_money(b->offer_price[i], price, sizeof(price));
	snprintf(qty, sizeof(qty), "%lld", b->offer_qty[i]);
	snprintf(farmers, sizeof(farmers), "%lld", b->offer_farmers[i]);
	prices_arg(&args, "ref", ref);
	prices_arg(&args, "price", price);
	prices_arg(&args, "qty", qty);
	prices_arg(&args, "unit", unit);
	/* a listed sell pool says so, and how many farmers are in it: many
	   small lots sold as one */
	pool = pool && b->offer_farmers[i] > 0;
	if (pool)
		prices_arg(&args, "farmers", farmers);
	snprintf(tmpl, sizeof(tmpl), "prices-offer%s%s%s", pool ? "-pool" : "",
	    i > 0 ? "-more" : "", rep && r->known ? "-rep" : "");
	if (rep && r->known) {
		/* the average of her stars to one decimal, rounded, as
		   INFO shows it: "4.5", or "4" */
		stars[0] = '\0';
		if (r->rated > 0) {
			tenths = (r->stars * 10 + r->rated / 2) / r->rated;
			if (tenths % 10 == 0)
				snprintf(stars, sizeof(stars), "%lld",
				    tenths / 10);
			else
				snprintf(stars, sizeof(stars), "%lld.%lld",
				    tenths / 10, tenths % 10);
		}
		snprintf(trades, sizeof(trades), "%lld", r->trades);
		snprintf(failed, sizeof(failed), "%lld", r->failed);
		snprintf(rated, sizeof(rated), "%lld", r->rated);
		prices_arg(&ra, "trades", trades);
		prices_arg(&ra, "failed", failed);
		prices_arg(&ra, "rated", rated);
		prices_arg(&ra, "stars", stars);
		if ((record = prices_render(ctx, host, to, "prices-rep",
		    &ra)) == NULL)
			return -1;
		prices_arg(&args, "record", record);
	}
	if ((text = prices_render(ctx, host, to, tmpl, &args)) == NULL)
		return -1;
	snprintf(item, len, "%s", text);
	return 0;
}

#define PRICES_ITEM_MAX		(PRICES_LIST_MAX / 2)

/* The offers of a board in every form: [offer][pool][rep]. */
struct prices_items {
	char	 text[PRICES_OFFERS][2][2][PRICES_ITEM_MAX];
};

/*
 * The first k items of it as one list into list: the pool's form when
 * pool, the record on the first nrep.  0, or -1 when it is too long.
 */
static int
prices_board_list(const struct prices_items *it, int k, int pool, int nrep,
    char *list, size_t len)
{
	size_t	 used = 0, n;
	int	 i;

	list[0] = '\0';
	for (i = 0; i < k; i++) {
		n = strlen(it->text[i][pool][i < nrep]);
		if (used + n >= len)
			return -1;
		memcpy(list + used, it->text[i][pool][i < nrep], n + 1);
		used += n;
	}
	return 0;
}

/*
 * Send board b as a reply (to NULL) or a notice to msisdn to, inside the
 * template wrap when not NULL (wrap's {board} is the board's text: the
 * bulletin).  The board is the fullest that fits one SMS in the reader's
 * language, measured on its rendered text: all the offers, each with its
 * seller's record, and the trend; then the trend goes, then the records
 * from the last offer up, then a pool is said as the plain offer it also
 * is, then offers are dropped from the end, down to the board alone.
 * When even that needs more than one SMS (a long market name, a script
 * that needs UCS-2), it is sent as it is.  MB_OK or MB_FAIL.
 */
static int
prices_board_send(struct mb_ctx *ctx, const struct mb_host *host,
    const struct prices_state *ps, const struct prices_board *b,
    const char *to, const char *wrap)
{
	struct prices_args	 base = { .n = 0 }, args, boxed = { .n = 0 };
	struct prices_items	 items;
	char			 median[24], low[24], high[24], n[24];
	char			 list[PRICES_LIST_MAX];
	char			 markets[256];
	const char		*unit, *window, *age, *trend = "", *tmpl;
	const char		*text = NULL;
	int			 k, t, p, r, pool = 0;
	size_t			 i;

	if ((unit = host->commodity_unit(ctx, b->commodity)) == NULL)
		unit = "";
	if ((window = prices_span(ctx, host, to, "last", ps->conf.window,
	    1)) == NULL)
		return MB_FAIL;
	prices_arg(&base, "commodity", b->commodity);
	prices_arg(&base, "unit", unit);
	if (b->market[0] != '\0')
		prices_arg(&base, "market", prices_market_name(ctx, host,
		    b->market));
	prices_arg(&base, "window", window);
	prices_arg(&base, "currency", host->currency(ctx));
	if (b->cur.n > 0) {
		prices_text_money(b->cur.median, median, sizeof(median));
		prices_text_money(b->cur.low, low, sizeof(low));
		prices_text_money(b->cur.high, high, sizeof(high));
		snprintf(n, sizeof(n), "%lld", b->cur.n);
		if ((age = prices_span(ctx, host, to, "ago",
		    b->now - b->cur.newest, 0)) == NULL ||
		    (trend = prices_board_trend(ctx, host, ps, b, to)) == NULL)
			return MB_FAIL;
		prices_arg(&base, "median", median);
		prices_arg(&base, "low", low);
		prices_arg(&base, "high", high);
		prices_arg(&base, "n", n);
		prices_arg(&base, "age", age);
	} else if (b->nmarkets > 0) {
		prices_market_list(ctx, host,
		    (char (*)[PRICES_CODE_MAX])b->markets, b->nmarkets,
		    markets, sizeof(markets));
		prices_arg(&base, "markets", markets);
	}
	for (i = 0; i < b->noffers; i++) {
		pool |= b->offer_farmers[i] > 0;
		for (p = 0; p < 2; p++)
			for (r = 0; r < 2; r++)
				if (prices_board_item(ctx, host, b, i, unit,
				    to, p, r, items.text[i][p][r],
				    sizeof(items.text[i][p][r])) == -1)
					return MB_FAIL;
	}

	/*
	 * The fullest that fits: k offers, a pool said as a pool (p 1)
	 * before as the plain offer it also is (p 0), the records on the
	 * first r of them (a record not known is none: no r for it), with
	 * the trend t, then without.
	 */
	tmpl = prices_board_tmpl(b, 0);
	args = base;
	for (k = (int)b->noffers; k >= 0; k--)
		for (p = 1; p >= 0; p--)
			for (r = k; r >= 0; r--)
				for (t = trend[0] != '\0'; t >= 0; t--) {
					if ((p == 0 && (!pool || k == 0)) ||
					    (r > 0 &&
					    !b->offer_rep[r - 1].known))
						continue;
					if (prices_board_list(&items, k, p, r,
					    list, sizeof(list)) == -1)
						continue;
					args = base;
					if (b->cur.n > 0)
						prices_arg(&args, "trend", t ?
						    trend : "");
					if (k > 0)
						prices_arg(&args, "offers",
						    list);
					tmpl = prices_board_tmpl(b, k > 0);
					if ((text = prices_render(ctx, host,
					    to, tmpl, &args)) == NULL)
						return MB_FAIL;
					boxed.n = 0;
					prices_arg(&boxed, "board", text);
					if (wrap != NULL && (text =
					    prices_render(ctx, host, to, wrap,
					    &boxed)) == NULL)
						return MB_FAIL;
					if (host->sms_parts(ctx, text) == 1)
						goto send;
				}
	/* nothing fits: the last, the board alone */
send:
	if (wrap != NULL)
		return prices_send(ctx, host, to, wrap, &boxed);
	return prices_send(ctx, host, to, tmpl, &args);
}

/* --- PRICE -------------------------------------------------------------- */

static int
prices_price_cb(struct mb_ctx *ctx, const struct mb_host *host)
{
	struct prices_state	*ps = host->plugin_state(ctx);
	struct prices_board	 b;
	char			 commodity[PRICES_CODE_MAX];
	char			 market[PRICES_CODE_MAX];
	char			 word[PRICES_WORDS_MAX];
	size_t			 argc = host->argc(ctx), used;

	if (ps == NULL || argc == 0)
		return MB_USAGE;
	if (!prices_commodity(ctx, host, argc, commodity, &used))
		return prices_reply_commodity_unknown(ctx, host,
		    host->arg(ctx, 0));
	if (used < argc) {
		if (!prices_market(ctx, host, used, argc, market, word,
		    sizeof(word)))
			return prices_reply_market_unknown(ctx, host, ps,
			    commodity, word);
	} else
		prices_home(ctx, host, market);
	if (prices_board_compute(ctx, host, ps, commodity, market,
	    host->now(ctx), &b) == -1)
		return MB_FAIL;
	return prices_board_send(ctx, host, ps, &b, NULL, NULL);
}

/* --- REPORT ------------------------------------------------------------- */

/* Outside [median / ratio, median x ratio]?  (ratio in hundredths) */
static int
prices_outlier(long long price, long long median, long long ratio100)
{
	return price * ratio100 < median * 100 ||
	    price * 100 > median * ratio100;
}

/* 1 if s is exactly n digits. */
static int
prices_is_digits(const char *s, size_t n)
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
 * The price at word p typed in groups of three digits separated by
 * spaces ("6 000"): when word p is 1 to 3 digits not starting with 0,
 * the words of exactly 3 digits after it are its groups (where a price is
 * expected, a market is no number), and *cents becomes the whole price
 * unless it would be too large.  Returns the index of the price's last
 * word.
 */
static size_t
prices_price_groups(struct mb_ctx *ctx, const struct mb_host *host, size_t p,
    long long *cents)
{
	const char	*w = host->arg(ctx, p), *g;
	size_t		 argc = host->argc(ctx), n = strlen(w), last = p;
	long long	 v, nv;

	if (n < 1 || n > 3 || w[0] == '0' || !prices_is_digits(w, n))
		return p;
	v = strtoll(w, NULL, 10);
	while (last + 1 < argc &&
	    prices_is_digits(g = host->arg(ctx, last + 1), 3)) {
		/* v <= 10^9 here: no overflow */
		if ((nv = v * 1000 + strtoll(g, NULL, 10)) >
		    PRICES_MONEY_MAX / 100)
			break;
		v = nv;
		last++;
	}
	if (last > p)
		*cents = v * 100;
	return last;
}

static int
prices_report_cb(struct mb_ctx *ctx, const struct mb_host *host)
{
	struct prices_state	*ps = host->plugin_state(ctx);
	struct prices_stats	 s;
	struct prices_args	 args = { .n = 0 };
	char			 words[PRICES_WORDS_MAX];
	char			 word[PRICES_WORDS_MAX];
	char			 commodity[PRICES_CODE_MAX];
	char			 market[PRICES_CODE_MAX];
	char			 price[24], median[24], n[24];
	const char		*c, *unit, *window;
	size_t			 argc = host->argc(ctx), p, last;
	long long		 cents = 0, now;
	int			 held, agent;

	if (ps == NULL || argc < 2)
		return MB_USAGE;
	/* commodity words, the price, market words */
	for (p = 1; p < argc; p++)
		if (prices_text_money_parse(host->arg(ctx, p), &cents) == 0)
			break;
	if (p == argc || prices_words(ctx, host, 0, p, words,
	    sizeof(words)) == -1)
		return MB_USAGE;
	last = prices_price_groups(ctx, host, p, &cents);
	if ((c = host->commodity(ctx, words)) == NULL ||
	    strlen(c) >= PRICES_CODE_MAX)
		return prices_reply_commodity_unknown(ctx, host, words);
	snprintf(commodity, sizeof(commodity), "%s", c);
	prices_text_money(cents, price, sizeof(price));
	if (last + 1 < argc) {
		if (!prices_market(ctx, host, last + 1, argc, market, word,
		    sizeof(word)))
			return prices_reply_market_unknown(ctx, host, ps,
			    commodity, word);
	} else {
		prices_home(ctx, host, market);
		if (market[0] == '\0') {
			prices_arg(&args, "commodity", commodity);
			prices_arg(&args, "price", price);
			return prices_send(ctx, host, NULL,
			    "prices-report-market", &args);
		}
	}

	now = host->now(ctx);
	if (prices_store_stats(ctx, host, commodity, market,
	    now - ps->conf.window, now, ps->conf.agent_weight, &s) == -1)
		return MB_FAIL;
	held = s.n >= 5 && prices_outlier(cents, s.median, ps->conf.ratio100);
	agent = (host->sender_roles(ctx) & MB_ROLE_AGENT) != 0;
	if (prices_store_report(ctx, host, commodity, market, cents,
	    host->sender(ctx), agent, held ? "held" : "ok", now) == -1)
		return MB_FAIL;
	if (!held) {
		if (prices_store_dirty(ctx, host, commodity, market) == -1 ||
		    prices_store_stats(ctx, host, commodity, market,
		    now - ps->conf.window, now, ps->conf.agent_weight,
		    &s) == -1)
			return MB_FAIL;
	}
	host->log(ctx, MB_LOG_DEBUG, "prices: %s reports %s %s at %s%s%s",
	    host->sender(ctx), commodity, price, market,
	    agent ? " (agent)" : "", held ? ": held" : "");

	if ((unit = host->commodity_unit(ctx, commodity)) == NULL)
		unit = "";
	if ((window = prices_span(ctx, host, NULL, "last", ps->conf.window,
	    1)) == NULL)
		return MB_FAIL;
	prices_text_money(s.median, median, sizeof(median));
	snprintf(n, sizeof(n), "%lld", s.n);
	prices_arg(&args, "commodity", commodity);
	prices_arg(&args, "unit", unit);
	prices_arg(&args, "market", prices_market_name(ctx, host, market));
	prices_arg(&args, "price", price);
	prices_arg(&args, "median", median);
	prices_arg(&args, "n", n);
	prices_arg(&args, "window", window);
	prices_arg(&args, "currency", host->currency(ctx));
	return prices_send(ctx, host, NULL, held ? "prices-report-held" :
	    "prices-report-ok", &args);
}

/* --- ALERT -------------------------------------------------------------- */

/* Does the median meet a threshold subscription's condition? */
static int
prices_condition(char op, long long median, long long threshold)
{
	return op == '>' ? median > threshold : median < threshold;
}

/* ALERT OFF: every subscription of the sender, or those of commodity. */
static int
prices_alert_off(struct mb_ctx *ctx, const struct mb_host *host,
    const char *commodity)
{
	struct prices_args	 args = { .n = 0 };
	char			 n[24];
	int			 gone;

	if ((gone = prices_store_alert_off(ctx, host, host->sender(ctx),
	    commodity)) == -1)
		return MB_FAIL;
	snprintf(n, sizeof(n), "%d", gone);
	prices_arg(&args, "n", n);
	return prices_send(ctx, host, NULL, gone > 0 ? "prices-alert-off" :
	    "prices-alert-off-none", &args);
}

static int
prices_alert_cb(struct mb_ctx *ctx, const struct mb_host *host)
{
	struct prices_state	*ps = host->plugin_state(ctx);
	struct prices_stats	 s;
	struct prices_args	 args = { .n = 0 };
	char			 commodity[PRICES_CODE_MAX];
	char			 market[PRICES_CODE_MAX];
	char			 word[PRICES_WORDS_MAX];
	char			 price[24], hour[16], max[8];
	const char		*w, *tw, *unit, *tmpl;
	size_t			 argc = host->argc(ctx), used, mend, t;
	long long		 threshold = 0, now;
	char			 op = 0;
	int			 fired = 0, rc, out;

	if (ps == NULL || argc == 0)
		return MB_USAGE;
	if (strcmp(host->arg(ctx, 0), "off") == 0) {
		/* ALERT OFF [commodity] */
		if (argc == 1)
			return prices_alert_off(ctx, host, NULL);
		if (prices_words(ctx, host, 1, argc, word,
		    sizeof(word)) == -1)
			return MB_USAGE;
		if ((w = host->commodity(ctx, word)) == NULL ||
		    strlen(w) >= PRICES_CODE_MAX)
			return prices_reply_commodity_unknown(ctx, host, word);
		snprintf(commodity, sizeof(commodity), "%s", w);
		return prices_alert_off(ctx, host, commodity);
	}

	/* the threshold word ends the commodity and market words */
	for (mend = 1; mend < argc; mend++) {
		w = host->arg(ctx, mend);
		if (w[0] == '>' || w[0] == '<')
			break;
	}
	if (!prices_commodity(ctx, host, mend, commodity, &used))
		return prices_reply_commodity_unknown(ctx, host,
		    host->arg(ctx, 0));
	if (used + 1 == argc && strcmp(host->arg(ctx, used), "off") == 0)
		return prices_alert_off(ctx, host, commodity);	/* maize OFF */
	if (mend < argc) {
		/* ">3000", ">=3000", "> 3000": the last words */
		w = host->arg(ctx, mend);
		op = w[0];
		t = mend;
		tw = w + 1;
		if (tw[0] == '=')
			tw++;
		if (tw[0] == '\0')
			tw = host->arg(ctx, ++t);
		if (tw == NULL || t + 1 != argc ||
		    prices_text_money_parse(tw, &threshold) == -1)
			return MB_USAGE;
	}
	if (used < mend) {
		if (!prices_market(ctx, host, used, mend, market, word,
		    sizeof(word)))
			return prices_reply_market_unknown(ctx, host, ps,
			    commodity, word);
	} else
		prices_home(ctx, host, market);

	if (op != 0 && market[0] == '\0') {
		prices_arg(&args, "commodity", commodity);
		return prices_send(ctx, host, NULL, "prices-alert-need-market",
		    &args);
	}
	now = host->now(ctx);
	if (op != 0) {
		/* start on the side the median is on: only a crossing from
		   now on is told */
		if (prices_store_stats(ctx, host, commodity, market,
		    now - ps->conf.window, now, ps->conf.agent_weight,
		    &s) == -1)
			return MB_FAIL;
		fired = s.n > 0 && prices_condition(op, s.median, threshold);
	}
	rc = prices_store_alert_set(ctx, host, host->sender(ctx), commodity,
	    market, op, threshold, fired, now, PRICES_ALERTS_MAX);
	if (rc == -1)
		return MB_FAIL;
	if (rc == 1) {
		snprintf(max, sizeof(max), "%d", PRICES_ALERTS_MAX);
		prices_arg(&args, "max", max);
		return prices_send(ctx, host, NULL, "prices-alert-max", &args);
	}
	if ((out = prices_store_opt_out(ctx, host, host->sender(ctx))) == -1)
		return MB_FAIL;

	if ((unit = host->commodity_unit(ctx, commodity)) == NULL)
		unit = "";
	snprintf(hour, sizeof(hour), "%02d:00", ps->conf.bulletin_hour);
	prices_text_money(threshold, price, sizeof(price));
	prices_arg(&args, "commodity", commodity);
	prices_arg(&args, "unit", unit);
	if (market[0] != '\0')
		prices_arg(&args, "market", prices_market_name(ctx, host,
		    market));
	prices_arg(&args, "time", hour);
	prices_arg(&args, "price", price);
	prices_arg(&args, "currency", host->currency(ctx));
	if (out)
		tmpl = "prices-alert-stopped";
	else if (op == '>')
		tmpl = "prices-alert-above";
	else if (op == '<')
		tmpl = "prices-alert-below";
	else
		tmpl = market[0] != '\0' ? "prices-alert-on" :
		    "prices-alert-on-all";
	return prices_send(ctx, host, NULL, tmpl, &args);
}

/* --- the timer: threshold crossings, then the day's bulletin ------------ */

/*
 * Milliseconds since started.  A timer run holds the event loop: past
 * prices_run_ms (boards of a cold cache over millions of reports), it
 * leaves the rest of its batch to the next run.
 */
long long
prices_elapsed_ms(const struct timespec *started)
{
	struct timespec	 now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	return (now.tv_sec - started->tv_sec) * 1000LL +
	    (now.tv_nsec - started->tv_nsec) / 1000000;
}

long long prices_run_ms = PRICES_RUN_MS;

int
prices_run_over(const struct timespec *started)
{
	return prices_run_ms < 0 || prices_elapsed_ms(started) > prices_run_ms;
}

/* A threshold met: tell the subscriber.  MB_OK or MB_FAIL. */
static int
prices_cross_send(struct mb_ctx *ctx, const struct mb_host *host,
    const struct prices_state *ps, const struct prices_sub *a,
    const struct prices_stats *s)
{
	struct prices_args	 args = { .n = 0 };
	char			 median[24], price[24], n[24];
	const char		*unit, *window;

	if ((unit = host->commodity_unit(ctx, a->commodity)) == NULL)
		unit = "";
	if ((window = prices_span(ctx, host, a->msisdn, "last",
	    ps->conf.window, 1)) == NULL)
		return MB_FAIL;
	prices_text_money(s->median, median, sizeof(median));
	prices_text_money(a->threshold, price, sizeof(price));
	snprintf(n, sizeof(n), "%lld", s->n);
	prices_arg(&args, "commodity", a->commodity);
	prices_arg(&args, "unit", unit);
	prices_arg(&args, "market", prices_market_name(ctx, host, a->market));
	prices_arg(&args, "median", median);
	prices_arg(&args, "price", price);
	prices_arg(&args, "n", n);
	prices_arg(&args, "window", window);
	prices_arg(&args, "currency", host->currency(ctx));
	return prices_send(ctx, host, a->msisdn, a->op == '>' ?
	    "prices-cross-above" : "prices-cross-below", &args);
}

/*
 * Pairs with new reports: compare their median with the thresholds whose
 * side changed, tell those now met (not those who sent STOP), and note the
 * new side.  At most *budget subscriptions; *budget is decreased by what
 * was done.  A pair with more than that stays for the next run.  0 or -1.
 */
static int
prices_thresholds(struct mb_ctx *ctx, const struct mb_host *host,
    struct prices_state *ps, long long now, size_t *budget,
    const struct timespec *started)
{
	char			 commodity[PRICES_DIRTY_RUN][PRICES_CODE_MAX];
	char			 market[PRICES_DIRTY_RUN][PRICES_CODE_MAX];
	struct prices_stats	 s;
	struct prices_sub	*subs = NULL;
	size_t			 npairs, i, j, n;
	int			 rc = -1;

	if (prices_store_dirty_take(ctx, host, commodity, market,
	    PRICES_DIRTY_RUN, &npairs) == -1)
		return -1;
	if (npairs == 0 || *budget == 0)
		return 0;
	if ((subs = calloc(*budget, sizeof(*subs))) == NULL) {
		host->log(ctx, MB_LOG_ERROR, "prices: out of memory");
		return -1;
	}
	for (i = 0; i < npairs && *budget > 0; i++) {
		if (i > 0 && prices_run_over(started)) {
			*budget = 0;	/* the bulletin waits too */
			break;
		}
		if (prices_store_stats(ctx, host, commodity[i], market[i],
		    now - ps->conf.window, now, ps->conf.agent_weight,
		    &s) == -1)
			goto out;
		n = 0;
		if (s.n > 0 && prices_store_crossed(ctx, host, commodity[i],
		    market[i], s.median, subs, *budget, &n) == -1)
			goto out;
		for (j = 0; j < n; j++) {
			struct prices_sub	*a = &subs[j];
			int			 met = prices_condition(a->op,
						    s.median, a->threshold);

			if (met && !a->opt_out && prices_cross_send(ctx, host,
			    ps, a, &s) != MB_OK)
				goto out;
			if (prices_store_set_fired(ctx, host, a->id, met) == -1)
				goto out;
		}
		*budget -= n;
		if (*budget > 0 && prices_store_dirty_done(ctx, host,
		    commodity[i], market[i]) == -1)
			goto out;
	}
	rc = 0;
out:
	free(subs);
	return rc;
}

/*
 * The board of commodity at market for the bulletin.  A round sends the
 * same board to every subscriber of a pair, so it is computed once and
 * kept in the state for PRICES_CACHE_TTL seconds: a hash table of
 * PRICES_CACHE_SLOTS boards (open addressing, emptied when a round
 * starts), allocated at the first bulletin.  Past three quarters full, or
 * without memory, a board is computed into scratch for one subscriber.
 * NULL on a store failure.
 */
static const struct prices_board *
prices_cache_board(struct mb_ctx *ctx, const struct mb_host *host,
    struct prices_state *ps, const char *commodity, const char *market,
    long long now, struct prices_board *scratch)
{
	struct prices_board	*b;
	const char		*p;
	size_t			 h = 2166136261u, i;

	if (ps->boards == NULL)
		ps->boards = calloc(PRICES_CACHE_SLOTS, sizeof(*ps->boards));
	if (ps->boards == NULL)
		goto scratch;
	/* FNV-1a of "commodity/market" */
	for (p = commodity; *p != '\0'; p++)
		h = (h ^ (unsigned char)*p) * 16777619u;
	h = (h ^ '/') * 16777619u;
	for (p = market; *p != '\0'; p++)
		h = (h ^ (unsigned char)*p) * 16777619u;
	for (i = 0; i < PRICES_CACHE_SLOTS; i++) {
		b = &ps->boards[(h + i) & (PRICES_CACHE_SLOTS - 1)];
		if (b->commodity[0] == '\0') {
			if (ps->nboards * 4 >= PRICES_CACHE_SLOTS * 3)
				break;
			if (prices_board_compute(ctx, host, ps, commodity,
			    market, now, b) == -1) {
				b->commodity[0] = '\0';	/* still free */
				return NULL;
			}
			ps->nboards++;
			return b;
		}
		if (strcmp(b->commodity, commodity) != 0 ||
		    strcmp(b->market, market) != 0)
			continue;
		if (b->now >= 0 && now >= b->now &&
		    now - b->now <= PRICES_CACHE_TTL)
			return b;
		if (prices_board_compute(ctx, host, ps, commodity, market, now,
		    b) == -1) {
			b->now = -1;		/* made again next time */
			return NULL;
		}
		return b;
	}
scratch:
	if (prices_board_compute(ctx, host, ps, commodity, market, now,
	    scratch) == -1)
		return NULL;
	return scratch;
}

/* A new round: every board is made again. */
static void
prices_cache_clear(struct prices_state *ps)
{
	if (ps->boards != NULL)
		memset(ps->boards, 0, PRICES_CACHE_SLOTS * sizeof(*ps->boards));
	ps->nboards = 0;
}

/*
 * The local day of now, and whether the bulletin hour has come in it.
 * Days count from 1970-01-01 local time.
 */
static long long
prices_local_day(const struct prices_conf *c, long long now, int *due)
{
	long long	 local = now + c->utc_offset, day, hour;

	day = local >= 0 ? local / 86400 : -((-local + 86399) / 86400);
	hour = (local - day * 86400) / 3600;
	*due = c->bulletin_now || hour >= c->bulletin_hour;
	return day;
}

/*
 * The day's bulletin: from the cursor on, at most budget subscriptions
 * (daily ones, by id); each gets the board of its commodity and market,
 * unless they sent STOP.  The cursor moves in the same transaction as the
 * notices, so a restart neither repeats nor skips anyone.  A new local
 * day starts a new round once the bulletin hour has come.  0 or -1.
 */
static int
prices_bulletin(struct mb_ctx *ctx, const struct mb_host *host,
    struct prices_state *ps, long long now, size_t budget,
    const struct timespec *started)
{
	struct prices_board	 scratch;
	struct prices_sub	*subs = NULL;
	const struct prices_board *b;
	long long		 day, today, cursor;
	size_t			 n = 0, i, sent = 0;
	int			 done, due, rc = -1;

	if (prices_store_cursor(ctx, host, &day, &cursor, &done) == -1)
		return -1;
	today = prices_local_day(&ps->conf, now, &due);
	if (day != today) {
		if (!due)
			return 0;
		day = today;
		cursor = 0;
		done = 0;
		prices_cache_clear(ps);
		host->log(ctx, MB_LOG_INFO, "prices: bulletin of local day "
		    "%lld starts", day);
	}
	if (done)
		return 0;
	if (budget == 0)
		return prices_store_cursor_set(ctx, host, day, cursor, done);
	if ((subs = calloc(budget, sizeof(*subs))) == NULL) {
		host->log(ctx, MB_LOG_ERROR, "prices: out of memory");
		goto out;
	}
	if (prices_store_bulletin_subs(ctx, host, cursor, subs, budget,
	    &n) == -1)
		goto out;
	for (i = 0; i < n; i++) {
		/* a run that has taken its time ends here: the rest of the
		   batch is the next run's */
		if (i > 0 && prices_run_over(started))
			break;
		cursor = subs[i].id;
		if (subs[i].opt_out)
			continue;
		if ((b = prices_cache_board(ctx, host, ps, subs[i].commodity,
		    subs[i].market, now, &scratch)) == NULL ||
		    prices_board_send(ctx, host, ps, b, subs[i].msisdn,
		    "prices-bulletin") != MB_OK)
			goto out;
		sent++;
	}
	done = i == n && n < budget;
	if (prices_store_cursor_set(ctx, host, day, cursor, done) == -1)
		goto out;
	host->log(ctx, done ? MB_LOG_INFO : MB_LOG_DEBUG, "prices: bulletin "
	    "of day %lld: %zu sent in this batch, up to subscription %lld%s",
	    day, sent, cursor, done ? ", done" : "");
	rc = 0;
out:
	free(subs);
	return rc;
}

static int
prices_timer_cb(struct mb_plugin_ctx *pctx, const struct mb_host *host)
{
	struct mb_ctx		*ctx = host->timer_ctx(pctx);
	struct prices_state	*ps = host->state(pctx);
	struct timespec		 started;
	size_t			 budget;
	long long		 now;

	if (ctx == NULL || ps == NULL)
		return MB_FAIL;
	clock_gettime(CLOCK_MONOTONIC, &started);
	now = host->now(ctx);
	budget = (size_t)ps->conf.batch;
	if (prices_thresholds(ctx, host, ps, now, &budget, &started) == -1 ||
	    prices_bulletin(ctx, host, ps, now, budget, &started) == -1 ||
	    prices_seasons(ctx, host, ps, now, &started) == -1)
		return MB_FAIL;
	return MB_OK;
}

/* --- the descriptor ----------------------------------------------------- */

static const struct mb_command prices_commands[] = {
	{
		.id = "PRICE",
		.handler = prices_price_cb,
		.usage = "usage-PRICE",
		.flags = 0,		/* anyone, registered or not */
		.roles = 0,
	},
	{
		.id = "REPORT",
		.handler = prices_report_cb,
		.usage = "usage-REPORT",
		.flags = MB_CMD_REGISTERED,
		.roles = 0,
	},
	{
		.id = "ALERT",
		.handler = prices_alert_cb,
		.usage = "usage-ALERT",
		.flags = MB_CMD_REGISTERED,
		.roles = 0,
	},
};

static const struct mb_timer prices_timers[] = {
	{
		.name = "prices",
		.interval = PRICES_TIMER_INTERVAL,
		.run = prices_timer_cb,
	},
};

const struct mb_plugin marketbox_plugin = {
	MB_PLUGIN_HEADER,
	.name = "prices",
	.version = "1.0",
	.commands = prices_commands,
	.ncommands = sizeof(prices_commands) / sizeof(prices_commands[0]),
	.migrations = prices_store_migrations,
	.nmigrations = PRICES_STORE_NMIGRATIONS,
	.timers = prices_timers,
	.ntimers = sizeof(prices_timers) / sizeof(prices_timers[0]),
	.conf_keys = prices_conf_keys,
	.nconf_keys = sizeof(prices_conf_keys) / sizeof(prices_conf_keys[0]),
	.init = prices_init_cb,
	.fini = prices_fini_cb,
};
