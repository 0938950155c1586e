#!/bin/bash
# tests/faults/io-errors.sh - SQLite's writes, fsyncs and reads fail now and
# then under traffic, the way SQLite's own test harness injects I/O faults:
# faultshim.so (preloaded) wraps the default VFS and fails the Nth xWrite
# (xSync, xRead) after the traffic starts, then every Kth one, for each
# operation in turn.  A failed commit is rolled back and its MOs are not
# acked (bearerbox offers them again); a command that fails on the store is
# recorded as failed and the sender told.  Afterwards the accounting of
# tests/faults/lib.sh holds: nothing acked lost, nothing doubled.
# FAULT_SOAK=1 runs more MOs and denser faults.

. "$(dirname "$0")/lib.sh"

MOS=100
EVERY="write:37 sync:5 read:2"
if [ "${FAULT_SOAK:-0}" = 1 ]; then
	MOS=1500
	EVERY="write:7 sync:2 read:1"
fi

fault_init io-errors
integ_skip_on_pg "the I/O faults are injected into SQLite's VFS" \
    "(faultshim.so), which a PostgreSQL store does not use"
fault_need_shim
tap_plan $((FAULT_CHECKS + 3 + 1))
fault_start

for spec in $EVERY; do
	op=${spec%%:*}
	every=${spec#*:}
	rm -f "$T/arm"
	fault_restart FAULT_OP="$op" FAULT_N=3 FAULT_EVERY="$every" \
	    FAULT_ARM="$T/arm" FAULT_LOG="$T/faults.$op" ||
	    tap_bail "marketbox does not start with the shim"
	touch "$T/arm"
	fault_traffic "$MOS" 0.02
	fault_traffic_end 60
	crashed=0
	proc_alive "$MB_PID" || crashed=1
	# the rest drains with the faults still on
	fault_drain 20
	rm -f "$T/arm"
	proc_alive "$MB_PID" || crashed=1
	injected=$(wc -l < "$T/faults.$op" 2>/dev/null || echo 0)
	tap_diag "$op: $injected failures injected (every ${every}th after" \
	    "the 3rd) over $MOS MOs; store errors logged:" \
	    "$(grep -c 'ERROR: store' "$T/marketbox.log")"
	tap_ok "marketbox kept running through $injected failed ${op}s" \
	    test "$crashed" = 0 -a "$injected" -gt 0
done
fault_restart
fault_check "I/O errors"
tap_ok "marketbox runs and is connected at the end" marketbox_connected
tap_end
