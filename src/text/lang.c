/*
 * lang.c - the languages marketbox speaks: load every language file of
 * language-dir (Kannel conf syntax, with the groups of conf.def), check
 * them, and answer the router's two hot questions fast: which command does
 * this word name, and what is the text of this template.
 *
 * Decisions the header leaves open:
 *  - Files are the *.conf entries of the directory not starting with '.',
 *    read in strcmp order; a directory with none is refused.
 *  - Each file has exactly one "group = language" (code: 2 to 8 lowercase
 *    ASCII letters, digits or '-'; name: optional, defaults to the code;
 *    names: optional, ';'-separated, the language's names in any
 *    language, each normalised as a message is, for LANG).
 *  - The files are read here, as libgw's cfg_read() reads a conf (lines
 *    joined at a trailing backslash, '#' comments, blocks of lines between
 *    blank lines, "key = value" with blanks trimmed and one pair of
 *    quotes taken off), not by libgw: it does not tell the line of a key,
 *    and it grows its list of a file's lines one line at a time, which
 *    costs a second per file under the sanitizers.  A line that is not
 *    "key = value", a block without "group =", a group other than
 *    language, keyword and template, and a key its group does not declare
 *    are refused, with the file and the line.
 *  - A file may not include another ("include = ..." is refused, with the
 *    file and the line): language files stand alone.  The word "include"
 *    in a text is only a word.
 *  - Keyword commands are uppercase ASCII ([A-Z0-9_-]); one keyword group
 *    per command per language.  Each word of "words" (';'-separated) is
 *    normalised with words.c's words_split() and must come out as exactly
 *    one word, so that the router, which looks words up after the same
 *    normalisation, can find it ("?" or "a b" cannot be keywords).  The
 *    same word twice for one command is harmless and kept once.
 *  - A key repeated in one group (a template's text twice) is refused
 *    with the file and the line of the repeat: one of the two would win
 *    unseen.
 *  - Template names are ASCII letters, digits, '-' and '_' and are matched
 *    without regard to ASCII case ("usage-sell" finds "usage-SELL"); a
 *    name twice in one language is refused.  Texts must be valid UTF-8.
 *  - lang_render(): a placeholder is '{', one or more of [A-Za-z0-9_-],
 *    '}'.  Any other '{' (unterminated, "{}", "{a b}") is kept as typed;
 *    '}' is always literal.  The first arg of a name wins; a NULL value is
 *    empty.
 *
 * Lookups are binary searches in arrays sorted at load: words per language
 * (the router asks for every MO), commands, templates, and the languages
 * by code.  A loaded set is read-only; a reload loads a new one.
 */
#include "config.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#include <unicode/upluralrules.h>

#include "base/gw.h"

#include "base/conf.h"
#include "text/lang.h"
#include "marketbox-plugin.h"
#include "text/render.h"
#include "text/words.h"

#define LANG_FILE_MAX	(4 * 1024 * 1024)	/* bytes of one language file */

/* A word of a language and the command it names. */
struct lang_word {
	const char		*word;		/* owned by its command */
	struct lang_command	*command;
	long			 line;
};

struct lang_command {
	char		*id;		/* "SELL" */
	char		**words;	/* normalised, in file order */
	size_t		 nwords;
	long		 line;		/* of "command" */
	long		 words_line;	/* of "words" */
};

struct lang_template {
	char		*name;
	char		*text;
	long		 line;
};

struct lang {
	char			*code;
	char			*name;
	char			*locale;	/* ICU/CLDR: "sw", "zh-Hans" */
	char			*digit_group;	/* "," between thousands */
	char			*decimal_mark;	/* "." */
	UPluralRules		*plural;	/* CLDR plural rules, or NULL */
	char			**names;	/* normalised, any language's */
	size_t			 nnames;
	char			*file;		/* path, for messages */
	long			 line;		/* of "code" */
	struct lang_command	*commands;	/* sorted by id */
	size_t			 ncommands;
	struct lang_word	*words;		/* sorted by word */
	size_t			 nwords;
	struct lang_template	*templates;	/* sorted by name, no case */
	size_t			 ntemplates;
};

struct lang_set {
	struct lang		*langs;		/* sorted by code */
	size_t			 nlangs;
	const char		**codes;	/* langs[i].code */
	const struct lang	*def;
};

/* A file as read: its groups in file order, each key with its line. */
struct lang_scan_key {
	char		*key;
	char		*value;		/* trimmed, one pair of quotes off */
	long		 line;
};

struct lang_scan_group {
	char			*name;		/* value of "group", or NULL */
	long			 line;		/* first line */
	struct lang_scan_key	*keys;
	size_t			 nkeys;
};

struct lang_scan {
	const char		*file;
	struct lang_scan_group	*groups;
	size_t			 ngroups;
	size_t			 cap;		/* groups allocated */
	int			 bad;		/* a line was refused */
};

static void *
lang_alloc(size_t n)
{
	void	*p;

	if ((p = calloc(1, n ? n : 1)) == NULL)
		panic(errno, "out of memory");
	return p;
}

static void *
lang_grow(void *p, size_t n, size_t size)
{
	if ((p = realloc(p, (n ? n : 1) * size)) == NULL)
		panic(errno, "out of memory");
	return p;
}

static char *
lang_strdup(const char *s)
{
	char	*d;

	if ((d = strdup(s)) == NULL)
		panic(errno, "out of memory");
	return d;
}

