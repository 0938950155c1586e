/*
 * member.h - the village service points as the core reads them: the
 * agents the admin named (table agents) and the members each enrolled
 * (table members).  The router's commands (engine/agents.c) write them;
 * host.c reads them to route notices and to name members to others.
 *
 * A member's identity is what every other table knows her by: her phone
 * once she agreed, else "m:<code>" (member_phoneless()), never a phone.
 */
#ifndef MARKETBOX_MEMBER_H
#define MARKETBOX_MEMBER_H

#include <stddef.h>

struct store;

#define MEMBER_CODE_MAX		24
#define MEMBER_ID_MAX		64	/* as struct user's msisdn */

/* One row of members. */
struct member {
	long long	 id;
	char		 code[MEMBER_CODE_MAX];		/* "M17" */
	char		 point[64];			/* a service-point code */
	char		 agent[MEMBER_ID_MAX];		/* the agent's phone */
	char		 identity[MEMBER_ID_MAX];
	char		 phone[MEMBER_ID_MAX];		/* "" when none */
	char		 name[128];
	char		 state[12];		/* pending, active, off */
};

/* 1 if identity is a member's without a phone ("m:M17"). */
int	 member_phoneless(const char *identity);

/*
 * "M17", "m17" or "M 17"'s first word as typed into code ("M17"): 1 when
 * word is a member code, 0 when not (a #ref, a name, a number).
 */
int	 member_code_parse(const char *word, char *code, size_t len);

/*
 * The member by code, by identity, or pending with phone: 1 found (m
 * filled), 0 none, -1 a store failure (logged).
 */
int	 member_by_code(struct store *, const char *code, struct member *m);
int	 member_by_identity(struct store *, const char *identity,
	    struct member *m);
int	 member_pending_of(struct store *, const char *agent,
	    const char *phone, struct member *m);

/*
 * The point of msisdn when it is an active agent: 1 (point filled), 0
 * not an agent, -1 a store failure.
 */
int	 member_agent_point(struct store *, const char *msisdn, char *point,
	    size_t len);

#endif
