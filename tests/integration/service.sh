#!/bin/bash
# tests/integration/service.sh - marketbox as a system service: it refuses
# to run as root unless told to, drops to the conf's user after opening
# its socket, log and database (and gives them to that user), reopens its
# log on SIGUSR1 after a rotation, reloads on SIGHUP, stops cleanly on
# SIGTERM; and the systemd unit and logrotate file this build made.
#
# No bearerbox: marketbox runs HTTP only (bearerbox-host empty).  The
# privilege tests need root (CI is root); as another user they are
# skipped.

. "$(dirname "$0")/lib.sh"

integ_skip_on_pg "the service's files are a SQLite database's (its" \
    "owner, its mode, its -wal beside it)"
integ_init service
tap_plan 31

[ -x "$MARKETBOX" ] || tap_bail "$MARKETBOX not built"
port_pick HTTP_PORT || tap_bail "cannot pick a port"
ADMIN_PW=svc-secret
# The languages are read again on SIGHUP, by then as the dropped user: a
# copy in the test's own directory, as the source tree may be closed to
# others (a clone in a 0700 directory).
cp -R "$top_srcdir/conf/lang" "$T/lang" || tap_bail "cannot copy the languages"
chmod -R a+rX "$T/lang"

# conf FILE DIR LINES...: an HTTP-only conf with its files under DIR.
conf()
{
	local file=$1 dir=$2
	shift 2
	{
		echo "group = marketbox"
		echo 'bearerbox-host = ""'
		echo "global-sender = 777"
		echo "database = $dir/state/marketbox.db"
		echo "log-file = $dir/log/marketbox.log"
		echo "log-level = 0"
		echo "http-port = $HTTP_PORT"
		echo "admin-password = $ADMIN_PW"
		echo "language-dir = $T/lang"
		echo "plugin-dir = $top_builddir/plugins/echo/.libs"
		printf '%s\n' "$@"
		# HELP names the commands of all three: all must load.
		for p in echo market prices; do
			printf '\ngroup = plugin\nname = %s\nmodule = %s\n' "$p" \
			    "$top_builddir/plugins/$p/.libs/$p.so"
		done
	} > "$file"
}

health() { [ "$(http_get "$HTTP_PORT" /health)" = ok ]; }

# --- refusing root ----------------------------------------------------------------

if [ "$(id -u)" -ne 0 ]; then
	for d in "refuses root without run-as-root or user" \
	    "says how to allow it" "-n still checks the conf" \
	    "an unknown user is refused by -n" "starts and drops to nobody" \
	    "all its ids are nobody's" "no supplementary group is kept" \
	    "the database files are nobody's" "the admin pages read the database" \
	    "the log file is nobody's" "SIGUSR1 reopens a rotated log" \
	    "SIGHUP reloads" "SIGTERM stops it, exit 0" \
	    "the pid file is removed" "the database files are 0600, the log 0640" \
	    "a link planted as the log is refused" "root's file the log link names is untouched" \
	    "a link planted as the pid file is refused" "root's file the pid file link names is untouched" \
	    "a link planted as the database is refused" "root's file the database link names is untouched" \
	    "a link planted as the -wal is refused" "root's file the -wal link names is untouched"; do
		tap_skip "$d" "not root"
	done
