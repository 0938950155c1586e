/*
 * actions.c - what marketctl asks the admin to do, and the form it
 * sends.  The HTTP server has already checked who asks (allow-list,
 * password, lock-out, the X-Marketbox-Admin header: src/http/access.c)
 * and admin.c has parsed the form (admin_form, here) before a function
 * here runs; each answers its
 * request exactly once, now or after the commit.
 *
 * Actions change the database in units of work, like a message, and
 * answer once the pass's transaction has committed:
 *
 *	POST /admin/broadcast	market=, commodity=, all=1, text=: a notice
 *				to every registered user who matches and has
 *				not sent STOP; or text-LANG= (text-en=,
 *				text-sw=...) instead of text=: each reader
 *				gets her language's text, else the default
 *				language's; refused 400 before anything is
 *				queued when some readers would get neither
 *				(their languages and counts named).  Each
 *				text fits max-parts SMS.  Queued in batches of
 *				ADMIN_BROADCAST_BATCH per loop pass (opt_out
 *				is read as each batch is queued); answers 202
 *				with the broadcast's id at once.  The outbox's
 *				sender then sends at the conf's throughput.
 *	GET /admin/broadcast?id=	its progress
 *	POST /admin/retry	kind= (optional): failed rows queued again,
 *				ADMIN_RETRY_BATCH at most per request
 *	POST /admin/user	msisdn=, role=: set a user's role (the user
 *				is created if marketbox does not know them)
 *	POST /admin/agent	msisdn=, point=: make a phone an agent of a
 *				service point (its users row made or given the
 *				role agent); msisdn=, remove=1: no longer one
 *				(agents.removed set, the role back to user)
 */
#include "config.h"

#include <sys/types.h>
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "base/gw.h"

/* After libgw: its gwlib/http.h has an enum that event2/http.h's macros
 * would otherwise break. */
#include <event2/buffer.h>
#include <event2/event.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>

#include "admin/admin.h"
#include "admin/admin_int.h"
#include "http/http.h"
#include "base/conf.h"
#include "plugin/core.h"
#include "queue/outbox.h"
#include "store/store.h"
#include "text/gsm.h"

#define ADMIN_BROADCAST_BATCH	500	/* notices queued per loop pass */
#define ADMIN_RETRY_BATCH	10000	/* rows requeued per request */
#define ADMIN_MAX_TEXT		1600	/* bytes of a broadcast text */

/* 1 if the n bytes at s are valid UTF-8 with no control characters but
 * newline. */
int
admin_text_ok(const char *s, size_t n)
{
	const unsigned char	*p = (const unsigned char *)s;
	size_t			 i = 0, k, more;
	unsigned long		 cp;

	while (i < n) {
		if (p[i] < 0x80) {
			if ((p[i] < 0x20 && p[i] != '\n') || p[i] == 0x7f)
				return 0;
			i++;
			continue;
		}
		if ((p[i] & 0xe0) == 0xc0) {
			more = 1;
			cp = p[i] & 0x1f;
		} else if ((p[i] & 0xf0) == 0xe0) {
			more = 2;
			cp = p[i] & 0x0f;
		} else if ((p[i] & 0xf8) == 0xf0) {
			more = 3;
			cp = p[i] & 0x07;
		} else
			return 0;
		for (k = 1; k <= more; k++) {
			if (i + k >= n || (p[i + k] & 0xc0) != 0x80)
				return 0;
			cp = cp << 6 | (p[i + k] & 0x3f);
		}
		if ((more == 1 && cp < 0x80) || (more == 2 && cp < 0x800) ||
		    (more == 3 && cp < 0x10000) || cp > 0x10ffff ||
		    (cp >= 0xd800 && cp <= 0xdfff))
			return 0;
		i += more + 1;
	}
	return 1;
}

/* The value of key in a decoded query or form, or NULL. */
const char *
admin_param(struct evkeyvalq *q, const char *key)
{
	return q != NULL ? evhttp_find_header(q, key) : NULL;
}

/* Parse a POST form body into q.  0, or -1 (answered 400 / 415). */
int
admin_form(struct evhttp_request *req, struct evkeyvalq *q)
{
	struct evbuffer	*in = evhttp_request_get_input_buffer(req);
	const char	*type;
	size_t		 len = evbuffer_get_length(in);
	char		*body;
	int		 rc;

	type = evhttp_find_header(evhttp_request_get_input_headers(req),
	    "Content-Type");
	if (len > 0 && (type == NULL || strncasecmp(type,
	    "application/x-www-form-urlencoded", 33) != 0)) {
		admin_reply_error(req, 415, "Unsupported Media Type",
		    "send the fields as application/x-www-form-urlencoded");
		return -1;
	}
	if ((body = malloc(len + 1)) == NULL) {
		admin_reply_error(req, 500, "Internal Server Error",
		    "out of memory");
		return -1;
	}
	evbuffer_copyout(in, body, len);
	body[len] = '\0';
	rc = strlen(body) != len ? -1 : evhttp_parse_query_str(body, q);
	free(body);
	if (rc == -1) {
		evhttp_clear_headers(q);
		admin_reply_error(req, 400, "Bad Request",
		    "the form body does not parse");
		return -1;
	}
	return 0;
}

static struct admin_job *
admin_job_find(struct admin *a, long long id)
{
	size_t	 i;

	for (i = 0; i < a->njobs; i++)
		if (a->jobs[i]->id == id)
			return a->jobs[i];
	return NULL;
}

