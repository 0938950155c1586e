/*
 * render.c - filling a template with values: placeholders, numbers,
 * plural forms and catalogue words (the syntax is in render.h).
 *
 * One recursive pass over the template writes into a growing buffer.  The
 * same parser checks templates when the language files load, so a broken
 * placeholder is reported with its file and line at start-up or reload,
 * never met by a farmer.  Plural categories come from lang.c (ICU's CLDR
 * rules for each language's locale).
 */
#include "config.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include <unicode/uchar.h>

#include "base/gw.h"

#include "text/lang.h"
#include "marketbox-plugin.h"
#include "text/render.h"

struct render_buf {
	char	*s;
	size_t	 len, cap;
	int	 oom;
};

struct render_run {
	struct render_env	*env;
	const struct mb_arg	*args;
	size_t			 nargs;
	struct render_buf	 out;
	int			 checking;	/* parse only */
	const char		*why;		/* first error, when checking */
	const char		*where;
};

/* A placeholder as parsed: {name}, {name, kind ...}. */
enum render_kind {
	RENDER_PLAIN,
	RENDER_CAPITAL,
	RENDER_NUMBER,
	RENDER_COUNT,
	RENDER_PLURAL
};

struct render_ph {
	const char		*name;
	size_t			 namelen;
	enum render_kind	 kind;
	const char		*count;		/* RENDER_COUNT: its number */
	size_t			 countlen;
	const char		*branches;	/* RENDER_PLURAL: the first */
};

static const char *render_text(struct render_run *, const char *,
		    int in_branch, const char *hash);

/* --- the buffer ------------------------------------------------------------ */

static void
render_put(struct render_buf *b, const char *s, size_t n)
{
	char	*p;
	size_t	 cap;

	if (b->oom || n == 0)
		return;
	if (b->len + n + 1 > b->cap) {
		cap = b->cap ? b->cap : 128;
		while (cap < b->len + n + 1)
			cap *= 2;
		if ((p = realloc(b->s, cap)) == NULL) {
			b->oom = 1;
			return;
		}
		b->s = p;
		b->cap = cap;
	}
	memcpy(b->s + b->len, s, n);
	b->len += n;
	b->s[b->len] = '\0';
}

/* --- numbers ----------------------------------------------------------------- */

/* 1 if s is [-]digits[.digits] */
static int
render_is_number(const char *s)
{
	size_t	 i = 0, d = 0;

	if (s[i] == '-')
		i++;
	while (isdigit((unsigned char)s[i])) {
		i++;
		d++;
	}
	if (d == 0)
		return 0;
	if (s[i] == '.') {
		i++;
		d = 0;
		while (isdigit((unsigned char)s[i])) {
			i++;
			d++;
		}
		if (d == 0)
			return 0;
	}
	return s[i] == '\0';
}

size_t
render_number(const char *value, const char *group, const char *decimal,
    char *out, size_t outlen)
{
	struct render_buf	 b = { NULL, 0, 0, 0 };
	const char		*p = value, *dot;
	size_t			 ndigits, i, len;

	if (outlen == 0)
		return 0;
	if (value == NULL || !render_is_number(value)) {
		len = value ? strlen(value) : 0;
		if (len >= outlen)
			len = outlen - 1;
		if (len > 0)
			memcpy(out, value, len);
		out[len] = '\0';
		return len;
	}
	if (*p == '-') {
		render_put(&b, "-", 1);
		p++;
	}
	dot = strchr(p, '.');
	ndigits = dot ? (size_t)(dot - p) : strlen(p);
	for (i = 0; i < ndigits; i++) {
		/* a group mark before each group of three but the first */
		if (i > 0 && (ndigits - i) % 3 == 0 && ndigits >= 4 &&
		    group != NULL)
			render_put(&b, group, strlen(group));
		render_put(&b, p + i, 1);
	}
	if (dot != NULL) {
		render_put(&b, decimal ? decimal : ".",
		    strlen(decimal ? decimal : "."));
		render_put(&b, dot + 1, strlen(dot + 1));
	}
	len = 0;
	if (!b.oom && b.s != NULL) {
		len = b.len < outlen ? b.len : outlen - 1;
		memcpy(out, b.s, len);
	}
	out[len] = '\0';
	free(b.s);
	return len;
}

/* --- parsing ------------------------------------------------------------------ */

static size_t
render_name(const char *p)
{
	return strspn(p, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
	    "0123456789_-");
}

static const char *
render_ws(const char *p)
{
	while (*p == ' ' || *p == '\t')
		p++;
	return p;
}

