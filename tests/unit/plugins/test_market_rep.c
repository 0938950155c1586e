/*
 * test_market_rep.c - reputation in the market plugin (market_rep.c)
 * through the mock host: a person's record counted from the tables
 * equals a model kept by the test over a long pseudo-random series of
 * orders (delivered, cancelled by either side, rejected, expired,
 * disputes lost either way, ratings, legs carried late or in time by
 * anyone); INFO of offers, wants, pools and
 * orders (an order only to its parties); RATE once per side, and its
 * refusals; the record in the seller's notice of an order and in match
 * notices where it fits one SMS, and left out where it does not; every
 * reputation template in the four shipped languages within one SMS.
 * Each store test runs on SQLite (suite rep) and on PostgreSQL (suite
 * rep_pg, with MB_TEST_PG; skipped without it).
 *
 * The mock's users +254700000001 (Wanjiru) and +254700000002 (Otieno)
 * registered on MOCK_USER_SINCE (1 March 2024); the others are no users
 * (no "member since").
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <criterion/criterion.h>

#include "base/gw.h"
#include "base/conf.h"
#include "text/gsm.h"
#include "text/lang.h"
#include "text/render.h"
#include "store/store.h"
#include "marketbox-plugin.h"

#include "market_fixture.h"
#include "market_lang.h"
#include "plugin_mock.h"
#include "plugins/market/market.h"

extern const struct mb_plugin marketbox_plugin;

#define WANJIRU		"+254700000001"		/* a user: a seller */
#define OTIENO		"+254700000002"		/* a user: a buyer */
#define ANNA		"+254700000011"		/* no user: sells and buys */
#define BETH		"+254700000012"		/* no user: a buyer */
#define STRANGER	"+254700000019"
#define T0		1764000000LL		/* November 2025 */
#define DAY		86400LL

static struct mock	*m;
static int		 collecting;	/* keep what is sent in market_seen */

/* --- the host ---------------------------------------------------------------- */

static void
start(const char *database)
{
	m = mock_new_on(&marketbox_plugin, database);
	mock_set_now(m, T0);
}

static size_t	real_parts(const char *);

/*
 * Every test measures what the phone would read (real_parts: the shipped
 * language files), so that a record goes where it fits; a test sets the
 * mock's own measure (never one SMS) to see it left out.
 */
static void
setup(void)
{
	market_lang_open();
	start(NULL);
	cr_assert_eq(mock_init(m), MB_OK);
	mock_sms_parts(m, real_parts);
}

static void
teardown(void)
{
	mock_free(m);
	m = NULL;
	market_fixture_drop();
	market_lang_close();
}

#ifdef HAVE_POSTGRESQL
static void
setup_pg(void)
{
	market_lang_open();
	start(market_fixture_pg("rep"));
	cr_assert_eq(mock_init(m), MB_OK);
	mock_sms_parts(m, real_parts);
}
#endif

/*
 * sms_parts() of what a phone reading English really gets.  The plugin
 * keeps the separator of a list it measures in a small buffer, where the
 * mock's "market-list-sep()" loses its "()": put back before rendering.
 */
static size_t
real_parts(const char *text)
{
	char	*fixed;
	size_t	 n;
	FILE	*f = open_memstream(&fixed, &n);
	const char *p;

	cr_assert_not_null(f);
	for (p = text; *p != '\0'; ) {
		if (strncmp(p, "market-list-sep", 15) == 0 && p[15] != '(') {
			fputs("market-list-sep()", f);
			p += 15;
		} else
			fputc(*p++, f);
	}
	fclose(f);
	n = market_lang_real_parts("en", fixed);
	free(fixed);
	return n;
}

static void
as(const char *who)
{
	const unsigned	 roles = MB_ROLE_FARMER | MB_ROLE_BUYER;

	if (strcmp(who, WANJIRU) == 0)
		mock_sender(m, who, "Wanjiru", "nakuru", "en", roles);
	else if (strcmp(who, OTIENO) == 0)
		mock_sender(m, who, "Otieno", "nakuru", "en", roles);
	else
		mock_sender(m, who, "Someone", "nakuru", "en", roles);
}

static int
run(const char *who, const char *text)
{
	int	 rc;

	mock_clear(m);
	as(who);
	rc = mock_command(m, text);
	if (collecting)
		market_lang_collect(m);
	return rc;
}

/* the fixture's helpers on this file's mock (market_fixture.h) */
#define sent(i)			mtest_sent(m, (i))
#define has(i, name, value)	mtest_has(m, (i), (name), (value))
#define db_int(sql, a)		mtest_db_int(m, (sql), (a), 0)
#define db_exec(sql, a)		mtest_db_exec(m, (sql), (a), 0)
/* who sends text: handled, its first message the reply tmpl */
#define ok(who, text, tmpl) \
	mtest_replied(m, run((who), (text)), (text), (tmpl))

