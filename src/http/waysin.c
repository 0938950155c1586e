/*
 * waysin.c - the ways in on the HTTP port: the handlers of /sms, /ussd
 * and /health, registered in the server's table by
 * http_waysin_register().
 *
 *	GET|POST /sms	an MO as Kannel smsbox's sms-service get-url (or an
 *			aggregator) hands it over: from, to, text, and
 *			optionally id, smsc, coding, in the query or in an
 *			application/x-www-form-urlencoded body.  The MO goes
 *			through inbox_receive() like any other; the answer is
 *			sent only after the commit, with the inline reply as
 *			a text/plain body.
 *	GET|POST /ussd	the aggregators' USSD callback (sessionId,
 *			serviceCode, phoneNumber, networkCode, text), answered
 *			"CON ..." or "END ..." by ussd.c after the commit.
 *	GET /health	"ok", for operators' liveness checks.
 *
 * /sms and /ussd are ways in for the network only (HTTP_ACCESS_NETWORK):
 * the server refuses, before these handlers run, a peer not allowed
 * (http-allow-ip), a request a browser made for another site or for a
 * foreign Host, a body that is not a form, and a request without the
 * way's secret (sms-secret, ussd-secret) when one is set.  What is left
 * here is the form: its fields, checked, made into an MO for the inbox,
 * and the inbox's answer after the commit.  /health is judged by the
 * peer alone (HTTP_ACCESS_PEER).
 */
#include "config.h"

#include <sys/types.h>
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "base/gw.h"

/* After libgw: its gwlib/http.h has an enum that event2/http.h's macros
 * (HTTP_OK ...) would otherwise break. */
#include <event2/http.h>

#include "base/conf.h"
#include "base/urlcode.h"
#include "http/http.h"
#include "queue/inbox.h"
#include "queue/mo.h"
#include "text/gsm.h"

#define HTTP_MAX_TEXT		1600		/* bytes of a decoded MO text */
#define HTTP_MAX_ID		128		/* bytes of a client's id */
#define HTTP_MAX_ADDRESS	32		/* bytes of to */
#define HTTP_MAX_SMSC		64		/* bytes of smsc */
#define HTTP_FROM_MIN		3		/* digits of from */
#define HTTP_FROM_MAX		20
#define HTTP_RETRY_AFTER	"5"		/* seconds, when the store
						   cannot take an MO */

/* --- forms ------------------------------------------------------------------ */

/* The fields of an MO request, decoded.  NULL: not given.  (Its secret
 * the server checked.) */
enum http_field {
	HTTP_FIELD_FROM,
	HTTP_FIELD_TO,
	HTTP_FIELD_TEXT,
	HTTP_FIELD_ID,
	HTTP_FIELD_SMSC,
	HTTP_FIELD_CODING,
	HTTP_NFIELDS
};

static const char *const http_field_names[HTTP_NFIELDS] = {
	"from", "to", "text", "id", "smsc", "coding"
};

struct http_form {
	char	*value[HTTP_NFIELDS];
	size_t	 len[HTTP_NFIELDS];	/* decoded bytes (may hold NULs) */
};

/*
 * Decode n bytes of application/x-www-form-urlencoded text: '+' is a
 * space, %XX a byte; a '%' not followed by two hex digits is kept as it
 * is.  Returns a malloc'd NUL-terminated string with its length (which
 * counts decoded NULs) in *outlen, or NULL if memory runs out.
 */
static char *
http_form_decode(const char *s, size_t n, size_t *outlen)
{
	char	*out;
	long	 len;

	if ((out = malloc(n + 1)) == NULL)
		return NULL;
	/* Decoding never lengthens: n + 1 bytes always hold it and its NUL. */
	len = urlcode_decode(s, n, out, n + 1);
	*outlen = len < 0 ? 0 : (size_t)len;
	return out;
}

static void
http_form_clear(struct http_form *f)
{
	int	 i;

	for (i = 0; i < HTTP_NFIELDS; i++) {
		free(f->value[i]);
		f->value[i] = NULL;
		f->len[i] = 0;
	}
}

