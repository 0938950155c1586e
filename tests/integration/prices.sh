#!/bin/bash
# tests/integration/prices.sh - the prices plugin through a real bearerbox
# and fakesmsc: farmers on several phones REPORT prices (one of them an
# agent, whose reports count twice), an absurd price is held, PRICE from
# an unregistered phone answers with the right median, low, high and
# count, an unknown market gets the markets nearby, ALERT subscriptions, a
# threshold alert when the median crosses, and the daily bulletin sent at
# a forced time (a restart with bulletin-now = yes) to the subscriber but
# not to one who sent STOP; and, when the market plugin is built too, the
# board with the best open offer and its reference.
#
# The expected replies are rendered from the shipped language files, as
# commands.sh does: the figures are what is tested, not the wording.

. "$(dirname "$0")/lib.sh"
# prices_conf adds the prices and market plugins to the echo one.
MB_PLUGINS=echo
: "${top_srcdir:=$(cd "$(dirname "$0")/../.." && pwd)}"
LANG_DIR=$top_srcdir/conf/lang

# lang_template CODE NAME: the text of template NAME in LANG_DIR/CODE.conf.
lang_template()
{
	awk -v want="$2" '
		/^group[ \t]*=/ { tmpl = ($0 ~ /=[ \t]*template[ \t]*$/); named = 0; next }
		/^[ \t]*$/ { tmpl = 0; named = 0; next }
		tmpl && /^name[ \t]*=/ {
			sub(/^name[ \t]*=[ \t]*/, ""); named = ($0 == want); next
		}
		tmpl && named && /^text[ \t]*=/ {
			sub(/^text[ \t]*=[ \t]*"?/, ""); sub(/"[ \t]*$/, "")
			print; exit
		}' "$LANG_DIR/$1.conf"
}