static long long
ref_of(size_t i)
{
	const char	*v = mock_arg(sent(i), "ref");

	cr_assert_not_null(v);
	return atoll(v);
}

/* The first message to who (NULL: a reply) with tmpl, or -1. */
static long
find(const char *who, const char *tmpl)
{
	size_t	 i;

	for (i = 0; i < mock_nsent(m); i++) {
		const struct mock_msg	*s = mock_sent(m, i);

		if ((who == NULL) != (s->to == NULL))
			continue;
		if (who != NULL && strcmp(who, s->to) != 0)
			continue;
		if (strcmp(s->tmpl, tmpl) == 0)
			return (long)i;
	}
	return -1;
}

/*
 * The value of name=... at the top level of a record as the mock renders
 * it ("market-rep(trades=3,cancelled=1,...)"), into a static buffer.
 */
static const char *
rec_arg(const char *rec, const char *name)
{
	static char	 buf[128];
	const char	*p;
	size_t		 n = strlen(name), i = 0;
	int		 depth = 0;

	cr_assert_not_null(rec);
	p = strchr(rec, '(');
	cr_assert_not_null(p, "%s", rec);
	for (p++; *p != '\0'; p++) {
		if (depth == 0 && strncmp(p, name, n) == 0 && p[n] == '=' &&
		    (p[-1] == '(' || p[-1] == ','))
			break;
		if (*p == '(')
			depth++;
		else if (*p == ')')
			depth--;
	}
	cr_assert(*p != '\0', "no %s in %s", name, rec);
	for (p += n + 1, depth = 0; *p != '\0' && i + 1 < sizeof(buf); p++) {
		if (*p == '(')
			depth++;
		else if (*p == ')' && depth-- == 0)
			break;
		else if (*p == ',' && depth == 0)
			break;
		buf[i++] = *p;
	}
	buf[i] = '\0';
	return buf;
}

/* Both suites run every store test: SQLite, and PostgreSQL with
   MB_TEST_PG. */
#define BOTH(name)	MARKET_BOTH(rep, setup_pg, teardown, name)

TestSuite(rep, .init = setup, .fini = teardown);

/* --- the record equals the model ------------------------------------------------ */

#define NPEOPLE	4

static const char *const people[NPEOPLE] = { WANJIRU, OTIENO, ANNA, BETH };

/* What the test expects of each person, kept as it acts. */
struct model {
	long long	 trades, cancelled, rejected, expired, late, lost;
	long long	 rated, stars;
};

static unsigned long	 seed;

static unsigned
rnd(unsigned n)
{
	seed = seed * 6364136223846793005UL + 1442695040888963407UL;
	return (unsigned)((seed >> 33) % n);
}