void
admin_job_free(struct admin_job *j)
{
	size_t	 i;

	if (j == NULL)
		return;
	if (j->next != NULL)
		event_free(j->next);
	free(j->market);
	free(j->commodity);
	for (i = 0; i < j->ntexts; i++) {
		free(j->texts[i].lang);
		free(j->texts[i].text);
	}
	free(j->default_lang);
	free(j);
}

const char *
admin_broadcast_pick(const struct admin_text *t, size_t n, const char *lang,
    const char *deflang)
{
	size_t	 i;

	if (lang == NULL || *lang == '\0')
		lang = deflang;
	for (i = 0; i < n; i++)
		if (t[i].lang == NULL || (lang != NULL &&
		    strcmp(t[i].lang, lang) == 0))
			return t[i].text;
	for (i = 0; i < n && deflang != NULL; i++)
		if (strcmp(t[i].lang, deflang) == 0)
			return t[i].text;
	return NULL;
}

/* Bind the job's filters (NULL: any) to the recipients query. */
static void
admin_job_bind(struct store_stmt *st, const struct admin_job *j)
{
	store_bind_text(st, 1, j->market);
	store_bind_text(st, 2, j->commodity);
}

/*
 * The recipients of a broadcast: registered, with a phone (a service
 * point's member without one is "m:<code>"), not opted out, of the market
 * ($1, NULL: any), and, for a commodity ($2), who showed an interest in
 * it: posted an offer or a want of it (the market plugin's table) or
 * asked for its price alerts (the prices plugin's).  Ordered by users.id,
 * taken a batch at a time after $3.  One statement per set of plugin
 * tables present (index: 1 market_posts, 2 prices_alerts).
 */
#define ADMIN_WHO \
	"FROM users WHERE name IS NOT NULL AND opt_out = 0 " \
	"AND msisdn NOT LIKE 'm:%' " \
	"AND (CAST($1 AS TEXT) IS NULL OR market = $1) AND "
#define ADMIN_POSTS \
	"msisdn IN (SELECT msisdn FROM market_posts WHERE commodity = $2)"
#define ADMIN_ALERTS \
	"msisdn IN (SELECT msisdn FROM prices_alerts WHERE commodity = $2)"
#define ADMIN_BATCH	" AND id > $3 ORDER BY id LIMIT $4"
/* $2 is typed where nothing else says what it is (PostgreSQL asks). */
static const char *const admin_sql_count[4] = {
	"SELECT COUNT(*) " ADMIN_WHO "CAST($2 AS TEXT) IS NULL",
	"SELECT COUNT(*) " ADMIN_WHO "(CAST($2 AS TEXT) IS NULL OR "
	    ADMIN_POSTS ")",
	"SELECT COUNT(*) " ADMIN_WHO "(CAST($2 AS TEXT) IS NULL OR "
	    ADMIN_ALERTS ")",
	"SELECT COUNT(*) " ADMIN_WHO "(CAST($2 AS TEXT) IS NULL OR "
	    ADMIN_POSTS " OR " ADMIN_ALERTS ")"
};
/* The recipients counted by language ("" for none chosen). */
#define ADMIN_LANG	"SELECT COALESCE(language, ''), COUNT(*) "
#define ADMIN_BY_LANG	" GROUP BY COALESCE(language, '') ORDER BY 1"
static const char *const admin_sql_langs[4] = {
	ADMIN_LANG ADMIN_WHO "CAST($2 AS TEXT) IS NULL" ADMIN_BY_LANG,
	ADMIN_LANG ADMIN_WHO "(CAST($2 AS TEXT) IS NULL OR " ADMIN_POSTS ")"
	    ADMIN_BY_LANG,
	ADMIN_LANG ADMIN_WHO "(CAST($2 AS TEXT) IS NULL OR " ADMIN_ALERTS ")"
	    ADMIN_BY_LANG,
	ADMIN_LANG ADMIN_WHO "(CAST($2 AS TEXT) IS NULL OR " ADMIN_POSTS
	    " OR " ADMIN_ALERTS ")" ADMIN_BY_LANG
};
static const char *const admin_sql_batch[4] = {
	"SELECT id, msisdn, language " ADMIN_WHO "CAST($2 AS TEXT) IS NULL"
	    ADMIN_BATCH,
	"SELECT id, msisdn, language " ADMIN_WHO "(CAST($2 AS TEXT) IS NULL "
	    "OR " ADMIN_POSTS ")" ADMIN_BATCH,
	"SELECT id, msisdn, language " ADMIN_WHO "(CAST($2 AS TEXT) IS NULL "
	    "OR " ADMIN_ALERTS ")" ADMIN_BATCH,
	"SELECT id, msisdn, language " ADMIN_WHO "(CAST($2 AS TEXT) IS NULL "
	    "OR " ADMIN_POSTS " OR " ADMIN_ALERTS ")" ADMIN_BATCH
};

/* Which interest tables exist: 1 market_posts, 2 prices_alerts. */
static int
admin_interest_tables(struct admin *a)
{
	static const char *const cols[] = { "msisdn", "commodity", NULL };

	return (admin_table_has(a, "market_posts", cols) ? 1 : 0) |
	    (admin_table_has(a, "prices_alerts", cols) ? 2 : 0);
}

/*
 * Run the next batch on a later pass of the loop: a zero timer, which
 * libevent runs only after polling again (an event made active now would
 * run in this very pass, and a big broadcast would hold the loop).
 */
static void
admin_job_schedule(struct admin_job *j)
{
	static const struct timeval	 now = { 0, 0 };

	if (j->next != NULL && evtimer_add(j->next, &now) == -1) {
		error(0, "admin: broadcast %lld: cannot schedule; stopped",
		    j->id);
		j->failed = j->done = 1;
	}
}

