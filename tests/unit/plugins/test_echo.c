/*
 * test_echo.c - the echo plugin (plugins/echo/echo.c), run through the
 * mock host (plugin_mock.c) as a third party would test a plugin: no
 * daemon, no language files, the replies checked as template + args.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include <criterion/criterion.h>

#include "marketbox-plugin.h"

#include "plugin_mock.h"

/* plugins/echo/echo.c, compiled into this program */
extern const struct mb_plugin marketbox_plugin;

static struct mock	*m;

static void
setup(void)
{
	m = mock_new(&marketbox_plugin);
}

static void
teardown(void)
{
	mock_free(m);
	m = NULL;
}

TestSuite(echo, .init = setup, .fini = teardown);

/* Run text and check it got exactly one reply "echo" with {text} = want. */
static void
assert_echo(const char *text, const char *want)
{
	const struct mock_msg	*r;

	mock_clear(m);
	cr_assert_eq(mock_command(m, text), MB_OK, "%s", text);
	cr_assert_eq(mock_nsent(m), 1);
	r = mock_sent(m, 0);
	cr_assert_null(r->to, "a reply, not a notice");
	cr_assert_str_eq(r->tmpl, "echo");
	cr_assert_eq(r->nargs, 1);
	cr_assert_str_eq(r->names[0], "text");
	cr_assert_str_eq(mock_arg(r, "text"), want, "%s", text);
}

Test(echo, descriptor)
{
	const struct mb_plugin	*p = &marketbox_plugin;

	cr_assert_eq(p->abi, MB_PLUGIN_ABI);
	cr_assert_eq(p->size, sizeof(struct mb_plugin));
	cr_assert_str_eq(p->name, "echo");
	cr_assert_str_eq(p->version, "1.0");
	cr_assert_eq(p->ncommands, 1);
	cr_assert_str_eq(p->commands[0].id, "ECHO");
	cr_assert_str_eq(p->commands[0].usage, "usage-ECHO");
	cr_assert_eq(p->commands[0].flags, 0);
	cr_assert_eq(p->commands[0].roles, 0);
	cr_assert_eq(p->nconf_keys, 1);
	cr_assert_str_eq(p->conf_keys[0], "prefix");
	cr_assert_eq(p->nmigrations, 0);
	cr_assert_eq(p->ntimers, 0);
	cr_assert_not_null(p->init);
	cr_assert_not_null(p->fini);
}

Test(echo, replies_the_text_as_typed)
{
	cr_assert_eq(mock_init(m), MB_OK);
	assert_echo("echo hello", "hello");
	/* the rest as typed: case, inner spacing and punctuation kept */
	assert_echo("ECHO Hello  World, 3,000/=!", "Hello  World, 3,000/=!");
	assert_echo("  Echo   spaced out  ", "spaced out");
	assert_echo("echo \xe4\xbd\xa0\xe5\xa5\xbd \xc3\xa9t\xc3\xa9",
	    "\xe4\xbd\xa0\xe5\xa5\xbd \xc3\xa9t\xc3\xa9");
	cr_assert_eq(mock_nlogs(m), 0);
}

Test(echo, long_text)
{
	char	 text[1006], *want;

	memcpy(text, "echo ", 5);
	memset(text + 5, 'x', 1000);
	text[1005] = '\0';
	want = text + 5;
	cr_assert_eq(mock_init(m), MB_OK);
	assert_echo(text, want);
	cr_assert_eq(strlen(mock_arg(mock_sent(m, 0), "text")), 1000);
}

Test(echo, no_words_is_usage)
{
	const struct mock_msg	*r;

	cr_assert_eq(mock_init(m), MB_OK);
	cr_assert_eq(mock_command(m, "echo"), MB_USAGE);
	cr_assert_eq(mock_nsent(m), 1);
	r = mock_sent(m, 0);
	cr_assert_str_eq(r->tmpl, "usage-ECHO");
	cr_assert_eq(r->nargs, 0);
	mock_clear(m);
	cr_assert_eq(mock_command(m, "ECHO  \t "), MB_USAGE);
	cr_assert_eq(mock_nsent(m), 1);
	cr_assert_str_eq(mock_sent(m, 0)->tmpl, "usage-ECHO");
}

Test(echo, prefix_from_conf)
{
	mock_conf(m, "prefix", "Echo:");
	cr_assert_eq(mock_init(m), MB_OK);
	cr_assert_not_null(mock_state(m));
	assert_echo("echo hi there", "Echo: hi there");
	assert_echo("echo again", "Echo: again");
}

