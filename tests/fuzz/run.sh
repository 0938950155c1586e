#!/bin/sh
# tests/fuzz/run.sh - build the libFuzzer target for words.c with clang
# (ASan and UBSan on), run it for a bounded time on a copy of the seed
# corpus, and report as TAP for automake's tap-driver:
#
#	1..1 / ok 1 - fuzz words N runs
#	1..1 / not ok 1 - ... (with the crash file kept under the build tree)
#	1..0 # SKIP clang with libFuzzer not available
#
# Environment: top_srcdir and top_builddir (set by make check; default:
# this script's tree and the current directory), CC_FUZZ (default clang),
# FUZZ_SECONDS (default 25: the run stays under about 30 s in all).

# $flags is split into words on purpose.
# shellcheck disable=SC2086

srcdir=${top_srcdir:-$(cd "$(dirname "$0")/../.." && pwd)}
builddir=${top_builddir:-.}
cc=${CC_FUZZ:-clang}
seconds=${FUZZ_SECONDS:-25}
flags="-fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all -g -O1"

tmp=$(mktemp -d "${TMPDIR:-/tmp}/fuzz_words.XXXXXX") || {
	echo "1..1"
	echo "not ok 1 - fuzz words: cannot make a temporary directory"
	exit 0
}
trap 'rm -rf "$tmp"' EXIT
trap 'exit 1' HUP INT TERM

# Can this clang build a libFuzzer program at all?
cat > "$tmp/probe.c" <<'PROBE'
#include <stddef.h>
#include <stdint.h>
int LLVMFuzzerTestOneInput(const uint8_t *d, size_t n);
int LLVMFuzzerTestOneInput(const uint8_t *d, size_t n) { (void)d; (void)n; return 0; }
PROBE
if ! command -v "$cc" >/dev/null 2>&1 ||
    ! "$cc" $flags -o "$tmp/probe" "$tmp/probe.c" >/dev/null 2>&1; then
	echo "1..0 # SKIP clang with libFuzzer not available"
	exit 0
fi

echo "1..1"
if ! "$cc" $flags -std=gnu11 -Wall -Wextra -I "$srcdir/src" \
    -o "$tmp/fuzz_words" "$srcdir/tests/fuzz/fuzz_words.c" \
    "$srcdir/src/words.c" > "$tmp/build.log" 2>&1; then
	echo "not ok 1 - fuzz words: the target does not build"
	sed 's/^/# /' "$tmp/build.log"
	exit 0
fi

mkdir "$tmp/corpus"
cp "$srcdir"/tests/fuzz/corpus/words/* "$tmp/corpus/" 2>/dev/null
artifacts="$builddir/tests/fuzz"
mkdir -p "$artifacts"

# LSAN_OPTIONS/UBSAN_OPTIONS from make check apply; ASan must not
# intercept what libFuzzer reports itself.
"$tmp/fuzz_words" -max_total_time="$seconds" -rss_limit_mb=2048 \
    -timeout=10 -max_len=8192 -print_final_stats=1 \
    -artifact_prefix="$artifacts/words-" "$tmp/corpus" \
    > "$tmp/fuzz.log" 2>&1
rc=$?

runs=$(sed -n 's/^Done \([0-9]*\) runs.*/\1/p' "$tmp/fuzz.log" | tail -n 1)
[ -n "$runs" ] || runs=$(sed -n 's/^stat::number_of_executed_units: *\([0-9]*\).*/\1/p' "$tmp/fuzz.log" | tail -n 1)
if [ "$rc" -eq 0 ] && [ -n "$runs" ]; then
	echo "ok 1 - fuzz words $runs runs"
	exit 0
fi
crash=$(sed -n 's/.*Test unit written to \(.*\)$/\1/p' "$tmp/fuzz.log" | tail -n 1)
echo "not ok 1 - fuzz words (exit $rc) ${crash:+crash file $crash}"
tail -n 40 "$tmp/fuzz.log" | sed 's/^/# /'
exit 0
