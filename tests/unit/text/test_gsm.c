/*
 * test_gsm.c - Criterion tests for gsm.c: the GSM 03.38 alphabet, lengths
 * and part counts, cutting concatenated SMS, and normalising MO bytes
 * to UTF-8.
 */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <criterion/criterion.h>
#include <criterion/parameterized.h>

#include "text/gsm.h"

#define EURO	"\xE2\x82\xAC"		/* U+20AC, extension table */
#define NI	"\xE4\xBD\xA0"		/* U+4F60 你 */
#define HAO	"\xE5\xA5\xBD"		/* U+597D 好 */
#define GRIN	"\xF0\x9F\x98\x80"	/* U+1F600, a surrogate pair */
#define FFFD	"\xEF\xBF\xBD"

/* A malloc'd string of n copies of unit. */
static char *
gsm_test_repeat(const char *unit, size_t n)
{
	size_t	 ul = strlen(unit), i;
	char	*s;

	s = malloc(ul * n + 1);
	cr_assert_not_null(s);
	for (i = 0; i < n; i++)
		memcpy(s + i * ul, unit, ul);
	s[ul * n] = '\0';
	return s;
}

/* Concatenate a, b and c into a malloc'd string. */
static char *
gsm_test_cat(const char *a, const char *b, const char *c)
{
	size_t	 la = strlen(a), lb = strlen(b), lc = strlen(c);
	char	*s;

	s = malloc(la + lb + lc + 1);
	cr_assert_not_null(s);
	memcpy(s, a, la);
	memcpy(s + la, b, lb);
	memcpy(s + la + lb, c, lc + 1);
	return s;
}

static size_t
gsm_test_split(const char *text, size_t max, char ***parts, int *trunc)
{
	size_t	n;

	*trunc = -1;
	n = gsm_split(text, strlen(text), max, parts, trunc);
	cr_assert_gt(n, 0);
	cr_assert_not_null(*parts);
	return n;
}

/*
 * Check the invariants of an untruncated split: every part fits the part
 * limit in the text's coding, and the parts joined give back the text
 * (less blanks at its very end), as a handset joins them.
 */
static void
gsm_test_check_parts(const char *text, char **parts, size_t n)
{
	struct gsm_measure	 m, pm;
	size_t			 len = strlen(text), off = 0, i, pl, ul;
	unsigned char		*u;

	gsm_measure(text, len, &m);
	cr_assert_eq(n, m.parts, "split gave %zu parts, measure %zu", n,
	    m.parts);
	for (i = 0; i < n; i++) {
		pl = strlen(parts[i]);
		if (n > 1) {
			if (m.coding == GSM_CODING_7BIT) {
				gsm_measure(parts[i], pl, &pm);
				cr_assert_eq(pm.coding, GSM_CODING_7BIT);
				cr_assert_leq(pm.units, GSM_SEPTETS_PART,
				    "part %zu has %zu septets", i, pm.units);
			} else {
				u = gsm_utf8_to_ucs2(parts[i], pl, &ul);
				cr_assert_not_null(u);
				free(u);
				cr_assert_leq(ul / 2, GSM_UCS2_PART,
				    "part %zu has %zu units", i, ul / 2);
			}
		}
		cr_assert_leq(off + pl, len);
		cr_assert(memcmp(text + off, parts[i], pl) == 0,
		    "part %zu differs from the text at %zu", i, off);
		off += pl;
	}
	while (off < len && text[off] == ' ')
		off++;		/* trailing blanks make no part */
	cr_assert_eq(off, len, "parts cover %zu of %zu bytes", off, len);
}

/* gsm_char_septets */

struct gsm_septet_case {
	unsigned long	cp;
	int		ok;
	int		septets;
};

