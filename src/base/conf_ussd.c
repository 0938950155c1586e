/*
 * conf_ussd.c - the USSD menus of the conf: the ussd-* keys of group =
 * marketbox, the ussd-menu, ussd-item and ussd-smsc groups, their checks
 * (every reference names something declared, a chain of inputs ends in
 * an action), and the look-ups by id ussd.c uses.
 *
 * conf.c reads the file and calls conf_read_ussd once the catalogue is
 * read; it frees the menus with the rest of struct conf.  The templates
 * the menus name are checked against the language files by ussd.c, and
 * the commands their actions run by router_check_commands().  The value
 * readers are conf.c's, shared through conf_int.h.
 */
#include "config.h"

#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/gw.h"

#include "base/conf.h"
#include "base/conf_int.h"


/* --- USSD menus ------------------------------------------------------------ */

/* conf_bad() with a C string value (found in the file for the line). */
static void conf_ussd_bad(CfgGroup *, const char *, const char *,
    const char *, ...) __attribute__((format(printf, 4, 5)));

static void
conf_ussd_bad(CfgGroup *grp, const char *key, const char *value,
    const char *fmt, ...)
{
	va_list	 ap;
	char	 why[512];
	Octstr	*v = value != NULL ? octstr_create(value) : NULL;

	va_start(ap, fmt);
	vsnprintf(why, sizeof(why), fmt, ap);
	va_end(ap);
	conf_bad(grp, key, v, "%s", why);
	octstr_destroy(v);
}

/* A template name, as lang.c takes them: ASCII letters, digits, '-', '_'. */
static int
conf_template_name_ok(const char *s)
{
	size_t	 n = 0;

	if (s == NULL)
		return 0;
	for (; *s != '\0'; s++, n++)
		if (!(isalnum((unsigned char)*s) || *s == '-' || *s == '_'))
			return 0;
	return n > 0 && n <= 64;
}

/* "min:max", two whole numbers with min <= max.  0 or -1. */
static int
conf_range(const char *s, long long *min, long long *max)
{
	char	*end;

	errno = 0;
	*min = strtoll(s, &end, 10);
	if (end == s || *end != ':' || errno != 0)
		return -1;
	s = end + 1;
	*max = strtoll(s, &end, 10);
	if (end == s || *end != '\0' || errno != 0 || *min > *max)
		return -1;
	return 0;
}

/*
 * The line of "key = ...value..." in file or, when it is not there, in the
 * files it includes (as conf_check_includes() finds them); *where gets a
 * malloc'd copy of the file's name (file itself when not found), for
 * messages.  0 when not found.
 */
static long
conf_find_key(const char *file, const char *key, const char *value,
    int depth, char **where)
{
	long	 n = 0, at = 0;
	FILE	*fp;
	char	 line[4096];
	size_t	 klen = strlen(key);

	if (depth > 8 || (fp = fopen(file, "r")) == NULL) {
		if (depth == 0)
			*where = conf_strdup(file);
		return 0;
	}
	while (n == 0 && fgets(line, sizeof(line), fp) != NULL) {
		char	*p = line + strspn(line, " \t");

		at++;
		if (strncmp(p, key, klen) == 0 &&
		    p[klen + strspn(p + klen, " \t")] == '=' &&
		    strstr(p, value) != NULL)
			n = at;
	}
	if (n > 0) {
		fclose(fp);
		*where = conf_strdup(file);
		return n;
	}
	rewind(fp);
	while (n == 0 && fgets(line, sizeof(line), fp) != NULL) {
		char	*p;

		if ((p = conf_include_target(line)) != NULL)
			n = conf_find_key(p, key, value, depth + 1, where);
	}
	fclose(fp);
	if (n == 0 && depth == 0)
		*where = conf_strdup(file);
	return n;
}