static char *
lang_strndup(const char *s, size_t n)
{
	char	*d;

	if ((d = strndup(s, n)) == NULL)
		panic(errno, "out of memory");
	return d;
}

/* --- scanning a file for lines ------------------------------------------- */

/* s[0..*len) without blanks at either end, as octstr_strip_blanks does. */
static const char *
lang_trim(const char *s, size_t *len)
{
	size_t	 n = *len;

	while (n > 0 && isspace((unsigned char)*s)) {
		s++;
		n--;
	}
	while (n > 0 && isspace((unsigned char)s[n - 1]))
		n--;
	*len = n;
	return s;
}

static void
lang_scan_free(struct lang_scan *sc)
{
	size_t	 i, j;

	for (i = 0; i < sc->ngroups; i++) {
		free(sc->groups[i].name);
		for (j = 0; j < sc->groups[i].nkeys; j++) {
			free(sc->groups[i].keys[j].key);
			free(sc->groups[i].keys[j].value);
		}
		free(sc->groups[i].keys);
	}
	free(sc->groups);
	sc->groups = NULL;
	sc->ngroups = sc->cap = 0;
}

/* One logical line (numbered lineno) of the file, trimmed. */
static void
lang_scan_line(struct lang_scan *sc, const char *s, size_t len, long lineno,
    int *ingroup)
{
	struct lang_scan_group	*g;
	const char		*eq, *key, *val;
	size_t			 klen, vlen, i;

	s = lang_trim(s, &len);
	if (len == 0) {
		*ingroup = 0;
		return;
	}
	if (s[0] == '#')
		return;
	if ((eq = memchr(s, '=', len)) == NULL) {
		error(0, "%s:%ld: not a 'key = value' line (nor a '#' comment "
		    "or a blank line)", sc->file, lineno);
		sc->bad = 1;
		return;
	}
	klen = eq - s;
	key = lang_trim(s, &klen);
	if (klen == 7 && memcmp(key, "include", 7) == 0) {
		error(0, "%s:%ld: language files cannot include other files",
		    sc->file, lineno);
		sc->bad = 1;
		return;
	}
	if (!*ingroup) {
		if (sc->ngroups == sc->cap) {
			sc->cap = sc->cap ? 2 * sc->cap : 64;
			sc->groups = lang_grow(sc->groups, sc->cap,
			    sizeof(*sc->groups));
		}
		g = &sc->groups[sc->ngroups++];
		memset(g, 0, sizeof(*g));
		g->line = lineno;
		*ingroup = 1;
	}
	g = &sc->groups[sc->ngroups - 1];
	vlen = len - (eq + 1 - s);
	val = lang_trim(eq + 1, &vlen);
	if (vlen >= 2 && val[0] == '"' && val[vlen - 1] == '"') {
		val++;
		vlen -= 2;
	}
	/* a template's second text, a keyword group's second words (an
	   edit pasted below the old one): one would win unseen */
	for (i = 0; i < g->nkeys; i++)
		if (strlen(g->keys[i].key) == klen &&
		    memcmp(g->keys[i].key, key, klen) == 0) {
			error(0, "%s:%ld: '%.*s' is repeated in this group "
			    "(first at line %ld): remove one", sc->file,
			    lineno, (int)klen, key, g->keys[i].line);
			sc->bad = 1;
			break;
		}
	g->keys = lang_grow(g->keys, g->nkeys + 1, sizeof(*g->keys));
	g->keys[g->nkeys].key = lang_strndup(key, klen);
	g->keys[g->nkeys].value = lang_strndup(val, vlen);
	g->keys[g->nkeys].line = lineno;
	g->nkeys++;
	if (klen == 5 && memcmp(key, "group", 5) == 0) {
		free(g->name);
		g->name = lang_strndup(val, vlen);
	}
}

/* Scan the file's text (NUL-terminated, len bytes). */
static void
lang_scan_text(struct lang_scan *sc, const char *text, size_t len)
{
	const char	*p = text, *end = text + len, *nl;
	char		*logical = NULL;
	size_t		 llen = 0, lcap = 0;
	long		 lineno = 0, start = 0;
	int		 ingroup = 0, joining = 0;

	/* libgw splits on "\n"; a last line without one still counts. */
	while (p < end) {
		size_t	 n;

		nl = memchr(p, '\n', end - p);
		n = nl ? (size_t)(nl - p) : (size_t)(end - p);
		lineno++;
		if (!joining) {
			start = lineno;
			llen = 0;
		}
		if (llen + n + 1 > lcap) {
			lcap = 2 * (llen + n + 1) + 128;
			logical = lang_grow(logical, lcap, 1);
		}
		if (n > 0 && p[n - 1] == '\\') {
			memcpy(logical + llen, p, n - 1);
			llen += n - 1;
			/* a doubled backslash ends the line after all */
			joining = !(n > 1 && p[n - 2] == '\\');
		} else {
			memcpy(logical + llen, p, n);
			llen += n;
			joining = 0;
		}
		if (!joining)
			lang_scan_line(sc, logical, llen, start, &ingroup);
		p = nl ? nl + 1 : end;
	}
	if (joining)
		lang_scan_line(sc, logical, llen, start, &ingroup);
	free(logical);
}

/*
 * Every group of the file is one conf.def declares for language files,
 * with keys it declares: 0, or -1 with each problem logged at its line.
 */
