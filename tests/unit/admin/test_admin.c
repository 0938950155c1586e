/*
 * test_admin.c - the admin pages, and the HTTP server's rules for them:
 * the password (constant-time compare, ?password=, HTTP Basic, none,
 * wrong and locked out, empty, pages off), the allow-list,
 * HTML/SVG escaping, medians and charts, and the bodies of /status.json,
 * /metrics and /status against a database state built here (the
 * outbox's oldest unsent age and the commit times' histogram too), then the
 * actions (user role, agents of service points, retry, broadcast with
 * STOP respected, disputes closed, held price reports approved and
 * rejected, also by the token-carrying form of /status) through a
 * real HTTP server on 127.0.0.1.  The held reports' and the oldest
 * age's tests run on SQLite (admin_pages) and, with MB_TEST_PG, on
 * PostgreSQL too (admin_pg).
 *
 * Everything runs on one event_base in the test's own thread: the client
 * is a non-blocking socket polled between non-blocking passes of the
 * loop, and every wait is bounded by a deadline.
 */
#include "config.h"

#include <sys/types.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <criterion/criterion.h>

#include "base/gw.h"

#include <event2/buffer.h>
#include <event2/event.h>
#include <event2/http.h>

#include "admin/admin.h"
#include "base/conf.h"
#include "http/http.h"
#include "queue/inbox.h"
#include "queue/outbox.h"
#include "plugin/plugin.h"
#include "engine/router.h"
#include "http_client.h"
#ifdef HAVE_POSTGRESQL
#include "pg_fixture.h"
#endif
#include "router_fixture.h"
#include "store/store.h"

#define T_DEADLINE_MS	12000	/* the longest any one wait may take */
#define T_PASSWORD	"s3cret"

static char			 dir[] = "/tmp/test_admin_XXXXXX";
static char			 path[256];
static struct event_base	*base;
static struct conf		*conf;
static struct store		*store;
static struct outbox		*outbox;
static struct router		*router;
static struct inbox		*inbox;
static struct plugin_set	*plugins;
static struct http		*http;
static struct admin		*admin;
static int			 port;
static struct hc		 hc;		/* the raw client */
static long long		 today;
static int			 pg;		/* the store on PostgreSQL */

/* --- set-up --------------------------------------------------------------- */

static void
t_exec(const char *sql)
{
	char	*err = NULL;

#ifdef HAVE_POSTGRESQL
	if (pg) {
		(void)pg_fixture_query(sql);
		return;
	}
#endif
	cr_assert_eq(sqlite3_exec(store_db(store), sql, NULL, NULL, &err),
	    SQLITE_OK, "%s: %s", sql, err ? err : "");
}

static long long
t_count(const char *sql)
{
	sqlite3_stmt	*st;
	long long	 v = -1;

#ifdef HAVE_POSTGRESQL
	if (pg)
		return pg_fixture_query(sql);
#endif
	cr_assert_eq(sqlite3_prepare_v2(store_db(store), sql, -1, &st, NULL),
	    SQLITE_OK, "%s: %s", sql, sqlite3_errmsg(store_db(store)));
	if (sqlite3_step(st) == SQLITE_ROW)
		v = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	return v;
}

/* The conf's markets and commodities, for the broadcast's checks. */
static void
t_catalogue(void)
{
	cr_assert_not_null(conf->markets = calloc(2, sizeof(*conf->markets)));
	conf->markets[0].code = strdup("nakuru");
	conf->markets[0].name = strdup("Nakuru");
	conf->markets[1].code = strdup("eldoret");
	conf->markets[1].name = strdup("Eldoret");
	conf->nmarkets = 2;
	cr_assert_not_null(conf->commodities =
	    calloc(2, sizeof(*conf->commodities)));
	conf->commodities[0].code = strdup("maize");
	conf->commodities[1].code = strdup("beans");
	conf->ncommodities = 2;
	/* Two service points, one at each market. */
	cr_assert_not_null(conf->service_points =
	    calloc(2, sizeof(*conf->service_points)));
	conf->service_points[0].code = strdup("nakuru");
	conf->service_points[0].market = strdup("nakuru");
	conf->service_points[1].code = strdup("eldoret");
	conf->service_points[1].market = strdup("eldoret");
	conf->nservice_points = 2;
}

/*
 * The state the pages are checked against: five people, three MOs, an
 * outbox with every state, and the market and prices plugins' tables
 * (their schemas' columns that admin.c reads).
 */
static void
t_fill(void)
{
	char	 sql[2048];
	long long d1 = (today - 2) * 86400 + 3600, d2 = (today - 1) * 86400 +
		    3600;

	t_exec("INSERT INTO users (msisdn, name, market, language, role, "
	    "opt_out, created, updated) VALUES "
	    "('+254700000001', 'Mary', 'nakuru', 'en', 'farmer', 0, 1, 1),"
	    "('+254700000002', 'John', 'nakuru', 'sw', 'buyer', 0, 1, 1),"
	    "('+254700000003', 'Ann', 'nakuru', 'en', 'farmer', 1, 1, 1),"
	    "('+254700000004', NULL, NULL, NULL, 'user', 0, 1, 1),"
	    "('+254700000005', 'Peter', 'eldoret', 'en', 'agent', 0, 1, 1)");
	t_exec("INSERT INTO inbox (kannel_id, channel, sender, receiver, text, "
	    "coding, received, state) VALUES "
	    "('a', 'box', '+254700000001', '777', 'x', 0, 1, 'done'),"
	    "('b', 'box', '+254700000002', '777', 'x', 0, 1, 'done'),"
	    "('c', 'http', '+254700000004', '777', 'x', 0, 1, 'done')");
	t_exec("INSERT INTO outbox (kind, sender, receiver, text, coding, "
	    "state, next_attempt, created, dlr_state) VALUES "
	    "('notice', '777', '+254700000001', 't', 0, 'queued', 1, 1, NULL),"
	    "('notice', '777', '+254700000002', 't', 0, 'queued', 1, 1, NULL),"
	    "('reply', '777', '+254700000001', 't', 0, 'accepted', 1, 1, NULL),"
	    "('reply', '777', '+254700000001', 't', 0, 'delivered', 1, 1, "
	    "'delivered'),"
	    "('reply', '777', '+254700000002', 't', 0, 'delivered', 1, 1, "
	    "'delivered'),"
	    "('notice', '777', '+254700000005', 't', 0, 'failed', 1, 1, NULL),"
	    "('notice', '777', '+254700000002', 't', 0, 'failed', 1, 1, "
	    "'failed'),"
	    "('reply', '777', '+254700000003', 't', 0, 'failed', 1, 1, NULL),"
	    "('reply', '777', '+254700000004', 't', 0, 'inline', 1, 1, NULL)");
	t_exec("CREATE TABLE market_posts (ref INTEGER PRIMARY KEY, kind TEXT, "
	    "msisdn TEXT, commodity TEXT, unit TEXT, market TEXT, qty INTEGER, "
	    "qty_left INTEGER, price INTEGER, state TEXT, created INTEGER, "
	    "expires INTEGER)");
	t_exec("INSERT INTO market_posts (kind, msisdn, commodity, market, "
	    "state) VALUES ('offer', '+254700000001', 'maize', 'nakuru', 'open'),"
	    "('offer', '+254700000003', 'maize', 'nakuru', 'open'),"
	    "('offer', '+254700000005', 'beans', 'eldoret', 'closed'),"
	    "('want', '+254700000005', 'beans', 'eldoret', 'open')");
	t_exec("CREATE TABLE market_orders (ref INTEGER PRIMARY KEY, offer "
	    "INTEGER, buyer TEXT, seller TEXT, qty INTEGER, price INTEGER, "
	    "total INTEGER, state TEXT, created INTEGER, updated INTEGER)");
	t_exec("INSERT INTO market_orders (state) VALUES ('pending'), "
	    "('delivered'), ('delivered')");
	t_exec("CREATE TABLE prices_reports (id INTEGER PRIMARY KEY, "
	    "commodity TEXT, market TEXT, price INTEGER, msisdn TEXT, agent "
	    "INTEGER DEFAULT 0, status TEXT, created INTEGER)");
	snprintf(sql, sizeof(sql), "INSERT INTO prices_reports (commodity, "
	    "market, price, msisdn, status, created) VALUES "
	    "('maize', 'nakuru', 300000, 'x', 'ok', %lld),"
	    "('maize', 'nakuru', 320000, 'x', 'ok', %lld),"
	    "('maize', 'nakuru', 290000, 'x', 'ok', %lld),"
	    "('maize', 'nakuru', 310000, 'x', 'ok', %lld),"
	    "('maize', 'nakuru', 330000, 'x', 'ok', %lld),"
	    "('maize', 'nakuru', 9999900, 'x', 'held', %lld),"
	    "('beans', '<b>x</b>', 7550, 'x', 'ok', %lld),"
	    "('beans', 'nakuru', 100, 'x', 'ok', 1000),"
	    "('maize', 'nakuru', 8888800, 'x', 'ok', %lld)",
	    d1, d1, d1, d2, d2, d2, d2, (today + 3) * 86400);
	t_exec(sql);
	t_exec("CREATE TABLE prices_alerts (id INTEGER PRIMARY KEY, msisdn TEXT, "
	    "commodity TEXT, market TEXT)");
	t_exec("INSERT INTO prices_alerts (msisdn, commodity, market) VALUES "
	    "('+254700000002', 'maize', '')");
}

/* On PostgreSQL, the prices_reports of t_fill only (its other tables
 * are SQLite's DDL): report 1 published, 6 held, as t_fill has them. */
static void
t_fill_pg(void)
{
	char	 sql[512];

	t_exec("CREATE TABLE prices_reports (id BIGINT PRIMARY KEY, "
	    "commodity TEXT, market TEXT, price BIGINT, msisdn TEXT, agent "
	    "INTEGER DEFAULT 0, status TEXT, created BIGINT)");
	snprintf(sql, sizeof(sql), "INSERT INTO prices_reports (id, "
	    "commodity, market, price, msisdn, status, created) VALUES "
	    "(1, 'maize', 'nakuru', 300000, 'x', 'ok', %lld), "
	    "(6, 'maize', 'nakuru', 9999900, 'x', 'held', %lld)",
	    (today - 1) * 86400, (today - 1) * 86400 + 3600);
	t_exec(sql);
}

/* db: a PostgreSQL conninfo, or NULL for a SQLite file of its own. */
static void
t_start_on(const char *password, const char *db)
{
	struct admin_sources	 src;

	gwlib_init();
	log_set_output_level(GW_PANIC);
	signal(SIGPIPE, SIG_IGN);
	today = (long long)time(NULL) / 86400;
	pg = db != NULL;
	cr_assert_not_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/mb.db", dir);
	cr_assert_not_null(base = event_base_new());
	cr_assert_not_null(conf = calloc(1, sizeof(*conf)));
	conf->global_sender = strdup("777");
	conf->smsbox_id = strdup("marketbox");
	conf->http_interface = strdup("127.0.0.1");
	conf->country_code = strdup("254");
	conf->max_parts = 3;
	conf->retry_limit = 3;
	conf->retry_delay = 600;
	conf->dlr_mask = 31;
	if (password != NULL)
		conf->admin_password = strdup(password);
	t_catalogue();
	port = hc_free_port();
	conf->http_port = port;
	hc.base = base;
	hc.port = port;
	hc.deadline_ms = T_DEADLINE_MS;
	cr_assert_not_null(store = store_open(db != NULL ? db : path, base));
	cr_assert_not_null(outbox = outbox_new(base, store, conf));
	cr_assert_not_null(router = fixture_router_new(conf, store, outbox));
	cr_assert_not_null(plugins = plugin_load(conf));
	cr_assert_not_null(inbox = fixture_inbox_new(store, router, NULL,
	    outbox));
	cr_assert_not_null(http = http_new(base, conf, store));
	cr_assert_eq(http_waysin_register(http, inbox, NULL), 0);
	if (pg)
		t_fill_pg();
	else
		t_fill();
	memset(&src, 0, sizeof(src));
	src.store = store;
	src.outbox = outbox;
	src.inbox = inbox;
	src.router = router;
	src.plugins = plugins;
	src.link_mode = "none";
	cr_assert_not_null(admin = admin_new(base, conf, &src));
	cr_assert_eq(admin_register(admin, http), 0);
}

static void
t_stop(void)
{
	char	 cmd[512];

	admin_free(admin);
	http_free(http);
	if (store != NULL)
		store_commit(store);
	fixture_inbox_free(inbox);
	plugin_free(plugins);
	fixture_router_free(router);
	outbox_free(outbox);
	store_free(store);
	conf_free(conf);
	event_base_free(base);
#ifdef HAVE_POSTGRESQL
	if (pg)
		pg_fixture_drop();
#endif
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	if (system(cmd) != 0)
		fprintf(stderr, "cannot remove %s\n", dir);
	gwlib_shutdown();
}

static void
t_start(const char *password)
{
	t_start_on(password, NULL);
}

static void
setup(void)
{
	t_start(T_PASSWORD);
}

static void
setup_off(void)
{
	t_start(NULL);
}

static void
teardown(void)
{
	t_stop();
}

/* --- a raw HTTP client ----------------------------------------------------- */

/* A request: method, target, extra header lines (each ending \r\n),
 * a form body or NULL. */
