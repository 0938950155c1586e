#!/bin/bash
# tests/integration/marketctl.sh - marketctl against a marketbox connected
# to a real bearerbox, after a scripted conversation: its tables, --csv and
# --json against the database (sqlite3 or psql), the database opened
# read-only, then the actions through the admin interface: user set
# changes a role, a broadcast reaches every phone of a market but the one
# that sent STOP, retry sends failed notices again; the agents of the
# service points (agent add and remove, their report, their exports); a
# dispute opened by SMS (PROBLEM) and closed with dispute close, both
# parties and the admin told; price reports held for review (far from
# the median) listed, approved (PRICE counts it at once) and rejected
# (kept) with reports approve|reject and the form of /status (its token,
# no script); a hub's manifest (legs of the delivery
# chain written into the database, as marketbox's IN and OUT leave
# them); payments (group = payments): a confirmation naming no order in
# the suspense list (payments --unmatched), matched with payments match,
# a refund due listed by payouts and recorded by payouts done, the
# ledger exported (payments.csv), the money on /status.json; and the
# refusals and usage errors of each.

. "$(dirname "$0")/lib.sh"

ADMIN_PW=ctl-secret
FARMER=+254700000001
BUYER=+254700000002
QUIET=+254700000003			# sends STOP
FAR=+254700000005			# registered at another market
VISITOR=+254700000004			# never registers
ADMIN=+254700000009			# the conf's admin: told of disputes
BROADCAST="Maize prices are up at Nakuru: sell before Friday"

integ_require_kannel
command -v jq >/dev/null 2>&1 || { echo "1..0 # SKIP jq not found"; exit 0; }
integ_init marketctl
tap_plan 148

MARKETCTL=$top_builddir/src/marketctl
[ -x "$MARKETCTL" ] || tap_bail "$MARKETCTL not built"
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
    "http-port = $HTTP_PORT" "admin-password = $ADMIN_PW" "admins = $ADMIN"
cat >> "$T/marketbox.conf" <<'EOF'

group = market
code = eldoret
name = Eldoret

group = service-point
code = nakuru
name = Nakuru point
market = nakuru

group = service-point
code = eldoret
name = Eldoret point
market = eldoret

group = payments
provider = daraja-c2b
business-number = 512345
shared-secret = 0123456789abcdef
EOF
bearerbox_start || tap_bail "bearerbox does not start"
marketbox_start || tap_bail "cannot run $MARKETBOX"
marketbox_wait_connected 15 || tap_bail "marketbox does not connect"

ctl() { "$MARKETCTL" -c "$MB_CONF" "$@"; }

say()
{
	local before

	before=$(phone_mt_count "$1")
	phone_send "$1" 777 "$2"
	wait_until 10 eval "[ \$(phone_mt_count '$1') -gt $before ]" ||
	    tap_diag "no answer to '$2' from $1"
}

say "$FARMER" "REG Mary Wanjiku Nakuru"
say "$BUYER" "REG John, Otieno Nakuru"	# a comma for the CSV
say "$QUIET" "REG Ann Njeri Nakuru"
say "$QUIET" "STOP"
say "$FAR" "REG Peter Kip Eldoret"
say "$VISITOR" "HELP"
say "$FARMER" "ECHO hello"
if [ "$HAVE_MARKET" = 1 ]; then
	say "$FARMER" "SELL maize 10 bags 3000"
	say "$FAR" "SELL maize 4 bags 2999.50 Eldoret"
	say "$BUYER" "BUY 1 2"
fi
if [ "$HAVE_PRICES" = 1 ]; then
	say "$FARMER" "REPORT maize 3000 Nakuru"
	say "$BUYER" "REPORT maize 3100 Nakuru"
fi
settled()
{
	[ "$(db "SELECT COUNT(*) FROM outbox WHERE state IN ('queued',
	    'sending') OR (state IN ('accepted', 'buffered') AND dlr_state IS
	    NULL)")" = 0 ]
}
wait_until 20 settled || tap_diag "the outbox did not settle"

# --- reading --------------------------------------------------------------------------

ctl users > "$T/users.txt" 2> "$T/users.err"
tap_is "$(head -n 1 "$T/users.txt" | tr -s ' ')" \
    "phone name market language role stop trades since" \
    "users: a table with a header"
tap_is "$(($(wc -l < "$T/users.txt") - 1))" "$(db "SELECT COUNT(*) FROM users")" \
    "users: one line per person"
# Every role (all "user" for now) starts under the header "role".
tap_is "$(awk 'NR == 1 { p = index($0, " role ") + 1; next }
    { print substr($0, p, 5) }' "$T/users.txt" | sort -u)" "user " \
    "users: columns are aligned"
ctl --csv users > "$T/users.csv"
tap_is "$(sed -n 1p "$T/users.csv" | tr -d '\r')" \
    "phone,name,market,language,role,stop,trades,since" "users --csv: header"
tap_is "$(grep -c . "$T/users.csv")" "$(($(db "SELECT COUNT(*) FROM users") + 1))" \
    "users --csv: a line per person"
tap_ok "users --csv quotes a field with a comma" \
    grep -qF "$BUYER,\"John, Otieno\",nakuru," "$T/users.csv"
# Names an older version let in: formulas must reach a spreadsheet as
# text, control characters the terminal as escapes.  On SQLite they are
# written into a copy; a PostgreSQL database is not a file to copy: they
# go into it for the two reads, then out again.
HOSTILE="INSERT INTO users(msisdn, name, created, updated)
    VALUES ('+254799000001', '=HYPERLINK(\"http://x.test\",\"y\")', 1, 1),
    ('+254799000002', '=cmd|''/C calc''!A0', 1, 1),
    ('+254799000003', '@SUM(A1)', 1, 1),
    ('+254799000004', CHR(27) || ']0;pwned' || CHR(7) || 'Ann', 1, 1)"
if integ_pg; then
	hostile=$MB_DB
	db "$HOSTILE"
else
	hostile=$T/hostile.db
	db ".backup '$hostile'"
	sqlite3 "$hostile" "${HOSTILE//CHR(/char(}"
fi
"$MARKETCTL" -d "$hostile" --csv users > "$T/hostile.csv"
formulas_quoted()
{
	grep -qF "+254799000001,\"'=HYPERLINK(\"\"http://x.test\"\",\"\"y\"\")\"," "$T/hostile.csv" &&
	grep -qF "+254799000002,\"'=cmd|'/C calc'!A0\"," "$T/hostile.csv" &&
	grep -qF "+254799000003,\"'@SUM(A1)\"," "$T/hostile.csv"
}
tap_ok "users --csv: formulas start with ', phones do not" formulas_quoted
"$MARKETCTL" -d "$hostile" users > "$T/hostile.txt"
tap_ok "users: control characters are shown as escapes, never sent raw" \
    eval "grep -qF '\\x1b]0;pwned\\x07Ann' '$T/hostile.txt' &&
	! grep -q \"\$(printf '\\033')\" '$T/hostile.txt'"