static int
lang_scan_check(const struct lang_scan *sc)
{
	static const char *const groups[] = { "language", "keyword",
	    "template" };
	const char	*near;
	size_t		 i, j, k;
	int		 bad = 0;

	for (i = 0; i < sc->ngroups; i++) {
		const struct lang_scan_group	*g = &sc->groups[i];

		if (g->name == NULL) {
			error(0, "%s:%ld: these lines have no 'group = ' line "
			    "(groups are separated by blank lines)", sc->file,
			    g->line);
			bad = -1;
			continue;
		}
		for (k = 0; k < sizeof(groups) / sizeof(groups[0]); k++)
			if (strcmp(g->name, groups[k]) == 0)
				break;
		if (k == sizeof(groups) / sizeof(groups[0])) {
			error(0, "%s:%ld: group '%s' has no place in a "
			    "language file (its groups are language, keyword "
			    "and template)", sc->file, g->line, g->name);
			bad = -1;
			continue;
		}
		for (j = 0; j < g->nkeys; j++) {
			if (conf_key_declared(g->name, g->keys[j].key,
			    &near) == 1)
				continue;
			if (near != NULL)
				error(0, "%s:%ld: unknown key '%s' in group %s "
				    "(did you mean %s?)", sc->file,
				    g->keys[j].line, g->keys[j].key, g->name,
				    near);
			else
				error(0, "%s:%ld: unknown key '%s' in group %s "
				    "(marketbox.conf(5), LANGUAGE FILES, "
				    "lists its keys)",
				    sc->file, g->keys[j].line, g->keys[j].key,
				    g->name);
			bad = -1;
		}
	}
	return bad;
}

/* The groups named name, in file order, and how many (*n). */
static const struct lang_scan_group **
lang_scan_groups(const struct lang_scan *sc, const char *name, size_t *n)
{
	const struct lang_scan_group	**v;
	size_t				  i;

	v = lang_alloc(sc->ngroups * sizeof(*v));
	*n = 0;
	for (i = 0; i < sc->ngroups; i++)
		if (sc->groups[i].name != NULL &&
		    strcmp(sc->groups[i].name, name) == 0)
			v[(*n)++] = &sc->groups[i];
	return v;
}

static const struct lang_scan_key *
lang_key(const struct lang_scan_group *g, const char *key)
{
	size_t	 i;

	for (i = 0; i < g->nkeys; i++)
		if (strcmp(g->keys[i].key, key) == 0)
			return &g->keys[i];
	return NULL;
}

/* The line of key in g, or of g if the key is not there. */
static long
lang_key_line(const struct lang_scan_group *g, const char *key)
{
	const struct lang_scan_key	*k = lang_key(g, key);

	return k != NULL ? k->line : g->line;
}

/*
 * Read path whole into a NUL-terminated buffer; NULL (logged) if it is not
 * a readable regular file of sane size.
 */
static char *
lang_slurp(const char *path, size_t *len)
{
	FILE		*fp;
	struct stat	 st;
	char		*buf;
	size_t		 n;

	if ((fp = fopen(path, "r")) == NULL) {
		error(errno, "%s: cannot read the language file", path);
		return NULL;
	}
	if (fstat(fileno(fp), &st) == -1 || !S_ISREG(st.st_mode) ||
	    st.st_size > LANG_FILE_MAX) {
		error(0, "%s: not a language file (a regular file of at most "
		    "%d bytes)", path, LANG_FILE_MAX);
		fclose(fp);
		return NULL;
	}
	buf = lang_alloc((size_t)st.st_size + 1);
	n = fread(buf, 1, (size_t)st.st_size, fp);
	if (ferror(fp)) {
		error(errno, "%s: cannot read the language file", path);
		fclose(fp);
		free(buf);
		return NULL;
	}
	fclose(fp);
	buf[n] = '\0';
	*len = n;
	return buf;
}

/* --- checks on values ---------------------------------------------------- */

static int
lang_code_ok(const char *s)
{
	size_t	 n = strlen(s);

	return n >= 2 && n <= 8 &&
	    strspn(s, "abcdefghijklmnopqrstuvwxyz0123456789-") == n;
}

static int
lang_command_ok(const char *s)
{
	size_t	 n = strlen(s);

	return n >= 1 && n <= 32 &&
	    strspn(s, "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-") == n;
}

static int
lang_template_name_ok(const char *s)
{
	size_t	 n = strlen(s);

	return n >= 1 && n <= 64 &&
	    strspn(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
	    "0123456789_-") == n;
}

/* 1 if s is valid UTF-8 (no overlongs, surrogates or code points > 10FFFF) */
static int
lang_utf8_ok(const char *str)
{
	const unsigned char	*s = (const unsigned char *)str;

	while (*s != '\0') {
		unsigned long	 cp;
		int		 n, i;

		if (*s < 0x80) {
			s++;
			continue;
		}
		if (*s >= 0xC2 && *s <= 0xDF) {
			n = 1;
			cp = *s & 0x1F;
		} else if (*s >= 0xE0 && *s <= 0xEF) {
			n = 2;
			cp = *s & 0x0F;
		} else if (*s >= 0xF0 && *s <= 0xF4) {
			n = 3;
			cp = *s & 0x07;
		} else
			return 0;
		for (i = 1; i <= n; i++) {
			if ((s[i] & 0xC0) != 0x80)
				return 0;
			cp = (cp << 6) | (s[i] & 0x3F);
		}
		if ((n == 2 && cp < 0x800) || (n == 3 && cp < 0x10000) ||
		    (cp >= 0xD800 && cp <= 0xDFFF) || cp > 0x10FFFF)
			return 0;
		s += n + 1;
	}
	return 1;
}

