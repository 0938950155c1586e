/*
 * market_lang.h - the shipped language files as the market plugin's
 * tests read them (market_lang.c).
 */
#ifndef MARKETBOX_TEST_MARKET_LANG_H
#define MARKETBOX_TEST_MARKET_LANG_H

#include <stddef.h>

#include "marketbox-plugin.h"

#define MARKET_MAX_ARGS_TEST	16	/* market.h's MARKET_MAX_ARGS */

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
void	market_lang_assert_reads(const char *lang, const char *tmpl,
	    const struct mb_arg *args, size_t nargs, const char *number_name,
	    const char *number);
/* A text of the mock's render() as it reads in lang (malloc'd). */
char	*market_lang_real(const char *lang, const char *text);

#endif