integ_pg && db "DELETE FROM users WHERE msisdn LIKE '+2547990000%'"
# A reader takes the database as it is: an older schema is not migrated,
# the file's mode is not narrowed.
if integ_pg; then
	tap_skip "users: the database read as it is (not migrated, mode kept)" \
	    "a SQLite file's version and mode"
else
	db ".backup '$T/older.db'"
	sqlite3 "$T/older.db" "PRAGMA user_version = 7"
	chmod 0644 "$T/older.db"
	"$MARKETCTL" -d "$T/older.db" --csv users > "$T/older.csv"
	rc=$?
	mode=$(stat -c %a "$T/older.db")
	tap_is "$rc $(sqlite3 "$T/older.db" "PRAGMA user_version") $mode" \
	    "0 7 644" \
	    "users: the database read as it is (not migrated, mode kept)"
fi
ctl users --json > "$T/users.json"
tap_is "$(jq length "$T/users.json")" "$(db "SELECT COUNT(*) FROM users")" \
    "users --json parses, one object per person"
tap_is "$(jq -r '.[] | select(.stop == "yes") | .phone' "$T/users.json")" \
    "$QUIET" "users --json: who sent STOP"
tap_is "$(jq -r '[.[] | .trades] | map(type) | unique | join(" ")' \
    "$T/users.json")" "number" "users --json: numbers are numbers"
tap_is "$(ctl --json users --market eldoret | jq -r '.[].phone')" "$FAR" \
    "users --market filters"
tap_is "$("$MARKETCTL" -d "$MB_DB" --csv users --opted-out | tail -n +2 |
    cut -d, -f1)" "$QUIET" "-d opens the database alone; --opted-out filters"
tap_is "$(ctl --json outbox --limit 0 | jq length)" \
    "$(db "SELECT COUNT(*) FROM outbox")" "outbox --json --limit 0: every row"
tap_is "$(ctl --csv outbox --to "$VISITOR" | tail -n +2 | cut -d, -f3 |
    sort -u)" "$VISITOR" "outbox --to filters"
# A number as people type it, made international as the daemon makes it
# (country-code 254): the same rows.
tap_is "$(ctl --csv outbox --to "0700 000 004" | tail -n +2 | cut -d, -f3 |
    sort -u)" "$VISITOR" "outbox --to 0700 000 004 finds $VISITOR"
# A reply goes to the sender as the SMSC gave it (here 254..., no +):
# the number as typed finds it too.
say 254700000099 "HELP"
tap_is "$(ctl --csv outbox --to 254700000099 | tail -n +2 | cut -d, -f3 |
    sort -u)" "254700000099" "outbox --to 254700000099 finds the replies to that sender"
# Without country-code a local number matches nothing marketbox keeps:
# a usage error that says to give it with its country code.
sed '/^country-code/d' "$MB_CONF" > "$T/nocc.conf"
"$MARKETCTL" -c "$T/nocc.conf" outbox --to 0700000004 > "$T/nocc.out" 2>&1
rc=$?
tap_ok "outbox --to: a local number without country-code is a usage error (exit $rc)" \
    eval "[ $rc -eq 2 ] && grep -q 'with + and its country code' '$T/nocc.out'"
tap_is "$("$MARKETCTL" -c "$T/nocc.conf" --csv outbox --to "$VISITOR" |
    tail -n +2 | cut -d, -f3 | sort -u)" "$VISITOR" \
    "outbox --to: an international number needs no country-code"
# Values nothing can hold are usage errors that list the allowed ones.
ctl outbox --state sent > "$T/choice.out" 2>&1
rc=$?
tap_ok "outbox --state sent: usage error listing the states (exit $rc)" \
    eval "[ $rc -eq 2 ] && grep -qF \"'sent' is not one of: queued, sending, accepted, buffered, delivered, failed, inline\" '$T/choice.out'"
ctl outbox --kind sms > "$T/choice.out" 2>&1
rc=$?
tap_ok "outbox --kind sms: usage error (exit $rc)" \
    eval "[ $rc -eq 2 ] && grep -qF 'reply, notice, ussd, broadcast' '$T/choice.out'"
ctl users --role farmers > "$T/choice.out" 2>&1
rc=$?
tap_ok "users --role farmers: usage error (exit $rc)" \
    eval "[ $rc -eq 2 ] && grep -qF 'user, farmer, buyer' '$T/choice.out'"
ctl users --language xx > "$T/choice.out" 2>&1
rc=$?
tap_ok "users --language xx: usage error naming the languages (exit $rc)" \
    eval "[ $rc -eq 2 ] && grep -q 'en' '$T/choice.out'"
if [ "$HAVE_MARKET" = 1 ]; then
	ctl offers --state opened > "$T/choice.out" 2>&1
	rc=$?
	tap_ok "offers --state opened: usage error, the states from the database (exit $rc)" \
	    eval "[ $rc -eq 2 ] && grep -qF 'open, closed, cancelled, expired, all' '$T/choice.out'"
	ctl orders --state done > "$T/choice.out" 2>&1
	rc=$?
	tap_ok "orders --state done: usage error (exit $rc)" \
	    eval "[ $rc -eq 2 ] && grep -qF 'pending, accepted' '$T/choice.out'"
	tap_is "$(ctl --csv offers --kind want --state all | tail -n +2 | wc -l)" \
	    "$(db "SELECT COUNT(*) FROM market_posts WHERE kind = 'want'")" \
	    "offers --kind want --state all: allowed values still filter"
else
	tap_skip "offers --state opened" "the market plugin is not built"
	tap_skip "orders --state done" "the market plugin is not built"
	tap_skip "offers --kind want" "the market plugin is not built"
fi
ctl --json stats > "$T/stats.json"
tap_is "$(jq -r '[.users, .["users.registered"], .["users.opted_out"], .mo,
    .["outbox.delivered"]] | map(tostring) | join(" ")' "$T/stats.json")" \
    "$(db "SELECT (SELECT COUNT(*) FROM users), (SELECT COUNT(name) FROM
    users), (SELECT COUNT(*) FROM users WHERE opt_out <> 0), (SELECT
    COUNT(*) FROM inbox), (SELECT COUNT(*) FROM outbox WHERE state =
    'delivered')" | tr '|' ' ')" "stats --json matches the database"
json=$(http_get "$HTTP_PORT" "/status.json?password=$ADMIN_PW")
tap_is "$(jq -r '.["outbox.delivered"]' "$T/stats.json")" \
    "$(printf '%s' "$json" | jq -r .outbox.delivered)" \
    "stats agrees with /status.json"
tap_ok "stats: a table for people" \
    eval "ctl stats | grep -qE '^users\\.opted_out +1\$'"

