#!/bin/bash
# tests/integration/store-thread.sh - the traffic of sms.sh, commands.sh,
# ussd-http.sh and admin.sh again, with the store's task thread on SQLite
# (MB_STORE_THREAD=1, as a PostgreSQL store always runs): MOs, acks and
# delivery reports from bearerbox, the sender, /sms, /ussd, the admin pages
# and a broadcast, each a store task.  A statement a loop callback runs
# outside a task is logged by the store, and lib.sh fails a script whose
# marketbox logged one; so does a reply lost or a sanitizer report.
#
# One TAP line per script; its own TAP output follows as diagnostics when
# it fails.

here=$(dirname "$0")
scripts="sms.sh commands.sh ussd-http.sh admin.sh"
n=0

export MB_STORE_THREAD=1
echo "1..4"
for s in $scripts; do
	n=$((n + 1))
	out=$(bash "$here/$s" 2>&1)
	rc=$?
	if [ "$rc" -eq 0 ] && printf '%s\n' "$out" | grep -q '^1\.\.0'; then
		echo "ok $n - $s # SKIP $(printf '%s\n' "$out" |
		    sed -n 's/^1\.\.0 *# *SKIP *//p' | head -n 1)"
	elif [ "$rc" -eq 0 ] &&
	    ! printf '%s\n' "$out" | grep -v '# TODO' | grep -q '^not ok'; then
		echo "ok $n - $s with the task thread"
	else
		echo "not ok $n - $s with the task thread (exit $rc)"
		printf '%s\n' "$out" | sed 's/^/# /'
	fi
done
