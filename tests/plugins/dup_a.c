/*
 * dup_a.c - a test plugin registering PING; dup_b.c registers PING too.
 * Its init and fini log, so tests see that they ran and in what order.
 */
#include <marketbox/plugin.h>

static int
dup_a_ping(struct mb_ctx *ctx, const struct mb_host *host)
{
	return host->reply(ctx, "pong", NULL, 0) == 0 ? MB_OK : MB_FAIL;
}

static int
dup_a_init(struct mb_plugin_ctx *pctx, const struct mb_host *host)
{
	(void)pctx;
	host->log(NULL, MB_LOG_INFO, "dup-a: init");
	return MB_OK;
}

static void
dup_a_fini(struct mb_plugin_ctx *pctx, const struct mb_host *host)
{
	(void)pctx;
	host->log(NULL, MB_LOG_INFO, "dup-a: fini");
}

static const struct mb_command dup_a_commands[] = {
	{ .id = "PING", .handler = dup_a_ping, .usage = "usage-ping" },
};

const struct mb_plugin marketbox_plugin = {
	MB_PLUGIN_HEADER,
	.name = "dup-a",
	.version = "1",
	.commands = dup_a_commands,
	.ncommands = 1,
	.init = dup_a_init,
	.fini = dup_a_fini,
};
