/*
 * abi1.c - a test plugin of plugin ABI 1, built against the frozen ABI 1
 * header (tests/plugins/abi1/marketbox/plugin.h): two migration steps in
 * ABI 1's layout (no sql_pg), and a command that works the store through
 * ABI 1's SQLite slots, host->stmt() and host->db().  marketbox must still
 * load it, migrate it and run it on a SQLite store.
 */
#include <stdio.h>

#include <sqlite3.h>

#include <marketbox/plugin.h>

static const struct mb_migration abi1_steps[] = {
	{ 1, "CREATE TABLE abi1_notes ("
	     "  id INTEGER PRIMARY KEY,"
	     "  text TEXT NOT NULL)" },
	{ 2, "INSERT INTO abi1_notes(text) VALUES ('seed')" },
};

/* NOTE: one more row, then "abi1: note ID of N" in the log. */
static int
abi1_note(struct mb_ctx *ctx, const struct mb_host *host)
{
	static const char	 add[] =
	    "INSERT INTO abi1_notes(text) VALUES (?1)";
	static const char	 count[] = "SELECT count(*) FROM abi1_notes";
	sqlite3_stmt		*st;
	long long		 id, n = -1;
	int			 rc;

	if ((st = host->stmt(ctx, add)) == NULL)
		return MB_FAIL;
	sqlite3_bind_text(st, 1, "hello", -1, SQLITE_STATIC);
	rc = sqlite3_step(st);
	sqlite3_reset(st);
	if (rc != SQLITE_DONE)
		return MB_FAIL;
	id = sqlite3_last_insert_rowid(host->db(ctx));
	if ((st = host->stmt(ctx, count)) == NULL)
		return MB_FAIL;
	if (sqlite3_step(st) == SQLITE_ROW)
		n = sqlite3_column_int64(st, 0);
	sqlite3_reset(st);
	host->log(ctx, MB_LOG_INFO, "abi1: note %lld of %lld", id, n);
	return MB_OK;
}

static int
abi1_init(struct mb_plugin_ctx *pctx, const struct mb_host *host)
{
	(void)pctx;
	host->log(NULL, MB_LOG_INFO, "abi1: init");
	return MB_OK;
}

static const struct mb_command abi1_commands[] = {
	{ .id = "NOTE", .handler = abi1_note, .usage = "usage-note" },
};

const struct mb_plugin marketbox_plugin = {
	MB_PLUGIN_HEADER,
	.name = "abi1",
	.version = "1.0",
	.commands = abi1_commands,
	.ncommands = 1,
	.migrations = abi1_steps,
	.nmigrations = 2,
	.init = abi1_init,
};
