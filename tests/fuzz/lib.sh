# tests/fuzz/lib.sh - build and run the libFuzzer targets of tests/fuzz;
# sourced by tests/fuzz/run.sh (make check) and scripts/fuzz.
#
#	fuzz_setup SRCDIR BUILDDIR	compiler, flags and libraries (read
#					from BUILDDIR's Makefile); 1 when
#					clang cannot build a libFuzzer program
#	fuzz_build OUT TARGET...	the sources of src/*/ (but marketctl's,
#					src/ctl) and the plugins echo,
#					market and prices built with ASan,
#					UBSan and coverage into OUT (objects
#					kept, rebuilt when a source is newer),
#					then OUT/fuzz_TARGET for each TARGET;
#					the compiler's output in OUT/build.log
#	fuzz_run BIN CORPUS SECONDS PREFIX LOG [ARGS...]
#					run BIN on the corpus directory
#					CORPUS for SECONDS; crash files are
#					written as PREFIX<kind>-<sha1>; the
#					output goes to LOG; libFuzzer's exit
#					status
#	fuzz_stat LOG NAME		one figure of a run's LOG: runs,
#					rate (runs/s), cov, ft, corpus
#	FUZZ_TARGETS			every target, in the order make check
#					runs them
#
# The targets are tests/fuzz/fuzz_<name>.c; fuzz_http and fuzz_router also
# link tests/fuzz/fuzz_stack.c (the daemon's parts over a fresh database).

# $fuzz_flags and friends are split into words on purpose.
# shellcheck disable=SC2086
# shellcheck shell=sh

FUZZ_TARGETS="words box fields http conf router"

# fuzz_var BUILDDIR NAME: a variable configure substituted, from Makefile.
fuzz_var()
{
	sed -n "s|^$2 = ||p" "$1/Makefile" 2>/dev/null | head -n 1
}

fuzz_setup()
{
	fuzz_srcdir=$1
	fuzz_builddir=$2
	fuzz_cc=${CC_FUZZ:-clang}
	fuzz_san="-fsanitize=address,undefined -fno-sanitize-recover=all"
	fuzz_flags="$fuzz_san -g -O1 -std=gnu11 -Wall -Wextra"
	fuzz_cppflags="-DHAVE_CONFIG_H -I$fuzz_builddir -I$fuzz_srcdir/src
	    $(fuzz_var "$fuzz_builddir" GW_CFLAGS)
	    $(fuzz_var "$fuzz_builddir" LIBEVENT_CFLAGS)
	    $(fuzz_var "$fuzz_builddir" SQLITE_CFLAGS)
	    $(fuzz_var "$fuzz_builddir" ICU_CFLAGS)
	    $(fuzz_var "$fuzz_builddir" PQ_CFLAGS)"
	fuzz_libs="$(fuzz_var "$fuzz_builddir" GW_LIBS)
	    $(fuzz_var "$fuzz_builddir" LIBEVENT_LIBS)
	    $(fuzz_var "$fuzz_builddir" SQLITE_LIBS)
	    $(fuzz_var "$fuzz_builddir" ICU_LIBS)
	    $(fuzz_var "$fuzz_builddir" PQ_LIBS) -luuid"
	[ -f "$fuzz_builddir/config.h" ] || return 1
	command -v "$fuzz_cc" >/dev/null 2>&1 || return 1
	fuzz_probe=$(mktemp -d "${TMPDIR:-/tmp}/fuzz_probe.XXXXXX") ||
	    return 1
	cat > "$fuzz_probe/probe.c" <<'PROBE'
#include <stddef.h>
#include <stdint.h>
int LLVMFuzzerTestOneInput(const uint8_t *d, size_t n);
int LLVMFuzzerTestOneInput(const uint8_t *d, size_t n) { (void)d; (void)n; return 0; }
PROBE
	"$fuzz_cc" -fsanitize=fuzzer $fuzz_san -o "$fuzz_probe/probe" \
	    "$fuzz_probe/probe.c" >/dev/null 2>&1
	set -- $?
	rm -rf "$fuzz_probe"
	return "$1"
}

