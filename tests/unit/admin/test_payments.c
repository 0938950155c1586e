/*
 * test_payments.c - POST /payments/confirm through a real HTTP server on
 * 127.0.0.1 (src/admin/payments.c, src/pay/pay.c): Daraja C2B callback
 * fixtures for an exact payment, a part payment and the rest, an
 * over-payment, a payment for a closed order, an unknown reference, the
 * same TransID twice, a bad secret, a peer not allowed, a wrong currency
 * and shortcode, malformed bodies, no group = payments, the seller's
 * notice by the order's state, names with \u escapes, bad escapes and
 * Latin-1 bytes (taken, cleaned), and the order's own steps after a
 * payment (pay_order_event: closed, refund due; delivered in escrow,
 * payout due; an unpaid order, nothing); the operator's steps (POST
 * /admin/payments/match of a suspense payment, POST /admin/payouts/done
 * of a refund or payout, each refusal), escrow money that comes after
 * its order's delivery (payout due, by a payment or a match) and the
 * money of /status,
 * /status.json and /metrics.  Each checks
 * the answer, the ledger, the order's money state and the notices in the
 * outbox, read after the answer (it comes after the commit).
 *
 * On SQLite (payments) and, with MB_TEST_PG, on PostgreSQL (payments_pg):
 * the same fixtures, read through a connection of the test's own there;
 * and there a payment that meets another instance's unit closing its
 * order (the order row held, set rejected): it waits for that commit
 * and the money is refund-due, not "paid" for a closed order; a
 * seller's RECEIVED (pay_said) that meets a CANCEL so is refused, an
 * operator's match that meets a REJECT is refund-due; two
 * RECEIVED of one order at once take turns.
 */
#include "config.h"

#include <sys/types.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <criterion/criterion.h>

#include "base/gw.h"

#include <event2/event.h>

#include "admin/admin.h"
#include "base/conf.h"
#include "base/conf_int.h"
#include "http/http.h"
#include "queue/inbox.h"
#include "queue/outbox.h"
#include "plugin/plugin.h"
#include "engine/router.h"
#include "http_client.h"
#include "pay/pay.h"
#ifdef HAVE_POSTGRESQL
#include <pthread.h>
#include <libpq-fe.h>

#include "pg_fixture.h"
#endif
#include "router_fixture.h"
#include "store/store.h"

#define T_DEADLINE_MS	12000
#define T_SECRET	"0123456789abcdef"
#define T_SELLER	"+254700000001"
#define T_BUYER		"+254700000002"
#define T_ADMIN		"+254700000009"

static char			 dir[] = "/tmp/test_payments_XXXXXX";
static char			 path[256];
static int			 pg;
static struct event_base	*base;
static struct conf		*conf;
static struct store		*store;
static struct outbox		*outbox;
static struct router		*router;
static struct inbox		*inbox;
static struct plugin_set	*plugins;
static struct http		*http;
static struct admin		*admin;
static struct hc		 hc;

/* The first value of sql's first row, committed (-1: no row). */
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

/* The market plugin's orders, the columns pay.c reads: 43 and 44 of
 * 15,000 KES (accepted, pending), 45 rejected. */
static void
t_orders(void)
{
	cr_assert_eq(store_exec(store, "CREATE TABLE market_orders (ref "
	    "BIGINT PRIMARY KEY, total BIGINT NOT NULL, buyer TEXT NOT NULL, "
	    "seller TEXT NOT NULL, state TEXT NOT NULL);"
	    "INSERT INTO market_orders VALUES "
	    "(43, 1500000, '" T_BUYER "', '" T_SELLER "', 'accepted'), "
	    "(44, 1500000, '" T_BUYER "', '" T_SELLER "', 'pending'), "
	    "(45, 1500000, '" T_BUYER "', '" T_SELLER "', 'rejected')"), 0);
}

static void
t_start(const char *db, int payments)
{
	struct admin_sources	 src;

	gwlib_init();
	log_set_output_level(GW_PANIC);
	signal(SIGPIPE, SIG_IGN);
	pg = db != NULL;
	if (db == NULL) {
		cr_assert_not_null(mkdtemp(dir));
		snprintf(path, sizeof(path), "%s/mb.db", dir);
		db = path;
	}
	cr_assert_not_null(base = event_base_new());
	cr_assert_not_null(conf = calloc(1, sizeof(*conf)));
	conf->global_sender = strdup("777");
	conf->smsbox_id = strdup("marketbox");
	conf->http_interface = strdup("127.0.0.1");
	conf->country_code = strdup("254");
	conf->currency = strdup("KES");
	conf->max_parts = 3;
	conf->retry_limit = 3;
	conf->retry_delay = 600;
	conf->dlr_mask = 31;
	conf_names_split(T_ADMIN, &conf->admins);
	conf->admin_password = strdup("s3cret");
	if (payments) {
		conf->payments.on = 1;
		conf->payments.provider = strdup("daraja-c2b");
		conf->payments.business_number = strdup("512345");
		conf->payments.account_prefix = strdup("");
		conf->payments.account_suffix = strdup("");
		conf->payments.secret = strdup(T_SECRET);
	}
	conf->http_port = hc_free_port();
	hc.base = base;
	hc.port = conf->http_port;
	hc.deadline_ms = T_DEADLINE_MS;
	cr_assert_not_null(store = store_open(db, base));
	cr_assert_not_null(outbox = outbox_new(base, store, conf));
	cr_assert_not_null(router = fixture_router_new(conf, store, outbox));
	cr_assert_not_null(plugins = plugin_load(conf));
	cr_assert_not_null(inbox = fixture_inbox_new(store, router, NULL,
	    outbox));
	cr_assert_not_null(http = http_new(base, conf, store));
	t_orders();
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
	else
#endif
	{
		snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
		if (system(cmd) != 0)
			fprintf(stderr, "cannot remove %s\n", dir);
	}
	gwlib_shutdown();
}

static void setup(void) { t_start(NULL, 1); }
static void setup_off(void) { t_start(NULL, 0); }
static void teardown(void) { t_stop(); }

/* POST target with extra header lines (each ending \r\n) and a JSON
 * body, from 127.0.0.1. */
static struct hc_resp *
t_post_h(const char *target, const char *headers, const char *body)
{
	static struct hc_resp	 r;
	char			 req[16384];
	int			 n, fd;

	memset(&r, 0, sizeof(r));
	n = snprintf(req, sizeof(req), "POST %s HTTP/1.1\r\nHost: 127.0.0.1"
	    "\r\nConnection: close\r\nContent-Type: application/json\r\n"
	    "%sContent-Length: %zu\r\n\r\n%s", target, headers, strlen(body),
	    body);
	cr_assert(n > 0 && (size_t)n < sizeof(req));
	fd = hc_connect(&hc);
	cr_assert_eq(hc_send(&hc, fd, req, (size_t)n), 0, "send: %s",
	    strerror(errno));
	hc_receive(&hc, fd, &r);
	close(fd);
	return &r;
}

static struct hc_resp *
t_post(const char *target, const char *body)
{
	return t_post_h(target, "", body);
}

#define T_URL	"/payments/confirm?secret=" T_SECRET

/* The same with the payer's names as the body has them (JSON escapes
 * and all). */
static const char *
t_c2b_names(const char *trans, const char *amount, const char *ref,
    const char *first, const char *middle, const char *last)
{
	static char	 b[2048];

	snprintf(b, sizeof(b), "{\"TransactionType\": \"Pay Bill\", "
	    "\"TransID\": \"%s\", \"TransTime\": \"20261205143000\", "
	    "\"TransAmount\": \"%s\", \"BusinessShortCode\": \"512345\", "
	    "\"BillRefNumber\": \"%s\", \"MSISDN\": \"254700000002\", "
	    "\"FirstName\": \"%s\", \"MiddleName\": \"%s\", "
	    "\"LastName\": \"%s\"}", trans, amount, ref, first, middle, last);
	return b;
}

/* A Daraja C2B confirmation: TransID, TransAmount, BillRefNumber, and
 * extra fields (each starting with a comma) or "". */
static const char *
t_c2b(const char *trans, const char *amount, const char *ref,
    const char *extra)
{
	static char	 b[2048];

	snprintf(b, sizeof(b), "{\"TransactionType\": \"Pay Bill\", "
	    "\"TransID\": \"%s\", \"TransTime\": \"20261205143000\", "
	    "\"TransAmount\": \"%s\", \"BusinessShortCode\": \"512345\", "
	    "\"BillRefNumber\": \"%s\", \"InvoiceNumber\": \"\", "
	    "\"OrgAccountBalance\": \"49197.00\", \"ThirdPartyTransID\": "
	    "\"\", \"MSISDN\": \"254700000002\", \"FirstName\": \"Wanjiru\", "
	    "\"MiddleName\": \"\", \"LastName\": \"Kamau\"%s}", trans, amount,
	    ref, extra);
	return b;
}

#define assert_accepted(r) do { \
	cr_assert_eq((r)->code, 200, "%s", (r)->raw); \
	cr_assert_str_eq((r)->body, \
	    "{\"ResultCode\": 0, \"ResultDesc\": \"Accepted\"}\n"); \
} while (0)