static struct hc_resp *
t_request(const char *method, const char *target, const char *headers,
    const char *body)
{
	static struct hc_resp	 r;
	char			 req[16384];
	long long		 start = hc_now_ms();
	int			 n, fd;

	memset(&r, 0, sizeof(r));
	n = snprintf(req, sizeof(req), "%s %s HTTP/1.1\r\nHost: 127.0.0.1\r\n"
	    "Connection: close\r\n%s", method, target, headers ? headers : "");
	cr_assert(n > 0 && (size_t)n < sizeof(req));
	if (body != NULL)
		n += snprintf(req + n, sizeof(req) - (size_t)n, "Content-Type: "
		    "application/x-www-form-urlencoded\r\nContent-Length: %zu"
		    "\r\n", strlen(body));
	n += snprintf(req + n, sizeof(req) - (size_t)n, "\r\n%s",
	    body ? body : "");
	cr_assert(n > 0 && (size_t)n < sizeof(req));
	fd = hc_connect(&hc);
	cr_assert_eq(hc_send(&hc, fd, req, (size_t)n), 0, "send: %s",
	    strerror(errno));
	hc_receive(&hc, fd, &r);
	close(fd);
	r.ms = hc_now_ms() - start;
	return &r;
}

static struct hc_resp *
t_get(const char *target)
{
	return t_request("GET", target, NULL, NULL);
}

/* POST an action as marketctl does: Basic auth and the admin header. */
static struct hc_resp *
t_action(const char *target, const char *body)
{
	/* base64("marketctl:s3cret") */
	return t_request("POST", target, "Authorization: Basic "
	    "bWFya2V0Y3RsOnMzY3JldA==\r\nX-Marketbox-Admin: 1\r\n", body);
}

/* The body of a page rendered straight into a buffer. */
static char *
t_render(int (*fn)(struct admin *, struct evbuffer *))
{
	struct evbuffer	*b = evbuffer_new();
	size_t		 len;
	char		*s;

	cr_assert_not_null(b);
	cr_assert_eq(fn(admin, b), 0);
	len = evbuffer_get_length(b);
	cr_assert_not_null(s = malloc(len + 1));
	evbuffer_copyout(b, s, len);
	s[len] = '\0';
	evbuffer_free(b);
	return s;
}

#define assert_has(hay, needle) \
	cr_assert_not_null(strstr((hay), (needle)), "missing: %s\nin:\n%s", \
	    (needle), (hay))
#define assert_lacks(hay, needle) \
	cr_assert_null(strstr((hay), (needle)), "unexpected: %s", (needle))

/* --- pure helpers -------------------------------------------------------------- */

Test(admin_helpers, password_compare_is_exact)
{
	cr_assert_eq(http_password_equal("s3cret", 6, "s3cret"), 1);
	cr_assert_eq(http_password_equal("s3creT", 6, "s3cret"), 0);
	cr_assert_eq(http_password_equal("s3cre", 5, "s3cret"), 0);
	cr_assert_eq(http_password_equal("s3crets", 7, "s3cret"), 0);
	cr_assert_eq(http_password_equal("", 0, "s3cret"), 0);
	cr_assert_eq(http_password_equal("", 0, ""), 1);
	cr_assert_eq(http_password_equal("x", 1, ""), 0);
	cr_assert_eq(http_password_equal("s3cret", 6, NULL), 0);
	/* The length given counts, not a NUL inside. */
	cr_assert_eq(http_password_equal("s3cret\0x", 8, "s3cret"), 0);
	/* The same bytes repeated (the compare cycles over want) differ. */
	cr_assert_eq(http_password_equal("abab", 4, "ab"), 0);
}

Test(admin_helpers, failure_delays_double_up_to_eight_seconds)
{
	cr_assert_float_eq(http_failure_delay(1), 0.5, 1e-9);
	cr_assert_float_eq(http_failure_delay(2), 1.0, 1e-9);
	cr_assert_float_eq(http_failure_delay(3), 2.0, 1e-9);
	cr_assert_float_eq(http_failure_delay(4), 4.0, 1e-9);
	cr_assert_float_eq(http_failure_delay(5), 8.0, 1e-9);
	cr_assert_float_eq(http_failure_delay(6), 8.0, 1e-9);
	cr_assert_float_eq(http_failure_delay(1000000), 8.0, 1e-9);
}

Test(admin_helpers, auth_by_query_basic_none_and_off)
{
	struct conf	 c;

	memset(&c, 0, sizeof(c));
	cr_assert_eq(http_auth_check(&c, "x", NULL), HTTP_AUTH_OFF);
	c.admin_password = (char *)"s3cret";
	cr_assert_eq(http_auth_check(&c, NULL, NULL), HTTP_AUTH_MISSING);
	cr_assert_eq(http_auth_check(&c, "s3cret", NULL), HTTP_AUTH_OK);
	cr_assert_eq(http_auth_check(&c, "s3cre", NULL), HTTP_AUTH_WRONG);
	cr_assert_eq(http_auth_check(&c, "", NULL), HTTP_AUTH_WRONG);
	/* base64("admin:") and base64(":"): an empty password */
	cr_assert_eq(http_auth_check(&c, NULL, "Basic YWRtaW46"),
	    HTTP_AUTH_WRONG);
	cr_assert_eq(http_auth_check(&c, NULL, "Basic Og=="),
	    HTTP_AUTH_WRONG);
	cr_assert_eq(http_auth_check(&c, "", "Basic YWRtaW46"),
	    HTTP_AUTH_WRONG);
	/* base64("admin:s3cret"), any user name */
	cr_assert_eq(http_auth_check(&c, NULL, "Basic YWRtaW46czNjcmV0"),
	    HTTP_AUTH_OK);
	cr_assert_eq(http_auth_check(&c, NULL, "basic  YWRtaW46czNjcmV0"),
	    HTTP_AUTH_OK);
	/* base64(":s3cret") */
	cr_assert_eq(http_auth_check(&c, NULL, "Basic OnMzY3JldA=="),
	    HTTP_AUTH_OK);
	/* base64("admin:wrong") */
	cr_assert_eq(http_auth_check(&c, NULL, "Basic YWRtaW46d3Jvbmc="),
	    HTTP_AUTH_WRONG);
	/* base64("s3cret"): no colon */
	cr_assert_eq(http_auth_check(&c, NULL, "Basic czNjcmV0"),
	    HTTP_AUTH_WRONG);
	cr_assert_eq(http_auth_check(&c, NULL, "Basic !!!"), HTTP_AUTH_WRONG);
	cr_assert_eq(http_auth_check(&c, NULL, "Bearer s3cret"),
	    HTTP_AUTH_WRONG);
	cr_assert_eq(http_auth_check(&c, NULL, "Basic"), HTTP_AUTH_WRONG);
	/* Both given: both must be right. */
	cr_assert_eq(http_auth_check(&c, "s3cret", "Basic YWRtaW46d3Jvbmc="),
	    HTTP_AUTH_WRONG);
	cr_assert_eq(http_auth_check(&c, "nope", "Basic YWRtaW46czNjcmV0"),
	    HTTP_AUTH_WRONG);
	cr_assert_eq(http_auth_check(&c, "s3cret", "Basic YWRtaW46czNjcmV0"),
	    HTTP_AUTH_OK);
}

Test(admin_helpers, loopback_unless_admin_allow_ip)
{
	struct conf	 c;
	char		*names[] = { (char *)"10.0.0.*", (char *)"192.168.1.5" };

	memset(&c, 0, sizeof(c));
	cr_assert_eq(http_admin_ip_allowed(&c, "127.0.0.1"), 1);
	cr_assert_eq(http_admin_ip_allowed(&c, "::1"), 1);
	cr_assert_eq(http_admin_ip_allowed(&c, "10.0.0.7"), 0);
	cr_assert_eq(http_admin_ip_allowed(&c, ""), 0);
	cr_assert_eq(http_admin_ip_allowed(NULL, "127.0.0.1"), 1);
	/* http-allow-ip is not admin-allow-ip */
	c.http_allow_ip.names = names;
	c.http_allow_ip.count = 2;
	cr_assert_eq(http_admin_ip_allowed(&c, "10.0.0.7"), 0);
	c.admin_allow_ip.names = names;
	c.admin_allow_ip.count = 2;
	cr_assert_eq(http_admin_ip_allowed(&c, "10.0.0.7"), 1);
	cr_assert_eq(http_admin_ip_allowed(&c, "192.168.1.5"), 1);
	cr_assert_eq(http_admin_ip_allowed(&c, "192.168.1.6"), 0);
}

Test(admin_helpers, admin_paths)
{
	cr_assert_eq(admin_path_is_ours("/status"), 1);
	cr_assert_eq(admin_path_is_ours("/status.json"), 1);
	cr_assert_eq(admin_path_is_ours("/metrics"), 1);
	cr_assert_eq(admin_path_is_ours("/admin/broadcast"), 1);
	cr_assert_eq(admin_path_is_ours("/admin/retry"), 1);
	cr_assert_eq(admin_path_is_ours("/admin/user"), 1);
	cr_assert_eq(admin_path_is_ours("/admin/agent"), 1);
	cr_assert_eq(admin_path_is_ours("/admin/dispute"), 1);
	cr_assert_eq(admin_path_is_ours("/admin/reports"), 1);
	cr_assert_eq(admin_path_is_ours("/sms"), 0);
	cr_assert_eq(admin_path_is_ours("/status/"), 0);
	cr_assert_eq(admin_path_is_ours("/admin"), 0);
	cr_assert_eq(admin_path_is_ours(NULL), 0);
}

static char *
t_escaped(const char *s)
{
	struct evbuffer	*b = evbuffer_new();
	size_t		 len;
	char		*out;

	cr_assert_eq(admin_escape_html(b, s), 0);
	len = evbuffer_get_length(b);
	out = malloc(len + 1);
	evbuffer_copyout(b, out, len);
	out[len] = '\0';
	evbuffer_free(b);
	return out;
}

Test(admin_helpers, html_escaping)
{
	char	*s;

	s = t_escaped("<script>alert(\"x\" & 'y')</script>");
	cr_assert_str_eq(s, "&lt;script&gt;alert(&quot;x&quot; &amp; "
	    "&#39;y&#39;)&lt;/script&gt;");
	free(s);
	s = t_escaped("ma\xC3\xAFs 3000/=");
	cr_assert_str_eq(s, "ma\xC3\xAFs 3000/=");
	free(s);
	s = t_escaped("");
	cr_assert_str_eq(s, "");
	free(s);
	s = t_escaped("&&");
	cr_assert_str_eq(s, "&amp;&amp;");
	free(s);
}

Test(admin_helpers, medians)
{
	long long	 a[] = { 5 }, b[] = { 9, 1, 5 }, c[] = { 4, 1, 3, 2 },
			 d[] = { 300000, 320000 }, e[] = { 7, 8 };

	cr_assert_eq(admin_median(a, 1), 5);
	cr_assert_eq(admin_median(b, 3), 5);
	cr_assert_eq(admin_median(c, 4), 2);	/* (2 + 3) / 2 rounded down */
	cr_assert_eq(admin_median(d, 2), 310000);
	cr_assert_eq(admin_median(e, 2), 7);
}

Test(admin_helpers, svg_chart_is_escaped_and_drawn_to_scale)
{
	struct admin_point	 p[] = { { 100, 300000 }, { 101, 320000 },
				    { 103, 310000 } };
	struct evbuffer		*b = evbuffer_new();
	size_t			 len;
	char			*s;

	cr_assert_eq(admin_svg_chart(b, "maize <b>&</b>", "K<ES", p, 3, 100,
	    104), 0);
	cr_assert_eq(admin_svg_chart(b, "x", "KES", p, 0, 100, 104), -1);
	len = evbuffer_get_length(b);
	s = malloc(len + 1);
	evbuffer_copyout(b, s, len);
	s[len] = '\0';
	evbuffer_free(b);
	assert_has(s, "<svg xmlns=\"http://www.w3.org/2000/svg\"");
	assert_has(s, "<title>maize &lt;b&gt;&amp;&lt;/b&gt;: median price per "
	    "day</title>");
	assert_lacks(s, "<b>");
	assert_lacks(s, "K<ES");
	/* 360x170, plot from x 64 to 346 over 4 days, y 26 (3200) to 140
	 * (3000): points at days 0, 1 and 3. */
	assert_has(s, "<polyline class=\"line\" points=\"64.0,140.0 "
	    "134.5,26.0 275.5,83.0\"/>");
	assert_has(s, ">3200 K&lt;ES</text>");
	assert_has(s, ">3000 K&lt;ES</text>");
	assert_has(s, ">1970-04-11</text>");	/* day 100 */
	assert_has(s, ">1970-04-15</text>");	/* day 104 */
	assert_has(s, "<title>3100</title>");
	assert_has(s, "</svg>");
	free(s);
}

/* --- the bodies against the database ---------------------------------------- */

TestSuite(admin_pages, .init = setup, .fini = teardown, .timeout = 60);

