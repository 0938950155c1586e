/*
 * urlcode.c - URL (form) decoding; see urlcode.h.
 */
#include "config.h"

#include <ctype.h>
#include <string.h>

#include "base/urlcode.h"

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

/* Append n bytes of s to out (len bytes used so far), bounded. */
static void
urlcode_put(char *out, size_t outsize, size_t *len, const char *s, size_t n)
{
	if (*len + 1 >= outsize)
		return;
	if (n > outsize - 1 - *len)
		n = outsize - 1 - *len;
	memcpy(out + *len, s, n);
	*len += n;
	out[*len] = '\0';
}

/* 1 if the n bytes of name name a secret. */
static int
urlcode_secret_name(const char *name, size_t n)
{
	static const char *const words[] = {
		"pass", "pwd", "secret", "token", "key"
	};
	char	 low[64];
	size_t	 i;

	if (n >= sizeof(low))
		n = sizeof(low) - 1;
	for (i = 0; i < n; i++)
		low[i] = (char)tolower((unsigned char)name[i]);
	low[n] = '\0';
	for (i = 0; i < sizeof(words) / sizeof(words[0]); i++)
		if (strstr(low, words[i]) != NULL)
			return 1;
	return 0;
}

char *
urlcode_mask(const char *url, char *out, size_t outsize)
{
	const char	*p = url, *auth, *end, *at, *colon, *q;
	size_t		 len = 0;

	if (outsize == 0)
		return out;
	out[0] = '\0';
	if (url == NULL)
		return out;
	/* user:password@host */
	if ((auth = strstr(p, "://")) != NULL) {
		auth += 3;
		end = auth + strcspn(auth, "/?#");
		at = memchr(auth, '@', (size_t)(end - auth));
		colon = at != NULL ? memchr(auth, ':', (size_t)(at - auth)) :
		    NULL;
		if (colon != NULL) {
			urlcode_put(out, outsize, &len, p,
			    (size_t)(colon + 1 - p));
			urlcode_put(out, outsize, &len, "***", 3);
			p = at;
		}
	}
	if ((q = strchr(p, '?')) == NULL) {
		urlcode_put(out, outsize, &len, p, strlen(p));
		return out;
	}
	urlcode_put(out, outsize, &len, p, (size_t)(q + 1 - p));
	p = q + 1;
	while (*p != '\0') {
		size_t	 n = strcspn(p, "&;#"), name = strcspn(p, "=&;#");

		if (name < n && urlcode_secret_name(p, name)) {
			urlcode_put(out, outsize, &len, p, name + 1);
			urlcode_put(out, outsize, &len, "***", 3);
		} else
			urlcode_put(out, outsize, &len, p, n);
		p += n;
		if (*p == '#') {
			urlcode_put(out, outsize, &len, p, strlen(p));
			break;
		}
		if (*p != '\0')
			urlcode_put(out, outsize, &len, p++, 1);
	}
	return out;
}
