/*
 * test_http.c - src/http: the server and the ways in (/sms, /ussd,
 * /health) on 127.0.0.1 in front of a real store, outbox, router and
 * inbox; the table of handlers and the access the server applies from it;
 * the http-allow-ip matcher;
 * requests answered only after the commit and clients that leave before
 * it; and the sendsms link against a fake smsbox on 127.0.0.1.
 *
 * Everything runs on one event_base in the test's own thread: the client
 * is a non-blocking socket polled between non-blocking passes of the loop,
 * and every wait is bounded by a deadline.
 */
#include "config.h"

#include <sys/types.h>
#include <sys/queue.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/wait.h>
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
#include <event2/keyvalq_struct.h>

#include "base/conf.h"
#include "http/http.h"
#include "queue/inbox.h"
#include "queue/mo.h"
#include "queue/outbox.h"
#include "engine/router.h"
#include "http_client.h"
#include "router_fixture.h"
#include "store/store.h"

#define T_DEADLINE_MS	5000	/* the longest any one wait may take */
#define CHECK		"\xE2\x9C\x93"	/* U+2713, not in GSM 03.38: UCS-2 */

static char			 dir[] = "/tmp/test_http_XXXXXX";
static char			 path[256];
static struct event_base	*base;
static struct conf		*conf;
static struct store		*store;
static struct outbox		*outbox;
static struct router		*router;
static struct inbox		*inbox;
static struct http		*http;
static struct http_sendsms	*sendsms;
static int			 port;
static struct hc		 hc;		/* the raw client */

/* --- set-up --------------------------------------------------------------- */

/*
 * The daemon's parts over a fresh database.  autocommit: the store commits
 * once per loop pass as in the daemon; otherwise the test commits with
 * store_commit() and so decides when the inbox calls back.
 */
static void
t_start(int autocommit, const char *sendsms_url)
{
	gwlib_init();
	log_set_output_level(GW_PANIC);
	signal(SIGPIPE, SIG_IGN);
	cr_assert_not_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/mb.db", dir);
	cr_assert_not_null(base = event_base_new());
	cr_assert_not_null(conf = calloc(1, sizeof(*conf)));
	conf->global_sender = strdup("777");
	conf->smsbox_id = strdup("marketbox");
	conf->http_interface = strdup("127.0.0.1");
	conf->max_parts = 3;
	conf->retry_limit = 3;
	conf->retry_delay = 600;	/* no retry inside a test */
	conf->dlr_mask = 31;
	if (sendsms_url != NULL)
		conf->sendsms_url = strdup(sendsms_url);
	port = hc_free_port();
	conf->http_port = port;
	hc.base = base;
	hc.port = port;
	hc.deadline_ms = T_DEADLINE_MS;
	cr_assert_not_null(store = store_open(path, autocommit ? base : NULL));
	cr_assert_not_null(outbox = outbox_new(base, store, conf));
	cr_assert_not_null(router = fixture_router_new(conf, store, outbox));
	cr_assert_not_null(inbox = fixture_inbox_new(store, router, NULL,
	    outbox));
	cr_assert_not_null(http = http_new(base, conf, store));
	cr_assert_eq(http_waysin_register(http, inbox, NULL), 0);
}

static void
t_stop(void)
{
	char	 cmd[512];

	http_sendsms_free(sendsms);
	http_free(http);
	if (store != NULL)
		store_commit(store);
	fixture_inbox_free(inbox);
	fixture_router_free(router);
	outbox_free(outbox);
	store_free(store);
	conf_free(conf);
	event_base_free(base);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	if (system(cmd) != 0)
		fprintf(stderr, "cannot remove %s\n", dir);
	gwlib_shutdown();
}

static void
setup(void)
{
	t_start(1, NULL);
}

static void
setup_manual(void)
{
	t_start(0, NULL);
}

static void
teardown(void)
{
	t_stop();
}

static long long
t_count(const char *sql)
{
	sqlite3_stmt	*st;
	long long	 v = -1;

	cr_assert_eq(sqlite3_prepare_v2(store_db(store), sql, -1, &st, NULL),
	    SQLITE_OK, "%s: %s", sql, sqlite3_errmsg(store_db(store)));
	if (sqlite3_step(st) == SQLITE_ROW)
		v = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	return v;
}

/* --- a raw HTTP client ----------------------------------------------------- */

/* Send a whole raw request and read the whole answer. */
static void
t_raw(const char *req, size_t len, struct hc_resp *r)
{
	int	 fd = hc_connect(&hc);

	memset(r, 0, sizeof(*r));
	if (hc_send(&hc, fd, req, len) == -1)
		r->reset = 1;
	hc_receive(&hc, fd, r);
	close(fd);
}

/* GET target, with Connection: close. */
static void
t_get(const char *target, struct hc_resp *r)
{
	char	 req[16384];
	int	 n;

	n = snprintf(req, sizeof(req), "GET %s HTTP/1.1\r\nHost: 127.0.0.1\r\n"
	    "Connection: close\r\n\r\n", target);
	cr_assert(n > 0 && (size_t)n < sizeof(req));
	t_raw(req, (size_t)n, r);
}

/* POST body to target as a form. */
static void
t_post(const char *target, const char *ctype, const char *body,
    struct hc_resp *r)
{
	char	 req[16384];
	int	 n;

	n = snprintf(req, sizeof(req), "POST %s HTTP/1.1\r\nHost: 127.0.0.1\r\n"
	    "Connection: close\r\nContent-Type: %s\r\nContent-Length: %zu\r\n"
	    "\r\n%s", target, ctype, strlen(body), body);
	cr_assert(n > 0 && (size_t)n < sizeof(req));
	t_raw(req, (size_t)n, r);
}

/* --- the server ------------------------------------------------------------ */

TestSuite(http, .init = setup, .fini = teardown, .timeout = 30);

Test(http, get_sms_answers_with_the_reply_after_the_commit)
{
	struct hc_resp	 r;
	char		 ct[128];

	t_get("/sms?from=%2B254700000001&to=777&text=echo+hello", &r);
	cr_assert_eq(r.code, 200, "%s", r.raw);
	cr_assert_str_eq(r.body, "You said: hello");
	cr_assert_not_null(hc_header(&r, "Content-Type", ct, sizeof(ct)));
	cr_assert_str_eq(ct, "text/plain; charset=utf-8");
	cr_assert_eq(t_count("SELECT count(*) FROM inbox WHERE channel = 'http'"
	    " AND sender = '+254700000001' AND receiver = '777' AND text = "
	    "'echo hello' AND kannel_id LIKE 'http:%'"), 1);
	/* Without an id each request is a new MO with a fresh id. */
	t_get("/sms?from=%2B254700000001&to=777&text=echo+hello", &r);
	cr_assert_eq(r.code, 200);
	cr_assert_eq(t_count("SELECT count(DISTINCT kannel_id) FROM inbox"), 2);
	cr_assert_eq(t_count("SELECT count(*) FROM inbox WHERE "
	    "length(kannel_id) = 41"), 2, "http: and a 36-character UUID");
}

Test(http, the_same_id_twice_has_one_effect_and_the_same_answer)
{
	struct hc_resp	 r1, r2;

	t_get("/sms?from=%2B254700000001&to=777&text=echo+maize+10&id=abc-1", &r1);
	t_get("/sms?from=%2B254700000001&to=777&text=echo+maize+10&id=abc-1", &r2);
	cr_assert_eq(r1.code, 200);
	cr_assert_eq(r2.code, 200);
	cr_assert_str_eq(r1.body, "You said: maize 10");
	cr_assert_str_eq(r2.body, "You said: maize 10");
	cr_assert_eq(t_count("SELECT count(*) FROM inbox"), 1);
	cr_assert_eq(t_count("SELECT count(*) FROM inbox WHERE kannel_id = "
	    "'http:+254700000001:abc-1'"), 1);
	cr_assert_eq(t_count("SELECT count(*) FROM outbox"), 1);
}

/*
 * An id is the client's, per phone: another phone's message with the same
 * id is handled as its own, not answered with the first one's reply.
 */
Test(http, the_same_id_from_another_phone_is_another_message)
{
	struct hc_resp	 r1, r2;

	t_get("/sms?from=%2B254700000001&to=777&text=echo+mine&id=same", &r1);
	t_get("/sms?from=%2B254700000002&to=777&text=echo+yours&id=same", &r2);
	cr_assert_eq(r1.code, 200);
	cr_assert_eq(r2.code, 200);
	cr_assert_str_eq(r1.body, "You said: mine");
	cr_assert_str_eq(r2.body, "You said: yours");
	cr_assert_eq(t_count("SELECT count(*) FROM inbox"), 2);
	cr_assert_eq(t_count("SELECT count(*) FROM outbox"), 2);
}

/*
 * A store that cannot take the MO (here its reply cannot be written):
 * 503 with Retry-After, and nothing of the MO kept, for /sms as for
 * /ussd.
 */
