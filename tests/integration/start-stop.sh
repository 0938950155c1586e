#!/bin/bash
# tests/integration/start-stop.sh - marketbox's life cycle beside a real
# bearerbox: conf check (-n, including commands HELP names that no plugin
# runs), connecting, SIGHUP reload (good and broken conf, HELP naming a
# command nothing runs, a broken and a good hub tree), SIGUSR1 log
# reopening, SIGTERM shutdown, and a
# sound database after.

. "$(dirname "$0")/lib.sh"

integ_require_kannel
integ_init start-stop
tap_plan 30

kannel_conf_write || tap_bail "cannot pick ports"
marketbox_conf_write

# --- conf check -------------------------------------------------------------

"$MARKETBOX" -n "$MB_CONF" > "$T/check-good.out" 2>&1
tap_is "$?" 0 "marketbox -n accepts a good conf"
# At the default level: the verdict and the problems, not libgw's DEBUG
# lines nor the loaders' progress.
tap_ok "-n prints no DEBUG or INFO lines at the default level" \
    eval "grep -q 'configuration OK' '$T/check-good.out' &&
	! grep -qE 'DEBUG:|INFO:' '$T/check-good.out'"
# Without country-code a local number (0722...) is no number: -n says so.
tap_ok "-n warns that without country-code local numbers are refused" \
    grep -q "no country-code: phone numbers typed in local form" \
	"$T/check-good.out"
[ "$TAP_FAILED" -eq 0 ] || tap_diag "$(cat "$T/check-good.out")"
sed 's/^global-sender = 777$/&\ncountry-code = 254/' "$MB_CONF" > "$T/cc.conf"
"$MARKETBOX" -n "$T/cc.conf" > "$T/check-cc.out" 2>&1
tap_ok "with country-code, -n says only: configuration OK" \
    eval "[ \"\$(cat '$T/check-cc.out')\" = '$T/cc.conf: configuration OK' ]"
[ "$TAP_FAILED" -eq 0 ] || tap_diag "$(cat "$T/check-cc.out")"

sed 's/^log-level = /log-levle = /' "$MB_CONF" > "$T/typo.conf"
"$MARKETBOX" -n "$T/typo.conf" > "$T/check-typo.out" 2>&1
rc=$?
tap_ok "marketbox -n refuses a conf with a typo'd key (exit $rc)" \
    test "$rc" -ne 0
line=$(grep -n '^log-levle = ' "$T/typo.conf" | cut -d: -f1)
tap_ok "the complaint names the file, the key's own line and the key meant" \
    grep -qF "$T/typo.conf:$line: unknown key 'log-levle' in group marketbox (did you mean log-level?)" \
	"$T/check-typo.out"
[ "$TAP_FAILED" -eq 0 ] || tap_diag "$(cat "$T/check-typo.out")"

# No plugins (an empty plugin-dir, no plugin groups): HELP and the USSD
# menus name commands nothing runs, so the conf is refused.
mkdir -p "$T/noplugins"
sed -e '/^group = plugin$/,$d' \
    -e "s|^plugin-dir = .*|plugin-dir = $T/noplugins|" "$MB_CONF" \
    > "$T/noplugins.conf"
"$MARKETBOX" -n "$T/noplugins.conf" > "$T/check-noplugins.out" 2>&1
rc=$?
tap_ok "marketbox -n refuses a conf with no plugins (exit $rc)" \
    eval "[ $rc -ne 0 ] && ! grep -q 'configuration OK' \
	'$T/check-noplugins.out'"
tap_ok "the complaint names the language file, the line and the command" \
    grep -qE "conf/lang/en.conf:[0-9]+: template help names SELL" \
	"$T/check-noplugins.out"
line=$(grep -n '^plugin-dir = ' "$T/noplugins.conf" | cut -d: -f1)
tap_ok "-n warns at plugin-dir's line that it holds no plugin" \
    grep -qF "$T/noplugins.conf:$line: plugin-dir $T/noplugins holds no plugin (*.so)" \
	"$T/check-noplugins.out"
[ "$rc" -ne 0 ] || tap_diag "$(cat "$T/check-noplugins.out")"

# --- start, connect ----------------------------------------------------------

bearerbox_start || tap_bail "bearerbox does not start"
marketbox_start || tap_bail "cannot run $MARKETBOX"
tap_ok "marketbox connects: bearerbox lists the box marketbox" \
    marketbox_wait_connected 15
tap_ok "marketbox logs the identified link" \
    grep -q 'connected to bearerbox' "$T/marketbox.log"

# --- SIGHUP ------------------------------------------------------------------

# A valid change: a different max-parts.
marketbox_conf_write "$MB_CONF" "max-parts = 4"
kill -HUP "$MB_PID"
tap_ok "SIGHUP with a valid changed conf: the log says reload done" \
    wait_until 5 grep -q 'reload done' "$T/marketbox.log"
tap_ok "marketbox still runs after the reload" proc_alive "$MB_PID"

# A broken one: the old conf stays in use.
marketbox_conf_write "$MB_CONF" "max-parts = lots"
kill -HUP "$MB_PID"
tap_ok "SIGHUP with a broken conf: the log says it keeps the old one" \
    wait_until 5 grep -q 'keeping' "$T/marketbox.log"
