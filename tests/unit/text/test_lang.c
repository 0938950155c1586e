/*
 * test_lang.c - lang.c: the shipped language files are complete and every
 * reply fits one SMS; keyword and template lookups; rendering; and every
 * kind of bad language directory refused (never exiting) with the file and
 * line in the log.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <criterion/criterion.h>

#include "base/gw.h"
#include "text/gsm.h"
#include "text/lang.h"
#include "marketbox-plugin.h"

#define SHIPPED		TEST_SRCDIR "/../conf/lang"
#define DATA		TEST_SRCDIR "/data"

static char	logpath[] = "/tmp/test_lang_log_XXXXXX";

static void
setup(void)
{
	int	 fd;

	gwlib_init();
	log_set_output_level(GW_PANIC);
	fd = mkstemp(logpath);
	cr_assert(fd != -1);
	close(fd);
	cr_assert(log_open(logpath, GW_DEBUG, GW_NON_EXCL) != -1);
}

static void
teardown(void)
{
	gwlib_shutdown();
	unlink(logpath);
}

/* Everything logged so far, as one string (caller frees). */
static char *
logged(void)
{
	FILE	*fp = fopen(logpath, "r");
	char	*buf = calloc(1, 262144);
	size_t	 n;

	cr_assert(fp != NULL && buf != NULL);
	n = fread(buf, 1, 262143, fp);
	buf[n] = '\0';
	fclose(fp);
	return buf;
}

static size_t
count(const char *hay, const char *needle)
{
	size_t		 n = 0;
	const char	*p = hay;

	while ((p = strstr(p, needle)) != NULL) {
		n++;
		p += strlen(needle);
	}
	return n;
}

static void
assert_logged(const char *needle)
{
	char	*log = logged();

	cr_assert(strstr(log, needle) != NULL, "log lacks '%s':\n%s", needle,
	    log);
	free(log);
}

static void
assert_refused(const char *dir, const char *def, const char *needle)
{
	struct lang_set	*set = lang_load(dir, def);

	cr_assert_null(set, "%s was accepted", dir);
	assert_logged(needle);
}

/* dir/en.conf is refused, and the log has it at each of why's n lines. */
static void
assert_refused_at(const char *dir, const char *const *why, size_t n)
{
	char	 want[512];
	size_t	 i;

	assert_refused(dir, "en", "cannot use these language files");
	for (i = 0; i < n; i++) {
		snprintf(want, sizeof(want), "%s/en.conf%s", dir, why[i]);
		assert_logged(want);
	}
}

TestSuite(lang, .init = setup, .fini = teardown);

/* --- the shipped files ---------------------------------------------------- */

static const char *commands[] = {
	"REG", "HELP", "LANG", "STOP", "START", "ME", "ECHO", "SELL", "WANT",
	"BUY", "ACCEPT", "REJECT", "SENT", "DELIVERED", "CANCEL", "MY",
	"PRICE", "REPORT", "ALERT",
	"OFFER"		/* market_pool_order.c */
};
#define NCOMMANDS	(sizeof(commands) / sizeof(commands[0]))

static const char *templates[] = {
	"unknown", "unknown-suggest", "empty", "help", "reg-ok", "reg-updated",
	"reg-unknown-market", "lang-ok", "lang-unknown", "stop-ok", "start-ok",
	"me", "me-unregistered", "need-reg", "not-allowed", "slow-down",
	"unavailable", "error", "echo", "role-farmer", "role-buyer",
	"role-transporter", "role-agent", "role-admin", "role-user"
};
#define NTEMPLATES	(sizeof(templates) / sizeof(templates[0]))

static const char *shipped_codes[] = { "en", "fr", "sw", "zh" };