/* See http.h. */
int
http_fields_parse(const char *const *names, int nnames, char **value,
    size_t *len, const char *s, size_t n)
{
	const char	*p = s, *end = s + n, *amp, *eq;
	char		*key;
	size_t		 klen;
	int		 i;

	while (p < end) {
		if ((amp = memchr(p, '&', (size_t)(end - p))) == NULL)
			amp = end;
		if ((eq = memchr(p, '=', (size_t)(amp - p))) == NULL)
			eq = amp;
		if (eq > p) {
			if ((key = http_form_decode(p, (size_t)(eq - p),
			    &klen)) == NULL)
				return -1;
			for (i = 0; i < nnames; i++)
				if (strcmp(key, names[i]) == 0)
					break;
			free(key);
			if (i < nnames && value[i] == NULL &&
			    (value[i] = eq < amp ? http_form_decode(eq + 1,
			    (size_t)(amp - eq - 1), &len[i]) :
			    http_form_decode("", 0, &len[i])) == NULL)
				return -1;
		}
		p = amp < end ? amp + 1 : end;
	}
	return 0;
}

/* http_fields_parse for the fields of /sms. */
static int
http_form_parse(struct http_form *f, const char *s, size_t n)
{
	return http_fields_parse(http_field_names, HTTP_NFIELDS, f->value,
	    f->len, s, n);
}

/* 1 if the n bytes of s are printable ASCII (no blanks, no controls). */
static int
http_token_ok(const char *s, size_t n, size_t max)
{
	size_t	 i;

	if (n == 0 || n > max)
		return 0;
	for (i = 0; i < n; i++)
		if (s[i] <= ' ' || s[i] > '~')
			return 0;
	return 1;
}

/*
 * 1 if from is a phone number: an optional '+' and 3 to 20 digits.  A
 * leading space is taken as the '+' a client forgot to encode (a raw '+'
 * in a query decodes as a space); it is rewritten in place.
 */
static int
http_from_ok(char *from, size_t len)
{
	size_t	 i = 0;

	if (len > 0 && from[0] == ' ')
		from[0] = '+';
	if (len > 0 && from[0] == '+')
		i = 1;
	if (len - i < HTTP_FROM_MIN || len - i > HTTP_FROM_MAX)
		return 0;
	for (; i < len; i++)
		if (!isdigit((unsigned char)from[i]))
			return 0;
	return 1;
}

/* --- /sms: an MO ----------------------------------------------------------- */

/*
 * The inbox's answer, after the commit: the HTTP answer goes out now.  A
 * call detached by http_free() has had its answer already (answering it
 * only frees it).
 */
static void
http_sms_done_cb(void *arg, enum inbox_status status, const char *reply)
{
	struct http_call	*call = arg;

	switch (status) {
	case INBOX_STORED:
	case INBOX_DUPLICATE:
		http_call_text(call, 200, "OK", reply != NULL ? reply : "");
		break;
	case INBOX_FAILED:
	default:
		/* Nothing of it was kept: the client sends it again. */
		http_call_header(call, "Retry-After", HTTP_RETRY_AFTER);
		http_call_text(call, 503, "Service Unavailable", "try again");
		break;
	}
}

/*
 * Check the fields of an MO request.  Returns NULL if they make an MO
 * (with from possibly rewritten), or the reason to answer 400 with.
 */
static const char *
http_sms_check(struct http_form *f, int *coding)
{
	if (f->value[HTTP_FIELD_FROM] == NULL ||
	    f->len[HTTP_FIELD_FROM] == 0)
		return "missing from";
	if (f->value[HTTP_FIELD_TEXT] == NULL)
		return "missing text";
	if (!http_from_ok(f->value[HTTP_FIELD_FROM], f->len[HTTP_FIELD_FROM]))
		return "bad from: a phone number, an optional + and 3 to 20 "
		    "digits";
	if (f->len[HTTP_FIELD_TEXT] > HTTP_MAX_TEXT)
		return "text too long: at most 1600 bytes";
	if (f->value[HTTP_FIELD_TO] != NULL &&
	    !http_token_ok(f->value[HTTP_FIELD_TO], f->len[HTTP_FIELD_TO],
	    HTTP_MAX_ADDRESS))
		return "bad to: 1 to 32 printable characters";
	if (f->value[HTTP_FIELD_ID] != NULL &&
	    !http_token_ok(f->value[HTTP_FIELD_ID], f->len[HTTP_FIELD_ID],
	    HTTP_MAX_ID))
		return "bad id: 1 to 128 printable characters";
	if (f->value[HTTP_FIELD_SMSC] != NULL &&
	    f->len[HTTP_FIELD_SMSC] > 0 &&
	    !http_token_ok(f->value[HTTP_FIELD_SMSC], f->len[HTTP_FIELD_SMSC],
	    HTTP_MAX_SMSC))
		return "bad smsc: at most 64 printable characters";
	*coding = 0;
	if (f->value[HTTP_FIELD_CODING] != NULL &&
	    f->len[HTTP_FIELD_CODING] > 0) {
		if (f->len[HTTP_FIELD_CODING] != 1 ||
		    f->value[HTTP_FIELD_CODING][0] < '0' ||
		    f->value[HTTP_FIELD_CODING][0] > '2')
			return "bad coding: 0, 1 or 2";
		*coding = f->value[HTTP_FIELD_CODING][0] - '0';
	}
	return NULL;
}

