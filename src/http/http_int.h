/*
 * http_int.h - what the HTTP server (server.c) and its access rules
 * (access.c) share: the server's state, its table, a call.  Not for use
 * outside src/http: handlers see struct http_call through http.h only.
 */
#ifndef MARKETBOX_HTTP_INT_H
#define MARKETBOX_HTTP_INT_H

#include <sys/queue.h>
#include <netinet/in.h>
#include <stddef.h>
#include <time.h>

#include <event2/keyvalq_struct.h>

#include "http/http.h"

#define HTTP_MAX_HANDLERS	32	/* entries of the table */
#define HTTP_FAIL_SLOTS		64	/* addresses whose wrong admin
					   passwords are counted */
#define HTTP_PEER_LEN		(INET6_ADDRSTRLEN + 8)

struct evhttp_request;

/* One registered entry. */
struct http_entry {
	struct http_handler	 h;
	void			*arg;
};

/* Wrong admin passwords counted for one address, and its lock-out. */
struct http_failures {
	char		 ip[64];
	unsigned	 count;
	time_t		 last;
	double		 until;		/* monotonic: locked out until */
};

/*
 * A request in the server's hands, from the moment its entry is found
 * until it is answered (http_call_text, http_call_send) or taken over
 * (http_call_take).  It waits in http.pending meanwhile: for its store
 * task, then for whatever its handler waits for (a commit).  http_free()
 * answers every waiting one 503 and detaches it (http and req NULL);
 * the one who holds it then only frees it.
 */
struct http_call {
	TAILQ_ENTRY(http_call)	 entry;
	struct http		*http;		/* NULL once detached */
	struct evhttp_request	*req;		/* NULL once detached */
	const struct http_entry	*e;
	const char		*path;		/* in req's URI */
	const char		*query;		/* in req's URI, or NULL */
	char			*body;		/* .form POSTs; malloc'd */
	size_t			 body_len;
	struct evkeyvalq	 params;	/* ADMIN: the decoded query */
	char			 peer[HTTP_PEER_LEN];
};

TAILQ_HEAD(http_calls, http_call);

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
	char				 peer[HTTP_PEER_LEN];
};

TAILQ_HEAD(http_conns, http_conn);

struct http {
	TAILQ_ENTRY(http)		 all;
	struct event_base		*base;
	const struct conf		*conf;
	struct store			*store;		/* runs the tasks */
	struct evhttp			*evh;
	char				*interface;	/* as bound */
	int				 port;
	struct http_entry		 entries[HTTP_MAX_HANDLERS];
	size_t				 nentries;
	struct http_calls		 pending;
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
	/* The admin pages' wrong passwords (access.c). */
	struct http_failures		 failures[HTTP_FAIL_SLOTS];
	unsigned long long		 auth_failures;
	char				 form_token[33];	/* access.c */
};

/* --- server.c -------------------------------------------------------------- */

/* Answer req with code and a text/plain body.  req is gone after this. */
void	 http_reply_text(struct evhttp_request *, int code,
	    const char *reason, const char *body);

/* --- access.c -------------------------------------------------------------- */

/* Make h's form token (http_form_token), at http_new. */
void	 http_form_token_make(struct http *);

/* 1 if a peer at ip may use an entry of this access at all. */
int	 http_access_admits(const struct http *, enum http_access,
	    const char *ip);

/*
 * The peer's check (before anything of the request is looked at), then
 * GET or POST: 1 if the request goes on, 0 if it was answered (403, 405)
 * in the style of access.
 */
int	 http_access_peer(struct http *, enum http_access,
	    struct evhttp_request *, const char *peer, const char *path);

/*
 * The entry's rules, in the order of http.h (the secret apart): 1 if the
 * call goes on, 0 if its request was answered (the call is then the
 * server's to free).
 */
int	 http_access_entry(struct http *, struct http_call *);

/* The entry's secret (NETWORK): 1 if given or none asked, else 0 with
 * the request answered 403.  0 also (answered 500) if memory runs out. */
int	 http_access_secret(struct http *, struct http_call *);

/* An answer in the style of access (text; JSON if json). */
void	 http_access_answer(struct evhttp_request *, enum http_access,
	    int json, int code, const char *reason, const char *text);

#endif
