# tests/integration/lib.sh - the harness for marketbox's integration tests
# and for scripts/demo: a real Kannel bearerbox on loopback, marketbox
# connected to it, and Kannel's own fakesmsc as the phone network.
#
# Sourced by bash scripts (it uses bash features: /dev/tcp, printf -v,
# RANDOM).  The environment gives the programs, as `make check` exports them:
#
#	top_builddir	the build tree: $top_builddir/src/marketbox is run
#	top_srcdir	the source tree
#	BEARERBOX	Kannel's bearerbox (empty: the tests are skipped)
#	FAKESMSC	Kannel's test/fakesmsc (empty: the tests are skipped)
#	KEEP=1		keep the run's temporary directory (logs, databases)
#	MB_TEST_STORE	sqlite (the default): marketbox on a SQLite file in
#			$T; postgresql: on a database made for the run on
#			the server MB_TEST_PG names (a libpq conninfo, as
#			tests/pg/server.sh prints it), dropped at exit
#
# What a test gets (each function has its contract above its body):
#
#	integ_require_kannel	prints the TAP "1..0 # SKIP ..." and exits 0
#				when bearerbox, fakesmsc or sqlite3 (psql on
#				PostgreSQL) is missing
#	integ_pg		true when the run is on PostgreSQL
#	integ_skip_on_pg WHY	the whole test skipped (TAP) on PostgreSQL
#	integ_init NAME		private temp dir $T, $MARKETBOX, and the EXIT
#				trap that stops every process started here
#				(bounded waits), frees the ports, and shows
#				the logs' ends when something failed
#	tap_plan, tap_ok, tap_is, tap_skip, tap_diag, tap_bail, tap_end,
#	TAP_TODO		TAP output (TAP_TODO marks a known bug)
#	port_pick, http_get, proc_alive, proc_stop, wait_until SECONDS CMD...
#	kannel_conf_write, bearerbox_start, bearerbox_stop, bearerbox_kill,
#	bearerbox_status, bearerbox_received
#	marketbox_conf_write, marketbox_start, marketbox_wait_connected,
#	marketbox_connected, marketbox_stop, marketbox_kill,
#	marketbox_sanitizer_report, marketbox_outside_task
#	MB_STORE_THREAD=1	marketbox runs its store's work on the task
#				thread (SQLite too); a statement outside a
#				task in its log fails the test (always so
#				on PostgreSQL)
#	db SQL			SQL on marketbox's database (sqlite3, or psql
#				printing as sqlite3 does: NULL empty,
#				columns joined by '|')
#	db_join SEP SQL		db's rows joined by SEP on one line
#	db_integrity DESC	one TAP test: PRAGMA integrity_check on
#				SQLite, skipped on PostgreSQL
#	db_schema_version	the core schema's version
#	phone_send, phone_batch, phone_stop, phone_sent_count,
#	phone_expect, phone_expect_text, phone_expect_count,
#	phone_mts, phone_mt_raw, phone_texts, phone_mt_count
#	day_begin, play DAY	a day of SMS checked step by step (its
#				section: run_step, render, phones_match,
#				phones_have_all, last_code)
#	point_day_start PW	marketbox with the market plugins and the
#				shipped catalogue, its admin interface, on
#				a bearerbox, and the day begun (the start of
#				service-point.sh and cooperative-day.sh)
#	ctl, point_agent_add	marketctl, and an agent of Kiambogo point
#
# Everything listens on 127.0.0.1 only.  Every wait is bounded.

# shellcheck shell=bash disable=SC2034
# (variables set here are used by the scripts that source this file)

# --- TAP ------------------------------------------------------------------

TAP_N=0
TAP_FAILED=0
TAP_PLANNED=

# tap_plan N: print the plan (once, before the first test).
tap_plan()
{
	TAP_PLANNED=$1
	echo "1..$1"
}

# tap_ok DESC CMD...: one test, passing when CMD succeeds.
tap_ok()
{
	local desc=$1
	shift
	if "$@"; then
		tap_result 0 "$desc"
	else
		tap_result 1 "$desc"
	fi
}

# tap_is GOT WANT DESC: one test, passing when the two strings are equal.
tap_is()
{
	if [ "$1" = "$2" ]; then
		tap_result 0 "$3"
	else
		tap_result 1 "$3"
		tap_diag "got:  '$1'"
		tap_diag "want: '$2'"
	fi
}

# tap_result STATUS DESC: print ok/not ok for a status computed elsewhere.
# When TAP_TODO is set, the result is marked "# TODO $TAP_TODO" (a known
# bug: its failure does not fail the run, its success shows as XPASS) and
# TAP_TODO is cleared.
TAP_TODO=
tap_result()
{
	local todo=

	TAP_N=$((TAP_N + 1))
	[ -n "$TAP_TODO" ] && todo=" # TODO $TAP_TODO"
	if [ "$1" -eq 0 ]; then
		echo "ok $TAP_N - $2$todo"
	else
		[ -n "$todo" ] || TAP_FAILED=$((TAP_FAILED + 1))
		echo "not ok $TAP_N - $2$todo"
	fi
	TAP_TODO=
}

# tap_skip DESC REASON: a test that cannot run here.
tap_skip()
{
	TAP_N=$((TAP_N + 1))
	echo "ok $TAP_N - $1 # SKIP $2"
}

