/*
 * ussd.c - the USSD menu engine: sessions kept in memory and in the
 * database, screens built from the conf's menus and the language files,
 * paging, validation, back and resume, actions run through the router,
 * and the answer as an SMPP MT (through the outbox) or an HTTP body.
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

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <event2/event.h>

#include "base/gw.h"

#include "base/conf.h"
#include "text/gsm.h"
#include "text/lang.h"
#include "marketbox-plugin.h"
#include "queue/mo.h"
#include "queue/outbox.h"
#include "engine/router.h"
#include "store/store.h"
#include "engine/ussd.h"
#include "base/urlcode.h"
#include "text/words.h"

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
};

/* One entry of a list to choose from. */
struct ussd_choice {
	const char	*value;		/* a code */
	char		*label;
};

/* The templates of the engine itself. */
static const char *const ussd_templates[] = {
	"ussd-more", "ussd-back", "ussd-invalid", "ussd-invalid-number",
	"ussd-resume", "ussd-yes", "ussd-no", "ussd-your-market", "ussd-done",
	"ussd-error", "ussd-slow-down",
};

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
static const char ussd_sql_unkey[] =
    "DELETE FROM ussd_sessions WHERE id = $1";
static const char ussd_sql_rename[] =
    "UPDATE ussd_sessions SET id = $2 WHERE id = $1";
/*
 * Some progress: the stack holds more than the start menu, i.e. has a '/'.
 * LIKE (not SQLite's instr(), which PostgreSQL lacks) is exact here in both
 * engines, as the pattern has no letters to fold.
 */
static const char ussd_sql_resumable[] =
    "SELECT id FROM ussd_sessions WHERE msisdn = $1 AND id <> $2"
    " AND state IN ('open', 'left') AND updated >= $3"
    " AND stack LIKE '%/%' ORDER BY updated DESC, started DESC LIMIT 1";
static const char ussd_sql_sweep[] =
    "DELETE FROM ussd_sessions WHERE updated < $1";

/* --- small helpers ------------------------------------------------------- */

size_t
ussd_screen_octets(const char *text)
{
	return gsm_octets(text, strlen(text));
}

/* The octets of one screen. */
static size_t
ussd_size(const struct conf *c)
{
	return c->ussd_screen_size > 0 ? (size_t)c->ussd_screen_size :
	    USSD_SCREEN_OCTETS;
}

/* URL-decode into bytes: urlcode_decode, for unsigned buffers. */
static long
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

/* s without blanks around it, in a malloc'd copy. */
static char *
ussd_trim(const char *s)
{
	const char	*e;

	while (*s == ' ' || *s == '\t' || *s == '\r' || *s == '\n')
		s++;
	e = s + strlen(s);
	while (e > s && (e[-1] == ' ' || e[-1] == '\t' || e[-1] == '\r' ||
	    e[-1] == '\n'))
		e--;
	return strndup(s, (size_t)(e - s));
}

/* The words of s, normalised (words.c) and joined by single spaces. */
static char *
ussd_normal(const char *s)
{
	struct words	 w;
	size_t		 i, len = 1;
	char		*out;

	if (words_split(s, NULL, 0, &w) == -1)
		return NULL;
	for (i = 0; i < w.n; i++)
		len += strlen(w.word[i]) + 1;
	if ((out = malloc(len)) != NULL) {
		out[0] = '\0';
		for (i = 0; i < w.n; i++) {
			if (i > 0)
				strcat(out, " ");
			strcat(out, w.word[i]);
		}
	}
	words_free(&w);
	return out;
}

/* Code points in valid UTF-8 s. */
static size_t
ussd_chars(const char *s)
{
	size_t	 n = 0;

	for (; *s != '\0'; s++)
		if (((unsigned char)*s & 0xC0) != 0x80)
			n++;
	return n;
}

/*
 * Decisions ussd.h leaves open: the ellipsis is outside GSM 03.38, so a
 * cut screen is UCS-2 whatever the text was: it keeps at most size / 2 - 1
 * UTF-16 units of the text.  The cut is at the last blank of what fits
 * when that keeps at least half of it, else at a character boundary
 * (Chinese has no blanks); blanks before the ellipsis are dropped.
 */
