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
 *    and "3'000" -> "3000"; a single '.' followed by other than 3 digits is
 *    kept: "2.5");
 *  - after a number, a "/=" or "/-" suffix, or a currency word from
 *    currencies[] (case-insensitive, attached: "3000kes", or as the next
 *    word: "3000 KES") is dropped;
 *  - words left empty are dropped.
 * Invalid UTF-8 is taken byte by byte (such bytes are kept in words as
 * they are).  Returns 0, or -1 if memory runs out (*out is then empty).
 * words_free() releases what words_split() filled; it accepts an empty or
 * zeroed struct.
 */
int	words_split(const char *text, const char * const *currencies,
	    size_t ncurrencies, struct words *out);
void	words_free(struct words *);

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
