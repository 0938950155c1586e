/*
 * market_lang.h - the shipped language files as the market plugin's
 * tests read them (market_lang.c).
 */
#ifndef MARKETBOX_TEST_MARKET_LANG_H
#define MARKETBOX_TEST_MARKET_LANG_H

#include <stddef.h>

#include "marketbox-plugin.h"

/* at least market.h's MARKET_MAX_ARGS (a tour's made-up messages have
   more placeholders than one template reads) */
#define MARKET_MAX_ARGS_TEST	24

struct mock;

/* A message the plugin sent, kept for a language tour. */
struct market_seen {
	char		*tmpl;
	struct mb_arg	*args;
	size_t		 nargs;
};

/* What market_lang_collect kept, in order; market_lang_seen_free. */
extern struct market_seen	*market_seen;
extern size_t			 market_nseen;

/* The shipped language files, loaded by market_lang_open. */
extern struct lang_set	*market_lang_shipped;

/* libgw, the shipped language files and conf: loaded, and freed. */
void	market_lang_open(void);
void	market_lang_close(void);
/*
 * Template tmpl with its nargs values as a phone in lang reads it: one
 * SMS, GSM in English and Kiswahili, every placeholder filled; the value
 * of number_name (when not NULL) replaced by number.
 */
/* Every message of mock m's last run kept in market_seen. */
void	market_lang_collect(struct mock *m);
void	market_lang_seen_free(void);
/* The first message of mock m's last run of template tmpl: its index (it
   must be there). */
size_t	market_lang_find(struct mock *m, const char *tmpl);
/*
 * Template tmpl of lang with its n values as the host renders it (the
 * shipped files and catalogue), every placeholder filled; to be freed.
 */
char	*market_lang_render(const char *lang, const char *tmpl,
	    const struct mb_arg *args, size_t n);
void	market_lang_assert_reads(const char *lang, const char *tmpl,
	    const struct mb_arg *args, size_t nargs, const char *number_name,
	    const char *number);
/* A text of the mock's render() as it reads in lang (malloc'd). */
char	*market_lang_real(const char *lang, const char *text);
/* How many SMS that text is on a phone reading lang (a sms_parts() for
   mock_sms_parts that measures the shipped templates). */
size_t	market_lang_real_parts(const char *lang, const char *text);

#endif
