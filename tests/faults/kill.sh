#!/bin/bash
# tests/faults/kill.sh - SIGKILL at random points under steady traffic:
# marketbox killed and started again FAULT_KILLS times (default 100; 1000
# with FAULT_SOAK=1), bearerbox killed and started again now and then
# (every 25th kill).  After the traffic has drained: every MO bearerbox
# received is in the inbox once, every handled MO has its effect once and
# one reply row, and the database is intact (tests/faults/lib.sh).
#
# A kill lands anywhere: while a batch is being committed, between the
# commit and the ack, while an MT is handed over, during a restart's own
# start-up.  Two kills in three come 0 to 0.4 s after the start (start-up,
# connecting, the first batches), every third 0 to 0.2 s after the link is
# up (under traffic), so the whole run stays in a few tens of seconds.

. "$(dirname "$0")/lib.sh"

KILLS=${FAULT_KILLS:-100}
# (a sanitizer build starts several times slower: fewer kills there)
grep -q '^SANITIZER_CFLAGS = .*sanitize' "$top_builddir/Makefile" 2>/dev/null &&
    KILLS=${FAULT_KILLS:-40}
[ "${FAULT_SOAK:-0}" = 1 ] && KILLS=${FAULT_KILLS:-2000}
BB_EVERY=25

fault_init kill
tap_plan $((FAULT_CHECKS + 2))
fault_start

# A steady stream for the whole run: fakesmsc sends MOs 20 ms apart while
# marketbox dies again and again (bearerbox holds them meanwhile).
fault_traffic $((KILLS * 3 + 200)) 0.02
started=$SECONDS
bb_kills=0
mb_kills=0
# marketbox's own log says when it is connected (bearerbox's status page
# shows the box up to a second later).
mb_connects()
{
	grep -c 'connected to bearerbox at' "$T/marketbox.stderr"
}
before=0
up_kills=0
for k in $(seq 1 "$KILLS"); do
	if [ $((k % 3)) = 0 ]; then
		# under traffic: once the link is up
		wait_until 15 eval '[ "$(mb_connects)" -gt "$before" ]'
		sleep "0.$((RANDOM % 20))"
	else
		# anywhere: start-up, connecting, the first batches
		sleep "0.$((RANDOM % 40))"
	fi
	if [ $((k % BB_EVERY)) = 0 ]; then
		# bearerbox dies too: fakesmsc loses its link and stops, so
		# it is counted and started again with the rest.
		bearerbox_kill
		bb_kills=$((bb_kills + 1))
		# (counted once it has stopped: its last lines are out then)
		phone_stop
		FAULT_SENT=$((FAULT_SENT + $(phone_sent_count)))
		bearerbox_start || tap_bail "bearerbox does not start again"
		fault_traffic $(((KILLS - k) * 3 + 200)) 0.02
	fi
	[ "$(mb_connects)" -gt "$before" ] && up_kills=$((up_kills + 1))
	kill -KILL "$MB_PID"
	wait "$MB_PID" 2>/dev/null
	MB_PID=
	mb_kills=$((mb_kills + 1))
	before=$(mb_connects)
	marketbox_start
done
# (30 s: a start that met bearerbox busy with the dead box's line waits
# out a reconnect delay or two)
up=0
wait_until 30 marketbox_connected || up=1
tap_diag "$mb_kills kills of marketbox ($up_kills of them after it had connected)," \
    "$bb_kills of bearerbox, in $((SECONDS - started)) s"
tap_is "$up" 0 "marketbox runs and is connected after the last kill"
if [ "$up" != 0 ]; then
	# what a failed run needs to be understood
	tap_diag "marketbox $(proc_alive "$MB_PID" && echo alive || echo dead)"
	tap_diag "$(tail -n 15 "$T/marketbox.stderr")"
	tap_diag "$(bearerbox_status | grep -i -E 'box|status')"
fi
phone_stop
FAULT_SENT=$((FAULT_SENT + $(phone_sent_count)))
fault_check "after $mb_kills kills"
tap_is "$(marketbox_sanitizer_report)" "" \
    "no sanitizer report in marketbox's stderr"
tap_end
