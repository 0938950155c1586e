#!/bin/bash
# tests/integration/plugin-out-of-tree.sh - a plugin built out of tree, as
# a third party would: `make install DESTDIR=...` from the build tree, the
# echo plugin's source copied away and compiled with nothing but the
# installed <marketbox/plugin.h> and the flags of the installed
# marketbox.pc, then loaded by `marketbox -n` (which loads and checks the
# plugins).  Also: the plugin directory of the install is scanned, and a
# plugin of another ABI or a conf key the plugin does not declare are
# refused.  Then an ABI 2 plugin with a table of its own (a migration, and
# SQL through the host's query, bind, step and column functions, linking
# no database library) is built the same way and run: marketbox answers
# its command over HTTP (/sms), its rows land in the database.  No
# bearerbox needed.

. "$(dirname "$0")/lib.sh"

integ_pg && integ_require_pg
integ_init plugin-out-of-tree

for tool in make cc pkg-config; do
	if ! command -v "$tool" >/dev/null 2>&1; then
		echo "1..0 # SKIP $tool not found"
		exit 0
	fi
done
[ -x "$MARKETBOX" ] || tap_bail "$MARKETBOX not built"

tap_plan 23

ROOT=$T/root

# The make that runs this test must not lend its job server or flags to
# the one started here.
submake()
{
	env -u MAKEFLAGS -u MFLAGS -u MAKELEVEL make -C "$top_builddir" "$@"
}

# --- install ------------------------------------------------------------------

submake install DESTDIR="$ROOT" > "$T/install.log" 2>&1
rc=$?
tap_is "$rc" 0 "make install DESTDIR=\$T/root"
[ "$rc" -eq 0 ] || { tap_diag "$(tail -n 20 "$T/install.log")"; tap_bail "install failed"; }

prefix=$(sed -n 's/^prefix = //p' "$top_builddir/Makefile")

# The installed sample conf names this install's paths (distcheck's
# scratch prefix too), as the compiled-in defaults do: not /var/lib/...
# of another install.
# A prefix of another install's (/opt/mbx) goes through the same edit.
install_dirs()
{
	printf 'mb-print-dirs:\n\t@echo $(localstatedir) $(plugindir) $(pkgsysconfdir)\n' |
	    submake -s --no-print-directory -f Makefile -f - mb-print-dirs "$@"
}
sample_ok()
{
	local sample=$1/marketbox.conf

	grep -qxF "database = $2/lib/marketbox/marketbox.db" "$sample" &&
	    grep -qxF "log-file = $2/log/marketbox/marketbox.log" "$sample" &&
	    grep -qxF "#plugin-dir = $3" "$sample" ||
	    { tap_diag "$(grep -E '^#?(database|log-file|plugin-dir) =' "$sample")"; return 1; }
}
read -r localstatedir plugindir_conf pkgsysconfdir <<< "$(install_dirs)"
tap_ok "the installed marketbox.conf keeps the database and log under $localstatedir, plugin-dir $plugindir_conf" \
    sample_ok "$ROOT$pkgsysconfdir" "$localstatedir" "$plugindir_conf"
read -r localstatedir plugindir_conf pkgsysconfdir <<< \
    "$(install_dirs prefix=/opt/mbx)"
mkdir -p "$T/root2$pkgsysconfdir"
cp "$top_srcdir"/conf/{marketbox,catalogue,kannel,ussd}.conf \
    "$T/root2$pkgsysconfdir/"
submake install-data-hook DESTDIR="$T/root2" prefix=/opt/mbx \
    > "$T/install2.log" 2>&1
tap_ok "... and with --prefix=/opt/mbx under $localstatedir, plugin-dir $plugindir_conf" \
    sample_ok "$T/root2$pkgsysconfdir" "$localstatedir" "$plugindir_conf"
pc=$(find "$ROOT" -name marketbox.pc -print -quit)
header=$(find "$ROOT" -path '*/include/marketbox/plugin.h' -print -quit)
tap_ok "the header is installed as <marketbox/plugin.h>, unchanged" \
    cmp -s "$header" "$top_srcdir/src/marketbox-plugin.h"