if [ "$HAVE_MARKET" = 1 ]; then
	ctl --json offers > "$T/offers.json"
	tap_is "$(jq -r 'map("\(.ref) \(.market) \(.price)") | join(",")' \
	    "$T/offers.json")" "$(db "SELECT ref, market, price FROM
	    market_posts WHERE state = 'open' ORDER BY ref DESC" |
	    awk -F'|' '{ printf "%s%s %s %s", (NR > 1 ? "," : ""), $1, $2,
		$3 / 100 } END { print "" }')" \
	    "offers --json: open offers, newest first, prices as numbers"
	tap_is "$(ctl --csv orders | tail -n +2 | cut -d, -f1,3,5,7,8,11 |
	    tr -d '\r')" "$(db "SELECT ref FROM market_orders"),maize,2,3000,6000,pending" \
	    "orders --csv: the order with its offer's commodity"
	# A delivered order, as the market plugin leaves one.
	db "UPDATE market_orders SET state = 'delivered'"
	tap_is "$(ctl export trades | tail -n +2 | cut -d, -f3-9 | tr -d '\r')" \
	    "maize,nakuru,2,bag,3000,6000,KES" \
	    "export trades: the delivered order, without phone numbers"
	# The same order as a pool's: two share orders (parent set) are
	# parts of it, neither exported nor counted again.
	db "INSERT INTO market_orders(ref, offer, buyer, seller, qty, price,
	    total, state, created, updated, parent) SELECT ref + 1000 + k,
	    offer, buyer, seller, 1, price, price, state, created, updated,
	    ref FROM market_orders, (SELECT 1 AS k UNION SELECT 2) AS two"
	tap_is "$(ctl export trades | tail -n +2 | cut -d, -f3-9 |
	    tr -d '\r') $(ctl --json stats | jq -r '.["orders.delivered"]')" \
	    "maize,nakuru,2,bag,3000,6000,KES 1" \
	    "export trades, stats: a pool's sale once, not its share orders"
	db "DELETE FROM market_orders WHERE parent IS NOT NULL"
else
	for d in offers orders "export trades" "export trades, stats"; do
		tap_skip "$d" "the market plugin is not built"
	done
fi
if [ "$HAVE_PRICES" = 1 ]; then
	mkdir "$T/export"
	ctl export -o "$T/export" 2> "$T/export.err"
	tap_is "$(tail -n +2 "$T/export/prices.csv" | cut -d, -f3-6 |
	    tr -d '\r' | sort | xargs)" \
	    "maize,nakuru,3000,KES maize,nakuru,3100,KES" \
	    "export: prices.csv beside trades.csv"
else
	tap_skip "export: prices.csv" "the prices plugin is not built"
fi

# --- actions through the admin interface ---------------------------------------------------

tap_is "$(ctl user set agent 0700000005)" "+254700000005 is now agent" \
    "user set: says what it did"
tap_is "$(db "SELECT role FROM users WHERE msisdn = '$FAR'")" agent \
    "user set: the role is changed"

before_f=$(phone_mt_count "$FARMER")
before_b=$(phone_mt_count "$BUYER")
before_q=$(phone_mt_count "$QUIET")
out=$(ctl broadcast --market nakuru --wait "$BROADCAST")
tap_is "$out" "broadcast 1: 2 people matched, 2 notices queued" \
    "broadcast --market: two people match"
tap_ok "the broadcast reaches the farmer" \
    phone_expect_text "$FARMER" "$BROADCAST" 10
tap_ok "the broadcast reaches the buyer" \
    phone_expect_text "$BUYER" "$BROADCAST" 10
sleep 1
tap_is "$(phone_texts "$QUIET" | grep -cxF "$BROADCAST")" 0 \
    "the phone that sent STOP gets nothing"
tap_is "$(db "SELECT COUNT(*) FROM outbox WHERE kind = 'broadcast'")" 2 \
    "two broadcast rows in the outbox"

# Two notices fail (as an SMSC refusing them would leave them); retry.
wait_until 10 eval "[ \"\$(db \"SELECT COUNT(*) FROM outbox WHERE kind =
    'broadcast' AND state = 'delivered'\")\" = 2 ]"
db "UPDATE outbox SET state = 'failed', error = 'test' WHERE kind =
    'broadcast'"
tap_is "$(ctl retry --kind broadcast)" "2 failed messages queued again" \
    "retry: says how many"
tap_ok "retried notices leave again" eval "wait_until 10 eval \"[ \\\$(phone_texts '$FARMER' | grep -cxF '$BROADCAST') -eq 2 ]\""
tap_is "$(db "SELECT COUNT(*) FROM outbox WHERE state = 'failed'")" 0 \
    "no failed row is left"

# One text a language: the buyer reads Swahili for this, the farmer
# English; each phone gets its own text, word for word.
lang_b=$(db "SELECT COALESCE(language, 'NULL') FROM users WHERE msisdn = '$BUYER'")
db "UPDATE users SET language = 'sw' WHERE msisdn = '$BUYER'"
EN_TEXT="Market closed Monday"
SW_TEXT="Soko limefungwa Jumatatu"
out=$(ctl broadcast --market nakuru --wait --text en="$EN_TEXT" \
    --text sw="$SW_TEXT")
tap_is "$out" "broadcast 2: 2 people matched, 2 notices queued" \
    "broadcast --text en=... --text sw=...: two people match"
tap_ok "the farmer (en) gets the English text" \
    phone_expect_text "$FARMER" "$EN_TEXT" 10
tap_ok "the buyer (sw) gets the Swahili text" \
    phone_expect_text "$BUYER" "$SW_TEXT" 10
sleep 1
tap_is "$(phone_texts "$BUYER" | grep -cxF "$EN_TEXT") $(phone_texts \
    "$FARMER" | grep -cxF "$SW_TEXT")" "0 0" \
    "neither gets the other's text"
rows=$(db "SELECT COUNT(*) FROM outbox WHERE kind = 'broadcast'")
ctl broadcast --market nakuru --text fr="Marché fermé" > "$T/bc.out" 2>&1
rc=$?
tap_ok "no text for en (the default) nor sw: refused, the readers counted (exit $rc)" \
    eval "[ $rc -eq 1 ] && grep -qF 'en 1 recipient, sw 1 recipient' '$T/bc.out'"
tap_is "$(db "SELECT COUNT(*) FROM outbox WHERE kind = 'broadcast'")" \
    "$rows" "the refused broadcast queued nothing"
ctl broadcast --market nakuru --text xx=hello > "$T/bc.out" 2>&1
rc=$?
tap_ok "broadcast --text xx=...: an unknown language is a usage error (exit $rc)" \
    eval "[ $rc -eq 2 ] && grep -q \"'xx' is not one of\" '$T/bc.out'"
