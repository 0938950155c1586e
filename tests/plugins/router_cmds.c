/*
 * router_cmds.c - a test plugin for tests/unit/engine/test_router.c: commands under
 * keyword ids the shipped language files know, each showing one thing the
 * router does around a plugin's handler.  Every reply uses the "echo"
 * template ("You said: {text}"), so a test reads what the handler saw.
 *
 *	SELL	needs REG and the transporter role; replies "sold <rest>"
 *	REPORT	anyone; replies its arguments as the host normalised them,
 *		joined by '|' ("3,000/=" arrives as "3000"), a number read
 *		two ways followed by '/' and its other reading ("2500/2.5")
 *	MY	needs REG; replies sender|name|market|language|roles(hex)
 *	WANT	replies nothing and returns MB_OK: the router must still answer
 *	BUY	returns MB_USAGE, the command has no usage template name
 *	CANCEL	writes nothing and returns MB_FAIL: the MO rolls back
 *	ACCEPT	ACCEPT phone: a notice to phone, and a reply "notified"
 *	REJECT	replies with a template no language has
 *	DELIVERED commodity unit: replies market-offer-ok with those codes
 *		as {commodity} and {unit}, which the host shows by their
 *		names in the reader's language
 *	ALERT [to PHONE] [ttl N] command words: asks PHONE (else the
 *		sender) "question <command words>" (the echo template),
 *		YES running the command words, within N seconds (else the
 *		conf's question lifetime); a question to another phone is
 *		answered "asked PHONE".  Run with confirmed() (a YES to
 *		"ALERT ALERT words"), it replies "confirmed <words>".
 *
 * PRICE and SENT stay unregistered, so they are "unavailable" with this
 * plugin loaded too.
 */
#include <stdio.h>
#include <string.h>

#include <marketbox/plugin.h>

static int
router_cmds_say(struct mb_ctx *ctx, const struct mb_host *host,
    const char *text)
{
	struct mb_arg	 a = { "text", text };

	return host->reply(ctx, "echo", &a, 1) == 0 ? MB_OK : MB_FAIL;
}

static int
router_cmds_sell(struct mb_ctx *ctx, const struct mb_host *host)
{
	char	 buf[256];

	snprintf(buf, sizeof(buf), "sold %s", host->rest(ctx, 0));
	return router_cmds_say(ctx, host, buf);
}

static int
router_cmds_report(struct mb_ctx *ctx, const struct mb_host *host)
{
	char	 buf[512] = "";
	size_t	 i, n = host->argc(ctx);

	const char	*other;

	for (i = 0; i < n; i++) {
		if (i > 0)
			strncat(buf, "|", sizeof(buf) - strlen(buf) - 1);
		strncat(buf, host->arg(ctx, i), sizeof(buf) - strlen(buf) - 1);
		if ((other = host->arg_other(ctx, i)) != NULL) {
			strncat(buf, "/", sizeof(buf) - strlen(buf) - 1);
			strncat(buf, other, sizeof(buf) - strlen(buf) - 1);
		}
	}
	if (host->arg_other(ctx, n) != NULL)
		return MB_FAIL;
	return router_cmds_say(ctx, host, buf);
}

static int
router_cmds_my(struct mb_ctx *ctx, const struct mb_host *host)
{
	char		 buf[256];
	const char	*name = host->sender_name(ctx);
	const char	*market = host->sender_market(ctx);

	snprintf(buf, sizeof(buf), "%s|%s|%s|%s|%x", host->sender(ctx),
	    name ? name : "(null)", market ? market : "(null)",
	    host->sender_language(ctx), host->sender_roles(ctx));
	return router_cmds_say(ctx, host, buf);
}

static int
router_cmds_want(struct mb_ctx *ctx, const struct mb_host *host)
{
	(void)ctx;
	(void)host;
	return MB_OK;
}

static int
router_cmds_buy(struct mb_ctx *ctx, const struct mb_host *host)
{
	(void)ctx;
	(void)host;
	return MB_USAGE;
}

static int
router_cmds_cancel(struct mb_ctx *ctx, const struct mb_host *host)
{
	/* A reply made before the failure must roll back with the MO. */
	router_cmds_say(ctx, host, "cancelled");
	return MB_FAIL;
}

