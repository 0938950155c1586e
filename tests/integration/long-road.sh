#!/bin/bash
# tests/integration/long-road.sh - the long road (issue 18): one order from
# a village of one county to a village of the other, through every level
# of the shipped catalogue's hubs, through a real bearerbox and fakesmsc,
# with the market plugin.
#
# Mary sells maize at Nakuru (Lanet village hub, Nakuru county); Grace,
# registered with Wakulima market (Githunguri village hub, Kiambu county),
# posts what she wants there (the want gives the order its destination),
# orders, and Mary accepts and sends it with a transporter.  The route is
# the whole chain, 7 hubs and 8 legs:
#
#	lanet -> nakuru-town -> nakuru-county -> kenya (national)
#	    -> kiambu-county -> kiambu-town -> githunguri
#
# At each hub its operator receives the parcel with IN and the code of the
# carrier who brings it (read from the SMS that carrier got, as a real
# operator would be told it) and sends it on with OUT and the next
# carrier's phone; the next hub's operators are told it is coming, Grace
# where her parcel is.  Halfway, at the national hub, marketbox is
# SIGKILLed and started again: the next IN works and no SMS is lost or
# sent twice.  Then the parcel's leg to Kiambu county runs a day late
# (its due time moved back): its carrier is reminded, the county hub's
# operator and Grace told, then the admin.  At Githunguri Grace collects it: the operator sends PICKUP
# with her delivery code, and the trade completes.
#
# Every SMS each phone receives is checked, in order, word for word (as
# market-day.sh; lib.sh's day harness with two placeholders of its own,
# see road_step), and the legs the database keeps at the end.

. "$(dirname "$0")/lib.sh"
: "${top_srcdir:=$(cd "$(dirname "$0")/../.." && pwd)}"

# --- the phones ---------------------------------------------------------------
FARMER=+254700000001		# Mary Wanjiku, Nakuru
BUYER=+254700000002		# Grace Wambui, Wakulima (Nairobi)
T1=+254722000111		# the transporters, never registered: the
T2=+254722000222		# first from Mary to Lanet, then one a leg
T3=+254722000333
T4=+254722000444
T5=+254722000555
T6=+254722000666
T7=+254722000777
# the hubs' operators, as the shipped catalogue names them
OP_LANET=+254701100300
OP_NTOWN=+254701100200		# Nakuru township has two
OP_NTOWN2=+254701100201
OP_NCOUNTY=+254701100100
OP_KENYA=+254701000100		# the national hub
OP_KCOUNTY=+254701200100
OP_KTOWN=+254701200200
OP_GITH=+254701200300
ADMIN=+254799000001		# the conf's admin: hears of a leg a day late
PHONES="FARMER BUYER T1 T2 T3 T4 T5 T6 T7 OP_LANET OP_NTOWN OP_NTOWN2
    OP_NCOUNTY OP_KENYA OP_KCOUNTY OP_KTOWN OP_GITH ADMIN"

