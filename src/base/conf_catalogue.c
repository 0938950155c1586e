/*
 * conf_catalogue.c - the catalogue groups of the conf: unit, commodity,
 * market (codes, names per language, plural forms, aliases), the
 * village service points (their market, phone and commission), the
 * planting seasons (region, inputs, start, reminders) and the delivery
 * chain's hubs (national, county, township, village: parent, the markets
 * and points each serves, operators), their checks (a code well formed
 * and declared once, a commodity's unit declared, a hub's parent one
 * level up, one national hub at most and serving no place itself, a
 * place served by one hub), the look-ups by code the rest of marketbox
 * uses, and the route of goods over the hubs (conf_hub_route).
 *
 * conf.c reads the file and calls conf_read_units, conf_read_commodities,
 * conf_read_markets, conf_read_service_points, conf_read_seasons and
 * conf_read_hubs in that order (a commodity names a unit, a service point
 * a market, a season a region of the markets and input commodities, a hub
 * markets and service points); it frees the groups with the rest of
 * struct conf.  The value readers are conf.c's, shared through
 * conf_int.h.
 */
#include "config.h"

#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/gw.h"

#include "base/conf.h"
#include "base/conf_int.h"
#include "base/phone.h"


/* "names = en:maize;sw:mahindi": every entry a language code and a name. */
static int
conf_read_names(CfgGroup *grp, struct conf_names *names)
{
	char	*raw = conf_string(grp, "names", NULL);
	size_t	 i;
	int	 bad = 0;

	conf_names_split(raw, names);
	for (i = 0; i < names->count; i++) {
		const char	*colon = strchr(names->names[i], ':');

		if (colon == NULL || colon == names->names[i] ||
		    colon[1] == '\0' || colon - names->names[i] > 8) {
			conf_bad(grp, "names", NULL, "'%s' is not language:name "
			    "(such as sw:mahindi)", names->names[i]);
			bad = -1;
		}
	}
	free(raw);
	return bad;
}

/*
 * "forms = en:other=bags;fr:other=sacs": every entry a language code, a
 * CLDR plural category and a word.
 */
static int
conf_read_forms(CfgGroup *grp, struct conf_names *forms)
{
	static const char * const categories[] = {
		"zero", "one", "two", "few", "many", "other"
	};
	char		*raw = conf_string(grp, "forms", NULL);
	const char	*colon, *eq;
	size_t		 i, k, n;
	int		 bad = 0, ok;

	conf_names_split(raw, forms);
	for (i = 0; i < forms->count; i++) {
		colon = strchr(forms->names[i], ':');
		eq = colon ? strchr(colon, '=') : NULL;
		ok = colon != NULL && colon != forms->names[i] &&
		    colon - forms->names[i] <= 8 && eq != NULL &&
		    eq[1] != '\0';
		for (k = 0, n = ok ? (size_t)(eq - colon - 1) : 0; ok &&
		    k < sizeof(categories) / sizeof(categories[0]); k++)
			if (strlen(categories[k]) == n &&
			    strncmp(colon + 1, categories[k], n) == 0)
				break;
		if (!ok || k == sizeof(categories) / sizeof(categories[0])) {
			conf_bad(grp, "forms", NULL, "'%s' is not "
			    "language:category=word (such as en:other=bags; "
			    "categories: zero, one, two, few, many, other)",
			    forms->names[i]);
			bad = -1;
		}
	}
	free(raw);
	return bad;
}

/* The word of lang:category=word among forms, or NULL. */
static const char *
conf_form_find(const struct conf_names *forms, const char *lang,
    const char *category)
{
	size_t	 i, n = strlen(lang), c = strlen(category);

	for (i = 0; i < forms->count; i++)
		if (strncmp(forms->names[i], lang, n) == 0 &&
		    forms->names[i][n] == ':' &&
		    strncmp(forms->names[i] + n + 1, category, c) == 0 &&
		    forms->names[i][n + 1 + c] == '=')
			return forms->names[i] + n + 2 + c;
	return NULL;
}

const char *
conf_form_for(const struct conf_names *names, const struct conf_names *forms,
    const char *lang, const char *category)
{
	const char	*w;

	if (lang == NULL)
		return NULL;
	if (category != NULL && forms != NULL) {
		if ((w = conf_form_find(forms, lang, category)) != NULL)
			return w;
		if (strcmp(category, "one") != 0 &&
		    (w = conf_form_find(forms, lang, "other")) != NULL)
			return w;
	}
	return conf_name_for(names, lang);
}

const char *
conf_name_for(const struct conf_names *names, const char *lang)
{
	size_t	 i, n = lang ? strlen(lang) : 0;

	for (i = 0; n > 0 && i < names->count; i++)
		if (strncmp(names->names[i], lang, n) == 0 &&
		    names->names[i][n] == ':')
			return names->names[i] + n + 1;
	return NULL;
}

