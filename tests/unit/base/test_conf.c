/*
 * test_conf.c - conf.c: a good file read into the struct, and every kind of
 * bad file refused with the file and line in the log.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <criterion/criterion.h>

#include "base/gw.h"
#include "base/conf.h"
#include "base/phone.h"

static char	logpath[] = "/tmp/test_conf_log_XXXXXX";

static void
setup(void)
{
	int	 fd;

	gwlib_init();
	log_set_output_level(GW_PANIC);
	fd = mkstemp(logpath);
	cr_assert(fd != -1);
	close(fd);
	cr_assert(log_open(logpath, GW_DEBUG, GW_NON_EXCL) != -1);
	cr_assert(chdir(TEST_SRCDIR "/data") == 0);
}

static void
teardown(void)
{
	gwlib_shutdown();
	unlink(logpath);
}

/* Everything logged so far, as one string (caller frees). */
static char *
logged(void)
{
	FILE	*fp = fopen(logpath, "r");
	char	*buf = calloc(1, 65536);
	size_t	 n;

	cr_assert(fp != NULL && buf != NULL);
	n = fread(buf, 1, 65535, fp);
	buf[n] = '\0';
	fclose(fp);
	return buf;
}

static void
assert_refused(const char *file, const char *needle1, const char *needle2)
{
	struct conf	*c = conf_load(file);
	char		*log;

	cr_assert_null(c, "%s was accepted", file);
	log = logged();
	cr_assert(strstr(log, needle1) != NULL, "log lacks '%s':\n%s",
	    needle1, log);
	if (needle2 != NULL)
		cr_assert(strstr(log, needle2) != NULL, "log lacks '%s':\n%s",
		    needle2, log);
	free(log);
}

TestSuite(conf, .init = setup, .fini = teardown);

Test(conf, good_file_fills_the_struct)
{
	struct conf			*c = conf_load("good.conf");
	const struct conf_commodity	*maize;
	const struct conf_unit		*bag;

	cr_assert_not_null(c);
	cr_assert_str_eq(c->smsbox_id, "mbtest");
	cr_assert_str_eq(c->bearerbox_host, "127.0.0.1");
	cr_assert_eq(c->bearerbox_port, 14001);
	cr_assert_str_eq(c->global_sender, "777");
	cr_assert_str_eq(c->database, "/tmp/marketbox-test.db");
	cr_assert_eq(c->log_level, 2);
	cr_assert_eq(c->http_port, 13080);
	cr_assert_str_eq(c->http_interface, "127.0.0.1");
	cr_assert_eq(c->http_allow_ip.count, 2);
	cr_assert_str_eq(c->http_allow_ip.names[0], "10.0.0.5");
	cr_assert_str_eq(c->http_allow_ip.names[1], "192.168.1.*");
	cr_assert_str_eq(c->country_code, "254");
	cr_assert(c->throughput > 12.49 && c->throughput < 12.51);
	cr_assert_eq(c->max_parts, 4);
	cr_assert_eq(c->nunits, 2);
	cr_assert_eq(c->ncommodities, 1);
	cr_assert_eq(c->nmarkets, 1);
	cr_assert_eq(c->nplugins, 1);
	cr_assert_str_eq(c->plugins[0].module, "echo");

	bag = conf_unit_find(c, "bag");
	cr_assert_not_null(bag);
	cr_assert_eq(bag->aliases.count, 4);
	cr_assert_str_eq(bag->aliases.names[3], "袋");
	maize = conf_commodity_find(c, "maize");
	cr_assert_not_null(maize);
	cr_assert_str_eq(maize->unit, "bag");
	/* blanks trimmed, empty items dropped, UTF-8 kept */
	cr_assert_eq(maize->aliases.count, 3);
	cr_assert_str_eq(maize->aliases.names[1], "maïs");
	cr_assert_str_eq(conf_market_find(c, "nakuru")->region, "rift-valley");
	cr_assert_null(conf_market_find(c, "mombasa"));
	conf_free(c);
}

Test(conf, defaults)
{
	struct conf	*c = conf_load("include.conf");

	cr_assert_not_null(c);
	cr_assert_str_eq(c->smsbox_id, "marketbox");
	cr_assert_eq(c->bearerbox_port, 13001);
	cr_assert_eq(c->http_port, 0);
	cr_assert_str_eq(c->http_interface, "127.0.0.1");
	cr_assert_str_eq(c->default_language, "en");
	cr_assert_eq(c->dlr_mask, 31);
	cr_assert_eq(c->max_parts, 3);
	cr_assert(c->throughput == 0);
	cr_assert_null(c->admin_password);
	cr_assert_null(c->sendsms_url);
	cr_assert_eq(c->http_max_connections, 128);
	cr_assert_eq(c->http_request_timeout, 10);
	cr_assert_eq(c->http_host_names.count, 0);
	cr_assert_null(c->sms_secret);
	cr_assert_null(c->ussd_secret);
	cr_assert_eq(c->question_lifetime, 900);
	conf_free(c);
}

Test(conf, http_limits_names_and_secrets)
{
	struct conf	*c = conf_load("http-keys.conf");

	cr_assert_not_null(c);
	cr_assert_eq(c->http_max_connections, 64);
	cr_assert_eq(c->http_request_timeout, 5);
	cr_assert_eq(c->http_host_names.count, 2);
	cr_assert_str_eq(c->http_host_names.names[1], "gw.example.org");
	cr_assert_str_eq(c->sms_secret, "s-secret");
	cr_assert_null(c->ussd_secret, "an empty secret is none");
	conf_free(c);
}

