/*
 * http_client.h - a raw HTTP/1.1 client for the unit tests of the servers
 * that run in the test's own process (src/http, src/admin).  One thread plays
 * both sides: every wait runs a pass of the server's event loop.  Every
 * wait is bounded by the context's deadline; a wait that runs out fails
 * the test.  Loopback only.
 */
#ifndef MARKETBOX_TESTS_HTTP_CLIENT_H
#define MARKETBOX_TESTS_HTTP_CLIENT_H

#include <stddef.h>

struct event_base;

struct hc {
	struct event_base	*base;		/* the server's loop */
	int			 port;		/* on 127.0.0.1 */
	long long		 deadline_ms;	/* the longest one wait */
};

struct hc_resp {
	int	 code;		/* 0: no status line came */
	char	 raw[262144];
	size_t	 len;
	char	*body;		/* into raw, NUL-terminated */
	int	 reset;		/* the connection was reset */
	long long ms;		/* how long the answer took, if the caller
				   times it */
};

/* Milliseconds on the monotonic clock. */
long long	hc_now_ms(void);

/* A loopback port nothing listens on now: bind port 0, read it, close. */
int		hc_free_port(void);

/* One non-blocking pass of the loop, then a short sleep on fd (if >= 0). */
void		hc_pass(const struct hc *, int fd);

/* A non-blocking socket connected to the server. */
int		hc_connect(const struct hc *);

/* The same from the local loopback address src (127.0.0.2, say; NULL:
 * the kernel's choice), for the server's checks of peers. */
int		hc_connect_from(const struct hc *, const char *src);

/* Write all of req to fd, running the loop meanwhile.  0, or -1 if the
 * server closed first. */
int		hc_send(const struct hc *, int fd, const char *req, size_t len);

/* Read until the server closes (or resets: r->reset), running the loop
 * meanwhile; r->code and r->body from the answer. */
void		hc_receive(const struct hc *, int fd, struct hc_resp *r);

/* The value of header name in r's head (case-sensitive) in buf, or NULL. */
const char	*hc_header(const struct hc_resp *r, const char *name, char *buf,
		    size_t size);

#endif
