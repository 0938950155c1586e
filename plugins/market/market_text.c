/*
 * market_text.c - what the plugin says: the placeholder values of a
 * template (struct market_args), replies and notices, people and markets
 * as shown, and lists of items, each kept to one SMS.
 *
 * Every word is the language files': replies are templates, and so are
 * the items of lists and an order's state, rendered by the host
 * (host->render) and joined by market-list-sep.  Free text people typed
 * (a REJECT reason, names) is cut at a word to keep a message one SMS.
 *
 * Which template goes to whom, and when, is the commands' (market_post.c,
 * market_order.c, market_delivery.c); the words are the language files';
 * rendering and sending are the host's.  This file measures and cuts.
 */
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <marketbox/plugin.h>

#include "market.h"

/* --- small helpers -------------------------------------------------------- */

/* Copy s into buf, cut at a UTF-8 character boundary to fit len. */
void
market_copy(char *buf, size_t len, const char *s)
{
	size_t	 n;

	if (len == 0)
		return;
	if (s == NULL)
		s = "";
	n = strlen(s);
	if (n >= len) {
		n = len - 1;
		while (n > 0 && ((unsigned char)s[n] & 0xC0) == 0x80)
			n--;
	}
	memcpy(buf, s, n);
	buf[n] = '\0';
}

void
market_arg(struct market_args *a, const char *name, const char *value)
{
	if (a->n == MARKET_MAX_ARGS)
		return;		/* a programming error; the mock shows it */
	a->a[a->n].name = name;
	a->a[a->n].value = value != NULL ? value : "";
	a->n++;
}

void
market_arg_num(struct market_args *a, const char *name, long long v)
{
	if (a->n == MARKET_MAX_ARGS)
		return;
	snprintf(a->num[a->n], sizeof(a->num[a->n]), "%lld", v);
	market_arg(a, name, a->num[a->n]);
}

void
market_arg_money(struct market_args *a, const char *name, long long minor)
{
	if (a->n == MARKET_MAX_ARGS)
		return;
	market_money_format(minor, a->num[a->n], sizeof(a->num[a->n]));
	market_arg(a, name, a->num[a->n]);
}

static int	market_fit(struct market_call *, const char *, const char *,
		    struct market_args *, char [][MARKET_REASON_LEN + 8]);

/*
 * The reply tmpl with a; free text in a (names, a reason) is cut to keep
 * it one SMS (market_fit).  MB_OK or MB_FAIL (logged).
 */
int
market_reply(struct market_call *c, const char *tmpl,
    const struct market_args *a)
{
	struct market_args	 f;
	char			 cut[3][MARKET_REASON_LEN + 8];

	if (a != NULL) {
		f = *a;
		if (market_fit(c, NULL, tmpl, &f, cut) == -1)
			return MB_FAIL;
		a = &f;
	}
	if (c->host->reply(c->ctx, tmpl, a ? a->a : NULL, a ? a->n : 0) ==
	    -1) {
		c->host->log(c->ctx, MB_LOG_ERROR, "market: cannot reply %s",
		    tmpl);
		return MB_FAIL;
	}
	return MB_OK;
}

/* The notice tmpl with a to phone to, as market_reply. */
int
market_notify(struct market_call *c, const char *to, const char *tmpl,
    const struct market_args *a)
{
	struct market_args	 f;
	char			 cut[3][MARKET_REASON_LEN + 8];

	if (a != NULL) {
		f = *a;
		if (market_fit(c, to, tmpl, &f, cut) == -1)
			return MB_FAIL;
		a = &f;
	}
	if (c->host->notify(c->ctx, to, tmpl, a ? a->a : NULL,
	    a ? a->n : 0) == -1) {
		c->host->log(c->ctx, MB_LOG_ERROR,
		    "market: cannot notify %s with %s", to, tmpl);
		return MB_FAIL;
	}
	return MB_OK;
}

/* A reply whose only placeholder is {ref}. */
int
market_reply_ref(struct market_call *c, const char *tmpl, long long ref)
{
	struct market_args	 a = { .n = 0 };

	market_arg_num(&a, "ref", ref);
	return market_reply(c, tmpl, &a);
}

/*
 * A person as shown to others: the registered name, else the number.
 * Copied at once: the host lends the strings it returns only briefly.
 */
void
market_person(struct market_call *c, const char *msisdn, char *buf,
    size_t len)
{
	const char	*name = c->host->user_name(c->ctx, msisdn);

	market_copy(buf, len, name != NULL && name[0] != '\0' ? name : msisdn);
}

