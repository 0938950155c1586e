/*
 * test_words.c - Criterion tests for words.c: splitting and normalising
 * what phones send (case, spacing, full-width forms, numbers, amounts,
 * punctuation, scripts, junk), words_rest() offsets, words_number() bounds
 * and words_distance().
 */

#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <criterion/criterion.h>
#include <criterion/parameterized.h>

#include "text/words.h"

#define FW(c)	"\xEF\xBC" c		/* full-width forms U+FF01..U+FF3F */
#define FWL(c)	"\xEF\xBD" c		/* full-width forms U+FF40..U+FF5E */
#define IDSP	"\xE3\x80\x80"		/* U+3000 ideographic space */
#define NBSP	"\xC2\xA0"

/* The currencies every split below uses (as conf would give them). */
static const char * const words_test_currencies[] = {
	"KES", "ksh", "sh", "tsh", "ugx", NULL, ""
};
#define WORDS_TEST_NCURRENCIES \
	(sizeof(words_test_currencies) / sizeof(words_test_currencies[0]))

/* As the shipped conf gives them, for the Chinese texts. */
static const char * const words_test_currencies_zh[] = {
	"KES", "元", "¥", "/="
};
#define WORDS_TEST_NCURRENCIES_ZH (sizeof(words_test_currencies_zh) / \
	sizeof(words_test_currencies_zh[0]))

/*
 * The words of w joined with '|' into a malloc'd string ("" for none),
 * after checking the invariants every split must keep.
 */
static char *
words_test_join(const struct words *w)
{
	size_t	 i, len = 1, o = 0, l;
	char	*s;

	for (i = 0; i < w->n; i++) {
		cr_assert_not_null(w->word[i]);
		cr_assert_gt(strlen(w->word[i]), 0, "word %zu is empty", i);
		cr_assert_lt(w->offset[i], strlen(w->text));
		if (i > 0)
			cr_assert_gt(w->offset[i], w->offset[i - 1]);
		len += strlen(w->word[i]) + 1;
	}
	s = malloc(len);
	cr_assert_not_null(s);
	for (i = 0; i < w->n; i++) {
		if (i > 0)
			s[o++] = '|';
		l = strlen(w->word[i]);
		memcpy(s + o, w->word[i], l);
		o += l;
	}
	s[o] = '\0';
	return s;
}

/* Split text with the test currencies; the words joined, malloc'd. */
static char *
words_test_split(const char *text)
{
	struct words	 w;
	char		*s;

	cr_assert_eq(words_split(text, words_test_currencies,
	    WORDS_TEST_NCURRENCIES, &w), 0);
	cr_assert_str_eq(w.text, text, "w.text is not the text as given");
	s = words_test_join(&w);
	words_free(&w);
	return s;
}

/* --- splitting and normalising ---------------------------------------- */

/*
 * Parameter structs hold their strings inline: Criterion runs each case in
 * a fresh process of the (position-independent) test program, where a
 * pointer taken in the parent would not point at the same literal.
 */
struct words_split_case {
	char		text[96];
	char		expect[96];	/* words joined with '|' */
};

