/*
 * plugin_mock.c - a marketbox host without the daemon, for plugin unit
 * tests: the whole struct mb_host table over a fake context.  See
 * plugin_mock.h for what it offers and how a test uses it.
 *
 * It behaves as the daemon's host does where a plugin can tell: words
 * come from words.c, strings it returns live until the handler returns,
 * reply() outside a message fails, timer_ctx() is NULL outside a timer,
 * log() takes a NULL context (init, fini).  It differs where a test wants
 * to look: replies and notices are captured, not rendered or queued.
 *
 * The store is the daemon's own (store.c), on a fresh SQLite file in /tmp
 * with the core schema: the plugin's migrations go through store_migrate()
 * and its statements through store_query(), and each command or timer run
 * is a unit of work that MB_FAIL rolls back, as in the daemon.
 */
#include "config.h"

#include <ctype.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include <criterion/criterion.h>
#include <sqlite3.h>

#include "base/gw.h"

#include "base/conf.h"
#include "text/gsm.h"
#include "marketbox-plugin.h"
#include "pay/pay.h"
#include "store/store.h"
#include "text/words.h"

#include "host_store.h"
#include "plugin_mock.h"

#define MOCK_MAX_CONF		32
#define MOCK_MAX_SCRATCH	256
#define MOCK_MAX_OTHER		16	/* words arg_other can be set for */
#define MOCK_MAX_MEMBERS	8	/* plugin_mock_member() per mock */
#define MOCK_MAX_SEASONS	4	/* mock_season() per mock */
#define MOCK_MAX_ADMINS		4	/* mock_admin() per mock */
#define MOCK_MAX_HUBS		8	/* mock_hub() per mock */
#define MOCK_MAX_PLACES		8	/* mock_place() per mock */

struct mb_ctx {
	struct mock		*m;
};

struct mb_plugin_ctx {
	struct mock		*m;
};

/* A member of a service point the test declared (plugin_mock_member). */
struct mock_member {
	char			*identity, *label, *agent;
};

/*
 * A hub of the delivery chain the test declared (mock_hub): places and
 * operators are ';'-separated lists, as the test gave them.
 */
struct mock_hub {
	char			*code, *name, *level, *parent;
	char			*places, *operators;
};

struct mock {
	const struct mb_plugin	*p;
	/* the table the plugin is handed: mock_table, its size as the test
	   sets it (mock_host_size) */
	struct mb_host		 table;
	struct mock_member	 members[MOCK_MAX_MEMBERS];
	size_t			 nmembers;
	struct mb_season	 seasons[MOCK_MAX_SEASONS];
	size_t			 nseasons;
	char			*admins[MOCK_MAX_ADMINS];	/* role_users */
	size_t			 nadmins;
	struct mock_hub		 hubs[MOCK_MAX_HUBS];	/* mock_hub */
	size_t			 nhubs;
	char			*place_who[MOCK_MAX_PLACES];	/* mock_place */
	char			*place_of[MOCK_MAX_PLACES];
	int			 fail_contact;	/* contact() returns NULL */
	char			*pay_number;	/* pay_to(); NULL: none */
	char			 pay_events[512];	/* pay_event() */
	size_t			(*sms_parts)(const char *);	/* or NULL */
	int			 no_country_code;	/* mock_no_country_code */
	int			 fail_trade;	/* trade_done() returns -1 */
	struct mock_trade	*trades;
	size_t			 ntrades;
	struct mb_ctx		 ctx;
	struct mb_plugin_ctx	 pctx;
	struct store		*store;
	char			 dir[64];	/* the store's files */
	char			*keys[MOCK_MAX_CONF];
	char			*values[MOCK_MAX_CONF];
	size_t			 nconf;
	void			*state;
	int			 inited;
	/* the sender */
	char			*msisdn, *name, *market, *language;
	unsigned		 roles;
	long long		 now;
	long long		 ref;
	/* the message being handled, or the timer running */
	int			 in_handler, in_timer;
	int			 fail_sends;	/* reply, notify fail */
	int			 confirmed;	/* confirmed() answers */
	char			*other[MOCK_MAX_OTHER];	/* arg_other(i) */
	int			 replies;	/* by the running handler */
	struct words		 words;
	size_t			 first;
	char			*scratch[MOCK_MAX_SCRATCH];
	size_t			 nscratch;
	/* what the plugin did */
	struct mock_msg		*sent;
	size_t			 nsent;
	char			**logs;
	size_t			 nlogs;
};

/* The mock log() with a NULL context reaches (tests run one at a time). */
static struct mock	*mock_current;

/* --- the tiny catalogue ---------------------------------------------------- */

struct mock_entry {
	const char	*code;
	const char	*words[4];	/* besides the code */
	const char	*extra1;	/* commodity: unit; market: name */
	const char	*extra2;	/* market: region; commodity: kind
					   (NULL: produce) */
};

static const struct mock_entry mock_commodities[] = {
	{ "maize", { "mahindi", "mais", NULL }, "bag", NULL },
	{ "beans", { "maharagwe", NULL }, "kg", NULL },
	{ "dap", { "mbolea", NULL }, "bag", "input" },	/* a farm input */
};
static const struct mock_entry mock_units[] = {
	{ "bag", { "bags", "gunia", NULL }, NULL, NULL },
	{ "kg", { "kilo", "kilos", NULL }, NULL, NULL },
};
static const struct mock_entry mock_markets[] = {
	{ "nakuru", { "nakuru", NULL }, "Nakuru", "Rift Valley" },
	{ "mombasa", { "mombasa", "msa", NULL }, "Mombasa", "Coast" },
};
static const struct {
	const char	*msisdn, *name;
} mock_users[] = {
	{ "+254700000001", "Wanjiru" },
	{ "+254700000002", "Otieno" },
	{ "+254711000333", "Kamau" },		/* registered transporters */
	{ "+256772000999", "Okello" },
};
/* The shipped conf's currency and currency-aliases. */
static const char * const mock_currencies[] = {
	"kes", "ksh", "kshs", "sh", "shs", "/=", "/-", "f", "fcfa", "cfa",
	"元", "块", "¥", "at", "@"
};

#define MOCK_N(a)	(sizeof(a) / sizeof((a)[0]))

static char *
mock_strdup(const char *s)
{
	char	*d;

	if (s == NULL)
		return NULL;
	d = strdup(s);
	cr_assert_not_null(d, "mock: out of memory");
	return d;
}

static char *
mock_strdup_n(const char *s, size_t n)
{
	char	*d = strndup(s, n);

	cr_assert_not_null(d, "mock: out of memory");
	return d;
}

