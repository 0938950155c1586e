/*
 * conf.c - read marketbox's conf with libgw's cfg parser and validate it
 * into a plain struct conf.
 *
 * The groups and keys come from conf.def.  libgw reports syntax errors and
 * undeclared keys itself, with file and line; conf.c reports bad values,
 * and finds the line of the offending key in the file so the admin can go
 * straight to it.  Defaults live here and nowhere else.
 */
#include "config.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "gw.h"

#include "conf.h"

#ifndef MARKETBOX_PLUGIN_DIR
#define MARKETBOX_PLUGIN_DIR	"/usr/local/lib/marketbox/plugins"
#endif
#ifndef MARKETBOX_LANGUAGE_DIR
#define MARKETBOX_LANGUAGE_DIR	"/usr/local/etc/marketbox/lang"
#endif

struct conf_key {
	const char	*group;
	int		 single;
	const char	*key;
};

static const struct conf_key conf_keys[] = {
#define GROUP(name, single)	{ #name, single, "group" },
#define KEY(name)		{ NULL, 0, #name },
#define END_GROUP
#include "conf.def"
#undef GROUP
#undef KEY
#undef END_GROUP
};

/*
 * Hooks for libgw's cfg: allowed(group, key) is 1 when the key is declared
 * in that group, 0 when the group is ours but the key is not, -1 when the
 * group is not ours; single(group) likewise for single groups.
 */
/*
 * Keys met in "group = plugin-NAME" groups while a file is parsed: libgw
 * offers no way to list a group's keys afterwards, so the hook notes them
 * as the parser asks about them.  Only one parse runs at a time (one
 * thread), and conf_load() empties the list around each.
 */
struct conf_seen {
	char	*group;
	char	*key;
};
static struct conf_seen	*conf_seen;
static size_t		 conf_nseen;

static void
conf_seen_clear(void)
{
	size_t	 i;

	for (i = 0; i < conf_nseen; i++) {
		free(conf_seen[i].group);
		free(conf_seen[i].key);
	}
	free(conf_seen);
	conf_seen = NULL;
	conf_nseen = 0;
}

static void
conf_seen_add(Octstr *group, Octstr *key)
{
	struct conf_seen	*n;
	size_t			 i;

	for (i = 0; i < conf_nseen; i++)
		if (octstr_str_compare(group, conf_seen[i].group) == 0 &&
		    octstr_str_compare(key, conf_seen[i].key) == 0)
			return;
	if ((n = realloc(conf_seen, (conf_nseen + 1) * sizeof(*n))) == NULL)
		panic(errno, "out of memory");
	conf_seen = n;
	if ((n[conf_nseen].group = strdup(octstr_get_cstr(group))) == NULL ||
	    (n[conf_nseen].key = strdup(octstr_get_cstr(key))) == NULL)
		panic(errno, "out of memory");
	conf_nseen++;
}

static int
conf_is_plugin_group(Octstr *group)
{
	return octstr_len(group) > 7 &&
	    octstr_ncompare(group, octstr_imm("plugin-"), 7) == 0;
}

static int
conf_allowed_hook(Octstr *group, Octstr *key)
{
	size_t	 i;
	int	 ours = 0;

	if (conf_is_plugin_group(group)) {
		if (octstr_str_compare(key, "group") != 0)
			conf_seen_add(group, key);
		return 1;
	}

	for (i = 0; i < sizeof(conf_keys) / sizeof(conf_keys[0]); i++) {
		if (conf_keys[i].group != NULL) {
			ours = octstr_str_compare(group, conf_keys[i].group) == 0;
			if (ours && octstr_str_compare(key, "group") == 0)
				return 1;
			continue;
		}
		if (ours && octstr_str_compare(key, conf_keys[i].key) == 0)
			return 1;
	}
	for (i = 0; i < sizeof(conf_keys) / sizeof(conf_keys[0]); i++)
		if (conf_keys[i].group != NULL &&
		    octstr_str_compare(group, conf_keys[i].group) == 0)
			return 0;
	return -1;
}