char *
ussd_screen_fit(const char *text, size_t size, int *cut)
{
	const unsigned char	*t = (const unsigned char *)text;
	size_t			 len = strlen(text), i = 0, units = 0, room;
	size_t			 keep = 0, blank = 0;
	char			*out;

	if (cut != NULL)
		*cut = 0;
	if (ussd_screen_octets(text) <= size)
		return strdup(text);
	if (cut != NULL)
		*cut = 1;
	room = size / 2 > 1 ? size / 2 - 1 : 0;
	while (i < len) {
		size_t	 next = i + 1, w = 1;

		while (next < len && (t[next] & 0xC0) == 0x80)
			next++;
		if (t[i] >= 0xF0)
			w = 2;		/* outside the BMP: a surrogate pair */
		if (units + w > room)
			break;
		units += w;
		if (t[i] == ' ' || t[i] == '\n' || t[i] == '\t')
			blank = i;
		i = keep = next;
	}
	/* At a word, unless that loses more than half of what fits. */
	if (i < len && blank > 0 && blank >= keep / 2 && t[i] != ' ' &&
	    t[i] != '\n' && t[i] != '\t')
		keep = blank;
	while (keep > 0 && (t[keep - 1] == ' ' || t[keep - 1] == '\n' ||
	    t[keep - 1] == '\t'))
		keep--;
	if ((out = malloc(keep + sizeof(USSD_ELLIPSIS))) == NULL)
		return NULL;
	memcpy(out, text, keep);
	memcpy(out + keep, USSD_ELLIPSIS, sizeof(USSD_ELLIPSIS));
	return out;
}

/* --- sessions: vars, frames, text forms ---------------------------------- */

static void
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

static struct ussd_session *
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

static const char *
ussd_var(const struct ussd_session *s, const char *name)
{
	size_t	 i;

	for (i = 0; i < s->nvars; i++)
		if (strcmp(s->vars[i].name, name) == 0)
			return s->vars[i].value;
	return NULL;
}

/* Set (value NULL: unset) a var.  0, or -1 (full or out of memory). */
static int
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

static void
ussd_vars_clear(struct ussd_session *s)
{
	size_t	 i;

	for (i = 0; i < s->nvars; i++)
		free(s->vars[i].value);
	s->nvars = 0;
}

static struct ussd_frame *
ussd_top(struct ussd_session *s)
{
	return s->depth > 0 ? &s->stack[s->depth - 1] : NULL;
}

/* Push a frame; -1 when the stack is full. */
static int
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
static void
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
static void
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
static void
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

static void
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
static struct ussd_session *
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
static int
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
static int
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
static int
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

/* --- templates and screens ----------------------------------------------- */

/*
 * The name of a catalogue code in the session's language (catalogue.conf's
 * names), for {commodity} and {unit} on a screen, as host.c shows them in
 * replies; else the value itself.
 */
static const char *
ussd_name(struct ussd_req *r, const char *var, const char *value)
{
	const struct conf_commodity	*k;
	const struct conf_unit		*un;
	const char			*n = NULL;

	if (strcmp(var, "commodity") == 0 &&
	    (k = conf_commodity_find(r->u->conf, value)) != NULL)
		n = conf_name_for(&k->names, r->s->lang);
	else if (strcmp(var, "unit") == 0 &&
	    (un = conf_unit_find(r->u->conf, value)) != NULL)
		n = conf_name_for(&un->names, r->s->lang);
	return n != NULL ? n : value;
}

/*
 * tmpl rendered with the session's answers, {currency}, and extra args;
 * on a screen (localise) catalogue codes show as names, in an action
 * they stay codes.
 */
static char *
ussd_fill(struct ussd_req *r, const char *tmpl, const struct mb_arg *extra,
    size_t nextra, int localise)
{
	struct mb_arg	 args[USSD_VARS + 8];
	size_t		 n = 0, i;

	for (i = 0; i < r->s->nvars; i++)
		if (r->s->vars[i].name[0] != '_') {
			args[n].name = r->s->vars[i].name;
			args[n++].value = localise ? ussd_name(r,
			    r->s->vars[i].name, r->s->vars[i].value) :
			    r->s->vars[i].value;
		}
	for (i = 0; i < nextra && n < sizeof(args) / sizeof(args[0]) - 1; i++)
		args[n++] = extra[i];
	args[n].name = "currency";
	args[n++].value = r->u->conf->currency ? r->u->conf->currency : "";
	return lang_render(tmpl, args, n);
}

/*
 * A template of the session's language rendered for a screen (ussd_fill).
 * A missing template (ussd_check reports them at start) renders as its
 * name.  Malloc'd or NULL.
 */