/* Lend s to the plugin until the handler (or timer) returns. */
static const char *
mock_keep(struct mock *m, char *s)
{
	if (s == NULL)
		return NULL;
	cr_assert_lt(m->nscratch, MOCK_MAX_SCRATCH,
	    "mock: more than %d strings lent in one handler",
	    MOCK_MAX_SCRATCH);
	m->scratch[m->nscratch++] = s;
	return s;
}

static void
mock_scratch_clear(struct mock *m)
{
	size_t	 i;

	for (i = 0; i < m->nscratch; i++)
		free(m->scratch[i]);
	m->nscratch = 0;
}

static const struct mock_entry *
mock_lookup(const struct mock_entry *t, size_t n, const char *word,
    int by_name)
{
	size_t	 i, j;

	if (word == NULL)
		return NULL;
	for (i = 0; i < n; i++) {
		if (strcasecmp(t[i].code, word) == 0 ||
		    (by_name && t[i].extra1 && strcasecmp(t[i].extra1, word) == 0))
			return &t[i];
		for (j = 0; j < MOCK_N(t[i].words) && t[i].words[j]; j++)
			if (strcasecmp(t[i].words[j], word) == 0)
				return &t[i];
	}
	return NULL;
}

/* --- the host table ---------------------------------------------------------- */

static const char *
mock_h_sender(struct mb_ctx *ctx)
{
	return ctx->m->in_handler ? ctx->m->msisdn : NULL;
}

static const char *
mock_h_sender_name(struct mb_ctx *ctx)
{
	return ctx->m->in_handler ? ctx->m->name : NULL;
}

static const char *
mock_h_sender_market(struct mb_ctx *ctx)
{
	return ctx->m->in_handler ? ctx->m->market : NULL;
}

/* In a timer, the default language (en), as in the daemon. */
static const char *
mock_h_sender_language(struct mb_ctx *ctx)
{
	return ctx->m->in_handler ? ctx->m->language : "en";
}

static unsigned
mock_h_sender_roles(struct mb_ctx *ctx)
{
	return ctx->m->in_handler ? ctx->m->roles : 0;
}

static int
mock_h_sender_registered(struct mb_ctx *ctx)
{
	return ctx->m->in_handler && ctx->m->name != NULL;
}

static size_t
mock_h_argc(struct mb_ctx *ctx)
{
	struct mock	*m = ctx->m;

	return m->in_handler && m->words.n > m->first ?
	    m->words.n - m->first : 0;
}

static const char *
mock_h_arg(struct mb_ctx *ctx, size_t i)
{
	if (i >= mock_h_argc(ctx))
		return NULL;
	return ctx->m->words.word[ctx->m->first + i];
}

static const char *
mock_h_rest(struct mb_ctx *ctx, size_t i)
{
	if (!ctx->m->in_handler)
		return "";
	return words_rest(&ctx->m->words, ctx->m->first + i);
}

static int
mock_h_arg_number(struct mb_ctx *ctx, size_t i, long long min, long long max,
    long long *out)
{
	const char	*a = mock_h_arg(ctx, i);

	return a != NULL && words_number(a, min, max, out);
}

static void
mock_capture(struct mock *m, const char *to, const char *tmpl,
    const struct mb_arg *args, size_t nargs)
{
	struct mock_msg	*msg;
	size_t		 i;

	cr_assert(tmpl != NULL && tmpl[0] != '\0',
	    "plugin %s: a reply or notice without a template", m->p->name);
	cr_assert(nargs == 0 || args != NULL,
	    "plugin %s: %zu args but no array (template %s)", m->p->name,
	    nargs, tmpl);
	msg = realloc(m->sent, (m->nsent + 1) * sizeof(*msg));
	cr_assert_not_null(msg, "mock: out of memory");
	m->sent = msg;
	msg = &m->sent[m->nsent++];
	memset(msg, 0, sizeof(*msg));
	msg->to = mock_strdup(to);
	msg->tmpl = mock_strdup(tmpl);
	msg->nargs = nargs;
	msg->names = calloc(nargs + 1, sizeof(char *));
	msg->values = calloc(nargs + 1, sizeof(char *));
	cr_assert(msg->names != NULL && msg->values != NULL);
	for (i = 0; i < nargs; i++) {
		cr_assert(args[i].name != NULL && args[i].name[0] != '\0',
		    "plugin %s: arg %zu of template %s has no name",
		    m->p->name, i, tmpl);
		msg->names[i] = mock_strdup(args[i].name);
		msg->values[i] = mock_strdup(args[i].value ? args[i].value :
		    "");
	}
}

static int
mock_h_reply(struct mb_ctx *ctx, const char *tmpl, const struct mb_arg *args,
    size_t nargs)
{
	/* As in the daemon: a timer has no one to reply to. */
	if (!ctx->m->in_handler || ctx->m->fail_sends)
		return -1;
	mock_capture(ctx->m, NULL, tmpl, args, nargs);
	ctx->m->replies++;
	return 0;
}

static int
mock_h_notify(struct mb_ctx *ctx, const char *msisdn, const char *tmpl,
    const struct mb_arg *args, size_t nargs)
{
	if (msisdn == NULL || msisdn[0] == '\0' || ctx->m->fail_sends)
		return -1;
	mock_capture(ctx->m, msisdn, tmpl, args, nargs);
	return 0;
}

/*
 * ABI 1's SQLite slots, for plugins not yet moved to the store functions:
 * typed as the slots are (void * once the header drops <sqlite3.h>).
 */
static __typeof__(((const struct mb_host *)0)->abi1_db(NULL))
mock_h_db(struct mb_ctx *ctx)
{
	return store_db(ctx->m->store);
}

static __typeof__(((const struct mb_host *)0)->abi1_stmt(NULL, NULL))
mock_h_stmt(struct mb_ctx *ctx, const char *sql)
{
	return store_stmt(ctx->m->store, sql);
}

/* The store's statements (host_store.c) run on the mock's store. */
struct store *
host_store_of(struct mb_ctx *ctx)
{
	return ctx->m->store;
}

static long long
mock_h_ref_next(struct mb_ctx *ctx, const char *kind)
{
	(void)kind;
	return ++ctx->m->ref;
}

static const char *
mock_h_commodity(struct mb_ctx *ctx, const char *word)
{
	const struct mock_entry	*e = mock_lookup(mock_commodities,
	    MOCK_N(mock_commodities), word, 0);

	(void)ctx;
	return e ? e->code : NULL;
}

static const char *
mock_h_commodity_unit(struct mb_ctx *ctx, const char *code)
{
	size_t	 i;

	(void)ctx;
	for (i = 0; code != NULL && i < MOCK_N(mock_commodities); i++)
		if (strcmp(mock_commodities[i].code, code) == 0)
			return mock_commodities[i].extra1;
	return NULL;
}

