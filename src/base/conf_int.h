/*
 * conf_int.h - what the pieces of the conf reader share: conf.c (the
 * file, the marketbox group, the plugin groups), conf_catalogue.c (unit,
 * commodity, market, service point, season, hub) and conf_ussd.c (the
 * USSD menus).  The value readers
 * are conf.c's; each reports a bad value with its file and line.
 * Internal to those three files; the rest of marketbox sees conf.h only.
 */
#ifndef MARKETBOX_CONF_INT_H
#define MARKETBOX_CONF_INT_H

#include "base/gw.h"

struct conf;
struct conf_names;

/* --- conf.c: reading values --- */
void		 conf_bad(CfgGroup *, const char *key, Octstr *value,
		    const char *fmt, ...)
		    __attribute__((format(printf, 4, 5)));
char		*conf_strdup(const char *);
char		*conf_string(CfgGroup *, const char *key, const char *def);
int		 conf_integer(CfgGroup *, const char *key, long def, long min,
		    long max, long *out);
int		 conf_bool(CfgGroup *, const char *key, int def, int *out);
void		 conf_names_split(const char *, struct conf_names *out);
void		 conf_names_free(struct conf_names *);
int		 conf_code_ok(const char *);
char		*conf_include_target(char *line);

/* --- conf_catalogue.c: the catalogue groups, units first --- */
int		 conf_read_units(struct conf *, Cfg *);
int		 conf_read_commodities(struct conf *, Cfg *);
int		 conf_read_markets(struct conf *, Cfg *);
int		 conf_read_service_points(struct conf *, Cfg *);
void		 conf_service_points_free(struct conf *);
int		 conf_read_seasons(struct conf *, Cfg *);
void		 conf_seasons_free(struct conf *);
int		 conf_read_hubs(struct conf *, Cfg *);
void		 conf_hubs_free(struct conf *);

/* --- conf_ussd.c: the USSD keys and groups, after the catalogue --- */
int		 conf_read_ussd(struct conf *, Cfg *);

/* --- conf_payments.c: group = payments, after the marketbox group --- */
int		 conf_read_payments(struct conf *, Cfg *);
void		 conf_payments_free(struct conf *);

#endif