/* A batch is durable (or rolled back): move on, or stop. */
static void
admin_job_commit_cb(void *arg, int ok)
{
	struct admin_job	*j = arg;

	j->commit_pending = 0;
	if (j->admin == NULL) {		/* admin_free detached it */
		admin_job_free(j);
		return;
	}
	if (!ok) {
		j->failed = 1;
		j->done = 1;
		error(0, "admin: broadcast %lld stopped: the database could "
		    "not commit; %lld notices were queued", j->id, j->notices);
		return;
	}
	j->cursor = j->batch_cursor;
	j->notices += j->batch_notices;
	if (j->batch_last_row > 0)
		j->last_row = j->batch_last_row;
	if (j->batch_final) {
		j->done = 1;
		info(0, "admin: broadcast %lld queued: %lld notices", j->id,
		    j->notices);
		return;
	}
	admin_job_schedule(j);
}

/*
 * One batch of a broadcast, in one unit of work: the next recipients by
 * users.id, read now (so a STOP sent meanwhile is respected), each given
 * the notice through the outbox, in the text of her language
 * (admin_broadcast_pick).  A reader no text fits (her language changed,
 * or she registered, after the start checked every language had one)
 * gets the first text given, logged: never left out.  The next batch
 * runs after the commit.
 */
static void
admin_job_batch(struct admin_job *j)
{
	struct admin		*a = j->admin;
	struct store		*store = a->src.store;
	struct store_stmt	*st;
	char			(*to)[32] = NULL;
	const char		**text = NULL, *lang;
	long long		 last_id = j->cursor, row = 0;
	size_t			 n = 0, seen = 0, i;
	int			 rc, ok = 0;

	if (j->done || j->commit_pending)
		return;
	if ((to = calloc(ADMIN_BROADCAST_BATCH, sizeof(*to))) == NULL ||
	    (text = calloc(ADMIN_BROADCAST_BATCH, sizeof(*text))) == NULL) {
		free(to);
		error(errno, "admin: broadcast %lld: out of memory", j->id);
		j->failed = j->done = 1;
		return;
	}
	if (store_work_begin(store) == -1)
		goto out;
	if ((st = store_query(store, admin_sql_batch[j->tables])) == NULL)
		goto end;
	admin_job_bind(st, j);
	store_bind_int(st, 3, j->cursor);
	store_bind_int(st, 4, ADMIN_BROADCAST_BATCH);
	while ((rc = store_step(st)) == STORE_ROW &&
	    seen < ADMIN_BROADCAST_BATCH) {
		const char	*m = store_text(st, 1);

		seen++;
		last_id = store_int(st, 0);
		if (m == NULL || strlen(m) >= sizeof(to[0]))
			continue;
		lang = store_is_null(st, 2) ? NULL : store_text(st, 2);
		if ((text[n] = admin_broadcast_pick(j->texts, j->ntexts, lang,
		    j->default_lang)) == NULL) {
			warning(0, "admin: broadcast %lld: no text for %s's "
			    "language %s; sent the first text", j->id, m,
			    lang != NULL ? lang : j->default_lang);
			text[n] = j->texts[0].text;
		}
		snprintf(to[n++], sizeof(to[0]), "%s", m);
	}
	store_done(st);
	if (rc == STORE_ERROR) {
		error(0, "admin: broadcast %lld: cannot read its recipients",
		    j->id);
		goto end;
	}
	/* A short batch is the last (LIMIT ends every batch with DONE). */
	j->batch_final = seen < ADMIN_BROADCAST_BATCH;
	for (i = 0; i < n; i++)
		if (outbox_queue(a->src.outbox, 0, "broadcast",
		    a->conf->global_sender, to[i], text[i], NULL, NULL) == -1)
			goto end;
	/*
	 * The highest outbox row now, inside this unit of work: the last
	 * notice queued (the progress counts rows up to it).  One query a
	 * batch, whichever engine numbers the rows.
	 */
	if (n > 0 && (row = admin_count(a,
	    "SELECT COALESCE(MAX(id), 0) FROM outbox")) < 0)
		goto end;
	ok = 1;
end:
	if (store_work_end(store, ok) == -1)
		ok = 0;
out:
	free(to);
	free(text);
	if (!ok) {
		error(0, "admin: broadcast %lld stopped after %lld notices",
		    j->id, j->notices);
		j->failed = j->done = 1;
		return;
	}
	j->batch_cursor = last_id;
	j->batch_notices = (long long)n;
	j->batch_last_row = row;
	if (store_on_commit(store, admin_job_commit_cb, j) == -1) {
		j->failed = j->done = 1;
		return;
	}
	j->commit_pending = 1;
}

/* A batch as a store task (store.h): one at a time. */
static void
admin_job_batch_task(void *arg)
{
	struct admin_job	*j = arg;

	admin_job_batch(j);
	j->running = 0;
}

static void
admin_job_batch_cb(evutil_socket_t fd, short what, void *arg)
{
	struct admin_job	*j = arg;

	(void)fd;
	(void)what;
	if (j->running || j->admin == NULL)
		return;
	j->running = 1;
	if (store_task(j->admin->src.store, admin_job_batch_task, j) == -1) {
		j->running = 0;
		error(0, "admin: broadcast %lld: cannot run; stopped", j->id);
		j->failed = j->done = 1;
	}
}

/* The JSON of a broadcast's progress. */
static void
admin_job_json(struct admin *a, const struct admin_job *j,
    struct evbuffer *b)
{
	static const char sql[] =
	    "SELECT state, COUNT(*) FROM outbox WHERE kind = 'broadcast' AND "
	    "id > $1 AND id <= $2 GROUP BY state ORDER BY state";
	struct store_stmt	*st;
	int			 first = 1;

