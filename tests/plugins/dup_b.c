/*
 * dup_b.c - a test plugin registering PONG and PING; with dup_a.c loaded
 * first, the loader must refuse it for PING.
 */
#include <marketbox/plugin.h>

static int
dup_b_handler(struct mb_ctx *ctx, const struct mb_host *host)
{
	return host->reply(ctx, "pong", NULL, 0) == 0 ? MB_OK : MB_FAIL;
}

static const struct mb_command dup_b_commands[] = {
	{ .id = "PONG", .handler = dup_b_handler, .usage = "usage-pong" },
	{ .id = "PING", .handler = dup_b_handler, .usage = "usage-ping" },
};

const struct mb_plugin marketbox_plugin = {
	MB_PLUGIN_HEADER,
	.name = "dup-b",
	.version = "1",
	.commands = dup_b_commands,
	.ncommands = 2,
};
