/*
 * plugin.c - loading command plugins, checking their descriptors, running
 * their migrations, init, fini and timers.
 *
 * See plugin.h for the contract and man/marketbox-plugin.3 for the ABI a
 * plugin sees.  The loader trusts nothing in a shared object before it has
 * checked it: the ABI version and the descriptor's size come first, then
 * every pointer and count the host will follow.  Problems are logged with
 * the plugin's file and the reason, all of them (not only the first), and
 * any problem refuses the whole set: marketbox never runs with some of its
 * commands missing.
 *
 * Decisions the header leaves open:
 *  - A plugin named by a "group = plugin" must report that same name in its
 *    descriptor: the name owns the plugin's tables and its conf group, so
 *    the two must not disagree.
 *  - A module given as a path with a '/' that is not absolute is taken
 *    relative to the conf file's directory, as conf includes are.
 *  - ABIs 1 and 2 load.  Each requires exactly its own descriptor size (a
 *    future ABI that appends fields may accept larger descriptors).  ABI 1
 *    plugins are handed the table with the SQLite slots (db, stmt) filled,
 *    ABI 2 plugins the one without, and ABI 1 plugins are refused when the
 *    store is not SQLite: their SQL and handles are SQLite's.
 *  - ABI 1's migration steps have no sql_pg: their array is read through a
 *    struct of ABI 1's layout (it has another stride), never as ABI 2's.
 *  - Command ids are [A-Z_]+ (and a digit after the first character),
 *    at most PLUGIN_ID_MAX bytes; plugin names [A-Za-z0-9_-]+, at most
 *    PLUGIN_NAME_MAX bytes (they are conf group names and table owners).
 *  - Unknown bits in a command's flags or roles are refused: a plugin that
 *    asks for a check this host does not know must not run unchecked.
 *  - The values of the plugin-NAME groups are copied at load, so a reload
 *    that frees the old conf does not leave the plugins pointing into it.
 *  - fini runs only for plugins whose init ran and returned MB_OK (or that
 *    have no init but were started); timers stop before any fini runs.
 */
#include "config.h"

#include <dirent.h>
#include <dlfcn.h>
#include <errno.h>
#include <libgen.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <event2/event.h>

#include "base/gw.h"

#include "base/conf.h"
#include "marketbox-plugin.h"
#include "plugin/plugin.h"
#include "store/store.h"

#ifndef MARKETBOX_PLUGIN_DIR
#define MARKETBOX_PLUGIN_DIR	"/usr/local/lib/marketbox/plugins"
#endif

#define PLUGIN_NAME_MAX	64
#define PLUGIN_ID_MAX	32

/*
 * ABI 1, frozen.  A migration step had no sql_pg, so an ABI 1 plugin's
 * array of steps has a stride of this struct, not of struct mb_migration.
 * The descriptor itself kept its layout (only the type its migrations
 * point to changed), so an ABI 1 descriptor is read as a struct mb_plugin
 * whose migrations are taken as these.
 */
struct plugin_migration_abi1 {
	int		 version;
	const char	*sql;
};

struct plugin_desc_abi1 {
	unsigned	 abi;
	size_t		 size;
	const char	*name, *version;
	const void	*commands;
	size_t		 ncommands;
	const struct plugin_migration_abi1 *migrations;
	size_t		 nmigrations;
	const void	*timers;
	size_t		 ntimers;
	const char * const *conf_keys;
	size_t		 nconf_keys;
	void		(*init)(void);
	void		(*fini)(void);
};

_Static_assert(sizeof(struct plugin_desc_abi1) == sizeof(struct mb_plugin) &&
    offsetof(struct plugin_desc_abi1, migrations) ==
    offsetof(struct mb_plugin, migrations) &&
    offsetof(struct plugin_desc_abi1, fini) == offsetof(struct mb_plugin, fini),
    "ABI 1 descriptors are no longer read as struct mb_plugin");

/* The ABIs this marketbox loads, and the descriptor size each requires. */
static const struct {
	unsigned	 abi;
	size_t		 size;
} plugin_abis[] = {
	{ 1, sizeof(struct plugin_desc_abi1) },
	{ MB_PLUGIN_ABI, sizeof(struct mb_plugin) },
};

#define PLUGIN_NABIS	(sizeof(plugin_abis) / sizeof(plugin_abis[0]))

struct plugin_timer {
	struct mb_plugin_ctx	*pctx;
	const struct mb_timer	*timer;
	struct event		*ev;
	int			 running;	/* its task is queued or
						   under way */
	long long		 now;		/* the time of this run */
	int			 outcome;	/* PLUGIN_TIMER_* of the last */
};

/* What a tick of a timer did. */
enum {
	PLUGIN_TIMER_RAN,
	PLUGIN_TIMER_ELSEWHERE,		/* another instance has the run */
	PLUGIN_TIMER_FAILED
};

/* One loaded plugin: what plugin.h and the host table call a context. */
struct mb_plugin_ctx {
	const struct mb_plugin	*desc;		/* inside the shared object */
	void			*dl;
	char			*path;
	void			*state;		/* the plugin's own */
	/* its conf group, copied: keys[i] = values[i] */
	char			**keys;
	char			**values;
	size_t			 nkeys;
	struct plugin_set	*set;
	struct plugin_timer	*timers;
	size_t			 ntimers;
	struct mb_ctx		*timer_ctx;	/* set by the core around a run */
	struct plugin_timer	*current;	/* the timer running now */
	int			 started;	/* init done: fini is due */
};

