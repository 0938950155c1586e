/*
 * test_hubs.c - host.c's delivery chain calls, as a plugin makes them
 * through the host table: hub() size-first (a plugin built against a
 * shorter struct mb_hub gets only what fits), hub_name() in the reader's
 * language, market_hub() and route() over tests/data/hubs.conf's tree
 * (two counties: k1 with townships t1 and t2, k2 with t3; see the file).
 * The tree's checks and conf_hub_route's cases are test_conf.c's.
 */
#include "config.h"

#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <criterion/criterion.h>

#include "base/gw.h"

#include "base/conf.h"
#include "plugin/core.h"
#include "marketbox-plugin.h"
#include "store/store.h"

static char		 dir[] = "/tmp/test_hubs_XXXXXX";
static struct conf	*conf;
static struct store	*store;
static struct core	 core;
static struct mb_ctx	 ctx;

static void
setup(void)
{
	char			 path[600];
	struct store_stmt	*q;

	gwlib_init();
	log_set_output_level(GW_PANIC);
	cr_assert_not_null(mkdtemp(dir));
	cr_assert_not_null(conf = conf_load(TEST_SRCDIR "/data/hubs.conf"));
	snprintf(path, sizeof(path), "%s/mb.db", dir);
	cr_assert_not_null(store = store_open(path, NULL));
	/* a reader who chose Swahili */
	cr_assert_not_null(q = store_query(store, "INSERT INTO users"
	    "(msisdn, name, language, created, updated)"
	    " VALUES ('+254722000900', 'Wanjiku', 'sw', 0, 0)"));
	cr_assert_eq(store_step(q), STORE_DONE);
	store_done(q);
	memset(&core, 0, sizeof(core));
	core.conf = conf;
	core.store = store;
	memset(&ctx, 0, sizeof(ctx));
	ctx.core = &core;
	ctx.lang = "fr";
}

static void
teardown(void)
{
	char	 cmd[600];

	host_ctx_clear(&ctx);
	store_free(store);
	conf_free(conf);
	gwlib_shutdown();
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	if (system(cmd) != 0)
		fprintf(stderr, "cannot remove %s\n", dir);
}

TestSuite(hubs, .init = setup, .fini = teardown);

Test(hubs, hub_whole)
{
	struct mb_hub	 h;

	memset(&h, 0, sizeof(h));
	h.size = sizeof(h);
	cr_assert_eq(host_table.hub(&ctx, "v1", &h), 1);
	cr_assert_eq(h.size, sizeof(h));
	cr_assert_str_eq(h.code, "v1");
	cr_assert_str_eq(h.level, "village");
	cr_assert_str_eq(h.parent, "t1");
	cr_assert_eq(h.noperators, 2);
	cr_assert_str_eq(h.operators[0], "+254722000111");
	cr_assert_str_eq(h.operators[1], "+254733000222");
	cr_assert_null(h.operators[2]);

	cr_assert_eq(host_table.hub(&ctx, "k1", &h), 1);
	cr_assert_str_eq(h.level, "county");
	cr_assert_null(h.parent, "a county has no parent");
	cr_assert_eq(h.noperators, 0);
	cr_assert_null(h.operators[0], "v1's operators left over");

	/* all MB_HUB_OPERATORS of a hub that has that many */
	cr_assert_eq(host_table.hub(&ctx, "k2", &h), 1);
	cr_assert_eq(h.noperators, MB_HUB_OPERATORS);
	cr_assert_str_eq(h.operators[MB_HUB_OPERATORS - 1], "+254722000447");
}

Test(hubs, hub_none)
{
	struct mb_hub	 h;

	memset(&h, 0, sizeof(h));
	h.size = sizeof(h);
	cr_assert_eq(host_table.hub(&ctx, "nowhere", &h), 0);
	cr_assert_eq(host_table.hub(&ctx, "m-a", &h), 0, "a market is no hub");
	cr_assert_eq(host_table.hub(&ctx, NULL, &h), 0);
	cr_assert_eq(host_table.hub(&ctx, "v1", NULL), 0);
	h.size = 0;
	cr_assert_eq(host_table.hub(&ctx, "v1", &h), 0, "no room for size");
}

/* A plugin built when struct mb_hub ended at level: nothing past it. */
Test(hubs, hub_size_first)
{
	struct mb_hub	 h;
	size_t		 old = offsetof(struct mb_hub, level) +
			    sizeof(h.level);

	memset(&h, 0xab, sizeof(h));
	h.size = old;
	cr_assert_eq(host_table.hub(&ctx, "v1", &h), 1);
	cr_assert_eq(h.size, old);
	cr_assert_str_eq(h.code, "v1");
	cr_assert_str_eq(h.level, "village");
	cr_assert_eq(h.noperators, (size_t)0xabababababababab,
	    "written past the plugin's struct");
	/* a bigger struct than the host's (a newer plugin): what it has */
	memset(&h, 0, sizeof(h));
	h.size = sizeof(h) + 64;
	cr_assert_eq(host_table.hub(&ctx, "v1", &h), 1);
	cr_assert_eq(h.size, sizeof(h));
}