ParameterizedTestParameters(words, split)
{
	static struct words_split_case cases[] = {
		/* case */
		{ "sell", "sell" },
		{ "SELL", "sell" },
		{ "SeLl MaIzE", "sell|maize" },
		{ "BUY 41", "buy|41" },
		/* spacing */
		{ "  sell   maize  ", "sell|maize" },
		{ "\tsell\t\tmaize\r\n", "sell|maize" },
		{ "sell" NBSP "maize", "sell|maize" },
		{ "sell" IDSP "maize", "sell|maize" },
		{ NBSP IDSP " sell " IDSP NBSP, "sell" },
		{ "sell\x01maize\x1f" "10", "sell|maize|10" },
		{ "sell\x7fmaize", "sell|maize" },
		{ "\xEF\xBB\xBFsell", "sell" },		/* BOM first */
		{ "sell\xE2\x80\xAFmaize", "sell|maize" },	/* U+202F */
		/* the whole commands */
		{ "SELL maize 10 bags 3,000/=", "sell|maize|10|bags|3000" },
		{ "sell  Maize 10 BAGS 3,000/=", "sell|maize|10|bags|3000" },
		{ "UZA mahindi gunia 10 bei 3,000/=",
		    "uza|mahindi|gunia|10|bei|3000" },
		{ "VENDRE maïs 10 sacs 3.000 FCFA",
		    "vendre|maïs|10|sacs|3000|fcfa" },
		{ "卖 玉米 10 袋 3000", "卖|玉米|10|袋|3000" },
		{ "卖" IDSP "玉米" IDSP "１０", "卖|玉米|10" },
		/* '#' */
		{ "#41", "41" },
		{ "# 41", "41" },
		{ "BUY #41.", "buy|41" },
		{ "(#41)", "41" },
		{ "#abc", "#abc" },
		{ "41#", "41#" },
		/* full-width forms */
		{ FW("\xB3") FW("\xA5") FW("\xAC") FW("\xAC") IDSP
		    FW("\x93") FW("\x90") FW("\x90") FW("\x90"), "sell|3000" },
		{ FW("\xAD") FWL("\x81") FWL("\x89") FWL("\x9A") FWL("\x85"),
		    "maize" },
		{ FW("\x83") FW("\x94") FW("\x91"), "41" },	/* ＃４１ */
		{ FW("\x93") FW("\x8C") FW("\x90") FW("\x90") FW("\x90")
		    FW("\x8F") FW("\x9D"), "3000" },		/* ３，０００／＝ */
		/* numbers */
		{ "3,000", "3000" },
		{ "3.000.000", "3000000" },
		{ "3'000", "3000" },
		{ "3.000", "3000" },
		{ "10,000,000", "10000000" },
		{ "2.5", "2.5" },
		{ "1,5", "1,5" },
		{ "3,00", "3,00" },
		{ "1,0000", "1,0000" },
		{ "3,000.50", "3000.50" },
		{ "12.05.2024", "12.05.2024" },
		{ "3 000", "3|000" },
		{ "-5", "-5" },
		{ "10kg", "10kg" },		/* no dictionary: not cut */
		{ "1,000kg", "1000kg" },
		/* real decimals are never thousands (issue 12) */
		{ "3000.505", "3000.505" },
		{ "0.050", "0.050" },
		{ "0,500", "0,500" },
		{ "05.000", "05.000" },
		{ "1234,567", "1234,567" },
		{ "SELL maize 2 bags 3000.505",
		    "sell|maize|2|bags|3000.505" },
		{ "SELL maize 1 0.050", "sell|maize|1|0.050" },
		/* read two ways: the word is the thousands reading */
		{ "2.500", "2500" },
		{ "3.500", "3500" },
		{ "12.500", "12500" },
		/* space-grouped thousands: joined next to a currency only */
		{ "6 000 KES", "6000" },
		{ "KSh 6 000", "6000" },
		{ "KSh 1 500 000", "1500000" },
		{ "SELL maize 10 bags 6 000 ksh", "sell|maize|10|bags|6000" },
		{ "6 000", "6|000" },
		{ "BUY 41 500", "buy|41|500" },
		{ "BUY 41 500 please", "buy|41|500|please" },
		{ "0 500 KES", "0|500" },
		{ "6 00 KES", "6|00" },
		{ "1000 500 KES", "1000|500" },
		{ "6 000 NBSP", "6|000|nbsp" },
		{ "6" NBSP "000 KES", "6000" },
		{ "6\xE2\x80\xAF" "000 KES", "6000" },	/* U+202F */
		/* currencies after a number */
		{ "3000kes", "3000" },
		{ "3000KES", "3000" },
		{ "3000Ksh", "3000" },
		{ "3000 KES", "3000" },
		{ "3000 ksh.", "3000" },
		{ "3000/=", "3000" },
		{ "3000/-", "3000" },
		{ "3000 /=", "3000" },
		{ "3000 /-", "3000" },
		{ "2.5kes", "2.5" },
		{ "3,000sh", "3000" },
		{ "3000 ksh 4000", "3000|4000" },
		/* currencies before a number */
		{ "KSh 3000", "3000" },
		{ "Ksh. 3,000/=", "3000" },
		{ "ksh3000", "3000" },
		{ "Ksh.3,000", "3000" },
		{ "UGX 3,500,000", "3500000" },
		{ "TSh 500 kwa gunia", "500|kwa|gunia" },
		{ "kes 3000 kes", "3000" },
		/* currencies elsewhere stay */
		{ "kes", "kes" },
		{ "pay kes please", "pay|kes|please" },
		{ "kesho 3000", "kesho|3000" },
		{ "/=", "/=" },
		{ "price /= 3000", "price|/=|3000" },
		/* punctuation */
		{ "sell, maize!", "sell|maize" },
		{ "\"hello\"", "hello" },
		{ "(maize)", "maize" },
		{ "'3000'", "3000" },
		{ "3000,", "3000" },
		{ "yes;no:maybe?", "yes;no:maybe" },
		{ "...?!", "" },
		{ "sell ... maize", "sell|maize" },
		{ "\xE2\x80\x9CMary\xE2\x80\x9D", "mary" },	/* “Mary” */
		{ "\xC2\xAB" "Bonjour" "\xC2\xBB", "bonjour" },	/* «Bonjour» */
		{ "l\xE2\x80\x99huile", "l\xE2\x80\x99huile" },	/* l’huile */
		/* empty */
		{ "", "" },
		{ "   \t\r\n ", "" },
		{ NBSP IDSP NBSP, "" },
		/* diacritics */
		{ "MAÏS", "maïs" },
		{ "ÇA ÉTÉ", "ça|été" },
		{ "ÀÉÎÕÜ", "àéîõü" },
		{ "\xC3\x80\xC3\x9E", "\xC3\xA0\xC3\xBE" },	/* ends of range */
		{ "\xC3\x97", "\xC3\x97" },	/* U+00D7 × has no small form */
		{ "\xC3\x9F", "\xC3\x9F" },	/* U+00DF ß stays */
		{ "ŴIMBO", "Ŵimbo" },		/* outside the range: as is */
		/* invalid UTF-8: bytes kept as they are */
		{ "\xFF\xFE", "\xFF\xFE" },
		{ "ABC\xC0\xAF", "abc\xC0\xAF" },		/* overlong '/' */
		{ "\xED\xA0\x80X", "\xED\xA0\x80x" },		/* surrogate */
		{ "\xC3", "\xC3" },				/* cut short */
		{ "A\xC3 B", "a\xC3|b" },
		{ "\xC2\x41", "\xC2" "a" },	/* a bad lead, then 'A' */
		{ "\xE3\x80", "\xE3\x80" },	/* U+3000 cut short: no space */
		{ "\xF4\x90\x80\x80", "\xF4\x90\x80\x80" },	/* > U+10FFFF */
	};

	return cr_make_param_array(struct words_split_case, cases,
	    sizeof(cases) / sizeof(cases[0]));
}