/* The value of key in g, malloc'd; NULL if absent. */
static char *
lang_get(const struct lang_scan_group *g, const char *key)
{
	const struct lang_scan_key	*k = lang_key(g, key);

	return k != NULL ? lang_strdup(k->value) : NULL;
}

/* --- one language ---------------------------------------------------------- */

static void
lang_clear(struct lang *l)
{
	size_t	 i, j;

	free(l->code);
	free(l->name);
	for (i = 0; i < l->nnames; i++)
		free(l->names[i]);
	free(l->names);
	free(l->file);
	free(l->locale);
	free(l->digit_group);
	free(l->decimal_mark);
	if (l->plural != NULL)
		uplrules_close(l->plural);
	for (i = 0; i < l->ncommands; i++) {
		free(l->commands[i].id);
		for (j = 0; j < l->commands[i].nwords; j++)
			free(l->commands[i].words[j]);
		free(l->commands[i].words);
	}
	free(l->commands);
	free(l->words);
	for (i = 0; i < l->ntemplates; i++) {
		free(l->templates[i].name);
		free(l->templates[i].text);
	}
	free(l->templates);
	memset(l, 0, sizeof(*l));
}

static int
lang_command_cmp(const void *a, const void *b)
{
	const struct lang_command	*x = a, *y = b;

	return strcmp(x->id, y->id);
}

static int
lang_word_cmp(const void *a, const void *b)
{
	const struct lang_word	*x = a, *y = b;
	int			 c = strcmp(x->word, y->word);

	if (c != 0)
		return c;
	return x->line < y->line ? -1 : x->line > y->line;
}

static int
lang_template_cmp(const void *a, const void *b)
{
	const struct lang_template	*x = a, *y = b;

	return strcasecmp(x->name, y->name);
}

/* For sorting: by name, then by line (a duplicate comes after). */
static int
lang_template_sort_cmp(const void *a, const void *b)
{
	const struct lang_template	*x = a, *y = b;
	int				 c = strcasecmp(x->name, y->name);

	if (c != 0)
		return c;
	return x->line < y->line ? -1 : x->line > y->line;
}

/*
 * How the language writes numbers, from its group = language: locale (the
 * CLDR locale of its plural rules, default the code), digit-group and
 * decimal-mark (default "," and ".").  The marks are what replies show,
 * so a plain space, not CLDR's narrow no-break space, keeps a French
 * reply in the GSM alphabet.
 */
static int
lang_read_numbers(struct lang *l, const struct lang_scan_group *grp)
{
	UErrorCode	 status = U_ZERO_ERROR;

	l->locale = lang_get(grp, "locale");
	if (l->locale == NULL || l->locale[0] == '\0') {
		free(l->locale);
		l->locale = lang_strdup(l->code);
	}
	if ((l->digit_group = lang_get(grp, "digit-group")) == NULL)
		l->digit_group = lang_strdup(",");
	if ((l->decimal_mark = lang_get(grp, "decimal-mark")) == NULL ||
	    l->decimal_mark[0] == '\0') {
		free(l->decimal_mark);
		l->decimal_mark = lang_strdup(".");
	}
	if (!lang_utf8_ok(l->digit_group) || !lang_utf8_ok(l->decimal_mark) ||
	    strlen(l->digit_group) > 4 || strlen(l->decimal_mark) > 4) {
		error(0, "%s:%ld: digit-group and decimal-mark are at most one "
		    "character each", l->file, lang_key_line(grp, "code"));
		return -1;
	}
	l->plural = uplrules_open(l->locale, &status);
	if (U_FAILURE(status) || l->plural == NULL) {
		error(0, "%s:%ld: no plural rules for locale '%s': %s",
		    l->file, lang_key_line(grp, "code"), l->locale,
		    u_errorName(status));
		l->plural = NULL;
		return -1;
	}
	return 0;
}

/*
 * A name of a language as people type it, normalised the way their
 * messages are (words.c, words joined by one space): "Français" ->
 * "français".  NULL for a name of no word.
 */
static char *
lang_name_normal(const char *typed)
{
	char	*s;

	if ((s = words_normal(typed)) == NULL)
		panic(ENOMEM, "out of memory");
	if (s[0] == '\0') {
		free(s);
		return NULL;
	}
	return s;
}

/*
 * The names a language is known by, in any language ("names =
 * francais;français;french;kifaransa;法语"), with its code and own name:
 * what LANG accepts.  0, or -1 (logged with the line).
 */
static int
lang_read_names(struct lang *l, const struct lang_scan_group *grp, long line)
{
	char		*list = lang_get(grp, "names");
	const char	*p;
	int		 bad = 0;

	l->names = lang_alloc(2 * sizeof(*l->names));
	l->names[l->nnames++] = lang_name_normal(l->code);
	if ((l->names[l->nnames] = lang_name_normal(l->name)) != NULL)
		l->nnames++;
	for (p = list; p != NULL && *p != '\0'; ) {
		const char	*end = p + strcspn(p, ";");
		char		*item = lang_strndup(p, end - p), *n;

		p = *end ? end + 1 : end;
		if (!lang_utf8_ok(item)) {
			error(0, "%s:%ld: names: '%s' is not valid UTF-8",
			    l->file, line, item);
			bad = -1;
		} else if ((n = lang_name_normal(item)) != NULL) {
			l->names = lang_grow(l->names, l->nnames + 1,
			    sizeof(*l->names));
			l->names[l->nnames++] = n;
		}
		free(item);
	}
	free(list);
	return bad;
}

