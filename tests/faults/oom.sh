#!/bin/bash
# tests/faults/oom.sh - allocations fail in the MO path.  faultshim.so
# installs an allocator for SQLite (sqlite3_config(SQLITE_CONFIG_MALLOC), as
# SQLite's own test harness does) that fails the Nth allocation once the
# traffic starts, then every Kth one: statements, pages and the commit
# itself meet SQLITE_NOMEM.  marketbox must keep running, roll back what
# it could not finish (no partial effect) and leave those MOs unacked or
# answered as failed; the accounting of tests/faults/lib.sh holds.
#
# Not covered: libgw's gw_malloc and the daemon's own small allocations.
# gw_malloc panics when the system is out of memory, by design (Kannel's
# choice: a box that cannot allocate restarts rather than limps); SQLite's
# allocations are the ones inside a unit of work, where a failure could
# leave half an effect, and those are the ones injected here.

. "$(dirname "$0")/lib.sh"

MOS=150
EVERY=${FAULT_OOM_EVERY:-1500}
[ "${FAULT_SOAK:-0}" = 1 ] && { MOS=1500; EVERY=${FAULT_OOM_EVERY:-300}; }

fault_init oom
integ_skip_on_pg "the failing allocator is SQLite's (SQLITE_CONFIG_MALLOC)," \
    "which a PostgreSQL store does not use"
fault_need_shim
tap_plan $((FAULT_CHECKS + 2))
fault_start

rm -f "$T/arm"
fault_restart FAULT_OP=malloc FAULT_N=5 FAULT_EVERY="$EVERY" \
    FAULT_ARM="$T/arm" FAULT_LOG="$T/faults.malloc" ||
    tap_bail "marketbox does not start with the shim"
touch "$T/arm"
fault_traffic "$MOS" 0.02
fault_traffic_end 60
fault_drain 20
rm -f "$T/arm"
crashed=0
proc_alive "$MB_PID" || crashed=1
injected=$(wc -l < "$T/faults.malloc" 2>/dev/null || echo 0)
tap_diag "$injected allocation failures injected (every ${EVERY}th after" \
    "the 5th) over $MOS MOs; errors logged: $(grep -c 'ERROR:' "$T/marketbox.log")"
tap_ok "marketbox kept running through $injected failed allocations" \
    test "$crashed" = 0 -a "$injected" -gt 0
fault_restart
fault_check "allocation failures"
tap_ok "marketbox runs and is connected at the end" marketbox_connected
tap_end
