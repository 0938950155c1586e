/*
 * server.c - marketbox's HTTP server: connections, the table of handlers,
 * and the calls it hands them.
 *
 * The server (libevent's evhttp) knows no path of its own: it serves the
 * entries registered at start-up with http_handle() (http.h), by the ways
 * in (waysin.c) and the operators' pages (src/admin).
 * A request goes:
 *
 *	1. its entry is found by its path (exact, else the longest prefix);
 *	   a path nobody serves is judged as a PEER entry and answered 404;
 *	2. the entry's access (access.c) judges the peer and the method, then
 *	   the entry's own rules (a browser's request for another site, the
 *	   admin password and its lock-out, the entry's methods, ...);
 *	3. the call (struct http_call) is made and waits in the pending list:
 *	   for its store task if the entry asks for one, then for whatever
 *	   its function waits for;
 *	4. a form's body is read (415 if it is not one), the entry's secret
 *	   checked, and the entry's function has the call, answered now or
 *	   later, exactly once.
 *
 * Requests are bounded (headers, body, a read/write timeout) by evhttp.
 *
 * Connections are held to account from the moment they are accepted (a
 * flood of idle or trickling clients must not use up the descriptors):
 *
 *	- a peer no entry would admit (http-allow-ip, or admin-allow-ip when
 *	  admin entries are registered) is closed before a byte of it is
 *	  read;
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
 * Lifetime of a call waiting: libevent 2.1 keeps an incoming request
 * until it is answered.  While it waits, evhttp has reading disabled on
 * its connection, so a client that goes away is only noticed when the
 * answer is written, after evhttp_send_reply(); and if libevent does
 * notice a close first (EOF or timeout while the request is not
 * answered), it unlinks the request from the connection instead of
 * freeing it, and evhttp_send_reply() then frees it.  Either way the
 * request pointer is valid until we answer it exactly once.  The one
 * place it is freed behind our back is evhttp_free(), so http_free()
 * first answers every waiting call and detaches it; whoever holds it (a
 * store task, the inbox's done callback) later finds it detached, and
 * answering it then only frees it.
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

#include "base/conf.h"
#include "http/http.h"
#include "http/http_int.h"
#include "store/store.h"

#define HTTP_MAX_HEADERS	(8 * 1024)	/* request line and headers */
#define HTTP_MAX_BODY		(64 * 1024)
#define HTTP_TIMEOUT		30		/* seconds, read and write */
#define HTTP_MAX_CONNECTIONS	128		/* conf default */
#define HTTP_REQUEST_TIMEOUT	10		/* conf default, seconds */
#define HTTP_PAUSE		1		/* seconds without accept() */

/*
 * Every server, to find one from its listener: libevent calls a
 * listener's error callback with evhttp's argument, not ours.
 */
static TAILQ_HEAD(, http) http_servers = TAILQ_HEAD_INITIALIZER(http_servers);

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

/* See http_int.h. */
void
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


/* 1 if an entry of this access is registered. */
static int
http_has_access(const struct http *h, enum http_access access)
{
	size_t	 i;

	for (i = 0; i < h->nentries; i++)
		if (h->entries[i].h.access == access)
			return 1;
	return 0;
}

/*
 * 1 if a peer at ip may open a connection at all: if the access of any
 * entry would admit it (a path nobody serves is judged as a PEER entry,
 * so http-allow-ip always does).  Each request is judged again by the
 * access of its own entry.
 */
static int
http_peer_admitted(const struct http *h, const char *ip)
{
	size_t	 i;

	if (http_access_admits(h, HTTP_ACCESS_PEER, ip))
		return 1;
	for (i = 0; i < h->nentries; i++)
		if (http_access_admits(h, h->entries[i].h.access, ip))
			return 1;
	return 0;
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
		    http_has_access(h, HTTP_ACCESS_ADMIN) ?
		    " or admin-allow-ip" : "");
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

void
http_set_loopback_trusted(struct http *h, int trusted)
{
	if (h != NULL)
		h->loopback_trusted = trusted;
}

/* --- the table ------------------------------------------------------------ */

/*
 * Say once, at start and on a reload, when an entry is open to others
 * than this machine without its secret: any host allowed could then post
 * as any phone.
 */
static void
http_warn_open(const struct http *h, const struct http_entry *e)
{
	const struct conf	*conf = h->conf;

	if (conf->http_allow_ip.count > 0 && e->h.unset_warning != NULL &&
	    e->h.secret != NULL && e->h.secret(conf) == NULL)
		warning(0, "%s", e->h.unset_warning);
}

