/*
 * access.c - who may use the HTTP server's entries: the rules the server
 * applies from its table (http.h, enum http_access), in one place, before
 * any handler runs.
 *
 *	- allow-lists: loopback, http-allow-ip, admin-allow-ip (an exact
 *	  address, or an IPv4 pattern with '*' for any one octet);
 *	- requests a browser made for another site (Origin, Sec-Fetch-Site)
 *	  or for a foreign Host (DNS rebinding), refused 403;
 *	- the secrets of the ways in (sms-secret, ussd-secret), given as a
 *	  parameter "secret" or the header X-Marketbox-Secret;
 *	- the admin password, from ?password= or HTTP Basic (any user name),
 *	  compared in constant time (an empty one never matches);
 *	- the wrong-password lock-out: a wrong admin password is logged,
 *	  counted for its address and answered 401 at once; the address is
 *	  then refused 429 (Retry-After) for http_failure_delay(count)
 *	  seconds (0.5 s doubling up to 8 s), BEFORE any password it sends is
 *	  looked at, so a guess made then teaches nothing and costs nothing;
 *	  other addresses are not touched, so the right password from
 *	  elsewhere still gets in.  HTTP_FAIL_SLOTS addresses are counted; a
 *	  quiet one is forgotten after HTTP_FAIL_FORGET seconds;
 *	- the header X-Marketbox-Admin on the admin entries' POSTs: a browser
 *	  holding Basic credentials for the pages cannot be made by another
 *	  site to send it (a cross-site request with a custom header needs a
 *	  CORS preflight, which is never granted), so the actions are safe
 *	  from cross-site request forgery; or, for an entry with form_token
 *	  (the forms of /status, sent by a browser without JavaScript), the
 *	  form field token= equal to the server's form token (random, read
 *	  from /dev/urandom at start, only ever shown on the admin pages);
 *
 * The answers are the ones the pages and the ways in gave when each
 * applied its own rules: plain text for PEER and NETWORK entries; for
 * ADMIN entries the private headers, text ending in a newline, and JSON
 * ({"error": ...}) for a POST a browser made and for a missing
 * X-Marketbox-Admin.  What each entry does with the request is the
 * handler's; the server's connections and calls are server.c's.
 */
#include "config.h"

#include <sys/types.h>
#include <sys/socket.h>
#include <sys/queue.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "base/gw.h"

/* After libgw: its gwlib/http.h has an enum that event2/http.h's macros
 * (HTTP_OK ...) would otherwise break. */
#include <event2/buffer.h>
#include <event2/event.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>

#include "base/conf.h"
#include "http/http.h"
#include "http/http_int.h"

#define HTTP_SECRET_HEADER	"X-Marketbox-Secret"
#define HTTP_ADMIN_HEADER	"X-Marketbox-Admin"
#define HTTP_FAIL_FORGET	900	/* seconds: a quiet address is forgotten */
#define HTTP_DELAY_FIRST	0.5	/* seconds locked out after a first
					   wrong password */
#define HTTP_DELAY_MAX		8.0	/* seconds: the longest */
#define HTTP_MAX_PASSWORD	256	/* bytes of a password given */

