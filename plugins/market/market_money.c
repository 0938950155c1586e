/*
 * market_money.c - money and durations as people and the conf type them:
 * a price into minor units and back, a total multiplied with an overflow
 * check, "7d" into seconds.
 *
 * Money is in minor units (cents) in 64-bit integers, never in floating
 * point: prices are read digit by digit, totals multiplied with an
 * overflow check.
 *
 * What a price means (per unit, the usual one, a total's limit) is the
 * commands' (market_post.c, market_order.c, market_ask.c); this file only
 * reads, writes and multiplies the numbers.
 */
#include <ctype.h>
#include <stddef.h>
#include <stdio.h>

#include <marketbox/plugin.h>

#include "market.h"

/* --- money and durations -------------------------------------------------- */

int
market_money_parse(const char *s, long long *out)
{
	long long	 v = 0;
	int		 frac = 0, digits = 0;

	if (s == NULL)
		return -1;
	for (; *s >= '0' && *s <= '9'; s++) {
		/* more digits than the largest price has: refused early */
		if (++digits > 10)
			return -1;
		v = v * 10 + (*s - '0');
	}
	if (digits == 0)
		return -1;
	v *= 100;
	if (*s == '.' || *s == ',') {
		s++;
		if (*s < '0' || *s > '9')
			return -1;
		frac = (*s++ - '0') * 10;
		if (*s >= '0' && *s <= '9')
			frac += *s++ - '0';
	}
	if (*s != '\0')
		return -1;
	v += frac;
	if (v < 1 || v > MARKET_PRICE_MAX)
		return -1;
	*out = v;
	return 0;
}

void
market_money_format(long long minor, char *buf, size_t len)
{
	if (minor % 100 == 0)
		snprintf(buf, len, "%lld", minor / 100);
	else
		snprintf(buf, len, "%lld.%02lld", minor / 100, minor % 100);
}

int
market_money_mul(long long qty, long long price, long long *out)
{
	if (qty < 0 || price < 0 ||
	    __builtin_mul_overflow(qty, price, out))
		return -1;
	return 0;
}

int
market_duration_parse(const char *s, long long *out)
{
	long long	 v = 0, unit = 1;
	int		 digits = 0;

	if (s == NULL)
		return -1;
	while (*s == ' ')
		s++;
	for (; *s >= '0' && *s <= '9'; s++) {
		if (++digits > 9)
			return -1;
		v = v * 10 + (*s - '0');
	}
	if (digits == 0)
		return -1;
	switch (tolower((unsigned char)*s)) {
	case '\0':
		break;
	case 's':
		s++;
		break;
	case 'm':
		unit = 60;
		s++;
		break;
	case 'h':
		unit = 3600;
		s++;
		break;
	case 'd':
		unit = 86400;
		s++;
		break;
	default:
		return -1;
	}
	while (*s == ' ')
		s++;
	if (*s != '\0')
		return -1;
	*out = v * unit;
	return 0;
}
