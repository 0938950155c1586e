/*
 * lang.h - the languages marketbox speaks: the words of every command and
 * the text of every reply, one file per language in language-dir.
 *
 * A language file is in Kannel's conf syntax:
 *
 *	group = language
 *	code = sw
 *	name = Kiswahili
 *	locale = sw		(CLDR plural rules; default: the code)
 *	digit-group = ","	(between thousands in {n, number})
 *	decimal-mark = "."
 *	names = swahili;kiswahili;souahili;斯瓦希里语
 *
 *	group = keyword
 *	command = SELL
 *	words = uza;nauza
 *
 *	group = template
 *	name = sell-ok
 *	text = "Ofa #{ref}: {qty} {unit} {commodity} kwa {price} {currency}."
 *
 * Adding a language is adding a file.  Words are matched after words.c's
 * normalisation (lowercase).  A template missing from a language falls
 * back to the default language's (logged once, at load).  Placeholders
 * are {name}; values come as struct mb_arg.
 */
#ifndef MARKETBOX_LANG_H
#define MARKETBOX_LANG_H

#include <stddef.h>

struct mb_arg;
struct lang_set;

/*
 * Load every *.conf file in dir.  default_code must be one of them.
 * Returns NULL (every problem logged with file and line) when a file does
 * not parse, two files claim one code, a word names two commands in one
 * language, or the default language is missing.
 */
struct lang_set	*lang_load(const char *dir, const char *default_code);
void		 lang_free(struct lang_set *);

const char	*lang_default(const struct lang_set *);
/* 1 if code is a loaded language */
int		 lang_exists(const struct lang_set *, const char *code);
/* the language's own name ("Kiswahili"), or NULL */
const char	*lang_name(const struct lang_set *, const char *code);
/*
 * The code of the language known by name: its code, its own name or one
 * of the "names" of its file, compared after words.c's normalisation
 * (give name normalised, words joined by one space: "français",
 * "kiswahili", "中文").  The first language in code order wins.  NULL if
 * none.
 */
const char	*lang_by_name(const struct lang_set *, const char *name);
/* the codes of the loaded languages, sorted; n in *n */
const char * const *lang_codes(const struct lang_set *, size_t *n);

/*
 * The command a (normalised) word names.  First in language prefer, then in
 * the others (in code order); *found (if not NULL) is set to the language
 * whose word it is.  NULL if no language has it.
 */
const char	*lang_keyword(const struct lang_set *, const char *word,
		    const char *prefer, const char **found);

/* The first word for command in lang (or the default language), or NULL. */
const char	*lang_command_word(const struct lang_set *, const char *lang,
		    const char *command);

/*
 * Every (word, command) of lang, for suggestions: calls fn for each; stops
 * early when fn returns non-zero.
 */
void		 lang_each_word(const struct lang_set *, const char *lang,
		    int (*fn)(void *, const char *word, const char *command),
		    void *arg);

/*
 * Every template of every language, for checks: calls fn with the
 * language's code, its file and the line of the template's name.
 */
void		 lang_each_template(const struct lang_set *,
		    void (*fn)(void *, const char *code, const char *file,
		    long line, const char *name, const char *text),
		    void *arg);

/*
 * Every template of lang's own file (not the default language's it falls
 * back to), as (name, text), in name order: calls fn for each; stops early
 * when fn returns non-zero.  Nothing for an unknown language.
 */
void		 lang_each_own_template(const struct lang_set *, const char *lang,
		    int (*fn)(void *, const char *name, const char *text),
		    void *arg);

/* The template name in lang, else in the default language, else NULL. */
const char	*lang_template(const struct lang_set *, const char *lang,
		    const char *name);

/*
 * The CLDR plural category ("zero", "one", "two", "few", "many" or
 * "other", a static string) of number in language code (the default
 * language's rules for an unknown code; English's without a set).
 */
const char	*lang_plural(const struct lang_set *, const char *code,
		    double number);
/* The marks the language writes numbers with ("," and "." by default). */
const char	*lang_digit_group(const struct lang_set *, const char *code);
const char	*lang_decimal_mark(const struct lang_set *, const char *code);

/*
 * Fill a template (render.h has the syntax) with no language: English
 * plural rules and marks, values as they are; a placeholder with no value
 * is left empty.  Returns a malloc'd string, NULL if memory runs out.
 */
char		*lang_render(const char *tmpl, const struct mb_arg *,
		    size_t nargs);

#endif