Test(admin_pages, status_json_matches_the_database)
{
	char	*s = t_render(admin_status_json);

	assert_has(s, "\"version\": \"" MARKETBOX_VERSION "\"");
	assert_has(s, "\"link\": {\"mode\": \"none\", \"up\": null}");
	assert_has(s, "\"mo\": {\"total\": 3, \"received\": 0, "
	    "\"duplicates\": 0, \"per_minute\": 0.00}");
	assert_has(s, "\"mt\": {\"total\": 8, \"handed_to_link\": 6, ");
	assert_has(s, "\"outbox\": {\"queued\": 2, \"sending\": 0, "
	    "\"accepted\": 1, \"buffered\": 0, \"delivered\": 2, \"failed\": 3, "
	    "\"inline\": 1}");
	assert_has(s, "\"dlr\": {\"delivered\": 2, \"failed\": 1}");
	assert_has(s, "\"failed\": {\"notice\": 2, \"reply\": 1}");
	assert_has(s, "\"users\": {\"total\": 5, \"registered\": 4, "
	    "\"opted_out\": 1, \"by_language_role\": ["
	    "{\"language\": \"none\", \"role\": \"user\", \"count\": 1}, "
	    "{\"language\": \"en\", \"role\": \"agent\", \"count\": 1}, "
	    "{\"language\": \"en\", \"role\": \"farmer\", \"count\": 2}, "
	    "{\"language\": \"sw\", \"role\": \"buyer\", \"count\": 1}]}");
	assert_has(s, "\"market\": {\"open_offers\": 2, \"open_wants\": 1, "
	    "\"posts\": [{\"kind\": \"offer\", \"state\": \"closed\", "
	    "\"count\": 1}, {\"kind\": \"offer\", \"state\": \"open\", "
	    "\"count\": 2}, {\"kind\": \"want\", \"state\": \"open\", "
	    "\"count\": 1}], \"orders\": {\"delivered\": 2, \"pending\": 1}}");
	assert_has(s, "\"prices\": {\"reports\": {\"held\": 1, \"ok\": 8}}");
	assert_has(s, "\"plugins\": [{\"name\": \"echo\", \"version\": ");
	assert_has(s, "\"commands\": {\"handled\": 0, ");
	assert_has(s, "\"box\": null");
	assert_has(s, "\"admin\": {\"auth_failures\": 0}");
	free(s);
}

Test(admin_pages, status_json_without_plugin_tables)
{
	char	*s;

	t_exec("DROP TABLE market_orders");
	t_exec("DROP TABLE market_posts");
	t_exec("DROP TABLE prices_reports");
	s = t_render(admin_status_json);
	assert_has(s, "\"market\": null");
	assert_has(s, "\"prices\": null");
	free(s);
	s = t_render(admin_metrics);
	assert_lacks(s, "marketbox_market_posts");
	assert_lacks(s, "marketbox_price_reports");
	free(s);
	s = t_render(admin_status_html);
	assert_has(s, "The market plugin has no tables in this database.");
	assert_has(s, "No prices reported in the last 56 days.");
	free(s);
}

/*
 * The market plugin's pools (market_pools, market_pool_shares, as its
 * schema step 3 makes them): counts by kind and state, and the open and
 * listed ones with what their members put in of the target, how many
 * they are and the deadline, on /status.json, /status and /metrics.
 */
static void	t_check_exposition(const char *);

static void
t_pools(void)
{
	t_exec("CREATE TABLE market_pools (ref INTEGER PRIMARY KEY, kind TEXT, "
	    "opener TEXT, commodity TEXT, unit TEXT, market TEXT, target "
	    "INTEGER, price INTEGER, rule TEXT, state TEXT, created INTEGER, "
	    "deadline INTEGER, told INTEGER DEFAULT 0)");
	t_exec("CREATE TABLE market_pool_shares (pool INTEGER, member TEXT, "
	    "qty INTEGER, sold INTEGER DEFAULT 0, seq INTEGER, joined INTEGER, "
	    "PRIMARY KEY (pool, member))");
	/* 2026-01-01 00:00 UTC and a day later */
	t_exec("INSERT INTO market_pools (ref, kind, opener, commodity, unit, "
	    "market, target, price, rule, state, created, deadline) VALUES "
	    "(51, 'sell', '+254700000001', 'maize', 'bag', 'nakuru', 100, "
	    "300000, 'joined', 'open', 1, 1767312000),"
	    "(52, 'sell', '+254700000003', 'maize', 'bag', 'nakuru', 40, "
	    "300000, 'joined', 'listed', 1, 1767225600),"
	    "(53, 'want', '+254700000002', 'dap', 'bag', 'nakuru', 50, "
	    "340000, 'joined', 'open', 1, 1767398400),"
	    "(54, 'sell', '+254700000001', '<b>x</b>', 'bag', 'nakuru', 10, "
	    "300000, 'joined', 'sold', 1, 1),"
	    "(55, 'sell', '+254700000001', 'beans', 'kg', 'nakuru', 10, "
	    "300000, 'joined', 'lapsed', 1, 1)");
	t_exec("INSERT INTO market_pool_shares (pool, member, qty, seq, joined) "
	    "VALUES (51, '+254700000001', 10, 1, 1),"
	    "(51, '+254700000002', 20, 2, 1), (51, 'm:M17', 5, 3, 1),"
	    "(52, '+254700000003', 30, 4, 1), (52, '+254700000004', 10, 5, 1),"
	    "(54, '+254700000001', 10, 6, 1)");
}

Test(admin_pages, pools_on_every_page)
{
	char	*s;

	t_pools();
	s = t_render(admin_status_json);
	assert_has(s, "\"pools\": {\"by_kind_state\": ["
	    "{\"kind\": \"sell\", \"state\": \"lapsed\", \"count\": 1}, "
	    "{\"kind\": \"sell\", \"state\": \"listed\", \"count\": 1}, "
	    "{\"kind\": \"sell\", \"state\": \"open\", \"count\": 1}, "
	    "{\"kind\": \"sell\", \"state\": \"sold\", \"count\": 1}, "
	    "{\"kind\": \"want\", \"state\": \"open\", \"count\": 1}], "
	    "\"live\": 3, \"list\": ["
	    "{\"ref\": 52, \"kind\": \"sell\", \"state\": \"listed\", "
	    "\"commodity\": \"maize\", \"unit\": \"bag\", \"filled\": 40, "
	    "\"target\": 40, \"members\": 2, \"deadline\": 1767225600}, "
	    "{\"ref\": 51, \"kind\": \"sell\", \"state\": \"open\", "
	    "\"commodity\": \"maize\", \"unit\": \"bag\", \"filled\": 35, "
	    "\"target\": 100, \"members\": 3, \"deadline\": 1767312000}, "
	    "{\"ref\": 53, \"kind\": \"want\", \"state\": \"open\", "
	    "\"commodity\": \"dap\", \"unit\": \"bag\", \"filled\": 0, "
	    "\"target\": 50, \"members\": 0, \"deadline\": 1767398400}]}");
	free(s);
	s = t_render(admin_status_html);
	assert_has(s, "<h2>Pools</h2>");
	assert_has(s, "data-k=\"pools.sell.open\">1<");
	assert_has(s, "data-k=\"pools.sell.sold\">1<");
	assert_has(s, "data-k=\"pool.51.filled\">35 bag<");
	assert_has(s, "data-k=\"pool.51.target\">100 bag<");
	assert_has(s, "data-k=\"pool.51.members\">3<");
	assert_has(s, "data-k=\"pool.52.deadline\">2026-01-01 00:00 UTC<");
	assert_has(s, "data-k=\"pool.53.members\">0<");
	/* a sold pool is counted, not listed; its commodity is escaped */
	assert_lacks(s, "pool.54.");
	assert_lacks(s, "<b>x</b>");
	free(s);
	s = t_render(admin_metrics);
	t_check_exposition(s);
	assert_has(s, "\nmarketbox_market_pools{kind=\"sell\",state=\"open\"} "
	    "1\n");
	assert_has(s, "\nmarketbox_market_pools{kind=\"want\",state=\"open\"} "
	    "1\n");
	free(s);
}

/* Without the market plugin's pool tables: null, and said so. */
Test(admin_pages, pools_without_their_tables)
{
	char	*s;

	s = t_render(admin_status_json);
	assert_has(s, "\"pools\": null");
	free(s);
	s = t_render(admin_status_html);
	assert_has(s, "The market plugin has no pool tables in this database.");
	free(s);
	s = t_render(admin_metrics);
	assert_lacks(s, "marketbox_market_pools");
	free(s);
	/* market_pools alone (a schema cut short) is not read */
	t_exec("CREATE TABLE market_pools (ref INTEGER PRIMARY KEY, kind TEXT, "
	    "state TEXT, commodity TEXT, unit TEXT, target INTEGER, "
	    "deadline INTEGER)");
	s = t_render(admin_status_json);
	assert_has(s, "\"pools\": null");
	free(s);
}

/* Every line of a Prometheus body: a comment or "name{labels} value". */
static void
t_check_exposition(const char *s)
{
	const char	*line = s, *nl, *p;
	char		 seen_type[128][64];
	size_t		 ntype = 0, i;

	while (*line != '\0') {
		nl = strchr(line, '\n');
		cr_assert_not_null(nl, "the body must end in a newline");
		if (strncmp(line, "# TYPE ", 7) == 0) {
			char	 name[64];

			cr_assert_eq(sscanf(line + 7, "%63s", name), 1);
			for (i = 0; i < ntype; i++)
				cr_assert_str_neq(seen_type[i], name,
				    "TYPE %s twice", name);
			cr_assert_lt(ntype, 128);
			snprintf(seen_type[ntype++], 64, "%s", name);
			cr_assert(strstr(line, " counter\n") == nl - 8 ||
			    strstr(line, " gauge\n") == nl - 6 ||
			    strstr(line, " histogram\n") == nl - 10,
			    "bad TYPE line %.*s", (int)(nl - line), line);
		} else if (line[0] != '#') {
			cr_assert_eq(strncmp(line, "marketbox_", 10), 0,
			    "%.*s", (int)(nl - line), line);
			for (p = line; p < nl && *p != ' ' && *p != '{'; p++)
				cr_assert((*p >= 'a' && *p <= 'z') || *p == '_',
				    "bad name in %.*s", (int)(nl - line), line);
			p = memchr(line, ' ', (size_t)(nl - line));
			if (memchr(line, '}', (size_t)(nl - line)) != NULL)
				p = (const char *)memchr(line, '}',
				    (size_t)(nl - line)) + 1;
			cr_assert(p != NULL && *p == ' ', "%.*s",
			    (int)(nl - line), line);
			for (p++; p < nl; p++)
				cr_assert((*p >= '0' && *p <= '9') || *p == '.',
				    "bad value in %.*s", (int)(nl - line), line);
		}
		line = nl + 1;
	}
	cr_assert_gt(ntype, 20);
}

Test(admin_pages, metrics_match_the_database)
{
	char	*s = t_render(admin_metrics);

	t_check_exposition(s);
	assert_has(s, "# TYPE marketbox_mo_total counter\nmarketbox_mo_total 3\n");
	assert_has(s, "\nmarketbox_mt_total 8\n");
	assert_has(s, "\nmarketbox_outbox_messages{state=\"queued\"} 2\n");
	assert_has(s, "\nmarketbox_outbox_messages{state=\"failed\"} 3\n");
	assert_has(s, "\nmarketbox_outbox_messages{state=\"inline\"} 1\n");
	assert_has(s, "\nmarketbox_dlr_total{outcome=\"delivered\"} 2\n");
	assert_has(s, "\nmarketbox_failed_messages{kind=\"notice\"} 2\n");
	assert_has(s, "\nmarketbox_users{language=\"en\",role=\"farmer\"} 2\n");
	assert_has(s, "\nmarketbox_users{language=\"none\",role=\"user\"} 1\n");
	assert_has(s, "\nmarketbox_users_opted_out 1\n");
	assert_has(s, "\nmarketbox_market_posts{kind=\"offer\",state=\"open\"} "
	    "2\n");
	assert_has(s, "\nmarketbox_open_offers 2\n");
	assert_has(s, "\nmarketbox_open_wants 1\n");
	assert_has(s, "\nmarketbox_market_orders{state=\"delivered\"} 2\n");
	assert_has(s, "\nmarketbox_price_reports{status=\"held\"} 1\n");
	assert_has(s, "\nmarketbox_plugins_loaded 1\n");
	assert_has(s, "\nmarketbox_plugin_info{name=\"echo\",version=\"");
	assert_has(s, "\nmarketbox_bearerbox_up{mode=\"none\"} 0\n");
	assert_has(s, "\nmarketbox_info{version=\"" MARKETBOX_VERSION "\"} 1\n");
	free(s);
}

/* The value of the sample "name{labels}" in a Prometheus body; -1 when
 * it has none. */
static double
t_sample(const char *s, const char *sample)
{
	char		 key[160];
	const char	*p;

	snprintf(key, sizeof(key), "\n%s ", sample);
	if ((p = strstr(s, key)) == NULL)
		return -1;
	return strtod(p + strlen(key), NULL);
}

/*
 * The age of the oldest row still to send: queued and sending rows
 * count (the oldest of them), sent and failed ones do not, and an
 * outbox with nothing to send is 0.  Run on both engines.
 */
