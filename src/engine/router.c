/*
 * router.c - from an MO's words to the command that handles it.
 *
 * See router.h.  The order of the checks for one message:
 *
 *	flood limit (per sender, token bucket) -> repeat window (both in
 *	memory, per sender, given back when the unit does not commit; on a
 *	shared store the repeat window is in the database instead)
 *	-> words (words.c) -> keyword in the sender's language, else any
 *	-> core command, or a plugin's: registration, roles, handler
 *	-> anything not understood gets a one-SMS hint, never silence.
 *
 * The flood limits and the repeat window are in limits.c, the core
 * commands (REG, HELP, LANG, STOP, START, ME, YES, NO) in core_cmds.c,
 * those of service points' agents (MEMBER, MEMBERS, FOR) in agents.c;
 * what the three files share is in router_int.h.
 */
#include "config.h"

#include <ctype.h>
#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "base/gw.h"

#include "base/conf.h"
#include "plugin/core.h"
#include "text/lang.h"
#include "queue/mo.h"
#include "plugin/plugin.h"
#include "engine/router.h"
#include "engine/router_int.h"
#include "engine/agents.h"
#include "store/store.h"
#include "text/words.h"

/* A core command. */
struct router_command {
	const char	*id;
	int		(*run)(struct mb_ctx *);
};

static const struct router_command router_commands[] = {
	{ "REG",	router_reg },
	{ "HELP",	router_help },
	{ "LANG",	router_lang },
	{ "STOP",	router_stop },
	{ "START",	router_start },
	{ "ME",		router_me },
	{ "YES",	router_yes },
	{ "NO",		router_no },
	{ "MEMBER",	router_member },
	{ "MEMBERS",	router_members },
	{ "FOR",	router_for },
	{ "CONSENT",	router_consent },
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

/* --- the user's record ---------------------------------------------------- */

/*
 * Remember the language a user writes in (they need not be registered).
 * The record is saved once the command is done, unless the command saved
 * it: a phone's first REG writes its row once, not twice.
 */
int
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

int
router_dispatch(struct router *r, struct mb_ctx *ctx, const char *id)
{
	int	 ran;

	return router_dispatch_ran(r, ctx, id, &ran);
}

/*
 * *ran says whether the command ran: a core command's function was
 * called and did not fail, or a plugin's handler was called (its
 * registration and roles let it) and returned MB_OK having replied.
 * Not run: a command nobody offers now, the sender's registration or
 * roles missing, MB_USAGE or a silent handler (the usage is the reply),
 * a failure.  A plugin's refusal that returns MB_OK (an order not the
 * sender's) ran: the ABI has no result for it.
 */
int
router_dispatch_ran(struct router *r, struct mb_ctx *ctx, const char *id,
    int *ran)
{
	const struct router_command	*core;
	const struct mb_command		*cmd;
	const struct mb_host		*host;
	struct mb_plugin_ctx		*pctx = NULL;
	char				*word;
	int				 rc;

	*ran = 0;
	if ((core = router_core_command(id)) != NULL) {
		rc = core->run(ctx);
		*ran = rc == 0;
		return rc;
	}
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
	*ran = 1;
	return 0;
}

/*
 * The users-table key of a sender: its international form, or the sender
 * as given when it is a number of another form (a short code, or a local
 * number such as 0722000111 when the conf has no country-code: the SMSC's
 * own address for it, never made "+0722000111").  -1, logged,
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
	char		 key[96];
	int		 warn, repeat, taken, agent, rc = -1;

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
	/* An agent's FOR <code> is limited per member (limits.c). */
	if ((agent = router_for_key(r, &user, mo->text, ctx.lang, key,
	    sizeof(key))) == -1)
		goto out;
	f = router_flood_slot(r, agent ? key : msisdn);
	if ((taken = router_flood_take(r, f, now, &warn)) != 1) {
		if (taken == -1)
			goto out;
		*outcome = ROUTER_THROTTLED;
		r->stats.throttled++;
		rc = warn ? router_reply0(&ctx, "slow-down") : 0;
		goto out;
	}
	if (store_shared(r->core.store))
		repeat = router_is_repeat_shared(r, agent ? key : msisdn,
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

/* A notice of an admin's action: host_notify, in a context of no message. */
int
router_notify(struct router *r, const char *msisdn, const char *tmpl,
    const struct mb_arg *args, size_t nargs)
{
	struct mb_ctx	 ctx;
	int		 rc;

	memset(&ctx, 0, sizeof(ctx));
	ctx.core = &r->core;
	ctx.lang = lang_default(r->core.langs);
	rc = host_notify(&ctx, msisdn, tmpl, args, nargs);
	host_ctx_clear(&ctx);
	return rc;
}

/* --- the commands users are told of ------------------------------------------ */

/* 1 if a core command or a plugin's runs command id. */
int
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
 * to the phone's flood bucket, as an SMS command is, or to the member's
 * when an agent acts for her with FOR (limits.c; the menu's screens
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
	char		 msisdn[64], id[32], key[96];
	const char	*cmd = NULL;
	long long	 now = mo->time > 0 ? mo->time : (long long)time(NULL);
	size_t		 i;
	int		 warn, taken, agent, rc = -1;

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
	/*
	 * The same bucket as the phone's SMS: a menu is no way round it.  An
	 * agent's action for a member ("FOR M17 ...") is that member's, as
	 * by SMS.
	 */
	if ((agent = router_for_key(r, &user, text, ctx.lang, key,
	    sizeof(key))) == -1)
		goto out;
	if ((taken = router_flood_take(r, router_flood_slot(r, agent ? key :
	    msisdn), now, &warn)) != 1) {
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