static int
conf_single_hook(Octstr *group)
{
	size_t	 i;

	if (conf_is_plugin_group(group))
		return 1;

	for (i = 0; i < sizeof(conf_keys) / sizeof(conf_keys[0]); i++)
		if (conf_keys[i].group != NULL &&
		    octstr_str_compare(group, conf_keys[i].group) == 0)
			return conf_keys[i].single;
	return -1;
}

void
conf_register_hooks(void)
{
	static int	 registered;

	/* libgw keeps the hooks for the life of the process. */
	if (registered)
		return;
	cfg_add_hooks((void *)conf_allowed_hook, (void *)conf_single_hook);
	registered = 1;
}

/*
 * Find the line of "key = ..." in file, for error messages.  Returns 0 when
 * it cannot be found (the key came from a default, or the file is gone).
 */
static long
conf_key_line(Octstr *file, const char *key, Octstr *value)
{
	FILE	*fp;
	char	 line[4096];
	long	 n = 0, found = 0, first = 0;
	size_t	 klen = strlen(key);

	if (file == NULL || (fp = fopen(octstr_get_cstr(file), "r")) == NULL)
		return 0;
	while (fgets(line, sizeof(line), fp) != NULL) {
		char	*p = line;

		n++;
		while (isspace((unsigned char)*p))
			p++;
		if (strncmp(p, key, klen) != 0)
			continue;
		p += klen;
		while (*p == ' ' || *p == '\t')
			p++;
		if (*p != '=')
			continue;
		if (first == 0)
			first = n;
		if (value != NULL && strstr(p, octstr_get_cstr(value)) != NULL) {
			found = n;
			break;
		}
	}
	fclose(fp);
	return found ? found : first;
}

long
conf_line_of(const char *file, const char *key)
{
	Octstr	*f = octstr_create(file);
	long	 n = conf_key_line(f, key, NULL);

	octstr_destroy(f);
	return n;
}

static void conf_bad(CfgGroup *, const char *, Octstr *, const char *, ...)
    __attribute__((format(printf, 4, 5)));

static void
conf_bad(CfgGroup *grp, const char *key, Octstr *value, const char *fmt, ...)
{
	va_list	 ap;
	char	 why[512];
	Octstr	*file = grp ? cfg_get_configfile(grp) : NULL;
	long	 line = conf_key_line(file, key, value);

	va_start(ap, fmt);
	vsnprintf(why, sizeof(why), fmt, ap);
	va_end(ap);
	if (file != NULL && line > 0)
		error(0, "%s:%ld: %s: %s", octstr_get_cstr(file), line, key, why);
	else if (file != NULL)
		error(0, "%s: %s: %s", octstr_get_cstr(file), key, why);
	else
		error(0, "%s: %s", key, why);
	octstr_destroy(file);
}

static char *
conf_strdup(const char *s)
{
	char	*d;

	if (s == NULL)
		return NULL;
	if ((d = strdup(s)) == NULL)
		panic(errno, "out of memory");
	return d;
}

/* The string value of key, or a copy of def (which may be NULL). */
static char *
conf_string(CfgGroup *grp, const char *key, const char *def)
{
	Octstr	*v = cfg_get(grp, octstr_imm(key));
	char	*s;

	if (v == NULL)
		return conf_strdup(def);
	octstr_strip_blanks(v);
	s = conf_strdup(octstr_get_cstr(v));
	octstr_destroy(v);
	return s;
}

/* An integer in [min, max]; def when absent.  Returns -1 on a bad value. */
static int
conf_integer(CfgGroup *grp, const char *key, long def, long min, long max,
    long *out)
{
	Octstr	*v = cfg_get(grp, octstr_imm(key));
	char	*end;
	long	 n;

	*out = def;
	if (v == NULL)
		return 0;
	octstr_strip_blanks(v);
	errno = 0;
	n = strtol(octstr_get_cstr(v), &end, 10);
	if (octstr_len(v) == 0 || *end != '\0' || errno != 0 ||
	    n < min || n > max) {
		conf_bad(grp, key, v, "'%s' is not a whole number from %ld to %ld",
		    octstr_get_cstr(v), min, max);
		octstr_destroy(v);
		return -1;
	}
	octstr_destroy(v);
	*out = n;
	return 0;
}