int
conf_read_units(struct conf *c, Cfg *cfg)
{
	List	*l = cfg_get_multi_group(cfg, octstr_imm("unit"));
	long	 i;
	int	 bad = 0;

	c->nunits = l ? gwlist_len(l) : 0;
	c->units = calloc(c->nunits ? c->nunits : 1, sizeof(*c->units));
	if (c->units == NULL)
		panic(errno, "out of memory");
	for (i = 0; l != NULL && i < gwlist_len(l); i++) {
		CfgGroup	*grp = gwlist_get(l, i);
		struct conf_unit *u = &c->units[i];
		char		*aliases;

		u->code = conf_string(grp, "code", NULL);
		aliases = conf_string(grp, "aliases", NULL);
		conf_names_split(aliases, &u->aliases);
		free(aliases);
		bad |= conf_read_names(grp, &u->names);
		bad |= conf_read_forms(grp, &u->forms);
		if (!conf_code_ok(u->code)) {
			conf_bad(grp, "code", NULL, "unit code '%s' must be 1-32 "
			    "lowercase letters, digits, '-' or '_'",
			    u->code ? u->code : "");
			bad = -1;
		} else if (i > 0 && conf_unit_find(c, u->code) != u) {
			conf_bad(grp, "code", NULL, "unit '%s' declared twice",
			    u->code);
			bad = -1;
		}
	}
	gwlist_destroy(l, NULL);
	return bad;
}

/* "kind = produce | input" (produce when absent): *input 1 for input. */
static int
conf_read_kind(CfgGroup *grp, int *input)
{
	char	*v = conf_string(grp, "kind", NULL);
	int	 bad = 0;

	*input = 0;
	if (v == NULL || strcmp(v, "produce") == 0)
		;
	else if (strcmp(v, "input") == 0)
		*input = 1;
	else {
		conf_bad(grp, "kind", NULL, "'%s' is not produce or input "
		    "(seed, fertiliser, feeds: input)", v);
		bad = -1;
	}
	free(v);
	return bad;
}

int
conf_read_commodities(struct conf *c, Cfg *cfg)
{
	List	*l = cfg_get_multi_group(cfg, octstr_imm("commodity"));
	long	 i;
	int	 bad = 0;

	c->ncommodities = l ? gwlist_len(l) : 0;
	c->commodities = calloc(c->ncommodities ? c->ncommodities : 1,
	    sizeof(*c->commodities));
	if (c->commodities == NULL)
		panic(errno, "out of memory");
	for (i = 0; l != NULL && i < gwlist_len(l); i++) {
		CfgGroup		*grp = gwlist_get(l, i);
		struct conf_commodity	*k = &c->commodities[i];
		char			*aliases;

		k->code = conf_string(grp, "code", NULL);
		k->unit = conf_string(grp, "unit", NULL);
		aliases = conf_string(grp, "aliases", NULL);
		conf_names_split(aliases, &k->aliases);
		free(aliases);
		bad |= conf_read_names(grp, &k->names);
		bad |= conf_read_forms(grp, &k->forms);
		bad |= conf_read_kind(grp, &k->input);
		if (!conf_code_ok(k->code)) {
			conf_bad(grp, "code", NULL, "commodity code '%s' must be "
			    "1-32 lowercase letters, digits, '-' or '_'",
			    k->code ? k->code : "");
			bad = -1;
			continue;
		}
		if (i > 0 && conf_commodity_find(c, k->code) != k) {
			conf_bad(grp, "code", NULL,
			    "commodity '%s' declared twice", k->code);
			bad = -1;
		}
		if (k->unit == NULL) {
			conf_bad(grp, "code", NULL, "commodity '%s' has no "
			    "default unit", k->code);
			bad = -1;
		} else if (conf_unit_find(c, k->unit) == NULL) {
			conf_bad(grp, "unit", NULL, "commodity '%s': unit '%s' "
			    "is not declared in a 'group = unit'", k->code,
			    k->unit);
			bad = -1;
		}
	}
	gwlist_destroy(l, NULL);
	return bad;
}

int
conf_read_markets(struct conf *c, Cfg *cfg)
{
	List	*l = cfg_get_multi_group(cfg, octstr_imm("market"));
	long	 i;
	int	 bad = 0;

	c->nmarkets = l ? gwlist_len(l) : 0;
	c->markets = calloc(c->nmarkets ? c->nmarkets : 1, sizeof(*c->markets));
	if (c->markets == NULL)
		panic(errno, "out of memory");
	for (i = 0; l != NULL && i < gwlist_len(l); i++) {
		CfgGroup		*grp = gwlist_get(l, i);
		struct conf_market	*m = &c->markets[i];
		char			*aliases;

		m->code = conf_string(grp, "code", NULL);
		m->name = conf_string(grp, "name", NULL);
		m->region = conf_string(grp, "region", NULL);
		aliases = conf_string(grp, "aliases", NULL);
		conf_names_split(aliases, &m->aliases);
		free(aliases);
		if (!conf_code_ok(m->code)) {
			conf_bad(grp, "code", NULL, "market code '%s' must be "
			    "1-32 lowercase letters, digits, '-' or '_'",
			    m->code ? m->code : "");
			bad = -1;
			continue;
		}
		if (i > 0 && conf_market_find(c, m->code) != m) {
			conf_bad(grp, "code", NULL, "market '%s' declared twice",
			    m->code);
			bad = -1;
		}
		if (m->name == NULL)
			m->name = conf_strdup(m->code);
	}
	gwlist_destroy(l, NULL);
	return bad;
}

