#!/bin/bash
# tests/integration/ussd-http.sh - the USSD menus over the aggregators' HTTP
# callback (POST /ussd), with a real bearerbox and fakesmsc for the SMS that
# go with them, and the market and prices plugins: register, check a price,
# then sell (the offer also comes by SMS); another phone orders by SMS and
# the seller accepts the order in the menu; a restart of marketbox in the
# middle of a session; a request asked again; bad requests.

. "$(dirname "$0")/lib.sh"

SELLER=+254700000001
BUYER=+254700000002
OTHER=+254700000003

integ_require_kannel
integ_init ussd-http

MARKET_SO=$top_builddir/plugins/market/.libs/market.so
PRICES_SO=$top_builddir/plugins/prices/.libs/prices.so
tap_plan 44

kannel_conf_write || tap_bail "cannot pick ports"
port_pick MB_HTTP_PORT || tap_bail "cannot pick ports"
# The plugins of the actions, from the build tree.
[ -f "$MARKET_SO" ] && [ -f "$PRICES_SO" ] && MB_PLUGINS="echo market prices"
# The aggregator is given the secret of the way in (ussd-secret), as a
# parameter of its callback URL would carry it.
USSD_SECRET=integ-ussd-secret
marketbox_conf_write "$T/marketbox.conf" "http-port = $MB_HTTP_PORT" \
    "ussd-timeout = 120" "ussd-secret = $USSD_SECRET"
printf '\ninclude = "%s"\n' "$top_srcdir/conf/ussd.conf" >> "$MB_CONF"
bearerbox_start || tap_bail "bearerbox does not start"
marketbox_start || tap_bail "cannot run $MARKETBOX"
marketbox_wait_connected 15 || tap_bail "marketbox does not connect"
# fakesmsc collects the SMS to the phones from now on.
phone_start -i 0 -m 0 "+254799999999 777 text listen"