# fuzz_newer FILE SOURCE...: 0 when FILE is missing or older than a SOURCE.
fuzz_newer()
{
	fuzz_newer_f=$1
	shift
	[ -f "$fuzz_newer_f" ] || return 0
	for fuzz_newer_s; do
		[ "$fuzz_newer_s" -nt "$fuzz_newer_f" ] && return 0
	done
	return 1
}

# fuzz_cc_obj OUT.o SRC CFLAGS...: compile one file when it is out of date
# (against its source, the headers of src/ and tests/fuzz, and conf.def),
# in the background, at most two at a time.
fuzz_cc_obj()
{
	fuzz_o=$1
	fuzz_c=$2
	shift 2
	fuzz_newer "$fuzz_o" "$fuzz_c" "$fuzz_srcdir"/src/*.h \
	    "$fuzz_srcdir"/src/*/*.h "$fuzz_srcdir"/src/base/conf.def \
	    "$fuzz_srcdir"/tests/fuzz/*.h || return 0
	while [ "$(jobs -p | wc -l)" -ge 2 ]; do
		sleep 0.1
	done
	"$fuzz_cc" "$@" -c -o "$fuzz_o" "$fuzz_c" >> "$fuzz_out/build.log" \
	    2>&1 || touch "$fuzz_out/failed" &
}

fuzz_build()
{
	fuzz_out=$1
	shift
	mkdir -p "$fuzz_out/obj" "$fuzz_out/plugins" || return 1
	: > "$fuzz_out/build.log"
	rm -f "$fuzz_out/failed"
	fuzz_defs="-DMARKETBOX_PLUGIN_DIR=\"$fuzz_out/plugins\"
	    -DMARKETBOX_LANGUAGE_DIR=\"$fuzz_srcdir/conf/lang\"
	    -DLOCALSTATEDIR=\"$fuzz_out\""
	fuzz_objs=
	for fuzz_src in "$fuzz_srcdir"/src/*/*.c; do
		fuzz_name=${fuzz_src##*/}
		case $fuzz_src in
		*/src/ctl/*) continue ;;
		esac
		fuzz_cc_obj "$fuzz_out/obj/${fuzz_name%.c}.o" "$fuzz_src" \
		    -fsanitize=fuzzer-no-link $fuzz_flags $fuzz_cppflags \
		    $fuzz_defs
		fuzz_objs="$fuzz_objs $fuzz_out/obj/${fuzz_name%.c}.o"
	done
	# The plugins as the daemon loads them, instrumented too; against
	# the public header under its installed name.
	mkdir -p "$fuzz_out/include/marketbox"
	cp "$fuzz_srcdir/src/marketbox-plugin.h" \
	    "$fuzz_out/include/marketbox/plugin.h"
	for fuzz_p in echo market prices; do
		for fuzz_src in "$fuzz_srcdir/plugins/$fuzz_p"/*.c; do
			fuzz_name=${fuzz_src##*/}
			fuzz_cc_obj "$fuzz_out/obj/$fuzz_p-${fuzz_name%.c}.o" \
			    "$fuzz_src" -fPIC -fsanitize=fuzzer-no-link \
			    $fuzz_flags -I"$fuzz_out/include" \
			    -I"$fuzz_srcdir/plugins/$fuzz_p" \
			    $(fuzz_var "$fuzz_builddir" SQLITE_CFLAGS)
		done
	done
	for fuzz_t; do
		fuzz_cc_obj "$fuzz_out/obj/fuzz_$fuzz_t.o" \
		    "$fuzz_srcdir/tests/fuzz/fuzz_$fuzz_t.c" \
		    -fsanitize=fuzzer-no-link $fuzz_flags $fuzz_cppflags \
		    -DFUZZ_SRCDIR="\"$fuzz_srcdir\"" \
		    -DFUZZ_PLUGIN_DIR="\"$fuzz_out/plugins\""
	done
	fuzz_cc_obj "$fuzz_out/obj/fuzz_stack.o" \
	    "$fuzz_srcdir/tests/fuzz/fuzz_stack.c" \
	    -fsanitize=fuzzer-no-link $fuzz_flags $fuzz_cppflags \
	    -DFUZZ_SRCDIR="\"$fuzz_srcdir\"" \
	    -DFUZZ_PLUGIN_DIR="\"$fuzz_out/plugins\""
	wait
	[ ! -f "$fuzz_out/failed" ] || return 1

	for fuzz_p in echo market prices; do
		fuzz_pobjs=
		for fuzz_src in "$fuzz_srcdir/plugins/$fuzz_p"/*.c; do
			fuzz_name=${fuzz_src##*/}
			fuzz_pobjs="$fuzz_pobjs $fuzz_out/obj/$fuzz_p-${fuzz_name%.c}.o"
		done
		fuzz_newer "$fuzz_out/plugins/$fuzz_p.so" $fuzz_pobjs || continue
		"$fuzz_cc" -shared -fsanitize=fuzzer-no-link $fuzz_san \
		    -o "$fuzz_out/plugins/$fuzz_p.so" $fuzz_pobjs \
		    $(fuzz_var "$fuzz_builddir" SQLITE_LIBS) \
		    >> "$fuzz_out/build.log" 2>&1 || return 1
	done
	for fuzz_t; do
		fuzz_newer "$fuzz_out/fuzz_$fuzz_t" $fuzz_objs \
		    "$fuzz_out/obj/fuzz_$fuzz_t.o" "$fuzz_out/obj/fuzz_stack.o" ||
		    continue
		"$fuzz_cc" -fsanitize=fuzzer $fuzz_san -rdynamic \
		    -o "$fuzz_out/fuzz_$fuzz_t" "$fuzz_out/obj/fuzz_$fuzz_t.o" \
		    "$fuzz_out/obj/fuzz_stack.o" $fuzz_objs $fuzz_libs \
		    >> "$fuzz_out/build.log" 2>&1 || return 1
	done
	return 0
}