/*
 * A commission in percent with up to two decimals ("2.5", "10", "0.75")
 * into basis points (250, 1000, 75), read without floating point so that
 * what the operator wrote is what is charged.  -1 when it is not such a
 * number from 0 to 100.
 */
static int
conf_percent_bp(const char *s)
{
	long	 whole = 0, frac = 0;
	int	 digits = 0, fdigits = 0;

	for (; isdigit((unsigned char)*s) && digits < 4; s++, digits++)
		whole = whole * 10 + (*s - '0');
	if (*s == '.' || *s == ',')
		for (s++; isdigit((unsigned char)*s) && fdigits < 3;
		    s++, fdigits++)
			frac = frac * 10 + (*s - '0');
	if (digits == 0 || *s != '\0' || fdigits > 2)
		return -1;
	if (fdigits == 1)
		frac *= 10;
	if (whole * 100 + frac > 10000)
		return -1;
	return (int)(whole * 100 + frac);
}

static int
conf_read_commission(CfgGroup *grp, const char *key, int def, int *bp)
{
	char	*v = conf_string(grp, key, NULL);
	int	 n;

	*bp = def;
	if (v == NULL)
		return 0;
	if ((n = conf_percent_bp(v)) == -1) {
		conf_bad(grp, key, NULL, "'%s' is not a percentage from 0 to "
		    "100 with at most two decimals (such as 2.5)", v);
		free(v);
		return -1;
	}
	free(v);
	*bp = n;
	return 0;
}

int
conf_read_service_points(struct conf *c, Cfg *cfg)
{
	List	*l = cfg_get_multi_group(cfg, octstr_imm("service-point"));
	long	 i;
	int	 bad = 0, both;

	c->nservice_points = l ? gwlist_len(l) : 0;
	c->service_points = calloc(c->nservice_points ? c->nservice_points :
	    1, sizeof(*c->service_points));
	if (c->service_points == NULL)
		panic(errno, "out of memory");
	for (i = 0; l != NULL && i < gwlist_len(l); i++) {
		CfgGroup			*grp = gwlist_get(l, i);
		struct conf_service_point	*p = &c->service_points[i];

		p->code = conf_string(grp, "code", NULL);
		p->name = conf_string(grp, "name", NULL);
		p->market = conf_string(grp, "market", NULL);
		p->phone = conf_string(grp, "phone", NULL);
		bad |= conf_read_names(grp, &p->names);
		bad |= conf_read_commission(grp, "commission", 0, &both);
		bad |= conf_read_commission(grp, "commission-seller", both,
		    &p->commission_seller_bp);
		bad |= conf_read_commission(grp, "commission-buyer", both,
		    &p->commission_buyer_bp);
		if (!conf_code_ok(p->code)) {
			conf_bad(grp, "code", NULL, "service-point code '%s' "
			    "must be 1-32 lowercase letters, digits, '-' or "
			    "'_'", p->code ? p->code : "");
			bad = -1;
			continue;
		}
		if (i > 0 && conf_service_point_find(c, p->code) != p) {
			conf_bad(grp, "code", NULL, "service-point '%s' "
			    "declared twice", p->code);
			bad = -1;
		}
		if (p->market == NULL || conf_market_find(c, p->market) ==
		    NULL) {
			conf_bad(grp, "market", NULL, "service-point '%s': "
			    "market '%s' is not declared in a 'group = "
			    "market'", p->code, p->market ? p->market : "");
			bad = -1;
		}
		if (p->name == NULL)
			p->name = conf_strdup(p->code);
	}
	gwlist_destroy(l, NULL);
	return bad;
}

void
conf_service_points_free(struct conf *c)
{
	size_t	 i;

	for (i = 0; i < c->nservice_points; i++) {
		free(c->service_points[i].code);
		free(c->service_points[i].name);
		free(c->service_points[i].market);
		free(c->service_points[i].phone);
		conf_names_free(&c->service_points[i].names);
	}
	free(c->service_points);
	c->service_points = NULL;
	c->nservice_points = 0;
}

const struct conf_service_point *
conf_service_point_find(const struct conf *c, const char *code)
{
	size_t	 i;

	for (i = 0; code != NULL && i < c->nservice_points; i++)
		if (c->service_points[i].code != NULL &&
		    strcmp(c->service_points[i].code, code) == 0)
			return &c->service_points[i];
	return NULL;
}

const char *
conf_service_point_name(const struct conf_service_point *p, const char *lang)
{
	const char	*n;

	if (p == NULL)
		return NULL;
	if ((n = conf_name_for(&p->names, lang)) != NULL)
		return n;
	return p->name != NULL ? p->name : p->code;
}

const struct conf_unit *
conf_unit_find(const struct conf *c, const char *code)
{
	size_t	 i;

	for (i = 0; code != NULL && i < c->nunits; i++)
		if (c->units[i].code != NULL && strcmp(c->units[i].code, code) == 0)
			return &c->units[i];
	return NULL;
}

const struct conf_commodity *
conf_commodity_find(const struct conf *c, const char *code)
{
	size_t	 i;

	for (i = 0; code != NULL && i < c->ncommodities; i++)
		if (c->commodities[i].code != NULL &&
		    strcmp(c->commodities[i].code, code) == 0)
			return &c->commodities[i];
	return NULL;
}