else
	mkdir -p "$T/a/state" "$T/a/log"
	conf "$T/root.conf" "$T/a"
	timeout 10 "$MARKETBOX" -v 1 "$T/root.conf" > "$T/root.out" 2>&1
	rc=$?
	tap_is "$rc" 1 "as root without run-as-root or user: refused (exit 1)"
	tap_ok "it says how to allow it" \
	    grep -q "refusing to run as root: set 'user = NAME'" "$T/root.out"
	tap_ok "-n still checks the conf as root" \
	    eval "'$MARKETBOX' -n '$T/root.conf' > '$T/check.out' 2>&1"
	conf "$T/nouser.conf" "$T/a" "user = no-such-user-here"
	"$MARKETBOX" -n "$T/nouser.conf" > "$T/nouser.out" 2>&1
	rc=$?
	tap_ok "an unknown user is refused by -n (exit $rc)" \
	    eval "[ $rc -eq 1 ] && grep -q 'user = no-such-user-here: no such user' '$T/nouser.out'"

	# The directories the user writes to are theirs, as a package's
	# postinst (or systemd's StateDirectory/LogsDirectory) would make.
	chmod 755 "$T"
	mkdir -p "$T/b/state" "$T/b/log" "$T/b/run"
	chown nobody "$T/b/state" "$T/b/log" "$T/b/run"
	chmod 755 "$T/b"
	conf "$T/user.conf" "$T/b" "user = nobody"
	"$MARKETBOX" -v 1 -p "$T/b/run/marketbox.pid" "$T/user.conf" \
	    >> "$T/marketbox.stdout" 2>> "$T/marketbox.stderr" &
	MB_PID=$!
	tap_ok "starts and answers with user = nobody" wait_until 10 health
	uid=$(id -u nobody)
	gid=$(id -g nobody)
	tap_is "$(awk '/^Uid:|^Gid:/ { print $2, $3, $4, $5 }' \
	    "/proc/$MB_PID/status" | xargs)" \
	    "$uid $uid $uid $uid $gid $gid $gid $gid" \
	    "real, effective, saved and file ids are all nobody's"
	tap_is "$(awk '/^Groups:/ { $1 = ""; print }' "/proc/$MB_PID/status" |
	    xargs)" "$gid" "no supplementary group but nobody's own is kept"
	tap_is "$(stat -c %U "$T/b/state/marketbox.db" \
	    "$T/b/state/marketbox.db-wal" | sort -u)" nobody \
	    "the database and its WAL are nobody's"
	tap_ok "the admin pages read the database after the drop" \
	    eval "http_get $HTTP_PORT '/status.json?password=$ADMIN_PW' |
		grep -q '\"mo\": {\"total\": 0,'"
	tap_is "$(stat -c %U "$T/b/log/marketbox.log")" nobody \
	    "the log file is nobody's"
	mv "$T/b/log/marketbox.log" "$T/b/log/marketbox.log.1"
	kill -USR1 "$MB_PID"
	tap_ok "SIGUSR1 reopens a rotated log, as nobody" \
	    eval "wait_until 5 test -f '$T/b/log/marketbox.log' &&
		[ \"\$(stat -c %U '$T/b/log/marketbox.log')\" = nobody ]"
	kill -HUP "$MB_PID"
	tap_ok "SIGHUP reloads the conf" \
	    eval "wait_until 5 grep -q 'reload done' '$T/b/log/marketbox.log' &&
		health"
	tap_is "$(stat -c %a "$T/b/state/marketbox.db" \
	    "$T/b/state/marketbox.db-wal" "$T/b/log/marketbox.log" | xargs)" \
	    "600 600 640" "the database and its WAL are 0600, the log 0640"
	proc_stop "$MB_PID" TERM 5
	rc=$PROC_STATUS
	MB_PID=
	tap_is "$rc" 0 "SIGTERM stops it, exit 0"
	tap_ok "the pid file is removed" test ! -e "$T/b/run/marketbox.pid"

	# The service user owns these directories: a link it plants where
	# the log, the pid file, the database or its -wal go must not lead
	# root to write, truncate or hand over a file of root's.  marketbox
	# opens them as the user, without following links, and refuses.
	for what in log pid database wal; do
		P=$T/plant-$what
		mkdir -p "$P/state" "$P/log" "$P/run"
		chown nobody "$P/state" "$P/log" "$P/run"
		chmod 755 "$P"
		printf "root's own file\n" > "$P/precious"
		chmod 644 "$P/precious"
		case $what in
		log)		link=$P/log/marketbox.log ;;
		pid)		link=$P/run/marketbox.pid ;;
		database)	link=$P/state/marketbox.db ;;
		wal)		link=$P/state/marketbox.db-wal ;;
		esac
		ln -s "$P/precious" "$link"
		chown -h nobody "$link"
		conf "$P.conf" "$P" "user = nobody"
		timeout 10 "$MARKETBOX" -v 1 -p "$P/run/marketbox.pid" \
		    "$P.conf" > "$P.out" 2>&1
		rc=$?
		tap_ok "a link planted as the $what is refused (exit $rc), named" \
		    eval "[ $rc -eq 1 ] && grep -q '$link is a symbolic link' '$P.out'"
		tap_is "$(stat -c '%U %a' "$P/precious") $(cat "$P/precious")" \
		    "root 644 root's own file" \
		    "root's file the $what link names keeps owner, mode and content"
	done
fi

# --- file modes and secrets in the log -----------------------------------------

# Whoever runs it: what marketbox makes is not for others, and no
# password reaches its log (the sendsms-url's is masked).
mkdir -p "$T/m/state" "$T/m/log"
SMS_PW=sms-pw-never-logged
rootline="# (not root)"
[ "$(id -u)" -eq 0 ] && rootline="run-as-root = yes"
conf "$T/modes.conf" "$T/m" "$rootline" \
    "sendsms-url = http://127.0.0.1:9/cgi-bin/sendsms?username=mb&password=$SMS_PW"
"$MARKETBOX" -v 1 "$T/modes.conf" >> "$T/marketbox.stdout" \
    2>> "$T/marketbox.stderr" &
MB_PID=$!
tap_ok "starts in sendsms mode" wait_until 10 health
tap_is "$(stat -c %a "$T/m/state/marketbox.db" "$T/m/state/marketbox.db-wal" \
    "$T/m/log/marketbox.log" | xargs)" "600 600 640" \
    "the database and its WAL are 0600, the log 0640"
http_get "$HTTP_PORT" "/status.json?password=$ADMIN_PW" > /dev/null
proc_stop "$MB_PID" TERM 5
MB_PID=
tap_ok "the log names the sendsms URL with its password masked" \
    grep -q 'sendsms?username=mb&password=\*\*\*' "$T/m/log/marketbox.log"
tap_ok "the log holds neither the sendsms nor the admin password" \
    eval "! grep -e '$SMS_PW' -e '$ADMIN_PW' '$T/m/log/marketbox.log' \
	'$T/marketbox.stderr'"

# --- the service files this build made --------------------------------------------------

UNIT=$top_builddir/conf/marketbox.service
ROTATE=$top_builddir/conf/logrotate.d/marketbox
tap_ok "the systemd unit and the logrotate file are built" \
    test -s "$UNIT" -a -s "$ROTATE"
tap_ok "no @placeholder@ is left in them" \
    eval "! grep -n '@[a-z]*@' '$UNIT' '$ROTATE'"
tap_ok "the unit runs marketbox in the foreground, reloads with SIGHUP" \
    eval "grep -qE '^ExecStart=/.*/marketbox -v 2 -p /.*/marketbox.pid /.*/marketbox.conf\$' '$UNIT' &&
	grep -qx 'Type=simple' '$UNIT' &&
	grep -qxF 'ExecReload=/bin/kill -HUP \$MAINPID' '$UNIT' &&
	grep -qx 'User=marketbox' '$UNIT'"
tap_ok "logrotate sends SIGUSR1 after rotating" \
    grep -q 'kill -USR1 "$(cat /.*/marketbox/marketbox.pid)"' "$ROTATE"
tap_end
