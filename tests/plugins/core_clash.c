/*
 * core_clash.c - a test plugin registering HELP, a command of marketbox
 * itself: its handler could never run, so router_new() must refuse the
 * plugin set (tests/unit/engine/test_router.c).
 */
#include <marketbox/plugin.h>

static int
core_clash_help(struct mb_ctx *ctx, const struct mb_host *host)
{
	return host->reply(ctx, "help", NULL, 0) == 0 ? MB_OK : MB_FAIL;
}

static const struct mb_command core_clash_commands[] = {
	{ .id = "HELP", .handler = core_clash_help, .usage = "usage-HELP" },
};

const struct mb_plugin marketbox_plugin = {
	MB_PLUGIN_HEADER,
	.name = "core_clash",
	.version = "1",
	.commands = core_clash_commands,
	.ncommands = 1,
};
