#!/bin/bash
# tests/integration/pg-failover.sh - the PostgreSQL server itself restarted
# (pg_ctl restart -m fast: every connection cut) twice under steady traffic
# through bearerbox: marketbox logs the lost connection and connects again,
# never crashes, acks nothing it has not stored: every MO bearerbox
# received is in the inbox once with its one reply row and its effect once
# (tests/faults/lib.sh's accounting), every reply row reaches its phone, and
# traffic after the restarts is served.
#
# PostgreSQL only (MB_TEST_STORE=postgresql and MB_TEST_PG); skipped on
# SQLite.  The server restarted is a private one the test starts
# (tests/pg/server.sh) and stops at exit, not MB_TEST_PG's, which other
# tests running in parallel use.

# shellcheck source-path=SCRIPTDIR
. "$(dirname "$0")/../faults/lib.sh"

N_MO=1500
INTERVAL=0.02			# fakesmsc: 50 MOs a second, 30 s
RESTART_AT="8 18"		# seconds into the traffic

if [ "${MB_TEST_STORE:-sqlite}" != postgresql ]; then
	echo "1..0 # SKIP restarts a PostgreSQL server: on PostgreSQL only" \
	    "(MB_TEST_STORE=postgresql and MB_TEST_PG)"
	exit 0
fi
fault_init pg-failover
tap_plan $((FAULT_CHECKS + 10))

PG_SERVER=$top_srcdir/tests/pg/server.sh
OWN_PG=$(sh "$PG_SERVER" start) || tap_bail "cannot start a PostgreSQL server"
MB_TEST_PG=$OWN_PG
# lib.sh's teardown drops the run's database last: the whole server goes.
pg_db_drop()
{
	INTEG_PG_DB=
	[ -n "$OWN_PG" ] || return 0
	sh "$PG_SERVER" stop "$OWN_PG" || echo "cannot stop $OWN_PG" >&2
	OWN_PG=
}

fault_start
start_mb=$MB_PID
fault_traffic "$N_MO" "$INTERVAL"
traffic_start=$SECONDS

restarts_ok=0
for at in $RESTART_AT; do
	while [ $((SECONDS - traffic_start)) -lt "$at" ]; do
		sleep 0.2
	done
	sh "$PG_SERVER" restart "$OWN_PG" && restarts_ok=$((restarts_ok + 1))
	last_restart=$(date +%s)
	tap_diag "PostgreSQL restarted $((SECONDS - traffic_start)) s into" \
	    "the traffic; fakesmsc had sent $(phone_sent_count)"
done
tap_is "$restarts_ok" 2 "the PostgreSQL server restarts twice under traffic"
tap_ok "marketbox is still running (the same process)" \
    eval '[ "$MB_PID" = "$start_mb" ] && proc_alive "$MB_PID"'

# The MTs of the last MOs reach this fakesmsc before it stops: one that
# stops first loses what bearerbox wrote to it meanwhile (bearerbox
# counts those as sent), which would not be marketbox's loss.
all_mts_in()
{
	[ "$(db "SELECT count(*) FROM outbox WHERE state IN ('queued',
	    'sending')")" = 0 ] &&
	    [ "$(phone_mt_count)" -ge "$(db "SELECT count(*) FROM outbox")" ]
}
wait_until 90 fault_traffic_sent
wait_until 60 fault_drained
wait_until 30 all_mts_in
fault_traffic_end 90
fault_check "after 2 restarts of PostgreSQL"

lost=$(grep -c 'the connection to the database is lost' "$T/marketbox.log")
again=$(grep -c 'connected to the database again' "$T/marketbox.log")
tap_diag "marketbox logged the connection lost $lost times, connected" \
    "again $again times"
tap_ok "marketbox logs the lost connection" test "$lost" -ge 1
tap_ok "marketbox logs that it connected again" test "$again" -ge 1
tap_ok "MOs received after the last restart were handled" test \
    "$(db "SELECT count(*) FROM inbox WHERE received > $last_restart
    AND state = 'done'")" -gt 0

# A new phone after it all: served, and the MTs left in bearerbox while no
# fakesmsc was connected arrive now.
NEWCOMER=+254799000001
phone_send "$NEWCOMER" 777 "echo after the restarts"
tap_ok "a new MO after the restarts gets its reply" \
    phone_expect_text "$NEWCOMER" "You said: after the restarts" 10
rows=$(db "SELECT count(*) FROM outbox")
phone_expect_count "$rows" 20
mts=$(phone_mt_count)
tap_diag "outbox $rows rows, the phones got $mts MTs"
tap_ok "every outbox row reached its phone ($mts MTs for $rows rows)" \
    test "$mts" -ge "$rows"
tap_is "$(db "SELECT count(*) FROM outbox WHERE state IN ('queued',
    'sending')")" 0 "nothing is left queued or sending"
phone_stop

marketbox_stop
tap_is "$MB_EXIT" 0 "marketbox stops cleanly"
tap_is "$(marketbox_sanitizer_report; grep -h 'panic\|PANIC' \
    "$T/marketbox.log" "$T/marketbox.stderr")" "" \
    "no sanitizer report, no statement outside a task, no panic"
tap_end
