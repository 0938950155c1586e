/*
 * test_replies.c - every template of every shipped language, filled as
 * marketbox fills it (host_text(), the shipped catalogue), reads right:
 * it fits one SMS, leaves no placeholder unfilled and holds no word of
 * another language (reply_check.h says how a foreign word is told).
 *
 * Each template is rendered once for each of the numbers 0, 1, 2, 5, 21
 * and 1000 in every numeric placeholder (a name filled with a number in
 * the templates -- {x, number}, a plural's or a count's number -- or one
 * of rc_numeric below), and for two commodities: maize (bag; "maïs" puts
 * a French reply in UCS-2) and kale (kg; the longest names: "sukuma
 * wiki", "chou frisé", 羽衣甘蓝).  Other placeholders get long, realistic
 * values: a three-word name, "Wakulima (Nairobi)", a 40-character reason
 * (a Chinese reader's: a three-character name, an eight-character
 * market, an 11-character reason);
 * people's words ({word}, {text}, {reason}, an admin's {note}) may be of
 * any language; lists
 * ({offers}, {matches}) are item numbers and prices, as long as the
 * plugins let them be (shorter in a language that needs UCS-2).
 *
 * Every failure is reported (language, template, numbers, the text), one
 * line per template and cause; the failing assertion carries them all.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <criterion/criterion.h>

#include "base/gw.h"
#include "base/conf.h"
#include "plugin/core.h"
#include "text/gsm.h"
#include "text/lang.h"
#include "marketbox-plugin.h"
#include "reply_check.h"

#define SHIPPED_CONF	TEST_SRCDIR "/../conf/marketbox.conf"
#define SHIPPED_LANG	TEST_SRCDIR "/../conf/lang"
#define MAX_NAMES	32

static struct conf		*conf;
static struct lang_set		*langs;
static struct reply_vocab	*vocab;

static const char *numbers[] = { "0", "1", "2", "5", "21", "1000" };
#define NNUMBERS	(sizeof(numbers) / sizeof(numbers[0]))

static const struct {
	const char	*commodity, *unit;
} goods[] = {
	{ "maize", "bag" },
	{ "kale", "kg" },
};
#define NGOODS		(sizeof(goods) / sizeof(goods[0]))

/* Placeholders that hold a number wherever they appear. */
static const char *rc_numeric[] = {
	"ref", "qty", "price", "total", "left", "n", "trades", "median",
	"low", "high", "max", "min", "offer", "want", "buy", "count", "page",
	"pages", "tries", "reports", "number", "amount", "usual", "other",
	"dispute",
};

/* Words people type, echoed back: theirs, in any language. */
#define TYPED_WORD	"mahindimanjano"
#define TYPED_TEXT	"Habari ya leo, test 123"
#define TYPED_REASON	"the maize got wet in the store last week"
#define TYPED_NOTE	"Seller refunds 2 bags"	/* an admin's, marketctl */
#define TYPED_CODE	"ru"
#define ZH_NAME		"王小明"
#define ZH_MARKET	"寿光蔬菜批发市场"
#define ZH_REASON	"玉米上周在仓库里受潮了"

static void
setup(void)
{
	gwlib_init();
	log_set_output_level(GW_PANIC);
	conf = conf_load(SHIPPED_CONF);
	cr_assert_not_null(conf, "the shipped conf does not load");
	langs = lang_load(SHIPPED_LANG, "en");
	cr_assert_not_null(langs, "the shipped languages do not load");
	vocab = reply_vocab_new(conf, langs);
	cr_assert_not_null(vocab);
	reply_vocab_allow(vocab, "Mary Wanjiku Kamau");
	reply_vocab_allow(vocab, ZH_NAME);
	reply_vocab_allow(vocab, ZH_MARKET);
}

static void
teardown(void)
{
	reply_report_clear();
	reply_vocab_free(vocab);
	lang_free(langs);
	conf_free(conf);
	gwlib_shutdown();
}

TestSuite(replies, .init = setup, .fini = teardown);

/* --- the values ------------------------------------------------------------------ */