ParameterizedTest(struct words_split_case *c, words, split)
{
	char	*got;

	got = words_test_split(c->text);
	cr_assert_str_eq(got, c->expect, "split \"%s\": got \"%s\", want \"%s\"",
	    c->text, got, c->expect);
	free(got);
}

Test(words, no_currencies)
{
	struct words	 w;
	char		*s;

	cr_assert_eq(words_split("3000 KES 3000/= 3,000ksh", NULL, 0, &w), 0);
	s = words_test_join(&w);
	cr_assert_str_eq(s, "3000|kes|3000|3000ksh");
	free(s);
	words_free(&w);
}

/* --- numbers read two ways ------------------------------------------------ */

struct words_other_case {
	char		text[48];
	size_t		i;
	char		word[24];
	char		other[24];	/* "" for none */
};

ParameterizedTestParameters(words, other)
{
	static struct words_other_case cases[] = {
		{ "2.500", 0, "2500", "2.5" },
		{ "3.500", 0, "3500", "3.5" },
		{ "1.050", 0, "1050", "1.05" },
		{ "12.345", 0, "12345", "12.345" },
		{ "999.001", 0, "999001", "999.001" },
		{ "SELL maize 10 bags 3.500", 4, "3500", "3.5" },
		{ "ksh2.500", 0, "2500", "2.5" },
		{ "2.500kes", 0, "2500", "2.5" },
		/* one reading only */
		{ "3.000", 0, "3000", "" },
		{ "3,500", 0, "3500", "" },
		{ "3'500", 0, "3500", "" },
		{ "3.500.000", 0, "3500000", "" },
		{ "3.500,50", 0, "3500,50", "" },
		{ "3000.505", 0, "3000.505", "" },
		{ "0.500", 0, "0.500", "" },
		{ "2.5", 0, "2.5", "" },
		{ "2500", 0, "2500", "" },
		{ "KSh 6 000", 0, "6000", "" },
		{ "maize", 0, "maize", "" },
	};

	return cr_make_param_array(struct words_other_case, cases,
	    sizeof(cases) / sizeof(cases[0]));
}

ParameterizedTest(struct words_other_case *c, words, other)
{
	struct words	 w;

	cr_assert_eq(words_split(c->text, words_test_currencies,
	    WORDS_TEST_NCURRENCIES, &w), 0);
	cr_assert_gt(w.n, c->i);
	cr_assert_not_null(w.other);
	cr_assert_str_eq(w.word[c->i], c->word, "\"%s\" word %zu: got \"%s\"",
	    c->text, c->i, w.word[c->i]);
	if (c->other[0] == '\0')
		cr_assert_null(w.other[c->i], "\"%s\" word %zu: other \"%s\"",
		    c->text, c->i, w.other[c->i]);
	else {
		cr_assert_not_null(w.other[c->i], "\"%s\": no other reading",
		    c->text);
		cr_assert_str_eq(w.other[c->i], c->other);
	}
	words_free(&w);
}

/* --- text typed without spaces ------------------------------------------- */

/* The words the router would give: a few keywords and catalogue names. */
static struct words_dict *
words_test_dict(void)
{
	static const char *const known[] = {
		"卖", "买", "求购", "我", "我的", "价格", "报价", "已送达",
		"玉米", "豆", "袋", "公斤", "箱", "纳库鲁", "sell", "maize",
		"bag", "bags", "kg", "me", "sukuma wiki", "MAÏS"
	};
	struct words_dict	*d = words_dict_new();
	size_t			 i;

	cr_assert_not_null(d);
	for (i = 0; i < sizeof(known) / sizeof(known[0]); i++)
		cr_assert_eq(words_dict_add(d, known[i]), 0);
	cr_assert_eq(words_dict_add(d, ""), 0);
	cr_assert_eq(words_dict_add(d, NULL), 0);
	return d;
}

