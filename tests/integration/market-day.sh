#!/bin/bash
# tests/integration/market-day.sh - a whole market day through a real
# bearerbox and fakesmsc, with the market plugin: a farmer registers and
# offers maize, a buyer registers and posts what she wants (both are told
# of the match), orders, the farmer accepts and sends the goods with a
# transporter, the transporter (never registered) gets the pickup and
# drop-off details and confirms with the buyer's delivery code, the farmer
# is told, and ME shows one completed trade for both.  Then the same day in
# Swahili, with Swahili keywords and a transporter who chose Swahili.
#
# Every SMS each phone receives is checked, in order, against the texts
# rendered from the shipped language files (conf/lang/*.conf), the same
# templates marketbox loads.  The whole day is written once, in DAY below.

. "$(dirname "$0")/lib.sh"
: "${top_srcdir:=$(cd "$(dirname "$0")/../.." && pwd)}"
LANG_DIR=$top_srcdir/conf/lang

# --- the phones ---------------------------------------------------------------
FARMER=+254700000001		# Mary Wanjiku, English
BUYER=+254700000002		# John Otieno, English
CARRIER=+254722000111		# a transporter, never registered
FARMER_SW=+254700000011		# Wanjiru Kamau, Kiswahili
BUYER_SW=+254700000012		# Halima Said, Kiswahili
CARRIER_SW=+254733000222	# a transporter who sent LUGHA sw
PHONES="FARMER BUYER CARRIER FARMER_SW BUYER_SW CARRIER_SW"

# --- the day ----------------------------------------------------------------------
# "> PHONE text" is an SMS a phone sends (to 777); the "< PHONE lang
# template name=value|name=value" lines after it are every SMS that message
# makes marketbox send, to whom, in which language, from which template
# with which values.  %CODE% is the delivery code of the last order sent
# (random: read from the database once the order is sent).  References:
# offers, wants and orders share one sequence, from 1.
DAY='
> FARMER REG Mary Wanjiku Nakuru
< FARMER en reg-ok name=Mary Wanjiku|market=Nakuru
> FARMER SELL maize 10 bags 3000
< FARMER en market-offer-ok ref=1|qty=10|unit=bag|commodity=maize|price=3000|currency=KES|market=Nakuru
> BUYER REG John Otieno Nakuru
< BUYER en reg-ok name=John Otieno|market=Nakuru
> BUYER WANT maize 5 bags 3200
< BUYER en market-want-ok ref=2|qty=5|unit=bag|commodity=maize|price=3200|currency=KES|market=Nakuru
< FARMER en market-match-seller ref=1|want=2|qty=5|unit=bag|commodity=maize|price=3200|currency=KES|name=John Otieno|phone=+254700000002
< BUYER en market-match-offers ref=2|matches=#1 10 bag @3000|more=
> BUYER BUY 1 5
< BUYER en market-order-ok ref=3|offer=1|qty=5|unit=bag|commodity=maize|total=15000|currency=KES|name=Mary Wanjiku
< FARMER en market-order-seller ref=3|name=John Otieno|phone=+254700000002|qty=5|unit=bag|commodity=maize|total=15000|currency=KES|left=5
> FARMER ACCEPT 3
< FARMER en market-accept-ok ref=3
< BUYER en market-accepted ref=3|name=Mary Wanjiku|phone=+254700000001|qty=5|unit=bag|commodity=maize|total=15000|currency=KES
> FARMER SENT 3 0722000111
< FARMER en market-sent-ok-transporter ref=3|phone=+254722000111
< BUYER en market-sent-buyer-transporter ref=3|phone=+254722000111|qty=5|unit=bag|commodity=maize|code=%CODE%
< CARRIER en market-sent-transporter ref=3|qty=5|unit=bag|commodity=maize|name=Mary Wanjiku|phone=+254700000001|market=Nakuru|buyer=John Otieno|buyer_phone=+254700000002
> CARRIER DELIVERED 3 %CODE%
< CARRIER en market-delivered-ok ref=3
< FARMER en market-delivered-seller ref=3|name=John Otieno|qty=5|unit=bag|commodity=maize|total=15000|currency=KES
< BUYER en market-delivered-buyer ref=3|phone=+254722000111
> FARMER ME
< FARMER en me name=Mary Wanjiku|market=Nakuru|language=English|roles=farmer, buyer|trades=1
> BUYER ME
< BUYER en me name=John Otieno|market=Nakuru|language=English|roles=farmer, buyer|trades=1
> FARMER MY
< FARMER en market-my-posts offers=#1 maize 5/10 bag @3000|wants=-|more=