/* Typical values for every placeholder the shipped templates use. */
static const struct mb_arg sample[] = {
	{ "name", "Mary Wanjiku" },
	{ "market", "Nakuru" },
	{ "markets", "nakuru, eldoret, kisumu, wakulima" },
	{ "word", "mahindi" },
	{ "suggestion", "SELL" },
	{ "language", "Kiswahili" },
	{ "code", "de" },
	{ "codes", "en, fr, sw, zh" },
	{ "roles", "farmer, buyer" },
	{ "trades", "12" },
	{ "command", "SELL" },
	{ "text", "hello there" },
};
#define NSAMPLE		(sizeof(sample) / sizeof(sample[0]))

Test(lang, shipped_files_load_without_fallbacks)
{
	struct lang_set		*set = lang_load(SHIPPED, "en");
	const char * const	*codes;
	size_t			 n, i;
	char			*log;

	cr_assert_not_null(set);
	codes = lang_codes(set, &n);
	cr_assert_eq(n, 4);
	for (i = 0; i < n; i++)
		cr_assert_str_eq(codes[i], shipped_codes[i]);
	cr_assert_str_eq(lang_default(set), "en");
	cr_assert_str_eq(lang_name(set, "en"), "English");
	cr_assert_str_eq(lang_name(set, "sw"), "Kiswahili");
	cr_assert_str_eq(lang_name(set, "fr"), "Francais");
	cr_assert_str_eq(lang_name(set, "zh"), "中文");
	cr_assert_null(lang_name(set, "de"));
	cr_assert_eq(lang_exists(set, "sw"), 1);
	cr_assert_eq(lang_exists(set, "de"), 0);
	cr_assert_eq(lang_exists(set, NULL), 0);
	log = logged();
	cr_assert_eq(count(log, "lacks"), 0, "a shipped file falls back:\n%s",
	    log);
	cr_assert_eq(count(log, "ERROR"), 0, "%s", log);
	free(log);
	lang_free(set);
}

Test(lang, shipped_languages_have_every_command)
{
	struct lang_set	*set = lang_load(SHIPPED, "en");
	size_t		 l, c;

	cr_assert_not_null(set);
	for (l = 0; l < 4; l++)
		for (c = 0; c < NCOMMANDS; c++) {
			const char	*code = shipped_codes[l];
			const char	*word, *found = NULL, *cmd;

			word = lang_command_word(set, code, commands[c]);
			cr_assert_not_null(word, "%s lacks %s", code,
			    commands[c]);
			cmd = lang_keyword(set, word, code, &found);
			cr_assert_not_null(cmd, "%s: '%s'", code, word);
			cr_assert_str_eq(cmd, commands[c], "%s: '%s' is %s",
			    code, word, cmd);
			cr_assert_str_eq(found, code);
		}
	lang_free(set);
}

/* Every shipped template rendered with typical values fits one SMS. */
static void
assert_fits(const char *code, const char *name, const char *tmpl)
{
	struct gsm_measure	 m;
	char			*s;

	s = lang_render(tmpl, sample, NSAMPLE);
	cr_assert_not_null(s);
	gsm_measure(s, strlen(s), &m);
	if (strcmp(code, "zh") == 0) {
		cr_assert_leq(m.units, GSM_UCS2_SINGLE,
		    "zh %s: %zu UCS-2 units: %s", name, m.units, s);
	} else {
		cr_assert_eq(m.coding, GSM_CODING_7BIT,
		    "%s %s is not 7-bit GSM: %s", code, name, s);
		cr_assert_leq(m.units, GSM_SEPTETS_SINGLE,
		    "%s %s: %zu septets: %s", code, name, m.units, s);
	}
	cr_assert_eq(m.parts, 1);
	free(s);
}

