#!/bin/bash
# tests/integration/cooperative-day.sh - a cooperative's day through a real
# bearerbox and fakesmsc, with the market plugin and the shipped catalogue
# (its point kiambogo, market Nakuru, its farm input DAP).
# A cooperative leader opens a pool to sell maize (POOL SELL); a buyer
# posts what he wants; five members join, three from their own phones and
# two without phones through the agent of Kiambogo point (FOR M1 JOIN,
# FOR M2 JOIN), one of them twice (a JOIN sets her share, it does not
# add); the share that reaches the target lists the pool, its members
# are told, and the buyer is told of it as of a matching offer, with its
# farmers, and sees it on the price board (PRICE) as a pool of 5.  The
# buyer orders part of it (BUY pool qty): the order is shared among the
# members in order of joining (pool-allocation =
# joined, the default) and each is told her part; one who would leave
# now is told her share order.  The leader accepts and sends the pool
# order, the buyer confirms it, and each member (her agent for the
# phoneless ones) is told at each step.  Then the admin makes a phone an
# agro-dealer (marketctl user set dealer), who offers DAP with a lower
# price from 20 bags (TIER); three farmers order (one through the
# agent), the third order takes the offer to 20 bags and every orderer
# is told the new price once; a fourth order is made at that price; the
# dealer accepts the whole batch with the offer's number.
#
# A step that shows a known defect ends in "<TAB># TODO why": it is
# reported as TODO (lib.sh's TAP_TODO) and the next steps are judged on
# what they bring (there is none now).
#
# Every SMS each phone receives is checked, in order, against the text
# written out below or rendered from the shipped language files
# (conf/lang/*.conf) for the core's plain templates: as market-day.sh.

. "$(dirname "$0")/lib.sh"
: "${top_srcdir:=$(cd "$(dirname "$0")/../.." && pwd)}"

# The delivery code of the order on its way: the pool order's, not one of
# its share orders' (sent with it, without a code of their own: the buyer
# confirms the whole).
last_code()
{
	db "SELECT code FROM market_orders WHERE state = 'sent'
	    AND parent IS NULL ORDER BY ref DESC LIMIT 1"
}

# --- the phones ---------------------------------------------------------------
LEADER=+254711000001		# Wanjiru Kamau, the cooperative's leader
AGENT=+254722000111		# Peter Kamau, agent of Kiambogo point
GRACE=+254733000222		# Grace Akinyi, a member with a phone
FAITH=+254733000333		# Faith Njeri, a member with a phone
ESTHER=+254733000444		# Esther Wambui, a member with a phone
BUYER=+254700000002		# John Otieno, a maize trader
DEALER=+254711000009		# Agrovet Kiambogo, an agro-dealer
PHONES="LEADER AGENT GRACE FAITH ESTHER BUYER DEALER"

