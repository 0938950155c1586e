#!/bin/bash
# tests/integration/admin.sh - the admin pages of a marketbox connected to
# a real bearerbox, after a scripted conversation (REG, ECHO, HELP, STOP,
# and market commands, a pool among them, and price commands when those
# plugins are built): the figures of /status.json and /metrics (the open
# pools too) are checked against the database with
# sqlite3; the password (none, wrong and slowed down, ?password=, Basic);
# then /status is loaded in headless Chromium, the figures it shows are
# checked against the database, and a screenshot is kept in the build
# tree (its path is printed).

. "$(dirname "$0")/lib.sh"

ADMIN_PW='adm1n pass&word'		# a space and an & to encode
ADMIN_PW_Q='adm1n%20pass%26word'
FARMER=+254700000001
BUYER=+254700000002
QUIET=+254700000003			# sends STOP
VISITOR=+254700000004			# never registers

integ_require_kannel
command -v jq >/dev/null 2>&1 || { echo "1..0 # SKIP jq not found"; exit 0; }
integ_init admin
tap_plan 31

MB_PLUGINS=echo
HAVE_MARKET=0
HAVE_PRICES=0
if [ -f "$top_builddir/plugins/market/.libs/market.so" ]; then
	MB_PLUGINS="$MB_PLUGINS market"
	HAVE_MARKET=1
fi
if [ -f "$top_builddir/plugins/prices/.libs/prices.so" ]; then
	MB_PLUGINS="$MB_PLUGINS prices"
	HAVE_PRICES=1
fi
kannel_conf_write || tap_bail "cannot pick ports"
port_pick HTTP_PORT || tap_bail "cannot pick a port"
marketbox_conf_write "$T/marketbox.conf" "country-code = 254" \
    "http-port = $HTTP_PORT" "admin-password = \"$ADMIN_PW\""
bearerbox_start || tap_bail "bearerbox does not start"
marketbox_start || tap_bail "cannot run $MARKETBOX"
marketbox_wait_connected 15 || tap_bail "marketbox does not connect"

# --- the conversation ---------------------------------------------------------------

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
say "$QUIET" "REG Ann Njeri Nakuru"
say "$QUIET" "STOP"
say "$VISITOR" "HELP"
say "$FARMER" "ECHO hello"
say "$BUYER" "LANG sw"
if [ "$HAVE_MARKET" = 1 ]; then
	say "$FARMER" "SELL maize 10 bags 3000"
	say "$BUYER" "WANT maize 5 bags 3200"
	say "$BUYER" "BUY 1 2"
	# a pool, and a member's share in it (the pools of /status)
	say "$FARMER" "POOL SELL maize 20 bags 3000 7"
	say "$QUIET" "JOIN $(db "SELECT MAX(ref) FROM market_pools") 5"
fi
if [ "$HAVE_PRICES" = 1 ]; then
	say "$FARMER" "REPORT maize 3000 Nakuru"
	say "$BUYER" "REPORT maize 3100 Nakuru"
	say "$QUIET" "REPORT maize 2900 Nakuru"
fi

# Until every SMS has left and its delivery report is in: the figures are
# still then.
settled()
{
	[ "$(db "SELECT COUNT(*) FROM outbox WHERE state IN ('queued',
	    'sending') OR (state IN ('accepted', 'buffered') AND dlr_state IS
	    NULL)")" = 0 ]
}
wait_until 20 settled || tap_diag "the outbox did not settle"
# A phone known without a language (a row an older version made): it
# counts under "none", listed first on either engine.
db "INSERT INTO users(msisdn, created, updated)
    VALUES ('+254700000099', 1, 1)" || tap_diag "cannot add a user"
sleep 0.5

# --- /status.json against the database -----------------------------------------------

json=$(http_get "$HTTP_PORT" "/status.json?password=$ADMIN_PW_Q")
printf '%s\n' "$json" > "$T/status.json"
tap_ok "/status.json is JSON" eval "jq -e . '$T/status.json' >/dev/null"
j() { jq -r "$1" "$T/status.json"; }