struct names {
	char	 name[MAX_NAMES][64];
	int	 numeric[MAX_NAMES];
	size_t	 n;
};

static void
names_cb(void *arg, const char *name, int numeric)
{
	struct names	*ns = arg;
	size_t		 i;

	for (i = 0; i < ns->n; i++)
		if (strcmp(ns->name[i], name) == 0) {
			ns->numeric[i] |= numeric;
			return;
		}
	if (ns->n == MAX_NAMES)
		return;
	snprintf(ns->name[ns->n], sizeof(ns->name[0]), "%s", name);
	ns->numeric[ns->n] = numeric;
	ns->n++;
}

static int
is_numeric(const char *name)
{
	size_t	 i;

	for (i = 0; i < sizeof(rc_numeric) / sizeof(rc_numeric[0]); i++)
		if (strcmp(rc_numeric[i], name) == 0)
			return 1;
	return 0;
}

/* A command's word in lang, as replies name it: "UZA". */
static void
command_word(const char *lang, const char *id, char *out, size_t len)
{
	const char	*w = lang_command_word(langs, lang, id);
	size_t		 i;

	snprintf(out, len, "%s", w ? w : id);
	for (i = 0; out[i] != '\0'; i++)
		if (out[i] >= 'a' && out[i] <= 'z')
			out[i] -= 'a' - 'A';
}

/* 1 if lang's replies travel as UCS-2: its own name needs it ("中文"). */
static int
ucs2_language(const char *lang)
{
	const char		*name = lang_name(langs, lang);
	struct gsm_measure	 m;

	if (name == NULL)
		return 0;
	gsm_measure(name, strlen(name), &m);
	return m.coding != GSM_CODING_7BIT;
}

/* A template of lang filled with nothing (role names), into out. */
static void
plain(const char *lang, const char *tmpl, char *out, size_t len)
{
	char	*s = host_text(conf, langs, lang, tmpl, NULL, 0, NULL);

	snprintf(out, len, "%s", s ? s : "");
	free(s);
}