Test(conf, include_reads_the_other_file)
{
	struct conf	*c = conf_load("include.conf");

	cr_assert_not_null(c);
	cr_assert_eq(c->nunits, 1);
	cr_assert_str_eq(c->units[0].code, "crate");
	conf_free(c);
}

Test(conf, typo_in_key_names_file_and_line)
{
	assert_refused("typo.conf", "/data/typo.conf:4: unknown key 'databse' "
	    "in group marketbox (did you mean database?)", NULL);
}

Test(conf, bad_value_names_file_and_line)
{
	assert_refused("badvalue.conf", "badvalue.conf:3: bearerbox-port",
	    "99999");
}

/* A question must wait at least a minute: a phone needs time to answer. */
Test(conf, question_lifetime)
{
	struct conf	*c = conf_load("question.conf");

	cr_assert_not_null(c);
	cr_assert_eq(c->question_lifetime, 600);
	conf_free(c);
	assert_refused("badquestion.conf",
	    "badquestion.conf:3: question-lifetime", "30");
}

/* group = payments: its values, and each bad one with its file and line. */
Test(conf, payments)
{
	struct conf	*c = conf_load("payments.conf");

	cr_assert_not_null(c);
	cr_assert(c->payments.on);
	cr_assert_str_eq(c->payments.provider, "daraja-c2b");
	cr_assert_str_eq(c->payments.business_number, "512345");
	cr_assert_str_eq(c->payments.account_prefix, "MB");
	cr_assert_str_eq(c->payments.account_suffix, "");
	cr_assert_str_eq(c->payments.secret, "0123456789abcdef");
	cr_assert_eq(c->payments.allow_ip.count, 2);
	cr_assert_eq(c->payments.escrow, 1);
	conf_free(c);
	c = conf_load("good.conf");
	cr_assert_not_null(c);
	cr_assert_eq(c->payments.on, 0, "no group: no payments");
	conf_free(c);
	assert_refused("badpayments.conf", "badpayments.conf:6: provider",
	    "badpayments.conf:7: business-number");
	assert_refused("badpayments.conf", "badpayments.conf:8: "
	    "account-format", "badpayments.conf:9: currency: is not the "
	    "currency of group = marketbox");
	assert_refused("badpayments.conf", "badpayments.conf:10: "
	    "shared-secret: too short", "badpayments.conf:11: mode");
	assert_refused("badpayments2.conf", "badpayments2.conf", "set "
	    "shared-secret or allow-ip");
}

/* A service point: its names, market, and commissions in basis points. */
Test(conf, service_point)
{
	struct conf			*c = conf_load("service-point.conf");
	const struct conf_service_point	*p;

	cr_assert_not_null(c);
	cr_assert_eq(c->agent_flood_rate, 60);
	cr_assert_eq(c->agent_flood_burst, 20);
	cr_assert_not_null(p = conf_service_point_find(c, "kiambogo"));
	cr_assert_str_eq(p->market, "nakuru");
	cr_assert_str_eq(p->phone, "+254722000100");
	cr_assert_eq(p->commission_seller_bp, 250);
	cr_assert_eq(p->commission_buyer_bp, 75);
	cr_assert_str_eq(conf_service_point_name(p, "sw"),
	    "Kituo cha Kiambogo");
	cr_assert_str_eq(conf_service_point_name(p, "fr"), "Kiambogo point");
	conf_free(c);
	/* three decimals, and a market nobody declared */
	assert_refused("badpoint.conf", "badpoint.conf:7: commission",
	    "market 'nakuru' is not declared");
}

/* Without agent keys an agent's bucket is a farmer's. */
Test(conf, agent_flood_defaults)
{
	struct conf	*c = conf_load("question.conf");

	cr_assert_not_null(c);
	cr_assert_eq(c->agent_flood_rate, c->flood_rate);
	cr_assert_eq(c->agent_flood_burst, c->flood_burst);
	conf_free(c);
}

/* A PostgreSQL database string is kept as written, not made a path. */
Test(conf, postgresql_database_is_not_a_path)
{
	struct conf	*c = conf_load("postgresql.conf");

	cr_assert_not_null(c);
	cr_assert_str_eq(c->database,
	    "host=/run/postgresql port=5432 dbname=marketbox");
	conf_free(c);
}

Test(conf, commodity_with_undeclared_unit)
{
	assert_refused("badunit.conf", "badunit.conf:9: unit", "sack");
}

Test(conf, duplicate_code)
{
	assert_refused("dupcode.conf", "declared twice", "dupcode.conf");
}

Test(conf, missing_global_sender)
{
	assert_refused("nosender.conf", "global-sender", "missing");
}

Test(conf, unknown_group)
{
	assert_refused("badgroup.conf", "nonsense", "line 5");
}

Test(conf, no_marketbox_group)
{
	assert_refused("nogroup.conf", "no 'group = marketbox'", NULL);
}

Test(conf, bad_code)
{
	assert_refused("badcode.conf", "badcode.conf:5: code", "Big Bag");
}

Test(conf, syntax_error)
{
	assert_refused("syntax.conf", "line 2", "syntax.conf");
}

Test(conf, missing_file)
{
	assert_refused("no-such-file.conf", "no-such-file.conf", NULL);
}