ParameterizedTestParameters(gsm, char_septets)
{
	static struct gsm_septet_case cases[] = {
		{ '@', 1, 1 }, { 'A', 1, 1 }, { 'z', 1, 1 }, { '0', 1, 1 },
		{ ' ', 1, 1 }, { '\n', 1, 1 }, { '\r', 1, 1 }, { '$', 1, 1 },
		{ '_', 1, 1 }, { 0x00A3, 1, 1 } /* £ */,
		{ 0x00E0, 1, 1 } /* à */, { 0x0394, 1, 1 } /* Δ */,
		{ 0x00DF, 1, 1 } /* ß */, { 0x00A4, 1, 1 } /* ¤ */,
		{ 0x00C7, 1, 1 } /* Ç */, { 0x00BF, 1, 1 } /* ¿ */,
		{ '\f', 1, 2 }, { '^', 1, 2 }, { '{', 1, 2 }, { '}', 1, 2 },
		{ '\\', 1, 2 }, { '[', 1, 2 }, { '~', 1, 2 }, { ']', 1, 2 },
		{ '|', 1, 2 }, { 0x20AC, 1, 2 } /* € */,
		{ '`', 0, 0 }, { 0, 0, 0 }, { '\t', 0, 0 }, { 0x1B, 0, 0 },
		{ 0x00E7, 0, 0 } /* ç */, { 0x00E2, 0, 0 } /* â */,
		{ 0x03B1, 0, 0 } /* α */, { 0x4F60, 0, 0 }, { 0x1F600, 0, 0 },
		{ 0xFFFD, 0, 0 }, { 0x110000, 0, 0 }
	};

	return cr_make_param_array(struct gsm_septet_case, cases,
	    sizeof(cases) / sizeof(cases[0]));
}

ParameterizedTest(struct gsm_septet_case *c, gsm, char_septets)
{
	int	septets = -1;

	cr_assert_eq(gsm_char_septets(c->cp, &septets), c->ok,
	    "U+%04lX", c->cp);
	if (c->ok)
		cr_assert_eq(septets, c->septets, "U+%04lX", c->cp);
	else
		cr_assert_eq(septets, -1, "U+%04lX changed *septets", c->cp);
}

/* gsm_measure */

Test(gsm, measure_table)
{
	static const struct {
		const char	*text;
		enum gsm_coding	 coding;
		size_t		 units;
	} cases[] = {
		{ "", GSM_CODING_7BIT, 0 },
		{ "Hello", GSM_CODING_7BIT, 5 },
		{ "Habari za asubuhi? Mahindi KSh 3,500 kwa gunia.",
		    GSM_CODING_7BIT, 47 },
		{ "\xC3\xA9t\xC3\xA9 \xC2\xA3" "5 @ \xC3\x9C", /* été £5 @ Ü */
		    GSM_CODING_7BIT, 10 },
		{ EURO, GSM_CODING_7BIT, 2 },
		{ "{a}[b]", GSM_CODING_7BIT, 10 },
		{ "5" EURO " ~x", GSM_CODING_7BIT, 7 },
		{ NI HAO, GSM_CODING_UCS2, 2 },
		{ GRIN, GSM_CODING_UCS2, 2 },
		{ "ok " GRIN, GSM_CODING_UCS2, 5 },
		{ "a`b", GSM_CODING_UCS2, 3 },
		{ EURO "\xC3\xA7", GSM_CODING_UCS2, 2 },	/* €ç */
		{ "a\xFF" "b", GSM_CODING_UCS2, 3 },		/* invalid */
	};
	struct gsm_measure	m;
	size_t			i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		gsm_measure(cases[i].text, strlen(cases[i].text), &m);
		cr_expect_eq(m.coding, cases[i].coding, "case %zu coding", i);
		cr_expect_eq(m.units, cases[i].units, "case %zu: %zu units",
		    i, m.units);
		cr_expect_eq(m.parts, 1, "case %zu parts", i);
	}
}

Test(gsm, measure_septet_boundaries)
{
	static const struct {
		size_t	n;
		size_t	parts;
	} cases[] = {
		{ 160, 1 }, { 161, 2 }, { 306, 2 }, { 307, 3 }, { 459, 3 },
		{ 460, 4 }
	};
	struct gsm_measure	 m;
	size_t			 i;
	char			*s;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		s = gsm_test_repeat("a", cases[i].n);
		gsm_measure(s, cases[i].n, &m);
		cr_expect_eq(m.coding, GSM_CODING_7BIT);
		cr_expect_eq(m.units, cases[i].n);
		cr_expect_eq(m.parts, cases[i].parts, "%zu septets: %zu parts",
		    cases[i].n, m.parts);
		free(s);
	}
}