static char *
ussd_text(struct ussd_req *r, const char *tmpl, const struct mb_arg *extra,
    size_t nextra)
{
	const char	*t = lang_template(r->langs, r->s->lang, tmpl);

	return ussd_fill(r, t != NULL ? t : tmpl, extra, nextra, 1);
}

/* "N label" */
static char *
ussd_line(int n, const char *label)
{
	char	*s;

	if (asprintf(&s, "%d %s", n, label) == -1)
		return NULL;
	return s;
}

/*
 * Join header, lines[from .. from+k-1] and the navigation lines.  Malloc'd
 * or NULL.
 */
static char *
ussd_join(const char *header, char **lines, size_t from, size_t k,
    const char *more, const char *back)
{
	size_t	 len = strlen(header) + 1, i;
	char	*s;

	for (i = from; i < from + k; i++)
		len += strlen(lines[i]) + 1;
	len += (more ? strlen(more) + 1 : 0) + (back ? strlen(back) + 1 : 0);
	if ((s = malloc(len)) == NULL)
		return NULL;
	strcpy(s, header);
	for (i = from; i < from + k; i++) {
		if (s[0] != '\0')
			strcat(s, "\n");
		strcat(s, lines[i]);
	}
	if (more != NULL) {
		strcat(s, "\n");
		strcat(s, more);
	}
	if (back != NULL) {
		strcat(s, "\n");
		strcat(s, back);
	}
	return s;
}

/*
 * How many lines from `from` fit one screen of size octets under each of
 * the headers (header2 may be NULL), with "0 More" when lines are left
 * after them, and "00 Back" when back.  At least one.  -1 if memory runs
 * out.
 */
static long
ussd_page_fit(const char *header, const char *header2, char **lines,
    size_t n, size_t from, const char *more, const char *back, size_t size)
{
	const char	*headers[2] = { header, header2 };
	size_t		 k, h;
	char		*s;

	for (k = 0; from + k < n; k++) {
		int	 fits = 1;

		for (h = 0; h < 2 && fits; h++) {
			if (headers[h] == NULL)
				continue;
			s = ussd_join(headers[h], lines, from, k + 1,
			    from + k + 1 < n ? more : NULL, back);
			if (s == NULL)
				return -1;
			fits = ussd_screen_octets(s) <= size;
			free(s);
		}
		if (!fits)
			break;
	}
	return k > 0 ? (long)k : 1;
}

/*
 * The screen for page *page of header and lines (page clamped to the last
 * page), with *npages set.  The pages are cut so that each fits under
 * either layout (layout2 may be NULL) whatever its coding, not only under
 * header: the same whether an error line is shown or not, so a page
 * number always shows the same lines.  Malloc'd or NULL.
 */
static char *
ussd_paginate(struct ussd_req *r, const char *layout, const char *layout2,
    const char *header, char **lines, size_t n, int *page, int *npages,
    int back)
{
	char	*moretxt = ussd_text(r, "ussd-more", NULL, 0);
	char	*backtxt = ussd_text(r, "ussd-back", NULL, 0);
	char	*more = NULL, *bk = NULL, *screen = NULL;
	size_t	 size = ussd_size(r->u->conf), from = 0;
	size_t	 starts[USSD_LINES_MAX + 1];
	long	 k;
	int	 p = 0, want = *page;

	if (moretxt == NULL || backtxt == NULL ||
	    asprintf(&more, "0 %s", moretxt) == -1 ||
	    asprintf(&bk, "00 %s", backtxt) == -1) {
		more = bk = NULL;
		goto out;
	}
	/* Where each page starts. */
	starts[0] = 0;
	while (from < n && p < USSD_LINES_MAX) {
		const char	*pb = back || p > 0 ? bk : NULL;

		if ((k = ussd_page_fit(layout, layout2, lines, n, from, more,
		    pb, size)) < 0)
			goto out;
		from += (size_t)k;
		starts[++p] = from;
	}
	*npages = p > 0 ? p : 1;
	if (want >= *npages)
		want = *npages - 1;
	if (want < 0)
		want = 0;
	*page = want;
	if (n == 0)
		screen = ussd_join(header, lines, 0, 0, NULL, back ? bk : NULL);
	else
		screen = ussd_join(header, lines, starts[want],
		    starts[want + 1] - starts[want],
		    starts[want + 1] < n ? more : NULL,
		    back || want > 0 ? bk : NULL);
out:
	free(moretxt);
	free(backtxt);
	free(more);
	free(bk);
	return screen;
}

