/*
 * router_fixture.h - a real router for the tests of the transports (box,
 * HTTP, inbox): the shipped language files and the in-tree echo plugin,
 * so "echo hello" is answered "You said: hello" exactly as in production.
 */
#ifndef MARKETBOX_TEST_ROUTER_FIXTURE_H
#define MARKETBOX_TEST_ROUTER_FIXTURE_H

struct conf;
struct outbox;
struct store;
struct router;

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

#endif