Test(gsm, measure_ucs2_boundaries)
{
	static const struct {
		size_t	n;
		size_t	parts;
	} cases[] = {
		{ 70, 1 }, { 71, 2 }, { 134, 2 }, { 135, 3 }
	};
	struct gsm_measure	 m;
	size_t			 i;
	char			*s;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		s = gsm_test_repeat(NI, cases[i].n);
		gsm_measure(s, strlen(s), &m);
		cr_expect_eq(m.coding, GSM_CODING_UCS2);
		cr_expect_eq(m.units, cases[i].n);
		cr_expect_eq(m.parts, cases[i].parts, "%zu units: %zu parts",
		    cases[i].n, m.parts);
		free(s);
	}
}

Test(gsm, measure_extension_at_limit)
{
	struct gsm_measure	 m;
	char			*a, *s;

	/* 159 + 2 septets: the euro does not fit a single SMS */
	a = gsm_test_repeat("a", 159);
	s = gsm_test_cat(a, EURO, "");
	gsm_measure(s, strlen(s), &m);
	cr_assert_eq(m.coding, GSM_CODING_7BIT);
	cr_assert_eq(m.units, 161);
	cr_assert_eq(m.parts, 2);
	free(a);
	free(s);

	/* 80 euros are 160 septets: exactly one SMS */
	s = gsm_test_repeat(EURO, 80);
	gsm_measure(s, strlen(s), &m);
	cr_assert_eq(m.units, 160);
	cr_assert_eq(m.parts, 1);
	free(s);
}

Test(gsm, measure_null_empty)
{
	struct gsm_measure	m;

	gsm_measure(NULL, 0, &m);
	cr_assert_eq(m.coding, GSM_CODING_7BIT);
	cr_assert_eq(m.units, 0);
	cr_assert_eq(m.parts, 1);
}

Test(gsm, octets_by_coding)
{
	static const struct {
		const char	*unit;
		size_t		 n, octets;
	} cases[] = {
		{ "a", 0, 0 }, { "a", 1, 1 }, { "a", 8, 7 }, { "a", 9, 8 },
		{ "a", 160, 140 }, { "a", 182, 160 }, { "a", 183, 161 },
		/* an extension character is two septets */
		{ EURO, 91, 160 }, { EURO, 92, 161 },
		/* one character outside GSM makes the whole text UCS-2 */
		{ NI, 1, 2 }, { NI, 80, 160 }, { NI, 81, 162 },
		/* outside the BMP: a surrogate pair, 4 octets */
		{ GRIN, 40, 160 }, { GRIN, 41, 164 },
	};
	size_t	 i;
	char	*s;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		s = gsm_test_repeat(cases[i].unit, cases[i].n);
		cr_expect_eq(gsm_octets(s, strlen(s)), cases[i].octets,
		    "case %zu: %zu octets, not %zu", i, gsm_octets(s,
		    strlen(s)), cases[i].octets);
		free(s);
	}
	/* "(le vôtre)": 10 characters, but 20 octets with the ô */
	cr_expect_eq(gsm_octets("(le votre)", 10), 9);
	cr_expect_eq(gsm_octets("(le v\xC3\xB4tre)", 11), 20);
}

/* gsm_split */

Test(gsm, split_empty)
{
	char	**p;
	int	  t;
	size_t	  n;

	n = gsm_test_split("", 0, &p, &t);
	cr_assert_eq(n, 1);
	cr_assert_str_eq(p[0], "");
	cr_assert_eq(t, 0);
	gsm_parts_free(p, n);
	gsm_parts_free(NULL, 0);
}

Test(gsm, split_single_160)
{
	char	**p, *s;
	int	  t;
	size_t	  n;

	s = gsm_test_repeat("a b ", 40);		/* 160 septets */
	n = gsm_test_split(s, 0, &p, &t);
	cr_assert_eq(n, 1);
	cr_assert_str_eq(p[0], s);
	cr_assert_eq(t, 0);
	gsm_parts_free(p, n);
	free(s);
}