ctl broadcast --market nakuru --text en=a "and one more" > "$T/bc.out" 2>&1
tap_is "$?" 2 "broadcast: TEXT and --text together is a usage error"
if [ "$lang_b" = NULL ]; then
	db "UPDATE users SET language = NULL WHERE msisdn = '$BUYER'"
else
	db "UPDATE users SET language = '$lang_b' WHERE msisdn = '$BUYER'"
fi

# --- service points: agents through the admin, their report from the database -------------
# The service points nakuru and eldoret (the conf above); members, actions
# and commissions are rows made here as the core records them.

AGENT=+254722000111
AGENT2=+254722000333
tap_is "$(ctl agent add 0722000111 --point nakuru)" \
    "$AGENT is an agent of nakuru (new)" "agent add: says what it did"
tap_is "$(db "SELECT a.point || ' ' || u.role FROM agents a JOIN users u ON
    u.msisdn = a.msisdn WHERE a.msisdn = '$AGENT' AND a.removed IS NULL")" \
    "nakuru agent" "agent add: an agents row and the role agent"
ctl agent add 0722000111 --point nowhere > "$T/agent.out" 2>&1
rc=$?
tap_ok "agent add: an unknown point is refused, and said so (exit $rc)" \
    eval "[ $rc -eq 1 ] && grep -q 'unknown service point' '$T/agent.out'"
ctl agent add 0722000111 > "$T/agent.out" 2>&1
rc=$?
tap_ok "agent add without --point: its usage (exit $rc)" \
    eval "[ $rc -eq 2 ] && grep -q 'agent add PHONE --point CODE' '$T/agent.out'"
ctl agent add 0722000333 --point eldoret > /dev/null
db "UPDATE users SET name = 'Wanjiru' WHERE msisdn = '$AGENT'"
db "UPDATE users SET name = 'Kiprop' WHERE msisdn = '$AGENT2'"
D=$(date -u -d '2026-03-02 10:00' +%s)
LATE=$(date -u -d '2026-04-10 10:00' +%s)
db "INSERT INTO members (code, point, agent, identity, phone, name, state,
    created) VALUES ('M1', 'nakuru', '$AGENT', 'm:M1', NULL, 'Mary', 'active',
    $D), ('M2', 'nakuru', '$AGENT', '+254733000222', '+254733000222', 'Ruth',
    'active', $D), ('M3', 'nakuru', '$AGENT', 'm:M3', NULL, 'Esther', 'off',
    $D), ('M4', 'eldoret', '$AGENT2', 'm:M4', NULL, 'Joy', 'active', $D)"
db "INSERT INTO agent_actions (inbox_id, agent, member, command, at) VALUES
    (NULL, '$AGENT', 'M1', 'SELL maize 10 bags 3000', $D),
    (NULL, '$AGENT', 'M2', 'WANT beans 5 bags', $D),
    (NULL, '$AGENT', 'M1', 'BUY 12 2', $D),
    (NULL, '$AGENT', 'M1', 'MY', $D),
    (NULL, '$AGENT', 'M2', 'SELL maize 1 bag 100', $LATE)"
db "INSERT INTO commissions (ref, point, agent, member, side, total, rate_bp,
    amount, at) VALUES
    (50, 'nakuru', '$AGENT', 'M1', 'seller', 600000, 250, 15000, $D),
    (50, 'nakuru', '$AGENT', 'M2', 'buyer', 600000, 250, 15000, $D),
    (51, 'nakuru', '$AGENT', 'M1', 'seller', 205050, 250, 5126, $((D + 86400))),
    (60, 'nakuru', '$AGENT', 'M2', 'seller', 10000, 250, 250, $LATE)"
MARCH="--from 2026-03-01 --to 2026-03-31"
tap_is "$(ctl agents $MARCH | tr -s ' ' | sed 's/ $//')" \
    "agent name point state members posts orders trades value commission
$AGENT2 Kiprop eldoret active 1 0 0 0 0 0
$AGENT Wanjiru nakuru active 2 2 1 2 8050.50 351.26" \
    "agents: members now, posts, orders, trades, value and commission in the period"
tap_is "$(ctl agents $MARCH | tail -n +2 | awk '{ print length($0) }' | sort -u |
    wc -l)" 1 "agents: money aligned right like the counts (every row as wide)"
tap_is "$(ctl --csv agents $MARCH | tr -d '\r')" \
    "agent,name,point,state,members,posts,orders,trades,value,commission
$AGENT2,Kiprop,eldoret,active,1,0,0,0,0,0
$AGENT,Wanjiru,nakuru,active,2,2,1,2,8050.50,351.26" "agents --csv"
tap_is "$(ctl --json agents | jq -r '.[] | select(.agent == "'"$AGENT"'") |
    "\(.point) \(.members) \(.posts) \(.orders) \(.trades) \(.value) \(
    .commission) \([.members, .posts, .orders, .trades, .value, .commission] |
    map(type) | unique | join(","))"')" "nakuru 2 3 1 3 8150.5 353.76 number" \
    "agents --json: without a period, every day; counts and money as numbers, as offers give prices"
tap_is "$(ctl --csv export commissions --since 2026-03-01 --until 2026-03-02 |
    tail -n +2 | cut -d, -f1,3,5-10 | tr -d '\r' | xargs)" \
    "50,nakuru,M1,,seller,6000,250,150 50,nakuru,M2,,buyer,6000,250,150" \
    "export commissions: the period's rows, without the members' phones"
tap_is "$(ctl --json export commissions --since 2026-03-01 --until 2026-03-02 |
    jq -r 'map([.total, .commission, .rate_bp] | map(tojson) | join(" ")) |
    join(",")')" \
    "6000 150 250,6000 150 250" "export commissions --json: money as numbers, as trades give it"
tap_is "$(ctl export commissions --with-phones --since 2026-03-02 \
    --until 2026-03-02 | tail -n +2 | cut -d, -f4-6 | tr -d '\r' | xargs)" \
    "$AGENT,M1, $AGENT,M2,+254733000222" \
    "export commissions --with-phones: a member's phone, when she has one"
tap_is "$(ctl export agent_actions --until 2026-03-31 | tail -n +2 |
    cut -d, -f3-5,7 | tr -d '\r' | paste -sd '|')" \
    "nakuru,$AGENT,M1,SELL maize 10 bags 3000|nakuru,$AGENT,M2,WANT beans 5 bags|nakuru,$AGENT,M1,BUY 12 2|nakuru,$AGENT,M1,MY" \
    "export agent_actions: who acted, for whom, what, at which point"
mkdir "$T/export-agents"
ctl export -o "$T/export-agents" > /dev/null 2>&1
tap_is "$(head -n 1 "$T/export-agents/agent_actions.csv" | tr -d '\r') $(
    head -n 1 "$T/export-agents/commissions.csv" | tr -d '\r')" \
    "action,date,point,agent,member,member_phone,command,message order_ref,date,point,agent,member,member_phone,side,total,rate_bp,commission" \
    "export -o DIR: agent_actions.csv and commissions.csv beside the others"