ParameterizedTestParameters(words, segment)
{
	static struct words_split_case cases[] = {
		{ "卖玉米10袋3000", "卖|玉米|10|袋|3000" },
		{ "卖 玉米 10 袋 3000", "卖|玉米|10|袋|3000" },
		{ "卖玉米 10袋 3000", "卖|玉米|10|袋|3000" },
		{ "卖玉米10袋3,000", "卖|玉米|10|袋|3000" },
		{ "卖玉米10袋3000元", "卖|玉米|10|袋|3000" },
		{ "卖玉米10袋¥3000", "卖|玉米|10|袋|3000" },
		{ "卖玉米１０袋３０００", "卖|玉米|10|袋|3000" },
		{ "卖玉米10袋3000纳库鲁", "卖|玉米|10|袋|3000|纳库鲁" },
		{ "卖玉米，10袋，3000。", "卖|玉米|10|袋|3000" },
		{ "我的", "我的" },
		{ "我", "我" },
		{ "价格玉米", "价格|玉米" },
		{ "已送达10码6835", "已送达|10|码|6835" },
		{ "已送达10验证码6835", "已送达|10|验证码|6835" },
		{ "买#41 5", "买|41|5" },
		/* unknown words stay together between known ones */
		{ "卖西红柿10箱500", "卖|西红柿|10|箱|500" },
		{ "你好", "你好" },
		/* Latin words in a Chinese token, at their own boundaries */
		{ "卖maize10bags3000", "卖|maize|10|bags|3000" },
		{ "卖mengo", "卖|mengo" },
		/* Latin tokens are not cut, but for a known word after a number */
		{ "sellmaize", "sellmaize" },
		{ "sell maize 10bags 3000", "sell|maize|10|bags|3000" },
		{ "10袋", "10|袋" },
		/* glued units (issue 12): "10bags", "10kg" as "10 bags" */
		{ "10bags", "10|bags" },
		{ "10 bags", "10|bags" },
		{ "10kg", "10|kg" },
		{ "10BAGS", "10|bags" },
		{ "2.5kg", "2.5|kg" },
		{ "1,000kg", "1000|kg" },
		{ "(10bags)", "10|bags" },
		{ "10kg.", "10|kg" },
		{ "10MAÏS", "10|maïs" },
		{ "10bag3000", "10bag3000" },
		{ "12abc", "12abc" },
		{ "3OOO", "3ooo" },
		{ "10%", "10%" },
		{ "10kgs", "10kgs" },
		{ "2024-05-01", "2024-05-01" },
		{ "3000元", "3000" },
	};

	return cr_make_param_array(struct words_split_case, cases,
	    sizeof(cases) / sizeof(cases[0]));
}

ParameterizedTest(struct words_split_case *c, words, segment)
{
	struct words_dict	*d = words_test_dict();
	struct words		 w;
	char			*got;

	cr_assert_eq(words_split_dict(c->text, words_test_currencies_zh,
	    WORDS_TEST_NCURRENCIES_ZH, d, &w), 0);
	cr_assert_str_eq(w.text, c->text);
	got = words_test_join(&w);
	cr_assert_str_eq(got, c->expect, "segment \"%s\": got \"%s\", "
	    "want \"%s\"", c->text, got, c->expect);
	free(got);
	words_free(&w);
	words_dict_free(d);
}

/* The glued and the spaced forms give the same words, offsets in order. */
Test(words, segment_rest)
{
	struct words_dict	*d = words_test_dict();
	struct words		 w;

	cr_assert_eq(words_split_dict("卖玉米10袋3000 纳库鲁", NULL, 0, d,
	    &w), 0);
	cr_assert_eq(w.n, 6);
	cr_assert_str_eq(words_rest(&w, 1), "玉米10袋3000 纳库鲁");
	cr_assert_str_eq(words_rest(&w, 2), "10袋3000 纳库鲁");
	cr_assert_str_eq(words_rest(&w, 3), "袋3000 纳库鲁");
	cr_assert_str_eq(words_rest(&w, 4), "3000 纳库鲁");
	cr_assert_str_eq(words_rest(&w, 5), "纳库鲁");
	words_free(&w);
	/* a unit cut from its number starts where it was typed */
	cr_assert_eq(words_split_dict("SELL maize (10bags) 3000", NULL, 0, d,
	    &w), 0);
	cr_assert_eq(w.n, 5);
	cr_assert_str_eq(words_rest(&w, 2), "(10bags) 3000");
	cr_assert_str_eq(words_rest(&w, 3), "bags) 3000");
	words_free(&w);
	cr_assert_eq(words_split_dict("SELL ＃１０bags ksh2.500kg",
	    words_test_currencies, WORDS_TEST_NCURRENCIES, d, &w), 0);
	cr_assert_eq(w.n, 5);
	cr_assert_str_eq(w.word[1], "10");
	cr_assert_str_eq(words_rest(&w, 2), "bags ksh2.500kg");
	cr_assert_str_eq(w.word[3], "2500");
	cr_assert_str_eq(w.other[3], "2.5");
	cr_assert_null(w.other[4]);
	cr_assert_str_eq(words_rest(&w, 4), "kg");
	words_free(&w);
	/* without a dictionary, or an empty one, nothing is cut */
	cr_assert_eq(words_split_dict("卖玉米10袋3000", NULL, 0, NULL, &w),
	    0);
	cr_assert_eq(w.n, 1);
	words_free(&w);
	words_dict_free(d);
	d = words_dict_new();
	cr_assert_eq(words_split_dict("卖玉米10袋3000", NULL, 0, d, &w), 0);
	cr_assert_eq(w.n, 1);
	words_free(&w);
	words_dict_free(d);
	words_dict_free(NULL);
}