struct plugin_set {
	struct mb_plugin_ctx	**plugins;
	size_t			  n;
	/* every command, with the plugin it belongs to */
	const struct mb_command	**cmds;
	struct mb_plugin_ctx	**owners;
	size_t			  ncmds;
	struct plugin_env	  env;
	struct store		 *store;	/* runs the timers' tasks */
	char			 *instance;	/* timer_runs.owner, or NULL */
	int			  started;
};

/* --- freeing ------------------------------------------------------------ */

static void
plugin_ctx_free(struct mb_plugin_ctx *p)
{
	size_t	 i;

	if (p == NULL)
		return;
	for (i = 0; i < p->ntimers; i++)
		if (p->timers[i].ev != NULL)
			event_free(p->timers[i].ev);
	free(p->timers);
	for (i = 0; i < p->nkeys; i++) {
		free(p->keys[i]);
		free(p->values[i]);
	}
	free(p->keys);
	free(p->values);
	if (p->dl != NULL && dlclose(p->dl) != 0)
		warning(0, "plugin: %s: dlclose: %s", p->path, dlerror());
	free(p->path);
	free(p);
}

void
plugin_free(struct plugin_set *set)
{
	size_t	 i, j;

	if (set == NULL)
		return;
	/* No timer may fire once the first fini has run. */
	for (i = 0; i < set->n; i++) {
		struct mb_plugin_ctx	*p = set->plugins[i];

		for (j = 0; j < p->ntimers; j++) {
			if (p->timers[j].ev != NULL)
				event_free(p->timers[j].ev);
			p->timers[j].ev = NULL;
		}
	}
	for (i = set->n; i-- > 0; ) {
		struct mb_plugin_ctx	*p = set->plugins[i];

		if (p->started && p->desc->fini != NULL) {
			debug("mb.plugin", 0, "plugin %s: fini", p->desc->name);
			p->desc->fini(p, plugin_host(p));
		}
		p->started = 0;
	}
	for (i = set->n; i-- > 0; )
		plugin_ctx_free(set->plugins[i]);
	free(set->plugins);
	free(set->cmds);
	free(set->owners);
	free(set->instance);
	free(set);
}

void
plugin_set_instance(struct plugin_set *set, const char *name)
{
	char	*copy = NULL;

	if (set == NULL)
		return;
	if (name != NULL && (copy = strdup(name)) == NULL)
		error(errno, "plugin: out of memory: timer runs are written "
		    "with no instance name");
	free(set->instance);
	set->instance = copy;
}

/* --- checking a descriptor ------------------------------------------------ */

/* Step i of d's migrations, whichever ABI laid them out. */
static struct store_migration
plugin_step(const struct mb_plugin *d, size_t i)
{
	const struct plugin_migration_abi1	*old;
	struct store_migration			 m;

	if (d->abi == 1) {
		old = ((const struct plugin_desc_abi1 *)(const void *)d)->
		    migrations;
		m.version = old[i].version;
		m.sql = old[i].sql;
		m.sql_pg = NULL;
	} else {
		m.version = d->migrations[i].version;
		m.sql = d->migrations[i].sql;
		m.sql_pg = d->migrations[i].sql_pg;
	}
	return m;
}

static int
plugin_name_ok(const char *s)
{
	size_t	 n = 0;

	if (s == NULL || *s == '\0')
		return 0;
	for (; *s != '\0'; s++, n++)
		if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') ||
		    (*s >= '0' && *s <= '9') || *s == '_' || *s == '-'))
			return 0;
	return n <= PLUGIN_NAME_MAX;
}

/* Command ids are keyword group names in the language files: SELL, MY_ORDERS. */
static int
plugin_id_ok(const char *s)
{
	size_t	 n = 0;

	if (s == NULL || *s == '\0')
		return 0;
	for (; *s != '\0'; s++, n++)
		if (!((*s >= 'A' && *s <= 'Z') || *s == '_' ||
		    (n > 0 && *s >= '0' && *s <= '9')))
			return 0;
	return n <= PLUGIN_ID_MAX;
}

/*
 * Check everything of the descriptor the host will follow, apart from the
 * ABI and size (checked first, by the caller) and what depends on other
 * plugins.  Logs each problem; 0 or -1.
 */
