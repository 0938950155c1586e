/*
 * host_store.c - the store's statements as a plugin host hands them out,
 * for the plugin mock and prices-bench (see host_store.h).
 */
#include "config.h"

#include "marketbox-plugin.h"
#include "store/store.h"

#include "host_store.h"

_Static_assert(MB_ROW == STORE_ROW && MB_DONE == STORE_DONE &&
    MB_ERROR == STORE_ERROR, "plugin and store step results differ");

struct mb_stmt *
host_store_query(struct mb_ctx *ctx, const char *sql)
{
	return (struct mb_stmt *)store_query(host_store_of(ctx), sql);
}

int
host_store_bind_int(struct mb_stmt *st, int i, long long v)
{
	return store_bind_int((struct store_stmt *)st, i, v);
}

int
host_store_bind_text(struct mb_stmt *st, int i, const char *v)
{
	return store_bind_text((struct store_stmt *)st, i, v);
}

int
host_store_bind_null(struct mb_stmt *st, int i)
{
	return store_bind_null((struct store_stmt *)st, i);
}

int
host_store_step(struct mb_stmt *st)
{
	return store_step((struct store_stmt *)st);
}

long long
host_store_column_int(struct mb_stmt *st, int i)
{
	return store_int((struct store_stmt *)st, i);
}

const char *
host_store_column_text(struct mb_stmt *st, int i)
{
	return store_text((struct store_stmt *)st, i);
}

int
host_store_column_null(struct mb_stmt *st, int i)
{
	return store_is_null((struct store_stmt *)st, i);
}

void
host_store_done(struct mb_stmt *st)
{
	store_done((struct store_stmt *)st);
}

long long
host_store_changes(struct mb_ctx *ctx)
{
	return store_changes(host_store_of(ctx));
}

long long
host_store_last_id(struct mb_ctx *ctx)
{
	return store_last_id(host_store_of(ctx));
}

const char *
host_store_engine(struct mb_ctx *ctx)
{
	return store_engine(host_store_of(ctx));
}