tap_is "$(http_get "$HTTP_PORT" "/status.json?password=$ADMIN_PW" |
    jq -c '.service_points')" '[{"point":"eldoret","agents":1,"members":1,"commission":0},{"point":"nakuru","agents":1,"members":2,"commission":35376}]' \
    "/status.json: the service points, their agents, members and commission"
tap_ok "/metrics: the members of a service point" eval "http_get '$HTTP_PORT' \
    '/metrics?password=$ADMIN_PW' | grep -qx 'marketbox_service_point_members{point=\"nakuru\"} 2'"
tap_is "$(ctl agent remove 0722000111)" \
    "$AGENT is no longer an agent of nakuru (2 active members left without one)" \
    "agent remove: says what it did"
tap_is "$(db "SELECT u.role FROM agents a JOIN users u ON u.msisdn = a.msisdn
    WHERE a.msisdn = '$AGENT' AND a.removed IS NOT NULL")" user \
    "agent remove: removed, the role back to user"
tap_is "$(ctl --csv agents $MARCH | grep -c "^$AGENT,Wanjiru,nakuru,removed,2,2,1,2,")" 1 \
    "agents: a removed agent keeps its history"
ctl agent remove 0722000111 > "$T/agent.out" 2>&1
rc=$?
tap_ok "agent remove: not an agent any more, said so (exit $rc)" \
    eval "[ $rc -eq 1 ] && grep -q 'is not an agent' '$T/agent.out'"

# --- disputes: PROBLEM by SMS, closed with marketctl ----------------------------------------

if [ "$HAVE_MARKET" = 1 ]; then
	ORDER=$(db "SELECT ref FROM market_orders WHERE parent IS NULL")
	say "$BUYER" "PROBLEM $ORDER 2 bags wet"
	DISPUTE=$(db "SELECT ref FROM market_disputes WHERE state = 'open'")
	tap_ok "PROBLEM: the buyer is told the dispute's number" \
	    phone_expect "$BUYER" "^Dispute #$DISPUTE on order #$ORDER is open"
	tap_ok "PROBLEM: the seller is told, with the buyer's text" \
	    phone_expect "$FARMER" "^Dispute #$DISPUTE: John, Otieno reports a problem with order #$ORDER .*2 bags wet"
	tap_ok "PROBLEM: the admin is told, with the buyer's number" \
	    phone_expect "$ADMIN" "^Dispute #$DISPUTE, order #$ORDER: John, Otieno \\$BUYER says: 2 bags wet"
	say "$BUYER" "PROBLEM $ORDER still wet"
	tap_is "$(db "SELECT COUNT(*) FROM market_disputes")" 1 \
	    "a second PROBLEM opens nothing new"
	tap_is "$(ctl --csv dispute list | tail -n +2 | cut -d, -f1-5,8 |
	    tr -d '\r')" "$DISPUTE,$ORDER,maize,buyer,$BUYER,open" \
	    "dispute list --csv: the open dispute, its order and opener"
	tap_ok "dispute list: a table for people, with the text" \
	    eval "ctl dispute list | grep -qE '^ *$DISPUTE +$ORDER +maize +buyer .*2 bags wet'"
	tap_is "$(http_get "$HTTP_PORT" "/status.json?password=$ADMIN_PW" |
	    jq -r '"\(.disputes.open) \(.disputes.oldest[0].ref)"')" \
	    "1 $DISPUTE" "/status.json: the open dispute"
	before_f=$(phone_mt_count "$FARMER")
	tap_is "$(ctl dispute close "$DISPUTE" --for buyer "Seller refunds 2 bags")" \
	    "dispute $DISPUTE (order $ORDER) closed for the buyer; told $BUYER and $FARMER" \
	    "dispute close: says what it did"
	closed="Dispute #$DISPUTE on order #$ORDER is closed: the admin decided for the buyer. Seller refunds 2 bags"
	tap_ok "dispute close: the buyer is told the decision" \
	    phone_expect_text "$BUYER" "$closed"
	tap_ok "dispute close: the seller is told the decision" \
	    phone_expect_text "$FARMER" "$closed"
	tap_is "$(db "SELECT state || ' ' || decision || ' ' || note FROM
	    market_disputes")" "closed buyer Seller refunds 2 bags" \
	    "dispute close: closed with its decision and note"
	ctl dispute close "$DISPUTE" --for seller x > "$T/dispute.out" 2>&1
	rc=$?
	tap_ok "dispute close: a closed dispute is refused, said so (exit $rc)" \
	    eval "[ $rc -eq 1 ] && grep -q 'is closed already' '$T/dispute.out'"
	ctl dispute close 99999 --for buyer x > "$T/dispute.out" 2>&1
	rc=$?
	tap_ok "dispute close: an unknown dispute is refused (exit $rc)" \
	    eval "[ $rc -eq 1 ] && grep -q 'no dispute #99999' '$T/dispute.out'"
else
	for d in "PROBLEM: buyer told" "PROBLEM: seller told" \
	    "PROBLEM: admin told" "a second PROBLEM" "dispute list --csv" \
	    "dispute list" "/status.json disputes" "dispute close" \
	    "dispute close: buyer told" "dispute close: seller told" \
	    "dispute close: the row" "dispute close: closed refused" \
	    "dispute close: unknown refused"; do
		tap_skip "$d" "the market plugin is not built"
	done
fi
ctl dispute close 1 > /dev/null 2>&1
tap_is "$?" 2 "dispute close without --for: usage (2)"

# --- held price reports: REPORT far from the median, decided with marketctl ------------------

if [ "$HAVE_PRICES" = 1 ]; then
	# 5 published reports in the window (3000 and 3100 above), then
	# three far from their median: held, not counted
	say "$FARMER" "REPORT maize 3050 Nakuru"
	say "$BUYER" "REPORT maize 2950 Nakuru"
	say "$FARMER" "REPORT maize 3000 Nakuru"
	say "$FARMER" "REPORT maize 99000 Nakuru"
	say "$BUYER" "REPORT maize 200 Nakuru"
	say "$BUYER" "REPORT maize 100 Nakuru"
	HIGH=$(db "SELECT id FROM prices_reports WHERE price = 9900000")
	LOW=$(db "SELECT id FROM prices_reports WHERE price = 20000")
	LOWER=$(db "SELECT id FROM prices_reports WHERE price = 10000")
	tap_is "$(ctl --csv reports --held | tail -n +2 | cut -d, -f1,3-8 |
	    tr -d '\r')" "$HIGH,$FARMER,maize,nakuru,99000,held,far from the median of its window
