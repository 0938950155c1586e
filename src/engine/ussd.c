/*
 * ussd.c - the USSD menu engine: sessions kept in memory and in the
 * database, screens built from the conf's menus and the language files,
 * paging, validation, back and resume, actions run through the router,
 * and the answer as an SMPP MT (through the outbox) or an HTTP body.
 *
 * The engine is four files, one per reason to change (ussd_int.h is what
 * they share):
 *	ussd.c		the ways in: a USSD MO handed down by the dispatch
 *			step (dispatch.c) over SMPP or the HTTP callback,
 *			its session begun, timed out or ended, the answer
 *			sent; the replay of a duplicate; Kannel's meta_data;
 *			the engine's life (start, reload, sweep, figures)
 *	ussd_session.c	a session's state: frames, answers, their text
 *			forms, the cache and the ussd_sessions rows
 *	ussd_screen.c	screens: octets and cutting, templates filled,
 *			paging, the lists to choose from
 *	ussd_answer.c	what the user answered: validation, choices, back,
 *			the resume question, actions run through the router
 * The menus themselves are read by conf_ussd.c (group = ussd-menu,
 * ussd-item) and checked against the languages by ussd_check() here.
 *
 * See ussd.h for the design.  Decisions the header leaves open:
 *  - A session's place is a stack of frames: 'm' a menu (id, page), 'i' an
 *    input item (id, page of its list), 'r' the resume question.  "00"
 *    turns a page back, else pops a frame, else (at the bottom) goes to
 *    the menu's parent; "0" turns a page forward where there is one.
 *    Menu item numbers count across pages: any listed number is taken on
 *    any page.
 *  - Answers are kept per var; going back and answering again replaces
 *    the answer.  A commodity chosen also sets {unit} to its default unit.
 *  - A number answer is read as words.c reads numbers in commands
 *    ("3,000", "3000/=" are 3000); without validate it is 0 to 999999999.
 *    A text answer is 1 to 60 characters without validate.
 *  - The row of a session that a new dial replaces under the same key
 *    (SMPP session numbers come round again) is renamed
 *    "<key>#<started>" first, so it can still be resumed.
 *  - The memory copy is a cache of the rows: an MO that fails, or a
 *    commit that fails, empties it, so memory never runs ahead of the
 *    database.
 *  - On a shared store (store_shared: several instances, and the next
 *    screen of a session may reach any of them) there is no cache: each
 *    MO reads its session's row, one indexed read, as cheap as checking
 *    a version and never stale.  A row is written back only if it is
 *    still the one read: its mo_id (the MO that wrote it last) is the
 *    version.  A row moved on meanwhile by another instance fails the
 *    MO's unit, logged, rather than overwrite the other instance's
 *    screen; the inbox runs the unit again (store_retry_wanted), on the
 *    row as it is now.
 */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <event2/event.h>

#include "base/gw.h"

#include "base/conf.h"
#include "text/lang.h"
#include "queue/mo.h"
#include "queue/outbox.h"
#include "engine/router.h"
#include "store/store.h"
#include "engine/ussd.h"
#include "engine/ussd_int.h"
#include "base/urlcode.h"

/* The templates of the engine itself. */
static const char *const ussd_templates[] = {
	"ussd-more", "ussd-back", "ussd-invalid", "ussd-invalid-number",
	"ussd-resume", "ussd-yes", "ussd-no", "ussd-your-market", "ussd-done",
	"ussd-error", "ussd-slow-down", "ussd-no-members",
};

static const char ussd_sql_unkey[] =
    "DELETE FROM ussd_sessions WHERE id = $1";
static const char ussd_sql_rename[] =
    "UPDATE ussd_sessions SET id = $2 WHERE id = $1";
static const char ussd_sql_sweep[] =
    "DELETE FROM ussd_sessions WHERE updated < $1";

/* --- Kannel's meta_data ------------------------------------------------- */

/* URL-decode into bytes: urlcode_decode, for unsigned buffers. */
long
ussd_url_decode(const char *s, size_t n, unsigned char *out, size_t outsize)
{
	return urlcode_decode(s, n, (char *)out, outsize);
}