# expect VAR NAME [PLACEHOLDER=VALUE...]: VAR is English template NAME
# with its placeholders filled; bails out if one is left unfilled.
expect()
{
	local var=$1 name=$2 text kv key
	shift 2

	text=$(lang_template en "$name")
	[ -n "$text" ] || tap_bail "no template $name in $LANG_DIR/en.conf"
	for kv in "$@"; do
		key="{${kv%%=*}}"
		text=${text//"$key"/"${kv#*=}"}
	done
	[[ $text == *\{*\}* ]] && tap_bail "$name: unfilled in '$text'"
	printf -v "$var" '%s' "$text"
}

AMINA=+254700000101		# farmer at Nakuru, daily bulletin
BARAKA=+254700000102		# farmer at Nakuru, threshold alert >3100
CHEBET=+254700000103		# farmer at Eldoret, subscribes then STOP
DUBE=+254700000104		# village agent at Nakuru
UNREG=+254700000109		# never registered: asks the price

MAIZE=(commodity=Maize unit=bag)

# The reports, and the weighted median after each (agents count twice):
#	Amina 2900			2900			n=1
#	Baraka 3100			(2900+3100)/2 = 3000	n=2
#	Dube (agent) 3200		2900 3100 | 3200 3200	-> 3150, n=3
#	Chebet 2800 at Eldoret		2800 (Eldoret)		n=1
#	Amina 3000			2900 3000 [3100] 3200 3200 -> 3100, n=4
#	Baraka 3050			... 3050 | 3100 ...	-> 3075, n=5
#	Chebet 99000 at Nakuru		over 3 x 3075: held
#	Dube (agent) 3300		2900 3000 3050 3100 | 3200 3200 3300
#					3300 -> 3150, n=6
expect R1 prices-report-ok "${MAIZE[@]}" market=Nakuru price=2900 \
    median=2900 n=1 window=7d
expect R2 prices-report-ok "${MAIZE[@]}" market=Nakuru price=3100 \
    median=3000 n=2 window=7d
expect R3 prices-report-ok "${MAIZE[@]}" market=Nakuru price=3200 \
    median=3150 n=3 window=7d
expect R4 prices-report-ok "${MAIZE[@]}" market=Eldoret price=2800 \
    median=2800 n=1 window=7d
expect R5 prices-report-ok "${MAIZE[@]}" market=Nakuru price=3000 \
    median=3100 n=4 window=7d
expect R6 prices-report-ok "${MAIZE[@]}" market=Nakuru price=3050 \
    median=3075 n=5 window=7d
expect HELD prices-report-held "${MAIZE[@]}" market=Nakuru price=99000 \
    median=3075 n=5 window=7d currency=KES
expect R8 prices-report-ok "${MAIZE[@]}" market=Nakuru price=3300 \
    median=3150 n=6 window=7d
expect ALERT_DAILY prices-alert-on "${MAIZE[@]}" market=Nakuru time=20:00
expect ALERT_ABOVE prices-alert-above "${MAIZE[@]}" market=Nakuru \
    price=3100
expect ALERT_ELDORET prices-alert-on "${MAIZE[@]}" market=Eldoret \
    time=20:00
expect STOP_OK stop-ok
expect CROSS prices-cross-above "${MAIZE[@]}" market=Nakuru median=3150 \
    currency=KES price=3100 n=6 window=7d
# the board: no trend (no report in the week before), the newest report
# a minute old (two, on a slow machine)
board()
{
	expect "$1" prices-board "${MAIZE[@]}" market=Nakuru window=7d \
	    median=3150 low=2900 high=3300 n=6 age="$2" trend=
}
board BOARD_1M 1m
board BOARD_2M 2m
expect NEAR prices-market-near word=kisumu "markets=Nakuru, Eldoret"

integ_require_kannel
integ_init prices
tap_plan 26

PLUGIN=$top_builddir/plugins/prices/.libs/prices.so
[ -f "$PLUGIN" ] || tap_bail "$PLUGIN is not built"
# the market plugin, for the offers on the board, when it is built
MARKET=$top_builddir/plugins/market/.libs/market.so
[ -f "$MARKET" ] || MARKET=

# Local time is made 00:xx or 01:xx whatever the hour of the run, so that
# a bulletin at 20:00 is hours away until the test forces it.
utc_hour=$((10#$(date -u +%H)))
if [ "$utc_hour" -le 12 ]; then
	offset=-$utc_hour
else
	offset=+$((24 - utc_hour))
fi

# prices_conf [LINE...]: marketbox.conf with the prices plugin (only) and
# the markets of the story; LINEs go into group = plugin-prices.
prices_conf()
{
	marketbox_conf_write "$T/marketbox.conf"
	{
		cat <<EOF

group = market
code = eldoret
name = Eldoret
region = Rift Valley

group = plugin
name = prices
module = $PLUGIN
EOF
		[ -z "$MARKET" ] ||
		    printf '\ngroup = plugin\nname = market\nmodule = %s\n' \
		    "$MARKET"
		cat <<EOF

group = plugin-prices
window = 7d
bulletin-hour = 20
utc-offset = $offset
EOF
		printf '%s\n' "$@"
	} >> "$T/marketbox.conf"
}

kannel_conf_write || tap_bail "cannot pick ports"
prices_conf
bearerbox_start || tap_bail "bearerbox does not start"
marketbox_start || tap_bail "cannot run $MARKETBOX"
marketbox_wait_connected 15 || tap_bail "marketbox does not connect"

# send_expect FROM TEXT WANT DESC: send TEXT; FROM gets exactly WANT.
send_expect()
{
	phone_send "$1" 777 "$2"
	if phone_expect_text "$1" "$3" 10; then
		tap_result 0 "$4"
	else
		tap_result 1 "$4"
		tap_diag "want: '$3'"
		tap_diag "$1 got: $(phone_texts "$1")"
	fi
}

mt_count_above()
{
	[ "$(phone_mt_count "$1")" -gt "$2" ]
}

# send_wait FROM TEXT: send TEXT and wait for one more MT to FROM.
send_wait()
{
	local before

	before=$(phone_mt_count "$1")
	phone_send "$1" 777 "$2"
	wait_until 10 mt_count_above "$1" "$before" ||
	    tap_bail "no answer to '$2' from $1"
}

send_wait "$AMINA" "REG Amina Nakuru"
send_wait "$BARAKA" "REG Baraka Nakuru"
send_wait "$CHEBET" "REG Chebet Eldoret"
send_wait "$DUBE" "REG Dube Nakuru"
db "UPDATE users SET role = 'agent' WHERE msisdn = '$DUBE'"

# --- REPORT -------------------------------------------------------------------

send_expect "$AMINA" "REPORT maize 2,900 Nakuru" "$R1" \
    "a report is thanked with the median"
send_expect "$BARAKA" "REPORT maize 3100/=" "$R2" \
    "the reporter's market by default; the median of two"
send_expect "$DUBE" "report MAHINDI 3200 nakuru" "$R3" \
    "an agent's report counts twice"
send_expect "$CHEBET" "REPORT maize 2800 Eldoret" "$R4" \
    "another market has its own median"
send_expect "$AMINA" "REPORT maize 3000" "$R5" "a fifth report"
send_expect "$BARAKA" "REPORT maize 3050" "$R6" "a sixth report"
send_expect "$CHEBET" "REPORT maize 99000 Nakuru" "$HELD" \
    "an absurd price is held for review, and the reporter told"
tap_is "$(db "SELECT count(*), sum(status = 'held'), sum(agent)
    FROM prices_reports")" "7|1|1" "7 reports stored, 1 held, 1 by an agent"

# --- ALERT, STOP, and a threshold crossed ----------------------------------------

send_expect "$AMINA" "ALERT maize" "$ALERT_DAILY" \
    "ALERT: a daily bulletin at the conf's hour"
send_expect "$BARAKA" "ALERT maize Nakuru >3100" "$ALERT_ABOVE" \
    "ALERT >price: a threshold alert"
send_expect "$CHEBET" "ALERT maize" "$ALERT_ELDORET" \
    "ALERT at the subscriber's own market"
send_expect "$CHEBET" "STOP" "$STOP_OK" "STOP"
send_expect "$DUBE" "REPORT maize 3300" "$R8" \
    "a report moves the median above 3100"
# the timer (every 10 s) tells Baraka once
tap_ok "the threshold alert comes within 25 s" \
    phone_expect_text "$BARAKA" "$CROSS" 25

# --- PRICE ---------------------------------------------------------------------

price_ok()
{
	phone_has_text "$1" "$BOARD_1M" || phone_has_text "$1" "$BOARD_2M"
}
phone_send "$UNREG" 777 "PRICE maize Nakuru"
if wait_until 10 price_ok "$UNREG"; then
	tap_result 0 "PRICE from an unregistered phone: median, low, high, n"
else
	tap_result 1 "PRICE from an unregistered phone: median, low, high, n"
	tap_diag "want: '$BOARD_1M'"
	tap_diag "got: $(phone_texts "$UNREG")"
fi
send_expect "$CHEBET" "PRICE maize kisumu" "$NEAR" \
    "an unknown market: the markets near the asker with data"
tap_is "$(phone_texts "$BARAKA" | grep -c '^Price alert')" 1 \
    "the threshold alert was sent once"

# --- the bulletin at a forced time ------------------------------------------------
# Restarted with bulletin-now = yes, the day's bulletin is due at the first
# timer run (10 s after start) whatever the hour.

marketbox_stop || tap_diag "marketbox had to be killed"
tap_is "$MB_EXIT" 0 "marketbox stops cleanly"
CHEBET_BEFORE=$(phone_mt_count "$CHEBET")
BARAKA_BEFORE=$(phone_mt_count "$BARAKA")
prices_conf "bulletin-now = yes"
marketbox_start || tap_bail "cannot run $MARKETBOX again"
marketbox_wait_connected 15 || tap_bail "marketbox does not connect again"
# a phone connected, to collect the bulletin
phone_send "$UNREG" 777 "HELP"
if wait_until 25 price_ok "$AMINA"; then
	tap_result 0 "the subscriber gets the bulletin: the board of Nakuru"
else
	tap_result 1 "the subscriber gets the bulletin: the board of Nakuru"
	tap_diag "want: '$BOARD_1M'"
	tap_diag "got: $(phone_texts "$AMINA")"
fi
bulletin_done()
{
	[ "$(db "SELECT done FROM prices_bulletin")" = 1 ]
}
wait_until 10 bulletin_done
sleep 1
tap_is "$(phone_mt_count "$CHEBET")" "$CHEBET_BEFORE" \
    "no bulletin after STOP"
tap_is "$(phone_mt_count "$BARAKA")" "$BARAKA_BEFORE" \
    "a threshold subscription gets no daily bulletin"
tap_is "$(db "SELECT count(*) FROM outbox WHERE receiver = '$AMINA'
    AND kind = 'notice'")" 1 "one bulletin notice in the outbox"

# --- the best open offer on the board (the market plugin's table) -----------

# offers_ok REF: the unregistered phone got the board with offer REF
offers_ok()
{
	local a b

	expect a prices-board-offers "${MAIZE[@]}" market=Nakuru window=7d \
	    median=3150 low=2900 high=3300 n=6 age=1m trend= "offers=#$1 3000"
	expect b prices-board-offers "${MAIZE[@]}" market=Nakuru window=7d \
	    median=3150 low=2900 high=3300 n=6 age=2m trend= "offers=#$1 3000"
	phone_has_text "$UNREG" "$a" || phone_has_text "$UNREG" "$b"
}
if [ -n "$MARKET" ]; then
	send_wait "$AMINA" "SELL maize 10 bags 3000"
	REF=$(db "SELECT ref FROM market_posts WHERE msisdn = '$AMINA'
	    AND kind = 'offer' AND state = 'open'")
	tap_ok "the market plugin has an open offer (#$REF)" test -n "$REF"
	phone_send "$UNREG" 777 "PRICE maize Nakuru"
	if wait_until 10 offers_ok "$REF"; then
		tap_result 0 "PRICE shows the best open offer with its reference"
	else
		tap_result 1 "PRICE shows the best open offer with its reference"
		tap_diag "got: $(phone_texts "$UNREG" | tail -n 1)"
	fi
else
	tap_skip "the market plugin has an open offer" "market.so not built"
	tap_skip "PRICE shows the best open offer with its reference" \
	    "market.so not built"
fi

phone_stop
marketbox_stop
tap_is "$MB_EXIT" 0 "marketbox stops cleanly after the bulletin"
tap_is "$(marketbox_sanitizer_report)" "" \
    "no sanitizer report in marketbox's stderr"

tap_end
