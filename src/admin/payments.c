/*
 * payments.c - POST /payments/confirm: a mobile-money provider's
 * confirmation that a buyer paid (group = payments; src/pay/pay.c takes
 * it, and says why payments are the core's); POST /payments/validate:
 * its question before the payment goes through; the operator's POST
 * /admin/payments/match and /admin/payouts/done; the money of /status.
 *
 * The body is Daraja's C2B JSON (other providers' callbacks map onto its
 * fields; Currency is ours, optional):
 *
 *	> {"TransactionType": "Pay Bill", "TransID": "QBC1X2Y3Z4",
 *	>  "TransTime": "20261205143000", "TransAmount": "15000.00",
 *	>  "BusinessShortCode": "512345", "BillRefNumber": "43",
 *	>  "MSISDN": "254700000001", "FirstName": "Wanjiru", ...}
 *	< 200 {"ResultCode": 0, "ResultDesc": "Accepted"}
 *
 * answered only once the payment's ledger row, its order's money state
 * and the notices are committed (a store failure: 500 and ResultCode 1,
 * so the provider retries).  A TransID seen before gets the same answer
 * and has no effect.  Refused, each logged once (a warning with the
 * peer) and nothing changed, with the provider's error answer
 * {"ResultCode": 1, "ResultDesc": "Rejected: ..."}:
 *
 *	404	no group = payments in the conf
 *	403	a peer not in the group's allow-ip (loopback is not
 *		implied: a local proxy is listed as 127.0.0.1); a missing or wrong
 *		shared-secret (?secret= or header X-Marketbox-Secret)
 *	400	a body that is not a JSON object of strings and numbers; no
 *		TransID or TransAmount, or a bad one; a BusinessShortCode
 *		not the business-number; a Currency not the conf's
 *
 * Strings are taken as JSON has them, \uXXXX escapes and surrogate pairs
 * too ("FirstName": "Wanjir\u0169"), into UTF-8.  What in a string is
 * not a character (a byte of no UTF-8 sequence: a Latin-1 letter; a bad
 * escape, a lone surrogate) becomes U+FFFD, logged: a field the
 * confirmation needs is then refused by its own check (TransID,
 * TransAmount, BusinessShortCode), a BillRefNumber matches no order (the
 * suspense list), and the names are kept with it: a payment is never
 * refused for its payer's names.  The ledger's raw keeps the body with
 * each such byte written \xNN, so both engines store it alike.
 *
 * POST /payments/validate takes the same body, passes the same checks
 * (refused as above), reads and changes nothing:
 *
 *	< 200 {"ResultCode": 0, "ResultDesc": "Accepted"}
 *		the open order (pending, accepted) BillRefNumber names,
 *		unpaid or part paid, and at most what is still due
 *	< 200 {"ResultCode": "C2B00012", "ResultDesc": "Rejected"}
 *		no such order, or one closed, paid or refunded
 *	< 200 {"ResultCode": "C2B00013", "ResultDesc": "Rejected"}
 *		more than is still due
 *
 * The operator's steps (admin.c's table: HTTP_ACCESS_ADMIN, as POST
 * /admin/dispute: the admin password and X-Marketbox-Admin), each in one
 * unit of work (src/pay/pay_admin.c), answered after its commit; 404
 * without group = payments, 503 without a router:
 *
 *	POST /admin/payments/match	trans=, order= (marketctl payments
 *		match): a suspense payment put on its order (payment_matches;
 *		the ledger row stays), the money state moved and the parties
 *		told as a confirmation naming the order would have.
 *		< 200 {"trans", "order", "amount", "currency", "state"}
 *		400 a bad TransID or order; 404 no such payment or order;
 *		409 matched before, not in suspense, or an order whose
 *		money takes no payment
 *	POST /admin/payouts/done	trans=, ref= (marketctl payouts
 *		done): the refund, payout or credit still owed (pay.h's
 *		PAY_SQL_OWED) for the order of payment trans (any of the
 *		ledger: 1 to 64 letters, digits and '-', RECEIVED-43-7 too)
 *		was sent, the transfer's reference ref (1 to 32 letters,
 *		digits, - _; default refund-TRANS, payout-TRANS,
 *		credit-TRANS): a ledger row said_by operator, the state
 *		refunded, paid-out or paid (a credit), the recipient told;
 *		a suspense payment with ref: returned to its payer (kind
 *		"return").
 *		< 200 {..., "kind", "to", "ref"}
 *		400 a bad TransID or ref; 404 no such payment, or one in
 *		suspense without ref; 409 nothing owed, returned before,
 *		or ref in the ledger already
 *
 * /status, /status.json and /metrics show the money with group =
 * payments (admin_money_read): the provider's payments received (count,
 * sum; not what sellers say they took), those in suspense (not matched
 * nor returned), refunds due and payouts due (orders still owed
 * something, and what: PAY_SQL_OWED, as marketctl payouts lists them).
 *
 * The entries are the HTTP server's (HTTP_ACCESS_PEER: loopback or
 * http-allow-ip, where the provider's addresses must be listed too; the
 * server listens on http-interface, loopback by default).
 */
#include "config.h"

#include <sys/types.h>
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/gw.h"

#include <event2/buffer.h>
#include <event2/event.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>

#include "admin/admin.h"
#include "admin/admin_int.h"
#include "base/conf.h"
#include "http/http.h"
#include "pay/pay.h"
#include "store/store.h"

