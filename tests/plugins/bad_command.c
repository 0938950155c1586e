/*
 * bad_command.c - a test plugin whose command id is not uppercase ASCII:
 * the loader must refuse it (ids name keyword groups in language files).
 */
#include <marketbox/plugin.h>

static int
bad_command_handler(struct mb_ctx *ctx, const struct mb_host *host)
{
	(void)ctx;
	(void)host;
	return MB_OK;
}

static const struct mb_command bad_command_commands[] = {
	{ .id = "sell", .handler = bad_command_handler, .usage = "usage-sell" },
};

const struct mb_plugin marketbox_plugin = {
	MB_PLUGIN_HEADER,
	.name = "bad-command",
	.version = "1",
	.commands = bad_command_commands,
	.ncommands = 1,
};