	evbuffer_add_printf(b, "{\"id\": %lld, \"market\": ", j->id);
	http_json_string(b, j->market);
	evbuffer_add_printf(b, ", \"commodity\": ");
	http_json_string(b, j->commodity);
	evbuffer_add_printf(b, ", \"started\": %lld, \"recipients\": %lld, "
	    "\"notices\": %lld, \"done\": %s, \"failed\": %s, \"rows\": {",
	    (long long)j->started, j->recipients, j->notices,
	    j->done ? "true" : "false", j->failed ? "true" : "false");
	if (j->last_row > j->row_floor &&
	    (st = store_query(a->src.store, sql)) != NULL) {
		store_bind_int(st, 1, j->row_floor);
		store_bind_int(st, 2, j->last_row);
		while (store_step(st) == STORE_ROW) {
			evbuffer_add_printf(b, "%s", first ? "" : ", ");
			http_json_string(b, store_text(st, 0));
			evbuffer_add_printf(b, ": %lld", store_int(st, 1));
			first = 0;
		}
		store_done(st);
	}
	evbuffer_add_printf(b, "}}\n");
}

void
admin_broadcast_status(struct admin *a, struct evhttp_request *req,
    struct evkeyvalq *q)
{
	const char		*v = admin_param(q, "id");
	struct admin_job	*j;
	struct evbuffer		*b;
	char			*end;
	long long		 id;

	if (v == NULL && a->njobs > 0)
		j = a->jobs[a->njobs - 1];
	else {
		id = v != NULL ? strtoll(v, &end, 10) : 0;
		j = v != NULL && *v != '\0' && *end == '\0' ?
		    admin_job_find(a, id) : NULL;
	}
	if (j == NULL) {
		admin_reply_error(req, 404, "Not Found", "no such broadcast");
		return;
	}
	if ((b = evbuffer_new()) == NULL) {
		evhttp_send_error(req, 500, NULL);
		return;
	}
	admin_job_json(a, j, b);
	admin_reply(req, 200, "OK", "application/json", b);
	evbuffer_free(b);
}

/* 1 if s is a catalogue-style code: 1-32 lowercase letters, digits, - _ */
static int
admin_code_ok(const char *s)
{
	size_t	 n = 0;

	for (; *s != '\0'; s++, n++)
		if (!(islower((unsigned char)*s) || isdigit((unsigned char)*s) ||
		    *s == '-' || *s == '_'))
			return 0;
	return n > 0 && n <= 32;
}

/*
 * A text of a broadcast, checked: UTF-8 without control characters, at
 * most ADMIN_MAX_TEXT bytes, within max-parts SMS.  name is its form
 * field, for the reason.  0, or -1 with the reason in why.
 */
static int
admin_broadcast_text_ok(struct admin *a, const char *name, const char *text,
    char *why, size_t whylen)
{
	struct gsm_measure	 m;
	int			 max = a->conf->max_parts > 0 ?
				    a->conf->max_parts : 1;

	if (*text == '\0') {
		snprintf(why, whylen, "%s is empty", name);
		return -1;
	}
	if (strlen(text) > ADMIN_MAX_TEXT || !admin_text_ok(text,
	    strlen(text))) {
		snprintf(why, whylen, "%s must be UTF-8 without control "
		    "characters, at most 1600 bytes", name);
		return -1;
	}
	gsm_measure(text, strlen(text), &m);
	if (m.parts > (size_t)max) {
		snprintf(why, whylen, "%s needs %zu SMS parts; max-parts is %d",
		    name, m.parts, max);
		return -1;
	}
	return 0;
}

/* 1 if s is a language code: 2-8 lowercase letters. */
static int
admin_lang_ok(const char *s)
{
	size_t	 n = 0;

	for (; *s != '\0'; s++, n++)
		if (!islower((unsigned char)*s))
			return 0;
	return n >= 2 && n <= 8;
}

/*
 * The broadcast's texts from the form into j: text= (one for every
 * language), or text-LANG= for each language that has one.  0, or -1
 * with the reason in why (400).
 */
static int
admin_broadcast_texts(struct admin *a, struct evkeyvalq *q,
    struct admin_job *j, char *why, size_t whylen)
{
	const char	*text = admin_param(q, "text");
	struct evkeyval	*kv;
	size_t		 i;

	if (text != NULL) {
		if (admin_broadcast_text_ok(a, "text", text, why, whylen) == -1)
			return -1;
		if ((j->texts[0].text = strdup(text)) == NULL)
			goto oom;
		j->ntexts = 1;
	}
	TAILQ_FOREACH(kv, q, next) {
		if (strncmp(kv->key, "text-", 5) != 0)
			continue;
		if (text != NULL) {
			snprintf(why, whylen, "give text (every language's) "
			    "or text-LANG (each language's), not both");
			return -1;
		}
		if (!admin_lang_ok(kv->key + 5)) {
			snprintf(why, whylen, "%.32s: not a language code "
			    "like text-en", kv->key);
			return -1;
		}
		for (i = 0; i < j->ntexts; i++)
			if (strcmp(j->texts[i].lang, kv->key + 5) == 0)
				break;
		if (i < j->ntexts) {
			snprintf(why, whylen, "%.32s is given twice", kv->key);
			return -1;
		}
		if (j->ntexts == ADMIN_BROADCAST_LANGS) {
			snprintf(why, whylen, "more than %d texts",
			    ADMIN_BROADCAST_LANGS);
			return -1;
		}
		if (admin_broadcast_text_ok(a, kv->key, kv->value, why,
		    whylen) == -1)
			return -1;
		if ((j->texts[j->ntexts].lang = strdup(kv->key + 5)) == NULL ||
		    (j->texts[j->ntexts].text = strdup(kv->value)) == NULL) {
			j->ntexts++;
			goto oom;
		}
		j->ntexts++;
	}
	if (j->ntexts == 0) {
		snprintf(why, whylen, "text is missing");
		return -1;
	}
	return 0;
oom:
	snprintf(why, whylen, "out of memory");
	return -1;
}

