/*
 * ussd_screen.c - the screens of the USSD engine: octets as
 * ussd-screen-size counts them, a screen cut at a word to fit, templates
 * of the user's language filled from the session's answers, menus and
 * lists paged with "0 More" and "00 Back", and the lists to choose from
 * (commodities, markets, languages).
 *
 * What is shown comes from the session (ussd_session.c); what an answer
 * to it means is ussd_answer.c's.
 */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/gw.h"

#include "base/conf.h"
#include "text/gsm.h"
#include "text/lang.h"
#include "marketbox-plugin.h"
#include "queue/mo.h"
#include "plugin/core.h"
#include "plugin/member.h"
#include "store/store.h"
#include "engine/router.h"
#include "engine/ussd.h"
#include "engine/ussd_int.h"
#include "text/words.h"

/* --- small helpers ------------------------------------------------------- */

size_t
ussd_screen_octets(const char *text)
{
	return gsm_octets(text, strlen(text));
}

/* The octets of one screen. */
size_t
ussd_size(const struct conf *c)
{
	return c->ussd_screen_size > 0 ? (size_t)c->ussd_screen_size :
	    USSD_SCREEN_OCTETS;
}

/* s without blanks around it, in a malloc'd copy. */
char *
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
char *
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
size_t
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
char *
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
char *
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

void
ussd_choices_free(struct ussd_choice *c, size_t n)
{
	size_t	 i;

	for (i = 0; i < n; i++) {
		free(c[i].label);
		free(c[i].own);
	}
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
 * 1 if the sender is an active agent of a service point (asked of the
 * store once per MO), 0 if not, -1 on a store failure.
 */
int
ussd_is_agent(struct ussd_req *r)
{
	char	 point[64];
	int	 rc;

	if (r->agent != 0)
		return r->agent == 2;
	if (msisdn_normalise(r->u->conf->country_code, r->mo->sender,
	    r->msisdn, sizeof(r->msisdn)) != 0) {
		r->msisdn[0] = '\0';
		r->agent = 1;
		return 0;
	}
	if ((rc = member_agent_point(r->u->store, r->msisdn, point,
	    sizeof(point))) == -1)
		return -1;
	r->agent = rc == 1 ? 2 : 1;
	return rc == 1;
}

/* 1 if the item lists the user's members: it is for agents only. */
static int
ussd_for_agents(const struct conf_ussd_item *it)
{
	return it->choices != NULL && strcmp(it->choices, "members") == 0;
}

/*
 * The items of m this user sees, in screen order, into items (at most
 * max): an item that lists the user's members shows to agents only, and
 * the numbers of the items are their places in this list.  The count, or
 * -1 on a store failure.
 */
long
ussd_menu_items(struct ussd_req *r, const struct conf_ussd_menu *m,
    const struct conf_ussd_item **items, size_t max)
{
	const struct conf_ussd_item	*it;
	size_t				 i, n = 0;
	int				 agent;

	for (i = 0; i < m->items.count && n < max; i++) {
		if ((it = conf_ussd_item_find(r->u->conf,
		    m->items.names[i])) == NULL)
			continue;
		if (ussd_for_agents(it)) {
			if ((agent = ussd_is_agent(r)) == -1)
				return -1;
			if (!agent)
				continue;
		}
		items[n++] = it;
	}
	return (long)n;
}

static const char ussd_sql_members[] =
    "SELECT code, name FROM members WHERE agent = $1 AND state = 'active'"
    " ORDER BY id";

/*
 * The agent's active members into list (at most cap), "Mary Wanjiku
 * (M17)" each, their codes as values; *n counts those filled (the caller
 * frees them).  0, or -1 on a store failure or when memory runs out.
 */
static int
ussd_members(struct ussd_req *r, struct ussd_choice *list, size_t cap,
    size_t *n)
{
	struct store_stmt	*st;
	int			 rc = STORE_DONE, agent;

	if ((agent = ussd_is_agent(r)) != 1)
		return agent;
	if ((st = store_query(r->u->store, ussd_sql_members)) == NULL)
		return -1;
	store_bind_text(st, 1, r->msisdn);
	while (*n < cap && (rc = store_step(st)) == STORE_ROW) {
		const char	*code = store_text(st, 0);
		const char	*name = store_text(st, 1);

		if (code == NULL)
			continue;
		if ((list[*n].own = strdup(code)) == NULL ||
		    asprintf(&list[*n].label, "%s (%s)", name ? name : "",
		    code) == -1) {
			free(list[*n].own);
			list[*n].own = list[*n].label = NULL;
			rc = STORE_ERROR;
			break;
		}
		list[*n].value = list[*n].own;
		(*n)++;
	}
	store_done(st);
	return rc == STORE_ERROR ? -1 : 0;
}

/*
 * The list an input = choice item offers, in the session's language.
 * Returns the count (with *out malloc'd), or -1 if memory runs out.
 */
long
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
	else if (strcmp(it->choices, "members") == 0)
		cap = USSD_LINES_MAX;
	else
		(void)lang_codes(r->langs, &cap);	/* the languages */
	if (cap > USSD_LINES_MAX)
		cap = USSD_LINES_MAX;
	if ((list = calloc(cap + 1, sizeof(*list))) == NULL)
		return -1;
	if (strcmp(it->choices, "members") == 0) {
		if (ussd_members(r, list, cap, &n) == -1)
			goto oom;
	} else if (strcmp(it->choices, "commodities") == 0) {
		/* produce: farm inputs (kind = input) are bought from
		   dealers by SMS, not listed on a farmer's menu */
		for (i = 0; i < c->ncommodities && n < cap; i++) {
			if (c->commodities[i].input)
				continue;
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
char *
ussd_render(struct ussd_req *r, int *npages)
{
	struct ussd_session		*s = r->s;
	struct ussd_frame		*f = ussd_top(s);
	const struct conf		*c = r->u->conf;
	const struct conf_ussd_menu	*m = NULL;
	const struct conf_ussd_item	*it = NULL, *shown[USSD_LINES_MAX];
	struct ussd_choice		*choices = NULL;
	char				*lines[USSD_LINES_MAX];
	char				*err = NULL, *body = NULL, *header = NULL;
	char				*screen = NULL, *label, *room = NULL;
	size_t				 n = 0, i, size = ussd_size(c);
	long				 nc = 0, nv;
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
		if ((nv = ussd_menu_items(r, m, shown, USSD_LINES_MAX)) < 0)
			goto out;
		for (i = 0; i < (size_t)nv; i++) {
			it = shown[i];
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
		if (strcmp(it->input, "choice") == 0 &&
		    (nc = ussd_choices(r, it, &choices)) < 0)
			goto out;
		/* No member to act for: the screen says how to enrol one. */
		if ((body = ussd_text(r, nc == 0 && ussd_for_agents(it) ?
		    "ussd-no-members" : it->prompt, NULL, 0)) == NULL)
			goto out;
		if (strcmp(it->input, "choice") == 0) {
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
