#!/bin/bash
# tests/integration/market-day.sh - a whole market day through a real
# bearerbox and fakesmsc, with the market plugin: a farmer registers and
# offers maize, a buyer registers and posts what she wants (both are told
# of the match), orders, the farmer accepts and sends the goods with a
# transporter, the transporter (never registered) gets the pickup and
# drop-off details (phones, not names: names go to users only) and confirms with the buyer's delivery code, the farmer
# is told, and ME shows one completed trade for both; a buyer's step out of
# turn and an order beyond what is left are refused with the next step.
# Then the same day in Swahili, with Swahili keywords and a transporter who
# chose Swahili; then the farmer's MY over two pages.
#
# Every SMS each phone receives is checked, in order, against the text
# written out below (the market's replies, word for word as a phone shows
# them) or rendered from the shipped language files (conf/lang/*.conf) for
# the core's plain templates.  The whole day is written once, in DAY.

. "$(dirname "$0")/lib.sh"
: "${top_srcdir:=$(cd "$(dirname "$0")/../.." && pwd)}"

# --- the phones ---------------------------------------------------------------
FARMER=+254700000001		# Mary Wanjiku, English
BUYER=+254700000002		# John Otieno, English
CARRIER=+254722000111		# a transporter, never registered
FARMER_SW=+254700000011		# Wanjiru Kamau, Kiswahili
BUYER_SW=+254700000012		# Halima Said, Kiswahili
CARRIER_SW=+254733000222	# a transporter who sent LUGHA sw
PHONES="FARMER BUYER CARRIER FARMER_SW BUYER_SW CARRIER_SW"