Test(conf, free_accepts_null)
{
	conf_free(NULL);
}

Test(conf, missing_include_is_refused_not_fatal)
{
	assert_refused("badinclude.conf", "badinclude.conf:4: cannot read "
	    "included file 'no-such-catalogue.conf'", NULL);
}

Test(conf, include_of_a_directory_reads_its_files)
{
	struct conf	*c = conf_load("incdir.conf");

	cr_assert_not_null(c);
	cr_assert_str_eq(c->units[0].code, "crate");
	conf_free(c);
}

/* libgw panics on the missing file inside the directory: refused first. */
Test(conf, a_bad_include_inside_an_included_directory_is_refused_not_fatal)
{
	assert_refused("badincdir.conf", "badincdir/units.conf:4: cannot read "
	    "included file 'no-such-units.conf'", NULL);
}

Test(conf, include_loop_is_refused)
{
	assert_refused("loop.conf", "loop.conf: included more than once",
	    NULL);
}

/* Found by tests/fuzz/fuzz_conf: each level read the file once per
 * include line, 8^8 reads, and a reload hung. */
Test(conf, include_loop_wide_is_refused_at_once, .timeout = 10)
{
	assert_refused("loopwide.conf", "included more than once", NULL);
}

/* Found by tests/fuzz/fuzz_conf: libgw PANICs on a file included twice. */
Test(conf, a_file_included_twice_is_refused_not_fatal)
{
	assert_refused("twice.conf", "included.conf: included more than once",
	    NULL);
}

/* A conf file of len bytes in a temporary directory; its path, static. */
static const char *
conf_file_of(const char *text, size_t len)
{
	static char	 path[64];
	FILE		*fp;
	int		 fd;

	snprintf(path, sizeof(path), "/tmp/test_conf_XXXXXX");
	cr_assert((fd = mkstemp(path)) != -1);
	cr_assert_not_null(fp = fdopen(fd, "w"));
	cr_assert_eq(fwrite(text, 1, len, fp), len);
	cr_assert_eq(fclose(fp), 0);
	return path;
}

/* Found by tests/fuzz/fuzz_conf: the check read lines as C strings and
 * missed an include after a NUL byte, which libgw reads, and PANICs on. */
Test(conf, include_after_a_nul_is_refused_not_fatal)
{
	static const char	 text[] = "group = marketbox\n"
				    "global-sender = 777\n"
				    "currency = K\0S include = nowhere\n";
	const char		*path = conf_file_of(text, sizeof(text) - 1);

	assert_refused(path, ":3: a NUL byte", NULL);
	unlink(path);
}

/* And a line longer than its buffer was read in pieces: "include" cut in
 * two was missed. */
Test(conf, include_in_a_long_line_is_refused_not_fatal)
{
	char		*text;
	const char	*path;
	size_t		 len;

	size_t		 line;

	cr_assert_not_null(text = malloc(8192));
	line = (size_t)snprintf(text, 8192, "group = marketbox\n"
	    "global-sender = 777\n");
	len = line + (size_t)snprintf(text + line, 8192 - line,
	    "currency-aliases = ");
	/* "incl" ends the line's first 4095 bytes, "udes" starts the next */
	memset(text + len, 'x', line + 4091 - len);
	len = line + 4091;
	len += (size_t)snprintf(text + len, 8192 - len, "includes\n");
	path = conf_file_of(text, len);
	assert_refused(path, "cannot read included file", NULL);
	unlink(path);
	free(text);
}

Test(conf, includes_are_found_beside_the_main_file)
{
	struct conf	*c;

	cr_assert_eq(chdir("/"), 0);
	c = conf_load(TEST_SRCDIR "/data/include.conf");
	cr_assert_not_null(c);
	cr_assert_str_eq(c->units[0].code, "crate");
	conf_free(c);
}

Test(conf, shipped_sample_is_valid)
{
	struct conf	*c = conf_load(TEST_SRCDIR "/../conf/marketbox.conf");

	cr_assert_not_null(c);
	cr_assert(c->ncommodities >= 10);
	cr_assert(c->nmarkets >= 5);
	cr_assert_not_null(conf_commodity_find(c, "maize"));
	cr_assert_not_null(conf_service_point_find(c, "kiambogo"));
	conf_free(c);
}

Test(conf, plugin_groups_take_any_key)
{
	struct conf			*c = conf_load("good.conf");
	const struct conf_plugin_group	*g;

	cr_assert_not_null(c);
	g = conf_plugin_group_find(c, "echo");
	cr_assert_not_null(g);
	cr_assert_eq(g->n, 2);
	cr_assert_str_eq(g->keys[0], "prefix");
	cr_assert_str_eq(g->values[0], "Echo:");
	cr_assert_str_eq(g->keys[1], "greeting");
	cr_assert_str_eq(g->values[1], "Habari");
	cr_assert(strstr(g->file, "good.conf") != NULL);
	cr_assert_eq(conf_line_of(g->file, "greeting"), 42);
	cr_assert_null(conf_plugin_group_find(c, "market"));
	conf_free(c);
}

Test(conf, a_value_with_include_is_refused_not_fatal)
{
	/* libgw would take this line for an include and exit. */
	assert_refused("includeword.conf", "includeword.conf:6: cannot read "
	    "included file 'includes'", NULL);
}