int
http_handle(struct http *h, const struct http_handler *handler, void *arg)
{
	struct http_entry	*e;
	size_t			 i;

	if (h == NULL || handler == NULL || handler->path == NULL ||
	    handler->fn == NULL) {
		error(0, "http: a handler needs a path and a function");
		return -1;
	}
	for (i = 0; i < h->nentries; i++)
		if (strcmp(h->entries[i].h.path, handler->path) == 0) {
			error(0, "http: %s is served already", handler->path);
			return -1;
		}
	if (h->nentries == HTTP_MAX_HANDLERS) {
		error(0, "http: more than %d handlers", HTTP_MAX_HANDLERS);
		return -1;
	}
	e = &h->entries[h->nentries++];
	e->h = *handler;
	e->arg = arg;
	http_warn_open(h, e);
	return 0;
}

/* The entry of path: the one of that path, else the longest prefix that
 * matches; NULL if none. */
static const struct http_entry *
http_entry_find(const struct http *h, const char *path)
{
	const struct http_entry	*e, *best = NULL;
	size_t			 i, n;

	for (i = 0; i < h->nentries; i++) {
		e = &h->entries[i];
		if (strcmp(e->h.path, path) == 0)
			return e;
		/* A prefix covers whole path segments: "/pay" takes
		 * "/pay/x", not "/payment". */
		n = strlen(e->h.path);
		if (e->h.prefix && strncmp(e->h.path, path, n) == 0 &&
		    (n > 0 && (e->h.path[n - 1] == '/' || path[n] == '/')) &&
		    (best == NULL || n > strlen(best->h.path)))
			best = e;
	}
	return best;
}

/* --- calls ------------------------------------------------------------------ */

/* Forget call: out of the pending list, freed.  Its request is answered
 * or someone else's. */
static void
http_call_free(struct http_call *call)
{
	if (call->http != NULL)
		TAILQ_REMOVE(&call->http->pending, call, entry);
	evhttp_clear_headers(&call->params);
	free(call->body);
	free(call);
}

struct evhttp_request *
http_call_request(struct http_call *call)
{
	return call->req;
}

const char *
http_call_peer(const struct http_call *call)
{
	return call->peer;
}

const char *
http_call_path(const struct http_call *call)
{
	return call->path;
}

const struct conf *
http_call_conf(const struct http_call *call)
{
	return call->http != NULL ? call->http->conf : NULL;
}

int
http_call_post(const struct http_call *call)
{
	return call->req != NULL &&
	    evhttp_request_get_command(call->req) == EVHTTP_REQ_POST;
}

const char *
http_call_query(const struct http_call *call)
{
	return call->query;
}

const char *
http_call_body(const struct http_call *call, size_t *len)
{
	*len = call->body_len;
	return call->body;
}

struct evkeyvalq *
http_call_params(struct http_call *call)
{
	return &call->params;
}

void
http_call_header(struct http_call *call, const char *name, const char *value)
{
	if (call->req != NULL)
		evhttp_add_header(evhttp_request_get_output_headers(call->req),
		    name, value);
}

void
http_call_text(struct http_call *call, int code, const char *reason,
    const char *body)
{
	if (call->req != NULL)
		http_reply_text(call->req, code, reason, body);
	http_call_free(call);
}

void
http_call_send(struct http_call *call, int code, const char *reason,
    struct evbuffer *body)
{
	if (call->req != NULL)
		evhttp_send_reply(call->req, code, reason, body);
	http_call_free(call);
}

