#!/bin/bash
# tests/integration/deb.sh - the Debian packages (debian/): built from a
# copy of the tree with dpkg-buildpackage, checked by lintian, installed
# on this machine (the user marketbox, its 0750 directories, the conf
# files 0640 for its group and conffiles, the units, the nightly backup
# timer off), the installed daemon run as the service would run it (as
# marketbox, on the installed conf pointed at this test's bearerbox) and
# answering an SMS, then purged: files, directories, user and unit links
# gone (README.md, "Install from the Debian package").
#
# Needs root (it installs packages), dpkg-buildpackage and debhelper; it
# is skipped without them, in a sanitizer build (the packages are built
# with Debian's flags: a second run would repeat the first), on
# PostgreSQL, and when marketbox is installed or a user marketbox exists
# already (it would not leave them as it found them).  The EXIT trap
# purges what it installed, whatever failed.  The package build takes a
# few minutes; it is bounded (BUILD_LIMIT seconds).

. "$(dirname "$0")/lib.sh"

BUILD_LIMIT=1500
FARMER=+254700000001

skip()
{
	echo "1..0 # SKIP $*"
	exit 0
}

integ_skip_on_pg "the packages are tested once, on SQLite"
integ_require_kannel
[ "$(id -u)" -eq 0 ] || skip "not root (it installs and purges packages)"
for p in dpkg-buildpackage dpkg-deb dpkg-query dh setpriv; do
	command -v "$p" >/dev/null 2>&1 || skip "$p not found (apt-get" \
	    "install debhelper dpkg-dev util-linux)"
done
if grep -q '^SANITIZER_CFLAGS = .*sanitize' "${top_builddir:-.}/Makefile" \
    2>/dev/null; then
	skip "a sanitizer build: the packages are built with Debian's" \
	    "flags, the same as in the plain pass"
fi
for p in marketbox marketbox-dev; do
	if dpkg-query -W -f='${Status}' "$p" 2>/dev/null |
	    grep -qv 'not-installed'; then
		skip "the package $p is on this machine already"
	fi
done
getent passwd marketbox >/dev/null && skip "a user marketbox exists already"
getent group marketbox >/dev/null && skip "a group marketbox exists already"
for d in /var/lib/marketbox /var/log/marketbox /etc/marketbox; do
	[ -e "$d" ] && skip "$d exists already"
done

integ_init deb
tap_plan 29

# deb_purge: take the packages away (the EXIT trap does too, whatever
# failed before).  0 when dpkg did.
DEB_INSTALLED=
deb_purge()
{
	[ -n "$DEB_INSTALLED" ] || return 0
	DEB_INSTALLED=
	timeout 120 dpkg --purge marketbox-dev marketbox \
	    >> "$T/dpkg-purge.log" 2>&1
}

# the service's marketbox: stopped before the harness's teardown, and the
# packages purged after it.
deb_teardown()
{
	local rc=$?

	if [ -n "$MB_PID" ]; then
		proc_stop "$MB_PID" TERM 10
		MB_PID=
	fi
	deb_purge
	(exit "$rc")
	integ_teardown
}
trap deb_teardown EXIT

# --- build ------------------------------------------------------------------

# The tree as a checkout has it (git ls-files), or, in a tarball (make
# distcheck), all of it but build trees.
mkdir "$T/src" || tap_bail "cannot make $T/src"
if git -C "$top_srcdir" rev-parse --is-inside-work-tree >/dev/null 2>&1; then
	(cd "$top_srcdir" && git ls-files -z | xargs -0 cp --parents -t "$T/src")
else
	tar -C "$top_srcdir" --exclude='./_build*' --exclude=./autom4te.cache \
	    -cf - . | tar -C "$T/src" -xf -
fi
[ -x "$T/src/debian/rules" ] || tap_bail "no debian/rules in the copy of the tree"

start=$SECONDS
(cd "$T/src" && DEB_BUILD_OPTIONS='nocheck parallel=2' \
    timeout "$BUILD_LIMIT" dpkg-buildpackage -us -uc -b) \
    > "$T/build.log" 2>&1
rc=$?
took=$((SECONDS - start))
tap_is "$rc" 0 "dpkg-buildpackage -us -uc -b builds the packages (${took} s)"
[ "$rc" -eq 0 ] || tap_diag "$(tail -n 25 "$T/build.log")"
debs=("$T"/marketbox_*.deb)
DEB_MAIN=${debs[0]}
debs=("$T"/marketbox-dev_*.deb)
DEB_DEV=${debs[0]}
tap_ok "two binary packages: marketbox and marketbox-dev" \
    test -f "$DEB_MAIN" -a -f "$DEB_DEV"
if [ ! -f "$DEB_MAIN" ] || [ ! -f "$DEB_DEV" ]; then
	tap_bail "no packages to test"
