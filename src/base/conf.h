/*
 * conf.h - marketbox's configuration, read once and validated.
 *
 * conf_load() reads a Kannel-syntax file with libgw's cfg parser (with
 * marketbox's groups from conf.def registered through cfg_add_hooks), checks
 * every value and returns a plain struct.  Nothing else in marketbox reads
 * keys by name: the rest of the daemon gets this struct, and a reload builds
 * a fresh one and swaps it only if it is valid.
 */
#ifndef MARKETBOX_CONF_H
#define MARKETBOX_CONF_H

#include <stddef.h>

struct conf_names {
	char		**names;	/* aliases, UTF-8, as written */
	size_t		  count;
};

/*
 * names: the name shown in replies, per language, as "sw:mahindi" entries
 * (language code, ':', name); each name is also an alias.
 * forms: the word for a plural category where it is not the name, as
 * "en:other=bags" entries (language, ':', CLDR category, '=', word); each
 * is also an alias.
 */
struct conf_unit {
	char		 *code;
	struct conf_names aliases;
	struct conf_names names;
	struct conf_names forms;
};

struct conf_commodity {
	char		 *code;
	char		 *unit;		/* default unit: a declared unit code */
	int		  input;	/* kind = input: a farm input (seed,
					   fertiliser), else produce */
	struct conf_names aliases;
	struct conf_names names;
	struct conf_names forms;
};

struct conf_market {
	char		 *code;
	char		 *name;
	char		 *region;	/* may be NULL */
	struct conf_names aliases;
};

/*
 * A village service point: its agents trade for the members they serve.
 * Commissions in basis points of a completed trade's total (2.5% = 250).
 */
struct conf_service_point {
	char		 *code;
	struct conf_names names;	/* "sw:Kituo cha Kiambogo" entries */
	char		 *market;	/* a declared market code */
	char		 *phone;	/* the point's phone, international */
	int		  commission_seller_bp, commission_buyer_bp;
	char		 *name;		/* shown where names has no entry
					   for the reader's language */
};

/*
 * A planting season of one region: its inputs' subscribers are reminded
 * remind[i] seconds before the start (month, day of each year, local).
 */
#define CONF_SEASON_REMINDS	4
#define CONF_SEASON_INPUTS	16	/* as the plugin interface's */
struct conf_season {
	char		 *code;
	struct conf_names names;	/* "sw:Masika" entries */
	char		 *region;	/* a region some market is in */
	struct conf_names inputs;	/* codes of commodities of kind input */
	int		  start_month;	/* 1..12 */
	int		  start_day;	/* 1..31, a day of that month */
	long long	  remind[CONF_SEASON_REMINDS];	/* seconds, longest
							   first */
	size_t		  nremind;
};

/*
 * A hub of the (national ->) county -> township -> village delivery
 * chain: where goods change vehicles, run by its operators.  Each market
 * and service point is served by at most one hub (never the national
 * one); a hub's parent is one level up (a village's a township, a
 * township's a county, a county's the national hub or none; the national
 * hub, one at most, has none), so the parents of any hub end within
 * CONF_HUB_LEVELS steps.
 */
#define CONF_HUB_OPERATORS	4	/* as the plugin interface's */
#define CONF_HUB_LEVELS		4	/* national, county, township,
					   village */
struct conf_hub {
	char		 *code;
	char		 *name;		/* shown where names has no entry
					   for the reader's language */
	struct conf_names names;	/* "sw:Kituo cha Kiambu" entries */
	char		 *level;	/* "national", "county", "township",
					   "village" */
	char		 *parent;	/* a hub code; NULL: the top */
	const struct conf_hub *up;	/* the parent hub; NULL: the top */
	struct conf_names markets;	/* market codes it serves */
	struct conf_names points;	/* service point codes it serves */
	struct conf_names operators;	/* phones, international form */
};

struct conf_plugin {
	char		 *name;
	char		 *module;	/* file in plugin-dir, or a path */
};

/*
 * A plugin's own settings: "group = plugin-NAME" with keys the plugin
 * declares (plugin.c checks them against its descriptor once it is
 * loaded; the parser lets any key through in such a group).
 */
struct conf_plugin_group {
	char		 *plugin;	/* NAME, without "plugin-" */
	char		 *file;		/* where the group was read */
	char		**keys;
	char		**values;
	size_t		  n;
};

/*
 * USSD menus as the conf describes them (group = ussd-menu, ussd-item,
 * ussd-smsc), checked by conf.c: ids unique, every reference resolves,
 * each item is one of a submenu, an input step or an action.  ussd.c
 * builds the running menus from them.  See marketbox.conf(5).
 */
struct conf_ussd_menu {
	char		 *id;
	char		 *title;	/* template name */
	char		 *parent;	/* menu id, or NULL */
	struct conf_names items;	/* item ids, in screen order */
};

