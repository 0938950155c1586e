#!/bin/bash
# tests/integration/instances.sh - two marketbox instances, a and b, with
# the same conf and smsbox-id, behind one bearerbox and on one PostgreSQL
# database.  5,000 MOs from 200 phones (REG, SELL, WANT, BUY, PRICE: replies,
# and notices to other phones) at a steady 100 a second; instance a is
# SIGKILLed in the middle (when it has MTs in flight if it can be caught
# so), left dead longer than outbox-lease so that b takes its unacked MTs
# over, then started again.  The market plugin reminds sellers of pending
# orders after a minute, so its timer runs on both instances meanwhile.
# Then:
#  - every MO bearerbox received is in the inbox exactly once, and each has
#    exactly one reply row;
#  - every outbox row reached a phone, and no MT reached a phone twice but
#    those in flight at the kill (compared per receiver and text, and per
#    outbox row from the instances' logs);
#  - a's rows in flight at the kill were taken over by b within the lease,
#    before a came back;
#  - each pending order's seller was reminded at most once, and the orders
#    marked reminded have exactly one reminder each (the market timer ran
#    once across the instances);
#  - no reference number was handed out twice;
#  - nothing is left queued or sending;
#  - both instances served MOs.
#
# PostgreSQL only (MB_TEST_STORE=postgresql and MB_TEST_PG): several
# instances share a database only there; on SQLite the test is skipped.
#
# The conf keys instance and outbox-lease are probed first: a marketbox
# that does not know them runs without them, and the first test says so.

# shellcheck source-path=SCRIPTDIR
. "$(dirname "$0")/lib.sh"

N_MO=${INSTANCES_MO:-5000}
INTERVAL=0.01			# fakesmsc: 100 MOs a second
N_PHONES=200
N_SEEDS=4			# sellers of the offers BUYs order from
PREFIX=+25472000
LEASE=5
KILL_AFTER=20			# seconds into the traffic
DEAD_FOR=$((LEASE + 4))		# a stays dead longer than the lease
REMIND_WAIT=110			# seconds after the traffic's start

if [ "${MB_TEST_STORE:-sqlite}" != postgresql ]; then
	echo "1..0 # SKIP several instances share a PostgreSQL database only" \
	    "(MB_TEST_STORE=postgresql and MB_TEST_PG)"
	exit 0
fi
integ_require_kannel
integ_init instances
[ -f "$top_builddir/plugins/market/.libs/market.so" ] || {
	echo "1..0 # SKIP the market plugin is not built"
	exit 0
}
tap_plan 19

A_PID=
B_PID=
# The instances are stopped before lib.sh's teardown drops the database.
instances_teardown()
{
	local rc=$?

	[ -n "$A_PID" ] && proc_stop "$A_PID" TERM 5
	[ -n "$B_PID" ] && proc_stop "$B_PID" TERM 5
	A_PID= B_PID=
	if [ "$rc" -ne 0 ] || [ "$TAP_FAILED" -ne 0 ]; then
		for f in "$T"/a.log "$T"/b.log "$T"/a.stderr "$T"/b.stderr; do
			[ -s "$f" ] || continue
			tap_diag "--- last lines of $f"
			tap_diag "$(grep -v DEBUG "$f" | tail -n 10)"
		done
	fi
	(exit "$rc")
	integ_teardown
}
trap instances_teardown EXIT

phone()
{
	printf '%s%05d' "$PREFIX" "$1"
}

# --- the conf ------------------------------------------------------------------

# Does this marketbox know the keys of several instances?
printf 'group = marketbox\nsmsbox-id = probe\ndatabase = "%s"\nrun-as-root = yes\ninstance = a\noutbox-lease = %s\n' \
    "$T/probe.db" "$LEASE" > "$T/probe.conf"
HAVE_KEYS=1
if "$MARKETBOX" -n "$T/probe.conf" 2>&1 |
    grep -q "may not contain field '\(instance\|outbox-lease\)'"; then
	HAVE_KEYS=0
