/*
 * engine_fixture.c - see engine_fixture.h.
 */
#include "config.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <criterion/criterion.h>
#include <event2/event.h>
#include <sqlite3.h>

#include "base/gw.h"
#include "base/conf.h"
#include "queue/inbox.h"
#include "text/lang.h"
#include "marketbox-plugin.h"
#include "queue/mo.h"
#include "queue/outbox.h"
#include "engine/router.h"
#include "store/store.h"
#include "router_fixture.h"
#include "engine_fixture.h"

struct engine_fixture	 engine_fixture;

/* --- the conf ---------------------------------------------------------------- */

char *
engine_fixture_strdup(const char *s)
{
	char	*p = strdup(s);

	cr_assert_not_null(p);
	return p;
}

void
engine_fixture_names(struct conf_names *n, const char *list)
{
	char	*copy = engine_fixture_strdup(list), *p, *save = NULL;

	n->names = NULL;
	n->count = 0;
	for (p = strtok_r(copy, ";", &save); p != NULL;
	    p = strtok_r(NULL, ";", &save)) {
		n->names = realloc(n->names, (n->count + 1) *
		    sizeof(*n->names));
		cr_assert_not_null(n->names);
		n->names[n->count++] = engine_fixture_strdup(p);
	}
	free(copy);
}

struct conf *
engine_fixture_conf(void)
{
	struct conf	*c = calloc(1, sizeof(*c));

	cr_assert_not_null(c);
	c->global_sender = engine_fixture_strdup("777");
	c->smsbox_id = engine_fixture_strdup("marketbox");
	c->max_parts = 3;
	c->retry_limit = 3;
	c->retry_delay = 1;
	c->country_code = engine_fixture_strdup("254");
	c->currency = engine_fixture_strdup("KES");
	return c;
}

void
engine_fixture_plugin(struct conf *c, const char *name, const char *module)
{
	c->plugins = realloc(c->plugins, (c->nplugins + 1) *
	    sizeof(*c->plugins));
	cr_assert_not_null(c->plugins);
	memset(&c->plugins[c->nplugins], 0, sizeof(*c->plugins));
	c->plugins[c->nplugins].name = engine_fixture_strdup(name);
	c->plugins[c->nplugins].module = engine_fixture_strdup(module);
	c->nplugins++;
}

/* --- the world ----------------------------------------------------------------- */

void
engine_fixture_open(const char *name, struct conf *conf, const char *path)
{
	struct engine_fixture	*f = &engine_fixture;
	int			 n;

	memset(f, 0, sizeof(*f));
	f->conf = conf;
	gwlib_init();
	log_set_output_level(GW_PANIC);
	snprintf(f->dir, sizeof(f->dir), "/tmp/test_%s_XXXXXX", name);
	cr_assert_not_null(mkdtemp(f->dir), "cannot make %s", f->dir);
	if (path == NULL)
		n = snprintf(f->path, sizeof(f->path), "%s/mb.db", f->dir);
	else
		n = snprintf(f->path, sizeof(f->path), "%s", path);
	cr_assert_lt((size_t)n, sizeof(f->path), "the store's path is too long");
	cr_assert_not_null(f->base = event_base_new());
	cr_assert_not_null(f->store = store_open(f->path, NULL));
	cr_assert_not_null(f->outbox = outbox_new(f->base, f->store, conf));
	f->router = fixture_router_new(conf, f->store, f->outbox);
	f->inbox = fixture_inbox_new(f->store, f->router, NULL, f->outbox);
}

void
engine_fixture_parts(struct conf **conf, struct store **store,
    struct outbox **outbox, struct router **router, struct inbox **inbox,
    const struct lang_set **langs)
{
	struct engine_fixture	*f = &engine_fixture;

	if (conf != NULL)
		*conf = f->conf;
	if (store != NULL)
		*store = f->store;
	if (outbox != NULL)
		*outbox = f->outbox;
	if (router != NULL)
		*router = f->router;
	if (inbox != NULL)
		*inbox = f->inbox;
	if (langs != NULL)
		*langs = router_langs(f->router);
}