Test(lang, shipped_templates_are_complete_and_fit_one_sms)
{
	struct lang_set	*set = lang_load(SHIPPED, "en");
	size_t		 l, i, c;
	char		 name[64];

	cr_assert_not_null(set);
	for (l = 0; l < 4; l++) {
		const char	*code = shipped_codes[l];

		for (i = 0; i < NTEMPLATES + 2 * NCOMMANDS; i++) {
			const char	*t, *en;

			if (i < NTEMPLATES)
				snprintf(name, sizeof(name), "%s",
				    templates[i]);
			else if ((c = i - NTEMPLATES) < NCOMMANDS)
				snprintf(name, sizeof(name), "help-%s",
				    commands[c]);
			else
				snprintf(name, sizeof(name), "usage-%s",
				    commands[c - NCOMMANDS]);
			t = lang_template(set, code, name);
			en = lang_template(set, "en", name);
			cr_assert_not_null(en, "en lacks %s", name);
			cr_assert_not_null(t, "%s lacks %s", code, name);
			/* its own text, not the default's */
			if (strcmp(code, "en") != 0)
				cr_assert(t != en, "%s falls back for %s",
				    code, name);
			assert_fits(code, name, t);
		}
	}
	/* the integration tests expect this exact English text */
	cr_assert_str_eq(lang_template(set, "en", "echo"), "You said: {text}");
	lang_free(set);
}

Test(lang, keyword_in_own_and_other_languages)
{
	struct lang_set	*set = lang_load(SHIPPED, "en");
	const char	*found = "x";

	cr_assert_not_null(set);
	/* own language */
	cr_assert_str_eq(lang_keyword(set, "uza", "sw", &found), "SELL");
	cr_assert_str_eq(found, "sw");
	cr_assert_str_eq(lang_keyword(set, "nataka", "sw", &found), "WANT");
	cr_assert_str_eq(found, "sw");
	cr_assert_str_eq(lang_keyword(set, "whoami", "en", &found), "ME");
	cr_assert_str_eq(found, "en");
	/* another language's word */
	cr_assert_str_eq(lang_keyword(set, "sell", "sw", &found), "SELL");
	cr_assert_str_eq(found, "en");
	cr_assert_str_eq(lang_keyword(set, "bei", "en", &found), "PRICE");
	cr_assert_str_eq(found, "sw");
	cr_assert_str_eq(lang_keyword(set, "卖", "en", &found), "SELL");
	cr_assert_str_eq(found, "zh");
	cr_assert_str_eq(lang_keyword(set, "我的", "sw", &found), "MY");
	cr_assert_str_eq(found, "zh");
	/* both spellings, accented words lowercase */
	cr_assert_str_eq(lang_keyword(set, "envoyé", "en", &found), "SENT");
	cr_assert_str_eq(found, "fr");
	cr_assert_str_eq(lang_keyword(set, "envoye", "en", &found), "SENT");
	cr_assert_str_eq(lang_keyword(set, "arrêt", NULL, &found), "STOP");
	cr_assert_str_eq(found, "fr");
	cr_assert_str_eq(lang_keyword(set, "livré", "fr", &found),
	    "DELIVERED");
	/* a word of two languages: the preferred, else the first code */
	cr_assert_str_eq(lang_keyword(set, "echo", "fr", &found), "ECHO");
	cr_assert_str_eq(found, "fr");
	cr_assert_str_eq(lang_keyword(set, "echo", "sw", &found), "ECHO");
	cr_assert_str_eq(found, "en");
	cr_assert_str_eq(lang_keyword(set, "echo", "de", &found), "ECHO");
	cr_assert_str_eq(found, "en");
	/* found may be NULL */
	cr_assert_str_eq(lang_keyword(set, "taka", "sw", NULL), "WANT");
	/* not a word: NULL, and found cleared */
	cr_assert_null(lang_keyword(set, "maize", "en", &found));
	cr_assert_null(found);
	cr_assert_null(lang_keyword(set, "SELL", "en", NULL),
	    "words are looked up normalised (lowercase)");
	cr_assert_null(lang_keyword(set, "", "en", NULL));
	cr_assert_null(lang_keyword(set, NULL, "en", NULL));
	cr_assert_null(lang_keyword(NULL, "sell", "en", NULL));
	lang_free(set);
}