static int
conf_number(CfgGroup *grp, const char *key, double def, double min,
    double max, double *out)
{
	Octstr	*v = cfg_get(grp, octstr_imm(key));
	char	*end;
	double	 d;

	*out = def;
	if (v == NULL)
		return 0;
	octstr_strip_blanks(v);
	errno = 0;
	d = strtod(octstr_get_cstr(v), &end);
	if (octstr_len(v) == 0 || *end != '\0' || errno != 0 ||
	    !(d >= min && d <= max)) {
		conf_bad(grp, key, v, "'%s' is not a number from %g to %g",
		    octstr_get_cstr(v), min, max);
		octstr_destroy(v);
		return -1;
	}
	octstr_destroy(v);
	*out = d;
	return 0;
}

/* Split a ';'-separated list, trimming blanks, dropping empty items. */
static void
conf_names_split(const char *s, struct conf_names *out)
{
	const char	*p = s, *end;

	out->names = NULL;
	out->count = 0;
	if (s == NULL)
		return;
	while (*p != '\0') {
		const char	*a, *b;
		char		*item;

		end = strchr(p, ';');
		if (end == NULL)
			end = p + strlen(p);
		a = p;
		b = end;
		while (a < b && isspace((unsigned char)*a))
			a++;
		while (b > a && isspace((unsigned char)b[-1]))
			b--;
		if (b > a) {
			char	**n;

			n = realloc(out->names, (out->count + 1) * sizeof(*n));
			if (n == NULL)
				panic(errno, "out of memory");
			out->names = n;
			if ((item = strndup(a, b - a)) == NULL)
				panic(errno, "out of memory");
			out->names = n;
			out->names[out->count++] = item;
		}
		p = *end ? end + 1 : end;
	}
}

static void
conf_names_free(struct conf_names *n)
{
	size_t	 i;

	for (i = 0; i < n->count; i++)
		free(n->names[i]);
	free(n->names);
	n->names = NULL;
	n->count = 0;
}

/*
 * A code names a thing in commands and in the database: lowercase ASCII
 * letters, digits, '-' and '_', 1 to 32 characters.
 */
static int
conf_code_ok(const char *s)
{
	size_t	 n = 0;

	if (s == NULL)
		return 0;
	for (; *s != '\0'; s++, n++)
		if (!(islower((unsigned char)*s) || isdigit((unsigned char)*s) ||
		    *s == '-' || *s == '_'))
			return 0;
	return n > 0 && n <= 32;
}