# urlenc STRING: STRING url-encoded (bytes; LC_ALL=C).
urlenc()
{
	local s=$1 i c out=

	for ((i = 0; i < ${#s}; i++)); do
		c=${s:i:1}
		case $c in
		[a-zA-Z0-9._~-]) out+=$c ;;
		*) printf -v c '%%%02X' "'$c"; out+=$c ;;
		esac
	done
	printf '%s' "$out"
}

# ussd SESSION PHONE TEXT [SECRET]: POST /ussd as an aggregator does,
# with the secret (default $USSD_SECRET); the answer (status line
# dropped) in $ANSWER, its HTTP status in $STATUS.
ANSWER=
STATUS=
ussd()
{
	local body out

	body="sessionId=$(urlenc "$1")&serviceCode=%2A384%2A1%23"
	body+="&phoneNumber=$(urlenc "$2")&networkCode=63902&text=$(urlenc "$3")"
	body+="&secret=$(urlenc "${4-$USSD_SECRET}")"
	out=$(timeout 10 bash -c '
		exec 3<>"/dev/tcp/127.0.0.1/$1" || exit 1
		printf "POST /ussd HTTP/1.0\r\nHost: 127.0.0.1\r\n%s\r\n%s\r\n\r\n%s" \
		    "Content-Type: application/x-www-form-urlencoded" \
		    "Content-Length: ${#2}" "$2" >&3
		cat <&3' _ "$MB_HTTP_PORT" "$body" 2>/dev/null | tr -d '\r')
	STATUS=$(printf '%s\n' "$out" | head -n 1 | awk '{ print $2 }')
	ANSWER=$(printf '%s\n' "$out" | sed '1,/^$/d')
}

# screen_fits: the answer's screen (after CON/END) is 1 to 160 octets on
# the air: 182 GSM characters (ASCII here), or UTF-16 units times 2.
screen_fits()
{
	local s=${ANSWER#??? } n

	if printf '%s' "$s" | LC_ALL=C grep -q '[^ -~]'; then
		n=$(printf '%s' "$s" | iconv -f UTF-8 -t UTF-16LE | wc -c)
	else
		n=$(( ($(printf '%s' "$s" | wc -c) * 7 + 7) / 8 ))
	fi
	[ "$n" -gt 0 ] && [ "$n" -le 160 ]
}

MAIN="Marketbox
1 Check prices
2 Sell
3 Buy from an offer
4 Ask to buy
5 My orders
6 Price alerts
7 Register
8 Language"

# --- the way in's secret ----------------------------------------------------

ussd nosecret "$SELLER" "" ""
tap_is "$STATUS" 403 "POST /ussd without the ussd-secret is refused 403"
ussd nosecret "$SELLER" "" "not-the-secret"
tap_is "$STATUS" 403 "POST /ussd with a wrong secret is refused 403"

# --- the first screen, and registering --------------------------------------

ussd reg "$SELLER" ""
tap_is "$STATUS" 200 "POST /ussd answers 200"
tap_is "$ANSWER" "CON $MAIN" "the first screen is the main menu"
ussd reg "$SELLER" "7"
tap_is "$ANSWER" "CON Your name:
00 Back" "Register asks for the name"
ussd reg "$SELLER" "7*Mary Wanjiku"
tap_is "$ANSWER" "CON Choose a market:
1 Nakuru
00 Back" "then it asks for her market"
ussd reg "$SELLER" "7*Mary Wanjiku*1"
tap_is "$ANSWER" "END Welcome Mary Wanjiku! You are registered at Nakuru. \
Send HELP for the commands." "the name and market register her"
tap_is "$(db "SELECT name || '|' || market FROM users
    WHERE msisdn = '$SELLER'")" "Mary Wanjiku|nakuru" "she is in the users table"

have_plugins=0
[ -f "$MARKET_SO" ] && [ -f "$PRICES_SO" ] && have_plugins=1

# --- check a price, then sell ------------------------------------------------------

# A buyer, registered by SMS, reports the price he saw at Nakuru.
if [ "$have_plugins" = 1 ]; then
	phone_send "$BUYER" 777 "REG John Otieno Nakuru"
	phone_expect "$BUYER" "John" 10
	phone_send "$BUYER" 777 "REPORT maize 2800 Nakuru"
	tap_ok "a price is reported by SMS" phone_expect "$BUYER" "2,800" 10
	phone_start -i 0 -m 0 "+254799999999 777 text listen"
else
	tap_skip "a price is reported by SMS" "no prices plugin"
fi

ussd price "$SELLER" ""
ussd price "$SELLER" "1"
tap_is "$ANSWER" "CON Choose a commodity:
1 maize
00 Back" "Check prices lists the commodities"
ussd price "$SELLER" "1*1"
tap_is "$ANSWER" "CON Choose a market:
1 Nakuru (yours)
00 Back" "then the markets, her own first"
ussd price "$SELLER" "1*1*1"
price_end=$ANSWER
if [ "$have_plugins" = 1 ]; then
	tap_ok "the price board is the last screen ($price_end)" \
	    eval '[[ ${price_end,,} == "end "*maize*2,800* ]] && screen_fits'
else
	tap_is "$price_end" "END PRICE is not available now. Please try again \
later." "without the prices plugin, PRICE is unavailable"
fi

ussd sell "$SELLER" ""
ussd sell "$SELLER" "2"
ussd sell "$SELLER" "2*1"
tap_is "$ANSWER" "CON Quantity (bag):
00 Back" "Sell asks the quantity in the commodity's unit"
ussd sell "$SELLER" "2*1*lots"
tap_is "$ANSWER" "CON Send a number from 1 to 1000000.
Quantity (bag):
00 Back" "a quantity that is not a number repeats the screen with an error"
ussd sell "$SELLER" "2*1*lots*10"
tap_is "$ANSWER" "CON Price per bag in KES:
00 Back" "then the price"
ussd sell "$SELLER" "2*1*lots*10*3,000"
sell_end=$ANSWER
if [ "$have_plugins" = 1 ]; then
	tap_ok "the offer is the last screen ($sell_end)" \
	    eval '[[ $sell_end == "END Offer #"*"10 bag"*"maize"*"3,000"* ]]'
	offer=$(db "SELECT ref FROM market_posts WHERE msisdn = '$SELLER'
	    AND kind = 'offer'" \
	    2>/dev/null)
	[ -n "$offer" ] || offer=$(printf '%s' "$sell_end" |
	    sed -n 's/^END Offer #\([0-9]*\).*/\1/p')
	tap_ok "the offer is also sent to her by SMS" \
	    phone_expect_text "$SELLER" "${sell_end#END }" 10
else
	tap_is "$sell_end" "END SELL is not available now. Please try again \
later." "without the market plugin, SELL is unavailable"
	tap_ok "the answer is also sent by SMS" \
	    phone_expect_text "$SELLER" "${sell_end#END }" 10
fi
tap_is "$(db "SELECT count(*) FROM inbox WHERE channel = 'ussd'
    AND sender = '$SELLER' AND kannel_id LIKE 'ussd:$SELLER:sell:%'")" 6 \
    "every request of the session is in the inbox once"

# Another phone, with no market of its own, checks the price too.
ussd price2 "$OTHER" ""
ussd price2 "$OTHER" "1"
ussd price2 "$OTHER" "1*1"
tap_is "$ANSWER" "CON Choose a market:
1 Nakuru
00 Back" "a phone with no market of its own gets the plain list"
ussd price2 "$OTHER" "1*1*1"
price_end=$ANSWER
if [ "$have_plugins" = 1 ]; then
	tap_ok "it gets the board too ($price_end)" \
	    eval '[[ $price_end == "END "*2,800* ]] && screen_fits'
else
	tap_skip "it gets the board too" "no plugins"
fi

# --- another phone buys in the menu; the seller accepts and sends in hers -------------

ussd buy "$BUYER" "3"
tap_is "$ANSWER" "CON Offer number:
00 Back" "Buy from an offer asks the offer number"
ussd buy "$BUYER" "3*${offer:-1}"
tap_is "$ANSWER" "CON How many to buy?
00 Back" "then how many"
ussd buy "$BUYER" "3*${offer:-1}*4"
buy_end=$ANSWER
if [ "$have_plugins" = 1 ]; then
	tap_ok "the order is the last screen ($buy_end)" \
	    eval '[[ $buy_end == "END Order #"* ]] && screen_fits'
	order=$(printf '%s' "$buy_end" | sed -n 's/^END Order #\([0-9]*\).*/\1/p')
	tap_ok "the seller is told of order #$order by SMS" \
	    phone_expect "$SELLER" "#$order" 10
	phone_start -i 0 -m 0 "+254799999999 777 text listen"
else
	order=1
	tap_is "$buy_end" "END BUY is not available now. Please try again \
later." "without the market plugin, BUY is unavailable"
	tap_skip "the seller is told by SMS" "no market plugin"
fi
ussd accept "$SELLER" ""
ussd accept "$SELLER" "5"
tap_is "$ANSWER" "CON My orders
1 See all
2 Accept an order
3 Reject an order
4 Order sent
5 Confirm delivery
6 Cancel
00 Back" "My orders is a menu of what is done with orders"
ussd accept "$SELLER" "5*2"
tap_is "$ANSWER" "CON Order number:
00 Back" "Accept an order asks the order number"
ussd accept "$SELLER" "5*2*0"
tap_is "$ANSWER" "CON Send a number from 1 to 999999999.
Order number:
00 Back" "0 is no order number"
ussd accept "$SELLER" "5*2*0*$order"
accept_end=$ANSWER
if [ "$have_plugins" = 1 ]; then
	tap_ok "the order is accepted ($accept_end)" \
	    eval '[[ $accept_end == "END Order #$order accepted"* ]]'
	tap_ok "the buyer is told by SMS" \
	    phone_expect "$BUYER" "#$order.*accepted|accepted.*#$order" 10
	tap_ok "the seller gets it written down by SMS" \
	    phone_expect_text "$SELLER" "${accept_end#END }" 10
else
	tap_is "$accept_end" "END ACCEPT is not available now. Please try \
again later." "without the market plugin, ACCEPT is unavailable"
	tap_skip "the buyer is told by SMS" "no market plugin"
	tap_skip "the seller gets it by SMS" "no market plugin"
fi
[ "$have_plugins" = 1 ] &&
    phone_start -i 0 -m 0 "+254799999999 777 text listen"
ussd sent "$SELLER" "5*4*$order"
tap_is "$ANSWER" "CON Transporter's phone (0 if none):
00 Back" "Order sent asks for the transporter's phone"
ussd sent "$SELLER" "5*4*$order*0"
sent_end=$ANSWER
if [ "$have_plugins" = 1 ]; then
	tap_ok "0: sent without a transporter ($sent_end)" \
	    eval '[[ $sent_end == "END "*"#$order"* ]]'
	tap_is "$(db "SELECT state || '|' || coalesce(transporter, '')
	    FROM market_orders WHERE ref = $order")" "sent|" \
	    "the order is sent, with no transporter"
	tap_ok "the buyer gets the delivery code by SMS" \
	    phone_expect "$BUYER" "#$order" 10
else
	tap_is "$sent_end" "END SENT is not available now. Please try again \
later." "without the market plugin, SENT is unavailable"
	tap_skip "the order is sent" "no market plugin"
	tap_skip "the buyer gets the code" "no market plugin"
fi

# --- sessions: a restart mid-session, a request asked again, resume ------------------

ussd again "$OTHER" ""
ussd again "$OTHER" "2"
marketbox_stop
tap_is "$MB_EXIT" 0 "marketbox stops cleanly mid-session"
marketbox_start || tap_bail "cannot run $MARKETBOX again"
marketbox_wait_connected 15 || tap_bail "marketbox does not connect again"
ussd again "$OTHER" "2*1"
tap_is "$ANSWER" "CON Quantity (bag):
00 Back" "after the restart the session goes on where it was"
ussd again "$OTHER" "2*1"
tap_is "$ANSWER" "CON Quantity (bag):
00 Back" "the same request again gets the same screen"
tap_is "$(db "SELECT count(*) FROM inbox WHERE kannel_id = 'ussd:$OTHER:again:2*1'")" \
    1 "and is stored once"
ussd again2 "$OTHER" ""
tap_is "$ANSWER" "CON Continue where you left?
1 Yes
2 No" "a new dial offers to continue the session left"
ussd again2 "$OTHER" "1"
tap_is "$ANSWER" "CON Quantity (bag):
00 Back" "1 continues it"

# --- bad requests ---------------------------------------------------------------------

ussd "" "$OTHER" ""
tap_is "$STATUS" 400 "a request without sessionId is refused"
ussd bad "07x" ""
tap_is "$STATUS" 400 "a phoneNumber that is no number is refused"

# --- the end ---------------------------------------------------------------------------

phone_stop
marketbox_stop
tap_is "$MB_EXIT" 0 "marketbox stops cleanly after the sessions"
tap_is "$(marketbox_sanitizer_report)" "" \
    "no sanitizer report in marketbox's stderr"

tap_end
