/*
 * router.h - from an MO's text to the command that handles it.
 *
 * The router normalises the text (words.c), finds the keyword in the
 * sender's language or any other (and then answers in that one and
 * remembers it), applies the flood limits and the repeat window, checks
 * registration and roles, and runs the command: a core command (REG, HELP,
 * LANG, STOP, START, ME) or a plugin's.  It runs inside the inbox's unit
 * of work: whatever it writes commits or rolls back with the MO itself.
 */
#ifndef MARKETBOX_ROUTER_H
#define MARKETBOX_ROUTER_H

#include <stddef.h>

struct conf;
struct lang_set;
struct mb_arg;
struct mb_host;
struct mb_plugin_ctx;
struct mo;
struct outbox;
struct plugin_set;
struct store;
struct router;

/* What became of an MO. */
enum router_outcome {
	ROUTER_DONE,		/* handled (a reply was made) */
	ROUTER_THROTTLED,	/* over the sender's flood limit: stored,
				   not processed */
	ROUTER_REPEAT,		/* the same text from the same phone within
				   the repeat window: no second effect */
	ROUTER_REFUSED		/* a sender that cannot be a user (too long
				   for a phone number): not served */
};

/*
 * The router takes ownership of langs (freed by router_free or replaced
 * by router_set_conf); plugins may be NULL and stays the caller's.
 * conf must outlive the router or the next router_set_conf.  Returns NULL
 * (logged) on failure.
 */
struct router	*router_new(const struct conf *, struct store *,
		    struct outbox *, struct lang_set *, struct plugin_set *);
void		 router_free(struct router *);

/* After a reload: the new conf and languages (owned from now on). */
int		 router_set_conf(struct router *, const struct conf *,
		    struct lang_set *);

/*
 * Handle one MO recorded as inbox row inbox_id.  Returns 0 with *outcome
 * set, or -1 on a failure of the store, which rolls the MO back.
 */
int		 router_handle(struct router *, const struct mo *,
		    long long inbox_id, enum router_outcome *outcome);

/*
 * The flood limit and the repeat window are in memory, and what a unit of
 * work takes from them (a token, a slow-down notice, a text noted) is
 * given back when it does not commit: by itself when the transaction's
 * COMMIT fails; router_unit_undo() when the caller rolls the unit back.
 * Call router_unit_begin() when a unit that may reach the router
 * (router_handle, router_run_command) starts.
 */
void		 router_unit_begin(struct router *);
void		 router_unit_undo(struct router *);

/*
 * Run a plugin's timer function inside a unit of work, with a context
 * that has no sender (for struct plugin_env).
 */
int		 router_run_timer(void *router, struct mb_plugin_ctx *,
		    int (*fn)(struct mb_plugin_ctx *, const struct mb_host *));

struct router_stats {
	unsigned long long	 handled, throttled, repeats, unknown;
};
void		 router_stats(struct router *, struct router_stats *);

/*
 * Check that every command users are told of has something to run it: the
 * first word of each USSD action (conf) and the commands the HELP
 * templates of every language name ("help" and "help-*") must each be a
 * core command or a command of plugins (NULL: none loaded).  Every miss
 * is logged with its file and line.  For -n, start-up and reload.  0, or
 * -1.
 */
int		 router_check_commands(const struct conf *,
		    const struct lang_set *, const struct plugin_set *);

/* --- for the USSD menus (ussd.c) --- */

/*
 * Run the command text of a USSD menu's action for mo's sender, recorded
 * as inbox row inbox_id, answering in lang (a loaded language, else the
 * sender's): the first word is a command id ("SELL") or a keyword of any
 * language, and, unlike router_handle(), the answer's language is not
 * switched to the keyword's nor remembered.  Charged to the sender's
 * flood bucket (no repeat window).  Replies go through outbox_reply(mo):
 * give an mo with reply_inline set to capture them with
 * outbox_take_inline().  Inside the caller's unit of work.  0; 1 when the
 * sender is over the flood limit (nothing ran, no reply: the caller
 * says so); -1 on a store failure.
 */
int		 router_run_command(struct router *, const struct mo *,
		    long long inbox_id, const char *lang, const char *text);

/*
 * A notice outside any message (an admin's action: a dispute closed):
 * template tmpl with args to msisdn in its language, as a plugin's
 * notify() sends it (a member's to her agent too), queued in the
 * outbox inside the caller's unit of work.  0, or -1 (logged).
 */
int		 router_notify(struct router *, const char *msisdn,
		    const char *tmpl, const struct mb_arg *, size_t nargs);

/* The languages in use (replaced on a reload: do not keep the pointer). */
const struct lang_set *router_langs(struct router *);

/*
 * The language the router answers sender in (*lang points into the
 * language set), and the sender's home market code into market ("" when
 * none).  0, or -1 on a store failure.
 */
int		 router_user_info(struct router *, const char *sender,
		    const char **lang, char *market, size_t marketlen);

#endif