Test(gsm, split_161_septets)
{
	char	**p, *s;
	int	  t;
	size_t	  n;

	s = gsm_test_repeat("a", 161);
	n = gsm_test_split(s, 0, &p, &t);
	cr_assert_eq(n, 2);
	cr_assert_eq(strlen(p[0]), 153);
	cr_assert_eq(strlen(p[1]), 8);
	cr_assert_eq(t, 0);
	gsm_test_check_parts(s, p, n);
	gsm_parts_free(p, n);
	free(s);
}

Test(gsm, split_306_and_307_septets)
{
	char	**p, *s;
	int	  t;
	size_t	  n;

	s = gsm_test_repeat("x", 306);
	n = gsm_test_split(s, 0, &p, &t);
	cr_assert_eq(n, 2);
	cr_assert_eq(strlen(p[0]), 153);
	cr_assert_eq(strlen(p[1]), 153);
	gsm_test_check_parts(s, p, n);
	gsm_parts_free(p, n);
	free(s);

	s = gsm_test_repeat("x", 307);
	n = gsm_test_split(s, 0, &p, &t);
	cr_assert_eq(n, 3);
	cr_assert_str_eq(p[2], "x");
	gsm_test_check_parts(s, p, n);
	gsm_parts_free(p, n);
	free(s);
}

Test(gsm, split_ucs2_71_units)
{
	char		**p, *s, *want;
	int		  t;
	size_t		  n;

	s = gsm_test_repeat(NI, 71);
	n = gsm_test_split(s, 0, &p, &t);
	cr_assert_eq(n, 2);
	want = gsm_test_repeat(NI, 67);
	cr_assert_str_eq(p[0], want);
	free(want);
	want = gsm_test_repeat(NI, 4);
	cr_assert_str_eq(p[1], want);
	free(want);
	gsm_test_check_parts(s, p, n);
	gsm_parts_free(p, n);
	free(s);
}

Test(gsm, split_extension_not_split)
{
	char	**p, *a, *s;
	int	  t;
	size_t	  n;

	/* 152 septets, then a 2-septet euro straddling 153 */
	a = gsm_test_repeat("a", 152);
	s = gsm_test_cat(a, EURO, "bbbbbbbbbb");
	n = gsm_test_split(s, 0, &p, &t);
	cr_assert_eq(n, 2);
	cr_assert_str_eq(p[0], a);
	cr_assert_str_eq(p[1], EURO "bbbbbbbbbb");
	gsm_test_check_parts(s, p, n);
	gsm_parts_free(p, n);
	free(a);
	free(s);
}

Test(gsm, split_surrogate_pair_not_split)
{
	char	**p, *a, *s;
	int	  t;
	size_t	  n;

	/* 66 units, then an emoji (2 units) straddling 67 */
	a = gsm_test_repeat(NI, 66);
	s = gsm_test_cat(a, GRIN, NI NI NI NI NI);
	n = gsm_test_split(s, 0, &p, &t);
	cr_assert_eq(n, 2);
	cr_assert_str_eq(p[0], a);
	cr_assert_str_eq(p[1], GRIN NI NI NI NI NI);
	gsm_test_check_parts(s, p, n);
	gsm_parts_free(p, n);
	free(a);
	free(s);
}

Test(gsm, split_prefers_word_boundary)
{
	char	**p, *s;
	int	  t;
	size_t	  n;

	/* spaces at 9, 19, ... 149; 153 falls inside "abcdefghi" */
	s = gsm_test_repeat("abcdefghi ", 20);
	n = gsm_test_split(s, 0, &p, &t);
	cr_assert_eq(n, 2);
	cr_assert_eq(strlen(p[0]), 150);
	cr_assert_eq(p[0][148], 'i');
	cr_assert_eq(p[0][149], ' ');	/* the cut space stays */
	cr_assert_eq(strncmp(p[1], "abcdefghi ", 10), 0);
	cr_assert_eq(strlen(p[1]), 50);
	gsm_test_check_parts(s, p, n);
	gsm_parts_free(p, n);
	free(s);
}