#define PAY_BODY_MAX	8192	/* bytes of a callback's body */
#define PAY_FIELDS	16	/* fields of a callback kept */
#define PAY_TRANS_MAX	32	/* characters of a TransID */

/* The fields of a callback, each a malloc'd string. */
struct pay_json {
	char	*name[PAY_FIELDS];
	char	*value[PAY_FIELDS];
	size_t	 n;
	int	 bad;		/* some string had what is not a
				   character (pay_json_string) */
};

static void
pay_json_free(struct pay_json *j)
{
	size_t	 i;

	for (i = 0; i < j->n; i++) {
		free(j->name[i]);
		free(j->value[i]);
	}
	j->n = 0;
}

static const char *
pay_json_get(const struct pay_json *j, const char *name)
{
	size_t	 i;

	for (i = 0; i < j->n; i++)
		if (strcmp(j->name[i], name) == 0)
			return j->value[i];
	return NULL;
}

static const char *
pay_json_ws(const char *p, const char *end)
{
	while (p < end && (*p == ' ' || *p == '\t' || *p == '\n' ||
	    *p == '\r'))
		p++;
	return p;
}

/*
 * The length of the well-formed UTF-8 sequence at p (before end): 1 to
 * 4; 0 when the bytes there are none (a stray continuation byte, a
 * Latin-1 letter, an overlong form, a surrogate, past U+10FFFF).
 */
static size_t
pay_utf8_len(const unsigned char *p, const unsigned char *end)
{
	unsigned	 c = p[0], v;
	size_t		 n, i;

	if (c < 0x80)
		return 1;
	if (c >= 0xc2 && c <= 0xdf)
		n = 2, v = c & 0x1f;
	else if (c >= 0xe0 && c <= 0xef)
		n = 3, v = c & 0x0f;
	else if (c >= 0xf0 && c <= 0xf4)
		n = 4, v = c & 0x07;
	else
		return 0;
	if ((size_t)(end - p) < n)
		return 0;
	for (i = 1; i < n; i++) {
		if ((p[i] & 0xc0) != 0x80)
			return 0;
		v = v << 6 | (p[i] & 0x3f);
	}
	if ((n == 3 && v < 0x800) || (n == 4 && (v < 0x10000 ||
	    v > 0x10ffff)) || (v >= 0xd800 && v <= 0xdfff))
		return 0;
	return n;
}

/* Code point v as UTF-8 at o; the bytes written (1 to 4). */
static size_t
pay_utf8_put(char *o, unsigned v)
{
	if (v < 0x80) {
		o[0] = v;
		return 1;
	}
	if (v < 0x800) {
		o[0] = 0xc0 | v >> 6;
		o[1] = 0x80 | (v & 0x3f);
		return 2;
	}
	if (v < 0x10000) {
		o[0] = 0xe0 | v >> 12;
		o[1] = 0x80 | (v >> 6 & 0x3f);
		o[2] = 0x80 | (v & 0x3f);
		return 3;
	}
	o[0] = 0xf0 | v >> 18;
	o[1] = 0x80 | (v >> 12 & 0x3f);
	o[2] = 0x80 | (v >> 6 & 0x3f);
	o[3] = 0x80 | (v & 0x3f);
	return 4;
}

/* The 4 hex digits at p (before end) as a number; -1 when they are not. */
static long
pay_hex4(const char *p, const char *end)
{
	long	 v = 0;
	int	 i;

	if (end - p < 4)
		return -1;
	for (i = 0; i < 4; i++) {
		v <<= 4;
		if (p[i] >= '0' && p[i] <= '9')
			v |= p[i] - '0';
		else if (p[i] >= 'a' && p[i] <= 'f')
			v |= p[i] - 'a' + 10;
		else if (p[i] >= 'A' && p[i] <= 'F')
			v |= p[i] - 'A' + 10;
		else
			return -1;
	}
	return v;
}

#define PAY_REPLACEMENT	0xfffd	/* U+FFFD, for what is not a character */

/*
 * A JSON string at *pp (past its opening quote) into a new string, valid
 * UTF-8 always: escapes \" \\ \/ \b \f \n \r \t and \uXXXX (a
 * surrogate pair as its one character: "Wanjir\u0169" is Wanjirũ).  What
 * is not a character (a bad escape, a lone surrogate, a control byte, a
 * byte of no UTF-8 sequence: a Latin-1 letter) becomes U+FFFD and *bad is
 * set: the caller refuses only a field it needs (a TransID is checked
 * anyway), never one it could do without (names).  NULL only when the
 * string has no closing quote, or memory ran out.
 */
