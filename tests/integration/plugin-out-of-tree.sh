#!/bin/bash
# tests/integration/plugin-out-of-tree.sh - a plugin built out of tree, as
# a third party would: `make install DESTDIR=...` from the build tree, the
# echo plugin's source copied away and compiled with nothing but the
# installed <marketbox/plugin.h> and the flags of the installed
# marketbox.pc, then loaded by `marketbox -n` (which loads and checks the
# plugins).  Also: the plugin directory of the install is scanned, and a
# plugin of another ABI or a conf key the plugin does not declare are
# refused.  No bearerbox needed.

. "$(dirname "$0")/lib.sh"

integ_init plugin-out-of-tree

for tool in make cc pkg-config; do
	if ! command -v "$tool" >/dev/null 2>&1; then
		echo "1..0 # SKIP $tool not found"
		exit 0
	fi
done
[ -x "$MARKETBOX" ] || tap_bail "$MARKETBOX not built"

tap_plan 12

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
pc=$(find "$ROOT" -name marketbox.pc -print -quit)
header=$(find "$ROOT" -path '*/include/marketbox/plugin.h' -print -quit)
tap_ok "the header is installed as <marketbox/plugin.h>, unchanged" \
    cmp -s "$header" "$top_srcdir/src/marketbox-plugin.h"
tap_ok "marketbox.pc is installed" test -n "$pc"

# The .pc names the configured prefix; point it into DESTDIR.  It is
# found first; the system's directories still give sqlite3, which it
# requires (the header includes <sqlite3.h>).
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

tap_end