/*
 * The number to reach who on, as shown to others.  Identities are not
 * all phones: a member of a service point without one is "m:M17", and the
 * host's contact() gives her agent's phone.  A host without contact()
 * has no members, so every identity it gives is a phone.
 */
int
market_contact(struct market_call *c, const char *who, char *buf,
    size_t len)
{
	const char	*phone = who;

	if (MARKET_HOST_HAS(c->host, contact) &&
	    (phone = c->host->contact(c->ctx, who)) == NULL) {
		c->host->log(c->ctx, MB_LOG_ERROR,
		    "market: no number to reach %s on", who);
		return -1;
	}
	market_copy(buf, len, phone);
	return 0;
}

/* A market code as shown: its name, else the code, else "-". */
void
market_market_name(struct market_call *c, const char *code, char *buf,
    size_t len)
{
	const char	*name = NULL;

	if (code != NULL && code[0] != '\0')
		name = c->host->market_name(c->ctx, code);
	market_copy(buf, len, name != NULL ? name :
	    code != NULL && code[0] != '\0' ? code : "-");
}

/* --- one SMS: measuring, lists, free text cut to fit ------------------------
 *
 * Replies and notices are rendered by the host in the reader's language;
 * the plugin renders them first (host->render) where their length depends
 * on what it puts in: lists of items and free text (names, reasons).  A
 * text fits when the host sends it as one SMS (host->sms_parts: 160 GSM
 * septets, or 70 UCS-2 units, accents GSM lacks folded when that saves
 * an SMS).
 */

/* 1 if text is one SMS as the host sends it. */
static int
market_sms_fits(struct market_call *c, const char *text)
{
	return c->host->sms_parts(c->ctx, text) == 1;
}

/*
 * tmpl rendered for to (NULL: the sender), or NULL (logged).  The text is
 * the host's, valid until the handler returns.
 */
const char *
market_render(struct market_call *c, const char *to, const char *tmpl,
    const struct market_args *a)
{
	const char	*text;

	text = c->host->render(c->ctx, to != NULL && to[0] != '\0' ? to : NULL,
	    tmpl, a ? a->a : NULL, a ? a->n : 0);
	if (text == NULL)
		c->host->log(c->ctx, MB_LOG_ERROR, "market: cannot render %s",
		    tmpl);
	return text;
}

/*
 * Free text in notices: what people typed (a REJECT reason) and names.
 * They are cut, the reason first, a word at a time, never below their
 * first word, until the message fits one SMS.  Phone numbers and every
 * other value are never cut.
 */
static const char * const market_free_args[] = { "reason", "name", "buyer" };
#define MARKET_NFREE	(sizeof(market_free_args) / sizeof(market_free_args[0]))

/*
 * Drop the last word of s (a buffer of len bytes; any ellipsis it ends
 * with first) and end it with ellipsis: 1, or 0 when s is one word (or
 * one character of a script without blanks) and stays as it is.
 */
int
market_cut_word(char *s, size_t len, const char *ellipsis)
{
	size_t	 n = strlen(s), e, cut;

	if (n >= 3 && strcmp(s + n - 3, "...") == 0)
		n -= 3;
	else if (n >= 3 && strcmp(s + n - 3, "\xe2\x80\xa6") == 0)
		n -= 3;
	while (n > 0 && s[n - 1] == ' ')
		n--;
	/* the last blank, else (Chinese) the last character */
	for (cut = n; cut > 0 && s[cut - 1] != ' '; cut--)
		;
	if (cut == 0) {
		/* one word of a script with blanks stays whole */
		if (n == 0 || (unsigned char)s[0] < 0xE0)
			return 0;
		/* else its last character goes */
		cut = n;
		do
			cut--;
		while (cut > 0 && ((unsigned char)s[cut] & 0xC0) == 0x80);
	}
	while (cut > 0 && s[cut - 1] == ' ')
		cut--;
	if (cut == 0)
		return 0;
	e = strlen(ellipsis);
	if (cut + e + 1 > len)
		return 0;
	memcpy(s + cut, ellipsis, e + 1);
	return 1;
}

/*
 * a's free text cut so that tmpl, rendered for to, fits one SMS: the
 * values are copied into cut (MARKET_NFREE buffers) and a points at
 * them.  0, or -1 when rendering fails.
 */
