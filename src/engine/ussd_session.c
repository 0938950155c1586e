/*
 * ussd_session.c - a USSD session's state: its stack of frames (menus,
 * input items, the resume question), its answers (vars), their text forms
 * in the ussd_sessions row, the cache of sessions in memory, and loading
 * and saving the rows inside the MO's unit of work.
 *
 * What a session is and how it moves on is decided by ussd.c (begin, end)
 * and ussd_answer.c (answers); this file keeps it.  The memory copy is a
 * cache of the rows, emptied when an MO or a commit fails; on a shared
 * store there is no cache and a row is written back only over the one
 * read (see ussd.c).
 */
#include "config.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/gw.h"

#include "base/conf.h"
#include "store/store.h"
#include "engine/ussd.h"
#include "engine/ussd_int.h"

static const char ussd_sql_load[] =
    "SELECT msisdn, language, stack, vars, inputs, screen, ended, mo_id,"
    " state, started, updated FROM ussd_sessions WHERE id = $1";
#define USSD_SQL_SAVE \
    "INSERT INTO ussd_sessions (id, msisdn, language, stack, vars, inputs," \
    " screen, ended, mo_id, state, started, updated)" \
    " VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)" \
    " ON CONFLICT (id) DO UPDATE SET msisdn = excluded.msisdn," \
    " language = excluded.language, stack = excluded.stack," \
    " vars = excluded.vars, inputs = excluded.inputs," \
    " screen = excluded.screen, ended = excluded.ended," \
    " mo_id = excluded.mo_id, state = excluded.state," \
    " started = excluded.started, updated = excluded.updated"
static const char ussd_sql_save[] = USSD_SQL_SAVE;
/* The same on a shared store: only over the row as it was read. */
static const char ussd_sql_save_shared[] = USSD_SQL_SAVE
    " WHERE COALESCE(ussd_sessions.mo_id, '') = COALESCE($13, '')";
/*
 * Some progress: the stack holds more than the start menu, i.e. has a '/'.
 * LIKE (not SQLite's instr(), which PostgreSQL lacks) is exact here in both
 * engines, as the pattern has no letters to fold.
 */
static const char ussd_sql_resumable[] =
    "SELECT id FROM ussd_sessions WHERE msisdn = $1 AND id <> $2"
    " AND state IN ('open', 'left') AND updated >= $3"
    " AND stack LIKE '%/%' ORDER BY updated DESC, started DESC LIMIT 1";

/* --- sessions: vars, frames, text forms ---------------------------------- */

/* Append n bytes of s to *buf (length *len), URL-encoded.  0 or -1. */
static int
ussd_encode_append(char **buf, size_t *len, const char *s, size_t n)
{
	static const char	 hex[] = "0123456789ABCDEF";
	char			*b;
	size_t			 i, o = *len;

	if ((b = realloc(*buf, *len + n * 3 + 1)) == NULL)
		return -1;
	for (i = 0; i < n; i++) {
		unsigned char	 c = (unsigned char)s[i];

		if (isalnum(c) || c == '-' || c == '_' || c == '.')
			b[o++] = (char)c;
		else {
			b[o++] = '%';
			b[o++] = hex[c >> 4];
			b[o++] = hex[c & 15];
		}
	}
	b[o] = '\0';
	*buf = b;
	*len = o;
	return 0;
}

void
ussd_session_free(struct ussd_session *s)
{
	size_t	 i;

	if (s == NULL)
		return;
	for (i = 0; i < s->nvars; i++)
		free(s->vars[i].value);
	free(s->key);
	free(s->screen);
	free(s->mo_id);
	free(s->row_mo);
	free(s);
}

