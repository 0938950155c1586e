/*
 * host.c - the core side of the plugin interface: the struct mb_host table
 * plugins call and the users table (the catalogue's words and the
 * delivery chain's hubs are catalogue.c's, phone numbers base/phone.c's).
 * A service point's members are routed here too: under FOR a reply goes
 * to the agent naming the member, a notice to a member reaches her agent
 * (and her phone when she has one), and a trade through an agent records
 * its commission (member.c reads the tables).
 *
 * Every function here runs inside the unit of work of the message (or
 * timer) being handled, through the struct mb_ctx the router made for it.
 *
 * One file: the table's functions share the scratch strings a handler's
 * answers live in (host_keep) and the users and members lookups; the
 * subjects already apart (catalogue.c, member.c, base/phone.c, pay/)
 * are; what is left is one table, read top to bottom in its order.
 */
#include "config.h"

#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "base/gw.h"

#include "base/conf.h"
#include "plugin/core.h"
#include "text/gsm.h"
#include "text/lang.h"
#include "queue/mo.h"
#include "queue/outbox.h"
#include "plugin/member.h"
#include "plugin/plugin.h"
#include "plugin/question.h"
#include "pay/pay.h"
#include "text/render.h"
#include "store/store.h"
#include "text/words.h"

#define HOST_COMMAND_MAX	480	/* bytes of a command a question keeps */
#define HOST_QUESTION_LIFETIME	900	/* seconds, when the conf has none */

/* --- users ---------------------------------------------------------------- */

static const char user_sql_load[] =
    "SELECT id, name, market, language, role, opt_out, trades,"
    " language_chosen FROM users WHERE msisdn = $1";
static const char user_sql_insert[] =
    "INSERT INTO users(msisdn, name, market, language, role, opt_out,"
    " language_chosen, created, updated)"
    " VALUES ($1, $2, $3, $4, $5, $6, $8, $7, $7) RETURNING id";
/*
 * On a shared store another instance may insert the same phone between
 * this one's load and its insert (the phone's first two messages handled
 * at once): then the row it made is taken, its fields kept, rather than
 * the message failing on the unique msisdn.  SQLite has one instance,
 * and its plain insert keeps RETURNING id served from the rowid.
 */
static const char user_sql_insert_shared[] =
    "INSERT INTO users(msisdn, name, market, language, role, opt_out,"
    " language_chosen, created, updated)"
    " VALUES ($1, $2, $3, $4, $5, $6, $8, $7, $7)"
    " ON CONFLICT (msisdn) DO UPDATE SET updated = excluded.updated"
    " RETURNING id";
static const char user_sql_update[] =
    "UPDATE users SET name = $2, market = $3, language = $4, role = $5,"
    " opt_out = $6, updated = $7, language_chosen = $8 WHERE id = $1";
static const char user_sql_trade[] =
    "UPDATE users SET trades = trades + 1, updated = $2 WHERE msisdn = $1";
static const char user_sql_name[] =
    "SELECT name FROM users WHERE msisdn = $1";
static const char user_sql_opt_out[] =
    "SELECT opt_out FROM users WHERE msisdn = $1";
static const char user_sql_language[] =
    "SELECT language FROM users WHERE msisdn = $1";
static const char user_sql_since[] =
    "SELECT created FROM users WHERE msisdn = $1";
static const char user_sql_market[] =
    "SELECT market FROM users WHERE msisdn = $1";

static char *
host_column_dup(struct store_stmt *st, int col)
{
	const char	*t = store_text(st, col);

	return t != NULL ? strdup(t) : NULL;
}

/*
 * The language msisdn chose or was given (a copy to free), NULL when it
 * has none or is not known; -1 in *rc on a store failure.
 */
char *
host_user_language(struct core *core, const char *msisdn, int *rc)
{
	struct store_stmt	*st;
	char			*lang = NULL;
	int			 r;

	if ((st = store_query(core->store, user_sql_language)) == NULL) {
		*rc = -1;
		return NULL;
	}
	store_bind_text(st, 1, msisdn);
	if ((r = store_step(st)) == STORE_ROW)
		lang = host_column_dup(st, 0);
	store_done(st);
	*rc = r == STORE_ERROR ? -1 : 0;
	return lang;
}

void
user_clear(struct user *u)
{
	free(u->name);
	free(u->market);
	free(u->language);
	free(u->role);
	memset(u, 0, sizeof(*u));
}

/* 1 found, 0 not in the table (u is a fresh record), -1 store failure. */
int
user_load(struct core *core, const char *msisdn, struct user *u)
{
	struct store_stmt	*st;
	int			 rc;

	memset(u, 0, sizeof(*u));
	snprintf(u->msisdn, sizeof(u->msisdn), "%s", msisdn);
	if ((st = store_query(core->store, user_sql_load)) == NULL)
		return -1;
	store_bind_text(st, 1, msisdn);
	rc = store_step(st);
	if (rc == STORE_ROW) {
		u->id = store_int(st, 0);
		u->name = host_column_dup(st, 1);
		u->market = host_column_dup(st, 2);
		u->language = host_column_dup(st, 3);
		u->role = host_column_dup(st, 4);
		u->opt_out = (int)store_int(st, 5);
		u->trades = store_int(st, 6);
		u->language_chosen = (int)store_int(st, 7);
	}
	store_done(st);
	if (rc == STORE_ROW)
		return 1;
	return rc == STORE_DONE ? 0 : -1;
}

int
user_save(struct core *core, struct user *u)
{
	struct store_stmt	*st;
	int			 rc;

	st = store_query(core->store, u->id ? user_sql_update :
	    store_shared(core->store) ? user_sql_insert_shared :
	    user_sql_insert);
	if (st == NULL)
		return -1;
	if (u->id)
		store_bind_int(st, 1, u->id);
	else
		store_bind_text(st, 1, u->msisdn);
	store_bind_text(st, 2, u->name);
	store_bind_text(st, 3, u->market);
	store_bind_text(st, 4, u->language);
	store_bind_text(st, 5, u->role ? u->role : "user");
	store_bind_int(st, 6, u->opt_out);
	store_bind_int(st, 7, (long long)time(NULL));
	store_bind_int(st, 8, u->language_chosen);
	rc = store_step(st);
	/* an insert says its id */
	if (rc == STORE_ROW && !u->id)
		u->id = store_int(st, 0);
	store_done(st);
	if (rc == STORE_ERROR) {
		error(0, "users: cannot save %s", u->msisdn);
		return -1;
	}
	u->dirty = 0;
	return 0;
}

