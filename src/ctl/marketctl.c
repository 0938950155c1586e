/*
 * marketctl.c - the operators' command line for marketbox.
 *
 * It reads marketbox's database directly, opened read-only (users,
 * offers, orders, outbox, agents, stats, export, dispute list,
 * payments, payouts, reports, manifest), and asks a running marketbox
 * for every change through its admin HTTP interface (broadcast, retry,
 * user set, agent add and remove, dispute close, payments match,
 * payouts done, reports approve and reject), so
 * the daemon stays the only writer and its rules (STOP, throughput, units
 * of work) apply.  The exceptions, store copy and restore, write a
 * database no marketbox has open (they check); backup copies one while
 * marketbox runs (SQLite's online backup API).  The conf (-c) gives the
 * database, http-interface, http-port, admin-password and backup-dir.
 *
 * Output: aligned tables for people; --csv (RFC 4180) and --json (an
 * array of objects) for scripts.  Long operations (export, broadcast,
 * retry) show their progress on standard error when it is a terminal.
 * Exit status: 0 done, 1 failed (the reason on standard error), 2 usage.
 * Values are checked here as the daemon checks them, so that a typo is a
 * usage error rather than a filter that matches nothing: phones made
 * international by the daemon's msisdn_normalise and the conf's
 * country-code (a local number without one is a usage error), and the
 * values of --kind, --state, --role, --language taken from where the
 * daemon defines them (outbox.h, admin.h, the language files, the
 * plugins' CHECK constraints in the database).
 *
 * The files, one reason to change each (ctl.h holds what they share):
 *	marketctl.c	the command line: global options, each command's
 *			options, the checks of phones and of values from
 *			a set, usage, the command table, and main
 *	rows.c		the database opened read-only; rows printed as a
 *			table, CSV or JSON
 *	lists.c		users, offers, orders, outbox, agents, dispute
 *			list, payments (the ledger), payouts (what is due),
 *			reports (the prices plugin's)
 *	stats.c		stats: the figures of every table
 *	export.c	export: trades, prices, agents' work, commissions
 *			and the payments ledger for other programs
 *	actions.c	broadcast, retry, user set, agent add and remove,
 *			dispute close, payments match, payouts done, reports
 *			approve and reject: through the admin interface over
 *			HTTP
 *	manifest.c	manifest: a hub's orders of a day (the list
 *			behind its morning SMS)
 *	template.c	template: a language's template filled
 *	store_copy.c	store copy: one database into another
 *	backup.c	backup and restore: a SQLite database copied
 *			online, and put back
 *
 * See marketctl(1).
 */
#include "config.h"

#include <sys/types.h>
#include <sys/stat.h>
#include <getopt.h>
#include <locale.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/gw.h"

#include "base/conf.h"
#include "base/phone.h"
#include "store/store.h"
#include "text/lang.h"
#include "ctl/ctl.h"

#ifndef MARKETBOX_CONF_FILE
#define MARKETBOX_CONF_FILE	"/usr/local/etc/marketbox/marketbox.conf"
#endif

/* --- messages ------------------------------------------------------------- */