Test(conf, relative_paths_are_taken_from_the_conf_directory)
{
	struct conf	*c;
	char		 want[4096], *dir;

	cr_assert_eq(chdir("/"), 0);
	c = conf_load(TEST_SRCDIR "/data/good.conf");
	cr_assert_not_null(c);

	cr_assert_str_eq(c->database, "/tmp/marketbox-test.db");
	/* The conf's directory, as the file system names it (no "..") */
	dir = realpath(TEST_SRCDIR "/data", NULL);
	cr_assert_not_null(dir);
	snprintf(want, sizeof(want), "%s/logs/marketbox.log", dir);
	free(dir);
	cr_assert_str_eq(c->log_file, want);
	conf_free(c);
}

Test(conf, names_per_language)
{
	struct conf			*c = conf_load("good.conf");
	const struct conf_commodity	*k;

	cr_assert_not_null(c);
	k = conf_commodity_find(c, "maize");
	cr_assert_str_eq(conf_name_for(&k->names, "sw"), "mahindi");
	cr_assert_str_eq(conf_name_for(&k->names, "zh"), "玉米");
	cr_assert_null(conf_name_for(&k->names, "fr"));
	cr_assert_null(conf_name_for(&k->names, "s"));
	conf_free(c);
}

Test(conf, forms_per_language_and_category)
{
	struct conf		*c = conf_load("good.conf");
	const struct conf_unit	*u;

	cr_assert_not_null(c);
	u = conf_unit_find(c, "bag");
	cr_assert_str_eq(conf_form_for(&u->names, &u->forms, "en", NULL),
	    "bag");
	cr_assert_str_eq(conf_form_for(&u->names, &u->forms, "en", "one"),
	    "bag");
	cr_assert_str_eq(conf_form_for(&u->names, &u->forms, "en", "other"),
	    "bags");
	/* a category without a form of its own: "other", then the name */
	cr_assert_str_eq(conf_form_for(&u->names, &u->forms, "en", "many"),
	    "bags");
	cr_assert_str_eq(conf_form_for(&u->names, &u->forms, "sw", "other"),
	    "magunia");
	cr_assert_str_eq(conf_form_for(&u->names, &u->forms, "zh", "other"),
	    "袋");
	cr_assert_null(conf_form_for(&u->names, &u->forms, "de", "other"));
	conf_free(c);
}

Test(conf, bad_forms_entry)
{
	assert_refused("badforms.conf", "badforms.conf:7: forms",
	    "en:plural=bags");
}

Test(conf, bad_names_entry)
{
	assert_refused("badnames.conf", "badnames.conf:9: names", "mahindi");
}

/* --- farm inputs and planting seasons (issue 17) ------------------------- */

Test(conf, commodity_kind_and_seasons)
{
	struct conf			*c = conf_load("season.conf");
	const struct conf_season	*s;

	cr_assert_not_null(c);
	cr_assert_eq(conf_commodity_find(c, "maize")->input, 0);
	cr_assert_eq(conf_commodity_find(c, "dap")->input, 1);
	cr_assert_eq(conf_commodity_find(c, "can")->input, 0);
	cr_assert_eq(c->nseasons, 2);
	cr_assert_not_null(s = conf_season_find(c, "long-rains"));
	cr_assert_str_eq(s->region, "rift-valley");
	cr_assert_eq(s->inputs.count, 1);
	cr_assert_str_eq(s->inputs.names[0], "dap");
	cr_assert_eq(s->start_month, 3);
	cr_assert_eq(s->start_day, 15);
	cr_assert_str_eq(conf_name_for(&s->names, "sw"), "masika");
	/* longest first, the repeated 7d once */
	cr_assert_eq(s->nremind, 2);
	cr_assert_eq(s->remind[0], 21 * 86400LL);
	cr_assert_eq(s->remind[1], 7 * 86400LL);
	/* the default reminders: 21 and 7 days before */
	cr_assert_not_null(s = conf_season_find(c, "short-rains"));
	cr_assert_eq(s->nremind, 2);
	cr_assert_eq(s->remind[0], 21 * 86400LL);
	cr_assert_null(conf_season_find(c, "masika"));
	conf_free(c);
}

Test(conf, bad_kind_and_seasons_refused)
{
	struct conf	*c = conf_load("badseason.conf");
	char		*log;
	static const char * const needles[] = {
		"'inputs' is not produce or input",
		"region 'coast' is no market's region",
		"'maize' is produce, not an input",
		"'urea' is not declared",
		"starts = '02-29'",
		"1 to 4 durations",
		"'21x' is not a duration",
	};
	size_t		 i;

	cr_assert_null(c);
	log = logged();
	for (i = 0; i < sizeof(needles) / sizeof(needles[0]); i++)
		cr_assert(strstr(log, needles[i]) != NULL, "log lacks '%s':\n%s",
		    needles[i], log);
	free(log);
}

Test(conf, shipped_inputs_and_season)
{
	struct conf	*c = conf_load(TEST_SRCDIR "/../conf/marketbox.conf");
	const char	*codes[] = { "maize-seed", "dap", "can" };
	size_t		 i;

	cr_assert_not_null(c);
	for (i = 0; i < 3; i++) {
		cr_assert_not_null(conf_commodity_find(c, codes[i]));
		cr_assert_eq(conf_commodity_find(c, codes[i])->input, 1);
	}
	cr_assert_str_eq(conf_commodity_find(c, "maize-seed")->unit, "packet");
	cr_assert_eq(conf_commodity_find(c, "maize")->input, 0);
	cr_assert_not_null(conf_season_find(c, "long-rains"));
	conf_free(c);
}