const struct conf_market *
conf_market_find(const struct conf *c, const char *code)
{
	size_t	 i;

	for (i = 0; code != NULL && i < c->nmarkets; i++)
		if (c->markets[i].code != NULL &&
		    strcmp(c->markets[i].code, code) == 0)
			return &c->markets[i];
	return NULL;
}

/* --- planting seasons ------------------------------------------------------ */

/* Is region the region of a declared market? */
static int
conf_region_known(const struct conf *c, const char *region)
{
	size_t	 i;

	for (i = 0; region != NULL && i < c->nmarkets; i++)
		if (c->markets[i].region != NULL &&
		    strcmp(c->markets[i].region, region) == 0)
			return 1;
	return 0;
}

/* "MM-DD" (a day every year has: 02-29 is refused): 0, or -1. */
static int
conf_month_day(const char *s, int *month, int *day)
{
	static const int days[] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31,
	    30, 31 };
	int	 i;

	for (i = 0; i < 5; i++)
		if (i == 2 ? s[i] != '-' : !isdigit((unsigned char)s[i]))
			return -1;
	if (s[5] != '\0')
		return -1;
	*month = (s[0] - '0') * 10 + (s[1] - '0');
	*day = (s[3] - '0') * 10 + (s[4] - '0');
	if (*month < 1 || *month > 12 || *day < 1 || *day > days[*month - 1])
		return -1;
	return 0;
}

/* "21d", "3w", "12h" as seconds, from 1 hour to 180 days; or -1. */
static long long
conf_season_span(const char *s)
{
	long long	 n = 0;
	int		 digits = 0;

	for (; isdigit((unsigned char)*s) && digits < 5; s++, digits++)
		n = n * 10 + (*s - '0');
	if (digits == 0 || s[0] == '\0' || s[1] != '\0')
		return -1;
	if (*s == 'h')
		n *= 3600;
	else if (*s == 'd')
		n *= 86400;
	else if (*s == 'w')
		n *= 7 * 86400;
	else
		return -1;
	return n >= 3600 && n <= 180 * 86400 ? n : -1;
}

/* "remind = 21d;7d" (default): at most CONF_SEASON_REMINDS, sorted
   longest first so that reminders go out in their order. */
static int
conf_read_remind(CfgGroup *grp, struct conf_season *s)
{
	struct conf_names	 l;
	char			*raw = conf_string(grp, "remind", "21d;7d");
	long long		 v, t;
	size_t			 i, j;
	int			 bad = 0;

	conf_names_split(raw, &l);
	free(raw);
	if (l.count == 0 || l.count > CONF_SEASON_REMINDS) {
		conf_bad(grp, "remind", NULL, "season '%s': 1 to %d "
		    "durations before the start (such as 21d;7d)",
		    s->code ? s->code : "", CONF_SEASON_REMINDS);
		conf_names_free(&l);
		return -1;
	}
	for (i = 0; i < l.count; i++) {
		if ((v = conf_season_span(l.names[i])) == -1) {
			conf_bad(grp, "remind", NULL, "'%s' is not a duration "
			    "from 1h to 180d (21d, 3w, 12h)", l.names[i]);
			bad = -1;
			continue;
		}
		for (j = 0; j < s->nremind; j++)
			if (s->remind[j] == v)
				break;
		if (j < s->nremind)
			continue;	/* the same reminder twice: once */
		s->remind[s->nremind++] = v;
		for (j = s->nremind - 1; j > 0 && s->remind[j - 1] <
		    s->remind[j]; j--) {
			t = s->remind[j];
			s->remind[j] = s->remind[j - 1];
			s->remind[j - 1] = t;
		}
	}
	conf_names_free(&l);
	return bad;
}

/* The season's inputs: each a declared commodity of kind input. */
static int
conf_season_inputs(const struct conf *c, CfgGroup *grp, struct conf_season *s)
{
	const struct conf_commodity	*k;
	size_t				 i;
	int				 bad = 0;

	if (s->inputs.count == 0) {
		conf_bad(grp, "inputs", NULL, "season '%s' names no inputs "
		    "(such as inputs = maize-seed;dap)", s->code);
		return -1;
	}
	if (s->inputs.count > CONF_SEASON_INPUTS) {
		conf_bad(grp, "inputs", NULL, "season '%s' names more than "
		    "%d inputs", s->code, CONF_SEASON_INPUTS);
		bad = -1;
	}
	for (i = 0; i < s->inputs.count; i++) {
		if ((k = conf_commodity_find(c, s->inputs.names[i])) == NULL) {
			conf_bad(grp, "inputs", NULL, "season '%s': '%s' is "
			    "not declared in a 'group = commodity'", s->code,
			    s->inputs.names[i]);
			bad = -1;
		} else if (!k->input) {
			conf_bad(grp, "inputs", NULL, "season '%s': '%s' is "
			    "produce, not an input (kind = input)", s->code,
			    s->inputs.names[i]);
			bad = -1;
		}
	}
	return bad;
}

