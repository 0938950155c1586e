#!/bin/bash
# tests/integration/paid-order.sh - an order paid by mobile money (issue
# 19), through a real bearerbox and fakesmsc, with the market plugin and
# group = payments (Daraja C2B, direct mode): the provider's callbacks are
# POSTed to /payments/confirm on the core's HTTP port (127.0.0.1 only),
# as Safaricom would, with bash's /dev/tcp (no curl needed).
#
# Mary sells maize; John orders 5 bags; Mary accepts, and John's notice
# says how to pay ("Pay 15,000 KES to paybill 512345, account 2").  The
# callback pays the order: Mary is told "15,000 KES received for order #2
# (...). Send the goods: SENT 2", John gets a receipt; SENT, then
# DELIVERED with the code.  John's second order is paid while it waits
# for Mary, who then REJECTs it: its money is refund-due, John and the
# admin are told.
#
# Then the crash.  marketbox runs with tests/faults/faultshim.so
# preloaded and FAULT_KILL_ON_WRITE set to the accepted answer's
# '"ResultCode": 0': a third order's callback is committed, and marketbox
# dies (SIGKILL) as it writes the answer.  The provider sees no answer;
# marketbox is started again (without the shim), the provider retries
# the same TransID and gets the accepted answer, and the ledger has one
# row of it, the order is paid once, and Mary and John were told once.
# Where the shim cannot be preloaded (not built, a sanitizer build) that
# part is skipped (TAP), as tests/faults/lib.sh does.
#
# Every SMS each phone receives is checked, in order, word for word (as
# market-day.sh: lib.sh's day harness, with "> PAY TRANSID AMOUNT ACCOUNT"
# a step of the provider's, see pay_step), and the ledger (payments) and
# the money state (order_payments) in the database.

. "$(dirname "$0")/lib.sh"
: "${top_srcdir:=$(cd "$(dirname "$0")/../.." && pwd)}"

# --- the phones ---------------------------------------------------------------
FARMER=+254700000001		# Mary Wanjiku, the seller
BUYER=+254700000002		# John Otieno, who pays from 254700000002
CARRIER=+254722000111		# a transporter, never registered
ADMIN=+254799000001		# the conf's admin: hears of refunds due
PHONES="FARMER BUYER CARRIER ADMIN"
SECRET=0123456789abcdef0123	# group = payments' shared-secret
PAYBILL=512345

# --- the day ----------------------------------------------------------------------
# As market-day.sh's ("> PHONE text", then "< PHONE = text" for each SMS
# it brings, in order), and "> PAY TRANSID AMOUNT ACCOUNT": the provider's
# confirmation of a payment from John's phone, which must be answered
# {"ResultCode": 0, "ResultDesc": "Accepted"}.
DEAL='
> FARMER REG Mary Wanjiku Nakuru
< FARMER en reg-ok name=Mary Wanjiku|market=Nakuru
> FARMER SELL maize 10 bags 3000
< FARMER = Offer #1: 10 bags of maize at 3,000 KES a bag, Nakuru. Buyers order with BUY 1 and how many.
> BUYER REG John Otieno Nakuru
< BUYER en reg-ok name=John Otieno|market=Nakuru
> BUYER BUY 1 5
< BUYER = Order #2: 5 bags of maize from Mary Wanjiku (offer #1), total 15,000 KES. The seller is asked to accept.
< FARMER = Order #2: John Otieno +254700000002 (no trades yet) wants 5 bags of maize, total 15,000 KES (5 left). Send ACCEPT 2 or REJECT 2
> FARMER ACCEPT 2
< FARMER = Order #2 accepted. When the goods leave, send SENT 2 and the transporter'"'"'s phone.
< BUYER = Order #2 accepted by Mary Wanjiku +254700000001. Pay 15,000 KES to paybill 512345, account 2. You get a code when it is sent.
> PAY QBC1PAID02 15000.00 2
< FARMER = 15,000 KES received for order #2 (QBC1PAID02). Send the goods: SENT 2
< BUYER = Receipt: 15,000 KES paid for order #2 (QBC1PAID02). The seller is told to send the goods.
> FARMER SENT 2 0722000111
< FARMER = Order #2 is on its way; transporter +254722000111 has the details.
< BUYER = Order #2 is on its way with +254722000111: 5 bags of maize. Your delivery code is %CODE%: give it to the transporter on arrival.
< CARRIER = Order #2: collect 5 bags of maize from +254700000001, Nakuru; deliver to +254700000002. Then DELIVERED 2 code
> CARRIER DELIVERED 2 %CODE%
< CARRIER = Order #2 delivered. Thank you!
< FARMER = Order #2 delivered to John Otieno: 5 bags of maize, total 15,000 KES. Trade completed.
< BUYER = Order #2 was confirmed delivered by the transporter +254722000111 with your code.
'