tap_diag()
{
	local line

	printf '%s\n' "$*" | while IFS= read -r line; do
		echo "# $line"
	done
}

# tap_bail REASON: the rest cannot run (set-up failed).  Exits.
tap_bail()
{
	echo "Bail out! $*"
	TAP_FAILED=$((TAP_FAILED + 1))
	exit 1
}

# tap_end: exit with 0 when every planned test ran and passed.
tap_end()
{
	if [ -n "$TAP_PLANNED" ] && [ "$TAP_N" -ne "$TAP_PLANNED" ]; then
		tap_diag "planned $TAP_PLANNED tests, ran $TAP_N"
		TAP_FAILED=$((TAP_FAILED + 1))
	fi
	[ "$TAP_FAILED" -eq 0 ] && exit 0
	exit 1
}

# --- set-up and teardown ------------------------------------------------------

INTEG_NAME=
T=
INTEG_PORTS=
BB_PID=
MB_PID=
PHONE_PID=
PHONE_SESSION=0
MB_EXIT=
MB_STARTS=0
PORT_LOCKDIR=${TMPDIR:-/tmp}/marketbox-integ-ports
MB_TEST_STORE=${MB_TEST_STORE:-sqlite}
INTEG_PG_DB=

# integ_require_kannel: skip the whole test (TAP) without bearerbox and
# fakesmsc (Debian's kannel and kannel-extras packages), or without the
# sqlite3 program the tests read marketbox's database with.
integ_require_kannel()
{
	if [ -z "$BEARERBOX" ] || [ ! -x "$BEARERBOX" ]; then
		echo "1..0 # SKIP bearerbox not found"
		exit 0
	fi
	if [ -z "$FAKESMSC" ] || [ ! -x "$FAKESMSC" ]; then
		echo "1..0 # SKIP fakesmsc not found"
		exit 0
	fi
	case $MB_TEST_STORE in
	sqlite)
		if ! command -v sqlite3 >/dev/null 2>&1; then
			echo "1..0 # SKIP sqlite3 not found"
			exit 0
		fi
		;;
	postgresql)
		integ_require_pg
		;;
	*)
		echo "Bail out! MB_TEST_STORE=$MB_TEST_STORE: sqlite or postgresql"
		exit 1
		;;
	esac
}

# integ_require_pg: a server to make the run's database on (MB_TEST_PG)
# and psql.  Without them the test is skipped, except under CI, where a
# PostgreSQL pass that tests nothing must not pass: it fails.
integ_require_pg()
{
	local why=

	if [ -z "${MB_TEST_PG:-}" ]; then
		why="MB_TEST_PG is not set (tests/pg/server.sh start gives one)"
	elif ! command -v psql >/dev/null 2>&1; then
		why="psql not found"
	else
		return 0
	fi
	if [ -n "${CI:-}" ]; then
		echo "Bail out! MB_TEST_STORE=postgresql: $why"
		exit 1
	fi
	echo "1..0 # SKIP MB_TEST_STORE=postgresql: $why"
	exit 0
}

# integ_pg: the run is on PostgreSQL.
integ_pg()
{
	[ "$MB_TEST_STORE" = postgresql ]
}

# integ_skip_on_pg WHY: on PostgreSQL, skip the whole test (TAP) because
# WHY (what it tests is SQLite's: files, the VFS).  Before tap_plan.
integ_skip_on_pg()
{
	integ_pg || return 0
	echo "1..0 # SKIP on PostgreSQL: $*"
	exit 0
}

# integ_init NAME: the run's directory $T, the marketbox program $MARKETBOX,
# and the trap that stops everything at exit.
integ_init()
{
	INTEG_NAME=$1
	: "${top_builddir:=.}"
	: "${top_srcdir:=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}"
	MARKETBOX=$top_builddir/src/marketbox
	T=$(mktemp -d "${TMPDIR:-/tmp}/marketbox-$INTEG_NAME.XXXXXX") || {
		echo "cannot make a temporary directory" >&2
		exit 1
	}
	trap integ_teardown EXIT
	# sort, comm, grep and awk compare bytes, whatever the user's locale.
	export LC_ALL=C
	trap 'exit 130' INT
	trap 'exit 143' TERM HUP
	# A sanitizer build reports into marketbox's stderr; tests fail on it.
	export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1}
	export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1}
}

# Runs at exit, whatever happened: stop the phone, marketbox, bearerbox (in
# that order, each with a bounded wait), release the ports, show the logs'
# ends when something failed, and remove $T unless KEEP=1.
integ_teardown()
{
	local rc=$? f p

	trap - EXIT INT TERM HUP
	phone_stop
	[ -n "$MB_PID" ] && proc_stop "$MB_PID" TERM 5
	MB_PID=
	[ -n "$BB_PID" ] && proc_stop "$BB_PID" TERM 10
	BB_PID=
	for p in $INTEG_PORTS; do
		rm -rf "${PORT_LOCKDIR:?}/$p"
	done
	# A path to the store that is not a task fails the test, whichever.
	if [ -n "$T" ] && [ -d "$T" ] && marketbox_outside_task >/dev/null
	then
		tap_diag "marketbox ran statements outside a task:"
		tap_diag "$(marketbox_outside_task | head -n 5)"
		[ "$rc" -ne 0 ] || rc=1
	fi
	pg_db_drop
	if [ -n "$T" ] && [ -d "$T" ]; then
		if [ "$TAP_FAILED" -ne 0 ] || [ "$rc" -ne 0 ]; then
			for f in "$T"/marketbox.stderr "$T"/marketbox.log \
			    "$T"/bearerbox.log "$T"/bearerbox.out; do
				[ -s "$f" ] || continue
				tap_diag "--- last lines of $f"
				tap_diag "$(tail -n 15 "$f")"
			done
		fi
		if [ "${KEEP:-0}" = 1 ]; then
			echo "# kept $T" >&2
		else
			rm -rf "$T"
		fi
	fi
	exit "$rc"
}

