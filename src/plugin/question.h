/*
 * question.h - the open YES/NO questions of the core: at most one per
 * phone, each the command its YES runs.
 *
 * A command that wants a phone's consent first (a price far off the usual
 * one, a number that reads two ways, an agent acting for a member) asks
 * through the host function ask(): the question is sent and kept here
 * until that phone answers YES (the command runs as that phone) or NO,
 * another question replaces it, or it expires.  The rows are written and
 * taken inside the unit of work of the message that asks or answers, so
 * a question and its answer commit or roll back with their messages.
 */
#ifndef MARKETBOX_QUESTION_H
#define MARKETBOX_QUESTION_H

#include <stddef.h>

struct store;

/* An open question, as question_take() reads it. */
struct question {
	char		*command;	/* what YES runs: a command id first */
	char		*language;	/* the language it was asked in */
	char		*asker;		/* the phone whose message asked, or
					   NULL (a timer) */
	long long	 created;
	long long	 expires;	/* Unix seconds: dead from then on */
};

/*
 * Keep a question for msisdn, replacing any it has open.  asker may be
 * NULL, inbox_id 0 (no message asked).  0, or -1 (logged) on a store
 * failure.
 */
int	 question_put(struct store *, const char *msisdn, const char *command,
	    const char *language, const char *asker, long long inbox_id,
	    long long created, long long expires);

/*
 * Take msisdn's question: read it into q and delete it.  1 (q filled,
 * expired or not: the caller compares q->expires with its clock; free
 * with question_clear), 0 when there is none, -1 (logged) on a store
 * failure.
 */
int	 question_take(struct store *, const char *msisdn, struct question *q);
void	 question_clear(struct question *);

/*
 * The command of msisdn's open question (expired or not) into command,
 * leaving it open: 1, 0 when there is none, -1 (logged) on a store
 * failure.  A command longer than len is cut.
 */
int	 question_command(struct store *, const char *msisdn, char *command,
	    size_t len);

#endif
