# tests/bench/lib.sh - the measuring half of scripts/bench: one run of
# fakesmsc's MOs through a real bearerbox to Kannel's smsbox or to
# marketbox, one run of marketbox against boxload (no bearerbox), and the
# small sums the summary needs.
#
# Sourced by scripts/bench after tests/integration/lib.sh, whose helpers it
# uses (ports, bearerbox_start/stop, marketbox_conf_write/start/stop,
# phone_start/stop, proc_stop, wait_until).  The environment gives:
#
#	top_builddir, top_srcdir, BEARERBOX, FAKESMSC, SMSBOX	as for the
#				integration tests; BOXLOAD, the load generator;
#				DLRSINK, the HTTP end of smsbox's dlr-url
#	BENCH_LOG_LEVEL		the log level of every daemon (default 1,
#				info, as a production gateway runs)
#	BENCH_DLR_MASK		the dlr-mask of both boxes' MTs (empty:
#				marketbox's default, BENCH_DLR_MASK_DEFAULT,
#				which bench_init makes explicit)
#	BENCH_MAX_PENDING	bearerbox's smsbox-max-pending, for both
#				boxes (default 1000, as conf/kannel.conf
#				ships: a box that acks after its commit
#				needs more than Kannel's 100 in flight)
#	BENCH_STORE		the store of marketbox's next runs: sqlite
#				(default) or postgresql, on a database made
#				for each run on the server BENCH_PG names
#				(bench_pg_start starts a private one)
#	BENCH_INSTANCES		marketbox instances per run (default 1):
#				the same conf and smsbox-id, one database,
#				behind one bearerbox (or one boxload -b);
#				each has its own log file, and its own
#				"instance" name when the binary knows the key
#
# Both boxes ask bearerbox for the same delivery reports: marketbox through
# its dlr-mask, smsbox through its sms-service's dlr-mask and dlr-url.
# smsbox fetches that URL for every DLR, from a dlrsink, as the smsbox of a
# real application does; with a dlr-mask of 0 neither asks and no sink runs.
#
# What a run leaves in globals (bench_kannel_run, bench_direct_run):
#
#	RUN_OK		1 if every MO was answered in time
#	RUN_RATE	round trips per second (MO in -> MT out)
#	RUN_SECONDS	the measured time
#	RUN_BOX_US	CPU of the box (smsbox or marketbox) per message, us;
#			for marketbox, all its instances added up
#	RUN_PG_US	CPU of the PostgreSQL server per message, us (all
#			its processes; 0 on SQLite)
#	RUN_PG_XACTS	PostgreSQL: transactions committed per MO
#	RUN_PG_STMTS	PostgreSQL with BENCH_PG_STATEMENTS=1: statements
#			the server ran per MO (from its log)
#	RUN_MTS		MTs the phones got (fakesmsc's count, or boxload's):
#			more than N means some MO was answered twice
#	RUN_BB_US	CPU of bearerbox per message, us (kannel runs)
#	RUN_RSS_MIB	peak RSS of the box, MiB (VmHWM)
#	RUN_FAKESMSC_US	CPU of fakesmsc per message, us (kannel runs)
#	RUN_BUSY_PCT	how busy all the machine's cores were while the
#			clock ran (kannel runs; 100: all of them)
#	RUN_OTHERS_PCT	the part of that not due to bearerbox, the box
#			and fakesmsc: other programs on the machine
#	RUN_LINE	boxload's RESULT line (direct runs)
#	RUN_DLRS	delivery reports the box handled (kannel runs that
#			asked for some; empty otherwise): for smsbox the
#			dlr-url fetches dlrsink answered, for marketbox the
#			MTs with a DLR state in its outbox
#	RUN_DLR_EXPECT	what RUN_DLRS should be (empty: no DLRs asked)
#	RUN_DLR_DETAIL	how they split: dlrsink's count by DLR event
#			("event1 N event8 N"), or marketbox's MTs by
#			dlr_state ("delivered N")
#	RUN_SINK_US	CPU of dlrsink per message, us (smsbox with DLRs)
#	RUN_DONE_SECONDS, RUN_DONE_RATE	with DLRs: the time until the
#			round trips were complete (every DLR handled by the
#			box; for smsbox, its dlr-url fetched) and the rate
#			that gives; 0 without DLRs
#
# Every run happens in its own directory under the bench's $T, on ports of
# its own, and stops what it started before returning.  Every wait is
# bounded.

# shellcheck shell=bash disable=SC2034

BENCH_T=
BENCH_SHORTCODE=777
# Every phone registers: a write (users) and a one-SMS reply, in the MO's
# transaction.  smsbox answers its static text whatever the MO says.
BENCH_TEXT="REG Mary Wanjiku Nakuru"
BENCH_SENDER=+2547		# fakesmsc -z 1 appends a random number
SB_PID=
BL_PID=
DS_PID=
BENCH_SINK_PORT=
# marketbox's own dlr-mask when its conf sets none (src/base/conf.c).
BENCH_DLR_MASK_DEFAULT=31
BENCH_TAIL_PID=
BENCH_GREP_PID=
: "${BENCH_STORE:=sqlite}"
: "${BENCH_INSTANCES:=1}"
BENCH_PG=
BENCH_INSTANCE_KEY=
MB_PIDS=()
: "${BENCH_LOG_LEVEL:=1}"
: "${BENCH_DLR_MASK:=}"
: "${BENCH_MAX_PENDING:=1000}"
CLK_TCK=$(getconf CLK_TCK 2>/dev/null || echo 100)

