/*
 * plugin_mock.h - a marketbox host without the daemon, for plugin unit
 * tests (as collectd's plugin_mock.c is for collectd's plugins).
 *
 * A struct mock stands for marketbox around one plugin: it implements the
 * whole struct mb_host table over a fake context, with
 *  - a sender and the message's words set by the test (words are split and
 *    normalised by words.c, as the router does, with the shipped conf's
 *    currency words and the catalogue's words as the dictionary);
 *  - every reply and notice captured (template name and arguments), not
 *    rendered: tests check what the plugin asked for, not a language file;
 *  - the daemon's store (store.c) on a fresh SQLite file in /tmp, with the
 *    core schema (users, ...) and the plugin's migrations applied as the
 *    daemon applies them; query(), bind_*(), step(), column_*(), done(),
 *    changes(), last_id() and engine() over it (and, until every plugin
 *    has moved to them, ABI 1's db() and stmt()); each command and timer
 *    run one unit of work, rolled back when it returns MB_FAIL;
 *  - ref_next() counting 1, 2, 3 ... (all kinds share it, as in the core);
 *  - a tiny catalogue: commodities maize (mahindi, mais; unit bag),
 *    beans (maharagwe; unit kg) and the farm input dap (mbolea; unit bag;
 *    commodity_kind() "input", the others "produce"); planting seasons
 *    the test declares (mock_season), none by default; units bag (bags, gunia) and kg (kilo,
 *    kilos); markets nakuru (Nakuru, Rift Valley) and mombasa (Mombasa,
 *    Coast); currency KES; users +254700000001 (Wanjiru) and
 *    +254700000002 (Otieno), registered (user_since) on MOCK_USER_SINCE;
 *  - members of service points the test declares (plugin_mock_member):
 *    user_name() gives their label, contact() their agent's phone (any
 *    other identity's contact is itself), and trade_done() calls are kept
 *    (mock_trade);
 *  - admins the test declares (mock_admin), whom role_users(MB_ROLE_ADMIN)
 *    lists (no other role lists anyone);
 *  - hubs of the delivery chain the test declares (mock_hub), none by
 *    default (route() is then 0: orders go door to door);
 *  - the table's size the test may cut to an older host's (mock_host_size);
 *  - a clock the test sets, and the plugin's log lines kept.
 *
 * Typical use:
 *
 *	struct mock *m = mock_new(&marketbox_plugin);
 *	mock_conf(m, "prefix", "Echo:");
 *	cr_assert_eq(mock_init(m), MB_OK);
 *	cr_assert_eq(mock_command(m, "echo hello"), MB_OK);
 *	cr_assert_str_eq(mock_arg(mock_sent(m, 0), "text"), "Echo: hello");
 *	mock_free(m);
 *
 * The mock checks what the daemon's loader checks (ABI, size, commands)
 * and aborts the test (cr_assert) when a plugin breaks the contract:
 * a reply with no template, an argument with no name.
 */
#ifndef MARKETBOX_PLUGIN_MOCK_H
#define MARKETBOX_PLUGIN_MOCK_H

#include <stddef.h>

#include <sqlite3.h>

#include "marketbox-plugin.h"

struct mock;
struct store;

/* When the mock's users registered (user_since): 1 March 2024, UTC. */
#define MOCK_USER_SINCE		1709251200LL

/* One reply or notice the plugin made. */
struct mock_msg {
	char		 *to;		/* NULL for a reply to the sender */
	char		 *tmpl;
	char		**names;
	char		**values;
	size_t		  nargs;
	char		 *command;	/* what YES runs, for an ask() */
};

/* A completed trade the plugin reported (host->trade_done). */
struct mock_trade {
	long long	 ref;
	char		*seller, *buyer;
	long long	 total;		/* minor units */
};

/* The host table every mock hands to plugins (mock_host_size aside). */
const struct mb_host	*mock_host(void);

/*
 * A mock host around plugin: checks the descriptor and applies its
 * migrations to a fresh database.  init is not called yet (set
 * conf values first).  Aborts the test if the descriptor is refused.
 */
struct mock		*mock_new(const struct mb_plugin *);
/*
 * The same on the database named (a file, or a PostgreSQL conninfo such
 * as pg_fixture_create's: the plugin's SQL on that engine); NULL: a fresh
 * SQLite file, as mock_new.  mock_db() is NULL on PostgreSQL.
 */
struct mock		*mock_new_on(const struct mb_plugin *,
			    const char *database);
/* Calls fini if init succeeded; accepts NULL. */
void			 mock_free(struct mock *);

/* A value of the plugin's conf group; the key must be one it declares. */
void			 mock_conf(struct mock *, const char *key,
			    const char *value);
/* Call the plugin's init (MB_OK when it has none). */
int			 mock_init(struct mock *);

/*
 * The sender of the next commands.  Default: +254700000001, "Wanjiru",
 * market nakuru, language en, roles farmer|buyer, registered.  name and
 * market may be NULL; a NULL name also makes the sender unregistered.
 */
void			 mock_sender(struct mock *, const char *msisdn,
			    const char *name, const char *market,
			    const char *language, unsigned roles);
/*
 * A member of a service point: identity (her phone, or "m:M17") is
 * named label by user_name() ("Mary Wanjiku via Kiambogo point") and
 * reached on agent_phone by contact().
 */