# proc_alive PID: the process exists and is not a zombie.
proc_alive()
{
	local s

	[ -r "/proc/$1/stat" ] || return 1
	s=$(cat "/proc/$1/stat" 2>/dev/null) || return 1
	s=${s##*) }
	[ "${s%% *}" != Z ]
}

# proc_stop PID SIGNAL GRACE: send SIGNAL, wait up to GRACE seconds, then
# SIGKILL.  PROC_STATUS is the exit status (128+n when killed by signal n).
# Returns 0 if it stopped within GRACE, 1 if it had to be killed.  PID must
# be a child of this shell (not called from a $(...) subshell).
PROC_STATUS=
proc_stop()
{
	local pid=$1 sig=$2 grace=$3 i rc=0

	kill -"$sig" "$pid" 2>/dev/null
	kill -CONT "$pid" 2>/dev/null	# in case a test froze it
	i=0
	while proc_alive "$pid" && [ "$i" -lt $((grace * 10)) ]; do
		sleep 0.1
		i=$((i + 1))
	done
	if proc_alive "$pid"; then
		kill -KILL "$pid" 2>/dev/null
		rc=1
	fi
	wait "$pid" 2>/dev/null
	PROC_STATUS=$?
	return "$rc"
}

# wait_until SECONDS CMD...: run CMD every 0.1 s until it succeeds (0) or
# SECONDS have passed (1).
wait_until()
{
	local limit=$1 end
	shift
	end=$((SECONDS + limit))
	while :; do
		"$@" && return 0
		[ "$SECONDS" -ge "$end" ] && return 1
		sleep 0.1
	done
}

# --- ports ------------------------------------------------------------------

# port_in_use PORT: any TCP socket (IPv4 or IPv6) has it as its local port.
# Reads /proc/net/tcp*, so no ss or netstat is needed.
port_in_use()
{
	local hex

	hex=$(printf '%04X' "$1")
	grep -qE "^ *[0-9]+: [0-9A-F]+:$hex " /proc/net/tcp /proc/net/tcp6 \
	    2>/dev/null
}

# port_listening PORT: something listens on it.
port_listening()
{
	local hex

	hex=$(printf '%04X' "$1")
	grep -qE "^ *[0-9]+: [0-9A-F]+:$hex [0-9A-F]+:[0-9A-F]+ 0A " \
	    /proc/net/tcp /proc/net/tcp6 2>/dev/null
}

# port_pick VAR: a free port in 20000-60000, stored in VAR.  Parallel tests
# reserve their ports with a lock directory (atomic mkdir), freed at exit;
# a lock whose owner is gone is taken over.
port_pick()
{
	local p i owner

	mkdir -p "$PORT_LOCKDIR" 2>/dev/null
	for i in $(seq 1 200); do
		p=$((20000 + (RANDOM * 32768 + RANDOM) % 40001))
		port_in_use "$p" && continue
		if ! mkdir "$PORT_LOCKDIR/$p" 2>/dev/null; then
			owner=$(cat "$PORT_LOCKDIR/$p/pid" 2>/dev/null)
			[ -n "$owner" ] && kill -0 "$owner" 2>/dev/null && continue
			rm -rf "${PORT_LOCKDIR:?}/$p"
			mkdir "$PORT_LOCKDIR/$p" 2>/dev/null || continue
		fi
		echo $$ > "$PORT_LOCKDIR/$p/pid"
		INTEG_PORTS="$INTEG_PORTS $p"
		printf -v "$1" '%s' "$p"
		return 0
	done
	echo "no free port found" >&2
	return 1
}

# --- HTTP -----------------------------------------------------------------------

# http_get PORT PATH: the body of GET http://127.0.0.1:PORT/PATH on stdout,
# with bash's /dev/tcp (no curl needed).  1 when nothing answered.  5 s max.
http_get()
{
	timeout 5 bash -c '
		exec 3<>"/dev/tcp/127.0.0.1/$1" || exit 1
		printf "GET %s HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n" "$2" >&3
		cat <&3' _ "$1" "$2" 2>/dev/null | sed '1,/^\r\{0,1\}$/d'
	[ "${PIPESTATUS[0]}" -eq 0 ]
}

# --- bearerbox ----------------------------------------------------------------

BB_PASSWORD=secret

# kannel_conf_write: $T/kannel.conf for a bearerbox on fresh loopback
# ports: BB_ADMIN_PORT, BB_SMSBOX_PORT, and BB_SMSC_PORT for the fake SMSC
# that fakesmsc connects to.  The store keeps MOs across a SIGKILL; the
# smsbox-route sends short code 777 to the box named marketbox.
kannel_conf_write()
{
	[ -n "$BB_ADMIN_PORT" ] || port_pick BB_ADMIN_PORT || return 1
	[ -n "$BB_SMSBOX_PORT" ] || port_pick BB_SMSBOX_PORT || return 1
	[ -n "$BB_SMSC_PORT" ] || port_pick BB_SMSC_PORT || return 1
	cat > "$T/kannel.conf" <<EOF
# bearerbox for the $INTEG_NAME run, generated by tests/integration/lib.sh
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
log-level = 0
access-log = $T/bearerbox-access.log
# MTs the fake SMSC could not hand to a fakesmsc that went away are tried
# again after this many seconds (default 60).
sms-resend-freq = 1

group = smsc
smsc = fake
smsc-id = FAKE
port = $BB_SMSC_PORT
our-host = 127.0.0.1
connect-allow-ip = 127.0.0.1

group = smsbox
bearerbox-host = 127.0.0.1
bearerbox-port = $BB_SMSBOX_PORT

group = smsbox-route
smsbox-id = marketbox
shortcode = 777
EOF
}

# bearerbox_status: the admin status page (status.txt) on stdout.
bearerbox_status()
{
	http_get "$BB_ADMIN_PORT" "/status.txt?password=$BB_PASSWORD"
}

bearerbox_ready()
{
	proc_alive "$BB_PID" && port_listening "$BB_SMSBOX_PORT" &&
	    port_listening "$BB_SMSC_PORT" &&
	    bearerbox_status | grep -q '^Status: running'
}

# bearerbox_start: run bearerbox on $T/kannel.conf (written if missing) and
# wait, 10 s at most, until its ports listen and it says it is running.
bearerbox_start()
{
	[ -f "$T/kannel.conf" ] || kannel_conf_write || return 1
	"$BEARERBOX" -v 1 "$T/kannel.conf" >> "$T/bearerbox.out" 2>&1 &
	BB_PID=$!
	if ! wait_until 10 bearerbox_ready; then
		echo "bearerbox did not come up" >&2
		return 1
	fi
}

# bearerbox_stop: SIGTERM, 10 s, then SIGKILL.  0 if it stopped by itself.
bearerbox_stop()
{
	local rc=0

	[ -n "$BB_PID" ] || return 0
	proc_stop "$BB_PID" TERM 10 || rc=1
	BB_PID=
	return "$rc"
}

# bearerbox_kill: SIGKILL, as a crash would (the store file survives).
bearerbox_kill()
{
	[ -n "$BB_PID" ] || return 0
	proc_stop "$BB_PID" KILL 5
	BB_PID=
}

# bearerbox_received: the MOs bearerbox took from the SMSC so far, by its
# access log ("Receive SMS" is written after the message is in the store).
bearerbox_received()
{
	grep -c 'Receive SMS' "$T/bearerbox-access.log" 2>/dev/null
}

# bearerbox_lists_marketbox: status.txt shows a box named marketbox.
bearerbox_lists_marketbox()
{
	bearerbox_status | grep -q 'smsbox:marketbox'
}

# --- marketbox -------------------------------------------------------------------

# marketbox_conf_write [FILE [EXTRA-LINE...]]: a marketbox conf (default
# $T/marketbox.conf) for the bearerbox above; extra lines go into group =
# marketbox.  Sets MB_CONF (when FILE is the default) and MB_DB.
# MB_PLUGINS names the plugins of the build tree to load (a "group =
# plugin" each, module $top_builddir/plugins/NAME/.libs/NAME.so); unset,
# all of them: the shipped HELP and USSD menus name their commands, and
# marketbox refuses to run when a command they name has no plugin.
# MB_CATALOGUE, when set, is a catalogue file to include instead of the
# small one written here (the demo uses the shipped conf/catalogue.conf).
MB_PLUGINS=${MB_PLUGINS:-echo market prices}
MB_CATALOGUE=${MB_CATALOGUE:-}
marketbox_conf_write()
{
	local file=${1:-$T/marketbox.conf} line p
	[ $# -gt 0 ] && shift

	if integ_pg; then
		pg_db_make || return 1
	else
		MB_DB=$T/marketbox.db
	fi
	[ "$file" = "$T/marketbox.conf" ] && MB_CONF=$file
	{
		echo "# marketbox for the $INTEG_NAME run, generated by tests/integration/lib.sh"
		echo "group = marketbox"
		echo "smsbox-id = marketbox"
		echo "bearerbox-host = 127.0.0.1"
		echo "bearerbox-port = $BB_SMSBOX_PORT"
		echo "global-sender = 777"
		printf 'database = "%s"\n' "$MB_DB"
		echo "log-file = $T/marketbox.log"
		echo "log-level = 0"
		echo "reconnect-delay-max = 2"
		# The tests (and CI) run as root; marketbox refuses that
		# unless told (or given a user to drop to).
		echo "run-as-root = yes"
		echo "language-dir = $top_srcdir/conf/lang"
		echo "plugin-dir = $top_builddir/plugins/echo/.libs"
		# Tests send bursts from one phone: no flood limit unless asked.
		case "$*" in
		*flood-*) ;;
		*)	echo "flood-rate = 100000"
			echo "flood-burst = 100000" ;;
		esac
		for line in "$@"; do
			echo "$line"
		done
		if [ -n "$MB_CATALOGUE" ]; then
			printf 'include = "%s"\n' "$MB_CATALOGUE"
		else
			cat <<'EOF'

group = unit
code = bag
aliases = bags;gunia

group = unit
code = kg
aliases = kilo;kilos

group = commodity
code = maize
unit = bag
aliases = mahindi

group = market
code = nakuru
name = Nakuru
region = Rift Valley
EOF
		fi
		for p in $MB_PLUGINS; do
			printf '\ngroup = plugin\nname = %s\nmodule = %s\n' \
			    "$p" "$top_builddir/plugins/$p/.libs/$p.so"
		done
	} > "$file"
}

