/*
 * http.h - marketbox's HTTP server, the table of handlers it serves, the
 * access rules it applies before any handler runs, and the sendsms
 * client link used when notices leave through an smsbox instead of a
 * bearerbox link.
 *
 * The server knows no path of its own: whoever serves something on the
 * HTTP port registers it at start-up with http_handle() (the ways in,
 * waysin.c, register /sms, /ussd and /health; the admin pages register
 * theirs).  For each request the server finds the entry of its path,
 * applies the entry's access rule (access.c) and only then calls the
 * entry's function with a call it owns (struct http_call), answered now
 * or later, exactly once.
 */
#ifndef MARKETBOX_HTTP_H
#define MARKETBOX_HTTP_H

#include <stddef.h>

struct conf;
struct conf_names;
struct event_base;
struct evbuffer;
struct evhttp_request;
struct evkeyvalq;
struct inbox;
struct outbox;
struct store;
struct http;
struct http_call;

/*
 * Start listening on http-interface:http-port (conf http-port must be
 * non-zero).  Entries that ask for it (store_task) run as store tasks of
 * store (NULL: at once).  Returns NULL (logged) if the port cannot be
 * bound.  The server serves nothing until handlers are registered: every
 * path is answered 404.
 */
struct http	*http_new(struct event_base *, const struct conf *,
		    struct store *);
/*
 * Answer every call still waiting 503 and stop.  The handlers' arguments
 * may be freed before, provided no loop pass runs in between (the
 * daemon's stop: the admin answers what it keeps, then the server goes).
 */
void		 http_free(struct http *);
void		 http_set_conf(struct http *, const struct conf *);

/* --- the table ------------------------------------------------------------ */

/* Methods an entry takes (GET and POST are the only ones served). */
#define HTTP_GET	0x01
#define HTTP_POST	0x02

/*
 * Who may use an entry, checked by the server in this order before the
 * entry's function runs (see access.c for each answer):
 *
 * HTTP_ACCESS_PEER	loopback or http-allow-ip (403); methods (405).
 * HTTP_ACCESS_NETWORK	a way in for other machines: as PEER, then a
 *			request a browser made for another site or for a
 *			foreign Host is refused (403), then (with .form)
 *			415 for a body that is not a form, then the
 *			entry's secret (403).
 * HTTP_ACCESS_ADMIN	the operators' pages: loopback or admin-allow-ip
 *			(403); GET or POST (405); a query that parses
 *			(400); a POST a browser made for another site
 *			(403); an address locked out after a wrong
 *			password (429, before any password is looked at);
 *			admin-password from ?password= or HTTP Basic (403
 *			when there is none, 401 missing, 401 wrong:
 *			counted, and the address locked out for a while);
 *			the entry's methods (405); a POST must carry the
 *			header X-Marketbox-Admin (403).  Answers carry
 *			the private headers (http_private_headers).
 */
enum http_access {
	HTTP_ACCESS_PEER,
	HTTP_ACCESS_NETWORK,
	HTTP_ACCESS_ADMIN
};

/*
 * One entry: a path (or, with prefix, every path under it: "/pay"
 * takes "/pay/x" but not "/payment"),
 * the methods it takes, its access and its function.  fn answers the
 * call now or later with http_call_text/http_call_send, or takes the
 * request over with http_call_take; either ends the call.
 */
struct http_handler {
	const char	 *path;
	int		  prefix;
	unsigned	  methods;		/* HTTP_GET | HTTP_POST */
	enum http_access  access;
	/* NETWORK: the secret the request must carry (parameter "secret"
	 * or header X-Marketbox-Secret), as the conf says; NULL or a NULL
	 * answer: none asked. */
	const char	*(*secret)(const struct conf *);
	const char	 *secret_name;		/* the conf key, for the log */
	const char	 *secret_refusal;	/* the 403's body */
	/* Said at start and on a reload when http-allow-ip lists hosts and
	 * the secret is unset; NULL: nothing said. */
	const char	 *unset_warning;
	int		  form;		/* a POST body is a form (else 415),
					   read for the call */
	size_t		  max_body;	/* bytes (0: the server's limit);
					   more is answered 413 */
	int		  store_task;	/* fn runs as a store task */
	int		  json_errors;	/* the entry's 405 as {"error": ...} */
	/* ADMIN: a POST may carry, instead of X-Marketbox-Admin, the form
	 * field token= with http_form_token's value (the forms of /status,
	 * which a browser sends without JavaScript, so without headers). */
	int		  form_token;
	void		(*fn)(struct http_call *, void *arg);
};

/*
 * Register h's entry (copied) with fn's argument arg, at start-up.
 * Paths are unique.  0, or -1 (logged) when the table is full, the path
 * is taken or memory runs out.
 */
int		 http_handle(struct http *, const struct http_handler *,
		    void *arg);

/* --- a call: one request, from its entry's function to its answer --------- */

/* The request, its peer's numeric address, its path ("/" at least), the
 * server's conf. */
struct evhttp_request *http_call_request(struct http_call *);
const char	*http_call_peer(const struct http_call *);
const char	*http_call_path(const struct http_call *);
const struct conf *http_call_conf(const struct http_call *);
/* 1 if the request is a POST. */
int		 http_call_post(const struct http_call *);
/* The raw query (NULL: none); the body read for a .form entry (NULL and
 * 0 for a GET). */
const char	*http_call_query(const struct http_call *);
const char	*http_call_body(const struct http_call *, size_t *len);
/* ADMIN entries: the query, decoded. */
struct evkeyvalq *http_call_params(struct http_call *);

/* Add a header to the answer (nothing once the call was detached). */
void		 http_call_header(struct http_call *, const char *name,
		    const char *value);