Test(words, null_text)
{
	struct words	w;

	cr_assert_eq(words_split(NULL, NULL, 0, &w), 0);
	cr_assert_eq(w.n, 0);
	cr_assert_str_eq(w.text, "");
	cr_assert_str_eq(words_rest(&w, 0), "");
	words_free(&w);
}

Test(words, free_accepts_empty)
{
	struct words	w;

	memset(&w, 0, sizeof(w));
	words_free(&w);
	words_free(&w);
	words_free(NULL);
	cr_assert_eq(w.n, 0);
	cr_assert_null(w.text);
	cr_assert_str_eq(words_rest(&w, 0), "");
	cr_assert_str_eq(words_rest(NULL, 0), "");
}

Test(words, offsets)
{
	struct words	w;

	cr_assert_eq(words_split("  sell  \"maize\" " IDSP "3,000/=",
	    NULL, 0, &w), 0);
	cr_assert_eq(w.n, 3);
	cr_assert_eq(w.offset[0], 2);
	cr_assert_eq(w.offset[1], 8);	/* the token, its quote included */
	cr_assert_eq(w.offset[2], 19);
	cr_assert_str_eq(w.word[1], "maize");
	words_free(&w);
}

/* A text of 1000 characters: 500 words, then one word of 1000. */
Test(words, long_text)
{
	struct words	 w;
	char		 text[1001];
	size_t		 i;

	for (i = 0; i < 1000; i++)
		text[i] = i % 2 == 0 ? 'W' : ' ';
	text[1000] = '\0';
	cr_assert_eq(words_split(text, NULL, 0, &w), 0);
	cr_assert_eq(w.n, 500);
	for (i = 0; i < w.n; i++) {
		cr_assert_str_eq(w.word[i], "w");
		cr_assert_eq(w.offset[i], 2 * i);
	}
	cr_assert_str_eq(words_rest(&w, 499), "W");
	words_free(&w);

	memset(text, 'A', 1000);
	cr_assert_eq(words_split(text, NULL, 0, &w), 0);
	cr_assert_eq(w.n, 1);
	cr_assert_eq(strlen(w.word[0]), 1000);
	cr_assert_eq(w.word[0][0], 'a');
	cr_assert_eq(w.word[0][999], 'a');
	cr_assert_eq(strlen(words_rest(&w, 0)), 1000);
	words_free(&w);
}

/*
 * Fill text[0..len) with valid UTF-8 drawn from a few pieces (full-width,
 * Latin-1 capitals, CJK, the two Unicode spaces, '#', digits, "/="),
 * padded with 'x'.
 */
static void
words_test_soup(char *text, size_t len, uint32_t x)
{
	static const char	*const piece[] = {
		FW("\x93"), FW("\xB3"), "\xC3\x89", "\xC3\x8F", "玉", IDSP,
		NBSP, "#", "3", ",000", "/=", "Ksh", " ", ".", "'"
	};
	size_t			 o = 0, pl;
	const char		*p;

	for (;;) {
		x = x * 1103515245u + 12345u;
		p = piece[(x >> 16) % (sizeof(piece) / sizeof(piece[0]))];
		pl = strlen(p);
		if (o + pl > len)
			break;
		memcpy(text + o, p, pl);
		o += pl;
	}
	memset(text + o, 'x', len - o);
	text[len] = '\0';
}

/* 100 KB of pseudo-random bytes (no NUL): no crash, same result twice. */
Test(words, binary_junk)
{
	struct words	 a, b;
	char		*text, *ja, *jb;
	size_t		 i, len = 100 * 1024;
	uint32_t	 x = 12345;
	int		 round;

	text = malloc(len + 1);
	cr_assert_not_null(text);
	for (round = 0; round < 4; round++) {
		for (i = 0; i < len; i++) {
			x = x * 1103515245u + 12345u;
			text[i] = (char)((x >> 16) & 0xFF);
			if (round == 1)		/* lone continuation bytes */
				text[i] = (char)(0x80 | ((x >> 16) & 0x3F));
			if (round == 2)		/* mostly '#', digits, ',' */
				text[i] = "#0,9.'1 /=k"[(x >> 16) % 11];
			if (text[i] == '\0')
				text[i] = 'x';
		}
		text[len] = '\0';
		if (round == 3)		/* valid multibyte soup */
			words_test_soup(text, len, x);
		cr_assert_eq(words_split(text, words_test_currencies,
		    WORDS_TEST_NCURRENCIES, &a), 0);
		cr_assert_eq(words_split(text, words_test_currencies,
		    WORDS_TEST_NCURRENCIES, &b), 0);
		cr_assert_eq(memcmp(a.text, text, len + 1), 0);
		ja = words_test_join(&a);
		jb = words_test_join(&b);
		cr_assert_str_eq(ja, jb);
		cr_assert_eq(a.n, b.n);
		for (i = 0; i < a.n; i++) {
			cr_assert_eq(a.offset[i], b.offset[i]);
			cr_assert_eq(words_distance(a.word[i], a.word[i], 2),
			    0);
			cr_assert_not_null(words_rest(&a, i));
		}
		if (round == 1)
			cr_assert_eq(a.n, 1, "no separator: one word");
		if (round != 1)
			cr_assert_gt(a.n, 100);
		free(ja);
		free(jb);
		words_free(&a);
		words_free(&b);
	}
	free(text);
}

