/*
 * words.h - from the text a phone sent to the words of a command.
 *
 * Feature phones and hurried thumbs produce "sell  Maize 10 BAGS 3,000/=",
 * "#41", full-width digits from some keyboards, stray punctuation.  This
 * module normalises a text into words the router and the commands compare
 * without caring how it was typed.  Pure functions: no state, no logging,
 * malloc only, safe on any input (it is fuzzed).
 */
#ifndef MARKETBOX_WORDS_H
#define MARKETBOX_WORDS_H

#include <stddef.h>

struct words {
	size_t		  n;		/* number of words */
	char		**word;		/* normalised words (see words_split) */
	size_t		 *offset;	/* byte offset of word i in text */
	char		 *text;		/* the text as given, a copy */
	char		**other;	/* per word: the number's other
					   reading (see below), or NULL */
};

/*
 * Split UTF-8 text into words.  Words are separated by white space
 * (including U+3000 ideographic space and NBSP); each word is normalised:
 *  - ASCII letters lowercased, and Latin letters with diacritics in
 *    U+00C0..U+00DE lowercased to their U+00E0..U+00FE forms;
 *  - full-width ASCII forms (U+FF01..U+FF5E) turned to ASCII first;
 *  - leading and trailing punctuation . , ; : ! ? " ' ( ) removed;
 *  - a leading '#' removed when digits follow ("#41" -> "41");
 *  - in a number, thousands separators removed ("3,000" and "3.000.000"
 *    and "3'000" -> "3000"), but only after an integer part of 1 to 3
 *    digits that does not start with 0: "3000.505" and "0.050" stay
 *    decimals; a '.' or ',' followed by other than 3 digits is a decimal
 *    point: "2.5";
 *  - a number read two ways, one '.' then three digits other than "000"
 *    ("2.500": 2500 with a thousands dot, or 2.5), gives the thousands
 *    reading as the word ("2500") and the decimal one in other[i]
 *    ("2.5", trailing zeros dropped); other[i] is NULL for every other
 *    word;
 *  - after a number, a "/=" or "/-" suffix, or a currency word from
 *    currencies[] (case-insensitive, attached: "3000kes", or as the next
 *    word: "3000 KES") is dropped; before a number too ("ksh3000",
 *    "KSh 3000");
 *  - a number typed in groups of three digits separated by spaces is
 *    joined when a currency stands right before or after it ("6 000 F",
 *    "KSh 6 000" -> "6000"); elsewhere "6 000" stays two words (BUY 41
 *    500 is an offer and a quantity), and a command that expects an
 *    amount joins them itself;
 *  - words left empty are dropped.
 * Invalid UTF-8 is taken byte by byte (such bytes are kept in words as
 * they are).  Returns 0, or -1 if memory runs out (*out is then empty).
 * words_free() releases what words_split() filled; it accepts an empty or
 * zeroed struct.
 */
int	words_split(const char *text, const char * const *currencies,
	    size_t ncurrencies, struct words *out);

/*
 * Words a text typed without spaces is cut at: Chinese "卖玉米10袋3000"
 * is "卖", "玉米", "10", "袋", "3000" once the dictionary knows 卖, 玉米
 * and 袋.  The caller fills it with the words it knows (keywords of every
 * language, catalogue names); words of several words are ignored.
 * words_dict_add() returns 0, or -1 if memory runs out.
 */
struct words_dict;
struct words_dict *words_dict_new(void);
int	words_dict_add(struct words_dict *, const char *word);
void	words_dict_free(struct words_dict *);

/*
 * words_split() with a dictionary (NULL: none): a token holding Chinese
 * or Japanese characters is first cut at the longest dictionary word at
 * each place and wherever digits begin or end ("10袋" -> "10", "袋"); the
 * pieces are then normalised as words_split() says.  Tokens in other
 * scripts are only cut after a number glued to a dictionary word
 * ("10kg", "10bags" -> "10", "kg"; "12abc" stays whole).
 */
int	words_split_dict(const char *text, const char * const *currencies,
	    size_t ncurrencies, const struct words_dict *,
	    struct words *out);
/*
 * Currencies folded once, for the many texts split with them:
 * words_currencies_new() copies and folds currencies[] (NULL and empty
 * entries ignored; NULL or 0: none) and returns NULL if memory runs out;
 * words_currencies_free() accepts NULL.  words_split_with() is
 * words_split_dict() with such a set (NULL: no currency) instead of the
 * list it would fold on every call.
 */
struct words_currencies;
struct words_currencies *words_currencies_new(const char * const *currencies,
	    size_t ncurrencies);
void	words_currencies_free(struct words_currencies *);
int	words_split_with(const char *text, const struct words_currencies *,
	    const struct words_dict *, struct words *out);
void	words_free(struct words *);
/*
 * text normalised as a message's words are, joined by single spaces
 * ("  Sukuma  WIKI " -> "sukuma wiki"; "" when it has no word): how names
 * are compared.  malloc'd; NULL if memory runs out.
 */
char	*words_normal(const char *text);

/*
 * The text from word i to the end, as typed (after the normalised words'
 * source positions), with outer white space trimmed; "" past the end.
 * Points into w->text.
 */
const char *words_rest(const struct words *, size_t i);

/*
 * 1 and *out set if s is a whole decimal number (digits only, after
 * normalisation) in [min, max]; 0 otherwise (including overflow).
 */
int	words_number(const char *s, long long min, long long max,
	    long long *out);

/*
 * Edit distance between two UTF-8 strings, counting code points, with
 * transpositions of neighbours as one edit (typos on keypads): "maiz" and
 * "maize" are 1 apart, "sel" and "sell" 1, "slel" and "sell" 1.  Stops
 * early: returns max + 1 when the distance exceeds max.
 */
int	words_distance(const char *a, const char *b, int max);

#endif
