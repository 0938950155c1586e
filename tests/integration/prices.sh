#!/bin/bash
# tests/integration/prices.sh - the prices plugin through a real bearerbox
# and fakesmsc: farmers on several phones REPORT prices (one of them an
# agent, whose reports count twice), an absurd price is held, PRICE from
# an unregistered phone answers with the right median, low, high and
# count, an unknown market gets the markets nearby, ALERT subscriptions, a
# threshold alert when the median crosses, and the daily bulletin sent at
# a forced time (a restart with bulletin-now = yes) to the subscriber but
# not to one who sent STOP, saying what it is and how to stop it; the board
# in Swahili; and, when the market plugin is built too, the board with the
# best open offer and its reference, and the offers shown at a market where
# nobody reported a price.
#
# The expected replies are the English texts, written out: the wording of
# conf/lang/en.conf with the shipped catalogue's words (MB_CATALOGUE), the
# numbers as English writes them ("3,150").  One Swahili board shows the
# reader's words ("Mahindi, gunia").

. "$(dirname "$0")/lib.sh"
# prices_conf adds the prices and market plugins to the echo one.
MB_PLUGINS=echo
: "${top_srcdir:=$(cd "$(dirname "$0")/../.." && pwd)}"
LANG_DIR=$top_srcdir/conf/lang
MB_CATALOGUE=$top_srcdir/conf/catalogue.conf

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

AMINA=+254700000101		# farmer at Nakuru, daily bulletin
BARAKA=+254700000102		# farmer at Nakuru, threshold alert >3100
CHEBET=+254700000103		# farmer at Eldoret, subscribes then STOP
DUBE=+254700000104		# village agent at Nakuru
UNREG=+254700000109		# never registered: asks the price

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
# report PRICE MARKET MEDIAN N: the thanks for a report
report()
{
	local r=reports

	[ "$4" = 1 ] && r=report
	printf 'Thank you! Maize at %s KES per bag at %s noted. Middle price now %s (%s %s, last 7 days).' \
	    "$1" "$2" "$3" "$4" "$r"
}
R1=$(report 2,900 Nakuru 2,900 1)
R2=$(report 3,100 Nakuru 3,000 2)
R3=$(report 3,200 Nakuru 3,150 3)
R4=$(report 2,800 Eldoret 2,800 1)
R5=$(report 3,000 Nakuru 3,100 4)
R6=$(report 3,050 Nakuru 3,075 5)
HELD="Thank you. 99,000 KES per bag for maize at Nakuru is far from the \
middle price 3,075: it waits for a check before others see it."
R8=$(report 3,300 Nakuru 3,150 6)
ALERT_DAILY="You will get prices for maize at Nakuru every day at 20:00. \
ALERT OFF stops them."
ALERT_ABOVE="We will text you when the middle price of maize at Nakuru goes \
above 3,100 KES per bag. ALERT OFF stops it."
ALERT_ELDORET="You will get prices for maize at Eldoret every day at 20:00. \
ALERT OFF stops them."
STOP_OK=$(lang_template en stop-ok)
[ -n "$STOP_OK" ] || tap_bail "no template stop-ok in $LANG_DIR/en.conf"
CROSS="Price alert: the middle price of maize at Nakuru is now 3,150 KES \
per bag, above 3,100 (6 reports, last 7 days). ALERT OFF stops it."
# the board: no trend (no report in the week before), the newest report
# a minute old (two, on a slow machine)
board()
{
	printf 'Maize, bag, Nakuru, last 7 days: middle price 3,150 KES, lowest 2,900, highest 3,300, 6 reports, newest %s ago.' \
	    "$1"
}
BOARD_1M=$(board "1 minute")
BOARD_2M=$(board "2 minutes")
BULLETIN="Daily prices (ALERT OFF stops): "
NEAR="Market 'kakamega' is not known. Markets near you with prices: \
Nakuru, Eldoret. Send again with one of them."

integ_require_kannel
integ_init prices
tap_plan 28

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

# prices_conf [LINE...]: marketbox.conf with the shipped catalogue and the
# prices plugin (and the market plugin when built); LINEs go into group =
# plugin-prices.
prices_conf()
{
	marketbox_conf_write "$T/marketbox.conf"
	{
		cat <<EOF

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
tap_is "$(db "SELECT count(*), sum(CASE WHEN status = 'held'
    THEN 1 ELSE 0 END), sum(agent) FROM prices_reports")" "7|1|1" "7 reports stored, 1 held, 1 by an agent"

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
send_expect "$CHEBET" "PRICE maize kakamega" "$NEAR" \
    "an unknown market: the markets near the asker with data"
send_wait "$CHEBET" "LANG sw"
sw_board_ok()
{
	phone_has_text "$CHEBET" "Mahindi, gunia, Nakuru, siku 7 zilizopita: bei ya kati 3,150 KES (2,900 hadi 3,300), ripoti 6, ya mwisho dakika $1 zilizopita." ||
	    phone_has_text "$CHEBET" "Mahindi, gunia, Nakuru, siku 7 zilizopita: bei ya kati 3,150 KES (2,900 hadi 3,300), ripoti 6, ya mwisho dakika 1 iliyopita."
}
phone_send "$CHEBET" 777 "BEI mahindi Nakuru"
if wait_until 10 sw_board_ok 2; then
	tap_result 0 "the board in Swahili: the catalogue's words, plurals"
else
	tap_result 1 "the board in Swahili: the catalogue's words, plurals"
	tap_diag "got: $(phone_texts "$CHEBET" | tail -n 1)"
fi
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
bulletin_ok()
{
	phone_has_text "$AMINA" "$BULLETIN$BOARD_1M" ||
	    phone_has_text "$AMINA" "$BULLETIN$BOARD_2M"
}
if wait_until 25 bulletin_ok; then
	tap_result 0 "the subscriber gets the bulletin: the board of Nakuru"
else
	tap_result 1 "the subscriber gets the bulletin: the board of Nakuru"
	tap_diag "want: '$BULLETIN$BOARD_1M'"
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

	a="$BOARD_1M For sale: #$1 3,000 (10 bags, no trades)"
	b="$BOARD_2M For sale: #$1 3,000 (10 bags, no trades)"
	phone_has_text "$UNREG" "$a" || phone_has_text "$UNREG" "$b"
}
# no report at Kitale, an offer in its region
kitale_ok()
{
	phone_has_text "$UNREG" "No prices reported for maize at Kitale in the last 7 days. For sale: #$1 3,000 (10 bags, no trades)"
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
	phone_send "$UNREG" 777 "PRICE maize Kitale"
	if wait_until 10 kitale_ok "$REF"; then
		tap_result 0 "PRICE with no price reported shows the offers"
	else
		tap_result 1 "PRICE with no price reported shows the offers"
		tap_diag "got: $(phone_texts "$UNREG" | tail -n 1)"
	fi
else
	tap_skip "the market plugin has an open offer" "market.so not built"
	tap_skip "PRICE shows the best open offer with its reference" \
	    "market.so not built"
	tap_skip "PRICE with no price reported shows the offers" \
	    "market.so not built"
fi

phone_stop
marketbox_stop
tap_is "$MB_EXIT" 0 "marketbox stops cleanly after the bulletin"
tap_is "$(marketbox_sanitizer_report)" "" \
    "no sanitizer report in marketbox's stderr"

tap_end