int
conf_read_seasons(struct conf *c, Cfg *cfg)
{
	List	*l = cfg_get_multi_group(cfg, octstr_imm("season"));
	long	 i;
	int	 bad = 0;
	char	*raw;

	c->nseasons = l ? gwlist_len(l) : 0;
	c->seasons = calloc(c->nseasons ? c->nseasons : 1,
	    sizeof(*c->seasons));
	if (c->seasons == NULL)
		panic(errno, "out of memory");
	for (i = 0; l != NULL && i < gwlist_len(l); i++) {
		CfgGroup		*grp = gwlist_get(l, i);
		struct conf_season	*s = &c->seasons[i];

		s->code = conf_string(grp, "code", NULL);
		s->region = conf_string(grp, "region", NULL);
		raw = conf_string(grp, "inputs", NULL);
		conf_names_split(raw, &s->inputs);
		free(raw);
		bad |= conf_read_names(grp, &s->names);
		if (!conf_code_ok(s->code)) {
			conf_bad(grp, "code", NULL, "season code '%s' must be "
			    "1-32 lowercase letters, digits, '-' or '_'",
			    s->code ? s->code : "");
			bad = -1;
			continue;
		}
		if (i > 0 && conf_season_find(c, s->code) != s) {
			conf_bad(grp, "code", NULL, "season '%s' declared "
			    "twice", s->code);
			bad = -1;
		}
		if (!conf_region_known(c, s->region)) {
			conf_bad(grp, "region", NULL, "season '%s': region "
			    "'%s' is no market's region", s->code,
			    s->region ? s->region : "");
			bad = -1;
		}
		bad |= conf_season_inputs(c, grp, s);
		raw = conf_string(grp, "starts", NULL);
		if (raw == NULL || conf_month_day(raw, &s->start_month,
		    &s->start_day) == -1) {
			conf_bad(grp, "starts", NULL, "season '%s': starts = "
			    "'%s' is not a month and day MM-DD (such as "
			    "03-15; not 02-29)", s->code, raw ? raw : "");
			bad = -1;
		}
		free(raw);
		bad |= conf_read_remind(grp, s);
	}
	gwlist_destroy(l, NULL);
	return bad;
}

void
conf_seasons_free(struct conf *c)
{
	size_t	 i;

	for (i = 0; i < c->nseasons; i++) {
		free(c->seasons[i].code);
		free(c->seasons[i].region);
		conf_names_free(&c->seasons[i].names);
		conf_names_free(&c->seasons[i].inputs);
	}
	free(c->seasons);
	c->seasons = NULL;
	c->nseasons = 0;
}

const struct conf_season *
conf_season_find(const struct conf *c, const char *code)
{
	size_t	 i;

	for (i = 0; code != NULL && i < c->nseasons; i++)
		if (c->seasons[i].code != NULL &&
		    strcmp(c->seasons[i].code, code) == 0)
			return &c->seasons[i];
	return NULL;
}

/* --- the delivery chain's hubs --------------------------------------------- */

/*
 * The levels, top first: a hub's parent is of the level before its own.
 * The national hub is optional (a county without a parent is the top of
 * its own chain, as before there was a national level): with it, the
 * counties under it meet there.
 */
static const char * const conf_hub_levels[CONF_HUB_LEVELS] = {
	"national", "county", "township", "village"
};
#define CONF_HUB_NATIONAL	0
#define CONF_HUB_COUNTY		1

/* 0 for the national hub, 1 a county, 2 a township, 3 a village; -1 for
   anything else. */
static int
conf_hub_level(const char *level)
{
	int	 i;

	for (i = 0; level != NULL && i < CONF_HUB_LEVELS; i++)
		if (strcmp(level, conf_hub_levels[i]) == 0)
			return i;
	return -1;
}

/*
 * Does the line (blanks skipped) set key, and (value not NULL) to value
 * exactly, quoted or not?  Returns a pointer past the '=', or NULL.
 */
static const char *
conf_hub_line_is(const char *p, const char *key, const char *value)
{
	size_t	 n = strlen(key);

	while (*p == ' ' || *p == '\t')
		p++;
	if (strncmp(p, key, n) != 0)
		return NULL;
	for (p += n; *p == ' ' || *p == '\t'; p++)
		;
	if (*p++ != '=')
		return NULL;
	if (value == NULL)
		return p;
	while (*p == ' ' || *p == '\t')
		p++;
	if (*p == '"')
		p++;
	n = strlen(value);
	if (strncmp(p, value, n) != 0)
		return NULL;
	for (p += n; *p == '"' || isspace((unsigned char)*p); p++)
		;
	return *p == '\0' ? p : NULL;
}

/*
 * The line of key in the nth (0, 1 ...) "group = hub" whose code is code,
 * in file or the files it includes (libgw names the top file for a group
 * of an included one, and conf_bad's search by key alone finds the first
 * hub's line when every hub has the key); its file into where.  A group
 * runs from its "group =" line to the next blank line (the conf's
 * syntax), an include ending it.  0 when not found (a directory include
 * is not looked into).  *nth counts down the groups of that code seen.
 */
