# tests/faults/lib.sh - the harness of the fault suite: a real bearerbox,
# fakesmsc as the phone network and marketbox (tests/integration/lib.sh,
# whose functions this file adds to), a workload of market commands, and
# the accounting every case ends with.
#
#	fault_init NAME		integ_require_kannel + integ_init, and:
#				FAULT_SHIM (the preload library), SANITIZED
#				(1 in a --enable-sanitizers build)
#	fault_need_shim		skips the whole case (TAP) where the shim
#				cannot be preloaded
#	fault_start [CONF-LINE...]	bearerbox, then marketbox, then the
#				phones registered (users rows written through
#				db) and the seed offer BUYs order from
#	fault_traffic N INTERVAL	N MOs from the registered phones, chosen
#				at random among SELL and BUY lines; returns at
#				once (fakesmsc sends them in the background)
#	fault_traffic_end	waits until fakesmsc has sent them all, stops
#				it, and adds its count to FAULT_SENT
#	fault_drain [SECONDS]	waits until bearerbox has no MO left for the
#				box and every received MO is in the inbox
#	fault_check LABEL	the assertions every case ends with (5 TAP
#				tests, FAULT_CHECKS) and the figures
#
# The accounting.  fakesmsc counts an MO as sent when it is written to
# bearerbox's socket; bearerbox writes "Receive SMS" in its access log once
# the MO is in its store; only MOs in that log were "handed over" and must
# reach the inbox.  An MO's effect is its row: a SELL that was handled
# ("done") made exactly one offer, a BUY that was handled exactly one
# order, and the seed offer's quantity left is its quantity minus what its
# live orders hold.  Doubled effects are rows beyond the handled MOs, lost
# effects handled MOs without their row; both are printed and must be 0.

# shellcheck shell=bash disable=SC2034

. "$(dirname "${BASH_SOURCE[0]}")/../integration/lib.sh"

FAULT_PHONES=${FAULT_PHONES:-12}	# registered phones: +25471000000 ...
FAULT_PREFIX=+2547100
FAULT_SEED_QTY=1000000
FAULT_SENT=0
FAULT_CHECKS=5

fault_init()
{
	integ_require_kannel
	integ_init "$1"
	FAULT_SHIM=$top_builddir/tests/faults/.libs/faultshim.so
	SANITIZED=0
	if grep -q '^SANITIZER_CFLAGS = .*sanitize' \
	    "$top_builddir/Makefile" 2>/dev/null; then
		SANITIZED=1
	fi
	[ -f "$top_builddir/plugins/market/.libs/market.so" ] || {
		echo "1..0 # SKIP the market plugin is not built"
		exit 0
	}
}

# fault_need_shim: the shim is preloaded into marketbox; a sanitizer build
# wants its own runtime first in the process, so there the case is skipped.
fault_need_shim()
{
	if [ "$SANITIZED" = 1 ]; then
		echo "1..0 # SKIP the fault shim is an LD_PRELOAD library; a" \
		    "sanitizer build must have its runtime loaded first (the" \
		    "plain build runs this case)"
		exit 0
	fi
	if [ ! -f "$FAULT_SHIM" ]; then
		echo "1..0 # SKIP $FAULT_SHIM is not built (make check builds it)"
		exit 0
	fi
}

fault_phone()
{
	printf '%s%05d' "$FAULT_PREFIX" "$1"
}

# fault_start [CONF-LINE...]: everything up, phones registered, the seed
# offer made (its ref is FAULT_SEED).  Bails out on failure.
fault_start()
{
	local i p sql now

	kannel_conf_write || tap_bail "cannot pick ports"
	marketbox_conf_write "$T/marketbox.conf" "repeat-window = 0" "$@"
	if [ -n "${FAULT_DB:-}" ]; then
		# the database elsewhere (disk-full.sh: on a small tmpfs)
		sed -i "s|^database = .*|database = $FAULT_DB|" "$MB_CONF"
		MB_DB=$FAULT_DB
	fi
	bearerbox_start || tap_bail "bearerbox does not start"
	marketbox_start || tap_bail "cannot run $MARKETBOX"
	marketbox_wait_connected 15 || tap_bail "marketbox does not connect"
	now=$(date +%s)
	sql="BEGIN;"
	for i in $(seq 0 "$FAULT_PHONES"); do
		p=$(fault_phone "$i")
		sql="$sql INSERT INTO users(msisdn, name, market, language,
		    created, updated) VALUES ('$p', 'Phone $i', 'nakuru', 'en',
		    $now, $now);"
	done
	db "$sql COMMIT;" || tap_bail "cannot register the phones"
	# The seed offer, from the last phone: BUYs order from it.
	p=$(fault_phone "$FAULT_PHONES")
	phone_send "$p" 777 "SELL maize $FAULT_SEED_QTY bags 3000"
	wait_until 10 eval '[ -n "$(db "SELECT ref FROM market_posts
	    WHERE msisdn = '"'$p'"'")" ]' ||
	    tap_bail "the seed offer was not made"
	FAULT_SEED=$(db "SELECT ref FROM market_posts WHERE msisdn = '$p'")
	FAULT_SENT=$((FAULT_SENT + 1))
	phone_stop
}