Test(http, a_store_failure_is_503_with_retry_after_and_nothing_kept)
{
	struct hc_resp	 r;
	char		 ra[32];

	cr_assert_eq(store_exec(store, "DROP TABLE outbox"), 0);
	t_get("/sms?from=%2B254700000001&to=777&text=echo+x&id=full-1", &r);
	cr_assert_eq(r.code, 503, "%s", r.raw);
	cr_assert_not_null(hc_header(&r, "Retry-After", ra, sizeof(ra)),
	    "%s", r.raw);
	cr_assert_gt(atoi(ra), 0);
	cr_assert_eq(t_count("SELECT count(*) FROM inbox"), 0);
}

Test(http, kannel_get_url_request_with_every_field)
{
	struct hc_resp	 r;

	/* As smsbox expands get-url "...?from=%p&to=%P&text=%a&id=%I". */
	t_get("/sms?from=%2B254700000001&to=777&text=echo+SELL%20maize%2010%20bags"
	    "&id=6e2a1c52-9b2e-4a39-8d1e-0c5a8e3c4f11&smsc=FAKE&coding=0", &r);
	cr_assert_eq(r.code, 200, "%s", r.raw);
	cr_assert_str_eq(r.body, "You said: SELL maize 10 bags");
	cr_assert_eq(t_count("SELECT count(*) FROM inbox WHERE kannel_id = "
	    "'http:+254700000001:6e2a1c52-9b2e-4a39-8d1e-0c5a8e3c4f11' AND smsc_id = 'FAKE' "
	    "AND coding = 0 AND text = 'echo SELL maize 10 bags'"), 1);
}

Test(http, to_defaults_to_the_global_sender)
{
	struct hc_resp	 r;

	t_get("/sms?from=254700000001&text=echo+hi", &r);
	cr_assert_eq(r.code, 200);
	cr_assert_str_eq(r.body, "You said: hi");
	cr_assert_eq(t_count("SELECT count(*) FROM inbox WHERE receiver = "
	    "'777' AND sender = '254700000001'"), 1);
}

Test(http, utf8_text_is_kept_and_invalid_bytes_replaced)
{
	struct hc_resp	 r;

	t_get("/sms?from=%2B254700000001&text=echo+bei%20%E2%82%AC", &r);
	cr_assert_eq(r.code, 200);
	cr_assert_str_eq(r.body, "You said: bei \xE2\x82\xAC");
	t_get("/sms?from=%2B254700000001&text=echo+a%FFb", &r);
	cr_assert_eq(r.code, 200);
	cr_assert_str_eq(r.body, "You said: a\xEF\xBF\xBD" "b");
	t_get("/sms?from=%2B254700000001&text=echo+a%00b", &r);
	cr_assert_eq(r.code, 200);
	cr_assert_str_eq(r.body, "You said: a b", "a NUL becomes a space");
}

Test(http, empty_text_is_a_message)
{
	struct hc_resp	 r;

	t_get("/sms?from=%2B254700000001&text=", &r);
	cr_assert_eq(r.code, 200);
	/* never silence: an empty message is answered with a pointer to HELP */
	cr_assert_not_null(strstr(r.body, "HELP"), "%s", r.body);
}

Test(http, post_form_body)
{
	struct hc_resp	 r;

	t_post("/sms", "application/x-www-form-urlencoded",
	    "from=%2B254700000002&to=777&text=echo+hi+there&id=p-1", &r);
	cr_assert_eq(r.code, 200, "%s", r.raw);
	cr_assert_str_eq(r.body, "You said: hi there");
	cr_assert_eq(t_count("SELECT count(*) FROM inbox WHERE kannel_id = "
	    "'http:+254700000002:p-1' AND sender = '+254700000002' AND text = 'echo hi there'"),
	    1);
	/* With a charset parameter too. */
	t_post("/sms", "application/x-www-form-urlencoded; charset=UTF-8",
	    "from=%2B254700000002&text=echo+ok", &r);
	cr_assert_eq(r.code, 200);
	cr_assert_str_eq(r.body, "You said: ok");
}

Test(http, post_of_another_content_type_is_415)
{
	struct hc_resp	 r;

	t_post("/sms", "application/json", "{\"from\":\"+254700000002\"}", &r);
	cr_assert_eq(r.code, 415);
	cr_assert_eq(t_count("SELECT count(*) FROM inbox"), 0);
}

Test(http, missing_fields_are_400)
{
	struct hc_resp	 r;

	t_get("/sms?to=777&text=hello", &r);
	cr_assert_eq(r.code, 400);
	cr_assert_str_eq(r.body, "missing from");
	t_get("/sms?from=&text=hello", &r);
	cr_assert_eq(r.code, 400);
	cr_assert_str_eq(r.body, "missing from");
	t_get("/sms?from=%2B254700000001&to=777", &r);
	cr_assert_eq(r.code, 400);
	cr_assert_str_eq(r.body, "missing text");
	t_post("/sms", "application/x-www-form-urlencoded", "text=x", &r);
	cr_assert_eq(r.code, 400);
	cr_assert_str_eq(r.body, "missing from");
	cr_assert_eq(t_count("SELECT count(*) FROM inbox"), 0);
}

Test(http, bad_from_is_400)
{
	static const char *const bad[] = {
		"/sms?from=abc&text=x",
		"/sms?from=%2B25470000000a&text=x",
		"/sms?from=12&text=x",				/* too short */
		"/sms?from=%2B123456789012345678901&text=x",	/* 21 digits */
		"/sms?from=%2B%2B254700000001&text=x",
		"/sms?from=254%20700&text=x",
		"/sms?from=%2B&text=x",
		"/sms?from=1%27%20OR%201=1&text=x",
	};
	struct hc_resp	 r;
	size_t		 i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		t_get(bad[i], &r);
		cr_assert_eq(r.code, 400, "%s gave %d", bad[i], r.code);
		cr_assert_eq(strncmp(r.body, "bad from", 8), 0, "%s: %s",
		    bad[i], r.body);
	}
	/* The edges that are good: 3 and 20 digits, a raw '+' (decoded as
	 * a space) taken as the '+' it was meant to be. */
	t_get("/sms?from=123&text=x", &r);
	cr_assert_eq(r.code, 200);
	t_get("/sms?from=%2B12345678901234567890&text=x", &r);
	cr_assert_eq(r.code, 200);
	t_get("/sms?from=+254700000003&text=x", &r);
	cr_assert_eq(r.code, 200);
	cr_assert_eq(t_count("SELECT count(*) FROM inbox WHERE sender = "
	    "'+254700000003'"), 1);
	cr_assert_eq(t_count("SELECT count(*) FROM inbox"), 3);
}

Test(http, other_bad_fields_are_400)
{
	struct hc_resp	 r;

	t_get("/sms?from=%2B254700000001&text=x&coding=3", &r);
	cr_assert_eq(r.code, 400);
	cr_assert_str_eq(r.body, "bad coding: 0, 1 or 2");
	t_get("/sms?from=%2B254700000001&text=x&id=a%20b", &r);
	cr_assert_eq(r.code, 400);
	cr_assert_eq(strncmp(r.body, "bad id", 6), 0);
	t_get("/sms?from=%2B254700000001&text=x&to=", &r);
	cr_assert_eq(r.code, 400);
	cr_assert_eq(strncmp(r.body, "bad to", 6), 0);
	cr_assert_eq(t_count("SELECT count(*) FROM inbox"), 0);
}

Test(http, overlong_text_is_400)
{
	char		 target[4096];
	struct hc_resp	 r;
	int		 n;

	n = snprintf(target, sizeof(target), "/sms?from=%%2B254700000001"
	    "&text=%01601d", 0);
	cr_assert(n > 0 && (size_t)n < sizeof(target));
	t_get(target, &r);
	cr_assert_eq(r.code, 400);
	cr_assert_str_eq(r.body, "text too long: at most 1600 bytes");
	cr_assert_eq(t_count("SELECT count(*) FROM inbox"), 0);

	/* 1600 bytes exactly is taken. */
	n = snprintf(target, sizeof(target), "/sms?from=%%2B254700000001"
	    "&text=%01600d", 0);
	t_get(target, &r);
	cr_assert_eq(r.code, 200);
	cr_assert_eq(t_count("SELECT count(*) FROM inbox WHERE "
	    "length(text) = 1600"), 1);
}

Test(http, unknown_path_is_404_and_health_is_ok)
{
	struct hc_resp	 r;

	t_get("/nothing", &r);
	cr_assert_eq(r.code, 404);
	t_get("/", &r);
	cr_assert_eq(r.code, 404);
	t_get("/sms/extra?from=%2B254700000001&text=x", &r);
	cr_assert_eq(r.code, 404);
	t_get("/health", &r);
	cr_assert_eq(r.code, 200);
	cr_assert_str_eq(r.body, "ok");
	cr_assert_eq(t_count("SELECT count(*) FROM inbox"), 0);
}