static int
plugin_check(const char *path, const struct mb_plugin *d)
{
	size_t	 i, j;
	int	 bad = 0;

	if (d->version == NULL) {
		error(0, "plugin: %s: the descriptor has no version string",
		    path);
		bad = -1;
	}
	if (d->ncommands > 0 && d->commands == NULL) {
		error(0, "plugin: %s: %zu commands but no command table", path,
		    d->ncommands);
		return -1;
	}
	for (i = 0; i < d->ncommands; i++) {
		const struct mb_command	*c = &d->commands[i];

		if (!plugin_id_ok(c->id)) {
			error(0, "plugin: %s: command %zu: id '%s' is not "
			    "uppercase ASCII ([A-Z_][A-Z0-9_]*, at most %d)",
			    path, i, c->id ? c->id : "(null)", PLUGIN_ID_MAX);
			bad = -1;
			continue;
		}
		if (c->handler == NULL) {
			error(0, "plugin: %s: command %s has no handler", path,
			    c->id);
			bad = -1;
		}
		/* NULL means the host's default, "usage-ID" */
		if (c->usage != NULL && c->usage[0] == '\0') {
			error(0, "plugin: %s: command %s: empty usage template "
			    "name (NULL means usage-%s)", path, c->id, c->id);
			bad = -1;
		}
		if ((c->flags & ~(unsigned)MB_CMD_REGISTERED) != 0) {
			error(0, "plugin: %s: command %s has flags 0x%x this "
			    "marketbox does not know", path, c->id, c->flags);
			bad = -1;
		}
		if ((c->roles & ~(unsigned)MB_ROLE_ANY) != 0) {
			error(0, "plugin: %s: command %s has roles 0x%x this "
			    "marketbox does not know", path, c->id, c->roles);
			bad = -1;
		}
		for (j = 0; j < i; j++)
			if (d->commands[j].id != NULL &&
			    strcmp(d->commands[j].id, c->id) == 0) {
				error(0, "plugin: %s: command %s is registered "
				    "twice by plugin %s", path, c->id,
				    d->name);
				bad = -1;
			}
	}
	if (d->nmigrations > 0 && d->migrations == NULL) {
		error(0, "plugin: %s: %zu migrations but no migration table",
		    path, d->nmigrations);
		return -1;
	}
	for (i = 0; i < d->nmigrations; i++) {
		struct store_migration	 m = plugin_step(d, i);

		if (m.version != (int)i + 1) {
			error(0, "plugin: %s: migration %zu has version %d; "
			    "versions must be 1, 2, 3 ... in order", path, i,
			    m.version);
			bad = -1;
		}
		if (m.sql == NULL || m.sql[0] == '\0') {
			error(0, "plugin: %s: migration %d has no SQL", path,
			    m.version);
			bad = -1;
		}
		/* NULL is the way to say "sql on both engines" */
		if (m.sql_pg != NULL && m.sql_pg[0] == '\0') {
			error(0, "plugin: %s: migration %d has an empty sql_pg "
			    "(NULL runs sql on PostgreSQL too)", path,
			    m.version);
			bad = -1;
		}
	}
	if (d->ntimers > 0 && d->timers == NULL) {
		error(0, "plugin: %s: %zu timers but no timer table", path,
		    d->ntimers);
		return -1;
	}
	for (i = 0; i < d->ntimers; i++) {
		const struct mb_timer	*t = &d->timers[i];
		const char		*name = t->name ? t->name : "(null)";

		if (t->name == NULL || t->name[0] == '\0') {
			error(0, "plugin: %s: timer %zu has no name", path, i);
			bad = -1;
		}
		if (t->run == NULL) {
			error(0, "plugin: %s: timer %s has no function", path,
			    name);
			bad = -1;
		}
		if (t->interval < 1) {
			error(0, "plugin: %s: timer %s: interval %d; it must "
			    "be 1 second or more", path, name, t->interval);
			bad = -1;
		}
	}
	if (d->nconf_keys > 0 && d->conf_keys == NULL) {
		error(0, "plugin: %s: %zu conf keys but no key table", path,
		    d->nconf_keys);
		return -1;
	}
	for (i = 0; i < d->nconf_keys; i++)
		if (d->conf_keys[i] == NULL || d->conf_keys[i][0] == '\0') {
			error(0, "plugin: %s: conf key %zu is empty", path, i);
			bad = -1;
		}
	return bad;
}

/* The plugin with this name in the set, or NULL. */
static struct mb_plugin_ctx *
plugin_find(const struct plugin_set *set, const char *name)
{
	size_t	 i;

	for (i = 0; i < set->n; i++)
		if (strcmp(set->plugins[i]->desc->name, name) == 0)
			return set->plugins[i];
	return NULL;
}

/*
 * Add p's commands to the set's table, refusing ids another plugin has.
 * 0 or -1 (logged); on -1 nothing was added.
 */
static int
plugin_add_commands(struct plugin_set *set, struct mb_plugin_ctx *p)
{
	const struct mb_plugin	 *d = p->desc;
	const struct mb_command	**cmds;
	struct mb_plugin_ctx	**owners;
	const struct mb_command	 *other;
	struct mb_plugin_ctx	 *owner;
	size_t			  i;
	int			  bad = 0;

	for (i = 0; i < d->ncommands; i++) {
		if ((other = plugin_command(set, d->commands[i].id,
		    &owner)) == NULL)
			continue;
		error(0, "plugin: %s: command %s of plugin %s is already "
		    "registered by plugin %s (%s)", p->path, other->id,
		    d->name, owner->desc->name, owner->path);
		bad = -1;
	}
	if (bad)
		return -1;
	if (d->ncommands == 0)
		return 0;
	cmds = realloc(set->cmds, (set->ncmds + d->ncommands) * sizeof(*cmds));
	if (cmds == NULL)
		goto nomem;
	set->cmds = cmds;
	owners = realloc(set->owners,
	    (set->ncmds + d->ncommands) * sizeof(*owners));
	if (owners == NULL)
		goto nomem;
	set->owners = owners;
	for (i = 0; i < d->ncommands; i++) {
		set->cmds[set->ncmds] = &d->commands[i];
		set->owners[set->ncmds] = p;
		set->ncmds++;
	}
	return 0;
nomem:
	error(errno, "plugin: out of memory");
	return -1;
}