struct ussd_session *
ussd_session_new(const char *key, const char *msisdn, const char *lang,
    long long now)
{
	struct ussd_session	*s;

	if ((s = calloc(1, sizeof(*s))) == NULL ||
	    (s->key = strdup(key)) == NULL) {
		free(s);
		return NULL;
	}
	snprintf(s->msisdn, sizeof(s->msisdn), "%s", msisdn);
	snprintf(s->lang, sizeof(s->lang), "%s", lang);
	snprintf(s->state, sizeof(s->state), "open");
	s->started = s->updated = now;
	return s;
}

const char *
ussd_var(const struct ussd_session *s, const char *name)
{
	size_t	 i;

	for (i = 0; i < s->nvars; i++)
		if (strcmp(s->vars[i].name, name) == 0)
			return s->vars[i].value;
	return NULL;
}

/* Set (value NULL: unset) a var.  0, or -1 (full or out of memory). */
int
ussd_var_set(struct ussd_session *s, const char *name, const char *value)
{
	size_t	 i;
	char	*v = NULL;

	if (value != NULL && (v = strdup(value)) == NULL)
		return -1;
	for (i = 0; i < s->nvars; i++)
		if (strcmp(s->vars[i].name, name) == 0)
			break;
	if (i == s->nvars) {
		if (v == NULL)
			return 0;
		if (s->nvars == USSD_VARS || strlen(name) >= USSD_ID_MAX) {
			free(v);
			return -1;
		}
		snprintf(s->vars[i].name, sizeof(s->vars[i].name), "%s", name);
		s->vars[i].value = NULL;
		s->nvars++;
	}
	free(s->vars[i].value);
	s->vars[i].value = v;
	if (v == NULL) {
		s->vars[i] = s->vars[s->nvars - 1];
		s->nvars--;
	}
	return 0;
}

void
ussd_vars_clear(struct ussd_session *s)
{
	size_t	 i;

	for (i = 0; i < s->nvars; i++)
		free(s->vars[i].value);
	s->nvars = 0;
}

struct ussd_frame *
ussd_top(struct ussd_session *s)
{
	return s->depth > 0 ? &s->stack[s->depth - 1] : NULL;
}

/* Push a frame; -1 when the stack is full. */
int
ussd_push(struct ussd_session *s, char kind, const char *id)
{
	struct ussd_frame	*f;

	if (s->depth == USSD_DEPTH || strlen(id) >= USSD_ID_MAX)
		return -1;
	f = &s->stack[s->depth++];
	f->kind = kind;
	snprintf(f->id, sizeof(f->id), "%s", id);
	f->page = 0;
	return 0;
}

/* Back to the first screen: the start menu. */
void
ussd_restart(struct ussd *u, struct ussd_session *s)
{
	s->depth = 0;
	ussd_push(s, 'm', u->conf->ussd_start ? u->conf->ussd_start : "main");
}

/* "m:main:0/i:sell-qty:0": the stack as stored. */
static char *
ussd_stack_text(const struct ussd_session *s)
{
	char	*out;
	size_t	 i, len = 0, cap = s->depth * (USSD_ID_MAX + 16) + 1;

	if ((out = malloc(cap)) == NULL)
		return NULL;
	out[0] = '\0';
	for (i = 0; i < s->depth; i++)
		len += (size_t)snprintf(out + len, cap - len, "%s%c:%s:%d",
		    i > 0 ? "/" : "", s->stack[i].kind, s->stack[i].id,
		    s->stack[i].page);
	return out;
}

