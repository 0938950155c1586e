/*
 * urlcode.c - URL (form) decoding; see urlcode.h.
 */
#include "config.h"

#include "urlcode.h"

int
urlcode_hexval(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

long
urlcode_decode(const char *s, size_t n, char *out, size_t outsize)
{
	size_t	 i, o = 0;
	int	 hi, lo;

	for (i = 0; i < n; i++) {
		if (o >= outsize)
			return -1;
		if (s[i] == '+')
			out[o++] = ' ';
		else if (s[i] == '%' && i + 2 < n &&
		    (hi = urlcode_hexval((unsigned char)s[i + 1])) >= 0 &&
		    (lo = urlcode_hexval((unsigned char)s[i + 2])) >= 0) {
			out[o++] = (char)(hi << 4 | lo);
			i += 2;
		} else
			out[o++] = s[i];
	}
	if (o < outsize)
		out[o] = '\0';
	return (long)o;
}