static char *
pay_json_string(const char **pp, const char *end, int *bad)
{
	const char	*p = *pp;
	char		*s, *o;
	long		 u, lo;
	size_t		 n;

	*bad = 0;
	/* at most 3 bytes out for each in (a byte: U+FFFD) */
	if ((s = malloc(3 * (end - p) + 1)) == NULL)
		return NULL;
	for (o = s; p < end && *p != '"'; ) {
		if ((unsigned char)*p < 0x20) {
			o += pay_utf8_put(o, PAY_REPLACEMENT);
			*bad = 1;
			p++;
			continue;
		}
		if (*p != '\\') {
			if ((n = pay_utf8_len((const unsigned char *)p,
			    (const unsigned char *)end)) == 0) {
				o += pay_utf8_put(o, PAY_REPLACEMENT);
				*bad = 1;
				p++;
				continue;
			}
			memcpy(o, p, n);
			o += n;
			p += n;
			continue;
		}
		if (++p == end)
			break;
		switch (*p++) {
		case '"': *o++ = '"'; break;
		case '\\': *o++ = '\\'; break;
		case '/': *o++ = '/'; break;
		case 'b': *o++ = '\b'; break;
		case 'f': *o++ = '\f'; break;
		case 'n': *o++ = '\n'; break;
		case 'r': *o++ = '\r'; break;
		case 't': *o++ = '\t'; break;
		case 'u':
			if ((u = pay_hex4(p, end)) != -1)
				p += 4;
			if (u >= 0xd800 && u <= 0xdbff && end - p >= 6 &&
			    p[0] == '\\' && p[1] == 'u' &&
			    (lo = pay_hex4(p + 2, end)) >= 0xdc00 &&
			    lo <= 0xdfff) {
				u = 0x10000 + ((u - 0xd800) << 10) +
				    (lo - 0xdc00);
				p += 6;
			} else if (u == -1 || u == 0 ||
			    (u >= 0xd800 && u <= 0xdfff)) {
				/* no hex, a lone surrogate; a NUL would cut
				   the string short */
				u = PAY_REPLACEMENT;
				*bad = 1;
			}
			o += pay_utf8_put(o, u);
			break;
		default:
			/* an escape JSON has not: the letter lost */
			o += pay_utf8_put(o, PAY_REPLACEMENT);
			*bad = 1;
			break;
		}
	}
	if (p >= end) {
		free(s);
		return NULL;
	}
	*o = '\0';
	*pp = p + 1;
	return s;
}

/*
 * A flat JSON object of strings, numbers, true, false and null (kept as
 * their text; null as no field) into j.  0, or -1 when it is not one,
 * has more than PAY_FIELDS fields, or a name twice.
 */
static int
pay_json_parse(const char *p, size_t len, struct pay_json *j)
{
	const char	*end = p + len, *v;
	char		*name, *value;
	int		 bad;

	j->n = 0;
	j->bad = 0;
	p = pay_json_ws(p, end);
	if (p == end || *p++ != '{')
		return -1;
	p = pay_json_ws(p, end);
	if (p < end && *p == '}')
		return pay_json_ws(p + 1, end) == end ? 0 : -1;
	for (;;) {
		p = pay_json_ws(p, end);
		if (p == end || *p++ != '"' ||
		    (name = pay_json_string(&p, end, &bad)) == NULL)
			goto bad;
		j->bad |= bad;
		p = pay_json_ws(p, end);
		if (p == end || *p++ != ':') {
			free(name);
			goto bad;
		}
		p = pay_json_ws(p, end);
		if (p < end && *p == '"') {
			p++;
			value = pay_json_string(&p, end, &bad);
			j->bad |= bad;
		} else {
			for (v = p; p < end && (isalnum((unsigned char)*p) ||
			    *p == '.' || *p == '-' || *p == '+'); p++)
				continue;
			value = p > v ? strndup(v, p - v) : NULL;
			if (value != NULL && !isdigit((unsigned char)*v) &&
			    *v != '-' && strcmp(value, "true") != 0 &&
			    strcmp(value, "false") != 0 &&
			    strcmp(value, "null") != 0) {
				free(value);
				value = NULL;
			}
		}
		if (value == NULL || j->n == PAY_FIELDS ||
		    pay_json_get(j, name) != NULL) {
			free(name);
			free(value);
			goto bad;
		}
		if (strcmp(value, "null") == 0) {
			free(name);
			free(value);
		} else {
			j->name[j->n] = name;
			j->value[j->n++] = value;
		}
		p = pay_json_ws(p, end);
		if (p < end && *p == ',') {
			p++;
			continue;
		}
		if (p < end && *p == '}' && pay_json_ws(p + 1, end) == end)
			return 0;
		goto bad;
	}
bad:
	pay_json_free(j);
	return -1;
}

/*
 * The body as the ledger keeps it (payments.raw): as it came, but each
 * byte of no UTF-8 sequence written as \xNN (PostgreSQL takes only
 * UTF-8 text; SQLite would take the byte, and the two must keep the
 * same).  A malloc'd string, or NULL when memory ran out.
 */
static char *
pay_raw(const char *body, size_t len)
{
	const unsigned char	*p = (const unsigned char *)body;
	const unsigned char	*end = p + len;
	char			*s, *o;
	size_t			 n;

	if ((s = malloc(4 * len + 1)) == NULL)
		return NULL;
	for (o = s; p < end; ) {
		if ((n = pay_utf8_len(p, end)) == 0) {
			o += sprintf(o, "\\x%02X", *p++);
			continue;
		}
		memcpy(o, p, n);
		o += n;
		p += n;
	}
	*o = '\0';
	return s;
}

/* TransAmount ("15000", "15000.5", "15000.00") in minor units; -1 when
   it is no positive amount. */
static long long
pay_amount(const char *s)
{
	long long	 v = 0;
	int		 digits = 0, frac = 0;

	if (s == NULL)
		return -1;
	for (; isdigit((unsigned char)*s); s++) {
		if (++digits > 13)
			return -1;
		v = v * 10 + (*s - '0');
	}
	if (digits == 0)
		return -1;
	v *= 100;
	if (*s == '.') {
		s++;
		if (!isdigit((unsigned char)*s))
			return -1;
		frac = (*s++ - '0') * 10;
		if (isdigit((unsigned char)*s))
			frac += *s++ - '0';
		/* 15000.000 is the same money; 15000.001 is not money */
		while (*s == '0')
			s++;
	}
	if (*s != '\0')
		return -1;
	v += frac;
	return v > 0 ? v : -1;
}

