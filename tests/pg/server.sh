#!/bin/sh
# tests/pg/server.sh - a private PostgreSQL server for the tests.
#
#	tests/pg/server.sh start	prints the conninfo of a new server
#	tests/pg/server.sh stop CONNINFO
#	tests/pg/server.sh restart CONNINFO
#
# start: initdb in a new temporary directory, fsync off, listening on a unix
# socket in that directory and on 127.0.0.1 at a free port, with a superuser
# "marketbox" (trust authentication: nobody else can reach the socket, and
# the port is loopback only) and a database "marketbox".  Prints
# "host=DIR port=N user=marketbox dbname=marketbox" on stdout.  Run as
# root, the server runs as nobody (PostgreSQL refuses root) and the
# directory is nobody's.
# stop: pg_ctl stop -m fast, then the directory goes.  A server of
# someone else is never touched: stop only acts on a directory this script
# made (it holds our mark file).
# restart: pg_ctl restart -m fast on the same port and socket (the failover
# test: every connection is cut, the server is back a moment later).
#
# The binaries are PostgreSQL's own, from /usr/lib/postgresql/*/bin
# (Debian puts only wrappers on PATH).

set -u

die()
{
	echo "server.sh: $*" >&2
	exit 1
}

pg_bindir()
{
	local d

	for d in $(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V -r); do
		if [ -x "$d/initdb" ] && [ -x "$d/pg_ctl" ]; then
			echo "$d"
			return 0
		fi
	done
	d=$(dirname "$(command -v pg_ctl 2>/dev/null)" 2>/dev/null)
	[ -n "$d" ] && [ -x "$d/initdb" ] && echo "$d"
}

# as_owner CMD...: run CMD as the user the server runs as.
as_owner()
{
	if [ "$(id -u)" -eq 0 ]; then
		if command -v runuser >/dev/null 2>&1; then
			runuser -u nobody -- "$@"
		else
			setpriv --reuid=nobody --regid=nogroup --clear-groups \
			    -- "$@"
		fi
	else
		"$@"
	fi
}

start()
{
	local bin dir port try

	bin=$(pg_bindir) ||
	    die "no PostgreSQL binaries (apt-get install postgresql)"
	[ -n "$bin" ] || die "no PostgreSQL binaries (apt-get install postgresql)"
	dir=$(mktemp -d "${TMPDIR:-/tmp}/mb-pg.XXXXXX") ||
	    die "cannot make a temporary directory"
	: > "$dir/.mb-test-server"
	[ "$(id -u)" -eq 0 ] && chown nobody "$dir"
	cd "$dir" || die "cannot enter $dir"
	if ! as_owner "$bin/initdb" -D "$dir/data" -U marketbox -A trust \
	    -E UTF8 --locale=C.UTF-8 --no-sync >"$dir/initdb.log" 2>&1; then
		cat "$dir/initdb.log" >&2
		rm -rf "$dir"
		die "initdb failed"
	fi
	# A free port: a few tries at random ones (a taken port fails the start).
	for try in 1 2 3 4 5 6 7 8 9 10; do
		port=$((20000 + $(od -An -N2 -tu2 /dev/urandom) % 40000))
		if as_owner "$bin/pg_ctl" -D "$dir/data" -l "$dir/server.log" \
		    -w -t 60 -o "-F -p $port -k $dir -c listen_addresses=127.0.0.1" \
		    start >/dev/null 2>&1; then
			if "$bin/createdb" -h "$dir" -p "$port" -U marketbox \
			    marketbox >&2; then
				echo "host=$dir port=$port user=marketbox dbname=marketbox"
				return 0
			fi
			stop_dir "$dir" "$bin"
			die "createdb failed"
		fi
		as_owner "$bin/pg_ctl" -D "$dir/data" status >/dev/null 2>&1 &&
		    break
	done
	tail -n 20 "$dir/server.log" >&2
	stop_dir "$dir" "$bin"
	die "the server did not start"
}

stop_dir()
{
	local dir="$1" bin="$2"

	[ -f "$dir/.mb-test-server" ] ||
	    die "$dir: not a directory this script made"
	if [ -f "$dir/data/postmaster.pid" ]; then
		(cd "$dir" && as_owner "$bin/pg_ctl" -D "$dir/data" -m fast \
		    -w -t 60 stop >/dev/null) || echo "server.sh: pg_ctl stop failed" >&2
	fi
	rm -rf "$dir"
}

# server_dir CONNINFO: the directory of a server this script made.
server_dir()
{
	local dir

	dir=$(printf '%s\n' "$1" | tr ' ' '\n' | sed -n 's/^host=//p')
	[ -n "$dir" ] || dir="$1"
	[ -d "$dir" ] || die "$dir: no such server directory"
	[ -f "$dir/.mb-test-server" ] ||
	    die "$dir: not a directory this script made"
	echo "$dir"
}

restart()
{
	local dir bin

	dir=$(server_dir "$1") || exit 1
	bin=$(pg_bindir) || die "no PostgreSQL binaries"
	# (the options of the first start, from postmaster.opts)
	(cd "$dir" && as_owner "$bin/pg_ctl" -D "$dir/data" -l \
	    "$dir/server.log" -m fast -w -t 60 restart >/dev/null) ||
	    die "pg_ctl restart failed"
}

stop()
{
	local dir bin

	dir=$(printf '%s\n' "$1" | tr ' ' '\n' | sed -n 's/^host=//p')
	[ -n "$dir" ] || dir="$1"
	[ -d "$dir" ] || die "$dir: no such server directory"
	bin=$(pg_bindir) || die "no PostgreSQL binaries"
	stop_dir "$dir" "$bin"
}

case "${1:-}" in
start)	start ;;
stop)	[ $# -eq 2 ] || die "usage: server.sh stop CONNINFO"; stop "$2" ;;
restart) [ $# -eq 2 ] || die "usage: server.sh restart CONNINFO"
	restart "$2" ;;
*)	die "usage: server.sh start | stop CONNINFO | restart CONNINFO" ;;
esac