static int
conf_ussd_read_item(struct conf *c, size_t i, CfgGroup *grp)
{
	struct conf_ussd_item	*it = &c->ussd_items[i];
	char			*validate;
	size_t			 j;
	int			 bad = 0;

	it->id = conf_string(grp, "id", NULL);
	it->label = conf_string(grp, "label", NULL);
	it->menu = conf_string(grp, "menu", NULL);
	it->input = conf_string(grp, "input", NULL);
	it->var = conf_string(grp, "var", it->id);
	it->prompt = conf_string(grp, "prompt", NULL);
	it->choices = conf_string(grp, "choices", NULL);
	it->default_ = conf_string(grp, "default", NULL);
	it->next = conf_string(grp, "next", NULL);
	it->action = conf_string(grp, "action", NULL);
	if (it->action != NULL) {
		Octstr	*file = cfg_get_configfile(grp);

		/* libgw names the main file even for an included group. */
		if (file != NULL)
			it->line = conf_find_key(octstr_get_cstr(file), "action",
			    it->action, 0, &it->file);
		octstr_destroy(file);
	}
	bad |= conf_bool(grp, "notify-sms", 0, &it->notify_sms);
	bad |= conf_bool(grp, "optional", 0, &it->optional);
	validate = conf_string(grp, "validate", NULL);

	if (!conf_code_ok(it->id)) {
		conf_ussd_bad(grp, "id", it->id, "ussd-item id '%s' must be "
		    "1-32 lowercase letters, digits, '-' or '_'",
		    it->id ? it->id : "");
		free(validate);
		return -1;
	}
	for (j = 0; j < i; j++)
		if (strcmp(c->ussd_items[j].id, it->id) == 0) {
			conf_ussd_bad(grp, "id", it->id, "ussd-item '%s' "
			    "declared twice", it->id);
			bad = -1;
		}
	if (!conf_code_ok(it->var)) {
		conf_ussd_bad(grp, "var", it->var, "'%s' must be 1-32 "
		    "lowercase letters, digits, '-' or '_'", it->var);
		bad = -1;
	}
	if (it->label != NULL && !conf_template_name_ok(it->label)) {
		conf_ussd_bad(grp, "label", it->label, "'%s' is not a template "
		    "name", it->label);
		bad = -1;
	}
	if (it->menu != NULL && it->input == NULL) {
		if (it->action != NULL ||
		    it->next != NULL || it->prompt != NULL) {
			conf_ussd_bad(grp, "menu", it->menu, "ussd-item '%s' "
			    "opens a menu: it has no prompt, next or action",
			    it->id);
			bad = -1;
		}
	} else if (it->input != NULL) {
		if (strcmp(it->input, "number") != 0 &&
		    strcmp(it->input, "text") != 0 &&
		    strcmp(it->input, "choice") != 0) {
			conf_ussd_bad(grp, "input", it->input, "'%s' is not "
			    "number, text or choice", it->input);
			bad = -1;
		}
		if (!conf_template_name_ok(it->prompt)) {
			conf_ussd_bad(grp, "prompt", it->prompt, "ussd-item "
			    "'%s' asks for input: it needs a prompt template",
			    it->id);
			bad = -1;
		}
		/* After the answer: another input, an action, or a menu. */
		if ((it->next != NULL) + (it->action != NULL) +
		    (it->menu != NULL) != 1) {
			conf_ussd_bad(grp, "id", it->id, "ussd-item '%s' needs "
			    "one of next (another input), action or menu",
			    it->id);
			bad = -1;
		}
		if (strcmp(it->input, "choice") == 0) {
			if (it->choices == NULL ||
			    (strcmp(it->choices, "commodities") != 0 &&
			    strcmp(it->choices, "markets") != 0 &&
			    strcmp(it->choices, "languages") != 0 &&
			    strcmp(it->choices, "members") != 0)) {
				conf_ussd_bad(grp, "choices", it->choices,
				    "ussd-item '%s': choices must be "
				    "commodities, markets, languages or members",
				    it->id);
				bad = -1;
			}
		} else if (it->choices != NULL) {
			conf_ussd_bad(grp, "choices", it->choices, "choices "
			    "need input = choice");
			bad = -1;
		}
		/* In a list "0" turns the page: it cannot mean "none". */
		if (it->optional && strcmp(it->input, "choice") == 0) {
			conf_ussd_bad(grp, "optional", "yes", "ussd-item '%s': "
			    "optional is for input = number or text", it->id);
			bad = -1;
		}
		if (it->default_ != NULL && (strcmp(it->default_,
		    "home-market") != 0 || it->choices == NULL ||
		    strcmp(it->choices, "markets") != 0)) {
			conf_ussd_bad(grp, "default", it->default_, "the only "
			    "default is home-market, for choices = markets");
			bad = -1;
		}
	} else if (it->action == NULL) {
		conf_ussd_bad(grp, "id", it->id, "ussd-item '%s' needs menu, "
		    "input or action", it->id);
		bad = -1;
	} else if (it->next != NULL || it->prompt != NULL ||
	    it->choices != NULL || validate != NULL || it->optional) {
		conf_ussd_bad(grp, "id", it->id, "ussd-item '%s' asks for no "
		    "input: next, prompt, choices, validate and optional need "
		    "input",
		    it->id);
		bad = -1;
	}
	if (validate != NULL) {
		if (conf_range(validate, &it->min, &it->max) == -1 ||
		    it->input == NULL || strcmp(it->input, "choice") == 0) {
			conf_ussd_bad(grp, "validate", validate, "'%s' must be "
			    "min:max for input = number or text", validate);
			bad = -1;
		} else
			it->has_validate = 1;
	}
	if (it->action != NULL && (it->action[0] == '\0' ||
	    strlen(it->action) > 160)) {
		conf_ussd_bad(grp, "action", it->action, "an action is a "
		    "command text of 1 to 160 bytes");
		bad = -1;
	}
	free(validate);
	return bad;
}

