/*
 * http_client.c - a raw HTTP/1.1 client for unit tests; see
 * http_client.h.
 */
#include "config.h"

#include <sys/socket.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <criterion/criterion.h>
#include <event2/event.h>

#include "http_client.h"

int
hc_free_port(void)
{
	struct sockaddr_in	 sin;
	socklen_t		 len = sizeof(sin);
	int			 fd, p;

	fd = socket(AF_INET, SOCK_STREAM, 0);
	cr_assert_geq(fd, 0);
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	cr_assert_eq(bind(fd, (struct sockaddr *)&sin, sizeof(sin)), 0);
	cr_assert_eq(getsockname(fd, (struct sockaddr *)&sin, &len), 0);
	p = ntohs(sin.sin_port);
	close(fd);
	return p;
}

long long
hc_now_ms(void)
{
	struct timespec	 ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void
hc_pass(const struct hc *c, int fd)
{
	struct pollfd	 pfd;

	cr_assert_neq(event_base_loop(c->base, EVLOOP_NONBLOCK), -1);
	if (fd >= 0) {
		pfd.fd = fd;
		pfd.events = POLLIN;
		pfd.revents = 0;
		poll(&pfd, 1, 2);
	} else
		usleep(1000);
}

int
hc_connect(const struct hc *c)
{
	return hc_connect_from(c, NULL);
}

int
hc_connect_from(const struct hc *c, const char *src)
{
	struct sockaddr_in	 sin;
	int			 fd;

	fd = socket(AF_INET, SOCK_STREAM, 0);
	cr_assert_geq(fd, 0);
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	if (src != NULL) {
		cr_assert_eq(inet_pton(AF_INET, src, &sin.sin_addr), 1);
		cr_assert_eq(bind(fd, (struct sockaddr *)&sin, sizeof(sin)), 0,
		    "bind %s: %s", src, strerror(errno));
	}
	sin.sin_port = htons((unsigned short)c->port);
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	/* The listener is in this process: the kernel completes the
	 * handshake from the backlog without it. */
	cr_assert_eq(connect(fd, (struct sockaddr *)&sin, sizeof(sin)), 0,
	    "connect: %s", strerror(errno));
	cr_assert_neq(fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK), -1);
	return fd;
}

int
hc_send(const struct hc *c, int fd, const char *req, size_t len)
{
	long long	 end = hc_now_ms() + c->deadline_ms;
	size_t		 off = 0;
	ssize_t		 n;

	while (off < len) {
		cr_assert_lt(hc_now_ms(), end, "timed out sending");
		n = send(fd, req + off, len - off, MSG_NOSIGNAL | MSG_DONTWAIT);
		if (n > 0)
			off += (size_t)n;
		else if (n == -1 && errno != EAGAIN && errno != EWOULDBLOCK &&
		    errno != EINTR)
			return -1;
		hc_pass(c, -1);
	}
	return 0;
}

void
hc_receive(const struct hc *c, int fd, struct hc_resp *r)
{
	long long	 end = hc_now_ms() + c->deadline_ms;
	ssize_t		 n;
	char		*sep;

	for (;;) {
		cr_assert_lt(hc_now_ms(), end, "timed out waiting for the "
		    "answer; got %zu bytes: %.*s", r->len, (int)r->len, r->raw);
		n = recv(fd, r->raw + r->len, sizeof(r->raw) - 1 - r->len, 0);
		if (n == 0)
			break;
		if (n > 0) {
			r->len += (size_t)n;
			cr_assert_lt(r->len, sizeof(r->raw) - 1, "answer too big");
			continue;
		}
		if (errno == ECONNRESET) {
			r->reset = 1;
			break;
		}
		cr_assert(errno == EAGAIN || errno == EWOULDBLOCK ||
		    errno == EINTR, "recv: %s", strerror(errno));
		hc_pass(c, fd);
	}
	r->raw[r->len] = '\0';
	if (sscanf(r->raw, "HTTP/1.%*d %d", &r->code) != 1)
		r->code = 0;
	if ((sep = strstr(r->raw, "\r\n\r\n")) != NULL)
		r->body = sep + 4;
	else
		r->body = r->raw + r->len;
}

const char *
hc_header(const struct hc_resp *r, const char *name, char *buf, size_t size)
{
	char	 key[128];
	char	*p, *e;

	snprintf(key, sizeof(key), "\r\n%s: ", name);
	if ((p = strstr(r->raw, key)) == NULL || p > r->body)
		return NULL;
	p += strlen(key);
	if ((e = strstr(p, "\r\n")) == NULL)
		return NULL;
	snprintf(buf, size, "%.*s", (int)(e - p), p);
	return buf;
}
