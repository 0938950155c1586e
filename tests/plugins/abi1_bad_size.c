/*
 * abi1_bad_size.c - a test plugin of plugin ABI 1 (the frozen header)
 * whose descriptor size is not ABI 1's: the loader must refuse it, as it
 * refuses an ABI 2 descriptor of another size.
 */
#include <marketbox/plugin.h>

const struct mb_plugin marketbox_plugin = {
	.abi = 1,
	.size = sizeof(struct mb_plugin) + sizeof(void *),
	.name = "abi1-bad-size",
	.version = "1",
};
