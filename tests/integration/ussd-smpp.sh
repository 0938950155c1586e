#!/bin/bash
# tests/integration/ussd-smpp.sh - the USSD menus over SMPP through a real
# bearerbox: tests/smppsim plays the operator's SMSC (bearerbox's "smsc =
# smpp" client binds to it on loopback, with the shipped smpp-tlv groups of
# conf/kannel.conf), sends deliver_sm with ussd_service_op and
# its_session_info, and checks the TLVs and the text of every submit_sm
# marketbox's answers become: a session from the dial to its last screen,
# an answer that does not fit, 00 back, a session the network releases and
# its resumption on the next dial.

. "$(dirname "$0")/lib.sh"

PHONE=+254700000001
PHONE2=+254700000002

integ_require_kannel
integ_init ussd-smpp
# smppsim is ours to stop too, before the harness stops the rest.
SIM_PID=
ussd_smpp_teardown()
{
	local rc=$?

	[ -n "$SIM_PID" ] && proc_stop "$SIM_PID" TERM 3
	SIM_PID=
	(exit "$rc")
	integ_teardown
}
trap ussd_smpp_teardown EXIT
SMPPSIM=$top_builddir/tests/smppsim
if [ ! -x "$SMPPSIM" ]; then
	echo "1..0 # SKIP $SMPPSIM not built"
	exit 0
fi
tap_plan 12

kannel_conf_write || tap_bail "cannot pick ports"
port_pick SIM_PORT || tap_bail "cannot pick ports"
{
	cat <<EOF

# The operator's USSD link: smppsim on loopback.
group = smsc
smsc = smpp
smsc-id = USSD
allowed-smsc-id = USSD
host = 127.0.0.1
port = $SIM_PORT
transceiver-mode = yes
smsc-username = marketbox
smsc-password = secret
system-type = USSD
enquire-link-interval = 5
reconnect-delay = 1

group = smsbox-route
smsbox-id = marketbox
smsc-id = USSD

EOF
	# The smpp-tlv groups as shipped.
	sed -n '/^group = smpp-tlv$/,/^$/p' "$top_srcdir/conf/kannel.conf"
} >> "$T/kannel.conf"
tap_is "$(grep -c '^group = smpp-tlv$' "$T/kannel.conf")" 2 \
    "conf/kannel.conf ships the two smpp-tlv groups"

marketbox_conf_write "$T/marketbox.conf" "ussd-timeout = 60"
printf '\ninclude = "%s"\n' "$top_srcdir/conf/ussd.conf" >> "$MB_CONF"

# The dialogue, as the phones and the network play it (smppsim(1) steps;
# ops: 01 PSSR indication, 12 USSR confirm; 02 USSR request, 11 PSSR
# response; its_session_info: session number, then the end bit).
cat > "$T/sim.script" <<'EOF'
wait-bind 30
mo +254700000001 384 01 12 0 *384#
expect 02 1200 Marketbox\n1 Check prices\n2 Sell\n3 Buy from an offer\n4 Ask to buy\n5 My orders\n6 Price alerts\n7 Register\n8 Language
mo +254700000001 384 12 12 0 2
expect 02 1200 Choose a commodity:\n1 maize\n00 Back
mo +254700000001 384 12 12 0 1
expect 02 1200 Quantity (bag):\n00 Back
mo +254700000001 384 12 12 0 many
expect 02 1200 Send a number from 1 to 1000000.\nQuantity (bag):\n00 Back
mo +254700000001 384 12 12 0 00
expect 02 1200 Choose a commodity:\n1 maize\n00 Back
mo +254700000001 384 12 12 0 00
expect 02 1200 Marketbox\n1 Check prices\n2 Sell\n3 Buy from an offer\n4 Ask to buy\n5 My orders\n6 Price alerts\n7 Register\n8 Language
mo +254700000001 384 12 12 0 7
expect 02 1200 Your name:\n00 Back
mo +254700000001 384 12 12 0 Mary
expect 02 1200 Choose a market:\n1 Nakuru\n00 Back
mo +254700000001 384 12 12 0 1
expect 11 1201 Welcome Mary! You are registered at Nakuru. Send HELP for the commands.
# a second session that the network releases half way
mo +254700000002 384 01 20 0 *384#
expect 02 2000 Marketbox\n1 Check prices\n2 Sell\n3 Buy from an offer\n4 Ask to buy\n5 My orders\n6 Price alerts\n7 Register\n8 Language
mo +254700000002 384 12 20 0 8
expect 02 2000 Choose a language:\n1 English\n2 Francais\n3 Kiswahili\n4 中文\n00 Back
mo +254700000002 384 12 20 1
quiet 2
# the same phone dials again: it is offered to go on
mo +254700000002 384 01 21 0 *384#
expect 02 2100 Continue where you left?\n1 Yes\n2 No
mo +254700000002 384 12 21 0 1
expect 02 2100 Choose a language:\n1 English\n2 Francais\n3 Kiswahili\n4 中文\n00 Back
mo +254700000002 384 12 21 0 3
expect 11 2101 Lugha sasa ni Kiswahili.
EOF