static void
t_outbox_oldest(void)
{
	char		 sql[512];
	char		*s;
	long long	 now = (long long)time(NULL);
	double		 v;

	t_exec("UPDATE outbox SET state = 'failed' WHERE state = 'queued'");
	s = t_render(admin_metrics);
	assert_has(s, "# TYPE marketbox_outbox_oldest_age_seconds gauge\n");
	cr_assert_eq(t_sample(s, "marketbox_outbox_oldest_age_seconds"), 0);
	free(s);
	/* a delivered row an hour old, a queued one 2 min old, a sending
	 * one 5 min old: 300 s */
	snprintf(sql, sizeof(sql), "INSERT INTO outbox (kind, sender, "
	    "receiver, text, coding, state, next_attempt, created) VALUES "
	    "('notice', '777', '+254700000001', 't', 0, 'delivered', 1, %lld),"
	    "('notice', '777', '+254700000002', 't', 0, 'queued', 1, %lld),"
	    "('notice', '777', '+254700000003', 't', 0, 'sending', 1, %lld)",
	    now - 3600, now - 120, now - 300);
	t_exec(sql);
	s = t_render(admin_metrics);
	v = t_sample(s, "marketbox_outbox_oldest_age_seconds");
	cr_assert(v >= 300 && v <= 305, "oldest age %g, not 300", v);
	free(s);
	t_exec("UPDATE outbox SET state = 'accepted' WHERE state = 'sending'");
	s = t_render(admin_metrics);
	v = t_sample(s, "marketbox_outbox_oldest_age_seconds");
	cr_assert(v >= 120 && v <= 125, "oldest age %g, not 120", v);
	free(s);
}

Test(admin_pages, metrics_outbox_oldest_age)
{
	t_outbox_oldest();
}

/*
 * The commit times: the buckets are cumulative (each counts the commits
 * at most its bound), +Inf is _count, _sum adds the seconds.  Three
 * made-up commits on top of whatever the store did: 0.3 ms, 0.7 ms, 2 s.
 */
Test(admin_pages, metrics_commit_times_histogram)
{
	static const char *const le[] = { "0.0005", "0.001", "0.0025",
	    "0.005", "0.01", "0.025", "0.05", "0.1", "0.25", "0.5", "1",
	    "+Inf" };
	static const double add[] = { 1, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 3 };
	char	*s0, *s1, sample[128];
	double	 before[12], after, prev = 0;
	size_t	 i;

	s0 = t_render(admin_metrics);
	t_check_exposition(s0);
	assert_has(s0, "# TYPE marketbox_store_commit_seconds histogram\n");
	for (i = 0; i < 12; i++) {
		snprintf(sample, sizeof(sample),
		    "marketbox_store_commit_seconds_bucket{le=\"%s\"}", le[i]);
		cr_assert_geq(before[i] = t_sample(s0, sample), 0, "%s", sample);
	}
	cr_assert_eq(t_sample(s0, "marketbox_store_commit_seconds_count"),
	    before[11]);
	store_commit_note(store, 300);
	store_commit_note(store, 700);
	store_commit_note(store, 2000000);
	s1 = t_render(admin_metrics);
	t_check_exposition(s1);
	for (i = 0; i < 12; i++) {
		snprintf(sample, sizeof(sample),
		    "marketbox_store_commit_seconds_bucket{le=\"%s\"}", le[i]);
		after = t_sample(s1, sample);
		cr_assert_eq(after - before[i], add[i], "%s: %g then %g", sample,
		    before[i], after);
		cr_assert_geq(after, prev, "%s below the bucket before", sample);
		prev = after;
	}
	cr_assert_eq(t_sample(s1, "marketbox_store_commit_seconds_count"),
	    before[11] + 3);
	after = t_sample(s1, "marketbox_store_commit_seconds_sum") -
	    t_sample(s0, "marketbox_store_commit_seconds_sum");
	cr_assert(after > 2.000999 && after < 2.001001, "sum grew by %g", after);
	free(s0);
	free(s1);
}

/* A pool's sale once: its members' share orders (parent set, the market
   plugin's pools) are parts of the pool order, not orders of their own. */
Test(admin_pages, metrics_count_a_pools_order_once)
{
	char	*s;

	t_exec("ALTER TABLE market_orders ADD COLUMN parent INTEGER");
	t_exec("INSERT INTO market_orders (state, parent) VALUES "
	    "('delivered', 2), ('delivered', 2)");
	s = t_render(admin_metrics);
	assert_has(s, "\nmarketbox_market_orders{state=\"delivered\"} 2\n");
	free(s);
}

Test(admin_pages, metrics_escape_label_values)
{
	char	*s;

	t_exec("UPDATE users SET role = 'a\"b\\c' WHERE id = 5");
	s = t_render(admin_metrics);
	assert_has(s, "\nmarketbox_users{language=\"en\",role=\"a\\\"b\\\\c\"} "
	    "1\n");
	free(s);
	s = t_render(admin_status_json);
	assert_has(s, "\"role\": \"a\\\"b\\\\c\"");
	free(s);
}

Test(admin_pages, status_html_shows_the_figures_and_charts)
{
	char	*s = t_render(admin_status_html);
	char	 want[256];

	assert_has(s, "<!DOCTYPE html>");
	assert_has(s, "<style>");
	assert_lacks(s, "<script");
	assert_lacks(s, "<link");
	assert_lacks(s, "src=");
	assert_has(s, "data-k=\"mo_total\">3<");
	assert_has(s, "data-k=\"mt_total\">8<");
	assert_has(s, "data-k=\"outbox.failed\">3<");
	assert_has(s, "data-k=\"dlr.delivered\">2<");
	assert_has(s, "data-k=\"failed.notice\">2<");
	assert_has(s, "data-k=\"open_offers\">2<");
	assert_has(s, "data-k=\"orders.pending\">1<");
	assert_has(s, "data-k=\"users.en.farmer\">2<");
	assert_has(s, "data-k=\"users.registered\">4<");
	assert_has(s, "data-k=\"plugin\">echo<");
	/* Two charts: maize at nakuru (two days: medians 3000 and 3200;
	 * the held report left out) and beans at a market named in HTML. */
	assert_has(s, "(2 charts)");
	assert_has(s, "aria-label=\"maize \xC2\xB7 nakuru\"");
	assert_has(s, ">3200 KES</text>");
	assert_has(s, ">3000 KES</text>");
	assert_lacks(s, "99999");	/* held */
	assert_lacks(s, "88888");	/* dated in the future */
	assert_has(s, "aria-label=\"beans \xC2\xB7 &lt;b&gt;x&lt;/b&gt;\"");
	assert_has(s, ">75.50 KES</text>");
	assert_lacks(s, "<b>x");
	/* The old beans report at nakuru (1970) is outside the window. */
	assert_lacks(s, "beans \xC2\xB7 nakuru");
	snprintf(want, sizeof(want), "<polyline class=\"line\" points=\"");
	assert_has(s, want);
	free(s);
}

/* --- over HTTP -------------------------------------------------------------------- */

Test(admin_pages, no_password_is_401_with_a_basic_challenge)
{
	struct hc_resp	*r = t_get("/status.json");

	cr_assert_eq(r->code, 401, "%s", r->raw);
	assert_has(r->raw, "\r\nWWW-Authenticate: Basic realm=\"marketbox "
	    "admin\"");
	assert_lacks(r->body, "\"mo\"");
}

Test(admin_pages, query_password_and_basic_are_accepted)
{
	struct hc_resp	*r = t_get("/status.json?password=" T_PASSWORD);

	cr_assert_eq(r->code, 200, "%s", r->raw);
	assert_has(r->raw, "\r\nContent-Type: application/json\r\n");
	assert_has(r->raw, "\r\nCache-Control: no-store\r\n");
	assert_has(r->body, "\"outbox\": {\"queued\": 2,");
	r = t_request("GET", "/metrics", "Authorization: Basic "
	    "YWRtaW46czNjcmV0\r\n", NULL);
	cr_assert_eq(r->code, 200, "%s", r->raw);
	assert_has(r->raw, "\r\nContent-Type: text/plain; version=0.0.4");
	assert_has(r->body, "marketbox_mo_total 3\n");
	r = t_get("/status?password=" T_PASSWORD);
	cr_assert_eq(r->code, 200, "%s", r->raw);
	assert_has(r->raw, "\r\nContent-Type: text/html; charset=utf-8\r\n");
	assert_has(r->raw, "\r\nContent-Security-Policy: default-src 'none'");
	assert_has(r->body, "data-k=\"mo_total\">3<");
	/* /sms and /health are still http.c's */
	r = t_get("/health");
	cr_assert_eq(r->code, 200);
	cr_assert_str_eq(r->body, "ok");
}

/* Run the loop for ms milliseconds. */
static void
t_run(long long ms)
{
	long long	 end = hc_now_ms() + ms;

	while (hc_now_ms() < end)
		hc_pass(&hc, -1);
}

Test(admin_pages, a_wrong_password_locks_the_address_out_before_any_guess_is_judged)
{
	struct hc_resp	*r;
	char		 v[32];

	r = t_get("/status.json?password=wrong");
	cr_assert_eq(r->code, 401, "%s", r->raw);
	cr_assert_lt(r->ms, 400, "a wrong password is answered at once");
	/* Locked out: even the right password is not looked at. */
	r = t_get("/status.json?password=" T_PASSWORD);
	cr_assert_eq(r->code, 429, "%s", r->raw);
	cr_assert_str_eq(hc_header(r, "Retry-After", v, sizeof(v)), "1");
	assert_lacks(r->body, "\"outbox\"");
	r = t_request("GET", "/metrics", "Authorization: Basic "
	    "YWRtaW46d3Jvbmc=\r\n", NULL);
	cr_assert_eq(r->code, 429);
	r = t_action("/admin/user", "msisdn=%2B254700000004&role=agent");
	cr_assert_eq(r->code, 429);

	/* After the lock-out a second failure locks it out for longer. */
	t_run(600);
	r = t_get("/status.json?password=wrong");
	cr_assert_eq(r->code, 401);
	t_run(600);
	r = t_get("/status.json?password=" T_PASSWORD);
	cr_assert_eq(r->code, 429, "the second lock-out is 1 s");
	t_run(500);
	/* The right password gets in and resets the count; the guesses
	 * refused 429 were never counted as failures. */
	r = t_get("/status.json?password=" T_PASSWORD);
	cr_assert_eq(r->code, 200, "%s", r->raw);
	assert_has(r->body, "\"admin\": {\"auth_failures\": 2}");
	r = t_get("/status.json?password=wrong");
	cr_assert_eq(r->code, 401);
	t_run(600);
	r = t_get("/status.json?password=" T_PASSWORD);
	cr_assert_eq(r->code, 200, "the count started again: 0.5 s");
}

/* A whole request sent from the local address src, without running the
 * loop; the socket, to read the answer from later. */
static int
t_send_from(const char *src, const char *req)
{
	int	 fd = hc_connect_from(&hc, src);
	size_t	 n = strlen(req);

	cr_assert_eq(send(fd, req, n, MSG_NOSIGNAL), (ssize_t)n);
	return fd;
}

Test(admin_pages, the_right_password_gets_in_while_another_address_hammers)
{
	static const char guess[] = "POST /admin/user HTTP/1.1\r\n"
	    "Host: 127.0.0.1\r\nConnection: close\r\n"
	    "Authorization: Basic YWRtaW46Z3Vlc3M=\r\n"	/* admin:guess */
	    "X-Marketbox-Admin: 1\r\nContent-Type: "
	    "application/x-www-form-urlencoded\r\nContent-Length: 33\r\n\r\n"
	    "msisdn=%2B254700000009&role=admin";
	struct hc_resp	 r, *ok;
	int		 fds[100], i, round, n401 = 0, n429 = 0, other = 0;

	for (round = 0; round < 3; round++) {
		/* A hundred guesses at once from 127.0.0.2 ... */
		for (i = 0; i < 100; i++)
			fds[i] = t_send_from("127.0.0.2", guess);
		/* ... and, behind them, an action with the right password
		 * from this address. */
		ok = t_action("/admin/user", round == 1 ?
		    "msisdn=%2B254700000004&role=agent" :
		    "msisdn=%2B254700000004&role=user");
		cr_assert_eq(ok->code, 200, "round %d: %s", round, ok->raw);
		cr_assert_lt(ok->ms, 2000);
		for (i = 0; i < 100; i++) {
			memset(&r, 0, sizeof(r));
			hc_receive(&hc, fds[i], &r);
			close(fds[i]);
			if (r.code == 401)
				n401++;
			else if (r.code == 429)
				n429++;
			else
				other++;
		}
	}
	/* One guess judged per lock-out (0.5 s, then 1 s, ...): at most a
	 * few in all, however many were sent. */
	cr_assert_eq(other, 0, "%d answers neither 401 nor 429", other);
	cr_assert_leq(n401, 3, "%d guesses were judged", n401);
	cr_assert_geq(n429, 297);
	cr_assert_eq(t_count("SELECT COUNT(*) FROM users WHERE msisdn = "
	    "'+254700000009'"), 0);
}

