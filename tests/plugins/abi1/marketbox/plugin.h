/*
 * ABI 1 frozen: <marketbox/plugin.h> as it was when marketbox spoke
 * plugin ABI 1, kept unchanged so that tests/plugins/abi1*.c are built as
 * an ABI 1 plugin of the field is.  Never edit it below this comment.
 */
/*
 * marketbox-plugin.h - the plugin interface of marketbox, installed as
 * <marketbox/plugin.h>.  This is the only header marketbox installs.
 *
 * A plugin is a shared object that exports exactly one symbol,
 *
 *	const struct mb_plugin marketbox_plugin = { MB_PLUGIN_HEADER, ... };
 *
 * marketbox loads it with dlopen(RTLD_NOW | RTLD_LOCAL), checks the ABI
 * version and the descriptor's size before touching anything else, and
 * refuses the whole plugin set (marketbox does not start) when a plugin is
 * of another ABI, lacks the symbol, or registers a command another plugin
 * already has.
 *
 * A plugin reaches marketbox only through the struct mb_host function table
 * it is given and the opaque contexts passed to its functions; no internal
 * structure of marketbox is visible.  The table is append-only: a plugin
 * built against an older header still finds every function it knows at the
 * same place, and checks host->size before using one added later.
 *
 * Threading and time: everything runs on marketbox's one event-loop thread.
 * A handler must not block (no network, no sleep); its database work runs
 * inside the transaction of the message being handled and commits with it.
 *
 * Strings: UTF-8, NUL-terminated.  Strings the host returns are valid until
 * the handler returns; copy what must live longer.
 */
#ifndef MARKETBOX_PLUGIN_H
#define MARKETBOX_PLUGIN_H

#include <stddef.h>
#include <sqlite3.h>

#define MB_PLUGIN_ABI		1
#define MB_PLUGIN_SYMBOL	"marketbox_plugin"

/* Start every descriptor with this: the ABI and the descriptor's size. */
#define MB_PLUGIN_HEADER	.abi = MB_PLUGIN_ABI, \
				.size = sizeof(struct mb_plugin)

struct mb_ctx;		/* one command being handled (opaque) */
struct mb_plugin_ctx;	/* a plugin's init, fini and timers (opaque) */
struct mb_host;		/* the functions marketbox offers, below */

/* Roles a user may have; a command may require some. */
#define MB_ROLE_FARMER		0x01
#define MB_ROLE_BUYER		0x02
#define MB_ROLE_TRANSPORTER	0x04
#define MB_ROLE_AGENT		0x08
#define MB_ROLE_ADMIN		0x10
#define MB_ROLE_ANY		0x1f

/* Command flags. */
#define MB_CMD_REGISTERED	0x01	/* the sender must have done REG */

/* Log levels: Kannel's. */
#define MB_LOG_DEBUG		0
#define MB_LOG_INFO		1
#define MB_LOG_WARNING		2
#define MB_LOG_ERROR		3

/* Handler results. */
#define MB_OK			0	/* handled: replies were made */
#define MB_USAGE		1	/* the words did not fit: the host
					   replies with the command's usage */
#define MB_FAIL			(-1)	/* a store failure: the message and
					   everything done for it roll back */

/*
 * A named value for a template placeholder: {name} in the template is
 * replaced by value.  Templates live in the language files, so a plugin
 * never writes user-visible text itself.
 */
struct mb_arg {
	const char	*name;
	const char	*value;
};

/*
 * A command.  id is the command's name in the language files' keyword
 * groups (uppercase ASCII, e.g. "SELL"); the words people type for it come
 * from there, one list per language.  usage names the template replied
 * when the handler returns MB_USAGE (e.g. "usage-sell").
 */
struct mb_command {
	const char	*id;
	int		(*handler)(struct mb_ctx *, const struct mb_host *);
	const char	*usage;
	unsigned	 flags;		/* MB_CMD_* */
	unsigned	 roles;		/* MB_ROLE_* allowed; 0 = anyone */
};