/* --- the delivery chain's hubs (issue 18) -------------------------------- */

Test(conf, hubs_read_with_their_tree)
{
	struct conf		*c = conf_load("hubs.conf");
	const struct conf_hub	*h;

	cr_assert_not_null(c);
	cr_assert_eq(c->nhubs, 9);
	cr_assert_not_null(h = conf_hub_find(c, "v1"));
	cr_assert_str_eq(h->level, "village");
	cr_assert_str_eq(h->parent, "t1");
	cr_assert_eq(h->up, conf_hub_find(c, "t1"));
	cr_assert_eq(h->up->up, conf_hub_find(c, "k1"));
	cr_assert_null(h->up->up->up, "a county has no parent");
	cr_assert_null(conf_hub_find(c, "k1")->parent);
	cr_assert_eq(h->markets.count, 1);
	cr_assert_str_eq(h->markets.names[0], "m-a");
	cr_assert_eq(h->points.count, 1);
	cr_assert_str_eq(h->points.names[0], "p1");
	/* operators made international, as typed or not */
	cr_assert_eq(h->operators.count, 2);
	cr_assert_str_eq(h->operators.names[0], "+254722000111");
	cr_assert_str_eq(h->operators.names[1], "+254733000222");
	/* names: per language, else name, else the code */
	cr_assert_str_eq(conf_hub_name(h, "sw"), "Kituo cha kijiji kimoja");
	cr_assert_str_eq(conf_hub_name(h, "fr"), "Centre du village un");
	cr_assert_str_eq(conf_hub_name(h, "zh"), "Village one hub");
	cr_assert_str_eq(conf_hub_name(conf_hub_find(c, "v2"), "sw"), "v2");
	cr_assert_eq(conf_hub_find(c, "k2")->operators.count, 4);
	cr_assert_null(conf_hub_find(c, "m-a"), "a market is no hub");
	conf_free(c);
}

Test(conf, hub_serving_a_place)
{
	struct conf	*c = conf_load("hubs.conf");

	cr_assert_not_null(c);
	cr_assert_eq(conf_hub_serving(c, "m-a"), conf_hub_find(c, "v1"));
	cr_assert_eq(conf_hub_serving(c, "p1"), conf_hub_find(c, "v1"));
	cr_assert_eq(conf_hub_serving(c, "m-d"), conf_hub_find(c, "t1"),
	    "a township serves a market itself");
	/* a point no hub lists: its market's hub */
	cr_assert_eq(conf_hub_serving(c, "p2"), conf_hub_find(c, "v2"));
	cr_assert_null(conf_hub_serving(c, "m-lone"));
	cr_assert_null(conf_hub_serving(c, "nowhere"));
	cr_assert_null(conf_hub_serving(c, NULL));
	conf_free(c);
}

/* The route from to, as codes joined by ' ' ("" when none), or "-1". */
static const char *
route(const struct conf *c, const char *from, const char *to, size_t max)
{
	static char		 buf[256];
	const struct conf_hub	*out[8];
	long			 n, i;

	cr_assert(max <= 8);
	n = conf_hub_route(c, from, to, out, max);
	if (n == -1)
		return "-1";
	cr_assert(n >= 0 && (size_t)n <= max);
	buf[0] = '\0';
	for (i = 0; i < n; i++) {
		if (i > 0)
			strcat(buf, " ");
		strcat(buf, out[i]->code);
	}
	return buf;
}

Test(conf, hub_routes)
{
	struct conf	*c = conf_load("hubs.conf");

	cr_assert_not_null(c);
	/* one hub serves both: door to door through it, no route */
	cr_assert_str_eq(route(c, "m-a", "p1", 8), "");
	cr_assert_str_eq(route(c, "m-a", "m-a", 8), "");
	/* one township: up to it and down */
	cr_assert_str_eq(route(c, "m-a", "m-b", 8), "v1 t1 v2");
	cr_assert_str_eq(route(c, "m-b", "m-a", 8), "v2 t1 v1");
	/* a point no hub lists goes through its market's */
	cr_assert_str_eq(route(c, "p2", "p1", 8), "v2 t1 v1");
	/* a township serving a market: the chain ends there */
	cr_assert_str_eq(route(c, "m-a", "m-d", 8), "v1 t1");
	cr_assert_str_eq(route(c, "m-d", "m-b", 8), "t1 v2");
	/* one county, two townships: up to the county and down */
	cr_assert_str_eq(route(c, "m-a", "m-c", 8), "v1 t1 k1 t2 v3");
	cr_assert_str_eq(route(c, "m-c", "m-d", 8), "v3 t2 k1 t1");
	/* two counties: no hub above both, door to door */
	cr_assert_str_eq(route(c, "m-a", "m-e", 8), "");
	cr_assert_str_eq(route(c, "m-e", "m-c", 8), "");
	/* a place without a hub, or unknown */
	cr_assert_str_eq(route(c, "m-a", "m-lone", 8), "");
	cr_assert_str_eq(route(c, "m-lone", "m-a", 8), "");
	cr_assert_str_eq(route(c, "nowhere", "m-a", 8), "");
	/* max too small: -1, and exactly enough is enough */
	cr_assert_str_eq(route(c, "m-a", "m-c", 4), "-1");
	cr_assert_str_eq(route(c, "m-a", "m-c", 5), "v1 t1 k1 t2 v3");
	cr_assert_str_eq(route(c, "m-a", "m-b", 0), "-1");
	cr_assert_str_eq(route(c, "m-a", "p1", 0), "", "no route fits in 0");
	cr_assert_eq(conf_hub_route(c, "m-a", "m-b", NULL, 8), -1);
	conf_free(c);
}