unsigned
host_roles(const struct core *core, const struct user *u)
{
	unsigned	 r = 0;
	size_t		 i;

	if (u == NULL)
		return 0;
	for (i = 0; i < core->conf->admins.count; i++)
		if (strcmp(core->conf->admins.names[i], u->msisdn) == 0)
			r |= MB_ROLE_ANY;
	if (u->name == NULL)
		return r;
	r |= MB_ROLE_FARMER | MB_ROLE_BUYER;
	if (u->role == NULL)
		return r;
	if (strcmp(u->role, "transporter") == 0)
		r |= MB_ROLE_TRANSPORTER;
	else if (strcmp(u->role, "agent") == 0)
		r |= MB_ROLE_AGENT;
	else if (strcmp(u->role, "dealer") == 0)
		r |= MB_ROLE_DEALER;
	else if (strcmp(u->role, "admin") == 0)
		r |= MB_ROLE_ANY;
	return r;
}

/* A member label user_name() gave out (host_label_note). */
struct host_label {
	char	*shown;
	char	*name;
	char	*point;		/* her point's code */
};

#define HOST_LABELS_MAX		16

/* --- contexts ------------------------------------------------------------- */

const char *
host_keep(struct mb_ctx *ctx, char *s)
{
	char	**n;
	size_t	  cap;

	if (s == NULL)
		return NULL;
	if (ctx->nscratch == ctx->scratchcap) {
		cap = ctx->scratchcap ? ctx->scratchcap * 2 : 8;
		if ((n = realloc(ctx->scratch, cap * sizeof(*n))) == NULL) {
			/* Out of memory: the plugin sees NULL, as if absent. */
			free(s);
			return NULL;
		}
		ctx->scratch = n;
		ctx->scratchcap = cap;
	}
	ctx->scratch[ctx->nscratch++] = s;
	return s;
}

void
host_ctx_clear(struct mb_ctx *ctx)
{
	size_t	 i;

	for (i = 0; i < ctx->nscratch; i++)
		free(ctx->scratch[i]);
	free(ctx->scratch);
	ctx->scratch = NULL;
	ctx->nscratch = ctx->scratchcap = 0;
	for (i = 0; i < ctx->nlabels; i++) {
		free(ctx->labels[i].shown);
		free(ctx->labels[i].name);
		free(ctx->labels[i].point);
	}
	free(ctx->labels);
	ctx->labels = NULL;
	ctx->nlabels = 0;
}

/*
 * A catalogue code given as {commodity} or {unit} is shown by its name in
 * the reply's language (catalogue.conf's "names = sw:mahindi;..."), in
 * the form a number asks for with {unit, count, qty} ("forms ="), so
 * plugins pass codes and every reader sees their own word.
 */
static const char *
host_catalogue_word(void *arg, const char *lang, const char *name,
    const char *value, const char *category)
{
	const struct conf		*c = arg;
	const struct conf_commodity	*k;
	const struct conf_unit		*u;

	if (value == NULL)
		return NULL;
	if (strcmp(name, "commodity") == 0 &&
	    (k = conf_commodity_find(c, value)) != NULL)
		return conf_form_for(&k->names, &k->forms, lang, category);
	if (strcmp(name, "unit") == 0 &&
	    (u = conf_unit_find(c, value)) != NULL)
		return conf_form_for(&u->names, &u->forms, lang, category);
	return NULL;
}

char *
host_text(const struct conf *conf, const struct lang_set *langs,
    const char *lang, const char *tmpl, const struct mb_arg *args,
    size_t nargs, size_t *missing)
{
	const char		*t = lang_template(langs, lang, tmpl);
	struct render_env	 env;
	char			*s;

	if (t == NULL) {
		error(0, "router: no template '%s' in any language", tmpl);
		if ((t = lang_template(langs, lang, "error")) == NULL)
			return NULL;
	}
	memset(&env, 0, sizeof(env));
	env.langs = langs;
	env.lang = lang;
	env.word = host_catalogue_word;
	env.word_arg = (void *)conf;
	s = render(&env, t, args, nargs);
	if (missing != NULL)
		*missing = env.missing;
	return s;
}

/* The template's text in lang, rendered; NULL (logged) if it is missing. */
static char *
host_render(struct mb_ctx *ctx, const char *lang, const char *tmpl,
    const struct mb_arg *args, size_t nargs)
{
	return host_text(ctx->core->conf, ctx->core->langs, lang, tmpl, args,
	    nargs, NULL);
}

/*
 * A member as user_name() showed her ("Mary Wanjiku via Kiambogo point",
 * in the language of the one acting), and what makes that label again:
 * a plugin puts it in a notice to someone else, who reads it in their
 * own language (host_render_read).  At most HOST_LABELS_MAX a message
 * (struct host_label above).  This one: the label of name at point in
 * lang (template member-label), or NULL.
 */
static char *
host_label_text(struct mb_ctx *ctx, const char *lang, const char *name,
    const char *point)
{
	struct mb_arg	 a[2];

	a[0] = (struct mb_arg){ "name", name };
	a[1] = (struct mb_arg){ "point", conf_service_point_name(
	    conf_service_point_find(ctx->core->conf, point), lang) };
	if (a[1].value == NULL)
		a[1].value = point;
	return host_render(ctx, lang, "member-label", a, 2);
}

/*
 * Remember a label given out.  Without memory it is only not remembered:
 * its readers then see it in the language it was given in.
 */
static void
host_label_note(struct mb_ctx *ctx, const char *shown, const char *name,
    const char *point)
{
	struct host_label	*n, *l;
	size_t			 i;

	for (i = 0; i < ctx->nlabels; i++)
		if (strcmp(ctx->labels[i].shown, shown) == 0)
			return;
	if (ctx->nlabels >= HOST_LABELS_MAX || (n = realloc(ctx->labels,
	    (ctx->nlabels + 1) * sizeof(*n))) == NULL)
		return;
	ctx->labels = n;
	l = &n[ctx->nlabels];
	l->shown = strdup(shown);
	l->name = strdup(name);
	l->point = strdup(point);
	if (l->shown == NULL || l->name == NULL || l->point == NULL) {
		free(l->shown);
		free(l->name);
		free(l->point);
		return;
	}
	ctx->nlabels++;
}