# The second order: paid while it waits for Mary, then rejected.
REFUND='
> BUYER BUY 1 2
< BUYER = Order #3: 2 bags of maize from Mary Wanjiku (offer #1), total 6,000 KES. The seller is asked to accept.
< FARMER = Order #3: John Otieno +254700000002 (1 trade) wants 2 bags of maize, total 6,000 KES (3 left). Send ACCEPT 3 or REJECT 3
> PAY QBC1PAID03 6000 3
< FARMER = 6,000 KES received for order #3 (QBC1PAID03). Accept it: ACCEPT 3, then send the goods.
< BUYER = Receipt: 6,000 KES paid for order #3 (QBC1PAID03). The seller is told to send the goods.
> FARMER REJECT 3
< FARMER = Order #3 rejected. 2 bags are back on offer #1.
< BUYER = Order #3 is closed: the 6,000 KES you paid is to be refunded. The operator is told.
< BUYER = Order #3 (2 bags of maize) was rejected by Mary Wanjiku. Send PRICE maize to see other offers.
< ADMIN = Order #3 closed with 6,000 KES paid by +254700000002: a refund is due.
'

# The third order, accepted; its callback is the one marketbox dies on.
CRASH_DEAL='
> BUYER BUY 1 1
< BUYER = Order #4: 1 bag of maize from Mary Wanjiku (offer #1), total 3,000 KES. The seller is asked to accept.
< FARMER = Order #4: John Otieno +254700000002 (1 trade) wants 1 bag of maize, total 3,000 KES (4 left). Send ACCEPT 4 or REJECT 4
> FARMER ACCEPT 4
< FARMER = Order #4 accepted. When the goods leave, send SENT 4 and the transporter'"'"'s phone.
< BUYER = Order #4 accepted by Mary Wanjiku +254700000001. Pay 3,000 KES to paybill 512345, account 4. You get a code when it is sent.
'
# What the crashed callback brings, once (before the crash or after the
# restart: the outbox keeps it), as expect takes it.
CRASH_NOTICES='
FARMER = 3,000 KES received for order #4 (QBC1PAID04). Send the goods: SENT 4
BUYER = Receipt: 3,000 KES paid for order #4 (QBC1PAID04). The seller is told to send the goods.
'

# --- the provider ------------------------------------------------------------------

# c2b TRANSID AMOUNT ACCOUNT: a Daraja C2B confirmation of a payment from
# John's phone.
c2b()
{
	printf '{"TransactionType": "Pay Bill", "TransID": "%s", "TransTime": "20261205143000", "TransAmount": "%s", "BusinessShortCode": "%s", "BillRefNumber": "%s", "InvoiceNumber": "", "OrgAccountBalance": "49197.00", "ThirdPartyTransID": "", "MSISDN": "%s", "FirstName": "John", "MiddleName": "", "LastName": "Otieno"}' \
	    "$1" "$2" "$PAYBILL" "$3" "${BUYER#+}"
}

# confirm BODY: POST it to /payments/confirm as the provider does; the
# whole answer (status line, headers, body) on stdout, nothing when the
# connection closed unanswered.  15 s max.
confirm()
{
	timeout 15 bash -c '
		exec 3<>"/dev/tcp/127.0.0.1/$1" || exit 1
		printf "POST /payments/confirm?secret=%s HTTP/1.0\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n%s" \
		    "$2" "${#3}" "$3" >&3
		cat <&3' _ "$HTTP_PORT" "$SECRET" "$1" 2>/dev/null | tr -d '\r'
}

ACCEPTED='{"ResultCode": 0, "ResultDesc": "Accepted"}'

# accepted ANSWER: a 200 with the accepted body (else the answer as TAP
# diagnostics).
accepted()
{
	if [[ $(head -n 1 <<< "$1") == "HTTP/1."[01]" 200 OK" ]] &&
	    [ "$(tail -n 1 <<< "$1")" = "$ACCEPTED" ]; then
		return 0
	fi
	tap_diag "the answer was:"
	tap_diag "$1"
	return 1
}

