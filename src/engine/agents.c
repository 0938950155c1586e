/*
 * agents.c - village service points: the commands of their agents.
 *
 *	MEMBER name [phone]	enrol a member: without a phone at once
 *				(identity "m:<code>"); with one, pending
 *				until that phone answers YES (CONSENT)
 *	MEMBER <code> OFF	end a membership (her offers stay hers)
 *	MEMBERS [page]		the agent's members, a page an SMS
 *	FOR <code> command...	run command as the member
 *
 * Member codes are "M" and the members row's id: a sequence of their
 * own, never a #reference (those are numbers alone).  Only an active agent
 * (table agents, see marketctl agent add) may use them, and only for its
 * own members; every refusal says what to send instead.
 *
 * FOR runs the rest as a typed command of the member: the context's user
 * is hers (host sender(), name, market, roles), ctx->agent the agent's,
 * and the replies go to the agent in the agent's language, each naming
 * the member (host.c, template for-member).  Each FOR is written to
 * agent_actions, its command beginning with the command's id ("SELL
 * maize ..." in every language; "YES SELL ..." when the agent's YES to
 * a question runs it).  The flood limit and the repeat window of a FOR
 * are the agent's per member (limits.c), keyed by router_for_key(): its
 * own members only, and its YES or NO to a question FOR asked is the
 * member's too.
 */
#include "config.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "base/gw.h"

#include "base/conf.h"
#include "plugin/core.h"
#include "plugin/member.h"
#include "plugin/question.h"
#include "engine/router_int.h"
#include "engine/agents.h"
#include "store/store.h"
#include "text/gsm.h"
#include "text/lang.h"
#include "text/words.h"

#define AGENTS_QUESTION_LIFETIME 900	/* seconds, when the conf has none */
#define AGENTS_LIST_MAX		 1024	/* bytes of one page's list */

/* Commands that are a person's own: never run for someone else. */
static const char * const agents_own[] = {
	"REG", "LANG", "STOP", "START", "MEMBER", "MEMBERS", "FOR", "YES",
	"NO", "CONSENT",
};

static const char agents_sql_next[] =
    "SELECT COALESCE(MAX(id), 0) + 1 FROM members";
static const char agents_sql_insert[] =
    "INSERT INTO members(id, code, point, agent, identity, phone, name,"
    " state, created) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)"
    " ON CONFLICT DO NOTHING RETURNING id";
static const char agents_sql_state[] =
    "UPDATE members SET state = $2, identity = $3, ended = $4"
    " WHERE id = $1";
static const char agents_sql_again[] =
    "UPDATE members SET state = 'pending', agent = $2, point = $3,"
    " ended = NULL WHERE id = $1";
static const char agents_sql_stale[] =
    "UPDATE members SET state = 'off', ended = $3 WHERE phone = $1"
    " AND state = 'pending' AND id <> $2";
static const char agents_sql_list[] =
    "SELECT code, name, state FROM members WHERE agent = $1"
    " AND state <> 'off' ORDER BY id";
static const char agents_sql_action[] =
    "INSERT INTO agent_actions(inbox_id, agent, member, command, at)"
    " VALUES ($1, $2, $3, $4, $5)";

/* The point's name in the reply's language (its code when unknown). */
static const char *
agents_point_name(struct mb_ctx *ctx, const char *code)
{
	const char	*n = conf_service_point_name(
			    conf_service_point_find(ctx->core->conf, code),
			    ctx->lang);

	return n != NULL ? n : code;
}

/*
 * The sender's point into point when it is an active agent: 1; else 0
 * after telling it who may (agent-only); -1 a store failure.
 */
static int
agents_agent(struct mb_ctx *ctx, char *point, size_t len)
{
	int	 rc;

	if ((rc = member_agent_point(ctx->core->store, ctx->user->msisdn,
	    point, len)) == 0)
		return router_reply0(ctx, "agent-only") == -1 ? -1 : 0;
	return rc;
}

/*
 * The sender's member by the code typed: 1 (m filled) when it is the
 * sender's and active; else 0 after saying why and what to send; -1 a
 * store failure.
 */