static long
conf_hub_key_line(const char *file, const char *code, size_t *nth,
    const char *key, char *where, size_t wlen, int depth)
{
	FILE	*fp;
	char	 line[4096], target[4096];
	const char *t;
	long	 n = 0, keyline = 0, found = 0;
	int	 in = 0, match = 0, include;

	if (file == NULL || depth > 8 || (fp = fopen(file, "r")) == NULL)
		return 0;
	while (found == 0 && fgets(line, sizeof(line), fp) != NULL) {
		const char	*p = line;

		n++;
		while (isspace((unsigned char)*p))
			p++;
		include = *p != '#' && conf_hub_line_is(line, "include",
		    NULL) != NULL;
		if (*p == '\0' || include ||
		    conf_hub_line_is(line, "group", NULL)) {
			/* the group before ends */
			if (in && match && (*nth)-- == 0)
				found = keyline;
			in = *p != '\0' && !include && conf_hub_line_is(line,
			    "group", "hub") != NULL;
			match = 0;
			keyline = 0;
			if (found == 0 && include) {
				memcpy(target, line, sizeof(target));
				if ((t = conf_include_target(target)) != NULL &&
				    (found = conf_hub_key_line(t, code, nth,
				    key, where, wlen, depth + 1)) > 0) {
					fclose(fp);
					return found;
				}
			}
			continue;
		}
		if (!in || *p == '#')
			continue;
		if (conf_hub_line_is(line, "code", code) != NULL)
			match = 1;
		if (keyline == 0 && conf_hub_line_is(line, key, NULL) != NULL)
			keyline = n;
	}
	if (found == 0 && in && match && (*nth)-- == 0)
		found = keyline;
	fclose(fp);
	if (found > 0)
		snprintf(where, wlen, "%s", file);
	return found;
}

/*
 * A bad value of the hub h (the nth declared with its code): the file
 * and line of its key when they are found, else as conf_bad.
 */
static void conf_hub_bad(CfgGroup *, const struct conf_hub *, size_t nth,
    const char *key, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));

static void
conf_hub_bad(CfgGroup *grp, const struct conf_hub *h, size_t nth,
    const char *key, const char *fmt, ...)
{
	va_list	 ap;
	char	 why[512], where[1024];
	Octstr	*file = cfg_get_configfile(grp);
	long	 line;

	va_start(ap, fmt);
	vsnprintf(why, sizeof(why), fmt, ap);
	va_end(ap);
	line = file != NULL ? conf_hub_key_line(octstr_get_cstr(file),
	    h->code, &nth, key, where, sizeof(where), 0) : 0;
	if (line > 0)
		error(0, "%s:%ld: %s: %s", where, line, key, why);
	else
		conf_bad(grp, key, NULL, "%s", why);
	octstr_destroy(file);
}

/* "operators = 0722 000 111;+254733000222": each made international. */
static int
conf_hub_operators(const struct conf *c, CfgGroup *grp, struct conf_hub *h,
    size_t nth)
{
	char	 phone[32], *n;
	size_t	 i;
	int	 bad = 0;

	if (h->operators.count > CONF_HUB_OPERATORS) {
		conf_hub_bad(grp, h, nth, "operators", "hub '%s' names more "
		    "than %d operators", h->code, CONF_HUB_OPERATORS);
		bad = -1;
	}
	for (i = 0; i < h->operators.count; i++) {
		/* a local number needs country-code (msisdn_normalise
		   refuses it without); "+0..." is never a number */
		if (msisdn_normalise(c->country_code, h->operators.names[i],
		    phone, sizeof(phone)) == -1 || phone[1] == '0') {
			conf_hub_bad(grp, h, nth, "operators", "hub '%s': "
			    "'%s' is not a phone number (such as "
			    "+254722000111%s)", h->code, h->operators.names[i],
			    c->country_code != NULL ? " or 0722000111" :
			    "; local numbers need country-code");
			bad = -1;
			continue;
		}
		if ((n = conf_strdup(phone)) == NULL)
			panic(errno, "out of memory");
		free(h->operators.names[i]);
		h->operators.names[i] = n;
	}
	return bad;
}

/*
 * The markets (what "markets" names) or service points ("points") of h:
 * each declared, and served by no hub before it.
 */
static int
conf_hub_places(const struct conf *c, CfgGroup *grp, struct conf_hub *h,
    size_t nth, size_t index, int points)
{
	const struct conf_names	*l = points ? &h->points : &h->markets;
	const struct conf_names	*o;
	const char		*key = points ? "points" : "markets";
	const char		*p;
	size_t			 i, j, k;
	int			 bad = 0;

	for (i = 0; i < l->count; i++) {
		p = l->names[i];
		/* goods are handed out at a county or below: the national
		   hub only passes them between counties */
		if (conf_hub_level(h->level) == CONF_HUB_NATIONAL) {
			conf_hub_bad(grp, h, nth, key, "hub '%s' is a national "
			    "hub: it serves no %s itself ('%s' goes to a "
			    "county, township or village hub)", h->code,
			    points ? "service point" : "market", p);
			bad = -1;
			continue;
		}
		if (points ? conf_service_point_find(c, p) == NULL :
		    conf_market_find(c, p) == NULL) {
			conf_hub_bad(grp, h, nth, key, "hub '%s': '%s' is not "
			    "declared in a 'group = %s'", h->code, p,
			    points ? "service-point" : "market");
			bad = -1;
			continue;
		}
		for (j = 0; j <= index; j++) {
			o = points ? &c->hubs[j].points : &c->hubs[j].markets;
			for (k = 0; k < (j == index ? i : o->count); k++)
				if (strcmp(o->names[k], p) == 0)
					break;
			if (k < (j == index ? i : o->count))
				break;
		}
		if (j <= index) {
			conf_hub_bad(grp, h, nth, key, "hub '%s': %s '%s' is "
			    "served by hub '%s' already (one hub a place)",
			    h->code, points ? "service point" : "market", p,
			    c->hubs[j].code);
			bad = -1;
		}
	}
	return bad;
}