/* 1 if s is a TransID: 1 to PAY_TRANS_MAX letters and digits. */
static int
pay_trans_ok(const char *s)
{
	size_t	 n = 0;

	if (s == NULL)
		return 0;
	for (; *s != '\0'; s++, n++)
		if (!isalnum((unsigned char)*s))
			return 0;
	return n > 0 && n <= PAY_TRANS_MAX;
}

/*
 * 1 if s may be a TransID of the ledger (payouts done): a provider's, or
 * one marketbox wrote itself (RECEIVED-43-7, CASH-43-8: a seller's word;
 * refund-QBC1X...): 1 to PAY_LEDGER_MAX letters, digits and '-'.
 */
#define PAY_LEDGER_MAX	64
static int
pay_ledger_trans_ok(const char *s)
{
	size_t	 n = 0;

	if (s == NULL)
		return 0;
	for (; *s != '\0'; s++, n++)
		if (!isalnum((unsigned char)*s) && *s != '-')
			return 0;
	return n > 0 && n <= PAY_LEDGER_MAX;
}

/* FirstName MiddleName LastName, the empty ones left out. */
static void
pay_names(const struct pay_json *j, char *buf, size_t size)
{
	static const char *const parts[] = { "FirstName", "MiddleName",
	    "LastName" };
	const char	*v;
	size_t		 i, k, n = 0;

	buf[0] = '\0';
	for (i = 0; i < 3; i++) {
		if ((v = pay_json_get(j, parts[i])) == NULL || *v == '\0')
			continue;
		snprintf(buf + n, size - n, "%s%s", n ? " " : "", v);
		n = strlen(buf);
	}
	/* a name cut at size keeps no half of a character */
	for (i = 0; i < n; i += k)
		if ((k = pay_utf8_len((const unsigned char *)buf + i,
		    (const unsigned char *)buf + n)) == 0) {
			buf[i] = '\0';
			break;
		}
}

/* The provider's answer: {"ResultCode": 0|1, "ResultDesc": desc}. */
static struct evbuffer *
pay_answer(int code, const char *desc)
{
	struct evbuffer	*b;

	if ((b = evbuffer_new()) == NULL)
		return NULL;
	evbuffer_add_printf(b, "{\"ResultCode\": %d, \"ResultDesc\": ", code);
	http_json_string(b, desc);
	evbuffer_add(b, "}\n", 2);
	return b;
}

/* A refusal, logged once. */
static void
pay_refuse(struct evhttp_request *req, const char *peer, int status,
    const char *reason, const char *why)
{
	struct evbuffer	*b;
	char		 desc[200];

	warning(0, "payments: confirmation from %s refused: %s", peer, why);
	snprintf(desc, sizeof(desc), "Rejected: %s", why);
	if ((b = pay_answer(1, desc)) == NULL) {
		evhttp_send_error(req, 500, NULL);
		return;
	}
	admin_reply(req, status, reason, "application/json", b);
	evbuffer_free(b);
}

/* The secret the request carries: ?secret= or X-Marketbox-Secret. */
static int
pay_secret_ok(const struct conf *c, struct evhttp_request *req)
{
	const char		*want = c->payments.secret, *given;
	struct evkeyvalq	 q;
	const char		*query;
	int			 ok = 0;

	if (want == NULL)
		return 1;
	given = evhttp_find_header(evhttp_request_get_input_headers(req),
	    "X-Marketbox-Secret");
	if (given != NULL)
		return http_password_equal(given, strlen(given), want);
	query = evhttp_uri_get_query(evhttp_request_get_evhttp_uri(req));
	TAILQ_INIT(&q);
	if (query != NULL && evhttp_parse_query_str(query, &q) == 0 &&
	    (given = evhttp_find_header(&q, "secret")) != NULL)
		ok = http_password_equal(given, strlen(given), want);
	evhttp_clear_headers(&q);
	return ok;
}

/* pay_confirm's notices go out through the router (pay_notify_fn). */
static int
payments_notify(void *arg, const char *msisdn, const char *tmpl,
    const struct mb_arg *args, size_t nargs)
{
	return router_notify(arg, msisdn, tmpl, args, nargs);
}

/* Every table pay_confirm reads of the market plugin's. */
static int
pay_orders_exist(struct admin *a)
{
	static const char *const cols[] = { "ref", "total", "buyer", "seller",
	    "state", NULL };

	return admin_table_has(a, "market_orders", cols);
}

static void
pay_kick_cb(void *arg, int ok)
{
	if (ok)
		outbox_kick(arg);
}

/* One request's parts, freed by pay_request_free. */
struct pay_request {
	struct pay_json		 j;
	struct pay_callback	 cb;
	char			*body;
	char			*raw;		/* pay_raw(body) */
	char			 names[200];
};

static void
pay_request_free(struct pay_request *r)
{
	pay_json_free(&r->j);
	free(r->body);
	free(r->raw);
	r->body = r->raw = NULL;
}

/*
 * The checks of both paths, in order: payments on, the peer, the secret,
 * the body, its fields, the shortcode and currency.  0 with r filled; -1
 * when the request was refused (answered and logged).
 */
static int
pay_request(struct admin *a, struct evhttp_request *req, const char *peer,
    struct pay_request *r)
{
	const struct conf	*c = a->conf;
	struct evbuffer		*in = evhttp_request_get_input_buffer(req);
	struct pay_callback	*cb = &r->cb;
	size_t			 len;

