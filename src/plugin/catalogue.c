/*
 * catalogue.c - the catalogue's words as people type them: a commodity,
 * unit or market named in any language or by an alias (normalised by
 * words.c, so "Mahindi" and "mahindi" are one) and the nearest known word
 * for a typo; and the delivery chain's hubs and routes as plugins see
 * them (host->hub, hub_name, market_hub, route: conf_catalogue.c reads
 * and checks the tree).  Phone numbers are base/phone.c's.  The host's
 * table (host.c) answers plugins from here; the conf is read once, at
 * load and on reload.
 */
#include "config.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/gw.h"

#include "base/conf.h"
#include "plugin/core.h"
#include "text/lang.h"
#include "text/words.h"

/* --- the catalogue ------------------------------------------------------- */

struct catalogue_entry {
	char		*word;		/* normalised: words joined by ' ' */
	const char	*code;		/* points into the conf */
};

struct catalogue_table {
	struct catalogue_entry	*e;
	size_t			 n;
};

struct catalogue {
	struct catalogue_table	 commodities, units, markets;
};

static int
catalogue_add(struct catalogue_table *t, const char *name, const char *code)
{
	struct catalogue_entry	*e;
	char			*word;

	if ((word = words_normal(name)) == NULL)
		return -1;
	if (word[0] == '\0') {
		free(word);
		return 0;
	}
	if ((e = realloc(t->e, (t->n + 1) * sizeof(*e))) == NULL) {
		free(word);
		return -1;
	}
	t->e = e;
	e[t->n].word = word;
	e[t->n].code = code;
	t->n++;
	return 0;
}

/* A code, its aliases, its display name, and its names per language. */
static int
catalogue_add_all(struct catalogue_table *t, const char *code,
    const struct conf_names *aliases, const char *name,
    const struct conf_names *names, const struct conf_names *forms)
{
	size_t		 i;
	const char	*colon;

	if (catalogue_add(t, code, code) == -1 ||
	    (name != NULL && catalogue_add(t, name, code) == -1))
		return -1;
	for (i = 0; i < aliases->count; i++)
		if (catalogue_add(t, aliases->names[i], code) == -1)
			return -1;
	for (i = 0; names != NULL && i < names->count; i++)
		if ((colon = strchr(names->names[i], ':')) != NULL &&
		    catalogue_add(t, colon + 1, code) == -1)
			return -1;
	for (i = 0; forms != NULL && i < forms->count; i++)
		if ((colon = strchr(forms->names[i], '=')) != NULL &&
		    catalogue_add(t, colon + 1, code) == -1)
			return -1;
	return 0;
}

struct catalogue *
catalogue_new(const struct conf *c)
{
	struct catalogue	*cat;
	size_t			 i;
	int			 bad = 0;

	if ((cat = calloc(1, sizeof(*cat))) == NULL)
		return NULL;
	for (i = 0; i < c->ncommodities; i++)
		bad |= catalogue_add_all(&cat->commodities,
		    c->commodities[i].code, &c->commodities[i].aliases, NULL,
		    &c->commodities[i].names, &c->commodities[i].forms);
	for (i = 0; i < c->nunits; i++)
		bad |= catalogue_add_all(&cat->units, c->units[i].code,
		    &c->units[i].aliases, NULL, &c->units[i].names,
		    &c->units[i].forms);
	for (i = 0; i < c->nmarkets; i++)
		bad |= catalogue_add_all(&cat->markets, c->markets[i].code,
		    &c->markets[i].aliases, c->markets[i].name, NULL, NULL);
	if (bad) {
		catalogue_free(cat);
		return NULL;
	}
	return cat;
}

static void
catalogue_table_free(struct catalogue_table *t)
{
	size_t	 i;

	for (i = 0; i < t->n; i++)
		free(t->e[i].word);
	free(t->e);
}

void
catalogue_free(struct catalogue *cat)
{
	if (cat == NULL)
		return;
	catalogue_table_free(&cat->commodities);
	catalogue_table_free(&cat->units);
	catalogue_table_free(&cat->markets);
	free(cat);
}

static const char *
catalogue_find(const struct catalogue_table *t, const char *word)
{
	char		*n;
	const char	*code = NULL;
	size_t		 i;

	if (word == NULL || (n = words_normal(word)) == NULL)
		return NULL;
	for (i = 0; i < t->n && code == NULL; i++)
		if (strcmp(t->e[i].word, n) == 0)
			code = t->e[i].code;
	free(n);
	return code;
}

const char *
catalogue_commodity(const struct catalogue *cat, const char *word)
{
	return catalogue_find(&cat->commodities, word);
}

const char *
catalogue_unit(const struct catalogue *cat, const char *word)
{
	return catalogue_find(&cat->units, word);
}

const char *
catalogue_market(const struct catalogue *cat, const char *word)
{
	return catalogue_find(&cat->markets, word);
}

/*
 * Typing on a keypad drops and swaps letters: a word within one edit of a
 * name (two for names of six letters or more) suggests that commodity.
 */
/*
 * A word of a script without blanks cut short ("玉" for 玉米): the code
 * of the words of t that begin with it, when they all name one thing;
 * else NULL (too short to guess at in a script with blanks).
 */