Test(admin_pages, basic_with_an_empty_password_is_refused)
{
	struct hc_resp	*r;

	/* base64("admin:"): a user name and nothing after the colon. */
	r = t_request("GET", "/status.json", "Authorization: Basic "
	    "YWRtaW46\r\n", NULL);
	cr_assert_eq(r->code, 401, "%s", r->raw);
	assert_lacks(r->body, "\"outbox\"");
	t_run(600);
	r = t_request("POST", "/admin/user", "Authorization: Basic YWRtaW46\r\n"
	    "X-Marketbox-Admin: 1\r\n", "msisdn=%2B254700000004&role=agent");
	cr_assert_eq(r->code, 401, "%s", r->raw);
	t_run(1100);
	/* base64(":"): no user name either. */
	r = t_request("GET", "/metrics", "Authorization: Basic Og==\r\n",
	    NULL);
	cr_assert_eq(r->code, 401, "%s", r->raw);
	t_run(2100);
	r = t_request("POST", "/admin/retry?password=", "X-Marketbox-Admin: "
	    "1\r\n", "");
	cr_assert_eq(r->code, 401, "%s", r->raw);
	cr_assert_eq(t_count("SELECT COUNT(*) FROM users WHERE role = "
	    "'agent'"), 1, "the role was not changed");
}

Test(admin_pages, actions_a_browser_made_for_another_site_are_refused)
{
	static const char *const refused[] = {
		"Origin: http://evil.example\r\n",
		"Origin: null\r\n",
		"Sec-Fetch-Site: cross-site\r\n",
		"Sec-Fetch-Site: same-site\r\n",
	};
	char		 hdr[512], req[1024];
	struct hc_resp	*r, raw;
	size_t		 i;
	int		 fd, n;

	for (i = 0; i < sizeof(refused) / sizeof(refused[0]); i++) {
		snprintf(hdr, sizeof(hdr), "Authorization: Basic "
		    "bWFya2V0Y3RsOnMzY3JldA==\r\nX-Marketbox-Admin: 1\r\n%s",
		    refused[i]);
		r = t_request("POST", "/admin/user", hdr,
		    "msisdn=%2B254700000004&role=agent");
		cr_assert_eq(r->code, 403, "%s: %s", refused[i], r->raw);
	}
	/* A foreign Host (DNS rebinding). */
	n = snprintf(req, sizeof(req), "POST /admin/user HTTP/1.1\r\n"
	    "Host: rebind.example:%d\r\nConnection: close\r\n"
	    "Authorization: Basic bWFya2V0Y3RsOnMzY3JldA==\r\n"
	    "X-Marketbox-Admin: 1\r\nContent-Type: "
	    "application/x-www-form-urlencoded\r\nContent-Length: 33\r\n\r\n"
	    "msisdn=%%2B254700000004&role=agent", port);
	fd = hc_connect(&hc);
	cr_assert_eq(hc_send(&hc, fd, req, (size_t)n), 0);
	memset(&raw, 0, sizeof(raw));
	hc_receive(&hc, fd, &raw);
	close(fd);
	cr_assert_eq(raw.code, 403, "%s", raw.raw);
	cr_assert_eq(t_count("SELECT COUNT(*) FROM users WHERE msisdn = "
	    "'+254700000004' AND role = 'agent'"), 0);

	/* The same origin passes; pages (GET) are not actions. */
	snprintf(hdr, sizeof(hdr), "Authorization: Basic "
	    "bWFya2V0Y3RsOnMzY3JldA==\r\nX-Marketbox-Admin: 1\r\n"
	    "Origin: http://127.0.0.1\r\nSec-Fetch-Site: same-origin\r\n");
	r = t_request("POST", "/admin/user", hdr,
	    "msisdn=%2B254700000004&role=agent");
	cr_assert_eq(r->code, 200, "%s", r->raw);
	r = t_request("GET", "/status.json?password=" T_PASSWORD,
	    "Sec-Fetch-Site: cross-site\r\n", NULL);
	cr_assert_eq(r->code, 200);
}

Test(admin_pages, other_methods_and_paths)
{
	struct hc_resp	*r;

	r = t_request("DELETE", "/status?password=" T_PASSWORD, NULL, NULL);
	cr_assert_eq(r->code, 405);
	r = t_request("POST", "/status?password=" T_PASSWORD, NULL, "a=b");
	cr_assert_eq(r->code, 405);
	r = t_get("/admin/retry?password=" T_PASSWORD);
	cr_assert_eq(r->code, 405);
	r = t_get("/admin/broadcast?password=" T_PASSWORD "&id=99");
	cr_assert_eq(r->code, 404);
	r = t_get("/status.json?password=" T_PASSWORD "&x");
	cr_assert(r->code == 200 || r->code == 400);
}

/* --- actions ------------------------------------------------------------------------ */

Test(admin_pages, actions_need_the_admin_header_and_the_password)
{
	struct hc_resp	*r;

	r = t_request("POST", "/admin/user?password=" T_PASSWORD, NULL,
	    "msisdn=%2B254700000004&role=agent");
	cr_assert_eq(r->code, 403, "%s", r->raw);
	assert_has(r->body, "X-Marketbox-Admin");
	r = t_request("POST", "/admin/user", "X-Marketbox-Admin: 1\r\n",
	    "msisdn=%2B254700000004&role=agent");
	cr_assert_eq(r->code, 401);
	cr_assert_eq(t_count("SELECT COUNT(*) FROM users WHERE role = "
	    "'agent'"), 1);
}

Test(admin_pages, user_set_changes_a_role_after_the_commit)
{
	struct hc_resp	*r;

	r = t_action("/admin/user", "msisdn=0700000004&role=transporter");
	cr_assert_eq(r->code, 200, "%s", r->raw);
	cr_assert_str_eq(r->body, "{\"msisdn\": \"+254700000004\", \"role\": "
	    "\"transporter\", \"before\": \"user\", \"created\": false}\n");
	cr_assert_eq(t_count("SELECT COUNT(*) FROM users WHERE msisdn = "
	    "'+254700000004' AND role = 'transporter'"), 1);
	r = t_action("/admin/user", "msisdn=%2B255711000222&role=agent");
	cr_assert_eq(r->code, 200, "%s", r->raw);
	assert_has(r->body, "\"created\": true");
	cr_assert_eq(t_count("SELECT COUNT(*) FROM users WHERE msisdn = "
	    "'+255711000222' AND role = 'agent' AND name IS NULL"), 1);
	r = t_action("/admin/user", "msisdn=%2B255711000222&role=king");
	cr_assert_eq(r->code, 400);
	r = t_action("/admin/user", "msisdn=abc&role=agent");
	cr_assert_eq(r->code, 400);
	r = t_action("/admin/user", "role=agent");
	cr_assert_eq(r->code, 400);
}

/* An agro-dealer (issue 17): the role TIER prices need. */
Test(admin_pages, user_set_makes_a_dealer)
{
	struct hc_resp	*r;

	r = t_action("/admin/user", "msisdn=0700000004&role=dealer");
	cr_assert_eq(r->code, 200, "%s", r->raw);
	assert_has(r->body, "\"role\": \"dealer\"");
	cr_assert_eq(t_count("SELECT COUNT(*) FROM users WHERE msisdn = "
	    "'+254700000004' AND role = 'dealer'"), 1);
	r = t_action("/admin/user", "msisdn=0700000004&role=dealers");
	cr_assert_eq(r->code, 400);
	assert_has(r->body, "agent, dealer, admin");
}

Test(admin_pages, retry_queues_failed_rows_again)
{
	struct hc_resp	*r;

	r = t_action("/admin/retry", "kind=notice");
	cr_assert_eq(r->code, 200, "%s", r->raw);
	cr_assert_str_eq(r->body, "{\"requeued\": 2, \"failed_left\": 0}\n");
	cr_assert_eq(t_count("SELECT COUNT(*) FROM outbox WHERE kind = "
	    "'notice' AND state = 'queued' AND attempts = 0 AND dlr_state IS "
	    "NULL"), 4);
	r = t_action("/admin/retry", "");
	cr_assert_eq(r->code, 200, "%s", r->raw);
	cr_assert_str_eq(r->body, "{\"requeued\": 1, \"failed_left\": 0}\n");
	cr_assert_eq(t_count("SELECT COUNT(*) FROM outbox WHERE state = "
	    "'failed'"), 0);
}

/*
 * Service points: nakuru and eldoret (t_catalogue), one at each market.
 */
Test(admin_pages, agent_add_makes_an_agent_after_the_commit)
{
	struct hc_resp	*r;

	r = t_action("/admin/agent", "msisdn=0700000004&point=nakuru");
	cr_assert_eq(r->code, 200, "%s", r->raw);
	cr_assert_str_eq(r->body, "{\"msisdn\": \"+254700000004\", \"point\": "
	    "\"nakuru\", \"point_before\": null, \"role_before\": \"user\", "
	    "\"created\": false, \"members\": 0}\n");
	cr_assert_eq(t_count("SELECT COUNT(*) FROM agents WHERE msisdn = "
	    "'+254700000004' AND point = 'nakuru' AND removed IS NULL AND "
	    "added > 0"), 1);
	cr_assert_eq(t_count("SELECT COUNT(*) FROM users WHERE msisdn = "
	    "'+254700000004' AND role = 'agent'"), 1);
	/* A phone marketbox does not know: its users row is made. */
	r = t_action("/admin/agent", "msisdn=%2B255711000222&point=eldoret");
	cr_assert_eq(r->code, 200, "%s", r->raw);
	assert_has(r->body, "\"role_before\": null, \"created\": true");
	cr_assert_eq(t_count("SELECT COUNT(*) FROM users WHERE msisdn = "
	    "'+255711000222' AND role = 'agent' AND name IS NULL"), 1);
	cr_assert_eq(t_count("SELECT COUNT(*) FROM agents WHERE msisdn = "
	    "'+255711000222' AND point = 'eldoret'"), 1);
	/* Moved to another point: one row, the point it had said. */
	r = t_action("/admin/agent", "msisdn=0700000004&point=eldoret");
	cr_assert_eq(r->code, 200, "%s", r->raw);
	assert_has(r->body, "\"point\": \"eldoret\", \"point_before\": "
	    "\"nakuru\", \"role_before\": \"agent\"");
	cr_assert_eq(t_count("SELECT COUNT(*) FROM agents WHERE point = "
	    "'eldoret'"), 2);
}

Test(admin_pages, agent_remove_ends_the_agent_and_its_role)
{
	struct hc_resp	*r;

	r = t_action("/admin/agent", "msisdn=0700000005&point=eldoret");
	cr_assert_eq(r->code, 200, "%s", r->raw);
	t_exec("INSERT INTO members (code, point, agent, identity, name, "
	    "state, created) VALUES ('M1', 'eldoret', '+254700000005', "
	    "'m:M1', 'Grace', 'active', 1), ('M2', 'eldoret', '+254700000005', "
	    "'m:M2', 'Ruth', 'off', 1)");
	r = t_action("/admin/agent", "msisdn=0700000005&remove=1");
	cr_assert_eq(r->code, 200, "%s", r->raw);
	cr_assert_str_eq(r->body, "{\"msisdn\": \"+254700000005\", \"point\": "
	    "\"eldoret\", \"removed\": true, \"members\": 1}\n");
	cr_assert_eq(t_count("SELECT COUNT(*) FROM agents WHERE msisdn = "
	    "'+254700000005' AND removed IS NOT NULL"), 1);
	cr_assert_eq(t_count("SELECT COUNT(*) FROM users WHERE msisdn = "
	    "'+254700000005' AND role = 'user'"), 1);
	/* Her members stay hers, and the row stays for the reports. */
	cr_assert_eq(t_count("SELECT COUNT(*) FROM members WHERE state = "
	    "'active'"), 1);
	/* Not an agent (any more, or ever): 404, said so. */
	r = t_action("/admin/agent", "msisdn=0700000005&remove=1");
	cr_assert_eq(r->code, 404, "%s", r->raw);
	assert_has(r->body, "\"error\": \"+254700000005 is not an agent");
	r = t_action("/admin/agent", "msisdn=0700000001&remove=1");
	cr_assert_eq(r->code, 404, "%s", r->raw);
	cr_assert_eq(t_count("SELECT COUNT(*) FROM users WHERE msisdn = "
	    "'+254700000001' AND role = 'farmer'"), 1);
	r = t_action("/admin/agent", "msisdn=0700000001&remove=yes");
	cr_assert_eq(r->code, 400, "%s", r->raw);
	/* Her members are still hers: not added again at another point. */
	r = t_action("/admin/agent", "msisdn=0700000005&point=nakuru");
	cr_assert_eq(r->code, 409, "%s", r->raw);
	assert_has(r->body, "serves 1 member at point eldoret");
	cr_assert_eq(t_count("SELECT COUNT(*) FROM agents WHERE msisdn = "
	    "'+254700000005' AND removed IS NOT NULL"), 1);
	/* Added again: active, with a new date. */
	r = t_action("/admin/agent", "msisdn=0700000005&point=eldoret");
	cr_assert_eq(r->code, 200, "%s", r->raw);
	cr_assert_eq(t_count("SELECT COUNT(*) FROM agents WHERE msisdn = "
	    "'+254700000005' AND removed IS NULL"), 1);
}

