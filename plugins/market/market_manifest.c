/*
 * market_manifest.c - the hubs' morning manifest: every morning each hub
 * of the delivery chain (market_leg.c) with parcels coming or waiting
 * tells its operators, in one SMS each, what the day holds:
 *
 *	< Kiambu township hub today: 4 in, 3 out, 1 late: #43
 *
 * in: orders a carrier is bringing to the hub (a moving leg to it); out:
 * orders received there and waiting to leave (OUT, or PICKUP at the
 * last hub); late: of those, the ones past their due time (the leg's
 * due_at), listed most late first, as many as fit one SMS in the
 * reader's language, then "+2 more" (market-manifest); none late:
 * market-manifest-on-time.  The hub is named in each operator's
 * language (host->hub_name).  marketctl manifest HUB lists the same
 * orders in full.
 *
 * When: conf manifest-time (group plugin-market, HH:MM in the host's
 * local time, TZ; default 06:00; "off": never).  The timer's sweep
 * (market.c) calls market_manifest_sweep; from that minute on, until
 * the day ends, a hub without a row in market_manifests for the day
 * (YYYY-MM-DD, local) gets its manifest, and the row is written in the
 * same transaction as the notices: sent once a day, none twice across
 * a restart, and a morning the daemon was down at manifest-time is
 * made up when it comes back the same day.
 *
 * Which hubs: the host has no list of every hub, so the hubs are those
 * of the open legs of orders still sent (market_store_manifest_hubs): a
 * hub without one has nothing to tell.  A hub with open legs but nothing
 * in or out (its orders are still before the leg to it) gets no SMS: an
 * empty manifest would teach operators to ignore the morning's SMS; its
 * row is written all the same, so that the day's later sweeps do not
 * read it again (a parcel set off to it later in the day is told by
 * market-leg-coming, not by a second manifest).  A hub no longer in the
 * catalogue, or without operators, is logged and marked done.
 *
 * Bounded: at most the sweep's budget of hubs a run, each counting one
 * row; the rest the next run.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <marketbox/plugin.h>

#include "market.h"

#define MARKET_MANIFEST_HUBS	50	/* hubs read at once */

/* --- the conf ------------------------------------------------------------- */

int
market_manifest_conf(const struct mb_host *host, const char *v, int *minutes)
{
	int	 hh, mm;
	char	 extra;

	if (strcmp(v, "off") == 0) {
		*minutes = MARKET_MANIFEST_OFF;
		return 0;
	}
	if (strlen(v) != 5 || sscanf(v, "%2d:%2d%c", &hh, &mm, &extra) != 2 ||
	    v[2] != ':' || hh < 0 || hh > 23 || mm < 0 || mm > 59) {
		host->log(NULL, MB_LOG_ERROR, "market: manifest-time = %s: "
		    "not a time of day HH:MM (e.g. 06:00) or off", v);
		return -1;
	}
	*minutes = hh * 60 + mm;
	return 0;
}

/* --- one hub's SMS -------------------------------------------------------- */

/*
 * The late refs [0, k) joined by sep into buf ("#43, #51"): as long as
 * it fits, which a manifest's handful always does.
 */
static void
market_manifest_refs(const struct market_manifest *m, size_t k,
    const char *sep, char *buf, size_t len)
{
	size_t	 i, n = 0;
	int	 w;

	buf[0] = '\0';
	for (i = 0; i < k && n < len; i++) {
		w = snprintf(buf + n, len - n, "%s#%lld", i > 0 ? sep : "",
		    m->refs[i]);
		if (w < 0 || (size_t)w >= len - n) {
			buf[n] = '\0';
			break;
		}
		n += (size_t)w;
	}
}

