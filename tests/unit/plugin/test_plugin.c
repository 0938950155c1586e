/*
 * test_plugin.c - plugin.c, the loader: the test plugins in tests/plugins/
 * (built as libtool modules by `make check`) loaded, refused with the right
 * message (wrong ABI, wrong size, no symbol, a duplicate command, a bad id,
 * a gap in migrations, an unknown conf key, a failing init), migrated,
 * started, timed and unloaded in order; an ABI 1 plugin (built against the
 * frozen ABI 1 header) loaded, migrated and run on SQLite with the host
 * table that has ABI 1's SQLite slots, and refused on another engine.
 */
#include "config.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <criterion/criterion.h>
#include <event2/event.h>

#include "base/gw.h"

#include "base/conf.h"
#include "plugin/core.h"
#include "marketbox-plugin.h"
#include "plugin/plugin.h"
#include "store/store.h"

#define PLUGINS		TEST_BUILDDIR "/tests/plugins/.libs"
#define PLUGIN(name)	PLUGINS "/" name ".so"

static char	dir[] = "/tmp/test_plugin_XXXXXX";
static char	logpath[512];

/* What plugins wrote through host->log, one line each. */
static char	hostlog[65536];

static void
setup(void)
{
	gwlib_init();
	log_set_output_level(GW_PANIC);
	cr_assert_not_null(mkdtemp(dir));
	snprintf(logpath, sizeof(logpath), "%s/log", dir);
	cr_assert(log_open(logpath, GW_DEBUG, GW_NON_EXCL) != -1);
	hostlog[0] = '\0';
}

static void
teardown(void)
{
	char	 cmd[600];

	gwlib_shutdown();
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	if (system(cmd) != 0)
		fprintf(stderr, "cannot remove %s\n", dir);
}

TestSuite(plugin, .init = setup, .fini = teardown);

/* Everything the loader logged so far (caller frees). */
static char *
logged(void)
{
	FILE	*fp = fopen(logpath, "r");
	char	*buf = calloc(1, 65536);
	size_t	 n;

	cr_assert(fp != NULL && buf != NULL);
	n = fread(buf, 1, 65535, fp);
	buf[n] = '\0';
	fclose(fp);
	return buf;
}

static void
assert_logged(const char *needle)
{
	char	*log = logged();

	cr_assert(strstr(log, needle) != NULL, "log lacks '%s':\n%s", needle,
	    log);
	free(log);
}

/* --- a conf built by hand: only what plugin.c reads ----------------------- */

static char *
xstrdup(const char *s)
{
	char	*d = s ? strdup(s) : NULL;

	cr_assert(s == NULL || d != NULL);
	return d;
}

static struct conf *
conf_make(const char *plugin_dir)
{
	struct conf	*c = calloc(1, sizeof(*c));
	char		 path[600];

	cr_assert_not_null(c);
	snprintf(path, sizeof(path), "%s/marketbox.conf", dir);
	c->path = xstrdup(path);
	c->plugin_dir = xstrdup(plugin_dir ? plugin_dir : PLUGINS);
	return c;
}

static void
conf_add_plugin(struct conf *c, const char *name, const char *module)
{
	struct conf_plugin	*p;

	p = realloc(c->plugins, (c->nplugins + 1) * sizeof(*p));
	cr_assert_not_null(p);
	c->plugins = p;
	c->plugins[c->nplugins].name = xstrdup(name);
	c->plugins[c->nplugins].module = xstrdup(module);
	c->nplugins++;
}

/*
 * A "group = plugin-NAME" with keys and values (NULL-terminated pairs),
 * written to a file of its own as conf.c would have read it.
 */
static void
conf_add_group(struct conf *c, const char *plugin, ...)
{
	struct conf_plugin_group	*g;
	const char			*k, *v;
	char				 path[600];
	FILE				*fp;
	va_list				 ap;

	g = realloc(c->plugin_groups, (c->nplugin_groups + 1) * sizeof(*g));
	cr_assert_not_null(g);
	c->plugin_groups = g;
	g = &c->plugin_groups[c->nplugin_groups++];
	memset(g, 0, sizeof(*g));
	g->plugin = xstrdup(plugin);
	snprintf(path, sizeof(path), "%s/plugin-%s.conf", dir, plugin);
	g->file = xstrdup(path);
	cr_assert_not_null(fp = fopen(path, "w"));
	fprintf(fp, "# settings of plugin %s\n\ngroup = plugin-%s\n", plugin,
	    plugin);
	va_start(ap, plugin);
	while ((k = va_arg(ap, const char *)) != NULL) {
		v = va_arg(ap, const char *);
		g->keys = realloc(g->keys, (g->n + 1) * sizeof(char *));
		g->values = realloc(g->values, (g->n + 1) * sizeof(char *));
		cr_assert(g->keys != NULL && g->values != NULL);
		g->keys[g->n] = xstrdup(k);
		g->values[g->n] = xstrdup(v);
		g->n++;
		fprintf(fp, "%s = %s\n", k, v);
	}
	va_end(ap);
	fclose(fp);
}