void
engine_fixture_close(void)
{
	struct engine_fixture	*f = &engine_fixture;
	char			 cmd[512];

	fixture_inbox_free(f->inbox);
	fixture_router_free(f->router);
	outbox_free(f->outbox);
	store_free(f->store);
	conf_free(f->conf);
	event_base_free(f->base);
	if ((size_t)snprintf(cmd, sizeof(cmd), "rm -rf '%s'", f->dir) >=
	    sizeof(cmd) || system(cmd) != 0)
		fprintf(stderr, "cannot remove %s\n", f->dir);
	gwlib_shutdown();
	memset(f, 0, sizeof(*f));
}

/* --- sending and looking ------------------------------------------------------- */

void
engine_fixture_done_cb(void *arg, enum inbox_status status, const char *reply)
{
	struct engine_fixture	*f = &engine_fixture;

	(void)arg;
	f->told.calls++;
	f->told.status = status;
	f->told.null = reply == NULL;
	snprintf(f->told.reply, sizeof(f->told.reply), "%s",
	    reply ? reply : "(null)");
}

const char *
engine_fixture_send(const char *sender, const char *text, long long t,
    int inline_reply)
{
	struct engine_fixture	*f = &engine_fixture;
	struct mo		 mo;
	int			 calls = f->told.calls;

	memset(&mo, 0, sizeof(mo));
	snprintf(f->told.id, sizeof(f->told.id), "mo-%d", ++f->nextid);
	mo.id = f->told.id;
	mo.channel = inline_reply ? "http" : "box";
	mo.sender = sender;
	mo.receiver = "777";
	mo.text = text;
	mo.time = t;
	mo.reply_inline = inline_reply;
	cr_assert_eq(inbox_receive(f->inbox, &mo, engine_fixture_done_cb,
	    NULL), 0);
	cr_assert_eq(store_commit(f->store), 0);
	cr_assert_eq(f->told.calls, calls + 1, "the caller was not told once");
	cr_assert_eq(f->told.status, INBOX_STORED, "MO '%s' not stored",
	    text);
	return f->told.reply;
}

sqlite3_stmt *
engine_fixture_query(const char *sql, const char *arg)
{
	sqlite3_stmt	*st;

	cr_assert_eq(sqlite3_prepare_v2(store_db(engine_fixture.store), sql,
	    -1, &st, NULL), SQLITE_OK, "%s", sql);
	if (arg != NULL)
		cr_assert_eq(sqlite3_bind_text(st, 1, arg, -1,
		    SQLITE_TRANSIENT), SQLITE_OK);
	return st;
}

long long
engine_fixture_int(const char *sql, const char *arg)
{
	sqlite3_stmt	*st = engine_fixture_query(sql, arg);
	long long	 v = -1;

	if (sqlite3_step(st) == SQLITE_ROW)
		v = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	return v;
}

const char *
engine_fixture_text(const char *sql, const char *arg)
{
	static char	 buf[4][2048];
	static int	 i;
	sqlite3_stmt	*st = engine_fixture_query(sql, arg);
	char		*out = buf[i++ % 4];

	snprintf(out, sizeof(buf[0]), "(none)");
	if (sqlite3_step(st) == SQLITE_ROW) {
		const unsigned char *t = sqlite3_column_text(st, 0);

		snprintf(out, sizeof(buf[0]), "%s", t ? (const char *)t :
		    "(null)");
	}
	sqlite3_finalize(st);
	return out;
}

const char *
engine_fixture_reply(const char *lang, const char *tmpl, ...)
{
	static char	 buf[8][4096];
	static int	 i;
	struct mb_arg	 args[8];
	size_t		 n = 0;
	const char	*t = lang_template(router_langs(engine_fixture.router),
		    lang, tmpl);
	char		*s, *out = buf[i++ % 8];
	va_list		 ap;

	cr_assert_not_null(t, "no template %s in %s", tmpl, lang);
	va_start(ap, tmpl);
	while (n < 8 && (args[n].name = va_arg(ap, const char *)) != NULL) {
		args[n].value = va_arg(ap, const char *);
		n++;
	}
	va_end(ap);
	s = lang_render(t, args, n);
	cr_assert_not_null(s);
	snprintf(out, sizeof(buf[0]), "%s", s);
	free(s);
	return out;
}
