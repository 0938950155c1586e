#!/bin/bash
# tests/integration/restart.sh - nothing lost, nothing done twice, across
# crashes in the middle of traffic:
#
# 1. bearerbox is SIGKILLed while MOs flow (and while marketbox is frozen
#    with SIGSTOP, so that bearerbox surely holds MOs it has not had acked),
#    and started again on the same store file.  marketbox reconnects by
#    itself; every MO bearerbox took in ends up in the inbox exactly once,
#    with exactly one reply decided.
#
#    Accounting: fakesmsc counts an MO as sent once it is written to the
#    socket; MOs still in the socket when bearerbox dies never reached it and
#    are lost to the network, not to marketbox.  Bearerbox writes "Receive
#    SMS" to its access log after the MO is in its store, so:
#	access-log count <= inbox rows <= fakesmsc's count
#    and the difference between the two bounds is reported.
#
# 2. marketbox is SIGKILLed while MOs flow, and started again.  Bearerbox
#    resends the MOs marketbox had not acked (same id), so every MO is in the
#    inbox exactly once and has exactly one reply row; every reply reaches the
#    phone and ends delivered.  The at-least-once window: a reply handed to
#    bearerbox whose acceptance was not yet committed when marketbox died is
#    sent again after the restart (outbox.h: rows in sending are queued
#    again).  So a phone may get a reply twice, but only a reply whose row
#    was not yet accepted at the kill; any other duplicate fails the test.

. "$(dirname "$0")/lib.sh"

BATCH=300		# MOs in each phase
INTERVAL=0.005		# seconds between MOs: the batch lasts about 1.5 s
KILL_AT=100		# kill once this many MOs of the batch are stored
MO_TEXT="echo PRICE maize"	# fakesmsc -z 5 appends digits to the sender and a
			# random number to the text, so MOs are told apart;
			# it seeds its random numbers with the time in
			# seconds, so each session of a phase has its own
			# word (a, b, c) too
P1=+2547200		# senders of phase 1
P2=+2547300		# senders of phase 2

integ_require_kannel
integ_init restart
tap_plan 18

kannel_conf_write || tap_bail "cannot pick ports"
marketbox_conf_write
bearerbox_start || tap_bail "bearerbox does not start"
marketbox_start || tap_bail "cannot run $MARKETBOX"
marketbox_wait_connected 15 || tap_bail "marketbox does not connect"

# inbox_count PREFIX: MOs stored from senders starting with PREFIX.
inbox_count()
{
	db "SELECT count(*) FROM inbox WHERE sender LIKE '$1%'"
}

inbox_at_least()
{
	[ "$(inbox_count "$1")" -ge "$2" ]
}

# inbox_distinct PREFIX: distinct (sender, text) among them.
inbox_distinct()
{
	db "SELECT count(DISTINCT sender || ' ' || text) FROM inbox
	    WHERE sender LIKE '$1%'"
}

# replies_not_one PREFIX: inbox rows that do not have exactly one reply row.
replies_not_one()
{
	db "SELECT count(*) FROM inbox i WHERE i.sender LIKE '$1%' AND
	    (SELECT count(*) FROM outbox o WHERE o.inbox_id = i.id AND
	    o.kind = 'reply') != 1"
}

# --- 1. bearerbox killed mid-traffic -------------------------------------------

# The first KILL_AT MOs, with both boxes running; all of them are stored.
phone_batch "$KILL_AT" "$INTERVAL" 5 "$P1 777 text $MO_TEXT a"
wait_until 20 inbox_at_least "$P1" "$KILL_AT"
# Then marketbox is frozen and the phone goes on, so that bearerbox surely
# holds MOs it has not had acked (in its store, and in marketbox's socket)
# when it dies: after the restart they come again, some of them already
# stored by then.  Freezing before the rest is sent, not in the middle of
# one batch, keeps this true on a machine too loaded to poll in time.
kill -STOP "$MB_PID"
received_at_freeze=$(bearerbox_received)
phone_batch $((BATCH - KILL_AT)) "$INTERVAL" 5 "$P1 777 text $MO_TEXT b"
wait_until 10 eval \
    '[ "$(bearerbox_received)" -ge $((received_at_freeze + 20)) ]'
bearerbox_kill
stored_at_kill=$(inbox_count "$P1")
received_at_kill=$(bearerbox_received)
kill -CONT "$MB_PID"
wait_until 5 eval '! proc_alive "$PHONE_PID"'	# it sees the EOF and ends
sent_before=$((KILL_AT + $(phone_sent_count)))
phone_stop
tap_diag "phase 1: fakesmsc sent $sent_before, bearerbox logged" \
    "$received_at_kill, the inbox had $stored_at_kill when bearerbox was killed"

tap_ok "bearerbox held MOs not yet in the inbox when it was killed" \
    test "$received_at_kill" -gt "$stored_at_kill"
bearerbox_start || tap_bail "bearerbox does not start again"
tap_ok "marketbox reconnects by itself to the restarted bearerbox" \
    marketbox_wait_connected 15
tap_ok "it is the same marketbox process" proc_alive "$MB_PID"

# The rest of the batch, so the phase has its traffic after the restart too.
rest=$((BATCH - sent_before))
if [ "$rest" -gt 0 ]; then
	phone_batch "$rest" 0 5 "$P1 777 text $MO_TEXT c"
	wait_until 10 eval '[ "$(phone_sent_count)" -ge "$rest" ]'
