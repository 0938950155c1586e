/*
 * fuzz_router.c - libFuzzer target for the router on whole MOs: each line
 * of the input is one MO through inbox_receive(), with the real router,
 * the shipped conf, catalogue, menus and languages and the plugins market,
 * prices and echo (fuzz_stack.c), committed as the daemon commits; the
 * database is emptied after each input.  Built and run by
 * tests/fuzz/run.sh.
 *
 * A line: its first byte chooses the phone (bits 0-1: one of four, two of
 * them registered by the line "\x00REG ..." a seed sends), the coding
 * (bits 2-3: 0 UTF-8, 1 ISO-8859-1, 2 UTF-16BE, 3 a USSD dial string
 * through the menus) and whether the reply is taken inline (bit 4); the
 * rest is the text as the phone's network hands it over.  MOs are a
 * minute apart.
 *
 * Invariants: every MO is taken (inbox_receive() 0), its done callback
 * runs once, after the commit, with stored or duplicate (a failure of the
 * store on well-formed input is a bug), and each commit succeeds.
 */
#include "config.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/gw.h"
#include "text/gsm.h"
#include "queue/inbox.h"
#include "queue/mo.h"
#include "store/store.h"
#include "fuzz_stack.h"

#define FUZZ_ROUTER_MOS		32	/* lines taken from one input */
#define FUZZ_ROUTER_TEXT	1600	/* bytes of a line's text */

int	LLVMFuzzerInitialize(int *, char ***);
int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static struct fuzz_stack	 fuzz_router_stack;
static int			 fuzz_router_calls;

static const char *const fuzz_router_phones[4] = {
	"+254700000001", "+254700000002", "0700000003", "+33612345678"
};

static void
fuzz_router_check(int ok)
{
	if (!ok)
		abort();
}

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	fuzz_stack_new(&fuzz_router_stack, 0);
	return 0;
}

static void
fuzz_router_done_cb(void *arg, enum inbox_status status, const char *reply)
{
	(void)arg;
	(void)reply;
	fuzz_router_calls++;
	fuzz_router_check(status == INBOX_STORED ||
	    status == INBOX_DUPLICATE);
}

static void
fuzz_router_mo(int n, unsigned char how, const uint8_t *p, size_t len)
{
	struct fuzz_stack	*st = &fuzz_router_stack;
	struct mo		 mo;
	char			 id[32], meta[96];
	char			*text;
	int			 coding = (how >> 2) & 3, calls;

	if (len > FUZZ_ROUTER_TEXT)
		len = FUZZ_ROUTER_TEXT;
	fuzz_router_check((text = gsm_to_utf8(p, len, coding == 3 ? 0 : coding,
	    NULL, NULL)) != NULL);
	memset(&mo, 0, sizeof(mo));
	snprintf(id, sizeof(id), "fuzz-%d", n);
	mo.id = id;
	mo.channel = "box";
	mo.sender = fuzz_router_phones[how & 3];
	mo.receiver = "777";
	mo.text = text;
	mo.coding = coding == 3 ? 0 : coding;
	mo.time = 1700000000LL + 60LL * n;
	mo.reply_inline = (how >> 4) & 1;
	if (coding == 3) {
		/* A USSD request as an aggregator's callback makes it. */
		snprintf(id, sizeof(id), "ussd:fuzz%d:%d", how & 3, n);
		snprintf(meta, sizeof(meta), "?http?sessionId=fuzz%d&"
		    "serviceCode=%%2A384%%23&networkCode=63902&", how & 3);
		mo.channel = "ussd";
		mo.meta_data = meta;
		mo.reply_inline = 1;
	}
	calls = fuzz_router_calls;
	fuzz_router_check(inbox_receive(st->inbox, &mo, fuzz_router_done_cb,
	    NULL) == 0);
	fuzz_router_check(store_commit(st->store) == 0);
	fuzz_router_check(fuzz_router_calls == calls + 1);
	free(text);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const uint8_t	*p = data, *end = data + size, *nl;
	int		 n = 0;

	while (p < end && n < FUZZ_ROUTER_MOS) {
		if ((nl = memchr(p, '\n', (size_t)(end - p))) == NULL)
			nl = end;
		if (nl > p)
			fuzz_router_mo(n++, p[0], p + 1, (size_t)(nl - p - 1));
		p = nl + 1;
	}
	fuzz_stack_reset(&fuzz_router_stack);
	return 0;
}