# --- the road ---------------------------------------------------------------------
# As market-day.sh's DAY ("> PHONE text" a step, "< PHONE = text" each SMS
# it brings, in order), and two placeholders:
#	%LEG%		in an SMS: the handover code of the leg just started
#			(random: read from the database after the step)
#	%FROM:PHONE%	in a step: the handover code in the last SMS PHONE
#			got (the carrier who brings the parcel)
# %CODE% is Grace's delivery code, as in lib.sh.
ROAD_DEAL='
> FARMER REG Mary Wanjiku Nakuru
< FARMER en reg-ok name=Mary Wanjiku|market=Nakuru
> FARMER SELL maize 10 bags 3000
< FARMER = Offer #1: 10 bags of maize at 3,000 KES a bag, Nakuru. Buyers order with BUY 1 and how many.
> BUYER REG Grace Wambui Wakulima
< BUYER en reg-ok name=Grace Wambui|market=Wakulima (Nairobi)
> BUYER WANT maize 5 bags 3200
< BUYER = Want #2: 5 bags of maize at up to 3,200 KES a bag, Wakulima (Nairobi). Sellers will be told.
> BUYER BUY 1 5
< BUYER = Order #3: 5 bags of maize from Mary Wanjiku (offer #1), total 15,000 KES. The seller is asked to accept.
< FARMER = Order #3: Grace Wambui +254700000002 (no trades yet) wants 5 bags of maize, total 15,000 KES (5 left). Send ACCEPT 3 or REJECT 3
> FARMER ACCEPT 3
< FARMER = Order #3 accepted. When the goods leave, send SENT 3 and the transporter'"'"'s phone.
< BUYER = Order #3 accepted by Mary Wanjiku +254700000001: 5 bags of maize, total 15,000 KES. You get a code when it is sent.
> FARMER SENT 3 0722000111
< FARMER = Order #3 is on its way. The buyer has a code to confirm delivery.
< BUYER = Order #3 is on its way: 5 bags of maize. Your delivery code is %CODE%. When it arrives send DELIVERED 3.
< T1 = Order #3: collect 5 bags of maize from +254700000001, Nakuru; take it to Lanet village hub. Handover code: %LEG%
< OP_LANET = Order #3: 5 bags of maize coming to Lanet village hub with +254722000111. Receive it: IN 3 and the carrier'"'"'s code.
'
# Nakuru county, up to the national hub
ROAD_UP='
> OP_LANET IN 3 %FROM:T1%
< OP_LANET = Order #3 received at Lanet village hub. Send it on with OUT 3 and the next carrier'"'"'s phone.
< BUYER = Your order #3 (5 bags of maize) is at Lanet village hub.
> OP_LANET OUT 3 0722000222
< OP_LANET = Order #3 left Lanet village hub with +254722000222; they have the handover code.
< T2 = Order #3: collect 5 bags of maize at Lanet village hub; take it to Nakuru township hub. Handover code: %LEG%
< OP_NTOWN = Order #3: 5 bags of maize coming to Nakuru township hub with +254722000222. Receive it: IN 3 and the carrier'"'"'s code.
< OP_NTOWN2 = Order #3: 5 bags of maize coming to Nakuru township hub with +254722000222. Receive it: IN 3 and the carrier'"'"'s code.
> OP_NTOWN2 IN 3 %FROM:T2%
< OP_NTOWN2 = Order #3 received at Nakuru township hub. Send it on with OUT 3 and the next carrier'"'"'s phone.
< BUYER = Your order #3 (5 bags of maize) is at Nakuru township hub.
> OP_NTOWN OUT 3 0722000333
< OP_NTOWN = Order #3 left Nakuru township hub with +254722000333; they have the handover code.
< T3 = Order #3: collect 5 bags of maize at Nakuru township hub; take it to Nakuru county hub. Handover code: %LEG%
< OP_NCOUNTY = Order #3: 5 bags of maize coming to Nakuru county hub with +254722000333. Receive it: IN 3 and the carrier'"'"'s code.
> OP_NCOUNTY IN 3 %FROM:T3%
< OP_NCOUNTY = Order #3 received at Nakuru county hub. Send it on with OUT 3 and the next carrier'"'"'s phone.
< BUYER = Your order #3 (5 bags of maize) is at Nakuru county hub.
> OP_NCOUNTY OUT 3 0722000444
< OP_NCOUNTY = Order #3 left Nakuru county hub with +254722000444; they have the handover code.
< T4 = Order #3: collect 5 bags of maize at Nakuru county hub; take it to Kenya national hub. Handover code: %LEG%
< OP_KENYA = Order #3: 5 bags of maize coming to Kenya national hub with +254722000444. Receive it: IN 3 and the carrier'"'"'s code.
> OP_KENYA IN 3 %FROM:T4%
< OP_KENYA = Order #3 received at Kenya national hub. Send it on with OUT 3 and the next carrier'"'"'s phone.
< BUYER = Your order #3 (5 bags of maize) is at Kenya national hub.
> OP_KENYA OUT 3 0722000555
< OP_KENYA = Order #3 left Kenya national hub with +254722000555; they have the handover code.
< T5 = Order #3: collect 5 bags of maize at Kenya national hub; take it to Kiambu county hub. Handover code: %LEG%
< OP_KCOUNTY = Order #3: 5 bags of maize coming to Kiambu county hub with +254722000555. Receive it: IN 3 and the carrier'"'"'s code.
'
# Kiambu county, down to Grace's village, after the crash
ROAD_DOWN='
> OP_KCOUNTY IN 3 %FROM:T5%
< OP_KCOUNTY = Order #3 received at Kiambu county hub. Send it on with OUT 3 and the next carrier'"'"'s phone.
< BUYER = Your order #3 (5 bags of maize) is at Kiambu county hub.
> OP_KCOUNTY OUT 3 0722000666
< OP_KCOUNTY = Order #3 left Kiambu county hub with +254722000666; they have the handover code.
< T6 = Order #3: collect 5 bags of maize at Kiambu county hub; take it to Kiambu township hub. Handover code: %LEG%
< OP_KTOWN = Order #3: 5 bags of maize coming to Kiambu township hub with +254722000666. Receive it: IN 3 and the carrier'"'"'s code.
> OP_KTOWN IN 3 %FROM:T6%
< OP_KTOWN = Order #3 received at Kiambu township hub. Send it on with OUT 3 and the next carrier'"'"'s phone.
< BUYER = Your order #3 (5 bags of maize) is at Kiambu township hub.
> OP_KTOWN OUT 3 0722000777
< OP_KTOWN = Order #3 left Kiambu township hub with +254722000777; they have the handover code.
< T7 = Order #3: collect 5 bags of maize at Kiambu township hub; take it to Githunguri village hub. Handover code: %LEG%
< OP_GITH = Order #3: 5 bags of maize coming to Githunguri village hub with +254722000777. Receive it: IN 3 and the carrier'"'"'s code.
> OP_GITH IN 3 %FROM:T7%
< OP_GITH = Order #3 received at Githunguri village hub. Send it to the buyer with OUT 3 and a carrier'"'"'s phone, or PICKUP 3 and the buyer'"'"'s code.
< BUYER = Your order #3 is at Githunguri village hub: collect it there with your delivery code, or wait: it will be brought to you.
'
# After the crash leg 5, with T5 on its way to Kiambu county, runs a day
# late (the test moves its due time back 25 h: the conf's least due time
# is a minute): each sweep presses it one step further, T5 first, then
# the county hub's operator and Grace, then the admin (leg-escalate 6h,
# leg-escalate-admins 24h, the defaults).  "> CLOCK" sends nothing.
ROAD_LATE='
> CLOCK leg 5 due 25 h ago
< T5 = Order #3 was due at Kiambu county hub by now. Hand it over there with your code, or send PROBLEM 3 and what is wrong.
< OP_KCOUNTY = Order #3 is 25 h late to Kiambu county hub with carrier +254722000555. Please call them; if it is lost or damaged send PROBLEM 3 and what happened.
< BUYER = Your order #3 (5 bags of maize) is running late; it was last at Kenya national hub. We are following it up and will tell you when it moves.
< ADMIN = Order #3 (maize) is 25 h late, last at Kenya national hub; its hub and carrier were told. Call +254722000555 to find it.
'
ROAD_END='
> OP_GITH PICKUP 3 %CODE%
< OP_GITH = Order #3 delivered. Thank you!
< FARMER = Order #3 delivered to Grace Wambui: 5 bags of maize, total 15,000 KES. Trade completed.
< BUYER = Order #3 was collected at Githunguri village hub: the hub'"'"'s operator +254701200300 confirmed it with your delivery code. Thank you!
> BUYER ME
< BUYER = Grace Wambui, Wakulima (Nairobi), English, farmer, buyer. 1 trade completed.
'