tap_ok "marketbox.pc is installed" test -n "$pc"

# The .pc names the configured prefix; point it into DESTDIR.  It
# requires nothing: the header includes no database's header.
pkgconf()
{
	PKG_CONFIG_PATH=$(dirname "$pc") \
	    pkg-config --define-variable=prefix="$ROOT$prefix" "$@" marketbox
}
cflags=$(pkgconf --cflags)
cflags=${cflags%% }
plugindir=$(pkgconf --variable=plugindir)
incdir=${cflags#-I}
incdir=${incdir%% *}
tap_ok "pkg-config --cflags marketbox points into the install (-I$incdir)" \
    test -f "$incdir/marketbox/plugin.h"
tap_ok "the in-tree echo plugin is installed in plugindir" \
    test -f "$plugindir/echo.so"

# --- build out of tree ---------------------------------------------------------

mkdir -p "$T/src"
cp "$top_srcdir/plugins/echo/echo.c" "$T/src/echo.c"
# shellcheck disable=SC2086	# cflags are words
cc -shared -fPIC -Wall -Wextra -Werror $cflags -o "$T/echo.so" \
    "$T/src/echo.c" > "$T/cc.log" 2>&1
rc=$?
tap_is "$rc" 0 "echo.c builds with only the installed header and pkg-config"
[ "$rc" -eq 0 ] || tap_diag "$(cat "$T/cc.log")"

if command -v nm >/dev/null 2>&1; then
	tap_ok "it defines marketbox_plugin" \
	    eval "nm -D --defined-only '$T/echo.so' | grep -qw marketbox_plugin"
else
	tap_skip "it defines marketbox_plugin" "nm not found"
fi

# --- marketbox -n loads it -------------------------------------------------------

# conf_write FILE LINES...: a conf for -n; extra lines are appended.
conf_write()
{
	local file=$1
	shift
	{
		echo "group = marketbox"
		echo "global-sender = 777"
		echo "database = $T/marketbox.db"
		echo "language-dir = $top_srcdir/conf/lang"
		echo "plugin-dir = $plugindir"
		printf '%s\n' "$@"
	} > "$file"
	# The shipped HELP names the market and prices commands too: with
	# plugin groups, those two come from the install beside echo.
	if grep -q '^group = plugin$' "$file"; then
		printf '\ngroup = plugin\nname = %s\nmodule = %s\n' \
		    market "$plugindir/market.so" prices "$plugindir/prices.so" \
		    >> "$file"
	fi
}

conf_write "$T/out-of-tree.conf" "" \
    "group = plugin" "name = echo" "module = $T/echo.so" "" \
    "group = plugin-echo" "prefix = Echo:"
"$MARKETBOX" -v 1 -n "$T/out-of-tree.conf" > "$T/check1.out" 2>&1
rc=$?
tap_ok "marketbox -n loads the out-of-tree plugin (exit $rc)" \
    eval "[ $rc -eq 0 ] &&
	grep -qF 'plugin echo 1.0 loaded from $T/echo.so' '$T/check1.out'"
[ "$rc" -eq 0 ] || tap_diag "$(cat "$T/check1.out")"

conf_write "$T/dir.conf"
"$MARKETBOX" -v 1 -n "$T/dir.conf" > "$T/check2.out" 2>&1
rc=$?
tap_ok "with no plugin group, the installed plugin-dir is scanned (exit $rc)" \
    eval "[ $rc -eq 0 ] &&
	grep -qF 'plugin echo 1.0 loaded from $plugindir/echo.so' '$T/check2.out'"
[ "$rc" -eq 0 ] || tap_diag "$(cat "$T/check2.out")"

# --- and refuses what is wrong ------------------------------------------------------

conf_write "$T/badkey.conf" "" \
    "group = plugin" "name = echo" "module = $T/echo.so" "" \
    "group = plugin-echo" "prefix = Echo:" "prefx = typo"
"$MARKETBOX" -v 1 -n "$T/badkey.conf" > "$T/check3.out" 2>&1
rc=$?
tap_ok "a key the plugin does not declare is refused, with file:line (exit $rc)" \
    eval "[ $rc -ne 0 ] &&
	grep -qF \"$T/badkey.conf:13: plugin-echo: unknown key 'prefx'\" '$T/check3.out'"
[ "$rc" -ne 0 ] && grep -q "unknown key" "$T/check3.out" ||
    tap_diag "$(cat "$T/check3.out")"

# The same source with another ABI version in its descriptor.
sed 's/^\tMB_PLUGIN_HEADER,$/\t.abi = 99, .size = sizeof(struct mb_plugin),/' \
    "$T/src/echo.c" > "$T/src/echo99.c"
# shellcheck disable=SC2086
cc -shared -fPIC $cflags -o "$T/echo99.so" "$T/src/echo99.c" \
    > "$T/cc99.log" 2>&1 || tap_diag "$(cat "$T/cc99.log")"
conf_write "$T/abi.conf" "" \
    "group = plugin" "name = echo" "module = $T/echo99.so"
"$MARKETBOX" -v 1 -n "$T/abi.conf" > "$T/check4.out" 2>&1
rc=$?
tap_ok "a plugin of another ABI is refused (exit $rc)" \
    eval "[ $rc -ne 0 ] &&
	grep -qF '$T/echo99.so: plugin ABI version 99' '$T/check4.out'"
[ "$rc" -ne 0 ] || tap_diag "$(cat "$T/check4.out")"

conf_write "$T/missing.conf" "" \
    "group = plugin" "name = echo" "module = $T/nothere.so"
"$MARKETBOX" -v 1 -n "$T/missing.conf" > "$T/check5.out" 2>&1
rc=$?
tap_ok "a missing plugin file is refused (exit $rc)" \
    eval "[ $rc -ne 0 ] &&
	grep -qF '$T/nothere.so: cannot load' '$T/check5.out'"

# --- an ABI 2 plugin with a table, run ------------------------------------------
#
# It answers ECHO (the shipped languages have its words and templates) with
# the text's number among the sender's texts, kept in a table of its own.

cat > "$T/src/tally.c" <<'EOF'
#include <stdio.h>

#include <marketbox/plugin.h>

static const struct mb_migration tally_steps[] = {
	{ .version = 1,
	  .sql = "CREATE TABLE tally_texts ("
	      "  id INTEGER PRIMARY KEY,"
	      "  msisdn TEXT NOT NULL,"
	      "  text TEXT NOT NULL,"
	      "  at INTEGER NOT NULL)",
	  .sql_pg = "CREATE TABLE tally_texts ("
	      "  id BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,"
	      "  msisdn TEXT NOT NULL,"
	      "  text TEXT NOT NULL,"
	      "  at BIGINT NOT NULL)" },
};

static int
tally_echo(struct mb_ctx *ctx, const struct mb_host *host)
{
	static const char	 add[] = "INSERT INTO tally_texts"
	    "(msisdn, text, at) VALUES ($1, $2, $3) RETURNING id";
	static const char	 count[] = "SELECT count(*), max(id) "
	    "FROM tally_texts WHERE msisdn = $1";
	struct mb_stmt		*st;
	struct mb_arg		 arg = { "text", NULL };
	long long		 id = 0, n = 0, last = 0;
	char			 buf[200];
	int			 rc;

	if (host->argc(ctx) == 0)
		return MB_USAGE;
	if ((st = host->query(ctx, add)) == NULL)
		return MB_FAIL;
	host->bind_text(st, 1, host->sender(ctx));
	host->bind_text(st, 2, host->rest(ctx, 0));
	host->bind_int(st, 3, host->now(ctx));
	if ((rc = host->step(st)) == MB_ROW)
		id = host->column_int(st, 0);
	host->done(st);
	if (rc != MB_ROW)
		return MB_FAIL;
	if ((st = host->query(ctx, count)) == NULL)
		return MB_FAIL;
	host->bind_text(st, 1, host->sender(ctx));
	while ((rc = host->step(st)) == MB_ROW) {
		n = host->column_int(st, 0);
		last = host->column_null(st, 1) ? -1 : host->column_int(st, 1);
	}
	host->done(st);
	if (rc == MB_ERROR || last != id)
		return MB_FAIL;
	snprintf(buf, sizeof(buf), "#%lld (%lld of yours, %s): %s", id, n,
	    host->engine(ctx), host->rest(ctx, 0));
	arg.value = buf;
	return host->reply(ctx, "echo", &arg, 1) == 0 ? MB_OK : MB_FAIL;
}

static const struct mb_command tally_commands[] = {
	{ .id = "ECHO", .handler = tally_echo, .usage = "usage-ECHO" },
};

const struct mb_plugin marketbox_plugin = {
	MB_PLUGIN_HEADER,
	.name = "tally",
	.version = "2.0",
	.commands = tally_commands,
	.ncommands = 1,
	.migrations = tally_steps,
	.nmigrations = 1,
};
EOF
# shellcheck disable=SC2086	# cflags are words
cc -shared -fPIC -Wall -Wextra -Werror $cflags -o "$T/tally.so" \
    "$T/src/tally.c" > "$T/cc-tally.log" 2>&1
rc=$?
tap_is "$rc" 0 "an ABI 2 plugin using the store functions builds against the installed header"
[ "$rc" -eq 0 ] || tap_diag "$(cat "$T/cc-tally.log")"
if command -v nm >/dev/null 2>&1; then
	tap_ok "it needs no database library (no sqlite3_ or PQ symbol)" \
	    eval "! nm -D --undefined-only '$T/tally.so' | grep -Eq 'sqlite3_|PQ'"
else
	tap_skip "it needs no database library" "nm not found"
fi

# A marketbox with the tally plugin (and, for the shipped HELP, market
# and prices), MOs over HTTP; bearerbox's port is one nothing listens on.
port_pick BB_SMSBOX_PORT && port_pick MB_HTTP_PORT ||
    tap_bail "cannot pick ports"
MB_PLUGINS="market prices"
marketbox_conf_write "$T/marketbox.conf" "http-port = $MB_HTTP_PORT"
printf '\ngroup = plugin\nname = tally\nmodule = %s\n' "$T/tally.so" \
    >> "$MB_CONF"
marketbox_start || tap_bail "cannot run $MARKETBOX"
wait_until 15 eval 'http_get "$MB_HTTP_PORT" /health | grep -q ok'
tap_ok "marketbox starts with the ABI 2 plugin" \
    eval "grep -qF 'plugin tally 2.0 loaded from $T/tally.so' '$T/marketbox.stderr' &&
	proc_alive '$MB_PID'"

# mo TEXT ID: the answer to an MO from +254700000001 over /sms.
mo()
{
	http_get "$MB_HTTP_PORT" \
	    "/sms?from=%2B254700000001&to=777&id=$2&text=$1"
}
a1=$(mo 'echo+hello' t1)
a2=$(mo 'echo+again+please' t2)
engine=sqlite
integ_pg && engine=postgresql
tap_is "$a1" "You said: #1 (1 of yours, $engine): hello" \
    "its command runs: INSERT ... RETURNING id, bound values"
tap_is "$a2" "You said: #2 (2 of yours, $engine): again please" \
    "a second text: its statements again (cached), rows read with step"
if integ_pg || command -v sqlite3 >/dev/null 2>&1; then
	tap_is "$(db "SELECT version FROM schema_versions WHERE owner = 'tally'")" 1 \
	    "its migration is recorded under its name"
	tap_is "$(db_join '|' "SELECT text FROM tally_texts ORDER BY id")" \
	    "hello|again please" "its rows are in the store, committed"
else
	tap_skip "its migration is recorded under its name" "sqlite3 not found"
	tap_skip "its rows are in the store, committed" "sqlite3 not found"
fi
marketbox_stop
tap_is "$MB_EXIT" 0 "marketbox stops cleanly"
report=$(marketbox_sanitizer_report)
tap_is "$report" "" "no sanitizer report"

tap_end