static int
conf_read_marketbox(struct conf *c, CfgGroup *grp)
{
	long	 n;
	double	 d;
	int	 bad = 0;
	char	*allow;

	c->smsbox_id = conf_string(grp, "smsbox-id", "marketbox");
	c->bearerbox_host = conf_string(grp, "bearerbox-host", "127.0.0.1");
	if (c->bearerbox_host[0] == '\0') {
		free(c->bearerbox_host);
		c->bearerbox_host = NULL;
	}
	bad |= conf_integer(grp, "bearerbox-port", 13001, 1, 65535, &n);
	c->bearerbox_port = n;
	c->global_sender = conf_string(grp, "global-sender", NULL);
	if (c->global_sender == NULL || c->global_sender[0] == '\0') {
		conf_bad(grp, "global-sender", NULL,
		    "missing: the short code notices are sent from");
		bad = -1;
	}
	c->database = conf_string(grp, "database", LOCALSTATEDIR
	    "/lib/marketbox/marketbox.db");
	c->log_file = conf_string(grp, "log-file", NULL);
	bad |= conf_integer(grp, "log-level", 1, 0, 4, &n);
	c->log_level = n;
	c->pid_file = conf_string(grp, "pid-file", NULL);
	bad |= conf_integer(grp, "http-port", 0, 0, 65535, &n);
	c->http_port = n;
	c->http_interface = conf_string(grp, "http-interface", "127.0.0.1");
	allow = conf_string(grp, "http-allow-ip", NULL);
	conf_names_split(allow, &c->http_allow_ip);
	free(allow);
	c->admin_password = conf_string(grp, "admin-password", NULL);
	c->sendsms_url = conf_string(grp, "sendsms-url", NULL);
	c->plugin_dir = conf_string(grp, "plugin-dir", MARKETBOX_PLUGIN_DIR);
	c->language_dir = conf_string(grp, "language-dir",
	    MARKETBOX_LANGUAGE_DIR);
	c->default_language = conf_string(grp, "default-language", "en");
	c->country_code = conf_string(grp, "country-code", NULL);
	if (c->country_code != NULL) {
		const char	*p = c->country_code;

		if (*p == '+')
			p++;
		if (*p == '\0' || strspn(p, "0123456789") != strlen(p) ||
		    strlen(p) > 4) {
			conf_bad(grp, "country-code", NULL,
			    "'%s' is not a country calling code like 254",
			    c->country_code);
			bad = -1;
		} else
			memmove(c->country_code, p, strlen(p) + 1);
	}
	c->currency = conf_string(grp, "currency", "KES");
	bad |= conf_number(grp, "throughput", 0, 0, 100000, &d);
	c->throughput = d;
	bad |= conf_integer(grp, "dlr-mask", 31, 0, 31, &n);
	c->dlr_mask = n;
	bad |= conf_integer(grp, "max-parts", 3, 1, 10, &n);
	c->max_parts = n;
	bad |= conf_integer(grp, "retry-limit", 8, 1, 1000, &n);
	c->retry_limit = n;
	bad |= conf_integer(grp, "retry-delay", 5, 1, 86400, &n);
	c->retry_delay = n;
	bad |= conf_integer(grp, "heartbeat-interval", 30, 0, 3600, &n);
	c->heartbeat_interval = n;
	bad |= conf_integer(grp, "reconnect-delay-max", 30, 1, 3600, &n);
	c->reconnect_delay_max = n;
	bad |= conf_integer(grp, "max-frame-size", 1 << 20, 1024, 64 << 20, &n);
	c->max_frame_size = n;
	bad |= conf_integer(grp, "commit-batch", 100, 1, 100000, &n);
	c->commit_batch = n;
	allow = conf_string(grp, "admins", NULL);
	conf_names_split(allow, &c->admins);
	free(allow);
	bad |= conf_integer(grp, "flood-rate", 10, 1, 100000, &n);
	c->flood_rate = n;
	bad |= conf_integer(grp, "flood-burst", 5, 1, 100000, &n);
	c->flood_burst = n;
	bad |= conf_integer(grp, "repeat-window", 10, 0, 3600, &n);
	c->repeat_window = n;
	allow = conf_string(grp, "currency-aliases", "ksh;kshs;sh;shs;/=;/-");
	conf_names_split(allow, &c->currency_aliases);
	free(allow);
	return bad ? -1 : 0;
}

static int
conf_read_units(struct conf *c, Cfg *cfg)
{
	List	*l = cfg_get_multi_group(cfg, octstr_imm("unit"));
	long	 i;
	int	 bad = 0;

	c->nunits = l ? gwlist_len(l) : 0;
	c->units = calloc(c->nunits ? c->nunits : 1, sizeof(*c->units));
	if (c->units == NULL)
		panic(errno, "out of memory");
	for (i = 0; l != NULL && i < gwlist_len(l); i++) {
		CfgGroup	*grp = gwlist_get(l, i);
		struct conf_unit *u = &c->units[i];
		char		*aliases;

		u->code = conf_string(grp, "code", NULL);
		aliases = conf_string(grp, "aliases", NULL);
		conf_names_split(aliases, &u->aliases);
		free(aliases);
		if (!conf_code_ok(u->code)) {
			conf_bad(grp, "code", NULL, "unit code '%s' must be 1-32 "
			    "lowercase letters, digits, '-' or '_'",
			    u->code ? u->code : "");
			bad = -1;
		} else if (i > 0 && conf_unit_find(c, u->code) != u) {
			conf_bad(grp, "code", NULL, "unit '%s' declared twice",
			    u->code);
			bad = -1;
		}
	}
	gwlist_destroy(l, NULL);
	return bad;
}

