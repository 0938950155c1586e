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

struct conf_unit {
	char		 *code;
	struct conf_names aliases;
};

struct conf_commodity {
	char		 *code;
	char		 *unit;		/* default unit: a declared unit code */
	struct conf_names aliases;
};

struct conf_market {
	char		 *code;
	char		 *name;
	char		 *region;	/* may be NULL */
	struct conf_names aliases;
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

struct conf {
	char		*path;		/* the file it was read from */

	/* group = marketbox */
	char		*smsbox_id;
	char		*bearerbox_host;	/* NULL: no box link */
	int		 bearerbox_port;
	char		*global_sender;
	char		*database;
	char		*log_file;		/* NULL: stderr only */
	int		 log_level;		/* Kannel levels: 0 debug .. 4 panic */
	char		*pid_file;
	int		 http_port;		/* 0: no HTTP server */
	char		*http_interface;
	struct conf_names http_allow_ip;	/* besides loopback */
	char		*admin_password;	/* NULL: admin pages off */
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
	struct conf_names admins;		/* msisdns, international form */
	int		 flood_rate;		/* messages a minute per sender */
	int		 flood_burst;		/* more at once, before limiting */
	int		 repeat_window;		/* seconds: the same text again
						   from one phone has no effect */
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
};

/*
 * Read and validate the conf file at path.  Returns a new struct conf
 * (free with conf_free) or NULL; every problem found is logged through
 * libgw's log with the file and, where it can be known, the line.
 * gwlib_init() must have been called.
 */
struct conf	*conf_load(const char *path);
void		 conf_free(struct conf *);

/* Register marketbox's groups with libgw's cfg; idempotent. */
void		 conf_register_hooks(void);

const struct conf_unit		*conf_unit_find(const struct conf *, const char *code);
const struct conf_commodity	*conf_commodity_find(const struct conf *, const char *code);
const struct conf_market	*conf_market_find(const struct conf *, const char *code);
const struct conf_plugin_group	*conf_plugin_group_find(const struct conf *,
				    const char *plugin);

/* The line of "key = ..." in file (0 if not found), for error messages. */
long				 conf_line_of(const char *file, const char *key);

#endif