# road_have_all, road_match: lib.sh's phones_have_all and phones_match
# over one reading of the phones' logs (17 phones: lib.sh reads them all
# once a phone, seconds a step).
road_have_all()
{
	local p n r c
	local -A got=()

	while read -r r c; do
		got[$r]=$c
	done < <(phone_mt_raw | awk '{ n[$2]++ } END { for (r in n)
	    print r, n[r] }')
	for p in $PHONES; do
		n=NWANT_$p
		[ "${got[${!p}]:-0}" -ge "${!n}" ] || return 1
	done
}

road_match()
{
	local p w got mts rc=0

	mts=$(phone_mts)
	for p in $PHONES; do
		w=WANT_$p
		got=$(awk -v r="${!p}" '$2 == r { sub(/^[^ ]* [^ ]* [^ ]* /, "");
		    print }' <<< "$mts")
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

# road_step FROM TEXT EXPECT-LINES: lib.sh's run_step with %LEG% and
# %FROM:PHONE% (above): send TEXT from phone FROM, add what it should
# bring to each phone's list, wait for it, and test every phone.
road_step()
{
	local from=$1 text=$2 lines=$3 code leg to lang name args want w n
	local p

	while [[ $text =~ %FROM:([A-Z0-9_]+)% ]]; do
		p=${BASH_REMATCH[1]}
		text=${text//%FROM:$p%/$(handover_code "${!p}")}
	done
	[[ $text == *%CODE%* ]] && text=${text//%CODE%/$(last_code)}
	if [ "$from" = CLOCK ]; then
		# the clock: the moving leg's due time 25 h back (a change the
		# store's own writes would press again from the start)
		db "UPDATE market_legs SET due_at = $(($(date +%s) - 25 * 3600))
		    WHERE order_ref = 3 AND state = 'moving'" >/dev/null
	else
		phone_send "${!from}" 777 "$text"
	fi
	# the counts first: the codes are known once the step is done
	while read -r to lang name args; do
		[ -n "$to" ] || continue
		n=NWANT_$to
		printf -v "$n" '%s' $((${!n} + 1))
	done <<< "$lines"
	# the market's timer ticks every 15 s, one step of a late leg a tick
	if [ "$from" = CLOCK ]; then
		wait_until 60 road_have_all
	else
		wait_until "$STEP_WAIT" road_have_all
	fi
	sleep "$SETTLE"
	code=$(last_code)
	leg=$(db "SELECT code FROM market_legs WHERE state = 'moving'
	    ORDER BY order_ref DESC, seq DESC LIMIT 1")
	while read -r to lang name args; do
		[ -n "$to" ] || continue
		if [ "$lang" = "=" ]; then
			want="$name${args:+ $args}"
			want=${want//%CODE%/$code}
			want=${want//%LEG%/$leg}
		else
			render want "$lang" "$name" "${args//%CODE%/$code}"
		fi
		w=WANT_$to
		printf -v "$w" '%s%s%s' "${!w}" "${!w:+$'\n'}" "$want"
	done <<< "$lines"
	tap_ok "$from: $text" road_match
}

# road DAY: every step of DAY, in order (lib.sh's play).
road()
{
	local from='' text='' lines='' line

	while IFS= read -r line; do
		case $line in
		'> '*)
			[ -n "$from" ] && road_step "$from" "$text" "$lines"
			line=${line#> }
			from=${line%% *}
			text=${line#* }
			lines=
			;;
		'< '*)
			lines+="${line#< }"$'\n'
			;;
		esac
	done <<< "$1"
	road_step "$from" "$text" "$lines"
}

# handover_code PHONE: the code in the last handover SMS PHONE got.
handover_code()
{
	phone_texts "$1" | sed -n 's/.*Handover code: \([0-9][0-9]*\)$/\1/p' |
	    tail -n 1
}

# --- the run ----------------------------------------------------------------------------

integ_require_kannel
STEPS=$(grep -c '^>' <<< "$ROAD_DEAL$ROAD_UP$ROAD_LATE$ROAD_DOWN$ROAD_END")
integ_init long-road
tap_plan $((STEPS + 10))

MB_PLUGINS="echo market prices"
# the shipped catalogue: its hubs, two counties under the national hub
MB_CATALOGUE=$top_srcdir/conf/catalogue.conf
kannel_conf_write || tap_bail "cannot pick ports"
marketbox_conf_write "$T/marketbox.conf" "country-code = 254" \
    "admins = $ADMIN"
# the market sweeps at every tick (the late leg's steps); no morning
# manifest, which would come at whatever time of day the test runs
printf '\ngroup = plugin-market\nsweep-interval = 1\nmanifest-time = off\n' \
    >> "$T/marketbox.conf"
[ -f "$top_builddir/plugins/market/.libs/market.so" ] ||
    tap_bail "the market plugin is not built"
bearerbox_start || tap_bail "bearerbox does not start"
marketbox_start || tap_bail "cannot run $MARKETBOX"
marketbox_wait_connected 15 || tap_bail "marketbox does not connect"
start=$SECONDS
day_begin

road "$ROAD_DEAL"
tap_is "$(db "SELECT seq || ':' || COALESCE(from_hub, '') || ':' ||
    COALESCE(to_hub, '') || ':' || state FROM market_legs WHERE order_ref = 3
    ORDER BY seq")" "$(printf '%s\n' 1::lanet:moving \
    2:lanet:nakuru-town:waiting 3:nakuru-town:nakuru-county:waiting \
    4:nakuru-county:kenya:waiting 5:kenya:kiambu-county:waiting \
    6:kiambu-county:kiambu-town:waiting 7:kiambu-town:githunguri:waiting \
    8:githunguri::waiting)" \
    "SENT made 8 legs: up through Nakuru county to the national hub and down to Githunguri"
road "$ROAD_UP"

# --- the crash: halfway, the parcel on its way to Kiambu county -------------------------
outbox_before=$(db "SELECT count(*) FROM outbox")
killed=$MB_PID
marketbox_kill
tap_ok "marketbox is gone (SIGKILL)" eval '! proc_alive "$killed"'
marketbox_start || tap_bail "cannot run $MARKETBOX again"
marketbox_wait_connected 15 || tap_bail "marketbox does not reconnect"
tap_is "$(db "SELECT seq || ':' || state || ':' || COALESCE(carrier, '')
    FROM market_legs
    WHERE order_ref = 3 AND state <> 'done' ORDER BY seq")" \
    "$(printf '%s\n' "5:moving:$T5" 6:waiting: 7:waiting: 8:waiting:)" \
    "after the crash the legs are where they were: leg 5 moving with its carrier"
road "$ROAD_LATE"
road "$ROAD_DOWN"
road "$ROAD_END"

# --- what the road left in the database ---------------------------------------------------

tap_is "$(db "SELECT state FROM market_orders WHERE ref = 3")" delivered \
    "the order is delivered"
tap_is "$(db_join ' ' "SELECT seq || ':' || state FROM market_legs
    WHERE order_ref = 3 ORDER BY seq")" \
    "1:done 2:done 3:done 4:done 5:done 6:done 7:done 8:done" \
    "every leg is done, the last by PICKUP"
tap_is "$(db_join ' ' "SELECT carrier FROM market_legs WHERE order_ref = 3
    AND seq < 8 ORDER BY seq")" "$T1 $T2 $T3 $T4 $T5 $T6 $T7" \
    "each leg kept its carrier"
tap_is "$(db "SELECT count(*) FROM market_legs WHERE order_ref = 3
    AND (ended IS NULL OR (seq < 8 AND (started IS NULL OR
    ended < started)))")" 0 \
    "each leg kept when it started and ended (the last: collected, never moved)"
tap_is "$(db "SELECT count(*) FROM outbox WHERE state IN ('queued',
    'sending', 'failed')")" 0 "every SMS left the outbox"
tap_diag "the road took $((SECONDS - start)) s; $outbox_before SMS before the crash"

# --- clean stop ---------------------------------------------------------------------------------

phone_stop
marketbox_stop
tap_is "$MB_EXIT" 0 "marketbox stops cleanly"
tap_is "$(marketbox_sanitizer_report)" "" \
    "no sanitizer report in marketbox's stderr"

tap_end