/*
 * value with every occurrence of from replaced by to: malloc'd, or NULL
 * when from is not in it (or memory ran out: the value stays as it was).
 */
static char *
host_replace(const char *value, const char *from, const char *to)
{
	const char	*p, *q;
	char		*out, *o;
	size_t		 n = 0, lf = strlen(from), lt = strlen(to);

	if (lf == 0)
		return NULL;
	for (p = value; (q = strstr(p, from)) != NULL; p = q + lf)
		n++;
	if (n == 0 || (out = malloc(strlen(value) + n * lt + 1)) == NULL)
		return NULL;
	for (o = out, p = value; (q = strstr(p, from)) != NULL; p = q + lf) {
		memcpy(o, p, (size_t)(q - p));
		o += q - p;
		memcpy(o, to, lt);
		o += lt;
	}
	strcpy(o, p);
	return out;
}

/*
 * host_render for a reader of lang other than the one acting: the member
 * labels user_name() gave in the args (whole or within a longer value,
 * as a plugin's list) are written in lang.
 */
static char *
host_render_read(struct mb_ctx *ctx, const char *lang, const char *tmpl,
    const struct mb_arg *args, size_t nargs)
{
	struct mb_arg	*a;
	char		*mine[HOST_LABELS_MAX], **owned, *v, *s;
	size_t		 i, k;

	if (ctx->nlabels == 0 || nargs == 0)
		return host_render(ctx, lang, tmpl, args, nargs);
	a = calloc(nargs, sizeof(*a));
	owned = calloc(nargs, sizeof(*owned));
	if (a == NULL || owned == NULL) {
		free(a);
		free(owned);
		return NULL;
	}
	for (k = 0; k < ctx->nlabels; k++)
		mine[k] = host_label_text(ctx, lang, ctx->labels[k].name,
		    ctx->labels[k].point);
	for (i = 0; i < nargs; i++) {
		a[i] = args[i];
		for (k = 0; k < ctx->nlabels && a[i].value != NULL; k++) {
			if (mine[k] == NULL ||
			    strcmp(mine[k], ctx->labels[k].shown) == 0 ||
			    (v = host_replace(a[i].value,
			    ctx->labels[k].shown, mine[k])) == NULL)
				continue;
			free(owned[i]);
			a[i].value = owned[i] = v;
		}
	}
	s = host_render(ctx, lang, tmpl, a, nargs);
	for (k = 0; k < ctx->nlabels; k++)
		free(mine[k]);
	for (i = 0; i < nargs; i++)
		free(owned[i]);
	free(owned);
	free(a);
	return s;
}

/*
 * text, said to an agent about member m: "For Mary Wanjiku (M17): ..."
 * in lang (template tmpl: for-member for a reply to its FOR and for a
 * question its plain YES answers; for-member-notice for a notice, which
 * names the FOR the agent must send before the command the notice
 * suggests: "For Mary Wanjiku, start with FOR M17: ... Send ACCEPT 3").
 * Takes text (freed); a malloc'd string, or NULL.
 */
static char *
host_for_member(struct mb_ctx *ctx, const char *lang, const struct member *m,
    char *text, const char *tmpl)
{
	struct mb_arg	 a[3];
	char		*s;

	if (text == NULL)
		return NULL;
	a[0] = (struct mb_arg){ "name", m->name };
	a[1] = (struct mb_arg){ "code", m->code };
	a[2] = (struct mb_arg){ "text", text };
	s = host_render(ctx, lang, tmpl, a, 3);
	free(text);
	return s;
}

/*
 * A reply goes to the phone that sent the message: under FOR the agent's,
 * in the agent's language (ctx->lang), naming the member.
 */
int
host_reply(struct mb_ctx *ctx, const char *tmpl, const struct mb_arg *args,
    size_t nargs)
{
	char	*text;
	int	 rc;

	if (ctx->mo == NULL) {
		error(0, "router: a reply with no message to answer (%s)",
		    tmpl);
		return -1;
	}
	if ((text = host_render(ctx, ctx->lang, tmpl, args, nargs)) == NULL)
		return -1;
	if (ctx->member != NULL &&
	    (text = host_for_member(ctx, ctx->lang, ctx->member, text,
	    "for-member")) == NULL)
		return -1;
	rc = outbox_reply(ctx->core->outbox, ctx->mo, ctx->inbox_id, text);
	free(text);
	if (rc == 0)
		ctx->replied++;
	return rc;
}

/* A notice to one phone in its language; about m (not NULL) to its agent. */
static int
host_notify_one(struct mb_ctx *ctx, const char *msisdn,
    const struct member *m, const char *tmpl, const struct mb_arg *args,
    size_t nargs)
{
	char		*lang, *text;
	const char	*l;
	int		 rc;

	lang = host_user_language(ctx->core, msisdn, &rc);
	if (rc == -1)
		return -1;
	l = lang != NULL && lang_exists(ctx->core->langs, lang) ? lang :
	    lang_default(ctx->core->langs);
	text = host_render_read(ctx, l, tmpl, args, nargs);
	if (m != NULL)
		text = host_for_member(ctx, l, m, text, "for-member-notice");
	free(lang);
	if (text == NULL)
		return -1;
	rc = outbox_notify(ctx->core->outbox, ctx->inbox_id, msisdn, text);
	free(text);
	return rc;
}

/*
 * A notice to a member goes to her agent, naming her (a member without a
 * phone has no other way to hear it), and to her own phone when she has
 * one; a member whose membership ended hears on her phone alone, and so
 * does one whose agent the admin removed (marketctl agent remove): the
 * phone is no agent any more.  The identity "m:..." is never sent to:
 * with no member row, or an agent removed, it is dropped, logged.
 */
