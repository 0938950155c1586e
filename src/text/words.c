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
 *    trimmed from the ends of a word: smartphones type them for ' and ";
 *    so are the ideographic full stop and comma (U+3002, U+3001).
 *  - A word that is a lone '#' is dropped too ("# 41" -> "41").
 *  - A number is digits, then any number of groups of a separator (',' '.'
 *    or '\'') and exactly 3 digits, which are joined ("3,000" -> "3000"),
 *    when the digits before the first separator are 1 to 3 and do not
 *    start with 0; then, optionally, a '.' or ',' and digits kept as a
 *    fraction ("2.5", "1,5", "3,000.50" -> "3000.50", "3000.505" and
 *    "0.050" as they are).  Whatever follows in the word is kept, as a
 *    word of its own when it is a dictionary word starting with a letter
 *    ("10kg" -> "10", "kg"; "12abc", "3OOO" and "10%" stay whole: a typo
 *    must not become a number and a word), unless it is "/=", "/-" or a
 *    currency, which is dropped.
 *  - Read two ways: only one '.' group, because the dot is the decimal
 *    point in English, Swahili and Chinese texts and the thousands dot in
 *    French ones.  A ',' group is thousands only: nobody writes a decimal
 *    comma with exactly three decimals in a price or a quantity, while
 *    "3,500" for 3500 is everyday.  "3.000" is thousands only too: 3.000
 *    for 3 is not how anyone writes 3.  arg() gives the thousands
 *    reading: it is the one a French thousands dot means, and a command
 *    that sees the other reading asks before acting on either.
 *  - A currency also goes when it stands before a number, attached
 *    ("ksh3000", "Ksh.3,000" -> "3000") or as the word before ("KSh 3000"
 *    -> "3000").  "/=" and "/-" standing alone after a number go as well.
 *    Currencies are compared after the same folding as words; NULL and
 *    empty entries are ignored.
 *  - Space-grouped thousands ("6 000"): a word of 1 to 3 digits not
 *    starting with 0, then words of exactly 3 digits, joined when the
 *    word right before or right after them is a currency that is dropped.
 *  - Text without spaces: only a token holding a code point of
 *    U+2E80..U+9FFF, U+F900..U+FAFF or U+20000..U+2FFFF is cut; at each
 *    place the longest dictionary word wins, digits (with ',' '.' '\''
 *    between digits) make a piece, and anything else runs on until one of
 *    those starts.  A dictionary word that starts or ends with a Latin
 *    letter must not continue a Latin word of the token.  The dictionary
 *    is searched one word after another: it holds a few hundred words and
 *    only such tokens are searched.
 *  - words_rest(): "the text as typed" starts where word i's source token
 *    starts (leading punctuation included: REG "Mary" -> "\"Mary\""), or,
 *    for a word cut from a token ("bags" of "10bags", "玉米" of
 *    "卖玉米"), where its first character is; it ends after the last
 *    non-separator of the text.  So that it can point into w->text while
 *    w->text stays the text as given, w->text is one area: the text,
 *    NUL; the same text cut after its last non-separator, NUL; then the
 *    words one after another, each with its NUL (3 bytes of room per byte
 *    of text: a word is never longer than its piece of text, and a piece
 *    gives at most two words); then the other readings likewise (2 bytes
 *    per byte).  That area follows the word, other and offset arrays in
 *    one allocated block, which words_free() releases through w->word:
 *    one malloc per text, for the profile's sake.
 *  - Currencies are folded once, by words_currencies_new(); words_split()
 *    and words_split_dict() fold theirs per call (tests, tools), the
 *    router keeps a folded set.
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

#include "text/words.h"

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
 * The character at s[i] (i < len): sets *n to its length in bytes and
 * returns 1 if it separates words.  Printable ASCII, most of a text,
 * without decoding.
 */
