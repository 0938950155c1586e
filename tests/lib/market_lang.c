/*
 * market_lang.c - the market plugin's tests' reading of the shipped
 * language files: a template rendered as a phone in a language reads it
 * (the catalogue's words in that language, every placeholder filled) and
 * checked to be one SMS; and what the plugin sent, collected for those
 * checks.  Shared by test_market, test_market_pool, test_market_pool_order
 * and test_market_tier, whose tours collect what the plugin sends.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <criterion/criterion.h>

#include "base/gw.h"
#include "base/conf.h"
#include "text/gsm.h"
#include "text/lang.h"
#include "text/render.h"
#include "marketbox-plugin.h"

#include "market_lang.h"
#include "plugin_mock.h"

struct lang_set		*market_lang_shipped;
struct market_seen	*market_seen;
size_t			 market_nseen;
static struct conf	*catalogue;

void
market_lang_collect(struct mock *m)
{
	size_t	 i, j;

	for (i = 0; i < mock_nsent(m); i++) {
		const struct mock_msg	*s = mock_sent(m, i);
		struct market_seen	*n;

		n = realloc(market_seen, (market_nseen + 1) *
		    sizeof(*market_seen));
		cr_assert_not_null(n);
		market_seen = n;
		n = &market_seen[market_nseen++];
		n->tmpl = strdup(s->tmpl);
		n->nargs = s->nargs;
		n->args = calloc(s->nargs + 1, sizeof(*n->args));
		cr_assert(n->tmpl && n->args);
		for (j = 0; j < s->nargs; j++) {
			n->args[j].name = strdup(s->names[j]);
			n->args[j].value = strdup(s->values[j]);
		}
	}
}

size_t
market_lang_find(struct mock *m, const char *tmpl)
{
	size_t	 i;

	for (i = 0; i < mock_nsent(m); i++)
		if (strcmp(mock_sent(m, i)->tmpl, tmpl) == 0)
			return i;
	cr_assert_fail("no %s among %zu messages", tmpl, mock_nsent(m));
	return 0;
}

void
market_lang_seen_free(void)
{
	size_t	 i, j;

	for (i = 0; i < market_nseen; i++) {
		for (j = 0; j < market_seen[i].nargs; j++) {
			free((char *)market_seen[i].args[j].name);
			free((char *)market_seen[i].args[j].value);
		}
		free(market_seen[i].args);
		free(market_seen[i].tmpl);
	}
	free(market_seen);
	market_seen = NULL;
	market_nseen = 0;
}

void
market_lang_open(void)
{
	gwlib_init();
	log_set_output_level(GW_PANIC);
	market_lang_shipped = lang_load(TEST_SRCDIR "/../conf/lang", "en");
	cr_assert_not_null(market_lang_shipped);
	catalogue = conf_load(TEST_SRCDIR "/../conf/marketbox.conf");
	cr_assert_not_null(catalogue, "the shipped conf does not load");
}

void
market_lang_close(void)
{
	lang_free(market_lang_shipped);
	conf_free(catalogue);
	gwlib_shutdown();
}

/* The shipped catalogue's words, as the host gives them to render(). */
static const char *
catalogue_word(void *arg, const char *lang, const char *name,
    const char *value, const char *category)
{
	const struct conf_commodity	*k;
	const struct conf_unit		*u;

	(void)arg;
	if (strcmp(name, "commodity") == 0 &&
	    (k = conf_commodity_find(catalogue, value)) != NULL)
		return conf_form_for(&k->names, &k->forms, lang, category);
	if (strcmp(name, "unit") == 0 &&
	    (u = conf_unit_find(catalogue, value)) != NULL)
		return conf_form_for(&u->names, &u->forms, lang, category);
	return NULL;
}

static char	*real_text(const char *lang, const char *value,
		    size_t *missing);

/*
 * Template tmpl of lang filled with args, as the host renders it: the
 * shipped files, the shipped catalogue.  Adds the placeholders left
 * without a value to *missing.  Typical names of the reader's language
 * stand for the mock's.
 */
static char *
real_render(const char *lang, const char *tmpl, struct mb_arg *args,
    size_t n, size_t *missing)
{
	struct render_env	 env;
	const char		*t = lang_template(market_lang_shipped, lang, tmpl);
	char			*s;
	size_t			 i;

	cr_assert_not_null(t, "%s lacks %s", lang, tmpl);
	/* names as people of the language have them */
	for (i = 0; i < n; i++)
		if (strcmp(args[i].name, "name") == 0 &&
		    strcmp(args[i].value, "Wanjiru") == 0)
			args[i].value = strcmp(lang, "zh") == 0 ? "王芳" :
			    "Mary Wanjiku";
		else if ((strcmp(args[i].name, "name") == 0 ||
		    strcmp(args[i].name, "buyer") == 0) &&
		    strcmp(args[i].value, "Otieno") == 0)
			args[i].value = strcmp(lang, "zh") == 0 ? "李明" :
			    "John Otieno";
		else if (strcmp(args[i].name, "point") == 0 &&
		    strcmp(args[i].value, "Nakuru") == 0)
			args[i].value = strcmp(lang, "zh") == 0 ? "纳库鲁" :
			    "Kiambogo point";
	memset(&env, 0, sizeof(env));
	env.langs = market_lang_shipped;
	env.lang = lang;
	env.word = catalogue_word;
	s = render(&env, t, args, n);
	cr_assert_not_null(s);
	*missing += env.missing;
	return s;
}

/* The end of a value that starts at p, in "name=value,..." of the mock. */
static const char *
value_end(const char *p)
{
	int	 depth = 0;

	for (; *p != '\0'; p++) {
		if (*p == '(')
			depth++;
		else if (*p == ')' && depth-- == 0)
			return p;
		else if (*p == ',' && depth == 0)
			return p;
	}
	return p;
}