/* Hub code's manifest m to operator op, in op's language: MB_OK or MB_FAIL. */
static int
market_manifest_send(struct market_call *c, const char *code,
    const char *op, const struct market_manifest *m)
{
	struct market_args	 a = { .n = 0 }, b;
	const char		*name, *text;
	char			 hub[MARKET_NAME_LEN], sep[32];
	char			 refs[MARKET_MANIFEST_LATE_MAX * 24];
	size_t			 k, fit = 1;

	name = c->host->hub_name(c->ctx, op, code);
	market_copy(hub, sizeof(hub), name != NULL ? name : code);
	market_arg(&a, "hub", hub);
	market_arg_num(&a, "in", m->in);
	market_arg_num(&a, "out", m->out);
	if (m->late == 0)
		return market_notify(c, op, "market-manifest-on-time", &a);
	market_arg_num(&a, "late", m->late);
	market_copy(sep, sizeof(sep), market_render(c, op, "market-list-sep",
	    NULL));
	/* as many refs as fit one SMS as op reads it, at least one */
	for (k = 1; k <= m->nrefs; k++) {
		b = a;
		market_manifest_refs(m, k, sep, refs, sizeof(refs));
		market_arg(&b, "refs", refs);
		market_arg_num(&b, "more", m->late - (long long)k);
		if ((text = market_render(c, op, "market-manifest", &b)) ==
		    NULL)
			return MB_FAIL;
		if (c->host->sms_parts(c->ctx, text) != 1)
			break;
		fit = k;
	}
	market_manifest_refs(m, fit, sep, refs, sizeof(refs));
	market_arg(&a, "refs", refs);
	market_arg_num(&a, "more", m->late - (long long)fit);
	return market_notify(c, op, "market-manifest", &a);
}

/* Hub code's manifest of day: its operators told, the day marked done. */
static int
market_manifest_hub(struct market_call *c, const char *code,
    const char *day)
{
	struct market_manifest	 m;
	struct mb_hub		 h;
	size_t			 i;

	memset(&h, 0, sizeof(h));
	h.size = sizeof(h);
	if (c->host->hub(c->ctx, code, &h) != 1 || h.noperators == 0)
		c->host->log(c->ctx, MB_LOG_WARNING, "market: hub %s: no "
		    "such hub or no operators: no manifest today", code);
	else {
		if (market_store_manifest_hub(c, code, &m) == -1)
			return MB_FAIL;
		for (i = 0; (m.in > 0 || m.out > 0) && i < h.noperators &&
		    i < MB_HUB_OPERATORS; i++)
			if (market_manifest_send(c, code, h.operators[i], &m) !=
			    MB_OK)
				return MB_FAIL;
	}
	return market_store_manifest_done(c, code, day) == -1 ? MB_FAIL :
	    MB_OK;
}

/* --- the sweep ------------------------------------------------------------ */

int
market_manifest_sweep(struct market_call *c, size_t *budget)
{
	char		 day[16], (*hubs)[MARKET_CODE_LEN];
	struct tm	 tm;
	time_t		 now = (time_t)c->now;
	size_t		 n, i, max;
	int		 rc = MB_OK;

	if (c->conf->manifest_time == MARKET_MANIFEST_OFF || *budget == 0 ||
	    !MARKET_HOST_HAS(c->host, route) || c->host->hub == NULL ||
	    c->host->hub_name == NULL)
		return MB_OK;
	if (localtime_r(&now, &tm) == NULL ||
	    tm.tm_hour * 60 + tm.tm_min < c->conf->manifest_time)
		return MB_OK;
	if (strftime(day, sizeof(day), "%Y-%m-%d", &tm) == 0)
		return MB_FAIL;
	max = *budget < MARKET_MANIFEST_HUBS ? *budget : MARKET_MANIFEST_HUBS;
	if ((hubs = calloc(max, sizeof(*hubs))) == NULL)
		return MB_FAIL;
	if (market_store_manifest_hubs(c, day, hubs, max, &n) == -1)
		rc = MB_FAIL;
	for (i = 0; rc == MB_OK && i < n; i++)
		rc = market_manifest_hub(c, hubs[i], day);
	if (rc == MB_OK)
		*budget -= n;
	free(hubs);
	return rc;
}
