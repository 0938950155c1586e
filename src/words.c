/*
 * words.c - from the text a phone sent to the words of a command: split on
 * white space, fold case and full-width forms, tidy numbers and amounts, so
 * that the router and the commands compare words without caring how they
 * were typed.  Also the two helpers commands need on such words: a bounded
 * number parser and a typo distance.
 *
 * Pure C, no libgw, no logging, malloc only.  It takes any bytes (it is
 * fuzzed by tests/fuzz/fuzz_words.c).
 *
 * Decisions the header leaves open:
 *  - Separators are ASCII white space and every other ASCII control
 *    character (0x01..0x20, 0x7F), and the Unicode white space and
 *    invisible breaks a keyboard can produce: U+0085, U+00A0, U+1680,
 *    U+2000..U+200B, U+2028, U+2029, U+202F, U+205F, U+3000, U+FEFF.
 *  - UTF-8 is decoded strictly (no overlongs, surrogates or code points
 *    past U+10FFFF); a byte that does not start a valid sequence is one
 *    "character" of its own, kept as it is.
 *  - Besides the ASCII punctuation the header lists, typographic quotes
 *    (U+2018, U+2019, U+201C, U+201D) and guillemets (U+00AB, U+00BB) are
 *    trimmed from the ends of a word: smartphones type them for ' and ".
 *  - A word that is a lone '#' is dropped too ("# 41" -> "41").
 *  - A number is digits, then any number of groups of a separator (',' '.'
 *    or '\'') and exactly 3 digits, which are joined ("3,000" -> "3000");
 *    then, optionally, a '.' or ',' and digits kept as a fraction ("2.5",
 *    "1,5", "3,000.50" -> "3000.50").  Whatever follows in the word is kept
 *    ("10kg"), unless it is "/=", "/-" or a currency, which is dropped.
 *  - A currency also goes when it stands before a number, attached
 *    ("ksh3000", "Ksh.3,000" -> "3000") or as the word before ("KSh 3000"
 *    -> "3000").  "/=" and "/-" standing alone after a number go as well.
 *    Currencies are compared after the same folding as words; NULL and
 *    empty entries are ignored.
 *  - words_rest(): "the text as typed" starts where word i's source token
 *    starts (leading punctuation included: REG "Mary" -> "\"Mary\"") and
 *    ends after the last non-separator of the text.  So that it can point
 *    into w->text while w->text stays the text as given, w->text is one
 *    block: the text, NUL; the same text cut after its last
 *    non-separator, NUL; then the words themselves (each word is never
 *    longer than its source token, so word i lives at its token's offset).
 *    words_free() releases the block through w->text; the words are not
 *    separately allocated.
 *  - words_distance() compares code points as given (no folding); an
 *    invalid byte counts as one code point unequal to every valid one.  To
 *    bound work and stack, strings of more than WORDS_DISTANCE_MAX code
 *    points are only known to be equal (0) or at least their length
 *    difference apart; otherwise they are reported as max + 1 ("too far").
 *    max < 0 is taken as 0, and max is capped so that max + 1 fits an int.
 */

#include <limits.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "words.h"

#define WORDS_INVALID		0x110000UL	/* + byte: an invalid byte */
#define WORDS_DISTANCE_MAX	256		/* code points, see above */

/*
 * Decode the code point at s[0..len) (len >= 1).  Sets *cp and returns
 * its length in bytes; a byte that does not start a valid sequence is
 * returned alone as WORDS_INVALID + byte.
 */
static size_t
words_decode(const unsigned char *s, size_t len, unsigned long *cp)
{
	unsigned long	c = s[0];
	size_t		n, i;
	unsigned char	lo = 0x80, hi = 0xBF;

	if (c < 0x80) {
		*cp = c;
		return 1;
	}
	if (c >= 0xC2 && c <= 0xDF) {
		n = 2;
		c &= 0x1F;
	} else if (c >= 0xE0 && c <= 0xEF) {
		n = 3;
		if (c == 0xE0)
			lo = 0xA0;	/* no overlongs */
		else if (c == 0xED)
			hi = 0x9F;	/* no surrogates */
		c &= 0x0F;
	} else if (c >= 0xF0 && c <= 0xF4) {
		n = 4;
		if (c == 0xF0)
			lo = 0x90;	/* no overlongs */
		else if (c == 0xF4)
			hi = 0x8F;	/* nothing past U+10FFFF */
		c &= 0x07;
	} else
		goto invalid;
	if (len < n)
		goto invalid;
	if (s[1] < lo || s[1] > hi)
		goto invalid;
	for (i = 1; i < n; i++) {
		if ((s[i] & 0xC0) != 0x80)
			goto invalid;
		c = (c << 6) | (s[i] & 0x3F);
	}
	*cp = c;
	return n;

invalid:
	*cp = WORDS_INVALID + s[0];
	return 1;
}