sleep 0.5
tap_ok "marketbox still runs and is still connected" marketbox_connected
marketbox_conf_write "$MB_CONF"

# A directory include whose file includes a missing one: libgw would
# panic on it, so both -n and the reload refuse it, naming file and line.
mkdir -p "$T/conf.d"
printf 'include = "no-such-file.conf"\n' > "$T/conf.d/extra.conf"
cp "$MB_CONF" "$T/good.conf"
marketbox_conf_write "$MB_CONF" "include = \"$T/conf.d\""
"$MARKETBOX" -n "$MB_CONF" > "$T/incdir.out" 2>&1
rc=$?
tap_ok "-n refuses a directory include whose file includes a missing one" \
    eval "[ $rc -eq 1 ] && grep -q 'conf.d/extra.conf:1: cannot read included file' '$T/incdir.out'"
kill -HUP "$MB_PID"
tap_ok "SIGHUP with that conf: the old one stays, named file and line" \
    wait_until 5 grep -q 'conf.d/extra.conf:1: cannot read included' \
	"$T/marketbox.log"
sleep 0.5
tap_ok "marketbox still runs and is still connected" marketbox_connected
cp "$T/good.conf" "$MB_CONF"

# Languages whose HELP names a command nothing runs: the reload is refused.
cp -r "$top_srcdir/conf/lang" "$T/lang-pay"
printf '\ngroup = template\nname = help-PAY\ntext = "PAY order"\n' \
    >> "$T/lang-pay/en.conf"
sed "s|^language-dir = .*|language-dir = $T/lang-pay|" "$MB_CONF" \
    > "$T/pay.conf"
cp "$MB_CONF" "$T/good.conf"
cp "$T/pay.conf" "$MB_CONF"
kill -HUP "$MB_PID"
tap_ok "SIGHUP with HELP naming a command nothing runs: refused, named" \
    wait_until 5 grep -q "lang-pay/en.conf:[0-9]*: template help-PAY names PAY" \
	"$T/marketbox.log"
tap_ok "... and the old configuration stays" \
    wait_until 5 grep -q 'reload failed: the USSD menus or HELP' \
	"$T/marketbox.log"
cp "$T/good.conf" "$MB_CONF"

# --- SIGUSR1 -------------------------------------------------------------------

mv "$T/marketbox.log" "$T/marketbox.log.1"
kill -USR1 "$MB_PID"
tap_ok "SIGUSR1: a new log file appears" \
    wait_until 5 test -f "$T/marketbox.log"
kill -HUP "$MB_PID"
tap_ok "the new log file gets the lines that follow" \
    wait_until 5 grep -q 'reload done' "$T/marketbox.log"
tap_is "$(grep -c 'reload done' "$T/marketbox.log.1")" 1 \
    "the renamed file gets no more lines"

# --- the catalogue's hubs on SIGHUP --------------------------------------------

# A village hub without its township: refused with its file and line, the
# old tree kept; then a whole tree: reloaded.
cp "$MB_CONF" "$T/good.conf"
printf '\ngroup = hub\ncode = lanet\nlevel = village\nmarkets = nakuru\n' \
    >> "$MB_CONF"
line=$(grep -n '^level = village$' "$MB_CONF" | cut -d: -f1)
kill -HUP "$MB_PID"
tap_ok "SIGHUP with a village hub without a parent: refused at line $line" \
    wait_until 5 grep -q "marketbox.conf:$line: level: hub 'lanet' is a village: it needs a parent" \
	"$T/marketbox.log"
cp "$T/good.conf" "$MB_CONF"
printf '\ngroup = hub\ncode = nakuru-county\nlevel = county\n' >> "$MB_CONF"
printf '\ngroup = hub\ncode = nakuru-town\nlevel = township\nparent = nakuru-county\n' \
    >> "$MB_CONF"
printf '\ngroup = hub\ncode = lanet\nlevel = village\nparent = nakuru-town\nmarkets = nakuru\noperators = +254701100300\n' \
    >> "$MB_CONF"
kill -HUP "$MB_PID"
tap_ok "SIGHUP with a county, township and village hub: reloaded" \
    wait_until 5 eval "[ \$(grep -c 'reload done' '$T/marketbox.log') -ge 2 ]"
cp "$T/good.conf" "$MB_CONF"

# --- SIGTERM -------------------------------------------------------------------

start=$SECONDS
marketbox_stop
stopped=$?
tap_ok "SIGTERM stops marketbox within 5 s ($((SECONDS - start)) s)" \
    test "$stopped" -eq 0
tap_is "$MB_EXIT" 0 "marketbox exits with status 0"
report=$(marketbox_sanitizer_report)
tap_is "$report" "" "no sanitizer report in marketbox's stderr"

# --- the database afterwards --------------------------------------------------

db_integrity "the database passes integrity_check"
version=$(db_schema_version)
tap_ok "the schema version is at least 1 (it is '$version')" \
    test "${version:-0}" -ge 1

tap_end