/*
 * A national hub above two counties (national.conf): their places meet
 * there, up the one chain and down the other; a county under no national
 * hub still meets no other county.
 */
Test(conf, hub_routes_through_the_national_hub)
{
	struct conf		*c = conf_load("national.conf");
	const struct conf_hub	*h;

	cr_assert_not_null(c);
	cr_assert_not_null(h = conf_hub_find(c, "v4"));
	cr_assert_eq(h->up->up->up, conf_hub_find(c, "n"));
	cr_assert_null(h->up->up->up->up, "the national hub has no parent");
	cr_assert_str_eq(conf_hub_find(c, "n")->level, "national");
	cr_assert_null(conf_hub_find(c, "k3")->up,
	    "a county may have no national hub");
	/* below a county nothing changes */
	cr_assert_str_eq(route(c, "m-a", "p1", 8), "");
	cr_assert_str_eq(route(c, "m-a", "m-b", 8), "v1 t1 v2");
	cr_assert_str_eq(route(c, "m-a", "m-c", 8), "v1 t1 k1 t2 v3",
	    "one county: not up to the national hub");
	/* two counties: up to the national hub and down, 7 hubs */
	cr_assert_str_eq(route(c, "m-a", "m-e", 8),
	    "v1 t1 k1 n k2 t3 v4");
	cr_assert_str_eq(route(c, "m-e", "p1", 8), "v4 t3 k2 n k1 t1 v1");
	cr_assert_str_eq(route(c, "m-c", "m-e", 8), "v3 t2 k1 n k2 t3 v4");
	/* a county serving a market itself: the chain ends there */
	cr_assert_str_eq(route(c, "m-a", "m-g", 8), "v1 t1 k1 n k2");
	cr_assert_str_eq(route(c, "m-g", "m-e", 8), "k2 t3 v4");
	/* a county under no national hub: door to door, either way */
	cr_assert_str_eq(route(c, "m-a", "m-f", 8), "");
	cr_assert_str_eq(route(c, "m-f", "m-e", 8), "");
	/* places without a hub */
	cr_assert_str_eq(route(c, "m-lone", "m-e", 8), "");
	cr_assert_str_eq(route(c, "m-e", "nowhere", 8), "");
	/* the longest route fits in 7, not 6 */
	cr_assert_str_eq(route(c, "m-a", "m-e", 6), "-1");
	cr_assert_str_eq(route(c, "m-a", "m-e", 7), "v1 t1 k1 n k2 t3 v4");
	conf_free(c);
}

/* The national level's checks, each with its file and line. */
Test(conf, bad_national_hubs_refused_with_their_lines)
{
	struct conf	*c = conf_load("badnational.conf");
	char		*log;
	static const char * const needles[] = {
		"badnational.conf:23: level: hub 'n2' is a second national "
		    "hub: 'n1' is the top of the chain already",
		"badnational.conf:28: parent: hub 'n-up' is the national hub: "
		    "it has no parent (remove parent = n1)",
		"badnational.conf:33: markets: hub 'n-places' is a national "
		    "hub: it serves no market itself ('m-a' goes to a county, "
		    "township or village hub)",
		"badnational.conf:34: points: hub 'n-places' is a national "
		    "hub: it serves no service point itself ('p1' goes to a "
		    "county, township or village hub)",
		"badnational.conf:39: parent: hub 't-high' is a township: its "
		    "parent 'n1' must be a county hub, not a national",
		"badnational.conf:44: parent: hub 'k-k' is a county: its "
		    "parent 'k1' must be a national hub, not a county",
		"badnational.conf:49: parent: hub 'v-n' is a village: its "
		    "parent 'n1' must be a township hub, not a national",
	};
	size_t		 i;

	cr_assert_null(c);
	log = logged();
	for (i = 0; i < sizeof(needles) / sizeof(needles[0]); i++)
		cr_assert(strstr(log, needles[i]) != NULL, "log lacks '%s':\n%s",
		    needles[i], log);
	/* the good ones are not blamed: n1 and the county under it */
	cr_assert_null(strstr(log, "hub 'n1'"), "%s", log);
	cr_assert_null(strstr(log, "hub 'k1'"), "%s", log);
	free(log);
}

Test(conf, no_hubs_no_routes)
{
	struct conf	*c = conf_load("service-point.conf");

	cr_assert_not_null(c);
	cr_assert_eq(c->nhubs, 0);
	cr_assert_null(conf_hub_serving(c, "nakuru"));
	cr_assert_str_eq(route(c, "nakuru", "kiambogo", 8), "");
	conf_free(c);
}