# fault_lines: the MOs fakesmsc chooses from, "from to type text" each.
fault_lines()
{
	local i p

	for i in $(seq 0 $((FAULT_PHONES - 1))); do
		p=$(fault_phone "$i")
		echo "$p 777 text SELL maize $((i + 1)) bags $((2000 + i))"
		echo "$p 777 text SELL maize $((i + 2)) bags $((2100 + i))"
		echo "$p 777 text BUY $FAULT_SEED 1"
	done
}

# fault_traffic N INTERVAL
fault_traffic()
{
	local lines=()

	mapfile -t lines < <(fault_lines)
	FAULT_BATCH=$1
	phone_batch "$1" "$2" 0 "${lines[@]}"
}

fault_traffic_sent()
{
	[ "$(phone_sent_count)" -ge "$FAULT_BATCH" ]
}

# fault_traffic_end [SECONDS]: every MO of the batch written (or SECONDS,
# default 60, passed), fakesmsc stopped, its count added to FAULT_SENT.
fault_traffic_end()
{
	wait_until "${1:-60}" fault_traffic_sent
	phone_stop	# first: its last "sent" lines are written by then
	FAULT_SENT=$((FAULT_SENT + $(phone_sent_count)))
}

fault_inbox_count()
{
	db "SELECT count(*) FROM inbox WHERE sender LIKE '$FAULT_PREFIX%'"
}