/* Read a stored stack back; -1 when it does not parse. */
static int
ussd_stack_parse(struct ussd_session *s, const char *text)
{
	const char	*p = text;

	s->depth = 0;
	while (*p != '\0') {
		struct ussd_frame	*f;
		const char		*c1, *c2, *end;
		char			*e;
		long			 page;

		if (s->depth == USSD_DEPTH)
			return -1;
		end = strchr(p, '/');
		if (end == NULL)
			end = p + strlen(p);
		c1 = memchr(p, ':', (size_t)(end - p));
		c2 = c1 ? memchr(c1 + 1, ':', (size_t)(end - c1 - 1)) : NULL;
		if (c1 != p + 1 || c2 == NULL ||
		    (size_t)(c2 - c1 - 1) >= USSD_ID_MAX ||
		    (*p != 'm' && *p != 'i' && *p != 'r'))
			return -1;
		errno = 0;
		page = strtol(c2 + 1, &e, 10);
		if (e != end || errno != 0 || page < 0 || page > 1000)
			return -1;
		f = &s->stack[s->depth++];
		f->kind = *p;
		memcpy(f->id, c1 + 1, (size_t)(c2 - c1 - 1));
		f->id[c2 - c1 - 1] = '\0';
		f->page = (int)page;
		p = *end == '/' ? end + 1 : end;
	}
	return s->depth > 0 ? 0 : -1;
}

/* Append one character to *buf (length *len).  0 or -1. */
static int
ussd_char_append(char **buf, size_t *len, char c)
{
	char	*b;

	if ((b = realloc(*buf, *len + 2)) == NULL)
		return -1;
	b[(*len)++] = c;
	b[*len] = '\0';
	*buf = b;
	return 0;
}

/* "name=value&...", values URL-encoded. */
static char *
ussd_vars_text(const struct ussd_session *s)
{
	char	*out;
	size_t	 len = 0, i;

	if ((out = strdup("")) == NULL)
		return NULL;
	for (i = 0; i < s->nvars; i++)
		if (ussd_encode_append(&out, &len, s->vars[i].name,
		    strlen(s->vars[i].name)) == -1 ||
		    ussd_char_append(&out, &len, '=') == -1 ||
		    ussd_encode_append(&out, &len, s->vars[i].value,
		    strlen(s->vars[i].value)) == -1 ||
		    ussd_char_append(&out, &len, '&') == -1) {
			free(out);
			return NULL;
		}
	return out;
}

static int
ussd_vars_parse(struct ussd_session *s, const char *text)
{
	const char	*p = text;
	unsigned char	 name[USSD_ID_MAX], value[USSD_INPUT_MAX * 3];

	while (*p != '\0') {
		const char	*amp = strchr(p, '&'), *eq;
		long		 n;

		if (amp == NULL)
			amp = p + strlen(p);
		if ((eq = memchr(p, '=', (size_t)(amp - p))) == NULL ||
		    (n = ussd_url_decode(p, (size_t)(eq - p), name,
		    sizeof(name) - 1)) < 0)
			return -1;
		name[n] = '\0';
		if ((n = ussd_url_decode(eq + 1, (size_t)(amp - eq - 1), value,
		    sizeof(value) - 1)) < 0)
			return -1;
		value[n] = '\0';
		if (ussd_var_set(s, (const char *)name,
		    (const char *)value) == -1)
			return -1;
		p = *amp == '&' ? amp + 1 : amp;
	}
	return 0;
}

/* --- the session cache --------------------------------------------------- */

static size_t
ussd_hash(const char *key)
{
	size_t	 h = 5381;

	while (*key != '\0')
		h = h * 33 + (unsigned char)*key++;
	return h % USSD_BUCKETS;
}

static struct ussd_session *
ussd_cache_get(struct ussd *u, const char *key)
{
	struct ussd_session	*s;

	/* Another instance may have moved the session on: the row only. */
	if (store_shared(u->store))
		return NULL;
	for (s = u->buckets[ussd_hash(key)]; s != NULL; s = s->next)
		if (strcmp(s->key, key) == 0)
			return s;
	return NULL;
}

/* Keep s in memory (unless memory holds enough sessions already). */
void
ussd_cache_put(struct ussd *u, struct ussd_session *s)
{
	size_t	 h;

	if (s->cached || u->ncached >= USSD_CACHE_MAX ||
	    store_shared(u->store))
		return;
	h = ussd_hash(s->key);
	s->next = u->buckets[h];
	u->buckets[h] = s;
	s->cached = 1;
	u->ncached++;
}