/* 1 if cp separates words (see the top of the file). */
static int
words_is_separator(unsigned long cp)
{
	if (cp <= 0x20 || cp == 0x7F)
		return 1;
	switch (cp) {
	case 0x0085:
	case 0x00A0:
	case 0x1680:
	case 0x2028:
	case 0x2029:
	case 0x202F:
	case 0x205F:
	case 0x3000:
	case 0xFEFF:
		return 1;
	}
	return cp >= 0x2000 && cp <= 0x200B;
}

/*
 * Fold src[0..len) into dst, which may be src itself: full-width ASCII
 * forms to ASCII, then ASCII and Latin-1 capitals to small letters; every
 * other byte copied.  Returns the length written, never more than len.
 */
static size_t
words_fold(const char *src, size_t len, char *dst)
{
	const unsigned char	*s = (const unsigned char *)src;
	unsigned char		*d = (unsigned char *)dst;
	unsigned long		 cp;
	size_t			 i = 0, o = 0, n;

	while (i < len) {
		n = words_decode(s + i, len - i, &cp);
		if (cp >= 0xFF01 && cp <= 0xFF5E)
			cp -= 0xFEE0;
		if (cp >= 'A' && cp <= 'Z')
			cp += 'a' - 'A';
		if (cp < 0x80) {
			d[o++] = (unsigned char)cp;
		} else if (cp >= 0xC0 && cp <= 0xDE && cp != 0xD7) {
			/* C3 80..C3 9E -> C3 A0..C3 BE */
			d[o++] = 0xC3;
			d[o++] = (unsigned char)(0x80 + (cp - 0xC0) + 0x20);
		} else {
			/* as it was; o <= i, so a forward copy is safe */
			memmove(d + o, s + i, n);
			o += n;
		}
		i += n;
	}
	return o;
}

/* Quotation marks of more than one byte trimmed like ASCII punctuation:
 * curly single and double quotes, and guillemets. */
static const char *const words_punct_multi[] = {
	"\xE2\x80\x98", "\xE2\x80\x99", "\xE2\x80\x9C", "\xE2\x80\x9D",
	"\xC2\xAB", "\xC2\xBB"
};
#define WORDS_NPUNCT_MULTI \
	(sizeof(words_punct_multi) / sizeof(words_punct_multi[0]))

/* Length of the trimmed punctuation at the start of s[0..len), or 0. */
static size_t
words_punct_head(const char *s, size_t len)
{
	size_t			 i, ml;

	if (len == 0)
		return 0;
	if (strchr(".,;:!?\"'()", s[0]) != NULL && s[0] != '\0')
		return 1;
	for (i = 0; i < WORDS_NPUNCT_MULTI; i++) {
		ml = strlen(words_punct_multi[i]);
		if (len >= ml && memcmp(s, words_punct_multi[i], ml) == 0)
			return ml;
	}
	return 0;
}

/* Length of the trimmed punctuation at the end of s[0..len), or 0. */
static size_t
words_punct_tail(const char *s, size_t len)
{
	size_t			 i, ml;

	if (len == 0)
		return 0;
	if (strchr(".,;:!?\"'()", s[len - 1]) != NULL && s[len - 1] != '\0')
		return 1;
	for (i = 0; i < WORDS_NPUNCT_MULTI; i++) {
		ml = strlen(words_punct_multi[i]);
		if (len >= ml &&
		    memcmp(s + len - ml, words_punct_multi[i], ml) == 0)
			return ml;
	}
	return 0;
}