# --- the day ----------------------------------------------------------------------
# "> PHONE text" is an SMS a phone sends (to 777); the "< PHONE ..." lines
# after it are every SMS that message makes marketbox send, to whom, in
# order: "< PHONE = text" the text itself, word for word as the phone shows
# it, or "< PHONE lang template name=value|..." a plain template of the
# shipped language files filled with those values.  References: pools,
# offers, wants and orders share one sequence, from 1; member codes
# (M1 Mary Wanjiku, M2 Ruth Chebet, both without a phone) their own.
DAY_POOL='
> LEADER REG Wanjiru Kamau Nakuru
< LEADER en reg-ok name=Wanjiru Kamau|market=Nakuru
> AGENT REG Peter Kamau Nakuru
< AGENT en reg-ok name=Peter Kamau|market=Nakuru
> AGENT MEMBER Mary Wanjiku
< AGENT en member-ok code=M1|name=Mary Wanjiku|point=Kiambogo point
> AGENT MEMBER Ruth Chebet
< AGENT en member-ok code=M2|name=Ruth Chebet|point=Kiambogo point
> GRACE REG Grace Akinyi Nakuru
< GRACE en reg-ok name=Grace Akinyi|market=Nakuru
> FAITH REG Faith Njeri Nakuru
< FAITH en reg-ok name=Faith Njeri|market=Nakuru
> ESTHER REG Esther Wambui Nakuru
< ESTHER en reg-ok name=Esther Wambui|market=Nakuru
> BUYER REG John Otieno Nakuru
< BUYER en reg-ok name=John Otieno|market=Nakuru
> LEADER POOL SELL maize 60 bags 3000 7
< LEADER = Pool #1: maize, 60 bags at 3,000 KES, open 7 days. Members send JOIN 1 qty.
> BUYER WANT maize 50 bags 3200
< BUYER = Want #2: 50 bags of maize at up to 3,200 KES a bag, Nakuru. Sellers will be told.
> GRACE JOIN 1 10
< GRACE = You put 10 bags in pool #1: 10 of 60 so far.
> AGENT FOR M1 JOIN 1 15
< AGENT = For Mary Wanjiku (M1): You put 15 bags in pool #1: 25 of 60 so far.
> FAITH JOIN 1 10
< FAITH = You put 10 bags in pool #1: 35 of 60 so far.
> FAITH JOIN 1 10
< FAITH = You put 10 bags in pool #1: 35 of 60 so far.
> AGENT FOR M2 JOIN 1 5
< AGENT = For Ruth Chebet (M2): You put 5 bags in pool #1: 40 of 60 so far.
> ESTHER JOIN 1 20
< ESTHER = You put 20 bags in pool #1: it is full with 60 and is now listed.
< LEADER = Pool #1 is offered to buyers: 60 bags of maize at 3,000 KES from 5 farmers. You will be told of sales.
< GRACE = Pool #1 is offered to buyers: 60 bags of maize at 3,000 KES from 5 farmers. You will be told of sales.
< AGENT = For Mary Wanjiku, start with FOR M1: Pool #1 is offered to buyers: 60 bags of maize at 3,000 KES from 5 farmers. You will be told of sales.
< FAITH = Pool #1 is offered to buyers: 60 bags of maize at 3,000 KES from 5 farmers. You will be told of sales.
< AGENT = For Ruth Chebet, start with FOR M2: Pool #1 is offered to buyers: 60 bags of maize at 3,000 KES from 5 farmers. You will be told of sales.
< BUYER = For your want #2: pool #1 of 5 farmers, 60 bags of maize at 3,000 KES, Nakuru. Send BUY 1 50
> BUYER PRICE maize
< BUYER = No prices reported for maize at Nakuru in the last 7 days. For sale: #1 3,000 (60 bags, pool of 5 farmers, no trades)
> BUYER BUY 1 50
< BUYER = Order #3: 50 bags of maize from Wanjiru Kamau (offer #1), total 150,000 KES. The seller is asked to accept.
< LEADER = Order #3: John Otieno +254700000002 (no trades yet) wants 50 bags of maize, total 150,000 KES (10 left). Send ACCEPT 3 or REJECT 3
< GRACE = Pool #1 sold: 10 bags of your maize to John Otieno, 30,000 KES (order #4). You will be told the drop-off day.
< AGENT = For Mary Wanjiku, start with FOR M1: Pool #1 sold: 15 bags of your maize to John Otieno, 45,000 KES (order #5). You will be told the drop-off day.
< FAITH = Pool #1 sold: 10 bags of your maize to John Otieno, 30,000 KES (order #6). You will be told the drop-off day.
< AGENT = For Ruth Chebet, start with FOR M2: Pool #1 sold: 5 bags of your maize to John Otieno, 15,000 KES (order #7). You will be told the drop-off day.
< ESTHER = Pool #1 sold: 10 bags of your maize to John Otieno, 30,000 KES (order #8). You will be told the drop-off day.
> FAITH LEAVE 1
< FAITH = Your share of pool #1 is sold in order #6: you cannot leave. Deliver it, or ask the opener.
> LEADER ACCEPT 3
< LEADER = Order #3 accepted. When the goods leave, send SENT 3 and the transporter'"'"'s phone.
< BUYER = Order #3 accepted by Wanjiru Kamau +254711000001: 50 bags of maize, total 150,000 KES. You get a code when it is sent.
< GRACE = Order #4 (pool #1) accepted: bring your 10 bags of maize to Nakuru on %DAY%.
< AGENT = For Mary Wanjiku, start with FOR M1: Order #5 (pool #1) accepted: bring your 15 bags of maize to Nakuru on %DAY%.
< FAITH = Order #6 (pool #1) accepted: bring your 10 bags of maize to Nakuru on %DAY%.
< AGENT = For Ruth Chebet, start with FOR M2: Order #7 (pool #1) accepted: bring your 5 bags of maize to Nakuru on %DAY%.
< ESTHER = Order #8 (pool #1) accepted: bring your 10 bags of maize to Nakuru on %DAY%.
> LEADER SENT 3
< LEADER = Order #3 is on its way. The buyer has a code to confirm delivery.
< BUYER = Order #3 is on its way: 50 bags of maize. Your delivery code is %CODE%. When it arrives send DELIVERED 3.
< GRACE = Order #4 (pool #1) is on its way: 10 bags of maize.
< AGENT = For Mary Wanjiku, start with FOR M1: Order #5 (pool #1) is on its way: 15 bags of maize.
< FAITH = Order #6 (pool #1) is on its way: 10 bags of maize.
< AGENT = For Ruth Chebet, start with FOR M2: Order #7 (pool #1) is on its way: 5 bags of maize.
< ESTHER = Order #8 (pool #1) is on its way: 10 bags of maize.
> BUYER DELIVERED 3
< BUYER = Order #3 delivered. Thank you!
< LEADER = Order #3 delivered to John Otieno: 50 bags of maize, total 150,000 KES. Trade completed.
< GRACE = Order #4 (pool #1) delivered: your part is 10 bags of maize, 30,000 KES.
< AGENT = For Mary Wanjiku, start with FOR M1: Order #5 (pool #1) delivered: your part is 15 bags of maize, 45,000 KES.
< FAITH = Order #6 (pool #1) delivered: your part is 10 bags of maize, 30,000 KES.
< AGENT = For Ruth Chebet, start with FOR M2: Order #7 (pool #1) delivered: your part is 5 bags of maize, 15,000 KES.
< ESTHER = Order #8 (pool #1) delivered: your part is 10 bags of maize, 30,000 KES.
'
DAY_TIER='
> DEALER REG Agrovet Kiambogo Nakuru
< DEALER en reg-ok name=Agrovet Kiambogo|market=Nakuru
> DEALER SELL dap 60 bags 3400 TIER 20 3200
< DEALER = Offer #9: 60 bags of DAP at 3,400 KES a bag, Nakuru. Buyers order with BUY 9 and how many.
< DEALER = Offer #9 tiers, KES/bag: 3,200 from 20 bags in all orders. ACCEPT 9 accepts all waiting.
> GRACE BUY 9 8
< GRACE = Order #10: 8 bags of DAP from Agrovet Kiambogo (offer #9), total 27,200 KES. The seller is asked to accept.
< GRACE = 3,400 KES a bag now; 3,200 when orders reach 20 bags (8 so far).
< DEALER = Order #10: Grace Akinyi +254733000222 (1 trade) wants 8 bags of DAP, total 27,200 KES (52 left). Send ACCEPT 10 or REJECT 10
> AGENT FOR M1 BUY 9 5
< AGENT = For Mary Wanjiku (M1): Order #11: 5 bags of DAP from Agrovet Kiambogo (offer #9), total 17,000 KES. The seller is asked to accept.
< AGENT = For Mary Wanjiku (M1): 3,400 KES a bag now; 3,200 when orders reach 20 bags (13 so far).
< DEALER = Order #11: Mary Wanjiku via Kiambogo point +254722000111 (1 trade) wants 5 bags of DAP, total 17,000 KES (47 left). Send ACCEPT 11 or REJECT 11
> FAITH BUY 9 7
< FAITH = Order #12: 7 bags of DAP from Agrovet Kiambogo (offer #9), total 22,400 KES. The seller is asked to accept.
< FAITH = Your order #12 took offer #9 to 20 bags: every order on it is now 3,200 KES a bag.
< GRACE = Offer #9 reached 20 bags: DAP now 3,200 KES a bag. Your 8 bags: total 25,600 KES.
< AGENT = For Mary Wanjiku, start with FOR M1: Offer #9 reached 20 bags: DAP now 3,200 KES a bag. Your 5 bags: total 16,000 KES.
< DEALER = Offer #9 reached 20 bags: its orders are now 3,200 KES a bag. ACCEPT 9 accepts all waiting.
< DEALER = Order #12: Faith Njeri +254733000333 (1 trade) wants 7 bags of DAP, total 22,400 KES (40 left). Send ACCEPT 12 or REJECT 12
> ESTHER BUY 9 4
< ESTHER = Order #13: 4 bags of DAP from Agrovet Kiambogo (offer #9), total 12,800 KES. The seller is asked to accept.
< DEALER = Order #13: Esther Wambui +254733000444 (1 trade) wants 4 bags of DAP, total 12,800 KES (36 left). Send ACCEPT 13 or REJECT 13
> DEALER ACCEPT 9
< DEALER = 4 orders on offer #9 accepted: 24 bags, 76,800 KES. When goods leave, send SENT and each order'"'"'s number.
< GRACE = Order #10 accepted by Agrovet Kiambogo +254711000009: 8 bags of DAP, total 25,600 KES. You get a code when it is sent.
< AGENT = For Mary Wanjiku, start with FOR M1: Order #11 accepted by Agrovet Kiambogo +254711000009: 5 bags of DAP, total 16,000 KES. You get a code when it is sent.
< FAITH = Order #12 accepted by Agrovet Kiambogo +254711000009: 7 bags of DAP, total 22,400 KES. You get a code when it is sent.
< ESTHER = Order #13 accepted by Agrovet Kiambogo +254711000009: 4 bags of DAP, total 12,800 KES. You get a code when it is sent.
'

