/*
 * host_store.h - the store's statements (store.c) as a plugin host hands
 * them out: ABI 2's query(), bind_*(), step(), column_*(), done(),
 * changes(), last_id() and engine(), for the hosts outside the daemon (the
 * plugin mock, prices-bench).  They are the daemon's (src/plugin/host.c): an
 * mb_stmt is a store_stmt, its steps are the store's.
 *
 * A host that links host_store.c defines host_store_of(), the store its
 * contexts' statements run on, and puts HOST_STORE_FUNCTIONS in its
 * struct mb_host:
 *
 *	struct store *
 *	host_store_of(struct mb_ctx *ctx)
 *	{
 *		return ctx->m->store;
 *	}
 *
 *	static const struct mb_host table = {
 *		...
 *		HOST_STORE_FUNCTIONS
 *	};
 */
#ifndef MARKETBOX_HOST_STORE_H
#define MARKETBOX_HOST_STORE_H

struct mb_ctx;
struct mb_stmt;
struct store;

/* Defined by the host: the store of ctx. */
struct store	*host_store_of(struct mb_ctx *);

struct mb_stmt	*host_store_query(struct mb_ctx *, const char *sql);
int		 host_store_bind_int(struct mb_stmt *, int i, long long v);
int		 host_store_bind_text(struct mb_stmt *, int i, const char *v);
int		 host_store_bind_null(struct mb_stmt *, int i);
int		 host_store_step(struct mb_stmt *);
long long	 host_store_column_int(struct mb_stmt *, int i);
const char	*host_store_column_text(struct mb_stmt *, int i);
int		 host_store_column_null(struct mb_stmt *, int i);
void		 host_store_done(struct mb_stmt *);
long long	 host_store_changes(struct mb_ctx *);
long long	 host_store_last_id(struct mb_ctx *);
const char	*host_store_engine(struct mb_ctx *);

#define HOST_STORE_FUNCTIONS \
	.query = host_store_query, \
	.bind_int = host_store_bind_int, \
	.bind_text = host_store_bind_text, \
	.bind_null = host_store_bind_null, \
	.step = host_store_step, \
	.column_int = host_store_column_int, \
	.column_text = host_store_column_text, \
	.column_null = host_store_column_null, \
	.done = host_store_done, \
	.changes = host_store_changes, \
	.last_id = host_store_last_id, \
	.engine = host_store_engine

#endif
