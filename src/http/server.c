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
 * Only loopback peers and those matched by http-allow-ip (or, when the
 * admin pages are on, admin-allow-ip) are served.  Requests are bounded
 * (headers, body, a read/write timeout) by evhttp.
 *
 * Connections are held to account from the moment they are accepted (a
 * flood of idle or trickling clients must not use up the descriptors):
 *
 *	- a peer not allowed is closed before a byte of it is read;
 *	- at most http-max-connections are open; one more closes the oldest
 *	  that has not yet sent a whole request (else it is itself closed),
 *	  so a newcomer with a quick request is served under a flood;
 *	- a request's head and body must arrive within http-request-timeout
 *	  seconds of the connection (or of the last answer on a kept-alive
 *	  one): a client that trickles a header line now and then is cut,
 *	  whatever evhttp's idle timeout would say.  A request in our hands
 *	  (waiting for its commit) is not cut;
 *	- when accept() fails for want of descriptors (EMFILE, ENFILE),
 *	  accepting pauses for HTTP_PAUSE seconds or until a connection
 *	  closes, instead of spinning on a listener that stays readable; a
 *	  spare descriptor, kept open for the purpose, is given up for an
 *	  instant to accept the waiting client and close it at once.
 *
 * evhttp hands out no accepted socket before it starts reading, so the
 * check runs in a zero-timeout event activated from evhttp's bufferevent
 * constructor (evhttp_set_bevcb): it runs after the accept and before the
 * loop next polls, so before anything is read.
 *
 * /sms and /ussd are ways in for the network only: with sms-secret or
 * ussd-secret set, a request must carry it (parameter "secret", or the
 * header X-Marketbox-Secret); and a request a browser made for another
 * site (an Origin that is not this server, a Sec-Fetch-Site other than
 * same-origin or none) or for a foreign Host (DNS rebinding) is refused
 * 403.  The admin pages' POST actions pass the same browser check.
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
#include <fcntl.h>
#include <limits.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include "base/gw.h"

/* After libgw: its gwlib/http.h has an enum that event2/http.h's macros
 * (HTTP_OK ...) would otherwise break. */
#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>
#include <event2/listener.h>

#include "admin/admin.h"
#include "base/conf.h"
#include "text/gsm.h"
#include "http/http.h"
#include "base/urlcode.h"
#include "queue/inbox.h"
#include "queue/mo.h"
#include "queue/outbox.h"
#include "store/store.h"

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
#define HTTP_RETRY_AFTER	"5"		/* seconds, when the store
						   cannot take an MO */
#define HTTP_SENDSMS_TIMEOUT	30		/* seconds */
#define HTTP_MAX_CONNECTIONS	128		/* conf default */
#define HTTP_REQUEST_TIMEOUT	10		/* conf default, seconds */
#define HTTP_PAUSE		1		/* seconds without accept() */
#define HTTP_SECRET_HEADER	"X-Marketbox-Secret"

/* --- the server -------------------------------------------------------- */

/*
 * A request whose answer is to come: one waiting for its store task
 * (http_task), then, for /sms and /ussd, for the inbox's commit.
 */
struct http_pending {
	TAILQ_ENTRY(http_pending) entry;
	struct http		*http;	/* NULL once http_free detached it */
	struct evhttp_request	*req;	/* NULL once detached */
	enum http_route {
		HTTP_ROUTE_SMS,
		HTTP_ROUTE_USSD,
		HTTP_ROUTE_ADMIN
	}			 route;
	char			 peer[INET6_ADDRSTRLEN + 8];
};

/*
 * One accepted connection, from its check to its close.  Fresh ones wait
 * in http.fresh for the check, holding a reference on their bufferevent
 * (so that one freed meanwhile can be told); checked ones are in
 * http.conns, oldest first, until evhttp closes them (its close callback
 * frees this).
 */
struct http_conn {
	TAILQ_ENTRY(http_conn)		 entry;
	struct http			*http;
	struct bufferevent		*bev;		/* fresh only */
	struct evhttp_connection	*evcon;		/* checked only */
	struct event			*deadline;
	int				 busy;		/* a request is ours */
	char				 peer[INET6_ADDRSTRLEN + 8];
};

TAILQ_HEAD(http_conns, http_conn);

