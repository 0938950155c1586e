#!/bin/bash
# tests/faults/clock.sh - the wall clock jumps forwards and backwards while
# marketbox runs (faultshim.so moves time(), gettimeofday() and
# CLOCK_REALTIME by an offset read from a file; CLOCK_MONOTONIC stays, as
# with a real jump).  Pending orders exist; the market plugin sweeps every
# second.
#  - 3 hours forwards: each pending order's seller is reminded once (no
#    storm of reminders, none twice);
#  - 2 days backwards: nothing fires, MOs are still handled, heartbeats go
#    on (the link stays up), the flood limit still throttles a burst;
#  - 3 hours on from there: orders made while the clock was back are
#    reminded (the sweep does not freeze until the clock catches up);
#  - 25 hours forwards: each pending order expires once.

. "$(dirname "$0")/lib.sh"

fault_init clock
fault_need_shim
tap_plan $((FAULT_CHECKS + 9))
fault_start "heartbeat-interval = 1" "flood-burst = 100" "flood-rate = 600"
printf '\ngroup = plugin-market\nsweep-interval = 1\n' >> "$MB_CONF"
echo 0 > "$T/clock"
fault_restart FAULT_CLOCK="$T/clock" || tap_bail "marketbox does not start with the shim"

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

jump -172800
hb0=$(bearerbox_heartbeats)
t_hb=$SECONDS
r3=$(reminded)
sleep 3		# the sweep runs every second: it would fire now
e3=$(db "SELECT count(*) FROM market_orders WHERE state = 'expired'")
fault_traffic 30 0.02
fault_traffic_end 20
tap_ok "MOs handled with the clock 2 days back" fault_drain 20
tap_is "$(reminded) $(db "SELECT count(*) FROM market_orders
    WHERE state = 'expired'")" "$r3 $e3" \
    "nothing fires with the clock back (reminders, expiries)"
# a burst from one phone, beyond flood-burst
phone_batch 150 0 0 "+254729000001 777 text echo flood"
wait_until 20 eval '[ "$(phone_sent_count)" -ge 150 ]'
phone_stop
FAULT_OTHER=150
wait_until 20 eval '[ "$(db "SELECT count(*) FROM inbox WHERE sender = '"'+254729000001'"'")" -ge 150 ]'
throttled=$(db "SELECT count(*) FROM inbox WHERE sender = '+254729000001' AND state = 'throttled'")
tap_diag "burst of 150 with the clock back: $throttled throttled"
tap_ok "the flood limit still throttles with the clock back ($throttled of 150)" \
    test "$throttled" -gt 0 -a "$throttled" -lt 150
heartbeats=$(($(bearerbox_heartbeats) - hb0))
tap_ok "heartbeats go on with the clock back ($heartbeats in about $((SECONDS - t_hb)) s)" \
    test "$heartbeats" -ge $((SECONDS - t_hb - 1)) -a "$heartbeats" -le $((SECONDS - t_hb + 2))

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
