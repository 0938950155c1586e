/*
 * init_fails.c - a test plugin whose init fails: marketbox must not start,
 * and its fini must not run (its init did not succeed).
 */
#include <marketbox/plugin.h>

static int
init_fails_init(struct mb_plugin_ctx *pctx, const struct mb_host *host)
{
	(void)pctx;
	host->log(NULL, MB_LOG_ERROR, "init-fails: init");
	return MB_FAIL;
}

static void
init_fails_fini(struct mb_plugin_ctx *pctx, const struct mb_host *host)
{
	(void)pctx;
	host->log(NULL, MB_LOG_INFO, "init-fails: fini");
}

const struct mb_plugin marketbox_plugin = {
	MB_PLUGIN_HEADER,
	.name = "init-fails",
	.version = "1",
	.init = init_fails_init,
	.fini = init_fails_fini,
};