Test(lang, command_word)
{
	struct lang_set	*set = lang_load(SHIPPED, "en");

	cr_assert_not_null(set);
	cr_assert_str_eq(lang_command_word(set, "sw", "SELL"), "uza");
	cr_assert_str_eq(lang_command_word(set, "sw", "REG"), "sajili");
	cr_assert_str_eq(lang_command_word(set, "sw", "WANT"), "taka");
	cr_assert_str_eq(lang_command_word(set, "fr", "SENT"), "envoye");
	cr_assert_str_eq(lang_command_word(set, "zh", "SENT"), "已发货");
	cr_assert_str_eq(lang_command_word(set, "en", "BUY"), "buy");
	/* unknown language: the default's */
	cr_assert_str_eq(lang_command_word(set, "de", "SELL"), "sell");
	cr_assert_str_eq(lang_command_word(set, NULL, "SELL"), "sell");
	cr_assert_null(lang_command_word(set, "sw", "NOSUCH"));
	cr_assert_null(lang_command_word(set, "sw", NULL));
	lang_free(set);
}

struct each {
	size_t		 n;
	size_t		 stop;		/* stop after this many; 0: never */
	int		 saw_buy_order;
};

static int
each_cb(void *arg, const char *word, const char *command)
{
	struct each	*e = arg;

	e->n++;
	if (strcmp(word, "order") == 0 && strcmp(command, "BUY") == 0)
		e->saw_buy_order = 1;
	return e->stop != 0 && e->n == e->stop;
}

Test(lang, each_word)
{
	struct lang_set	*set = lang_load(SHIPPED, "en");
	struct each	 e;

	cr_assert_not_null(set);
	memset(&e, 0, sizeof(e));
	lang_each_word(set, "en", each_cb, &e);
	/* 37 with the pools' words, and OFFER; PROBLEM's two; INFO and
	   RATE's three; IN, OUT and PICKUP's four; PAID and RECEIVED's
	   two ("received" moved from DELIVERED, which has "arrived") */
	cr_assert_eq(e.n, 49, "en words: %zu", e.n);
	cr_assert_eq(e.saw_buy_order, 1);
	memset(&e, 0, sizeof(e));
	lang_each_word(set, "zh", each_cb, &e);
	/* 33, OFFER, PROBLEM's two, INFO and RATE's four, IN, OUT,
	   PICKUP, PAID, RECEIVED */
	cr_assert_eq(e.n, 45, "zh words: %zu", e.n);
	memset(&e, 0, sizeof(e));
	e.stop = 3;
	lang_each_word(set, "sw", each_cb, &e);
	cr_assert_eq(e.n, 3, "fn returning non-zero stops the walk");
	memset(&e, 0, sizeof(e));
	lang_each_word(set, "de", each_cb, &e);
	cr_assert_eq(e.n, 0);
	lang_free(set);
}

struct each_tmpl {
	const struct lang_set	*set;
	const char		*lang;
	size_t			 n;
	size_t			 stop;		/* stop after this many; 0: never */
	char			 names[8][32];
	int			 texts_match;	/* each text is lang_template's */
};

static int
each_tmpl_cb(void *arg, const char *name, const char *text)
{
	struct each_tmpl	*e = arg;

	if (e->n < 8)
		snprintf(e->names[e->n], sizeof(e->names[0]), "%s", name);
	if (lang_template(e->set, e->lang, name) != text)
		e->texts_match = 0;
	e->n++;
	return e->stop != 0 && e->n == e->stop;
}