fi
tap_is "$HAVE_KEYS" 1 "marketbox accepts the conf keys instance and outbox-lease"
[ "$HAVE_KEYS" = 1 ] || tap_diag "this marketbox does not know" \
    "'instance' and 'outbox-lease': both instances run without them (a" \
    "name of their own, the default lease); what depends on them fails below"

kannel_conf_write || tap_bail "cannot pick ports"
# instance_conf NAME: $T/NAME.conf, its own log; the market plugin reminds
# a pending order's seller after a minute, sweeping at every tick.
instance_conf()
{
	local keys=()

	[ "$HAVE_KEYS" = 1 ] && keys=("instance = $1" "outbox-lease = $LEASE")
	marketbox_conf_write "$T/$1.conf" "repeat-window = 0" \
	    "country-code = 254" "${keys[@]}" || return 1
	sed -i "s|^log-file = .*|log-file = $T/$1.log|" "$T/$1.conf"
	printf '\ngroup = plugin-market\norder-remind = 1m\norder-expire = 1h\nsweep-interval = 1\nconfirm-ratio = 0\n' \
	    >> "$T/$1.conf"
}
instance_conf a || tap_bail "cannot write a's conf"
instance_conf b || tap_bail "cannot write b's conf"

# instance_start NAME: run it (stderr into $T/NAME.stderr); its pid in
# A_PID or B_PID.
instance_start()
{
	echo "=== start" >> "$T/$1.stderr"
	"$MARKETBOX" -v 1 "$T/$1.conf" >> "$T/$1.stdout" 2>> "$T/$1.stderr" &
	printf -v "${1^^}_PID" '%s' "$!"
}

# instance_connects NAME: how often its log says it connected.
instance_connects()
{
	grep -c 'connected to bearerbox at' "$T/$1.log" 2>/dev/null || echo 0
}

instance_up()
{
	local pid=${1^^}_PID

	proc_alive "${!pid}" && [ "$(instance_connects "$1")" -ge "$2" ]
}

bearerbox_start || tap_bail "bearerbox does not start"
instance_start a
# (b after a has made the tables: both would wait on the migration lock)
wait_until "${MB_START_WAIT:-60}" instance_up a 1 || tap_bail "instance a does not connect"
instance_start b
wait_until "${MB_START_WAIT:-60}" instance_up b 1 || tap_bail "instance b does not connect"

# --- the phones and the seed offers ---------------------------------------------------

now=$(date +%s)
sql="BEGIN;"
for i in $(seq 0 $((N_PHONES - 1))); do
	sql="$sql INSERT INTO users(msisdn, name, market, language, created,
	    updated) VALUES ('$(phone "$i")', 'Phone $i', 'nakuru', 'en', $now,
	    $now);"
done
db "$sql COMMIT;" >/dev/null || tap_bail "cannot register the phones"

SEEDS=()
for i in $(seq 0 $((N_SEEDS - 1))); do
	p=$(phone "$i")
	phone_send "$p" 777 "SELL maize 1000000 bags 3000"
	wait_until 10 eval '[ -n "$(db "SELECT ref FROM market_posts
	    WHERE msisdn = '"'$p'"'")" ]' || tap_bail "seed offer $i not made"
	SEEDS+=("$(db "SELECT ref FROM market_posts WHERE msisdn = '$p'")")
done
seed_mos=$N_SEEDS
phone_stop

# --- the traffic ----------------------------------------------------------------------

# Every phone but the sellers': a REG again, a SELL (its wants' owners are
# told), a WANT (matching sellers are told, the buyer gets the offers),
# two BUYs of a seed offer (its seller is told; reminded after a minute),
# a PRICE.
lines=()
for i in $(seq "$N_SEEDS" $((N_PHONES - 1))); do
	p=$(phone "$i")
	lines+=("$p 777 text REG Phone Nakuru")
	lines+=("$p 777 text SELL maize $((i % 9 + 1)) bags $((2800 + i))")
	lines+=("$p 777 text WANT maize $((i % 5 + 1)) bags 3200")
	lines+=("$p 777 text BUY ${SEEDS[$((i % N_SEEDS))]} $((i % 3 + 1))")
	lines+=("$p 777 text BUY ${SEEDS[$(((i + 1) % N_SEEDS))]} 1")
	lines+=("$p 777 text PRICE maize")