static int
conf_read_commodities(struct conf *c, Cfg *cfg)
{
	List	*l = cfg_get_multi_group(cfg, octstr_imm("commodity"));
	long	 i;
	int	 bad = 0;

	c->ncommodities = l ? gwlist_len(l) : 0;
	c->commodities = calloc(c->ncommodities ? c->ncommodities : 1,
	    sizeof(*c->commodities));
	if (c->commodities == NULL)
		panic(errno, "out of memory");
	for (i = 0; l != NULL && i < gwlist_len(l); i++) {
		CfgGroup		*grp = gwlist_get(l, i);
		struct conf_commodity	*k = &c->commodities[i];
		char			*aliases;

		k->code = conf_string(grp, "code", NULL);
		k->unit = conf_string(grp, "unit", NULL);
		aliases = conf_string(grp, "aliases", NULL);
		conf_names_split(aliases, &k->aliases);
		free(aliases);
		if (!conf_code_ok(k->code)) {
			conf_bad(grp, "code", NULL, "commodity code '%s' must be "
			    "1-32 lowercase letters, digits, '-' or '_'",
			    k->code ? k->code : "");
			bad = -1;
			continue;
		}
		if (i > 0 && conf_commodity_find(c, k->code) != k) {
			conf_bad(grp, "code", NULL,
			    "commodity '%s' declared twice", k->code);
			bad = -1;
		}
		if (k->unit == NULL) {
			conf_bad(grp, "code", NULL, "commodity '%s' has no "
			    "default unit", k->code);
			bad = -1;
		} else if (conf_unit_find(c, k->unit) == NULL) {
			conf_bad(grp, "unit", NULL, "commodity '%s': unit '%s' "
			    "is not declared in a 'group = unit'", k->code,
			    k->unit);
			bad = -1;
		}
	}
	gwlist_destroy(l, NULL);
	return bad;
}

static int
conf_read_markets(struct conf *c, Cfg *cfg)
{
	List	*l = cfg_get_multi_group(cfg, octstr_imm("market"));
	long	 i;
	int	 bad = 0;

	c->nmarkets = l ? gwlist_len(l) : 0;
	c->markets = calloc(c->nmarkets ? c->nmarkets : 1, sizeof(*c->markets));
	if (c->markets == NULL)
		panic(errno, "out of memory");
	for (i = 0; l != NULL && i < gwlist_len(l); i++) {
		CfgGroup		*grp = gwlist_get(l, i);
		struct conf_market	*m = &c->markets[i];
		char			*aliases;

		m->code = conf_string(grp, "code", NULL);
		m->name = conf_string(grp, "name", NULL);
		m->region = conf_string(grp, "region", NULL);
		aliases = conf_string(grp, "aliases", NULL);
		conf_names_split(aliases, &m->aliases);
		free(aliases);
		if (!conf_code_ok(m->code)) {
			conf_bad(grp, "code", NULL, "market code '%s' must be "
			    "1-32 lowercase letters, digits, '-' or '_'",
			    m->code ? m->code : "");
			bad = -1;
			continue;
		}
		if (i > 0 && conf_market_find(c, m->code) != m) {
			conf_bad(grp, "code", NULL, "market '%s' declared twice",
			    m->code);
			bad = -1;
		}
		if (m->name == NULL)
			m->name = conf_strdup(m->code);
	}
	gwlist_destroy(l, NULL);
	return bad;
}

