# scripts/lib.sh - the set-up shared by scripts/check, scripts/demo and
# scripts/bench: the Debian packages marketbox needs, then an out-of-tree
# build.
#
# Sourced by bash scripts:
#
#	. "$(dirname "$0")/lib.sh"
#	mb_setup [CONFIGURE-ARGS...] || exit 1
#
# What it gives:
#
#	MB_SRCDIR		the source tree (the parent of scripts/)
#	MB_BUILDDIR		the build tree: $MB_BUILDDIR from the
#				environment, else $MB_SRCDIR/_build
#	MB_PACKAGES		the Debian packages needed to build and test
#	mb_packages_missing	prints the packages of MB_PACKAGES not installed
#	mb_install_packages	installs them (apt-get) only when some are missing
#	mb_build [ARGS...]	autoreconf -fi (when configure is missing or
#				older than configure.ac / Makefile.am, or
#				MB_AUTORECONF=1), configure into MB_BUILDDIR
#				with ARGS (again when ARGS or configure
#				changed), make
#	mb_setup [ARGS...]	mb_install_packages, then mb_build ARGS
#	mb_build_var NAME	a variable configure found, from the build's
#				Makefile (BEARERBOX, FAKESMSC, SMSBOX ...)
#	mb_say, mb_die		messages on stderr, prefixed by the script name
#
# Every function returns non-zero on failure rather than exiting, except
# mb_die.

# shellcheck shell=bash

MB_SRCDIR=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
MB_BUILDDIR=${MB_BUILDDIR:-$MB_SRCDIR/_build}
MB_PACKAGES="kannel kannel-dev kannel-extras libevent-dev libsqlite3-dev
	libicu-dev libcriterion-dev autoconf automake libtool pkg-config make gcc sqlite3
	chromium jq clang postgresql libpq-dev prometheus
	debhelper dpkg-dev fakeroot lintian"

mb_say()
{
	printf '%s: %s\n' "${0##*/}" "$*" >&2
}

mb_die()
{
	mb_say "$*"
	exit 1
}

# mb_packages_missing: the packages of MB_PACKAGES dpkg does not have
# installed, one per line.  Nothing (and 0) where dpkg-query is absent:
# not a Debian system, the programs are assumed to be there.
mb_packages_missing()
{
	local p

	command -v dpkg-query >/dev/null 2>&1 || return 0
	for p in $MB_PACKAGES; do
		dpkg-query -W -f='${Status}\n' "$p" 2>/dev/null |
		    grep -q ' installed$' || echo "$p"
	done
}

# mb_install_packages: apt-get update && apt-get install -y the missing
# packages, as root or through sudo; nothing at all when none is missing.
mb_install_packages()
{
	local missing sudo=

	missing=$(mb_packages_missing | tr '\n' ' ')
	missing=${missing% }
	[ -n "$missing" ] || return 0
	mb_say "installing the missing packages: $missing"
	if ! command -v apt-get >/dev/null 2>&1; then
		mb_say "no apt-get: install these yourself: $missing"
		return 1
	fi
	if [ "$(id -u)" -ne 0 ]; then
		if ! command -v sudo >/dev/null 2>&1; then
			mb_say "not root and no sudo: as root, run" \
			    "apt-get install -y $missing"
			return 1
		fi
		sudo=sudo
	fi
	# shellcheck disable=SC2086 # the list is meant to split
	$sudo env DEBIAN_FRONTEND=noninteractive apt-get update &&
	    $sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y \
	    $missing
}

# mb_build [CONFIGURE-ARGS...]: bring the build tree up to date.
mb_build()
{
	local jobs args stamp

	(
		cd "$MB_SRCDIR" || exit 1
		if [ "${MB_AUTORECONF:-0}" = 1 ] || [ ! -x configure ] ||
		    [ configure.ac -nt configure ] ||
		    [ ! -f Makefile.in ] || [ Makefile.am -nt Makefile.in ]; then
			mb_say "autoreconf -fi in $MB_SRCDIR"
			autoreconf -fi || exit 1
		fi
	) || return 1

	mkdir -p "$MB_BUILDDIR" || return 1
	args="$*"
	stamp=$MB_BUILDDIR/.mb-configure-args
	if [ ! -f "$MB_BUILDDIR/config.status" ] ||
	    [ "$MB_SRCDIR/configure" -nt "$MB_BUILDDIR/config.status" ] ||
	    [ "$(cat "$stamp" 2>/dev/null)" != "$args" ]; then
		mb_say "configure $args (in $MB_BUILDDIR)"
		(cd "$MB_BUILDDIR" && "$MB_SRCDIR/configure" "$@" >&2) ||
		    return 1
		printf '%s' "$args" > "$stamp"
	fi
	jobs=$(nproc 2>/dev/null || echo 2)
	mb_say "make -j$jobs (in $MB_BUILDDIR)"
	make -C "$MB_BUILDDIR" -j"$jobs" >&2
}

# mb_setup [CONFIGURE-ARGS...]: packages, then the build.
mb_setup()
{
	mb_install_packages || return 1
	mb_build "$@"
}

# mb_build_var NAME: the value configure substituted for NAME, read from
# the build tree's Makefile ("NAME = value").
mb_build_var()
{
	sed -n "s|^$1 = ||p" "$MB_BUILDDIR/Makefile" 2>/dev/null | head -n 1
}