/* --- allow-lists ----------------------------------------------------------- */

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
http_ip_matched(const struct conf_names *list, const char *ip)
{
	return ip != NULL && http_list_has(list, ip);
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

int
http_admin_ip_allowed(const struct conf *conf, const char *ip)
{
	return http_ip_listed(conf != NULL ? &conf->admin_allow_ip : NULL, ip);
}

/* 1 if a peer at ip may use PEER and NETWORK entries: http-allow-ip, or
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

int
http_access_admits(const struct http *h, enum http_access access,
    const char *ip)
{
	if (access == HTTP_ACCESS_ADMIN)
		return http_admin_ip_allowed(h->conf, ip);
	return http_peer_allowed(h, ip);
}

/* --- requests that browsers made ------------------------------------------ */

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

/* --- passwords and secrets ------------------------------------------------ */

static double
http_monotonic(void)
{
	struct timespec	 ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int
http_password_equal(const char *given, size_t given_len, const char *want)
{
	size_t			 want_len, i;
	volatile unsigned char	 diff;

	if (want == NULL || given == NULL)
		return 0;
	want_len = strlen(want);
	/*
	 * Every byte of the given password is compared with a byte of the
	 * wanted one (cycling over it), so the time depends on the lengths
	 * only; a length that differs makes diff non-zero too.
	 */
	diff = (unsigned char)(given_len != want_len);
	for (i = 0; i < given_len; i++)
		diff |= (unsigned char)given[i] ^
		    (unsigned char)(want_len > 0 ? want[i % want_len] : 0);
	return diff == 0;
}

/* Decode base64 (RFC 4648, padding optional) into out (size bytes).
 * Returns the decoded length, or -1 if it is not base64 or too long. */
static long
http_base64_decode(const char *in, char *out, size_t size)
{
	unsigned	 acc = 0;
	int		 bits = 0, v;
	size_t		 n = 0;
	const char	*p;

	for (p = in; *p != '\0' && *p != '='; p++) {
		if (*p >= 'A' && *p <= 'Z')
			v = *p - 'A';
		else if (*p >= 'a' && *p <= 'z')
			v = *p - 'a' + 26;
		else if (*p >= '0' && *p <= '9')
			v = *p - '0' + 52;
		else if (*p == '+')
			v = 62;
		else if (*p == '/')
			v = 63;
		else
			return -1;
		acc = (acc << 6) | (unsigned)v;
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			if (n + 1 >= size)
				return -1;
			out[n++] = (char)((acc >> bits) & 0xff);
		}
	}
	while (*p == '=')
		p++;
	if (*p != '\0')
		return -1;
	out[n] = '\0';
	return (long)n;
}

enum http_auth
http_auth_check(const struct conf *conf, const char *query_password,
    const char *authorization)
{
	char		 decoded[HTTP_MAX_PASSWORD * 2];
	const char	*p, *colon;
	long		 n;
	int		 ok = 1;

	if (conf == NULL || conf->admin_password == NULL ||
	    conf->admin_password[0] == '\0')
		return HTTP_AUTH_OFF;
	if (query_password == NULL && authorization == NULL)
		return HTTP_AUTH_MISSING;
	if (query_password != NULL) {
		n = (long)strlen(query_password);
		if (n > HTTP_MAX_PASSWORD)
			ok = 0;
		else if (!http_password_equal(query_password, (size_t)n,
		    conf->admin_password))
			ok = 0;
	}
	if (authorization != NULL) {
		p = authorization;
		while (*p == ' ')
			p++;
		if (strncasecmp(p, "Basic", 5) != 0 || (p[5] != ' ' &&
		    p[5] != '\t'))
			return HTTP_AUTH_WRONG;
		p += 6;
		while (*p == ' ' || *p == '\t')
			p++;
		if ((n = http_base64_decode(p, decoded, sizeof(decoded))) < 0 ||
		    (colon = memchr(decoded, ':', (size_t)n)) == NULL)
			return HTTP_AUTH_WRONG;
		colon++;
		if (!http_password_equal(colon,
		    (size_t)(decoded + n - colon), conf->admin_password))
			ok = 0;
	}
	return ok ? HTTP_AUTH_OK : HTTP_AUTH_WRONG;
}

double
http_failure_delay(unsigned n)
{
	double	 d = HTTP_DELAY_FIRST;

	while (n > 1 && d < HTTP_DELAY_MAX) {
		d *= 2;
		n--;
	}
	return d < HTTP_DELAY_MAX ? d : HTTP_DELAY_MAX;
}

/* --- answers ---------------------------------------------------------------- */

void
http_private_headers(struct evhttp_request *req, const char *type)
{
	struct evkeyvalq	*h = evhttp_request_get_output_headers(req);

	evhttp_add_header(h, "Content-Type", type);
	evhttp_add_header(h, "Cache-Control", "no-store");
	evhttp_add_header(h, "X-Content-Type-Options", "nosniff");
	evhttp_add_header(h, "X-Frame-Options", "DENY");
	evhttp_add_header(h, "Referrer-Policy", "no-referrer");
	evhttp_add_header(h, "Content-Security-Policy",
	    "default-src 'none'; style-src 'unsafe-inline'");
}

void
http_json_string(struct evbuffer *b, const char *s)
{
	const unsigned char	*p;

	if (s == NULL) {
		evbuffer_add(b, "null", 4);
		return;
	}
	evbuffer_add(b, "\"", 1);
	for (p = (const unsigned char *)s; *p != '\0'; p++) {
		if (*p == '"' || *p == '\\')
			evbuffer_add_printf(b, "\\%c", *p);
		else if (*p < 0x20 || *p == 0x7f)
			evbuffer_add_printf(b, "\\u%04x", *p);
		else
			evbuffer_add(b, p, 1);
	}
	evbuffer_add(b, "\"", 1);
}

void
http_access_answer(struct evhttp_request *req, enum http_access access,
    int json, int code, const char *reason, const char *text)
{
	struct evbuffer	*b;
	int		 ok;

	if (access != HTTP_ACCESS_ADMIN && !json) {
		http_reply_text(req, code, reason, text);
		return;
	}
	if ((b = evbuffer_new()) == NULL) {
		error(0, "http: out of memory answering a request");
		evhttp_send_error(req, 500, NULL);
		return;
	}
	if (json) {
		ok = evbuffer_add(b, "{\"error\": ", 10) == 0;
		http_json_string(b, text);
		ok = ok && evbuffer_add(b, "}\n", 2) == 0;
	} else
		ok = evbuffer_add_printf(b, "%s\n", text) >= 0;
	if (!ok) {
		error(0, "http: out of memory answering a request");
		evbuffer_free(b);
		evhttp_send_error(req, 500, NULL);
		return;
	}
	if (access == HTTP_ACCESS_ADMIN)
		http_private_headers(req, json ? "application/json" :
		    "text/plain; charset=utf-8");
	else
		evhttp_add_header(evhttp_request_get_output_headers(req),
		    "Content-Type", "application/json");
	evhttp_send_reply(req, code, reason, b);
	evbuffer_free(b);
}

static void
http_reply_401(struct evhttp_request *req)
{
	evhttp_add_header(evhttp_request_get_output_headers(req),
	    "WWW-Authenticate", "Basic realm=\"marketbox admin\", "
	    "charset=\"UTF-8\"");
	http_access_answer(req, HTTP_ACCESS_ADMIN, 0, 401, "Unauthorized",
	    "the admin password is needed (?password= or HTTP Basic)");
}

/* An address locked out for wait more seconds: come back later. */
static void
http_reply_429(struct evhttp_request *req, double wait)
{
	char	 secs[16];

	snprintf(secs, sizeof(secs), "%d", (int)wait + (wait > (int)wait));
	evhttp_add_header(evhttp_request_get_output_headers(req),
	    "Retry-After", secs);
	http_access_answer(req, HTTP_ACCESS_ADMIN, 0, 429, "Too Many Requests",
	    "too many wrong passwords from this address; try again later");
}

/* --- wrong passwords ------------------------------------------------------ */

static struct http_failures *
http_failures_find(struct http *h, const char *ip, int create)
{
	struct http_failures	*f, *slot = NULL;
	time_t			 now = time(NULL);
	size_t			 i;

	for (i = 0; i < HTTP_FAIL_SLOTS; i++) {
		f = &h->failures[i];
		if (f->ip[0] != '\0' && now - f->last > HTTP_FAIL_FORGET)
			memset(f, 0, sizeof(*f));
		if (f->ip[0] != '\0' && strcmp(f->ip, ip) == 0)
			return f;
		/* A free slot, else the one quiet for longest. */
		if (slot == NULL || (slot->ip[0] != '\0' &&
		    (f->ip[0] == '\0' || f->last < slot->last)))
			slot = f;
	}
	if (!create)
		return NULL;
	memset(slot, 0, sizeof(*slot));
	snprintf(slot->ip, sizeof(slot->ip), "%s", ip);
	return slot;
}

/* A wrong password from peer: log, count, lock the address out for a
 * while, answer 401. */
static void
http_wrong_password(struct http *h, struct evhttp_request *req,
    const char *peer, const char *path)
{
	struct http_failures	*f;
	double			 delay;

	h->auth_failures++;
	f = http_failures_find(h, peer, 1);
	f->count++;
	f->last = time(NULL);
	delay = http_failure_delay(f->count);
	f->until = http_monotonic() + delay;
	warning(0, "admin: wrong password from %s for %s (%u in a row); "
	    "the address is refused for %.1f s", peer, path, f->count, delay);
	http_reply_401(req);
}

/* The seconds peer is still locked out for, or 0. */
static double
http_locked_out(struct http *h, const char *peer)
{
	struct http_failures	*f;
	double			 left;

	if ((f = http_failures_find(h, peer, 0)) == NULL)
		return 0;
	left = f->until - http_monotonic();
	return left > 0 ? left : 0;
}

unsigned long long
http_auth_failures(const struct http *h)
{
	return h != NULL ? h->auth_failures : 0;
}

/* --- the rules, in order -------------------------------------------------- */

int
http_access_peer(struct http *h, enum http_access access,
    struct evhttp_request *req, const char *peer, const char *path)
{
	enum evhttp_cmd_type	 method = evhttp_request_get_command(req);

	if (!http_access_admits(h, access, peer)) {
		if (access == HTTP_ACCESS_ADMIN)
			warning(0, "admin: %s from %s refused: not loopback "
			    "and not in admin-allow-ip", path,
			    *peer ? peer : "(unknown)");
		else
			warning(0, "http: request from %s refused: not "
			    "loopback and not in http-allow-ip",
			    *peer ? peer : "(unknown)");
		http_access_answer(req, access, 0, 403, "Forbidden",
		    "forbidden");
		return 0;
	}
	if (method != EVHTTP_REQ_GET && method != EVHTTP_REQ_POST) {
		evhttp_add_header(evhttp_request_get_output_headers(req),
		    "Allow", "GET, POST");
		http_access_answer(req, access, 0, 405, "Method Not Allowed",
		    "method not allowed: use GET or POST");
		return 0;
	}
	return 1;
}

/* ADMIN: the query, a POST a browser made, the lock-out, the password. */
static int
http_access_admin(struct http *h, struct http_call *call)
{
	struct evhttp_request	*req = call->req;
	const char		*why, *auth;
	double			 wait;
	struct http_failures	*f;

	if (call->query != NULL &&
	    evhttp_parse_query_str(call->query, &call->params) == -1) {
		evhttp_clear_headers(&call->params);
		http_access_answer(req, HTTP_ACCESS_ADMIN, 0, 400,
		    "Bad Request", "the query does not parse");
		return 0;
	}
	if (http_call_post(call) &&
	    (why = http_request_foreign(h->conf, req)) != NULL) {
		warning(0, "admin: %s from %s refused: %s", call->path,
		    call->peer, why);
		http_access_answer(req, HTTP_ACCESS_ADMIN, 1, 403, "Forbidden",
		    why);
		return 0;
	}
	/* Before the password is judged: a guess from a locked-out address
	 * is not even looked at. */
	if ((wait = http_locked_out(h, call->peer)) > 0) {
		debug("mb.admin", 0, "admin: %s from %s: 429 (locked out for "
		    "%.1f s)", call->path, call->peer, wait);
		http_reply_429(req, wait);
		return 0;
	}
	auth = evhttp_find_header(evhttp_request_get_input_headers(req),
	    "Authorization");
	switch (http_auth_check(h->conf, evhttp_find_header(&call->params,
	    "password"), auth)) {
	case HTTP_AUTH_OFF:
		http_access_answer(req, HTTP_ACCESS_ADMIN, 0, 403, "Forbidden",
		    "admin pages are off (no admin-password in the "
		    "configuration)");
		return 0;
	case HTTP_AUTH_MISSING:
		http_reply_401(req);
		return 0;
	case HTTP_AUTH_WRONG:
		http_wrong_password(h, req, call->peer, call->path);
		return 0;
	case HTTP_AUTH_OK:
		break;
	}
	if ((f = http_failures_find(h, call->peer, 0)) != NULL)
		memset(f, 0, sizeof(*f));
	return 1;
}

/* "GET", "POST" or "GET, POST": the methods of an entry. */
static const char *
http_methods_text(unsigned methods, const char *sep)
{
	if ((methods & (HTTP_GET | HTTP_POST)) == (HTTP_GET | HTTP_POST))
		return strcmp(sep, ", ") == 0 ? "GET, POST" : "GET or POST";
	return methods & HTTP_POST ? "POST" : "GET";
}

const char *
http_form_token(const struct http *h)
{
	return h->form_token;
}

/* Make h's form token: 16 bytes of /dev/urandom in hex, else "". */
void
http_form_token_make(struct http *h)
{
	unsigned char	 r[16];
	FILE		*fp;
	size_t		 i;

	h->form_token[0] = '\0';
	if ((fp = fopen("/dev/urandom", "rb")) == NULL ||
	    fread(r, 1, sizeof(r), fp) != sizeof(r)) {
		warning(0, "http: no /dev/urandom: the forms of /status "
		    "are refused (marketctl still works)");
		if (fp != NULL)
			fclose(fp);
		return;
	}
	fclose(fp);
	for (i = 0; i < sizeof(r); i++)
		snprintf(h->form_token + 2 * i, 3, "%02x", r[i]);
}

/* 1 if req's form body has token= equal to h's form token (the buffer is
 * read in place: the entry parses the form again). */
static int
http_access_form_token(struct http *h, struct evhttp_request *req)
{
	static const char *const name[1] = { "token" };
	struct evbuffer	*in = evhttp_request_get_input_buffer(req);
	size_t		 n = in != NULL ? evbuffer_get_length(in) : 0;
	const char	*body;
	char		*given = NULL;
	size_t		 len = 0;
	int		 ok;

	if (h->form_token[0] == '\0' || n == 0 ||
	    (body = (const char *)evbuffer_pullup(in, -1)) == NULL)
		return 0;
	if (http_fields_parse(name, 1, &given, &len, body, n) == -1) {
		free(given);
		return 0;
	}
	ok = given != NULL && http_password_equal(given, len, h->form_token);
	free(given);
	return ok;
}

int
http_access_entry(struct http *h, struct http_call *call)
{
	const struct http_handler	*e = &call->e->h;
	struct evhttp_request		*req = call->req;
	const char			*why;
	char				 use[32];
	unsigned			 method;

	if (e->access == HTTP_ACCESS_ADMIN && !http_access_admin(h, call))
		return 0;
	if (e->access == HTTP_ACCESS_NETWORK &&
	    (why = http_request_foreign(h->conf, req)) != NULL) {
		warning(0, "http: %s from %s refused: %s", call->path,
		    call->peer, why);
		http_reply_text(req, 403, "Forbidden", why);
		return 0;
	}
	method = http_call_post(call) ? HTTP_POST : HTTP_GET;
	if ((e->methods & method) == 0) {
		evhttp_add_header(evhttp_request_get_output_headers(req),
		    "Allow", http_methods_text(e->methods, ", "));
		snprintf(use, sizeof(use), "use %s",
		    http_methods_text(e->methods, " or "));
		http_access_answer(req, e->access, e->json_errors, 405,
		    "Method Not Allowed", use);
		return 0;
	}
	if (e->access == HTTP_ACCESS_ADMIN && method == HTTP_POST &&
	    evhttp_find_header(evhttp_request_get_input_headers(req),
	    HTTP_ADMIN_HEADER) == NULL &&
	    !(e->form_token && http_access_form_token(h, req))) {
		http_access_answer(req, HTTP_ACCESS_ADMIN, 1, 403, "Forbidden",
		    "an action needs the X-Marketbox-Admin header (marketctl "
		    "sends it), or its form the token of a fresh /status");
		return 0;
	}
	return 1;
}

int
http_access_secret(struct http *h, struct http_call *call)
{
	static const char *const name[1] = { "secret" };
	const struct http_handler	*e = &call->e->h;
	const char			*want, *hdr;
	char				*given = NULL;
	size_t				 len = 0;
	int				 ok;

	if (e->secret == NULL || (want = e->secret(h->conf)) == NULL)
		return 1;
	hdr = evhttp_find_header(evhttp_request_get_input_headers(call->req),
	    HTTP_SECRET_HEADER);
	if (hdr != NULL && http_password_equal(hdr, strlen(hdr), want))
		return 1;
	/* As the handler reads its fields: the body's first, then the
	 * query's. */
	if ((call->body != NULL && http_fields_parse(name, 1, &given, &len,
	    call->body, call->body_len) == -1) || (call->query != NULL &&
	    http_fields_parse(name, 1, &given, &len, call->query,
	    strlen(call->query)) == -1)) {
		free(given);
		error(0, "http: out of memory taking a request from %s",
		    call->peer);
		http_reply_text(call->req, 500, "Internal Server Error",
		    "out of memory");
		return 0;
	}
	ok = given != NULL && http_password_equal(given, len, want);
	free(given);
	if (!ok) {
		warning(0, "http: %s from %s refused: no or wrong %s",
		    call->path, call->peer, e->secret_name != NULL ?
		    e->secret_name : "secret");
		http_reply_text(call->req, 403, "Forbidden",
		    e->secret_refusal != NULL ? e->secret_refusal :
		    "forbidden");
	}
	return ok;
}
