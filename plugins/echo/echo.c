/*
 * echo.c - the smallest useful marketbox plugin, and the example of what a
 * third party writes.  "ECHO hello there" is answered "hello there" (or,
 * with "prefix = Echo:" in its conf group, "Echo: hello there").
 *
 * What a plugin is
 * ----------------
 * A shared object exporting exactly one symbol, the descriptor
 *
 *	const struct mb_plugin marketbox_plugin = { MB_PLUGIN_HEADER, ... };
 *
 * Everything else stays static.  The only header it includes of marketbox
 * is <marketbox/plugin.h>; it links nothing of marketbox (marketbox hands
 * it a table of functions, struct mb_host, with every call).  Full
 * reference: marketbox-plugin(3).
 *
 * Building it out of tree, against an installed marketbox:
 *
 *	cc -shared -fPIC -Wall $(pkg-config --cflags marketbox) \
 *	    -o echo.so echo.c
 *	cp echo.so $(pkg-config --variable=plugindir marketbox)/
 *
 * It is built for plugin ABI 2 (MB_PLUGIN_HEADER says so) and needs no
 * library: a plugin with tables of its own works them through the host's
 * store functions (query, bind_*, step, column_*, done), which run on
 * SQLite and PostgreSQL alike, never through a database library of its
 * own.  In marketbox's tree, Makefile.am builds it as a libtool module
 * with -export-symbols-regex '^marketbox_plugin$'.
 *
 * Enabling it: with no "group = plugin" in marketbox.conf, every *.so in
 * plugin-dir is loaded; otherwise only those named:
 *
 *	group = plugin
 *	name = echo
 *	module = echo.so		(in plugin-dir, or a path)
 *
 *	group = plugin-echo		(optional: the plugin's own keys)
 *	prefix = Echo:
 *
 * A key in plugin-echo that the descriptor does not declare in conf_keys
 * stops marketbox at start, with the file and line.
 *
 * The words people type
 * ---------------------
 * The plugin registers the command id ECHO; the words for it, and the text
 * of every reply, live in the language files (language-dir), so the plugin
 * never writes user-visible text.  Each language file that should know the
 * command gets:
 *
 *	group = keyword
 *	command = ECHO
 *	words = echo
 *
 *	group = template
 *	name = echo
 *	text = "You said: {text}"
 *
 *	group = template
 *	name = usage-ECHO
 *	text = "Send: ECHO text, e.g. ECHO hello"
 *
 *	group = template
 *	name = help-ECHO		(for "HELP ECHO")
 *	text = "ECHO text: your text comes back, e.g. ECHO hello"
 *
 * A template missing from one language falls back to the default
 * language's.
 *
 * What the functions may do
 * -------------------------
 * A handler runs on marketbox's one thread, inside the transaction of the
 * message it handles: it must not block (no network, no sleep); what it
 * writes to the store, replies and notices commit or roll back together.
 * It returns MB_OK (handled; replies were made), MB_USAGE (the words did
 * not fit: marketbox replies with the command's usage template) or MB_FAIL
 * (a store failure: everything done for the message rolls back).
 *
 * init runs once at start, after the plugin's migrations, before any
 * handler; fini once at shutdown.  Both are optional.  State that lives
 * between messages hangs on the plugin context (set_state / state in
 * init, fini and timers; plugin_state from a handler).  Strings the host
 * returns live until the function returns: copy what must last.
 *
 * The host table only grows: a plugin built against this header finds
 * every function it knows at the same place on any later marketbox of the
 * same ABI.  A plugin that uses a function added in a later header checks
 * host->size first (ECHO_HOST_HAS below shows how).
 */
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include <marketbox/plugin.h>

/* Does this host's table reach function fn?  (See above.) */
#define ECHO_HOST_HAS(host, fn) \
	((host)->size >= offsetof(struct mb_host, fn) + sizeof((host)->fn) && \
	    (host)->fn != NULL)

/* What init keeps for the handler: the conf's prefix, or NULL. */
struct echo_state {
	char	*prefix;
};

static int
echo_init(struct mb_plugin_ctx *pctx, const struct mb_host *host)
{
	struct echo_state	*st;
	const char		*prefix;

	if (!ECHO_HOST_HAS(host, plugin_state)) {
		/* not possible: every host since ABI 1 has it */
		return MB_FAIL;
	}
	if ((st = calloc(1, sizeof(*st))) == NULL)
		return MB_FAIL;
	prefix = host->conf(pctx, "prefix");
	if (prefix != NULL && prefix[0] != '\0' &&
	    (st->prefix = strdup(prefix)) == NULL) {
		free(st);
		return MB_FAIL;
	}
	host->set_state(pctx, st);
	return MB_OK;
}

static void
echo_fini(struct mb_plugin_ctx *pctx, const struct mb_host *host)
{
	struct echo_state	*st = host->state(pctx);

	if (st != NULL) {
		free(st->prefix);
		free(st);
	}
	host->set_state(pctx, NULL);
}

/*
 * ECHO <text>: reply template "echo" with {text} = the words after the
 * keyword as typed (with the prefix before them, if the conf sets one).
 */
static int
echo_command(struct mb_ctx *ctx, const struct mb_host *host)
{
	const struct echo_state	*st = host->plugin_state(ctx);
	struct mb_arg		 arg;
	const char		*text;
	char			*both = NULL;
	size_t			 n;
	int			 rc;

	if (host->argc(ctx) == 0)
		return MB_USAGE;
	text = host->rest(ctx, 0);
	if (st != NULL && st->prefix != NULL) {
		n = strlen(st->prefix) + 1 + strlen(text) + 1;
		if ((both = malloc(n)) == NULL) {
			host->log(ctx, MB_LOG_ERROR, "echo: out of memory");
			return MB_FAIL;
		}
		strcpy(both, st->prefix);
		strcat(both, " ");
		strcat(both, text);
		text = both;
	}
	arg.name = "text";
	arg.value = text;
	rc = host->reply(ctx, "echo", &arg, 1);
	free(both);
	return rc == 0 ? MB_OK : MB_FAIL;
}

static const struct mb_command echo_commands[] = {
	{
		.id = "ECHO",
		.handler = echo_command,
		.usage = "usage-ECHO",
		.flags = 0,		/* no REG needed */
		.roles = 0,		/* anyone */
	},
};

static const char * const echo_conf_keys[] = { "prefix" };

const struct mb_plugin marketbox_plugin = {
	MB_PLUGIN_HEADER,
	.name = "echo",
	.version = "1.0",
	.commands = echo_commands,
	.ncommands = sizeof(echo_commands) / sizeof(echo_commands[0]),
	.conf_keys = echo_conf_keys,
	.nconf_keys = sizeof(echo_conf_keys) / sizeof(echo_conf_keys[0]),
	.init = echo_init,
	.fini = echo_fini,
};
