#!/bin/bash
# tests/faults/slow-disk.sh - a slow disk, and an MO never acked before its
# commit, through a real bearerbox.
#
# 1. Every fsync takes FAULT_SYNC_MS (200) ms (faultshim.so's xSync sleeps
#    first) while MOs flow: HTTP /health answers within a second each time
#    (the heartbeat timer runs on the same event loop) and the link stays
#    up, and everything is handled.
# 2. fsync hangs (the shim waits while a pause file exists): MOs that reach
#    marketbox then are in a transaction that cannot commit.  Bearerbox
#    must still hold them unacked; marketbox is SIGKILLed during the hung
#    fsync and started again without the fault; bearerbox offers them again
#    and each is handled exactly once.  An MO acked before its commit would
#    be lost here: not in the inbox although bearerbox received it.

. "$(dirname "$0")/lib.sh"

fault_init slow-disk
integ_skip_on_pg "the slow and hung fsync are SQLite's VFS's (faultshim.so); a" \
    "PostgreSQL server's fsync is its own"
fault_need_shim
tap_plan $((FAULT_CHECKS + 5))
port_pick MB_HTTP_PORT || tap_bail "cannot pick a port"
fault_start "http-port = $MB_HTTP_PORT" "http-interface = 127.0.0.1" \
    "heartbeat-interval = 1"

# --- 1. fsync takes 200 ms --------------------------------------------------------
fault_restart FAULT_SYNC_MS="${FAULT_SYNC_MS:-200}" ||
    tap_bail "marketbox does not start with the shim"
fault_traffic 150 0.02
worst=0
answered=0
for i in $(seq 1 12); do
	t0=${EPOCHREALTIME/./}
	[ "$(http_get "$MB_HTTP_PORT" /health)" = ok ] && answered=$((answered + 1))
	ms=$(((${EPOCHREALTIME/./} - t0) / 1000))
	[ "$ms" -gt "$worst" ] && worst=$ms
	sleep 0.2
done
up=0
bearerbox_lists_marketbox && up=1

fault_traffic_end 60
tap_diag "fsync 200 ms: /health answered $answered of 12, slowest in" \
    "$worst ms; the link up: $up"
tap_ok "/health answered every time within 1 s (slowest $worst ms)" \
    test "$answered" = 12 -a "$worst" -lt 1000
tap_is "$up" 1 "the link stayed up"
tap_ok "everything queued is handled with the slow disk" fault_drain 30

# --- 2. killed during a hung fsync ----------------------------------------------
touch "$T/pause"
fault_restart FAULT_SYNC_PAUSE="$T/pause" ||
    tap_bail "marketbox does not start with the shim"
stored=$(fault_inbox_count)
received=$(bearerbox_received)
fault_traffic 40 0.02
fault_traffic_end 20
sleep 1
held=$(bearerbox_queued)
more=$(($(fault_inbox_count) - stored))
tap_diag "fsync hung: bearerbox received $(($(bearerbox_received) - received))" \
    "MOs since, holds ${held:-?} unacked; the inbox has" \
    "$more more"
tap_ok "bearerbox holds the MOs whose commit hangs (none acked)" \
    test "${held:-0}" -ge $(($(bearerbox_received) - received))
proc_stop "$MB_PID" KILL 5
MB_PID=
rm -f "$T/pause"
fault_restart || tap_bail "marketbox does not start again"
fault_check "after a kill during a hung fsync"
tap_is "$more" 0 "no MO of the hung commit was visible in the inbox before the kill"
tap_end