long
ussd_meta_get(const char *meta, const char *group, const char *key,
    unsigned char *out, size_t outsize)
{
	const char	*p, *g, *ge, *end;
	unsigned char	 name[64];
	long		 n;

	if (meta == NULL || *meta != '?')
		return meta == NULL || *meta == '\0' ? -1 : -2;
	p = meta;
	while (*p == '?') {
		/* ?group? */
		g = p + 1;
		if ((ge = strchr(g, '?')) == NULL)
			return -2;
		/* The group's pairs end at the next '?' (values are encoded). */
		if ((end = strchr(ge + 1, '?')) == NULL)
			end = ge + 1 + strlen(ge + 1);
		n = ussd_url_decode(g, (size_t)(ge - g), name, sizeof(name) - 1);
		if (n >= 0 && strlen(group) == (size_t)n &&
		    strncasecmp((const char *)name, group, (size_t)n) == 0) {
			const char	*q = ge + 1;

			while (q < end) {
				const char	*amp, *eq;

				if ((amp = memchr(q, '&', (size_t)(end - q))) == NULL)
					amp = end;
				eq = memchr(q, '=', (size_t)(amp - q));
				if (eq != NULL) {
					n = ussd_url_decode(q, (size_t)(eq - q),
					    name, sizeof(name) - 1);
					if (n >= 0 && strlen(key) == (size_t)n &&
					    memcmp(name, key, (size_t)n) == 0) {
						n = ussd_url_decode(eq + 1,
						    (size_t)(amp - eq - 1), out,
						    outsize);
						return n < 0 ? -2 : n;
					}
				}
				q = amp + 1;
			}
		}
		p = end;
	}
	return *p == '\0' ? -1 : -2;
}

/* --- sessions begin and end ---------------------------------------------- */

/*
 * A new dial under key: the session there before (if any) is kept under
 * another key when it could still be resumed; the new one starts with
 * the resume question when a session of this phone may be resumed, else
 * with the start menu.
 */
static struct ussd_session *
ussd_dial(struct ussd_req *r, const char *key, struct ussd_session *old,
    int may_resume, int *failed)
{
	struct ussd		*u = r->u;
	struct ussd_session	*s;
	const char		*lang;
	char			 market[USSD_ID_MAX], other[USSD_KEY_MAX + 32];
	char			*row_mo = NULL;	/* of the row left under key */
	int			 rc;

	*failed = 0;
	if (old != NULL) {
		if (strcmp(old->state, "done") != 0 && old->depth > 1) {
			snprintf(other, sizeof(other), "%s#%lld", key,
			    old->started);
			if (ussd_exec2(u, ussd_sql_unkey, other, NULL) == -1 ||
			    ussd_exec2(u, ussd_sql_rename, key, other) == -1)
				goto fail;
		} else {
			/* the new session writes over this row */
			row_mo = old->row_mo;
			old->row_mo = NULL;
		}
		if (old->cached)
			ussd_cache_drop(u, key);
		else
			ussd_session_free(old);
	}
	if (router_user_info(u->router, r->mo->sender, &lang, market,
	    sizeof(market)) == -1)
		goto fail;
	snprintf(r->home, sizeof(r->home), "%s", market);
	r->home_known = 1;
	if ((s = ussd_session_new(key, r->mo->sender, lang, r->now)) == NULL) {
		error(errno, "ussd: out of memory");
		goto fail;
	}
	s->row_mo = row_mo;
	row_mo = NULL;
	r->s = s;
	u->stats.sessions++;
	rc = may_resume ? ussd_resumable(u, r->mo->sender, key, r->now, other,
	    sizeof(other)) : 0;
	if (rc == -1) {
		ussd_session_free(s);
		goto fail;
	}
	if (rc == 1 && ussd_push(s, 'r', "resume") == 0 &&
	    ussd_var_set(s, "_resume", other) == 0)
		debug(USSD_LOG, 0, "ussd: %s may resume %s", key, other);
	else
		ussd_restart(u, s);
	ussd_cache_put(u, s);
	return s;
fail:
	free(row_mo);
	*failed = 1;
	return NULL;
}

/* A session idle longer than the operator's timeout. */
static int
ussd_timed_out(struct ussd_req *r, const struct ussd_session *s)
{
	return r->now - s->updated > r->u->conf->ussd_timeout;
}