/* --- loading -------------------------------------------------------------- */

/*
 * Open one shared object and check its descriptor.  name is the name the
 * conf gives it (NULL when the plugin directory is scanned).  On success
 * the plugin joins the set and 0 is returned; otherwise -1, logged, and
 * the object is closed.
 */
static int
plugin_open(struct plugin_set *set, const char *path, const char *name)
{
	struct mb_plugin_ctx	*p, **all;
	const struct mb_plugin	*d;
	const char		*why;
	size_t			 i;

	if ((p = calloc(1, sizeof(*p))) == NULL ||
	    (p->path = strdup(path)) == NULL) {
		error(errno, "plugin: out of memory");
		free(p);
		return -1;
	}
	p->set = set;
	if ((p->dl = dlopen(path, RTLD_NOW | RTLD_LOCAL)) == NULL) {
		why = dlerror();
		error(0, "plugin: %s: cannot load: %s", path,
		    why ? why : "unknown dlopen error");
		goto fail;
	}
	(void)dlerror();
	d = dlsym(p->dl, MB_PLUGIN_SYMBOL);
	if ((why = dlerror()) != NULL || d == NULL) {
		error(0, "plugin: %s: no symbol %s: not a marketbox plugin "
		    "(%s)", path, MB_PLUGIN_SYMBOL, why ? why : "it is NULL");
		goto fail;
	}
	/* Nothing else of the descriptor is read before these two match. */
	for (i = 0; i < PLUGIN_NABIS && plugin_abis[i].abi != d->abi; i++)
		continue;
	if (i == PLUGIN_NABIS) {
		error(0, "plugin: %s: plugin ABI version %u, but this marketbox "
		    "speaks versions 1 to %d: rebuild the plugin against this "
		    "marketbox's <marketbox/plugin.h>", path, d->abi,
		    MB_PLUGIN_ABI);
		goto fail;
	}
	if (d->size != plugin_abis[i].size) {
		error(0, "plugin: %s: descriptor size %zu, but ABI version %u "
		    "has %zu: was it built against another "
		    "<marketbox/plugin.h>?", path, d->size, d->abi,
		    plugin_abis[i].size);
		goto fail;
	}
	p->desc = d;
	if (!plugin_name_ok(d->name)) {
		error(0, "plugin: %s: plugin name '%s' is not [A-Za-z0-9_-]+ "
		    "(at most %d)", path, d->name ? d->name : "(null)",
		    PLUGIN_NAME_MAX);
		goto fail;
	}
	if (name != NULL && strcmp(name, d->name) != 0) {
		error(0, "plugin: %s: the conf names this plugin '%s' but it "
		    "is plugin '%s'", path, name, d->name);
		goto fail;
	}
	if (plugin_find(set, d->name) != NULL) {
		error(0, "plugin: %s: plugin %s is already loaded from %s",
		    path, d->name, plugin_find(set, d->name)->path);
		goto fail;
	}
	if (plugin_check(path, d) == -1)
		goto fail;
	/* Room first, so that once its commands are in, it joins for sure. */
	if ((all = realloc(set->plugins, (set->n + 1) * sizeof(*all))) == NULL) {
		error(errno, "plugin: out of memory");
		plugin_ctx_free(p);
		return -2;
	}
	set->plugins = all;
	if (plugin_add_commands(set, p) == -1)
		goto fail;
	set->plugins[set->n++] = p;
	info(0, "plugin %s %s loaded from %s (%zu command%s)", d->name,
	    d->version, path, d->ncommands, d->ncommands == 1 ? "" : "s");
	if (d->abi == 1)
		warning(0, "plugin %s: built for plugin ABI 1, which runs on a "
		    "SQLite store only: rebuild it for ABI %d (see "
		    "marketbox-plugin(3))", d->name, MB_PLUGIN_ABI);
	return 0;
fail:
	plugin_ctx_free(p);
	return -1;
}

/*
 * The file of a "group = plugin": module in plugin-dir, or a path (with a
 * '/'; relative to the conf file's directory), with ".so" added when the
 * name has no extension and no file has it as given.  malloc'd, or NULL.
 */
static char *
plugin_path(const struct conf *c, const char *module)
{
	char		*path = NULL, *dir = NULL, *withso;
	const char	*base;
	int		 n;

	if (module[0] == '/')
		path = strdup(module);
	else if (strchr(module, '/') != NULL) {
		if ((dir = strdup(c->path ? c->path : ".")) == NULL)
			return NULL;
		n = asprintf(&path, "%s/%s", dirname(dir), module);
		free(dir);
		if (n == -1)
			path = NULL;
	} else if (asprintf(&path, "%s/%s", c->plugin_dir ? c->plugin_dir :
	    ".", module) == -1)
		path = NULL;
	if (path == NULL)
		return NULL;
	base = strrchr(path, '/') ? strrchr(path, '/') + 1 : path;
	if (strchr(base, '.') == NULL && access(path, F_OK) == -1) {
		if (asprintf(&withso, "%s.so", path) == -1)
			withso = NULL;
		free(path);
		path = withso;
	}
	return path;
}