/*
 * GET or POST /sms: an MO.  Answered now (400, 500) or after the commit
 * (http_sms_done_cb).
 */
static void
http_sms_cb(struct http_call *call, void *arg)
{
	struct inbox		*inbox = arg;
	struct http_form	 f;
	struct mo		 mo;
	const char		*query = http_call_query(call), *body, *why;
	const char		*peer = http_call_peer(call);
	char			*text = NULL, *id = NULL;
	char			 uuid[UUID_STR_LEN + 1];
	uuid_t			 uu;
	size_t			 blen, tlen, replaced = 0;
	int			 coding;

	memset(&f, 0, sizeof(f));
	if ((body = http_call_body(call, &blen)) != NULL &&
	    http_form_parse(&f, body, blen) == -1)
		goto oom;
	/* The query fills what a form body did not give. */
	if (query != NULL && http_form_parse(&f, query, strlen(query)) == -1)
		goto oom;

	if ((why = http_sms_check(&f, &coding)) != NULL) {
		debug("mb.http", 0, "http: /sms from %s: 400 %s", peer, why);
		http_call_text(call, 400, "Bad Request", why);
		goto out;
	}
	if ((text = gsm_to_utf8((const unsigned char *)f.value[HTTP_FIELD_TEXT],
	    f.len[HTTP_FIELD_TEXT], 0, &tlen, &replaced)) == NULL)
		goto oom;
	if (replaced > 0)
		debug("mb.http", 0, "http: MO from %s: %zu invalid byte(s) in "
		    "the text replaced", f.value[HTTP_FIELD_FROM], replaced);
	if (f.value[HTTP_FIELD_ID] != NULL) {
		/*
		 * The client's id is unique per phone, not across phones:
		 * another phone's message with the same id is no duplicate
		 * (and must not get this one's stored reply).
		 */
		if (asprintf(&id, "http:%s:%s", f.value[HTTP_FIELD_FROM],
		    f.value[HTTP_FIELD_ID]) == -1) {
			id = NULL;
			goto oom;
		}
	} else {
		uuid_generate(uu);
		uuid_unparse(uu, uuid);
		if (asprintf(&id, "http:%s", uuid) == -1) {
			id = NULL;
			goto oom;
		}
	}

	memset(&mo, 0, sizeof(mo));
	mo.id = id;
	mo.channel = "http";
	mo.sender = f.value[HTTP_FIELD_FROM];
	mo.receiver = f.value[HTTP_FIELD_TO] != NULL ?
	    f.value[HTTP_FIELD_TO] : http_call_conf(call)->global_sender;
	mo.text = text;
	mo.coding = coding;
	mo.smsc_id = f.value[HTTP_FIELD_SMSC] != NULL &&
	    f.len[HTTP_FIELD_SMSC] > 0 ? f.value[HTTP_FIELD_SMSC] : NULL;
	mo.meta_data = NULL;
	mo.time = (long long)time(NULL);
	mo.reply_inline = 1;

	/* The inbox may call back, and end the call, before it returns. */
	debug("mb.http", 0, "http: MO %s from %s to %s via %s", id, mo.sender,
	    mo.receiver, peer);
	if (inbox_receive(inbox, &mo, http_sms_done_cb, call) == -1)
		http_call_text(call, 400, "Bad Request", "message refused");
	goto out;
oom:
	error(0, "http: out of memory taking an MO from %s", peer);
	http_call_text(call, 500, "Internal Server Error", "out of memory");
out:
	http_form_clear(&f);
	free(text);
	free(id);
}

/* --- /ussd: the aggregators' USSD callback ---------------------------------- */

#define HTTP_USSD_FIELDS	5