# bench_init: the integration harness's set-up (temp dir, EXIT trap), with
# a trap of our own around it that also stops smsbox, boxload and dlrsink.
# An empty BENCH_DLR_MASK becomes marketbox's default, then written in both
# boxes' confs, so that the two sides cannot differ.
bench_init()
{
	: "${BENCH_DLR_MASK:=$BENCH_DLR_MASK_DEFAULT}"
	integ_init bench
	BENCH_T=$T
	trap bench_teardown EXIT
}

bench_teardown()
{
	local rc=$?

	bench_wait_stop
	bench_marketbox_stop
	[ -n "$BL_PID" ] && proc_stop "$BL_PID" TERM 3
	BL_PID=
	[ -n "$SB_PID" ] && proc_stop "$SB_PID" TERM 5
	SB_PID=
	[ -n "$DS_PID" ] && proc_stop "$DS_PID" TERM 3
	DS_PID=
	# The server goes with its databases: nothing left to drop.
	bench_pg_stop
	INTEG_PG_DB=
	T=$BENCH_T
	(exit "$rc")
	integ_teardown
}

# --- PostgreSQL -------------------------------------------------------------

# bench_pg_start: a private PostgreSQL server for the bench's runs
# (tests/pg/server.sh: initdb in a temporary directory, loopback and a
# socket only), never one that was running before; BENCH_PG, its conninfo.
# bench_teardown stops it.
bench_pg_start()
{
	BENCH_PG=$(sh "${top_srcdir:?}/tests/pg/server.sh" start) || {
		BENCH_PG=
		return 1
	}
	MB_TEST_PG=$BENCH_PG
}

# bench_pg_statements_on: the server logs every statement it runs
# (log_statement = all), for bench_pg_counts; it costs the server time.
bench_pg_statements_on()
{
	psql -X -q -v ON_ERROR_STOP=1 -d "$BENCH_PG" \
	    -c "ALTER SYSTEM SET log_statement = 'all'" \
	    -c "SELECT pg_reload_conf()" >/dev/null
}

# bench_pg_log_lines: the lines of the server's log so far.
bench_pg_log_lines()
{
	local dir

	dir=$(printf '%s\n' "$BENCH_PG" | tr ' ' '\n' | sed -n 's/^host=//p')
	if [ -n "$dir" ] && [ -r "$dir/server.log" ]; then
		wc -l < "$dir/server.log"
	else
		echo 0
	fi
}