static int
plugin_dirent_so(const struct dirent *e)
{
	size_t	 n = strlen(e->d_name);

	return e->d_name[0] != '.' && n > 3 &&
	    strcmp(e->d_name + n - 3, ".so") == 0;
}

/* Name order in bytes, whatever the locale. */
static int
plugin_dirent_cmp(const struct dirent **a, const struct dirent **b)
{
	return strcmp((*a)->d_name, (*b)->d_name);
}

/*
 * A plugin-dir with no plugin in it: marketbox would run with none of the
 * commands of the plugins (a wrong --prefix, a plugin-dir left from
 * another install), so say so, at the conf line that names the directory
 * (-n prints it; the daemon logs it).  It is no error: a box may run on
 * its own commands alone.
 */
static void
plugin_dir_empty(const struct conf *c, const char *dir, const char *what)
{
	long	 line = c->path != NULL ? conf_line_of(c->path, "plugin-dir") :
		    0;

	if (line > 0)
		warning(0, "%s:%ld: plugin-dir %s %s: no plugins are loaded "
		    "(make install puts them in %s)", c->path, line, dir, what,
		    MARKETBOX_PLUGIN_DIR);
	else
		warning(0, "%s: plugin-dir %s %s: no plugins are loaded "
		    "(set plugin-dir to where they are installed)",
		    c->path != NULL ? c->path : "conf", dir, what);
}

/* Every *.so in plugin-dir, in name order.  0 or -1 (logged). */
static int
plugin_load_dir(struct plugin_set *set, const struct conf *c,
    const char *dir)
{
	struct dirent	**list = NULL;
	char		 *path;
	int		  i, n, bad = 0;

	if ((n = scandir(dir, &list, plugin_dirent_so,
	    plugin_dirent_cmp)) == -1) {
		if (errno == ENOENT) {
			plugin_dir_empty(c, dir, "does not exist");
			return 0;
		}
		error(errno, "plugin: cannot read the plugin directory %s",
		    dir);
		return -1;
	}
	if (n == 0)
		plugin_dir_empty(c, dir, "holds no plugin (*.so)");
	for (i = 0; i < n; i++) {
		if (bad != -2) {
			if (asprintf(&path, "%s/%s", dir, list[i]->d_name) == -1) {
				error(errno, "plugin: out of memory");
				bad = -2;
			} else {
				int	 rc = plugin_open(set, path, NULL);

				if (rc < bad)
					bad = rc;
				free(path);
			}
		}
		free(list[i]);
	}
	free(list);
	return bad < 0 ? -1 : 0;
}

/*
 * Check the plugin-NAME groups of the conf against the loaded plugins:
 * every group names a loaded plugin, and each of its keys is one that
 * plugin declares.  Copies the values into the plugin.  0 or -1 (logged).
 */
static int
plugin_conf_groups(struct plugin_set *set, const struct conf *c)
{
	struct mb_plugin_ctx	*p;
	size_t			 i, j, k;
	long			 line;
	int			 bad = 0, known;

	for (i = 0; i < c->nplugin_groups; i++) {
		const struct conf_plugin_group *g = &c->plugin_groups[i];

		if ((p = plugin_find(set, g->plugin)) == NULL) {
			error(0, "%s: group plugin-%s: no plugin %s is loaded "
			    "(is it missing from the plugin groups or "
			    "plugin-dir?)", g->file ? g->file : c->path,
			    g->plugin, g->plugin);
			bad = -1;
			continue;
		}
		for (j = 0; j < g->n; j++) {
			known = 0;
			for (k = 0; k < p->desc->nconf_keys && !known; k++)
				known = strcmp(p->desc->conf_keys[k],
				    g->keys[j]) == 0;
			if (known)
				continue;
			line = g->file ? conf_line_of(g->file, g->keys[j]) : 0;
			if (line > 0)
				error(0, "%s:%ld: plugin-%s: unknown key '%s' "
				    "(plugin %s from %s)", g->file, line,
				    g->plugin, g->keys[j], g->plugin, p->path);
			else
				error(0, "%s: plugin-%s: unknown key '%s' "
				    "(plugin %s from %s)",
				    g->file ? g->file : c->path, g->plugin,
				    g->keys[j], g->plugin, p->path);
			bad = -1;
		}
		if (bad || g->n == 0)
			continue;
		p->keys = calloc(g->n, sizeof(*p->keys));
		p->values = calloc(g->n, sizeof(*p->values));
		if (p->keys == NULL || p->values == NULL) {
			error(errno, "plugin: out of memory");
			return -1;
		}
		for (j = 0; j < g->n; j++) {
			p->keys[j] = strdup(g->keys[j]);
			p->values[j] = strdup(g->values[j] ? g->values[j] : "");
			p->nkeys++;
			if (p->keys[j] == NULL || p->values[j] == NULL) {
				error(errno, "plugin: out of memory");
				return -1;
			}
		}
	}
	return bad;
}