# marketbox_start [CONF]: run marketbox in the background (stderr appended
# to $T/marketbox.stderr) and remember its pid.  Does not wait.
marketbox_start()
{
	local conf=${1:-$MB_CONF}

	[ -x "$MARKETBOX" ] || { echo "$MARKETBOX not built" >&2; return 1; }
	MB_STARTS=$((MB_STARTS + 1))
	echo "=== start $MB_STARTS" >> "$T/marketbox.stderr"
	"$MARKETBOX" -v 1 "$conf" >> "$T/marketbox.stdout" \
	    2>> "$T/marketbox.stderr" &
	MB_PID=$!
}

marketbox_connected()
{
	proc_alive "$MB_PID" && bearerbox_lists_marketbox
}

# marketbox_wait_connected [SECONDS]: until bearerbox's status page lists
# the box marketbox; 1 if it does not, or marketbox died.  It waits at
# least MB_START_WAIT seconds (default 60): a sanitized marketbox that
# migrates a new PostgreSQL database on a loaded machine can take more
# than 15 to connect, and the wait ends as soon as it does.
marketbox_wait_connected()
{
	local s=${1:-10}

	[ "$s" -ge "${MB_START_WAIT:-60}" ] || s=${MB_START_WAIT:-60}
	wait_until "$s" marketbox_connected
}