static int
words_next(const unsigned char *s, size_t i, size_t len, size_t *n)
{
	unsigned long	cp;

	if (s[i] > 0x20 && s[i] < 0x7F) {
		*n = 1;
		return 0;
	}
	*n = words_decode(s + i, len - i, &cp);
	return words_is_separator(cp);
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

/* Marks of more than one byte trimmed like ASCII punctuation: curly
 * single and double quotes, guillemets, and the ideographic full stop and
 * comma. */
static const char *const words_punct_multi[] = {
	"\xE2\x80\x98", "\xE2\x80\x99", "\xE2\x80\x9C", "\xE2\x80\x9D",
	"\xC2\xAB", "\xC2\xBB", "\xE3\x80\x82", "\xE3\x80\x81"
};
static const size_t words_punct_multi_len[] = { 3, 3, 3, 3, 2, 2, 3, 3 };
#define WORDS_NPUNCT_MULTI \
	(sizeof(words_punct_multi) / sizeof(words_punct_multi[0]))

/* 1 if c is one of the ASCII marks trimmed from the ends of a word. */
static int
words_is_punct_ascii(unsigned char c)
{
	switch (c) {
	case '.': case ',': case ';': case ':': case '!': case '?':
	case '"': case '\'': case '(': case ')':
		return 1;
	}
	return 0;
}

/*
 * Length of the trimmed punctuation at the start of s[0..len), or 0.  The
 * marks of more than one byte start with 0xC2, 0xE2 or 0xE3 and end with
 * a byte of 0x80 or more: other bytes need no look at the table.
 */
static size_t
words_punct_head(const char *s, size_t len)
{
	unsigned char		 c;
	size_t			 i, ml;

	if (len == 0)
		return 0;
	c = (unsigned char)s[0];
	if (c < 0x80)
		return words_is_punct_ascii(c);
	if (c != 0xC2 && c != 0xE2 && c != 0xE3)
		return 0;
	for (i = 0; i < WORDS_NPUNCT_MULTI; i++) {
		ml = words_punct_multi_len[i];
		if (len >= ml && memcmp(s, words_punct_multi[i], ml) == 0)
			return ml;
	}
	return 0;
}

/* Length of the trimmed punctuation at the end of s[0..len), or 0. */
static size_t
words_punct_tail(const char *s, size_t len)
{
	unsigned char		 c;
	size_t			 i, ml;

	if (len == 0)
		return 0;
	c = (unsigned char)s[len - 1];
	if (c < 0x80)
		return words_is_punct_ascii(c);
	for (i = 0; i < WORDS_NPUNCT_MULTI; i++) {
		ml = words_punct_multi_len[i];
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
 * The folded currencies (see words_currencies_new): NULL and empty
 * entries left out, each name with its length.
 */
struct words_currencies {
	size_t	  n;
	char	**name;
	size_t	 *len;
};

void
words_currencies_free(struct words_currencies *c)
{
	size_t	i;

	if (c == NULL)
		return;
	for (i = 0; i < c->n; i++)
		free(c->name[i]);
	free(c->name);
	free(c->len);
	free(c);
}

struct words_currencies *
words_currencies_new(const char * const *currencies, size_t ncurrencies)
{
	struct words_currencies	*c;
	size_t			 i, len;
	char			*s;

	if ((c = calloc(1, sizeof(*c))) == NULL)
		return NULL;
	if (currencies == NULL || ncurrencies == 0)
		return c;
	if (ncurrencies > SIZE_MAX / sizeof(*c->name) ||
	    (c->name = malloc(ncurrencies * sizeof(*c->name))) == NULL ||
	    (c->len = malloc(ncurrencies * sizeof(*c->len))) == NULL) {
		words_currencies_free(c);
		return NULL;
	}
	for (i = 0; i < ncurrencies; i++) {
		if (currencies[i] == NULL || currencies[i][0] == '\0')
			continue;
		len = strlen(currencies[i]);
		if ((s = malloc(len + 1)) == NULL) {
			words_currencies_free(c);
			return NULL;
		}
		len = words_fold(currencies[i], len, s);
		s[len] = '\0';
		c->name[c->n] = s;
		c->len[c->n++] = len;
	}
	return c;
}

/* 1 if the folded s[0..len) is a currency of c (NULL: none is). */
static int
words_is_currency(const struct words_currencies *c, const char *s,
    size_t len)
{
	size_t	i;

	for (i = 0; c != NULL && i < c->n; i++)
		if (c->len[i] == len && memcmp(c->name[i], s, len) == 0)
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
 * What words_tidy() made of one piece: the word's new length (0 drops
 * it), the length of the number it starts with (0: none), where the
 * piece's folded text ends once its trailing punctuation is cut, and, for
 * a number read two ways, the number of digits before its dot (0: one
 * reading only).
 */
struct words_tidied {
	size_t	len;
	size_t	num;
	size_t	end;
	size_t	dot;
};

/*
 * Rewrite the number at the start of w[0..len) (w[0] is a digit) in
 * place: thousands separators dropped, a fraction kept, a "/=", "/-" or
 * currency suffix dropped.  Sets t->len, t->num and t->dot.
 */
static void
words_number_tidy(char *w, size_t len, const struct words_currencies *c,
    struct words_tidied *t)
{
	size_t	i = 0, o = 0, k, intlen, groups = 0;
	char	sep = '\0';
	int	frac = 0;

	while (i < len && words_is_digit(w[i]))
		w[o++] = w[i++];
	intlen = i;
	/*
	 * Groups of exactly three digits after a separator, only after an
	 * integer part of 1 to 3 digits that is not a lone or leading 0:
	 * "3000.505" and "0.050" are decimals.
	 */
	while (intlen <= 3 && w[0] != '0' && i + 3 < len &&
	    (w[i] == ',' || w[i] == '.' || w[i] == '\'') &&
	    words_is_digit(w[i + 1]) && words_is_digit(w[i + 2]) &&
	    words_is_digit(w[i + 3]) &&
	    (i + 4 == len || !words_is_digit(w[i + 4]))) {
		if (groups++ == 0)
			sep = w[i];
		w[o++] = w[i + 1];
		w[o++] = w[i + 2];
		w[o++] = w[i + 3];
		i += 4;
	}
	/* a fraction */
	if (i + 1 < len && (w[i] == '.' || w[i] == ',') &&
	    words_is_digit(w[i + 1])) {
		frac = 1;
		w[o++] = w[i++];
		while (i < len && words_is_digit(w[i]))
			w[o++] = w[i++];
	}
	t->num = o;
	/*
	 * One dot and three digits, not "000", is also a decimal where the
	 * dot is the decimal point: "2.500" is 2500 or 2.5.
	 */
	t->dot = groups == 1 && sep == '.' && !frac &&
	    memcmp(w + intlen, "000", 3) != 0 ? intlen : 0;
	/* what follows the number */
	if (words_is_dash_suffix(w + i, len - i) ||
	    words_is_currency(c, w + i, len - i)) {
		t->len = o;
		return;
	}
	for (k = i; k < len; k++)
		w[o++] = w[k];
	t->len = o;
}

/*
 * Normalise the folded piece w[0..len) in place (see the top of the file)
 * and say what came of it in *t.
 */
static void
words_tidy(char *w, size_t len, const struct words_currencies *c,
    struct words_tidied *t)
{
	size_t	k, i, cl;

	memset(t, 0, sizeof(*t));
	/* punctuation at both ends (one move: "((((...." must stay linear) */
	for (i = 0; (k = words_punct_head(w + i, len - i)) > 0; i += k)
		;
	while (len > i && (k = words_punct_tail(w + i, len - i)) > 0)
		len -= k;
	t->end = len;
	if (i > 0) {
		memmove(w, w + i, len - i);
		len -= i;
	}

	/* "#41" -> "41"; a lone '#' goes */
	if (len == 1 && w[0] == '#')
		return;
	if (len >= 2 && w[0] == '#' && words_is_digit(w[1])) {
		memmove(w, w + 1, len - 1);
		len--;
	}

	/* a currency attached before a number: "ksh3000", "ksh.3000" */
	if (len > 0 && !words_is_digit(w[0]) && c != NULL) {
		for (i = 0; i < c->n; i++) {
			cl = c->len[i];
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

	t->len = len;
	if (len > 0 && words_is_digit(w[0]))
		words_number_tidy(w, len, c, t);
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

/* 1 if w is 1 to 3 digits (first of a space-grouped number), not "0..." */
static int
words_is_group_head(const char *w)
{
	size_t	n = strlen(w);

	return n >= 1 && n <= 3 && w[0] != '0' && words_is_digit(w[0]) &&
	    (n < 2 || words_is_digit(w[1])) && (n < 3 || words_is_digit(w[2]));
}

/* 1 if w is exactly 3 digits (a thousands group standing alone). */
static int
words_is_group(const char *w)
{
	return strlen(w) == 3 && words_is_digit(w[0]) &&
	    words_is_digit(w[1]) && words_is_digit(w[2]);
}

/* 1 if the code point starts a letter a number is glued to ("10kg"). */
static int
words_is_letter_byte(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || c >= 0xC0;
}

/* --- the dictionary that cuts text typed without spaces ----------------- */

struct words_dict {
	char	**word;		/* folded */
	size_t	 *len;		/* of each word */
	size_t	  n, cap;
};

struct words_dict *
words_dict_new(void)
{
	return calloc(1, sizeof(struct words_dict));
}

void
words_dict_free(struct words_dict *d)
{
	size_t	i;

	if (d == NULL)
		return;
	for (i = 0; i < d->n; i++)
		free(d->word[i]);
	free(d->word);
	free(d->len);
	free(d);
}

int
words_dict_add(struct words_dict *d, const char *word)
{
	char	**p, *s;
	size_t	 *l, len, n;

	if (d == NULL || word == NULL || word[0] == '\0')
		return 0;
	len = strlen(word);
	/* Words of several words ("sukuma wiki") never stand glued. */
	if (strpbrk(word, " \t") != NULL)
		return 0;
	if (d->n == d->cap) {
		n = d->cap ? d->cap * 2 : 64;
		if (n > SIZE_MAX / sizeof(*p) ||
		    (p = realloc(d->word, n * sizeof(*p))) == NULL)
			return -1;
		d->word = p;
		if ((l = realloc(d->len, n * sizeof(*l))) == NULL)
			return -1;
		d->len = l;
		d->cap = n;
	}
	if ((s = malloc(len + 1)) == NULL)
		return -1;
	len = words_fold(word, len, s);
	s[len] = '\0';
	d->word[d->n] = s;
	d->len[d->n++] = len;
	return 0;
}

/* 1 if the folded s[0..len) is a word of d (NULL: none is). */
static int
words_dict_has(const struct words_dict *d, const char *s, size_t len)
{
	size_t	i;

	for (i = 0; d != NULL && i < d->n; i++)
		if (d->len[i] == len && memcmp(d->word[i], s, len) == 0)
			return 1;
	return 0;
}

/* 1 if cp is of a script written without spaces (Chinese, Japanese). */
static int
words_is_cjk(unsigned long cp)
{
	return (cp >= 0x2E80 && cp <= 0x9FFF) ||
	    (cp >= 0xF900 && cp <= 0xFAFF) ||
	    (cp >= 0x20000 && cp <= 0x2FFFF);
}

/* 1 if the folded f[0..len) holds a code point of such a script. */
static int
words_has_cjk(const char *f, size_t len)
{
	const unsigned char	*s = (const unsigned char *)f;
	unsigned long		 cp;
	size_t			 i = 0;

	while (i < len) {
		i += words_decode(s + i, len - i, &cp);
		if (words_is_cjk(cp))
			return 1;
	}
	return 0;
}

static int
words_is_ascii_letter(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

/*
 * The length of the longest dictionary word at f[p..len), or 0.  A word
 * that starts or ends with a Latin letter must not be part of a longer
 * Latin word there ("me" is not found in "mengo").
 */
static size_t
words_dict_match(const struct words_dict *d, const char *f, size_t p,
    size_t len)
{
	size_t	i, l, best = 0;

	for (i = 0; i < d->n; i++) {
		l = d->len[i];
		if (l <= best || l > len - p || memcmp(f + p, d->word[i], l) != 0)
			continue;
		if (words_is_ascii_letter(f[p]) && p > 0 &&
		    words_is_ascii_letter(f[p - 1]))
			continue;
		if (words_is_ascii_letter(f[p + l - 1]) && p + l < len &&
		    words_is_ascii_letter(f[p + l]))
			continue;
		best = l;
	}
	return best;
}

/*
 * Cut the folded token f[0..len) at the dictionary's words and where
 * digits begin and end: calls piece(arg, start, end) for each piece in
 * order.  A number keeps its separators ("3,000").  Returns what the
 * last piece() call returned, or 0; stops at the first non-zero.
 */
static int
words_segment(const struct words_dict *d, const char *f, size_t len,
    int (*piece)(void *, size_t, size_t), void *arg)
{
	const unsigned char	*s = (const unsigned char *)f;
	unsigned long		 cp;
	size_t			 p = 0, q, m, run = SIZE_MAX;
	int			 rc;

#define WORDS_FLUSH_RUN do {						\
	if (run != SIZE_MAX && (rc = piece(arg, run, p)) != 0)		\
		return rc;						\
	run = SIZE_MAX;							\
} while (0)

	while (p < len) {
		if (words_is_digit(f[p])) {
			WORDS_FLUSH_RUN;
			q = p;
			while (q < len && (words_is_digit(f[q]) ||
			    ((f[q] == '.' || f[q] == ',' || f[q] == '\'') &&
			    q + 1 < len && words_is_digit(f[q + 1]))))
				q++;
			if ((rc = piece(arg, p, q)) != 0)
				return rc;
			p = q;
			continue;
		}
		if ((m = words_dict_match(d, f, p, len)) > 0) {
			WORDS_FLUSH_RUN;
			if ((rc = piece(arg, p, p + m)) != 0)
				return rc;
			p += m;
			continue;
		}
		if (run == SIZE_MAX)
			run = p;
		p += words_decode(s + p, len - p, &cp);
	}
	WORDS_FLUSH_RUN;
	return 0;
#undef WORDS_FLUSH_RUN
}

/* --- splitting ---------------------------------------------------------- */

/*
 * Fold src[0..len) into dst as words_fold() does, and note in map[] the
 * offset (base + index in src) each byte of dst comes from; map[result]
 * is base + len.
 */
static size_t
words_fold_map(const char *src, size_t len, char *dst, size_t *map,
    size_t base)
{
	const unsigned char	*s = (const unsigned char *)src;
	unsigned long		 cp;
	size_t			 i = 0, o = 0, n, fl, k;

	while (i < len) {
		if (s[i] < 0x80) {
			/* ASCII, most of what phones send: as words_fold() */
			dst[o] = (char)(s[i] >= 'A' && s[i] <= 'Z' ?
			    s[i] + ('a' - 'A') : s[i]);
			map[o++] = base + i++;
			continue;
		}
		n = words_decode(s + i, len - i, &cp);
		fl = words_fold(src + i, n, dst + o);
		for (k = 0; k < fl; k++)
			map[o + k] = base + i;
		o += fl;
		i += n;
	}
	map[o] = base + len;
	return o;
}

/* The state of one words_split_dict() call. */
struct words_state {
	const struct words_currencies	*cur;	/* or NULL */
	const struct words_dict		*dict;	/* or NULL */
	char		*fold;		/* the token being split, folded */
	size_t		*map;		/* fold byte -> text offset */
	unsigned char	*drop;		/* per word, for words_amounts() */
	char		*arena, *ap;	/* the words, one after another */
	char		*op;		/* the other readings, likewise */
	char		**word;
	char		**other;
	size_t		*offset;
	size_t		 n, cap;
};

/* Add the word s[0..len) from text offset off; 0 or -1 (no room). */
static int
words_emit(struct words_state *st, const char *s, size_t len, size_t off)
{
	if (st->n == st->cap)
		return -1;	/* cannot happen: one word per byte at most */
	memmove(st->ap, s, len);
	st->ap[len] = '\0';
	st->word[st->n] = st->ap;
	st->other[st->n] = NULL;
	st->offset[st->n] = off;
	st->ap += len + 1;
	st->n++;
	return 0;
}

/*
 * The other reading of the number the word w starts with, whose dot
 * followed its dot-th digit: "2500" with dot 1 was "2.500", 2.5.
 */
static void
words_other(struct words_state *st, const char *w, size_t dot)
{
	size_t	g = 3;

	while (g > 0 && w[dot + g - 1] == '0')
		g--;
	st->other[st->n - 1] = st->op;
	memcpy(st->op, w, dot);
	st->op += dot;
	if (g > 0) {
		*st->op++ = '.';
		memcpy(st->op, w + dot, g);
		st->op += g;
	}
	*st->op++ = '\0';
}

/*
 * Tidy the piece fold[start..end) of the current token and add what is
 * left of it: one word, or two when a dictionary word is glued to a
 * number ("10kg" -> "10", "kg").  0, or -1.
 */
static int
words_piece(void *arg, size_t start, size_t end)
{
	struct words_state	*st = arg;
	struct words_tidied	 t;
	char			*w = st->fold + start;
	size_t			 rest;

	words_tidy(w, end - start, st->cur, &t);
	if (t.len == 0)
		return 0;
	if (t.num > 0 && t.num < t.len &&
	    words_is_letter_byte((unsigned char)w[t.num]) &&
	    words_dict_has(st->dict, w + t.num, t.len - t.num)) {
		/* the letters are the piece's last bytes, as typed */
		rest = t.len - t.num;
		if (words_emit(st, w, t.num, st->map[start]) == -1)
			return -1;
		if (t.dot > 0)
			words_other(st, st->word[st->n - 1], t.dot);
		return words_emit(st, w + t.num, rest,
		    st->map[start + t.end - rest]);
	}
	if (words_emit(st, w, t.len, st->map[start]) == -1)
		return -1;
	if (t.dot > 0 && t.num == t.len)
		words_other(st, st->word[st->n - 1], t.dot);
	return 0;
}

/*
 * After the words are made: currencies next to a number go, and a number
 * in space-separated groups next to a currency ("6 000 F", "KSh 6 000")
 * is joined.  Keeps the words that stay in place, in order.
 */
static void
words_amounts(struct words_state *st)
{
	unsigned char	*drop = st->drop;
	size_t		 k, j, last, kept, wl, n = st->n;
	char		*end;

	if (n == 0)
		return;
	memset(drop, 0, n);
	for (k = 0; k < n; k++) {
		wl = strlen(st->word[k]);
		if (k > 0 && !drop[k - 1] && words_is_amount(st->word[k - 1]) &&
		    (words_is_dash_suffix(st->word[k], wl) ||
		    words_is_currency(st->cur, st->word[k], wl)))
			drop[k] = 1;
		else if (k + 1 < n && words_is_amount(st->word[k + 1]) &&
		    words_is_currency(st->cur, st->word[k], wl))
			drop[k] = 1;
	}
	for (k = 0; k < n; k++) {
		if (drop[k] || !words_is_group_head(st->word[k]))
			continue;
		for (last = k; last + 1 < n && !drop[last + 1] &&
		    words_is_group(st->word[last + 1]); last++)
			;
		if (last == k || !((k > 0 && drop[k - 1]) ||
		    (last + 1 < n && drop[last + 1])))
			continue;
		/* the groups follow the head in the arena: move them up */
		end = st->word[k] + strlen(st->word[k]);
		for (j = k + 1; j <= last; j++) {
			memmove(end, st->word[j], 4);
			end += 3;
			drop[j] = 1;
		}
		st->other[k] = NULL;
		k = last;
	}
	for (k = 0, kept = 0; k < n; k++) {
		if (drop[k])
			continue;
		st->word[kept] = st->word[k];
		st->other[kept] = st->other[k];
		st->offset[kept] = st->offset[k];
		kept++;
	}
	st->n = kept;
}

/*
 * Texts up to this many bytes are split with scratch space (the folded
 * token, its map, the words' drop marks) on the stack: an SMS is at most
 * a few hundred bytes, and a malloc per text showed in profiles.
 */
#define WORDS_STACK_TEXT	640

int
words_split_with(const char *text, const struct words_currencies *cur,
    const struct words_dict *dict, struct words *out)
{
	struct words_state	 st;
	size_t			 stack_map[WORDS_STACK_TEXT + 1];
	char			 stack_fold[WORDS_STACK_TEXT + 1];
	unsigned char		 stack_drop[WORDS_STACK_TEXT + 1];
	const unsigned char	*s;
	size_t			 len, i, start, end, k, fl, arrays;
	char			*block = NULL, *trimmed, *scratch = NULL;

	if (out == NULL)
		return -1;
	memset(out, 0, sizeof(*out));
	memset(&st, 0, sizeof(st));
	if (text == NULL)
		text = "";
	len = strlen(text);
	/*
	 * One block: the word, other and offset arrays (at most one word
	 * per byte, plus one), then the text, the cut text, the words (3
	 * len) and the other readings (2 len).
	 */
	if (len > (SIZE_MAX - 7) / 7 ||
	    len + 1 > SIZE_MAX / sizeof(*st.map) / 4)
		return -1;
	st.cap = len + 1;
	arrays = st.cap * (sizeof(*st.word) + sizeof(*st.other) +
	    sizeof(*st.offset));
	if (arrays > SIZE_MAX - 7 * (len + 1) ||
	    (block = malloc(arrays + 7 * (len + 1))) == NULL)
		return -1;
	st.word = (char **)(void *)block;
	st.other = (char **)(void *)(block + st.cap * sizeof(*st.word));
	st.offset = (size_t *)(void *)(block + st.cap * (sizeof(*st.word) +
	    sizeof(*st.other)));
	out->text = block + arrays;
	memcpy(out->text, text, len + 1);
	trimmed = out->text + len + 1;
	st.arena = st.ap = trimmed + len + 1;
	st.op = st.arena + 3 * (len + 1);
	memcpy(trimmed, text, len + 1);

	if (len <= WORDS_STACK_TEXT) {
		st.map = stack_map;
		st.fold = stack_fold;
		st.drop = stack_drop;
	} else {
		if ((scratch = malloc((len + 1) * (sizeof(*st.map) + 2))) ==
		    NULL)
			goto fail;
		st.map = (size_t *)(void *)scratch;
		st.fold = scratch + (len + 1) * sizeof(*st.map);
		st.drop = (unsigned char *)st.fold + len + 1;
	}
	st.cur = cur;
	st.dict = dict;

	s = (const unsigned char *)text;
	end = 0;
	i = 0;
	while (i < len) {
		if (words_next(s, i, len, &k)) {
			i += k;
			continue;
		}
		start = i;
		while (i < len && !words_next(s, i, len, &k))
			i += k;
		end = i;
		fl = words_fold_map(text + start, end - start, st.fold, st.map,
		    start);
		if (dict != NULL && dict->n > 0 && words_has_cjk(st.fold, fl)) {
			if (words_segment(dict, st.fold, fl, words_piece,
			    &st) == -1)
				goto fail;
		} else if (words_piece(&st, 0, fl) == -1)
			goto fail;
	}
	trimmed[end] = '\0';
	words_amounts(&st);

	free(scratch);
	out->n = st.n;
	out->word = st.word;
	out->other = st.other;
	out->offset = st.offset;
	return 0;

fail:
	free(scratch);
	free(block);
	memset(out, 0, sizeof(*out));
	return -1;
}

int
words_split_dict(const char *text, const char * const *currencies,
    size_t ncurrencies, const struct words_dict *dict, struct words *out)
{
	struct words_currencies	*cur = NULL;
	int			 rc;

	if (out != NULL)
		memset(out, 0, sizeof(*out));
	if (currencies != NULL && ncurrencies > 0 &&
	    (cur = words_currencies_new(currencies, ncurrencies)) == NULL)
		return -1;
	rc = words_split_with(text, cur, dict, out);
	words_currencies_free(cur);
	return rc;
}

int
words_split(const char *text, const char * const *currencies,
    size_t ncurrencies, struct words *out)
{
	return words_split_dict(text, currencies, ncurrencies, NULL, out);
}

void
words_free(struct words *w)
{
	if (w == NULL)
		return;
	/* one block: the arrays, then the text and the words */
	free(w->word);
	memset(w, 0, sizeof(*w));
}

char *
words_normal(const char *text)
{
	struct words	 w;
	size_t		 i, len = 1;
	char		*s;

	if (words_split(text, NULL, 0, &w) == -1)
		return NULL;
	for (i = 0; i < w.n; i++)
		len += strlen(w.word[i]) + 1;
	if ((s = malloc(len)) == NULL) {
		words_free(&w);
		return NULL;
	}
	s[0] = '\0';
	for (i = 0; i < w.n; i++) {
		if (i > 0)
			strcat(s, " ");
		strcat(s, w.word[i]);
	}
	words_free(&w);
	return s;
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
