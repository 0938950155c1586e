/*
 * bad_migration.c - a test plugin whose migrations skip a version (1, 3):
 * the loader must refuse it.
 */
#include <marketbox/plugin.h>

static const struct mb_migration bad_migration_steps[] = {
	{ .version = 1, .sql = "CREATE TABLE bad_migration_a (id INTEGER PRIMARY KEY)" },
	{ .version = 3, .sql = "CREATE TABLE bad_migration_b (id INTEGER PRIMARY KEY)" },
};

const struct mb_plugin marketbox_plugin = {
	MB_PLUGIN_HEADER,
	.name = "bad-migration",
	.version = "1",
	.migrations = bad_migration_steps,
	.nmigrations = 2,
};