static int
market_fit(struct market_call *c, const char *to, const char *tmpl,
    struct market_args *a, char cut[][MARKET_REASON_LEN + 8])
{
	const char	*text;
	size_t		 i, k, longest;
	int		 slot[MARKET_NFREE], any = 0, done[MARKET_NFREE] = { 0 };

	for (k = 0; k < MARKET_NFREE; k++) {
		slot[k] = -1;
		for (i = 0; i < a->n; i++)
			if (strcmp(a->a[i].name, market_free_args[k]) == 0 &&
			    a->a[i].value[0] != '\0') {
				slot[k] = (int)i;
				any = 1;
			}
	}
	if (!any)
		return 0;
	for (;;) {
		if ((text = market_render(c, to, tmpl, a)) == NULL)
			return -1;
		if (market_sms_fits(c, text))
			return 0;
		/* the reason first, then the longest name */
		k = MARKET_NFREE;
		if (slot[0] != -1 && !done[0])
			k = 0;
		else
			for (i = 1, longest = 0; i < MARKET_NFREE; i++)
				if (slot[i] != -1 && !done[i] &&
				    strlen(a->a[slot[i]].value) >= longest) {
					longest = strlen(a->a[slot[i]].value);
					k = i;
				}
		if (k == MARKET_NFREE)
			return 0;	/* nothing left to cut: as it is */
		if (a->a[slot[k]].value != cut[k]) {
			market_copy(cut[k], MARKET_REASON_LEN + 8,
			    a->a[slot[k]].value);
			a->a[slot[k]].value = cut[k];
		}
		if (!market_cut_word(cut[k], MARKET_REASON_LEN + 8,
		    MARKET_ELLIPSIS))
			done[k] = 1;
	}
}

/* Render tmpl with a for to and add it: MB_OK or MB_FAIL. */
int
market_items_add(struct market_call *c, struct market_items *l,
    const char *to, const char *tmpl, const struct market_args *a)
{
	const char	**p, *text;

	if ((text = market_render(c, to, tmpl, a)) == NULL)
		return MB_FAIL;
	if (l->n == l->cap) {
		l->cap = l->cap ? l->cap * 2 : 8;
		if ((p = realloc(l->item, l->cap * sizeof(*p))) == NULL) {
			c->host->log(c->ctx, MB_LOG_ERROR,
			    "market: out of memory");
			return MB_FAIL;
		}
		l->item = p;
	}
	l->item[l->n++] = text;
	return MB_OK;
}

void
market_items_free(struct market_items *l)
{
	free(l->item);
	memset(l, 0, sizeof(*l));
}

/* Items [from, to) joined by sep, malloc'd; NULL if memory runs out. */
char *
market_items_join(const struct market_items *l, size_t from, size_t to,
    const char *sep)
{
	size_t	 i, len = 1;
	char	*s;

	for (i = from; i < to; i++)
		len += strlen(l->item[i]) + strlen(sep);
	if ((s = malloc(len)) == NULL)
		return NULL;
	s[0] = '\0';
	for (i = from; i < to; i++) {
		if (i > from)
			strcat(s, sep);
		strcat(s, l->item[i]);
	}
	return s;
}

/*
 * How many of the items from first fit one SMS with tmpl, which gets
 * them joined as {list} beside the values of a and, as {more}, how many
 * items are left after them: the largest count that fits, at least 1
 * (an item that does not fit alone goes alone).  -1 on failure.
 */
long
market_items_fit(struct market_call *c, const struct market_items *l,
    size_t first, const char *sep, const char *tmpl, const char *list,
    const struct market_args *a)
{
	struct market_args	 b;
	const char		*text;
	char			*joined;
	size_t			 k, fit = 1;

	for (k = 1; first + k <= l->n; k++) {
		if ((joined = market_items_join(l, first, first + k, sep)) ==
		    NULL)
			return -1;
		b = *a;
		market_arg(&b, list, joined);
		market_arg_num(&b, "more", (long long)(l->n - first - k));
		text = market_render(c, NULL, tmpl, &b);
		free(joined);
		if (text == NULL)
			return -1;
		if (!market_sms_fits(c, text))
			break;
		fit = k;
	}
	return (long)fit;
}

/* A word that is meant as a number: "10", "2.50", "-5". */
int
market_is_number(const char *s)
{
	if (s != NULL && (*s == '-' || *s == '+'))
		s++;
	return s != NULL && *s >= '0' && *s <= '9';
}