$LOW,$BUYER,maize,nakuru,200,held,far from the median of its window
$LOWER,$BUYER,maize,nakuru,100,held,far from the median of its window" \
	    "reports --held --csv: the held ones, oldest first, and why"
	tap_is "$(ctl --json reports --market nakuru --commodity maize |
	    jq -r 'length')" 8 "reports --json --market --commodity: all 8"
	say "$VISITOR" "PRICE maize Nakuru"
	tap_ok "PRICE: the held reports do not count" \
	    phone_expect "$VISITOR" "highest 3,100, 5 reports"
	ctl reports approve "$HIGH" 99999 > "$T/reports.out" 2> "$T/reports.err"
	rc=$?
	tap_ok "reports approve: an unknown id refused, the other done (exit $rc)" \
	    eval "[ $rc -eq 1 ] && grep -q 'no price report #99999' '$T/reports.err' &&
	    grep -qx 'report $HIGH (maize at nakuru) approved: it counts on the board' '$T/reports.out'"
	# another phone: the same text again would be a repeat
	say "$FAR" "PRICE maize Nakuru"
	tap_ok "reports approve: it counts on the board at once" \
	    phone_expect "$FAR" "highest 99,000, 6 reports"
	tap_is "$(ctl reports reject "$LOWER")" \
	    "report $LOWER (maize at nakuru) rejected: kept, never counted" \
	    "reports reject: says what it did"
	tap_is "$(db "SELECT status FROM prices_reports WHERE id IN ($HIGH, $LOWER)
	    ORDER BY id")" "ok
rejected" "reports: approved ok, rejected kept as rejected"
	# /status: the held one left, with its form (the token, no script)
	http_get "$HTTP_PORT" "/status?password=$ADMIN_PW" > "$T/status.html"
	TOKEN=$(sed -n 's/.*name="token" value="\([0-9a-f]*\)".*/\1/p' \
	    "$T/status.html" | head -n 1)
	tap_ok "/status: the held report with an Approve/Reject form" \
	    eval "grep -q 'data-k=\"held.$LOW\"' '$T/status.html' &&
	    grep -q '<form method=\"post\" action=\"/admin/reports\">.*value=\"$LOW\".*value=\"reject\">Reject</button>' '$T/status.html' &&
	    ! grep -qi '<script' '$T/status.html' && [ \${#TOKEN} -eq 32 ]"
	tap_is "$(curl -s -o /dev/null -w '%{http_code}' -u "x:$ADMIN_PW" \
	    -d "id=$LOW&decision=reject&from=status&token=0123" \
	    "http://127.0.0.1:$HTTP_PORT/admin/reports")" 403 \
	    "/admin/reports: a form with a wrong token is refused"
	curl -s -u "x:$ADMIN_PW" -d "id=$LOW&decision=reject&from=status&token=$TOKEN" \
	    "http://127.0.0.1:$HTTP_PORT/admin/reports" > "$T/form.html"
	tap_ok "/status form: Reject decides it, and leads back to /status" \
	    eval "grep -q 'report #$LOW (maize at nakuru) rejected' '$T/form.html' &&
	    grep -q 'href=\"/status\"' '$T/form.html' &&
	    [ \"\$(db \"SELECT status FROM prices_reports WHERE id = $LOW\")\" = rejected ]"
	ctl reports reject "$LOW" "$HIGH" > /dev/null 2> "$T/reports.err"
	rc=$?
	tap_ok "reports reject: decided ones refused, each said (exit $rc)" \
	    eval "[ $rc -eq 1 ] && grep -q '#$LOW is not held (it is rejected)' '$T/reports.err' &&
	    grep -q '#$HIGH is not held (it is ok)' '$T/reports.err'"
	tap_is "$(ctl --csv reports --held | tail -n +2)" "" \
	    "reports --held: none left"
else
	for d in "reports --held --csv" "reports --json" "PRICE: held" \
	    "reports approve: unknown" "reports approve: board" \
	    "reports reject" "reports: rows" "/status: form" \
	    "/admin/reports: wrong token" "/status form: Reject" \
	    "reports reject: decided refused" "reports --held: none"; do
		tap_skip "$d" "the prices plugin is not built"
	done
fi
ctl reports frobnicate 1 > /dev/null 2>&1
tap_is "$?" 2 "reports with an unknown word: usage (2)"

# --- a hub's manifest: the orders through it on a day ------------------------------------

if [ "$HAVE_MARKET" = 1 ]; then
	# the order came to hub limuru (late: due 2 h ago, in 1 h ago) and
	# waits there to go on to the buyer
	NOW=$(date +%s)
	db "INSERT INTO market_legs (order_ref, seq, from_hub, to_hub, carrier,
	    code, state, due_at, created, updated, started, ended) VALUES
	    ($ORDER, 1, NULL, 'limuru', '+254711000333', '5821', 'done',
	    $((NOW - 7200)), $((NOW - 9000)), $((NOW - 3600)), $((NOW - 9000)),
	    $((NOW - 3600))),
	    ($ORDER, 2, 'limuru', NULL, NULL, NULL, 'waiting', $((NOW + 3600)),
	    $((NOW - 9000)), $((NOW - 3600)), NULL, NULL)"
	ctl manifest limuru > "$T/manifest.txt" 2>&1
	tap_is "$(head -n 1 "$T/manifest.txt" | tr -s ' ' | sed 's/ $//')" \
	    "order way late commodity qty unit from to carrier due state" \
	    "manifest: a table with a header"
	tap_ok "manifest: the order waiting at the hub to go out" \
	    eval "grep -qE '^ *$ORDER +out +maize +2 +bags? +seller +buyer ' '$T/manifest.txt'"
	tap_is "$(ctl --csv manifest limuru --date "$(date +%F)" | tail -n +2 |
	    cut -d, -f1-8 | tr -d '\r')" "$ORDER,out,,maize,2,bag,seller,buyer" \
	    "manifest --csv --date today: the same row"
	tap_is "$(ctl --csv manifest limuru --date 2020-01-01 | tr -d '\r')" \
	    "order,way,late,commodity,qty,unit,from,to,carrier,due,state" \
	    "manifest --date: a day before it, the header alone"
	ctl manifest limuru --date 2026-02-31 > "$T/manifest.out" 2>&1
	rc=$?
	tap_ok "manifest: a bad date is usage, said so (exit $rc)" \
	    eval "[ $rc -eq 2 ] && grep -q 'not a day' '$T/manifest.out'"
	ctl manifest nowhere > "$T/manifest.out" 2>&1
	rc=$?
	tap_ok "manifest: an unknown hub is refused, said so (exit $rc)" \
	    eval "[ $rc -eq 1 ] && grep -q \"no order has ever gone through hub 'nowhere'\" '$T/manifest.out'"
	# the buyer fetched it there three days ago (OUT to his own phone:
	# the leg from the hub done, never started) and has not confirmed:
	# gone from the hub since, not on today's list
	db "UPDATE market_legs SET state = 'done', ended = $((NOW - 259200)),
	    updated = $((NOW - 259200)) WHERE order_ref = $ORDER AND seq = 2"
	tap_is "$(ctl --csv manifest limuru --date "$(date +%F)" | tail -n +2 |
	    tr -d '\r')" "" \
	    "manifest: fetched by the buyer days ago, not listed today"