Test(http, other_methods_are_405)
{
	static const char put[] = "PUT /sms HTTP/1.1\r\nHost: 127.0.0.1\r\n"
	    "Connection: close\r\nContent-Length: 0\r\n\r\n";
	static const char del[] = "DELETE /health HTTP/1.1\r\nHost: 127.0.0.1\r\n"
	    "Connection: close\r\n\r\n";
	struct hc_resp	 r;
	char		 allow[64];

	t_raw(put, sizeof(put) - 1, &r);
	cr_assert_eq(r.code, 405, "%s", r.raw);
	cr_assert_not_null(hc_header(&r, "Allow", allow, sizeof(allow)));
	cr_assert_str_eq(allow, "GET, POST");
	t_raw(del, sizeof(del) - 1, &r);
	cr_assert_eq(r.code, 405);
}

Test(http, headers_too_large_are_refused_and_the_server_lives_on)
{
	struct hc_resp	 r;
	char		*req, *p;
	size_t		 big = 9000, len;

	cr_assert_not_null(req = malloc(big + 256));
	p = req;
	p += sprintf(p, "GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Big: ");
	memset(p, 'a', big);
	p += big;
	p += sprintf(p, "\r\nConnection: close\r\n\r\n");
	len = (size_t)(p - req);
	t_raw(req, len, &r);
	free(req);
	/* libevent 2.1 answers 400; any 4xx is a refusal. */
	cr_assert(r.code >= 400 && r.code < 500, "answered %d: %s", r.code,
	    r.raw);

	t_get("/health", &r);
	cr_assert_eq(r.code, 200);
	cr_assert_str_eq(r.body, "ok");
}

Test(http, body_too_large_is_refused)
{
	struct hc_resp	 r;
	char		 head[256];
	char		*req;
	size_t		 body = 70 * 1024, n;

	n = (size_t)snprintf(head, sizeof(head), "POST /sms HTTP/1.1\r\n"
	    "Host: 127.0.0.1\r\nConnection: close\r\nContent-Type: "
	    "application/x-www-form-urlencoded\r\nContent-Length: %zu\r\n\r\n",
	    body);
	cr_assert_not_null(req = malloc(n + body));
	memcpy(req, head, n);
	memset(req + n, 'a', body);
	t_raw(req, n + body, &r);
	free(req);
	cr_assert_eq(r.code, 413, "answered %d: %s", r.code, r.raw);
	cr_assert_eq(t_count("SELECT count(*) FROM inbox"), 0);
	t_get("/health", &r);
	cr_assert_eq(r.code, 200);
}

Test(http, keep_alive_serves_several_requests)
{
	static const char two[] =
	    "GET /sms?from=%2B254700000001&text=echo+one HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n";
	static const char last[] =
	    "GET /sms?from=%2B254700000001&text=echo+two HTTP/1.1\r\nHost: 127.0.0.1\r\n"
	    "Connection: close\r\n\r\n";
	struct hc_resp	 r;
	int		 fd = hc_connect(&hc);

	memset(&r, 0, sizeof(r));
	cr_assert_eq(hc_send(&hc, fd, two, sizeof(two) - 1), 0);
	cr_assert_eq(hc_send(&hc, fd, last, sizeof(last) - 1), 0);
	hc_receive(&hc, fd, &r);
	close(fd);
	cr_assert_not_null(strstr(r.raw, "You said: one"), "%s", r.raw);
	cr_assert_not_null(strstr(r.raw, "You said: two"), "%s", r.raw);
	cr_assert_eq(t_count("SELECT count(*) FROM inbox"), 2);
}

Test(http, set_conf_keeps_the_new_conf)
{
	struct conf	*fresh;
	struct hc_resp	 r;

	cr_assert_not_null(fresh = calloc(1, sizeof(*fresh)));
	fresh->global_sender = strdup("888");
	fresh->http_interface = strdup("127.0.0.1");
	fresh->http_port = port + 1;		/* logged: needs a restart */
	http_set_conf(http, fresh);
	t_get("/sms?from=%2B254700000001&text=x", &r);
	cr_assert_eq(r.code, 200);
	cr_assert_eq(t_count("SELECT count(*) FROM inbox WHERE receiver = "
	    "'888'"), 1, "the new global-sender is used");
	http_set_conf(http, conf);
	conf_free(fresh);
}

Test(http, a_second_server_on_the_same_port_is_refused)
{
	cr_assert_null(http_new(base, conf, store));
}

/* --- the table: entries and the access the server applies ---------------- */

/* How often a test entry's function ran, and the call one of them kept. */
static int			 t_ran;
static struct http_call		*t_kept;

static void
t_hello_cb(struct http_call *call, void *arg)
{
	(void)arg;
	t_ran++;
	http_call_text(call, 200, "OK", "hello");
}

/* Answers later: the call waits in the server's hands. */
static void
t_later_cb(struct http_call *call, void *arg)
{
	(void)arg;
	t_ran++;
	t_kept = call;
}

static const char *
t_secret(const struct conf *c)
{
	(void)c;
	return "t0ps3cret";
}

/* Register an entry on where for t_hello_cb. */
static void
t_handle(const char *where, int prefix, unsigned methods,
    enum http_access access)
{
	struct http_handler	 e = {
		.path = where, .prefix = prefix, .methods = methods,
		.access = access, .fn = t_hello_cb
	};

	cr_assert_eq(http_handle(http, &e, NULL), 0);
}

/* A request with extra header lines (each ending in CRLF). */
static void
t_req_with(const char *method, const char *target, const char *headers,
    struct hc_resp *r)
{
	char	 req[4096];
	int	 n;

	n = snprintf(req, sizeof(req), "%s %s HTTP/1.1\r\nHost: 127.0.0.1\r\n"
	    "Connection: close\r\nContent-Length: 0\r\n%s\r\n", method,
	    target, headers);
	cr_assert(n > 0 && (size_t)n < sizeof(req));
	t_raw(req, (size_t)n, r);
}

static void
t_table_setup(void)
{
	t_start(1, NULL);
	t_ran = 0;
	t_kept = NULL;
}

TestSuite(http_table, .init = t_table_setup, .fini = teardown,
    .timeout = 30);

Test(http_table, a_registered_path_answers_and_an_unknown_one_is_404)
{
	struct hc_resp	 r;

	t_handle("/t/hello", 0, HTTP_GET, HTTP_ACCESS_PEER);
	t_handle("/t/tree/", 1, HTTP_GET, HTTP_ACCESS_PEER);
	t_get("/t/hello", &r);
	cr_assert_eq(r.code, 200, "%s", r.raw);
	cr_assert_str_eq(r.body, "hello");
	cr_assert_eq(t_ran, 1);
	t_get("/t/tree/any/thing?x=1", &r);
	cr_assert_eq(r.code, 200, "a prefix entry: %s", r.raw);
	cr_assert_eq(t_ran, 2);

	t_get("/t/hello/", &r);
	cr_assert_eq(r.code, 404, "not a prefix entry: %s", r.raw);
	t_get("/t/nobody", &r);
	cr_assert_eq(r.code, 404, "%s", r.raw);
	cr_assert_eq(t_ran, 2);

	/* A prefix covers whole segments. */
	t_handle("/t/pay", 1, HTTP_GET, HTTP_ACCESS_PEER);
	t_get("/t/pay/confirm", &r);
	cr_assert_eq(r.code, 200, "under a prefix: %s", r.raw);
	cr_assert_eq(t_ran, 3);
	t_get("/t/payment", &r);
	cr_assert_eq(r.code, 404, "a longer word is not under the prefix: %s",
	    r.raw);
	cr_assert_eq(t_ran, 3);
	/* A path is served once. */
	{
		struct http_handler	 again = { .path = "/t/hello",
			.methods = HTTP_GET, .fn = t_hello_cb };

		cr_assert_eq(http_handle(http, &again, NULL), -1);
	}
}

Test(http_table, a_method_the_entry_does_not_take_is_405_with_allow)
{
	struct hc_resp	 r;
	char		 allow[64];

	t_handle("/t/get", 0, HTTP_GET, HTTP_ACCESS_PEER);
	t_handle("/t/post", 0, HTTP_POST, HTTP_ACCESS_PEER);
	t_req_with("POST", "/t/get", "", &r);
	cr_assert_eq(r.code, 405, "%s", r.raw);
	cr_assert_str_eq(hc_header(&r, "Allow", allow, sizeof(allow)), "GET");
	t_get("/t/post", &r);
	cr_assert_eq(r.code, 405, "%s", r.raw);
	cr_assert_str_eq(hc_header(&r, "Allow", allow, sizeof(allow)),
	    "POST");
	/* Neither GET nor POST: 405 for every path. */
	t_req_with("PUT", "/t/get", "", &r);
	cr_assert_eq(r.code, 405, "%s", r.raw);
	cr_assert_str_eq(hc_header(&r, "Allow", allow, sizeof(allow)),
	    "GET, POST");
	cr_assert_eq(t_ran, 0, "the handler ran for a method it does not "
	    "take");
	t_req_with("POST", "/t/post", "", &r);
	cr_assert_eq(r.code, 200, "%s", r.raw);
	cr_assert_eq(t_ran, 1);
}