Test(gsm, split_space_outside_window_ignored)
{
	char	**p, *a, *s;
	int	  t;
	size_t	  n;

	/* the only space is 30 septets before the cut: cut mid-word */
	a = gsm_test_repeat("w", 122);
	s = gsm_test_cat("hello ", a, "wwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwww");
	n = gsm_test_split(s, 0, &p, &t);
	cr_assert_eq(n, 2);
	cr_assert_eq(strlen(p[0]), 153);
	cr_assert_eq(strncmp(p[0], "hello w", 7), 0);
	gsm_test_check_parts(s, p, n);
	gsm_parts_free(p, n);
	free(a);
	free(s);
}

Test(gsm, split_space_right_after_full_part)
{
	char	**p, *a, *s;
	int	  t;
	size_t	  n;

	a = gsm_test_repeat("a", 153);
	s = gsm_test_cat(a, " ", "bbbbbbbbbb");
	n = gsm_test_split(s, 0, &p, &t);
	cr_assert_eq(n, 2);
	cr_assert_str_eq(p[0], a);
	cr_assert_str_eq(p[1], " bbbbbbbbbb");	/* the space leads */
	gsm_test_check_parts(s, p, n);
	gsm_parts_free(p, n);
	free(a);
	free(s);
}

Test(gsm, split_trailing_space_makes_no_part)
{
	char	**p, *a, *b, *s;
	int	  t;
	size_t	  n;
	struct gsm_measure m;

	a = gsm_test_repeat("a", 153);
	b = gsm_test_repeat("b", 153);
	s = gsm_test_cat(a, b, " ");
	gsm_measure(s, strlen(s), &m);
	cr_assert_eq(m.parts, 2);
	n = gsm_test_split(s, 2, &p, &t);
	cr_assert_eq(n, 2);
	cr_assert_eq(t, 0);
	cr_assert_str_eq(p[1], b);
	gsm_test_check_parts(s, p, n);
	gsm_parts_free(p, n);
	free(a);
	free(b);
	free(s);
}

Test(gsm, split_ucs2_word_boundary)
{
	char	**p, *s;
	int	  t;
	size_t	  n;

	/* "你好你好 " is 5 units; spaces at 4, 9, ... 64 */
	s = gsm_test_repeat(NI HAO NI HAO " ", 20);
	n = gsm_test_split(s, 0, &p, &t);
	cr_assert_eq(n, 2);
	cr_assert_eq(strlen(p[0]), 13 * 13);	/* 65 units, space kept */
	gsm_test_check_parts(s, p, n);
	gsm_parts_free(p, n);
	free(s);
}

Test(gsm, split_truncates_at_max_parts)
{
	char	**p, *s, *want;
	int	  t;
	size_t	  n;

	s = gsm_test_repeat("a", 400);
	n = gsm_test_split(s, 2, &p, &t);
	cr_assert_eq(n, 2);
	cr_assert_eq(t, 1);
	cr_assert_eq(strlen(p[0]), 153);
	want = gsm_test_repeat("a", 150);
	cr_assert_eq(strlen(p[1]), 153);
	cr_assert_eq(strncmp(p[1], want, 150), 0);
	cr_assert_str_eq(p[1] + 150, "...");
	free(want);
	gsm_parts_free(p, n);

	n = gsm_test_split(s, 1, &p, &t);
	cr_assert_eq(n, 1);
	cr_assert_eq(t, 1);
	cr_assert_eq(strlen(p[0]), 153);
	cr_assert_str_eq(p[0] + 150, "...");
	gsm_parts_free(p, n);
	free(s);
}

Test(gsm, split_truncates_at_word)
{
	char	**p, *s;
	int	  t;
	size_t	  n;

	s = gsm_test_repeat("abcdefghi ", 40);
	n = gsm_test_split(s, 1, &p, &t);
	cr_assert_eq(n, 1);
	cr_assert_eq(t, 1);
	/* 150 septets allowed: last space at 149 -> 149 chars + "..." */
	cr_assert_eq(strlen(p[0]), 152);
	cr_assert_str_eq(p[0] + 140, "abcdefghi...");
	gsm_parts_free(p, n);
	free(s);
}