struct plugin_set *
plugin_load(const struct conf *c)
{
	struct plugin_set	*set;
	size_t			 i;
	char			*path;
	int			 bad = 0, rc;

	if ((set = calloc(1, sizeof(*set))) == NULL) {
		error(errno, "plugin: out of memory");
		return NULL;
	}
	if (c->nplugins == 0 && c->plugin_dir != NULL)
		bad = plugin_load_dir(set, c, c->plugin_dir);
	for (i = 0; i < c->nplugins && bad != -2; i++) {
		const struct conf_plugin *cp = &c->plugins[i];

		if (cp->name == NULL || cp->module == NULL ||
		    cp->module[0] == '\0') {
			error(0, "%s: a plugin group without a name or module",
			    c->path);
			bad = -1;
			continue;
		}
		if ((path = plugin_path(c, cp->module)) == NULL) {
			error(errno, "plugin: out of memory");
			bad = -2;
			break;
		}
		if ((rc = plugin_open(set, path, cp->name)) < bad)
			bad = rc;
		free(path);
	}
	/* With a plugin missing, its group would only add noise. */
	if (bad == 0)
		bad = plugin_conf_groups(set, c);
	if (bad != 0) {
		error(0, "plugin: the plugin set is refused: marketbox does not "
		    "run with some of its plugins missing");
		plugin_free(set);
		return NULL;
	}
	return set;
}

/* --- starting ------------------------------------------------------------- */

/*
 * Timers across instances.  Every instance on a shared database ticks
 * each timer; a run is claimed in timer_runs (key "<plugin>/<timer>"),
 * in the unit of work of the run itself, so a run that fails gives its
 * claim back with the rest and the next tick, here or elsewhere, tries
 * again.  A run is due when the last one is at least the interval old,
 * less a slack (ticks of two instances, or a run that waited for the task
 * thread, fall a little before the interval), or is more than an
 * interval in the future (the clock went back).
 *
 * On PostgreSQL the claim must not wait for another instance: group
 * commit keeps its transaction, and so its lock on the row, open for a
 * while, and a unit waiting on it could close a cycle with that
 * instance's own units.  A transaction-scoped advisory lock on the key,
 * tried and not waited for, is taken first: whoever holds it holds the
 * run until its transaction ends, and everyone else skips the tick.  The
 * row, written only under that lock, is then never locked by another.
 *
 * A SQLite file has one marketbox: no claim, and no statement, there.
 */
#define PLUGIN_TIMER_LOCK_CLASS	"1835168877"	/* "mbtm" in ASCII */

static const char plugin_sql_timer_lock[] =
    "SELECT CASE WHEN pg_try_advisory_xact_lock(" PLUGIN_TIMER_LOCK_CLASS
    ", hashtext($1)) THEN 1 ELSE 0 END";
static const char plugin_sql_timer_claim[] =
    "INSERT INTO timer_runs (name, last_run, owner) VALUES ($1, $2, $3)"
    " ON CONFLICT (name) DO UPDATE SET last_run = excluded.last_run,"
    " owner = excluded.owner"
    " WHERE timer_runs.last_run <= excluded.last_run - $4"
    " OR timer_runs.last_run > excluded.last_run + $5";

/* Seconds a run may fall short of the interval and still be due. */
static int
plugin_timer_slack(int interval)
{
	int	 slack = interval / 10;

	if (slack < 1 && interval > 1)
		slack = 1;
	return slack;
}

/*
 * Claim t's run at t->now inside the unit of work open now: 1 claimed, 0
 * another instance ran it lately or is running it, -1 a store failure
 * (logged; the unit is rolled back).
 */
static int
plugin_timer_claim(struct plugin_set *set, struct plugin_timer *t)
{
	struct store		*s = set->store;
	struct store_stmt	*st;
	char			 key[200];
	int			 interval = t->timer->interval, rc;
	long long		 got;

	snprintf(key, sizeof(key), "%s/%s", t->pctx->desc->name,
	    t->timer->name);
	if ((st = store_query(s, plugin_sql_timer_lock)) == NULL ||
	    store_bind_text(st, 1, key) == -1 ||
	    (rc = store_step(st)) != STORE_ROW) {
		store_done(st);
		return -1;
	}
	got = store_int(st, 0);
	store_done(st);
	if (got != 1)
		return 0;
	if ((st = store_query(s, plugin_sql_timer_claim)) == NULL ||
	    store_bind_text(st, 1, key) == -1 ||
	    store_bind_int(st, 2, t->now) == -1 ||
	    store_bind_text(st, 3, set->instance) == -1 ||
	    store_bind_int(st, 4,
	    interval - plugin_timer_slack(interval)) == -1 ||
	    store_bind_int(st, 5, interval) == -1 ||
	    (rc = store_step(st)) != STORE_DONE) {
		store_done(st);
		return -1;
	}
	store_done(st);
	return store_changes(s) == 1;
}

/* What the core runs in the unit of work: the claim, then the timer. */
static int
plugin_timer_run(struct mb_plugin_ctx *p, const struct mb_host *host)
{
	struct plugin_timer	*t = p->current;
	struct plugin_set	*set = p->set;
	int			 rc;

	if (set->store != NULL && store_shared(set->store)) {
		if ((rc = plugin_timer_claim(set, t)) == -1) {
			error(0, "plugin %s: timer %s: its run cannot be "
			    "claimed", p->desc->name, t->timer->name);
			return MB_FAIL;
		}
		if (rc == 0) {
			t->outcome = PLUGIN_TIMER_ELSEWHERE;
			return MB_OK;
		}
	}
	t->outcome = PLUGIN_TIMER_RAN;
	return t->timer->run(p, host);
}