static const char *
mock_h_unit(struct mb_ctx *ctx, const char *word)
{
	const struct mock_entry	*e = mock_lookup(mock_units,
	    MOCK_N(mock_units), word, 0);

	(void)ctx;
	return e ? e->code : NULL;
}

static const char *
mock_h_market(struct mb_ctx *ctx, const char *word)
{
	const struct mock_entry	*e = mock_lookup(mock_markets,
	    MOCK_N(mock_markets), word, 1);

	(void)ctx;
	return e ? e->code : NULL;
}

static const struct mock_entry *
mock_market_code(const char *code)
{
	size_t	 i;

	for (i = 0; code != NULL && i < MOCK_N(mock_markets); i++)
		if (strcmp(mock_markets[i].code, code) == 0)
			return &mock_markets[i];
	return NULL;
}

static const char *
mock_h_market_name(struct mb_ctx *ctx, const char *code)
{
	const struct mock_entry	*e = mock_market_code(code);

	(void)ctx;
	return e ? e->extra1 : NULL;
}

static const char *
mock_h_market_region(struct mb_ctx *ctx, const char *code)
{
	const struct mock_entry	*e = mock_market_code(code);

	(void)ctx;
	return e ? e->extra2 : NULL;
}

/* As the daemon: one edit away (two for words of six letters or more). */
/* The entry of t closest to a misspelt word, as the core's catalogue. */
static const char *
mock_suggest(const struct mock_entry *t, size_t n, const char *word)
{
	const char	*best = NULL;
	int		 bestd, d, max;
	size_t		 i, j;

	if (word == NULL || strlen(word) < 3)
		return NULL;
	max = strlen(word) >= 6 ? 2 : 1;
	bestd = max + 1;
	for (i = 0; i < n; i++) {
		const struct mock_entry *e = &t[i];

		d = words_distance(word, e->code, max);
		for (j = 0; j < MOCK_N(e->words) && e->words[j]; j++) {
			int	 dj = words_distance(word, e->words[j], max);

			if (dj < d)
				d = dj;
		}
		if (d < bestd) {
			bestd = d;
			best = e->code;
		}
	}
	return best;
}

static const char *
mock_h_commodity_suggest(struct mb_ctx *ctx, const char *word)
{
	(void)ctx;
	return mock_suggest(mock_commodities, MOCK_N(mock_commodities), word);
}

static const char *
mock_h_market_suggest(struct mb_ctx *ctx, const char *word)
{
	(void)ctx;
	return mock_suggest(mock_markets, MOCK_N(mock_markets), word);
}

/* Kenya, as mock_h_msisdn; none after mock_no_country_code. */
static const char *
mock_h_country_code(struct mb_ctx *ctx)
{
	return ctx->m->no_country_code ? NULL : "+254";
}

/* As the host: the outbox's measure, accents folded when that saves one. */
static size_t
mock_h_sms_parts(struct mb_ctx *ctx, const char *text)
{
	if (text != NULL && ctx->m->sms_parts != NULL)
		return ctx->m->sms_parts(text);
	return text != NULL ? gsm_sent_parts(text, strlen(text)) : 0;
}

static const char *
mock_h_currency(struct mb_ctx *ctx)
{
	(void)ctx;
	return "KES";
}

static long long
mock_h_now(struct mb_ctx *ctx)
{
	struct mock	*m = ctx != NULL ? ctx->m : mock_current;

	cr_assert_not_null(m, "mock: now() with no context and no mock");
	return m->now;
}

static void mock_h_log(struct mb_ctx *, int, const char *, ...)
    __attribute__((format(printf, 3, 4)));

static void
mock_h_log(struct mb_ctx *ctx, int level, const char *fmt, ...)
{
	struct mock	*m = ctx != NULL ? ctx->m : mock_current;
	char		 buf[1024], **n;
	va_list		 ap;

	va_start(ap, fmt);
	vsnprintf(buf + 2, sizeof(buf) - 2, fmt, ap);
	va_end(ap);
	buf[0] = level >= MB_LOG_DEBUG && level <= MB_LOG_ERROR ?
	    (char)('0' + level) : '?';
	buf[1] = ' ';
	cr_assert_not_null(m, "mock: log() with no context and no mock");
	fprintf(stderr, "mock: plugin %s: %s\n", m->p->name, buf);
	n = realloc(m->logs, (m->nlogs + 1) * sizeof(*n));
	cr_assert_not_null(n, "mock: out of memory");
	m->logs = n;
	m->logs[m->nlogs++] = mock_strdup(buf);
}

static const char *
mock_h_conf(struct mb_plugin_ctx *pctx, const char *key)
{
	struct mock	*m = pctx->m;
	size_t		 i;

	for (i = 0; key != NULL && i < m->nconf; i++)
		if (strcmp(m->keys[i], key) == 0)
			return m->values[i];
	return NULL;
}

static void *
mock_h_state(struct mb_plugin_ctx *pctx)
{
	return pctx->m->state;
}

static void
mock_h_set_state(struct mb_plugin_ctx *pctx, void *state)
{
	pctx->m->state = state;
}

static struct mb_ctx *
mock_h_timer_ctx(struct mb_plugin_ctx *pctx)
{
	return pctx->m->in_timer ? &pctx->m->ctx : NULL;
}

static void *
mock_h_plugin_state(struct mb_ctx *ctx)
{
	return ctx->m->state;
}

/* The member the test declared with identity who, or NULL. */
static const struct mock_member *
mock_member_of(const struct mock *m, const char *who)
{
	size_t	 i;

	for (i = 0; who != NULL && i < m->nmembers; i++)
		if (strcmp(m->members[i].identity, who) == 0)
			return &m->members[i];
	return NULL;
}

static const char *
mock_h_user_name(struct mb_ctx *ctx, const char *msisdn)
{
	const struct mock_member	*mb;
	size_t				 i;

	/* a member: "Mary Wanjiku via Kiambogo point", as the core's
	   member-label */
	if ((mb = mock_member_of(ctx->m, msisdn)) != NULL)
		return mb->label;
	for (i = 0; msisdn != NULL && i < MOCK_N(mock_users); i++)
		if (strcmp(mock_users[i].msisdn, msisdn) == 0)
			return mock_users[i].name;
	return NULL;
}

/*
 * The mock's registered users and members all joined on 1 March 2024
 * (MOCK_USER_SINCE); anyone else is no user (0).
 */
static long long
mock_h_user_since(struct mb_ctx *ctx, const char *msisdn)
{
	size_t	 i;

	if (mock_member_of(ctx->m, msisdn) != NULL)
		return MOCK_USER_SINCE;
	for (i = 0; msisdn != NULL && i < MOCK_N(mock_users); i++)
		if (strcmp(mock_users[i].msisdn, msisdn) == 0)
			return MOCK_USER_SINCE;
	return 0;
}

