/*
 * template.c - marketctl template: one reply of a language file filled
 * as marketbox fills it, with no daemon and no database.  The filling
 * itself is the daemon's (host_text, src/plugin/host.c); this is its
 * command line.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/conf.h"
#include "plugin/core.h"
#include "text/lang.h"
#include "ctl/ctl.h"

/*
 * template LANG NAME [name=value ...]: the template NAME of language LANG
 * filled as marketbox fills it (catalogue words, numbers, plural forms),
 * for admins editing a language file and for the tests' expected texts.
 * Fails (1) when the language has no such template of its own or of the
 * default language, or a placeholder gets no value.
 */
int
ctl_template(struct ctl *c, const struct ctl_args *a)
{
	struct lang_set	*langs;
	struct mb_arg	*args;
	char		*text, *eq;
	size_t		 n, i, missing = 0;
	int		 rc = 1;

	if (a->argc < 2) {
		ctl_err("usage: marketctl template LANG NAME [name=value ...]");
		return 2;
	}
	n = (size_t)a->argc - 2;
	if ((args = calloc(n + 1, sizeof(*args))) == NULL) {
		ctl_err("out of memory");
		return 1;
	}
	for (i = 0; i < n; i++) {
		if ((eq = strchr(a->argv[2 + i], '=')) == NULL) {
			ctl_err("'%s' is not name=value", a->argv[2 + i]);
			free(args);
			return 2;
		}
		*eq = '\0';
		args[i].name = a->argv[2 + i];
		args[i].value = eq + 1;
	}
	if ((langs = lang_load(c->conf->language_dir,
	    c->conf->default_language)) == NULL) {
		ctl_err("%s: cannot use these language files",
		    c->conf->language_dir);
		free(args);
		return 1;
	}
	if (!lang_exists(langs, a->argv[0]))
		ctl_err("no language '%s' in %s", a->argv[0],
		    c->conf->language_dir);
	else if (lang_template(langs, a->argv[0], a->argv[1]) == NULL)
		ctl_err("no template '%s'", a->argv[1]);
	else if ((text = host_text(c->conf, langs, a->argv[0], a->argv[1],
	    args, n, &missing)) == NULL)
		ctl_err("cannot render '%s'", a->argv[1]);
	else {
		if (missing > 0)
			ctl_err("%s: %zu placeholder(s) without a value",
			    a->argv[1], missing);
		else {
			printf("%s\n", text);
			rc = 0;
		}
		free(text);
	}
	lang_free(langs);
	free(args);
	return rc;
}