# marketbox_stop: SIGTERM; MB_EXIT is its exit status.  0 when it exited
# by itself within 5 s, 1 when it had to be killed.
marketbox_stop()
{
	local rc=0

	[ -n "$MB_PID" ] || return 0
	proc_stop "$MB_PID" TERM 5 || rc=1
	MB_EXIT=$PROC_STATUS
	MB_PID=
	return "$rc"
}

# marketbox_kill: SIGKILL, as a crash would; waits until bearerbox has seen
# the box go (5 s at most), so a later marketbox_wait_connected means the new
# process.
marketbox_kill()
{
	[ -n "$MB_PID" ] || return 0
	proc_stop "$MB_PID" KILL 5
	MB_PID=
	wait_until 5 eval '! bearerbox_lists_marketbox'
}

# marketbox_sanitizer_report: print what ASan/UBSan/LSan wrote into
# marketbox's stderr; 0 (and output) when there is a report.  With
# MB_STORE_THREAD=1, a statement the store ran outside a task (a path to
# the store not made a task, see store.h) is reported too.
marketbox_sanitizer_report()
{
	grep -E 'ERROR: AddressSanitizer|runtime error:|LeakSanitizer' \
	    "$T/marketbox.stderr" 2>/dev/null
	marketbox_outside_task
}

# marketbox_outside_task: with MB_STORE_THREAD=1 or on PostgreSQL, print the lines of
# marketbox's log and stderr that say a statement ran outside a task; 0
# (and output) when there is one.  1 otherwise, or without the variable.
marketbox_outside_task()
{
	[ "${MB_STORE_THREAD:-}" = 1 ] ||
	    [ "${MB_TEST_STORE:-}" = postgresql ] || return 1
	grep -h 'outside a task' "$T/marketbox.log" "$T/marketbox.stderr" \
	    2>/dev/null
}

# --- the database ---------------------------------------------------------------

# pg_conninfo_db CONNINFO NAME: CONNINFO naming database NAME instead of its
# own (a keyword string or a URI).
pg_conninfo_db()
{
	case $1 in
	postgresql://* | postgres://*)
		printf '%s\n' "$1" |
		    sed -E "s|^([a-z]+://[^/?]*)(/[^?]*)?|\1/$2|"
		;;
	*)
		printf '%s\n' "$1" | sed -E "s/(^| )dbname=[^ ]*//g;
		    s/^ *//; s/\$/ dbname=$2/"
		;;
	esac
}

# pg_admin SQL: SQL on MB_TEST_PG's own database (to make and drop ours).
pg_admin()
{
	psql -X -q -v ON_ERROR_STOP=1 -d "$MB_TEST_PG" -c "$1" >/dev/null
}

# pg_db_make: the run's database on the server, made once (mb_NAME_PID);
# MB_DB is its conninfo.  pg_db_drop drops it (integ_teardown does).
pg_db_make()
{
	local name

	if [ -z "$INTEG_PG_DB" ]; then
		name=mb_$(printf '%s' "$INTEG_NAME" | tr -c 'a-zA-Z0-9' _)_$$
		pg_admin "CREATE DATABASE $name" || {
			echo "cannot make the database $name on $MB_TEST_PG" >&2
			return 1
		}
		INTEG_PG_DB=$name
	fi
	MB_DB=$(pg_conninfo_db "$MB_TEST_PG" "$INTEG_PG_DB")
}