int
host_notify(struct mb_ctx *ctx, const char *msisdn, const char *tmpl,
    const struct mb_arg *args, size_t nargs)
{
	struct member	 m;
	char		 point[64];
	int		 rc, phoneless, agent;

	if (msisdn == NULL || msisdn[0] == '\0')
		return -1;
	phoneless = member_phoneless(msisdn);
	if ((rc = member_by_identity(ctx->core->store, msisdn, &m)) == -1)
		return -1;
	if (rc == 0 || (!phoneless && strcmp(m.state, "active") != 0))
	{
		if (!phoneless)
			return host_notify_one(ctx, msisdn, NULL, tmpl, args,
			    nargs);
		warning(0, "router: a notice (%s) to %s, who is no member: "
		    "nobody to send it to", tmpl, msisdn);
		return 0;
	}
	if (!phoneless && host_notify_one(ctx, msisdn, NULL, tmpl, args,
	    nargs) == -1)
		return -1;
	if ((agent = member_agent_point(ctx->core->store, m.agent, point,
	    sizeof(point))) == -1)
		return -1;
	if (agent == 0) {
		if (phoneless)
			warning(0, "router: a notice (%s) to %s, whose agent %s "
			    "was removed: nobody to send it to", tmpl, msisdn,
			    m.agent);
		return 0;
	}
	return host_notify_one(ctx, m.agent, &m, tmpl, args, nargs);
}

/* --- the table's functions ------------------------------------------------ */

static const char *
h_sender(struct mb_ctx *ctx)
{
	return ctx->user ? ctx->user->msisdn : NULL;
}

static const char *
h_sender_name(struct mb_ctx *ctx)
{
	return ctx->user ? ctx->user->name : NULL;
}

static const char *
h_sender_market(struct mb_ctx *ctx)
{
	return ctx->user ? ctx->user->market : NULL;
}

static const char *
h_sender_language(struct mb_ctx *ctx)
{
	return ctx->lang;
}

static unsigned
h_sender_roles(struct mb_ctx *ctx)
{
	return host_roles(ctx->core, ctx->user);
}

static int
h_sender_registered(struct mb_ctx *ctx)
{
	return ctx->user != NULL && ctx->user->name != NULL;
}

static size_t
h_argc(struct mb_ctx *ctx)
{
	return ctx->words && ctx->words->n > ctx->first ?
	    ctx->words->n - ctx->first : 0;
}

static const char *
h_arg(struct mb_ctx *ctx, size_t i)
{
	if (i >= h_argc(ctx))
		return NULL;
	return ctx->words->word[ctx->first + i];
}

static const char *
h_rest(struct mb_ctx *ctx, size_t i)
{
	if (ctx->words == NULL)
		return "";
	return words_rest(ctx->words, ctx->first + i);
}

static int
h_arg_number(struct mb_ctx *ctx, size_t i, long long min, long long max,
    long long *out)
{
	const char	*a = h_arg(ctx, i);

	return a != NULL && words_number(a, min, max, out);
}

static int
h_reply(struct mb_ctx *ctx, const char *tmpl, const struct mb_arg *args,
    size_t nargs)
{
	return host_reply(ctx, tmpl, args, nargs);
}

static int
h_notify(struct mb_ctx *ctx, const char *msisdn, const char *tmpl,
    const struct mb_arg *args, size_t nargs)
{
	return host_notify(ctx, msisdn, tmpl, args, nargs);
}

/*
 * ABI 1's store slots, in host_table_abi1 only: SQLite's own handle and
 * cached statements, for ABI 1 plugins, which the loader lets run on a
 * SQLite store only.  The slots say void *: the plugin's ABI 1 header
 * said sqlite3 * and sqlite3_stmt *, the same pointers.
 */
static __typeof__(((const struct mb_host *)0)->abi1_db(NULL))
h_db(struct mb_ctx *ctx)
{
	return store_db(ctx->core->store);
}

static __typeof__(((const struct mb_host *)0)->abi1_stmt(NULL, NULL))
h_stmt(struct mb_ctx *ctx, const char *sql)
{
	return store_stmt(ctx->core->store, sql);
}

static long long
h_ref_next(struct mb_ctx *ctx, const char *kind)
{
	static const char sql[] =
	    "INSERT INTO refs(kind, created) VALUES ($1, $2) RETURNING id";
	struct store_stmt	*st = store_query(ctx->core->store, sql);
	long long		 ref = -1;

	if (st == NULL)
		return -1;
	store_bind_text(st, 1, kind ? kind : "");
	store_bind_int(st, 2, (long long)time(NULL));
	if (store_step(st) == STORE_ROW)
		ref = store_int(st, 0);
	store_done(st);
	return ref;
}

static const char *
h_commodity(struct mb_ctx *ctx, const char *word)
{
	return catalogue_commodity(ctx->core->catalogue, word);
}

static const char *
h_commodity_unit(struct mb_ctx *ctx, const char *code)
{
	const struct conf_commodity *k = conf_commodity_find(ctx->core->conf,
	    code);

	return k ? k->unit : NULL;
}

static const char *
h_unit(struct mb_ctx *ctx, const char *word)
{
	return catalogue_unit(ctx->core->catalogue, word);
}

static const char *
h_market(struct mb_ctx *ctx, const char *word)
{
	return catalogue_market(ctx->core->catalogue, word);
}

static const char *
h_market_name(struct mb_ctx *ctx, const char *code)
{
	const struct conf_market *m = conf_market_find(ctx->core->conf, code);

	return m ? m->name : NULL;
}

static const char *
h_market_region(struct mb_ctx *ctx, const char *code)
{
	const struct conf_market *m = conf_market_find(ctx->core->conf, code);

	return m ? m->region : NULL;
}

static const char *
h_commodity_suggest(struct mb_ctx *ctx, const char *word)
{
	return catalogue_commodity_suggest(ctx->core->catalogue, word);
}

static const char *
h_currency(struct mb_ctx *ctx)
{
	return ctx->core->conf->currency;
}

/* group = payments: the business number, the account for ref. */
static int
h_pay_to(struct mb_ctx *ctx, long long ref, const char **number,
    const char **account)
{
	const struct conf_payments	*p = &ctx->core->conf->payments;
	char				*s;

	if (!p->on || ref <= 0)
		return 0;
	if (asprintf(&s, "%s%lld%s", p->account_prefix ? p->account_prefix :
	    "", ref, p->account_suffix ? p->account_suffix : "") == -1)
		return 0;
	/* out of memory: no account to show, so none at all */
	if ((*account = host_keep(ctx, s)) == NULL)
		return 0;
	*number = p->business_number;
	return 1;
}