tap_is "$(j .mo.total)" "$(db "SELECT COUNT(*) FROM inbox")" \
    "mo.total is the inbox's row count"
tap_is "$(j '.mo.received - .mo.duplicates')" \
    "$(db "SELECT COUNT(*) FROM inbox")" \
    "every MO was taken by this process (duplicates aside)"
tap_is "$(j '[.outbox.queued, .outbox.sending, .outbox.accepted,
    .outbox.buffered, .outbox.delivered, .outbox.failed, .outbox.inline] |
    map(tostring) | join(" ")')" \
    "$(for s in queued sending accepted buffered delivered failed inline; do
	db "SELECT COUNT(*) FROM outbox WHERE state = '$s'"; done | xargs)" \
    "outbox counts by state match"
tap_is "$(j '.mt.total')" \
    "$(db "SELECT COUNT(*) FROM outbox WHERE state <> 'inline'")" \
    "mt.total counts every outbox row but inline ones"
tap_is "$(j '.dlr | to_entries | map("\(.key)=\(.value)") | join(" ")')" \
    "$(db "SELECT dlr_state || '=' || COUNT(*) FROM outbox WHERE dlr_state
    IS NOT NULL GROUP BY dlr_state ORDER BY dlr_state" | xargs)" \
    "DLR outcomes match"
tap_is "$(j '[.users.total, .users.registered, .users.opted_out] |
    map(tostring) | join(" ")')" \
    "$(db "SELECT COUNT(*), COUNT(name),
    SUM(CASE WHEN opt_out <> 0 THEN 1 ELSE 0 END) FROM users" |
    tr '|' ' ')" "users: known, registered, opted out"
tap_is "$(j '.users.by_language_role | map("\(.language)/\(.role)=\(.count)")
    | join(" ")')" \
    "$(db "SELECT COALESCE(language, 'none') || '/' || role || '=' ||
    COUNT(*) FROM users GROUP BY language, role ORDER BY CASE WHEN
    language IS NULL THEN 0 ELSE 1 END, language, role" | xargs)" \
    "users by language and role (no language first, on either engine)"
tap_is "$(j .link.mode) $(j .link.up)" "box true" "the bearerbox link is up"
tap_is "$(j '.plugins | map(.name) | join(" ")')" "$MB_PLUGINS" \
    "the plugins loaded are listed"
if [ "$HAVE_MARKET" = 1 ]; then
	tap_is "$(j '[.market.open_offers, .market.open_wants] |
	    map(tostring) | join(" ")')" \
	    "$(db "SELECT SUM(CASE WHEN kind = 'offer' AND state = 'open'
	    THEN 1 ELSE 0 END), SUM(CASE WHEN kind = 'want' AND
	    state = 'open' THEN 1 ELSE 0 END) FROM market_posts" |
	    tr '|' ' ')" "open offers and wants match"
	tap_is "$(j '.market.orders | to_entries |
	    map("\(.key)=\(.value)") | join(" ")')" \
	    "$(db "SELECT state || '=' || COUNT(*) FROM market_orders
	    GROUP BY state ORDER BY state" | xargs)" "orders by state match"
	tap_is "$(j '.pools.list | map("\(.ref):\(.kind):\(.state):\(.commodity):\(.filled)/\(.target):\(.members):\(.deadline)") | join(" ")')" \
	    "$(db "SELECT p.ref || ':' || p.kind || ':' || p.state || ':' ||
	    p.commodity || ':' || (SELECT SUM(s.qty) FROM market_pool_shares s
	    WHERE s.pool = p.ref) || '/' || p.target || ':' || (SELECT
	    COUNT(*) FROM market_pool_shares s WHERE s.pool = p.ref) || ':' ||
	    p.deadline FROM market_pools p WHERE p.state IN ('open',
	    'listed') ORDER BY p.deadline, p.ref" | xargs)" \
	    "the open pool: filled of target, members, deadline"