static int
conf_read_plugins(struct conf *c, Cfg *cfg)
{
	List	*l = cfg_get_multi_group(cfg, octstr_imm("plugin"));
	long	 i;
	size_t	 j;
	int	 bad = 0;

	c->nplugins = l ? gwlist_len(l) : 0;
	c->plugins = calloc(c->nplugins ? c->nplugins : 1, sizeof(*c->plugins));
	if (c->plugins == NULL)
		panic(errno, "out of memory");
	for (i = 0; l != NULL && i < gwlist_len(l); i++) {
		CfgGroup		*grp = gwlist_get(l, i);
		struct conf_plugin	*p = &c->plugins[i];

		p->name = conf_string(grp, "name", NULL);
		p->module = conf_string(grp, "module", NULL);
		if (p->name == NULL || p->name[0] == '\0') {
			conf_bad(grp, "name", NULL, "a plugin group needs a name");
			bad = -1;
			continue;
		}
		if (p->module == NULL)
			p->module = conf_strdup(p->name);
		for (j = 0; j < (size_t)i; j++)
			if (c->plugins[j].name != NULL &&
			    strcmp(c->plugins[j].name, p->name) == 0) {
				conf_bad(grp, "name", NULL,
				    "plugin '%s' configured twice", p->name);
				bad = -1;
			}
	}
	gwlist_destroy(l, NULL);
	return bad;
}

/*
 * libgw's parser panics (exits) on an include it cannot read, which must
 * never happen on a SIGHUP reload.  So every include is looked at first:
 * each file named must be readable, and nesting is bounded (a file that
 * includes itself would otherwise never end).  Paths are as libgw resolves
 * them: relative to the working directory, which conf_load() sets to the
 * main file's directory.
 */
static int
conf_check_includes(const char *file, int depth)
{
	FILE	*fp;
	char	 line[4096];
	long	 n = 0;
	int	 bad = 0;

	if (depth > 8) {
		error(0, "%s: includes nest more than 8 deep (does a file "
		    "include itself?)", file);
		return -1;
	}
	if ((fp = fopen(file, "r")) == NULL)
		return 0;	/* reported by the caller or by libgw */
	while (fgets(line, sizeof(line), fp) != NULL) {
		char	*p = line, *q;

		n++;
		p += strspn(p, " \t");
		/*
		 * libgw takes ANY line holding "include" and an '=' for an
		 * include (even "aliases = includes"), so look at the same.
		 */
		if (*p == '#' || strstr(p, "include") == NULL ||
		    (p = strchr(p, '=')) == NULL)
			continue;
		p++;
		p += strspn(p, " \t");
		if (*p == '"')
			p++;
		q = p + strcspn(p, "\"\r\n");
		while (q > p && (q[-1] == ' ' || q[-1] == '\t'))
			q--;
		*q = '\0';
		if (access(p, R_OK) == -1) {
			error(errno, "%s:%ld: cannot read included file '%s' "
			    "(a line with the word 'include' names a file to "
			    "include)", file, n, p);
			bad = -1;
		} else if (conf_check_includes(p, depth + 1) == -1)
			bad = -1;
	}
	fclose(fp);
	return bad;
}

/*
 * Read the file with libgw's parser, from the main file's directory so that
 * included files are found beside it whatever the daemon's working
 * directory.  Returns NULL (logged) on any error.  On success the working
 * directory is left there (so errors found later can quote lines of
 * included files) and *cwd is the directory to return to with fchdir.
 */
