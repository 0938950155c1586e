/*
 * phone.c - a phone number as people type it ("0722 000 111",
 * "+254-722-000111", "00254722000111") made the one international form
 * the tables and the conf keep (+254722000111).  Down here, with no
 * state, so that the conf reader (hub operators) and the engine read
 * numbers alike.  A local number (a leading 0) is one only with the
 * conf's country-code: without it, it is refused (-1), as is anything
 * that would read "+0...".
 */
#include "config.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>

#include "base/phone.h"

int
msisdn_normalise(const char *country_code, const char *typed, char *out,
    size_t outlen)
{
	char		 digits[24];
	size_t		 n = 0;
	int		 plus = 0;
	const char	*p;

	if (typed == NULL)
		return -1;
	for (p = typed; *p != '\0'; p++) {
		if (*p == '+' && n == 0 && !plus)
			plus = 1;
		else if (isdigit((unsigned char)*p)) {
			if (n + 1 >= sizeof(digits))
				return -1;
			digits[n++] = *p;
		} else if (*p != ' ' && *p != '-' && *p != '.' && *p != '(' &&
		    *p != ')')
			return -1;
	}
	digits[n] = '\0';
	if (!plus && n > 2 && digits[0] == '0' && digits[1] == '0') {
		/* 00 international prefix */
		memmove(digits, digits + 2, n - 1);
		n -= 2;
		plus = 1;
	}
	/* No country calling code starts with 0: "+0..." is never a number.
	   A local number ("0722000111") needs country-code to be one; without
	   it, it is refused here, never stored as "+0722000111". */
	if (n > 0 && digits[0] == '0' && (plus || country_code == NULL ||
	    country_code[0] == '\0'))
		return -1;
	if (plus) {
		if (n < 7 || n > 15)
			return -1;
		return snprintf(out, outlen, "+%s", digits) < (int)outlen ? 0 : -1;
	}
	if (country_code != NULL && n >= 9 && digits[0] == '0' &&
	    n - 1 + strlen(country_code) <= 15)
		return snprintf(out, outlen, "+%s%s", country_code, digits + 1) <
		    (int)outlen ? 0 : -1;
	if (country_code != NULL && n > strlen(country_code) + 6 && n <= 15 &&
	    strncmp(digits, country_code, strlen(country_code)) == 0)
		return snprintf(out, outlen, "+%s", digits) < (int)outlen ? 0 : -1;
	if (country_code != NULL && n == 9 && digits[0] != '0')
		return snprintf(out, outlen, "+%s%s", country_code, digits) <
		    (int)outlen ? 0 : -1;
	if (n >= 10 && n <= 15 && digits[0] != '0')
		return snprintf(out, outlen, "+%s", digits) < (int)outlen ? 0 : -1;
	return -1;
}