> FARMER_SW SAJILI Wanjiru Kamau Nakuru
< FARMER_SW sw reg-ok name=Wanjiru Kamau|market=Nakuru
> FARMER_SW UZA mahindi 8 gunia 2900
< FARMER_SW sw market-offer-ok ref=4|qty=8|unit=bag|commodity=maize|price=2900|currency=KES|market=Nakuru
> BUYER_SW SAJILI Halima Said Nakuru
< BUYER_SW sw reg-ok name=Halima Said|market=Nakuru
> BUYER_SW TAKA mahindi 4 2950
< BUYER_SW sw market-want-ok ref=5|qty=4|unit=bag|commodity=maize|price=2950|currency=KES|market=Nakuru
< FARMER_SW sw market-match-seller ref=4|want=5|qty=4|unit=bag|commodity=maize|price=2950|currency=KES|name=Halima Said|phone=+254700000012
< BUYER_SW sw market-match-offers ref=5|matches=#4 8 bag @2900|more=
> BUYER_SW NUNUA 4 4
< BUYER_SW sw market-order-ok ref=6|offer=4|qty=4|unit=bag|commodity=maize|total=11600|currency=KES|name=Wanjiru Kamau
< FARMER_SW sw market-order-seller ref=6|name=Halima Said|phone=+254700000012|qty=4|unit=bag|commodity=maize|total=11600|currency=KES|left=4
> FARMER_SW KUBALI 6
< FARMER_SW sw market-accept-ok ref=6
< BUYER_SW sw market-accepted ref=6|name=Wanjiru Kamau|phone=+254700000011|qty=4|unit=bag|commodity=maize|total=11600|currency=KES
> CARRIER_SW LUGHA sw
< CARRIER_SW sw lang-ok language=Kiswahili
> FARMER_SW TUMA 6 0733 000 222
< FARMER_SW sw market-sent-ok-transporter ref=6|phone=+254733000222
< BUYER_SW sw market-sent-buyer-transporter ref=6|phone=+254733000222|qty=4|unit=bag|commodity=maize|code=%CODE%
< CARRIER_SW sw market-sent-transporter ref=6|qty=4|unit=bag|commodity=maize|name=Wanjiru Kamau|phone=+254700000011|market=Nakuru|buyer=Halima Said|buyer_phone=+254700000012
> CARRIER_SW IMEFIKA 6 %CODE%
< CARRIER_SW sw market-delivered-ok ref=6
< FARMER_SW sw market-delivered-seller ref=6|name=Halima Said|qty=4|unit=bag|commodity=maize|total=11600|currency=KES
< BUYER_SW sw market-delivered-buyer ref=6|phone=+254733000222
> FARMER_SW MIMI
< FARMER_SW sw me name=Wanjiru Kamau|market=Nakuru|language=Kiswahili|roles=mkulima, mnunuzi|trades=1
> BUYER_SW MIMI
< BUYER_SW sw me name=Halima Said|market=Nakuru|language=Kiswahili|roles=mkulima, mnunuzi|trades=1
'
STEP_WAIT=10		# seconds for the SMS of one message to arrive
SETTLE=0.5		# then, for an SMS too many

# --- rendering the expected texts ----------------------------------------------------

# lang_template CODE NAME: the text of template NAME in LANG_DIR/CODE.conf,
# without its quotes; nothing when there is no such template.
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