/* The value of the non-numeric placeholder name in template tmpl of lang. */
static void
value_of(const char *lang, const char *tmpl, const char *name, size_t good,
    char *out, size_t len)
{
	const struct conf_commodity	*k;
	char				 a[48], b[48];

	/* people's names and words as long as they are in that language:
	   a Chinese name is two or three characters */
	if (strcmp(name, "name") == 0 || strcmp(name, "buyer") == 0 ||
	    strcmp(name, "seller") == 0)
		snprintf(out, len, "%s", strcmp(lang, "zh") == 0 ? ZH_NAME :
		    "Mary Wanjiku Kamau");
	else if (strcmp(name, "phone") == 0 || strcmp(name, "buyer_phone") == 0
	    || strcmp(name, "seller_phone") == 0 ||
	    strcmp(name, "transporter") == 0)
		snprintf(out, len, "+254722000111");
	else if (strcmp(name, "market") == 0)
		snprintf(out, len, "%s", strcmp(lang, "zh") == 0 ? ZH_MARKET :
		    "Wakulima (Nairobi)");
	else if (strcmp(name, "markets") == 0)
		snprintf(out, len, "Nakuru, Eldoret, Kitale, Kisumu");
	else if (strcmp(name, "commodity") == 0)
		snprintf(out, len, "%s", goods[good].commodity);
	else if (strcmp(name, "unit") == 0)
		snprintf(out, len, "%s", goods[good].unit);
	else if (strcmp(name, "word") == 0)
		snprintf(out, len, TYPED_WORD);
	else if (strcmp(name, "text") == 0)
		snprintf(out, len, TYPED_TEXT);
	else if (strcmp(name, "reason") == 0)
		snprintf(out, len, "%s", strcmp(lang, "zh") == 0 ? ZH_REASON :
		    TYPED_REASON);
	else if (strcmp(name, "suggestion") == 0) {
		if (strstr(tmpl, "commodity") != NULL &&
		    (k = conf_commodity_find(conf, goods[good].commodity)) !=
		    NULL)
			snprintf(out, len, "%s", conf_name_for(&k->names,
			    lang) ? conf_name_for(&k->names, lang) :
			    goods[good].commodity);
		else if (strstr(tmpl, "market") != NULL ||
		    strncmp(tmpl, "reg", 3) == 0)
			snprintf(out, len, "Nakuru");
		else
			command_word(lang, "SELL", out, len);
	} else if (strcmp(name, "command") == 0)
		command_word(lang, "SELL", out, len);
	else if (strcmp(name, "language") == 0)
		snprintf(out, len, "%s", lang_name(langs, lang));
	else if (strcmp(name, "code") == 0)
		snprintf(out, len, "%s", strncmp(tmpl, "lang", 4) == 0 ?
		    TYPED_CODE : "4831");
	else if (strcmp(name, "codes") == 0)
		snprintf(out, len, "en, fr, sw, zh");
	else if (strcmp(name, "roles") == 0) {
		plain(lang, "role-farmer", a, sizeof(a));
		plain(lang, "role-buyer", b, sizeof(b));
		snprintf(out, len, "%s, %s", a, b);
	} else if (strcmp(name, "matches") == 0 || strcmp(name, "offers") == 0
	    || strcmp(name, "wants") == 0 || strcmp(name, "orders") == 0)
		/* a list as the plugins cut it: shorter where SMS are UCS-2 */
		snprintf(out, len, "%s", ucs2_language(lang) ?
		    "#41 3,000 (10)" : "#41 3,000 (10), #52 3,100 (4)");
	else if (strcmp(name, "more") == 0)
		snprintf(out, len, " ... +5");
	else if (strcmp(name, "state") == 0)
		snprintf(out, len, "pending");
	else if (strcmp(name, "window") == 0)
		snprintf(out, len, "7d");
	else if (strcmp(name, "age") == 0)
		snprintf(out, len, "2h");
	else if (strcmp(name, "trend") == 0)
		snprintf(out, len, "%s", " +5%");
	else if (strcmp(name, "time") == 0)
		snprintf(out, len, "07:00");
	else if (strcmp(name, "currency") == 0)
		snprintf(out, len, "%s", conf->currency);
	else if (strcmp(name, "note") == 0)
		/* an admin's note on a dispute closed (marketctl) */
		snprintf(out, len, TYPED_NOTE);
	else
		snprintf(out, len, "Nakuru");
}

/* --- walking every rendering ---------------------------------------------------- */

enum check { CHECK_FITS, CHECK_FILLED, CHECK_FOREIGN };

/* One template's failures of one check, gathered over its renderings. */
struct failure {
	char	 numbers[128];		/* "0,1,2 maize; 1000 kale" */
	char	 why[256];		/* of the first */
	char	 text[512];		/* the first failing text */
	int	 any;
};

struct walk {
	enum check	 check;
	const char	*lang;
	size_t		 failures;	/* templates that failed */
	size_t		 renderings;
};

static void
failure_note(struct failure *f, const char *number, size_t good,
    const char *why, const char *text)
{
	size_t	 have = strlen(f->numbers);

	if (!f->any) {
		snprintf(f->why, sizeof(f->why), "%s", why);
		snprintf(f->text, sizeof(f->text), "%s", text);
		f->any = 1;
	}
	if (have + 1 < sizeof(f->numbers))
		snprintf(f->numbers + have, sizeof(f->numbers) - have,
		    "%s%s/%s", have ? " " : "", number,
		    goods[good].commodity);
}

