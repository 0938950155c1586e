/*
 * fuzz_stack.c - see fuzz_stack.h.
 */
#include "config.h"

#include <sys/types.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/event.h>
#include <sqlite3.h>

#include "base/gw.h"
#include "base/conf.h"
#include "plugin/core.h"
#include "engine/dispatch.h"
#include "http/http.h"
#include "queue/inbox.h"
#include "text/lang.h"
#include "queue/outbox.h"
#include "plugin/plugin.h"
#include "engine/router.h"
#include "store/store.h"
#include "engine/ussd.h"
#include "fuzz_stack.h"

static char		 fuzz_stack_dir[64];
static struct plugin_set *fuzz_stack_plugins;

static void
fuzz_stack_check(int ok, const char *what)
{
	if (!ok) {
		fprintf(stderr, "fuzz_stack: %s\n", what);
		abort();
	}
}

static void
fuzz_stack_set(char **field, const char *value)
{
	free(*field);
	fuzz_stack_check((*field = strdup(value)) != NULL, "out of memory");
}

static void
fuzz_stack_cleanup(void)
{
	char	 path[128];

	if (fuzz_stack_dir[0] == '\0')
		return;
	snprintf(path, sizeof(path), "%s/mb.db", fuzz_stack_dir);
	unlink(path);
	snprintf(path, sizeof(path), "%s/mb.db-wal", fuzz_stack_dir);
	unlink(path);
	snprintf(path, sizeof(path), "%s/mb.db-shm", fuzz_stack_dir);
	unlink(path);
	rmdir(fuzz_stack_dir);
}

/* A loopback port nobody listens on just now. */
static int
fuzz_stack_free_port(void)
{
	struct sockaddr_in	 sin;
	socklen_t		 len = sizeof(sin);
	int			 fd, port;

	fuzz_stack_check((fd = socket(AF_INET, SOCK_STREAM, 0)) != -1,
	    "socket");
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	fuzz_stack_check(bind(fd, (struct sockaddr *)&sin, sizeof(sin)) == 0 &&
	    getsockname(fd, (struct sockaddr *)&sin, &len) == 0, "bind");
	port = ntohs(sin.sin_port);
	close(fd);
	return port;
}

