/*
 * http.h - marketbox's HTTP server: /sms (as Kannel smsbox's get-url
 * expects), and later USSD and admin pages; plus the sendsms client link
 * used when notices leave through an smsbox instead of a bearerbox link.
 */
#ifndef MARKETBOX_HTTP_H
#define MARKETBOX_HTTP_H

#include <stddef.h>

struct admin;
struct conf;
struct conf_names;
struct event_base;
struct inbox;
struct outbox;
struct http;

/*
 * Start listening on http-interface:http-port (conf http-port must be
 * non-zero).  Returns NULL (logged) if the port cannot be bound.
 */
struct http	*http_new(struct event_base *, const struct conf *,
		    struct inbox *, struct outbox *);
void		 http_free(struct http *);
void		 http_set_conf(struct http *, const struct conf *);

/* Serve POST /ussd with this USSD engine (NULL: /ussd answers 404). */
struct ussd;
void		 http_set_ussd(struct http *, struct ussd *);

/*
 * 1 if a peer at ip (numeric IPv4 or IPv6 text) may use the server:
 * loopback (127.0.0.0/8, ::1), or matched by an http-allow-ip entry (an
 * exact address, or an IPv4 pattern with '*' for any one octet, as
 * Kannel's 192.168.*.*).  conf may be NULL (loopback only).
 */
int		 http_ip_allowed(const struct conf *, const char *ip);

/* The same test against another list (NULL: loopback only), for the
 * admin pages' admin-allow-ip. */
int		 http_ip_listed(const struct conf_names *, const char *ip);

/*
 * Hand the admin pages' requests (admin_path_is_ours) to admin, before
 * the server's own allow-list; NULL (the default) answers them 404.
 * admin must outlive the server or be unset first.
 */
void		 http_set_admin(struct http *, struct admin *);

/*
 * NULL if req may have been made by whom it claims, else the reason to
 * refuse it (403): its Host is not this server's (http-interface,
 * localhost, a loopback or (listening on every address) any address
 * literal, or an http-host-names entry), or a browser made it for another
 * site (an Origin whose host and port are not the Host's, or a
 * Sec-Fetch-Site other than same-origin or none).  Used for /sms, /ussd
 * and the admin pages' POST actions.
 */
struct evhttp_request;
const char	*http_request_foreign(const struct conf *,
		    struct evhttp_request *);

/*
 * For tests: 0 makes loopback peers count as any other address (allowed
 * only if http-allow-ip lists them), so a test on 127.0.0.1 can see an
 * address refused.  1 (the default): loopback is always allowed.
 */
void		 http_set_loopback_trusted(struct http *, int);

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

/*
 * The sendsms link: an outbox link that hands each MT to smsbox's
 * sendsms interface at conf sendsms-url.  NULL when no sendsms-url.
 */
struct http_sendsms;
struct http_sendsms *http_sendsms_new(struct event_base *, const struct conf *,
		    struct outbox *);
void		 http_sendsms_free(struct http_sendsms *);

#endif