static int
template_cb(void *arg, const char *tmpl, const char *text)
{
	struct walk	*w = arg;
	struct names	 ns;
	struct mb_arg	 args[MAX_NAMES];
	char		 values[MAX_NAMES][128], why[512];
	struct failure	 f;
	size_t		 i, num, good, missing;
	char		*s;
	int		 has_number = 0;

	memset(&ns, 0, sizeof(ns));
	reply_template_walk(text, names_cb, NULL, &ns);
	for (i = 0; i < ns.n; i++) {
		ns.numeric[i] |= is_numeric(ns.name[i]);
		has_number |= ns.numeric[i];
	}
	memset(&f, 0, sizeof(f));
	for (good = 0; good < NGOODS; good++)
		for (num = 0; num < (has_number ? NNUMBERS : 1); num++) {
			for (i = 0; i < ns.n; i++) {
				if (ns.numeric[i])
					snprintf(values[i], sizeof(values[i]),
					    "%s", numbers[num]);
				else
					value_of(w->lang, tmpl, ns.name[i],
					    good, values[i],
					    sizeof(values[i]));
				args[i].name = ns.name[i];
				args[i].value = values[i];
			}
			missing = 0;
			s = host_text(conf, langs, w->lang, tmpl, args, ns.n,
			    &missing);
			cr_assert_not_null(s, "%s %s does not render",
			    w->lang, tmpl);
			w->renderings++;
			why[0] = '\0';
			switch (w->check) {
			case CHECK_FITS:
				/*
				 * A board with offers is fitted by the prices
				 * plugin itself: it drops offers that do not
				 * fit, then falls back to the board without
				 * them (checked on its own); test_prices
				 * proves the fitting.  So is a market notice
				 * with the other party's record (market-*-rep):
				 * the plugin sends it only when it fits, else
				 * the notice without the record (checked on its
				 * own); test_market_rep proves the choice.
				 */
				if (reply_fits_sms(s, why, sizeof(why)) == -1 &&
				    ((strlen(tmpl) > 7 && strcmp(tmpl +
				    strlen(tmpl) - 7, "-offers") == 0 &&
				    strncmp(tmpl, "prices-", 7) == 0) ||
				    (strlen(tmpl) > 4 && strcmp(tmpl +
				    strlen(tmpl) - 4, "-rep") == 0 &&
				    strncmp(tmpl, "market-", 7) == 0)))
					why[0] = '\0';
				break;
			case CHECK_FILLED:
				if (missing > 0)
					snprintf(why, sizeof(why), "%zu "
					    "placeholder(s) without a value",
					    missing);
				else if (reply_has_placeholder(s))
					snprintf(why, sizeof(why), "a "
					    "placeholder is left as text");
				break;
			case CHECK_FOREIGN:
				if (reply_foreign(vocab, w->lang, s,
				    TYPED_WORD " " TYPED_TEXT " "
				    TYPED_REASON " " TYPED_CODE " " TYPED_NOTE, why,
				    sizeof(why)) == 0)
					why[0] = '\0';
				break;
			}
			if (why[0] != '\0')
				failure_note(&f, has_number ? numbers[num] :
				    "-", good, why, s);
			free(s);
		}
	if (f.any) {
		w->failures++;
		reply_report("%s %s: %s [%s]: %s", w->lang, tmpl, f.why,
		    f.numbers, f.text);
	}
	return 0;
}

/* Walk every template of every language with one check; the failures. */
static size_t
check_all(enum check check, const char *what)
{
	const char * const	*codes;
	struct walk		 w;
	size_t			 n, i;

	memset(&w, 0, sizeof(w));
	w.check = check;
	codes = lang_codes(langs, &n);
	cr_assert_eq(n, 4, "the four shipped languages");
	for (i = 0; i < n; i++) {
		w.lang = codes[i];
		lang_each_own_template(langs, codes[i], template_cb, &w);
	}
	reply_report("%s: %zu renderings, %zu templates fail", what,
	    w.renderings, w.failures);
	cr_assert_gt(w.renderings, 4 * 100, "too few templates were seen");
	return w.failures;
}

Test(replies, every_template_fits_one_sms)
{
	size_t	 n = check_all(CHECK_FITS, "one SMS");

	cr_assert_eq(n, 0, "%s", reply_report_text());
}

Test(replies, no_placeholder_is_left_unfilled)
{
	size_t	 n = check_all(CHECK_FILLED, "placeholders filled");

	cr_assert_eq(n, 0, "%s", reply_report_text());
}

Test(replies, no_word_of_another_language)
{
	size_t	 n = check_all(CHECK_FOREIGN, "no foreign words");

	cr_assert_eq(n, 0, "%s", reply_report_text());
}