#define assert_refused(r, status, why) do { \
	cr_assert_eq((r)->code, (status), "%s", (r)->raw); \
	cr_assert_not_null(strstr((r)->body, "\"ResultCode\": 1"), "%s", \
	    (r)->body); \
	cr_assert_not_null(strstr((r)->body, (why)), "%s", (r)->body); \
} while (0)

static long long
t_notices(const char *to, const char *like)
{
	char	 sql[1024];

	snprintf(sql, sizeof(sql), "SELECT COUNT(*) FROM outbox WHERE "
	    "receiver = '%s' AND kind = 'notice' AND text LIKE '%s'", to,
	    like);
	return t_count(sql);
}

/* --- the fixtures, for both engines ---------------------------------------- */

static void
t_exact(void)
{
	struct hc_resp	*r;

	r = t_post(T_URL, t_c2b("QBC1X2Y3Z4", "15000.00", "43", ""));
	assert_accepted(r);
	cr_assert_eq(t_count("SELECT COUNT(*) FROM payments WHERE trans_id = "
	    "'QBC1X2Y3Z4' AND kind = 'payment' AND order_ref = 43 AND amount "
	    "= 1500000 AND currency = 'KES' AND msisdn = '254700000002' AND "
	    "names = 'Wanjiru Kamau' AND trans_time = '20261205143000' AND "
	    "outcome = 'paid' AND raw LIKE '{\"TransactionType\"%'"), 1);
	cr_assert_eq(t_count("SELECT COUNT(*) FROM order_payments WHERE "
	    "order_ref = 43 AND due = 1500000 AND paid = 1500000 AND state = "
	    "'paid'"), 1);
	cr_assert_eq(t_notices(T_SELLER, "15,000 KES received for order #43 "
	    "(QBC1X2Y3Z4). Send the goods: SENT 43"), 1);
	cr_assert_eq(t_notices(T_BUYER, "Receipt: 15,000 KES paid for order "
	    "#43 (QBC1X2Y3Z4)%"), 1);
	cr_assert_eq(t_count("SELECT COUNT(*) FROM outbox"), 2);

	/* the provider retries: the same answer, no second effect */
	r = t_post(T_URL, t_c2b("QBC1X2Y3Z4", "15000.00", "43", ""));
	assert_accepted(r);
	cr_assert_eq(t_count("SELECT COUNT(*) FROM payments"), 1);
	cr_assert_eq(t_count("SELECT paid FROM order_payments WHERE "
	    "order_ref = 43"), 1500000);
	cr_assert_eq(t_count("SELECT COUNT(*) FROM outbox"), 2);
	/* ... even with another amount or order: a TransID is one payment */
	r = t_post(T_URL, t_c2b("QBC1X2Y3Z4", "500", "44", ""));
	assert_accepted(r);
	cr_assert_eq(t_count("SELECT COUNT(*) FROM payments"), 1);
	cr_assert_eq(t_count("SELECT COUNT(*) FROM order_payments"), 1);
	cr_assert_eq(t_count("SELECT COUNT(*) FROM outbox"), 2);
}

static void
t_part_then_over(void)
{
	struct hc_resp	*r;

	r = t_post(T_URL, t_c2b("QBC1PART01", "10000", "43", ""));
	assert_accepted(r);
	cr_assert_eq(t_count("SELECT COUNT(*) FROM order_payments WHERE "
	    "order_ref = 43 AND paid = 1000000 AND state = 'part'"), 1);
	cr_assert_eq(t_notices(T_SELLER, "10,000 KES received for order #43 "
	    "(QBC1PART01); 5,000 KES is still due.%"), 1);
	cr_assert_eq(t_notices(T_BUYER, "10,000 KES received for order #43 "
	    "(QBC1PART01). Still due: 5,000 KES to paybill 512345, account "
	    "43."), 1);
	/* 7,000 more: 2,000 over the price */
	r = t_post(T_URL, t_c2b("QBC1PART02", "7000.00", "43", ""));
	assert_accepted(r);
	cr_assert_eq(t_count("SELECT COUNT(*) FROM order_payments WHERE "
	    "order_ref = 43 AND paid = 1700000 AND state = 'over'"), 1);
	cr_assert_eq(t_count("SELECT COUNT(*) FROM payments WHERE order_ref "
	    "= 43 AND outcome = 'over' AND amount = 700000"), 1);
	cr_assert_eq(t_notices(T_SELLER, "7,000 KES received for order #43 "
	    "(QBC1PART02). Send the goods: SENT 43"), 1);
	cr_assert_eq(t_notices(T_BUYER, "7,000 KES received for order #43 "
	    "(QBC1PART02): 2,000 KES more than the price, kept as your "
	    "credit.%"), 1);
	cr_assert_eq(t_notices(T_ADMIN, "Payment QBC1PART02 from "
	    "254700000002: 2,000 KES over the price of order #43.%"), 1);
}

static void
t_over_closed_unknown(void)
{
	struct hc_resp	*r;

	/* over at once: the seller told to send, the credit to the admin */
	r = t_post(T_URL, t_c2b("QBC1OVER01", "15000.50", "44", ""));
	assert_accepted(r);
	cr_assert_eq(t_count("SELECT COUNT(*) FROM order_payments WHERE "
	    "order_ref = 44 AND paid = 1500050 AND state = 'over'"), 1);
	/* 44 is pending: the seller accepts before SENT is taken */
	cr_assert_eq(t_notices(T_SELLER, "15,000.50 KES received for order "
	    "#44 (QBC1OVER01). Accept it: ACCEPT 44, then send the goods."),
	    1);
	cr_assert_eq(t_notices(T_SELLER, "%SENT 44%"), 0);
	cr_assert_eq(t_notices(T_ADMIN, "%0.50 KES over the price of order "
	    "#44%"), 1);
	/* a rejected order: the money is to be refunded */
	r = t_post(T_URL, t_c2b("QBC1CLOSED", "15000", "45", ""));
	assert_accepted(r);
	cr_assert_eq(t_count("SELECT COUNT(*) FROM order_payments WHERE "
	    "order_ref = 45 AND state = 'refund-due'"), 1);
	cr_assert_eq(t_notices(T_BUYER, "%order #45 (QBC1CLOSED), but the "
	    "order is closed%"), 1);
	cr_assert_eq(t_notices(T_ADMIN, "%order #45, which is closed: a "
	    "refund is due."), 1);
	cr_assert_eq(t_notices(T_SELLER, "%#45%"), 0);
	/* no such order, and no number: suspense, the admin told */
	r = t_post(T_URL, t_c2b("QBC1UNKN01", "300", "99", ""));
	assert_accepted(r);
	r = t_post(T_URL, t_c2b("QBC1UNKN02", "300", "maize", ""));
	assert_accepted(r);
	cr_assert_eq(t_count("SELECT COUNT(*) FROM payments WHERE order_ref "
	    "IS NULL AND outcome = 'suspense'"), 2);
	cr_assert_eq(t_count("SELECT COUNT(*) FROM order_payments WHERE "
	    "order_ref = 99"), 0);
	cr_assert_eq(t_notices(T_ADMIN, "Payment QBC1UNKN02 from 254700000002: "
	    "300 KES, account ''maize'', matches no order: kept in suspense."),
	    1);
}

/* Each refusal: its answer, and nothing in the ledger or the outbox. */
static void
t_refusals(void)
{
	struct hc_resp	*r;
	char		 body[4096];

	r = t_post("/payments/confirm?secret=wrong", t_c2b("QBC1BAD001",
	    "15000", "43", ""));
	assert_refused(r, 403, "shared-secret");
	r = t_post("/payments/confirm", t_c2b("QBC1BAD002", "15000", "43",
	    ""));
	assert_refused(r, 403, "shared-secret");
	r = t_post(T_URL, t_c2b("QBC1BAD003", "15000", "43",
	    ", \"Currency\": \"UGX\""));
	assert_refused(r, 400, "Currency");
	snprintf(body, sizeof(body), "%s", t_c2b("QBC1BAD004", "15000", "43",
	    ""));
	memcpy(strstr(body, "512345"), "999999", 6);
	r = t_post(T_URL, body);
	assert_refused(r, 400, "BusinessShortCode");
	r = t_post(T_URL, "{\"TransID\": \"QBC1BAD005\", \"TransAmount\": ");
	assert_refused(r, 400, "not a JSON object");
	r = t_post(T_URL, "TransID=QBC1BAD006&TransAmount=15000");
	assert_refused(r, 400, "not a JSON object");
	r = t_post(T_URL, "[1, 2]");
	assert_refused(r, 400, "not a JSON object");
	r = t_post(T_URL, t_c2b("QBC1BAD007", "-5", "43", ""));
	assert_refused(r, 400, "TransAmount");
	r = t_post(T_URL, t_c2b("QBC1BAD008", "15000.001", "43", ""));
	assert_refused(r, 400, "TransAmount");
	r = t_post(T_URL, t_c2b("QBC1 BAD", "15000", "43", ""));
	assert_refused(r, 400, "TransID");
	cr_assert_eq(t_count("SELECT COUNT(*) FROM payments"), 0);
	cr_assert_eq(t_count("SELECT COUNT(*) FROM order_payments"), 0);
	cr_assert_eq(t_count("SELECT COUNT(*) FROM outbox"), 0);
	/* the secret in the header X-Marketbox-Secret: a wrong one refused,
	   the right one taken */
	r = t_post_h("/payments/confirm", "X-Marketbox-Secret: nope\r\n",
	    t_c2b("QBC1HDR001", "15000", "43", ""));
	assert_refused(r, 403, "shared-secret");
	r = t_post_h("/payments/confirm", "X-Marketbox-Secret: " T_SECRET
	    "\r\n", t_c2b("QBC1HDR002", "15000", "43", ""));
	assert_accepted(r);
	cr_assert_eq(t_count("SELECT COUNT(*) FROM payments"), 1);
}