Test(http_table, network_access_refuses_a_peer_not_allowed_before_the_handler)
{
	struct hc_resp	 r;
	static const char req[] = "GET /t/net HTTP/1.1\r\nHost: 127.0.0.1\r\n"
	    "Connection: close\r\n\r\n";
	int		 fd;

	t_handle("/t/net", 0, HTTP_GET, HTTP_ACCESS_NETWORK);
	/* An admin entry keeps loopback connections admitted (admin-allow-ip
	 * always has loopback): the request itself must be judged. */
	t_handle("/t/adm", 0, HTTP_GET, HTTP_ACCESS_ADMIN);
	cr_assert_not_null(conf->http_allow_ip.names = calloc(2,
	    sizeof(char *)));
	cr_assert_not_null(conf->http_allow_ip.names[0] = strdup("127.0.0.2"));
	conf->http_allow_ip.count = 1;
	http_set_loopback_trusted(http, 0);

	t_get("/t/net", &r);
	cr_assert_eq(r.code, 403, "%s", r.raw);
	cr_assert_eq(t_ran, 0, "the handler ran for a peer not allowed");

	/* The listed address is served. */
	fd = hc_connect_from(&hc, "127.0.0.2");
	memset(&r, 0, sizeof(r));
	cr_assert_eq(hc_send(&hc, fd, req, sizeof(req) - 1), 0);
	hc_receive(&hc, fd, &r);
	close(fd);
	cr_assert_eq(r.code, 200, "%s", r.raw);
	cr_assert_eq(t_ran, 1);
}

Test(http_table, network_access_refuses_requests_browsers_made_for_others)
{
	struct hc_resp	 r;

	t_handle("/t/net", 0, HTTP_GET | HTTP_POST, HTTP_ACCESS_NETWORK);
	t_handle("/t/peer", 0, HTTP_GET | HTTP_POST, HTTP_ACCESS_PEER);
	t_req_with("POST", "/t/net", "Origin: http://evil.example\r\n", &r);
	cr_assert_eq(r.code, 403, "%s", r.raw);
	t_req_with("POST", "/t/net", "Sec-Fetch-Site: cross-site\r\n", &r);
	cr_assert_eq(r.code, 403, "%s", r.raw);
	cr_assert_eq(t_ran, 0, "the handler ran for a browser's request");
	/* A PEER entry (as /health) does not judge browsers. */
	t_req_with("POST", "/t/peer", "Sec-Fetch-Site: cross-site\r\n", &r);
	cr_assert_eq(r.code, 200, "%s", r.raw);
	cr_assert_eq(t_ran, 1);
}

Test(http_table, a_secret_entry_refuses_a_request_without_it_before_the_handler)
{
	struct hc_resp		 r;
	struct http_handler	 e = {
		.path = "/t/secret", .methods = HTTP_GET | HTTP_POST,
		.access = HTTP_ACCESS_NETWORK, .secret = t_secret,
		.secret_name = "t-secret", .secret_refusal = "no secret",
		.form = 1, .fn = t_hello_cb
	};

	cr_assert_eq(http_handle(http, &e, NULL), 0);
	t_get("/t/secret", &r);
	cr_assert_eq(r.code, 403, "%s", r.raw);
	cr_assert_str_eq(r.body, "no secret");
	t_get("/t/secret?secret=t0ps3creT", &r);
	cr_assert_eq(r.code, 403, "%s", r.raw);
	t_req_with("GET", "/t/secret", "X-Marketbox-Secret: nope\r\n", &r);
	cr_assert_eq(r.code, 403, "%s", r.raw);
	cr_assert_eq(t_ran, 0, "the handler ran without the secret");

	t_get("/t/secret?secret=t0ps3cret", &r);
	cr_assert_eq(r.code, 200, "%s", r.raw);
	t_req_with("GET", "/t/secret", "X-Marketbox-Secret: t0ps3cret\r\n",
	    &r);
	cr_assert_eq(r.code, 200, "%s", r.raw);
	t_post("/t/secret", "application/x-www-form-urlencoded",
	    "a=1&secret=t0ps3cret", &r);
	cr_assert_eq(r.code, 200, "%s", r.raw);
	t_post("/t/secret?secret=t0ps3cret", "text/plain", "x", &r);
	cr_assert_eq(r.code, 415, "a form entry takes forms only: %s", r.raw);
	cr_assert_eq(t_ran, 3);
}

Test(http_table, an_admin_entry_needs_the_password_and_the_lock_out_applies)
{
	struct hc_resp	 r;
	char		 v[64];

	t_handle("/t/adm", 0, HTTP_GET | HTTP_POST, HTTP_ACCESS_ADMIN);
	t_get("/t/adm", &r);
	cr_assert_eq(r.code, 403, "no admin-password: off: %s", r.raw);
	cr_assert_not_null(conf->admin_password = strdup("pw"));

	t_get("/t/adm", &r);
	cr_assert_eq(r.code, 401, "%s", r.raw);
	cr_assert_not_null(hc_header(&r, "WWW-Authenticate", v, sizeof(v)));
	cr_assert_str_eq(hc_header(&r, "Cache-Control", v, sizeof(v)),
	    "no-store");
	cr_assert_eq(t_ran, 0, "the handler ran without the password");

	t_get("/t/adm?password=pw", &r);
	cr_assert_eq(r.code, 200, "%s", r.raw);
	cr_assert_eq(t_ran, 1);
	/* A POST needs X-Marketbox-Admin. */
	t_req_with("POST", "/t/adm?password=pw", "", &r);
	cr_assert_eq(r.code, 403, "%s", r.raw);
	cr_assert_eq(t_ran, 1, "the handler ran for a POST without the "
	    "header");

	/* A wrong password: 401, counted; the address is then locked out,
	 * even with the right password. */
	t_get("/t/adm?password=nope", &r);
	cr_assert_eq(r.code, 401, "%s", r.raw);
	cr_assert_eq(http_auth_failures(http), 1);
	t_get("/t/adm?password=pw", &r);
	cr_assert_eq(r.code, 429, "%s", r.raw);
	cr_assert_not_null(hc_header(&r, "Retry-After", v, sizeof(v)));
	cr_assert_eq(t_ran, 1, "the handler ran for a locked-out address");
	cr_assert_eq(http_auth_failures(http), 1, "a 429 is no failure");
}

Test(http_table, http_free_answers_a_waiting_call_503)
{
	struct http_handler	 e = {
		.path = "/t/later", .methods = HTTP_GET,
		.access = HTTP_ACCESS_PEER, .store_task = 1, .fn = t_later_cb
	};
	static const char req[] = "GET /t/later HTTP/1.1\r\nHost: 127.0.0.1\r\n"
	    "Connection: close\r\n\r\n";
	struct hc_resp		 r;
	int			 fd, i;

	cr_assert_eq(http_handle(http, &e, NULL), 0);
	fd = hc_connect(&hc);
	memset(&r, 0, sizeof(r));
	cr_assert_eq(hc_send(&hc, fd, req, sizeof(req) - 1), 0);
	for (i = 0; i < 200 && t_kept == NULL; i++)
		hc_pass(&hc, fd);
	cr_assert_not_null(t_kept, "the handler did not run");
	http_free(http);
	http = NULL;
	/* Detached: answering it now only frees it. */
	http_call_text(t_kept, 200, "OK", "too late");
	hc_receive(&hc, fd, &r);
	close(fd);
	/* evhttp_free() closes the connection, maybe before the 503 is
	 * written: no answer at all is fine, success is not. */
	cr_assert_neq(r.code, 200, "%s", r.raw);
}

/* --- answers that wait for a commit the test controls ---------------------- */

/* --- connections: checked at accept, capped, timed ------------------------ */

/* Run the loop for ms milliseconds. */
static void
t_run(long long ms)
{
	long long	 end = hc_now_ms() + ms;

	while (hc_now_ms() < end)
		hc_pass(&hc, -1);
}

/* 1 if the server closed fd (end of file or reset), 0 if it is open.
 * Whatever the server sent is read and dropped. */
static int
t_closed(int fd)
{
	char	 buf[1024];
	ssize_t	 n;
	int	 i;

	for (i = 0; i < 1000; i++) {
		if ((n = recv(fd, buf, sizeof(buf), 0)) == 0)
			return 1;
		if (n < 0)
			return errno == ECONNRESET;
	}
	return 0;
}

static const char t_slow_head[] = "GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\n";

Test(http, more_idle_clients_than_the_cap_and_health_still_answers)
{
	struct hc_resp	 r;
	int		 fd[12], i, open = 0;

	conf->http_max_connections = 4;
	for (i = 0; i < 12; i++) {
		fd[i] = hc_connect(&hc);
		cr_assert_eq(hc_send(&hc, fd[i], t_slow_head,
		    sizeof(t_slow_head) - 1), 0);
		t_run(20);
	}
	t_run(100);
	for (i = 0; i < 12; i++)
		open += !t_closed(fd[i]);
	cr_assert_eq(open, 4, "%d connections left open, the cap is 4", open);
	/* The oldest were closed for the newest. */
	for (i = 8; i < 12; i++)
		cr_assert(!t_closed(fd[i]), "connection %d was closed", i);

	/* A newcomer with a whole request is served at once. */
	t_get("/health", &r);
	cr_assert_eq(r.code, 200);
	cr_assert_str_eq(r.body, "ok");
	for (i = 0; i < 12; i++)
		close(fd[i]);
}

