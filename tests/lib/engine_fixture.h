/*
 * engine_fixture.h - the world the engine's tests (test_router,
 * test_agents) run in: a conf built in C, a store in a temporary directory
 * of the test's own (or a database the test names), the outbox, the real
 * router and inbox of router_fixture.h, and the router's languages (the
 * shipped ones, loaded once) to render the replies a test expects.  MOs
 * go the way production sends them (struct mo -> inbox_receive(),
 * committed by hand, the reply inline in the done callback); the store is
 * looked at with SQL.
 *
 * One world at a time, in engine_fixture, between engine_fixture_open()
 * (a suite's .init) and engine_fixture_close() (its .fini).  Every
 * function fails the test on any error.
 */
#ifndef MARKETBOX_TEST_ENGINE_FIXTURE_H
#define MARKETBOX_TEST_ENGINE_FIXTURE_H

#include <stdarg.h>

#include <sqlite3.h>

#include "queue/inbox.h"

struct conf;
struct conf_names;
struct event_base;
struct lang_set;
struct outbox;
struct router;
struct store;

struct engine_fixture {
	char			 dir[64];	/* the test's own directory */
	char			 path[256];	/* what the store opened */
	struct event_base	*base;
	struct conf		*conf;		/* owned: freed by close */
	struct store		*store;
	struct outbox		*outbox;
	struct router		*router;
	struct inbox		*inbox;
	int			 nextid;	/* of the last MO sent */
	/* What the done callback was told about the last MO. */
	struct {
		int			 calls;
		enum inbox_status	 status;
		int			 null;		/* no inline reply */
		char			 reply[8192];
		char			 id[64];	/* of the last MO */
	} told;
};

extern struct engine_fixture	 engine_fixture;

/* A copy of s. */
char		*engine_fixture_strdup(const char *s);
/* n from a ';'-separated list ("" for none); n's old names are not freed. */
void		 engine_fixture_names(struct conf_names *n, const char *list);
/*
 * A conf as a test starts it: sender 777, smsbox marketbox, 3 parts, 3
 * retries a second apart, country code 254, currency KES; no catalogue,
 * no plugin.  The caller adds what it tests.
 */
struct conf	*engine_fixture_conf(void);
/* Append a plugin named name loaded from module to c. */
void		 engine_fixture_plugin(struct conf *c, const char *name,
		    const char *module);

/*
 * The world of one test on conf (owned from here on): a directory
 * /tmp/test_<name>_XXXXXX, the store at path (NULL: a SQLite file in the
 * directory), the outbox, router, inbox and languages.  Logs at panic
 * level only.
 */
void		 engine_fixture_open(const char *name, struct conf *conf,
		    const char *path);
/*
 * The open world's parts into the variables a test knows them by (NULL:
 * not wanted).  The tests name them as their own set-up did; conf,
 * store, outbox, router and inbox are struct tags too, which a macro
 * cannot stand for.
 */
void		 engine_fixture_parts(struct conf **conf, struct store **store,
		    struct outbox **outbox, struct router **router,
		    struct inbox **inbox, const struct lang_set **langs);
/* Free it all and remove the directory. */
void		 engine_fixture_close(void);

/* The inbox's done callback: records in engine_fixture.told. */
void		 engine_fixture_done_cb(void *arg, enum inbox_status status,
		    const char *reply);
/*
 * Send text from sender at time t (id mo-<n>, a new n each time), over
 * HTTP with the reply inline or over the box, commit, and return the
 * inline reply ("(null)" for none).  The MO must be stored.
 */
const char	*engine_fixture_send(const char *sender, const char *text,
		    long long t, int inline_reply);

/* sql prepared on the store, ?1 bound to arg (if not NULL). */
sqlite3_stmt	*engine_fixture_query(const char *sql, const char *arg);
/* The first column of sql's first row: an integer, -1 when no row. */
long long	 engine_fixture_int(const char *sql, const char *arg);
/* The same as text: "(null)" for NULL, "(none)" when no row; a ring of 4
 * buffers. */
const char	*engine_fixture_text(const char *sql, const char *arg);
/*
 * Template tmpl of language lang rendered with the (name, value) pairs
 * that follow, up to a NULL name; a ring of 8 buffers.
 */
const char	*engine_fixture_reply(const char *lang, const char *tmpl, ...);

#endif