static void
ussd_choices_free(struct ussd_choice *c, size_t n)
{
	size_t	 i;

	for (i = 0; i < n; i++)
		free(c[i].label);
	free(c);
}

/* The user's home market, asked of the router once per MO. */
static const char *
ussd_home(struct ussd_req *r)
{
	const char	*lang;

	if (!r->home_known) {
		r->home_known = 1;
		if (router_user_info(r->u->router, r->mo->sender, &lang,
		    r->home, sizeof(r->home)) == -1)
			r->home[0] = '\0';
	}
	return r->home[0] != '\0' ? r->home : NULL;
}

/*
 * The list an input = choice item offers, in the session's language.
 * Returns the count (with *out malloc'd), or -1 if memory runs out.
 */
static long
ussd_choices(struct ussd_req *r, const struct conf_ussd_item *it,
    struct ussd_choice **out)
{
	const struct conf	*c = r->u->conf;
	struct ussd_choice	*list;
	size_t			 n = 0, cap, i;

	*out = NULL;
	if (strcmp(it->choices, "commodities") == 0)
		cap = c->ncommodities;
	else if (strcmp(it->choices, "markets") == 0)
		cap = c->nmarkets;
	else
		(void)lang_codes(r->langs, &cap);	/* the languages */
	if (cap > USSD_LINES_MAX)
		cap = USSD_LINES_MAX;
	if ((list = calloc(cap + 1, sizeof(*list))) == NULL)
		return -1;
	if (strcmp(it->choices, "commodities") == 0) {
		for (i = 0; i < cap; i++) {
			list[n].value = c->commodities[i].code;
			if ((list[n++].label = strdup(ussd_name(r, "commodity",
			    c->commodities[i].code))) == NULL)
				goto oom;
		}
	} else if (strcmp(it->choices, "markets") == 0) {
		const char	*home = it->default_ != NULL ? ussd_home(r) :
				    NULL;
		const struct conf_market *hm = home ? conf_market_find(c, home) :
				    NULL;

		if (hm != NULL) {
			struct mb_arg	 a = { "market", hm->name };

			list[n].value = hm->code;
			if ((list[n++].label = ussd_text(r, "ussd-your-market",
			    &a, 1)) == NULL)
				goto oom;
		}
		for (i = 0; i < cap && n < cap; i++) {
			if (hm != NULL && &c->markets[i] == hm)
				continue;
			list[n].value = c->markets[i].code;
			if ((list[n++].label = strdup(c->markets[i].name)) ==
			    NULL)
				goto oom;
		}
	} else {
		size_t			 nlangs;
		const char * const	*codes = lang_codes(r->langs, &nlangs);

		for (i = 0; i < cap && i < nlangs; i++) {
			const char	*nm = lang_name(r->langs, codes[i]);

			list[n].value = codes[i];
			if ((list[n++].label = strdup(nm ? nm : codes[i])) ==
			    NULL)
				goto oom;
		}
	}
	*out = list;
	return (long)n;
oom:
	ussd_choices_free(list, n);
	return -1;
}

/*
 * The screen of the session's top frame, under an error line if the last
 * answer did not fit; *npages (if not NULL) set to its pages.  Malloc'd;
 * NULL if memory runs out.
 */