static int
agents_own_member(struct mb_ctx *ctx, const char *code, struct member *m,
    int active)
{
	struct mb_arg	 a[2];
	int		 rc;

	if ((rc = member_by_code(ctx->core->store, code, m)) == -1)
		return -1;
	a[0] = (struct mb_arg){ "code", code };
	a[1] = (struct mb_arg){ "name", rc == 1 ? m->name : "" };
	if (rc == 0 || strcmp(m->agent, ctx->user->msisdn) != 0)
		rc = host_reply(ctx, "member-not-yours", a, 1);
	else if (strcmp(m->state, "off") == 0)
		rc = host_reply(ctx, "member-is-off", a, 2);
	else if (active && strcmp(m->state, "active") != 0)
		rc = host_reply(ctx, "member-pending", a, 2);
	else
		return 1;
	return rc == -1 ? -1 : 0;
}

/* A new members row; its code into m->code.  0, or -1. */
static int
agents_insert(struct mb_ctx *ctx, struct member *m)
{
	struct store		*s = ctx->core->store;
	struct store_stmt	*st;
	long long		 id = -1;
	int			 rc;

	if ((st = store_query(s, agents_sql_next)) == NULL)
		return -1;
	if (store_step(st) == STORE_ROW)
		id = store_int(st, 0);
	store_done(st);
	if (id < 1)
		return -1;
	m->id = id;
	snprintf(m->code, sizeof(m->code), "M%lld", id);
	if (m->identity[0] == '\0')
		snprintf(m->identity, sizeof(m->identity), "m:%s", m->code);
	if ((st = store_query(s, agents_sql_insert)) == NULL)
		return -1;
	store_bind_int(st, 1, id);
	store_bind_text(st, 2, m->code);
	store_bind_text(st, 3, m->point);
	store_bind_text(st, 4, m->agent);
	store_bind_text(st, 5, m->identity);
	store_bind_text(st, 6, m->phone[0] != '\0' ? m->phone : NULL);
	store_bind_text(st, 7, m->name);
	store_bind_text(st, 8, m->state);
	store_bind_int(st, 9, host_time(ctx));
	rc = store_step(st);
	store_done(st);
	if (rc == STORE_DONE) {
		/*
		 * Another instance of a shared store took this id between
		 * the MAX and the insert: the message runs again (inbox.c),
		 * with the next id, rather than failing for the agent.
		 */
		info(0, "agents: member code %s taken meanwhile; the message "
		    "runs again", m->code);
		store_want_retry(s);
		return -1;
	}
	return rc == STORE_ROW ? 0 : -1;
}

static int
agents_set_state(struct mb_ctx *ctx, const struct member *m,
    const char *state, const char *identity, long long ended)
{
	struct store_stmt	*st;
	int			 rc;

	if ((st = store_query(ctx->core->store, agents_sql_state)) == NULL)
		return -1;
	store_bind_int(st, 1, m->id);
	store_bind_text(st, 2, state);
	store_bind_text(st, 3, identity);
	if (ended > 0)
		store_bind_int(st, 4, ended);
	else
		store_bind_null(st, 4);
	rc = store_step(st);
	store_done(st);
	return rc == STORE_DONE ? 0 : -1;
}

/* A membership that ended, pending again (with the agent asking now). */
static int
agents_again(struct mb_ctx *ctx, const struct member *m)
{
	struct store_stmt	*st;
	int			 rc;

	if ((st = store_query(ctx->core->store, agents_sql_again)) == NULL)
		return -1;
	store_bind_int(st, 1, m->id);
	store_bind_text(st, 2, m->agent);
	store_bind_text(st, 3, m->point);
	rc = store_step(st);
	store_done(st);
	return rc == STORE_DONE ? 0 : -1;
}

/*
 * A users row for a member without a phone: her name, her point's market,
 * the agent's language (the one her notices are read in, by the agent).
 */