/* 1 when the session goes on: not finished, not timed out. */
static int
ussd_live(struct ussd_req *r, struct ussd_session *s)
{
	if (s == NULL || strcmp(s->state, "open") != 0)
		return 0;
	if (ussd_timed_out(r, s)) {
		r->u->stats.timeouts++;
		snprintf(s->state, sizeof(s->state), "left");
		debug(USSD_LOG, 0, "ussd: %s timed out", s->key);
		return 0;
	}
	return 1;
}

/* "*384*1#": what a phone sends to start a session. */
static int
ussd_is_dial_string(const char *text)
{
	size_t	 n = strlen(text);

	return n > 0 && (text[0] == '*' || text[0] == '#' ||
	    text[n - 1] == '#');
}

/* The SMPP values for the MO's link: its ussd-smsc group, else the conf's. */
static void
ussd_ops(const struct conf *c, const char *smsc_id, int *cont, int *end,
    int *end_bit)
{
	size_t	 i;

	*cont = c->ussd_op_continue;
	*end = c->ussd_op_end;
	*end_bit = c->ussd_end_bit;
	for (i = 0; smsc_id != NULL && i < c->nussd_smscs; i++)
		if (strcmp(c->ussd_smscs[i].smsc_id, smsc_id) == 0) {
			*cont = c->ussd_smscs[i].op_continue;
			*end = c->ussd_smscs[i].op_end;
			*end_bit = c->ussd_smscs[i].end_bit;
		}
}

/* Queue the SMPP answer: the screen as an MT with the USSD TLVs. */
static int
ussd_send_smpp(struct ussd_req *r, const unsigned char *its, int has_its)
{
	const struct conf	*c = r->u->conf;
	char			 meta[128];
	const char		*sender = r->mo->receiver;
	int			 cont, end, end_bit, len;

	ussd_ops(c, r->mo->smsc_id, &cont, &end, &end_bit);
	len = snprintf(meta, sizeof(meta), "?smpp?ussd_service_op=%%%02X&",
	    (unsigned)(r->s->ended ? end : cont) & 0xff);
	if (has_its)
		snprintf(meta + len, sizeof(meta) - (size_t)len,
		    "its_session_info=%%%02X%%%02X&", its[0],
		    r->s->ended && end_bit ? its[1] | 1 : its[1] & 0xfe);
	if (sender == NULL || *sender == '\0')
		sender = c->global_sender;
	return outbox_queue(r->u->outbox, r->inbox_id, "ussd", sender,
	    r->mo->sender, r->s->screen, r->mo->smsc_id, meta);
}

/* "CON screen" or "END screen", malloc'd. */
static char *
ussd_body(const struct ussd_session *s)
{
	char	*b;

	if (asprintf(&b, "%s %s", s->ended ? "END" : "CON",
	    s->screen ? s->screen : "") == -1)
		return NULL;
	return b;
}

/* The session key and what SMPP's meta_data says. */
struct ussd_in {
	int		 http;
	char		 key[USSD_KEY_MAX];
	int		 op;		/* ussd_service_op, -1 if none */
	unsigned char	 its[2];
	int		 has_its;
};

static int
ussd_in_parse(const struct mo *mo, struct ussd_in *in)
{
	unsigned char	 buf[130];
	long		 n;

	memset(in, 0, sizeof(*in));
	in->op = -1;
	if (mo->channel != NULL && strcmp(mo->channel, "ussd") == 0) {
		in->http = 1;
		n = ussd_meta_get(mo->meta_data, "http", "sessionId", buf,
		    sizeof(buf) - 1);
		if (n <= 0)
			return -1;
		buf[n] = '\0';
		/*
		 * The aggregator's session id with the phone: another phone
		 * that sends the same id (guessed or replayed) gets a
		 * session of its own, never this one's screens or answers.
		 */
		snprintf(in->key, sizeof(in->key), "http:%s:%s", mo->sender,
		    (char *)buf);
		return 0;
	}
	if ((n = ussd_meta_get(mo->meta_data, "smpp", "ussd_service_op", buf,
	    sizeof(buf))) < 0)
		return -1;
	in->op = n >= 1 ? buf[0] : -1;
	if (ussd_meta_get(mo->meta_data, "smpp", "its_session_info", buf,
	    sizeof(buf)) == 2) {
		in->its[0] = buf[0];
		in->its[1] = buf[1];
		in->has_its = 1;
		snprintf(in->key, sizeof(in->key), "smpp:%s:%u", mo->sender,
		    (unsigned)in->its[0]);
	} else
		snprintf(in->key, sizeof(in->key), "smpp:%s", mo->sender);
	return 0;
}