static char *
ussd_render(struct ussd_req *r, int *npages)
{
	struct ussd_session		*s = r->s;
	struct ussd_frame		*f = ussd_top(s);
	const struct conf		*c = r->u->conf;
	const struct conf_ussd_menu	*m = NULL;
	const struct conf_ussd_item	*it = NULL;
	struct ussd_choice		*choices = NULL;
	char				*lines[USSD_LINES_MAX];
	char				*err = NULL, *body = NULL, *header = NULL;
	char				*screen = NULL, *label, *room = NULL;
	size_t				 n = 0, i, size = ussd_size(c);
	long				 nc = 0;
	int				 back, pages = 1;

	if (r->error == 2) {
		char		 lo[24], hi[24];
		struct mb_arg	 a[2] = { { "min", lo }, { "max", hi } };

		snprintf(lo, sizeof(lo), "%lld", r->emin);
		snprintf(hi, sizeof(hi), "%lld", r->emax);
		err = ussd_text(r, "ussd-invalid-number", a, 2);
	} else if (r->error)
		err = ussd_text(r, "ussd-invalid", NULL, 0);
	if (r->error && err == NULL)
		return NULL;
	back = s->depth > 1;
	switch (f->kind) {
	case 'r':
		back = 0;
		if ((body = ussd_text(r, "ussd-resume", NULL, 0)) == NULL)
			goto out;
		if ((label = ussd_text(r, "ussd-yes", NULL, 0)) == NULL)
			goto out;
		lines[n] = ussd_line(1, label);
		free(label);
		if (lines[n++] == NULL)
			goto out;
		if ((label = ussd_text(r, "ussd-no", NULL, 0)) == NULL)
			goto out;
		lines[n] = ussd_line(2, label);
		free(label);
		if (lines[n++] == NULL)
			goto out;
		break;
	case 'm':
		m = conf_ussd_menu_find(c, f->id);
		if (m->parent != NULL)
			back = 1;
		if ((body = ussd_text(r, m->title, NULL, 0)) == NULL)
			goto out;
		for (i = 0; i < m->items.count && n < USSD_LINES_MAX; i++) {
			it = conf_ussd_item_find(c, m->items.names[i]);
			if ((label = ussd_text(r, it->label, NULL, 0)) == NULL)
				goto out;
			lines[n] = ussd_line((int)i + 1, label);
			free(label);
			if (lines[n++] == NULL)
				goto out;
		}
		break;
	default:
		it = conf_ussd_item_find(c, f->id);
		if ((body = ussd_text(r, it->prompt, NULL, 0)) == NULL)
			goto out;
		if (strcmp(it->input, "choice") == 0) {
			if ((nc = ussd_choices(r, it, &choices)) < 0)
				goto out;
			for (i = 0; i < (size_t)nc && n < USSD_LINES_MAX; i++)
				if ((lines[n++] = ussd_line((int)i + 1,
				    choices[i].label)) == NULL)
					goto out;
		}
		break;
	}
	if (asprintf(&header, "%s%s%s", err ? err : "", err ? "\n" : "",
	    body) == -1) {
		header = NULL;
		goto out;
	}
	/*
	 * A list is paged so that each page fits under its title and under
	 * the error line alone: its pages never move.  The error line goes
	 * above the title when the page has room for both, else in its place
	 * (a list of languages with 中文 is UCS-2: 80 units for it all).
	 */
	if (n > 0 && (room = ussd_text(r, "ussd-invalid", NULL, 0)) == NULL)
		goto out;
	screen = ussd_paginate(r, n > 0 ? body : header, room, header, lines,
	    n, &f->page, &pages, back);
	if (screen != NULL && err != NULL && n > 0 &&
	    ussd_screen_octets(screen) > size) {
		free(screen);
		screen = ussd_paginate(r, body, room, err, lines, n, &f->page,
		    &pages, back);
	}
	if (screen != NULL) {
		/* A header or a line too long for any screen is cut. */
		char	*fit = ussd_screen_fit(screen, size, NULL);

		free(screen);
		screen = fit;
	}
	if (npages != NULL)
		*npages = pages;
out:
	for (i = 0; i < n; i++)
		free(lines[i]);
	if (choices != NULL)
		ussd_choices_free(choices, (size_t)nc);
	free(err);
	free(body);
	free(header);
	free(room);
	return screen;
}

/* --- answers ------------------------------------------------------------- */

/*
 * Check that every frame of the session names what the conf has (after a
 * reload it may not): else it starts over.
 */
static void
ussd_check_frames(struct ussd *u, struct ussd_session *s)
{
	size_t	 i;

	for (i = 0; i < s->depth; i++) {
		const struct ussd_frame		*f = &s->stack[i];
		const struct conf_ussd_item	*it;

		if ((f->kind == 'm' && conf_ussd_menu_find(u->conf,
		    f->id) == NULL) || (f->kind == 'i' && ((it =
		    conf_ussd_item_find(u->conf, f->id)) == NULL ||
		    it->input == NULL))) {
			ussd_restart(u, s);
			ussd_vars_clear(s);
			return;
		}
	}
	if (s->depth == 0)
		ussd_restart(u, s);
}

/* Queue each line of text as an SMS to the user, from global-sender. */
static int
ussd_sms_copy(struct ussd_req *r, const char *text)
{
	const char	*p = text, *nl;
	char		*line;
	int		 rc;

	while (*p != '\0') {
		if ((nl = strchr(p, '\n')) == NULL)
			nl = p + strlen(p);
		if (nl > p) {
			if ((line = strndup(p, (size_t)(nl - p))) == NULL)
				return -1;
			rc = outbox_queue(r->u->outbox, r->inbox_id, "reply",
			    r->u->conf->global_sender, r->mo->sender, line,
			    NULL, NULL);
			free(line);
			if (rc == -1)
				return -1;
		}
		p = *nl == '\n' ? nl + 1 : nl;
	}
	return 0;
}