static int
mock_h_user_trade(struct mb_ctx *ctx, const char *msisdn)
{
	(void)ctx;
	return msisdn != NULL ? 0 : -1;
}

/* A member's agent's phone, else msisdn itself, as the core's contact(). */
static const char *
mock_h_contact(struct mb_ctx *ctx, const char *msisdn)
{
	const struct mock_member	*mb;

	cr_assert_not_null(msisdn, "plugin: contact() of NULL");
	if (ctx->m->fail_contact)
		return NULL;
	if ((mb = mock_member_of(ctx->m, msisdn)) != NULL)
		return mb->agent;
	return msisdn;
}

/* Kept for the test to read (mock_trade); the core's commissions. */
static int
mock_h_trade_done(struct mb_ctx *ctx, long long ref, const char *seller,
    const char *buyer, long long total)
{
	struct mock		*m = ctx->m;
	struct mock_trade	*t;

	cr_assert(seller != NULL && buyer != NULL,
	    "plugin: trade_done() without a seller or a buyer");
	if (m->fail_trade)
		return -1;
	t = realloc(m->trades, (m->ntrades + 1) * sizeof(*t));
	cr_assert_not_null(t, "mock: out of memory");
	m->trades = t;
	t = &m->trades[m->ntrades++];
	t->ref = ref;
	t->seller = mock_strdup(seller);
	t->buyer = mock_strdup(buyer);
	t->total = total;
	return 0;
}

/* Kenyan numbers, as the daemon with country-code = 254. */
static const char *
mock_h_msisdn(struct mb_ctx *ctx, const char *typed)
{
	char		 digits[24], out[32];
	size_t		 n = 0;
	int		 plus = 0;
	const char	*p;

	if (typed == NULL)
		return NULL;
	for (p = typed; *p != '\0'; p++) {
		if (*p == '+' && n == 0 && !plus)
			plus = 1;
		else if (isdigit((unsigned char)*p) && n + 1 < sizeof(digits))
			digits[n++] = *p;
		else if (*p != ' ' && *p != '-')
			return NULL;
	}
	digits[n] = '\0';
	if (plus && n >= 7 && n <= 15)
		snprintf(out, sizeof(out), "+%s", digits);
	else if (!plus && n == 10 && digits[0] == '0' &&
	    !ctx->m->no_country_code)
		snprintf(out, sizeof(out), "+254%s", digits + 1);
	else if (!plus && n == 12 && strncmp(digits, "254", 3) == 0 &&
	    !ctx->m->no_country_code)
		snprintf(out, sizeof(out), "+%s", digits);
	else
		return NULL;
	return mock_keep(ctx->m, mock_strdup(out));
}

/*
 * STOP, as the core keeps it: opt_out of the users table (the core's, in
 * the mock's store; a test adds the rows it needs).  0 for no row.
 */
static int
mock_h_user_opt_out(struct mb_ctx *ctx, const char *msisdn)
{
	static const char	 sql[] =
	    "SELECT opt_out FROM users WHERE msisdn = $1";
	struct store_stmt	*st;
	int			 out = 0, rc;

	if (msisdn == NULL ||
	    (st = store_query(ctx->m->store, sql)) == NULL)
		return -1;
	store_bind_text(st, 1, msisdn);
	if ((rc = store_step(st)) == STORE_ROW)
		out = store_int(st, 0) == 1;
	store_done(st);
	return rc == STORE_ERROR ? -1 : out;
}

/*
 * render() as "tmpl(name=value,name=value)": what the plugin asked for,
 * readable in a test's assertion, not a language file's text.
 */
static const char *
mock_h_render(struct mb_ctx *ctx, const char *msisdn, const char *tmpl,
    const struct mb_arg *args, size_t nargs)
{
	char	*out;
	size_t	 i, len;
	FILE	*f;

	(void)msisdn;
	cr_assert(tmpl != NULL && tmpl[0] != '\0',
	    "plugin %s: render() without a template", ctx->m->p->name);
	if (ctx->m->fail_sends)
		return NULL;
	f = open_memstream(&out, &len);
	cr_assert_not_null(f);
	fprintf(f, "%s(", tmpl);
	for (i = 0; i < nargs; i++)
		fprintf(f, "%s%s=%s", i ? "," : "", args[i].name,
		    args[i].value ? args[i].value : "");
	fputc(')', f);
	fclose(f);
	return mock_keep(ctx->m, out);
}

static int
mock_h_ask(struct mb_ctx *ctx, const char *msisdn, const char *tmpl,
    const struct mb_arg *args, size_t nargs, const char *command, int ttl)
{
	struct mock	*m = ctx->m;

	cr_assert(command != NULL && command[0] != '\0',
	    "plugin %s: ask() without a command", m->p->name);
	cr_assert(ttl >= 0, "plugin %s: ask() with ttl %d", m->p->name, ttl);
	if (m->fail_sends)
		return -1;
	mock_capture(m, msisdn, tmpl, args, nargs);
	m->sent[m->nsent - 1].command = mock_strdup(command);
	if (msisdn == NULL)
		m->replies++;
	return 0;
}

static int
mock_h_confirmed(struct mb_ctx *ctx)
{
	return ctx->m->confirmed;
}

/* As the daemon: the reading words.c kept besides arg()'s, or NULL. */
static const char *
mock_h_arg_other(struct mb_ctx *ctx, size_t i)
{
	/* a reading the test set wins over the words' own */
	if (i < MOCK_MAX_OTHER && ctx->m->other[i] != NULL)
		return ctx->m->other[i];
	if (i >= mock_h_argc(ctx) || ctx->m->words.other == NULL)
		return NULL;
	return ctx->m->words.other[ctx->m->first + i];
}

static const char *
mock_h_commodity_kind(struct mb_ctx *ctx, const char *code)
{
	size_t	 i;

	(void)ctx;
	for (i = 0; code != NULL && i < MOCK_N(mock_commodities); i++)
		if (strcmp(mock_commodities[i].code, code) == 0)
			return mock_commodities[i].extra2 != NULL ?
			    mock_commodities[i].extra2 : "produce";
	return NULL;
}

/* As the daemon's: the paybill mock_pay_to gave (none by default). */
static int
mock_h_pay_to(struct mb_ctx *ctx, long long ref, const char **number,
    const char **account)
{
	char	 buf[32];

	if (ctx->m->pay_number == NULL)
		return 0;
	snprintf(buf, sizeof(buf), "%lld", ref);
	*number = ctx->m->pay_number;
	*account = mock_keep(ctx->m, mock_strdup(buf));
	return 1;
}