pg_db_drop()
{
	[ -n "$INTEG_PG_DB" ] || return 0
	if [ "${KEEP:-0}" = 1 ]; then
		echo "# kept the database $INTEG_PG_DB ($MB_DB)" >&2
	else
		# FORCE: a process a test could not stop must not keep it.
		pg_admin "DROP DATABASE IF EXISTS $INTEG_PG_DB WITH (FORCE)" ||
		    echo "cannot drop the database $INTEG_PG_DB" >&2
	fi
	INTEG_PG_DB=
}

# db SQL: run SQL on marketbox's database.  SQLite: the sqlite3 CLI, 5 s
# busy timeout.  PostgreSQL: psql, unaligned, no headers, columns joined by
# '|' (sqlite3's list mode), at most 5 s waiting for a lock.  SQL both run
# alike: no PRAGMA, group_concat or typeof (db_join, db_integrity,
# db_schema_version); a comparison is a boolean on PostgreSQL (t or f):
# CAST(... AS INTEGER) prints 1 or 0 on both, and sum() wants CASE WHEN.
db()
{
	if integ_pg; then
		PGOPTIONS='-c lock_timeout=5000 -c statement_timeout=60000' \
		    psql -X -q -A -t -F '|' -v ON_ERROR_STOP=1 -d "$MB_DB" \
		    -c "$1"
	else
		sqlite3 -batch -cmd '.timeout 5000' "$MB_DB" "$1"
	fi
}

# db_join SEP SQL: the rows of SQL joined by SEP (group_concat's work).
db_join()
{
	local sep=$1 row out='' n=0

	while IFS= read -r row; do
		[ "$n" -gt 0 ] && out=$out$sep
		out=$out$row
		n=$((n + 1))
	done < <(db "$2")
	printf '%s\n' "$out"
}

# db_integrity DESC: the test DESC, that SQLite's integrity_check says ok;
# skipped on PostgreSQL (the server keeps its own files sound).
db_integrity()
{
	if integ_pg; then
		tap_skip "$1" "integrity_check is SQLite's"
	else
		tap_is "$(db 'PRAGMA integrity_check')" ok "$1"
	fi
}

# db_schema_version: the core schema's version (SQLite's user_version, or
# the core row of schema_versions).
db_schema_version()
{
	if integ_pg; then
		db "SELECT version FROM schema_versions WHERE owner = 'core'"
	else
		db 'PRAGMA user_version'
	fi
}

# --- the phone network: fakesmsc ------------------------------------------------
#
# fakesmsc connects to bearerbox's fake SMSC, sends MOs, and logs each MT it
# gets as "Got message N: <sender receiver type data>".  Bearerbox serves one
# fakesmsc at a time (MTs wait in bearerbox while none is connected), so a
# new phone session first stops the one before.  Every session logs into its
# own $T/phone.N.log; the MT helpers read all of them.

# phone_start ARGS...: a new session running fakesmsc with ARGS.
phone_start()
{
	phone_stop
	PHONE_SESSION=$((PHONE_SESSION + 1))
	PHONE_LOG=$T/phone.$PHONE_SESSION.log
	"$FAKESMSC" -H 127.0.0.1 -r "$BB_SMSC_PORT" "$@" > "$PHONE_LOG" 2>&1 &
	PHONE_PID=$!
}

# phone_send FROM TO TEXT [TYPE]: one MO (TYPE text by default; ucs2 and
# data take url-encoded TEXT).  fakesmsc stays connected to collect MTs.
phone_send()
{
	phone_start -i 0 -m 1 "$1 $2 ${4:-text} $3"
}

# phone_batch N INTERVAL RANDOMIZE MSG...: N MOs, INTERVAL seconds apart,
# chosen among MSG ("from to type text" lines); RANDOMIZE is fakesmsc's -z
# bitmask (1: random digits after the sender, 4: random number after the
# text).  fakesmsc stays connected to collect MTs.
phone_batch()
{
	local n=$1 interval=$2 rnd=$3
	shift 3
	phone_start -i "$interval" -m "$n" -z "$rnd" "$@"
}

# phone_stop: SIGINT the running fakesmsc (it prints its totals and exits).
phone_stop()
{
	[ -n "$PHONE_PID" ] || return 0
	proc_stop "$PHONE_PID" INT 3
	PHONE_PID=
}

# phone_sent_count: MOs the current session's fakesmsc has written to
# bearerbox so far.
phone_sent_count()
{
	sed -n 's/.*fakesmsc: sent message \([0-9]*\)$/\1/p' "$PHONE_LOG" |
	    tail -n 1 | grep . || echo 0
}