Test(admin_pages, agent_refusals_unknown_point_and_bad_phone)
{
	struct hc_resp	*r;

	r = t_action("/admin/agent", "msisdn=0700000004&point=kiambogo");
	cr_assert_eq(r->code, 400, "%s", r->raw);
	assert_has(r->body, "\"error\": \"unknown service point: use the code "
	    "of a service point of the conf\"");
	r = t_action("/admin/agent", "msisdn=0700000004&point=Nakuru%3Cb%3E");
	cr_assert_eq(r->code, 400, "%s", r->raw);
	r = t_action("/admin/agent", "msisdn=0700000004");
	cr_assert_eq(r->code, 400, "%s", r->raw);
	assert_has(r->body, "point is missing");
	r = t_action("/admin/agent", "msisdn=abc&point=nakuru");
	cr_assert_eq(r->code, 400, "%s", r->raw);
	assert_has(r->body, "\"error\": \"msisdn is not a phone number\"");
	r = t_action("/admin/agent", "point=nakuru");
	cr_assert_eq(r->code, 400, "%s", r->raw);
	cr_assert_eq(t_count("SELECT COUNT(*) FROM agents"), 0);
	cr_assert_eq(t_count("SELECT COUNT(*) FROM users WHERE role = "
	    "'agent'"), 1);		/* Peter, from the start */
	/* An agent serving members at one point is not moved to another. */
	r = t_action("/admin/agent", "msisdn=0700000004&point=nakuru");
	cr_assert_eq(r->code, 200, "%s", r->raw);
	t_exec("INSERT INTO members (code, point, agent, identity, name, "
	    "state, created) VALUES ('M3', 'nakuru', '+254700000004', "
	    "'m:M3', 'Esther', 'active', 1)");
	r = t_action("/admin/agent", "msisdn=0700000004&point=eldoret");
	cr_assert_eq(r->code, 409, "%s", r->raw);
	assert_has(r->body, "serves 1 member at point nakuru");
	cr_assert_eq(t_count("SELECT COUNT(*) FROM agents WHERE point = "
	    "'nakuru'"), 1);
}

/* Two points: nakuru with two agents (one removed) and members, eldoret
 * with only a commission recorded for a member whose agent left. */
static void
t_points(void)
{
	t_exec("INSERT INTO agents (msisdn, point, added, removed) VALUES "
	    "('+254700000005', 'nakuru', 1, NULL), "
	    "('+254700000004', 'nakuru', 1, NULL), "
	    "('+254700000003', 'nakuru', 1, 5)");
	t_exec("INSERT INTO members (code, point, agent, identity, phone, "
	    "name, state, created) VALUES "
	    "('M1', 'nakuru', '+254700000005', 'm:M1', NULL, 'Grace', "
	    "'active', 1), "
	    "('M2', 'nakuru', '+254700000005', '+254733000222', "
	    "'+254733000222', 'Ruth', 'active', 1), "
	    "('M3', 'nakuru', '+254700000004', 'm:M3', NULL, 'Esther', "
	    "'off', 1), "
	    "('M4', 'nakuru', '+254700000004', '+254733000333', "
	    "'+254733000333', 'Joy', 'pending', 1)");
	t_exec("INSERT INTO commissions (ref, point, agent, member, side, "
	    "total, rate_bp, amount, at) VALUES "
	    "(7, 'nakuru', '+254700000005', 'M1', 'seller', 3000000, 250, "
	    "75000, 10), "
	    "(8, 'nakuru', '+254700000005', 'M2', 'buyer', 2050, 250, 51, 11), "
	    "(9, 'eldoret', '+254700000003', 'M9', 'seller', 10000, 100, 100, "
	    "12)");
}

Test(admin_pages, service_points_on_the_three_pages)
{
	char	*s;

	s = t_render(admin_status_json);
	assert_has(s, "\"service_points\": []");
	free(s);
	t_points();
	s = t_render(admin_status_json);
	assert_has(s, "\"service_points\": [{\"point\": \"eldoret\", "
	    "\"agents\": 0, \"members\": 0, \"commission\": 100}, "
	    "{\"point\": \"nakuru\", \"agents\": 2, \"members\": 2, "
	    "\"commission\": 75051}]");
	free(s);
	s = t_render(admin_metrics);
	t_check_exposition(s);
	assert_has(s, "# TYPE marketbox_service_point_members gauge\n");
	assert_has(s, "\nmarketbox_service_point_agents{point=\"nakuru\"} 2\n");
	assert_has(s, "\nmarketbox_service_point_agents{point=\"eldoret\"} 0\n");
	assert_has(s, "\nmarketbox_service_point_members{point=\"nakuru\"} "
	    "2\n");
	assert_has(s, "\nmarketbox_service_point_commission{point=\"nakuru\"} "
	    "75051\n");
	assert_has(s, "\nmarketbox_service_point_commission{point=\"eldoret\"} "
	    "100\n");
	free(s);
	s = t_render(admin_status_html);
	assert_has(s, "<h2>Service points</h2>");
	assert_has(s, "data-k=\"points.nakuru.agents\">2<");
	assert_has(s, "data-k=\"points.nakuru.members\">2<");
	assert_has(s, "data-k=\"points.nakuru.commission\">750.51 KES<");
	assert_has(s, "data-k=\"points.eldoret.commission\">1 KES<");
	free(s);
}

Test(admin_pages, service_points_escaped_and_absent)
{
	char	*s;

	s = t_render(admin_status_html);
	assert_has(s, "No service point has an agent yet");
	free(s);
	t_exec("INSERT INTO agents (msisdn, point, added) VALUES "
	    "('+254700000005', 'a\"<b>\\c', 1)");
	s = t_render(admin_metrics);
	assert_has(s, "\nmarketbox_service_point_agents{point=\"a\\\"<b>\\\\c\"} "
	    "1\n");
	free(s);
	s = t_render(admin_status_html);
	assert_has(s, "data-k=\"points.a&quot;&lt;b&gt;\\c.agents\">1<");
	assert_lacks(s, "<b>\\c");
	free(s);
	s = t_render(admin_status_json);
	assert_has(s, "{\"point\": \"a\\\"<b>\\\\c\", \"agents\": 1");
	free(s);
	t_exec("DROP TABLE commissions");
	s = t_render(admin_status_json);
	assert_has(s, "\"service_points\": null");
	free(s);
	s = t_render(admin_metrics);
	assert_lacks(s, "marketbox_service_point");
	free(s);
	s = t_render(admin_status_html);
	assert_has(s, "This database has no service point tables.");
	free(s);
}

/* Run the loop until the broadcast id is done (bounded). */
static void
t_broadcast_wait(int id)
{
	long long	 end = hc_now_ms() + T_DEADLINE_MS;
	char		 target[128];
	struct hc_resp	*r;

	snprintf(target, sizeof(target), "/admin/broadcast?password="
	    T_PASSWORD "&id=%d", id);
	for (;;) {
		r = t_get(target);
		cr_assert_eq(r->code, 200, "%s", r->raw);
		if (strstr(r->body, "\"done\": true") != NULL)
			break;
		cr_assert_lt(hc_now_ms(), end, "the broadcast never ended");
		hc_pass(&hc, -1);
	}
}

Test(admin_pages, broadcast_to_a_market_skips_who_sent_stop)
{
	struct hc_resp	*r;

	r = t_action("/admin/broadcast", "market=nakuru&text=Maize+prices+"
	    "are+up+at+Nakuru");
	cr_assert_eq(r->code, 202, "%s", r->raw);
	assert_has(r->body, "{\"id\": 1, \"market\": \"nakuru\", "
	    "\"commodity\": null, ");
	assert_has(r->body, "\"recipients\": 2, ");
	t_broadcast_wait(1);
	cr_assert_eq(t_count("SELECT COUNT(*) FROM outbox WHERE kind = "
	    "'broadcast' AND state = 'queued' AND text = 'Maize prices are up "
	    "at Nakuru' AND sender = '777'"), 2);
	cr_assert_eq(t_count("SELECT COUNT(*) FROM outbox WHERE kind = "
	    "'broadcast' AND receiver IN ('+254700000001', '+254700000002')"),
	    2);
	r = t_get("/admin/broadcast?password=" T_PASSWORD "&id=1");
	assert_has(r->body, "\"notices\": 2, \"done\": true, \"failed\": "
	    "false, \"rows\": {\"queued\": 2}}");
}

/*
 * A member without a phone ("m:M1") is a users row with a name and a
 * market, but no number: a broadcast never queues a message to her (her
 * agent, a user of the market, gets it as itself).
 */
Test(admin_pages, broadcast_skips_members_without_a_phone)
{
	struct hc_resp	*r;

	t_exec("INSERT INTO users (msisdn, name, market, language, role, "
	    "opt_out, created, updated) VALUES "
	    "('m:M1', 'Esther', 'nakuru', 'en', 'user', 0, 1, 1)");
	r = t_action("/admin/broadcast", "market=nakuru&text=Maize+prices+"
	    "are+up+at+Nakuru");
	cr_assert_eq(r->code, 202, "%s", r->raw);
	assert_has(r->body, "\"recipients\": 2, ");
	t_broadcast_wait(1);
	cr_assert_eq(t_count("SELECT COUNT(*) FROM outbox WHERE receiver "
	    "LIKE 'm:%'"), 0);
	cr_assert_eq(t_count("SELECT COUNT(*) FROM outbox WHERE kind = "
	    "'broadcast'"), 2);
}

Test(admin_pages, broadcast_by_commodity_reaches_who_posted_or_asked)
{
	struct hc_resp	*r;

	r = t_action("/admin/broadcast", "commodity=maize&text=Dry+your+maize");
	cr_assert_eq(r->code, 202, "%s", r->raw);
	assert_has(r->body, "\"recipients\": 2, ");
	t_broadcast_wait(1);
	/* Mary posted maize, John asked for maize alerts; Ann (maize) sent
	 * STOP; Peter posted beans. */
	cr_assert_eq(t_count("SELECT COUNT(*) FROM outbox WHERE kind = "
	    "'broadcast' AND receiver IN ('+254700000001', '+254700000002')"),
	    2);
	cr_assert_eq(t_count("SELECT COUNT(*) FROM outbox WHERE kind = "
	    "'broadcast'"), 2);
	r = t_action("/admin/broadcast", "commodity=maize&market=eldoret&"
	    "text=x");
	cr_assert_eq(r->code, 202, "%s", r->raw);
	assert_has(r->body, "\"recipients\": 0, ");
	t_broadcast_wait(2);
}

/*
 * Which text a reader gets: the one text of every language; else her
 * language's, else the default language's (also hers when she chose
 * none); else none, which the start refuses before queuing.
 */
Test(admin_broadcast, each_reader_gets_her_language_or_the_default)
{
	struct admin_text	 one[] = { { NULL, "All" } };
	struct admin_text	 two[] = { { "en", "Closed" }, { "sw", "Imefungwa" } };
	struct admin_text	 sw[] = { { "sw", "Imefungwa" } };

	cr_assert_str_eq(admin_broadcast_pick(one, 1, "fr", "en"), "All");
	cr_assert_str_eq(admin_broadcast_pick(one, 1, NULL, "en"), "All");
	cr_assert_str_eq(admin_broadcast_pick(two, 2, "sw", "en"), "Imefungwa");
	cr_assert_str_eq(admin_broadcast_pick(two, 2, "en", "en"), "Closed");
	/* no French text: the default language's */
	cr_assert_str_eq(admin_broadcast_pick(two, 2, "fr", "en"), "Closed");
	/* no language chosen: the default's */
	cr_assert_str_eq(admin_broadcast_pick(two, 2, NULL, "en"), "Closed");
	cr_assert_str_eq(admin_broadcast_pick(two, 2, "", "sw"), "Imefungwa");
	/* neither hers nor the default's */
	cr_assert_null(admin_broadcast_pick(sw, 1, "fr", "en"));
	cr_assert_null(admin_broadcast_pick(sw, 1, NULL, "en"));
	cr_assert_str_eq(admin_broadcast_pick(sw, 1, "fr", "sw"), "Imefungwa");
	cr_assert_null(admin_broadcast_pick(two, 0, "en", "en"));
}

/* Mary reads English, John Swahili: each gets the text of her language. */
Test(admin_pages, broadcast_per_language)
{
	struct hc_resp	*r;

	r = t_action("/admin/broadcast", "market=nakuru&text-en=Market+"
	    "closed+Monday&text-sw=Soko+limefungwa+Jumatatu");
	cr_assert_eq(r->code, 202, "%s", r->raw);
	assert_has(r->body, "\"recipients\": 2, ");
	t_broadcast_wait(1);
	cr_assert_eq(t_count("SELECT COUNT(*) FROM outbox WHERE kind = "
	    "'broadcast' AND receiver = '+254700000001' AND text = 'Market "
	    "closed Monday'"), 1);
	cr_assert_eq(t_count("SELECT COUNT(*) FROM outbox WHERE kind = "
	    "'broadcast' AND receiver = '+254700000002' AND text = 'Soko "
	    "limefungwa Jumatatu'"), 1);
	cr_assert_eq(t_count("SELECT COUNT(*) FROM outbox WHERE kind = "
	    "'broadcast'"), 2);
	/* no Swahili text: John gets the default language's (en) */
	r = t_action("/admin/broadcast", "market=nakuru&text-en=Rain+"
	    "tomorrow");
	cr_assert_eq(r->code, 202, "%s", r->raw);
	t_broadcast_wait(2);
	cr_assert_eq(t_count("SELECT COUNT(*) FROM outbox WHERE kind = "
	    "'broadcast' AND text = 'Rain tomorrow' AND receiver IN "
	    "('+254700000001', '+254700000002')"), 2);
}