# bench_pg_counts N LOG0: once the run's instances have stopped (their
# backends have flushed their statistics), RUN_PG_XACTS, the transactions
# committed in the run's database per MO (start-up and migrations
# included), and with the statements logged, RUN_PG_STMTS, the statements
# the server ran per MO since its log had LOG0 lines.
bench_pg_counts()
{
	local n=$1 log0=$2 dir c i

	RUN_PG_XACTS='' RUN_PG_STMTS=''
	[ -n "$BENCH_PG" ] && [ -n "$INTEG_PG_DB" ] || return 0
	# The statistics reach pg_stat_database a moment after a backend
	# exits: read twice, 0.2 s apart, at most 10 times, until equal.
	for i in 1 2 3 4 5 6 7 8 9 10; do
		c=$(psql -X -q -A -t -d "$BENCH_PG" -c "SELECT xact_commit
		    FROM pg_stat_database WHERE datname = '$INTEG_PG_DB'")
		[ -n "$c" ] && [ "$c" = "${RUN_PG_XACTS:-}" ] && break
		RUN_PG_XACTS=$c
		sleep 0.2
	done
	RUN_PG_XACTS=$(bench_calc "${c:-0} / $n")
	if [ "${BENCH_PG_STATEMENTS:-0}" = 1 ]; then
		dir=$(printf '%s\n' "$BENCH_PG" | tr ' ' '\n' |
		    sed -n 's/^host=//p')
		c=$(tail -n +"$((log0 + 1))" "$dir/server.log" |
		    grep -c -E 'LOG: +(statement|execute [^ ]*):')
		RUN_PG_STMTS=$(bench_calc "$c / $n")
	fi
}

bench_pg_stop()
{
	local dir

	[ -n "$BENCH_PG" ] || return 0
	# KEEP=1 keeps the server's log (every statement, with
	# BENCH_PG_STATEMENTS=1) with the runs' directories.
	if [ "${KEEP:-0}" = 1 ]; then
		dir=$(printf '%s\n' "$BENCH_PG" | tr ' ' '\n' |
		    sed -n 's/^host=//p')
		cp "$dir/server.log" "$BENCH_T/postgresql.log" 2>/dev/null
	fi
	sh "$top_srcdir/tests/pg/server.sh" stop "$BENCH_PG"
	BENCH_PG=
}

# bench_pg_ticks: CPU of the whole server so far, in clock ticks: the
# postmaster and its live children (backends, writers, autovacuum), and,
# through the postmaster's cutime and cstime, the children that are gone.
# 0 without a server.
bench_pg_ticks()
{
	local dir pm f s

	[ -n "$BENCH_PG" ] || { echo 0; return 0; }
	dir=$(printf '%s\n' "$BENCH_PG" | tr ' ' '\n' | sed -n 's/^host=//p')
	pm=$(head -n 1 "$dir/data/postmaster.pid" 2>/dev/null)
	[ -n "$pm" ] || { echo 0; return 0; }
	# Fields after "pid (comm) ": ppid 2nd, utime 12th ... cstime 15th.
	# /proc/*/stat: a bounded glob, the processes there are.
	for f in /proc/[0-9]*/stat; do
		{ read -r s < "$f"; } 2>/dev/null || continue
		s=${s##*) }
		printf '%s %s\n' "${f//[!0-9]/}" "$s"
	done | awk -v pm="$pm" '
	    $1 == pm { t += $13 + $14 + $15 + $16 }
	    $3 == pm { t += $13 + $14 + $15 + $16 }
	    END { print t + 0 }'
}

# bench_run_dir NAME: a fresh directory and fresh ports for one run.
bench_run_dir()
{
	T=$BENCH_T/$1
	mkdir -p "$T" || return 1
	BB_ADMIN_PORT='' BB_SMSBOX_PORT='' BB_SMSC_PORT='' SENDSMS_PORT=''
	port_pick BB_ADMIN_PORT && port_pick BB_SMSBOX_PORT &&
	    port_pick BB_SMSC_PORT && port_pick SENDSMS_PORT
}

# --- numbers -------------------------------------------------------------

# bench_now: seconds since the epoch with microseconds (bash's clock).
bench_now()
{
	echo "$EPOCHREALTIME"
}

# bench_calc EXPR: awk arithmetic, printed as awk prints it.
bench_calc()
{
	awk "BEGIN { print $1 }"
}

# bench_median V...: the median of numbers (the mean of the middle two
# for an even count).
bench_median()
{
	printf '%s\n' "$@" | sort -g | awk '{ v[NR] = $1 }
	    END {
		if (NR == 0) { print 0; exit }
		if (NR % 2) print v[(NR + 1) / 2]
		else print (v[NR / 2] + v[NR / 2 + 1]) / 2
	    }'
}

# bench_max V...
bench_max()
{
	printf '%s\n' "$@" | sort -g | tail -n 1
}

# bench_cpu_ticks PID: user + system CPU of PID (all its threads) so far,
# in clock ticks, from /proc/PID/stat; empty when the process is gone.
bench_cpu_ticks()
{
	local s

	s=$(cat "/proc/$1/stat" 2>/dev/null) || return 1
	# Fields after "pid (comm) ": state is the 1st, utime the 12th,
	# stime the 13th.
	s=${s##*) }
	awk '{ print $12 + $13 }' <<< "$s"
}

# bench_hwm_kib PID: peak resident set size (VmHWM) in KiB.
bench_hwm_kib()
{
	awk '$1 == "VmHWM:" { print $2 }' "/proc/$1/status" 2>/dev/null
}

# bench_settle SECONDS PID...: wait until none of the processes uses CPU
# any more (ticks unchanged for 0.3 s), SECONDS at most, so that work left
# after the last reply (delivery reports, commits, smsbox's backlog of DLR
# fetches after a long run) is counted too.
bench_settle()
{
	local limit=$1 before now i same=0 pid
	shift

	before=$(for pid in "$@"; do bench_cpu_ticks "$pid"; done | tr '\n' ' ')
	for i in $(seq 1 $((limit * 10))); do
		sleep 0.1
		now=$(for pid in "$@"; do bench_cpu_ticks "$pid"; done |
		    tr '\n' ' ')
		if [ "$now" = "$before" ]; then
			same=$((same + 1))
			[ "$same" -ge 3 ] && return 0
		else
			same=0
		fi
		before=$now
	done
	return 1
}

# bench_machine_ticks: "busy total" clock ticks of all CPUs so far, from
# the first line of /proc/stat (busy: user nice system irq softirq steal;
# total adds idle and iowait).
bench_machine_ticks()
{
	awk '$1 == "cpu" {
		busy = $2 + $3 + $4 + $7 + $8 + $9
		print busy, busy + $5 + $6
		exit
	    }' /proc/stat
}

# bench_machine_load BEFORE AFTER OURS: RUN_BUSY_PCT, how busy the machine
# was between two bench_machine_ticks (100: every core), and
# RUN_OTHERS_PCT, the part of it not due to the OURS ticks of the
# processes measured (other programs: a noisy neighbour).
bench_machine_load()
{
	local b0 t0 b1 t1

	read -r b0 t0 <<< "$1"
	read -r b1 t1 <<< "$2"
	if [ "$((t1 - t0))" -le 0 ]; then
		RUN_BUSY_PCT=0 RUN_OTHERS_PCT=0
		return
	fi
	RUN_BUSY_PCT=$(bench_calc "100 * ($b1 - $b0) / ($t1 - $t0)")
	RUN_OTHERS_PCT=$(bench_calc "100 * ($b1 - $b0 - $3) / ($t1 - $t0)")
}

# bench_us_per_msg TICKS N: CPU microseconds per message.
bench_us_per_msg()
{
	bench_calc "$1 * 1000000 / $CLK_TCK / $2"
}

# --- Kannel ------------------------------------------------------------------

# bench_kannel_conf_write BOX-ID: $T/kannel.conf for bearerbox and smsbox,
# the short code routed to BOX-ID (smsbox or marketbox).  smsbox answers
# every MO with the static text "ok"; with BENCH_SINK_PORT set, that reply
# asks for BENCH_DLR_MASK's delivery reports, and smsbox fetches their
# dlr-url from the dlrsink there.  Logging as BENCH_LOG_LEVEL; no access
# logs.  bearerbox keeps its file store, as in production.
bench_kannel_conf_write()
{
	local dlr=

	# What an application would want to know: the event, the phone, the
	# SMSC's message id and the time.
	[ -n "$BENCH_SINK_PORT" ] && dlr="dlr-mask = $BENCH_DLR_MASK
dlr-url = \"http://127.0.0.1:$BENCH_SINK_PORT/dlr?event=%d&phone=%p&smsc-msgid=%F&time=%T\""
	cat > "$T/kannel.conf" <<EOF
# bearerbox and smsbox for one run of scripts/bench, generated by
# tests/bench/lib.sh
group = core
admin-port = $BB_ADMIN_PORT
admin-interface = 127.0.0.1
admin-password = $BB_PASSWORD
admin-allow-ip = 127.0.0.1
smsbox-port = $BB_SMSBOX_PORT
smsbox-interface = 127.0.0.1
box-allow-ip = 127.0.0.1
store-type = file
store-location = $T/kannel.store
dlr-storage = internal
log-file = $T/bearerbox.log
log-level = $BENCH_LOG_LEVEL
smsbox-max-pending = $BENCH_MAX_PENDING

group = smsc
smsc = fake
smsc-id = FAKE
port = $BB_SMSC_PORT
our-host = 127.0.0.1
connect-allow-ip = 127.0.0.1

group = smsbox
smsbox-id = smsbox
bearerbox-host = 127.0.0.1
bearerbox-port = $BB_SMSBOX_PORT
sendsms-port = $SENDSMS_PORT
sendsms-interface = 127.0.0.1
global-sender = $BENCH_SHORTCODE
log-file = $T/smsbox.log
log-level = $BENCH_LOG_LEVEL

group = smsbox-route
smsbox-id = $1
shortcode = $BENCH_SHORTCODE

group = sms-service
keyword = default
text = "ok"
$dlr
EOF
}

# bench_dlr_per_mt: the DLRs one MT that asks with BENCH_DLR_MASK gets on
# the fake SMSC: bearerbox's SMSC ack (8) when the SMSC takes it, then the
# fake SMSC's "delivered" (1); the other events do not happen there.
bench_dlr_per_mt()
{
	echo $(( (BENCH_DLR_MASK & 8 ? 1 : 0) + (BENCH_DLR_MASK & 1 ? 1 : 0) ))
}

# bench_get PORT PATH: GET http://127.0.0.1:PORT/PATH with bash's own
# /dev/tcp, its lines in BENCH_LINES.  Polled every few milliseconds while
# the boxes work: it must start no process.
bench_get()
{
	local fd line

	BENCH_LINES=()
	exec {fd}<>"/dev/tcp/127.0.0.1/$1" 2>/dev/null || return 1
	printf 'GET %s HTTP/1.0\r\n\r\n' "$2" >&"$fd"
	while IFS= read -r -t 2 -u "$fd" line; do
		BENCH_LINES+=("${line%$'\r'}")
	done
	exec {fd}>&-
	[ "${#BENCH_LINES[@]}" -gt 0 ]
}

# bench_bb_counts: BB_STORE, what bearerbox still holds in its store (MOs
# and DLRs a box has not acked, MTs an SMSC has not taken), and BB_DLR_IN,
# the DLRs it has received, from its status page.
bench_bb_counts()
{
	local line

	BB_STORE='' BB_DLR_IN=''
	bench_get "$BB_ADMIN_PORT" "/status.txt?password=$BB_PASSWORD" ||
	    return 1
	for line in "${BENCH_LINES[@]}"; do
		case $line in
		"SMS: received "*"store size "*)
			BB_STORE=${line##*store size }
			BB_STORE=${BB_STORE%%[!0-9]*} ;;
		"DLR: received "*)
			BB_DLR_IN=${line#DLR: received }
			BB_DLR_IN=${BB_DLR_IN%%[!0-9]*} ;;
		esac
	done
	[ -n "$BB_STORE" ] && [ -n "$BB_DLR_IN" ]
}

# bench_sink_count: SINK_COUNT, the fetches dlrsink has answered so far.
bench_sink_count()
{
	local line

	SINK_COUNT=
	bench_get "$BENCH_SINK_PORT" /count || return 1
	for line in "${BENCH_LINES[@]}"; do
		case $line in
		"requests "*) SINK_COUNT=${line#requests } ;;
		esac
	done
	[ -n "$SINK_COUNT" ]
}

# bench_wait_complete DLRS FETCHES SECONDS: after the last reply, wait
# until the work of the round trips is done: bearerbox has received the
# DLRS delivery reports the MTs asked for, and its store is empty (the box
# acked every MO and every DLR, and marketbox acks only what it has
# committed); for smsbox (FETCHES not empty), dlrsink has also answered
# that many fetches of smsbox's dlr-url.  Polled every 10 ms, at most
# SECONDS.  BENCH_DONE: when it was seen.
bench_wait_complete()
{
	local dlrs=$1 fetches=$2 limit=$3 fifo=$T/tick.fifo tick i

	BENCH_DONE=
	rm -f "$fifo"
	mkfifo "$fifo" || return 1
	# A FIFO open for reading and writing that nobody writes: read -t
	# on it sleeps without starting a process.
	exec {tick}<>"$fifo"
	for ((i = 0; i < limit * 100; i++)); do
		if bench_bb_counts && [ "$BB_STORE" -eq 0 ] &&
		    [ "$BB_DLR_IN" -ge "$dlrs" ] &&
		    { [ -z "$fetches" ] ||
		    { bench_sink_count && [ "$SINK_COUNT" -ge "$fetches" ]; }; }
		then
			BENCH_DONE=$EPOCHREALTIME
			break
		fi
		read -r -t 0.01 -u "$tick" _
	done
	exec {tick}>&-
	rm -f "$fifo"
	[ -n "$BENCH_DONE" ]
}

# bench_sink_start SECONDS: dlrsink on BENCH_SINK_PORT, which stops by
# itself after SECONDS; 0 once it listens (5 s).
bench_sink_start()
{
	"$DLRSINK" -p "$BENCH_SINK_PORT" -t "$1" > "$T/dlrsink.out" \
	    2> "$T/dlrsink.err" &
	DS_PID=$!
	wait_until 5 port_listening "$BENCH_SINK_PORT"
}

# bench_sink_stop: stop dlrsink; RUN_DLRS, the requests it answered, and
# RUN_DLR_DETAIL, their count by DLR event, from the line it prints.
bench_sink_stop()
{
	local line

	[ -n "$DS_PID" ] || return 0
	proc_stop "$DS_PID" TERM 3
	DS_PID=
	line=$(grep '^requests ' "$T/dlrsink.out")
	RUN_DLRS=$(awk '{ print $2 }' <<< "$line")
	: "${RUN_DLRS:=0}"
	RUN_DLR_DETAIL=$(sed 's/^requests [0-9]* *//; s/ *other 0$//' \
	    <<< "$line")
}

# bench_marketbox_dlrs: once marketbox has stopped, RUN_DLRS, its MTs with
# a DLR state, and RUN_DLR_DETAIL, their count by state, from its database.
bench_marketbox_dlrs()
{
	RUN_DLRS=$(db "SELECT COUNT(dlr_state) FROM outbox") || RUN_DLRS=
	RUN_DLR_DETAIL=$(db "SELECT dlr_state, COUNT(*) FROM outbox
	    WHERE dlr_state IS NOT NULL GROUP BY dlr_state
	    ORDER BY dlr_state" | tr '|\n' '  ')
	RUN_DLR_DETAIL=${RUN_DLR_DETAIL% }
}

# bench_bearerbox_start: bearerbox on $T/kannel.conf (stderr: warnings).
bench_bearerbox_start()
{
	"$BEARERBOX" -v 2 "$T/kannel.conf" >> "$T/bearerbox.out" 2>&1 &
	BB_PID=$!
	if ! wait_until 10 bearerbox_ready; then
		echo "bearerbox did not come up (see $T)" >&2
		return 1
	fi
}

# bench_box_listed ID: bearerbox's status page lists the box ID.
bench_box_listed()
{
	bearerbox_status | grep -q "smsbox:$1"
}

bench_smsbox_connected()
{
	proc_alive "$SB_PID" && bench_box_listed smsbox
}

# bench_marketbox_connected: every instance is alive, and bearerbox lists
# as many boxes named marketbox.
bench_marketbox_connected()
{
	local pid

	for pid in "${MB_PIDS[@]}"; do
		proc_alive "$pid" || return 1
	done
	[ "$(bearerbox_status | grep -c 'smsbox:marketbox')" -ge \
	    "${#MB_PIDS[@]}" ]
}

# bench_smsbox_start: Kannel's smsbox on $T/kannel.conf, connected (15 s).
bench_smsbox_start()
{
	"$SMSBOX" -v 2 "$T/kannel.conf" >> "$T/smsbox.out" 2>&1 &
	SB_PID=$!
	wait_until 15 bench_smsbox_connected
}

bench_smsbox_stop()
{
	[ -n "$SB_PID" ] || return 0
	proc_stop "$SB_PID" TERM 5
	SB_PID=
}

# bench_marketbox_conf: the integration tests' marketbox conf, with the
# bench's log level and dlr-mask (the one smsbox asks for too), and the
# database in this run's $T.
bench_marketbox_conf()
{
	local k

	# A fresh database for each run on PostgreSQL, named after it; the
	# last run's goes (kept with KEEP=1, until the server stops).
	pg_db_drop
	MB_TEST_STORE=$BENCH_STORE
	integ_pg && INTEG_NAME=bench_${T##*/}
	marketbox_conf_write || return 1
	sed -i "s/^log-level = .*/log-level = $BENCH_LOG_LEVEL/" "$MB_CONF"
	# The bench runs as root (CI does): marketbox refuses that unless told.
	grep -q '^run-as-root' "$MB_CONF" ||
	    sed -i '/^group = marketbox$/a run-as-root = yes' "$MB_CONF"
	if [ -n "$BENCH_DLR_MASK" ]; then
		sed -i "/^log-level = /a dlr-mask = $BENCH_DLR_MASK" "$MB_CONF"
	fi
	# fakesmsc's random phones now and then give one number twice within
	# seconds; with the same text marketbox rightly leaves the second
	# unanswered (repeat-window), and the run would wait for a reply that
	# never comes.  The check costs about 2% of marketbox's CPU.
	sed -i "/^log-level = /a repeat-window = 0" "$MB_CONF"
	if [ -n "${BENCH_COMMIT_DELAY:-}" ]; then
		sed -i "/^log-level = /a commit-delay = $BENCH_COMMIT_DELAY" \
		    "$MB_CONF"
	fi
	[ -n "$BENCH_INSTANCE_KEY" ] || bench_probe_instance_key
	# Instance k: the same conf, its own log file and instance name.
	for k in $(seq 1 "$BENCH_INSTANCES"); do
		sed "s|^log-file = .*|log-file = $T/marketbox-$k.log|" \
		    "$MB_CONF" > "$T/marketbox-$k.conf" || return 1
		[ "$BENCH_INSTANCE_KEY" = yes ] &&
		    sed -i "/^group = marketbox\$/a instance = bench-$k" \
		    "$T/marketbox-$k.conf"
	done
	return 0
}

# bench_probe_instance_key: BENCH_INSTANCE_KEY, yes when this marketbox
# takes the conf key "instance" (marketbox -n on a copy of MB_CONF with
# the key, on a SQLite file, which -n does not open), no otherwise: the
# bench runs several instances either way, named only when it can.
bench_probe_instance_key()
{
	local probe=$BENCH_T/instance-probe.conf

	sed -e "s|^database = .*|database = \"$BENCH_T/probe.db\"|" \
	    -e "/^group = marketbox\$/a instance = bench-probe" \
	    "$MB_CONF" > "$probe" || return 1
	if "$MARKETBOX" -n "$probe" > "$BENCH_T/instance-probe.out" 2>&1; then
		BENCH_INSTANCE_KEY=yes
	else
		BENCH_INSTANCE_KEY=no
	fi
}

# bench_marketbox_start: BENCH_INSTANCES marketbox processes, instance k
# on $T/marketbox-k.conf, stderr at warning level (marketbox-k.stderr);
# MB_PIDS their pids, MB_PID the first's.
bench_marketbox_start()
{
	local k

	MB_PIDS=()
	for k in $(seq 1 "$BENCH_INSTANCES"); do
		"$MARKETBOX" -v 2 "$T/marketbox-$k.conf" \
		    >> "$T/marketbox-$k.stdout" 2>> "$T/marketbox-$k.stderr" &
		MB_PIDS+=("$!")
	done
	MB_PID=${MB_PIDS[0]}
}

# bench_marketbox_stop: stop every instance (SIGTERM, 5 s each).
bench_marketbox_stop()
{
	local pid

	for pid in "${MB_PIDS[@]}"; do
		proc_stop "$pid" TERM 5
	done
	MB_PIDS=() MB_PID=
}

# bench_marketbox_ticks: CPU ticks of all the instances so far.
bench_marketbox_ticks()
{
	local pid t=0 v

	for pid in "${MB_PIDS[@]}"; do
		v=$(bench_cpu_ticks "$pid") && t=$((t + v))
	done
	echo "$t"
}

# bench_marketbox_hwm_kib: the largest peak RSS of the instances.
bench_marketbox_hwm_kib()
{
	local pid

	for pid in "${MB_PIDS[@]}"; do
		bench_hwm_kib "$pid"
	done | sort -n | tail -n 1
}

# bench_marketbox_outside_task: print the instances' log lines that say a
# statement ran outside a task (on PostgreSQL a bug, see store.h).
bench_marketbox_outside_task()
{
	local lines

	lines=$(grep -h 'outside a task' "$T"/marketbox-*.log \
	    "$T"/marketbox-*.stderr 2>/dev/null | head -n 3)
	[ -n "$lines" ] && printf '%s\n' "$lines"
}

# bench_wait_replies N SECONDS: wait until the phones (fakesmsc, run with
# -v 1 so that only its Nth reply is logged, as "Got message N: <...>")
# have N replies.  Reads the log as it grows through tail -f (inotify),
# through a FIFO so that tail's pid is known: no polling, so the wait costs
# next to no CPU and ends within a few ms of the Nth reply.  Sets BENCH_END
# (bench_now at the Nth reply); 0 when it came.
bench_wait_replies()
{
	local n=$1 limit=$2 fifo=$T/replies.fifo rc

	rm -f "$fifo"
	mkfifo "$fifo" || return 1
	# -F: the log may not exist yet (fakesmsc's redirection is done in
	# its own process); tail waits for it rather than giving up.
	tail -n +1 -F "$PHONE_LOG" > "$fifo" 2>/dev/null &
	BENCH_TAIL_PID=$!
	# In the background, so that a signal to the script is acted on at
	# once (bash runs traps only between foreground commands).
	timeout "$limit" grep -q -m 1 "Got message $n: " < "$fifo" &
	BENCH_GREP_PID=$!
	wait "$BENCH_GREP_PID"
	rc=$?
	BENCH_END=$(bench_now)
	BENCH_GREP_PID=
	bench_wait_stop
	rm -f "$fifo"
	return "$rc"
}

# bench_wait_stop: stop what bench_wait_replies left running.
bench_wait_stop()
{
	if [ -n "$BENCH_GREP_PID" ]; then
		kill "$BENCH_GREP_PID" 2>/dev/null
		wait "$BENCH_GREP_PID" 2>/dev/null
		BENCH_GREP_PID=
	fi
	if [ -n "$BENCH_TAIL_PID" ]; then
		kill "$BENCH_TAIL_PID" 2>/dev/null
		wait "$BENCH_TAIL_PID" 2>/dev/null
		BENCH_TAIL_PID=
	fi
}

# bench_kannel_run BOX N TIMEOUT NAME: one measured run through bearerbox
# with BOX (smsbox or marketbox) answering: fakesmsc sends N MOs from
# varied phones at once (-i 0) and the clock runs from its start to its Nth
# reply.  With a dlr-mask, smsbox's DLR fetches go to a dlrsink of the
# run's own.  Fills the RUN_* globals; 0 when all N were answered.
bench_kannel_run()
{
	local box=$1 n=$2 limit=$3 name=$4 pid bb0 bb1 box0 box1 start
	local bbe boxe fk stat0 stat1 ds0=0 dse=0 ds1=0 per pg0 pge pg1 log0

	RUN_OK=0 RUN_RATE=0 RUN_SECONDS=0 RUN_BOX_US=0 RUN_BB_US=0
	RUN_PG_US=0 RUN_MTS='' RUN_PG_XACTS='' RUN_PG_STMTS=''
	RUN_RSS_MIB=0 RUN_BUSY_PCT=0 RUN_OTHERS_PCT=0 RUN_FAKESMSC_US=0
	RUN_DLRS='' RUN_DLR_EXPECT='' RUN_DLR_DETAIL='' RUN_SINK_US=0
	RUN_DONE_SECONDS=0 RUN_DONE_RATE=0
	bench_run_dir "$name" || return 1
	BENCH_SINK_PORT=
	if [ "$BENCH_DLR_MASK" != 0 ]; then
		# smsbox: a fetch per DLR; marketbox: a DLR state per MT.
		per=$(bench_dlr_per_mt)
		RUN_DLR_EXPECT=$((n * per))
		[ "$box" = marketbox ] && RUN_DLR_EXPECT=$((per > 0 ? n : 0))
		if [ "$box" = smsbox ]; then
			port_pick BENCH_SINK_PORT || return 1
			# It outlives the run's clock and bench_settle (limit
			# each at most), but not the bench by long.
			if ! bench_sink_start "$((2 * limit + 60))"; then
				echo "dlrsink does not listen (see $T)" >&2
				return 1
			fi
		fi
	fi
	bench_kannel_conf_write "$box"
	log0=$(bench_pg_log_lines)
	bench_bearerbox_start || return 1
	if [ "$box" = smsbox ]; then
		bench_smsbox_start || {
			echo "smsbox does not connect (see $T)" >&2
			return 1
		}
		pid=$SB_PID
	else
		bench_marketbox_conf || return 1
		bench_marketbox_start
		wait_until 15 bench_marketbox_connected || {
			echo "marketbox does not connect (see $T)" >&2
			return 1
		}
		pid=
	fi
	# bearerbox waits a second after a box connects before it serves it;
	# let that pass so the clock measures traffic only.
	sleep 1.5

	bb0=$(bench_cpu_ticks "$BB_PID")
	box0=$(bench_box_ticks "$pid")
	pg0=$(bench_pg_ticks)
	[ -n "$DS_PID" ] && ds0=$(bench_cpu_ticks "$DS_PID")
	stat0=$(bench_machine_ticks)
	start=$(bench_now)
	# -v 1: fakesmsc logs only its Nth reply, not every message (its
	# own logging would otherwise cost as much CPU as a box).
	phone_start -v 1 -i 0 -m "$n" -z 1 \
	    "$BENCH_SENDER $BENCH_SHORTCODE text $BENCH_TEXT"
	if bench_wait_replies "$n" "$limit"; then
		RUN_OK=1
		RUN_SECONDS=$(bench_calc "$BENCH_END - $start")
		RUN_RATE=$(bench_calc "$n / $RUN_SECONDS")
		# With DLRs, the round trips are complete once their DLRs
		# are handled too (smsbox acks a DLR at once and fetches its
		# URL later; marketbox acks it once it is on disk).
		if [ -n "$RUN_DLR_EXPECT" ]; then
			per=$(bench_dlr_per_mt)
			if bench_wait_complete "$((n * per))" \
			    "$([ "$box" = smsbox ] && echo "$((n * per))")" \
			    "$limit"; then
				RUN_DONE_SECONDS=$(bench_calc "$BENCH_DONE - $start")
				RUN_DONE_RATE=$(bench_calc "$n / $RUN_DONE_SECONDS")
			else
				echo "$box: the DLRs were not all handled in" \
				    "$limit s (see $T)" >&2
				KEEP=1
			fi
		fi
	fi
	# What else ran on the machine meanwhile: the figures are only worth
	# something when RUN_OTHERS_PCT is small.
	stat1=$(bench_machine_ticks)
	bbe=$(bench_cpu_ticks "$BB_PID")
	boxe=$(bench_box_ticks "$pid")
	pge=$(bench_pg_ticks)
	fk=$(bench_cpu_ticks "$PHONE_PID")
	[ -n "$DS_PID" ] && dse=$(bench_cpu_ticks "$DS_PID")
	# dlrsink plays smsbox's application, the PostgreSQL server is
	# marketbox's store: neither is another program's load.
	bench_machine_load "$stat0" "$stat1" \
	    "$(( bbe - bb0 + boxe - box0 + ${fk:-0} + ${dse:-0} - ds0 + pge - pg0 ))"
	RUN_FAKESMSC_US=$(bench_us_per_msg "${fk:-0}" "$n")
	# DLRs still come after the last reply: wait for smsbox's fetches too.
	if [ "$box" = smsbox ]; then
		bench_settle "$limit" "$BB_PID" "$pid" ${DS_PID:+"$DS_PID"}
	else
		bench_settle "$limit" "$BB_PID" "${MB_PIDS[@]}"
	fi
	bb1=$(bench_cpu_ticks "$BB_PID")
	box1=$(bench_box_ticks "$pid")
	pg1=$(bench_pg_ticks)
	[ -n "$DS_PID" ] && ds1=$(bench_cpu_ticks "$DS_PID")
	RUN_BB_US=$(bench_us_per_msg "$((bb1 - bb0))" "$n")
	RUN_BOX_US=$(bench_us_per_msg "$((box1 - box0))" "$n")
	RUN_PG_US=$(bench_us_per_msg "$((pg1 - pg0))" "$n")
	RUN_SINK_US=$(bench_us_per_msg "$((${ds1:-0} - ds0))" "$n")
	if [ "$box" = smsbox ]; then
		RUN_RSS_MIB=$(bench_calc "$(bench_hwm_kib "$pid") / 1024")
	else
		RUN_RSS_MIB=$(bench_calc "$(bench_marketbox_hwm_kib) / 1024")
	fi

	phone_stop
	RUN_MTS=$(sed -n 's/.*fakesmsc: [0-9]* messages sent and \([0-9]*\) received.*/\1/p' \
	    "$PHONE_LOG" | tail -n 1)
	if [ "$RUN_OK" != 1 ]; then
		# fakesmsc's own count, printed when it stops.
		echo "$box: not $n replies in $limit s:" \
		    "$(sed -n 's/.*fakesmsc: \([0-9]* messages sent and [0-9]* received\)/\1/p' \
		    "$PHONE_LOG") (see $T)" >&2
		KEEP=1
	fi
	if [ "$box" = smsbox ]; then
		bench_smsbox_stop
		bench_sink_stop
	else
		bench_marketbox_stop
		[ "$BENCH_DLR_MASK" != 0 ] && bench_marketbox_dlrs
		bench_marketbox_outside_task >&2 && KEEP=1
		integ_pg && bench_pg_counts "$n" "$log0"
	fi
	bearerbox_stop
	[ "$RUN_OK" = 1 ]
}

# bench_box_ticks PID: CPU ticks of the box PID, or with PID empty, of all
# the marketbox instances.
bench_box_ticks()
{
	if [ -n "$1" ]; then
		bench_cpu_ticks "$1"
	else
		bench_marketbox_ticks
	fi
}

# bench_dlrs_ok: the run's box handled the delivery reports it asked for
# (true when it asked for none): at least 95% of RUN_DLR_EXPECT, and not
# more than that.
bench_dlrs_ok()
{
	[ -z "$RUN_DLR_EXPECT" ] && return 0
	[ -n "$RUN_DLRS" ] || return 1
	[ $((RUN_DLRS * 100)) -ge $((RUN_DLR_EXPECT * 95)) ] &&
	    [ "$RUN_DLRS" -le "$RUN_DLR_EXPECT" ]
}

# --- direct: boxload plays bearerbox ----------------------------------------

# bench_direct_run N WINDOW TIMEOUT NAME [BOXLOAD-ARGS...]: BENCH_INSTANCES
# marketbox instances connected to boxload, which sends N MOs over them,
# with at most WINDOW unacked per instance.  RUN_LINE is boxload's RESULT
# line; RUN_RATE its MO/s acked.
bench_direct_run()
{
	local n=$1 window=$2 limit=$3 name=$4 box0 box1 pg0 pg1 log0
	shift 4

	RUN_OK=0 RUN_RATE=0 RUN_BOX_US=0 RUN_RSS_MIB=0 RUN_LINE='' RUN_PG_US=0
	RUN_MTS='' RUN_PG_XACTS='' RUN_PG_STMTS=''
	bench_run_dir "$name" || return 1
	log0=$(bench_pg_log_lines)
	# -S: half a second between the identify and the first MO, to read
	# marketbox's CPU time once its start-up is done.
	"$BOXLOAD" -p "$BB_SMSBOX_PORT" -b "$BENCH_INSTANCES" -n "$n" \
	    -w "$window" -t "$limit" \
	    -S 500 -v -T "$BENCH_TEXT" "$@" > "$T/boxload.out" \
	    2> "$T/boxload.err" &
	BL_PID=$!
	if ! wait_until 5 port_listening "$BB_SMSBOX_PORT"; then
		echo "boxload does not listen (see $T)" >&2
		return 1
	fi
	# marketbox's conf points at boxload as at a bearerbox.
	bench_marketbox_conf || return 1
	bench_marketbox_start
	if ! wait_until 15 bench_boxload_identified; then
		echo "marketbox does not connect to boxload (see $T)" >&2
		return 1
	fi
	box0=$(bench_marketbox_ticks)
	pg0=$(bench_pg_ticks)
	wait "$BL_PID"
	RUN_OK=$(( $? == 0 ))
	BL_PID=
	box1=$(bench_marketbox_ticks)
	pg1=$(bench_pg_ticks)
	RUN_BOX_US=$(bench_us_per_msg "$((${box1:-0} - box0))" "$n")
	RUN_PG_US=$(bench_us_per_msg "$((pg1 - pg0))" "$n")
	RUN_RSS_MIB=$(bench_calc "$(bench_marketbox_hwm_kib) / 1024")
	bench_marketbox_stop
	bench_marketbox_outside_task >&2 && KEEP=1
	integ_pg && bench_pg_counts "$n" "$log0"
	RUN_LINE=$(grep '^RESULT ' "$T/boxload.out")
	RUN_RATE=$(bench_result ack_rate)
	RUN_MTS=$(bench_result mts)
	if [ "$RUN_OK" != 1 ]; then
		echo "$(head -n 2 "$T/boxload.out") (see $T)" >&2
		KEEP=1
	fi
	[ "$RUN_OK" = 1 ]
}

# bench_boxload_identified: every instance has identified itself to
# boxload (one "identified" line each).
bench_boxload_identified()
{
	[ "$(grep -c identified "$T/boxload.err")" -ge "$BENCH_INSTANCES" ]
}

# bench_result KEY: a value of RUN_LINE.
bench_result()
{
	tr ' ' '\n' <<< "$RUN_LINE" | sed -n "s/^$1=//p"
}