# url_decode STRING: the raw bytes of url-encoded STRING on stdout.
url_decode()
{
	local s=${1//+/ }

	printf '%b' "${s//%/\\x}"
}

# phone_mt_raw: every MT line of every session, "sender receiver type ...".
phone_mt_raw()
{
	local -a logs

	# Sessions in the order they ran (phone.2.log before phone.10.log),
	# so that the MTs come out in the order they arrived.  One cat for
	# them all: the day scripts read them many times a step.
	mapfile -t logs < <(printf '%s\n' "$T"/phone.*.log | sort -V)
	cat -- "${logs[@]}" 2>/dev/null |
	    sed -n 's/.*Got message [0-9]*: <\(.*\)>$/\1/p'
}

# phone_mts: every MT received, one per line, decoded to UTF-8:
#	SENDER RECEIVER TYPE TEXT
# TYPE is text, ucs-2, data, or udh:UDH for a part of a concatenated message
# (UDH url-encoded as bearerbox gave it, ending in the part's number; TEXT is
# that part's text; UCS-2 parts are recognised by their NUL bytes).
phone_mts()
{
	local from to type rest udh data

	phone_mt_raw | while read -r from to type rest; do
		case $type in
		text)
			printf '%s %s text %s\n' "$from" "$to" "$rest"
			;;
		ucs-2)
			printf '%s %s ucs-2 %s\n' "$from" "$to" \
			    "$(url_decode "$rest" | iconv -f UTF-16BE -t UTF-8)"
			;;
		udh)
			udh=${rest%% *}
			data=${rest#* data }
			if [[ $data == *%00* ]]; then
				data=$(url_decode "$data" |
				    iconv -f UTF-16BE -t UTF-8)
			else
				data=$(url_decode "$data")
			fi
			printf '%s %s udh:%s %s\n' "$from" "$to" "$udh" "$data"
			;;
		*)
			printf '%s %s %s %s\n' "$from" "$to" "$type" \
			    "$(url_decode "$rest")"
			;;
		esac
	done
}

