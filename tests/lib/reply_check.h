/*
 * reply_check.h - what every text marketbox sends must be, for the tests
 * of the replies (test_replies.c: every template of every language) and
 * of the conversation (test_corpus.c: every reply of the corpus): one
 * SMS, no placeholder left as text, and no word of another language.
 *
 * The vocabulary of a language is built from what the shipped files give
 * it: the words of its own templates (placeholders and plural syntax left
 * out), its keywords, the catalogue's names and forms in it and its own
 * name.  A word of a text in language L is foreign when
 *  - it is a keyword of another language and not one of L's (nor a
 *    catalogue word of L): "Send SELL 41" in a Swahili reply;
 *  - or it is a catalogue name or form of another language, of three
 *    letters or more, and not one of L's: "10 bag" in a French reply;
 *  - or it is in another language's vocabulary and not in L's at all: a
 *    word a value brought in ("pending" built in C).
 * Allowed everywhere: words with digits ("7d", "#41"), the currency and
 * its aliases, market names, codes and aliases, language codes and names,
 * and the proper nouns a test adds (people's names).  A test also passes
 * the words a person typed (echoed back, they are theirs).
 *
 * Words are runs of Latin letters and digits (ASCII, Latin-1, Latin
 * Extended-A; lowercased, accents kept) or runs of Han characters.
 */
#ifndef MARKETBOX_TEST_REPLY_CHECK_H
#define MARKETBOX_TEST_REPLY_CHECK_H

#include <stddef.h>

struct conf;
struct lang_set;
struct reply_vocab;

/* The vocabularies of every language of langs; NULL if memory runs out. */
struct reply_vocab	*reply_vocab_new(const struct conf *,
			    const struct lang_set *);
void			 reply_vocab_free(struct reply_vocab *);
/* Allow every word of text in every language (proper nouns). */
void			 reply_vocab_allow(struct reply_vocab *, const char *text);

/*
 * The foreign words of text, a text in language lang, with the words of
 * typed (may be NULL) allowed too.  Returns how many; each is appended to
 * why (NUL terminated, cut to len) as "'bag' (en)".
 */
size_t			 reply_foreign(const struct reply_vocab *,
			    const char *lang, const char *text,
			    const char *typed, char *why, size_t len);

/*
 * 0 if text fits one SMS: 160 septets in the GSM 03.38 alphabet (an
 * extension character counts two), else 70 UCS-2 units; -1 with why set
 * ("74 UCS-2 units > 70") if not.
 */
int			 reply_fits_sms(const char *text, char *why,
			    size_t len);

/*
 * 1 if text holds what looks like a placeholder left unfilled: '{', a
 * name ([A-Za-z0-9_-]+), then '}' or ','.
 */
int			 reply_has_placeholder(const char *text);

/*
 * The placeholders of a template (render.h's syntax), in order, each
 * reported once per occurrence: fn(arg, name, numeric), numeric being 1
 * for a name a number must fill ({x, number}, {x, plural, ...}, the
 * number of {u, count, x}).  Literal text (branches included) goes to
 * text_fn, when not NULL, one piece at a time.
 */
void			 reply_template_walk(const char *tmpl,
			    void (*fn)(void *, const char *name, int numeric),
			    void (*text_fn)(void *, const char *text,
			    size_t len), void *arg);

/*
 * 1 if needle is in hay, compared without ASCII or Latin case, and not
 * inside a longer word or number ("#4" is not in "#41").
 */
int			 reply_contains(const char *hay, const char *needle);

/*
 * A test's report: each line (printf-style, its newline added) is written
 * to stderr and kept, so that the failing assertion can carry the whole
 * report into the test's log (criterion --quiet, as make check runs the
 * tests, drops their stderr).
 */
void			 reply_report(const char *fmt, ...)
			    __attribute__((format(printf, 1, 2)));
/* Everything reported since the last clear ("" if nothing). */
const char		*reply_report_text(void);
void			 reply_report_clear(void);

#endif
