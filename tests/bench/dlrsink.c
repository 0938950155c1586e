/*
 * dlrsink.c - the HTTP end of Kannel's delivery reports for the benchmark:
 * smsbox fetches an sms-service's dlr-url for every DLR bearerbox gives it,
 * and this answers those fetches, so that the stock smsbox does the same
 * DLR work as marketbox in scripts/bench.
 *
 *	dlrsink -p PORT [-t SECONDS] [-v]
 *
 * It listens on 127.0.0.1:PORT and answers every request, whatever its
 * method and URL, with 200 and the text "ok", keeping connections alive as
 * the client asks.  It counts the requests, and those with a query
 * parameter "event" by its value (the DLR event smsbox puts in for "%d":
 * 1 delivered, 8 SMSC ack, ...).
 *
 * It stops on SIGINT or SIGTERM, or by itself after SECONDS (default 60,
 * so that it can never outlive a run that forgot it), and prints on stdout
 * one line for scripts:
 *
 *	requests N event1 N1 event8 N8 other NO
 *
 * (other: requests without a known event).  GET /count answers
 * "requests N" (the count so far) and is not counted itself: the bench
 * polls it to see when smsbox has fetched them all.  Exit status: 0 when stopped by
 * a signal, 1 when the time ran out, 2 on a usage or set-up error.
 *
 * Single-threaded, one libevent loop; no libgw.
 */
#include "config.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/event.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>

#include "number.h"

#define DLRSINK_EVENTS	32	/* Kannel's DLR events are bits 1 to 16 */

struct dlrsink_opts {
	int		 port;
	long		 timeout;	/* seconds for the whole run */
	int		 verbose;
};

struct dlrsink {
	struct dlrsink_opts	 opt;
	struct event_base	*base;
	struct evhttp		*http;
	struct evbuffer		*body;	/* the answer, refilled each time */
	struct event		*timeout_ev, *sigint_ev, *sigterm_ev;

	long			 requests;
	long			 events[DLRSINK_EVENTS];
	long			 other;	/* no event, or one out of range */
	int			 timed_out;
};

/* The DLR event in a request's query ("event=N"), or -1. */
static int
dlrsink_event(struct evhttp_request *req)
{
	const struct evhttp_uri	*uri;
	const char		*query, *value;
	struct evkeyvalq	 params;
	char			*end;
	long			 v;
	int			 event = -1;

	if ((uri = evhttp_request_get_evhttp_uri(req)) == NULL ||
	    (query = evhttp_uri_get_query(uri)) == NULL)
		return -1;
	/* It initializes params, and empties them again on failure. */
	if (evhttp_parse_query_str(query, &params) == -1)
		return -1;
	if ((value = evhttp_find_header(&params, "event")) != NULL) {
		errno = 0;
		v = strtol(value, &end, 10);
		if (errno == 0 && end != value && *end == '\0' && v >= 0 &&
		    v < DLRSINK_EVENTS)
			event = (int)v;
	}
	evhttp_clear_headers(&params);
	return event;
}

static void
dlrsink_request_cb(struct evhttp_request *req, void *arg)
{
	struct dlrsink	*ds = arg;
	const char	*uri = evhttp_request_get_uri(req);
	int		 event;

	/* The bench asks how many so far; that is not a fetch. */
	if (uri != NULL && strncmp(uri, "/count", 6) == 0) {
		evbuffer_add_printf(ds->body, "requests %llu\n",
		    (unsigned long long)ds->requests);
		evhttp_send_reply(req, HTTP_OK, "OK", ds->body);
		return;
	}
	ds->requests++;
	if ((event = dlrsink_event(req)) == -1)
		ds->other++;
	else
		ds->events[event]++;
	if (ds->opt.verbose)
		fprintf(stderr, "dlrsink: %s\n", evhttp_request_get_uri(req));
	evhttp_add_header(evhttp_request_get_output_headers(req),
	    "Content-Type", "text/plain");
	evbuffer_add(ds->body, "ok", 2);
	evhttp_send_reply(req, HTTP_OK, "OK", ds->body);
}

static void
dlrsink_timeout_cb(evutil_socket_t fd, short what, void *arg)
{
	struct dlrsink	*ds = arg;

	(void)fd;
	(void)what;
	ds->timed_out = 1;
	event_base_loopexit(ds->base, NULL);
}

static void
dlrsink_signal_cb(evutil_socket_t sig, short what, void *arg)
{
	struct dlrsink	*ds = arg;

	(void)sig;
	(void)what;
	event_base_loopexit(ds->base, NULL);
}

