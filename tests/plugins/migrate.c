/*
 * migrate.c - a well-formed test plugin using everything a descriptor
 * offers: two migrations (a table, then a seed row), conf keys, state set
 * in init and freed in fini, a command, and a timer counting its runs.
 * Its init, fini and timer log, so tests see what ran.
 */
#include <stdio.h>
#include <stdlib.h>

#include <marketbox/plugin.h>

struct migrate_state {
	int	 ticks;
	char	 greeting[64];
};

static const struct mb_migration migrate_steps[] = {
	{ .version = 1, .sql = "CREATE TABLE migrate_items ("
	     "  id INTEGER PRIMARY KEY,"
	     "  what TEXT NOT NULL)" },
	{ .version = 2, .sql = "INSERT INTO migrate_items(what) VALUES ('seed')" },
};

static int
migrate_init(struct mb_plugin_ctx *pctx, const struct mb_host *host)
{
	struct migrate_state	*st;
	const char		*g = host->conf(pctx, "greeting");

	if ((st = calloc(1, sizeof(*st))) == NULL)
		return MB_FAIL;
	snprintf(st->greeting, sizeof(st->greeting), "%s", g ? g : "none");
	host->set_state(pctx, st);
	host->log(NULL, MB_LOG_INFO, "migrate: init greeting=%s",
	    st->greeting);
	return MB_OK;
}

static void
migrate_fini(struct mb_plugin_ctx *pctx, const struct mb_host *host)
{
	struct migrate_state	*st = host->state(pctx);

	host->log(NULL, MB_LOG_INFO, "migrate: fini ticks=%d",
	    st ? st->ticks : -1);
	free(st);
	host->set_state(pctx, NULL);
}

static int
migrate_tick(struct mb_plugin_ctx *pctx, const struct mb_host *host)
{
	struct migrate_state	*st = host->state(pctx);
	struct mb_ctx		*ctx = host->timer_ctx(pctx);

	if (st == NULL || ctx == NULL)
		return MB_FAIL;
	st->ticks++;
	host->log(ctx, MB_LOG_DEBUG, "migrate: tick %d", st->ticks);
	return MB_OK;
}

static int
migrate_items(struct mb_ctx *ctx, const struct mb_host *host)
{
	return host->reply(ctx, "items", NULL, 0) == 0 ? MB_OK : MB_FAIL;
}

static const struct mb_command migrate_commands[] = {
	{ .id = "ITEMS", .handler = migrate_items, .usage = "usage-items",
	  .flags = MB_CMD_REGISTERED, .roles = MB_ROLE_FARMER },
	{ .id = "MY_ITEMS2", .handler = migrate_items, .usage = "usage-items" },
};

static const struct mb_timer migrate_timers[] = {
	{ .name = "tick", .interval = 1, .run = migrate_tick },
};

static const char * const migrate_conf_keys[] = { "greeting", "limit" };

const struct mb_plugin marketbox_plugin = {
	MB_PLUGIN_HEADER,
	.name = "migrate",
	.version = "2.0",
	.commands = migrate_commands,
	.ncommands = 2,
	.migrations = migrate_steps,
	.nmigrations = 2,
	.timers = migrate_timers,
	.ntimers = 1,
	.conf_keys = migrate_conf_keys,
	.nconf_keys = 2,
	.init = migrate_init,
	.fini = migrate_fini,
};
