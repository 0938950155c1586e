/*
 * test_render.c - render.c: placeholders, numbers written as each
 * language writes them, branches chosen by CLDR plural categories (ICU's
 * rules for en, sw, fr, zh), catalogue words agreeing with a number, and
 * the syntax check the language files pass at load.
 */
#include "config.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <criterion/criterion.h>
#include <criterion/parameterized.h>

#include "base/gw.h"
#include "text/lang.h"
#include "marketbox-plugin.h"
#include "text/render.h"

#define SHIPPED		TEST_SRCDIR "/../conf/lang"

static struct lang_set	*langs;

static void
setup(void)
{
	gwlib_init();
	log_set_output_level(GW_PANIC);
	langs = lang_load(SHIPPED, "en");
	cr_assert_not_null(langs);
}

static void
teardown(void)
{
	lang_free(langs);
	gwlib_shutdown();
}

TestSuite(render, .init = setup, .fini = teardown);

/* A catalogue of one unit, bag, and one commodity, tomatoes. */
static const char *
word(void *arg, const char *lang, const char *name, const char *value,
    const char *category)
{
	int	 many = category != NULL && strcmp(category, "one") != 0;

	(void)arg;
	if (strcmp(name, "unit") == 0 && strcmp(value, "bag") == 0) {
		if (strcmp(lang, "sw") == 0)
			return many ? "magunia" : "gunia";
		if (strcmp(lang, "fr") == 0)
			return many ? "sacs" : "sac";
		if (strcmp(lang, "zh") == 0)
			return "袋";
		return many ? "bags" : "bag";
	}
	if (strcmp(name, "commodity") == 0 && strcmp(value, "tomato") == 0)
		return strcmp(lang, "fr") == 0 ? "tomates" : "tomatoes";
	return NULL;
}

/* tmpl rendered in lang with the args name=value, name=value ... */
static char *
fill(const char *lang, const char *tmpl, ...)
{
	struct render_env	 env;
	struct mb_arg		 args[8];
	size_t			 n = 0;
	va_list			 ap;
	char			*s;

	va_start(ap, tmpl);
	while (n < 8 && (args[n].name = va_arg(ap, const char *)) != NULL) {
		args[n].value = va_arg(ap, const char *);
		n++;
	}
	va_end(ap);
	memset(&env, 0, sizeof(env));
	env.langs = langs;
	env.lang = lang;
	env.word = word;
	s = render(&env, tmpl, args, n);
	cr_assert_not_null(s);
	return s;
}

#define assert_fill(want, ...) do {					\
	char	*got_ = fill(__VA_ARGS__, NULL);			\
	cr_assert_str_eq(got_, want);					\
	free(got_);							\
} while (0)

Test(render, plain_placeholders_and_braces)
{
	assert_fill("Offer #41: ok", "en", "Offer #{ref}: {x}", "ref", "41",
	    "x", "ok");
	assert_fill("{ref} and { x", "en", "{{ref} and { x", "ref", "41");
	assert_fill("a  b", "en", "a {nothing} b");
	assert_fill("{ not a placeholder }", "en", "{ not a placeholder }");
}

Test(render, missing_values_are_counted)
{
	struct render_env	 env;
	struct mb_arg		 a = { "n", "5" };
	char			*s;

	memset(&env, 0, sizeof(env));
	s = render(&env, "{a} {n} {b, number} {n, plural, one {x} other {y}} "
	    "{u, count, c}", &a, 1);
	cr_assert_str_eq(s, " 5  y ");
	free(s);
	cr_assert_eq(env.missing, 3);
}

Test(render, numbers_as_each_language_writes_them)
{
	assert_fill("3,050 KES", "en", "{p, number} KES", "p", "3050");
	assert_fill("6 000 F", "fr", "{p, number} F", "p", "6000");
	assert_fill("2,50", "fr", "{p, number}", "p", "2.50");
	assert_fill("1,234,567.5", "sw", "{p, number}", "p", "1234567.5");
	assert_fill("-12,000", "zh", "{p, number}", "p", "-12000");
	assert_fill("999", "en", "{p, number}", "p", "999");
	assert_fill("abc", "en", "{p, number}", "p", "abc");
}

Test(render, render_number_cuts_and_copies)
{
	char	 out[6];

	cr_assert_eq(render_number("1000000", ",", ".", out, sizeof(out)), 5);
	cr_assert_str_eq(out, "1,000");
	cr_assert_eq(render_number("12.", ",", ".", out, sizeof(out)), 3);
	cr_assert_str_eq(out, "12.");
	cr_assert_eq(render_number(NULL, ",", ".", out, sizeof(out)), 0);
	cr_assert_str_eq(out, "");
}

/* Criterion runs each case in a process of its own: arrays, not pointers */
struct plural_case {
	char	 lang[4];
	char	 n[8];
	char	 want[32];
};

/* CLDR: en and sw one/other; fr one for 0 and 1; zh other only */
ParameterizedTestParameters(render, plural_categories)
{
	static struct plural_case cases[] = {
		{ "en", "0", "0 trades" }, { "en", "1", "1 trade" },
		{ "en", "2", "2 trades" }, { "en", "21", "21 trades" },
		{ "en", "1000", "1,000 trades" },
		{ "sw", "1", "biashara 1" }, { "sw", "5", "biashara 5" },
		{ "fr", "0", "0 vente" }, { "fr", "1", "1 vente" },
		{ "fr", "2", "2 ventes" }, { "fr", "1000", "1 000 ventes" },
		{ "zh", "1", "1笔" }, { "zh", "21", "21笔" },
	};

	return cr_make_param_array(struct plural_case, cases,
	    sizeof(cases) / sizeof(cases[0]));
}