/*
 * The phone is over its flood limit (the same bucket as its SMS): the
 * action did not run, and the screen says so.  The session is left, not
 * done, so that the next dial offers to resume it with its answers.
 */
static int
ussd_action_throttled(struct ussd_req *r)
{
	struct ussd_session	*s = r->s;
	char			*text, *screen;
	int			 cut;

	if ((text = ussd_text(r, "ussd-slow-down", NULL, 0)) == NULL)
		return -1;
	screen = ussd_screen_fit(text, ussd_size(r->u->conf), &cut);
	free(text);
	if (screen == NULL)
		return -1;
	free(s->screen);
	s->screen = screen;
	s->ended = 1;
	snprintf(s->state, sizeof(s->state), "left");
	return 0;
}

/*
 * Run an item's action: the command text filled with the answers, through
 * the router, its replies captured as the END screen.  0 or -1 (store).
 */
static int
ussd_action(struct ussd_req *r, const struct conf_ussd_item *it)
{
	struct ussd		*u = r->u;
	struct ussd_session	*s = r->s;
	struct mo		 mo = *r->mo;
	char			*text, *reply, *screen;
	int			 cut, rc;

	/* Codes, not names: the command reads them in any language. */
	if ((text = ussd_fill(r, it->action, NULL, 0, 0)) == NULL)
		return -1;
	/* Nothing gathered before belongs to this answer. */
	free(outbox_take_inline(u->outbox));
	mo.reply_inline = 1;
	debug(USSD_LOG, 0, "ussd: %s runs '%s'", s->key, text);
	if ((rc = router_run_command(u->router, &mo, r->inbox_id, s->lang,
	    text)) == -1) {
		free(text);
		free(outbox_take_inline(u->outbox));
		return -1;
	}
	free(text);
	if (rc == 1)
		return ussd_action_throttled(r);
	if ((reply = outbox_take_inline(u->outbox)) == NULL &&
	    (reply = ussd_text(r, "ussd-done", NULL, 0)) == NULL)
		return -1;
	if ((screen = ussd_screen_fit(reply, ussd_size(u->conf), &cut)) ==
	    NULL) {
		free(reply);
		return -1;
	}
	/*
	 * Written down: what changed something, and what the screen cut; one
	 * SMS per reply the command made (they are joined by newlines), as
	 * the same command sent by SMS would have had them.
	 */
	if ((it->notify_sms || cut) && ussd_sms_copy(r, reply) == -1) {
		free(reply);
		free(screen);
		return -1;
	}
	free(reply);
	free(s->screen);
	s->screen = screen;
	s->ended = 1;
	snprintf(s->state, sizeof(s->state), "done");
	u->stats.actions++;
	return 0;
}

/* Open a menu item: a submenu, an input, or its action. */
static int
ussd_choose(struct ussd_req *r, const struct conf_ussd_item *it)
{
	if (it->menu != NULL) {
		if (ussd_push(r->s, 'm', it->menu) == -1)
			r->error = 1;
		return 0;
	}
	if (it->input != NULL) {
		if (ussd_push(r->s, 'i', it->id) == -1)
			r->error = 1;
		return 0;
	}
	return ussd_action(r, it);
}

/* "00": the page before, the screen before, or the parent menu. */
static void
ussd_back(struct ussd_req *r)
{
	struct ussd_session		*s = r->s;
	struct ussd_frame		*f = ussd_top(s);
	const struct conf_ussd_menu	*m;

	if (f->page > 0)
		f->page--;
	else if (s->depth > 1)
		s->depth--;
	else if (f->kind == 'm' &&
	    (m = conf_ussd_menu_find(r->u->conf, f->id)) != NULL &&
	    m->parent != NULL) {
		snprintf(f->id, sizeof(f->id), "%s", m->parent);
		f->page = 0;
	}
}

/*
 * 1 and *out if s is one whole number in [min, max], as commands read
 * numbers; its digits as typed (a delivery code keeps its leading zeros)
 * into digits when not NULL.
 */