#define T_VALIDATE	"/payments/validate?secret=" T_SECRET
#define T_OK		"{\"ResultCode\": 0, \"ResultDesc\": \"Accepted\"}\n"
#define T_NO_ACCOUNT	"{\"ResultCode\": \"C2B00012\", \"ResultDesc\": " \
			"\"Rejected\"}\n"
#define T_NO_AMOUNT	"{\"ResultCode\": \"C2B00013\", \"ResultDesc\": " \
			"\"Rejected\"}\n"

/* Validation: open unpaid or part-paid orders, up to what is due. */
static void
t_validate(void)
{
	struct hc_resp	*r;

	r = t_post(T_VALIDATE, t_c2b("QBC1VAL001", "15000", "43", ""));
	cr_assert_eq(r->code, 200, "%s", r->raw);
	cr_assert_str_eq(r->body, T_OK);
	r = t_post(T_VALIDATE, t_c2b("QBC1VAL002", "15000.01", "43", ""));
	cr_assert_str_eq(r->body, T_NO_AMOUNT);
	r = t_post(T_VALIDATE, t_c2b("QBC1VAL003", "100", "99", ""));
	cr_assert_str_eq(r->body, T_NO_ACCOUNT);
	r = t_post(T_VALIDATE, t_c2b("QBC1VAL004", "100", "45", ""));
	cr_assert_str_eq(r->body, T_NO_ACCOUNT, "a rejected order");
	/* nothing was kept of them */
	cr_assert_eq(t_count("SELECT COUNT(*) FROM payments"), 0);
	cr_assert_eq(t_count("SELECT COUNT(*) FROM order_payments"), 0);
	/* part paid: the rest, not more; paid: nothing more */
	r = t_post(T_URL, t_c2b("QBC1VAL005", "10000", "43", ""));
	assert_accepted(r);
	r = t_post(T_VALIDATE, t_c2b("QBC1VAL006", "5000", "43", ""));
	cr_assert_str_eq(r->body, T_OK);
	r = t_post(T_VALIDATE, t_c2b("QBC1VAL007", "5001", "43", ""));
	cr_assert_str_eq(r->body, T_NO_AMOUNT);
	r = t_post(T_URL, t_c2b("QBC1VAL008", "5000", "43", ""));
	assert_accepted(r);
	r = t_post(T_VALIDATE, t_c2b("QBC1VAL009", "1", "43", ""));
	cr_assert_str_eq(r->body, T_NO_ACCOUNT, "a paid order");
	/* its checks are confirm's */
	r = t_post("/payments/validate?secret=nope", t_c2b("QBC1VAL010", "1",
	    "44", ""));
	assert_refused(r, 403, "shared-secret");
	cr_assert_eq(t_count("SELECT COUNT(*) FROM payments"), 2);
}

/*
 * The seller's notice by the order's state: accepted, SENT; pending,
 * ACCEPT first; sent or delivered, no step at all.
 */
static void
t_seller_by_state(void)
{
	struct hc_resp	*r;

	cr_assert_eq(store_exec(store, "INSERT INTO market_orders VALUES "
	    "(46, 1500000, '" T_BUYER "', '" T_SELLER "', 'sent'), "
	    "(47, 1500000, '" T_BUYER "', '" T_SELLER "', 'delivered')"), 0);
	r = t_post(T_URL, t_c2b("QBC1STATE1", "15000", "44", ""));
	assert_accepted(r);
	cr_assert_eq(t_notices(T_SELLER, "15,000 KES received for order #44 "
	    "(QBC1STATE1). Accept it: ACCEPT 44, then send the goods."), 1);
	r = t_post(T_URL, t_c2b("QBC1STATE2", "15000", "46", ""));
	assert_accepted(r);
	r = t_post(T_URL, t_c2b("QBC1STATE3", "15000", "47", ""));
	assert_accepted(r);
	cr_assert_eq(t_notices(T_SELLER, "15,000 KES received for order #46 "
	    "(QBC1STATE2). The order is paid."), 1);
	cr_assert_eq(t_notices(T_SELLER, "15,000 KES received for order #47 "
	    "(QBC1STATE3). The order is paid."), 1);
	cr_assert_eq(t_notices(T_SELLER, "%SENT%"), 0);
	cr_assert_eq(t_notices(T_SELLER, "%ACCEPT 46%"), 0);
}

/*
 * Names as JSON writes them: \uXXXX and a surrogate pair decoded into
 * UTF-8; a bad escape, a lone surrogate or a Latin-1 byte (no UTF-8)
 * never refuse the payment: the names keep U+FFFD for it, the raw body
 * the byte as \xNN, on both engines.
 */
static void
t_names(void)
{
	struct hc_resp	*r;

	r = t_post(T_URL, t_c2b_names("QBC1NAME01", "15000", "43",
	    "Wanjir\\u0169", "", "Kamau"));
	assert_accepted(r);
	cr_assert_eq(t_count("SELECT COUNT(*) FROM payments WHERE trans_id = "
	    "'QBC1NAME01' AND names = 'Wanjir\xc5\xa9 Kamau' AND outcome = "
	    "'paid'"), 1);
	cr_assert_eq(t_count("SELECT COUNT(*) FROM order_payments WHERE "
	    "order_ref = 43 AND state = 'paid'"), 1);

	/* a surrogate pair (U+1F33D), a lone one, an escape JSON lacks */
	r = t_post(T_URL, t_c2b_names("QBC1NAME02", "100", "44",
	    "\\ud83c\\udf3dMaize", "\\ud800x", "Ka\\qmau"));
	assert_accepted(r);
	cr_assert_eq(t_count("SELECT COUNT(*) FROM payments WHERE trans_id = "
	    "'QBC1NAME02' AND names = '\xf0\x9f\x8c\xbdMaize \xef\xbf\xbdx "
	    "Ka\xef\xbf\xbdmau' AND order_ref = 44 AND outcome = 'part'"), 1);

	/* Latin-1: a byte of no UTF-8 sequence (and a control byte) */
	r = t_post(T_URL, t_c2b_names("QBC1NAME03", "100", "44", "Ren\xe9",
	    "", "Kamau\x01"));
	assert_accepted(r);
	cr_assert_eq(t_count("SELECT COUNT(*) FROM payments WHERE trans_id = "
	    "'QBC1NAME03' AND names = 'Ren\xef\xbf\xbd Kamau\xef\xbf\xbd' AND "
	    "raw LIKE '%\"Ren\\xE9\"%' ESCAPE '!' AND outcome = 'part'"), 1);
	cr_assert_eq(t_count("SELECT paid FROM order_payments WHERE "
	    "order_ref = 44"), 20000);
	/* the retry of it: seen, no second effect */
	r = t_post(T_URL, t_c2b_names("QBC1NAME03", "100", "44", "Ren\xe9",
	    "", "Kamau\x01"));
	assert_accepted(r);
	cr_assert_eq(t_count("SELECT COUNT(*) FROM payments"), 3);
	cr_assert_eq(t_count("SELECT paid FROM order_payments WHERE "
	    "order_ref = 44"), 20000);
	/* a TransID that is no TransID once decoded is still refused */
	r = t_post(T_URL, t_c2b("QBC1\\u00e9", "100", "44", ""));
	assert_refused(r, 400, "TransID");
	cr_assert_eq(t_count("SELECT COUNT(*) FROM payments"), 3);
}

/* The order's own steps (pay_order_event, as the host's pay_event runs
   it): notices sent as a plugin's are. */
static int
t_notify(void *arg, const char *msisdn, const char *tmpl,
    const struct mb_arg *args, size_t nargs)
{
	return router_notify(arg, msisdn, tmpl, args, nargs);
}

/* Order ref moved to state by its plugin, with its money event. */
static void
t_order_step(long long ref, const char *state, enum pay_event ev)
{
	char	 sql[256];

	cr_assert_eq(store_work_begin(store), 0);
	snprintf(sql, sizeof(sql), "UPDATE market_orders SET state = '%s' "
	    "WHERE ref = %lld", state, ref);
	cr_assert_eq(store_exec(store, sql), 0);
	cr_assert_eq(pay_order_event(store, conf, ref, ev, t_notify, router),
	    0);
	cr_assert_eq(store_work_end(store, 1), 0);
	/* group commit: now, for the reads of the test's own connection */
	cr_assert_eq(store_commit(store), 0);
}

/*
 * A paid order then rejected: refund due, the buyer and the admins told;
 * an unpaid one closing: nothing; delivered, direct: the money stays
 * paid; in escrow: payout due, the admins told.
 */
