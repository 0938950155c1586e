/*
 * router_fixture.h - a real router for the tests of the transports (box,
 * HTTP, inbox): the shipped language files and the in-tree echo plugin,
 * so "echo hello" is answered "You said: hello" exactly as in production;
 * and an inbox over it, through the dispatch step, wired as main.c does.
 */
#ifndef MARKETBOX_TEST_ROUTER_FIXTURE_H
#define MARKETBOX_TEST_ROUTER_FIXTURE_H

struct conf;
struct inbox;
struct outbox;
struct store;
struct router;
struct ussd;

/*
 * Point conf at the shipped languages and the built echo plugin (setting
 * language_dir, plugin_dir and default_language, replacing what was
 * there), load them, start the plugins and make the router.  Fails the
 * test on any error.
 */
struct router	*fixture_router_new(struct conf *, struct store *,
		    struct outbox *);
/* Free the router and the plugins. */
void		 fixture_router_free(struct router *);

/*
 * An inbox whose dispatch step hands SMS to router and USSD to ussd (NULL:
 * none, USSD is routed as SMS), as main.c wires them.  One at a time.
 * Fails the test on any error.
 */
struct inbox	*fixture_inbox_new(struct store *, struct router *,
		    struct ussd *, struct outbox *);
/* Free the inbox and its dispatch step (NULL: nothing). */
void		 fixture_inbox_free(struct inbox *);

#endif
