/*
 * test_ctl.c - marketctl's checks of what it is given, before it reads or
 * asks anything: phones made international as the daemon makes them (a
 * local number without country-code a usage error), values from a set
 * (an unknown one a usage error listing the allowed), a broadcast's
 * texts (TEXT, or --text LANG=TEXT for each language of the conf) made
 * into the admin's form.  Which reader gets which text is the daemon's
 * (test_admin's admin_broadcast::each_reader_gets_her_language_or_the_
 * default).
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <criterion/criterion.h>

#include "base/gw.h"
#include "base/conf.h"
#include "ctl/ctl.h"

static struct conf	 t_conf;
static struct ctl	 t_ctl;

static void
t_setup(void)
{
	gwlib_init();
	log_set_output_level(GW_WARNING);
	memset(&t_conf, 0, sizeof(t_conf));
	memset(&t_ctl, 0, sizeof(t_ctl));
	t_conf.country_code = strdup("254");
	t_conf.language_dir = strdup(TEST_SRCDIR "/../conf/lang");
	t_conf.default_language = strdup("en");
	t_ctl.conf = &t_conf;
}

static void
t_teardown(void)
{
	free(t_conf.country_code);
	free(t_conf.language_dir);
	free(t_conf.default_language);
	gwlib_shutdown();
}

TestSuite(ctl, .init = t_setup, .fini = t_teardown);

Test(ctl, phones_are_made_international_with_the_country_code)
{
	char	 out[32];

	cr_assert_eq(ctl_phone(&t_ctl, "--to", "0722000111", out,
	    sizeof(out)), 0);
	cr_assert_str_eq(out, "+254722000111");
	cr_assert_eq(ctl_phone(&t_ctl, "--to", "0722 000 111", out,
	    sizeof(out)), 0);
	cr_assert_str_eq(out, "+254722000111");
	cr_assert_eq(ctl_phone(&t_ctl, "--to", "254722000111", out,
	    sizeof(out)), 0);
	cr_assert_str_eq(out, "+254722000111");
	cr_assert_eq(ctl_phone(&t_ctl, "--to", "+256772000111", out,
	    sizeof(out)), 0);
	cr_assert_str_eq(out, "+256772000111");
	cr_assert_eq(ctl_phone(&t_ctl, "--to", "mary", out, sizeof(out)), 2);
}

Test(ctl, a_local_number_without_country_code_is_a_usage_error)
{
	char	 out[32];

	free(t_conf.country_code);
	t_conf.country_code = NULL;
	cr_assert_eq(ctl_phone(&t_ctl, "--to", "0722000111", out,
	    sizeof(out)), 2);
	/* international ones need none */
	cr_assert_eq(ctl_phone(&t_ctl, "--to", "+254722000111", out,
	    sizeof(out)), 0);
	cr_assert_str_eq(out, "+254722000111");
	cr_assert_eq(ctl_phone(&t_ctl, "--to", "00254722000111", out,
	    sizeof(out)), 0);
	cr_assert_str_eq(out, "+254722000111");
	/* nor without a conf (-d alone) */
	t_ctl.conf = NULL;
	cr_assert_eq(ctl_phone(&t_ctl, "PHONE", "0722000111", out,
	    sizeof(out)), 2);
}

Test(ctl, values_outside_their_set_are_usage_errors)
{
	static const char *const set[] = { "queued", "failed" };

	cr_assert_eq(ctl_choice("--state", "failed", set, 2), 0);
	cr_assert_eq(ctl_choice("--state", "sent", set, 2), 2);
	cr_assert_eq(ctl_choice("--state", "FAILED", set, 2), 2);
	cr_assert_eq(ctl_language(&t_ctl, "--language", "sw"), 0);
	cr_assert_eq(ctl_language(&t_ctl, "--language", ""), 0);
	cr_assert_eq(ctl_language(&t_ctl, "--language", "xx"), 2);
}

/* The form of args (texts and words), or NULL on a usage error. */
static const char *
t_texts(int ntexts, const char *const *texts, int argc, char **argv)
{
	static char		 form[4096];
	struct ctl_args		 a;
	int			 i;

	memset(&a, 0, sizeof(a));
	for (i = 0; i < ntexts; i++)
		a.texts[i] = texts[i];
	a.ntexts = ntexts;
	a.argc = argc;
	a.argv = argv;
	form[0] = '\0';
	return ctl_broadcast_texts(&t_ctl, &a, form, sizeof(form)) == 0 ?
	    form : NULL;
}

Test(ctl, broadcast_texts_one_or_one_a_language)
{
	static const char *const two[] = { "en=Market closed Monday",
	    "sw=Soko limefungwa Jumatatu" };
	static const char *const twice[] = { "en=a", "en=b" };
	static const char *const bad[] = { "Market closed" };
	static const char *const unknown[] = { "xx=hello" };
	static const char *const empty[] = { "en=" };
	static const char *const eq[] = { "en=Price=3000" };
	char		 word[] = "Market closed";
	char		*one[] = { word };
	const char	*form;

	form = t_texts(0, NULL, 1, one);
	cr_assert_str_eq(form, "text=Market%20closed");
	form = t_texts(2, two, 0, NULL);
	cr_assert_str_eq(form, "text-en=Market%20closed%20Monday&"
	    "text-sw=Soko%20limefungwa%20Jumatatu");
	/* the text after the first '=' is the text, '=' and all */
	form = t_texts(1, eq, 0, NULL);
	cr_assert_str_eq(form, "text-en=Price%3D3000");
	cr_assert_null(t_texts(2, twice, 0, NULL), "two texts for en");
	cr_assert_null(t_texts(1, bad, 0, NULL), "--text without LANG=");
	cr_assert_null(t_texts(1, unknown, 0, NULL), "a language the conf "
	    "has no file of");
	cr_assert_null(t_texts(1, empty, 0, NULL), "an empty text");
	cr_assert_null(t_texts(2, two, 1, one), "TEXT and --text");
	cr_assert_null(t_texts(0, NULL, 0, NULL), "no text");
}