fi

tap_ok "no libtool archive in the packages" \
    eval "! dpkg-deb -c '$DEB_MAIN' | grep -q '\\.la\$'"
tap_ok "marketbox-dev has the plugin header and marketbox.pc" \
    eval "dpkg-deb -c '$DEB_DEV' | grep -q ' ./usr/include/marketbox/plugin.h\$' &&
	dpkg-deb -c '$DEB_DEV' | grep -q '/pkgconfig/marketbox.pc\$'"

if command -v lintian >/dev/null 2>&1; then
	timeout 300 lintian --allow-root "$T"/marketbox_*.changes \
	    > "$T/lintian.log" 2>&1
	tap_ok "lintian finds no error" \
	    eval "! grep -q '^E: ' '$T/lintian.log'"
	[ -s "$T/lintian.log" ] && tap_diag "lintian: $(cat "$T/lintian.log")"
else
	tap_skip "lintian is not installed"
fi

# --- install ----------------------------------------------------------------

DEB_INSTALLED=1
timeout 120 dpkg -i "$DEB_MAIN" "$DEB_DEV" > "$T/dpkg-install.log" 2>&1
rc=$?
tap_is "$rc" 0 "dpkg -i installs both packages"
[ "$rc" -eq 0 ] || tap_bail "dpkg -i failed: $(tail -n 10 "$T/dpkg-install.log")"

tap_ok "postinst made the system user and group marketbox" \
    eval "getent passwd marketbox | grep -q ':/var/lib/marketbox:' &&
	getent group marketbox >/dev/null"
tap_is "$(stat -c '%U:%G %a' /var/lib/marketbox /var/lib/marketbox/backups \
    /var/log/marketbox | sort -u)" "marketbox:marketbox 750" \
    "/var/lib/marketbox, its backups and /var/log/marketbox: marketbox's, 0750"
tap_is "$(stat -c '%U:%G %a' /etc/marketbox/*.conf | sort -u)" \
    "root:marketbox 640" \
    "the conf files are 0640, group marketbox"
# conffiles FILE...: dpkg has each FILE as a conffile of marketbox.
conffiles()
{
	local f

	for f in "$@"; do
		dpkg-query -W -f='${Conffiles}\n' marketbox |
		    awk '{ print $1 }' | grep -qxF "$f" || return 1
	done
}
tap_ok "conffiles: marketbox.conf, the languages, the logrotate file" \
    conffiles /etc/marketbox/marketbox.conf /etc/marketbox/lang/en.conf \
	/etc/logrotate.d/marketbox
tap_ok "the installed conf names /var/lib/marketbox and /var/log/marketbox" \
    eval "grep -q '^database = /var/lib/marketbox/' /etc/marketbox/marketbox.conf &&
	grep -q '^log-file = /var/log/marketbox/' /etc/marketbox/marketbox.conf"
PLUGIN_DIR=$(pkg-config --variable=plugindir marketbox 2>/dev/null)
tap_ok "the installed conf's plugin-dir is where the plugins are ($PLUGIN_DIR)" \
    eval "grep -q '^#*plugin-dir = $PLUGIN_DIR\$' /etc/marketbox/marketbox.conf &&
	ls '$PLUGIN_DIR'/market.so >/dev/null"