/*
 * Answer with a text/plain body, or with body as it is (headers added
 * before), and end the call.  A call http_free() detached was answered
 * 503 already: this only frees it.
 */
void		 http_call_text(struct http_call *, int code,
		    const char *reason, const char *body);
void		 http_call_send(struct http_call *, int code,
		    const char *reason, struct evbuffer *body);
/*
 * End the call and hand its request to the caller, who answers it exactly
 * once, before http_free() (the admin's actions wait for their commit in
 * the admin's own list, answered by admin_free()).
 */
struct evhttp_request *http_call_take(struct http_call *);

/* --- access, exposed for the admin pages and for tests -------------------- */

/*
 * 1 if a peer at ip (numeric IPv4 or IPv6 text) may use the server:
 * loopback (127.0.0.0/8, ::1), or matched by an http-allow-ip entry (an
 * exact address, or an IPv4 pattern with '*' for any one octet, as
 * Kannel's 192.168.*.*).  conf may be NULL (loopback only).
 */
int		 http_ip_allowed(const struct conf *, const char *ip);

/* The same test against another list (NULL: loopback only). */
int		 http_ip_listed(const struct conf_names *, const char *ip);
/* The same with loopback not special: only what list names (group =
 * payments' allow-ip, where a local proxy is listed as 127.0.0.1). */
int		 http_ip_matched(const struct conf_names *, const char *ip);

/* 1 if a peer at ip may see the admin pages (loopback or admin-allow-ip). */
int		 http_admin_ip_allowed(const struct conf *, const char *ip);

/*
 * NULL if req may have been made by whom it claims, else the reason to
 * refuse it (403): its Host is not this server's (http-interface,
 * localhost, a loopback or (listening on every address) any address
 * literal, or an http-host-names entry), or a browser made it for another
 * site (an Origin whose host and port are not the Host's, or a
 * Sec-Fetch-Site other than same-origin or none).  Used for NETWORK
 * entries and ADMIN entries' POSTs.
 */
const char	*http_request_foreign(const struct conf *,
		    struct evhttp_request *);

/*
 * 1 if the given bytes equal want, in a time that depends only on the
 * lengths (not on where they differ).  A NULL want matches nothing.
 */
int		 http_password_equal(const char *given, size_t given_len,
		    const char *want);

/*
 * The token the admin pages put in their forms (a hidden field token=):
 * 32 hex digits read from /dev/urandom when the server was made, so a
 * page of another site cannot know it; "" (matching nothing) if it could
 * not be read.  An entry with form_token accepts it in place of the
 * header X-Marketbox-Admin.
 */
const char	*http_form_token(const struct http *);

enum http_auth {
	HTTP_AUTH_OK,		/* the right password */
	HTTP_AUTH_OFF,		/* no admin-password configured: 403 */
	HTTP_AUTH_MISSING,	/* no credentials given: 401 */
	HTTP_AUTH_WRONG		/* wrong credentials: logged, slowed, 401 */
};

/*
 * Check the credentials of a request against admin-password:
 * query_password is the decoded ?password= value (NULL if absent),
 * authorization the Authorization header (NULL if absent; "Basic
 * base64(user:password)").  When both are given, both must be right.
 */
enum http_auth	 http_auth_check(const struct conf *,
		    const char *query_password, const char *authorization);

/* The seconds an address is refused (429) after its n-th wrong password
 * in a row (n >= 1). */
double		 http_failure_delay(unsigned n);

/* Wrong admin passwords since the server started. */
unsigned long long http_auth_failures(const struct http *);

/*
 * The headers of a page that is nobody else's business: type, not
 * cached, not framed, no outside resources, the password in the URL
 * never sent on.
 */
void		 http_private_headers(struct evhttp_request *,
		    const char *type);

/* Append s as a JSON string, quotes included (NULL: null), for the JSON
 * bodies of the entries and of the server's own refusals. */
void		 http_json_string(struct evbuffer *, const char *s);

/*
 * For tests: 0 makes loopback peers count as any other address for
 * http-allow-ip (allowed only if it lists them), so a test on 127.0.0.1
 * can see an address refused.  1 (the default): loopback is always
 * allowed.
 */
void		 http_set_loopback_trusted(struct http *, int);

/* --- the ways in: /sms, /ussd, /health (waysin.c) ------------------------- */

/*
 * Register /sms (MOs handed to inbox), /ussd (sessions, answered by the
 * USSD engine through the inbox; with ussd NULL, "no USSD menus" 404
 * after the secret) and /health.  0, or -1 (logged).
 */
struct ussd;
int		 http_waysin_register(struct http *, struct inbox *,
		    struct ussd *);

/*
 * The form parser of /sms and /ussd, exposed for tests and fuzzing: add
 * the fields of an urlencoded string (a query or a form body) of n bytes
 * to value[]/len[], the fields named by names[0..nnames).  Each value is
 * malloc'd, decoded ('+' a space, %XX a byte) and NUL-terminated, its
 * length in len[] (which counts decoded NULs).  A field already set keeps
 * its value (the first one given wins); unknown fields are ignored.  0,
 * or -1 if memory runs out.
 */
int		 http_fields_parse(const char *const *names, int nnames,
		    char **value, size_t *len, const char *s, size_t n);

/* --- the sendsms link (sendsms.c) ----------------------------------------- */

/*
 * An outbox link that hands each MT to smsbox's sendsms interface at
 * conf sendsms-url.  NULL when no sendsms-url.
 */
struct http_sendsms;
struct http_sendsms *http_sendsms_new(struct event_base *, const struct conf *,
		    struct outbox *);
void		 http_sendsms_free(struct http_sendsms *);

#endif