Test(http, a_client_trickling_its_header_is_cut_at_the_deadline)
{
	static const char line[] = "X-Slow: 1\r\n";
	long long	 start, next, elapsed = -1;
	int		 fd;

	conf->http_request_timeout = 1;
	fd = hc_connect(&hc);
	start = hc_now_ms();
	cr_assert_eq(hc_send(&hc, fd, t_slow_head, sizeof(t_slow_head) - 1),
	    0);
	/* A header line every 200 ms: never idle, never done. */
	for (next = start + 200; hc_now_ms() < start + 4000; ) {
		hc_pass(&hc, fd);
		if (t_closed(fd)) {
			elapsed = hc_now_ms() - start;
			break;
		}
		if (hc_now_ms() >= next) {
			(void)send(fd, line, sizeof(line) - 1, MSG_NOSIGNAL);
			next += 200;
		}
	}
	close(fd);
	cr_assert_neq(elapsed, -1, "a trickling client was never cut");
	cr_assert_geq(elapsed, 900, "cut after %lld ms", elapsed);
	cr_assert_lt(elapsed, 2500, "cut after %lld ms", elapsed);
}

Test(http, a_kept_alive_connection_has_a_deadline_for_its_next_request)
{
	static const char req[] = "GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\n"
	    "\r\n";
	char		 buf[1024];
	size_t		 got = 0;
	ssize_t		 n;
	long long	 start, end;
	int		 fd;

	conf->http_request_timeout = 1;
	fd = hc_connect(&hc);
	cr_assert_eq(hc_send(&hc, fd, req, sizeof(req) - 1), 0);
	/* The answer, on a connection kept open. */
	for (end = hc_now_ms() + T_DEADLINE_MS; ; ) {
		cr_assert_lt(hc_now_ms(), end, "no answer");
		hc_pass(&hc, fd);
		n = recv(fd, buf + got, sizeof(buf) - 1 - got, 0);
		if (n > 0)
			got += (size_t)n;
		buf[got] = '\0';
		if (strstr(buf, "\r\n\r\nok") != NULL)
			break;
		cr_assert(n != 0, "closed after one answer: %s", buf);
	}
	start = hc_now_ms();
	while (!t_closed(fd) && hc_now_ms() < start + 4000)
		hc_pass(&hc, fd);
	cr_assert_lt(hc_now_ms() - start, 2500, "an idle kept-alive "
	    "connection was not cut");
	cr_assert_geq(hc_now_ms() - start, 900);
	close(fd);
}

Test(http, an_address_not_allowed_is_closed_before_it_sends_anything)
{
	static const char req[] = "GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\n"
	    "Connection: close\r\n\r\n";
	struct hc_resp	 r;
	int		 fd, i;

	cr_assert_not_null(conf->http_allow_ip.names = calloc(2,
	    sizeof(char *)));
	cr_assert_not_null(conf->http_allow_ip.names[0] = strdup("127.0.0.2"));
	conf->http_allow_ip.count = 1;
	http_set_loopback_trusted(http, 0);

	/* 127.0.0.1 is now like any address not listed: closed at once,
	 * with no request read and no answer. */
	fd = hc_connect(&hc);
	for (i = 0; i < 50 && !t_closed(fd); i++)
		hc_pass(&hc, fd);
	cr_assert_lt(i, 50, "a peer not allowed was kept open");
	close(fd);

	/* The listed one is served. */
	fd = hc_connect_from(&hc, "127.0.0.2");
	memset(&r, 0, sizeof(r));
	cr_assert_eq(hc_send(&hc, fd, req, sizeof(req) - 1), 0);
	hc_receive(&hc, fd, &r);
	close(fd);
	cr_assert_eq(r.code, 200);
	cr_assert_str_eq(r.body, "ok");
}

/* utime + stime of pid, in clock ticks. */
static unsigned long
t_cpu_ticks(pid_t pid)
{
	char		 name[64], buf[1024], *p;
	unsigned long	 ut = 0, st = 0;
	FILE		*f;
	size_t		 n;

	snprintf(name, sizeof(name), "/proc/%d/stat", (int)pid);
	cr_assert_not_null(f = fopen(name, "r"));
	n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = '\0';
	cr_assert_not_null(p = strrchr(buf, ')'));
	cr_assert_eq(sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u "
	    "%*u %lu %lu", &ut, &st), 2);
	return ut + st;
}

/* The parent closed the control pipe: stop the child's loop. */
static void
t_child_stop(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	event_base_loopbreak(arg);
}

/* A blocking GET /health: 1 if answered 200 "ok". */
static int
t_health_blocking(void)
{
	static const char req[] = "GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\n"
	    "Connection: close\r\n\r\n";
	struct sockaddr_in	 sin;
	struct timeval		 tv = { 3, 0 };
	char			 buf[2048];
	size_t			 got = 0;
	ssize_t			 n;
	int			 fd, ok;

	if ((fd = socket(AF_INET, SOCK_STREAM, 0)) == -1)
		return 0;
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_port = htons((unsigned short)port);
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (connect(fd, (struct sockaddr *)&sin, sizeof(sin)) == -1 ||
	    send(fd, req, sizeof(req) - 1, MSG_NOSIGNAL) !=
	    (ssize_t)(sizeof(req) - 1)) {
		close(fd);
		return 0;
	}
	while (got < sizeof(buf) - 1 &&
	    (n = recv(fd, buf + got, sizeof(buf) - 1 - got, 0)) > 0)
		got += (size_t)n;
	buf[got] = '\0';
	close(fd);
	ok = strncmp(buf, "HTTP/1.1 200", 12) == 0 &&
	    strstr(buf, "\r\n\r\nok") != NULL;
	return ok;
}

/*
 * The server runs in a child whose descriptor limit is lowered to a few
 * above what it has open; the test opens many more idle connections than
 * that.  The child must neither spin (the listener stays readable while
 * accept() fails) nor flood its log, and must serve again once the
 * clients go.
 */
Test(http, out_of_descriptors_it_neither_spins_nor_floods_and_recovers,
    .timeout = 60)
{
	char		 logf[] = "/tmp/test_http_log_XXXXXX";
	char		 line[4096];
	struct rlimit	 rl;
	FILE		*f;
	pid_t		 pid;
	unsigned long	 t0, t1, hz = (unsigned long)sysconf(_SC_CLK_TCK);
	int		 ctl[2], fds[40], i, probe, status, lines = 0, ok = 0;
	int		 paused = 0;

	cr_assert_geq(probe = mkstemp(logf), 0);
	close(probe);
	cr_assert_eq(pipe(ctl), 0);
	fflush(NULL);
	cr_assert_neq(pid = fork(), -1);
	if (pid == 0) {
		struct event	*stop;
		struct timeval	 most = { 30, 0 };

		close(ctl[1]);
		log_setup(GW_PANIC, logf, GW_WARNING);
		/* The loop breaks when the parent closes its end. */
		if ((stop = event_new(base, ctl[0], EV_READ, t_child_stop,
		    base)) == NULL || event_add(stop, NULL) == -1)
			_exit(3);
		probe = dup(0);
		close(probe);
		getrlimit(RLIMIT_NOFILE, &rl);
		rl.rlim_cur = (rlim_t)probe + 6;
		if (setrlimit(RLIMIT_NOFILE, &rl) == -1)
			_exit(2);
		event_base_loopexit(base, &most);
		event_base_dispatch(base);
		_exit(0);
	}
	close(ctl[0]);
	for (i = 0; i < 40; i++) {
		struct sockaddr_in	 sin;

		cr_assert_geq(fds[i] = socket(AF_INET, SOCK_STREAM, 0), 0);
		memset(&sin, 0, sizeof(sin));
		sin.sin_family = AF_INET;
		sin.sin_port = htons((unsigned short)port);
		sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
		cr_assert_eq(connect(fds[i], (struct sockaddr *)&sin,
		    sizeof(sin)), 0);
	}
	usleep(300 * 1000);
	t0 = t_cpu_ticks(pid);
	usleep(2000 * 1000);
	t1 = t_cpu_ticks(pid);
	for (i = 0; i < 40; i++)
		close(fds[i]);
	/* Served again once the clients are gone. */
	for (i = 0; i < 10 && !(ok = t_health_blocking()); i++)
		usleep(300 * 1000);
	close(ctl[1]);
	cr_assert_eq(waitpid(pid, &status, 0), pid);
	cr_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0,
	    "the server's child ended with %d", status);

	cr_assert_not_null(f = fopen(logf, "r"));
	while (fgets(line, sizeof(line), f) != NULL) {
		lines++;
		if (strstr(line, "cannot accept") != NULL)
			paused = 1;
	}
	fclose(f);
	unlink(logf);
	cr_assert_lt(t1 - t0, hz / 2, "the server used %lu ticks of CPU in 2 s "
	    "(%lu a second): it spins", t1 - t0, hz);
	cr_assert_lt(lines, 60, "%d log lines in a few seconds", lines);
	cr_assert(paused, "accept() never ran out: the test proves nothing");
	cr_assert(ok, "the server did not serve again");
}