Test(gsm, split_truncates_ucs2)
{
	char		**p, *s, *want;
	int		  t;
	size_t		  n, ul;
	unsigned char	 *u;

	s = gsm_test_repeat(NI, 200);
	n = gsm_test_split(s, 2, &p, &t);
	cr_assert_eq(n, 2);
	cr_assert_eq(t, 1);
	want = gsm_test_repeat(NI, 64);
	cr_assert_eq(strncmp(p[1], want, strlen(want)), 0);
	cr_assert_str_eq(p[1] + strlen(want), "...");
	u = gsm_utf8_to_ucs2(p[1], strlen(p[1]), &ul);
	cr_assert_eq(ul, 2 * GSM_UCS2_PART);
	free(u);
	free(want);
	gsm_parts_free(p, n);
	free(s);
}

Test(gsm, split_max_parts_not_exceeded)
{
	char	**p, *s;
	int	  t;
	size_t	  n;

	s = gsm_test_repeat("a", 306);
	n = gsm_test_split(s, 2, &p, &t);
	cr_assert_eq(n, 2);
	cr_assert_eq(t, 0);
	gsm_test_check_parts(s, p, n);
	gsm_parts_free(p, n);
	free(s);
}

/* Deterministic pseudo-random texts mixing every kind of character. */
Test(gsm, split_invariants_mixed)
{
	static const char *const pieces[] = {
		"a", "Z", "9", " ", " ", " ", "\xC3\xA9", EURO, "{", "\n",
		"\xC3\x9F", "\xCE\x94"
	};
	static const char *const ucs2_pieces[] = { NI, GRIN, "`" };
	char	**p, *s;
	size_t	  n, i, k, len, cap;
	unsigned long rnd = 12345;
	int	  t, round;

	for (round = 0; round < 60; round++) {
		cap = 4096;
		s = malloc(cap);
		cr_assert_not_null(s);
		len = 0;
		k = 100 + (size_t)round * 9;
		for (i = 0; i < k; i++) {
			const char *pc;

			rnd = rnd * 1103515245UL + 12345UL;
			if (round % 2 == 1 && (rnd >> 16) % 7 == 0)
				pc = ucs2_pieces[(rnd >> 8) % 3];
			else
				pc = pieces[(rnd >> 8) %
				    (sizeof(pieces) / sizeof(pieces[0]))];
			cr_assert_lt(len + strlen(pc), cap);
			memcpy(s + len, pc, strlen(pc));
			len += strlen(pc);
		}
		s[len] = '\0';
		n = gsm_test_split(s, 0, &p, &t);
		cr_assert_eq(t, 0);
		gsm_test_check_parts(s, p, n);
		gsm_parts_free(p, n);
		free(s);
	}
}

/* gsm_to_utf8 */

struct gsm_conv_case {
	const char	*in;
	size_t		 inlen;
	int		 coding;
	const char	*out;
	size_t		 outlen;
	size_t		 replaced;
};

static void
gsm_test_conv(const struct gsm_conv_case *c, size_t ncases)
{
	size_t	 i, ol, r;
	char	*o;

	for (i = 0; i < ncases; i++) {
		ol = r = 999;
		o = gsm_to_utf8((const unsigned char *)c[i].in, c[i].inlen,
		    c[i].coding, &ol, &r);
		cr_assert_not_null(o);
		cr_expect_eq(ol, c[i].outlen, "case %zu: outlen %zu", i, ol);
		cr_expect(memcmp(o, c[i].out, c[i].outlen) == 0 &&
		    o[c[i].outlen] == '\0', "case %zu: output differs", i);
		cr_expect_eq(r, c[i].replaced, "case %zu: replaced %zu", i,
		    r);
		free(o);
	}
}

#define CASE(in, coding, out, rep) \
	{ in, sizeof(in) - 1, coding, out, sizeof(out) - 1, rep }