static Cfg *
conf_parse(const char *path, int *cwd_out)
{
	char	*abs, *dir, *slash;
	Cfg	*cfg = NULL;
	Octstr	*name;
	int	 cwd;

	if ((abs = realpath(path, NULL)) == NULL) {
		error(errno, "%s: cannot read the configuration", path);
		return NULL;
	}
	if ((cwd = open(".", O_RDONLY | O_DIRECTORY)) == -1) {
		error(errno, "cannot open the working directory");
		free(abs);
		return NULL;
	}
	dir = strdup(abs);
	if (dir == NULL)
		panic(errno, "out of memory");
	if ((slash = strrchr(dir, '/')) != NULL)
		slash[slash == dir ? 1 : 0] = '\0';
	if (chdir(dir) == -1) {
		error(errno, "%s: cannot enter its directory", path);
		goto out;
	}
	if (access(abs, R_OK) == -1) {
		error(errno, "%s: cannot read the configuration", path);
		goto back;
	}
	if (conf_check_includes(abs, 0) == -1) {
		error(0, "%s: cannot use this configuration", path);
		goto back;
	}
	name = octstr_create(abs);
	cfg = cfg_create(name);		/* keeps a copy */
	octstr_destroy(name);
	if (cfg_read(cfg) == -1) {
		error(0, "%s: cannot use this configuration", path);
		cfg_destroy(cfg);
		cfg = NULL;
		goto back;
	}
	*cwd_out = cwd;
	free(dir);
	free(abs);
	return cfg;
back:
	if (fchdir(cwd) == -1)
		error(errno, "cannot return to the working directory");
out:
	close(cwd);
	free(dir);
	free(abs);
	return cfg;
}

/* Collect the plugin-NAME groups the parser met, with their values. */
static int
conf_read_plugin_groups(struct conf *c, Cfg *cfg)
{
	size_t	 i, j;

	for (i = 0; i < conf_nseen; i++) {
		struct conf_plugin_group *g = NULL;
		const char		*name = conf_seen[i].group + 7;
		CfgGroup		*grp;
		Octstr			*v;
		char			**k, **vals;

		for (j = 0; j < c->nplugin_groups; j++)
			if (strcmp(c->plugin_groups[j].plugin, name) == 0)
				g = &c->plugin_groups[j];
		if ((grp = cfg_get_single_group(cfg,
		    octstr_imm(conf_seen[i].group))) == NULL)
			continue;
		if (g == NULL) {
			struct conf_plugin_group *n;
			Octstr	*file = cfg_get_configfile(grp);

			n = realloc(c->plugin_groups,
			    (c->nplugin_groups + 1) * sizeof(*n));
			if (n == NULL)
				panic(errno, "out of memory");
			c->plugin_groups = n;
			g = &n[c->nplugin_groups++];
			memset(g, 0, sizeof(*g));
			g->plugin = conf_strdup(name);
			g->file = conf_strdup(file ? octstr_get_cstr(file) :
			    c->path);
			octstr_destroy(file);
		}
		if ((v = cfg_get(grp, octstr_imm(conf_seen[i].key))) == NULL)
			continue;
		octstr_strip_blanks(v);
		k = realloc(g->keys, (g->n + 1) * sizeof(*k));
		if (k == NULL)
			panic(errno, "out of memory");
		g->keys = k;
		vals = realloc(g->values, (g->n + 1) * sizeof(*vals));
		if (vals == NULL)
			panic(errno, "out of memory");
		g->values = vals;
		g->keys[g->n] = conf_strdup(conf_seen[i].key);
		g->values[g->n] = conf_strdup(octstr_get_cstr(v));
		g->n++;
		octstr_destroy(v);
	}
	return 0;
}