/* --- the checks themselves ------------------------------------------------------- */

Test(replies, the_checks_catch_what_they_should)
{
	char	 why[256];

	/* one SMS: 160 septets, an extension character counting two */
	char	 gsm[200], ucs[300];

	memset(gsm, 'a', 160);
	gsm[160] = '\0';
	cr_assert_eq(reply_fits_sms(gsm, why, sizeof(why)), 0);
	gsm[159] = '{';
	cr_assert_eq(reply_fits_sms(gsm, why, sizeof(why)), -1);
	cr_assert_str_eq(why, "161 GSM septets > 160");
	ucs[0] = '\0';
	for (size_t i = 0; i < 71; i++)
		strcat(ucs, "玉");
	cr_assert_eq(reply_fits_sms(ucs, why, sizeof(why)), -1);
	cr_assert_str_eq(why, "71 UCS-2 units > 70");
	/* a French ç makes the text UCS-2, but it leaves folded when that
	   saves an SMS (gsm_fold); Chinese cannot be folded */
	cr_assert_eq(reply_fits_sms("Reçu. 0123456789012345678901234567890"
	    "1234567890123456789012345678901234567890", why, sizeof(why)), 0);
	cr_assert_eq(reply_fits_sms("收到 0123456789012345678901234567890"
	    "1234567890123456789012345678901234567890", why, sizeof(why)), -1);

	cr_assert(reply_has_placeholder("Offer #{ref} posted"));
	cr_assert(reply_has_placeholder("{qty, plural, one {# bag}"));
	cr_assert(!reply_has_placeholder("a { b } {} {{"));

	/* foreign words, by the three rules */
	cr_assert_eq(reply_foreign(vocab, "sw", "Tuma SELL 41", NULL, why,
	    sizeof(why)), 1);
	cr_assert_str_eq(why, "'sell' (en keyword)");
	cr_assert_eq(reply_foreign(vocab, "fr", "Commande #4: 10 bags",
	    NULL, why, sizeof(why)), 1);
	cr_assert_str_eq(why, "'bags' (en catalogue)");
	cr_assert_eq(reply_foreign(vocab, "zh", "订单 #4: send", NULL,
	    why, sizeof(why)), 1);
	cr_assert_str_eq(why, "'send' (en)");
	/* numbers, proper nouns, markets, currency, typed words pass */
	cr_assert_eq(reply_foreign(vocab, "sw", "Mary Wanjiku Kamau, "
	    "Wakulima (Nairobi), 3,000 KES, 7d", NULL, why, sizeof(why)), 0);
	cr_assert_eq(reply_foreign(vocab, "sw", "'sell' si amri", "sell",
	    why, sizeof(why)), 0);

	/* placeholders and literal text of the template syntax */
	{
		struct names	 ns;

		memset(&ns, 0, sizeof(ns));
		reply_template_walk("{n, plural, one {# trade} other {# "
		    "trades by {name}}} {unit, count, qty} {price, number} "
		    "{{x} {commodity, capital}", names_cb, NULL, &ns);
		cr_assert_eq(ns.n, 6);
		cr_assert_str_eq(ns.name[0], "n");
		cr_assert_eq(ns.numeric[0], 1);
		cr_assert_str_eq(ns.name[1], "name");
		cr_assert_eq(ns.numeric[1], 0);
		cr_assert_str_eq(ns.name[2], "unit");
		cr_assert_str_eq(ns.name[3], "qty");
		cr_assert_eq(ns.numeric[3], 1);
		cr_assert_str_eq(ns.name[4], "price");
		cr_assert_eq(ns.numeric[4], 1);
		cr_assert_str_eq(ns.name[5], "commodity");
	}

	cr_assert(reply_contains("Offer #41 posted", "#41"));
	cr_assert(!reply_contains("Offer #411 posted", "#41"));
	cr_assert(reply_contains("Send MY 2 for more", "my 2"));
	cr_assert(reply_contains("MAÏS, sac", "maïs"));
	cr_assert(reply_contains("卖玉米10袋", "玉米"));
}