Test(gsm, to_utf8_invalid_utf8)
{
	static const struct gsm_conv_case cases[] = {
		CASE("h\xC3\xA9llo " NI " " GRIN, 0,
		    "h\xC3\xA9llo " NI " " GRIN, 0),
		CASE("a\xFF" "b", 0, "a" FFFD "b", 1),
		CASE("\x80", 0, FFFD, 1),			/* lone tail */
		CASE("\xC0\xAF", 0, FFFD FFFD, 2),		/* overlong / */
		CASE("\xC1\xBF", 0, FFFD FFFD, 2),
		CASE("\xE0\x80\xAF", 0, FFFD FFFD FFFD, 3),	/* overlong */
		CASE("\xF0\x80\x80\xAF", 0, FFFD FFFD FFFD FFFD, 4),
		CASE("\xED\xA0\x80", 0, FFFD FFFD FFFD, 3),	/* surrogate */
		CASE("\xED\xBF\xBF" "x", 0, FFFD FFFD FFFD "x", 3),
		CASE("\xF4\x90\x80\x80", 0, FFFD FFFD FFFD FFFD, 4),
		CASE("\xF5\x80", 0, FFFD FFFD, 2),		/* > U+10FFFF */
		CASE("a\xE4\xBD", 0, "a" FFFD, 1),		/* truncated */
		CASE("\xF0\x9F\x98", 0, FFFD, 1),
		CASE("\xE4\xBD" "b", 0, FFFD "b", 1),
		CASE("\xF4\x8F\xBF\xBF", 0, "\xF4\x8F\xBF\xBF", 0),
		CASE("a\0b", 0, "a b", 0),			/* NUL */
		CASE("\xFF", 7, FFFD, 1),		/* unknown coding */
	};

	gsm_test_conv(cases, sizeof(cases) / sizeof(cases[0]));
}

Test(gsm, to_utf8_latin1)
{
	static const struct gsm_conv_case cases[] = {
		CASE("caf\xE9", 1, "caf\xC3\xA9", 0),
		CASE("\xA3" "5 \xFF", 1, "\xC2\xA3" "5 \xC3\xBF", 0),
		CASE("\x80\xA0", 1, "\xC2\x80\xC2\xA0", 0),
		CASE("a\0b\0", 1, "a b ", 0),
	};

	gsm_test_conv(cases, sizeof(cases) / sizeof(cases[0]));
}

Test(gsm, to_utf8_utf16be)
{
	static const struct gsm_conv_case cases[] = {
		CASE("\0H\0i", 2, "Hi", 0),
		CASE("\x4F\x60\x59\x7D", 2, NI HAO, 0),
		CASE("\x20\xAC", 2, EURO, 0),
		CASE("\xD8\x3D\xDE\x00", 2, GRIN, 0),	/* pair -> 4 bytes */
		CASE("\xDB\xFF\xDF\xFF", 2, "\xF4\x8F\xBF\xBF", 0),
		CASE("\0A\0", 2, "A" FFFD, 1),		/* odd length */
		CASE("\x41", 2, FFFD, 1),
		CASE("\xD8\x3D\0A", 2, FFFD "A", 1),	/* lone high */
		CASE("\0A\xD8\x3D", 2, "A" FFFD, 1),	/* high at end */
		CASE("\xDE\x00", 2, FFFD, 1),		/* lone low */
		CASE("\xDE\x00\xD8\x3D", 2, FFFD FFFD, 2), /* reversed */
		CASE("\xD8\x3D\xD8\x3D\xDE\x00", 2, FFFD GRIN, 1),
		CASE("\0\0\0a", 2, " a", 0),		/* NUL */
	};

	gsm_test_conv(cases, sizeof(cases) / sizeof(cases[0]));
}

Test(gsm, to_utf8_empty)
{
	size_t	 ol, r;
	char	*o;
	int	 coding;

	for (coding = 0; coding <= 2; coding++) {
		ol = r = 999;
		o = gsm_to_utf8(NULL, 0, coding, &ol, &r);
		cr_assert_not_null(o);
		cr_assert_str_eq(o, "");
		cr_assert_eq(ol, 0);
		cr_assert_eq(r, 0);
		free(o);
	}
	o = gsm_to_utf8((const unsigned char *)"x", 0, 0, NULL, NULL);
	cr_assert_not_null(o);
	cr_assert_str_eq(o, "");
	free(o);
}

/* gsm_utf8_to_ucs2 */