# bearerbox_queued: the MOs bearerbox holds for marketbox: those not yet
# routed ("SMS: received N (M queued)" on its status page) and those of
# the box's line (queued for it, or sent and not yet acked).  Empty when
# the box is not connected.
bearerbox_queued()
{
	bearerbox_status | awk '
	    /^SMS: received/ { sub(/.*received [0-9]* \(/, ""); q = $1 + 0 }
	    /smsbox:marketbox/ { sub(/.*IP [0-9.]* \(/, ""); b = $1; box = 1 }
	    END { if (box) print q + b }'
}

fault_drained()
{
	local q

	q=$(bearerbox_queued)
	[ "${q:-1}" = 0 ] && [ "$(fault_inbox_count)" -ge \
	    $(($(bearerbox_received) - ${FAULT_OTHER:-0})) ]
}

fault_drain()
{
	wait_until "${1:-30}" fault_drained
}

# fault_check LABEL: the five assertions of every case.
fault_check()
{
	local label=$1 received inbox handled lost doubled notone seed
	local orders qty_left held notdone

	fault_drain 30
	tap_diag "$(bearerbox_status | grep -i "sms\|box")"
	sleep 1			# late redeliveries would show now
	# (FAULT_OTHER: MOs of a case's own, from other phones)
	received=$(($(bearerbox_received) - ${FAULT_OTHER:-0}))
	inbox=$(fault_inbox_count)
	# +1: the seed offer's MO
	tap_ok "$label: every MO bearerbox received is in the inbox" \
	    test "$inbox" -ge "$received"
	tap_ok "$label: no MO beyond what fakesmsc sent" \
	    test "$inbox" -le "$FAULT_SENT"

	# Offers per (phone, text) against the handled SELLs with that text,
	# orders per buyer against the handled BUYs: lost and doubled.
	db "SELECT i.sender, i.text, count(*) FROM inbox i
	    WHERE i.state = 'done' AND i.text LIKE 'SELL %'
	    AND i.sender LIKE '$FAULT_PREFIX%' GROUP BY 1, 2" |
	    sort > "$T/handled-sells"
	db "SELECT msisdn, 'SELL maize ' || qty || ' bags ' || (price / 100), count(*)
	    FROM market_posts WHERE kind = 'offer'
	    AND msisdn LIKE '$FAULT_PREFIX%' GROUP BY 1, 2" |
	    sort > "$T/offers"
	db "SELECT sender, count(*) FROM inbox WHERE state = 'done'
	    AND text LIKE 'BUY %' AND sender LIKE '$FAULT_PREFIX%'
	    GROUP BY 1" | sort > "$T/handled-buys"
	db "SELECT buyer, count(*) FROM market_orders WHERE offer = $FAULT_SEED
	    GROUP BY 1" | sort > "$T/orders"
	read -r lost doubled < <(awk -F'|' '
	    FNR == NR { want[$1 "|" $2] += $3; next }
	    { got[$1 "|" $2] += $3 }
	    END {
		for (k in want) { d = want[k] - got[k]; if (d > 0) l += d }
		for (k in got) { d = got[k] - want[k]; if (d > 0) x += d }
		print l + 0, x + 0
	    }' <(cat "$T/handled-sells"; awk -F'|' '{ print $1 "|BUY|" $2 }' \
		"$T/handled-buys") \
	    <(cat "$T/offers"; awk -F'|' '{ print $1 "|BUY|" $2 }' "$T/orders"))
	# With no flood limit and no repeat window, every MO of the workload
	# is done, or failed with an apology to the sender (a command the
	# store failed); one throttled, refused or repeat lost its effect.
	notdone=$(db "SELECT count(*) FROM inbox WHERE sender LIKE
	    '$FAULT_PREFIX%' AND state NOT IN ('done', 'failed')")
	lost=$((lost + notdone))
	orders=$(db "SELECT count(*) FROM market_orders
	    WHERE offer = $FAULT_SEED")
	held=$(db "SELECT coalesce(sum(qty), 0) FROM market_orders
	    WHERE offer = $FAULT_SEED AND state NOT IN
	    ('rejected', 'expired', 'cancelled')")
	qty_left=$(db "SELECT qty_left FROM market_posts
	    WHERE ref = $FAULT_SEED")
	notone=$(db "SELECT count(*) FROM inbox i
	    WHERE i.sender LIKE '$FAULT_PREFIX%' AND (SELECT count(*)
	    FROM outbox o WHERE o.inbox_id = i.id AND o.kind = 'reply') != 1")
	tap_diag "$label: fakesmsc sent $FAULT_SENT, bearerbox received" \
	    "$received, inbox $inbox ($(db_join ', ' "SELECT state || ' ' || count(*)
	    FROM inbox WHERE sender LIKE '$FAULT_PREFIX%' GROUP BY state
	    ORDER BY state")), offers" \
	    "$(awk -F'|' '{ s += $3 } END { print s + 0 }' "$T/offers"), orders" \
	    "$orders; lost effects $lost, doubled effects $doubled"
	tap_is "lost $lost, doubled $doubled, seed $((qty_left + held))" \
	    "lost 0, doubled 0, seed $FAULT_SEED_QTY" \
	    "$label: no effect lost or doubled (the seed offer's quantity left plus held by orders is its quantity)"
	tap_is "$notone" 0 "$label: every MO has exactly one reply row"
	db_integrity "$label: the database passes integrity_check"
}

# fault_restart [VAR=VALUE...]: marketbox stopped and started again with
# the shim preloaded and VAR=VALUE in its environment (none: no shim);
# waits for the link.
fault_restart()
{
	marketbox_stop
	if [ $# -gt 0 ]; then
		env LD_PRELOAD="$FAULT_SHIM" "$@" bash -c 'exec "$0" -v 1 "$1"' \
		    "$MARKETBOX" "$MB_CONF" >> "$T/marketbox.stdout" \
		    2>> "$T/marketbox.stderr" &
		MB_PID=$!
	else
		marketbox_start
	fi
	marketbox_wait_connected 15
}

# link_bytes_sent: the bytes marketbox has sent on its link to bearerbox
# (ss(8)'s bytes_sent); empty when ss is missing.  An idle link carries
# heartbeats only, 12 bytes each (length, type, load).
link_bytes_sent()
{
	command -v ss >/dev/null 2>&1 || return 0
	ss -tinH state established "( dport = :$BB_SMSBOX_PORT )" 2>/dev/null |
	    sed -n 's/.*bytes_sent:\([0-9]*\).*/\1/p' | head -n 1
}