static void
conf_drop(struct conf *c)
{
	size_t	 i, j;

	for (i = 0; i < c->nplugins; i++) {
		free(c->plugins[i].name);
		free(c->plugins[i].module);
	}
	free(c->plugins);
	for (i = 0; i < c->nplugin_groups; i++) {
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
	free(c->plugin_dir);
	free(c->path);
	free(c);
}

/* Load with plugins given as NULL-terminated name, module pairs. */
static struct plugin_set *
load(struct conf **cp, ...)
{
	struct conf		*c = conf_make(NULL);
	const char		*name, *module;
	va_list			 ap;

	va_start(ap, cp);
	while ((name = va_arg(ap, const char *)) != NULL) {
		module = va_arg(ap, const char *);
		conf_add_plugin(c, name, module);
	}
	va_end(ap);
	*cp = c;
	return plugin_load(c);
}

/* Loading plugins (name, module pairs) must fail and log needle. */
static void
assert_refused(const char *needle, ...)
{
	struct conf		*c = conf_make(NULL);
	struct plugin_set	*set;
	const char		*name, *module;
	va_list			 ap;

	va_start(ap, needle);
	while ((name = va_arg(ap, const char *)) != NULL) {
		module = va_arg(ap, const char *);
		conf_add_plugin(c, name, module);
	}
	va_end(ap);
	set = plugin_load(c);
	cr_assert_null(set, "the set was accepted");
	assert_logged(needle);
	assert_logged("the plugin set is refused");
	conf_drop(c);
}

/* --- a host with what the test plugins use --------------------------------- */

static struct mb_ctx	*timer_ctx_value;

static void test_host_log(struct mb_ctx *, int, const char *, ...)
    __attribute__((format(printf, 3, 4)));

static void
test_host_log(struct mb_ctx *ctx, int level, const char *fmt, ...)
{
	size_t	 n = strlen(hostlog);
	va_list	 ap;

	(void)ctx;
	(void)level;
	va_start(ap, fmt);
	vsnprintf(hostlog + n, sizeof(hostlog) - n - 1, fmt, ap);
	va_end(ap);
	n = strlen(hostlog);
	hostlog[n] = '\n';
	hostlog[n + 1] = '\0';
}

static const char *
test_host_conf(struct mb_plugin_ctx *pctx, const char *key)
{
	return plugin_conf_value(pctx, key);
}

static void *
test_host_state(struct mb_plugin_ctx *pctx)
{
	return plugin_state(pctx);
}

static void
test_host_set_state(struct mb_plugin_ctx *pctx, void *state)
{
	plugin_set_state(pctx, state);
}

static struct mb_ctx *
test_host_timer_ctx(struct mb_plugin_ctx *pctx)
{
	return plugin_timer_ctx(pctx);
}

static const struct mb_host test_host = {
	.abi = MB_PLUGIN_ABI,
	.size = sizeof(struct mb_host),
	.log = test_host_log,
	.conf = test_host_conf,
	.state = test_host_state,
	.set_state = test_host_set_state,
	.timer_ctx = test_host_timer_ctx,
};

/* The core's side of a timer run: a context around fn, then a count. */
static int		 timer_runs;
static int		 timer_stop_after;
static struct event_base *timer_base;

static int
test_run_timer(void *arg, struct mb_plugin_ctx *pctx,
    int (*fn)(struct mb_plugin_ctx *, const struct mb_host *))
{
	int	 rc;

	cr_assert_eq(arg, &timer_runs);
	plugin_set_timer_ctx(pctx, timer_ctx_value);
	rc = fn(pctx, &test_host);
	plugin_set_timer_ctx(pctx, NULL);
	timer_runs++;
	if (timer_runs >= timer_stop_after)
		event_base_loopbreak(timer_base);
	return rc;
}

static const struct plugin_env test_env = {
	.host = &test_host,
	.host_abi1 = &test_host,
	.run_timer = test_run_timer,
	.arg = &timer_runs,
};

static struct store *
open_store(void)
{
	char		 path[600];
	struct store	*s;

	snprintf(path, sizeof(path), "%s/mb.db", dir);
	cr_assert_not_null(s = store_open(path, NULL));
	return s;
}

static long long
query(struct store *s, const char *sql)
{
	sqlite3_stmt	*st;
	long long	 v = -1;

	cr_assert_eq(sqlite3_prepare_v2(store_db(s), sql, -1, &st, NULL),
	    SQLITE_OK, "%s", sqlite3_errmsg(store_db(s)));
	if (sqlite3_step(st) == SQLITE_ROW)
		v = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	return v;
}

/* --- loading ------------------------------------------------------------- */

Test(plugin, loads_a_good_plugin)
{
	struct conf			*c;
	struct plugin_set		*set;
	const struct mb_command		**cmds, *cmd;
	struct mb_plugin_ctx		*pctx = (void *)1;

	set = load(&c, "migrate", PLUGIN("migrate"), NULL);
	cr_assert_not_null(set);
	cr_assert_eq(plugin_count(set), 1);
	cr_assert_str_eq(plugin_at(set, 0)->name, "migrate");
	cr_assert_str_eq(plugin_at(set, 0)->version, "2.0");
	cr_assert_null(plugin_at(set, 1));
	cr_assert_eq(plugin_commands(set, &cmds), 2);
	cr_assert_str_eq(cmds[0]->id, "ITEMS");
	cr_assert_str_eq(cmds[1]->id, "MY_ITEMS2");
	cmd = plugin_command(set, "ITEMS", &pctx);
	cr_assert_not_null(cmd);
	cr_assert_str_eq(cmd->usage, "usage-items");
	cr_assert_eq(cmd->flags, MB_CMD_REGISTERED);
	cr_assert_eq(cmd->roles, MB_ROLE_FARMER);
	cr_assert_not_null(pctx);
	cr_assert_eq(plugin_command(set, "MY_ITEMS2", NULL), cmds[1]);
	cr_assert_null(plugin_command(set, "items", &pctx));
	cr_assert_null(pctx);
	cr_assert_null(plugin_command(set, "NOPE", NULL));
	assert_logged("plugin migrate 2.0 loaded from " PLUGIN("migrate"));
	plugin_free(set);
	conf_drop(c);
}

Test(plugin, wrong_abi_version_is_refused)
{
	/* bad_abi is MB_PLUGIN_ABI + 1: ABI 3, which no marketbox speaks yet */
	assert_refused("plugin: " PLUGIN("bad_abi") ": plugin ABI version 3, "
	    "but this marketbox speaks versions 1 to 2",
	    "bad-abi", PLUGIN("bad_abi"), NULL);
}

Test(plugin, wrong_descriptor_size_is_refused)
{
	char	 want[256];

	snprintf(want, sizeof(want), "plugin: %s: descriptor size %zu, but ABI "
	    "version 2 has %zu", PLUGIN("bad_size"),
	    sizeof(struct mb_plugin) - sizeof(void *), sizeof(struct mb_plugin));
	assert_refused(want, "bad-size", PLUGIN("bad_size"), NULL);
}

Test(plugin, abi1_descriptor_of_another_size_is_refused)
{
	char	 want[256];

	/* ABI 1's descriptor had the layout and size ABI 2's has */
	snprintf(want, sizeof(want), "plugin: %s: descriptor size %zu, but ABI "
	    "version 1 has %zu", PLUGIN("abi1_bad_size"),
	    sizeof(struct mb_plugin) + sizeof(void *), sizeof(struct mb_plugin));
	assert_refused(want, "abi1-bad-size", PLUGIN("abi1_bad_size"), NULL);
}

Test(plugin, abi1_plugin_loads)
{
	struct conf		*c;
	struct plugin_set	*set;

	set = load(&c, "abi1", PLUGIN("abi1"), "migrate", PLUGIN("migrate"),
	    NULL);
	cr_assert_not_null(set);
	cr_assert_eq(plugin_count(set), 2);
	cr_assert_eq(plugin_at(set, 0)->abi, 1);
	cr_assert_eq(plugin_at(set, 1)->abi, MB_PLUGIN_ABI);
	cr_assert_not_null(plugin_command(set, "NOTE", NULL));
	assert_logged("plugin abi1 1.0 loaded from " PLUGIN("abi1"));
	assert_logged("plugin abi1: built for plugin ABI 1, which runs on a "
	    "SQLite store only");
	plugin_free(set);
	conf_drop(c);
}

Test(plugin, missing_symbol_is_refused)
{
	assert_refused("plugin: " PLUGIN("no_symbol") ": no symbol "
	    "marketbox_plugin: not a marketbox plugin",
	    "no-symbol", PLUGIN("no_symbol"), NULL);
}

Test(plugin, duplicate_command_is_refused)
{
	assert_refused("plugin: " PLUGIN("dup_b") ": command PING of plugin "
	    "dup-b is already registered by plugin dup-a (" PLUGIN("dup_a")
	    ")", "dup-a", PLUGIN("dup_a"), "dup-b", PLUGIN("dup_b"), NULL);
}

Test(plugin, missing_file_is_refused)
{
	assert_refused("plugin: /nonexistent/ghost.so: cannot load: ",
	    "ghost", "/nonexistent/ghost.so", NULL);
}

Test(plugin, lowercase_command_id_is_refused)
{
	assert_refused("plugin: " PLUGIN("bad_command") ": command 0: id "
	    "'sell' is not uppercase ASCII",
	    "bad-command", PLUGIN("bad_command"), NULL);
}

Test(plugin, migration_gap_is_refused)
{
	assert_refused("plugin: " PLUGIN("bad_migration") ": migration 1 has "
	    "version 3; versions must be 1, 2, 3 ... in order",
	    "bad-migration", PLUGIN("bad_migration"), NULL);
}

Test(plugin, conf_name_must_match)
{
	assert_refused("plugin: " PLUGIN("migrate") ": the conf names this "
	    "plugin 'items' but it is plugin 'migrate'",
	    "items", PLUGIN("migrate"), NULL);
}

Test(plugin, same_plugin_twice_is_refused)
{
	assert_refused("plugin: " PLUGINS "/migrate.so: plugin migrate is "
	    "already loaded from " PLUGIN("migrate"),
	    "migrate", PLUGIN("migrate"), "migrate", "migrate.so", NULL);
}

Test(plugin, one_bad_plugin_refuses_the_set)
{
	assert_refused("plugin ABI version 3",
	    "migrate", PLUGIN("migrate"), "dup-a", PLUGIN("dup_a"),
	    "bad-abi", PLUGIN("bad_abi"), NULL);
	/* the good ones were loaded first, then dropped */
	assert_logged("plugin dup-a 1 loaded");
}

Test(plugin, every_problem_is_reported)
{
	assert_refused("plugin ABI version 3",
	    "bad-abi", PLUGIN("bad_abi"), "no-symbol", PLUGIN("no_symbol"),
	    NULL);
	assert_logged("no symbol marketbox_plugin");
}

Test(plugin, module_names)
{
	struct conf		*c;
	struct plugin_set	*set;

	/* a file in plugin-dir, with and without ".so" */
	set = load(&c, "migrate", "migrate", "dup-a", "dup_a.so", NULL);
	cr_assert_not_null(set);
	cr_assert_eq(plugin_count(set), 2);
	assert_logged("loaded from " PLUGINS "/migrate.so");
	plugin_free(set);
	conf_drop(c);

	/* a relative path: from the conf file's directory */
	c = conf_make("/nonexistent");
	free(c->path);
	c->path = xstrdup(TEST_BUILDDIR "/tests/marketbox.conf");
	conf_add_plugin(c, "dup-a", "plugins/.libs/dup_a.so");
	set = plugin_load(c);
	cr_assert_not_null(set);
	cr_assert_str_eq(plugin_at(set, 0)->name, "dup-a");
	assert_logged("loaded from " TEST_BUILDDIR
	    "/tests/plugins/.libs/dup_a.so");
	plugin_free(set);
	conf_drop(c);
}

/* --- the plugin directory ---------------------------------------------------- */

static void
link_plugin(const char *target, const char *name)
{
	char	 path[600];

	snprintf(path, sizeof(path), "%s/plugins/%s", dir, name);
	cr_assert_eq(symlink(target, path), 0, "%s", path);
}

static struct conf *
conf_with_dir(void)
{
	char	 pdir[600];

	snprintf(pdir, sizeof(pdir), "%s/plugins", dir);
	cr_assert_eq(mkdir(pdir, 0700), 0);
	return conf_make(pdir);
}

Test(plugin, directory_in_name_order)
{
	struct conf		*c = conf_with_dir();
	struct plugin_set	*set;
	char			 path[600];
	FILE			*fp;

	link_plugin(PLUGIN("migrate"), "20-migrate.so");
	link_plugin(PLUGIN("dup_a"), "10-dup-a.so");
	/* neither is looked at */
	link_plugin(PLUGIN("bad_abi"), ".hidden.so");
	snprintf(path, sizeof(path), "%s/plugins/README", dir);
	cr_assert_not_null(fp = fopen(path, "w"));
	fclose(fp);
	set = plugin_load(c);
	cr_assert_not_null(set);
	cr_assert_eq(plugin_count(set), 2);
	cr_assert_str_eq(plugin_at(set, 0)->name, "dup-a");
	cr_assert_str_eq(plugin_at(set, 1)->name, "migrate");
	plugin_free(set);
	conf_drop(c);
}

Test(plugin, directory_with_a_bad_plugin)
{
	struct conf	*c = conf_with_dir();

	link_plugin(PLUGIN("migrate"), "a.so");
	link_plugin(PLUGIN("no_symbol"), "b.so");
	cr_assert_null(plugin_load(c));
	assert_logged("plugins/b.so: no symbol marketbox_plugin");
	conf_drop(c);
}

Test(plugin, empty_or_missing_directory)
{
	struct conf		*c = conf_with_dir();
	struct plugin_set	*set;
	const struct mb_command	**cmds;

	cr_assert_not_null(set = plugin_load(c));
	cr_assert_eq(plugin_count(set), 0);
	cr_assert_eq(plugin_commands(set, &cmds), 0);
	/* a warning: marketbox would run without the plugins' commands */
	assert_logged("WARNING: ");
	assert_logged("holds no plugin (*.so): no plugins are loaded");
	plugin_free(set);
	conf_drop(c);

	c = conf_make("/nonexistent/plugins");
	cr_assert_not_null(set = plugin_load(c));
	cr_assert_eq(plugin_count(set), 0);
	assert_logged("plugin-dir /nonexistent/plugins does not exist: no "
	    "plugins are loaded");
	plugin_free(set);
	conf_drop(c);
}

/* --- conf groups -------------------------------------------------------------- */

Test(plugin, conf_group_values)
{
	struct conf		*c = conf_make(NULL);
	struct plugin_set	*set;
	struct mb_plugin_ctx	*pctx;

	conf_add_plugin(c, "migrate", "migrate");
	conf_add_group(c, "migrate", "greeting", "Habari yako", NULL);
	cr_assert_not_null(set = plugin_load(c));
	/* the values were copied: the conf may go (a reload frees it) */
	conf_drop(c);
	cr_assert_not_null(plugin_command(set, "ITEMS", &pctx));
	cr_assert_str_eq(plugin_conf_value(pctx, "greeting"), "Habari yako");
	cr_assert_null(plugin_conf_value(pctx, "limit"));
	cr_assert_null(plugin_conf_value(pctx, "nope"));
	cr_assert_null(plugin_conf_value(pctx, NULL));
	cr_assert_null(plugin_conf_value(NULL, "greeting"));
	cr_assert_eq(plugin_start(set, NULL, NULL, &test_env), -1,
	    "migrations need a store");
	plugin_free(set);
}

Test(plugin, unknown_conf_key_is_refused)
{
	struct conf	*c = conf_make(NULL);
	char		 want[700];

	conf_add_plugin(c, "migrate", "migrate");
	conf_add_group(c, "migrate", "greeting", "hi", "limit", "3",
	    "bogus", "1", NULL);
	cr_assert_null(plugin_load(c));
	/* the file's line 6: a comment, a blank, the group, two keys */
	snprintf(want, sizeof(want), "%s/plugin-migrate.conf:6: "
	    "plugin-migrate: unknown key 'bogus'", dir);
	assert_logged(want);
	conf_drop(c);
}

Test(plugin, conf_group_without_plugin_is_refused)
{
	struct conf	*c = conf_make(NULL);
	char		 want[700];

	conf_add_plugin(c, "migrate", "migrate");
	conf_add_group(c, "ghost", "x", "1", NULL);
	cr_assert_null(plugin_load(c));
	snprintf(want, sizeof(want), "%s/plugin-ghost.conf: group "
	    "plugin-ghost: no plugin ghost is loaded", dir);
	assert_logged(want);
	conf_drop(c);
}

/* --- starting and stopping ------------------------------------------------------ */

Test(plugin, migrations_once)
{
	struct conf		*c;
	struct plugin_set	*set;
	struct store		*s = open_store();
	int			 round;

	for (round = 0; round < 2; round++) {
		set = load(&c, "migrate", "migrate", NULL);
		cr_assert_not_null(set);
		cr_assert_eq(plugin_start(set, s, NULL, &test_env), 0);
		cr_assert_eq(query(s, "SELECT version FROM schema_versions "
		    "WHERE owner = 'migrate'"), 2);
		cr_assert_eq(query(s, "SELECT count(*) FROM migrate_items"), 1,
		    "round %d", round);
		plugin_free(set);
		conf_drop(c);
	}
	store_free(s);
}

Test(plugin, pg_variant_of_a_migration_is_not_run_on_sqlite)
{
	struct conf		*c;
	struct plugin_set	*set;
	struct store		*s = open_store();
	sqlite3_stmt		*st;
	char			*sql;

	/* migrate's step 1 has an sql_pg that SQLite cannot parse */
	set = load(&c, "migrate", "migrate", NULL);
	cr_assert_not_null(set);
	cr_assert_eq(plugin_start(set, s, NULL, &test_env), 0);
	cr_assert_eq(sqlite3_prepare_v2(store_db(s), "SELECT sql FROM "
	    "sqlite_master WHERE name = 'migrate_items'", -1, &st, NULL),
	    SQLITE_OK);
	cr_assert_eq(sqlite3_step(st), SQLITE_ROW);
	sql = strdup((const char *)sqlite3_column_text(st, 0));
	sqlite3_finalize(st);
	cr_assert(strstr(sql, "id INTEGER PRIMARY KEY") != NULL, "%s", sql);
	cr_assert(strstr(sql, "IDENTITY") == NULL, "%s", sql);
	free(sql);
	plugin_free(set);
	conf_drop(c);
	store_free(s);
}

/*
 * The ABI 1 plugin through the daemon's own host tables: its migrations
 * read in ABI 1's layout, and its command run with SQLite's handle and
 * statements, while an ABI 2 plugin beside it gets the table without them.
 */
Test(plugin, abi1_plugin_migrates_and_runs_on_sqlite)
{
	struct conf		*c;
	struct plugin_set	*set;
	struct store		*s = open_store();
	struct plugin_env	 env = {
		.host = &host_table, .host_abi1 = &host_table_abi1 };
	const struct mb_command	*cmd;
	struct mb_plugin_ctx	*pctx, *pctx2;
	struct core		 core;
	struct mb_ctx		 ctx;

	set = load(&c, "abi1", PLUGIN("abi1"), "migrate", PLUGIN("migrate"),
	    NULL);
	cr_assert_not_null(set);
	cr_assert_eq(plugin_start(set, s, NULL, &env), 0);
	assert_logged("abi1: init");
	cr_assert_eq(query(s, "SELECT version FROM schema_versions "
	    "WHERE owner = 'abi1'"), 2);
	cr_assert_eq(query(s, "SELECT count(*) FROM abi1_notes"), 1);

	cmd = plugin_command(set, "NOTE", &pctx);
	cr_assert_not_null(cmd);
	cr_assert_eq(plugin_host(pctx), &host_table_abi1);
	cr_assert_not_null(plugin_host(pctx)->abi1_db);
	cr_assert_not_null(plugin_host(pctx)->abi1_stmt);
	cr_assert_not_null(plugin_command(set, "ITEMS", &pctx2));
	cr_assert_eq(plugin_host(pctx2), &host_table);
	cr_assert_null(host_table.abi1_db, "ABI 2 plugins get no SQLite handle");
	cr_assert_null(host_table.abi1_stmt);
	/* the tables differ in nothing else */
	cr_assert_eq(host_table.size, host_table_abi1.size);
	cr_assert_eq(host_table.query, host_table_abi1.query);
	cr_assert_eq(host_table.country_code, host_table_abi1.country_code);

	memset(&core, 0, sizeof(core));
	core.store = s;
	memset(&ctx, 0, sizeof(ctx));
	ctx.core = &core;
	ctx.pctx = pctx;
	cr_assert_eq(cmd->handler(&ctx, plugin_host(pctx)), MB_OK);
	host_ctx_clear(&ctx);
	assert_logged("abi1: note 2 of 2");
	cr_assert_eq(query(s, "SELECT count(*) FROM abi1_notes WHERE "
	    "text = 'hello'"), 1);
	cr_assert_eq(plugin_check_engine(set, "sqlite"), 0);
	plugin_free(set);
	conf_drop(c);
	store_free(s);
}

Test(plugin, abi1_plugin_is_refused_on_postgresql)
{
	struct conf		*c;
	struct plugin_set	*set;

	set = load(&c, "migrate", "migrate", NULL);
	cr_assert_not_null(set);
	cr_assert_eq(plugin_check_engine(set, "postgresql"), 0,
	    "ABI 2 plugins run on either engine");
	plugin_free(set);
	conf_drop(c);

	set = load(&c, "migrate", "migrate", "abi1", PLUGIN("abi1"), NULL);
	cr_assert_not_null(set);
	cr_assert_eq(plugin_check_engine(set, "postgresql"), -1);
	assert_logged("plugin abi1 (" PLUGIN("abi1") "): built for plugin ABI "
	    "1, which hands plugins SQLite's own handle and statements, so it "
	    "cannot run on a postgresql store: rebuild it for ABI 2");
	assert_logged("the plugin set is refused");
	plugin_free(set);
	conf_drop(c);
}

Test(plugin, abi1_plugin_needs_its_host_table)
{
	struct conf		*c;
	struct plugin_set	*set;
	struct store		*s = open_store();
	struct plugin_env	 env = { .host = &test_host };

	set = load(&c, "abi1", PLUGIN("abi1"), NULL);
	cr_assert_not_null(set);
	cr_assert_null(plugin_host(NULL));
	cr_assert_eq(plugin_start(set, s, NULL, &env), -1);
	assert_logged("plugin abi1 (" PLUGIN("abi1") "): this marketbox has no "
	    "host table for plugin ABI 1");
	/* refused before its migrations ran */
	cr_assert_eq(query(s, "SELECT count(*) FROM schema_versions "
	    "WHERE owner = 'abi1'"), 0);
	plugin_free(set);
	conf_drop(c);
	store_free(s);
}

Test(plugin, init_gets_its_conf_and_state)
{
	struct conf		*c = conf_make(NULL);
	struct plugin_set	*set;
	struct mb_plugin_ctx	*pctx;
	struct store		*s = open_store();

	conf_add_plugin(c, "migrate", "migrate");
	conf_add_group(c, "migrate", "greeting", "hello", NULL);
	cr_assert_not_null(set = plugin_load(c));
	cr_assert_eq(plugin_start(set, s, NULL, &test_env), 0);
	cr_assert_str_eq(hostlog, "migrate: init greeting=hello\n");
	cr_assert_not_null(plugin_command(set, "ITEMS", &pctx));
	cr_assert_not_null(plugin_state(pctx));
	cr_assert_null(plugin_timer_ctx(pctx));
	cr_assert_eq(plugin_start(set, s, NULL, &test_env), -1);
	assert_logged("started twice");
	plugin_free(set);
	cr_assert_str_eq(hostlog, "migrate: init greeting=hello\n"
	    "migrate: fini ticks=0\n");
	conf_drop(c);
	store_free(s);
}

Test(plugin, failed_init_refuses_and_fini_only_the_started)
{
	struct conf		*c;
	struct plugin_set	*set;
	struct store		*s = open_store();

	set = load(&c, "dup-a", "dup_a", "init-fails", "init_fails",
	    "migrate", "migrate", NULL);
	cr_assert_not_null(set);
	cr_assert_eq(plugin_start(set, s, NULL, &test_env), -1);
	assert_logged("plugin init-fails (" PLUGIN("init_fails") "): init "
	    "failed (it returned -1): marketbox does not start");
	plugin_free(set);
	/* migrate never started: no init, no fini; init-fails no fini */
	cr_assert_str_eq(hostlog, "dup-a: init\ninit-fails: init\n"
	    "dup-a: fini\n");
	cr_assert_eq(query(s, "SELECT count(*) FROM schema_versions "
	    "WHERE owner = 'migrate'"), 0);
	conf_drop(c);
	store_free(s);
}

Test(plugin, fini_in_reverse_order)
{
	struct conf		*c;
	struct plugin_set	*set;
	struct store		*s = open_store();

	set = load(&c, "dup-a", "dup_a", "migrate", "migrate", NULL);
	cr_assert_not_null(set);
	cr_assert_eq(plugin_start(set, s, NULL, &test_env), 0);
	plugin_free(set);
	cr_assert_str_eq(hostlog, "dup-a: init\nmigrate: init greeting=none\n"
	    "migrate: fini ticks=0\ndup-a: fini\n");
	conf_drop(c);
	store_free(s);
}

Test(plugin, freed_before_start_runs_no_fini)
{
	struct conf		*c;
	struct plugin_set	*set;

	set = load(&c, "dup-a", "dup_a", NULL);
	cr_assert_not_null(set);
	plugin_free(set);
	cr_assert_str_eq(hostlog, "");
	conf_drop(c);
}

static void
safety_cb(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	(void)arg;
	cr_assert_fail("the timer did not run within 5 s");
}

Test(plugin, timers_run_through_the_core_and_stop_at_free)
{
	struct conf		*c;
	struct plugin_set	*set;
	struct store		*s = open_store();
	struct event		*safety;
	struct timeval		 five = { 5, 0 };
	static int		 fake;	/* stands for the core's context */

	cr_assert_not_null(timer_base = event_base_new());
	timer_ctx_value = (struct mb_ctx *)&fake;
	timer_stop_after = 2;
	set = load(&c, "migrate", "migrate", NULL);
	cr_assert_not_null(set);
	cr_assert_eq(plugin_start(set, s, timer_base, &test_env), 0);
	cr_assert_eq(event_base_get_num_events(timer_base,
	    EVENT_BASE_COUNT_ADDED), 1);
	safety = evtimer_new(timer_base, safety_cb, NULL);
	cr_assert_eq(evtimer_add(safety, &five), 0);
	cr_assert_eq(event_base_dispatch(timer_base), 0);
	cr_assert_eq(timer_runs, 2);
	cr_assert_str_eq(hostlog, "migrate: init greeting=none\n"
	    "migrate: tick 1\nmigrate: tick 2\n");
	event_free(safety);
	plugin_free(set);
	/* no timer left behind to fire into an unloaded plugin */
	cr_assert_eq(event_base_get_num_events(timer_base,
	    EVENT_BASE_COUNT_ADDED), 0);
	cr_assert_str_eq(hostlog, "migrate: init greeting=none\n"
	    "migrate: tick 1\nmigrate: tick 2\nmigrate: fini ticks=2\n");
	event_base_free(timer_base);
	conf_drop(c);
	store_free(s);
}

Test(plugin, no_timers_without_a_runner)
{
	struct conf		*c;
	struct plugin_set	*set;
	struct store		*s = open_store();
	struct event_base	*base;
	struct plugin_env	 env = { .host = &test_host };

	cr_assert_not_null(base = event_base_new());
	set = load(&c, "migrate", "migrate", NULL);
	cr_assert_not_null(set);
	cr_assert_eq(plugin_start(set, s, base, &env), 0);
	cr_assert_eq(event_base_get_num_events(base, EVENT_BASE_COUNT_ADDED),
	    0);
	plugin_free(set);
	event_base_free(base);
	conf_drop(c);
	store_free(s);
}

Test(plugin, null_and_empty)
{
	const struct mb_command	**cmds = (void *)1;
	struct mb_plugin_ctx	 *pctx = (void *)1;

	plugin_free(NULL);
	cr_assert_eq(plugin_count(NULL), 0);
	cr_assert_null(plugin_at(NULL, 0));
	cr_assert_eq(plugin_commands(NULL, &cmds), 0);
	cr_assert_null(cmds);
	cr_assert_null(plugin_command(NULL, "ECHO", &pctx));
	cr_assert_null(pctx);
	cr_assert_null(plugin_state(NULL));
	plugin_set_state(NULL, NULL);
	cr_assert_null(plugin_timer_ctx(NULL));
	cr_assert_eq(plugin_start(NULL, NULL, NULL, &test_env), -1);
}

/* --- the host's farm inputs, seasons and dealer role (issue 17) ----------- */

Test(plugin, host_commodity_kind_season_and_dealer_role)
{
	struct conf	*c = conf_load(TEST_SRCDIR "/data/season.conf");
	struct core	 core = { .conf = c };
	struct mb_ctx	 ctx = { .core = &core };
	struct mb_season s;
	struct user	 u = { .msisdn = "+254700000004", .name = "Ann",
			    .role = "dealer" };
	size_t		 old;

	cr_assert_not_null(c);
	cr_assert_str_eq(host_table.commodity_kind(&ctx, "dap"), "input");
	cr_assert_str_eq(host_table.commodity_kind(&ctx, "maize"), "produce");
	cr_assert_str_eq(host_table.commodity_kind(&ctx, "can"), "produce");
	cr_assert_null(host_table.commodity_kind(&ctx, "urea"));

	memset(&s, 0, sizeof(s));
	s.size = sizeof(s);
	cr_assert_eq(host_table.season(&ctx, 0, &s), 0);
	cr_assert_eq(s.size, sizeof(s));
	cr_assert_str_eq(s.code, "long-rains");
	cr_assert_str_eq(s.region, "rift-valley");
	cr_assert_eq(s.ninputs, 1);
	cr_assert_str_eq(s.inputs[0], "dap");
	cr_assert_eq(s.start_month, 3);
	cr_assert_eq(s.start_day, 15);
	cr_assert_eq(s.nremind, 2);
	cr_assert_eq(s.remind[0], 21 * 86400LL);
	cr_assert_eq(host_table.season(&ctx, 1, &s), 0);
	cr_assert_str_eq(s.code, "short-rains");
	cr_assert_eq(host_table.season(&ctx, 2, &s), -1, "two seasons only");

	/* a plugin built when struct mb_season ended at region: the host
	   writes nothing past it */
	old = offsetof(struct mb_season, region) + sizeof(s.region);
	memset(&s, 0xab, sizeof(s));
	s.size = old;
	cr_assert_eq(host_table.season(&ctx, 0, &s), 0);
	cr_assert_eq(s.size, old);
	cr_assert_str_eq(s.region, "rift-valley");
	cr_assert_eq(s.ninputs, (size_t)0xabababababababab, "written past "
	    "the plugin's struct");

	/* the table is append-only: the new functions at its end */
	cr_assert_eq(host_table.size, sizeof(struct mb_host));
	cr_assert_eq(offsetof(struct mb_host, pay_said) +
	    sizeof(host_table.pay_said), sizeof(struct mb_host));
	cr_assert_gt(offsetof(struct mb_host, pay_said),
	    offsetof(struct mb_host, pay_event));
	cr_assert_gt(offsetof(struct mb_host, pay_event),
	    offsetof(struct mb_host, pay_to));
	cr_assert_gt(offsetof(struct mb_host, pay_to),
	    offsetof(struct mb_host, user_place));
	cr_assert_gt(offsetof(struct mb_host, user_place),
	    offsetof(struct mb_host, route));
	cr_assert_gt(offsetof(struct mb_host, route),
	    offsetof(struct mb_host, market_hub));
	cr_assert_gt(offsetof(struct mb_host, market_hub),
	    offsetof(struct mb_host, hub_name));
	cr_assert_gt(offsetof(struct mb_host, hub_name),
	    offsetof(struct mb_host, hub));
	cr_assert_gt(offsetof(struct mb_host, hub),
	    offsetof(struct mb_host, role_users));
	cr_assert_gt(offsetof(struct mb_host, role_users),
	    offsetof(struct mb_host, user_since));
	cr_assert_gt(offsetof(struct mb_host, user_since),
	    offsetof(struct mb_host, season));
	cr_assert_gt(offsetof(struct mb_host, commodity_kind),
	    offsetof(struct mb_host, trade_done));

	/* users.role 'dealer' */
	cr_assert_eq(host_roles(&core, &u), MB_ROLE_FARMER | MB_ROLE_BUYER |
	    MB_ROLE_DEALER);
	u.role = "agent";
	cr_assert_eq(host_roles(&core, &u) & MB_ROLE_DEALER, 0);
	conf_free(c);
}

/*
 * pay_to(): group = payments' number and the account for an order under
 * account-format; nothing without the group.
 */
Test(plugin, host_pay_to)
{
	struct conf	 c;
	struct core	 core;
	struct mb_ctx	 ctx;
	const char	*number = NULL, *account = NULL;

	memset(&c, 0, sizeof(c));
	memset(&core, 0, sizeof(core));
	core.conf = &c;
	memset(&ctx, 0, sizeof(ctx));
	ctx.core = &core;
	cr_assert_eq(host_table.pay_to(&ctx, 43, &number, &account), 0);
	cr_assert_null(number);
	c.payments.on = 1;
	c.payments.business_number = "512345";
	c.payments.account_prefix = "MB";
	c.payments.account_suffix = "";
	cr_assert_eq(host_table.pay_to(&ctx, 43, &number, &account), 1);
	cr_assert_str_eq(number, "512345");
	cr_assert_str_eq(account, "MB43");
	cr_assert_eq(host_table.pay_to(&ctx, 0, &number, &account), 0);
	host_ctx_clear(&ctx);
}

/*
 * user_place(): an active member's service point, else the market of the
 * user's row; nobody else (and an empty market) has none.
 */
Test(plugin, host_user_place)
{
	struct store	*st;
	struct core	 core;
	struct mb_ctx	 ctx;
	struct store_stmt *q;

	st = open_store();
	cr_assert_not_null(q = store_query(st, "INSERT INTO users"
	    "(msisdn, name, market, created, updated) VALUES"
	    " ('+254700000001', 'Wanjiru', 'lanet', 0, 0),"
	    " ('+254700000002', 'Otieno', '', 0, 0),"
	    " ('+254700000003', 'Kamau', NULL, 0, 0),"
	    " ('M-1', 'Mary', 'nakuru', 0, 0),"
	    " ('M-2', 'Ann', 'nakuru', 0, 0)"));
	cr_assert_eq(store_step(q), STORE_DONE);
	store_done(q);
	cr_assert_not_null(q = store_query(st, "INSERT INTO members"
	    "(code, point, agent, identity, name, state, created) VALUES"
	    " ('M1', 'kiambogo', '+254700000009', 'M-1', 'Mary', 'active', 0),"
	    " ('M2', 'kiambogo', '+254700000009', 'M-2', 'Ann', 'off', 0)"));
	cr_assert_eq(store_step(q), STORE_DONE);
	store_done(q);
	memset(&core, 0, sizeof(core));
	core.store = st;
	memset(&ctx, 0, sizeof(ctx));
	ctx.core = &core;
	cr_assert_str_eq(host_table.user_place(&ctx, "+254700000001"),
	    "lanet");
	cr_assert_null(host_table.user_place(&ctx, "+254700000002"));
	cr_assert_null(host_table.user_place(&ctx, "+254700000003"));
	cr_assert_null(host_table.user_place(&ctx, "+254700000077"));
	cr_assert_null(host_table.user_place(&ctx, NULL));
	/* the member trades at her point; one whose membership ended, at
	   her own market */
	cr_assert_str_eq(host_table.user_place(&ctx, "M-1"), "kiambogo");
	cr_assert_str_eq(host_table.user_place(&ctx, "M-2"), "nakuru");
	host_ctx_clear(&ctx);
	store_free(st);
}

/*
 * pay_event(): the core's money state of the order (pay_order_event;
 * its notices are test_payments's): nothing for an order no payment
 * came for, nor for a state the event keeps; an unknown event refused.
 */
Test(plugin, host_pay_event)
{
	struct conf	 c;
	struct store	*st;
	struct core	 core;
	struct mb_ctx	 ctx;

	st = open_store();
	cr_assert_eq(store_exec(st, "INSERT INTO order_payments (order_ref, "
	    "due, paid, state, updated) VALUES (7, 100, 0, 'unpaid', 0), "
	    "(8, 100, 100, 'paid', 0)"), 0);
	memset(&c, 0, sizeof(c));
	memset(&core, 0, sizeof(core));
	core.conf = &c;
	core.store = st;
	memset(&ctx, 0, sizeof(ctx));
	ctx.core = &core;
	cr_assert_eq(host_table.pay_event(&ctx, 6, MB_PAY_CLOSED), 0);
	cr_assert_eq(host_table.pay_event(&ctx, 7, MB_PAY_CLOSED), 0);
	cr_assert_eq(host_table.pay_event(&ctx, 8, MB_PAY_DELIVERED), 0,
	    "direct: the buyer paid the seller");
	cr_assert_eq(host_table.pay_event(&ctx, 8, 0), -1);
	cr_assert_eq(host_table.pay_event(&ctx, 8, 3), -1);
	cr_assert_eq(store_exec(st, "UPDATE order_payments SET updated = 1 "
	    "WHERE (order_ref = 7 AND state = 'unpaid') OR (order_ref = 8 "
	    "AND state = 'paid')"), 0);
	cr_assert_eq(store_changes(st), 2, "the states stayed");
	host_ctx_clear(&ctx);
	store_free(st);
}

/*
 * pay_said(): the core's pay_said for the sender (its ledger and claims
 * are test_market_pay's): cash at delivery, said by the sender (here the
 * buyer), enters the rest as the seller's; no sender, an unknown word or
 * a RECEIVED not by the seller keeps nothing.
 */
Test(plugin, host_pay_said)
{
	struct conf	 c;
	struct store	*st;
	struct core	 core;
	struct mb_ctx	 ctx;
	struct user	 u;
	const char	*state;
	long long	 amount;

	st = open_store();
	cr_assert_eq(store_exec(st, "CREATE TABLE market_orders (ref "
	    "INTEGER PRIMARY KEY, total INTEGER, buyer TEXT, seller TEXT, "
	    "state TEXT); INSERT INTO market_orders VALUES (7, 1500000, "
	    "'+254700000002', '+254700000001', 'accepted')"), 0);
	memset(&c, 0, sizeof(c));
	c.currency = "KES";
	memset(&core, 0, sizeof(core));
	core.conf = &c;
	core.store = st;
	memset(&ctx, 0, sizeof(ctx));
	ctx.core = &core;
	cr_assert_eq(host_table.pay_said(&ctx, 7, MB_PAY_SAID_RECEIVED, NULL,
	    &amount, &state), MB_PAY_REFUSED, "no sender");
	memset(&u, 0, sizeof(u));
	snprintf(u.msisdn, sizeof(u.msisdn), "+254700000002");
	ctx.user = &u;
	cr_assert_eq(host_table.pay_said(&ctx, 7, 9, NULL, &amount, &state),
	    MB_PAY_REFUSED);
	cr_assert_eq(host_table.pay_said(&ctx, 7, MB_PAY_SAID_RECEIVED, NULL,
	    &amount, &state), MB_PAY_REFUSED, "the buyer is not the seller");
	cr_assert_eq(query(st, "SELECT count(*) FROM payment_claims"), 0);
	cr_assert_eq(host_table.pay_said(&ctx, 7, MB_PAY_SAID_CASH, NULL,
	    &amount, &state), MB_PAY_TAKEN);
	cr_assert_eq(amount, 1500000);
	cr_assert_str_eq(state, "paid");
	cr_assert_eq(query(st, "SELECT count(*) FROM payments WHERE "
	    "order_ref = 7 AND said_by = '+254700000001' AND amount = "
	    "1500000"), 1);
	cr_assert_eq(query(st, "SELECT count(*) FROM payment_claims WHERE "
	    "order_ref = 7 AND kind = 'cash-at-delivery' AND said_by = "
	    "'+254700000002'"), 1);
	ctx.user = NULL;
	host_ctx_clear(&ctx);
	store_free(st);
}

/* role_users(): the conf's admins, then users of the role, each once. */
Test(plugin, host_role_users)
{
	char		 path[600];
	FILE		*fp;
	struct conf	*c;
	struct store	*st;
	struct core	 core;
	struct mb_ctx	 ctx;
	const char	*out[8];
	struct {
		const char	*msisdn, *role;
	} users[] = {
		{ "+254799000002", "admin" },	/* in the conf too */
		{ "+254799000003", "admin" },
		{ "+254711000333", "transporter" },
		{ "+254700000001", "farmer" },
	};
	size_t		 i;

	snprintf(path, sizeof(path), "%s/admins.conf", dir);
	cr_assert_not_null(fp = fopen(path, "w"));
	fprintf(fp, "group = marketbox\nglobal-sender = 777\n"
	    "admins = +254799000001;+254799000002\n");
	fclose(fp);
	cr_assert_not_null(c = conf_load(path));
	st = open_store();
	for (i = 0; i < sizeof(users) / sizeof(users[0]); i++) {
		struct store_stmt *q = store_query(st, "INSERT INTO users"
		    "(msisdn, name, role, created, updated)"
		    " VALUES ($1, 'x', $2, 0, 0)");

		cr_assert_not_null(q);
		store_bind_text(q, 1, users[i].msisdn);
		store_bind_text(q, 2, users[i].role);
		cr_assert_eq(store_step(q), STORE_DONE);
		store_done(q);
	}
	memset(&core, 0, sizeof(core));
	core.conf = c;
	core.store = st;
	memset(&ctx, 0, sizeof(ctx));
	ctx.core = &core;
	cr_assert_eq(host_table.role_users(&ctx, MB_ROLE_ADMIN, out, 8), 3);
	cr_assert_str_eq(out[0], "+254799000001");
	cr_assert_str_eq(out[1], "+254799000002");
	cr_assert_str_eq(out[2], "+254799000003");
	/* bounded */
	cr_assert_eq(host_table.role_users(&ctx, MB_ROLE_ADMIN, out, 2), 2);
	cr_assert_eq(host_table.role_users(&ctx, MB_ROLE_ADMIN, out, 0), 0);
	cr_assert_eq(host_table.role_users(&ctx, MB_ROLE_TRANSPORTER, out, 8),
	    1);
	cr_assert_str_eq(out[0], "+254711000333");
	/* roles every registered user has list nobody */
	cr_assert_eq(host_table.role_users(&ctx, MB_ROLE_FARMER, out, 8), 0);
	cr_assert_eq(host_table.role_users(&ctx, MB_ROLE_DEALER, out, 8), 0);
	host_ctx_clear(&ctx);
	store_free(st);
	conf_free(c);
}