Test(gsm, ucs2_encode)
{
	static const unsigned char want[] = {
		0x00, 0x41, 0x20, 0xAC, 0x4F, 0x60, 0xD8, 0x3D, 0xDE, 0x00
	};
	const char	*s = "A" EURO NI GRIN;
	unsigned char	*u;
	size_t		 ul = 999;

	u = gsm_utf8_to_ucs2(s, strlen(s), &ul);
	cr_assert_not_null(u);
	cr_assert_eq(ul, sizeof(want));
	cr_assert_arr_eq(u, want, sizeof(want));
	free(u);

	u = gsm_utf8_to_ucs2("", 0, &ul);
	cr_assert_not_null(u);
	cr_assert_eq(ul, 0);
	free(u);
}

Test(gsm, ucs2_round_trip)
{
	static const char *const texts[] = {
		"",
		"Hello, world",
		"Habari " NI HAO " " GRIN " " EURO "5 \xC3\xA7\xC3\xA0",
		GRIN GRIN "`~\xF4\x8F\xBF\xBF",
	};
	unsigned char	*u;
	char		*o;
	size_t		 i, ul, ol, r;

	for (i = 0; i < sizeof(texts) / sizeof(texts[0]); i++) {
		u = gsm_utf8_to_ucs2(texts[i], strlen(texts[i]), &ul);
		cr_assert_not_null(u);
		o = gsm_to_utf8(u, ul, GSM_CODING_UCS2, &ol, &r);
		cr_assert_not_null(o);
		cr_expect_str_eq(o, texts[i], "text %zu", i);
		cr_expect_eq(ol, strlen(texts[i]));
		cr_expect_eq(r, 0);
		free(o);
		free(u);
	}
}

/* --- folding accents GSM lacks, when that saves an SMS -------------------- */

Test(gsm, fold_saves_a_part)
{
	/* 80 characters: two UCS-2 parts with the accent, one SMS without */
	const char	*t = "Offre #41: 10 sacs de maïs à 3 000 F le sac, "
			    "Nakuru. Acheteurs: ACHETER 41 qté…";
	struct gsm_measure	 m;
	char			*f;

	gsm_measure(t, strlen(t), &m);
	cr_assert_eq(m.coding, GSM_CODING_UCS2);
	cr_assert_eq(m.parts, 2);
	f = gsm_fold(t, strlen(t));
	cr_assert_not_null(f);
	cr_assert_str_eq(f, "Offre #41: 10 sacs de mais à 3 000 F le sac, "
	    "Nakuru. Acheteurs: ACHETER 41 qté...");
	gsm_measure(f, strlen(f), &m);
	cr_assert_eq(m.coding, GSM_CODING_7BIT);
	cr_assert_eq(m.parts, 1);
	free(f);
}

Test(gsm, fold_keeps_what_fits_or_cannot_fold)
{
	char	*long_zh = NULL;
	size_t	 i;

	/* GSM already; one UCS-2 SMS keeps its accents */
	cr_assert_null(gsm_fold("plain text", 10));
	cr_assert_null(gsm_fold("maïs", strlen("maïs")));
	/* Chinese has no GSM letters: never folded */
	long_zh = malloc(3 * 80 + 8);
	cr_assert_not_null(long_zh);
	strcpy(long_zh, "maïs ");
	for (i = 0; i < 80; i++)
		strcat(long_zh, "玉");
	cr_assert_null(gsm_fold(long_zh, strlen(long_zh)));
	free(long_zh);
	cr_assert_null(gsm_fold(NULL, 0));
}

Test(gsm, fold_capitals_ligatures_and_marks)
{
	char	 t[1024];
	char	*f;
	size_t	 i;

	t[0] = '\0';
	for (i = 0; i < 20; i++)
		strcat(t, "Œuvre ÎLE – «prêt» ’ ");
	f = gsm_fold(t, strlen(t));
	cr_assert_null(f, "« and » have no GSM letter here: left as it is");
	t[0] = '\0';
	for (i = 0; i < 20; i++)
		strcat(t, "Œuvre ÎLE – prêt’ ");
	f = gsm_fold(t, strlen(t));
	cr_assert_not_null(f);
	cr_assert(strncmp(f, "OEuvre ILE - pret' OEuvre", 25) == 0, "%s", f);
	free(f);
}