static int
lang_read_language(struct lang *l, const struct lang_scan *sc)
{
	const struct lang_scan_group	**v, *grp;
	size_t				  n;

	v = lang_scan_groups(sc, "language", &n);
	if (n != 1) {
		if (n == 0)
			error(0, "%s: no 'group = language'", l->file);
		else
			error(0, "%s:%ld: a second 'group = language' (one "
			    "file is one language)", l->file, v[1]->line);
		free(v);
		return -1;
	}
	grp = v[0];
	free(v);
	l->code = lang_get(grp, "code");
	l->name = lang_get(grp, "name");
	l->line = lang_key_line(grp, "code");
	if (l->code == NULL || !lang_code_ok(l->code)) {
		error(0, "%s:%ld: code '%s' must be 2 to 8 lowercase letters, "
		    "digits or '-'", l->file, l->line,
		    l->code ? l->code : "");
		return -1;
	}
	if (l->name == NULL || l->name[0] == '\0') {
		free(l->name);
		l->name = lang_strdup(l->code);
	} else if (!lang_utf8_ok(l->name)) {
		error(0, "%s:%ld: name is not valid UTF-8", l->file,
		    lang_key_line(grp, "name"));
		return -1;
	}
	if (lang_read_numbers(l, grp) == -1)
		return -1;
	return lang_read_names(l, grp, lang_key_line(grp, "names"));
}

/* Add the ';'-separated words of one keyword group to c. */
static int
lang_add_words(struct lang *l, struct lang_command *c, const char *list,
    long line)
{
	const char	*p = list;
	int		 bad = 0;

	while (*p != '\0') {
		const char	*end = p + strcspn(p, ";");
		char		*item = lang_strndup(p, end - p);
		struct words	 w;
		size_t		 i;

		p = *end ? end + 1 : end;
		if (item[strspn(item, " \t\r\n")] == '\0') {
			free(item);	/* "a;;b", a trailing ';' */
			continue;
		}
		if (!lang_utf8_ok(item)) {
			error(0, "%s:%ld: %s: a word is not valid UTF-8",
			    l->file, line, c->id);
			bad = -1;
		} else if (words_split(item, NULL, 0, &w) == -1) {
			panic(ENOMEM, "out of memory");
		} else if (w.n != 1) {
			error(0, "%s:%ld: %s: '%s' is not one word once "
			    "normalised (as people's messages are)", l->file,
			    line, c->id, item);
			words_free(&w);
			bad = -1;
		} else {
			for (i = 0; i < c->nwords; i++)
				if (strcmp(c->words[i], w.word[0]) == 0)
					break;
			if (i == c->nwords) {
				c->words = lang_grow(c->words, c->nwords + 1,
				    sizeof(*c->words));
				c->words[c->nwords++] =
				    lang_strdup(w.word[0]);
			}
			words_free(&w);
		}
		free(item);
	}
	if (c->nwords == 0 && bad == 0) {
		error(0, "%s:%ld: %s has no words", l->file, line, c->id);
		bad = -1;
	}
	return bad;
}

static int
lang_read_keywords(struct lang *l, const struct lang_scan *sc)
{
	const struct lang_scan_group	**list;
	size_t				  i, j, k, n, nw = 0;
	int				  bad = 0;

	list = lang_scan_groups(sc, "keyword", &n);
	l->ncommands = 0;
	l->commands = lang_alloc(n * sizeof(*l->commands));
	for (i = 0; i < n; i++) {
		const struct lang_scan_group	*grp = list[i];
		struct lang_command		*c = &l->commands[l->ncommands];
		char				*words;
		long				 line;

		c->id = lang_get(grp, "command");
		c->line = lang_key_line(grp, "command");
		if (c->id == NULL || !lang_command_ok(c->id)) {
			error(0, "%s:%ld: command '%s' must be an uppercase "
			    "command id like SELL", l->file, c->line,
			    c->id ? c->id : "");
			free(c->id);
			c->id = NULL;
			bad = -1;
			continue;
		}
		l->ncommands++;
		line = c->words_line = lang_key_line(grp, "words");
		if ((words = lang_get(grp, "words")) == NULL) {
			error(0, "%s:%ld: %s has no words", l->file, line,
			    c->id);
			bad = -1;
			continue;
		}
		if (lang_add_words(l, c, words, line) == -1)
			bad = -1;
		free(words);
	}
	free(list);

	qsort(l->commands, l->ncommands, sizeof(*l->commands),
	    lang_command_cmp);
	for (j = 1; j < l->ncommands; j++)
		if (strcmp(l->commands[j - 1].id, l->commands[j].id) == 0) {
			const struct lang_command	*a = &l->commands[j - 1];
			const struct lang_command	*b = &l->commands[j];

			error(0, "%s:%ld: command %s has a keyword group "
			    "already (line %ld)", l->file,
			    a->line > b->line ? a->line : b->line, a->id,
			    a->line > b->line ? b->line : a->line);
			bad = -1;
		}

	/* The word index, and no word for two commands. */
	for (j = 0; j < l->ncommands; j++)
		nw += l->commands[j].nwords;
	l->words = lang_alloc(nw * sizeof(*l->words));
	for (j = 0; j < l->ncommands; j++)
		for (k = 0; k < l->commands[j].nwords; k++) {
			struct lang_word	*w = &l->words[l->nwords++];

			w->word = l->commands[j].words[k];
			w->command = &l->commands[j];
			w->line = l->commands[j].words_line;
		}
	qsort(l->words, l->nwords, sizeof(*l->words), lang_word_cmp);
	for (j = 1, k = 1; j < l->nwords; j++) {
		struct lang_word	*prev = &l->words[k - 1];
		struct lang_word	*w = &l->words[j];

		if (strcmp(prev->word, w->word) != 0) {
			l->words[k++] = *w;
			continue;
		}
		/* sorted by line too: w is the later one */
		error(0, "%s:%ld: word '%s' of %s is already a word of %s "
		    "(line %ld)", l->file, w->line, w->word, w->command->id,
		    prev->command->id, prev->line);
		bad = -1;
	}
	if (l->nwords > 0)
		l->nwords = k;
	return bad;
}