Test(lang, each_template_is_the_language_s_own)
{
	struct lang_set		*set = lang_load(DATA "/lang-fallback", "en");
	struct each_tmpl	 e;

	cr_assert_not_null(set);
	memset(&e, 0, sizeof(e));
	e.set = set;
	e.lang = "yy";
	e.texts_match = 1;
	lang_each_own_template(set, "yy", each_tmpl_cb, &e);
	cr_assert_eq(e.n, 4);
	/* in name order, without regard to case */
	cr_assert_str_eq(e.names[0], "echo");
	cr_assert_str_eq(e.names[1], "error");
	cr_assert_str_eq(e.names[2], "HELP");
	cr_assert_str_eq(e.names[3], "yonly");
	cr_assert(e.texts_match);
	/* xx falls back for error and help: those are not xx's */
	memset(&e, 0, sizeof(e));
	e.set = set;
	e.lang = "xx";
	e.texts_match = 1;
	lang_each_own_template(set, "xx", each_tmpl_cb, &e);
	cr_assert_eq(e.n, 1);
	cr_assert_str_eq(e.names[0], "echo");
	cr_assert(e.texts_match);
	/* fn returning non-zero stops the walk */
	memset(&e, 0, sizeof(e));
	e.set = set;
	e.lang = "yy";
	e.stop = 2;
	lang_each_own_template(set, "yy", each_tmpl_cb, &e);
	cr_assert_eq(e.n, 2);
	/* an unknown language, no set, no function: nothing */
	memset(&e, 0, sizeof(e));
	lang_each_own_template(set, "de", each_tmpl_cb, &e);
	lang_each_own_template(NULL, "en", each_tmpl_cb, &e);
	lang_each_own_template(set, NULL, each_tmpl_cb, &e);
	lang_each_own_template(set, "en", NULL, &e);
	cr_assert_eq(e.n, 0);
	lang_free(set);
}

Test(lang, template_lookup)
{
	struct lang_set	*set = lang_load(SHIPPED, "en");

	cr_assert_not_null(set);
	cr_assert_str_eq(lang_template(set, "sw", "echo"), "Umesema: {text}");
	/* names are matched without regard to ASCII case */
	cr_assert_eq(lang_template(set, "en", "usage-sell"),
	    lang_template(set, "en", "usage-SELL"));
	cr_assert_eq(lang_template(set, "sw", "HELP-sell"),
	    lang_template(set, "sw", "help-SELL"));
	/* unknown language: the default's */
	cr_assert_eq(lang_template(set, "de", "echo"),
	    lang_template(set, "en", "echo"));
	cr_assert_null(lang_template(set, "en", "no-such-template"));
	cr_assert_null(lang_template(set, "en", NULL));
	cr_assert_null(lang_template(NULL, "en", "echo"));
	lang_free(set);
}

/* --- rendering ---------------------------------------------------------------- */

static void
assert_render(const char *tmpl, const struct mb_arg *args, size_t nargs,
    const char *want)
{
	char	*s = lang_render(tmpl, args, nargs);

	cr_assert_not_null(s);
	cr_assert_str_eq(s, want, "'%s' gave '%s'", tmpl, s);
	free(s);
}

Test(lang, render)
{
	const struct mb_arg	 a[] = {
		{ "ref", "41" }, { "qty", "10" }, { "unit", "bags" },
		{ "name", "Wanjiru" }, { "empty", NULL }, { "ref", "99" },
		{ "zh", "玉米" },
	};
	size_t			 n = sizeof(a) / sizeof(a[0]);

	assert_render("Offer #{ref}: {qty} {unit}.", a, n,
	    "Offer #41: 10 bags.");
	assert_render("", a, n, "");
	assert_render("no placeholders", NULL, 0, "no placeholders");
	/* repeated, adjacent, at both ends; the first arg of a name wins */
	assert_render("{ref}-{ref}{qty}", a, n, "41-4110");
	assert_render("{name}", a, n, "Wanjiru");
	/* "{{" is "{"; '}' is always literal */
	assert_render("a {{ref}} b", a, n, "a {ref}} b");
	assert_render("{{{ref}}", a, n, "{41}");
	assert_render("}}", a, n, "}}");
	/* a placeholder with no arg is empty; so is a NULL value */
	assert_render("x{nope}y", a, n, "xy");
	assert_render("x{empty}y", a, n, "xy");
	assert_render("x{ref}y", NULL, 0, "xy");
	/* unterminated or not a name: kept as typed */
	assert_render("price {qty", a, n, "price {qty");
	assert_render("end {", a, n, "end {");
	assert_render("{} and {a b} and {ref", a, n, "{} and {a b} and {ref");
	/* UTF-8 values and text */
	assert_render("卖 {zh} {qty} 袋", a, n, "卖 玉米 10 袋");
	cr_assert_null(lang_render(NULL, a, n));
}