	memset(r, 0, sizeof(*r));
	if (!c->payments.on) {
		pay_refuse(req, peer, 404, "Not Found", "payments are not "
		    "configured here (no group = payments)");
		return -1;
	}
	if (c->payments.allow_ip.count > 0 &&
	    !http_ip_matched(&c->payments.allow_ip, peer)) {
		pay_refuse(req, peer, 403, "Forbidden", "the address is not "
		    "in the allow-ip of group = payments");
		return -1;
	}
	if (!pay_secret_ok(c, req)) {
		pay_refuse(req, peer, 403, "Forbidden", "missing or wrong "
		    "shared-secret");
		return -1;
	}
	len = evbuffer_get_length(in);
	if (len == 0 || len > PAY_BODY_MAX ||
	    (r->body = malloc(len + 1)) == NULL) {
		pay_refuse(req, peer, 400, "Bad Request", len == 0 ?
		    "no body" : "the body is too long or memory ran out");
		return -1;
	}
	evbuffer_copyout(in, r->body, len);
	r->body[len] = '\0';
	if (strlen(r->body) != len ||
	    pay_json_parse(r->body, len, &r->j) == -1) {
		pay_refuse(req, peer, 400, "Bad Request", "the body is not a "
		    "JSON object of C2B fields");
		goto bad;
	}
	cb->trans_id = pay_json_get(&r->j, "TransID");
	cb->amount = pay_amount(pay_json_get(&r->j, "TransAmount"));
	cb->currency = pay_json_get(&r->j, "Currency");
	cb->bill_ref = pay_json_get(&r->j, "BillRefNumber");
	cb->msisdn = pay_json_get(&r->j, "MSISDN");
	cb->trans_time = pay_json_get(&r->j, "TransTime");
	cb->shortcode = pay_json_get(&r->j, "BusinessShortCode");
	if ((r->raw = pay_raw(r->body, len)) == NULL) {
		pay_refuse(req, peer, 500, "Internal Server Error", "memory "
		    "ran out");
		goto bad;
	}
	cb->raw = r->raw;
	if (r->j.bad)
		warning(0, "payments: a confirmation from %s has what is "
		    "not UTF-8 text or a bad escape in a field: taken, "
		    "with U+FFFD for it", peer);
	pay_names(&r->j, r->names, sizeof(r->names));
	cb->names = r->names[0] != '\0' ? r->names : NULL;
	if (!pay_trans_ok(cb->trans_id)) {
		pay_refuse(req, peer, 400, "Bad Request", "no TransID, or not "
		    "1 to 32 letters and digits");
		goto bad;
	}
	if (cb->amount <= 0) {
		pay_refuse(req, peer, 400, "Bad Request", "no TransAmount, or "
		    "not a positive amount with at most 2 decimals");
		goto bad;
	}
	if (cb->shortcode == NULL ||
	    strcmp(cb->shortcode, c->payments.business_number) != 0) {
		pay_refuse(req, peer, 400, "Bad Request", "BusinessShortCode "
		    "is not this marketbox's business-number");
		goto bad;
	}
	if (cb->currency != NULL && strcmp(cb->currency, c->currency) != 0) {
		pay_refuse(req, peer, 400, "Bad Request", "Currency is not "
		    "this marketbox's currency");
		goto bad;
	}
	return 0;
bad:
	pay_request_free(r);
	return -1;
}

void
admin_payment_confirm(struct admin *a, struct evhttp_request *req,
    const char *peer)
{
	const struct conf	*c = a->conf;
	struct store		*s = a->src.store;
	struct pay_request	 r;
	struct pay_callback	*cb = &r.cb;
	enum pay_outcome	 out = PAY_OUT_SUSPENSE;
	struct evbuffer		*b;
	int			 ok;

	if (pay_request(a, req, peer, &r) == -1)
		return;
	if (a->src.router == NULL) {
		pay_refuse(req, peer, 503, "Service Unavailable", "this "
		    "marketbox has no router to tell the parties");
		goto end;
	}

	if (store_work_begin(s) == -1)
		goto fail;
	ok = pay_confirm(s, payments_notify, a->src.router, c,
	    pay_orders_exist(a), cb,
	    &out) == 0;
	if (ok && out == PAY_OUT_DUPLICATE) {
		/* nothing of it is kept (another instance may have raised
		   the order's sum before finding the TransID taken); an
		   empty unit, so the answer waits on a commit as any */
		if (store_work_end(s, 0) == -1 || store_work_begin(s) == -1)
			goto fail;
	}
	if (store_work_end(s, ok) == -1 || !ok)
		goto fail;
	if (out == PAY_OUT_DUPLICATE)
		info(0, "payments: %s from %s seen before: no effect",
		    cb->trans_id, peer);
	else {
		info(0, "payments: %s from %s: %lld minor units, account %s",
		    cb->trans_id, peer, cb->amount, cb->bill_ref ?
		    cb->bill_ref : "(none)");
		if (store_on_commit(s, pay_kick_cb, a->src.outbox) == -1)
			warning(0, "payments: the sender wakes at its next "
			    "timer");
	}
	if ((b = pay_answer(0, "Accepted")) == NULL) {
		evhttp_send_error(req, 500, NULL);
		goto end;
	}
	admin_answer_after_commit(a, req, b);
	evbuffer_free(b);
	goto end;
fail:
	error(0, "payments: %s from %s could not be taken: the provider "
	    "is asked to retry", cb->trans_id, peer);
	if ((b = pay_answer(1, "Rejected: the database could not take it; "
	    "retry")) == NULL)
		evhttp_send_error(req, 500, NULL);
	else {
		admin_reply(req, 500, "Internal Server Error",
		    "application/json", b);
		evbuffer_free(b);
	}
end:
	pay_request_free(&r);
}