/*
 * Every recipient must get a text: those of each language (counted now)
 * that has no text of its own and no default-language text to fall back
 * to are refused here, before anything is queued, naming the languages
 * and how many read them.  0 all have one, 1 refused (why), -1 the
 * database could not be read.
 */
static int
admin_broadcast_covered(struct admin *a, struct admin_job *j, char *why,
    size_t whylen)
{
	struct store_stmt	*st;
	const char		*lang;
	size_t			 len = 0;
	long long		 n;
	int			 rc, missing = 0;

	if ((st = store_query(a->src.store, admin_sql_langs[j->tables])) ==
	    NULL)
		return -1;
	admin_job_bind(st, j);
	while ((rc = store_step(st)) == STORE_ROW) {
		lang = store_text(st, 0);
		n = store_int(st, 1);
		if (lang == NULL || *lang == '\0')
			lang = j->default_lang;
		if (admin_broadcast_pick(j->texts, j->ntexts, lang,
		    j->default_lang) != NULL)
			continue;
		if (missing++ == 0)
			len = (size_t)snprintf(why, whylen, "no text for %s's "
			    "readers and none for the default language %s: ",
			    lang, j->default_lang);
		else if (len < whylen)
			len += (size_t)snprintf(why + len, whylen - len, ", ");
		if (len < whylen)
			len += (size_t)snprintf(why + len, whylen - len,
			    "%s %lld recipient%s", lang, n, n == 1 ? "" : "s");
	}
	store_done(st);
	if (rc != STORE_DONE)
		return -1;
	if (missing > 0 && len < whylen)
		snprintf(why + len, whylen - len, "; give them a text, or "
		    "one for %s; nothing was queued", j->default_lang);
	return missing > 0;
}

void
admin_broadcast_start(struct admin *a, struct evhttp_request *req,
    struct evkeyvalq *q, const char *peer)
{
	const char		*market = admin_param(q, "market");
	const char		*commodity = admin_param(q, "commodity");
	const char		*all = admin_param(q, "all");
	struct admin_job	*j = NULL;
	struct evbuffer		*b = NULL;
	struct store_stmt	*st;
	char			 why[512];
	int			 rc;

	if (market != NULL && *market == '\0')
		market = NULL;
	if (commodity != NULL && *commodity == '\0')
		commodity = NULL;
	if ((j = calloc(1, sizeof(*j))) == NULL ||
	    (j->default_lang = strdup(a->conf->default_language != NULL ?
	    a->conf->default_language : "en")) == NULL)
		goto oom;
	if (admin_broadcast_texts(a, q, j, why, sizeof(why)) == -1) {
		admin_job_free(j);
		admin_reply_error(req, 400, "Bad Request", why);
		return;
	}
	if (market == NULL && commodity == NULL &&
	    (all == NULL || strcmp(all, "1") != 0)) {
		admin_job_free(j);
		admin_reply_error(req, 400, "Bad Request", "name a market or "
		    "a commodity, or all=1 to reach everyone");
		return;
	}
	if ((market != NULL && (!admin_code_ok(market) ||
	    conf_market_find(a->conf, market) == NULL)) ||
	    (commodity != NULL && (!admin_code_ok(commodity) ||
	    conf_commodity_find(a->conf, commodity) == NULL))) {
		admin_job_free(j);
		admin_reply_error(req, 400, "Bad Request", "unknown market or "
		    "commodity: use the codes of the catalogue");
		return;
	}
	if (a->njobs > 0 && !a->jobs[a->njobs - 1]->done) {
		admin_job_free(j);
		admin_reply_error(req, 409, "Conflict", "a broadcast is being "
		    "queued; try again when it is done");
		return;
	}
	if ((market != NULL && (j->market = strdup(market)) == NULL) ||
	    (commodity != NULL && (j->commodity = strdup(commodity)) == NULL) ||
	    (j->next = event_new(a->base, -1, 0, admin_job_batch_cb, j)) ==
	    NULL || (b = evbuffer_new()) == NULL)
		goto oom;
	j->admin = a;
	/* Without the plugins' tables, nobody showed an interest in any
	 * commodity. */
	j->tables = commodity != NULL ? admin_interest_tables(a) : 0;
	if (commodity != NULL && j->tables == 0) {
		j->done = 1;
	} else {
		if ((rc = admin_broadcast_covered(a, j, why, sizeof(why))) ==
		    -1)
			goto dberr;
		if (rc == 1) {
			admin_job_free(j);
			evbuffer_free(b);
			admin_reply_error(req, 400, "Bad Request", why);
			return;
		}
		if ((st = store_query(a->src.store,
		    admin_sql_count[j->tables])) == NULL)
			goto dberr;
		admin_job_bind(st, j);
		if (store_step(st) != STORE_ROW) {
			store_done(st);
			goto dberr;
		}
		j->recipients = store_int(st, 0);
		store_done(st);
		j->row_floor = admin_count(a,
		    "SELECT COALESCE(MAX(id), 0) FROM outbox");
		if (j->row_floor < 0)
			goto dberr;
	}
	j->id = ++a->next_job;
	j->started = time(NULL);
	if (a->njobs == ADMIN_MAX_JOBS) {
		admin_job_free(a->jobs[0]);
		memmove(a->jobs, a->jobs + 1, (ADMIN_MAX_JOBS - 1) *
		    sizeof(a->jobs[0]));
		a->njobs--;
	}
	a->jobs[a->njobs++] = j;
	info(0, "admin: broadcast %lld from %s to %lld people (market %s, "
	    "commodity %s, %zu text%s)", j->id, peer, j->recipients,
	    market != NULL ? market : "any",
	    commodity != NULL ? commodity : "any", j->ntexts,
	    j->ntexts == 1 ? "" : "s");
	if (!j->done)
		admin_job_schedule(j);
	admin_job_json(a, j, b);
	admin_reply(req, 202, "Accepted", "application/json", b);
	evbuffer_free(b);
	return;
dberr:
	admin_job_free(j);
	if (b != NULL)
		evbuffer_free(b);
	admin_reply_error(req, 500, "Internal Server Error",
	    "the database could not be read");
	return;
oom:
	error(errno, "admin: out of memory");
	admin_job_free(j);
	if (b != NULL)
		evbuffer_free(b);
	admin_reply_error(req, 500, "Internal Server Error", "out of memory");
}