int
ussd_is_ussd(const struct mo *mo)
{
	unsigned char	 op[64];

	if (mo->channel != NULL && strcmp(mo->channel, "ussd") == 0)
		return 1;
	return mo->meta_data != NULL && ussd_meta_get(mo->meta_data, "smpp",
	    "ussd_service_op", op, sizeof(op)) >= 0;
}

/* Split an HTTP text into its inputs (at most USSD_INPUTS_MAX). */
static size_t
ussd_fields(char *text, char **fields)
{
	size_t	 n = 0;
	char	*p = text, *star;

	if (*text == '\0')
		return 0;
	while (n < USSD_INPUTS_MAX) {
		fields[n++] = p;
		if ((star = strchr(p, '*')) == NULL)
			break;
		*star = '\0';
		p = star + 1;
	}
	return n;
}

/* The HTTP way: take the inputs of text the session has not seen. */
static int
ussd_handle_http(struct ussd_req *r, const char *key)
{
	struct ussd_session	*s;
	char			*text, *fields[USSD_INPUTS_MAX];
	size_t			 nf, i;
	int			 failed, replay;

	if ((text = strdup(r->mo->text ? r->mo->text : "")) == NULL)
		return -1;
	nf = ussd_fields(text, fields);
	s = ussd_load(r->u, key, &failed);
	if (failed)
		goto fail;
	if (ussd_live(r, s)) {
		r->s = s;
		for (i = (size_t)s->inputs; i < nf && !s->ended; i++)
			if (ussd_input(r, fields[i]) == -1)
				goto fail;
	} else if (s != NULL && s->ended && (size_t)s->inputs >= nf) {
		/* The aggregator asks again for a finished session. */
		r->s = s;
	} else {
		/*
		 * No session: a first request (text empty), or one whose
		 * session is lost (replayed from the start, no resume
		 * question).  A finished or timed-out session asked again
		 * starts afresh, its history skipped.
		 */
		replay = s == NULL;
		if (ussd_dial(r, key, s, nf == 0 || !replay, &failed) == NULL)
			goto fail;
		for (i = 0; replay && i < nf && !r->s->ended; i++)
			if (ussd_input(r, fields[i]) == -1)
				goto fail;
	}
	if ((size_t)r->s->inputs < nf)
		r->s->inputs = (long long)nf;
	free(text);
	return 0;
fail:
	free(text);
	return -1;
}

/* The SMPP way: one input per MO. */
static int
ussd_handle_smpp(struct ussd_req *r, const struct ussd_in *in)
{
	struct ussd_session	*s;
	const char		*text = r->mo->text ? r->mo->text : "";
	int			 failed, dial, rc;

	s = ussd_load(r->u, in->key, &failed);
	if (failed)
		return -1;
	/* The network ended the dialogue (the user cancelled): no answer. */
	if (in->has_its && (in->its[1] & 1)) {
		rc = 1;
		if (s != NULL && strcmp(s->state, "open") == 0) {
			snprintf(s->state, sizeof(s->state), "left");
			s->updated = r->now;
			info(0, "ussd: %s released by the network", in->key);
			if (ussd_save(r->u, s) == -1)
				rc = -1;
		}
		/* a session of a shared store is the caller's alone */
		if (s != NULL && !s->cached)
			ussd_session_free(s);
		return rc;
	}
	dial = !ussd_live(r, s) || ((in->op == 0 || in->op == 1) &&
	    ussd_is_dial_string(text));
	if (dial) {
		if (ussd_dial(r, in->key, s, 1, &failed) == NULL)
			return -1;
	} else {
		r->s = s;
		if (ussd_input(r, text) == -1)
			return -1;
	}
	return 0;
}

