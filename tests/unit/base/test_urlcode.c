/*
 * test_urlcode.c - urlcode.c: masking secrets in URLs before they are
 * logged.
 */
#include "config.h"

#include <criterion/criterion.h>

#include "base/urlcode.h"

static const struct mask_case {
	const char	*url, *want;
} mask_cases[] = {
	{ "http://127.0.0.1:13013/cgi-bin/sendsms?username=mb&password=s3cret",
	  "http://127.0.0.1:13013/cgi-bin/sendsms?username=mb&password=***" },
	{ "http://mb:s3cret@host/x?a=1", "http://mb:***@host/x?a=1" },
	{ "/send?PassWord=x&pwd=y&api_key=z&token=t&secret=s&to=1",
	  "/send?PassWord=***&pwd=***&api_key=***&token=***&secret=***&to=1" },
	{ "/send?password=&x", "/send?password=***&x" },
	{ "/plain/path", "/plain/path" },
	{ "/p?a=1;pass=2#frag", "/p?a=1;pass=***#frag" },
	{ "http://user@host/", "http://user@host/" },
};

Test(urlcode, mask_hides_every_secret)
{
	char	 out[256];
	size_t	 i;

	for (i = 0; i < sizeof(mask_cases) / sizeof(mask_cases[0]); i++)
		cr_assert_str_eq(urlcode_mask(mask_cases[i].url, out,
		    sizeof(out)), mask_cases[i].want, "%s", mask_cases[i].url);
}

Test(urlcode, mask_is_cut_short_not_overrun)
{
	char	 out[12];

	urlcode_mask("/send?user=abc&password=verylongsecret", out,
	    sizeof(out));
	cr_assert_str_eq(out, "/send?user=");
	cr_assert_str_eq(urlcode_mask(NULL, out, sizeof(out)), "");
}