"$SMPPSIM" -p "$SIM_PORT" -t 15 -T 150 "$T/sim.script" \
    > "$T/smppsim.out" 2>&1 &
SIM_PID=$!
bearerbox_start || tap_bail "bearerbox does not start"
marketbox_start || tap_bail "cannot run $MARKETBOX"
marketbox_wait_connected 15 || tap_bail "marketbox does not connect"

sim_done()
{
	! proc_alive "$SIM_PID"
}
wait_until 160 sim_done
proc_stop "$SIM_PID" TERM 3
sim_rc=$PROC_STATUS
SIM_PID=
tap_is "$sim_rc" 0 "every submit_sm has the op, the session and the screen expected"
[ "$sim_rc" = 0 ] || tap_diag "$(grep -E 'FAIL|expect' "$T/smppsim.out" | tail -n 6)"
tap_is "$(grep -c '^bind id=0x00000009 system_id=marketbox status=0x00000000' \
    "$T/smppsim.out")" 1 "bearerbox bound as a transceiver"

tap_is "$(db "SELECT count(*) FROM inbox WHERE channel = 'box'
    AND smsc_id = 'USSD' AND meta_data LIKE '%ussd_service_op=%'")" 15 \
    "every MO is in the inbox with Kannel's meta_data"
tap_is "$(db "SELECT CAST(meta_data LIKE '%ussd_service_op=%01%'
    AND meta_data LIKE '%its_session_info=%12%00%' AS INTEGER) FROM inbox
    ORDER BY id LIMIT 1")" 1 "the dial's meta_data carries op 1 and the session"
tap_is "$(db "SELECT count(*), min(parts), max(parts) FROM outbox
    WHERE kind = 'ussd' AND smsc_id = 'USSD'")" "14|1|1" \
    "14 answers, each one MT on the MO's link"
accepted()
{
	[ "$(db "SELECT count(*) FROM outbox WHERE kind = 'ussd'
	    AND state IN ('accepted', 'delivered')")" = 14 ]
}
tap_ok "bearerbox accepted every answer" wait_until 10 accepted
tap_is "$(db "SELECT state FROM ussd_sessions
    WHERE id = 'smpp:$PHONE:18'")" done "the first session is done"
tap_is "$(db "SELECT state FROM ussd_sessions
    WHERE id = 'smpp:$PHONE2:32'")" done \
    "the released session was resumed, then done"
tap_is "$(db "SELECT name || '|' || market FROM users
    WHERE msisdn = '$PHONE'")" "Mary|nakuru" "the menu registered the phone"

marketbox_stop
tap_is "$MB_EXIT" 0 "marketbox stops cleanly after the traffic"
tap_is "$(marketbox_sanitizer_report)" "" \
    "no sanitizer report in marketbox's stderr"

tap_end