static int
host_pay_notify(void *arg, const char *msisdn, const char *tmpl,
    const struct mb_arg *args, size_t nargs)
{
	return host_notify(arg, msisdn, tmpl, args, nargs);
}

/* An order's own event that moves its money (pay_order_event). */
static int
h_pay_event(struct mb_ctx *ctx, long long ref, int event)
{
	enum pay_event	 ev;

	switch (event) {
	case MB_PAY_CLOSED:
		ev = PAY_EV_CLOSED;
		break;
	case MB_PAY_DELIVERED:
		ev = PAY_EV_DELIVERED;
		break;
	default:
		error(0, "host: pay_event of order %lld: no event %d", ref,
		    event);
		return -1;
	}
	return pay_order_event(ctx->core->store, ctx->core->conf, ref, ev,
	    host_pay_notify, ctx);
}

/* What the sender says of order ref's money (pay_said; the outcomes
   are the same numbers). */
static int
h_pay_said(struct mb_ctx *ctx, long long ref, int what,
    const char *reference, long long *amount, const char **state)
{
	enum pay_state	 st = PAY_UNPAID;
	int		 rc;

	*amount = 0;
	*state = pay_state_name(st);
	if (what < MB_PAY_SAID_PAID || what > MB_PAY_SAID_CASH ||
	    h_sender(ctx) == NULL)
		return MB_PAY_REFUSED;
	rc = pay_said(ctx->core->store, ctx->core->conf, ref,
	    (enum pay_said)(what - MB_PAY_SAID_PAID), h_sender(ctx),
	    reference, host_pay_notify, ctx, amount, &st);
	*state = pay_state_name(st);
	return rc;
}

static long long
h_now(struct mb_ctx *ctx)
{
	(void)ctx;
	return (long long)time(NULL);
}

static void h_log(struct mb_ctx *, int, const char *, ...)
    __attribute__((format(printf, 3, 4)));

static void
h_log(struct mb_ctx *ctx, int level, const char *fmt, ...)
{
	char	 buf[1024];
	va_list	 ap;

	(void)ctx;
	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	switch (level) {
	case MB_LOG_DEBUG:
		debug("mb.plugin", 0, "%s", buf);
		break;
	case MB_LOG_INFO:
		info(0, "%s", buf);
		break;
	case MB_LOG_WARNING:
		warning(0, "%s", buf);
		break;
	default:
		error(0, "%s", buf);
		break;
	}
}

static const char *
h_conf(struct mb_plugin_ctx *pctx, const char *key)
{
	return plugin_conf_value(pctx, key);
}

static void *
h_state(struct mb_plugin_ctx *pctx)
{
	return plugin_state(pctx);
}

static void
h_set_state(struct mb_plugin_ctx *pctx, void *state)
{
	plugin_set_state(pctx, state);
}

static struct mb_ctx *
h_timer_ctx(struct mb_plugin_ctx *pctx)
{
	/* The context of the timer running now: see router_run_timer. */
	return plugin_timer_ctx(pctx);
}

static void *
h_plugin_state(struct mb_ctx *ctx)
{
	return ctx->pctx ? plugin_state(ctx->pctx) : NULL;
}

/* The reader's language: the sender's, else the default (a timer). */
static const char *
host_reader_lang(struct mb_ctx *ctx)
{
	return ctx->lang != NULL ? ctx->lang : lang_default(ctx->core->langs);
}

/*
 * An active member is shown as "<name> via <point>" (template
 * member-label): who is dealt with, and through whom.  Given in the
 * language of the one acting; a notice that carries it to someone else
 * says it in the reader's (host_render_read).
 */
static const char *
h_user_name(struct mb_ctx *ctx, const char *msisdn)
{
	struct store_stmt	*st;
	struct member		 m;
	char			*name = NULL, *label;

	if (msisdn == NULL ||
	    (st = store_query(ctx->core->store, user_sql_name)) == NULL)
		return NULL;
	store_bind_text(st, 1, msisdn);
	if (store_step(st) == STORE_ROW)
		name = host_column_dup(st, 0);
	store_done(st);
	if (name != NULL && member_by_identity(ctx->core->store, msisdn,
	    &m) == 1 && strcmp(m.state, "active") == 0 &&
	    (label = host_label_text(ctx, host_reader_lang(ctx), name,
	    m.point)) != NULL) {
		host_label_note(ctx, label, name, m.point);
		free(name);
		name = label;
	}
	return host_keep(ctx, name);
}

/*
 * See struct mb_host: when msisdn registered, from the users table (a
 * member of a service point has her row there too), 0 for no user.
 */
static long long
h_user_since(struct mb_ctx *ctx, const char *msisdn)
{
	struct store_stmt	*st;
	long long		 since = 0;
	int			 rc;

	if (msisdn == NULL)
		return 0;
	if ((st = store_query(ctx->core->store, user_sql_since)) == NULL)
		return -1;
	store_bind_text(st, 1, msisdn);
	if ((rc = store_step(st)) == STORE_ROW)
		since = store_int(st, 0);
	store_done(st);
	return rc == STORE_ERROR ? -1 : since;
}

/*
 * See struct mb_host: an active member's service point, else the market
 * in the user's row, else NULL.
 */
static const char *
h_user_place(struct mb_ctx *ctx, const char *msisdn)
{
	struct store_stmt	*st;
	struct member		 m;
	char			*place = NULL;
	int			 rc;

	if (msisdn == NULL)
		return NULL;
	if ((rc = member_by_identity(ctx->core->store, msisdn, &m)) == -1)
		return NULL;
	if (rc == 1 && strcmp(m.state, "active") == 0)
		return host_keep(ctx, strdup(m.point));
	if ((st = store_query(ctx->core->store, user_sql_market)) == NULL)
		return NULL;
	store_bind_text(st, 1, msisdn);
	if (store_step(st) == STORE_ROW)
		place = host_column_dup(st, 0);
	store_done(st);
	if (place != NULL && place[0] == '\0') {
		free(place);
		place = NULL;
	}
	return host_keep(ctx, place);
}

