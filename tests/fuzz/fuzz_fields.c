/*
 * fuzz_fields.c - libFuzzer target for the field parsers of /sms and
 * /ussd: the input is an urlencoded query or form body, read with
 * http_fields_parse() for the fields of /sms and of /ussd as waysin.c reads
 * them; the USSD fields then make the meta_data waysin.c gives the MO, read
 * back by ussd_meta_get() as ussd.c reads it; and the text is fitted to a
 * USSD screen by ussd_screen_fit().  Built and run by tests/fuzz/run.sh.
 *
 * Invariants: parsing succeeds; every value is NUL-terminated, no longer
 * than the input, and its strlen() at most its length; the first value
 * given wins, so the input followed by "&" and itself parses the same; the
 * sessionId, serviceCode and networkCode encoded into the meta_data (as
 * far as a C string holds them) decode to the same bytes; a fitted screen
 * is within its size in octets and, when not cut, is the text.
 */
#include "config.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/http.h>

#include "text/gsm.h"
#include "http/http.h"
#include "engine/ussd.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static const char *const fuzz_fields_sms[] = {
	"from", "to", "text", "id", "smsc", "coding"
};
static const char *const fuzz_fields_ussd[] = {
	"sessionId", "serviceCode", "phoneNumber", "networkCode", "text"
};
#define FUZZ_FIELDS_MAX	6

static void
fuzz_fields_check(int ok)
{
	if (!ok)
		abort();
}

static void
fuzz_fields_clear(char **value, size_t *len)
{
	int	 i;

	for (i = 0; i < FUZZ_FIELDS_MAX; i++) {
		free(value[i]);
		value[i] = NULL;
		len[i] = 0;
	}
}

/* Parse s (n bytes) for names, check it, and check s&s parses alike. */
static void
fuzz_fields_parse(const char *const *names, int nnames, const char *s,
    size_t n, char **value, size_t *len)
{
	char	*twice, *again[FUZZ_FIELDS_MAX] = { NULL };
	size_t	 alen[FUZZ_FIELDS_MAX] = { 0 };
	int	 i;

	fuzz_fields_check(http_fields_parse(names, nnames, value, len, s, n) ==
	    0);
	for (i = 0; i < nnames; i++) {
		if (value[i] == NULL)
			continue;
		fuzz_fields_check(len[i] <= n);
		fuzz_fields_check(value[i][len[i]] == '\0');
		fuzz_fields_check(strlen(value[i]) <= len[i]);
	}
	fuzz_fields_check((twice = malloc(2 * n + 1)) != NULL);
	memcpy(twice, s, n);
	twice[n] = '&';
	memcpy(twice + n + 1, s, n);
	fuzz_fields_check(http_fields_parse(names, nnames, again, alen, twice,
	    2 * n + 1) == 0);
	for (i = 0; i < nnames; i++) {
		fuzz_fields_check((again[i] == NULL) == (value[i] == NULL));
		if (value[i] != NULL)
			fuzz_fields_check(alen[i] == len[i] &&
			    memcmp(again[i], value[i], len[i]) == 0);
	}
	fuzz_fields_clear(again, alen);
	free(twice);
}

/* The meta_data waysin.c makes of a USSD request gives its fields back. */
static void
fuzz_fields_meta(char **value)
{
	static const int	 which[3] = { 0, 1, 3 };
	static const char *const keys[3] = {
		"sessionId", "serviceCode", "networkCode"
	};
	char			*enc[3] = { NULL }, *meta;
	unsigned char		*out;
	size_t			 outsize;
	long			 got;
	int			 i;

	for (i = 0; i < 3; i++)
		fuzz_fields_check((enc[i] = evhttp_uriencode(value[which[i]] ?
		    value[which[i]] : "", -1, 0)) != NULL);
	fuzz_fields_check(asprintf(&meta, "?http?sessionId=%s&serviceCode=%s&"
	    "networkCode=%s&", enc[0], enc[1], enc[2]) != -1);
	for (i = 0; i < 3; i++) {
		const char	*v = value[which[i]] ? value[which[i]] : "";

		outsize = strlen(v) + 1;
		fuzz_fields_check((out = malloc(outsize)) != NULL);
		got = ussd_meta_get(meta, "http", keys[i], out, outsize);
		fuzz_fields_check(got == (long)strlen(v));
		fuzz_fields_check(memcmp(out, v, outsize) == 0);
		free(out);
		free(enc[i]);
	}
	free(meta);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char	*s = (const char *)data;
	char		*value[FUZZ_FIELDS_MAX] = { NULL }, *fit;
	size_t		 len[FUZZ_FIELDS_MAX] = { 0 };
	int		 cut = -1;

	fuzz_fields_parse(fuzz_fields_sms, 6, s, size, value, len);
	fuzz_fields_clear(value, len);

	fuzz_fields_parse(fuzz_fields_ussd, 5, s, size, value, len);
	fuzz_fields_meta(value);
	if (value[4] != NULL) {
		/* ussd.c fits UTF-8 text: what gsm_to_utf8 made of it. */
		size_t	screen = 20 + size % 170;
		char	*text;

		fuzz_fields_check((text = gsm_to_utf8((unsigned char *)
		    value[4], len[4], 0, NULL, NULL)) != NULL);
		fit = ussd_screen_fit(text, screen, &cut);
		fuzz_fields_check(fit != NULL && (cut == 0 || cut == 1));
		fuzz_fields_check(ussd_screen_octets(fit) <= screen);
		if (!cut)
			fuzz_fields_check(strcmp(fit, text) == 0);
		free(fit);
		free(text);
	}
	fuzz_fields_clear(value, len);

	/* The raw input as a meta_data text. */
	if (size < 4096) {
		char		*meta;
		unsigned char	 out[64];

		fuzz_fields_check((meta = malloc(size + 1)) != NULL);
		memcpy(meta, data, size);
		meta[size] = '\0';
		(void)ussd_meta_get(meta, "http", "sessionId", out,
		    sizeof(out));
		(void)ussd_meta_get(meta, "smpp", "ussd_service_op", out,
		    sizeof(out));
		free(meta);
	}
	return 0;
}