/* Forget the session of key in memory, freeing it. */
void
ussd_cache_drop(struct ussd *u, const char *key)
{
	struct ussd_session	**pp, *s;

	for (pp = &u->buckets[ussd_hash(key)]; (s = *pp) != NULL;
	    pp = &s->next)
		if (strcmp(s->key, key) == 0) {
			*pp = s->next;
			u->ncached--;
			ussd_session_free(s);
			return;
		}
}

void
ussd_cache_clear(struct ussd *u)
{
	struct ussd_session	*s, *next;
	size_t			 i;

	for (i = 0; i < USSD_BUCKETS; i++) {
		for (s = u->buckets[i]; s != NULL; s = next) {
			next = s->next;
			ussd_session_free(s);
		}
		u->buckets[i] = NULL;
	}
	u->ncached = 0;
}

/* --- sessions in the database -------------------------------------------- */

static char *
ussd_column_dup(struct store_stmt *st, int i)
{
	const char	*t = store_text(st, i);

	return t != NULL ? strdup(t) : NULL;
}

/*
 * The session of key: from memory, else from the database (then kept in
 * memory).  NULL when there is none (*failed 0) or on a store failure
 * (*failed 1, logged).
 */
struct ussd_session *
ussd_load(struct ussd *u, const char *key, int *failed)
{
	struct ussd_session	*s;
	struct store_stmt	*st;
	const char		*msisdn, *lang, *stack, *vars, *state;
	int			 rc;

	*failed = 0;
	if ((s = ussd_cache_get(u, key)) != NULL)
		return s;
	if ((st = store_query(u->store, ussd_sql_load)) == NULL ||
	    store_bind_text(st, 1, key) == -1) {
		store_done(st);
		*failed = 1;
		return NULL;
	}
	if ((rc = store_step(st)) != STORE_ROW) {
		store_done(st);
		if (rc != STORE_DONE) {
			error(0, "ussd: cannot read session %s", key);
			*failed = 1;
		}
		return NULL;
	}
	msisdn = store_text(st, 0);
	lang = store_text(st, 1);
	s = ussd_session_new(key, msisdn ? msisdn : "", lang ? lang : "",
	    store_int(st, 9));
	if (s == NULL) {
		store_done(st);
		error(errno, "ussd: out of memory");
		*failed = 1;
		return NULL;
	}
	stack = store_text(st, 2);
	vars = store_text(st, 3);
	state = store_text(st, 8);
	s->inputs = store_int(st, 4);
	s->screen = ussd_column_dup(st, 5);
	s->ended = (int)store_int(st, 6);
	s->mo_id = ussd_column_dup(st, 7);
	if (s->mo_id != NULL && store_shared(u->store) &&
	    (s->row_mo = strdup(s->mo_id)) == NULL) {
		store_done(st);
		ussd_session_free(s);
		error(errno, "ussd: out of memory");
		*failed = 1;
		return NULL;
	}
	snprintf(s->state, sizeof(s->state), "%s", state ? state : "left");
	s->updated = store_int(st, 10);
	if (stack == NULL || ussd_stack_parse(s, stack) == -1) {
		warning(0, "ussd: session %s has a bad stack; it starts over",
		    key);
		ussd_restart(u, s);
	}
	if (vars != NULL && ussd_vars_parse(s, vars) == -1)
		warning(0, "ussd: session %s has bad answers; some are lost",
		    key);
	store_done(st);
	ussd_cache_put(u, s);
	return s;
}

static void
ussd_commit_cb(void *arg, int ok)
{
	struct ussd	*u = arg;

	u->commit_waiting = 0;
	/* Memory must not hold what the database lost. */
	if (!ok)
		ussd_cache_clear(u);
}

/*
 * Write the session's row (inside the caller's unit).  0 or -1.  The text
 * is bound in place: s, stack and vars outlive the step.
 */