/* 1 if p starts the word w followed by something that is not a name */
static int
render_word_at(const char *p, const char *w, const char **after)
{
	size_t	 n = strlen(w);

	if (strncmp(p, w, n) != 0 || render_name(p + n) != 0)
		return 0;
	*after = p + n;
	return 1;
}

static const char *
render_fail(struct render_run *r, const char *where, const char *why)
{
	if (r->why == NULL) {
		r->why = why;
		r->where = where;
	}
	return NULL;
}

/*
 * The closing '}' of the branch whose '{' is at p, or NULL (r->why set)
 * when it has none.
 */
static const char *
render_branch_end(struct render_run *r, const char *p)
{
	struct render_run	 skip;
	const char		*q;

	skip = *r;
	skip.checking = 1;
	memset(&skip.out, 0, sizeof(skip.out));
	skip.why = NULL;
	q = render_text(&skip, p + 1, 1, "");
	if (skip.why != NULL && r->why == NULL) {
		r->why = skip.why;
		r->where = skip.where;
	}
	return q;
}

/* Past a plural's branches (p at the first): after the closing '}'. */
static const char *
render_skip_branches(struct render_run *r, const char *p, int *has_other)
{
	const char	*q;

	*has_other = 0;
	for (;;) {
		p = render_ws(p);
		if (*p == '}')
			return p + 1;
		if (*p == '\0')
			return render_fail(r, p, "'}' expected");
		if (*p == '=') {
			q = p + 1;
			while (isdigit((unsigned char)*q))
				q++;
			if (q == p + 1)
				return render_fail(r, p, "'=' needs a number");
			p = q;
		} else {
			size_t	 n = render_name(p);

			if (n == 0)
				return render_fail(r, p, "a plural branch "
				    "needs zero, one, two, few, many, other "
				    "or =N before its '{'");
			if (n == 5 && strncmp(p, "other", 5) == 0)
				*has_other = 1;
			else if (!((n == 4 && strncmp(p, "zero", 4) == 0) ||
			    (n == 3 && strncmp(p, "one", 3) == 0) ||
			    (n == 3 && strncmp(p, "two", 3) == 0) ||
			    (n == 3 && strncmp(p, "few", 3) == 0) ||
			    (n == 4 && strncmp(p, "many", 4) == 0)))
				return render_fail(r, p, "not a plural "
				    "category (zero, one, two, few, many, "
				    "other)");
			p += n;
		}
		p = render_ws(p);
		if (*p != '{')
			return render_fail(r, p, "a plural branch starts "
			    "with '{'");
		if ((q = render_branch_end(r, p)) == NULL)
			return NULL;
		p = q + 1;		/* past the branch's '}' */
	}
}

/*
 * If p (at a '{') starts a placeholder, fill ph and return the byte after
 * it.  Return p itself when it is no placeholder ('{' is then text), and
 * NULL for one that starts like a placeholder but is broken (r->why).
 */
static const char *
render_parse(struct render_run *r, const char *p, struct render_ph *ph)
{
	const char	*q, *after;
	size_t		 n;
	int		 has_other;

	memset(ph, 0, sizeof(*ph));
	if ((n = render_name(p + 1)) == 0)
		return p;
	ph->name = p + 1;
	ph->namelen = n;
	q = p + 1 + n;
	if (*q == '}') {
		ph->kind = RENDER_PLAIN;
		return q + 1;
	}
	q = render_ws(q);
	if (*q != ',')
		return p;
	q = render_ws(q + 1);
	if (render_word_at(q, "number", &after)) {
		ph->kind = RENDER_NUMBER;
		q = after;
	} else if (render_word_at(q, "capital", &after)) {
		ph->kind = RENDER_CAPITAL;
		q = after;
	} else if (render_word_at(q, "count", &after)) {
		ph->kind = RENDER_COUNT;
		q = render_ws(after);
		if (*q != ',')
			return render_fail(r, q, "count needs the number's "
			    "name: {unit, count, qty}");
		q = render_ws(q + 1);
		if ((n = render_name(q)) == 0)
			return render_fail(r, q, "count needs the number's "
			    "name: {unit, count, qty}");
		ph->count = q;
		ph->countlen = n;
		q += n;
	} else if (render_word_at(q, "plural", &after)) {
		ph->kind = RENDER_PLURAL;
		q = render_ws(after);
		if (*q != ',')
			return render_fail(r, q, "plural needs its branches: "
			    "{n, plural, one {...} other {...}}");
		ph->branches = q + 1;
		if ((q = render_skip_branches(r, q + 1, &has_other)) == NULL)
			return NULL;
		if (!has_other)
			return render_fail(r, p, "a plural needs an 'other' "
			    "branch");
		return q;
	} else
		return render_fail(r, q, "unknown format (number, capital, "
		    "count or plural)");
	q = render_ws(q);
	if (*q != '}')
		return render_fail(r, q, "'}' expected");
	return q + 1;
}

