/*
 * reply_check.c - see reply_check.h.
 */
#include "config.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/conf.h"
#include "text/gsm.h"
#include "text/lang.h"
#include "reply_check.h"

/* --- characters and words ------------------------------------------------------ */

/* The code point at s (its length in *len); a bad byte is itself. */
static unsigned long
rc_decode(const char *s, size_t *len)
{
	const unsigned char	*u = (const unsigned char *)s;

	if (u[0] < 0x80) {
		*len = 1;
		return u[0];
	}
	if ((u[0] & 0xe0) == 0xc0 && (u[1] & 0xc0) == 0x80) {
		*len = 2;
		return ((unsigned long)(u[0] & 0x1f) << 6) | (u[1] & 0x3f);
	}
	if ((u[0] & 0xf0) == 0xe0 && (u[1] & 0xc0) == 0x80 &&
	    (u[2] & 0xc0) == 0x80) {
		*len = 3;
		return ((unsigned long)(u[0] & 0x0f) << 12) |
		    ((unsigned long)(u[1] & 0x3f) << 6) | (u[2] & 0x3f);
	}
	if ((u[0] & 0xf8) == 0xf0 && (u[1] & 0xc0) == 0x80 &&
	    (u[2] & 0xc0) == 0x80 && (u[3] & 0xc0) == 0x80) {
		*len = 4;
		return ((unsigned long)(u[0] & 0x07) << 18) |
		    ((unsigned long)(u[1] & 0x3f) << 12) |
		    ((unsigned long)(u[2] & 0x3f) << 6) | (u[3] & 0x3f);
	}
	*len = 1;
	return u[0];
}

static size_t
rc_encode(unsigned long cp, char *out)
{
	if (cp < 0x80) {
		out[0] = (char)cp;
		return 1;
	}
	if (cp < 0x800) {
		out[0] = (char)(0xc0 | (cp >> 6));
		out[1] = (char)(0x80 | (cp & 0x3f));
		return 2;
	}
	if (cp < 0x10000) {
		out[0] = (char)(0xe0 | (cp >> 12));
		out[1] = (char)(0x80 | ((cp >> 6) & 0x3f));
		out[2] = (char)(0x80 | (cp & 0x3f));
		return 3;
	}
	out[0] = (char)(0xf0 | (cp >> 18));
	out[1] = (char)(0x80 | ((cp >> 12) & 0x3f));
	out[2] = (char)(0x80 | ((cp >> 6) & 0x3f));
	out[3] = (char)(0x80 | (cp & 0x3f));
	return 4;
}

/* Lowercase: ASCII, Latin-1 and Latin Extended-A. */
static unsigned long
rc_fold(unsigned long c)
{
	if (c >= 'A' && c <= 'Z')
		return c + 32;
	if (c >= 0xc0 && c <= 0xde && c != 0xd7)
		return c + 0x20;
	if (((c >= 0x100 && c <= 0x137) || (c >= 0x14a && c <= 0x177)) &&
	    c % 2 == 0)
		return c + 1;
	if (((c >= 0x139 && c <= 0x148) || (c >= 0x179 && c <= 0x17e)) &&
	    c % 2 == 1)
		return c + 1;
	if (c == 0x178)
		return 0xff;
	return c;
}

static int
rc_is_latin(unsigned long c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	    (c >= 0xc0 && c <= 0x24f && c != 0xd7 && c != 0xf7);
}

static int
rc_is_digit(unsigned long c)
{
	return c >= '0' && c <= '9';
}

static int
rc_is_han(unsigned long c)
{
	return (c >= 0x3400 && c <= 0x4dbf) || (c >= 0x4e00 && c <= 0x9fff) ||
	    (c >= 0xf900 && c <= 0xfaff) || (c >= 0x20000 && c <= 0x2ffff);
}

/*
 * Call fn for each word of text (lowercased; digits set when it has
 * any); stop when fn returns non-zero.
 */