static int
lang_read_templates(struct lang *l, const struct lang_scan *sc)
{
	const struct lang_scan_group	**list;
	const char			 *why;
	size_t				  i, j, n, off;
	int				  bad = 0;

	list = lang_scan_groups(sc, "template", &n);
	l->ntemplates = 0;
	l->templates = lang_alloc(n * sizeof(*l->templates));
	for (i = 0; i < n; i++) {
		const struct lang_scan_group	*grp = list[i];
		struct lang_template		*t = &l->templates[l->ntemplates];

		t->name = lang_get(grp, "name");
		t->line = lang_key_line(grp, "name");
		if (t->name == NULL || !lang_template_name_ok(t->name)) {
			error(0, "%s:%ld: template name '%s' must be letters, "
			    "digits, '-' or '_'", l->file, t->line,
			    t->name ? t->name : "");
			free(t->name);
			t->name = NULL;
			bad = -1;
			continue;
		}
		t->text = lang_get(grp, "text");
		if (t->text == NULL) {
			error(0, "%s:%ld: template %s has no text", l->file,
			    t->line, t->name);
			free(t->name);
			t->name = NULL;
			bad = -1;
			continue;
		}
		l->ntemplates++;
		if (!lang_utf8_ok(t->text)) {
			error(0, "%s:%ld: template %s: text is not valid UTF-8",
			    l->file, lang_key_line(grp, "text"), t->name);
			bad = -1;
		} else if (render_check(t->text, &why, &off) == -1) {
			error(0, "%s:%ld: template %s: %s, at \"%.20s\"",
			    l->file, lang_key_line(grp, "text"), t->name, why,
			    t->text + off);
			bad = -1;
		}
	}
	free(list);

	qsort(l->templates, l->ntemplates, sizeof(*l->templates),
	    lang_template_sort_cmp);
	for (j = 1; j < l->ntemplates; j++) {
		const struct lang_template	*a = &l->templates[j - 1];
		const struct lang_template	*b = &l->templates[j];

		if (strcasecmp(a->name, b->name) == 0) {
			error(0, "%s:%ld: template %s is defined already "
			    "(line %ld)", l->file, b->line, b->name, a->line);
			bad = -1;
		}
	}
	return bad;
}

/* Load one file into l; 0, or -1 with every problem logged. */
static int
lang_load_file(struct lang *l, const char *path)
{
	struct lang_scan	 sc;
	char			*text;
	size_t			 len;
	int			 bad = 0;

	memset(&sc, 0, sizeof(sc));
	l->file = lang_strdup(path);
	sc.file = l->file;
	if ((text = lang_slurp(path, &len)) == NULL)
		return -1;
	lang_scan_text(&sc, text, len);
	free(text);
	if (lang_scan_check(&sc) == -1)
		sc.bad = 1;
	if (sc.bad) {
		error(0, "%s: cannot use this language file", path);
		lang_scan_free(&sc);
		return -1;
	}
	if (lang_read_language(l, &sc) == -1)
		bad = -1;
	if (lang_read_keywords(l, &sc) == -1)
		bad = -1;
	if (lang_read_templates(l, &sc) == -1)
		bad = -1;
	lang_scan_free(&sc);
	return bad;
}

/* --- the set ----------------------------------------------------------------- */

static int
lang_code_cmp(const void *a, const void *b)
{
	const struct lang	*x = a, *y = b;

	return strcmp(x->code, y->code);
}

/* For sorting: by code, then by file (so messages are deterministic). */
static int
lang_sort_cmp(const void *a, const void *b)
{
	const struct lang	*x = a, *y = b;
	int			 c = strcmp(x->code, y->code);

	return c != 0 ? c : strcmp(x->file, y->file);
}

static int
lang_name_cmp(const void *a, const void *b)
{
	return strcmp(*(char * const *)a, *(char * const *)b);
}

static const struct lang *
lang_find(const struct lang_set *set, const char *code)
{
	struct lang	 key;

	if (set == NULL || code == NULL)
		return NULL;
	memset(&key, 0, sizeof(key));
	key.code = (char *)code;
	return bsearch(&key, set->langs, set->nlangs, sizeof(*set->langs),
	    lang_code_cmp);
}

static const struct lang_template *
lang_find_template(const struct lang *l, const char *name)
{
	struct lang_template	 key;

	if (l == NULL || name == NULL)
		return NULL;
	memset(&key, 0, sizeof(key));
	key.name = (char *)name;
	return bsearch(&key, l->templates, l->ntemplates,
	    sizeof(*l->templates), lang_template_cmp);
}