static void
t_order_events(void)
{
	struct hc_resp	*r;

	r = t_post(T_URL, t_c2b("QBC1EVT001", "15000", "43", ""));
	assert_accepted(r);
	cr_assert_eq(t_count("SELECT COUNT(*) FROM outbox"), 2);
	t_order_step(43, "rejected", PAY_EV_CLOSED);
	cr_assert_eq(t_count("SELECT COUNT(*) FROM order_payments WHERE "
	    "order_ref = 43 AND paid = 1500000 AND state = 'refund-due'"), 1);
	cr_assert_eq(t_notices(T_BUYER, "Order #43 is closed: the 15,000 KES "
	    "you paid is to be refunded. The operator is told."), 1);
	cr_assert_eq(t_notices(T_ADMIN, "Order #43 closed with 15,000 KES "
	    "paid by " T_BUYER ": a refund is due."), 1);
	cr_assert_eq(t_count("SELECT COUNT(*) FROM outbox"), 4);
	/* the ledger is the payments', unchanged */
	cr_assert_eq(t_count("SELECT COUNT(*) FROM payments"), 1);

	/* an unpaid order closing: no money state, nobody told */
	t_order_step(44, "expired", PAY_EV_CLOSED);
	cr_assert_eq(t_count("SELECT COUNT(*) FROM order_payments WHERE "
	    "order_ref = 44"), 0);
	cr_assert_eq(t_count("SELECT COUNT(*) FROM outbox"), 4);

	/* delivered in direct mode: the seller was paid by the buyer */
	cr_assert_eq(store_exec(store, "INSERT INTO market_orders VALUES "
	    "(48, 1500000, '" T_BUYER "', '" T_SELLER "', 'sent'), "
	    "(49, 1500000, '" T_BUYER "', '" T_SELLER "', 'sent')"), 0);
	r = t_post(T_URL, t_c2b("QBC1EVT002", "15000", "48", ""));
	assert_accepted(r);
	t_order_step(48, "delivered", PAY_EV_DELIVERED);
	cr_assert_eq(t_count("SELECT COUNT(*) FROM order_payments WHERE "
	    "order_ref = 48 AND state = 'paid'"), 1);
	cr_assert_eq(t_notices(T_ADMIN, "%payout%"), 0);

	/* escrow: the operator holds it, and pays the seller out */
	conf->payments.escrow = 1;
	r = t_post(T_URL, t_c2b("QBC1EVT003", "15000", "49", ""));
	assert_accepted(r);
	t_order_step(49, "delivered", PAY_EV_DELIVERED);
	cr_assert_eq(t_count("SELECT COUNT(*) FROM order_payments WHERE "
	    "order_ref = 49 AND state = 'payout-due'"), 1);
	cr_assert_eq(t_notices(T_ADMIN, "Order #49 delivered: pay the seller "
	    T_SELLER " 15,000 KES (payout due)."), 1);
	cr_assert_eq(t_notices(T_BUYER, "%#49%refunded%"), 0);
}

/* --- the operator's steps: match, payouts done; /status's money ------------- */

/* A request as marketctl sends it: Basic auth (marketctl:s3cret, or
 * none when auth is 0), the admin header, a form or no body. */
static struct hc_resp *
t_admin(const char *method, const char *target, const char *form,
    int auth)
{
	static struct hc_resp	 r;
	char			 req[4096];
	int			 n, fd;

	memset(&r, 0, sizeof(r));
	n = snprintf(req, sizeof(req), "%s %s HTTP/1.1\r\nHost: 127.0.0.1\r\n"
	    "Connection: close\r\n%sX-Marketbox-Admin: 1\r\n%s"
	    "Content-Length: %zu\r\n\r\n%s", method, target, auth ?
	    "Authorization: Basic bWFya2V0Y3RsOnMzY3JldA==\r\n" : "",
	    form != NULL ? "Content-Type: application/x-www-form-urlencoded"
	    "\r\n" : "", form != NULL ? strlen(form) : 0, form != NULL ?
	    form : "");
	cr_assert(n > 0 && (size_t)n < sizeof(req));
	fd = hc_connect(&hc);
	cr_assert_eq(hc_send(&hc, fd, req, (size_t)n), 0, "send: %s",
	    strerror(errno));
	hc_receive(&hc, fd, &r);
	close(fd);
	return &r;
}

#define assert_admin_refused(r, status, why) do { \
	cr_assert_eq((r)->code, (status), "%s", (r)->raw); \
	cr_assert_not_null(strstr((r)->body, (why)), "%s", (r)->body); \
} while (0)

/*
 * A payment in suspense matched to its order: the match row, the order's
 * money and the parties' notices as a confirmation naming it would have
 * made; the ledger row unchanged.  Every refusal changes nothing.
 */
static void
t_match(void)
{
	struct hc_resp	*r;

	r = t_post(T_URL, t_c2b("QBC1SUS001", "15000", "999", ""));
	assert_accepted(r);
	r = t_post(T_URL, t_c2b("QBC1SUS002", "500", "nothing", ""));
	assert_accepted(r);
	r = t_post(T_URL, t_c2b("QBC1DIR001", "200", "44", ""));
	assert_accepted(r);
	cr_assert_eq(t_count("SELECT COUNT(*) FROM outbox"), 4);

	/* no password: the server's refusal, nothing done */
	r = t_admin("POST", "/admin/payments/match", "trans=QBC1SUS001&"
	    "order=43", 0);
	cr_assert_eq(r->code, 401, "%s", r->raw);
	cr_assert_eq(t_count("SELECT COUNT(*) FROM payment_matches"), 0);

	r = t_admin("POST", "/admin/payments/match", "trans=QBC1SUS001&"
	    "order=43", 1);
	cr_assert_eq(r->code, 200, "%s", r->raw);
	cr_assert_not_null(strstr(r->body, "\"order\": 43"), "%s", r->body);
	cr_assert_not_null(strstr(r->body, "\"state\": \"paid\""), "%s",
	    r->body);
	cr_assert_eq(t_count("SELECT COUNT(*) FROM payment_matches WHERE "
	    "trans_id = 'QBC1SUS001' AND order_ref = 43 AND matched_by LIKE "
	    "'operator%'"), 1);
	cr_assert_eq(t_count("SELECT COUNT(*) FROM order_payments WHERE "
	    "order_ref = 43 AND paid = 1500000 AND state = 'paid'"), 1);
	/* append-only: the ledger row is as it came */
	cr_assert_eq(t_count("SELECT COUNT(*) FROM payments WHERE trans_id = "
	    "'QBC1SUS001' AND order_ref IS NULL AND outcome = 'suspense'"), 1);
	cr_assert_eq(t_notices(T_SELLER, "15,000 KES received for order #43 "
	    "(QBC1SUS001). Send the goods: SENT 43"), 1);
	cr_assert_eq(t_notices(T_BUYER, "Receipt: 15,000 KES paid for order "
	    "#43 (QBC1SUS001)%"), 1);
	cr_assert_eq(t_count("SELECT COUNT(*) FROM outbox"), 6);

	/* matched before */
	r = t_admin("POST", "/admin/payments/match", "trans=QBC1SUS001&"
	    "order=44", 1);
	assert_admin_refused(r, 409, "matched before, to order #43");
	/* unknown TransID */
	r = t_admin("POST", "/admin/payments/match", "trans=QBC1NONE01&"
	    "order=43", 1);
	assert_admin_refused(r, 404, "no payment QBC1NONE01");
	/* unknown order */
	r = t_admin("POST", "/admin/payments/match", "trans=QBC1SUS002&"
	    "order=77", 1);
	assert_admin_refused(r, 404, "no order #77");
	/* not in suspense: it found its order */
	r = t_admin("POST", "/admin/payments/match", "trans=QBC1DIR001&"
	    "order=43", 1);
	assert_admin_refused(r, 409, "not a payment in suspense");
	/* bad words */
	r = t_admin("POST", "/admin/payments/match", "trans=QBC1SUS002&"
	    "order=4x", 1);
	assert_admin_refused(r, 400, "order must be");
	r = t_admin("POST", "/admin/payments/match", "trans=QBC+1&order=43",
	    1);
	assert_admin_refused(r, 400, "trans must be");
	cr_assert_eq(t_count("SELECT COUNT(*) FROM payment_matches"), 1);
	cr_assert_eq(t_count("SELECT paid FROM order_payments WHERE "
	    "order_ref = 44"), 20000);
	cr_assert_eq(t_count("SELECT COUNT(*) FROM order_payments WHERE "
	    "order_ref = 77"), 0);
	cr_assert_eq(t_count("SELECT COUNT(*) FROM outbox"), 6);

	/* a match to a closed order: refund due, as a payment would */
	r = t_admin("POST", "/admin/payments/match", "trans=QBC1SUS002&"
	    "order=45", 1);
	cr_assert_eq(r->code, 200, "%s", r->raw);
	cr_assert_eq(t_count("SELECT COUNT(*) FROM order_payments WHERE "
	    "order_ref = 45 AND paid = 50000 AND state = 'refund-due'"), 1);
	cr_assert_eq(t_notices(T_ADMIN, "Payment QBC1SUS002 from "
	    "254700000002: 500 KES for order #45, which is closed: a refund "
	    "is due."), 1);
}