static void
rc_words(const char *text, int (*fn)(void *, const char *, int, size_t),
    void *arg)
{
	char		 w[256];
	size_t		 wl = 0, cl, ncp = 0;
	int		 han = 0, digits = 0;
	unsigned long	 c;
	const char	*p = text;

	if (text == NULL)
		return;
	for (;;) {
		int	 latin, h;

		c = *p != '\0' ? rc_decode(p, &cl) : 0;
		latin = c != 0 && (rc_is_latin(c) || rc_is_digit(c));
		h = c != 0 && rc_is_han(c);
		/* the word so far ends here */
		if (wl > 0 && ((han && !h) || (!han && !latin))) {
			w[wl] = '\0';
			if (fn(arg, w, digits, ncp) != 0)
				return;
			wl = 0;
			ncp = 0;
			digits = 0;
		}
		if (c == 0)
			return;
		if ((latin || h) && wl + 4 < sizeof(w)) {
			han = h;
			if (rc_is_digit(c))
				digits = 1;
			wl += rc_encode(rc_fold(c), w + wl);
			ncp++;
		}
		p += cl;
	}
}

/* --- sets of words ------------------------------------------------------------------ */

struct rc_set {
	char	**w;
	size_t	 n, cap;
	int	 sorted;
};

static int
rc_cmp(const void *a, const void *b)
{
	return strcmp(*(char * const *)a, *(char * const *)b);
}

static void
rc_set_add(struct rc_set *s, const char *w)
{
	char	**p;

	if (s->n == s->cap) {
		s->cap = s->cap ? s->cap * 2 : 64;
		if ((p = realloc(s->w, s->cap * sizeof(*p))) == NULL)
			abort();
		s->w = p;
	}
	if ((s->w[s->n++] = strdup(w)) == NULL)
		abort();
	s->sorted = 0;
}

/* Sort, and drop duplicates. */
static void
rc_set_sort(struct rc_set *s)
{
	size_t	 i, j;

	if (s->sorted || s->n == 0)
		return;
	qsort(s->w, s->n, sizeof(*s->w), rc_cmp);
	for (i = 1, j = 1; i < s->n; i++) {
		if (strcmp(s->w[i], s->w[j - 1]) == 0)
			free(s->w[i]);
		else
			s->w[j++] = s->w[i];
	}
	s->n = j;
	s->sorted = 1;
}

static int
rc_set_has(const struct rc_set *s, const char *w)
{
	if (s->n == 0)
		return 0;
	return bsearch(&w, s->w, s->n, sizeof(*s->w), rc_cmp) != NULL;
}

static void
rc_set_free(struct rc_set *s)
{
	size_t	 i;

	for (i = 0; i < s->n; i++)
		free(s->w[i]);
	free(s->w);
	memset(s, 0, sizeof(*s));
}

static int
rc_add_cb(void *arg, const char *w, int digits, size_t ncp)
{
	(void)ncp;
	if (!digits)
		rc_set_add(arg, w);
	return 0;
}

/* Every word of text into s. */
static void
rc_set_add_words(struct rc_set *s, const char *text)
{
	rc_words(text, rc_add_cb, s);
}

/* --- templates ---------------------------------------------------------------------- */

#define RC_NAME_CHARS	"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ" \
			"0123456789_-"

struct rc_walk {
	void	(*fn)(void *, const char *, int);
	void	(*text_fn)(void *, const char *, size_t);
	void	*arg;
};

static const char *
rc_ws(const char *p)
{
	while (*p == ' ' || *p == '\t')
		p++;
	return p;
}

static void
rc_name(const struct rc_walk *w, const char *p, size_t n, int numeric)
{
	char	 name[64];

	if (n >= sizeof(name))
		n = sizeof(name) - 1;
	memcpy(name, p, n);
	name[n] = '\0';
	if (w->fn != NULL)
		w->fn(w->arg, name, numeric);
}

static void
rc_text(const struct rc_walk *w, const char *p, size_t n)
{
	if (n > 0 && w->text_fn != NULL)
		w->text_fn(w->arg, p, n);
}

