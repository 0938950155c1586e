/*
 * bad_abi.c - a test plugin of a future ABI version: the loader must
 * refuse it before reading anything past the version and the size.
 */
#include <marketbox/plugin.h>

const struct mb_plugin marketbox_plugin = {
	.abi = MB_PLUGIN_ABI + 1,
	.size = sizeof(struct mb_plugin),
	.name = "bad-abi",
	.version = "1",
};
