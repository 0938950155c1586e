/*
 * router.c - from an MO's text to the command that handles it.
 *
 * For now the router answers every message with an echo of its text, so the
 * whole message path (link, inbox, group commit, outbox, DLRs) can be run
 * and measured end to end.  The command language of SPEC.md replaces the
 * echo; the contract in router.h stays.
 */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gw.h"

#include "conf.h"
#include "mo.h"
#include "outbox.h"
#include "router.h"

struct router {
	const struct conf	*conf;
	struct store		*store;
	struct outbox		*outbox;
};

struct router *
router_new(const struct conf *conf, struct store *store, struct outbox *outbox)
{
	struct router	*r;

	if ((r = calloc(1, sizeof(*r))) == NULL) {
		error(errno, "router: out of memory");
		return NULL;
	}
	r->conf = conf;
	r->store = store;
	r->outbox = outbox;
	return r;
}

void
router_free(struct router *r)
{
	free(r);
}

int
router_handle(struct router *r, const struct mo *mo, long long inbox_id)
{
	char	*reply;
	int	 rc;

	if (asprintf(&reply, "You said: %s", mo->text) == -1) {
		error(errno, "router: out of memory");
		return -1;
	}
	rc = outbox_reply(r->outbox, mo, inbox_id, reply);
	free(reply);
	return rc;
}