/* --- the ways in: secrets, browsers, hosts -------------------------------- */

/* A request with extra header lines (each ending "\r\n") and a body. */
static void
t_req(const char *method, const char *target, const char *headers,
    const char *body, struct hc_resp *r)
{
	char	 req[16384];
	int	 n;

	n = snprintf(req, sizeof(req), "%s %s HTTP/1.1\r\n%sConnection: close"
	    "\r\nContent-Type: application/x-www-form-urlencoded\r\n"
	    "Content-Length: %zu\r\n\r\n%s", method, target, headers,
	    strlen(body), body);
	cr_assert(n > 0 && (size_t)n < sizeof(req));
	t_raw(req, (size_t)n, r);
}

#define T_HOST	"Host: 127.0.0.1\r\n"
#define T_MO	"/sms?from=%2B254700000001&text=echo+hi"

Test(http, sms_secret_is_needed_once_set)
{
	struct hc_resp	 r;

	conf->sms_secret = strdup("s3cret");
	t_get(T_MO, &r);
	cr_assert_eq(r.code, 403, "%s", r.raw);
	t_get(T_MO "&secret=wrong", &r);
	cr_assert_eq(r.code, 403);
	t_get(T_MO "&secret=s3cre", &r);
	cr_assert_eq(r.code, 403, "a prefix is not the secret");
	t_get(T_MO "&secret=", &r);
	cr_assert_eq(r.code, 403, "an empty secret is not the secret");
	cr_assert_eq(t_count("SELECT count(*) FROM inbox"), 0);

	t_get(T_MO "&secret=s3cret&id=a", &r);
	cr_assert_eq(r.code, 200, "%s", r.raw);
	cr_assert_str_eq(r.body, "You said: hi");
	t_req("GET", T_MO "&id=b", T_HOST "X-Marketbox-Secret: s3cret\r\n", "",
	    &r);
	cr_assert_eq(r.code, 200, "%s", r.raw);
	t_req("POST", "/sms", T_HOST, "from=%2B254700000001&text=echo+c&"
	    "secret=s3cret", &r);
	cr_assert_eq(r.code, 200, "%s", r.raw);
	t_req("GET", T_MO "&id=d", T_HOST "X-Marketbox-Secret: nope\r\n", "",
	    &r);
	cr_assert_eq(r.code, 403);
	cr_assert_eq(t_count("SELECT count(*) FROM inbox"), 3);
}

Test(http, without_a_secret_set_none_is_asked)
{
	struct hc_resp	 r;

	t_get(T_MO, &r);
	cr_assert_eq(r.code, 200);
	t_get(T_MO "&secret=anything&id=x", &r);
	cr_assert_eq(r.code, 200);
}

Test(http, ussd_secret_is_needed_once_set)
{
	struct hc_resp	 r;

	conf->ussd_secret = strdup("u-secret");
	t_req("POST", "/ussd", T_HOST, "sessionId=s1&phoneNumber=%2B254700000001"
	    "&serviceCode=%2A384%23&text=", &r);
	cr_assert_eq(r.code, 403, "%s", r.raw);
	cr_assert_str_eq(r.body, "END forbidden: this way in needs its secret "
	    "(ussd-secret)");
	/* With it, the request goes on (no menus in this server: 404). */
	t_req("POST", "/ussd", T_HOST, "sessionId=s1&phoneNumber=%2B254700000001"
	    "&serviceCode=%2A384%23&text=&secret=u-secret", &r);
	cr_assert_eq(r.code, 404, "%s", r.raw);
	t_req("POST", "/ussd", T_HOST "X-Marketbox-Secret: u-secret\r\n",
	    "sessionId=s1&phoneNumber=%2B254700000001", &r);
	cr_assert_eq(r.code, 404, "%s", r.raw);
	/* The sms-secret is not the USSD one. */
	conf->sms_secret = strdup("s-secret");
	t_req("POST", "/ussd", T_HOST "X-Marketbox-Secret: s-secret\r\n",
	    "sessionId=s1&phoneNumber=%2B254700000001", &r);
	cr_assert_eq(r.code, 403, "%s", r.raw);
}

Test(http, requests_browsers_made_for_another_site_are_refused)
{
	char		 hdr[512];
	struct hc_resp	 r;
	static const char *const refused[] = {
		T_HOST "Origin: http://evil.example\r\n",
		T_HOST "Origin: null\r\n",
		T_HOST "Origin: http://127.0.0.1:1\r\n",
		T_HOST "Sec-Fetch-Site: cross-site\r\n",
		T_HOST "Sec-Fetch-Site: same-site\r\n",
		"Host: evil.example\r\n",
		"Host: 127.0.0.1.evil.example\r\n",
		"Host: [::1\r\n",
		"Origin: http://127.0.0.1\r\n",		/* no Host */
	};
	size_t		 i;

	for (i = 0; i < sizeof(refused) / sizeof(refused[0]); i++) {
		t_req("POST", "/sms", refused[i], "from=%2B254700000001&"
		    "text=echo+csrf", &r);
		cr_assert_eq(r.code, 403, "%s: %s", refused[i], r.raw);
		t_req("POST", "/ussd", refused[i], "sessionId=s&"
		    "phoneNumber=%2B254700000001", &r);
		cr_assert_eq(r.code, 403, "%s: %s", refused[i], r.raw);
	}
	cr_assert_eq(t_count("SELECT count(*) FROM inbox"), 0);

	/* The same origin, a name of ours, and no browser at all pass. */
	snprintf(hdr, sizeof(hdr), "Host: 127.0.0.1:%d\r\nOrigin: "
	    "http://127.0.0.1:%d\r\nSec-Fetch-Site: same-origin\r\n", port,
	    port);
	t_req("POST", "/sms", hdr, "from=%2B254700000001&text=echo+a", &r);
	cr_assert_eq(r.code, 200, "%s", r.raw);
	t_req("POST", "/sms", "Host: localhost\r\nSec-Fetch-Site: none\r\n",
	    "from=%2B254700000001&text=echo+b", &r);
	cr_assert_eq(r.code, 200, "%s", r.raw);
	t_raw("GET " T_MO "&id=c HTTP/1.0\r\n\r\n",
	    strlen("GET " T_MO "&id=c HTTP/1.0\r\n\r\n"), &r);
	cr_assert_eq(r.code, 200, "%s", r.raw);
	t_req("POST", "/sms", "Host: sms.example.org\r\n",
	    "from=%2B254700000001&text=echo+d", &r);
	cr_assert_eq(r.code, 403);
	cr_assert_not_null(conf->http_host_names.names = calloc(2,
	    sizeof(char *)));
	conf->http_host_names.names[0] = strdup("sms.example.org");
	conf->http_host_names.count = 1;
	t_req("POST", "/sms", "Host: SMS.example.org:8080\r\n",
	    "from=%2B254700000001&text=echo+d", &r);
	cr_assert_eq(r.code, 200, "%s", r.raw);
	cr_assert_eq(t_count("SELECT count(*) FROM inbox"), 4);

	/* /health is no way in. */
	t_req("GET", "/health", "Host: evil.example\r\n", "", &r);
	cr_assert_eq(r.code, 200);
}

TestSuite(http_commit, .init = setup_manual, .fini = teardown, .timeout = 30);

/* Run the loop until the inbox has taken n MOs. */
static void
t_wait_received(unsigned long long n)
{
	long long		 end = hc_now_ms() + T_DEADLINE_MS;
	unsigned long long	 got = 0, dup;

	for (;;) {
		inbox_stats(inbox, &got, &dup);
		if (got >= n)
			break;
		cr_assert_lt(hc_now_ms(), end, "the MO never reached the inbox");
		hc_pass(&hc, -1);
	}
	cr_assert_eq(got, n);
}

static const char t_sms_req[] =
    "GET /sms?from=%2B254700000001&to=777&text=echo+wait&id=w-1 HTTP/1.1\r\n"
    "Host: 127.0.0.1\r\nConnection: close\r\n\r\n";

Test(http_commit, no_answer_before_the_commit)
{
	struct hc_resp	 r;
	int		 fd = hc_connect(&hc), i;
	ssize_t		 n;
	char		 c;

	memset(&r, 0, sizeof(r));
	cr_assert_eq(hc_send(&hc, fd, t_sms_req, sizeof(t_sms_req) - 1), 0);
	t_wait_received(1);
	for (i = 0; i < 20; i++)
		hc_pass(&hc, fd);
	n = recv(fd, &c, 1, 0);
	cr_assert(n == -1 && (errno == EAGAIN || errno == EWOULDBLOCK),
	    "answered before the commit");
	cr_assert_eq(store_commit(store), 0);
	hc_receive(&hc, fd, &r);
	close(fd);
	cr_assert_eq(r.code, 200);
	cr_assert_str_eq(r.body, "You said: wait");
}