static int
agents_user_new(struct mb_ctx *ctx, const struct member *m)
{
	const struct conf_service_point	*p = conf_service_point_find(
					    ctx->core->conf, m->point);
	struct user			 u;
	int				 rc;

	if (user_load(ctx->core, m->identity, &u) == -1)
		return -1;
	free(u.name);
	u.name = strdup(m->name);
	if (p != NULL && p->market != NULL && u.market == NULL)
		u.market = strdup(p->market);
	if (u.language == NULL)
		u.language = strdup(ctx->lang);
	rc = u.name == NULL || u.language == NULL ? -1 :
	    user_save(ctx->core, &u);
	user_clear(&u);
	return rc;
}

/* MEMBER <code> OFF: the membership ends; nothing of hers is touched. */
static int
agents_off(struct mb_ctx *ctx, const char *code)
{
	struct member	 m;
	struct mb_arg	 a[2];
	int		 rc;

	if ((rc = agents_own_member(ctx, code, &m, 0)) != 1)
		return rc;
	if (agents_set_state(ctx, &m, "off", m.identity, host_time(ctx)) == -1)
		return -1;
	a[0] = (struct mb_arg){ "name", m.name };
	a[1] = (struct mb_arg){ "code", m.code };
	return host_reply(ctx, "member-off", a, 2);
}

/*
 * A member with a phone: pending, and the phone asked in its own
 * language; its YES runs CONSENT <code> as that phone.  Asking again for
 * a phone still pending keeps its code; a phone whose membership ended
 * is asked again on its old row (her identity, her history).
 */
static int
agents_enrol_phone(struct mb_ctx *ctx, struct member *m)
{
	const struct conf	*c = ctx->core->conf;
	const char		*lang;
	struct member		 old;
	char			 market[64], command[64];
	struct mb_arg		 a[4];
	long long		 now = host_time(ctx), life;
	int			 rc;

	if ((rc = member_by_identity(ctx->core->store, m->phone, &old)) == -1)
		return -1;
	if (rc == 1 && strcmp(old.state, "off") != 0 &&
	    (strcmp(old.state, "active") == 0 ||
	    strcmp(old.agent, m->agent) != 0)) {
		a[0] = (struct mb_arg){ "phone", m->phone };
		a[1] = (struct mb_arg){ "code", old.code };
		return host_reply(ctx, "member-exists", a, 2);
	}
	if (rc == 1 && strcmp(old.state, "off") == 0) {
		snprintf(old.agent, sizeof(old.agent), "%s", m->agent);
		snprintf(old.point, sizeof(old.point), "%s", m->point);
		snprintf(old.state, sizeof(old.state), "pending");
		*m = old;
		if (agents_again(ctx, m) == -1)
			return -1;
	} else if (rc == 1)
		*m = old;
	else if ((rc = member_pending_of(ctx->core->store, m->agent,
	    m->phone, &old)) == -1)
		return -1;
	else if (rc == 1)
		*m = old;
	else if (agents_insert(ctx, m) == -1)
		return -1;
	if (router_user_info(router_of(ctx), m->phone, &lang, market,
	    sizeof(market)) == -1)
		return -1;
	snprintf(command, sizeof(command), "CONSENT %s", m->code);
	life = c->question_lifetime > 0 ? c->question_lifetime :
	    AGENTS_QUESTION_LIFETIME;
	if (question_put(ctx->core->store, m->phone, command, lang,
	    ctx->user->msisdn, ctx->inbox_id, now, now + life) == -1)
		return -1;
	a[0] = (struct mb_arg){ "name", ctx->user->name ? ctx->user->name :
	    ctx->user->msisdn };
	a[1] = (struct mb_arg){ "point", conf_service_point_name(
	    conf_service_point_find(c, m->point), lang) };
	if (a[1].value == NULL)
		a[1].value = m->point;
	a[2] = (struct mb_arg){ "code", m->code };
	if (host_notify(ctx, m->phone, "member-ask", a, 3) == -1)
		return -1;
	a[0] = (struct mb_arg){ "name", m->name };
	a[1] = (struct mb_arg){ "phone", m->phone };
	a[2] = (struct mb_arg){ "code", m->code };
	return host_reply(ctx, "member-asked", a, 3);
}

/* 1 if the word typed at s (up to white space) is digits, as in a phone
   number typed in groups: "0733", "+254", "(0)733", "000-222". */