static const struct lang_command *
lang_find_command(const struct lang *l, const char *id)
{
	struct lang_command	 key;

	if (l == NULL || id == NULL)
		return NULL;
	memset(&key, 0, sizeof(key));
	key.id = (char *)id;
	return bsearch(&key, l->commands, l->ncommands, sizeof(*l->commands),
	    lang_command_cmp);
}

static const struct lang_word *
lang_find_word(const struct lang *l, const char *word)
{
	size_t	 lo = 0, hi = l->nwords;

	/* lang_word_cmp() also orders by line: search on the word alone. */
	while (lo < hi) {
		size_t	 mid = lo + (hi - lo) / 2;
		int	 c = strcmp(word, l->words[mid].word);

		if (c == 0)
			return &l->words[mid];
		if (c < 0)
			hi = mid;
		else
			lo = mid + 1;
	}
	return NULL;
}

/* The *.conf names in dir, sorted; -1 (logged) if it cannot be read. */
static int
lang_list_dir(const char *dir, char ***names, size_t *n)
{
	DIR		*d;
	struct dirent	*e;

	*names = NULL;
	*n = 0;
	if ((d = opendir(dir)) == NULL) {
		error(errno, "%s: cannot read the language directory", dir);
		return -1;
	}
	errno = 0;
	while ((e = readdir(d)) != NULL) {
		size_t	 len = strlen(e->d_name);

		if (e->d_name[0] == '.' || len <= 5 ||
		    strcmp(e->d_name + len - 5, ".conf") != 0)
			continue;
		*names = lang_grow(*names, *n + 1, sizeof(**names));
		(*names)[(*n)++] = lang_strdup(e->d_name);
	}
	closedir(d);
	if (*n > 0)
		qsort(*names, *n, sizeof(**names), lang_name_cmp);
	return 0;
}

/* One warning per language that lacks templates of the default one. */
static void
lang_warn_fallbacks(const struct lang_set *set)
{
	size_t	 i, j;

	for (i = 0; i < set->nlangs; i++) {
		const struct lang	*l = &set->langs[i];
		Octstr			*missing = NULL;
		size_t			 n = 0;

		if (l == set->def)
			continue;
		for (j = 0; j < set->def->ntemplates; j++) {
			const char	*name = set->def->templates[j].name;

			if (lang_find_template(l, name) != NULL)
				continue;
			if (missing == NULL)
				missing = octstr_create("");
			else
				octstr_append_cstr(missing, ", ");
			octstr_append_cstr(missing, name);
			n++;
		}
		if (missing != NULL) {
			warning(0, "%s: language '%s' falls back to the default "
			    "language '%s' for %zu template%s it lacks: %s",
			    l->file, l->code, set->def->code, n,
			    n == 1 ? "" : "s", octstr_get_cstr(missing));
			octstr_destroy(missing);
		}
	}
}

struct lang_set *
lang_load(const char *dir, const char *default_code)
{
	struct lang_set	*set;
	char		**names;
	size_t		 n, i;
	int		 bad = 0;

	if (dir == NULL) {
		error(0, "no language directory given");
		return NULL;
	}
	if (lang_list_dir(dir, &names, &n) == -1)
		return NULL;
	if (n == 0) {
		error(0, "%s: no language files (*.conf) in the language "
		    "directory", dir);
		free(names);
		return NULL;
	}
	set = lang_alloc(sizeof(*set));
	set->langs = lang_alloc(n * sizeof(*set->langs));
	for (i = 0; i < n; i++) {
		struct lang	*l = &set->langs[set->nlangs++];
		char		*path;

		if (asprintf(&path, "%s/%s", dir, names[i]) == -1)
			panic(errno, "out of memory");
		if (lang_load_file(l, path) == -1)
			bad = -1;
		free(path);
		free(names[i]);
	}
	free(names);
	if (bad)
		goto fail;

	qsort(set->langs, set->nlangs, sizeof(*set->langs), lang_sort_cmp);
	for (i = 1; i < set->nlangs; i++)
		if (strcmp(set->langs[i - 1].code, set->langs[i].code) == 0) {
			error(0, "%s:%ld: code '%s' is also the code of %s "
			    "(one language, one file)", set->langs[i].file,
			    set->langs[i].line, set->langs[i].code,
			    set->langs[i - 1].file);
			bad = -1;
		}
	if (bad)
		goto fail;
	set->codes = lang_alloc(set->nlangs * sizeof(*set->codes));
	for (i = 0; i < set->nlangs; i++)
		set->codes[i] = set->langs[i].code;
	if ((set->def = lang_find(set, default_code)) == NULL) {
		error(0, "%s: the default language '%s' has no file here",
		    dir, default_code ? default_code : "");
		goto fail;
	}
	lang_warn_fallbacks(set);
	info(0, "languages: %zu loaded from %s, default %s", set->nlangs, dir,
	    set->def->code);
	return set;
fail:
	error(0, "%s: cannot use these language files", dir);
	lang_free(set);
	return NULL;
}

void
lang_free(struct lang_set *set)
{
	size_t	 i;

	if (set == NULL)
		return;
	for (i = 0; i < set->nlangs; i++)
		lang_clear(&set->langs[i]);
	free(set->langs);
	free(set->codes);
	free(set);
}

const char *
lang_default(const struct lang_set *set)
{
	return set != NULL && set->def != NULL ? set->def->code : NULL;
}

int
lang_exists(const struct lang_set *set, const char *code)
{
	return lang_find(set, code) != NULL;
}

const char *
lang_name(const struct lang_set *set, const char *code)
{
	const struct lang	*l = lang_find(set, code);

	return l ? l->name : NULL;
}

