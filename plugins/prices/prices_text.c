/*
 * prices_text.c - the prices plugin's small pure functions: money as typed
 * and as shown, durations as a number of days, hours or minutes, the trend
 * in percent, whether a text fits one SMS.  No host, no store, no
 * allocation: unit-tested directly (tests/unit/plugins/test_prices.c).
 *
 * Money is integer minor units throughout (see prices.h): a price is
 * parsed digit by digit, never through a double.
 */
#include <stdio.h>
#include <string.h>

#include "prices.h"

static int
prices_text_digit(char c)
{
	return c >= '0' && c <= '9';
}

/*
 * Digits, then groups of a separator (',' '.' or '\'') and exactly three
 * digits (thousands, as the host joins them) when the digits before them
 * are 1 to 3 and do not start with 0, then a '.' or ',' and one or two
 * decimals, then an optional "/=" or "/-".  "2.505" is 2505, as the host
 * reads it; "2.5050", "3000.505" and "0.050" are no price.
 */
int
prices_text_money_parse(const char *s, long long *out)
{
	long long	 whole = 0, cents = 0;
	size_t		 i = 0, digits = 0, intlen;

	if (s == NULL || !prices_text_digit(s[0]))
		return -1;
	while (prices_text_digit(s[i])) {
		if (++digits > 10)
			return -1;
		whole = whole * 10 + (s[i++] - '0');
	}
	/* thousands groups only after 1 to 3 digits, not a leading 0:
	   "3000.505" and "0.050" are decimals (too many of them here) */
	intlen = digits;
	while (intlen <= 3 && s[0] != '0' &&
	    (s[i] == ',' || s[i] == '.' || s[i] == '\'') &&
	    prices_text_digit(s[i + 1]) && prices_text_digit(s[i + 2]) &&
	    prices_text_digit(s[i + 3]) && !prices_text_digit(s[i + 4])) {
		if ((digits += 3) > 10)
			return -1;
		whole = whole * 1000 + (s[i + 1] - '0') * 100 +
		    (s[i + 2] - '0') * 10 + (s[i + 3] - '0');
		i += 4;
	}
	if ((s[i] == '.' || s[i] == ',') && prices_text_digit(s[i + 1])) {
		cents = (s[i + 1] - '0') * 10;
		i += 2;
		if (prices_text_digit(s[i]))
			cents += s[i++] - '0';
		if (prices_text_digit(s[i]))
			return -1;	/* more than two decimals */
	}
	if (s[i] == '/' && (s[i + 1] == '=' || s[i + 1] == '-'))
		i += 2;
	if (s[i] != '\0')
		return -1;
	whole = whole * 100 + cents;
	if (whole <= 0 || whole > PRICES_MONEY_MAX)
		return -1;
	*out = whole;
	return 0;
}

void
prices_text_money(long long v, char *buf, size_t len)
{
	const char	*sign = "";

	if (v < 0) {
		sign = "-";
		v = -v;
	}
	if (v % 100 == 0)
		snprintf(buf, len, "%s%lld", sign, v / 100);
	else
		snprintf(buf, len, "%s%lld.%02lld", sign, v / 100, v % 100);
}

long long
prices_text_duration_parse(const char *s)
{
	long long	 v = 0, unit = 1;
	size_t		 i = 0;

	if (s == NULL || !prices_text_digit(s[0]))
		return -1;
	while (prices_text_digit(s[i])) {
		if (i >= 8)
			return -1;
		v = v * 10 + (s[i++] - '0');
	}
	switch (s[i]) {
	case '\0':
		break;
	case 's':
		i++;
		break;
	case 'm':
		unit = 60;
		i++;
		break;
	case 'h':
		unit = 3600;
		i++;
		break;
	case 'd':
		unit = 86400;
		i++;
		break;
	default:
		return -1;
	}
	if (s[i] != '\0' || v <= 0 || v * unit > 366LL * 86400)
		return -1;
	return v * unit;
}

char
prices_text_span(long long s, int exact, long long *n)
{
	if (exact) {
		if (s > 0 && s % 86400 == 0) {
			*n = s / 86400;
			return 'd';
		}
		if (s > 0 && s % 3600 == 0) {
			*n = s / 3600;
			return 'h';
		}
	} else {
		if (s >= 86400) {
			*n = s / 86400;
			return 'd';
		}
		if (s >= 3600) {
			*n = s / 3600;
			return 'h';
		}
	}
	*n = s / 60 < 1 ? 1 : s / 60;
	return 'm';
}

int
prices_text_offset_parse(const char *s, long long *out)
{
	long long	 h = 0, m = 0, sign = 1;
	size_t		 i = 0, n;

	if (s == NULL)
		return -1;
	if (s[0] == '+' || s[0] == '-') {
		sign = s[0] == '-' ? -1 : 1;
		i++;
	}
	for (n = 0; prices_text_digit(s[i]); n++)
		h = h * 10 + (s[i++] - '0');
	if (n == 0 || n > 2)
		return -1;
	if (s[i] == ':') {
		if (!prices_text_digit(s[i + 1]) ||
		    !prices_text_digit(s[i + 2]))
			return -1;
		m = (s[i + 1] - '0') * 10 + (s[i + 2] - '0');
		i += 3;
		if (m >= 60)
			return -1;
	}
	if (s[i] != '\0')
		return -1;
	h = sign * (h * 3600 + m * 60);
	if (h < -12 * 3600 || h > 14 * 3600)
		return -1;
	*out = h;
	return 0;
}

long long
prices_text_trend(long long prev, long long cur)
{
	long long	 num = (cur - prev) * 100;

	if (prev <= 0)
		return 0;
	if (num >= 0)
		return (2 * num + prev) / (2 * prev);
	return (2 * num - prev) / (2 * prev);
}

/* Howard Hinnant's days_from_civil, in integers. */
long long
prices_text_civil_days(long long y, int m, int d)
{
	long long	 era, yoe, doy, doe;

	y -= m <= 2;
	era = (y >= 0 ? y : y - 399) / 400;
	yoe = y - era * 400;
	doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + doe - 719468;
}

long long
prices_text_civil_year(long long days)
{
	long long	 z = days + 719468, era, doe, yoe, doy, mp;

	era = (z >= 0 ? z : z - 146096) / 146097;
	doe = z - era * 146097;
	yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	mp = (5 * doy + 2) / 153;
	return yoe + era * 400 + (mp >= 10);
}