/* As the daemon's, without money: each call noted ("43 closed"). */
static int
mock_h_pay_event(struct mb_ctx *ctx, long long ref, int event)
{
	char	*e = ctx->m->pay_events;
	size_t	 n = strlen(e);

	if (event != MB_PAY_CLOSED && event != MB_PAY_DELIVERED)
		return -1;
	snprintf(e + n, sizeof(ctx->m->pay_events) - n, "%s%lld %s",
	    n > 0 ? "; " : "", ref, event == MB_PAY_CLOSED ? "closed" :
	    "delivered");
	return 0;
}

static int
mock_pay_notify(void *arg, const char *msisdn, const char *tmpl,
    const struct mb_arg *args, size_t nargs)
{
	return mock_h_notify(arg, msisdn, tmpl, args, nargs);
}

/*
 * As the daemon's: the core's own pay_said() on the mock's store (the
 * ledger, the claims and the money state are real, both engines), with a
 * conf of the mock's currency, direct mode and no admins; its notices
 * captured as the plugin's.
 */
static int
mock_h_pay_said(struct mb_ctx *ctx, long long ref, int what,
    const char *reference, long long *amount, const char **state)
{
	struct conf	 c;
	enum pay_state	 st = PAY_UNPAID;
	int		 rc;

	*amount = 0;
	*state = pay_state_name(st);
	if (what < MB_PAY_SAID_PAID || what > MB_PAY_SAID_CASH ||
	    !ctx->m->in_handler)
		return MB_PAY_REFUSED;
	memset(&c, 0, sizeof(c));
	c.currency = (char *)mock_h_currency(ctx);
	rc = pay_said(ctx->m->store, &c, ref,
	    (enum pay_said)(what - MB_PAY_SAID_PAID), ctx->m->msisdn,
	    reference, mock_pay_notify, ctx, amount, &st);
	*state = pay_state_name(st);
	return rc;
}

const char *
mock_pay_events(struct mock *m)
{
	return m->pay_events;
}

void
mock_pay_events_clear(struct mock *m)
{
	m->pay_events[0] = '\0';
}

void
mock_pay_to(struct mock *m, const char *number)
{
	free(m->pay_number);
	m->pay_number = number != NULL ? mock_strdup(number) : NULL;
}

/* As the daemon's: the place the test gave msisdn (mock_place), or NULL. */
static const char *
mock_h_user_place(struct mb_ctx *ctx, const char *msisdn)
{
	size_t	 i;

	for (i = 0; msisdn != NULL && i < MOCK_MAX_PLACES; i++)
		if (ctx->m->place_who[i] != NULL &&
		    strcmp(ctx->m->place_who[i], msisdn) == 0)
			return ctx->m->place_of[i];
	return NULL;
}

/* As the daemon: what fits in out->size, size set to what was filled. */
static int
mock_h_season(struct mb_ctx *ctx, size_t i, struct mb_season *out)
{
	struct mb_season	 s;
	size_t			 n;

	if (out == NULL || i >= ctx->m->nseasons)
		return -1;
	s = ctx->m->seasons[i];
	n = out->size < sizeof(s) ? out->size : sizeof(s);
	if (n < sizeof(s.size))
		return -1;
	s.size = n;
	memcpy(out, &s, n);
	return 0;
}

/* The admins the test declared (mock_admin); no other role lists anyone. */
static long
mock_h_role_users(struct mb_ctx *ctx, unsigned role, const char **out,
    size_t max)
{
	struct mock	*m = ctx->m;
	size_t		 i;

	cr_assert_not_null(out, "plugin: role_users() without room");
	if (role != MB_ROLE_ADMIN)
		return 0;
	for (i = 0; i < m->nadmins && i < max; i++)
		out[i] = m->admins[i];
	return (long)i;
}

/* --- the delivery chain: the hubs the test declared (mock_hub) --- */

static const struct mock_hub *
mock_hub_of(const struct mock *m, const char *code)
{
	size_t	 i;

	for (i = 0; code != NULL && i < m->nhubs; i++)
		if (strcmp(m->hubs[i].code, code) == 0)
			return &m->hubs[i];
	return NULL;
}

/* 1 if the ';'-separated list has word. */
static int
mock_list_has(const char *list, const char *word)
{
	size_t		 n = strlen(word);
	const char	*p = list;

	while (p != NULL && *p != '\0') {
		if (strncmp(p, word, n) == 0 && (p[n] == ';' || p[n] == '\0'))
			return 1;
		if ((p = strchr(p, ';')) != NULL)
			p++;
	}
	return 0;
}

/* As the daemon: what fits in out->size, size set to what was filled. */
static int
mock_h_hub(struct mb_ctx *ctx, const char *code, struct mb_hub *out)
{
	const struct mock_hub	*h = mock_hub_of(ctx->m, code);
	struct mb_hub		 b;
	const char		*p;
	size_t			 n, len;

	cr_assert_not_null(out, "plugin: hub() without room");
	if (h == NULL)
		return 0;
	memset(&b, 0, sizeof(b));
	b.code = h->code;
	b.level = h->level;
	b.parent = h->parent;
	for (p = h->operators; p != NULL && *p != '\0' &&
	    b.noperators < MB_HUB_OPERATORS; p += len + (p[len] == ';')) {
		len = strcspn(p, ";");
		b.operators[b.noperators++] = mock_keep(ctx->m,
		    mock_strdup_n(p, len));
	}
	n = out->size < sizeof(b) ? out->size : sizeof(b);
	cr_assert_geq(n, sizeof(b.size), "plugin: hub() without a size");
	b.size = n;
	memcpy(out, &b, n);
	return 1;
}

static const char *
mock_h_hub_name(struct mb_ctx *ctx, const char *msisdn, const char *code)
{
	const struct mock_hub	*h = mock_hub_of(ctx->m, code);

	(void)msisdn;
	return h != NULL ? h->name : NULL;
}

static const char *
mock_h_market_hub(struct mb_ctx *ctx, const char *place)
{
	size_t	 i;

	for (i = 0; place != NULL && i < ctx->m->nhubs; i++)
		if (mock_list_has(ctx->m->hubs[i].places, place))
			return ctx->m->hubs[i].code;
	return NULL;
}

/*
 * As plugin.h says: up from from's hub to the first hub both chains
 * share, then down to to's hub; 0 when one hub serves both, when either
 * has none, or when the chains never meet.
 */