Test(http_commit, a_request_waiting_for_its_commit_is_not_cut)
{
	struct hc_resp	 r;
	int		 fd = hc_connect(&hc);

	conf->http_request_timeout = 1;
	memset(&r, 0, sizeof(r));
	cr_assert_eq(hc_send(&hc, fd, t_sms_req, sizeof(t_sms_req) - 1), 0);
	t_wait_received(1);
	t_run(1800);
	cr_assert_eq(store_commit(store), 0);
	hc_receive(&hc, fd, &r);
	close(fd);
	cr_assert_eq(r.code, 200);
	cr_assert_str_eq(r.body, "You said: wait");
}

Test(http_commit, a_client_gone_before_the_commit_is_harmless)
{
	struct hc_resp	 r;
	int		 fd = hc_connect(&hc), i;

	cr_assert_eq(hc_send(&hc, fd, t_sms_req, sizeof(t_sms_req) - 1), 0);
	t_wait_received(1);
	close(fd);
	for (i = 0; i < 20; i++)
		hc_pass(&hc, -1);
	/* The answer goes to a closed socket: libevent frees the request
	 * and its connection; nothing of ours may touch them after. */
	cr_assert_eq(store_commit(store), 0);
	for (i = 0; i < 50; i++)
		hc_pass(&hc, -1);
	cr_assert_eq(t_count("SELECT count(*) FROM inbox WHERE kannel_id = "
	    "'http:+254700000001:w-1'"), 1, "the MO is kept");

	/* A retry with the same id gets the stored reply. */
	fd = hc_connect(&hc);
	memset(&r, 0, sizeof(r));
	cr_assert_eq(hc_send(&hc, fd, t_sms_req, sizeof(t_sms_req) - 1), 0);
	t_wait_received(2);
	cr_assert_eq(store_commit(store), 0);
	hc_receive(&hc, fd, &r);
	close(fd);
	cr_assert_eq(r.code, 200);
	cr_assert_str_eq(r.body, "You said: wait");
	cr_assert_eq(t_count("SELECT count(*) FROM inbox"), 1);
}

Test(http_commit, http_free_with_an_answer_pending)
{
	struct hc_resp	 r;
	int		 fd = hc_connect(&hc);

	memset(&r, 0, sizeof(r));
	cr_assert_eq(hc_send(&hc, fd, t_sms_req, sizeof(t_sms_req) - 1), 0);
	t_wait_received(1);
	/* As daemon_stop: the server goes before the last commit. */
	http_free(http);
	http = NULL;
	cr_assert_eq(store_commit(store), 0);	/* calls back a detached one */
	hc_receive(&hc, fd, &r);
	close(fd);
	cr_assert_neq(r.code, 200, "no answer can claim success");
	cr_assert_eq(t_count("SELECT count(*) FROM inbox WHERE kannel_id = "
	    "'http:+254700000001:w-1'"), 1);
}

Test(http_commit, many_waiting_clients_some_gone)
{
	char		 req[256];
	int		 fds[8], i, n;
	struct hc_resp	 r;

	for (i = 0; i < 8; i++) {
		fds[i] = hc_connect(&hc);
		n = snprintf(req, sizeof(req), "GET /sms?from=%%2B2547000000%02d"
		    "&text=echo+m%d&id=m-%d HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close"
		    "\r\n\r\n", i, i, i);
		cr_assert_eq(hc_send(&hc, fds[i], req, (size_t)n), 0);
	}
	t_wait_received(8);
	for (i = 0; i < 8; i += 2)
		close(fds[i]);
	cr_assert_eq(store_commit(store), 0);
	for (i = 1; i < 8; i += 2) {
		memset(&r, 0, sizeof(r));
		hc_receive(&hc, fds[i], &r);
		close(fds[i]);
		cr_assert_eq(r.code, 200);
		snprintf(req, sizeof(req), "You said: m%d", i);
		cr_assert_str_eq(r.body, req);
	}
	cr_assert_eq(t_count("SELECT count(*) FROM inbox"), 8);
}

/* --- the allow-list matcher ----------------------------------------------- */

static struct conf *
t_allow(const char *const *names, size_t n)
{
	struct conf	*c;
	size_t		 i;

	cr_assert_not_null(c = calloc(1, sizeof(*c)));
	cr_assert_not_null(c->http_allow_ip.names = calloc(n + 1,
	    sizeof(char *)));
	for (i = 0; i < n; i++)
		c->http_allow_ip.names[i] = strdup(names[i]);
	c->http_allow_ip.count = n;
	return c;
}

Test(http_allow, loopback_is_always_allowed)
{
	struct conf	*c = t_allow(NULL, 0);

	cr_assert_eq(http_ip_allowed(NULL, "127.0.0.1"), 1);
	cr_assert_eq(http_ip_allowed(c, "127.0.0.1"), 1);
	cr_assert_eq(http_ip_allowed(c, "127.8.9.10"), 1);
	cr_assert_eq(http_ip_allowed(c, "::1"), 1);
	cr_assert_eq(http_ip_allowed(c, "::ffff:127.0.0.1"), 1);
	cr_assert_eq(http_ip_allowed(c, "128.0.0.1"), 0);
	cr_assert_eq(http_ip_allowed(c, "10.1.2.3"), 0);
	cr_assert_eq(http_ip_allowed(c, "::2"), 0);
	cr_assert_eq(http_ip_allowed(c, ""), 0);
	cr_assert_eq(http_ip_allowed(c, NULL), 0);
	cr_assert_eq(http_ip_allowed(NULL, "10.1.2.3"), 0);
	conf_free(c);
}

Test(http_allow, exact_addresses)
{
	static const char *const names[] = { "10.1.2.3", "2001:db8::1" };
	struct conf	*c = t_allow(names, 2);

	cr_assert_eq(http_ip_allowed(c, "10.1.2.3"), 1);
	cr_assert_eq(http_ip_allowed(c, "10.1.2.30"), 0);
	cr_assert_eq(http_ip_allowed(c, "10.1.2.4"), 0);
	cr_assert_eq(http_ip_allowed(c, "110.1.2.3"), 0);
	cr_assert_eq(http_ip_allowed(c, "2001:db8::1"), 1);
	cr_assert_eq(http_ip_allowed(c, "2001:DB8:0:0::1"), 1);
	cr_assert_eq(http_ip_allowed(c, "2001:db8::2"), 0);
	conf_free(c);
}

Test(http_allow, kannel_star_patterns)
{
	static const char *const names[] = { "10.1.*.*", "192.168.5.*" };
	struct conf	*c = t_allow(names, 2);

	cr_assert_eq(http_ip_allowed(c, "10.1.2.3"), 1);
	cr_assert_eq(http_ip_allowed(c, "10.1.255.0"), 1);
	cr_assert_eq(http_ip_allowed(c, "10.2.2.3"), 0);
	cr_assert_eq(http_ip_allowed(c, "10.10.2.3"), 0);
	cr_assert_eq(http_ip_allowed(c, "192.168.5.77"), 1);
	cr_assert_eq(http_ip_allowed(c, "192.168.6.77"), 0);
	cr_assert_eq(http_ip_allowed(c, "10.1.2"), 0);
	cr_assert_eq(http_ip_allowed(c, "10.1.2.3.4"), 0);
	cr_assert_eq(http_ip_allowed(c, "10.1.2.256"), 0);
	cr_assert_eq(http_ip_allowed(c, "10.1.x.3"), 0);
	conf_free(c);
}

Test(http_allow, malformed_patterns_match_nothing)
{
	static const char *const names[] = { "10.1.*", "10.1.**.3", "*",
	    "10.1.2.3.*", "" };
	struct conf	*c = t_allow(names, 5);

	cr_assert_eq(http_ip_allowed(c, "10.1.2.3"), 0);
	cr_assert_eq(http_ip_allowed(c, "10.1.22.3"), 0);
	conf_free(c);

	{
		static const char *const all[] = { "*.*.*.*" };

		c = t_allow(all, 1);
		cr_assert_eq(http_ip_allowed(c, "203.0.113.9"), 1);
		cr_assert_eq(http_ip_allowed(c, "2001:db8::1"), 0);
		conf_free(c);
	}
}

/* --- the sendsms link against a fake smsbox -------------------------------- */

static struct {
	struct evhttp		*evh;
	int			 port;
	int			 code;		/* what to answer */
	const char		*body;
	int			 hold;		/* keep requests unanswered */
	struct evhttp_request	*held;
	int			 requests;
	char			 uri[4096];	/* the last one */
} fake;

static void
fake_smsbox_cb(struct evhttp_request *req, void *arg)
{
	struct evbuffer	*b;

	(void)arg;
	fake.requests++;
	snprintf(fake.uri, sizeof(fake.uri), "%s", evhttp_request_get_uri(req));
	if (fake.hold && fake.held == NULL) {
		fake.held = req;
		return;
	}
	b = evbuffer_new();
	evbuffer_add_printf(b, "%s", fake.body);
	evhttp_send_reply(req, fake.code, "X", b);
	evbuffer_free(b);
}

