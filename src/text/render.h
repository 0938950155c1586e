/*
 * render.h - filling a template of a language file with values: plain
 * placeholders, numbers as the language writes them, words chosen by the
 * plural category of a number, catalogue words in the reader's language.
 *
 * The syntax (documented for admins in marketbox.conf(5)):
 *
 *	{name}			the value of name; a catalogue code given as
 *				{commodity} or {unit} shows as its name in
 *				the reader's language
 *	{name, capital}		the same, its first letter a capital
 *	{name, number}		a number with the language's digit grouping
 *				and decimal mark: "3,050", "6 000", "2.50"
 *	{name, count, qty}	the catalogue word name agreeing with the
 *				number qty: "bag" for 1, "bags" for 10
 *	{qty, plural, one {# bag} other {# bags}}
 *				the branch of the CLDR plural category of
 *				qty in the reader's language (zero, one, two,
 *				few, many, other; "=0" matches exactly 0 and
 *				comes first); a lone # in a branch is qty as
 *				{qty, number}; branches hold placeholders too
 *	{{			a '{'
 *
 * Anything else that is not a placeholder ("{ x", a lone "{") is text.
 * Plural rules are CLDR's, through ICU (lang.c loads them per language),
 * so a new language brings its own categories with its locale alone.
 */
#ifndef MARKETBOX_RENDER_H
#define MARKETBOX_RENDER_H

#include <stddef.h>

struct lang_set;
struct mb_arg;

/*
 * The word that names a catalogue code in a language: value is the value
 * of the placeholder name ("unit", "commodity"), category a CLDR plural
 * category, or NULL for the name itself.  Returns NULL when value is no
 * catalogue code of that kind (the value is then shown as it is).
 */
typedef const char *(*render_word_fn)(void *arg, const char *lang,
		    const char *name, const char *value, const char *category);

struct render_env {
	const struct lang_set	*langs;		/* NULL: English conventions */
	const char		*lang;		/* the reader's language */
	render_word_fn		 word;		/* NULL: values as they are */
	void			*word_arg;
	size_t			 missing;	/* out: placeholders with no
						   value, rendered empty */
};

/*
 * tmpl filled with args for env's reader.  Returns a malloc'd string, NULL
 * if memory runs out.  A placeholder with no value renders empty and is
 * counted in env->missing.
 */
char	*render(struct render_env *, const char *tmpl, const struct mb_arg *,
	    size_t nargs);

/*
 * Check a template's placeholders: 0, or -1 with *why (a static text) and
 * *offset (bytes into tmpl) set, for an unknown format, a plural without
 * an "other" branch, an unclosed branch or placeholder.
 */
int	 render_check(const char *tmpl, const char **why, size_t *offset);

/*
 * value (digits, an optional '-' and '.' fraction: "-1234.50") written
 * with group between thousands and decimal for the point, into out (NUL
 * terminated, cut to outlen).  A value that is not such a number is
 * copied as it is.  Returns the length written.
 */
size_t	 render_number(const char *value, const char *group,
	    const char *decimal, char *out, size_t outlen);

#endif