Test(conf, bad_hubs_refused_with_their_lines)
{
	struct conf	*c = conf_load("badhub.conf");
	char		*log;
	static const char * const needles[] = {
		"badhub.conf:29: parent: hub 'v-orphan': parent 'nowhere' is "
		    "not declared",
		"badhub.conf:34: parent: hub 'v-low' is a village: its parent "
		    "'k1' must be a township hub, not a county",
		"badhub.conf:39: parent: hub 't-loop-a': its parents go round "
		    "in a cycle (through 't-loop-b')",
		"badhub.conf:44: parent: hub 't-loop-b': its parents go round "
		    "in a cycle (through 't-loop-a')",
		"badhub.conf:50: markets: hub 'v-places': 'm-x' is not "
		    "declared in a 'group = market'",
		"badhub.conf:51: points: hub 'v-places': 'p9' is not declared "
		    "in a 'group = service-point'",
		"badhub.conf:57: markets: hub 'v-again': market 'm-a' is "
		    "served by hub 't1' already",
		"badhub.conf:58: points: hub 'v-again': service point 'p1' is "
		    "served by hub 't1' already",
		"badhub.conf:61: code: hub 'k1' declared twice",
		"badhub.conf:68: operators: hub 'v-phone': '07-not-a-phone' is "
		    "not a phone number",
		"badhub.conf:73: operators: hub 'k-many' names more than 4 "
		    "operators",
		"badhub.conf:78: parent: hub 'k-parent' is a county: its "
		    "parent 'k1' must be a national hub, not a county",
		"badhub.conf:82: level: hub 't-none' is a township: it needs a "
		    "parent, a county hub",
		"badhub.conf:86: level: hub 'x-level': level 'district' is not "
		    "national, county, township or village",
		"badhub.conf:89: code: hub code 'Bad Hub' must be",
	};
	size_t		 i;

	cr_assert_null(c);
	log = logged();
	for (i = 0; i < sizeof(needles) / sizeof(needles[0]); i++)
		cr_assert(strstr(log, needles[i]) != NULL, "log lacks '%s':\n%s",
		    needles[i], log);
	/* the good ones are not blamed */
	cr_assert_null(strstr(log, "hub 't1':"), "%s", log);
	cr_assert_null(strstr(log, "hub 't1' is"), "%s", log);
	free(log);
}

Test(conf, a_local_operator_needs_a_country_code)
{
	char		 path[] = "/tmp/test_conf_hub_XXXXXX";
	int		 fd = mkstemp(path);
	FILE		*fp;
	struct conf	*c;
	char		*log;

	cr_assert(fd != -1);
	cr_assert_not_null(fp = fdopen(fd, "w"));
	fprintf(fp, "group = marketbox\nglobal-sender = 777\n\n"
	    "group = hub\ncode = k\nlevel = county\n"
	    "operators = +254722000111;0722000222\n");
	fclose(fp);
	c = conf_load(path);
	unlink(path);
	cr_assert_null(c);
	log = logged();
	cr_assert(strstr(log, ":7: operators: hub 'k': '0722000222' is not a "
	    "phone number (such as +254722000111; local numbers need "
	    "country-code)") != NULL, "%s", log);
	free(log);
}

Test(conf, shipped_hubs)
{
	struct conf	*c = conf_load(TEST_SRCDIR "/../conf/marketbox.conf");
	const char	*out[8];
	const struct conf_hub *hubs[8];
	long		 n, i;

	cr_assert_not_null(c);
	cr_assert_eq(conf_hub_find(c, "kiambu-county")->up,
	    conf_hub_find(c, "kenya"));
	cr_assert_null(conf_hub_find(c, "kenya")->up);
	/* the templates add the word for hub: "{hub} hub" */
	cr_assert_str_eq(conf_hub_name(conf_hub_find(c, "kiambu-town"), "en"),
	    "Kiambu township");
	cr_assert_eq(conf_hub_serving(c, "kiambogo"),
	    conf_hub_find(c, "kiambogo"));
	/* Nakuru to the Kiambogo point, as the sample's comment says */
	n = conf_hub_route(c, "nakuru", "kiambogo", hubs, 8);
	cr_assert_eq(n, 3);
	for (i = 0; i < n; i++)
		out[i] = hubs[i]->code;
	cr_assert_str_eq(out[0], "lanet");
	cr_assert_str_eq(out[1], "nakuru-town");
	cr_assert_str_eq(out[2], "kiambogo");
	/* two counties meet at the national hub: up and down, 7 hubs */
	n = conf_hub_route(c, "nakuru", "wakulima", hubs, 8);
	cr_assert_eq(n, 7);
	for (i = 0; i < n; i++)
		out[i] = hubs[i]->code;
	cr_assert_str_eq(out[0], "lanet");
	cr_assert_str_eq(out[1], "nakuru-town");
	cr_assert_str_eq(out[2], "nakuru-county");
	cr_assert_str_eq(out[3], "kenya");
	cr_assert_str_eq(out[4], "kiambu-county");
	cr_assert_str_eq(out[5], "kiambu-town");
	cr_assert_str_eq(out[6], "githunguri");
	cr_assert_str_eq(conf_hub_find(c, "kenya")->level, "national");
	/* markets no hub serves: door to door */
	cr_assert_eq(conf_hub_route(c, "eldoret", "nakuru", hubs, 8), 0);
	cr_assert_eq(conf_hub_route(c, "wakulima", "kisumu", hubs, 8), 0);
	conf_free(c);
}