Test(hubs, hub_name_per_language)
{
	/* the reply's language */
	cr_assert_str_eq(host_table.hub_name(&ctx, NULL, "v1"),
	    "Centre du village un");
	/* the reader's: Swahili */
	cr_assert_str_eq(host_table.hub_name(&ctx, "+254722000900", "v1"),
	    "Kituo cha kijiji kimoja");
	/* a phone marketbox does not know: the reply's language */
	cr_assert_str_eq(host_table.hub_name(&ctx, "+254722000999", "v1"),
	    "Centre du village un");
	/* no name in that language: its name, else its code */
	ctx.lang = "zh";
	cr_assert_str_eq(host_table.hub_name(&ctx, NULL, "v1"),
	    "Village one hub");
	cr_assert_str_eq(host_table.hub_name(&ctx, NULL, "t1"),
	    "Township one hub");
	cr_assert_str_eq(host_table.hub_name(&ctx, "+254722000900", "v2"),
	    "v2");
	cr_assert_null(host_table.hub_name(&ctx, NULL, "nowhere"));
}

Test(hubs, market_hub)
{
	cr_assert_str_eq(host_table.market_hub(&ctx, "m-a"), "v1");
	cr_assert_str_eq(host_table.market_hub(&ctx, "p1"), "v1");
	cr_assert_str_eq(host_table.market_hub(&ctx, "m-d"), "t1");
	cr_assert_str_eq(host_table.market_hub(&ctx, "p2"), "v2",
	    "a point no hub lists: its market's hub");
	cr_assert_null(host_table.market_hub(&ctx, "m-lone"));
	cr_assert_null(host_table.market_hub(&ctx, "v1"), "a hub is no place");
	cr_assert_null(host_table.market_hub(&ctx, NULL));
}

/* host->route as codes joined by ' ' ("" when none), or "-1". */
static const char *
route(const char *from, const char *to, size_t max)
{
	static char	 buf[256];
	const char	*out[MB_ROUTE_MAX + 1];
	long		 n, i;

	cr_assert(max <= MB_ROUTE_MAX + 1);
	for (i = 0; i <= MB_ROUTE_MAX; i++)
		out[i] = "untouched";
	n = host_table.route(&ctx, from, to, out, max);
	if (n == -1)
		return "-1";
	cr_assert(n >= 0 && (size_t)n <= max, "%ld of %zu", n, max);
	for (i = n; i <= MB_ROUTE_MAX; i++)
		cr_assert_str_eq(out[i], "untouched", "written past %ld", n);
	buf[0] = '\0';
	for (i = 0; i < n; i++) {
		if (i > 0)
			strcat(buf, " ");
		strcat(buf, out[i]);
	}
	return buf;
}

Test(hubs, route_same_village)
{
	cr_assert_str_eq(route("m-a", "p1", MB_ROUTE_MAX), "");
	cr_assert_str_eq(route("p1", "p1", MB_ROUTE_MAX), "");
}

Test(hubs, route_same_township)
{
	cr_assert_str_eq(route("m-a", "m-b", MB_ROUTE_MAX), "v1 t1 v2");
	cr_assert_str_eq(route("p2", "m-a", MB_ROUTE_MAX), "v2 t1 v1");
	cr_assert_str_eq(route("m-a", "m-d", MB_ROUTE_MAX), "v1 t1");
}

Test(hubs, route_same_county)
{
	cr_assert_str_eq(route("p1", "m-c", MB_ROUTE_MAX), "v1 t1 k1 t2 v3");
	cr_assert_str_eq(route("m-c", "m-b", MB_ROUTE_MAX), "v3 t2 k1 t1 v2");
}

/* No hub above a county: two counties' places go door to door. */
Test(hubs, route_across_counties)
{
	cr_assert_str_eq(route("m-a", "m-e", MB_ROUTE_MAX), "");
	cr_assert_str_eq(route("m-e", "m-d", MB_ROUTE_MAX), "");
}

Test(hubs, route_without_hub)
{
	cr_assert_str_eq(route("m-lone", "m-a", MB_ROUTE_MAX), "");
	cr_assert_str_eq(route("m-a", "m-lone", MB_ROUTE_MAX), "");
	cr_assert_str_eq(route("m-a", "nowhere", MB_ROUTE_MAX), "");
	cr_assert_str_eq(route(NULL, "m-a", MB_ROUTE_MAX), "");
}