static const char *rc_walk_text(const struct rc_walk *, const char *,
		    int in_branch);

/*
 * A placeholder at p ('{'): its names reported, the byte after it
 * returned; p itself when it is no placeholder.
 */
static const char *
rc_walk_placeholder(const struct rc_walk *w, const char *p)
{
	const char	*name = p + 1, *q;
	size_t		 n = strspn(name, RC_NAME_CHARS), k;

	if (n == 0)
		return p;
	q = name + n;
	if (*q == '}') {
		rc_name(w, name, n, 0);
		return q + 1;
	}
	q = rc_ws(q);
	if (*q != ',')
		return p;
	q = rc_ws(q + 1);
	k = strspn(q, RC_NAME_CHARS);
	if (k == 6 && strncmp(q, "number", 6) == 0) {
		rc_name(w, name, n, 1);
		q += k;
	} else if (k == 7 && strncmp(q, "capital", 7) == 0) {
		rc_name(w, name, n, 0);
		q += k;
	} else if (k == 5 && strncmp(q, "count", 5) == 0) {
		rc_name(w, name, n, 0);
		q = rc_ws(q + k);
		if (*q != ',')
			return p;
		q = rc_ws(q + 1);
		if ((k = strspn(q, RC_NAME_CHARS)) == 0)
			return p;
		rc_name(w, q, k, 1);
		q += k;
	} else if (k == 6 && strncmp(q, "plural", 6) == 0) {
		rc_name(w, name, n, 1);
		q = rc_ws(q + k);
		if (*q != ',')
			return p;
		q++;
		for (;;) {
			q = rc_ws(q);
			if (*q == '}')
				return q + 1;
			if (*q == '=') {
				q++;
				q += strspn(q, "0123456789");
			} else if ((k = strspn(q, RC_NAME_CHARS)) > 0)
				q += k;
			else
				return p;
			q = rc_ws(q);
			if (*q != '{')
				return p;
			if ((q = rc_walk_text(w, q + 1, 1)) == NULL)
				return p;
			q++;		/* the branch's '}' */
		}
	} else
		return p;
	q = rc_ws(q);
	return *q == '}' ? q + 1 : p;
}

/* Walk text from p to its end or, in a branch, to its '}' (returned). */
static const char *
rc_walk_text(const struct rc_walk *w, const char *p, int in_branch)
{
	const char	*run = p, *q;

	while (*p != '\0') {
		if (in_branch && *p == '}') {
			rc_text(w, run, (size_t)(p - run));
			return p;
		}
		if (p[0] == '{' && p[1] == '{') {
			rc_text(w, run, (size_t)(p - run));
			rc_text(w, "{", 1);
			p += 2;
			run = p;
		} else if (*p == '{') {
			if ((q = rc_walk_placeholder(w, p)) == p) {
				p++;
				continue;
			}
			rc_text(w, run, (size_t)(p - run));
			p = run = q;
		} else if (in_branch && *p == '#' && p[1] != '{') {
			rc_text(w, run, (size_t)(p - run));
			p++;
			run = p;
		} else
			p++;
	}
	rc_text(w, run, (size_t)(p - run));
	return in_branch ? NULL : p;
}

void
reply_template_walk(const char *tmpl, void (*fn)(void *, const char *, int),
    void (*text_fn)(void *, const char *, size_t), void *arg)
{
	struct rc_walk	 w = { fn, text_fn, arg };

	if (tmpl != NULL)
		rc_walk_text(&w, tmpl, 0);
}

/* --- vocabularies ----------------------------------------------------------------- */

struct rc_lang {
	char		 code[16];
	struct rc_set	 all;		/* every word of the language */
	struct rc_set	 kw;		/* its keywords */
	struct rc_set	 cat;		/* its catalogue names and forms */
};

struct reply_vocab {
	struct rc_lang	*l;
	size_t		 n;
	struct rc_set	 allow;
};

static void
rc_text_cb(void *arg, const char *text, size_t len)
{
	char	*s = strndup(text, len);

	if (s == NULL)
		abort();
	rc_set_add_words(arg, s);
	free(s);
}