/*
 * See struct mb_host: an active member's agent's phone, else msisdn.  A
 * member with a phone whose agent was removed is reached on her own.
 */
static const char *
h_contact(struct mb_ctx *ctx, const char *msisdn)
{
	struct member	 m;
	char		 point[64];
	int		 rc;

	if (msisdn == NULL)
		return NULL;
	if ((rc = member_by_identity(ctx->core->store, msisdn, &m)) == -1)
		return NULL;
	if (rc == 1 && !member_phoneless(msisdn) &&
	    strcmp(m.state, "active") == 0 && (rc = member_agent_point(
	    ctx->core->store, m.agent, point, sizeof(point))) != 1)
		return rc == -1 ? NULL : msisdn;
	if (rc == 1 && (strcmp(m.state, "active") == 0 ||
	    member_phoneless(msisdn)))
		return host_keep(ctx, strdup(m.agent));
	return msisdn;
}

/*
 * The commission on total at rate_bp basis points, rounded half up, in
 * integers: total = q * 10000 + r, so no product overflows for any total
 * a long long holds and a rate up to 100%.
 */
long long
host_commission(long long total, int rate_bp)
{
	long long	 q = total / 10000, r = total % 10000;

	if (total < 0 || rate_bp <= 0)
		return 0;
	return q * rate_bp + (r * rate_bp + 5000) / 10000;
}

static const char host_sql_commission[] =
    "INSERT INTO commissions(ref, point, agent, member, side, total,"
    " rate_bp, amount, at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)";

/* A commissions row for one side of a trade, when it is an active member. */
static int
host_commission_side(struct mb_ctx *ctx, long long ref, const char *who,
    const char *side, long long total)
{
	const struct conf_service_point	*p;
	struct store_stmt		*st;
	struct member			 m;
	int				 rc, rate;

	if (who == NULL)
		return 0;
	if ((rc = member_by_identity(ctx->core->store, who, &m)) != 1 ||
	    strcmp(m.state, "active") != 0)
		return rc == -1 ? -1 : 0;
	p = conf_service_point_find(ctx->core->conf, m.point);
	rate = p == NULL ? 0 : strcmp(side, "seller") == 0 ?
	    p->commission_seller_bp : p->commission_buyer_bp;
	if ((st = store_query(ctx->core->store, host_sql_commission)) == NULL)
		return -1;
	store_bind_int(st, 1, ref);
	store_bind_text(st, 2, m.point);
	store_bind_text(st, 3, m.agent);
	store_bind_text(st, 4, m.code);
	store_bind_text(st, 5, side);
	store_bind_int(st, 6, total);
	store_bind_int(st, 7, rate);
	store_bind_int(st, 8, host_commission(total, rate));
	store_bind_int(st, 9, host_time(ctx));
	rc = store_step(st);
	store_done(st);
	return rc == STORE_DONE ? 0 : -1;
}

/* See struct mb_host. */
static int
h_trade_done(struct mb_ctx *ctx, long long ref, const char *seller,
    const char *buyer, long long total)
{
	if (host_commission_side(ctx, ref, seller, "seller", total) == -1 ||
	    host_commission_side(ctx, ref, buyer, "buyer", total) == -1)
		return -1;
	return 0;
}

static int
h_user_trade(struct mb_ctx *ctx, const char *msisdn)
{
	struct store_stmt	*st;
	int			 rc;

	if (msisdn == NULL ||
	    (st = store_query(ctx->core->store, user_sql_trade)) == NULL)
		return -1;
	store_bind_text(st, 1, msisdn);
	store_bind_int(st, 2, (long long)time(NULL));
	rc = store_step(st);
	store_done(st);
	return rc == STORE_DONE ? 0 : -1;
}

static const char *
h_msisdn(struct mb_ctx *ctx, const char *typed)
{
	char	 buf[32];

	if (msisdn_normalise(ctx->core->conf->country_code, typed, buf,
	    sizeof(buf)) == -1)
		return NULL;
	return host_keep(ctx, strdup(buf));
}

static int
h_user_opt_out(struct mb_ctx *ctx, const char *msisdn)
{
	struct store_stmt	*st;
	int			 rc, out = 0;

	if (msisdn == NULL ||
	    (st = store_query(ctx->core->store, user_sql_opt_out)) == NULL)
		return -1;
	store_bind_text(st, 1, msisdn);
	if ((rc = store_step(st)) == STORE_ROW)
		out = store_int(st, 0) != 0;
	store_done(st);
	return rc == STORE_ERROR ? -1 : out;
}

static const char *
h_render(struct mb_ctx *ctx, const char *msisdn, const char *tmpl,
    const struct mb_arg *args, size_t nargs)
{
	char		*lang = NULL, *text;
	int		 rc;

	if (tmpl == NULL)
		return NULL;
	if (msisdn != NULL) {
		lang = host_user_language(ctx->core, msisdn, &rc);
		if (rc == -1)
			return NULL;
	}
	text = host_render_read(ctx, lang != NULL ? lang : ctx->lang != NULL ?
	    ctx->lang : lang_default(ctx->core->langs), tmpl, args, nargs);
	free(lang);
	return host_keep(ctx, text);
}

long long
host_time(const struct mb_ctx *ctx)
{
	if (ctx->mo != NULL && ctx->mo->time > 0)
		return ctx->mo->time;
	return (long long)time(NULL);
}

/*
 * ask(): keep the question (question.c), replacing the phone's open one,
 * then send it: a reply when it is the sender's (it counts as the
 * handler's answer), else a notice in that phone's language, which is
 * also the language its YES is answered in.  The command is kept as
 * given; the router runs it on YES as a typed command, with every check.
 */