# --- the run ----------------------------------------------------------------------------

integ_require_kannel
STEPS=$(grep -c '^>' <<< "$DAY_POOL$DAY_TIER")
integ_init cooperative-day
tap_plan $((STEPS + 15))

point_day_start coop-secret

# --- the pool ---------------------------------------------------------------------------

point_agent_add 0722000111 "$AGENT"
# The drop-off day: the day the pool order is accepted (UTC) and
# pool-dropoff (2 days) after; today's, as the day takes a minute (a run
# across midnight UTC would fail its ACCEPT step).
DAY_POOL=${DAY_POOL//%DAY%/$(date -u -d '+2 days' +%Y-%m-%d)}
play "$DAY_POOL"

# --- the dealer's tier ----------------------------------------------------------------

tap_is "$(ctl user set dealer 0711000009 2>&1)" "$DEALER is now dealer (new)" \
    "marketctl user set dealer: the agro-dealer"
play "$DAY_TIER"

# --- what the day left in the database ------------------------------------------------------

tap_is "$(db "SELECT ref || ':' || seller || ':' || buyer || ':' || qty ||
    ':' || total || ':' || state || ':' || COALESCE(parent, 0)
    FROM market_orders WHERE offer = 1 ORDER BY ref")" \
    "$(printf '%s\n' "3:$LEADER:$BUYER:50:15000000:delivered:0" \
    "4:$GRACE:$BUYER:10:3000000:delivered:3" \
    "5:m:M1:$BUYER:15:4500000:delivered:3" \
    "6:$FAITH:$BUYER:10:3000000:delivered:3" \
    "7:m:M2:$BUYER:5:1500000:delivered:3" \
    "8:$ESTHER:$BUYER:10:3000000:delivered:3")" \
    "the pool order and a share order each, in order of joining, adding up to it"
tap_is "$(db "SELECT member || ':' || qty || ':' || sold FROM market_pool_shares
    WHERE pool = 1 ORDER BY seq")" \
    "$(printf '%s\n' "$GRACE:10:10" m:M1:15:15 "$FAITH:10:10" m:M2:5:5 \
    "$ESTHER:20:10")" \
    "the shares: a repeated JOIN set Faith's once; Esther's last 10 bags unsold"
tap_is "$(db "SELECT state || ':' || target || ':' || rule FROM market_pools
    WHERE ref = 1")" "listed:60:joined" \
    "the pool is still listed: 10 of its bags are for sale"
tap_is "$(db "SELECT ref || ':' || member || ':' || agent || ':' || total ||
    ':' || amount FROM commissions ORDER BY ref")" \
    "$(printf '%s\n' "5:M1:$AGENT:4500000:112500" "7:M2:$AGENT:1500000:37500")" \
    "the agent earns 2.5% on the shares of his members, not on the pool order"
tap_is "$(db "SELECT msisdn || ':' || trades FROM users WHERE trades > 0" |
    sort)" "$(printf '%s\n' "$LEADER:1" "$BUYER:1" "$GRACE:1" "$FAITH:1" \
    "$ESTHER:1" m:M1:1 m:M2:1 | sort)" \
    "one trade for the buyer and the opener, one for each member sold"