static int
rc_template_cb(void *arg, const char *name, const char *text)
{
	(void)name;
	reply_template_walk(text, NULL, rc_text_cb, arg);
	return 0;
}

static int
rc_keyword_cb(void *arg, const char *word, const char *command)
{
	struct rc_lang	*l = arg;

	(void)command;
	rc_set_add_words(&l->kw, word);
	rc_set_add_words(&l->all, word);
	return 0;
}

/* The catalogue words of names ("sw:mahindi") or forms ("en:other=bags"). */
static void
rc_catalogue(struct rc_lang *l, const struct conf_names *names, int forms)
{
	size_t		 i, cl = strlen(l->code);
	const char	*e, *w;

	for (i = 0; i < names->count; i++) {
		e = names->names[i];
		if (strncmp(e, l->code, cl) != 0 || e[cl] != ':')
			continue;
		w = e + cl + 1;
		if (forms && (w = strchr(w, '=')) != NULL)
			w++;
		if (w == NULL)
			continue;
		rc_set_add_words(&l->cat, w);
		rc_set_add_words(&l->all, w);
	}
}

struct reply_vocab *
reply_vocab_new(const struct conf *conf, const struct lang_set *langs)
{
	struct reply_vocab	*v;
	const char * const	*codes;
	size_t			 n, i, j;

	if ((v = calloc(1, sizeof(*v))) == NULL)
		return NULL;
	codes = lang_codes(langs, &n);
	if ((v->l = calloc(n ? n : 1, sizeof(*v->l))) == NULL) {
		free(v);
		return NULL;
	}
	v->n = n;
	for (i = 0; i < n; i++) {
		struct rc_lang	*l = &v->l[i];

		snprintf(l->code, sizeof(l->code), "%s", codes[i]);
		lang_each_own_template(langs, codes[i], rc_template_cb, &l->all);
		lang_each_word(langs, codes[i], rc_keyword_cb, l);
		for (j = 0; j < conf->nunits; j++) {
			rc_catalogue(l, &conf->units[j].names, 0);
			rc_catalogue(l, &conf->units[j].forms, 1);
		}
		for (j = 0; j < conf->ncommodities; j++) {
			rc_catalogue(l, &conf->commodities[j].names, 0);
			rc_catalogue(l, &conf->commodities[j].forms, 1);
		}
		rc_set_add_words(&l->all, lang_name(langs, codes[i]));
		rc_set_add_words(&v->allow, lang_name(langs, codes[i]));
		rc_set_add_words(&v->allow, codes[i]);
	}
	rc_set_add_words(&v->allow, conf->currency);
	for (j = 0; j < conf->currency_aliases.count; j++)
		rc_set_add_words(&v->allow, conf->currency_aliases.names[j]);
	for (j = 0; j < conf->nmarkets; j++) {
		rc_set_add_words(&v->allow, conf->markets[j].code);
		rc_set_add_words(&v->allow, conf->markets[j].name);
		for (i = 0; i < conf->markets[j].aliases.count; i++)
			rc_set_add_words(&v->allow,
			    conf->markets[j].aliases.names[i]);
	}
	for (i = 0; i < n; i++) {
		rc_set_sort(&v->l[i].all);
		rc_set_sort(&v->l[i].kw);
		rc_set_sort(&v->l[i].cat);
	}
	rc_set_sort(&v->allow);
	return v;
}

void
reply_vocab_free(struct reply_vocab *v)
{
	size_t	 i;

	if (v == NULL)
		return;
	for (i = 0; i < v->n; i++) {
		rc_set_free(&v->l[i].all);
		rc_set_free(&v->l[i].kw);
		rc_set_free(&v->l[i].cat);
	}
	free(v->l);
	rc_set_free(&v->allow);
	free(v);
}

void
reply_vocab_allow(struct reply_vocab *v, const char *text)
{
	rc_set_add_words(&v->allow, text);
	rc_set_sort(&v->allow);
}

