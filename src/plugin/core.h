/*
 * core.h - what the router and the host side of the plugin interface
 * share: the core's state, one user's record, and the context of one
 * command.  Internal to the router (router.c, limits.c, core_cmds.c) and
 * host.c; plugins see none of it.
 */
#ifndef MARKETBOX_CORE_H
#define MARKETBOX_CORE_H

#include <stddef.h>

#include "base/phone.h"
#include "marketbox-plugin.h"
#include "text/words.h"

struct conf;
struct lang_set;
struct mo;
struct outbox;
struct plugin_set;
struct store;
struct catalogue;
struct words_dict;
struct host_label;
struct member;

/* One person, as the users table has them. */
struct user {
	long long	 id;		/* 0: not in the table yet */
	char		 msisdn[64];
	char		*name;		/* NULL: not registered */
	char		*market;	/* market code, or NULL */
	char		*language;	/* language code, or NULL */
	int		 language_chosen; /* set with LANG: sticks */
	char		*role;		/* farmer, buyer, ... or "user" */
	int		 opt_out;
	long long	 trades;
	int		 dirty;		/* changed here, not yet saved */
};

/* The core's state, owned by the router. */
struct core {
	const struct conf	*conf;
	struct store		*store;
	struct outbox		*outbox;
	struct lang_set		*langs;
	struct plugin_set	*plugins;	/* may be NULL: no plugins */
	struct catalogue	*catalogue;
	const char		**currencies;	/* for words_split */
	size_t			 ncurrencies;
	struct words_currencies	*money;		/* the same, folded once:
						   for words_split_with */
	struct words_dict	*dict;		/* for words_split_dict */
};

/*
 * One command being handled (or one timer running: mo and user are then
 * NULL).  Strings handed to plugins that must live until the handler
 * returns are kept in scratch.
 */
struct mb_ctx {
	struct core		*core;
	const struct mo		*mo;
	long long		 inbox_id;
	struct user		*user;
	const struct words	*words;
	size_t			 first;		/* the arguments start here */
	const char		*lang;		/* replies in this language */
	struct mb_plugin_ctx	*pctx;		/* the plugin being run */
	int			 replied;	/* replies made so far */
	int			 confirmed;	/* running because its phone
						   answered YES (confirmed()) */
	struct user		*agent;		/* FOR: the agent whose message
						   this is (user is then the
						   member acted for), else NULL */
	const struct member	*member;	/* FOR: that member */
	char			**scratch;	/* strings lent to the plugin */
	size_t			 nscratch, scratchcap;
	struct host_label	*labels;	/* members user_name() named */
	size_t			 nlabels;
};

/* The host tables: for plugins of this ABI, and for ABI 1 plugins (with
   the SQLite slots).  plugin_host() says which a plugin gets. */
extern const struct mb_host host_table;
extern const struct mb_host host_table_abi1;

/* Lend a malloc'd string to the plugin until the context ends. */
const char	*host_keep(struct mb_ctx *, char *);
void		 host_ctx_clear(struct mb_ctx *);
/*
 * The language msisdn chose or was given (a copy to free), NULL when it
 * has none or is not known; -1 in *rc on a store failure.
 */
char		*host_user_language(struct core *, const char *msisdn,
		    int *rc);

/*
 * Template tmpl of language lang (else the default language's) filled
 * with args as every reply is: catalogue codes named in the reader's
 * language, numbers and plural forms as it writes them.  *missing (if
 * not NULL) counts placeholders that had no value.  A malloc'd string;
 * NULL (logged) when no language has tmpl nor "error".
 */
char		*host_text(const struct conf *, const struct lang_set *,
		    const char *lang, const char *tmpl,
		    const struct mb_arg *, size_t nargs, size_t *missing);

/* Reply or notify with a template, as the host functions do. */
int		 host_reply(struct mb_ctx *, const char *tmpl,
		    const struct mb_arg *, size_t nargs);
int		 host_notify(struct mb_ctx *, const char *msisdn,
		    const char *tmpl, const struct mb_arg *, size_t nargs);

/*
 * The time of the message being handled (when it was received), else the
 * clock: questions are asked and answered on the same one.
 */
long long	 host_time(const struct mb_ctx *);

/*
 * The commission on total (minor units) at rate_bp basis points, rounded
 * half up, in integers (trade_done()).
 */
long long	 host_commission(long long total, int rate_bp);

/* The roles bitmask (MB_ROLE_*) of a user. */
unsigned	 host_roles(const struct core *, const struct user *);

/* --- users (host.c) --- */
int		 user_load(struct core *, const char *msisdn, struct user *);
int		 user_save(struct core *, struct user *);
void		 user_clear(struct user *);

/* msisdn_normalise(): base/phone.h, included above. */

/* --- the catalogue (host.c): words in any language to codes --- */
struct catalogue *catalogue_new(const struct conf *);
void		 catalogue_free(struct catalogue *);
const char	*catalogue_commodity(const struct catalogue *, const char *word);
const char	*catalogue_unit(const struct catalogue *, const char *word);
const char	*catalogue_market(const struct catalogue *, const char *word);
/* the commodity code closest to word (a typo), or NULL */
const char	*catalogue_commodity_suggest(const struct catalogue *,
		    const char *word);
/* the market code closest to word (a typo: "Nakru"), or NULL */
const char	*catalogue_market_suggest(const struct catalogue *,
		    const char *word);
/* Every word of the catalogue (commodities, units, markets; normalised),
 * for the dictionary words.c cuts texts with; stops when fn returns
 * non-zero. */
void		 catalogue_each_word(const struct catalogue *,
		    int (*fn)(void *, const char *word), void *arg);

/*
 * The delivery chain's host calls (catalogue.c), in host.c's table: see
 * struct mb_host's hub, hub_name, market_hub and route.
 */
int		 host_hub(struct mb_ctx *, const char *code, struct mb_hub *);
const char	*host_hub_name(struct mb_ctx *, const char *msisdn,
		    const char *code);
const char	*host_market_hub(struct mb_ctx *, const char *place);
long		 host_route(struct mb_ctx *, const char *from, const char *to,
		    const char **out, size_t max);

#endif
