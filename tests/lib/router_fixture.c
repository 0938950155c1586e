/*
 * router_fixture.c - see router_fixture.h.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include <criterion/criterion.h>

#include "base/gw.h"
#include "base/conf.h"
#include "plugin/core.h"
#include "engine/dispatch.h"
#include "queue/inbox.h"
#include "text/lang.h"
#include "plugin/plugin.h"
#include "engine/router.h"
#include "router_fixture.h"

static struct plugin_set	*fixture_plugins;
static struct dispatch		*fixture_dispatch;

static void
fixture_set(char **field, const char *value)
{
	free(*field);
	*field = strdup(value);
	cr_assert_not_null(*field);
}

struct router *
fixture_router_new(struct conf *conf, struct store *store,
    struct outbox *outbox)
{
	struct lang_set		*langs;
	struct router		*r;
	struct plugin_env	 env;

	fixture_set(&conf->language_dir, TEST_SRCDIR "/../conf/lang");
	fixture_set(&conf->plugin_dir, TEST_BUILDDIR "/plugins/echo/.libs");
	fixture_set(&conf->default_language, "en");
	if (conf->currency == NULL)
		fixture_set(&conf->currency, "KES");
	if (conf->flood_rate == 0)
		conf->flood_rate = 1000000;
	if (conf->flood_burst == 0)
		conf->flood_burst = 1000000;
	langs = lang_load(conf->language_dir, conf->default_language);
	cr_assert_not_null(langs, "the shipped languages do not load");
	fixture_plugins = plugin_load(conf);
	cr_assert_not_null(fixture_plugins, "the echo plugin does not load");
	r = router_new(conf, store, outbox, langs, fixture_plugins);
	cr_assert_not_null(r);
	env.host = &host_table;
	env.host_abi1 = &host_table_abi1;
	env.run_timer = router_run_timer;
	env.arg = r;
	cr_assert_eq(plugin_start(fixture_plugins, store, NULL, &env), 0);
	return r;
}

void
fixture_router_free(struct router *r)
{
	plugin_free(fixture_plugins);
	fixture_plugins = NULL;
	router_free(r);
}

struct inbox *
fixture_inbox_new(struct store *store, struct router *router,
    struct ussd *ussd, struct outbox *outbox)
{
	struct inbox	*in;

	cr_assert_null(fixture_dispatch, "one fixture inbox at a time");
	fixture_dispatch = dispatch_new(router, ussd, outbox);
	cr_assert_not_null(fixture_dispatch);
	in = inbox_new(store, fixture_dispatch);
	cr_assert_not_null(in);
	return in;
}

void
fixture_inbox_free(struct inbox *in)
{
	inbox_free(in);
	dispatch_free(fixture_dispatch);
	fixture_dispatch = NULL;
}
