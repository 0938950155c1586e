/*
 * core_cmds.c - the commands of marketbox itself: REG, HELP, LANG, STOP,
 * START and ME, and YES and NO, which answer a plugin's open question.
 *
 * router.c finds the command (its table of core commands, beside the
 * lookup it serves) and runs it with the sender's context once the flood
 * limits and the repeat window (limits.c) let the MO through; a command
 * here reads its arguments from ctx->words, may save the user's record,
 * and replies through host_reply().  YES runs the question's command
 * through router_dispatch(), the same way as a typed one.
 */
#include "config.h"

#include <ctype.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/gw.h"

#include "base/conf.h"
#include "plugin/core.h"
#include "plugin/question.h"
#include "engine/router_int.h"
#include "engine/agents.h"
#include "text/lang.h"
#include "text/words.h"

#define ROUTER_NAME_MAX		40	/* bytes of a registered name */

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
int
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
int
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
void
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
int
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

int
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
int
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

int
router_stop(struct mb_ctx *ctx)
{
	return router_optout(ctx, 1);
}

int
router_start(struct mb_ctx *ctx)
{
	return router_optout(ctx, 0);
}

/* The names of the roles in a MB_ROLE_* mask, in the reply's language. */
char *
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
		{ MB_ROLE_DEALER, "role-dealer" },
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

int
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
		if (router_runs(core->plugins, upper))
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
int
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

/*
 * NO: the open question is dropped; nothing runs.  A NO to a service
 * point's membership is told to the agent who asked (agents.c).
 */
int
router_no(struct mb_ctx *ctx)
{
	struct question	 q;
	int		 rc;

	if ((rc = router_question(ctx, &q)) != 1)
		return rc;
	rc = router_reply0(ctx, "question-no");
	if (rc == 0)
		rc = router_consent_no(ctx, q.command);
	question_clear(&q);
	return rc;
}