Test(lang, render_missing_value_is_logged_at_debug)
{
	char	*s = lang_render("x{nosuchvalue}y", NULL, 0);

	cr_assert_str_eq(s, "xy");
	free(s);
	assert_logged("{nosuchvalue}");
}

Test(lang, free_accepts_null)
{
	size_t	 n = 7;

	lang_free(NULL);
	cr_assert_null(lang_default(NULL));
	cr_assert_null(lang_codes(NULL, &n));
	cr_assert_eq(n, 0);
}

/* --- bad directories ----------------------------------------------------------- */

Test(lang, duplicate_word_for_two_commands)
{
	assert_refused(DATA "/lang-dupword", "en", DATA
	    "/lang-dupword/en.conf:11: word 'offer' of BUY is already a word "
	    "of SELL (line 7)");
}

/*
 * A key given twice in one group (libgw would keep the second, silently):
 * refused with the file and the line of the repeat.
 */
Test(lang, repeated_key_in_a_group)
{
	assert_refused(DATA "/lang-dupkey", "en", DATA
	    "/lang-dupkey/en.conf:15: 'text' is repeated in this group (first "
	    "at line 14)");
}

Test(lang, duplicate_code)
{
	assert_refused(DATA "/lang-dupcode", "en", DATA
	    "/lang-dupcode/b.conf:4: code 'en' is also the code of " DATA
	    "/lang-dupcode/a.conf");
}

Test(lang, missing_default_language)
{
	assert_refused(DATA "/lang-nodefault", "en",
	    "the default language 'en' has no file here");
	assert_refused(DATA "/lang-nodefault", NULL,
	    "the default language '' has no file here");
}

Test(lang, missing_templates_fall_back_and_log_once)
{
	struct lang_set	*set = lang_load(DATA "/lang-fallback", "en");
	char		*log;

	cr_assert_not_null(set);
	cr_assert_str_eq(lang_template(set, "xx", "echo"), "Xsaid: {text}");
	cr_assert_str_eq(lang_template(set, "xx", "help"), "Commands: SELL");
	cr_assert_str_eq(lang_template(set, "xx", "error"),
	    "Something went wrong.");
	cr_assert_str_eq(lang_template(set, "yy", "help"), "Ycommands");
	cr_assert_str_eq(lang_template(set, "yy", "yonly"), "only here");
	cr_assert_null(lang_template(set, "en", "yonly"));
	/* yy has no keywords: the default's word */
	cr_assert_str_eq(lang_command_word(set, "yy", "SELL"), "sell");
	cr_assert_str_eq(lang_command_word(set, "xx", "SELL"), "xsell");
	log = logged();
	cr_assert_eq(count(log, "lacks"), 1, "%s", log);
	cr_assert(strstr(log, DATA "/lang-fallback/xx.conf: language 'xx' "
	    "falls back to the default language 'en' for 2 templates it "
	    "lacks: error, help") != NULL, "%s", log);
	cr_assert(strstr(log, "WARNING") != NULL, "%s", log);
	free(log);
	lang_free(set);
	/* logged at load, not at lookup */
	log = logged();
	cr_assert_eq(count(log, "lacks"), 1, "%s", log);
	free(log);
}

Test(lang, unreadable_directory)
{
	assert_refused("/nonexistent/lang", "en",
	    "/nonexistent/lang: cannot read the language directory");
	assert_refused(NULL, "en", "no language directory given");
}