units=$(dpkg -L marketbox | grep '/systemd/system/')
unit_file()
{
	printf '%s\n' "$units" | grep "/$1\$"
}
tap_ok "marketbox.service, marketbox-backup.service and .timer installed" \
    eval "[ -f \"\$(unit_file marketbox.service)\" ] &&
	[ -f \"\$(unit_file marketbox-backup.service)\" ] &&
	[ -f \"\$(unit_file marketbox-backup.timer)\" ]"
tap_ok "the alert rules and the dashboard are in /usr/share/doc/marketbox/contrib" \
    eval "[ -f /usr/share/doc/marketbox/contrib/prometheus/marketbox-rules.yml ] &&
	[ -f /usr/share/doc/marketbox/contrib/grafana/marketbox-dashboard.json ]"
tap_ok "the backup service runs 'marketctl backup' as marketbox" \
    eval "grep -qx 'ExecStart=/usr/bin/marketctl backup' \"\$(unit_file marketbox-backup.service)\" &&
	grep -qx 'User=marketbox' \"\$(unit_file marketbox-backup.service)\""
tap_ok "marketbox.service is enabled (multi-user.target.wants)" \
    test -L /etc/systemd/system/multi-user.target.wants/marketbox.service
tap_ok "the backup timer is not enabled" \
    eval "! ls /etc/systemd/system/*.wants/marketbox-backup.* >/dev/null 2>&1"
if command -v systemd-analyze >/dev/null 2>&1; then
	# (it cannot run man on the Documentation= lines without man-db)
	# shellcheck disable=SC2086 # one path a line, none with a space
	systemd-analyze verify $units > "$T/verify.log" 2>&1
	tap_ok "systemd-analyze verify accepts the units" \
	    eval "! grep -v \"Command 'man \" '$T/verify.log' | grep -q ."
	[ "$TAP_FAILED" -eq 0 ] || tap_diag "$(cat "$T/verify.log")"
else
	tap_skip "systemd-analyze is not installed"
fi

# --- run it as the service would ---------------------------------------------

# The installed conf, edited as an operator would: this test's bearerbox
# and a free port for the admin pages.
kannel_conf_write || tap_bail "cannot pick ports"
port_pick HTTP_PORT || tap_bail "cannot pick a port"
sed -i -e "s/^bearerbox-port = .*/bearerbox-port = $BB_SMSBOX_PORT/" \
    -e "s/^http-port = .*/http-port = $HTTP_PORT/" \
    /etc/marketbox/marketbox.conf
bearerbox_start || tap_bail "bearerbox does not start"

# as_marketbox CMD...: CMD as the user marketbox, in / (as systemd runs
# a service: $T is root's alone).
as_marketbox()
{
	(cd / && exec setpriv --reuid=marketbox --regid=marketbox \
	    --init-groups --no-new-privs "$@")
}
unit=$(unit_file marketbox.service)
check=$(sed -n 's/^ExecStartPre=//p' "$unit")
# shellcheck disable=SC2086 # the unit's command line, as systemd splits it
as_marketbox $check > "$T/check.out" 2>&1
tap_is "$?" 0 "the unit's ExecStartPre ($check) passes as marketbox"
[ "$TAP_FAILED" -eq 0 ] || tap_diag "$(cat "$T/check.out")"

# ExecStart without -p: the pid file's /run/marketbox is systemd's
# RuntimeDirectory.
start_cmd=$(sed -n 's/^ExecStart=//p' "$unit" | sed 's/ -p [^ ]*//')
# (one subshell that execs: $! is marketbox itself)
# shellcheck disable=SC2086
(cd / && exec setpriv --reuid=marketbox --regid=marketbox --init-groups \
    --no-new-privs $start_cmd) > "$T/marketbox.stdout" \
    2> "$T/marketbox.stderr" &
MB_PID=$!
tap_ok "the installed marketbox, as marketbox, connects to bearerbox" \
    marketbox_wait_connected 20
phone_send "$FARMER" 777 "echo SELL maize"
tap_ok "an SMS gets its reply from the installed plugins" \
    phone_expect_text "$FARMER" "You said: SELL maize" 15
tap_is "$(stat -c '%U' /var/lib/marketbox/marketbox.db \
    /var/log/marketbox/marketbox.log 2>&1 | sort -u)" marketbox \
    "the database and the log file are marketbox's"
as_marketbox marketctl stats > "$T/stats.out" 2>&1
tap_is "$?" 0 "marketctl (its default conf) reads the database as marketbox"
[ "$TAP_FAILED" -eq 0 ] || tap_diag "$(cat "$T/stats.out")"
# the backup timer's service, as it would run: into the conf's backup-dir
bk=$(sed -n 's/^ExecStart=//p' "$(unit_file marketbox-backup.service)")
# shellcheck disable=SC2086 # the unit's command line, as systemd splits it
as_marketbox $bk > "$T/backup.out" 2>&1
tap_is "$?:$(find /var/lib/marketbox/backups -name 'marketbox-*.db' | wc -l)" \
    "0:1" "the backup service's command ($bk) writes one backup as marketbox"
[ "$TAP_FAILED" -eq 0 ] || tap_diag "$(cat "$T/backup.out")"
marketbox_stop
tap_is "$MB_EXIT" 0 "SIGTERM stops it, exit status 0"
phone_stop
bearerbox_stop

# --- purge ---------------------------------------------------------------------

deb_purge
tap_is "$?" 0 "dpkg --purge takes both packages away"
tap_ok "/etc/marketbox, /var/lib/marketbox and /var/log/marketbox are gone" \
    eval "[ ! -e /etc/marketbox ] && [ ! -e /var/lib/marketbox ] &&
	[ ! -e /var/log/marketbox ] && [ ! -e /etc/logrotate.d/marketbox ]"
tap_ok "the user and the group marketbox are gone" \
    eval "! getent passwd marketbox >/dev/null &&
	! getent group marketbox >/dev/null"
tap_ok "no file of the packages is left, nor the unit's link" \
    eval "[ ! -e /usr/sbin/marketbox ] && [ ! -e /usr/bin/marketctl ] &&
	[ ! -e /usr/include/marketbox ] &&
	[ ! -e /etc/systemd/system/multi-user.target.wants/marketbox.service ]"

tap_end