ParameterizedTest(struct plural_case *c, render, plural_categories)
{
	static const char * const tmpl[] = {
		"en", "{n, plural, one {# trade} other {# trades}}",
		"sw", "biashara {n, number}",
		"fr", "{n, plural, one {# vente} other {# ventes}}",
		"zh", "{n, plural, other {#笔}}",
	};
	size_t	 i;

	for (i = 0; i < 8; i += 2)
		if (strcmp(tmpl[i], c->lang) == 0)
			assert_fill(c->want, c->lang, tmpl[i + 1], "n", c->n);
}

Test(render, exact_match_comes_first)
{
	const char	*t = "{n, plural, =0 {none left} one {# left} "
			    "other {# left}}";

	assert_fill("none left", "en", t, "n", "0");
	assert_fill("1 left", "en", t, "n", "1");
	assert_fill("7 left", "en", t, "n", "7");
}

Test(render, branches_hold_placeholders_and_references)
{
	const char	*t = "{n, plural, one {order #{ref}: # {unit, count, n}}"
			    " other {order #{ref}: # {unit, count, n}}}";

	assert_fill("order #41: 1 bag", "en", t, "n", "1", "ref", "41",
	    "unit", "bag");
	assert_fill("order #41: 10 bags", "en", t, "n", "10", "ref", "41",
	    "unit", "bag");
}

Test(render, catalogue_words_agree_with_their_number)
{
	assert_fill("10 bags", "en", "{qty} {unit, count, qty}", "qty", "10",
	    "unit", "bag");
	assert_fill("1 bag", "en", "{qty} {unit, count, qty}", "qty", "1",
	    "unit", "bag");
	assert_fill("magunia 10", "sw", "{unit, count, qty} {qty}", "qty",
	    "10", "unit", "bag");
	assert_fill("0 sac", "fr", "{qty} {unit, count, qty}", "qty", "0",
	    "unit", "bag");
	assert_fill("10袋", "zh", "{qty}{unit, count, qty}", "qty", "10",
	    "unit", "bag");
	/* plain {unit} is the name; a value no catalogue knows stays */
	assert_fill("bag/crate", "en", "{unit}/{x}", "unit", "bag", "x",
	    "crate");
}

Test(render, capital)
{
	assert_fill("Tomatoes, bag", "en", "{commodity, capital}, {unit}",
	    "commodity", "tomato", "unit", "bag");
	assert_fill("Élan", "fr", "{x, capital}", "x", "élan");
	assert_fill("玉米", "zh", "{x, capital}", "x", "玉米");
	assert_fill("", "en", "{x, capital}", "x", "");
}

struct bad_case {
	char	 tmpl[48];
	char	 why[48];
	size_t	 at;
};

ParameterizedTestParameters(render, check_refuses)
{
	static struct bad_case cases[] = {
		{ "x {n, plural, one {a}}", "a plural needs an 'other' branch",
		    2 },
		{ "{n, plural, one {a} other {b}", "'}' expected", 29 },
		{ "{n, plural, some {a} other {b}}", "not a plural category",
		    12 },
		{ "{n, plural, one a other {b}}", "a plural branch starts", 16 },
		{ "{n, plural, other {b", "a plural branch is not closed", 19 },
		{ "{n, plural, =x {b} other {c}}", "'=' needs a number", 12 },
		{ "{n, date}", "unknown format", 4 },
		{ "{u, count}", "count needs the number's name", 9 },
		{ "{u, number x}", "'}' expected", 11 },
		{ "{n, plural, other {{u, bogus}}}", "unknown format", 23 },
	};

	return cr_make_param_array(struct bad_case, cases,
	    sizeof(cases) / sizeof(cases[0]));
}

ParameterizedTest(struct bad_case *c, render, check_refuses)
{
	const char	*why = NULL;
	size_t		 at = 99;

	cr_assert_eq(render_check(c->tmpl, &why, &at), -1, "%s", c->tmpl);
	cr_assert_not_null(why);
	cr_assert(strncmp(why, c->why, strlen(c->why)) == 0,
	    "%s: '%s', not '%s'", c->tmpl, why, c->why);
	/* the offset points at the fault, for the log's excerpt */
	cr_assert_eq(at, c->at, "%s: at %zu", c->tmpl, at);
}

Test(render, check_accepts)
{
	static const char * const good[] = {
		"plain text", "{a} {b, number} {c, capital} {u, count, q}",
		"{n, plural, =0 {none} one {# x} other {# xs}}",
		"{{literal} {", "50% off } here",
		"{n,plural,one{#}other{#}}",
	};
	size_t	 i;

	for (i = 0; i < sizeof(good) / sizeof(good[0]); i++)
		cr_assert_eq(render_check(good[i], NULL, NULL), 0, "%s",
		    good[i]);
}

Test(render, unchecked_broken_template_shows_as_text)
{
	struct render_env	 env;
	char			*s;

	memset(&env, 0, sizeof(env));
	s = render(&env, "{n, plural, one {a}", NULL, 0);
	cr_assert_str_eq(s, "{n, plural, one {a}");
	free(s);
}