/* A fake smsbox answering code and body, and sendsms-url pointing to it. */
static void
fake_start(int code, const char *body, int listening)
{
	char	 url[256];

	memset(&fake, 0, sizeof(fake));
	fake.port = hc_free_port();
	fake.code = code;
	fake.body = body;
	snprintf(url, sizeof(url), "http://127.0.0.1:%d/cgi-bin/sendsms?"
	    "username=u&password=p%%26q", fake.port);
	t_start(1, url);
	if (listening) {
		cr_assert_not_null(fake.evh = evhttp_new(base));
		evhttp_set_gencb(fake.evh, fake_smsbox_cb, NULL);
		cr_assert_not_null(evhttp_bind_socket_with_handle(fake.evh,
		    "127.0.0.1", (ev_uint16_t)fake.port));
	}
	cr_assert_not_null(sendsms = http_sendsms_new(base, conf, outbox));
}

static void
fake_stop(void)
{
	http_sendsms_free(sendsms);
	sendsms = NULL;
	if (fake.evh != NULL)
		evhttp_free(fake.evh);
	t_stop();
}

/* Queue a notice as a command would: in a unit of work. */
static void
t_notice(const char *to, const char *text)
{
	cr_assert_eq(store_work_begin(store), 0);
	cr_assert_eq(outbox_notify(outbox, 0, to, text), 0);
	cr_assert_eq(store_work_end(store, 1), 0);
}

/* Run the loop until the outbox rows reach the wanted counts. */
static void
t_wait_counts(long long queued, long long sending, long long accepted,
    long long buffered, long long failed)
{
	struct outbox_counts	 c;
	long long		 end = hc_now_ms() + T_DEADLINE_MS;

	for (;;) {
		cr_assert_eq(outbox_counts(outbox, &c), 0);
		if (c.queued == queued && c.sending == sending &&
		    c.accepted == accepted && c.buffered == buffered &&
		    c.failed == failed)
			return;
		cr_assert_lt(hc_now_ms(), end, "outbox stuck at queued %lld "
		    "sending %lld accepted %lld buffered %lld failed %lld",
		    c.queued, c.sending, c.accepted, c.buffered, c.failed);
		hc_pass(&hc, -1);
	}
}

/* Run the loop until the count query sql gives n. */
static void
t_wait_sql(const char *sql, long long n)
{
	long long	 end = hc_now_ms() + T_DEADLINE_MS, got;

	while ((got = t_count(sql)) != n) {
		cr_assert_lt(hc_now_ms(), end, "%s: %lld, not %lld", sql, got, n);
		hc_pass(&hc, -1);
	}
}

/* The decoded value of name in fake.uri's query. */
static const char *
fake_param(struct evkeyvalq *q, const char *name)
{
	const char	*v = evhttp_find_header(q, name);

	cr_assert_not_null(v, "no %s in %s", name, fake.uri);
	return v;
}

Test(http_sendsms, no_url_no_link)
{
	t_start(1, NULL);
	cr_assert_null(http_sendsms_new(base, conf, outbox));
	t_stop();
}

Test(http_sendsms, bad_urls_are_refused)
{
	t_start(1, "https://127.0.0.1/cgi-bin/sendsms");
	cr_assert_null(http_sendsms_new(base, conf, outbox));
	free(conf->sendsms_url);
	conf->sendsms_url = strdup("not a url");
	cr_assert_null(http_sendsms_new(base, conf, outbox));
	t_stop();
}

Test(http_sendsms, accepted_202_with_every_parameter, .timeout = 30)
{
	struct evkeyvalq	 q;
	const char		*qs;

	fake_start(202, "0: Accepted for delivery", 1);
	t_notice("+254700000009", "Maize: 3,000/= & more " CHECK);
	t_wait_counts(0, 0, 1, 0, 0);
	cr_assert_eq(fake.requests, 1);
	cr_assert_eq(strncmp(fake.uri, "/cgi-bin/sendsms?", 17), 0, "%s",
	    fake.uri);
	qs = strchr(fake.uri, '?') + 1;
	TAILQ_INIT(&q);
	cr_assert_eq(evhttp_parse_query_str(qs, &q), 0);
	cr_assert_str_eq(fake_param(&q, "username"), "u");
	cr_assert_str_eq(fake_param(&q, "password"), "p&q");
	cr_assert_str_eq(fake_param(&q, "from"), "777");
	cr_assert_str_eq(fake_param(&q, "to"), "+254700000009");
	cr_assert_str_eq(fake_param(&q, "text"), "Maize: 3,000/= & more "
	    CHECK);
	cr_assert_str_eq(fake_param(&q, "charset"), "UTF-8");
	cr_assert_str_eq(fake_param(&q, "coding"), "2");
	cr_assert_str_eq(fake_param(&q, "dlr-mask"), "31");
	cr_assert_null(evhttp_find_header(&q, "udh"));
	cr_assert_null(evhttp_find_header(&q, "smsc"));
	evhttp_clear_headers(&q);
	cr_assert_eq(t_count("SELECT count(*) FROM outbox WHERE state = "
	    "'accepted' AND receiver = '+254700000009' AND attempts = 1"), 1);
	fake_stop();
}

Test(http_sendsms, gsm_text_is_coding_0, .timeout = 30)
{
	struct evkeyvalq	 q;

	fake_start(202, "Sent.", 1);
	t_notice("+254700000009", "plain text");
	t_wait_counts(0, 0, 1, 0, 0);
	TAILQ_INIT(&q);
	cr_assert_eq(evhttp_parse_query_str(strchr(fake.uri, '?') + 1, &q), 0);
	cr_assert_str_eq(fake_param(&q, "coding"), "0");
	cr_assert_str_eq(fake_param(&q, "text"), "plain text");
	evhttp_clear_headers(&q);
	fake_stop();
}

Test(http_sendsms, queued_for_later_is_buffered, .timeout = 30)
{
	fake_start(202, "3: Queued for later delivery", 1);
	t_notice("+254700000009", "hello");
	t_wait_counts(0, 0, 0, 1, 0);
	fake_stop();
}

Test(http_sendsms, server_error_500_is_retried_later, .timeout = 30)
{
	fake_start(500, "Sending failed.", 1);
	t_notice("+254700000009", "hello");
	t_wait_sql("SELECT count(*) FROM outbox WHERE state = 'queued' AND "
	    "attempts = 1", 1);
	t_wait_counts(1, 0, 0, 0, 0);
	cr_assert_eq(fake.requests, 1);
	cr_assert_eq(t_count("SELECT count(*) FROM outbox WHERE state = "
	    "'queued' AND attempts = 1 AND next_attempt > strftime('%s','now')"
	    " + 60"), 1, "queued again, with the backoff");
	fake_stop();
}

Test(http_sendsms, client_error_400_fails, .timeout = 30)
{
	fake_start(400, "Missing receiver number", 1);
	t_notice("+254700000009", "hello");
	t_wait_counts(0, 0, 0, 0, 1);
	cr_assert_eq(fake.requests, 1);
	fake_stop();
}

Test(http_sendsms, smsbox_down_is_retried_later, .timeout = 30)
{
	fake_start(202, "Sent.", 0);
	t_notice("+254700000009", "hello");
	t_wait_sql("SELECT count(*) FROM outbox WHERE state = 'queued' AND "
	    "attempts = 1", 1);
	t_wait_counts(1, 0, 0, 0, 0);
	cr_assert_eq(t_count("SELECT count(*) FROM outbox WHERE error IS NULL"),
	    1);
	fake_stop();
}

Test(http_sendsms, at_most_ten_in_flight, .timeout = 30)
{
	long long	 end;
	int		 i;
	char		 to[32];

	fake_start(202, "Sent.", 1);
	fake.hold = 1;
	for (i = 0; i < 15; i++) {
		snprintf(to, sizeof(to), "+2547000001%02d", i);
		t_notice(to, "bulletin");
	}
	t_wait_counts(5, 10, 0, 0, 0);
	/* And it stays so while smsbox does not answer. */
	end = hc_now_ms() + 300;
	while (hc_now_ms() < end)
		hc_pass(&hc, -1);
	t_wait_counts(5, 10, 0, 0, 0);
	cr_assert_not_null(fake.held);
	fake.hold = 0;
	{
		struct evbuffer	*b = evbuffer_new();

		evbuffer_add_printf(b, "Sent.");
		evhttp_send_reply(fake.held, 202, "Accepted", b);
		evbuffer_free(b);
		fake.held = NULL;
	}
	t_wait_counts(0, 0, 15, 0, 0);
	cr_assert_eq(fake.requests, 15);
	fake_stop();
}

Test(http_sendsms, free_with_requests_in_flight, .timeout = 30)
{
	int	 i;

	fake_start(202, "Sent.", 1);
	fake.hold = 1;
	t_notice("+254700000009", "one");
	t_notice("+254700000008", "two");
	t_wait_counts(0, 2, 0, 0, 0);
	cr_assert_not_null(fake.held);
	/* The link goes: its rows are queued again, its requests dropped. */
	http_sendsms_free(sendsms);
	sendsms = NULL;
	for (i = 0; i < 20; i++)
		hc_pass(&hc, -1);
	t_wait_counts(2, 0, 0, 0, 0);
	fake.held = NULL;	/* freed with the fake's connection */
	fake_stop();
}
