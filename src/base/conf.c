/*
 * conf.c - read marketbox's conf with libgw's cfg parser and validate it
 * into a plain struct conf.
 *
 * The groups and keys come from conf.def.  libgw reports syntax errors
 * itself, with file and line; conf.c reports undeclared keys before libgw
 * reads the file (libgw would name the group's line, conf.c names the
 * key's, with the declared key nearest to it) and bad values, finding the
 * line of the offending key in the file so the admin can go straight to
 * it.  Defaults live in the conf*.c files and nowhere else.
 *
 * Here: parsing the file (its includes checked first, libgw's hooks for
 * the keys of conf.def), the marketbox group, the plugin groups, and
 * conf_free().  The catalogue groups (unit, commodity, market) are read
 * and checked in conf_catalogue.c, the USSD menus in conf_ussd.c; the
 * value readers below serve them too, through conf_int.h.
 */
#include "config.h"

#include <sys/stat.h>

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/gw.h"

#include "base/conf.h"
#include "base/conf_int.h"

#ifndef MARKETBOX_PLUGIN_DIR
#define MARKETBOX_PLUGIN_DIR	"/usr/local/lib/marketbox/plugins"
#endif
#ifndef MARKETBOX_LANGUAGE_DIR
#define MARKETBOX_LANGUAGE_DIR	"/usr/local/etc/marketbox/lang"
#endif
#define CONF_OUTBOX_LEASE	60	/* seconds, without outbox-lease */

struct conf_key {
	const char	*group;
	int		 single;
	const char	*key;
};