/*
 * Readers whose language has no text, with no default-language text to
 * fall back to: refused before anything is queued, their languages and
 * counts named.
 */
Test(admin_pages, broadcast_per_language_refusals)
{
	struct hc_resp	*r;
	char		 body[1024];

	r = t_action("/admin/broadcast", "market=nakuru&text-sw=Soko");
	cr_assert_eq(r->code, 400, "%s", r->raw);
	assert_has(r->body, "none for the default language en: en 1 "
	    "recipient; give them a text, or one for en; nothing was queued");
	r = t_action("/admin/broadcast", "all=1&text-fr=Bonjour");
	cr_assert_eq(r->code, 400, "%s", r->raw);
	/* Mary and Peter read en, John sw (Ann sent STOP, +...4 has no
	   name) */
	assert_has(r->body, "en 2 recipients, sw 1 recipient;");
	cr_assert_eq(t_count("SELECT COUNT(*) FROM outbox WHERE kind = "
	    "'broadcast'"), 0);
	r = t_action("/admin/broadcast", "market=nakuru&text=x&text-en=y");
	cr_assert_eq(r->code, 400, "%s", r->raw);
	assert_has(r->body, "not both");
	r = t_action("/admin/broadcast", "market=nakuru&text-EN=y");
	cr_assert_eq(r->code, 400, "%s", r->raw);
	assert_has(r->body, "not a language code");
	r = t_action("/admin/broadcast", "market=nakuru&text-en=");
	cr_assert_eq(r->code, 400, "%s", r->raw);
	assert_has(r->body, "text-en is empty");
	/* each text fits max-parts (3) */
	memset(body, 0, sizeof(body));
	strcpy(body, "market=nakuru&text-en=ok&text-sw=");
	memset(body + strlen(body), 'a', 153 * 3 + 1);
	r = t_action("/admin/broadcast", body);
	cr_assert_eq(r->code, 400, "%s", r->raw);
	assert_has(r->body, "text-sw needs 4 SMS parts");
	cr_assert_eq(t_count("SELECT COUNT(*) FROM outbox WHERE kind = "
	    "'broadcast'"), 0);
}

Test(admin_pages, broadcast_refusals)
{
	struct hc_resp	*r;
	char		 body[4096];

	r = t_action("/admin/broadcast", "text=hello");
	cr_assert_eq(r->code, 400);
	assert_has(r->body, "all=1");
	r = t_action("/admin/broadcast", "market=mombasa&text=hello");
	cr_assert_eq(r->code, 400);
	r = t_action("/admin/broadcast", "market=nakuru");
	cr_assert_eq(r->code, 400);
	r = t_action("/admin/broadcast", "market=nakuru&text=a%01b");
	cr_assert_eq(r->code, 400);
	r = t_action("/admin/broadcast", "market=nakuru&text=%FF");
	cr_assert_eq(r->code, 400);
	/* 4 parts of GSM text, max-parts 3 */
	memset(body, 0, sizeof(body));
	strcpy(body, "market=nakuru&text=");
	memset(body + strlen(body), 'a', 153 * 3 + 1);
	r = t_action("/admin/broadcast", body);
	cr_assert_eq(r->code, 400);
	assert_has(r->body, "needs 4 SMS parts");
	r = t_request("POST", "/admin/broadcast", "Authorization: Basic "
	    "bWFya2V0Y3RsOnMzY3JldA==\r\nX-Marketbox-Admin: 1\r\n"
	    "Content-Type: text/plain\r\nContent-Length: 5\r\n\r\nhello",
	    NULL);
	cr_assert(r->code == 415 || r->code == 400, "%d", r->code);
	cr_assert_eq(t_count("SELECT COUNT(*) FROM outbox WHERE kind = "
	    "'broadcast'"), 0);
}

/* Send a whole request on a new connection without running the loop. */
static int
t_send_now(const char *body)
{
	char	 req[1024];
	int	 n, fd = hc_connect(&hc);

	n = snprintf(req, sizeof(req), "POST /admin/broadcast HTTP/1.1\r\n"
	    "Host: 127.0.0.1\r\nConnection: close\r\nAuthorization: Basic "
	    "bWFya2V0Y3RsOnMzY3JldA==\r\nX-Marketbox-Admin: 1\r\n"
	    "Content-Type: application/x-www-form-urlencoded\r\n"
	    "Content-Length: %zu\r\n\r\n%s", strlen(body), body);
	cr_assert_eq(send(fd, req, (size_t)n, MSG_NOSIGNAL), n);
	return fd;
}

Test(admin_pages, broadcast_to_all_in_batches_and_one_at_a_time)
{
	struct hc_resp	 r1, r2, *r;
	char		 body[64];
	int		 i, fd1, fd2;

	/* Many more people than one batch, the last batch smaller. */
	t_exec("WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n "
	    "WHERE i < 5200) INSERT INTO users (msisdn, name, market, role, "
	    "created, updated) SELECT '+2547990' || printf('%05d', i), 'P', "
	    "'eldoret', 'user', 1, 1 FROM n");
	/* Two at once: the second is refused while the first is queued. */
	fd1 = t_send_now("all=1&text=Hello+everyone");
	fd2 = t_send_now("all=1&text=again");
	memset(&r1, 0, sizeof(r1));
	memset(&r2, 0, sizeof(r2));
	hc_receive(&hc, fd1, &r1);
	hc_receive(&hc, fd2, &r2);
	close(fd1);
	close(fd2);
	cr_assert_eq(r1.code, 202, "%s", r1.raw);
	assert_has(r1.body, "\"recipients\": 5203, ");
	cr_assert_eq(r2.code, 409, "%s", r2.raw);
	t_broadcast_wait(1);
	cr_assert_eq(t_count("SELECT COUNT(*) FROM outbox WHERE kind = "
	    "'broadcast'"), 5203);
	cr_assert_eq(t_count("SELECT COUNT(*) FROM outbox WHERE kind = "
	    "'broadcast' AND receiver = '+254700000003'"), 0);
	for (i = 0; i < 2; i++) {
		snprintf(body, sizeof(body), "market=eldoret&text=n%d", i);
		r = t_action("/admin/broadcast", body);
		cr_assert_eq(r->code, 202, "%s", r->raw);
		t_broadcast_wait(2 + i);
	}
	cr_assert_eq(t_count("SELECT COUNT(*) FROM outbox WHERE kind = "
	    "'broadcast' AND text = 'n1'"), 5201);
	/* The status of the last, without an id: only its own rows. */
	r = t_get("/admin/broadcast?password=" T_PASSWORD);
	assert_has(r->body, "{\"id\": 3, ");
	assert_has(r->body, "\"notices\": 5201, \"done\": true, "
	    "\"failed\": false, \"rows\": {\"queued\": 5201}}");
}

/* --- admin pages off ----------------------------------------------------------------- */

TestSuite(admin_off, .init = setup_off, .fini = teardown, .timeout = 30);

Test(admin_off, without_a_password_the_pages_are_off)
{
	struct hc_resp	*r;

	r = t_get("/status?password=");
	cr_assert_eq(r->code, 403);
	assert_has(r->body, "admin pages are off");
	r = t_get("/metrics");
	cr_assert_eq(r->code, 403);
	r = t_action("/admin/user", "msisdn=0700000004&role=admin");
	cr_assert_eq(r->code, 403);
	cr_assert_eq(t_count("SELECT COUNT(*) FROM users WHERE role = "
	    "'admin'"), 0);
}

/* --- the conf keys ------------------------------------------------------------------ */

/* Load a conf made of the marketbox group's lines plus extra. */
static struct conf *
t_conf_with(const char *extra)
{
	char		 file[] = "/tmp/test_admin_conf_XXXXXX";
	struct conf	*c;
	FILE		*fp;
	int		 fd;

	cr_assert_geq(fd = mkstemp(file), 0);
	cr_assert_not_null(fp = fdopen(fd, "w"));
	fprintf(fp, "group = marketbox\nglobal-sender = 777\n%s\n", extra);
	fclose(fp);
	c = conf_load(file);
	unlink(file);
	return c;
}

Test(admin_conf, admin_allow_ip_user_and_run_as_root)
{
	struct conf	*c;

	gwlib_init();
	log_set_output_level(GW_PANIC);
	c = t_conf_with("admin-allow-ip = 10.0.0.5; 192.168.*.*\n"
	    "user = marketbox\nrun-as-root = yes");
	cr_assert_not_null(c);
	cr_assert_eq(c->admin_allow_ip.count, 2);
	cr_assert_str_eq(c->admin_allow_ip.names[1], "192.168.*.*");
	cr_assert_str_eq(c->user, "marketbox");
	cr_assert_eq(c->run_as_root, 1);
	cr_assert_eq(http_admin_ip_allowed(c, "192.168.4.4"), 1);
	cr_assert_eq(http_ip_allowed(c, "192.168.4.4"), 0);
	conf_free(c);
	c = t_conf_with("");
	cr_assert_not_null(c);
	cr_assert_eq(c->admin_allow_ip.count, 0);
	cr_assert_null(c->user);
	cr_assert_eq(c->run_as_root, 0);
	conf_free(c);
	c = t_conf_with("run-as-root = off\nuser = \"\"");
	cr_assert_not_null(c);
	cr_assert_eq(c->run_as_root, 0);
	cr_assert_null(c->user);
	conf_free(c);
	cr_assert_null(t_conf_with("run-as-root = maybe"));
	gwlib_shutdown();
}

/* --- disputes (dispute.c) -------------------------------------------------- */

/* The market plugin's disputes (schema step 5's columns), on order 10 of
 * Mary (seller, English) and John (buyer, Kiswahili): 11 open, an hour
 * old, by the buyer; 12 closed already. */
static void
t_disputes(void)
{
	char	 sql[512];

	t_exec("CREATE TABLE market_disputes (ref INTEGER PRIMARY KEY, "
	    "order_ref INTEGER NOT NULL, opener TEXT NOT NULL, side TEXT NOT "
	    "NULL, text TEXT NOT NULL, state TEXT NOT NULL, created INTEGER "
	    "NOT NULL, closed INTEGER, decision TEXT, note TEXT)");
	t_exec("INSERT INTO market_orders (ref, buyer, seller, state) VALUES "
	    "(10, '+254700000002', '+254700000001', 'sent')");
	snprintf(sql, sizeof(sql), "INSERT INTO market_disputes (ref, "
	    "order_ref, opener, side, text, state, created, closed, decision) "
	    "VALUES (11, 10, '+254700000002', 'buyer', 'wet', 'open', %lld, "
	    "NULL, NULL), (12, 10, '+254700000001', 'seller', 'late', "
	    "'closed', 1, 2, 'seller')", (long long)time(NULL) - 7200);
	t_exec(sql);
}

Test(admin_pages, dispute_close_decides_and_tells_both_parties)
{
	struct hc_resp	*r;
	long long	 before;

	t_disputes();
	before = t_count("SELECT COUNT(*) FROM outbox");
	r = t_action("/admin/dispute", "ref=11&for=buyer&note=Seller+refunds"
	    "+2+bags");
	cr_assert_eq(r->code, 200, "%s", r->raw);
	cr_assert_str_eq(r->body, "{\"dispute\": 11, \"order\": 10, "
	    "\"decision\": \"buyer\", \"buyer\": \"+254700000002\", "
	    "\"seller\": \"+254700000001\"}\n");
	cr_assert_eq(t_count("SELECT COUNT(*) FROM market_disputes WHERE ref "
	    "= 11 AND state = 'closed' AND decision = 'buyer' AND note = "
	    "'Seller refunds 2 bags' AND closed > 0"), 1);
	/* one notice each, in their language, through the outbox */
	cr_assert_eq(t_count("SELECT COUNT(*) FROM outbox"), before + 2);
	cr_assert_eq(t_count("SELECT COUNT(*) FROM outbox WHERE receiver = "
	    "'+254700000001' AND kind = 'notice' AND text = 'Dispute #11 on "
	    "order #10 is closed: the admin decided for the buyer. Seller "
	    "refunds 2 bags'"), 1);
	cr_assert_eq(t_count("SELECT COUNT(*) FROM outbox WHERE receiver = "
	    "'+254700000002' AND text LIKE 'Mzozo #11 wa oda #10 umefungwa%'"),
	    1);
	/* closed: refused, nothing more sent */
	r = t_action("/admin/dispute", "ref=11&for=seller&note=x");
	cr_assert_eq(r->code, 409, "%s", r->raw);
	assert_has(r->body, "dispute #11 is closed already (decided for the "
	    "buyer)");
	r = t_action("/admin/dispute", "ref=12&for=buyer");
	cr_assert_eq(r->code, 409, "%s", r->raw);
	cr_assert_eq(t_count("SELECT COUNT(*) FROM market_disputes WHERE ref "
	    "= 12 AND decision = 'seller'"), 1);
	cr_assert_eq(t_count("SELECT COUNT(*) FROM outbox"), before + 2);
}

/* A transporter (side other) who opened a dispute hears the decision
 * too, once; the parties once each. */