# render VAR CODE NAME ARGS: VAR is template NAME of language CODE with its
# placeholders filled from ARGS ("name=value|name=value").  Bails out when
# the template is missing or a placeholder is left unfilled, so that no
# expectation is ever empty or half-rendered.
render()
{
	local var=$1 code=$2 name=$3 args=$4 text kv key
	local -a kvs

	text=$(lang_template "$code" "$name")
	[ -n "$text" ] || tap_bail "no template $name in $LANG_DIR/$code.conf"
	IFS='|' read -r -a kvs <<< "$args"
	for kv in "${kvs[@]}"; do
		key="{${kv%%=*}}"
		text=${text//"$key"/"${kv#*=}"}
	done
	[[ $text == *\{*\}* ]] && tap_bail "$code $name: unfilled in '$text'"
	printf -v "$var" '%s' "$text"
}

# The delivery code of the order on its way (the day has one at a time).
last_code()
{
	db "SELECT code FROM market_orders WHERE state = 'sent'
	    ORDER BY ref DESC LIMIT 1"
}

# --- the run ----------------------------------------------------------------------------

integ_require_kannel
STEPS=$(grep -c '^>' <<< "$DAY")
integ_init market-day
tap_plan $((STEPS + 11))

MB_PLUGINS="echo market prices"
kannel_conf_write || tap_bail "cannot pick ports"
marketbox_conf_write "$T/marketbox.conf" "country-code = 254"
[ -f "$top_builddir/plugins/market/.libs/market.so" ] ||
    tap_bail "the market plugin is not built"
bearerbox_start || tap_bail "bearerbox does not start"
marketbox_start || tap_bail "cannot run $MARKETBOX"
marketbox_wait_connected 15 || tap_bail "marketbox does not connect"
start=$SECONDS

# What each phone should have got so far, one text a line (WANT_<PHONE>),
# and how many.
for p in $PHONES; do
	printf -v "WANT_$p" '%s' ""
	printf -v "NWANT_$p" '%s' 0
done

phones_have_all()
{
	local p n

	for p in $PHONES; do
		n=NWANT_$p
		[ "$(phone_mt_count "${!p}")" -ge "${!n}" ] || return 1
	done
}

# The texts every phone got equal what it should have got: 0, else 1 with
# the differences as TAP diagnostics.
phones_match()
{
	local p w got rc=0

	for p in $PHONES; do
		w=WANT_$p
		got=$(phone_texts "${!p}")
		if [ "$got" != "${!w}" ]; then
			tap_diag "$p got:"
			tap_diag "$got"
			tap_diag "$p should have got:"
			tap_diag "${!w}"
			rc=1
		fi
	done
	return "$rc"
}

# run_step FROM TEXT EXPECT-LINES: send TEXT from phone FROM, add what it
# should bring to each phone's list, wait for it, and test every phone.
run_step()
{
	local from=$1 text=$2 lines=$3 code="" to lang name args want w n

	if [[ $text == *%CODE%* ]]; then
		code=$(last_code)
		text=${text//%CODE%/$code}
	fi
	phone_send "${!from}" 777 "$text"
	# the code of an order just sent: once it is sent
	if [[ $lines == *%CODE%* ]]; then
		wait_until "$STEP_WAIT" eval '[ -n "$(last_code)" ]'
		code=$(last_code)
	fi
	while read -r to lang name args; do
		[ -n "$to" ] || continue
		render want "$lang" "$name" "${args//%CODE%/$code}"
		w=WANT_$to
		n=NWANT_$to
		printf -v "$w" '%s%s%s' "${!w}" "${!w:+$'\n'}" "$want"
		printf -v "$n" '%s' $((${!n} + 1))
	done <<< "$lines"
	wait_until "$STEP_WAIT" phones_have_all
	sleep "$SETTLE"
	tap_ok "$from: $text" phones_match
}

from= text= lines=
while IFS= read -r line; do
	case $line in
	'> '*)
		[ -n "$from" ] && run_step "$from" "$text" "$lines"
		line=${line#> }
		from=${line%% *}
		text=${line#* }
		lines=
		;;
	'< '*)
		lines+="${line#< }"$'\n'
		;;
	esac
done <<< "$DAY"
run_step "$from" "$text" "$lines"

# --- what the day left in the database ------------------------------------------------------

tap_is "$(db "SELECT ref || ':' || state FROM market_orders ORDER BY ref")" \
    "$(printf '3:delivered\n6:delivered')" "both orders are delivered"
tap_is "$(db "SELECT ref || ':' || kind || ':' || qty_left || ':' || state
    FROM market_posts ORDER BY ref")" \
    "$(printf '%s\n' 1:offer:5:open 2:want:0:closed 4:offer:4:open \
    5:want:0:closed)" \
    "the offers keep what was not ordered; the wants were ordered in full"
tap_is "$(db "SELECT msisdn || ':' || trades FROM users WHERE trades > 0
    ORDER BY msisdn")" \
    "$(printf '%s\n' "$FARMER:1" "$BUYER:1" "$FARMER_SW:1" "$BUYER_SW:1")" \
    "one trade on each party's record"
tap_is "$(db "SELECT count(*) FROM users WHERE msisdn = '$CARRIER' AND
    name IS NOT NULL")" 0 "the transporter needed no registration"
tap_is "$(db "SELECT transporter || ':' || code_tries FROM market_orders
    ORDER BY ref")" "$(printf '%s\n' "$CARRIER:0" "$CARRIER_SW:0")" \
    "the transporters are on the orders; no wrong code"
tap_is "$(db "SELECT count(*) FROM outbox WHERE receiver = '$CARRIER'")" 2 \
    "the English transporter got two SMS"
tap_is "$(db "SELECT count(*) FROM outbox WHERE state IN ('queued',
    'sending', 'failed')")" 0 "every SMS left the outbox"

# A wrong code from a stranger changes nothing, and nobody else hears of it.
phone_send "+254799000999" 777 "DELIVERED 3 0000"
expect_unknown=$(lang_template en market-not-yours)
tap_ok "a stranger's DELIVERED is refused" \
    phone_expect_text "+254799000999" "${expect_unknown//\{ref\}/3}" 10
tap_is "$(db "SELECT state || ':' || code_tries FROM market_orders
    WHERE ref = 3")" "delivered:0" "and changes nothing"
tap_diag "the day took $((SECONDS - start)) s"

# --- clean stop ---------------------------------------------------------------------------------

phone_stop
marketbox_stop
tap_is "$MB_EXIT" 0 "marketbox stops cleanly"
tap_is "$(marketbox_sanitizer_report)" "" \
    "no sanitizer report in marketbox's stderr"

tap_end