static int
words_is_digit(char c)
{
	return c >= '0' && c <= '9';
}

/*
 * The folded currencies, for one words_split() call: NULL and empty
 * entries left out.
 */
struct words_currencies {
	size_t	  n;
	char	**name;
};

static void
words_currencies_free(struct words_currencies *c)
{
	size_t	i;

	for (i = 0; i < c->n; i++)
		free(c->name[i]);
	free(c->name);
	c->n = 0;
	c->name = NULL;
}

static int
words_currencies_fold(const char * const *currencies, size_t ncurrencies,
    struct words_currencies *c)
{
	size_t	i, len;
	char	*s;

	c->n = 0;
	c->name = NULL;
	if (currencies == NULL || ncurrencies == 0)
		return 0;
	if (ncurrencies > SIZE_MAX / sizeof(*c->name))
		return -1;
	if ((c->name = malloc(ncurrencies * sizeof(*c->name))) == NULL)
		return -1;
	for (i = 0; i < ncurrencies; i++) {
		if (currencies[i] == NULL || currencies[i][0] == '\0')
			continue;
		len = strlen(currencies[i]);
		if ((s = malloc(len + 1)) == NULL) {
			words_currencies_free(c);
			return -1;
		}
		len = words_fold(currencies[i], len, s);
		s[len] = '\0';
		c->name[c->n++] = s;
	}
	return 0;
}

/* 1 if the folded s[0..len) is a currency of c. */
static int
words_is_currency(const struct words_currencies *c, const char *s,
    size_t len)
{
	size_t	i;

	for (i = 0; i < c->n; i++)
		if (strlen(c->name[i]) == len &&
		    memcmp(c->name[i], s, len) == 0)
			return 1;
	return 0;
}

/* 1 if s[0..len) is "/=" or "/-", the shilling "no cents" suffix. */
static int
words_is_dash_suffix(const char *s, size_t len)
{
	return len == 2 && s[0] == '/' && (s[1] == '=' || s[1] == '-');
}

/*
 * Rewrite the number at the start of w[0..len) (w[0] is a digit) in
 * place: thousands separators dropped, a fraction kept, a "/=", "/-" or
 * currency suffix dropped.  Returns the new length.
 */
static size_t
words_number_tidy(char *w, size_t len, const struct words_currencies *c)
{
	size_t	i = 0, o = 0, k;

	while (i < len && words_is_digit(w[i]))
		w[o++] = w[i++];
	/* groups of exactly three digits after a separator */
	while (i + 3 < len && (w[i] == ',' || w[i] == '.' || w[i] == '\'') &&
	    words_is_digit(w[i + 1]) && words_is_digit(w[i + 2]) &&
	    words_is_digit(w[i + 3]) &&
	    (i + 4 == len || !words_is_digit(w[i + 4]))) {
		w[o++] = w[i + 1];
		w[o++] = w[i + 2];
		w[o++] = w[i + 3];
		i += 4;
	}
	/* a fraction */
	if (i + 1 < len && (w[i] == '.' || w[i] == ',') &&
	    words_is_digit(w[i + 1])) {
		w[o++] = w[i++];
		while (i < len && words_is_digit(w[i]))
			w[o++] = w[i++];
	}
	/* what follows the number */
	if (words_is_dash_suffix(w + i, len - i) ||
	    words_is_currency(c, w + i, len - i))
		return o;
	for (k = i; k < len; k++)
		w[o++] = w[k];
	return o;
}

/*
 * Normalise the folded word w[0..len) in place (see the top of the file)
 * and return its new length; 0 drops it.
 */