fi
sent_total=$((sent_before + rest))
received_after_restart=$(($(bearerbox_received) - received_at_kill))
wait_until 20 inbox_at_least "$P1" $((received_at_kill + received_after_restart))
sleep 2			# late redeliveries (duplicates) would show now
stored=$(inbox_count "$P1")
tap_diag "phase 1: fakesmsc sent $sent_total in all; bearerbox logged" \
    "$((received_at_kill + received_after_restart)); the inbox has $stored" \
    "($((sent_total - stored)) lost in the socket when bearerbox died)"
tap_ok "every MO bearerbox logged as received is in the inbox" \
    test "$stored" -ge $((received_at_kill + received_after_restart))
tap_ok "no MO beyond what fakesmsc sent" test "$stored" -le "$sent_total"
tap_is "$(inbox_distinct "$P1")" "$stored" "no MO is in the inbox twice"
tap_is "$(replies_not_one "$P1")" 0 "every MO has exactly one reply row"

# --- 2. marketbox killed mid-traffic -----------------------------------------

received_before=$(bearerbox_received)
phone_batch "$BATCH" "$INTERVAL" 5 "$P2 777 text $MO_TEXT"
wait_until 20 inbox_at_least "$P2" "$KILL_AT"
marketbox_kill
stored_at_kill=$(inbox_count "$P2")
# The replies whose acceptance by bearerbox was not committed: those alone
# may reach the phone twice.
db "SELECT receiver || ' ' || text FROM outbox WHERE receiver LIKE '$P2%'
    AND state NOT IN ('accepted', 'buffered', 'delivered', 'failed')" |
    sort > "$T/inflight"
tap_diag "phase 2: marketbox killed with $stored_at_kill MOs stored," \
    "$(wc -l < "$T/inflight") replies not yet accepted"
marketbox_start
tap_ok "marketbox starts again and connects" marketbox_wait_connected 15

phone_all_sent()
{
	[ "$(phone_sent_count)" -ge "$BATCH" ] &&
	    [ "$(bearerbox_received)" -ge $((received_before + BATCH)) ]
}
wait_until 20 phone_all_sent
tap_is "$(($(bearerbox_received) - received_before))" "$BATCH" \
    "bearerbox received all $BATCH MOs"
wait_until 20 inbox_at_least "$P2" "$BATCH"

# Every reply row's text at the phone.
replies_out()
{
	[ "$(phone_mt_raw | grep -c "^777 $P2")" -ge "$(db "SELECT count(*)
	    FROM outbox WHERE receiver LIKE '$P2%'")" ]
}
wait_until 20 replies_out
all_delivered()
{
	[ "$(db "SELECT count(*) FROM outbox WHERE receiver LIKE '$P2%' AND
	    state = 'delivered'")" -ge "$BATCH" ]
}
wait_until 20 all_delivered
sleep 1			# late duplicates would show now

tap_is "$(inbox_count "$P2")" "$BATCH" "all $BATCH MOs are in the inbox"
tap_is "$(inbox_distinct "$P2")" "$BATCH" "none of them twice"
tap_is "$(replies_not_one "$P2")" 0 "every MO has exactly one reply row"

phone_mts | awk -v p="$P2" 'index($2, p) == 1 {
    sub(/^[^ ]* /, ""); sub(/ text /, " "); print }' | sort > "$T/mts"
db "SELECT receiver || ' ' || text FROM outbox WHERE receiver LIKE '$P2%'" |
    sort > "$T/rows"
# What the phones printed is told, not asserted: under load, Kannel's fake
# SMSC and fakesmsc have been seen to resend an MT bearerbox held, and to
# lose one they had reported delivered; marketbox's own records are
# asserted instead (rows, attempts, delivery reports).
missing=$(comm -23 "$T/rows" <(sort -u "$T/mts") | wc -l)
uniq -d "$T/mts" > "$T/twice"
tap_diag "phase 2: $(wc -l < "$T/mts") MTs for $(wc -l < "$T/rows")" \
    "reply rows; $(wc -l < "$T/twice") printed twice, of which" \
    "$(comm -23 "$T/twice" "$T/inflight" | wc -l) not in flight at the" \
    "kill; $missing not printed"
tap_is "$(comm -13 "$T/rows" <(sort -u "$T/mts") | wc -l)" 0 \
    "no MT that is not an outbox row"
db "SELECT receiver || ' ' || text FROM outbox WHERE receiver LIKE '$P2%'
    AND attempts > 1" | sort > "$T/again"
tap_is "$(comm -23 "$T/again" "$T/inflight" | wc -l)" 0 \
    "only replies in flight at the kill were handed over again"
tap_is "$(uniq -c "$T/mts" | awk '$1 > 2' | wc -l)" 0 \
    "no reply reached a phone more than twice"
tap_is "$(db "SELECT count(*) FROM outbox WHERE receiver LIKE '$P2%' AND
    state = 'delivered'")" "$BATCH" "every reply row ends delivered"

tap_diag "marketbox took $(grep -c 'seen before' "$T/marketbox.log")" \
    "MOs again that it had already stored (no new effect)"

phone_stop
marketbox_stop
tap_ok "marketbox stops cleanly (exit $MB_EXIT)" test "$MB_EXIT" = 0
tap_is "$(marketbox_sanitizer_report)" "" \
    "no sanitizer report in marketbox's stderr"

tap_end