/* A plugin's timer, as a store task (store.h). */
static void
plugin_timer_task(void *arg)
{
	struct plugin_timer	*t = arg;
	struct mb_plugin_ctx	*p = t->pctx;
	const struct plugin_env	*env = &p->set->env;
	int			 rc;

	if (t->now == 0)
		t->now = (long long)time(NULL);
	t->outcome = PLUGIN_TIMER_FAILED;
	p->current = t;
	rc = env->run_timer(env->arg, p, plugin_timer_run);
	p->current = NULL;
	t->now = 0;
	if (rc != MB_OK) {
		t->outcome = PLUGIN_TIMER_FAILED;
		warning(0, "plugin %s: timer %s failed (%d); it runs again in "
		    "%d s", p->desc->name, t->timer->name, rc,
		    t->timer->interval);
	} else if (t->outcome == PLUGIN_TIMER_ELSEWHERE)
		debug("mb.plugin", 0, "plugin %s: timer %s: run by another "
		    "instance", p->desc->name, t->timer->name);
	else
		debug("mb.plugin", 0, "plugin %s: timer %s", p->desc->name,
		    t->timer->name);
	t->running = 0;
}

int
plugin_run_timer(struct plugin_set *set, const char *plugin,
    const char *timer, long long now)
{
	struct mb_plugin_ctx	*p;
	struct plugin_timer	*t;
	size_t			 i, j;

	for (i = 0; set != NULL && i < set->n; i++) {
		p = set->plugins[i];
		if (strcmp(p->desc->name, plugin) != 0)
			continue;
		for (j = 0; j < p->ntimers; j++) {
			t = &p->timers[j];
			if (strcmp(t->timer->name, timer) != 0 ||
			    t->running)
				continue;
			t->running = 1;
			t->now = now;
			plugin_timer_task(t);
			return t->outcome == PLUGIN_TIMER_RAN ? 1 :
			    t->outcome == PLUGIN_TIMER_ELSEWHERE ? 0 : -1;
		}
	}
	error(0, "plugin: no timer %s/%s to run", plugin, timer);
	return -1;
}

static void
plugin_timer_cb(evutil_socket_t fd, short what, void *arg)
{
	struct plugin_timer	*t = arg;
	struct plugin_set	*set = t->pctx->set;

	(void)fd;
	(void)what;
	/* A run still waiting for the database: this tick is skipped. */
	if (t->running)
		return;
	t->running = 1;
	if (set->store == NULL)
		plugin_timer_task(t);
	else if (store_task(set->store, plugin_timer_task, t) == -1)
		t->running = 0;
}

/* Apply p's own migrations, owner = its name. */
static int
plugin_migrate(struct mb_plugin_ctx *p, struct store *store)
{
	const struct mb_plugin	*d = p->desc;
	struct store_migration	*steps;
	size_t			 i;
	int			 rc;

	if (d->nmigrations == 0)
		return 0;
	if (store == NULL) {
		error(0, "plugin %s: has migrations but no store was given",
		    d->name);
		return -1;
	}
	if ((steps = calloc(d->nmigrations, sizeof(*steps))) == NULL) {
		error(errno, "plugin: out of memory");
		return -1;
	}
	for (i = 0; i < d->nmigrations; i++)
		steps[i] = plugin_step(d, i);
	rc = store_migrate(store, d->name, steps, d->nmigrations);
	free(steps);
	if (rc == -1)
		error(0, "plugin %s (%s): its tables could not be migrated",
		    d->name, p->path);
	return rc;
}

static int
plugin_start_timers(struct mb_plugin_ctx *p, struct event_base *base)
{
	const struct mb_plugin	*d = p->desc;
	struct timeval		 tv;
	size_t			 i;

	if (d->ntimers == 0)
		return 0;
	if ((p->timers = calloc(d->ntimers, sizeof(*p->timers))) == NULL) {
		error(errno, "plugin: out of memory");
		return -1;
	}
	p->ntimers = d->ntimers;
	for (i = 0; i < d->ntimers; i++) {
		struct plugin_timer	*t = &p->timers[i];

		t->pctx = p;
		t->timer = &d->timers[i];
		tv.tv_sec = t->timer->interval;
		tv.tv_usec = 0;
		if ((t->ev = event_new(base, -1, EV_PERSIST, plugin_timer_cb,
		    t)) == NULL || event_add(t->ev, &tv) == -1) {
			error(0, "plugin %s: cannot start timer %s", d->name,
			    t->timer->name);
			return -1;
		}
		debug("mb.plugin", 0, "plugin %s: timer %s every %d s",
		    d->name, t->timer->name, t->timer->interval);
	}
	return 0;
}

int
plugin_start(struct plugin_set *set, struct store *store,
    struct event_base *base, const struct plugin_env *env)
{
	struct mb_plugin_ctx	*p;
	size_t			 i;
	int			 rc;