/*
 * The parent of hub h: declared, one level up (a county's, when it has
 * one: the national hub; the national hub has none); and no cycle (which
 * the levels already forbid, but parents that go round are named as
 * such).  Sets h->up when the parent is right.
 */
static int
conf_hub_parent(const struct conf *c, CfgGroup *grp, struct conf_hub *h,
    size_t nth)
{
	const struct conf_hub	*p, *q;
	int			 level = conf_hub_level(h->level), pl;
	size_t			 steps;

	if (level == -1)
		return 0;	/* already refused */
	if (level == CONF_HUB_NATIONAL || (level == CONF_HUB_COUNTY &&
	    h->parent == NULL)) {
		if (h->parent == NULL)
			return 0;
		conf_hub_bad(grp, h, nth, "parent", "hub '%s' is the national "
		    "hub: it has no parent (remove parent = %s)", h->code,
		    h->parent);
		return -1;
	}
	if (h->parent == NULL) {
		conf_hub_bad(grp, h, nth, "level", "hub '%s' is a %s: it needs "
		    "a parent, a %s hub (parent = CODE)", h->code, h->level,
		    conf_hub_levels[level - 1]);
		return -1;
	}
	if ((p = conf_hub_find(c, h->parent)) == NULL) {
		conf_hub_bad(grp, h, nth, "parent", "hub '%s': parent '%s' is "
		    "not declared in a 'group = hub'", h->code, h->parent);
		return -1;
	}
	for (q = p, steps = 0; q != NULL && q != h && steps <= c->nhubs;
	    steps++)
		q = q->parent != NULL ? conf_hub_find(c, q->parent) : NULL;
	if (q != NULL) {
		conf_hub_bad(grp, h, nth, "parent", "hub '%s': its parents "
		    "go round in a cycle (through '%s') and never reach a "
		    "county or the national hub", h->code, h->parent);
		return -1;
	}
	if ((pl = conf_hub_level(p->level)) != level - 1) {
		conf_hub_bad(grp, h, nth, "parent", "hub '%s' is a %s: its "
		    "parent '%s' must be a %s hub, not %s%s", h->code,
		    h->level, p->code, conf_hub_levels[level - 1],
		    pl == -1 ? "of no level" : "a ",
		    pl == -1 ? "" : conf_hub_levels[pl]);
		return -1;
	}
	h->up = p;
	return 0;
}

int
conf_read_hubs(struct conf *c, Cfg *cfg)
{
	List		*l = cfg_get_multi_group(cfg, octstr_imm("hub"));
	const struct conf_hub *top = NULL;	/* the national hub */
	long		 i;
	size_t		 j, nth;
	int		 bad = 0, *ok;
	char		*raw;

	c->nhubs = l ? gwlist_len(l) : 0;
	c->hubs = calloc(c->nhubs ? c->nhubs : 1, sizeof(*c->hubs));
	ok = calloc(c->nhubs ? c->nhubs : 1, sizeof(*ok));
	if (c->hubs == NULL || ok == NULL)
		panic(errno, "out of memory");
	/* Parents may come after their children: read all, then check. */
	for (i = 0; l != NULL && i < gwlist_len(l); i++) {
		CfgGroup	*grp = gwlist_get(l, i);
		struct conf_hub	*h = &c->hubs[i];

		h->code = conf_string(grp, "code", NULL);
		h->name = conf_string(grp, "name", NULL);
		h->level = conf_string(grp, "level", NULL);
		h->parent = conf_string(grp, "parent", NULL);
		if (h->parent != NULL && h->parent[0] == '\0') {
			free(h->parent);
			h->parent = NULL;
		}
		raw = conf_string(grp, "markets", NULL);
		conf_names_split(raw, &h->markets);
		free(raw);
		raw = conf_string(grp, "points", NULL);
		conf_names_split(raw, &h->points);
		free(raw);
		raw = conf_string(grp, "operators", NULL);
		conf_names_split(raw, &h->operators);
		free(raw);
		bad |= conf_read_names(grp, &h->names);
		if (!conf_code_ok(h->code)) {
			/* its value finds its line, not the first hub's */
			Octstr	*v = h->code ? octstr_create(h->code) : NULL;

			conf_bad(grp, "code", v, "hub code '%s' must be "
			    "1-32 lowercase letters, digits, '-' or '_'",
			    h->code ? h->code : "");
			octstr_destroy(v);
			bad = -1;
			continue;
		}
		ok[i] = 1;
		if (h->name == NULL)
			h->name = conf_strdup(h->code);
	}
	for (i = 0; l != NULL && i < gwlist_len(l); i++) {
		CfgGroup	*grp = gwlist_get(l, i);
		struct conf_hub	*h = &c->hubs[i];

		if (!ok[i])
			continue;
		for (j = 0, nth = 0; j < (size_t)i; j++)
			if (ok[j] && strcmp(c->hubs[j].code, h->code) == 0)
				nth++;
		if (nth > 0) {
			conf_hub_bad(grp, h, nth, "code", "hub '%s' declared "
			    "twice", h->code);
			bad = -1;
			continue;
		}
		if (conf_hub_level(h->level) == -1) {
			conf_hub_bad(grp, h, nth, "level", "hub '%s': level "
			    "'%s' is not national, county, township or "
			    "village", h->code, h->level ? h->level : "");
			bad = -1;
		} else
			bad |= conf_hub_parent(c, grp, h, nth);
		/* one top: two national hubs would leave their counties
		   in two trees that never meet */
		if (conf_hub_level(h->level) == CONF_HUB_NATIONAL &&
		    top != NULL) {
			conf_hub_bad(grp, h, nth, "level", "hub '%s' is a "
			    "second national hub: '%s' is the top of the "
			    "chain already", h->code, top->code);
			bad = -1;
		} else if (conf_hub_level(h->level) == CONF_HUB_NATIONAL)
			top = h;
		bad |= conf_hub_places(c, grp, h, nth, (size_t)i, 0);
		bad |= conf_hub_places(c, grp, h, nth, (size_t)i, 1);
		bad |= conf_hub_operators(c, grp, h, nth);
	}
	free(ok);
	gwlist_destroy(l, NULL);
	return bad;
}