static int
h_ask(struct mb_ctx *ctx, const char *msisdn, const char *tmpl,
    const struct mb_arg *args, size_t nargs, const char *command, int ttl)
{
	const struct conf	*c = ctx->core->conf;
	const char		*to, *lang;
	char			*known = NULL, *text, *wrapped = NULL;
	const struct member	*about = NULL;
	struct member		 m;
	char			 point[64];
	long long		 now = host_time(ctx), life;
	int			 self, rc;

	if (tmpl == NULL || command == NULL || command[0] == '\0' ||
	    strlen(command) > HOST_COMMAND_MAX) {
		error(0, "router: ask() without a template or a command, or "
		    "with a command over %d bytes", HOST_COMMAND_MAX);
		return -1;
	}
	to = msisdn != NULL ? msisdn : ctx->user != NULL ?
	    ctx->user->msisdn : NULL;
	if (to == NULL || to[0] == '\0') {
		error(0, "router: ask() with nobody to ask (%s)", tmpl);
		return -1;
	}
	self = ctx->user != NULL && strcmp(to, ctx->user->msisdn) == 0;
	/*
	 * A member acted for answers through her agent: under FOR the agent
	 * is asked (its plain YES runs "FOR <code> <command>"); a member
	 * without a phone is asked through hers, the question naming her.
	 */
	if (self && ctx->agent != NULL && ctx->member != NULL) {
		if (asprintf(&wrapped, "FOR %s %s", ctx->member->code,
		    command) == -1)
			return -1;
		to = ctx->agent->msisdn;
		command = wrapped;
	} else if (!self && member_phoneless(to)) {
		if ((rc = member_by_identity(ctx->core->store, to, &m)) != 1) {
			if (rc == 0)
				error(0, "router: ask() of %s, who is no "
				    "member (%s)", to, tmpl);
			return -1;
		}
		if ((rc = member_agent_point(ctx->core->store, m.agent,
		    point, sizeof(point))) != 1) {
			if (rc == 0)
				warning(0, "router: a question (%s) for %s, "
				    "whose agent %s was removed: nobody to ask",
				    tmpl, to, m.agent);
			return rc;
		}
		if (asprintf(&wrapped, "FOR %s %s", m.code, command) == -1)
			return -1;
		to = m.agent;
		command = wrapped;
		about = &m;
	}
	if (self && ctx->mo == NULL) {
		error(0, "router: ask() of the sender with no message (%s)",
		    tmpl);
		free(wrapped);
		return -1;
	}
	if (self)
		lang = ctx->lang;
	else {
		known = host_user_language(ctx->core, to, &rc);
		if (rc == -1) {
			free(wrapped);
			return -1;
		}
		lang = known != NULL && lang_exists(ctx->core->langs, known) ?
		    known : lang_default(ctx->core->langs);
	}
	/* A conf built by hand (tests) may leave the lifetime at 0. */
	life = ttl > 0 ? ttl : c->question_lifetime > 0 ?
	    c->question_lifetime : HOST_QUESTION_LIFETIME;
	rc = question_put(ctx->core->store, to, command, lang,
	    ctx->user != NULL ? ctx->user->msisdn : NULL, ctx->inbox_id, now,
	    now + life);
	if (rc == 0 && self)
		rc = host_reply(ctx, tmpl, args, nargs);
	else if (rc == 0) {
		text = host_render_read(ctx, lang, tmpl, args, nargs);
		if (about != NULL)
			text = host_for_member(ctx, lang, about, text,
			    "for-member");
		if (text == NULL)
			rc = -1;
		else {
			rc = outbox_notify(ctx->core->outbox, ctx->inbox_id, to,
			    text);
			free(text);
		}
	}
	free(known);
	free(wrapped);
	return rc;
}

static int
h_confirmed(struct mb_ctx *ctx)
{
	return ctx->confirmed;
}

/* The reading of word i that arg() does not give (see words.h), or NULL. */
static const char *
h_arg_other(struct mb_ctx *ctx, size_t i)
{
	if (i >= h_argc(ctx) || ctx->words->other == NULL)
		return NULL;
	return ctx->words->other[ctx->first + i];
}

static size_t
h_sms_parts(struct mb_ctx *ctx, const char *text)
{
	(void)ctx;
	return text != NULL ? gsm_sent_parts(text, strlen(text)) : 0;
}

static const char *
h_market_suggest(struct mb_ctx *ctx, const char *word)
{
	return catalogue_market_suggest(ctx->core->catalogue, word);
}

/* "+" and the conf's country code (kept there without its '+'). */
static const char *
h_country_code(struct mb_ctx *ctx)
{
	char	*cc;

	if (ctx->core->conf->country_code == NULL ||
	    ctx->core->conf->country_code[0] == '\0' ||
	    asprintf(&cc, "+%s", ctx->core->conf->country_code) == -1)
		return NULL;
	return host_keep(ctx, cc);
}

/* A plugin's statement is the store's; its steps say the same. */
_Static_assert(MB_ROW == STORE_ROW && MB_DONE == STORE_DONE &&
    MB_ERROR == STORE_ERROR, "plugin and store step results differ");

static struct mb_stmt *
h_query(struct mb_ctx *ctx, const char *sql)
{
	return (struct mb_stmt *)store_query(ctx->core->store, sql);
}

static int
h_bind_int(struct mb_stmt *st, int i, long long v)
{
	return store_bind_int((struct store_stmt *)st, i, v);
}

static int
h_bind_text(struct mb_stmt *st, int i, const char *v)
{
	return store_bind_text((struct store_stmt *)st, i, v);
}

static int
h_bind_null(struct mb_stmt *st, int i)
{
	return store_bind_null((struct store_stmt *)st, i);
}

static int
h_step(struct mb_stmt *st)
{
	return store_step((struct store_stmt *)st);
}

static long long
h_column_int(struct mb_stmt *st, int i)
{
	return store_int((struct store_stmt *)st, i);
}

static const char *
h_column_text(struct mb_stmt *st, int i)
{
	return store_text((struct store_stmt *)st, i);
}

static int
h_column_null(struct mb_stmt *st, int i)
{
	return store_is_null((struct store_stmt *)st, i);
}

static void
h_done(struct mb_stmt *st)
{
	store_done((struct store_stmt *)st);
}

static long long
h_changes(struct mb_ctx *ctx)
{
	return store_changes(ctx->core->store);
}

static long long
h_last_id(struct mb_ctx *ctx)
{
	return store_last_id(ctx->core->store);
}

static const char *
h_engine(struct mb_ctx *ctx)
{
	return store_engine(ctx->core->store);
}