else
	for d in "manifest: header" "manifest: the row" "manifest --csv" \
	    "manifest --date before" "manifest: bad date" \
	    "manifest: unknown hub" "manifest: fetched days ago"; do
		tap_skip "$d" "the market plugin is not built"
	done
fi
ctl manifest > /dev/null 2>&1
tap_is "$?" 2 "manifest without a hub: usage (2)"

# --- payments: the ledger, the suspense list, a match, refunds ----------------------------
# Confirmations posted as the provider does (POST /payments/confirm); the
# operator's steps through marketctl.

PAY_SECRET=0123456789abcdef
# pay_confirm TRANSID AMOUNT ACCOUNT: the HTTP status of the callback.
pay_confirm()
{
	local body
	body="{\"TransactionType\": \"Pay Bill\", \"TransID\": \"$1\",
	    \"TransTime\": \"20261205143000\", \"TransAmount\": \"$2\",
	    \"BusinessShortCode\": \"512345\", \"BillRefNumber\": \"$3\",
	    \"MSISDN\": \"254700000002\", \"FirstName\": \"John\"}"
	timeout 5 bash -c '
		exec 3<>"/dev/tcp/127.0.0.1/$1" || exit 1
		printf "POST /payments/confirm HTTP/1.0\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nX-Marketbox-Secret: %s\r\nContent-Length: %d\r\n\r\n%s" \
		    "$2" "${#3}" "$3" >&3
		cat <&3' _ "$HTTP_PORT" "$PAY_SECRET" "$body" 2>/dev/null |
	    head -n 1 | cut -d' ' -f2
}

if [ "$HAVE_MARKET" = 1 ]; then
	tap_is "$(pay_confirm QBC1INT001 6000 nothing)" 200 \
	    "a payment naming no order is taken (suspense)"
	tap_is "$(ctl --csv payments --unmatched | tail -n +2 |
	    cut -d, -f3-7,11 | tr -d '\r')" \
	    "payment,QBC1INT001,,6000,KES,suspense" \
	    "payments --unmatched: the suspense list"
	tap_is "$(ctl payments match QBC1INT001 "$ORDER")" \
	    "payment QBC1INT001 (6000 KES) matched to order $ORDER: its money is paid; the parties are told" \
	    "payments match: says what it did"
	tap_ok "payments match: the seller is told as by a confirmation" \
	    phone_expect_text "$FARMER" "6,000 KES received for order #$ORDER (QBC1INT001). The order is paid."
	tap_ok "payments match: the buyer gets the receipt" \
	    phone_expect_text "$BUYER" "Receipt: 6,000 KES paid for order #$ORDER (QBC1INT001). The seller is told to send the goods."
	tap_is "$(ctl --csv payments --unmatched | tail -n +2 | tr -d '\r')" "" \
	    "payments --unmatched: empty once matched"
	tap_is "$(ctl --json payments | jq -r '.[] | "\(.trans) \(.order_ref) \(.amount) \(.matched_by | test("^operator"))"')" \
	    "QBC1INT001 $ORDER 6000 true" \
	    "payments --json: the payment's order is its match's"
	tap_is "$(db "SELECT COALESCE(payments.order_ref, 0) || ' ' || state FROM
	    order_payments LEFT JOIN payments ON trans_id = 'QBC1INT001'
	    WHERE order_payments.order_ref = $ORDER")" "0 paid" \
	    "payments match: the ledger row unchanged, the order paid"
	ctl payments match QBC1INT001 "$ORDER" > "$T/pay.out" 2>&1
	rc=$?
	tap_ok "payments match: a payment matched before is refused (exit $rc)" \
	    eval "[ $rc -eq 1 ] && grep -q 'matched before' '$T/pay.out'"
	ctl payments match QBC1NOPE99 "$ORDER" > "$T/pay.out" 2>&1
	rc=$?
	tap_ok "payments match: an unknown TransID is refused (exit $rc)" \
	    eval "[ $rc -eq 1 ] && grep -q 'no payment QBC1NOPE99' '$T/pay.out'"

	# a paid order rejected: its money is to be refunded
	db "INSERT INTO market_orders(ref, offer, buyer, seller, qty, price,
	    total, state, created, updated) SELECT 9001, offer, buyer, seller,
	    qty, price, total, 'rejected', created, updated FROM market_orders
	    WHERE ref = $ORDER"
	tap_is "$(pay_confirm QBC1INT002 6000 9001)" 200 \
	    "a payment for a rejected order is taken (refund due)"
	tap_is "$(ctl --csv payouts | tail -n +2 | cut -d, -f1-6 | tr -d '\r')" \
	    "refund,9001,$BUYER,6000,KES,QBC1INT002" \
	    "payouts: the refund to send, its phone, amount and TransID"
	tap_is "$(http_get "$HTTP_PORT" "/status.json?password=$ADMIN_PW" |
	    jq -c '[.money.received, .money.refunds_due]')" \
	    '[{"count":2,"amount":1200000},{"count":1,"amount":600000}]' \
	    "/status.json: money received and refunds due"
	tap_is "$(ctl payouts done QBC1INT002 --ref B2CINT01)" \
	    "refund of 6000 KES for order 9001 to $BUYER recorded as B2CINT01; $BUYER told" \
	    "payouts done --ref: says what it did"
	tap_ok "payouts done: the buyer is told, with the reference" \
	    phone_expect_text "$BUYER" "Refund sent: 6,000 KES for order #9001, your payment QBC1INT002. Reference B2CINT01."
	tap_is "$(db "SELECT kind || ' ' || amount || ' ' || said_by FROM payments
	    WHERE trans_id = 'B2CINT01'") $(db "SELECT state FROM
	    order_payments WHERE order_ref = 9001")" \
	    "refund 600000 operator refunded" \
	    "payouts done: a ledger row said by the operator, the order refunded"
	tap_is "$(ctl --csv payouts | tail -n +2 | tr -d '\r')" "" \
	    "payouts: nothing left to send"
	ctl payouts done QBC1INT002 > "$T/pay.out" 2>&1
	rc=$?
	tap_ok "payouts done: nothing due is refused (exit $rc)" \
	    eval "[ $rc -eq 1 ] && grep -q 'owes no refund, payout nor credit' '$T/pay.out'"
	tap_is "$(ctl export payments | tail -n +2 | cut -d, -f3-8 | tr -d '\r' |
	    paste -sd '|')" \
	    "payment,QBC1INT001,$ORDER,6000,KES,|payment,QBC1INT002,9001,6000,KES,|refund,B2CINT01,9001,6000,KES," \
	    "export payments: the ledger with each effective order, no phones"
	tap_is "$(ctl export payments | tail -n +2 | cut -d, -f10,12 | tr -d '\r' |
	    paste -sd '|')" ",provider|,provider|,operator" \
	    "export payments: no account, said_by a role, without --with-phones"
	tap_is "$(ctl export payments --with-phones | tail -n +2 | cut -d, -f8 |
	    tr -d '\r' | paste -sd ' ')" "254700000002 254700000002 $BUYER" \
	    "export payments --with-phones: the phones"
	mkdir "$T/export-pay"
	ctl export -o "$T/export-pay" > /dev/null 2>&1
	tap_is "$(grep -c . "$T/export-pay/payments.csv")" 4 \
	    "export -o DIR: payments.csv beside the others"
	# a payout due, as an escrow delivery leaves one (this marketbox is
	# direct: the state written as pay_order_event would); named by
	# the matched payment's TransID
	db "UPDATE order_payments SET state = 'payout-due' WHERE order_ref =
	    $ORDER"
	tap_is "$(ctl --csv payouts | tail -n +2 | cut -d, -f1-6 | tr -d '\r')" \
	    "payout,$ORDER,$FARMER,6000,KES,QBC1INT001" \
	    "payouts: a payout to the seller, by the matched payment"
	tap_is "$(ctl payouts done QBC1INT001)" \
	    "payout of 6000 KES for order $ORDER to $FARMER recorded as payout-QBC1INT001; $FARMER told" \
	    "payouts done: the payout, with the default reference"
	tap_ok "payouts done: the seller is told" \
	    phone_expect_text "$FARMER" "Payout sent: 6,000 KES for order #$ORDER. Reference payout-QBC1INT001."
	# more money for the refunded order, and another rejected one: two
	# refunds of what came since, one JSON array
	db "INSERT INTO market_orders(ref, offer, buyer, seller, qty, price,
	    total, state, created, updated) SELECT 9002, offer, buyer, seller,
	    qty, price, total, 'rejected', created, updated FROM market_orders
	    WHERE ref = $ORDER"
	pay_confirm QBC1INT003 100 9001 > /dev/null
	pay_confirm QBC1INT004 100 9002 > /dev/null
	tap_is "$(ctl --csv payouts | tail -n +2 | cut -d, -f1-4 | tr -d '\r' |
	    paste -sd '|')" "refund,9001,$BUYER,100|refund,9002,$BUYER,100" \
	    "payouts: a second refund is what came since the first"
	tap_is "$(ctl --json payouts done QBC1INT003 QBC1INT004 |
	    jq -c 'map([.kind, .order, .amount])')" \
	    '[["refund",9001,"100"],["refund",9002,"100"]]' \
	    "payouts done --json: one array of the answers"
	# a seller's word in the ledger, as RECEIVED writes it: her phone
	# only with --with-phones
	db "INSERT INTO payments (trans_id, kind, order_ref, amount, currency,
	    outcome, raw, created, said_by) VALUES ('RECEIVED-9002-1',
	    'payment', 9002, 100, 'KES', 'paid', 'RECEIVED 9002', 1,
	    '$FARMER')"
	tap_is "$(ctl export payments | grep RECEIVED-9002-1 | cut -d, -f12 |
	    tr -d '\r') $(ctl export payments --with-phones |
	    grep RECEIVED-9002-1 | cut -d, -f12 | tr -d '\r')" "seller $FARMER" \
	    "export payments: the seller's phone only with --with-phones"
	# an over-payment: the buyer's credit is listed
	db "INSERT INTO market_orders(ref, offer, buyer, seller, qty, price,
	    total, state, created, updated) SELECT 9003, offer, buyer, seller,
	    qty, price, total, 'accepted', created, updated FROM market_orders
	    WHERE ref = $ORDER"
	pay_confirm QBC1INT005 6500 9003 > /dev/null
	tap_is "$(ctl --csv payouts | tail -n +2 | cut -d, -f1-4 | tr -d '\r')" \
	    "credit,9003,$BUYER,500" "payouts: an over-payment's credit to the buyer"