# expect LINES: add what LINES ("PHONE = text" or "PHONE lang template
# args", as run_step takes them) say each phone gets to its list.
expect()
{
	local to lang name args want w n code

	code=$(last_code)
	while read -r to lang name args; do
		[ -n "$to" ] || continue
		if [ "$lang" = "=" ]; then
			want="$name${args:+ $args}"
			want=${want//%CODE%/$code}
		else
			render want "$lang" "$name" "${args//%CODE%/$code}"
		fi
		w=WANT_$to
		n=NWANT_$to
		printf -v "$w" '%s%s%s' "${!w}" "${!w:+$'\n'}" "$want"
		printf -v "$n" '%s' $((${!n} + 1))
	done <<< "$1"
}

# pay_step FROM TEXT LINES: lib.sh's run_step, and FROM PAY: the
# provider's callback (TEXT: TRANSID AMOUNT ACCOUNT), whose answer must be
# the accepted one.
pay_step()
{
	local from=$1 text=$2 lines=$3 answer

	if [ "$from" != PAY ]; then
		run_step "$@"
		return
	fi
	# shellcheck disable=SC2086
	answer=$(confirm "$(c2b $text)")
	tap_ok "PAY $text: the provider gets the accepted answer" \
	    accepted "$answer"
	expect "$lines"
	wait_until "$STEP_WAIT" phones_have_all
	sleep "$SETTLE"
	tap_ok "PAY $text: the SMS it brings" phones_match
}

# --- the run ----------------------------------------------------------------------------

integ_require_kannel
STEPS=$(grep -c '^>' <<< "$DEAL$REFUND$CRASH_DEAL")
PAYS=$(grep -c '^> PAY' <<< "$DEAL$REFUND$CRASH_DEAL")
CRASH_TESTS=10
integ_init paid-order
tap_plan $((STEPS + PAYS + 6 + CRASH_TESTS + 4))

MB_PLUGINS="echo market prices"
# the shipped catalogue: its words and their plural forms
MB_CATALOGUE=$top_srcdir/conf/catalogue.conf
kannel_conf_write || tap_bail "cannot pick ports"
port_pick HTTP_PORT || tap_bail "cannot pick a port"
marketbox_conf_write "$T/marketbox.conf" "country-code = 254" \
    "admins = $ADMIN" "http-port = $HTTP_PORT" "http-interface = 127.0.0.1"
cat >> "$T/marketbox.conf" <<EOF

group = payments
provider = daraja-c2b
business-number = $PAYBILL
account-format = {ref}
shared-secret = $SECRET
mode = direct
EOF
[ -f "$top_builddir/plugins/market/.libs/market.so" ] ||
    tap_bail "the market plugin is not built"
bearerbox_start || tap_bail "bearerbox does not start"
marketbox_start || tap_bail "cannot run $MARKETBOX"
marketbox_wait_connected 15 || tap_bail "marketbox does not connect"
wait_until 10 port_listening "$HTTP_PORT" ||
    tap_bail "marketbox does not listen on $HTTP_PORT"
start=$SECONDS
day_begin

# --- a paid order, sent and delivered ------------------------------------------------------
play "$DEAL" pay_step
tap_is "$(db "SELECT trans_id || '|' || kind || '|' || order_ref || '|' ||
    amount || '|' || currency || '|' || msisdn || '|' || names || '|' ||
    outcome FROM payments")" \
    "QBC1PAID02|payment|2|1500000|KES|254700000002|John Otieno|paid" \
    "the ledger has the payment, in minor units, for order 2"
tap_is "$(db "SELECT order_ref || '|' || due || '|' || paid || '|' || state
    FROM order_payments")" "2|1500000|1500000|paid" \
    "order 2's money state: paid in full (direct: nothing due to the seller)"
tap_is "$(db "SELECT state FROM market_orders WHERE ref = 2")" delivered \
    "order 2 is delivered"

# --- a paid order rejected: refund due ------------------------------------------------------
play "$REFUND" pay_step
tap_is "$(db "SELECT trans_id || '|' || order_ref || '|' || amount || '|' ||
    outcome FROM payments WHERE trans_id = 'QBC1PAID03'")" \
    "QBC1PAID03|3|600000|paid" "the ledger has the second payment"
tap_is "$(db "SELECT order_ref || '|' || due || '|' || paid || '|' || state
    FROM order_payments WHERE order_ref = 3")" "3|600000|600000|refund-due" \
    "order 3's money is refund-due"
tap_is "$(db "SELECT state FROM market_orders WHERE ref = 3")" rejected \
    "order 3 is rejected"

# --- the crash between the callback's commit and its answer ---------------------------------
play "$CRASH_DEAL" pay_step

FAULT_SHIM=$top_builddir/tests/faults/.libs/faultshim.so
skip_crash=
ledger="QBC1PAID02 QBC1PAID03 QBC1PAID04"
if grep -q '^SANITIZER_CFLAGS = .*sanitize' "$top_builddir/Makefile" \
    2>/dev/null; then
	skip_crash="the fault shim is an LD_PRELOAD library; a sanitizer build must have its runtime loaded first (the plain build runs this part)"
elif [ ! -f "$FAULT_SHIM" ]; then
	skip_crash="$FAULT_SHIM is not built (make check builds it)"
fi
if [ -n "$skip_crash" ]; then
	ledger="QBC1PAID02 QBC1PAID03"
	for i in $(seq "$CRASH_TESTS"); do
		tap_skip "the crash between commit and answer ($i)" "$skip_crash"
	done
else
	# marketbox again, dying as it writes the accepted answer
	marketbox_stop
	echo "=== start with the shim" >> "$T/marketbox.stderr"
	env LD_PRELOAD="$FAULT_SHIM" FAULT_LOG="$T/fault.log" \
	    FAULT_KILL_ON_WRITE='"ResultCode": 0' \
	    bash -c 'exec "$0" -v 1 "$1"' "$MARKETBOX" "$MB_CONF" \
	    >> "$T/marketbox.stdout" 2>> "$T/marketbox.stderr" &
	MB_PID=$!
	marketbox_wait_connected 15 || tap_bail "marketbox does not connect"
	wait_until 10 port_listening "$HTTP_PORT" ||
	    tap_bail "marketbox does not listen on $HTTP_PORT"
	killed=$MB_PID
	answer=$(confirm "$(c2b QBC1PAID04 3000 4)")
	tap_is "$answer" "" "the provider gets no answer: the connection closes"
	tap_ok "marketbox died (SIGKILL) as it wrote the answer" \
	    wait_until 5 eval '! proc_alive "$killed"'
	tap_is "$(cat "$T/fault.log" 2>/dev/null)" "kill-on-write 0" \
	    "the shim killed it at the answer, once"
	proc_stop "$MB_PID" KILL 5
	MB_PID=
	wait_until 5 eval '! bearerbox_lists_marketbox'
	tap_is "$(db "SELECT count(*) FROM payments WHERE trans_id =
	    'QBC1PAID04'")" 1 "the payment was committed before the answer"
	marketbox_start || tap_bail "cannot run $MARKETBOX again"
	marketbox_wait_connected 15 || tap_bail "marketbox does not reconnect"
	wait_until 10 port_listening "$HTTP_PORT" ||
	    tap_bail "marketbox does not listen on $HTTP_PORT"
	# what the commit queued reaches the phones, once, crash or not
	expect "$CRASH_NOTICES"
	wait_until "$STEP_WAIT" phones_have_all
	sleep "$SETTLE"
	tap_ok "Mary and John are told of the payment once" phones_match
	# the provider retries the same TransID
	answer=$(confirm "$(c2b QBC1PAID04 3000 4)")
	tap_ok "the retry gets the accepted answer" accepted "$answer"
	sleep 1
	tap_ok "the retry brings no SMS" phones_match
	tap_is "$(db "SELECT trans_id || '|' || order_ref || '|' || amount ||
	    '|' || outcome FROM payments WHERE trans_id = 'QBC1PAID04'")" \
	    "QBC1PAID04|4|300000|paid" "the ledger has one row of it"
	tap_is "$(db "SELECT order_ref || '|' || due || '|' || paid || '|' ||
	    state FROM order_payments WHERE order_ref = 4")" \
	    "4|300000|300000|paid" "order 4 is paid once"
	tap_ok "the retry is logged as seen before" \
	    grep -q "payments: QBC1PAID04 from 127.0.0.1 seen before: no effect" \
	    "$T/marketbox.log"
fi

# --- what the day left in the database ------------------------------------------------------
tap_is "$(db_join ' ' "SELECT trans_id FROM payments ORDER BY trans_id")" \
    "$ledger" \
    "the ledger: one row per TransID"
# (the last SMS may have reached its phone before bearerbox's ack of it
# reached marketbox: a few seconds for the ack)
outbox_left()
{
	db "SELECT count(*) FROM outbox WHERE state IN ('queued', 'sending',
	    'failed')"
}
wait_until "$STEP_WAIT" eval '[ "$(outbox_left)" = 0 ]'
tap_is "$(outbox_left)" 0 "every SMS left the outbox"
db "SELECT id, state, owner, receiver, attempts, text FROM outbox WHERE
    state IN ('queued', 'sending', 'failed')" | while IFS= read -r row; do
	tap_diag "left in the outbox: $row"
done
tap_diag "the day took $((SECONDS - start)) s, on $MB_TEST_STORE"

# --- clean stop ---------------------------------------------------------------------------------

phone_stop
marketbox_stop
tap_is "$MB_EXIT" 0 "marketbox stops cleanly"
tap_is "$(marketbox_sanitizer_report)" "" \
    "no sanitizer report in marketbox's stderr"

tap_end