static const char *
catalogue_suggest_prefix(const struct catalogue_table *t, const char *word)
{
	const char	*code = NULL;
	size_t		 i, n = strlen(word);

	if (n == 0 || (unsigned char)word[0] < 0xE3)
		return NULL;
	for (i = 0; i < t->n; i++)
		if (strncmp(t->e[i].word, word, n) == 0 &&
		    t->e[i].word[n] != '\0') {
			if (code != NULL && strcmp(code, t->e[i].code) != 0)
				return NULL;
			code = t->e[i].code;
		}
	return code;
}

/* The code of the word of t closest to word, within a typo or two. */
static const char *
catalogue_suggest(const struct catalogue_table *t, const char *word)
{
	const char	*best = NULL;
	int		 bestd, d, max;
	size_t		 i, letters = 0;

	if (word == NULL)
		return NULL;
	/* Letters, not bytes: 你好 is two letters, too short to guess at. */
	for (i = 0; word[i] != '\0'; i++)
		if (((unsigned char)word[i] & 0xC0) != 0x80)
			letters++;
	if (letters < 3)
		return catalogue_suggest_prefix(t, word);
	max = letters >= 6 ? 2 : 1;
	bestd = max + 1;
	for (i = 0; i < t->n; i++) {
		d = words_distance(word, t->e[i].word, max);
		if (d < bestd) {
			bestd = d;
			best = t->e[i].code;
		}
	}
	return best;
}

const char *
catalogue_commodity_suggest(const struct catalogue *cat, const char *word)
{
	return catalogue_suggest(&cat->commodities, word);
}

const char *
catalogue_market_suggest(const struct catalogue *cat, const char *word)
{
	return catalogue_suggest(&cat->markets, word);
}

void
catalogue_each_word(const struct catalogue *cat,
    int (*fn)(void *, const char *), void *arg)
{
	const struct catalogue_table	*t[3];
	size_t				 i, j;

	if (cat == NULL)
		return;
	t[0] = &cat->commodities;
	t[1] = &cat->units;
	t[2] = &cat->markets;
	for (i = 0; i < 3; i++)
		for (j = 0; j < t[i]->n; j++)
			if (fn(arg, t[i]->e[j].word) != 0)
				return;
}

/* --- the delivery chain: host->hub, hub_name, market_hub, route ---------- */

/* The conf's limit is the interface's: a hub's operators all fit. */
typedef char host_hub_operators_fit[CONF_HUB_OPERATORS ==
    MB_HUB_OPERATORS ? 1 : -1];
/* The longest route, up every level and down again, fits MB_ROUTE_MAX. */
typedef char host_route_fits[2 * CONF_HUB_LEVELS - 1 <= MB_ROUTE_MAX ?
    1 : -1];

/* The hub of that code, copied as far as the plugin's struct reaches. */
int
host_hub(struct mb_ctx *ctx, const char *code, struct mb_hub *out)
{
	const struct conf_hub	*ch;
	struct mb_hub		 h;
	size_t			 k, n;

	if (out == NULL || out->size < sizeof(out->size) ||
	    (ch = conf_hub_find(ctx->core->conf, code)) == NULL)
		return 0;
	memset(&h, 0, sizeof(h));
	h.code = ch->code;
	h.level = ch->level;
	h.parent = ch->parent;
	for (k = 0; k < ch->operators.count && k < MB_HUB_OPERATORS; k++)
		h.operators[k] = ch->operators.names[k];
	h.noperators = k;
	n = out->size < sizeof(h) ? out->size : sizeof(h);
	h.size = n;
	memcpy(out, &h, n);
	return 1;
}

/*
 * A hub's name in msisdn's language (NULL: the reply's), as render()
 * picks it; its names entry, else its name.  NULL for no such hub.
 */
const char *
host_hub_name(struct mb_ctx *ctx, const char *msisdn, const char *code)
{
	const struct conf_hub	*ch;
	const char		*name;
	char			*lang = NULL;
	int			 rc;

	if ((ch = conf_hub_find(ctx->core->conf, code)) == NULL)
		return NULL;
	if (msisdn != NULL)
		lang = host_user_language(ctx->core, msisdn, &rc);
	name = conf_hub_name(ch, lang != NULL ? lang : ctx->lang != NULL ?
	    ctx->lang : lang_default(ctx->core->langs));
	free(lang);
	return name;
}

const char *
host_market_hub(struct mb_ctx *ctx, const char *place)
{
	const struct conf_hub *ch = conf_hub_serving(ctx->core->conf, place);

	return ch != NULL ? ch->code : NULL;
}

/* conf_hub_route's hubs as their codes: pointers into the conf. */
long
host_route(struct mb_ctx *ctx, const char *from, const char *to,
    const char **out, size_t max)
{
	const struct conf_hub	*hubs[MB_ROUTE_MAX];
	long			 n, i;

	if (out == NULL)
		max = 0;
	n = conf_hub_route(ctx->core->conf, from, to, hubs,
	    max < MB_ROUTE_MAX ? max : MB_ROUTE_MAX);
	for (i = 0; i < n; i++)
		out[i] = hubs[i]->code;
	return n;
}