fuzz_run()
{
	fuzz_bin=$1
	fuzz_corpus=$2
	fuzz_seconds=$3
	fuzz_prefix=$4
	fuzz_log=$5
	shift 5
	# LSAN_OPTIONS/UBSAN_OPTIONS from make check apply; the leak
	# check runs after every input (-detect_leaks, on by default).
	# libgw is built without frame pointers: only the slow unwinder
	# sees through it to the frames tests/lsan.supp names (cfg_read's
	# leaks), and it costs: for the conf reader only.
	fuzz_asan=${ASAN_OPTIONS:-}
	case $fuzz_bin in
	*/fuzz_conf) fuzz_asan=${ASAN_OPTIONS:-fast_unwind_on_malloc=0} ;;
	esac
	ASAN_OPTIONS=$fuzz_asan \
	LSAN_OPTIONS=${LSAN_OPTIONS:-suppressions=$fuzz_srcdir/tests/lsan.supp:print_suppressions=0} \
	UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1} \
	"$fuzz_bin" -max_total_time="$fuzz_seconds" -rss_limit_mb=2048 \
	    -timeout=10 -max_len=8192 -print_final_stats=1 \
	    -artifact_prefix="$fuzz_prefix" "$@" "$fuzz_corpus" \
	    > "$fuzz_log" 2>&1
}

fuzz_stat()
{
	case $2 in
	runs)
		sed -n 's/^stat::number_of_executed_units: *\([0-9]*\).*/\1/p' \
		    "$1" | tail -n 1 ;;
	rate)
		sed -n 's/^stat::average_exec_per_sec: *\([0-9]*\).*/\1/p' \
		    "$1" | tail -n 1 ;;
	cov|ft)
		sed -n "s/^#[0-9]*.* $2: \\([0-9]*\\).*/\\1/p" "$1" |
		    tail -n 1 ;;
	corpus)
		sed -n 's/^#[0-9]*.* corp: \([0-9]*\/[0-9A-Za-z]*\).*/\1/p' \
		    "$1" | tail -n 1 ;;
	esac
}