/* After a commit that queued rows behind the outbox's back: wake its
 * sender. */
static void
admin_kick_outbox_cb(void *arg, int ok)
{
	if (ok)
		outbox_kick(arg);
}

/* POST /admin/retry: failed rows queued again, in one unit of work. */
void
admin_retry(struct admin *a, struct evhttp_request *req,
    struct evkeyvalq *q, const char *peer)
{
	static const char sql[] =
	    "UPDATE outbox SET state = 'queued', attempts = 0, "
	    "next_attempt = $1, error = NULL, dlr_state = NULL, "
	    "dlr_time = NULL WHERE id IN (SELECT id FROM outbox "
	    "WHERE state = 'failed' AND (CAST($2 AS TEXT) IS NULL OR "
	    "kind = $2) ORDER BY id LIMIT $3)";
	static const char left_sql[] =
	    "SELECT COUNT(*) FROM outbox WHERE state = 'failed' AND "
	    "(CAST($1 AS TEXT) IS NULL OR kind = $1)";
	const char		*kind = admin_param(q, "kind");
	struct store		*store = a->src.store;
	struct evbuffer		*b;
	struct store_stmt	*st;
	long long		 n = 0, left = 0;
	int			 ok = 0;

	if (kind != NULL && *kind == '\0')
		kind = NULL;
	if (kind != NULL && !admin_code_ok(kind)) {
		admin_reply_error(req, 400, "Bad Request", "bad kind");
		return;
	}
	if (store_work_begin(store) == -1) {
		admin_reply_error(req, 500, "Internal Server Error",
		    "the database is not available");
		return;
	}
	if ((st = store_query(store, sql)) != NULL) {
		store_bind_int(st, 1, (long long)time(NULL));
		store_bind_text(st, 2, kind);
		store_bind_int(st, 3, ADMIN_RETRY_BATCH);
		if (store_step(st) == STORE_DONE) {
			n = store_changes(store);
			ok = 1;
		}
		store_done(st);
	}
	if (ok && (st = store_query(store, left_sql)) != NULL) {
		store_bind_text(st, 1, kind);
		if (store_step(st) == STORE_ROW)
			left = store_int(st, 0);
		else
			ok = 0;
		store_done(st);
	}
	if (store_work_end(store, ok) == -1 || !ok) {
		admin_reply_error(req, 500, "Internal Server Error",
		    "the database could not requeue the failed messages");
		return;
	}
	info(0, "admin: %lld failed message(s) queued again, asked by %s", n,
	    peer);
	if (n > 0 && store_on_commit(store, admin_kick_outbox_cb,
	    a->src.outbox) == -1)
		warning(0, "admin: the sender wakes at its next timer");
	if ((b = evbuffer_new()) == NULL) {
		evhttp_send_error(req, 500, NULL);
		return;
	}
	evbuffer_add_printf(b, "{\"requeued\": %lld, \"failed_left\": %lld}\n",
	    n, left);
	admin_answer_after_commit(a, req, b);
	evbuffer_free(b);
}

/* POST /admin/user: set the role of msisdn (created if unknown). */
void
admin_user(struct admin *a, struct evhttp_request *req,
    struct evkeyvalq *q, const char *peer)
{
	static const char *const roles[] = { ADMIN_ROLES };
	static const char find[] = "SELECT role FROM users WHERE msisdn = $1";
	static const char upsert[] =
	    "INSERT INTO users (msisdn, role, created, updated) "
	    "VALUES ($1, $2, $3, $3) ON CONFLICT (msisdn) DO UPDATE SET "
	    "role = excluded.role, updated = excluded.updated";
	const char		*typed = admin_param(q, "msisdn");
	const char		*role = admin_param(q, "role");
	struct store		*store = a->src.store;
	struct evbuffer		*b;
	struct store_stmt	*st;
	char			 msisdn[32], before[ADMIN_LABEL] = "";
	size_t			 i;
	int			 ok = 0, rc, known = 0;