void
admin_payment_validate(struct admin *a, struct evhttp_request *req,
    const char *peer)
{
	struct pay_request	 r;
	struct evbuffer		*b;
	const char		*code = NULL;
	int			 rc;

	if (pay_request(a, req, peer, &r) == -1)
		return;
	rc = pay_validate(a->src.store, a->conf, pay_orders_exist(a), &r.cb,
	    &code);
	if (rc == -1) {
		error(0, "payments: validation of %s from %s: the database "
		    "could not be read", r.cb.trans_id, peer);
		b = pay_answer(1, "Rejected: the database could not be read");
		if (b != NULL)
			admin_reply(req, 500, "Internal Server Error",
			    "application/json", b);
	} else if (rc == 1) {
		b = pay_answer(0, "Accepted");
		if (b != NULL)
			admin_reply(req, 200, "OK", "application/json", b);
	} else {
		info(0, "payments: validation of %s from %s refused: %s",
		    r.cb.trans_id, peer, code);
		if ((b = evbuffer_new()) != NULL) {
			evbuffer_add_printf(b, "{\"ResultCode\": ");
			http_json_string(b, code);
			evbuffer_add_printf(b, ", \"ResultDesc\": \"Rejected\"}"
			    "\n");
			admin_reply(req, 200, "OK", "application/json", b);
		}
	}
	if (b != NULL)
		evbuffer_free(b);
	else
		evhttp_send_error(req, 500, NULL);
	pay_request_free(&r);
}

/* --- the operator's steps: POST /admin/payments/match, /admin/payouts/done */

/* 1 if s is an operator's reference: 1 to 32 letters, digits, - and _. */
static int
pay_opref_ok(const char *s)
{
	size_t	 n = 0;

	for (; *s != '\0'; s++, n++)
		if (!isalnum((unsigned char)*s) && *s != '-' && *s != '_')
			return 0;
	return n > 0 && n <= PAY_TRANS_MAX;
}

/* The refusal of a pay_admin_result of a match (payout 0) or a payout
   done (1), answered; 0 when it is none. */
static int
pay_admin_refuse(struct evhttp_request *req, enum pay_admin_result res,
    const char *trans, const struct pay_admin_done *d, int payout)
{
	char	 why[300];
	int	 code = 409;

	switch (res) {
	case PAY_ADMIN_DONE:
		return 0;
	case PAY_ADMIN_UNKNOWN:
		snprintf(why, sizeof(why), "no payment %s in the ledger "
		    "(marketctl payments lists them)", trans);
		code = 404;
		break;
	case PAY_ADMIN_MATCHED:
		snprintf(why, sizeof(why), "payment %s was matched before, "
		    "to order #%lld: nothing done", trans, d->order);
		break;
	case PAY_ADMIN_NOT_SUSPENSE:
		snprintf(why, sizeof(why), "%s is not a payment in suspense "
		    "(it has its order, or is a refund or payout; marketctl "
		    "payments --unmatched lists the suspense ones)", trans);
		break;
	case PAY_ADMIN_NO_ORDER:
		if (!payout)
			snprintf(why, sizeof(why), "there is no order #%lld "
			    "(marketctl orders --state all lists them)",
			    d->order);
		else
			snprintf(why, sizeof(why), "payment %s is in "
			    "suspense, with no order: match it first "
			    "(marketctl payments match %s ORDER), or send it "
			    "back to its payer and record that with "
			    "marketctl payouts done %s --ref REF", trans,
			    trans, trans);
		code = 404;
		break;
	case PAY_ADMIN_RETURNED:
		snprintf(why, sizeof(why), "payment %s was returned to its "
		    "payer before (marketctl payments lists the refund): "
		    "nothing done", trans);
		break;
	case PAY_ADMIN_REFUSED:
		snprintf(why, sizeof(why), "order #%lld's money is %s: it "
		    "takes no payment; refund %s to its payer outside "
		    "marketbox", d->order, pay_state_name(d->state), trans);
		break;
	case PAY_ADMIN_NOT_DUE:
		snprintf(why, sizeof(why), "order #%lld of payment %s owes no "
		    "refund, payout nor credit (its money is %s, of which the "
		    "operator holds nothing to send; marketctl payouts lists "
		    "what is due)", d->order, trans,
		    pay_state_name(d->state));
		break;
	case PAY_ADMIN_REF_TAKEN:
		snprintf(why, sizeof(why), "the reference %s is in the ledger "
		    "already: give the transfer's own reference with --ref",
		    d->ref);
		break;
	}
	admin_reply_error(req, code, code == 404 ? "Not Found" : "Conflict",
	    why);
	return -1;
}

/* The checks of both steps: payments on, a router, the orders. */
static int
pay_admin_ready(struct admin *a, struct evhttp_request *req)
{
	if (!a->conf->payments.on) {
		admin_reply_error(req, 404, "Not Found", "payments are not "
		    "configured here (no group = payments)");
		return -1;
	}
	if (a->src.router == NULL) {
		admin_reply_error(req, 503, "Service Unavailable", "this "
		    "marketbox has no router to tell the parties");
		return -1;
	}
	return 0;
}

