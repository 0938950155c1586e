/*
 * ussd_int.h - what the files of the USSD engine share, and only they
 * (ussd.h is the engine's interface): its limits, the session, the
 * engine's state, the MO being handled, and the functions one file of the
 * engine calls in another.
 *
 *	ussd.c		the ways in (an MO handed down by the dispatch step,
 *			over SMPP or the HTTP callback), sessions begun and
 *			ended, the answer sent, the engine's life
 *	ussd_session.c	a session's state: frames, answers, their text
 *			forms, the cache and the ussd_sessions rows
 *	ussd_screen.c	screens: octets and cutting, templates filled,
 *			paging, the lists to choose from
 *	ussd_answer.c	what the user answered: validation, choices, back,
 *			the resume question, actions run through the router
 */
#ifndef MARKETBOX_USSD_INT_H
#define MARKETBOX_USSD_INT_H

#include <stddef.h>

#include "engine/ussd.h"

struct conf;
struct conf_ussd_item;
struct conf_ussd_menu;
struct event;
struct event_base;
struct lang_set;
struct mb_arg;
struct mo;
struct outbox;
struct router;
struct store;

#define USSD_LOG		"mb.ussd"
#define USSD_DEPTH		16	/* frames of one session */
#define USSD_VARS		24	/* answers of one session */
#define USSD_ID_MAX		33	/* bytes of an id, with the NUL */
#define USSD_KEY_MAX		300	/* bytes of a session key */
#define USSD_INPUT_MAX		161	/* bytes of one answer kept */
#define USSD_INPUTS_MAX		64	/* inputs taken from one HTTP text */
#define USSD_LINES_MAX		256	/* lines of one list */
#define USSD_BUCKETS		4096	/* of the session cache */
#define USSD_CACHE_MAX		100000	/* sessions kept in memory */
#define USSD_SWEEP		60	/* seconds between sweeps */
#define USSD_KEEP		86400	/* seconds an idle row is kept */
#define USSD_NUMBER_MAX		999999999LL
#define USSD_TEXT_MAX		60	/* characters, without validate */
#define USSD_SCREEN_OCTETS	160	/* a screen, without ussd-screen-size */
#define USSD_ELLIPSIS		"\xE2\x80\xA6"	/* U+2026, ends a cut screen */

/* One screen of a session: a menu, an input item, the resume question. */
struct ussd_frame {
	char	 kind;			/* 'm', 'i', 'r' */
	char	 id[USSD_ID_MAX];
	int	 page;
};

struct ussd_var {
	char	 name[USSD_ID_MAX];
	char	*value;
};

struct ussd_session {
	struct ussd_session	*next;		/* in its cache bucket */
	int			 cached;
	char			*key;
	char			 msisdn[64];
	char			 lang[16];
	struct ussd_frame	 stack[USSD_DEPTH];
	size_t			 depth;
	struct ussd_var		 vars[USSD_VARS];
	size_t			 nvars;
	long long		 inputs;	/* HTTP inputs consumed */
	char			*screen;	/* the last screen shown */
	int			 ended;		/* it was an END screen */
	char			*mo_id;		/* the MO it answered */
	char			 state[8];	/* open, left, done */
	long long		 started, updated;
	char			*row_mo;	/* shared store: the mo_id of
						   its row as read or written
						   (NULL: no row yet) */
};

struct ussd {
	struct event_base	*base;
	const struct conf	*conf;
	struct store		*store;
	struct outbox		*outbox;
	struct router		*router;
	struct event		*sweep_ev;
	int			 sweeping;	/* its task is queued or
						   under way */
	struct ussd_session	**buckets;
	size_t			 ncached;
	int			 commit_waiting;
	struct ussd_stats	 stats;
};

/* One MO being handled. */
struct ussd_req {
	struct ussd		*u;
	const struct mo		*mo;
	long long		 inbox_id;
	long long		 now;
	const struct lang_set	*langs;
	struct ussd_session	*s;
	int			 error;		/* 1: invalid, 2: number out of
						   range (emin..emax) */
	long long		 emin, emax;
	int			 home_known;
	char			 home[USSD_ID_MAX];	/* home market code */
	int			 agent;		/* 0 not asked yet, 1 not an
						   agent, 2 an active agent */
	char			 msisdn[64];	/* the sender, international
						   ("": no phone number) */
};

/* One entry of a list to choose from. */
struct ussd_choice {
	const char	*value;		/* a code */
	char		*label;
	char		*own;		/* value when it is the list's own */
};

/* --- ussd.c ------------------------------------------------------------- */

long		 ussd_url_decode(const char *s, size_t n, unsigned char *out,
		    size_t outsize);

/* --- ussd_session.c ----------------------------------------------------- */

void		 ussd_session_free(struct ussd_session *s);
struct ussd_session
		*ussd_session_new(const char *key, const char *msisdn,
		    const char *lang, long long now);
const char	*ussd_var(const struct ussd_session *s, const char *name);
int		 ussd_var_set(struct ussd_session *s, const char *name,
		    const char *value);
void		 ussd_vars_clear(struct ussd_session *s);
struct ussd_frame
		*ussd_top(struct ussd_session *s);
int		 ussd_push(struct ussd_session *s, char kind, const char *id);
void		 ussd_restart(struct ussd *u, struct ussd_session *s);
void		 ussd_cache_put(struct ussd *u, struct ussd_session *s);
void		 ussd_cache_drop(struct ussd *u, const char *key);
void		 ussd_cache_clear(struct ussd *u);
struct ussd_session
		*ussd_load(struct ussd *u, const char *key, int *failed);
int		 ussd_save(struct ussd *u, struct ussd_session *s);
int		 ussd_exec2(struct ussd *u, const char *sql, const char *a,
		    const char *b);
int		 ussd_resumable(struct ussd *u, const char *msisdn,
		    const char *key, long long now, char *out, size_t outsize);

/* --- ussd_screen.c ------------------------------------------------------ */

size_t		 ussd_size(const struct conf *c);
char		*ussd_trim(const char *s);
char		*ussd_normal(const char *s);
size_t		 ussd_chars(const char *s);
char		*ussd_fill(struct ussd_req *r, const char *tmpl,
		    const struct mb_arg *extra, size_t nextra, int localise);
char		*ussd_text(struct ussd_req *r, const char *tmpl,
		    const struct mb_arg *extra, size_t nextra);
void		 ussd_choices_free(struct ussd_choice *c, size_t n);
long		 ussd_choices(struct ussd_req *r,
		    const struct conf_ussd_item *it, struct ussd_choice **out);
char		*ussd_render(struct ussd_req *r, int *npages);
int		 ussd_is_agent(struct ussd_req *r);
long		 ussd_menu_items(struct ussd_req *r,
		    const struct conf_ussd_menu *m,
		    const struct conf_ussd_item **items, size_t max);

/* --- ussd_answer.c ------------------------------------------------------ */

void		 ussd_check_frames(struct ussd *u, struct ussd_session *s);
int		 ussd_input(struct ussd_req *r, const char *raw);

#endif