int
ussd_save(struct ussd *u, struct ussd_session *s)
{
	struct store_stmt	*st = NULL;
	char			*stack = ussd_stack_text(s);
	char			*vars = ussd_vars_text(s);
	char			*row_mo = NULL;
	int			 shared = store_shared(u->store), rc = -1;

	if (stack == NULL || vars == NULL) {
		error(errno, "ussd: out of memory");
		goto out;
	}
	if (shared && s->mo_id != NULL &&
	    (row_mo = strdup(s->mo_id)) == NULL) {
		error(errno, "ussd: out of memory");
		goto out;
	}
	if ((st = store_query(u->store, shared ? ussd_sql_save_shared :
	    ussd_sql_save)) == NULL ||
	    (shared && store_bind_text(st, 13, s->row_mo) == -1) ||
	    store_bind_text(st, 1, s->key) == -1 ||
	    store_bind_text(st, 2, s->msisdn) == -1 ||
	    store_bind_text(st, 3, s->lang) == -1 ||
	    store_bind_text(st, 4, stack) == -1 ||
	    store_bind_text(st, 5, vars) == -1 ||
	    store_bind_int(st, 6, s->inputs) == -1 ||
	    store_bind_text(st, 7, s->screen) == -1 ||
	    store_bind_int(st, 8, s->ended) == -1 ||
	    store_bind_text(st, 9, s->mo_id) == -1 ||
	    store_bind_text(st, 10, s->state) == -1 ||
	    store_bind_int(st, 11, s->started) == -1 ||
	    store_bind_int(st, 12, s->updated) == -1)
		goto out;
	if (store_step(st) != STORE_DONE)
		error(0, "ussd: cannot save session %s", s->key);
	else if (shared && store_changes(u->store) != 1) {
		warning(0, "ussd: session %s was moved on by another instance "
		    "since it was read: this MO runs again on the row as it is",
		    s->key);
		store_want_retry(u->store);
	}
	else {
		rc = 0;
		if (shared) {
			free(s->row_mo);
			s->row_mo = row_mo;
			row_mo = NULL;
		}
	}
	if (rc == 0 && !u->commit_waiting) {
		if (store_on_commit(u->store, ussd_commit_cb, u) == -1)
			rc = -1;
		else
			u->commit_waiting = 1;
	}
out:
	store_done(st);
	free(stack);
	free(vars);
	free(row_mo);
	return rc;
}

/* Step a statement with one or two text parameters.  0 or -1 (logged). */
int
ussd_exec2(struct ussd *u, const char *sql, const char *a, const char *b)
{
	struct store_stmt	*st;
	int			 rc = STORE_ERROR;

	if ((st = store_query(u->store, sql)) != NULL &&
	    store_bind_text(st, 1, a) == 0 &&
	    (b == NULL || store_bind_text(st, 2, b) == 0))
		rc = store_step(st);
	store_done(st);
	return rc == STORE_DONE ? 0 : -1;
}

/*
 * The most recent session of msisdn, other than key, left unfinished with
 * some progress within ussd-resume seconds; its key into out.  1 found, 0
 * none, -1 store failure (logged).
 */
int
ussd_resumable(struct ussd *u, const char *msisdn, const char *key,
    long long now, char *out, size_t outsize)
{
	struct store_stmt	*st;
	const char		*id;
	int			 rc = STORE_ERROR;

	if (u->conf->ussd_resume <= 0)
		return 0;
	if ((st = store_query(u->store, ussd_sql_resumable)) != NULL &&
	    store_bind_text(st, 1, msisdn) == 0 &&
	    store_bind_text(st, 2, key) == 0 &&
	    store_bind_int(st, 3, now - u->conf->ussd_resume) == 0)
		rc = store_step(st);
	if (rc == STORE_ROW) {
		id = store_text(st, 0);
		snprintf(out, outsize, "%s", id != NULL ? id : "");
	}
	store_done(st);
	if (rc == STORE_ERROR)
		return -1;
	return rc == STORE_ROW;
}