void
fuzz_stack_new(struct fuzz_stack *st, int http)
{
	static const char *const names[3] = { "market", "prices", "echo" };
	struct lang_set		*langs;
	struct plugin_env	 env;
	char			 path[128];
	size_t			 i;

	memset(st, 0, sizeof(*st));
	gwlib_init();
	log_set_output_level(GW_PANIC);
	signal(SIGPIPE, SIG_IGN);
	snprintf(fuzz_stack_dir, sizeof(fuzz_stack_dir),
	    "%s/fuzz_stack.XXXXXX", getenv("TMPDIR") ? getenv("TMPDIR") :
	    "/tmp");
	fuzz_stack_check(mkdtemp(fuzz_stack_dir) != NULL, "mkdtemp");
	atexit(fuzz_stack_cleanup);
	snprintf(path, sizeof(path), "%s/mb.db", fuzz_stack_dir);

	fuzz_stack_check((st->base = event_base_new()) != NULL, "event base");
	fuzz_stack_check((st->conf = conf_load(FUZZ_SRCDIR
	    "/conf/marketbox.conf")) != NULL, "the shipped conf does not load");
	for (i = 0; i < st->conf->nplugins; i++) {
		free(st->conf->plugins[i].name);
		free(st->conf->plugins[i].module);
	}
	free(st->conf->plugins);
	st->conf->nplugins = 3;
	fuzz_stack_check((st->conf->plugins = calloc(3,
	    sizeof(*st->conf->plugins))) != NULL, "out of memory");
	for (i = 0; i < 3; i++) {
		char	module[256];

		snprintf(module, sizeof(module), "%s/%s.so", FUZZ_PLUGIN_DIR,
		    names[i]);
		fuzz_stack_set(&st->conf->plugins[i].name, names[i]);
		fuzz_stack_set(&st->conf->plugins[i].module, module);
	}
	fuzz_stack_set(&st->conf->language_dir, FUZZ_SRCDIR "/conf/lang");
	fuzz_stack_set(&st->conf->plugin_dir, FUZZ_PLUGIN_DIR);
	fuzz_stack_set(&st->conf->database, path);
	/* No flood limit to speak of (0 is the default, not "none"). */
	st->conf->flood_rate = 1000000;
	st->conf->flood_burst = 1000000;
	st->conf->retry_delay = 3600;	/* nothing is resent while fuzzing */

	fuzz_stack_check((st->store = store_open(path, http ? st->base :
	    NULL)) != NULL, "store_open");
	/* Durability is not what is fuzzed: no fsync per input. */
	fuzz_stack_check(sqlite3_exec(store_db(st->store),
	    "PRAGMA synchronous = OFF", NULL, NULL, NULL) == SQLITE_OK,
	    "PRAGMA synchronous");
	fuzz_stack_check((st->outbox = outbox_new(st->base, st->store,
	    st->conf)) != NULL, "outbox_new");
	fuzz_stack_check((langs = lang_load(st->conf->language_dir,
	    st->conf->default_language)) != NULL, "the languages do not load");
	fuzz_stack_check((fuzz_stack_plugins = plugin_load(st->conf)) != NULL,
	    "the plugins do not load");
	fuzz_stack_check((st->router = router_new(st->conf, st->store,
	    st->outbox, langs, fuzz_stack_plugins)) != NULL, "router_new");
	env.host = &host_table;
	env.run_timer = router_run_timer;
	env.arg = st->router;
	fuzz_stack_check(plugin_start(fuzz_stack_plugins, st->store, NULL,
	    &env) == 0, "plugin_start");
	fuzz_stack_check((st->ussd = ussd_new(NULL, st->conf, st->store,
	    st->outbox, st->router)) != NULL, "ussd_new");
	fuzz_stack_check((st->dispatch = dispatch_new(st->router, st->ussd,
	    st->outbox)) != NULL, "dispatch_new");
	fuzz_stack_check((st->inbox = inbox_new(st->store,
	    st->dispatch)) != NULL, "inbox_new");
	if (http) {
		for (i = 0; i < 10 && st->http == NULL; i++) {
			st->conf->http_port = st->port = fuzz_stack_free_port();
			st->http = http_new(st->base, st->conf, st->store);
		}
		fuzz_stack_check(st->http != NULL, "http_new");
		fuzz_stack_check(http_waysin_register(st->http, st->inbox,
		    st->ussd) == 0, "http_waysin_register");
	}
	fuzz_stack_check(store_commit(st->store) == 0, "store_commit");
}

void
fuzz_stack_reset(struct fuzz_stack *st)
{
	sqlite3		*db = store_db(st->store);
	sqlite3_stmt	*q;
	char		*sql;

	ussd_sweep(st->ussd, LLONG_MAX / 4);
	fuzz_stack_check(store_commit(st->store) == 0, "store_commit");
	fuzz_stack_check(sqlite3_prepare_v2(db, "SELECT name FROM sqlite_master "
	    "WHERE type = 'table' AND name <> 'schema_versions' "
	    "AND name NOT LIKE 'sqlite\\_%' ESCAPE '\\'", -1, &q, NULL) ==
	    SQLITE_OK, "prepare");
	fuzz_stack_check(sqlite3_exec(db, "PRAGMA foreign_keys = OFF; BEGIN",
	    NULL, NULL, NULL) == SQLITE_OK, sqlite3_errmsg(db));
	while (sqlite3_step(q) == SQLITE_ROW) {
		fuzz_stack_check((sql = sqlite3_mprintf("DELETE FROM \"%w\"",
		    (const char *)sqlite3_column_text(q, 0))) != NULL,
		    "out of memory");
		fuzz_stack_check(sqlite3_exec(db, sql, NULL, NULL, NULL) ==
		    SQLITE_OK, sqlite3_errmsg(db));
		sqlite3_free(sql);
	}
	sqlite3_finalize(q);
	/* AUTOINCREMENT counters, when a table has one. */
	sqlite3_exec(db, "DELETE FROM sqlite_sequence", NULL, NULL, NULL);
	fuzz_stack_check(sqlite3_exec(db, "COMMIT; PRAGMA foreign_keys = ON",
	    NULL, NULL, NULL) == SQLITE_OK, sqlite3_errmsg(db));
}