/* The callback's form fields, in the order of http_ussd_names. */
enum { HTTP_USSD_SESSION, HTTP_USSD_SERVICE, HTTP_USSD_PHONE,
	HTTP_USSD_NETWORK, HTTP_USSD_TEXT };
static const char *const http_ussd_names[HTTP_USSD_FIELDS] = {
	"sessionId", "serviceCode", "phoneNumber", "networkCode", "text"
};

/* The engine's answer, after the commit: "CON ..." or "END ...". */
static void
http_ussd_done_cb(void *arg, enum inbox_status status, const char *reply)
{
	struct http_call	*call = arg;

	if (status == INBOX_FAILED) {
		http_call_header(call, "Retry-After", HTTP_RETRY_AFTER);
		http_call_text(call, 503, "Service Unavailable",
		    "END try again");
	} else
		http_call_text(call, 200, "OK", reply != NULL ? reply :
		    "END Sorry, that could not be done just now.");
}

/* /ussd without USSD menus (its secret judged first, as with menus). */
static void
http_ussd_none_cb(struct http_call *call, void *arg)
{
	(void)arg;
	http_call_text(call, 404, "Not Found", "no USSD menus");
}

/*
 * POST (or GET) /ussd: sessionId, serviceCode, phoneNumber, networkCode
 * and text (the inputs so far joined by '*').  The MO goes through the
 * inbox like any other, with channel "ussd", id
 * "ussd:<phoneNumber>:<sessionId>:<text>"
 * (a retried request is a duplicate and gets the same screen) and the
 * session in its meta_data; ussd.c answers it.
 */
static void
http_ussd_cb(struct http_call *call, void *arg)
{
	struct inbox		*inbox = arg;
	struct mo		 mo;
	char			*value[HTTP_USSD_FIELDS] = { NULL };
	size_t			 len[HTTP_USSD_FIELDS] = { 0 };
	char			*text = NULL, *id = NULL;
	char			*meta = NULL, *enc[3] = { NULL };
	const char		*query = http_call_query(call), *body;
	const char		*peer = http_call_peer(call), *why = NULL;
	size_t			 blen, tlen, replaced = 0;
	int			 i;

	if ((body = http_call_body(call, &blen)) != NULL &&
	    http_fields_parse(http_ussd_names, HTTP_USSD_FIELDS, value, len,
	    body, blen) == -1)
		goto oom;
	if (query != NULL &&
	    http_fields_parse(http_ussd_names,
	    HTTP_USSD_FIELDS, value, len, query, strlen(query)) == -1)
		goto oom;

	if (value[HTTP_USSD_SESSION] == NULL ||
	    !http_token_ok(value[HTTP_USSD_SESSION], len[HTTP_USSD_SESSION],
	    HTTP_MAX_ID))
		why = "bad sessionId: 1 to 128 printable characters";
	else if (value[HTTP_USSD_PHONE] == NULL ||
	    !http_from_ok(value[HTTP_USSD_PHONE], len[HTTP_USSD_PHONE]))
		why = "bad phoneNumber: an optional + and 3 to 20 digits";
	else if (value[HTTP_USSD_SERVICE] != NULL &&
	    len[HTTP_USSD_SERVICE] > 0 && !http_token_ok(
	    value[HTTP_USSD_SERVICE], len[HTTP_USSD_SERVICE], HTTP_MAX_ADDRESS))
		why = "bad serviceCode: at most 32 printable characters";
	else if (value[HTTP_USSD_NETWORK] != NULL &&
	    len[HTTP_USSD_NETWORK] > 0 && !http_token_ok(
	    value[HTTP_USSD_NETWORK], len[HTTP_USSD_NETWORK], HTTP_MAX_ADDRESS))
		why = "bad networkCode: at most 32 printable characters";
	else if (value[HTTP_USSD_TEXT] != NULL &&
	    len[HTTP_USSD_TEXT] > HTTP_MAX_TEXT)
		why = "text too long: at most 1600 bytes";
	if (why != NULL) {
		debug("mb.http", 0, "http: /ussd from %s: 400 %s", peer, why);
		http_call_text(call, 400, "Bad Request", why);
		goto out;
	}
	if ((text = gsm_to_utf8((const unsigned char *)(value[HTTP_USSD_TEXT] ?
	    value[HTTP_USSD_TEXT] : ""), len[HTTP_USSD_TEXT], 0, &tlen,
	    &replaced)) == NULL)
		goto oom;
	for (i = 0; i < 3; i++) {
		const char	*v = value[i == 0 ? HTTP_USSD_SESSION : i == 1 ?
				    HTTP_USSD_SERVICE : HTTP_USSD_NETWORK];

		if ((enc[i] = evhttp_uriencode(v ? v : "", -1, 0)) == NULL)
			goto oom;
	}
	/* Per phone, as the session is (ussd.c): see http_sms_cb. */
	if (asprintf(&id, "ussd:%s:%s:%s", value[HTTP_USSD_PHONE],
	    value[HTTP_USSD_SESSION], text) == -1 ||
	    asprintf(&meta, "?http?sessionId=%s&serviceCode=%s&networkCode=%s&",
	    enc[0], enc[1], enc[2]) == -1) {
		id = meta = NULL;
		goto oom;
	}

	memset(&mo, 0, sizeof(mo));
	mo.id = id;
	mo.channel = "ussd";
	mo.sender = value[HTTP_USSD_PHONE];
	mo.receiver = value[HTTP_USSD_SERVICE] != NULL &&
	    len[HTTP_USSD_SERVICE] > 0 ? value[HTTP_USSD_SERVICE] :
	    http_call_conf(call)->global_sender;
	mo.text = text;
	mo.coding = 0;
	mo.meta_data = meta;
	mo.time = (long long)time(NULL);
	mo.reply_inline = 1;

	debug("mb.http", 0, "http: USSD %s from %s via %s", id, mo.sender,
	    peer);
	if (inbox_receive(inbox, &mo, http_ussd_done_cb, call) == -1)
		http_call_text(call, 400, "Bad Request", "message refused");
	goto out;
oom:
	error(0, "http: out of memory taking a USSD request from %s", peer);
	http_call_text(call, 500, "Internal Server Error", "out of memory");
out:
	for (i = 0; i < HTTP_USSD_FIELDS; i++)
		free(value[i]);
	for (i = 0; i < 3; i++)
		free(enc[i]);
	free(text);
	free(id);
	free(meta);
}