struct evhttp_request *
http_call_take(struct http_call *call)
{
	struct evhttp_request	*req = call->req;

	http_call_free(call);
	return req;
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
 * The call's entry runs: the form's body is read (415, 413), the secret
 * checked, then the entry's function has the call.
 */
static void
http_call_run(struct http *h, struct http_call *call)
{
	const struct http_handler	*e = &call->e->h;
	struct evhttp_request		*req = call->req;
	struct evbuffer			*in;

	if (e->max_body > 0 && (in = evhttp_request_get_input_buffer(req)) !=
	    NULL && evbuffer_get_length(in) > e->max_body) {
		http_access_answer(req, e->access, e->json_errors, 413,
		    "Payload Too Large", "request body too large");
		http_call_free(call);
		return;
	}
	if (e->form && http_call_post(call)) {
		if (!http_is_form(req)) {
			http_reply_text(req, 415, NULL, "unsupported content "
			    "type: use application/x-www-form-urlencoded");
			http_call_free(call);
			return;
		}
		if ((call->body = http_body(req, &call->body_len)) == NULL) {
			error(0, "http: out of memory taking a request from "
			    "%s", call->peer);
			http_call_text(call, 500, "Internal Server Error",
			    "out of memory");
			return;
		}
	}
	if (!http_access_secret(h, call)) {
		http_call_free(call);
		return;
	}
	e->fn(call, call->e->arg);
}

/*
 * An entry that reaches the store runs as a store task (store.h).  The
 * request waits in h->pending meanwhile, as one waiting for a commit
 * does: a client that goes leaves it to us (libevent frees it when it is
 * answered), and http_free() answers it and detaches the call, which is
 * then only freed here.
 */
static void
http_task(void *arg)
{
	struct http_call	*call = arg;

	if (call->http == NULL) {
		http_call_free(call);
		return;
	}
	http_call_run(call->http, call);
}

/*
 * Every request: the peer and the method, by the access of the path's
 * entry (PEER for a path nobody serves), then the entry's own rules, then
 * the entry, now or as a store task.
 */
static void
http_request_cb(struct evhttp_request *req, void *arg)
{
	struct http		*h = arg;
	struct http_conn	*c;
	struct http_call	*call;
	const struct evhttp_uri	*uri;
	const struct http_entry	*e;
	const char		*path = NULL, *query = NULL;
	char			 peer[HTTP_PEER_LEN];

	/* The request is whole and ours: no deadline until it is answered
	 * (a commit may take its time). */
	if ((c = http_conn_of(h, req)) != NULL) {
		c->busy = 1;
		evtimer_del(c->deadline);
		evhttp_request_set_on_complete_cb(req, http_conn_complete_cb,
		    c);
	}
	http_peer_address(req, peer, sizeof(peer));
	if ((uri = evhttp_request_get_evhttp_uri(req)) != NULL) {
		path = evhttp_uri_get_path(uri);
		query = evhttp_uri_get_query(uri);
	}
	if (path == NULL || *path == '\0')
		path = "/";
	e = http_entry_find(h, path);
	if (!http_access_peer(h, e != NULL ? e->h.access : HTTP_ACCESS_PEER,
	    req, peer, path))
		return;
	if (e == NULL) {
		debug("mb.http", 0, "http: %s asked for %s: 404", peer, path);
		http_reply_text(req, 404, "Not Found", "not found");
		return;
	}
	if ((call = calloc(1, sizeof(*call))) == NULL) {
		error(0, "http: out of memory taking a request from %s", peer);
		http_reply_text(req, 500, "Internal Server Error",
		    "out of memory");
		return;
	}
	call->http = h;
	call->req = req;
	call->e = e;
	call->path = path;
	call->query = query;
	TAILQ_INIT(&call->params);
	snprintf(call->peer, sizeof(call->peer), "%s", peer);
	TAILQ_INSERT_TAIL(&h->pending, call, entry);
	if (!http_access_entry(h, call)) {
		http_call_free(call);
		return;
	}
	if (!e->h.store_task || h->store == NULL)
		http_call_run(h, call);
	else if (store_task(h->store, http_task, call) == -1)
		http_call_text(call, 500, "Internal Server Error",
		    "out of memory");
}

struct http *
http_new(struct event_base *base, const struct conf *conf,
    struct store *store)
{
	struct http			*h;
	struct evhttp_bound_socket	*bound;
	const char			*iface;

	if (base == NULL || conf == NULL) {
		error(0, "http: needs a loop and a conf");
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
	h->store = store;
	h->port = conf->http_port;
	http_form_token_make(h);
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
	struct http_call	*call;
	struct http_conn	*c;

	if (h == NULL)
		return;
	/*
	 * Calls still waiting (for their task, for a commit): answer them
	 * (so a request libevent already unlinked from its connection is
	 * freed) and detach them, to be freed by whoever holds them (the
	 * inbox, when it calls back).  An MO may yet commit: a client
	 * retrying with the same id gets the stored reply.
	 */
	while ((call = TAILQ_FIRST(&h->pending)) != NULL) {
		TAILQ_REMOVE(&h->pending, call, entry);
		http_reply_text(call->req, 503, "Service Unavailable",
		    "shutting down; try again");
		call->req = NULL;
		call->http = NULL;
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
http_set_conf(struct http *h, const struct conf *conf)
{
	const char	*iface;
	size_t		 i;

	if (h == NULL || conf == NULL)
		return;
	iface = conf->http_interface != NULL ? conf->http_interface :
	    "127.0.0.1";
	if (conf->http_port != h->port || strcmp(iface, h->interface) != 0)
		warning(0, "http: reload: http-port and http-interface "
		    "changes need a restart; still listening on %s:%d",
		    h->interface, h->port);
	h->conf = conf;
	for (i = 0; i < h->nentries; i++)
		http_warn_open(h, &h->entries[i]);
}