Test(echo, empty_prefix_is_none)
{
	mock_conf(m, "prefix", "");
	cr_assert_eq(mock_init(m), MB_OK);
	assert_echo("echo hi", "hi");
}

Test(echo, anyone_may_echo)
{
	cr_assert_eq(mock_init(m), MB_OK);
	/* not registered, no roles */
	mock_sender(m, "+254711000222", NULL, NULL, "sw", 0);
	assert_echo("echo habari", "habari");
}

Test(echo, only_its_own_keyword)
{
	cr_assert_eq(mock_init(m), MB_OK);
	cr_assert_eq(mock_command(m, "sell maize 10"), -100);
	cr_assert_eq(mock_command(m, "echoo hi"), -100);
	cr_assert_eq(mock_command(m, ""), -100);
	cr_assert_eq(mock_nsent(m), 0);
}

Test(echo, failed_reply_is_a_failure)
{
	cr_assert_eq(mock_init(m), MB_OK);
	mock_fail_sends(m, 1);
	cr_assert_eq(mock_command(m, "echo hi"), MB_FAIL);
	cr_assert_eq(mock_nsent(m), 0);
	mock_fail_sends(m, 0);
	assert_echo("echo hi", "hi");
}

Test(echo, fini_releases_the_state)
{
	mock_conf(m, "prefix", "P");
	cr_assert_eq(mock_init(m), MB_OK);
	cr_assert_not_null(mock_state(m));
	marketbox_plugin.fini(mock_plugin_ctx(m), mock_host());
	cr_assert_null(mock_state(m));
	/* init again, so teardown's fini has something to free */
	cr_assert_eq(marketbox_plugin.init(mock_plugin_ctx(m), mock_host()),
	    MB_OK);
	cr_assert_not_null(mock_state(m));
}

/*
 * The mock's store functions, which plugins with tables are tested on:
 * the daemon's store under them, with its core schema and $N parameters.
 */
Test(echo, mock_store_functions)
{
	static const char	 add[] = "INSERT INTO users(msisdn, name, "
	    "created, updated) VALUES ($1, $2, $3, $3) RETURNING id";
	static const char	 get[] = "SELECT name, opt_out, created "
	    "FROM users WHERE msisdn = $1";
	static const char	 stop[] = "UPDATE users SET opt_out = 1 "
	    "WHERE msisdn = $1";
	static const char	 bad[] = "SELECT nothing FROM nowhere";
	const struct mb_host	*h = mock_host();
	struct mb_ctx		*ctx = mock_ctx(m);
	struct mb_stmt		*st;
	long long		 id;

	cr_assert_str_eq(h->engine(ctx), "sqlite");
	cr_assert_not_null(st = h->query(ctx, add));
	cr_assert_eq(h->bind_text(st, 1, "+254700000009"), 0);
	cr_assert_eq(h->bind_text(st, 2, NULL), 0);
	cr_assert_eq(h->bind_int(st, 3, 1700000000), 0);
	cr_assert_eq(h->step(st), MB_ROW);
	id = h->column_int(st, 0);
	cr_assert_gt(id, 0);
	cr_assert_eq(h->step(st), MB_DONE);
	h->done(st);
	cr_assert_eq(h->last_id(ctx), id);
	cr_assert_eq(h->changes(ctx), 1);

	cr_assert_not_null(st = h->query(ctx, get));
	cr_assert_eq(h->bind_text(st, 1, "+254700000009"), 0);
	cr_assert_eq(h->step(st), MB_ROW);
	cr_assert(h->column_null(st, 0));
	cr_assert_null(h->column_text(st, 0));
	cr_assert_eq(h->column_int(st, 1), 0);
	cr_assert_eq(h->column_int(st, 2), 1700000000);
	cr_assert_str_eq(h->column_text(st, 2), "1700000000");
	cr_assert_eq(h->step(st), MB_DONE);
	h->done(st);
	cr_assert_eq(h->user_opt_out(ctx, "+254700000009"), 0);

	cr_assert_not_null(st = h->query(ctx, stop));
	cr_assert_eq(h->bind_null(st, 1), 0);
	cr_assert_eq(h->step(st), MB_DONE);
	h->done(st);
	cr_assert_eq(h->changes(ctx), 0, "NULL matches no phone");
	cr_assert_not_null(st = h->query(ctx, stop));
	cr_assert_eq(h->bind_text(st, 1, "+254700000009"), 0);
	cr_assert_eq(h->step(st), MB_DONE);
	h->done(st);
	cr_assert_eq(h->changes(ctx), 1);
	cr_assert_eq(h->user_opt_out(ctx, "+254700000009"), 1);

	cr_assert_null(h->query(ctx, bad), "SQL that does not prepare");
}