/*
 * Escrow, an order delivered before its money came (cash promised, paid
 * late; or a payment in suspense matched after the delivery): the
 * money meets the delivery as if it had come first.  Payout-due, the
 * admins told to pay the seller, the seller told the order is paid (no
 * step: the goods left), the buyer a receipt; and the operator's match
 * of a suspense payment to such an order the same.
 */
static void
t_delivered_then_paid(void)
{
	struct hc_resp	*r;

	conf->payments.escrow = 1;
	cr_assert_eq(store_exec(store, "INSERT INTO market_orders VALUES "
	    "(51, 1500000, '" T_BUYER "', '" T_SELLER "', 'delivered'), "
	    "(52, 700000, '" T_BUYER "', '" T_SELLER "', 'delivered')"), 0);
	r = t_post(T_URL, t_c2b("QBC1LATE01", "15000", "51", ""));
	assert_accepted(r);
	cr_assert_eq(t_count("SELECT COUNT(*) FROM order_payments WHERE "
	    "order_ref = 51 AND paid = 1500000 AND state = 'payout-due'"), 1);
	cr_assert_eq(t_count("SELECT COUNT(*) FROM payments WHERE trans_id = "
	    "'QBC1LATE01' AND order_ref = 51 AND outcome = 'payout-due'"), 1);
	cr_assert_eq(t_notices(T_ADMIN, "Order #51 delivered: pay the seller "
	    T_SELLER " 15,000 KES (payout due)."), 1);
	cr_assert_eq(t_notices(T_SELLER, "15,000 KES received for order #51 "
	    "(QBC1LATE01). The order is paid."), 1);
	cr_assert_eq(t_notices(T_BUYER, "Receipt: 15,000 KES paid for order "
	    "#51 (QBC1LATE01)%"), 1);
	cr_assert_eq(t_notices(T_BUYER, "%refund%"), 0);
	cr_assert_eq(t_count("SELECT COUNT(*) FROM outbox"), 3);

	/* the operator's match of a suspense payment to one: the same */
	r = t_post(T_URL, t_c2b("QBC1LATE02", "7000", "none", ""));
	assert_accepted(r);
	r = t_admin("POST", "/admin/payments/match", "trans=QBC1LATE02&"
	    "order=52", 1);
	cr_assert_eq(r->code, 200, "%s", r->raw);
	cr_assert_not_null(strstr(r->body, "\"state\": \"payout-due\""),
	    "%s", r->body);
	cr_assert_eq(t_count("SELECT COUNT(*) FROM order_payments WHERE "
	    "order_ref = 52 AND paid = 700000 AND state = 'payout-due'"), 1);
	cr_assert_eq(t_notices(T_ADMIN, "Order #52 delivered: pay the seller "
	    T_SELLER " 7,000 KES (payout due)."), 1);

	/* direct: the buyer paid the seller, nothing is owed by anyone */
	conf->payments.escrow = 0;
	cr_assert_eq(store_exec(store, "INSERT INTO market_orders VALUES "
	    "(53, 1500000, '" T_BUYER "', '" T_SELLER "', 'delivered')"), 0);
	r = t_post(T_URL, t_c2b("QBC1LATE03", "15000", "53", ""));
	assert_accepted(r);
	cr_assert_eq(t_count("SELECT COUNT(*) FROM order_payments WHERE "
	    "order_ref = 53 AND state = 'paid'"), 1);
	cr_assert_eq(t_notices(T_ADMIN, "%#53%"), 0);
}

/*
 * What the operator sends: a refund of a closed order, a payout of an
 * escrow order delivered; each recorded once in the ledger, the state
 * moved, the recipient told; every refusal changes nothing.
 */
static void
t_payouts(void)
{
	struct hc_resp	*r;

	conf->payments.escrow = 1;
	cr_assert_eq(store_exec(store, "INSERT INTO market_orders VALUES "
	    "(49, 1500000, '" T_BUYER "', '" T_SELLER "', 'sent'), "
	    "(50, 700000, '" T_BUYER "', '" T_SELLER "', 'rejected')"), 0);
	r = t_post(T_URL, t_c2b("QBC1REF001", "15000", "45", ""));
	assert_accepted(r);
	r = t_post(T_URL, t_c2b("QBC1REF002", "7000", "50", ""));
	assert_accepted(r);
	r = t_post(T_URL, t_c2b("QBC1PAY001", "15000", "49", ""));
	assert_accepted(r);
	r = t_post(T_URL, t_c2b("QBC1OPEN01", "100", "43", ""));
	assert_accepted(r);
	r = t_post(T_URL, t_c2b("QBC1SUS009", "100", "none", ""));
	assert_accepted(r);
	t_order_step(49, "delivered", PAY_EV_DELIVERED);
	cr_assert_eq(t_count("SELECT COUNT(*) FROM order_payments WHERE "
	    "state IN ('refund-due', 'payout-due')"), 3);

	/* /status's money, before */
	r = t_admin("GET", "/status.json", NULL, 1);
	cr_assert_eq(r->code, 200, "%s", r->raw);
	cr_assert_not_null(strstr(r->body, "\"money\": {\"received\": "
	    "{\"count\": 5, \"amount\": 3720000}, \"suspense\": {\"count\": 1, "
	    "\"amount\": 10000}, \"refunds_due\": {\"count\": 2, \"amount\": "
	    "2200000}, \"payouts_due\": {\"count\": 1, \"amount\": 1500000}}"),
	    "%s", r->body);
	r = t_admin("GET", "/metrics", NULL, 1);
	cr_assert_not_null(strstr(r->body, "\nmarketbox_refunds_due 2\n"),
	    "%s", r->body);
	cr_assert_not_null(strstr(r->body, "\nmarketbox_payouts_due_amount "
	    "1500000\n"), "%s", r->body);
	r = t_admin("GET", "/status", NULL, 1);
	cr_assert_not_null(strstr(r->body, "data-k=\"money.refunds_due.count"
	    "\">2<"), "%s", r->body);
	cr_assert_not_null(strstr(r->body, "data-k=\"money.received.amount"
	    "\">37200<"), "%s", r->body);

	/* the refund, by its payment's TransID */
	r = t_admin("POST", "/admin/payouts/done", "trans=QBC1REF001", 1);
	cr_assert_eq(r->code, 200, "%s", r->raw);
	cr_assert_not_null(strstr(r->body, "\"kind\": \"refund\""), "%s",
	    r->body);
	cr_assert_eq(t_count("SELECT COUNT(*) FROM payments WHERE trans_id = "
	    "'refund-QBC1REF001' AND kind = 'refund' AND order_ref = 45 AND "
	    "amount = 1500000 AND msisdn = '" T_BUYER "' AND said_by = "
	    "'operator' AND outcome = 'refunded'"), 1);
	cr_assert_eq(t_count("SELECT COUNT(*) FROM order_payments WHERE "
	    "order_ref = 45 AND state = 'refunded'"), 1);
	cr_assert_eq(t_notices(T_BUYER, "Refund sent: 15,000 KES for order "
	    "#45, your payment QBC1REF001. Reference refund-QBC1REF001."), 1);
	/* the same again: nothing is due any more */
	r = t_admin("POST", "/admin/payouts/done", "trans=QBC1REF001", 1);
	assert_admin_refused(r, 409, "owes no refund, payout nor credit "
	    "(its money is refunded");

	/* the payout, with the transfer's own reference */
	r = t_admin("POST", "/admin/payouts/done", "trans=QBC1PAY001&"
	    "ref=B2C-0001", 1);
	cr_assert_eq(r->code, 200, "%s", r->raw);
	cr_assert_eq(t_count("SELECT COUNT(*) FROM payments WHERE trans_id = "
	    "'B2C-0001' AND kind = 'payout' AND order_ref = 49 AND amount = "
	    "1500000 AND msisdn = '" T_SELLER "' AND said_by = 'operator'"),
	    1);
	cr_assert_eq(t_count("SELECT COUNT(*) FROM order_payments WHERE "
	    "order_ref = 49 AND state = 'paid-out'"), 1);
	cr_assert_eq(t_notices(T_SELLER, "Payout sent: 15,000 KES for order "
	    "#49. Reference B2C-0001."), 1);

	/* refusals: a reference used, no such payment, one in suspense,
	   an order that owes nothing, a bad reference */
	r = t_admin("POST", "/admin/payouts/done", "trans=QBC1REF002&"
	    "ref=B2C-0001", 1);
	assert_admin_refused(r, 409, "in the ledger already");
	r = t_admin("POST", "/admin/payouts/done", "trans=QBC1NONE02", 1);
	assert_admin_refused(r, 404, "no payment QBC1NONE02");
	r = t_admin("POST", "/admin/payouts/done", "trans=QBC1SUS009", 1);
	assert_admin_refused(r, 404, "match it first");
	r = t_admin("POST", "/admin/payouts/done", "trans=QBC1OPEN01", 1);
	assert_admin_refused(r, 409, "owes no refund, payout nor credit "
	    "(its money is part");
	r = t_admin("POST", "/admin/payouts/done", "trans=QBC1REF002&"
	    "ref=a%20b", 1);
	assert_admin_refused(r, 400, "ref must be");
	r = t_admin("POST", "/admin/payouts/done", "trans=QBC1REF002&"
	    "ref=B2C012345678901234567890123456789", 1);	/* 33: too long */
	assert_admin_refused(r, 400, "ref must be 1 to 32");
	/* a refund's row is not a payment: its TransID passes the word
	   check (a ledger's TransID may have '-') and meets the ledger's
	   kind = 'payment' */
	r = t_admin("POST", "/admin/payouts/done", "trans=B2C-0001", 1);
	assert_admin_refused(r, 404, "no payment B2C-0001");
	r = t_admin("POST", "/admin/payouts/done", "trans=refund-QBC1REF001",
	    1);
	assert_admin_refused(r, 404, "no payment refund-QBC1REF001");
	r = t_admin("POST", "/admin/payouts/done", "trans=QBC1%2B1", 1);
	assert_admin_refused(r, 400, "trans must be");
	cr_assert_eq(t_count("SELECT COUNT(*) FROM order_payments WHERE "
	    "order_ref = 50 AND state = 'refund-due'"), 1);
	cr_assert_eq(t_count("SELECT COUNT(*) FROM payments WHERE kind <> "
	    "'payment'"), 2);

	/* a suspense payment for an order paid out is refused by its
	   money state: nothing kept */
	r = t_admin("POST", "/admin/payments/match", "trans=QBC1SUS009&"
	    "order=49", 1);
	assert_admin_refused(r, 409, "money is paid-out: it takes no "
	    "payment");
	cr_assert_eq(t_count("SELECT COUNT(*) FROM payment_matches"), 0);
	cr_assert_eq(t_count("SELECT paid FROM order_payments WHERE "
	    "order_ref = 49"), 1500000);

	/* the rest by its default reference; /status after */
	r = t_admin("POST", "/admin/payouts/done", "trans=QBC1REF002", 1);
	cr_assert_eq(r->code, 200, "%s", r->raw);
	r = t_admin("GET", "/status.json", NULL, 1);
	cr_assert_not_null(strstr(r->body, "\"refunds_due\": {\"count\": 0, "
	    "\"amount\": 0}, \"payouts_due\": {\"count\": 0, \"amount\": 0}"),
	    "%s", r->body);
}