	if (set == NULL || env == NULL || env->host == NULL) {
		error(0, "plugin: started without a host table");
		return -1;
	}
	if (set->started) {
		error(0, "plugin: the plugin set is started twice");
		return -1;
	}
	set->env = *env;
	set->store = store;
	set->started = 1;
	if (store != NULL &&
	    plugin_check_engine(set, store_engine(store)) == -1)
		return -1;
	for (i = 0; i < set->n; i++) {
		p = set->plugins[i];
		if (plugin_host(p) == NULL) {
			error(0, "plugin %s (%s): this marketbox has no host "
			    "table for plugin ABI %u", p->desc->name, p->path,
			    p->desc->abi);
			return -1;
		}
	}
	for (i = 0; i < set->n; i++) {
		p = set->plugins[i];
		if (plugin_migrate(p, store) == -1)
			return -1;
		if (p->desc->init != NULL &&
		    (rc = p->desc->init(p, plugin_host(p))) != MB_OK) {
			error(0, "plugin %s (%s): init failed (it returned %d): "
			    "marketbox does not start", p->desc->name, p->path,
			    rc);
			return -1;
		}
		p->started = 1;
	}
	/* Timers only once every plugin is ready: none runs in a refused set. */
	if (base == NULL)
		return 0;
	if (env->run_timer == NULL) {
		debug("mb.plugin", 0, "plugin: no timer runner: timers off");
		return 0;
	}
	for (i = 0; i < set->n; i++)
		if (plugin_start_timers(set->plugins[i], base) == -1)
			return -1;
	return 0;
}

int
plugin_migrate_all(struct plugin_set *set, struct store *store)
{
	size_t	 i;

	if (plugin_check_engine(set, store_engine(store)) == -1)
		return -1;
	for (i = 0; i < set->n; i++)
		if (plugin_migrate(set->plugins[i], store) == -1)
			return -1;
	return 0;
}

int
plugin_check_engine(const struct plugin_set *set, const char *engine)
{
	const struct mb_plugin_ctx	*p;
	size_t				 i;
	int				 bad = 0;

	if (set == NULL || engine == NULL || strcmp(engine, "sqlite") == 0)
		return 0;
	for (i = 0; i < set->n; i++) {
		p = set->plugins[i];
		if (p->desc->abi != 1)
			continue;
		error(0, "plugin %s (%s): built for plugin ABI 1, which hands "
		    "plugins SQLite's own handle and statements, so it cannot "
		    "run on a %s store: rebuild it for ABI %d (the store "
		    "functions of <marketbox/plugin.h>, see "
		    "marketbox-plugin(3)), or keep the store on SQLite",
		    p->desc->name, p->path, engine, MB_PLUGIN_ABI);
		bad = -1;
	}
	if (bad)
		error(0, "plugin: the plugin set is refused: marketbox does not "
		    "run with some of its plugins missing");
	return bad;
}

const struct mb_host *
plugin_host(const struct mb_plugin_ctx *p)
{
	if (p == NULL || p->set == NULL || !p->set->started)
		return NULL;
	return p->desc->abi == 1 ? p->set->env.host_abi1 : p->set->env.host;
}

/* --- lookups -------------------------------------------------------------- */

const struct mb_command *
plugin_command(const struct plugin_set *set, const char *id,
    struct mb_plugin_ctx **pctx)
{
	size_t	 i;

	if (pctx != NULL)
		*pctx = NULL;
	if (set == NULL || id == NULL)
		return NULL;
	for (i = 0; i < set->ncmds; i++)
		if (strcmp(set->cmds[i]->id, id) == 0) {
			if (pctx != NULL)
				*pctx = set->owners[i];
			return set->cmds[i];
		}
	return NULL;
}

size_t
plugin_commands(const struct plugin_set *set, const struct mb_command ***cmds)
{
	if (set == NULL) {
		if (cmds != NULL)
			*cmds = NULL;
		return 0;
	}
	if (cmds != NULL)
		*cmds = set->cmds;
	return set->ncmds;
}

size_t
plugin_count(const struct plugin_set *set)
{
	return set != NULL ? set->n : 0;
}

const struct mb_plugin *
plugin_at(const struct plugin_set *set, size_t i)
{
	if (set == NULL || i >= set->n)
		return NULL;
	return set->plugins[i]->desc;
}

const char *
plugin_conf_value(struct mb_plugin_ctx *p, const char *key)
{
	size_t	 i;

	if (p == NULL || key == NULL)
		return NULL;
	for (i = 0; i < p->nkeys; i++)
		if (strcmp(p->keys[i], key) == 0)
			return p->values[i];
	return NULL;
}

void *
plugin_state(struct mb_plugin_ctx *p)
{
	return p != NULL ? p->state : NULL;
}

void
plugin_set_state(struct mb_plugin_ctx *p, void *state)
{
	if (p != NULL)
		p->state = state;
}

struct mb_ctx *
plugin_timer_ctx(struct mb_plugin_ctx *p)
{
	return p != NULL ? p->timer_ctx : NULL;
}

void
plugin_set_timer_ctx(struct mb_plugin_ctx *p, struct mb_ctx *ctx)
{
	if (p != NULL)
		p->timer_ctx = ctx;
}
