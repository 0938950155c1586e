#!/bin/bash
# tests/integration/backup.sh - marketctl backup while marketbox runs under
# traffic, and marketctl restore: a stream of MOs from several phones
# through a real bearerbox and fakesmsc; backups into a DIR (--keep 2)
# during it, each checked and counted; the MOs answered before the last
# backup began noted; restore refused while marketbox has the database
# open (the database untouched); /metrics shows the newest backup's time
# and the disk free beside the database; then, marketbox stopped, the last
# backup restored into a new directory's database, marketbox started on
# it, and every MO answered before that backup began found in its inbox.
# SQLite's: on PostgreSQL the refusal (pg_dump) alone is checked.

. "$(dirname "$0")/lib.sh"

ADMIN_PW=backup-secret
N=300					# MOs of the stream, 0.1 s apart: 30 s
BACKUPS=4				# backups taken during it

integ_require_kannel
integ_init backup

MARKETCTL=$top_builddir/src/marketctl
if integ_pg; then
	tap_plan 2
	kannel_conf_write || tap_bail "cannot pick ports"
	marketbox_conf_write
	out=$("$MARKETCTL" -c "$MB_CONF" backup "$T" 2>&1)
	tap_is "$?" 1 "backup of a PostgreSQL database: refused (exit 1)"
	tap_ok "the refusal names pg_dump" eval 'grep -q pg_dump <<< "$out"'
	tap_end
	exit
fi
tap_plan 21

[ -x "$MARKETCTL" ] || tap_bail "$MARKETCTL not built"
kannel_conf_write || tap_bail "cannot pick ports"
port_pick HTTP_PORT || tap_bail "cannot pick a port"
mkdir "$T/backups" "$T/restored" || tap_bail "cannot make directories"
marketbox_conf_write "$T/marketbox.conf" "http-port = $HTTP_PORT" \
    "admin-password = $ADMIN_PW" "backup-dir = $T/backups"
bearerbox_start || tap_bail "bearerbox does not start"
marketbox_start || tap_bail "cannot run $MARKETBOX"
marketbox_wait_connected 15 || tap_bail "marketbox does not connect"

ctl() { "$MARKETCTL" -c "$MB_CONF" "$@"; }

# A file that is not ours stays, whatever --keep says.
echo "not a backup" > "$T/backups/notes.txt"
: > "$T/backups/marketbox-old.db"

# --- backups under traffic ------------------------------------------------------

# Five phones; -z 4: a random number after each text, so each MO (and its
# reply, "You said: ...") is told apart.
phone_batch "$N" 0.1 4 "+254711000001 777 text echo A" \
    "+254711000002 777 text echo B" "+254711000003 777 text echo C" \
    "+254711000004 777 text echo D" "+254711000005 777 text echo E"
wait_until 10 eval '[ "$(phone_mt_count)" -ge 5 ]'
ok=0
for i in $(seq "$BACKUPS"); do
	# The MOs answered so far: in the database before this backup began.
	# "777 PHONE text You said: X" -> "PHONE|echo X", the inbox row.
	phone_mts | awk '$1 == "777" && $3 == "text" { to = $2
	    if (sub(/^[^ ]* [^ ]* [^ ]* You said: /, "")) print to "|echo " $0
	    }' | sort -u > "$T/acked.$i"
	ctl backup --keep 2 > "$T/backup.$i.out" 2> "$T/backup.$i.err" &&
	    ok=$((ok + 1))
	sleep 1.1		# a second apart: names of their own
done
sent_during=$(phone_sent_count)
tap_is "$ok" "$BACKUPS" "$BACKUPS backups during the traffic exit 0"
tap_ok "they were taken while MOs still came (${sent_during} of $N sent)" \
    test "$sent_during" -lt "$N"
tap_ok "the last backup's MOs answered before it began: some" \
    test -s "$T/acked.$BACKUPS"
last=$(ls "$T/backups" | grep -E '^marketbox-[0-9]{8}T[0-9]{6}Z\.db$' |
    sort | tail -n 1)
tap_ok "the last backup names its file" \
    grep -qF "$T/backups/$last" "$T/backup.$BACKUPS.err"
tap_ok "it prints its tables' rows (inbox among them)" \
    grep -qE '^inbox +[0-9]+$' "$T/backup.$BACKUPS.out"
