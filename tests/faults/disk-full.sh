#!/bin/bash
# tests/faults/disk-full.sh - the database's disk fills under traffic, then
# space comes back.  The database is on a small tmpfs of its own (so this
# runs as root only; CI does), filled with a ballast file while MOs flow
# and emptied a few seconds later.  While the disk is full:
#  - marketbox keeps running, its link and HTTP keep answering (/health;
#    /sms answers 503 or its reply, never a dropped connection);
#  - it acks no MO it could not commit (afterwards, every MO bearerbox
#    received is in the inbox and handled: none lost as "throttled");
#  - it says so in its log a few times, not once per retry (at most
#    FAULT_LOG_MAX error or warning lines for the whole outage).
# When space is back, everything bearerbox queued is handled, and the
# accounting of tests/faults/lib.sh holds.

. "$(dirname "$0")/lib.sh"

OUTAGE=${FAULT_OUTAGE:-4}	# seconds the disk stays full
FAULT_LOG_MAX=5

fault_init disk-full
integ_skip_on_pg "the disk that fills is a SQLite file's tmpfs; a database" \
    "server's full disk is the server's"
if [ "$(id -u)" != 0 ]; then
	echo "1..0 # SKIP not root: a tmpfs of its own needs mount(8) (CI runs as root)"
	exit 0
fi
DISK=$T/disk
mkdir -p "$DISK"
if ! mount -t tmpfs -o size=6m,mode=0700 tmpfs "$DISK" 2>"$T/mount.err"; then
	echo "1..0 # SKIP cannot mount a tmpfs here: $(head -n 1 "$T/mount.err")"
	exit 0
fi
# Unmounted before integ_teardown removes $T (and keeps the exit status).
trap 'rc=$?; umount "$DISK" 2>/dev/null || umount -l "$DISK"; (exit $rc); integ_teardown' EXIT

tap_plan $((FAULT_CHECKS + 7))
port_pick MB_HTTP_PORT || tap_bail "cannot pick a port"
FAULT_DB=$DISK/marketbox.db
# A flood limit the traffic stays well under (about 35 MOs a phone): only
# retries that spent tokens for nothing would throttle anyone.
fault_start "http-port = $MB_HTTP_PORT" "http-interface = 127.0.0.1" \
    "flood-burst = 100" "flood-rate = 600"

health_ok()
{
	[ "$(http_get "$MB_HTTP_PORT" /health)" = ok ]
}

fault_traffic 400 0.02
sleep 1.5
log_before=$(wc -l < "$T/marketbox.log")
stored_before=$(fault_inbox_count)
# Fill every free byte (dd ends on ENOSPC).
dd if=/dev/zero of="$DISK/ballast" bs=64k 2>/dev/null
full_at=$SECONDS
tap_diag "disk full: $(df -k "$DISK" | awk 'NR == 2 { print $4 }') KiB free," \
    "$stored_before MOs stored"
health=0
tries=0
while [ $((SECONDS - full_at)) -lt "$OUTAGE" ]; do
	tries=$((tries + 1))
	health_ok && health=$((health + 1))
	sleep 0.3
done
stored_full=$(fault_inbox_count)
alive=0
proc_alive "$MB_PID" && alive=1
sms_status=$(timeout 5 bash -c '
	exec 3<>"/dev/tcp/127.0.0.1/$1" || exit 1
	printf "GET /sms?from=%%2B254710000001&to=777&text=SELL+maize+3+bags+2500&id=disk-full-1 HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n" >&3
	head -n 1 <&3' _ "$MB_HTTP_PORT" | tr -d '\r')
rm -f "$DISK/ballast"
tap_diag "disk full for $((SECONDS - full_at)) s: /health answered $health" \
    "of $tries; the inbox went from $stored_before to $stored_full;" \
    "/sms answered '$sms_status'"
tap_is "$alive" 1 "marketbox is still running with the disk full"
tap_is "$health" "$tries" "HTTP /health answered every time with the disk full"
tap_ok "/sms answered with a status line with the disk full" \
    test -n "$sms_status"
tap_ok "the link is still up with the disk full" bearerbox_lists_marketbox
errors=$(tail -n +"$((log_before + 1))" "$T/marketbox.log" |
    grep -cE '(ERROR|WARNING):')
tap_diag "error and warning lines during the outage: $errors"
tail -n +"$((log_before + 1))" "$T/marketbox.log" |
    grep -E '(ERROR|WARNING):' | sed 's/^[^]]*] [^]]*] //' | sort | uniq -c |
    sort -rn | head -n 5 | while IFS= read -r l; do tap_diag "  $l"; done
tap_ok "the outage is logged, but not flooded (1 to $FAULT_LOG_MAX lines, got $errors)" \
    test "$errors" -ge 1 -a "$errors" -le "$FAULT_LOG_MAX"

fault_traffic_end 60
# the /sms MO above, if it was taken
FAULT_SENT=$((FAULT_SENT + 1))
tap_ok "everything bearerbox queued is handled once space is back" \
    fault_drain 30
fault_check "disk full for ${OUTAGE} s"
tap_is "$(marketbox_sanitizer_report)" "" \
    "no sanitizer report in marketbox's stderr"
tap_end