static int
agents_number_word(const char *s)
{
	size_t	 i, digits = 0;

	for (i = 0; s[i] != '\0' && !isspace((unsigned char)s[i]); i++)
		if (isdigit((unsigned char)s[i]))
			digits++;
		else if (strchr("+-.()", s[i]) == NULL)
			return 0;
	return digits > 0;
}

/*
 * The words from the end that are the phone of MEMBER name phone, as
 * msisdn_normalise() reads a number typed with spaces ("0733 000 222",
 * "+254 733 000 222"): the longest run of number words (at most
 * AGENTS_PHONE_WORDS) that starts with "0", "+" or the country code and
 * reads as a phone, else the last word alone when it does.  So a number
 * typed in groups is taken whole and a word of the name is never taken
 * unless it is a number that begins the phone.  The count of words (0:
 * none) and the phone into phone.
 */
#define AGENTS_PHONE_WORDS	6

static size_t
agents_phone_words(struct mb_ctx *ctx, size_t first, char *phone,
    size_t len)
{
	const struct words	*w = ctx->words;
	const char		*cc = ctx->core->conf->country_code, *s;
	size_t			 run, k;

	for (run = 0; run < AGENTS_PHONE_WORDS && w->n - run > first + 1 &&
	    agents_number_word(words_rest(w, w->n - run - 1)); run++)
		;
	for (k = run; k > 1; k--) {
		s = words_rest(w, w->n - k);
		if ((s[0] == '0' || s[0] == '+' || (cc != NULL && cc[0] != '\0' &&
		    strncmp(s, cc, strlen(cc)) == 0)) &&
		    msisdn_normalise(cc, s, phone, len) == 0)
			return k;
	}
	if (run >= 1 && msisdn_normalise(cc, words_rest(w, w->n - 1), phone,
	    len) == 0)
		return 1;
	phone[0] = '\0';
	return 0;
}

/*
 * MEMBER name [phone] | MEMBER <code> OFF.  The phone is the last words
 * when they read as one (agents_phone_words); the name is the rest, as
 * REG takes names.
 */
int
router_member(struct mb_ctx *ctx)
{
	const struct words	*w = ctx->words;
	size_t			 nargs = w->n - ctx->first, name_end = w->n, k;
	struct member		 m;
	struct mb_arg		 a[3];
	char			 code[MEMBER_CODE_MAX], *name;
	const char		*stop;
	int			 rc;

	memset(&m, 0, sizeof(m));
	if ((rc = agents_agent(ctx, m.point, sizeof(m.point))) != 1)
		return rc;
	if (nargs == 0)
		return router_usage(ctx, "MEMBER", NULL);
	if (nargs == 2 && member_code_parse(w->word[ctx->first], code,
	    sizeof(code))) {
		stop = lang_keyword(ctx->core->langs, w->word[ctx->first + 1],
		    ctx->lang, NULL);
		if (strcasecmp(w->word[ctx->first + 1], "off") == 0 ||
		    (stop != NULL && strcmp(stop, "STOP") == 0))
			return agents_off(ctx, code);
	}
	name_end = w->n - agents_phone_words(ctx, ctx->first, m.phone,
	    sizeof(m.phone));
	name = strndup(words_rest(w, ctx->first), name_end < w->n ?
	    (size_t)(words_rest(w, name_end) - words_rest(w, ctx->first)) :
	    strlen(words_rest(w, ctx->first)));
	if (name == NULL)
		return -1;
	for (k = strlen(name); k > 0 && isspace((unsigned char)name[k - 1]); k--)
		name[k - 1] = '\0';
	if (router_name_controls(name) || !router_name_ok(name) ||
	    member_code_parse(name, code, sizeof(code)) ||
	    strcmp(m.phone, ctx->user->msisdn) == 0) {
		free(name);
		return router_usage(ctx, "MEMBER", NULL);
	}
	router_name_cut(name);
	snprintf(m.name, sizeof(m.name), "%s", name);
	free(name);
	snprintf(m.agent, sizeof(m.agent), "%s", ctx->user->msisdn);
	if (m.phone[0] != '\0') {
		snprintf(m.state, sizeof(m.state), "pending");
		return agents_enrol_phone(ctx, &m);
	}
	snprintf(m.state, sizeof(m.state), "active");
	if (agents_insert(ctx, &m) == -1 || agents_user_new(ctx, &m) == -1)
		return -1;
	a[0] = (struct mb_arg){ "code", m.code };
	a[1] = (struct mb_arg){ "name", m.name };
	a[2] = (struct mb_arg){ "point", agents_point_name(ctx, m.point) };
	return host_reply(ctx, "member-ok", a, 3);
}

