#!/bin/bash
# tests/integration/sms.sh - SMS through a real bearerbox and fakesmsc: an
# MO gets its reply, is stored once, the reply's delivery report is
# recorded; UCS-2 in and out; a long reply in concatenated parts; a burst of
# 200 MOs from many phones, each answered exactly once.

. "$(dirname "$0")/lib.sh"

# --- what marketbox answers ------------------------------------------------
# These tests are about the message path, not the commands: they use the
# echo plugin, which answers "ECHO text" with "You said: text".
SELL_TEXT="echo SELL maize"
SELL_REPLY="You said: SELL maize"
UCS2_TEXT="echo 你好"				# sent url-encoded as UTF-16BE
UCS2_URLENC="%00e%00c%00h%00o%00%20%4F%60%59%7D"
UCS2_REPLY="You said: 你好"
LONG_BODY="SELL maize 10 bags 3000 at Nakuru market, dry and clean, \
collected from the farm gate on Monday or delivered to the buyer by \
lorry for a small fee, call after six in the evening please, thanks"
LONG_TEXT="echo $LONG_BODY"
LONG_REPLY="You said: $LONG_BODY"
BURST_TEXT="echo PRICE maize"
BURST_REPLY="You said: PRICE maize"
BURST_N=200

FARMER=+254700000001
UCS2_PHONE=+254700000002
LONG_PHONE=+254700000003
BURST_PREFIX=+2547100		# fakesmsc -z 1 appends random digits

integ_require_kannel
integ_init sms
tap_plan 16

kannel_conf_write || tap_bail "cannot pick ports"
marketbox_conf_write
bearerbox_start || tap_bail "bearerbox does not start"
marketbox_start || tap_bail "cannot run $MARKETBOX"
marketbox_wait_connected 15 || tap_bail "marketbox does not connect"

# --- one MO, its reply, its DLR ------------------------------------------------

phone_send "$FARMER" 777 "$SELL_TEXT"
tap_ok "an MO through bearerbox gets its reply" \
    phone_expect_text "$FARMER" "$SELL_REPLY" 10
tap_is "$(db "SELECT count(*) FROM inbox WHERE sender = '$FARMER' AND
    text = '$SELL_TEXT' AND receiver = '777' AND channel = 'box'")" 1 \
    "the inbox has the MO once"
tap_is "$(phone_mt_count "$FARMER")" 1 "the phone got exactly one reply"

reply_delivered()
{
	[ "$(db "SELECT dlr_state FROM outbox WHERE receiver = '$FARMER' AND
	    kind = 'reply'")" = delivered ]
}
wait_until 10 reply_delivered
tap_is "$(db "SELECT count(*), state, dlr_state, CAST(foreign_id IS NOT NULL
    AS INTEGER) FROM outbox WHERE receiver = '$FARMER' AND kind = 'reply'
    GROUP BY 2, 3, 4")" \
    "1|delivered|delivered|1" \
    "the reply's outbox row reaches delivered by its DLR"

# --- UCS-2 --------------------------------------------------------------------

phone_send "$UCS2_PHONE" 777 "$UCS2_URLENC" ucs2
tap_ok "a UCS-2 MO gets its reply" \
    phone_expect_text "$UCS2_PHONE" "$UCS2_REPLY" 10
tap_is "$(db "SELECT text, coding FROM inbox WHERE sender = '$UCS2_PHONE'")" \
    "$UCS2_TEXT|2" "the UCS-2 MO is stored as UTF-8 with its coding"
tap_is "$(phone_mts | awk -v r="$UCS2_PHONE" '$2 == r { print $3 }')" \
    ucs-2 "the reply travels as UCS-2"

# --- a long reply ----------------------------------------------------------------

phone_send "$LONG_PHONE" 777 "$LONG_TEXT"
long_parts=$(( (${#LONG_REPLY} + 152) / 153 ))
phone_long_done()
{
	[ "$(phone_mt_count "$LONG_PHONE")" -ge "$long_parts" ]
}
wait_until 10 phone_long_done
tap_is "$(phone_mts | awk -v r="$LONG_PHONE" '$2 == r { print $3 }' |
    sed 's/:.*//' | sort | uniq -c | awk '{ print $1, $2 }')" \
    "$long_parts udh" \
    "a ${#LONG_REPLY}-character reply arrives as $long_parts parts with a UDH"
# Put the parts back together in the order their UDH numbers them, as a
# handset does: nothing is added between parts.
joined=$(phone_mts | awk -v r="$LONG_PHONE" '$2 == r' | sort -k3,3 |
    sed 's/^[^ ]* [^ ]* [^ ]* //' | tr -d '\n')
tap_is "$joined" "$LONG_REPLY" "the parts joined are the whole reply"
tap_is "$(db "SELECT count(*), min(parts), max(part) FROM outbox
    WHERE receiver = '$LONG_PHONE'")" "$long_parts|$long_parts|$long_parts" \
    "the outbox has one row per part"

# --- a burst from many phones -------------------------------------------------

phone_batch "$BURST_N" 0 1 "$BURST_PREFIX 777 text $BURST_TEXT"
burst_stored()
{
	[ "$(db "SELECT count(*) FROM inbox
	    WHERE sender LIKE '$BURST_PREFIX%'")" -ge "$BURST_N" ]
}
burst_answered()
{
	[ "$(phone_mt_raw | grep -c "^777 $BURST_PREFIX")" -ge "$BURST_N" ]
}
wait_until 30 burst_stored
tap_is "$(db "SELECT count(*) FROM inbox WHERE sender LIKE '$BURST_PREFIX%'")" \
    "$BURST_N" "all $BURST_N MOs of the burst are in the inbox"
wait_until 30 burst_answered
sleep 1			# a late duplicate would show now
tap_is "$(phone_mt_raw | grep -c "^777 $BURST_PREFIX")" "$BURST_N" \
    "$BURST_N replies reach the phones"
# Per phone (the random suffixes may repeat): replies = MOs sent.
db "SELECT sender, count(*) FROM inbox WHERE sender LIKE '$BURST_PREFIX%'
    GROUP BY sender" | tr '|' ' ' | sort > "$T/burst-mo"
phone_mts | awk -v p="$BURST_PREFIX" 'index($2, p) == 1 { n[$2]++ }
    END { for (r in n) print r, n[r] }' | sort > "$T/burst-mt"
tap_ok "every phone of the burst got exactly one reply per MO" \
    cmp -s "$T/burst-mo" "$T/burst-mt"
tap_is "$(phone_mts | awk -v p="$BURST_PREFIX" 'index($2, p) == 1 {
    sub(/^[^ ]* [^ ]* [^ ]* /, ""); print }' | sort -u)" "$BURST_REPLY" \
    "every burst reply is the expected text"

# --- clean stop ---------------------------------------------------------------------

phone_stop
marketbox_stop
tap_is "$MB_EXIT" 0 "marketbox stops cleanly after the traffic"
tap_is "$(marketbox_sanitizer_report)" "" \
    "no sanitizer report in marketbox's stderr"

tap_end