struct conf_ussd_item {
	char		*id;
	char		*label;		/* template name of its menu line */
	char		*menu;		/* a submenu id (with input: the menu
					   after the answer), or NULL */
	char		*input;		/* "number", "text", "choice" or NULL */
	char		*var;		/* the {name} the input fills: id */
	char		*prompt;	/* template name of the input screen */
	long long	 min, max;	/* validate = min:max (number: value,
					   text: characters) */
	int		 has_validate;
	char		*choices;	/* commodities, markets, languages,
					   members */
	char		*default_;	/* "home-market" or NULL */
	char		*next;		/* the next input item, or NULL */
	char		*action;	/* command text with {var}s, or NULL */
	char		*file;		/* where the action was read, and */
	long		 line;		/* its line (0: not found), or NULL */
	int		 notify_sms;	/* the action's answer also by SMS */
	int		 optional;	/* "0" answers: {var} left empty */
};

/* The USSD values of one operator's SMSC link (ussd_service_op etc.). */
struct conf_ussd_smsc {
	char		*smsc_id;
	int		 op_continue, op_end, end_bit;
};

/*
 * group = payments (conf_payments.c): on is 0 when the conf has no such
 * group (no payment is taken; POST /payments/confirm answers 404).
 */
struct conf_payments {
	int		  on;
	char		 *provider;	/* "daraja-c2b" */
	char		 *business_number;	/* paybill or till: digits */
	char		 *account_prefix;	/* account-format around {ref}: */
	char		 *account_suffix;	/* "MB{ref}" -> "MB", "" */
	char		 *secret;	/* NULL: none asked */
	struct conf_names allow_ip;	/* empty: any peer the server takes */
	int		  escrow;	/* mode escrow, else direct */
};

struct conf {
	char		*path;		/* the file it was read from */

	/* group = marketbox */
	char		*smsbox_id;
	char		*bearerbox_host;	/* NULL: no box link */
	int		 bearerbox_port;
	char		*global_sender;
	char		*database;
	char		*backup_dir;		/* marketctl backup's DIR; NULL:
						   none (metrics.c looks at
						   it too) */
	char		*log_file;		/* NULL: stderr only */
	int		 log_level;		/* Kannel levels: 0 debug .. 4 panic */
	char		*pid_file;
	int		 http_port;		/* 0: no HTTP server */
	char		*http_interface;
	struct conf_names http_allow_ip;	/* besides loopback */
	int		 http_max_connections;	/* open at once */
	int		 http_request_timeout;	/* seconds for a request */
	struct conf_names http_host_names;	/* Host names besides ours */
	char		*sms_secret;		/* NULL: /sms takes none */
	char		*ussd_secret;		/* NULL: /ussd takes none */
	char		*admin_password;	/* NULL: admin pages off */
	struct conf_names admin_allow_ip;	/* admin pages, besides loopback */
	char		*user;			/* drop to this user; NULL: stay */
	int		 run_as_root;		/* 1: may run as root without user */
	char		*sendsms_url;		/* NULL: notices over the box link */
	char		*plugin_dir;
	char		*language_dir;
	char		*default_language;
	char		*country_code;		/* digits, e.g. "254"; may be NULL */
	char		*currency;
	double		 throughput;		/* MT per second; 0 = no limit */
	int		 dlr_mask;
	int		 max_parts;		/* parts of a concatenated SMS */
	int		 retry_limit;		/* attempts before a notice fails */
	int		 retry_delay;		/* first retry delay, seconds */
	int		 heartbeat_interval;	/* seconds; 0 = none */
	int		 reconnect_delay_max;	/* seconds */
	size_t		 max_frame_size;	/* bytes of one box frame */
	int		 commit_batch;		/* MOs per group commit at most */
	int		 commit_delay;		/* ms a commit waits for more */
	char		*instance;		/* name among the instances of one
						   database; NULL: host-pid */
	int		 outbox_lease;		/* seconds: a heartbeat older is
						   a dead instance */
	struct conf_names admins;		/* msisdns, international form */
	int		 flood_rate;		/* messages a minute per sender */
	int		 flood_burst;		/* more at once, before limiting */
	int		 agent_flood_rate;	/* the same per member, for an
						   agent acting with FOR */
	int		 agent_flood_burst;
	int		 repeat_window;		/* seconds: the same text again
						   from one phone has no effect */
	int		 question_lifetime;	/* seconds a YES/NO question
						   waits for its answer */
	struct conf_names currency_aliases;	/* words for the currency */

	struct conf_plugin	*plugins;
	size_t			 nplugins;
	struct conf_plugin_group *plugin_groups;
	size_t			 nplugin_groups;
	struct conf_unit	*units;
	size_t			 nunits;
	struct conf_commodity	*commodities;
	size_t			 ncommodities;
	struct conf_market	*markets;
	size_t			 nmarkets;
	struct conf_service_point *service_points;
	size_t			 nservice_points;
	struct conf_season	*seasons;
	size_t			 nseasons;
	struct conf_hub		*hubs;
	size_t			 nhubs;