/*
 * The other agents' requests for the phone m now has (the phone answers
 * one question, the last asked): ended, not left waiting in their lists.
 */
static int
agents_stale(struct mb_ctx *ctx, const struct member *m)
{
	struct store_stmt	*st;
	int			 rc;

	if ((st = store_query(ctx->core->store, agents_sql_stale)) == NULL)
		return -1;
	store_bind_text(st, 1, m->phone);
	store_bind_int(st, 2, m->id);
	store_bind_int(st, 3, host_time(ctx));
	rc = store_step(st);
	store_done(st);
	return rc == STORE_DONE ? 0 : -1;
}

/*
 * CONSENT <code>: run by a phone's YES to the question MEMBER asked it
 * (never typed: no language has a word for it).  The member becomes
 * active with the phone as her identity; a phone already registered
 * keeps its name, market and history, a new one takes the name the agent
 * gave and the point's market.  Her agent is told.
 */
int
router_consent(struct mb_ctx *ctx)
{
	const struct conf_service_point	*p;
	struct user			*u = ctx->user;
	struct member			 m;
	struct mb_arg			 a[2];
	char				 code[MEMBER_CODE_MAX];
	int				 rc;

	struct member			 other;

	if (!ctx->confirmed || ctx->agent != NULL ||
	    ctx->words->n <= ctx->first ||
	    !member_code_parse(ctx->words->word[ctx->first], code,
	    sizeof(code)))
		return router_reply0(ctx, "member-consent-gone");
	if ((rc = member_by_code(ctx->core->store, code, &m)) == -1)
		return -1;
	if (rc == 0 || strcmp(m.state, "pending") != 0 ||
	    strcmp(m.phone, u->msisdn) != 0)
		return router_reply0(ctx, "member-consent-gone");
	/* another agent's request for this phone was answered first */
	if ((rc = member_by_identity(ctx->core->store, u->msisdn,
	    &other)) == -1)
		return -1;
	if (rc == 1 && other.id != m.id)
		return router_reply0(ctx, "member-consent-gone");
	if (agents_set_state(ctx, &m, "active", u->msisdn, 0) == -1 ||
	    agents_stale(ctx, &m) == -1)
		return -1;
	p = conf_service_point_find(ctx->core->conf, m.point);
	if (u->name == NULL) {
		if ((u->name = strdup(m.name)) == NULL)
			return -1;
		if (u->market == NULL && p != NULL && p->market != NULL &&
		    (u->market = strdup(p->market)) == NULL)
			return -1;
		if (user_save(ctx->core, u) == -1)
			return -1;
	}
	a[0] = (struct mb_arg){ "code", m.code };
	a[1] = (struct mb_arg){ "point", agents_point_name(ctx, m.point) };
	if (host_reply(ctx, "member-joined", a, 2) == -1)
		return -1;
	a[0] = (struct mb_arg){ "name", u->name };
	a[1] = (struct mb_arg){ "code", m.code };
	return host_notify(ctx, m.agent, "member-active", a, 2);
}

/*
 * NO to MEMBER's question: she stays pending (MEMBERS shows her waiting)
 * and her agent hears it, with the two next steps: ask again, or end the
 * request with MEMBER <code> OFF.  Nothing for any other question, nor
 * for a request that is no longer this phone's pending one.
 */