else
	tap_skip "open offers and wants match" "the market plugin is not built"
	tap_skip "orders by state match" "the market plugin is not built"
	tap_skip "the open pool: filled of target, members, deadline" \
	    "the market plugin is not built"
fi

# --- /metrics against the database -----------------------------------------------------

http_get "$HTTP_PORT" "/metrics?password=$ADMIN_PW_Q" > "$T/metrics"
m() { awk -v k="$1" '$1 == k { print $2 }' "$T/metrics"; }
tap_ok "/metrics is Prometheus text: comments or 'marketbox_name{labels} value'" \
    eval "! grep -vE '^(# (HELP|TYPE) marketbox_[a-z_]+ .+|marketbox_[a-z_]+(\\{[a-z_]+=\"[^\"]*\"(,[a-z_]+=\"[^\"]*\")*\\})? [0-9.]+)\$' '$T/metrics'"
tap_is "$(m marketbox_mo_total)" "$(db "SELECT COUNT(*) FROM inbox")" \
    "marketbox_mo_total"
tap_is "$(m 'marketbox_outbox_messages{state="delivered"}')" \
    "$(db "SELECT COUNT(*) FROM outbox WHERE state = 'delivered'")" \
    "marketbox_outbox_messages{state=delivered}"
tap_is "$(m marketbox_users_opted_out)" \
    "$(db "SELECT COUNT(*) FROM users WHERE opt_out <> 0")" \
    "marketbox_users_opted_out"
tap_is "$(m 'marketbox_users{language="sw",role="user"}')" \
    "$(db "SELECT COUNT(*) FROM users WHERE language = 'sw' AND
    role = 'user'")" "marketbox_users by language and role"
tap_is "$(m 'marketbox_bearerbox_up{mode="box"}') $(m marketbox_plugins_loaded)" \
    "1 $(echo $MB_PLUGINS | wc -w)" "bearerbox up, plugins loaded"
if [ "$HAVE_MARKET" = 1 ]; then
	tap_is "$(m 'marketbox_market_pools{kind="sell",state="open"}')" \
	    "$(db "SELECT COUNT(*) FROM market_pools WHERE kind = 'sell' AND
	    state = 'open'")" "marketbox_market_pools{kind=sell,state=open}"
else
	tap_skip "marketbox_market_pools{kind=sell,state=open}" \
	    "the market plugin is not built"
fi
if [ "$HAVE_PRICES" = 1 ]; then
	tap_is "$(m 'marketbox_price_reports{status="ok"}')" \
	    "$(db "SELECT COUNT(*) FROM prices_reports WHERE status = 'ok'")" \
	    "marketbox_price_reports{status=ok}"
else
	tap_skip "marketbox_price_reports{status=ok}" \
	    "the prices plugin is not built"
fi

# --- the password --------------------------------------------------------------------

# raw PORT REQUEST-LINE [HEADER]: the whole answer (status, headers, body).
raw()
{
	timeout 15 bash -c '
		exec 3<>"/dev/tcp/127.0.0.1/$1" || exit 1
		printf "%s HTTP/1.0\r\nHost: 127.0.0.1\r\n" "$2" >&3
		[ -n "$3" ] && printf "%s\r\n" "$3" >&3
		printf "\r\n" >&3
		cat <&3' _ "$@" 2>/dev/null
}

tap_ok "no password: 401 with a Basic challenge" \
    eval "raw $HTTP_PORT 'GET /status' |
	grep -q '^WWW-Authenticate: Basic realm=\"marketbox admin\"'"
status=$(raw "$HTTP_PORT" "GET /metrics?password=wrong" | head -n 1 |
    tr -d '\r')
# At once after it, the address is refused without its password judged,
# even the right one.
locked=$(raw "$HTTP_PORT" "GET /metrics?password=$ADMIN_PW_Q" | tr -d '\r')
tap_ok "a wrong password: 401, then 429 with Retry-After for the address" \
    eval "[ '${status#HTTP/1.? }' = '401 Unauthorized' ] &&
	printf '%s\n' \"\$locked\" | grep -q '^HTTP/1.. 429' &&
	printf '%s\n' \"\$locked\" | grep -q '^Retry-After: 1\$'"
