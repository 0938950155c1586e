/*
 * no_symbol.c - a test shared object that is not a marketbox plugin: its
 * descriptor has another name, so marketbox_plugin is missing.
 */
#include <marketbox/plugin.h>

const struct mb_plugin marketbox_plugin_v1 = {
	MB_PLUGIN_HEADER,
	.name = "no-symbol",
	.version = "1",
};