/* --- words_rest ----------------------------------------------------------- */

struct words_rest_case {
	char		 text[64];
	size_t		 i;
	char		 expect[64];
};

ParameterizedTestParameters(words, rest)
{
	static struct words_rest_case cases[] = {
		{ "REG  Mary Wanjiku  Nakuru", 0,
		    "REG  Mary Wanjiku  Nakuru" },
		{ "REG  Mary Wanjiku  Nakuru", 1, "Mary Wanjiku  Nakuru" },
		{ "REG  Mary Wanjiku  Nakuru", 2, "Wanjiku  Nakuru" },
		{ "REG  Mary Wanjiku  Nakuru", 3, "Nakuru" },
		{ "REG  Mary Wanjiku  Nakuru", 4, "" },
		{ "REG  Mary Wanjiku  Nakuru", SIZE_MAX, "" },
		{ "  REG Mary  \t\r\n", 1, "Mary" },
		{ "REG \"Mary W\"  ", 1, "\"Mary W\"" },
		{ "REG Mary ...", 1, "Mary ..." },
		{ "REG ... Mary", 1, "Mary" },
		{ "REG" NBSP "Mary" IDSP, 1, "Mary" },
		{ "REG" IDSP "Mary" NBSP "Wanjiku" NBSP, 1,
		    "Mary" NBSP "Wanjiku" },
		{ "SELL maize 10 bags 3,000/= ", 4, "3,000/=" },
		{ "KSh 3000 ok", 0, "3000 ok" },
		{ "KSh 3000 ok", 1, "ok" },
		{ "3000 KES ok", 1, "ok" },
		{ "REJECT 41 MAÏS mbaya sana!", 2, "MAÏS mbaya sana!" },
		{ "SELL KSh 6 000 ok", 1, "6 000 ok" },
		{ "SELL KSh 6 000 ok", 2, "ok" },
		{ "", 0, "" },
		{ "   ", 0, "" },
	};

	return cr_make_param_array(struct words_rest_case, cases,
	    sizeof(cases) / sizeof(cases[0]));
}

ParameterizedTest(struct words_rest_case *c, words, rest)
{
	struct words	 w;
	const char	*r;

	cr_assert_eq(words_split(c->text, words_test_currencies,
	    WORDS_TEST_NCURRENCIES, &w), 0);
	r = words_rest(&w, c->i);
	cr_assert_not_null(r);
	cr_assert_str_eq(r, c->expect, "rest(\"%s\", %zu): got \"%s\"",
	    c->text, c->i, r);
	cr_assert_str_eq(w.text, c->text, "rest changed the text as given");
	words_free(&w);
}

/* --- words_number --------------------------------------------------------- */

struct words_number_case {
	int		 null;		/* pass NULL, not s */
	char		 s[40];
	long long	 min, max;
	int		 ok;
	long long	 value;		/* when ok */
};

ParameterizedTestParameters(words, number)
{
	static struct words_number_case cases[] = {
		{ 0, "3000", 0, 10000, 1, 3000 },
		{ 0, "0", 0, 0, 1, 0 },
		{ 0, "007", 0, 10, 1, 7 },
		{ 0, "11", 11, 20, 1, 11 },
		{ 0, "20", 11, 20, 1, 20 },
		{ 0, "10", 11, 20, 0, 0 },
		{ 0, "21", 11, 20, 0, 0 },
		{ 0, "5", -10, 10, 1, 5 },
		{ 0, "-5", -10, 10, 0, 0 },
		{ 0, "+5", 0, 10, 0, 0 },
		{ 0, "", 0, 10, 0, 0 },
		{ 1, "", 0, 10, 0, 0 },
		{ 0, "2.5", 0, 10, 0, 0 },
		{ 0, "3,000", 0, 10000, 0, 0 },
		{ 0, "12a", 0, 100, 0, 0 },
		{ 0, " 12", 0, 100, 0, 0 },
		{ 0, "12 ", 0, 100, 0, 0 },
		{ 0, "\xEF\xBC\x91", 0, 10, 0, 0 },	/* full-width 1 */
		{ 0, "9223372036854775807", 0, LLONG_MAX, 1, LLONG_MAX },
		{ 0, "9223372036854775806", 0, LLONG_MAX - 1, 1, LLONG_MAX - 1 },
		{ 0, "9223372036854775807", 0, LLONG_MAX - 1, 0, 0 },
		{ 0, "9223372036854775808", 0, LLONG_MAX, 0, 0 },
		{ 0, "9223372036854775810", 0, LLONG_MAX, 0, 0 },
		{ 0, "99999999999999999999999", 0, LLONG_MAX, 0, 0 },
		{ 0, "00000000000000000000000000000001", 0, 10, 1, 1 },
		{ 0, "1", 5, 2, 0, 0 },			/* empty range */
	};

	return cr_make_param_array(struct words_number_case, cases,
	    sizeof(cases) / sizeof(cases[0]));
}

