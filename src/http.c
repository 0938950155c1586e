/*
 * http.c - marketbox's HTTP server and its sendsms client link.
 *
 * The server (libevent's evhttp) answers:
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
 * Only loopback peers and those matched by http-allow-ip are served.
 * Requests are bounded (headers, body, a read/write timeout) by evhttp.
 *
 * Lifetime of a request waiting for its commit: libevent 2.1 keeps an
 * incoming request until it is answered.  While it waits, evhttp has
 * reading disabled on its connection, so a client that goes away is only
 * noticed when the answer is written, after evhttp_send_reply(); and if
 * libevent does notice a close first (EOF or timeout while the request is
 * not answered), it unlinks the request from the connection instead of
 * freeing it, and evhttp_send_reply() then frees it.  Either way the
 * request pointer is valid until we answer it exactly once.  The one place
 * it is freed behind our back is evhttp_free(), so http_free() first
 * answers every waiting request and detaches its context; the inbox's done
 * callback later finds the context detached and only frees it.
 *
 * The sendsms link is an outbox link that hands each MT to smsbox's
 * sendsms interface (GET sendsms-url&from=&to=&text=...) over one kept
 * keep-alive connection, at most HTTP_SENDSMS_INFLIGHT requests at a time.
 * smsbox's answer is turned into an outbox ack: 2xx accepted ("3: Queued
 * for later delivery" buffered), 4xx failed, anything else (5xx, no
 * connection, a timeout) failed for now and retried.  Acks are passed to
 * the outbox from a zero-timeout event, never from inside the link's send
 * or evhttp's callback stack, so the outbox is never re-entered.  Delivery
 * reports are not asked back through smsbox (no dlr-url is sent): over
 * sendsms a notice ends in accepted or buffered.
 */
#include "config.h"

#include <sys/types.h>
#include <sys/socket.h>
#include <sys/queue.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "gw.h"

/* After libgw: its gwlib/http.h has an enum that event2/http.h's macros
 * (HTTP_OK ...) would otherwise break. */
#include <event2/buffer.h>
#include <event2/event.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>

#include "admin.h"
#include "conf.h"
#include "gsm.h"
#include "http.h"
#include "urlcode.h"
#include "inbox.h"
#include "mo.h"
#include "outbox.h"

#define HTTP_MAX_HEADERS	(8 * 1024)	/* request line and headers */
#define HTTP_MAX_BODY		(64 * 1024)
#define HTTP_TIMEOUT		30		/* seconds, read and write */
#define HTTP_MAX_TEXT		1600		/* bytes of a decoded MO text */
#define HTTP_MAX_ID		128		/* bytes of a client's id */
#define HTTP_MAX_ADDRESS	32		/* bytes of to */
#define HTTP_MAX_SMSC		64		/* bytes of smsc */
#define HTTP_FROM_MIN		3		/* digits of from */
#define HTTP_FROM_MAX		20
#define HTTP_SENDSMS_INFLIGHT	10		/* requests queued or sent */
#define HTTP_SENDSMS_TIMEOUT	30		/* seconds */

/* --- the server -------------------------------------------------------- */

/* One /sms request waiting for the inbox's commit. */
struct http_pending {
	TAILQ_ENTRY(http_pending) entry;
	struct http		*http;	/* NULL once http_free detached it */
	struct evhttp_request	*req;	/* NULL once detached */
};

struct http {
	struct event_base		*base;
	const struct conf		*conf;
	struct inbox			*inbox;
	struct outbox			*outbox;
	struct ussd			*ussd;		/* NULL: no /ussd */
	struct evhttp			*evh;
	char				*interface;	/* as bound */
	int				 port;
	TAILQ_HEAD(, http_pending)	 pending;
	struct admin			*admin;		/* admin pages, or NULL */
};

/* The fields of an MO request, decoded.  NULL: not given. */
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

/* The peer's address as text, an IPv4-mapped IPv6 address as IPv4. */
static void
http_peer_address(struct evhttp_request *req, char *buf, size_t size)
{
	struct evhttp_connection	*evcon;
	char				*address = NULL;
	ev_uint16_t			 port = 0;
	struct in_addr			 in4;

	buf[0] = '\0';
	if ((evcon = evhttp_request_get_connection(req)) == NULL)
		return;
	evhttp_connection_get_peer(evcon, &address, &port);
	if (address == NULL)
		return;
	if (strncasecmp(address, "::ffff:", 7) == 0 &&
	    inet_pton(AF_INET, address + 7, &in4) == 1)
		address += 7;
	snprintf(buf, size, "%s", address);
}