/* What a seller says of order ref (pay_said, as the market plugin's
   RECEIVED runs it), in its own unit. */
static void
t_received(long long ref)
{
	enum pay_state	 state;
	long long	 amount = 0;

	cr_assert_eq(store_work_begin(store), 0);
	cr_assert_eq(pay_said(store, conf, ref, PAY_SAID_RECEIVED, T_SELLER,
	    NULL, t_notify, router, &amount, &state), PAY_SAID_TAKEN);
	cr_assert_eq(store_work_end(store, 1), 0);
	cr_assert_eq(store_commit(store), 0);
}

/*
 * A second refund is what came since the first, not all that was ever
 * paid: in the ledger, /status and the hook's amount.
 */
static void
t_second_refund(void)
{
	struct hc_resp	*r;

	r = t_post(T_URL, t_c2b("QBC1AGN001", "15000", "45", ""));
	assert_accepted(r);
	r = t_admin("POST", "/admin/payouts/done", "trans=QBC1AGN001", 1);
	cr_assert_eq(r->code, 200, "%s", r->raw);
	cr_assert_eq(t_count("SELECT COUNT(*) FROM order_payments WHERE "
	    "order_ref = 45 AND state = 'refunded'"), 1);
	r = t_post(T_URL, t_c2b("QBC1AGN002", "5000", "45", ""));
	assert_accepted(r);
	cr_assert_eq(t_count("SELECT COUNT(*) FROM order_payments WHERE "
	    "order_ref = 45 AND paid = 2000000 AND state = 'refund-due'"), 1);
	r = t_admin("GET", "/status.json", NULL, 1);
	cr_assert_not_null(strstr(r->body, "\"refunds_due\": {\"count\": 1, "
	    "\"amount\": 500000}"), "%s", r->body);
	r = t_admin("GET", "/metrics", NULL, 1);
	cr_assert_not_null(strstr(r->body, "\nmarketbox_refunds_due_amount "
	    "500000\n"), "%s", r->body);
	r = t_admin("POST", "/admin/payouts/done", "trans=QBC1AGN002", 1);
	cr_assert_eq(r->code, 200, "%s", r->raw);
	cr_assert_not_null(strstr(r->body, "\"amount\": \"5000\""), "%s",
	    r->body);
	cr_assert_eq(t_count("SELECT COUNT(*) FROM payments WHERE trans_id = "
	    "'refund-QBC1AGN002' AND kind = 'refund' AND amount = 500000"), 1);
	cr_assert_eq(t_notices(T_BUYER, "Refund sent: 5,000 KES for order "
	    "#45%"), 1);
	/* the operator holds nothing more: nothing to do again */
	r = t_admin("POST", "/admin/payouts/done", "trans=QBC1AGN001", 1);
	assert_admin_refused(r, 409, "owes no refund");
	r = t_admin("GET", "/status.json", NULL, 1);
	cr_assert_not_null(strstr(r->body, "\"refunds_due\": {\"count\": 0, "
	    "\"amount\": 0}"), "%s", r->body);
}

/*
 * Money the seller says she took is not the operator's: escrow,
 * RECEIVED then DELIVERED stays paid (no payout); RECEIVED then CANCEL
 * stays paid, the admins told the seller holds it; part by the provider
 * and the rest by the seller: the payout is the provider's part, and a
 * RECEIVED-... TransID names it to payouts done.  /status's received
 * counts the provider's money only.
 */
static void
t_seller_said(void)
{
	struct hc_resp	*r;

	conf->payments.escrow = 1;
	cr_assert_eq(store_exec(store, "INSERT INTO market_orders VALUES "
	    "(48, 1500000, '" T_BUYER "', '" T_SELLER "', 'accepted')"), 0);
	t_received(43);				/* claim 1 */
	cr_assert_eq(t_count("SELECT COUNT(*) FROM payments WHERE trans_id = "
	    "'RECEIVED-43-1' AND said_by = '" T_SELLER "'"), 1);
	t_order_step(43, "delivered", PAY_EV_DELIVERED);
	cr_assert_eq(t_count("SELECT COUNT(*) FROM order_payments WHERE "
	    "order_ref = 43 AND state = 'paid'"), 1);
	cr_assert_eq(t_notices(T_ADMIN, "%payout%"), 0);

	t_received(44);				/* claim 2 */
	t_order_step(44, "cancelled", PAY_EV_CLOSED);
	cr_assert_eq(t_count("SELECT COUNT(*) FROM order_payments WHERE "
	    "order_ref = 44 AND state = 'paid'"), 1);
	cr_assert_eq(t_notices(T_ADMIN, "Order #44 closed: the 15,000 KES "
	    "paid is with the seller " T_SELLER "%"), 1);
	cr_assert_eq(t_notices(T_BUYER, "Order #44 is closed%refunded%"), 0);
	/* nothing owed: the RECEIVED TransID is taken, and refused for
	   what it is */
	r = t_admin("POST", "/admin/payouts/done", "trans=RECEIVED-44-2", 1);
	assert_admin_refused(r, 409, "owes no refund, payout nor credit");

	r = t_post(T_URL, t_c2b("QBC1MIX001", "5000", "48", ""));
	assert_accepted(r);
	t_received(48);				/* claim 3: the rest */
	cr_assert_eq(t_count("SELECT COUNT(*) FROM payments WHERE trans_id = "
	    "'RECEIVED-48-3' AND amount = 1000000"), 1);
	t_order_step(48, "delivered", PAY_EV_DELIVERED);
	cr_assert_eq(t_count("SELECT COUNT(*) FROM order_payments WHERE "
	    "order_ref = 48 AND state = 'payout-due'"), 1);
	cr_assert_eq(t_notices(T_ADMIN, "Order #48 delivered: pay the seller "
	    T_SELLER " 5,000 KES (payout due)."), 1);
	r = t_admin("GET", "/status.json", NULL, 1);
	cr_assert_not_null(strstr(r->body, "\"money\": {\"received\": "
	    "{\"count\": 1, \"amount\": 500000}"), "%s", r->body);
	cr_assert_not_null(strstr(r->body, "\"refunds_due\": {\"count\": 0, "
	    "\"amount\": 0}, \"payouts_due\": {\"count\": 1, \"amount\": "
	    "500000}"), "%s", r->body);
	r = t_admin("POST", "/admin/payouts/done", "trans=RECEIVED-48-3", 1);
	cr_assert_eq(r->code, 200, "%s", r->raw);
	cr_assert_eq(t_count("SELECT COUNT(*) FROM payments WHERE trans_id = "
	    "'payout-RECEIVED-48-3' AND kind = 'payout' AND order_ref = 48 "
	    "AND amount = 500000"), 1);
	cr_assert_eq(t_count("SELECT COUNT(*) FROM order_payments WHERE "
	    "order_ref = 48 AND state = 'paid-out'"), 1);
}

/*
 * An over-payment's credit returned with payouts done (kind refund in
 * the ledger, the order paid); a suspense payment returned to its payer
 * with --ref: off the suspense list, never matched after.
 */