else
	for d in "suspense payment" "payments --unmatched" "payments match" \
	    "match: seller told" "match: buyer told" "--unmatched empty" \
	    "payments --json" "match: the rows" "match: matched before" \
	    "match: unknown" "refund due payment" "payouts" "/status.json money" \
	    "payouts done" "payouts done: buyer told" "payouts done: rows" \
	    "payouts: empty" "payouts done: nothing due" "export payments" \
	    "export payments --with-phones" "export -o DIR payments.csv" \
	    "payouts: a payout" "payouts done: payout" \
	    "payouts done: seller told" "export payments: roles" \
	    "payouts: second refund" "payouts done --json" \
	    "export payments: seller" "payouts: credit"; do
		tap_skip "$d" "the market plugin is not built"
	done
fi
ctl payments match QBC1INT001 > /dev/null 2>&1
tap_is "$?" 2 "payments match without an order: usage (2)"
ctl payments frobnicate > /dev/null 2>&1
tap_is "$?" 2 "payments with an unknown word: usage (2)"
ctl payouts done > /dev/null 2>&1
tap_is "$?" 2 "payouts done without a TransID: usage (2)"
ctl payouts done QBC1A QBC1B --ref X > /dev/null 2>&1
tap_is "$?" 2 "payouts done --ref with two TransIDs: usage (2)"
ctl payouts frobnicate > /dev/null 2>&1
tap_is "$?" 2 "payouts with an unknown word: usage (2)"
ctl payments --since 2026-13-01 > /dev/null 2>&1
tap_is "$?" 2 "payments with a bad date: usage (2)"

# --- refusals ------------------------------------------------------------------------------

"$MARKETCTL" -c "$MB_CONF" broadcast "no one named" > /dev/null 2>&1
tap_is "$?" 2 "broadcast without --market, --commodity or --all: usage (2)"
sed "s/^admin-password = .*/admin-password = wrong/" "$MB_CONF" > "$T/bad.conf"
"$MARKETCTL" -c "$T/bad.conf" retry > "$T/bad.out" 2>&1
rc=$?
tap_ok "a wrong password is refused, and said so (exit $rc)" \
    eval "[ $rc -eq 1 ] && grep -q 'refused the admin-password' '$T/bad.out'"

# --- template: a reply as marketbox fills it -------------------------------------------

tap_is "$(ctl template sw echo text=habari)" \
    "$(sed -n '/^name = echo$/{n;s/^text = "\(.*\)"$/\1/p}' \
    "$top_srcdir/conf/lang/sw.conf" | sed 's/{text}/habari/')" \
    "template fills a language's own text"
ctl template en echo > /dev/null 2>&1
tap_is "$?" 1 "template: a placeholder without a value fails"
ctl template en no-such-template text=x > /dev/null 2>&1
tap_is "$?" 1 "template: an unknown template fails"
tap_ok "no sanitizer report" eval "! marketbox_sanitizer_report"
tap_end