Test(hubs, route_max_too_small)
{
	cr_assert_str_eq(route("m-a", "m-c", 4), "-1");
	cr_assert_str_eq(route("m-a", "m-c", 5), "v1 t1 k1 t2 v3");
	cr_assert_str_eq(route("m-a", "m-b", 2), "-1");
	cr_assert_str_eq(route("m-a", "m-b", 0), "-1");
	/* more room than MB_ROUTE_MAX is fine */
	cr_assert_str_eq(route("m-a", "m-b", MB_ROUTE_MAX + 1), "v1 t1 v2");
	cr_assert_eq(host_table.route(&ctx, "m-a", "m-b", NULL, 8), -1);
	cr_assert_eq(host_table.route(&ctx, "m-a", "p1", NULL, 0), 0);
}

/*
 * With a national hub (tests/data/national.conf: k1 and k2 under n, k3
 * under none) two counties' places meet there: 7 hubs, within
 * MB_ROUTE_MAX; below a county nothing changes.
 */
static struct conf *
national(void)
{
	struct conf	*c = conf_load(TEST_SRCDIR "/data/national.conf");

	cr_assert_not_null(c);
	core.conf = c;
	return c;
}

Test(hubs, national_route_same_village)
{
	struct conf	*c = national();

	cr_assert_str_eq(route("m-a", "p1", MB_ROUTE_MAX), "");
	cr_assert_str_eq(route("m-e", "m-e", MB_ROUTE_MAX), "");
	core.conf = conf;
	conf_free(c);
}

Test(hubs, national_route_same_township)
{
	struct conf	*c = national();

	cr_assert_str_eq(route("p1", "m-b", MB_ROUTE_MAX), "v1 t1 v2");
	cr_assert_str_eq(route("m-a", "m-c", MB_ROUTE_MAX), "v1 t1 k1 t2 v3",
	    "one county: not through the national hub");
	core.conf = conf;
	conf_free(c);
}

Test(hubs, national_route_across_counties)
{
	struct conf	*c = national();
	struct mb_hub	 h;

	cr_assert_str_eq(route("m-a", "m-e", MB_ROUTE_MAX),
	    "v1 t1 k1 n k2 t3 v4");
	cr_assert_str_eq(route("m-e", "p1", MB_ROUTE_MAX),
	    "v4 t3 k2 n k1 t1 v1");
	/* k2 serves m-g itself: down to it, no further */
	cr_assert_str_eq(route("p1", "m-g", MB_ROUTE_MAX), "v1 t1 k1 n k2");
	/* exactly 7 is room enough, 6 is not */
	cr_assert_str_eq(route("m-a", "m-e", 7), "v1 t1 k1 n k2 t3 v4");
	cr_assert_str_eq(route("m-a", "m-e", 6), "-1");
	/* the national hub as a plugin sees it */
	memset(&h, 0, sizeof(h));
	h.size = sizeof(h);
	cr_assert_eq(host_table.hub(&ctx, "n", &h), 1);
	cr_assert_str_eq(h.level, "national");
	cr_assert_null(h.parent, "the national hub has no parent");
	cr_assert_str_eq(h.operators[0], "+254722000500");
	cr_assert_eq(host_table.hub(&ctx, "k1", &h), 1);
	cr_assert_str_eq(h.parent, "n");
	cr_assert_str_eq(host_table.hub_name(&ctx, "+254722000900", "n"),
	    "Kituo cha kitaifa");
	cr_assert_null(host_table.market_hub(&ctx, "n"), "a hub is no place");
	core.conf = conf;
	conf_free(c);
}

Test(hubs, national_route_missing_hubs)
{
	struct conf	*c = national();

	cr_assert_str_eq(route("m-lone", "m-e", MB_ROUTE_MAX), "");
	cr_assert_str_eq(route("m-e", "m-lone", MB_ROUTE_MAX), "");
	cr_assert_str_eq(route("m-a", "nowhere", MB_ROUTE_MAX), "");
	cr_assert_str_eq(route(NULL, "m-e", MB_ROUTE_MAX), "");
	core.conf = conf;
	conf_free(c);
}

/* A county under no national hub (k3): its places meet no other county's. */
Test(hubs, national_route_county_outside)
{
	struct conf	*c = national();

	cr_assert_str_eq(route("m-f", "m-a", MB_ROUTE_MAX), "");
	cr_assert_str_eq(route("m-e", "m-f", MB_ROUTE_MAX), "");
	core.conf = conf;
	conf_free(c);
}

/* Without hubs in the conf every place goes door to door. */
Test(hubs, no_hubs)
{
	struct conf	*c = conf_load(TEST_SRCDIR "/data/service-point.conf");

	cr_assert_not_null(c);
	core.conf = c;
	cr_assert_str_eq(route("nakuru", "kiambogo", MB_ROUTE_MAX), "");
	cr_assert_null(host_table.market_hub(&ctx, "nakuru"));
	core.conf = conf;
	conf_free(c);
}