/* --- values ---------------------------------------------------------------------- */

static const char *
render_arg(struct render_run *r, const char *name, size_t len)
{
	size_t	 i;

	for (i = 0; r->args != NULL && i < r->nargs; i++)
		if (r->args[i].name != NULL &&
		    strncmp(r->args[i].name, name, len) == 0 &&
		    r->args[i].name[len] == '\0')
			return r->args[i].value ? r->args[i].value : "";
	return NULL;
}

static const char *
render_category(struct render_run *r, const char *value)
{
	if (value == NULL || !render_is_number(value))
		return "other";
	return lang_plural(r->env->langs, r->env->lang, strtod(value, NULL));
}

/* The catalogue word for value, or value itself. */
static const char *
render_word(struct render_run *r, const struct render_ph *ph,
    const char *value, const char *category)
{
	const char	*w;
	char		 name[64];

	if (r->env->word == NULL || ph->namelen >= sizeof(name))
		return value;
	memcpy(name, ph->name, ph->namelen);
	name[ph->namelen] = '\0';
	w = r->env->word(r->env->word_arg, r->env->lang, name, value,
	    category);
	return w != NULL ? w : value;
}

static void
render_put_number(struct render_run *r, const char *value)
{
	char	 num[96];
	size_t	 n;

	n = render_number(value, lang_digit_group(r->env->langs, r->env->lang),
	    lang_decimal_mark(r->env->langs, r->env->lang), num, sizeof(num));
	if (n + 1 < sizeof(num) || !render_is_number(value))
		render_put(&r->out, num, n);
	else
		render_put(&r->out, value, strlen(value));
}

/* value with its first letter a capital (any script ICU knows). */
static void
render_put_capital(struct render_run *r, const char *value)
{
	const unsigned char	*s = (const unsigned char *)value;
	UChar32			 c;
	size_t			 n;
	char			 enc[4];

	if (s[0] < 0x80) {
		enc[0] = (char)toupper(s[0]);
		render_put(&r->out, enc, s[0] ? 1 : 0);
		if (s[0])
			render_put(&r->out, value + 1, strlen(value + 1));
		return;
	}
	if ((s[0] & 0xe0) == 0xc0 && (s[1] & 0xc0) == 0x80) {
		c = ((s[0] & 0x1f) << 6) | (s[1] & 0x3f);
		n = 2;
	} else if ((s[0] & 0xf0) == 0xe0 && (s[1] & 0xc0) == 0x80 &&
	    (s[2] & 0xc0) == 0x80) {
		c = ((s[0] & 0x0f) << 12) | ((s[1] & 0x3f) << 6) |
		    (s[2] & 0x3f);
		n = 3;
	} else {
		render_put(&r->out, value, strlen(value));
		return;
	}
	c = u_toupper(c);
	if (c < 0x800) {
		enc[0] = (char)(0xc0 | (c >> 6));
		enc[1] = (char)(0x80 | (c & 0x3f));
		render_put(&r->out, enc, 2);
	} else {
		enc[0] = (char)(0xe0 | (c >> 12));
		enc[1] = (char)(0x80 | ((c >> 6) & 0x3f));
		enc[2] = (char)(0x80 | (c & 0x3f));
		render_put(&r->out, enc, 3);
	}
	render_put(&r->out, value + n, strlen(value + n));
}

/* Render the plural branch of value's category; p at the branches. */
static void
render_plural(struct render_run *r, const char *p, const char *value)
{
	const char	*category = render_category(r, value);
	const char	*chosen = NULL, *other = NULL, *exact = NULL, *q;
	double		 v = value && render_is_number(value) ?
			    strtod(value, NULL) : -1;
	size_t		 n;

	for (;;) {
		p = render_ws(p);
		if (*p == '}' || *p == '\0')
			break;
		if (*p == '=') {
			double	 want = strtod(p + 1, (char **)&q);

			q = render_ws(q);
			if (exact == NULL && value != NULL &&
			    render_is_number(value) && want == v)
				exact = q;
		} else {
			n = render_name(p);
			q = render_ws(p + n);
			if (n == 5 && strncmp(p, "other", 5) == 0)
				other = q;
			if (chosen == NULL && strlen(category) == n &&
			    strncmp(p, category, n) == 0)
				chosen = q;
		}
		/* q is at the branch's '{': on after its '}' */
		if (*q != '{' || (p = render_branch_end(r, q)) == NULL)
			break;
		p++;
	}
	if (exact != NULL)
		chosen = exact;
	if (chosen == NULL)
		chosen = other;
	if (chosen != NULL)
		render_text(r, chosen + 1, 1, value ? value : "");
}