/* One step of a plugin's own schema, as store migrations: append only. */
struct mb_migration {
	int		 version;	/* 1, 2, 3 ... */
	const char	*sql;
};

/*
 * A timer: run every interval seconds (first run interval seconds after
 * start), inside a unit of work of its own; its notices commit with it.
 * Due times that must survive a restart belong in the plugin's tables: a
 * timer looks for what is due each time it runs.
 */
struct mb_timer {
	const char	*name;
	int		 interval;
	int		(*run)(struct mb_plugin_ctx *, const struct mb_host *);
					/* MB_OK or MB_FAIL */
};

/* The descriptor a plugin exports as marketbox_plugin. */
struct mb_plugin {
	unsigned		 abi;		/* MB_PLUGIN_ABI */
	size_t			 size;		/* sizeof(struct mb_plugin) */
	const char		*name;		/* unique; owner of its tables */
	const char		*version;
	const struct mb_command	*commands;
	size_t			 ncommands;
	const struct mb_migration *migrations;
	size_t			 nmigrations;
	const struct mb_timer	*timers;
	size_t			 ntimers;
	/* conf keys of the plugin's own group, "group = plugin-NAME" */
	const char * const	*conf_keys;
	size_t			 nconf_keys;
	/* after migrations; MB_OK or MB_FAIL (marketbox does not start) */
	int			(*init)(struct mb_plugin_ctx *,
				    const struct mb_host *);
	void			(*fini)(struct mb_plugin_ctx *,
				    const struct mb_host *);
};

/*
 * What marketbox offers a plugin: passed to every plugin function with its
 * context, which these functions take back.  Plugins need no symbol of the
 * daemon, so they link against nothing of marketbox.
 */
struct mb_host {
	unsigned	 abi;
	size_t		 size;		/* sizeof(struct mb_host) of the host */

	/* --- who sent the message being handled ---------------------------- */
	const char	*(*sender)(struct mb_ctx *);	/* +254700000001 */
	const char	*(*sender_name)(struct mb_ctx *);	/* NULL if none */
	const char	*(*sender_market)(struct mb_ctx *);	/* code or NULL */
	const char	*(*sender_language)(struct mb_ctx *);
	unsigned	 (*sender_roles)(struct mb_ctx *);
	int		 (*sender_registered)(struct mb_ctx *);

	/* --- the message's words, after the keyword -------------------------- */
	size_t		 (*argc)(struct mb_ctx *);
	/* word i, normalised: "3,000" -> "3000", "#41" -> "41", lowercase */
	const char	*(*arg)(struct mb_ctx *, size_t i);
	/* the text from word i to the end, as typed (names, reasons) */
	const char	*(*rest)(struct mb_ctx *, size_t i);
	/* 1 and *out set if word i is a whole number in [min, max] */
	int		 (*arg_number)(struct mb_ctx *, size_t i, long long min,
			    long long max, long long *out);

	/* --- replies and notices, from the language files' templates ---------- */
	/* to the sender, in their language */
	int		 (*reply)(struct mb_ctx *, const char *tmpl,
			    const struct mb_arg *, size_t nargs);
	/* to anyone, in their language, in the same transaction */
	int		 (*notify)(struct mb_ctx *, const char *msisdn,
			    const char *tmpl, const struct mb_arg *, size_t nargs);

	/* --- the store: the current transaction -------------------------------- */
	sqlite3		*(*db)(struct mb_ctx *);
	/* a cached statement for sql (a string literal: keyed on its address) */
	sqlite3_stmt	*(*stmt)(struct mb_ctx *, const char *sql);
	/* the next reference number (offers, wants, orders share it) */
	long long	 (*ref_next)(struct mb_ctx *, const char *kind);

	/* --- the catalogue: a word in any language -> its code ------------------ */
	const char	*(*commodity)(struct mb_ctx *, const char *word);
	const char	*(*commodity_unit)(struct mb_ctx *, const char *code);
	const char	*(*unit)(struct mb_ctx *, const char *word);
	const char	*(*market)(struct mb_ctx *, const char *word);
	const char	*(*market_name)(struct mb_ctx *, const char *code);
	const char	*(*market_region)(struct mb_ctx *, const char *code);
	/* closest commodity code to a misspelt word, or NULL */
	const char	*(*commodity_suggest)(struct mb_ctx *, const char *word);
	const char	*(*currency)(struct mb_ctx *);