static long
mock_h_route(struct mb_ctx *ctx, const char *from, const char *to,
    const char **out, size_t max)
{
	const struct mock_hub	*up[MOCK_MAX_HUBS], *down[MOCK_MAX_HUBS], *h;
	const char		*a, *b;
	size_t			 nu = 0, nd = 0, i, j, n = 0;

	cr_assert_not_null(out, "plugin: route() without room");
	if ((a = mock_h_market_hub(ctx, from)) == NULL ||
	    (b = mock_h_market_hub(ctx, to)) == NULL || strcmp(a, b) == 0)
		return 0;
	for (h = mock_hub_of(ctx->m, a); h != NULL && nu < MOCK_MAX_HUBS;
	    h = mock_hub_of(ctx->m, h->parent))
		up[nu++] = h;
	for (h = mock_hub_of(ctx->m, b); h != NULL && nd < MOCK_MAX_HUBS;
	    h = mock_hub_of(ctx->m, h->parent))
		down[nd++] = h;
	for (i = 0; i < nu; i++)
		for (j = 0; j < nd; j++)
			if (up[i] == down[j])
				goto met;
	return 0;
met:
	if (i + j + 1 > max)
		return -1;
	for (n = 0; n <= i; n++)
		out[n] = up[n]->code;
	while (j-- > 0)
		out[n++] = down[j]->code;
	return (long)n;
}

static const struct mb_host mock_table = {
	.abi = MB_PLUGIN_ABI,
	.size = sizeof(struct mb_host),
	.sender = mock_h_sender,
	.sender_name = mock_h_sender_name,
	.sender_market = mock_h_sender_market,
	.sender_language = mock_h_sender_language,
	.sender_roles = mock_h_sender_roles,
	.sender_registered = mock_h_sender_registered,
	.argc = mock_h_argc,
	.arg = mock_h_arg,
	.rest = mock_h_rest,
	.arg_number = mock_h_arg_number,
	.reply = mock_h_reply,
	.notify = mock_h_notify,
	.abi1_db = mock_h_db,
	.abi1_stmt = mock_h_stmt,
	.ref_next = mock_h_ref_next,
	.commodity = mock_h_commodity,
	.commodity_unit = mock_h_commodity_unit,
	.unit = mock_h_unit,
	.market = mock_h_market,
	.market_name = mock_h_market_name,
	.market_region = mock_h_market_region,
	.commodity_suggest = mock_h_commodity_suggest,
	.currency = mock_h_currency,
	.now = mock_h_now,
	.log = mock_h_log,
	.conf = mock_h_conf,
	.state = mock_h_state,
	.set_state = mock_h_set_state,
	.timer_ctx = mock_h_timer_ctx,
	.plugin_state = mock_h_plugin_state,
	.user_name = mock_h_user_name,
	.user_trade = mock_h_user_trade,
	.msisdn = mock_h_msisdn,
	.user_opt_out = mock_h_user_opt_out,
	.render = mock_h_render,
	.ask = mock_h_ask,
	.confirmed = mock_h_confirmed,
	.arg_other = mock_h_arg_other,
	.sms_parts = mock_h_sms_parts,
	.market_suggest = mock_h_market_suggest,
	.country_code = mock_h_country_code,
	HOST_STORE_FUNCTIONS,
	.contact = mock_h_contact,
	.trade_done = mock_h_trade_done,
	.commodity_kind = mock_h_commodity_kind,
	.season = mock_h_season,
	.user_since = mock_h_user_since,
	.role_users = mock_h_role_users,
	.hub = mock_h_hub,
	.hub_name = mock_h_hub_name,
	.market_hub = mock_h_market_hub,
	.route = mock_h_route,
	.user_place = mock_h_user_place,
	.pay_to = mock_h_pay_to,
	.pay_event = mock_h_pay_event,
	.pay_said = mock_h_pay_said,
};

const struct mb_host *
mock_host(void)
{
	return &mock_table;
}

/* --- the mock's own functions ------------------------------------------------ */

struct mock *
mock_new(const struct mb_plugin *p)
{
	return mock_new_on(p, NULL);
}

struct mock *
mock_new_on(const struct mb_plugin *p, const char *database)
{
	struct store_migration	*steps;
	struct mock		*m;
	char			 path[128];
	size_t			 i;

	cr_assert_not_null(p);
	cr_assert_eq(p->abi, MB_PLUGIN_ABI, "plugin ABI %u, host %d", p->abi,
	    MB_PLUGIN_ABI);
	cr_assert_eq(p->size, sizeof(struct mb_plugin),
	    "descriptor size %zu, host %zu", p->size, sizeof(struct mb_plugin));
	cr_assert(p->name != NULL && p->name[0] != '\0', "plugin without name");
	for (i = 0; i < p->ncommands; i++) {
		cr_assert_not_null(p->commands[i].id);
		cr_assert_not_null(p->commands[i].handler,
		    "command %s has no handler", p->commands[i].id);
		cr_assert(p->commands[i].usage == NULL ||
		    p->commands[i].usage[0] != '\0',
		    "command %s has an empty usage template name",
		    p->commands[i].id);
	}
	m = calloc(1, sizeof(*m));
	cr_assert_not_null(m);
	m->p = p;
	m->table = mock_table;
	m->ctx.m = m;
	m->pctx.m = m;
	m->now = 1700000000;
	mock_current = m;
	mock_sender(m, "+254700000001", "Wanjiru", "nakuru", "en",
	    MB_ROLE_FARMER | MB_ROLE_BUYER);
	/* The store logs through gwlib: a test that has not started it
	   gets it for the rest of the test's process (gwlib does not start
	   twice), quiet below warnings. */
	if (!gwlib_initialized()) {
		gwlib_init();
		log_set_output_level(GW_WARNING);
	}
	/* a file of its own: the store wants WAL, which memory has not */
	snprintf(m->dir, sizeof(m->dir), "%s", "/tmp/plugin_mock_XXXXXX");
	cr_assert_not_null(mkdtemp(m->dir), "mock: no temporary directory");
	snprintf(path, sizeof(path), "%s/mock.db", m->dir);
	m->store = store_open(database != NULL ? database : path, NULL);
	cr_assert_not_null(m->store, "mock: the store does not open");
	steps = calloc(p->nmigrations + 1, sizeof(*steps));
	cr_assert_not_null(steps);
	for (i = 0; i < p->nmigrations; i++) {
		cr_assert_eq(p->migrations[i].version, (int)i + 1,
		    "migration %zu has version %d", i, p->migrations[i].version);
		steps[i].version = p->migrations[i].version;
		steps[i].sql = p->migrations[i].sql;
		steps[i].sql_pg = p->migrations[i].sql_pg;
	}
	cr_assert_eq(store_migrate(m->store, p->name, steps, p->nmigrations),
	    0, "plugin %s: its migrations fail (the log says why)", p->name);
	free(steps);
	return m;
}

void
mock_clear(struct mock *m)
{
	size_t	 i, j;

	for (i = 0; i < m->nsent; i++) {
		for (j = 0; j < m->sent[i].nargs; j++) {
			free(m->sent[i].names[j]);
			free(m->sent[i].values[j]);
		}
		free(m->sent[i].names);
		free(m->sent[i].values);
		free(m->sent[i].to);
		free(m->sent[i].tmpl);
		free(m->sent[i].command);
	}
	free(m->sent);
	m->sent = NULL;
	m->nsent = 0;
}