/* Write the placeholder ph (already parsed). */
static void
render_placeholder(struct render_run *r, const struct render_ph *ph)
{
	const char	*v, *count;

	if ((v = render_arg(r, ph->name, ph->namelen)) == NULL) {
		debug("mb.lang", 0, "template placeholder {%.*s} has no value",
		    (int)ph->namelen, ph->name);
		r->env->missing++;
		if (ph->kind != RENDER_PLURAL)
			return;
	}
	switch (ph->kind) {
	case RENDER_PLAIN:
		v = render_word(r, ph, v, NULL);
		render_put(&r->out, v, strlen(v));
		break;
	case RENDER_CAPITAL:
		render_put_capital(r, render_word(r, ph, v, NULL));
		break;
	case RENDER_NUMBER:
		render_put_number(r, v);
		break;
	case RENDER_COUNT:
		if ((count = render_arg(r, ph->count, ph->countlen)) == NULL) {
			debug("mb.lang", 0, "template placeholder {%.*s} has "
			    "no value", (int)ph->countlen, ph->count);
			r->env->missing++;
		}
		v = render_word(r, ph, v, render_category(r, count));
		render_put(&r->out, v, strlen(v));
		break;
	case RENDER_PLURAL:
		render_plural(r, ph->branches, v);
		break;
	}
}

/*
 * Render text from p: to the end of the template, or, in a branch, to its
 * closing '}' (returned; NULL when it is missing).  hash is the number a
 * '#' of a branch stands for.
 */
static const char *
render_text(struct render_run *r, const char *p, int in_branch,
    const char *hash)
{
	struct render_ph	 ph;
	const char		*q, *start = p;
	size_t			 n;

	while (*p != '\0') {
		if (in_branch && *p == '}')
			return p;
		if (p[0] == '{' && p[1] == '{') {
			if (!r->checking)
				render_put(&r->out, "{", 1);
			p += 2;
		} else if (*p == '{') {
			if ((q = render_parse(r, p, &ph)) == NULL)
				return NULL;
			if (q == p) {
				if (!r->checking)
					render_put(&r->out, "{", 1);
				p++;
				continue;
			}
			if (!r->checking)
				render_placeholder(r, &ph);
			p = q;
		} else if (in_branch && *p == '#' && p[1] != '{') {
			if (!r->checking)
				render_put_number(r, hash);
			p++;
		} else {
			/* plain text up to the next mark, in one piece */
			if ((n = strcspn(p, in_branch ? "{}#" : "{")) == 0)
				n = 1;		/* a '#' before a '{' */
			if (!r->checking)
				render_put(&r->out, p, n);
			p += n;
		}
	}
	if (in_branch)
		return render_fail(r, start, "a plural branch is not closed "
		    "with '}'");
	return p;
}

/* --- the interface ------------------------------------------------------------- */

char *
render(struct render_env *env, const char *tmpl, const struct mb_arg *args,
    size_t nargs)
{
	struct render_run	 r;

	if (tmpl == NULL)
		return NULL;
	memset(&r, 0, sizeof(r));
	r.env = env;
	r.args = args;
	r.nargs = nargs;
	if (render_text(&r, tmpl, 0, "") == NULL) {
		/* a template not checked at load: show it as text */
		free(r.out.s);
		memset(&r.out, 0, sizeof(r.out));
		render_put(&r.out, tmpl, strlen(tmpl));
	}
	if (r.out.s == NULL && !r.out.oom)
		return strdup("");
	if (r.out.oom) {
		free(r.out.s);
		return NULL;
	}
	return r.out.s;
}

int
render_check(const char *tmpl, const char **why, size_t *offset)
{
	struct render_env	 env;
	struct render_run	 r;

	memset(&env, 0, sizeof(env));
	memset(&r, 0, sizeof(r));
	r.env = &env;
	r.checking = 1;
	if (render_text(&r, tmpl, 0, "") != NULL && r.why == NULL)
		return 0;
	if (why != NULL)
		*why = r.why ? r.why : "broken placeholder";
	if (offset != NULL)
		*offset = r.where ? (size_t)(r.where - tmpl) : 0;
	return -1;
}