/* The index of the item with this id, or -1. */
static long
conf_ussd_item_index(const struct conf *c, const char *id)
{
	size_t	 i;

	for (i = 0; id != NULL && i < c->nussd_items; i++)
		if (c->ussd_items[i].id != NULL &&
		    strcmp(c->ussd_items[i].id, id) == 0)
			return (long)i;
	return -1;
}

/*
 * The ussd-* keys of group = marketbox, the ussd-menu, ussd-item and
 * ussd-smsc groups, and their references: every menu item, submenu and
 * next names something declared, next chains end (no loop), the start
 * menu exists when there are menus.  Templates are checked against the
 * language files by ussd.c, which has them.
 */
int
conf_read_ussd(struct conf *c, Cfg *cfg)
{
	CfgGroup	*mb = cfg_get_single_group(cfg, octstr_imm("marketbox"));
	List		*menus = cfg_get_multi_group(cfg, octstr_imm("ussd-menu"));
	List		*items = cfg_get_multi_group(cfg, octstr_imm("ussd-item"));
	List		*smscs = cfg_get_multi_group(cfg, octstr_imm("ussd-smsc"));
	long		 n, k;
	size_t		 i, j;
	int		 bad = 0;

	c->ussd_start = conf_string(mb, "ussd-start", "main");
	bad |= conf_integer(mb, "ussd-timeout", 180, 10, 3600, &n);
	c->ussd_timeout = n;
	bad |= conf_integer(mb, "ussd-resume", 300, 0, 86400, &n);
	c->ussd_resume = n;
	bad |= conf_integer(mb, "ussd-screen-size", 160, 60, 1000, &n);
	c->ussd_screen_size = n;
	bad |= conf_integer(mb, "ussd-op-continue", 2, 0, 255, &n);
	c->ussd_op_continue = n;
	bad |= conf_integer(mb, "ussd-op-end", 17, 0, 255, &n);
	c->ussd_op_end = n;
	bad |= conf_bool(mb, "ussd-end-bit", 1, &c->ussd_end_bit);

	c->nussd_items = items ? gwlist_len(items) : 0;
	c->ussd_items = calloc(c->nussd_items ? c->nussd_items : 1,
	    sizeof(*c->ussd_items));
	c->nussd_menus = menus ? gwlist_len(menus) : 0;
	c->ussd_menus = calloc(c->nussd_menus ? c->nussd_menus : 1,
	    sizeof(*c->ussd_menus));
	c->nussd_smscs = smscs ? gwlist_len(smscs) : 0;
	c->ussd_smscs = calloc(c->nussd_smscs ? c->nussd_smscs : 1,
	    sizeof(*c->ussd_smscs));
	if (c->ussd_items == NULL || c->ussd_menus == NULL ||
	    c->ussd_smscs == NULL)
		panic(errno, "out of memory");

	for (i = 0; i < c->nussd_items; i++)
		bad |= conf_ussd_read_item(c, i, gwlist_get(items, (long)i));

	for (i = 0; i < c->nussd_menus; i++) {
		CfgGroup		*grp = gwlist_get(menus, (long)i);
		struct conf_ussd_menu	*m = &c->ussd_menus[i];
		char			*list;

		m->id = conf_string(grp, "id", NULL);
		m->title = conf_string(grp, "title", NULL);
		m->parent = conf_string(grp, "parent", NULL);
		list = conf_string(grp, "items", NULL);
		conf_names_split(list, &m->items);
		free(list);
		if (!conf_code_ok(m->id)) {
			conf_ussd_bad(grp, "id", m->id, "ussd-menu id '%s' "
			    "must be 1-32 lowercase letters, digits, '-' or "
			    "'_'", m->id ? m->id : "");
			bad = -1;
			continue;
		}
		for (j = 0; j < i; j++)
			if (c->ussd_menus[j].id != NULL &&
			    strcmp(c->ussd_menus[j].id, m->id) == 0) {
				conf_ussd_bad(grp, "id", m->id, "ussd-menu "
				    "'%s' declared twice", m->id);
				bad = -1;
			}
		if (!conf_template_name_ok(m->title)) {
			conf_ussd_bad(grp, "title", m->title, "ussd-menu '%s' "
			    "needs a title template", m->id);
			bad = -1;
		}
		if (m->items.count == 0) {
			conf_ussd_bad(grp, "id", m->id, "ussd-menu '%s' has no "
			    "items", m->id);
			bad = -1;
		}
		for (j = 0; j < m->items.count; j++) {
			k = conf_ussd_item_index(c, m->items.names[j]);
			if (k < 0) {
				conf_ussd_bad(grp, "items", NULL, "ussd-menu "
				    "'%s': no ussd-item '%s'", m->id,
				    m->items.names[j]);
				bad = -1;
			} else if (c->ussd_items[k].label == NULL) {
				conf_ussd_bad(gwlist_get(items, k), "id",
				    c->ussd_items[k].id, "ussd-item '%s' is in "
				    "menu '%s': it needs a label template",
				    c->ussd_items[k].id, m->id);
				bad = -1;
			}
		}
	}
	for (i = 0; i < c->nussd_menus; i++)
		if (c->ussd_menus[i].parent != NULL &&
		    conf_ussd_menu_find(c, c->ussd_menus[i].parent) == NULL) {
			conf_ussd_bad(gwlist_get(menus, (long)i), "parent",
			    c->ussd_menus[i].parent, "no ussd-menu '%s'",
			    c->ussd_menus[i].parent);
			bad = -1;
		}
	for (i = 0; i < c->nussd_items; i++) {
		struct conf_ussd_item	*it = &c->ussd_items[i];
		CfgGroup		*grp = gwlist_get(items, (long)i);
		size_t			 steps;

		if (it->id == NULL)
			continue;
		if (it->menu != NULL && conf_ussd_menu_find(c, it->menu) == NULL) {
			conf_ussd_bad(grp, "menu", it->menu, "no ussd-menu '%s'",
			    it->menu);
			bad = -1;
		}
		if (it->next == NULL)
			continue;
		if ((k = conf_ussd_item_index(c, it->next)) < 0 ||
		    c->ussd_items[k].input == NULL) {
			conf_ussd_bad(grp, "next", it->next, "next must name a "
			    "ussd-item with an input; '%s' is none", it->next);
			bad = -1;
			continue;
		}
		/* A chain of inputs must end in an action. */
		for (steps = 0, k = (long)i; k >= 0 && steps <= c->nussd_items;
		    steps++)
			k = conf_ussd_item_index(c, c->ussd_items[k].next);
		if (steps > c->nussd_items) {
			conf_ussd_bad(grp, "next", it->next, "the inputs after "
			    "'%s' loop and never reach an action", it->id);
			bad = -1;
		}
	}
	if (c->nussd_menus > 0 && conf_ussd_menu_find(c, c->ussd_start) == NULL) {
		conf_ussd_bad(mb, "ussd-start", c->ussd_start, "no ussd-menu "
		    "'%s' to start USSD sessions with", c->ussd_start);
		bad = -1;
	}

	for (i = 0; i < c->nussd_smscs; i++) {
		CfgGroup		*grp = gwlist_get(smscs, (long)i);
		struct conf_ussd_smsc	*s = &c->ussd_smscs[i];

		s->smsc_id = conf_string(grp, "smsc-id", NULL);
		if (s->smsc_id == NULL || s->smsc_id[0] == '\0') {
			conf_ussd_bad(grp, "smsc-id", NULL, "a ussd-smsc group "
			    "needs the smsc-id of the link it is for");
			bad = -1;
		}
		bad |= conf_integer(grp, "ussd-op-continue",
		    c->ussd_op_continue, 0, 255, &n);
		s->op_continue = n;
		bad |= conf_integer(grp, "ussd-op-end", c->ussd_op_end, 0, 255,
		    &n);
		s->op_end = n;
		bad |= conf_bool(grp, "ussd-end-bit", c->ussd_end_bit,
		    &s->end_bit);
	}
	gwlist_destroy(menus, NULL);
	gwlist_destroy(items, NULL);
	gwlist_destroy(smscs, NULL);
	return bad ? -1 : 0;
}

const struct conf_ussd_menu *
conf_ussd_menu_find(const struct conf *c, const char *id)
{
	size_t	 i;

	for (i = 0; id != NULL && i < c->nussd_menus; i++)
		if (c->ussd_menus[i].id != NULL &&
		    strcmp(c->ussd_menus[i].id, id) == 0)
			return &c->ussd_menus[i];
	return NULL;
}

const struct conf_ussd_item *
conf_ussd_item_find(const struct conf *c, const char *id)
{
	long	 i = conf_ussd_item_index(c, id);

	return i < 0 ? NULL : &c->ussd_items[i];
}