int
router_consent_no(struct mb_ctx *ctx, const char *command)
{
	struct member	 m;
	struct mb_arg	 a[3];
	char		 code[MEMBER_CODE_MAX];
	int		 rc;

	if (command == NULL || strncmp(command, "CONSENT ", 8) != 0 ||
	    !member_code_parse(command + 8, code, sizeof(code)))
		return 0;
	if ((rc = member_by_code(ctx->core->store, code, &m)) != 1)
		return rc;
	if (strcmp(m.state, "pending") != 0 ||
	    strcmp(m.phone, ctx->user->msisdn) != 0)
		return 0;
	a[0] = (struct mb_arg){ "name", m.name };
	a[1] = (struct mb_arg){ "phone", m.phone };
	a[2] = (struct mb_arg){ "code", m.code };
	return host_notify(ctx, m.agent, "member-declined", a, 3);
}

/* The list entry of one member: "M17 Mary Wanjiku", pending marked. */
static void
agents_entry(struct mb_ctx *ctx, const char *code, const char *name,
    const char *state, char *out, size_t len)
{
	const char	*waiting = lang_template(ctx->core->langs, ctx->lang,
			    "member-waiting");

	if (strcmp(state, "pending") == 0 && waiting != NULL)
		snprintf(out, len, "%s %s (%s)", code, name, waiting);
	else
		snprintf(out, len, "%s %s", code, name);
}

/* 1 if the page with list (and, with next > 0, a pointer on) is one SMS. */
static int
agents_page_fits(struct mb_ctx *ctx, const char *list, long long next)
{
	struct mb_arg	 a[2];
	char		 n[24], *text;
	int		 fits;

	snprintf(n, sizeof(n), "%lld", next);
	a[0] = (struct mb_arg){ "list", list };
	a[1] = (struct mb_arg){ "page", n };
	text = host_text(ctx->core->conf, ctx->core->langs, ctx->lang,
	    next > 0 ? "members-page-more" : "members-page", a, 2, NULL);
	fits = text != NULL && gsm_sent_parts(text, strlen(text)) <= 1;
	free(text);
	return fits;
}

/*
 * MEMBERS [page]: the agent's members (pending and active), as many a page
 * as one SMS holds with the pointer to the next page; pages are cut the
 * same way each time, so "MEMBERS 2" goes on where page 1 stopped.
 */
int
router_members(struct mb_ctx *ctx)
{
	struct store_stmt	*st;
	struct mb_arg		 a[2];
	char			 point[64], list[AGENTS_LIST_MAX] = "";
	char			 entry[200], try[AGENTS_LIST_MAX], n[24];
	long long		 want = 1, page = 1, rows = 0;
	int			 rc, more = 0;

	if ((rc = agents_agent(ctx, point, sizeof(point))) != 1)
		return rc;
	if (ctx->words->n > ctx->first && !words_number(
	    ctx->words->word[ctx->first], 1, 100000, &want))
		return router_usage(ctx, "MEMBERS", NULL);
	if ((st = store_query(ctx->core->store, agents_sql_list)) == NULL)
		return -1;
	store_bind_text(st, 1, ctx->user->msisdn);
	while ((rc = store_step(st)) == STORE_ROW) {
		const char	*code = store_text(st, 0);

		agents_entry(ctx, code ? code : "", store_text(st, 1) ?
		    store_text(st, 1) : "", store_text(st, 2) ?
		    store_text(st, 2) : "", entry, sizeof(entry));
		rows++;
		snprintf(try, sizeof(try), "%s%s%s", list, list[0] ? ", " : "",
		    entry);
		if (list[0] == '\0' || agents_page_fits(ctx, try, page + 1)) {
			snprintf(list, sizeof(list), "%s", try);
			continue;
		}
		/* this page is full: it is the one asked for, or the next
		   one starts with this member */
		if (page == want) {
			more = 1;
			break;
		}
		page++;
		snprintf(list, sizeof(list), "%s", entry);
	}
	store_done(st);
	if (rc == STORE_ERROR)
		return -1;
	if (rows == 0)
		return router_reply0(ctx, "members-none");
	if (page != want)
		return router_reply0(ctx, "members-end");
	snprintf(n, sizeof(n), "%lld", page + 1);
	a[0] = (struct mb_arg){ "list", list };
	a[1] = (struct mb_arg){ "page", n };
	return host_reply(ctx, more ? "members-page-more" : "members-page", a,
	    2);
}