/* A hub in an included file: that file and its line are named. */
Test(conf, bad_hub_in_an_included_file)
{
	char		 d[] = "/tmp/test_conf_hubinc_XXXXXX", path[600];
	char		 inc[600], cmd[700];
	FILE		*fp;
	struct conf	*c;
	char		*log;

	cr_assert_not_null(mkdtemp(d));
	snprintf(inc, sizeof(inc), "%s/hubs.conf", d);
	cr_assert_not_null(fp = fopen(inc, "w"));
	fprintf(fp, "group = hub\ncode = k\nlevel = county\n\n"
	    "group = hub\ncode = v\nlevel = village\nparent = k\n");
	fclose(fp);
	snprintf(path, sizeof(path), "%s/main.conf", d);
	cr_assert_not_null(fp = fopen(path, "w"));
	fprintf(fp, "group = marketbox\nglobal-sender = 777\n\n"
	    "include = \"hubs.conf\"\n");
	fclose(fp);
	c = conf_load(path);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", d);
	cr_assert_eq(system(cmd), 0);
	cr_assert_null(c);
	log = logged();
	cr_assert(strstr(log, "hubs.conf:8: parent: hub 'v' is a village: its "
	    "parent 'k' must be a township hub, not a county") != NULL, "%s",
	    log);
	free(log);
}

/* A conf written to a temporary file; its path in path (caller unlinks). */
static void
write_conf(char *path, const char *text)
{
	int	 fd = mkstemp(path);
	FILE	*fp;

	cr_assert(fd != -1);
	cr_assert_not_null(fp = fdopen(fd, "w"));
	fputs(text, fp);
	fclose(fp);
}

/* libgw names the group's line; the admin needs the key's, and the key
   meant. */
Test(conf, a_misspelt_key_is_named_at_its_own_line)
{
	char		 path[] = "/tmp/test_conf_typo_XXXXXX", want[128];
	struct conf	*c;
	char		*log;

	write_conf(path, "# a comment\ngroup = marketbox\nglobal-sender = 777\n"
	    "commit-batch = 10\ncomit-delay = 3\nfrobnicate = yes\n");
	c = conf_load(path);
	cr_assert_null(c);
	log = logged();
	snprintf(want, sizeof(want), "%s:5: unknown key 'comit-delay' in group "
	    "marketbox (did you mean commit-delay?)", path);
	cr_assert(strstr(log, want) != NULL, "log lacks '%s':\n%s", want, log);
	snprintf(want, sizeof(want), "%s:6: unknown key 'frobnicate' in group "
	    "marketbox (marketbox.conf(5) lists its keys)", path);
	cr_assert(strstr(log, want) != NULL, "log lacks '%s':\n%s", want, log);
	/* libgw's own report (the group's line) is not printed: one place */
	cr_assert_null(strstr(log, "may not contain field"), "%s", log);
	free(log);
	unlink(path);
}

/* In a later group too, and in a group whose block has comments. */
Test(conf, a_misspelt_key_of_a_later_group)
{
	char		 path[] = "/tmp/test_conf_typo_XXXXXX", want[128];
	struct conf	*c;
	char		*log;

	write_conf(path, "group = marketbox\nglobal-sender = 777\n\n"
	    "group = unit\n# kg\ncode = kg\nalaises = kilo\n");
	c = conf_load(path);
	unlink(path);
	cr_assert_null(c);
	log = logged();
	snprintf(want, sizeof(want), "%s:7: unknown key 'alaises' in group "
	    "unit (did you mean aliases?)", path);
	cr_assert(strstr(log, want) != NULL, "log lacks '%s':\n%s", want, log);
	free(log);
}

/* A local number needs country-code: without it, it is no number (never
   "+0722000111"); with it, it is made international. */
Test(phone, a_local_number_needs_a_country_code)
{
	char	 out[32];

	cr_assert_eq(msisdn_normalise(NULL, "0722000111", out, sizeof(out)),
	    -1);
	cr_assert_eq(msisdn_normalise("", "0722 000 111", out, sizeof(out)),
	    -1);
	cr_assert_eq(msisdn_normalise(NULL, "+0722000111", out, sizeof(out)),
	    -1);
	cr_assert_eq(msisdn_normalise(NULL, "000722000111", out, sizeof(out)),
	    -1);
	cr_assert_eq(msisdn_normalise("254", "0722000111", out, sizeof(out)),
	    0);
	cr_assert_str_eq(out, "+254722000111");
	/* international forms need none */
	cr_assert_eq(msisdn_normalise(NULL, "254722000111", out, sizeof(out)),
	    0);
	cr_assert_str_eq(out, "+254722000111");
	cr_assert_eq(msisdn_normalise(NULL, "00254722000111", out,
	    sizeof(out)), 0);
	cr_assert_str_eq(out, "+254722000111");
	/* a long local number with a country code is no "+0..." either */
	cr_assert_eq(msisdn_normalise("254", "072200011122233", out,
	    sizeof(out)), -1);
}

/* backup-dir (marketctl backup, /metrics): none by default; relative to
   the conf file's directory, as the other paths. */
Test(conf, backup_dir)
{
	char		 path[] = "/tmp/test_conf_backup_XXXXXX";
	struct conf	*c;

	c = conf_load("question.conf");
	cr_assert_not_null(c);
	cr_assert_null(c->backup_dir);
	conf_free(c);
	write_conf(path, "group = marketbox\nglobal-sender = 777\n"
	    "database = /tmp/x.db\nbackup-dir = backups\n");
	c = conf_load(path);
	cr_assert_not_null(c);
	cr_assert_str_eq(c->backup_dir, "/tmp/backups");
	conf_free(c);
	unlink(path);
}