void
ctl_err(const char *fmt, ...)
{
	va_list	 ap;

	fprintf(stderr, "marketctl: ");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

/* --- values checked as the daemon checks them ------------------------------ */

/*
 * A phone typed in an option or argument (what names it: "--to") into
 * out, in the international form the tables keep, made by the daemon's
 * own msisdn_normalise with the conf's country-code: 0722000111 finds
 * +254722000111 where marketbox would have stored it so.  0, or 2 (a
 * usage error, said): a local number without country-code (marketbox
 * refuses to store one, so it can match nothing), or no phone number.
 */
int
ctl_phone(const struct ctl *c, const char *what, const char *typed,
    char *out, size_t outlen)
{
	const char	*cc = c->conf != NULL ? c->conf->country_code : NULL;
	const char	*p = typed;

	if (msisdn_normalise(cc, typed, out, outlen) == 0)
		return 0;
	while (*p == ' ')
		p++;
	if ((cc == NULL || *cc == '\0') && p[0] == '0' && p[1] != '0' &&
	    msisdn_normalise("1", typed, out, outlen) == 0)
		ctl_err("%s: %s is a local number and %s: give it with + and "
		    "its country code (like +254722000111)", what, typed,
		    c->conf != NULL ? "the conf has no country-code" :
		    "no conf (-c) gives a country-code");
	else
		ctl_err("%s: '%s' is not a phone number", what, typed);
	return 2;
}

/*
 * 0 if value is one of the n allowed; else 2, a usage error that lists
 * them (a filter with a value nothing can hold would match nothing, and
 * say nothing of the typo).
 */
int
ctl_choice(const char *opt, const char *value, const char *const *allowed,
    size_t n)
{
	size_t	 i;

	for (i = 0; i < n; i++)
		if (strcmp(value, allowed[i]) == 0)
			return 0;
	fprintf(stderr, "marketctl: %s: '%s' is not one of:", opt, value);
	for (i = 0; i < n; i++)
		fprintf(stderr, "%s %s", i ? "," : "", allowed[i]);
	fputc('\n', stderr);
	return 2;
}

/*
 * value of --language: one of the conf's language files (lang_load, as
 * the daemon reads them), or "" (users who chose none).  Without a conf
 * the languages are unknown and any value is taken.  0 or 2.
 */
int
ctl_language(const struct ctl *c, const char *opt, const char *value)
{
	struct lang_set		 *langs;
	const char *const	 *codes;
	size_t			  n;
	int			  rc;

	if (c->conf == NULL || *value == '\0')
		return 0;
	if ((langs = lang_load(c->conf->language_dir,
	    c->conf->default_language)) == NULL)
		return 0;	/* lang_load said why; the filter stays */
	codes = lang_codes(langs, &n);
	rc = ctl_choice(opt, value, codes, n);
	lang_free(langs);
	return rc;
}

/*
 * Append the quoted values of the list that follows p ('a', 'b'::text,
 * ...) to vals (at most max).  The number of values.
 */
static size_t
ctl_quoted_list(const char *p, char vals[][24], size_t max)
{
	size_t	 n = 0, k;

	while ((p = strchr(p, '\'')) != NULL && n < max) {
		for (p++, k = 0; *p != '\0' && *p != '\''; p++)
			if (k + 1 < sizeof(vals[0]))
				vals[n][k++] = *p;
		vals[n++][k] = '\0';
		if (*p == '\0')
			break;
		for (p++; *p != '\0' && *p != '\'' && *p != ')' && *p != ']';
		    p++)
			;
		if (*p != '\'')
			break;
	}
	return n;
}

/*
 * value of an option naming a state or kind of a plugin's table: one of
 * the values of its CHECK (column IN (...)) constraint, read from the
 * database itself (the schema the daemon made is the definition: a
 * later migration that adds a state adds it there), or extra ("all",
 * or NULL).  When the constraint cannot be read any value is taken.
 * 0, or 2 (said).
 */
int
ctl_db_choice(struct ctl *c, const char *opt, const char *value,
    const char *table, const char *column, const char *extra)
{
	static const char lite[] = "SELECT sql FROM sqlite_master WHERE "
	    "type = 'table' AND name = $1";
	static const char pg[] = "SELECT pg_get_constraintdef(k.oid) FROM "
	    "pg_constraint k JOIN pg_class t ON t.oid = k.conrelid JOIN "
	    "pg_namespace s ON s.oid = t.relnamespace WHERE t.relname = $1 "
	    "AND s.nspname = current_schema() AND k.contype = 'c'";
	struct store_stmt	*st;
	const char		*allowed[33], *def, *p;
	char			 vals[32][24], pat[3][64];
	size_t			 n = 0, i;

	if (c->store == NULL || (extra != NULL && strcmp(value, extra) == 0))
		return 0;
	snprintf(pat[0], sizeof(pat[0]), "(%s IN (", column);
	snprintf(pat[1], sizeof(pat[1]), "(%s = ANY (", column);
	snprintf(pat[2], sizeof(pat[2]), "((%s)::text = ANY (", column);
	if ((st = store_query(c->store, strcmp(store_engine(c->store),
	    "sqlite") == 0 ? lite : pg)) == NULL)
		return 0;
	store_bind_text(st, 1, table);
	while (n == 0 && store_step(st) == STORE_ROW) {
		if ((def = store_text(st, 0)) == NULL)
			continue;
		for (i = 0, p = NULL; i < 3 && p == NULL; i++)
			p = strstr(def, pat[i]);
		if (p != NULL)
			n = ctl_quoted_list(p, vals, 32);
	}
	store_done(st);
	if (n == 0)
		return 0;
	for (i = 0; i < n; i++)
		allowed[i] = vals[i];
	if (extra != NULL)
		allowed[n++] = extra;
	return ctl_choice(opt, value, allowed, n);
}

static void
ctl_usage(FILE *fp)
{
	fprintf(fp,
	    "usage: marketctl [-c conf] [-d db] [--csv|--json] command ...\n"
	    "  users [--market M] [--role R] [--language L] [--opted-out]\n"
	    "  offers [--kind offer|want] [--state S|all] [--commodity C]\n"
	    "         [--market M]\n"
	    "  orders [--state S]\n"
	    "  outbox [--state S] [--kind K] [--to PHONE]\n"
	    "  agents [--from DATE] [--to DATE]\n"
	    "  stats\n"
	    "  export [trades|prices|agent_actions|commissions|payments]\n"
	    "         [--since DATE] [--until DATE]\n"
	    "         [--with-phones] [-o FILE|DIR]\n"
	    "  broadcast (--market M | --commodity C | --all) [--wait]\n"
	    "            (TEXT | --text LANG=TEXT...)\n"
	    "  retry [--kind K]\n"
	    "  user set ROLE PHONE\n"
	    "  agent add PHONE --point CODE | agent remove PHONE\n"
	    "  dispute list [--state open|closed|all]\n"
	    "  dispute close N --for buyer|seller [NOTE]\n"
	    "  payments [--unmatched] [--since DATE] [--until DATE]\n"
	    "  payments match TRANSID ORDER\n"
	    "  payouts | payouts done TRANSID... [--ref REF]\n"
	    "  reports [--held] [--commodity C] [--market M]\n"
	    "  reports approve|reject ID...\n"
	    "  manifest HUB [--date YYYY-MM-DD]\n"
	    "  template LANG NAME [name=value ...]\n"
	    "  store copy [--force] FROM TO\n"
	    "  backup [--keep N] [FILE|DIR] | restore FILE\n"
	    "Lists take --limit N (0: all; tables show %d by default).\n"
	    "See marketctl(1).\n", CTL_TABLE_LIMIT);
}

/* --- a command's options -------------------------------------------------- */

enum {
	CTL_OPT_CSV = 256, CTL_OPT_JSON, CTL_OPT_LIMIT, CTL_OPT_MARKET,
	CTL_OPT_ROLE, CTL_OPT_LANGUAGE, CTL_OPT_OPTED_OUT, CTL_OPT_KIND,
	CTL_OPT_STATE, CTL_OPT_COMMODITY, CTL_OPT_TO, CTL_OPT_SINCE,
	CTL_OPT_UNTIL, CTL_OPT_WITH_PHONES, CTL_OPT_ALL, CTL_OPT_WAIT,
	CTL_OPT_TIMEOUT, CTL_OPT_FORCE, CTL_OPT_FROM, CTL_OPT_POINT,
	CTL_OPT_FOR, CTL_OPT_DATE, CTL_OPT_UNMATCHED, CTL_OPT_REF,
	CTL_OPT_HELD, CTL_OPT_KEEP, CTL_OPT_TEXT
};

static const struct option ctl_longopts[] = {
	{ "csv",	 no_argument,	    NULL, CTL_OPT_CSV },
	{ "json",	 no_argument,	    NULL, CTL_OPT_JSON },
	{ "limit",	 required_argument, NULL, CTL_OPT_LIMIT },
	{ "market",	 required_argument, NULL, CTL_OPT_MARKET },
	{ "role",	 required_argument, NULL, CTL_OPT_ROLE },
	{ "language",	 required_argument, NULL, CTL_OPT_LANGUAGE },
	{ "opted-out",	 no_argument,	    NULL, CTL_OPT_OPTED_OUT },
	{ "kind",	 required_argument, NULL, CTL_OPT_KIND },
	{ "state",	 required_argument, NULL, CTL_OPT_STATE },
	{ "commodity",	 required_argument, NULL, CTL_OPT_COMMODITY },
	{ "to",		 required_argument, NULL, CTL_OPT_TO },
	{ "since",	 required_argument, NULL, CTL_OPT_SINCE },
	{ "until",	 required_argument, NULL, CTL_OPT_UNTIL },
	{ "with-phones", no_argument,	    NULL, CTL_OPT_WITH_PHONES },
	{ "all",	 no_argument,	    NULL, CTL_OPT_ALL },
	{ "wait",	 no_argument,	    NULL, CTL_OPT_WAIT },
	{ "timeout",	 required_argument, NULL, CTL_OPT_TIMEOUT },
	{ "force",	 no_argument,	    NULL, CTL_OPT_FORCE },
	{ "from",	 required_argument, NULL, CTL_OPT_FROM },
	{ "point",	 required_argument, NULL, CTL_OPT_POINT },
	{ "for",	 required_argument, NULL, CTL_OPT_FOR },
	{ "date",	 required_argument, NULL, CTL_OPT_DATE },
	{ "unmatched",	 no_argument,	    NULL, CTL_OPT_UNMATCHED },
	{ "ref",	 required_argument, NULL, CTL_OPT_REF },
	{ "held",	 no_argument,	    NULL, CTL_OPT_HELD },
	{ "keep",	 required_argument, NULL, CTL_OPT_KEEP },
	{ "text",	 required_argument, NULL, CTL_OPT_TEXT },
	{ "help",	 no_argument,	    NULL, 'h' },
	{ NULL,		 0,		    NULL, 0 }
};

/*
 * Parse a command's options and leave its words in a->argc/argv.  Every
 * command accepts every option; each uses those that mean something to
 * it.  Options and words may come in any order ("--" ends the options).
 * Returns 0, or 2 on a usage error.
 */
static int
ctl_parse(struct ctl *c, int argc, char **argv, struct ctl_args *a)
{
	char	*end;
	int	 ch;

	memset(a, 0, sizeof(*a));
	a->timeout = 600;
	optind = 0;		/* glibc: start afresh; argv[0] is the command */
	opterr = 1;
	while ((ch = getopt_long(argc, argv, "o:h", ctl_longopts, NULL)) !=
	    -1) {
		switch (ch) {
		case CTL_OPT_CSV:	c->format = CTL_CSV; break;
		case CTL_OPT_JSON:	c->format = CTL_JSON; break;
		case CTL_OPT_LIMIT:
			c->limit = strtol(optarg, &end, 10);
			if (*optarg == '\0' || *end != '\0' || c->limit < 0) {
				ctl_err("--limit takes a number (0: all)");
				return 2;
			}
			break;
		case CTL_OPT_MARKET:	a->f.market = optarg; break;
		case CTL_OPT_ROLE:	a->f.role = optarg; break;
		case CTL_OPT_LANGUAGE:	a->f.language = optarg; break;
		case CTL_OPT_OPTED_OUT:	a->f.opted_out = 1; break;
		case CTL_OPT_KIND:	a->f.kind = optarg; break;
		case CTL_OPT_STATE:	a->f.state = optarg; break;
		case CTL_OPT_COMMODITY:	a->f.commodity = optarg; break;
		case CTL_OPT_TO:	a->f.to = optarg; break;
		case CTL_OPT_SINCE:	a->f.since = optarg; break;
		case CTL_OPT_UNTIL:	a->f.until = optarg; break;
		case CTL_OPT_FROM:	a->f.from = optarg; break;
		case CTL_OPT_POINT:	a->f.point = optarg; break;
		case CTL_OPT_FOR:	a->f.side = optarg; break;
		case CTL_OPT_DATE:	a->f.date = optarg; break;
		case CTL_OPT_UNMATCHED:	a->f.unmatched = 1; break;
		case CTL_OPT_REF:	a->f.ref = optarg; break;
		case CTL_OPT_WITH_PHONES: a->f.with_phones = 1; break;
		case CTL_OPT_HELD:	a->f.held = 1; break;
		case CTL_OPT_TEXT:
			if (a->ntexts == CTL_MAX_TEXTS) {
				ctl_err("--text: at most %d (one a language)",
				    CTL_MAX_TEXTS);
				return 2;
			}
			a->texts[a->ntexts++] = optarg;
			break;
		case CTL_OPT_ALL:	a->all = 1; break;
		case CTL_OPT_WAIT:	a->wait = 1; break;
		case CTL_OPT_FORCE:	a->force = 1; break;
		case CTL_OPT_TIMEOUT:
			a->timeout = strtol(optarg, &end, 10);
			if (*optarg == '\0' || *end != '\0' || a->timeout < 1) {
				ctl_err("--timeout takes seconds");
				return 2;
			}
			break;
		case CTL_OPT_KEEP:
			a->keep = strtol(optarg, &end, 10);
			if (*optarg == '\0' || *end != '\0' || a->keep < 1) {
				ctl_err("--keep takes a number of backups (1 "
				    "or more)");
				return 2;
			}
			break;
		case 'o':		a->f.output = optarg; break;
		case 'h':
			ctl_usage(stdout);
			exit(0);
		default:
			ctl_usage(stderr);
			return 2;
		}
	}
	a->argc = argc - optind;
	a->argv = argv + optind;
	return 0;
}

/* --- main ----------------------------------------------------------------- */

struct ctl_command {
	const char	*name;
	int		 needs_db;
	int		(*run)(struct ctl *, const struct ctl_args *);
};

static const struct ctl_command ctl_commands[] = {
	{ .name = "users",	.needs_db = 1, .run = ctl_users },
	{ .name = "offers",	.needs_db = 1, .run = ctl_offers },
	{ .name = "orders",	.needs_db = 1, .run = ctl_orders },
	{ .name = "outbox",	.needs_db = 1, .run = ctl_outbox },
	{ .name = "agents",	.needs_db = 1, .run = ctl_agents },
	{ .name = "stats",	.needs_db = 1, .run = ctl_stats },
	{ .name = "export",	.needs_db = 1, .run = ctl_export },
	{ .name = "broadcast",	.needs_db = 0, .run = ctl_broadcast },
	{ .name = "retry",	.needs_db = 0, .run = ctl_retry },
	{ .name = "user",	.needs_db = 0, .run = ctl_user },
	{ .name = "agent",	.needs_db = 0, .run = ctl_agent },
	/* list reads the database, close asks marketbox: ctl_dispute */
	{ .name = "dispute",	.needs_db = 0, .run = ctl_dispute },
	/* the lists read the database, match and done ask marketbox */
	{ .name = "payments",	.needs_db = 0, .run = ctl_payments },
	{ .name = "payouts",	.needs_db = 0, .run = ctl_payouts },
	/* the same: the list reads, approve and reject ask marketbox */
	{ .name = "reports",	.needs_db = 0, .run = ctl_reports },
	{ .name = "manifest",	.needs_db = 1, .run = ctl_manifest },
	{ .name = "template",	.needs_db = 0, .run = ctl_template },
	{ .name = "store",	.needs_db = 0, .run = ctl_store },
	/* 2: they find the database themselves (-d alone will do) */
	{ .name = "backup",	.needs_db = 2, .run = ctl_backup },
	{ .name = "restore",	.needs_db = 2, .run = ctl_restore },
};

int
main(int argc, char **argv)
{
	static const struct option globals[] = {
		{ "csv",	no_argument,		NULL, CTL_OPT_CSV },
		{ "json",	no_argument,		NULL, CTL_OPT_JSON },
		{ "version",	no_argument,		NULL, 'V' },
		{ "help",	no_argument,		NULL, 'h' },
		{ NULL,		0,			NULL, 0 }
	};
	const struct ctl_command	*cmd = NULL;
	struct ctl			 c;
	struct ctl_args			 args;
	size_t				 i;
	int				 ch, rc;

	/* Exports hold phones and names: not for others (0640 at most). */
	umask(027);
	memset(&c, 0, sizeof(c));
	c.conf_path = MARKETBOX_CONF_FILE;
	c.limit = -1;
	c.tty = isatty(STDERR_FILENO);
	/* Widths of UTF-8 text in tables, whatever the user's locale. */
	if (setlocale(LC_CTYPE, "C.UTF-8") == NULL)
		setlocale(LC_CTYPE, "");
	while ((ch = getopt_long(argc, argv, "+c:d:Vh", globals, NULL)) != -1) {
		switch (ch) {
		case 'c':
			c.conf_path = optarg;
			c.conf_given = 1;
			break;
		case 'd':
			c.db_path = optarg;
			break;
		case CTL_OPT_CSV:
			c.format = CTL_CSV;
			break;
		case CTL_OPT_JSON:
			c.format = CTL_JSON;
			break;
		case 'V':
			printf("marketctl %s\n", MARKETBOX_VERSION);
			return 0;
		case 'h':
			ctl_usage(stdout);
			return 0;
		default:
			ctl_usage(stderr);
			return 2;
		}
	}
	if (optind >= argc) {
		ctl_usage(stderr);
		return 2;
	}
	for (i = 0; i < sizeof(ctl_commands) / sizeof(ctl_commands[0]); i++)
		if (strcmp(argv[optind], ctl_commands[i].name) == 0)
			cmd = &ctl_commands[i];
	if (cmd == NULL) {
		ctl_err("unknown command '%s'", argv[optind]);
		ctl_usage(stderr);
		return 2;
	}
	if ((rc = ctl_parse(&c, argc - optind, argv + optind, &args)) != 0)
		return rc;

	gwlib_init();
	/* libgw's parser reports conf problems; nothing chattier. */
	log_set_output_level(GW_WARNING);
	rc = 1;
	if (c.conf_given || c.db_path == NULL || !cmd->needs_db) {
		if (!c.conf_given && access(c.conf_path, R_OK) == -1 &&
		    c.db_path != NULL && cmd->needs_db)
			;	/* -d alone is enough to read */
		else if ((c.conf = conf_load(c.conf_path)) == NULL) {
			ctl_err("%s: cannot use this configuration",
			    c.conf_path);
			goto out;
		}
	}
	if (cmd->needs_db == 1 && ctl_db_open(&c) == -1)
		goto out;
	rc = cmd->run(&c, &args);
out:
	store_free(c.store);
	conf_free(c.conf);
	gwlib_shutdown();
	return rc;
}