# --- the day ----------------------------------------------------------------------
# "> PHONE text" is an SMS a phone sends (to 777); the "< PHONE ..." lines
# after it are every SMS that message makes marketbox send, to whom, in
# order: "< PHONE = text" the text itself, word for word as the phone shows
# it (the market's replies: plural forms, numbers as the language writes
# them, catalogue words, lists), or "< PHONE lang template name=value|..."
# a plain template of the shipped language files filled with those values.
# %CODE% is the delivery code of the last order sent (random: read from the
# database once the order is sent).  References: offers, wants and orders
# share one sequence, from 1.
# "member since": the month the phones registered, today
MONTH=$(LC_ALL=C date -u +%b)
DAY='
> FARMER REG Mary Wanjiku Nakuru
< FARMER en reg-ok name=Mary Wanjiku|market=Nakuru
> FARMER SELL maize 10 bags 3000
< FARMER = Offer #1: 10 bags of maize at 3,000 KES a bag, Nakuru. Buyers order with BUY 1 and how many.
> BUYER REG John Otieno Nakuru
< BUYER en reg-ok name=John Otieno|market=Nakuru
> BUYER WANT maize 5 bags 3200
< BUYER = Want #2: 5 bags of maize at up to 3,200 KES a bag, Nakuru. Sellers will be told.
< FARMER = John Otieno +254700000002 (no trades yet) wants 5 bags of maize at up to 3,200 KES (want #2); told of your offer #1.
< BUYER = Offers for your want #2: #1 10 bags at 3,000. To order send e.g. BUY 1 5
> BUYER BUY 1 5
< BUYER = Order #3: 5 bags of maize from Mary Wanjiku (offer #1), total 15,000 KES. The seller is asked to accept.
< FARMER = Order #3: John Otieno +254700000002 (no trades yet) wants 5 bags of maize, total 15,000 KES (5 left). Send ACCEPT 3 or REJECT 3
> BUYER ACCEPT 3
< BUYER = Order #3 waits for the seller: they must send ACCEPT 3 first. You will be told.
> BUYER BUY 1 6
< BUYER = Offer #1 has only 5 bags of maize left. To take them send BUY 1 5
> FARMER ACCEPT 3
< FARMER = Order #3 accepted. When the goods leave, send SENT 3 and the transporter'"'"'s phone.
< BUYER = Order #3 accepted by Mary Wanjiku +254700000001: 5 bags of maize, total 15,000 KES. You get a code when it is sent.
> FARMER SENT 3 0722000111
< FARMER = Order #3 is on its way; transporter +254722000111 has the details.
< BUYER = Order #3 is on its way with +254722000111: 5 bags of maize. Your delivery code is %CODE%: give it to the transporter on arrival.
< CARRIER = Order #3: collect 5 bags of maize from +254700000001, Nakuru; deliver to +254700000002. Then DELIVERED 3 code
> CARRIER DELIVERED 3 %CODE%
< CARRIER = Order #3 delivered. Thank you!
< FARMER = Order #3 delivered to John Otieno: 5 bags of maize, total 15,000 KES. Trade completed.
< BUYER = Order #3 was confirmed delivered by the transporter +254722000111 with your code.
> FARMER ME
< FARMER en me name=Mary Wanjiku|market=Nakuru|language=English|roles=farmer, buyer|trades=1
> BUYER ME
< BUYER en me name=John Otieno|market=Nakuru|language=English|roles=farmer, buyer|trades=1
> BUYER RATE 3 5
< BUYER = You gave Mary Wanjiku 5 stars for order #3. Thank you.
> BUYER RATE 3 4
< BUYER = You rated order #3 already: each side rates an order once. Send INFO with a number to see a record.
> BUYER INFO 1
< BUYER = Offer #1 (maize, Nakuru) is from Mary Wanjiku +254700000001: 1 trade, 5 stars from 1, member since '"$MONTH"'
> FARMER MY
< FARMER = #1 selling 5 bags of maize at 3,000.

> FARMER_SW SAJILI Wanjiru Kamau Nakuru
< FARMER_SW sw reg-ok name=Wanjiru Kamau|market=Nakuru
> FARMER_SW UZA mahindi 8 gunia 2900
< FARMER_SW = Ofa #4: magunia 8 ya mahindi kwa 2,900 KES kila gunia, Nakuru. Wanunuzi waagize kwa NUNUA 4 na idadi.
> BUYER_SW SAJILI Halima Said Nakuru
< BUYER_SW sw reg-ok name=Halima Said|market=Nakuru
> BUYER_SW TAKA mahindi 4 2950
< BUYER_SW = Hitaji #5: magunia 4 ya mahindi kwa hadi 2,950 KES kila gunia, Nakuru. Wauzaji wataarifiwa.
< FARMER_SW = Halima Said +254700000012 (hana biashara bado) anataka magunia 4 ya mahindi kwa hadi 2,950 KES (hitaji #5); ameambiwa kuhusu ofa yako #4.
< BUYER_SW = Ofa za hitaji lako #5: #4 magunia 8 kwa 2,900. Kuagiza tuma mfano NUNUA 4 4
> BUYER_SW NUNUA 4 4
< BUYER_SW = Oda #6: magunia 4 ya mahindi kutoka kwa Wanjiru Kamau (ofa #4), jumla 11,600 KES. Muuzaji ameombwa kukubali.
< FARMER_SW = Oda #6: Halima Said +254700000012 (hana biashara bado) anataka magunia 4 ya mahindi, jumla 11,600 KES (zimebaki 4). Tuma KUBALI 6 au KATAA 6
> FARMER_SW KUBALI 6
< FARMER_SW = Oda #6 imekubaliwa. Mzigo ukiondoka tuma TUMA 6 na simu ya msafirishaji.
< BUYER_SW = Oda #6 imekubaliwa na Wanjiru Kamau +254700000011: magunia 4 ya mahindi, jumla 11,600 KES. Utapata msimbo ikitumwa.
> CARRIER_SW LUGHA sw
< CARRIER_SW sw lang-ok language=Kiswahili
> FARMER_SW TUMA 6 0733 000 222
< FARMER_SW = Oda #6 iko njiani; msafirishaji +254733000222 ana maelezo.
< BUYER_SW = Oda #6 iko njiani na +254733000222: magunia 4 ya mahindi. Msimbo wako ni %CODE%: mpe msafirishaji ikifika.
< CARRIER_SW = #6: chukua magunia 4 ya mahindi kwa +254700000011, Nakuru; peleka kwa +254700000012. Tuma IMEFIKA 6 msimbo
> CARRIER_SW IMEFIKA 6 %CODE%
< CARRIER_SW = Oda #6 imefika. Asante!
< FARMER_SW = Oda #6 imemfikia Halima Said: magunia 4 ya mahindi, jumla 11,600 KES. Biashara imekamilika.
< BUYER_SW = Msafirishaji +254733000222 amethibitisha kufika kwa oda #6 kwa msimbo wako.
> FARMER_SW MIMI
< FARMER_SW sw me name=Wanjiru Kamau|market=Nakuru|language=Kiswahili|roles=mkulima, mnunuzi|trades=1
> BUYER_SW MIMI
< BUYER_SW sw me name=Halima Said|market=Nakuru|language=Kiswahili|roles=mkulima, mnunuzi|trades=1

> FARMER SELL beans 2 bags 6000
< FARMER = Offer #7: 2 bags of beans at 6,000 KES a bag, Nakuru. Buyers order with BUY 7 and how many.
> FARMER SELL sorghum 3 bags 2500
< FARMER = Offer #8: 3 bags of sorghum at 2,500 KES a bag, Nakuru. Buyers order with BUY 8 and how many.
> FARMER SELL millet 1 bag 2800
< FARMER = Offer #9: 1 bag of millet at 2,800 KES a bag, Nakuru. Buyers order with BUY 9 and how many.
> FARMER SELL potatoes 5 bags 1500
< FARMER = Offer #10: 5 bags of potatoes at 1,500 KES a bag, Nakuru. Buyers order with BUY 10 and how many.
> FARMER MY
< FARMER = #10 selling 5 bags of potatoes at 1,500; #9 selling 1 bag of millet at 2,800; #8 selling 3 bags of sorghum at 2,500. 2 more: send MY 2
> FARMER MY 2
< FARMER = #7 selling 2 bags of beans at 6,000; #1 selling 5 bags of maize at 3,000.
> FARMER MY 3
< FARMER = There is no page 3: your list has 2 pages. Send MY to see the first.
'

# --- the run ----------------------------------------------------------------------------

integ_require_kannel
STEPS=$(grep -c '^>' <<< "$DAY")
integ_init market-day
tap_plan $((STEPS + 11))

MB_PLUGINS="echo market prices"
# the shipped catalogue: its words in each language and their plural forms
MB_CATALOGUE=$top_srcdir/conf/catalogue.conf
kannel_conf_write || tap_bail "cannot pick ports"
marketbox_conf_write "$T/marketbox.conf" "country-code = 254"
[ -f "$top_builddir/plugins/market/.libs/market.so" ] ||
    tap_bail "the market plugin is not built"
bearerbox_start || tap_bail "bearerbox does not start"
marketbox_start || tap_bail "cannot run $MARKETBOX"
marketbox_wait_connected 15 || tap_bail "marketbox does not connect"
start=$SECONDS

day_begin

play "$DAY"

# --- what the day left in the database ------------------------------------------------------

tap_is "$(db "SELECT ref || ':' || state FROM market_orders ORDER BY ref")" \
    "$(printf '3:delivered\n6:delivered')" "both orders are delivered"
tap_is "$(db "SELECT ref || ':' || kind || ':' || qty_left || ':' || state
    FROM market_posts ORDER BY ref")" \
    "$(printf '%s\n' 1:offer:5:open 2:want:0:closed 4:offer:4:open \
    5:want:0:closed 7:offer:2:open 8:offer:3:open 9:offer:1:open \
    10:offer:5:open)" \
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
tap_ok "a stranger's DELIVERED is refused" \
    phone_expect_text "+254799000999" "#3 is not yours, so you cannot change it. Send MY to see your offers, wants and orders." 10
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