tap_is "$(db "SELECT role FROM users WHERE msisdn = '$DEALER'")" dealer \
    "the dealer registered keeps the role the admin gave"
tap_is "$(db "SELECT qty || ':' || price || ':' ||
    CAST(reached > 0 AS INTEGER) FROM market_tiers WHERE offer = 9")" \
    "20:320000:1" "the tier of 20 bags is reached"
tap_is "$(db "SELECT ref || ':' || buyer || ':' || qty || ':' || price ||
    ':' || total || ':' || state FROM market_orders WHERE offer = 9
    ORDER BY ref")" \
    "$(printf '%s\n' "10:$GRACE:8:320000:2560000:accepted" \
    "11:m:M1:5:320000:1600000:accepted" \
    "12:$FAITH:7:320000:2240000:accepted" \
    "13:$ESTHER:4:320000:1280000:accepted")" \
    "every order on the DAP offer at the tier price, all accepted at once"
tap_is "$(db "SELECT agent || ':' || member || ':' || command FROM agent_actions
    ORDER BY id")" "$(printf '%s\n' "$AGENT:M1:JOIN 1 15" \
    "$AGENT:M2:JOIN 1 5" "$AGENT:M1:BUY 9 5")" \
    "every command for a member is recorded"
tap_is "$(db "SELECT count(*) FROM outbox WHERE receiver LIKE 'm:%'")" 0 \
    "nothing is ever sent to a member without a phone"
tap_is "$(db "SELECT count(*) FROM outbox WHERE state IN ('queued',
    'sending', 'failed')")" 0 "every SMS left the outbox"
tap_diag "the day took $((SECONDS - start)) s"
phone_stop
marketbox_stop
tap_is "$MB_EXIT" 0 "marketbox stops cleanly"
tap_is "$(marketbox_sanitizer_report)" "" \
    "no sanitizer report in marketbox's stderr"

tap_end