static int
ussd_number(const char *s, long long min, long long max, long long *out,
    char *digits, size_t size)
{
	struct words	 w;
	int		 ok;

	if (words_split(s, NULL, 0, &w) == -1)
		return 0;
	ok = w.n == 1 && words_number(w.word[0], min, max, out) &&
	    (digits == NULL || strlen(w.word[0]) < size);
	if (ok && digits != NULL)
		snprintf(digits, size, "%s", w.word[0]);
	words_free(&w);
	return ok;
}

/* "1", "2" ... a listed number, or 0. */
static long
ussd_listed(const char *in, size_t n)
{
	long long	 v;

	if (in[0] == '0' || !ussd_number(in, 1, (long long)n, &v, NULL, 0))
		return 0;
	return (long)v;
}

/*
 * The value an answer to a choice stands for: a listed number, or a name
 * typed (a code, a label, or an alias of a commodity or market, in any
 * language).  NULL if none.
 */
static const char *
ussd_choice_value(struct ussd_req *r, const struct conf_ussd_item *it,
    const char *in, int *failed)
{
	const struct conf	*c = r->u->conf;
	struct ussd_choice	*list;
	const char		*value = NULL;
	char			*want, *cand;
	long			 n, i, k;
	size_t			 j;

	*failed = 0;
	if ((n = ussd_choices(r, it, &list)) < 0) {
		*failed = 1;
		return NULL;
	}
	if ((k = ussd_listed(in, (size_t)n)) > 0) {
		value = list[k - 1].value;
		goto out;
	}
	if ((want = ussd_normal(in)) == NULL) {
		*failed = 1;
		goto out;
	}
	for (i = 0; i < n && value == NULL && want[0] != '\0'; i++) {
		const struct conf_names	*aliases = NULL, *names = NULL;
		const char		*colon;

		if ((cand = ussd_normal(list[i].label)) == NULL) {
			*failed = 1;
			break;
		}
		if (strcmp(cand, want) == 0 ||
		    strcasecmp(list[i].value, want) == 0)
			value = list[i].value;
		free(cand);
		if (strcmp(it->choices, "commodities") == 0) {
			aliases = &conf_commodity_find(c, list[i].value)->aliases;
			names = &conf_commodity_find(c, list[i].value)->names;
		} else if (strcmp(it->choices, "markets") == 0)
			aliases = &conf_market_find(c, list[i].value)->aliases;
		/* Its names in every language ("sw:mahindi") are taken too. */
		for (j = 0; names != NULL && value == NULL && j < names->count;
		    j++) {
			colon = strchr(names->names[j], ':');
			if ((cand = ussd_normal(colon ? colon + 1 :
			    names->names[j])) == NULL) {
				*failed = 1;
				break;
			}
			if (strcmp(cand, want) == 0)
				value = list[i].value;
			free(cand);
		}
		for (j = 0; aliases != NULL && value == NULL &&
		    j < aliases->count; j++) {
			if ((cand = ussd_normal(aliases->names[j])) == NULL) {
				*failed = 1;
				break;
			}
			if (strcmp(cand, want) == 0)
				value = list[i].value;
			free(cand);
		}
	}
	free(want);
out:
	ussd_choices_free(list, (size_t)n);
	return value;
}

/* An answer to an input item: checked, kept, then the next step. */
static int
ussd_answer(struct ussd_req *r, const struct conf_ussd_item *it,
    const char *in)
{
	struct ussd_session	*s = r->s;
	const struct conf_commodity *k;
	const char		*value = NULL;
	char			 num[USSD_INPUT_MAX];
	long long		 v, min, max;
	int			 failed = 0;

	if (it->optional && strcmp(in, "0") == 0)
		value = "";	/* none: {var} fills as nothing */
	else if (strcmp(it->input, "number") == 0) {
		min = it->has_validate ? it->min : 0;
		max = it->has_validate ? it->max : USSD_NUMBER_MAX;
		if (!ussd_number(in, min, max, &v, num, sizeof(num))) {
			r->error = 2;
			r->emin = min;
			r->emax = max;
			return 0;
		}
		value = num;
	} else if (strcmp(it->input, "text") == 0) {
		size_t	 len = ussd_chars(in), i;

		min = it->has_validate ? it->min : 1;
		max = it->has_validate ? it->max : USSD_TEXT_MAX;
		for (i = 0; in[i] != '\0'; i++)
			if ((unsigned char)in[i] < ' ')
				break;
		if (in[i] != '\0' || (long long)len < min ||
		    (long long)len > max || len == 0 ||
		    strlen(in) >= USSD_INPUT_MAX) {
			r->error = 1;
			return 0;
		}
		value = in;
	} else {
		value = ussd_choice_value(r, it, in, &failed);
		if (failed)
			return -1;
		if (value == NULL) {
			r->error = 1;
			return 0;
		}
	}
	if (ussd_var_set(s, it->var, value) == -1)
		return -1;
	if (strcmp(it->input, "choice") == 0 &&
	    strcmp(it->choices, "commodities") == 0 &&
	    (k = conf_commodity_find(r->u->conf, value)) != NULL &&
	    ussd_var_set(s, "unit", k->unit) == -1)
		return -1;
	if (it->next != NULL) {
		if (ussd_push(s, 'i', it->next) == -1)
			r->error = 1;
		return 0;
	}
	return ussd_action(r, it);
}