static size_t
words_tidy(char *w, size_t len, const struct words_currencies *c)
{
	size_t	k, i, cl;

	/* punctuation at both ends (one move: "((((...." must stay linear) */
	for (i = 0; (k = words_punct_head(w + i, len - i)) > 0; i += k)
		;
	if (i > 0) {
		memmove(w, w + i, len - i);
		len -= i;
	}
	while ((k = words_punct_tail(w, len)) > 0)
		len -= k;

	/* "#41" -> "41"; a lone '#' goes */
	if (len == 1 && w[0] == '#')
		return 0;
	if (len >= 2 && w[0] == '#' && words_is_digit(w[1])) {
		memmove(w, w + 1, len - 1);
		len--;
	}

	/* a currency attached before a number: "ksh3000", "ksh.3000" */
	if (len > 0 && !words_is_digit(w[0])) {
		for (i = 0; i < c->n; i++) {
			cl = strlen(c->name[i]);
			if (cl >= len || memcmp(w, c->name[i], cl) != 0)
				continue;
			k = cl;
			if (w[k] == '.' && k + 1 < len)
				k++;
			if (!words_is_digit(w[k]))
				continue;
			memmove(w, w + k, len - k);
			len -= k;
			break;
		}
	}

	if (len > 0 && words_is_digit(w[0]))
		len = words_number_tidy(w, len, c);
	return len;
}

/* 1 if w is a number after words_tidy(): digits, maybe a fraction. */
static int
words_is_amount(const char *w)
{
	size_t	i = 0;

	if (!words_is_digit(w[0]))
		return 0;
	while (words_is_digit(w[i]))
		i++;
	if ((w[i] == '.' || w[i] == ',') && words_is_digit(w[i + 1])) {
		i++;
		while (words_is_digit(w[i]))
			i++;
	}
	return w[i] == '\0';
}

int
words_split(const char *text, const char * const *currencies,
    size_t ncurrencies, struct words *out)
{
	struct words_currencies	 cur;
	const unsigned char	*s;
	unsigned long		 cp;
	size_t			 len, i, n, start, end, wl, cap, k, kept;
	char			*block, *trimmed, *arena, *w;
	char			**word = NULL;
	size_t			*offset = NULL;
	unsigned char		*drop = NULL;

	if (out == NULL)
		return -1;
	memset(out, 0, sizeof(*out));
	if (text == NULL)
		text = "";
	len = strlen(text);
	if (len > (SIZE_MAX - 3) / 3)
		return -1;
	if (words_currencies_fold(currencies, ncurrencies, &cur) == -1)
		return -1;
	if ((block = malloc(3 * (len + 1))) == NULL)
		goto fail;
	memcpy(block, text, len + 1);
	trimmed = block + len + 1;
	arena = trimmed + len + 1;
	memcpy(trimmed, text, len + 1);

	/* at most one word per two bytes, plus one */
	cap = len / 2 + 1;
	if ((word = calloc(cap, sizeof(*word))) == NULL ||
	    (offset = calloc(cap, sizeof(*offset))) == NULL ||
	    (drop = calloc(cap, 1)) == NULL)
		goto fail;

	s = (const unsigned char *)text;
	n = 0;
	end = 0;
	i = 0;
	while (i < len) {
		k = words_decode(s + i, len - i, &cp);
		if (words_is_separator(cp)) {
			i += k;
			continue;
		}
		start = i;
		while (i < len) {
			k = words_decode(s + i, len - i, &cp);
			if (words_is_separator(cp))
				break;
			i += k;
		}
		end = i;
		/* word at its token's offset: never longer than the token */
		w = arena + start;
		wl = words_fold(text + start, end - start, w);
		wl = words_tidy(w, wl, &cur);
		w[wl] = '\0';
		if (wl == 0)
			continue;
		if (n == cap)	/* cannot happen: a token and a separator */
			goto fail;
		word[n] = w;
		offset[n] = start;
		n++;
	}
	trimmed[end] = '\0';

	/* currencies as words of their own, next to a number */
	for (k = 0; k < n; k++) {
		wl = strlen(word[k]);
		if (k > 0 && !drop[k - 1] && words_is_amount(word[k - 1]) &&
		    (words_is_dash_suffix(word[k], wl) ||
		    words_is_currency(&cur, word[k], wl)))
			drop[k] = 1;
		else if (k + 1 < n && words_is_amount(word[k + 1]) &&
		    words_is_currency(&cur, word[k], wl))
			drop[k] = 1;
	}
	for (k = 0, kept = 0; k < n; k++) {
		if (drop[k])
			continue;
		word[kept] = word[k];
		offset[kept] = offset[k];
		kept++;
	}

	free(drop);
	words_currencies_free(&cur);
	out->n = kept;
	out->word = word;
	out->offset = offset;
	out->text = block;
	return 0;

fail:
	free(drop);
	free(offset);
	free(word);
	free(block);
	words_currencies_free(&cur);
	return -1;
}

