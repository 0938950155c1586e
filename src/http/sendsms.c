/*
 * sendsms.c - the sendsms link: an outbox link that hands each MT to
 * smsbox's sendsms interface (GET sendsms-url&from=&to=&text=...) over one
 * kept keep-alive connection, at most HTTP_SENDSMS_INFLIGHT requests at a
 * time.
 *
 * smsbox's answer is turned into an outbox ack: 2xx accepted ("3: Queued
 * for later delivery" buffered), 4xx failed, anything else (5xx, no
 * connection, a timeout) failed for now and retried.  Acks are passed to
 * the outbox from a zero-timeout event, never from inside the link's send
 * or evhttp's callback stack, so the outbox is never re-entered.  Delivery
 * reports are not asked back through smsbox (no dlr-url is sent): over
 * sendsms a notice ends in accepted or buffered.
 *
 * A client of another HTTP server, it shares nothing with the server in
 * server.c but the header.
 */
#include "config.h"

#include <sys/types.h>
#include <sys/queue.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "base/gw.h"

/* After libgw: its gwlib/http.h has an enum that event2/http.h's macros
 * (HTTP_OK ...) would otherwise break. */
#include <event2/buffer.h>
#include <event2/event.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>

#include "base/conf.h"
#include "base/urlcode.h"
#include "http/http.h"
#include "queue/outbox.h"
#include "store/store.h"

#define HTTP_SENDSMS_INFLIGHT	10		/* requests queued or sent */
#define HTTP_SENDSMS_TIMEOUT	30		/* seconds */

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
