/*
 * agents.h - the commands of the agents of village service points
 * (agents.c): MEMBER, MEMBERS, FOR, and CONSENT, which a phone's YES to
 * MEMBER's question runs.  Internal to the router (router.c runs them,
 * limits are keyed with router_for_key()); see agents.c.
 */
#ifndef MARKETBOX_AGENTS_H
#define MARKETBOX_AGENTS_H

#include <stddef.h>

struct mb_ctx;
struct router;
struct user;

int		 router_member(struct mb_ctx *);
int		 router_members(struct mb_ctx *);
int		 router_consent(struct mb_ctx *);
int		 router_for(struct mb_ctx *);
/* A NO to a question: when it was MEMBER's ("CONSENT <code>"), her
   agent is told.  0 (also for any other question), -1 a failure. */
int		 router_consent_no(struct mb_ctx *, const char *command);
/* The flood key of an MO sent with FOR by an agent for one of its
   members ("<msisdn>/M17"), or of its YES or NO to a question FOR asked,
   into key, 1; 0 when it is no such MO; -1 a store failure. */
int		 router_for_key(struct router *, const struct user *,
		    const char *text, const char *lang, char *key,
		    size_t len);

#endif
