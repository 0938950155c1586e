/*
 * dispatch.c - the one step after the inbox: SMS to the router, USSD to
 * the menu engine, and a duplicate's answer again.
 *
 * See dispatch.h.  The inbox owns the unit of work, the MO's row and the
 * retries; this file owns the choice of engine and what the caller is
 * answered inline: the replies the router's command captured in the
 * outbox (outbox_take_inline), or the USSD engine's screen.  It adds no
 * statement and no allocation per MO to what the engines do.
 */
#include "config.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "base/gw.h"

#include "engine/dispatch.h"
#include "engine/router.h"
#include "engine/ussd.h"
#include "queue/mo.h"
#include "queue/outbox.h"
#include "store/store.h"
#include "text/lang.h"

struct dispatch {
	struct router		*router;
	struct ussd		*ussd;		/* may be NULL */
	struct outbox		*outbox;
	struct store		*store;		/* the outbox's */
};

/* The first copy's row, and the inline replies stored for it. */
static const char dispatch_sql_find[] =
    "SELECT id FROM inbox WHERE kannel_id = $1";
static const char dispatch_sql_replies[] =
    "SELECT text FROM outbox WHERE inbox_id = $1 AND kind = 'reply'"
    " AND state = 'inline' ORDER BY id";

struct dispatch *
dispatch_new(struct router *router, struct ussd *ussd, struct outbox *outbox)
{
	struct dispatch	*d;

	if ((d = calloc(1, sizeof(*d))) == NULL) {
		error(errno, "dispatch: out of memory");
		return NULL;
	}
	d->router = router;
	d->ussd = ussd;
	d->outbox = outbox;
	d->store = outbox_store(outbox);
	return d;
}

void
dispatch_free(struct dispatch *d)
{
	free(d);
}

enum dispatch_kind
dispatch_kind(struct dispatch *d, const struct mo *mo)
{
	return d->ussd != NULL && ussd_is_ussd(mo) ? DISPATCH_USSD :
	    DISPATCH_SMS;
}

void
dispatch_unit_begin(struct dispatch *d)
{
	router_unit_begin(d->router);
}

void
dispatch_unit_undo(struct dispatch *d)
{
	router_unit_undo(d->router);
}

/* The menu engine answers, not the router. */
static int
dispatch_ussd(struct dispatch *d, const struct mo *mo, long long inbox_id,
    char **reply)
{
	free(outbox_take_inline(d->outbox));
	if (ussd_handle(d->ussd, mo, inbox_id, reply) == -1) {
		free(outbox_take_inline(d->outbox));
		*reply = NULL;
		return -1;
	}
	/* Replies captured from its actions are in the answer. */
	free(outbox_take_inline(d->outbox));
	return 0;
}

int
dispatch_handle(struct dispatch *d, enum dispatch_kind kind,
    const struct mo *mo, long long inbox_id, char **reply, const char **state)
{
	enum router_outcome	 outcome;

	*reply = NULL;
	*state = NULL;
	if (kind == DISPATCH_USSD)
		return dispatch_ussd(d, mo, inbox_id, reply);
	if (router_handle(d->router, mo, inbox_id, &outcome) == -1) {
		free(outbox_take_inline(d->outbox));
		return -1;
	}
	if (outcome != ROUTER_DONE)
		*state = outcome == ROUTER_THROTTLED ? "throttled" :
		    outcome == ROUTER_REPEAT ? "repeat" : "refused";
	*reply = outbox_take_inline(d->outbox);
	return 0;
}

/*
 * The inline reply stored the first time an MO was seen: a client that
 * retries an HTTP request gets the same answer.  Inline replies are stored
 * whole, one row each (outbox.c does not split them).
 */
static char *
dispatch_stored_reply(struct dispatch *d, long long inbox_id)
{
	struct store_stmt	*st;
	char			*out = NULL;
	size_t			 len = 0;

	if ((st = store_query(d->store, dispatch_sql_replies)) == NULL)
		return NULL;
	store_bind_int(st, 1, inbox_id);
	while (store_step(st) == STORE_ROW) {
		const char	*t = store_text(st, 0);
		size_t		 tl = t ? strlen(t) : 0;
		char		*n;

		if ((n = realloc(out, len + tl + 2)) == NULL)
			break;
		out = n;
		if (len > 0)
			out[len++] = '\n';
		memcpy(out + len, t ? t : "", tl);
		len += tl;
		out[len] = '\0';
	}
	store_done(st);
	return out;
}

static long long
dispatch_find(struct dispatch *d, const char *id)
{
	struct store_stmt	*st;
	long long		 row = 0;

	if ((st = store_query(d->store, dispatch_sql_find)) == NULL)
		return 0;
	store_bind_text(st, 1, id);
	if (store_step(st) == STORE_ROW)
		row = store_int(st, 0);
	store_done(st);
	return row;
}

char *
dispatch_replay(struct dispatch *d, enum dispatch_kind kind,
    const struct mo *mo)
{
	if (!mo->reply_inline)
		return NULL;
	if (kind == DISPATCH_USSD)
		return ussd_replay(d->ussd, mo);
	return dispatch_stored_reply(d, dispatch_find(d, mo->id));
}

/* The "error" template in the sender's language (else the default's). */
static const char *
dispatch_failure_text(struct dispatch *d, const char *sender)
{
	const struct lang_set	*ls = router_langs(d->router);
	const char		*lang = NULL, *text = NULL;
	char			 market[64];

	if (router_user_info(d->router, sender, &lang, market,
	    sizeof(market)) == -1 || lang == NULL)
		lang = ls != NULL ? lang_default(ls) : NULL;
	if (ls != NULL && lang != NULL)
		text = lang_template(ls, lang, "error");
	return text != NULL ? text :
	    "Sorry, something went wrong. Please try again later.";
}

int
dispatch_apology(struct dispatch *d, enum dispatch_kind kind,
    const struct mo *mo, long long inbox_id, char **reply)
{
	*reply = NULL;
	/* Never silence: the sender hears that it did not work, in the
	 * sender's language when the store can still say which. */
	if (outbox_reply(d->outbox, mo, inbox_id,
	    dispatch_failure_text(d, mo->sender)) == -1) {
		free(outbox_take_inline(d->outbox));
		return -1;
	}
	/* The apology, for an SMS caller that answers inline; a USSD
	 * caller has no screen from it (POST /ussd says it could not be
	 * done). */
	if (kind == DISPATCH_USSD)
		free(outbox_take_inline(d->outbox));
	else
		*reply = outbox_take_inline(d->outbox);
	return 0;
}