static const char *
h_commodity_kind(struct mb_ctx *ctx, const char *code)
{
	const struct conf_commodity *k = conf_commodity_find(ctx->core->conf,
	    code);

	if (k == NULL)
		return NULL;
	return k->input ? "input" : "produce";
}

/* The i-th season, copied as far as the plugin's struct reaches. */
static int
h_season(struct mb_ctx *ctx, size_t i, struct mb_season *out)
{
	const struct conf	*c = ctx->core->conf;
	const struct conf_season *cs;
	struct mb_season	 s;
	size_t			 k, n;

	if (out == NULL || i >= c->nseasons)
		return -1;
	cs = &c->seasons[i];
	memset(&s, 0, sizeof(s));
	s.code = cs->code;
	s.region = cs->region;
	for (k = 0; k < cs->inputs.count && k < MB_SEASON_INPUTS; k++)
		s.inputs[k] = cs->inputs.names[k];
	s.ninputs = k;
	s.start_month = cs->start_month;
	s.start_day = cs->start_day;
	for (k = 0; k < cs->nremind && k < MB_SEASON_REMINDS; k++)
		s.remind[k] = cs->remind[k];
	s.nremind = k;
	n = out->size < sizeof(s) ? out->size : sizeof(s);
	if (n < sizeof(s.size))
		return -1;
	s.size = n;
	memcpy(out, &s, n);
	return 0;
}

/*
 * The holders of one role: for MB_ROLE_ADMIN the conf's admins first,
 * then the users of role admin (each once); the other roles users are
 * given by name.  FARMER and BUYER (every registered user) list nobody.
 * At most max into out, kept until the context ends; -1 on a store
 * failure.
 */
static const char user_sql_role[] =
    "SELECT msisdn FROM users WHERE role = $1 ORDER BY msisdn LIMIT $2";

static long
h_role_users(struct mb_ctx *ctx, unsigned role, const char **out, size_t max)
{
	const struct conf	*c = ctx->core->conf;
	struct store_stmt	*st;
	const char		*name, *m;
	size_t			 n = 0, i, k;
	int			 rc = STORE_DONE;

	if (out == NULL)
		return -1;
	switch (role) {
	case MB_ROLE_TRANSPORTER:
		name = "transporter";
		break;
	case MB_ROLE_AGENT:
		name = "agent";
		break;
	case MB_ROLE_DEALER:
		name = "dealer";
		break;
	case MB_ROLE_ADMIN:
		name = "admin";
		for (i = 0; i < c->admins.count && n < max; i++)
			if ((out[n] = host_keep(ctx,
			    strdup(c->admins.names[i]))) != NULL)
				n++;
		break;
	default:
		return 0;
	}
	if (n >= max)
		return (long)n;
	if ((st = store_query(ctx->core->store, user_sql_role)) == NULL)
		return -1;
	store_bind_text(st, 1, name);
	store_bind_int(st, 2, (long long)max);
	while (n < max && (rc = store_step(st)) == STORE_ROW) {
		if ((m = store_text(st, 0)) == NULL)
			continue;
		for (k = 0; k < n; k++)
			if (strcmp(out[k], m) == 0)
				break;
		if (k == n && (out[n] = host_keep(ctx, strdup(m))) != NULL)
			n++;
	}
	store_done(st);
	if (n < max && rc == STORE_ERROR)
		return -1;
	return (long)n;
}

/*
 * The table plugins of this ABI get, and the one ABI 1 plugins get: the
 * same functions at the same places, with ABI 1's SQLite slots filled in
 * the second only (see plugin_host()).
 */
#define HOST_TABLE_FUNCTIONS \
	.abi = MB_PLUGIN_ABI, \
	.size = sizeof(struct mb_host), \
	.sender = h_sender, \
	.sender_name = h_sender_name, \
	.sender_market = h_sender_market, \
	.sender_language = h_sender_language, \
	.sender_roles = h_sender_roles, \
	.sender_registered = h_sender_registered, \
	.argc = h_argc, \
	.arg = h_arg, \
	.rest = h_rest, \
	.arg_number = h_arg_number, \
	.reply = h_reply, \
	.notify = h_notify, \
	.ref_next = h_ref_next, \
	.commodity = h_commodity, \
	.commodity_unit = h_commodity_unit, \
	.unit = h_unit, \
	.market = h_market, \
	.market_name = h_market_name, \
	.market_region = h_market_region, \
	.commodity_suggest = h_commodity_suggest, \
	.currency = h_currency, \
	.now = h_now, \
	.log = h_log, \
	.conf = h_conf, \
	.state = h_state, \
	.set_state = h_set_state, \
	.timer_ctx = h_timer_ctx, \
	.plugin_state = h_plugin_state, \
	.user_name = h_user_name, \
	.user_trade = h_user_trade, \
	.msisdn = h_msisdn, \
	.user_opt_out = h_user_opt_out, \
	.render = h_render, \
	.ask = h_ask, \
	.confirmed = h_confirmed, \
	.arg_other = h_arg_other, \
	.sms_parts = h_sms_parts, \
	.market_suggest = h_market_suggest, \
	.country_code = h_country_code, \
	.query = h_query, \
	.bind_int = h_bind_int, \
	.bind_text = h_bind_text, \
	.bind_null = h_bind_null, \
	.step = h_step, \
	.column_int = h_column_int, \
	.column_text = h_column_text, \
	.column_null = h_column_null, \
	.done = h_done, \
	.changes = h_changes, \
	.last_id = h_last_id, \
	.engine = h_engine, \
	.contact = h_contact, \
	.trade_done = h_trade_done, \
	.commodity_kind = h_commodity_kind, \
	.season = h_season, \
	.user_since = h_user_since, \
	.role_users = h_role_users, \
	.hub = host_hub, \
	.hub_name = host_hub_name, \
	.market_hub = host_market_hub, \
	.route = host_route, \
	.user_place = h_user_place, \
	.pay_to = h_pay_to, \
	.pay_event = h_pay_event, \
	.pay_said = h_pay_said

const struct mb_host host_table = {
	HOST_TABLE_FUNCTIONS
};

const struct mb_host host_table_abi1 = {
	HOST_TABLE_FUNCTIONS,
	.abi1_db = h_db,
	.abi1_stmt = h_stmt,
};