void
conf_hubs_free(struct conf *c)
{
	size_t	 i;

	for (i = 0; i < c->nhubs; i++) {
		free(c->hubs[i].code);
		free(c->hubs[i].name);
		free(c->hubs[i].level);
		free(c->hubs[i].parent);
		conf_names_free(&c->hubs[i].names);
		conf_names_free(&c->hubs[i].markets);
		conf_names_free(&c->hubs[i].points);
		conf_names_free(&c->hubs[i].operators);
	}
	free(c->hubs);
	c->hubs = NULL;
	c->nhubs = 0;
}

const struct conf_hub *
conf_hub_find(const struct conf *c, const char *code)
{
	size_t	 i;

	for (i = 0; code != NULL && i < c->nhubs; i++)
		if (c->hubs[i].code != NULL &&
		    strcmp(c->hubs[i].code, code) == 0)
			return &c->hubs[i];
	return NULL;
}

const char *
conf_hub_name(const struct conf_hub *h, const char *lang)
{
	const char	*n;

	if (h == NULL)
		return NULL;
	if ((n = conf_name_for(&h->names, lang)) != NULL)
		return n;
	return h->name != NULL ? h->name : h->code;
}

/* The hub whose markets (or points) list place, or NULL. */
static const struct conf_hub *
conf_hub_listing(const struct conf *c, const char *place, int points)
{
	const struct conf_names	*l;
	size_t			 i, k;

	for (i = 0; i < c->nhubs; i++) {
		l = points ? &c->hubs[i].points : &c->hubs[i].markets;
		for (k = 0; k < l->count; k++)
			if (strcmp(l->names[k], place) == 0)
				return &c->hubs[i];
	}
	return NULL;
}

const struct conf_hub *
conf_hub_serving(const struct conf *c, const char *place)
{
	const struct conf_hub		*h;
	const struct conf_service_point	*p;

	if (c == NULL || place == NULL)
		return NULL;
	if ((h = conf_hub_listing(c, place, 0)) != NULL ||
	    (h = conf_hub_listing(c, place, 1)) != NULL)
		return h;
	if ((p = conf_service_point_find(c, place)) != NULL &&
	    p->market != NULL)
		return conf_hub_listing(c, p->market, 0);
	return NULL;
}

/*
 * h and its parents, h first: at most CONF_HUB_LEVELS (a loaded conf's
 * parents are one level up each, so that is all of them: village,
 * township, county, national).
 */
static size_t
conf_hub_chain(const struct conf_hub *h, const struct conf_hub **chain)
{
	size_t	 n = 0;

	for (; h != NULL && n < CONF_HUB_LEVELS; h = h->up)
		chain[n++] = h;
	return n;
}

long
conf_hub_route(const struct conf *c, const char *from, const char *to,
    const struct conf_hub **out, size_t max)
{
	const struct conf_hub	*a[CONF_HUB_LEVELS], *b[CONF_HUB_LEVELS];
	size_t			 na, nb, i, j, n;

	if (c == NULL)
		return 0;
	na = conf_hub_chain(conf_hub_serving(c, from), a);
	nb = conf_hub_chain(conf_hub_serving(c, to), b);
	if (na == 0 || nb == 0 || a[0] == b[0])
		return 0;
	/* the first of from's chain that is in to's: up to i, down from j */
	for (i = 0; i < na; i++) {
		for (j = 0; j < nb && b[j] != a[i]; j++)
			;
		if (j < nb)
			break;
	}
	if (i == na)
		return 0;	/* two counties, no national hub above both */
	n = i + 1 + j;
	if (out == NULL || n > max)
		return -1;
	for (n = 0; n <= i; n++)
		out[n] = a[n];
	while (j > 0)
		out[n++] = b[--j];
	return (long)n;
}