/* The resume question answered: 1 the old session goes on here, 2 not. */
static int
ussd_resume_answer(struct ussd_req *r, const char *in)
{
	struct ussd_session	*s = r->s, *old;
	const char		*okey = ussd_var(s, "_resume");
	int			 failed = 0;
	size_t			 i;

	if (strcmp(in, "1") != 0 && strcmp(in, "2") != 0) {
		r->error = 1;
		return 0;
	}
	old = okey != NULL ? ussd_load(r->u, okey, &failed) : NULL;
	if (failed)
		return -1;
	ussd_restart(r->u, s);
	ussd_vars_clear(s);
	if (old == NULL)
		return 0;
	if (strcmp(in, "1") == 0 && strcmp(old->state, "done") != 0) {
		for (i = 0; i < old->depth; i++)
			s->stack[i] = old->stack[i];
		s->depth = old->depth;
		for (i = 0; i < old->nvars; i++)
			if (ussd_var_set(s, old->vars[i].name,
			    old->vars[i].value) == -1)
				return -1;
		ussd_check_frames(r->u, s);
		r->u->stats.resumed++;
		info(0, "ussd: %s resumes %s", s->key, old->key);
	}
	snprintf(old->state, sizeof(old->state), "done");
	if (ussd_save(r->u, old) == -1)
		return -1;
	if (!old->cached)
		ussd_session_free(old);
	return 0;
}

/* One answer typed on the current screen.  0, or -1 (store failure). */
static int
ussd_input(struct ussd_req *r, const char *raw)
{
	struct ussd_session		*s = r->s;
	struct ussd_frame		*f;
	const struct conf_ussd_menu	*m;
	const struct conf_ussd_item	*it;
	char				*in;
	long				 k;
	int				 pages = 1, rc = 0;

	if (s->ended)
		return 0;
	r->error = 0;
	ussd_check_frames(r->u, s);
	f = ussd_top(s);
	if ((in = ussd_trim(raw)) == NULL)
		return -1;
	if (f->kind == 'r') {
		rc = ussd_resume_answer(r, in);
		goto out;
	}
	if (strcmp(in, "00") == 0) {
		ussd_back(r);
		goto out;
	}
	if (strcmp(in, "0") == 0 && (f->kind == 'm' ||
	    strcmp(conf_ussd_item_find(r->u->conf, f->id)->input,
	    "choice") == 0)) {
		char	*screen = ussd_render(r, &pages);

		if (screen == NULL) {
			rc = -1;
			goto out;
		}
		free(screen);
		if (f->page + 1 < pages)
			f->page++;
		else
			r->error = 1;
		goto out;
	}
	if (f->kind == 'm') {
		m = conf_ussd_menu_find(r->u->conf, f->id);
		if ((k = ussd_listed(in, m->items.count)) == 0)
			r->error = 1;
		else
			rc = ussd_choose(r, conf_ussd_item_find(r->u->conf,
			    m->items.names[k - 1]));
		goto out;
	}
	it = conf_ussd_item_find(r->u->conf, f->id);
	rc = ussd_answer(r, it, in);
out:
	if (r->error)
		r->u->stats.invalid++;
	free(in);
	return rc;
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
	int			 failed, dial;

	s = ussd_load(r->u, in->key, &failed);
	if (failed)
		return -1;
	/* The network ended the dialogue (the user cancelled): no answer. */
	if (in->has_its && (in->its[1] & 1)) {
		if (s != NULL && strcmp(s->state, "open") == 0) {
			snprintf(s->state, sizeof(s->state), "left");
			s->updated = r->now;
			info(0, "ussd: %s released by the network", in->key);
			return ussd_save(r->u, s) == -1 ? -1 : 1;
		}
		return 1;
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
