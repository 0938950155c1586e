/*
 * catalogue.c - the catalogue's words and phone numbers as people type
 * them: a commodity, unit or market named in any language or by an alias
 * (normalised by words.c, so "Mahindi" and "mahindi" are one), the
 * nearest known word for a typo, and a local or international number
 * made the one form the tables keep.  The host's table (host.c) answers
 * plugins from here; the conf is read once, at load and on reload.
 */
#include "config.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/gw.h"

#include "base/conf.h"
#include "plugin/core.h"
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

/* --- phone numbers --------------------------------------------------------- */

int
msisdn_normalise(const char *country_code, const char *typed, char *out,
    size_t outlen)
{
	char		 digits[24];
	size_t		 n = 0;
	int		 plus = 0;
	const char	*p;

	if (typed == NULL)
		return -1;
	for (p = typed; *p != '\0'; p++) {
		if (*p == '+' && n == 0 && !plus)
			plus = 1;
		else if (isdigit((unsigned char)*p)) {
			if (n + 1 >= sizeof(digits))
				return -1;
			digits[n++] = *p;
		} else if (*p != ' ' && *p != '-' && *p != '.' && *p != '(' &&
		    *p != ')')
			return -1;
	}
	digits[n] = '\0';
	if (!plus && n > 2 && digits[0] == '0' && digits[1] == '0') {
		/* 00 international prefix */
		memmove(digits, digits + 2, n - 1);
		n -= 2;
		plus = 1;
	}
	if (plus) {
		if (n < 7 || n > 15)
			return -1;
		return snprintf(out, outlen, "+%s", digits) < (int)outlen ? 0 : -1;
	}
	if (country_code != NULL && n >= 9 && digits[0] == '0' &&
	    n - 1 + strlen(country_code) <= 15)
		return snprintf(out, outlen, "+%s%s", country_code, digits + 1) <
		    (int)outlen ? 0 : -1;
	if (country_code != NULL && n > strlen(country_code) + 6 && n <= 15 &&
	    strncmp(digits, country_code, strlen(country_code)) == 0)
		return snprintf(out, outlen, "+%s", digits) < (int)outlen ? 0 : -1;
	if (country_code != NULL && n == 9 && digits[0] != '0')
		return snprintf(out, outlen, "+%s%s", country_code, digits) <
		    (int)outlen ? 0 : -1;
	if (n >= 10 && n <= 15)
		return snprintf(out, outlen, "+%s", digits) < (int)outlen ? 0 : -1;
	return -1;
}