/* Remove the store's directory and the files in it (no subdirectory). */
static void
mock_rmdir(const char *dir)
{
	static const char * const files[] = {
		"mock.db", "mock.db-wal", "mock.db-shm", "mock.db-journal"
	};
	char	 path[128];
	size_t	 i;

	for (i = 0; i < MOCK_N(files); i++) {
		snprintf(path, sizeof(path), "%s/%s", dir, files[i]);
		(void)unlink(path);
	}
	if (rmdir(dir) == -1)
		fprintf(stderr, "mock: cannot remove %s\n", dir);
}

void
mock_free(struct mock *m)
{
	size_t	 i;

	if (m == NULL)
		return;
	mock_current = m;
	if (m->inited && m->p->fini != NULL)
		m->p->fini(&m->pctx, &m->table);
	mock_clear(m);
	for (i = 0; i < m->nlogs; i++)
		free(m->logs[i]);
	free(m->logs);
	for (i = 0; i < m->nadmins; i++)
		free(m->admins[i]);
	for (i = 0; i < m->nhubs; i++) {
		free(m->hubs[i].code);
		free(m->hubs[i].name);
		free(m->hubs[i].level);
		free(m->hubs[i].parent);
		free(m->hubs[i].places);
		free(m->hubs[i].operators);
	}
	for (i = 0; i < MOCK_MAX_PLACES; i++) {
		free(m->place_who[i]);
		free(m->place_of[i]);
	}
	free(m->pay_number);
	for (i = 0; i < m->nconf; i++) {
		free(m->keys[i]);
		free(m->values[i]);
	}
	store_free(m->store);
	mock_rmdir(m->dir);
	mock_scratch_clear(m);
	words_free(&m->words);
	free(m->msisdn);
	free(m->name);
	free(m->market);
	free(m->language);
	for (i = 0; i < MOCK_MAX_OTHER; i++)
		free(m->other[i]);
	for (i = 0; i < m->ntrades; i++) {
		free(m->trades[i].seller);
		free(m->trades[i].buyer);
	}
	free(m->trades);
	for (i = 0; i < m->nmembers; i++) {
		free(m->members[i].identity);
		free(m->members[i].label);
		free(m->members[i].agent);
	}
	if (mock_current == m)
		mock_current = NULL;
	free(m);
}

void
mock_conf(struct mock *m, const char *key, const char *value)
{
	size_t	 i;
	int	 declared = 0;

	for (i = 0; i < m->p->nconf_keys; i++)
		declared |= strcmp(m->p->conf_keys[i], key) == 0;
	cr_assert(declared, "plugin %s does not declare conf key '%s'",
	    m->p->name, key);
	cr_assert_lt(m->nconf, MOCK_MAX_CONF);
	m->keys[m->nconf] = mock_strdup(key);
	m->values[m->nconf] = mock_strdup(value);
	m->nconf++;
}

int
mock_init(struct mock *m)
{
	int	 rc = MB_OK;

	mock_current = m;
	if (m->p->init != NULL)
		rc = m->p->init(&m->pctx, &m->table);
	m->inited = rc == MB_OK;
	return rc;
}

void
mock_sender(struct mock *m, const char *msisdn, const char *name,
    const char *market, const char *language, unsigned roles)
{
	free(m->msisdn);
	free(m->name);
	free(m->market);
	free(m->language);
	m->msisdn = mock_strdup(msisdn);
	m->name = mock_strdup(name);
	m->market = mock_strdup(market);
	m->language = mock_strdup(language ? language : "en");
	m->roles = roles;
}

void
plugin_mock_member(struct mock *m, const char *identity, const char *label,
    const char *agent_phone)
{
	struct mock_member	*mb;

	cr_assert(identity != NULL && label != NULL && agent_phone != NULL,
	    "mock: a member needs an identity, a label and an agent's phone");
	cr_assert_lt(m->nmembers, MOCK_MAX_MEMBERS, "mock: too many members");
	mb = &m->members[m->nmembers++];
	mb->identity = mock_strdup(identity);
	mb->label = mock_strdup(label);
	mb->agent = mock_strdup(agent_phone);
}

void
mock_sms_parts(struct mock *m, size_t (*fn)(const char *text))
{
	m->sms_parts = fn;
}

void
mock_no_country_code(struct mock *m, int on)
{
	m->no_country_code = on;
}

void
mock_season(struct mock *m, const struct mb_season *s)
{
	cr_assert_lt(m->nseasons, MOCK_MAX_SEASONS, "mock: more than %d "
	    "seasons", MOCK_MAX_SEASONS);
	m->seasons[m->nseasons] = *s;
	m->seasons[m->nseasons++].size = sizeof(*s);
}

void
mock_admin(struct mock *m, const char *msisdn)
{
	cr_assert_lt(m->nadmins, MOCK_MAX_ADMINS, "mock: more than %d "
	    "admins", MOCK_MAX_ADMINS);
	m->admins[m->nadmins++] = mock_strdup(msisdn);
}

void
mock_hub(struct mock *m, const char *code, const char *name,
    const char *level, const char *parent, const char *places,
    const char *operators)
{
	struct mock_hub	*h;

	cr_assert_lt(m->nhubs, MOCK_MAX_HUBS, "mock: more than %d hubs",
	    MOCK_MAX_HUBS);
	h = &m->hubs[m->nhubs++];
	h->code = mock_strdup(code);
	h->name = mock_strdup(name);
	h->level = mock_strdup(level);
	h->parent = mock_strdup(parent);
	h->places = mock_strdup(places);
	h->operators = mock_strdup(operators);
}

void
mock_place(struct mock *m, const char *msisdn, const char *place)
{
	size_t	 i, free_at = MOCK_MAX_PLACES;

	for (i = 0; i < MOCK_MAX_PLACES; i++) {
		if (m->place_who[i] == NULL) {
			if (free_at == MOCK_MAX_PLACES)
				free_at = i;
			continue;
		}
		if (strcmp(m->place_who[i], msisdn) == 0)
			break;
	}
	if (i == MOCK_MAX_PLACES)
		i = free_at;
	cr_assert_lt(i, MOCK_MAX_PLACES, "mock: more than %d places",
	    MOCK_MAX_PLACES);
	free(m->place_who[i]);
	free(m->place_of[i]);
	m->place_who[i] = place != NULL ? mock_strdup(msisdn) : NULL;
	m->place_of[i] = mock_strdup(place);
}

void
mock_host_size(struct mock *m, size_t size)
{
	cr_assert(size >= offsetof(struct mb_host, engine) +
	    sizeof(m->table.engine) && size <= sizeof(struct mb_host),
	    "mock: a host table of %zu bytes cannot be", size);
	m->table.size = size;
}