static const struct conf_key conf_keys[] = {
#define GROUP(name, single)	{ #name, single, "group" },
#define KEY(name)		{ NULL, 0, #name },
#define END_GROUP
#include "base/conf.def"
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

/* As the hook below, on C strings; plugin-NAME groups take any key. */
static int
conf_key_allowed(const char *group, const char *key)
{
	size_t	 i;
	int	 ours = 0;

	if (strncmp(group, "plugin-", 7) == 0 && group[7] != '\0')
		return 1;
	for (i = 0; i < sizeof(conf_keys) / sizeof(conf_keys[0]); i++) {
		if (conf_keys[i].group != NULL) {
			ours = strcmp(group, conf_keys[i].group) == 0;
			if (ours && strcmp(key, "group") == 0)
				return 1;
			continue;
		}
		if (ours && strcmp(key, conf_keys[i].key) == 0)
			return 1;
	}
	for (i = 0; i < sizeof(conf_keys) / sizeof(conf_keys[0]); i++)
		if (conf_keys[i].group != NULL &&
		    strcmp(group, conf_keys[i].group) == 0)
			return 0;
	return -1;
}

static int
conf_allowed_hook(Octstr *group, Octstr *key)
{
	if (conf_is_plugin_group(group)) {
		if (octstr_str_compare(key, "group") != 0)
			conf_seen_add(group, key);
		return 1;
	}
	return conf_key_allowed(octstr_get_cstr(group), octstr_get_cstr(key));
}

/* Levenshtein distance of two short strings (keys); longer ones: far. */
static size_t
conf_edit_distance(const char *a, const char *b)
{
	size_t	 la = strlen(a), lb = strlen(b), i, j, row[65], diag, up;

	if (la > 64 || lb > 64)
		return (size_t)-1;
	for (j = 0; j <= lb; j++)
		row[j] = j;
	for (i = 1; i <= la; i++) {
		diag = row[0];
		row[0] = i;
		for (j = 1; j <= lb; j++) {
			up = row[j];
			row[j] = diag + (a[i - 1] != b[j - 1]);
			if (up + 1 < row[j])
				row[j] = up + 1;
			if (row[j - 1] + 1 < row[j])
				row[j] = row[j - 1] + 1;
			diag = up;
		}
	}
	return row[lb];
}

/*
 * The declared key of group nearest to key, when it is near enough to be
 * a slip of the fingers (2 edits at most, fewer than a third of the key);
 * NULL otherwise.
 */
static const char *
conf_key_suggest(const char *group, const char *key)
{
	const char	*best = NULL;
	size_t		 i, d, bestd = 3;
	int		 ours = 0;

	for (i = 0; i < sizeof(conf_keys) / sizeof(conf_keys[0]); i++) {
		if (conf_keys[i].group != NULL) {
			ours = strcmp(group, conf_keys[i].group) == 0;
			continue;
		}
		if (!ours)
			continue;
		d = conf_edit_distance(key, conf_keys[i].key);
		if (d < bestd && d * 3 < strlen(key)) {
			bestd = d;
			best = conf_keys[i].key;
		}
	}
	return best;
}

int
conf_key_declared(const char *group, const char *key, const char **near)
{
	int	 r = conf_key_allowed(group, key);

	*near = r == 0 ? conf_key_suggest(group, key) : NULL;
	return r;
}

/* A key the parser met in a block of file, kept until its group is known. */
struct conf_block_key {
	long	 line;
	char	*key;
};

/* The keys of one block checked against its group, then forgotten. */
static int
conf_check_block(const char *file, const char *group,
    struct conf_block_key *keys, size_t n)
{
	const char	*near;
	size_t		 i;
	int		 bad = 0;

	for (i = 0; i < n; i++) {
		if (group[0] != '\0' &&
		    conf_key_allowed(group, keys[i].key) == 0) {
			if ((near = conf_key_suggest(group, keys[i].key)) != NULL)
				error(0, "%s:%ld: unknown key '%s' in group %s "
				    "(did you mean %s?)", file, keys[i].line,
				    keys[i].key, group, near);
			else
				error(0, "%s:%ld: unknown key '%s' in group %s "
				    "(marketbox.conf(5) lists its keys)", file,
				    keys[i].line, keys[i].key, group);
			bad = -1;
		}
		free(keys[i].key);
	}
	return bad;
}

/*
 * libgw refuses a key its group does not declare, but names the line of
 * the group (or of the blank line after it), not the key's.  So each file
 * is read here first as libgw reads it: blocks of lines between blank
 * lines, '#' lines skipped, each block a group with its "group = NAME"
 * line anywhere in it.  A key of one of marketbox's groups that the group
 * does not declare is reported at its own line, with the declared key
 * nearest to it.  A block without a group line, or a group that is not
 * ours, is left to libgw (it says what is wrong).  -1 when one is found.
 */
static int
conf_check_keys(const char *file)
{
	FILE			*fp;
	struct conf_block_key	*keys = NULL, *k;
	char			*line = NULL, *p, *eq, *end, group[128] = "";
	size_t			 size = 0, n = 0;
	long			 lineno = 0;
	int			 bad = 0;

	if ((fp = fopen(file, "r")) == NULL)
		return 0;	/* reported by the caller or by libgw */
	while (getline(&line, &size, fp) != -1) {
		lineno++;
		p = line + strspn(line, " \t\r\n\f\v");
		if (*p == '\0') {
			if (conf_check_block(file, group, keys, n) == -1)
				bad = -1;
			n = 0;
			group[0] = '\0';
			continue;
		}
		if (*p == '#' || conf_include_target(p) != NULL ||
		    (eq = strchr(p, '=')) == NULL)
			continue;
		for (end = eq; end > p && isspace((unsigned char)end[-1]);
		    end--)
			;
		*end = '\0';
		if (strcmp(p, "group") == 0) {
			p = eq + 1 + strspn(eq + 1, " \t\"");
			snprintf(group, sizeof(group), "%.*s",
			    (int)strcspn(p, " \t\"\r\n"), p);
			continue;
		}
		if ((k = realloc(keys, (n + 1) * sizeof(*k))) == NULL)
			panic(errno, "out of memory");
		keys = k;
		keys[n].line = lineno;
		keys[n++].key = conf_strdup(p);
	}
	if (conf_check_block(file, group, keys, n) == -1)
		bad = -1;
	free(keys);
	free(line);
	fclose(fp);
	return bad;
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

void
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

char *
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
char *
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

/*
 * A file or directory named in the conf.  A relative one is taken from the
 * main conf file's directory, which is the working directory while the conf
 * is read (conf_parse), so a conf and its files move together.
 */
static char *
conf_path(CfgGroup *grp, const char *key, const char *def)
{
	char	*v = conf_string(grp, key, def), *abs;
	char	 cwd[4096];

	if (v == NULL || v[0] == '/' || v[0] == '\0' ||
	    getcwd(cwd, sizeof(cwd)) == NULL)
		return v;
	if (asprintf(&abs, "%s/%s", cwd, v) == -1)
		panic(errno, "out of memory");
	free(v);
	return abs;
}

/* An integer in [min, max]; def when absent.  Returns -1 on a bad value. */
int
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

/* A yes/no value (yes, no, true, false, on, off, 1, 0); def when absent.
 * Returns -1 on a bad value. */
int
conf_bool(CfgGroup *grp, const char *key, int def, int *out)
{
	static const char *const yes[] = { "yes", "true", "on", "1" };
	static const char *const no[] = { "no", "false", "off", "0" };
	Octstr	*v = cfg_get(grp, octstr_imm(key));
	size_t	 i;

	*out = def;
	if (v == NULL)
		return 0;
	octstr_strip_blanks(v);
	for (i = 0; i < sizeof(yes) / sizeof(yes[0]); i++) {
		if (octstr_case_compare(v, octstr_imm(yes[i])) == 0) {
			*out = 1;
			octstr_destroy(v);
			return 0;
		}
		if (octstr_case_compare(v, octstr_imm(no[i])) == 0) {
			*out = 0;
			octstr_destroy(v);
			return 0;
		}
	}
	conf_bad(grp, key, v, "'%s' is not yes or no", octstr_get_cstr(v));
	octstr_destroy(v);
	return -1;
}

/* Split a ';'-separated list, trimming blanks, dropping empty items. */
void
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

void
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
int
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
	/* A PostgreSQL database string is not a path to make absolute. */
	c->database = conf_string(grp, "database", NULL);
	if (c->database == NULL || !conf_database_is_conninfo(c->database)) {
		free(c->database);
		c->database = conf_path(grp, "database", LOCALSTATEDIR
		    "/lib/marketbox/marketbox.db");
	}
	c->backup_dir = conf_path(grp, "backup-dir", NULL);
	if (c->backup_dir != NULL && c->backup_dir[0] == '\0') {
		free(c->backup_dir);
		c->backup_dir = NULL;
	}
	c->log_file = conf_path(grp, "log-file", NULL);
	bad |= conf_integer(grp, "log-level", 1, 0, 4, &n);
	c->log_level = n;
	c->pid_file = conf_path(grp, "pid-file", NULL);
	bad |= conf_integer(grp, "http-port", 0, 0, 65535, &n);
	c->http_port = n;
	c->http_interface = conf_string(grp, "http-interface", "127.0.0.1");
	allow = conf_string(grp, "http-allow-ip", NULL);
	conf_names_split(allow, &c->http_allow_ip);
	free(allow);
	bad |= conf_integer(grp, "http-max-connections", 128, 4, 100000, &n);
	c->http_max_connections = n;
	bad |= conf_integer(grp, "http-request-timeout", 10, 1, 3600, &n);
	c->http_request_timeout = n;
	allow = conf_string(grp, "http-host-names", NULL);
	conf_names_split(allow, &c->http_host_names);
	free(allow);
	c->sms_secret = conf_string(grp, "sms-secret", NULL);
	c->ussd_secret = conf_string(grp, "ussd-secret", NULL);
	if (c->sms_secret != NULL && c->sms_secret[0] == '\0') {
		free(c->sms_secret);
		c->sms_secret = NULL;
	}
	if (c->ussd_secret != NULL && c->ussd_secret[0] == '\0') {
		free(c->ussd_secret);
		c->ussd_secret = NULL;
	}
	c->admin_password = conf_string(grp, "admin-password", NULL);
	allow = conf_string(grp, "admin-allow-ip", NULL);
	conf_names_split(allow, &c->admin_allow_ip);
	free(allow);
	c->user = conf_string(grp, "user", NULL);
	if (c->user != NULL && c->user[0] == '\0') {
		free(c->user);
		c->user = NULL;
	}
	bad |= conf_bool(grp, "run-as-root", 0, &c->run_as_root);
	c->sendsms_url = conf_string(grp, "sendsms-url", NULL);
	c->plugin_dir = conf_path(grp, "plugin-dir", MARKETBOX_PLUGIN_DIR);
	c->language_dir = conf_path(grp, "language-dir",
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
	bad |= conf_integer(grp, "commit-delay", 2, 0, 1000, &n);
	c->commit_delay = n;
	c->instance = conf_string(grp, "instance", NULL);
	if (c->instance != NULL && c->instance[0] == '\0') {
		free(c->instance);
		c->instance = NULL;
	}
	if (c->instance != NULL && (strlen(c->instance) > 64 ||
	    strspn(c->instance, "abcdefghijklmnopqrstuvwxyz"
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.-_") !=
	    strlen(c->instance))) {
		conf_bad(grp, "instance", NULL, "'%s' is not a name of at most "
		    "64 letters, digits, '.', '-' and '_'", c->instance);
		bad = -1;
	}
	bad |= conf_integer(grp, "outbox-lease", 60, 5, 3600, &n);
	c->outbox_lease = n;
	allow = conf_string(grp, "admins", NULL);
	conf_names_split(allow, &c->admins);
	free(allow);
	bad |= conf_integer(grp, "flood-rate", 10, 1, 100000, &n);
	c->flood_rate = n;
	bad |= conf_integer(grp, "flood-burst", 5, 1, 100000, &n);
	c->flood_burst = n;
	/* An agent under FOR: per member, the farmer's values by default. */
	bad |= conf_integer(grp, "agent-flood-rate", c->flood_rate, 1, 100000,
	    &n);
	c->agent_flood_rate = n;
	bad |= conf_integer(grp, "agent-flood-burst", c->flood_burst, 1,
	    100000, &n);
	c->agent_flood_burst = n;
	bad |= conf_integer(grp, "repeat-window", 10, 0, 3600, &n);
	c->repeat_window = n;
	bad |= conf_integer(grp, "question-lifetime", 900, 60, 7 * 86400,
	    &n);
	c->question_lifetime = n;
	allow = conf_string(grp, "currency-aliases",
	    "ksh;kshs;sh;shs;/=;/-;f;fcfa;cfa;元;块;¥;at;@;kwa;à");
	conf_names_split(allow, &c->currency_aliases);
	free(allow);
	return bad ? -1 : 0;
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
 * The file an include line names, cut out of line in place; NULL for any
 * other line.  libgw takes ANY line holding "include" and an '=' for an
 * include (even "aliases = includes"), so this looks at the same.
 */
char *
conf_include_target(char *line)
{
	char	*p = line + strspn(line, " \t"), *q;

	if (*p == '#' || strstr(p, "include") == NULL ||
	    (p = strchr(p, '=')) == NULL)
		return NULL;
	p++;
	p += strspn(p, " \t");
	if (*p == '"')
		p++;
	q = p + strcspn(p, "\"\r\n");
	while (q > p && (q[-1] == ' ' || q[-1] == '\t'))
		q--;
	*q = '\0';
	return p;
}

struct conf_includes;
static int	conf_check_includes(const char *, int,
		    struct conf_includes *);

/* At most this many entries are looked at in an included directory. */
#define CONF_INCLUDE_DIR_MAX	1024

/*
 * One file an include names (directly, or as an entry of an included
 * directory): it must be a readable regular file once links are followed;
 * libgw would block on a FIFO and panic on anything it cannot read.  Then
 * its own includes are checked.  where is "file:line" of the include line.
 */
static int
conf_check_include_file(const char *where, const char *path, int depth,
    struct conf_includes *inc)
{
	struct stat	 st;

	if (stat(path, &st) == -1 || access(path, R_OK) == -1) {
		error(errno, "%s: cannot read included file '%s' (a line with "
		    "the word 'include' names a file to include)", where, path);
		return -1;
	}
	if (S_ISDIR(st.st_mode)) {
		error(0, "%s: included '%s' is a symbolic link to a directory; "
		    "Kannel's parser cannot read it: name the directory itself",
		    where, path);
		return -1;
	}
	if (!S_ISREG(st.st_mode)) {
		error(0, "%s: included '%s' is not a regular file", where, path);
		return -1;
	}
	return conf_check_includes(path, depth + 1, inc);
}

/*
 * An include of a directory: libgw reads every entry of it that is not
 * itself a directory (lstat, so a link to a directory counts as a file),
 * whatever its name, paths joined as "dir/name".  Each must pass as a file.
 */
static int
conf_check_include_dir(const char *where, const char *dir, int depth,
    struct conf_includes *inc)
{
	DIR		*dh;
	struct dirent	*de;
	struct stat	 st;
	char		 path[PATH_MAX];
	int		 bad = 0, n = 0;

	if ((dh = opendir(dir)) == NULL) {
		error(errno, "%s: cannot read included directory '%s'", where,
		    dir);
		return -1;
	}
	while ((de = readdir(dh)) != NULL) {
		if (++n > CONF_INCLUDE_DIR_MAX) {
			error(0, "%s: included directory '%s' has more than %d "
			    "entries", where, dir, CONF_INCLUDE_DIR_MAX);
			bad = -1;
			break;
		}
		if ((size_t)snprintf(path, sizeof(path), "%s/%s", dir,
		    de->d_name) >= sizeof(path)) {
			error(0, "%s: a name in included directory '%s' is too "
			    "long", where, dir);
			bad = -1;
			continue;
		}
		if (lstat(path, &st) == -1) {
			error(errno, "%s: cannot read '%s' in included "
			    "directory '%s'", where, path, dir);
			bad = -1;
		} else if (!S_ISDIR(st.st_mode) &&
		    conf_check_include_file(where, path, depth, inc) == -1)
			bad = -1;
	}
	closedir(dh);
	return bad;
}

/*
 * libgw's parser panics (exits) on an include it cannot read, which must
 * never happen on a SIGHUP reload.  So every include is looked at first:
 * each file named must be readable, a directory named is looked at entry
 * by entry as libgw reads it, and nesting is bounded (a file that includes
 * itself would otherwise never end).  Paths are as libgw resolves them:
 * relative to the working directory, which conf_load() sets to the main
 * file's directory, also inside included directories.  Each included file
 * is looked at once: libgw PANICs on a file included a second time (it
 * takes that for a loop), and a file that includes itself k times would
 * otherwise be read k^8 times before the depth stops it (the daemon hung
 * on reload).
 */
#define CONF_MAX_INCLUDES	64

struct conf_includes {
	int	 n;
	char	*seen[CONF_MAX_INCLUDES];	/* real paths, malloc'd */
};

static int
conf_check_includes(const char *file, int depth, struct conf_includes *inc)
{
	FILE		*fp;
	struct stat	 st;
	char		*line = NULL, *real, where[PATH_MAX + 32];
	size_t		 size = 0;
	ssize_t		 len;
	long		 n = 0;
	int		 bad = 0, i;

	if (depth > 8) {
		error(0, "%s: includes nest more than 8 deep", file);
		return -1;
	}
	if (depth > 0 && (real = realpath(file, NULL)) != NULL) {
		for (i = 0; i < inc->n; i++)
			if (strcmp(inc->seen[i], real) == 0) {
				error(0, "%s: included more than once (does "
				    "a file include itself?)", file);
				free(real);
				return -1;
			}
		if (inc->n == CONF_MAX_INCLUDES) {
			error(0, "%s: more than %d files included",
			    file, CONF_MAX_INCLUDES);
			free(real);
			return -1;
		}
		inc->seen[inc->n++] = real;
	}
	if ((fp = fopen(file, "r")) == NULL)
		return 0;	/* reported by the caller or by libgw */
	if (conf_check_keys(file) == -1)
		bad = -1;
	/* Whole lines, however long: libgw reads them whole, NULs and all. */
	while ((len = getline(&line, &size, fp)) != -1) {
		char	*p;

		n++;
		if (memchr(line, '\0', (size_t)len) != NULL) {
			error(0, "%s:%ld: a NUL byte (is this a text file?)",
			    file, n);
			bad = -1;
			continue;
		}
		if ((p = conf_include_target(line)) == NULL)
			continue;
		snprintf(where, sizeof(where), "%s:%ld", file, n);
		if (lstat(p, &st) == 0 && S_ISDIR(st.st_mode)) {
			if (conf_check_include_dir(where, p, depth + 1,
			    inc) == -1)
				bad = -1;
		} else if (conf_check_include_file(where, p, depth, inc) == -1)
			bad = -1;
	}
	free(line);
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
	struct conf_includes inc = { 0, { NULL } };
	int	 cwd, bad;

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
	bad = conf_check_includes(abs, 0, &inc);
	while (inc.n > 0)
		free(inc.seen[--inc.n]);
	if (bad == -1) {
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
		bad |= conf_read_service_points(c, cfg);
		bad |= conf_read_seasons(c, cfg);
		bad |= conf_read_hubs(c, cfg);
		bad |= conf_read_plugins(c, cfg);
		bad |= conf_read_plugin_groups(c, cfg);
		bad |= conf_read_ussd(c, cfg);
		bad |= conf_read_payments(c, cfg);
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
	free(c->instance);
	free(c->log_file);
	free(c->pid_file);
	free(c->backup_dir);
	free(c->http_interface);
	conf_names_free(&c->http_allow_ip);
	conf_names_free(&c->http_host_names);
	free(c->sms_secret);
	free(c->ussd_secret);
	conf_names_free(&c->admin_allow_ip);
	free(c->user);
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
		conf_names_free(&c->units[i].names);
		conf_names_free(&c->units[i].forms);
	}
	free(c->units);
	for (i = 0; i < c->ncommodities; i++) {
		free(c->commodities[i].code);
		free(c->commodities[i].unit);
		conf_names_free(&c->commodities[i].aliases);
		conf_names_free(&c->commodities[i].names);
		conf_names_free(&c->commodities[i].forms);
	}
	free(c->commodities);
	for (i = 0; i < c->nmarkets; i++) {
		free(c->markets[i].code);
		free(c->markets[i].name);
		free(c->markets[i].region);
		conf_names_free(&c->markets[i].aliases);
	}
	free(c->markets);
	conf_service_points_free(c);
	conf_seasons_free(c);
	conf_hubs_free(c);
	free(c->ussd_start);
	for (i = 0; i < c->nussd_menus; i++) {
		free(c->ussd_menus[i].id);
		free(c->ussd_menus[i].title);
		free(c->ussd_menus[i].parent);
		conf_names_free(&c->ussd_menus[i].items);
	}
	free(c->ussd_menus);
	for (i = 0; i < c->nussd_items; i++) {
		struct conf_ussd_item	*it = &c->ussd_items[i];

		free(it->id);
		free(it->label);
		free(it->menu);
		free(it->input);
		free(it->var);
		free(it->prompt);
		free(it->choices);
		free(it->default_);
		free(it->next);
		free(it->action);
		free(it->file);
	}
	free(c->ussd_items);
	for (i = 0; i < c->nussd_smscs; i++)
		free(c->ussd_smscs[i].smsc_id);
	free(c->ussd_smscs);
	conf_payments_free(c);
	free(c);
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

int
conf_database_is_conninfo(const char *db)
{
	const char	*p = db;

	if (strncmp(db, "postgresql://", 13) == 0 ||
	    strncmp(db, "postgres://", 11) == 0)
		return 1;
	while ((*p >= 'a' && *p <= 'z') || *p == '_')
		p++;
	while (p > db && *p == ' ')
		p++;
	return p > db && *p == '=';
}

void
conf_host_name(char *buf, size_t len)
{
	if (gethostname(buf, len) == -1 || buf[0] == '\0')
		snprintf(buf, len, "localhost");
	buf[len - 1] = '\0';
}

const char *
conf_instance_name(const struct conf *c)
{
	static char	 name[128];
	char		 host[72];

	if (c != NULL && c->instance != NULL && c->instance[0] != '\0')
		return c->instance;
	if (name[0] == '\0') {
		conf_host_name(host, sizeof(host));
		snprintf(name, sizeof(name), "%s-%ld", host, (long)getpid());
	}
	return name;
}

int
conf_outbox_lease(const struct conf *c)
{
	return c != NULL && c->outbox_lease > 0 ? c->outbox_lease :
	    CONF_OUTBOX_LEASE;
}
