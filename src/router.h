/*
 * router.h - from an MO's text to the command that handles it.
 *
 * The router runs inside the inbox's unit of work: whatever it writes
 * (replies and notices through the outbox, domain rows through plugins)
 * commits or rolls back with the MO itself.
 */
#ifndef MARKETBOX_ROUTER_H
#define MARKETBOX_ROUTER_H

struct conf;
struct mo;
struct outbox;
struct store;
struct router;

struct router	*router_new(const struct conf *, struct store *,
		    struct outbox *);
void		 router_free(struct router *);

/*
 * Handle one MO recorded as inbox row inbox_id.  Returns 0 when handled
 * (every outcome the sender should hear of is a reply), -1 on a failure of
 * the store, which rolls the MO back.
 */
int		 router_handle(struct router *, const struct mo *,
		    long long inbox_id);

#endif