/* Parse "a.b.c.d" into four numbers 0..255; '*' parts (when star) are
 * -1.  0 or -1. */
static int
http_ipv4_parts(const char *s, int star, int parts[4])
{
	int	 i, n, digits;

	for (i = 0; i < 4; i++) {
		if (star && *s == '*') {
			parts[i] = -1;
			s++;
		} else {
			for (n = 0, digits = 0; isdigit((unsigned char)*s);
			    s++) {
				if (++digits > 3)
					return -1;
				n = n * 10 + (*s - '0');
			}
			if (digits == 0 || n > 255)
				return -1;
			parts[i] = n;
		}
		if (i < 3 && *s++ != '.')
			return -1;
	}
	return *s == '\0' ? 0 : -1;
}

/*
 * 1 if ip matches one http-allow-ip entry: an exact IPv4 or IPv6 address,
 * or (Kannel's convention) an IPv4 pattern with '*' for any one octet,
 * like 192.168.*.*.
 */
static int
http_ip_match(const char *pattern, const char *ip)
{
	struct in6_addr	 a6, b6;
	int		 p[4], a[4], i;

	if (strchr(pattern, ':') != NULL || strchr(ip, ':') != NULL)
		return inet_pton(AF_INET6, pattern, &a6) == 1 &&
		    inet_pton(AF_INET6, ip, &b6) == 1 &&
		    memcmp(&a6, &b6, sizeof(a6)) == 0;
	if (http_ipv4_parts(pattern, 1, p) == -1 ||
	    http_ipv4_parts(ip, 0, a) == -1)
		return 0;
	for (i = 0; i < 4; i++)
		if (p[i] != -1 && p[i] != a[i])
			return 0;
	return 1;
}

int
http_ip_allowed(const struct conf *conf, const char *ip)
{
	return http_ip_listed(conf != NULL ? &conf->http_allow_ip : NULL, ip);
}

int
http_ip_listed(const struct conf_names *list, const char *ip)
{
	struct in_addr	 a4;
	struct in6_addr	 a6;
	size_t		 i;

	if (ip == NULL || *ip == '\0')
		return 0;
	if (inet_pton(AF_INET, ip, &a4) == 1 &&
	    (ntohl(a4.s_addr) >> 24) == 127)
		return 1;
	if (inet_pton(AF_INET6, ip, &a6) == 1) {
		if (IN6_IS_ADDR_LOOPBACK(&a6))
			return 1;
		if (IN6_IS_ADDR_V4MAPPED(&a6) && a6.s6_addr[12] == 127)
			return 1;
	}
	if (list == NULL)
		return 0;
	for (i = 0; i < list->count; i++)
		if (list->names[i] != NULL && http_ip_match(list->names[i], ip))
			return 1;
	return 0;
}

/* Answer req with code and a text/plain body.  req is gone after this. */
static void
http_reply_text(struct evhttp_request *req, int code, const char *reason,
    const char *body)
{
	struct evbuffer	*buf;

	if ((buf = evbuffer_new()) == NULL ||
	    evbuffer_add(buf, body, strlen(body)) == -1) {
		error(0, "http: out of memory answering a request");
		if (buf != NULL)
			evbuffer_free(buf);
		evhttp_send_error(req, 500, NULL);
		return;
	}
	evhttp_add_header(evhttp_request_get_output_headers(req),
	    "Content-Type", "text/plain; charset=utf-8");
	evhttp_send_reply(req, code, reason, buf);
	evbuffer_free(buf);
}

/*
 * The inbox's answer, after the commit: the HTTP answer goes out now.  A
 * context detached by http_free() has had its answer already.
 */
static void
http_sms_done_cb(void *arg, enum inbox_status status, const char *reply)
{
	struct http_pending	*p = arg;

	if (p->http == NULL) {
		free(p);
		return;
	}
	TAILQ_REMOVE(&p->http->pending, p, entry);
	switch (status) {
	case INBOX_STORED:
	case INBOX_DUPLICATE:
		http_reply_text(p->req, 200, "OK", reply != NULL ? reply : "");
		break;
	case INBOX_FAILED:
	default:
		http_reply_text(p->req, 503, "Service Unavailable",
		    "try again");
		break;
	}
	free(p);
}