Test(lang, directory_without_language_files)
{
	char	 dir[] = "/tmp/test_lang_dir_XXXXXX";
	char	 path[256];
	FILE	*fp;

	cr_assert_not_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/README", dir);
	cr_assert_not_null(fp = fopen(path, "w"));
	fputs("not a language file\n", fp);
	fclose(fp);
	assert_refused(dir, "en", "no language files (*.conf)");
	unlink(path);
	rmdir(dir);
}

Test(lang, a_directory_named_conf_is_refused_not_fatal)
{
	char	 dir[] = "/tmp/test_lang_dir_XXXXXX";
	char	 path[256];

	cr_assert_not_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/en.conf", dir);
	cr_assert_eq(mkdir(path, 0700), 0);
	assert_refused(dir, "en", "en.conf: not a language file");
	rmdir(path);
	rmdir(dir);
}

/* "include = FILE" is refused; the word in a text is only a word. */
Test(lang, include_lines_are_refused)
{
	char	*log;

	assert_refused(DATA "/lang-include", "en", DATA
	    "/lang-include/en.conf:9: language files cannot include");
	log = logged();
	cr_assert_null(strstr(log, "en.conf:7"), "%s", log);
	free(log);
}

/*
 * What the reader refuses, each at its own line, all in one load: a line
 * that is not "key = value", lines with no group line, a group of
 * marketbox.conf, a misspelt key (with the key it is near).
 */
Test(lang, lines_that_are_not_a_language_file)
{
	static const char *why[] = {
		":7: not a 'key = value' line",
		":9: these lines have no 'group = ' line",
		":12: group 'marketbox' has no place in a language file",
		":17: unknown key 'word' in group keyword (did you mean "
		    "words?)",
		": cannot use this language file",
	};
	char		*log;

	assert_refused_at(DATA "/lang-badlines", why,
	    sizeof(why) / sizeof(why[0]));
	/* the template's text, with the word "include", is not refused */
	log = logged();
	cr_assert_null(strstr(log, "en.conf:6"), "%s", log);
	cr_assert_null(strstr(log, "en.conf:13"), "%s", log);
	free(log);
}

Test(lang, two_language_groups_in_one_file)
{
	assert_refused(DATA "/lang-twolang", "en", DATA
	    "/lang-twolang/en.conf:5: a second 'group = language'");
}

Test(lang, undeclared_key_names_file_and_line)
{
	assert_refused(DATA "/lang-typo", "en", DATA "/lang-typo/en.conf:6: "
	    "unknown key 'wrods' in group keyword");
}

Test(lang, bad_values_name_file_and_line)
{
	static const char *why[] = {
		":2: code 'English' must be 2 to 8 lowercase",
		":5: command 'sell' must be an uppercase command id",
		":10: BUY: 'buy now' is not one word",
		":13: template name 'bad name!' must be",
		":17: template notext has no text",
		":21: SELL has no words",
		":28: template ECHO is defined already (line 24)",
		":33: template broken: a plural needs an 'other' branch, at "
		    "\"{n, plural, one {# b\"",
	};

	assert_refused_at(DATA "/lang-badvalues", why,
	    sizeof(why) / sizeof(why[0]));
}

Test(lang, reload_builds_an_independent_set)
{
	struct lang_set	*a = lang_load(SHIPPED, "sw");
	struct lang_set	*b = lang_load(SHIPPED, "en");

	cr_assert_not_null(a);
	cr_assert_not_null(b);
	cr_assert_str_eq(lang_default(a), "sw");
	cr_assert_str_eq(lang_default(b), "en");
	/* default sw: a template lookup in an unknown language is sw's */
	cr_assert_str_eq(lang_template(a, "de", "echo"), "Umesema: {text}");
	lang_free(a);
	cr_assert_str_eq(lang_template(b, "sw", "echo"), "Umesema: {text}");
	lang_free(b);
}