static void
t_credit_and_return(void)
{
	struct hc_resp	*r;

	r = t_post(T_URL, t_c2b("QBC1OVR001", "17000", "43", ""));
	assert_accepted(r);
	cr_assert_eq(t_count("SELECT COUNT(*) FROM order_payments WHERE "
	    "order_ref = 43 AND state = 'over'"), 1);
	r = t_admin("POST", "/admin/payouts/done", "trans=QBC1OVR001", 1);
	cr_assert_eq(r->code, 200, "%s", r->raw);
	cr_assert_not_null(strstr(r->body, "\"kind\": \"credit\""), "%s",
	    r->body);
	cr_assert_eq(t_count("SELECT COUNT(*) FROM payments WHERE trans_id = "
	    "'credit-QBC1OVR001' AND kind = 'refund' AND order_ref = 43 AND "
	    "amount = 200000 AND msisdn = '" T_BUYER "'"), 1);
	cr_assert_eq(t_count("SELECT COUNT(*) FROM order_payments WHERE "
	    "order_ref = 43 AND state = 'paid'"), 1);
	cr_assert_eq(t_notices(T_BUYER, "Refund sent: 2,000 KES for order "
	    "#43%"), 1);
	r = t_admin("POST", "/admin/payouts/done", "trans=QBC1OVR001", 1);
	assert_admin_refused(r, 409, "its money is paid");

	r = t_post(T_URL, t_c2b("QBC1RET001", "300", "nobody", ""));
	assert_accepted(r);
	r = t_admin("POST", "/admin/payouts/done", "trans=QBC1RET001", 1);
	assert_admin_refused(r, 404, "--ref REF");
	r = t_admin("POST", "/admin/payouts/done", "trans=QBC1RET001&"
	    "ref=B2C-RET1", 1);
	cr_assert_eq(r->code, 200, "%s", r->raw);
	cr_assert_not_null(strstr(r->body, "\"kind\": \"return\""), "%s",
	    r->body);
	cr_assert_eq(t_count("SELECT COUNT(*) FROM payments WHERE trans_id = "
	    "'B2C-RET1' AND kind = 'refund' AND order_ref IS NULL AND "
	    "amount = 30000 AND msisdn = '254700000002'"), 1);
	cr_assert_eq(t_count("SELECT COUNT(*) FROM payment_matches WHERE "
	    "trans_id = 'QBC1RET001' AND order_ref = 0"), 1);
	r = t_admin("GET", "/status.json", NULL, 1);
	cr_assert_not_null(strstr(r->body, "\"suspense\": {\"count\": 0, "
	    "\"amount\": 0}"), "%s", r->body);
	r = t_admin("POST", "/admin/payments/match", "trans=QBC1RET001&"
	    "order=44", 1);
	assert_admin_refused(r, 409, "returned to its payer");
	r = t_admin("POST", "/admin/payouts/done", "trans=QBC1RET001&"
	    "ref=B2C-RET2", 1);
	assert_admin_refused(r, 409, "returned to its payer");
	cr_assert_eq(t_count("SELECT COUNT(*) FROM order_payments WHERE "
	    "order_ref = 44"), 0);
}

/* --- SQLite ------------------------------------------------------------------ */

TestSuite(payments, .init = setup, .fini = teardown, .timeout = 60);

Test(payments, exact_payment_and_the_same_transid_again)
{
	t_exact();
}

Test(payments, part_payment_then_the_rest_and_more)
{
	t_part_then_over();
}

Test(payments, over_payment_closed_order_and_unknown_reference)
{
	t_over_closed_unknown();
}

Test(payments, refused_callbacks_change_nothing)
{
	t_refusals();
}

Test(payments, validation_takes_open_orders_up_to_what_is_due)
{
	t_validate();
}

Test(payments, the_sellers_notice_follows_the_order_state)
{
	t_seller_by_state();
}

Test(payments, names_with_escapes_and_bad_bytes_are_taken)
{
	t_names();
}

Test(payments, an_order_closed_or_delivered_moves_its_money)
{
	t_order_events();
}

Test(payments, a_suspense_payment_matched_and_every_refusal)
{
	t_match();
}

Test(payments, escrow_money_after_the_delivery_is_payout_due)
{
	t_delivered_then_paid();
}

Test(payments, refunds_and_payouts_recorded_and_status_money)
{
	t_payouts();
}

Test(payments, a_second_refund_is_what_came_since)
{
	t_second_refund();
}

Test(payments, money_the_seller_took_is_not_the_operators)
{
	t_seller_said();
}

Test(payments, a_credit_and_a_suspense_payment_returned)
{
	t_credit_and_return();
}

/* The allow-list: a peer it does not list is refused, the secret
 * notwithstanding, loopback too; one it lists is taken. */
Test(payments, a_peer_not_allowed_is_refused)
{
	struct hc_resp	*r;

	conf_names_split("10.1.2.3", &conf->payments.allow_ip);
	r = t_post(T_URL, t_c2b("QBC1PEER01", "15000", "43", ""));
	assert_refused(r, 403, "allow-ip");
	cr_assert_eq(t_count("SELECT COUNT(*) FROM payments"), 0);
	conf_names_free(&conf->payments.allow_ip);
	conf_names_split("127.0.0.1", &conf->payments.allow_ip);
	r = t_post(T_URL, t_c2b("QBC1PEER02", "15000", "43", ""));
	assert_accepted(r);
	cr_assert_eq(t_count("SELECT COUNT(*) FROM payments"), 1);
}

TestSuite(payments_off, .init = setup_off, .fini = teardown, .timeout = 60);

Test(payments_off, no_group_payments_takes_nothing)
{
	struct hc_resp	*r;

	r = t_post(T_URL, t_c2b("QBC1OFF001", "15000", "43", ""));
	assert_refused(r, 404, "not configured");
	cr_assert_eq(t_count("SELECT COUNT(*) FROM payments"), 0);
	r = t_admin("POST", "/admin/payments/match", "trans=QBC1OFF001&"
	    "order=43", 1);
	assert_admin_refused(r, 404, "not configured");
	r = t_admin("POST", "/admin/payouts/done", "trans=QBC1OFF001", 1);
	assert_admin_refused(r, 404, "not configured");
	/* no money on /status without payments */
	r = t_admin("GET", "/status.json", NULL, 1);
	cr_assert_not_null(strstr(r->body, "\"money\": null"), "%s",
	    r->body);
}

/* --- PostgreSQL ---------------------------------------------------------------- */

#ifdef HAVE_POSTGRESQL
static const char	*pg_db;

static void
setup_pg(void)
{
	t_start(pg_db = pg_fixture_create("payments"), 1);
}

TestSuite(payments_pg, .init = setup_pg, .fini = teardown, .timeout = 60);

Test(payments_pg, exact_payment_and_the_same_transid_again)
{
	t_exact();
}

Test(payments_pg, part_payment_then_the_rest_and_more)
{
	t_part_then_over();
}

Test(payments_pg, over_payment_closed_order_and_unknown_reference)
{
	t_over_closed_unknown();
}

Test(payments_pg, refused_callbacks_change_nothing)
{
	t_refusals();
}

Test(payments_pg, validation_takes_open_orders_up_to_what_is_due)
{
	t_validate();
}

Test(payments_pg, the_sellers_notice_follows_the_order_state)
{
	t_seller_by_state();
}

Test(payments_pg, names_with_escapes_and_bad_bytes_are_taken)
{
	t_names();
}

Test(payments_pg, an_order_closed_or_delivered_moves_its_money)
{
	t_order_events();
}

/*
 * The race of a payment and an order closing: another instance's unit
 * has set order 43 rejected and not committed (it would then ask
 * pay_order_event for the money state, and find none: nothing was
 * paid yet).  The payment must wait for that commit and read the order
 * closed: refund-due, the buyer and the admin told, the seller not
 * asked to send the goods.
 */
Test(payments_pg, a_payment_as_its_order_closes_is_refund_due)
{
	struct pg_fixture_hold	 hold;
	struct hc_resp		*r;
	PGconn			*other;
	PGresult		*res;
	pthread_t		 t;

	/* the store's wait is bounded (lock_timeout, then the provider's
	   retry); this one is not about it */
	cr_assert_eq(store_exec(store, "SET lock_timeout = 10000"), 0);
	other = PQconnectdb(pg_db);
	cr_assert_eq(PQstatus(other), CONNECTION_OK);
	res = PQexec(other, "BEGIN; UPDATE market_orders SET state = "
	    "'rejected' WHERE ref = 43");
	cr_assert_eq(PQresultStatus(res), PGRES_COMMAND_OK, "%s",
	    PQresultErrorMessage(res));
	PQclear(res);
	hold.holder = other;
	hold.ms = 100;
	cr_assert_eq(pthread_create(&t, NULL, pg_fixture_commit_under_wait,
	    &hold), 0);
	r = t_post(T_URL, t_c2b("QBC1RACE01", "15000", "43", ""));
	pthread_join(t, NULL);
	PQfinish(other);
	assert_accepted(r);
	cr_assert_eq(t_count("SELECT COUNT(*) FROM order_payments WHERE "
	    "order_ref = 43 AND paid = 1500000 AND state = 'refund-due'"), 1);
	cr_assert_eq(t_count("SELECT COUNT(*) FROM payments WHERE trans_id = "
	    "'QBC1RACE01' AND order_ref = 43 AND outcome = 'refund-due'"), 1);
	cr_assert_eq(t_notices(T_SELLER, "%"), 0);
	cr_assert_eq(t_notices(T_BUYER, "15,000 KES received for order #43 "
	    "(QBC1RACE01), but the order is closed: it is to be refunded. "
	    "The operator is told."), 1);
	cr_assert_eq(t_notices(T_ADMIN, "Payment QBC1RACE01 from "
	    "254700000002: 15,000 KES for order #43, which is closed: a "
	    "refund is due."), 1);
	cr_assert_eq(t_count("SELECT COUNT(*) FROM outbox"), 2);
	cr_assert(hold.seen, "the payment never waited for the closing "
	    "unit's order row");
}