void
mock_fail_contact(struct mock *m, int on)
{
	m->fail_contact = on;
}

void
mock_fail_trade_done(struct mock *m, int on)
{
	m->fail_trade = on;
}

size_t
mock_ntrades(const struct mock *m)
{
	return m->ntrades;
}

const struct mock_trade *
mock_trade(const struct mock *m, size_t i)
{
	cr_assert_lt(i, m->ntrades, "asked for trade %zu of %zu", i,
	    m->ntrades);
	return &m->trades[i];
}

void
mock_fail_sends(struct mock *m, int on)
{
	m->fail_sends = on;
}

void
mock_set_now(struct mock *m, long long now)
{
	m->now = now;
}

/* The words the daemon's router cuts texts at: here, the catalogue's. */
static struct words_dict *
mock_dict(void)
{
	static const struct {
		const struct mock_entry	*t;
		size_t			 n;
	} tables[] = {
		{ mock_commodities, MOCK_N(mock_commodities) },
		{ mock_units, MOCK_N(mock_units) },
		{ mock_markets, MOCK_N(mock_markets) },
	};
	struct words_dict	*d = words_dict_new();
	size_t			 i, j, k;

	cr_assert_not_null(d);
	for (i = 0; i < MOCK_N(tables); i++)
		for (j = 0; j < tables[i].n; j++) {
			cr_assert_eq(words_dict_add(d, tables[i].t[j].code), 0);
			for (k = 0; k < MOCK_N(tables[i].t[j].words) &&
			    tables[i].t[j].words[k]; k++)
				cr_assert_eq(words_dict_add(d,
				    tables[i].t[j].words[k]), 0);
		}
	return d;
}

/*
 * A command or timer run is a unit of work, committed at its end: what
 * the plugin did is rolled back when it failed, as in the daemon (replies
 * captured stay: a test sees what was asked).
 */
static void
mock_work_begin(struct mock *m)
{
	cr_assert_eq(store_work_begin(m->store), 0, "mock: no transaction");
}

static void
mock_work_end(struct mock *m, int ok)
{
	cr_assert_eq(store_work_end(m->store, ok), 0,
	    "mock: the unit of work does not end");
	cr_assert_eq(store_commit(m->store), 0, "mock: the commit fails");
}

int
mock_command(struct mock *m, const char *text)
{
	struct words_dict	*dict;
	const struct mb_command	*cmd = NULL;
	char			 id[64];
	size_t			 i;
	int			 rc;

	mock_current = m;
	words_free(&m->words);
	dict = mock_dict();
	cr_assert_eq(words_split_dict(text, mock_currencies,
	    MOCK_N(mock_currencies), dict, &m->words), 0);
	words_dict_free(dict);
	if (m->words.n == 0)
		return -100;
	snprintf(id, sizeof(id), "%s", m->words.word[0]);
	for (i = 0; id[i] != '\0'; i++)
		id[i] = (char)toupper((unsigned char)id[i]);
	for (i = 0; i < m->p->ncommands && cmd == NULL; i++)
		if (strcmp(m->p->commands[i].id, id) == 0)
			cmd = &m->p->commands[i];
	if (cmd == NULL)
		return -100;
	/* The router's checks, before any handler runs. */
	if ((cmd->flags & MB_CMD_REGISTERED) && m->name == NULL)
		return -101;
	if (cmd->roles != 0 && (cmd->roles & m->roles) == 0)
		return -101;
	m->first = 1;
	m->in_handler = 1;
	m->replies = 0;
	mock_work_begin(m);
	rc = cmd->handler(&m->ctx, &m->table);
	mock_work_end(m, rc != MB_FAIL);
	m->in_handler = 0;
	mock_scratch_clear(m);
	/* as the daemon: never silence, a handler that said nothing gets
	   the usage too */
	if (rc == MB_USAGE || (rc == MB_OK && m->replies == 0)) {
		/* as the daemon: the command's usage, or "usage-ID" */
		if (cmd->usage != NULL)
			snprintf(id, sizeof(id), "%s", cmd->usage);
		else
			snprintf(id, sizeof(id), "usage-%s", cmd->id);
		mock_capture(m, NULL, id, NULL, 0);
	}
	cr_assert(rc == MB_OK || rc == MB_USAGE || rc == MB_FAIL,
	    "plugin %s: command %s returned %d", m->p->name, cmd->id, rc);
	return rc;
}

void
mock_confirmed(struct mock *m, int on)
{
	m->confirmed = on;
}

void
mock_arg_other(struct mock *m, size_t i, const char *reading)
{
	cr_assert_lt(i, MOCK_MAX_OTHER, "mock: arg_other(%zu) cannot be set",
	    i);
	free(m->other[i]);
	m->other[i] = mock_strdup(reading);
}

int
mock_timer(struct mock *m, const char *name)
{
	const struct mb_timer	*t = NULL;
	size_t			 i;
	int			 rc;

	mock_current = m;
	for (i = 0; i < m->p->ntimers && t == NULL; i++)
		if (strcmp(m->p->timers[i].name, name) == 0)
			t = &m->p->timers[i];
	cr_assert_not_null(t, "plugin %s has no timer %s", m->p->name, name);
	m->in_timer = 1;
	mock_work_begin(m);
	rc = t->run(&m->pctx, &m->table);
	mock_work_end(m, rc == MB_OK);
	m->in_timer = 0;
	mock_scratch_clear(m);
	return rc;
}

size_t
mock_nsent(const struct mock *m)
{
	return m->nsent;
}

const struct mock_msg *
mock_sent(const struct mock *m, size_t i)
{
	cr_assert_lt(i, m->nsent, "asked for message %zu of %zu", i, m->nsent);
	return &m->sent[i];
}

const char *
mock_arg(const struct mock_msg *msg, const char *name)
{
	size_t	 i;

	for (i = 0; i < msg->nargs; i++)
		if (strcmp(msg->names[i], name) == 0)
			return msg->values[i];
	return NULL;
}

size_t
mock_nlogs(const struct mock *m)
{
	return m->nlogs;
}

const char *
mock_log_at(const struct mock *m, size_t i)
{
	return i < m->nlogs ? m->logs[i] : NULL;
}

struct mb_ctx *
mock_ctx(struct mock *m)
{
	return &m->ctx;
}

struct mb_plugin_ctx *
mock_plugin_ctx(struct mock *m)
{
	return &m->pctx;
}

sqlite3 *
mock_db(struct mock *m)
{
	return store_db(m->store);
}

struct store *
mock_store(struct mock *m)
{
	return m->store;
}

void *
mock_state(struct mock *m)
{
	return m->state;
}