ParameterizedTest(struct words_number_case *c, words, number)
{
	long long	v = -42;
	int		ok;

	ok = words_number(c->null ? NULL : c->s, c->min, c->max, &v);
	cr_assert_eq(ok, c->ok, "words_number(\"%s\", %lld, %lld) = %d",
	    c->null ? "(null)" : c->s, c->min, c->max, ok);
	if (c->ok)
		cr_assert_eq(v, c->value, "value %lld, want %lld", v,
		    c->value);
	else
		cr_assert_eq(v, -42, "*out set on failure");
}

Test(words, number_null_out)
{
	cr_assert_eq(words_number("12", 0, 100, NULL), 1);
}

/* --- words_distance ------------------------------------------------------- */

struct words_distance_case {
	char		 a[32], b[32];
	int		 max;
	int		 expect;
};

ParameterizedTestParameters(words, distance)
{
	static struct words_distance_case cases[] = {
		{ "maiz", "maize", 3, 1 },
		{ "sel", "sell", 3, 1 },
		{ "slel", "sell", 3, 1 },	/* transposition */
		{ "ab", "ba", 1, 1 },
		{ "abcd", "badc", 5, 2 },
		{ "ca", "abc", 5, 3 },		/* OSA, not unrestricted */
		{ "", "abc", 3, 3 },
		{ "abc", "", 5, 3 },
		{ "", "", 0, 0 },
		{ "sell", "sell", 0, 0 },
		{ "sell", "uza", 10, 4 },
		{ "mahindi", "mahindii", 1, 1 },
		{ "maharagwe", "maharagw", 2, 1 },
		{ "kitten", "sitting", 5, 3 },
		{ "maïs", "mais", 3, 1 },	/* code points, not bytes */
		{ "maïs", "maïs", 0, 0 },
		{ "maïs", "mïas", 3, 1 },
		{ "玉米", "玉", 1, 1 },
		{ "玉米", "米玉", 1, 1 },
		{ "卖", "买", 2, 1 },
		{ "\xFF", "\xFE", 2, 1 },
		{ "\xFF", "", 2, 1 },
		{ "\xC3\xA9", "\xC3", 2, 1 },	/* é and a cut byte */
		{ "\xC3\xA9", "\xC3\xA9\xA9", 2, 1 },
		/* early exit: max + 1 */
		{ "kitten", "sitting", 2, 3 },
		{ "kitten", "sitting", 0, 1 },
		{ "abc", "xyz", 1, 2 },
		{ "abcdef", "", 2, 3 },
		{ "sell", "buy", 1, 2 },
		{ "aaaaaaaa", "bbbbbbbb", 3, 4 },
		/* odd max */
		{ "a", "b", -1, 1 },
		{ "a", "a", -5, 0 },
		{ "abc", "abd", INT_MAX, 1 },
		{ "abc", "xyz", INT_MAX, 3 },
	};

	return cr_make_param_array(struct words_distance_case, cases,
	    sizeof(cases) / sizeof(cases[0]));
}

ParameterizedTest(struct words_distance_case *c, words, distance)
{
	int	d;

	d = words_distance(c->a, c->b, c->max);
	cr_assert_eq(d, c->expect, "distance(\"%s\", \"%s\", %d) = %d, want %d",
	    c->a, c->b, c->max, d, c->expect);
	d = words_distance(c->b, c->a, c->max);
	cr_assert_eq(d, c->expect, "distance(\"%s\", \"%s\", %d) = %d, want %d",
	    c->b, c->a, c->max, d, c->expect);
}

Test(words, distance_long)
{
	char	a[402], b[402];

	memset(a, 'a', 400);
	a[400] = '\0';
	memcpy(b, a, 401);
	cr_assert_eq(words_distance(a, b, 3), 0, "equal long strings");
	b[400] = 'b';
	b[401] = '\0';
	/* past the work cap: "too far" even though one edit apart */
	cr_assert_eq(words_distance(a, b, 3), 4);
	cr_assert_eq(words_distance(a, "sell", 3), 4);
	cr_assert_eq(words_distance(a, "sell", INT_MAX), INT_MAX);
	/* just inside the cap (256 code points): exact */
	a[256] = '\0';
	memcpy(b, a, 257);
	b[255] = 'b';
	cr_assert_eq(words_distance(a, b, 3), 1);
	b[254] = 'c';
	cr_assert_eq(words_distance(a, b, 3), 2);
	b[100] = 'd';
	cr_assert_eq(words_distance(a, b, 3), 3);
	cr_assert_eq(words_distance(a, b, 2), 3);
	b[255] = '\0';		/* 255 against 256 */
	cr_assert_eq(words_distance(a, b, 3), 3);
}

/* The plain O(n*m) optimal string alignment distance, on bytes. */
static int
words_test_osa(const char *a, const char *b)
{
	int	d[9][9];
	size_t	la = strlen(a), lb = strlen(b), i, j;
	int	v;

	for (i = 0; i <= la; i++)
		d[i][0] = (int)i;
	for (j = 0; j <= lb; j++)
		d[0][j] = (int)j;
	for (i = 1; i <= la; i++)
		for (j = 1; j <= lb; j++) {
			v = d[i - 1][j - 1] + (a[i - 1] != b[j - 1]);
			if (d[i - 1][j] + 1 < v)
				v = d[i - 1][j] + 1;
			if (d[i][j - 1] + 1 < v)
				v = d[i][j - 1] + 1;
			if (i > 1 && j > 1 && a[i - 1] == b[j - 2] &&
			    a[i - 2] == b[j - 1] && d[i - 2][j - 2] + 1 < v)
				v = d[i - 2][j - 2] + 1;
			d[i][j] = v;
		}
	return d[la][lb];
}

