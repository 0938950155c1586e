/*
 * conf_payments.c - group = payments: where buyers pay for their orders
 * and who may tell marketbox that they did (src/admin/payments.c takes
 * the provider's confirmations).
 *
 *	group = payments
 *	provider = daraja-c2b		the only one yet: Safaricom's C2B
 *	business-number = 512345	the paybill or till buyers pay to
 *	account-format = {ref}		what buyers type as the account:
 *					{ref} is the order's number, with
 *					at most 8 letters, digits or '-'
 *					around it ("MB{ref}")
 *	currency = KES			optional; must be the marketbox
 *					group's currency
 *	shared-secret = ...		the callback URL's ?secret= (or
 *					header X-Marketbox-Secret), 16
 *					characters at least
 *	allow-ip = 196.201.214.*	the provider's addresses (as
 *					http-allow-ip, which must list them
 *					too); loopback only when listed (a
 *					local proxy: 127.0.0.1)
 *	mode = direct			direct: buyers pay the seller's
 *					paybill; escrow: the operator's,
 *					who pays the seller out
 *
 * At least one of shared-secret and allow-ip must be set: a confirmation
 * nobody authenticates would make orders paid.  Every bad value is
 * reported with its file and line; the conf is then refused.
 */
#include "config.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "base/gw.h"

#include "base/conf.h"
#include "base/conf_int.h"

#define CONF_PAY_AFFIX		8	/* characters around {ref} */
#define CONF_PAY_SECRET_MIN	16

/* conf_bad() with a C string value (found in the file for the line). */
static void
conf_pay_bad(CfgGroup *grp, const char *key, const char *value,
    const char *why)
{
	Octstr	*v = value != NULL ? octstr_create(value) : NULL;

	conf_bad(grp, key, v, "%s", why);
	octstr_destroy(v);
}

/* 1 if s is at most CONF_PAY_AFFIX letters, digits or '-'. */
static int
conf_pay_affix_ok(const char *s, size_t n)
{
	size_t	 i;

	if (n > CONF_PAY_AFFIX)
		return 0;
	for (i = 0; i < n; i++)
		if (!isalnum((unsigned char)s[i]) && s[i] != '-')
			return 0;
	return 1;
}

int
conf_read_payments(struct conf *c, Cfg *cfg)
{
	struct conf_payments	*p = &c->payments;
	CfgGroup		*grp;
	char			*v, *at;
	size_t			 i;
	int			 bad = 0;

	memset(p, 0, sizeof(*p));
	if ((grp = cfg_get_single_group(cfg, octstr_imm("payments"))) == NULL)
		return 0;
	p->on = 1;

	p->provider = conf_string(grp, "provider", NULL);
	if (p->provider == NULL || strcmp(p->provider, "daraja-c2b") != 0) {
		conf_pay_bad(grp, "provider", p->provider, p->provider == NULL ?
		    "missing: say whose confirmations come (daraja-c2b)" :
		    "unknown provider: daraja-c2b is the only one yet");
		bad = -1;
	}

	p->business_number = conf_string(grp, "business-number", NULL);
	v = p->business_number;
	for (i = 0; v != NULL && isdigit((unsigned char)v[i]); i++)
		continue;
	if (v == NULL || v[i] != '\0' || i < 5 || i > 10) {
		conf_pay_bad(grp, "business-number", v, v == NULL ?
		    "missing: the paybill or till number buyers pay to" :
		    "must be the paybill or till number: 5 to 10 digits");
		bad = -1;
	}

	v = conf_string(grp, "account-format", "{ref}");
	if ((at = strstr(v, "{ref}")) == NULL || strstr(at + 5, "{ref}") ||
	    !conf_pay_affix_ok(v, at - v) ||
	    !conf_pay_affix_ok(at + 5, strlen(at + 5))) {
		conf_pay_bad(grp, "account-format", v, "must be {ref} (the "
		    "order's number) once, with at most 8 letters, digits or "
		    "'-' around it, as MB{ref}");
		bad = -1;
	} else {
		p->account_suffix = conf_strdup(at + 5);
		*at = '\0';
		p->account_prefix = conf_strdup(v);
	}
	free(v);

	v = conf_string(grp, "currency", NULL);
	if (v != NULL && (c->currency == NULL || strcmp(v, c->currency) != 0)) {
		conf_pay_bad(grp, "currency", v, "is not the currency of group "
		    "= marketbox: prices and payments must be in one currency");
		bad = -1;
	}
	free(v);

	p->secret = conf_string(grp, "shared-secret", NULL);
	if (p->secret != NULL && strlen(p->secret) < CONF_PAY_SECRET_MIN) {
		conf_pay_bad(grp, "shared-secret", NULL, "too short: give 16 "
		    "characters at least (it is all that stands between a "
		    "stranger and a paid order)");
		bad = -1;
	}
	v = conf_string(grp, "allow-ip", NULL);
	conf_names_split(v, &p->allow_ip);
	free(v);
	if (p->secret == NULL && p->allow_ip.count == 0) {
		conf_pay_bad(grp, "shared-secret", NULL, "set shared-secret "
		    "or allow-ip (or both): a confirmation nobody "
		    "authenticates would make orders paid");
		bad = -1;
	}

	v = conf_string(grp, "mode", "direct");
	if (strcmp(v, "escrow") == 0)
		p->escrow = 1;
	else if (strcmp(v, "direct") != 0) {
		conf_pay_bad(grp, "mode", v, "must be direct (buyers pay the "
		    "seller) or escrow (buyers pay the operator)");
		bad = -1;
	}
	free(v);
	return bad;
}

void
conf_payments_free(struct conf *c)
{
	struct conf_payments	*p = &c->payments;

	free(p->provider);
	free(p->business_number);
	free(p->account_prefix);
	free(p->account_suffix);
	free(p->secret);
	conf_names_free(&p->allow_ip);
	memset(p, 0, sizeof(*p));
}
