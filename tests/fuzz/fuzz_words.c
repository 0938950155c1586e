/*
 * fuzz_words.c - libFuzzer target for words.c: any bytes go through
 * words_split_dict() (with a currency list and a dictionary of keywords
 * and catalogue words in four languages), and the invariants every
 * caller relies on are checked; a violation aborts, which libFuzzer
 * reports with the input.  Built and run by tests/fuzz/run.sh.
 *
 * Invariants: split succeeds and is deterministic; w.text is the input;
 * every word is non-empty, holds no ASCII separator, and is never longer
 * than the text; offsets increase and lie within the text; words_rest() is
 * non-NULL for every i <= n, points into w.text, and for i < n starts with
 * a non-separator; words_distance() of a word with itself is 0, is
 * symmetric, and stays within [0, max + 1]; words_number() accepts only
 * digit strings; a word's other reading, when there is one, is digits
 * with at most one '.', of a word that is all digits.
 */

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "text/words.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static const char * const fuzz_words_currencies[] = {
	"kes", "KSh", "sh", "tsh", "ugx", "/=", "fcfa", NULL, ""
};
#define FUZZ_WORDS_NCURRENCIES \
	(sizeof(fuzz_words_currencies) / sizeof(fuzz_words_currencies[0]))

static const char * const fuzz_words_known[] = {
	"sell", "uza", "vendre", "卖", "买", "求购", "我", "我的", "已送达",
	"价格", "maize", "mahindi", "maïs", "玉米", "bag", "bags", "kg", "袋",
	"公斤", "nakuru", "纳库鲁", "sukuma wiki", "l"
};

static void
fuzz_words_check(int ok)
{
	if (!ok)
		abort();
}

static int
fuzz_words_all_digits(const char *s)
{
	if (*s == '\0')
		return 0;
	for (; *s != '\0'; s++)
		if (*s < '0' || *s > '9')
			return 0;
	return 1;
}

/* 1 if s is digits with at most one '.' between digits. */
static int
fuzz_words_decimal(const char *s)
{
	int	 dot = 0;

	if (*s < '0' || *s > '9')
		return 0;
	for (; *s != '\0'; s++) {
		if (*s == '.' && !dot && s[1] >= '0' && s[1] <= '9')
			dot = 1;
		else if (*s < '0' || *s > '9')
			return 0;
	}
	return 1;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct words_dict *dict;
	struct words	 w, again;
	char		*text;
	const char	*rest;
	size_t		 len, i, j, wl;
	long long	 v;
	int		 d, max;

	if ((text = malloc(size + 1)) == NULL)
		return 0;
	for (i = 0; i < size; i++)
		text[i] = data[i] == '\0' ? ' ' : (char)data[i];
	text[size] = '\0';
	len = size;

	fuzz_words_check((dict = words_dict_new()) != NULL);
	for (i = 0; i < sizeof(fuzz_words_known) /
	    sizeof(fuzz_words_known[0]); i++)
		fuzz_words_check(words_dict_add(dict, fuzz_words_known[i]) ==
		    0);
	fuzz_words_check(words_split_dict(text, fuzz_words_currencies,
	    FUZZ_WORDS_NCURRENCIES, dict, &w) == 0);
	fuzz_words_check(w.text != NULL && strcmp(w.text, text) == 0);
	fuzz_words_check(w.n <= len);

	for (i = 0; i < w.n; i++) {
		wl = strlen(w.word[i]);
		fuzz_words_check(wl > 0 && wl <= len);
		for (j = 0; j < wl; j++) {
			unsigned char	c = (unsigned char)w.word[i][j];

			fuzz_words_check(c > 0x20 && c != 0x7F);
		}
		fuzz_words_check(w.offset[i] < len);
		if (i > 0)
			fuzz_words_check(w.offset[i] > w.offset[i - 1]);

		rest = words_rest(&w, i);
		fuzz_words_check(rest != NULL && *rest != '\0');
		fuzz_words_check((unsigned char)*rest > 0x20);

		fuzz_words_check(words_distance(w.word[i], w.word[i], 0) == 0);
		if (i > 0) {
			max = (int)(i % 5);
			d = words_distance(w.word[i], w.word[i - 1], max);
			fuzz_words_check(d >= 0 && d <= max + 1);
			fuzz_words_check(d == words_distance(w.word[i - 1],
			    w.word[i], max));
			if (strcmp(w.word[i], w.word[i - 1]) != 0)
				fuzz_words_check(d >= 1);
		}
		if (w.other[i] != NULL)
			fuzz_words_check(fuzz_words_all_digits(w.word[i]) &&
			    fuzz_words_decimal(w.other[i]) &&
			    strlen(w.other[i]) <= strlen(w.word[i]) + 1);
		v = -1;
		if (words_number(w.word[i], 0, INT64_MAX, &v))
			fuzz_words_check(fuzz_words_all_digits(w.word[i]) &&
			    v >= 0);
	}
	fuzz_words_check(words_rest(&w, w.n) != NULL);
	fuzz_words_check(*words_rest(&w, w.n) == '\0');

	/* the same text splits the same way */
	fuzz_words_check(words_split_dict(text, fuzz_words_currencies,
	    FUZZ_WORDS_NCURRENCIES, dict, &again) == 0);
	fuzz_words_check(again.n == w.n);
	for (i = 0; i < w.n; i++) {
		fuzz_words_check(again.offset[i] == w.offset[i]);
		fuzz_words_check(strcmp(again.word[i], w.word[i]) == 0);
		fuzz_words_check(strcmp(words_rest(&again, i),
		    words_rest(&w, i)) == 0);
		fuzz_words_check((again.other[i] == NULL) ==
		    (w.other[i] == NULL));
	}
	words_free(&again);
	words_dict_free(dict);

	/* the distance between the raw text and a keyword, both ways */
	d = words_distance(text, "sell", 2);
	fuzz_words_check(d >= 0 && d <= 3 &&
	    d == words_distance("sell", text, 2));

	words_free(&w);
	fuzz_words_check(w.n == 0 && w.text == NULL);
	free(text);
	return 0;
}
