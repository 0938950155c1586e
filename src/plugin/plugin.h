/*
 * plugin.h - loading command plugins and running their timers.
 *
 * plugin.c loads every plugin the conf names (or, with no plugin groups,
 * every plugin in plugin-dir), checks each descriptor (ABI version, size,
 * commands unique across plugins), applies each plugin's migrations, calls
 * its init, and runs its timers on the event loop.  Any failure refuses
 * the whole set: marketbox never runs with half its commands.
 */
#ifndef MARKETBOX_PLUGIN_INTERNAL_H
#define MARKETBOX_PLUGIN_INTERNAL_H

#include <stddef.h>

struct conf;
struct event_base;
struct mb_command;
struct mb_host;
struct mb_plugin;
struct mb_plugin_ctx;
struct store;
struct plugin_set;

/*
 * What the core gives plugin.c to run a plugin's functions: the host tables
 * and, for timers, a way to run them inside a unit of work with a context
 * that has no sender.  host is handed to plugins of this ABI; host_abi1,
 * the same table with ABI 1's SQLite slots (db, stmt) working, to ABI 1
 * plugins (NULL: they are refused at start).
 */
struct plugin_env {
	const struct mb_host	*host;
	const struct mb_host	*host_abi1;
	/* run fn inside a unit of work; returns what fn returned */
	int	(*run_timer)(void *arg, struct mb_plugin_ctx *,
		    int (*fn)(struct mb_plugin_ctx *, const struct mb_host *));
	void	 *arg;
};

/*
 * Load and check the plugins (dlopen only: nothing of theirs runs).
 * Returns NULL with every problem logged.  conf must outlive the set.
 */
struct plugin_set *plugin_load(const struct conf *);

/*
 * Migrate every plugin's tables, call every init, start the timers (base
 * may be NULL: no timers, for -n and tests).  An ABI 1 plugin is refused
 * when the store is not SQLite (see plugin_check_engine).  0, or -1
 * (logged) and the set must be freed.
 */
int		 plugin_start(struct plugin_set *, struct store *,
		    struct event_base *, const struct plugin_env *);

/*
 * This instance's name among those sharing the database, written as the
 * owner of the timer runs it claims (timer_runs); NULL (the default):
 * none.  The name is copied.
 */
void		 plugin_set_instance(struct plugin_set *, const char *);

/*
 * Run plugin's timer now as a tick does, at time now (0: the clock's),
 * claim included on a shared store; for tests and tools, on the thread
 * that may run statements.  1 it ran, 0 another instance had the run, -1
 * it failed or there is no such timer started (logged).
 */
int		 plugin_run_timer(struct plugin_set *, const char *plugin,
		    const char *timer, long long now);

/*
 * Only migrate every plugin's tables on store (nothing of theirs runs:
 * no init, no timers): marketctl's store copy makes a database's tables.
 * 0, or -1 (logged).
 */
int		 plugin_migrate_all(struct plugin_set *, struct store *);

/*
 * Refuse the set if a plugin cannot run on a store of this engine
 * ("sqlite", "postgresql"): ABI 1 plugins hold SQLite's own handle and
 * statements, so they run on SQLite only.  0, or -1 (logged).
 */
int		 plugin_check_engine(const struct plugin_set *,
		    const char *engine);

/*
 * The host table plugin pctx's functions are given (by its ABI), once the
 * set is started; NULL before.
 */
const struct mb_host *plugin_host(const struct mb_plugin_ctx *);

/* Call every fini (in reverse order), dlclose; accepts NULL. */
void		 plugin_free(struct plugin_set *);

/*
 * The command with this id, its plugin's context (for state), or NULL.
 */
const struct mb_command *plugin_command(const struct plugin_set *,
		    const char *id, struct mb_plugin_ctx **pctx);

/* Every command id, for HELP and checks against the language files. */
size_t		 plugin_commands(const struct plugin_set *,
		    const struct mb_command ***cmds);

/* Loaded plugins, for status pages: name and version of plugin i. */
size_t		 plugin_count(const struct plugin_set *);
const struct mb_plugin *plugin_at(const struct plugin_set *, size_t i);

/* The plugin's own conf group's value (group = plugin-NAME), or NULL. */
const char	*plugin_conf_value(struct mb_plugin_ctx *, const char *key);
void		*plugin_state(struct mb_plugin_ctx *);
void		 plugin_set_state(struct mb_plugin_ctx *, void *);

/*
 * The context of the timer running now for this plugin (NULL when none
 * runs): the core sets it around each run (see struct plugin_env), so
 * host->timer_ctx() can hand it to the plugin.
 */
struct mb_ctx	*plugin_timer_ctx(struct mb_plugin_ctx *);
void		 plugin_set_timer_ctx(struct mb_plugin_ctx *, struct mb_ctx *);

#endif