/* Answer a step done: {"trans", "order", "amount", "state", ...}. */
static void
pay_admin_answer(struct admin *a, struct evhttp_request *req,
    const char *trans, const struct pay_admin_done *d, int payout)
{
	struct evbuffer	*b;
	char		 money[32];

	if (store_on_commit(a->src.store, pay_kick_cb, a->src.outbox) == -1)
		warning(0, "admin: the sender wakes at its next timer");
	if ((b = evbuffer_new()) == NULL) {
		evhttp_send_error(req, 500, NULL);
		return;
	}
	admin_money(money, sizeof(money), d->amount);
	evbuffer_add_printf(b, "{\"trans\": ");
	http_json_string(b, trans);
	evbuffer_add_printf(b, ", \"order\": %lld, \"amount\": ", d->order);
	http_json_string(b, money);
	evbuffer_add_printf(b, ", \"currency\": ");
	http_json_string(b, a->conf->currency);
	evbuffer_add_printf(b, ", \"state\": ");
	http_json_string(b, pay_state_name(d->state));
	if (payout) {
		evbuffer_add_printf(b, ", \"kind\": ");
		http_json_string(b, d->kind);
		evbuffer_add_printf(b, ", \"to\": ");
		http_json_string(b, d->to);
		evbuffer_add_printf(b, ", \"ref\": ");
		http_json_string(b, d->ref);
	}
	evbuffer_add_printf(b, "}\n");
	admin_answer_after_commit(a, req, b);
	evbuffer_free(b);
}

/*
 * The operator's step on trans, in its own unit of work: done 0, the
 * match of a suspense payment to order (pay_match); done 1, its refund or
 * payout recorded under opref (pay_payout_done).  Answered after the
 * commit; a refusal rolls the unit back and says why.
 */
static void
pay_admin_step(struct admin *a, struct evhttp_request *req,
    const char *peer, const char *trans, long long order, const char *opref,
    int done)
{
	struct store		*s = a->src.store;
	struct pay_admin_done	 d;
	enum pay_admin_result	 res = PAY_ADMIN_DONE;
	const char		*failed = done ? "the database could not "
				    "record it" : "the database could not "
				    "match the payment";
	char			 who[80];
	int			 ok;

	if (pay_admin_ready(a, req) == -1)
		return;
	snprintf(who, sizeof(who), "operator at %s", peer);
	if (store_work_begin(s) == -1) {
		admin_reply_error(req, 500, "Internal Server Error",
		    "the database is not available");
		return;
	}
	if (done)
		ok = pay_payout_done(s, payments_notify, a->src.router,
		    a->conf, pay_orders_exist(a), trans, opref, who, &res,
		    &d) == 0;
	else
		ok = pay_match(s, payments_notify, a->src.router, a->conf,
		    pay_orders_exist(a), trans, order, who, &res, &d) == 0;
	if (!ok || res != PAY_ADMIN_DONE) {
		if (store_work_end(s, 0) == -1 || !ok) {
			error(0, "admin: %s %s could not be %s", done ?
			    "the payout of" : "payment", trans, done ?
			    "recorded" : "matched");
			admin_reply_error(req, 500, "Internal Server Error",
			    failed);
			return;
		}
		if (done)
			info(0, "admin: payouts done %s by %s refused", trans,
			    peer);
		else
			info(0, "admin: match of %s to order %lld by %s "
			    "refused", trans, order, peer);
		pay_admin_refuse(req, res, trans, &d, done);
		return;
	}
	if (store_work_end(s, 1) == -1) {
		admin_reply_error(req, 500, "Internal Server Error", failed);
		return;
	}
	pay_admin_answer(a, req, trans, &d, done);
}

/* POST /admin/payments/match: trans=, order=. */
void
admin_payment_match(struct admin *a, struct evhttp_request *req,
    struct evkeyvalq *q, const char *peer)
{
	const char		*trans = admin_param(q, "trans");
	const char		*order_s = admin_param(q, "order");
	char			*end;
	long long		 order = -1;

	if (order_s != NULL && *order_s >= '0' && *order_s <= '9')
		order = strtoll(order_s, &end, 10);
	if (!pay_trans_ok(trans)) {
		admin_reply_error(req, 400, "Bad Request", "trans must be a "
		    "payment's TransID (marketctl payments --unmatched)");
		return;
	}
	if (order <= 0 || *end != '\0') {
		admin_reply_error(req, 400, "Bad Request", "order must be an "
		    "order's number");
		return;
	}
	pay_admin_step(a, req, peer, trans, order, NULL, 0);
}

/* POST /admin/payouts/done: trans=, ref= (optional). */
void
admin_payout_done(struct admin *a, struct evhttp_request *req,
    struct evkeyvalq *q, const char *peer)
{
	const char		*trans = admin_param(q, "trans");
	const char		*opref = admin_param(q, "ref");

	if (!pay_ledger_trans_ok(trans)) {
		admin_reply_error(req, 400, "Bad Request", "trans must be a "
		    "payment's TransID (marketctl payouts lists them)");
		return;
	}
	if (opref != NULL && opref[0] == '\0')
		opref = NULL;
	if (opref != NULL && !pay_opref_ok(opref)) {
		admin_reply_error(req, 400, "Bad Request", "ref must be 1 to "
		    "32 letters, digits, - and _: the transfer's reference");
		return;
	}
	pay_admin_step(a, req, peer, trans, -1, opref, 1);
}

/* --- /status, /status.json, /metrics: money received and due ------------ */