int
ussd_handle(struct ussd *u, const struct mo *mo, long long inbox_id,
    char **answer)
{
	struct ussd_req	 r;
	struct ussd_in	 in;
	char		*screen;
	int		 rc;

	*answer = NULL;
	memset(&r, 0, sizeof(r));
	r.u = u;
	r.mo = mo;
	r.inbox_id = inbox_id;
	r.now = mo->time > 0 ? mo->time : (long long)time(NULL);
	r.langs = router_langs(u->router);
	if (ussd_in_parse(mo, &in) == -1) {
		warning(0, "ussd: MO %s from %s has no USSD session; dropped",
		    mo->id, mo->sender);
		return 0;
	}
	if (u->conf->nussd_menus == 0 ||
	    conf_ussd_menu_find(u->conf, u->conf->ussd_start) == NULL) {
		/* A reload took the menus away: say so, and end. */
		warning(0, "ussd: no USSD menu in the conf; MO %s from %s "
		    "gets the error screen", mo->id, mo->sender);
		if ((r.s = ussd_session_new(in.key, mo->sender,
		    lang_default(r.langs), r.now)) == NULL ||
		    (r.s->screen = ussd_text(&r, "ussd-error", NULL, 0)) ==
		    NULL)
			goto fail;
		r.s->ended = 1;
		rc = in.http ? ((*answer = ussd_body(r.s)) == NULL ? -1 : 0) :
		    ussd_send_smpp(&r, in.its, in.has_its);
		ussd_session_free(r.s);
		r.s = NULL;
		if (rc == -1)
			goto fail;
		return 0;
	}
	rc = in.http ? ussd_handle_http(&r, in.key) : ussd_handle_smpp(&r, &in);
	if (rc == 1)
		return 0;	/* released: nothing to answer */
	if (rc == -1)
		goto fail;
	if (!r.s->ended) {
		ussd_check_frames(u, r.s);
		if ((screen = ussd_render(&r, NULL)) == NULL)
			goto fail;
		free(r.s->screen);
		r.s->screen = screen;
	}
	free(r.s->mo_id);
	if ((r.s->mo_id = strdup(mo->id)) == NULL)
		goto fail;
	r.s->updated = r.now;
	if (ussd_save(u, r.s) == -1)
		goto fail;
	u->stats.screens++;
	debug(USSD_LOG, 0, "ussd: %s %s: %s", r.s->key, r.s->ended ? "END" :
	    "CON", r.s->screen);
	if (in.http) {
		if ((*answer = ussd_body(r.s)) == NULL)
			goto fail;
	} else if (ussd_send_smpp(&r, in.its, in.has_its) == -1)
		goto fail;
	if (!r.s->cached)
		ussd_session_free(r.s);
	return 0;
fail:
	error(0, "ussd: MO %s from %s could not be handled", mo->id,
	    mo->sender);
	/*
	 * Memory must not run ahead of the rolled-back database: this MO
	 * may have changed other sessions too (one resumed, one renamed).
	 */
	if (r.s != NULL && !r.s->cached)
		ussd_session_free(r.s);
	ussd_cache_clear(u);
	free(*answer);
	*answer = NULL;
	return -1;
}

char *
ussd_replay(struct ussd *u, const struct mo *mo)
{
	struct ussd_in		 in;
	struct ussd_session	*s;
	char			*b;
	int			 failed;

	if (ussd_in_parse(mo, &in) == -1 ||
	    (s = ussd_load(u, in.key, &failed)) == NULL || s->screen == NULL)
		return NULL;
	b = ussd_body(s);
	if (!s->cached)
		ussd_session_free(s);
	return b;
}

/* --- life ---------------------------------------------------------------- */

int
ussd_check(const struct conf *c, const struct lang_set *langs)
{
	const char	*def;
	size_t		 i;
	int		 bad = 0;

	if (c->nussd_menus == 0)
		return 0;
	def = lang_default(langs);
#define USSD_NEED(name, what)						\
	do {								\
		if ((name) != NULL && lang_template(langs, def,		\
		    (name)) == NULL) {					\
			error(0, "ussd: %s: no template '%s' in the "	\
			    "language files", (what), (name));		\
			bad = -1;					\
		}							\
	} while (0)
	for (i = 0; i < sizeof(ussd_templates) / sizeof(ussd_templates[0]);
	    i++)
		USSD_NEED(ussd_templates[i], "the USSD screens");
	for (i = 0; i < c->nussd_menus; i++)
		USSD_NEED(c->ussd_menus[i].title, c->ussd_menus[i].id);
	for (i = 0; i < c->nussd_items; i++) {
		USSD_NEED(c->ussd_items[i].label, c->ussd_items[i].id);
		USSD_NEED(c->ussd_items[i].prompt, c->ussd_items[i].id);
	}
#undef USSD_NEED
	return bad;
}