/* words_distance() agrees with the plain algorithm on random short pairs. */
Test(words, distance_reference)
{
	char		a[9], b[9];
	uint32_t	x = 777;
	size_t		la, lb, i;
	int		round, max, want, got;

	for (round = 0; round < 5000; round++) {
		x = x * 1103515245u + 12345u;
		la = (x >> 16) % 9;
		x = x * 1103515245u + 12345u;
		lb = (x >> 16) % 9;
		for (i = 0; i < la; i++) {
			x = x * 1103515245u + 12345u;
			a[i] = "abc"[(x >> 16) % 3];
		}
		a[la] = '\0';
		for (i = 0; i < lb; i++) {
			x = x * 1103515245u + 12345u;
			b[i] = "abc"[(x >> 16) % 3];
		}
		b[lb] = '\0';
		x = x * 1103515245u + 12345u;
		max = (int)((x >> 16) % 10);
		want = words_test_osa(a, b);
		if (want > max)
			want = max + 1;
		got = words_distance(a, b, max);
		cr_assert_eq(got, want, "distance(\"%s\", \"%s\", %d) = %d, "
		    "want %d", a, b, max, got, want);
	}
}

/*
 * words_split_with() and a set folded once by words_currencies_new() give
 * what words_split_dict() gives folding its list per call: words, offsets,
 * other readings and rest, for texts short enough for the stack scratch
 * and longer ones, with and without a dictionary.
 */
Test(words, currencies_folded_once_split_alike)
{
	static const char *const texts[] = {
		"sell maize 10 bags 3,000/=", "KSh 6 000 F", "#41 2.500 Kes",
		"\xE5\x8D\x96\xE7\x8E\x89\xE7\xB1\xB3" "10\xE8\xA2\x8B" "3000\xE5\x85\x83",
		"10kg 12abc ksh.3,000 \"Mary\" (2.5)", "", "   ",
		"\xEF\xBC\xB3\xEF\xBC\xA5\xEF\xBC\xAC\xEF\xBC\xAC 3.000.000 FCFA",
	};
	struct words_currencies	*cur;
	struct words_dict	*dict;
	struct words		 a, b;
	char			*big, *ja, *jb;
	size_t			 i, k, t, len = 3000;
	uint32_t		 x = 7;

	cr_assert_not_null(cur = words_currencies_new(words_test_currencies,
	    WORDS_TEST_NCURRENCIES));
	cr_assert_not_null(dict = words_dict_new());
	cr_assert_eq(words_dict_add(dict, "\xE5\x8D\x96"), 0);
	cr_assert_eq(words_dict_add(dict, "\xE7\x8E\x89\xE7\xB1\xB3"), 0);
	cr_assert_eq(words_dict_add(dict, "\xE8\xA2\x8B"), 0);
	cr_assert_eq(words_dict_add(dict, "kg"), 0);
	cr_assert_not_null(big = malloc(len + 1));
	words_test_soup(big, len, x);
	for (t = 0; t <= sizeof(texts) / sizeof(texts[0]); t++) {
		const char *text = t < sizeof(texts) / sizeof(texts[0]) ?
		    texts[t] : big;

		for (k = 0; k < 2; k++) {
			cr_assert_eq(words_split_dict(text,
			    words_test_currencies, WORDS_TEST_NCURRENCIES,
			    k ? dict : NULL, &a), 0);
			cr_assert_eq(words_split_with(text, cur,
			    k ? dict : NULL, &b), 0);
			ja = words_test_join(&a);
			jb = words_test_join(&b);
			cr_assert_str_eq(ja, jb, "%s", text);
			for (i = 0; i < a.n; i++) {
				cr_assert_eq(a.offset[i], b.offset[i]);
				cr_assert_str_eq(words_rest(&a, i),
				    words_rest(&b, i));
				cr_assert_eq(a.other[i] == NULL,
				    b.other[i] == NULL);
				if (a.other[i] != NULL)
					cr_assert_str_eq(a.other[i],
					    b.other[i]);
			}
			free(ja);
			free(jb);
			words_free(&a);
			words_free(&b);
		}
	}
	/* no currencies at all: NULL and an empty set alike */
	words_currencies_free(cur);
	cr_assert_not_null(cur = words_currencies_new(NULL, 0));
	cr_assert_eq(words_split_with("3000 kes", cur, NULL, &a), 0);
	cr_assert_eq(words_split_with("3000 kes", NULL, NULL, &b), 0);
	cr_assert_eq(a.n, 2);
	cr_assert_eq(b.n, 2);
	words_free(&a);
	words_free(&b);
	words_currencies_free(cur);
	words_currencies_free(NULL);
	words_dict_free(dict);
	free(big);
}
