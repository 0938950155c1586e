/*
 * number.h - the command-line numbers of the bench's tools (boxload,
 * dlrsink).
 */
#ifndef MARKETBOX_BENCH_NUMBER_H
#define MARKETBOX_BENCH_NUMBER_H

#include <errno.h>
#include <stdlib.h>

/* A whole decimal number in [min, max]; otherwise min, and *ok set to 0. */
static inline long
bench_number(const char *s, long min, long max, int *ok)
{
	char	*end;
	long	 v;

	errno = 0;
	v = strtol(s, &end, 10);
	if (errno != 0 || end == s || *end != '\0' || v < min || v > max) {
		*ok = 0;
		return min;
	}
	return v;
}

#endif
