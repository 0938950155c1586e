/*
 * fuzz_stack.h - the daemon's parts for the fuzz targets that feed whole
 * messages (fuzz_http, fuzz_router): the shipped conf, catalogue, USSD
 * menus and languages, the plugins market, prices and echo (built for the
 * fuzzer by tests/fuzz/lib.sh), a database in a temporary directory, the
 * outbox, router, inbox and USSD engine, and optionally the HTTP server on
 * a free loopback port.  Made once per process; fuzz_stack_reset() puts
 * the database back as it was made, so that every input starts alike.
 */
#ifndef MARKETBOX_FUZZ_STACK_H
#define MARKETBOX_FUZZ_STACK_H

struct event_base;
struct conf;
struct store;
struct outbox;
struct router;
struct dispatch;
struct inbox;
struct ussd;
struct http;

struct fuzz_stack {
	struct event_base	*base;
	struct conf		*conf;
	struct store		*store;
	struct outbox		*outbox;
	struct router		*router;
	struct dispatch		*dispatch;
	struct inbox		*inbox;
	struct ussd		*ussd;
	struct http		*http;		/* NULL: without_http */
	int			 port;		/* the HTTP server's */
};

/* Make the stack (with the HTTP server when http is 1); aborts on failure. */
void	fuzz_stack_new(struct fuzz_stack *, int http);

/* Commit what is open, then empty every table (but the schema's
 * versions) and forget the USSD sessions kept in memory. */
void	fuzz_stack_reset(struct fuzz_stack *);

#endif