/* --- FOR ------------------------------------------------------------------- */

/*
 * The member code at word i of w: "M17" as one word, or cut in two by
 * the splitting of a text without spaces ("代办M17卖..." gives "m", "17"
 * side by side): 1 with code filled and *next the word after it; else 0.
 */
static int
agents_code_at(const struct words *w, size_t i, char *code, size_t len,
    size_t *next)
{
	char	 glued[MEMBER_CODE_MAX];
	int	 n;

	if (i >= w->n)
		return 0;
	if (member_code_parse(w->word[i], code, len)) {
		*next = i + 1;
		return 1;
	}
	if (i + 1 < w->n && strcmp(w->word[i], "m") == 0 &&
	    w->offset[i + 1] == w->offset[i] + 1 &&
	    (n = snprintf(glued, sizeof(glued), "m%s", w->word[i + 1])) > 0 &&
	    (size_t)n < sizeof(glued) && member_code_parse(glued, code, len)) {
		*next = i + 2;
		return 1;
	}
	return 0;
}

/* The command id of word: an id itself ("SELL"), else a keyword. */
static const char *
agents_command(struct mb_ctx *ctx, const char *word, char *upper, size_t len)
{
	size_t	 i;

	for (i = 0; word[i] != '\0' && i < len - 1; i++)
		upper[i] = toupper((unsigned char)word[i]);
	upper[i] = '\0';
	if (router_runs(ctx->core->plugins, upper))
		return upper;
	return lang_keyword(ctx->core->langs, word, ctx->lang, NULL);
}

/* The agent_actions row of a FOR that ran: id and the words after it. */
static int
agents_action(struct mb_ctx *ctx, const struct member *m, const char *id,
    const char *rest)
{
	struct store_stmt	*st;
	char			*command;
	int			 rc;

	/* A question's YES runs FOR again: written as that answer, so the
	   command is counted once (marketctl agents counts by its id). */
	if (asprintf(&command, "%s%s%s%s", ctx->confirmed ? "YES " : "", id,
	    rest[0] ? " " : "", rest) == -1)
		return -1;
	if ((st = store_query(ctx->core->store, agents_sql_action)) == NULL) {
		free(command);
		return -1;
	}
	if (ctx->inbox_id > 0)
		store_bind_int(st, 1, ctx->inbox_id);
	else
		store_bind_null(st, 1);
	store_bind_text(st, 2, ctx->user->msisdn);
	store_bind_text(st, 3, m->code);
	store_bind_text(st, 4, command);
	store_bind_int(st, 5, host_time(ctx));
	rc = store_step(st);
	store_done(st);
	free(command);
	return rc == STORE_DONE ? 0 : -1;
}

/*
 * FOR <code> command...: checks (an agent, its member, active; a command
 * one may send for another), then the command dispatched as the member's,
 * with every check of a typed one (her registration, her roles), and
 * written down in agent_actions when it ran (router_dispatch_ran: not a
 * usage reply, not refused for her registration or roles), so that
 * marketctl agents counts what was done, not what was tried.
 */
