#!/bin/bash
# tests/faults/clock.sh - the wall clock jumps forwards and backwards while
# marketbox and bearerbox run (faultshim.so moves time(), gettimeofday() and
# CLOCK_REALTIME by an offset read from a file; CLOCK_MONOTONIC stays, as
# with a real jump).  Pending orders exist; the market plugin sweeps every
# second.
#  - 3 hours forwards: each pending order's seller is reminded once (no
#    storm of reminders, none twice);
#  - 2 days backwards: nothing fires, MOs are still handled, heartbeats go
#    on, the flood limit still throttles a burst, and a phone that used
#    its tokens just before the jump gets new ones as time passes;
#  - 3 hours on from there: orders made while the clock was back are
#    reminded (the sweep does not freeze until the clock catches up);
#  - 25 hours forwards: each pending order expires once.

. "$(dirname "$0")/lib.sh"

fault_init clock
fault_need_shim
tap_plan $((FAULT_CHECKS + 10))
# The whole machine's clock jumps: bearerbox's too (it stamps the MOs
# with their time), so the shim is preloaded into both.
echo 0 > "$T/clock"
printf '#!/bin/sh\nLD_PRELOAD="%s" FAULT_CLOCK="%s" exec "%s" "$@"\n' \
    "$FAULT_SHIM" "$T/clock" "$BEARERBOX" > "$T/bearerbox"
chmod +x "$T/bearerbox"
BEARERBOX=$T/bearerbox
fault_start "heartbeat-interval = 1" "flood-burst = 100" "flood-rate = 600"
printf '\ngroup = plugin-market\nsweep-interval = 1\n' >> "$MB_CONF"
fault_restart FAULT_CLOCK="$T/clock" ||
    tap_bail "marketbox does not start with the shim"

jump()
{
	printf '%s\n' "$1" > "$T/clock.new" && mv "$T/clock.new" "$T/clock"
}
notices()
{
	db "SELECT count(*) FROM outbox WHERE kind = 'notice'"
}

fault_traffic 60 0.02
fault_traffic_end 20
fault_drain 20
pending=$(db "SELECT count(*) FROM market_orders WHERE state = 'pending'")
n0=$(notices)

reminded()
{
	db "SELECT count(*) FROM market_orders WHERE reminded != 0"
}
jump 10800
wait_until 20 eval '[ "$(reminded)" -ge "$pending" ]'
reminded=$(reminded)
n1=$(notices)
sleep 2
n2=$(notices)
tap_diag "3 h forwards: $pending pending orders, $reminded reminded;" \
    "notices $n0 -> $n1 -> $n2"
tap_is "$reminded" "$pending" "every pending order reminded after the jump"
tap_ok "no reminder storm: at most one notice per order ($((n1 - n0)))" \
    test $((n1 - n0)) -le "$pending" -a $((n1 - n0)) -gt 0
tap_is "$n2" "$n1" "nothing fires again once reminded"

# A phone that spends its flood tokens just before the clock goes back.
FLOODER=+254729000002
burst()
{
	BURST_TEXT=$1 BURST_N=$2
	phone_batch "$BURST_N" 0 0 "$FLOODER 777 text echo $BURST_TEXT"
	wait_until 20 eval '[ "$(phone_sent_count)" -ge "$BURST_N" ]'
	phone_stop
	wait_until 20 eval '[ "$(db "SELECT count(*) FROM inbox
	    WHERE sender = '"'$FLOODER'"' AND text LIKE
	    '"'echo $BURST_TEXT%'"'")" -ge "$BURST_N" ]'
}
flood_done()
{
	db "SELECT count(*) FROM inbox WHERE sender = '$FLOODER'
	    AND text LIKE 'echo $1%' AND state = 'done'"
}
burst before 150
FAULT_OTHER=150

jump -172800
r3=$(reminded)
# 4 s idle: the sweep runs every second (it would fire now), the link
# carries heartbeats only.
b0=$(link_bytes_sent)
sleep 4
b1=$(link_bytes_sent)
e3=$(db "SELECT count(*) FROM market_orders WHERE state = 'expired'")
fault_traffic 30 0.02
fault_traffic_end 20
fault_drain 20
tap_diag "with the clock back: bearerbox holds '$(bearerbox_queued)'," \
    "received $(bearerbox_received), inbox $(fault_inbox_count) (+$FAULT_OTHER others)"
tap_ok "MOs handled with the clock 2 days back" fault_drained
tap_is "$(reminded) $(db "SELECT count(*) FROM market_orders
    WHERE state = 'expired'")" "$r3 $e3" \
    "nothing fires with the clock back (reminders, expiries)"
# a burst from one phone, beyond flood-burst
phone_batch 150 0 0 "+254729000001 777 text echo flood"
wait_until 20 eval '[ "$(phone_sent_count)" -ge 150 ]'
phone_stop
FAULT_OTHER=300
wait_until 20 eval '[ "$(db "SELECT count(*) FROM inbox WHERE sender = '"'+254729000001'"'")" -ge 150 ]'
throttled=$(db "SELECT count(*) FROM inbox WHERE sender = '+254729000001' AND state = 'throttled'")
tap_diag "burst of 150 with the clock back: $throttled throttled"
tap_ok "the flood limit still throttles with the clock back ($throttled of 150)" \
    test "$throttled" -gt 0 -a "$throttled" -lt 150
# 3 s and more since the jump: the flooder's bucket has refilled some
# (10 a second), unless it waits for the clock to catch up.
burst after 20
FAULT_OTHER=320
after=$(flood_done after)
tap_diag "the phone that flooded before the jump: $(flood_done before) of 150" \
    "handled before, $after of 20 after"
tap_ok "a phone's flood limit refills with the clock back ($after of 20)" \
    test "$after" -gt 0
if [ -n "$b0" ] && [ -n "$b1" ]; then
	tap_ok "heartbeats go on with the clock back ($(((b1 - b0) / 12)) in 4 s)" \
	    test $(((b1 - b0) / 12)) -ge 3
else
	tap_skip "heartbeats go on with the clock back" "no ss(8) to count them"
fi

# Orders made while the clock is back are due 2 h later on that clock:
# the sweep must not wait for the clock to catch up with its last run.
jump $((-172800 + 10800))
pending2=$(db "SELECT count(*) FROM market_orders WHERE state = 'pending'")
wait_until 40 eval '[ "$(reminded)" -ge "$pending2" ]'
tap_diag "2 days back, then 3 h on: $pending2 pending, $(reminded) reminded"
tap_is "$(reminded)" "$pending2" "orders made with the clock back are reminded when due (no freeze)"

jump 90000
wait_until 40 eval '[ "$(db "SELECT count(*) FROM market_orders WHERE state = '"'pending'"'")" = 0 ]'
expired=$(db "SELECT count(*) FROM market_orders WHERE state = 'expired'")
tap_diag "25 h forwards: $expired orders expired"
tap_ok "the pending orders expired ($expired of $pending2)" test "$expired" -ge "$pending2"
jump 0
fault_check "clock jumps"
tap_end
