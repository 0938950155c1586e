/*
 * market_store_manifest.c - the SQL of the hubs' morning manifest
 * (market_manifest.c): which hubs have work, what one hub has today,
 * and the manifest a hub was sent (market_manifests, schema step 10),
 * each with its values bound, on both engines, through the helpers of
 * market_store.c (which has the schema and says how the statements are
 * written).
 *
 * A hub's work is read from market_legs, the legs of orders still sent
 * (the legs of an order no longer sent are history):
 *	in	a moving leg to the hub: a carrier is bringing it;
 *	out	a waiting leg from the hub whose leg before is done: the
 *		parcel was received there and waits for OUT (or PICKUP);
 *	late	of those, the ones whose due_at has passed.
 * An order through a hub has exactly one leg to it and one from it, so
 * each order counts once.
 */
#include <stdio.h>
#include <string.h>

#include <marketbox/plugin.h>

#include "market.h"

/*
 * The hubs of open legs (either end), without a manifest for the day $1.
 * A hub of no open leg has nothing to tell: it is not read at all.
 */
static const char market_sql_manifest_hubs[] =
    "SELECT x.hub FROM ("
    " SELECT l.to_hub AS hub FROM market_legs l"
    "  JOIN market_orders o ON o.ref = l.order_ref"
    "  WHERE o.state = 'sent' AND l.state IN ('waiting', 'moving')"
    "  AND l.to_hub IS NOT NULL"
    " UNION"
    " SELECT l.from_hub AS hub FROM market_legs l"
    "  JOIN market_orders o ON o.ref = l.order_ref"
    "  WHERE o.state = 'sent' AND l.state IN ('waiting', 'moving')"
    "  AND l.from_hub IS NOT NULL) x"
    " WHERE NOT EXISTS (SELECT 1 FROM market_manifests m"
    "  WHERE m.hub = x.hub AND m.day = $1)"
    " ORDER BY x.hub LIMIT $2";

int
market_store_manifest_hubs(struct market_call *c, const char *day,
    char (*out)[MARKET_CODE_LEN], size_t max, size_t *n)
{
	const struct mb_host	*h = c->host;
	struct mb_stmt		*st;
	int			 b, rc = MB_DONE;

	*n = 0;
	if ((st = h->query(c->ctx, market_sql_manifest_hubs)) == NULL)
		return -1;
	b = h->bind_text(st, 1, day);
	b |= h->bind_int(st, 2, (long long)max);
	if (b != 0)
		return market_store_fail(c, st, "cannot read the hubs");
	while (*n < max && (rc = h->step(st)) == MB_ROW)
		market_store_column(c, st, 0, out[(*n)++], MARKET_CODE_LEN);
	if (*n < max && rc != MB_DONE)
		return market_store_fail(c, st, "cannot read the hubs");
	h->done(st);
	return 0;
}

/*
 * Hub $1's orders at $2: 1 when coming in (else waiting to go out), 1
 * when late; the late first, most late first.
 */
static const char market_sql_manifest_hub[] =
    "SELECT l.order_ref,"
    " CASE WHEN l.state = 'moving' THEN 1 ELSE 0 END,"
    " CASE WHEN l.due_at IS NOT NULL AND l.due_at < $2 THEN 1 ELSE 0 END"
    " FROM market_legs l JOIN market_orders o ON o.ref = l.order_ref"
    " WHERE o.state = 'sent' AND ("
    "  (l.to_hub = $1 AND l.state = 'moving') OR"
    "  (l.from_hub = $1 AND l.state = 'waiting' AND EXISTS ("
    "   SELECT 1 FROM market_legs p WHERE p.order_ref = l.order_ref"
    "   AND p.seq = l.seq - 1 AND p.state = 'done')))"
    " ORDER BY CASE WHEN l.due_at IS NOT NULL AND l.due_at < $2"
    "  THEN 0 ELSE 1 END, l.due_at, l.order_ref";

int
market_store_manifest_hub(struct market_call *c, const char *hub,
    struct market_manifest *m)
{
	const struct mb_host	*h = c->host;
	struct mb_stmt		*st;
	int			 b, rc;

	memset(m, 0, sizeof(*m));
	if ((st = h->query(c->ctx, market_sql_manifest_hub)) == NULL)
		return -1;
	b = h->bind_text(st, 1, hub);
	b |= h->bind_int(st, 2, c->now);
	if (b != 0)
		return market_store_fail(c, st, "cannot read a hub's legs");
	while ((rc = h->step(st)) == MB_ROW) {
		if (h->column_int(st, 1) == 1)
			m->in++;
		else
			m->out++;
		if (h->column_int(st, 2) != 1)
			continue;
		m->late++;
		if (m->nrefs < MARKET_MANIFEST_LATE_MAX)
			m->refs[m->nrefs++] = h->column_int(st, 0);
	}
	if (rc != MB_DONE)
		return market_store_fail(c, st, "cannot read a hub's legs");
	h->done(st);
	return 0;
}

static const char market_sql_manifest_done[] =
    "INSERT INTO market_manifests (hub, day, sent) VALUES ($1, $2, $3)";

int
market_store_manifest_done(struct market_call *c, const char *hub,
    const char *day)
{
	const struct mb_host	*h = c->host;
	struct mb_stmt		*st;
	int			 b;

	if ((st = h->query(c->ctx, market_sql_manifest_done)) == NULL)
		return -1;
	b = h->bind_text(st, 1, hub);
	b |= h->bind_text(st, 2, day);
	b |= h->bind_int(st, 3, c->now);
	return market_store_run(c, st, b, "cannot write a hub's manifest");
}