int
router_for(struct mb_ctx *ctx)
{
	const struct words	*w = ctx->words;
	struct user		*agent = ctx->user, mu;
	struct member		 m;
	struct mb_arg		 a[2];
	char			 point[64], code[MEMBER_CODE_MAX], upper[32];
	const char		*id;
	size_t			 first = ctx->first, cmdw, i;
	int			 rc, ran;

	if (ctx->agent != NULL) {
		/* FOR inside FOR: the member is not an agent */
		a[0] = (struct mb_arg){ "command", "FOR" };
		a[1] = (struct mb_arg){ "code", ctx->member->code };
		return host_reply(ctx, "for-refused", a, 2);
	}
	if ((rc = agents_agent(ctx, point, sizeof(point))) != 1)
		return rc;
	if (!agents_code_at(w, first, code, sizeof(code), &cmdw) ||
	    cmdw >= w->n)
		return router_usage(ctx, "FOR", NULL);
	if ((rc = agents_own_member(ctx, code, &m, 1)) != 1)
		return rc;
	if ((id = agents_command(ctx, w->word[cmdw], upper,
	    sizeof(upper))) == NULL)
		return router_usage(ctx, "FOR", NULL);
	for (i = 0; i < sizeof(agents_own) / sizeof(agents_own[0]); i++)
		if (strcmp(agents_own[i], id) == 0) {
			for (i = 0; w->word[cmdw][i] != '\0' &&
			    i < sizeof(upper) - 1; i++)
				upper[i] = toupper((unsigned char)
				    w->word[cmdw][i]);
			upper[i] = '\0';
			a[0] = (struct mb_arg){ "command", upper };
			a[1] = (struct mb_arg){ "code", m.code };
			return host_reply(ctx, "for-refused", a, 2);
		}
	if (user_load(ctx->core, m.identity, &mu) == -1)
		return -1;
	ctx->agent = agent;
	ctx->user = &mu;
	ctx->member = &m;
	ctx->first = cmdw + 1;
	rc = router_dispatch_ran(router_of(ctx), ctx, id, &ran);
	if (rc == 0 && mu.dirty && user_save(ctx->core, &mu) == -1)
		rc = -1;
	ctx->first = first;
	ctx->member = NULL;
	ctx->user = agent;
	ctx->agent = NULL;
	user_clear(&mu);
	if (rc == 0 && ran && agents_action(ctx, &m, id,
	    words_rest(w, cmdw + 1)) == -1)
		rc = -1;
	return rc;
}

/*
 * The FOR of a text (split as the router splits it: Chinese typed without
 * spaces is cut at the keywords, "代办M17卖..." into "代办", "m", "17",
 * "卖", ...): 1 with its member's code, 0 when the text is no FOR, -1
 * when memory runs out.
 */
static int
agents_for_code(struct router *r, const char *text, const char *lang,
    char *code, size_t len)
{
	struct words	 w;
	const char	*id;
	size_t		 next;
	int		 rc;

	if (words_split_with(text, r->core.money, r->core.dict, &w) == -1)
		return -1;
	rc = w.n >= 2 && (id = lang_keyword(r->core.langs, w.word[0], lang,
	    NULL)) != NULL && strcmp(id, "FOR") == 0 &&
	    agents_code_at(&w, 1, code, len, &next);
	words_free(&w);
	return rc;
}

int
router_for_key(struct router *r, const struct user *u, const char *text,
    const char *lang, char *key, size_t len)
{
	char		 code[MEMBER_CODE_MAX], point[64], asked[256];
	struct member	 m;
	struct words	 w;
	const char	*id = NULL;
	int		 n, answer;

	if (text == NULL)
		return 0;
	if (words_split_with(text, r->core.money, r->core.dict, &w) == -1)
		return -1;
	if (w.n > 0)
		id = lang_keyword(r->core.langs, w.word[0], lang, NULL);
	answer = id != NULL && (strcmp(id, "YES") == 0 ||
	    strcmp(id, "NO") == 0);
	n = id != NULL && strcmp(id, "FOR") == 0;
	words_free(&w);
	if (!answer && !n)
		return 0;
	if ((n = member_agent_point(r->core.store, u->msisdn, point,
	    sizeof(point))) != 1)
		return n;
	/*
	 * YES or NO answers the agent's open question: one that FOR asked
	 * ("FOR M17 ...") is that member's, as the FOR was, or two members'
	 * same answer would be one repeat.
	 */
	if (answer) {
		if ((n = question_command(r->core.store, u->msisdn, asked,
		    sizeof(asked))) != 1)
			return n;
		text = asked;		/* "FOR M17 ...": the id is a word */
	}
	if ((n = agents_for_code(r, text, lang, code, sizeof(code))) != 1)
		return n;
	/* Its own members only: any other code would be a fresh bucket. */
	if ((n = member_by_code(r->core.store, code, &m)) != 1 ||
	    strcmp(m.agent, u->msisdn) != 0)
		return n == -1 ? -1 : 0;
	n = snprintf(key, len, "%s/%s", u->msisdn, code);
	return n > 0 && (size_t)n < len;
}
