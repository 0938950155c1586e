#!/bin/sh
# tests/fuzz/run.sh - build the libFuzzer targets of tests/fuzz with clang
# (ASan, UBSan and the leak check on; tests/fuzz/lib.sh), run each for a
# bounded time on a copy of its seed corpus, tests/fuzz/corpus/<target>,
# and report as TAP for automake's tap-driver:
#
#	1..6 / ok 1 - fuzz words 123456 runs ...
#	not ok N - fuzz box ... (with the crash file kept under the build tree)
#	1..0 # SKIP clang with libFuzzer not available
#
# Arguments: the targets to run (default: all of FUZZ_TARGETS).
# Environment: top_srcdir and top_builddir (set by make check; default:
# this script's tree and the current directory), CC_FUZZ (default clang),
# FUZZ_SECONDS (default 8 per target: six targets and the build stay
# under about 90 s).  scripts/fuzz runs one target for longer.

srcdir=${top_srcdir:-$(cd "$(dirname "$0")/../.." && pwd)}
builddir=${top_builddir:-.}
builddir=$(cd "$builddir" && pwd)
seconds=${FUZZ_SECONDS:-8}

# shellcheck source=tests/fuzz/lib.sh
. "$srcdir/tests/fuzz/lib.sh"

if ! fuzz_setup "$srcdir" "$builddir"; then
	echo "1..0 # SKIP clang with libFuzzer not available"
	exit 0
fi
# shellcheck disable=SC2086 # the list is meant to split
[ $# -gt 0 ] || set -- $FUZZ_TARGETS
echo "1..$#"

out=$builddir/tests/fuzz/build
if ! fuzz_build "$out" "$@"; then
	n=0
	for t; do
		n=$((n + 1))
		echo "not ok $n - fuzz $t: the targets do not build"
	done
	grep -v '^ *$' "$out/build.log" | tail -n 40 | sed 's/^/# /'
	exit 0
fi

tmp=$(mktemp -d "${TMPDIR:-/tmp}/fuzz.XXXXXX") || {
	echo "Bail out! cannot make a temporary directory"
	exit 0
}
trap 'rm -rf "$tmp"' EXIT
trap 'exit 1' HUP INT TERM

n=0
for t; do
	n=$((n + 1))
	mkdir "$tmp/$t"
	cp "$srcdir/tests/fuzz/corpus/$t"/* "$tmp/$t/" 2>/dev/null
	artifacts=$builddir/tests/fuzz/crashes
	mkdir -p "$artifacts"
	fuzz_run "$out/fuzz_$t" "$tmp/$t" "$seconds" "$artifacts/$t-" \
	    "$tmp/$t.log"
	rc=$?
	runs=$(fuzz_stat "$tmp/$t.log" runs)
	if [ "$rc" -eq 0 ] && [ -n "$runs" ]; then
		echo "ok $n - fuzz $t $runs runs, cov $(fuzz_stat \
		    "$tmp/$t.log" cov), corpus $(fuzz_stat "$tmp/$t.log" \
		    corpus)"
		continue
	fi
	crash=$(sed -n 's/.*Test unit written to \(.*\)$/\1/p' \
	    "$tmp/$t.log" | tail -n 1)
	echo "not ok $n - fuzz $t (exit $rc) ${crash:+crash file $crash}"
	grep -v '^#[0-9]' "$tmp/$t.log" | tail -n 60 | sed 's/^/# /'
done
exit 0
