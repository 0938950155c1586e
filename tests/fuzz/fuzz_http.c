/*
 * fuzz_http.c - libFuzzer target for the HTTP server (src/http, on
 * libevent's evhttp): the input is what a client sends on one loopback
 * connection to the server, a request or several, with the daemon's parts
 * behind it (fuzz_stack.c: /sms and /ussd reach the inbox, the router,
 * the plugins and the USSD menus).  The client then closes its side and
 * reads the answers until the server closes; the database is emptied
 * after each input.  Built and run by tests/fuzz/run.sh.
 *
 * Invariants: the connection is made; the server closes it within a
 * bounded number of loop passes; whatever it answers starts as a status
 * line (evhttp answers in the request's version, "HTTP/0.1" included) and
 * is never a 500 (memory does not run out here).  A failed one is named on
 * stderr before the abort.
 *
 * With FUZZ_HTTP_DEBUG in the environment, each answer is printed (to see
 * what a crash file got back).
 */
#include "config.h"

#include <sys/types.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/event.h>

#include "fuzz_stack.h"

#define FUZZ_HTTP_PASSES	100000	/* loop passes for one input */
#define FUZZ_HTTP_ANSWER	4096	/* bytes of the answer kept */

int	LLVMFuzzerInitialize(int *, char ***);
int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static struct fuzz_stack	 fuzz_http_stack;
static uint32_t			 fuzz_http_n;	/* inputs so far */

struct fuzz_http_client {
	int		 fd;
	const uint8_t	*data;
	size_t		 size, sent;
	char		 answer[FUZZ_HTTP_ANSWER];
	size_t		 got;
	int		 connected, shut, done;
	struct event	*ev;
};

/* An invariant: when it fails, say which (and the input's number) before
 * the abort libFuzzer reports. */
static void
fuzz_http_check(int ok, const char *what)
{
	if (!ok) {
		fprintf(stderr, "fuzz_http: input %u: %s (errno %d: %s)\n",
		    (unsigned)fuzz_http_n, what, errno, strerror(errno));
		abort();
	}
}

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	fuzz_stack_new(&fuzz_http_stack, 1);
	return 0;
}

static void
fuzz_http_client_cb(evutil_socket_t fd, short what, void *arg)
{
	struct fuzz_http_client	*c = arg;
	char			 buf[4096];
	ssize_t			 n;
	socklen_t		 len = sizeof(int);
	int			 err = 0;

	if (!c->connected) {
		/* The first event: the connect finished, or failed. */
		if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) == -1)
			err = errno;
		errno = err;
		fuzz_http_check(err == 0, "connect");
		c->connected = 1;
	}
	if ((what & EV_WRITE) && !c->shut) {
		if (c->sent < c->size) {
			n = send(fd, c->data + c->sent, c->size - c->sent,
			    MSG_NOSIGNAL);
			if (n > 0)
				c->sent += (size_t)n;
			else if (n == -1 && errno != EAGAIN &&
			    errno != EINTR)
				c->sent = c->size;	/* the server closed */
		}
		if (c->sent == c->size) {
			shutdown(fd, SHUT_WR);
			c->shut = 1;
			event_del(c->ev);
			event_assign(c->ev, event_get_base(c->ev), fd,
			    EV_READ | EV_PERSIST, fuzz_http_client_cb, c);
			event_add(c->ev, NULL);
		}
	}
	if (what & EV_READ) {
		n = recv(fd, buf, sizeof(buf), 0);
		if (n > 0) {
			size_t	keep = (size_t)n;

			if (keep > sizeof(c->answer) - c->got)
				keep = sizeof(c->answer) - c->got;
			memcpy(c->answer + c->got, buf, keep);
			c->got += keep;
		} else if (n == 0 || (errno != EAGAIN && errno != EINTR))
			c->done = 1;
	}
}

/* Every status line kept starts "HTTP/1.x NNN" and none is a 500. */
static void
fuzz_http_answers(const struct fuzz_http_client *c)
{
	const char	*p = c->answer, *end = c->answer + c->got;

	if (c->got == 0)
		return;
	fuzz_http_check(c->got >= 5 && memcmp(p, "HTTP/", 5) == 0,
	    "the answer does not start with a status line");
	for (; p != NULL && end - p >= 12;
	    p = memmem(p + 1, (size_t)(end - p - 1), "HTTP/", 5))
		fuzz_http_check(memcmp(p + 8, " 500", 4) != 0,
		    "an answer is a 500");
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fuzz_stack	*st = &fuzz_http_stack;
	struct fuzz_http_client	 c;
	struct sockaddr_in	 sin;
	int			 i;

	memset(&c, 0, sizeof(c));
	c.data = data;
	c.size = size;
	fuzz_http_check((c.fd = socket(AF_INET, SOCK_STREAM, 0)) != -1,
	    "socket");
	/*
	 * From a new loopback address each time (127.0.0.0/8 is all
	 * loopback, all allowed): the sockets that closed in the last
	 * minute wait in TIME_WAIT, and from one address they would use up
	 * its ports after some 28,000 inputs.
	 */
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_addr.s_addr = htonl(0x7f010000U | (fuzz_http_n++ & 0xffff));
	fuzz_http_check(bind(c.fd, (struct sockaddr *)&sin, sizeof(sin)) ==
	    0, "bind");
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	sin.sin_port = htons((uint16_t)st->port);
	/*
	 * The connect is not blocking and finishes in the loop (the first
	 * event reads its outcome).  A blocking connect() waits for the
	 * handshake even on loopback, and Linux has it return EINTR when a
	 * signal is pending at the end of that wait, the handshake done or
	 * not; libFuzzer's -timeout watchdog is a SIGALRM every few seconds
	 * (without SA_RESTART), so now and then one fell into the call: a
	 * run failed after some 80,000 to 170,000 inputs, sooner on a busy
	 * machine (where the handshake waits longer), with the server never
	 * asked anything.
	 */
	fuzz_http_check(evutil_make_socket_nonblocking(c.fd) == 0,
	    "nonblocking");
	if (connect(c.fd, (struct sockaddr *)&sin, sizeof(sin)) == -1)
		fuzz_http_check(errno == EINPROGRESS, "connect");
	fuzz_http_check((c.ev = event_new(st->base, c.fd,
	    EV_READ | EV_WRITE | EV_PERSIST, fuzz_http_client_cb, &c)) !=
	    NULL, "event_new");
	event_add(c.ev, NULL);
	for (i = 0; !c.done && i < FUZZ_HTTP_PASSES; i++)
		event_base_loop(st->base, EVLOOP_ONCE);
	if (getenv("FUZZ_HTTP_DEBUG") != NULL)
		fprintf(stderr, "passes %d done %d answer %.*s\n", i, c.done,
		    (int)c.got, c.answer);
	if (!c.done)
		fprintf(stderr, "fuzz_http: %d passes, %zu of %zu bytes sent, "
		    "shut %d, %zu bytes answered: %.*s\n", i, c.sent, c.size,
		    c.shut, c.got, (int)c.got, c.answer);
	fuzz_http_check(c.done, "the server did not close the connection");
	event_free(c.ev);
	close(c.fd);
	/* Let the server see the close and free the connection. */
	event_base_loop(st->base, EVLOOP_NONBLOCK);
	fuzz_http_answers(&c);
	fuzz_stack_reset(st);
	return 0;
}
