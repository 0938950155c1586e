#!/bin/bash
# tests/integration/monitoring.sh - the monitoring files of contrib/
# against the /metrics of a running marketbox: every metric name that an
# alert of contrib/prometheus/marketbox-rules.yml or a panel of
# contrib/grafana/marketbox-dashboard.json queries (the marketbox_ names
# of their expr; a histogram's _bucket, _sum and _count are its name) is
# exposed by a marketbox connected to a real bearerbox, with the market,
# prices and payments on and backup-dir set, after a few MOs; the link is
# up, the outbox's oldest age a number, the commit histogram counts the
# commits.  The rules file is checked with promtool (Debian's prometheus
# package) when it is installed, and for a for:, a severity and both
# annotations in every alert; the dashboard is valid JSON whose every
# panel has a query and a data source.
#
# backup-dir (group marketbox) is set, so the backup and disk metrics are
# on /metrics too.

. "$(dirname "$0")/lib.sh"

FARMER=+254700000001
BUYER=+254700000002

integ_require_kannel
command -v jq >/dev/null 2>&1 || { echo "1..0 # SKIP jq not found"; exit 0; }
integ_init monitoring

RULES=$top_srcdir/contrib/prometheus/marketbox-rules.yml
DASH=$top_srcdir/contrib/grafana/marketbox-dashboard.json
ADMIN_PW=m0nitor

# The metric names of the rules' expr (each expr: its line and the
# indented lines below it, up to the next key) and of the dashboard's
# targets, histograms by their own name, one per line, sorted.
rule_exprs()
{
	awk '
		/^[ \t]*expr:/ { on = 1; sub(/^[ \t]*expr:/, ""); print; next }
		on && /^[ \t]*(for|labels|annotations|alert|record|- alert):/ {
			on = 0 }
		on { print }' "$RULES"
}
dash_exprs()
{
	jq -r '.panels[].targets[].expr' "$DASH"
}
{ rule_exprs; dash_exprs; } | grep -oE 'marketbox_[a-z_]+' |
    sed -E 's/_(bucket|sum|count)$//' | sort -u > "$T/names"
NNAMES=$(wc -l < "$T/names")
[ "$NNAMES" -gt 10 ] || tap_bail "only $NNAMES metric names in the files"

tap_plan $((NNAMES + 9))

# --- the files ----------------------------------------------------------------------

if command -v promtool >/dev/null 2>&1; then
	tap_ok "promtool check rules $RULES" \
	    eval "promtool check rules '$RULES' > '$T/promtool.out' 2>&1"
	[ "$TAP_FAILED" -eq 0 ] || tap_diag "$(cat "$T/promtool.out")"
else
	tap_skip "promtool check rules" "promtool not found (Debian's prometheus package)"
fi

# Every alert has for:, a severity and both annotations: as many of each
# as there are alerts.
alerts=$(grep -c '^ *- alert:' "$RULES")
every_alert_has()
{
	local k n
	for k in 'for:' 'severity:' 'summary:' 'description:'; do
		n=$(grep -c "^ *$k" "$RULES")
		[ "$n" -eq "$alerts" ] ||
		    { tap_diag "$alerts alerts, $n with $k"; return 1; }
	done
}
tap_ok "each of the $alerts alerts has for:, severity, summary, description" \
    every_alert_has

tap_ok "the dashboard is valid JSON" eval "jq empty '$DASH'"
tap_is "$(jq '[.panels[] | select((.targets // []) | map(select((.expr // "") != "")) | length == 0) | .title]' -c "$DASH")" \
    "[]" "every dashboard panel has a query"
tap_is "$(jq -c '[.panels[] | select(.datasource.uid != "${DS_PROMETHEUS}") | .title]' "$DASH")" \
    "[]" "every panel's data source is the \${DS_PROMETHEUS} variable"

# --- a marketbox with everything on ------------------------------------------------

MB_PLUGINS=echo
for p in market prices; do
	[ -f "$top_builddir/plugins/$p/.libs/$p.so" ] &&
	    MB_PLUGINS="$MB_PLUGINS $p"
done
kannel_conf_write || tap_bail "cannot pick ports"
port_pick HTTP_PORT || tap_bail "cannot pick a port"
mkdir -p "$T/backups"
payments_group()
{
	cat <<'EOF2'

group = payments
provider = daraja-c2b
business-number = 512345
account-format = {ref}
shared-secret = 0123456789abcdef0123
mode = direct
EOF2
}
marketbox_conf_write "$T/marketbox.conf" "country-code = 254" \
    "http-port = $HTTP_PORT" "admin-password = $ADMIN_PW" \
    "backup-dir = \"$T/backups\""
payments_group >> "$T/marketbox.conf"
bearerbox_start || tap_bail "bearerbox does not start"
marketbox_start || tap_bail "cannot run $MARKETBOX"
marketbox_wait_connected 15 || tap_bail "marketbox does not connect"

# say PHONE TEXT: one MO, and wait for its answer (10 s at most).
say()
{
	local before

	before=$(phone_mt_count "$1")
	phone_send "$1" 777 "$2"
	wait_until 10 eval "[ \$(phone_mt_count '$1') -gt $before ]" ||
	    tap_diag "no answer to '$2' from $1"
}
say "$FARMER" "REG Mary Wanjiku Nakuru"
say "$BUYER" "REG John Otieno Nakuru"
say "$FARMER" "ECHO hello"
case " $MB_PLUGINS " in
*" market "*)	say "$FARMER" "SELL maize 10 bags 3000" ;;
esac
case " $MB_PLUGINS " in
*" prices "*)	say "$BUYER" "REPORT maize 3100 Nakuru" ;;
esac

scrape()
{
	http_get "$HTTP_PORT" "/metrics?password=$ADMIN_PW" > "$T/metrics"
}
scrape || tap_bail "no answer on /metrics"

# --- the names the files use --------------------------------------------------------

# A metric is exposed when its family is: its # TYPE line (a labelled
# family with no row yet, such as held reports when none is held, has
# no sample).
# The disk beside the database is a SQLite database's: on PostgreSQL the
# server's own monitoring watches its disk.
while read -r name; do
	if [ "$name" = marketbox_store_disk_free_bytes ] &&
	    [ "$MB_TEST_STORE" = postgresql ]; then
		tap_skip "$name is on /metrics" "a SQLite database's only"
		continue
	fi
	tap_ok "$name is on /metrics" \
	    grep -qE "^# TYPE $name (counter|gauge|histogram)\$" "$T/metrics"
done < "$T/names"

# --- their values -------------------------------------------------------------------

m() { awk -v k="$1" '$1 == k { print $2 }' "$T/metrics"; }
tap_is "$(grep -E '^marketbox_bearerbox_up\{' "$T/metrics" | awk '{ print $2 }')" \
    1 "marketbox_bearerbox_up is 1 while connected"
age=$(m marketbox_outbox_oldest_age_seconds)
tap_ok "marketbox_outbox_oldest_age_seconds is a number ('$age')" \
    eval "[[ '$age' =~ ^[0-9]+\$ ]]"
n=$(m marketbox_store_commit_seconds_count)
tap_ok "the commit histogram counts the commits ($n), +Inf is its count" \
    eval "[ '${n:-0}' -gt 0 ] && [ \"\$(m 'marketbox_store_commit_seconds_bucket{le=\"+Inf\"}')\" = '$n' ]"
tap_ok "marketbox_mo_received_total counts the MOs" \
    eval "[ \"\$(m marketbox_mo_received_total)\" -ge 3 ]"

tap_end