/* who's record as INFO of her post shows it, checked against the model */
static void
check_record(int who, long long post, const struct model *e)
{
	const char	*rec;
	char		 want[32];

	ok(STRANGER, (snprintf(want, sizeof(want), "info %lld", post), want),
	    strcmp(people[who], OTIENO) == 0 || strcmp(people[who], BETH) ==
	    0 ? "market-info-want" : "market-info-offer");
	has(0, "phone", people[who]);
	rec = mock_arg(sent(0), "record");
	cr_assert_not_null(rec);
	if (e->trades + e->cancelled + e->rejected + e->expired + e->late +
	    e->lost + e->rated == 0) {
		cr_assert(strncmp(rec, "market-rep-new(", 15) == 0, "%s", rec);
		return;
	}
	/* the full record, or the short one when that does not fit one
	   SMS: the same counts */
	cr_assert(strncmp(rec, "market-rep(", 11) == 0 ||
	    strncmp(rec, "market-rep-short(", 17) == 0, "%s", rec);
#define EQ(f) \
	snprintf(want, sizeof(want), "%lld", e->f); \
	cr_assert_str_eq(rec_arg(rec, #f), want, "%s " #f ": %s", \
	    people[who], rec)
	EQ(trades);
	EQ(cancelled);
	EQ(rejected);
	EQ(expired);
	EQ(late);
	EQ(lost);
	EQ(rated);
#undef EQ
	if (e->rated > 0) {
		long long	 t = (e->stars * 10 + e->rated / 2) / e->rated;

		if (t % 10 == 0)
			snprintf(want, sizeof(want), "%lld", t / 10);
		else
			snprintf(want, sizeof(want), "%lld.%lld", t / 10,
			    t % 10);
		cr_assert_str_eq(rec_arg(rec, "stars"), want, "%s: %s",
		    people[who], rec);
	}
	/* the mock's users registered in March 2024, more than a year
	   before; the others are no users */
	if (strcmp(people[who], WANJIRU) == 0 ||
	    strcmp(people[who], OTIENO) == 0) {
		cr_assert_str_eq(rec_arg(rec, "month"), "3");
		cr_assert_not_null(strstr(rec, "market-rep-since(month=3,"
		    "old=1,year=2024)"), "%s", rec);
	} else
		cr_assert_str_eq(rec_arg(rec, "month"), "0");
}

/*
 * A leg of order o as SENT, IN and OUT leave it (market_leg.c): carried
 * by who (NULL: none yet), due at due (0: NULL), ended at ended (0: not
 * yet).  Written directly: what counts is the rows, however they came.
 */
static void
leg_row(long long o, int seq, const char *who, const char *state,
    long long due, long long ended)
{
	static const char	 q[] = "INSERT INTO market_legs (order_ref,"
	    " seq, from_hub, to_hub, carrier, code, state, due_at, created,"
	    " updated, started, ended) VALUES ($1, $2, 'h', 'h', $3, '1234',"
	    " $4, $5, $6, $6, $6, $7)";
	struct store_stmt	*st = store_query(mock_store(m), q);

	cr_assert_not_null(st);
	store_bind_int(st, 1, o);
	store_bind_int(st, 2, seq);
	if (who != NULL)
		store_bind_text(st, 3, who);
	else
		store_bind_null(st, 3);
	store_bind_text(st, 4, state);
	if (due != 0)
		store_bind_int(st, 5, due);
	else
		store_bind_null(st, 5);
	store_bind_int(st, 6, T0);
	if (ended != 0)
		store_bind_int(st, 7, ended);
	else
		store_bind_null(st, 7);
	cr_assert_eq(store_step(st), STORE_DONE, "leg %lld/%d", o, seq);
	store_done(st);
}

/* A carrier who is none of the people. */
#define CARRIER		"+254700000077"

/*
 * Sixty orders between four people, each ending one way, with disputes
 * and ratings on the delivered ones; then each record, as INFO shows it,
 * equals the model.  Orders left pending expire on the seller.
 */
BOTH(record_equals_a_recount)
{
	struct model	 e[NPEOPLE];
	long long	 offer[NPEOPLE] = { 0 }, post[NPEOPLE];
	long long	 dispute = 100000;
	char		 cmd[64];
	int		 i, k, legs;

	memset(e, 0, sizeof(e));
	seed = 19;
	/* Wanjiru and Anna sell; Otieno and Beth want (so INFO shows them) */
	ok(WANJIRU, "sell maize 1000 bags 3000", "market-offer-ok");
	offer[0] = post[0] = ref_of(0);
	ok(ANNA, "sell maize 1000 bags 2900", "market-offer-ok");
	offer[2] = post[2] = ref_of(0);
	ok(OTIENO, "want beans 5 kg 100", "market-want-ok");
	post[1] = ref_of(0);
	ok(BETH, "want beans 5 kg 100", "market-want-ok");
	post[3] = ref_of(0);
	for (k = 0; k < NPEOPLE; k++)
		check_record(k, post[k], &e[k]);

	for (i = 0; i < 60; i++) {
		int		 s = rnd(2) == 0 ? 0 : 2;	/* a seller */
		int		 b;
		long long	 o;

		do
			b = (int)rnd(NPEOPLE);
		while (b == s);
		snprintf(cmd, sizeof(cmd), "buy %lld 1", offer[s]);
		ok(people[b], cmd, "market-order-ok");
		o = ref_of(0);
#define DO(who, fmt, tmpl) \
		snprintf(cmd, sizeof(cmd), fmt, o); ok(people[who], cmd, tmpl)
		switch (rnd(7)) {
		case 0:
		case 1:
			DO(s, "accept %lld", "market-accept-ok");
			DO(s, "sent %lld", "market-sent-ok");
			DO(b, "delivered %lld", "market-delivered-ok");
			e[s].trades++;
			e[b].trades++;
			/* its legs, carried by anyone (a party, one of the
			   others, an outsider): done in time or late, still
			   moving with its due time past or to come when the
			   records are read (T0 + 2 days), the next waiting */
			for (k = 1, legs = (int)rnd(4); k <= legs; k++) {
				int		 c = (int)rnd(NPEOPLE + 1);
				const char	*who = c < NPEOPLE ? people[c] :
						    CARRIER;
				int		 late = 0;

				switch (rnd(5)) {
				case 0:
					leg_row(o, k, who, "done", T0 + DAY,
					    T0 + DAY);
					break;
				case 1:
					leg_row(o, k, who, "done", T0 + DAY,
					    T0 + DAY + 1);
					late = 1;
					break;
				case 2:
					leg_row(o, k, who, "moving", T0 + DAY,
					    0);
					late = 1;
					break;
				case 3:
					leg_row(o, k, who, "moving",
					    T0 + 3 * DAY, 0);
					break;
				default:
					/* waiting for its carrier at a hub,
					   past its departure: the hub's */
					leg_row(o, k, rnd(2) ? who : NULL,
					    "waiting", T0 + DAY, 0);
					break;
				}
				if (late && c < NPEOPLE)
					e[c].late++;
			}
			/* a dispute lost by either side, or none */
			switch (rnd(4)) {
			case 0:
				db_exec("INSERT INTO market_disputes(ref,"
				    " order_ref, opener, side, text, state,"
				    " created, closed, decision, note) VALUES"
				    " ($1, (SELECT max(ref) FROM market_orders),"
				    " 'x', 'buyer', 'late', 'closed', 1, 2,"
				    " 'buyer', 'n')", dispute++);
				e[s].lost++;
				break;
			case 1:
				db_exec("INSERT INTO market_disputes(ref,"
				    " order_ref, opener, side, text, state,"
				    " created, closed, decision, note) VALUES"
				    " ($1, (SELECT max(ref) FROM market_orders),"
				    " 'x', 'seller', 'unpaid', 'closed', 1, 2,"
				    " 'seller', 'n')", dispute++);
				e[b].lost++;
				break;
			case 2:
				/* an open dispute is lost by no one yet */
				db_exec("INSERT INTO market_disputes(ref,"
				    " order_ref, opener, side, text, state,"
				    " created) VALUES ($1, (SELECT max(ref)"
				    " FROM market_orders), 'x', 'buyer',"
				    " 'late', 'open', 1)", dispute++);
				break;
			}
			/* ratings, from either side or both */
			if (rnd(2) == 0) {
				int	 stars = 1 + (int)rnd(5);

				snprintf(cmd, sizeof(cmd), "rate %lld %d", o,
				    stars);
				ok(people[b], cmd, "market-rate-ok");
				e[s].rated++;
				e[s].stars += stars;
			}
			if (rnd(3) == 0) {
				int	 stars = 1 + (int)rnd(5);

				snprintf(cmd, sizeof(cmd), "rate %lld %d", o,
				    stars);
				ok(people[s], cmd, "market-rate-ok");
				e[b].rated++;
				e[b].stars += stars;
			}
			break;
		case 2:
			DO(b, "cancel %lld", "market-cancelled-order");
			e[b].cancelled++;
			break;
		case 3:
			DO(s, "accept %lld", "market-accept-ok");
			DO(s, "cancel %lld", "market-cancelled-order");
			e[s].cancelled++;
			break;
		case 4:
			DO(s, "reject %lld sold", "market-reject-ok");
			e[s].rejected++;
			break;
		case 5:
			/* left pending: it expires on the seller below */
			e[s].expired++;
			break;
		default:
			/* accepted and never sent: counts for no one */
			DO(s, "accept %lld", "market-accept-ok");
			break;
		}
#undef DO
	}
	/* an order cancelled before who cancelled was kept: no one's */
	snprintf(cmd, sizeof(cmd), "buy %lld 1", offer[0]);
	ok(OTIENO, cmd, "market-order-ok");
	snprintf(cmd, sizeof(cmd), "cancel %lld", ref_of(0));
	ok(OTIENO, cmd, "market-cancelled-order");
	db_exec("UPDATE market_orders SET cancelled_by = NULL"
	    " WHERE ref = $1", ref_of(0));
	/* the pending ones expire */
	mock_clear(m);
	mock_set_now(m, T0 + 2 * DAY);
	cr_assert_eq(mock_timer(m, "market-sweep"), MB_OK);
	cr_assert_eq(db_int("SELECT count(*) FROM market_orders"
	    " WHERE state = 'pending'", 0), 0);
	for (k = 0; k < NPEOPLE; k++)
		check_record(k, post[k], &e[k]);
	/* the series had every ending */
	cr_assert_gt(e[0].trades + e[2].trades, 5);
	cr_assert_gt(e[0].lost + e[2].lost, 0);
	cr_assert_gt(e[1].lost + e[3].lost, 0);
	cr_assert_gt(e[0].expired + e[2].expired, 0);
	cr_assert_gt(e[0].rejected + e[2].rejected, 0);
	cr_assert_gt(e[0].cancelled + e[2].cancelled, 0);
	cr_assert_gt(e[1].cancelled + e[3].cancelled, 0);
	cr_assert_gt(e[1].rated + e[3].rated, 0);
	cr_assert_gt(e[0].late + e[1].late + e[2].late + e[3].late, 3);
	cr_assert_gt(db_int("SELECT count(*) FROM market_legs WHERE carrier"
	    " = '" CARRIER "' AND state = 'moving' AND due_at < $1", T0 +
	    2 * DAY), 0);
}

/*
 * A sell pool that its opener Wanjiru joined after Anna (joined
 * allocation: Anna's 50 bags first): an order rejected, one expired, one
 * delivered, each of 60 bags (Anna 50, Wanjiru 10).  The pool order
 * counts for its parties; a share order only for a member who is not a
 * party of it (Anna's trade), and never as rejected or expired (the
 * opener's decision, not hers).
 */
BOTH(a_pool_order_counts_once_for_each)
{
	struct model	 e[NPEOPLE];
	long long	 post[NPEOPLE], pool, o;
	char		 cmd[64];
	int		 k;

	memset(e, 0, sizeof(e));
	ok(WANJIRU, "sell beans 5 kg 100", "market-offer-ok");
	post[0] = ref_of(0);
	ok(ANNA, "sell beans 5 kg 100", "market-offer-ok");
	post[2] = ref_of(0);
	ok(OTIENO, "want beans 5 kg 100", "market-want-ok");
	post[1] = ref_of(0);
	ok(BETH, "want beans 5 kg 100", "market-want-ok");
	post[3] = ref_of(0);
	ok(WANJIRU, "pool sell maize 100 bags 3000 7", "market-pool-ok");
	pool = ref_of(0);
	snprintf(cmd, sizeof(cmd), "join %lld 50", pool);
	ok(ANNA, cmd, "market-pool-join-ok");
	ok(WANJIRU, cmd, "market-pool-join-full");
	snprintf(cmd, sizeof(cmd), "buy %lld 60", pool);
	ok(OTIENO, cmd, "market-order-ok");
	o = ref_of(0);
	cr_assert_eq(db_int("SELECT count(*) FROM market_orders"
	    " WHERE parent = $1", o), 2);
	snprintf(cmd, sizeof(cmd), "reject %lld sold", o);
	ok(WANJIRU, cmd, "market-reject-ok");
	e[0].rejected++;
	snprintf(cmd, sizeof(cmd), "buy %lld 60", pool);
	ok(OTIENO, cmd, "market-order-ok");
	e[0].expired++;
	mock_clear(m);
	mock_set_now(m, T0 + 2 * DAY);
	cr_assert_eq(mock_timer(m, "market-sweep"), MB_OK);
	cr_assert_eq(db_int("SELECT count(*) FROM market_orders"
	    " WHERE state = 'expired' AND parent IS NULL", 0), 1);
	snprintf(cmd, sizeof(cmd), "buy %lld 60", pool);
	ok(BETH, cmd, "market-order-ok");
	o = ref_of(0);
	snprintf(cmd, sizeof(cmd), "accept %lld", o);
	ok(WANJIRU, cmd, "market-accept-ok");
	snprintf(cmd, sizeof(cmd), "sent %lld", o);
	ok(WANJIRU, cmd, "market-sent-ok");
	snprintf(cmd, sizeof(cmd), "delivered %lld", o);
	ok(BETH, cmd, "market-delivered-ok");
	cr_assert_eq(db_int("SELECT count(*) FROM market_orders"
	    " WHERE parent = $1 AND state = 'delivered'", o), 2);
	e[0].trades++;		/* the pool order; not his share too */
	e[2].trades++;		/* her share */
	e[3].trades++;
	for (k = 0; k < NPEOPLE; k++)
		check_record(k, post[k], &e[k]);
}

/*
 * A late leg is on its carrier: one she carried that ended after its due
 * time (not at it), or is still moving past it (not at it); a leg waiting
 * at a hub is the hub's, a leg with no due time none's, another
 * carrier's leg hers.
 */
static char	cmd_buf[64];
static void	delivered_order(void);

BOTH(late_legs_are_their_carriers)
{
	const char	*rec;

	delivered_order();
	/* in time, to the second */
	leg_row(2, 1, WANJIRU, "done", T0 - DAY, T0 - DAY);
	leg_row(2, 2, WANJIRU, "done", T0 - DAY, T0 - DAY + 1);
	leg_row(2, 3, WANJIRU, "moving", T0, 0);
	leg_row(2, 4, WANJIRU, "waiting", T0 - DAY, 0);
	leg_row(2, 5, WANJIRU, "done", 0, T0);
	leg_row(2, 6, OTIENO, "moving", T0 - 1, 0);
	ok(STRANGER, "info 1", "market-info-offer");
	rec = mock_arg(sent(0), "record");
	cr_assert_str_eq(rec_arg(rec, "late"), "1", "%s", rec);
	cr_assert_str_eq(rec_arg(rec, "trades"), "1", "%s", rec);
	/* a second later the moving leg is past its due time */
	mock_set_now(m, T0 + 1);
	ok(STRANGER, "info 1", "market-info-offer");
	rec = mock_arg(sent(0), "record");
	cr_assert_str_eq(rec_arg(rec, "late"), "2", "%s", rec);
	/* and it is on a record with nothing else: not "new" */
	ok(OTIENO, "want beans 5 kg 100", "market-want-ok");
	snprintf(cmd_buf, sizeof(cmd_buf), "info %lld", ref_of(0));
	db_exec("DELETE FROM market_ratings WHERE rated = '" OTIENO "' AND"
	    " order_ref = $1", 2);
	db_exec("UPDATE market_orders SET state = 'cancelled' WHERE ref = $1",
	    2);
	ok(STRANGER, cmd_buf, "market-info-want");
	rec = mock_arg(sent(0), "record");
	cr_assert(strncmp(rec, "market-rep(", 11) == 0, "%s", rec);
	cr_assert_str_eq(rec_arg(rec, "late"), "1", "%s", rec);
	cr_assert_str_eq(rec_arg(rec, "trades"), "0", "%s", rec);
}

/* --- RATE -------------------------------------------------------------------------- */

/* Wanjiru's offer #1; Otieno's order #2 on it, delivered. */
static void
delivered_order(void)
{
	ok(WANJIRU, "sell maize 10 bags 3000", "market-offer-ok");
	ok(OTIENO, "buy 1 2", "market-order-ok");
	ok(WANJIRU, "accept 2", "market-accept-ok");
	ok(WANJIRU, "sent 2", "market-sent-ok");
	ok(OTIENO, "delivered 2", "market-delivered-ok");
}

BOTH(rate_once_by_each_side)
{
	delivered_order();
	ok(OTIENO, "rate 2 4", "market-rate-ok");
	has(0, "name", "Wanjiru");
	has(0, "stars", "4");
	ok(OTIENO, "rate 2 5", "market-rate-again");
	ok(WANJIRU, "rate 2 2", "market-rate-ok");
	has(0, "name", "Otieno");
	ok(WANJIRU, "rate 2 2", "market-rate-again");
	cr_assert_eq(db_int("SELECT stars FROM market_ratings"
	    " WHERE order_ref = $1 AND rated = '" WANJIRU "'", 2), 4);
	cr_assert_eq(db_int("SELECT stars FROM market_ratings"
	    " WHERE order_ref = $1 AND rated = '" OTIENO "'", 2), 2);
	cr_assert_eq(db_int("SELECT count(*) FROM market_ratings"
	    " WHERE order_ref = $1", 2), 2);
	/* the record shows it */
	ok(STRANGER, "info 1", "market-info-offer");
	cr_assert_str_eq(rec_arg(mock_arg(sent(0), "record"), "rated"), "1");
	cr_assert_str_eq(rec_arg(mock_arg(sent(0), "record"), "stars"), "4");
}

BOTH(rate_refusals_name_the_next_step)
{
	delivered_order();
	ok(STRANGER, "rate 2 5", "market-not-yours");
	ok(OTIENO, "rate 2 6", "market-rate-range");
	has(0, "word", "6");
	ok(OTIENO, "rate 2 0", "market-rate-range");
	ok(OTIENO, "rate 2 good", "market-rate-range");
	ok(OTIENO, "rate 1 5", "market-rate-not-order");
	ok(OTIENO, "rate 99 5", "market-unknown-ref");
	ok(OTIENO, "buy 1 1", "market-order-ok");		/* #3 */
	ok(OTIENO, "rate 3 5", "market-rate-not-yet");
	ok(WANJIRU, "accept 3", "market-accept-ok");
	ok(WANJIRU, "rate 3 5", "market-rate-not-yet");
	ok(OTIENO, "cancel 3", "market-cancelled-order");
	ok(OTIENO, "rate 3 5", "market-rate-ended");
	cr_assert_eq(run(OTIENO, "rate 2"), MB_USAGE);
	cr_assert_eq(db_int("SELECT count(*) FROM market_ratings", 0), 0);
}

/* --- INFO -------------------------------------------------------------------------- */

BOTH(info_shows_the_poster_and_her_record)
{
	delivered_order();
	ok(STRANGER, "info 1", "market-info-offer");
	has(0, "ref", "1");
	has(0, "name", "Wanjiru");
	has(0, "phone", WANJIRU);
	has(0, "commodity", "maize");
	has(0, "market", "Nakuru");
	cr_assert_str_eq(rec_arg(mock_arg(sent(0), "record"), "trades"), "1");
	/* a new user's want: nothing on her record */
	ok(BETH, "want beans 5 kg 100", "market-want-ok");
	ok(STRANGER, "info 3", "market-info-want");
	has(0, "phone", BETH);
	cr_assert(strncmp(mock_arg(sent(0), "record"), "market-rep-new(", 15)
	    == 0, "%s", mock_arg(sent(0), "record"));
	cr_assert_str_eq(rec_arg(mock_arg(sent(0), "record"), "month"), "0");
	/* a pool: its opener */
	ok(ANNA, "pool sell maize 100 bags 3000 7", "market-pool-ok");
	ok(STRANGER, "info 4", "market-info-pool");
	has(0, "phone", ANNA);
	ok(STRANGER, "info 99", "market-unknown-ref");
	cr_assert_eq(run(STRANGER, "info"), MB_USAGE);
}

/* An order's parties only to each other: each is shown the other. */
BOTH(info_of_an_order_only_to_its_parties)
{
	delivered_order();
	ok(OTIENO, "info 2", "market-info-order");
	has(0, "phone", WANJIRU);
	has(0, "side", "2");
	ok(WANJIRU, "info 2", "market-info-order");
	has(0, "phone", OTIENO);
	has(0, "side", "1");
	cr_assert_str_eq(rec_arg(mock_arg(sent(0), "record"), "trades"), "1");
	ok(STRANGER, "info 2", "market-info-not-yours");
	cr_assert_null(mock_arg(sent(0), "phone"));
}

/* --- the record in the notices ---------------------------------------------------- */

/*
 * The seller's notice of an order carries the buyer's record where the
 * text, as it reads, is one SMS; the mock's own text (never one SMS)
 * leaves it out, and the notice goes as before.
 */
BOTH(the_sellers_notice_carries_the_buyers_record)
{
	long	 i;

	delivered_order();
	mock_sms_parts(m, NULL);
	ok(OTIENO, "buy 1 1", "market-order-ok");
	cr_assert_geq(i = find(WANJIRU, "market-order-seller"), 0);
	cr_assert_null(mock_arg(sent((size_t)i), "record"));
	mock_sms_parts(m, real_parts);
	ok(OTIENO, "buy 1 1", "market-order-ok");
	cr_assert_eq(find(WANJIRU, "market-order-seller"), -1);
	cr_assert_geq(i = find(WANJIRU, "market-order-seller-rep"), 0);
	cr_assert(strncmp(mock_arg(sent((size_t)i), "record"),
	    "market-rep-short(", 17) == 0);
	cr_assert_str_eq(rec_arg(mock_arg(sent((size_t)i), "record"),
	    "trades"), "1");
	has((size_t)i, "name", "Otieno");
}

BOTH(match_notices_carry_the_posters_record)
{
	long	 i;

	delivered_order();
	ok(WANJIRU, "rate 2 5", "market-rate-ok");
	/* a buyer told of an offer sees the seller's record */
	ok(BETH, "want maize 3 bags 3500", "market-want-ok");
	ok(WANJIRU, "sell maize 5 bags 3100", "market-offer-ok");
	cr_assert_geq(i = find(BETH, "market-match-buyer-rep"), 0);
	cr_assert_str_eq(rec_arg(mock_arg(sent((size_t)i), "record"),
	    "trades"), "1");
	/* a seller told of a want sees the buyer's */
	ok(OTIENO, "want maize 2 bags 3300", "market-want-ok");
	cr_assert_geq(i = find(WANJIRU, "market-match-seller-rep"), 0);
	cr_assert_str_eq(rec_arg(mock_arg(sent((size_t)i), "record"),
	    "rated"), "1");
	cr_assert_str_eq(rec_arg(mock_arg(sent((size_t)i), "record"),
	    "stars"), "5");
	/* too long in the reader's language (the mock's text): as before */
	mock_sms_parts(m, NULL);
	ok(BETH, "want maize 2 bags 3300", "market-want-ok");
	cr_assert_geq(i = find(WANJIRU, "market-match-seller"), 0);
	cr_assert_null(mock_arg(sent((size_t)i), "record"));
}

/* Who cancelled is kept for the record; the timer's expiry is no one's. */
BOTH(cancel_records_who_cancelled)
{
	ok(WANJIRU, "sell maize 10 bags 3000", "market-offer-ok");
	ok(OTIENO, "buy 1 1", "market-order-ok");		/* #2 */
	ok(OTIENO, "cancel 2", "market-cancelled-order");
	ok(OTIENO, "buy 1 1", "market-order-ok");		/* #3 */
	ok(WANJIRU, "cancel 3", "market-cancelled-order");
	cr_assert_eq(db_int("SELECT count(*) FROM market_orders WHERE ref = $1"
	    " AND cancelled_by = 'buyer'", 2), 1);
	cr_assert_eq(db_int("SELECT count(*) FROM market_orders WHERE ref = $1"
	    " AND cancelled_by = 'seller'", 3), 1);
}

/* --- the words: every reputation template in every shipped language ------------- */

static void
lang_teardown(void)
{
	teardown();
	market_lang_seen_free();
}

/* A record with every count at its longest plausible value. */
static void
long_record(char *buf, size_t len, const char *tmpl)
{
	snprintf(buf, len, "%s(trades=1000,cancelled=21,rejected=21,"
	    "expired=21,late=21,lost=21,rated=1000,stars=4.5,month=12,"
	    "since=market-rep-since(month=12,old=1,year=2024))", tmpl);
}

Test(rep_lang, every_template_in_every_language_fits,
    .init = setup, .fini = lang_teardown)
{
	static const char	*codes[] = { "en", "sw", "fr", "zh" };
	static const char	*names[] = {
		"market-rep", "market-rep-new", "market-rep-short",
		"market-rep-since", "market-order-seller-rep",
		"market-match-buyer-rep", "market-match-seller-rep",
		"market-info-offer", "market-info-want", "market-info-pool",
		"market-info-order", "market-info-not-yours",
		"market-rate-ok", "market-rate-range", "market-rate-not-order",
		"market-rate-not-yet", "market-rate-ended",
		"market-rate-again",
	};
	char			 rec[256];
	size_t			 i, j, k, l;

	/* a tour: every template sent or rendered */
	collecting = 1;
	delivered_order();
	run(OTIENO, "rate 2 5");
	run(OTIENO, "rate 2 5");
	run(OTIENO, "rate 2 9");
	run(OTIENO, "rate 1 5");
	run(OTIENO, "buy 1 1");
	run(OTIENO, "rate 3 5");
	run(OTIENO, "cancel 3");
	run(OTIENO, "rate 3 5");
	run(STRANGER, "info 1");
	run(STRANGER, "info 2");
	run(OTIENO, "info 2");
	run(BETH, "want maize 3 bags 3500");
	run(STRANGER, "info 4");
	run(WANJIRU, "sell maize 5 bags 3100");
	run(ANNA, "want maize 2 bags 3300");
	run(ANNA, "pool sell maize 100 bags 3000 7");
	run(STRANGER, "info 7");
	collecting = 0;
	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		char	 call[80];
		int	 found = 0;

		snprintf(call, sizeof(call), "%s(", names[i]);
		for (k = 0; k < market_nseen && !found; k++) {
			found = strcmp(market_seen[k].tmpl, names[i]) == 0;
			for (j = 0; j < market_seen[k].nargs && !found; j++)
				found = strstr(market_seen[k].args[j].value,
				    call) !=
				    NULL;
		}
		cr_assert(found, "the tour never used %s", names[i]);
	}
	/* as sent, in every language (the notices' "-rep" variants only
	   go where they fit: they are measured before they are sent) */
	for (i = 0; i < market_nseen; i++) {
		const struct market_seen	*s = &market_seen[i];

		int			 mine = 0;

		/* the others' templates are test_market's tour */
		for (j = 0; j < sizeof(names) / sizeof(names[0]); j++)
			mine |= strcmp(s->tmpl, names[j]) == 0;
		if (!mine)
			continue;
		for (l = 0; l < 4; l++) {
			const char	*t, *en;

			t = lang_template(market_lang_shipped, codes[l], s->tmpl);
			en = lang_template(market_lang_shipped, "en", s->tmpl);
			cr_assert_not_null(t, "%s lacks %s", codes[l], s->tmpl);
			if (l > 0)
				cr_assert(t != en, "%s falls back for %s",
				    codes[l], s->tmpl);
			if (strstr(s->tmpl, "-rep") != NULL)
				continue;
			market_lang_assert_reads(codes[l], s->tmpl, s->args,
			    s->nargs, NULL, NULL);
		}
	}
	/* INFO with the longest record: one SMS in every language */
	for (l = 0; l < 4; l++)
		for (i = 0; i < 4; i++) {
			static const char *info[] = { "market-info-offer",
			    "market-info-want", "market-info-pool",
			    "market-info-order" };
			struct mb_arg	 a[] = {
				{ "ref", "100234" }, { "commodity", "maize" },
				{ "market", "Nakuru" }, { "side", "2" },
				{ "name", "Otieno" },
				{ "phone", "+254700000002" },
				{ "record", rec },
			};

			/* INFO falls back to the short record when the
			   full one does not fit (it measures) */
			long_record(rec, sizeof(rec), "market-rep-short");
			market_lang_assert_reads(codes[l], info[i], a,
			    sizeof(a) / sizeof(a[0]), NULL, NULL);
		}
	/* a typical record in full, every language */
	for (l = 0; l < 4; l++)
		for (i = 0; i < 4; i++) {
			static const char *info[] = { "market-info-offer",
			    "market-info-want", "market-info-pool",
			    "market-info-order" };
			struct mb_arg	 a[] = {
				{ "ref", "41" }, { "commodity", "maize" },
				{ "market", "Nakuru" }, { "side", "1" },
				{ "name", "Otieno" },
				{ "phone", "+254700000002" },
				{ "record", "market-rep(trades=12,cancelled=1,"
				    "rejected=0,expired=0,late=1,lost=0,rated=6,"
				    "stars=4.5,month=3,since=market-rep-since("
				    "month=3,old=0,year=2025))" },
			};

			market_lang_assert_reads(codes[l], info[i], a,
			    sizeof(a) / sizeof(a[0]), NULL, NULL);
		}
}

/*
 * A member of a service point gets no record in her notices: they reach
 * her agent too, prefixed in the agent's language (a length the plugin
 * cannot measure).
 */
BOTH(a_members_notices_go_without_the_record)
{
	long	 i;

	plugin_mock_member(m, ANNA, "Anna via Kiambogo point",
	    "+254700000099");
	ok(ANNA, "sell maize 10 bags 3000", "market-offer-ok");
	ok(OTIENO, "buy 1 1", "market-order-ok");
	cr_assert_eq(find(ANNA, "market-order-seller-rep"), -1);
	cr_assert_geq(i = find(ANNA, "market-order-seller"), 0);
	cr_assert_null(mock_arg(sent((size_t)i), "record"));
	/* the same order to a seller who is no member carries it */
	ok(WANJIRU, "sell maize 10 bags 3000", "market-offer-ok");
	ok(OTIENO, "buy 3 1", "market-order-ok");
	cr_assert_geq(find(WANJIRU, "market-order-seller-rep"), 0);
}