done
traffic_start=$SECONDS
phone_batch "$N_MO" "$INTERVAL" 0 "${lines[@]}"

# --- the kill --------------------------------------------------------------------------

sleep "$KILL_AFTER"
# a's MTs in flight: rows in sending that a marked (all rows in sending
# where the owner is not recorded).
inflight_sql()
{
	echo "SELECT $1 FROM outbox WHERE state = 'sending' AND
	    (owner = 'a' OR NOT EXISTS (SELECT 1 FROM outbox
	    WHERE owner IS NOT NULL))"
}
a_inflight()
{
	[ "$(db "$(inflight_sql 'count(*)')")" -gt 0 ]
}
# Killed the moment a has MTs in flight (5 s at most of looking).
wait_until 5 a_inflight
proc_stop "$A_PID" KILL 5
A_PID=
killed_at=$SECONDS
db "$(inflight_sql "id || '|' || receiver || '|' || text")" > "$T/inflight"
# In flight too: rows a handed to bearerbox (its log says so) that the
# database, after the kill, does not hold as sent: the transaction that
# claimed them, or that recorded bearerbox's ack, died uncommitted with a
# (the row is queued again), as at a restart.
sent_ids=$(grep -h 'box: MT row [0-9]* sent as' "$T/a.log" |
    sed 's/.*MT row \([0-9]*\) sent as .*/\1/' | sort -u | paste -sd, -)
if [ -n "$sent_ids" ]; then
	db "SELECT id || '|' || receiver || '|' || text FROM outbox
	    WHERE id IN ($sent_ids) AND state IN ('queued', 'sending')" \
	    >> "$T/inflight"
	sort -u -o "$T/inflight" "$T/inflight"
fi
n_inflight=$(wc -l < "$T/inflight")
tap_diag "a SIGKILLed $((killed_at - traffic_start)) s into the traffic" \
    "with $n_inflight MTs in flight"

# Before a comes back: its rows in flight are b's to send, after the lease.
a_rows_left()
{
	local ids

	ids=$(cut -d'|' -f1 "$T/inflight" | paste -sd, -)
	[ -n "$ids" ] || { echo 0; return; }
	db "SELECT count(*) FROM outbox WHERE id IN ($ids) AND
	    state IN ('sending', 'queued')"
}
a_rows_gone()
{
	[ "$(a_rows_left)" = 0 ]
}
wait_until "$DEAD_FOR" a_rows_gone
left=$(a_rows_left)
while [ $((SECONDS - killed_at)) -lt "$DEAD_FOR" ]; do
	sleep 0.5
done
if [ "$n_inflight" -eq 0 ]; then
	tap_skip "b sends a's MTs in flight within the lease" \
	    "a had no MT in flight at the kill"
else
	tap_is "$left" 0 "b sends a's $n_inflight MTs in flight within the lease ($LEASE s), before a comes back"
fi
instance_start a
tap_ok "instance a starts again and connects" wait_until "${MB_START_WAIT:-60}" instance_up a 2