Test(admin_pages, dispute_close_tells_a_transporter_who_opened_it)
{
	struct hc_resp	*r;
	long long	 before;

	t_disputes();
	t_exec("INSERT INTO market_disputes (ref, order_ref, opener, side, "
	    "text, state, created) VALUES (13, 10, '+254711000333', 'other', "
	    "'road closed', 'open', 1)");
	before = t_count("SELECT COUNT(*) FROM outbox");
	r = t_action("/admin/dispute", "ref=13&for=seller");
	cr_assert_eq(r->code, 200, "%s", r->raw);
	cr_assert_eq(t_count("SELECT COUNT(*) FROM outbox"), before + 3);
	cr_assert_eq(t_count("SELECT COUNT(*) FROM outbox WHERE receiver = "
	    "'+254711000333' AND kind = 'notice' AND text LIKE 'Dispute #13 "
	    "on order #10 is closed: the admin decided for the seller%'"), 1);
	cr_assert_eq(t_count("SELECT COUNT(*) FROM outbox WHERE receiver = "
	    "'+254700000001' AND text LIKE 'Dispute #13 %'"), 1);
	cr_assert_eq(t_count("SELECT COUNT(*) FROM outbox WHERE receiver = "
	    "'+254700000002' AND text LIKE 'Mzozo #13 %'"), 1);
	/* the buyer's own dispute: no third notice */
	r = t_action("/admin/dispute", "ref=11&for=seller");
	cr_assert_eq(r->code, 200, "%s", r->raw);
	cr_assert_eq(t_count("SELECT COUNT(*) FROM outbox"), before + 5);
}

/* A close that finds the dispute closed at its write (another close took
 * it after the read: simulated by a trigger that skips the update) is a
 * conflict, not a failure; nothing is sent. */
Test(admin_pages, dispute_close_that_loses_a_race_is_a_conflict)
{
	struct hc_resp	*r;
	long long	 before;

	t_disputes();
	t_exec("CREATE TRIGGER t_race BEFORE UPDATE ON market_disputes "
	    "BEGIN SELECT RAISE(IGNORE); END");
	before = t_count("SELECT COUNT(*) FROM outbox");
	r = t_action("/admin/dispute", "ref=11&for=buyer");
	cr_assert_eq(r->code, 409, "%s", r->raw);
	assert_has(r->body, "dispute #11 is closed already");
	cr_assert_eq(t_count("SELECT COUNT(*) FROM outbox"), before);
}

Test(admin_pages, dispute_close_refuses_what_it_cannot_close)
{
	struct hc_resp	*r;
	char		 body[512];

	/* no disputes table yet: the market plugin is not there */
	r = t_action("/admin/dispute", "ref=11&for=buyer&note=x");
	cr_assert_eq(r->code, 404, "%s", r->raw);
	assert_has(r->body, "no disputes");
	t_disputes();
	r = t_action("/admin/dispute", "ref=99&for=buyer&note=x");
	cr_assert_eq(r->code, 404, "%s", r->raw);
	assert_has(r->body, "there is no dispute #99");
	r = t_action("/admin/dispute", "ref=abc&for=buyer");
	cr_assert_eq(r->code, 400, "%s", r->raw);
	r = t_action("/admin/dispute", "ref=11&for=both");
	cr_assert_eq(r->code, 400, "%s", r->raw);
	r = t_action("/admin/dispute", "ref=11");
	cr_assert_eq(r->code, 400, "%s", r->raw);
	snprintf(body, sizeof(body), "ref=11&for=buyer&note=%0121d", 0);
	r = t_action("/admin/dispute", body);
	cr_assert_eq(r->code, 400, "%s", r->raw);
	assert_has(r->body, "at most 120 bytes");
	r = t_action("/admin/dispute", "ref=11&for=buyer&note=two%0Alines");
	cr_assert_eq(r->code, 400, "%s", r->raw);
	cr_assert_eq(t_count("SELECT COUNT(*) FROM market_disputes WHERE "
	    "state = 'open'"), 1);
}

Test(admin_pages, status_shows_the_open_disputes)
{
	char	*s;

	s = t_render(admin_status_json);
	assert_has(s, "\"disputes\": null");
	free(s);
	t_disputes();
	s = t_render(admin_status_json);
	assert_has(s, "\"disputes\": {\"open\": 1, \"oldest\": [{\"ref\": 11, "
	    "\"order\": 10, \"side\": \"buyer\", \"age\": 72");
	free(s);
	s = t_render(admin_status_html);
	assert_has(s, "<h2>Disputes</h2>");
	assert_has(s, "data-k=\"disputes.open\">1</span> open");
	assert_has(s, "data-k=\"dispute.11\">#11</td><td class=\"n\">#10</td>"
	    "<td>buyer</td><td>2h 0m</td>");
	free(s);
}

/* --- held price reports (reports.c) ---------------------------------------- */

/* The prices plugin's step 3 on setup's table (report 6, maize at nakuru,
 * held), prices_dirty, and report 20 held too, beans at eldoret. */
static void
t_held(void)
{
	t_exec("ALTER TABLE prices_reports ADD COLUMN decided INTEGER");
	t_exec("CREATE TABLE prices_dirty (commodity TEXT NOT NULL, market "
	    "TEXT NOT NULL, PRIMARY KEY (commodity, market))");
	t_exec("INSERT INTO prices_reports (id, commodity, market, price, "
	    "msisdn, status, created) VALUES (20, 'beans', 'eldoret', 5, "
	    "'+254700000002', 'held', 1700000000)");
}

/* POST a form as a browser does from /status: Basic auth, no header. */
static struct hc_resp *
t_form(const char *body)
{
	return t_request("POST", "/admin/reports", "Authorization: Basic "
	    "bWFya2V0Y3RsOnMzY3JldA==\r\n", body);
}

static void
t_reports_decide(void)
{
	struct hc_resp	*r;

	t_held();
	cr_assert_eq(t_count("SELECT COUNT(*) FROM prices_reports WHERE "
	    "status = 'held'"), 2);
	r = t_action("/admin/reports", "id=6&decision=approve");
	cr_assert_eq(r->code, 200, "%s", r->raw);
	cr_assert_str_eq(r->body, "{\"report\": 6, \"decision\": "
	    "\"approved\", \"commodity\": \"maize\", \"market\": "
	    "\"nakuru\"}\n");
	cr_assert_eq(t_count("SELECT COUNT(*) FROM prices_reports WHERE id = 6 "
	    "AND status = 'ok' AND decided > 0"), 1);
	/* as REPORT does for a published report: the alerts look again */
	cr_assert_eq(t_count("SELECT COUNT(*) FROM prices_dirty WHERE "
	    "commodity = 'maize' AND market = 'nakuru'"), 1);
	r = t_action("/admin/reports", "id=20&decision=reject");
	cr_assert_eq(r->code, 200, "%s", r->raw);
	assert_has(r->body, "\"decision\": \"rejected\"");
	cr_assert_eq(t_count("SELECT COUNT(*) FROM prices_reports WHERE id = "
	    "20 AND status = 'rejected' AND decided > 0"), 1);
	cr_assert_eq(t_count("SELECT COUNT(*) FROM prices_dirty WHERE "
	    "commodity = 'beans'"), 0);
	/* decided: refused, nothing changed */
	r = t_action("/admin/reports", "id=20&decision=approve");
	cr_assert_eq(r->code, 409, "%s", r->raw);
	assert_has(r->body, "price report #20 is not held (it is rejected)");
	r = t_action("/admin/reports", "id=1&decision=reject");
	cr_assert_eq(r->code, 409, "%s", r->raw);
	assert_has(r->body, "#1 is not held (it is ok)");
	cr_assert_eq(t_count("SELECT COUNT(*) FROM prices_reports WHERE id = "
	    "20 AND status = 'rejected'"), 1);
	cr_assert_eq(t_count("SELECT COUNT(*) FROM prices_reports WHERE id = "
	    "1 AND status = 'ok' AND decided IS NULL"), 1);
}

static void
t_reports_refuse(void)
{
	struct hc_resp	*r;

	/* the plugin without step 3: nothing to decide with */
	r = t_action("/admin/reports", "id=6&decision=approve");
	cr_assert_eq(r->code, 404, "%s", r->raw);
	assert_has(r->body, "no held price reports");
	t_held();
	r = t_action("/admin/reports", "id=99&decision=approve");
	cr_assert_eq(r->code, 404, "%s", r->raw);
	assert_has(r->body, "there is no price report #99");
	r = t_action("/admin/reports", "id=abc&decision=approve");
	cr_assert_eq(r->code, 400, "%s", r->raw);
	r = t_action("/admin/reports", "id=6&decision=maybe");
	cr_assert_eq(r->code, 400, "%s", r->raw);
	r = t_action("/admin/reports", "id=6");
	cr_assert_eq(r->code, 400, "%s", r->raw);
	cr_assert_eq(t_count("SELECT COUNT(*) FROM prices_reports WHERE "
	    "status = 'held'"), 2);
}

static void
t_reports_form(void)
{
	struct hc_resp	*r;
	const char	*token = http_form_token(http);
	char		*s, want[256], body[256];

	cr_assert_eq(strlen(token), 32);
	s = t_render(admin_status_html);
	cr_assert_null(strstr(s, "Held reports"));	/* no step 3 yet */
	free(s);
	t_held();
	s = t_render(admin_status_html);
	assert_has(s, "<h3>Held reports</h3>");
	assert_has(s, "data-k=\"held.count\">2</span>");
	/* oldest first: 20 (2023) before 6 */
	cr_assert(strstr(s, "data-k=\"held.20\"") != NULL &&
	    strstr(s, "data-k=\"held.20\"") < strstr(s, "data-k=\"held.6\""));
	assert_has(s, "data-k=\"held.6\">#6</td>");
	assert_has(s, "<td>x</td><td>maize</td><td>nakuru</td><td class=\"n\">"
	    "99999</td><td><form method=\"post\" action=\"/admin/reports\">"
	    "<input type=\"hidden\" name=\"id\" value=\"6\">"
	    "<input type=\"hidden\" name=\"from\" value=\"status\">");
	snprintf(want, sizeof(want), "<input type=\"hidden\" name=\"token\" "
	    "value=\"%s\"><button name=\"decision\" value=\"approve\">"
	    "Approve</button> <button name=\"decision\" value=\"reject\">"
	    "Reject</button></form>", token);
	assert_has(s, want);
	cr_assert_null(strstr(s, "<script"));
	free(s);

	/* the browser's form: no header, the token */
	r = t_form("id=6&decision=reject&from=status&token=wrong");
	cr_assert_eq(r->code, 403, "%s", r->raw);
	r = t_form("id=6&decision=reject&from=status");
	cr_assert_eq(r->code, 403, "%s", r->raw);
	cr_assert_eq(t_count("SELECT COUNT(*) FROM prices_reports WHERE id = 6 "
	    "AND status = 'held'"), 1);
	snprintf(body, sizeof(body), "id=6&decision=reject&from=status&"
	    "token=%s", token);
	r = t_form(body);
	cr_assert_eq(r->code, 200, "%s", r->raw);
	assert_has(r->raw, "text/html");
	assert_has(r->body, "Price report #6 (maize at nakuru) rejected");
	assert_has(r->body, "<a href=\"/status\">Back to /status</a>");
	cr_assert_eq(t_count("SELECT COUNT(*) FROM prices_reports WHERE id = 6 "
	    "AND status = 'rejected'"), 1);
	/* a refusal is a page too */
	r = t_form(body);
	cr_assert_eq(r->code, 409, "%s", r->raw);
	assert_has(r->body, "is not held (it is rejected)");
	assert_has(r->body, "href=\"/status\"");
	/* the token opens /admin/reports only */
	snprintf(body, sizeof(body), "msisdn=%%2B254700000004&role=agent&"
	    "token=%s", token);
	r = t_request("POST", "/admin/user", "Authorization: Basic "
	    "bWFya2V0Y3RsOnMzY3JldA==\r\n", body);
	cr_assert_eq(r->code, 403, "%s", r->raw);
	/* and never without the password */
	snprintf(body, sizeof(body), "id=20&decision=approve&token=%s", token);
	r = t_request("POST", "/admin/reports", NULL, body);
	cr_assert_eq(r->code, 401, "%s", r->raw);
	cr_assert_eq(t_count("SELECT COUNT(*) FROM prices_reports WHERE id = "
	    "20 AND status = 'held'"), 1);
}

Test(admin_pages, reports_approve_counts_at_once_and_reject_keeps)
{
	t_reports_decide();
}

Test(admin_pages, reports_refuses_what_it_cannot_decide)
{
	t_reports_refuse();
}

Test(admin_pages, status_lists_held_reports_with_a_form_that_works)
{
	t_reports_form();
}

/* The same on PostgreSQL (MB_TEST_PG): the SQL of reports.c on both. */
#ifdef HAVE_POSTGRESQL
static void
setup_pg(void)
{
	t_start_on(T_PASSWORD, pg_fixture_create("admin"));
}

TestSuite(admin_pg, .init = setup_pg, .fini = teardown, .timeout = 60);

Test(admin_pg, reports_approve_counts_at_once_and_reject_keeps)
{
	t_reports_decide();
}

Test(admin_pg, reports_refuses_what_it_cannot_decide)
{
	t_reports_refuse();
}

Test(admin_pg, status_lists_held_reports_with_a_form_that_works)
{
	t_reports_form();
}

Test(admin_pg, metrics_outbox_oldest_age)
{
	t_outbox_oldest();
}
#endif