/* One count and sum of sql into *m.  0, or -1. */
static int
admin_money_one(struct admin *a, const char *sql, struct admin_money *m)
{
	struct store_stmt	*st;
	int			 rc;

	m->n = m->sum = 0;
	if ((st = store_query(a->src.store, sql)) == NULL)
		return -1;
	if ((rc = store_step(st)) == STORE_ROW) {
		m->n = store_int(st, 0);
		m->sum = store_int(st, 1);
	}
	store_done(st);
	return rc == STORE_ERROR ? -1 : 0;
}

int
admin_money_read(struct admin *a, struct admin_snapshot *s)
{
	static const char *const pay_cols[] = { "kind", "order_ref",
	    "amount", "trans_id", "said_by", NULL };
	static const char *const op_cols[] = { "state", "due", "paid",
	    NULL };
	/* the provider's payments only: what a seller says she took
	   (RECEIVED, cash) is hers, not money received here */
	static const char received[] =
	    "SELECT COUNT(*), CAST(COALESCE(SUM(amount), 0) AS BIGINT) "
	    "FROM payments WHERE kind = 'payment' AND said_by IS NULL";
	static const char suspense[] =
	    "SELECT COUNT(*), CAST(COALESCE(SUM(p.amount), 0) AS BIGINT) "
	    "FROM payments p WHERE p.kind = 'payment' AND p.order_ref IS "
	    "NULL AND NOT EXISTS (SELECT 1 FROM payment_matches m WHERE "
	    "m.trans_id = p.trans_id)";
	/* what is still owed (pay.h's PAY_SQL_OWED), as marketctl
	   payouts lists it: orders owed nothing are not counted */
	static const char refunds[] =
	    "SELECT COUNT(*), CAST(COALESCE(SUM(w.owed), 0) AS BIGINT) "
	    "FROM (SELECT " PAY_SQL_OWED("h.state") " AS owed FROM "
	    PAY_SQL_HELD " h WHERE h.state = 'refund-due') w "
	    "WHERE w.owed > 0";
	static const char payouts[] =
	    "SELECT COUNT(*), CAST(COALESCE(SUM(w.owed), 0) AS BIGINT) "
	    "FROM (SELECT " PAY_SQL_OWED("h.state") " AS owed FROM "
	    PAY_SQL_HELD " h WHERE h.state = 'payout-due') w "
	    "WHERE w.owed > 0";
	int	 bad = 0;

	s->has_money = 0;
	if (!a->conf->payments.on ||
	    !admin_table_has(a, "payments", pay_cols) ||
	    !admin_table_has(a, "order_payments", op_cols))
		return 0;
	s->has_money = 1;
	bad |= admin_money_one(a, received, &s->received);
	bad |= admin_money_one(a, suspense, &s->suspense);
	bad |= admin_money_one(a, refunds, &s->refunds_due);
	bad |= admin_money_one(a, payouts, &s->payouts_due);
	return bad ? -1 : 0;
}

/* A row of the money table: what, how many, how much. */
static void
admin_money_row(struct evbuffer *b, const char *label, const char *key,
    const struct admin_money *m, const char *currency)
{
	char	 money[32];

	admin_money(money, sizeof(money), m->sum);
	evbuffer_add_printf(b, "<tr><th>%s</th><td class=\"n\" data-k=\""
	    "money.%s.count\">%lld</td><td class=\"n\" data-k=\"money.%s."
	    "amount\">%s</td><td>", label, key, m->n, key, money);
	admin_escape_html(b, currency);
	evbuffer_add_printf(b, "</td></tr>\n");
}

/*
 * /status: money received (all payments; of them the suspense list)
 * and due (refunds to buyers, payouts to sellers), counts and sums,
 * tagged data-k=money.KEY.count and money.KEY.amount.
 */
void
admin_money_html(struct evbuffer *b, const struct admin_snapshot *s,
    const char *currency)
{
	if (!s->has_money)
		return;
	evbuffer_add_printf(b, "<h2>Money</h2>\n<table><tr><th></th>"
	    "<th>count</th><th>amount</th><th></th></tr>\n");
	admin_money_row(b, "received", "received", &s->received, currency);
	admin_money_row(b, "in suspense", "suspense", &s->suspense, currency);
	admin_money_row(b, "refunds due", "refunds_due", &s->refunds_due,
	    currency);
	admin_money_row(b, "payouts due", "payouts_due", &s->payouts_due,
	    currency);
	evbuffer_add_printf(b, "</table>\n");
	if (s->suspense.n > 0 || s->refunds_due.n > 0 || s->payouts_due.n > 0)
		evbuffer_add_printf(b, "<p>Match the suspense ones with "
		    "marketctl payments match TRANSID ORDER; send what is due "
		    "(marketctl payouts), then record it with marketctl payouts "
		    "done TRANSID.</p>\n");
}

/* /status.json: ,"money": {"received": {"count", "amount"}, ...} or
   null; amounts in minor units. */
void
admin_money_json(struct evbuffer *b, const struct admin_snapshot *s)
{
	if (!s->has_money) {
		evbuffer_add_printf(b, ",\n  \"money\": null");
		return;
	}
	evbuffer_add_printf(b, ",\n  \"money\": {\"received\": {\"count\": "
	    "%lld, \"amount\": %lld}, \"suspense\": {\"count\": %lld, "
	    "\"amount\": %lld}, \"refunds_due\": {\"count\": %lld, "
	    "\"amount\": %lld}, \"payouts_due\": {\"count\": %lld, "
	    "\"amount\": %lld}}", s->received.n, s->received.sum,
	    s->suspense.n, s->suspense.sum, s->refunds_due.n,
	    s->refunds_due.sum, s->payouts_due.n, s->payouts_due.sum);
}