# MTs per receiver and text: the phones' against the outbox rows': LOST
# rows that never arrived, EXTRA MTs beyond the rows, EXTRA_OUT of them of
# rows not in flight at the kill.
mt_compare()
{
	db "SELECT receiver || '|' || text FROM outbox" | sort | uniq -c |
	    awk '{ n = $1; sub(/^ *[0-9]* /, ""); print $0 "\t" n }' |
	    sort > "$T/want-mt"
	phone_mts | awk '{ r = $2; sub(/^[^ ]* [^ ]* [^ ]* /, ""); print r "|" $0 }' |
	    sort | uniq -c |
	    awk '{ n = $1; sub(/^ *[0-9]* /, ""); print $0 "\t" n }' |
	    sort > "$T/got-mt"
	cut -d'|' -f2- "$T/inflight" | sort -u > "$T/inflight-keys"
	read -r lost extra extra_out < <(awk -F'\t' '
	    FILENAME == ARGV[1] { want[$1] = $2; next }
	    FILENAME == ARGV[2] { got[$1] = $2; next }
	    { fly[$0] = 1 }
	    END {
		for (k in want) if (got[k] < want[k]) l += want[k] - got[k]
		for (k in got) if (got[k] > want[k]) {
			x += got[k] - want[k]
			if (!(k in fly)) o += got[k] - want[k]
		}
		print l + 0, x + 0, o + 0
	    }' "$T/want-mt" "$T/got-mt" "$T/inflight-keys")
}
all_arrived()
{
	mt_compare
	[ "$lost" = 0 ]
}

# --- the end of the traffic and the timer -----------------------------------------------

sent_all()
{
	[ "$(phone_sent_count)" -ge "$N_MO" ]
}
wait_until 90 sent_all
# (fakesmsc stays connected: the MTs of the last MOs are still coming)

open_rows()
{
	db "SELECT count(*) FROM outbox WHERE state IN ('queued', 'sending')"
}
drained()
{
	[ "$(db 'SELECT count(*) FROM inbox')" -ge "$(bearerbox_received)" ] &&
	    [ "$(open_rows)" = 0 ] &&
	    [ "$(phone_mt_count)" -ge "$(db 'SELECT count(*) FROM outbox')" ]
}
wait_until 60 drained || tap_diag "not drained after 60 s:" \
    "$(open_rows) rows queued or sending"

# Reminders: orders made at the traffic's start are due a minute later;
# the sweep runs every 15 s on each instance.
reminded()
{
	[ "$(db "SELECT count(*) FROM market_orders WHERE reminded = 1")" -gt 0 ]
}
wait_until $((REMIND_WAIT - (SECONDS - traffic_start))) reminded
wait_until 30 drained
# (rows bearerbox buffered reach fakesmsc a little later)
wait_until 30 all_arrived
sleep 2			# a late duplicate would show now
phone_stop
mt_compare
sent=$(($(phone_sent_count) + seed_mos))
tap_diag "$((SECONDS - traffic_start)) s from the traffic's start to its end"

# --- the checks -------------------------------------------------------------------------

received=$(bearerbox_received)
inbox=$(db "SELECT count(*) FROM inbox")
tap_diag "fakesmsc sent $sent, bearerbox received $received, inbox $inbox" \
    "($(db_join ', ' "SELECT state || ' ' || count(*) FROM inbox
    GROUP BY state ORDER BY state"))"
tap_is "$inbox" "$received" "every MO bearerbox received is in the inbox"
tap_is "$(db "SELECT count(*) - count(DISTINCT kannel_id) FROM inbox")" 0 \
    "no MO is in the inbox twice (by Kannel's id)"
tap_ok "no MO beyond what fakesmsc sent" test "$inbox" -le "$sent"
tap_is "$(db "SELECT count(*) FROM inbox WHERE state <> 'done'")" 0 \
    "every MO was handled (done)"
# (a SELL or WANT that matches also sends its sender the list of matches,
# as a second reply row: "Buyers for offer #N" or "Offers for your want #N")
tap_is "$(db "SELECT count(*) FROM inbox i LEFT JOIN (SELECT inbox_id,
    sum(CASE WHEN text LIKE 'Buyers for offer #%' OR text LIKE
    'Offers for your want #%' THEN 0 ELSE 1 END) AS n, sum(CASE WHEN text
    LIKE 'Buyers for offer #%' OR text LIKE 'Offers for your want #%'
    THEN 1 ELSE 0 END) AS m FROM outbox WHERE kind = 'reply'
    GROUP BY inbox_id) r ON r.inbox_id = i.id
    WHERE coalesce(r.n, 0) <> 1 OR coalesce(r.m, 0) > 1")" 0 \
    "every MO has exactly one reply row (and at most one list of matches)"
# (the timer may be making reminders right now: rows older than 10 s)
tap_is "$(db "SELECT count(*) FROM outbox WHERE state IN ('queued',
    'sending') AND created < $(($(date +%s) - 10))")" 0 \
    "nothing is left queued or sending"

mts=$(phone_mt_count)
rows=$(db "SELECT count(*) FROM outbox")
notices=$(db "SELECT count(*) FROM outbox WHERE kind = 'notice'")
tap_diag "outbox $rows rows ($notices notices), phones got $mts MTs:" \
    "$lost rows never arrived, $extra MTs twice ($extra_out of them not" \
    "in flight at the kill)"
tap_is "$lost" 0 "every outbox row reached its phone"
tap_is "$extra_out" 0 "no MT reached a phone twice but those in flight at the kill"
# The same by row, from the logs: a row sent by two instances, or twice.
grep -h 'box: MT row [0-9]* sent as' "$T/a.log" "$T/b.log" |
    sed 's/.*MT row \([0-9]*\) sent as.*/\1/' | sort | uniq -d > "$T/resent"
cut -d'|' -f1 "$T/inflight" | sort -u > "$T/inflight-ids"
resent_out=$(comm -23 "$T/resent" "$T/inflight-ids" | wc -l)
tap_diag "$(wc -l < "$T/resent") outbox rows handed to bearerbox more than" \
    "once ($resent_out of them not in flight at the kill)"
tap_is "$resent_out" 0 "no outbox row was handed to bearerbox twice but those in flight at the kill"

# The timer: a reminder per order at most, and exactly one per order
# marked reminded (read in one statement).
read -r n_reminded bad doubled < <(db "WITH r AS (SELECT
    CAST(substring(text from '^Reminder: order #([0-9]+) ') AS BIGINT) AS ref,
    count(*) AS n FROM outbox WHERE kind = 'notice'
    AND text LIKE 'Reminder: order #%' GROUP BY 1)
    SELECT (SELECT count(*) FROM market_orders WHERE reminded = 1),
    (SELECT count(*) FROM market_orders o LEFT JOIN r ON r.ref = o.ref
     WHERE coalesce(r.n, 0) <> o.reminded),
    (SELECT count(*) FROM r WHERE n > 1)" | tr '|' ' ')
tap_diag "$n_reminded orders reminded of $(db "SELECT count(*) FROM
    market_orders"); $doubled orders reminded more than once"
tap_ok "the market timer ran: some orders were reminded" \
    test "${n_reminded:-0}" -gt 0
tap_is "$bad|$doubled" "0|0" \
    "the timer ran once across the instances: each order reminded at most once, and every order marked reminded exactly once"
reminders_got=$(phone_mts | grep -c ' text Reminder: order #')
tap_diag "the phones got $reminders_got reminders"

# References: one sequence for offers, wants and orders.
tap_is "$(db "SELECT count(*) - count(DISTINCT ref) FROM (SELECT ref
    FROM market_posts UNION ALL SELECT ref FROM market_orders) x")|$(db \
    "SELECT count(*) - count(DISTINCT id) FROM refs")" "0|0" \
    "no reference number was handed out twice"

# Both served: each instance's log has MOs.
a_mo=$(grep -c 'box: MO ' "$T/a.log")
b_mo=$(grep -c 'box: MO ' "$T/b.log")
tap_diag "MOs taken: a $a_mo, b $b_mo"
tap_ok "both instances served MOs (a $a_mo, b $b_mo)" \
    test "$a_mo" -gt 0 -a "$b_mo" -gt 0

# A delivery report reaches whichever instance bearerbox picks: it must
# find the row whichever made it.
dropped=$(grep -h 'DLR for unknown row' "$T/a.log" "$T/b.log" | wc -l)
tap_is "$dropped" 0 "no delivery report is dropped as for an unknown row"

# Clean ends.
proc_stop "$A_PID" TERM 5
a_exit=$PROC_STATUS
A_PID=
proc_stop "$B_PID" TERM 5
b_exit=$PROC_STATUS
B_PID=
tap_is "$a_exit|$b_exit" "0|0" "both instances stop cleanly"
tap_is "$(grep -hE 'outside a task|ERROR: AddressSanitizer|runtime error:|LeakSanitizer' \
    "$T"/a.log "$T"/b.log "$T"/a.stderr "$T"/b.stderr | head -n 5)" "" \
    "no statement outside a task, no sanitizer report"

tap_end
