/*
 * router_int.h - what the pieces of the router share: router.c (from an
 * MO's words to the command that handles it), limits.c (the flood limits
 * and the repeat window) and core_cmds.c (the core commands).  Internal
 * to those three files; the rest of marketbox sees router.h only.
 */
#ifndef MARKETBOX_ROUTER_INT_H
#define MARKETBOX_ROUTER_INT_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "plugin/core.h"
#include "engine/router.h"

#define ROUTER_FLOOD_SLOTS	65536	/* senders tracked for flood limits */

/* One sender's token bucket, and the last text handled for them. */
struct router_flood {
	char		 msisdn[64];	/* as struct user's, or an agent's
					   "<msisdn>/<member code>" */
	int		 agent;		/* the second: the agent values */
	unsigned	 gen;		/* bumped when another phone takes
					   the slot over */
	double		 tokens;
	long long	 last;		/* time of the last refill */
	double		 mono;		/* the same on CLOCK_MONOTONIC, s */
	long long	 warned;	/* time of the last slow-down notice */
	uint64_t	 rep_hash;	/* the last text handled, hashed */
	long long	 rep_time;	/* when (the MO's time) */
	long long	 rep_inbox;	/* its inbox row */
	long long	 rep_noted;	/* when noted (the clock's time) */
	int		 rep_state;	/* ROUTER_REP_* */
};

/*
 * The repeat window is kept in memory, not read from the inbox: an
 * index of the inbox by sender cost every MO a write to a random page of
 * it.  A text counts once its unit of work is in the transaction: pending
 * until the commit, which keeps it (done) or drops it (rolled back, so the
 * phone's resend is handled).  A restart forgets the window's last
 * seconds.
 *
 * The flood buckets are charged the same way: what a unit of work took
 * (a token, the time of a slow-down notice, a text in the repeat window)
 * is written down in a charge, and a unit rolled back
 * (router_unit_undo) or a commit that fails gives it all back.  A store
 * that cannot commit (a full disk) makes bearerbox offer the same MO
 * again and again: without this, each copy spent the phone's tokens
 * and the MO, once the store came back, was throttled for nothing.
 */
enum {
	ROUTER_REP_NONE,
	ROUTER_REP_PENDING,
	ROUTER_REP_DONE
};

/* What one unit of work took from a flood slot, until the commit. */
struct router_charge {
	size_t		 slot;		/* index in flood */
	unsigned	 gen;		/* the slot's gen when charged */
	double		 tokens;	/* taken (0 or 1) */
	long long	 warned;	/* the slot's warned before, or -1 if
					   unchanged */
	int		 rep;		/* a text was noted as pending */
};

struct router {
	struct core		 core;
	struct router_flood	*flood;
	struct router_stats	 stats;
	struct router_charge	*charges;	/* this transaction's */
	size_t			 ncharges, charge_cap;
	size_t			 unit_mark;	/* first charge of the unit */
	int			 charge_waiting; /* store_on_commit registered */
};

/* --- limits.c: the flood limits and the repeat window --- */
struct router_flood *router_flood_slot(struct router *, const char *msisdn);
int		 router_flood_take(struct router *, struct router_flood *,
		    long long now, int *warn);
int		 router_is_repeat(struct router *, struct router_flood *,
		    const char *text, long long now, long long inbox_id);
int		 router_is_repeat_shared(struct router *, const char *msisdn,
		    const char *text, long long now, long long inbox_id,
		    long long *inbox, long long *since);
int		 router_repeat_reply(struct router *, struct mb_ctx *,
		    long long inbox, long long since);

/* --- core_cmds.c: the core commands, and the names of roles --- */
int		 router_reg(struct mb_ctx *);
int		 router_help(struct mb_ctx *);
int		 router_lang(struct mb_ctx *);
int		 router_stop(struct mb_ctx *);
int		 router_start(struct mb_ctx *);
int		 router_me(struct mb_ctx *);
int		 router_yes(struct mb_ctx *);
int		 router_no(struct mb_ctx *);
char		*router_role_names(struct mb_ctx *, unsigned have);
/* a person's name as REG takes it: 1 fit to be one; 1 refused for
   control characters (line breaks made spaces); cut to 40 bytes */
int		 router_name_ok(const char *);
int		 router_name_controls(char *);
void		 router_name_cut(char *);

/* --- router.c: finding and running a command --- */
int		 router_runs(const struct plugin_set *, const char *id);
int		 router_dispatch(struct router *, struct mb_ctx *,
		    const char *id);
/* router_dispatch, *ran 1 when the command ran: see router.c. */
int		 router_dispatch_ran(struct router *, struct mb_ctx *,
		    const char *id, int *ran);
int		 router_remember_language(struct mb_ctx *);

/* The router whose core ctx runs in (the core is the router's). */
static inline struct router *
router_of(struct mb_ctx *ctx)
{
	return (struct router *)(void *)((char *)ctx->core -
	    offsetof(struct router, core));
}

/*
 * --- helpers for replies ---
 * Inline, as they were when one file held the router: a reply costs the
 * hot path no call of its own.
 */
static inline int
router_reply0(struct mb_ctx *ctx, const char *tmpl)
{
	return host_reply(ctx, tmpl, NULL, 0);
}

static inline int
router_reply1(struct mb_ctx *ctx, const char *tmpl, const char *name,
    const char *value)
{
	struct mb_arg	 a = { name, value ? value : "" };

	return host_reply(ctx, tmpl, &a, 1);
}

/* The usage template of a command: "usage-SELL" for SELL. */
static inline int
router_usage(struct mb_ctx *ctx, const char *id, const char *usage)
{
	char	 name[64];

	if (usage == NULL) {
		snprintf(name, sizeof(name), "usage-%s", id);
		usage = name;
	}
	return router_reply0(ctx, usage);
}

#endif