/* GET /health: the server is up. */
static void
http_health_cb(struct http_call *call, void *arg)
{
	(void)arg;
	http_call_text(call, 200, "OK", "ok");
}

/* --- the entries ------------------------------------------------------------ */

static const char *
http_sms_secret(const struct conf *conf)
{
	return conf->sms_secret;
}

static const char *
http_ussd_secret(const struct conf *conf)
{
	return conf->ussd_secret;
}

static const struct http_handler http_sms_handler = {
	.path = "/sms",
	.methods = HTTP_GET | HTTP_POST,
	.access = HTTP_ACCESS_NETWORK,
	.secret = http_sms_secret,
	.secret_name = "sms-secret",
	.secret_refusal = "forbidden: this way in needs its secret "
	    "(sms-secret)",
	.unset_warning = "http: /sms takes MOs from every http-allow-ip host "
	    "without a secret: set sms-secret",
	.form = 1,
	.store_task = 1,
	.fn = http_sms_cb
};

static const struct http_handler http_ussd_handler = {
	.path = "/ussd",
	.methods = HTTP_GET | HTTP_POST,
	.access = HTTP_ACCESS_NETWORK,
	.secret = http_ussd_secret,
	.secret_name = "ussd-secret",
	.secret_refusal = "END forbidden: this way in needs its secret "
	    "(ussd-secret)",
	.unset_warning = "http: /ussd takes sessions from every http-allow-ip "
	    "host without a secret: set ussd-secret",
	.form = 1,
	.store_task = 1,
	.fn = http_ussd_cb
};

static const struct http_handler http_health_handler = {
	.path = "/health",
	.methods = HTTP_GET | HTTP_POST,
	.access = HTTP_ACCESS_PEER,
	.fn = http_health_cb
};

int
http_waysin_register(struct http *h, struct inbox *inbox, struct ussd *ussd)
{
	struct http_handler	 ussd_handler = http_ussd_handler;

	if (ussd == NULL) {
		/* Nothing to warn about: no session is taken. */
		ussd_handler.unset_warning = NULL;
		ussd_handler.fn = http_ussd_none_cb;
	}
	if (http_handle(h, &http_sms_handler, inbox) == -1 ||
	    http_handle(h, &ussd_handler, inbox) == -1 ||
	    http_handle(h, &http_health_handler, NULL) == -1)
		return -1;
	return 0;
}