	/* USSD (ussd-* keys of group = marketbox, and the ussd groups) */
	char			*ussd_start;		/* the first menu's id */
	int			 ussd_timeout;		/* seconds a session may idle */
	int			 ussd_resume;		/* seconds a session left unfinished
							   may be resumed; 0: never */
	int			 ussd_screen_size;	/* octets of one screen */
	int			 ussd_op_continue;	/* ussd_service_op: show and wait */
	int			 ussd_op_end;		/* ussd_service_op: show and end */
	int			 ussd_end_bit;		/* set its_session_info's end bit */
	struct conf_ussd_menu	*ussd_menus;
	size_t			 nussd_menus;
	struct conf_ussd_item	*ussd_items;
	size_t			 nussd_items;
	struct conf_ussd_smsc	*ussd_smscs;
	size_t			 nussd_smscs;

	struct conf_payments	 payments;	/* group = payments */
};

/*
 * Read and validate the conf file at path.  Returns a new struct conf
 * (free with conf_free) or NULL; every problem found is logged through
 * libgw's log with the file and, where it can be known, the line.
 * gwlib_init() must have been called.
 */
struct conf	*conf_load(const char *path);
void		 conf_free(struct conf *);

/*
 * Whether conf.def declares key in group: 1; 0 if group is one of
 * marketbox's and does not (*near is then the declared key nearest to a
 * misspelt one, or NULL); -1 if group is not one of marketbox's.  For the
 * files read outside libgw (the language files).
 */
int		 conf_key_declared(const char *group, const char *key,
		    const char **near);

/* Register marketbox's groups with libgw's cfg; idempotent. */
void		 conf_register_hooks(void);

const struct conf_unit		*conf_unit_find(const struct conf *, const char *code);
const struct conf_commodity	*conf_commodity_find(const struct conf *, const char *code);
const struct conf_market	*conf_market_find(const struct conf *, const char *code);
const struct conf_season	*conf_season_find(const struct conf *,
				    const char *code);
const struct conf_service_point	*conf_service_point_find(const struct conf *,
				    const char *code);
/* A service point's name in lang: its names entry, else name, else code. */
const char			*conf_service_point_name(
				    const struct conf_service_point *,
				    const char *lang);
const struct conf_hub		*conf_hub_find(const struct conf *,
				    const char *code);
/* A hub's name in lang: its names entry, else name, else code. */
const char			*conf_hub_name(const struct conf_hub *,
				    const char *lang);
/*
 * The hub serving place, a market or service point code: the hub that
 * lists it (a market first), else for a service point its market's hub;
 * NULL when none does.
 */
const struct conf_hub		*conf_hub_serving(const struct conf *,
				    const char *place);
/*
 * The hubs goods go through from place from to place to: from's hub up
 * to the first hub both chains share, then down to to's hub, each once,
 * in travel order, at most max into out (pointers into the conf).  How
 * many (at most 2 * CONF_HUB_LEVELS - 1): 0 when one hub serves both,
 * when either has none or when the chains never meet (two counties with
 * no national hub above both); -1 when max is too small.  No allocation.
 */
long				 conf_hub_route(const struct conf *,
				    const char *from, const char *to,
				    const struct conf_hub **out, size_t max);
const struct conf_plugin_group	*conf_plugin_group_find(const struct conf *,
				    const char *plugin);

/* The name for language lang among "lang:name" entries, or NULL. */
const char			*conf_name_for(const struct conf_names *,
				    const char *lang);
/*
 * The word for the plural category (NULL: the name) in lang: its form
 * for that category, else (but for "one") its "other" form, else its
 * name; NULL when lang has no name.
 */
const char			*conf_form_for(const struct conf_names *names,
				    const struct conf_names *forms,
				    const char *lang, const char *category);
const struct conf_ussd_menu	*conf_ussd_menu_find(const struct conf *,
				    const char *id);
const struct conf_ussd_item	*conf_ussd_item_find(const struct conf *,
				    const char *id);

/*
 * Whether a database value names a PostgreSQL database: a libpq URI
 * (postgresql://, postgres://) or a keyword string ("host=... dbname=...":
 * a keyword, then '=').  Anything else is a SQLite path (":memory:" and
 * "file:" URIs too; a path begins with '/', '.' or a name with no '=').
 */
int				 conf_database_is_conninfo(const char *db);

/* This instance's name: the conf's key instance, or "<hostname>-<pid>". */
const char			*conf_instance_name(const struct conf *);

/* outbox-lease in seconds (60 when the conf has none). */
int				 conf_outbox_lease(const struct conf *);

/* This host's name, cut to fit len (never empty: "localhost"). */
void				 conf_host_name(char *buf, size_t len);

/* The line of "key = ..." in file (0 if not found), for error messages. */
long				 conf_line_of(const char *file, const char *key);

#endif