	for (i = 0; role != NULL && i < sizeof(roles) / sizeof(roles[0]); i++)
		if (strcmp(role, roles[i]) == 0)
			break;
	if (role == NULL || i == sizeof(roles) / sizeof(roles[0])) {
		admin_reply_error(req, 400, "Bad Request", "role must be one of "
		    "user, farmer, buyer, transporter, agent, dealer, admin");
		return;
	}
	if (typed == NULL || msisdn_normalise(a->conf->country_code, typed,
	    msisdn, sizeof(msisdn)) == -1) {
		admin_reply_error(req, 400, "Bad Request",
		    "msisdn is not a phone number");
		return;
	}
	if (store_work_begin(store) == -1) {
		admin_reply_error(req, 500, "Internal Server Error",
		    "the database is not available");
		return;
	}
	if ((st = store_query(store, find)) == NULL)
		goto end;
	store_bind_text(st, 1, msisdn);
	rc = store_step(st);
	if (rc == STORE_ROW) {
		known = 1;
		admin_label(before, store_text(st, 0), "");
	}
	store_done(st);
	if (rc == STORE_ERROR)
		goto end;
	if ((st = store_query(store, upsert)) == NULL)
		goto end;
	store_bind_text(st, 1, msisdn);
	store_bind_text(st, 2, role);
	store_bind_int(st, 3, (long long)time(NULL));
	ok = store_step(st) == STORE_DONE;
	store_done(st);
end:
	if (!ok)
		error(0, "admin: user: %s could not be made %s", msisdn, role);
	if (store_work_end(store, ok) == -1 || !ok) {
		admin_reply_error(req, 500, "Internal Server Error",
		    "the database could not change the user");
		return;
	}
	info(0, "admin: %s is now %s (was %s), set by %s", msisdn, role,
	    known ? before : "unknown", peer);
	if ((b = evbuffer_new()) == NULL) {
		evhttp_send_error(req, 500, NULL);
		return;
	}
	evbuffer_add_printf(b, "{\"msisdn\": ");
	http_json_string(b, msisdn);
	evbuffer_add_printf(b, ", \"role\": ");
	http_json_string(b, role);
	evbuffer_add_printf(b, ", \"before\": ");
	http_json_string(b, known ? before : NULL);
	evbuffer_add_printf(b, ", \"created\": %s}\n", known ? "false" : "true");
	admin_answer_after_commit(a, req, b);
	evbuffer_free(b);
}

/* 1 if code names a service point of the conf (group = service-point). */
int
admin_point_known(const struct admin *a, const char *code)
{
	return code != NULL && conf_service_point_find(a->conf, code) != NULL;
}

/* One text from sql with $1 = key into dst (ADMIN_LABEL bytes): 1 if a
 * row, 0 if none, -1 on error.  *is_null says if the value was NULL. */
static int
admin_text_of(struct store *store, const char *sql, const char *key,
    char *dst, int *is_null)
{
	struct store_stmt	*st;
	int			 rc;

	dst[0] = '\0';
	*is_null = 1;
	if ((st = store_query(store, sql)) == NULL)
		return -1;
	store_bind_text(st, 1, key);
	if ((rc = store_step(st)) == STORE_ROW) {
		*is_null = store_text(st, 0) == NULL;
		admin_label(dst, store_text(st, 0), "");
	}
	store_done(st);
	return rc == STORE_ROW ? 1 : rc == STORE_DONE ? 0 : -1;
}

/* Run sql binding $1 = msisdn, then $2 = point and $3 = now, or $2 = now
 * if point is NULL.  0 or -1. */
static int
admin_agent_exec(struct store *store, const char *sql, const char *msisdn,
    const char *point, long long now)
{
	struct store_stmt	*st;
	int			 rc;

	if ((st = store_query(store, sql)) == NULL)
		return -1;
	store_bind_text(st, 1, msisdn);
	if (point != NULL) {
		store_bind_text(st, 2, point);
		store_bind_int(st, 3, now);
	} else
		store_bind_int(st, 2, now);
	rc = store_step(st);
	store_done(st);
	return rc == STORE_DONE ? 0 : -1;
}

/* One count from sql binding $1 = msisdn, $2 = point (or NULL); -1. */
static long long
admin_agent_count(struct store *store, const char *sql, const char *msisdn,
    const char *point)
{
	struct store_stmt	*st;
	long long		 n = -1;

	if ((st = store_query(store, sql)) == NULL)
		return -1;
	store_bind_text(st, 1, msisdn);
	store_bind_text(st, 2, point);
	if (store_step(st) == STORE_ROW)
		n = store_int(st, 0);
	store_done(st);
	return n;
}

/*
 * POST /admin/agent: msisdn= and point= make the phone an agent of that
 * service point, in one unit of work: its agents row added (or moved,
 * or active again) and its users row made or given the role agent.  An
 * agent who serves members at another point is refused: they are that
 * point's.  msisdn= and remove=1: no longer an agent (agents.removed
 * set, the role back to user); its members stay, but nobody acts for
 * them until the admin names an agent.
 */