/* The body of a POST, or NULL with *len 0.  Malloc'd. */
static char *
http_body(struct evhttp_request *req, size_t *len)
{
	struct evbuffer	*in = evhttp_request_get_input_buffer(req);
	char		*body;

	*len = in != NULL ? evbuffer_get_length(in) : 0;
	if ((body = malloc(*len + 1)) == NULL)
		return NULL;
	if (*len > 0 && evbuffer_copyout(in, body, *len) != (ev_ssize_t)*len) {
		free(body);
		return NULL;
	}
	body[*len] = '\0';
	return body;
}

/* 1 if a POST's Content-Type is a form (or not given). */
static int
http_is_form(struct evhttp_request *req)
{
	const char	*ct;
	size_t		 n = strlen("application/x-www-form-urlencoded");

	ct = evhttp_find_header(evhttp_request_get_input_headers(req),
	    "Content-Type");
	if (ct == NULL)
		return 1;
	while (*ct == ' ' || *ct == '\t')
		ct++;
	return strncasecmp(ct, "application/x-www-form-urlencoded", n) == 0 &&
	    (ct[n] == '\0' || ct[n] == ';' || ct[n] == ' ' || ct[n] == '\t');
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

/* GET or POST /sms: an MO.  Answered now (400, 415, 500) or after the
 * commit (http_sms_done_cb). */
static void
http_sms(struct http *h, struct evhttp_request *req, const char *peer)
{
	struct http_form	 f;
	struct http_pending	*p = NULL;
	struct mo		 mo;
	const struct evhttp_uri	*uri = evhttp_request_get_evhttp_uri(req);
	const char		*query, *why;
	char			*body = NULL, *text = NULL, *id = NULL;
	char			 uuid[UUID_STR_LEN + 1];
	uuid_t			 uu;
	size_t			 blen, tlen, replaced = 0;
	int			 coding;

	memset(&f, 0, sizeof(f));
	if (evhttp_request_get_command(req) == EVHTTP_REQ_POST) {
		if (!http_is_form(req)) {
			http_reply_text(req, 415, NULL, "unsupported content "
			    "type: use application/x-www-form-urlencoded");
			return;
		}
		if ((body = http_body(req, &blen)) == NULL ||
		    http_form_parse(&f, body, blen) == -1)
			goto oom;
	}
	/* The query fills what a form body did not give. */
	query = uri != NULL ? evhttp_uri_get_query(uri) : NULL;
	if (query != NULL && http_form_parse(&f, query, strlen(query)) == -1)
		goto oom;

	if ((why = http_sms_check(&f, &coding)) != NULL) {
		debug("mb.http", 0, "http: /sms from %s: 400 %s", peer, why);
		http_reply_text(req, 400, "Bad Request", why);
		goto out;
	}
	if ((text = gsm_to_utf8((const unsigned char *)f.value[HTTP_FIELD_TEXT],
	    f.len[HTTP_FIELD_TEXT], 0, &tlen, &replaced)) == NULL)
		goto oom;
	if (replaced > 0)
		debug("mb.http", 0, "http: MO from %s: %zu invalid byte(s) in "
		    "the text replaced", f.value[HTTP_FIELD_FROM], replaced);
	if (f.value[HTTP_FIELD_ID] != NULL) {
		if (asprintf(&id, "http:%s", f.value[HTTP_FIELD_ID]) == -1) {
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
	    f.value[HTTP_FIELD_TO] : h->conf->global_sender;
	mo.text = text;
	mo.coding = coding;
	mo.smsc_id = f.value[HTTP_FIELD_SMSC] != NULL &&
	    f.len[HTTP_FIELD_SMSC] > 0 ? f.value[HTTP_FIELD_SMSC] : NULL;
	mo.meta_data = NULL;
	mo.time = (long long)time(NULL);
	mo.reply_inline = 1;

	if ((p = calloc(1, sizeof(*p))) == NULL)
		goto oom;
	p->http = h;
	p->req = req;
	/* In the list first: the inbox may call back before it returns. */
	TAILQ_INSERT_TAIL(&h->pending, p, entry);
	debug("mb.http", 0, "http: MO %s from %s to %s via %s", id, mo.sender,
	    mo.receiver, peer);
	if (inbox_receive(h->inbox, &mo, http_sms_done_cb, p) == -1) {
		TAILQ_REMOVE(&h->pending, p, entry);
		free(p);
		http_reply_text(req, 400, "Bad Request", "message refused");
	}
	goto out;
oom:
	error(0, "http: out of memory taking an MO from %s", peer);
	http_reply_text(req, 500, "Internal Server Error", "out of memory");
out:
	http_form_clear(&f);
	free(body);
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
	struct http_pending	*p = arg;

	if (p->http == NULL) {
		free(p);
		return;
	}
	TAILQ_REMOVE(&p->http->pending, p, entry);
	if (status == INBOX_FAILED)
		http_reply_text(p->req, 503, "Service Unavailable",
		    "END try again");
	else
		http_reply_text(p->req, 200, "OK", reply != NULL ? reply :
		    "END Sorry, that could not be done just now.");
	free(p);
}

/*
 * POST (or GET) /ussd: sessionId, serviceCode, phoneNumber, networkCode
 * and text (the inputs so far joined by '*').  The MO goes through the
 * inbox like any other, with channel "ussd", id "ussd:<sessionId>:<text>"
 * (a retried request is a duplicate and gets the same screen) and the
 * session in its meta_data; ussd.c answers it.
 */
static void
http_ussd(struct http *h, struct evhttp_request *req, const char *peer)
{
	const struct evhttp_uri	*uri = evhttp_request_get_evhttp_uri(req);
	struct http_pending	*p;
	struct mo		 mo;
	char			*value[HTTP_USSD_FIELDS] = { NULL };
	size_t			 len[HTTP_USSD_FIELDS] = { 0 };
	char			*body = NULL, *text = NULL, *id = NULL;
	char			*meta = NULL, *enc[3] = { NULL };
	const char		*query, *why = NULL;
	size_t			 blen, tlen, replaced = 0;
	int			 i;

	if (h->ussd == NULL) {
		http_reply_text(req, 404, "Not Found", "no USSD menus");
		return;
	}
	if (evhttp_request_get_command(req) == EVHTTP_REQ_POST) {
		if (!http_is_form(req)) {
			http_reply_text(req, 415, NULL, "unsupported content "
			    "type: use application/x-www-form-urlencoded");
			return;
		}
		if ((body = http_body(req, &blen)) == NULL ||
		    http_fields_parse(http_ussd_names,
		    HTTP_USSD_FIELDS, value, len, body, blen) == -1)
			goto oom;
	}
	query = uri != NULL ? evhttp_uri_get_query(uri) : NULL;
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
		http_reply_text(req, 400, "Bad Request", why);
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
	if (asprintf(&id, "ussd:%s:%s", value[HTTP_USSD_SESSION], text) == -1 ||
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
	    h->conf->global_sender;
	mo.text = text;
	mo.coding = 0;
	mo.meta_data = meta;
	mo.time = (long long)time(NULL);
	mo.reply_inline = 1;

	if ((p = calloc(1, sizeof(*p))) == NULL)
		goto oom;
	p->http = h;
	p->req = req;
	TAILQ_INSERT_TAIL(&h->pending, p, entry);
	debug("mb.http", 0, "http: USSD %s from %s via %s", id, mo.sender,
	    peer);
	if (inbox_receive(h->inbox, &mo, http_ussd_done_cb, p) == -1) {
		TAILQ_REMOVE(&h->pending, p, entry);
		free(p);
		http_reply_text(req, 400, "Bad Request", "message refused");
	}
	goto out;
oom:
	error(0, "http: out of memory taking a USSD request from %s", peer);
	http_reply_text(req, 500, "Internal Server Error", "out of memory");
out:
	for (i = 0; i < HTTP_USSD_FIELDS; i++)
		free(value[i]);
	for (i = 0; i < 3; i++)
		free(enc[i]);
	free(body);
	free(text);
	free(id);
	free(meta);
}

void
http_set_ussd(struct http *h, struct ussd *ussd)
{
	if (h != NULL)
		h->ussd = ussd;
}

/* Every request: access, method, then the path. */
static void
http_request_cb(struct evhttp_request *req, void *arg)
{
	struct http		*h = arg;
	const struct evhttp_uri	*uri;
	const char		*path = NULL;
	char			 peer[INET6_ADDRSTRLEN + 8];
	enum evhttp_cmd_type	 method = evhttp_request_get_command(req);

	http_peer_address(req, peer, sizeof(peer));
	/* The admin pages have their own allow-list and password. */
	if (h->admin != NULL && (uri = evhttp_request_get_evhttp_uri(req)) !=
	    NULL && admin_path_is_ours(evhttp_uri_get_path(uri))) {
		admin_handle(h->admin, req, peer);
		return;
	}
	if (!http_ip_allowed(h->conf, peer)) {
		warning(0, "http: request from %s refused: not loopback and "
		    "not in http-allow-ip", peer[0] ? peer : "(unknown)");
		http_reply_text(req, 403, "Forbidden", "forbidden");
		return;
	}
	if (method != EVHTTP_REQ_GET && method != EVHTTP_REQ_POST) {
		evhttp_add_header(evhttp_request_get_output_headers(req),
		    "Allow", "GET, POST");
		http_reply_text(req, 405, "Method Not Allowed",
		    "method not allowed: use GET or POST");
		return;
	}
	if ((uri = evhttp_request_get_evhttp_uri(req)) != NULL)
		path = evhttp_uri_get_path(uri);
	if (path == NULL || *path == '\0')
		path = "/";
	if (strcmp(path, "/sms") == 0)
		http_sms(h, req, peer);
	else if (strcmp(path, "/ussd") == 0)
		http_ussd(h, req, peer);
	else if (strcmp(path, "/health") == 0)
		http_reply_text(req, 200, "OK", "ok");
	else {
		debug("mb.http", 0, "http: %s asked for %s: 404", peer, path);
		http_reply_text(req, 404, "Not Found", "not found");
	}
}

struct http *
http_new(struct event_base *base, const struct conf *conf,
    struct inbox *inbox, struct outbox *outbox)
{
	struct http	*h;
	const char	*iface;

	if (base == NULL || conf == NULL || inbox == NULL) {
		error(0, "http: needs a loop, a conf and an inbox");
		return NULL;
	}
	if (conf->http_port <= 0 || conf->http_port > 65535) {
		error(0, "http: http-port %d is not a port", conf->http_port);
		return NULL;
	}
	iface = conf->http_interface != NULL ? conf->http_interface :
	    "127.0.0.1";
	if ((h = calloc(1, sizeof(*h))) == NULL ||
	    (h->interface = strdup(iface)) == NULL) {
		error(errno, "http: out of memory");
		free(h);
		return NULL;
	}
	h->base = base;
	h->conf = conf;
	h->inbox = inbox;
	h->outbox = outbox;
	h->port = conf->http_port;
	TAILQ_INIT(&h->pending);
	if ((h->evh = evhttp_new(base)) == NULL) {
		error(0, "http: cannot create the HTTP server");
		goto fail;
	}
	evhttp_set_max_headers_size(h->evh, HTTP_MAX_HEADERS);
	evhttp_set_max_body_size(h->evh, HTTP_MAX_BODY);
	evhttp_set_timeout(h->evh, HTTP_TIMEOUT);
	/* Other methods reach the callback, to be answered 405; TRACE and
	 * CONNECT are answered 501 by evhttp itself. */
	evhttp_set_allowed_methods(h->evh, EVHTTP_REQ_GET | EVHTTP_REQ_POST |
	    EVHTTP_REQ_HEAD | EVHTTP_REQ_PUT | EVHTTP_REQ_DELETE |
	    EVHTTP_REQ_OPTIONS | EVHTTP_REQ_PATCH);
	evhttp_set_gencb(h->evh, http_request_cb, h);
	if (evhttp_bind_socket_with_handle(h->evh, h->interface,
	    (ev_uint16_t)h->port) == NULL) {
		error(errno, "http: cannot listen on %s:%d", h->interface,
		    h->port);
		goto fail;
	}
	info(0, "http: listening on %s:%d", h->interface, h->port);
	return h;
fail:
	http_free(h);
	return NULL;
}

void
http_free(struct http *h)
{
	struct http_pending	*p;

	if (h == NULL)
		return;
	/*
	 * Requests still waiting for a commit: answer them (so a request
	 * libevent already unlinked from its connection is freed) and
	 * detach their contexts, which the inbox frees when it calls back.
	 * The MO may yet commit: a client retrying with the same id gets
	 * the stored reply.
	 */
	while ((p = TAILQ_FIRST(&h->pending)) != NULL) {
		TAILQ_REMOVE(&h->pending, p, entry);
		http_reply_text(p->req, 503, "Service Unavailable",
		    "shutting down; try again");
		p->req = NULL;
		p->http = NULL;
	}
	if (h->evh != NULL)
		evhttp_free(h->evh);
	free(h->interface);
	free(h);
}

void
http_set_admin(struct http *h, struct admin *admin)
{
	if (h != NULL)
		h->admin = admin;
}

void
http_set_conf(struct http *h, const struct conf *conf)
{
	const char	*iface;

	if (h == NULL || conf == NULL)
		return;
	iface = conf->http_interface != NULL ? conf->http_interface :
	    "127.0.0.1";
	if (conf->http_port != h->port || strcmp(iface, h->interface) != 0)
		warning(0, "http: reload: http-port and http-interface "
		    "changes need a restart; still listening on %s:%d",
		    h->interface, h->port);
	h->conf = conf;
}

/* --- the sendsms link --------------------------------------------------- */

/* One MT handed to smsbox. */
struct http_sendsms_req {
	TAILQ_ENTRY(http_sendsms_req) entry;
	struct http_sendsms	*s;	/* NULL once detached */
	char			*kannel_id;
	long long		 row;
	enum outbox_ack		 ack;	/* once answered */
};

TAILQ_HEAD(http_sendsms_list, http_sendsms_req);

struct http_sendsms {
	struct event_base		*base;
	struct outbox			*outbox;
	struct evhttp_connection	*conn;
	struct event			*ack_ev;	/* passes acks on */
	char				*host;		/* Host header */
	char				*target;	/* path?query */
	int				 has_query;
	struct outbox_link		 link;
	struct http_sendsms_list	 inflight;	/* sent, unanswered */
	struct http_sendsms_list	 answered;	/* acks to pass on */
	size_t				 ninflight;
};

static void
http_sendsms_req_free(struct http_sendsms_req *r)
{
	if (r == NULL)
		return;
	free(r->kannel_id);
	free(r);
}

/* The acks of answered requests go to the outbox, outside evhttp's and
 * the outbox's own call stacks. */
static void
http_sendsms_ack_cb(evutil_socket_t fd, short what, void *arg)
{
	struct http_sendsms	*s = arg;
	struct http_sendsms_req	*r;

	(void)fd;
	(void)what;
	while ((r = TAILQ_FIRST(&s->answered)) != NULL) {
		TAILQ_REMOVE(&s->answered, r, entry);
		outbox_ack(s->outbox, r->kannel_id, r->ack);
		http_sendsms_req_free(r);
	}
}

/* smsbox's answer (req NULL or code 0: no answer at all). */
static void
http_sendsms_done_cb(struct evhttp_request *req, void *arg)
{
	struct http_sendsms_req	*r = arg;
	struct http_sendsms	*s = r->s;
	struct evbuffer		*in;
	char			 body[80];
	ev_ssize_t		 n = 0;
	size_t			 i;
	int			 code;

	if (s == NULL)
		return;		/* http_sendsms_free frees r */
	code = req != NULL ? evhttp_request_get_response_code(req) : 0;
	body[0] = '\0';
	if (req != NULL && (in = evhttp_request_get_input_buffer(req)) != NULL &&
	    (n = evbuffer_copyout(in, body, sizeof(body) - 1)) > 0) {
		body[n] = '\0';
		for (i = 0; i < (size_t)n; i++)
			if ((unsigned char)body[i] < ' ')
				body[i] = ' ';
	} else
		body[0] = '\0';

	if (code >= 200 && code < 300) {
		r->ack = strncmp(body, "3:", 2) == 0 ? OUTBOX_ACK_BUFFERED :
		    OUTBOX_ACK_SUCCESS;
		debug("mb.http", 0, "sendsms: row %lld: %d %s", r->row, code,
		    body);
	} else if (code >= 400 && code < 500) {
		r->ack = OUTBOX_ACK_FAILED;
		warning(0, "sendsms: row %lld refused by smsbox: %d %s",
		    r->row, code, body);
	} else {
		r->ack = OUTBOX_ACK_FAILED_TMP;
		if (code == 0)
			warning(0, "sendsms: row %lld: no answer from smsbox "
			    "at %s; will retry", r->row, s->host);
		else
			warning(0, "sendsms: row %lld: smsbox answered %d %s; "
			    "will retry", r->row, code, body);
	}
	TAILQ_REMOVE(&s->inflight, r, entry);
	s->ninflight--;
	TAILQ_INSERT_TAIL(&s->answered, r, entry);
	event_active(s->ack_ev, 0, 0);
}

/* Append name, '=' and value (urlencoded, n bytes) to b.  0 or -1. */
static int
http_sendsms_param(struct evbuffer *b, const char *name, const void *value,
    size_t n)
{
	char	*enc;
	int	 rc;

	if ((enc = evhttp_uriencode(value, (ev_ssize_t)n, 0)) == NULL)
		return -1;
	rc = evbuffer_add_printf(b, "%s=%s", name, enc);
	free(enc);
	return rc < 0 ? -1 : 0;
}

/*
 * The outbox link's send: one GET to smsbox's sendsms.  -1 (the row stays
 * queued) when HTTP_SENDSMS_INFLIGHT requests are unanswered or the
 * request cannot be made.
 */
static int
http_sendsms_send_cb(void *arg, const struct outbox_mt *mt)
{
	struct http_sendsms	*s = arg;
	struct http_sendsms_req	*r = NULL;
	struct evhttp_request	*req = NULL;
	struct evbuffer		*b = NULL;
	char			*target = NULL;
	size_t			 len;

	if (s->ninflight >= HTTP_SENDSMS_INFLIGHT)
		return -1;
	if (mt->kannel_id == NULL || mt->sender == NULL ||
	    mt->receiver == NULL || mt->text == NULL) {
		error(0, "sendsms: row %lld is incomplete; not sent", mt->row);
		return -1;
	}
	if ((b = evbuffer_new()) == NULL ||
	    evbuffer_add_printf(b, "%s%c", s->target,
	    s->has_query ? '&' : '?') < 0 ||
	    http_sendsms_param(b, "from", mt->sender, strlen(mt->sender)) ||
	    http_sendsms_param(b, "&to", mt->receiver, strlen(mt->receiver)) ||
	    http_sendsms_param(b, "&text", mt->text, strlen(mt->text)) ||
	    evbuffer_add_printf(b, "&charset=UTF-8&coding=%d", mt->coding) < 0 ||
	    (mt->udh != NULL && mt->udh_len > 0 &&
	    http_sendsms_param(b, "&udh", mt->udh, mt->udh_len)) ||
	    (mt->smsc_id != NULL && *mt->smsc_id != '\0' &&
	    http_sendsms_param(b, "&smsc", mt->smsc_id, strlen(mt->smsc_id))) ||
	    (mt->meta_data != NULL && *mt->meta_data != '\0' &&
	    http_sendsms_param(b, "&meta-data", mt->meta_data,
	    strlen(mt->meta_data))) ||
	    (mt->dlr_mask > 0 &&
	    evbuffer_add_printf(b, "&dlr-mask=%d", mt->dlr_mask) < 0))
		goto oom;
	len = evbuffer_get_length(b);
	if ((target = malloc(len + 1)) == NULL)
		goto oom;
	evbuffer_copyout(b, target, len);
	target[len] = '\0';

	if ((r = calloc(1, sizeof(*r))) == NULL ||
	    (r->kannel_id = strdup(mt->kannel_id)) == NULL)
		goto oom;
	r->s = s;
	r->row = mt->row;
	if ((req = evhttp_request_new(http_sendsms_done_cb, r)) == NULL)
		goto oom;
	evhttp_add_header(evhttp_request_get_output_headers(req), "Host",
	    s->host);
	TAILQ_INSERT_TAIL(&s->inflight, r, entry);
	s->ninflight++;
	if (evhttp_make_request(s->conn, req, EVHTTP_REQ_GET, target) == -1) {
		/*
		 * libevent 2.1 fails here only when it cannot copy the URI
		 * (it then frees the request itself) or cannot bind a local
		 * address (never set here); the callback does not run.
		 */
		TAILQ_REMOVE(&s->inflight, r, entry);
		s->ninflight--;
		error(0, "sendsms: cannot send row %lld to %s", mt->row,
		    s->host);
		http_sendsms_req_free(r);
		free(target);
		evbuffer_free(b);
		return -1;
	}
	debug("mb.http", 0, "sendsms: row %lld to %s as %s", mt->row,
	    mt->receiver, mt->kannel_id);
	free(target);
	evbuffer_free(b);
	return 0;
oom:
	error(0, "sendsms: out of memory sending row %lld", mt->row);
	if (req != NULL)
		evhttp_request_free(req);
	http_sendsms_req_free(r);
	free(target);
	if (b != NULL)
		evbuffer_free(b);
	return -1;
}

/*
 * Parse sendsms-url into where to connect and what to ask.  The host is
 * resolved here, at start-up, so that no request blocks on DNS later.
 */
static int
http_sendsms_parse(struct http_sendsms *s, const char *url, char *addr,
    size_t addrsize, int *port)
{
	struct evhttp_uri	*u;
	struct addrinfo		 hints, *ai = NULL;
	const char		*scheme, *host, *path, *query;
	int			 rc = -1, gai;

	if ((u = evhttp_uri_parse_with_flags(url, 0)) == NULL) {
		error(0, "sendsms: sendsms-url '%s' is not a URL", url);
		return -1;
	}
	scheme = evhttp_uri_get_scheme(u);
	host = evhttp_uri_get_host(u);
	if (scheme == NULL || strcasecmp(scheme, "http") != 0) {
		error(0, "sendsms: sendsms-url '%s': only http:// is supported",
		    url);
		goto out;
	}
	if (host == NULL || *host == '\0') {
		error(0, "sendsms: sendsms-url '%s' has no host", url);
		goto out;
	}
	*port = evhttp_uri_get_port(u);
	if (*port == -1)
		*port = 80;
	if (*port <= 0 || *port > 65535) {
		error(0, "sendsms: sendsms-url '%s': bad port", url);
		goto out;
	}
	memset(&hints, 0, sizeof(hints));
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	if ((gai = getaddrinfo(host, NULL, &hints, &ai)) != 0) {
		error(0, "sendsms: cannot resolve %s: %s", host,
		    gai_strerror(gai));
		goto out;
	}
	if (getnameinfo(ai->ai_addr, ai->ai_addrlen, addr, addrsize, NULL, 0,
	    NI_NUMERICHOST) != 0) {
		error(0, "sendsms: cannot resolve %s", host);
		goto out;
	}
	path = evhttp_uri_get_path(u);
	query = evhttp_uri_get_query(u);
	if (path == NULL || *path == '\0')
		path = "/";
	s->has_query = query != NULL && *query != '\0';
	if (asprintf(&s->target, "%s%s%s", path, s->has_query ? "?" : "",
	    s->has_query ? query : "") == -1) {
		s->target = NULL;
		goto oom;
	}
	if ((*port == 80 ? asprintf(&s->host, "%s", host) :
	    asprintf(&s->host, "%s:%d", host, *port)) == -1) {
		s->host = NULL;
		goto oom;
	}
	rc = 0;
	goto out;
oom:
	error(errno, "sendsms: out of memory");
out:
	if (ai != NULL)
		freeaddrinfo(ai);
	evhttp_uri_free(u);
	return rc;
}

struct http_sendsms *
http_sendsms_new(struct event_base *base, const struct conf *conf,
    struct outbox *outbox)
{
	struct http_sendsms	*s;
	char			 addr[NI_MAXHOST];
	int			 port = 0;

	if (base == NULL || conf == NULL || outbox == NULL ||
	    conf->sendsms_url == NULL || *conf->sendsms_url == '\0')
		return NULL;
	if ((s = calloc(1, sizeof(*s))) == NULL) {
		error(errno, "sendsms: out of memory");
		return NULL;
	}
	s->base = base;
	s->outbox = outbox;
	TAILQ_INIT(&s->inflight);
	TAILQ_INIT(&s->answered);
	if (http_sendsms_parse(s, conf->sendsms_url, addr, sizeof(addr),
	    &port) == -1)
		goto fail;
	if ((s->ack_ev = event_new(base, -1, 0, http_sendsms_ack_cb, s)) ==
	    NULL || (s->conn = evhttp_connection_base_new(base, NULL, addr,
	    (ev_uint16_t)port)) == NULL) {
		error(0, "sendsms: cannot set up the connection to %s",
		    s->host);
		goto fail;
	}
	evhttp_connection_set_timeout(s->conn, HTTP_SENDSMS_TIMEOUT);
	evhttp_connection_set_retries(s->conn, 0);
	s->link.send = http_sendsms_send_cb;
	s->link.arg = s;
	outbox_set_link(outbox, &s->link);
	info(0, "sendsms: notices leave through %s%s", s->host, s->target);
	return s;
fail:
	http_sendsms_free(s);
	return NULL;
}

void
http_sendsms_free(struct http_sendsms *s)
{
	struct http_sendsms_req	*r;

	if (s == NULL)
		return;
	/* What smsbox answered is recorded; the rest is sent again. */
	if (s->ack_ev != NULL)
		http_sendsms_ack_cb(-1, 0, s);
	if (s->link.send != NULL)
		outbox_set_link(s->outbox, NULL);
	/* Their callbacks must not run into freed memory. */
	TAILQ_FOREACH(r, &s->inflight, entry)
		r->s = NULL;
	if (s->conn != NULL)
		evhttp_connection_free(s->conn);	/* frees the requests */
	while ((r = TAILQ_FIRST(&s->inflight)) != NULL) {
		TAILQ_REMOVE(&s->inflight, r, entry);
		http_sendsms_req_free(r);
	}
	while ((r = TAILQ_FIRST(&s->answered)) != NULL) {
		TAILQ_REMOVE(&s->answered, r, entry);
		http_sendsms_req_free(r);
	}
	if (s->ack_ev != NULL)
		event_free(s->ack_ev);
	free(s->host);
	free(s->target);
	free(s);
}