/*
 * The sweep, as a store task (store.h).  Each instance on a shared store
 * sweeps too: deleting rows idle for a day is the same work done twice at
 * most, the second finding nothing, so it needs no claim (and rows that
 * old are not locked by anyone's open transaction).
 */
static void
ussd_sweep_task(void *arg)
{
	struct ussd	*u = arg;

	ussd_sweep(u, (long long)time(NULL));
	u->sweeping = 0;
}

static void
ussd_sweep_cb(evutil_socket_t fd, short what, void *arg)
{
	struct ussd	*u = arg;

	(void)fd;
	(void)what;
	/* One still waiting for the database: this tick is skipped. */
	if (u->sweeping)
		return;
	u->sweeping = 1;
	if (store_task(u->store, ussd_sweep_task, u) == -1)
		u->sweeping = 0;
}

void
ussd_sweep(struct ussd *u, long long now)
{
	struct ussd_session	**pp, *s;
	struct store_stmt	*st;
	size_t			 i;
	int			 ok = 0;

	for (i = 0; i < USSD_BUCKETS; i++)
		for (pp = &u->buckets[i]; (s = *pp) != NULL; ) {
			if (now - s->updated > u->conf->ussd_timeout) {
				*pp = s->next;
				u->ncached--;
				ussd_session_free(s);
			} else
				pp = &s->next;
		}
	if (store_work_begin(u->store) == -1)
		return;
	if ((st = store_query(u->store, ussd_sql_sweep)) != NULL &&
	    store_bind_int(st, 1, now - USSD_KEEP) == 0)
		ok = store_step(st) == STORE_DONE;
	store_done(st);
	store_work_end(u->store, ok);
}

struct ussd *
ussd_new(struct event_base *base, const struct conf *conf,
    struct store *store, struct outbox *outbox, struct router *router)
{
	struct ussd	*u;
	struct timeval	 tv = { USSD_SWEEP, 0 };

	if (conf == NULL || store == NULL || outbox == NULL || router == NULL) {
		error(0, "ussd: needs a conf, a store, an outbox and a router");
		return NULL;
	}
	if (ussd_check(conf, router_langs(router)) == -1)
		return NULL;
	if ((u = calloc(1, sizeof(*u))) == NULL ||
	    (u->buckets = calloc(USSD_BUCKETS, sizeof(*u->buckets))) == NULL) {
		error(errno, "ussd: out of memory");
		free(u);
		return NULL;
	}
	u->base = base;
	u->conf = conf;
	u->store = store;
	u->outbox = outbox;
	u->router = router;
	if (base != NULL && ((u->sweep_ev = event_new(base, -1, EV_PERSIST,
	    ussd_sweep_cb, u)) == NULL || event_add(u->sweep_ev, &tv) == -1)) {
		error(0, "ussd: cannot start the sweeping timer");
		ussd_free(u);
		return NULL;
	}
	info(0, "ussd: %zu menus, %zu items; sessions time out after %d s, "
	    "may be resumed for %d s", conf->nussd_menus, conf->nussd_items,
	    conf->ussd_timeout, conf->ussd_resume);
	return u;
}

void
ussd_free(struct ussd *u)
{
	if (u == NULL)
		return;
	/* The store holds a commit callback with u as its argument. */
	if (u->commit_waiting)
		store_commit(u->store);
	if (u->sweep_ev != NULL)
		event_free(u->sweep_ev);
	ussd_cache_clear(u);
	free(u->buckets);
	free(u);
}

void
ussd_set_conf(struct ussd *u, const struct conf *conf)
{
	if (u == NULL || conf == NULL)
		return;
	u->conf = conf;
}

void
ussd_stats(struct ussd *u, struct ussd_stats *st)
{
	*st = u->stats;
	st->cached = u->ncached;
}