void
words_free(struct words *w)
{
	if (w == NULL)
		return;
	/* the words live in w->text's block */
	free(w->word);
	free(w->offset);
	free(w->text);
	memset(w, 0, sizeof(*w));
}

const char *
words_rest(const struct words *w, size_t i)
{
	if (w == NULL || w->text == NULL || w->offset == NULL || i >= w->n)
		return "";
	/* the cut copy follows the text, at the same offsets */
	return w->text + strlen(w->text) + 1 + w->offset[i];
}

int
words_number(const char *s, long long min, long long max, long long *out)
{
	long long	v = 0;
	int		d;

	if (s == NULL || *s == '\0')
		return 0;
	for (; *s != '\0'; s++) {
		if (!words_is_digit(*s))
			return 0;
		d = *s - '0';
		if (v > (LLONG_MAX - d) / 10)
			return 0;
		v = v * 10 + d;
	}
	if (v < min || v > max)
		return 0;
	if (out != NULL)
		*out = v;
	return 1;
}

/*
 * Decode s into cp[] if it has at most WORDS_DISTANCE_MAX code points.
 * Returns the number of code points (counting on past the limit, then
 * cp[] is incomplete).
 */
static size_t
words_distance_decode(const char *s, unsigned long *cp)
{
	const unsigned char	*u = (const unsigned char *)s;
	size_t			 len = strlen(s), i = 0, n = 0;
	unsigned long		 c;

	while (i < len) {
		i += words_decode(u + i, len - i, &c);
		if (n < WORDS_DISTANCE_MAX)
			cp[n] = c;
		n++;
	}
	return n;
}

static int
words_min3(int a, int b, int c)
{
	if (b < a)
		a = b;
	return c < a ? c : a;
}

int
words_distance(const char *a, const char *b, int max)
{
	unsigned long	ca[WORDS_DISTANCE_MAX], cb[WORDS_DISTANCE_MAX];
	int		rows[3][WORDS_DISTANCE_MAX + 1];
	int		*prev2, *prev, *cur, *t;
	size_t		la, lb, i, j, diff;
	int		rowmin, prevmin, cost, v;

	if (a == NULL)
		a = "";
	if (b == NULL)
		b = "";
	if (max < 0)
		max = 0;
	if (max > INT_MAX - 1)
		max = INT_MAX - 1;
	if (strcmp(a, b) == 0)
		return 0;
	la = words_distance_decode(a, ca);
	lb = words_distance_decode(b, cb);
	diff = la > lb ? la - lb : lb - la;
	if (diff > (size_t)max)
		return max + 1;
	if (la > WORDS_DISTANCE_MAX || lb > WORDS_DISTANCE_MAX)
		return max + 1;		/* too long to tell: see the top */
	if (la == 0 || lb == 0)
		return (int)(la + lb);	/* <= max: checked above */

	/* optimal string alignment, three rows */
	prev2 = rows[0];
	prev = rows[1];
	cur = rows[2];
	for (j = 0; j <= lb; j++)
		prev[j] = (int)j;
	prevmin = 0;
	for (i = 1; i <= la; i++) {
		cur[0] = (int)i;
		rowmin = cur[0];
		for (j = 1; j <= lb; j++) {
			cost = ca[i - 1] == cb[j - 1] ? 0 : 1;
			v = words_min3(prev[j] + 1, cur[j - 1] + 1,
			    prev[j - 1] + cost);
			if (i > 1 && j > 1 && ca[i - 1] == cb[j - 2] &&
			    ca[i - 2] == cb[j - 1] && prev2[j - 2] + 1 < v)
				v = prev2[j - 2] + 1;
			cur[j] = v;
			if (v < rowmin)
				rowmin = v;
		}
		/* no path to the end avoids both of two neighbour rows */
		if (rowmin > max && prevmin > max)
			return max + 1;
		prevmin = rowmin;
		t = prev2;
		prev2 = prev;
		prev = cur;
		cur = t;
	}
	return prev[lb] > max ? max + 1 : prev[lb];
}