struct http {
	TAILQ_ENTRY(http)		 all;
	struct event_base		*base;
	const struct conf		*conf;
	struct inbox			*inbox;
	struct outbox			*outbox;
	struct store			*store;		/* runs the tasks */
	struct ussd			*ussd;		/* NULL: no /ussd */
	struct evhttp			*evh;
	char				*interface;	/* as bound */
	int				 port;
	TAILQ_HEAD(, http_pending)	 pending;
	struct admin			*admin;		/* admin pages, or NULL */
	struct evconnlistener		*listener;
	struct http_conns		 fresh;		/* accepted, unchecked */
	struct http_conns		 conns;		/* checked, open */
	size_t				 nconns;
	struct event			*check_ev;	/* checks the fresh */
	struct event			*resume_ev;	/* accepting again */
	int				 paused;	/* not accepting */
	int				 spare_fd;	/* given up at EMFILE */
	int				 loopback_trusted;
	int				 freeing;
};

/*
 * Every server, to find one from its listener: libevent calls a
 * listener's error callback with evhttp's argument, not ours.
 */
static TAILQ_HEAD(, http) http_servers = TAILQ_HEAD_INITIALIZER(http_servers);

/* The fields of an MO request, decoded.  NULL: not given. */
enum http_field {
	HTTP_FIELD_FROM,
	HTTP_FIELD_TO,
	HTTP_FIELD_TEXT,
	HTTP_FIELD_ID,
	HTTP_FIELD_SMSC,
	HTTP_FIELD_CODING,
	HTTP_FIELD_SECRET,
	HTTP_NFIELDS
};