void
admin_agent(struct admin *a, struct evhttp_request *req,
    struct evkeyvalq *q, const char *peer)
{
	static const char role_sql[] =
	    "SELECT role FROM users WHERE msisdn = $1";
	static const char point_sql[] =
	    "SELECT point FROM agents WHERE msisdn = $1 AND removed IS NULL";
	static const char row_sql[] =
	    "SELECT point FROM agents WHERE msisdn = $1";
	static const char elsewhere_sql[] =
	    "SELECT COUNT(*) FROM members WHERE agent = $1 AND "
	    "state IN ('active', 'pending') AND point <> $2";
	static const char members_sql[] =
	    "SELECT COUNT(*) FROM members WHERE agent = $1 AND "
	    "state = 'active' AND (CAST($2 AS TEXT) IS NULL OR point = $2)";
	static const char user_sql[] =
	    "INSERT INTO users (msisdn, role, created, updated) "
	    "VALUES ($1, 'agent', $2, $2) ON CONFLICT (msisdn) DO UPDATE SET "
	    "role = 'agent', updated = excluded.updated";
	static const char agent_sql[] =
	    "INSERT INTO agents (msisdn, point, added, removed) "
	    "VALUES ($1, $2, $3, NULL) ON CONFLICT (msisdn) DO UPDATE SET "
	    "point = excluded.point, added = CASE WHEN agents.removed IS NULL "
	    "THEN agents.added ELSE excluded.added END, removed = NULL";
	static const char remove_sql[] =
	    "UPDATE agents SET removed = $2 WHERE msisdn = $1 AND "
	    "removed IS NULL";
	static const char unrole_sql[] =
	    "UPDATE users SET role = 'user', updated = $2 WHERE msisdn = $1 "
	    "AND role = 'agent'";
	const char		*typed = admin_param(q, "msisdn");
	const char		*point = admin_param(q, "point");
	const char		*remove = admin_param(q, "remove");
	struct store		*store = a->src.store;
	struct evbuffer		*b;
	char			 msisdn[32], role[ADMIN_LABEL], was[ADMIN_LABEL];
	char			 old[ADMIN_LABEL];
	char			 why[200];
	long long		 now = (long long)time(NULL), members = 0;
	int			 removing, known, agent, null, ok = 0;

	removing = remove != NULL && *remove != '\0';
	if (removing && strcmp(remove, "1") != 0) {
		admin_reply_error(req, 400, "Bad Request", "remove takes 1");
		return;
	}
	if (typed == NULL || msisdn_normalise(a->conf->country_code, typed,
	    msisdn, sizeof(msisdn)) == -1) {
		admin_reply_error(req, 400, "Bad Request",
		    "msisdn is not a phone number");
		return;
	}
	if (!removing && (point == NULL || *point == '\0')) {
		admin_reply_error(req, 400, "Bad Request", "point is missing: "
		    "name the service point by its code");
		return;
	}
	if (!removing && (!admin_code_ok(point) ||
	    !admin_point_known(a, point))) {
		admin_reply_error(req, 400, "Bad Request", "unknown service "
		    "point: use the code of a service point of the conf");
		return;
	}
	if (store_work_begin(store) == -1) {
		admin_reply_error(req, 500, "Internal Server Error",
		    "the database is not available");
		return;
	}
	if ((known = admin_text_of(store, role_sql, msisdn, role, &null)) ==
	    -1 || (agent = admin_text_of(store, point_sql, msisdn, was,
	    &null)) == -1)
		goto end;
	if (removing && !agent) {
		store_work_end(store, 0);
		snprintf(why, sizeof(why), "%s is not an agent (marketctl "
		    "agents lists them)", msisdn);
		admin_reply_error(req, 404, "Not Found", why);
		return;
	}
	/* A removed agent's members are still its: added again, it is
	   refused at another point as an active one is. */
	if (!removing && (!agent || strcmp(was, point) != 0)) {
		if (!agent && admin_text_of(store, row_sql, msisdn, old,
		    &null) == -1)
			goto end;
		if ((members = admin_agent_count(store, elsewhere_sql, msisdn,
		    point)) < 0)
			goto end;
		if (members > 0) {
			store_work_end(store, 0);
			snprintf(why, sizeof(why), "%s serves %lld member%s at "
			    "point %s: end their membership first (MEMBER "
			    "code OFF)", msisdn, members, members == 1 ? "" :
			    "s", agent ? was : old);
			admin_reply_error(req, 409, "Conflict", why);
			return;
		}
	}
	if (removing)
		ok = admin_agent_exec(store, remove_sql, msisdn, NULL, now) ==
		    0 && admin_agent_exec(store, unrole_sql, msisdn, NULL,
		    now) == 0 && (members = admin_agent_count(store,
		    members_sql, msisdn, NULL)) >= 0;
	else
		ok = admin_agent_exec(store, user_sql, msisdn, NULL, now) ==
		    0 && admin_agent_exec(store, agent_sql, msisdn, point,
		    now) == 0 && (members = admin_agent_count(store,
		    members_sql, msisdn, point)) >= 0;
end:
	if (!ok)
		error(0, "admin: agent: %s could not be %s", msisdn, removing ?
		    "removed" : "added");
	if (store_work_end(store, ok) == -1 || !ok) {
		admin_reply_error(req, 500, "Internal Server Error",
		    "the database could not change the agent");
		return;
	}
	if (removing)
		info(0, "admin: %s is no longer an agent of %s (%lld members "
		    "left without one), set by %s", msisdn, was, members, peer);
	else
		info(0, "admin: %s is an agent of %s (was %s), set by %s",
		    msisdn, point, agent ? was : "none", peer);
	if ((b = evbuffer_new()) == NULL) {
		evhttp_send_error(req, 500, NULL);
		return;
	}
	evbuffer_add_printf(b, "{\"msisdn\": ");
	http_json_string(b, msisdn);
	evbuffer_add_printf(b, ", \"point\": ");
	http_json_string(b, removing ? was : point);
	if (removing)
		evbuffer_add_printf(b, ", \"removed\": true");
	else {
		evbuffer_add_printf(b, ", \"point_before\": ");
		http_json_string(b, agent ? was : NULL);
		evbuffer_add_printf(b, ", \"role_before\": ");
		http_json_string(b, known ? role : NULL);
		evbuffer_add_printf(b, ", \"created\": %s", known ? "false" :
		    "true");
	}
	evbuffer_add_printf(b, ", \"members\": %lld}\n", members);
	admin_answer_after_commit(a, req, b);
	evbuffer_free(b);
}