/*
 * value with every "market-x(name=value,...)" the mock's render() wrote
 * into it (list items, states) rendered for real in lang.
 */
static char *
real_text(const char *lang, const char *value, size_t *missing)
{
	char		*out, tmpl[64];
	size_t		 len;
	FILE		*f = open_memstream(&out, &len);
	const char	*p = value, *q;

	cr_assert_not_null(f);
	while (*p != '\0') {
		size_t	 n = strspn(p, "abcdefghijklmnopqrstuvwxyz-");

		if (strncmp(p, "market-", 7) != 0 || p[n] != '(' ||
		    n >= sizeof(tmpl)) {
			fputc(*p++, f);
			continue;
		}
		{
			struct mb_arg	 args[MARKET_MAX_ARGS_TEST];
			char		*vals[MARKET_MAX_ARGS_TEST];
			char		*names[MARKET_MAX_ARGS_TEST], *s;
			size_t		 k = 0, i;

			memcpy(tmpl, p, n);
			tmpl[n] = '\0';
			p += n + 1;
			while (*p != '\0' && *p != ')') {
				const char	*eq = strchr(p, '=');
				char		*raw;

				cr_assert_not_null(eq);
				cr_assert_lt(k, MARKET_MAX_ARGS_TEST);
				q = value_end(eq + 1);
				names[k] = strndup(p, (size_t)(eq - p));
				raw = strndup(eq + 1, (size_t)(q - eq - 1));
				vals[k] = real_text(lang, raw, missing);
				free(raw);
				args[k].name = names[k];
				args[k].value = vals[k];
				k++;
				p = *q == ',' ? q + 1 : q;
			}
			if (*p == ')')
				p++;
			s = real_render(lang, tmpl, args, k, missing);
			fputs(s, f);
			free(s);
			for (i = 0; i < k; i++) {
				free(names[i]);
				free(vals[i]);
			}
		}
	}
	fclose(f);
	return out;
}

/*
 * One message as a phone in lang reads it: one SMS (7-bit GSM in
 * English and Kiswahili, which need no other characters; in French a
 * commodity's name may make it UCS-2, then 70 characters, or folded to
 * GSM as the outbox does when that saves an SMS), and every placeholder
 * filled.
 */
void
market_lang_assert_reads(const char *lang, const char *tmpl,
    const struct mb_arg *sargs, size_t nargs, const char *number_name,
    const char *number)
{
	struct mb_arg		 args[MARKET_MAX_ARGS_TEST];
	char			*vals[MARKET_MAX_ARGS_TEST], *r, *folded;
	struct gsm_measure	 gm;
	size_t			 k, missing = 0;

	cr_assert_leq(nargs, MARKET_MAX_ARGS_TEST);
	for (k = 0; k < nargs; k++) {
		args[k].name = sargs[k].name;
		vals[k] = number_name != NULL &&
		    strcmp(args[k].name, number_name) == 0 ? strdup(number) :
		    real_text(lang, sargs[k].value, &missing);
		args[k].value = vals[k];
	}
	r = real_render(lang, tmpl, args, nargs, &missing);
	cr_assert_eq(missing, 0, "%s %s: a placeholder without a value: %s",
	    lang, tmpl, r);
	/* as it leaves: accents GSM lacks folded when that saves an SMS */
	if ((folded = gsm_fold(r, strlen(r))) != NULL) {
		free(r);
		r = folded;
	}
	gsm_measure(r, strlen(r), &gm);
	if (strcmp(lang, "en") == 0 || strcmp(lang, "sw") == 0)
		cr_assert_eq(gm.coding, GSM_CODING_7BIT, "%s %s not GSM: %s",
		    lang, tmpl, r);
	cr_assert_eq(gm.parts, 1, "%s %s (%s=%s): %zu units: %s", lang, tmpl,
	    number_name ? number_name : "-", number ? number : "-",
	    gm.units, r);
	cr_assert_null(strstr(r, "market-"), "%s %s: %s", lang, tmpl, r);
	free(r);
	for (k = 0; k < nargs; k++)
		free(vals[k]);
}

char *
market_lang_render(const char *lang, const char *tmpl,
    const struct mb_arg *sargs, size_t n)
{
	struct mb_arg	 args[MARKET_MAX_ARGS_TEST];
	char		*r;
	size_t		 missing = 0;

	cr_assert_leq(n, MARKET_MAX_ARGS_TEST);
	memcpy(args, sargs, n * sizeof(*args));
	r = real_render(lang, tmpl, args, n, &missing);
	cr_assert_eq(missing, 0, "%s %s: a placeholder without a value: %s",
	    lang, tmpl, r);
	return r;
}

/*
 * A text the mock's render() wrote ("market-x(name=value,...)", nested)
 * as a phone in lang reads it, malloc'd: for a mock's sms_parts that
 * measures what would really be sent (mock_sms_parts).
 */
char *
market_lang_real(const char *lang, const char *text)
{
	size_t	 missing = 0;

	return real_text(lang, text, &missing);
}

size_t
market_lang_real_parts(const char *lang, const char *text)
{
	char	*r, *folded;
	size_t	 n;

	r = market_lang_real(lang, text);
	cr_assert_not_null(r);
	/* what the SMSC sends: GSM 03.38 where the text folds into it */
	if ((folded = gsm_fold(r, strlen(r))) != NULL) {
		free(r);
		r = folded;
	}
	n = gsm_sent_parts(r, strlen(r));
	free(r);
	return n;
}
