/*
 * router.c - from an MO's text to the command that handles it, and the
 * core commands: REG, HELP, LANG, STOP, START and ME.
 *
 * See router.h.  The order of the checks for one message:
 *
 *	flood limit (per sender, token bucket) -> repeat window (both in
 *	memory, per sender, given back when the unit does not commit; on a
 *	shared store the repeat window is in the database instead)
 *	-> words (words.c) -> keyword in the sender's language, else any
 *	-> core command, or a plugin's: registration, roles, handler
 *	-> anything not understood gets a one-SMS hint, never silence.
 */
#include "config.h"

#include <ctype.h>
#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "base/gw.h"

#include "base/conf.h"
#include "engine/core.h"
#include "text/lang.h"
#include "queue/mo.h"
#include "queue/outbox.h"
#include "plugin/plugin.h"
#include "engine/question.h"
#include "engine/router.h"
#include "store/store.h"
#include "text/words.h"

#define ROUTER_FLOOD_SLOTS	65536	/* senders tracked for flood limits */
#define ROUTER_FLOOD_PROBE	8
#define ROUTER_NAME_MAX		40	/* bytes of a registered name */

/* One sender's token bucket, and the last text handled for them. */
struct router_flood {
	char		 msisdn[64];	/* as struct user's */
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
 * The repeat window is kept here, not read from the inbox: an index of
 * the inbox by sender cost every MO a write to a random page of it.  A
 * text counts once its unit of work is in the transaction: pending until
 * the commit, which keeps it (done) or drops it (rolled back, so the
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

/* A core command. */
struct router_command {
	const char	*id;
	int		(*run)(struct mb_ctx *);
};

static int	router_reg(struct mb_ctx *);
static int	router_help(struct mb_ctx *);
static int	router_lang(struct mb_ctx *);
static int	router_stop(struct mb_ctx *);
static int	router_start(struct mb_ctx *);
static int	router_me(struct mb_ctx *);
static int	router_yes(struct mb_ctx *);
static int	router_no(struct mb_ctx *);

static const struct router_command router_commands[] = {
	{ "REG",	router_reg },
	{ "HELP",	router_help },
	{ "LANG",	router_lang },
	{ "STOP",	router_stop },
	{ "START",	router_start },
	{ "ME",		router_me },
	{ "YES",	router_yes },
	{ "NO",		router_no },
};

static void
router_currencies_free(struct core *core)
{
	size_t	 i;

	for (i = 0; i < core->ncurrencies; i++)
		free((char *)core->currencies[i]);
	free(core->currencies);
	core->currencies = NULL;
	core->ncurrencies = 0;
	words_currencies_free(core->money);
	core->money = NULL;
}

/* The words that mean money after a number: the currency and aliases. */
static int
router_currencies(struct core *core, const struct conf *conf)
{
	size_t	 i, n = conf->currency_aliases.count + 1;

	router_currencies_free(core);
	if ((core->currencies = calloc(n, sizeof(*core->currencies))) == NULL)
		return -1;
	for (i = 0; i < n; i++) {
		const char	*w = i == 0 ? conf->currency :
				    conf->currency_aliases.names[i - 1];
		char		*l;
		size_t		 j;

		if ((l = strdup(w ? w : "")) == NULL)
			return -1;
		for (j = 0; l[j] != '\0'; j++)
			l[j] = tolower((unsigned char)l[j]);
		core->currencies[core->ncurrencies++] = l;
	}
	/* folded once here rather than for every text */
	if ((core->money = words_currencies_new(core->currencies,
	    core->ncurrencies)) == NULL)
		return -1;
	return 0;
}

/* A dictionary being filled, and whether memory ran out. */
struct router_dict_fill {
	struct words_dict	*dict;
	int			 failed;
};

static int
router_dict_add(void *arg, const char *word)
{
	struct router_dict_fill	*f = arg;

	if (words_dict_add(f->dict, word) == -1)
		f->failed = 1;
	return f->failed;
}

static int
router_dict_add_keyword(void *arg, const char *word, const char *command)
{
	(void)command;
	return router_dict_add(arg, word);
}

/*
 * The words a text typed without spaces is cut at ("卖玉米10袋3000"):
 * every language's keywords and the catalogue's names and aliases.
 * 0, or -1 if memory runs out.
 */
static int
router_dict(struct core *core)
{
	struct router_dict_fill	 f = { NULL, 0 };
	const char * const	*codes;
	size_t			 n, i;

	if ((f.dict = words_dict_new()) == NULL)
		return -1;
	codes = lang_codes(core->langs, &n);
	for (i = 0; i < n && !f.failed; i++)
		lang_each_word(core->langs, codes[i],
		    router_dict_add_keyword, &f);
	if (!f.failed)
		catalogue_each_word(core->catalogue, router_dict_add, &f);
	if (f.failed) {
		words_dict_free(f.dict);
		return -1;
	}
	words_dict_free(core->dict);
	core->dict = f.dict;
	return 0;
}

static const struct router_command *router_core_command(const char *);

/*
 * A plugin command with a core command's id would never run: refuse it,
 * and warn of commands no language has a word for (nobody can type them).
 */
static int
router_check_plugins(struct router *r)
{
	const struct mb_command	**cmds;
	size_t			 n, i;
	int			 bad = 0;

	if (r->core.plugins == NULL)
		return 0;
	n = plugin_commands(r->core.plugins, (const struct mb_command ***)&cmds);
	for (i = 0; i < n; i++) {
		if (router_core_command(cmds[i]->id) != NULL) {
			error(0, "router: a plugin registers %s, a command of "
			    "marketbox itself; refusing the plugins",
			    cmds[i]->id);
			bad = -1;
		} else if (lang_command_word(r->core.langs,
		    lang_default(r->core.langs), cmds[i]->id) == NULL)
			warning(0, "router: command %s has no word in the "
			    "language files: nobody can send it", cmds[i]->id);
	}
	return bad;
}

struct router *
router_new(const struct conf *conf, struct store *store, struct outbox *outbox,
    struct lang_set *langs, struct plugin_set *plugins)
{
	struct router	*r;

	if ((r = calloc(1, sizeof(*r))) == NULL ||
	    (r->flood = calloc(ROUTER_FLOOD_SLOTS, sizeof(*r->flood))) == NULL) {
		error(errno, "router: out of memory");
		free(r);
		lang_free(langs);
		return NULL;
	}
	r->core.conf = conf;
	r->core.store = store;
	r->core.outbox = outbox;
	r->core.langs = langs;
	r->core.plugins = plugins;
	if (router_check_plugins(r) == -1) {
		router_free(r);
		return NULL;
	}
	if ((r->core.catalogue = catalogue_new(conf)) == NULL ||
	    router_currencies(&r->core, conf) == -1 ||
	    router_dict(&r->core) == -1) {
		error(0, "router: out of memory");
		router_free(r);
		return NULL;
	}
	return r;
}

void
router_free(struct router *r)
{
	if (r == NULL)
		return;
	/* The store holds a commit callback for this router: run it now. */
	if (r->charge_waiting)
		store_commit(r->core.store);
	catalogue_free(r->core.catalogue);
	router_currencies_free(&r->core);
	words_dict_free(r->core.dict);
	lang_free(r->core.langs);
	free(r->charges);
	free(r->flood);
	free(r);
}

int
router_set_conf(struct router *r, const struct conf *conf,
    struct lang_set *langs)
{
	struct catalogue	*cat;

	if ((cat = catalogue_new(conf)) == NULL) {
		lang_free(langs);
		return -1;
	}
	catalogue_free(r->core.catalogue);
	r->core.catalogue = cat;
	lang_free(r->core.langs);
	r->core.langs = langs;
	r->core.conf = conf;
	if (router_dict(&r->core) == -1)
		return -1;
	return router_currencies(&r->core, conf);
}

void
router_stats(struct router *r, struct router_stats *st)
{
	*st = r->stats;
}

/* --- flood limits and repeats ---------------------------------------------- */

static size_t
router_flood_hash(const char *s)
{
	size_t	 h = 5381;

	while (*s != '\0')
		h = h * 33 + (unsigned char)*s++;
	return h;
}

/*
 * The sender's bucket: found, or a free slot, or the slot idle longest
 * among the probed ones (its sender has been quiet: forgetting them only
 * gives them a full bucket again).
 */
static struct router_flood *
router_flood_slot(struct router *r, const char *msisdn)
{
	size_t			 h = router_flood_hash(msisdn), i;
	struct router_flood	*f, *oldest = NULL;

	for (i = 0; i < ROUTER_FLOOD_PROBE; i++) {
		f = &r->flood[(h + i) % ROUTER_FLOOD_SLOTS];
		if (strcmp(f->msisdn, msisdn) == 0)
			return f;
		if (f->msisdn[0] == '\0' || oldest == NULL ||
		    f->last < oldest->last) {
			oldest = f;
			if (f->msisdn[0] == '\0')
				break;
		}
	}
	i = oldest->gen + 1;
	memset(oldest, 0, sizeof(*oldest));
	oldest->gen = (unsigned)i;
	snprintf(oldest->msisdn, sizeof(oldest->msisdn), "%s", msisdn);
	oldest->tokens = r->core.conf->flood_burst;
	oldest->warned = -1000000;
	return oldest;
}

static void	router_charge_commit_cb(void *, int);

/*
 * A new charge on f for the unit of work now open, registered for the
 * commit; NULL if memory runs out.  The pointer is good until the next
 * charge.
 */
static struct router_charge *
router_charge_new(struct router *r, struct router_flood *f)
{
	struct router_charge	*c;
	size_t			 n;

	if (r->ncharges == r->charge_cap) {
		n = r->charge_cap ? r->charge_cap * 2 : 256;
		if ((c = realloc(r->charges, n * sizeof(*c))) == NULL) {
			error(errno, "router: out of memory");
			return NULL;
		}
		r->charges = c;
		r->charge_cap = n;
	}
	if (!r->charge_waiting) {
		if (store_on_commit(r->core.store, router_charge_commit_cb,
		    r) == -1)
			return NULL;
		r->charge_waiting = 1;
	}
	c = &r->charges[r->ncharges++];
	memset(c, 0, sizeof(*c));
	c->slot = (size_t)(f - r->flood);
	c->gen = f->gen;
	c->warned = -1;
	return c;
}

/* Give back what the charges from index from on took, newest first. */
static void
router_charges_undo(struct router *r, size_t from)
{
	const struct conf	*conf = r->core.conf;
	struct router_charge	*c;
	struct router_flood	*f;

	while (r->ncharges > from) {
		c = &r->charges[--r->ncharges];
		f = &r->flood[c->slot];
		/* A slot taken by another phone meanwhile starts afresh. */
		if (f->gen != c->gen)
			continue;
		f->tokens += c->tokens;
		if (f->tokens > conf->flood_burst)
			f->tokens = conf->flood_burst;
		if (c->warned != -1)
			f->warned = c->warned;
		if (c->rep && f->rep_state == ROUTER_REP_PENDING)
			f->rep_state = ROUTER_REP_NONE;
	}
}

/* The commit of the units charged since the last one: keep or give back. */
static void
router_charge_commit_cb(void *arg, int ok)
{
	struct router		*r = arg;
	struct router_charge	*c;
	struct router_flood	*f;
	size_t			 i;

	if (!ok)
		router_charges_undo(r, 0);
	for (i = 0; i < r->ncharges; i++) {
		c = &r->charges[i];
		f = &r->flood[c->slot];
		if (f->gen == c->gen && c->rep &&
		    f->rep_state == ROUTER_REP_PENDING)
			f->rep_state = ROUTER_REP_DONE;
	}
	r->ncharges = r->unit_mark = 0;
	r->charge_waiting = 0;
}

void
router_unit_begin(struct router *r)
{
	r->unit_mark = r->ncharges;
}

void
router_unit_undo(struct router *r)
{
	if (r->unit_mark <= r->ncharges)
		router_charges_undo(r, r->unit_mark);
}

/*
 * 1 if the sender may be served now (a token taken); 0 if over the limit
 * (*warn set when they should be told, once a minute); -1 if the charge
 * cannot be written down (out of memory).
 */
static int
router_flood_take(struct router *r, struct router_flood *f, long long now,
    int *warn)
{
	const struct conf	*c = r->core.conf;
	double			 rate = c->flood_rate / 60.0, full, mono;
	struct router_charge	*ch;
	struct timespec		 ts;

	*warn = 0;
	/*
	 * A time older than the last one by less than a full refill is a
	 * message that came out of order: no time has passed, nothing is
	 * earned.  Older by more, the clock went back (a refill can earn at
	 * most one full bucket anyway): the bucket earns what the monotonic
	 * clock says really passed and refills from the new time on, and a
	 * notice dated in the future does not keep the sender untold.
	 */
	full = rate > 0 ? c->flood_burst / rate : 0;
	if (full < 60)
		full = 60;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	mono = ts.tv_sec + ts.tv_nsec / 1e9;
	if (now < f->last - (long long)full) {
		/* What really passed since, the monotonic clock says. */
		if (mono > f->mono)
			f->tokens += (mono - f->mono) * rate;
		if (f->tokens > c->flood_burst)
			f->tokens = c->flood_burst;
		f->last = now;
		f->mono = mono;
		if (now < f->warned - (long long)full)
			f->warned = now - 60;
	}
	if (now > f->last) {
		f->tokens += (now - f->last) * rate;
		if (f->tokens > c->flood_burst)
			f->tokens = c->flood_burst;
		f->last = now;
		f->mono = mono;
	}
	if (f->tokens >= 1) {
		if ((ch = router_charge_new(r, f)) == NULL)
			return -1;
		ch->tokens = 1;
		f->tokens -= 1;
		return 1;
	}
	if (now - f->warned >= 60) {
		if ((ch = router_charge_new(r, f)) == NULL)
			return -1;
		ch->warned = f->warned;
		f->warned = now;
		*warn = 1;
	}
	return 0;
}

/* 64-bit FNV-1a of a text. */
static uint64_t
router_text_hash(const char *s)
{
	uint64_t	 h = 14695981039346656037ULL;

	while (*s != '\0') {
		h ^= (unsigned char)*s++;
		h *= 1099511628211ULL;
	}
	return h;
}

/*
 * 1 if f's phone sent the same text within the repeat window (its first
 * copy handled, or about to be committed); else 0, and the text is noted
 * as pending, as inbox row inbox_id.  -1 if it cannot be noted (out of
 * memory).
 */
static int
router_is_repeat(struct router *r, struct router_flood *f, const char *text,
    long long now, long long inbox_id)
{
	long long		 window = r->core.conf->repeat_window;
	uint64_t		 h;
	struct router_charge	*ch;

	if (window == 0)
		return 0;
	h = router_text_hash(text);
	if (f->rep_state != ROUTER_REP_NONE && f->rep_hash == h &&
	    now >= f->rep_time && now - f->rep_time <= window)
		return 1;
	if ((ch = router_charge_new(r, f)) == NULL)
		return -1;
	ch->rep = 1;
	f->rep_hash = h;
	f->rep_time = now;
	f->rep_inbox = inbox_id;
	f->rep_noted = (long long)time(NULL);
	f->rep_state = ROUTER_REP_PENDING;
	return 0;
}

/*
 * The repeat window on a shared store (store_shared): several instances
 * get one phone's MOs (bearerbox spreads them over the boxes), so the
 * last text of each phone is kept in repeat_window, one statement per MO
 * in the MO's own unit of work (a unit rolled back forgets it, as the
 * memory path's pending text is given back).  The row is replaced unless
 * it holds the same text within the window: a change means a new text, no
 * change a repeat.  The flood buckets stay per instance (see
 * router_flood_take's caller and marketbox.conf(5)).  On SQLite (one
 * marketbox per file) the memory path above is used, with no statement.
 */
static const char router_sql_repeat[] =
    "INSERT INTO repeat_window (msisdn, hash, at, inbox_id)"
    " VALUES ($1, $2, $3, $4)"
    " ON CONFLICT (msisdn) DO UPDATE SET hash = excluded.hash,"
    " at = excluded.at, inbox_id = excluded.inbox_id"
    " WHERE repeat_window.hash <> excluded.hash"
    " OR repeat_window.at < excluded.at - $5"
    " OR repeat_window.at > excluded.at";
static const char router_sql_repeat_of[] =
    "SELECT inbox_id, at FROM repeat_window WHERE msisdn = $1";

/*
 * router_is_repeat() on a shared store: 1 a repeat (the first copy's inbox
 * row in *inbox, and in *since a time its replies were made after: the
 * MO's time, not the clock's, so a minute earlier for an SMSC's clock
 * ahead of ours; the inbox row picks the replies), 0 not (the text is
 * now the phone's last), -1 a store failure (logged).
 */
static int
router_is_repeat_shared(struct router *r, const char *msisdn,
    const char *text, long long now, long long inbox_id, long long *inbox,
    long long *since)
{
	struct store		*s = r->core.store;
	long long		 window = r->core.conf->repeat_window;
	struct store_stmt	*st;

	if (window == 0)
		return 0;
	/* the 64-bit hash, as the memory path's, stored as a signed one */
	if ((st = store_query(s, router_sql_repeat)) == NULL ||
	    store_bind_text(st, 1, msisdn) == -1 ||
	    store_bind_int(st, 2, (long long)router_text_hash(text)) == -1 ||
	    store_bind_int(st, 3, now) == -1 ||
	    store_bind_int(st, 4, inbox_id) == -1 ||
	    store_bind_int(st, 5, window) == -1 ||
	    store_step(st) != STORE_DONE) {
		store_done(st);
		return -1;
	}
	store_done(st);
	if (store_changes(s) == 1)
		return 0;
	if ((st = store_query(s, router_sql_repeat_of)) == NULL ||
	    store_bind_text(st, 1, msisdn) == -1 ||
	    store_step(st) != STORE_ROW) {
		store_done(st);
		return -1;
	}
	*inbox = store_int(st, 0);
	*since = store_int(st, 1) - 60;
	store_done(st);
	return 1;
}

#define ROUTER_REPEAT_REPLIES	4	/* replies of one text sent again */

/*
 * A repeat: the phone most likely never got the answer.  Send the replies
 * the first copy got (inbox row inbox, noted at since or later) again, as
 * new messages tied to this MO; when they cannot be found (not stored to
 * this sender form, or the first copy made none), a short note that the
 * text was received and how to see where things stand.  The command does
 * not run again.
 */
static int
router_repeat_reply(struct router *r, struct mb_ctx *ctx, long long inbox,
    long long since)
{
	char	**texts;
	size_t	  n, i;
	int	  rc = 0;

	if (outbox_replies_of(r->core.outbox, inbox, ctx->mo->sender,
	    since, ROUTER_REPEAT_REPLIES, &texts, &n) == -1)
		return -1;
	if (n == 0)
		return host_reply(ctx, "repeat", NULL, 0);
	for (i = 0; i < n && rc == 0; i++)
		rc = outbox_reply(r->core.outbox, ctx->mo, ctx->inbox_id,
		    texts[i]);
	outbox_texts_free(texts, n);
	return rc;
}

/* --- helpers for replies ------------------------------------------------------ */

/* The word for command in lang, uppercase, malloc'd ("SELL", "UZA"). */
static char *
router_command_word(struct mb_ctx *ctx, const char *command)
{
	const char	*w = lang_command_word(ctx->core->langs, ctx->lang,
			    command);
	char		*s;
	size_t		 i;

	if ((s = strdup(w ? w : command)) == NULL)
		return NULL;
	for (i = 0; s[i] != '\0'; i++)
		s[i] = toupper((unsigned char)s[i]);
	return s;
}

static int
router_reply0(struct mb_ctx *ctx, const char *tmpl)
{
	return host_reply(ctx, tmpl, NULL, 0);
}

static int
router_reply1(struct mb_ctx *ctx, const char *tmpl, const char *name,
    const char *value)
{
	struct mb_arg	 a = { name, value ? value : "" };

	return host_reply(ctx, tmpl, &a, 1);
}

/* The usage template of a command: "usage-SELL" for SELL. */
static int
router_usage(struct mb_ctx *ctx, const char *id, const char *usage)
{
	char	 name[64];

	if (usage == NULL) {
		snprintf(name, sizeof(name), "usage-%s", id);
		usage = name;
	}
	return router_reply0(ctx, usage);
}

/* --- the user's record ---------------------------------------------------- */

/*
 * Remember the language a user writes in (they need not be registered).
 * The record is saved once the command is done, unless the command saved
 * it: a phone's first REG writes its row once, not twice.
 */
static int
router_remember_language(struct mb_ctx *ctx)
{
	struct user	*u = ctx->user;

	if (u->language != NULL && strcmp(u->language, ctx->lang) == 0)
		return 0;
	free(u->language);
	if ((u->language = strdup(ctx->lang)) == NULL)
		return -1;
	u->dirty = 1;
	return 0;
}

/* --- core commands ------------------------------------------------------------ */

/* A market's name for replies: its conf name, else its code. */
static const char *
router_market_name(struct mb_ctx *ctx, const char *code)
{
	const struct conf_market	*m = conf_market_find(ctx->core->conf,
					    code);

	return m != NULL && m->name != NULL ? m->name : code;
}

/*
 * 1 if a REG name can be a person's: it has a letter (any non-ASCII
 * character counts: 王芳 is a name) and fewer than 7 digits (more look
 * like a phone number: "REG 0722000111", "REG John 0722 000 111").
 */
static int
router_name_ok(const char *name)
{
	size_t	 digits = 0, letters = 0;

	for (; *name != '\0'; name++) {
		if (isdigit((unsigned char)*name))
			digits++;
		else if (isalpha((unsigned char)*name) ||
		    (unsigned char)*name >= 0x80)
			letters++;
	}
	return letters > 0 && digits < 7;
}

/*
 * A name is shown to other people and on operators' screens: a line
 * break or a tab typed between its words becomes a space; any other
 * control character (ESC, BEL, C1 controls U+0080-U+009F) makes it
 * refused, as it could drive a terminal.  1 when refused.
 */
static int
router_name_controls(char *name)
{
	unsigned char	*p;

	for (p = (unsigned char *)name; *p != '\0'; p++) {
		if (*p == '\n' || *p == '\r' || *p == '\t')
			*p = ' ';
		else if (*p < 0x20 || *p == 0x7f ||
		    (*p == 0xc2 && p[1] >= 0x80 && p[1] <= 0x9f))
			return 1;
	}
	return 0;
}

/*
 * Cut a name longer than ROUTER_NAME_MAX bytes at the last word that
 * fits; a first word longer than that is cut at a character boundary.
 */
static void
router_name_cut(char *name)
{
	size_t	 k;

	if (strlen(name) <= ROUTER_NAME_MAX)
		return;
	for (k = ROUTER_NAME_MAX; k > 0; k--)
		if (isspace((unsigned char)name[k]))
			break;
	if (k == 0) {
		k = ROUTER_NAME_MAX;
		while (k > 0 && ((unsigned char)name[k] & 0xC0) == 0x80)
			k--;
	}
	while (k > 0 && isspace((unsigned char)name[k - 1]))
		k--;
	name[k] = '\0';
}

/*
 * A few market names for a reply that asks for one: the first markets of
 * the conf, at most three and about 40 bytes, malloc'd ("" for none).
 */
static char *
router_market_examples(struct mb_ctx *ctx)
{
	const struct conf	*c = ctx->core->conf;
	char			 buf[128] = "";
	size_t			 i, shown = 0;

	for (i = 0; i < c->nmarkets && shown < 3; i++) {
		const char	*n = c->markets[i].name ? c->markets[i].name :
				    c->markets[i].code;

		if (shown > 0 && strlen(buf) + strlen(n) + 2 > 40)
			break;
		if (shown > 0)
			strncat(buf, ", ", sizeof(buf) - strlen(buf) - 1);
		strncat(buf, n, sizeof(buf) - strlen(buf) - 1);
		shown++;
	}
	return strdup(buf);
}

/*
 * The market named by the last word of REG, or the last two: the index
 * of its first word into *at and its code, or NULL.  A lone word is the
 * name, never a market.  With typo set, a word within a typo of a market
 * also counts ("Nakru"), for a suggestion.
 */
static const char *
router_reg_market(struct mb_ctx *ctx, int typo, size_t *at)
{
	const struct words	*w = ctx->words;
	size_t			 nargs = w->n - ctx->first, k;
	const char		*market = NULL;
	char			 joined[128];
	int			 len;

	for (k = 2; k >= 1 && market == NULL; k--) {
		if (nargs <= k)
			continue;
		if (k == 2)
			len = snprintf(joined, sizeof(joined), "%s %s",
			    w->word[w->n - 2], w->word[w->n - 1]);
		else
			len = snprintf(joined, sizeof(joined), "%s",
			    w->word[w->n - 1]);
		/* Words longer than any market name name no market. */
		if (len < 0 || (size_t)len >= sizeof(joined))
			continue;
		market = typo ? catalogue_market_suggest(ctx->core->catalogue,
		    joined) : catalogue_market(ctx->core->catalogue, joined);
		if (market != NULL)
			*at = w->n - k;
	}
	return market;
}

/*
 * REG name [market]: the market is the last word, or the last two, when
 * they name a known market; the rest, as typed, is the name.  Nothing is
 * saved, and the reply says what to send instead, when the last words
 * are a market misspelt (the name would swallow it), when the name is a
 * number or a phone number, or when no market is given and none is known
 * for the sender.  A market alone ("REG Nakuru") gets the usage.  A name
 * is kept to ROUTER_NAME_MAX bytes, cut at a word.
 */
static int
router_reg(struct mb_ctx *ctx)
{
	const struct words	*w = ctx->words;
	struct user		*u = ctx->user;
	const char		*market, *near, *mname;
	size_t			 nargs = w->n - ctx->first, name_end = w->n, k;
	char			*name, *list;
	int			 fresh = u->name == NULL, rc;
	struct mb_arg		 args[3];

	if (nargs == 0 || (nargs == 1 && catalogue_market(ctx->core->catalogue,
	    w->word[ctx->first]) != NULL))
		return router_usage(ctx, "REG", NULL);
	market = router_reg_market(ctx, 0, &name_end);
	near = market == NULL ? router_reg_market(ctx, 1, &name_end) : NULL;
	/* The name: from the first argument to the market, as typed. */
	name = strndup(words_rest(w, ctx->first), name_end < w->n ?
	    (size_t)(words_rest(w, name_end) -
	    words_rest(w, ctx->first)) : strlen(words_rest(w, ctx->first)));
	if (name == NULL)
		return -1;
	for (k = strlen(name); k > 0 && isspace((unsigned char)name[k - 1]); k--)
		name[k - 1] = '\0';
	if (router_name_controls(name)) {
		free(name);
		return router_reply0(ctx, "reg-bad-control");
	}
	if (!router_name_ok(name)) {
		free(name);
		return router_reply0(ctx, "reg-bad-name");
	}
	router_name_cut(name);
	if (near != NULL || (market == NULL && u->market == NULL)) {
		/* Ask, and save nothing: the next REG says it all. */
		if ((list = router_market_examples(ctx)) == NULL) {
			free(name);
			return -1;
		}
		args[0] = (struct mb_arg){ "name", name };
		args[1] = (struct mb_arg){ "market", near ?
		    router_market_name(ctx, near) : ctx->core->conf->nmarkets ?
		    router_market_name(ctx, ctx->core->conf->markets[0].code) :
		    "" };
		args[2] = (struct mb_arg){ "markets", list };
		rc = host_reply(ctx, near ? "reg-suggest" : "reg-need-market",
		    args, 3);
		free(list);
		free(name);
		return rc;
	}
	free(u->name);
	u->name = name;
	if (market != NULL) {
		free(u->market);
		if ((u->market = strdup(market)) == NULL)
			return -1;
	}
	if (u->language == NULL && (u->language = strdup(ctx->lang)) == NULL)
		return -1;
	if (user_save(ctx->core, u) == -1)
		return -1;
	mname = router_market_name(ctx, u->market);
	args[0].name = "name";
	args[0].value = u->name;
	args[1].name = "market";
	args[1].value = mname;
	return host_reply(ctx, fresh ? "reg-ok" : "reg-updated", args, 2);
}

static int
router_help(struct mb_ctx *ctx)
{
	const char	*id;
	char		 name[64];

	if (ctx->words->n > ctx->first &&
	    (id = lang_keyword(ctx->core->langs, ctx->words->word[ctx->first],
	    ctx->lang, NULL)) != NULL) {
		snprintf(name, sizeof(name), "help-%s", id);
		if (lang_template(ctx->core->langs, ctx->lang, name) != NULL)
			return router_reply0(ctx, name);
	}
	return router_reply0(ctx, "help");
}

/* The codes of the loaded languages, "en, fr, sw, zh". */
static char *
router_lang_codes(struct mb_ctx *ctx)
{
	const char * const	*codes;
	size_t			 n, i, len = 1;
	char			*s;

	codes = lang_codes(ctx->core->langs, &n);
	for (i = 0; i < n; i++)
		len += strlen(codes[i]) + 2;
	if ((s = malloc(len)) == NULL)
		return NULL;
	s[0] = '\0';
	for (i = 0; i < n; i++) {
		if (i > 0)
			strcat(s, ", ");
		strcat(s, codes[i]);
	}
	return s;
}

/*
 * LANG language: a code ("fr"), or a language's name in any language
 * ("français", "francais", "kiswahili", "中文"), as the language files'
 * names list them; the whole rest of the text first ("chinois
 * simplifie" could be one name), then its first word.
 */
static int
router_lang(struct mb_ctx *ctx)
{
	const struct words	*w = ctx->words;
	const char		*code = NULL;
	char			*want, *list;
	size_t			 i, len = 1;
	int			 rc;

	if (w->n <= ctx->first)
		return router_usage(ctx, "LANG", NULL);
	for (i = ctx->first; i < w->n; i++)
		len += strlen(w->word[i]) + 1;
	if ((want = malloc(len)) == NULL)
		return -1;
	want[0] = '\0';
	for (i = ctx->first; i < w->n; i++) {
		if (i > ctx->first)
			strcat(want, " ");
		strcat(want, w->word[i]);
	}
	code = lang_by_name(ctx->core->langs, want);
	free(want);
	if (code == NULL)
		code = lang_by_name(ctx->core->langs, w->word[ctx->first]);
	if (code == NULL) {
		struct mb_arg	 args[2];

		if ((list = router_lang_codes(ctx)) == NULL)
			return -1;
		args[0].name = "code";
		args[0].value = w->word[ctx->first];
		args[1].name = "codes";
		args[1].value = list;
		rc = host_reply(ctx, "lang-unknown", args, 2);
		free(list);
		return rc;
	}
	ctx->lang = code;
	free(ctx->user->language);
	if ((ctx->user->language = strdup(code)) == NULL)
		return -1;
	ctx->user->language_chosen = 1;
	if (user_save(ctx->core, ctx->user) == -1)
		return -1;
	return router_reply1(ctx, "lang-ok", "language",
	    lang_name(ctx->core->langs, code));
}

static int
router_optout(struct mb_ctx *ctx, int out)
{
	ctx->user->opt_out = out;
	if (user_save(ctx->core, ctx->user) == -1)
		return -1;
	return router_reply0(ctx, out ? "stop-ok" : "start-ok");
}

static int
router_stop(struct mb_ctx *ctx)
{
	return router_optout(ctx, 1);
}

static int
router_start(struct mb_ctx *ctx)
{
	return router_optout(ctx, 0);
}

/* The names of the roles in a MB_ROLE_* mask, in the reply's language. */
static char *
router_role_names(struct mb_ctx *ctx, unsigned have)
{
	static const struct {
		unsigned	 bit;
		const char	*tmpl;
	} roles[] = {
		{ MB_ROLE_FARMER, "role-farmer" },
		{ MB_ROLE_BUYER, "role-buyer" },
		{ MB_ROLE_TRANSPORTER, "role-transporter" },
		{ MB_ROLE_AGENT, "role-agent" },
		{ MB_ROLE_ADMIN, "role-admin" },
	};
	char		 buf[256] = "";
	size_t		 i;

	for (i = 0; i < sizeof(roles) / sizeof(roles[0]); i++) {
		const char	*t;

		if (!(have & roles[i].bit) || (t = lang_template(
		    ctx->core->langs, ctx->lang, roles[i].tmpl)) == NULL)
			continue;
		if (buf[0] != '\0')
			strncat(buf, ", ", sizeof(buf) - strlen(buf) - 1);
		strncat(buf, t, sizeof(buf) - strlen(buf) - 1);
	}
	return strdup(buf);
}

static int
router_me(struct mb_ctx *ctx)
{
	struct user		*u = ctx->user;
	const struct conf_market *m;
	struct mb_arg		 args[5];
	char			 trades[24], *roles;
	int			 rc;

	if (u->name == NULL)
		return router_reply0(ctx, "me-unregistered");
	m = u->market ? conf_market_find(ctx->core->conf, u->market) : NULL;
	snprintf(trades, sizeof(trades), "%lld", u->trades);
	if ((roles = router_role_names(ctx, host_roles(ctx->core, u))) == NULL)
		return -1;
	args[0] = (struct mb_arg){ "name", u->name };
	args[1] = (struct mb_arg){ "market", m ? m->name : "-" };
	args[2] = (struct mb_arg){ "language",
	    lang_name(ctx->core->langs, ctx->lang) };
	args[3] = (struct mb_arg){ "roles", roles };
	args[4] = (struct mb_arg){ "trades", trades };
	rc = host_reply(ctx, "me", args, 5);
	free(roles);
	return rc;
}

/* --- questions: YES and NO ------------------------------------------------- */

static int	router_dispatch(struct router *, struct mb_ctx *, const char *);
static struct router *router_of(struct mb_ctx *);

/*
 * Take the sender's open question.  1 with q filled when there is one that
 * has not expired; 0 when there is none or it expired (it is gone, and the
 * sender was told, with what to send instead); -1 on a store failure.
 */
static int
router_question(struct mb_ctx *ctx, struct question *q)
{
	int	 rc;

	if ((rc = question_take(ctx->core->store, ctx->user->msisdn, q)) != 1)
		return rc == 0 ? router_reply0(ctx, "question-none") : -1;
	if (q->expires <= host_time(ctx)) {
		question_clear(q);
		return router_reply0(ctx, "question-expired") == -1 ? -1 : 0;
	}
	return 1;
}

/*
 * The command of an answered question, run as the sender through the
 * same dispatch as a typed command (registration and roles are checked
 * again: they may have changed since the question), with confirmed() 1.
 * Its first word is a command id, else a keyword of any language.  The
 * answer is in the question's language, which the sender keeps (unless
 * they chose theirs with LANG): people answer "ok" or "yes" whatever
 * their language, and the question's was the conversation's.
 */
static int
router_question_run(struct mb_ctx *ctx, const struct question *q)
{
	struct core		*core = ctx->core;
	const struct words	*words = ctx->words;
	const char * const	*codes;
	const char		*id = NULL;
	size_t			 first = ctx->first, n, i;
	struct words		 w;
	char			 upper[32];
	int			 rc;

	codes = lang_codes(core->langs, &n);
	for (i = 0; i < n; i++)
		if (strcmp(codes[i], q->language) == 0 &&
		    (!ctx->user->language_chosen || ctx->user->language ==
		    NULL || strcmp(ctx->user->language, codes[i]) == 0))
			ctx->lang = codes[i];
	if (router_remember_language(ctx) == -1)
		return -1;
	if (words_split_with(q->command, core->money, NULL, &w) == -1)
		return -1;
	if (w.n > 0) {
		for (i = 0; w.word[0][i] != '\0' && i < sizeof(upper) - 1; i++)
			upper[i] = toupper((unsigned char)w.word[0][i]);
		upper[i] = '\0';
		if (router_core_command(upper) != NULL ||
		    (core->plugins != NULL &&
		    plugin_command(core->plugins, upper, NULL) != NULL))
			id = upper;
		else
			id = lang_keyword(core->langs, w.word[0], ctx->lang,
			    NULL);
	}
	if (id == NULL) {
		/* Nothing a plugin would ask: logged, and the sender told. */
		error(0, "router: the question of %s runs '%s', no command",
		    ctx->user->msisdn, q->command);
		words_free(&w);
		return router_reply0(ctx, "error");
	}
	ctx->words = &w;
	ctx->first = 1;
	ctx->confirmed = 1;
	rc = router_dispatch(router_of(ctx), ctx, id);
	ctx->confirmed = 0;
	ctx->words = words;
	ctx->first = first;
	words_free(&w);
	return rc;
}

/*
 * YES: the open question's command runs, once: the question is deleted
 * in the same unit of work, so a second YES finds none (and a failure
 * rolls both back: the phone may answer again).
 */
static int
router_yes(struct mb_ctx *ctx)
{
	struct question	 q;
	int		 rc;

	if ((rc = router_question(ctx, &q)) != 1)
		return rc;
	rc = router_question_run(ctx, &q);
	question_clear(&q);
	return rc;
}

/* NO: the open question is dropped; nothing runs. */
static int
router_no(struct mb_ctx *ctx)
{
	struct question	 q;
	int		 rc;

	if ((rc = router_question(ctx, &q)) != 1)
		return rc;
	question_clear(&q);
	return router_reply0(ctx, "question-no");
}

/* --- not understood --------------------------------------------------------- */

struct router_near {
	const char	*word;
	const char	*best;		/* command id */
	int		 bestd;
};

static int
router_near_cb(void *arg, const char *word, const char *command)
{
	struct router_near	*n = arg;
	int			 d = words_distance(n->word, word, n->bestd - 1);

	if (d < n->bestd) {
		n->bestd = d;
		n->best = command;
	}
	return n->bestd == 0;
}

/*
 * A hint for a word that is no command: a command within one typo (two
 * for long words), or a commodity (then most likely a forgotten SELL or a
 * PRICE question), else the list of the main commands.
 */
static int
router_unknown(struct mb_ctx *ctx)
{
	const struct words	*w = ctx->words;
	const char		*first = w->word[0], *commodity;
	struct router_near	 near;
	char			*cmd, *suggestion = NULL, *shown;
	struct mb_arg		 args[2];
	int			 rc;
	size_t			 len = 0, i;

	/* Letters, not bytes: 你好 is two, and two letters allow one typo. */
	for (i = 0; first[i] != '\0'; i++)
		if (((unsigned char)first[i] & 0xC0) != 0x80)
			len++;

	near.word = first;
	near.best = NULL;
	near.bestd = (len >= 6 ? 2 : 1) + 1;
	if (len >= 3)
		lang_each_word(ctx->core->langs, ctx->lang, router_near_cb,
		    &near);
	commodity = catalogue_commodity(ctx->core->catalogue, first);
	if (commodity == NULL && near.best == NULL)
		commodity = catalogue_commodity_suggest(ctx->core->catalogue,
		    first);

	if (near.best != NULL) {
		if ((cmd = router_command_word(ctx, near.best)) == NULL)
			return -1;
		suggestion = cmd;
	} else if (commodity != NULL) {
		const char	*rest = words_rest(w, 1);

		if ((cmd = router_command_word(ctx, w->n > 1 ? "SELL" :
		    "PRICE")) == NULL)
			return -1;
		if (asprintf(&suggestion, "%s %s%s%s", cmd, commodity,
		    w->n > 1 ? " " : "", w->n > 1 ? rest : "") == -1)
			suggestion = NULL;
		free(cmd);
		if (suggestion == NULL)
			return -1;
	}
	if (suggestion == NULL)
		return router_reply0(ctx, "unknown");
	/* Shown as commands are, in capitals. */
	if ((shown = strdup(first)) == NULL) {
		free(suggestion);
		return -1;
	}
	for (i = 0; shown[i] != '\0'; i++)
		shown[i] = toupper((unsigned char)shown[i]);
	args[0] = (struct mb_arg){ "word", shown };
	args[1] = (struct mb_arg){ "suggestion", suggestion };
	rc = host_reply(ctx, "unknown-suggest", args, 2);
	free(suggestion);
	free(shown);
	return rc;
}

/* --- dispatch --------------------------------------------------------------------- */

/* The router whose core ctx runs in (the core is the router's). */
static struct router *
router_of(struct mb_ctx *ctx)
{
	return (struct router *)(void *)((char *)ctx->core -
	    offsetof(struct router, core));
}

static const struct router_command *
router_core_command(const char *id)
{
	size_t	 i;

	for (i = 0; i < sizeof(router_commands) / sizeof(router_commands[0]);
	    i++)
		if (strcmp(router_commands[i].id, id) == 0)
			return &router_commands[i];
	return NULL;
}

/*
 * A command the sender's roles do not allow: say whose it is and whom to
 * ask.  A role that registering gives (farmer, buyer) is REG away.
 */
static int
router_not_allowed(struct mb_ctx *ctx, const char *id, unsigned roles)
{
	struct mb_arg	 args[2];
	char		*names, *cmd = NULL;
	int		 rc;

	if (ctx->user->name == NULL &&
	    (roles & (MB_ROLE_FARMER | MB_ROLE_BUYER)) != 0)
		return router_reply0(ctx, "need-reg");

	if ((names = router_role_names(ctx, roles)) == NULL ||
	    (cmd = router_command_word(ctx, id)) == NULL) {
		free(names);
		return -1;
	}
	args[0] = (struct mb_arg){ "command", cmd };
	args[1] = (struct mb_arg){ "roles", names };
	rc = host_reply(ctx, "not-allowed", args, 2);
	free(names);
	free(cmd);
	return rc;
}

static int
router_dispatch(struct router *r, struct mb_ctx *ctx, const char *id)
{
	const struct router_command	*core;
	const struct mb_command		*cmd;
	const struct mb_host		*host;
	struct mb_plugin_ctx		*pctx = NULL;
	char				*word;
	int				 rc;

	if ((core = router_core_command(id)) != NULL)
		return core->run(ctx);
	cmd = r->core.plugins ? plugin_command(r->core.plugins, id, &pctx) :
	    NULL;
	if (cmd == NULL) {
		if ((word = router_command_word(ctx, id)) == NULL)
			return -1;
		rc = router_reply1(ctx, "unavailable", "command", word);
		free(word);
		return rc;
	}
	if ((cmd->flags & MB_CMD_REGISTERED) && ctx->user->name == NULL)
		return router_reply0(ctx, "need-reg");
	if (cmd->roles != 0 && !(host_roles(&r->core, ctx->user) & cmd->roles))
		return router_not_allowed(ctx, id, cmd->roles);
	if ((host = plugin_host(pctx)) == NULL) {
		error(0, "router: command %s: its plugin is not started", id);
		return -1;
	}
	ctx->pctx = pctx;
	rc = cmd->handler(ctx, host);
	ctx->pctx = NULL;
	if (rc == MB_USAGE)
		return router_usage(ctx, id, cmd->usage);
	if (rc != MB_OK)
		return -1;
	/* Never silence: a handler that said nothing gets the usage. */
	if (ctx->replied == 0)
		return router_usage(ctx, id, cmd->usage);
	return 0;
}

/*
 * The users-table key of a sender: its international form, or the sender
 * as given when it is a number of another form (a short code).  -1, logged,
 * for a sender that is no number: an alphanumeric sender id ("MPESA", or
 * "=HYPERLINK(...)" from an aggregator that passes any text) cannot be
 * answered by SMS, and as a user it would put text of its own choosing in
 * other people's notices and in operators' tables.  Its MO stays in the
 * inbox as "refused" (marketctl and the admin pages show it): not served,
 * not silently lost.  Also -1 for a sender too long to be a number:
 * cutting it could make two senders one user.
 */
static int
router_sender_key(struct router *r, const char *sender, char *out,
    size_t len)
{
	const unsigned char	*p = (const unsigned char *)sender;
	char			 shown[64];
	size_t			 i;

	if (msisdn_normalise(r->core.conf->country_code, sender, out,
	    len) == 0)
		return 0;
	if (*p == '+')
		p++;
	for (i = 0; isdigit(*p); i++)
		p++;
	if (*p != '\0' || i == 0) {
		/* The sender as a log line may show it: printable, cut. */
		for (i = 0, p = (const unsigned char *)sender;
		    *p != '\0' && i + 5 < sizeof(shown); p++)
			i += (size_t)snprintf(shown + i, sizeof(shown) - i,
			    *p >= 0x20 && *p < 0x7f && *p != '\\' ? "%c" :
			    "\\x%02x", *p);
		shown[i] = '\0';
		info(0, "router: MO from '%s%s', which is no phone number: "
		    "stored as refused, not answered", shown,
		    *p != '\0' ? "..." : "");
		return -1;
	}
	if (strlen(sender) >= len) {
		warning(0, "router: a sender of %zu characters (%.16s...) is "
		    "no phone number; its message is not served",
		    strlen(sender), sender);
		return -1;
	}
	memcpy(out, sender, strlen(sender) + 1);
	return 0;
}

int
router_handle(struct router *r, const struct mo *mo, long long inbox_id,
    enum router_outcome *outcome)
{
	struct mb_ctx	 ctx;
	struct user	 user;
	struct words	 w;
	char		 msisdn[64];
	const char	*id, *found = NULL;
	long long	 now = mo->time > 0 ? mo->time : (long long)time(NULL);
	struct router_flood *f;
	long long	 rep_inbox = 0, rep_since = 0;
	int		 warn, repeat, taken, rc = -1;

	*outcome = ROUTER_DONE;
	memset(&ctx, 0, sizeof(ctx));
	memset(&w, 0, sizeof(w));
	ctx.core = &r->core;
	ctx.mo = mo;
	ctx.inbox_id = inbox_id;

	if (router_sender_key(r, mo->sender, msisdn, sizeof(msisdn)) == -1) {
		*outcome = ROUTER_REFUSED;
		return 0;
	}
	if (user_load(&r->core, msisdn, &user) == -1)
		return -1;
	ctx.user = &user;
	ctx.lang = user.language && lang_exists(r->core.langs, user.language) ?
	    user.language : lang_default(r->core.langs);

	/*
	 * The flood bucket is this instance's: with N instances on a shared
	 * store, bearerbox spreading a phone's MOs over them, the phone can
	 * be served up to N times flood-burst at once and N times
	 * flood-rate a minute (marketbox.conf(5) says so).  The repeat window
	 * below holds across them there: it is in the database.
	 */
	f = router_flood_slot(r, msisdn);
	if ((taken = router_flood_take(r, f, now, &warn)) != 1) {
		if (taken == -1)
			goto out;
		*outcome = ROUTER_THROTTLED;
		r->stats.throttled++;
		rc = warn ? router_reply0(&ctx, "slow-down") : 0;
		goto out;
	}
	if (store_shared(r->core.store))
		repeat = router_is_repeat_shared(r, msisdn,
		    mo->text ? mo->text : "", now, inbox_id, &rep_inbox,
		    &rep_since);
	else if ((repeat = router_is_repeat(r, f, mo->text ? mo->text : "",
	    now, inbox_id)) == 1) {
		rep_inbox = f->rep_inbox;
		rep_since = f->rep_noted - 1;
	}
	if (repeat != 0) {
		if (repeat == -1)
			goto out;
		*outcome = ROUTER_REPEAT;
		r->stats.repeats++;
		rc = router_repeat_reply(r, &ctx, rep_inbox, rep_since);
		goto out;
	}
	r->stats.handled++;
	if (words_split_with(mo->text, r->core.money, r->core.dict, &w) == -1)
		goto out;
	ctx.words = &w;
	if (w.n == 0) {
		rc = router_reply0(&ctx, "empty");
		goto out;
	}
	id = lang_keyword(r->core.langs, w.word[0], ctx.lang, &found);
	if (id == NULL) {
		r->stats.unknown++;
		rc = router_unknown(&ctx);
		goto out;
	}
	/*
	 * A keyword of another language: answer in it, and remember it --
	 * unless the sender chose their language with LANG, which stays.
	 */
	if (found != NULL && strcmp(found, ctx.lang) != 0 &&
	    !user.language_chosen)
		ctx.lang = found;
	if (router_remember_language(&ctx) == -1)
		goto out;
	ctx.first = 1;
	rc = router_dispatch(r, &ctx, id);
	if (rc == 0 && user.dirty && user_save(&r->core, &user) == -1)
		rc = -1;
out:
	/* On -1 the caller rolls the unit back and gives its charges back. */
	host_ctx_clear(&ctx);
	words_free(&w);
	user_clear(&user);
	return rc;
}

int
router_run_timer(void *arg, struct mb_plugin_ctx *pctx,
    int (*fn)(struct mb_plugin_ctx *, const struct mb_host *))
{
	struct router		*r = arg;
	const struct mb_host	*host = plugin_host(pctx);
	struct mb_ctx		 ctx;
	int			 rc;

	if (host == NULL)
		return MB_FAIL;
	memset(&ctx, 0, sizeof(ctx));
	ctx.core = &r->core;
	ctx.lang = lang_default(r->core.langs);
	ctx.pctx = pctx;
	if (store_work_begin(r->core.store) == -1)
		return MB_FAIL;
	plugin_set_timer_ctx(pctx, &ctx);
	rc = fn(pctx, host);
	plugin_set_timer_ctx(pctx, NULL);
	host_ctx_clear(&ctx);
	if (store_work_end(r->core.store, rc == MB_OK) == -1)
		return MB_FAIL;
	return rc;
}

/* --- the commands users are told of ------------------------------------------ */

/* 1 if a core command or a plugin's runs command id. */
static int
router_runs(const struct plugin_set *plugins, const char *id)
{
	return router_core_command(id) != NULL || (plugins != NULL &&
	    plugin_command(plugins, id, NULL) != NULL);
}

struct router_check {
	const struct lang_set	*langs;
	const struct plugin_set	*plugins;
	const char		*why;	/* for the messages */
	int			 bad;
};

/* The code point at *p (advanced past it); invalid bytes are themselves. */
static unsigned long
router_utf8_next(const unsigned char **p)
{
	const unsigned char	*s = *p;
	unsigned long		 cp;
	size_t			 n, i;

	if (s[0] < 0x80) {
		*p = s + 1;
		return s[0];
	}
	if ((s[0] & 0xE0) == 0xC0) {
		n = 2;
		cp = s[0] & 0x1F;
	} else if ((s[0] & 0xF0) == 0xE0) {
		n = 3;
		cp = s[0] & 0x0F;
	} else if ((s[0] & 0xF8) == 0xF0) {
		n = 4;
		cp = s[0] & 0x07;
	} else {
		*p = s + 1;
		return s[0];
	}
	for (i = 1; i < n; i++) {
		if ((s[i] & 0xC0) != 0x80) {
			*p = s + 1;
			return s[0];
		}
		cp = (cp << 6) | (s[i] & 0x3F);
	}
	*p = s + n;
	return cp;
}

/* 1 if cp separates words in a template: space and punctuation, CJK's too. */
static int
router_separator(unsigned long cp)
{
	if (cp < 0x80)
		return !isalnum((int)cp) && cp != '-' && cp != '_';
	return (cp >= 0xA0 && cp <= 0xBF) || (cp >= 0x2000 && cp <= 0x206F) ||
	    (cp >= 0x3000 && cp <= 0x303F) || (cp >= 0xFF00 && cp <= 0xFF0F) ||
	    (cp >= 0xFF1A && cp <= 0xFF20) || (cp >= 0xFF3B && cp <= 0xFF40) ||
	    (cp >= 0xFF5B && cp <= 0xFF65);
}

/*
 * The commands a HELP template names and nobody runs, into missing (", "
 * separated).  In "help" (the list) every word written without small
 * letters that is a keyword counts ("SELL", "UZA", "卖"); in "help-X",
 * X and the words in capitals ("START turns them on"), since a caseless
 * script's words there are the example's, not commands.
 */
static void
router_check_help(struct router_check *c, const char *name, const char *text,
    char *missing, size_t len)
{
	const unsigned char	*p = (const unsigned char *)text, *start;
	int			 list = strcasecmp(name, "help") == 0;

	if (!list && !router_runs(c->plugins, name + 5))
		snprintf(missing, len, "%s", name + 5);
	while (*p != '\0') {
		const unsigned char	*q;
		unsigned long		 cp;
		int			 upper = 0, lower = 0;
		char			*token;
		struct words		 w;
		const char		*id;

		while (*p != '\0') {
			q = p;
			if (!router_separator(router_utf8_next(&q)))
				break;
			p = q;
		}
		for (start = p; *p != '\0'; p = q) {
			q = p;
			cp = router_utf8_next(&q);
			if (router_separator(cp))
				break;
			if ((cp >= 'A' && cp <= 'Z') || (cp >= 0xC0 && cp <= 0xDE))
				upper = 1;
			else if ((cp >= 'a' && cp <= 'z') ||
			    (cp >= 0xDF && cp <= 0xFF))
				lower = 1;
		}
		if (p == start || lower || (!list && !upper))
			continue;
		if ((token = strndup((const char *)start,
		    (size_t)(p - start))) == NULL)
			continue;
		memset(&w, 0, sizeof(w));
		if (words_split(token, NULL, 0, &w) == 0 && w.n == 1 &&
		    (id = lang_keyword(c->langs, w.word[0], NULL, NULL)) != NULL &&
		    !router_runs(c->plugins, id) && strstr(missing, id) == NULL)
			snprintf(missing + strlen(missing), len - strlen(missing),
			    "%s%s", missing[0] != '\0' ? ", " : "", id);
		words_free(&w);
		free(token);
	}
}

static void
router_check_template_cb(void *arg, const char *code, const char *file,
    long line, const char *name, const char *text)
{
	struct router_check	*c = arg;
	char			 missing[512] = "";

	(void)code;
	if (strcasecmp(name, "help") != 0 && strncasecmp(name, "help-", 5) != 0)
		return;
	router_check_help(c, name, text, missing, sizeof(missing));
	if (missing[0] == '\0')
		return;
	error(0, "%s:%ld: template %s names %s, which nothing runs%s", file,
	    line, name, missing, c->why);
	c->bad = -1;
}

int
router_check_commands(const struct conf *conf, const struct lang_set *langs,
    const struct plugin_set *plugins)
{
	struct router_check	 c;
	const struct mb_command	**cmds;
	size_t			 i, j;

	c.langs = langs;
	c.plugins = plugins;
	c.bad = 0;
	c.why = plugins == NULL || plugin_commands(plugins,
	    (const struct mb_command ***)&cmds) == 0 ? " (no plugin is "
	    "loaded: check plugin-dir and the plugin groups)" : " (no plugin "
	    "loaded has it)";
	for (i = 0; i < conf->nussd_items; i++) {
		const struct conf_ussd_item	*it = &conf->ussd_items[i];
		struct words			 w;
		char				 id[32];
		const char			*cmd = NULL;

		memset(&w, 0, sizeof(w));
		if (it->action == NULL || words_split(it->action, NULL, 0,
		    &w) == -1 || w.n == 0 || w.word[0][0] == '{') {
			words_free(&w);
			continue;
		}
		for (j = 0; w.word[0][j] != '\0' && j < sizeof(id) - 1; j++)
			id[j] = toupper((unsigned char)w.word[0][j]);
		id[j] = '\0';
		/* As router_run_command() reads it: an id, else a keyword. */
		if (!router_runs(plugins, id) && ((cmd = lang_keyword(langs,
		    w.word[0], lang_default(langs), NULL)) == NULL ||
		    !router_runs(plugins, cmd))) {
			if (it->line > 0)
				error(0, "%s:%ld: ussd-item %s: the action runs "
				    "%s, which nothing runs%s", it->file,
				    it->line, it->id, cmd ? cmd : id, c.why);
			else
				error(0, "%s: ussd-item %s: the action runs %s, "
				    "which nothing runs%s", it->file ? it->file :
				    conf->path, it->id, cmd ? cmd : id, c.why);
			c.bad = -1;
		}
		words_free(&w);
	}
	lang_each_template(langs, router_check_template_cb, &c);
	return c.bad;
}

/* --- for the USSD menus (ussd.c) -------------------------------------------- */

/*
 * Run one command text for a USSD menu's action.  The text is in the
 * canonical command words ("SELL maize 10 bag 3000"): its first word is
 * taken as a command id when it is one (a core command or a plugin's),
 * else looked up as a keyword of any language.  Replies are in lang and,
 * unlike router_handle(), a keyword of another language neither switches
 * the answer's language nor is remembered: the menu speaks the user's
 * language whatever words the conf's actions use.  The action is charged
 * to the phone's flood bucket, as an SMS command is (the menu's screens
 * are not: only the command a screen finally runs); the repeat window
 * does not apply (the action runs once).  Runs inside the caller's unit
 * of work.
 */
int
router_run_command(struct router *r, const struct mo *mo, long long inbox_id,
    const char *lang, const char *text)
{
	struct mb_ctx	 ctx;
	struct user	 user;
	struct words	 w;
	char		 msisdn[64], id[32];
	const char	*cmd = NULL;
	long long	 now = mo->time > 0 ? mo->time : (long long)time(NULL);
	size_t		 i;
	int		 warn, taken, rc = -1;

	memset(&ctx, 0, sizeof(ctx));
	memset(&w, 0, sizeof(w));
	ctx.core = &r->core;
	ctx.mo = mo;
	ctx.inbox_id = inbox_id;
	if (router_sender_key(r, mo->sender, msisdn, sizeof(msisdn)) == -1)
		return 0;
	if (user_load(&r->core, msisdn, &user) == -1)
		return -1;
	ctx.user = &user;
	ctx.lang = lang != NULL && lang_exists(r->core.langs, lang) ? lang :
	    user.language && lang_exists(r->core.langs, user.language) ?
	    user.language : lang_default(r->core.langs);
	/* The same bucket as the phone's SMS: a menu is no way round it. */
	if ((taken = router_flood_take(r, router_flood_slot(r, msisdn), now,
	    &warn)) != 1) {
		if (taken == 0) {
			r->stats.throttled++;
			rc = 1;
		}
		goto out;
	}
	r->stats.handled++;
	if (words_split_with(text, r->core.money, r->core.dict, &w) == -1)
		goto out;
	ctx.words = &w;
	if (w.n == 0) {
		rc = router_reply0(&ctx, "empty");
		goto out;
	}
	for (i = 0; w.word[0][i] != '\0' && i < sizeof(id) - 1; i++)
		id[i] = toupper((unsigned char)w.word[0][i]);
	id[i] = '\0';
	if (router_core_command(id) != NULL || (r->core.plugins != NULL &&
	    plugin_command(r->core.plugins, id, NULL) != NULL))
		cmd = id;
	else
		cmd = lang_keyword(r->core.langs, w.word[0], ctx.lang, NULL);
	if (cmd == NULL) {
		r->stats.unknown++;
		rc = router_unknown(&ctx);
		goto out;
	}
	ctx.first = 1;
	rc = router_dispatch(r, &ctx, cmd);
out:
	host_ctx_clear(&ctx);
	words_free(&w);
	user_clear(&user);
	return rc;
}

const struct lang_set *
router_langs(struct router *r)
{
	return r->core.langs;
}

int
router_user_info(struct router *r, const char *sender, const char **lang,
    char *market, size_t marketlen)
{
	struct user	 user;
	char		 msisdn[64];

	if (router_sender_key(r, sender, msisdn, sizeof(msisdn)) == -1 ||
	    user_load(&r->core, msisdn, &user) == -1)
		return -1;
	*lang = lang_default(r->core.langs);
	if (user.language != NULL && lang_exists(r->core.langs, user.language)) {
		const char * const	*codes;
		size_t			 n, i;

		/* A pointer into the language set, not into the user. */
		codes = lang_codes(r->core.langs, &n);
		for (i = 0; i < n; i++)
			if (strcmp(codes[i], user.language) == 0)
				*lang = codes[i];
	}
	snprintf(market, marketlen, "%s", user.market ? user.market : "");
	user_clear(&user);
	return 0;
}