static int
router_cmds_accept(struct mb_ctx *ctx, const struct mb_host *host)
{
	struct mb_arg	 a = { "text", "notice" };
	const char	*to;

	if (host->argc(ctx) < 1 || (to = host->msisdn(ctx,
	    host->arg(ctx, 0))) == NULL)
		return MB_USAGE;
	if (host->notify(ctx, to, "echo", &a, 1) != 0)
		return MB_FAIL;
	return router_cmds_say(ctx, host, "notified");
}

static int
router_cmds_reject(struct mb_ctx *ctx, const struct mb_host *host)
{
	return host->reply(ctx, "no-such-template", NULL, 0) == 0 ? MB_OK :
	    MB_FAIL;
}

static int
router_cmds_delivered(struct mb_ctx *ctx, const struct mb_host *host)
{
	struct mb_arg	 a[7] = {
		{ "ref", "1" }, { "commodity", NULL }, { "qty", "5" },
		{ "unit", NULL }, { "price", "3000" }, { "currency", "KES" },
		{ "market", "Nakuru" },
	};

	if (host->argc(ctx) < 2)
		return MB_USAGE;
	a[1].value = host->arg(ctx, 0);
	a[3].value = host->arg(ctx, 1);
	return host->reply(ctx, "market-offer-ok", a, 7) == 0 ? MB_OK : MB_FAIL;
}

static int
router_cmds_alert(struct mb_ctx *ctx, const struct mb_host *host)
{
	char		 text[300];
	const char	*to = NULL;
	size_t		 i = 0, n = host->argc(ctx);
	long long	 ttl = 0;
	struct mb_arg	 a = { "text", text };

	if (host->confirmed(ctx)) {
		snprintf(text, sizeof(text), "confirmed %s", host->rest(ctx, 0));
		return router_cmds_say(ctx, host, text);
	}
	if (i + 1 < n && strcmp(host->arg(ctx, i), "to") == 0) {
		if ((to = host->msisdn(ctx, host->arg(ctx, i + 1))) == NULL)
			return MB_USAGE;
		i += 2;
	}
	if (i + 1 < n && strcmp(host->arg(ctx, i), "ttl") == 0) {
		if (!host->arg_number(ctx, i + 1, 1, 86400, &ttl))
			return MB_USAGE;
		i += 2;
	}
	if (i >= n)
		return MB_USAGE;
	snprintf(text, sizeof(text), "question %s", host->rest(ctx, i));
	if (host->ask(ctx, to, "echo", &a, 1, host->rest(ctx, i),
	    (int)ttl) != 0)
		return MB_FAIL;
	if (to == NULL)
		return MB_OK;
	snprintf(text, sizeof(text), "asked %s", to);
	return router_cmds_say(ctx, host, text);
}

static const struct mb_command router_cmds_commands[] = {
	{ .id = "SELL", .handler = router_cmds_sell, .usage = "usage-SELL",
	  .flags = MB_CMD_REGISTERED, .roles = MB_ROLE_TRANSPORTER },
	{ .id = "REPORT", .handler = router_cmds_report,
	  .usage = "usage-REPORT" },
	{ .id = "MY", .handler = router_cmds_my, .usage = "usage-MY",
	  .flags = MB_CMD_REGISTERED },
	{ .id = "WANT", .handler = router_cmds_want, .usage = "usage-WANT" },
	{ .id = "BUY", .handler = router_cmds_buy, .usage = NULL },
	{ .id = "CANCEL", .handler = router_cmds_cancel,
	  .usage = "usage-CANCEL" },
	{ .id = "ACCEPT", .handler = router_cmds_accept,
	  .usage = "usage-ACCEPT" },
	{ .id = "REJECT", .handler = router_cmds_reject,
	  .usage = "usage-REJECT" },
	{ .id = "DELIVERED", .handler = router_cmds_delivered,
	  .usage = "usage-DELIVERED" },
	{ .id = "ALERT", .handler = router_cmds_alert, .usage = "usage-ALERT",
	  .flags = MB_CMD_REGISTERED },
};

const struct mb_plugin marketbox_plugin = {
	MB_PLUGIN_HEADER,
	.name = "router_cmds",
	.version = "1.0",
	.commands = router_cmds_commands,
	.ncommands = sizeof(router_cmds_commands) /
	    sizeof(router_cmds_commands[0]),
};