# phone_mt_count [RECEIVER]: MTs received (by RECEIVER).
phone_mt_count()
{
	if [ $# -eq 0 ]; then
		phone_mt_raw | wc -l
	else
		phone_mt_raw | awk -v r="$1" '$2 == r' | wc -l
	fi
}

# phone_texts RECEIVER [MTS]: the decoded texts RECEIVER got, one per
# line (of MTS, phone_mts's output, when the caller has it already).
phone_texts()
{
	if [ $# -gt 1 ]; then
		printf '%s\n' "$2"
	else
		phone_mts
	fi | awk -v r="$1" '$2 == r { sub(/^[^ ]* [^ ]* [^ ]* /, ""); print }'
}

# phone_has RECEIVER REGEX: RECEIVER got a text matching REGEX (ERE).
phone_has()
{
	phone_texts "$1" | grep -qE -- "$2"
}

# phone_has_text RECEIVER TEXT: RECEIVER got exactly TEXT.
phone_has_text()
{
	phone_texts "$1" | grep -qxF -- "$2"
}

# phone_expect RECEIVER REGEX [SECONDS]: wait (default 10 s) until RECEIVER
# has got an MT whose text matches REGEX.
phone_expect()
{
	wait_until "${3:-10}" phone_has "$1" "$2"
}

# phone_expect_text RECEIVER TEXT [SECONDS]: the same for an exact text.
phone_expect_text()
{
	wait_until "${3:-10}" phone_has_text "$1" "$2"
}

phone_mt_count_ge()
{
	[ "$(phone_mt_count)" -ge "$1" ]
}

# phone_expect_count N [SECONDS]: wait (default 20 s) until N MTs in all.
phone_expect_count()
{
	wait_until "${2:-20}" phone_mt_count_ge "$1"
}

# --- a day of SMS, step by step (market-day.sh, service-point.sh) ---------
#
# A day is text: "> PHONE text" is a step, PHONE sends text to 777; each
# "< PHONE template-args" line after it is an SMS the step brings, either
# "< PHONE = the text as it is" or "< PHONE lang template name=value|..."
# rendered from the shipped language files.  %CODE% stands for the
# delivery code of the order on its way.  A step that shows a known
# defect ends in "<TAB># TODO why": its test is TAP_TODO and the next
# steps are judged on what they bring.  The script sets PHONES (the names
# of the variables that hold the phones, "FARMER BUYER"), writes
# $T/marketbox.conf, starts marketbox, then calls day_begin and play DAY;
# each step is one TAP test that every phone got exactly what it should
# have, in order.

# Unless the script that sources this set them first (scripts/demo does):
: "${STEP_WAIT:=10}"	# seconds for the SMS of one message to arrive
: "${SETTLE:=0.5}"	# then, for an SMS too many

# render VAR CODE NAME ARGS: VAR is template NAME of language CODE with its
# placeholders filled from ARGS ("name=value|name=value"), as marketbox
# fills it (`marketctl template`: catalogue words, numbers, plural forms).
# Bails out when the template is missing or a placeholder is left unfilled,
# so that no expectation is ever empty or half-rendered.
render()
{
	local var=$1 code=$2 name=$3 args=$4 text
	local -a kvs

	IFS='|' read -r -a kvs <<< "$args"
	text=$("$top_builddir/src/marketctl" -c "$T/marketbox.conf" template \
	    "$code" "$name" -- "${kvs[@]}") ||
	    tap_bail "$code $name: marketctl template cannot fill it"
	printf -v "$var" '%s' "$text"
}

# The delivery code of the order on its way (the day has one at a time).
last_code()
{
	db "SELECT code FROM market_orders WHERE state = 'sent'
	    ORDER BY ref DESC LIMIT 1"
}

# day_begin: no phone has got anything yet.  What each phone should have
# got so far, one text a line (WANT_<PHONE>), and how many (NWANT_<PHONE>).
day_begin()
{
	local p

	for p in $PHONES; do
		printf -v "WANT_$p" '%s' ""
		printf -v "NWANT_$p" '%s' 0
	done
}

# phones_have_all: every phone has got at least as many SMS as it should.
phones_have_all()
{
	local p n raw

	# the logs read once for every phone
	raw=$(phone_mt_raw)
	for p in $PHONES; do
		n=NWANT_$p
		[ "$(awk -v r="${!p}" '$2 == r' <<< "$raw" | wc -l)" -ge \
		    "${!n}" ] || return 1
	done
}

# The texts every phone got equal what it should have got: 0, else 1 with
# the differences as TAP diagnostics.
phones_match()
{
	local p w got mts rc=0

	mts=$(phone_mts)
	for p in $PHONES; do
		w=WANT_$p
		got=$(phone_texts "${!p}" "$mts")
		if [ "$got" != "${!w}" ]; then
			tap_diag "$p got:"
			tap_diag "$got"
			tap_diag "$p should have got:"
			tap_diag "${!w}"
			rc=1
		fi
	done
	return "$rc"
}

# run_step FROM TEXT EXPECT-LINES: send TEXT from phone FROM, add what it
# should bring to each phone's list, wait for it, and test every phone.
run_step()
{
	local from=$1 text=$2 lines=$3 code="" to lang name args want w n
	local todo=

	# "> PHONE text<TAB># TODO why": a step that shows a known defect
	if [[ $text == *$'\t# TODO '* ]]; then
		todo=${text#*$'\t# TODO '}
		text=${text%%$'\t'*}
	fi

	if [[ $text == *%CODE%* ]]; then
		code=$(last_code)
		text=${text//%CODE%/$code}
	fi
	phone_send "${!from}" 777 "$text"
	# the code of an order just sent: once it is sent
	if [[ $lines == *%CODE%* ]]; then
		wait_until "$STEP_WAIT" eval '[ -n "$(last_code)" ]'
		code=$(last_code)
	fi
	while read -r to lang name args; do
		[ -n "$to" ] || continue
		if [ "$lang" = "=" ]; then
			# the text as it is: the rest of the line
			want="$name${args:+ $args}"
			want=${want//%CODE%/$code}
		else
			render want "$lang" "$name" "${args//%CODE%/$code}"
		fi
		w=WANT_$to
		n=NWANT_$to
		printf -v "$w" '%s%s%s' "${!w}" "${!w:+$'\n'}" "$want"
		printf -v "$n" '%s' $((${!n} + 1))
	done <<< "$lines"
	wait_until "$STEP_WAIT" phones_have_all
	sleep "$SETTLE"
	TAP_TODO=$todo
	tap_ok "$from: $text" phones_match
	# a known defect: the next steps are judged on what they bring
	if [ -n "$todo" ]; then
		for to in $PHONES; do
			printf -v "WANT_$to" '%s' "$(phone_texts "${!to}")"
		done
	fi
}

# play DAY [STEP]: every step of DAY, in order, each run by STEP (default
# run_step; called as STEP FROM TEXT EXPECT-LINES).
play()
{
	local from='' text='' lines='' line step=${2:-run_step}

	while IFS= read -r line; do
		case $line in
		'> '*)
			[ -n "$from" ] && "$step" "$from" "$text" "$lines"
			line=${line#> }
			from=${line%% *}
			text=${line#* }
			lines=
			;;
		'< '*)
			lines+="${line#< }"$'\n'
			;;
		esac
	done <<< "$1"
	"$step" "$from" "$text" "$lines"
}

# --- a day at the service point -----------------------------------------------

# point_day_start PASSWORD: the start service-point.sh and
# cooperative-day.sh share.  A bearerbox, and marketbox on it with the
# echo, market and prices plugins and the shipped catalogue (its service
# point kiambogo, market Nakuru, and its farm inputs), country code 254
# and the admin interface on $HTTP_PORT with PASSWORD ($ADMIN_PW), which
# marketctl ($MARKETCTL, through ctl) reaches; connected, and the day
# begun (day_begin; $start is the second it began).  Bails out (TAP) when
# a step fails.  Call it after integ_init and tap_plan.
point_day_start()
{
	MB_PLUGINS="echo market prices"
	# the shipped catalogue: its words in each language and their plural
	# forms
	MB_CATALOGUE=$top_srcdir/conf/catalogue.conf
	kannel_conf_write || tap_bail "cannot pick ports"
	MARKETCTL=$top_builddir/src/marketctl
	[ -x "$MARKETCTL" ] || tap_bail "$MARKETCTL not built"
	port_pick HTTP_PORT || tap_bail "cannot pick a port"
	ADMIN_PW=$1
	marketbox_conf_write "$T/marketbox.conf" "country-code = 254" \
	    "http-port = $HTTP_PORT" "admin-password = $ADMIN_PW"
	[ -f "$top_builddir/plugins/market/.libs/market.so" ] ||
	    tap_bail "the market plugin is not built"
	bearerbox_start || tap_bail "bearerbox does not start"
	marketbox_start || tap_bail "cannot run $MARKETBOX"
	marketbox_wait_connected 15 || tap_bail "marketbox does not connect"
	start=$SECONDS
	day_begin
}

# ctl ARGS...: marketctl on the running marketbox's conf.
ctl()
{
	"$MARKETCTL" -c "$MB_CONF" "$@"
}

# point_agent_add TYPED PHONE: one TAP test: `marketctl agent add TYPED
# --point kiambogo` makes PHONE (TYPED in international form) an agent of
# Kiambogo point, a new one.
point_agent_add()
{
	tap_is "$(ctl agent add "$1" --point kiambogo 2>&1)" \
	    "$2 is an agent of kiambogo (new)" \
	    "marketctl agent add: the agent of Kiambogo point"
}