tap_is "$(ls "$T/backups" | grep -cE '^marketbox-[0-9]{8}T[0-9]{6}Z\.db$')" \
    2 "--keep 2 leaves the 2 newest backups"
tap_ok "files not of the pattern are left alone" \
    test -f "$T/backups/notes.txt" -a -f "$T/backups/marketbox-old.db"
tap_ok "no temp file is left in the directory" \
    eval '! ls "$T/backups" | grep -q tmp'
tap_is "$(sqlite3 "$T/backups/$last" 'PRAGMA integrity_check')" ok \
    "the backup passes integrity_check"
tap_is "$(sqlite3 "$T/backups/$last" 'PRAGMA journal_mode')" delete \
    "the backup is one file (no WAL)"

# --- restore refused while marketbox runs ------------------------------------------

ino=$(stat -c %i "$MB_DB")
ctl restore "$T/backups/$last" > /dev/null 2> "$T/restore-live.err"
tap_is "$?" 1 "restore while marketbox runs: refused (exit 1)"
tap_ok "the refusal says to stop marketbox first" \
    grep -q "stop marketbox first" "$T/restore-live.err"
tap_ok "the database is untouched (same file, no .before-restore)" \
    eval '[ "$(stat -c %i "$MB_DB")" = "$ino" ] &&
    [ ! -e "$MB_DB.before-restore" ]'

# --- /metrics ----------------------------------------------------------------------

http_get "$HTTP_PORT" "/metrics?password=$ADMIN_PW" > "$T/metrics"
m() { awk -v k="$1" '$1 == k { print $2 }' "$T/metrics"; }
tap_is "$(m marketbox_backup_last_success_timestamp_seconds)" \
    "$(stat -c %Y "$T/backups/$last")" \
    "marketbox_backup_last_success_timestamp_seconds: the newest backup's mtime"
free=$(m marketbox_store_disk_free_bytes)
want=$(df -B1 --output=avail "$T" | tail -n 1 | tr -d ' ')
tap_ok "marketbox_store_disk_free_bytes: the disk free beside the database ($free, df $want)" \
    eval '[ -n "$free" ] && [ "$free" -gt 0 ] &&
    [ $((free / 1048576)) -ge $((want / 1048576 - 512)) ] &&
    [ $((free / 1048576)) -le $((want / 1048576 + 512)) ]'

# --- the traffic ends; restore into a new directory ----------------------------------

wait_until 60 eval '[ "$(phone_mt_count)" -ge "$N" ]'
tap_is "$(phone_mt_count)" "$N" "all $N MOs answered"
phone_stop
marketbox_stop
NEW_DB=$T/restored/marketbox.db
sed -e "s|^database = .*|database = \"$NEW_DB\"|" \
    -e "s|^log-file = .*|log-file = $T/restored/marketbox.log|" \
    "$MB_CONF" > "$T/restored.conf"
"$MARKETCTL" -c "$T/restored.conf" restore "$T/backups/$last" \
    > /dev/null 2> "$T/restore.err"
tap_is "$?" 0 "restore into a new directory's database: exit 0"
MB_DB=$NEW_DB
MB_CONF=$T/restored.conf
marketbox_start "$MB_CONF" || tap_bail "cannot run $MARKETBOX"
tap_ok "marketbox starts on the restored database and connects" \
    marketbox_wait_connected 15
db "SELECT sender || '|' || text FROM inbox" | sort -u > "$T/restored.inbox"
comm -23 "$T/acked.$BACKUPS" "$T/restored.inbox" > "$T/missing"
missing=$(wc -l < "$T/missing")
[ "$missing" -eq 0 ] || tap_diag "missing: $(head -n 5 "$T/missing")"
tap_is "$missing" 0 \
    "every MO answered before the last backup began ($(wc -l < "$T/acked.$BACKUPS")) is in the restored inbox"
# And the restore over a database: kept as .before-restore.
marketbox_stop
"$MARKETCTL" -c "$MB_CONF" restore "$T/backups/$last" > /dev/null \
    2> "$T/restore2.err"
tap_is "$?" 0 "restore over a stopped marketbox's database: exit 0"
tap_ok "the old one is kept as .before-restore, and said" \
    eval '[ -f "$NEW_DB.before-restore" ] &&
    grep -q before-restore "$T/restore2.err"'

tap_end