struct rc_foreign {
	const struct reply_vocab *v;
	const struct rc_lang	*me;
	struct rc_set		 typed;
	struct rc_set		 seen;
	char			*why;
	size_t			 len, count;
};

static void
rc_why(struct rc_foreign *f, const char *word, const char *code,
    const char *what)
{
	size_t	 have = strlen(f->why);

	f->count++;
	if (have + 1 < f->len)
		snprintf(f->why + have, f->len - have, "%s'%s' (%s%s)",
		    have > 0 ? ", " : "", word, code, what);
}

static int
rc_foreign_cb(void *arg, const char *w, int digits, size_t ncp)
{
	struct rc_foreign	*f = arg;
	const struct rc_lang	*me = f->me, *o;
	size_t			 i;

	if (digits || rc_set_has(&f->v->allow, w) || rc_set_has(&f->typed, w) ||
	    rc_set_has(&f->seen, w))
		return 0;
	rc_set_add(&f->seen, w);
	rc_set_sort(&f->seen);
	for (i = 0; i < f->v->n; i++) {
		o = &f->v->l[i];
		if (o == me)
			continue;
		if (rc_set_has(&o->kw, w) && (me == NULL ||
		    (!rc_set_has(&me->kw, w) && !rc_set_has(&me->cat, w)))) {
			rc_why(f, w, o->code, " keyword");
			return 0;
		}
		if (ncp >= 3 && rc_set_has(&o->cat, w) && (me == NULL ||
		    (!rc_set_has(&me->cat, w) && !rc_set_has(&me->kw, w)))) {
			rc_why(f, w, o->code, " catalogue");
			return 0;
		}
	}
	if (me != NULL && rc_set_has(&me->all, w))
		return 0;
	for (i = 0; i < f->v->n; i++) {
		o = &f->v->l[i];
		if (o != me && rc_set_has(&o->all, w)) {
			rc_why(f, w, o->code, "");
			return 0;
		}
	}
	return 0;
}

size_t
reply_foreign(const struct reply_vocab *v, const char *lang, const char *text,
    const char *typed, char *why, size_t len)
{
	struct rc_foreign	 f;
	size_t			 i;

	memset(&f, 0, sizeof(f));
	f.v = v;
	f.why = why;
	f.len = len;
	if (len > 0)
		why[0] = '\0';
	for (i = 0; lang != NULL && i < v->n; i++)
		if (strcmp(v->l[i].code, lang) == 0)
			f.me = &v->l[i];
	rc_set_add_words(&f.typed, typed);
	rc_set_sort(&f.typed);
	rc_words(text, rc_foreign_cb, &f);
	rc_set_free(&f.typed);
	rc_set_free(&f.seen);
	return f.count;
}

/* --- length, placeholders, searching ------------------------------------------------------ */

/* One SMS as it leaves: the outbox folds accents GSM lacks when that saves
   a part (gsm_fold), so a French "maïs" over 70 characters is one GSM SMS. */
int
reply_fits_sms(const char *text, char *why, size_t len)
{
	struct gsm_measure	 m;
	char			*folded = gsm_fold(text, strlen(text));

	if (folded != NULL) {
		gsm_measure(folded, strlen(folded), &m);
		free(folded);
	} else
		gsm_measure(text, strlen(text), &m);
	if (m.coding == GSM_CODING_7BIT && m.units <= GSM_SEPTETS_SINGLE)
		return 0;
	if (m.coding != GSM_CODING_7BIT && m.units <= GSM_UCS2_SINGLE)
		return 0;
	if (m.coding == GSM_CODING_7BIT)
		snprintf(why, len, "%zu GSM septets > %d", m.units,
		    GSM_SEPTETS_SINGLE);
	else
		snprintf(why, len, "%zu UCS-2 units > %d", m.units,
		    GSM_UCS2_SINGLE);
	return -1;
}