static void
dlrsink_report(struct dlrsink *ds)
{
	int	 i;

	printf("requests %ld", ds->requests);
	for (i = 0; i < DLRSINK_EVENTS; i++)
		if (ds->events[i] != 0)
			printf(" event%d %ld", i, ds->events[i]);
	printf(" other %ld\n", ds->other);
	fflush(stdout);
}

static void
dlrsink_usage(FILE *fp)
{
	fprintf(fp,
	    "usage: dlrsink -p PORT [-t SECONDS] [-v]\n"
	    "  -p PORT     listen on 127.0.0.1:PORT (required)\n"
	    "  -t SECONDS  stop after this long (default 60)\n"
	    "  -v          log every request on stderr\n");
}

static int
dlrsink_options(struct dlrsink_opts *o, int argc, char **argv)
{
	int	 ch, ok = 1;

	memset(o, 0, sizeof(*o));
	o->timeout = 60;
	while ((ch = getopt(argc, argv, "p:t:vh")) != -1) {
		switch (ch) {
		case 'p':
			o->port = (int)bench_number(optarg, 1, 65535, &ok);
			break;
		case 't':
			o->timeout = bench_number(optarg, 1, 86400, &ok);
			break;
		case 'v':
			o->verbose = 1;
			break;
		case 'h':
			dlrsink_usage(stdout);
			exit(0);
		default:
			return -1;
		}
	}
	if (!ok || o->port == 0 || optind != argc)
		return -1;
	return 0;
}

static void
dlrsink_free(struct dlrsink *ds)
{
	if (ds->http != NULL)
		evhttp_free(ds->http);
	if (ds->body != NULL)
		evbuffer_free(ds->body);
	if (ds->timeout_ev != NULL)
		event_free(ds->timeout_ev);
	if (ds->sigint_ev != NULL)
		event_free(ds->sigint_ev);
	if (ds->sigterm_ev != NULL)
		event_free(ds->sigterm_ev);
	if (ds->base != NULL)
		event_base_free(ds->base);
}

int
main(int argc, char **argv)
{
	struct dlrsink	 ds;
	struct timeval	 tv;
	int		 rc = 2;

	memset(&ds, 0, sizeof(ds));
	if (dlrsink_options(&ds.opt, argc, argv) == -1) {
		dlrsink_usage(stderr);
		return 2;
	}
	signal(SIGPIPE, SIG_IGN);

	if ((ds.base = event_base_new()) == NULL) {
		fprintf(stderr, "dlrsink: cannot create the event loop\n");
		goto out;
	}
	ds.timeout_ev = evtimer_new(ds.base, dlrsink_timeout_cb, &ds);
	ds.sigint_ev = evsignal_new(ds.base, SIGINT, dlrsink_signal_cb, &ds);
	ds.sigterm_ev = evsignal_new(ds.base, SIGTERM, dlrsink_signal_cb, &ds);
	ds.body = evbuffer_new();
	if (ds.timeout_ev == NULL || ds.sigint_ev == NULL ||
	    ds.sigterm_ev == NULL || ds.body == NULL ||
	    evsignal_add(ds.sigint_ev, NULL) == -1 ||
	    evsignal_add(ds.sigterm_ev, NULL) == -1) {
		fprintf(stderr, "dlrsink: cannot create events\n");
		goto out;
	}
	tv.tv_sec = (time_t)ds.opt.timeout;
	tv.tv_usec = 0;
	evtimer_add(ds.timeout_ev, &tv);

	if ((ds.http = evhttp_new(ds.base)) == NULL) {
		fprintf(stderr, "dlrsink: cannot create the HTTP server\n");
		goto out;
	}
	evhttp_set_gencb(ds.http, dlrsink_request_cb, &ds);
	if (evhttp_bind_socket(ds.http, "127.0.0.1",
	    (ev_uint16_t)ds.opt.port) == -1) {
		fprintf(stderr, "dlrsink: cannot listen on 127.0.0.1:%d: %s\n",
		    ds.opt.port, strerror(errno));
		goto out;
	}
	if (ds.opt.verbose)
		fprintf(stderr, "dlrsink: listening on 127.0.0.1:%d\n",
		    ds.opt.port);

	if (event_base_dispatch(ds.base) == -1) {
		fprintf(stderr, "dlrsink: event loop failed\n");
		goto out;
	}
	dlrsink_report(&ds);
	rc = ds.timed_out ? 1 : 0;
out:
	dlrsink_free(&ds);
	return rc;
}