sleep 0.6
tap_ok "the wrong password is logged with the address" \
    grep -q "admin: wrong password from 127.0.0.1 for /metrics" \
    "$T/marketbox.log"
basic=$(printf 'ops:%s' "$ADMIN_PW" | base64 -w0)
tap_ok "HTTP Basic with the password: 200" \
    eval "raw $HTTP_PORT 'GET /status.json' 'Authorization: Basic $basic' |
	head -n 1 | grep -q '^HTTP/1.. 200'"
tap_ok "?password= works on /status: HTML" \
    eval "raw $HTTP_PORT 'GET /status?password=$ADMIN_PW_Q' |
	grep -q '^Content-Type: text/html; charset=utf-8'"

# --- /status in a real browser ------------------------------------------------------------

CHROMIUM=$(command -v chromium || command -v chromium-browser || true)
SHOT=$top_builddir/tests/integration/admin-status.png
DOM=$T/status.dom
URL="http://127.0.0.1:$HTTP_PORT/status?password=$ADMIN_PW_Q"
if [ -z "$CHROMIUM" ]; then
	for d in "loads in headless Chromium" "shows the database's figures" \
	    "draws the price charts" "screenshot taken"; do
		tap_skip "/status $d" "chromium is not installed (Debian: chromium)"
	done
else
	chrome()
	{
		timeout 90 "$CHROMIUM" --headless --no-sandbox --disable-gpu \
		    --disable-quic --no-first-run --disable-background-networking \
		    --disable-component-update --disable-sync \
		    --disable-dev-shm-usage --user-data-dir="$(mktemp -d \
		    "$T/chromium.XXXXXX")" "$@" "$URL" 2>> "$T/chromium.err"
	}
	chrome --dump-dom > "$DOM"
	tap_ok "/status loads in headless Chromium" \
	    grep -q '<h1>marketbox' "$DOM"
	# shown FIGURE: the number the page shows for data-k="FIGURE".
	shown()
	{
		sed -n "s/.*data-k=\"$1\">\\([0-9.]*\\)<.*/\\1/p" "$DOM" | head -n 1
	}
	got="$(shown mo_total) $(shown outbox.delivered) $(shown users.registered)"
	got="$got $(shown users.opted_out) $(shown users.sw.user)"
	want="$(db "SELECT COUNT(*) FROM inbox")"
	want="$want $(db "SELECT COUNT(*) FROM outbox WHERE state = 'delivered'")"
	want="$want $(db "SELECT COUNT(name) FROM users")"
	want="$want $(db "SELECT COUNT(*) FROM users WHERE opt_out <> 0")"
	want="$want $(db "SELECT COUNT(*) FROM users WHERE language = 'sw'
	    AND role = 'user'")"
	tap_is "$got" "$want" "/status shows the database's figures (MOs, \
delivered, registered, STOP, sw users)"
	if [ "$HAVE_PRICES" = 1 ]; then
		tap_ok "/status draws the price charts as SVG" \
		    eval "grep -q '<polyline class=\"line\"' '$DOM' &&
			grep -q 'aria-label=\"maize · nakuru\"' '$DOM'"
	else
		tap_skip "/status draws the price charts" \
		    "the prices plugin is not built"
	fi
	mkdir -p "$(dirname "$SHOT")"
	rm -f "$SHOT"
	chrome --screenshot="$SHOT" --window-size=1200,1600 \
	    --hide-scrollbars > /dev/null
	tap_ok "/status screenshot taken" \
	    eval "[ -s '$SHOT' ] && head -c 8 '$SHOT' | od -An -c | grep -q 'P   N   G'"
	tap_diag "screenshot of /status: $SHOT"
fi

tap_ok "no sanitizer report" eval "! marketbox_sanitizer_report"
tap_end