int
reply_has_placeholder(const char *text)
{
	const char	*p;
	size_t		 n;

	for (p = text; (p = strchr(p, '{')) != NULL; p++) {
		n = strspn(p + 1, RC_NAME_CHARS);
		if (n > 0 && (p[1 + n] == '}' || p[1 + n] == ','))
			return 1;
	}
	return 0;
}

/*
 * A Latin-1 letter without its accent: the outbox may send "maïs" as
 * "mais" (gsm_fold), so a reply names a word with or without them.
 */
static unsigned long
rc_bare(unsigned long c)
{
	static const char	 bare[] =
	    "aaaaaaaceeeeiiii" "dnooooo" "ouuuuy" "y";	/* U+E0..U+FF */

	if (c >= 0xe0 && c <= 0xf6)
		return (unsigned char)bare[c - 0xe0];
	if (c >= 0xf8 && c <= 0xfd)
		return (unsigned char)bare[c - 0xe1];
	if (c == 0xff)
		return 'y';
	return c;
}

/* text lowercased as rc_fold does, accents dropped, malloc'd */
static char *
rc_folded(const char *s)
{
	char	*out = malloc(strlen(s) * 2 + 1), *o = out;
	size_t	 cl;

	if (out == NULL)
		abort();
	while (*s != '\0') {
		o += rc_encode(rc_bare(rc_fold(rc_decode(s, &cl))), o);
		s += cl;
	}
	*o = '\0';
	return out;
}

/* 1 if the code point ending just before p (from start) is alphanumeric */
static int
rc_alnum_before(const char *start, const char *p)
{
	const char	*q = p;
	size_t		 cl;
	unsigned long	 c;

	if (q == start)
		return 0;
	q--;
	while (q > start && ((unsigned char)*q & 0xc0) == 0x80)
		q--;
	c = rc_decode(q, &cl);
	return rc_is_latin(c) || rc_is_digit(c);
}

int
reply_contains(const char *hay, const char *needle)
{
	char		*h = rc_folded(hay), *n = rc_folded(needle);
	const char	*p;
	size_t		 nl = strlen(n), cl;
	unsigned long	 first, last, c;
	int		 found = 0;

	if (nl == 0) {
		free(h);
		free(n);
		return 1;
	}
	first = rc_decode(n, &cl);
	p = n + nl;
	last = 0;
	for (p = n; *p != '\0'; p += cl)
		last = rc_decode(p, &cl);
	for (p = h; !found && (p = strstr(p, n)) != NULL; p++) {
		int	 ok = 1;

		if ((rc_is_latin(first) || rc_is_digit(first)) &&
		    rc_alnum_before(h, p))
			ok = 0;
		if (ok && (rc_is_latin(last) || rc_is_digit(last)) &&
		    p[nl] != '\0') {
			c = rc_decode(p + nl, &cl);
			if (rc_is_latin(c) || rc_is_digit(c))
				ok = 0;
		}
		found = ok;
	}
	free(h);
	free(n);
	return found;
}

/* --- reports ------------------------------------------------------------------------------ */

static char	*rc_report;
static size_t	 rc_report_len, rc_report_cap;

void
reply_report(const char *fmt, ...)
{
	va_list	 ap;
	char	*p;
	int	 n;

	va_start(ap, fmt);
	n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	if (rc_report_len + (size_t)n + 2 > rc_report_cap) {
		rc_report_cap = (rc_report_len + (size_t)n + 2) * 2;
		if ((p = realloc(rc_report, rc_report_cap)) == NULL)
			abort();
		rc_report = p;
	}
	va_start(ap, fmt);
	vsnprintf(rc_report + rc_report_len, (size_t)n + 1, fmt, ap);
	va_end(ap);
	fprintf(stderr, "%s\n", rc_report + rc_report_len);
	rc_report_len += (size_t)n;
	rc_report[rc_report_len++] = '\n';
	rc_report[rc_report_len] = '\0';
}

const char *
reply_report_text(void)
{
	return rc_report != NULL ? rc_report : "";
}

void
reply_report_clear(void)
{
	free(rc_report);
	rc_report = NULL;
	rc_report_len = rc_report_cap = 0;
}