struct conf *
conf_load(const char *path)
{
	struct conf	*c;
	Cfg		*cfg;
	CfgGroup	*grp;
	int		 bad = 0, cwd = -1;

	conf_register_hooks();
	conf_seen_clear();
	if ((cfg = conf_parse(path, &cwd)) == NULL) {
		conf_seen_clear();
		return NULL;
	}
	if ((c = calloc(1, sizeof(*c))) == NULL)
		panic(errno, "out of memory");
	c->path = conf_strdup(path);
	if ((grp = cfg_get_single_group(cfg, octstr_imm("marketbox"))) == NULL) {
		error(0, "%s: no 'group = marketbox'", path);
		bad = -1;
	} else {
		bad |= conf_read_marketbox(c, grp);
		bad |= conf_read_units(c, cfg);
		bad |= conf_read_commodities(c, cfg);
		bad |= conf_read_markets(c, cfg);
		bad |= conf_read_plugins(c, cfg);
		bad |= conf_read_plugin_groups(c, cfg);
	}
	conf_seen_clear();
	cfg_destroy(cfg);
	if (fchdir(cwd) == -1) {
		error(errno, "cannot return to the working directory");
		bad = -1;
	}
	close(cwd);
	if (bad) {
		error(0, "%s: cannot use this configuration", path);
		conf_free(c);
		return NULL;
	}
	return c;
}

void
conf_free(struct conf *c)
{
	size_t	 i;

	if (c == NULL)
		return;
	free(c->path);
	free(c->smsbox_id);
	free(c->bearerbox_host);
	free(c->global_sender);
	free(c->database);
	free(c->log_file);
	free(c->pid_file);
	free(c->http_interface);
	conf_names_free(&c->http_allow_ip);
	conf_names_free(&c->admins);
	conf_names_free(&c->currency_aliases);
	free(c->admin_password);
	free(c->sendsms_url);
	free(c->plugin_dir);
	free(c->language_dir);
	free(c->default_language);
	free(c->country_code);
	free(c->currency);
	for (i = 0; i < c->nplugins; i++) {
		free(c->plugins[i].name);
		free(c->plugins[i].module);
	}
	free(c->plugins);
	for (i = 0; i < c->nplugin_groups; i++) {
		size_t	 j;

		for (j = 0; j < c->plugin_groups[i].n; j++) {
			free(c->plugin_groups[i].keys[j]);
			free(c->plugin_groups[i].values[j]);
		}
		free(c->plugin_groups[i].keys);
		free(c->plugin_groups[i].values);
		free(c->plugin_groups[i].plugin);
		free(c->plugin_groups[i].file);
	}
	free(c->plugin_groups);
	for (i = 0; i < c->nunits; i++) {
		free(c->units[i].code);
		conf_names_free(&c->units[i].aliases);
	}
	free(c->units);
	for (i = 0; i < c->ncommodities; i++) {
		free(c->commodities[i].code);
		free(c->commodities[i].unit);
		conf_names_free(&c->commodities[i].aliases);
	}
	free(c->commodities);
	for (i = 0; i < c->nmarkets; i++) {
		free(c->markets[i].code);
		free(c->markets[i].name);
		free(c->markets[i].region);
		conf_names_free(&c->markets[i].aliases);
	}
	free(c->markets);
	free(c);
}

const struct conf_unit *
conf_unit_find(const struct conf *c, const char *code)
{
	size_t	 i;

	for (i = 0; code != NULL && i < c->nunits; i++)
		if (c->units[i].code != NULL && strcmp(c->units[i].code, code) == 0)
			return &c->units[i];
	return NULL;
}

const struct conf_commodity *
conf_commodity_find(const struct conf *c, const char *code)
{
	size_t	 i;

	for (i = 0; code != NULL && i < c->ncommodities; i++)
		if (c->commodities[i].code != NULL &&
		    strcmp(c->commodities[i].code, code) == 0)
			return &c->commodities[i];
	return NULL;
}

const struct conf_plugin_group *
conf_plugin_group_find(const struct conf *c, const char *plugin)
{
	size_t	 i;

	for (i = 0; plugin != NULL && i < c->nplugin_groups; i++)
		if (strcmp(c->plugin_groups[i].plugin, plugin) == 0)
			return &c->plugin_groups[i];
	return NULL;
}

const struct conf_market *
conf_market_find(const struct conf *c, const char *code)
{
	size_t	 i;

	for (i = 0; code != NULL && i < c->nmarkets; i++)
		if (c->markets[i].code != NULL &&
		    strcmp(c->markets[i].code, code) == 0)
			return &c->markets[i];
	return NULL;
}
