#!/bin/sh
# Build the libFuzzer targets of tests/fuzz/ and run each for a while.
#   tests/fuzz/run.sh [SECONDS [TARGET ...]]     (also: make fuzz FUZZ_SECONDS=N)
# SECONDS per target, default 60; TARGET e.g. fuzz_policy, default all.
# The build is a clang build tree of its own, $FUZZ_BUILD (default
# _build-fuzz in the source tree): the project's libraries built with
# -fsanitize=fuzzer-no-link plus configure's --enable-sanitizers (ASan,
# UBSan), the targets linked with -fsanitize=fuzzer. Per target it first
# replays tests/fuzz/crashers/TARGET/* (inputs that once failed), then
# fuzzes from tests/fuzz/corpus/TARGET/ (read only) into a work corpus in
# the build tree, which later runs continue from. $FUZZ_OPTS adds libFuzzer
# options (e.g. -jobs=1). A crash, sanitizer report, leak or failed
# property saves the input as BUILD/tests/fuzz/TARGET-crash-* and the
# script exits 1 after running the other targets.
set -eu
top=$(cd "$(dirname "$0")/../.." && pwd)
fz=$top/tests/fuzz
secs=${1:-60}
[ $# -gt 0 ] && shift
targets=${*:-$(cd "$fz/corpus" && ls)}
build=${FUZZ_BUILD:-$top/_build-fuzz}
jobs=$(nproc 2>/dev/null || echo 2)

if [ ! -f "$build/Makefile" ]; then
	[ -x "$top/configure" ] || (cd "$top" && ./autogen.sh)
	mkdir -p "$build"
	(cd "$build" && CC=${FUZZ_CC:-clang} CFLAGS="-fsanitize=fuzzer-no-link -O1" \
		"$top/configure" --enable-werror --enable-sanitizers --disable-e2e \
		>configure.out 2>&1) || { tail -20 "$build/configure.out"; exit 1; }
fi
make -C "$build" -j"$jobs" fuzz-targets >"$build/fuzz-build.out" 2>&1 ||
	{ tail -40 "$build/fuzz-build.out"; exit 1; }

failed=
for t in $targets; do
	bin=$build/tests/fuzz/$t
	work=$build/tests/fuzz/work/$t
	log=$build/tests/fuzz/$t.log
	mkdir -p "$work"
	dict=
	[ -f "$fz/$t.dict" ] && dict=-dict=$fz/$t.dict
	if [ -d "$fz/crashers/$t" ]; then
		# shellcheck disable=SC2046 # one argument per file
		"$bin" $dict $(find "$fz/crashers/$t" -type f | sort) >"$log" 2>&1 ||
			{ tail -40 "$log"; echo "$t: a crasher fails again"; failed="$failed $t"; continue; }
	fi
	# shellcheck disable=SC2086 # FUZZ_OPTS is a list of options
	if "$bin" $dict -max_total_time="$secs" -timeout=25 -rss_limit_mb=2048 \
		-print_final_stats=1 -artifact_prefix="$build/tests/fuzz/$t-" \
		${FUZZ_OPTS:-} "$work" "$fz/corpus/$t" >"$log" 2>&1; then
		printf '%-14s %s\n' "$t" "$(grep -E '^#[0-9]+[[:space:]]+DONE' "$log" | tail -1)"
	else
		tail -60 "$log"
		echo "$t: FAILED, input saved as $build/tests/fuzz/$t-crash-*"
		failed="$failed $t"
	fi
done
[ -z "$failed" ] || { echo "fuzzing failed:$failed"; exit 1; }
