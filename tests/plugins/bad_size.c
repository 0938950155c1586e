/*
 * bad_size.c - a test plugin whose descriptor has the right ABI version
 * but another size (as one built against a header edited by hand): the
 * loader must refuse it.
 */
#include <marketbox/plugin.h>

const struct mb_plugin marketbox_plugin = {
	.abi = MB_PLUGIN_ABI,
	.size = sizeof(struct mb_plugin) - sizeof(void *),
	.name = "bad-size",
	.version = "1",
};