const char *
lang_by_name(const struct lang_set *set, const char *name)
{
	size_t	 i, j;

	if (set == NULL || name == NULL)
		return NULL;
	for (i = 0; i < set->nlangs; i++)
		for (j = 0; j < set->langs[i].nnames; j++)
			if (strcmp(set->langs[i].names[j], name) == 0)
				return set->langs[i].code;
	return NULL;
}

void
lang_each_template(const struct lang_set *set,
    void (*fn)(void *, const char *code, const char *file, long line,
    const char *name, const char *text), void *arg)
{
	size_t	 i, j;

	if (set == NULL)
		return;
	for (i = 0; i < set->nlangs; i++)
		for (j = 0; j < set->langs[i].ntemplates; j++) {
			const struct lang_template *t =
			    &set->langs[i].templates[j];

			fn(arg, set->langs[i].code, set->langs[i].file,
			    t->line, t->name, t->text);
		}
}

const char * const *
lang_codes(const struct lang_set *set, size_t *n)
{
	if (set == NULL) {
		*n = 0;
		return NULL;
	}
	*n = set->nlangs;
	return set->codes;
}

const char *
lang_keyword(const struct lang_set *set, const char *word,
    const char *prefer, const char **found)
{
	const struct lang	*pl = lang_find(set, prefer);
	const struct lang_word	*w;
	size_t			 i;

	if (found != NULL)
		*found = NULL;
	if (set == NULL || word == NULL)
		return NULL;
	if (pl != NULL && (w = lang_find_word(pl, word)) != NULL) {
		if (found != NULL)
			*found = pl->code;
		return w->command->id;
	}
	for (i = 0; i < set->nlangs; i++) {
		if (&set->langs[i] == pl)
			continue;
		if ((w = lang_find_word(&set->langs[i], word)) != NULL) {
			if (found != NULL)
				*found = set->langs[i].code;
			return w->command->id;
		}
	}
	return NULL;
}

const char *
lang_command_word(const struct lang_set *set, const char *lang,
    const char *command)
{
	const struct lang_command	*c;

	if (set == NULL)
		return NULL;
	if ((c = lang_find_command(lang_find(set, lang), command)) == NULL &&
	    (c = lang_find_command(set->def, command)) == NULL)
		return NULL;
	return c->words[0];
}

void
lang_each_word(const struct lang_set *set, const char *lang,
    int (*fn)(void *, const char *, const char *), void *arg)
{
	const struct lang	*l = lang_find(set, lang);
	size_t			 i, j;

	if (l == NULL || fn == NULL)
		return;
	for (i = 0; i < l->ncommands; i++)
		for (j = 0; j < l->commands[i].nwords; j++)
			if (fn(arg, l->commands[i].words[j],
			    l->commands[i].id) != 0)
				return;
}

void
lang_each_own_template(const struct lang_set *set, const char *lang,
    int (*fn)(void *, const char *, const char *), void *arg)
{
	const struct lang	*l = lang_find(set, lang);
	size_t			 i;

	if (l == NULL || fn == NULL)
		return;
	for (i = 0; i < l->ntemplates; i++)
		if (fn(arg, l->templates[i].name, l->templates[i].text) != 0)
			return;
}

const char *
lang_template(const struct lang_set *set, const char *lang, const char *name)
{
	const struct lang_template	*t;

	if (set == NULL)
		return NULL;
	if ((t = lang_find_template(lang_find(set, lang), name)) == NULL &&
	    (t = lang_find_template(set->def, name)) == NULL)
		return NULL;
	return t->text;
}

/* --- numbers and rendering ------------------------------------------------- */

const char *
lang_plural(const struct lang_set *set, const char *code, double number)
{
	static const char * const categories[] = {
		"zero", "one", "two", "few", "many", "other"
	};
	const struct lang	*l;
	UErrorCode		 status = U_ZERO_ERROR;
	UChar			 kw[16];
	char			 ascii[16];
	int32_t			 n, i;
	size_t			 k;

	l = set != NULL ? lang_find(set, code) : NULL;
	if (l == NULL && set != NULL)
		l = set->def;
	if (l == NULL || l->plural == NULL)
		return number == 1 ? "one" : "other";
	n = uplrules_select(l->plural, number, kw, 15, &status);
	if (U_FAILURE(status) || n <= 0 || n >= 15)
		return "other";
	for (i = 0; i < n; i++)
		ascii[i] = kw[i] < 0x80 ? (char)kw[i] : '?';
	ascii[n] = '\0';
	for (k = 0; k < sizeof(categories) / sizeof(categories[0]); k++)
		if (strcmp(ascii, categories[k]) == 0)
			return categories[k];
	return "other";
}

const char *
lang_digit_group(const struct lang_set *set, const char *code)
{
	const struct lang	*l = set ? lang_find(set, code) : NULL;

	if (l == NULL && set != NULL)
		l = set->def;
	return l != NULL ? l->digit_group : ",";
}

const char *
lang_decimal_mark(const struct lang_set *set, const char *code)
{
	const struct lang	*l = set ? lang_find(set, code) : NULL;

	if (l == NULL && set != NULL)
		l = set->def;
	return l != NULL ? l->decimal_mark : ".";
}

char *
lang_render(const char *tmpl, const struct mb_arg *args, size_t nargs)
{
	struct render_env	 env;

	memset(&env, 0, sizeof(env));
	return render(&env, tmpl, args, nargs);
}