Test(payments_pg, a_suspense_payment_matched_and_every_refusal)
{
	t_match();
}

Test(payments_pg, escrow_money_after_the_delivery_is_payout_due)
{
	t_delivered_then_paid();
}

/*
 * The operator's match of a suspense payment as another instance's unit
 * rejects its order (the row held, set rejected, its pay_order_event
 * having found no money): the match waits for that commit and reads
 * the order closed, refund-due, as the provider's payment would.
 */
Test(payments_pg, a_match_as_its_order_closes_is_refund_due)
{
	struct pg_fixture_hold	 hold;
	struct hc_resp		*r;
	PGconn			*other;
	PGresult		*res;
	pthread_t		 t;

	cr_assert_eq(store_exec(store, "SET lock_timeout = 10000"), 0);
	r = t_post(T_URL, t_c2b("QBC1SUSR01", "15000", "none", ""));
	assert_accepted(r);
	other = PQconnectdb(pg_db);
	cr_assert_eq(PQstatus(other), CONNECTION_OK);
	res = PQexec(other, "BEGIN; UPDATE market_orders SET state = "
	    "'rejected' WHERE ref = 43");
	cr_assert_eq(PQresultStatus(res), PGRES_COMMAND_OK, "%s",
	    PQresultErrorMessage(res));
	PQclear(res);
	hold.holder = other;
	hold.ms = 100;
	cr_assert_eq(pthread_create(&t, NULL, pg_fixture_commit_under_wait,
	    &hold), 0);
	r = t_admin("POST", "/admin/payments/match", "trans=QBC1SUSR01&"
	    "order=43", 1);
	pthread_join(t, NULL);
	PQfinish(other);
	cr_assert_eq(r->code, 200, "%s", r->raw);
	cr_assert_eq(t_count("SELECT COUNT(*) FROM order_payments WHERE "
	    "order_ref = 43 AND paid = 1500000 AND state = 'refund-due'"), 1);
	cr_assert_eq(t_notices(T_SELLER, "%"), 0);
	cr_assert_eq(t_notices(T_ADMIN, "Payment QBC1SUSR01 from "
	    "254700000002: 15,000 KES for order #43, which is closed: a "
	    "refund is due."), 1);
	cr_assert(hold.seen, "the match never waited for the closing "
	    "unit's order row");
}

/* A word said (pay_said) in a unit of work of the store's, committed. */
static int
t_said(long long ref, enum pay_said what, const char *by,
    long long *amount, enum pay_state *state)
{
	int	 rc;

	cr_assert_eq(store_work_begin(store), 0);
	rc = pay_said(store, conf, ref, what, by, NULL, t_notify, router,
	    amount, state);
	cr_assert_eq(store_work_end(store, rc >= 0), 0);
	cr_assert_eq(store_commit(store), 0);
	return rc;
}

/*
 * The seller's RECEIVED as another instance's unit cancels the order
 * (the order row held, set cancelled; its pay_order_event found no money
 * state: nothing was paid yet).  RECEIVED must wait for that commit and
 * meet a closed order: refused, nothing kept (pay_said.c), never money
 * "paid" on an order cancelled.
 */
Test(payments_pg, received_as_its_order_is_cancelled_is_refused)
{
	struct pg_fixture_hold	 hold;
	PGconn			*other;
	PGresult		*res;
	pthread_t		 t;
	enum pay_state		 state = PAY_UNPAID;
	long long		 amount = -1;
	int			 rc;

	cr_assert_eq(store_exec(store, "SET lock_timeout = 10000"), 0);
	other = PQconnectdb(pg_db);
	cr_assert_eq(PQstatus(other), CONNECTION_OK);
	res = PQexec(other, "BEGIN; UPDATE market_orders SET state = "
	    "'cancelled' WHERE ref = 43");
	cr_assert_eq(PQresultStatus(res), PGRES_COMMAND_OK, "%s",
	    PQresultErrorMessage(res));
	PQclear(res);
	hold.holder = other;
	hold.ms = 100;
	cr_assert_eq(pthread_create(&t, NULL, pg_fixture_commit_under_wait,
	    &hold), 0);
	rc = t_said(43, PAY_SAID_RECEIVED, T_SELLER, &amount, &state);
	pthread_join(t, NULL);
	PQfinish(other);
	cr_assert_eq(rc, PAY_SAID_REFUSED, "RECEIVED of a cancelled order: "
	    "%d, money state %s", rc, pay_state_name(state));
	cr_assert_eq(t_count("SELECT COUNT(*) FROM order_payments WHERE "
	    "order_ref = 43 AND state <> 'unpaid'"), 0);
	cr_assert_eq(t_count("SELECT COUNT(*) FROM payments"), 0);
	cr_assert_eq(t_count("SELECT COUNT(*) FROM payment_claims"), 0);
	cr_assert_eq(t_count("SELECT COUNT(*) FROM outbox"), 0);
	cr_assert(hold.seen, "RECEIVED never waited for the closing unit's "
	    "order row");
}

/*
 * Two RECEIVED of one order at once (a retry of the seller's phone, two
 * instances): the other's unit has entered the rest (its claim, its
 * ledger row, the money state paid, as pay_said writes them) and not
 * committed.  Ours waits for it on the money row (pay_said_money makes
 * it first, then holds it) and finds the order paid: "already", its
 * claim kept, nothing entered twice.
 */
Test(payments_pg, two_received_at_once_take_turns)
{
	struct pg_fixture_hold	 hold;
	PGconn			*other;
	PGresult		*res;
	pthread_t		 t;
	enum pay_state		 state = PAY_UNPAID;
	long long		 amount = -1;
	int			 rc;

	cr_assert_eq(store_exec(store, "SET lock_timeout = 10000"), 0);
	other = PQconnectdb(pg_db);
	cr_assert_eq(PQstatus(other), CONNECTION_OK);
	res = PQexec(other, "BEGIN; "
	    "INSERT INTO order_payments (order_ref, due, paid, state, "
	    "updated) VALUES (43, 1500000, 0, 'unpaid', 1) "
	    "ON CONFLICT (order_ref) DO NOTHING; "
	    "UPDATE order_payments SET updated = 2 WHERE order_ref = 43; "
	    "INSERT INTO payment_claims (order_ref, kind, said_by, amount, "
	    "created) VALUES (43, 'received', '" T_SELLER "', 1500000, 2); "
	    "UPDATE order_payments SET paid = paid + 1500000, state = 'paid' "
	    "WHERE order_ref = 43; "
	    "INSERT INTO payments (trans_id, kind, order_ref, amount, "
	    "currency, msisdn, outcome, raw, said_by, created) VALUES "
	    "('RECEIVED-43-1', 'payment', 43, 1500000, 'KES', '" T_BUYER
	    "', 'paid', 'RECEIVED: 15000 KES for order 43, said by " T_SELLER
	    "', '" T_SELLER "', 2)");
	cr_assert_eq(PQresultStatus(res), PGRES_COMMAND_OK, "%s",
	    PQresultErrorMessage(res));
	PQclear(res);
	hold.holder = other;
	hold.ms = 100;
	cr_assert_eq(pthread_create(&t, NULL, pg_fixture_commit_under_wait,
	    &hold), 0);
	rc = t_said(43, PAY_SAID_RECEIVED, T_SELLER, &amount, &state);
	pthread_join(t, NULL);
	PQfinish(other);
	cr_assert_eq(rc, PAY_SAID_ALREADY, "the second RECEIVED: %d", rc);
	cr_assert_eq(amount, 0);
	cr_assert_eq(state, PAY_PAID);
	cr_assert_eq(t_count("SELECT COUNT(*) FROM order_payments WHERE "
	    "order_ref = 43 AND paid = 1500000 AND state = 'paid'"), 1);
	cr_assert_eq(t_count("SELECT COUNT(*) FROM payments"), 1);
	cr_assert_eq(t_count("SELECT COUNT(*) FROM payment_claims WHERE "
	    "kind = 'received'"), 2);
	cr_assert_eq(t_count("SELECT COUNT(*) FROM payment_claims WHERE "
	    "amount = 0"), 1);
	cr_assert_eq(t_count("SELECT COUNT(*) FROM outbox"), 0);
	cr_assert(hold.seen, "the second RECEIVED never waited for the "
	    "first's money row");
}

Test(payments_pg, refunds_and_payouts_recorded_and_status_money)
{
	t_payouts();
}

Test(payments_pg, a_second_refund_is_what_came_since)
{
	t_second_refund();
}

Test(payments_pg, money_the_seller_took_is_not_the_operators)
{
	t_seller_said();
}

Test(payments_pg, a_credit_and_a_suspense_payment_returned)
{
	t_credit_and_return();
}
#endif