static const char *const http_field_names[HTTP_NFIELDS] = {
	"from", "to", "text", "id", "smsc", "coding", "secret"
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

/* A connection's peer address as text, an IPv4-mapped IPv6 address as
 * IPv4. */
static void
http_evcon_address(struct evhttp_connection *evcon, char *buf, size_t size)
{
	char				*address = NULL;
	ev_uint16_t			 port = 0;
	struct in_addr			 in4;

	buf[0] = '\0';
	if (evcon == NULL)
		return;
	evhttp_connection_get_peer(evcon, &address, &port);
	if (address == NULL)
		return;
	if (strncasecmp(address, "::ffff:", 7) == 0 &&
	    inet_pton(AF_INET, address + 7, &in4) == 1)
		address += 7;
	snprintf(buf, size, "%s", address);
}

/* The peer's address of a request. */
static void
http_peer_address(struct evhttp_request *req, char *buf, size_t size)
{
	http_evcon_address(evhttp_request_get_connection(req), buf, size);
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

/* 1 if an entry of list (NULL: none) matches ip; loopback is not
 * special here. */
static int
http_list_has(const struct conf_names *list, const char *ip)
{
	size_t	 i;

	if (list == NULL)
		return 0;
	for (i = 0; i < list->count; i++)
		if (list->names[i] != NULL && http_ip_match(list->names[i], ip))
			return 1;
	return 0;
}

int
http_ip_listed(const struct conf_names *list, const char *ip)
{
	struct in_addr	 a4;
	struct in6_addr	 a6;

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
	return http_list_has(list, ip);
}

/* 1 if ip is a loopback address. */
static int
http_ip_loopback(const char *ip)
{
	return http_ip_listed(NULL, ip);
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

/* --- connections: checked at accept, capped, and given a deadline -------- */

static int
http_max_connections(const struct http *h)
{
	return h->conf->http_max_connections > 0 ?
	    h->conf->http_max_connections : HTTP_MAX_CONNECTIONS;
}

static int
http_request_timeout(const struct http *h)
{
	return h->conf->http_request_timeout > 0 ?
	    h->conf->http_request_timeout : HTTP_REQUEST_TIMEOUT;
}

/* 1 if a peer at ip may use /sms, /ussd and /health: http-allow-ip, or
 * loopback (unless a test made loopback an ordinary address). */
static int
http_peer_allowed(const struct http *h, const char *ip)
{
	if (ip == NULL || *ip == '\0')
		return 0;
	if (http_ip_loopback(ip))
		return h->loopback_trusted ||
		    http_list_has(&h->conf->http_allow_ip, ip);
	return http_ip_allowed(h->conf, ip);
}

/*
 * 1 if a peer at ip may open a connection at all: http-allow-ip, or the
 * admin pages' admin-allow-ip when they are on (each request is judged
 * again by its own list).
 */
static int
http_peer_admitted(const struct http *h, const char *ip)
{
	return http_peer_allowed(h, ip) || (h->admin != NULL &&
	    http_ip_listed(&h->conf->admin_allow_ip, ip));
}

/* Accept again, if paused. */
static void
http_resume(struct http *h)
{
	if (!h->paused || h->freeing)
		return;
	evtimer_del(h->resume_ev);
	h->paused = 0;
	if (h->listener != NULL && evconnlistener_enable(h->listener) == -1)
		error(0, "http: cannot accept connections again");
	else
		info(0, "http: accepting connections again (%zu open)",
		    h->nconns);
}

static void
http_resume_cb(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	http_resume(arg);
}

/* The deadline of the next request on c, from now. */
static void
http_conn_arm(struct http_conn *c)
{
	struct timeval	 tv;

	tv.tv_sec = http_request_timeout(c->http);
	tv.tv_usec = 0;
	if (evtimer_add(c->deadline, &tv) == -1)
		error(0, "http: cannot time the request of %s", c->peer);
}

/* evhttp closes c's connection (whoever asked): forget it. */
static void
http_conn_closed_cb(struct evhttp_connection *evcon, void *arg)
{
	struct http_conn	*c = arg;
	struct http		*h = c->http;

	(void)evcon;
	TAILQ_REMOVE(&h->conns, c, entry);
	h->nconns--;
	event_free(c->deadline);
	free(c);
	/* A descriptor came free: worth another accept(). */
	http_resume(h);
}

/* No whole request in time: cut the connection, unless its request is
 * already ours. */
static void
http_conn_deadline_cb(evutil_socket_t fd, short what, void *arg)
{
	struct http_conn	*c = arg;

	(void)fd;
	(void)what;
	if (c->busy)
		return;
	warning(0, "http: %s sent no whole request in %d s; connection "
	    "closed", c->peer, http_request_timeout(c->http));
	evhttp_connection_free(c->evcon);	/* frees c */
}

/* A request of c was answered and written: time the next one. */
static void
http_conn_complete_cb(struct evhttp_request *req, void *arg)
{
	struct http_conn	*c = arg;

	(void)req;
	c->busy = 0;
	http_conn_arm(c);
}

/* The checks of a connection just accepted, before anything is read. */
static void
http_conn_admit(struct http *h, struct http_conn *c)
{
	struct http_conn	*old;

	http_evcon_address(c->evcon, c->peer, sizeof(c->peer));
	if (!http_peer_admitted(h, c->peer)) {
		warning(0, "http: connection from %s refused: not in "
		    "http-allow-ip%s", c->peer[0] ? c->peer : "(unknown)",
		    h->admin != NULL ? " or admin-allow-ip" : "");
		goto refuse;
	}
	if (h->nconns >= (size_t)http_max_connections(h)) {
		TAILQ_FOREACH(old, &h->conns, entry)
			if (!old->busy)
				break;
		if (old == NULL) {
			warning(0, "http: %zu connections open, every one "
			    "waiting for its answer: connection from %s "
			    "refused (http-max-connections)", h->nconns,
			    c->peer);
			goto refuse;
		}
		warning(0, "http: %zu connections open: the oldest without a "
		    "whole request, from %s, closed for a new one "
		    "(http-max-connections)", h->nconns, old->peer);
		evhttp_connection_free(old->evcon);	/* frees old */
	}
	if ((c->deadline = evtimer_new(h->base, http_conn_deadline_cb, c)) ==
	    NULL) {
		error(0, "http: out of memory: connection from %s closed",
		    c->peer);
		goto refuse;
	}
	c->http = h;
	TAILQ_INSERT_TAIL(&h->conns, c, entry);
	h->nconns++;
	evhttp_connection_set_closecb(c->evcon, http_conn_closed_cb, c);
	http_conn_arm(c);
	return;
refuse:
	evhttp_connection_free(c->evcon);
	free(c);
}

/* The connections accepted in this loop pass, checked. */
static void
http_check_cb(evutil_socket_t fd, short what, void *arg)
{
	struct http		*h = arg;
	struct http_conn	*c;
	void			*evcon;

	(void)fd;
	(void)what;
	while ((c = TAILQ_FIRST(&h->fresh)) != NULL) {
		TAILQ_REMOVE(&h->fresh, c, entry);
		/* evhttp's callbacks point at the connection; a freed
		 * bufferevent has none. */
		evcon = NULL;
		bufferevent_getcb(c->bev, NULL, NULL, NULL, &evcon);
		bufferevent_decref(c->bev);
		c->bev = NULL;
		if (evcon == NULL) {
			free(c);
			continue;
		}
		c->evcon = evcon;
		http_conn_admit(h, c);
	}
}

/*
 * evhttp's bufferevent for a connection it has just accepted: noted, to
 * be checked in http_check_cb before the loop polls again.
 */
static struct bufferevent *
http_bev_cb(struct event_base *base, void *arg)
{
	struct http		*h = arg;
	struct http_conn	*c;
	struct bufferevent	*bev;

	if ((bev = bufferevent_socket_new(base, -1, BEV_OPT_CLOSE_ON_FREE)) ==
	    NULL)
		return NULL;
	if ((c = calloc(1, sizeof(*c))) == NULL) {
		/* Closed at once by evhttp (no bufferevent), not served
		 * unchecked. */
		error(errno, "http: out of memory accepting a connection");
		bufferevent_free(bev);
		return NULL;
	}
	bufferevent_incref(bev);
	c->http = h;
	c->bev = bev;
	TAILQ_INSERT_TAIL(&h->fresh, c, entry);
	event_active(h->check_ev, EV_TIMEOUT, 0);
	return bev;
}

/*
 * accept() failed with something other than "try again".  Out of
 * descriptors, the listener would stay readable and libevent would call
 * accept() again at once, for ever: stop accepting for a while instead.
 */
static void
http_accept_error_cb(struct evconnlistener *listener, void *arg)
{
	struct http	*h;
	struct timeval	 tv;
	int		 err = EVUTIL_SOCKET_ERROR(), fd;

	(void)arg;	/* evhttp's own */
	TAILQ_FOREACH(h, &http_servers, all)
		if (h->listener == listener)
			break;
	if (h == NULL)
		return;
	evconnlistener_disable(listener);
	h->paused = 1;
	if ((err == EMFILE || err == ENFILE) && h->spare_fd != -1) {
		/* The client waiting is told at once (closed), not left
		 * hanging in the queue. */
		close(h->spare_fd);
		if ((fd = accept(evconnlistener_get_fd(listener), NULL,
		    NULL)) != -1)
			close(fd);
		h->spare_fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
	}
	warning(err, "http: cannot accept a connection (%zu open); not "
	    "accepting for %d s or until one closes", h->nconns, HTTP_PAUSE);
	tv.tv_sec = HTTP_PAUSE;
	tv.tv_usec = 0;
	if (evtimer_add(h->resume_ev, &tv) == -1)
		error(0, "http: cannot time the pause of accept()");
}

/* The connection c a request came on, or NULL. */
static struct http_conn *
http_conn_of(struct http *h, struct evhttp_request *req)
{
	struct evhttp_connection	*evcon;
	struct http_conn		*c;

	if ((evcon = evhttp_request_get_connection(req)) == NULL)
		return NULL;
	TAILQ_FOREACH(c, &h->conns, entry)
		if (c->evcon == evcon)
			return c;
	return NULL;
}

/* --- the ways in: secrets, and requests that browsers made -------------- */

/* The host part of a Host value (or an Origin's authority), without an
 * IPv6 literal's brackets and without the port.  0 or -1. */
static int
http_host_name(const char *v, char *buf, size_t size)
{
	const char	*end;
	size_t		 n;

	if (*v == '[') {
		if ((end = strchr(v, ']')) == NULL ||
		    (end[1] != '\0' && end[1] != ':'))
			return -1;
		v++;
		n = (size_t)(end - v);
	} else {
		end = strchr(v, ':');
		n = end != NULL ? (size_t)(end - v) : strlen(v);
	}
	if (n == 0 || n >= size)
		return -1;
	memcpy(buf, v, n);
	buf[n] = '\0';
	return 0;
}

/* 1 if name (a Host without its port) names this server. */
static int
http_host_ours(const struct conf *conf, const char *name)
{
	const char	*iface = conf != NULL && conf->http_interface != NULL ?
			    conf->http_interface : "127.0.0.1";
	struct in_addr	 a4;
	struct in6_addr	 a6;
	int		 literal;
	size_t		 i;

	if (strcasecmp(name, "localhost") == 0 || strcasecmp(name, iface) == 0)
		return 1;
	literal = inet_pton(AF_INET, name, &a4) == 1 ||
	    inet_pton(AF_INET6, name, &a6) == 1;
	if (literal && http_ip_loopback(name))
		return 1;
	/* Listening on every address, any address of the machine is ours:
	 * a browser sends an address only for a page of that address. */
	if (literal && (*iface == '\0' || strcmp(iface, "0.0.0.0") == 0 ||
	    strcmp(iface, "::") == 0))
		return 1;
	for (i = 0; conf != NULL && i < conf->http_host_names.count; i++)
		if (strcasecmp(name, conf->http_host_names.names[i]) == 0)
			return 1;
	return 0;
}

const char *
http_request_foreign(const struct conf *conf, struct evhttp_request *req)
{
	struct evkeyvalq	*in = evhttp_request_get_input_headers(req);
	const char		*host, *origin, *site, *p;
	char			 name[256];

	host = evhttp_find_header(in, "Host");
	origin = evhttp_find_header(in, "Origin");
	site = evhttp_find_header(in, "Sec-Fetch-Site");
	if (site != NULL && strcasecmp(site, "same-origin") != 0 &&
	    strcasecmp(site, "none") != 0)
		return "a request made by another site is refused "
		    "(Sec-Fetch-Site)";
	if (host != NULL && (http_host_name(host, name, sizeof(name)) == -1 ||
	    !http_host_ours(conf, name)))
		return "a request for another host is refused (Host; see "
		    "http-host-names)";
	/* "scheme://host[:port]"; "null" from a sandboxed frame, a file or
	 * a data: URL, which are no site of ours either. */
	if (origin != NULL && (host == NULL ||
	    (p = strstr(origin, "://")) == NULL || strcasecmp(p + 3, host) != 0))
		return "a request made by another site is refused (Origin)";
	return NULL;
}

/*
 * 1 if the request carries the secret want (or want is NULL: none is
 * asked), in the header or as the parameter given (len bytes).
 */
static int
http_secret_ok(struct evhttp_request *req, const char *want,
    const char *given, size_t len)
{
	const char	*hdr;

	if (want == NULL)
		return 1;
	hdr = evhttp_find_header(evhttp_request_get_input_headers(req),
	    HTTP_SECRET_HEADER);
	if (hdr != NULL && admin_password_equal(hdr, strlen(hdr), want))
		return 1;
	return given != NULL && admin_password_equal(given, len, want);
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
		/* Nothing of it was kept: the client sends it again. */
		evhttp_add_header(evhttp_request_get_output_headers(p->req),
		    "Retry-After", HTTP_RETRY_AFTER);
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

/* GET or POST /sms: an MO.  Answered now (400, 415, 500: 0 returned)
 * or after the commit (http_sms_done_cb, which frees p: 1). */
static int
http_sms(struct http *h, struct evhttp_request *req, const char *peer,
    struct http_pending *p)
{
	struct http_form	 f;
	struct mo		 mo;
	const struct evhttp_uri	*uri = evhttp_request_get_evhttp_uri(req);
	const char		*query, *why;
	char			*body = NULL, *text = NULL, *id = NULL;
	char			 uuid[UUID_STR_LEN + 1];
	uuid_t			 uu;
	size_t			 blen, tlen, replaced = 0;
	int			 coding, taken = 0;

	memset(&f, 0, sizeof(f));
	if (evhttp_request_get_command(req) == EVHTTP_REQ_POST) {
		if (!http_is_form(req)) {
			http_reply_text(req, 415, NULL, "unsupported content "
			    "type: use application/x-www-form-urlencoded");
			return 0;
		}
		if ((body = http_body(req, &blen)) == NULL ||
		    http_form_parse(&f, body, blen) == -1)
			goto oom;
	}
	/* The query fills what a form body did not give. */
	query = uri != NULL ? evhttp_uri_get_query(uri) : NULL;
	if (query != NULL && http_form_parse(&f, query, strlen(query)) == -1)
		goto oom;

	if (!http_secret_ok(req, h->conf->sms_secret,
	    f.value[HTTP_FIELD_SECRET], f.len[HTTP_FIELD_SECRET])) {
		warning(0, "http: /sms from %s refused: no or wrong "
		    "sms-secret", peer);
		http_reply_text(req, 403, "Forbidden", "forbidden: this way "
		    "in needs its secret (sms-secret)");
		goto out;
	}
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
	    f.value[HTTP_FIELD_TO] : h->conf->global_sender;
	mo.text = text;
	mo.coding = coding;
	mo.smsc_id = f.value[HTTP_FIELD_SMSC] != NULL &&
	    f.len[HTTP_FIELD_SMSC] > 0 ? f.value[HTTP_FIELD_SMSC] : NULL;
	mo.meta_data = NULL;
	mo.time = (long long)time(NULL);
	mo.reply_inline = 1;

	/* p is in the list: the inbox may call back before it returns. */
	debug("mb.http", 0, "http: MO %s from %s to %s via %s", id, mo.sender,
	    mo.receiver, peer);
	if (inbox_receive(h->inbox, &mo, http_sms_done_cb, p) == -1)
		http_reply_text(req, 400, "Bad Request", "message refused");
	else
		taken = 1;
	goto out;
oom:
	error(0, "http: out of memory taking an MO from %s", peer);
	http_reply_text(req, 500, "Internal Server Error", "out of memory");
out:
	http_form_clear(&f);
	free(body);
	free(text);
	free(id);
	return taken;
}

/* --- /ussd: the aggregators' USSD callback ---------------------------------- */

#define HTTP_USSD_FIELDS	6

/* The callback's form fields, in the order of http_ussd_names. */
enum { HTTP_USSD_SESSION, HTTP_USSD_SERVICE, HTTP_USSD_PHONE,
	HTTP_USSD_NETWORK, HTTP_USSD_TEXT, HTTP_USSD_SECRET };
static const char *const http_ussd_names[HTTP_USSD_FIELDS] = {
	"sessionId", "serviceCode", "phoneNumber", "networkCode", "text",
	"secret"
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
	if (status == INBOX_FAILED) {
		evhttp_add_header(evhttp_request_get_output_headers(p->req),
		    "Retry-After", HTTP_RETRY_AFTER);
		http_reply_text(p->req, 503, "Service Unavailable",
		    "END try again");
	} else
		http_reply_text(p->req, 200, "OK", reply != NULL ? reply :
		    "END Sorry, that could not be done just now.");
	free(p);
}

/*
 * POST (or GET) /ussd: sessionId, serviceCode, phoneNumber, networkCode
 * and text (the inputs so far joined by '*').  The MO goes through the
 * inbox like any other, with channel "ussd", id
 * "ussd:<phoneNumber>:<sessionId>:<text>"
 * (a retried request is a duplicate and gets the same screen) and the
 * session in its meta_data; ussd.c answers it.
 */
static int
http_ussd(struct http *h, struct evhttp_request *req, const char *peer,
    struct http_pending *p)
{
	const struct evhttp_uri	*uri = evhttp_request_get_evhttp_uri(req);
	struct mo		 mo;
	char			*value[HTTP_USSD_FIELDS] = { NULL };
	size_t			 len[HTTP_USSD_FIELDS] = { 0 };
	char			*body = NULL, *text = NULL, *id = NULL;
	char			*meta = NULL, *enc[3] = { NULL };
	const char		*query, *why = NULL;
	size_t			 blen, tlen, replaced = 0;
	int			 i, taken = 0;

	if (evhttp_request_get_command(req) == EVHTTP_REQ_POST) {
		if (!http_is_form(req)) {
			http_reply_text(req, 415, NULL, "unsupported content "
			    "type: use application/x-www-form-urlencoded");
			return 0;
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

	if (!http_secret_ok(req, h->conf->ussd_secret,
	    value[HTTP_USSD_SECRET], len[HTTP_USSD_SECRET])) {
		warning(0, "http: /ussd from %s refused: no or wrong "
		    "ussd-secret", peer);
		http_reply_text(req, 403, "Forbidden", "END forbidden: this "
		    "way in needs its secret (ussd-secret)");
		goto out;
	}
	if (h->ussd == NULL) {
		http_reply_text(req, 404, "Not Found", "no USSD menus");
		goto out;
	}
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
	/* Per phone, as the session is (ussd.c): see http_sms. */
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
	    h->conf->global_sender;
	mo.text = text;
	mo.coding = 0;
	mo.meta_data = meta;
	mo.time = (long long)time(NULL);
	mo.reply_inline = 1;

	debug("mb.http", 0, "http: USSD %s from %s via %s", id, mo.sender,
	    peer);
	if (inbox_receive(h->inbox, &mo, http_ussd_done_cb, p) == -1)
		http_reply_text(req, 400, "Bad Request", "message refused");
	else
		taken = 1;
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
	return taken;
}

/*
 * Say once, at start (when the USSD engine is known) and on a reload, when a way in is open to others than
 * this machine without a secret: any host allowed could then post as any
 * phone.
 */
static void
http_warn_open(const struct http *h)
{
	const struct conf	*conf = h->conf;
	int			 wide;

	wide = conf->http_allow_ip.count > 0;
	if (!wide)
		return;
	if (conf->sms_secret == NULL)
		warning(0, "http: /sms takes MOs from every http-allow-ip "
		    "host without a secret: set sms-secret");
	if (h->ussd != NULL && conf->ussd_secret == NULL)
		warning(0, "http: /ussd takes sessions from every "
		    "http-allow-ip host without a secret: set ussd-secret");
}

void
http_set_ussd(struct http *h, struct ussd *ussd)
{
	if (h == NULL)
		return;
	h->ussd = ussd;
	http_warn_open(h);
}

void
http_set_loopback_trusted(struct http *h, int trusted)
{
	if (h != NULL)
		h->loopback_trusted = trusted;
}

/*
 * What reaches the store, as a store task (store.h).  The request waits
 * in h->pending meanwhile, as one waiting for a commit does: a client
 * that goes leaves it to us (libevent frees it when it is answered), and
 * http_free() answers it and detaches p, which is then only freed here.
 */
static void
http_task(void *arg)
{
	struct http_pending	*p = arg;
	struct http		*h = p->http;

	if (h == NULL) {
		free(p);
		return;
	}
	switch (p->route) {
	case HTTP_ROUTE_SMS:
		if (http_sms(h, p->req, p->peer, p))
			return;		/* the inbox's now */
		break;
	case HTTP_ROUTE_USSD:
		if (http_ussd(h, p->req, p->peer, p))
			return;
		break;
	case HTTP_ROUTE_ADMIN:
		if (h->admin != NULL)
			admin_handle(h->admin, p->req, p->peer);
		else
			http_reply_text(p->req, 503, "Service Unavailable",
			    "shutting down");
		break;
	}
	TAILQ_REMOVE(&h->pending, p, entry);
	free(p);
}

/* Answer req from a store task (http_task). */
static void
http_defer(struct http *h, struct evhttp_request *req, const char *peer,
    enum http_route route)
{
	struct http_pending	*p;

	if ((p = calloc(1, sizeof(*p))) == NULL) {
		error(0, "http: out of memory taking a request from %s", peer);
		http_reply_text(req, 500, "Internal Server Error",
		    "out of memory");
		return;
	}
	p->http = h;
	p->req = req;
	p->route = route;
	snprintf(p->peer, sizeof(p->peer), "%s", peer);
	TAILQ_INSERT_TAIL(&h->pending, p, entry);
	if (h->store == NULL)
		http_task(p);
	else if (store_task(h->store, http_task, p) == -1) {
		TAILQ_REMOVE(&h->pending, p, entry);
		free(p);
		http_reply_text(req, 500, "Internal Server Error",
		    "out of memory");
	}
}

/* Every request: access, method, then the path. */
static void
http_request_cb(struct evhttp_request *req, void *arg)
{
	struct http		*h = arg;
	struct http_conn	*c;
	const struct evhttp_uri	*uri;
	const char		*path = NULL, *why;
	char			 peer[INET6_ADDRSTRLEN + 8];
	enum evhttp_cmd_type	 method = evhttp_request_get_command(req);

	/* The request is whole and ours: no deadline until it is answered
	 * (a commit may take its time). */
	if ((c = http_conn_of(h, req)) != NULL) {
		c->busy = 1;
		evtimer_del(c->deadline);
		evhttp_request_set_on_complete_cb(req, http_conn_complete_cb,
		    c);
	}
	http_peer_address(req, peer, sizeof(peer));
	/* The admin pages have their own allow-list and password. */
	if (h->admin != NULL && (uri = evhttp_request_get_evhttp_uri(req)) !=
	    NULL && admin_path_is_ours(evhttp_uri_get_path(uri))) {
		http_defer(h, req, peer, HTTP_ROUTE_ADMIN);
		return;
	}
	if (!http_peer_allowed(h, peer)) {
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
	if ((strcmp(path, "/sms") == 0 || strcmp(path, "/ussd") == 0) &&
	    (why = http_request_foreign(h->conf, req)) != NULL) {
		warning(0, "http: %s from %s refused: %s", path, peer, why);
		http_reply_text(req, 403, "Forbidden", why);
		return;
	}
	if (strcmp(path, "/sms") == 0)
		http_defer(h, req, peer, HTTP_ROUTE_SMS);
	else if (strcmp(path, "/ussd") == 0)
		http_defer(h, req, peer, HTTP_ROUTE_USSD);
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
	struct http			*h;
	struct evhttp_bound_socket	*bound;
	const char			*iface;

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
	h->store = outbox != NULL ? outbox_store(outbox) : NULL;
	h->port = conf->http_port;
	h->loopback_trusted = 1;
	TAILQ_INIT(&h->pending);
	TAILQ_INIT(&h->fresh);
	TAILQ_INIT(&h->conns);
	TAILQ_INSERT_TAIL(&http_servers, h, all);
	/* Kept for the instant descriptors run out (http_accept_error_cb). */
	if ((h->spare_fd = open("/dev/null", O_RDONLY | O_CLOEXEC)) == -1)
		warning(errno, "http: cannot keep a spare descriptor");
	if ((h->check_ev = event_new(base, -1, 0, http_check_cb, h)) == NULL ||
	    (h->resume_ev = evtimer_new(base, http_resume_cb, h)) == NULL) {
		error(0, "http: out of memory");
		goto fail;
	}
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
	evhttp_set_bevcb(h->evh, http_bev_cb, h);
	if ((bound = evhttp_bind_socket_with_handle(h->evh, h->interface,
	    (ev_uint16_t)h->port)) == NULL) {
		error(errno, "http: cannot listen on %s:%d", h->interface,
		    h->port);
		goto fail;
	}
	h->listener = evhttp_bound_socket_get_listener(bound);
	evconnlistener_set_error_cb(h->listener, http_accept_error_cb);
	info(0, "http: listening on %s:%d (at most %d connections, %d s for "
	    "a request)", h->interface, h->port, http_max_connections(h),
	    http_request_timeout(h));
	return h;
fail:
	http_free(h);
	return NULL;
}

void
http_free(struct http *h)
{
	struct http_pending	*p;
	struct http_conn	*c;

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
	/* Connections accepted but not yet checked: evhttp frees them
	 * below; their bufferevents are ours to let go. */
	h->freeing = 1;
	while ((c = TAILQ_FIRST(&h->fresh)) != NULL) {
		TAILQ_REMOVE(&h->fresh, c, entry);
		bufferevent_decref(c->bev);
		free(c);
	}
	if (h->evh != NULL)
		evhttp_free(h->evh);	/* closes h->conns, one by one */
	if (h->check_ev != NULL)
		event_free(h->check_ev);
	if (h->resume_ev != NULL)
		event_free(h->resume_ev);
	if (h->spare_fd != -1)
		close(h->spare_fd);
	TAILQ_REMOVE(&http_servers, h, all);
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
	http_warn_open(h);
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
	int				 acking;	/* the ack task is
							   queued or under way */
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
http_sendsms_ack_task(void *arg)
{
	struct http_sendsms	*s = arg;
	struct http_sendsms_req	*r;

	/* Answers that come while an ack waits for the database join in. */
	while ((r = TAILQ_FIRST(&s->answered)) != NULL) {
		TAILQ_REMOVE(&s->answered, r, entry);
		outbox_ack(s->outbox, r->kannel_id, r->ack);
		http_sendsms_req_free(r);
	}
	s->acking = 0;
}

static void
http_sendsms_ack_cb(evutil_socket_t fd, short what, void *arg)
{
	struct http_sendsms	*s = arg;

	(void)fd;
	(void)what;
	if (s->acking)
		return;
	s->acking = 1;
	if (store_task(outbox_store(s->outbox), http_sendsms_ack_task,
	    s) == -1)
		s->acking = 0;	/* the next answer tries again */
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
	char			 shown[1024];
	int			 rc = -1, gai;

	/* Logged only with its password masked. */
	urlcode_mask(url, shown, sizeof(shown));
	if ((u = evhttp_uri_parse_with_flags(url, 0)) == NULL) {
		error(0, "sendsms: sendsms-url '%s' is not a URL", shown);
		return -1;
	}
	scheme = evhttp_uri_get_scheme(u);
	host = evhttp_uri_get_host(u);
	if (scheme == NULL || strcasecmp(scheme, "http") != 0) {
		error(0, "sendsms: sendsms-url '%s': only http:// is supported",
		    shown);
		goto out;
	}
	if (host == NULL || *host == '\0') {
		error(0, "sendsms: sendsms-url '%s' has no host", shown);
		goto out;
	}
	*port = evhttp_uri_get_port(u);
	if (*port == -1)
		*port = 80;
	if (*port <= 0 || *port > 65535) {
		error(0, "sendsms: sendsms-url '%s': bad port", shown);
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
	char			 addr[NI_MAXHOST], shown[1024];
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
	info(0, "sendsms: notices leave through %s%s", s->host,
	    urlcode_mask(s->target, shown, sizeof(shown)));
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