	/* --- time and logs ------------------------------------------------------ */
	long long	 (*now)(struct mb_ctx *);	/* Unix seconds */
	void		 (*log)(struct mb_ctx *, int level, const char *fmt, ...)
			    __attribute__((format(printf, 3, 4)));

	/* --- outside a message: init, fini, timers -------------------------------- */
	/* a value of the plugin's own conf group, or NULL */
	const char	*(*conf)(struct mb_plugin_ctx *, const char *key);
	/* the plugin's state, set at init */
	void		*(*state)(struct mb_plugin_ctx *);
	void		 (*set_state)(struct mb_plugin_ctx *, void *);
	/* the host functions above that take a struct mb_ctx work with this */
	struct mb_ctx	*(*timer_ctx)(struct mb_plugin_ctx *);
	/* the state from within a handler */
	void		*(*plugin_state)(struct mb_ctx *);

	/* --- other people ------------------------------------------------------------ */
	/* a registered user's name, or NULL */
	const char	*(*user_name)(struct mb_ctx *, const char *msisdn);
	/* one more completed trade on a user's record */
	int		 (*user_trade)(struct mb_ctx *, const char *msisdn);
	/* a phone number as typed (0722..., +254..., 254...) in international
	   form, or NULL if it is not a phone number */
	const char	*(*msisdn)(struct mb_ctx *, const char *typed);
	/* 1 if the user sent STOP (no broadcasts or bulletins), 0 if not or
	   unknown, -1 on a store failure */
	int		 (*user_opt_out)(struct mb_ctx *, const char *msisdn);

	/* --- appended: lists, questions, numbers read two ways --------------- */
	/*
	 * A template rendered in the language of msisdn (NULL: the reply's
	 * language), without sending it: for the items of a list a plugin
	 * joins into one reply ("#18 2 bags at 3,500, waiting for the
	 * seller").  Valid until the handler returns; NULL on failure.
	 */
	const char	*(*render)(struct mb_ctx *, const char *msisdn,
			    const char *tmpl, const struct mb_arg *,
			    size_t nargs);
	/*
	 * Ask msisdn (NULL: the sender) a YES/NO question: tmpl is sent now,
	 * in that phone's language, and counts as the handler's reply when
	 * it goes to the sender.  When that phone answers YES within ttl
	 * seconds (0: the conf's question lifetime), command (words as a
	 * user types them, a command id first: "SELL maize 10 bag 305000")
	 * runs as that phone with confirmed() = 1.  NO, a new question to the
	 * same phone, or the lifetime passing, drop it: nothing runs.
	 * 0, or -1 on a store failure.
	 */
	int		 (*ask)(struct mb_ctx *, const char *msisdn,
			    const char *tmpl, const struct mb_arg *,
			    size_t nargs, const char *command, int ttl);
	/* 1 when the command runs because its phone answered YES to ask() */
	int		 (*confirmed)(struct mb_ctx *);
	/*
	 * When word i is a number that people could mean two ways ("3.500":
	 * 3500 with a thousands dot, or 3.5), the reading arg() does not
	 * give, normalised as arg() is; else NULL.
	 */
	const char	*(*arg_other)(struct mb_ctx *, size_t i);
	/*
	 * The SMS text takes as marketbox sends it (GSM 03.38, else UCS-2;
	 * accents GSM lacks folded when that saves a part): for a plugin
	 * fitting a list or free text into one SMS.
	 */
	size_t		 (*sms_parts)(struct mb_ctx *, const char *text);
	/* closest market code to a misspelt word, or NULL */
	const char	*(*market_suggest)(struct mb_ctx *, const char *word);

	/* --- appended: the home country --------------------------------------- */
	/* the conf's country code with its '+' ("+254"), or NULL if none */
	const char	*(*country_code)(struct mb_ctx *);
};

#endif