void			 plugin_mock_member(struct mock *, const char *identity,
			    const char *label, const char *agent_phone);
/*
 * The size the table handed to the plugin says it has: an older host's
 * (offsetof(struct mb_host, contact), say) hides what follows.
 */
void			 mock_host_size(struct mock *, size_t);
/*
 * A planting season season() gives (after those declared before); its
 * strings must outlive the mock (literals).  At most 4.
 */
void			 mock_season(struct mock *, const struct mb_season *);
/* An admin role_users(MB_ROLE_ADMIN) lists (at most 4; none by default). */
void			 mock_admin(struct mock *, const char *msisdn);
/*
 * A hub of the delivery chain (hub(), hub_name(), market_hub(), route()):
 * code, its name (hub_name() gives it in every language), level
 * ("county", "township", "village"), its parent's code (NULL: none),
 * the market and service point codes it serves and its operators'
 * phones, each a ';'-separated list (NULL: none).  route() goes up from
 * the seller's place's hub to the first hub both chains share and down
 * to the buyer's, as the daemon's.  None by default: every route is 0.
 * At most 8.
 */
void			 mock_hub(struct mock *, const char *code,
			    const char *name, const char *level,
			    const char *parent, const char *places,
			    const char *operators);
/*
 * user_place(msisdn) gives place (a market or service point code; NULL:
 * forget it).  Nobody has one by default.  At most 8 people.
 */
void			 mock_place(struct mock *, const char *msisdn,
			    const char *place);
/* pay_to() gives number as the paybill and the order's number as the
   account (NULL, the default: marketbox takes no payments). */
void			 mock_pay_to(struct mock *, const char *number);
/* The pay_event() calls so far, "43 closed; 44 delivered" ("" none),
   and forgetting them.  pay_said() is not faked: it is the core's own
   (src/pay/pay_said.c) on the mock's store, its claims and ledger rows
   real, its notices captured as the plugin's. */
const char		*mock_pay_events(struct mock *);
void			 mock_pay_events_clear(struct mock *);
/* With on, contact() returns NULL, as on a store failure. */
/* sms_parts() measures with fn (a test's real rendering), NULL: the
   mock's text as it is */
void			 mock_sms_parts(struct mock *,
			    size_t (*fn)(const char *text));
void			 mock_fail_contact(struct mock *, int on);
/* With on, as marketbox without country-code: country_code() NULL, msisdn()
   refuses local numbers (0722000111). */
void			 mock_no_country_code(struct mock *, int on);
/* With on, trade_done() returns -1 (and keeps nothing). */
void			 mock_fail_trade_done(struct mock *, int on);
/* trade_done() calls since mock_new (mock_clear leaves them). */
size_t			 mock_ntrades(const struct mock *);
const struct mock_trade	*mock_trade(const struct mock *, size_t i);

/*
 * With on, reply() and notify() fail (return -1) as they do in the daemon
 * when the store fails: the plugin should then return MB_FAIL.
 */
void			 mock_fail_sends(struct mock *, int on);
/* The clock now() reads (default 1700000000). */
void			 mock_set_now(struct mock *, long long);

/*
 * Handle text as the router would: its first word is the keyword, the
 * command whose id is that word in capitals (ECHO for "echo") runs with
 * the rest as its words.  The role and registration checks the router
 * makes are made here too.  Returns the handler's result; on MB_USAGE,
 * or MB_OK with no reply made, the usage template (the command's, or
 * "usage-ID") is captured as a reply, as the daemon sends it.
 * Returns -100 when no command has that id, -101 when the sender may not
 * run it (nothing captured in both cases).
 */
int			 mock_command(struct mock *, const char *text);

/* What confirmed() answers for the next commands (default 0). */
void			 mock_confirmed(struct mock *, int on);
/*
 * What arg_other(i) answers for the next commands: the second reading of
 * word i (after the keyword, as arg() counts), or NULL (the default).
 */
void			 mock_arg_other(struct mock *, size_t i,
			    const char *reading);

/* Run the plugin's timer of that name (as the daemon would): its result. */
int			 mock_timer(struct mock *, const char *name);

/* Replies and notices captured so far, in order; mock_clear empties. */
size_t			 mock_nsent(const struct mock *);
const struct mock_msg	*mock_sent(const struct mock *, size_t i);
/* The value of argument name of msg, or NULL (no such argument). */
const char		*mock_arg(const struct mock_msg *, const char *name);
void			 mock_clear(struct mock *);

/* Log lines the plugin wrote, "LEVEL text" (LEVEL 0 debug .. 3 error). */
size_t			 mock_nlogs(const struct mock *);
const char		*mock_log_at(const struct mock *, size_t i);

/* For direct calls and checks of the plugin's tables. */
struct mb_ctx		*mock_ctx(struct mock *);
struct mb_plugin_ctx	*mock_plugin_ctx(struct mock *);
/* The mock's store: a test's own SQL (store_query, as the plugin's). */
struct store		*mock_store(struct mock *);
/* Its SQLite handle, for a test that reads SQLite's own views. */
sqlite3			*mock_db(struct mock *);
void			*mock_state(struct mock *);

#endif
